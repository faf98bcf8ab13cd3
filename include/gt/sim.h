/* gt/sim.h — deterministic multi-slice 2-D cine simulator writing ISMRMRD
 * HDF5 datasets (the data behind tests, benchmarks and the quick start).
 *
 * Model: per slice and cardiac phase a smooth complex phantom m (ellipses with
 * soft edges, a beating "heart" whose radius follows the phase, smooth object
 * phase) is multiplied by smooth complex coil sensitivities S_c; k-space of
 * every coil is the centered unitary 2-D FFT (gt_fftc_host) of S_c * m on the
 * readout-oversampled grid [RO*os][E1] (the object fills the central RO
 * columns). Sampled lines get complex Gaussian noise n = sigma * L * w (w iid,
 * std 1 per real/imag part; L a fixed banded channel-mixing matrix unless
 * correlated == 0, so the noise covariance is 2 sigma^2 L L^H).
 *
 * File layout written by gt_sim_run() in <group> (default "/dataset"):
 *   xml               ISMRMRD header (namespace http://www.ismrm.org/ISMRMRD)
 *   data              acquisitions, loop order slice > phase > line
 *   ground_truth      NDArray float, dims [RO, E1, phases, slices] (RO fastest;
 *                     h5py shows (1, slices, phases, E1, RO); libismrmrd's
 *                     ismrmrd_read_array gives ndim 5 with dims[4] = 1, the
 *                     append index): noise-free,
 *                     fully sampled root-sum-of-squares of the coil images
 *                     at recon size (oversampling removed)
 *   coil_maps         NDArray complex float, dims [RO, E1, coils, slices]:
 *                     the true sensitivities at recon size
 *   noise_covariance  NDArray complex float, dims [coils, coils]: the true
 *                     per-sample covariance E[n n^H] = 2 sigma^2 L L^H
 * The output file is replaced if it exists. The optional noise scan is a
 * separate file with its own header (measurementID with number meas_id - 1)
 * and noise readouts flagged IS_NOISE_MEASUREMENT (19).
 *
 * Sampling along E1 (e1 in [0, E1), line E1/2 is the k-space centre):
 *   interleaved  phase p acquires e1 with e1 % R == p % R (TPAT real-time
 *                cine; header calibrationMode "interleaved",
 *                interleavingDimension "phase"); no calibration flags
 *   embedded     e1 % R == (E1/2) % R, plus acs centre lines
 *                [E1/2 - acs/2, E1/2 - acs/2 + acs); ACS lines that are also
 *                imaging lines carry flag 21, others flag 20; per phase
 *   separate     imaging lines as embedded, without flags; before the
 *                phases of each slice the acs centre lines of phase 0 are
 *                sent flagged 20
 * With R == 1 every line is an imaging line.
 *
 * Everything is a pure function of the options: same options and seed give
 * byte-identical data whatever the thread count. Thread safe (no globals). */
#ifndef GT_SIM_H
#define GT_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "gt/mrd.h"

typedef enum gt_sim_calib {
    GT_SIM_CALIB_INTERLEAVED = 0,
    GT_SIM_CALIB_EMBEDDED = 1,
    GT_SIM_CALIB_SEPARATE = 2,
} gt_sim_calib;

typedef struct gt_sim_opts {
    const char *output;      /* HDF5 file to (re)create; required for gt_sim_run */
    const char *group;       /* dataset group, default "/dataset" */
    const char *noise_scan;  /* separate noise dataset file, or NULL */
    int ro, e1;              /* recon matrix (default 192 x 192) */
    int os;                  /* readout oversampling 1..4 (default 2) */
    double fov_mm;           /* readout FOV of the recon space (default 360);
                                phase FOV = fov_mm * e1 / ro (square pixels) */
    double slice_mm;         /* slice thickness (default 8) */
    double gap_mm;           /* gap between slices (default 2) */
    int coils;               /* 1..1024 (default 8) */
    int slices;              /* default 4 */
    int phases;              /* cardiac phases, default 10 */
    int accel;               /* R along E1, 1..e1 (default 1) */
    gt_sim_calib calib;      /* default interleaved */
    int acs;                 /* ACS lines for embedded/separate (default 24) */
    double noise_std;        /* per real/imag part, k-space units (default 0.02;
                                the phantom's image intensity is <= ~1) */
    int correlated;          /* non-zero: fixed channel mixing (default 1) */
    int noise_scan_readouts; /* readouts in the noise scan (default 256) */
    int noise_in_scan;       /* noise readouts at the start of the scan (0) */
    uint64_t seed;           /* default 1 */
    int meas_id;             /* last field of measurementID (default 1124) */
    double tr_ms;            /* time between readouts (default 2.5) */
    double rr_ms;            /* cardiac cycle (default 1000) */
    const char *patient_id;  /* subjectInformation/patientID, or NULL to omit */
    int threads;             /* worker threads, 0 = online cores (max 16) */
} gt_sim_opts;

typedef struct gt_sim_stats {
    uint64_t readouts;       /* acquisitions in the main dataset */
    uint64_t noise_readouts; /* of which noise (plus those in the noise scan) */
    uint64_t bytes;          /* size of the output file */
    double seconds;          /* wall time of gt_sim_run */
} gt_sim_stats;

/* Fills the defaults listed above (output NULL). */
void gt_sim_opts_default(gt_sim_opts *o);

/* Checks every option; GT_EINVAL with a detail naming the option. */
int gt_sim_opts_check(const gt_sim_opts *o);

/* Parses "interleaved" | "embedded" | "separate". GT_EINVAL otherwise. */
int gt_sim_calib_parse(const char *s, gt_sim_calib *out);
const char *gt_sim_calib_name(gt_sim_calib c);

/* The measurementID string of the scan (noise != 0: of its noise scan), e.g.
 * "45188_118364457_118364462_1124". Writes at most n bytes. */
void gt_sim_measurement_id(const gt_sim_opts *o, int noise, char *buf, size_t n);

/* ISMRMRD header XML of the scan (noise != 0: of the noise scan). *xml is
 * malloc'd and NUL terminated; caller frees. GT_EINVAL for bad options,
 * GT_ENOMEM, GT_EXML. */
int gt_sim_header_xml(const gt_sim_opts *o, int noise, char **xml);

/* Line kinds of gt_sim_line(): bit mask. */
enum {
    GT_SIM_LINE_IMAGING = 1, /* an imaging (data) readout */
    GT_SIM_LINE_ACS = 2,     /* a calibration readout (flag 20 or 21) */
};
/* What the scan acquires for line e1 in the imaging block of `phase`
 * (0 = not acquired). Separate-mode ACS lines are not part of the imaging
 * block: see gt_sim_separate_acs(). */
int gt_sim_line(const gt_sim_opts *o, int phase, int e1);
/* 1 if e1 is one of the ACS lines in separate mode, else 0. */
int gt_sim_separate_acs(const gt_sim_opts *o, int e1);

/* Phantom of (slice, phase) on the oversampled grid, img[x + y * ro*os],
 * x in [0, ro*os), y in [0, e1); zero outside the central ro columns. */
int gt_sim_phantom(const gt_sim_opts *o, int slice, int phase, gt_cf *img);

/* Coil sensitivities of a slice on the oversampled grid,
 * maps[x + y * ro*os + c * ro*os*e1]. */
int gt_sim_coil_maps(const gt_sim_opts *o, int slice, gt_cf *maps);

/* Channel-mixing matrix L (column-major, L[i + j * coils]); identity when
 * o->correlated == 0. */
void gt_sim_noise_mixing(const gt_sim_opts *o, gt_cf *L);

/* Writes the scan (and the noise scan when o->noise_scan is set). st may be
 * NULL. GT_EINVAL (options), GT_EIO (HDF5/file errors), GT_ENOMEM. */
int gt_sim_run(const gt_sim_opts *o, gt_sim_stats *st);

/* ---- deterministic PRNG (xoshiro256** seeded by splitmix64) ---- */
typedef struct gt_sim_rng {
    uint64_t s[4];
} gt_sim_rng;

/* Independent stream `stream` of generator `seed`. */
void gt_sim_rng_seed(gt_sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t gt_sim_rng_next(gt_sim_rng *r);
/* Uniform in [0, 1). */
double gt_sim_rng_uniform(gt_sim_rng *r);
/* n standard normal floats (Box-Muller). */
void gt_sim_rng_gauss(gt_sim_rng *r, float *out, size_t n);

#endif
