/* deps.h - the in-memory indexes of job dependencies and job arrays.
 *
 * Two maps keyed by a job id, both rebuilt from the live jobs whenever the
 * scheduler rebuilds its indexes (start-up, rollback), so neither is
 * stored:
 *
 * - edges: parent id -> ids of the jobs waiting for it.  A parent's end
 *   takes its list (yard_deps_take) and only those dependents are looked
 *   at: no scan of all jobs.  Ids, not pointers: a dependent cancelled in
 *   the meantime is simply not found and skipped.
 * - arrays: array id -> members holding a node (the %K limit, an O(1)
 *   check) and a FIFO of members taken out of the pending heap because the
 *   array was at its limit; one goes back each time a member leaves its
 *   node.
 *
 * The decision of whether a dependency holds (yard_dep_eval) is a pure
 * function here so that it is unit-tested without a scheduler.
 */
#ifndef YARD_SCHED_DEPS_H
#define YARD_SCHED_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yard.pb-c.h"

#define YARD_ARRAY_MAX 100000   /* elements of one array */
#define YARD_DEPS_MAX 1000      /* dependencies of one job */

/* Whether spec (a stored job's) is an array member: its ArraySpec is set
 * (submit keeps it in each member's copy) and the scheduler's
 * YARD_ARRAY_ID / YARD_ARRAY_INDEX environment entries (the last ones, so
 * a user's own cannot shadow them) are found.  Fills *array_id / *index
 * (0 when not a member) and returns the answer. */
bool yard_job_array_member (const Yard__JobSpec *spec, uint64_t *array_id,
                            uint32_t *index);

typedef struct yard_deps yard_deps_t;

/* What a parent's state means for one dependency on it. */
typedef enum {
    YARD_DEP_WAIT = 0,   /* the parent has not ended yet */
    YARD_DEP_MET,        /* the parent ended as the condition asks */
    YARD_DEP_NEVER,      /* the parent ended otherwise: it never will be */
} yard_dep_result_t;

yard_dep_result_t yard_dep_eval (Yard__Dependency__Condition cond,
                                 Yard__JobState parent_state);

/* "ok", "any", "notok" ("?" for an unknown value). */
const char *yard_dep_cond_name (Yard__Dependency__Condition cond);

/* An empty index.  NULL with errno set. */
yard_deps_t *yard_deps_create (void);

/* Accepts NULL; NULLs the pointer. */
void yard_deps_destroy (yard_deps_t **deps);

/* Forget every edge, counter and held member. */
void yard_deps_clear (yard_deps_t *deps);

/* child waits for parent.  0 or -ENOMEM (nothing changed). */
int yard_deps_add (yard_deps_t *deps, uint64_t parent, uint64_t child);

/* Remove parent's list of dependents and return it in *out (caller frees;
 * NULL when none) with its length.  Order: as added. */
size_t yard_deps_take (yard_deps_t *deps, uint64_t parent, uint64_t **out);

/* Number of parents with dependents (for tests and logs). */
size_t yard_deps_parents (const yard_deps_t *deps);

/* Members of array_id holding a node. */
uint32_t yard_deps_running (const yard_deps_t *deps, uint64_t array_id);

/* One more / one fewer member holding a node.  inc: 0 or -ENOMEM. */
int yard_deps_run_inc (yard_deps_t *deps, uint64_t array_id);
void yard_deps_run_dec (yard_deps_t *deps, uint64_t array_id);

/* Keep job_id aside until a slot of array_id frees.  0 or -ENOMEM. */
int yard_deps_hold (yard_deps_t *deps, uint64_t array_id, uint64_t job_id);

/* The oldest held member of array_id, removed; 0 when none. */
uint64_t yard_deps_unhold (yard_deps_t *deps, uint64_t array_id);

#endif
