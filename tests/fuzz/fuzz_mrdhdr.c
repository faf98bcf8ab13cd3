/* fuzz_mrdhdr.c — libFuzzer harness: gt_mrd_header_parse and
 * gt_mrd_coil_labels on arbitrary bytes (no crash, no leak, exact errors). */
#include <stdint.h>
#include <stdlib.h>

#include "gt/err.h"
#include "gt/mrdhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gt_mrd_header *h = NULL;
    int rc = gt_mrd_header_parse((const char *)data, size, &h);
    if (rc < 0 && h)
        abort();
    gt_mrd_header_destroy(h);
    char **labels = NULL;
    size_t n = 0;
    rc = gt_mrd_coil_labels((const char *)data, size, &labels, &n);
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            if (!labels[i])
                abort();
    gt_mrd_labels_free(labels, n);
    return 0;
}
