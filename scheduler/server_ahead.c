/* server_ahead.c - dispatch ahead: a successor waits on a worker for the
 * PUs of a running job.
 *
 * A slot that frees on a worker stays idle for a round trip: the
 * JobFinished reaches the scheduler, its batch commits, and the next
 * Dispatch comes back.  For many short jobs that is most of a slot's
 * time.  With --dispatch-ahead, a pending job that finds no free slot
 * may instead be sent to a worker as the successor of an active job of
 * the same shape there (same CPUs and GPUs, at least its memory): the
 * worker starts it on that job's PUs and GPUs the moment that job ends,
 * without waiting for the scheduler.
 *
 * A successor that waits may take a successor of its own (AHEAD_DEPTH):
 * a job shorter than a round trip has ended before the scheduler hears
 * of its start, so one successor alone leaves the slot idle for the
 * round trip that sends the next.
 *
 * A successor reserves nothing while its predecessor runs (the
 * predecessor's reservation covers the slot); when the predecessor is
 * detached (its end, a requeue, its node lost) the successor takes over
 * its reservation and PUs here, as the worker does there.  Its attempt
 * row records its allocation with after_job/after_attempt, so that a
 * restart or a rollback links it again (yard__ahead_relink).
 *
 * What stays fair: the scheduler does not know how long the predecessor
 * runs, so the worker gives a successor back unstarted (END_RETURNED,
 * requeued at no cost) after Dispatch.ahead_wait_ms, and with it the
 * one behind it; the job then waits for a free slot like any other
 * (no_ahead), and the job it waited on never takes another successor (it
 * left the candidates when it took this one).  A preempted job's
 * successor is stopped, so that the PUs go to the job the preemption
 * makes room for.  Gang jobs neither follow nor are followed.
 *
 * The candidates are a list, oldest assignment first; a successor looks
 * at AHEAD_LOOK of them at most, so a placement stays O(1) in the number
 * of jobs and nodes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "log.h"
#include "place.h"
#include "server_int.h"
#include "server_nodeadmin.h"
#include "server_place.h"
#include "store_alloc.h"

#define AHEAD_LOOK 64 /* candidates a pending job looks at */
/* How deep a chain goes: a running job, its successor, and that one's
 * successor.  One successor hides one round trip; jobs shorter than a
 * round trip end before the next successor arrives, so a second one keeps
 * the slot busy. */
#define AHEAD_DEPTH 2

void
yard__cands_add (yard_server_t *s, yard_job_t *job)
{
    yard_node_t *node = job->worker;
    if (s->ahead_wait_ms == 0 || job->in_cands || job->succ
        || job->ahead_depth >= AHEAD_DEPTH || !node || !node->successors
        || yard_job_is_gang (job) || !yard_job_is_active (job))
        return;
    job->cnext = NULL;
    job->cprev = s->cands_tail;
    if (s->cands_tail)
        s->cands_tail->cnext = job;
    else
        s->cands = job;
    s->cands_tail = job;
    job->in_cands = true;
}

void
yard__cands_del (yard_server_t *s, yard_job_t *job)
{
    if (!job->in_cands)
        return;
    if (job->cprev)
        job->cprev->cnext = job->cnext;
    else
        s->cands = job->cnext;
    if (job->cnext)
        job->cnext->cprev = job->cprev;
    else
        s->cands_tail = job->cprev;
    job->cprev = job->cnext = NULL;
    job->in_cands = false;
}

yard_job_t *
yard__ahead_find (yard_server_t *s, const yard_job_t *job)
{
    if (job->no_ahead || yard_job_is_gang (job))
        return NULL;
    uint32_t c = yard_job_cpus (job), g = yard_job_gpus (job);
    uint64_t m = yard_job_memory (job);
    int n = 0;
    for (yard_job_t *a = s->cands; a && n < AHEAD_LOOK; a = a->cnext, n++) {
        yard_node_t *node = a->worker;
        if (node && node->successors && yard_node_open (node)
            && yard__node_takes_jobs (node)
            && a->state != YARD__JOB_STATE__JOB_PREEMPTING
            && !a->cancel_requested && yard_job_cpus (a) == c
            && yard_job_gpus (a) == g && yard_job_memory (a) >= m
            && yard__node_matches (node, job))
            return a;
    }
    return NULL;
}

int
yard__ahead_link (yard_server_t *s, yard_job_t *job, yard_job_t *pred)
{
    Yard__Allocation *a = NULL;
    const Yard__Allocation *src
        = pred->ahead_alloc ? pred->ahead_alloc : yard__place_of (pred);
    if (src) {
        if (yard_alloc_copy (src, &a) < 0)
            return -ENOMEM;
    } else {
        /* pred runs unbound (no PUs of its own): so will job */
        if (!(a = calloc (1, sizeof *a)))
            return -ENOMEM;
        yard__allocation__init (a);
    }
    a->after_job = pred->id;
    a->after_attempt = pred->attempt;
    yard_alloc_free (&job->ahead_alloc);
    job->ahead_alloc = a;
    job->pred = pred;
    job->ahead_depth = (uint8_t)(pred->ahead_depth + 1);
    pred->succ = job;
    yard__cands_del (s, pred); /* one successor each, ever */
    return 0;
}

/* The successor job now holds its PUs on node: its predecessor ended
 * there (or, at a restore, had ended). */
static void
take_over (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    Yard__Allocation *a = job->ahead_alloc;
    job->ahead_alloc = NULL;
    job->pred = NULL;
    a->after_job = 0;
    a->after_attempt = 0;
    yard__job_charge (s, job, node);
    yard__place_take (s, job, node, a);
    yard_alloc_free (&a);
    job->ahead_depth = 0;
    yard__cands_add (s, job);
    if (job->succ) { /* the chain moves up: it may take one now */
        job->succ->ahead_depth = 1;
        yard__cands_add (s, job->succ);
    }
    log_debug ("job %" PRIu64 " attempt %u holds its PUs on %s", job->id,
               job->attempt, node->name);
}

void
yard__ahead_detach (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    bool held = !job->ahead_alloc; /* it held PUs for its successor */
    yard__cands_del (s, job);
    if (job->pred) {
        /* a successor that leaves before the job it followed ends: that
         * job takes no other (it may run long: this one was given back) */
        job->pred->succ = NULL;
        job->pred = NULL;
    }
    yard_alloc_free (&job->ahead_alloc);
    yard_job_t *next = job->succ;
    job->succ = NULL;
    if (held && next && next->worker == node && next->ahead_alloc
        && next->pred == job)
        take_over (s, next, node);
    else if (next)
        next->pred = NULL; /* the worker gives it back with job */
}

void
yard__ahead_preempt (yard_server_t *s, yard_job_t *job)
{
    yard_job_t *next = job->succ;
    if (!next)
        return;
    job->succ = NULL;
    next->pred = NULL; /* holds nothing: its end frees nothing */
    if (next->worker)
        (void)yard__send_kill (s, next->worker, next->id, next->attempt,
                               YARD__END_REASON__END_PREEMPTED,
                               yard_job_grace (next));
    log_info ("job %" PRIu64 " attempt %u: stopped, as job %" PRIu64
              " it followed is preempted", next->id, next->attempt, job->id);
}

bool
yard__ahead_restore (yard_server_t *s, yard_job_t *job)
{
    if (yard_job_is_gang (job))
        return false;
    Yard__Allocation *a = NULL;
    uint32_t attempt = 0;
    if (yard_store_alloc_get (s->store, job->id, &attempt, &a) < 0 || !a)
        return false;
    bool successor = attempt == job->attempt && a->after_job != 0
                     && yard_alloc_copy (a, &job->ahead_alloc) == 0;
    yard__allocation__free_unpacked (a, NULL);
    return successor;
}

void
yard__ahead_relink (yard_server_t *s)
{
    for (size_t i = 0; i < yard_nodes_count (s->nodes); i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        for (yard_job_t *job = node->jobs; job; job = job->wnext) {
            if (!job->ahead_alloc || job->pred)
                continue;
            yard_job_t *pred
                = yard_queue_find (s->queue, job->ahead_alloc->after_job);
            if (pred && pred != job && pred->worker == node
                && pred->attempt == job->ahead_alloc->after_attempt
                && !pred->succ && yard_job_is_active (pred)) {
                pred->succ = job;
                job->pred = pred;
                yard__cands_del (s, pred);
            } else {
                take_over (s, job, node);
            }
        }
        /* depths, now that every link is known (chains are short) */
        for (yard_job_t *job = node->jobs; job; job = job->wnext) {
            uint8_t d = 0;
            for (yard_job_t *p = job->pred; p && d < 255; p = p->pred)
                d++;
            job->ahead_depth = d;
        }
    }
}

void
yard__ahead_forget (yard_job_t *job)
{
    job->pred = job->succ = NULL;
    job->cprev = job->cnext = NULL;
    job->in_cands = false;
    job->ahead_depth = 0;
    yard_alloc_free (&job->ahead_alloc);
}
