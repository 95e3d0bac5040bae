/* fuzz_parse.c - libFuzzer target for the user-input parsers: sizes,
 * durations, numbers and endpoints, as typed on a command line. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_text.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *s = fuzz_text (data, size);
    if (!s)
        return 0;
    uint64_t v;
    uint32_t u;
    int32_t i;
    yard_error_t err;
    char buf[64];
    (void)yard_parse_size (s, &v, &err);
    if (yard_parse_duration (s, &v, &err) == 0)
        (void)yard_format_duration ((int64_t)(v > INT64_MAX / 1000 ? 0 : v * 1000),
                                    buf, sizeof buf);
    (void)yard_parse_u32 (s, &u);
    (void)yard_parse_i32 (s, &i);
    (void)yard_endpoint_is_local (s);
    (void)yard_endpoint_normalize (s, buf, sizeof buf);
    (void)yard_job_state_parse (s);
    free (s);
    return 0;
}
