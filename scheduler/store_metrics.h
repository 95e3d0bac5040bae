/* store_metrics.h - job metrics in the state store (schema version 2).
 *
 *   metrics(job_id, attempt, seq, key, step, value, time_ms)
 *     primary key (job_id, attempt, seq, key): a resent line replaces
 *     itself, so resends are idempotent; index by (job_id, key, step,
 *     attempt) for the query order.
 *   metric_attempts(job_id, attempt, next_seq, malformed)
 *     the worker's lines [0, next_seq) of the attempt are held, and how
 *     many of them were malformed.
 *
 * A batch is stored only when it continues exactly what is held (first_seq
 * == next_seq held): a batch with a gap, or one that overlaps what is held,
 * is not stored and the answer (the held next_seq) makes the worker resend
 * from there.  So lines and malformed counts are each taken exactly once.
 *
 * Supersession.  A job that resumes from a checkpoint redoes steps: a point
 * of attempt A at step s is superseded when a later attempt B > A has any
 * point with step <= s (B restarted at or before s).
 */
#ifndef YARD_SCHED_STORE_METRICS_H
#define YARD_SCHED_STORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "yard.pb-c.h"

#define YARD_METRICS_KEY_MAX 256

/* One stored point, as read back.  key is borrowed for the callback. */
typedef struct yard_store_metric {
    uint32_t attempt;
    int64_t step;
    const char *key;
    double value;
    int64_t time_ms;
    bool superseded;
} yard_store_metric_t;

/* Non-zero stops the walk and is returned. */
typedef int (*yard_store_metric_f) (const yard_store_metric_t *m, void *arg);

/* Store the batch b (job and attempt already validated by the caller) in
 * the batch transaction.  Points with a seq outside [first_seq, next_seq),
 * an empty or over-long key, or a key that is not UTF-8 are skipped.
 * *held: the attempt's next_seq held after the call.  Returns 0 or a
 * negative errno (a write failed: the batch transaction is doomed). */
int yard_store_metrics_put (yard_store_t *st, const Yard__MetricsBatch *b,
                            uint64_t *held);

/* The attempt's held next_seq (0 when nothing is held). */
int yard_store_metrics_held (yard_store_t *st, uint64_t job_id,
                             uint32_t attempt, uint64_t *held);

/* Walk the job's points by key, step, attempt (key NULL or "": all keys),
 * superseded ones only when include_superseded, at most limit of them
 * (*truncated set when more were left).  *malformed: the job's malformed
 * lines, all attempts.  Returns 0, the callback's return, or a negative
 * errno. */
int yard_store_metrics_get (yard_store_t *st, uint64_t job_id,
                            const char *key, bool include_superseded,
                            uint64_t limit, yard_store_metric_f cb, void *arg,
                            bool *truncated, uint64_t *malformed);

#endif
