/* server_retry.c - what happens between attempts: the attempt history,
 * retries with backoff, requeue (preemption by a user) and the waitq of
 * jobs backing off.  Part of the scheduler core (see server_int.h).
 *
 * Every attempt has a row in the attempts table (store_attempts.h): begun
 * when it is dispatched (yard__job_save of an active job), ended by
 * yard__job_end or by a requeue.  Both writes are in the batch
 * transaction, so the history is exactly as durable as the job.
 *
 * A job that failed and has a retry left goes back to PENDING with
 * eligible_ms in the future and waits in the waitq, not in the pending
 * heap: the dispatch pass never looks at it, and the cron moves it to the
 * heap when its time comes.
 */
#include "server_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "retry.h"
#include "server_place.h"
#include "store_attempts.h"
#include "utf8.h"
#include "util.h"

/* ---- attempt history ---- */

/* The row is written when the attempt is dispatched, with its PUs and
 * GPUs (yard_store_attempt_dispatch: no job_alloc row of its own).  Its
 * start is not written when the job starts: the job's row holds it (the
 * one write a JobStarted costs).  An attempt that ends and leaves its
 * job to go on (a retry, a requeue) gets its start and end written into
 * its row (yard__attempt_end).  The attempt that ends with its job does
 * not: the job's row, written then anyway, holds the same start, end,
 * reason and exit (yard__job_end), so that row stays as the dispatch
 * left it, and yard__attempts_fill shows both a running attempt and a
 * finished job's last one from the job.  A gang job's rank 0 reads its
 * attempt's row while it starts (server_gang.c), so a gang's rows are
 * written at every change before the end. */
int
yard__attempt_begin (yard_server_t *s, yard_job_t *job)
{
    if (job->attempt == 0)
        return 0;
    bool gang = yard_job_is_gang (job);
    int rc;
    if (job->state == YARD__JOB_STATE__JOB_ASSIGNED && !gang)
        rc = yard_store_attempt_dispatch (
            s->store, job->id, job->attempt, job->node,
            yard_job_ahead_alloc (job) ? yard_job_ahead_alloc (job)
                                       : yard__place_of (job));
    else if (gang)
        rc = yard_store_attempt_begin (s->store, job->id, job->attempt,
                                       job->node, job->start_ms);
    else
        return 0; /* the row exists since the dispatch */
    if (rc < 0) {
        log_err ("cannot write attempt %u of job %" PRIu64 ": %s",
                 job->attempt, job->id, yard_store_errmsg (s->store));
        return yard__fail (s, rc);
    }
    return 0;
}

int
yard__attempt_end (yard_server_t *s, yard_job_t *job, Yard__EndReason why,
                   int32_t exit_code, int32_t signo, int64_t end_ms,
                   const char *reason, bool counted, int64_t eligible_ms)
{
    if (job->attempt == 0)
        return 0;
    yard_store_attempt_t row = {
        .attempt = job->attempt,
        .node = job->node,
        .start_ms = job->start_ms,
        .end_ms = end_ms > 0 ? end_ms : yard_now_ms (),
        .end_reason = why,
        .exit_code = exit_code,
        .term_signal = signo,
        .reason = reason,
        .counted = counted,
        .eligible_ms = eligible_ms,
    };
    yard__mark_dirty (s, job);
    int rc = yard_store_attempt_end (s->store, job->id, &row);
    if (rc < 0) {
        log_err ("cannot write the end of attempt %u of job %" PRIu64 ": %s",
                 job->attempt, job->id, yard_store_errmsg (s->store));
        return yard__fail (s, rc);
    }
    return 0;
}

/* The attempts of a JobInfo: one allocation for the array of pointers,
 * the messages and their strings' copies. */
struct att_fill {
    Yard__AttemptInfo **v;
    size_t n, cap;
    int err;
    const Yard__JobInfo *ended; /* a finished job: its last attempt's end */
};

static int
collect_attempt (const yard_store_attempt_t *row, void *arg)
{
    struct att_fill *f = arg;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        Yard__AttemptInfo **v = realloc (f->v, cap * sizeof v[0]);
        if (!v)
            return f->err = -ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    /* the last attempt of a finished job: its end is the job's */
    const Yard__JobInfo *j = f->ended;
    yard_store_attempt_t r = *row;
    if (j && r.attempt == j->attempt && r.end_ms == 0) {
        if (r.start_ms == 0)
            r.start_ms = j->start_time_ms;
        r.end_ms = j->end_time_ms;
        r.end_reason = j->end_reason;
        r.exit_code = j->exit_code;
        r.term_signal = j->term_signal;
        r.reason = j->reason;
    }
    row = &r;
    size_t nl = strlen (row->node ? row->node : "") + 1;
    size_t rl = strlen (row->reason ? row->reason : "") + 1;
    Yard__AttemptInfo *a = malloc (sizeof *a + nl + rl);
    if (!a)
        return f->err = -ENOMEM;
    yard__attempt_info__init (a);
    char *p = (char *)(a + 1);
    memcpy (p, row->node ? row->node : "", nl);
    memcpy (p + nl, row->reason ? row->reason : "", rl);
    a->attempt = row->attempt;
    a->node = p;
    a->start_time_ms = row->start_ms;
    a->end_time_ms = row->end_ms;
    a->end_reason = row->end_reason;
    a->exit_code = row->exit_code;
    a->term_signal = row->term_signal;
    a->reason = (char *)yard_utf8_sanitize (p + nl);
    f->v[f->n++] = a;
    return 0;
}

int
yard__attempts_fill (yard_server_t *s, Yard__JobInfo *info)
{
    struct att_fill f = {0};
    if (yard_job_state_is_terminal (info->state))
        f.ended = info;
    int rc = yard_store_attempts (s->store, info->id, collect_attempt, &f);
    if (rc < 0 || f.err < 0) {
        info->attempts = f.v;
        info->n_attempts = f.n;
        yard__attempts_free (info);
        return rc < 0 ? rc : f.err;
    }
    info->attempts = f.v;
    info->n_attempts = f.n;
    /* a running attempt's start is in the job's row (yard__attempt_begin) */
    Yard__AttemptInfo *last = f.n ? f.v[f.n - 1] : NULL;
    if (last && last->attempt == info->attempt && last->start_time_ms == 0
        && last->end_time_ms == 0)
        last->start_time_ms = info->start_time_ms;
    if ((rc = yard__usage_fill (s, info)) < 0) {
        yard__attempts_free (info);
        return rc;
    }
    if ((rc = yard__outputs_fill (s, info)) < 0) /* server_outputs.c */
        log_warn ("job %" PRIu64 ": cannot read its outputs: %s", info->id,
                  strerror (-rc));
    return 0;
}

void
yard__attempts_free (Yard__JobInfo *info)
{
    yard__usage_free (info);
    for (size_t i = 0; i < info->n_attempts; i++) {
        yard__outputs_free (info->attempts[i]);
        free (info->attempts[i]);
    }
    free (info->attempts);
    info->attempts = NULL;
    info->n_attempts = 0;
}

/* ---- waitq ---- */

int
yard__job_enqueue (yard_server_t *s, yard_job_t *job)
{
    int held = yard__deps_hold (s, job);
    if (held != 0)
        return held < 0 ? held : 0; /* released by its parents' end */
    if (job->eligible_ms > yard_now_ms ())
        return yard_waitq_push (s->waitq, job);
    return yard_queue_push (s->queue, job);
}

void
yard__waitq_release (yard_server_t *s)
{
    int64_t now = yard_now_ms ();
    yard_job_t *job;
    while ((job = yard_waitq_pop_due (s->waitq, now))) {
        if (yard_queue_push (s->queue, job) < 0) {
            /* keep it waiting rather than lose it: the next tick retries */
            (void)yard_waitq_push (s->waitq, job);
            break;
        }
        log_debug ("job %" PRIu64 ": backoff over, queued", job->id);
        s->need_dispatch = true;
    }
}

const char *
yard__waiting_reason (const yard_job_t *job, char *buf, size_t len)
{
    char d[32];
    int64_t left = job->eligible_ms - yard_now_ms ();
    snprintf (buf, len, "%.300s%seligible in %s",
              job->reason ? job->reason : "",
              job->reason && *job->reason ? ", " : "",
              yard_format_duration (left > 0 ? left : 0, d, sizeof d));
    return yard_utf8_sanitize (buf);
}

/* ---- the end of an attempt ---- */

/* How the attempt ended, in words, for its history. */
static const char *
end_text (const yard_job_t *job, const Yard__JobFinished *f, char *buf,
          size_t len)
{
    const char *msg = f->message && *f->message ? f->message : NULL;
    char what[128];
    switch (f->reason) {
    case YARD__END_REASON__END_EXITED:
        snprintf (what, sizeof what, "exited with status %d", f->exit_code);
        break;
    case YARD__END_REASON__END_SIGNALED:
        snprintf (what, sizeof what, "killed by signal %d", f->term_signal);
        break;
    case YARD__END_REASON__END_SPAWN_FAILED:
        snprintf (what, sizeof what, "could not start");
        break;
    case YARD__END_REASON__END_OOM:
        snprintf (what, sizeof what, "out of memory");
        break;
    case YARD__END_REASON__END_PREEMPTED:
        /* job->reason: set when the preemption was decided */
        snprintf (what, sizeof what, "%.120s",
                  job->reason && *job->reason ? job->reason : "preempted");
        msg = NULL;
        break;
    case YARD__END_REASON__END_TIMEOUT:
        snprintf (what, sizeof what, "timeout, requeued");
        msg = NULL;
        break;
    case YARD__END_REASON__END_RETURNED:
        snprintf (what, sizeof what, "given back unstarted by %.100s",
                  job->node ? job->node : "its node");
        break;
    default:
        snprintf (what, sizeof what, "%s",
                  yard_end_reason_name (f->reason));
        break;
    }
    if (msg)
        snprintf (buf, len, "%s: %.300s", what, msg);
    else
        snprintf (buf, len, "%s", what);
    return yard_utf8_sanitize (buf);
}

bool
yard__finish_retry (yard_server_t *s, yard_job_t *job,
                    const Yard__JobFinished *f)
{
    yard_retry_verdict_t v
        = yard_retry_decide (job->spec, job->retries_used,
                             job->cancel_requested, f->reason, f->exit_code);
    /* END_LOST keeps its old path (yard__job_requeue: lost_count) */
    if (v == YARD_RETRY_NO || f->reason == YARD__END_REASON__END_LOST)
        return false;
    char hist[512], why[512];
    end_text (job, f, hist, sizeof hist);
    if (job->start_ms == 0 && f->start_time_ms > 0)
        job->start_ms = f->start_time_ms;
    if (v == YARD_RETRY_FREE) {
        snprintf (why, sizeof why, "%s", hist);
        (void)yard__job_requeue_at (s, job, why, f->reason, f->exit_code,
                                    f->term_signal, f->end_time_ms, hist,
                                    false, 0);
        return true;
    }
    int64_t backoff = yard_retry_backoff_ms (job->spec, job->retries_used);
    int64_t eligible = yard_now_ms () + backoff;
    uint32_t n = job->retries_used + 1;
    bool listed = f->reason == YARD__END_REASON__END_EXITED
                  && yard_retry_exit_listed (job->spec, f->exit_code);
    char after[64];
    if (f->reason == YARD__END_REASON__END_EXITED)
        snprintf (after, sizeof after, "exit %d", f->exit_code);
    else if (f->reason == YARD__END_REASON__END_SIGNALED)
        snprintf (after, sizeof after, "signal %d", f->term_signal);
    else
        snprintf (after, sizeof after, "%s",
                  f->reason == YARD__END_REASON__END_OOM ? "out of memory"
                                                         : "spawn failure");
    if (listed)
        snprintf (why, sizeof why, "retry %u after %s (a retry exit code)",
                  n, after);
    else
        snprintf (why, sizeof why, "retry %u/%u after %s", n,
                  job->spec ? job->spec->retries : 0, after);
    job->retries_used = n;
    (void)yard__job_requeue_at (s, job, why, f->reason, f->exit_code,
                                f->term_signal, f->end_time_ms, hist, true,
                                eligible);
    log_info ("job %" PRIu64 ": %s, eligible in %" PRId64 " ms", job->id,
              why, backoff);
    return true;
}

/* ---- requeue (client) ---- */

int
yard__job_preempt (yard_server_t *s, yard_job_t *job, const char *why)
{
    if (job->state == YARD__JOB_STATE__JOB_PREEMPTING)
        return 0;
    job->state = YARD__JOB_STATE__JOB_PREEMPTING;
    /* the reason of an active job is free: it says why it is stopping,
     * and becomes the attempt's end in its history */
    if (yard_job_set_reason (job, "%s", why ? why : "preempted") < 0)
        return yard__fail (s, -ENOMEM);
    int rc = yard__job_save (s, job);
    if (rc < 0)
        return rc;
    log_info ("job %" PRIu64 " attempt %u PREEMPTING (%s)", job->id,
              job->attempt, why ? why : "requeue requested");
    /* the PUs it frees are for another job: its successor goes back,
     * told first, so that the worker never starts it on those PUs (the
     * messages to one worker arrive in order; the job's end may not wait
     * for the next one) */
    yard__ahead_preempt (s, job);
    if (job->worker)
        (void)yard__send_kill (s, job->worker, job->id, job->attempt,
                               YARD__END_REASON__END_PREEMPTED,
                               yard_job_grace (job));
    if (job->parks)
        yard__parks_wake (s, job);
    return s->batch_failed;
}

void
yard__on_requeue (yard_server_t *s, const yard_peer_t *peer,
                  yard_node_t *node, yard_env_t *env)
{
    (void)node;
    Yard__RequeueRequest *req = env->requeue;
    if (!req) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "requeue request has no body");
        return;
    }
    yard_job_t *job, *owned;
    int rc = yard__job_lookup (s, req->job_id, &job, &owned);
    if (rc == -ENOENT) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                           "no job %" PRIu64, req->job_id);
        return;
    }
    if (rc < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EIO,
                           "cannot read job %" PRIu64 " from the state "
                           "store (%s)", req->job_id, strerror (-rc));
        return;
    }
    if (owned || yard_job_state_is_terminal (job->state)) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "job %" PRIu64 " is %s: nothing to requeue",
                           job->id, yard_job_state_name (job->state));
        yard_job_destroy (&owned);
        return;
    }
    if (job->cancel_requested) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "job %" PRIu64 " is being cancelled: nothing to "
                           "requeue", job->id);
        return;
    }
    /* PENDING: nothing to do, the reply says so (state PENDING);
     * PREEMPTING: already on its way back */
    if (yard_job_is_active (job)
        && yard__job_preempt (s, job, NULL) < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id,
                           -s->batch_failed == ENOSPC ? ENOSPC : EIO,
                           "the state store failed (%s): nothing was "
                           "changed; see the scheduler log",
                           strerror (-s->batch_failed));
        return;
    }
    yard__reply_job (s, peer, env->request_id, job);
}
