/* Simulator options: defaults, validation and the sampling pattern. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gt/err.h"
#include "gt/sim.h"

void gt_sim_opts_default(gt_sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->group = "/dataset";
    o->ro = 192;
    o->e1 = 192;
    o->os = 2;
    o->fov_mm = 360.0;
    o->slice_mm = 8.0;
    o->gap_mm = 2.0;
    o->coils = 8;
    o->slices = 4;
    o->phases = 10;
    o->accel = 1;
    o->calib = GT_SIM_CALIB_INTERLEAVED;
    o->acs = 24;
    o->noise_std = 0.02;
    o->correlated = 1;
    o->noise_scan_readouts = 256;
    o->noise_in_scan = 0;
    o->seed = 1;
    o->meas_id = 1124;
    o->tr_ms = 2.5;
    o->rr_ms = 1000.0;
    o->patient_id = NULL;
    o->threads = 0;
}

int gt_sim_calib_parse(const char *s, gt_sim_calib *out)
{
    if (s && !strcasecmp(s, "interleaved"))
        *out = GT_SIM_CALIB_INTERLEAVED;
    else if (s && !strcasecmp(s, "embedded"))
        *out = GT_SIM_CALIB_EMBEDDED;
    else if (s && !strcasecmp(s, "separate"))
        *out = GT_SIM_CALIB_SEPARATE;
    else
        return gt_err_set(GT_EINVAL,
                          "calibration mode '%s' is not interleaved, embedded or separate",
                          s ? s : "(null)");
    return 0;
}

const char *gt_sim_calib_name(gt_sim_calib c)
{
    switch (c) {
    case GT_SIM_CALIB_EMBEDDED:
        return "embedded";
    case GT_SIM_CALIB_SEPARATE:
        return "separate";
    default:
        return "interleaved";
    }
}

int gt_sim_opts_check(const gt_sim_opts *o)
{
    if (!o)
        return gt_err_set(GT_EINVAL, "no options");
    if (!o->group || o->group[0] != '/' || strlen(o->group) > 1000)
        return gt_err_set(GT_EINVAL, "group must be an absolute HDF5 path such as /dataset");
    if (o->os < 1 || o->os > 4)
        return gt_err_set(GT_EINVAL, "readout oversampling %d not in 1..4", o->os);
    if (o->ro < 8 || o->ro > 4096 || o->ro % 2)
        return gt_err_set(GT_EINVAL, "readout matrix %d must be even and in 8..4096", o->ro);
    if ((long)o->ro * o->os > 65535)
        return gt_err_set(GT_EINVAL, "ro * os = %ld exceeds 65535 samples", (long)o->ro * o->os);
    if (o->e1 < 8 || o->e1 > 4096 || o->e1 % 2)
        return gt_err_set(GT_EINVAL, "phase-encoding matrix %d must be even and in 8..4096", o->e1);
    if (!(o->fov_mm > 0.0 && o->fov_mm <= 2000.0))
        return gt_err_set(GT_EINVAL, "FOV %g mm not in (0, 2000]", o->fov_mm);
    if (!(o->slice_mm > 0.0 && o->slice_mm <= 200.0) || !(o->gap_mm >= 0.0 && o->gap_mm <= 200.0))
        return gt_err_set(GT_EINVAL, "slice thickness %g / gap %g mm out of range", o->slice_mm,
                          o->gap_mm);
    if (o->coils < 1 || o->coils > 1024)
        return gt_err_set(GT_EINVAL, "coils %d not in 1..1024", o->coils);
    if (o->slices < 1 || o->slices > 1024)
        return gt_err_set(GT_EINVAL, "slices %d not in 1..1024", o->slices);
    if (o->phases < 1 || o->phases > 1024)
        return gt_err_set(GT_EINVAL, "phases %d not in 1..1024", o->phases);
    if (o->accel < 1 || o->accel > 16 || o->accel > o->e1)
        return gt_err_set(GT_EINVAL, "acceleration %d not in 1..min(16, e1)", o->accel);
    if (o->calib != GT_SIM_CALIB_INTERLEAVED && o->calib != GT_SIM_CALIB_EMBEDDED &&
        o->calib != GT_SIM_CALIB_SEPARATE)
        return gt_err_set(GT_EINVAL, "unknown calibration mode %d", (int)o->calib);
    if (o->calib != GT_SIM_CALIB_INTERLEAVED && (o->acs < 1 || o->acs > o->e1))
        return gt_err_set(GT_EINVAL, "ACS lines %d not in 1..e1 (%d)", o->acs, o->e1);
    if (!(o->noise_std >= 0.0 && o->noise_std < 1e6))
        return gt_err_set(GT_EINVAL, "noise std %g must be >= 0", o->noise_std);
    if (o->noise_scan_readouts < 1 || o->noise_scan_readouts > 100000)
        return gt_err_set(GT_EINVAL, "noise scan readouts %d not in 1..100000",
                          o->noise_scan_readouts);
    if (o->noise_in_scan < 0 || o->noise_in_scan > 100000)
        return gt_err_set(GT_EINVAL, "noise readouts in scan %d not in 0..100000",
                          o->noise_in_scan);
    if (o->meas_id < 2 || o->meas_id > 99999)
        return gt_err_set(GT_EINVAL, "measurement number %d not in 2..99999", o->meas_id);
    if (!(o->tr_ms > 0.0 && o->tr_ms <= 1000.0) || !(o->rr_ms >= 100.0 && o->rr_ms <= 10000.0))
        return gt_err_set(GT_EINVAL, "TR %g ms / RR %g ms out of range", o->tr_ms, o->rr_ms);
    if (o->threads < 0 || o->threads > 64)
        return gt_err_set(GT_EINVAL, "threads %d not in 0..64", o->threads);
    if (o->patient_id && strlen(o->patient_id) > 256)
        return gt_err_set(GT_EINVAL, "patient id longer than 256 bytes");
    if (o->output && o->noise_scan && !strcmp(o->output, o->noise_scan))
        return gt_err_set(GT_EINVAL, "noise scan file must differ from the output file");
    return 0;
}

void gt_sim_measurement_id(const gt_sim_opts *o, int noise, char *buf, size_t n)
{
    snprintf(buf, n, "45188_118364457_118364462_%d", noise ? o->meas_id - 1 : o->meas_id);
}

static int acs_first(const gt_sim_opts *o) { return o->e1 / 2 - o->acs / 2; }

int gt_sim_separate_acs(const gt_sim_opts *o, int e1)
{
    if (o->calib != GT_SIM_CALIB_SEPARATE)
        return 0;
    return e1 >= acs_first(o) && e1 < acs_first(o) + o->acs;
}

int gt_sim_line(const gt_sim_opts *o, int phase, int e1)
{
    int r = o->accel;
    if (e1 < 0 || e1 >= o->e1)
        return 0;
    if (o->calib == GT_SIM_CALIB_INTERLEAVED)
        return e1 % r == phase % r ? GT_SIM_LINE_IMAGING : 0;
    int kind = e1 % r == (o->e1 / 2) % r ? GT_SIM_LINE_IMAGING : 0;
    if (o->calib == GT_SIM_CALIB_EMBEDDED && e1 >= acs_first(o) && e1 < acs_first(o) + o->acs)
        kind |= GT_SIM_LINE_ACS;
    return kind;
}
