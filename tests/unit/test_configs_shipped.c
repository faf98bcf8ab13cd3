/* Every configuration shipped in configs/ parses, and every gadget classname
 * and property it uses is known to the registry (gt_gadget_find and the
 * class's property specs). A name nobody implements fails here with the
 * file, gadget and name in the message. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "gt/config.h"
#include "gt/err.h"
#include "gt/dist_node.h"
#include "gt/gadget.h"

#define CFG_DIR GT_SOURCE_DIR "/configs"

/* Base-class properties every gadget accepts (gadgets/gadget.c). */
static const char *const universal[] = {"using_cloudbus", "pass_on_undesired_data", "threads",
                                        NULL};

static int spec_has(const gt_prop_spec *s, const char *name)
{
    for (; s && s->name; s++)
        if (strcmp(s->name, name) == 0)
            return 1;
    return 0;
}

static int prop_known(const gt_gadget_class *c, const char *name)
{
    if (spec_has(c->props, name) || spec_has(c->props_base, name))
        return 1;
    for (size_t i = 0; universal[i]; i++)
        if (strcmp(universal[i], name) == 0)
            return 1;
    return 0;
}

/* Checks one gadget; returns the number of problems (each reported). */
static int check_gadget(const char *file, const gt_cfg_gadget *g)
{
    if (!g->classname)
        return 0; /* absent branch/merge/distributor slots */
    const gt_gadget_class *c = gt_gadget_find(g->classname);
    cr_expect_not_null(c, "%s: gadget '%s': classname %s is not registered", file, g->name,
                       g->classname);
    if (!c)
        return 1;
    int bad = 0;
    for (size_t i = 0; i < g->nprops; i++) {
        int ok = prop_known(c, g->props[i].name);
        cr_expect(ok, "%s: gadget '%s' (%s): property '%s' is not declared", file, g->name,
                  g->classname, g->props[i].name);
        bad += !ok;
    }
    return bad;
}

static int check_stream(const char *file, const gt_cfg_stream *s);

static int check_node(const char *file, const gt_cfg_node *n)
{
    int bad = check_gadget(file, &n->gadget);
    if (n->kind == GT_CFG_PARALLEL) {
        bad += check_gadget(file, &n->branch) + check_gadget(file, &n->merge);
        for (size_t i = 0; i < n->nstreams; i++)
            bad += check_stream(file, &n->streams[i]);
    }
    if (n->kind == GT_CFG_DISTRIBUTED) {
        /* Distributors are not gadgets: they have their own table. */
        const gt_cfg_gadget *d = &n->distributor;
        const gt_prop_spec *spec = gt_dist_distributor_props(d->classname);
        cr_expect_not_null(spec, "%s: distributor '%s': classname %s is unknown", file, d->name,
                           d->classname);
        bad += !spec;
        for (size_t i = 0; spec && i < d->nprops; i++) {
            int ok = spec_has(spec, d->props[i].name);
            cr_expect(ok, "%s: distributor '%s': property '%s' is not declared", file, d->name,
                      d->props[i].name);
            bad += !ok;
        }
    }
    if (n->kind == GT_CFG_DISTRIBUTED || n->kind == GT_CFG_PUREDISTRIBUTED ||
        n->kind == GT_CFG_PARALLELPROCESS)
        bad += check_stream(file, &n->inner);
    return bad;
}

static int check_stream(const char *file, const gt_cfg_stream *s)
{
    int bad = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        bad += check_node(file, &s->nodes[i]);
    return bad;
}

Test(configs_shipped, every_config_parses_and_uses_known_gadgets)
{
    DIR *d = opendir(CFG_DIR);
    cr_assert_not_null(d, "cannot open %s", CFG_DIR);
    size_t files = 0;
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0 || e->d_name[0] == '.')
            continue;
        gt_config *c = NULL;
        int rc = gt_config_load(CFG_DIR, e->d_name, &c);
        cr_expect_eq(rc, 0, "%s: %s", e->d_name, gt_err_detail());
        if (rc) {
            bad++;
            continue;
        }
        files++;
        bad += check_stream(e->d_name, &c->stream);
        gt_config_destroy(c);
    }
    closedir(d);
    cr_assert_gt(files, 0u);
    cr_assert_eq(bad, 0, "%d unknown gadget classnames or properties in %zu configs", bad, files);
}

/* The three generic Cartesian chains must be there: users name them. */
Test(configs_shipped, generic_cartesian_chains_present)
{
    static const char *const names[] = {"Generic_Cartesian_Grappa.xml",
                                        "Generic_Cartesian_Grappa_RealTimeCine.xml",
                                        "Generic_Cartesian_Grappa_SNR.xml", NULL};
    for (size_t i = 0; names[i]; i++) {
        gt_config *c = NULL;
        cr_assert_eq(gt_config_load(CFG_DIR, names[i], &c), 0, "%s: %s", names[i], gt_err_detail());
        cr_expect_eq(c->legacy, 1, "%s is in the legacy format", names[i]);
        cr_expect_eq(c->nreaders, 2u);
        cr_expect_eq(c->nwriters, 1u);
        cr_expect_eq(c->writers[0].slot, 1022);
        const gt_cfg_stream *s = &c->stream;
        cr_assert_gt(s->nnodes, 0u);
        cr_expect_str_eq(s->nodes[0].gadget.classname, "NoiseAdjustGadget");
        cr_expect_str_eq(s->nodes[s->nnodes - 1].gadget.classname, "ImageFinishGadget");
        gt_config_destroy(c);
    }
}

/* Values the cine chain depends on (algorithms.md §0). */
Test(configs_shipped, realtime_cine_values)
{
    gt_config *c = NULL;
    cr_assert_eq(gt_config_load(CFG_DIR, "Generic_Cartesian_Grappa_RealTimeCine.xml", &c), 0);
    static const char *const want[][3] = {
        {"AcquisitionAccumulateTriggerGadget", "trigger_dimension", "slice"},
        {"BucketToBufferGadget", "N_dimension", "phase"},
        {"BucketToBufferGadget", "S_dimension", "set"},
        {"GenericReconCartesianReferencePrepGadget", "average_all_ref_S", "false"},
        {"GenericReconEigenChannelGadget", "upstream_coil_compression_thres", "-1"},
        {"GenericReconCartesianGrappaGadget", "send_out_gfactor", "true"},
        {"GenericReconPartialFourierHandlingPOCSGadget", "partial_fourier_POCS_transitBand", "24"},
        {"GenericReconKSpaceFilteringGadget", "filterE1", "Gaussian"},
        {"GenericReconImageArrayScalingGadget", "scalingFactor", "10.0"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *v = NULL;
        for (size_t k = 0; k < c->stream.nnodes && !v; k++) {
            const gt_cfg_gadget *g = &c->stream.nodes[k].gadget;
            if (g->classname && strcmp(g->classname, want[i][0]) == 0)
                v = gt_cfg_prop_get(g, want[i][1]);
        }
        cr_expect_not_null(v, "%s.%s missing", want[i][0], want[i][1]);
        if (v)
            cr_expect_str_eq(v, want[i][2], "%s.%s", want[i][0], want[i][1]);
    }
    gt_config_destroy(c);
}
