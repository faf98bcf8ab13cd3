/* gadgetron — the reconstruction server (protocol.md §6.1 for the options
 * shared with Gadgetron 4), its stream mode (--from_stream, §1.12) and its
 * registration with a cloudbus relay (-r, §3.6/§4).
 *
 * Home resolution without -G: $GADGETRON_HOME, else the install layout
 * <exe>/../share/gadgetron/config, else the source tree's configs/ (running
 * from a build tree). Configs live in <home>/share/gadgetron/config unless
 * --config-dir says otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt/cli.h"
#include "gt/err.h"
#include "gt/gpu.h"
#include "gt/log.h"
#include "gt/relay.h"
#include "gt/server.h"
#include "gt/session.h"
#include "gt/stream_mode.h"

#ifndef GT_VERSION
#define GT_VERSION "0.0.0"
#endif

#define CONFIG_SUBDIR "share/gadgetron/config"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gadgetron [options]\n"
            "Gadgetron-compatible MRI reconstruction server (gadgetron-c " GT_VERSION ").\n"
            "\n"
            "  -h, --help               show this help and exit\n"
            "      --info               print system information and exit\n"
            "  -p, --port PORT          TCP port (default 9002; 0 = any free port)\n"
            "  -G, --home DIR           Gadgetron home (configs in DIR/" CONFIG_SUBDIR ")\n"
            "  -W, --dir DIR            working folder (default /tmp/gadgetron; created)\n"
            "      --config-dir DIR     folder of stream configs (overrides the home layout)\n"
            "      --bind ADDR          listen address (default: all, IPv6 dual-stack)\n"
            "      --port-file PATH     write the bound port to PATH once listening\n"
            "      --read-timeout SEC   drop a client silent for SEC seconds inside a\n"
            "                           message or before its config (default 60)\n"
            "      --max-output-mb N    encoded output a connection may queue before its\n"
            "                           reconstruction waits for the client (default 64)\n"
            "      --queue-capacity N   messages per pipeline queue (default: pipeline's)\n"
            "      --gpus all|none|LIST GPUs the CUDA backend may use: all (default), none,\n"
            "                           or ordinals like 0,2 (CUDA_VISIBLE_DEVICES applies\n"
            "                           first); without a usable GPU the CPU path runs\n"
            "      --log-level LEVEL    error, warn, info (default) or debug;\n"
            "                           also $GADGETRON_LOG_LEVEL\n"
            "\n"
            "Cloudbus relay (distributed reconstruction):\n"
            "  -r, --relay HOST[:PORT]  announce this server to the relay (default port %d;\n"
            "                           also $GADGETRON_RELAY_HOST); a relay that is down\n"
            "                           only gives warnings. A gateway started this way\n"
            "                           finds its workers through the same relay.\n"
            "  -l, --relay-port PORT    relay port when HOST has none (Gadgetron 3 flag)\n"
            "      --relay-interval SEC seconds between announcements (default %d)\n"
            "      --advertise HOST     address the relay should list for this server\n"
            "                           (default: the address the relay sees)\n"
            "\n"
            "Stream mode (one reconstruction, no socket; Tyger runs it with pipes):\n"
            "      --from_stream        read an ISMRMRD stream, write the results as a stream\n"
            "  -c, --config_name NAME   stream configuration (looked up like FILENAME)\n"
            "  -i, --input_path PATH    input stream (default stdin)\n"
            "  -o, --output_path PATH   output stream (default stdout)\n"
            "      --parameter KEY=VAL  passed to the gadgets (repeatable; e.g.\n"
            "                           noisecovariancein=FILE, noisecovarianceout=FILE)\n"
            "\n"
            "Accepted for compatibility and ignored: -d/--disable_storage, -E/--storage_address,\n"
            "-s/--storage_port, -D/--database_dir, -S/--storage_dir.\n",
            GT_RELAY_DEFAULT_PORT, GT_RELAY_DEFAULT_INTERVAL_S);
}

static int is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return -1;
    return is_dir(tmp) ? 0 : -1;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Fills *home and *config_dir (malloc'd) from the flag, environment, install
 * layout or source tree, in that order. */
static int resolve_home(const char *flag_home, char **home, char **config_dir)
{
    const char *env = getenv("GADGETRON_HOME");
    const char *h = flag_home ? flag_home : (env && *env ? env : NULL);
    if (h) {
        *home = strdup(h);
        *config_dir = join(h, CONFIG_SUBDIR);
        return *home && *config_dir ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char *up = join(exe, "..");
            char *cfg = up ? join(up, CONFIG_SUBDIR) : NULL;
            if (cfg && is_dir(cfg)) {
                char real[PATH_MAX];
                *home = strdup(realpath(up, real) ? real : up);
                free(up);
                *config_dir = cfg;
                return *home ? 0 : -1;
            }
            free(up);
            free(cfg);
        }
    }
    *home = strdup(gt_server_source_dir());
    *config_dir = join(gt_server_source_dir(), "configs");
    return *home && *config_dir ? 0 : -1;
}

enum {
    OPT_INFO = 256,
    OPT_LOG_LEVEL,
    OPT_PORT_FILE,
    OPT_CONFIG_DIR,
    OPT_BIND,
    OPT_READ_TIMEOUT,
    OPT_MAX_OUTPUT,
    OPT_QUEUE_CAP,
    OPT_IGNORED,
    OPT_FROM_STREAM,
    OPT_PARAMETER,
    OPT_RELAY_INTERVAL,
    OPT_ADVERTISE,
    OPT_GPUS,
};

#define MAX_PARAMS 64

typedef struct stream_args {
    int on;
    const char *config, *input, *output;
    const char *params[MAX_PARAMS];
    size_t nparams;
} stream_args;

/* --from_stream: opens the files (a FIFO blocks here until its other end
 * opens, as Tyger expects) and runs one reconstruction. Exit status 0 or 1. */
static int run_stream(const stream_args *a, const char *config_dir, const char *workdir,
                      const char *home, size_t queue_cap)
{
    int in = 0, out = 1, rc = 1;
    signal(SIGPIPE, SIG_IGN);
    if (a->input && strcmp(a->input, "-") != 0) {
        in = open(a->input, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            gt_log(GT_LOG_ERROR, "cannot open input %s: %s", a->input, strerror(errno));
            goto done;
        }
    }
    if (a->output && strcmp(a->output, "-") != 0) {
        out = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (out < 0) {
            gt_log(GT_LOG_ERROR, "cannot open output %s: %s", a->output, strerror(errno));
            goto done;
        }
    }
    gt_stream_mode_opts so = {
        .config_dir = config_dir,
        .config_name = a->config,
        .workdir = workdir,
        .home = home,
        .params = a->params,
        .nparams = a->nparams,
        .queue_capacity = queue_cap,
    };
    gt_stream_mode_stats st;
    if (gt_stream_mode_run(&so, in, out, &st) != 0) {
        gt_log(GT_LOG_ERROR, "stream mode failed: %s", gt_err_detail());
        goto done;
    }
    gt_log(GT_LOG_INFO, "stream mode done: %llu messages in, %llu out (%llu images)",
           (unsigned long long)st.in_messages, (unsigned long long)st.out_messages,
           (unsigned long long)st.out_images);
    rc = 0;
done:
    if (in > 2)
        close(in);
    if (out > 2 && close(out) != 0 && rc == 0) {
        gt_log(GT_LOG_ERROR, "cannot close output %s: %s", a->output, strerror(errno));
        rc = 1;
    }
    return rc;
}

/* Relay address from -r and -l: "HOST:PORT", where PORT is -l's or 5000
 * when HOST has none (a bare IPv6 literal counts as having none).
 * Malloc'd, or NULL. */
static char *relay_address(const char *host, long port)
{
    char *s = NULL;
    const char *colon = strrchr(host, ':');
    int has_port =
        colon && (host[0] == '[' ? colon > strchr(host, ']') : strchr(host, ':') == colon);
    if (has_port)
        return strdup(host);
    if (port <= 0)
        port = GT_RELAY_DEFAULT_PORT;
    int v6 = host[0] != '[' && strchr(host, ':') != NULL;
    if (asprintf(&s, v6 ? "[%s]:%ld" : "%s:%ld", host, port) < 0)
        return NULL;
    return s;
}

static int load_cb(void *user) { return (int)gt_server_active(user); }

/* The info text and the gadgetron::cuda::* queries report what the CUDA
 * module loader found. */
static int gpu_probe(gt_gpu_info *r)
{
    gt_gpu_info_get(r);
    return r->available ? 0 : GT_EDEVICE;
}

/* Loads the CUDA backend for `spec`; any failure is one warning and the CPU
 * path. Returns 0, or GT_EINVAL for a malformed spec. */
static int start_gpus(const char *spec)
{
    gt_gpu_info info;
    int rc = gt_gpu_init(spec, &info);
    if (rc == GT_EINVAL)
        return rc;
    gt_sysinfo_set_gpu_probe(gpu_probe);
    if (rc == 0 && info.available)
        gt_log(GT_LOG_INFO, "CUDA backend: %d device(s), first %s", info.device_count,
               info.devices[0].name);
    else if (strcmp(spec, "none") != 0)
        gt_log(GT_LOG_WARN, "%s", info.reason);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"info", no_argument, NULL, OPT_INFO},
        {"port", required_argument, NULL, 'p'},
        {"home", required_argument, NULL, 'G'},
        {"dir", required_argument, NULL, 'W'},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"config-dir", required_argument, NULL, OPT_CONFIG_DIR},
        {"bind", required_argument, NULL, OPT_BIND},
        {"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
        {"max-output-mb", required_argument, NULL, OPT_MAX_OUTPUT},
        {"queue-capacity", required_argument, NULL, OPT_QUEUE_CAP},
        {"disable_storage", required_argument, NULL, 'd'},
        {"storage_address", required_argument, NULL, 'E'},
        {"storage_port", required_argument, NULL, 's'},
        {"database_dir", required_argument, NULL, 'D'},
        {"storage_dir", required_argument, NULL, 'S'},
        {"from_stream", no_argument, NULL, OPT_FROM_STREAM},
        {"config_name", required_argument, NULL, 'c'},
        {"input_path", required_argument, NULL, 'i'},
        {"output_path", required_argument, NULL, 'o'},
        {"parameter", required_argument, NULL, OPT_PARAMETER},
        {"relay", required_argument, NULL, 'r'},
        {"relay-port", required_argument, NULL, 'l'},
        {"relay-interval", required_argument, NULL, OPT_RELAY_INTERVAL},
        {"advertise", required_argument, NULL, OPT_ADVERTISE},
        {"gpus", required_argument, NULL, OPT_GPUS},
        {NULL, 0, NULL, 0},
    };
    long port = 9002, timeout_s = 60, max_output_mb = 64, queue_cap = 0;
    const char *home_flag = NULL, *workdir = "/tmp/gadgetron", *port_file = NULL;
    const char *config_dir_flag = NULL, *bind = NULL;
    const char *relay_flag = NULL, *advertise = NULL, *gpus = "all";
    long relay_port = 0, relay_interval = GT_RELAY_DEFAULT_INTERVAL_S;
    stream_args sa = {0};
    int info = 0, level;

    const char *env_level = getenv("GADGETRON_LOG_LEVEL");
    if (env_level && *env_level) {
        if (gt_log_parse_level(env_level, &level) == 0)
            gt_log_set_level(level);
        else
            fprintf(stderr, "gadgetron: ignoring GADGETRON_LOG_LEVEL: %s\n", gt_err_detail());
    }

    int ch;
    while ((ch = getopt_long(argc, argv, "hp:G:W:d:E:s:D:S:c:i:o:r:l:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            usage(stdout);
            return 0;
        case OPT_INFO:
            info = 1;
            break;
        case 'p':
            if (gt_cli_parse_long(optarg, 0, 65535, &port) != 0) {
                fprintf(stderr, "gadgetron: invalid port '%s'\n", optarg);
                return 2;
            }
            break;
        case 'G':
            home_flag = optarg;
            break;
        case 'W':
            workdir = optarg;
            break;
        case OPT_LOG_LEVEL:
            if (gt_log_parse_level(optarg, &level) != 0) {
                fprintf(stderr, "gadgetron: %s\n", gt_err_detail());
                return 2;
            }
            gt_log_set_level(level);
            break;
        case OPT_PORT_FILE:
            port_file = optarg;
            break;
        case OPT_CONFIG_DIR:
            config_dir_flag = optarg;
            break;
        case OPT_BIND:
            bind = optarg;
            break;
        case OPT_READ_TIMEOUT:
            if (gt_cli_parse_long(optarg, 1, 86400, &timeout_s) != 0) {
                fprintf(stderr, "gadgetron: invalid read timeout '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_MAX_OUTPUT:
            if (gt_cli_parse_long(optarg, 1, 1 << 20, &max_output_mb) != 0) {
                fprintf(stderr, "gadgetron: invalid --max-output-mb '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_QUEUE_CAP:
            if (gt_cli_parse_long(optarg, 1, 1 << 20, &queue_cap) != 0) {
                fprintf(stderr, "gadgetron: invalid --queue-capacity '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_FROM_STREAM:
            sa.on = 1;
            break;
        case 'c':
            sa.config = optarg;
            break;
        case 'i':
            sa.input = optarg;
            break;
        case 'o':
            sa.output = optarg;
            break;
        case OPT_PARAMETER:
            if (gt_stream_mode_check_param(optarg) != 0) {
                fprintf(stderr, "gadgetron: %s\n", gt_err_detail());
                return 2;
            }
            if (sa.nparams == MAX_PARAMS) {
                fprintf(stderr, "gadgetron: more than %d --parameter options\n", MAX_PARAMS);
                return 2;
            }
            sa.params[sa.nparams++] = optarg;
            break;
        case 'r':
            relay_flag = optarg;
            break;
        case 'l':
            if (gt_cli_parse_long(optarg, 0, 65535, &relay_port) != 0) {
                fprintf(stderr, "gadgetron: invalid relay port '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_RELAY_INTERVAL:
            if (gt_cli_parse_long(optarg, 1, 86400, &relay_interval) != 0) {
                fprintf(stderr, "gadgetron: invalid --relay-interval '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_ADVERTISE:
            advertise = optarg;
            break;
        case OPT_GPUS:
            gpus = optarg;
            break;
        case 'd':
        case 'E':
        case 's':
        case 'D':
        case 'S':
            gt_log(GT_LOG_INFO, "ignoring storage option -%c %s (no storage server in gadgetron-c)",
                   ch, optarg);
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gadgetron: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    if (sa.nparams && !sa.on) {
        fprintf(stderr, "gadgetron: --parameter is only allowed with --from_stream\n");
        return 2;
    }
    if (sa.on && !sa.config) {
        fprintf(stderr, "gadgetron: --from_stream needs a configuration (-c NAME)\n");
        return 2;
    }
    if (!sa.on && (sa.config || sa.input || sa.output)) {
        fprintf(stderr, "gadgetron: -c, -i and -o are only allowed with --from_stream\n");
        return 2;
    }

    if (start_gpus(gpus) != 0) {
        fprintf(stderr, "gadgetron: invalid --gpus '%s': %s\n", gpus, gt_err_detail());
        return 2;
    }

    if (info) {
        char *text = NULL;
        if (gt_sysinfo_text(&text) != 0) {
            fprintf(stderr, "gadgetron: %s\n", gt_err_detail());
            return 1;
        }
        fputs(text, stdout);
        free(text);
        return 0;
    }

    char *home = NULL, *config_dir = NULL;
    if (resolve_home(home_flag, &home, &config_dir) != 0) {
        fprintf(stderr, "gadgetron: out of memory\n");
        return 1;
    }
    if (config_dir_flag) {
        free(config_dir);
        config_dir = strdup(config_dir_flag);
    }
    int rc = 1;
    gt_server *srv = NULL;
    gt_relay_client *relay = NULL;
    char *relay_addr = NULL;
    if (!config_dir)
        goto done;
    if (!is_dir(config_dir))
        gt_log(GT_LOG_WARN, "config folder %s does not exist", config_dir);
    if (mkdir_p(workdir) != 0) {
        gt_log(GT_LOG_ERROR, "cannot create working folder %s: %s", workdir, strerror(errno));
        goto done;
    }

    /* The relay: -r, else $GADGETRON_RELAY_HOST (docker nodes). Exported
     * (before any thread starts) so this server's own distributed configs
     * discover their workers through it. */
    const char *env_relay = getenv("GADGETRON_RELAY_HOST");
    const char *relay_host = relay_flag ? relay_flag : (env_relay && *env_relay ? env_relay : NULL);
    if (relay_host) {
        relay_addr = relay_address(relay_host, relay_port);
        if (!relay_addr) {
            gt_log(GT_LOG_ERROR, "out of memory");
            goto done;
        }
        gt_worker check;
        if (gt_worker_parse(relay_addr, &check) != 0) {
            if (relay_flag) {
                fprintf(stderr, "gadgetron: invalid relay address '%s': %s\n", relay_host,
                        gt_err_detail());
                rc = 2;
                goto done;
            }
            /* A bad environment only costs the relay, never the server. */
            gt_log(GT_LOG_WARN, "ignoring GADGETRON_RELAY_HOST '%s': %s", relay_host,
                   gt_err_detail());
            free(relay_addr);
            relay_addr = NULL;
            unsetenv("GADGETRON_RELAY_HOST");
        } else {
            setenv("GADGETRON_RELAY_HOST", relay_addr, 1);
        }
    }

    if (sa.on) {
        rc = run_stream(&sa, config_dir, workdir, home, (size_t)queue_cap);
        goto done;
    }

    gt_server_opts so = {
        .bind_addr = bind,
        .port = (int)port,
        .config_dir = config_dir,
        .workdir = workdir,
        .home = home,
        .read_timeout_ms = (unsigned)timeout_s * 1000u,
        .max_pending_out = (size_t)max_output_mb << 20,
        .queue_capacity = (size_t)queue_cap,
    };
    if (gt_server_create(&so, &srv) != 0) {
        gt_log(GT_LOG_ERROR, "%s", gt_err_detail());
        goto done;
    }
    if (port_file && gt_cli_write_port_file(port_file, gt_server_port(srv)) != 0) {
        gt_log(GT_LOG_ERROR, "cannot write port file %s: %s", port_file, strerror(errno));
        goto done;
    }
    gt_log(GT_LOG_INFO, "gadgetron-c %s listening on %s:%d, configs in %s, working folder %s",
           GT_VERSION, gt_server_address(srv), gt_server_port(srv), config_dir, workdir);
    if (relay_addr) {
        /* Lets this server's distributed configs leave themselves out of
         * the relay's list, which includes every registered server. */
        char self[16];
        snprintf(self, sizeof self, "%d", gt_server_port(srv));
        setenv("GADGETRON_SERVER_PORT", self, 1);
        if (advertise)
            setenv("GADGETRON_SERVER_HOST", advertise, 1);
        if (gt_relay_client_create(relay_addr, gt_server_port(srv), (int)relay_interval, advertise,
                                   load_cb, srv, &relay) != 0) {
            gt_log(GT_LOG_ERROR, "relay %s: %s", relay_addr, gt_err_detail());
            goto done;
        }
        gt_log(GT_LOG_INFO, "announcing this server to relay %s every %ld s", relay_addr,
               relay_interval);
    }
    int forced = 0;
    gt_server_run(srv, &forced);
    gt_relay_client_destroy(relay); /* leaves the relay's list */
    relay = NULL;
    if (forced) {
        /* Pipelines may still be running: leave without touching them. */
        fflush(NULL);
        _exit(1);
    }
    gt_log(GT_LOG_INFO, "all connections finished; exiting");
    rc = 0;
done:
    gt_relay_client_destroy(relay);
    gt_server_destroy(srv);
    gt_gpu_shutdown();
    free(relay_addr);
    free(home);
    free(config_dir);
    return rc;
}
