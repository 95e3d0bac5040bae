/* events.c - yard_events_*: a subscription to the scheduler's pushed
 * events (see yard.h and docs/protocol.md "Events").
 *
 * A subscription has its own ZeroMQ context and DEALER: events arrive at any
 * time, and on the client's own socket they would be mistaken for stray
 * replies (conn.c drops what does not match the request it waits for).
 * The EventsSubscribe is sent again, with the same request id, every third
 * of the lapse time the scheduler granted; that renewal also re-creates
 * the subscription after a scheduler restart, which forgets every
 * subscription (events of the gap are lost: seq starts over).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "client_internal.h"
#include "msg.h"
#include "util.h"
#include "yard/pipelines.h"

#define EVENTS_TTL_MS 30000

struct yard_events {
    void *ctx;
    void *sock;
    uint64_t job_id;
    bool nodes;
    bool pipelines;        /* fills the pipeline fields of yard_event_t */
    uint64_t prun;
    uint64_t request_id;
    uint32_t ttl_ms;       /* as granted */
    int64_t renew_mono;    /* next renewal */
    uint64_t last_seq;
    uint64_t missed;
};

static int
send_subscribe (yard_events_t *e, bool cancel)
{
    Yard__EventsSubscribe m = YARD__EVENTS_SUBSCRIBE__INIT;
    m.job_id = e->job_id;
    m.ttl_ms = EVENTS_TTL_MS;
    m.nodes = e->nodes;
    m.pipelines = e->pipelines;
    m.pipeline_run = e->prun;
    m.cancel = cancel;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = e->request_id;
    env.body_case = YARD__ENVELOPE__BODY_EVENTS_SUBSCRIBE;
    env.events_subscribe = &m;
    return yard_msg_send (e->sock, NULL, &env);
}

static void
copy (char *dst, size_t len, const char *src)
{
    snprintf (dst, len, "%s", src ? src : "");
}

/* One frame from the socket: 1 an event (in *ev), 0 nothing of interest,
 * or a negative errno (an error reply: errmsg set on c when given). */
static int
take (yard_events_t *e, yard_client_t *c, yard_event_t *ev)
{
    yard_env_t *env = NULL;
    yard_error_t derr = { 0 };
    int rc = yard_msg_recv (e->sock, NULL, &env, &derr);
    if (rc < 0)
        return rc == -EAGAIN ? 0 : (rc == -EBADMSG || rc == -EMSGSIZE
                                        || rc == -EPROTO ? 0 : rc);
    if (env->request_id != e->request_id) {
        yard_msg_free (&env);
        return 0;
    }
    rc = 0;
    switch (env->body_case) {
    case YARD__ENVELOPE__BODY_EVENTS_SUBSCRIBED:
        if (env->events_subscribed->ttl_ms >= 1000)
            e->ttl_ms = env->events_subscribed->ttl_ms;
        if (env->events_subscribed->seq < e->last_seq)
            e->last_seq = env->events_subscribed->seq; /* restarted */
        break;
    case YARD__ENVELOPE__BODY_EVENT: {
        const Yard__Event *m = env->event;
        if (m->kind == YARD__EVENT__KIND__PIPELINE && !e->pipelines) {
            e->last_seq = m->seq; /* not asked for: the smaller struct */
            break;
        }
        memset (ev, 0, e->pipelines ? sizeof *ev
                                    : offsetof (yard_event_t, run_id));
        ev->seq = m->seq;
        ev->time_ms = m->time_ms;
        ev->kind = m->kind == YARD__EVENT__KIND__NODE ? YARD_EVENT_NODE
                   : m->kind == YARD__EVENT__KIND__PIPELINE
                       ? YARD_EVENT_PIPELINE
                       : YARD_EVENT_JOB;
        ev->job_id = m->job_id;
        ev->state = (enum yard_job_state)m->state;
        ev->old_state = (enum yard_job_state)m->old_state;
        ev->attempt = m->attempt;
        copy (ev->node, sizeof ev->node, m->node);
        ev->node_state = (enum yard_node_state)m->node_state;
        ev->exit_code = m->exit_code;
        ev->end_reason = (enum yard_end_reason)m->end_reason;
        copy (ev->reason, sizeof ev->reason, m->reason);
        if (e->pipelines) {
            ev->run_id = m->pipeline_run;
            copy (ev->step, sizeof ev->step, m->step);
            ev->run_state = (int)m->pipeline_state;
            ev->step_state = (int)m->step_state;
        }
        if (e->last_seq && m->seq > e->last_seq + 1)
            e->missed += m->seq - e->last_seq - 1;
        e->last_seq = m->seq;
        rc = 1;
        break;
    }
    case YARD__ENVELOPE__BODY_ERROR: {
        const Yard__ErrorReply *er = env->error;
        int code = er && er->code > 0 ? er->code : EIO;
        if (c)
            yard__client_fail (c, code, er && er->message ? er->message
                                                          : "error");
        rc = -code;
        break;
    }
    default:
        break;
    }
    yard_msg_free (&env);
    return rc;
}

/* Wait for the socket to be readable until deadline (monotonic ms).
 * 1 readable, 0 time is up, or a negative errno. */
static int
wait_in (yard_events_t *e, int64_t deadline)
{
    int64_t left = deadline - yard_mono_ms ();
    if (left <= 0)
        return 0;
    zmq_pollitem_t it = { e->sock, 0, ZMQ_POLLIN, 0 };
    int n = zmq_poll (&it, 1, (long)(left > 60000 ? 60000 : left));
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    return n > 0;
}

static int
subscribe (yard_client_t *c, uint64_t job_id, bool nodes, bool pipelines,
           uint64_t prun, yard_events_t **out)
{
    if (!c)
        return -EINVAL;
    if (!out)
        return yard__client_fail (c, EINVAL, "yard_events_subscribe: out is "
                                  "required");
    *out = NULL;
    yard_events_t *e = calloc (1, sizeof *e);
    if (!e)
        return yard__client_fail (c, ENOMEM, "out of memory");
    int linger = 0, rc;
    e->job_id = job_id;
    e->nodes = nodes;
    e->pipelines = pipelines;
    e->prun = prun;
    e->ttl_ms = EVENTS_TTL_MS;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    e->request_id = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec
                    ^ ((uint64_t)(uintptr_t)e << 7) ^ 0x5e0000000000ULL;
    if (!(e->ctx = zmq_ctx_new ())
        || !(e->sock = zmq_socket (e->ctx, ZMQ_DEALER))
        || zmq_setsockopt (e->sock, ZMQ_LINGER, &linger, sizeof linger) < 0
        || zmq_connect (e->sock, yard_client_endpoint (c)) < 0) {
        rc = errno ? errno : EIO;
        yard_events_destroy (&e);
        return yard__client_fail (c, rc, "cannot open a connection for "
                                  "events");
    }
    if ((rc = send_subscribe (e, false)) < 0) {
        yard_events_destroy (&e);
        return yard__client_fail (c, -rc, "cannot send the subscription");
    }
    /* the subscription stands once the scheduler says so */
    int64_t deadline = yard_mono_ms () + yard_client_timeout (c);
    for (;;) {
        int r = wait_in (e, deadline);
        if (r < 0) {
            yard_events_destroy (&e);
            return yard__client_fail (c, -r, "events: poll failed");
        }
        if (r == 0) {
            yard_events_destroy (&e);
            char msg[512];
            snprintf (msg, sizeof msg, "no answer from the scheduler at %s "
                      "to an events subscription", yard_client_endpoint (c));
            return yard__client_fail (c, ETIMEDOUT, msg);
        }
        yard_env_t *env = NULL;
        yard_error_t derr = { 0 };
        r = yard_msg_recv (e->sock, NULL, &env, &derr);
        if (r < 0)
            continue;
        bool mine = env->request_id == e->request_id;
        int body = env->body_case;
        if (mine && body == YARD__ENVELOPE__BODY_ERROR) {
            int code = env->error->code > 0 ? env->error->code : EIO;
            yard__client_fail (c, code, env->error->message
                                            ? env->error->message
                                            : "error");
            yard_msg_free (&env);
            yard_events_destroy (&e);
            return -code;
        }
        if (mine && body == YARD__ENVELOPE__BODY_EVENTS_SUBSCRIBED) {
            if (env->events_subscribed->ttl_ms >= 1000)
                e->ttl_ms = env->events_subscribed->ttl_ms;
            e->last_seq = env->events_subscribed->seq;
            bool has = env->events_subscribed->pipelines;
            yard_msg_free (&env);
            if (pipelines && !has) {
                yard_events_destroy (&e);
                return yard__client_fail (c, EPROTO, "the scheduler does "
                                          "not send pipeline events");
            }
            break;
        }
        yard_msg_free (&env);
    }
    e->renew_mono = yard_mono_ms () + e->ttl_ms / 3;
    *out = e;
    return 0;
}

int
yard_events_subscribe (yard_client_t *c, uint64_t job_id, bool nodes,
                       yard_events_t **out)
{
    return subscribe (c, job_id, nodes, false, 0, out);
}

int
yard_events_subscribe_pipelines (yard_client_t *c, uint64_t run_id,
                                 bool nodes, yard_events_t **out)
{
    return subscribe (c, 0, nodes, true, run_id, out);
}

int
yard_events_next (yard_events_t *e, int timeout_ms, yard_event_t *ev)
{
    if (!e || !ev)
        return -EINVAL;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX
                                      : yard_mono_ms () + timeout_ms;
    for (;;) {
        /* what is already there first, without waiting */
        int rc;
        while ((rc = take (e, NULL, ev)) != 0) {
            if (rc == 1)
                return 0;
            if (rc == -EAGAIN)
                break;
            if (rc < 0)
                return rc;
        }
        int64_t now = yard_mono_ms ();
        if (now >= e->renew_mono) {
            (void)send_subscribe (e, false); /* lost: the next one */
            e->renew_mono = now + e->ttl_ms / 3;
        }
        if (now >= deadline)
            return -ETIMEDOUT;
        int64_t until = deadline < e->renew_mono ? deadline : e->renew_mono;
        int r = wait_in (e, until);
        if (r < 0)
            return r;
    }
}

uint64_t
yard_events_missed (const yard_events_t *e)
{
    return e ? e->missed : 0;
}

void
yard_events_destroy (yard_events_t **ep)
{
    if (!ep || !*ep)
        return;
    yard_events_t *e = *ep;
    if (e->sock) {
        (void)send_subscribe (e, true);
        zmq_close (e->sock);
    }
    if (e->ctx)
        zmq_ctx_term (e->ctx);
    free (e);
    *ep = NULL;
}
