/* config: file lookup safety, external entities, concurrent parsing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/config.h"
#include "gt/err.h"
#include "gt/mrdhdr.h"
#include "gt/meta.h"
#include "testutil.h"

#define CFG_DIR GT_SOURCE_DIR "/tests/data/config"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

Test(config_load, refused_names)
{
    char longname[300];
    memset(longname, 'a', sizeof longname - 5);
    strcpy(longname + sizeof longname - 5, ".xml");
    const char *bad[] = {"/etc/passwd", "../x.xml", "a/b.xml",       ".hidden",  "",
                         "x..xml",      "a\\b.xml", "tab\there.xml", "nl\n.xml", longname};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gt_config *c = (gt_config *)1;
        char *p = (char *)1;
        cr_assert_eq(gt_config_load(CFG_DIR, bad[i], &c), GT_EACCESS, "name #%zu", i);
        cr_assert_null(c);
        cr_assert_eq(gt_config_path(CFG_DIR, bad[i], &p), GT_EACCESS, "name #%zu", i);
        cr_assert_null(p);
    }
    gt_config *c = NULL;
    cr_assert_eq(gt_config_load(CFG_DIR, NULL, &c), GT_EACCESS);
}

Test(config_load, longest_allowed_name_is_not_refused)
{
    char name[256];
    memset(name, 'b', 255);
    name[255] = '\0';
    gt_config *c = NULL;
    cr_assert_eq(gt_config_load(CFG_DIR, name, &c), GT_ENOTFOUND, "%s", gt_err_detail());
}

Test(config_load, missing_file_and_directory_name)
{
    gt_config *c = NULL;
    char *p = NULL;
    cr_assert_eq(gt_config_load(CFG_DIR, "no_such_config.xml", &c), GT_ENOTFOUND);
    cr_assert_null(c);
    cr_assert_eq(gt_config_path(CFG_DIR, "no_such_config.xml", &p), GT_ENOTFOUND);
    cr_assert_eq(gt_config_load(GT_SOURCE_DIR "/tests/data", "config", &c), GT_ENOTFOUND);
    cr_assert_eq(gt_config_load(NULL, "x.xml", &c), GT_EINVAL);
}

Test(config_load, path_and_parse_error_names_file)
{
    char *dir = gt_test_tmpdir();
    char path[512], *p = NULL;
    snprintf(path, sizeof path, "%s/bad.xml", dir);
    write_file(path, "<configuration>\n<version>2</version>\n<stream><nope/></stream>"
                     "</configuration>");
    cr_assert_eq(gt_config_path(dir, "bad.xml", &p), 0);
    cr_assert_str_eq(p, path);
    free(p);
    gt_config *c = NULL;
    cr_assert_eq(gt_config_load(dir, "bad.xml", &c), GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "bad.xml"), "%s", gt_err_detail());
    cr_assert_not_null(strstr(gt_err_detail(), "line 3"), "%s", gt_err_detail());
    gt_test_rmtree(dir);
    free(dir);
}

/* A DOCTYPE with an external entity naming a file with a secret: every
 * parser refuses it and the secret appears neither in the result, nor in
 * the error detail, nor on stderr. */
Test(config_load, external_entities_refused)
{
    static const char secret[] = "S3CRET-7f1e2d";
    char *dir = gt_test_tmpdir();
    char spath[512], doc[2048], errpath[512];
    snprintf(spath, sizeof spath, "%s/secret.txt", dir);
    write_file(spath, secret);

    const char *roots[] = {
        "<gadgetronStreamConfiguration><gadget><classname>G</classname><property><name>p"
        "</name><value>&xxe;</value></property></gadget></gadgetronStreamConfiguration>",
        "<ismrmrdHeader><measurementInformation><measurementID>&xxe;</measurementID>"
        "</measurementInformation><encoding/></ismrmrdHeader>",
        "<ismrmrdMeta><meta><name>n</name><value>&xxe;</value></meta></ismrmrdMeta>",
    };
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
    FILE *ef = fopen(errpath, "w");
    cr_assert_not_null(ef);
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(ef), 2);
    for (int kind = 0; kind < 3; kind++) {
        for (int variant = 0; variant < 3; variant++) {
            if (variant == 2) /* external DTD only */
                snprintf(doc, sizeof doc, "<!DOCTYPE r SYSTEM \"%s\">%s", spath, roots[kind]);
            else if (variant == 0)
                snprintf(doc, sizeof doc,
                         "<?xml version=\"1.0\"?>\n<!DOCTYPE r [\n<!ENTITY xxe SYSTEM "
                         "\"file://%s\">\n]>\n%s",
                         spath, roots[kind]);
            else /* parameter entity pulling an external DTD */
                snprintf(doc, sizeof doc, "<!DOCTYPE r [<!ENTITY %% p SYSTEM \"%s\"> %%p;]>%s",
                         spath, roots[kind]);
            int rc;
            if (kind == 0) {
                gt_config *c = NULL;
                rc = gt_config_parse(doc, strlen(doc), &c);
                cr_expect_null(c);
                gt_config_destroy(c);
            } else if (kind == 1) {
                gt_mrd_header *h = NULL;
                rc = gt_mrd_header_parse(doc, strlen(doc), &h);
                cr_expect_null(h);
                gt_mrd_header_destroy(h);
            } else {
                gt_meta *m = NULL;
                rc = gt_meta_parse(doc, strlen(doc), &m);
                cr_expect_null(m);
                gt_meta_destroy(m);
            }
            cr_expect_eq(rc, GT_EXML, "kind %d variant %d: %d %s", kind, variant, rc,
                         gt_err_detail());
            cr_expect_not_null(strstr(gt_err_detail(), "DOCTYPE"), "%s", gt_err_detail());
            cr_expect_null(strstr(gt_err_detail(), secret));
        }
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(ef);
    size_t len = 0;
    char *err = gt_test_read_file(errpath, &len);
    cr_assert_not_null(err);
    cr_assert_null(strstr(err, secret));
    cr_assert_eq(len, 0, "stderr: %s", err);
    free(err);
    gt_test_rmtree(dir);
    free(dir);
}

Test(config_load, internal_entity_expansion_refused)
{
    const char *bomb = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                       "<configuration><version>2</version><stream><gadget><classname>&b;"
                       "</classname></gadget></stream></configuration>";
    gt_config *c = NULL;
    cr_assert_eq(gt_config_parse(bomb, strlen(bomb), &c), GT_EXML);
    cr_assert_null(c);
}

static void *parse_many(void *arg)
{
    const char *xml = arg;
    for (int i = 0; i < 200; i++) {
        gt_config *c = NULL;
        if (gt_config_parse(xml, strlen(xml), &c) != 0 || c->stream.nnodes != 18 ||
            strcmp(c->stream.nodes[8].gadget.name, "Recon") != 0) {
            gt_config_destroy(c);
            return (void *)1;
        }
        gt_config_destroy(c);
        /* Interleave failing parses: their error state must stay per thread. */
        const char bad[] = "<configuration>\n\n<oops></configuration>";
        if (gt_config_parse(bad, sizeof bad - 1, &c) != GT_EXML ||
            !strstr(gt_err_detail(), "line 3"))
            return (void *)2;
    }
    return NULL;
}

Test(config_load, concurrent_parses)
{
    size_t len = 0;
    char *xml = gt_test_read_file(CFG_DIR "/Generic_Cartesian_Grappa_RealTimeCine_Cloud.xml", &len);
    cr_assert_not_null(xml);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, parse_many, xml), 0);
    for (int i = 0; i < 4; i++) {
        void *res = (void *)99;
        pthread_join(t[i], &res);
        cr_assert_null(res, "thread %d failed with %p", i, res);
    }
    free(xml);
}
