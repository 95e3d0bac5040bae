/* server_usage.c - attempts' resource use: taken from heartbeats (running
 * attempts, latest sample) and JobFinished (final), and put into JobInfo
 * for `yard status`.  The final figures are stored per attempt
 * (store_usage.h) in the batch that ends it; a live sample is only kept in
 * memory with its job, replaced by the next heartbeat: writing each one
 * would cost a commit per heartbeat for figures a restart can simply wait
 * one heartbeat for.
 *
 * Only the current attempt of a job on the node it was given to is
 * recorded, like every other report from a worker: a worker back from a
 * partition cannot write over what a newer attempt measured.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_int.h"
#include "store_usage.h"
#include "utf8.h"

#define USAGE_SOURCE_MAX 32

/* A copy of u fit to store: its source repaired to UTF-8 and bounded. */
static void
sanitized (const Yard__ResourceUse *u, Yard__ResourceUse *out, char *src,
           size_t len)
{
    *out = *u;
    snprintf (src, len, "%s", u->source ? u->source : "");
    out->source = yard_utf8_sanitize (src);
}

int
yard__usage_record (yard_server_t *s, yard_job_t *job, uint32_t attempt,
                    const Yard__ResourceUse *u, bool final)
{
    if (!u)
        return 0;
    char src[USAGE_SOURCE_MAX];
    Yard__ResourceUse copy;
    sanitized (u, &copy, src, sizeof src);
    copy.final = final;
    int rc = yard_store_usage_put (s->store, job->id, attempt, &copy);
    free (job->live_usage);
    job->live_usage = NULL;
    job->live_usage_len = 0;
    if (rc < 0) {
        log_err ("cannot store the resource use of job %" PRIu64
                 " attempt %u: %s", job->id, attempt,
                 yard_store_errmsg (s->store));
        return yard__fail (s, rc);
    }
    return 0;
}

void
yard__usage_heartbeat (yard_server_t *s, yard_node_t *node,
                       const Yard__Heartbeat *h)
{
    for (size_t i = 0; i < h->n_usage && !s->batch_failed; i++) {
        const Yard__AttemptUsage *a = h->usage[i];
        if (!a || !a->usage)
            continue;
        yard_job_t *job = yard_queue_find (s->queue, a->job_id);
        if (!job || a->attempt == 0 || job->attempt != a->attempt
            || !yard_job_is_active (job) || job->worker != node)
            continue; /* stale or unknown: its finish sorts it out */
        char src[USAGE_SOURCE_MAX];
        Yard__ResourceUse copy;
        sanitized (a->usage, &copy, src, sizeof src);
        copy.final = false;
        size_t len = yard__resource_use__get_packed_size (&copy);
        uint8_t *buf = malloc (len ? len : 1);
        if (!buf)
            continue; /* the next heartbeat brings another */
        yard__resource_use__pack (&copy, buf);
        free (job->live_usage);
        job->live_usage = buf;
        job->live_usage_len = len;
        job->live_usage_attempt = a->attempt;
    }
}

#define LATEST_KEYS_MAX 64

struct latest {
    Yard__JobInfo *info;
    size_t cap;
};

static int
collect_latest (const char *key, int64_t step, double value, int64_t time_ms,
                void *arg)
{
    struct latest *l = arg;
    Yard__JobInfo *info = l->info;
    if (info->n_latest_metrics == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        Yard__MetricRecord **v = realloc (info->latest_metrics,
                                          cap * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        info->latest_metrics = v;
        l->cap = cap;
    }
    size_t kl = strlen (key) + 1;
    Yard__MetricRecord *m = malloc (sizeof *m + kl);
    if (!m)
        return -ENOMEM;
    yard__metric_record__init (m);
    m->key = memcpy ((char *)(m + 1), key, kl);
    m->attempt = info->attempt;
    m->step = step;
    m->value = value;
    m->time_ms = time_ms;
    info->latest_metrics[info->n_latest_metrics++] = m;
    return 0;
}

int
yard__usage_fill (yard_server_t *s, Yard__JobInfo *info)
{
    if (info->attempt > 0) {
        struct latest l = { info, 0 };
        int rc = yard_store_metrics_latest (s->store, info->id, info->attempt,
                                            LATEST_KEYS_MAX, collect_latest,
                                            &l);
        if (rc < 0)
            return rc;
    }
    yard_job_t *live = yard_queue_find (s->queue, info->id);
    for (size_t i = 0; i < info->n_attempts; i++) {
        Yard__AttemptInfo *a = info->attempts[i];
        Yard__ResourceUse *u = NULL;
        int rc = yard_store_usage_get (s->store, info->id, a->attempt, &u);
        if (rc == -ENOENT && live && live->live_usage
            && live->live_usage_attempt == a->attempt) {
            u = yard__resource_use__unpack (NULL, live->live_usage_len,
                                            live->live_usage);
            rc = u ? 0 : -EBADMSG;
        }
        if (rc == -ENOENT || rc == -EBADMSG)
            continue;
        if (rc < 0)
            return rc;
        a->usage = u;
        if (a->attempt == info->attempt)
            info->usage = u;
    }
    return 0;
}

void
yard__usage_free (Yard__JobInfo *info)
{
    for (size_t i = 0; i < info->n_attempts; i++) {
        if (info->attempts[i]->usage)
            yard__resource_use__free_unpacked (info->attempts[i]->usage,
                                               NULL);
        info->attempts[i]->usage = NULL;
    }
    info->usage = NULL;
    for (size_t i = 0; i < info->n_latest_metrics; i++)
        free (info->latest_metrics[i]);
    free (info->latest_metrics);
    info->latest_metrics = NULL;
    info->n_latest_metrics = 0;
}
