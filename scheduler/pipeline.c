/* pipeline.c - the pipeline engine: runs, steps becoming jobs, reuse,
 * failure and cancellation (see pipeline.h).
 *
 * Every entry point reads the run from the store, changes it, moves it on
 * (advance) and writes it back, inside the current batch.  advance() looks
 * at the WAITING steps in topological order: a step whose needs all
 * completed (or were reused) starts; once any step failed, nothing new
 * starts and the waiting steps are cancelled with the reason; a run with no
 * waiting or running step is over.
 */
#include "pipeline.h"
#include "pipeline_when.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "log.h"
#include "models.h"
#include "pipeline_dag.h"
#include "server_nodeadmin.h"
#include "store_datasets.h"
#include "store_pipeline.h"
#include "triggers.h"
#include "util.h"

int
yard__pipeline_init (yard_server_t *s, yard_error_t *err)
{
    int rc = yard_store_datasets_init (s->store, err);
    if (rc == 0)
        rc = yard_store_pipeline_init (s->store, err);
    return rc;
}

/* ---- helpers ---- */

/* Save run, noting its state changes for event subscribers (their old
 * states are read back first, only while someone listens). */
static int
save_run (yard_server_t *s, const yard_prun_t *run)
{
    yard_prun_t *old = NULL;
    if (yard__events_want_pipelines (s)
        && yard_store_prun_get (s->store, run->id, &old) < 0)
        old = NULL;
    int rc = yard_store_prun_save (s->store, run);
    if (rc == 0)
        yard__events_pipeline (s, run, old);
    yard_prun_free (&old);
    return rc;
}

static int
set_str (char **dst, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
set_str (char **dst, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *p = NULL;
    int n = vasprintf (&p, fmt, ap);
    va_end (ap);
    if (n < 0)
        return -ENOMEM;
    free (*dst);
    *dst = p;
    return 0;
}

static const Yard__PipelineStep *
spec_step (const Yard__PipelineSpec *spec, const char *name)
{
    for (size_t i = 0; i < spec->n_steps; i++)
        if (strcmp (spec->steps[i]->name, name) == 0)
            return spec->steps[i];
    return NULL;
}

static yard_pstep_t *
run_step (yard_prun_t *run, const char *name)
{
    for (size_t i = 0; i < run->nsteps; i++)
        if (strcmp (run->steps[i].name, name) == 0)
            return &run->steps[i];
    return NULL;
}

static bool
step_done_ok (Yard__StepState st)
{
    return st == YARD__STEP_STATE__STEP_COMPLETED
           || st == YARD__STEP_STATE__STEP_REUSED;
}

static bool
step_over (Yard__StepState st)
{
    return st != YARD__STEP_STATE__STEP_WAITING
           && st != YARD__STEP_STATE__STEP_RUNNING;
}

/* The digest of output name in an outputs JSON array, or NULL. */
static const char *
output_digest (json_t *outs, const char *name, uint64_t *size)
{
    size_t i;
    json_t *o;
    json_array_foreach (outs, i, o)
    {
        const char *n = json_string_value (json_object_get (o, "name"));
        if (n && strcmp (n, name) == 0) {
            if (size)
                *size = (uint64_t)json_integer_value (
                    json_object_get (o, "size"));
            return json_string_value (json_object_get (o, "digest"));
        }
    }
    return NULL;
}

/* Whether the outputs (JSON text) hold every output st declares, each
 * complete in the artifact store. */
static bool
outputs_usable (yard_server_t *s, const Yard__PipelineStep *st,
                const char *outputs)
{
    json_t *outs = json_loads (outputs ? outputs : "[]", 0, NULL);
    bool ok = json_is_array (outs);
    for (size_t i = 0; ok && i < st->n_outputs; i++) {
        const char *d = output_digest (outs, st->outputs[i], NULL);
        ok = d && yard_artifacts_complete (s->artifacts, d);
    }
    json_decref (outs);
    return ok;
}

/* ---- starting a step ---- */

/* Build the job of step p and queue it. */
static int
submit_step (yard_server_t *s, yard_prun_t *run, yard_pstep_t *p,
             const Yard__PipelineStep *st, const char *cmd,
             const char *const *digests, json_t *upstream, yard_error_t *err)
{
    const Yard__PipelineSpec *spec = run->spec;
    Yard__JobSpec *js = calloc (1, sizeof *js);
    if (!js)
        return yard_errorf (err, ENOMEM, "out of memory");
    yard__job_spec__init (js);
    int rc = -ENOMEM;
    size_t nstage = st->n_inputs + st->n_code + json_object_size (upstream);
    js->argv = calloc (3, sizeof js->argv[0]);
    js->env = calloc (st->n_env + 3, sizeof js->env[0]);
    js->stage_in = calloc (nstage ? nstage : 1, sizeof js->stage_in[0]);
    js->collect = calloc (st->n_outputs ? st->n_outputs : 1,
                          sizeof js->collect[0]);
    if (!js->argv || !js->env || !js->stage_in || !js->collect)
        goto fail;
    js->n_argv = 3;
    if (!(js->argv[0] = strdup ("sh")) || !(js->argv[1] = strdup ("-c"))
        || !(js->argv[2] = strdup (cmd)))
        goto fail;
    if (asprintf (&js->name, "%s/%s", spec->name, p->name) < 0) {
        js->name = NULL;
        goto fail;
    }
    for (size_t i = 0; i < st->n_env + 3; i++) {
        Yard__EnvVar *e = calloc (1, sizeof *e);
        if (!e)
            goto fail;
        yard__env_var__init (e);
        js->env[js->n_env++] = e;
        char num[32];
        snprintf (num, sizeof num, "%" PRIu64, run->id);
        const char *k, *v;
        if (i < st->n_env) {
            k = st->env[i]->key;
            v = st->env[i]->value ? st->env[i]->value : "";
        } else if (i == st->n_env) {
            k = "YARD_PIPELINE";
            v = spec->name;
        } else if (i == st->n_env + 1) {
            k = "YARD_PIPELINE_RUN";
            v = num;
        } else {
            k = "YARD_PIPELINE_STEP";
            v = p->name;
        }
        if (!(e->key = strdup (k)) || !(e->value = strdup (v)))
            goto fail;
    }
    for (size_t i = 0; i < nstage; i++) {
        Yard__StageIn *si = calloc (1, sizeof *si);
        if (!si)
            goto fail;
        yard__stage_in__init (si);
        js->stage_in[js->n_stage_in++] = si;
    }
    size_t k = 0;
    for (size_t i = 0; i < st->n_inputs; i++, k++)
        if (!(js->stage_in[k]->path = strdup (st->inputs[i]->name))
            || !(js->stage_in[k]->digest = strdup (digests[i])))
            goto fail;
    for (size_t i = 0; i < st->n_code; i++, k++)
        if (asprintf (&js->stage_in[k]->path, "code/%s", st->code[i]->path)
                < 0
            || !(js->stage_in[k]->digest = strdup (st->code[i]->digest)))
            goto fail;
    const char *uk;
    json_t *uv;
    json_object_foreach (upstream, uk, uv)
    {
        if (asprintf (&js->stage_in[k]->path, "steps/%s", uk) < 0
            || !(js->stage_in[k]->digest = strdup (json_string_value (uv))))
            goto fail;
        k++;
    }
    for (size_t i = 0; i < st->n_outputs; i++) {
        if (!(js->collect[i] = strdup (st->outputs[i])))
            goto fail;
        js->n_collect++;
    }
    js->cpus = st->cpus;
    js->gpus = st->gpus;
    js->memory_bytes = st->memory_bytes;
    js->time_limit_s = st->time_limit_s;
    js->retries = st->retries;
    if ((spec->submit_dir && !(js->submit_dir = strdup (spec->submit_dir)))
        || (spec->user && !(js->user = strdup (spec->user)))
        || (spec->submit_host
            && !(js->submit_host = strdup (spec->submit_host))))
        goto fail;
    js->pipeline_run = run->id;
    if (!(js->pipeline_step = strdup (p->name)))
        goto fail;
    if (yard_job_spec_check (js, err) < 0
        || yard__spec_constraints_check (js, err) < 0) {
        rc = -EINVAL;
        goto fail_keep_err;
    }
    yard_job_t *job = yard_job_create ();
    if (!job)
        goto fail;
    job->spec = js;
    js = NULL;
    job->priority = job->spec->priority;
    job->submit_ms = yard_now_ms ();
    if ((rc = yard_store_job_insert (s->store, job)) < 0) {
        yard__fail (s, rc);
        yard_job_destroy (&job);
        return yard_errorf (err, -rc, "cannot store the step's job: %s",
                            yard_store_errmsg (s->store));
    }
    yard__mark_dirty (s, job);
    if ((rc = yard_queue_add (s->queue, job)) < 0
        || (rc = yard_queue_push (s->queue, job)) < 0) {
        (void)yard_queue_del (s->queue, job);
        yard__fail (s, rc);
        yard_job_destroy (&job);
        return yard_errorf (err, -rc, "cannot queue the step's job");
    }
    s->need_dispatch = true;
    p->job_id = job->id;
    p->state = YARD__STEP_STATE__STEP_RUNNING;
    log_info ("pipeline run %" PRIu64 " step %s: job %" PRIu64, run->id,
              p->name, job->id);
    return 0;
fail:
    yard_errorf (err, ENOMEM, "out of memory");
fail_keep_err:
    if (js)
        yard__job_spec__free_unpacked (js, NULL);
    return rc;
}

struct hit_ctx {
    yard_server_t *s;
    const Yard__PipelineStep *st;
    uint64_t run_id;
    char step[YARD_PIPELINE_NAME_MAX + 1];
    char *outputs;
    uint64_t stale_run;       /* a hit whose outputs are gone */
    char stale_step[YARD_PIPELINE_NAME_MAX + 1];
};

static int
hit_cb (uint64_t run_id, const char *step, const char *outputs, void *arg)
{
    struct hit_ctx *c = arg;
    if (!outputs_usable (c->s, c->st, outputs)) {
        if (!c->stale_run) {
            c->stale_run = run_id;
            snprintf (c->stale_step, sizeof c->stale_step, "%s", step);
        }
        return 0;
    }
    c->run_id = run_id;
    snprintf (c->step, sizeof c->step, "%s", step);
    c->outputs = strdup (outputs);
    return c->outputs ? 1 : -ENOMEM;
}

static void
mark_reused (yard_prun_t *run, yard_pstep_t *p, uint64_t from_run,
             const char *from_step, char *outputs)
{
    p->state = YARD__STEP_STATE__STEP_REUSED;
    p->reused_run = from_run;
    free (p->reused_step);
    p->reused_step = strdup (from_step);
    free (p->outputs);
    p->outputs = outputs;
    p->end_ms = p->start_ms;
    (void)set_str (&p->reason, "reused from run %" PRIu64 " step %s",
                   from_run, from_step);
    log_info ("pipeline run %" PRIu64 " step %s: reused from run %" PRIu64
              " step %s", run->id, p->name, from_run, from_step);
}

static void
step_fail (yard_prun_t *run, yard_pstep_t *p, const char *why)
{
    p->state = YARD__STEP_STATE__STEP_FAILED;
    p->end_ms = yard_now_ms ();
    (void)set_str (&p->reason, "%s", why);
    log_info ("pipeline run %" PRIu64 " step %s failed: %s", run->id,
              p->name, why);
}

/* Resolve p's inputs, compute its key, reuse or submit.  The step leaves
 * WAITING in every case (REUSED, RUNNING or FAILED).  A negative return
 * is a batch failure. */
static int
start_step (yard_server_t *s, yard_prun_t *run, yard_prun_t *resume,
            yard_pstep_t *p)
{
    const Yard__PipelineStep *st = spec_step (run->spec, p->name);
    p->start_ms = yard_now_ms ();
    json_t *runin = json_loads (run->inputs ? run->inputs : "{}", 0, NULL);
    json_t *upstream = json_object ();
    const char **digests = calloc (st->n_inputs + 1, sizeof *digests);
    json_t *parts = NULL;
    char *text = NULL, *cmd = NULL;
    char why[1024] = "";
    int rc = 0;
    yard_error_t err;
    yard_error_clear (&err);
    if (!upstream || !digests) {
        rc = yard__fail (s, -ENOMEM);
        goto out;
    }
    /* every output of every needed step, staged at steps/STEP/OUTPUT */
    for (size_t i = 0; i < st->n_needs; i++) {
        yard_pstep_t *up = run_step (run, st->needs[i]);
        const Yard__PipelineStep *ust = spec_step (run->spec, st->needs[i]);
        json_t *outs = json_loads (up->outputs, 0, NULL);
        for (size_t j = 0; j < ust->n_outputs; j++) {
            const char *d = output_digest (outs, ust->outputs[j], NULL);
            if (!d) {
                snprintf (why, sizeof why,
                          "step %s reported no output '%s' (the worker "
                          "did not collect it)",
                          up->name, ust->outputs[j]);
                break;
            }
            char key[2 * YARD_PIPELINE_NAME_MAX + 2];
            snprintf (key, sizeof key, "%s/%s", up->name, ust->outputs[j]);
            json_object_set_new (upstream, key, json_string (d));
        }
        json_decref (outs);
        if (*why)
            break;
    }
    for (size_t i = 0; !*why && i < st->n_inputs; i++) {
        const Yard__PipelineInput *in = st->inputs[i];
        yard_pref_t r;
        if (yard_pipeline_ref_parse (in->ref, &r, &err) < 0) {
            snprintf (why, sizeof why, "input %s: %s", in->name, err.text);
            break;
        }
        if (r.kind == YARD_PREF_DATASET)
            digests[i] = json_string_value (
                json_object_get (json_object_get (runin, in->ref), "digest"));
        else if (r.kind == YARD_PREF_ARTIFACT)
            digests[i] = in->ref + 9;
        else {
            char key[2 * YARD_PIPELINE_NAME_MAX + 2];
            snprintf (key, sizeof key, "%s/%s", r.name, r.output);
            digests[i] = json_string_value (json_object_get (upstream, key));
        }
        if (!digests[i])
            snprintf (why, sizeof why, "input %s (%s) could not be resolved",
                      in->name, in->ref);
    }
    if (!*why) {
        char hex[65];
        parts = yard_pipeline_key (run->spec, st, digests, upstream, &text,
                                   hex, &err);
        if (!parts)
            snprintf (why, sizeof why, "%s", err.text);
        else {
            free (p->cache_key);
            free (p->key_parts);
            p->cache_key = strdup (hex);
            p->key_parts = text;
            text = NULL;
            if (!p->cache_key || !p->key_parts) {
                rc = yard__fail (s, -ENOMEM);
                goto out;
            }
        }
    }
    if (*why) {
        step_fail (run, p, why);
        goto out;
    }
    /* resuming: the same step of the earlier run, same key */
    if (resume) {
        yard_pstep_t *old = run_step (resume, p->name);
        if (old && step_done_ok (old->state)
            && strcmp (old->cache_key, p->cache_key) == 0
            && outputs_usable (s, st, old->outputs)) {
            char *outs = strdup (old->outputs);
            if (!outs) {
                rc = yard__fail (s, -ENOMEM);
                goto out;
            }
            bool was_reused = old->state == YARD__STEP_STATE__STEP_REUSED;
            mark_reused (run, p, was_reused ? old->reused_run : resume->id,
                         was_reused ? old->reused_step : old->name, outs);
            goto out;
        }
    }
    struct hit_ctx hc = {.s = s, .st = st};
    if (st->reuse) {
        rc = yard_store_pstep_hits (s->store, p->cache_key, hit_cb, &hc);
        if (rc < 0) {
            yard__fail (s, rc);
            free (hc.outputs);
            goto out;
        }
        rc = 0;
        if (hc.outputs) {
            mark_reused (run, p, hc.run_id, hc.step, hc.outputs);
            goto out;
        }
    }
    if (!st->reuse)
        snprintf (why, sizeof why, "ran: reuse is off for this step");
    else if (hc.stale_run)
        snprintf (why, sizeof why,
                  "ran: run %" PRIu64 " step %s had the same key but its "
                  "outputs are no longer in the artifact store",
                  hc.stale_run, hc.stale_step);
    else
        snprintf (why, sizeof why,
                  "ran: no completed step had the same key");
    (void)set_str (&p->reason, "%s", why);
    if (yard_pipeline_expand (run->spec, st, &cmd, NULL, &err) < 0) {
        step_fail (run, p, err.text);
        goto out;
    }
    if ((rc = submit_step (s, run, p, st, cmd, digests, upstream, &err))
        < 0) {
        if (rc == -EINVAL) {
            step_fail (run, p, err.text);
            rc = 0;
        } else
            log_err ("pipeline run %" PRIu64 " step %s: %s", run->id,
                     p->name, err.text);
    }
out:
    free (cmd);
    free (text);
    json_decref (parts);
    free (digests);
    json_decref (upstream);
    json_decref (runin);
    return rc < 0 ? rc : 0;
}

/* Whether every step st needs is a step of run and of its spec. */
static bool
needs_known (yard_prun_t *run, const Yard__PipelineStep *st)
{
    for (size_t j = 0; j < st->n_needs; j++)
        if (!run_step (run, st->needs[j]) || !spec_step (run->spec, st->needs[j]))
            return false;
    return true;
}

/* Move run on: start ready steps, cancel those that can no longer run,
 * end the run when nothing is left.  Writes the run. */
static int
advance (yard_server_t *s, yard_prun_t *run)
{
    yard_prun_t *resume = NULL;
    int rc = 0;
    if (run->resumed_from) {
        rc = yard_store_prun_get (s->store, run->resumed_from, &resume);
        if (rc < 0 && rc != -ENOENT)
            return yard__fail (s, rc);
        rc = 0;
    }
    bool changed = true;
    while (changed && rc == 0) {
        changed = false;
        const yard_pstep_t *failed = NULL;
        for (size_t i = 0; i < run->nsteps && !failed; i++)
            if (run->steps[i].state == YARD__STEP_STATE__STEP_FAILED)
                failed = &run->steps[i];
        for (size_t i = 0; i < run->nsteps && rc == 0; i++) {
            yard_pstep_t *p = &run->steps[i];
            if (p->state != YARD__STEP_STATE__STEP_WAITING)
                continue;
            if (run->state != YARD__PIPELINE_STATE__PIPELINE_RUNNING) {
                p->state = YARD__STEP_STATE__STEP_CANCELLED;
                (void)set_str (&p->reason, "not run: the run was %s",
                               run->state
                                       == YARD__PIPELINE_STATE__PIPELINE_CANCELLED
                                   ? "cancelled"
                                   : "stopped");
                changed = true;
                continue;
            }
            const Yard__PipelineStep *st = spec_step (run->spec, p->name);
            if (!st || !needs_known (run, st)) {
                /* only a damaged database gets here */
                step_fail (run, p, "the step does not match the run's spec");
                changed = true;
                continue;
            }
            const yard_pstep_t *bad = NULL;
            bool ready = true;
            for (size_t j = 0; j < st->n_needs; j++) {
                yard_pstep_t *up = run_step (run, st->needs[j]);
                if (!step_done_ok (up->state))
                    ready = false;
                if (step_over (up->state) && !step_done_ok (up->state))
                    bad = up;
            }
            if (bad && !failed
                && bad->state == YARD__STEP_STATE__STEP_SKIPPED) {
                /* what needs a skipped step is skipped too */
                p->state = YARD__STEP_STATE__STEP_SKIPPED;
                p->end_ms = yard_now_ms ();
                (void)set_str (&p->reason, "skipped: step %s was skipped",
                               bad->name);
                changed = true;
                continue;
            }
            if (bad || failed) {
                p->state = YARD__STEP_STATE__STEP_CANCELLED;
                p->end_ms = yard_now_ms ();
                if (bad)
                    (void)set_str (&p->reason, "not run: step %s %s",
                                   bad->name,
                                   bad->state
                                           == YARD__STEP_STATE__STEP_FAILED
                                       ? "failed"
                                       : "did not run");
                else
                    (void)set_str (&p->reason,
                                   "not run: step %s failed", failed->name);
                changed = true;
                continue;
            }
            if (!ready)
                continue;
            char cond[512] = "";
            int go = yard__pipeline_when (s, run, st, cond, sizeof cond);
            if (go == 0 || go == -EINVAL) {
                p->start_ms = p->end_ms = yard_now_ms ();
                if (go == 0) {
                    p->state = YARD__STEP_STATE__STEP_SKIPPED;
                    (void)set_str (&p->reason, "skipped: %s", cond);
                    log_info ("pipeline run %" PRIu64 " step %s skipped: %s",
                              run->id, p->name, cond);
                } else
                    step_fail (run, p, cond);
                changed = true;
                continue;
            }
            if (go < 0) {
                rc = yard__fail (s, go);
                break;
            }
            rc = start_step (s, run, resume, p);
            changed = true;
        }
    }
    yard_prun_free (&resume);
    if (rc < 0)
        return rc;
    bool active = false;
    const yard_pstep_t *failed = NULL;
    for (size_t i = 0; i < run->nsteps; i++) {
        if (!step_over (run->steps[i].state))
            active = true;
        else if (!step_done_ok (run->steps[i].state) && !failed
                 && run->steps[i].state == YARD__STEP_STATE__STEP_FAILED)
            failed = &run->steps[i];
    }
    if (!active && run->state == YARD__PIPELINE_STATE__PIPELINE_RUNNING) {
        run->end_ms = yard_now_ms ();
        if (failed) {
            run->state = YARD__PIPELINE_STATE__PIPELINE_FAILED;
            (void)set_str (&run->reason, "step %s failed: %s", failed->name,
                           failed->reason);
        } else {
            bool all_ok = true;
            for (size_t i = 0; i < run->nsteps; i++)
                all_ok = all_ok
                         && (step_done_ok (run->steps[i].state)
                             || run->steps[i].state
                                    == YARD__STEP_STATE__STEP_SKIPPED);
            run->state = all_ok ? YARD__PIPELINE_STATE__PIPELINE_COMPLETED
                                : YARD__PIPELINE_STATE__PIPELINE_FAILED;
        }
        log_info ("pipeline run %" PRIu64 " (%s) %s%s%s", run->id, run->name,
                  run->state == YARD__PIPELINE_STATE__PIPELINE_COMPLETED
                      ? "COMPLETED"
                      : "FAILED",
                  *run->reason ? ": " : "", run->reason);
    } else if (!active && !run->end_ms)
        run->end_ms = yard_now_ms ();
    if ((rc = save_run (s, run)) < 0)
        return yard__fail (s, rc);
    return 0;
}

/* ---- starting a run ---- */

static int
resolve_datasets (yard_server_t *s, const Yard__PipelineSpec *spec,
                  json_t *inputs, uint64_t run_hint, yard_error_t *err)
{
    (void)run_hint;
    for (size_t i = 0; i < spec->n_steps; i++) {
        const Yard__PipelineStep *st = spec->steps[i];
        for (size_t j = 0; j < st->n_inputs; j++) {
            const char *ref = st->inputs[j]->ref;
            yard_pref_t r;
            if (yard_pipeline_ref_parse (ref, &r, err) < 0)
                return -EINVAL;
            if (r.kind == YARD_PREF_ARTIFACT
                && !yard_artifacts_complete (s->artifacts, r.digest))
                return yard_errorf (err, ENOENT,
                                    "step %s input %s: artifact %.12s.. is "
                                    "not in the artifact store",
                                    st->name, st->inputs[j]->name, r.digest);
            if (r.kind != YARD_PREF_DATASET || json_object_get (inputs, ref))
                continue;
            char digest[65];
            uint32_t version = 0;
            uint64_t size = 0;
            int rc = yard_store_dataset_resolve (s->store, r.name, r.version,
                                                 digest, &version, &size);
            if (rc == -ENOENT) {
                if (r.version)
                    return yard_errorf (err, ENOENT,
                                        "step %s input %s: dataset %s has no "
                                        "version %u (see yard dataset list "
                                        "%s)",
                                        st->name, st->inputs[j]->name,
                                        r.name, r.version, r.name);
                return yard_errorf (err, ENOENT,
                                    "step %s input %s: no dataset %s (add "
                                    "it with yard dataset add %s PATH)",
                                    st->name, st->inputs[j]->name, r.name,
                                    r.name);
            }
            if (rc < 0) {
                yard__fail (s, rc);
                return yard_errorf (err, -rc, "cannot read datasets: %s",
                                    yard_store_errmsg (s->store));
            }
            json_t *o = json_pack ("{s:s, s:I, s:I}", "digest", digest,
                                   "size", (json_int_t)size, "version",
                                   (json_int_t)version);
            if (!o || json_object_set_new (inputs, ref, o) < 0)
                return yard_errorf (err, ENOMEM, "out of memory");
        }
    }
    return 0;
}

static Yard__PipelineSpec *
spec_copy (const Yard__PipelineSpec *spec)
{
    size_t len = yard__pipeline_spec__get_packed_size (spec);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return NULL;
    yard__pipeline_spec__pack (spec, buf);
    Yard__PipelineSpec *c = yard__pipeline_spec__unpack (NULL, len, buf);
    free (buf);
    return c;
}

int
yard__pipeline_start_ex (yard_server_t *s, const Yard__PipelineSpec *spec,
                         const char *origin, uint64_t resume_from,
                         uint64_t *run_id, yard_error_t *err)
{
    size_t n = spec ? spec->n_steps : 0;
    size_t *order = calloc (n ? n : 1, sizeof *order);
    if (!order)
        return yard_errorf (err, ENOMEM, "out of memory");
    int rc = yard_pipeline_check (spec, order, NULL, err);
    if (rc < 0) {
        free (order);
        return rc;
    }
    yard_prun_t *run = calloc (1, sizeof *run);
    json_t *inputs = json_object ();
    char *inputs_text = NULL;
    if (!run || !inputs) {
        rc = yard_errorf (err, ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = resolve_datasets (s, spec, inputs, 0, err)) < 0)
        goto out;
    if (!(inputs_text = json_dumps (inputs, JSON_SORT_KEYS | JSON_COMPACT))) {
        rc = yard_errorf (err, ENOMEM, "out of memory");
        goto out;
    }
    run->spec = spec_copy (spec);
    run->name = strdup (spec->name);
    run->origin = strdup (origin && *origin ? origin : "cli");
    run->reason = strdup ("");
    run->inputs = inputs_text;
    inputs_text = NULL;
    run->state = YARD__PIPELINE_STATE__PIPELINE_RUNNING;
    run->created_ms = yard_now_ms ();
    run->resumed_from = resume_from;
    run->steps = calloc (n, sizeof run->steps[0]);
    if (!run->spec || !run->name || !run->origin || !run->reason
        || !run->steps) {
        rc = yard_errorf (err, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        yard_pstep_t *p = &run->steps[run->nsteps++];
        p->state = YARD__STEP_STATE__STEP_WAITING;
        p->name = strdup (spec->steps[order[i]]->name);
        p->cache_key = strdup ("");
        p->key_parts = strdup ("");
        p->reused_step = strdup ("");
        p->reason = strdup ("");
        p->outputs = strdup ("[]");
        if (!p->name || !p->cache_key || !p->key_parts || !p->reused_step
            || !p->reason || !p->outputs) {
            rc = yard_errorf (err, ENOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = yard_store_prun_insert (s->store, run)) < 0) {
        yard__fail (s, rc);
        yard_errorf (err, -rc, "cannot store the run: %s",
                     yard_store_errmsg (s->store));
        goto out;
    }
    yard__events_pipeline (s, run, NULL);
    /* the dataset versions the run resolved stay in the artifact store */
    char owner[64];
    snprintf (owner, sizeof owner, "run:%" PRIu64, run->id);
    const char *ref;
    json_t *v;
    json_t *ri = json_loads (run->inputs, 0, NULL);
    json_object_foreach (ri, ref, v)
    {
        const char *d = json_string_value (json_object_get (v, "digest"));
        if (d && (rc = yard_store_artifact_ref (s->store, d, owner)) < 0)
            break;
    }
    json_decref (ri);
    if (rc < 0) {
        yard__fail (s, rc);
        yard_errorf (err, -rc, "cannot store the run: %s",
                     yard_store_errmsg (s->store));
        goto out;
    }
    log_info ("pipeline run %" PRIu64 " (%s, %zu steps) started by %s%s",
              run->id, run->name, run->nsteps, run->origin,
              resume_from ? " (resuming)" : "");
    if ((rc = advance (s, run)) < 0) {
        yard_errorf (err, -rc, "cannot store the run: %s",
                     yard_store_errmsg (s->store));
        goto out;
    }
    *run_id = run->id;
out:
    free (order);
    free (inputs_text);
    json_decref (inputs);
    yard_prun_free (&run);
    return rc;
}

int
yard__pipeline_start (yard_server_t *s, const Yard__PipelineSpec *spec,
                      const char *origin, uint64_t *run_id, yard_error_t *err)
{
    return yard__pipeline_start_ex (s, spec, origin, 0, run_id, err);
}

/* ---- job events ---- */

void
yard__pipeline_outputs (yard_server_t *s, const yard_job_t *job,
                        const Yard__JobFinished *f)
{
    const Yard__JobSpec *js = job->spec;
    if (!js || !js->pipeline_run || !js->pipeline_step || !f
        || f->reason != YARD__END_REASON__END_EXITED || f->exit_code != 0)
        return;
    json_t *outs = json_array ();
    for (size_t i = 0; outs && i < f->n_outputs; i++) {
        const Yard__NamedDigest *o = f->outputs[i];
        if (!o->name || !yard_digest_valid (o->digest))
            continue;
        json_array_append_new (outs, json_pack ("{s:s, s:s, s:I}", "name",
                                                o->name, "digest", o->digest,
                                                "size", (json_int_t)o->size));
    }
    char *text = outs ? json_dumps (outs, JSON_COMPACT) : NULL;
    json_decref (outs);
    if (!text) {
        yard__fail (s, -ENOMEM);
        return;
    }
    int rc = yard_store_pstep_set_outputs (s->store, js->pipeline_run,
                                           js->pipeline_step, text);
    char owner[200];
    snprintf (owner, sizeof owner, "step:%" PRIu64 "/%s", js->pipeline_run,
              js->pipeline_step);
    for (size_t i = 0; rc == 0 && i < f->n_outputs; i++)
        if (yard_digest_valid (f->outputs[i]->digest))
            rc = yard_store_artifact_ref (s->store, f->outputs[i]->digest,
                                          owner);
    free (text);
    if (rc < 0)
        yard__fail (s, rc);
}

static void
register_model (yard_server_t *s, yard_prun_t *run, yard_pstep_t *p)
{
    const Yard__PipelineStep *st = spec_step (run->spec, p->name);
    if (!st || !st->register_model || !st->register_model->model
        || !*st->register_model->model)
        return;
    json_t *outs = json_loads (p->outputs, 0, NULL);
    size_t n = json_array_size (outs);
    Yard__NamedDigest *nd = calloc (n ? n : 1, sizeof *nd);
    const Yard__NamedDigest **v = calloc (n ? n : 1, sizeof *v);
    if (nd && v) {
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get (outs, i);
            yard__named_digest__init (&nd[i]);
            nd[i].name = (char *)json_string_value (json_object_get (o, "name"));
            nd[i].digest
                = (char *)json_string_value (json_object_get (o, "digest"));
            nd[i].size = (uint64_t)json_integer_value (json_object_get (o, "size"));
            v[i] = &nd[i];
        }
        yard_error_t err;
        yard_error_clear (&err);
        if (yard__models_step_completed (s, run->id, p->name, p->job_id, st,
                                         v, n, &err)
            < 0 && s->batch_failed == 0) {
            log_warn ("pipeline run %" PRIu64 " step %s: model not "
                      "registered: %s", run->id, p->name, err.text);
            (void)set_str (&p->reason, "completed; model not registered: %s",
                           err.text);
        }
    } else
        yard__fail (s, -ENOMEM);
    free (nd);
    free (v);
    json_decref (outs);
}

void
yard__pipeline_job_ended (yard_server_t *s, const yard_job_t *job,
                          Yard__JobState state)
{
    const Yard__JobSpec *js = job->spec;
    if (!js || !js->pipeline_run || !js->pipeline_step)
        return;
    yard_prun_t *run = NULL;
    int rc = yard_store_prun_get (s->store, js->pipeline_run, &run);
    if (rc < 0) {
        if (rc != -ENOENT)
            yard__fail (s, rc);
        log_warn ("job %" PRIu64 " ended but its pipeline run %" PRIu64
                  " cannot be read (%s)", job->id, js->pipeline_run,
                  rc == -ENOENT ? "no such run" : strerror (-rc));
        return;
    }
    yard_pstep_t *p = run_step (run, js->pipeline_step);
    if (!p || p->job_id != job->id || step_over (p->state)) {
        yard_prun_free (&run);
        return;
    }
    p->end_ms = job->end_ms ? job->end_ms : yard_now_ms ();
    if (state == YARD__JOB_STATE__JOB_COMPLETED) {
        /* the reason keeps why it ran, for explain */
        p->state = YARD__STEP_STATE__STEP_COMPLETED;
        register_model (s, run, p);
    } else if (state == YARD__JOB_STATE__JOB_CANCELLED) {
        p->state = YARD__STEP_STATE__STEP_CANCELLED;
        (void)set_str (&p->reason, "job %" PRIu64 " cancelled%s%s", job->id,
                       job->reason && *job->reason ? ": " : "",
                       job->reason ? job->reason : "");
        if (run->state == YARD__PIPELINE_STATE__PIPELINE_RUNNING) {
            /* the job was cancelled by itself: the run cannot complete */
            p->state = YARD__STEP_STATE__STEP_FAILED;
        }
    } else {
        p->state = YARD__STEP_STATE__STEP_FAILED;
        (void)set_str (&p->reason, "job %" PRIu64 " %s%s%s", job->id,
                       yard_job_state_name (state),
                       job->reason && *job->reason ? ": " : "",
                       job->reason ? job->reason : "");
    }
    log_info ("pipeline run %" PRIu64 " step %s: job %" PRIu64 " %s", run->id,
              p->name, job->id, yard_job_state_name (state));
    (void)advance (s, run);
    yard_prun_free (&run);
}

/* ---- cancel ---- */

static void
cancel_job (yard_server_t *s, uint64_t id)
{
    yard_job_t *job = NULL, *owned = NULL;
    if (yard__job_lookup (s, id, &job, &owned) < 0)
        return;
    if (owned || yard_job_state_is_terminal (job->state)) {
        yard_job_destroy (&owned);
        return;
    }
    job->cancel_requested = true;
    if (!yard_job_is_active (job)) {
        (void)yard__job_end (s, job, YARD__JOB_STATE__JOB_CANCELLED,
                             YARD__END_REASON__END_NONE, 0, 0, 0,
                             "pipeline run cancelled");
        return;
    }
    if (yard__job_save (s, job) < 0)
        return;
    if (job->worker)
        (void)yard__send_kill (s, job->worker, job->id, job->attempt,
                               YARD__END_REASON__END_CANCELLED,
                               yard_job_grace (job));
}

int
yard__pipeline_cancel (yard_server_t *s, uint64_t run_id, const char *why)
{
    yard_prun_t *run = NULL;
    int rc = yard_store_prun_get (s->store, run_id, &run);
    if (rc < 0)
        return rc == -ENOENT ? rc : yard__fail (s, rc);
    if (run->state != YARD__PIPELINE_STATE__PIPELINE_RUNNING) {
        yard_prun_free (&run);
        return 0;
    }
    run->state = YARD__PIPELINE_STATE__PIPELINE_CANCELLED;
    run->end_ms = yard_now_ms ();
    (void)set_str (&run->reason, "%s", why);
    size_t njobs = 0;
    uint64_t *jobs = calloc (run->nsteps ? run->nsteps : 1, sizeof *jobs);
    if (!jobs) {
        yard_prun_free (&run);
        return yard__fail (s, -ENOMEM);
    }
    for (size_t i = 0; i < run->nsteps; i++) {
        yard_pstep_t *p = &run->steps[i];
        if (p->state == YARD__STEP_STATE__STEP_RUNNING)
            jobs[njobs++] = p->job_id;
        else if (p->state == YARD__STEP_STATE__STEP_WAITING) {
            p->state = YARD__STEP_STATE__STEP_CANCELLED;
            p->end_ms = run->end_ms;
            (void)set_str (&p->reason, "not run: %s", why);
        }
    }
    log_info ("pipeline run %" PRIu64 " (%s) cancelled: %s", run->id,
              run->name, why);
    rc = save_run (s, run);
    yard_prun_free (&run);
    if (rc < 0) {
        free (jobs);
        return yard__fail (s, rc);
    }
    /* each job's end comes back through yard__pipeline_job_ended, which
     * reads the run again */
    for (size_t i = 0; i < njobs; i++)
        cancel_job (s, jobs[i]);
    free (jobs);
    return s->batch_failed;
}
