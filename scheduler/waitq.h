/* waitq.h - pending jobs that may not run yet: retries waiting out their
 * backoff, ordered by the time they become eligible.
 *
 * A binary min-heap on job->eligible_ms (then id), with each job's position
 * in job->wait_idx, so the cron moves the due jobs into the pending heap in
 * O(k log n) and the dispatch pass never sees a job that may not run: a
 * thousand jobs backing off cost nothing per pass.
 *
 * The waitq never owns jobs.  yard_waitq_clear() does not touch them (it
 * may run while some of them are already freed, during a rollback): the
 * position a job keeps is recognised as stale because the heap slot it
 * names no longer holds it.
 */
#ifndef YARD_SCHED_WAITQ_H
#define YARD_SCHED_WAITQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"

typedef struct yard_waitq yard_waitq_t;

/* NULL with errno set. */
yard_waitq_t *yard_waitq_create (void);

/* Accepts NULL; NULLs the pointer.  The jobs are not freed. */
void yard_waitq_destroy (yard_waitq_t **wq);

/* Add job, ordered by job->eligible_ms.  0, -EEXIST or -ENOMEM. */
int yard_waitq_push (yard_waitq_t *wq, yard_job_t *job);

/* True when job is in the waitq. */
bool yard_waitq_has (const yard_waitq_t *wq, const yard_job_t *job);

/* Remove job.  0 or -ENOENT. */
int yard_waitq_remove (yard_waitq_t *wq, yard_job_t *job);

/* Remove and return the first job whose eligible_ms <= now, or NULL. */
yard_job_t *yard_waitq_pop_due (yard_waitq_t *wq, int64_t now);

/* Number of jobs waiting. */
size_t yard_waitq_count (const yard_waitq_t *wq);

/* The i-th job in heap order (i < count), for listings.  Borrowed. */
yard_job_t *yard_waitq_at (const yard_waitq_t *wq, size_t i);

/* Forget every job without touching them (see the note at the top). */
void yard_waitq_clear (yard_waitq_t *wq);

#endif
