/* server_checkpoints.c - checkpoints that travel through the artifact
 * store, and the store's garbage collection.
 *
 * CheckpointCommit (worker port): a worker without a shared checkpoint root
 * stored a new checkpoint entry of a running job and names it.  It is
 * recorded in the checkpoints table, with the job's retention applied, in
 * the batch transaction, so the CheckpointAck (queued like every reply,
 * sent after the COMMIT) only ever confirms a durable record.  A commit
 * from an attempt that is not the job's current one on that node (a worker
 * back from a partition, a late resend) is acknowledged as not accepted and
 * changes nothing: a stale attempt cannot make the next one resume from
 * its state.  The artifact must be complete in the store: a record never
 * names something that cannot be fetched.  A worker with a shared
 * checkpoint root commits its job's announced checkpoints without a digest
 * (nothing is stored: every node reads the shared root); such a record is
 * listed, with its step, but never fetched.
 *
 * Dispatch.resume_from carries the newest record; CheckpointsRequest
 * (client port) lists them.
 *
 * GC runs from the cron every gc_interval: every digest the state database
 * names (job outputs, checkpoints, artifact_refs) is kept, with the files
 * of kept trees; other blobs older than gc_age go.  The walk is blocking,
 * but it only stats and unlinks files of the store's own folders.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "digest.h"
#include "log.h"
#include "server_int.h"
#include "store_artifacts.h"
#include "util.h"

#define DEFAULT_KEEP 2
#define NAME_MAX_LEN 255

static bool
entry_name_ok (const char *n)
{
    return n && *n && strlen (n) <= NAME_MAX_LEN && !strchr (n, '/')
           && strcmp (n, ".") != 0 && strcmp (n, "..") != 0;
}

static void
send_ack (yard_server_t *s, yard_node_t *node, uint64_t request_id,
          const Yard__CheckpointRecord *r, bool accepted, const char *why)
{
    Yard__CheckpointAck ack = YARD__CHECKPOINT_ACK__INIT;
    ack.job_id = r->job_id;
    ack.attempt = r->attempt;
    ack.name = r->name;
    ack.accepted = accepted;
    ack.reason = (char *)(why ? why : "");
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.request_id = request_id;
    env.body_case = YARD__ENVELOPE__BODY_CHECKPOINT_ACK;
    env.checkpoint_ack = &ack;
    (void)yard__send_node (s, node, &env);
}

void
yard__on_checkpoint_commit (yard_server_t *s, const yard_peer_t *peer,
                            yard_node_t *node, yard_env_t *env)
{
    const Yard__CheckpointCommit *c = env->checkpoint_commit;
    const Yard__CheckpointRecord *r = c ? c->record : NULL;
    /* an empty digest: a worker with a shared checkpoint root, which
     * records the entry (and its step) without storing it */
    bool shared = r && (!r->digest || !*r->digest);
    if (!r || r->job_id == 0 || r->attempt == 0 || !entry_name_ok (r->name)
        || (!shared && !yard_digest_valid (r->digest))) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, EINVAL,
                           "a checkpoint commit needs a job, an attempt, an "
                           "entry name (no '/') and an artifact digest "
                           "(empty on a shared checkpoint root)");
        return;
    }
    yard_job_t *job = yard_queue_find (s->queue, r->job_id);
    if (!job || r->attempt != job->attempt || !yard_job_is_active (job)
        || job->worker != node) {
        char why[160];
        snprintf (why, sizeof why, "attempt %u of job %" PRIu64 " is not "
                  "running on %s", r->attempt, r->job_id, node->name);
        log_info ("checkpoint %s of job %" PRIu64 " attempt %u ignored: %s",
                  r->name, r->job_id, r->attempt, why);
        send_ack (s, node, env->request_id, r, false, why);
        return;
    }
    if (!shared && !yard_artifacts_complete (s->artifacts, r->digest)) {
        yard__reply_error (s, YARD__WORKER, peer, env->request_id, ENOENT,
                           "checkpoint %s of job %" PRIu64 ": the artifact "
                           "store does not hold all of %s",
                           r->name, r->job_id, r->digest);
        return;
    }
    Yard__CheckpointRecord rec = *r;
    rec.node = node->name;
    if (shared)
        rec.digest = "";
    if (rec.time_ms <= 0)
        rec.time_ms = yard_now_ms ();
    uint32_t keep = job->spec && job->spec->keep_checkpoints
                        ? job->spec->keep_checkpoints
                        : DEFAULT_KEEP;
    int rc = yard_store_checkpoint_put (s->store, &rec, keep);
    if (rc < 0) {
        log_err ("cannot record checkpoint %s of job %" PRIu64 ": %s",
                 r->name, r->job_id, yard_store_errmsg (s->store));
        yard__fail (s, rc);
        return;
    }
    log_info ("job %" PRIu64 " attempt %u: checkpoint %s (step %" PRId64
              ") stored as %s",
              r->job_id, r->attempt, r->name, r->step, r->digest);
    send_ack (s, node, env->request_id, r, true, NULL);
}

/* A copy of a record in one allocation (free()). */
static Yard__CheckpointRecord *
record_dup (const Yard__CheckpointRecord *r)
{
    size_t nl = strlen (r->name) + 1, dl = strlen (r->digest) + 1,
           ol = strlen (r->node ? r->node : "") + 1;
    Yard__CheckpointRecord *c = malloc (sizeof *c + nl + dl + ol);
    if (!c)
        return NULL;
    *c = *r;
    char *p = (char *)(c + 1);
    memcpy (p, r->name, nl);
    memcpy (p + nl, r->digest, dl);
    memcpy (p + nl + dl, r->node ? r->node : "", ol);
    c->name = p;
    c->digest = p + nl;
    c->node = p + nl + dl;
    return c;
}

struct list {
    Yard__CheckpointRecord **v;
    size_t n, cap, max;
};

static int
add_record (const Yard__CheckpointRecord *r, void *arg)
{
    struct list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        Yard__CheckpointRecord **v = realloc (l->v, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = record_dup (r)))
        return -ENOMEM;
    l->n++;
    return l->max && l->n >= l->max ? 1 : 0;
}

static void
list_free (struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free (l->v[i]);
    free (l->v);
}

Yard__CheckpointRecord *
yard__checkpoint_newest (yard_server_t *s, uint64_t job_id)
{
    struct list l = { .max = 1 };
    int rc = yard_store_checkpoints (s->store, job_id, add_record, &l);
    if (rc < 0) {
        log_warn ("job %" PRIu64 ": cannot read its checkpoints: %s", job_id,
                  yard_store_errmsg (s->store));
        list_free (&l);
        return NULL;
    }
    Yard__CheckpointRecord *r = l.n ? l.v[0] : NULL;
    free (l.v);
    return r;
}

void
yard__on_checkpoints (yard_server_t *s, const yard_peer_t *peer,
                      yard_node_t *node, yard_env_t *env)
{
    (void)node;
    const Yard__CheckpointsRequest *q = env->checkpoints;
    yard_job_t *job = NULL, *owned = NULL;
    if (!q || q->job_id == 0) {
        yard__reply_error (s, YARD__CLIENT, peer, env->request_id, EINVAL,
                           "a checkpoints request needs a job id");
        return;
    }
    int rc = yard__job_lookup (s, q->job_id, &job, &owned);
    if (rc < 0) {
        if (rc == -ENOENT)
            yard__reply_error (s, YARD__CLIENT, peer, env->request_id,
                               ENOENT, "no job %" PRIu64 " (see 'yard "
                               "queue --all')",
                               q->job_id);
        else
            yard__reply_store_error (s, peer, env->request_id, rc);
        return;
    }
    yard_job_destroy (&owned);
    struct list l = { 0 };
    if ((rc = yard_store_checkpoints (s->store, q->job_id, add_record, &l))
        < 0) {
        list_free (&l);
        yard__reply_store_error (s, peer, env->request_id, rc);
        return;
    }
    Yard__CheckpointsReply rep = YARD__CHECKPOINTS_REPLY__INIT;
    rep.job_id = q->job_id;
    rep.checkpoints = l.v;
    rep.n_checkpoints = l.n;
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = env->request_id;
    out.body_case = YARD__ENVELOPE__BODY_CHECKPOINTS_REPLY;
    out.checkpoints_reply = &rep;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    list_free (&l);
}

/* ---- garbage collection ---- */

struct keep {
    char **v;
    size_t n, cap;
};

static int
keep_digest (const char *d, void *arg)
{
    struct keep *k = arg;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        char **v = realloc (k->v, cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        k->v = v;
        k->cap = cap;
    }
    if (!(k->v[k->n] = strdup (d ? d : "")))
        return -ENOMEM;
    k->n++;
    return 0;
}

/* One GC pass: the references are read here, on the loop (the store is
 * the loop's); the walk over every blob, its stats and unlinks run on the
 * thread pool, so a large store never stalls the loop.  A blob put again
 * while the walk runs has a fresh mtime and is kept. */
struct gc_work {
    uv_work_t req;
    yard_server_t *s;
    char *root;
    struct keep k;
    int64_t min_age_ms;
    int rc;
    uint64_t freed;
};

static void
gc_work_free (struct gc_work *w)
{
    for (size_t i = 0; i < w->k.n; i++)
        free (w->k.v[i]);
    free (w->k.v);
    free (w->root);
    free (w);
}

static void
gc_run (uv_work_t *req)
{
    struct gc_work *w = req->data;
    w->rc = yard_artifacts_gc_blobs (w->root, (const char *const *)w->k.v,
                                     w->k.n, w->min_age_ms, &w->freed);
}

static void
gc_done (uv_work_t *req, int status)
{
    struct gc_work *w = req->data;
    w->s->gc_running = false;
    if (status < 0)
        log_warn ("artifact GC did not run: %s", uv_strerror (status));
    else if (w->rc < 0)
        log_warn ("artifact GC failed: %s", strerror (-w->rc));
    else if (w->rc > 0)
        log_info ("artifact store: removed %d unreferenced blobs (%" PRIu64
                  " bytes; %zu referenced)",
                  w->rc, w->freed, w->k.n);
    else
        log_debug ("artifact GC: %zu referenced, nothing to remove", w->k.n);
    gc_work_free (w);
}

int
yard__artifacts_gc (yard_server_t *s)
{
    if (s->gc_running)
        return 0;
    struct gc_work *w = calloc (1, sizeof *w);
    if (!w || !(w->root = strdup (yard_artifacts_root (s->artifacts)))) {
        free (w);
        log_warn ("artifact GC skipped: out of memory");
        return -ENOMEM;
    }
    int rc = yard_store_referenced_digests (s->store, keep_digest, &w->k);
    if (rc < 0) {
        log_warn ("artifact GC skipped: cannot read the references: %s",
                  rc == -ENOMEM ? "out of memory"
                                : yard_store_errmsg (s->store));
        gc_work_free (w);
        return rc;
    }
    /* unfinished uploads share the store's hash state: here, on the loop */
    yard_artifacts_gc_partials (s->artifacts, (int64_t)s->gc_age_ms);
    w->s = s;
    w->min_age_ms = (int64_t)s->gc_age_ms;
    w->req.data = w;
    if ((rc = uv_queue_work (s->loop, &w->req, gc_run, gc_done)) < 0) {
        log_warn ("artifact GC skipped: %s", uv_strerror (rc));
        gc_work_free (w);
        return rc;
    }
    s->gc_running = true;
    return 0;
}

void
yard__artifacts_cron (yard_server_t *s)
{
    int64_t now = yard_mono_ms ();
    if (s->gc_interval_ms == 0)
        return;
    if (s->gc_last_ms == 0) {
        s->gc_last_ms = now; /* first pass one interval after start */
        return;
    }
    if (now - s->gc_last_ms < (int64_t)s->gc_interval_ms)
        return;
    s->gc_last_ms = now;
    (void)yard__artifacts_gc (s);
}
