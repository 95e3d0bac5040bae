/* worker.c - the node daemon's loop: socket, registration, heartbeats,
 * dispatch, kill, log shipping and shutdown (see worker.h).
 *
 * Design note.  Everything the worker must resend lives in one place: a
 * cron timer (every WORKER_CRON_MS) walks the attempts and "pumps" each:
 * ship the next log chunk when logship says one is due (new data, or an
 * ack overdue), then send JobFinished once the whole log is acknowledged
 * and again every WORKER_FINISH_RESEND_MS until it is acknowledged, then
 * retire the attempt.  Acks and process exits pump their attempt at once, so
 * the timer only bounds the latency of new output.
 *
 * While the link is down (not registered, or nothing heard for a few
 * heartbeats) pumping pauses: a DEALER queues what it is given for a peer
 * that is not there, and log chunks resent every few seconds into that
 * queue would grow without bound.  Heartbeats and registers (small, and the
 * way the link comes back) keep going.  After a (re)register every attempt
 * resends from its acknowledged offset.
 */
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <zmq.h>

#include "attempt.h"
#include "health.h"
#include "jobdir.h"
#include "log.h"
#include "logship.h"
#include "metrics.h"
#include "msg.h"
#include "util.h"
#include "zwatcher.h"

#define RECV_BATCH 64  /* messages per wake-up, for fairness */
#define DONE_RING 1024 /* recently retired attempts, to drop duplicates */
#define HB_MIN_MS 100
#define HB_MAX_MS 600000
#define LINK_TIMEOUT_MIN_MS 6000
/* Frames above YARD_MAX_FRAME are refused by the codec, but only after
 * ZeroMQ has received them; this cap bounds that memory.  A frame above it
 * is a ZMTP protocol error, and libzmq then drops the session for good
 * (no reconnect): the link watchdog recovers from that. */
#define ZMQ_FRAME_CAP (64 * 1024 * 1024)

struct done_id {
    uint64_t job_id;
    uint32_t num;
};

struct worker {
    uv_loop_t *loop;
    char name[256];
    char hostname[256];
    char advertise_addr[256]; /* gang MASTER_ADDR when rank 0 is here */
    char endpoint[1024];
    char workdir[PATH_MAX];
    char jobs_root[PATH_MAX];
    char ckpt_root[PATH_MAX];
    uint32_t cpus;
    uint64_t memory_bytes;
    const Yard__Topology *topology; /* borrowed from the config; may be NULL */
    uint64_t instance;

    void *zctx;
    void *sock;     /* NULL only while a reset failed to reopen it */
    void *old_sock; /* replaced by a reset, closed at the next tick */
    yard_zwatcher_t *zw;
    uint32_t link_reset_ms;
    int64_t last_reset_ms;
    bool reset_quiet; /* already said the link is being reset */

    uv_timer_t cron;
    uv_timer_t hb_timer;
    uv_timer_t reg_timer;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_signal_t sighup;
    bool handles_open;
    bool started;

    struct attempt_host host;
    struct attempt *attempts; /* doubly linked, newest first */
    int n_attempts;
    struct done_id done[DONE_RING];
    size_t done_next;

    uint64_t next_rid;
    bool registered;
    uint64_t register_rid;
    uint32_t hb_interval_ms;
    int64_t last_rx_ms; /* monotonic: last valid message from the scheduler */

    bool stopping;

    /* health check (health.c): the last result, sent after each check
     * and again at each register (a restarted scheduler asks nothing) */
    health_t *health;
    bool health_known;
    bool health_ok;
    char health_reason[HEALTH_REASON_MAX];
    int stop_signals;
    int64_t stop_ack_deadline; /* 0 until the last job is gone */
    int64_t stop_hard_deadline;

    uint8_t chunk[LOGSHIP_CHUNK_MAX];
};

/* ---- sending ---------------------------------------------------------- */

static int
send_env (struct worker *w, yard_env_t *env)
{
    env->request_id = ++w->next_rid;
    int rc = w->sock ? yard_msg_send (w->sock, NULL, env) : -ENOTCONN;
    if (rc == -EAGAIN)
        log_debug ("send %s: queue to the scheduler is full (resent later)",
                   yard_msg_type_name (env));
    else if (rc < 0)
        log_warn ("send %s: %s (resent later)", yard_msg_type_name (env),
                  strerror (-rc));
    return rc;
}

static void
fill_finished (const struct attempt *a, Yard__JobFinished *m)
{
    yard__job_finished__init (m);
    m->job_id = a->job_id;
    m->attempt = a->num;
    m->reason = a->result.reason;
    m->exit_code = a->result.exit_code;
    m->term_signal = a->result.term_signal;
    m->message = (char *)a->result.message;
    m->end_time_ms = a->result.end_time_ms;
    m->log_size = a->result.log_size;
    m->start_time_ms = a->result.start_time_ms;
}

static void
send_register (struct worker *w)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__WorkerRegister reg = YARD__WORKER_REGISTER__INIT;
    Yard__RunningJob *run = NULL, **runp = NULL;
    Yard__JobFinished *fin = NULL, **finp = NULL;
    size_t nr = 0, nf = 0, n = (size_t)w->n_attempts;

    if (n > 0) {
        run = calloc (n, sizeof *run);
        runp = calloc (n, sizeof *runp);
        fin = calloc (n, sizeof *fin);
        finp = calloc (n, sizeof *finp);
        if (!run || !runp || !fin || !finp) {
            log_err ("register: out of memory (retrying)");
            goto done;
        }
    }
    for (struct attempt *a = w->attempts; a; a = a->next) {
        /* An attempt is over for the scheduler only once its whole log and
         * all its metrics are delivered (as JobFinished is only sent then):
         * until that, an ended attempt is reported as running, so that a
         * job the scheduler sees finished has all of its output. */
        bool shipped = a->state == ATTEMPT_ENDED
                       && logship_complete (&a->ship, a->result.log_size)
                       && metrics_complete (a->metrics);
        if (a->state == ATTEMPT_RUNNING
            || (a->state == ATTEMPT_ENDED && !a->finish_acked && !shipped)) {
            yard__running_job__init (&run[nr]);
            run[nr].job_id = a->job_id;
            run[nr].attempt = a->num;
            run[nr].pid = a->pid;
            run[nr].start_time_ms = a->start_time_ms;
            if (a->gang.on && a->gang.node_rank == 0)
                run[nr].master_port = a->gang.port;
            runp[nr] = &run[nr];
            nr++;
        } else if (a->state == ATTEMPT_ENDED && !a->finish_acked) {
            fill_finished (a, &fin[nf]); /* shipped: it is over */
            finp[nf] = &fin[nf];
            nf++;
        }
    }
    reg.name = w->name;
    reg.instance = w->instance;
    reg.hostname = w->hostname;
    reg.advertise_addr = w->advertise_addr;
    reg.version = (char *)YARD_VERSION;
    reg.cpus = w->cpus;
    reg.memory_bytes = w->memory_bytes;
    /* GPUs are whatever the topology found: the scheduler counts them */
    reg.gpus = w->topology ? (uint32_t)w->topology->n_gpus : 0;
    reg.topology = (Yard__Topology *)w->topology;
    reg.n_running = nr;
    reg.running = runp;
    reg.n_finished = nf;
    reg.finished = finp;
    env.body_case = YARD__ENVELOPE__BODY_WORKER_REGISTER;
    env.worker_register = &reg;
    if (send_env (w, &env) == 0)
        log_debug ("register sent (%zu running, %zu finished)", nr, nf);
    w->register_rid = env.request_id;
done:
    free (run);
    free (runp);
    free (fin);
    free (finp);
}

static void
send_heartbeat (struct worker *w)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__Heartbeat hb = YARD__HEARTBEAT__INIT;
    uint32_t running = 0;
    for (struct attempt *a = w->attempts; a; a = a->next)
        if (a->state == ATTEMPT_RUNNING)
            running++;
    hb.name = w->name;
    hb.instance = w->instance;
    hb.running = running;
    env.body_case = YARD__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_env (w, &env);
}

/* Tell the scheduler we are leaving (no new jobs) or gone (exiting now). */
static void
send_bye (struct worker *w, bool gone)
{
    if (!w->registered)
        return;
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__WorkerBye m = YARD__WORKER_BYE__INIT;
    m.name = w->name;
    m.instance = w->instance;
    m.gone = gone;
    env.body_case = YARD__ENVELOPE__BODY_WORKER_BYE;
    env.worker_bye = &m;
    send_env (w, &env);
}

static void
send_started (struct worker *w, const struct attempt *a)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__JobStarted m = YARD__JOB_STARTED__INIT;
    m.job_id = a->job_id;
    m.attempt = a->num;
    m.pid = a->pid;
    m.start_time_ms = a->start_time_ms;
    env.body_case = YARD__ENVELOPE__BODY_JOB_STARTED;
    env.job_started = &m;
    send_env (w, &env);
}

static void
send_gang_port (struct worker *w, const struct attempt *a)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__GangPort m = YARD__GANG_PORT__INIT;
    m.job_id = a->job_id;
    m.attempt = a->num;
    m.port = a->gang.port;
    env.body_case = YARD__ENVELOPE__BODY_GANG_PORT;
    env.gang_port = &m;
    send_env (w, &env);
}

/* A gang job's part (gang.h): its ranks and MASTER_ADDR/PORT.  Rank 0's
 * node picks the port and tells the scheduler, which then dispatches the
 * other nodes with it.  Returns 0, or -errno when no port can be had. */
static int
gang_setup (struct worker *w, struct attempt *a, const Yard__GangPart *gp)
{
    struct attempt_gang *g = &a->gang;
    g->on = true;
    g->node_rank = gp->node_rank;
    g->nnodes = gp->nnodes ? gp->nnodes : 1;
    g->tasks = gp->tasks_per_node ? gp->tasks_per_node : 1;
    g->port = gp->master_port;
    snprintf (g->addr, sizeof g->addr, "%s",
              gp->master_addr && *gp->master_addr ? gp->master_addr
                                                  : w->advertise_addr);
    if (g->node_rank == 0 && g->port == 0) {
        int rc = gang_free_port (&g->port);
        if (rc < 0)
            return rc;
        log_info ("job %" PRIu64 ".%" PRIu32 ": MASTER_PORT %" PRIu32
                  " on this node", a->job_id, a->num, g->port);
        send_gang_port (w, a);
    }
    return 0;
}

static void
send_finished (struct worker *w, const struct attempt *a)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__JobFinished m;
    fill_finished (a, &m);
    env.body_case = YARD__ENVELOPE__BODY_JOB_FINISHED;
    env.job_finished = &m;
    send_env (w, &env);
}

static void
send_chunk (struct worker *w, const struct attempt *a, uint64_t off,
            const uint8_t *data, size_t len)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__LogChunk m = YARD__LOG_CHUNK__INIT;
    m.job_id = a->job_id;
    m.attempt = a->num;
    m.offset = off;
    m.data.data = (uint8_t *)data;
    m.data.len = len;
    env.body_case = YARD__ENVELOPE__BODY_LOG_CHUNK;
    env.log_chunk = &m;
    send_env (w, &env);
}

static void
send_metrics (struct worker *w, const Yard__MetricsBatch *b)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    env.body_case = YARD__ENVELOPE__BODY_METRICS_BATCH;
    env.metrics_batch = (Yard__MetricsBatch *)b;
    send_env (w, &env);
}

/* ---- attempts ----------------------------------------------------------- */

static struct attempt *
find_attempt (struct worker *w, uint64_t job_id, uint32_t num)
{
    for (struct attempt *a = w->attempts; a; a = a->next)
        if (a->job_id == job_id && a->num == num)
            return a;
    return NULL;
}

static bool
recently_done (const struct worker *w, uint64_t job_id, uint32_t num)
{
    for (size_t i = 0; i < DONE_RING; i++)
        if (w->done[i].job_id == job_id && w->done[i].num == num)
            return true;
    return false;
}

static void
list_add (struct worker *w, struct attempt *a)
{
    a->prev = NULL;
    a->next = w->attempts;
    if (w->attempts)
        w->attempts->prev = a;
    w->attempts = a;
    w->n_attempts++;
}

static void
list_remove (struct worker *w, struct attempt *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        w->attempts = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
    w->n_attempts--;
}

/* The scheduler has the whole story: forget the attempt. */
static void
retire (struct worker *w, struct attempt *a)
{
    log_debug ("job %" PRIu64 ".%" PRIu32 ": acknowledged, removing %s",
               a->job_id, a->num, a->dir);
    list_remove (w, a);
    w->done[w->done_next].job_id = a->job_id;
    w->done[w->done_next].num = a->num;
    w->done_next = (w->done_next + 1) % DONE_RING;
    int rc = attempt_remove_dir (a);
    if (rc < 0)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot remove %s: %s",
                  a->job_id, a->num, a->dir, strerror (-rc));
    /* An empty checkpoint dir is clutter (a later attempt makes it again);
     * one holding checkpoints is kept for the job's next attempt, and so is
     * any dir another attempt of the job here may be using. */
    bool in_use = false;
    for (struct attempt *o = w->attempts; o; o = o->next)
        if (o->job_id == a->job_id)
            in_use = true;
    char ckpt[PATH_MAX];
    if (!in_use
        && snprintf (ckpt, sizeof ckpt, "%s/%" PRIu64, w->ckpt_root, a->job_id)
               < (int)sizeof ckpt)
        (void)rmdir (ckpt);
    attempt_destroy (&a);
}

static bool
link_ok (const struct worker *w, int64_t now)
{
    int64_t timeout = 3 * (int64_t)w->hb_interval_ms;
    if (timeout < LINK_TIMEOUT_MIN_MS)
        timeout = LINK_TIMEOUT_MIN_MS;
    return w->registered && now - w->last_rx_ms < timeout;
}

/* Send what attempt a owes the scheduler now (see the design note).  May
 * retire and free a. */
static void
pump (struct worker *w, struct attempt *a, int64_t now)
{
    if (!link_ok (w, now))
        return;
    uint64_t size = attempt_log_size (a);
    uint64_t off;
    size_t len;
    if (logship_next (&a->ship, size, now, &off, &len)) {
        ssize_t n = attempt_log_read (a, off, w->chunk, len);
        if (n > 0) {
            send_chunk (w, a, off, w->chunk, (size_t)n);
            logship_sent (&a->ship, off, (size_t)n, now);
        } else if (a->state == ATTEMPT_ENDED) {
            /* the file is shorter than it was (the job truncated it, or
             * it is unreadable): what cannot be read cannot be shipped */
            log_warn ("job %" PRIu64 ".%" PRIu32 ": log unreadable at "
                      "offset %" PRIu64 " (%s): shipping stops there",
                      a->job_id, a->num, off,
                      n < 0 ? strerror ((int)-n) : "end of file");
            a->result.log_size = off;
        }
    }
    /* metrics like logs: a finished job's metrics are complete */
    const Yard__MetricsBatch *mb = metrics_next (a->metrics, now);
    if (mb) {
        send_metrics (w, mb);
        metrics_sent (a->metrics, mb, now);
    }
    if (a->state != ATTEMPT_ENDED
        || !logship_complete (&a->ship, a->result.log_size)
        || !metrics_complete (a->metrics))
        return;
    if (a->finish_acked) {
        retire (w, a);
        return;
    }
    if (now >= a->finish_next_ms) {
        send_finished (w, a);
        a->finish_next_ms = now + WORKER_FINISH_RESEND_MS;
    }
}

static void
pump_all (struct worker *w)
{
    int64_t now = yard_mono_ms ();
    for (struct attempt *a = w->attempts, *next; a; a = next) {
        next = a->next;
        pump (w, a, now);
    }
}

/* A job's process ended (its result is on disk). */
static void
attempt_exited (struct attempt *a, void *arg)
{
    struct worker *w = arg;
    pump (w, a, yard_mono_ms ());
}

/* ---- registration ------------------------------------------------------- */

static void
reg_timer_cb (uv_timer_t *t)
{
    send_register (t->data);
}

static void
start_register (struct worker *w, uint64_t retry_ms)
{
    w->registered = false;
    uv_timer_stop (&w->hb_timer);
    send_register (w);
    uv_timer_start (&w->reg_timer, reg_timer_cb, retry_ms, retry_ms);
}

/* NodeHealth with the last check's result. */
static void
send_health (struct worker *w)
{
    if (!w->registered || !w->health_known)
        return;
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__NodeHealth m = YARD__NODE_HEALTH__INIT;
    m.name = w->name;
    m.instance = w->instance;
    m.healthy = w->health_ok;
    m.reason = w->health_reason;
    env.body_case = YARD__ENVELOPE__BODY_NODE_HEALTH;
    env.node_health = &m;
    send_env (w, &env);
}

static void
health_cb (bool healthy, const char *reason, void *arg)
{
    struct worker *w = arg;
    if (!healthy && (!w->health_known || w->health_ok
                     || strcmp (reason, w->health_reason) != 0))
        log_warn ("health check failed: %s", reason);
    else if (healthy && w->health_known && !w->health_ok)
        log_notice ("health check passes again");
    w->health_known = true;
    w->health_ok = healthy;
    snprintf (w->health_reason, sizeof w->health_reason, "%s", reason);
    send_health (w);
}

static void
hb_timer_cb (uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->registered)
        send_heartbeat (w);
}

/* ---- message handlers --------------------------------------------------- */

static void
on_register_reply (struct worker *w, const yard_env_t *env)
{
    const Yard__RegisterReply *m = env->register_reply;
    uint32_t hb = m->heartbeat_interval_ms;
    if (hb == 0)
        hb = WORKER_HEARTBEAT_DEFAULT_MS;
    if (hb < HB_MIN_MS || hb > HB_MAX_MS) {
        log_warn ("scheduler asks for heartbeats every %" PRIu32 " ms: "
                  "using %u",
                  hb, hb < HB_MIN_MS ? HB_MIN_MS : HB_MAX_MS);
        hb = hb < HB_MIN_MS ? HB_MIN_MS : HB_MAX_MS;
    }
    if (!w->registered)
        log_notice ("registered with the scheduler at %s as %s "
                    "(heartbeat every %" PRIu32 " ms, %d attempts known)",
                    w->endpoint, w->name, hb, w->n_attempts);
    w->registered = true;
    w->hb_interval_ms = hb;
    uv_timer_stop (&w->reg_timer);
    uv_timer_start (&w->hb_timer, hb_timer_cb, hb, hb);
    /* whatever was in flight may have been lost with the old link */
    for (struct attempt *a = w->attempts; a; a = a->next) {
        logship_rewind (&a->ship);
        metrics_rewind (a->metrics);
        a->finish_next_ms = 0;
    }
    if (w->stopping) /* a restarted scheduler must not send us new jobs */
        send_bye (w, false);
    send_health (w);
    pump_all (w);
}

static void
on_heartbeat_reply (struct worker *w, const yard_env_t *env)
{
    if (env->heartbeat_reply->known || !w->registered)
        return;
    log_notice ("the scheduler does not know this worker (it restarted?): "
                "registering again");
    start_register (w, WORKER_REGISTER_RETRY_MS);
}

static void
on_error (struct worker *w, const yard_env_t *env)
{
    const Yard__ErrorReply *m = env->error;
    const char *text = m->message ? m->message : "";
    if (env->request_id == w->register_rid && !w->registered) {
        log_err ("the scheduler refused the registration of %s: %s (%s); "
                 "retrying every %d s",
                 w->name, text, strerror (m->code > 0 ? m->code : EPROTO),
                 WORKER_REGISTER_REFUSED_MS / 1000);
        uv_timer_start (&w->reg_timer, reg_timer_cb,
                        WORKER_REGISTER_REFUSED_MS,
                        WORKER_REGISTER_REFUSED_MS);
        return;
    }
    log_warn ("the scheduler answered request %" PRIu64 " with an error: "
              "%s (code %d)",
              env->request_id, text, m->code);
}

static void
on_dispatch (struct worker *w, const yard_env_t *env)
{
    const Yard__Dispatch *m = env->dispatch;
    if (m->job_id == 0 || m->attempt == 0) {
        log_warn ("dropped a dispatch with job %" PRIu64 " attempt %" PRIu32
                  ": both must be > 0",
                  m->job_id, m->attempt);
        return;
    }
    if (w->stopping) {
        /* Refusing it as lost would have the scheduler requeue it and send
         * it straight back here, as this worker is still up: a loop.  Not
         * taking it leaves it on the scheduler's path for a worker that
         * goes away: lost at the worker timeout or at our next register. */
        log_warn ("job %" PRIu64 ".%" PRIu32 ": dispatch ignored: the worker "
                  "is shutting down",
                  m->job_id, m->attempt);
        return;
    }
    if (find_attempt (w, m->job_id, m->attempt)
        || recently_done (w, m->job_id, m->attempt)) {
        log_info ("job %" PRIu64 ".%" PRIu32 ": duplicate dispatch ignored",
                  m->job_id, m->attempt);
        return;
    }
    struct attempt *a = attempt_create (&w->host, m->job_id, m->attempt);
    if (!a) {
        /* cannot even track it: say so once; the scheduler requeues it
         * when this worker re-registers without it */
        log_err ("job %" PRIu64 ".%" PRIu32 ": cannot take the dispatch: %s",
                 m->job_id, m->attempt, strerror (errno));
        return;
    }
    list_add (w, a);
    int rc = m->gang ? gang_setup (w, a, m->gang) : 0;
    if (rc < 0)
        attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, 1,
                        "cannot find a free port for MASTER_PORT");
    else if (attempt_start_alloc (a, m->spec, m->alloc) == 0)
        send_started (w, a);
    pump (w, a, yard_mono_ms ());
}

static void
on_kill_job (struct worker *w, const yard_env_t *env)
{
    const Yard__KillJob *m = env->kill_job;
    struct attempt *a = find_attempt (w, m->job_id, m->attempt);
    if (!a || a->state != ATTEMPT_RUNNING) {
        log_debug ("kill of job %" PRIu64 ".%" PRIu32 " ignored: %s",
                   m->job_id, m->attempt, a ? "already over" : "not here");
        return;
    }
    Yard__EndReason reason = m->reason;
    /* END_PREEMPTED stops like a cancel, but the scheduler requeues the
     * job when the result carries it */
    if (reason != YARD__END_REASON__END_CANCELLED
        && reason != YARD__END_REASON__END_STALE
        && reason != YARD__END_REASON__END_PREEMPTED) {
        log_warn ("job %" PRIu64 ".%" PRIu32 ": kill with reason %d; "
                  "treated as a cancel",
                  m->job_id, m->attempt, (int)reason);
        reason = YARD__END_REASON__END_CANCELLED;
    }
    attempt_kill (a, reason, m->grace_s ? m->grace_s : a->grace_s);
}

static void
on_log_ack (struct worker *w, const yard_env_t *env)
{
    const Yard__LogAck *m = env->log_ack;
    struct attempt *a = find_attempt (w, m->job_id, m->attempt);
    if (!a) {
        log_debug ("log ack for unknown job %" PRIu64 ".%" PRIu32 " ignored",
                   m->job_id, m->attempt);
        return;
    }
    uint64_t size = attempt_log_size (a);
    if (logship_ack (&a->ship, m->next_offset, size) < 0)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": the scheduler claims %" PRIu64
                  " log bytes of %" PRIu64,
                  a->job_id, a->num, m->next_offset, size);
    pump (w, a, yard_mono_ms ());
}

static void
on_metrics_ack (struct worker *w, const yard_env_t *env)
{
    const Yard__MetricsAck *m = env->metrics_ack;
    struct attempt *a = find_attempt (w, m->job_id, m->attempt);
    if (!a || !a->metrics) {
        log_debug ("metrics ack for unknown job %" PRIu64 ".%" PRIu32
                   " ignored", m->job_id, m->attempt);
        return;
    }
    if (metrics_ack (a->metrics, m->next_seq) < 0)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": the scheduler claims %" PRIu64
                  " metrics lines of %" PRIu64,
                  a->job_id, a->num, m->next_seq, metrics_lines (a->metrics));
    pump (w, a, yard_mono_ms ());
}

static void
on_job_finished_ack (struct worker *w, const yard_env_t *env)
{
    const Yard__JobFinishedAck *m = env->job_finished_ack;
    struct attempt *a = find_attempt (w, m->job_id, m->attempt);
    if (!a) {
        log_debug ("finish ack for unknown job %" PRIu64 ".%" PRIu32
                   " ignored",
                   m->job_id, m->attempt);
        return;
    }
    if (a->state != ATTEMPT_ENDED) {
        log_warn ("finish ack for job %" PRIu64 ".%" PRIu32 " which is still "
                  "running: ignored",
                  m->job_id, m->attempt);
        return;
    }
    a->finish_acked = true;
    pump (w, a, yard_mono_ms ());
}

typedef void (*handler_f) (struct worker *w, const yard_env_t *env);

static const struct {
    Yard__Envelope__BodyCase body;
    handler_f fn;
} handlers[] = {
    { YARD__ENVELOPE__BODY_REGISTER_REPLY, on_register_reply },
    { YARD__ENVELOPE__BODY_HEARTBEAT_REPLY, on_heartbeat_reply },
    { YARD__ENVELOPE__BODY_ERROR, on_error },
    { YARD__ENVELOPE__BODY_DISPATCH, on_dispatch },
    { YARD__ENVELOPE__BODY_KILL_JOB, on_kill_job },
    { YARD__ENVELOPE__BODY_LOG_ACK, on_log_ack },
    { YARD__ENVELOPE__BODY_JOB_FINISHED_ACK, on_job_finished_ack },
    { YARD__ENVELOPE__BODY_METRICS_ACK, on_metrics_ack },
};

/* True when the body's message is present (protobuf-c leaves a oneof
 * member NULL only on a bug, but nothing from the wire is trusted). */
static bool
body_present (const yard_env_t *env)
{
    switch (env->body_case) {
    case YARD__ENVELOPE__BODY_REGISTER_REPLY:
        return env->register_reply;
    case YARD__ENVELOPE__BODY_HEARTBEAT_REPLY:
        return env->heartbeat_reply;
    case YARD__ENVELOPE__BODY_ERROR:
        return env->error;
    case YARD__ENVELOPE__BODY_DISPATCH:
        return env->dispatch;
    case YARD__ENVELOPE__BODY_KILL_JOB:
        return env->kill_job;
    case YARD__ENVELOPE__BODY_LOG_ACK:
        return env->log_ack;
    case YARD__ENVELOPE__BODY_JOB_FINISHED_ACK:
        return env->job_finished_ack;
    case YARD__ENVELOPE__BODY_METRICS_ACK:
        return env->metrics_ack;
    default:
        return false;
    }
}

static void
handle (struct worker *w, const yard_env_t *env)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (handlers[i].body != env->body_case)
            continue;
        if (!body_present (env)) {
            log_warn ("dropped a %s message without a body",
                      yard_msg_type_name (env));
            return;
        }
        w->last_rx_ms = yard_mono_ms ();
        w->reset_quiet = false;
        log_debug ("received %s", yard_msg_type_name (env));
        handlers[i].fn (w, env);
        return;
    }
    log_warn ("dropped an unexpected %s message from the scheduler",
              yard_msg_type_name (env));
}

static void
sock_cb (yard_zwatcher_t *zw, void *sock, void *arg)
{
    struct worker *w = arg;
    (void)zw;
    for (int i = 0; i < RECV_BATCH; i++) {
        yard_env_t *env = NULL;
        yard_error_t err;
        yard_error_clear (&err);
        int rc = yard_msg_recv (sock, NULL, &env, &err);
        if (rc == -EAGAIN)
            break;
        if (rc == -EINTR)
            continue;
        if (rc < 0 && err.code == 0) { /* the socket, not the message */
            log_err ("receive from the scheduler: %s", strerror (-rc));
            break;
        }
        if (rc < 0) {
            log_warn ("dropped a malformed message from the scheduler: %s",
                      err.text);
            continue;
        }
        handle (w, env);
        yard_msg_free (&env);
    }
}

/* ---- the link ----------------------------------------------------------- */

static int
set_opt (void *sock, int opt, int value)
{
    return zmq_setsockopt (sock, opt, &value, sizeof value);
}

/* Create the DEALER, connect it and join it to the loop. */
static int
socket_open (struct worker *w)
{
    int64_t cap = ZMQ_FRAME_CAP;
    int rc;
    if (!(w->sock = zmq_socket (w->zctx, ZMQ_DEALER)))
        return -errno;
    if (set_opt (w->sock, ZMQ_LINGER, 0) < 0
        || set_opt (w->sock, ZMQ_RECONNECT_IVL, 100) < 0
        || set_opt (w->sock, ZMQ_RECONNECT_IVL_MAX, 1000) < 0
        || set_opt (w->sock, ZMQ_IMMEDIATE, 0) < 0
        || zmq_setsockopt (w->sock, ZMQ_MAXMSGSIZE, &cap, sizeof cap) < 0
        || zmq_connect (w->sock, w->endpoint) < 0
        || !(w->zw = yard_zwatcher_create (w->loop, w->sock, sock_cb, w))) {
        rc = errno ? -errno : -EIO;
        zmq_close (w->sock);
        w->sock = NULL;
        return rc;
    }
    return 0;
}

/* Nothing heard for link_reset_ms although we keep talking: the DEALER
 * may be stuck in a state it never leaves by itself (libzmq gives up on a
 * session after a protocol error: an oversized frame, a peer that does not
 * speak ZMTP on the port).  A new socket costs nothing when the scheduler is
 * merely down, and a register tells a scheduler that is up who we are. */
static void
link_reset (struct worker *w, int64_t now)
{
    if (!w->reset_quiet)
        log_warn ("nothing heard from the scheduler at %s for %" PRId64
                  " s: reconnecting",
                  w->endpoint, (now - w->last_rx_ms) / 1000);
    else
        log_debug ("still nothing from the scheduler: reconnecting");
    w->reset_quiet = true;
    w->last_reset_ms = now;
    yard_zwatcher_destroy (&w->zw);
    if (w->old_sock)
        zmq_close (w->old_sock);
    /* its watcher's handles close at the end of this loop turn */
    w->old_sock = w->sock;
    w->sock = NULL;
    int rc = socket_open (w);
    if (rc < 0) {
        log_err ("cannot reopen the socket to %s: %s (retrying)", w->endpoint,
                 strerror (-rc));
        return;
    }
    start_register (w, WORKER_REGISTER_RETRY_MS);
}

/* ---- shutdown ----------------------------------------------------------- */

static void
handle_closed (uv_handle_t *h)
{
    (void)h;
}

static void
close_handles (struct worker *w)
{
    if (!w->handles_open)
        return;
    w->handles_open = false;
    health_destroy (&w->health);
    yard_zwatcher_destroy (&w->zw);
    uv_close ((uv_handle_t *)&w->cron, handle_closed);
    uv_close ((uv_handle_t *)&w->hb_timer, handle_closed);
    uv_close ((uv_handle_t *)&w->reg_timer, handle_closed);
    uv_close ((uv_handle_t *)&w->sigterm, handle_closed);
    uv_close ((uv_handle_t *)&w->sigint, handle_closed);
    uv_close ((uv_handle_t *)&w->sighup, handle_closed);
    while (w->attempts) {
        struct attempt *a = w->attempts;
        list_remove (w, a);
        attempt_destroy (&a);
    }
}

static void
stop_check (struct worker *w, int64_t now)
{
    int running = 0;
    for (struct attempt *a = w->attempts; a; a = a->next)
        if (a->state == ATTEMPT_RUNNING)
            running++;
    if (running > 0 && now < w->stop_hard_deadline)
        return;
    if (running > 0)
        log_err ("%d jobs did not end after SIGKILL; exiting without them",
                 running);
    if (running == 0 && w->stop_ack_deadline == 0)
        w->stop_ack_deadline = now + WORKER_STOP_ACK_WAIT_MS;
    bool waiting = running == 0 && w->attempts && link_ok (w, now)
                   && now < w->stop_ack_deadline;
    if (waiting)
        return;
    if (w->attempts)
        log_notice ("%d attempts not acknowledged yet: they are reported at "
                    "the next start",
                    w->n_attempts);
    log_notice ("stopped");
    send_bye (w, true);
    /* give the goodbye a moment to leave before the socket closes */
    int linger = 500;
    zmq_setsockopt (w->sock, ZMQ_LINGER, &linger, sizeof linger);
    close_handles (w);
}

static void
cron_cb (uv_timer_t *t)
{
    struct worker *w = t->data;
    int64_t now = yard_mono_ms ();
    if (w->old_sock) { /* its watcher closed on an earlier turn */
        zmq_close (w->old_sock);
        w->old_sock = NULL;
    }
    int64_t reset = w->link_reset_ms;
    if (3 * (int64_t)w->hb_interval_ms > reset)
        reset = 3 * (int64_t)w->hb_interval_ms;
    if (now - w->last_rx_ms >= reset && now - w->last_reset_ms >= reset)
        link_reset (w, now);
    pump_all (w);
    if (w->stopping)
        stop_check (w, yard_mono_ms ());
}

void
worker_stop (worker_t *w)
{
    if (!w || !w->handles_open)
        return;
    int64_t now = yard_mono_ms ();
    if (w->stopping) {
        log_notice ("stopping now: SIGKILL to every job");
        for (struct attempt *a = w->attempts; a; a = a->next)
            attempt_kill_now (a, YARD__END_REASON__END_LOST);
        w->stop_ack_deadline = now;
        return;
    }
    w->stopping = true;
    send_bye (w, false);
    uint32_t grace_max = 0;
    int running = 0;
    for (struct attempt *a = w->attempts; a; a = a->next) {
        if (a->state != ATTEMPT_RUNNING)
            continue;
        uint32_t g = a->grace_s;
        if (g > WORKER_STOP_GRACE_MAX_S)
            g = WORKER_STOP_GRACE_MAX_S;
        if (g > grace_max)
            grace_max = g;
        attempt_kill (a, YARD__END_REASON__END_LOST, g);
        running++;
    }
    log_notice ("stopping: ending %d running jobs", running);
    w->stop_hard_deadline = now + (int64_t)grace_max * 1000 + 10000;
    stop_check (w, now);
}

static void
signal_cb (uv_signal_t *s, int signum)
{
    struct worker *w = s->data;
    if (signum == SIGHUP) {
        /* the daemons' convention is "reload"; there is nothing to reload,
         * and a closed terminal must not leave the jobs unsupervised */
        log_notice ("got SIGHUP: yard-worker has no configuration to "
                    "reload; ignored");
        return;
    }
    log_notice ("got %s", strsignal (signum));
    worker_stop (w);
}

/* ---- life cycle --------------------------------------------------------- */

static uint64_t
random_instance (void)
{
    uint64_t x = 0;
    while (x == 0) {
        if (getrandom (&x, sizeof x, 0) != (ssize_t)sizeof x) {
            FILE *f = fopen ("/dev/urandom", "rbe");
            if (!f || fread (&x, sizeof x, 1, f) != 1)
                x = (uint64_t)yard_now_ms () ^ ((uint64_t)getpid () << 32);
            if (f)
                fclose (f);
        }
    }
    return x;
}

static void
recover_cb (const char *dir, uint64_t job_id, uint32_t num, void *arg)
{
    struct worker *w = arg;
    struct attempt *a = attempt_create (&w->host, job_id, num);
    if (!a) {
        log_err ("cannot recover %s: %s", dir, strerror (errno));
        return;
    }
    int rc = attempt_recover (a, dir);
    if (rc < 0)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot save its result in "
                  "%s: %s",
                  job_id, num, dir, strerror (-rc));
    log_info ("job %" PRIu64 ".%" PRIu32 ": found from before the restart: "
              "%s (%s), %" PRIu64 " log bytes to ship",
              job_id, num, yard_end_reason_name (a->result.reason),
              a->result.message, a->result.log_size);
    list_add (w, a);
}

static int
copy (char *dst, size_t len, const char *src)
{
    if (!src || strlen (src) >= len)
        return -ENAMETOOLONG;
    memcpy (dst, src, strlen (src) + 1);
    return 0;
}

worker_t *
worker_create (uv_loop_t *loop, const struct worker_config *cfg)
{
    struct worker *w = calloc (1, sizeof *w);
    int err = EINVAL;
    if (!w)
        return NULL;
    w->loop = loop;
    if (copy (w->name, sizeof w->name, cfg->name) < 0
        || copy (w->endpoint, sizeof w->endpoint, cfg->endpoint) < 0
        || copy (w->workdir, sizeof w->workdir, cfg->workdir) < 0
        || snprintf (w->jobs_root, sizeof w->jobs_root, "%s/jobs", w->workdir)
               >= (int)sizeof w->jobs_root
        || (cfg->checkpoint_root && cfg->checkpoint_root[0]
                ? copy (w->ckpt_root, sizeof w->ckpt_root,
                        cfg->checkpoint_root) < 0
                : snprintf (w->ckpt_root, sizeof w->ckpt_root,
                            "%s/checkpoints", w->workdir)
                      >= (int)sizeof w->ckpt_root)) {
        err = ENAMETOOLONG;
        goto error;
    }
    if (gethostname (w->hostname, sizeof w->hostname - 1) < 0)
        snprintf (w->hostname, sizeof w->hostname, "%s", w->name);
    snprintf (w->advertise_addr, sizeof w->advertise_addr, "%s",
              cfg->advertise_addr && cfg->advertise_addr[0]
                  ? cfg->advertise_addr
                  : w->hostname);
    w->cpus = cfg->cpus;
    w->memory_bytes = cfg->memory_bytes;
    w->topology = cfg->topology;
    w->instance = random_instance ();
    w->hb_interval_ms = WORKER_HEARTBEAT_DEFAULT_MS;
    w->link_reset_ms
        = cfg->link_reset_ms ? cfg->link_reset_ms : WORKER_LINK_RESET_MS;
    w->host.loop = loop;
    w->host.node = w->name;
    w->host.jobs_root = w->jobs_root;
    w->host.ckpt_root = w->ckpt_root;
    w->host.exit_cb = attempt_exited;
    w->host.arg = w;

    int rc;
    if ((rc = yard_mkdir_p (w->jobs_root)) < 0
        || (rc = yard_mkdir_p (w->ckpt_root)) < 0) {
        err = -rc;
        goto error;
    }
    if ((rc = jobdir_scan (w->jobs_root, recover_cb, w)) < 0) {
        err = -rc;
        goto error;
    }

    if (!(w->zctx = zmq_ctx_new ()))
        goto error_errno;
    if ((rc = socket_open (w)) < 0) {
        err = -rc;
        goto error;
    }
    uv_timer_init (loop, &w->cron);
    uv_timer_init (loop, &w->hb_timer);
    uv_timer_init (loop, &w->reg_timer);
    uv_signal_init (loop, &w->sigterm);
    uv_signal_init (loop, &w->sigint);
    uv_signal_init (loop, &w->sighup);
    w->cron.data = w->hb_timer.data = w->reg_timer.data = w;
    w->sigterm.data = w->sigint.data = w->sighup.data = w;
    w->handles_open = true;
    if (cfg->health_check && *cfg->health_check
        && !(w->health = health_create (
                 loop, cfg->health_check,
                 cfg->health_interval_ms ? cfg->health_interval_ms
                                         : HEALTH_INTERVAL_DEFAULT_MS,
                 cfg->health_timeout_ms ? cfg->health_timeout_ms
                                        : HEALTH_TIMEOUT_DEFAULT_MS,
                 health_cb, w)))
        goto error_errno;
    return w;

error_errno:
    err = errno ? errno : EIO;
error:
    worker_destroy (&w);
    errno = err;
    return NULL;
}

int
worker_start (worker_t *w)
{
    int rc;
    if (!w->handles_open || w->started)
        return -EINVAL;
    w->started = true;
    if ((rc = uv_signal_start (&w->sigterm, signal_cb, SIGTERM)) < 0
        || (rc = uv_signal_start (&w->sigint, signal_cb, SIGINT)) < 0
        || (rc = uv_signal_start (&w->sighup, signal_cb, SIGHUP)) < 0)
        return rc;
    w->last_rx_ms = w->last_reset_ms = yard_mono_ms ();
    uv_timer_start (&w->cron, cron_cb, WORKER_CRON_MS, WORKER_CRON_MS);
    if (w->health && (rc = health_start (w->health)) < 0)
        return rc;
    log_info ("worker %s (instance %016" PRIx64 ", %" PRIu32 " cpus) "
              "connecting to %s",
              w->name, w->instance, w->cpus, w->endpoint);
    start_register (w, WORKER_REGISTER_RETRY_MS);
    return 0;
}

int
worker_attempt_count (const worker_t *w)
{
    return w->n_attempts;
}

void
worker_destroy (worker_t **wp)
{
    if (!wp || !*wp)
        return;
    struct worker *w = *wp;
    *wp = NULL;
    close_handles (w);
    while (w->attempts) { /* from a failed create */
        struct attempt *a = w->attempts;
        list_remove (w, a);
        attempt_destroy (&a);
    }
    /* the handles are part of *w: wait for their close callbacks; the
     * zwatcher must be closed before its socket */
    uv_run (w->loop, UV_RUN_DEFAULT);
    if (w->old_sock)
        zmq_close (w->old_sock);
    if (w->sock)
        zmq_close (w->sock);
    if (w->zctx)
        zmq_ctx_term (w->zctx);
    free (w);
}
