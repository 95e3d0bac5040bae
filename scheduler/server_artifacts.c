/* server_artifacts.c - ArtifactStat/Put/Get on either port.
 *
 * Blobs live in files, not in the state database: a put writes (and on its
 * last chunk verifies, fsyncs and publishes) before its answer is queued, so
 * an answer saying "present" is only ever sent for a durable blob. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    int rc = yard_artifacts_put (s->artifacts, p->digest, p->size, p->offset,
                                 p->data.data, p->data.len, &present, &held,
                                 &err);
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
