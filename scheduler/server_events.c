/* server_events.c - events pushed to subscribed clients: one Event per job
 * state change (and node state change, and pipeline run or step state
 * change), sent as an Envelope carrying the subscription's request id.
 *
 * Design.  A change is noted when the job is saved (yard__mark_dirty sees
 * every save; job->ev_state is the state last noted), held in a pending
 * list, and only sent once the batch that made it is committed: a client
 * never hears of a state that a rollback undid.  Node changes are found at
 * the same point from the batch's touched nodes.  A subscription is a
 * client's routing id and request id; it lapses ttl_ms after it was made
 * or last renewed (the client sends the same EventsSubscribe again), so a
 * client that went away costs a few bytes until then and nothing after.
 * Sending is best effort: a client too slow to take its events loses some
 * (ZeroMQ's high-water mark), which the gap in `seq` tells it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pipeline_dag.h"
#include "server_int.h"
#include "store_pipeline.h"
#include "util.h"

#define EVENTS_TTL_DEFAULT_MS 30000
#define EVENTS_TTL_MAX_MS 600000
#define EVENTS_TTL_MIN_MS 1000
#define EVENTS_SUBS_MAX 4096
#define EVENTS_PENDING_MAX 100000 /* per batch; beyond, changes go unsent */

struct sub {
    yard_peer_t peer;
    uint64_t request_id;
    uint64_t job_id; /* 0: every job */
    bool nodes;
    bool pipelines;
    uint64_t prun;   /* only this run's pipeline events; 0: no such filter */
    int64_t expires_mono;
};

struct pending {
    Yard__Event__Kind kind;
    uint64_t job_id;
    Yard__JobState state, old_state;
    uint32_t attempt;
    char node[128];
    Yard__NodeState node_state;
    int32_t exit_code;
    Yard__EndReason end_reason;
    char reason[256];
    int64_t time_ms;
    uint64_t prun;                 /* kind PIPELINE */
    char step[YARD_PIPELINE_NAME_MAX + 1]; /* "" for the run */
    Yard__PipelineState prun_state;
    Yard__StepState step_state;
};

struct node_seen {
    char name[128];
    Yard__NodeState state;
};

struct yard__events {
    struct sub *subs;
    size_t nsubs, subs_cap;
    struct pending *pend;
    size_t npend, pend_cap;
    struct node_seen *nodes;
    size_t nnodes, nodes_cap;
    uint64_t seq; /* of the last event sent */
};

static struct yard__events *
events (yard_server_t *s)
{
    if (!s->events)
        s->events = calloc (1, sizeof *s->events);
    return s->events;
}

void
yard__events_destroy (yard_server_t *s)
{
    if (!s->events)
        return;
    free (s->events->subs);
    free (s->events->pend);
    free (s->events->nodes);
    free (s->events);
    s->events = NULL;
}

static void
expire (struct yard__events *e, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nsubs; i++) {
        if (e->subs[i].expires_mono > now) {
            e->subs[n++] = e->subs[i];
            continue;
        }
        char p[2 * YARD_MAX_ROUTING_ID + 1];
        log_debug ("events: subscription %" PRIu64 " of %s lapsed",
                   e->subs[i].request_id,
                   yard_peer_str (&e->subs[i].peer, p, sizeof p));
    }
    e->nsubs = n;
}

static struct pending *
pend_new (struct yard__events *e)
{
    if (e->npend == e->pend_cap) {
        if (e->pend_cap >= EVENTS_PENDING_MAX)
            return NULL;
        size_t cap = e->pend_cap ? e->pend_cap * 2 : 64;
        struct pending *v = realloc (e->pend, cap * sizeof v[0]);
        if (!v)
            return NULL;
        e->pend = v;
        e->pend_cap = cap;
    }
    struct pending *p = &e->pend[e->npend++];
    memset (p, 0, sizeof *p);
    p->time_ms = yard_now_ms ();
    return p;
}

void
yard__events_job (yard_server_t *s, yard_job_t *job)
{
    if (job->state == job->ev_state)
        return;
    Yard__JobState old = job->ev_state;
    job->ev_state = job->state;
    struct yard__events *e = s->events;
    if (!e || e->nsubs == 0)
        return; /* nobody listens: only the state is remembered */
    struct pending *p = pend_new (e);
    if (!p)
        return;
    p->kind = YARD__EVENT__KIND__JOB;
    p->job_id = job->id;
    p->state = job->state;
    p->old_state = old;
    p->attempt = job->attempt;
    snprintf (p->node, sizeof p->node, "%s", job->node ? job->node : "");
    if (job->state == YARD__JOB_STATE__JOB_COMPLETED
        || job->state == YARD__JOB_STATE__JOB_FAILED
        || job->state == YARD__JOB_STATE__JOB_CANCELLED
        || job->state == YARD__JOB_STATE__JOB_TIMEOUT) {
        p->exit_code = job->exit_code;
        p->end_reason = job->end_reason;
    }
    snprintf (p->reason, sizeof p->reason, "%s",
              job->reason ? job->reason : "");
}

bool
yard__events_want_pipelines (yard_server_t *s)
{
    struct yard__events *e = s->events;
    for (size_t i = 0; e && i < e->nsubs; i++)
        if (e->subs[i].pipelines)
            return true;
    return false;
}

static void
pend_pipeline (struct yard__events *e, const yard_prun_t *run,
               const yard_pstep_t *step)
{
    struct pending *p = pend_new (e);
    if (!p)
        return;
    p->kind = YARD__EVENT__KIND__PIPELINE;
    p->prun = run->id;
    p->prun_state = run->state;
    snprintf (p->step, sizeof p->step, "%s", step ? step->name : "");
    p->step_state = step ? step->state
                         : YARD__STEP_STATE__STEP_STATE_UNSPECIFIED;
    const char *why = step ? step->reason : run->reason;
    snprintf (p->reason, sizeof p->reason, "%s", why ? why : "");
}

void
yard__events_pipeline (yard_server_t *s, const yard_prun_t *run,
                       const yard_prun_t *old)
{
    struct yard__events *e = s->events;
    if (!e || !yard__events_want_pipelines (s))
        return;
    for (size_t i = 0; old && i < run->nsteps; i++) {
        const yard_pstep_t *was = NULL;
        for (size_t k = 0; k < old->nsteps && !was; k++)
            if (strcmp (old->steps[k].name, run->steps[i].name) == 0)
                was = &old->steps[k];
        if (!was || was->state != run->steps[i].state)
            pend_pipeline (e, run, &run->steps[i]);
    }
    if (!old || old->state != run->state)
        pend_pipeline (e, run, NULL);
}

/* Node changes of the batch: the touched nodes whose state differs from
 * what was last seen of them. */
static void
note_nodes (yard_server_t *s, struct yard__events *e)
{
    for (size_t i = 0; i < s->ntouched; i++) {
        yard_node_t *node = s->touched[i];
        struct node_seen *seen = NULL;
        for (size_t k = 0; k < e->nnodes && !seen; k++)
            if (strcmp (e->nodes[k].name, node->name) == 0)
                seen = &e->nodes[k];
        if (!seen) {
            if (e->nnodes == e->nodes_cap) {
                size_t cap = e->nodes_cap ? e->nodes_cap * 2 : 16;
                struct node_seen *v = realloc (e->nodes, cap * sizeof v[0]);
                if (!v)
                    continue;
                e->nodes = v;
                e->nodes_cap = cap;
            }
            seen = &e->nodes[e->nnodes++];
            snprintf (seen->name, sizeof seen->name, "%s", node->name);
            seen->state = YARD__NODE_STATE__NODE_STATE_UNSPECIFIED;
        }
        if (seen->state == node->state)
            continue;
        seen->state = node->state;
        struct pending *p = pend_new (e);
        if (!p)
            continue;
        p->kind = YARD__EVENT__KIND__NODE;
        snprintf (p->node, sizeof p->node, "%s", node->name);
        p->node_state = node->state;
    }
}

static bool
wants (const struct sub *sub, const struct pending *p)
{
    if (p->kind == YARD__EVENT__KIND__PIPELINE)
        return sub->pipelines && (!sub->prun || sub->prun == p->prun);
    if (sub->prun)
        return false;
    if (p->kind == YARD__EVENT__KIND__NODE)
        return sub->nodes;
    return sub->job_id == 0 || sub->job_id == p->job_id;
}

void
yard__events_commit (yard_server_t *s, bool committed)
{
    struct yard__events *e = s->events;
    if (!e)
        return;
    if (committed && e->nsubs > 0)
        note_nodes (s, e);
    if (!committed || e->nsubs == 0) {
        e->npend = 0;
        return;
    }
    expire (e, yard_mono_ms ());
    for (size_t i = 0; i < e->npend; i++) {
        const struct pending *p = &e->pend[i];
        Yard__Event ev = YARD__EVENT__INIT;
        ev.seq = ++e->seq;
        ev.time_ms = p->time_ms;
        ev.kind = p->kind;
        ev.job_id = p->job_id;
        ev.state = p->state;
        ev.old_state = p->old_state;
        ev.attempt = p->attempt;
        ev.node = (char *)p->node;
        ev.node_state = p->node_state;
        ev.exit_code = p->exit_code;
        ev.end_reason = p->end_reason;
        ev.reason = (char *)p->reason;
        ev.pipeline_run = p->prun;
        ev.step = (char *)p->step;
        ev.pipeline_state = p->prun_state;
        ev.step_state = p->step_state;
        for (size_t k = 0; k < e->nsubs; k++) {
            if (!wants (&e->subs[k], p))
                continue;
            yard_env_t env = YARD__ENVELOPE__INIT;
            env.request_id = e->subs[k].request_id;
            env.body_case = YARD__ENVELOPE__BODY_EVENT;
            env.event = &ev;
            (void)yard__reply (s, YARD__CLIENT, &e->subs[k].peer, &env);
        }
    }
    e->npend = 0;
}

void
yard__events_cron (yard_server_t *s)
{
    if (s->events)
        expire (s->events, yard_mono_ms ());
}

void
yard__on_events_subscribe (yard_server_t *s, const yard_peer_t *peer,
                           yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const Yard__EventsSubscribe *m = env->events_subscribe;
    if (!m) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "EventsSubscribe without a body");
        return;
    }
    struct yard__events *e = events (s);
    if (!e) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOMEM,
                           "out of memory");
        return;
    }
    int64_t now = yard_mono_ms ();
    expire (e, now);
    uint32_t ttl = m->ttl_ms ? m->ttl_ms : EVENTS_TTL_DEFAULT_MS;
    if (ttl < EVENTS_TTL_MIN_MS)
        ttl = EVENTS_TTL_MIN_MS;
    if (ttl > EVENTS_TTL_MAX_MS)
        ttl = EVENTS_TTL_MAX_MS;
    struct sub *sub = NULL;
    for (size_t i = 0; i < e->nsubs && !sub; i++)
        if (e->subs[i].request_id == env->request_id
            && e->subs[i].peer.len == peer->len
            && memcmp (e->subs[i].peer.id, peer->id, peer->len) == 0)
            sub = &e->subs[i];
    if (m->cancel) {
        if (sub)
            *sub = e->subs[--e->nsubs];
        ttl = 0;
    } else if (!sub) {
        if (e->nsubs >= EVENTS_SUBS_MAX) {
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EBUSY,
                               "too many event subscriptions (%d): try "
                               "again later", EVENTS_SUBS_MAX);
            return;
        }
        if (e->nsubs == e->subs_cap) {
            size_t cap = e->subs_cap ? e->subs_cap * 2 : 8;
            struct sub *v = realloc (e->subs, cap * sizeof v[0]);
            if (!v) {
                yard__reply_error (s, YARD__CLIENT, peer, env->request_id,
                                   ENOMEM, "out of memory");
                return;
            }
            e->subs = v;
            e->subs_cap = cap;
        }
        sub = &e->subs[e->nsubs++];
        memset (sub, 0, sizeof *sub);
        sub->peer = *peer;
        sub->request_id = env->request_id;
        char p[2 * YARD_MAX_ROUTING_ID + 1];
        log_debug ("events: %s subscribed (job %" PRIu64 "%s%s, run %"
                   PRIu64 ", ttl %u ms)",
                   yard_peer_str (peer, p, sizeof p), m->job_id,
                   m->nodes ? ", nodes" : "",
                   m->pipelines || m->pipeline_run ? ", pipelines" : "",
                   m->pipeline_run, ttl);
    }
    if (sub) {
        sub->job_id = m->job_id;
        sub->nodes = m->nodes;
        sub->pipelines = m->pipelines || m->pipeline_run;
        sub->prun = m->pipeline_run;
        sub->expires_mono = now + ttl;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__EventsSubscribed body = YARD__EVENTS_SUBSCRIBED__INIT;
    body.ttl_ms = ttl;
    body.seq = e->seq;
    body.pipelines = true;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_EVENTS_SUBSCRIBED;
    out.events_subscribed = &body;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
}
