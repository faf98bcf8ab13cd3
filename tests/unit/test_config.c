/* config: parsing both formats, property syntaxes, references, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/config.h"
#include "gt/err.h"
#include "testutil.h"

static gt_config *parse_ok(const char *xml)
{
    gt_config *c = NULL;
    int rc = gt_config_parse(xml, strlen(xml), &c);
    cr_assert_eq(rc, 0, "parse failed: %d %s", rc, gt_err_detail());
    cr_assert_not_null(c);
    return c;
}

static int parse_err(const char *xml)
{
    gt_config *c = (gt_config *)1;
    int rc = gt_config_parse(xml, strlen(xml), &c);
    cr_assert_null(c, "no config on failure");
    return rc;
}

static gt_config *load_fixture(const char *name)
{
    gt_config *c = NULL;
    int rc = gt_config_load(GT_SOURCE_DIR "/tests/data/config", name, &c);
    cr_assert_eq(rc, 0, "load %s: %d %s", name, rc, gt_err_detail());
    return c;
}

#define V2(body) "<configuration><version>2</version><stream>" body "</stream></configuration>"

Test(config, legacy_real_world_cloud_chain)
{
    static const char *names[] = {"NoiseAdjust",
                                  "AsymmetricEcho",
                                  "RemoveROOversampling",
                                  "Distribute",
                                  "AccTrig",
                                  "BucketToBuffer",
                                  "PrepRef",
                                  "CoilCompression",
                                  "Recon",
                                  "PartialFourierHandling",
                                  "KSpaceFilter",
                                  "FOVAdjustment",
                                  "Scaling",
                                  "ImageArraySplit",
                                  "Collect",
                                  "ComplexToFloatAttrib",
                                  "FloatToShortAttrib",
                                  "ImageFinish"};
    gt_config *c = load_fixture("Generic_Cartesian_Grappa_RealTimeCine_Cloud.xml");

    cr_assert_eq(c->legacy, 1);
    cr_assert_str_eq(c->stream.key, "main");
    cr_assert_eq(c->nreaders, 2);
    cr_assert_eq(c->readers[0].slot, 1008);
    cr_assert_str_eq(c->readers[0].classname, "GadgetIsmrmrdAcquisitionMessageReader");
    cr_assert_str_eq(c->readers[1].classname, "MRIImageReader");
    cr_assert_eq(c->nwriters, 2);
    cr_assert_str_eq(c->writers[0].dll, "gadgetron_mricore");
    cr_assert_str_eq(c->writers[1].classname, "GadgetIsmrmrdAcquisitionMessageWriter");
    cr_assert_eq(c->stream.nnodes, 18);
    for (size_t i = 0; i < 18; i++) {
        cr_assert_eq(c->stream.nodes[i].kind, GT_CFG_GADGET);
        cr_assert_str_eq(c->stream.nodes[i].gadget.name, names[i]);
    }
    const gt_cfg_gadget *dist = &c->stream.nodes[3].gadget;
    cr_assert_str_eq(dist->classname, "IsmrmrdAcquisitionDistributeGadget");
    cr_assert_str_eq(dist->dll, "gadgetron_distributed");
    cr_assert_eq(dist->nprops, 2);
    cr_assert_str_eq(gt_cfg_prop_get(dist, "parallel_dimension"), "slice");
    cr_assert_str_eq(gt_cfg_prop_get(dist, "use_this_node_for_compute"), "false");
    const gt_cfg_gadget *acc = &c->stream.nodes[4].gadget;
    cr_assert_str_eq(gt_cfg_prop_get(acc, "trigger_dimension"), "slice");
    cr_assert_str_eq(gt_cfg_prop_get(acc, "sorting_dimension"), "");
    const gt_cfg_gadget *recon = &c->stream.nodes[8].gadget;
    cr_assert_str_eq(recon->classname, "GenericReconCartesianGrappaGadget");
    cr_assert_eq(recon->nprops, 9);
    cr_assert_str_eq(gt_cfg_prop_get(recon, "downstream_coil_compression_thres"), "0.002");
    cr_assert_str_eq(gt_cfg_prop_get(recon, "coil_map_algorithm"), "Inati");
    const gt_cfg_gadget *scal = &c->stream.nodes[12].gadget;
    cr_assert_str_eq(gt_cfg_prop_get(scal, "max_intensity_value"), "4095");
    cr_assert_null(gt_cfg_prop_get(scal, "no_such_property"));
    cr_assert_str_eq(c->stream.nodes[17].gadget.classname, "ImageFinishGadget");
    cr_assert_eq(c->stream.nodes[17].gadget.nprops, 0);
    cr_assert_gt(c->stream.nodes[0].gadget.line, 20);
    gt_config_destroy(c);
}

Test(config, legacy_without_namespace_name_optional_and_dll_ignored)
{
    gt_config *c = parse_ok("<gadgetronStreamConfiguration>"
                            "<reader><slot>1008</slot><classname>R</classname></reader>"
                            "<gadget><dll>x</dll><classname>A</classname></gadget>"
                            "<gadget><name>  B  </name><classname>\n  BClass\n</classname></gadget>"
                            "</gadgetronStreamConfiguration>");
    cr_assert_eq(c->legacy, 1);
    cr_assert_null(c->readers[0].dll);
    cr_assert_eq(c->stream.nnodes, 2);
    cr_assert_str_eq(c->stream.nodes[0].gadget.name, "A");
    cr_assert_str_eq(c->stream.nodes[0].gadget.dll, "x");
    cr_assert_str_eq(c->stream.nodes[1].gadget.name, "B");
    cr_assert_str_eq(c->stream.nodes[1].gadget.classname, "BClass");
    cr_assert_null(c->stream.nodes[1].gadget.dll);
    gt_config_destroy(c);
}

Test(config, legacy_python_gadget_becomes_external)
{
    gt_config *c = parse_ok("<gadgetronStreamConfiguration><gadget><name>Py</name>"
                            "<dll>gadgetron_python</dll><classname>PythonGadget</classname>"
                            "<property><name>python_module</name><value>mod</value></property>"
                            "<property><name>python_class</name><value>Cls</value></property>"
                            "</gadget></gadgetronStreamConfiguration>");
    const gt_cfg_node *n = &c->stream.nodes[0];
    cr_assert_eq(n->kind, GT_CFG_EXTERNAL);
    cr_assert_str_eq(n->execute_name, "mod");
    cr_assert_str_eq(n->execute_type, "python");
    cr_assert_str_eq(n->execute_target, "Cls");
    cr_assert_not_null(
        strstr(n->ext_config_xml, "<property name=\"python_module\" value=\"mod\"/>"), "%s",
        n->ext_config_xml);
    gt_config_destroy(c);
}

Test(config, v2_all_node_kinds)
{
    gt_config *c = load_fixture("v2_all_nodes.xml");
    const gt_cfg_node *n = c->stream.nodes;

    cr_assert_eq(c->legacy, 0);
    cr_assert_null(c->stream.key);
    cr_assert_eq(c->nreaders, 2);
    cr_assert_eq(c->readers[0].slot, -1);
    cr_assert_eq(c->readers[1].slot, 1026);
    cr_assert_eq(c->nwriters, 1);
    cr_assert_eq(c->stream.nnodes, 9);

    cr_assert_eq(n[0].kind, GT_CFG_GADGET);
    cr_assert_str_eq(gt_cfg_prop_get(&n[0].gadget, "perform_noise_adjust"), "true");
    cr_assert_str_eq(gt_cfg_prop_get(&n[0].gadget, "pass_nonconformant_data"), "yes & more");
    cr_assert_str_eq(n[1].gadget.name, "PCACoilGadget");
    cr_assert_str_eq(gt_cfg_prop_get(&n[1].gadget, "noise"), "true");

    cr_assert_eq(n[2].kind, GT_CFG_PARALLEL);
    cr_assert_str_eq(n[2].branch.classname, "ImageFanout");
    cr_assert_str_eq(gt_cfg_prop_get(&n[2].branch, "fan"), "2");
    cr_assert_str_eq(n[2].merge.classname, "ImageLayerer");
    cr_assert_eq(n[2].nstreams, 2);
    cr_assert_str_eq(n[2].streams[0].key, "unchanged");
    cr_assert_eq(n[2].streams[0].nnodes, 0);
    cr_assert_str_eq(n[2].streams[1].key, "inverted");
    cr_assert_str_eq(n[2].streams[1].nodes[0].gadget.name, "Invert");

    cr_assert_eq(n[3].kind, GT_CFG_DISTRIBUTED);
    cr_assert_eq(n[3].nreaders, 1);
    cr_assert_str_eq(n[3].readers[0].classname, "ImageReader");
    cr_assert_str_eq(n[3].writers[0].classname, "AcquisitionWriter");
    cr_assert_str_eq(n[3].distributor.classname, "AcquisitionDistributor");
    cr_assert_str_eq(n[3].inner.key, "worker");
    cr_assert_eq(n[3].inner.nnodes, 1);
    cr_assert_str_eq(gt_cfg_prop_get(&n[3].inner.nodes[0].gadget, "trigger_dimension"), "slice");

    cr_assert_eq(n[4].kind, GT_CFG_PUREDISTRIBUTED);
    cr_assert_str_eq(n[4].inner.key, "PureStream");
    cr_assert_eq(n[4].inner.nnodes, 2);
    cr_assert_str_eq(n[4].inner.nodes[1].gadget.classname, "FloatToUShortGadget");

    cr_assert_eq(n[5].kind, GT_CFG_PARALLELPROCESS);
    cr_assert_eq(n[5].workers, 3);
    cr_assert_eq(n[5].inner.nnodes, 1);

    cr_assert_eq(n[6].kind, GT_CFG_EXTERNAL);
    cr_assert_str_eq(n[6].execute_name, "my_module");
    cr_assert_str_eq(n[6].execute_type, "python");
    cr_assert_str_eq(n[6].execute_target, "MyClass");
    cr_assert_str_eq(n[6].ext_config_xml,
                     "<configuration><property name=\"x\" value=\"1 &lt; 2\"/></configuration>");
    cr_assert_null(n[6].connect_port);

    cr_assert_eq(n[7].kind, GT_CFG_EXTERNAL);
    cr_assert_str_eq(n[7].connect_address, "localhost");
    cr_assert_str_eq(n[7].connect_port, "18000");
    cr_assert_null(n[7].execute_name);
    cr_assert_null(n[7].ext_config_xml);
    cr_assert_eq(n[7].nreaders, 1);

    cr_assert_str_eq(n[8].gadget.name, "Finish");
    gt_config_destroy(c);
}

Test(config, both_property_syntaxes_and_last_duplicate_wins)
{
    gt_config *c = parse_ok(V2("<gadget><classname>G</classname>"
                               "<property name=\"a\" value=\"1\"/>"
                               "<property><name>b</name><value>2</value></property>"
                               "<property name=\"a\" value=\"3\"/>"
                               "<property name=\"empty\" value=\"\"/></gadget>"));
    const gt_cfg_gadget *g = &c->stream.nodes[0].gadget;
    cr_assert_eq(g->nprops, 3);
    cr_assert_str_eq(g->props[0].name, "a");
    cr_assert_str_eq(g->props[0].value, "3");
    cr_assert_str_eq(gt_cfg_prop_get(g, "b"), "2");
    cr_assert_str_eq(gt_cfg_prop_get(g, "empty"), "");
    gt_config_destroy(c);
}

Test(config, ambiguous_property)
{
    cr_assert_eq(parse_err(V2("<gadget><classname>G</classname>\n"
                              "<property name=\"a\" value=\"1\"><name>a</name><value>2</value>"
                              "</property></gadget>")),
                 GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "Ambiguous property parse"), "%s", gt_err_detail());
    cr_assert_not_null(strstr(gt_err_detail(), "line 2"), "%s", gt_err_detail());
}

Test(config, unparsable_property)
{
    cr_assert_eq(parse_err(V2("<gadget><classname>G</classname><property name=\"a\"/></gadget>")),
                 GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "Unable to parse property"), "%s", gt_err_detail());
}

Test(config, reference_chain_and_unresolvable)
{
    gt_config *c = parse_ok(V2("<gadget><name>A</name><classname>G</classname>"
                               "<property name=\"x\" value=\"42\"/></gadget>"
                               "<gadget><name>B</name><classname>G</classname>"
                               "<property name=\"y\" value=\"x@A\"/></gadget>"
                               "<gadget><name>C</name><classname>G</classname>"
                               "<property name=\"z\" value=\"y@B\"/>"
                               "<property name=\"w\" value=\"nothing@Nowhere\"/>"
                               "<property name=\"v\" value=\"z@C\"/></gadget>"));
    cr_assert_str_eq(gt_cfg_prop_get(&c->stream.nodes[1].gadget, "y"), "42");
    cr_assert_str_eq(gt_cfg_prop_get(&c->stream.nodes[2].gadget, "z"), "42");
    cr_assert_str_eq(gt_cfg_prop_get(&c->stream.nodes[2].gadget, "w"), "");
    cr_assert_str_eq(gt_cfg_prop_get(&c->stream.nodes[2].gadget, "v"), "42");
    gt_config_destroy(c);
}

Test(config, reference_into_legacy_child_syntax)
{
    gt_config *c = parse_ok("<gadgetronStreamConfiguration>"
                            "<gadget><name>A</name><classname>G</classname>"
                            "<property><name>dim</name><value>slice</value></property></gadget>"
                            "<gadget><classname>H</classname>"
                            "<property><name>d</name><value>dim@A</value></property></gadget>"
                            "</gadgetronStreamConfiguration>");
    cr_assert_str_eq(gt_cfg_prop_get(&c->stream.nodes[1].gadget, "d"), "slice");
    gt_config_destroy(c);
}

Test(config, reference_cycles)
{
    cr_assert_eq(parse_err(V2("<gadget><name>A</name><classname>G</classname>"
                              "<property name=\"x\" value=\"x@A\"/></gadget>")),
                 GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "Cyclic reference"), "%s", gt_err_detail());
    cr_assert_eq(parse_err(V2("<gadget><name>A</name><classname>G</classname>"
                              "<property name=\"x\" value=\"y@B\"/></gadget>"
                              "<gadget><name>B</name><classname>G</classname>"
                              "<property name=\"y\" value=\"z@C\"/></gadget>"
                              "<gadget><name>C</name><classname>G</classname>"
                              "<property name=\"z\" value=\"x@A\"/></gadget>")),
                 GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "Cyclic reference"), "%s", gt_err_detail());
}

Test(config, long_reference_chain_is_linear)
{
    /* 3000 gadgets each referring to the previous one. */
    size_t cap = 3000 * 120 + 200, at = 0;
    char *x = malloc(cap);
    cr_assert_not_null(x);
    at += (size_t)snprintf(x + at, cap - at, "<configuration><version>2</version><stream>");
    at += (size_t)snprintf(x + at, cap - at,
                           "<gadget><name>g0</name><classname>G</classname>"
                           "<property name=\"p\" value=\"end\"/></gadget>");
    for (int i = 1; i < 3000; i++)
        at += (size_t)snprintf(x + at, cap - at,
                               "<gadget><name>g%d</name><classname>G</classname>"
                               "<property name=\"p\" value=\"p@g%d\"/></gadget>",
                               i, i - 1);
    at += (size_t)snprintf(x + at, cap - at, "</stream></configuration>");
    gt_config *c = NULL;
    cr_assert_eq(gt_config_parse(x, at, &c), 0, "%s", gt_err_detail());
    cr_assert_eq(c->stream.nnodes, 3000);
    cr_assert_str_eq(gt_cfg_prop_get(&c->stream.nodes[2999].gadget, "p"), "end");
    gt_config_destroy(c);
    free(x);
}

Test(config, unknown_element_in_stream)
{
    cr_assert_eq(parse_err("<configuration><version>2</version>\n<stream>\n"
                           "<gadget><classname>G</classname></gadget>\n<bogus/>\n"
                           "</stream></configuration>"),
                 GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "<bogus>"), "%s", gt_err_detail());
    cr_assert_not_null(strstr(gt_err_detail(), "line 4"), "%s", gt_err_detail());
}

Test(config, structural_errors)
{
    cr_assert_eq(parse_err(V2("<gadget><name>NoClass</name></gadget>")), GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "classname"), "%s", gt_err_detail());
    cr_assert_eq(parse_err(V2("<parallel><branch><classname>B</classname></branch></parallel>")),
                 GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "<merge>"), "%s", gt_err_detail());
    cr_assert_eq(parse_err(V2("<parallel><branch><classname>B</classname></branch>"
                              "<merge><classname>M</classname></merge><stream/></parallel>")),
                 GT_ECONFIG);
    cr_assert_eq(parse_err(V2("<parallelprocess workers=\"x\"><purestream/></parallelprocess>")),
                 GT_ECONFIG);
    cr_assert_eq(parse_err(V2("<parallelprocess><purestream/></parallelprocess>")), GT_ECONFIG);
    cr_assert_eq(parse_err(V2("<puredistributed><purestream><parallel/></purestream>"
                              "</puredistributed>")),
                 GT_ECONFIG);
    cr_assert_eq(parse_err(V2("<external><readers/></external>")), GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "Unable to parse valid action"), "%s",
                       gt_err_detail());
    cr_assert_eq(parse_err(V2("<distributed><stream/></distributed>")), GT_ECONFIG);
    cr_assert_eq(parse_err("<configuration><readers><reader><classname>R</classname>"
                           "<slot>70000</slot></reader></readers></configuration>"),
                 GT_ECONFIG);
    cr_assert_eq(parse_err("<configuration><version>3</version></configuration>"), GT_ECONFIG);
    cr_assert_not_null(strstr(gt_err_detail(), "No parser accepted"), "%s", gt_err_detail());
    cr_assert_eq(parse_err("<something/>"), GT_ECONFIG);
    cr_assert_eq(parse_err("<gadgetronStreamConfiguration><reader><slot>-1</slot>"
                           "<classname>R</classname></reader></gadgetronStreamConfiguration>"),
                 GT_ECONFIG);
}

Test(config, empty_v2_stream_and_trailing_nuls)
{
    const char x[] = "<configuration><version> 2 </version></configuration>\0\0\0";
    gt_config *c = NULL;
    cr_assert_eq(gt_config_parse(x, sizeof x, &c), 0, "%s", gt_err_detail());
    cr_assert_eq(c->stream.nnodes, 0);
    cr_assert_eq(c->nreaders, 0);
    gt_config_destroy(c);
}

Test(config, malformed_xml_reports_line_without_printing)
{
    char path[] = "/tmp/gt_cfg_stderr_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = parse_err("<configuration>\n<version>2</version>\n<stream>\n<gadget>\n</stream>\n"
                       "</configuration>");
    int rc2 = parse_err("");
    int rc3 = parse_err("<a>&undefined;</a>");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    size_t len = 99;
    char *err = gt_test_read_file(path, &len);
    unlink(path);
    cr_assert_eq(rc, GT_EXML);
    cr_assert_eq(rc2, GT_EXML);
    cr_assert_eq(rc3, GT_EXML);
    cr_assert_not_null(err);
    cr_assert_eq(len, 0, "libxml2 printed: %s", err);
    free(err);
    /* The detail of the last failure is rc3's; redo the first for its line. */
    parse_err("<configuration>\n<version>2</version>\n<stream>\n<gadget>\n</stream>\n"
              "</configuration>");
    cr_assert_not_null(strstr(gt_err_detail(), "line 5"), "%s", gt_err_detail());
}

Test(config, null_arguments)
{
    gt_config *c = NULL;
    cr_assert_eq(gt_config_parse(NULL, 5, &c), GT_EINVAL);
    cr_assert_eq(gt_config_parse("<a/>", 4, NULL), GT_EINVAL);
    gt_config_destroy(NULL);
    cr_assert_null(gt_cfg_prop_get(NULL, "x"));
}
