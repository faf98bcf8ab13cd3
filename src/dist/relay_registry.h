/* The relay's worker registry (private to src/dist). Thread safe: every
 * function takes the registry's mutex. Times are CLOCK_MONOTONIC ms. */
#ifndef GT_RELAY_REGISTRY_H
#define GT_RELAY_REGISTRY_H

#include "gt/discovery.h"

#include <pthread.h>
#include <stddef.h>

#define GT_RELAY_ADDR_MAX (GT_WORKER_HOST_MAX + 16) /* "[host]:65535" */

typedef struct relay_entry {
    char address[GT_RELAY_ADDR_MAX];
    long long last_ms;
    long long load;
} relay_entry;

typedef struct relay_registry {
    pthread_mutex_t mu;
    relay_entry *items;
    size_t count, cap, max;
    long long expiry_ms;
} relay_registry;

void relay_registry_init(relay_registry *r, long long expiry_ms, size_t max);
void relay_registry_fini(relay_registry *r);
/* Adds or refreshes address. GT_ETOOBIG when full, GT_ENOMEM. */
int relay_registry_add(relay_registry *r, const char *address, long long load, long long now);
/* GT_ENOTFOUND when absent. */
int relay_registry_remove(relay_registry *r, const char *address);
/* Prunes expired entries and returns the number left. */
size_t relay_registry_live(relay_registry *r, long long now);
/* Prunes, then serialises: JSON array of addresses / status object.
 * malloc'd string, NULL when out of memory. */
char *relay_registry_list_json(relay_registry *r, long long now);
char *relay_registry_status_json(relay_registry *r, long long now);

#endif
