/* fuzz_config.c — libFuzzer harness: gt_config_parse on arbitrary bytes;
 * a parsed config is serialized with gt_config_serialize_v2 (main stream),
 * the result must parse again, and serializing that must give the same
 * text (serialize is a fixed point after one round). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/config.h"
#include "gt/err.h"

static int ser(const gt_config *c, char **xml, size_t *len)
{
    return gt_config_serialize_v2(c->readers, c->nreaders, c->writers, c->nwriters, &c->stream, xml,
                                  len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gt_config *c = NULL;
    int rc = gt_config_parse((const char *)data, size, &c);
    if (rc < 0) {
        if (c || (rc != GT_EXML && rc != GT_ECONFIG && rc != GT_ETOOBIG && rc != GT_ENOMEM))
            abort();
        return 0;
    }
    char *x1 = NULL, *x2 = NULL;
    size_t n1 = 0, n2 = 0;
    gt_config *c2 = NULL;
    if (ser(c, &x1, &n1) < 0 || strlen(x1) != n1)
        abort();
    if (gt_config_parse(x1, n1, &c2) < 0)
        abort();
    if (ser(c2, &x2, &n2) < 0)
        abort();
    if (n1 != n2 || memcmp(x1, x2, n1) != 0)
        abort();
    free(x1);
    free(x2);
    gt_config_destroy(c2);
    gt_config_destroy(c);
    return 0;
}
