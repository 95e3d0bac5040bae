/* cron.h - 5-field cron expressions: parse and next fire time.
 *
 *   minute hour day-of-month month day-of-week
 *   0-59   0-23 1-31         1-12  0-7 (0 and 7: Sunday)
 *
 * Each field is a comma list of `*`, `N`, `A-B`, each optionally followed
 * by `/STEP` (`*\/15`, `10-50/20`, `5/10` meaning 5-max/10).  As in Vixie
 * cron, when both day-of-month and day-of-week are restricted (neither is
 * `*`), a day matches if either matches.  The shortcuts @hourly, @daily,
 * @midnight, @weekly, @monthly and @yearly/@annually are accepted.
 * Times are UTC.
 */
#ifndef YARD_SCHED_CRON_H
#define YARD_SCHED_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct yard_cron {
    uint64_t minute;  /* bit m: minute m matches */
    uint32_t hour;
    uint32_t dom;     /* bits 1..31 */
    uint32_t month;   /* bits 1..12 */
    uint32_t dow;     /* bits 0..6 (7 folded into 0) */
    bool dom_any;     /* the field was `*` */
    bool dow_any;
} yard_cron_t;

/* Parse expr into *c.  0, or -EINVAL with err saying which field is wrong
 * (*c is then unspecified). */
int yard_cron_parse (const char *expr, yard_cron_t *c, yard_error_t *err);

/* The first minute (unix ms, a whole minute) strictly after after_ms that
 * c matches; -1 when none within the next 8 years (e.g. "0 0 30 2 *"). */
int64_t yard_cron_next (const yard_cron_t *c, int64_t after_ms);

/* Whether a schedule that last fired at last_ms (or was created then) is
 * due at now_ms: some matching minute lies in (last_ms, now_ms].  However
 * many such minutes there are, a due schedule fires once. */
bool yard_cron_due (const yard_cron_t *c, int64_t last_ms, int64_t now_ms);

#endif
