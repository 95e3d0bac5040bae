/* artifact.c - libyard's artifact calls: yard_artifact_put, _get, _stat.
 *
 * The transfers themselves are common/xfer.c's (resumable uploads, checked
 * downloads that appear only once complete).  Each call gives its transfer
 * a ZeroMQ context and DEALER of its own, connected to the client's
 * endpoint, and closes them when done: a transfer sends many requests, and
 * keeping them off the client's request socket means an abandoned chunk
 * can never be taken for the answer to a later call, and the client's
 * socket recovery (conn.c) is not disturbed by a long upload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "client_internal.h"
#include "msg.h"
#include "digest.h"
#include "xfer.h"
#include "yard/yard.h"

/* Manifests larger than this are not read by yard_artifact_stat to tell a
 * tree from a file (a 100000-file manifest is about 15 MB). */
#define STAT_SNIFF_MAX (32u * 1024 * 1024)

#define RECONNECT_IVL_MS 100

struct session {
    void *ctx;
    yard_xfer_t x;
};

static int
session_open (yard_client_t *c, struct session *s)
{
    int linger = 0, ivl = RECONNECT_IVL_MS;
    char msg[512];
    memset (s, 0, sizeof *s);
    if (!(s->ctx = zmq_ctx_new ()))
        return yard__client_fail (c, ENOMEM, "out of memory");
    zmq_ctx_set (s->ctx, ZMQ_BLOCKY, 0);
    void *sock = zmq_socket (s->ctx, ZMQ_DEALER);
    if (!sock
        || zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger) < 0
        || zmq_setsockopt (sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) < 0
        || zmq_connect (sock, yard_client_endpoint (c)) < 0) {
        int e = errno;
        if (sock)
            zmq_close (sock);
        zmq_ctx_term (s->ctx);
        s->ctx = NULL;
        snprintf (msg, sizeof msg, "cannot connect to %s: %s",
                  yard_client_endpoint (c), zmq_strerror (e));
        return yard__client_fail (c, e, msg);
    }
    s->x.sock = sock;
    s->x.timeout_ms = yard_client_timeout (c);
    return 0;
}

static void
session_close (struct session *s)
{
    if (s->x.sock)
        zmq_close (s->x.sock);
    if (s->ctx)
        zmq_ctx_term (s->ctx);
    s->x.sock = NULL;
    s->ctx = NULL;
}

/* Turn a transfer's error into the client's errmsg; returns -code. */
static int
xfer_failed (yard_client_t *c, int rc, const yard_error_t *err,
             const char *what)
{
    char msg[1024];
    if (rc == -ETIMEDOUT)
        snprintf (msg, sizeof msg,
                  "no answer from the scheduler at %s while %s: is "
                  "yard-scheduler running? (set --scheduler or "
                  "YARD_SCHEDULER; an interrupted put made again continues "
                  "where it stopped)",
                  yard_client_endpoint (c), what);
    else
        snprintf (msg, sizeof msg, "%s", err->text[0] ? err->text
                                                      : strerror (-rc));
    return yard__client_fail (c, -rc, msg);
}

/* Read the manifest of a present tree blob (or learn it is a file). */
static int
describe (yard_xfer_t *x, const char *digest, uint64_t blob_size,
          yard_artifact_t *out, yard_error_t *err)
{
    out->is_tree = false;
    out->size = blob_size;
    out->files = 1;
    if (blob_size > STAT_SNIFF_MAX)
        return 0;
    char *data = NULL;
    size_t len = 0;
    int rc = yard_xfer_get_buf (x, digest, blob_size, &data, &len, err);
    if (rc < 0)
        return rc;
    if (yard_tree_sniff (data, len)) {
        yard_tree_t t;
        if (yard_tree_parse (data, len, &t, NULL) == 0) {
            out->is_tree = true;
            out->size = t.total_size;
            out->files = t.count;
            for (size_t i = 0; i < t.count && out->present; i++) {
                yard_xfer_info_t fi;
                if ((rc = yard_xfer_stat (x, t.entries[i].digest, &fi, err))
                    < 0)
                    break;
                out->present = fi.present;
            }
            yard_tree_free (&t);
        }
    }
    free (data);
    return rc < 0 ? rc : 0;
}

int
yard_artifact_stat (yard_client_t *c, const char *digest, yard_artifact_t *out)
{
    struct session s;
    yard_error_t err = { 0 };
    yard_xfer_info_t info;
    int rc;

    if (!c || !out)
        return -EINVAL;
    memset (out, 0, sizeof *out);
    if (!digest || !yard_digest_valid (digest))
        return yard__client_fail (c, EINVAL,
                                  "not an artifact digest: a digest is the "
                                  "64 lowercase hex digits that 'yard "
                                  "artifact put' printed");
    snprintf (out->digest, sizeof out->digest, "%s", digest);
    if ((rc = session_open (c, &s)) < 0)
        return rc;
    if ((rc = yard_xfer_stat (&s.x, digest, &info, &err)) < 0) {
        rc = xfer_failed (c, rc, &err, "asking about an artifact");
        goto out;
    }
    out->present = info.present;
    out->partial = info.present ? 0 : info.partial;
    if (info.present
        && (rc = describe (&s.x, digest, info.size, out, &err)) < 0) {
        if (rc == -ENOENT) {
            /* collected between the two questions: it is gone now */
            memset (out, 0, sizeof *out);
            snprintf (out->digest, sizeof out->digest, "%s", digest);
            rc = 0;
        } else {
            rc = xfer_failed (c, rc, &err, "reading an artifact's manifest");
        }
    }
out:
    session_close (&s);
    return rc;
}

int
yard_artifact_put (yard_client_t *c, const char *path, yard_artifact_t *out)
{
    struct session s;
    yard_error_t err = { 0 };
    yard_artifact_t a = { 0 };
    int rc;

    if (!c)
        return -EINVAL;
    if (out)
        memset (out, 0, sizeof *out);
    if (!path || !*path)
        return yard__client_fail (c, EINVAL,
                                  "yard_artifact_put: a path is required");
    if ((rc = session_open (c, &s)) < 0)
        return rc;
    rc = yard_xfer_put_path (&s.x, path, a.digest, &a.size, &a.is_tree, &err);
    if (rc < 0) {
        rc = xfer_failed (c, rc, &err, "storing an artifact");
        goto out;
    }
    a.present = true;
    a.sent_bytes = s.x.sent_bytes;
    a.files = 1;
    if (a.is_tree) {
        /* the manifest is small and was just stored: count its files */
        uint64_t content = a.size;
        yard_xfer_info_t info;
        if ((rc = yard_xfer_stat (&s.x, a.digest, &info, &err)) < 0
            || (rc = describe (&s.x, a.digest, info.size, &a, &err)) < 0) {
            rc = xfer_failed (c, rc, &err, "reading an artifact's manifest");
            goto out;
        }
        a.size = content;
        a.present = true;
    }
    if (out)
        *out = a;
out:
    session_close (&s);
    return rc;
}

int
yard_artifact_get (yard_client_t *c, const char *digest, const char *dest,
                   yard_artifact_t *out)
{
    struct session s;
    yard_error_t err = { 0 };
    yard_xfer_info_t info;
    yard_artifact_t a = { 0 };
    int rc;

    if (!c)
        return -EINVAL;
    if (out)
        memset (out, 0, sizeof *out);
    if (!digest || !yard_digest_valid (digest))
        return yard__client_fail (c, EINVAL,
                                  "not an artifact digest: a digest is the "
                                  "64 lowercase hex digits that 'yard "
                                  "artifact put' printed");
    if (!dest || !*dest)
        return yard__client_fail (c, EINVAL,
                                  "yard_artifact_get: a destination is "
                                  "required");
    snprintf (a.digest, sizeof a.digest, "%s", digest);
    if ((rc = session_open (c, &s)) < 0)
        return rc;
    /* A clear answer for a digest the store does not have, before anything
     * is created. */
    if ((rc = yard_xfer_stat (&s.x, digest, &info, &err)) < 0) {
        rc = xfer_failed (c, rc, &err, "asking about an artifact");
        goto out;
    }
    if (!info.present) {
        char msg[512];
        snprintf (msg, sizeof msg,
                  "the artifact store has no artifact %s (was it stored with "
                  "'yard artifact put' on this scheduler?)",
                  digest);
        rc = yard__client_fail (c, ENOENT, msg);
        goto out;
    }
    rc = yard_xfer_get_path (&s.x, digest, dest, &a.is_tree, &err);
    if (rc < 0) {
        rc = xfer_failed (c, rc, &err, "fetching an artifact");
        goto out;
    }
    a.present = true;
    a.sent_bytes = s.x.recv_bytes;
    a.size = info.size;
    a.files = 1;
    if (a.is_tree && (rc = describe (&s.x, digest, info.size, &a, &err)) < 0) {
        rc = xfer_failed (c, rc, &err, "reading an artifact's manifest");
        goto out;
    }
    if (out)
        *out = a;
out:
    session_close (&s);
    return rc;
}

/* ---- checkpoints ---- */

void
yard_checkpoints_free (yard_checkpoint_t **list, size_t count)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < count; i++) {
        free ((*list)[i].name);
        free ((*list)[i].node);
    }
    free (*list);
    *list = NULL;
}

int
yard_checkpoints (yard_client_t *c, uint64_t job_id, yard_checkpoint_t **list,
                  size_t *count)
{
    yard_env_t *reply = NULL;
    int rc;

    if (!c || !list || !count)
        return -EINVAL;
    *list = NULL;
    *count = 0;
    Yard__CheckpointsRequest q = YARD__CHECKPOINTS_REQUEST__INIT;
    q.job_id = job_id;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_CHECKPOINTS;
    req.checkpoints = &q;
    if ((rc = yard__client_call (c, &req,
                                 YARD__ENVELOPE__BODY_CHECKPOINTS_REPLY,
                                 &reply))
        < 0)
        return rc;
    const Yard__CheckpointsReply *r = reply->checkpoints_reply;
    yard_checkpoint_t *v = NULL;
    size_t n = 0;
    if (r->n_checkpoints
        && !(v = calloc (r->n_checkpoints, sizeof v[0]))) {
        rc = yard__client_fail (c, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->n_checkpoints; i++) {
        const Yard__CheckpointRecord *in = r->checkpoints[i];
        if (!in)
            continue;
        yard_checkpoint_t *o = &v[n++];
        o->attempt = in->attempt;
        o->step = in->step;
        o->size = in->size;
        o->time_ms = in->time_ms;
        snprintf (o->digest, sizeof o->digest, "%s",
                  in->digest ? in->digest : "");
        if (!(o->name = strdup (in->name ? in->name : ""))
            || !(o->node = strdup (in->node ? in->node : ""))) {
            yard_checkpoints_free (&v, n);
            rc = yard__client_fail (c, ENOMEM, "out of memory");
            goto out;
        }
    }
    *list = v;
    *count = n;
    rc = 0;
out:
    yard_msg_free (&reply);
    return rc;
}
