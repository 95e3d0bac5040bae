/* server_place.c - placement in the scheduler core (see server_place.h).
 *
 * The counters in yard_node_t (cpus_used, gpus_used, memory_used) stay the
 * first test of whether a job fits a node: they are what `yard nodes`
 * shows and what the worker offered.  The place is the second: it names
 * the PUs and GPUs.  Both are taken and given back together (attach/detach
 * in server.c call in here).
 */
#include "server_place.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "place.h"
#include "server_int.h"
#include "store_alloc.h"

/* Whether jobs on node may share cores: the scheduler's --oversubscribe or
 * the node's "oversubscribe" label. */
static bool
node_shares (const yard_server_t *s, const yard_node_t *node)
{
    return s->oversubscribe
           || yard_nodeadmin_has (&node->admin, YARD_LABEL_OVERSUBSCRIBE);
}

static yard_place_t *
node_place (yard_server_t *s, yard_node_t *node)
{
    if (!node->place) {
        node->place = yard_place_create (node->topology, node->cpus);
        if (!node->place)
            log_err ("out of memory: node %s cannot place jobs",
                     node->name);
    }
    if (node->place)
        yard_place_set_share (node->place, node_shares (s, node));
    return node->place;
}

bool
yard__place_fits (yard_server_t *s, yard_node_t *node, uint32_t cpus,
                  uint32_t gpus)
{
    yard_place_t *p = node_place (s, node);
    return p && yard_place_fits (p, cpus, gpus);
}

int
yard__place_assign (yard_server_t *s, yard_job_t *job, yard_node_t *node,
                    const Yard__Allocation **out)
{
    yard_place_t *p = node_place (s, node);
    if (!p)
        return -ENOMEM;
    (void)yard_place_release (p, job->id); /* never held: a no-op */
    /* recorded with the attempt's row (yard__attempt_begin), written by
     * the job's save that follows in the same batch */
    return yard_place_alloc (p, job->id, yard_job_cpus (job),
                             yard_job_gpus (job), yard_job_memory (job), out);
}

void
yard__place_release (yard_job_t *job)
{
    if (job->worker && job->worker->place)
        (void)yard_place_release (job->worker->place, job->id);
}

/* Hold the recorded allocation a for job: claimed, or, when the node's
 * shape is not known yet (it has not registered since the restart) or
 * changed, adopted as a record that the register's reshape re-applies.
 * 0 or -EEXIST once held. */
static int
hold_recorded (yard_place_t *p, yard_job_t *job, yard_node_t *node,
               const Yard__Allocation *a)
{
    int rc = yard_place_claim (p, job->id, a);
    if (rc == -EINVAL || rc == -EBUSY) {
        if (rc == -EBUSY)
            log_warn ("job %" PRIu64 ": its PUs/GPUs on %s overlap another "
                      "job's", job->id, node->name);
        rc = yard_place_adopt (p, job->id, a);
    }
    return rc;
}

void
yard__place_restore (yard_server_t *s, yard_job_t *job, yard_node_t *node,
                     const Yard__Allocation *rec)
{
    yard_place_t *p = node_place (s, node);
    if (!p)
        return;
    int rc = rec ? hold_recorded (p, job, node, rec) : -ENOENT;
    if (rc == 0 || rc == -EEXIST)
        return;
    /* dispatched by a scheduler that recorded none */
    const Yard__Allocation *fresh;
    if (yard_place_alloc (p, job->id, yard_job_cpus (job),
                          yard_job_gpus (job), yard_job_memory (job), &fresh)
        < 0)
        log_warn ("job %" PRIu64 " on %s: no PUs/GPUs recorded and none "
                  "free to account for it", job->id, node->name);
}

void
yard__place_take (yard_server_t *s, yard_job_t *job, yard_node_t *node,
                  const Yard__Allocation *a)
{
    yard_place_t *p = node_place (s, node);
    if (!p || !a || ((!a->cpus || !*a->cpus) && a->n_gpu_uuids == 0
                     && a->n_gpu_bus_ids == 0))
        return; /* the job it followed ran unbound: so does it */
    int rc = hold_recorded (p, job, node, a);
    if (rc < 0 && rc != -EEXIST)
        log_warn ("job %" PRIu64 " on %s: cannot hold its PUs/GPUs: %s",
                  job->id, node->name, strerror (-rc));
}

void
yard__place_clear (yard_node_t *node)
{
    if (node->place)
        yard_place_clear (node->place);
}

void
yard__place_reshape (yard_node_t *node)
{
    if (!node->place)
        return; /* created from the new shape on first use */
    if (yard_place_reshape (node->place, node->topology, node->cpus) < 0)
        log_err ("out of memory: node %s keeps its old PU/GPU layout",
                 node->name);
}

const Yard__Allocation *
yard__place_of (const yard_job_t *job)
{
    if (!job->worker || !job->worker->place)
        return NULL;
    return yard_place_get (job->worker->place, job->id);
}

const Yard__Allocation *
yard__place_lookup (yard_server_t *s, const yard_job_t *job,
                    Yard__Allocation **owned)
{
    *owned = NULL;
    const Yard__Allocation *a = yard__place_of (job);
    if (a || job->attempt == 0)
        return a;
    uint32_t attempt = 0;
    if (yard_store_alloc_get (s->store, job->id, &attempt, owned) < 0)
        return NULL;
    if (attempt != job->attempt) {
        yard__allocation__free_unpacked (*owned, NULL);
        *owned = NULL;
    }
    return *owned;
}

void
yard__place_info (const yard_server_t *s, const yard_node_t *node,
                  Yard__NodeInfo *ni)
{
    /* a node no job was placed on yet has no place: count its shape */
    yard_place_t *tmp = NULL;
    const yard_place_t *p = node->place;
    if (!p && !(p = tmp = yard_place_create (node->topology, node->cpus)))
        return;
    uint32_t pus;
    yard_place_counts (p, &ni->cores_total, &ni->cores_free, &pus,
                       &ni->pus_free);
    ni->oversubscribe = node_shares (s, node);
    yard_place_destroy (&tmp);
}

bool
yard__place_too_big (yard_server_t *s, uint32_t cpus, uint32_t *largest)
{
    uint32_t best = 0;
    size_t n = yard_nodes_count (s->nodes);
    for (size_t i = 0; i < n; i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        yard_place_t *p = node_place (s, node);
        if (!p)
            return false; /* unknown: do not claim it */
        uint32_t cores, fc, pus, fp;
        yard_place_counts (p, &cores, &fc, &pus, &fp);
        if (yard_place_free_pus (p) == UINT32_MAX || yard_place_share (p)
            || cores >= cpus)
            return false; /* untracked, shared or big enough */
        if (cores > best)
            best = cores;
    }
    *largest = best;
    return n > 0;
}
