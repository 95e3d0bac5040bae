/* server_client.c - the client port: submit, status, queue, nodes, cancel,
 * and the two long polls (wait, logs).
 *
 * Long polls.  A WaitRequest or LogsRequest that cannot be answered at once
 * is parked on its job with its own timer.  Every change of the job (state
 * or log data) re-evaluates its parks; a park is answered when its
 * condition holds or its timer fires, and always when the job leaves memory
 * (it is then finished, which answers both kinds).  Parks are not durable:
 * after a restart clients time out and ask again.
 */
#include "server_int.h"
#include "server_gang.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_nodeadmin.h"
#include "server_place.h"
#include "util.h"

#define REASON_LEN 512

/* Answer a client request whose batch could not be stored: nothing of it
 * was accepted, and the text says why (disk full, memory, store failure). */
void
yard__reply_store_error (yard_server_t *s, const yard_peer_t *peer,
                         uint64_t request_id, int rc)
{
    if (rc == -ENOSPC)
        yard__reply_error (s, YARD__CLIENT, peer, request_id, ENOSPC,
                           "the scheduler cannot write its state (disk "
                           "full): nothing was accepted; free space under %s "
                           "and retry", s->state_dir);
    else if (rc == -ENOMEM)
        yard__reply_error (s, YARD__CLIENT, peer, request_id, ENOMEM,
                           "the scheduler is out of memory: nothing was "
                           "accepted");
    else
        yard__reply_error (s, YARD__CLIENT, peer, request_id, EIO,
                           "the scheduler's state store failed (%s): "
                           "nothing was accepted; see the scheduler log",
                           strerror (-rc));
}

static void
reply_lookup_error (yard_server_t *s, const yard_peer_t *peer,
                    uint64_t request_id, uint64_t id, int rc)
{
    if (rc == -ENOENT)
        yard__reply_error (s, YARD__CLIENT, peer, request_id, ENOENT,
                           "no job %" PRIu64, id);
    else
        yard__reply_error (s, YARD__CLIENT, peer, request_id, EIO,
                           "cannot read job %" PRIu64 " from the state store "
                           "(%s)", id, strerror (-rc));
}

/* Find job id (live or stored) for a request, or answer the request with
 * why not.  Returns 0, or a negative errno once the error reply is queued. */
static int
lookup_or_reply (yard_server_t *s, const yard_peer_t *peer,
                 uint64_t request_id, uint64_t id, yard_job_t **job,
                 yard_job_t **owned)
{
    int rc = yard__job_lookup (s, id, job, owned);
    if (rc < 0)
        reply_lookup_error (s, peer, request_id, id, rc);
    return rc;
}

static void
no_body (yard_server_t *s, const yard_peer_t *peer, yard_env_t *env)
{
    yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                       "%s request has no body", yard_msg_type_name (env));
}

/* Reply JobInfo for job (live or from the store). */
static void
reply_job_info (yard_server_t *s, const yard_peer_t *peer, uint64_t request_id,
                const yard_job_t *job)
{
    char reason[REASON_LEN];
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__JobInfo info;
    const char *why = NULL;
    if (job->state == YARD__JOB_STATE__JOB_PENDING
        && yard_waitq_has (s->waitq, job))
        why = yard__waiting_reason (job, reason, sizeof reason);
    else if (job->state == YARD__JOB_STATE__JOB_PENDING)
        why = yard__pending_reason (s, job, SIZE_MAX, NULL, reason,
                                    sizeof reason);
    else
        why = yard__ahead_reason (job, reason, sizeof reason);
    yard_job_info (job, &info, why);
    /* its PUs/GPUs: held now, or recorded for its last attempt */
    Yard__Allocation *alloc_owned = NULL;
    info.alloc = (Yard__Allocation *)yard__place_lookup (s, job, &alloc_owned);
    /* the history is a courtesy: a job without it is still answered */
    if (yard__attempts_fill (s, &info) < 0)
        log_warn ("job %" PRIu64 ": cannot read its attempts: %s", job->id,
                  yard_store_errmsg (s->store));
    uint64_t array_states[YARD__ARRAY_NSTATES];
    yard__deps_info (s, job, &info, array_states); /* server_deps.c */
    yard__gang_info (s, job, &info); /* server_gang.c: its nodes */
    yard__gang_attempts (s, job, &info); /* and its attempts' */
    env.request_id = request_id;
    env.body_case = YARD__ENVELOPE__BODY_JOB_INFO;
    env.job_info = &info;
    (void)yard__reply (s, YARD__CLIENT, peer, &env);
    yard__gang_info_free (&info);
    yard__attempts_free (&info);
    if (alloc_owned)
        yard__allocation__free_unpacked (alloc_owned, NULL);
}

void
yard__reply_job (yard_server_t *s, const yard_peer_t *peer,
                 uint64_t request_id, const yard_job_t *job)
{
    reply_job_info (s, peer, request_id, job);
}

/* ---- submit ---- */

void
yard__on_submit (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
                 yard_env_t *env)
{
    (void)node;
    Yard__SubmitRequest *req = env->submit;
    yard_error_t err;
    yard_error_clear (&err);
    if (!req) {
        no_body (s, peer, env);
        return;
    }
    if (yard__deps_wanted (req->spec)) {
        yard__deps_submit (s, peer, env); /* server_deps.c */
        return;
    }
    if (yard_job_spec_check (req->spec, &err) < 0
        || yard__spec_constraints_check (req->spec, &err) < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "%s", err.text);
        return;
    }
    yard_job_t *job = yard_job_create ();
    if (!job) {
        yard__fail (s, -ENOMEM);
        yard__reply_store_error (s, peer, env->request_id, -ENOMEM);
        return;
    }
    /* Take the spec out of the envelope rather than copy it: protobuf-c
     * frees a NULL member as absent. */
    job->spec = req->spec;
    req->spec = NULL;
    job->priority = job->spec->priority;
    job->submit_ms = yard_now_ms ();
    int rc = yard_store_job_insert (s->store, job);
    if (rc < 0) {
        log_err ("cannot store a new job: %s", yard_store_errmsg (s->store));
        yard__fail (s, rc);
        yard_job_destroy (&job);
        yard__reply_store_error (s, peer, env->request_id, rc);
        return;
    }
    yard__mark_dirty (s, job);
    if ((rc = yard_queue_add (s->queue, job)) < 0
        || (rc = yard_queue_push (s->queue, job)) < 0) {
        (void)yard_queue_del (s->queue, job);
        yard__fail (s, rc);
        yard_job_destroy (&job);
        yard__reply_store_error (s, peer, env->request_id, rc);
        return;
    }
    s->need_dispatch = true;
    const Yard__JobSpec *sp = job->spec;
    char mem[32];
    log_info ("job %" PRIu64 " submitted by %s@%s: %s (priority %d, %u "
              "CPU%s, %u GPU%s, %s memory)", job->id,
              sp->user && *sp->user ? sp->user : "?",
              sp->submit_host && *sp->submit_host ? sp->submit_host : "?",
              sp->name && *sp->name ? sp->name : sp->argv[0], sp->priority,
              sp->cpus, sp->cpus == 1 ? "" : "s", sp->gpus,
              sp->gpus == 1 ? "" : "s",
              yard_format_size (sp->memory_bytes, mem, sizeof mem));
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__SubmitReply body = YARD__SUBMIT_REPLY__INIT;
    body.job_id = job->id;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_SUBMIT_REPLY;
    out.submit_reply = &body;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
}

/* ---- status ---- */

void
yard__on_job (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
              yard_env_t *env)
{
    (void)node;
    Yard__JobRequest *req = env->job_status;
    if (!req) {
        no_body (s, peer, env);
        return;
    }
    yard_job_t *job, *owned;
    if (lookup_or_reply (s, peer, env->request_id, req->job_id, &job, &owned)
        < 0)
        return;
    reply_job_info (s, peer, env->request_id, job);
    yard_job_destroy (&owned);
}

/* ---- queue ---- */

struct finished {
    yard_job_t **v;
    size_t n;
    size_t cap;
};

static int
collect_finished (yard_job_t *job, void *arg)
{
    struct finished *f = arg;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        yard_job_t **v = realloc (f->v, cap * sizeof v[0]);
        if (!v) {
            yard_job_destroy (&job);
            return -ENOMEM;
        }
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = job;
    return 0;
}

static int
cmp_jobs (const void *a, const void *b)
{
    return yard_job_cmp (*(yard_job_t *const *)a, *(yard_job_t *const *)b);
}

void
yard__on_queue (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
                yard_env_t *env)
{
    (void)node;
    Yard__QueueRequest *req = env->queue;
    if (!req) {
        no_body (s, peer, env);
        return;
    }
    uint32_t limit = req->limit ? req->limit : YARD__QUEUE_DEFAULT_LIMIT;
    if (limit > YARD__QUEUE_MAX_LIMIT)
        limit = YARD__QUEUE_MAX_LIMIT;
    yard_job_t **pending = NULL, **active = NULL;
    size_t npending = 0, nactive = 0;
    struct finished fin = {0};
    Yard__JobInfo *infos = NULL;
    Yard__JobInfo **ptrs = NULL;
    char *reasons = NULL;
    size_t *offs = NULL;
    int rc;

    if ((rc = yard_queue_sorted (s->queue, &pending, &npending)) < 0)
        goto error;
    /* jobs backing off come after those that may run now */
    size_t nwait = yard_waitq_count (s->waitq);
    if (nwait) {
        yard_job_t **v = realloc (pending, (npending + nwait) * sizeof v[0]);
        if (!v) {
            rc = -ENOMEM;
            goto error;
        }
        pending = v;
        for (size_t i = 0; i < nwait; i++)
            pending[npending++] = yard_waitq_at (s->waitq, i);
    }
    /* then those waiting for a dependency or an array slot */
    if ((rc = yard__deps_held (s, &pending, &npending)) < 0)
        goto error;
    size_t nn = yard_nodes_count (s->nodes);
    for (size_t i = 0; i < nn; i++)
        nactive += yard_nodes_at (s->nodes, i)->njobs;
    if (nactive && !(active = malloc (nactive * sizeof active[0]))) {
        rc = -ENOMEM;
        goto error;
    }
    size_t k = 0;
    for (size_t i = 0; i < nn; i++)
        for (yard_job_t *j = yard_nodes_at (s->nodes, i)->jobs;
             j && k < nactive; j = j->wnext)
            active[k++] = j;
    nactive = k;
    if (nactive > 1)
        qsort (active, nactive, sizeof active[0], cmp_jobs);
    if (req->all
        && (rc = yard_store_jobs_finished (s->store, limit, collect_finished,
                                           &fin)) < 0)
        goto error;
    size_t n = nactive + npending + fin.n;
    if (n > 0
        && (!(infos = calloc (n, sizeof infos[0]))
            || !(ptrs = calloc (n, sizeof ptrs[0])))) {
        rc = -ENOMEM;
        goto error;
    }
    /* The pending jobs' reasons, packed one after the other in one buffer
     * (they are short and there may be very many); the infos point into it
     * once it has stopped growing. */
    yard__capacity_t cap;
    yard__capacity (s, &cap);
    size_t used = 0, size = 0;
    if (npending && !(offs = malloc (npending * sizeof offs[0]))) {
        rc = -ENOMEM;
        goto error;
    }
    for (size_t i = 0; i < npending; i++) {
        char r[REASON_LEN];
        if (yard_waitq_has (s->waitq, pending[i]))
            yard__waiting_reason (pending[i], r, sizeof r);
        else
            yard__pending_reason (s, pending[i], i, &cap, r, sizeof r);
        size_t len = strlen (r) + 1;
        if (used + len > size) {
            size_t nsize = size ? size * 2 : 4096;
            while (nsize < used + len)
                nsize *= 2;
            char *v = realloc (reasons, nsize);
            if (!v) {
                rc = -ENOMEM;
                goto error;
            }
            reasons = v;
            size = nsize;
        }
        memcpy (reasons + used, r, len);
        offs[i] = used;
        used += len;
    }
    k = 0;
    for (size_t i = 0; i < nactive; i++, k++) {
        yard_job_info (active[i], &infos[k], NULL);
        infos[k].alloc = (Yard__Allocation *)yard__place_of (active[i]);
    }
    for (size_t i = 0; i < npending; i++, k++)
        yard_job_info (pending[i], &infos[k], reasons + offs[i]);
    for (size_t i = 0; i < fin.n; i++, k++)
        yard_job_info (fin.v[i], &infos[k], NULL);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &infos[i];

    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__QueueReply body = YARD__QUEUE_REPLY__INIT;
    body.n_jobs = n;
    body.jobs = ptrs;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_QUEUE_REPLY;
    out.queue_reply = &body;
    /* A huge queue does not fit in one frame: keep the head of the list
     * (active jobs, then pending in run order, then the newest finished)
     * and cut from its end. */
    if (yard__envelope__get_packed_size (&out) > YARD_MAX_FRAME) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            body.n_jobs = mid;
            if (yard__envelope__get_packed_size (&out) <= YARD_MAX_FRAME)
                lo = mid;
            else
                hi = mid - 1;
        }
        body.n_jobs = lo;
        log_warn ("queue listing truncated to %zu of %zu jobs to fit a frame",
                  lo, n);
    }
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    goto done;
error:
    yard__reply_error (s, YARD__CLIENT, peer, env->request_id,
                       rc == -ENOMEM ? ENOMEM : EIO,
                       "cannot list the queue: %s",
                       rc == -ENOMEM ? "out of memory"
                                     : yard_store_errmsg (s->store));
done:
    for (size_t i = 0; i < fin.n; i++)
        yard_job_destroy (&fin.v[i]);
    free (fin.v);
    free (pending);
    free (active);
    free (infos);
    free (ptrs);
    free (reasons);
    free (offs);
}

/* ---- nodes ---- */

void
yard__on_nodes (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
                yard_env_t *env)
{
    (void)node;
    size_t n = yard_nodes_count (s->nodes);
    Yard__NodeInfo *infos = NULL;
    Yard__NodeInfo **ptrs = NULL;
    if (n > 0
        && (!(infos = calloc (n, sizeof infos[0]))
            || !(ptrs = calloc (n, sizeof ptrs[0])))) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOMEM,
                           "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        yard_node_t *nd = yard_nodes_at (s->nodes, i);
        Yard__NodeInfo *ni = &infos[i];
        yard__node_info__init (ni);
        ni->name = nd->name;
        ni->state = nd->state;
        ni->hostname = nd->hostname ? nd->hostname
                                    : (char *)protobuf_c_empty_string;
        ni->version = nd->version ? nd->version
                                  : (char *)protobuf_c_empty_string;
        ni->cpus = nd->cpus;
        ni->cpus_used = nd->cpus_used;
        ni->memory_bytes = nd->memory;
        ni->memory_used = nd->memory_used;
        ni->gpus = nd->gpus;
        ni->gpus_used = nd->gpus_used;
        ni->running_jobs = nd->njobs;
        ni->last_seen_ms = nd->last_seen_ms;
        ni->registered_ms = nd->registered_ms;
        ni->topology = nd->topology; /* borrowed until the reply is sent */
        yard__node_info_admin (nd, ni);
        yard__gang_holdings (s, nd, ni); /* who holds which PUs/GPUs */
        yard__place_info (s, nd, ni);     /* cores free/total */
        ptrs[i] = ni;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__NodesReply body = YARD__NODES_REPLY__INIT;
    body.n_nodes = n;
    body.nodes = ptrs;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_NODES_REPLY;
    out.nodes_reply = &body;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
done:
    for (size_t i = 0; infos && i < n; i++)
        yard__gang_holdings_free (&infos[i]);
    free (infos);
    free (ptrs);
}

/* ---- cancel ---- */

void
yard__on_cancel (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
                 yard_env_t *env)
{
    (void)node;
    Yard__CancelRequest *req = env->cancel;
    if (!req) {
        no_body (s, peer, env);
        return;
    }
    if (req->array) {
        yard__deps_cancel_array (s, peer, env); /* server_deps.c */
        return;
    }
    yard_job_t *job, *owned;
    if (lookup_or_reply (s, peer, env->request_id, req->job_id, &job, &owned)
        < 0)
        return;
    if (owned || yard_job_state_is_terminal (job->state)) {
        /* finished: unchanged */
        reply_job_info (s, peer, env->request_id, job);
        yard_job_destroy (&owned);
        return;
    }
    uint64_t id = job->id;
    if (!yard_job_is_active (job)) {
        /* pending: cancelled at once */
        job->cancel_requested = true;
        if (yard__job_end (s, job, YARD__JOB_STATE__JOB_CANCELLED,
                           YARD__END_REASON__END_NONE, 0, 0, 0,
                           "cancelled by user") < 0) {
            yard__reply_store_error (s, peer, env->request_id, s->batch_failed);
            return;
        }
        /* The row holds the final state (read inside our transaction). */
        int rc = yard_store_job_get (s->store, id, &owned);
        if (rc < 0) {
            reply_lookup_error (s, peer, env->request_id, id, rc);
            return;
        }
        reply_job_info (s, peer, env->request_id, owned);
        yard_job_destroy (&owned);
        return;
    }
    /* Assigned or running: the worker stops it (SIGTERM, grace, SIGKILL)
     * and reports END_CANCELLED; the KillJob leaves after the commit. */
    if (!job->cancel_requested) {
        job->cancel_requested = true;
        if (yard__job_save (s, job) < 0) {
            yard__reply_store_error (s, peer, env->request_id, s->batch_failed);
            return;
        }
        log_info ("job %" PRIu64 " attempt %u: cancel requested", id,
                  job->attempt);
        yard__parks_wake (s, job);
    }
    if (job->worker)
        (void)yard__send_kill (s, job->worker, job->id, job->attempt,
                               YARD__END_REASON__END_CANCELLED,
                               yard_job_grace (job));
    reply_job_info (s, peer, env->request_id, job);
}

/* ---- long polls ---- */

/* Answer a logs request now if there is something to say (data, or the end
 * of the attempt's log), or unconditionally when force.  Returns true when
 * a reply (or an error) was queued. */
static bool
logs_answer (yard_server_t *s, const yard_peer_t *peer, uint64_t request_id,
             const yard_job_t *job, uint32_t attempt, uint64_t offset,
             uint32_t max_bytes, bool force)
{
    if (attempt == 0)
        attempt = job->attempt; /* the latest, which may be none yet */
    bool over = yard_job_state_is_terminal (job->state)
                || attempt < job->attempt;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t size = 0;
    if (attempt > 0) {
        if (!(buf = malloc (max_bytes ? max_bytes : 1))) {
            yard__reply_error (s, YARD__CLIENT, peer, request_id, ENOMEM,
                               "out of memory");
            return true;
        }
        int rc = yard_joblog_read (s->logs, job->id, attempt, offset, buf,
                                   max_bytes, &len, &size);
        if (rc < 0) {
            yard__reply_error (s, YARD__CLIENT, peer, request_id, EIO,
                               "cannot read the log of job %" PRIu64
                               " attempt %u: %s", job->id, attempt,
                               strerror (-rc));
            free (buf);
            return true;
        }
    }
    /* offset past the end counts as the end, so a follower with a bad
     * offset does not poll forever */
    bool eof = over && offset + len >= size;
    if (len == 0 && !eof && !force) {
        free (buf);
        return false;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__LogsReply body = YARD__LOGS_REPLY__INIT;
    body.job_id = job->id;
    body.attempt = attempt;
    body.offset = offset;
    body.data.data = buf;
    body.data.len = len;
    body.eof = eof;
    body.state = job->state;
    out.request_id = request_id;
    out.body_case = YARD__ENVELOPE__BODY_LOGS_REPLY;
    out.logs_reply = &body;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    free (buf);
    return true;
}

/* Answer p if its condition holds (or force).  True when answered. */
static bool
park_answer (yard_server_t *s, yard__park_t *p, bool force)
{
    if (p->kind == YARD__ENVELOPE__BODY_WAIT_JOB) {
        if (!force && !yard_job_state_is_terminal (p->job->state))
            return false;
        reply_job_info (s, &p->peer, p->request_id, p->job);
        return true;
    }
    return logs_answer (s, &p->peer, p->request_id, p->job, p->attempt,
                        p->offset, p->max_bytes, force);
}

static void
park_close_cb (uv_handle_t *h)
{
    free (h->data);
}

static void
park_free (yard_server_t *s, yard__park_t *p)
{
    if (p->jprev)
        p->jprev->jnext = p->jnext;
    else if (p->job)
        p->job->parks = p->jnext;
    if (p->jnext)
        p->jnext->jprev = p->jprev;
    if (p->aprev)
        p->aprev->anext = p->anext;
    else
        s->parks = p->anext;
    if (p->anext)
        p->anext->aprev = p->aprev;
    s->nparks--;
    p->job = NULL;
    uv_timer_stop (&p->timer);
    uv_close ((uv_handle_t *)&p->timer, park_close_cb);
}

static void
park_timeout_cb (uv_timer_t *t)
{
    yard__park_t *p = t->data;
    yard_server_t *s = p->s;
    park_answer (s, p, true);
    park_free (s, p);
    yard__batch_end (s);
}

/* Park a request on job for timeout_ms; answers at once when the parks are
 * full or a timer cannot be made. */
static void
park (yard_server_t *s, int kind, const yard_peer_t *peer, uint64_t request_id,
      yard_job_t *job, uint32_t attempt, uint64_t offset, uint32_t max_bytes,
      uint64_t timeout_ms)
{
    yard__park_t *p = NULL;
    if (s->nparks >= YARD__MAX_PARKS || !(p = calloc (1, sizeof *p))
        || uv_timer_init (s->loop, &p->timer) < 0) {
        free (p);
        yard__park_t tmp = {.kind = kind, .peer = *peer,
                            .request_id = request_id, .job = job,
                            .attempt = attempt, .offset = offset,
                            .max_bytes = max_bytes};
        park_answer (s, &tmp, true);
        return;
    }
    p->s = s;
    p->timer.data = p;
    p->job = job;
    p->kind = kind;
    p->peer = *peer;
    p->request_id = request_id;
    p->attempt = attempt;
    p->offset = offset;
    p->max_bytes = max_bytes;
    p->jnext = job->parks;
    if (job->parks)
        job->parks->jprev = p;
    job->parks = p;
    p->anext = s->parks;
    if (s->parks)
        s->parks->aprev = p;
    s->parks = p;
    s->nparks++;
    uv_timer_start (&p->timer, park_timeout_cb, timeout_ms, 0);
}

void
yard__parks_wake (yard_server_t *s, yard_job_t *job)
{
    yard__park_t *next;
    for (yard__park_t *p = job->parks; p; p = next) {
        next = p->jnext;
        if (park_answer (s, p, false))
            park_free (s, p);
    }
}

void
yard__parks_flush (yard_server_t *s, yard_job_t *job)
{
    while (job->parks) {
        yard__park_t *p = job->parks;
        park_answer (s, p, true);
        park_free (s, p);
    }
}

void
yard__parks_drop (yard_server_t *s, yard_job_t *job)
{
    while (job->parks)
        park_free (s, job->parks);
}

void
yard__parks_close_all (yard_server_t *s)
{
    while (s->parks)
        park_free (s, s->parks);
}

void
yard__on_wait (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
               yard_env_t *env)
{
    (void)node;
    Yard__WaitRequest *req = env->wait_job;
    if (!req) {
        no_body (s, peer, env);
        return;
    }
    yard_job_t *job, *owned;
    if (lookup_or_reply (s, peer, env->request_id, req->job_id, &job, &owned)
        < 0)
        return;
    if (owned || yard_job_state_is_terminal (job->state)
        || req->timeout_ms == 0) {
        reply_job_info (s, peer, env->request_id, job);
        yard_job_destroy (&owned);
        return;
    }
    uint64_t timeout = req->timeout_ms;
    if (timeout > YARD__WAIT_MAX_MS)
        timeout = YARD__WAIT_MAX_MS;
    park (s, YARD__ENVELOPE__BODY_WAIT_JOB, peer, env->request_id, job, 0, 0,
          0, timeout);
}

void
yard__on_logs (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
               yard_env_t *env)
{
    (void)node;
    Yard__LogsRequest *req = env->logs;
    if (!req) {
        no_body (s, peer, env);
        return;
    }
    yard_job_t *job, *owned;
    if (lookup_or_reply (s, peer, env->request_id, req->job_id, &job, &owned)
        < 0)
        return;
    if (req->attempt > job->attempt) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                           "job %" PRIu64 " has no attempt %u (it has had "
                           "%u)", job->id, req->attempt, job->attempt);
        yard_job_destroy (&owned);
        return;
    }
    uint32_t max = req->max_bytes ? req->max_bytes : YARD__LOGS_DEFAULT;
    if (max > YARD__LOGS_MAX)
        max = YARD__LOGS_MAX;
    uint64_t wait = req->wait_ms;
    if (wait > YARD__LOGS_WAIT_MAX_MS)
        wait = YARD__LOGS_WAIT_MAX_MS;
    /* "latest" is fixed now, so an offset keeps meaning the same file; a
     * job with no attempt yet keeps 0 and takes the first one. */
    uint32_t attempt = req->attempt ? req->attempt : job->attempt;
    bool force = owned != NULL || wait == 0;
    if (!logs_answer (s, peer, env->request_id, job, attempt, req->offset,
                      max, force))
        park (s, YARD__ENVELOPE__BODY_LOGS, peer, env->request_id, job,
              attempt, req->offset, max, wait);
    yard_job_destroy (&owned);
}
