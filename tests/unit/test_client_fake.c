/* test_client_fake.c - see test_client_fake.h.
 *
 * The script, by job id:
 *   1   RUNNING on w1 (attempt 1, 4 cpus, 1 gpu, 16G); logs "hello\n" then
 *       "world\n" then eof; cancel: cancel_requested, still RUNNING
 *   2   COMPLETED (exit 0)          3  FAILED, exit code 3
 *   4   FAILED, killed by signal 9  5  CANCELLED
 *   6   TIMEOUT (limit 1h)          7  no such job (ENOENT)
 *   8   PENDING for ever (wait answers at once); cancel: CANCELLED; logs:
 *       attempt 0, nothing
 *   9   RUNNING; the first WaitRequest is dropped, then COMPLETED
 *   10  RUNNING; the first WaitRequest "restarts" the socket, then COMPLETED
 *   11  FAILED, spawn failed, exit code 127
 *   12  RUNNING; logs: attempt 1 "one\n", eof while the job is PENDING
 *       again, once more attempt 1 (not redispatched yet), then attempt 2
 *       "two\n" and eof with the job COMPLETED
 *   13  the first JobRequest is dropped, then RUNNING
 *   14  answered with an envelope of protocol version 2
 *   15  JobRequest answered with a SubmitReply
 *   16  ErrorReply with code 0 and no text
 *   17  JobInfo about job 99
 * A submit named "refuse" gets EINVAL, one named "drop" no answer, one
 * named "many" SubmitReply{1000 + argv[1]} (sent twice, the second time
 * with job 999, when that is a multiple of 10); any other gets a stale
 * SubmitReply (wrong request id), a garbage frame, then SubmitReply{42}.  A queue
 * request gets a garbage frame before its answer.
 */
#include "test_client_fake.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include <cmocka.h>

#include "msg.h"
#include "util.h"

#define MAX_JOB 32
#define MAX_CASE 64

struct fake_sched {
    void *ctx;
    void *sock;
    char endpoint[128];
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    struct fake_submit submit;
    int counts[MAX_CASE];
    int restarts;
    /* per-job script progress, touched only by the fake's thread */
    int waits[MAX_JOB];
    int status_asked[MAX_JOB];
    int job12_phase;
};

enum action { REPLY, RESTART };

/* ---- replies ----------------------------------------------------------- */

static void
send_env (fake_sched_t *f, const yard_peer_t *peer, yard_env_t *env)
{
    int rc = yard_msg_send (f->sock, peer, env);
    if (rc < 0)
        fprintf (stderr, "fake: send failed: %s\n", strerror (-rc));
}

static void
send_error (fake_sched_t *f, const yard_peer_t *peer, uint64_t rid, int code,
            const char *text)
{
    yard_env_t env;
    Yard__ErrorReply er;
    yard_msg_error_init (&env, &er, rid, code, text);
    send_env (f, peer, &env);
}

static void
send_garbage (fake_sched_t *f, const yard_peer_t *peer)
{
    static const char junk[] = "\xff\xff\xff not an envelope";
    zmq_send (f->sock, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (f->sock, junk, sizeof junk - 1, ZMQ_DONTWAIT);
}

struct job_msg {
    Yard__JobInfo ji;
    Yard__JobSpec spec;
    Yard__EnvVar ev;
    Yard__EnvVar *evp[1];
    char *argv[4];
};

/* The script's job id in a given state. */
static void
fill_job (struct job_msg *m, uint64_t id, Yard__JobState state)
{
    int64_t now = yard_now_ms ();
    yard__job_info__init (&m->ji);
    yard__job_spec__init (&m->spec);
    yard__env_var__init (&m->ev);
    m->ev.key = "LR";
    m->ev.value = "0.1";
    m->evp[0] = &m->ev;
    m->argv[0] = "python";
    m->argv[1] = "train.py";
    m->argv[2] = "a b";
    m->argv[3] = NULL;
    m->spec.name = id == 1 ? "resnet" : "job";
    m->spec.argv = m->argv;
    m->spec.n_argv = 3;
    m->spec.env = m->evp;
    m->spec.n_env = 1;
    m->spec.cpus = 4;
    m->spec.gpus = 1;
    m->spec.memory_bytes = 16ull << 30;
    m->spec.time_limit_s = 3600;
    m->spec.priority = 5;
    m->spec.grace_s = 10;
    m->spec.user = "alice";
    m->spec.submit_dir = "/home/alice";
    m->spec.submit_host = "laptop";
    m->ji.id = id;
    m->ji.state = state;
    m->ji.spec = &m->spec;
    m->ji.submit_time_ms = now - 192000;
    if (state != YARD__JOB_STATE__JOB_PENDING) {
        m->ji.attempt = 1;
        m->ji.node = "w1";
        m->ji.start_time_ms = now - 45000;
    } else {
        m->ji.reason = "waiting for 4 free cpus";
    }
    if (yard_job_state_is_terminal (state) && m->ji.start_time_ms)
        m->ji.end_time_ms = now - 1000;
}

static Yard__JobState
script_state (uint64_t id)
{
    switch (id) {
    case 2: return YARD__JOB_STATE__JOB_COMPLETED;
    case 3: case 4: case 11: return YARD__JOB_STATE__JOB_FAILED;
    case 5: return YARD__JOB_STATE__JOB_CANCELLED;
    case 6: return YARD__JOB_STATE__JOB_TIMEOUT;
    case 8: return YARD__JOB_STATE__JOB_PENDING;
    default: return YARD__JOB_STATE__JOB_RUNNING;
    }
}

/* Send JobInfo for id (in state, or its script state when 0). */
static void
send_job (fake_sched_t *f, const yard_peer_t *peer, uint64_t rid, uint64_t id,
          Yard__JobState state, bool cancel_requested)
{
    struct job_msg m;
    fill_job (&m, id, state ? state : script_state (id));
    switch (id) {
    case 2: m.ji.end_reason = YARD__END_REASON__END_EXITED; break;
    case 3:
        m.ji.end_reason = YARD__END_REASON__END_EXITED;
        m.ji.exit_code = 3;
        break;
    case 4:
        m.ji.end_reason = YARD__END_REASON__END_SIGNALED;
        m.ji.term_signal = 9;
        break;
    case 5: m.ji.end_reason = YARD__END_REASON__END_CANCELLED; break;
    case 6: m.ji.end_reason = YARD__END_REASON__END_TIMEOUT; break;
    case 11:
        m.ji.end_reason = YARD__END_REASON__END_SPAWN_FAILED;
        m.ji.exit_code = 127;
        m.ji.reason = "cannot run 'nosuch': No such file or directory";
        break;
    }
    m.ji.cancel_requested = cancel_requested;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = rid;
    env.body_case = YARD__ENVELOPE__BODY_JOB_INFO;
    env.job_info = &m.ji;
    send_env (f, peer, &env);
}

/* ---- handlers ---------------------------------------------------------- */

static void
copy (char *dst, size_t len, const char *src)
{
    snprintf (dst, len, "%s", src ? src : "");
}

static void
on_submit (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    const Yard__JobSpec *s = req->submit->spec;
    if (!s) {
        send_error (f, peer, req->request_id, EINVAL, "no spec");
        return;
    }
    pthread_mutex_lock (&f->lock);
    struct fake_submit *r = &f->submit;
    r->count++;
    copy (r->name, sizeof r->name, s->name);
    copy (r->argv0, sizeof r->argv0, s->n_argv ? s->argv[0] : "");
    r->argc = (int)s->n_argv;
    r->envc = (int)s->n_env;
    copy (r->env0_key, sizeof r->env0_key, s->n_env ? s->env[0]->key : "");
    copy (r->env0_value, sizeof r->env0_value,
          s->n_env ? s->env[0]->value : "");
    copy (r->user, sizeof r->user, s->user);
    copy (r->submit_dir, sizeof r->submit_dir, s->submit_dir);
    copy (r->submit_host, sizeof r->submit_host, s->submit_host);
    copy (r->workdir, sizeof r->workdir, s->workdir);
    r->cpus = s->cpus;
    r->gpus = s->gpus;
    r->grace_s = s->grace_s;
    r->memory_bytes = s->memory_bytes;
    r->time_limit_s = s->time_limit_s;
    r->priority = s->priority;
    pthread_mutex_unlock (&f->lock);

    if (strcmp (s->name, "refuse") == 0) {
        send_error (f, peer, req->request_id, EINVAL,
                    "invalid job spec: the name 'refuse' is refused");
        return;
    }
    if (strcmp (s->name, "drop") == 0)
        return; /* never answered */
    Yard__SubmitReply sr = YARD__SUBMIT_REPLY__INIT;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.body_case = YARD__ENVELOPE__BODY_SUBMIT_REPLY;
    env.submit_reply = &sr;
    if (strcmp (s->name, "many") == 0) {
        /* job 1000 + argv[1]; every tenth answered twice */
        sr.job_id = 1000 + (s->n_argv > 1 ? strtoull (s->argv[1], NULL, 10)
                                          : 0);
        env.request_id = req->request_id;
        send_env (f, peer, &env);
        if (sr.job_id % 10 == 0) {
            sr.job_id = 999;
            send_env (f, peer, &env);
        }
        return;
    }
    /* a late answer to some earlier request: must be ignored */
    env.request_id = req->request_id + 1000;
    sr.job_id = 999;
    send_env (f, peer, &env);
    send_garbage (f, peer);
    env.request_id = req->request_id;
    sr.job_id = 42;
    send_env (f, peer, &env);
}

static enum action
on_status (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    uint64_t id = req->job_status->job_id;
    uint64_t rid = req->request_id;
    int asked = id < MAX_JOB ? f->status_asked[id]++ : 0;

    switch (id) {
    case 7:
        send_error (f, peer, rid, ENOENT, "no such job 7");
        break;
    case 13:
        if (asked == 0)
            break; /* dropped */
        send_job (f, peer, rid, id, 0, false);
        break;
    case 14: {
        Yard__JobRequest body = YARD__JOB_REQUEST__INIT;
        yard_env_t env = YARD__ENVELOPE__INIT;
        env.version = 2;
        env.request_id = rid;
        env.body_case = YARD__ENVELOPE__BODY_JOB_STATUS;
        env.job_status = &body;
        uint8_t buf[64];
        size_t n = yard__envelope__pack (&env, buf);
        zmq_send (f->sock, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (f->sock, buf, n, ZMQ_DONTWAIT);
        break;
    }
    case 15: {
        Yard__SubmitReply sr = YARD__SUBMIT_REPLY__INIT;
        sr.job_id = 15;
        yard_env_t env = YARD__ENVELOPE__INIT;
        env.request_id = rid;
        env.body_case = YARD__ENVELOPE__BODY_SUBMIT_REPLY;
        env.submit_reply = &sr;
        send_env (f, peer, &env);
        break;
    }
    case 16:
        send_error (f, peer, rid, 0, "");
        break;
    case 17:
        send_job (f, peer, rid, 99, 0, false);
        break;
    default:
        send_job (f, peer, rid, id, 0, false);
    }
    return REPLY;
}

static enum action
on_wait (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    uint64_t id = req->wait_job->job_id;
    int n = id < MAX_JOB ? f->waits[id]++ : 0;
    switch (id) {
    case 7:
        send_error (f, peer, req->request_id, ENOENT, "no such job 7");
        return REPLY;
    case 9:
        if (n == 0)
            return REPLY; /* lost: the client must time out and ask again */
        send_job (f, peer, req->request_id, id,
                  YARD__JOB_STATE__JOB_COMPLETED, false);
        return REPLY;
    case 10:
        if (n == 0)
            return RESTART;
        send_job (f, peer, req->request_id, id,
                  YARD__JOB_STATE__JOB_COMPLETED, false);
        return REPLY;
    default:
        send_job (f, peer, req->request_id, id, 0, false);
        return REPLY;
    }
}

static void
on_cancel (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    uint64_t id = req->cancel->job_id;
    if (id == 7)
        send_error (f, peer, req->request_id, ENOENT, "no such job 7");
    else if (id == 8)
        send_job (f, peer, req->request_id, id, YARD__JOB_STATE__JOB_CANCELLED,
                  false);
    else if (id == 1)
        send_job (f, peer, req->request_id, id, 0, true);
    else
        send_job (f, peer, req->request_id, id, 0, false);
}

static void
on_queue (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    static const uint64_t ids[] = { 8, 1, 2, 3 };
    struct job_msg m[4];
    Yard__JobInfo *jp[4];
    size_t n = req->queue->all ? 4 : 2;
    for (size_t i = 0; i < n; i++) {
        fill_job (&m[i], ids[i], script_state (ids[i]));
        jp[i] = &m[i].ji;
    }
    Yard__QueueReply qr = YARD__QUEUE_REPLY__INIT;
    qr.jobs = jp;
    qr.n_jobs = n;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = req->request_id;
    env.body_case = YARD__ENVELOPE__BODY_QUEUE_REPLY;
    env.queue_reply = &qr;
    send_garbage (f, peer);
    send_env (f, peer, &env);
}

static void
on_nodes (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    int64_t now = yard_now_ms ();
    Yard__NodeInfo n1 = YARD__NODE_INFO__INIT, n2 = YARD__NODE_INFO__INIT;
    n1.name = "w1";
    n1.state = YARD__NODE_STATE__NODE_UP;
    n1.hostname = "gpu-01";
    n1.version = "0.1.0";
    n1.cpus = 8;
    n1.cpus_used = 2;
    n1.memory_bytes = 16ull << 30;
    n1.memory_used = 3ull << 29; /* 1.5G */
    n1.gpus = 2;
    n1.running_jobs = 1;
    n1.last_seen_ms = now - 3000;
    n1.registered_ms = now - 3600000;
    n2.name = "w2-with-a-long-name";
    n2.state = YARD__NODE_STATE__NODE_DOWN;
    n2.cpus = 64;
    n2.memory_bytes = 256ull << 30;
    n2.last_seen_ms = now - 600000;
    Yard__NodeInfo *np[2] = { &n1, &n2 };
    Yard__NodesReply nr = YARD__NODES_REPLY__INIT;
    nr.nodes = np;
    nr.n_nodes = 2;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = req->request_id;
    env.body_case = YARD__ENVELOPE__BODY_NODES_REPLY;
    env.nodes_reply = &nr;
    send_env (f, peer, &env);
}

static void
send_logs (fake_sched_t *f, const yard_peer_t *peer, uint64_t rid,
           uint64_t id, uint32_t attempt, uint64_t offset, const char *data,
           bool eof, Yard__JobState state)
{
    Yard__LogsReply lr = YARD__LOGS_REPLY__INIT;
    lr.job_id = id;
    lr.attempt = attempt;
    lr.offset = offset;
    lr.data.data = (uint8_t *)data;
    lr.data.len = strlen (data);
    lr.eof = eof;
    lr.state = state;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = rid;
    env.body_case = YARD__ENVELOPE__BODY_LOGS_REPLY;
    env.logs_reply = &lr;
    send_env (f, peer, &env);
}

static void
on_logs (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    const Yard__LogsRequest *l = req->logs;
    uint64_t rid = req->request_id;
    const Yard__JobState RUNNING = YARD__JOB_STATE__JOB_RUNNING;
    const Yard__JobState PENDING = YARD__JOB_STATE__JOB_PENDING;
    const Yard__JobState DONE = YARD__JOB_STATE__JOB_COMPLETED;

    switch (l->job_id) {
    case 1:
        if (l->offset == 0)
            send_logs (f, peer, rid, 1, 1, 0, "hello\n", false, RUNNING);
        else if (l->offset == 6)
            send_logs (f, peer, rid, 1, 1, 6, "world\n", false, RUNNING);
        else
            send_logs (f, peer, rid, 1, 1, l->offset, "", true, DONE);
        break;
    case 7:
        send_error (f, peer, rid, ENOENT, "no such job 7");
        break;
    case 8:
        send_logs (f, peer, rid, 8, 0, 0, "", false, PENDING);
        break;
    case 12: {
        uint32_t a = l->attempt;
        if (a == 0) {
            if (f->job12_phase == 1) {
                f->job12_phase = 2; /* not redispatched yet */
                send_logs (f, peer, rid, 12, 1, 0, "", true, PENDING);
                break;
            }
            a = f->job12_phase == 0 ? 1 : 2;
        }
        if (a == 1) {
            if (l->offset == 0) {
                send_logs (f, peer, rid, 12, 1, 0, "one\n", false, RUNNING);
            } else {
                f->job12_phase = 1;
                send_logs (f, peer, rid, 12, 1, 4, "", true, PENDING);
            }
        } else {
            if (l->offset == 0)
                send_logs (f, peer, rid, 12, 2, 0, "two\n", false, RUNNING);
            else
                send_logs (f, peer, rid, 12, 2, 4, "", true, DONE);
        }
        break;
    }
    default:
        send_error (f, peer, rid, ENOENT, "no log for this job");
    }
}

static enum action
handle (fake_sched_t *f, const yard_peer_t *peer, const yard_env_t *req)
{
    pthread_mutex_lock (&f->lock);
    if ((int)req->body_case < MAX_CASE)
        f->counts[req->body_case]++;
    pthread_mutex_unlock (&f->lock);

    switch (req->body_case) {
    case YARD__ENVELOPE__BODY_SUBMIT: on_submit (f, peer, req); break;
    case YARD__ENVELOPE__BODY_JOB_STATUS: return on_status (f, peer, req);
    case YARD__ENVELOPE__BODY_WAIT_JOB: return on_wait (f, peer, req);
    case YARD__ENVELOPE__BODY_CANCEL: on_cancel (f, peer, req); break;
    case YARD__ENVELOPE__BODY_QUEUE: on_queue (f, peer, req); break;
    case YARD__ENVELOPE__BODY_NODES: on_nodes (f, peer, req); break;
    case YARD__ENVELOPE__BODY_LOGS: on_logs (f, peer, req); break;
    default:
        send_error (f, peer, req->request_id, EOPNOTSUPP, "not a client "
                                                          "request");
    }
    return REPLY;
}

/* ---- the thread -------------------------------------------------------- */

static void *
open_router (void *ctx, const char *ep)
{
    void *s = zmq_socket (ctx, ZMQ_ROUTER);
    int linger = 0;
    if (!s)
        return NULL;
    zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger);
    /* the port is free again a moment after the old socket closed */
    for (int i = 0; i < 300; i++) {
        if (zmq_bind (s, ep) == 0)
            return s;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep (&ts, NULL);
    }
    zmq_close (s);
    return NULL;
}

static void *
run (void *arg)
{
    fake_sched_t *f = arg;
    while (!atomic_load (&f->stop)) {
        zmq_pollitem_t it = { .socket = f->sock, .events = ZMQ_POLLIN };
        if (zmq_poll (&it, 1, 20) <= 0)
            continue;
        for (;;) {
            yard_peer_t peer;
            yard_env_t *env = NULL;
            yard_error_t err;
            int rc = yard_msg_recv (f->sock, &peer, &env, &err);
            if (rc == -EAGAIN)
                break;
            if (rc < 0)
                continue;
            enum action a = handle (f, &peer, env);
            yard_msg_free (&env);
            if (a == RESTART) {
                /* as a scheduler restart: the connection and every parked
                 * request are gone */
                zmq_close (f->sock);
                f->sock = open_router (f->ctx, f->endpoint);
                pthread_mutex_lock (&f->lock);
                f->restarts++;
                pthread_mutex_unlock (&f->lock);
                if (!f->sock) {
                    fprintf (stderr, "fake: cannot bind %s again\n",
                             f->endpoint);
                    return NULL;
                }
                break;
            }
        }
    }
    return NULL;
}

fake_sched_t *
fake_start (void)
{
    fake_sched_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    pthread_mutex_init (&f->lock, NULL);
    f->ctx = zmq_ctx_new ();
    assert_non_null (f->ctx);
    f->sock = open_router (f->ctx, "tcp://127.0.0.1:*");
    assert_non_null (f->sock);
    size_t len = sizeof f->endpoint;
    assert_int_equal (zmq_getsockopt (f->sock, ZMQ_LAST_ENDPOINT, f->endpoint,
                                      &len),
                      0);
    atomic_init (&f->stop, false);
    assert_int_equal (pthread_create (&f->thread, NULL, run, f), 0);
    return f;
}

void
fake_stop (fake_sched_t **fp)
{
    if (!fp || !*fp)
        return;
    fake_sched_t *f = *fp;
    atomic_store (&f->stop, true);
    pthread_join (f->thread, NULL);
    if (f->sock)
        zmq_close (f->sock);
    zmq_ctx_term (f->ctx);
    pthread_mutex_destroy (&f->lock);
    free (f);
    *fp = NULL;
}

const char *
fake_endpoint (const fake_sched_t *f)
{
    return f->endpoint;
}

void
fake_last_submit (fake_sched_t *f, struct fake_submit *out)
{
    pthread_mutex_lock (&f->lock);
    *out = f->submit;
    pthread_mutex_unlock (&f->lock);
}

int
fake_count (fake_sched_t *f, int body_case)
{
    pthread_mutex_lock (&f->lock);
    int n = body_case >= 0 && body_case < MAX_CASE ? f->counts[body_case] : 0;
    pthread_mutex_unlock (&f->lock);
    return n;
}

int
fake_restarts (fake_sched_t *f)
{
    pthread_mutex_lock (&f->lock);
    int n = f->restarts;
    pthread_mutex_unlock (&f->lock);
    return n;
}
