/* config: v2 serialization for workers re-parses to the same tree. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gt/config.h"
#include "gt/err.h"

#define CFG_DIR GT_SOURCE_DIR "/tests/data/config"

static void eq_str(const char *a, const char *b, const char *what)
{
    if (!a || !b)
        cr_assert(a == b, "%s: %s vs %s", what, a ? a : "(null)", b ? b : "(null)");
    else
        cr_assert_str_eq(a, b, "%s", what);
}

static void eq_gadget(const gt_cfg_gadget *a, const gt_cfg_gadget *b)
{
    eq_str(a->name, b->name, "name");
    eq_str(a->dll, b->dll, "dll");
    eq_str(a->classname, b->classname, "classname");
    cr_assert_eq(a->nprops, b->nprops, "props of %s", a->name ? a->name : "");
    for (size_t i = 0; i < a->nprops; i++) {
        eq_str(a->props[i].name, b->props[i].name, "prop name");
        eq_str(a->props[i].value, b->props[i].value, "prop value");
    }
}

static void eq_rw(const gt_cfg_rw *a, size_t na, const gt_cfg_rw *b, size_t nb)
{
    cr_assert_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        eq_str(a[i].dll, b[i].dll, "rw dll");
        eq_str(a[i].classname, b[i].classname, "rw classname");
        cr_assert_eq(a[i].slot, b[i].slot);
    }
}

static void eq_stream(const gt_cfg_stream *a, const gt_cfg_stream *b);

static void eq_node(const gt_cfg_node *a, const gt_cfg_node *b)
{
    cr_assert_eq(a->kind, b->kind);
    eq_gadget(&a->gadget, &b->gadget);
    eq_gadget(&a->branch, &b->branch);
    eq_gadget(&a->merge, &b->merge);
    eq_gadget(&a->distributor, &b->distributor);
    cr_assert_eq(a->nstreams, b->nstreams);
    for (size_t i = 0; i < a->nstreams; i++)
        eq_stream(&a->streams[i], &b->streams[i]);
    eq_rw(a->readers, a->nreaders, b->readers, b->nreaders);
    eq_rw(a->writers, a->nwriters, b->writers, b->nwriters);
    eq_stream(&a->inner, &b->inner);
    cr_assert_eq(a->workers, b->workers);
    eq_str(a->execute_name, b->execute_name, "execute name");
    eq_str(a->execute_type, b->execute_type, "execute type");
    eq_str(a->execute_target, b->execute_target, "execute target");
    eq_str(a->connect_address, b->connect_address, "connect address");
    eq_str(a->connect_port, b->connect_port, "connect port");
    eq_str(a->ext_config_xml, b->ext_config_xml, "external configuration");
}

static void eq_stream(const gt_cfg_stream *a, const gt_cfg_stream *b)
{
    eq_str(a->key, b->key, "stream key");
    cr_assert_eq(a->nnodes, b->nnodes);
    for (size_t i = 0; i < a->nnodes; i++)
        eq_node(&a->nodes[i], &b->nodes[i]);
}

static gt_config *reparse(const gt_config *c, char **xml_out)
{
    char *xml = NULL;
    size_t len = 0;
    gt_config *d = NULL;
    cr_assert_eq(gt_config_serialize_v2(c->readers, c->nreaders, c->writers, c->nwriters,
                                        &c->stream, &xml, &len),
                 0, "%s", gt_err_detail());
    cr_assert_eq(strlen(xml), len);
    cr_assert_eq(gt_config_parse(xml, len, &d), 0, "%s\n%s", gt_err_detail(), xml);
    *xml_out = xml;
    return d;
}

Test(config_serialize, v2_fixture_round_trip)
{
    gt_config *c = NULL, *d;
    char *xml;
    cr_assert_eq(gt_config_load(CFG_DIR, "v2_all_nodes.xml", &c), 0, "%s", gt_err_detail());
    d = reparse(c, &xml);
    cr_assert_eq(d->legacy, 0);
    eq_rw(c->readers, c->nreaders, d->readers, d->nreaders);
    eq_rw(c->writers, c->nwriters, d->writers, d->nwriters);
    eq_stream(&c->stream, &d->stream);
    /* Serializing the re-parsed tree gives the same text. */
    char *xml2;
    gt_config *e = reparse(d, &xml2);
    cr_assert_str_eq(xml, xml2);
    gt_config_destroy(e);
    free(xml2);
    free(xml);
    gt_config_destroy(d);
    gt_config_destroy(c);
}

Test(config_serialize, legacy_becomes_v2_with_main_key)
{
    gt_config *c = NULL, *d;
    char *xml;
    cr_assert_eq(gt_config_load(CFG_DIR, "Generic_Cartesian_Grappa_RealTimeCine_Cloud.xml", &c), 0,
                 "%s", gt_err_detail());
    d = reparse(c, &xml);
    cr_assert_eq(d->legacy, 0);
    cr_assert_not_null(strstr(xml, "<version>2</version>"));
    cr_assert_not_null(strstr(xml, "<stream key=\"main\">"), "%s", xml);
    cr_assert_not_null(strstr(xml, "<property name=\"parallel_dimension\" value=\"slice\"/>"));
    eq_stream(&c->stream, &d->stream);
    eq_rw(c->readers, c->nreaders, d->readers, d->nreaders);
    free(xml);
    gt_config_destroy(d);
    gt_config_destroy(c);
}

Test(config_serialize, worker_config_of_a_distributed_node_escapes_text)
{
    const char *src =
        "<configuration><version>2</version><stream><distributed>"
        "<readers><reader><dll>r</dll><classname>AcquisitionReader</classname></reader></readers>"
        "<writers><writer><dll>w</dll><classname>ImageWriter</classname></writer></writers>"
        "<distributor><classname>AcquisitionDistributor</classname></distributor>"
        "<stream key=\"k\"><gadget><classname>G</classname>"
        "<property name=\"q\" value=\"a&quot;&lt;&amp;&gt;'b\"/></gadget></stream>"
        "</distributed></stream></configuration>";
    gt_config *c = NULL, *w = NULL;
    char *xml = NULL;
    size_t len = 0;
    cr_assert_eq(gt_config_parse(src, strlen(src), &c), 0, "%s", gt_err_detail());
    const gt_cfg_node *n = &c->stream.nodes[0];
    cr_assert_eq(gt_config_serialize_v2(n->readers, n->nreaders, n->writers, n->nwriters, &n->inner,
                                        &xml, &len),
                 0);
    cr_assert_eq(gt_config_parse(xml, len, &w), 0, "%s", gt_err_detail());
    cr_assert_str_eq(w->readers[0].classname, "AcquisitionReader");
    cr_assert_str_eq(w->writers[0].classname, "ImageWriter");
    cr_assert_str_eq(w->stream.key, "k");
    cr_assert_str_eq(gt_cfg_prop_get(&w->stream.nodes[0].gadget, "q"), "a\"<&>'b");
    free(xml);
    gt_config_destroy(w);
    gt_config_destroy(c);
}

Test(config_serialize, bad_arguments)
{
    gt_cfg_stream s = {0};
    char *xml = (char *)1;
    cr_assert_eq(gt_config_serialize_v2(NULL, 1, NULL, 0, &s, &xml, NULL), GT_EINVAL);
    cr_assert_eq(gt_config_serialize_v2(NULL, 0, NULL, 0, NULL, &xml, NULL), GT_EINVAL);
    gt_cfg_node bad = {.kind = (gt_cfg_kind)77};
    s.nodes = &bad;
    s.nnodes = 1;
    cr_assert_eq(gt_config_serialize_v2(NULL, 0, NULL, 0, &s, &xml, NULL), GT_EINVAL);
    cr_assert_null(xml);
}
