/* stage.c - see stage.h. */
#include "stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "util.h"
#include "xfer.h"

bool
stage_path_ok (const char *path)
{
    if (!path || !*path || path[0] == '/' || strlen (path) >= STAGE_NAME_MAX)
        return false;
    const char *p = path;
    while (*p) {
        const char *e = strchr (p, '/');
        size_t n = e ? (size_t)(e - p) : strlen (p);
        if (n == 0 || (n == 1 && p[0] == '.')
            || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!e)
            break;
        p = e + 1;
        if (!*p)
            return false; /* a trailing '/' */
    }
    return true;
}

struct stage *
stage_create (enum stage_kind kind, const char *root)
{
    struct stage *st = calloc (1, sizeof *st);
    if (!st)
        return NULL;
    if ((size_t)snprintf (st->root, sizeof st->root, "%s", root)
        >= sizeof st->root) {
        free (st);
        errno = ENAMETOOLONG;
        return NULL;
    }
    st->kind = kind;
    st->work.data = st;
    return st;
}

int
stage_add (struct stage *st, const char *path, const char *digest)
{
    if (!stage_path_ok (path))
        return -EINVAL;
    if (st->kind == STAGE_IN && !yard_digest_valid (digest))
        return -EINVAL;
    if (st->n_items >= STAGE_MAX_ITEMS)
        return -E2BIG;
    struct stage_item *it = &st->items[st->n_items++];
    memset (it, 0, sizeof *it);
    snprintf (it->path, sizeof it->path, "%s", path);
    if (digest)
        snprintf (it->digest, sizeof it->digest, "%s", digest);
    return 0;
}

static void
nap_ms (int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static void *
sock_open (struct stage *st)
{
    int linger = 0, ivl = 200;
    void *s = zmq_socket (st->zctx, ZMQ_DEALER);
    if (!s)
        return NULL;
    if (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger) < 0
        || zmq_setsockopt (s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) < 0
        || zmq_connect (s, st->endpoint) < 0) {
        zmq_close (s);
        return NULL;
    }
    return s;
}

/* Create the folders above root/rel. */
static int
mkparents (const char *root, const char *rel)
{
    char p[8192];
    if ((size_t)snprintf (p, sizeof p, "%s/%s", root, rel) >= sizeof p)
        return -ENAMETOOLONG;
    char *slash = strrchr (p, '/');
    *slash = '\0';
    return yard_mkdir_p (p);
}

/* One item, once.  -ETIMEDOUT: worth another try. */
static int
do_item (struct stage *st, yard_xfer_t *x, struct stage_item *it,
         yard_error_t *err)
{
    char path[8192];
    struct stat sb;
    int rc;
    if ((size_t)snprintf (path, sizeof path, "%s/%s", st->root, it->path)
        >= sizeof path)
        return yard_errorf (err, ENAMETOOLONG, "path too long: %s", it->path);
    if (st->kind == STAGE_IN) {
        if (lstat (path, &sb) == 0)
            return 0; /* fetched whole by an earlier try (renamed last) */
        if ((rc = mkparents (st->root, it->path)) < 0)
            return yard_errorf (err, rc, "cannot create the folders of %s: %s",
                                path, strerror (-rc));
        bool tree = false;
        rc = yard_xfer_get_path (x, it->digest, path, &tree, err);
        if (rc == -ENOENT)
            return yard_errorf (err, ENOENT,
                                "input %s: the artifact store has no "
                                "artifact %s",
                                it->path, it->digest);
        return rc;
    }
    if (st->kind == STAGE_PUT)
        return yard_xfer_put_path (x, path, it->digest, &it->size, NULL, err);
    if (lstat (path, &sb) < 0 || !S_ISDIR (sb.st_mode))
        return yard_errorf (err, ENOENT,
                            "output %s: $YARD_OUTPUTS/%s is not a folder any "
                            "more",
                            it->path, it->path);
    return yard_xfer_put_tree (x, path, it->digest, &it->size, err);
}

static void
work_cb (uv_work_t *req)
{
    struct stage *st = req->data;
    yard_error_t err = { 0 };
    int64_t deadline = yard_mono_ms () + st->deadline_ms;
    int backoff = STAGE_BACKOFF_MIN_MS;
    yard_xfer_t x = { 0 };
    int rc = 0;

    x.timeout_ms = st->request_ms;
    for (size_t i = 0; i < st->n_items && rc == 0;) {
        if (st->cancel) {
            rc = yard_errorf (&err, ECANCELED, "cancelled");
            break;
        }
        if (!x.sock && !(x.sock = sock_open (st))) {
            rc = yard_errorf (&err, errno ? errno : ENOMEM,
                              "cannot connect to the scheduler at %s: %s",
                              st->endpoint, zmq_strerror (errno));
            break;
        }
        rc = do_item (st, &x, &st->items[i], &err);
        if (rc == 0) {
            i++;
            backoff = STAGE_BACKOFF_MIN_MS;
            continue;
        }
        if (rc != -ETIMEDOUT || yard_mono_ms () >= deadline)
            break;
        /* the scheduler is away: a fresh socket drops what is queued for
         * it, and the next try resumes from what the store kept */
        zmq_close (x.sock);
        x.sock = NULL;
        for (int slept = 0; slept < backoff && !st->cancel; slept += 100)
            nap_ms (100);
        backoff = backoff * 2 > STAGE_BACKOFF_MAX_MS ? STAGE_BACKOFF_MAX_MS
                                                     : backoff * 2;
        rc = 0;
    }
    if (x.sock)
        zmq_close (x.sock);
    st->rc = rc;
    st->bytes = x.sent_bytes + x.recv_bytes;
    if (rc < 0)
        snprintf (st->error, sizeof st->error, "%s", err.text);
}

static void
after_cb (uv_work_t *req, int status)
{
    struct stage *st = req->data;
    if (status == UV_ECANCELED && st->rc == 0) {
        st->rc = -ECANCELED;
        snprintf (st->error, sizeof st->error, "cancelled");
    }
    if (st->abandoned) {
        free (st);
        return;
    }
    st->done (st, st->arg);
}

int
stage_start (struct stage *st, uv_loop_t *loop, void *zctx,
             const char *endpoint, int request_ms, int deadline_ms,
             stage_done_f done, void *arg)
{
    if ((size_t)snprintf (st->endpoint, sizeof st->endpoint, "%s", endpoint)
        >= sizeof st->endpoint)
        return -ENAMETOOLONG;
    st->zctx = zctx;
    st->request_ms = request_ms > 0 ? request_ms : STAGE_REQUEST_MS;
    st->deadline_ms = deadline_ms > 0 ? deadline_ms : STAGE_DEADLINE_MS;
    st->done = done;
    st->arg = arg;
    return uv_queue_work (loop, &st->work, work_cb, after_cb);
}

void
stage_abandon (struct stage *st)
{
    if (!st)
        return;
    if (!st->done) { /* never started */
        free (st);
        return;
    }
    st->abandoned = true;
    st->cancel = 1;
    /* a transfer not picked up by a thread yet never runs */
    (void)uv_cancel ((uv_req_t *)&st->work);
}

void
stage_destroy (struct stage **st)
{
    if (!st || !*st)
        return;
    free (*st);
    *st = NULL;
}
