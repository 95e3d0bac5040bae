/* server_gang.h - multi-node (gang) jobs in the scheduler core.
 *
 * A gang job is one job with one attempt at a time, placed on N distinct
 * nodes.  Rank 0's node is the job's node as for any job (job->worker,
 * job->node, the job_alloc row): every existing path (cancel, preemption,
 * time limits, worker loss, reconciliation) sees the job there.  The other
 * ranks are the gang's "parts": their nodes carry the job in their
 * counters and PU/GPU holds, not in their job lists, and this file
 * answers for them: starts, finishes, losses, reconciliation, logs.
 *
 * Flow: the dispatch pass places the whole gang or nothing
 * (gang_place.c), sends Dispatch{gang} to rank 0 only; rank 0's worker
 * picks MASTER_PORT and answers GangPort; the other ranks are then
 * dispatched with it.  The job is RUNNING once every node reported its
 * tasks started, COMPLETED once every node's tasks exited 0; the first
 * failure of any node ends the attempt as that failure (retries, requeue),
 * and every part that is still running gets KillJob END_STALE.  A gang
 * whose nodes did not all start within gang_timeout_s fails its attempt.
 *
 * Every part's node, allocation and flags are in the gang_part table
 * (store_gang.h) so that a restarted scheduler holds them again.
 */
#ifndef YARD_SCHED_SERVER_GANG_H
#define YARD_SCHED_SERVER_GANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "msg.h"
#include "node.h"
#include "server.h"
#include "yard.pb-c.h"

struct yard__gang;

/* Dispatch pass: place gang job on N of the ncand candidate nodes.
 * Returns 1 (ASSIGNED), 0 (does not fit: nothing held), or the batch's
 * error. */
int yard__gang_assign (yard_server_t *s, yard_job_t *job, yard_node_t **cand,
                       size_t ncand);

/* The job leaves its nodes (end or requeue): release the parts' holds,
 * KillJob END_STALE to every part still running, forget the gang.  No-op
 * for other jobs. */
void yard__gang_detach (yard_server_t *s, yard_job_t *job);

/* An active gang job was just put back on rank 0's node (start-up,
 * rollback): hold its other parts again from the store. */
void yard__gang_restore (yard_server_t *s, yard_job_t *job);

/* Forget every gang (before a rebuild, at shutdown). */
void yard__gang_reset (yard_server_t *s);

/* A KillJob to node for job_id/attempt: when node is rank 0 of that gang,
 * send the same to the other parts. */
void yard__gang_kill_fanout (yard_server_t *s, yard_node_t *node,
                             uint64_t job_id, uint32_t attempt,
                             Yard__EndReason why, uint32_t grace_s);

/* node is lost: requeue the gangs with a running part on it (rank 0's are
 * in its job list already). */
void yard__gang_node_lost (yard_server_t *s, yard_node_t *node);

/* JobStarted from node: true when it was about a part of a live gang
 * (handled), false to let the caller treat it as usual. */
bool yard__gang_on_started (yard_server_t *s, yard_node_t *node,
                            const Yard__JobStarted *m);

enum {
    YARD__GANG_NONE = 0, /* not a gang part: the caller goes on as usual */
    YARD__GANG_ACK,      /* recorded: acknowledge, nothing else */
    YARD__GANG_APPLY,    /* end the attempt with *use for *job */
};

/* JobFinished from node.  For APPLY, *job is the job and *use the report
 * to apply (copy, with the node's rank in its message, lives in buf). */
int yard__gang_on_finish (yard_server_t *s, yard_node_t *node,
                          const Yard__JobFinished *f, yard_job_t **job,
                          const Yard__JobFinished **use,
                          Yard__JobFinished *copy, char *buf, size_t len);

/* A register's running report: true when it is a part of a live gang
 * (marked seen with gen). */
bool yard__gang_on_running (yard_server_t *s, yard_node_t *node,
                            const Yard__RunningJob *rj, uint64_t gen);

/* After a register's reports: requeue gangs whose dispatched part on node
 * was not reported.  True from yard__gang_part_done when job's part on
 * node already finished (exit 0): not running, and rightly so. */
void yard__gang_reconcile_end (yard_server_t *s, yard_node_t *node,
                               uint64_t gen);
bool yard__gang_part_done (yard_server_t *s, const yard_job_t *job,
                           const yard_node_t *node);

/* Log chunks and metrics of a gang job are kept from rank 0's node only
 * (of that attempt: the attempt history names it): true when node's data
 * for attempt is to be acknowledged and dropped. */
bool yard__gang_foreign (yard_server_t *s, const yard_job_t *job,
                         const yard_node_t *node, uint32_t attempt);

/* Why a pending gang waits when fewer nodes than it asks for are large
 * enough (capacity, not what is free): "PRE" + the reason in buf, true;
 * false when that is not why. */
bool yard__gang_reason (yard_server_t *s, const yard_job_t *job,
                        const char *pre, char *buf, size_t len);

/* Cron: fail the attempts of gangs that did not start in time. */
void yard__gang_cron (yard_server_t *s);

/* Fill info->gang and info->master_port for a gang job; free with
 * yard__gang_info_free. */
void yard__gang_info (yard_server_t *s, const yard_job_t *job,
                      Yard__JobInfo *info);
void yard__gang_info_free (Yard__JobInfo *info);

/* Fill each of info->attempts' gang (where that attempt ran), after
 * yard__attempts_fill; yard__gang_info_free frees them too (call it
 * before yard__attempts_free). */
void yard__gang_attempts (yard_server_t *s, const yard_job_t *job,
                          Yard__JobInfo *info);

/* Fill ni->holdings (every job holding PUs/GPUs on node); free with
 * yard__gang_holdings_free. */
void yard__gang_holdings (yard_server_t *s, yard_node_t *node,
                          Yard__NodeInfo *ni);
void yard__gang_holdings_free (Yard__NodeInfo *ni);

/* GangPort from rank 0's worker. */
void yard__on_gang_port (yard_server_t *s, const yard_peer_t *peer,
                         yard_node_t *node, yard_env_t *env);

#endif
