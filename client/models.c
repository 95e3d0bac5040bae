/* models.c - libyard's model registry calls (yard/models.h): a
 * ModelRequest answered by a ModelReply. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "client_internal.h"
#include "digest.h"
#include "msg.h"
#include "pipeline_yaml.h"
#include "xfer.h"
#include "yard/models.h"
#include "yard/yard.h"

static void
version_clear (yard_model_version_t *m)
{
    free (m->model);
    free (m->digest);
    free (m->step);
    for (size_t k = 0; k < m->n_metrics; k++)
        free (m->metric_keys[k]);
    free (m->metric_keys);
    free (m->metric_values);
    memset (m, 0, sizeof *m);
}

void
yard_model_versions_free (yard_model_version_t **v, size_t n)
{
    if (!v || !*v)
        return;
    for (size_t i = 0; i < n; i++)
        version_clear (&(*v)[i]);
    free (*v);
    *v = NULL;
}

static int
from_proto (const Yard__ModelVersion *in, yard_model_version_t *out)
{
    out->version = in->version;
    out->size = in->size;
    out->created_ms = in->created_ms;
    out->job_id = in->job_id;
    out->run_id = in->run_id;
    if (!(out->model = strdup (in->model ? in->model : ""))
        || !(out->digest = strdup (in->digest ? in->digest : ""))
        || !(out->step = strdup (in->step ? in->step : "")))
        return -ENOMEM;
    if (in->n_metrics == 0)
        return 0;
    if (!(out->metric_keys = calloc (in->n_metrics, sizeof (char *)))
        || !(out->metric_values = calloc (in->n_metrics, sizeof (double))))
        return -ENOMEM;
    for (size_t i = 0; i < in->n_metrics; i++) {
        if (!(out->metric_keys[i] = strdup (in->metrics[i]->key
                                                ? in->metrics[i]->key
                                                : "")))
            return -ENOMEM;
        out->metric_values[i] = in->metrics[i]->value;
        out->n_metrics = i + 1;
    }
    return 0;
}

/* Send q, convert the ModelReply. */
static int
call (yard_client_t *c, Yard__ModelRequest *q, yard_model_version_t **out,
      size_t *n)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_MODEL;
    req.model = q;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_MODEL_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__ModelReply *r = reply->model_reply;
    yard_model_version_t *v = NULL;
    size_t nv = 0;
    if (out && r->n_versions > 0) {
        if (!(v = calloc (r->n_versions, sizeof v[0]))) {
            rc = yard__client_fail (c, ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < r->n_versions; i++) {
            nv = i + 1;
            if (from_proto (r->versions[i], &v[i]) < 0) {
                yard_model_versions_free (&v, nv);
                rc = yard__client_fail (c, ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    if (out)
        *out = v;
    if (n)
        *n = nv;
done:
    yard_msg_free (&reply);
    return rc;
}

int
yard_model_register (yard_client_t *c, const char *model, const char *what,
                     const char *const *metric_keys,
                     const double *metric_values, size_t n_metrics,
                     uint64_t job_id, yard_model_version_t **out)
{
    if (!c)
        return -EINVAL;
    if (out)
        *out = NULL;
    if (!model || !*model || !what || !*what)
        return yard__client_fail (c, EINVAL, "yard_model_register: a model "
                                             "name and a path or digest are "
                                             "required");
    if (n_metrics && (!metric_keys || !metric_values))
        return yard__client_fail (c, EINVAL, "yard_model_register: metrics "
                                             "without keys or values");
    char digest[65];
    struct stat st;
    uint64_t size = 0;
    if (yard_digest_valid (what) && stat (what, &st) < 0) {
        memcpy (digest, what, 65);
    } else {
        yard_error_t err;
        yard_error_clear (&err);
        int rc = yard_artifact_upload (c, what, digest, &size, &err);
        if (rc < 0)
            return yard__client_fail (c, -rc, err.text);
    }
    Yard__MetricValue *mv = calloc (n_metrics + 1, sizeof *mv);
    Yard__MetricValue **mp = calloc (n_metrics + 1, sizeof *mp);
    if (!mv || !mp) {
        free (mv);
        free (mp);
        return yard__client_fail (c, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_metrics; i++) {
        yard__metric_value__init (&mv[i]);
        mv[i].key = (char *)metric_keys[i];
        mv[i].value = metric_values[i];
        mp[i] = &mv[i];
    }
    Yard__ModelRequest q = YARD__MODEL_REQUEST__INIT;
    q.op = "register";
    q.model = (char *)model;
    q.digest = digest;
    q.metrics = mp;
    q.n_metrics = n_metrics;
    q.job_id = job_id;
    q.size = size;
    size_t n = 0;
    int rc = call (c, &q, out, &n);
    free (mv);
    free (mp);
    return rc;
}

int
yard_model_list (yard_client_t *c, yard_model_version_t **out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    Yard__ModelRequest q = YARD__MODEL_REQUEST__INIT;
    q.op = "list";
    return call (c, &q, out, n);
}

int
yard_model_show (yard_client_t *c, const char *model, uint32_t version,
                 yard_model_version_t **out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    if (!model || !*model)
        return yard__client_fail (c, EINVAL, "yard_model_show: a model name "
                                             "is required");
    Yard__ModelRequest q = YARD__MODEL_REQUEST__INIT;
    q.op = "show";
    q.model = (char *)model;
    q.version = version;
    return call (c, &q, out, n);
}

int
yard_model_get (yard_client_t *c, const char *model, uint32_t version,
                const char *dest, yard_model_version_t **out)
{
    if (!c)
        return -EINVAL;
    if (out)
        *out = NULL;
    if (!dest || !*dest)
        return yard__client_fail (c, EINVAL, "yard_model_get: a destination "
                                             "is required");
    yard_model_version_t *v = NULL;
    size_t n = 0;
    int rc = yard_model_show (c, model, version, &v, &n);
    if (rc < 0)
        return rc;
    if (n == 0) {
        yard_model_versions_free (&v, n);
        return yard__client_fail (c, ENOENT, "the model has no version");
    }
    void *zctx = zmq_ctx_new ();
    void *sock = zctx ? zmq_socket (zctx, ZMQ_DEALER) : NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int linger = 0;
    if (!sock) {
        rc = yard_errorf (&err, ENOMEM, "cannot open a socket");
    } else {
        zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect (sock, yard_client_endpoint (c)) < 0) {
            rc = yard_errorf (&err, errno, "cannot connect to %s: %s",
                              yard_client_endpoint (c), zmq_strerror (errno));
        } else {
            yard_xfer_t x = {.sock = sock,
                             .timeout_ms = yard_client_timeout (c)};
            bool is_tree = false;
            rc = yard_xfer_get_path (&x, v[0].digest, dest, &is_tree, &err);
        }
    }
    if (sock)
        zmq_close (sock);
    if (zctx)
        zmq_ctx_term (zctx);
    if (rc < 0) {
        yard_model_versions_free (&v, n);
        return yard__client_fail (c, -rc, err.text);
    }
    if (!out) {
        yard_model_versions_free (&v, n);
        return 0;
    }
    for (size_t i = 1; i < n; i++) /* the caller gets an array of one */
        version_clear (&v[i]);
    *out = v;
    return 0;
}

int
yard_model_metric (const yard_model_version_t *v, const char *key,
                   double *value)
{
    if (!v || !key)
        return -EINVAL;
    for (size_t i = 0; i < v->n_metrics; i++)
        if (strcmp (v->metric_keys[i], key) == 0) {
            if (value)
                *value = v->metric_values[i];
            return 0;
        }
    return -ENOENT;
}
