/* xfer.c - see xfer.h. */
#include "xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "msg.h"
#include "util.h"

/* Send req and wait for the reply with its request id.  *rep owns it. */
static int
call (yard_xfer_t *x, yard_env_t *req, yard_env_t **rep, yard_error_t *err)
{
    if (x->next_id == 0)
        x->next_id = 1;
    req->request_id = x->next_id++;
    int rc = yard_msg_send (x->sock, NULL, req);
    if (rc < 0)
        return yard_errorf (err, rc, "cannot send to the scheduler: %s",
                            strerror (-rc));
    int timeout = x->timeout_ms > 0 ? x->timeout_ms : 30000;
    int64_t deadline = yard_mono_ms () + timeout;
    for (;;) {
        int64_t left = deadline - yard_mono_ms ();
        if (left <= 0)
            return yard_errorf (err, ETIMEDOUT,
                                "the scheduler did not answer an artifact "
                                "request within %d ms",
                                timeout);
        zmq_pollitem_t it = {.socket = x->sock, .events = ZMQ_POLLIN};
        int n = zmq_poll (&it, 1, (long)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return yard_errorf (err, -errno, "poll failed: %s",
                                strerror (errno));
        if (n == 0)
            continue;
        yard_env_t *env = NULL;
        yard_error_t derr;
        yard_error_clear (&derr);
        rc = yard_msg_recv (x->sock, NULL, &env, &derr);
        if (rc == -EAGAIN || rc == -EINTR)
            continue;
        if (rc < 0) {
            if (derr.request_id == req->request_id)
                return yard_errorf (err, rc, "%s", derr.text);
            continue; /* a malformed or stray frame: not our answer */
        }
        if (env->request_id != req->request_id) {
            yard_msg_free (&env);
            continue;
        }
        if (env->body_case == YARD__ENVELOPE__BODY_ERROR) {
            int code = env->error ? env->error->code : EIO;
            rc = yard_errorf (err, code ? code : EIO, "%s",
                              env->error && env->error->message
                                  ? env->error->message
                                  : "the scheduler refused the request");
            yard_msg_free (&env);
            return rc;
        }
        *rep = env;
        return 0;
    }
}

int
yard_xfer_stat (yard_xfer_t *x, const char *digest, yard_xfer_info_t *info,
                yard_error_t *err)
{
    Yard__ArtifactStat st = YARD__ARTIFACT_STAT__INIT;
    st.digest = (char *)digest;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_ARTIFACT_STAT;
    req.artifact_stat = &st;
    yard_env_t *rep = NULL;
    int rc = call (x, &req, &rep, err);
    if (rc < 0)
        return rc;
    if (rep->body_case != YARD__ENVELOPE__BODY_ARTIFACT_INFO) {
        yard_msg_free (&rep);
        return yard_errorf (err, EPROTO, "unexpected answer to an artifact "
                                         "stat");
    }
    info->present = rep->artifact_info->present;
    info->size = rep->artifact_info->size;
    info->partial = rep->artifact_info->partial;
    yard_msg_free (&rep);
    return 0;
}

/* Source of an upload: a buffer or a file descriptor. */
struct src {
    const unsigned char *buf;
    int fd;
    uint64_t size;
};

static int
put_blob (yard_xfer_t *x, const char *digest, struct src *src,
          yard_error_t *err)
{
    yard_xfer_info_t info;
    int rc = yard_xfer_stat (x, digest, &info, err);
    if (rc < 0)
        return rc;
    if (info.present)
        return 0;
    uint64_t off = info.partial <= src->size ? info.partial : 0;
    unsigned char *chunk = src->buf ? NULL : malloc (YARD_XFER_CHUNK);
    if (!src->buf && !chunk)
        return yard_errorf (err, ENOMEM, "out of memory");
    int restarts = 0;
    for (;;) {
        size_t n = src->size - off > YARD_XFER_CHUNK ? YARD_XFER_CHUNK
                                                       : (size_t)(src->size
                                                                  - off);
        const unsigned char *data;
        if (src->buf) {
            data = src->buf + off;
        } else {
            ssize_t got = pread (src->fd, chunk, n, (off_t)off);
            if (got != (ssize_t)n) {
                rc = yard_errorf (err, got < 0 ? errno : EIO,
                                  "cannot read the file being stored "
                                  "(changed while it was sent?)");
                break;
            }
            data = chunk;
        }
        Yard__ArtifactPut put = YARD__ARTIFACT_PUT__INIT;
        put.digest = (char *)digest;
        put.size = src->size;
        put.offset = off;
        put.data.data = (uint8_t *)data;
        put.data.len = n;
        yard_env_t req = YARD__ENVELOPE__INIT;
        req.body_case = YARD__ENVELOPE__BODY_ARTIFACT_PUT;
        req.artifact_put = &put;
        yard_env_t *rep = NULL;
        if ((rc = call (x, &req, &rep, err)) < 0)
            break;
        if (rep->body_case != YARD__ENVELOPE__BODY_ARTIFACT_INFO) {
            yard_msg_free (&rep);
            rc = yard_errorf (err, EPROTO, "unexpected answer to an "
                                           "artifact upload");
            break;
        }
        bool present = rep->artifact_info->present;
        uint64_t have = rep->artifact_info->partial;
        yard_msg_free (&rep);
        x->sent_bytes += n;
        if (present) {
            rc = 0;
            break;
        }
        if (have != off + n) {
            /* The store lost or refused part of it (it restarted, or
             * another upload of the same blob raced this one): go on from
             * what it holds. */
            if (++restarts > 100) {
                rc = yard_errorf (err, EIO, "the store keeps losing the "
                                            "upload of %s",
                                  digest);
                break;
            }
            off = have <= src->size ? have : 0;
            continue;
        }
        off += n;
        if (off >= src->size && n > 0) {
            rc = yard_errorf (err, EIO, "the store did not accept %s after "
                                        "all of it was sent",
                              digest);
            break;
        }
    }
    free (chunk);
    return rc;
}

int
yard_xfer_put_buf (yard_xfer_t *x, const void *data, size_t len,
                   char *digest, yard_error_t *err)
{
    yard_digest_buf (data, len, digest);
    struct src src = {.buf = data ? data : (const unsigned char *)"",
                      .fd = -1, .size = len};
    return put_blob (x, digest, &src, err);
}

int
yard_xfer_put_file (yard_xfer_t *x, const char *path, char *digest,
                    uint64_t *size, yard_error_t *err)
{
    uint64_t sz;
    int rc = yard_digest_file (path, digest, &sz, err);
    if (rc < 0)
        return rc;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return yard_errorf (err, errno, "cannot open %s: %s", path,
                            strerror (errno));
    struct src src = {.buf = NULL, .fd = fd, .size = sz};
    rc = put_blob (x, digest, &src, err);
    close (fd);
    if (rc == 0 && size)
        *size = sz;
    return rc;
}

int
yard_xfer_put_tree (yard_xfer_t *x, const char *dir, char *digest,
                    uint64_t *size, yard_error_t *err)
{
    yard_tree_t tree;
    int rc = yard_tree_scan (dir, &tree, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < tree.count && rc == 0; i++) {
        char path[4096], hex[YARD_DIGEST_HEX + 1];
        if ((size_t)snprintf (path, sizeof path, "%s/%s", dir,
                              tree.entries[i].path) >= sizeof path) {
            rc = yard_errorf (err, ENAMETOOLONG, "path too long under %s",
                              dir);
            break;
        }
        if ((rc = yard_xfer_put_file (x, path, hex, NULL, err)) < 0)
            break;
        if (strcmp (hex, tree.entries[i].digest) != 0)
            rc = yard_errorf (err, EAGAIN,
                              "%s changed while it was being stored", path);
    }
    char *json = NULL;
    size_t len = 0;
    if (rc == 0 && (rc = yard_tree_manifest (&tree, &json, &len, digest, err))
                       == 0)
        rc = yard_xfer_put_buf (x, json, len, digest, err);
    if (rc == 0 && size)
        *size = tree.total_size;
    free (json);
    yard_tree_free (&tree);
    return rc;
}

int
yard_xfer_put_path (yard_xfer_t *x, const char *path, char *digest,
                    uint64_t *size, bool *is_tree, yard_error_t *err)
{
    struct stat st;
    if (stat (path, &st) < 0)
        return yard_errorf (err, errno, "cannot read %s: %s", path,
                            strerror (errno));
    bool tree = S_ISDIR (st.st_mode);
    if (!tree && !S_ISREG (st.st_mode))
        return yard_errorf (err, EINVAL,
                            "%s is neither a file nor a folder", path);
    if (is_tree)
        *is_tree = tree;
    return tree ? yard_xfer_put_tree (x, path, digest, size, err)
                : yard_xfer_put_file (x, path, digest, size, err);
}

/* ---- downloads ---- */

/* Call sink for each chunk of the blob, in order; check the digest. */
static int
get_blob (yard_xfer_t *x, const char *digest,
          int (*sink) (void *arg, const void *data, size_t len,
                       uint64_t size),
          void *arg, yard_error_t *err)
{
    if (!yard_digest_valid (digest))
        return yard_errorf (err, EINVAL, "'%s' is not an artifact digest "
                                         "(64 hex digits)",
                            digest);
    yard_sha256_t h;
    yard_sha256_init (&h);
    uint64_t off = 0, size = 0;
    int rc = 0;
    for (;;) {
        Yard__ArtifactGet get = YARD__ARTIFACT_GET__INIT;
        get.digest = (char *)digest;
        get.offset = off;
        get.max_bytes = YARD_XFER_CHUNK;
        yard_env_t req = YARD__ENVELOPE__INIT;
        req.body_case = YARD__ENVELOPE__BODY_ARTIFACT_GET;
        req.artifact_get = &get;
        yard_env_t *rep = NULL;
        if ((rc = call (x, &req, &rep, err)) < 0)
            return rc;
        Yard__ArtifactChunk *c = rep->artifact_chunk;
        if (rep->body_case != YARD__ENVELOPE__BODY_ARTIFACT_CHUNK
            || c->offset != off || (off > 0 && c->size != size)
            || c->data.len > c->size - c->offset) {
            yard_msg_free (&rep);
            return yard_errorf (err, EPROTO, "unexpected answer to an "
                                             "artifact download");
        }
        size = c->size;
        yard_sha256_update (&h, c->data.data, c->data.len);
        rc = sink (arg, c->data.data, c->data.len, size);
        off += c->data.len;
        x->recv_bytes += c->data.len;
        bool stalled = c->data.len == 0 && off < size;
        yard_msg_free (&rep);
        if (rc < 0)
            return yard_errorf (err, rc, "cannot write what was fetched: %s",
                                strerror (-rc));
        if (stalled)
            return yard_errorf (err, EIO, "the store sent no data for %s",
                                digest);
        if (off >= size)
            break;
    }
    char got[YARD_DIGEST_HEX + 1];
    yard_sha256_final (&h, got);
    if (strcmp (got, digest) != 0)
        return yard_errorf (err, EBADMSG,
                            "artifact %s arrived with other content (%s)",
                            digest, got);
    return 0;
}

static int
sink_fd (void *arg, const void *data, size_t len, uint64_t size)
{
    (void)size;
    int fd = *(int *)arg;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

struct membuf {
    char *data;
    size_t len, max;
};

static int
sink_mem (void *arg, const void *data, size_t len, uint64_t size)
{
    struct membuf *m = arg;
    if (size > m->max)
        return -EFBIG;
    if (!m->data && !(m->data = malloc (size ? size : 1)))
        return -ENOMEM;
    if (m->len + len > size)
        return -EPROTO;
    memcpy (m->data + m->len, data, len);
    m->len += len;
    return 0;
}

int
yard_xfer_get_buf (yard_xfer_t *x, const char *digest, size_t max,
                   char **data, size_t *len, yard_error_t *err)
{
    struct membuf m = {NULL, 0, max};
    int rc = get_blob (x, digest, sink_mem, &m, err);
    if (rc < 0) {
        free (m.data);
        return rc;
    }
    if (!m.data && !(m.data = malloc (1)))
        return yard_errorf (err, ENOMEM, "out of memory");
    *data = m.data;
    *len = m.len;
    return 0;
}

/* Fetch into tmp (created), fsync, no rename. */
static int
get_to (yard_xfer_t *x, const char *digest, const char *tmp, uint32_t mode,
        yard_error_t *err)
{
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   mode ? mode & 0777 : 0644);
    if (fd < 0)
        return yard_errorf (err, errno, "cannot create %s: %s", tmp,
                            strerror (errno));
    int rc = get_blob (x, digest, sink_fd, &fd, err);
    if (rc == 0 && fsync (fd) < 0)
        rc = yard_errorf (err, errno, "cannot write %s: %s", tmp,
                          strerror (errno));
    if (rc == 0 && mode && fchmod (fd, mode & 07777) < 0)
        rc = yard_errorf (err, errno, "cannot set the mode of %s: %s", tmp,
                          strerror (errno));
    close (fd);
    return rc;
}

int
yard_xfer_get_file (yard_xfer_t *x, const char *digest, const char *dest,
                    uint32_t mode, yard_error_t *err)
{
    char tmp[4096];
    if ((size_t)snprintf (tmp, sizeof tmp, "%s.yard-part", dest)
        >= sizeof tmp)
        return yard_errorf (err, ENAMETOOLONG, "path too long: %s", dest);
    int rc = get_to (x, digest, tmp, mode, err);
    if (rc == 0 && rename (tmp, dest) < 0)
        rc = yard_errorf (err, errno, "cannot rename %s to %s: %s", tmp,
                          dest, strerror (errno));
    if (rc == 0)
        yard_fsync_parent (dest);
    else
        unlink (tmp);
    return rc;
}

static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Remove a folder this module created and filled itself. */
static void
rm_rf (const char *path)
{
    nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Create the parent folders of rel under root. */
static int
mkparents (const char *root, const char *rel)
{
    char p[4096];
    if ((size_t)snprintf (p, sizeof p, "%s/%s", root, rel) >= sizeof p)
        return -ENAMETOOLONG;
    char *slash = strrchr (p, '/');
    *slash = '\0';
    return yard_mkdir_p (p);
}

int
yard_xfer_get_path (yard_xfer_t *x, const char *digest, const char *dest,
                    bool *is_tree, yard_error_t *err)
{
    struct stat st;
    if (lstat (dest, &st) == 0)
        return yard_errorf (err, EEXIST, "%s already exists", dest);
    char *data = NULL;
    size_t len = 0;
    yard_xfer_info_t info;
    int rc = yard_xfer_stat (x, digest, &info, err);
    if (rc < 0)
        return rc;
    if (!info.present)
        return yard_errorf (err, ENOENT, "the artifact store has no %s",
                            digest);
    /* Small blobs may be manifests: look before writing a file. */
    bool tree = false;
    if (info.size <= 64u * 1024 * 1024) {
        if ((rc = yard_xfer_get_buf (x, digest, info.size, &data, &len, err))
            < 0)
            return rc;
        tree = yard_tree_sniff (data, len);
    }
    if (is_tree)
        *is_tree = tree;
    char tmp[4096];
    if ((size_t)snprintf (tmp, sizeof tmp, "%s.yard-part", dest)
        >= sizeof tmp) {
        free (data);
        return yard_errorf (err, ENAMETOOLONG, "path too long: %s", dest);
    }
    rm_rf (tmp);
    if (!tree) {
        if (data) {
            rc = yard_write_file_atomic (dest, data, len);
            if (rc < 0)
                yard_errorf (err, rc, "cannot write %s: %s", dest,
                             strerror (-rc));
            free (data);
            return rc;
        }
        return yard_xfer_get_file (x, digest, dest, 0, err);
    }
    yard_tree_t t;
    rc = yard_tree_parse (data, len, &t, err);
    free (data);
    if (rc < 0)
        return rc;
    if (mkdir (tmp, 0755) < 0) {
        rc = yard_errorf (err, errno, "cannot create %s: %s", tmp,
                          strerror (errno));
        yard_tree_free (&t);
        return rc;
    }
    for (size_t i = 0; i < t.count && rc == 0; i++) {
        char path[4096];
        if ((size_t)snprintf (path, sizeof path, "%s/%s", tmp,
                              t.entries[i].path) >= sizeof path
            || (rc = mkparents (tmp, t.entries[i].path)) < 0) {
            rc = yard_errorf (err, rc ? rc : ENAMETOOLONG,
                              "cannot create the folders of %s",
                              t.entries[i].path);
            break;
        }
        rc = get_to (x, t.entries[i].digest, path, t.entries[i].mode, err);
    }
    yard_tree_free (&t);
    if (rc == 0 && rename (tmp, dest) < 0)
        rc = yard_errorf (err, errno, "cannot rename %s to %s: %s", tmp,
                          dest, strerror (errno));
    if (rc == 0)
        yard_fsync_parent (dest);
    else
        rm_rf (tmp);
    return rc;
}
