/* Worker discovery: source precedence (command > relay > Tyger > none) and
 * the Tyger environment (microsoft/tyger distributed runs). */
#include "dist.h"

#include "gt/discovery.h"
#include "gt/err.h"
#include "gt/relay.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define ENV_COMMAND "GADGETRON_REMOTE_WORKER_COMMAND"
#define TYGER_PREFIX "TYGER_"
#define TYGER_SUFFIX "_WORKER_ENDPOINT_ADDRESSES"
#define TYGER_PREFERRED "TYGER_GADGETRON" TYGER_SUFFIX
#define TYGER_NODES "TYGER_WORKER_NODES"

const char *gt_discovery_source_name(enum gt_discovery_source s)
{
    switch (s) {
    case GT_DISCOVERY_COMMAND:
        return "command";
    case GT_DISCOVERY_RELAY:
        return "relay";
    case GT_DISCOVERY_TYGER:
        return "tyger";
    default:
        return "none";
    }
}

/* Name length of an endpoint-address variable "NAME=value" in environ, or 0. */
static size_t tyger_endpoint_var(const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t plen = strlen(TYGER_PREFIX), slen = strlen(TYGER_SUFFIX);
    if (!eq)
        return 0;
    size_t n = (size_t)(eq - entry);
    /* TYGER_<at least one char>_WORKER_ENDPOINT_ADDRESSES */
    if (n <= plen + slen || strncmp(entry, TYGER_PREFIX, plen) != 0 ||
        strncmp(eq - slen, TYGER_SUFFIX, slen) != 0)
        return 0;
    return n;
}

static int have_tyger_env(void)
{
    if (getenv(TYGER_NODES))
        return 1;
    for (char **e = environ; e && *e; e++)
        if (tyger_endpoint_var(*e))
            return 1;
    return 0;
}

static const char *command_of(const gt_discovery_opts *o)
{
    if (o->command)
        return o->command;
    if (o->ignore_env)
        return NULL;
    const char *c = getenv(ENV_COMMAND);
    return c && *c ? c : NULL;
}

enum gt_discovery_source gt_discovery_source_of(const gt_discovery_opts *opts)
{
    gt_discovery_opts none = {0};
    const gt_discovery_opts *o = opts ? opts : &none;
    if (command_of(o))
        return GT_DISCOVERY_COMMAND;
    if (o->relay && *o->relay)
        return GT_DISCOVERY_RELAY;
    if (!o->ignore_env && have_tyger_env())
        return GT_DISCOVERY_TYGER;
    return GT_DISCOVERY_NONE;
}

/* TYGER_WORKER_NODES: a JSON array of host names, combined with port. */
static int parse_tyger_nodes(const char *value, uint16_t port, gt_worker_list *out)
{
    json_error_t jerr;
    int rc = 0;
    json_t *root = json_loads(value, 0, &jerr);
    if (!root)
        return gt_err_set(GT_EPROTO, "not JSON (%s)", jerr.text);
    if (!json_is_array(root)) {
        rc = gt_err_set(GT_EPROTO, "expected a JSON array of host names");
        goto fail;
    }
    if (json_array_size(root) == 0) {
        rc = gt_err_set(GT_EDATA, "the worker list is empty");
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v)
    {
        const char *h = json_string_value(v);
        char entry[GT_WORKER_HOST_MAX + 16];
        gt_worker w;
        if (!h || strlen(h) != json_string_length(v)) {
            rc = gt_err_set(GT_EPROTO, "element %zu is not a host name string", i);
            goto fail;
        }
        int n =
            snprintf(entry, sizeof entry, strchr(h, ':') ? "[%s]:%u" : "%s:%u", h, (unsigned)port);
        if (n < 0 || (size_t)n >= sizeof entry) {
            rc = gt_err_set(GT_EPROTO, "element %zu: host name too long", i);
            goto fail;
        }
        if ((rc = gt_worker_parse(entry, &w)) != 0 || (rc = gt_worker_list_add(out, &w)) != 0)
            goto fail;
    }
fail:
    json_decref(root);
    return rc;
}

int gt_discovery_from_tyger_env(uint16_t default_port, gt_worker_list *out, char *warn,
                                size_t warnlen)
{
    char name[256] = "", second[256] = "";
    const char *value = NULL;
    int count = 0, rc;
    gt_worker_list_clear(out);
    gt_dist_warn(warn, warnlen, "%s", "");
    const char *pref = getenv(TYGER_PREFERRED);
    if (pref) {
        snprintf(name, sizeof name, "%s", TYGER_PREFERRED);
        value = pref;
    } else {
        for (char **e = environ; e && *e; e++) {
            size_t n = tyger_endpoint_var(*e);
            if (!n)
                continue;
            if (count++ == 0) {
                snprintf(name, sizeof name, "%.*s", (int)(n < 255 ? n : 255), *e);
                value = *e + n + 1;
            } else if (count == 2) {
                snprintf(second, sizeof second, "%.*s", (int)(n < 255 ? n : 255), *e);
            }
        }
        if (count > 1)
            return gt_dist_fail(GT_ECONFIG, warn, warnlen,
                                "%d Tyger worker endpoints (%s, %s, ...) and none is named "
                                "GADGETRON; cannot tell which one to use",
                                count, name, second);
    }
    if (value) {
        rc = gt_worker_list_parse_json(value, strlen(value), out);
        if (rc != 0) {
            char ex[160];
            gt_dist_excerpt(value, strlen(value), 120, ex, sizeof ex);
            rc = gt_dist_fail(rc, warn, warnlen, "failed to parse %s: %s; value: '%s'", name,
                              gt_err_detail(), ex);
            gt_worker_list_clear(out);
        }
        return rc;
    }
    const char *nodes = getenv(TYGER_NODES);
    if (!nodes)
        return gt_dist_fail(GT_ENOTFOUND, warn, warnlen, "no Tyger worker variables are set");
    uint16_t port = default_port ? default_port : GT_DISCOVERY_DEFAULT_WORKER_PORT;
    if ((rc = parse_tyger_nodes(nodes, port, out)) != 0) {
        char ex[160];
        gt_dist_excerpt(nodes, strlen(nodes), 120, ex, sizeof ex);
        rc = gt_dist_fail(rc, warn, warnlen, "failed to parse %s: %s; value: '%s'", TYGER_NODES,
                          gt_err_detail(), ex);
        gt_worker_list_clear(out);
    }
    return rc;
}

int gt_discover(const gt_discovery_opts *opts, gt_worker_list *out, char *warn, size_t warnlen)
{
    gt_discovery_opts none = {0};
    const gt_discovery_opts *o = opts ? opts : &none;
    int rc;
    gt_worker_list_clear(out);
    gt_dist_warn(warn, warnlen, "%s", "");
    switch (gt_discovery_source_of(o)) {
    case GT_DISCOVERY_COMMAND:
        return gt_discovery_from_command(command_of(o), o->timeout_ms, o->max_output, out, warn,
                                         warnlen);
    case GT_DISCOVERY_RELAY:
        rc = gt_relay_fetch_workers(o->relay, o->relay_timeout_ms, out);
        if (rc != 0) {
            rc = gt_dist_fail(rc, warn, warnlen, "worker discovery through relay %s failed: %s",
                              o->relay, gt_err_detail());
            gt_worker_list_clear(out);
        }
        return rc;
    case GT_DISCOVERY_TYGER:
        return gt_discovery_from_tyger_env(o->default_port, out, warn, warnlen);
    default:
        return gt_dist_fail(GT_ENOTFOUND, warn, warnlen,
                            "no worker discovery configured (set " ENV_COMMAND
                            " or a relay address)");
    }
}
