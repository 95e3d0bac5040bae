/* server_int.h - what the scheduler core (server.c) shares with its message
 * handlers (server_client.c, server_worker.c).  Not an interface: the three
 * files are one object split by topic.
 *
 * The batch.  Every libuv callback that touches state (a socket watcher, the
 * cron timer, a long-poll timer) is one batch and ends with
 * yard__batch_end():
 *
 *   1. handlers change the in-memory state and write the same change to
 *      SQLite (the first write opens the batch transaction); replies and
 *      orders to workers are encoded into the outbox, not sent;
 *   2. the dispatch pass runs if anything freed resources or queued a job;
 *   3. COMMIT;
 *   4. only then the outbox is sent.
 *
 * So nothing is acknowledged before it is durable, and one fsync covers a
 * whole batch.  If a write or the COMMIT fails, the transaction is rolled
 * back, every job saved in the batch is reloaded from SQLite (the in-memory
 * indexes are rebuilt from the result), every node touched is sent back to
 * "awaiting register" so the worker re-registers and is reconciled again,
 * client replies of the batch become ErrorReply ENOSPC/EIO, and nothing
 * else is sent.  The daemon keeps serving.
 */
#ifndef YARD_SERVER_INT_H
#define YARD_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "job.h"
#include "joblog.h"
#include "msg.h"
#include "node.h"
#include "queue.h"
#include "server.h"
#include "store.h"
#include "syncer.h"
#include "waitq.h"
#include "zwatcher.h"

/* The two sockets. */
enum { YARD__CLIENT = 0, YARD__WORKER = 1 };

#define YARD__MAX_BATCH 512          /* messages read per watcher wake-up */
#define YARD__YIELD_EVERY 16         /* worker messages between looks at
                                      * the client port (see on_socket) */
#define YARD__MAX_SKIPS 1000         /* pending jobs a dispatch pass skips */
#define YARD__ACKS_KEEP 64           /* batches a JobFinishedAck may wait
                                      * for a Dispatch (yard__batch_end) */
#define YARD__WAIT_MAX_MS 60000      /* WaitRequest.timeout_ms cap */
#define YARD__LOGS_WAIT_MAX_MS 30000 /* LogsRequest.wait_ms cap */
#define YARD__LOGS_DEFAULT (256u * 1024)
#define YARD__LOGS_MAX (1024u * 1024)
#define YARD__QUEUE_DEFAULT_LIMIT 1000
#define YARD__QUEUE_MAX_LIMIT 100000
#define YARD__MAX_PARKS 100000       /* parked long polls, in all */

/* One message waiting for the batch's COMMIT. */
typedef struct yard__out {
    int sock;                 /* YARD__CLIENT or YARD__WORKER */
    yard_peer_t peer;
    uint64_t request_id;
    bool is_error;            /* an ErrorReply: sent even after a rollback */
    uint8_t *buf;             /* encoded envelope, owned */
    size_t len;
    uint64_t seq;             /* held: the commit it waits for (syncer.h) */
} yard__out_t;

/* A parked long poll (WaitRequest or LogsRequest). */
typedef struct yard__park {
    uv_timer_t timer;         /* its deadline */
    struct yard_server *s;
    yard_job_t *job;          /* the job it waits on (live, in memory) */
    struct yard__park *jprev, *jnext;   /* job->parks list */
    struct yard__park *aprev, *anext;   /* every park (for shutdown) */
    int kind;                 /* YARD__ENVELOPE__BODY_WAIT_JOB or _LOGS */
    yard_peer_t peer;
    uint64_t request_id;
    uint32_t attempt;         /* LOGS: resolved attempt (0: latest) */
    uint64_t offset;
    uint32_t max_bytes;
} yard__park_t;

struct yard_server {
    uv_loop_t *loop;
    char *state_dir;
    uint64_t worker_timeout_ms;
    uint64_t heartbeat_ms;
    bool oversubscribe;       /* jobs may share cores (server_place.c) */
    uint32_t ahead_wait_ms;   /* successors (server_ahead.c); 0: none */
    /* the active jobs a successor may follow: not gang, not successors
     * themselves, none yet; oldest assignment first (server_ahead.c) */
    yard_job_t *cands, *cands_tail;
    uint64_t instance;        /* random per start, told to workers */

    void *zctx;
    void *sock[2];
    char endpoint[2][256];
    yard_zwatcher_t *watcher[2];
    uv_timer_t cron;
    bool cron_open;
    uv_idle_t more;           /* the rest of a dispatch pass that yielded
                                 (yard__batch_end) */
    bool more_open;
    bool dispatch_yielded;    /* the last pass stopped with jobs to place */
    bool stopping;

    yard_store_t *store;
    yard_queue_t *queue;      /* live jobs, pending heap */
    yard_waitq_t *waitq;      /* pending jobs backing off (server_retry.c) */
    yard_nodes_t *nodes;
    yard_joblog_t *logs;

    /* the current batch */
    uint64_t batch_gen;       /* job->mark / node->mark of this batch */
    uint64_t *dirty;          /* ids of jobs saved in this batch */
    size_t ndirty, dirty_cap;
    yard_node_t **touched;    /* nodes whose state changed in this batch */
    size_t ntouched, touched_cap;
    yard_node_t **ack_nodes;  /* nodes holding acks not yet queued */
    size_t nack_nodes, ack_nodes_cap;
    unsigned acks_kept;       /* batches they have waited through for a
                                 dispatch pass that yielded
                                 (yard__batch_end) */
    int batch_failed;         /* negative errno: roll the batch back */
    bool dirty_overflow;      /* a change could not be tracked: on
                                 rollback, reload every job */
    bool need_dispatch;
    uint32_t batch_clients;   /* client requests handled in this batch */
    yard__out_t *out;
    size_t nout, out_cap;
    /* group commit (syncer.h; NULL with --sync normal): the messages of
     * committed batches wait in held, in sending order, until the commit
     * they depend on is durable */
    yard_syncer_t *syncer;
    bool sync_deferred;       /* the store's commits do not sync the WAL */
    bool sync_failed;         /* a WAL sync failed: nothing more is sent */
    uint64_t commit_seq;      /* commits that wrote, numbered */
    uint64_t durable_seq;     /* the last of them known durable */
    yard__out_t *held;
    size_t nheld, held_cap;
    void (*on_fatal) (void *arg); /* yard_server_config_t */
    void *on_fatal_arg;
    struct yard__events *events; /* subscriptions (server_events.c); NULL
                                    until the first */
    uint64_t recon_gen;       /* job->seen stamp of a reconciliation */
    uint64_t assign_seq;      /* node->last_assign counter */

    /* long polls */
    yard__park_t *parks;
    size_t nparks;

    /* scratch of the dispatch pass: the nodes a gang job may use */
    yard_node_t **cand;
    size_t cand_cap;
    yard_job_t **stash;
    size_t stash_cap;

    /* the socket of the message being handled (YARD__CLIENT/WORKER) */
    int cur_sock;

    /* content-addressed blobs (server_artifacts.c), and their GC
     * (server_checkpoints.c): every gc_interval_ms (0: never) blobs older
     * than gc_age_ms that nothing names are removed */
    struct yard_artifacts *artifacts;
    uint64_t gc_interval_ms;
    uint64_t gc_age_ms;
    int64_t gc_last_ms;
    bool gc_running; /* a pass is on the thread pool */
    /* puts answered once their blob is verified (server_artifacts.c) */
    struct yard__put_park *put_parks;

    /* malformed input, per socket, since the last cron tick */
    unsigned drops[2];

    /* dependencies and arrays (server_deps.c) */
    struct yard_deps *deps;
    uint64_t deps_epoch;      /* bumped by every rebuild of the indexes */
    struct yard__doomed *doomed;  /* jobs to cancel: a dependency failed */
    size_t ndoomed, doomed_cap;
    bool deps_draining;

    /* gang jobs (server_gang.c): the live ones */
    struct yard__gang *gangs;
    /* schedules.c: the wall-clock minute (unix ms / 60000) last checked */
    int64_t sched_minute;
};

typedef struct yard_server yard_server_t;

/* A job to cancel because its dependency on parent can never be met. */
typedef struct yard__doomed {
    uint64_t job;
    uint64_t parent;
    Yard__JobState state;     /* how the parent ended */
} yard__doomed_t;

/* ---- handlers (one per body type; tables in server.c) ---- */

/* node is the bound worker that sent env (worker socket), or NULL. */
typedef void (*yard__handler_f) (yard_server_t *s, const yard_peer_t *peer,
                                 yard_node_t *node, yard_env_t *env);

/* server_outputs.c: collected outputs (job_outputs) */
int yard__outputs_init (yard_server_t *s, yard_error_t *err);
int yard__outputs_record (yard_server_t *s, const yard_job_t *job,
                          const Yard__JobFinished *f);
int yard__outputs_fill (yard_server_t *s, Yard__JobInfo *info);
void yard__outputs_free (Yard__AttemptInfo *a);

/* server_checkpoints.c: checkpoints through the artifact store, and GC */
void yard__on_checkpoint_commit (yard_server_t *s, const yard_peer_t *peer,
                                 yard_node_t *node, yard_env_t *env);
void yard__on_checkpoints (yard_server_t *s, const yard_peer_t *peer,
                           yard_node_t *node, yard_env_t *env);
/* The job's newest checkpoint record (free()), or NULL. */
Yard__CheckpointRecord *yard__checkpoint_newest (yard_server_t *s,
                                                 uint64_t job_id);
int yard__artifacts_gc (yard_server_t *s);
void yard__artifacts_cron (yard_server_t *s);

/* server_artifacts.c: accepted on both ports */
void yard__on_artifact_stat (yard_server_t *s, const yard_peer_t *peer,
                             yard_node_t *node, yard_env_t *env);
void yard__on_artifact_put (yard_server_t *s, const yard_peer_t *peer,
                            yard_node_t *node, yard_env_t *env);
void yard__on_artifact_get (yard_server_t *s, const yard_peer_t *peer,
                            yard_node_t *node, yard_env_t *env);
/* Forget the puts still parked (the server is going away). */
void yard__artifacts_parks_free (yard_server_t *s);

void yard__reply_store_error (yard_server_t *s, const yard_peer_t *peer,
                              uint64_t request_id, int rc);
void yard__on_submit (yard_server_t *, const yard_peer_t *, yard_node_t *,
                      yard_env_t *);
void yard__on_job (yard_server_t *, const yard_peer_t *, yard_node_t *,
                   yard_env_t *);
void yard__on_queue (yard_server_t *, const yard_peer_t *, yard_node_t *,
                     yard_env_t *);
void yard__on_nodes (yard_server_t *, const yard_peer_t *, yard_node_t *,
                     yard_env_t *);
void yard__on_cancel (yard_server_t *, const yard_peer_t *, yard_node_t *,
                      yard_env_t *);
void yard__on_logs (yard_server_t *, const yard_peer_t *, yard_node_t *,
                    yard_env_t *);
void yard__on_wait (yard_server_t *, const yard_peer_t *, yard_node_t *,
                    yard_env_t *);
void yard__on_requeue (yard_server_t *, const yard_peer_t *, yard_node_t *,
                       yard_env_t *);

void yard__on_register (yard_server_t *, const yard_peer_t *, yard_node_t *,
                        yard_env_t *);
void yard__on_heartbeat (yard_server_t *, const yard_peer_t *, yard_node_t *,
                         yard_env_t *);
void yard__on_started (yard_server_t *, const yard_peer_t *, yard_node_t *,
                       yard_env_t *);
void yard__on_finished (yard_server_t *, const yard_peer_t *, yard_node_t *,
                        yard_env_t *);
void yard__on_bye (yard_server_t *, const yard_peer_t *, yard_node_t *,
                   yard_env_t *);
void yard__on_log_chunk (yard_server_t *, const yard_peer_t *, yard_node_t *,
                         yard_env_t *);

/* metrics (server_metrics.c) */
void yard__on_metrics_batch (yard_server_t *, const yard_peer_t *,
                             yard_node_t *, yard_env_t *);
void yard__on_metrics (yard_server_t *, const yard_peer_t *, yard_node_t *,
                       yard_env_t *);

/* ---- batch and outbox (server.c) ---- */

/* Commit the batch and send its outbox (see the note at the top). */
void yard__batch_end (yard_server_t *s);

/* Record a failure that dooms the batch (a store write, or running out of
 * memory half-way through a change).  Returns rc. */
int yard__fail (yard_server_t *s, int rc);

/* Encode env (request_id and body set by the caller) into the outbox.
 * Returns 0 or a negative errno (the batch is then failed: a reply that
 * cannot be encoded must not be silently lost). */
int yard__reply (yard_server_t *s, int sock, const yard_peer_t *peer,
                 yard_env_t *env);

/* Queue an ErrorReply.  Never fails the batch. */
void yard__reply_error (yard_server_t *s, int sock, const yard_peer_t *peer,
                        uint64_t request_id, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

/* Queue env to node's current connection.  -EHOSTUNREACH when the node is
 * not bound (it gets the state again when it re-registers). */
int yard__send_node (yard_server_t *s, yard_node_t *node, yard_env_t *env);

/* Queue KillJob{job_id, attempt, why, grace_s} to node. */
int yard__send_kill (yard_server_t *s, yard_node_t *node, uint64_t job_id,
                     uint32_t attempt, Yard__EndReason why, uint32_t grace_s);

/* Remember that node changed in this batch (undone on rollback). */
void yard__touch_node (yard_server_t *s, yard_node_t *node);

/* ---- JobFinishedAck (server_worker.c) ----
 * An acknowledgement leaves after the batch's COMMIT like every message.
 * To a worker that registered with dispatch_acks it rides in the node's
 * next Dispatch of the batch (yard__acks_take); the ones no Dispatch took
 * leave alone at the end of the batch (yard__acks_flush), so a worker is
 * acknowledged after every commit whether or not it gets a job. */

/* Acknowledge node's JobFinished{job_id, attempt} (request_id: its). */
void yard__finished_ack (yard_server_t *s, yard_node_t *node,
                         uint64_t request_id, uint64_t job_id,
                         uint32_t attempt);

/* node's acks waiting in this batch, for a Dispatch to it: *n of them
 * (0: none, or node does not read them).  Call yard__acks_taken with that
 * n once the Dispatch is queued. */
Yard__JobFinishedAck **yard__acks_take (yard_node_t *node, size_t *n);
void yard__acks_taken (yard_node_t *node, size_t n);

/* Queue the acks no Dispatch took, each alone; the list is empty after. */
void yard__acks_flush (yard_server_t *s);

/* Drop node's waiting acks (the node is being removed). */
void yard__acks_forget (yard_server_t *s, yard_node_t *node);

/* Drop every waiting ack (a rolled-back batch: the workers resend). */
void yard__acks_drop (yard_server_t *s);

/* ---- job transitions (server.c) ----
 * Each changes memory, writes the job (failing the batch on error), wakes
 * its long polls and logs.  They return 0 or the batch's error. */

/* Write job's row in the batch transaction. */
int yard__job_save (yard_server_t *s, yard_job_t *job);

/* Remember a job id written in this batch (to reload it on rollback). */
void yard__mark_dirty (yard_server_t *s, yard_job_t *job);

/* Reserve job's resources on node and list it there (job->worker). */
void yard__job_attach (yard_server_t *s, yard_job_t *job, yard_node_t *node);

/* Apply a JobFinished for job's current attempt from node (server_worker.c):
 * retries, requeue or end; no acknowledgement is sent. */
void yard__finish_apply (yard_server_t *s, yard_node_t *node, yard_job_t *job,
                         const Yard__JobFinished *f);

/* ASSIGNED -> RUNNING.  start_ms 0: now. */
int yard__job_started (yard_server_t *s, yard_job_t *job, int64_t start_ms);

/* ASSIGNED -> RUNNING for a job whose start came with its JobFinished (a
 * worker reports the start of a short job with its end): the state, its
 * event and log line, but no write: the end that follows writes the row,
 * or the caller saves it. */
void yard__job_ran (yard_server_t *s, yard_job_t *job, int64_t start_ms);

/* Any state -> a terminal one.  The job leaves memory: do not use it
 * after the call. */
int yard__job_end (yard_server_t *s, yard_job_t *job, Yard__JobState state,
                   Yard__EndReason why, int32_t exit_code, int32_t signo,
                   int64_t end_ms, const char *reason);

/* ASSIGNED/RUNNING -> (LOST) -> PENDING for a new attempt, lost_count+1, or
 * CANCELLED when a cancel was requested (then the job leaves memory). */
int yard__job_requeue (yard_server_t *s, yard_job_t *job, const char *why);

/* What the known nodes offer, for explaining why jobs wait. */
typedef struct yard__capacity {
    size_t nodes;         /* known nodes */
    size_t up;            /* UP and connected */
    uint32_t max_cpus;    /* largest capacity of any known node */
    uint32_t max_gpus;
    uint64_t max_memory;
} yard__capacity_t;

void yard__capacity (yard_server_t *s, yard__capacity_t *cap);

/* Explain why a pending job waits.  rank: pending jobs before it, or
 * SIZE_MAX to count them; cap: from yard__capacity, or NULL to compute it.
 * Returns buf. */
const char *yard__pending_reason (yard_server_t *s, const yard_job_t *job,
                                  size_t rank, const yard__capacity_t *cap,
                                  char *buf, size_t len);

/* Find a job: the live one (*owned NULL) or a finished one read from the
 * store (*owned is then the job to destroy).  -ENOENT or a store error. */
int yard__job_lookup (yard_server_t *s, uint64_t id, yard_job_t **job,
                      yard_job_t **owned);

/* Node lost: DOWN, unbound, its jobs requeued.  Returns 0 or the batch
 * error. */
int yard__node_lost (yard_server_t *s, yard_node_t *node, const char *why);

/* ASSIGNED/RUNNING/PREEMPTING -> PENDING for a new attempt, ending the
 * current attempt in its history with why/exit_code/signo/end_ms/hist
 * (counted: it used one of the job's retries).  lost: the node lost it
 * (lost_count+1).  eligible_ms: the next attempt waits until then (0: at
 * once).  A job with a cancel requested ends CANCELLED instead. */
int yard__job_requeue_at (yard_server_t *s, yard_job_t *job, const char *why,
                          Yard__EndReason end, int32_t exit_code,
                          int32_t signo, int64_t end_ms, const char *hist,
                          bool counted, int64_t eligible_ms);

/* ---- retries, requeue, attempt history (server_retry.c) ---- */

/* Write the row of job's current attempt: begun (node, start time) or
 * ended.  0 or the batch error. */
int yard__attempt_begin (yard_server_t *s, yard_job_t *job);
int yard__attempt_end (yard_server_t *s, yard_job_t *job, Yard__EndReason why,
                       int32_t exit_code, int32_t signo, int64_t end_ms,
                       const char *reason, bool counted, int64_t eligible_ms);

/* Fill info->attempts from the store (free with yard__attempts_free). */
int yard__attempts_fill (yard_server_t *s, Yard__JobInfo *info);
void yard__attempts_free (Yard__JobInfo *info);

/* ---- events (server_events.c) ---- */

/* Note a change of job's state (called on every save); it is sent to the
 * subscribers once the batch is committed. */
void yard__events_job (yard_server_t *s, yard_job_t *job);
/* Whether a subscriber asked for pipeline events (pipeline.c then reads a
 * run's stored states before it saves the run, for yard__events_pipeline). */
bool yard__events_want_pipelines (yard_server_t *s);
/* Note the changes of a pipeline run being saved: each step whose state
 * differs from old's (in the run's step order), then the run's own state.
 * old NULL: the run is new (its state only).  Sent once the batch is
 * committed, as job changes are. */
struct yard_prun;
void yard__events_pipeline (yard_server_t *s, const struct yard_prun *run,
                            const struct yard_prun *old);
/* End of batch: send what it changed (committed) or forget it. */
void yard__events_commit (yard_server_t *s, bool committed);
/* Cron: drop lapsed subscriptions. */
void yard__events_cron (yard_server_t *s);
void yard__events_destroy (yard_server_t *s);
void yard__on_events_subscribe (yard_server_t *s, const yard_peer_t *peer,
                                yard_node_t *node, yard_env_t *env);

/* ---- resource use (server_usage.c) ---- */

/* Store u (unset: nothing) as the use of job's attempt; final from a
 * JobFinished.  0 or the batch error. */
int yard__usage_record (yard_server_t *s, yard_job_t *job, uint32_t attempt,
                        const Yard__ResourceUse *u, bool final);
/* The usage samples of a heartbeat from node, for its current attempts. */
void yard__usage_heartbeat (yard_server_t *s, yard_node_t *node,
                            const Yard__Heartbeat *h);
/* Fill each of info->attempts' usage and info->usage from the store (after
 * yard__attempts_fill; freed by yard__attempts_free).  0 or -errno. */
int yard__usage_fill (yard_server_t *s, Yard__JobInfo *info);
void yard__usage_free (Yard__JobInfo *info);

/* Put a PENDING job in the pending heap, or in the waitq while its
 * eligible time is ahead.  0 or -errno. */
int yard__job_enqueue (yard_server_t *s, yard_job_t *job);

/* Cron: move the jobs whose eligible time has come to the pending heap. */
void yard__waitq_release (yard_server_t *s);

/* The reason of a job in the waitq ("retry 2/3 after exit 1, eligible in
 * 40s").  Returns buf. */
const char *yard__waiting_reason (const yard_job_t *job, char *buf,
                                  size_t len);

/* A JobFinished for job's current attempt: when the policy (retry.h) sends
 * the job back to the queue, do it and return true; false leaves the end
 * to the caller. */
bool yard__finish_retry (yard_server_t *s, yard_job_t *job,
                         const Yard__JobFinished *f);

/* ---- dispatch ahead (server_ahead.c) ---- */

/* Count job's resources as reserved on node (server.c). */
void yard__job_charge (yard_server_t *s, yard_job_t *job, yard_node_t *node);

/* job (active, just attached) joins the jobs a successor may follow, when
 * successors are on, its worker takes them and it may have one. */
void yard__cands_add (yard_server_t *s, yard_job_t *job);
void yard__cands_del (yard_server_t *s, yard_job_t *job);

/* An active job of job's shape that a successor may follow, or NULL. */
yard_job_t *yard__ahead_find (yard_server_t *s, const yard_job_t *job);

/* Make job (being assigned) pred's successor: its allocation is pred's.
 * 0 or -ENOMEM. */
int yard__ahead_link (yard_server_t *s, yard_job_t *job, yard_job_t *pred);

/* job was detached from node (server.c): its successor takes over its
 * PUs and GPUs, or, a successor itself, it leaves the job it followed. */
void yard__ahead_detach (yard_server_t *s, yard_job_t *job,
                         yard_node_t *node);

/* job is being preempted: its successor is stopped (it goes back to the
 * queue) so that what job frees goes to the job it makes room for. */
void yard__ahead_preempt (yard_server_t *s, yard_job_t *job);

/* Start-up and rollback: whether active job is a successor (rec, its
 * current attempt's recorded allocation, names a job to follow), keeping
 * a copy of rec;
 * yard__ahead_relink then links each to the job it follows, or, that job
 * having ended, lets it hold its PUs.  yard__ahead_forget drops a job's
 * links and allocation before it is placed again. */
bool yard__ahead_restore (yard_job_t *job, const Yard__Allocation *rec);
void yard__ahead_relink (yard_server_t *s);
void yard__ahead_forget (yard_job_t *job);

/* Why a successor that waits on its node has not started ("waits on w1
 * for job 12 to end"), in buf; NULL for any other job. */
const char *yard__ahead_reason (const yard_job_t *job, char *buf, size_t len);

/* ASSIGNED/RUNNING -> PREEMPTING: KillJob END_PREEMPTED (stop signal,
 * grace, SIGKILL); the job is requeued when the worker reports.  0 or the
 * batch error. */
int yard__job_preempt (yard_server_t *s, yard_job_t *job, const char *why);

/* Cron: when the first pending job fits nowhere, preempt lower-priority
 * preemptible jobs so that it fits on one node (server_preempt.c). */
void yard__preempt_pass (yard_server_t *s);

/* Reply JobInfo (attempts included) for job (server_client.c). */
void yard__reply_job (yard_server_t *s, const yard_peer_t *peer,
                      uint64_t request_id, const yard_job_t *job);

/* ---- long polls (server_client.c) ---- */

/* The job changed (state or log): answer its parks whose condition holds. */
void yard__parks_wake (yard_server_t *s, yard_job_t *job);

/* The job is leaving memory: answer every park with its current state. */
void yard__parks_flush (yard_server_t *s, yard_job_t *job);

/* Free the job's parks without an answer (rollback of a job that never
 * existed). */
void yard__parks_drop (yard_server_t *s, yard_job_t *job);

/* Close every park (shutdown). */
void yard__parks_close_all (yard_server_t *s);

/* ---- dependencies and arrays (server_deps.c) ---- */

/* Whether a submitted spec has dependencies or is an array: then
 * yard__deps_submit handles the whole SubmitRequest. */
bool yard__deps_wanted (const Yard__JobSpec *spec);
void yard__deps_submit (yard_server_t *s, const yard_peer_t *peer,
                        yard_env_t *env);

/* Called by yard__job_enqueue: 1 when job must stay out of the pending
 * heap (dependencies unmet, or one can never be met: the job is then
 * cancelled by the next yard__deps_drain), 0 to queue it, or -errno. */
int yard__deps_hold (yard_server_t *s, yard_job_t *job);

/* Job id ended as state: release or cancel its dependents. */
void yard__deps_ended (yard_server_t *s, uint64_t id, Yard__JobState state);

/* Cancel the jobs whose dependency can never be met (cron, after a
 * rebuild found some). */
void yard__deps_drain (yard_server_t *s);

/* The indexes are being rebuilt: forget edges, counters and held members
 * (every job is evaluated again as it is placed). */
void yard__deps_reset (yard_server_t *s);

/* Count a job just placed by a rebuild in its array's running members. */
void yard__deps_place (yard_server_t *s, yard_job_t *job);

/* Append the PENDING jobs held out of the heap and the waitq (waiting for
 * a dependency or an array slot), by id, to *v (realloc'd), *n of them.
 * 0 or -ENOMEM (*v and *n still valid). */
int yard__deps_held (yard_server_t *s, yard_job_t ***v, size_t *n);

/* For an array's first job: fill info->array_states (members by state,
 * counted in the store) into counts, which must outlive info.  A job that
 * is not an array's first, or a failed read, leaves info alone. */
#define YARD__ARRAY_NSTATES 10 /* JobState values 0..9 */
void yard__deps_info (yard_server_t *s, const yard_job_t *job,
                      Yard__JobInfo *info, uint64_t *counts);

/* CancelRequest{array}: cancel every unfinished member of the array
 * job_id (which must be an array's first job), reply its JobInfo. */
void yard__deps_cancel_array (yard_server_t *s, const yard_peer_t *peer,
                              yard_env_t *env);

/* Why job waits, if for a dependency or an array slot (buf), else NULL. */
const char *yard__deps_reason (yard_server_t *s, const yard_job_t *job,
                               char *buf, size_t len);

/* A member of a limited array takes / leaves a node (the %K counter);
 * leaving puts one set-aside member back in the heap. */
void yard__array_enter (yard_server_t *s, yard_job_t *job);
void yard__array_leave (yard_server_t *s, yard_job_t *job);

/* Dispatch popped job: true when its array is at its limit (the job is
 * then set aside, out of the heap, until a member leaves its node). */
bool yard__array_throttle (yard_server_t *s, yard_job_t *job);

#endif
