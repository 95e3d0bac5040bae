/* cli_watch.c - `yard watch JOB` (see cli_watch.h).
 *
 * Each update is the job's status (state, attempt, node, the latest point
 * of each metric key and the attempt's resource use: one JobRequest).  An
 * update is printed when something other than the elapsed time changed;
 * on a terminal the view is redrawn in place at every refresh instead.
 * Between updates the watch waits on the scheduler, not on a clock: for a
 * pushed event about the job (yard_events_*: each state change shows at
 * once), or, from a scheduler without events, a long poll (WaitRequest)
 * that returns as soon as the job ends; the refresh interval bounds how
 * stale metrics and resource use may get, since they change without an
 * event.
 */
#include "cli_watch.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_commands.h"
#include "cli_render.h"
#include "cli_usage.h"
#include "util.h"

/* The rate is measured from a reference point at most this old (then the
 * reference moves up to the previous point): recent speed, not the mean
 * since the watch began. */
#define RATE_WINDOW_MS 60000

static const struct yard_metric *
latest (const yard_job_t *job, const char *key)
{
    for (size_t i = 0; i < job->n_latest_metrics; i++)
        if (strcmp (job->latest_metrics[i].key, key) == 0)
            return &job->latest_metrics[i];
    return NULL;
}

void
cli_watch_view (const yard_job_t *job, int64_t now_ms,
                struct cli_watch_rate *r, struct cli_watch_view *v)
{
    memset (v, 0, sizeof *v);
    int64_t from = job->start_time_ms > 0 ? job->start_time_ms
                                          : job->submit_time_ms;
    int64_t to = job->end_time_ms > 0 && yard_job_state_finished (job->state)
                     ? job->end_time_ms
                     : now_ms;
    v->elapsed_ms = from > 0 && to > from ? to - from : 0;
    for (size_t i = 0; i < job->n_latest_metrics; i++) {
        const struct yard_metric *m = &job->latest_metrics[i];
        if (strcmp (m->key, "total_steps") == 0)
            continue;
        if (!v->has_step || m->step > v->step
            || (m->step == v->step && m->time_ms > v->step_time_ms)) {
            v->has_step = true;
            v->step = m->step;
            v->step_time_ms = m->time_ms;
        }
    }
    const struct yard_metric *t = latest (job, "total_steps");
    if (t && t->value >= 1 && t->value < 9.0e18) {
        v->has_total = true;
        v->total_steps = (int64_t)t->value;
    }
    if (r->attempt != job->attempt) {
        memset (r, 0, sizeof *r);
        r->attempt = job->attempt;
    }
    if (v->has_step) {
        if (!r->has_ref) {
            r->has_ref = true;
            r->ref_step = r->last_step = v->step;
            r->ref_ms = r->last_ms = v->step_time_ms;
        } else if (v->step_time_ms > r->last_ms && v->step >= r->last_step) {
            if (v->step_time_ms - r->ref_ms > RATE_WINDOW_MS) {
                r->ref_step = r->last_step;
                r->ref_ms = r->last_ms;
            }
            r->last_step = v->step;
            r->last_ms = v->step_time_ms;
            if (r->last_ms > r->ref_ms && r->last_step > r->ref_step) {
                r->has_rate = true;
                r->rate = (double)(r->last_step - r->ref_step) * 1000.0
                          / (double)(r->last_ms - r->ref_ms);
            }
        }
    }
    if (r->has_rate && !yard_job_state_finished (job->state)) {
        v->has_rate = true;
        v->steps_per_s = r->rate;
        if (v->has_total && v->has_step && r->rate > 0) {
            int64_t left = v->total_steps > v->step
                               ? v->total_steps - v->step
                               : 0;
            v->has_eta = true;
            v->eta_ms = (int64_t)((double)left * 1000.0 / r->rate);
        }
    }
}

static size_t
add (char *buf, size_t len, size_t n, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static size_t
add (char *buf, size_t len, size_t n, const char *fmt, ...)
{
    if (n >= len)
        return n;
    va_list ap;
    va_start (ap, fmt);
    int k = vsnprintf (buf + n, len - n, fmt, ap);
    va_end (ap);
    return k < 0 ? n : n + (size_t)k;
}

const char *
cli_watch_line (const yard_job_t *job, const struct cli_watch_view *v,
                bool with_elapsed, char *buf, size_t len)
{
    char d[32], u[256];
    size_t n = 0;
    buf[0] = '\0';
    n = add (buf, len, n, "job %" PRIu64 " %s", job->id,
             yard_job_state_str (job->state));
    if (job->attempt)
        n = add (buf, len, n, " attempt %u", job->attempt);
    if (*job->node)
        n = add (buf, len, n, " on %s", job->node);
    if (with_elapsed)
        n = add (buf, len, n, " elapsed %s",
                 yard_format_duration (v->elapsed_ms, d, sizeof d));
    if (v->has_step) {
        n = add (buf, len, n, " step %" PRId64, v->step);
        if (v->has_total)
            n = add (buf, len, n, "/%" PRId64, v->total_steps);
    }
    if (v->has_rate)
        n = add (buf, len, n, " %.3g steps/s", v->steps_per_s);
    if (v->has_eta)
        n = add (buf, len, n, " eta %s",
                 yard_format_duration (v->eta_ms, d, sizeof d));
    for (size_t i = 0; i < job->n_latest_metrics; i++) {
        const struct yard_metric *m = &job->latest_metrics[i];
        if (strcmp (m->key, "total_steps") != 0)
            n = add (buf, len, n, " %s=%.6g", m->key, m->value);
    }
    if (cli_usage_any (&job->usage))
        n = add (buf, len, n, "  %s",
                 cli_usage_line (&job->usage, u, sizeof u));
    if (yard_job_state_finished (job->state) && *job->reason)
        n = add (buf, len, n, " (%s)", job->reason);
    return buf;
}

static bool
set (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

json_t *
cli_latest_json (const yard_job_t *job)
{
    json_t *m = json_object ();
    for (size_t i = 0; m && i < job->n_latest_metrics; i++)
        if (!set (m, job->latest_metrics[i].key,
                  json_real (job->latest_metrics[i].value))) {
            json_decref (m);
            return NULL;
        }
    return m;
}

json_t *
cli_watch_json (const yard_job_t *job, const struct cli_watch_view *v,
                int64_t now_ms)
{
    json_t *o = json_object ();
    bool ok = o && set (o, "metrics", cli_latest_json (job));
    ok = ok && set (o, "id", json_integer ((json_int_t)job->id))
         && set (o, "name", cli_json_string (job->name, strlen (job->name)))
         && set (o, "state", json_string (yard_job_state_str (job->state)))
         && set (o, "attempt", json_integer (job->attempt))
         && set (o, "node", cli_json_string (job->node, strlen (job->node)))
         && set (o, "time_ms", json_integer (now_ms))
         && set (o, "elapsed_ms", json_integer (v->elapsed_ms))
         && set (o, "step", v->has_step ? json_integer (v->step)
                                        : json_null ())
         && set (o, "total_steps", v->has_total
                                       ? json_integer (v->total_steps)
                                       : json_null ())
         && set (o, "steps_per_s", v->has_rate ? json_real (v->steps_per_s)
                                               : json_null ())
         && set (o, "eta_s", v->has_eta
                                 ? json_real ((double)v->eta_ms / 1000.0)
                                 : json_null ())
         && set (o, "usage", cli_usage_json (&job->usage))
         && set (o, "reason",
                 cli_json_string (job->reason, strlen (job->reason)));
    if (ok && yard_job_state_finished (job->state))
        ok = set (o, "exit_code", json_integer (job->exit_code))
             && set (o, "end_reason",
                     json_string (yard_end_reason_str (job->end_reason)));
    if (!ok) {
        json_decref (o);
        return NULL;
    }
    return o;
}

/* The terminal view: a few lines, redrawn in place. */
static void
draw (FILE *out, const yard_job_t *job, const struct cli_watch_view *v,
      int64_t interval_ms)
{
    char d[32], u[256];
    fputs ("\033[H\033[J", out);
    fprintf (out, "job %" PRIu64 " (%s)  %s", job->id, job->name,
             yard_job_state_str (job->state));
    if (job->attempt)
        fprintf (out, "  attempt %u", job->attempt);
    if (*job->node)
        fprintf (out, " on %s", job->node);
    fprintf (out, "  elapsed %s\n",
             yard_format_duration (v->elapsed_ms, d, sizeof d));
    if (v->has_step) {
        fprintf (out, "step %" PRId64, v->step);
        if (v->has_total)
            fprintf (out, " of %" PRId64 " (%.1f%%)", v->total_steps,
                     100.0 * (double)v->step / (double)v->total_steps);
        if (v->has_rate)
            fprintf (out, "  %.3g steps/s", v->steps_per_s);
        if (v->has_eta)
            fprintf (out, "  ETA %s",
                     yard_format_duration (v->eta_ms, d, sizeof d));
        fputc ('\n', out);
    }
    for (size_t i = 0; i < job->n_latest_metrics; i++) {
        const struct yard_metric *m = &job->latest_metrics[i];
        if (strcmp (m->key, "total_steps") != 0)
            fprintf (out, "  %-20s %.6g  (step %" PRId64 ")\n", m->key,
                     m->value, m->step);
    }
    fprintf (out, "use: %s\n", cli_usage_line (&job->usage, u, sizeof u));
    if (*job->reason)
        fprintf (out, "%s\n", job->reason);
    if (!yard_job_state_finished (job->state))
        fprintf (out, "\n(refresh every %s; Ctrl-C to stop watching)\n",
                 yard_format_duration (interval_ms, d, sizeof d));
    fflush (out);
}

/* Wait up to ms for a change of the job: an event when subscribed, else a
 * long poll that ends early when the job ends.  0 or a negative errno. */
static int
wait_change (yard_client_t *c, yard_events_t *ev, uint64_t job_id,
             int64_t ms)
{
    if (ev) {
        yard_event_t e;
        int rc = yard_events_next (ev, (int)ms, &e);
        return rc == -ETIMEDOUT ? 0 : rc;
    }
    yard_job_t *j = NULL;
    int rc = yard_wait (c, job_id, ms, &j);
    yard_job_free (&j);
    return rc;
}

int
cli_watch_run (yard_client_t *c, const struct cli_watch *w, bool json,
               FILE *out, FILE *err)
{
    struct cli_watch_rate rate;
    struct cli_watch_view v;
    char line[4096], last[4096] = "";
    bool tty = !json && !w->plain && isatty (fileno (out));
    memset (&rate, 0, sizeof rate);
    /* pushed events where the scheduler has them: a state change shows at
     * once; an older scheduler gets the long poll */
    yard_events_t *ev = NULL;
    if (yard_events_subscribe (c, w->job_id, false, &ev) < 0)
        ev = NULL;
    for (;;) {
        yard_job_t *job = NULL;
        int rc = yard_job_status (c, w->job_id, &job);
        if (rc < 0) {
            fprintf (err, "yard: %s\n", yard_client_errmsg (c));
            yard_events_destroy (&ev);
            return rc == -ETIMEDOUT || rc == -EHOSTUNREACH
                       ? CLI_EXIT_UNREACHABLE
                       : CLI_EXIT_ERROR;
        }
        int64_t now = yard_now_ms ();
        cli_watch_view (job, now, &rate, &v);
        bool done = yard_job_state_finished (job->state);
        cli_watch_line (job, &v, false, line, sizeof line);
        bool changed = strcmp (line, last) != 0;
        if (tty) {
            draw (out, job, &v, w->interval_ms);
        } else if (changed) {
            if (json) {
                json_t *o = cli_watch_json (job, &v, now);
                char *s = o ? json_dumps (o, JSON_COMPACT) : NULL;
                if (s)
                    fprintf (out, "%s\n", s);
                free (s);
                json_decref (o);
            } else {
                char t[48];
                cli_watch_line (job, &v, true, line, sizeof line);
                fprintf (out, "%s %s\n", cli_time_local (now, t, sizeof t),
                         line);
                cli_watch_line (job, &v, false, line, sizeof line);
            }
            fflush (out);
        }
        snprintf (last, sizeof last, "%s", line);
        if (done) {
            rc = cli_wait_exit_code (job);
            yard_job_free (&job);
            yard_events_destroy (&ev);
            return rc;
        }
        yard_job_free (&job);
        if ((rc = wait_change (c, ev, w->job_id, w->interval_ms)) < 0
            && rc != -ETIMEDOUT) {
            if (ev) {
                /* the subscription broke: fall back to the long poll */
                yard_events_destroy (&ev);
                continue;
            }
            fprintf (err, "yard: %s\n", yard_client_errmsg (c));
            return CLI_EXIT_ERROR;
        }
    }
}
