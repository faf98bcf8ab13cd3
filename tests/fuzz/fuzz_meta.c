/* fuzz_meta.c — libFuzzer harness: gt_meta_parse on arbitrary bytes; a
 * parsed container is serialized, parsed again, and must hold the same names
 * and values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gt_meta *m = NULL, *m2 = NULL;
    int rc = gt_meta_parse((const char *)data, size, &m);
    if (rc < 0) {
        if (m)
            abort();
        return 0;
    }
    char *x = NULL;
    size_t n = 0;
    if (gt_meta_serialize(m, &x, &n) < 0)
        abort();
    if (gt_meta_parse(x, n, &m2) < 0)
        abort();
    if (gt_meta_count(m) != gt_meta_count(m2))
        abort();
    for (size_t i = 0; i < gt_meta_count(m); i++) {
        const char *name = gt_meta_name_at(m, i);
        size_t k = gt_meta_len(m, name);
        if (k != gt_meta_len(m2, name))
            abort();
        for (size_t j = 0; j < k; j++)
            if (strcmp(gt_meta_str(m, name, j), gt_meta_str(m2, name, j)) != 0)
                abort();
    }
    gt_meta *c = NULL;
    if (gt_meta_clone(m, &c) < 0)
        abort();
    gt_meta_destroy(c);
    free(x);
    gt_meta_destroy(m2);
    gt_meta_destroy(m);
    return 0;
}
