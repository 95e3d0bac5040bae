/* store_deps.h - what dependencies and arrays read and write in the store
 * (part of the store, see store.h).
 *
 * No table of their own: a job's dependencies are its spec's `after` list
 * and an array member's place is its spec's ArraySpec plus the
 * YARD_ARRAY_ID / YARD_ARRAY_INDEX entries of its environment, all in the
 * packed spec of its jobs row, written in the same statement as the job
 * itself (so they can never disagree with it).  The members of one array
 * are inserted in one transaction and so hold consecutive ids (the store
 * hands out ids one after another, and has a single writer): the array is
 * the id range [array_id, array_id + count).
 */
#ifndef YARD_SCHED_STORE_DEPS_H
#define YARD_SCHED_STORE_DEPS_H

#include <stdint.h>

#include "store.h"

/* Rewrite job's spec (and name column) in its row: the first member of an
 * array learns its own id (YARD_ARRAY_ID) only once inserted.  0, -ENOENT
 * or a store error. */
int yard_store_job_set_spec (yard_store_t *st, const yard_job_t *job);

/* The state of job id, without decoding its spec.  -ENOENT: no such job. */
int yard_store_job_state (yard_store_t *st, uint64_t id,
                          Yard__JobState *state);

/* Count the jobs with ids in [first, last] by state: counts[state] for
 * states 0..nstates-1 (others are ignored).  0 or a store error. */
int yard_store_count_states (yard_store_t *st, uint64_t first, uint64_t last,
                             uint64_t *counts, size_t nstates);

#endif
