/* server_metrics.c - job metrics: MetricsBatch from workers, MetricsRequest
 * from clients.
 *
 * A batch is stored inside the batch transaction and its MetricsAck, like
 * every reply, leaves only after the COMMIT, so an acknowledged line is
 * durable.  The ack carries what the store holds for the attempt, whatever
 * the batch was (a duplicate, a gap, an overlap): the worker resends from
 * there, so a lost batch or ack costs a resend, never a gap or a double
 * count.  Metrics are accepted for attempts 1..current of a known job (an
 * attempt that was superseded by a requeue still reports what it did); a
 * batch for anything else is acknowledged whole and dropped, so the worker
 * moves on.
 */
#include "server_int.h"
#include "server_gang.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_metrics.h"

#define METRICS_DEFAULT_LIMIT 100000
/* the reply must fit in one frame (YARD_MAX_FRAME, 4 MiB), envelope and
 * reply header included */
#define METRICS_REPLY_BYTES (4u * 1024 * 1024 - 64u * 1024)

void
yard__on_metrics_batch (yard_server_t *s, const yard_peer_t *peer,
                        yard_node_t *node, yard_env_t *env)
{
    (void)peer;
    const Yard__MetricsBatch *b = env->metrics_batch;
    if (!b)
        return;
    yard_job_t *job, *owned;
    int rc = yard__job_lookup (s, b->job_id, &job, &owned);
    if (rc < 0 && rc != -ENOENT) {
        log_warn ("metrics for job %" PRIu64 " from %s: cannot read the job "
                  "(%s); the worker will resend", b->job_id, node->name,
                  yard_store_errmsg (s->store));
        return;
    }
    uint64_t held = b->next_seq;
    if (rc == 0 && yard__gang_foreign (s, job, node, b->attempt)) {
        log_debug ("metrics of job %" PRIu64 " attempt %u from %s: not "
                   "rank 0 of the gang: dropped", b->job_id, b->attempt,
                   node->name);
    } else if (rc == -ENOENT || b->attempt == 0 || b->attempt > job->attempt) {
        log_warn ("metrics for %s job %" PRIu64 " attempt %u from %s: "
                  "discarded", rc == -ENOENT ? "unknown" : "unknown attempt of",
                  b->job_id, b->attempt, node->name);
    } else if ((rc = yard_store_metrics_put (s->store, b, &held)) < 0) {
        log_warn ("cannot store the metrics of job %" PRIu64 " attempt %u: "
                  "%s (the worker will resend)", b->job_id, b->attempt,
                  yard_store_errmsg (s->store));
        yard__fail (s, rc);
        yard_job_destroy (&owned);
        return;
    }
    yard_job_destroy (&owned);
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__MetricsAck ack = YARD__METRICS_ACK__INIT;
    ack.job_id = b->job_id;
    ack.attempt = b->attempt;
    ack.next_seq = held;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_METRICS_ACK;
    out.metrics_ack = &ack;
    (void)yard__send_node (s, node, &out);
}

struct collect {
    Yard__MetricRecord *v;
    size_t n, cap;
    size_t bytes;
    bool full; /* the reply is as big as a frame allows */
};

static int
collect_cb (const yard_store_metric_t *m, void *arg)
{
    struct collect *c = arg;
    Yard__MetricRecord probe = YARD__METRIC_RECORD__INIT;
    probe.attempt = m->attempt;
    probe.step = m->step;
    probe.key = (char *)m->key;
    probe.value = m->value;
    probe.time_ms = m->time_ms;
    probe.superseded = m->superseded;
    /* the record, its tag and its length prefix */
    size_t cost = yard__metric_record__get_packed_size (&probe) + 4;
    if (c->bytes + cost > METRICS_REPLY_BYTES) {
        c->full = true;
        return 1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        Yard__MetricRecord *v = realloc (c->v, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    Yard__MetricRecord *r = &c->v[c->n];
    yard__metric_record__init (r);
    if (!(r->key = strdup (m->key)))
        return -ENOMEM;
    r->attempt = m->attempt;
    r->step = m->step;
    r->value = m->value;
    r->time_ms = m->time_ms;
    r->superseded = m->superseded;
    c->n++;
    c->bytes += cost;
    return 0;
}

void
yard__on_metrics (yard_server_t *s, const yard_peer_t *peer,
                  yard_node_t *node, yard_env_t *env)
{
    (void)node;
    Yard__MetricsRequest *req = env->metrics;
    if (!req) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "%s request has no body", yard_msg_type_name (env));
        return;
    }
    if (req->key && strlen (req->key) > YARD_METRICS_KEY_MAX) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "metrics: key is longer than %d bytes",
                           YARD_METRICS_KEY_MAX);
        return;
    }
    yard_job_t *job, *owned;
    int rc = yard__job_lookup (s, req->job_id, &job, &owned);
    if (rc < 0) {
        if (rc == -ENOENT)
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                               "no job %" PRIu64, req->job_id);
        else
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EIO,
                               "cannot read job %" PRIu64 " from the state "
                               "store (%s)", req->job_id, strerror (-rc));
        return;
    }
    yard_job_destroy (&owned);
    uint64_t limit = req->limit ? req->limit : METRICS_DEFAULT_LIMIT;
    struct collect c = { 0 };
    bool truncated = false;
    uint64_t malformed = 0;
    rc = yard_store_metrics_get (s->store, req->job_id, req->key,
                                 req->include_superseded, limit, collect_cb,
                                 &c, &truncated, &malformed);
    if (rc < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id,
                           rc == -ENOMEM ? ENOMEM : EIO,
                           "cannot read the metrics of job %" PRIu64 " (%s)",
                           req->job_id, rc == -ENOMEM ? "out of memory"
                                                      : yard_store_errmsg (s->store));
    } else {
        Yard__MetricsReply rep = YARD__METRICS_REPLY__INIT;
        Yard__MetricRecord **ptrs = c.n ? calloc (c.n, sizeof *ptrs) : NULL;
        if (c.n && !ptrs) {
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOMEM,
                               "out of memory");
        } else {
            for (size_t i = 0; i < c.n; i++)
                ptrs[i] = &c.v[i];
            rep.job_id = req->job_id;
            rep.points = ptrs;
            rep.n_points = c.n;
            rep.malformed_lines = malformed;
            rep.truncated = truncated || c.full;
            yard_env_t out = YARD__ENVELOPE__INIT;
            out.request_id = env->request_id;
            out.body_case = YARD__ENVELOPE__BODY_METRICS_REPLY;
            out.metrics_reply = &rep;
            (void)yard__reply (s, YARD__CLIENT, peer, &out);
        }
        free (ptrs);
    }
    for (size_t i = 0; i < c.n; i++)
        free (c.v[i].key);
    free (c.v);
}
