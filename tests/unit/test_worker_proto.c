/* test_worker_proto.c - the worker protocol end to end, in one process: a
 * real worker_t on a libuv loop talks over loopback TCP to a ROUTER that
 * plays the scheduler.  Registration and its resend, heartbeats, re-register
 * on known=false, dispatch, JobStarted, log chunks with one in flight and
 * resends, JobFinished only after the whole log, its resend until ack,
 * duplicates, kills, malformed input, a scheduler restart that leaves the
 * jobs running, recovery of a work dir after a crash, shutdown, and
 * successors held behind a running attempt (dispatch ahead). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

#include "jobdir.h"
#include "msg.h"
#include "util.h"
#include "worker.h"

static char tmp[128];
static char workdir[256];
static char endpoint[256];
static uv_loop_t loop;
static void *zctx;
static void *router;
static yard_peer_t peer; /* the worker, once heard from */
static worker_t *w;

/* ---- the fake scheduler --------------------------------------------- */

static void
router_open (const char *ep)
{
    router = zmq_socket (zctx, ZMQ_ROUTER);
    assert_non_null (router);
    int zero = 0;
    zmq_setsockopt (router, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_bind (router, ep), 0);
    size_t len = sizeof endpoint;
    assert_int_equal (
        zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &len), 0);
}

static void
router_close (void)
{
    zmq_close (router);
    router = NULL;
}

static void
spin (int ms)
{
    int64_t end = yard_mono_ms () + ms;
    do {
        uv_run (&loop, UV_RUN_NOWAIT);
        usleep (1000);
    } while (yard_mono_ms () < end);
}

/* Run the loop until a message of type body arrives (others are dropped,
 * but counted in skipped).  Returns NULL on timeout.  While it waits for a
 * JobStarted, which the worker holds for WORKER_START_REPORT_MS, the log
 * chunks that come first are held for the next expect or drain. */
static int skipped[64];
static yard_env_t *held[32];
static size_t nheld;

static yard_env_t *
unhold (Yard__Envelope__BodyCase body)
{
    for (size_t i = 0; i < nheld; i++) {
        yard_env_t *env = held[i];
        if (env->body_case != body)
            continue;
        memmove (&held[i], &held[i + 1], (nheld - i - 1) * sizeof held[0]);
        nheld--;
        return env;
    }
    return NULL;
}

static yard_env_t *
expect (Yard__Envelope__BodyCase body, int timeout_ms)
{
    yard_env_t *h = unhold (body);
    if (h)
        return h;
    int64_t end = yard_mono_ms () + timeout_ms;
    while (yard_mono_ms () < end) {
        uv_run (&loop, UV_RUN_NOWAIT);
        zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&it, 1, 2) <= 0)
            continue;
        yard_env_t *env;
        yard_peer_t p;
        if (yard_msg_recv (router, &p, &env, NULL) < 0)
            continue;
        peer = p;
        if (env->body_case == body)
            return env;
        if (body == YARD__ENVELOPE__BODY_JOB_STARTED
            && env->body_case == YARD__ENVELOPE__BODY_LOG_CHUNK
            && nheld < sizeof held / sizeof held[0]) {
            held[nheld++] = env;
            continue;
        }
        if ((unsigned)env->body_case < 64)
            skipped[env->body_case]++;
        yard_msg_free (&env);
    }
    return NULL;
}

/* Nothing of type body for ms (other messages are dropped). */
static void
expect_none (Yard__Envelope__BodyCase body, int ms)
{
    yard_env_t *env = expect (body, ms);
    if (env)
        fail_msg ("unexpected %s", yard_msg_type_name (env));
}

static void
send_env (yard_env_t *env)
{
    assert_int_equal (yard_msg_send (router, &peer, env), 0);
}

static void
reply_register (uint32_t hb_ms)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__RegisterReply m = YARD__REGISTER_REPLY__INIT;
    m.heartbeat_interval_ms = hb_ms;
    m.scheduler_instance = 77;
    env.body_case = YARD__ENVELOPE__BODY_REGISTER_REPLY;
    env.register_reply = &m;
    send_env (&env);
}

static void
reply_heartbeat (bool known)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__HeartbeatReply m = YARD__HEARTBEAT_REPLY__INIT;
    m.known = known;
    env.body_case = YARD__ENVELOPE__BODY_HEARTBEAT_REPLY;
    env.heartbeat_reply = &m;
    send_env (&env);
}

/* A Dispatch of `sh -c script` (no spec when script is NULL) that also
 * acknowledges the (id, attempt) pairs of acks, with alloc (may be NULL)
 * and a successor's wait. */
static void
dispatch_full (uint64_t id, uint32_t attempt, const char *script,
               uint64_t limit, const uint64_t (*acks)[2], size_t nacks,
               Yard__Allocation *alloc, uint32_t wait_ms)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__Dispatch m = YARD__DISPATCH__INIT;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    char *argv[] = { "sh", "-c", (char *)script };
    spec.argv = argv;
    spec.n_argv = 3;
    spec.name = "t";
    spec.time_limit_s = limit;
    Yard__JobFinishedAck a[4], *ap[4];
    assert_true (nacks <= 4);
    for (size_t i = 0; i < nacks; i++) {
        yard__job_finished_ack__init (&a[i]);
        a[i].job_id = acks[i][0];
        a[i].attempt = (uint32_t)acks[i][1];
        ap[i] = &a[i];
    }
    m.job_id = id;
    m.attempt = attempt;
    m.spec = script ? &spec : NULL;
    m.finished_acks = ap;
    m.n_finished_acks = nacks;
    m.alloc = alloc;
    m.ahead_wait_ms = wait_ms;
    env.body_case = YARD__ENVELOPE__BODY_DISPATCH;
    env.dispatch = &m;
    send_env (&env);
}

static void
dispatch_acking (uint64_t id, uint32_t attempt, const char *script,
                 uint64_t limit, const uint64_t (*acks)[2], size_t nacks)
{
    dispatch_full (id, attempt, script, limit, acks, nacks, NULL, 0);
}

static void
dispatch (uint64_t id, uint32_t attempt, const char *script, uint64_t limit)
{
    dispatch_acking (id, attempt, script, limit, NULL, 0);
}

static void
log_ack (uint64_t id, uint32_t attempt, uint64_t next)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__LogAck m = YARD__LOG_ACK__INIT;
    m.job_id = id;
    m.attempt = attempt;
    m.next_offset = next;
    env.body_case = YARD__ENVELOPE__BODY_LOG_ACK;
    env.log_ack = &m;
    send_env (&env);
}

static void
finish_ack (uint64_t id, uint32_t attempt)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__JobFinishedAck m = YARD__JOB_FINISHED_ACK__INIT;
    m.job_id = id;
    m.attempt = attempt;
    env.body_case = YARD__ENVELOPE__BODY_JOB_FINISHED_ACK;
    env.job_finished_ack = &m;
    send_env (&env);
}

static void
kill_job (uint64_t id, uint32_t attempt, Yard__EndReason reason,
          uint32_t grace)
{
    Yard__Envelope env = YARD__ENVELOPE__INIT;
    Yard__KillJob m = YARD__KILL_JOB__INIT;
    m.job_id = id;
    m.attempt = attempt;
    m.reason = reason;
    m.grace_s = grace;
    env.body_case = YARD__ENVELOPE__BODY_KILL_JOB;
    env.kill_job = &m;
    send_env (&env);
}

/* What the fake scheduler holds of each attempt: its log (every chunk is
 * merged and acknowledged, as the real one does) and its JobFinished. */
struct fake_log {
    uint64_t id;
    uint32_t attempt;
    char *buf;
    size_t have;
    yard_env_t *finished;
};
#define FAKE_LOG_MAX (1u << 20)
static struct fake_log logs[16];

static struct fake_log *
fake_log (uint64_t id, uint32_t attempt)
{
    for (size_t i = 0; i < 16; i++)
        if (logs[i].buf && logs[i].id == id && logs[i].attempt == attempt)
            return &logs[i];
    for (size_t i = 0; i < 16; i++)
        if (!logs[i].buf) {
            logs[i].id = id;
            logs[i].attempt = attempt;
            logs[i].buf = calloc (1, FAKE_LOG_MAX + 1);
            logs[i].have = 0;
            assert_non_null (logs[i].buf);
            return &logs[i];
        }
    fail_msg ("too many attempts");
    return NULL;
}

static void
fake_logs_free (void)
{
    for (size_t i = 0; i < 16; i++) {
        free (logs[i].buf);
        yard_msg_free (&logs[i].finished);
        memset (&logs[i], 0, sizeof logs[i]);
    }
}

/* Keep what a scheduler keeps of env (consumed). */
static void
take (yard_env_t *env)
{
    if (env->body_case == YARD__ENVELOPE__BODY_LOG_CHUNK) {
        Yard__LogChunk *c = env->log_chunk;
        struct fake_log *l = fake_log (c->job_id, c->attempt);
        assert_true (c->data.len <= 256 * 1024);
        if (c->offset <= l->have && c->offset + c->data.len > l->have) {
            size_t skip = l->have - c->offset;
            size_t n = c->data.len - skip;
            assert_true (l->have + n <= FAKE_LOG_MAX);
            memcpy (l->buf + l->have, c->data.data + skip, n);
            l->have += n;
        }
        log_ack (c->job_id, c->attempt, l->have);
    } else if (env->body_case == YARD__ENVELOPE__BODY_JOB_FINISHED) {
        struct fake_log *l
            = fake_log (env->job_finished->job_id, env->job_finished->attempt);
        /* sent only once the whole log is here */
        assert_int_equal (env->job_finished->log_size, l->have);
        yard_msg_free (&l->finished);
        l->finished = env;
        return;
    }
    yard_msg_free (&env);
}

/* Run as a scheduler until the attempt's JobFinished arrives; its log goes
 * to buf (NUL-terminated).  Returns the JobFinished (NULL on timeout). */
static yard_env_t *
drain_log_until_finished (uint64_t id, uint32_t attempt, char *buf, size_t len,
                          int timeout_ms)
{
    int64_t end = yard_mono_ms () + timeout_ms;
    struct fake_log *l = fake_log (id, attempt);
    while (nheld > 0)
        take (unhold (held[0]->body_case));
    while (!l->finished && yard_mono_ms () < end) {
        uv_run (&loop, UV_RUN_NOWAIT);
        zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&it, 1, 2) <= 0)
            continue;
        yard_env_t *env;
        if (yard_msg_recv (router, &peer, &env, NULL) == 0)
            take (env);
    }
    assert_true (l->have < len);
    memcpy (buf, l->buf, l->have);
    buf[l->have] = '\0';
    yard_env_t *env = l->finished;
    l->finished = NULL;
    return env;
}

/* Cancel a running attempt (grace 1 s) and run as a scheduler until its
 * JobFinished, which must say CANCELLED; its log goes to buf.  Returns
 * the JobFinished. */
static yard_env_t *
cancel_until_finished (uint64_t id, uint32_t attempt, char *buf, size_t len)
{
    kill_job (id, attempt, YARD__END_REASON__END_CANCELLED, 1);
    yard_env_t *env = drain_log_until_finished (id, attempt, buf, len, 4000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->reason,
                      YARD__END_REASON__END_CANCELLED);
    return env;
}

static bool
path_exists (const char *p)
{
    struct stat st;
    return stat (p, &st) == 0;
}

/* ---- fixtures ------------------------------------------------------- */

static void
worker_up_reset (uint32_t link_reset_ms)
{
    struct worker_config cfg = {
        .endpoint = endpoint,
        .name = "w1",
        .workdir = workdir,
        .cpus = 4,
        .memory_bytes = 8ull << 30,
        .link_reset_ms = link_reset_ms,
    };
    w = worker_create (&loop, &cfg);
    assert_non_null (w);
    assert_int_equal (worker_start (w), 0);
}

static void
worker_up (void)
{
    worker_up_reset (0);
}

static void
registered (void)
{
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (env);
    /* it takes its JobFinishedAcks inside Dispatches */
    assert_true (env->worker_register->dispatch_acks);
    yard_msg_free (&env);
    reply_register (200);
}

static int
setup (void **state)
{
    (void)state;
    snprintf (tmp, sizeof tmp, "/tmp/yard-test-proto-XXXXXX");
    if (!mkdtemp (tmp))
        return -1;
    snprintf (workdir, sizeof workdir, "%s/wd", tmp);
    if (yard_mkdir_p (workdir) < 0 || uv_loop_init (&loop) < 0)
        return -1;
    zctx = zmq_ctx_new ();
    router_open ("tcp://127.0.0.1:*");
    memset (skipped, 0, sizeof skipped);
    w = NULL;
    return 0;
}

static int
teardown (void **state)
{
    (void)state;
    worker_destroy (&w);
    fake_logs_free ();
    while (nheld > 0)
        yard_msg_free (&held[--nheld]);
    if (router)
        router_close ();
    zmq_ctx_term (zctx);
    int rc = uv_loop_close (&loop);
    jobdir_remove_tree (tmp);
    return rc;
}

/* ---- tests ---------------------------------------------------------- */

static void
test_register_and_heartbeat (void **state)
{
    (void)state;
    worker_up ();
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (env);
    Yard__WorkerRegister *r = env->worker_register;
    assert_string_equal (r->name, "w1");
    assert_true (r->instance != 0);
    uint64_t instance = r->instance;
    assert_string_equal (r->version, YARD_VERSION);
    assert_int_equal (r->cpus, 4);
    assert_int_equal (r->memory_bytes, 8ull << 30);
    assert_int_equal (r->gpus, 0);
    assert_int_equal (r->n_running, 0);
    assert_int_equal (r->n_finished, 0);
    assert_true (r->hostname && r->hostname[0]);
    yard_msg_free (&env);
    /* unanswered: sent again every 2 s */
    int64_t t0 = yard_mono_ms ();
    env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (env);
    assert_true (yard_mono_ms () - t0 >= 1500);
    assert_int_equal (env->worker_register->instance, instance);
    yard_msg_free (&env);
    reply_register (200);
    /* heartbeats at the interval the scheduler set */
    env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 1000);
    assert_non_null (env);
    assert_string_equal (env->heartbeat->name, "w1");
    assert_int_equal (env->heartbeat->instance, instance);
    assert_int_equal (env->heartbeat->running, 0);
    yard_msg_free (&env);
    reply_heartbeat (true);
    env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 1000);
    assert_non_null (env);
    yard_msg_free (&env);
    expect_none (YARD__ENVELOPE__BODY_WORKER_REGISTER, 300);
    /* the scheduler forgot us: register again */
    reply_heartbeat (false);
    env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 1000);
    assert_non_null (env);
    assert_int_equal (env->worker_register->instance, instance);
    yard_msg_free (&env);
}

static void
test_register_refused (void **state)
{
    (void)state;
    worker_up ();
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (env);
    Yard__Envelope e = YARD__ENVELOPE__INIT;
    Yard__ErrorReply er;
    yard_msg_error_init (&e, &er, env->request_id, EEXIST,
                         "worker w1 is already registered");
    yard_msg_free (&env);
    send_env (&e);
    /* refused: retried, but more slowly */
    int64_t t0 = yard_mono_ms ();
    env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 7000);
    assert_non_null (env);
    assert_true (yard_mono_ms () - t0 >= 4000);
    yard_msg_free (&env);
    reply_register (200);
    env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 1000);
    assert_non_null (env);
    yard_msg_free (&env);
}

static void
test_job_life (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (1, 1, "echo hello; exit 2", 0);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_JOB_STARTED, 3000);
    assert_non_null (env);
    assert_int_equal (env->job_started->job_id, 1);
    assert_int_equal (env->job_started->attempt, 1);
    assert_true (env->job_started->pid > 0);
    assert_true (env->job_started->start_time_ms > 0);
    yard_msg_free (&env);

    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 3000);
    assert_non_null (env);
    assert_int_equal (env->log_chunk->offset, 0);
    assert_int_equal (env->log_chunk->data.len, 6);
    assert_memory_equal (env->log_chunk->data.data, "hello\n", 6);
    yard_msg_free (&env);
    /* no JobFinished before the log is acknowledged */
    expect_none (YARD__ENVELOPE__BODY_JOB_FINISHED, 500);
    log_ack (1, 1, 6);
    env = expect (YARD__ENVELOPE__BODY_JOB_FINISHED, 2000);
    assert_non_null (env);
    Yard__JobFinished *f = env->job_finished;
    assert_int_equal (f->reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (f->exit_code, 2);
    assert_int_equal (f->log_size, 6);
    assert_true (f->end_time_ms >= f->start_time_ms && f->start_time_ms > 0);
    yard_msg_free (&env);
    /* resent until acknowledged */
    int64_t t0 = yard_mono_ms ();
    env = expect (YARD__ENVELOPE__BODY_JOB_FINISHED, 4000);
    assert_non_null (env);
    assert_true (yard_mono_ms () - t0 >= 2500);
    yard_msg_free (&env);
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/jobs/1.1", workdir);
    assert_true (path_exists (dir));
    finish_ack (1, 1);
    spin (300);
    assert_false (path_exists (dir));
    assert_int_equal (worker_attempt_count (w), 0);
    expect_none (YARD__ENVELOPE__BODY_JOB_FINISHED, 300);
    /* a late duplicate of the dispatch does not run it again */
    dispatch (1, 1, "echo again", 0);
    expect_none (YARD__ENVELOPE__BODY_JOB_STARTED, 500);
    assert_int_equal (worker_attempt_count (w), 0);
}

static void
test_log_shipping (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    /* 600000 bytes of output, then wait for a file to go */
    char script[512], flag[256];
    snprintf (flag, sizeof flag, "%s/go", tmp);
    snprintf (script, sizeof script,
              "head -c 600000 /dev/zero | tr '\\0' x; "
              "while [ ! -e %s ]; do sleep 0.05; done; echo end",
              flag);
    dispatch (2, 1, script, 0);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 3000);
    assert_non_null (env);
    assert_int_equal (env->log_chunk->offset, 0);
    size_t first = env->log_chunk->data.len;
    assert_true (first > 0 && first <= 256 * 1024);
    yard_msg_free (&env);
    /* one chunk in flight: nothing more until an ack */
    spin (300); /* let the job write it all */
    expect_none (YARD__ENVELOPE__BODY_LOG_CHUNK, 500);
    log_ack (2, 1, first);
    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 1000);
    assert_non_null (env);
    assert_int_equal (env->log_chunk->offset, first);
    assert_int_equal (env->log_chunk->data.len, 600000 - first < 256 * 1024
                                                    ? 600000 - first
                                                    : 256 * 1024);
    yard_msg_free (&env);
    /* the scheduler says it holds less (lost a chunk): resume there */
    log_ack (2, 1, 100);
    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 1000);
    assert_non_null (env);
    assert_int_equal (env->log_chunk->offset, 100);
    yard_msg_free (&env);
    /* no ack at all: resent from the acknowledged offset after 3 s */
    int64_t t0 = yard_mono_ms ();
    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 5000);
    assert_non_null (env);
    assert_true (yard_mono_ms () - t0 >= 2500);
    assert_int_equal (env->log_chunk->offset, 100);
    yard_msg_free (&env);
    /* a register (after a scheduler restart) resends at once */
    reply_heartbeat (false);
    env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 1000);
    assert_non_null (env);
    assert_int_equal (env->worker_register->n_running, 1);
    assert_int_equal (env->worker_register->running[0]->job_id, 2);
    yard_msg_free (&env);
    reply_register (200);
    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 1000);
    assert_non_null (env);
    assert_int_equal (env->log_chunk->offset, 100);
    yard_msg_free (&env);
    log_ack (2, 1, 0);
    /* let it end; the whole log arrives, then JobFinished */
    int fd = open (flag, O_WRONLY | O_CREAT, 0600);
    close (fd);
    static char buf[700000];
    env = drain_log_until_finished (2, 1, buf, sizeof buf, 8000);
    assert_non_null (env);
    assert_int_equal (strlen (buf), 600004);
    assert_string_equal (buf + 600000, "end\n");
    assert_int_equal (env->job_finished->reason, YARD__END_REASON__END_EXITED);
    yard_msg_free (&env);
    finish_ack (2, 1);
    spin (200);
    assert_int_equal (worker_attempt_count (w), 0);
}

static void
send_raw (const void *data, size_t len, bool more_frame)
{
    zmq_send (router, peer.id, peer.len, ZMQ_SNDMORE);
    zmq_send (router, data, len, more_frame ? ZMQ_SNDMORE : 0);
    if (more_frame)
        zmq_send (router, "x", 1, 0);
}

static void
test_bad_input (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    /* garbage, two payload frames, another protocol version, a body the
     * worker does not take, an empty envelope */
    send_raw ("\xff\xfe garbage", 10, false);
    send_raw ("\x08\x01", 2, true);
    Yard__Envelope e = YARD__ENVELOPE__INIT;
    Yard__SubmitRequest sub = YARD__SUBMIT_REQUEST__INIT;
    e.body_case = YARD__ENVELOPE__BODY_SUBMIT;
    e.submit = &sub;
    send_env (&e);
    uint8_t *buf;
    size_t len;
    Yard__Envelope v2 = YARD__ENVELOPE__INIT;
    Yard__HeartbeatReply hr = YARD__HEARTBEAT_REPLY__INIT;
    v2.body_case = YARD__ENVELOPE__BODY_HEARTBEAT_REPLY;
    v2.heartbeat_reply = &hr;
    assert_int_equal (yard_msg_encode (&v2, &buf, &len), 0);
    free (buf);
    v2.version = 2;
    len = yard__envelope__get_packed_size (&v2);
    buf = malloc (len);
    yard__envelope__pack (&v2, buf);
    send_raw (buf, len, false); /* known=false in a v2 envelope: ignored */
    free (buf);
    send_raw ("", 0, false);
    /* dispatches the worker must refuse or drop */
    Yard__Envelope d = YARD__ENVELOPE__INIT;
    Yard__Dispatch dm = YARD__DISPATCH__INIT;
    d.body_case = YARD__ENVELOPE__BODY_DISPATCH;
    d.dispatch = &dm;
    dm.job_id = 0;
    dm.attempt = 1;
    send_env (&d); /* no job 0: dropped */
    dm.job_id = 3;
    dm.attempt = 1;
    send_env (&d); /* no spec: refused */
    kill_job (99, 1, YARD__END_REASON__END_CANCELLED, 0); /* unknown */
    log_ack (99, 1, 5);
    finish_ack (99, 1);

    char log[4096];
    yard_env_t *env = drain_log_until_finished (3, 1, log, sizeof log, 3000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->reason,
                      YARD__END_REASON__END_SPAWN_FAILED);
    assert_string_equal (env->job_finished->message,
                         "the dispatch has no job spec");
    assert_string_equal (log, "yard-worker: the dispatch has no job spec\n");
    yard_msg_free (&env);
    finish_ack (3, 1);
    /* still alive and registered (the v2 known=false was not obeyed) */
    env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 1000);
    assert_non_null (env);
    yard_msg_free (&env);
    assert_int_equal (skipped[YARD__ENVELOPE__BODY_WORKER_REGISTER], 0);
    /* a command that does not exist: refused with 127 and a message */
    dispatch (4, 1, "true", 0);
    env = expect (YARD__ENVELOPE__BODY_JOB_FINISHED, 2000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->job_id, 4);
    yard_msg_free (&env);
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    char *argv[] = { "no-such-yard-command" };
    spec.argv = argv;
    spec.n_argv = 1;
    dm.job_id = 5;
    dm.spec = &spec;
    send_env (&d);
    env = drain_log_until_finished (5, 1, log, sizeof log, 3000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->reason,
                      YARD__END_REASON__END_SPAWN_FAILED);
    assert_int_equal (env->job_finished->exit_code, 127);
    assert_non_null (strstr (env->job_finished->message,
                             "command 'no-such-yard-command' not found on "
                             "node w1"));
    assert_non_null (strstr (log, "not found on node w1"));
    yard_msg_free (&env);
}

static void
test_kill (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (6, 1, "echo up; exec sleep 30", 0);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_JOB_STARTED, 2000);
    assert_non_null (env);
    int pid = env->job_started->pid;
    yard_msg_free (&env);
    kill_job (6, 2, YARD__END_REASON__END_CANCELLED, 0); /* other attempt */
    spin (200);
    assert_int_equal (kill (pid, 0), 0);
    char log[4096];
    env = cancel_until_finished (6, 1, log, sizeof log);
    assert_int_equal (env->job_finished->term_signal, SIGTERM);
    assert_non_null (strstr (log, "up\nyard-worker: cancelled: sending "
                                  "SIGTERM"));
    yard_msg_free (&env);
    /* stale, and a kill repeated while it ends */
    dispatch (6, 2, "trap '' TERM; echo up; sleep 30", 0);
    env = expect (YARD__ENVELOPE__BODY_JOB_STARTED, 2000);
    assert_non_null (env);
    yard_msg_free (&env);
    spin (100);
    kill_job (6, 2, YARD__END_REASON__END_STALE, 1);
    kill_job (6, 2, YARD__END_REASON__END_CANCELLED, 1);
    env = drain_log_until_finished (6, 2, log, sizeof log, 5000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->reason, YARD__END_REASON__END_STALE);
    assert_int_equal (env->job_finished->term_signal, SIGKILL);
    yard_msg_free (&env);
    /* a time limit */
    dispatch (7, 1, "exec sleep 30", 1);
    env = drain_log_until_finished (7, 1, log, sizeof log, 4000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->reason,
                      YARD__END_REASON__END_TIMEOUT);
    yard_msg_free (&env);
}

static void
test_scheduler_restart (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (8, 1, "echo up; exec sleep 30", 0);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_JOB_STARTED, 2000);
    assert_non_null (env);
    int pid = env->job_started->pid;
    yard_msg_free (&env);
    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 2000);
    assert_non_null (env);
    yard_msg_free (&env); /* not acked: "lost" with the scheduler */

    /* the scheduler goes away for a while, then comes back empty */
    char ep[256];
    snprintf (ep, sizeof ep, "%s", endpoint);
    router_close ();
    spin (1500);
    assert_int_equal (kill (pid, 0), 0); /* the job never notices */
    router_open (ep);
    env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 3000);
    assert_non_null (env);
    yard_msg_free (&env);
    reply_heartbeat (false);
    env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 2000);
    assert_non_null (env);
    Yard__WorkerRegister *r = env->worker_register;
    assert_int_equal (r->n_running, 1);
    assert_int_equal (r->running[0]->job_id, 8);
    assert_int_equal (r->running[0]->attempt, 1);
    assert_int_equal (r->running[0]->pid, pid);
    assert_int_equal (r->n_finished, 0);
    yard_msg_free (&env);
    reply_register (200);
    /* shipping resumes from what is acknowledged */
    env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 2000);
    assert_non_null (env);
    assert_int_equal (env->log_chunk->offset, 0);
    yard_msg_free (&env);
    assert_int_equal (kill (pid, 0), 0);
    kill_job (8, 1, YARD__END_REASON__END_CANCELLED, 1);
    char log[4096];
    env = drain_log_until_finished (8, 1, log, sizeof log, 4000);
    assert_non_null (env);
    yard_msg_free (&env);
}

/* A work dir left by a crashed worker: one attempt ended (result), one
 * orphan still running, one that never got a pid. */
static pid_t
orphan (void)
{
    pid_t pid = fork ();
    if (pid == 0) {
        setsid ();
        execl ("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit (127);
    }
    return pid;
}

static void
count_cb (const char *dir, uint64_t job_id, uint32_t attempt, void *arg)
{
    (void)arg;
    fail_msg ("attempt dir %s (%llu.%u) left behind", dir,
              (unsigned long long)job_id, attempt);
}

static void
test_recovery (void **state)
{
    (void)state;
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/jobs/10.1", workdir);
    assert_int_equal (yard_mkdir_p (dir), 0);
    jobdir_note (dir, "done");
    struct jobdir_result r = { .reason = YARD__END_REASON__END_EXITED,
                               .exit_code = 0,
                               .start_time_ms = 5,
                               .end_time_ms = 6,
                               .log_size = 18 };
    snprintf (r.message, sizeof r.message, "exited with status 0");
    assert_int_equal (jobdir_result_write (dir, 10, 1, &r), 0);

    snprintf (dir, sizeof dir, "%s/jobs/11.2", workdir);
    assert_int_equal (yard_mkdir_p (dir), 0);
    pid_t pid = orphan ();
    usleep (50000);
    struct jobdir_started s = { .pid = pid, .start_time_ms = 7 };
    jobdir_started_identify (&s);
    assert_int_equal (jobdir_started_write (dir, &s), 0);

    snprintf (dir, sizeof dir, "%s/jobs/12.1", workdir);
    assert_int_equal (yard_mkdir_p (dir), 0);

    worker_up ();
    /* the orphan was killed before anything else */
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    assert_int_equal (worker_attempt_count (w), 3);

    yard_env_t *env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (env);
    Yard__WorkerRegister *reg = env->worker_register;
    /* all three ended, but their logs are not delivered yet: until they
     * are, the attempts are not over for the scheduler */
    assert_int_equal (reg->n_finished, 0);
    assert_int_equal (reg->n_running, 3);
    int seen = 0;
    for (size_t i = 0; i < reg->n_running; i++) {
        Yard__RunningJob *r = reg->running[i];
        if (r->job_id == 10 && r->attempt == 1)
            seen |= 1;
        else if (r->job_id == 11 && r->attempt == 2)
            seen |= 2;
        else if (r->job_id == 12 && r->attempt == 1)
            seen |= 4;
    }
    assert_int_equal (seen, 7);
    yard_msg_free (&env);
    reply_register (200);
    /* each is reported finished once its log is shipped */
    char log[4096];
    env = drain_log_until_finished (10, 1, log, sizeof log, 3000);
    assert_non_null (env);
    assert_string_equal (log, "yard-worker: done\n");
    assert_int_equal (env->job_finished->reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (env->job_finished->log_size, 18);
    yard_msg_free (&env);
    finish_ack (10, 1);
    env = drain_log_until_finished (11, 2, log, sizeof log, 3000);
    assert_non_null (env);
    assert_non_null (strstr (log, "attempt lost on node w1"));
    assert_int_equal (env->job_finished->reason, YARD__END_REASON__END_LOST);
    assert_string_equal (env->job_finished->message, "worker restarted");
    assert_int_equal (env->job_finished->start_time_ms, 7);
    yard_msg_free (&env);
    finish_ack (11, 2);
    env = drain_log_until_finished (12, 1, log, sizeof log, 3000);
    assert_non_null (env);
    assert_non_null (strstr (log, "attempt lost on node w1"));
    assert_int_equal (env->job_finished->reason, YARD__END_REASON__END_LOST);
    yard_msg_free (&env);
    finish_ack (12, 1);
    spin (300);
    assert_int_equal (worker_attempt_count (w), 0);
    snprintf (dir, sizeof dir, "%s/jobs", workdir);
    assert_int_equal (jobdir_scan (dir, count_cb, NULL), 0);
}

static void
test_shutdown (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (20, 1,
              "trap 'echo bye; exit 0' TERM; echo up; "
              "sleep 30 & wait",
              0);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_JOB_STARTED, 2000);
    assert_non_null (env);
    yard_msg_free (&env);
    spin (200);
    /* SIGHUP changes nothing; SIGTERM stops the worker */
    raise (SIGHUP);
    spin (50);
    expect_none (YARD__ENVELOPE__BODY_JOB_FINISHED, 200);
    raise (SIGTERM);
    /* the job is stopped and reported lost, so it is requeued */
    char log[4096];
    env = drain_log_until_finished (20, 1, log, sizeof log, 4000);
    assert_non_null (env);
    assert_int_equal (env->job_finished->reason, YARD__END_REASON__END_LOST);
    assert_non_null (strstr (log, "bye"));
    yard_msg_free (&env);
    /* a dispatch now is not taken (refusing it as lost would have the
     * scheduler send it straight back: a loop) */
    dispatch (21, 1, "true", 0);
    expect_none (YARD__ENVELOPE__BODY_JOB_STARTED, 200);
    assert_int_equal (worker_attempt_count (w), 1);
    assert_null (fake_log (21, 1)->finished);
    finish_ack (20, 1);
    /* then every handle is closed: the loop ends by itself */
    int64_t end = yard_mono_ms () + 3000;
    int alive = 1;
    while (alive && yard_mono_ms () < end) {
        alive = uv_run (&loop, UV_RUN_NOWAIT);
        expect (YARD__ENVELOPE__BODY__NOT_SET, 5);
    }
    assert_int_equal (alive, 0);
    worker_destroy (&w);
    assert_int_equal (uv_loop_alive (&loop), 0);
}

static void
test_shutdown_unacked (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (30, 1, "trap '' TERM; echo up; sleep 30", 0);
    /* its output says the trap is set */
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_LOG_CHUNK, 2000);
    assert_non_null (env);
    yard_msg_free (&env);
    worker_stop (w);
    worker_stop (w); /* a second signal: SIGKILL now */
    /* nobody acks: the worker still exits after a few seconds, and the
     * result waits on disk for the next start */
    int64_t t0 = yard_mono_ms ();
    while (uv_run (&loop, UV_RUN_NOWAIT) && yard_mono_ms () - t0 < 9000) {
        zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&it, 1, 2) > 0) {
            yard_env_t *e;
            if (yard_msg_recv (router, &peer, &e, NULL) == 0)
                yard_msg_free (&e);
        }
    }
    assert_true (yard_mono_ms () - t0 < 9000);
    worker_destroy (&w);
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/jobs/30.1", workdir);
    struct jobdir_result r;
    assert_int_equal (jobdir_result_read (dir, 30, 1, &r), 0);
    assert_int_equal (r.reason, YARD__END_REASON__END_LOST);
    assert_int_equal (r.term_signal, SIGKILL);
}

/* Send one frame of size bytes (contents do not matter). */
static void
send_big (size_t size)
{
    zmq_msg_t m;
    assert_int_equal (zmq_msg_init_size (&m, size), 0);
    memset (zmq_msg_data (&m), 0xff, 64);
    assert_int_equal (zmq_send (router, peer.id, peer.len, ZMQ_SNDMORE),
                      (int)peer.len);
    assert_true (zmq_msg_send (&m, router, 0) >= 0);
}

/* A short job reports its start in its JobFinished (no JobStarted), a long
 * one with a JobStarted; acks that ride in a Dispatch retire attempts like
 * JobFinishedAcks, also when the Dispatch itself is refused. */
static void
test_dispatch_acks (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    int64_t t0 = yard_now_ms ();
    dispatch (30, 1, "true", 0);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_JOB_FINISHED, 3000);
    assert_non_null (env);
    Yard__JobFinished *f = env->job_finished;
    assert_int_equal (f->job_id, 30);
    assert_int_equal (f->reason, YARD__END_REASON__END_EXITED);
    assert_true (f->start_time_ms >= t0 - 1000);
    assert_true (f->end_time_ms >= f->start_time_ms);
    yard_msg_free (&env);
    assert_int_equal (skipped[YARD__ENVELOPE__BODY_JOB_STARTED], 0);
    assert_int_equal (worker_attempt_count (w), 1);

    /* the next dispatch acknowledges 30.1: it is retired, 31.1 runs */
    const uint64_t ack30[][2] = { { 30, 1 } };
    dispatch_acking (31, 1, "exec sleep 30", 0, ack30, 1);
    env = expect (YARD__ENVELOPE__BODY_JOB_STARTED, 3000);
    assert_non_null (env);
    assert_int_equal (env->job_started->job_id, 31);
    assert_true (env->job_started->pid > 0);
    yard_msg_free (&env);
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/jobs/30.1", workdir);
    assert_false (path_exists (dir));
    assert_int_equal (worker_attempt_count (w), 1);

    /* an ack for an attempt still running is not taken */
    const uint64_t ack31[][2] = { { 31, 1 } };
    dispatch_acking (0, 0, NULL, 0, ack31, 1);
    spin (100);
    assert_int_equal (worker_attempt_count (w), 1);
    char log[4096];
    env = cancel_until_finished (31, 1, log, sizeof log);
    yard_msg_free (&env);
    /* a Dispatch refused (no job id) still delivers its acks */
    dispatch_acking (0, 0, NULL, 0, ack31, 1);
    spin (200);
    assert_int_equal (worker_attempt_count (w), 0);
}

static void
test_link_watchdog (void **state)
{
    (void)state;
    worker_up_reset (1000);
    yard_env_t *env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (env);
    uint64_t instance = env->worker_register->instance;
    yard_msg_free (&env);
    reply_register (200);
    /* above the protocol's limit: the codec drops it, the link stays */
    send_big (5u << 20);
    int64_t end = yard_mono_ms () + 1800;
    while (yard_mono_ms () < end) {
        env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 500);
        assert_non_null (env);
        yard_msg_free (&env);
        reply_heartbeat (true);
    }
    assert_int_equal (skipped[YARD__ENVELOPE__BODY_WORKER_REGISTER], 0);
    /* above ZeroMQ's cap: libzmq ends the session and never reconnects;
     * the silence makes the worker open a new socket and register */
    send_big (65u << 20);
    env = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 5000);
    assert_non_null (env);
    assert_int_equal (env->worker_register->instance, instance);
    yard_msg_free (&env);
    reply_register (200);
    env = expect (YARD__ENVELOPE__BODY_HEARTBEAT, 1000);
    assert_non_null (env);
    yard_msg_free (&env);
}

/* ---- successors (dispatch ahead) ------------------------------------ */

/* A successor: `sh -c script` to start once after_job.after_attempt
 * ends here, given back after wait_ms. */
static void
dispatch_after (uint64_t id, uint32_t attempt, const char *script,
                uint64_t after_job, uint32_t after_attempt, uint32_t wait_ms)
{
    Yard__Allocation al = YARD__ALLOCATION__INIT;
    al.after_job = after_job;
    al.after_attempt = after_attempt;
    dispatch_full (id, attempt, script, 0, NULL, 0, &al, wait_ms);
}

static yard_env_t *
finished_of (uint64_t id, uint32_t attempt, int ms)
{
    char buf[4096];
    return drain_log_until_finished (id, attempt, buf, sizeof buf, ms);
}

static void
test_successor_starts (void **state)
{
    (void)state;
    worker_up ();
    yard_env_t *r = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (r);
    assert_true (r->worker_register->successors);
    yard_msg_free (&r);
    reply_register (200);
    dispatch (1, 1, "sleep 0.4; echo pred", 0);
    spin (50);
    dispatch_after (2, 1, "echo succ", 1, 1, 5000);
    spin (50);
    assert_int_equal (worker_attempt_count (w), 1); /* held, no attempt */
    /* a duplicate of the held successor is ignored */
    dispatch_after (2, 1, "echo succ", 1, 1, 5000);
    yard_env_t *f1 = finished_of (1, 1, 3000);
    assert_non_null (f1);
    yard_env_t *f2 = finished_of (2, 1, 3000);
    assert_non_null (f2);
    assert_int_equal (f2->job_finished->reason, YARD__END_REASON__END_EXITED);
    assert_true (f2->job_finished->start_time_ms
                 >= f1->job_finished->end_time_ms);
    yard_msg_free (&f1);
    yard_msg_free (&f2);
    finish_ack (1, 1);
    finish_ack (2, 1);
    spin (100);
    assert_int_equal (worker_attempt_count (w), 0);
    /* predecessor gone (retired), after_attempt 0: start at once */
    dispatch_after (3, 1, "echo x", 1, 1, 5000);
    dispatch_after (4, 1, "echo y", 99, 0, 5000);
    f1 = finished_of (3, 1, 3000);
    f2 = finished_of (4, 1, 3000);
    assert_non_null (f1);
    assert_non_null (f2);
    assert_int_equal (f1->job_finished->reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (f2->job_finished->reason, YARD__END_REASON__END_EXITED);
    yard_msg_free (&f1);
    yard_msg_free (&f2);
}

static void
test_successor_returned (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (5, 1, "exec sleep 30", 0);
    spin (50);
    int64_t t0 = yard_mono_ms ();
    dispatch_after (6, 1, "echo never", 5, 1, 300);
    /* a second successor of 5.1: back at once */
    dispatch_after (7, 1, "echo never", 5, 1, 300);
    yard_env_t *f = finished_of (7, 1, 3000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_RETURNED);
    assert_int_equal (f->job_finished->start_time_ms, 0);
    yard_msg_free (&f);
    f = finished_of (6, 1, 3000);
    assert_non_null (f);
    int64_t dt = yard_mono_ms () - t0;
    assert_true (dt >= 300 && dt < 300 + 3000); /* at the wait, not before */
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_RETURNED);
    assert_int_equal (f->job_finished->exit_code, 0);
    assert_int_equal (f->job_finished->start_time_ms, 0);
    assert_int_equal (f->job_finished->log_size, 0);
    assert_string_equal (f->job_finished->message,
                         "job 5 attempt 1 still running after 300 ms");
    yard_msg_free (&f);
    assert_int_equal (worker_attempt_count (w), 3);
    finish_ack (6, 1);
    finish_ack (7, 1);
    spin (100);
    assert_int_equal (worker_attempt_count (w), 1);
    /* default wait, then a kill of a held one */
    t0 = yard_mono_ms ();
    dispatch_after (8, 1, "echo never", 5, 1, 0);
    f = finished_of (8, 1, 3000);
    assert_non_null (f);
    dt = yard_mono_ms () - t0;
    assert_true (dt >= 1000 && dt < 1000 + 3000);
    yard_msg_free (&f);
    dispatch_after (9, 1, "echo never", 5, 1, 3000);
    spin (50);
    kill_job (9, 1, YARD__END_REASON__END_PREEMPTED, 0);
    f = finished_of (9, 1, 1000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason,
                      YARD__END_REASON__END_PREEMPTED);
    assert_int_equal (f->job_finished->start_time_ms, 0);
    yard_msg_free (&f);
    /* a chain: 11 waits behind 10, which waits behind 5; 10 killed
     * unstarted takes 11 back with it */
    dispatch_after (10, 1, "echo never", 5, 1, 3000);
    dispatch_after (11, 1, "echo never", 10, 1, 3000);
    spin (50);
    kill_job (10, 1, YARD__END_REASON__END_PREEMPTED, 0);
    f = finished_of (11, 1, 1000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_RETURNED);
    assert_int_equal (f->job_finished->start_time_ms, 0);
    assert_string_equal (f->job_finished->message,
                         "job 10 attempt 1, which it followed, did not "
                         "start");
    yard_msg_free (&f);
    /* a chain that runs: 5 cancelled, then 12, then 13, each on the PUs
     * the one before it freed */
    dispatch_after (12, 1, "echo twelve", 5, 1, 3000);
    dispatch_after (13, 1, "echo thirteen", 12, 1, 3000);
    spin (50);
    char buf[4096];
    f = cancel_until_finished (5, 1, buf, sizeof buf);
    yard_msg_free (&f);
    f = finished_of (12, 1, 3000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_EXITED);
    int64_t end12 = f->job_finished->end_time_ms;
    yard_msg_free (&f);
    f = finished_of (13, 1, 3000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_EXITED);
    assert_true (f->job_finished->start_time_ms >= end12);
    yard_msg_free (&f);
}

static void
test_successor_register_and_stop (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (12, 1, "sleep 0.6", 0);
    spin (50);
    dispatch_after (13, 1, "echo never", 12, 1, 5000);
    spin (50);
    /* the scheduler forgot us: the register forgets the successor */
    reply_heartbeat (false);
    yard_env_t *r = expect (YARD__ENVELOPE__BODY_WORKER_REGISTER, 3000);
    assert_non_null (r);
    assert_true (r->worker_register->successors);
    assert_int_equal (r->worker_register->n_running, 1);
    yard_msg_free (&r);
    reply_register (200);
    yard_env_t *f = finished_of (12, 1, 3000);
    assert_non_null (f);
    yard_msg_free (&f);
    finish_ack (12, 1);
    spin (300);
    assert_int_equal (worker_attempt_count (w), 0);
    /* shutdown gives a held successor back */
    dispatch (14, 1, "exec sleep 30", 0);
    spin (50);
    dispatch_after (15, 1, "echo never", 14, 1, 5000);
    spin (50);
    worker_stop (w);
    f = finished_of (15, 1, 3000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_RETURNED);
    assert_string_equal (f->job_finished->message, "worker shutting down");
    yard_msg_free (&f);
    finish_ack (15, 1);
    f = finished_of (14, 1, 5000);
    assert_non_null (f);
    assert_int_equal (f->job_finished->reason, YARD__END_REASON__END_LOST);
    yard_msg_free (&f);
    finish_ack (14, 1);
    int64_t end = yard_mono_ms () + 3000;
    while (worker_attempt_count (w) > 0 && yard_mono_ms () < end)
        spin (20);
    assert_int_equal (worker_attempt_count (w), 0);
}

static void
test_successor_destroy_held (void **state)
{
    (void)state;
    worker_up ();
    registered ();
    dispatch (16, 1, "exec sleep 30", 0);
    spin (50);
    dispatch_after (17, 1, "echo never", 16, 1, 5000);
    spin (50);
    char buf[4096];
    yard_env_t *f = cancel_until_finished (16, 1, buf, sizeof buf);
    yard_msg_free (&f);
    dispatch_after (18, 1, "exec sleep 30", 17, 1, 5000);
    dispatch_after (19, 1, "echo never", 18, 1, 5000);
    spin (100);
    /* destroyed with one held (19) and a job running (18) */
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_register_and_heartbeat, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_register_refused, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_job_life, setup, teardown),
        cmocka_unit_test_setup_teardown (test_log_shipping, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown (test_kill, setup, teardown),
        cmocka_unit_test_setup_teardown (test_scheduler_restart, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_link_watchdog, setup, teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_acks, setup, teardown),
        cmocka_unit_test_setup_teardown (test_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown (test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown (test_shutdown_unacked, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_successor_starts, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_successor_returned, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_successor_register_and_stop,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_successor_destroy_held, setup,
                                         teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
