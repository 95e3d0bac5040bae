/* conn.c - see conn.h.
 *
 * Design note.  A DEALER connected with ZMQ_IMMEDIATE off queues what it is
 * given until the scheduler is there, and reconnects by itself (every
 * 100 ms here) when the scheduler restarts.  Two things follow:
 *
 * - A request sent while the scheduler is down waits in the socket's queue.
 *   If we gave up on it and kept the socket, it would still be delivered
 *   later, together with every other abandoned request, and the scheduler
 *   would work through a pile of questions nobody waits for (a `yard wait`
 *   retrying its long poll would park one more request each time).  So after
 *   a timeout the socket is closed (ZMQ_LINGER 0 drops the queue) and the
 *   next request gets a fresh one.
 *
 * - A request that reached the scheduler is lost when the scheduler
 *   restarts: it keeps no parked requests.  Waiting for the timeout would
 *   notice, but a long poll's timeout is its polling time (up to 30 s) plus
 *   the client's timeout.  The socket's monitor reports the connection's
 *   end (ZMQ_EVENT_DISCONNECTED) at once; for requests that can safely be
 *   asked twice (everything but submit) the request is then sent again on a
 *   fresh socket, which delivers it as soon as the scheduler listens again.
 *   A submit is never sent twice: the first copy may have been committed
 *   just before the crash, and a second copy would run the job twice.
 *
 * Replies are matched by request id.  Anything else is a late answer to a
 * request this side abandoned, or a frame that does not decode; both are
 * dropped.  If only undecodable frames came back by the deadline, the
 * scheduler is there but speaks something else (another protocol version),
 * and the caller is told that rather than "no answer".
 */
#include "conn.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "util.h"

#define RECONNECT_IVL_MS 100

struct yard__conn {
    void *ctx;
    void *sock;      /* the DEALER; NULL after a timeout until the next use */
    void *mon;       /* PAIR that receives sock's monitor events, or NULL */
    char *endpoint;
    unsigned mon_seq;
    uint64_t next_id;
};

static void
sock_close (yard__conn_t *c)
{
    if (c->mon) {
        zmq_socket_monitor (c->sock, NULL, 0);
        zmq_close (c->mon);
        c->mon = NULL;
    }
    if (c->sock) {
        zmq_close (c->sock);
        c->sock = NULL;
    }
}

/* Attach a monitor for the end of connections.  Without one the timeout
 * still bounds every wait, so a failure here is not an error. */
static void
mon_open (yard__conn_t *c)
{
    char ep[96];
    snprintf (ep, sizeof ep, "inproc://yard-conn-monitor-%p-%u", (void *)c,
              ++c->mon_seq);
    if (zmq_socket_monitor (c->sock, ep, ZMQ_EVENT_DISCONNECTED) < 0)
        return;
    void *m = zmq_socket (c->ctx, ZMQ_PAIR);
    int linger = 0;
    if (!m || zmq_setsockopt (m, ZMQ_LINGER, &linger, sizeof linger) < 0
        || zmq_connect (m, ep) < 0) {
        if (m)
            zmq_close (m);
        zmq_socket_monitor (c->sock, NULL, 0);
        return;
    }
    c->mon = m;
}

static int
sock_open (yard__conn_t *c)
{
    int linger = 0;
    int ivl = RECONNECT_IVL_MS;
    void *s = zmq_socket (c->ctx, ZMQ_DEALER);
    if (!s)
        return -errno;
    if (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger) < 0
        || zmq_setsockopt (s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) < 0
        || zmq_connect (s, c->endpoint) < 0) {
        int e = errno;
        zmq_close (s);
        return -e;
    }
    c->sock = s;
    mon_open (c);
    return 0;
}

/* Read every pending monitor event; true when one says a connection ended. */
static bool
mon_disconnected (yard__conn_t *c)
{
    bool seen = false;
    if (!c->mon)
        return false;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, c->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            break;
        }
        /* frame 1: uint16 event, uint32 value; frame 2: the endpoint */
        uint16_t ev = 0;
        if (zmq_msg_size (&m) >= sizeof ev)
            memcpy (&ev, zmq_msg_data (&m), sizeof ev);
        bool more = zmq_msg_more (&m);
        zmq_msg_close (&m);
        while (more) {
            zmq_msg_init (&m);
            if (zmq_msg_recv (&m, c->mon, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&m);
                break;
            }
            more = zmq_msg_more (&m);
            zmq_msg_close (&m);
        }
        if (ev & ZMQ_EVENT_DISCONNECTED)
            seen = true;
    }
    return seen;
}

yard__conn_t *
yard__conn_create (const char *endpoint)
{
    yard__conn_t *c = calloc (1, sizeof *c);
    int e;
    if (!c)
        return NULL;
    if (!endpoint || !*endpoint) {
        e = EINVAL;
        goto error;
    }
    if (!(c->endpoint = strdup (endpoint))) {
        e = ENOMEM;
        goto error;
    }
    if (!(c->ctx = zmq_ctx_new ())) {
        e = errno ? errno : ENOMEM;
        goto error;
    }
    /* We close every socket before terminating; do not let a forgotten
     * message ever hold up the exit. */
    zmq_ctx_set (c->ctx, ZMQ_BLOCKY, 0);
    /* Connecting validates the endpoint now, where the caller can tell the
     * user, rather than at the first request. */
    int rc = sock_open (c);
    if (rc < 0) {
        e = -rc;
        goto error;
    }
    /* Ids only have to differ from those of requests still in flight; a
     * start that differs per process keeps two clients' ids apart in
     * traces. */
    c->next_id = ((uint64_t)getpid () << 32) ^ (uint64_t)yard_now_ms ()
                 ^ (uint64_t)(uintptr_t)c;
    return c;
error:
    yard__conn_destroy (&c);
    errno = e;
    return NULL;
}

void
yard__conn_destroy (yard__conn_t **conn)
{
    if (!conn || !*conn)
        return;
    yard__conn_t *c = *conn;
    int saved = errno;
    sock_close (c);
    if (c->ctx)
        zmq_ctx_term (c->ctx);
    free (c->endpoint);
    free (c);
    *conn = NULL;
    errno = saved;
}

const char *
yard__conn_endpoint (const yard__conn_t *conn)
{
    return conn->endpoint;
}

/* "300ms", "5s", "2.5s" */
static const char *
fmt_ms (int64_t ms, char *buf, size_t len)
{
    if (ms < 1000)
        snprintf (buf, len, "%lldms", (long long)ms);
    else if (ms % 1000 == 0)
        snprintf (buf, len, "%llds", (long long)(ms / 1000));
    else
        snprintf (buf, len, "%.1fs", (double)ms / 1000.0);
    return buf;
}

static int
send_id (yard__conn_t *c, yard_env_t *req, uint64_t id, yard_error_t *err)
{
    req->request_id = id;
    int rc = yard_msg_send (c->sock, NULL, req);
    if (rc == -EMSGSIZE)
        return yard_errorf (err, EMSGSIZE,
                            "the request is larger than the %u byte limit "
                            "of the protocol: send a shorter command or "
                            "environment", YARD_MAX_FRAME);
    if (rc < 0)
        return yard_errorf (err, -rc, "cannot send to the scheduler at %s: %s",
                            c->endpoint, strerror (-rc));
    return 0;
}

static int
send_fresh (yard__conn_t *c, yard_env_t *req, yard_error_t *err)
{
    return send_id (c, req, yard__conn_ids (c, 1), err);
}

/* Open the socket if a timeout closed it; otherwise forget the ends of
 * connections reported so far: a connection that ended before the next
 * request does not concern it (the DEALER reconnects and delivers it). */
static int
sock_ready (yard__conn_t *c, yard_error_t *err)
{
    if (c->sock) {
        (void)mon_disconnected (c);
        return 0;
    }
    int rc = sock_open (c);
    if (rc < 0)
        return yard_errorf (err, -rc, "cannot connect to %s: %s", c->endpoint,
                            zmq_strerror (-rc));
    return 0;
}

/* Wait until deadline (yard_mono_ms) for the reply to a request whose id
 * is in [lo, hi]: 0 with *reply; 1 when watch_end and the monitor reported
 * the end of the connection; -ETIMEDOUT at the deadline (err not filled;
 * *bad holds the last frame that could not be decoded, if any); or
 * another negative errno with err filled.  Replies to other ids are
 * dropped (late answers to abandoned requests). */
static int
wait_reply (yard__conn_t *c, int64_t deadline, uint64_t lo, uint64_t hi,
            bool watch_end, yard_error_t *bad, yard_env_t **reply,
            yard_error_t *err)
{
    for (;;) {
        int64_t left = deadline - yard_mono_ms ();
        if (left <= 0)
            return -ETIMEDOUT;
        zmq_pollitem_t items[2] = {
            { .socket = c->sock, .events = ZMQ_POLLIN },
            { .socket = c->mon, .events = ZMQ_POLLIN },
        };
        int n = zmq_poll (items, c->mon ? 2 : 1,
                          left > INT_MAX ? INT_MAX : (long)left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return yard_errorf (err, errno,
                                "waiting for the scheduler at %s: %s",
                                c->endpoint, zmq_strerror (errno));
        }
        if (items[0].revents & ZMQ_POLLIN) {
            for (;;) {
                yard_env_t *env = NULL;
                yard_error_t derr = { 0 };
                int rc = yard_msg_recv (c->sock, NULL, &env, &derr);
                if (rc == -EAGAIN || rc == -EINTR)
                    break;
                if (rc < 0) {
                    if (derr.code == 0) /* the socket itself failed */
                        return yard_errorf (err, -rc,
                                            "receiving from the scheduler "
                                            "at %s: %s", c->endpoint,
                                            zmq_strerror (-rc));
                    if (rc == -EPROTO && derr.request_id >= lo
                        && derr.request_id <= hi)
                        /* the scheduler answered in another protocol
                         * version: waiting longer will not help */
                        return yard_errorf (err, EPROTO,
                                            "the scheduler at %s does not "
                                            "speak this client's protocol: "
                                            "%s; use a yard of the "
                                            "scheduler's release",
                                            c->endpoint, derr.text);
                    *bad = derr;
                    continue;
                }
                if (env->request_id < lo || env->request_id > hi) {
                    yard_msg_free (&env); /* late answer to an old request */
                    continue;
                }
                *reply = env;
                return 0;
            }
        }
        if (c->mon && (items[1].revents & ZMQ_POLLIN) && mon_disconnected (c)
            && watch_end)
            return 1;
    }
}

/* After a wait that ran out: close the socket (dropping what it still
 * queues) and say why there was no answer. */
static int
timed_out (yard__conn_t *c, const yard_error_t *bad, int64_t timeout_ms,
           yard_error_t *err)
{
    char tbuf[32];
    sock_close (c);
    if (bad->code)
        return yard_errorf (err, bad->code,
                            "the scheduler at %s answered with a message this "
                            "client cannot read (%s): are yard and "
                            "yard-scheduler the same version?",
                            c->endpoint, bad->text);
    return yard_errorf (err, ETIMEDOUT,
                        "no answer from the scheduler at %s after %s: is "
                        "yard-scheduler running? (set --scheduler or "
                        "YARD_SCHEDULER)",
                        c->endpoint, fmt_ms (timeout_ms, tbuf, sizeof tbuf));
}

int
yard__conn_request (yard__conn_t *c, yard_env_t *req, int64_t timeout_ms,
                    int flags, yard_env_t **reply, yard_error_t *err)
{
    yard_error_t bad = { 0 };
    int rc;

    *reply = NULL;
    if ((rc = sock_ready (c, err)) < 0)
        return rc;
    if ((rc = send_fresh (c, req, err)) < 0)
        goto fail;
    int64_t deadline = yard_mono_ms () + timeout_ms;
    while ((rc = wait_reply (c, deadline, req->request_id, req->request_id,
                             flags & YARD__CONN_IDEMPOTENT, &bad, reply, err))
           == 1) {
        /* The scheduler went away with our request: ask again on a fresh
         * socket, within the same deadline. */
        sock_close (c);
        if ((rc = sock_ready (c, err)) < 0
            || (rc = send_fresh (c, req, err)) < 0)
            goto fail;
    }
    if (rc == 0)
        return 0;
    if (rc == -ETIMEDOUT)
        return timed_out (c, &bad, timeout_ms, err);
fail:
    sock_close (c);
    return rc;
}

uint64_t
yard__conn_ids (yard__conn_t *c, uint64_t n)
{
    /* 0 reads as "no request id": a block never holds it */
    if (c->next_id > UINT64_MAX - n)
        c->next_id = 0;
    uint64_t first = c->next_id + 1;
    c->next_id += n;
    return first;
}

int
yard__conn_send (yard__conn_t *c, yard_env_t *req, uint64_t id,
                 yard_error_t *err)
{
    /* a socket already open is kept as it is: the ends of connections
     * concern the requests of yard__conn_request alone */
    int rc = c->sock ? 0 : sock_ready (c, err);
    /* too large, or the queue full: nothing was queued, and what was sent
     * before still waits for its answers */
    if (rc == 0 && (rc = send_id (c, req, id, err)) < 0 && rc != -EMSGSIZE
        && rc != -EAGAIN)
        sock_close (c);
    return rc;
}

int
yard__conn_recv (yard__conn_t *c, uint64_t lo, uint64_t hi,
                 int64_t timeout_ms, yard_env_t **reply, yard_error_t *err)
{
    yard_error_t bad = { 0 };
    *reply = NULL;
    if (!c->sock)
        return yard_errorf (err, ENOTCONN, "no request is waiting for the "
                            "scheduler at %s", c->endpoint);
    int rc = wait_reply (c, yard_mono_ms () + timeout_ms, lo, hi, false, &bad,
                         reply, err);
    if (rc == -ETIMEDOUT)
        return timed_out (c, &bad, timeout_ms, err);
    if (rc < 0)
        sock_close (c);
    return rc;
}
