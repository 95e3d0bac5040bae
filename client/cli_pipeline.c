/* cli_pipeline.c - `yard pipeline run|rerun|status|list|cancel|explain|
 * wait` and `yard dataset add|list` (docs/pipelines.md). */
#include "cli_pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_commands.h"
#include "cli_render.h"
#include "cli_table.h"
#include "client_internal.h"
#include "msg.h"
#include "pipeline_yaml.h"
#include "util.h"
#include "yard/pipelines.h"

#define MAX_PARAMS 256
#define WAIT_POLL_MS 200   /* a scheduler without pipeline events */
#define WAIT_CHECK_MS 5000 /* with events: the status again, in case some
                            * were lost */

static int
usage (FILE *err, const char *fmt, const char *arg)
{
    fprintf (err, "yard: ");
    fprintf (err, fmt, arg ? arg : "");
    fprintf (err, "\n");
    return CLI_EXIT_USAGE;
}

static int
failed (yard_client_t *c, FILE *err, int rc)
{
    fprintf (err, "yard: %s\n", yard_client_errmsg (c));
    return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
}

static int
emit (FILE *out, FILE *err, json_t *j)
{
    if (!j) {
        fprintf (err, "yard: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    int rc = cli_json_print (out, j, false);
    json_decref (j);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int
parse_id (const char *s, uint64_t *id, FILE *err)
{
    if (!s || yard_parse_u64 (s, id) < 0 || *id == 0) {
        usage (err, "'%s' is not a run id (a positive number)", s);
        return -EINVAL;
    }
    return 0;
}

static const char *
pstate (Yard__PipelineState s)
{
    return yard_pipeline_state_str ((enum yard_pipeline_state)s);
}

static const char *
sstate (Yard__StepState s)
{
    return yard_step_state_str ((enum yard_step_state)s);
}

/* ---- rendering ---- */

static json_t *
run_json (const Yard__PipelineRunInfo *r)
{
    json_t *params = json_object ();
    for (size_t i = 0; i < r->n_params; i++)
        json_object_set_new (params, r->params[i]->key,
                             json_string (r->params[i]->value));
    json_t *steps = json_array ();
    for (size_t i = 0; i < r->n_steps; i++) {
        const Yard__StepInfo *s = r->steps[i];
        json_t *needs = json_array ();
        for (size_t j = 0; j < s->n_needs; j++)
            json_array_append_new (needs, json_string (s->needs[j]));
        json_t *outs = json_array ();
        for (size_t j = 0; j < s->n_outputs; j++)
            json_array_append_new (
                outs, json_pack ("{s:s, s:s, s:I}", "name",
                                 s->outputs[j]->name, "digest",
                                 s->outputs[j]->digest, "size",
                                 (json_int_t)s->outputs[j]->size));
        int64_t dur = s->start_time_ms && s->end_time_ms
                          ? s->end_time_ms - s->start_time_ms
                          : 0;
        json_array_append_new (
            steps,
            json_pack ("{s:s, s:o, s:s, s:b, s:I, s:I, s:s, s:I, s:I, s:I, "
                       "s:s, s:s, s:o}",
                       "name", s->name, "needs", needs, "state",
                       sstate (s->state), "reused",
                       s->state == YARD__STEP_STATE__STEP_REUSED, "job_id",
                       (json_int_t)s->job_id, "reused_run",
                       (json_int_t)s->reused_run, "reused_step",
                       s->reused_step, "start_ms",
                       (json_int_t)s->start_time_ms, "end_ms",
                       (json_int_t)s->end_time_ms, "duration_ms",
                       (json_int_t)dur, "reason", s->reason, "cache_key",
                       s->cache_key, "outputs", outs));
    }
    return json_pack ("{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:o, s:o}",
                      "id", (json_int_t)r->id, "name", r->name, "state",
                      pstate (r->state), "origin", r->origin, "create_ms",
                      (json_int_t)r->create_time_ms, "end_ms",
                      (json_int_t)r->end_time_ms, "reason", r->reason,
                      "resumed_from", (json_int_t)r->resumed_from, "params",
                      params, "steps", steps);
}

static const char *
duration (int64_t start, int64_t end, char *buf, size_t len)
{
    if (!start)
        return "-";
    if (!end)
        end = yard_now_ms ();
    return yard_format_duration (end - start, buf, len);
}

static int
print_run (FILE *out, const Yard__PipelineRunInfo *r)
{
    char when[64], dur[32];
    fprintf (out, "run %" PRIu64 "  %s  %s  (%s, started %s, %s)\n", r->id,
             r->name, pstate (r->state), r->origin,
             cli_time_local (r->create_time_ms, when, sizeof when),
             duration (r->create_time_ms, r->end_time_ms, dur, sizeof dur));
    if (r->resumed_from)
        fprintf (out, "resumes run %" PRIu64 "\n", r->resumed_from);
    if (r->n_params) {
        fprintf (out, "params:");
        for (size_t i = 0; i < r->n_params; i++)
            fprintf (out, " %s=%s", r->params[i]->key, r->params[i]->value);
        fprintf (out, "\n");
    }
    if (r->reason && *r->reason)
        fprintf (out, "reason: %s\n", r->reason);
    fprintf (out, "\n");
    const char *hdr[] = {"STEP", "NEEDS", "STATE", "HOW", "JOB", "DURATION",
                         "REASON"};
    cli_table_t *t = cli_table_create (7, hdr);
    if (!t)
        return -ENOMEM;
    cli_table_align_right (t, 4);
    for (size_t i = 0; i < r->n_steps; i++) {
        const Yard__StepInfo *s = r->steps[i];
        char needs[512] = "", how[256], job[32];
        size_t nl = 0;
        for (size_t j = 0; j < s->n_needs; j++) {
            int w = snprintf (needs + nl, sizeof needs - nl, "%s%s",
                              j ? "," : "", s->needs[j]);
            if (w > 0 && (size_t)w < sizeof needs - nl)
                nl += (size_t)w;
        }
        switch (s->state) {
        case YARD__STEP_STATE__STEP_REUSED:
            snprintf (how, sizeof how, "reused run %" PRIu64 "/%s",
                      s->reused_run, s->reused_step);
            break;
        case YARD__STEP_STATE__STEP_RUNNING:
        case YARD__STEP_STATE__STEP_COMPLETED:
        case YARD__STEP_STATE__STEP_FAILED:
            snprintf (how, sizeof how, "%s", s->job_id ? "ran" : "-");
            break;
        default:
            snprintf (how, sizeof how, "-");
        }
        snprintf (job, sizeof job, "%" PRIu64, s->job_id);
        const char *cells[] = {
            s->name,
            *needs ? needs : "-",
            sstate (s->state),
            how,
            s->job_id ? job : "-",
            s->state == YARD__STEP_STATE__STEP_REUSED
                ? "0s"
                : duration (s->start_time_ms, s->end_time_ms, dur,
                            sizeof dur),
            s->reason && *s->reason ? s->reason : "-",
        };
        cli_table_add_row (t, cells);
    }
    int rc = cli_table_print (t, out);
    cli_table_destroy (&t);
    return rc;
}

static int
reply_run (yard_client_t *c, yard_env_t *req, bool json, FILE *out,
           FILE *err)
{
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, req, YARD__ENVELOPE__BODY_PIPELINE_INFO,
                                &reply);
    if (rc < 0)
        return failed (c, err, rc);
    if (json)
        rc = emit (out, err, run_json (reply->pipeline_info));
    else
        rc = print_run (out, reply->pipeline_info) < 0 ? CLI_EXIT_ERROR
                                                       : CLI_EXIT_OK;
    yard_msg_free (&reply);
    return rc;
}

static int
status_req (yard_client_t *c, uint64_t id, bool json, FILE *out, FILE *err)
{
    Yard__PipelineStatusRequest r = YARD__PIPELINE_STATUS_REQUEST__INIT;
    r.run_id = id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_STATUS;
    req.pipeline_status = &r;
    return reply_run (c, &req, json, out, err);
}

/* ---- subcommands ---- */

static int
cmd_run (yard_client_t *c, int argc, char **argv, bool json, bool rerun,
         FILE *out, FILE *err)
{
    const char *params[MAX_PARAMS];
    size_t np = 0;
    const char *file = NULL;
    uint64_t resume = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp (a, "--json")) {
            json = true;
            continue;
        }
        if (!strncmp (a, "--param=", 8) || !strncmp (a, "-p=", 3))
            val = strchr (a, '=') + 1;
        else if (!strcmp (a, "--param") || !strcmp (a, "-p")) {
            if (++i >= argc)
                return usage (err, "%s needs KEY=VALUE", a);
            val = argv[i];
        }
        if (val) {
            if (rerun)
                return usage (err, "rerun takes no --param: use 'yard "
                              "pipeline run --resume RUN FILE'%s", "");
            if (!strchr (val, '=') || *val == '=')
                return usage (err, "--param '%s': give KEY=VALUE", val);
            if (np == MAX_PARAMS)
                return usage (err, "too many --param%s", "");
            params[np++] = val;
            continue;
        }
        if (!strncmp (a, "--resume=", 9) || !strcmp (a, "--resume")) {
            const char *v = a[8] == '=' ? a + 9 : (++i < argc ? argv[i] : NULL);
            if (!v)
                return usage (err, "--resume needs a run id%s", "");
            if (parse_id (v, &resume, err) < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (a[0] == '-' && a[1])
            return usage (err, "unknown option '%s' (see 'yard pipeline "
                          "--help')", a);
        if (file)
            return usage (err, "unexpected argument '%s'", a);
        file = a;
    }
    if (!file)
        return usage (err, rerun ? "rerun needs a RUN id%s"
                                 : "run needs a pipeline FILE%s", "");
    Yard__PipelineRunRequest r = YARD__PIPELINE_RUN_REQUEST__INIT;
    Yard__PipelineSpec *spec = NULL;
    if (rerun) {
        if (parse_id (file, &resume, err) < 0)
            return CLI_EXIT_USAGE;
    } else {
        yard_error_t e;
        yard_error_clear (&e);
        int rc = yard_pipeline_load (c, file, params, np, &spec, &e);
        if (rc < 0) {
            fprintf (err, "yard: %s\n", e.text);
            return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
        }
    }
    r.spec = spec;
    r.resume_from = resume;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_RUN;
    req.pipeline_run = &r;
    int rc = reply_run (c, &req, json, out, err);
    if (spec)
        yard__pipeline_spec__free_unpacked (spec, NULL);
    return rc;
}

static int
one_id (int argc, char **argv, bool *json, uint64_t *id, const char **extra,
        FILE *err)
{
    const char *first = NULL;
    *id = 0;
    if (extra)
        *extra = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--json")) {
            *json = true;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            usage (err, "unknown option '%s' (see 'yard pipeline --help')",
                   argv[i]);
            return -EINVAL;
        }
        if (!first)
            first = argv[i];
        else if (extra && !*extra)
            *extra = argv[i];
        else {
            usage (err, "unexpected argument '%s'", argv[i]);
            return -EINVAL;
        }
    }
    if (!first) {
        usage (err, "%s needs a RUN id", argv[0]);
        return -EINVAL;
    }
    if (extra && !*extra) {
        usage (err, "%s needs a STEP name after the run id", argv[0]);
        return -EINVAL;
    }
    return parse_id (first, id, err);
}

static int
cmd_cancel (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
            FILE *err)
{
    uint64_t id;
    if (one_id (argc, argv, &json, &id, NULL, err) < 0)
        return CLI_EXIT_USAGE;
    Yard__PipelineCancelRequest r = YARD__PIPELINE_CANCEL_REQUEST__INIT;
    r.run_id = id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_CANCEL;
    req.pipeline_cancel = &r;
    return reply_run (c, &req, json, out, err);
}

static int
cmd_wait (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
          FILE *err)
{
    uint64_t id = 0;
    int64_t timeout_ms = 0;
    const char *run = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--timeout") && i + 1 < argc) {
            uint64_t s;
            yard_error_t e;
            if (yard_parse_duration (argv[++i], &s, &e) < 0)
                return usage (err, "--timeout: %s", e.text);
            timeout_ms = (int64_t)s * 1000;
        } else if (argv[i][0] == '-' && argv[i][1])
            return usage (err, "unknown option '%s'", argv[i]);
        else if (!run)
            run = argv[i];
        else
            return usage (err, "unexpected argument '%s'", argv[i]);
    }
    if (!run)
        return usage (err, "wait needs a RUN id%s", "");
    if (parse_id (run, &id, err) < 0)
        return CLI_EXIT_USAGE;
    int64_t deadline = timeout_ms ? yard_mono_ms () + timeout_ms : 0;
    /* the run's events tell when to look again; from a scheduler without
     * them (or when they cannot be had), poll */
    yard_events_t *ev = NULL;
    if (yard_events_subscribe_pipelines (c, id, false, &ev) < 0)
        ev = NULL;
    for (;;) {
        yard_pipeline_run_t *r = NULL;
        int rc = yard_pipeline_status (c, id, &r);
        if (rc < 0 && rc != -ETIMEDOUT) {
            yard_events_destroy (&ev);
            return failed (c, err, rc);
        }
        enum yard_pipeline_state st = r ? r->state : YARD_PIPELINE_RUNNING;
        yard_pipeline_run_free (&r);
        if (st != YARD_PIPELINE_RUNNING) {
            yard_events_destroy (&ev);
            rc = status_req (c, id, json, out, err);
            if (rc != CLI_EXIT_OK)
                return rc;
            return st == YARD_PIPELINE_COMPLETED ? CLI_EXIT_OK
                                                 : CLI_EXIT_ERROR;
        }
        if (deadline && yard_mono_ms () >= deadline) {
            yard_events_destroy (&ev);
            fprintf (err, "yard: run %" PRIu64 " is still running\n", id);
            return CLI_EXIT_WAIT_TIMEOUT;
        }
        if (!ev) {
            struct timespec ts = {0, WAIT_POLL_MS * 1000000L};
            nanosleep (&ts, NULL);
            continue;
        }
        /* until the run's own state changes, time runs out, events were
         * lost, or WAIT_CHECK_MS passed */
        int64_t until = yard_mono_ms () + WAIT_CHECK_MS;
        if (deadline && deadline < until)
            until = deadline;
        uint64_t missed = yard_events_missed (ev);
        for (;;) {
            int64_t left = until - yard_mono_ms ();
            yard_event_t e;
            int r2 = left > 0 ? yard_events_next (ev, (int)left, &e)
                              : -ETIMEDOUT;
            if (r2 == -ETIMEDOUT)
                break;
            if (r2 < 0) {
                yard_events_destroy (&ev); /* broken: poll from now on */
                break;
            }
            if (yard_events_missed (ev) != missed
                || (e.kind == YARD_EVENT_PIPELINE && e.run_id == id
                    && !e.step[0] && e.run_state != YARD_PIPELINE_RUNNING))
                break;
        }
    }
}

static int
cmd_list (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
          FILE *err)
{
    Yard__PipelineListRequest r = YARD__PIPELINE_LIST_REQUEST__INIT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!strcmp (argv[i], "--limit") && i + 1 < argc) {
            if (yard_parse_u32 (argv[++i], &r.limit) < 0)
                return usage (err, "--limit '%s' is not a number", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1])
            return usage (err, "unknown option '%s'", argv[i]);
        else if (!*r.name)
            r.name = argv[i];
        else
            return usage (err, "unexpected argument '%s'", argv[i]);
    }
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_LIST;
    req.pipeline_list = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req,
                                YARD__ENVELOPE__BODY_PIPELINE_LIST_REPLY,
                                &reply);
    if (rc < 0)
        return failed (c, err, rc);
    const Yard__PipelineListReply *l = reply->pipeline_list_reply;
    if (json) {
        json_t *a = json_array ();
        for (size_t i = 0; i < l->n_runs; i++)
            json_array_append_new (a, run_json (l->runs[i]));
        rc = emit (out, err, a);
    } else {
        const char *hdr[] = {"RUN", "PIPELINE", "STATE", "ORIGIN", "STARTED",
                             "DURATION", "REASON"};
        cli_table_t *t = cli_table_create (7, hdr);
        for (size_t i = 0; t && i < l->n_runs; i++) {
            const Yard__PipelineRunInfo *ri = l->runs[i];
            char id[32], when[64], dur[32];
            snprintf (id, sizeof id, "%" PRIu64, ri->id);
            const char *cells[] = {
                id, ri->name, pstate (ri->state), ri->origin,
                cli_time_local (ri->create_time_ms, when, sizeof when),
                duration (ri->create_time_ms, ri->end_time_ms, dur,
                          sizeof dur),
                *ri->reason ? ri->reason : "-"};
            cli_table_add_row (t, cells);
        }
        rc = t && cli_table_print (t, out) == 0 ? CLI_EXIT_OK
                                                 : CLI_EXIT_ERROR;
        cli_table_destroy (&t);
    }
    yard_msg_free (&reply);
    return rc;
}

static int
cmd_explain (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
             FILE *err)
{
    uint64_t id;
    const char *step = NULL;
    if (one_id (argc, argv, &json, &id, &step, err) < 0)
        return CLI_EXIT_USAGE;
    yard_pipeline_explain_t *x = NULL;
    int rc = yard_pipeline_explain (c, id, step, &x);
    if (rc < 0)
        return failed (c, err, rc);
    if (json) {
        json_t *lines = json_array ();
        for (size_t i = 0; i < x->n_lines; i++)
            json_array_append_new (lines, json_string (x->lines[i]));
        json_t *parts = *x->key_parts ? json_loads (x->key_parts, 0, NULL)
                                      : NULL;
        rc = emit (out, err,
                   json_pack ("{s:I, s:s, s:s, s:s, s:I, s:s, s:I, s:o, s:o}",
                              "run_id", (json_int_t)x->run_id, "step",
                              x->step, "state", yard_step_state_str (x->state),
                              "cache_key", x->cache_key, "reused_run",
                              (json_int_t)x->reused_run, "reused_step",
                              x->reused_step, "compared_run",
                              (json_int_t)x->compared_run, "lines", lines,
                              "key_parts", parts ? parts : json_null ()));
    } else {
        fprintf (out, "run %" PRIu64 " step %s: %s\n", x->run_id, x->step,
                 yard_step_state_str (x->state));
        if (*x->cache_key)
            fprintf (out, "cache key %s\n", x->cache_key);
        for (size_t i = 0; i < x->n_lines; i++)
            fprintf (out, "  %s\n", x->lines[i]);
        rc = CLI_EXIT_OK;
    }
    yard_pipeline_explain_free (&x);
    return rc;
}

int
cli_pipeline_main (yard_client_t *c, int argc, char **argv, bool json,
                   FILE *out, FILE *err)
{
    if (argc < 2)
        return usage (err, "pipeline needs a subcommand: run, rerun, status, "
                      "list, cancel, explain or wait (see 'yard pipeline "
                      "--help')%s", "");
    const char *sub = argv[1];
    argc--;
    argv++;
    if (!strcmp (sub, "run"))
        return cmd_run (c, argc, argv, json, false, out, err);
    if (!strcmp (sub, "rerun"))
        return cmd_run (c, argc, argv, json, true, out, err);
    if (!strcmp (sub, "status")) {
        uint64_t id;
        if (one_id (argc, argv, &json, &id, NULL, err) < 0)
            return CLI_EXIT_USAGE;
        return status_req (c, id, json, out, err);
    }
    if (!strcmp (sub, "list"))
        return cmd_list (c, argc, argv, json, out, err);
    if (!strcmp (sub, "cancel"))
        return cmd_cancel (c, argc, argv, json, out, err);
    if (!strcmp (sub, "explain"))
        return cmd_explain (c, argc, argv, json, out, err);
    if (!strcmp (sub, "wait"))
        return cmd_wait (c, argc, argv, json, out, err);
    return usage (err, "unknown pipeline subcommand '%s': run, rerun, "
                  "status, list, cancel, explain or wait", sub);
}

/* ---- datasets ---- */

static json_t *
dataset_json (const Yard__DatasetInfo *d)
{
    return json_pack ("{s:s, s:I, s:s, s:I, s:I}", "name", d->name, "version",
                      (json_int_t)d->version, "digest", d->digest, "size",
                      (json_int_t)d->size, "create_ms",
                      (json_int_t)d->create_time_ms);
}

static int
print_datasets (FILE *out, const Yard__DatasetReply *r)
{
    const char *hdr[] = {"DATASET", "VERSION", "SIZE", "DIGEST", "ADDED"};
    cli_table_t *t = cli_table_create (5, hdr);
    if (!t)
        return -ENOMEM;
    cli_table_align_right (t, 1);
    cli_table_align_right (t, 2);
    for (size_t i = 0; i < r->n_datasets; i++) {
        const Yard__DatasetInfo *d = r->datasets[i];
        char ver[16], size[32], dig[16], when[64];
        snprintf (ver, sizeof ver, "%u", d->version);
        snprintf (dig, sizeof dig, "%.12s", d->digest);
        const char *cells[] = {
            d->name, ver, yard_format_size (d->size, size, sizeof size), dig,
            cli_time_local (d->create_time_ms, when, sizeof when)};
        cli_table_add_row (t, cells);
    }
    int rc = cli_table_print (t, out);
    cli_table_destroy (&t);
    return rc;
}

int
cli_dataset_main (yard_client_t *c, int argc, char **argv, bool json,
                  FILE *out, FILE *err)
{
    if (argc < 2)
        return usage (err, "dataset needs a subcommand: add or list (see "
                      "'yard dataset --help')%s", "");
    const char *sub = argv[1];
    const char *pos[2] = {NULL, NULL};
    size_t npos = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp (argv[i], "--json"))
            json = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage (err, "unknown option '%s'", argv[i]);
        else if (npos < 2)
            pos[npos++] = argv[i];
        else
            return usage (err, "unexpected argument '%s'", argv[i]);
    }
    Yard__DatasetRequest r = YARD__DATASET_REQUEST__INIT;
    char digest[65];
    if (!strcmp (sub, "add")) {
        if (npos != 2)
            return usage (err, "usage: yard dataset add NAME PATH%s", "");
        uint64_t size = 0;
        yard_error_t e;
        yard_error_clear (&e);
        int rc = yard_artifact_upload (c, pos[1], digest, &size, &e);
        if (rc < 0) {
            fprintf (err, "yard: %s\n", e.text);
            return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
        }
        r.action = YARD__DATASET_REQUEST__ACTION__ADD;
        r.name = (char *)pos[0];
        r.digest = digest;
        r.size = size;
    } else if (!strcmp (sub, "list")) {
        if (npos > 1)
            return usage (err, "usage: yard dataset list [NAME]%s", "");
        r.action = YARD__DATASET_REQUEST__ACTION__LIST;
        if (npos)
            r.name = (char *)pos[0];
    } else
        return usage (err, "unknown dataset subcommand '%s': add or list",
                      sub);
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_DATASET;
    req.dataset = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_DATASET_REPLY,
                                &reply);
    if (rc < 0)
        return failed (c, err, rc);
    const Yard__DatasetReply *d = reply->dataset_reply;
    if (json) {
        if (r.action == YARD__DATASET_REQUEST__ACTION__ADD && d->n_datasets)
            rc = emit (out, err, dataset_json (d->datasets[0]));
        else {
            json_t *a = json_array ();
            for (size_t i = 0; i < d->n_datasets; i++)
                json_array_append_new (a, dataset_json (d->datasets[i]));
            rc = emit (out, err, a);
        }
    } else if (r.action == YARD__DATASET_REQUEST__ACTION__ADD
               && d->n_datasets) {
        char size[32];
        fprintf (out, "dataset %s version %u (%s, %.12s)\n",
                 d->datasets[0]->name, d->datasets[0]->version,
                 yard_format_size (d->datasets[0]->size, size, sizeof size),
                 d->datasets[0]->digest);
        rc = CLI_EXIT_OK;
    } else
        rc = print_datasets (out, d) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
    yard_msg_free (&reply);
    return rc;
}
