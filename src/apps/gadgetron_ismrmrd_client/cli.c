/* cli.c — the command line of gadgetron_ismrmrd_client: Gadgetron's flag
 * letters, long names and defaults (protocol.md §1.13). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "gt/err.h"

static const char usage_text[] =
    "Usage: " CLIENT_NAME " [options]\n"
    "Sends an ISMRMRD dataset to a Gadgetron server and stores the images it returns.\n"
    "\n"
    "Allowed options:\n"
    "  -h [ --help ]                      Produce help message\n"
    "  -q [ --query ]                     Dependency query mode (no input file)\n"
    "  -v [ --verbose ]                   Verbose mode\n"
    "  -Q [ --info ] arg                  Query Gadgetron information (e.g. gadgetron::info)\n"
    "  -p [ --port ] arg (=9002)          Port\n"
    "  -a [ --address ] arg (=localhost)  Address (hostname) of Gadgetron host\n"
    "  -f [ --filename ] arg              Input file\n"
    "  -o [ --outfile ] arg (=out.h5)     Output file\n"
    "  -g [ --in-group ] arg (=/dataset)  Input data group\n"
    "  -G [ --out-group ] arg (=<time>)   Output group name (default: local time)\n"
    "  -c [ --config ] arg (=default.xml) Configuration file (remote)\n"
    "  -C [ --config-local ] arg          Configuration file (local)\n"
    "  -l [ --loops ] arg (=1)            Loops (each a separate session)\n"
    "  -t [ --timeout ] arg (=10000)      Connection timeout in ms\n"
    "  -F [ --outformat ] arg (=h5)       Output format: h5 (hdr is not supported)\n"
    "  -P [ --precision ] arg (=0)        Compression precision bits (not supported)\n"
    "  -T [ --tolerance ] arg (=0)        Compression tolerance (not supported)\n"
    "  -Z [ --ZFP ]                       Use ZFP compression (not supported)\n";

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"query", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"info", required_argument, NULL, 'Q'},
    {"port", required_argument, NULL, 'p'},
    {"address", required_argument, NULL, 'a'},
    {"filename", required_argument, NULL, 'f'},
    {"outfile", required_argument, NULL, 'o'},
    {"in-group", required_argument, NULL, 'g'},
    {"out-group", required_argument, NULL, 'G'},
    {"config", required_argument, NULL, 'c'},
    {"config-local", required_argument, NULL, 'C'},
    {"loops", required_argument, NULL, 'l'},
    {"timeout", required_argument, NULL, 't'},
    {"outformat", required_argument, NULL, 'F'},
    {"precision", required_argument, NULL, 'P'},
    {"tolerance", required_argument, NULL, 'T'},
    {"ZFP", no_argument, NULL, 'Z'},
    {NULL, 0, NULL, 0},
};

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, CLIENT_NAME ": %s: %s\n", kind, msg);
    fflush(stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("error", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning", fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s", msg);
    fprintf(stderr, "Try '" CLIENT_NAME " --help'.\n");
    return GT_EINVAL;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return GT_EINVAL;
    *out = v;
    return 0;
}

static int parse_nonzero_number(const char *s, int *nonzero)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return GT_EINVAL;
    *nonzero = v != 0.0;
    return 0;
}

static void default_group(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, n, "out");
}

int cli_parse(int argc, char **argv, client_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = "9002";
    o->address = "localhost";
    o->outfile = "out.h5";
    o->in_group = "/dataset";
    o->config = "default.xml";
    o->loops = 1;
    o->timeout_ms = 10000;
    const char *outformat = "h5";
    int compression = 0;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hqvQ:p:a:f:o:g:G:c:C:l:t:F:P:T:Z", long_opts, NULL)) !=
           -1) {
        int nz = 0;
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        case 'q':
            o->query = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'Q':
            o->info = optarg;
            break;
        case 'p':
            o->port = optarg;
            break;
        case 'a':
            o->address = optarg;
            break;
        case 'f':
            o->filename = optarg;
            break;
        case 'o':
            o->outfile = optarg;
            break;
        case 'g':
            o->in_group = optarg;
            break;
        case 'G':
            o->out_group_arg = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'C':
            o->config_local = optarg;
            break;
        case 'l':
            if (parse_long(optarg, 1, 1000000, &o->loops))
                return bad("invalid --loops value '%s' (expected an integer >= 1)", optarg);
            break;
        case 't':
            if (parse_long(optarg, 1, 86400000, &o->timeout_ms))
                return bad("invalid --timeout value '%s' (expected milliseconds >= 1)", optarg);
            break;
        case 'F':
            outformat = optarg;
            break;
        case 'P':
        case 'T':
            if (parse_nonzero_number(optarg, &nz))
                return bad("invalid compression value '%s'", optarg);
            compression |= nz;
            break;
        case 'Z':
            compression = 1;
            break;
        case ':': {
            char opt[3] = {'-', (char)optopt, 0};
            return bad("option %s requires an argument", optopt ? opt : argv[optind - 1]);
        }
        default: {
            char opt[3] = {'-', (char)optopt, 0};
            return bad("unknown option %s", optopt ? opt : argv[optind - 1]);
        }
        }
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (compression) {
        cli_error("compression is not supported (-P/-T/-Z); send the data uncompressed");
        return GT_EUNSUPPORTED;
    }
    if (strcmp(outformat, "h5") != 0) {
        cli_error("output format '%s' is not supported (only h5)", outformat);
        return GT_EUNSUPPORTED;
    }
    if (!o->query && !o->info && !o->filename)
        return bad("%s", "no input file: give -f FILE (or -q / -Q for queries)");
    if (!*o->in_group || !*o->outfile || !*o->port || !*o->address)
        return bad("%s", "empty -g, -o, -p or -a value");
    if (o->out_group_arg) {
        if (!*o->out_group_arg || strlen(o->out_group_arg) >= sizeof o->out_group)
            return bad("invalid --out-group '%s'", o->out_group_arg);
        snprintf(o->out_group, sizeof o->out_group, "%s", o->out_group_arg);
    } else {
        default_group(o->out_group, sizeof o->out_group);
    }
    return CLI_RUN;
}
