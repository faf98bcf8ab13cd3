/* main.c — gadgetron_ismrmrd_client: sends an ISMRMRD dataset to a
 * Gadgetron-compatible server and stores the images it returns, like
 * Gadgetron's client of the same name (protocol.md §1.13).
 *
 * Order: (1) if the header names a noise measurementDependency, a separate
 * noise-statistics session; (2) -l times the main session; (3) a summary.
 * -Q sends only a query, -q only the configuration. Exit status 0 on
 * success, 1 on any failure (including TEXT errors from the server), 2 on
 * a bad command line. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/meta.h"
#include "gt/mrdhdr.h"

#define MAX_LOCAL_CONFIG ((size_t)64 << 20)

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    if (!f)
        return gt_err_set(GT_ENOTFOUND, "cannot read local configuration '%s': %s", path,
                          strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > MAX_LOCAL_CONFIG) {
        fclose(f);
        return gt_err_set(GT_EINVAL,
                          "local configuration '%s' is not a regular file of at most 64 MiB", path);
    }
    size_t n = (size_t)st.st_size;
    s = malloc(n + 1);
    if (!s || fread(s, 1, n, f) != n) {
        fclose(f);
        free(s);
        return gt_err_set(GT_EIO, "cannot read local configuration '%s'", path);
    }
    fclose(f);
    s[n] = '\0';
    *out = s;
    *len = n;
    return 0;
}

/* Appends s to buf with XML escaping; returns 0 or -1 when it does not fit. */
static int xml_escape(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    for (; *s; s++) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        size_t k = rep ? strlen(rep) : 1;
        if (n + k + 1 > cap)
            return -1;
        memcpy(buf + n, rep ? rep : s, k);
        n += k;
    }
    buf[n] = '\0';
    return 0;
}

/* The legacy config script Gadgetron's client sends to ask for noise
 * statistics (writer slot 1019, NoiseSummaryGadget). */
static int noise_script(const char *dep_id, char *buf, size_t cap)
{
    static const char head[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<gadgetronStreamConfiguration xsi:schemaLocation=\"http://gadgetron.sf.net/gadgetron "
        "gadgetron.xsd\"\n"
        "        xmlns=\"http://gadgetron.sf.net/gadgetron\"\n"
        "        xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
        "    <writer>\n"
        "        <slot>1019</slot>\n"
        "        <dll>gadgetron_mricore</dll>\n"
        "        <classname>DependencyQueryWriter</classname>\n"
        "    </writer>\n"
        "    <gadget>\n"
        "        <name>NoiseSummary</name>\n"
        "        <dll>gadgetron_mricore</dll>\n"
        "        <classname>NoiseSummaryGadget</classname>\n"
        "        <property>\n"
        "            <name>noise_file</name>\n"
        "            <value>GadgetronNoiseCovarianceMatrix_";
    static const char tail[] = "</value>\n"
                               "        </property>\n"
                               "    </gadget>\n"
                               "</gadgetronStreamConfiguration>\n";
    if (sizeof head + 1 > cap)
        return -1;
    memcpy(buf, head, sizeof head);
    if (xml_escape(buf, cap, dep_id) < 0 || strlen(buf) + sizeof tail > cap)
        return -1;
    strcat(buf, tail);
    return 0;
}

static void report_noise_stats(const char *dep_id, const char *xml)
{
    gt_meta *m = NULL;
    if (gt_meta_parse(xml, strlen(xml), &m) < 0) {
        gt_log(GT_LOG_INFO, "noise statistics for '%s' (unparsed): %s", dep_id, xml);
        return;
    }
    const char *status = gt_meta_str(m, "status", 0);
    if (status && strcmp(status, "success") == 0) {
        gt_log(GT_LOG_INFO,
               "noise statistics for '%s': channels %ld, noise dwell time %g us, sigma min %g, "
               "max %g, mean %g",
               dep_id, gt_meta_long(m, "channels", 0, 0),
               gt_meta_double(m, "noise_dwell_time_us", 0, 0), gt_meta_double(m, "min_sigma", 0, 0),
               gt_meta_double(m, "max_sigma", 0, 0), gt_meta_double(m, "mean_sigma", 0, 0));
    } else {
        gt_log(GT_LOG_INFO, "no noise statistics for dependency '%s' on the server (status: %s)",
               dep_id, status ? status : "missing");
    }
    gt_meta_destroy(m);
}

/* Noise-statistics session; failures here are reported but not fatal,
 * except when the server cannot be reached at all. */
static int noise_session(const client_opts *o, const char *dep_id)
{
    char script[4096];
    if (noise_script(dep_id, script, sizeof script) < 0) {
        cli_warn("noise dependency id too long; skipping the noise statistics query");
        return 0;
    }
    gt_log(GT_LOG_INFO, "querying noise statistics for dependency '%s'", dep_id);
    session_args a = {
        .kind = SESSION_NOISE, .opts = o, .config_text = script, .config_len = strlen(script)};
    session_result r;
    int rc = session_run(&a, &r);
    if (rc < 0 && !r.connected) {
        free(r.dependency);
        return rc; /* connection failure: the main session would fail the same way */
    }
    if (rc < 0 || r.text_errors)
        cli_warn("the noise statistics query failed; continuing with the reconstruction");
    else if (!r.dependency)
        gt_log(GT_LOG_INFO, "no noise statistics returned for dependency '%s'", dep_id);
    else
        report_noise_stats(dep_id, r.dependency);
    free(r.dependency);
    return 0;
}

static void print_banner(const client_opts *o)
{
    if (!o->verbose)
        return;
    fprintf(stderr, "Gadgetron ISMRMRD client\n");
    fprintf(stderr, "  -- host            :      %s\n", o->address);
    fprintf(stderr, "  -- port            :      %s\n", o->port);
    if (o->info) {
        fprintf(stderr, "  -- query           :      %s\n", o->info);
        return;
    }
    if (o->filename) {
        fprintf(stderr, "  -- hdf5 file  in   :      %s\n", o->filename);
        fprintf(stderr, "  -- hdf5 group in   :      %s\n", o->in_group);
    }
    fprintf(stderr, "  -- conf            :      %s\n",
            o->config_local ? o->config_local : o->config);
    fprintf(stderr, "  -- loop            :      %ld\n", o->loops);
    fprintf(stderr, "  -- hdf5 file out   :      %s\n", o->outfile);
    fprintf(stderr, "  -- hdf5 group out  :      %s\n", o->out_group);
}

/* Checks the header: invalid XML is fatal; missing optional parts are not.
 * Copies the noise dependency id (or "") to dep. */
static int check_header(const client_opts *o, h5in *in, char *dep, size_t cap)
{
    size_t len;
    const char *xml = h5in_header(in, &len);
    gt_mrd_header *h = NULL;
    dep[0] = '\0';
    int rc = gt_mrd_header_parse(xml, len, &h);
    if (rc == GT_EXML) {
        cli_error("invalid ISMRMRD header in '%s' %s/xml: %s", o->filename, o->in_group,
                  gt_err_detail());
        return rc;
    }
    if (rc < 0) {
        gt_log(GT_LOG_WARN, "ISMRMRD header of '%s': %s", o->filename, gt_err_detail());
        return 0;
    }
    snprintf(dep, cap, "%s", h->noise_dependency);
    gt_mrd_header_destroy(h);
    return 0;
}

static int run_main(const client_opts *o, const char *cfg, size_t cfg_len)
{
    h5in *in = NULL;
    h5out *out = NULL;
    int rc, text_errors = 0, connected = 0;
    uint64_t acq = 0, images = 0;
    char dep[GT_MRD_STR];
    double t0 = progress_now();

    if ((rc = h5in_open(o->filename, o->in_group, &in)) < 0) {
        cli_error("%s", gt_err_detail());
        goto done;
    }
    if ((rc = check_header(o, in, dep, sizeof dep)) < 0)
        goto done;
    if ((rc = h5out_create(o->outfile, o->out_group, &out)) < 0) {
        cli_error("%s", gt_err_detail());
        goto done;
    }
    if (dep[0] && (rc = noise_session(o, dep)) < 0)
        goto done;
    for (long l = 0; l < o->loops; l++) {
        progress prog;
        progress_init(&prog, h5in_n_acq(in));
        session_args a = {.kind = SESSION_MAIN,
                          .opts = o,
                          .in = in,
                          .out = out,
                          .config_text = cfg,
                          .config_len = cfg_len,
                          .prog = &prog};
        session_result r;
        if (o->loops > 1)
            gt_log(GT_LOG_INFO, "loop %ld of %ld", l + 1, o->loops);
        rc = session_run(&a, &r);
        acq += r.acq_sent;
        images += r.images;
        text_errors += r.text_errors;
        connected |= r.connected;
        free(r.dependency);
        if (rc < 0)
            break;
    }
    if (connected) {
        printf("Acquisitions sent: %llu, images received: %llu, time: %.2f s\n",
               (unsigned long long)acq, (unsigned long long)images, progress_now() - t0);
        fflush(stdout);
    }
done:
    h5out_destroy(out);
    h5in_close(in);
    if (text_errors) {
        cli_error("the server reported %d error(s)", text_errors);
        rc = rc < 0 ? rc : GT_EPROTO;
    }
    return rc;
}

static int run_simple(const client_opts *o, session_kind kind, const char *cfg, size_t cfg_len)
{
    h5out *out = NULL;
    int rc = h5out_create(o->outfile, o->out_group, &out);
    if (rc < 0) {
        cli_error("%s", gt_err_detail());
        return rc;
    }
    session_args a = {
        .kind = kind, .opts = o, .out = out, .config_text = cfg, .config_len = cfg_len};
    session_result r;
    rc = session_run(&a, &r);
    free(r.dependency);
    h5out_destroy(out);
    if (r.text_errors) {
        cli_error("the server reported %d error(s)", r.text_errors);
        rc = rc < 0 ? rc : GT_EPROTO;
    }
    return rc;
}

int main(int argc, char **argv)
{
    client_opts o;
    char *cfg = NULL;
    size_t cfg_len = 0;
    int rc = cli_parse(argc, argv, &o);
    if (rc == CLI_EXIT_OK)
        return 0;
    if (rc < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    gt_log_set_level(o.verbose ? GT_LOG_INFO : GT_LOG_WARN);
    print_banner(&o);

    if (o.info) {
        rc = run_simple(&o, SESSION_QUERY, NULL, 0);
        return rc < 0 ? 1 : 0;
    }
    if (o.config_local && read_file(o.config_local, &cfg, &cfg_len) < 0) {
        cli_error("%s", gt_err_detail());
        return 1;
    }
    if (o.query)
        rc = run_simple(&o, SESSION_CONFIG, cfg, cfg_len);
    else
        rc = run_main(&o, cfg, cfg_len);
    free(cfg);
    return rc < 0 ? 1 : 0;
}
