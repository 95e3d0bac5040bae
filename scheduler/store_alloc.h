/* store_alloc.h - the Allocation (PUs, GPUs, memory) of each job's
 * current/last attempt, so that a restarted scheduler knows which PUs and
 * GPUs its running jobs hold.  A single-node job's is written with its
 * attempt's row (store_attempts.h: yard_store_attempt_dispatch, one write
 * per dispatch for both); a gang's rank 0 and states written by older
 * schedulers have theirs in state.db's job_alloc table.  A read takes the
 * newer; an older scheduler that finds no job_alloc row for a job
 * allocates it afresh, as below.
 *
 * Part of the store object (it shares its transaction, see store_int.h).
 * The table is created IF NOT EXISTS by yard_store_alloc_init at every open,
 * not by a user_version step: any database gains it whatever its version
 * (other steps are added independently), and an older scheduler just
 * ignores it.  A job without a row (dispatched by an older scheduler)
 * simply has no recorded allocation.
 */
#ifndef YARD_SCHED_STORE_ALLOC_H
#define YARD_SCHED_STORE_ALLOC_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "yard.pb-c.h"

/* Create the job_alloc table if missing.  0 or -errno with err filled. */
int yard_store_alloc_init (yard_store_t *st, yard_error_t *err);

/* Record a as job_id's allocation for attempt (replacing the previous
 * one), in the batch transaction.  0 or -errno. */
int yard_store_alloc_put (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                          const Yard__Allocation *a);

/* job_id's recorded allocation: *out unpacked (free with
 * yard__allocation__free_unpacked) and *attempt set.  -ENOENT when there
 * is none (or it is unreadable), else 0 or -errno. */
int yard_store_alloc_get (yard_store_t *st, uint64_t job_id,
                          uint32_t *attempt, Yard__Allocation **out);

#endif
