/* mrdhdr: ISMRMRD XML header fields. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/mrdhdr.h"
#include "testutil.h"

#define HDR_DIR GT_SOURCE_DIR "/tests/data/headers/"

static gt_mrd_header *parse_file(const char *name)
{
    size_t len = 0;
    char *xml = gt_test_read_file(name, &len);
    gt_mrd_header *h = NULL;
    cr_assert_not_null(xml, "%s", name);
    cr_assert_eq(gt_mrd_header_parse(xml, len, &h), 0, "%s", gt_err_detail());
    cr_assert_eq(h->xml_len, len);
    cr_assert_eq(memcmp(h->xml, xml, len), 0, "xml kept verbatim");
    cr_assert_eq(h->xml[len], '\0');
    free(xml);
    return h;
}

static int parse_err(const char *xml)
{
    gt_mrd_header *h = (gt_mrd_header *)1;
    int rc = gt_mrd_header_parse(xml, strlen(xml), &h);
    cr_assert_null(h);
    return rc;
}

Test(mrdhdr, siemens_cine_grappa)
{
    gt_mrd_header *h = parse_file(HDR_DIR "siemens_cine_grappa.xml");
    cr_assert_str_eq(h->measurement_id, "45945_43252131_43252136_2188");
    cr_assert_str_eq(h->noise_dependency, "45945_43252131_43252136_2187");
    cr_assert_str_eq(h->patient_id, "PAT-4711");
    cr_assert_str_eq(h->study_id, "STUDY-12");
    cr_assert_str_eq(h->protocol_name, "RT_Cine_LIN_Res160 & tpat3");
    cr_assert_str_eq(h->device_id, "45945");
    cr_assert_str_eq(h->patient_position, "HFS");
    cr_assert_str_eq(h->series_instance_uid_root, "1.3.12.2.1107.5.2.19.45945.2017030211");
    cr_assert_eq(h->has_receiver_channels, 1);
    cr_assert_eq(h->receiver_channels, 34);
    cr_assert_float_eq(h->relative_noise_bandwidth, 0.79f, 1e-6);
    cr_assert_float_eq(h->field_strength_t, 2.89362f, 1e-5);
    cr_assert_float_eq(h->tr_ms, 38.56f, 1e-4);
    cr_assert_float_eq(h->te_ms, 1.04f, 1e-6);
    cr_assert_eq(h->n_coil_labels, 1);
    cr_assert_str_eq(h->coil_labels[0], "Body_18:1:B11");
    cr_assert_eq(h->n_encodings, 1);

    const gt_mrd_encoding *e = &h->enc[0];
    cr_assert_eq(e->enc_matrix[0], 320);
    cr_assert_eq(e->enc_matrix[1], 96);
    cr_assert_eq(e->enc_matrix[2], 1);
    cr_assert_float_eq(e->enc_fov[0], 720.0f, 1e-4);
    cr_assert_float_eq(e->enc_fov[2], 8.0f, 1e-6);
    cr_assert_eq(e->recon_matrix[0], 160);
    cr_assert_eq(e->recon_matrix[1], 120);
    cr_assert_float_eq(e->recon_fov[0], 360.0f, 1e-4);
    cr_assert_eq(e->e1.present, 1);
    cr_assert_eq(e->e1.min, 0);
    cr_assert_eq(e->e1.max, 95);
    cr_assert_eq(e->e1.center, 48);
    cr_assert_eq(e->slice.max, 11);
    cr_assert_eq(e->phase.max, 29);
    cr_assert_eq(e->set.present, 1);
    cr_assert_eq(e->average.present, 1);
    cr_assert_eq(e->segment.present, 1);
    cr_assert_eq(e->contrast.present, 1);
    cr_assert_eq(e->repetition.present, 1);
    cr_assert_eq(e->e2.present, 1);
    cr_assert_str_eq(e->trajectory, "cartesian");
    cr_assert_eq(e->has_parallel, 1);
    cr_assert_eq(e->accel[0], 3);
    cr_assert_eq(e->accel[1], 1);
    cr_assert_str_eq(e->calib_mode, "interleaved");
    cr_assert_str_eq(e->interleaving_dim, "phase");
    gt_mrd_header_destroy(h);
}

Test(mrdhdr, minimal_header_defaults)
{
    gt_mrd_header *h = parse_file(HDR_DIR "minimal.xml");
    cr_assert_str_eq(h->measurement_id, "");
    cr_assert_str_eq(h->noise_dependency, "");
    cr_assert_str_eq(h->patient_id, "");
    cr_assert_eq(h->has_receiver_channels, 0);
    cr_assert_float_eq(h->relative_noise_bandwidth, 0.793f, 1e-6);
    cr_assert_float_eq(h->field_strength_t, 0.0f, 1e-9);
    cr_assert_float_eq(h->tr_ms, 0.0f, 1e-9);
    cr_assert_eq(h->n_encodings, 1);
    cr_assert_eq(h->enc[0].enc_matrix[0], 64);
    cr_assert_eq(h->enc[0].e1.present, 0);
    cr_assert_eq(h->enc[0].has_parallel, 0);
    cr_assert_eq(h->enc[0].accel[0], 1);
    cr_assert_eq(h->enc[0].accel[1], 1);
    cr_assert_str_eq(h->enc[0].calib_mode, "");
    gt_mrd_header_destroy(h);
}

#define ENC(extra)                                                                                 \
    "<encoding><encodedSpace><matrixSize><x>8</x><y>4</y><z>1</z></matrixSize>"                    \
    "</encodedSpace><reconSpace><matrixSize><x>8</x><y>4</y><z>1</z></matrixSize>"                 \
    "</reconSpace>" extra "</encoding>"

Test(mrdhdr, two_encodings_noise_lowercase_and_trailing_nuls)
{
    const char x[] = "<ismrmrdHeader><measurementInformation>"
                     "<measurementDependency><dependencyType>noise</dependencyType>"
                     "<measurementID>N1</measurementID></measurementDependency>"
                     "</measurementInformation>" ENC("")
                         ENC("<trajectory>radial</trajectory>") "</ismrmrdHeader>\0\0";
    gt_mrd_header *h = NULL;
    cr_assert_eq(gt_mrd_header_parse(x, sizeof x, &h), 0, "%s", gt_err_detail());
    cr_assert_str_eq(h->noise_dependency, "N1");
    cr_assert_eq(h->n_encodings, 2);
    cr_assert_str_eq(h->enc[1].trajectory, "radial");
    cr_assert_eq(h->xml_len, strlen(x));
    gt_mrd_header_destroy(h);
}

Test(mrdhdr, missing_or_bad_content_is_edata)
{
    cr_assert_eq(parse_err("<ismrmrdHeader><measurementInformation/></ismrmrdHeader>"), GT_EDATA);
    cr_assert_not_null(strstr(gt_err_detail(), "encoding"), "%s", gt_err_detail());
    cr_assert_eq(parse_err("<ismrmrdHeader><encoding><reconSpace/></encoding></ismrmrdHeader>"),
                 GT_EDATA);
    cr_assert_eq(parse_err("<notAHeader/>"), GT_EDATA);
    cr_assert_eq(parse_err("<ismrmrdHeader><encoding><encodedSpace><matrixSize><x>70000</x>"
                           "</matrixSize></encodedSpace></encoding></ismrmrdHeader>"),
                 GT_EDATA);
    cr_assert_eq(parse_err("<ismrmrdHeader><acquisitionSystemInformation><receiverChannels>"
                           "many</receiverChannels></acquisitionSystemInformation>" ENC(
                               "") "</ismrmrdHeader>"),
                 GT_EDATA);
    cr_assert_eq(parse_err("<ismrmrdHeader>" ENC(
                     "<encodingLimits><slice><minimum>3</minimum>"
                     "<maximum>1</maximum></slice></encodingLimits>") "</ismrmrdHeader>"),
                 GT_EDATA);
    cr_assert_eq(parse_err("<ismrmrdHeader>" ENC("<parallelImaging><accelerationFactor>"
                                                 "<kspace_encoding_step_1>0"
                                                 "</kspace_encoding_step_1></accelerationFactor>"
                                                 "</parallelImaging>") "</ismrmrdHeader>"),
                 GT_EDATA);
    cr_assert_eq(parse_err("<ismrmrdHeader>" ENC("") ENC("") ENC("") ENC("") ENC("") ENC("") ENC("")
                               ENC("") ENC("") "</ismrmrdHeader>"),
                 GT_EDATA);
}

Test(mrdhdr, malformed_xml)
{
    cr_assert_eq(parse_err("<ismrmrdHeader>\n<encoding>\n</ismrmrdHeader>"), GT_EXML);
    cr_assert_not_null(strstr(gt_err_detail(), "line 3"), "%s", gt_err_detail());
    cr_assert_eq(parse_err(""), GT_EXML);
    gt_mrd_header *h = NULL;
    cr_assert_eq(gt_mrd_header_parse(NULL, 0, &h), GT_EINVAL);
    gt_mrd_header_destroy(NULL);
}

Test(mrdhdr, coil_labels_alone)
{
    /* A stored noise header may hold nothing but the coil labels. */
    const char *xml = "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">"
                      "<acquisitionSystemInformation>"
                      "<coilLabel><coilNumber>0</coilNumber><coilName>H1</coilName></coilLabel>"
                      "<coilLabel><coilNumber>1</coilNumber></coilLabel>"
                      "<coilLabel><coilName>B&amp;2</coilName></coilLabel>"
                      "</acquisitionSystemInformation></ismrmrdHeader>";
    char **labels = NULL;
    size_t n = 0;
    cr_assert_eq(gt_mrd_coil_labels(xml, strlen(xml) + 1, &labels, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(labels[0], "H1");
    cr_assert_str_eq(labels[1], "");
    cr_assert_str_eq(labels[2], "B&2");
    gt_mrd_labels_free(labels, n);
    cr_assert_eq(gt_mrd_coil_labels("<a", 2, &labels, &n), GT_EXML);
    cr_assert_null(labels);
}
