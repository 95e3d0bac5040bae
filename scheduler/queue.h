/* queue.h - the scheduler's in-memory job indexes.
 *
 * Two indexes over yard_job_t, independent of each other:
 *
 * - the job map: every live (non-terminal) job by id, an open-addressing
 *   hash table with linear probing and backward-shift deletion, so lookups
 *   cost O(1) and deletions leave no tombstones behind;
 * - the pending heap: a binary heap of PENDING jobs ordered by priority
 *   (higher first), then id (lower first, i.e. submit order).  Each job
 *   records its heap position (job->heap_idx), so any job can be removed in
 *   O(log n), e.g. on cancel.
 *
 * The queue never owns jobs: destroying it leaves them to the caller.
 */
#ifndef YARD_SCHED_QUEUE_H
#define YARD_SCHED_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"

typedef struct yard_queue yard_queue_t;

/* Called for each job of the map; a non-zero return stops the walk and is
 * returned by yard_queue_foreach.  The callback must not add or remove
 * jobs. */
typedef int (*yard_queue_job_f) (yard_job_t *job, void *arg);

/* NULL with errno set. */
yard_queue_t *yard_queue_create (void);

/* Accepts NULL; NULLs the pointer.  The jobs are not freed. */
void yard_queue_destroy (yard_queue_t **q);

/* ---- job map ---- */

/* Add job (job->id must be set and non-zero).  Returns 0, -EINVAL (id 0),
 * -EEXIST (an entry with that id exists) or -ENOMEM. */
int yard_queue_add (yard_queue_t *q, yard_job_t *job);

/* The job with that id, or NULL.  Borrowed. */
yard_job_t *yard_queue_find (const yard_queue_t *q, uint64_t id);

/* Remove job from the map, and from the pending heap if it is there.
 * Returns 0 or -ENOENT (job is not the entry for its id). */
int yard_queue_del (yard_queue_t *q, yard_job_t *job);

/* Number of jobs in the map. */
size_t yard_queue_count (const yard_queue_t *q);

/* Walk the map in no particular order. */
int yard_queue_foreach (const yard_queue_t *q, yard_queue_job_f cb,
                        void *arg);

/* ---- pending heap ---- */

/* Order of the heap: <0 when a runs before b (higher priority, then lower
 * id). */
int yard_job_cmp (const yard_job_t *a, const yard_job_t *b);

/* Push job.  Returns 0, -EEXIST (already in the heap) or -ENOMEM. */
int yard_queue_push (yard_queue_t *q, yard_job_t *job);

/* The first job, or NULL when empty.  Borrowed. */
yard_job_t *yard_queue_peek (const yard_queue_t *q);

/* Remove and return the first job, or NULL when empty. */
yard_job_t *yard_queue_pop (yard_queue_t *q);

/* Remove job from the heap.  Returns 0 or -ENOENT (not in this heap). */
int yard_queue_unqueue (yard_queue_t *q, yard_job_t *job);

/* Number of jobs in the heap. */
size_t yard_queue_pending (const yard_queue_t *q);

/* Empty the heap (the jobs stay in the map). */
void yard_queue_clear_pending (yard_queue_t *q);

/* How many pending jobs run before job (O(n), no allocation).  job must be
 * in the heap. */
size_t yard_queue_rank (const yard_queue_t *q, const yard_job_t *job);

/* A malloc'd copy of the heap in run order (*n may be 0, *out then NULL).
 * Returns 0 or -ENOMEM.  The caller frees *out, not the jobs. */
int yard_queue_sorted (const yard_queue_t *q, yard_job_t ***out, size_t *n);

#endif
