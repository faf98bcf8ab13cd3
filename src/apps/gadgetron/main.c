/* gadgetron — the reconstruction server (protocol.md §6.1 for the options
 * shared with Gadgetron 4).
 *
 * Home resolution without -G: $GADGETRON_HOME, else the install layout
 * <exe>/../share/gadgetron/config, else the source tree's configs/ (running
 * from a build tree). Configs live in <home>/share/gadgetron/config unless
 * --config-dir says otherwise. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/server.h"
#include "gt/session.h"

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
            "      --log-level LEVEL    error, warn, info (default) or debug;\n"
            "                           also $GADGETRON_LOG_LEVEL\n"
            "\n"
            "Accepted for compatibility and ignored: -d/--disable_storage, -E/--storage_address,\n"
            "-s/--storage_port, -D/--database_dir, -S/--storage_dir.\n");
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

static int write_port_file(const char *path, int port)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%d\n", port) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
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
};

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
        {NULL, 0, NULL, 0},
    };
    long port = 9002, timeout_s = 60, max_output_mb = 64, queue_cap = 0;
    const char *home_flag = NULL, *workdir = "/tmp/gadgetron", *port_file = NULL;
    const char *config_dir_flag = NULL, *bind = NULL;
    int info = 0, level;

    const char *env_level = getenv("GADGETRON_LOG_LEVEL");
    if (env_level && *env_level) {
        if (gt_log_parse_level(env_level, &level) == 0)
            gt_log_set_level(level);
        else
            fprintf(stderr, "gadgetron: ignoring GADGETRON_LOG_LEVEL: %s\n", gt_err_detail());
    }

    int ch;
    while ((ch = getopt_long(argc, argv, "hp:G:W:d:E:s:D:S:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            usage(stdout);
            return 0;
        case OPT_INFO:
            info = 1;
            break;
        case 'p':
            if (parse_int(optarg, 0, 65535, &port) != 0) {
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
            if (parse_int(optarg, 1, 86400, &timeout_s) != 0) {
                fprintf(stderr, "gadgetron: invalid read timeout '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_MAX_OUTPUT:
            if (parse_int(optarg, 1, 1 << 20, &max_output_mb) != 0) {
                fprintf(stderr, "gadgetron: invalid --max-output-mb '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_QUEUE_CAP:
            if (parse_int(optarg, 1, 1 << 20, &queue_cap) != 0) {
                fprintf(stderr, "gadgetron: invalid --queue-capacity '%s'\n", optarg);
                return 2;
            }
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
    if (!config_dir)
        goto done;
    if (!is_dir(config_dir))
        gt_log(GT_LOG_WARN, "config folder %s does not exist", config_dir);
    if (mkdir_p(workdir) != 0) {
        gt_log(GT_LOG_ERROR, "cannot create working folder %s: %s", workdir, strerror(errno));
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
    if (port_file && write_port_file(port_file, gt_server_port(srv)) != 0) {
        gt_log(GT_LOG_ERROR, "cannot write port file %s: %s", port_file, strerror(errno));
        goto done;
    }
    gt_log(GT_LOG_INFO, "gadgetron-c %s listening on %s:%d, configs in %s, working folder %s",
           GT_VERSION, gt_server_address(srv), gt_server_port(srv), config_dir, workdir);
    int forced = 0;
    gt_server_run(srv, &forced);
    if (forced) {
        /* Pipelines may still be running: leave without touching them. */
        fflush(NULL);
        _exit(1);
    }
    gt_log(GT_LOG_INFO, "all connections finished; exiting");
    rc = 0;
done:
    gt_server_destroy(srv);
    free(home);
    free(config_dir);
    return rc;
}
