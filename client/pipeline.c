/* pipeline.c - libyard's pipeline and dataset calls (yard/pipelines.h):
 * PipelineRunRequest and friends over the client connection, code and data
 * uploads over a connection of their own (pipeline_yaml.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define YARD_PIPELINE_TEXT_MAX (4u << 20) /* as a pipeline file */

#include "client_internal.h"
#include "msg.h"
#include "pipeline_yaml.h"
#include "yard/pipelines.h"
#include "yard/yard.h"

const char *
yard_pipeline_state_str (enum yard_pipeline_state s)
{
    switch (s) {
    case YARD_PIPELINE_RUNNING:
        return "running";
    case YARD_PIPELINE_COMPLETED:
        return "completed";
    case YARD_PIPELINE_FAILED:
        return "failed";
    case YARD_PIPELINE_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

const char *
yard_step_state_str (enum yard_step_state s)
{
    switch (s) {
    case YARD_STEP_WAITING:
        return "waiting";
    case YARD_STEP_RUNNING:
        return "running";
    case YARD_STEP_COMPLETED:
        return "completed";
    case YARD_STEP_REUSED:
        return "reused";
    case YARD_STEP_FAILED:
        return "failed";
    case YARD_STEP_CANCELLED:
        return "cancelled";
    case YARD_STEP_SKIPPED:
        return "skipped";
    }
    return "unknown";
}

int
yard__pipeline_start (yard_client_t *c, Yard__PipelineSpec *spec,
                      uint64_t resume_from, uint64_t *run_id)
{
    Yard__PipelineRunRequest r = YARD__PIPELINE_RUN_REQUEST__INIT;
    r.spec = spec;
    r.resume_from = resume_from;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_RUN;
    req.pipeline_run = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_PIPELINE_INFO,
                                &reply);
    if (rc == 0 && run_id)
        *run_id = reply->pipeline_info->id;
    yard_msg_free (&reply);
    return rc;
}

int
yard_pipeline_run_file (yard_client_t *c, const char *path,
                        const char *const *params, size_t nparams,
                        uint64_t resume_from, uint64_t *run_id)
{
    if (!c || !path)
        return -EINVAL;
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_pipeline_load (c, path, params, nparams, &spec, &err);
    if (rc < 0)
        return yard__client_fail (c, err.code ? err.code : -rc, err.text);
    rc = yard__pipeline_start (c, spec, resume_from, run_id);
    yard__pipeline_spec__free_unpacked (spec, NULL);
    return rc;
}

int
yard_pipeline_run_text (yard_client_t *c, const char *text, const char *dir,
                        const char *const *params, size_t nparams,
                        uint64_t resume_from, uint64_t *run_id)
{
    if (!c || !text)
        return -EINVAL;
    size_t len = strlen (text);
    if (len > YARD_PIPELINE_TEXT_MAX)
        return yard__client_fail (c, EFBIG, "pipeline text larger than "
                                            "4 MiB");
    char real[PATH_MAX];
    if (!realpath (dir ? dir : ".", real)) {
        int e = errno;
        char msg[PATH_MAX + 64];
        snprintf (msg, sizeof msg, "cannot use folder %s: %s",
                  dir ? dir : ".", strerror (e));
        return yard__client_fail (c, e, msg);
    }
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_pipeline_parse (c, text, len, real, "pipeline", params,
                                  nparams, &spec, &err);
    if (rc < 0)
        return yard__client_fail (c, err.code ? err.code : -rc, err.text);
    rc = yard__pipeline_start (c, spec, resume_from, run_id);
    yard__pipeline_spec__free_unpacked (spec, NULL);
    return rc;
}

int
yard_pipeline_rerun (yard_client_t *c, uint64_t run_id, uint64_t *new_run_id)
{
    if (!c || !run_id)
        return -EINVAL;
    return yard__pipeline_start (c, NULL, run_id, new_run_id);
}

static char *
dup0 (const char *s)
{
    return strdup (s ? s : "");
}

void
yard_pipeline_run_free (yard_pipeline_run_t **runp)
{
    if (!runp || !*runp)
        return;
    yard_pipeline_run_t *r = *runp;
    for (size_t i = 0; i < r->n_steps; i++) {
        free (r->steps[i].name);
        free (r->steps[i].reused_step);
        free (r->steps[i].reason);
        free (r->steps[i].cache_key);
    }
    free (r->steps);
    free (r->name);
    free (r->origin);
    free (r->reason);
    free (r);
    *runp = NULL;
}

/* Fill run (zeroed) from a PipelineRunInfo; false when out of memory (run
 * then holds what was copied, for yard_pipeline_run_free). */
static bool
run_from (yard_pipeline_run_t *run, const Yard__PipelineRunInfo *in)
{
    run->id = in->id;
    run->state = (enum yard_pipeline_state)in->state;
    run->create_ms = in->create_time_ms;
    run->end_ms = in->end_time_ms;
    run->resumed_from = in->resumed_from;
    bool ok = (run->name = dup0 (in->name)) && (run->origin = dup0 (in->origin))
              && (run->reason = dup0 (in->reason));
    if (ok && in->n_steps)
        ok = (run->steps = calloc (in->n_steps, sizeof run->steps[0]))
             != NULL;
    for (size_t i = 0; ok && i < in->n_steps; i++) {
        const Yard__StepInfo *si = in->steps[i];
        yard_pipeline_step_t *st = &run->steps[run->n_steps++];
        st->state = (enum yard_step_state)si->state;
        st->job_id = si->job_id;
        st->reused_run = si->reused_run;
        st->start_ms = si->start_time_ms;
        st->end_ms = si->end_time_ms;
        ok = (st->name = dup0 (si->name))
             && (st->reused_step = dup0 (si->reused_step))
             && (st->reason = dup0 (si->reason))
             && (st->cache_key = dup0 (si->cache_key));
    }
    return ok;
}

int
yard_pipeline_status (yard_client_t *c, uint64_t run_id,
                      yard_pipeline_run_t **out)
{
    if (!c || !out)
        return -EINVAL;
    *out = NULL;
    Yard__PipelineStatusRequest r = YARD__PIPELINE_STATUS_REQUEST__INIT;
    r.run_id = run_id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_STATUS;
    req.pipeline_status = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_PIPELINE_INFO,
                                &reply);
    if (rc < 0)
        return rc;
    yard_pipeline_run_t *run = calloc (1, sizeof *run);
    bool ok = run && run_from (run, reply->pipeline_info);
    yard_msg_free (&reply);
    if (!ok) {
        yard_pipeline_run_free (&run);
        return yard__client_fail (c, ENOMEM, "out of memory");
    }
    *out = run;
    return 0;
}

void
yard_pipeline_runs_free (yard_pipeline_run_t ***runsp, size_t n)
{
    if (!runsp || !*runsp)
        return;
    for (size_t i = 0; i < n; i++)
        yard_pipeline_run_free (&(*runsp)[i]);
    free (*runsp);
    *runsp = NULL;
}

int
yard_pipeline_list (yard_client_t *c, const char *name, uint32_t limit,
                    yard_pipeline_run_t ***out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    *out = NULL;
    *n = 0;
    Yard__PipelineListRequest r = YARD__PIPELINE_LIST_REQUEST__INIT;
    r.name = (char *)(name ? name : "");
    r.limit = limit;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_LIST;
    req.pipeline_list = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req,
                                YARD__ENVELOPE__BODY_PIPELINE_LIST_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__PipelineListReply *l = reply->pipeline_list_reply;
    yard_pipeline_run_t **runs = NULL;
    size_t got = 0;
    bool ok = true;
    if (l->n_runs)
        ok = (runs = calloc (l->n_runs, sizeof *runs)) != NULL;
    for (size_t i = 0; ok && i < l->n_runs; i++) {
        ok = (runs[got] = calloc (1, sizeof *runs[got])) != NULL;
        if (ok) {
            got++;
            ok = run_from (runs[got - 1], l->runs[i]);
        }
    }
    yard_msg_free (&reply);
    if (!ok) {
        yard_pipeline_runs_free (&runs, got);
        return yard__client_fail (c, ENOMEM, "out of memory");
    }
    *out = runs;
    *n = got;
    return 0;
}

void
yard_pipeline_explain_free (yard_pipeline_explain_t **xp)
{
    if (!xp || !*xp)
        return;
    yard_pipeline_explain_t *x = *xp;
    for (size_t i = 0; i < x->n_lines; i++)
        free (x->lines[i]);
    free (x->lines);
    free (x->step);
    free (x->cache_key);
    free (x->reused_step);
    free (x->key_parts);
    free (x);
    *xp = NULL;
}

int
yard_pipeline_explain (yard_client_t *c, uint64_t run_id, const char *step,
                       yard_pipeline_explain_t **out)
{
    if (!c || !step || !out)
        return -EINVAL;
    *out = NULL;
    Yard__PipelineExplainRequest r = YARD__PIPELINE_EXPLAIN_REQUEST__INIT;
    r.run_id = run_id;
    r.step = (char *)step;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_EXPLAIN;
    req.pipeline_explain = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req,
                                YARD__ENVELOPE__BODY_PIPELINE_EXPLAIN_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__PipelineExplainReply *in = reply->pipeline_explain_reply;
    yard_pipeline_explain_t *x = calloc (1, sizeof *x);
    bool ok = x != NULL;
    if (ok) {
        x->run_id = in->run_id;
        x->state = (enum yard_step_state)in->state;
        x->reused_run = in->reused_run;
        x->compared_run = in->compared_run;
        ok = (x->step = dup0 (in->step)) && (x->cache_key = dup0 (in->cache_key))
             && (x->reused_step = dup0 (in->reused_step))
             && (x->key_parts = dup0 (in->key_parts));
    }
    if (ok && in->n_lines)
        ok = (x->lines = calloc (in->n_lines, sizeof *x->lines)) != NULL;
    for (size_t i = 0; ok && i < in->n_lines; i++)
        ok = (x->lines[x->n_lines++] = dup0 (in->lines[i])) != NULL;
    yard_msg_free (&reply);
    if (!ok) {
        yard_pipeline_explain_free (&x);
        return yard__client_fail (c, ENOMEM, "out of memory");
    }
    *out = x;
    return 0;
}

int
yard_pipeline_cancel (yard_client_t *c, uint64_t run_id)
{
    if (!c)
        return -EINVAL;
    Yard__PipelineCancelRequest r = YARD__PIPELINE_CANCEL_REQUEST__INIT;
    r.run_id = run_id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_PIPELINE_CANCEL;
    req.pipeline_cancel = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_PIPELINE_INFO,
                                &reply);
    yard_msg_free (&reply);
    return rc;
}

int
yard_dataset_add (yard_client_t *c, const char *name, const char *path,
                  uint32_t *version)
{
    if (!c || !name || !path)
        return -EINVAL;
    char digest[65];
    uint64_t size = 0;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_artifact_upload (c, path, digest, &size, &err);
    if (rc < 0)
        return yard__client_fail (c, err.code ? err.code : -rc, err.text);
    Yard__DatasetRequest r = YARD__DATASET_REQUEST__INIT;
    r.action = YARD__DATASET_REQUEST__ACTION__ADD;
    r.name = (char *)name;
    r.digest = digest;
    r.size = size;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_DATASET;
    req.dataset = &r;
    yard_env_t *reply = NULL;
    rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_DATASET_REPLY,
                            &reply);
    if (rc == 0 && version && reply->dataset_reply->n_datasets)
        *version = reply->dataset_reply->datasets[0]->version;
    yard_msg_free (&reply);
    return rc;
}

void
yard_datasets_free (yard_dataset_t **v, size_t n)
{
    if (!v || !*v)
        return;
    for (size_t i = 0; i < n; i++) {
        free ((*v)[i].name);
        free ((*v)[i].digest);
    }
    free (*v);
    *v = NULL;
}

int
yard_dataset_list (yard_client_t *c, const char *name, yard_dataset_t **out,
                   size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    *out = NULL;
    *n = 0;
    Yard__DatasetRequest r = YARD__DATASET_REQUEST__INIT;
    r.action = YARD__DATASET_REQUEST__ACTION__LIST;
    r.name = (char *)(name ? name : "");
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_DATASET;
    req.dataset = &r;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_DATASET_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__DatasetReply *d = reply->dataset_reply;
    yard_dataset_t *v = NULL;
    size_t got = 0;
    bool ok = true;
    if (d->n_datasets)
        ok = (v = calloc (d->n_datasets, sizeof *v)) != NULL;
    for (size_t i = 0; ok && i < d->n_datasets; i++) {
        const Yard__DatasetInfo *di = d->datasets[i];
        yard_dataset_t *o = &v[got++];
        o->version = di->version;
        o->size = di->size;
        o->create_ms = di->create_time_ms;
        ok = (o->name = dup0 (di->name)) && (o->digest = dup0 (di->digest));
    }
    yard_msg_free (&reply);
    if (!ok) {
        yard_datasets_free (&v, got);
        return yard__client_fail (c, ENOMEM, "out of memory");
    }
    *out = v;
    *n = got;
    return 0;
}
