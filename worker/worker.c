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
 * JobStarted is held for WORKER_START_REPORT_MS after the spawn (the
 * start_timer); a job whose JobFinished leaves first reports its start in
 * it, so a short job costs the scheduler one message, and the
 * JobFinishedAck comes back inside the next Dispatch (dispatch_acks).
 * Gang ranks report at once: the scheduler waits for every rank's start.
 *
 * While the link is down (not registered, or nothing heard for a few
 * heartbeats) pumping pauses: a DEALER queues what it is given for a peer
 * that is not there, and log chunks resent every few seconds into that
 * queue would grow without bound.  Heartbeats and registers (small, and the
 * way the link comes back) keep going.  After a (re)register every attempt
 * resends from its acknowledged offset.
 *
 * Successors (dispatch ahead): a Dispatch whose alloc names a predecessor
 * (after_job/after_attempt) that still runs here is held, packed, beside
 * the attempts, and started on the predecessor's PUs/GPUs the moment that
 * attempt ends (successor_due, from its exit callback: no round trip to
 * the scheduler).  One timer (ahead_timer) gives a successor back unstarted
 * (END_RETURNED) when its predecessor outlives Dispatch.ahead_wait_ms.  A
 * held successor is no attempt: a register forgets it (the scheduler
 * requeues what the register does not list), and it is reported only when
 * it ends unstarted: given back, killed, or at shutdown.
 */
#include "worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "attempt.h"
#include "health.h"
#include "jobdir.h"
#include "jobenv.h"
#include "log.h"
#include "logship.h"
#include "metrics.h"
#include "msg.h"
#include "usage.h"
#include "util.h"
#include "zwatcher.h"

#define RECV_BATCH 64  /* messages per wake-up, for fairness */
#define DONE_RING 1024 /* recently retired attempts, to drop duplicates */
#define WORKER_SPARE_DIRS 64 /* attempt dirs kept for reuse (dirpool.h) */
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

/* A successor held until its predecessor ends (see the design note). */
struct held {
    uint64_t job_id;
    uint32_t num;
    uint64_t after_job; /* its predecessor, running here */
    uint32_t after_num;
    uint32_t wait_ms;
    int64_t deadline_ms; /* monotonic: given back then */
    uint8_t *dispatch;   /* the packed Dispatch */
    size_t dispatch_len;
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
    bool ckpt_shared; /* --checkpoint-root given: no store uploads */
    struct dirpool *pool; /* spare attempt dirs (dirpool.h) */
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
    uv_timer_t start_timer; /* the next JobStarted due (start_due_ms) */
    uv_timer_t ahead_timer; /* the earliest held successor's deadline */
    int64_t ahead_due;      /* when ahead_timer fires (monotonic); 0: idle */
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
    /* successors held behind running attempts, at most one per attempt
     * (so a handful): unordered, removed by moving the last in */
    struct held *held;
    size_t n_held;
    size_t held_cap;

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
fill_finished (const struct attempt *a, Yard__JobFinished *m,
               Yard__ResourceUse *ru)
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
    if (usage_to_proto (&a->result.usage, ru))
        m->usage = ru;
    /* the attempt holds the messages, so they live as long as m is used */
    struct attempt *ma = (struct attempt *)a;
    m->n_outputs = jobdir_result_outputs (&a->result, ma->out_msg,
                                          ma->out_ptr);
    m->outputs = ma->out_ptr;
}

static void successors_forget (struct worker *w);

static void
send_register (struct worker *w)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__WorkerRegister reg = YARD__WORKER_REGISTER__INIT;
    Yard__RunningJob *run = NULL, **runp = NULL;
    Yard__JobFinished *fin = NULL, **finp = NULL;
    Yard__ResourceUse *fru = NULL;
    size_t nr = 0, nf = 0, n = (size_t)w->n_attempts;

    /* the register lists what runs; a held successor does not, and the
     * scheduler requeues it: starting it later would run it twice */
    successors_forget (w);
    if (n > 0) {
        run = calloc (n, sizeof *run);
        runp = calloc (n, sizeof *runp);
        fin = calloc (n, sizeof *fin);
        finp = calloc (n, sizeof *finp);
        fru = calloc (n, sizeof *fru);
        if (!run || !runp || !fin || !finp || !fru) {
            log_err ("register: out of memory (retrying)");
            goto done;
        }
    }
    for (struct attempt *a = w->attempts; a; a = a->next) {
        /* An attempt is over for the scheduler only once its whole log and
         * all its metrics are delivered (as JobFinished is only sent then):
         * until that, an ended attempt is reported as running, so that a
         * job the scheduler sees finished has all of its output. */
        /* so is one whose inputs or outputs are still moving */
        bool shipped = a->state == ATTEMPT_ENDED && !a->stage
                       && logship_complete (&a->ship, a->result.log_size)
                       && metrics_complete (a->metrics);
        if (a->state == ATTEMPT_RUNNING
            || (a->state == ATTEMPT_NEW && a->stage)
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
            fill_finished (a, &fin[nf], &fru[nf]); /* shipped: it is over */
            finp[nf] = &fin[nf];
            nf++;
        }
    }
    reg.name = w->name;
    reg.instance = w->instance;
    reg.hostname = w->hostname;
    reg.advertise_addr = w->advertise_addr;
    reg.dispatch_acks = true; /* on_dispatch reads finished_acks */
    reg.successors = true;    /* on_dispatch holds alloc.after_job */
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
    free (fru);
}

/* Measure the running attempts (attempt.h): cgroups and NVML each, and
 * one pass over /proc for those without cgroup CPU accounting. */
static void
sample_usage (struct worker *w, uint32_t running)
{
    if (running == 0)
        return;
    struct usage *s = calloc (running, sizeof *s);
    struct usage *p = calloc (running, sizeof *p);
    struct usage **pp = calloc (running, sizeof *pp);
    struct attempt **who = calloc (running, sizeof *who);
    int *pg = calloc (running, sizeof *pg);
    bool *need = calloc (running, sizeof *need);
    size_t n = 0, np = 0;
    if (s && p && pp && who && pg && need) {
        for (struct attempt *a = w->attempts; a && n < running; a = a->next) {
            if (a->state != ATTEMPT_RUNNING)
                continue;
            who[n] = a;
            need[n] = attempt_usage_begin (a, &s[n]);
            if (need[n]) {
                p[n].peak_rss_bytes = s[n].peak_rss_bytes;
                pg[np] = a->pid;
                pp[np++] = &p[n];
            }
            n++;
        }
        if (np)
            (void)usage_proc_scan ("/proc", pg, pp, np);
        for (size_t i = 0; i < n; i++)
            attempt_usage_end (who[i], &s[i],
                               need[i] && p[i].has_cpu ? &p[i] : NULL);
    }
    free (s);
    free (p);
    free (pp);
    free (who);
    free (pg);
    free (need);
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
    /* the resource use of each running attempt rides along, so that the
     * scheduler can show it live (a few /proc or cgroup reads each) */
    Yard__AttemptUsage *au = running ? calloc (running, sizeof *au) : NULL;
    Yard__AttemptUsage **aup = running ? calloc (running, sizeof *aup)
                                       : NULL;
    Yard__ResourceUse *ru = running ? calloc (running, sizeof *ru) : NULL;
    size_t nu = 0;
    sample_usage (w, running);
    for (struct attempt *a = w->attempts; au && aup && ru && a; a = a->next) {
        if (a->state != ATTEMPT_RUNNING || nu >= running)
            continue;
        if (!usage_to_proto (&a->usage, &ru[nu]))
            continue;
        yard__attempt_usage__init (&au[nu]);
        au[nu].job_id = a->job_id;
        au[nu].attempt = a->num;
        au[nu].usage = &ru[nu];
        aup[nu] = &au[nu];
        nu++;
    }
    hb.name = w->name;
    hb.instance = w->instance;
    hb.running = running;
    hb.n_usage = nu;
    hb.usage = aup;
    env.body_case = YARD__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_env (w, &env);
    free (au);
    free (aup);
    free (ru);
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

/* Send the JobStarted of every attempt whose report is due; arm the timer
 * for the next one. */
static void
start_timer_cb (uv_timer_t *t)
{
    struct worker *w = t->data;
    int64_t now = yard_mono_ms ();
    int64_t next = 0;
    for (struct attempt *a = w->attempts; a; a = a->next) {
        if (!a->start_due_ms)
            continue;
        if (a->start_due_ms <= now) {
            a->start_due_ms = 0;
            send_started (w, a);
        } else if (!next || a->start_due_ms < next) {
            next = a->start_due_ms;
        }
    }
    if (next)
        uv_timer_start (&w->start_timer, start_timer_cb,
                        (uint64_t)(next - now), 0);
}

/* The attempt runs: JobStarted is due in WORKER_START_REPORT_MS (a gang
 * rank's at once). */
static void
start_owed (struct worker *w, struct attempt *a)
{
    if (a->gang.on) {
        send_started (w, a);
        return;
    }
    a->start_due_ms = yard_mono_ms () + WORKER_START_REPORT_MS;
    if (!uv_is_active ((uv_handle_t *)&w->start_timer))
        uv_timer_start (&w->start_timer, start_timer_cb,
                        WORKER_START_REPORT_MS, 0);
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
    Yard__ResourceUse ru;
    fill_finished (a, &m, &ru);
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

/* Removing checkpoint entries (a folder may be a big tree) on the loop's
 * thread pool; what is logged when it is done. */
struct ckpt_rm {
    uv_work_t req;
    int rc;
    char path[PATH_MAX + 300];
    char done[PATH_MAX + 400];
};

static void
ckpt_rm_work (uv_work_t *req)
{
    struct ckpt_rm *r = req->data;
    r->rc = jobdir_remove_tree (r->path);
}

static void
ckpt_rm_after (uv_work_t *req, int status)
{
    struct ckpt_rm *r = req->data;
    int rc = status < 0 ? status : r->rc;
    if (rc < 0 && rc != -ENOENT)
        log_warn ("cannot remove %s: %s", r->path, strerror (-rc));
    else
        log_info ("%s", r->done);
    free (r);
}

/* Remove path off the loop; done is logged once it is gone. */
static void
ckpt_remove (struct worker *w, const char *path, const char *done)
{
    struct ckpt_rm *r = calloc (1, sizeof *r);
    if (!r) {
        log_warn ("cannot remove %s: out of memory", path);
        return;
    }
    if ((size_t)snprintf (r->path, sizeof r->path, "%s", path)
        >= sizeof r->path) {
        free (r);
        return;
    }
    (void)snprintf (r->done, sizeof r->done, "%s", done);
    r->req.data = r;
    int rc = uv_queue_work (w->loop, &r->req, ckpt_rm_work, ckpt_rm_after);
    if (rc < 0) {
        log_warn ("cannot remove %s: %s", path, uv_strerror (rc));
        free (r);
    }
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
    /* An empty checkpoint dir is clutter (a later attempt makes it again):
     * it goes with the attempt dir, to serve as the checkpoint dir of the
     * job that takes that one next (dirpool.h).  One holding checkpoints
     * is kept for the job's next attempt, and so is any dir another
     * attempt of the job here may be using. */
    bool in_use = false;
    for (struct attempt *o = w->attempts; o; o = o->next)
        if (o->job_id == a->job_id)
            in_use = true;
    char ckpt[PATH_MAX], spare[PATH_MAX + 32];
    if (!in_use
        && snprintf (ckpt, sizeof ckpt, "%s/%" PRIu64, w->ckpt_root, a->job_id)
               < (int)sizeof ckpt) {
        /* A job that completed needs no resume: without a shared root its
         * checkpoints are in the artifact store, and the local copies go. */
        bool done = !w->ckpt_shared && !a->gang.on
                    && a->result.reason == YARD__END_REASON__END_EXITED
                    && a->result.exit_code == 0;
        bool kept = !w->ckpt_shared && w->pool
                    && snprintf (spare, sizeof spare,
                                 "%s/" JOBDIR_SPARE_CKPT, a->dir)
                           < (int)sizeof spare
                    && jobdir_is_empty (ckpt) && rename (ckpt, spare) == 0;
        if (!kept && rmdir (ckpt) < 0 && errno != ENOENT && done) {
            char msg[PATH_MAX + 100];
            (void)snprintf (msg, sizeof msg, "job %" PRIu64 " completed: "
                            "removed its local checkpoints %s",
                            a->job_id, ckpt);
            ckpt_remove (w, ckpt, msg);
        }
    }
    int rc = attempt_remove_dir (a);
    if (rc < 0)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot remove %s: %s",
                  a->job_id, a->num, a->dir, strerror (-rc));
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

static bool ckpt_pump (struct worker *w, struct attempt *a, int64_t now);

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
    bool ckpt_wait = ckpt_pump (w, a, now);
    if (a->state != ATTEMPT_ENDED || a->stage || ckpt_wait
        || !logship_complete (&a->ship, a->result.log_size)
        || !metrics_complete (a->metrics))
        return;
    if (a->finish_acked) {
        retire (w, a);
        return;
    }
    if (now >= a->finish_next_ms) {
        a->start_due_ms = 0; /* JobFinished carries the start */
        /* a report not acknowledged at once, or one the worker may not
         * stay up for: its record becomes durable first (jobdir.h) */
        if (!a->result_synced && a->has_dir
            && (a->finish_next_ms != 0 || w->stopping)) {
            int rc = jobdir_result_sync (a->dir);
            if (rc < 0 && rc != -ENOENT)
                log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot sync its "
                          "result: %s", a->job_id, a->num, strerror (-rc));
            a->result_synced = true;
        }
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

/* ---- staged inputs and collected outputs (stage.h) ---------------------- */

#define COLLECT_FILE "collect" /* in the attempt dir: the output names */

/* snprintf for messages and paths that may be cut (checked by the reader:
 * a cut path does not exist) */
static void msgf (char *buf, size_t len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
msgf (char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, len, fmt, ap);
    va_end (ap);
}

enum { TAG_INPUTS = 1, TAG_CKPT_FETCH = 2 };

#define FETCH_PREFIX ".yard-fetch-" /* a work-in-progress checkpoint name */

static void stage_in_done (struct stage *st, void *arg);
static void successor_due (struct worker *w, const struct attempt *a);

/* Start the next transfer the attempt waits for (its checkpoint, then its
 * inputs), or, when none is left, the attempt itself. */
static void
stage_next (struct worker *w, struct attempt *a)
{
    Yard__Dispatch *m = NULL;
    struct stage *next = a->inputs;
    a->inputs = NULL;
    if (next && a->stage_kill == YARD__END_REASON__END_NONE) {
        attempt_note (a, "fetching %zu inputs from the artifact store",
                      next->n_items);
        int rc = stage_start (next, w->loop, w->zctx, w->endpoint, 0, 0,
                              stage_in_done, a);
        if (rc == 0) {
            a->stage = next;
            return;
        }
        char msg[256];
        msgf (msg, sizeof msg, "cannot start fetching its inputs: %s",
              uv_strerror (rc));
        attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, 1, msg);
    } else if (a->stage_kill != YARD__END_REASON__END_NONE) {
        attempt_refuse (a, a->stage_kill, 0,
                        "stopped while its inputs were being fetched");
    } else if (!(m = yard__dispatch__unpack (NULL, a->dispatch_len,
                                             a->dispatch))) {
        attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, 1,
                        "out of memory unpacking its dispatch");
    } else if (attempt_start_alloc (a, m->spec, m->alloc) == 0) {
        start_owed (w, a);
    }
    stage_destroy (&next);
    if (m)
        yard__dispatch__free_unpacked (m, NULL);
    free (a->dispatch);
    a->dispatch = NULL;
}

static void
stage_in_done (struct stage *st, void *arg)
{
    struct attempt *a = arg;
    struct worker *w = a->host->arg;
    char msg[768];

    a->stage = NULL;
    if (a->stage_kill != YARD__END_REASON__END_NONE) {
        stage_next (w, a);
    } else if (st->rc < 0) {
        msgf (msg, sizeof msg, "cannot %s on node %s: %s",
              st->tag == TAG_CKPT_FETCH ? "fetch its checkpoint"
                                        : "stage in its inputs",
              w->name, st->error);
        attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, 1, msg);
        free (a->dispatch);
        a->dispatch = NULL;
    } else if (st->tag == TAG_CKPT_FETCH) {
        /* fetched whole under a work-in-progress name: now it is an entry */
        char from[PATH_MAX + 300], to[PATH_MAX + 300];
        const char *name = st->items[0].path + strlen (FETCH_PREFIX);
        msgf (from, sizeof from, "%s/%s", st->root, st->items[0].path);
        msgf (to, sizeof to, "%s/%s", st->root, name);
        if (rename (from, to) < 0) {
            msgf (msg, sizeof msg, "cannot rename %s to %s: %s", from, to,
                  strerror (errno));
            attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, 1, msg);
            free (a->dispatch);
            a->dispatch = NULL;
        } else {
            msgf (a->ckpt_seen, sizeof a->ckpt_seen, "%s", name);
            attempt_note (a, "fetched checkpoint %s from the artifact store "
                          "(%" PRIu64 " bytes)",
                          name, st->bytes);
            stage_next (w, a);
        }
    } else {
        attempt_note (a, "staged %zu inputs in $YARD_INPUTS (%" PRIu64
                      " bytes fetched)",
                      st->n_items, st->bytes);
        stage_next (w, a);
    }
    stage_destroy (&st);
    /* ended before its process ran (a failed transfer, a kill): what
     * waits for it starts now */
    if (a->state == ATTEMPT_ENDED)
        successor_due (w, a);
    pump (w, a, yard_mono_ms ());
}

static void
collect_done (struct stage *st, void *arg)
{
    struct attempt *a = arg;
    struct worker *w = a->host->arg;
    struct jobdir_result *r = &a->result;

    a->stage = NULL;
    if (st->rc == 0) {
        r->n_outputs = 0;
        for (size_t i = 0; i < st->n_items && i < JOBDIR_OUTPUTS_MAX; i++) {
            struct jobdir_output *o = &r->outputs[r->n_outputs++];
            msgf (o->name, sizeof o->name, "%s", st->items[i].path);
            snprintf (o->digest, sizeof o->digest, "%s", st->items[i].digest);
            o->size = st->items[i].size;
            log_info ("job %" PRIu64 ".%" PRIu32 ": output %s stored as %s "
                      "(%" PRIu64 " bytes)",
                      a->job_id, a->num, o->name, o->digest, o->size);
        }
    } else {
        /* exited 0 but what it made is not kept: not a success */
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot store its outputs: %s",
                  a->job_id, a->num, st->error);
        r->exit_code = 1;
        msgf (r->message, sizeof r->message,
                  "exited 0, but its outputs could not be stored: %s",
                  st->error);
    }
    int rc = jobdir_result_save (a->dir, a->job_id, a->num, r);
    if (rc < 0)
        log_err ("job %" PRIu64 ".%" PRIu32 ": cannot save its result in %s: "
                 "%s (it is kept in memory only)",
                 a->job_id, a->num, a->dir, strerror (-rc));
    stage_destroy (&st);
    pump (w, a, yard_mono_ms ());
}

/* Store the outputs of an attempt that exited 0, before its JobFinished. */
static void
collect_start (struct worker *w, struct attempt *a)
{
    struct stage *st = a->collect;
    a->collect = NULL;
    int rc = stage_start (st, w->loop, w->zctx, w->endpoint, 0, 0,
                          collect_done, a);
    if (rc < 0) {
        snprintf (st->error, sizeof st->error, "cannot start the upload: %s",
                  uv_strerror (rc));
        st->rc = rc;
        collect_done (st, a);
        return;
    }
    a->stage = st;
}

/* Set up the spec's stage_in and collect.  Returns 1 when inputs are being
 * fetched (the attempt starts once they are there), 0 when it can start
 * now, -1 when it was refused (ENDED, with the reason in its log). */
static int
stage_setup (struct worker *w, struct attempt *a, const Yard__Dispatch *m)
{
    const Yard__JobSpec *spec = m->spec;
    char msg[768], path[PATH_MAX + 64];
    struct stage *st = NULL;
    int rc;

    /* the newest checkpoint, when this node does not hold it: a shared
     * root holds every checkpoint already */
    const Yard__CheckpointRecord *ck = m->resume_from;
    char ckdir[PATH_MAX + 32], entry[PATH_MAX + 300];
    struct stat sb;
    bool fetch = false;
    if (ck && !w->ckpt_shared && ck->name && ck->digest && *ck->digest) {
        msgf (ckdir, sizeof ckdir, "%s/%" PRIu64, w->ckpt_root, a->job_id);
        msgf (entry, sizeof entry, "%s/%s", ckdir, ck->name);
        fetch = lstat (entry, &sb) < 0;
        if (!fetch)
            msgf (a->ckpt_seen, sizeof a->ckpt_seen, "%s", ck->name);
    }
    if (!spec || (spec->n_stage_in == 0 && spec->n_collect == 0 && !fetch))
        return 0;
    if ((rc = attempt_prepare (a)) < 0) {
        msgf (msg, sizeof msg, "cannot create the job dir %s on node %s: "
                  "%s", a->dir, w->name, strerror (-rc));
        goto refuse;
    }
    if (spec->n_collect > JOBDIR_OUTPUTS_MAX) {
        msgf (msg, sizeof msg, "the job collects %zu outputs; at most %d",
                  spec->n_collect, JOBDIR_OUTPUTS_MAX);
        goto refuse;
    }
    if (spec->n_collect > 0) {
        char names[JOBDIR_OUTPUTS_MAX * JOBDIR_OUTPUT_NAME_MAX];
        size_t used = 0;
        msgf (a->outputs_dir, sizeof a->outputs_dir, "%s/outputs", a->dir);
        if (!(a->collect = stage_create (STAGE_OUT, a->outputs_dir))) {
            msgf (msg, sizeof msg, "out of memory");
            goto refuse;
        }
        for (size_t i = 0; i < spec->n_collect; i++) {
            const char *n = spec->collect[i];
            if (!n || strchr (n, '/') || strlen (n) >= JOBDIR_OUTPUT_NAME_MAX
                || stage_add (a->collect, n, NULL) < 0) {
                msgf (msg, sizeof msg,
                          "collect '%s': an output is one folder name (no "
                          "'/', not '.' or '..', under %d bytes)",
                          n ? n : "", JOBDIR_OUTPUT_NAME_MAX);
                goto refuse;
            }
            msgf (path, sizeof path, "%s/%s", a->outputs_dir, n);
            if ((rc = yard_mkdir_p (path)) < 0) {
                msgf (msg, sizeof msg, "cannot create %s: %s", path,
                          strerror (-rc));
                goto refuse;
            }
            used += (size_t)snprintf (names + used, sizeof names - used,
                                      "%s\n", n);
        }
        /* a worker restarted before the outputs were stored finds what
         * to store here (recover_cb) */
        msgf (path, sizeof path, "%s/" COLLECT_FILE, a->dir);
        if ((rc = yard_write_file_atomic (path, names, used)) < 0)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot write %s: %s",
                      a->job_id, a->num, path, strerror (-rc));
    }
    if (spec->n_stage_in == 0 && !fetch)
        return 0;
    if (spec->n_stage_in == 0)
        goto checkpoint;
    msgf (a->inputs_dir, sizeof a->inputs_dir, "%s/inputs", a->dir);
    if ((rc = yard_mkdir_p (a->inputs_dir)) < 0) {
        msgf (msg, sizeof msg, "cannot create %s: %s", a->inputs_dir,
                  strerror (-rc));
        goto refuse;
    }
    if (!(st = stage_create (STAGE_IN, a->inputs_dir))) {
        msgf (msg, sizeof msg, "out of memory");
        goto refuse;
    }
    for (size_t i = 0; i < spec->n_stage_in; i++) {
        const Yard__StageIn *in = spec->stage_in[i];
        const char *p = in && in->path ? in->path : "";
        const char *d = in && in->digest ? in->digest : "";
        if ((rc = stage_add (st, p, d)) < 0) {
            if (rc == -E2BIG)
                msgf (msg, sizeof msg, "the job stages in more than %d inputs",
                      STAGE_MAX_ITEMS);
            else if (!stage_path_ok (p))
                msgf (msg, sizeof msg, "stage_in path '%s' must be relative "
                      "and stay inside $YARD_INPUTS (no '..', not absolute)",
                      p);
            else
                msgf (msg, sizeof msg, "stage_in '%s': '%s' is not an "
                      "artifact digest", p, d);
            goto refuse;
        }
    }
    st->tag = TAG_INPUTS;
    a->inputs = st;
    st = NULL;
checkpoint:
    if (fetch) {
        char tmp[300];
        msgf (tmp, sizeof tmp, FETCH_PREFIX "%s", ck->name);
        if ((rc = yard_mkdir_p (ckdir)) < 0) {
            msgf (msg, sizeof msg, "cannot create %s: %s", ckdir,
                  strerror (-rc));
            goto refuse;
        }
        msgf (entry, sizeof entry, "%s/%s", ckdir, tmp);
        (void)jobdir_remove_tree (entry); /* left by an interrupted fetch */
        if (strchr (ck->name, '/') || !(st = stage_create (STAGE_IN, ckdir))
            || stage_add (st, tmp, ck->digest) < 0) {
            msgf (msg, sizeof msg, "the checkpoint to resume from ('%s', %s) "
                  "cannot be fetched: bad name or digest",
                  ck->name, ck->digest ? ck->digest : "");
            goto refuse;
        }
        st->tag = TAG_CKPT_FETCH;
        attempt_note (a, "fetching checkpoint %s (step %" PRId64 ", attempt "
                      "%" PRIu32 " on %s) from the artifact store",
                      ck->name, ck->step, ck->attempt,
                      ck->node ? ck->node : "?");
    }
    size_t len = yard__dispatch__get_packed_size (m);
    if (!(a->dispatch = malloc (len ? len : 1))) {
        msgf (msg, sizeof msg, "out of memory");
        goto refuse;
    }
    a->dispatch_len = yard__dispatch__pack (m, a->dispatch);
    if (!st) { /* inputs only */
        stage_next (w, a);
        return a->state == ATTEMPT_NEW && a->stage ? 1 : -1;
    }
    if ((rc = stage_start (st, w->loop, w->zctx, w->endpoint, 0, 0,
                           stage_in_done, a))
        < 0) {
        msgf (msg, sizeof msg, "cannot start fetching its checkpoint: %s",
              uv_strerror (rc));
        goto refuse;
    }
    a->stage = st;
    return 1;
refuse:
    stage_destroy (&st);
    attempt_refuse (a, YARD__END_REASON__END_SPAWN_FAILED, 1, msg);
    return -1;
}

/* A recovered attempt that exited 0 before its outputs were stored: they
 * are stored (worker_start, before the first register) from its dir. */
static void
recover_collect (struct attempt *a)
{
    char path[PATH_MAX + 64], line[JOBDIR_OUTPUT_NAME_MAX + 2];
    if (a->result.reason != YARD__END_REASON__END_EXITED
        || a->result.exit_code != 0 || a->result.n_outputs > 0)
        return;
    msgf (path, sizeof path, "%s/" COLLECT_FILE, a->dir);
    FILE *f = fopen (path, "re");
    if (!f)
        return;
    msgf (a->outputs_dir, sizeof a->outputs_dir, "%s/outputs", a->dir);
    struct stage *st = stage_create (STAGE_OUT, a->outputs_dir);
    while (st && fgets (line, sizeof line, f)) {
        line[strcspn (line, "\n")] = '\0';
        (void)stage_add (st, line, NULL);
    }
    fclose (f);
    if (!st || st->n_items == 0) {
        stage_destroy (&st);
        return;
    }
    log_info ("job %" PRIu64 ".%" PRIu32 ": exited 0 before its %zu "
              "outputs were stored: storing them",
              a->job_id, a->num, st->n_items);
    a->collect = st;
}

/* ---- successors (dispatch ahead) ---------------------------------------- */

/* Track the attempt of dispatch m (checked: ids, not a duplicate) and start
 * it, or first the transfers it waits for. */
static void
dispatch_start (struct worker *w, const Yard__Dispatch *m)
{
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
    else if (stage_setup (w, a, m) == 0
             && attempt_start_alloc (a, m->spec, m->alloc) == 0)
        start_owed (w, a);
    pump (w, a, yard_mono_ms ());
}

/* Report attempt job_id.num ended here without running: an attempt with
 * reason and message, no start time, no dir and no log, whose JobFinished
 * goes out as any other and which is retired once acknowledged.  Should
 * even that fail, the next register does not list it and the scheduler
 * requeues it. */
static void
give_back (struct worker *w, uint64_t job_id, uint32_t num,
           Yard__EndReason reason, const char *message)
{
    struct attempt *a = attempt_create (&w->host, job_id, num);
    if (!a) {
        log_err ("job %" PRIu64 ".%" PRIu32 ": cannot report it (%s): %s",
                 job_id, num, message, strerror (errno));
        return;
    }
    list_add (w, a);
    attempt_refuse (a, reason, 0, message);
    /* the job's checkpoints here are its earlier attempts', stored by them */
    a->ckpt_deadline_ms = yard_mono_ms ();
    pump (w, a, yard_mono_ms ());
}

static struct held *held_after (struct worker *w, uint64_t job_id,
                                uint32_t num);
static void held_take (struct worker *w, struct held *h, struct held *out);

/* Attempt job_id.num, a held successor, ends unstarted: the successors
 * held behind it (a chain) are given back with it, as the PUs they wait
 * for stay with the attempt still running. */
static void
give_back_after (struct worker *w, uint64_t job_id, uint32_t num)
{
    struct held *h, x;
    char msg[160];
    while ((h = held_after (w, job_id, num))) {
        held_take (w, h, &x);
        free (x.dispatch);
        msgf (msg, sizeof msg,
              "job %" PRIu64 " attempt %" PRIu32 ", which it followed, "
              "did not start",
              job_id, num);
        give_back (w, x.job_id, x.num, YARD__END_REASON__END_RETURNED, msg);
        give_back_after (w, x.job_id, x.num);
    }
}

static struct held *
held_find (struct worker *w, uint64_t job_id, uint32_t num)
{
    for (size_t i = 0; i < w->n_held; i++)
        if (w->held[i].job_id == job_id && w->held[i].num == num)
            return &w->held[i];
    return NULL;
}

/* The successor held behind attempt job_id.num, or NULL. */
static struct held *
held_after (struct worker *w, uint64_t job_id, uint32_t num)
{
    for (size_t i = 0; i < w->n_held; i++)
        if (w->held[i].after_job == job_id && w->held[i].after_num == num)
            return &w->held[i];
    return NULL;
}

/* Move h out of the set into *out, which then owns its dispatch (h now
 * holds another successor, or none). */
static void
held_take (struct worker *w, struct held *h, struct held *out)
{
    *out = *h;
    *h = w->held[--w->n_held];
}

static void
held_clear (struct worker *w)
{
    for (size_t i = 0; i < w->n_held; i++)
        free (w->held[i].dispatch);
    w->n_held = 0;
}

static void ahead_timer_cb (uv_timer_t *t);

/* Arm ahead_timer for the earliest deadline held, or stop it. */
static void
ahead_arm (struct worker *w, int64_t now)
{
    int64_t next = 0;
    for (size_t i = 0; i < w->n_held; i++)
        if (!next || w->held[i].deadline_ms < next)
            next = w->held[i].deadline_ms;
    w->ahead_due = next;
    if (!next)
        uv_timer_stop (&w->ahead_timer);
    else
        uv_timer_start (&w->ahead_timer, ahead_timer_cb,
                        next > now ? (uint64_t)(next - now) : 0, 0);
}

/* Start the successor taken out of the set as h; frees its dispatch. */
static void
successor_start (struct worker *w, struct held *h)
{
    Yard__Dispatch *m
        = yard__dispatch__unpack (NULL, h->dispatch_len, h->dispatch);
    if (!m) {
        give_back (w, h->job_id, h->num, YARD__END_REASON__END_RETURNED,
                   "out of memory unpacking its dispatch");
    } else {
        log_debug ("job %" PRIu64 ".%" PRIu32 ": starts after job %" PRIu64
                   ".%" PRIu32,
                   h->job_id, h->num, h->after_job, h->after_num);
        dispatch_start (w, m);
        yard__dispatch__free_unpacked (m, NULL);
        /* refused at once (a spawn failure): its PUs are free again */
        const struct attempt *a = find_attempt (w, h->job_id, h->num);
        if (a && a->state == ATTEMPT_ENDED)
            successor_due (w, a);
    }
    free (h->dispatch);
    h->dispatch = NULL;
}

/* Attempt a has ended: its process is gone and its PUs, GPUs and cgroups
 * are released (or it never ran).  The successor held behind it starts
 * now.  Called from a's exit callback: a is left as it is.  Nothing is
 * held while the worker stops (worker_stop gave them back). */
static void
successor_due (struct worker *w, const struct attempt *a)
{
    struct held *h, x;
    if (w->n_held == 0 || !(h = held_after (w, a->job_id, a->num)))
        return;
    held_take (w, h, &x); /* the timer finds it gone */
    successor_start (w, &x);
}

/* Give back the successors whose predecessor outlived their wait. */
static void
ahead_timer_cb (uv_timer_t *t)
{
    struct worker *w = t->data;
    int64_t now = yard_mono_ms ();
    char msg[128];
    for (size_t i = 0; i < w->n_held;) {
        struct held *h = &w->held[i], x;
        if (h->deadline_ms > now) {
            i++;
            continue;
        }
        held_take (w, h, &x); /* i now holds the last one: looked at next */
        /* an end no hook saw (there should be none): its PUs are free */
        const struct attempt *p = find_attempt (w, x.after_job, x.after_num);
        if (p ? p->state == ATTEMPT_ENDED
              : !held_find (w, x.after_job, x.after_num)) {
            successor_start (w, &x);
            i = 0; /* the set may have changed under i */
            continue;
        }
        msgf (msg, sizeof msg,
              "job %" PRIu64 " attempt %" PRIu32 " still running after "
              "%" PRIu32 " ms",
              x.after_job, x.after_num, x.wait_ms);
        give_back (w, x.job_id, x.num, YARD__END_REASON__END_RETURNED, msg);
        free (x.dispatch);
        give_back_after (w, x.job_id, x.num);
        i = 0; /* the set changed under i */
    }
    ahead_arm (w, now);
}

/* Hold successor m behind attempt pj.pn, which has not ended (it runs, or
 * is held itself).  0 or -ENOMEM. */
static int
successor_hold (struct worker *w, const Yard__Dispatch *m, uint64_t pj,
                uint32_t pn)
{
    if (w->n_held == w->held_cap) {
        size_t cap = w->held_cap ? 2 * w->held_cap : 16;
        struct held *v = realloc (w->held, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        w->held = v;
        w->held_cap = cap;
    }
    /* its own copy: the envelope is freed after the handler; the acks it
     * carried are done with */
    Yard__Dispatch c = *m;
    c.n_finished_acks = 0;
    c.finished_acks = NULL;
    size_t len = yard__dispatch__get_packed_size (&c);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    struct held *h = &w->held[w->n_held++];
    h->job_id = m->job_id;
    h->num = m->attempt;
    h->after_job = pj;
    h->after_num = pn;
    h->wait_ms
        = m->ahead_wait_ms ? m->ahead_wait_ms : WORKER_AHEAD_WAIT_DEFAULT_MS;
    h->deadline_ms = yard_mono_ms () + h->wait_ms;
    h->dispatch = buf;
    h->dispatch_len = yard__dispatch__pack (&c, buf);
    if (!w->ahead_due || h->deadline_ms < w->ahead_due) {
        w->ahead_due = h->deadline_ms;
        uv_timer_start (&w->ahead_timer, ahead_timer_cb, h->wait_ms, 0);
    }
    log_debug ("job %" PRIu64 ".%" PRIu32 ": held behind job %" PRIu64
               ".%" PRIu32 " (up to %" PRIu32 " ms)",
               h->job_id, h->num, h->after_job, h->after_num, h->wait_ms);
    return 0;
}

/* Dispatch m names a predecessor (alloc.after_job): hold m while that
 * attempt runs here, or give m back when it cannot wait for it.  False
 * when m is to start now: its predecessor ended, or is not here (retired
 * already, or never was, as with after_attempt 0). */
static bool
successor_dispatch (struct worker *w, const Yard__Dispatch *m)
{
    uint64_t pj = m->alloc->after_job;
    uint32_t pn = m->alloc->after_attempt;
    const struct attempt *p = find_attempt (w, pj, pn);
    const char *why;
    char msg[160];
    if (p ? p->state == ATTEMPT_ENDED : !held_find (w, pj, pn))
        return false;
    /* a predecessor held itself makes a chain: each starts when the one
     * before it ends, on the PUs of the attempt that runs now */
    if (held_after (w, pj, pn)) /* one per attempt: the PUs are one */
        why = "already has a successor here";
    else if (successor_hold (w, m, pj, pn) == 0)
        return true;
    else
        why = "cannot be waited for: out of memory";
    msgf (msg, sizeof msg, "job %" PRIu64 " attempt %" PRIu32 " %s", pj, pn,
          why);
    give_back (w, m->job_id, m->attempt, YARD__END_REASON__END_RETURNED,
               msg); /* logged there */
    return true;
}

/* At a register, which lists what runs: the scheduler requeues the held
 * successors itself. */
static void
successors_forget (struct worker *w)
{
    for (size_t i = 0; i < w->n_held; i++)
        log_info ("job %" PRIu64 ".%" PRIu32 ": successor of job %" PRIu64
                  ".%" PRIu32 " forgotten at register",
                  w->held[i].job_id, w->held[i].num, w->held[i].after_job,
                  w->held[i].after_num);
    held_clear (w);
    if (w->ahead_due) {
        w->ahead_due = 0;
        uv_timer_stop (&w->ahead_timer);
    }
}

/* ---- checkpoints through the artifact store ----------------------------- */

#define CKPT_SCAN_MS 1000      /* a running attempt's dir is looked at */
#define CKPT_RETRY_MS 5000     /* after a failed upload */
#define CKPT_COMMIT_RESEND_MS 3000
#define CKPT_END_WAIT_MS 60000 /* an ended attempt waits for its uploads */

static void ckpt_scan (struct worker *w, struct attempt *a, int64_t now);

/* The step of an entry: the last number in its name (ckpt-000120.pt:
 * 120), else -1. */
static int64_t
ckpt_step (const char *name)
{
    int64_t step = -1;
    for (const char *p = name; *p;) {
        if (*p >= '0' && *p <= '9') {
            int64_t v = 0;
            while (*p >= '0' && *p <= '9' && v < INT64_MAX / 10)
                v = v * 10 + (*p++ - '0');
            step = v;
        } else {
            p++;
        }
    }
    return step;
}

static void
send_commit (struct worker *w, struct attempt *a)
{
    Yard__CheckpointRecord r = YARD__CHECKPOINT_RECORD__INIT;
    r.job_id = a->job_id;
    r.attempt = a->num;
    r.name = a->ckpt_name;
    r.step = a->ckpt_step;
    r.digest = a->ckpt_digest;
    r.size = a->ckpt_size;
    r.time_ms = a->ckpt_time_ms;
    r.node = w->name;
    Yard__CheckpointCommit c = YARD__CHECKPOINT_COMMIT__INIT;
    c.record = &r;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.body_case = YARD__ENVELOPE__BODY_CHECKPOINT_COMMIT;
    env.checkpoint_commit = &c;
    (void)send_env (w, &env);
}

static void
ckpt_done (struct stage *st, void *arg)
{
    struct attempt *a = arg;
    struct worker *w = a->host->arg;
    int64_t now = yard_mono_ms ();
    a->ckpt_stage = NULL;
    if (st->rc == 0) {
        const struct stage_item *it = &st->items[0];
        msgf (a->ckpt_seen, sizeof a->ckpt_seen, "%s", it->path);
        msgf (a->ckpt_name, sizeof a->ckpt_name, "%s", it->path);
        msgf (a->ckpt_digest, sizeof a->ckpt_digest, "%s", it->digest);
        a->ckpt_size = it->size;
        a->ckpt_step = strcmp (it->path, a->ckpt_ann) == 0
                               && a->ckpt_ann_step >= 0
                           ? a->ckpt_ann_step
                           : ckpt_step (it->path);
        a->ckpt_time_ms = yard_now_ms ();
        a->ckpt_pending = true;
        log_info ("job %" PRIu64 ".%" PRIu32 ": checkpoint %s stored as %s "
                  "(%" PRIu64 " bytes sent)",
                  a->job_id, a->num, it->path, it->digest, st->bytes);
        send_commit (w, a);
        a->ckpt_next_ms = now + CKPT_COMMIT_RESEND_MS;
    } else {
        /* the job may have removed it meanwhile: a newer one follows */
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot store checkpoint %s: "
                  "%s",
                  a->job_id, a->num, st->items[0].path, st->error);
        a->ckpt_next_ms = now + CKPT_RETRY_MS;
    }
    stage_destroy (&st);
    if (a->state == ATTEMPT_ENDED || a->ckpt_ann_todo)
        ckpt_scan (w, a, now);
    pump (w, a, now);
}

/* Store the entry the job announced last, else the newest complete entry
 * of the job's checkpoint dir, when it is not the one stored (or fetched)
 * last. */
static void
ckpt_scan (struct worker *w, struct attempt *a, int64_t now)
{
    char dir[PATH_MAX + 32], latest[PATH_MAX + 300];
    if (w->ckpt_shared || a->ckpt_stage || a->state == ATTEMPT_NEW)
        return;
    if (a->state == ATTEMPT_ENDED && a->ckpt_deadline_ms
        && now >= a->ckpt_deadline_ms)
        return;
    msgf (dir, sizeof dir, "%s/%" PRIu64, w->ckpt_root, a->job_id);
    const char *name;
    if (a->ckpt_ann_todo) {
        a->ckpt_ann_todo = false;
        name = a->ckpt_ann;
    } else {
        if (jobenv_latest_checkpoint (dir, latest, sizeof latest) < 0)
            return;
        name = strrchr (latest, '/') ? strrchr (latest, '/') + 1 : latest;
    }
    if (strcmp (name, a->ckpt_seen) == 0
        || strncmp (name, FETCH_PREFIX, strlen (FETCH_PREFIX)) == 0)
        return;
    struct stage *st = stage_create (STAGE_PUT, dir);
    if (!st || stage_add (st, name, NULL) < 0) {
        stage_destroy (&st);
        msgf (a->ckpt_seen, sizeof a->ckpt_seen, "%s", name);
        return;
    }
    if (stage_start (st, w->loop, w->zctx, w->endpoint, 0, CKPT_END_WAIT_MS,
                     ckpt_done, a)
        < 0) {
        stage_destroy (&st);
        return;
    }
    a->ckpt_stage = st;
}

/* Called from pump: scan a running attempt now and then, resend an
 * unacknowledged commit.  True while the attempt's JobFinished must wait
 * (an upload or a commit of an ended attempt, until its deadline). */
static bool
ckpt_pump (struct worker *w, struct attempt *a, int64_t now)
{
    if (a->state == ATTEMPT_NEW)
        return false;
    if (w->ckpt_shared) {
        if (a->ckpt_pending && now >= a->ckpt_next_ms) {
            send_commit (w, a);
            a->ckpt_next_ms = now + CKPT_COMMIT_RESEND_MS;
        }
        return false;
    }
    if (now >= a->ckpt_next_ms) {
        if (a->ckpt_pending)
            send_commit (w, a);
        else
            ckpt_scan (w, a, now);
        a->ckpt_next_ms = now + (a->ckpt_pending ? CKPT_COMMIT_RESEND_MS
                                                 : CKPT_SCAN_MS);
    }
    if (a->state != ATTEMPT_ENDED || (!a->ckpt_stage && !a->ckpt_pending))
        return false;
    if (a->ckpt_deadline_ms && now >= a->ckpt_deadline_ms) {
        if (a->ckpt_pending || a->ckpt_stage)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": gave up waiting for its "
                      "last checkpoint to be stored",
                      a->job_id, a->num);
        a->ckpt_pending = false;
        stage_abandon (a->ckpt_stage);
        a->ckpt_stage = NULL;
        return false;
    }
    return true;
}

/* ---- announced checkpoints, local retention ----------------------------- */

#define CKPT_KEEP_DEFAULT 2 /* JobSpec.keep_checkpoints 0 */
#define CKPT_PRUNE_MAX 4096 /* entries looked at */

/* Checkpoint writers save to "x.tmp" or ".x" and rename when complete. */
static bool
ckpt_in_progress (const char *name)
{
    size_t n = strlen (name);
    return name[0] == '.' || (n >= 4 && strcmp (name + n - 4, ".tmp") == 0);
}

/* attempt_ckpt_f: the job announced entry (inside its checkpoint dir) on
 * its metrics channel.  Without a shared root it is stored at once (after
 * the upload in flight, if any) and committed with the announced step;
 * with one, the record is committed without a digest (the entry is on the
 * shared root already).  A name still being written, or one that is not
 * there, is noted in the job's log and ignored. */
static void
attempt_announced (struct attempt *a, const char *entry, int64_t step,
                   void *arg)
{
    struct worker *w = arg;
    char path[PATH_MAX + 300];
    struct stat sb;
    if (ckpt_in_progress (entry)) {
        attempt_note (a, "checkpoint %s announced while still being written "
                      "(a .tmp or dot name): ignored", entry);
        return;
    }
    msgf (path, sizeof path, "%s/%" PRIu64 "/%s", w->ckpt_root, a->job_id,
          entry);
    if (stat (path, &sb) < 0 || !(S_ISREG (sb.st_mode) || S_ISDIR (sb.st_mode))) {
        attempt_note (a, "checkpoint %s announced but %s is %s: ignored",
                      entry, path,
                      errno == ENOENT ? "not there" : "not a file or folder");
        return;
    }
    log_info ("job %" PRIu64 ".%" PRIu32 ": announced checkpoint %s (step "
              "%" PRId64 ")", a->job_id, a->num, entry, step);
    msgf (a->ckpt_ann, sizeof a->ckpt_ann, "%s", entry);
    a->ckpt_ann_step = step;
    int64_t now = yard_mono_ms ();
    if (w->ckpt_shared) {
        msgf (a->ckpt_name, sizeof a->ckpt_name, "%s", entry);
        a->ckpt_digest[0] = '\0';
        a->ckpt_size = S_ISREG (sb.st_mode) ? (uint64_t)sb.st_size : 0;
        a->ckpt_step = step >= 0 ? step : ckpt_step (entry);
        a->ckpt_time_ms = yard_now_ms ();
        a->ckpt_pending = true;
        send_commit (w, a);
        a->ckpt_next_ms = now + CKPT_COMMIT_RESEND_MS;
        return;
    }
    if (strcmp (entry, a->ckpt_name) == 0 && a->ckpt_digest[0]) {
        /* stored already (the folder scan was first): record its step */
        if (step >= 0 && step != a->ckpt_step) {
            a->ckpt_step = step;
            a->ckpt_pending = true;
            send_commit (w, a);
            a->ckpt_next_ms = now + CKPT_COMMIT_RESEND_MS;
        }
        return;
    }
    a->ckpt_ann_todo = true;
    ckpt_scan (w, a, now); /* waits for the upload in flight, if any */
}

struct ckpt_ent {
    char name[256];
    struct timespec t;
};

static int
ckpt_newer_first (const void *x, const void *y)
{
    const struct ckpt_ent *a = x, *b = y;
    if (a->t.tv_sec != b->t.tv_sec)
        return a->t.tv_sec > b->t.tv_sec ? -1 : 1;
    if (a->t.tv_nsec != b->t.tv_nsec)
        return a->t.tv_nsec > b->t.tv_nsec ? -1 : 1;
    return -strcmp (a->name, b->name);
}

/* A checkpoint of a was committed: remove the job's local entries older
 * than its newest keep_checkpoints (by time, as YARD_LATEST_CHECKPOINT
 * picks them), off the loop.  Never one still being written (.tmp, dot
 * names), the newest, the one just committed, one being stored or
 * announced. */
static void
ckpt_prune (struct worker *w, struct attempt *a)
{
    char dir[PATH_MAX + 32], path[PATH_MAX + 300];
    uint32_t keep = a->ckpt_keep ? a->ckpt_keep : CKPT_KEEP_DEFAULT;
    msgf (dir, sizeof dir, "%s/%" PRIu64, w->ckpt_root, a->job_id);
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct ckpt_ent *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir (d)) && n < CKPT_PRUNE_MAX) {
        struct stat sb;
        if (ckpt_in_progress (de->d_name) || strlen (de->d_name) >= 256
            || fstatat (dirfd (d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct ckpt_ent *nv = realloc (v, nc * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        msgf (v[n].name, sizeof v[n].name, "%s", de->d_name);
        v[n++].t = sb.st_mtim;
    }
    closedir (d);
    if (n > keep)
        qsort (v, n, sizeof *v, ckpt_newer_first);
    for (size_t i = keep; i < n; i++) {
        const char *e = v[i].name;
        if (i == 0 || strcmp (e, a->ckpt_name) == 0
            || (a->ckpt_stage && strcmp (e, a->ckpt_stage->items[0].path) == 0)
            || (a->ckpt_ann_todo && strcmp (e, a->ckpt_ann) == 0))
            continue;
        char msg[600];
        msgf (path, sizeof path, "%s/%s", dir, e);
        msgf (msg, sizeof msg, "job %" PRIu64 ".%" PRIu32 ": removed old "
              "checkpoint %s (keeping the newest %" PRIu32 ")",
              a->job_id, a->num, e, keep);
        ckpt_remove (w, path, msg);
    }
    free (v);
}

static void
on_checkpoint_ack (struct worker *w, const yard_env_t *env)
{
    const Yard__CheckpointAck *m = env->checkpoint_ack;
    struct attempt *a = find_attempt (w, m->job_id, m->attempt);
    if (!a || !a->ckpt_pending || !m->name
        || strcmp (m->name, a->ckpt_name) != 0)
        return;
    if (!m->accepted)
        log_info ("job %" PRIu64 ".%" PRIu32 ": checkpoint %s not recorded: "
                  "%s",
                  m->job_id, m->attempt, m->name, m->reason ? m->reason : "");
    else if (!w->ckpt_shared)
        ckpt_prune (w, a);
    a->ckpt_pending = false;
    a->ckpt_next_ms = 0;
    pump (w, a, yard_mono_ms ());
}

/* A job's process ended (its result is on disk). */
static void
attempt_exited (struct attempt *a, void *arg)
{
    struct worker *w = arg;
    /* first, as its PUs and cgroups are free now (attempt.c) */
    successor_due (w, a);
    if (!w->ckpt_shared) {
        /* its last checkpoint goes before its JobFinished, so the next
         * attempt resumes from the newest */
        int64_t now = yard_mono_ms ();
        a->ckpt_deadline_ms = now + CKPT_END_WAIT_MS;
        ckpt_scan (w, a, now);
    }
    if (a->collect && a->result.reason == YARD__END_REASON__END_EXITED
        && a->result.exit_code == 0)
        collect_start (w, a);
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

static void finished_ack (struct worker *w, uint64_t job_id, uint32_t num);

static void
on_dispatch (struct worker *w, const yard_env_t *env)
{
    const Yard__Dispatch *m = env->dispatch;
    /* the acks it carries are about other attempts: whatever becomes of
     * this dispatch, they count */
    for (size_t i = 0; i < m->n_finished_acks; i++)
        if (m->finished_acks[i])
            finished_ack (w, m->finished_acks[i]->job_id,
                          m->finished_acks[i]->attempt);
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
        || recently_done (w, m->job_id, m->attempt)
        || held_find (w, m->job_id, m->attempt)) {
        log_info ("job %" PRIu64 ".%" PRIu32 ": duplicate dispatch ignored",
                  m->job_id, m->attempt);
        return;
    }
    if (m->alloc && m->alloc->after_job != 0 && successor_dispatch (w, m))
        return;
    dispatch_start (w, m);
}

static void
on_kill_job (struct worker *w, const yard_env_t *env)
{
    const Yard__KillJob *m = env->kill_job;
    struct attempt *a = find_attempt (w, m->job_id, m->attempt);
    struct held *h, x;
    if (!a && (h = held_find (w, m->job_id, m->attempt))) {
        /* a successor still waiting: it ends unstarted, with the reason */
        char msg[160];
        held_take (w, h, &x);
        free (x.dispatch);
        msgf (msg, sizeof msg,
              "stopped while it waited for job %" PRIu64 " attempt %" PRIu32
              " to end",
              x.after_job, x.after_num);
        give_back (w, x.job_id, x.num,
                   m->reason == YARD__END_REASON__END_STALE
                           || m->reason == YARD__END_REASON__END_PREEMPTED
                       ? m->reason
                       : YARD__END_REASON__END_CANCELLED,
                   msg);
        give_back_after (w, x.job_id, x.num); /* a chain behind it */
        return;
    }
    if (a && a->state == ATTEMPT_NEW && a->stage) {
        /* fetching its inputs: it ends when the transfer gives up */
        a->stage_kill = m->reason == YARD__END_REASON__END_STALE
                                || m->reason == YARD__END_REASON__END_PREEMPTED
                            ? m->reason
                            : YARD__END_REASON__END_CANCELLED;
        a->stage->cancel = 1;
        return;
    }
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
finished_ack (struct worker *w, uint64_t job_id, uint32_t num)
{
    struct attempt *a = find_attempt (w, job_id, num);
    if (!a) {
        log_debug ("finish ack for unknown job %" PRIu64 ".%" PRIu32
                   " ignored",
                   job_id, num);
        return;
    }
    if (a->state != ATTEMPT_ENDED) {
        log_warn ("finish ack for job %" PRIu64 ".%" PRIu32 " which is still "
                  "running: ignored",
                  job_id, num);
        return;
    }
    a->finish_acked = true;
    pump (w, a, yard_mono_ms ());
}

static void
on_job_finished_ack (struct worker *w, const yard_env_t *env)
{
    const Yard__JobFinishedAck *m = env->job_finished_ack;
    finished_ack (w, m->job_id, m->attempt);
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
    { YARD__ENVELOPE__BODY_CHECKPOINT_ACK, on_checkpoint_ack },
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
    case YARD__ENVELOPE__BODY_CHECKPOINT_ACK:
        return env->checkpoint_ack;
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
    uv_close ((uv_handle_t *)&w->start_timer, handle_closed);
    uv_close ((uv_handle_t *)&w->ahead_timer, handle_closed);
    held_clear (w); /* the scheduler requeues the jobs of a node gone */
    w->ahead_due = 0;
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
    /* a successor must not start as its predecessor is stopped: each is
     * given back now, reported and acknowledged like the attempts */
    while (w->n_held > 0) {
        struct held x;
        held_take (w, &w->held[w->n_held - 1], &x);
        free (x.dispatch);
        give_back (w, x.job_id, x.num, YARD__END_REASON__END_RETURNED,
                   "worker shutting down");
    }
    for (struct attempt *a = w->attempts; a; a = a->next)
        if (a->state == ATTEMPT_NEW && a->stage) {
            a->stage_kill = YARD__END_REASON__END_LOST;
            a->stage->cancel = 1;
        }
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
    recover_collect (a);
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
        || ((w->ckpt_shared = cfg->checkpoint_root
                              && cfg->checkpoint_root[0]),
            false)
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
    w->host.ckpt_cb = attempt_announced;
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
    /* after the scan, which removes the spares of an earlier run */
    if (!(w->pool = dirpool_create (loop, w->jobs_root, WORKER_SPARE_DIRS)))
        goto error_errno;
    w->host.pool = w->pool;

    if (!(w->zctx = zmq_ctx_new ()))
        goto error_errno;
    if ((rc = socket_open (w)) < 0) {
        err = -rc;
        goto error;
    }
    uv_timer_init (loop, &w->cron);
    uv_timer_init (loop, &w->hb_timer);
    uv_timer_init (loop, &w->reg_timer);
    uv_timer_init (loop, &w->start_timer);
    uv_timer_init (loop, &w->ahead_timer);
    uv_signal_init (loop, &w->sigterm);
    uv_signal_init (loop, &w->sigint);
    uv_signal_init (loop, &w->sighup);
    w->cron.data = w->hb_timer.data = w->reg_timer.data = w;
    w->start_timer.data = w->ahead_timer.data = w;
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
    for (struct attempt *a = w->attempts; a; a = a->next)
        if (a->state == ATTEMPT_ENDED && a->collect)
            collect_start (w, a);
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
    dirpool_destroy (&w->pool);
    free (w->held);
    if (w->old_sock)
        zmq_close (w->old_sock);
    if (w->sock)
        zmq_close (w->sock);
    if (w->zctx)
        zmq_ctx_term (w->zctx);
    free (w);
}
