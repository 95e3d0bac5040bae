/* server_pipeline.c - pipeline and dataset requests on the client port:
 * run, status, cancel, list, explain, dataset add/list (see pipeline.h).
 *
 * Replies are built from the rows written in the same batch, so what a
 * client reads is what the batch commits before the reply leaves.  Reply
 * messages are built with malloc'd members only and freed with protobuf-c's
 * free_unpacked.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "log.h"
#include "pipeline.h"
#include "pipeline_dag.h"
#include "store_datasets.h"
#include "store_pipeline.h"
#include "triggers.h"
#include "util.h"

#define LIST_DEFAULT 100
#define LIST_MAX 10000

static char *
dup0 (const char *s)
{
    return strdup (s ? s : "");
}

static void
store_error (yard_server_t *s, const yard_peer_t *peer, uint64_t rid, int rc)
{
    yard__reply_store_error (s, peer, rid, rc);
}

static Yard__PipelineRunInfo *
run_info (const yard_prun_t *run, bool with_steps)
{
    Yard__PipelineRunInfo *info = calloc (1, sizeof *info);
    if (!info)
        return NULL;
    yard__pipeline_run_info__init (info);
    info->id = run->id;
    info->state = run->state;
    info->create_time_ms = run->created_ms;
    info->end_time_ms = run->end_ms;
    info->resumed_from = run->resumed_from;
    bool ok = (info->name = dup0 (run->name)) && (info->origin = dup0 (run->origin))
              && (info->reason = dup0 (run->reason));
    if (ok && run->spec && run->spec->n_params) {
        info->params = calloc (run->spec->n_params, sizeof info->params[0]);
        ok = info->params != NULL;
        for (size_t i = 0; ok && i < run->spec->n_params; i++) {
            Yard__EnvVar *e = calloc (1, sizeof *e);
            if (!(ok = e != NULL))
                break;
            yard__env_var__init (e);
            info->params[info->n_params++] = e;
            ok = (e->key = dup0 (run->spec->params[i]->key))
                 && (e->value = dup0 (run->spec->params[i]->value));
        }
    }
    if (ok && with_steps && run->nsteps) {
        info->steps = calloc (run->nsteps, sizeof info->steps[0]);
        ok = info->steps != NULL;
        for (size_t i = 0; ok && i < run->nsteps; i++) {
            const yard_pstep_t *p = &run->steps[i];
            Yard__StepInfo *si = calloc (1, sizeof *si);
            if (!(ok = si != NULL))
                break;
            yard__step_info__init (si);
            info->steps[info->n_steps++] = si;
            si->state = p->state;
            si->job_id = p->job_id;
            si->reused_run = p->reused_run;
            si->start_time_ms = p->start_ms;
            si->end_time_ms = p->end_ms;
            ok = (si->name = dup0 (p->name))
                 && (si->reused_step = dup0 (p->reused_step))
                 && (si->reason = dup0 (p->reason))
                 && (si->cache_key = dup0 (p->cache_key));
            const Yard__PipelineStep *st = NULL;
            for (size_t j = 0; run->spec && j < run->spec->n_steps; j++)
                if (strcmp (run->spec->steps[j]->name, p->name) == 0)
                    st = run->spec->steps[j];
            if (ok && st && st->n_needs) {
                ok = (si->needs = calloc (st->n_needs, sizeof si->needs[0]))
                     != NULL;
                for (size_t j = 0; ok && j < st->n_needs; j++)
                    ok = (si->needs[si->n_needs++] = dup0 (st->needs[j]))
                         != NULL;
            }
            json_t *outs = json_loads (p->outputs, 0, NULL);
            size_t no = json_array_size (outs);
            if (ok && no) {
                ok = (si->outputs = calloc (no, sizeof si->outputs[0]))
                     != NULL;
                for (size_t j = 0; ok && j < no; j++) {
                    json_t *o = json_array_get (outs, j);
                    Yard__NamedDigest *nd = calloc (1, sizeof *nd);
                    if (!(ok = nd != NULL))
                        break;
                    yard__named_digest__init (nd);
                    si->outputs[si->n_outputs++] = nd;
                    nd->size = (uint64_t)json_integer_value (
                        json_object_get (o, "size"));
                    ok = (nd->name = dup0 (json_string_value (
                              json_object_get (o, "name"))))
                         && (nd->digest = dup0 (json_string_value (
                                 json_object_get (o, "digest"))));
                }
            }
            json_decref (outs);
        }
    }
    if (!ok) {
        yard__pipeline_run_info__free_unpacked (info, NULL);
        return NULL;
    }
    return info;
}

/* Reply the run's PipelineRunInfo, read in the batch transaction. */
static void
reply_run (yard_server_t *s, const yard_peer_t *peer, uint64_t rid,
           uint64_t run_id)
{
    yard_prun_t *run = NULL;
    int rc = yard_store_prun_get (s->store, run_id, &run);
    if (rc == -ENOENT) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, ENOENT,
                           "no pipeline run %" PRIu64 " (see yard pipeline "
                           "list)", run_id);
        return;
    }
    if (rc < 0) {
        store_error (s, peer, rid, rc);
        return;
    }
    Yard__PipelineRunInfo *info = run_info (run, true);
    yard_prun_free (&run);
    if (!info) {
        yard__fail (s, -ENOMEM);
        store_error (s, peer, rid, -ENOMEM);
        return;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = rid;
    out.body_case = YARD__ENVELOPE__BODY_PIPELINE_INFO;
    out.pipeline_info = info;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    yard__pipeline_run_info__free_unpacked (info, NULL);
}

static bool
body_or_reply (yard_server_t *s, const yard_peer_t *peer, yard_env_t *env,
               const void *body)
{
    if (body)
        return true;
    yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                       "the request has no body");
    return false;
}

void
yard__on_pipeline_run (yard_server_t *s, const yard_peer_t *peer,
                       yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const Yard__PipelineRunRequest *req = env->pipeline_run;
    if (!body_or_reply (s, peer, env, req))
        return;
    yard_prun_t *old = NULL;
    const Yard__PipelineSpec *spec = req->spec;
    if (req->resume_from) {
        int rc = yard_store_prun_get (s->store, req->resume_from, &old);
        if (rc == -ENOENT) {
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                               "no pipeline run %" PRIu64 " to resume",
                               req->resume_from);
            return;
        }
        if (rc < 0) {
            store_error (s, peer, env->request_id, rc);
            return;
        }
        if (!spec)
            spec = old->spec;
        else if (strcmp (spec->name ? spec->name : "", old->name) != 0) {
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                               "run %" PRIu64 " is of pipeline '%s', not "
                               "'%s': resume a run of the same pipeline",
                               old->id, old->name, spec->name);
            yard_prun_free (&old);
            return;
        }
    }
    if (!spec) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "the request has no pipeline spec");
        return;
    }
    yard_error_t err;
    yard_error_clear (&err);
    uint64_t id = 0;
    int rc = yard__pipeline_start_ex (s, spec, "cli", req->resume_from, &id,
                                      &err);
    yard_prun_free (&old);
    if (rc < 0) {
        if (s->batch_failed)
            store_error (s, peer, env->request_id, s->batch_failed);
        else
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id,
                               err.code ? err.code : -rc, "%s", err.text);
        return;
    }
    reply_run (s, peer, env->request_id, id);
}

void
yard__on_pipeline_status (yard_server_t *s, const yard_peer_t *peer,
                          yard_node_t *node, yard_env_t *env)
{
    (void)node;
    if (!body_or_reply (s, peer, env, env->pipeline_status))
        return;
    reply_run (s, peer, env->request_id, env->pipeline_status->run_id);
}

void
yard__on_pipeline_cancel (yard_server_t *s, const yard_peer_t *peer,
                          yard_node_t *node, yard_env_t *env)
{
    (void)node;
    if (!body_or_reply (s, peer, env, env->pipeline_cancel))
        return;
    uint64_t id = env->pipeline_cancel->run_id;
    int rc = yard__pipeline_cancel (s, id, "cancelled by user");
    if (rc == -ENOENT) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                           "no pipeline run %" PRIu64 " (see yard pipeline "
                           "list)", id);
        return;
    }
    if (rc < 0) {
        store_error (s, peer, env->request_id, rc);
        return;
    }
    reply_run (s, peer, env->request_id, id);
}

struct list_ctx {
    Yard__PipelineListReply *reply;
    size_t cap;
};

static int
list_cb (const yard_prun_t *run, void *arg)
{
    struct list_ctx *c = arg;
    Yard__PipelineListReply *r = c->reply;
    if (r->n_runs == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        Yard__PipelineRunInfo **v = realloc (r->runs, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        r->runs = v;
        c->cap = cap;
    }
    Yard__PipelineRunInfo *info = run_info (run, false);
    if (!info)
        return -ENOMEM;
    r->runs[r->n_runs++] = info;
    return 0;
}

void
yard__on_pipeline_list (yard_server_t *s, const yard_peer_t *peer,
                        yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const Yard__PipelineListRequest *req = env->pipeline_list;
    if (!body_or_reply (s, peer, env, req))
        return;
    uint32_t limit = req->limit ? req->limit : LIST_DEFAULT;
    if (limit > LIST_MAX)
        limit = LIST_MAX;
    Yard__PipelineListReply *reply = calloc (1, sizeof *reply);
    if (!reply) {
        store_error (s, peer, env->request_id, -ENOMEM);
        return;
    }
    yard__pipeline_list_reply__init (reply);
    struct list_ctx c = {reply, 0};
    int rc = yard_store_pruns_list (s->store, req->name, limit, list_cb, &c);
    if (rc < 0) {
        yard__pipeline_list_reply__free_unpacked (reply, NULL);
        store_error (s, peer, env->request_id, rc);
        return;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_PIPELINE_LIST_REPLY;
    out.pipeline_list_reply = reply;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    yard__pipeline_list_reply__free_unpacked (reply, NULL);
}

/* ---- explain ---- */

static int
add_line (Yard__PipelineExplainReply *r, const char *text)
{
    char **v = realloc (r->lines, (r->n_lines + 1) * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    r->lines = v;
    if (!(v[r->n_lines] = strdup (text)))
        return -ENOMEM;
    r->n_lines++;
    return 0;
}

void
yard__on_pipeline_explain (yard_server_t *s, const yard_peer_t *peer,
                           yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const Yard__PipelineExplainRequest *req = env->pipeline_explain;
    if (!body_or_reply (s, peer, env, req))
        return;
    yard_prun_t *run = NULL;
    int rc = yard_store_prun_get (s->store, req->run_id, &run);
    if (rc == -ENOENT) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                           "no pipeline run %" PRIu64 " (see yard pipeline "
                           "list)", req->run_id);
        return;
    }
    if (rc < 0) {
        store_error (s, peer, env->request_id, rc);
        return;
    }
    const yard_pstep_t *p = NULL;
    for (size_t i = 0; i < run->nsteps; i++)
        if (req->step && strcmp (run->steps[i].name, req->step) == 0)
            p = &run->steps[i];
    if (!p) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                           "run %" PRIu64 " (%s) has no step '%s'", run->id,
                           run->name, req->step ? req->step : "");
        yard_prun_free (&run);
        return;
    }
    Yard__PipelineExplainReply *r = calloc (1, sizeof *r);
    char *prev = NULL;
    json_t *a = NULL, *b = NULL, *lines = json_array ();
    bool ok = r && lines;
    if (ok) {
        yard__pipeline_explain_reply__init (r);
        r->run_id = run->id;
        r->state = p->state;
        r->reused_run = p->reused_run;
        ok = (r->step = dup0 (p->name)) && (r->cache_key = dup0 (p->cache_key))
             && (r->reused_step = dup0 (p->reused_step))
             && (r->key_parts = dup0 (p->key_parts));
    }
    char buf[1024];
    if (ok && p->state == YARD__STEP_STATE__STEP_REUSED) {
        snprintf (buf, sizeof buf,
                  "reused from run %" PRIu64 " step %s: same cache key %.12s..",
                  p->reused_run, p->reused_step, p->cache_key);
        ok = add_line (r, buf) == 0;
    } else if (ok && !*p->key_parts) {
        snprintf (buf, sizeof buf, "not started: %s",
                  *p->reason ? p->reason : "its needs are not met yet");
        ok = add_line (r, buf) == 0;
    } else if (ok) {
        if (*p->reason)
            ok = add_line (r, p->reason) == 0;
        uint64_t prev_run = 0;
        rc = yard_store_pstep_previous (s->store, run->name, p->name, run->id,
                                        &prev_run, &prev);
        if (rc == -ENOENT)
            ok = ok && add_line (r, "no earlier run of this pipeline ran "
                                    "this step") == 0;
        else if (rc < 0) {
            ok = false;
        } else if (ok) {
            r->compared_run = prev_run;
            a = json_loads (prev, 0, NULL);
            b = json_loads (p->key_parts, 0, NULL);
            size_t n = yard_pipeline_key_diff (a, b, lines);
            if (n == 0) {
                snprintf (buf, sizeof buf,
                          "same key as run %" PRIu64 ": nothing changed",
                          prev_run);
                ok = add_line (r, buf) == 0;
            } else {
                snprintf (buf, sizeof buf,
                          "compared with run %" PRIu64 ":", prev_run);
                ok = add_line (r, buf) == 0;
                for (size_t i = 0; ok && i < json_array_size (lines); i++)
                    ok = add_line (r, json_string_value (
                                          json_array_get (lines, i)))
                         == 0;
            }
        }
    }
    free (prev);
    json_decref (a);
    json_decref (b);
    json_decref (lines);
    yard_prun_free (&run);
    if (!ok) {
        if (r)
            yard__pipeline_explain_reply__free_unpacked (r, NULL);
        store_error (s, peer, env->request_id, rc < 0 ? rc : -ENOMEM);
        return;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_PIPELINE_EXPLAIN_REPLY;
    out.pipeline_explain_reply = r;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    yard__pipeline_explain_reply__free_unpacked (r, NULL);
}

/* ---- datasets ---- */

static int
dataset_cb (const yard_dataset_row_t *row, void *arg)
{
    Yard__DatasetReply *r = arg;
    Yard__DatasetInfo **v
        = realloc (r->datasets, (r->n_datasets + 1) * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    r->datasets = v;
    Yard__DatasetInfo *d = calloc (1, sizeof *d);
    if (!d)
        return -ENOMEM;
    yard__dataset_info__init (d);
    v[r->n_datasets++] = d;
    d->version = row->version;
    d->size = row->size;
    d->create_time_ms = row->created_ms;
    if (!(d->name = dup0 (row->name)) || !(d->digest = dup0 (row->digest)))
        return -ENOMEM;
    return 0;
}

void
yard__on_dataset (yard_server_t *s, const yard_peer_t *peer,
                  yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const Yard__DatasetRequest *req = env->dataset;
    if (!body_or_reply (s, peer, env, req))
        return;
    Yard__DatasetReply *r = calloc (1, sizeof *r);
    if (!r) {
        store_error (s, peer, env->request_id, -ENOMEM);
        return;
    }
    yard__dataset_reply__init (r);
    int rc;
    if (req->action == YARD__DATASET_REQUEST__ACTION__ADD) {
        if (!yard_pipeline_name_ok (req->name)) {
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                               "'%s' is not a dataset name: 1 to %d letters, "
                               "digits, '_' and '-'",
                               req->name ? req->name : "",
                               YARD_PIPELINE_NAME_MAX);
            goto out;
        }
        if (!yard_digest_valid (req->digest)
            || !yard_artifacts_complete (s->artifacts, req->digest)) {
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                               "artifact '%.64s' is not (completely) in the "
                               "artifact store: upload it first",
                               req->digest ? req->digest : "");
            goto out;
        }
        uint32_t version = 0;
        rc = yard_store_dataset_add (s->store, req->name, req->digest,
                                     req->size, yard_now_ms (), &version);
        if (rc < 0) {
            yard__fail (s, rc);
            store_error (s, peer, env->request_id, rc);
            goto out;
        }
        log_info ("dataset %s version %u: %.12s.. (%" PRIu64 " bytes)",
                  req->name, version, req->digest, req->size);
        yard_dataset_row_t row = {req->name, version, req->digest, req->size,
                                  yard_now_ms ()};
        if (dataset_cb (&row, r) < 0) {
            yard__fail (s, -ENOMEM);
            store_error (s, peer, env->request_id, -ENOMEM);
            goto out;
        }
        yard__triggers_dataset_added (s, req->name, version);
    } else {
        rc = yard_store_datasets_list (s->store, req->name, dataset_cb, r);
        if (rc < 0) {
            store_error (s, peer, env->request_id, rc);
            goto out;
        }
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_DATASET_REPLY;
    out.dataset_reply = r;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
out:
    yard__dataset_reply__free_unpacked (r, NULL);
}
