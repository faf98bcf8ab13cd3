/* ISMRMRD header XML of a simulated scan, shaped like the Siemens converter's
 * output (algorithms.md §1.4) and valid against ismrmrd.xsd (version 2). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/xmlwriter.h>

#include "gt/err.h"
#include "gt/sim.h"

/* The writer with a sticky error so the document reads top to bottom. */
typedef struct xw {
    xmlTextWriterPtr w;
    int err;
} xw;

static void open_el(xw *x, const char *name)
{
    if (!x->err && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->err = 1;
}

static void close_el(xw *x)
{
    if (!x->err && xmlTextWriterEndElement(x->w) < 0)
        x->err = 1;
}

static void el(xw *x, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void el(xw *x, const char *name, const char *fmt, ...)
{
    va_list ap;
    if (x->err)
        return;
    va_start(ap, fmt);
    if (xmlTextWriterWriteVFormatElement(x->w, BAD_CAST name, fmt, ap) < 0)
        x->err = 1;
    va_end(ap);
}

static void xyz_int(xw *x, const char *name, int vx, int vy, int vz)
{
    open_el(x, name);
    el(x, "x", "%d", vx);
    el(x, "y", "%d", vy);
    el(x, "z", "%d", vz);
    close_el(x);
}

static void xyz_float(xw *x, const char *name, double vx, double vy, double vz)
{
    open_el(x, name);
    el(x, "x", "%.6g", vx);
    el(x, "y", "%.6g", vy);
    el(x, "z", "%.6g", vz);
    close_el(x);
}

static void limit(xw *x, const char *name, int lo, int hi, int centre)
{
    open_el(x, name);
    el(x, "minimum", "%d", lo);
    el(x, "maximum", "%d", hi);
    el(x, "center", "%d", centre);
    close_el(x);
}

static void write_encoding(xw *x, const gt_sim_opts *o)
{
    double fov_y = o->fov_mm * o->e1 / o->ro;
    open_el(x, "encoding");
    open_el(x, "encodedSpace");
    xyz_int(x, "matrixSize", o->ro * o->os, o->e1, 1);
    xyz_float(x, "fieldOfView_mm", o->fov_mm * o->os, fov_y, o->slice_mm);
    close_el(x);
    open_el(x, "reconSpace");
    xyz_int(x, "matrixSize", o->ro, o->e1, 1);
    xyz_float(x, "fieldOfView_mm", o->fov_mm, fov_y, o->slice_mm);
    close_el(x);
    open_el(x, "encodingLimits");
    limit(x, "kspace_encoding_step_0", 0, o->ro * o->os - 1, o->ro * o->os / 2);
    limit(x, "kspace_encoding_step_1", 0, o->e1 - 1, o->e1 / 2);
    limit(x, "kspace_encoding_step_2", 0, 0, 0);
    limit(x, "average", 0, 0, 0);
    limit(x, "slice", 0, o->slices - 1, 0);
    limit(x, "contrast", 0, 0, 0);
    limit(x, "phase", 0, o->phases - 1, 0);
    limit(x, "repetition", 0, 0, 0);
    limit(x, "set", 0, 0, 0);
    limit(x, "segment", 0, 0, 0);
    close_el(x);
    el(x, "trajectory", "cartesian");
    open_el(x, "parallelImaging");
    open_el(x, "accelerationFactor");
    el(x, "kspace_encoding_step_1", "%d", o->accel);
    el(x, "kspace_encoding_step_2", "1");
    close_el(x);
    el(x, "calibrationMode", "%s", gt_sim_calib_name(o->calib));
    if (o->calib == GT_SIM_CALIB_INTERLEAVED)
        el(x, "interleavingDimension", "phase");
    close_el(x);
    close_el(x);
}

static void write_system(xw *x, const gt_sim_opts *o)
{
    open_el(x, "acquisitionSystemInformation");
    el(x, "systemVendor", "SIEMENS");
    el(x, "systemModel", "Avanto");
    el(x, "systemFieldStrength_T", "1.5");
    el(x, "relativeReceiverNoiseBandwidth", "0.793");
    el(x, "receiverChannels", "%d", o->coils);
    for (int c = 0; c < o->coils; c++) {
        open_el(x, "coilLabel");
        el(x, "coilNumber", "%d", c);
        el(x, "coilName", "Body_%d:1:H%d", 18 + c / 8, c % 8 + 1);
        close_el(x);
    }
    el(x, "institutionName", "gadgetron-c simulator");
    el(x, "stationName", "GTSIM");
    el(x, "deviceID", "45188");
    close_el(x);
}

int gt_sim_header_xml(const gt_sim_opts *o, int noise, char **xml)
{
    char id[64], noise_id[64];
    xmlBufferPtr buf = NULL;
    xw x = {0};
    int rc = gt_sim_opts_check(o);
    *xml = NULL;
    if (rc)
        return rc;
    gt_sim_measurement_id(o, 0, id, sizeof(id));
    gt_sim_measurement_id(o, 1, noise_id, sizeof(noise_id));
    buf = xmlBufferCreate();
    if (!buf)
        return gt_err_set(GT_ENOMEM, "xml buffer");
    x.w = xmlNewTextWriterMemory(buf, 0);
    if (!x.w) {
        rc = gt_err_set(GT_ENOMEM, "xml writer");
        goto fail;
    }
    xmlTextWriterSetIndent(x.w, 1);
    if (xmlTextWriterStartDocument(x.w, NULL, "UTF-8", NULL) < 0)
        x.err = 1;
    open_el(&x, "ismrmrdHeader");
    if (!x.err && xmlTextWriterWriteAttribute(x.w, BAD_CAST "xmlns",
                                              BAD_CAST "http://www.ismrm.org/ISMRMRD") < 0)
        x.err = 1;
    el(&x, "version", "2");
    if (o->patient_id) {
        open_el(&x, "subjectInformation");
        el(&x, "patientID", "%s", o->patient_id);
        el(&x, "patientGender", "O");
        close_el(&x);
    }
    open_el(&x, "studyInformation");
    el(&x, "studyDate", "2024-03-14");
    el(&x, "studyTime", "09:41:27");
    el(&x, "studyID", "GTSIM");
    el(&x, "studyDescription", "gadgetron-c simulated cine");
    el(&x, "studyInstanceUID", "1.3.12.2.1107.5.2.30.45188.30000024031408120000000001");
    close_el(&x);
    open_el(&x, "measurementInformation");
    el(&x, "measurementID", "%s", noise ? noise_id : id);
    el(&x, "seriesDate", "2024-03-14");
    el(&x, "seriesTime", "09:41:27");
    el(&x, "patientPosition", "HFS");
    el(&x, "initialSeriesNumber", "%d", noise ? 1 : 2);
    el(&x, "protocolName", "%s", noise ? "gt_sim_noise" : "gt_sim_cine_rt");
    el(&x, "seriesDescription", "%s", noise ? "noise" : "cine real-time");
    if (!noise && o->noise_scan) {
        open_el(&x, "measurementDependency");
        el(&x, "dependencyType", "Noise");
        el(&x, "measurementID", "%s", noise_id);
        close_el(&x);
    }
    el(&x, "frameOfReferenceUID", "1.3.12.2.1107.5.2.30.45188.1.20240314094127.0.0.0");
    close_el(&x);
    write_system(&x, o);
    open_el(&x, "experimentalConditions");
    el(&x, "H1resonanceFrequency_Hz", "63642459");
    close_el(&x);
    write_encoding(&x, o);
    open_el(&x, "sequenceParameters");
    el(&x, "TR", "%.6g", o->tr_ms);
    el(&x, "TE", "%.6g", o->tr_ms * 0.48);
    el(&x, "TI", "300");
    el(&x, "flipAngle_deg", "50");
    el(&x, "sequence_type", "TrueFISP");
    el(&x, "echo_spacing", "%.6g", o->tr_ms);
    close_el(&x);
    close_el(&x);
    if (!x.err && xmlTextWriterEndDocument(x.w) < 0)
        x.err = 1;
    xmlFreeTextWriter(x.w); /* flushes into buf */
    x.w = NULL;
    if (x.err) {
        rc = gt_err_set(GT_EXML, "writing the ISMRMRD header failed");
        goto fail;
    }
    *xml = strdup((const char *)xmlBufferContent(buf));
    if (!*xml) {
        rc = gt_err_set(GT_ENOMEM, "header copy");
        goto fail;
    }
    xmlBufferFree(buf);
    return 0;
fail:
    if (x.w)
        xmlFreeTextWriter(x.w);
    xmlBufferFree(buf);
    return rc;
}
