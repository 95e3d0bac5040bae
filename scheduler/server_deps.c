/* server_deps.c - job dependencies and job arrays in the scheduler core
 * (part of the server object, see server_int.h).
 *
 * Dependencies.  A PENDING job whose `after` list is not all met stays out
 * of the pending heap: yard__job_enqueue asks yard__deps_hold first, which
 * evaluates the job's dependencies once per index epoch (a live parent:
 * an edge parent -> job in s->deps and one more unmet dependency; a
 * finished parent: its stored state decides, met or never).  When a job
 * ends, yard__deps_ended takes that parent's edges and looks at those
 * dependents only.  A dependency that can never be met cancels its job;
 * that cancellation ends a job too, so it cascades.  Cancellations go
 * through a worklist drained at the outermost call, so a chain of ten
 * thousand jobs does not recurse ten thousand frames deep.
 *
 * The index is never stored: the dependencies are in each job's spec
 * (store_deps.h), and the scheduler's rebuild (start-up, rollback) bumps
 * the epoch and clears the index, so every pending job is evaluated again
 * against what is durable.  A parent that finished while the scheduler was
 * down is read from the store then.
 *
 * Arrays.  Submit makes one job per index in one batch (one transaction,
 * consecutive ids, one reply listing every id).  A member of an array with
 * a limit (%K) counts in s->deps while it holds a node; the dispatch pass
 * sets aside a member popped while its array is at the limit (out of the
 * heap, so a large array never fills the pass's skip budget), and each
 * member leaving its node puts the oldest one back.
 */
#include "server_int.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps.h"
#include "log.h"
#include "server_nodeadmin.h"
#include "store_deps.h"
#include "utf8.h"
#include "util.h"

/* ---- submit ---- */

bool
yard__deps_wanted (const Yard__JobSpec *spec)
{
    return spec
           && (spec->n_after > 0 || (spec->array && spec->array->set));
}

static void
reply_fail (yard_server_t *s, const yard_peer_t *peer, uint64_t request_id,
            int rc)
{
    yard__fail (s, rc);
    yard__reply_store_error (s, peer, request_id, rc);
}

/* The state of job id: live or stored.  0, -ENOENT or a store error. */
static int
job_state (yard_server_t *s, uint64_t id, Yard__JobState *state)
{
    yard_job_t *job = yard_queue_find (s->queue, id);
    if (job) {
        *state = job->state;
        return 0;
    }
    return yard_store_job_state (s->store, id, state);
}

/* Check the `after` list and the array range.  *count: jobs to make. */
static int
check_request (yard_server_t *s, const Yard__JobSpec *spec, uint32_t *count,
               yard_error_t *err)
{
    if (spec->n_after > YARD_DEPS_MAX)
        return yard_errorf (err, EINVAL, "too many dependencies: %zu (at "
                            "most %u)", spec->n_after, YARD_DEPS_MAX);
    for (size_t i = 0; i < spec->n_after; i++) {
        const Yard__Dependency *d = spec->after[i];
        if (!d || d->job_id == 0)
            return yard_errorf (err, EINVAL, "dependency %zu names no job",
                                i + 1);
        if (d->condition != YARD__DEPENDENCY__CONDITION__OK
            && d->condition != YARD__DEPENDENCY__CONDITION__ANY
            && d->condition != YARD__DEPENDENCY__CONDITION__NOTOK)
            return yard_errorf (err, EINVAL, "dependency on job %" PRIu64
                                ": unknown condition %d", d->job_id,
                                (int)d->condition);
        Yard__JobState st;
        int rc = job_state (s, d->job_id, &st);
        if (rc == -ENOENT)
            return yard_errorf (err, ENOENT, "no job %" PRIu64, d->job_id);
        if (rc < 0)
            return yard_errorf (err, EIO, "cannot read job %" PRIu64
                                " from the state store (%s)", d->job_id,
                                strerror (-rc));
    }
    *count = 1;
    const Yard__ArraySpec *a = spec->array;
    if (a && a->set) {
        uint32_t step = a->step ? a->step : 1;
        if (a->first > a->last)
            return yard_errorf (err, EINVAL, "array %u-%u: the first index "
                                "is after the last", a->first, a->last);
        uint64_t n = ((uint64_t)a->last - a->first) / step + 1;
        if (n > YARD_ARRAY_MAX)
            return yard_errorf (err, EINVAL, "array %u-%u:%u has %" PRIu64
                                " elements: at most %u", a->first, a->last,
                                step, n, YARD_ARRAY_MAX);
        *count = (uint32_t)n;
    }
    return 0;
}

/* Append KEY=VALUE to spec->env (the spec's own malloc'd memory, so that
 * free_unpacked frees it). */
static int
env_append (Yard__JobSpec *spec, const char *key, const char *value)
{
    Yard__EnvVar **v = realloc (spec->env, (spec->n_env + 1) * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    spec->env = v;
    Yard__EnvVar *e = malloc (sizeof *e);
    if (!e)
        return -ENOMEM;
    yard__env_var__init (e);
    if (!(e->key = strdup (key)) || !(e->value = strdup (value))) {
        free (e->key);
        free (e);
        return -ENOMEM;
    }
    v[spec->n_env++] = e;
    return 0;
}

/* Replace a malloc'd string of a spec. */
static int
set_text (char **field, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static int
set_text (char **field, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *t = NULL;
    int n = vasprintf (&t, fmt, ap);
    va_end (ap);
    if (n < 0)
        return -ENOMEM;
    if (*field != protobuf_c_empty_string)
        free (*field);
    *field = t;
    return 0;
}

/* Make a member's spec from the packed base: its own name and index. */
static Yard__JobSpec *
member_spec (const uint8_t *packed, size_t len, const char *base_name,
             uint64_t array_id, uint32_t index)
{
    Yard__JobSpec *sp = yard__job_spec__unpack (NULL, len, packed);
    if (!sp)
        return NULL;
    /* the last two env entries are the ones the base got for the array */
    if (sp->n_env < 2
        || set_text (&sp->env[sp->n_env - 2]->value, "%" PRIu64,
                     array_id) < 0
        || set_text (&sp->env[sp->n_env - 1]->value, "%u", index) < 0
        || set_text (&sp->name, "%.240s[%u]", base_name, index) < 0) {
        yard__job_spec__free_unpacked (sp, NULL);
        return NULL;
    }
    yard_utf8_sanitize (sp->name); /* "%.240s" may cut a character */
    return sp;
}

/* Pack spec into *buf (malloc'd). */
static int
pack (const Yard__JobSpec *spec, uint8_t **buf, size_t *len)
{
    *len = yard__job_spec__get_packed_size (spec);
    if (!(*buf = malloc (*len ? *len : 1)))
        return -ENOMEM;
    yard__job_spec__pack (spec, *buf);
    return 0;
}

/* Insert one job with spec (taken) and put it where its dependencies
 * say.  *out: the job (live) or NULL on error. */
static int
add_job (yard_server_t *s, Yard__JobSpec *spec, int64_t now, yard_job_t **out)
{
    *out = NULL;
    yard_job_t *job = yard_job_create ();
    if (!job) {
        yard__job_spec__free_unpacked (spec, NULL);
        return -ENOMEM;
    }
    job->spec = spec;
    job->priority = spec->priority;
    job->submit_ms = now;
    int rc = yard_store_job_insert (s->store, job);
    if (rc < 0) {
        log_err ("cannot store a new job: %s", yard_store_errmsg (s->store));
        yard_job_destroy (&job);
        return rc;
    }
    yard__mark_dirty (s, job);
    if ((rc = yard_queue_add (s->queue, job)) < 0) {
        yard_job_destroy (&job);
        return rc;
    }
    *out = job;
    return 0;
}

/* An array's count members, made from the packed base spec and inserted
 * with consecutive ids, 32 rows per statement (yard_store_jobs_insert):
 * the ids are known before the insert, so every member's spec names the
 * array (its first id) from the start.  On success jobs[] holds them,
 * live in the map; on error none is left anywhere. */
static int
add_members (yard_server_t *s, const uint8_t *packed, size_t len,
             const char *base_name, uint32_t first, uint32_t step,
             uint32_t count, int64_t now, yard_job_t **jobs)
{
    uint64_t id0;
    int rc = yard_store_job_next_id (s->store, &id0);
    if (rc < 0) {
        log_err ("cannot store a new job: %s", yard_store_errmsg (s->store));
        return rc;
    }
    for (uint32_t k = 0; rc == 0 && k < count; k++) {
        Yard__JobSpec *sp = member_spec (packed, len, base_name, id0,
                                         first + k * step);
        if (!sp || !(jobs[k] = yard_job_create ())) {
            if (sp)
                yard__job_spec__free_unpacked (sp, NULL);
            rc = -ENOMEM;
            break;
        }
        jobs[k]->spec = sp;
        jobs[k]->priority = sp->priority;
        jobs[k]->submit_ms = now;
    }
    if (rc == 0 && (rc = yard_store_jobs_insert (s->store, jobs, count, id0))
                       < 0)
        log_err ("cannot store %u new jobs: %s", count,
                 yard_store_errmsg (s->store));
    uint32_t k = 0;
    for (; rc == 0 && k < count; k++) {
        yard__mark_dirty (s, jobs[k]);
        rc = yard_queue_add (s->queue, jobs[k]);
    }
    if (rc < 0) {
        /* the batch fails and rolls back; none of them stays */
        for (uint32_t j = 0; j < count; j++) {
            if (j + 1 < k)
                (void)yard_queue_del (s->queue, jobs[j]);
            yard_job_destroy (&jobs[j]);
        }
    }
    return rc;
}

void
yard__deps_submit (yard_server_t *s, const yard_peer_t *peer,
                   yard_env_t *env)
{
    Yard__SubmitRequest *req = env->submit;
    yard_error_t err;
    yard_error_clear (&err);
    uint32_t count = 1;
    if (check_request (s, req->spec, &count, &err) < 0
        || yard_job_spec_check (req->spec, &err) < 0
        || yard__spec_constraints_check (req->spec, &err) < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, err.code,
                           "%s", err.text);
        return;
    }
    Yard__JobSpec *base = req->spec;
    req->spec = NULL; /* ours now; protobuf-c frees a NULL member as absent */
    const Yard__ArraySpec *a = base->array;
    bool array = a && a->set;
    uint32_t first = array ? a->first : 0, step = array && a->step ? a->step
                                                                  : 1;
    uint64_t *ids = calloc (count, sizeof ids[0]);
    /* the members themselves: nothing removes a job until they are all
     * inserted, so the pointers stay good and need no lookup */
    yard_job_t **jobs = calloc (count, sizeof jobs[0]);
    uint8_t *packed = NULL;
    size_t len = 0;
    char *base_name = NULL;
    int64_t now = yard_now_ms ();
    int rc = ids && jobs ? 0 : -ENOMEM;
    yard_job_t *job = NULL;
    if (rc == 0 && !array) {
        rc = add_job (s, base, now, &job);
        base = NULL;
        if (rc == 0) {
            ids[0] = job->id;
            jobs[0] = job;
        }
    } else if (rc == 0) {
        if (!(base_name = strdup (base->name)))
            rc = -ENOMEM;
        if (rc == 0)
            rc = env_append (base, "YARD_ARRAY_ID", "0");
        if (rc == 0)
            rc = env_append (base, "YARD_ARRAY_INDEX", "0");
        if (rc == 0)
            rc = pack (base, &packed, &len);
        rc = rc < 0 ? rc : add_members (s, packed, len, base_name, first,
                                        step, count, now, jobs);
        for (uint32_t k = 0; rc == 0 && k < count; k++)
            ids[k] = jobs[k]->id;
    }
    /* placed only once all exist: a member's dependencies may be doomed,
     * and a cancellation must not run half-way through the inserts */
    for (uint32_t k = 0; rc == 0 && k < count; k++)
        if (jobs[k] && (rc = yard__job_enqueue (s, jobs[k])) < 0)
            break;
    if (rc < 0) {
        reply_fail (s, peer, env->request_id, rc);
        goto done;
    }
    s->need_dispatch = true;
    if (array)
        log_info ("jobs %" PRIu64 "-%" PRIu64 " submitted as array %" PRIu64
                  " (%u elements, at most %u running): %s", ids[0],
                  ids[count - 1], ids[0], count, a->max_running, base_name);
    else
        log_info ("job %" PRIu64 " submitted with %zu dependenc%s",
                  ids[0], job->spec->n_after,
                  job->spec->n_after == 1 ? "y" : "ies");
    yard_env_t out = YARD__ENVELOPE__INIT;
    Yard__SubmitReply body = YARD__SUBMIT_REPLY__INIT;
    body.job_id = ids[0];
    if (array) {
        body.n_job_ids = count;
        body.job_ids = ids;
    }
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_SUBMIT_REPLY;
    out.submit_reply = &body;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    yard__deps_drain (s);
done:
    if (base)
        yard__job_spec__free_unpacked (base, NULL);
    free (packed);
    free (base_name);
    free (ids);
    free (jobs);
}

/* ---- dependencies ---- */

/* Remember that job must be cancelled: its dependency on parent (which
 * ended as state) can never be met. */
static int
doom (yard_server_t *s, yard_job_t *job, uint64_t parent,
      Yard__JobState state)
{
    if (s->ndoomed == s->doomed_cap) {
        size_t cap = s->doomed_cap ? s->doomed_cap * 2 : 16;
        yard__doomed_t *v = realloc (s->doomed, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        s->doomed = v;
        s->doomed_cap = cap;
    }
    s->doomed[s->ndoomed++] = (yard__doomed_t){job->id, parent, state};
    return 0;
}

/* Whether dependency i is the first of job's list on its parent (edges
 * are one per distinct parent). */
static bool
first_on_parent (const Yard__JobSpec *spec, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (spec->after[j]->job_id == spec->after[i]->job_id)
            return false;
    return true;
}

int
yard__deps_hold (yard_server_t *s, yard_job_t *job)
{
    job->array_held = false;
    const Yard__JobSpec *spec = job->spec;
    /* a job that already ran (requeued, retried) had its dependencies met
     * then; they are not asked again */
    if (!spec || spec->n_after == 0 || job->attempt > 0)
        return 0;
    if (job->deps_epoch == s->deps_epoch)
        return job->deps_unmet > 0 ? 1 : 0;
    job->deps_epoch = s->deps_epoch;
    job->deps_unmet = 0;
    for (size_t i = 0; i < spec->n_after; i++) {
        const Yard__Dependency *d = spec->after[i];
        Yard__JobState st;
        int rc = job_state (s, d->job_id, &st);
        if (rc == -ENOENT) {
            /* deleted from the history: it can never end as asked */
            st = YARD__JOB_STATE__JOB_CANCELLED;
            rc = 0;
        }
        if (rc < 0) {
            job->deps_epoch = 0; /* evaluate again next time */
            return rc;
        }
        switch (yard_dep_eval (d->condition, st)) {
        case YARD_DEP_MET: break;
        case YARD_DEP_WAIT:
            job->deps_unmet++;
            if (first_on_parent (spec, i)
                && (rc = yard_deps_add (s->deps, d->job_id, job->id)) < 0) {
                job->deps_epoch = 0;
                return rc;
            }
            break;
        case YARD_DEP_NEVER:
            job->deps_unmet++;
            if ((rc = doom (s, job, d->job_id, st)) < 0) {
                job->deps_epoch = 0;
                return rc;
            }
            break;
        }
    }
    return job->deps_unmet > 0 ? 1 : 0;
}

void
yard__deps_ended (yard_server_t *s, uint64_t id, Yard__JobState state)
{
    uint64_t *kids;
    size_t n = yard_deps_take (s->deps, id, &kids);
    for (size_t k = 0; k < n; k++) {
        yard_job_t *job = yard_queue_find (s->queue, kids[k]);
        if (!job || job->state != YARD__JOB_STATE__JOB_PENDING
            || job->deps_unmet == 0 || job->deps_epoch != s->deps_epoch)
            continue;
        bool doomed = false;
        for (size_t i = 0; i < job->spec->n_after; i++) {
            const Yard__Dependency *d = job->spec->after[i];
            if (d->job_id != id)
                continue;
            if (yard_dep_eval (d->condition, state) == YARD_DEP_MET) {
                if (job->deps_unmet > 0)
                    job->deps_unmet--;
            } else if (!doomed) {
                doomed = true;
                if (doom (s, job, id, state) < 0)
                    yard__fail (s, -ENOMEM);
            }
        }
        if (doomed || job->deps_unmet > 0)
            continue;
        log_info ("job %" PRIu64 ": dependencies met, queued", job->id);
        if (yard__job_enqueue (s, job) < 0)
            yard__fail (s, -ENOMEM);
        yard__parks_wake (s, job);
        s->need_dispatch = true;
    }
    free (kids);
    yard__deps_drain (s);
}

void
yard__deps_drain (yard_server_t *s)
{
    if (s->deps_draining)
        return; /* the outer call goes on with what we added */
    s->deps_draining = true;
    /* FIFO, so that a cascade cancels in order; the vector may grow (and
     * move) while a cancellation adds the job's own dependents */
    for (size_t i = 0; i < s->ndoomed && !s->batch_failed; i++) {
        yard__doomed_t d = s->doomed[i];
        yard_job_t *job = yard_queue_find (s->queue, d.job);
        if (!job || job->state != YARD__JOB_STATE__JOB_PENDING)
            continue;
        char text[160];
        snprintf (text, sizeof text, "dependency on job %" PRIu64 " can "
                  "never be met (%" PRIu64 " %s)", d.parent, d.parent,
                  yard_job_state_name (d.state));
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_CANCELLED,
                             YARD__END_REASON__END_CANCELLED, 0, 0, 0, text);
    }
    s->ndoomed = 0;
    s->deps_draining = false;
}

void
yard__deps_reset (yard_server_t *s)
{
    yard_deps_clear (s->deps);
    s->deps_epoch++;
    s->ndoomed = 0;
}

const char *
yard__deps_reason (yard_server_t *s, const yard_job_t *job, char *buf,
                   size_t len)
{
    if (job->array_held) {
        uint64_t aid;
        uint32_t idx;
        (void)yard_job_array_member (job->spec, &aid, &idx);
        uint32_t k = job->spec->array ? job->spec->array->max_running : 0;
        snprintf (buf, len, "waiting for a slot of array %" PRIu64 " (%u of "
                  "%u running)", aid, yard_deps_running (s->deps, aid), k);
        return buf;
    }
    if (job->deps_unmet == 0 || job->deps_epoch != s->deps_epoch)
        return NULL;
    for (size_t i = 0; i < job->spec->n_after; i++) {
        const Yard__Dependency *d = job->spec->after[i];
        const yard_job_t *p = yard_queue_find (s->queue, d->job_id);
        if (p) {
            snprintf (buf, len, "waiting for job %" PRIu64 " (%s)",
                      d->job_id, yard_job_state_name (p->state));
            return buf;
        }
    }
    snprintf (buf, len, "a dependency can never be met: being cancelled");
    return buf;
}

/* ---- arrays ---- */

/* The limit of job's array (0: none) and its id. */
static uint32_t
array_limit (const yard_job_t *job, uint64_t *aid)
{
    *aid = 0;
    const Yard__JobSpec *spec = job->spec;
    if (!spec || !spec->array || !spec->array->set
        || spec->array->max_running == 0)
        return 0;
    uint32_t idx;
    if (!yard_job_array_member (spec, aid, &idx))
        return 0;
    return spec->array->max_running;
}

void
yard__array_enter (yard_server_t *s, yard_job_t *job)
{
    uint64_t aid;
    if (job->array_counted || !array_limit (job, &aid))
        return;
    if (yard_deps_run_inc (s->deps, aid) < 0) {
        yard__fail (s, -ENOMEM);
        return;
    }
    job->array_counted = true;
}

void
yard__array_leave (yard_server_t *s, yard_job_t *job)
{
    uint64_t aid;
    if (!job->array_counted || !array_limit (job, &aid))
        return;
    job->array_counted = false;
    yard_deps_run_dec (s->deps, aid);
    uint64_t id;
    while ((id = yard_deps_unhold (s->deps, aid)) != 0) {
        yard_job_t *next = yard_queue_find (s->queue, id);
        if (!next || !next->array_held
            || next->state != YARD__JOB_STATE__JOB_PENDING)
            continue; /* cancelled (or requeued) since it was set aside */
        next->array_held = false;
        if (yard_queue_push (s->queue, next) < 0)
            yard__fail (s, -ENOMEM);
        s->need_dispatch = true;
        break;
    }
}

bool
yard__array_throttle (yard_server_t *s, yard_job_t *job)
{
    uint64_t aid;
    uint32_t k = array_limit (job, &aid);
    if (k == 0 || yard_deps_running (s->deps, aid) < k)
        return false;
    if (yard_deps_hold (s->deps, aid, job->id) < 0)
        return false; /* out of memory: let it run rather than lose it */
    job->array_held = true;
    return true;
}

void
yard__deps_place (yard_server_t *s, yard_job_t *job)
{
    job->array_counted = false;
    if (job->worker)
        yard__array_enter (s, job);
}

/* ---- listing ---- */

struct held {
    yard_server_t *s;
    yard_job_t **v;
    size_t n, cap;
};

static int
collect_held (yard_job_t *job, void *arg)
{
    struct held *h = arg;
    if (job->state != YARD__JOB_STATE__JOB_PENDING
        || job->heap_idx != YARD_JOB_NO_HEAP
        || yard_waitq_has (h->s->waitq, job))
        return 0;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        yard_job_t **v = realloc (h->v, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = job;
    return 0;
}

static int
cmp_id (const void *a, const void *b)
{
    uint64_t x = (*(yard_job_t *const *)a)->id;
    uint64_t y = (*(yard_job_t *const *)b)->id;
    return x < y ? -1 : x > y;
}

int
yard__deps_held (yard_server_t *s, yard_job_t ***v, size_t *n)
{
    /* a walk of the live jobs: a listing is O(jobs) anyway */
    struct held h = {s, *v, *n, *n};
    int rc = yard_queue_foreach (s->queue, collect_held, &h);
    if (h.n > *n)
        qsort (h.v + *n, h.n - *n, sizeof h.v[0], cmp_id);
    *v = h.v;
    *n = h.n;
    return rc < 0 ? rc : 0;
}

/* ---- array status and cancel ---- */

/* The number of members of the array whose first job is job; 0 when job
 * is not an array's first job. */
static uint32_t
array_size (const yard_job_t *job)
{
    uint64_t aid;
    uint32_t idx;
    if (!yard_job_array_member (job->spec, &aid, &idx) || aid != job->id)
        return 0;
    const Yard__ArraySpec *a = job->spec->array;
    uint32_t step = a->step ? a->step : 1;
    if (a->first > a->last)
        return 0;
    return (uint32_t)(((uint64_t)a->last - a->first) / step + 1);
}

void
yard__deps_info (yard_server_t *s, const yard_job_t *job,
                 Yard__JobInfo *info, uint64_t *counts)
{
    uint32_t n = array_size (job);
    if (n == 0)
        return;
    /* the members hold the ids job->id .. job->id + n - 1 (store_deps.h) */
    if (yard_store_count_states (s->store, job->id, job->id + n - 1, counts,
                                 YARD__ARRAY_NSTATES) < 0) {
        log_warn ("array %" PRIu64 ": cannot count its members: %s",
                  job->id, yard_store_errmsg (s->store));
        return;
    }
    info->array_states = counts;
    info->n_array_states = YARD__ARRAY_NSTATES;
}

void
yard__deps_cancel_array (yard_server_t *s, const yard_peer_t *peer,
                         yard_env_t *env)
{
    uint64_t aid = env->cancel->job_id;
    yard_job_t *job, *owned;
    int rc = yard__job_lookup (s, aid, &job, &owned);
    uint32_t n = rc == 0 ? array_size (job) : 0;
    yard_job_destroy (&owned);
    if (rc == -ENOENT || (rc == 0 && n == 0)) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                           "no array %" PRIu64 " (an array is named by its "
                           "first job)", aid);
        return;
    }
    if (rc < 0) {
        reply_fail (s, peer, env->request_id, rc);
        return;
    }
    size_t pending = 0, stopping = 0;
    for (uint64_t id = aid; id < aid + n && !s->batch_failed; id++) {
        yard_job_t *m = yard_queue_find (s->queue, id);
        if (!m || yard_job_state_is_terminal (m->state))
            continue;
        if (!yard_job_is_active (m)) {
            m->cancel_requested = true;
            (void)yard__job_end (s, m, YARD__JOB_STATE__JOB_CANCELLED,
                                 YARD__END_REASON__END_NONE, 0, 0, 0,
                                 "cancelled by user (the whole array)");
            pending++;
            continue;
        }
        if (!m->cancel_requested) {
            m->cancel_requested = true;
            if (yard__job_save (s, m) < 0)
                break;
            yard__parks_wake (s, m);
        }
        if (m->worker)
            (void)yard__send_kill (s, m->worker, m->id, m->attempt,
                                   YARD__END_REASON__END_CANCELLED,
                                   yard_job_grace (m));
        stopping++;
    }
    if (s->batch_failed) {
        reply_fail (s, peer, env->request_id, s->batch_failed);
        return;
    }
    log_info ("array %" PRIu64 ": cancel: %zu pending members cancelled, "
              "%zu being stopped", aid, pending, stopping);
    if ((rc = yard__job_lookup (s, aid, &job, &owned)) < 0) {
        reply_fail (s, peer, env->request_id, rc);
        return;
    }
    yard__reply_job (s, peer, env->request_id, job);
    yard_job_destroy (&owned);
}
