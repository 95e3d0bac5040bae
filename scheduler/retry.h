/* retry.h - what becomes of a job whose attempt ended: the retry policy.
 *
 * Pure functions of the spec and the end of an attempt, so the policy is
 * tested without a scheduler (tests/unit/test_retry.c).  Two kinds of end
 * send a job back to the queue:
 *
 * - failures of the job itself (non-zero exit, a signal it did not get from
 *   us, could not start, out of memory): retried while retries_used <
 *   spec.retries, or always when the exit code is listed in
 *   spec.retry_exit_codes.  Each retry counts (retries_used + 1) and waits
 *   for a backoff that doubles at each retry;
 * - failures of the infrastructure (node lost, worker stopped, preempted)
 *   and a time limit with requeue_on_timeout: always requeued at once and
 *   never counted, as the job did nothing wrong.
 */
#ifndef YARD_SCHED_RETRY_H
#define YARD_SCHED_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "yard.pb-c.h"

#define YARD_RETRY_DEFAULT_BACKOFF_S 10
#define YARD_RETRY_MAX_BACKOFF_S 3600
#define YARD_RETRY_MAX_RETRIES 1000       /* spec.retries upper bound */
#define YARD_RETRY_MAX_EXIT_CODES 64      /* entries of retry_exit_codes */

typedef enum yard_retry_verdict {
    YARD_RETRY_NO = 0,    /* the end is final */
    YARD_RETRY_COUNTED,   /* a job failure with a retry left: back off */
    YARD_RETRY_FREE,      /* infrastructure or requeue: run again at once */
} yard_retry_verdict_t;

/* The backoff before retry number retries_used + 1, in milliseconds:
 * retry_backoff_s (default 10 s) * 2^retries_used, at most one hour. */
int64_t yard_retry_backoff_ms (const Yard__JobSpec *spec,
                               uint32_t retries_used);

/* True for the end reasons that are the job's own failure (they count
 * against its retries when retried). */
bool yard_retry_is_job_failure (Yard__EndReason why, int32_t exit_code);

/* True when exit_code is one of spec.retry_exit_codes. */
bool yard_retry_exit_listed (const Yard__JobSpec *spec, int32_t exit_code);

/* What to do with a job whose current attempt ended with why/exit_code,
 * after retries_used counted retries.  cancel_requested jobs are never
 * retried. */
yard_retry_verdict_t yard_retry_decide (const Yard__JobSpec *spec,
                                        uint32_t retries_used,
                                        bool cancel_requested,
                                        Yard__EndReason why,
                                        int32_t exit_code);

/* Check the retry and signal fields of a submitted spec: retries at most
 * YARD_RETRY_MAX_RETRIES, at most YARD_RETRY_MAX_EXIT_CODES listed codes
 * (each 1..255), signals 0 (default) or 1..64, warn_seconds only with a
 * warn_signal and a time limit longer than it.  0 or -EINVAL with err. */
int yard_retry_spec_check (const Yard__JobSpec *spec, yard_error_t *err);

#endif
