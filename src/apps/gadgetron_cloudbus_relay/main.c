/* gadgetron_cloudbus_relay — the worker registry of dchansen/gadgetron_cloudbus
 * (protocol.md §4) as a small HTTP server: workers POST /cloudbus/add_worker,
 * main nodes GET /cloudbus/workers (or use it as their discovery source). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/cli.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/relay.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: gadgetron_cloudbus_relay [options]\n"
               "Registry of live Gadgetron workers over HTTP (cloudbus relay).\n"
               "\n"
               "  -h, --help             show this help and exit\n"
               "  -p, --port PORT        TCP port (default 5000; 0 = any free port)\n"
               "      --bind ADDR        listen address (default: all interfaces)\n"
               "      --expiry SECONDS   forget workers unheard for this long (default 300)\n"
               "      --port-file PATH   write the bound port to PATH once listening\n"
               "      --log-level LEVEL  error, warn, info (default) or debug\n"
               "\n"
               "Endpoints: POST /cloudbus/add_worker {\"port\": \"9002\"}, POST\n"
               "/cloudbus/remove_worker, GET /cloudbus/workers, GET /cloudbus/status, GET /info.\n"
               "Main nodes: gadgetron -r HOST[:PORT], or\n"
               "GADGETRON_REMOTE_WORKER_COMMAND=\"curl -s HOST:PORT/cloudbus/workers\".\n");
}

enum { OPT_BIND = 256, OPT_EXPIRY, OPT_PORT_FILE, OPT_LOG_LEVEL };

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, OPT_BIND},
        {"expiry", required_argument, NULL, OPT_EXPIRY},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {NULL, 0, NULL, 0},
    };
    long port = 5000, expiry = GT_RELAY_DEFAULT_EXPIRY_S;
    const char *bind = NULL, *port_file = NULL;
    int ch, level;
    while ((ch = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            usage(stdout);
            return 0;
        case 'p':
            if (gt_cli_parse_long(optarg, 0, 65535, &port) != 0) {
                fprintf(stderr, "gadgetron_cloudbus_relay: bad port '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_BIND:
            bind = optarg;
            break;
        case OPT_EXPIRY:
            if (gt_cli_parse_long(optarg, 1, 7 * 24 * 3600, &expiry) != 0) {
                fprintf(stderr, "gadgetron_cloudbus_relay: bad expiry '%s' (seconds)\n", optarg);
                return 2;
            }
            break;
        case OPT_PORT_FILE:
            port_file = optarg;
            break;
        case OPT_LOG_LEVEL:
            if (gt_log_parse_level(optarg, &level) != 0) {
                fprintf(stderr, "gadgetron_cloudbus_relay: %s\n", gt_err_detail());
                return 2;
            }
            gt_log_set_level(level);
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gadgetron_cloudbus_relay: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    /* Block the stop signals before the server threads start, so that they
     * inherit the mask and only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    gt_relay_server_opts o = {.bind_addr = bind, .port = (int)port, .expiry_s = (double)expiry};
    gt_relay_server *s = NULL;
    if (gt_relay_server_create(&o, &s) != 0) {
        gt_log(GT_LOG_ERROR, "%s", gt_err_detail());
        return 1;
    }
    if (port_file && gt_cli_write_port_file(port_file, gt_relay_server_port(s)) != 0) {
        gt_log(GT_LOG_ERROR, "cannot write port file %s: %s", port_file, strerror(errno));
        gt_relay_server_destroy(s);
        return 1;
    }
    gt_log(GT_LOG_INFO, "cloudbus relay listening on %s port %d; workers expire after %ld s",
           bind ? bind : "all interfaces", gt_relay_server_port(s), expiry);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    gt_log(GT_LOG_INFO, "signal %d: stopping the relay", sig);
    gt_relay_server_destroy(s);
    return 0;
}
