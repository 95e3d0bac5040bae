/* fuzz_metricline.c - libFuzzer target for the metrics line parser: what a
 * job writes on YARD_METRICS_FD is untrusted input to the worker. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metricline.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
point (int64_t step, const char *key, double value, void *arg)
{
    size_t *n = arg;
    (void)step;
    (void)value;
    if (!key || strlen (key) > METRICLINE_KEY_MAX)
        abort (); /* the parser promised to drop longer keys */
    (*n)++;
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int64_t last = 7;
    size_t n = 0;
    int rc = metricline_parse ((const char *)data, size, &last, point, &n);
    if (rc >= 0 && (size_t)rc != n)
        abort (); /* the count returned is the count delivered */
    return 0;
}
