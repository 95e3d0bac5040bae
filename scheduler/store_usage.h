/* store_usage.h - the resource use of each attempt, in the state store.
 *
 *   attempt_usage(job_id, attempt, final, usage)
 *     usage: a packed Yard__ResourceUse.  The scheduler stores the final
 *     figures (JobFinished); a row that is not final may be replaced, a
 *     final one never is.
 *
 * It also answers for the latest metric values of an attempt (`yard
 * watch`), read from the metrics table (store_metrics.h).
 *
 * The table is created at open (CREATE TABLE IF NOT EXISTS): it needs no
 * schema version of its own.
 */
#ifndef YARD_SCHED_STORE_USAGE_H
#define YARD_SCHED_STORE_USAGE_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "yard.pb-c.h"

/* Create the table.  0 or -errno (err says why). */
int yard_store_usage_init (yard_store_t *st, yard_error_t *err);

/* Store u for the attempt (in the batch transaction).  A row already
 * final is kept.  0 or -errno. */
int yard_store_usage_put (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                          const Yard__ResourceUse *u);

/* The stored use of the attempt, unpacked into *out (free with
 * yard__resource_use__free_unpacked).  0, -ENOENT, or -errno. */
int yard_store_usage_get (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                          Yard__ResourceUse **out);

/* The latest point (highest seq) of each metric key of an attempt, by key,
 * at most limit keys: cb per point (its key borrowed for the call).
 * Returns 0, the callback's non-zero return, or -errno. */
typedef int (*yard_store_latest_f) (const char *key, int64_t step,
                                    double value, int64_t time_ms, void *arg);
int yard_store_metrics_latest (yard_store_t *st, uint64_t job_id,
                               uint32_t attempt, unsigned limit,
                               yard_store_latest_f cb, void *arg);

#endif
