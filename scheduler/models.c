/* models.c - the model registry (see models.h). */
#include "models.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "digest.h"
#include "log.h"
#include "store_datasets.h"
#include "store_models.h"
#include "triggers.h"
#include "util.h"

#define MAX_METRICS 256          /* given with one ModelRequest */
#define MAX_VERSION_METRICS 1024 /* kept with one version */

int
yard__models_init (yard_server_t *s, yard_error_t *err)
{
    return yard_store_models_init (s->store, err);
}

int
yard__models_register (yard_server_t *s, const char *model,
                       const char *digest, uint64_t size,
                       Yard__MetricValue *const *metrics, size_t nmetrics,
                       uint64_t job_id, uint64_t run_id, const char *step,
                       uint32_t *version, yard_error_t *err)
{
    if (!yard_model_name_ok (model))
        return yard_errorf (err, EINVAL,
                            "'%s' is not a model name (1-128 of letters, "
                            "digits, '.', '_', '-')",
                            model ? model : "");
    uint32_t latest = 0;
    int rc = yard_store_model_latest (s->store, model, &latest);
    if (rc < 0) {
        yard__fail (s, rc);
        return yard_errorf (err, -rc, "cannot read the models table");
    }
    Yard__ModelVersion v = YARD__MODEL_VERSION__INIT;
    v.model = (char *)model;
    v.version = latest + 1;
    v.digest = (char *)digest;
    v.size = size;
    v.created_ms = yard_now_ms ();
    v.metrics = (Yard__MetricValue **)metrics;
    v.n_metrics = nmetrics;
    v.job_id = job_id;
    v.run_id = run_id;
    v.step = (char *)(step ? step : "");
    if ((rc = yard_store_model_insert (s->store, &v)) < 0) {
        yard__fail (s, rc);
        return yard_errorf (err, -rc, "cannot store the model version: %s",
                            yard_store_errmsg (s->store));
    }
    char owner[200];
    snprintf (owner, sizeof owner, "model:%s@%u", model, v.version);
    if ((rc = yard_store_artifact_ref (s->store, digest, owner)) < 0) {
        yard__fail (s, rc);
        return yard_errorf (err, -rc, "cannot store the model version: %s",
                            yard_store_errmsg (s->store));
    }
    *version = v.version;
    log_info ("model %s version %u registered (%s, job %llu)", model,
              v.version, digest, (unsigned long long)job_id);
    yard__triggers_model_registered (s, model, v.version, run_id);
    return 0;
}

/* metrics given, then the job's latest values for the keys not given.
 * *out owns new copies (free with yard_store_model_metrics_free). */
static int
merge_metrics (yard_server_t *s, Yard__MetricValue *const *given, size_t ng,
               uint64_t job_id, Yard__MetricValue ***out, size_t *n)
{
    Yard__MetricValue **job = NULL;
    size_t nj = 0;
    if (job_id) {
        int rc = yard_store_job_latest_metrics (s->store, job_id, &job, &nj);
        if (rc < 0)
            return rc;
    }
    Yard__MetricValue **v = calloc (ng + nj + 1, sizeof v[0]);
    size_t nv = 0;
    int rc = v ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < ng + nj; i++) {
        const Yard__MetricValue *m = i < ng ? given[i] : job[i - ng];
        bool dup = false;
        for (size_t k = 0; k < nv && !dup; k++)
            dup = strcmp (v[k]->key, m->key) == 0;
        if (dup)
            continue;
        if (nv == MAX_VERSION_METRICS) {
            log_warn ("job %llu reported more than %d metric keys: the "
                      "model version keeps the first %d",
                      (unsigned long long)job_id, MAX_VERSION_METRICS,
                      MAX_VERSION_METRICS);
            break;
        }
        Yard__MetricValue *c = malloc (sizeof *c);
        if (!c) {
            rc = -ENOMEM;
            break;
        }
        yard__metric_value__init (c);
        v[nv++] = c;
        if (!(c->key = strdup (m->key))) {
            rc = -ENOMEM;
            break;
        }
        c->value = m->value;
    }
    yard_store_model_metrics_free (job, nj);
    if (rc < 0) {
        yard_store_model_metrics_free (v, nv);
        return rc;
    }
    *out = v;
    *n = nv;
    return 0;
}

static const Yard__MetricValue *
find_metric (Yard__MetricValue *const *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (v[i]->key, key) == 0)
            return v[i];
    return NULL;
}

int
yard__models_step_completed (yard_server_t *s, uint64_t run_id,
                             const char *step, uint64_t job_id,
                             const Yard__PipelineStep *spec,
                             const Yard__NamedDigest *const *outputs,
                             size_t n_outputs, yard_error_t *err)
{
    const Yard__ModelRegistration *reg = spec ? spec->register_model : NULL;
    if (!reg || !reg->model || !reg->model[0])
        return 0;
    yard_model_when_t w;
    int rc = yard_model_when_parse (reg->when, &w, err);
    if (rc < 0)
        return rc;
    const Yard__NamedDigest *out = NULL;
    for (size_t i = 0; i < n_outputs && !out; i++)
        if (outputs[i]->name && reg->output
            && strcmp (outputs[i]->name, reg->output) == 0)
            out = outputs[i];
    if (!out || !yard_digest_valid (out->digest))
        return yard_errorf (err, ENOENT,
                            "step %s has no output '%s' to register as "
                            "model %s",
                            step, reg->output ? reg->output : "",
                            reg->model);
    Yard__MetricValue **m = NULL;
    size_t nm = 0;
    if ((rc = merge_metrics (s, NULL, 0, job_id, &m, &nm)) < 0) {
        if (rc != -ENOMEM)
            yard__fail (s, rc);
        return yard_errorf (err, -rc, "cannot read the metrics of job %llu",
                            (unsigned long long)job_id);
    }
    bool have_latest = false;
    double latest = 0;
    const Yard__MetricValue *mine = w.always ? NULL : find_metric (m, nm, w.key);
    if (!w.always && w.vs_latest) {
        uint32_t lv = 0;
        if ((rc = yard_store_model_latest (s->store, reg->model, &lv)) < 0
            || (lv && (rc = yard_store_model_metric (s->store, reg->model, lv,
                                                     w.key, &latest))
                          < 0
                && rc != -ENOENT)) {
            yard_store_model_metrics_free (m, nm);
            yard__fail (s, rc);
            return yard_errorf (err, -rc, "cannot read model %s",
                                reg->model);
        }
        have_latest = lv > 0 && rc == 0;
    }
    char why[256];
    bool ok = yard_model_when_holds (&w, mine != NULL, mine ? mine->value : 0,
                                     have_latest, latest, why, sizeof why);
    if (!ok) {
        log_info ("run %llu step %s: model %s not registered: %s",
                  (unsigned long long)run_id, step, reg->model, why);
        yard_store_model_metrics_free (m, nm);
        return 0;
    }
    uint32_t version = 0;
    rc = yard__models_register (s, reg->model, out->digest, out->size, m, nm,
                                job_id, run_id, step, &version, err);
    yard_store_model_metrics_free (m, nm);
    if (rc == 0)
        log_info ("run %llu step %s: model %s version %u (%s)",
                  (unsigned long long)run_id, step, reg->model, version, why);
    return rc;
}

/* ---- ModelRequest ---- */

static void
reply_versions (yard_server_t *s, const yard_peer_t *peer,
                uint64_t request_id, Yard__ModelVersion **v, size_t n)
{
    Yard__ModelReply r = YARD__MODEL_REPLY__INIT;
    r.versions = v;
    r.n_versions = n;
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = request_id;
    out.body_case = YARD__ENVELOPE__BODY_MODEL_REPLY;
    out.model_reply = &r;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
}

static void
on_register (yard_server_t *s, const yard_peer_t *peer, yard_env_t *env)
{
    Yard__ModelRequest *q = env->model;
    uint64_t rid = env->request_id;
    if (!yard_model_name_ok (q->model)) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "'%s' is not a model name (1-128 of letters, "
                           "digits, '.', '_', '-')",
                           q->model ? q->model : "");
        return;
    }
    if (!yard_digest_valid (q->digest)) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "'%s' is not an artifact digest (64 lowercase "
                           "hex digits)",
                           q->digest ? q->digest : "");
        return;
    }
    uint64_t size = 0;
    if (!yard_artifacts_present (s->artifacts, q->digest, &size)
        || !yard_artifacts_complete (s->artifacts, q->digest)) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, ENOENT,
                           "artifact %s is not in the store: upload it "
                           "first (yard model register PATH does)",
                           q->digest);
        return;
    }
    if (q->n_metrics > MAX_METRICS) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "at most %d metrics per version", MAX_METRICS);
        return;
    }
    for (size_t i = 0; i < q->n_metrics; i++) {
        const char *k = q->metrics[i]->key;
        if (!k || !*k || strlen (k) > 128 || !isfinite (q->metrics[i]->value)) {
            yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                               "metric %zu needs a key (1-128 bytes) and a "
                               "finite value",
                               i + 1);
            return;
        }
    }
    if (q->job_id) {
        yard_job_t *job = NULL, *owned = NULL;
        int rc = yard__job_lookup (s, q->job_id, &job, &owned);
        if (rc < 0) {
            yard__reply_error (s, YARD__CLIENT, peer, rid, -rc,
                               rc == -ENOENT ? "no job %llu"
                                             : "cannot read job %llu",
                               (unsigned long long)q->job_id);
            return;
        }
        yard_job_destroy (&owned);
    }
    Yard__MetricValue **m = NULL;
    size_t nm = 0;
    int rc = merge_metrics (s, q->metrics, q->n_metrics, q->job_id, &m, &nm);
    if (rc < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, -rc,
                           "cannot read the metrics of job %llu",
                           (unsigned long long)q->job_id);
        return;
    }
    yard_error_t err;
    yard_error_clear (&err);
    uint32_t version = 0;
    rc = yard__models_register (s, q->model, q->digest,
                                q->size ? q->size : size, m, nm,
                                q->job_id, 0, "", &version, &err);
    yard_store_model_metrics_free (m, nm);
    if (rc < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, -rc, "%s", err.text);
        return;
    }
    Yard__ModelVersion **v = NULL;
    size_t n = 0;
    if ((rc = yard_store_model_versions (s->store, q->model, version, &v, &n))
        < 0) {
        yard__reply_store_error (s, peer, rid, rc);
        return;
    }
    reply_versions (s, peer, rid, v, n);
    yard_store_model_versions_free (v, n);
}

void
yard__on_model (yard_server_t *s, const yard_peer_t *peer, yard_node_t *node,
                yard_env_t *env)
{
    (void)node;
    Yard__ModelRequest *q = env->model;
    const char *op = q->op ? q->op : "";
    if (strcmp (op, "register") == 0) {
        on_register (s, peer, env);
        return;
    }
    bool list = strcmp (op, "list") == 0;
    if (!list && strcmp (op, "show") != 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "unknown model operation '%s' (register, list, "
                           "show)",
                           op);
        return;
    }
    if (!list && !yard_model_name_ok (q->model)) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "'%s' is not a model name",
                           q->model ? q->model : "");
        return;
    }
    Yard__ModelVersion **v = NULL;
    size_t n = 0;
    int rc = yard_store_model_versions (s->store, list ? NULL : q->model,
                                        list ? 0 : q->version, &v, &n);
    if (rc < 0) {
        yard__reply_store_error (s, peer, env->request_id, rc);
        return;
    }
    if (!list && n == 0) {
        if (q->version)
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                               "model %s has no version %u", q->model,
                               q->version);
        else
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id, ENOENT,
                               "no model %s (yard model list shows the "
                               "models)",
                               q->model);
        return;
    }
    reply_versions (s, peer, env->request_id, v, n);
    yard_store_model_versions_free (v, n);
}
