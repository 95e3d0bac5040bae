/* server_place.h - the scheduler core's use of place.c: each node's
 * yard_place_t (created lazily from its topology), the allocation of a job
 * being dispatched, its release, and its recovery from state.db.
 *
 * Part of the server object (server.c and friends), kept apart so the
 * placement code has one home.  Every function is a no-op for a job that
 * holds nothing.
 */
#ifndef YARD_SCHED_SERVER_PLACE_H
#define YARD_SCHED_SERVER_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"
#include "node.h"
#include "server.h"
#include "yard.pb-c.h"

/* The node label that lets jobs share cores there (any value). */
#define YARD_LABEL_OVERSUBSCRIBE "oversubscribe"

/* True when node has room for cpus PUs and gpus GPUs of its own (beyond
 * what its counters say: the PUs and GPUs themselves). */
bool yard__place_fits (yard_server_t *s, yard_node_t *node, uint32_t cpus,
                       uint32_t gpus);

/* Choose job's PUs and GPUs on node and hold them; the job's save that
 * follows records them with its attempt (yard__attempt_begin).  *out
 * borrows until the job is released.  0, -ENOSPC or -ENOMEM. */
int yard__place_assign (yard_server_t *s, yard_job_t *job, yard_node_t *node,
                        const Yard__Allocation **out);

/* Give back what job holds on its node (job->worker). */
void yard__place_release (yard_job_t *job);

/* Re-hold an active job's recorded allocation rec (of its current
 * attempt, read from the store by the caller) on node (start-up,
 * rollback); a job with none recorded (rec NULL) gets a fresh one (it
 * keeps running where it is; only new jobs see the difference). */
void yard__place_restore (yard_server_t *s, yard_job_t *job,
                          yard_node_t *node, const Yard__Allocation *rec);

/* Hold a (a successor's, taken over from the job it followed) for job on
 * node: the same as a recorded allocation at a restore. */
void yard__place_take (yard_server_t *s, yard_job_t *job, yard_node_t *node,
                       const Yard__Allocation *a);

/* Drop every hold on node (before a rebuild). */
void yard__place_clear (yard_node_t *node);

/* The node's shape changed (register): re-apply its holds. */
void yard__place_reshape (yard_node_t *node);

/* Fill ni's whole-core fields: cores total and free, PUs free, whether
 * jobs may share cores. */
void yard__place_info (const yard_server_t *s, const yard_node_t *node,
                       Yard__NodeInfo *ni);

/* True when no node has cpus cores at all (each places whole cores and has
 * fewer), so a job asking for them waits on a bigger node; *largest is
 * the most cores a node has. */
bool yard__place_too_big (yard_server_t *s, uint32_t cpus,
                          uint32_t *largest);

/* job's allocation while it holds one, else NULL (borrowed). */
const Yard__Allocation *yard__place_of (const yard_job_t *job);

/* A finished job's recorded allocation: *owned is unpacked from the store
 * (free with yard__allocation__free_unpacked); NULL when none. */
const Yard__Allocation *yard__place_lookup (yard_server_t *s,
                                            const yard_job_t *job,
                                            Yard__Allocation **owned);

#endif
