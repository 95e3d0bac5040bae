/* server_preempt.c - preemption by priority.  Part of the scheduler core
 * (see server_int.h).
 *
 * Once per cron tick the highest-priority pending job is looked at.  When
 * it fits on no node, even counting what jobs already being preempted will
 * free, the node where stopping the fewest RUNNING jobs that are
 * preemptible and of lower priority makes it fit is chosen, and those jobs
 * are preempted (KillJob END_PREEMPTED, then requeued, never counted
 * against their retries).  Victims are taken lowest priority first, newest
 * first among equals (it loses the least work).
 *
 * The work is bounded: one pending job per tick, one pass over the nodes
 * and their jobs, at most YARD__PREEMPT_MAX victims.  Fits are counted in
 * CPUs, GPUs and memory, as the dispatch pass counts them.
 */
#include "server_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "server_nodeadmin.h"

#define YARD__PREEMPT_MAX 16 /* victims for one pending job */

struct need {
    uint64_t cpus, gpus, mem;
};

static bool
fits (const struct need *free_, const struct need *want)
{
    return free_->cpus >= want->cpus && free_->gpus >= want->gpus
           && free_->mem >= want->mem;
}

static void
add (struct need *n, const yard_job_t *job)
{
    n->cpus += yard_job_cpus (job);
    n->gpus += yard_job_gpus (job);
    n->mem += yard_job_memory (job);
}

static struct need
free_of (const yard_node_t *node)
{
    struct need n = {
        node->cpus > node->cpus_used ? node->cpus - node->cpus_used : 0,
        node->gpus > node->gpus_used ? node->gpus - node->gpus_used : 0,
        node->memory > node->memory_used ? node->memory - node->memory_used
                                         : 0,
    };
    return n;
}

/* Victim order: lower priority first, then newer (higher id) first. */
static bool
worse (const yard_job_t *a, const yard_job_t *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority;
    return a->id > b->id;
}

/* Pick victims on node for want, into v (at most YARD__PREEMPT_MAX).
 * Returns how many, or 0 when no set makes the job fit. */
static size_t
pick (const yard_node_t *node, const yard_job_t *job, const struct need *want,
      yard_job_t **v)
{
    struct need f = free_of (node);
    size_t n = 0;
    /* candidates, selection-sorted by victim order (a node runs few jobs) */
    yard_job_t *cand[YARD__PREEMPT_MAX * 4];
    size_t nc = 0;
    for (yard_job_t *j = node->jobs; j && nc < sizeof cand / sizeof cand[0];
         j = j->wnext)
        if (j->state == YARD__JOB_STATE__JOB_RUNNING && j->spec
            && j->spec->preemptible && j->priority < job->priority
            && !j->cancel_requested)
            cand[nc++] = j;
    for (size_t i = 0; i < nc && n < YARD__PREEMPT_MAX; i++) {
        size_t best = i;
        for (size_t k = i + 1; k < nc; k++)
            if (worse (cand[k], cand[best]))
                best = k;
        yard_job_t *t = cand[i];
        cand[i] = cand[best];
        cand[best] = t;
        v[n++] = cand[i];
        add (&f, cand[i]);
        if (fits (&f, want))
            return n;
    }
    return 0;
}

void
yard__preempt_pass (yard_server_t *s)
{
    yard_job_t *job = yard_queue_peek (s->queue);
    /* a gang needs several nodes at once: it waits for them rather than
     * stopping work on one */
    if (!job || s->batch_failed || yard_job_is_gang (job))
        return;
    struct need want = {yard_job_cpus (job), yard_job_gpus (job),
                        yard_job_memory (job)};
    yard_job_t *best[YARD__PREEMPT_MAX], *v[YARD__PREEMPT_MAX];
    size_t nbest = 0;
    yard_node_t *where = NULL;
    size_t nn = yard_nodes_count (s->nodes);
    for (size_t i = 0; i < nn; i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        if (node->state != YARD__NODE_STATE__NODE_UP || !node->bound
            || !yard__node_takes_jobs (node) || !yard__node_matches (node, job))
            continue;
        struct need cap = {node->cpus, node->gpus, node->memory};
        if (!fits (&cap, &want))
            continue;
        /* what is free, and what preemptions under way will free */
        struct need f = free_of (node);
        bool stopping = false;
        for (yard_job_t *j = node->jobs; j; j = j->wnext)
            if (j->state == YARD__JOB_STATE__JOB_PREEMPTING) {
                add (&f, j);
                stopping = true;
            }
        if (fits (&f, &want))
            return; /* it fits now, or will: the dispatch pass places it */
        if (stopping)
            continue;
        size_t n = pick (node, job, &want, v);
        if (n && (!where || n < nbest)) {
            where = node;
            nbest = n;
            for (size_t k = 0; k < n; k++)
                best[k] = v[k];
        }
    }
    if (!where)
        return;
    char why[160];
    snprintf (why, sizeof why, "preempted by job %" PRIu64 " (priority %d)",
              job->id, (int)job->priority);
    log_notice ("job %" PRIu64 " (priority %d) fits nowhere: preempting %zu "
                "job%s on %s", job->id, (int)job->priority, nbest,
                nbest == 1 ? "" : "s", where->name);
    for (size_t k = 0; k < nbest && !s->batch_failed; k++)
        (void)yard__job_preempt (s, best[k], why);
}
