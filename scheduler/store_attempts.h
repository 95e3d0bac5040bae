/* store_attempts.h - the attempt history of each job (part of the store,
 * see store.h; the table is schema version 3).
 *
 * One row per attempt, written in the batch transaction: when the attempt
 * is dispatched (node, start time filled in when it starts) and when it
 * ends and its job goes on (lost with its node, stale, preempted,
 * requeued, retried).  The attempt that ends with its job keeps the row
 * of its dispatch, end 0: the job's row holds its start and end
 * (yard__attempts_fill in server_retry.c shows them as the attempt's).
 * Databases written before that hold those ends in both rows, which
 * reads the same.  The row that ends an attempt also says whether the end
 * counted against the job's retries and when the next attempt may start;
 * the job's retries_used and eligible_ms are read back from those when a
 * job is loaded, so the jobs table itself is unchanged.
 */
#ifndef YARD_SCHED_STORE_ATTEMPTS_H
#define YARD_SCHED_STORE_ATTEMPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* One row.  Strings are borrowed (from the caller on write, from the store
 * during a read callback). */
typedef struct yard_store_attempt {
    uint32_t attempt;
    const char *node;
    int64_t start_ms;      /* 0: not started (yet) */
    int64_t end_ms;        /* 0: not over */
    Yard__EndReason end_reason;
    int32_t exit_code;
    int32_t term_signal;
    const char *reason;    /* why it ended, for people */
    bool counted;          /* the end used one of the job's retries */
    int64_t eligible_ms;   /* the next attempt may not start before */
} yard_store_attempt_t;

typedef int (*yard_store_attempt_f) (const yard_store_attempt_t *row,
                                     void *arg);

/* Create or update the row of an attempt that is dispatched or started:
 * its node and start time (the end columns are left alone). */
int yard_store_attempt_begin (yard_store_t *st, uint64_t job_id,
                              uint32_t attempt, const char *node,
                              int64_t start_ms);

/* Create the row of an attempt just dispatched to node, with its PUs and
 * GPUs (alloc, packed into the row; NULL: none, the job runs unbound).
 * The one write of a dispatch besides the job's row: the allocation is
 * read back by yard_store_alloc_get (store_alloc.h). */
int yard_store_attempt_dispatch (yard_store_t *st, uint64_t job_id,
                                 uint32_t attempt, const char *node,
                                 const Yard__Allocation *alloc);

/* Write the end of an attempt (creating the row if the dispatch row is
 * missing, e.g. a job dispatched by an older scheduler). */
int yard_store_attempt_end (yard_store_t *st, uint64_t job_id,
                            const yard_store_attempt_t *row);

/* Every attempt of job_id, oldest first.  A non-zero return of cb stops
 * the walk and is returned. */
int yard_store_attempts (yard_store_t *st, uint64_t job_id,
                         yard_store_attempt_f cb, void *arg);

#endif
