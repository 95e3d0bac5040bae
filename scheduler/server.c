/* server.c - the scheduler core: sockets and message routing, the batch
 * (commit, then send; roll back and repair on failure), job transitions,
 * the dispatch pass and the cron timer.  The message handlers live in
 * server_client.c and server_worker.c; see server_int.h for the batch rules.
 *
 * Cron.  One timer does every periodic duty, every min(1 s, heartbeat/2):
 *   - declares lost every UP worker not heard from for --worker-timeout
 *     (its jobs go back to PENDING, or CANCELLED when a cancel waits);
 *   - retries the dispatch pass while jobs are pending (a worker may have
 *     become reachable without sending anything that triggers one);
 *   - logs the count of malformed messages dropped beyond the first few.
 * Long polls have their own timers (yard__park_t), so a 200 ms wait is
 * answered after 200 ms and not at the next tick.
 */
#include "server_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <zmq.h>

#include "artifacts.h"
#include "deps.h"
#include "pipeline.h"
#include "models.h"
#include "schedules.h"
#include "triggers.h"
#include "log.h"
#include "server_gang.h"
#include "server_nodeadmin.h"
#include "server_place.h"
#include "store_alloc.h"
#include "store_gang.h"
#include "store_usage.h"
#include "topology.h"
#include "utf8.h"
#include "util.h"

#define DROP_LOG_MAX 10        /* malformed messages logged per cron tick */
#define SOCK_HWM 100000
#define SOCK_MAXMSGSIZE (64LL * 1024 * 1024)

static const char *sock_name[2] = {"client", "worker"};

/* ---- message routing ---- */

struct op {
    yard__handler_f fn;
    bool needs_node;  /* worker messages: only from a registered worker */
};

#define MAX_BODY 128 /* every Envelope body number fits */

static const struct op client_ops[MAX_BODY] = {
    [YARD__ENVELOPE__BODY_SUBMIT] = {yard__on_submit, false},
    [YARD__ENVELOPE__BODY_JOB_STATUS] = {yard__on_job, false},
    [YARD__ENVELOPE__BODY_QUEUE] = {yard__on_queue, false},
    [YARD__ENVELOPE__BODY_NODES] = {yard__on_nodes, false},
    [YARD__ENVELOPE__BODY_CANCEL] = {yard__on_cancel, false},
    [YARD__ENVELOPE__BODY_LOGS] = {yard__on_logs, false},
    [YARD__ENVELOPE__BODY_WAIT_JOB] = {yard__on_wait, false},
    [YARD__ENVELOPE__BODY_METRICS] = {yard__on_metrics, false},
    [YARD__ENVELOPE__BODY_REQUEUE] = {yard__on_requeue, false},
    [YARD__ENVELOPE__BODY_NODE_ADMIN] = {yard__on_node_admin, false},
    [YARD__ENVELOPE__BODY_ARTIFACT_STAT] = {yard__on_artifact_stat, false},
    [YARD__ENVELOPE__BODY_ARTIFACT_PUT] = {yard__on_artifact_put, false},
    [YARD__ENVELOPE__BODY_ARTIFACT_GET] = {yard__on_artifact_get, false},
    [YARD__ENVELOPE__BODY_EVENTS_SUBSCRIBE] = {yard__on_events_subscribe,
                                               false},
    [YARD__ENVELOPE__BODY_CHECKPOINTS] = {yard__on_checkpoints, false},
    [YARD__ENVELOPE__BODY_PIPELINE_RUN] = {yard__on_pipeline_run, false},
    [YARD__ENVELOPE__BODY_PIPELINE_STATUS] = {yard__on_pipeline_status, false},
    [YARD__ENVELOPE__BODY_PIPELINE_CANCEL] = {yard__on_pipeline_cancel, false},
    [YARD__ENVELOPE__BODY_PIPELINE_LIST] = {yard__on_pipeline_list, false},
    [YARD__ENVELOPE__BODY_PIPELINE_EXPLAIN] = {yard__on_pipeline_explain, false},
    [YARD__ENVELOPE__BODY_DATASET] = {yard__on_dataset, false},
    [YARD__ENVELOPE__BODY_MODEL] = {yard__on_model, false},
    [YARD__ENVELOPE__BODY_SCHEDULE] = {yard__on_schedule, false},
    [YARD__ENVELOPE__BODY_TRIGGER] = {yard__on_trigger, false},
};

static const struct op worker_ops[MAX_BODY] = {
    [YARD__ENVELOPE__BODY_WORKER_REGISTER] = {yard__on_register, false},
    [YARD__ENVELOPE__BODY_HEARTBEAT] = {yard__on_heartbeat, false},
    [YARD__ENVELOPE__BODY_JOB_STARTED] = {yard__on_started, true},
    [YARD__ENVELOPE__BODY_JOB_FINISHED] = {yard__on_finished, true},
    [YARD__ENVELOPE__BODY_LOG_CHUNK] = {yard__on_log_chunk, true},
    [YARD__ENVELOPE__BODY_METRICS_BATCH] = {yard__on_metrics_batch, true},
    [YARD__ENVELOPE__BODY_WORKER_BYE] = {yard__on_bye, true},
    [YARD__ENVELOPE__BODY_NODE_HEALTH] = {yard__on_node_health, true},
    [YARD__ENVELOPE__BODY_ARTIFACT_STAT] = {yard__on_artifact_stat, false},
    [YARD__ENVELOPE__BODY_ARTIFACT_PUT] = {yard__on_artifact_put, false},
    [YARD__ENVELOPE__BODY_ARTIFACT_GET] = {yard__on_artifact_get, false},
    [YARD__ENVELOPE__BODY_CHECKPOINT_COMMIT] = {yard__on_checkpoint_commit,
                                                true},
    [YARD__ENVELOPE__BODY_GANG_PORT] = {yard__on_gang_port, true},
};

static const struct op *
find_op (int sock, int body)
{
    if (body <= 0 || body >= MAX_BODY)
        return NULL;
    const struct op *op = sock == YARD__CLIENT ? &client_ops[body]
                                               : &worker_ops[body];
    return op->fn ? op : NULL;
}

/* ---- outbox ---- */

static int
out_push (yard_server_t *s, int sock, const yard_peer_t *peer,
          uint64_t request_id, bool is_error, uint8_t *buf, size_t len)
{
    if (s->nout == s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap * 2 : 64;
        yard__out_t *v = realloc (s->out, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        s->out = v;
        s->out_cap = cap;
    }
    yard__out_t *o = &s->out[s->nout++];
    o->sock = sock;
    o->peer = *peer;
    o->request_id = request_id;
    o->is_error = is_error;
    o->buf = buf;
    o->len = len;
    return 0;
}

int
yard__fail (yard_server_t *s, int rc)
{
    if (rc < 0 && s->batch_failed == 0)
        s->batch_failed = rc;
    return rc;
}

static int
encode_error (uint64_t request_id, int code, const char *text, uint8_t **buf,
              size_t *len)
{
    yard_env_t env;
    Yard__ErrorReply body;
    yard_msg_error_init (&env, &body, request_id, code, text);
    return yard_msg_encode (&env, buf, len);
}

void
yard__reply_error (yard_server_t *s, int sock, const yard_peer_t *peer,
                   uint64_t request_id, int code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    /* it may quote (and cut) what the peer sent */
    yard_utf8_sanitize (text);
    uint8_t *buf;
    size_t len;
    if (code < 0)
        code = -code;
    if (encode_error (request_id, code, text, &buf, &len) < 0
        || out_push (s, sock, peer, request_id, true, buf, len) < 0) {
        log_err ("out of memory: cannot answer request %" PRIu64, request_id);
        return;
    }
    log_debug ("error %d to %s peer: %s", code, sock_name[sock], text);
}

int
yard__reply (yard_server_t *s, int sock, const yard_peer_t *peer,
             yard_env_t *env)
{
    uint8_t *buf;
    size_t len;
    int rc = yard_msg_encode (env, &buf, &len);
    if (rc == -EMSGSIZE) {
        yard__reply_error (s, sock, peer, env->request_id, EMSGSIZE,
                           "the reply is larger than the %u byte frame "
                           "limit: ask for less", YARD_MAX_FRAME);
        return 0;
    }
    if (rc < 0)
        return yard__fail (s, rc);
    if (out_push (s, sock, peer, env->request_id, false, buf, len) < 0) {
        free (buf);
        return yard__fail (s, -ENOMEM);
    }
    return 0;
}

int
yard__send_node (yard_server_t *s, yard_node_t *node, yard_env_t *env)
{
    if (!node->bound) {
        log_debug ("worker %s is not connected: %s not sent", node->name,
                   yard_msg_type_name (env));
        return -EHOSTUNREACH;
    }
    return yard__reply (s, YARD__WORKER, &node->peer, env);
}

int
yard__send_kill (yard_server_t *s, yard_node_t *node, uint64_t job_id,
                 uint32_t attempt, Yard__EndReason why, uint32_t grace_s)
{
    yard__gang_kill_fanout (s, node, job_id, attempt, why, grace_s);
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__KillJob kill = YARD__KILL_JOB__INIT;
    kill.job_id = job_id;
    kill.attempt = attempt;
    kill.reason = why;
    kill.grace_s = grace_s;
    env.body_case = YARD__ENVELOPE__BODY_KILL_JOB;
    env.kill_job = &kill;
    log_info ("job %" PRIu64 " attempt %u: kill (%s) sent to %s", job_id,
              attempt, yard_end_reason_name (why), node->name);
    return yard__send_node (s, node, &env);
}

static const char *plural (uint64_t n);

/* Sends one queued message; its buffer goes with it. */
static void
out_send (yard_server_t *s, yard__out_t *o)
{
    int rc = yard_msg_send_buf (s->sock[o->sock], &o->peer, o->buf, o->len);
    o->buf = NULL;
    if (rc == 0)
        return;
    char p[2 * YARD_MAX_ROUTING_ID + 1];
    yard_node_t *node = o->sock == YARD__WORKER
                            ? yard_nodes_by_peer (s->nodes, &o->peer)
                            : NULL;
    if (node) {
        /* Whatever it missed (a Dispatch, a KillJob) it learns by
         * registering again: unbinding makes its next heartbeat answer
         * known=false. */
        log_warn ("cannot send to worker %s (%s): it must register again",
                  node->name, strerror (-rc));
        yard_nodes_unbind (s->nodes, node);
    } else {
        log_debug ("cannot send to %s peer %s: %s", sock_name[o->sock],
                   yard_peer_str (&o->peer, p, sizeof p), strerror (-rc));
    }
}

/* The i-th message of the outbox in sending order: client replies first
 * (a client waits for each; a worker batch's outbox may hold hundreds of
 * dispatches and acknowledgements before them), then the worker port's
 * messages, each port's in the order they were queued.  NULL for the
 * slots of the other port. */
static yard__out_t *
out_nth (yard_server_t *s, size_t i)
{
    yard__out_t *o = &s->out[i % s->nout];
    if (!o->buf || (i < s->nout) != (o->sock == YARD__CLIENT))
        return NULL;
    return o;
}

/* Sends the outbox. */
static void
out_flush (yard_server_t *s)
{
    for (size_t i = 0; i < 2 * s->nout; i++) {
        yard__out_t *o = out_nth (s, i);
        if (o)
            out_send (s, o);
    }
    s->nout = 0;
}

static void
out_drop (yard__out_t *v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free (v[i].buf);
    *n = 0;
}

/* ---- group commit (syncer.h) ----
 *
 * With --sync full the store's commits write the WAL and return; the
 * syncer's thread fdatasyncs it.  The messages of a batch (replies,
 * acknowledgements, dispatches, events) wait in s->held, in sending
 * order and tagged with the number of the last commit that wrote, until
 * that number is durable.  A batch that wrote nothing carries the number
 * of the last commit that did: what it answers may have been read from
 * it.  So nothing leaves before the state it reports is on the disk, and
 * the messages leave in the order they were made. */

/* Sends what a sync that ended since lets out, without waiting for the
 * loop's wake-up: called inside long batches and before a batch's own
 * answers, so that the older answers go first. */
static void
held_poll (yard_server_t *s)
{
    if (s->syncer && s->nheld > 0)
        yard_syncer_poll (s->syncer);
}

/* Sends the held messages whose commit is durable. */
static void
held_release (yard_server_t *s)
{
    size_t i = 0;
    for (; i < s->nheld && s->held[i].seq <= s->durable_seq; i++)
        out_send (s, &s->held[i]);
    if (i > 0) {
        memmove (s->held, s->held + i, (s->nheld - i) * sizeof s->held[0]);
        s->nheld -= i;
    }
}

/* The scheduler cannot make its state durable: nothing more is sent. */
static void
sync_fatal (yard_server_t *s, int rc)
{
    if (s->sync_failed)
        return;
    s->sync_failed = true;
    log_err ("cannot make the state store durable (fdatasync of %s/state.db"
             "-wal: %s): stopping; the %zu message%s waiting for it %s not "
             "sent, so nothing that depends on it was acknowledged, and the "
             "next start recovers the state from the disk", s->state_dir,
             strerror (-rc), s->nheld + s->nout, plural (s->nheld + s->nout),
             s->nheld + s->nout == 1 ? "is" : "are");
    out_drop (s->held, &s->nheld);
    out_drop (s->out, &s->nout);
    if (s->on_fatal)
        s->on_fatal (s->on_fatal_arg);
    else
        yard_server_shutdown (s);
}

/* Make every commit durable on this thread, then send what waits. */
static void
sync_now (yard_server_t *s)
{
    int rc = yard_store_wal_sync (s->store);
    if (rc < 0) {
        sync_fatal (s, rc);
        return;
    }
    s->durable_seq = s->commit_seq;
    held_release (s);
    out_flush (s);
}

static void
on_durable (uint64_t seq, int rc, void *arg)
{
    yard_server_t *s = arg;
    if (rc < 0) {
        sync_fatal (s, rc);
        return;
    }
    if (seq > s->durable_seq)
        s->durable_seq = seq;
    held_release (s);
}

static int
store_sync (void *arg)
{
    return yard_store_wal_sync (arg);
}

/* The end of a batch's commit: send its outbox now, or hold it until
 * its commit is durable (wrote: the commit wrote something). */
static void
out_release (yard_server_t *s, bool wrote)
{
    if (!s->sync_deferred) {
        out_flush (s); /* --sync normal, or the commit synced */
        return;
    }
    if (s->sync_failed) {
        out_drop (s->out, &s->nout);
        return;
    }
    if (wrote) {
        s->commit_seq++;
        if (s->syncer)
            yard_syncer_want (s->syncer, s->commit_seq);
    }
    if (s->nheld == 0 && s->durable_seq >= s->commit_seq) {
        out_flush (s);
        return;
    }
    if (!s->syncer) {
        sync_now (s); /* stopping: the thread is gone */
        return;
    }
    if (s->nheld + s->nout > s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap : 256;
        while (cap < s->nheld + s->nout)
            cap *= 2;
        yard__out_t *v = realloc (s->held, cap * sizeof v[0]);
        if (!v) {
            sync_now (s); /* no room to wait: wait here */
            return;
        }
        s->held = v;
        s->held_cap = cap;
    }
    for (size_t i = 0; i < 2 * s->nout; i++) {
        yard__out_t *o = out_nth (s, i);
        if (!o)
            continue;
        o->seq = s->commit_seq;
        s->held[s->nheld++] = *o;
        o->buf = NULL;
    }
    s->nout = 0;
}

/* After a rollback: client replies become errors, worker messages are
 * dropped (workers resend), error replies stand. */
static void
out_convert (yard_server_t *s, int rc)
{
    char text[512];
    int code = rc == -ENOSPC ? ENOSPC : EIO;
    if (code == ENOSPC)
        snprintf (text, sizeof text, "the scheduler cannot write its state "
                  "(disk full): nothing was accepted; free space under %s "
                  "and retry", s->state_dir);
    else
        snprintf (text, sizeof text, "the scheduler's state store failed "
                  "(%s): nothing was accepted; see the scheduler log and "
                  "retry", strerror (-rc));
    size_t n = 0;
    for (size_t i = 0; i < s->nout; i++) {
        yard__out_t o = s->out[i];
        if (!o.is_error) {
            free (o.buf);
            o.buf = NULL;
            if (o.sock != YARD__CLIENT
                || encode_error (o.request_id, code, text, &o.buf, &o.len)
                       < 0)
                continue;
            o.is_error = true;
        }
        s->out[n++] = o;
    }
    s->nout = n;
}

/* ---- batch bookkeeping ---- */

static int
mark_dirty_id (yard_server_t *s, uint64_t id)
{
    if (s->ndirty == s->dirty_cap) {
        size_t cap = s->dirty_cap ? s->dirty_cap * 2 : 256;
        uint64_t *v = realloc (s->dirty, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        s->dirty = v;
        s->dirty_cap = cap;
    }
    s->dirty[s->ndirty++] = id;
    return 0;
}

void
yard__mark_dirty (yard_server_t *s, yard_job_t *job)
{
    yard__events_job (s, job);
    if (job->mark == s->batch_gen)
        return;
    job->mark = s->batch_gen;
    if (mark_dirty_id (s, job->id) < 0) {
        /* Out of memory: fail the batch and reload everything on the
         * rollback, since this job would not be. */
        s->dirty_overflow = true;
        yard__fail (s, -ENOMEM);
    }
}

void
yard__touch_node (yard_server_t *s, yard_node_t *node)
{
    if (node->mark == s->batch_gen)
        return;
    if (s->ntouched == s->touched_cap) {
        size_t cap = s->touched_cap ? s->touched_cap * 2 : 16;
        yard_node_t **v = realloc (s->touched, cap * sizeof v[0]);
        if (!v) {
            s->dirty_overflow = true;
            yard__fail (s, -ENOMEM);
            return;
        }
        s->touched = v;
        s->touched_cap = cap;
    }
    node->mark = s->batch_gen;
    s->touched[s->ntouched++] = node;
}

int
yard__job_save (yard_server_t *s, yard_job_t *job)
{
    yard__mark_dirty (s, job);
    int rc = yard_store_job_update (s->store, job);
    if (rc < 0) {
        log_err ("cannot write job %" PRIu64 ": %s", job->id,
                 yard_store_errmsg (s->store));
        return yard__fail (s, rc);
    }
    /* the attempt history follows the dispatch and the start */
    if (yard_job_is_active (job) && (rc = yard__attempt_begin (s, job)) < 0)
        return rc;
    return s->batch_failed;
}

/* ---- reservations ---- */

static uint64_t
sat_add (uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t
sat_sub (uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Count job's resources as reserved on node. */
static void
charge (yard_job_t *job, yard_node_t *node)
{
    node->cpus_used = (uint32_t)sat_add (node->cpus_used, yard_job_cpus (job));
    node->gpus_used = (uint32_t)sat_add (node->gpus_used, yard_job_gpus (job));
    node->memory_used = sat_add (node->memory_used, yard_job_memory (job));
}

void
yard__job_charge (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    charge (job, node);
    yard_nodes_changed (s->nodes, node);
}

/* A successor (yard_job_ahead_alloc) reserves nothing until its predecessor
 * ends (server_ahead.c). */
static void
attach (yard_job_t *job, yard_node_t *node)
{
    if (!yard_job_ahead_alloc (job))
        charge (job, node);
    job->wprev = NULL;
    job->wnext = node->jobs;
    if (node->jobs)
        node->jobs->wprev = job;
    node->jobs = job;
    node->njobs++;
    job->worker = node;
}

/* attach, then keep the free-capacity heaps in order */
static void
attach_indexed (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    attach (job, node);
    yard_nodes_changed (s->nodes, node);
}

void
yard__job_attach (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    attach_indexed (s, job, node);
}

static void
detach (yard_server_t *s, yard_job_t *job)
{
    yard_node_t *node = job->worker;
    if (!node)
        return;
    if (!yard_job_ahead_alloc (job)) {
        node->cpus_used
            = (uint32_t)sat_sub (node->cpus_used, yard_job_cpus (job));
        node->gpus_used
            = (uint32_t)sat_sub (node->gpus_used, yard_job_gpus (job));
        node->memory_used
            = sat_sub (node->memory_used, yard_job_memory (job));
        yard__place_release (job); /* its PUs and GPUs */
    }
    if (job->wprev)
        job->wprev->wnext = job->wnext;
    else
        node->jobs = job->wnext;
    if (job->wnext)
        job->wnext->wprev = job->wprev;
    job->wprev = job->wnext = NULL;
    if (node->njobs > 0)
        node->njobs--;
    job->worker = NULL;
    /* its successor takes over its PUs, or it leaves its predecessor */
    yard__ahead_detach (s, job, node);
    yard_nodes_changed (s->nodes, node);
}

/* Reserve job's resources on the node it names, creating a placeholder
 * node (UP, awaiting register) if the name is unknown: it then gets one
 * worker timeout to register before its jobs are requeued. */
static int
attach_by_name (yard_server_t *s, yard_job_t *job)
{
    yard_node_t *node = yard_nodes_get (s->nodes, job->node);
    if (!node) {
        if (!(node = yard_nodes_add (s->nodes, job->node)))
            return -errno;
        node->state = YARD__NODE_STATE__NODE_UP;
        node->last_seen_mono = yard_mono_ms ();
        log_warn ("job %" PRIu64 " is on node %s, which never registered: "
                  "waiting for it", job->id, node->name);
    }
    /* its current attempt's allocation, read once: a successor keeps it
     * to wait with and holds nothing; any other job holds it */
    Yard__Allocation *rec = NULL;
    uint32_t attempt = 0;
    if (yard_store_alloc_get (s->store, job->id, &attempt, &rec) == 0
        && attempt != job->attempt) {
        yard__allocation__free_unpacked (rec, NULL);
        rec = NULL;
    }
    bool successor = yard__ahead_restore (job, rec);
    attach_indexed (s, job, node);
    if (!successor) {
        yard__place_restore (s, job, node, rec);
        yard__cands_add (s, job);
    }
    if (rec)
        yard__allocation__free_unpacked (rec, NULL);
    return 0;
}

/* Put a job (just loaded or reloaded) where its state says. */
static void
place_job (yard_server_t *s, yard_job_t *job)
{
    job->worker = NULL;
    job->wprev = job->wnext = NULL;
    yard__ahead_forget (job); /* rebuilt from the attempt rows */
    if (yard_job_is_active (job)) {
        if (attach_by_name (s, job) == 0) {
            yard__gang_restore (s, job); /* its other nodes */
            return;
        }
        log_err ("job %" PRIu64 ": its node '%s' is unusable; requeued",
                 job->id, job->node ? job->node : "");
    }
    if (job->state != YARD__JOB_STATE__JOB_PENDING) {
        /* LOST and PREEMPTING are never stored; be lenient anyway. */
        job->state = YARD__JOB_STATE__JOB_PENDING;
    }
    if (yard__job_enqueue (s, job) < 0)
        log_err ("out of memory: job %" PRIu64 " cannot be queued", job->id);
}

static int
rebuild_one (yard_job_t *job, void *arg)
{
    place_job (arg, job);
    yard__deps_place (arg, job);
    return 0;
}

/* Recompute the heap and every node's reservation from the job map. */
static void
rebuild (yard_server_t *s)
{
    yard_queue_clear_pending (s->queue);
    yard_waitq_clear (s->waitq);
    yard__deps_reset (s);
    yard__gang_reset (s);
    s->cands = s->cands_tail = NULL;
    for (size_t i = 0; i < yard_nodes_count (s->nodes); i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        node->jobs = NULL;
        node->njobs = 0;
        node->cpus_used = node->gpus_used = 0;
        node->memory_used = 0;
        yard__place_clear (node);
        yard_nodes_changed (s->nodes, node);
    }
    (void)yard_queue_foreach (s->queue, rebuild_one, s);
    yard__ahead_relink (s); /* successors and the jobs they follow */
}

static int
collect_job (yard_job_t *job, void *arg)
{
    yard_job_t ***pp = arg;
    *(*pp)++ = job;
    return 0;
}

static int
load_job (yard_job_t *job, void *arg)
{
    yard_server_t *s = arg;
    if (yard_queue_add (s->queue, job) < 0) {
        yard_job_destroy (&job);
        return -ENOMEM;
    }
    return 0;
}

/* Drop every job from memory and load them all again (rollback when the
 * batch could not be tracked). */
static void
reload_all (yard_server_t *s)
{
    size_t n = yard_queue_count (s->queue);
    yard_job_t **v = malloc ((n ? n : 1) * sizeof v[0]);
    if (!v) {
        log_err ("out of memory while recovering from a failed write: "
                 "exiting so a restart reloads the state");
        exit (1);
    }
    yard_job_t **p = v;
    (void)yard_queue_foreach (s->queue, collect_job, &p);
    yard_queue_clear_pending (s->queue);
    for (size_t i = 0; i < n; i++) {
        (void)yard_queue_del (s->queue, v[i]);
        yard__parks_drop (s, v[i]);
        yard_job_destroy (&v[i]);
    }
    free (v);
    int rc = yard_store_jobs_active (s->store, load_job, s);
    if (rc < 0) {
        log_err ("cannot reload the jobs (%s): exiting so a restart "
                 "reloads the state", yard_store_errmsg (s->store));
        exit (1);
    }
}

/* Undo the in-memory effects of a rolled-back batch. */
static void
restore (yard_server_t *s)
{
    if (s->dirty_overflow) {
        reload_all (s);
        s->dirty_overflow = false;
    }
    for (size_t i = 0; i < s->ndirty; i++) {
        uint64_t id = s->dirty[i];
        yard_job_t *mem = yard_queue_find (s->queue, id);
        yard_job_t *db = NULL;
        int rc = yard_store_job_get (s->store, id, &db);
        if (rc < 0 && rc != -ENOENT) {
            log_err ("cannot reload job %" PRIu64 " after a rollback (%s): "
                     "keeping its state in memory", id,
                     yard_store_errmsg (s->store));
            continue;
        }
        if (rc == -ENOENT || yard_job_state_is_terminal (db->state)) {
            if (mem) {
                (void)yard_queue_del (s->queue, mem);
                yard__parks_drop (s, mem);
                yard_job_destroy (&mem);
            }
            yard_job_destroy (&db);
            continue;
        }
        if (mem) {
            yard_job_swap_record (mem, db);
            yard_job_destroy (&db);
        } else if (yard_queue_add (s->queue, db) < 0) {
            log_err ("out of memory: job %" PRIu64 " lost from memory until "
                     "restart", id);
            yard_job_destroy (&db);
        }
    }
    /* A node changed in the batch goes back to "awaiting register": the
     * worker's next heartbeat is answered known=false, it registers again
     * and is reconciled against the state that did reach the disk. */
    for (size_t i = 0; i < s->ntouched; i++) {
        yard_node_t *node = s->touched[i];
        node->state = YARD__NODE_STATE__NODE_UP;
        yard_nodes_unbind (s->nodes, node);
    }
    rebuild (s);
}

/* ---- job transitions ---- */

static void
wake (yard_server_t *s, yard_job_t *job)
{
    if (job->parks)
        yard__parks_wake (s, job);
}

int
yard__job_started (yard_server_t *s, yard_job_t *job, int64_t start_ms)
{
    job->state = YARD__JOB_STATE__JOB_RUNNING;
    job->start_ms = start_ms > 0 ? start_ms : yard_now_ms ();
    int rc = yard__job_save (s, job);
    log_info ("job %" PRIu64 " attempt %u RUNNING on %s", job->id,
              job->attempt, job->node ? job->node : "?");
    wake (s, job);
    return rc;
}

void
yard__job_ran (yard_server_t *s, yard_job_t *job, int64_t start_ms)
{
    job->state = YARD__JOB_STATE__JOB_RUNNING;
    job->start_ms = start_ms;
    yard__mark_dirty (s, job); /* its event */
    log_info ("job %" PRIu64 " attempt %u RUNNING on %s (reported with its "
              "end)", job->id, job->attempt, job->node ? job->node : "?");
    wake (s, job);
}

int
yard__job_end (yard_server_t *s, yard_job_t *job, Yard__JobState state,
               Yard__EndReason why, int32_t exit_code, int32_t signo,
               int64_t end_ms, const char *reason)
{
    (void)yard_queue_unqueue (s->queue, job);
    (void)yard_waitq_remove (s->waitq, job);
    yard__array_leave (s, job);
    bool held = job->worker != NULL;
    /* No yard__attempt_end: the attempt that ends with its job keeps its
     * end in the job's row alone (yard__attempts_fill). */
    yard__gang_detach (s, job);
    detach (s, job);
    job->state = state;
    job->end_reason = why;
    job->exit_code = exit_code;
    job->term_signal = signo;
    job->end_ms = end_ms > 0 ? end_ms : yard_now_ms ();
    if (yard_job_set_reason (job, "%s", reason ? reason : "") < 0)
        yard__fail (s, -ENOMEM);
    int rc = yard__job_save (s, job);
    log_info ("job %" PRIu64 " %s%s%s%s%s", job->id,
              yard_job_state_name (state), held ? " on " : "",
              held && job->node ? job->node : "", reason ? ": " : "",
              reason ? reason : "");
    yard__parks_flush (s, job);
    (void)yard_queue_del (s->queue, job);
    yard__pipeline_job_ended (s, job, state); /* a pipeline step's job */
    uint64_t id = job->id;
    yard_job_destroy (&job);
    if (held)
        s->need_dispatch = true;
    yard__deps_ended (s, id, state); /* after: it may cancel dependents */
    return rc ? rc : s->batch_failed;
}

int
yard__job_requeue (yard_server_t *s, yard_job_t *job, const char *why)
{
    return yard__job_requeue_at (s, job, why, YARD__END_REASON__END_LOST, 0,
                                 0, 0, why, false, 0);
}

int
yard__job_requeue_at (yard_server_t *s, yard_job_t *job, const char *why,
                      Yard__EndReason end, int32_t exit_code, int32_t signo,
                      int64_t end_ms, const char *hist, bool counted,
                      int64_t eligible_ms)
{
    bool lost = end == YARD__END_REASON__END_LOST;
    yard__array_leave (s, job);
    yard__gang_detach (s, job);
    detach (s, job);
    if (lost)
        job->lost_count++;
    if (job->cancel_requested) {
        char text[512];
        snprintf (text, sizeof text, "cancelled (%s before the job "
                  "confirmed it stopped)", why);
        return yard__job_end (s, job, YARD__JOB_STATE__JOB_CANCELLED,
                              YARD__END_REASON__END_LOST, 0, 0, 0, text);
    }
    (void)yard__attempt_end (s, job, end, exit_code, signo, end_ms, hist,
                             counted, eligible_ms);
    job->state = YARD__JOB_STATE__JOB_PENDING;
    job->start_ms = 0;
    job->eligible_ms = eligible_ms;
    if (yard_job_set_reason (job, "%s", why) < 0)
        yard__fail (s, -ENOMEM);
    int rc = yard__job_save (s, job);
    if (yard__job_enqueue (s, job) < 0)
        yard__fail (s, -ENOMEM);
    if (lost)
        log_info ("job %" PRIu64 " attempt %u LOST -> PENDING (%s; lost %u "
                  "times)", job->id, job->attempt, why, job->lost_count);
    else
        log_info ("job %" PRIu64 " attempt %u -> PENDING (%s)", job->id,
                  job->attempt, why);
    wake (s, job);
    s->need_dispatch = true;
    return rc ? rc : s->batch_failed;
}

/* PENDING (already popped from the heap) -> ASSIGNED to node, with a new
 * attempt number; the Dispatch leaves after the COMMIT.  With pred (an
 * active job on node, server_ahead.c) the job is its successor: it takes
 * pred's PUs and GPUs once pred ends there, and reserves nothing until
 * then. */
static int
job_assign (yard_server_t *s, yard_job_t *job, yard_node_t *node,
            yard_job_t *pred)
{
    job->attempt++;
    job->state = YARD__JOB_STATE__JOB_ASSIGNED;
    job->start_ms = 0;
    if (yard_job_set_node (job, node->name) < 0
        || yard_job_set_reason (job, NULL) < 0)
        yard__fail (s, -ENOMEM);
    int prc = pred ? yard__ahead_link (s, job, pred) : 0;
    if (prc < 0)
        return yard__fail (s, prc);
    attach (job, node);
    yard__array_enter (s, job);
    node->last_assign = ++s->assign_seq;
    yard_nodes_changed (s->nodes, node);
    /* its PUs and GPUs: dispatch_pass checked that they exist */
    const Yard__Allocation *alloc = yard_job_ahead_alloc (job);
    if (!pred)
        prc = yard__place_assign (s, job, node, &alloc);
    yard__cands_add (s, job); /* a successor too, short of the depth */
    if (prc == -ENOSPC)
        log_warn ("job %" PRIu64 ": no PUs/GPUs of its own on %s: it runs "
                  "unbound", job->id, node->name);
    else if (prc < 0)
        return yard__fail (s, prc);
    /* The attempt's row records the dispatch; the job's row catches up at
     * its next write (store.c, the header comment). */
    yard__mark_dirty (s, job);
    int rc = yard__attempt_begin (s, job);
    if (rc < 0 || (rc = s->batch_failed) < 0)
        return rc;
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__Dispatch d = YARD__DISPATCH__INIT;
    d.job_id = job->id;
    d.attempt = job->attempt;
    d.spec = job->spec;
    d.alloc = (Yard__Allocation *)alloc; /* packed, not changed */
    /* server_checkpoints.c: where to resume from, for workers that do not
     * share a checkpoint root.  Checkpoints are recorded only for a job's
     * current attempt (yard__on_checkpoint_commit), and ids are never
     * reused, so a first attempt has none: no lookup. */
    d.resume_from = job->attempt > 1 ? yard__checkpoint_newest (s, job->id)
                                     : NULL;
    /* the node's JobFinished reports of this batch ride along */
    d.finished_acks = yard__acks_take (node, &d.n_finished_acks);
    d.ahead_wait_ms = pred ? s->ahead_wait_ms : 0;
    env.body_case = YARD__ENVELOPE__BODY_DISPATCH;
    env.dispatch = &d;
    rc = yard__send_node (s, node, &env);
    if (rc == 0)
        yard__acks_taken (node, d.n_finished_acks);
    free (d.resume_from);
    if (rc < 0 && s->batch_failed)
        return s->batch_failed;
    if (pred)
        log_info ("job %" PRIu64 " attempt %u ASSIGNED to %s after job "
                  "%" PRIu64, job->id, job->attempt, node->name, pred->id);
    else
        log_info ("job %" PRIu64 " attempt %u ASSIGNED to %s", job->id,
                  job->attempt, node->name);
    wake (s, job);
    return 0;
}

int
yard__node_lost (yard_server_t *s, yard_node_t *node, const char *why)
{
    char text[320];
    yard__touch_node (s, node);
    node->state = YARD__NODE_STATE__NODE_DOWN;
    yard_nodes_unbind (s->nodes, node);
    uint32_t n = node->njobs;
    snprintf (text, sizeof text, "node %s lost", node->name);
    /* requeue detaches the job, so the list shrinks each time */
    while (node->jobs)
        (void)yard__job_requeue (s, node->jobs, text);
    yard__gang_node_lost (s, node); /* gangs with another rank here */
    log_warn ("worker %s lost (%s): %u job%s requeued", node->name, why, n,
              n == 1 ? "" : "s");
    return s->batch_failed;
}

int
yard__job_lookup (yard_server_t *s, uint64_t id, yard_job_t **job,
                  yard_job_t **owned)
{
    *owned = NULL;
    if ((*job = yard_queue_find (s->queue, id)))
        return 0;
    int rc = yard_store_job_get (s->store, id, owned);
    *job = *owned;
    return rc;
}

static const char *
plural (uint64_t n)
{
    return n == 1 ? "" : "s";
}

void
yard__capacity (yard_server_t *s, yard__capacity_t *cap)
{
    memset (cap, 0, sizeof *cap);
    cap->nodes = yard_nodes_count (s->nodes);
    for (size_t i = 0; i < cap->nodes; i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        if (node->cpus > cap->max_cpus)
            cap->max_cpus = node->cpus;
        if (node->gpus > cap->max_gpus)
            cap->max_gpus = node->gpus;
        if (node->memory > cap->max_memory)
            cap->max_memory = node->memory;
        if (node->state == YARD__NODE_STATE__NODE_UP && node->bound)
            cap->up++;
    }
}

const char *
yard__pending_reason (yard_server_t *s, const yard_job_t *job, size_t rank,
                      const yard__capacity_t *cap, char *buf, size_t len)
{
    if (yard__deps_reason (s, job, buf, len))
        return buf;
    yard__capacity_t local;
    if (!cap) {
        yard__capacity (s, &local);
        cap = &local;
    }
    char pre[300] = "";
    if (job->reason && *job->reason)
        snprintf (pre, sizeof pre, "%.280s; ", job->reason);
    uint32_t cpus = yard_job_cpus (job), gpus = yard_job_gpus (job);
    uint64_t mem = yard_job_memory (job);
    uint32_t cores = 0;
    char a[32], b[32];
    char admin[300];
    if (cap->nodes > 0
        && yard__nodeadmin_reason (s, job, admin, sizeof admin))
        snprintf (buf, len, "%s%s", pre, admin);
    else if (cap->nodes == 0)
        snprintf (buf, len, "%swaiting for resources: no worker has "
                  "registered yet", pre);
    else if (yard__gang_reason (s, job, pre, buf, len))
        ; /* too few nodes for a multi-node job */
    else if (cpus > cap->max_cpus)
        snprintf (buf, len, "%swaiting for resources: no node has %u CPU%s "
                  "(largest: %u)", pre, cpus, plural (cpus), cap->max_cpus);
    else if (yard__place_too_big (s, cpus, &cores))
        snprintf (buf, len, "%swaiting for resources: no node has %u whole "
                  "core%s (largest: %u)", pre, cpus, plural (cpus), cores);
    else if (gpus > cap->max_gpus)
        snprintf (buf, len, "%swaiting for resources: no node has %u GPU%s "
                  "(largest: %u)", pre, gpus, plural (gpus), cap->max_gpus);
    else if (mem > cap->max_memory)
        snprintf (buf, len, "%swaiting for resources: no node has %s of "
                  "memory (largest: %s)", pre,
                  yard_format_size (mem, a, sizeof a),
                  yard_format_size (cap->max_memory, b, sizeof b));
    else if (cap->up == 0)
        snprintf (buf, len, "%swaiting for resources: no node is up", pre);
    else {
        if (rank == SIZE_MAX)
            rank = job->heap_idx != YARD_JOB_NO_HEAP
                       ? yard_queue_rank (s->queue, job)
                       : 0;
        if (rank > 0)
            snprintf (buf, len, "%swaiting for resources: queued behind %zu "
                      "job%s", pre, rank, plural (rank));
        else
            snprintf (buf, len, "%swaiting for resources", pre);
    }
    return yard_utf8_sanitize (buf); /* "%.280s" may cut a character */
}

/* ---- dispatch ---- */

static int
stash (yard_server_t *s, size_t *n, yard_job_t *job)
{
    if (*n == s->stash_cap) {
        size_t cap = s->stash_cap ? s->stash_cap * 2 : 64;
        yard_job_t **v = realloc (s->stash, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        s->stash = v;
        s->stash_cap = cap;
    }
    s->stash[(*n)++] = job;
    return 0;
}

/* Set job aside until the end of the pass; false when out of memory (it
 * went back into the heap, and the pass stops). */
static bool
skip (yard_server_t *s, size_t *n, yard_job_t *job)
{
    if (stash (s, n, job) == 0)
        return true;
    (void)yard_queue_push (s->queue, job);
    return false;
}

/* yard_nodes_best's test: the job fits node's free GPUs, memory, PUs and
 * its constraints (free CPUs and being open are checked by the walk). */
struct accept_arg {
    yard_server_t *s;
    yard_job_t *job;
};

static bool
accept_node (yard_node_t *node, void *arg)
{
    yard_server_t *s = ((struct accept_arg *)arg)->s;
    yard_job_t *job = ((struct accept_arg *)arg)->job;
    uint32_t c = yard_job_cpus (job), g = yard_job_gpus (job);
    return yard_node_free_gpus (node) >= g
           && yard_node_free_memory (node) >= yard_job_memory (job)
           && yard__node_takes_jobs (node) && yard__place_fits (s, node, c, g)
           && yard__node_matches (node, job);
}

/* The nodes a gang job may use, into s->cand: up, bound and taking jobs.
 * Returns their count, or (size_t)-1 when out of memory. */
static size_t
gang_candidates (yard_server_t *s)
{
    size_t nnodes = yard_nodes_count (s->nodes);
    if (nnodes > s->cand_cap) {
        yard_node_t **v = realloc (s->cand, nnodes * sizeof v[0]);
        if (!v) {
            log_err ("out of memory: dispatch postponed");
            s->need_dispatch = true;
            return (size_t)-1;
        }
        s->cand = v;
        s->cand_cap = nnodes;
    }
    size_t ncand = 0;
    for (size_t i = 0; i < nnodes; i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        if (node->state == YARD__NODE_STATE__NODE_UP && node->bound
            && yard__node_takes_jobs (node))
            s->cand[ncand++] = node;
    }
    return ncand;
}

/* Walk pending jobs in priority order and place those that fit.  Each goes
 * to the up worker with the most free CPUs among those that fit it (which
 * spreads the load), the least recently used one among equals (so short
 * jobs submitted one by one rotate over idle workers instead of all landing
 * on the first); a job that fits nowhere is skipped so smaller ones
 * behind it can start (backfill).  The walk stops when no worker has a
 * free CPU (every job needs one) or after YARD__MAX_SKIPS skips.
 *
 * The nodes come from their free-capacity heaps (node.h): the largest free
 * CPUs/GPUs/memory are read in O(1), the best node is the top of the CPU
 * heap and a placement re-orders the node in O(log workers).  A job that
 * the best node cannot take (constraints, GPU type, GPUs, memory, PU
 * fragmentation) visits the next nodes in order, O(log) each.  So a pass
 * costs O((placed + skips) * (log n + log workers)) for ordinary jobs
 * whatever the queue's length and the number of workers.  Skipped jobs go
 * back into the heap (its array never shrinks, so pushing them back
 * cannot fail).
 *
 * Every YARD__YIELD_EVERY placements the pass looks at the client port
 * and, when a request waits there, stops: its batch commits, the request
 * is handled in a batch of its own, and the pass goes on after it (the
 * `more` idle handle, yard__batch_end).  A pass in a batch that answers
 * client requests (bounded) places at most YARD__YIELD_EVERY jobs before
 * its commit and leaves the rest to a batch of its own, so that an
 * acknowledgement never waits behind a pass over hundreds of free
 * slots. */
static bool client_waiting (yard_server_t *s);

/* Every YARD__YIELD_EVERY placements of a pass: release what became
 * durable, and tell whether the pass stops for a client request (the
 * rest in a batch of its own). */
static bool
pass_yields (yard_server_t *s, bool bounded, size_t placed)
{
    if (placed == 0 || placed % YARD__YIELD_EVERY != 0)
        return false;
    held_poll (s);
    if (!bounded && !client_waiting (s))
        return false;
    s->need_dispatch = true;
    s->dispatch_yielded = true;
    return true;
}

/* The jobs left pending by the pass, in priority order, each sent as the
 * successor of an active job of its shape (server_ahead.c), with the
 * pass's bounds: YARD__MAX_SKIPS jobs that find none, a yield to a
 * waiting client every YARD__YIELD_EVERY placements. */
static void
ahead_pass (yard_server_t *s, bool bounded, size_t placed)
{
    size_t nstash = 0, skips = 0;
    yard_job_t *job;
    while (skips < YARD__MAX_SKIPS && s->cands && !s->batch_failed) {
        if (pass_yields (s, bounded, placed))
            break;
        if (!(job = yard_queue_pop (s->queue)))
            break;
        if (yard__array_throttle (s, job))
            continue;
        yard_job_t *pred = yard__ahead_find (s, job);
        if (!pred) {
            if (!skip (s, &nstash, job))
                break;
            skips++;
            continue;
        }
        if (job_assign (s, job, pred->worker, pred) < 0)
            break; /* the rollback rebuilds the heap */
        placed++;
    }
    for (size_t i = 0; i < nstash; i++)
        (void)yard_queue_push (s->queue, s->stash[i]);
}

static void
dispatch_pass (yard_server_t *s, bool bounded)
{
    s->need_dispatch = false;
    if (yard_queue_pending (s->queue) == 0)
        return;
    uint32_t max_cpus, max_gpus;
    uint64_t max_mem;
    yard_nodes_max_free (s->nodes, &max_cpus, &max_gpus, &max_mem);
    size_t nstash = 0, skips = 0, placed = 0;
    yard_job_t *job;
    while (skips < YARD__MAX_SKIPS && max_cpus > 0 && !s->batch_failed) {
        if (pass_yields (s, bounded, placed))
            break;
        if (!(job = yard_queue_pop (s->queue)))
            break;
        if (yard__array_throttle (s, job))
            continue; /* set aside until a member of its array ends */
        if (yard_job_is_gang (job)) {
            /* A gang looks at every node (it needs several): O(workers),
             * paid only by gang jobs. */
            size_t ncand = gang_candidates (s);
            int g = ncand == (size_t)-1
                        ? -1
                        : yard__gang_assign (s, job, s->cand, ncand);
            if (g < 0) {
                if (ncand == (size_t)-1)
                    (void)yard_queue_push (s->queue, job);
                break; /* the rollback rebuilds the heap */
            }
            if (g == 0) {
                if (!skip (s, &nstash, job))
                    break;
                skips++;
            } else {
                placed++;
                yard_nodes_max_free (s->nodes, &max_cpus, &max_gpus,
                                     &max_mem);
            }
            continue;
        }
        uint32_t c = yard_job_cpus (job), g = yard_job_gpus (job);
        yard_node_t *best = NULL;
        if (c <= max_cpus && g <= max_gpus && yard_job_memory (job) <= max_mem)
            best = yard_nodes_best (s->nodes, c, accept_node,
                                   &(struct accept_arg){ s, job });
        if (!best) {
            if (!skip (s, &nstash, job))
                break;
            skips++;
            continue;
        }
        if (job_assign (s, job, best, NULL) < 0)
            break; /* the rollback rebuilds the heap */
        placed++;
        yard_nodes_max_free (s->nodes, &max_cpus, &max_gpus, &max_mem);
    }
    for (size_t i = 0; i < nstash; i++)
        (void)yard_queue_push (s->queue, s->stash[i]);
    if (s->cands && !s->need_dispatch && !s->batch_failed)
        ahead_pass (s, bounded, placed);
}

/* ---- the batch ---- */

/* The end of a batch: the dispatch pass, one commit, then the outbox.  In
 * a batch that answers client requests the pass is bounded
 * (dispatch_pass): an acknowledgement waits for its batch, a few
 * placements and the commit.  A pass that stopped early goes on in a
 * batch of its own from the `more` idle handle, which runs once the loop
 * has looked at the sockets again. */
static void
more_cb (uv_idle_t *h)
{
    yard_server_t *s = h->data;
    uv_idle_stop (h);
    if (s->need_dispatch && !s->stopping)
        yard__batch_end (s);
}

void
yard__batch_end (yard_server_t *s)
{
    bool bounded = s->batch_clients > 0;
    s->batch_clients = 0;
    s->dispatch_yielded = false;
    if (!s->batch_failed && s->need_dispatch && !s->stopping)
        dispatch_pass (s, bounded);
    /* The acks no Dispatch took leave alone, unless the pass yielded and
     * goes on in a batch of its own right after this one (a pass over
     * many freed nodes yields every YARD__YIELD_EVERY placements while
     * clients wait): they wait for the Dispatches of the batches that go
     * on with it, at most YARD__ACKS_KEEP of them. */
    bool keep = !s->batch_failed && s->dispatch_yielded && s->need_dispatch
                && s->more_open && !s->stopping
                && s->acks_kept < YARD__ACKS_KEEP;
    if (!keep)
        yard__acks_flush (s);
    s->acks_kept = keep ? s->acks_kept + 1 : 0;
    int rc = s->batch_failed;
    bool wrote = rc == 0 && yard_store_in_txn (s->store);
    if (rc == 0)
        rc = yard_store_commit (s->store);
    else
        yard_store_rollback (s->store);
    if (rc < 0) {
        yard__acks_drop (s); /* what this batch would have acknowledged */
        s->acks_kept = 0;
        log_err ("state store write failed (%s%s%s): rolled back the changes "
                 "of this batch (%zu job%s); %s", strerror (-rc),
                 *yard_store_errmsg (s->store) ? ": " : "",
                 yard_store_errmsg (s->store), s->ndirty, plural (s->ndirty),
                 "clients are told nothing was accepted");
        restore (s);
        out_convert (s, rc);
        /* The cron retries dispatch; doing it in every batch would fail
         * read-only requests too while the disk stays full. */
        s->need_dispatch = false;
    }
    yard__events_commit (s, rc == 0);
    s->ndirty = 0;
    s->ntouched = 0;
    s->batch_failed = 0;
    s->batch_gen++;
    held_poll (s);
    out_release (s, rc == 0 && wrote);
    if (s->dispatch_yielded && s->need_dispatch && s->more_open
        && !s->stopping)
        uv_idle_start (&s->more, more_cb);
}

/* ---- sockets ---- */

static void
drop (yard_server_t *s, int sock, const yard_peer_t *peer, int rc,
      const yard_error_t *err)
{
    char p[2 * YARD_MAX_ROUTING_ID + 1];
    if (++s->drops[sock] <= DROP_LOG_MAX)
        log_warn ("dropped a malformed message from %s peer %s: %s",
                  sock_name[sock], yard_peer_str (peer, p, sizeof p),
                  err->text[0] ? err->text : strerror (-rc));
    /* The version is known to be wrong, so say so, about that request. */
    if (rc == -EPROTO && peer->len > 0)
        yard__reply_error (s, sock, peer, err->request_id, EPROTO, "%s",
                           err->text);
}

static void
handle (yard_server_t *s, int sock, const yard_peer_t *peer, yard_env_t *env)
{
    char p[2 * YARD_MAX_ROUTING_ID + 1];
    int body = (int)env->body_case;
    if (body == YARD__ENVELOPE__BODY_ERROR) {
        /* Never answer an error with an error: two peers could loop. */
        log_warn ("%s peer %s sent an error (%d: %s); ignored",
                  sock_name[sock], yard_peer_str (peer, p, sizeof p),
                  env->error ? env->error->code : 0,
                  env->error && env->error->message ? env->error->message
                                                    : "");
        return;
    }
    const struct op *op = find_op (sock, body);
    if (!op) {
        if (++s->drops[sock] <= DROP_LOG_MAX)
            log_warn ("dropped %s from %s peer %s: not accepted on this "
                      "port", yard_msg_type_name (env), sock_name[sock],
                      yard_peer_str (peer, p, sizeof p));
        yard__reply_error (s, sock, peer, env->request_id, EOPNOTSUPP,
                           "%s is not accepted on the scheduler's %s port",
                           yard_msg_type_name (env), sock_name[sock]);
        return;
    }
    yard_node_t *node = NULL;
    if (sock == YARD__WORKER) {
        node = yard_nodes_by_peer (s->nodes, peer);
        if (op->needs_node) {
            if (!node) {
                log_debug ("%s from unregistered worker %s: ignored (it "
                           "resends after registering)",
                           yard_msg_type_name (env),
                           yard_peer_str (peer, p, sizeof p));
                return;
            }
            node->last_seen_mono = yard_mono_ms ();
            node->last_seen_ms = yard_now_ms ();
        }
    }
    log_debug ("%s from %s %s (request %" PRIu64 ")",
               yard_msg_type_name (env), node ? "worker" : sock_name[sock],
               node ? node->name : yard_peer_str (peer, p, sizeof p),
               env->request_id);
    if (sock == YARD__CLIENT)
        s->batch_clients++;
    s->cur_sock = sock;
    op->fn (s, peer, node, env);
}

/* Whether a client request is waiting on the client port. */
static bool
client_waiting (yard_server_t *s)
{
    int events = 0;
    size_t sz = sizeof events;
    return zmq_getsockopt (s->sock[YARD__CLIENT], ZMQ_EVENTS, &events, &sz)
               == 0
           && (events & ZMQ_POLLIN);
}

/* Reads and handles one message of a port: false once there is none (or
 * the port failed). */
static bool
read_one (yard_server_t *s, int sock)
{
    yard_peer_t peer;
    yard_env_t *env = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_msg_recv (s->sock[sock], &peer, &env, &err);
    if (rc == -EAGAIN || rc == -EINTR)
        return false;
    if (rc == -EBADMSG || rc == -EMSGSIZE || rc == -EPROTO) {
        drop (s, sock, &peer, rc, &err);
        return true;
    }
    if (rc < 0) {
        log_err ("receive on the %s port failed: %s", sock_name[sock],
                 strerror (-rc));
        return false;
    }
    handle (s, sock, &peer, env);
    yard_msg_free (&env);
    return true;
}

/* One batch: up to YARD__MAX_BATCH messages, one commit.  Worker messages
 * come in streams (a busy cluster sends thousands a second), client
 * requests one at a time, each waiting for its acknowledgement: so every
 * YARD__YIELD_EVERY worker messages the batch looks at the client port,
 * and when a request waits there it takes the waiting client requests
 * into the same batch and ends it.  A request then waits for a few worker
 * messages and one commit rather than for a full batch, another commit and
 * its own; without clients, worker batches stay full and the commits per
 * worker message do not change. */
static void
on_socket (yard_server_t *s, int sock)
{
    int n = 0;
    while (n < YARD__MAX_BATCH && !s->batch_failed && !s->stopping) {
        if (n > 0 && n % YARD__YIELD_EVERY == 0)
            held_poll (s);
        if (sock == YARD__WORKER && n > 0 && n % YARD__YIELD_EVERY == 0
            && client_waiting (s)) {
            while (n < YARD__MAX_BATCH && !s->batch_failed && !s->stopping
                   && read_one (s, YARD__CLIENT))
                n++;
            break;
        }
        if (!read_one (s, sock))
            break;
        n++;
    }
    yard__batch_end (s);
}

static void
on_client (yard_zwatcher_t *w, void *zsock, void *arg)
{
    (void)w;
    (void)zsock;
    on_socket (arg, YARD__CLIENT);
}

static void
on_worker (yard_zwatcher_t *w, void *zsock, void *arg)
{
    (void)w;
    (void)zsock;
    on_socket (arg, YARD__WORKER);
}

/* ---- cron ---- */

static void
cron_cb (uv_timer_t *t)
{
    yard_server_t *s = t->data;
    int64_t now = yard_mono_ms ();
    size_t n = yard_nodes_count (s->nodes);
    for (size_t i = 0; i < n && !s->batch_failed; i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        if (node->state == YARD__NODE_STATE__NODE_DOWN)
            continue;
        int64_t silent = now - node->last_seen_mono;
        if (silent < (int64_t)s->worker_timeout_ms)
            continue;
        char why[96];
        snprintf (why, sizeof why, "not heard from for %llds%s",
                  (long long)(silent / 1000),
                  node->bound ? "" : ", never re-registered");
        (void)yard__node_lost (s, node, why);
    }
    for (int i = 0; i < 2; i++) {
        if (s->drops[i] > DROP_LOG_MAX)
            log_warn ("dropped %u more malformed messages on the %s port",
                      s->drops[i] - DROP_LOG_MAX, sock_name[i]);
        s->drops[i] = 0;
    }
    yard__waitq_release (s);
    yard__events_cron (s);
    yard__deps_drain (s); /* dependents a rebuild found doomed */
    yard__preempt_pass (s);
    yard__artifacts_cron (s); /* server_checkpoints.c */
    yard__gang_cron (s);
    yard__schedules_tick (s); /* pipelines due on their cron schedule */
    if (yard_queue_pending (s->queue) > 0)
        s->need_dispatch = true;
    yard__batch_end (s);
}

/* ---- start-up ---- */

static int
load_node (const yard_store_node_t *row, void *arg)
{
    yard_server_t *s = arg;
    yard_node_t *node = yard_nodes_add (s->nodes, row->name);
    if (!node) {
        if (errno == ENOMEM)
            return -ENOMEM;
        log_warn ("state.db names an invalid node '%s': ignored", row->name);
        return 0;
    }
    if (yard_node_set_text (&node->hostname, row->hostname) < 0
        || yard_node_set_text (&node->version, row->version) < 0)
        return -ENOMEM;
    node->instance = row->instance;
    node->cpus = row->cpus;
    node->memory = row->memory;
    node->gpus = row->gpus;
    /* a blob we cannot read costs the node its topology until it
     * registers again, nothing more */
    yard_topo_free (&node->topology);
    if (row->topology && !(node->topology = yard_topo_unpack (
                               row->topology, row->topology_len)))
        log_warn ("state.db: the topology of node %s is unreadable: "
                  "ignored until it registers again", row->name);
    node->registered_ms = row->registered_ms;
    node->last_seen_ms = row->last_seen_ms;
    /* Awaiting re-register: UP, unbound, one full timeout from now. */
    node->state = YARD__NODE_STATE__NODE_UP;
    node->last_seen_mono = yard_mono_ms ();
    return 0;
}

static int
load_state (yard_server_t *s, yard_error_t *err)
{
    int rc;
    if ((rc = yard_store_nodes (s->store, load_node, s)) < 0
        || (rc = yard_store_jobs_active (s->store, load_job, s)) < 0)
        return yard_errorf (err, -rc, "cannot load the state: %s",
                            rc == -ENOMEM ? "out of memory"
                                          : yard_store_errmsg (s->store));
    rebuild (s);
    size_t active = 0;
    for (size_t i = 0; i < yard_nodes_count (s->nodes); i++)
        active += yard_nodes_at (s->nodes, i)->njobs;
    log_info ("loaded %zu unfinished jobs (%zu pending, %zu on nodes) and "
              "%zu nodes (awaiting their workers)", yard_queue_count (s->queue),
              yard_queue_pending (s->queue), active,
              yard_nodes_count (s->nodes));
    return 0;
}

static void *
open_socket (yard_server_t *s, int which, const char *ep, yard_error_t *err)
{
    void *sock = zmq_socket (s->zctx, ZMQ_ROUTER);
    if (!sock) {
        int e = errno;
        yard_errorf (err, e, "cannot create the %s socket: %s",
                     sock_name[which], zmq_strerror (e));
        errno = e;
        return NULL;
    }
    int e;
    /* the client port on the second I/O thread, the worker port on the
     * first (ZMQ_AFFINITY is a bit mask of I/O threads) */
    uint64_t affinity = which == YARD__CLIENT ? 2 : 1;
    int zero = 0, one = 1, hwm = SOCK_HWM;
    int64_t maxmsg = SOCK_MAXMSGSIZE;
    if (zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero) < 0
        || zmq_setsockopt (sock, ZMQ_AFFINITY, &affinity, sizeof affinity)
               < 0
        || zmq_setsockopt (sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one) < 0
        /* a worker that reconnects under the same routing id replaces its
         * dead connection instead of being refused */
        || zmq_setsockopt (sock, ZMQ_ROUTER_HANDOVER, &one, sizeof one) < 0
        || zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm) < 0
        || zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm) < 0
        /* frames over YARD_MAX_FRAME are refused (and logged) by the codec;
         * this only bounds the memory a hostile peer can make us buffer */
        || zmq_setsockopt (sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) < 0) {
        e = errno;
        yard_errorf (err, e, "cannot configure the %s socket: %s",
                     sock_name[which], zmq_strerror (e));
        goto error;
    }
    if (zmq_bind (sock, ep) < 0) {
        e = errno;
        yard_errorf (err, e, "cannot bind the %s endpoint %s: %s",
                     sock_name[which], ep, zmq_strerror (e));
        goto error;
    }
    size_t len = sizeof s->endpoint[which];
    if (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, s->endpoint[which], &len)
        < 0) {
        e = errno;
        yard_errorf (err, e, "cannot read the %s endpoint: %s",
                     sock_name[which], zmq_strerror (e));
        goto error;
    }
    s->endpoint[which][sizeof s->endpoint[which] - 1] = '\0';
    return sock;
error:
    zmq_close (sock);
    errno = e;
    return NULL;
}

static uint64_t
random_u64 (void)
{
    uint64_t x = 0;
    if (getrandom (&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x || x == 0)
        x = ((uint64_t)yard_now_ms () << 20) ^ (uint64_t)getpid ()
            ^ (uint64_t)yard_mono_ms () << 40;
    return x;
}

yard_server_t *
yard_server_create (uv_loop_t *loop, const yard_server_config_t *cfg,
                   yard_error_t *err)
{
    int e = EINVAL;
    char path[4096];
    if (!loop || !cfg || !cfg->state_dir || !cfg->client_endpoint
        || !cfg->worker_endpoint || cfg->heartbeat_ms == 0
        || cfg->worker_timeout_ms == 0) {
        yard_errorf (err, EINVAL, "invalid scheduler configuration");
        errno = EINVAL;
        return NULL;
    }
    yard_server_t *s = calloc (1, sizeof *s);
    if (!s) {
        yard_errorf (err, ENOMEM, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->worker_timeout_ms = cfg->worker_timeout_ms;
    s->heartbeat_ms = cfg->heartbeat_ms;
    s->oversubscribe = cfg->oversubscribe;
    s->ahead_wait_ms = cfg->ahead_wait_ms;
    s->instance = random_u64 ();
    s->batch_gen = 1;
    e = ENOMEM;
    if (!(s->state_dir = strdup (cfg->state_dir))
        || !(s->queue = yard_queue_create ())
        || !(s->waitq = yard_waitq_create ())
        || !(s->deps = yard_deps_create ())
        || !(s->nodes = yard_nodes_create ())) {
        yard_errorf (err, ENOMEM, "out of memory");
        goto error;
    }
    if (snprintf (path, sizeof path, "%s/logs", cfg->state_dir)
            >= (int)sizeof path
        || !(s->logs = yard_joblog_create (path))) {
        e = errno ? errno : ENAMETOOLONG;
        yard_errorf (err, e, "cannot use %s: %s", path, strerror (e));
        goto error;
    }
    s->gc_interval_ms = cfg->artifact_gc_interval_ms
                            ? cfg->artifact_gc_interval_ms
                            : YARD_SERVER_DEFAULT_GC_INTERVAL_MS;
    s->gc_age_ms = cfg->artifact_gc_age_ms ? cfg->artifact_gc_age_ms
                                           : YARD_SERVER_DEFAULT_GC_AGE_MS;
    if (yard_artifacts_open (cfg->state_dir, &s->artifacts, err) < 0) {
        e = err ? err->code : EIO;
        goto error;
    }
    if (snprintf (path, sizeof path, "%s/state.db", cfg->state_dir)
        >= (int)sizeof path) {
        e = ENAMETOOLONG;
        yard_errorf (err, e, "state dir path too long");
        goto error;
    }
    if (!(s->store = yard_store_create (path, cfg->sync_full, err))) {
        e = errno;
        goto error;
    }
    int rc;
    if ((rc = yard_store_alloc_init (s->store, err)) < 0
        || (rc = yard_store_usage_init (s->store, err)) < 0
        || (rc = yard_store_gang_init (s->store, err)) < 0
        || (rc = load_state (s, err)) < 0
        || (rc = yard__nodeadmin_load (s, err)) < 0
        || (rc = yard__outputs_init (s, err)) < 0
        || (rc = yard__pipeline_init (s, err)) < 0
        || (rc = yard__models_init (s, err)) < 0
        || (rc = yard__schedules_init (s, err)) < 0) {
        e = -rc;
        goto error;
    }
    if (cfg->sync_full) {
        /* group commit: the WAL synced on a thread of its own */
        if ((rc = yard_store_defer_sync (s->store)) < 0) {
            e = -rc;
            yard_errorf (err, e, "cannot configure %s: %s", path,
                         yard_store_errmsg (s->store));
            goto error;
        }
        s->sync_deferred = true;
        if (!(s->syncer = yard_syncer_create (loop, store_sync, s->store,
                                              on_durable, s, err))) {
            e = errno;
            goto error;
        }
    }
    s->on_fatal = cfg->on_fatal;
    s->on_fatal_arg = cfg->on_fatal_arg;
    if (!(s->zctx = zmq_ctx_new ())) {
        e = errno;
        yard_errorf (err, e, "cannot create the ZeroMQ context: %s",
                     zmq_strerror (e));
        goto error;
    }
    /* two I/O threads, one per port (open_socket): a client's reply does
     * not wait in the worker port's I/O thread behind the sends and
     * receives of a thousand worker connections */
    if (zmq_ctx_set (s->zctx, ZMQ_IO_THREADS, 2) < 0)
        log_warn ("ZeroMQ keeps one I/O thread for both ports: %s",
                  zmq_strerror (errno));
    if (!(s->sock[YARD__CLIENT] = open_socket (s, YARD__CLIENT,
                                               cfg->client_endpoint, err))
        || !(s->sock[YARD__WORKER] = open_socket (s, YARD__WORKER,
                                                  cfg->worker_endpoint,
                                                  err))) {
        e = errno;
        goto error;
    }
    if ((rc = uv_timer_init (loop, &s->cron)) < 0) {
        e = -rc;
        yard_errorf (err, e, "cannot create the cron timer: %s",
                     uv_strerror (rc));
        goto error;
    }
    s->cron.data = s;
    s->cron_open = true;
    if ((rc = uv_idle_init (loop, &s->more)) < 0) {
        e = -rc;
        yard_errorf (err, e, "cannot create the dispatch handle: %s",
                     uv_strerror (rc));
        goto error;
    }
    s->more.data = s;
    s->more_open = true;
    uint64_t tick = s->heartbeat_ms / 2;
    if (tick > 1000)
        tick = 1000;
    if (tick < 100)
        tick = 100;
    uv_timer_start (&s->cron, cron_cb, tick, tick);
    if (!(s->watcher[YARD__CLIENT] = yard_zwatcher_create (
              loop, s->sock[YARD__CLIENT], on_client, s))
        || !(s->watcher[YARD__WORKER] = yard_zwatcher_create (
                 loop, s->sock[YARD__WORKER], on_worker, s))) {
        e = errno;
        yard_errorf (err, e, "cannot watch the sockets: %s", strerror (e));
        goto error;
    }
    log_info ("scheduler instance %016" PRIx64 ": clients on %s, workers on "
              "%s, worker timeout %" PRIu64 " ms, heartbeat %" PRIu64 " ms",
              s->instance, s->endpoint[YARD__CLIENT],
              s->endpoint[YARD__WORKER], s->worker_timeout_ms,
              s->heartbeat_ms);
    return s;
error:
    if (s->watcher[0] || s->watcher[1] || s->cron_open || s->more_open
        || s->syncer) {
        /* the handles free their memory in close callbacks */
        yard_server_shutdown (s);
        uv_run (loop, UV_RUN_NOWAIT);
    }
    yard_server_destroy (&s);
    errno = e;
    return NULL;
}

const char *
yard_server_client_endpoint (const yard_server_t *s)
{
    return s->endpoint[YARD__CLIENT];
}

const char *
yard_server_worker_endpoint (const yard_server_t *s)
{
    return s->endpoint[YARD__WORKER];
}

void
yard_server_shutdown (yard_server_t *s)
{
    if (!s)
        return;
    s->stopping = true;
    yard_zwatcher_destroy (&s->watcher[YARD__CLIENT]);
    yard_zwatcher_destroy (&s->watcher[YARD__WORKER]);
    if (s->cron_open) {
        uv_timer_stop (&s->cron);
        uv_close ((uv_handle_t *)&s->cron, NULL);
        s->cron_open = false;
    }
    if (s->more_open) {
        uv_idle_stop (&s->more);
        uv_close ((uv_handle_t *)&s->more, NULL);
        s->more_open = false;
    }
    yard__parks_close_all (s);
    if (s->artifacts)
        yard_artifacts_finish_cancel_all (s->artifacts);
    if (s->syncer) {
        uint64_t done = yard_syncer_close (&s->syncer);
        if (done > s->durable_seq)
            s->durable_seq = done;
    }
    /* what the thread left: synced here, so the last answers go out */
    if (s->sync_deferred && !s->sync_failed
        && (s->nheld > 0 || s->durable_seq < s->commit_seq))
        sync_now (s);
}

static int
free_job (yard_job_t *job, void *arg)
{
    (void)arg;
    yard_job_destroy (&job);
    return 0;
}

void
yard_server_destroy (yard_server_t **sp)
{
    if (!sp || !*sp)
        return;
    yard_server_t *s = *sp;
    for (int i = 0; i < 2; i++)
        if (s->sock[i])
            zmq_close (s->sock[i]);
    if (s->zctx)
        zmq_ctx_term (s->zctx);
    yard_store_destroy (&s->store);
    if (s->queue) {
        yard_queue_clear_pending (s->queue);
        (void)yard_queue_foreach (s->queue, free_job, NULL);
        yard_queue_destroy (&s->queue);
        yard_waitq_destroy (&s->waitq);
    }
    yard_deps_destroy (&s->deps);
    yard__gang_reset (s);
    free (s->doomed);
    yard_nodes_destroy (&s->nodes);
    yard_joblog_destroy (&s->logs);
    yard__artifacts_parks_free (s);
    yard_artifacts_close (s->artifacts);
    s->artifacts = NULL;
    yard__events_destroy (s);
    out_drop (s->out, &s->nout);
    free (s->out);
    out_drop (s->held, &s->nheld);
    free (s->held);
    free (s->dirty);
    free (s->touched);
    free (s->ack_nodes);
    free (s->stash);
    free (s->cand);
    free (s->state_dir);
    free (s);
    *sp = NULL;
}
