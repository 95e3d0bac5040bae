/* fuzz_metricline.c - libFuzzer target for the metrics line parser and its
 * checkpoint announcements: what a job writes on YARD_METRICS_FD is
 * untrusted input to the worker. */
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

    /* checkpoint announcements: an accepted entry is one plain name */
    struct metricline_ckpt ck;
    last = 7;
    rc = metricline_parse_ckpt ((const char *)data, size, &last, "/ck/1",
                                &ck, NULL, NULL);
    if (ck.found
        && (rc < 0 || !ck.entry[0] || strchr (ck.entry, '/')
            || strcmp (ck.entry, "..") == 0 || strcmp (ck.entry, ".") == 0))
        abort ();
    if (rc < 0 && last != 7)
        abort (); /* a refused line changes nothing */
    return 0;
}
