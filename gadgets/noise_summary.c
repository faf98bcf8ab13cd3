/* NoiseSummaryGadget: answers the client's noise dependency query. At the
 * end of the (header-less) stream it loads the covariance file noise_file
 * from the working folder and emits one DEPENDENCY_QUERY message whose
 * ismrmrdMeta carries noise_dwell_time_us, min_sigma, max_sigma,
 * mean_sigma, channels and status "success", or only status "failed" when
 * there is no usable file. (Gadgetron reports the sum of the channel sigmas
 * as mean_sigma; we report the mean.) A noise_file without the
 * "GadgetronNoiseCovarianceMatrix_" prefix gets it, as 4.x ids do.
 * All other messages pass through. */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/meta.h"
#include "gt/noise_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ns_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    (void)g;
    return gt_emit(out, m);
}

static int fill_summary(gt_gadget *g, gt_meta *meta)
{
    const char *file = gt_prop_str(g, "noise_file");
    const char *dir = gt_prop_str(g, "workingDirectory");
    if (!dir || !*dir)
        dir = g->ctx ? g->ctx->workdir : NULL;
    char name[512];
    const char *prefix = GT_NOISE_FILE_PREFIX "_";
    if (file && strncmp(file, prefix, strlen(prefix)) != 0 && *file)
        snprintf(name, sizeof name, "%s%s", prefix, file);
    else
        snprintf(name, sizeof name, "%s", file ? file : "");
    gt_noise_cov c = {0};
    float lo, hi, mean;
    int rc = gt_noise_cov_load(dir, name, &c);
    if (rc == 0)
        rc = gt_noise_cov_sigmas(&c, &lo, &hi, &mean);
    if (rc < 0) {
        gt_log(rc == GT_ENOTFOUND ? GT_LOG_INFO : GT_LOG_WARN, "%s: noise file '%s': %s", g->name,
               name, gt_err_detail());
        gt_noise_cov_fini(&c);
        return gt_meta_set_str(meta, "status", "failed");
    }
    if ((rc = gt_meta_set_double(meta, "noise_dwell_time_us", c.dwell_time_us)) == 0 &&
        (rc = gt_meta_set_double(meta, "min_sigma", lo)) == 0 &&
        (rc = gt_meta_set_double(meta, "max_sigma", hi)) == 0 &&
        (rc = gt_meta_set_double(meta, "mean_sigma", mean)) == 0 &&
        (rc = gt_meta_set_long(meta, "channels", (long)c.channels)) == 0)
        rc = gt_meta_set_str(meta, "status", "success");
    gt_noise_cov_fini(&c);
    return rc;
}

static int ns_flush(gt_gadget *g, gt_emitter *out)
{
    gt_meta *meta = NULL;
    char *xml = NULL;
    size_t len = 0;
    gt_msg *m = NULL;
    int rc;
    if ((rc = gt_meta_create(&meta)) < 0)
        return rc;
    if ((rc = fill_summary(g, meta)) < 0 || (rc = gt_meta_serialize(meta, &xml, &len)) < 0 ||
        (rc = gt_msg_text(GT_MSG_DEP_QUERY, xml, len, &m)) < 0)
        goto done;
    rc = gt_emit(out, m);
done:
    free(xml);
    gt_meta_destroy(meta);
    return rc;
}

static const gt_prop_spec ns_props[] = {
    {"noise_file", "", "covariance file name in the working folder"},
    {"workingDirectory", "", "folder of the noise files (default: the server's)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_noise_summary = {
    .classname = "NoiseSummaryGadget",
    .props = ns_props,
    .process = ns_process,
    .flush = ns_flush,
};
