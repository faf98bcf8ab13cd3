/* gadgetron_h5_to_png — PNG previews of the images a client wrote to HDF5. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "gt/err.h"
#include "gt/png.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gadgetron_h5_to_png -f FILE [-g GROUP] [-o OUTDIR] [--series N] [--montage]\n"
            "Writes OUTDIR/image_<series>_slc<S>_phs<P>_<index>.png for every image in\n"
            "GROUP/image_<series> (8-bit, window 0..99.5th percentile; complex as magnitude).\n\n"
            "  -f, --file FILE     HDF5 file written by gadgetron_ismrmrd_client (required)\n"
            "  -g, --group NAME    output group (default: the most recent one in the file)\n"
            "  -o, --outdir DIR    output folder, created if missing (default .)\n"
            "  -s, --series N      only series N (default: all)\n"
            "  -m, --montage       also write image_<series>_montage.png (slices x phases)\n"
            "  -q, --quiet         no summary line\n"
            "  -h, --help          this text\n");
}

int main(int argc, char **argv)
{
    gt_png_export_opts o = {0};
    gt_png_export_stats st;
    int quiet = 0;
    static const struct option longs[] = {
        {"file", required_argument, 0, 'f'},   {"group", required_argument, 0, 'g'},
        {"outdir", required_argument, 0, 'o'}, {"series", required_argument, 0, 's'},
        {"montage", no_argument, 0, 'm'},      {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    o.series = -1;
    for (;;) {
        int ch = getopt_long(argc, argv, "f:g:o:s:mqh", longs, NULL);
        if (ch == -1)
            break;
        switch (ch) {
        case 'f':
            o.file = optarg;
            break;
        case 'g':
            o.group = optarg;
            break;
        case 'o':
            o.outdir = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0 || v > INT_MAX) {
                fprintf(stderr, "gadgetron_h5_to_png: --series: '%s' is not a series number\n",
                        optarg);
                return 2;
            }
            o.series = (int)v;
            break;
        }
        case 'm':
            o.montage = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gadgetron_h5_to_png: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o.file) {
        fprintf(stderr, "gadgetron_h5_to_png: an input file is required (-f FILE)\n");
        usage(stderr);
        return 2;
    }
    if (gt_png_export_h5(&o, &st)) {
        fprintf(stderr, "gadgetron_h5_to_png: %s\n", gt_err_detail());
        return 1;
    }
    if (!quiet)
        printf("%s:%s  %zu series  %zu images  %zu montages -> %s\n", o.file, st.group, st.series,
               st.images, st.montages, o.outdir ? o.outdir : ".");
    return 0;
}
