/* client.c - yard_client_t: the calls of libyard (see yard/yard.h).
 *
 * Each call builds its request envelope on the stack, hands it to the
 * transport (conn.c), checks that the reply is the message it expects, and
 * converts it into the public plain structs (types.c).  An ErrorReply
 * becomes its errno code and its text becomes the client's errmsg, so the
 * scheduler's advice reaches the user word for word.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "conn.h"
#include "msg.h"
#include "types.h"
#include "util.h"
#include "yard/yard.h"

/* Longest WaitRequest long poll: the protocol's own bound, short enough
 * that a lost poll (scheduler restart without a clean disconnect) costs
 * little. */
#define MAX_POLL_MS 30000u

/* A long poll answered sooner than this without news is a scheduler that
 * does not park requests; pause this long before asking again. */
#define MIN_POLL_GAP_MS 250

/* Largest errno value taken from an ErrorReply as it is. */
#define MAX_ERRNO 4095
#define YARD__ERRMSG_LEN 1024

struct yard_client {
    yard__conn_t *conn;
    int timeout_ms;
    uint32_t max_poll_ms;
    char errmsg[YARD__ERRMSG_LEN];
};

static int
fail (yard_client_t *c, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Record the failure's text and return -code. */
static int
fail (yard_client_t *c, int code, const char *fmt, ...)
{
    if (code < 0)
        code = -code;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end (ap);
    return -code;
}

yard_client_t *
yard_client_create (const char *endpoint)
{
    if (!endpoint || !*endpoint) {
        const char *env = getenv ("YARD_SCHEDULER");
        endpoint = env && *env ? env : YARD_DEFAULT_SCHEDULER;
    }
    yard_client_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->timeout_ms = YARD_DEFAULT_TIMEOUT_MS;
    c->max_poll_ms = MAX_POLL_MS;
    if (!(c->conn = yard__conn_create (endpoint)))
        goto error;
    return c;
error:
    yard_client_destroy (&c);
    return NULL;
}

void
yard_client_destroy (yard_client_t **c)
{
    if (!c || !*c)
        return;
    int saved = errno;
    yard__conn_destroy (&(*c)->conn);
    free (*c);
    *c = NULL;
    errno = saved;
}

int
yard_client_set_timeout (yard_client_t *c, int ms)
{
    if (!c || ms <= 0)
        return -EINVAL;
    c->timeout_ms = ms;
    return 0;
}

int
yard_client_timeout (const yard_client_t *c)
{
    return c ? c->timeout_ms : -EINVAL;
}

int
yard__client_set_max_poll (yard_client_t *c, uint32_t ms)
{
    if (!c || ms == 0 || ms > MAX_POLL_MS)
        return -EINVAL;
    c->max_poll_ms = ms;
    return 0;
}

const char *
yard_client_endpoint (const yard_client_t *c)
{
    return c ? yard__conn_endpoint (c->conn) : "";
}

const char *
yard_client_errmsg (const yard_client_t *c)
{
    return c ? c->errmsg : "no client";
}

/* The body's message, whatever its type: every member of the oneof union
 * is a pointer, so reading any of them reads the one that is set. */
static const void *
body_of (const yard_env_t *env)
{
    return env->error;
}

/* An ErrorReply's errno, its text in errmsg. */
static int
error_reply (yard_client_t *c, const yard_env_t *env)
{
    const Yard__ErrorReply *e = env->error;
    int code = e && e->code > 0 && e->code <= MAX_ERRNO ? e->code : EPROTO;
    if (e && e->message && *e->message)
        return fail (c, code, "%s", e->message);
    return fail (c, code, "the scheduler refused the request: %s",
                 strerror (code));
}

/* Send req and wait for a reply of type want.  extra_ms is added to the
 * client's timeout (the scheduler holds long polls that long).  Returns 0
 * with *reply set, or a negative errno with errmsg set. */
static int
call (yard_client_t *c, yard_env_t *req, Yard__Envelope__BodyCase want,
      int64_t extra_ms, int flags, yard_env_t **reply)
{
    yard_error_t err = { 0 };
    yard_env_t *env = NULL;

    *reply = NULL;
    int rc = yard__conn_request (c->conn, req, c->timeout_ms + extra_ms, flags,
                                 &env, &err);
    if (rc < 0)
        return fail (c, rc, "%s", err.text[0] ? err.text : strerror (-rc));
    if (env->body_case == YARD__ENVELOPE__BODY_ERROR) {
        rc = error_reply (c, env);
        yard_msg_free (&env);
        return rc;
    }
    if (env->body_case != want || !body_of (env)) {
        rc = fail (c, EBADMSG,
                   "the scheduler answered a '%s' request with '%s': are "
                   "yard and yard-scheduler the same version?",
                   yard_msg_type_name (req), yard_msg_type_name (env));
        yard_msg_free (&env);
        return rc;
    }
    *reply = env;
    return 0;
}

/* ---- submit ------------------------------------------------------------ */

static void
current_user (char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[4096];
    const char *u;
    if (getpwuid_r (getuid (), &pw, tmp, sizeof tmp, &res) == 0 && res
        && res->pw_name && *res->pw_name)
        snprintf (buf, len, "%s", res->pw_name);
    else if ((u = getenv ("USER")) && *u)
        snprintf (buf, len, "%s", u);
    else
        snprintf (buf, len, "%u", (unsigned)getuid ());
}

static int
check_spec (yard_client_t *c, const yard_job_spec_t *spec)
{
    if (spec->argc < 1 || !spec->argv || !spec->argv[0] || !*spec->argv[0])
        return fail (c, EINVAL, "the job has no command: give the program "
                                "to run and its arguments");
    for (size_t i = 1; i < spec->argc; i++)
        if (!spec->argv[i])
            return fail (c, EINVAL, "argument %zu of the command is NULL", i);
    if (spec->envc && !spec->env)
        return fail (c, EINVAL, "envc is %zu but env is NULL", spec->envc);
    for (size_t i = 0; i < spec->envc; i++) {
        const char *kv = spec->env[i];
        const char *eq = kv ? strchr (kv, '=') : NULL;
        if (!eq || eq == kv)
            return fail (c, EINVAL,
                         "invalid environment entry '%s': use KEY=VALUE",
                         kv ? kv : "(null)");
    }
    return 0;
}

/* Who submits, the same for every job of a call. */
struct submitter {
    char user[256];
    char host[256];
    char cwd[PATH_MAX]; /* "" when it was removed under us */
};

static void
submitter_init (struct submitter *w)
{
    current_user (w->user, sizeof w->user);
    if (gethostname (w->host, sizeof w->host) < 0)
        w->host[0] = '\0';
    w->host[sizeof w->host - 1] = '\0';
    if (!getcwd (w->cwd, sizeof w->cwd))
        w->cwd[0] = '\0'; /* the node uses its default */
}

/* A JobSpec message made from a yard_job_spec_t, and what it points to
 * that is its own (spec_free). */
struct spec_msg {
    Yard__JobSpec ps;
    Yard__ArraySpec array;
    Yard__Dependency *deps, **depp;
    Yard__EnvVar *vars, **varp;
    Yard__StageIn *stage, **stagep;
    char **keys;
    size_t nkeys;
    char *workdir;
};

static void
spec_free (struct spec_msg *m)
{
    free (m->depp);
    free (m->deps);
    if (m->keys)
        for (size_t i = 0; i < m->nkeys; i++)
            free (m->keys[i]);
    free (m->keys);
    free (m->varp);
    free (m->vars);
    free (m->stagep);
    free (m->stage);
    free (m->workdir);
    memset (m, 0, sizeof *m);
}

/* Check spec and make its message in *m (which borrows spec's strings and
 * w's): 0, or a negative errno with errmsg set and nothing to free. */
static int
spec_build (yard_client_t *c, const yard_job_spec_t *spec,
            const struct submitter *w, struct spec_msg *m)
{
    int rc;
    memset (m, 0, sizeof *m);
    if ((rc = check_spec (c, spec)) < 0)
        return rc;
    if (spec->n_after && !spec->after)
        return fail (c, EINVAL, "yard_submit: n_after without after");

    Yard__JobSpec *ps = &m->ps;
    yard__job_spec__init (ps);
    ps->name = (char *)(spec->name ? spec->name : "");
    ps->argv = (char **)spec->argv;
    ps->n_argv = spec->argc;
    ps->workdir = (char *)(spec->workdir ? spec->workdir : "");
    if (spec->workdir && *spec->workdir && spec->workdir[0] != '/'
        && w->cwd[0]) {
        /* a relative path means nothing on another machine */
        if (asprintf (&m->workdir, "%s/%s", w->cwd, spec->workdir) < 0) {
            m->workdir = NULL;
            goto nomem;
        }
        ps->workdir = m->workdir;
    }
    ps->cpus = spec->cpus;
    ps->gpus = spec->gpus;
    ps->memory_bytes = spec->memory_bytes;
    ps->time_limit_s = spec->time_limit_s;
    ps->priority = spec->priority;
    ps->grace_s = spec->grace_s;
    ps->retries = spec->retries;
    ps->retry_exit_codes = (int32_t *)spec->retry_exit_codes;
    ps->n_retry_exit_codes = spec->retry_exit_codes ? spec->n_retry_exit_codes
                                                    : 0;
    ps->retry_backoff_s = spec->retry_backoff_s;
    ps->stop_signal = spec->stop_signal;
    ps->warn_signal = spec->warn_signal;
    ps->warn_seconds = spec->warn_seconds;
    ps->requeue_on_timeout = spec->requeue_on_timeout;
    ps->preemptible = spec->preemptible;
    ps->nodes = spec->nodes;
    ps->tasks_per_node = spec->tasks_per_node;
    ps->gpus_per_task = spec->gpus_per_task;
    ps->gang_timeout_s = spec->gang_timeout_s;
    ps->constraints = (char **)spec->constraints;
    ps->n_constraints = spec->constraints ? spec->n_constraints : 0;
    ps->gpu_type = (char *)(spec->gpu_type ? spec->gpu_type : "");
    if (spec->n_stage_in && spec->stage_in) {
        m->stage = calloc (spec->n_stage_in, sizeof *m->stage);
        m->stagep = calloc (spec->n_stage_in, sizeof *m->stagep);
        if (!m->stage || !m->stagep)
            goto nomem;
        for (size_t i = 0; i < spec->n_stage_in; i++) {
            yard__stage_in__init (&m->stage[i]);
            m->stage[i].path = (char *)(spec->stage_in[i].path
                                            ? spec->stage_in[i].path : "");
            m->stage[i].digest = (char *)(spec->stage_in[i].digest
                                              ? spec->stage_in[i].digest
                                              : "");
            m->stagep[i] = &m->stage[i];
        }
        ps->stage_in = m->stagep;
        ps->n_stage_in = spec->n_stage_in;
    }
    ps->keep_checkpoints = spec->keep_checkpoints;
    ps->collect = (char **)spec->collect;
    ps->n_collect = spec->collect ? spec->n_collect : 0;
    ps->user = (char *)w->user;
    ps->submit_dir = (char *)w->cwd;
    ps->submit_host = (char *)w->host;
    if (spec->envc) {
        m->vars = calloc (spec->envc, sizeof *m->vars);
        m->varp = calloc (spec->envc, sizeof *m->varp);
        m->keys = calloc (spec->envc, sizeof *m->keys);
        if (!m->vars || !m->varp || !m->keys)
            goto nomem;
        for (size_t i = 0; i < spec->envc; i++) {
            const char *kv = spec->env[i];
            const char *eq = strchr (kv, '=');
            if (!(m->keys[i] = strndup (kv, (size_t)(eq - kv))))
                goto nomem;
            m->nkeys = i + 1;
            yard__env_var__init (&m->vars[i]);
            m->vars[i].key = m->keys[i];
            m->vars[i].value = (char *)(eq + 1);
            m->varp[i] = &m->vars[i];
        }
        ps->env = m->varp;
        ps->n_env = spec->envc;
    }

    if (spec->n_after) {
        m->deps = calloc (spec->n_after, sizeof *m->deps);
        m->depp = calloc (spec->n_after, sizeof *m->depp);
        if (!m->deps || !m->depp)
            goto nomem;
        for (size_t i = 0; i < spec->n_after; i++) {
            yard__dependency__init (&m->deps[i]);
            m->deps[i].job_id = spec->after[i].job_id;
            m->deps[i].condition =
                (Yard__Dependency__Condition)spec->after[i].condition;
            m->depp[i] = &m->deps[i];
        }
        ps->after = m->depp;
        ps->n_after = spec->n_after;
    }
    if (spec->array) {
        yard__array_spec__init (&m->array);
        m->array.set = true;
        m->array.first = spec->array_first;
        m->array.last = spec->array_last;
        m->array.step = spec->array_step;
        m->array.max_running = spec->array_max_running;
        ps->array = &m->array;
    }
    return 0;
nomem:
    spec_free (m);
    return fail (c, ENOMEM, "out of memory");
}

/* An array is written in one transaction: about 0.1 ms per member on top
 * of the usual timeout. */
static int64_t
spec_extra_ms (const yard_job_spec_t *spec)
{
    if (!spec->array || spec->array_last < spec->array_first)
        return 0;
    return (int64_t)(((uint64_t)spec->array_last - spec->array_first)
                     / (spec->array_step ? spec->array_step : 1) / 10);
}

static void
submit_env (struct spec_msg *m, Yard__SubmitRequest *sr, yard_env_t *req)
{
    yard__submit_request__init (sr);
    sr->spec = &m->ps;
    yard_env_t init = YARD__ENVELOPE__INIT;
    *req = init;
    req->body_case = YARD__ENVELOPE__BODY_SUBMIT;
    req->submit = sr;
}

/* Submit spec; *job_id the first job, *ids / *nids (when ids is not NULL)
 * every job made. */
static int
submit (yard_client_t *c, const yard_job_spec_t *spec, uint64_t *job_id,
        uint64_t **ids, size_t *nids)
{
    struct submitter w;
    struct spec_msg m;
    yard_env_t *reply = NULL;
    int rc;

    if (!c)
        return -EINVAL;
    if (!spec || !job_id)
        return fail (c, EINVAL, "yard_submit: spec and job_id are required");
    submitter_init (&w);
    if ((rc = spec_build (c, spec, &w, &m)) < 0)
        return rc;
    Yard__SubmitRequest sr;
    yard_env_t req;
    submit_env (&m, &sr, &req);
    /* not idempotent: never sent twice (see conn.c) */
    if ((rc = call (c, &req, YARD__ENVELOPE__BODY_SUBMIT_REPLY,
                    spec_extra_ms (spec), 0, &reply))
        < 0)
        goto out;
    if (reply->submit_reply->job_id == 0) {
        rc = fail (c, EBADMSG, "the scheduler accepted the job but gave no "
                               "job id");
        goto out;
    }
    *job_id = reply->submit_reply->job_id;
    if (ids) {
        const Yard__SubmitReply *r = reply->submit_reply;
        size_t n = r->n_job_ids ? r->n_job_ids : 1;
        if (!(*ids = malloc (n * sizeof **ids))) {
            rc = fail (c, ENOMEM, "out of memory (the job%s %s submitted)",
                       n > 1 ? "s" : "", n > 1 ? "were" : "was");
            goto out;
        }
        if (r->n_job_ids)
            memcpy (*ids, r->job_ids, n * sizeof **ids);
        else
            (*ids)[0] = r->job_id;
        *nids = n;
    }
    rc = 0;
out:
    spec_free (&m);
    yard_msg_free (&reply);
    return rc;
}

/* yard_submit_many: the answer to a job (errmsg says why not). */
static int
many_answer (yard_client_t *c, const yard_env_t *env, uint64_t *job_id)
{
    if (env->body_case == YARD__ENVELOPE__BODY_ERROR)
        return error_reply (c, env);
    if (env->body_case != YARD__ENVELOPE__BODY_SUBMIT_REPLY
        || !env->submit_reply || env->submit_reply->job_id == 0)
        return fail (c, EBADMSG, "the scheduler answered a submission with "
                                 "'%s': are yard and yard-scheduler the same "
                                 "version?", yard_msg_type_name (env));
    *job_id = env->submit_reply->job_id;
    return 0;
}

/* yard_submit_many: job r's outcome, its text copied (NULL when
 * committed, or out of memory). */
static void
many_set (yard_submitted_t *r, int error, const char *text)
{
    r->error = error;
    free (r->message);
    r->message = error < 0 && text ? strdup (text) : NULL;
}

#define MANY_WAITING INT_MIN /* yard_submit_many: sent, not answered */
/* yard_submit_many's requests in flight: the scheduler reads up to 512
 * messages into one commit.  (10,000 jobs: 32k jobs/s with 64 in flight,
 * 50-62k with 256, 62k with 512, on 2 cores; below the socket's queue of
 * 1,000, so a send does not find it full.) */
#define YARD_SUBMIT_WINDOW 512

int
yard_submit_many (yard_client_t *c, const yard_job_spec_t *specs, size_t n,
                  yard_submitted_t *out)
{
    if (!c)
        return -EINVAL;
    if (n > INT_MAX || (n && (!specs || !out)))
        return fail (c, EINVAL, "yard_submit_many: specs and out are "
                                "required, n at most INT_MAX");
    for (size_t i = 0; i < n; i++)
        out[i] = (yard_submitted_t){ .error = -ECANCELED }; /* until sent */
    struct submitter w;
    submitter_init (&w);
    uint64_t first = yard__conn_ids (c->conn, n ? n : 1);
    size_t sent = 0, open = 0, accepted = 0, refused = 0;
    int64_t extra_ms = 0;
    int rc = 0;
    yard_error_t err = { 0 };
    while (rc == 0 && (sent < n || open > 0)) {
        while (rc == 0 && sent < n && open < YARD_SUBMIT_WINDOW) {
            size_t i = sent++;
            struct spec_msg m;
            int e = spec_build (c, &specs[i], &w, &m);
            if (e < 0) {
                many_set (&out[i], e, c->errmsg);
                refused++;
                continue;
            }
            Yard__SubmitRequest sr;
            yard_env_t req;
            submit_env (&m, &sr, &req);
            rc = yard__conn_send (c->conn, &req, first + i, &err);
            spec_free (&m);
            if (rc == 0) {
                out[i].error = MANY_WAITING;
                open++;
                int64_t extra = spec_extra_ms (&specs[i]);
                if (extra > extra_ms)
                    extra_ms = extra;
            } else if (rc == -EAGAIN && open > 0) {
                /* the socket's queue is full: this one after some answers */
                sent--;
                rc = 0;
                break;
            } else if (rc == -EMSGSIZE) {
                /* too large to send: this job alone is refused */
                many_set (&out[i], rc, err.text);
                refused++;
                rc = 0;
            } else {
                many_set (&out[i], rc, err.text);
            }
        }
        if (rc < 0 || open == 0)
            break;
        yard_env_t *reply = NULL;
        rc = yard__conn_recv (c->conn, first, first + n - 1,
                              c->timeout_ms + extra_ms, &reply, &err);
        if (rc < 0)
            break;
        yard_submitted_t *r = &out[reply->request_id - first];
        if (r->error == MANY_WAITING) { /* else a second answer: dropped */
            open--;
            many_set (r, many_answer (c, reply, &r->job_id), c->errmsg);
            if (r->error == 0)
                accepted++;
            else
                refused++;
        }
        yard_msg_free (&reply);
    }
    size_t quoted = n; /* the first refusal, quoted in errmsg */
    for (size_t i = 0; i < n; i++) {
        if (out[i].error == MANY_WAITING) {
            /* the exchange failed: sent and not answered, it may or may
             * not be committed (it is never sent twice) */
            many_set (&out[i], rc, "sent, not answered: it may or may not "
                                   "have been committed");
        } else if (rc < 0 && out[i].error == -ECANCELED) {
            many_set (&out[i], -ECANCELED, "not sent: the exchange failed "
                                           "before");
        } else if (out[i].error < 0 && quoted == n) {
            quoted = i;
        }
    }
    if (rc < 0)
        (void)fail (c, -rc, "%s (%zu of %zu jobs acknowledged, %zu sent and "
                    "not answered)", err.text, accepted, n, open);
    else if (refused)
        (void)fail (c, -out[quoted].error, "%zu of %zu jobs refused; job %zu: "
                    "%s", refused, n, quoted, out[quoted].message
                    ? out[quoted].message : strerror (-out[quoted].error));
    return rc < 0 ? rc : (int)accepted;
}

void
yard_submitted_clear (yard_submitted_t *out, size_t n)
{
    for (size_t i = 0; out && i < n; i++) {
        free (out[i].message);
        out[i].message = NULL;
    }
}

int
yard_submit (yard_client_t *c, const yard_job_spec_t *spec, uint64_t *job_id)
{
    return submit (c, spec, job_id, NULL, NULL);
}

int
yard_submit_array (yard_client_t *c, const yard_job_spec_t *spec,
                   uint64_t **job_ids, size_t *count)
{
    uint64_t first;
    if (!c)
        return -EINVAL;
    if (!job_ids || !count)
        return fail (c, EINVAL, "yard_submit_array: job_ids and count are "
                                "required");
    *job_ids = NULL;
    *count = 0;
    return submit (c, spec, &first, job_ids, count);
}

/* ---- jobs -------------------------------------------------------------- */

/* A heap yard_job_t from a JobInfo reply about job_id. */
static int
job_from_reply (yard_client_t *c, const Yard__JobInfo *info, uint64_t job_id,
                yard_job_t **out)
{
    if (info->id != 0 && info->id != job_id)
        return fail (c, EBADMSG,
                     "the scheduler answered about job %llu instead of job "
                     "%llu", (unsigned long long)info->id,
                     (unsigned long long)job_id);
    yard_job_t *job = calloc (1, sizeof *job);
    if (!job || yard__job_from_proto (info, job) < 0) {
        free (job);
        return fail (c, ENOMEM, "out of memory");
    }
    if (job->id == 0)
        job->id = job_id;
    *out = job;
    return 0;
}

/* Send a request answered by JobInfo and convert the answer. */
static int
job_call (yard_client_t *c, yard_env_t *req, uint64_t job_id, int64_t extra_ms,
          yard_job_t **job)
{
    yard_env_t *reply = NULL;
    int rc = call (c, req, YARD__ENVELOPE__BODY_JOB_INFO, extra_ms,
                   YARD__CONN_IDEMPOTENT, &reply);
    if (rc < 0)
        return rc;
    rc = job_from_reply (c, reply->job_info, job_id, job);
    yard_msg_free (&reply);
    return rc;
}

int
yard_job_status (yard_client_t *c, uint64_t job_id, yard_job_t **job)
{
    if (!c)
        return -EINVAL;
    if (!job)
        return fail (c, EINVAL, "yard_job_status: job is required");
    *job = NULL;
    Yard__JobRequest jr = YARD__JOB_REQUEST__INIT;
    jr.job_id = job_id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_JOB_STATUS;
    req.job_status = &jr;
    return job_call (c, &req, job_id, 0, job);
}

int
yard_cancel (yard_client_t *c, uint64_t job_id, yard_job_t **job)
{
    if (!c)
        return -EINVAL;
    if (!job)
        return fail (c, EINVAL, "yard_cancel: job is required");
    *job = NULL;
    Yard__CancelRequest cr = YARD__CANCEL_REQUEST__INIT;
    cr.job_id = job_id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_CANCEL;
    req.cancel = &cr;
    /* idempotent: cancelling twice is cancelling once */
    return job_call (c, &req, job_id, 0, job);
}

int
yard_cancel_array (yard_client_t *c, uint64_t array_id, yard_job_t **job)
{
    if (!c)
        return -EINVAL;
    if (!job)
        return fail (c, EINVAL, "yard_cancel_array: job is required");
    *job = NULL;
    Yard__CancelRequest cr = YARD__CANCEL_REQUEST__INIT;
    cr.job_id = array_id;
    cr.array = true;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_CANCEL;
    req.cancel = &cr;
    /* idempotent, as yard_cancel; a large array takes the scheduler a few
     * seconds (one transaction) */
    return job_call (c, &req, array_id, 30000, job);
}

int
yard_requeue (yard_client_t *c, uint64_t job_id, yard_job_t **job)
{
    if (!c)
        return -EINVAL;
    if (!job)
        return fail (c, EINVAL, "yard_requeue: job is required");
    *job = NULL;
    Yard__RequeueRequest rr = YARD__REQUEUE_REQUEST__INIT;
    rr.job_id = job_id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_REQUEUE;
    req.requeue = &rr;
    /* idempotent: a second requeue of a PREEMPTING job changes nothing */
    return job_call (c, &req, job_id, 0, job);
}

int
yard_queue (yard_client_t *c, bool all, uint32_t limit, yard_job_t **jobs,
            size_t *count)
{
    yard_env_t *reply = NULL;
    yard_job_t *arr = NULL;
    size_t n = 0;
    int rc;

    if (!c)
        return -EINVAL;
    if (!jobs || !count)
        return fail (c, EINVAL, "yard_queue: jobs and count are required");
    *jobs = NULL;
    *count = 0;
    Yard__QueueRequest qr = YARD__QUEUE_REQUEST__INIT;
    qr.all = all;
    qr.limit = limit;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_QUEUE;
    req.queue = &qr;
    if ((rc = call (c, &req, YARD__ENVELOPE__BODY_QUEUE_REPLY, 0,
                    YARD__CONN_IDEMPOTENT, &reply)) < 0)
        return rc;
    const Yard__QueueReply *q = reply->queue_reply;
    if (q->n_jobs) {
        if (!(arr = calloc (q->n_jobs, sizeof *arr))) {
            rc = fail (c, ENOMEM, "out of memory");
            goto out;
        }
        for (n = 0; n < q->n_jobs; n++) {
            if (!q->jobs[n]) {
                rc = fail (c, EBADMSG, "the scheduler sent an empty job entry");
                goto out;
            }
            if (yard__job_from_proto (q->jobs[n], &arr[n]) < 0) {
                rc = fail (c, ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    *jobs = arr;
    *count = n;
    arr = NULL;
    rc = 0;
out:
    yard_jobs_free (&arr, n);
    yard_msg_free (&reply);
    return rc;
}

/* Sleep ms milliseconds (an interruption only shortens the pause). */
static void
nap (int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

int
yard_wait (yard_client_t *c, uint64_t job_id, int64_t timeout_ms,
           yard_job_t **out)
{
    yard_job_t *job = NULL;
    int rc;

    if (!c)
        return -EINVAL;
    if (!out)
        return fail (c, EINVAL, "yard_wait: job is required");
    *out = NULL;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : yard_mono_ms () + timeout_ms;

    /* The first question uses the plain timeout: a scheduler that is not
     * there at all is reported at once, not after a long poll. */
    if ((rc = yard_job_status (c, job_id, &job)) < 0)
        return rc;
    while (!yard_job_state_finished (job->state)) {
        int64_t now = yard_mono_ms ();
        if (now >= deadline)
            break;
        int64_t poll = deadline - now;
        if (poll > (int64_t)c->max_poll_ms)
            poll = c->max_poll_ms;
        Yard__WaitRequest wr = YARD__WAIT_REQUEST__INIT;
        wr.job_id = job_id;
        wr.timeout_ms = (uint32_t)poll;
        yard_env_t req = YARD__ENVELOPE__INIT;
        req.body_case = YARD__ENVELOPE__BODY_WAIT_JOB;
        req.wait_job = &wr;
        yard_job_t *next = NULL;
        rc = job_call (c, &req, job_id, poll, &next);
        if (rc == -ETIMEDOUT)
            continue; /* scheduler restarting: the socket is new, ask again */
        if (rc < 0) {
            yard_job_free (&job);
            return rc;
        }
        yard_job_free (&job);
        job = next;
        int64_t took = yard_mono_ms () - now;
        if (!yard_job_state_finished (job->state) && took < MIN_POLL_GAP_MS) {
            int64_t left = deadline - yard_mono_ms ();
            nap (left < MIN_POLL_GAP_MS ? left : MIN_POLL_GAP_MS);
        }
    }
    *out = job;
    return 0;
}

/* ---- nodes ------------------------------------------------------------- */

int
yard_nodes (yard_client_t *c, yard_node_t **nodes, size_t *count)
{
    yard_env_t *reply = NULL;
    yard_node_t *arr = NULL;
    size_t n = 0;
    int rc;

    if (!c)
        return -EINVAL;
    if (!nodes || !count)
        return fail (c, EINVAL, "yard_nodes: nodes and count are required");
    *nodes = NULL;
    *count = 0;
    Yard__NodesRequest nr = YARD__NODES_REQUEST__INIT;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_NODES;
    req.nodes = &nr;
    if ((rc = call (c, &req, YARD__ENVELOPE__BODY_NODES_REPLY, 0,
                    YARD__CONN_IDEMPOTENT, &reply)) < 0)
        return rc;
    const Yard__NodesReply *r = reply->nodes_reply;
    if (r->n_nodes) {
        if (!(arr = calloc (r->n_nodes, sizeof *arr))) {
            rc = fail (c, ENOMEM, "out of memory");
            goto out;
        }
        for (n = 0; n < r->n_nodes; n++) {
            if (!r->nodes[n]) {
                rc = fail (c, EBADMSG, "the scheduler sent an empty node entry");
                goto out;
            }
            if (yard__node_from_proto (r->nodes[n], &arr[n]) < 0) {
                rc = fail (c, ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    *nodes = arr;
    *count = n;
    arr = NULL;
    rc = 0;
out:
    yard_nodes_free (&arr, n);
    yard_msg_free (&reply);
    return rc;
}

/* ---- logs -------------------------------------------------------------- */

int
yard_logs_read (yard_client_t *c, uint64_t job_id, uint32_t attempt,
                uint64_t offset, uint32_t max_bytes, uint32_t wait_ms,
                yard_logs_t **logs)
{
    yard_env_t *reply = NULL;
    int rc;

    if (!c)
        return -EINVAL;
    if (!logs)
        return fail (c, EINVAL, "yard_logs_read: logs is required");
    *logs = NULL;
    Yard__LogsRequest lr = YARD__LOGS_REQUEST__INIT;
    lr.job_id = job_id;
    lr.attempt = attempt;
    lr.offset = offset;
    lr.max_bytes = max_bytes;
    lr.wait_ms = wait_ms;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_LOGS;
    req.logs = &lr;
    if ((rc = call (c, &req, YARD__ENVELOPE__BODY_LOGS_REPLY, wait_ms,
                    YARD__CONN_IDEMPOTENT, &reply)) < 0)
        return rc;
    const Yard__LogsReply *r = reply->logs_reply;
    if (r->job_id != 0 && r->job_id != job_id)
        rc = fail (c, EBADMSG,
                   "the scheduler sent the log of job %llu instead of job %llu",
                   (unsigned long long)r->job_id, (unsigned long long)job_id);
    else if (yard__logs_from_proto (r, logs) < 0)
        rc = fail (c, ENOMEM, "out of memory");
    else if ((*logs)->job_id == 0)
        (*logs)->job_id = job_id;
    yard_msg_free (&reply);
    return rc;
}

/* For the calls that live in their own file (metrics.c). */
int
yard__client_call (yard_client_t *c, yard_env_t *req, int want,
                   yard_env_t **reply)
{
    return call (c, req, (Yard__Envelope__BodyCase)want, 0,
                 YARD__CONN_IDEMPOTENT, reply);
}

int
yard__client_fail (yard_client_t *c, int code, const char *msg)
{
    return fail (c, code, "%s", msg);
}
