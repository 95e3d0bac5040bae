/* fuzz_conditions.c - libFuzzer target for the texts users write into
 * schedules and pipeline files: cron expressions (and the next fire time
 * of any that parses), model registration conditions and step conditions.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cron.h"
#include "fuzz_text.h"
#include "models.h"
#include "step_when.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *s = fuzz_text (data, size);
    if (!s)
        return 0;
    yard_error_t err;
    yard_cron_t c;
    if (yard_cron_parse (s, &c, &err) == 0) {
        int64_t t = yard_cron_next (&c, 1700000000000);
        (void)yard_cron_due (&c, 1700000000000, t < 0 ? 1800000000000 : t);
    }
    yard_model_when_t mw;
    char why[256];
    if (yard_model_when_parse (s, &mw, &err) == 0)
        (void)yard_model_when_holds (&mw, true, 0.5, true, 0.4, why,
                                     sizeof why);
    yard_step_when_t sw;
    if (yard_step_when_parse (s, &sw, &err) == 0)
        (void)yard_step_when_eval (&sw, true, 1.0, why, sizeof why);
    (void)yard_model_name_ok (s);
    free (s);
    return 0;
}
