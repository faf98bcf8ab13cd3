/* The relay's table of workers: address -> last heard, load. Linear scans;
 * the table is bounded (GT_RELAY_MAX_WORKERS) and small in practice. */
#include "relay_registry.h"

#include "gt/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void relay_registry_init(relay_registry *r, long long expiry_ms, size_t max)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->expiry_ms = expiry_ms;
    r->max = max;
}

void relay_registry_fini(relay_registry *r)
{
    free(r->items);
    r->items = NULL;
    r->count = r->cap = 0;
    pthread_mutex_destroy(&r->mu);
}

static void prune_locked(relay_registry *r, long long now)
{
    size_t o = 0;
    for (size_t i = 0; i < r->count; i++)
        if (now - r->items[i].last_ms <= r->expiry_ms)
            r->items[o++] = r->items[i];
    r->count = o;
}

static relay_entry *find_locked(relay_registry *r, const char *address)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->items[i].address, address) == 0)
            return &r->items[i];
    return NULL;
}

int relay_registry_add(relay_registry *r, const char *address, long long load, long long now)
{
    int rc = 0;
    if (strlen(address) >= GT_RELAY_ADDR_MAX)
        return gt_err_set(GT_EINVAL, "worker address too long");
    pthread_mutex_lock(&r->mu);
    prune_locked(r, now);
    relay_entry *e = find_locked(r, address);
    if (!e) {
        if (r->count >= r->max) {
            rc = gt_err_set(GT_ETOOBIG, "the relay already knows %zu workers", r->count);
            goto out;
        }
        if (r->count == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 16;
            relay_entry *items = realloc(r->items, cap * sizeof *items);
            if (!items) {
                rc = gt_err_set(GT_ENOMEM, "out of memory");
                goto out;
            }
            r->items = items;
            r->cap = cap;
        }
        e = &r->items[r->count++];
        strcpy(e->address, address);
    }
    e->last_ms = now;
    e->load = load;
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int relay_registry_remove(relay_registry *r, const char *address)
{
    int rc = GT_ENOTFOUND;
    pthread_mutex_lock(&r->mu);
    relay_entry *e = find_locked(r, address);
    if (e) {
        *e = r->items[--r->count];
        rc = 0;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

size_t relay_registry_live(relay_registry *r, long long now)
{
    pthread_mutex_lock(&r->mu);
    prune_locked(r, now);
    size_t n = r->count;
    pthread_mutex_unlock(&r->mu);
    return n;
}

char *relay_registry_list_json(relay_registry *r, long long now)
{
    char *s = NULL;
    json_t *a = json_array();
    if (!a)
        return NULL;
    pthread_mutex_lock(&r->mu);
    prune_locked(r, now);
    for (size_t i = 0; i < r->count; i++)
        if (json_array_append_new(a, json_string(r->items[i].address)) != 0)
            goto out;
    s = json_dumps(a, JSON_COMPACT);
out:
    pthread_mutex_unlock(&r->mu);
    json_decref(a);
    return s;
}

char *relay_registry_status_json(relay_registry *r, long long now)
{
    char *s = NULL;
    json_t *o = json_object(), *a = json_array();
    if (!o || !a || json_object_set(o, "workers", a) != 0 ||
        json_object_set_new(o, "expiry_s",
                            r->expiry_ms % 1000 ? json_real((double)r->expiry_ms / 1000.0)
                                                : json_integer(r->expiry_ms / 1000)) != 0) {
        json_decref(a);
        json_decref(o);
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    prune_locked(r, now);
    for (size_t i = 0; i < r->count; i++) {
        json_t *w = json_pack("{s:s, s:f, s:I}", "address", r->items[i].address, "last_heard_s",
                              (double)(now - r->items[i].last_ms) / 1000.0, "load",
                              (json_int_t)r->items[i].load);
        if (!w || json_array_append_new(a, w) != 0)
            goto out;
    }
    s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
out:
    pthread_mutex_unlock(&r->mu);
    json_decref(a);
    json_decref(o);
    return s;
}
