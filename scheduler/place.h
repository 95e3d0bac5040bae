/* place.h - which PUs and GPUs of one node each job holds, and where a new
 * job should go on it.
 *
 * One yard_place_t per node.  Its shape comes from the node's reported
 * Topology: PUs 0..pus-1 by OS index (the index the NUMA and GPU cpu lists
 * use), GPUs by their position in Topology.gpus.  A node without a
 * topology has PUs 0..cpus-1 and no GPUs.  A node that offers more CPUs
 * than it has PUs (an admin's --cpus oversubscribes it) cannot give each
 * job PUs of its own: its allocations then carry no PU list (the jobs run
 * unbound) and only the GPUs are tracked.
 *
 * Each hold is keyed by job id and keeps the Allocation that went to the
 * worker, so the scheduler can show it and store it, and so that a change
 * of shape (the worker re-registered with other hardware) can re-apply the
 * holds that still fit.  No two holds ever share a PU or a GPU.
 *
 * The policy (see place.c): GPUs packed on as few NUMA nodes as possible,
 * best fit first, and on a NUMA node under as few PCIe switches as
 * possible (GpuInfo.pci_switch), best fit first; the job's PUs near its
 * GPUs; CPU-only jobs on PUs that no GPU is local to while there are such
 * PUs.
 */
#ifndef YARD_SCHED_PLACE_H
#define YARD_SCHED_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "yard.pb-c.h"

typedef struct yard_place yard_place_t;

/* A place shaped after t (may be NULL) offering cpus CPUs.  NULL with errno
 * set (ENOMEM). */
yard_place_t *yard_place_create (const Yard__Topology *t, uint32_t cpus);

/* Accepts NULL; NULLs the pointer. */
void yard_place_destroy (yard_place_t **p);

/* Take a new shape (a re-register), keeping the holds: each is re-applied
 * from its Allocation; one that no longer fits loses what does not fit.
 * Returns 0 or -ENOMEM (nothing changed). */
int yard_place_reshape (yard_place_t *p, const Yard__Topology *t,
                        uint32_t cpus);

/* Free CPUs as a job's cpus count them (free cores, or free PUs when cores
 * are shared) and free GPUs.  free_pus is UINT32_MAX when PUs are not
 * tracked (a node offering more CPUs than it has PUs). */
uint32_t yard_place_free_pus (const yard_place_t *p);
uint32_t yard_place_free_gpus (const yard_place_t *p);
uint32_t yard_place_gpus (const yard_place_t *p);

/* Whether jobs share cores: false (the default) places whole cores, a
 * job's cpus counting cores and getting every PU of each; true places
 * PUs, as on a node without SMT.  Changes only later allocations. */
void yard_place_set_share (yard_place_t *p, bool share);
bool yard_place_share (const yard_place_t *p);

/* Cores (a PU no core of the topology names counts as one) and PUs, each
 * total and free (a core is free when no job holds any of its PUs). */
void yard_place_counts (const yard_place_t *p, uint32_t *cores,
                        uint32_t *free_cores, uint32_t *pus,
                        uint32_t *free_pus);

/* True when yard_place_alloc would find room for cpus PUs and gpus GPUs.
 * A node that tracks no GPUs (none in its topology) does not limit gpus:
 * the scheduler's counters do. */
bool yard_place_fits (const yard_place_t *p, uint32_t cpus, uint32_t gpus);

/* Choose PUs and GPUs for job_id and hold them.  *out borrows from p until
 * the hold is released (do not free it).  Returns 0, -EEXIST (job_id holds
 * already), -ENOSPC (does not fit), -ENOMEM; nothing changed on error. */
int yard_place_alloc (yard_place_t *p, uint64_t job_id, uint32_t cpus,
                      uint32_t gpus, uint64_t memory_bytes,
                      const Yard__Allocation **out);

/* Hold exactly a (a stored allocation, after a scheduler restart).
 * Returns 0, -EEXIST (job_id holds already), -EBUSY (a PU or GPU is held by
 * another job), -EINVAL (a names PUs or GPUs this node lacks), -ENOMEM;
 * nothing changed on error. */
int yard_place_claim (yard_place_t *p, uint64_t job_id,
                      const Yard__Allocation *a);

/* Hold what of a this node still has free (a stored allocation that no
 * longer fits the node's shape, or overlaps: kept so that a later reshape
 * re-applies it, and so the job's Allocation is still known).  Returns 0,
 * -EEXIST, -EINVAL (a NULL or malformed), -ENOMEM. */
int yard_place_adopt (yard_place_t *p, uint64_t job_id,
                      const Yard__Allocation *a);

/* Release job_id's hold.  Returns 0 or -ENOENT. */
int yard_place_release (yard_place_t *p, uint64_t job_id);

/* Drop every hold. */
void yard_place_clear (yard_place_t *p);

/* job_id's Allocation, borrowed until released; NULL when it holds none. */
const Yard__Allocation *yard_place_get (const yard_place_t *p,
                                        uint64_t job_id);

/* Iterate over holds: i < yard_place_count. */
size_t yard_place_count (const yard_place_t *p);
uint64_t yard_place_job_at (const yard_place_t *p, size_t i);

/* Allocation helpers: a deep copy (NULL in: *out NULL) and its release. */
int yard_alloc_copy (const Yard__Allocation *a, Yard__Allocation **out);
void yard_alloc_free (Yard__Allocation **a);

#endif
