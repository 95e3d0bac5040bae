/* cli_models.c - `yard model`, `yard schedule`, `yard trigger` (see
 * cli_models.h). */
#include "cli_models.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_render.h"
#include "cli_table.h"
#include "digest.h"
#include "util.h"
#include "yard/models.h"

#define MAX_ARGS 256

/* The words of a command: positionals and the options it knows. */
struct words {
    const char *pos[8];
    size_t npos;
    const char *metric[MAX_ARGS];
    size_t nmetric;
    const char *param[MAX_ARGS];
    size_t nparam;
    const char *job, *version, *cron, *on;
    bool json;
};

static int
usage (FILE *err, const char *msg, const char *usage_text)
{
    fprintf (err, "yard: %s\nusage: %s\n", msg, usage_text);
    return CLI_EXIT_USAGE;
}

bool
cli_models_wants_help (int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--") == 0)
            return false;
        if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
            return true;
    }
    return argc < 2;
}

/* Parse argv[2..] (argv[1] is the subcommand). */
static int
parse (int argc, char **argv, struct words *w, const char *usage_text,
       FILE *err)
{
    memset (w, 0, sizeof *w);
    static const struct {
        const char *l, *s;
        int which;
    } opts[] = {
        {"--metric", "-m", 0}, {"--param", "-p", 1}, {"--job", "-j", 2},
        {"--version", "-v", 3}, {"--cron", "-c", 4}, {"--on", "-o", 5},
    };
    bool dashdash = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp (a, "--") == 0) {
            dashdash = true;
            continue;
        }
        if (!dashdash && strcmp (a, "--json") == 0) {
            w->json = true;
            continue;
        }
        if (!dashdash && a[0] == '-' && a[1]) {
            const char *val = NULL;
            int which = -1;
            for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
                size_t ll = strlen (opts[k].l);
                if (strcmp (a, opts[k].l) == 0 || strcmp (a, opts[k].s) == 0) {
                    which = opts[k].which;
                    if (i + 1 >= argc) {
                        char m[128];
                        snprintf (m, sizeof m, "%s needs a value", a);
                        return usage (err, m, usage_text);
                    }
                    val = argv[++i];
                } else if (strncmp (a, opts[k].l, ll) == 0 && a[ll] == '=') {
                    which = opts[k].which;
                    val = a + ll + 1;
                }
                if (which >= 0)
                    break;
            }
            if (which < 0) {
                char m[300];
                snprintf (m, sizeof m, "unknown option '%s'", a);
                return usage (err, m, usage_text);
            }
            switch (which) {
            case 0:
            case 1: {
                if (!strchr (val, '=') || val[0] == '=') {
                    char m[300];
                    snprintf (m, sizeof m, "'%s' is not KEY=VALUE", val);
                    return usage (err, m, usage_text);
                }
                size_t *n = which == 0 ? &w->nmetric : &w->nparam;
                if (*n >= MAX_ARGS)
                    return usage (err, "too many --metric/--param", usage_text);
                (which == 0 ? w->metric : w->param)[(*n)++] = val;
                break;
            }
            case 2: w->job = val; break;
            case 3: w->version = val; break;
            case 4: w->cron = val; break;
            case 5: w->on = val; break;
            }
            continue;
        }
        if (w->npos >= sizeof w->pos / sizeof w->pos[0])
            return usage (err, "too many arguments", usage_text);
        w->pos[w->npos++] = a;
    }
    return 0;
}

static int
failed (yard_client_t *c, FILE *err, int rc)
{
    fprintf (err, "yard: %s\n", yard_client_errmsg (c));
    return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
}

static int
print_json (FILE *out, json_t *j)
{
    if (!j)
        return CLI_EXIT_ERROR;
    int rc = cli_json_print (out, j, false);
    json_decref (j);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- model ---- */

static json_t *
version_json (const yard_model_version_t *v)
{
    char iso[40];
    json_t *m = json_object ();
    for (size_t i = 0; m && i < v->n_metrics; i++)
        json_object_set_new (m, v->metric_keys[i],
                             json_real (v->metric_values[i]));
    return json_pack ("{s:s, s:I, s:s, s:I, s:I, s:s, s:o, s:I, s:I, s:s}",
                      "model", v->model, "version", (json_int_t)v->version,
                      "digest", v->digest, "size", (json_int_t)v->size,
                      "created_ms", (json_int_t)v->created_ms, "created",
                      cli_time_iso (v->created_ms, iso, sizeof iso), "metrics",
                      m ? m : json_object (), "job", (json_int_t)v->job_id,
                      "run", (json_int_t)v->run_id, "step", v->step);
}

static json_t *
versions_json (const yard_model_version_t *v, size_t n)
{
    json_t *a = json_array ();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new (a, version_json (&v[i]));
    return a;
}

static void
metrics_text (const yard_model_version_t *v, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < v->n_metrics && used < len; i++)
        used += (size_t)snprintf (buf + used, len - used, "%s%s=%.6g",
                                  i ? " " : "", v->metric_keys[i],
                                  v->metric_values[i]);
    if (!buf[0])
        snprintf (buf, len, "-");
}

static int
print_versions (FILE *out, const yard_model_version_t *v, size_t n)
{
    static const char *hdr[] = {"MODEL", "VERSION", "CREATED", "DIGEST",
                                "SIZE", "JOB", "RUN/STEP", "METRICS"};
    cli_table_t *t = cli_table_create (8, hdr);
    if (!t)
        return CLI_EXIT_ERROR;
    cli_table_align_right (t, 1);
    cli_table_align_right (t, 4);
    for (size_t i = 0; i < n; i++) {
        char ver[16], created[40], digest[16], size[24], job[24], run[200],
            metrics[1024];
        snprintf (ver, sizeof ver, "%" PRIu32, v[i].version);
        cli_time_local (v[i].created_ms, created, sizeof created);
        snprintf (digest, sizeof digest, "%.12s", v[i].digest);
        snprintf (size, sizeof size, "%" PRIu64, v[i].size);
        snprintf (job, sizeof job, v[i].job_id ? "%" PRIu64 : "-",
                  v[i].job_id);
        if (v[i].run_id)
            snprintf (run, sizeof run, "%" PRIu64 "/%s", v[i].run_id,
                      v[i].step);
        else
            snprintf (run, sizeof run, "-");
        metrics_text (&v[i], metrics, sizeof metrics);
        const char *row[] = {v[i].model, ver, created, digest,
                             size,       job, run,     metrics};
        cli_table_add_row (t, row);
    }
    int rc = cli_table_print (t, out);
    cli_table_destroy (&t);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int
run_model (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
           FILE *err)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct words w;
    int rc = parse (argc, argv, &w, CLI_MODEL_USAGE, err);
    if (rc)
        return rc;
    json = json || w.json;
    yard_model_version_t *v = NULL;
    size_t n = 0;
    if (strcmp (sub, "register") == 0) {
        if (w.npos != 2)
            return usage (err, "model register needs NAME and PATH|DIGEST",
                          CLI_MODEL_USAGE);
        uint64_t job = 0;
        if (w.job && (yard_parse_u64 (w.job, &job) < 0 || job == 0))
            return usage (err, "--job wants a job id", CLI_MODEL_USAGE);
        const char *keys[MAX_ARGS];
        double vals[MAX_ARGS];
        char kbuf[MAX_ARGS][129];
        for (size_t i = 0; i < w.nmetric; i++) {
            const char *eq = strchr (w.metric[i], '=');
            size_t kl = (size_t)(eq - w.metric[i]);
            char *end;
            errno = 0;
            vals[i] = strtod (eq + 1, &end);
            if (kl > 128 || !eq[1] || *end || errno || !isfinite (vals[i])) {
                char m[300];
                snprintf (m, sizeof m, "--metric '%s': want KEY=NUMBER",
                          w.metric[i]);
                return usage (err, m, CLI_MODEL_USAGE);
            }
            snprintf (kbuf[i], sizeof kbuf[i], "%.*s", (int)kl, w.metric[i]);
            keys[i] = kbuf[i];
        }
        if ((rc = yard_model_register (c, w.pos[0], w.pos[1], keys, vals,
                                       w.nmetric, job, &v)) < 0)
            return failed (c, err, rc);
        n = v ? 1 : 0;
        if (json)
            rc = print_json (out, v ? version_json (v) : json_object ());
        else {
            fprintf (out, "%" PRIu32 "\n", v ? v->version : 0);
            fprintf (err, "model %s version %" PRIu32 " registered (%s)\n",
                     w.pos[0], v ? v->version : 0, v ? v->digest : "");
            rc = CLI_EXIT_OK;
        }
    } else if (strcmp (sub, "list") == 0) {
        if (w.npos != 0)
            return usage (err, "model list takes no arguments",
                          CLI_MODEL_USAGE);
        if ((rc = yard_model_list (c, &v, &n)) < 0)
            return failed (c, err, rc);
        rc = json ? print_json (out, versions_json (v, n))
                  : print_versions (out, v, n);
    } else if (strcmp (sub, "show") == 0) {
        uint64_t ver = 0;
        if (w.npos != 1)
            return usage (err, "model show needs NAME", CLI_MODEL_USAGE);
        if (w.version
            && (yard_parse_u64 (w.version, &ver) < 0 || ver == 0
                || ver > UINT32_MAX))
            return usage (err, "--version wants a version number",
                          CLI_MODEL_USAGE);
        if ((rc = yard_model_show (c, w.pos[0], (uint32_t)ver, &v, &n)) < 0)
            return failed (c, err, rc);
        rc = json ? print_json (out, versions_json (v, n))
                  : print_versions (out, v, n);
    } else if (strcmp (sub, "get") == 0) {
        uint64_t ver = 0;
        if (w.npos != 2)
            return usage (err, "model get needs NAME and DEST",
                          CLI_MODEL_USAGE);
        if (w.version
            && (yard_parse_u64 (w.version, &ver) < 0 || ver == 0
                || ver > UINT32_MAX))
            return usage (err, "--version wants a version number",
                          CLI_MODEL_USAGE);
        if ((rc = yard_model_get (c, w.pos[0], (uint32_t)ver, w.pos[1], &v))
            < 0)
            return failed (c, err, rc);
        n = v ? 1 : 0;
        if (json)
            rc = print_json (out, v ? version_json (v) : json_object ());
        else {
            fprintf (err, "model %s version %" PRIu32 " written to %s\n",
                     w.pos[0], v ? v->version : 0, w.pos[1]);
            rc = CLI_EXIT_OK;
        }
    } else {
        char m[200];
        snprintf (m, sizeof m, "unknown model command '%s' (register, list, "
                               "show, get)", sub);
        return usage (err, m, CLI_MODEL_USAGE);
    }
    yard_model_versions_free (&v, n);
    return rc;
}

/* ---- schedule ---- */

static json_t *
schedules_json (const yard_schedule_t *v, size_t n)
{
    json_t *a = json_array ();
    for (size_t i = 0; a && i < n; i++) {
        char iso[3][40];
        json_array_append_new (
            a, json_pack ("{s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:I, s:s, s:I}",
                          "name", v[i].name, "cron", v[i].cron, "pipeline",
                          v[i].pipeline_name, "created_ms",
                          (json_int_t)v[i].created_ms, "created",
                          cli_time_iso (v[i].created_ms, iso[0], 40),
                          "last_fire_ms", (json_int_t)v[i].last_fire_ms,
                          "last_fire",
                          cli_time_iso (v[i].last_fire_ms, iso[1], 40),
                          "next_fire_ms", (json_int_t)v[i].next_fire_ms,
                          "next_fire",
                          cli_time_iso (v[i].next_fire_ms, iso[2], 40),
                          "last_run", (json_int_t)v[i].last_run));
    }
    return a;
}

static int
print_schedules (FILE *out, const yard_schedule_t *v, size_t n)
{
    static const char *hdr[] = {"NAME", "CRON", "PIPELINE", "LAST FIRE",
                                "NEXT FIRE", "LAST RUN"};
    cli_table_t *t = cli_table_create (6, hdr);
    if (!t)
        return CLI_EXIT_ERROR;
    for (size_t i = 0; i < n; i++) {
        char last[40], next[40], run[24];
        cli_time_local (v[i].last_fire_ms, last, sizeof last);
        cli_time_local (v[i].next_fire_ms, next, sizeof next);
        snprintf (run, sizeof run, v[i].last_run ? "%" PRIu64 : "-",
                  v[i].last_run);
        const char *row[] = {v[i].name, v[i].cron, v[i].pipeline_name,
                             last,      next,      run};
        cli_table_add_row (t, row);
    }
    int rc = cli_table_print (t, out);
    cli_table_destroy (&t);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int
run_schedule (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
              FILE *err)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct words w;
    int rc = parse (argc, argv, &w, CLI_SCHEDULE_USAGE, err);
    if (rc)
        return rc;
    json = json || w.json;
    yard_schedule_t *v = NULL;
    size_t n = 0;
    if (strcmp (sub, "add") == 0) {
        if (w.npos != 2 || !w.cron)
            return usage (err, "schedule add needs NAME, --cron EXPR and FILE",
                          CLI_SCHEDULE_USAGE);
        if ((rc = yard_schedule_add (c, w.pos[0], w.cron, w.pos[1],
                                     w.param, w.nparam, &v)) < 0)
            return failed (c, err, rc);
        n = v ? 1 : 0;
        if (json) {
            rc = print_json (out, schedules_json (v, n));
        } else {
            char next[40];
            fprintf (err, "schedule %s added: next run %s\n", w.pos[0],
                     cli_time_local (v ? v->next_fire_ms : 0, next,
                                     sizeof next));
            rc = CLI_EXIT_OK;
        }
    } else if (strcmp (sub, "list") == 0) {
        if ((rc = yard_schedule_list (c, &v, &n)) < 0)
            return failed (c, err, rc);
        rc = json ? print_json (out, schedules_json (v, n))
                  : print_schedules (out, v, n);
    } else if (strcmp (sub, "remove") == 0) {
        if (w.npos != 1)
            return usage (err, "schedule remove needs NAME",
                          CLI_SCHEDULE_USAGE);
        if ((rc = yard_schedule_remove (c, w.pos[0])) < 0)
            return failed (c, err, rc);
        fprintf (err, "schedule %s removed\n", w.pos[0]);
        rc = CLI_EXIT_OK;
    } else {
        char m[200];
        snprintf (m, sizeof m, "unknown schedule command '%s' (add, list, "
                               "remove)", sub);
        return usage (err, m, CLI_SCHEDULE_USAGE);
    }
    yard_schedules_free (&v, n);
    return rc;
}

/* ---- trigger ---- */

static json_t *
triggers_json (const yard_trigger_t *v, size_t n)
{
    json_t *a = json_array ();
    for (size_t i = 0; a && i < n; i++) {
        char iso[40];
        json_array_append_new (
            a, json_pack ("{s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "name",
                          v[i].name, "on", v[i].on, "pipeline",
                          v[i].pipeline_name, "created_ms",
                          (json_int_t)v[i].created_ms, "created",
                          cli_time_iso (v[i].created_ms, iso, sizeof iso),
                          "fired", (json_int_t)v[i].fired, "last_run",
                          (json_int_t)v[i].last_run));
    }
    return a;
}

static int
print_triggers (FILE *out, const yard_trigger_t *v, size_t n)
{
    static const char *hdr[] = {"NAME", "ON", "PIPELINE", "FIRED",
                                "LAST RUN"};
    cli_table_t *t = cli_table_create (5, hdr);
    if (!t)
        return CLI_EXIT_ERROR;
    cli_table_align_right (t, 3);
    for (size_t i = 0; i < n; i++) {
        char fired[24], run[24];
        snprintf (fired, sizeof fired, "%" PRIu64, v[i].fired);
        snprintf (run, sizeof run, v[i].last_run ? "%" PRIu64 : "-",
                  v[i].last_run);
        const char *row[] = {v[i].name, v[i].on, v[i].pipeline_name, fired,
                             run};
        cli_table_add_row (t, row);
    }
    int rc = cli_table_print (t, out);
    cli_table_destroy (&t);
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int
run_trigger (yard_client_t *c, int argc, char **argv, bool json, FILE *out,
             FILE *err)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct words w;
    int rc = parse (argc, argv, &w, CLI_TRIGGER_USAGE, err);
    if (rc)
        return rc;
    json = json || w.json;
    yard_trigger_t *v = NULL;
    size_t n = 0;
    if (strcmp (sub, "add") == 0) {
        if (w.npos != 2 || !w.on)
            return usage (err, "trigger add needs NAME, --on EVENT and FILE",
                          CLI_TRIGGER_USAGE);
        if ((rc = yard_trigger_add (c, w.pos[0], w.on, w.pos[1], w.param,
                                    w.nparam, &v)) < 0)
            return failed (c, err, rc);
        n = v ? 1 : 0;
        if (json) {
            rc = print_json (out, triggers_json (v, n));
        } else {
            fprintf (err, "trigger %s added on %s\n", w.pos[0], w.on);
            rc = CLI_EXIT_OK;
        }
    } else if (strcmp (sub, "list") == 0) {
        if ((rc = yard_trigger_list (c, &v, &n)) < 0)
            return failed (c, err, rc);
        rc = json ? print_json (out, triggers_json (v, n))
                  : print_triggers (out, v, n);
    } else if (strcmp (sub, "remove") == 0) {
        if (w.npos != 1)
            return usage (err, "trigger remove needs NAME",
                          CLI_TRIGGER_USAGE);
        if ((rc = yard_trigger_remove (c, w.pos[0])) < 0)
            return failed (c, err, rc);
        fprintf (err, "trigger %s removed\n", w.pos[0]);
        rc = CLI_EXIT_OK;
    } else {
        char m[200];
        snprintf (m, sizeof m, "unknown trigger command '%s' (add, list, "
                               "remove)", sub);
        return usage (err, m, CLI_TRIGGER_USAGE);
    }
    yard_triggers_free (&v, n);
    return rc;
}

int
cli_models_run (yard_client_t *c, int argc, char **argv, bool json,
                FILE *out, FILE *err)
{
    if (strcmp (argv[0], "model") == 0)
        return run_model (c, argc, argv, json, out, err);
    if (strcmp (argv[0], "schedule") == 0)
        return run_schedule (c, argc, argv, json, out, err);
    return run_trigger (c, argc, argv, json, out, err);
}
