/* server_worker.c - the worker port: register (with reconciliation),
 * heartbeats, job start/finish reports and log chunks.
 *
 * Fencing.  Every dispatch is an attempt; a report changes a job only when
 * it names the job's current attempt, the job is ASSIGNED or RUNNING, and it
 * comes from the node that attempt was given to.  Anything else is stale:
 * finishes are acknowledged (so the worker stops resending) and starts are
 * answered with KillJob END_STALE, so an attempt the scheduler gave up on
 * never keeps running beside its replacement.
 *
 * Reconciliation.  A register lists what the worker runs and what ended
 * without an acknowledgement.  Finished reports are applied as JobFinished;
 * a running attempt that is still current is kept (ASSIGNED becomes
 * RUNNING), any other is killed as stale; and every attempt the scheduler
 * placed on the node that the worker does not report never started (the
 * Dispatch was lost, or the worker restarted) and is requeued.
 */
#include "server_int.h"
#include "pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_gang.h"
#include "server_place.h"
#include "topology.h"
#include "utf8.h"
#include "util.h"

#define MAX_TEXT 255             /* hostname, version */
#define MAX_REPORTED 100000      /* running + finished in one register */

static bool
peer_eq (const yard_peer_t *a, const yard_peer_t *b)
{
    return a->len == b->len && memcmp (a->id, b->id, a->len) == 0;
}

/* The job this report is about, if it is the current attempt placed on
 * node; NULL when the report is stale. */
static yard_job_t *
current_job (yard_server_t *s, yard_node_t *node, uint64_t job_id,
             uint32_t attempt)
{
    yard_job_t *job = yard_queue_find (s->queue, job_id);
    if (!job || attempt == 0 || attempt != job->attempt
        || !yard_job_is_active (job) || job->worker != node)
        return NULL;
    return job;
}

static void
send_ack (yard_server_t *s, yard_node_t *node, uint64_t request_id,
          uint64_t job_id, uint32_t attempt)
{
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = request_id;
    Yard__JobFinishedAck ack = YARD__JOB_FINISHED_ACK__INIT;
    ack.job_id = job_id;
    ack.attempt = attempt;
    env.body_case = YARD__ENVELOPE__BODY_JOB_FINISHED_ACK;
    env.job_finished_ack = &ack;
    (void)yard__send_node (s, node, &env);
}

/* Keep the ack for node's next Dispatch of this batch; false when it
 * cannot be kept (it is then sent alone at once). */
static bool
ack_keep (yard_server_t *s, yard_node_t *node, uint64_t request_id,
          uint64_t job_id, uint32_t attempt)
{
    if (!node->dispatch_acks || !node->bound)
        return false;
    if (!node->acks_listed && s->nack_nodes == s->ack_nodes_cap) {
        size_t cap = s->ack_nodes_cap ? s->ack_nodes_cap * 2 : 64;
        yard_node_t **v = realloc (s->ack_nodes, cap * sizeof v[0]);
        if (!v)
            return false;
        s->ack_nodes = v;
        s->ack_nodes_cap = cap;
    }
    if (node->nacks == node->acks_cap) {
        size_t cap = node->acks_cap ? node->acks_cap * 2 : 4;
        yard_node_ack_t *a = realloc (node->acks, cap * sizeof a[0]);
        if (!a)
            return false;
        node->acks = a;
        Yard__JobFinishedAck **p = realloc (node->ackp, cap * sizeof p[0]);
        if (!p)
            return false;
        node->ackp = p;
        node->acks_cap = cap;
    }
    yard_node_ack_t *a = &node->acks[node->nacks++];
    yard__job_finished_ack__init (&a->msg);
    a->msg.job_id = job_id;
    a->msg.attempt = attempt;
    a->request_id = request_id;
    if (!node->acks_listed) {
        node->acks_listed = true;
        s->ack_nodes[s->nack_nodes++] = node;
    }
    return true;
}

void
yard__finished_ack (yard_server_t *s, yard_node_t *node, uint64_t request_id,
                    uint64_t job_id, uint32_t attempt)
{
    if (!ack_keep (s, node, request_id, job_id, attempt))
        send_ack (s, node, request_id, job_id, attempt);
}

Yard__JobFinishedAck **
yard__acks_take (yard_node_t *node, size_t *n)
{
    *n = node->dispatch_acks ? node->nacks : 0;
    for (size_t i = 0; i < *n; i++)
        node->ackp[i] = &node->acks[i].msg;
    return *n ? node->ackp : NULL;
}

void
yard__acks_taken (yard_node_t *node, size_t n)
{
    /* all of them: a Dispatch takes every ack the node holds, or none */
    if (n == node->nacks)
        node->nacks = 0;
}

void
yard__acks_flush (yard_server_t *s)
{
    for (size_t i = 0; i < s->nack_nodes; i++) {
        yard_node_t *node = s->ack_nodes[i];
        for (size_t k = 0; k < node->nacks; k++)
            send_ack (s, node, node->acks[k].request_id,
                      node->acks[k].msg.job_id, node->acks[k].msg.attempt);
        node->nacks = 0;
        node->acks_listed = false;
    }
    s->nack_nodes = 0;
}

void
yard__acks_drop (yard_server_t *s)
{
    for (size_t i = 0; i < s->nack_nodes; i++) {
        s->ack_nodes[i]->nacks = 0;
        s->ack_nodes[i]->acks_listed = false;
    }
    s->nack_nodes = 0;
}

void
yard__acks_forget (yard_server_t *s, yard_node_t *node)
{
    for (size_t i = 0; i < s->nack_nodes; i++) {
        if (s->ack_nodes[i] != node)
            continue;
        s->ack_nodes[i] = s->ack_nodes[--s->nack_nodes];
        break;
    }
    node->nacks = 0;
    node->acks_listed = false;
}

/* "what: msg", msg being the worker's free text: repaired to UTF-8 (it
 * becomes the job's reason, sent to every client). */
static const char *
with_msg (char *buf, size_t len, const char *what, const char *msg)
{
    if (msg && *msg)
        snprintf (buf, len, "%s: %s", what, msg);
    else
        snprintf (buf, len, "%s", what);
    return yard_utf8_sanitize (buf);
}

/* Apply one JobFinished (alone, answering request_id, or inside a register
 * with request_id 0), then acknowledge it (after the commit, like
 * everything in the outbox). */
static void
finish_one (yard_server_t *s, yard_node_t *node, uint64_t request_id,
            const Yard__JobFinished *f)
{
    if (!f)
        return;
    yard_job_t *job = NULL;
    const Yard__JobFinished *use = f;
    Yard__JobFinished copy;
    char text[768];
    switch (yard__gang_on_finish (s, node, f, &job, &use, &copy, text,
                                  sizeof text)) {
    case YARD__GANG_ACK:
        yard__finished_ack (s, node, request_id, f->job_id, f->attempt);
        return;
    case YARD__GANG_APPLY:
        break;
    default:
        job = current_job (s, node, f->job_id, f->attempt);
        break;
    }
    if (!job) {
        log_debug ("job %" PRIu64 " attempt %u: stale or duplicate finish "
                   "from %s (%s): acknowledged", f->job_id, f->attempt,
                   node->name, yard_end_reason_name (f->reason));
        yard__finished_ack (s, node, request_id, f->job_id, f->attempt);
        return;
    }
    yard__finish_apply (s, node, job, use);
    yard__finished_ack (s, node, request_id, f->job_id, f->attempt);
}

void
yard__finish_apply (yard_server_t *s, yard_node_t *node, yard_job_t *job,
                    const Yard__JobFinished *f)
{
    uint64_t size = 0;
    size_t len = 0;
    /* a gang's log is rank 0's: another rank's size is not comparable.
     * The scheduler holds only what the worker shipped, so a job that
     * wrote nothing has nothing to compare: no file lookup per job end. */
    if (node == job->worker && f->log_size > 0
        && yard_joblog_read (s->logs, job->id, job->attempt, 0, NULL, 0, &len,
                             &size) == 0
        && f->log_size != size)
        log_warn ("job %" PRIu64 " attempt %u: worker %s reports %" PRIu64
                  " bytes of log, the scheduler holds %" PRIu64, job->id,
                  job->attempt, node->name, f->log_size, size);
    if (job->state == YARD__JOB_STATE__JOB_ASSIGNED && f->start_time_ms > 0
        && f->reason != YARD__END_REASON__END_SPAWN_FAILED
        && !yard_job_is_gang (job))
        yard__job_ran (s, job, f->start_time_ms);
    if (job->start_ms == 0 && f->start_time_ms > 0)
        job->start_ms = f->start_time_ms;
    if (f->usage)
        (void)yard__usage_record (s, job, f->attempt, f->usage, true);
    if (yard__outputs_record (s, job, f) < 0) /* server_outputs.c */
        return;
    /* a successor given back waits for a free slot from now on */
    if (f->reason == YARD__END_REASON__END_RETURNED)
        job->no_ahead = true;
    /* retries, preemption, requeue on timeout (server_retry.c) */
    if (yard__finish_retry (s, job, f))
        return;
    yard__pipeline_outputs (s, job, f); /* a pipeline step's outputs */
    const char *msg = f->message;
    char text[768], what[128];
    int64_t end = f->end_time_ms;
    Yard__JobState st;
    switch (f->reason) {
    case YARD__END_REASON__END_EXITED:
        if (f->exit_code == 0) {
            st = YARD__JOB_STATE__JOB_COMPLETED;
            with_msg (text, sizeof text, "exited with status 0", msg);
        } else {
            st = YARD__JOB_STATE__JOB_FAILED;
            snprintf (what, sizeof what, "exited with status %d",
                      f->exit_code);
            with_msg (text, sizeof text, what, msg);
        }
        (void)yard__job_end (s, job, st, f->reason, f->exit_code, 0, end,
                             text);
        break;
    case YARD__END_REASON__END_SIGNALED:
        snprintf (what, sizeof what, "killed by signal %d (%s)",
                  f->term_signal,
                  f->term_signal > 0 && f->term_signal < 65
                      ? strsignal (f->term_signal)
                      : "unknown");
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_FAILED, f->reason,
                             f->exit_code, f->term_signal, end,
                             with_msg (text, sizeof text, what, msg));
        break;
    case YARD__END_REASON__END_OOM:
        /* the worker's message says which limit ("out of memory (limit
         * 64 MiB)") */
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_FAILED, f->reason,
                             f->exit_code, f->term_signal, end,
                             msg && *msg ? msg : "out of memory");
        break;
    case YARD__END_REASON__END_SPAWN_FAILED:
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_FAILED, f->reason,
                             f->exit_code, 0, end,
                             with_msg (text, sizeof text, "could not start",
                                       msg));
        break;
    case YARD__END_REASON__END_TIMEOUT: {
        char d[32];
        uint64_t lim = job->spec ? job->spec->time_limit_s : 0;
        snprintf (what, sizeof what, "time limit of %s reached",
                  yard_format_duration ((int64_t)(lim > INT64_MAX / 1000
                                                      ? INT64_MAX / 1000
                                                      : lim) * 1000,
                                        d, sizeof d));
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_TIMEOUT, f->reason,
                             f->exit_code, f->term_signal, end,
                             with_msg (text, sizeof text, what, msg));
        break;
    }
    case YARD__END_REASON__END_CANCELLED:
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_CANCELLED,
                             f->reason, f->exit_code, f->term_signal, end,
                             with_msg (text, sizeof text, "cancelled by user",
                                       msg));
        break;
    case YARD__END_REASON__END_RETURNED:
        /* given back unstarted while a cancel was on its way (else the
         * retry policy requeued it) */
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_CANCELLED,
                             f->reason, 0, 0, end, "cancelled by user");
        break;
    case YARD__END_REASON__END_LOST:
        snprintf (what, sizeof what, "lost by worker %s", node->name);
        (void)yard__job_requeue (s, job,
                                 with_msg (text, sizeof text, what, msg));
        break;
    case YARD__END_REASON__END_STALE:
        /* We never called the current attempt stale; keep the job as it
         * is (a re-register reconciles it if the worker lost it). */
        log_warn ("job %" PRIu64 " attempt %u: worker %s reports the "
                  "current attempt as stale; ignored", job->id, job->attempt,
                  node->name);
        (void)yard__job_save (s, job); /* a start it reported with it */
        break;
    default:
        snprintf (what, sizeof what, "the worker reported an unknown end "
                  "(%d)", (int)f->reason);
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_FAILED, f->reason,
                             f->exit_code, f->term_signal, end,
                             with_msg (text, sizeof text, what, msg));
        break;
    }
}

static void
reconcile (yard_server_t *s, yard_node_t *node, const Yard__WorkerRegister *r)
{
    uint64_t gen = ++s->recon_gen;
    for (size_t i = 0; i < r->n_finished && !s->batch_failed; i++)
        finish_one (s, node, 0, r->finished[i]);
    for (size_t i = 0; i < r->n_running && !s->batch_failed; i++) {
        const Yard__RunningJob *rj = r->running[i];
        if (!rj || yard__gang_on_running (s, node, rj, gen))
            continue;
        yard_job_t *job = current_job (s, node, rj->job_id, rj->attempt);
        if (job) {
            job->seen = gen;
            if (job->state == YARD__JOB_STATE__JOB_ASSIGNED)
                (void)yard__job_started (s, job, rj->start_time_ms);
            if (job->cancel_requested) /* the KillJob may have been lost */
                (void)yard__send_kill (s, node, job->id, job->attempt,
                                       YARD__END_REASON__END_CANCELLED,
                                       yard_job_grace (job));
            else if (job->state == YARD__JOB_STATE__JOB_PREEMPTING)
                (void)yard__send_kill (s, node, job->id, job->attempt,
                                       YARD__END_REASON__END_PREEMPTED,
                                       yard_job_grace (job));
            continue;
        }
        yard_job_t *other = yard_queue_find (s->queue, rj->job_id);
        (void)yard__send_kill (s, node, rj->job_id, rj->attempt,
                               YARD__END_REASON__END_STALE,
                               other ? yard_job_grace (other)
                                     : YARD_JOB_DEFAULT_GRACE_S);
    }
    yard_job_t *next;
    for (yard_job_t *job = node->jobs; job && !s->batch_failed; job = next) {
        next = job->wnext;
        if (job->seen == gen || yard__gang_part_done (s, job, node))
            continue;
        char why[384];
        snprintf (why, sizeof why, "attempt %u was not running on %s when "
                  "it registered", job->attempt, node->name);
        (void)yard__job_requeue (s, job, why);
    }
    /* the jobs it runs may take successors again: the ones it held are
     * forgotten (requeued above), and jobs loaded at a start joined no
     * list before their worker said it takes successors */
    for (yard_job_t *job = node->jobs; job; job = job->wnext)
        yard__cands_add (s, job);
    yard__gang_reconcile_end (s, node, gen); /* its other gang ranks */
}

void
yard__on_register (yard_server_t *s, const yard_peer_t *peer,
                   yard_node_t *bound, yard_env_t *env)
{
    (void)bound;
    const Yard__WorkerRegister *r = env->worker_register;
    char p[2 * YARD_MAX_ROUTING_ID + 1];
    if (!r) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EINVAL,
                           "worker_register has no body");
        return;
    }
    if (yard_node_name_check (r->name) < 0) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EINVAL,
                           "worker name '%.64s' is invalid: use 1 to 255 "
                           "bytes of UTF-8, no spaces, control characters "
                           "or '/'", r->name ? r->name : "");
        return;
    }
    if ((r->hostname && strlen (r->hostname) > MAX_TEXT)
        || (r->version && strlen (r->version) > MAX_TEXT)
        || (r->advertise_addr && strlen (r->advertise_addr) > MAX_TEXT)
        || !yard_utf8_valid (r->hostname) || !yard_utf8_valid (r->version)
        || !yard_utf8_valid (r->advertise_addr)) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EINVAL,
                           "hostname, version and advertise address must be "
                           "valid UTF-8 of at most %d bytes", MAX_TEXT);
        return;
    }
    if (r->n_running + r->n_finished > MAX_REPORTED) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EINVAL,
                           "register reports %zu attempts; at most %d",
                           r->n_running + r->n_finished, MAX_REPORTED);
        return;
    }
    char why[256];
    if (yard_topo_check (r->topology, why, sizeof why) < 0) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EINVAL,
                           "%s", why);
        return;
    }
    int64_t now = yard_mono_ms ();
    yard_node_t *node = yard_nodes_get (s->nodes, r->name);
    if (node && node->state != YARD__NODE_STATE__NODE_DOWN && node->bound
        && node->instance != r->instance && !peer_eq (&node->peer, peer)
        && now - node->last_seen_mono < (int64_t)s->worker_timeout_ms) {
        log_warn ("worker %s from %s refused: the name is held by instance "
                  "%016" PRIx64 ", heard from %llds ago", r->name,
                  yard_peer_str (peer, p, sizeof p), node->instance,
                  (long long)((now - node->last_seen_mono) / 1000));
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EEXIST,
                           "a live worker named '%s' is already registered: "
                           "give this one another name, or stop the other "
                           "(it is forgotten %llu s after its last "
                           "heartbeat)", r->name,
                           (unsigned long long)(s->worker_timeout_ms / 1000));
        return;
    }
    if (!node && !(node = yard_nodes_add (s->nodes, r->name))) {
        yard__fail (s, -errno);
        return;
    }
    yard__touch_node (s, node);
    bool restarted = node->registered_ms != 0 && node->instance != r->instance;
    if (yard_nodes_bind (s->nodes, node, peer) < 0
        || yard_node_set_text (&node->hostname, r->hostname) < 0
        || yard_node_set_text (&node->version, r->version) < 0
        || yard_node_set_text (&node->advertise_addr, r->advertise_addr)
               < 0) {
        yard__fail (s, -ENOMEM);
        return;
    }
    /* our own copy: r goes with the message */
    Yard__Topology *topo = NULL;
    uint8_t *topo_buf = NULL;
    size_t topo_len = 0;
    if (yard_topo_copy (r->topology, &topo) < 0
        || yard_topo_pack (r->topology, &topo_buf, &topo_len) < 0) {
        yard_topo_free (&topo);
        yard__fail (s, -ENOMEM);
        return;
    }
    yard_topo_free (&node->topology);
    node->topology = topo;
    node->instance = r->instance;
    node->cpus = r->cpus;
    node->memory = r->memory_bytes;
    node->gpus = r->gpus;
    node->dispatch_acks = r->dispatch_acks;
    node->successors = r->successors;
    yard__place_reshape (node); /* its PUs/GPUs may have changed */
    node->state = YARD__NODE_STATE__NODE_UP;
    yard_nodes_changed (s->nodes, node);
    node->last_seen_mono = now;
    node->last_seen_ms = node->registered_ms = yard_now_ms ();
    yard_store_node_t row = {
        .name = node->name,
        .instance = node->instance,
        .hostname = node->hostname,
        .version = node->version,
        .cpus = node->cpus,
        .memory = node->memory,
        .gpus = node->gpus,
        .registered_ms = node->registered_ms,
        .last_seen_ms = node->last_seen_ms,
        .topology = topo_buf,
        .topology_len = topo_len,
    };
    int rc = yard_store_node_put (s->store, &row);
    free (topo_buf);
    if (rc < 0) {
        log_err ("cannot store node %s: %s", node->name,
                 yard_store_errmsg (s->store));
        yard__fail (s, rc);
        return;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__RegisterReply body = YARD__REGISTER_REPLY__INIT;
    body.heartbeat_interval_ms = (uint32_t)s->heartbeat_ms;
    body.scheduler_instance = s->instance;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_REGISTER_REPLY;
    out.register_reply = &body;
    if (yard__reply (s, YARD__WORKER, peer, &out) < 0)
        return;
    char mem[32];
    log_info ("worker %s registered (instance %016" PRIx64 "%s, host %s, "
              "version %s, %u CPUs, %s memory, %u GPUs; reports %zu running, "
              "%zu finished)", node->name, node->instance,
              restarted ? ", restarted" : "",
              node->hostname ? node->hostname : "?",
              node->version ? node->version : "?", node->cpus,
              yard_format_size (node->memory, mem, sizeof mem), node->gpus,
              r->n_running, r->n_finished);
    reconcile (s, node, r);
    s->need_dispatch = true;
}

void
yard__on_heartbeat (yard_server_t *s, const yard_peer_t *peer,
                    yard_node_t *node, yard_env_t *env)
{
    const Yard__Heartbeat *h = env->heartbeat;
    char p[2 * YARD_MAX_ROUTING_ID + 1];
    if (!h)
        return;
    bool known = node && node->state != YARD__NODE_STATE__NODE_DOWN
                 && node->instance == h->instance
                 && (!h->name || !*h->name || strcmp (h->name, node->name) == 0);
    if (known) {
        node->last_seen_mono = yard_mono_ms ();
        node->last_seen_ms = yard_now_ms ();
        yard__usage_heartbeat (s, node, h);
    } else {
        log_debug ("heartbeat from unregistered worker '%s' (%s): asked to "
                   "register", h->name ? h->name : "",
                   yard_peer_str (peer, p, sizeof p));
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__HeartbeatReply body = YARD__HEARTBEAT_REPLY__INIT;
    body.known = known;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_HEARTBEAT_REPLY;
    out.heartbeat_reply = &body;
    (void)yard__reply (s, YARD__WORKER, peer, &out);
}

void
yard__on_bye (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
              yard_env_t *env)
{
    const Yard__WorkerBye *b = env->worker_bye;
    (void)peer;
    if (!b || b->instance != node->instance
        || node->state == YARD__NODE_STATE__NODE_DOWN)
        return;
    if (!b->gone) {
        /* Its jobs stay where they are: each comes back as a JobFinished
         * (END_LOST, requeued) once the worker has stopped it, so a job
         * never runs twice while its old attempt is saving a checkpoint. */
        if (node->state != YARD__NODE_STATE__NODE_LEAVING)
            log_notice ("worker %s is shutting down: no new jobs go to it "
                        "(%u running)", node->name, node->njobs);
        node->state = YARD__NODE_STATE__NODE_LEAVING;
        yard_nodes_changed (s->nodes, node);
        return;
    }
    (void)yard__node_lost (s, node, "shut down");
    s->need_dispatch = true;
}

void
yard__on_started (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
                  yard_env_t *env)
{
    (void)peer;
    const Yard__JobStarted *m = env->job_started;
    if (!m)
        return;
    if (yard__gang_on_started (s, node, m))
        return;
    yard_job_t *job = current_job (s, node, m->job_id, m->attempt);
    if (job) {
        if (job->state == YARD__JOB_STATE__JOB_ASSIGNED)
            (void)yard__job_started (s, job, m->start_time_ms);
        else if (job->state == YARD__JOB_STATE__JOB_PREEMPTING) {
            /* requeued while ASSIGNED: the KillJob may have arrived
             * before the process existed */
            if (job->start_ms == 0) {
                job->start_ms = m->start_time_ms > 0 ? m->start_time_ms
                                                     : yard_now_ms ();
                (void)yard__job_save (s, job);
            }
            (void)yard__send_kill (s, node, job->id, job->attempt,
                                   YARD__END_REASON__END_PREEMPTED,
                                   yard_job_grace (job));
        }
        return; /* RUNNING already: a duplicate */
    }
    if (m->attempt == 0)
        return;
    log_info ("job %" PRIu64 " attempt %u started on %s but is not current",
              m->job_id, m->attempt, node->name);
    yard_job_t *other = yard_queue_find (s->queue, m->job_id);
    (void)yard__send_kill (s, node, m->job_id, m->attempt,
                           YARD__END_REASON__END_STALE,
                           other ? yard_job_grace (other)
                                 : YARD_JOB_DEFAULT_GRACE_S);
}

void
yard__on_finished (yard_server_t *s, const yard_peer_t *peer,
                   yard_node_t *node, yard_env_t *env)
{
    (void)peer;
    finish_one (s, node, env->request_id, env->job_finished);
}

void
yard__on_log_chunk (yard_server_t *s, const yard_peer_t *peer,
                    yard_node_t *node, yard_env_t *env)
{
    (void)peer;
    const Yard__LogChunk *c = env->log_chunk;
    if (!c)
        return;
    yard_job_t *job, *owned;
    int rc = yard__job_lookup (s, c->job_id, &job, &owned);
    if (rc < 0 && rc != -ENOENT) {
        log_warn ("log chunk for job %" PRIu64 " from %s: cannot read the "
                  "job (%s); the worker will resend", c->job_id, node->name,
                  yard_store_errmsg (s->store));
        return;
    }
    uint64_t size;
    size_t len = c->data.data ? c->data.len : 0;
    if (rc == 0 && yard__gang_foreign (s, job, node, c->attempt)) {
        /* a gang keeps the log of rank 0's node (docs/user-guide.md) */
        size = c->offset + len;
    } else if (rc == -ENOENT || c->attempt == 0 || c->attempt > job->attempt) {
        /* Nothing to keep it under: acknowledge all of it so the worker
         * moves on. */
        log_warn ("log chunk for %s job %" PRIu64 " attempt %u from %s: "
                  "discarded", rc == -ENOENT ? "unknown" : "unknown attempt of",
                  c->job_id, c->attempt, node->name);
        size = c->offset + len;
    } else {
        rc = yard_joblog_append (s->logs, c->job_id, c->attempt, c->offset,
                                 c->data.data, len, &size);
        if (rc < 0)
            log_warn ("cannot store the log of job %" PRIu64 " attempt %u: "
                      "%s (holding %" PRIu64 " bytes; the worker will "
                      "resend)", c->job_id, c->attempt, strerror (-rc), size);
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__LogAck ack = YARD__LOG_ACK__INIT;
    ack.job_id = c->job_id;
    ack.attempt = c->attempt;
    ack.next_offset = size;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_LOG_ACK;
    out.log_ack = &ack;
    (void)yard__send_node (s, node, &out);
    if (!owned && job && job->parks)
        yard__parks_wake (s, job);
    yard_job_destroy (&owned);
}
