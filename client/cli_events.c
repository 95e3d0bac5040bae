/* cli_events.c - `yard events` (see cli_events.h). */
#include "cli_events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_render.h"
#include "util.h"
#include "yard/pipelines.h"

const char *
cli_event_line (const yard_event_t *ev, char *buf, size_t len)
{
    if (ev->kind == YARD_EVENT_PIPELINE) {
        if (ev->step[0])
            snprintf (buf, len, "pipeline %" PRIu64 " step %s %s", ev->run_id,
                      ev->step,
                      yard_step_state_str ((enum yard_step_state)
                                               ev->step_state));
        else
            snprintf (buf, len, "pipeline %" PRIu64 " %s%s%s%s", ev->run_id,
                      yard_pipeline_state_str ((enum yard_pipeline_state)
                                                   ev->run_state),
                      ev->reason[0] ? " (" : "", ev->reason,
                      ev->reason[0] ? ")" : "");
        return buf;
    }
    if (ev->kind == YARD_EVENT_NODE) {
        snprintf (buf, len, "node %s %s", ev->node,
                  yard_node_state_str (ev->node_state));
        return buf;
    }
    int n = snprintf (buf, len, "job %" PRIu64 " %s%s%s", ev->job_id,
                      ev->old_state ? yard_job_state_str (ev->old_state) : "",
                      ev->old_state ? " -> " : "",
                      yard_job_state_str (ev->state));
    if (n >= 0 && (size_t)n < len && ev->attempt)
        n += snprintf (buf + n, len - (size_t)n, " attempt %u", ev->attempt);
    if (n >= 0 && (size_t)n < len && ev->node[0]
        && ev->state != YARD_JOB_PENDING)
        n += snprintf (buf + n, len - (size_t)n, " on %s", ev->node);
    if (n >= 0 && (size_t)n < len && yard_job_state_finished (ev->state)
        && ev->reason[0])
        snprintf (buf + n, len - (size_t)n, " (%s)", ev->reason);
    return buf;
}

static bool
set (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

json_t *
cli_event_json (const yard_event_t *ev)
{
    json_t *o = json_object ();
    bool job = ev->kind == YARD_EVENT_JOB;
    bool ok = o && set (o, "seq", json_integer ((json_int_t)ev->seq))
              && set (o, "time_ms", json_integer (ev->time_ms));
    if (ok && ev->kind == YARD_EVENT_PIPELINE) {
        ok = set (o, "kind", json_string ("pipeline"))
             && set (o, "run_id", json_integer ((json_int_t)ev->run_id))
             && set (o, "step", cli_json_string (ev->step, strlen (ev->step)))
             && set (o, "state",
                     json_string (
                         ev->step[0]
                             ? yard_step_state_str ((enum yard_step_state)
                                                        ev->step_state)
                             : yard_pipeline_state_str (
                                   (enum yard_pipeline_state)ev->run_state)))
             && set (o, "reason", cli_json_string (ev->reason,
                                                   strlen (ev->reason)));
        if (!ok) {
            json_decref (o);
            return NULL;
        }
        return o;
    }
    ok = ok && set (o, "kind", json_string (job ? "job" : "node"))
         && set (o, "node", cli_json_string (ev->node, strlen (ev->node)));
    if (ok && job)
        ok = set (o, "job_id", json_integer ((json_int_t)ev->job_id))
             && set (o, "state", json_string (yard_job_state_str (ev->state)))
             && set (o, "old_state",
                     ev->old_state
                         ? json_string (yard_job_state_str (ev->old_state))
                         : json_null ())
             && set (o, "attempt", json_integer (ev->attempt))
             && set (o, "reason", cli_json_string (ev->reason,
                                                   strlen (ev->reason)));
    if (ok && job && yard_job_state_finished (ev->state))
        ok = set (o, "exit_code", json_integer (ev->exit_code))
             && set (o, "end_reason",
                     json_string (yard_end_reason_str (ev->end_reason)));
    if (ok && !job)
        ok = set (o, "state",
                  json_string (yard_node_state_str (ev->node_state)));
    if (!ok) {
        json_decref (o);
        return NULL;
    }
    return o;
}

int
cli_events_run (yard_client_t *c, const struct cli_events *a, bool json,
                FILE *out, FILE *err)
{
    yard_events_t *ev = NULL;
    int rc = a->pipelines ? yard_events_subscribe_pipelines (c, a->run_id,
                                                             a->nodes, &ev)
                          : yard_events_subscribe (c, a->job_id, a->nodes,
                                                   &ev);
    if (rc < 0) {
        fprintf (err, "yard: %s\n", yard_client_errmsg (c));
        return rc == -ETIMEDOUT || rc == -EHOSTUNREACH ? CLI_EXIT_UNREACHABLE
                                                       : CLI_EXIT_ERROR;
    }
    /* a job that already ended sends no more events: say so and stop */
    if (a->job_id) {
        yard_job_t *job = NULL;
        if ((rc = yard_job_status (c, a->job_id, &job)) < 0) {
            fprintf (err, "yard: %s\n", yard_client_errmsg (c));
            yard_events_destroy (&ev);
            return CLI_EXIT_ERROR;
        }
        bool done = yard_job_state_finished (job->state);
        if (done)
            fprintf (err, "yard: job %" PRIu64 " already ended (%s)\n",
                     job->id, yard_job_state_str (job->state));
        yard_job_free (&job);
        if (done) {
            yard_events_destroy (&ev);
            return CLI_EXIT_OK;
        }
    }
    /* likewise a pipeline run */
    if (a->run_id) {
        yard_pipeline_run_t *run = NULL;
        if ((rc = yard_pipeline_status (c, a->run_id, &run)) < 0) {
            fprintf (err, "yard: %s\n", yard_client_errmsg (c));
            yard_events_destroy (&ev);
            return CLI_EXIT_ERROR;
        }
        bool done = run->state != YARD_PIPELINE_RUNNING;
        if (done)
            fprintf (err, "yard: pipeline run %" PRIu64 " already ended "
                     "(%s)\n", run->id, yard_pipeline_state_str (run->state));
        yard_pipeline_run_free (&run);
        if (done) {
            yard_events_destroy (&ev);
            return CLI_EXIT_OK;
        }
    }
    uint64_t seen = 0, missed = 0;
    for (;;) {
        yard_event_t e;
        rc = yard_events_next (ev, -1, &e);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0) {
            fprintf (err, "yard: events: %s\n", strerror (-rc));
            yard_events_destroy (&ev);
            return CLI_EXIT_ERROR;
        }
        if (yard_events_missed (ev) != missed) {
            fprintf (err, "yard: %" PRIu64 " events lost (the scheduler "
                     "restarted, or this side was too slow)\n",
                     yard_events_missed (ev) - missed);
            missed = yard_events_missed (ev);
        }
        if (json) {
            json_t *o = cli_event_json (&e);
            char *s = o ? json_dumps (o, JSON_COMPACT) : NULL;
            if (s)
                fprintf (out, "%s\n", s);
            free (s);
            json_decref (o);
        } else {
            char line[1024], t[48];
            fprintf (out, "%s %s\n", cli_time_local (e.time_ms, t, sizeof t),
                     cli_event_line (&e, line, sizeof line));
        }
        fflush (out);
        seen++;
        bool ended = a->job_id && e.kind == YARD_EVENT_JOB
                     && e.job_id == a->job_id
                     && yard_job_state_finished (e.state);
        ended = ended
                || (a->run_id && e.kind == YARD_EVENT_PIPELINE
                    && e.run_id == a->run_id && !e.step[0]
                    && e.run_state != YARD_PIPELINE_RUNNING);
        if (ended || (a->count && seen >= a->count))
            break;
    }
    yard_events_destroy (&ev);
    return CLI_EXIT_OK;
}
