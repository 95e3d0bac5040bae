/* server_artifacts.c - ArtifactStat/Put/Get on either port.
 *
 * Blobs live in files, not in the state database: a put writes (and on its
 * last chunk verifies, fsyncs and publishes) before its answer is queued, so
 * an answer saying "present" is only ever sent for a durable blob.
 *
 * The last chunk of a blob larger than one chunk is answered later: the
 * rest of its hash, its fsync and its publication (seconds for a
 * checkpoint of gigabytes) run on the thread pool, and the loop goes on
 * scheduling meanwhile.  That put, and any other put of the same blob
 * that arrives before the end, is parked and answered when it is done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "artifacts.h"
#include "log.h"
#include "server_int.h"

#define MAX_CHUNK (1u << 20)

static void
reply_info (yard_server_t *s, const yard_peer_t *peer, uint64_t request_id,
            const char *digest, bool present, uint64_t size, uint64_t partial)
{
    Yard__ArtifactInfo info = YARD__ARTIFACT_INFO__INIT;
    info.digest = (char *)digest;
    info.present = present;
    info.size = size;
    info.partial = partial;
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = request_id;
    out.body_case = YARD__ENVELOPE__BODY_ARTIFACT_INFO;
    out.artifact_info = &info;
    (void)yard__reply (s, s->cur_sock, peer, &out);
}

static bool
check_digest (yard_server_t *s, const yard_peer_t *peer, yard_env_t *env,
              const char *digest)
{
    if (yard_digest_valid (digest))
        return true;
    yard__reply_error (s, s->cur_sock, peer, env->request_id, EINVAL,
                       "'%s' is not an artifact digest (64 lowercase hex "
                       "digits of the content's sha256)",
                       digest ? digest : "");
    return false;
}

void
yard__on_artifact_stat (yard_server_t *s, const yard_peer_t *peer,
                        yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const char *d = env->artifact_stat->digest;
    if (!check_digest (s, peer, env, d))
        return;
    uint64_t size = 0;
    bool present = yard_artifacts_present (s->artifacts, d, &size);
    reply_info (s, peer, env->request_id, d, present, size,
                present ? size : yard_artifacts_partial (s->artifacts, d));
}

/* A put waiting for the finish of its blob. */
struct yard__put_park {
    int sock;
    yard_peer_t peer;
    uint64_t request_id;
    char digest[YARD_DIGEST_HEX + 1];
    struct yard__put_park *next;
};

struct finish_work {
    uv_work_t req;
    yard_server_t *s;
    yard_artifacts_finish_t *f;
};

static int
put_park (yard_server_t *s, const yard_peer_t *peer, uint64_t request_id,
          const char *digest)
{
    struct yard__put_park *p = calloc (1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->sock = s->cur_sock;
    p->peer = *peer;
    p->request_id = request_id;
    memcpy (p->digest, digest, YARD_DIGEST_HEX + 1);
    p->next = s->put_parks;
    s->put_parks = p;
    return 0;
}

static void
finish_run (uv_work_t *req)
{
    struct finish_work *w = req->data;
    yard_artifacts_finish_run (w->f);
}

/* Queue the answers of the puts parked on digest: present, or the error
 * (status < 0: the verification did not run). */
static void
parks_answer (yard_server_t *s, const char *digest, uint64_t size,
              bool present, int status, int rc, const yard_error_t *err)
{
    int sock = s->cur_sock;
    for (struct yard__put_park **pp = &s->put_parks; *pp;) {
        struct yard__put_park *p = *pp;
        if (strcmp (p->digest, digest) != 0) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        s->cur_sock = p->sock;
        if (present)
            reply_info (s, &p->peer, p->request_id, digest, true, size,
                        size);
        else if (status < 0)
            yard__reply_error (s, p->sock, &p->peer, p->request_id, EIO,
                               "the scheduler could not verify artifact "
                               "%s: send it again", digest);
        else
            yard__reply_error (s, p->sock, &p->peer, p->request_id, -rc, "%s",
                               err->text);
        free (p);
    }
    s->cur_sock = sock;
}

/* The end of a verification: its outcome, in the log and to the parked
 * puts. */
static void
finish_end (yard_server_t *s, yard_artifacts_finish_t *f, int status)
{
    char digest[YARD_DIGEST_HEX + 1];
    memcpy (digest, yard_artifacts_finish_digest (f), sizeof digest);
    uint64_t size = yard_artifacts_finish_size (f);
    bool present = false;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_artifacts_finish_done (s->artifacts, f, &present, &err);
    if (status < 0)
        log_warn ("artifact %s: verification did not run (%s)", digest,
                  uv_strerror (status));
    else if (rc == -ECANCELED)
        log_notice ("%s", err.text);
    else if (rc < 0)
        log_warn ("artifact upload of %s refused: %s", digest, err.text);
    else
        log_debug ("artifact %s stored (%llu bytes)", digest,
                   (unsigned long long)size);
    parks_answer (s, digest, size, present, status, rc, &err);
}

/* On the loop, after the thread pool ran it: the answers leave in a batch
 * of their own (nothing to commit). */
static void
finish_done (uv_work_t *req, int status)
{
    struct finish_work *w = req->data;
    yard_server_t *s = w->s;
    yard_artifacts_finish_t *f = w->f;
    free (w);
    finish_end (s, f, status);
    yard__batch_end (s);
}

void
yard__artifacts_parks_free (yard_server_t *s)
{
    while (s->put_parks) {
        struct yard__put_park *p = s->put_parks;
        s->put_parks = p->next;
        free (p);
    }
}

void
yard__on_artifact_put (yard_server_t *s, const yard_peer_t *peer,
                       yard_node_t *node, yard_env_t *env)
{
    (void)node;
    Yard__ArtifactPut *p = env->artifact_put;
    if (!check_digest (s, peer, env, p->digest))
        return;
    if (p->data.len > MAX_CHUNK) {
        yard__reply_error (s, s->cur_sock, peer, env->request_id, EMSGSIZE,
                           "artifact chunks are at most %u bytes", MAX_CHUNK);
        return;
    }
    bool present = false;
    uint64_t held = 0;
    yard_error_t err;
    yard_error_clear (&err);
    yard_artifacts_finish_t *fin = NULL;
    int rc = yard_artifacts_put (s->artifacts, p->digest, p->size, p->offset,
                                 p->data.data, p->data.len, &present, &held,
                                 &fin, &err);
    if (rc == -EINPROGRESS || fin) {
        /* its last byte is here: answered once it is verified */
        if (put_park (s, peer, env->request_id, p->digest) < 0)
            yard__reply_error (s, s->cur_sock, peer, env->request_id, ENOMEM,
                               "out of memory");
        if (!fin)
            return;
        struct finish_work *w = calloc (1, sizeof *w);
        rc = w ? 0 : UV_ENOMEM;
        if (w) {
            w->s = s;
            w->f = fin;
            w->req.data = w;
            rc = uv_queue_work (s->loop, &w->req, finish_run, finish_done);
        }
        if (rc == 0) {
            return;
        }
        /* no thread pool: verified here, as a small blob is */
        log_warn ("artifact %s: verified on the event loop (%s)", p->digest,
                  uv_strerror (rc));
        free (w);
        yard_artifacts_finish_run (fin);
        finish_end (s, fin, 0);
        return;
    }
    if (rc < 0) {
        log_warn ("artifact upload of %s refused: %s", p->digest, err.text);
        yard__reply_error (s, s->cur_sock, peer, env->request_id, -rc, "%s",
                           err.text);
        return;
    }
    if (present)
        log_debug ("artifact %s stored (%llu bytes)", p->digest,
                   (unsigned long long)p->size);
    reply_info (s, peer, env->request_id, p->digest, present,
                present ? held : p->size, held);
}

void
yard__on_artifact_get (yard_server_t *s, const yard_peer_t *peer,
                       yard_node_t *node, yard_env_t *env)
{
    (void)node;
    Yard__ArtifactGet *g = env->artifact_get;
    if (!check_digest (s, peer, env, g->digest))
        return;
    size_t max = g->max_bytes && g->max_bytes < MAX_CHUNK ? g->max_bytes
                                                          : MAX_CHUNK;
    uint8_t *buf = malloc (max);
    if (!buf) {
        yard__reply_error (s, s->cur_sock, peer, env->request_id, ENOMEM,
                           "out of memory");
        return;
    }
    size_t got = 0;
    uint64_t size = 0;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_artifacts_read (s->artifacts, g->digest, g->offset, buf, max,
                                  &got, &size, &err);
    if (rc < 0) {
        yard__reply_error (s, s->cur_sock, peer, env->request_id, -rc, "%s",
                           err.text);
    } else {
        Yard__ArtifactChunk c = YARD__ARTIFACT_CHUNK__INIT;
        c.digest = g->digest;
        c.size = size;
        c.offset = g->offset;
        c.data.data = buf;
        c.data.len = got;
        yard_env_t out = YARD__ENVELOPE__INIT;
        out.request_id = env->request_id;
        out.body_case = YARD__ENVELOPE__BODY_ARTIFACT_CHUNK;
        out.artifact_chunk = &c;
        (void)yard__reply (s, s->cur_sock, peer, &out);
    }
    free (buf);
}
