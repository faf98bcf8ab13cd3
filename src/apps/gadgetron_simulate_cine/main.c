/* gadgetron_simulate_cine — writes a deterministic multi-slice 2-D cine as an
 * ISMRMRD HDF5 dataset (see gt/sim.h for the model and the file layout). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/sim.h"

static void usage(FILE *f, const gt_sim_opts *d)
{
    fprintf(f,
            "Usage: gadgetron_simulate_cine -o FILE [options]\n"
            "Simulates a multi-slice 2-D cine (phantom x coil maps -> k-space + noise) and\n"
            "writes it as an ISMRMRD dataset with its ground truth beside it.\n\n"
            "  -o, --output FILE         output HDF5 file (replaced if it exists)\n"
            "  -g, --group PATH          dataset group (default %s)\n"
            "  -m, --matrix N            recon matrix N x N (default %d)\n"
            "      --ro N, --e1 N        readout / phase-encoding matrix separately\n"
            "      --os N                readout oversampling factor (default %d)\n"
            "      --fov MM              readout field of view in mm (default %g)\n"
            "      --slice-thickness MM  (default %g)   --slice-gap MM (default %g)\n"
            "  -c, --coils N             receiver channels (default %d)\n"
            "  -s, --slices N            slices (default %d)\n"
            "  -p, --phases N            cardiac phases (default %d)\n"
            "  -r, --accel R             acceleration along E1 (default %d)\n"
            "      --calib MODE          interleaved | embedded | separate (default %s)\n"
            "      --acs N               ACS lines for embedded/separate (default %d)\n"
            "  -n, --noise STD           noise std per real/imag part (default %g)\n"
            "      --white-noise         uncorrelated channels (default: fixed correlation)\n"
            "      --noise-scan FILE     also write a noise dependency scan to FILE\n"
            "      --noise-scan-readouts N  readouts in the noise scan (default %d)\n"
            "      --noise-in-scan N     N noise readouts at the start of the scan (default %d)\n"
            "      --seed N              random seed (default %llu)\n"
            "      --meas-id N           measurement number in measurementID (default %d)\n"
            "      --tr MS               time between readouts (default %g)\n"
            "      --rr MS               cardiac cycle length (default %g)\n"
            "      --patient-id ID       write subjectInformation/patientID\n"
            "  -t, --threads N           worker threads, 0 = all cores (default 0)\n"
            "  -q, --quiet               no summary line\n"
            "  -h, --help                this text\n",
            d->group, d->ro, d->os, d->fov_mm, d->slice_mm, d->gap_mm, d->coils, d->slices,
            d->phases, d->accel, gt_sim_calib_name(d->calib), d->acs, d->noise_std,
            d->noise_scan_readouts, d->noise_in_scan, (unsigned long long)d->seed, d->meas_id,
            d->tr_ms, d->rr_ms);
}

static int parse_int(const char *name, const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN || v > INT_MAX) {
        fprintf(stderr, "gadgetron_simulate_cine: %s: '%s' is not an integer\n", name, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_double(const char *name, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) {
        fprintf(stderr, "gadgetron_simulate_cine: %s: '%s' is not a number\n", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

enum {
    O_RO = 256,
    O_E1,
    O_OS,
    O_FOV,
    O_THICK,
    O_GAP,
    O_CALIB,
    O_ACS,
    O_WHITE,
    O_NSCAN,
    O_NSCAN_N,
    O_NIN,
    O_SEED,
    O_MEAS,
    O_TR,
    O_RR,
    O_PID,
};

int main(int argc, char **argv)
{
    gt_sim_opts o, def;
    gt_sim_stats st;
    int quiet = 0, rc = 0, matrix;
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'},
        {"group", required_argument, 0, 'g'},
        {"matrix", required_argument, 0, 'm'},
        {"ro", required_argument, 0, O_RO},
        {"e1", required_argument, 0, O_E1},
        {"os", required_argument, 0, O_OS},
        {"fov", required_argument, 0, O_FOV},
        {"slice-thickness", required_argument, 0, O_THICK},
        {"slice-gap", required_argument, 0, O_GAP},
        {"coils", required_argument, 0, 'c'},
        {"slices", required_argument, 0, 's'},
        {"phases", required_argument, 0, 'p'},
        {"accel", required_argument, 0, 'r'},
        {"calib", required_argument, 0, O_CALIB},
        {"acs", required_argument, 0, O_ACS},
        {"noise", required_argument, 0, 'n'},
        {"white-noise", no_argument, 0, O_WHITE},
        {"noise-scan", required_argument, 0, O_NSCAN},
        {"noise-scan-readouts", required_argument, 0, O_NSCAN_N},
        {"noise-in-scan", required_argument, 0, O_NIN},
        {"seed", required_argument, 0, O_SEED},
        {"meas-id", required_argument, 0, O_MEAS},
        {"tr", required_argument, 0, O_TR},
        {"rr", required_argument, 0, O_RR},
        {"patient-id", required_argument, 0, O_PID},
        {"threads", required_argument, 0, 't'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    gt_sim_opts_default(&o);
    def = o;
    for (;;) {
        int ch = getopt_long(argc, argv, "o:g:m:c:s:p:r:n:t:qh", longs, NULL);
        if (ch == -1)
            break;
        switch (ch) {
        case 'o':
            o.output = optarg;
            break;
        case 'g':
            o.group = optarg;
            break;
        case 'm':
            rc = parse_int("--matrix", optarg, &matrix);
            o.ro = o.e1 = matrix;
            break;
        case O_RO:
            rc = parse_int("--ro", optarg, &o.ro);
            break;
        case O_E1:
            rc = parse_int("--e1", optarg, &o.e1);
            break;
        case O_OS:
            rc = parse_int("--os", optarg, &o.os);
            break;
        case O_FOV:
            rc = parse_double("--fov", optarg, &o.fov_mm);
            break;
        case O_THICK:
            rc = parse_double("--slice-thickness", optarg, &o.slice_mm);
            break;
        case O_GAP:
            rc = parse_double("--slice-gap", optarg, &o.gap_mm);
            break;
        case 'c':
            rc = parse_int("--coils", optarg, &o.coils);
            break;
        case 's':
            rc = parse_int("--slices", optarg, &o.slices);
            break;
        case 'p':
            rc = parse_int("--phases", optarg, &o.phases);
            break;
        case 'r':
            rc = parse_int("--accel", optarg, &o.accel);
            break;
        case O_CALIB:
            if (gt_sim_calib_parse(optarg, &o.calib)) {
                fprintf(stderr, "gadgetron_simulate_cine: --calib: %s\n", gt_err_detail());
                rc = -1;
            }
            break;
        case O_ACS:
            rc = parse_int("--acs", optarg, &o.acs);
            break;
        case 'n':
            rc = parse_double("--noise", optarg, &o.noise_std);
            break;
        case O_WHITE:
            o.correlated = 0;
            break;
        case O_NSCAN:
            o.noise_scan = optarg;
            break;
        case O_NSCAN_N:
            rc = parse_int("--noise-scan-readouts", optarg, &o.noise_scan_readouts);
            break;
        case O_NIN:
            rc = parse_int("--noise-in-scan", optarg, &o.noise_in_scan);
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr,
                        "gadgetron_simulate_cine: --seed: '%s' is not an unsigned integer\n",
                        optarg);
                rc = -1;
            }
            o.seed = v;
            break;
        }
        case O_MEAS:
            rc = parse_int("--meas-id", optarg, &o.meas_id);
            break;
        case O_TR:
            rc = parse_double("--tr", optarg, &o.tr_ms);
            break;
        case O_RR:
            rc = parse_double("--rr", optarg, &o.rr_ms);
            break;
        case O_PID:
            o.patient_id = optarg;
            break;
        case 't':
            rc = parse_int("--threads", optarg, &o.threads);
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout, &def);
            return 0;
        default:
            usage(stderr, &def);
            return 2;
        }
        if (rc)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "gadgetron_simulate_cine: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o.output) {
        fprintf(stderr, "gadgetron_simulate_cine: an output file is required (-o FILE)\n");
        usage(stderr, &def);
        return 2;
    }
    if (gt_sim_opts_check(&o)) {
        fprintf(stderr, "gadgetron_simulate_cine: %s\n", gt_err_detail());
        return 2;
    }
    rc = gt_sim_run(&o, &st);
    if (rc) {
        fprintf(stderr, "gadgetron_simulate_cine: %s\n", gt_err_detail());
        return 1;
    }
    if (!quiet)
        printf("%s:%s  %dx%d (os %d)  %d coils  %d slices  %d phases  R=%d %s  %llu readouts  %.1f "
               "MB  %.2f s\n",
               o.output, o.group, o.ro, o.e1, o.os, o.coils, o.slices, o.phases, o.accel,
               gt_sim_calib_name(o.calib), (unsigned long long)st.readouts, (double)st.bytes / 1e6,
               st.seconds);
    return 0;
}
