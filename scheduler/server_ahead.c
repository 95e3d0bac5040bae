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
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "place.h"
#include "server_int.h"
#include "server_nodeadmin.h"
#include "server_place.h"

#define AHEAD_LOOK 64 /* candidates a pending job looks at */
/* How deep a chain goes: a running job, its successor, and that one's
 * successor.  One successor hides one round trip; jobs shorter than a
 * round trip end before the next successor arrives, so a second one keeps
 * the slot busy. */
#define AHEAD_DEPTH 2

/* job's part, created on first use; NULL when out of memory */
static struct yard_ahead *
part (yard_job_t *job)
{
    if (!job->ahead)
        job->ahead = calloc (1, sizeof *job->ahead);
    return job->ahead;
}

/* Drop job's part once it takes part in nothing any more. */
static void
part_drop (yard_job_t *job)
{
    struct yard_ahead *a = job->ahead;
    if (a && !a->alloc && !a->pred && !a->succ && !a->in_cands) {
        free (a);
        job->ahead = NULL;
    }
}

void
yard__cands_add (yard_server_t *s, yard_job_t *job)
{
    yard_node_t *node = job->worker;
    struct yard_ahead *a = job->ahead;
    if (s->ahead_wait_ms == 0 || !node || !node->successors
        || (a && (a->in_cands || a->succ || a->depth >= AHEAD_DEPTH))
        || yard_job_is_gang (job) || !yard_job_is_active (job)
        || !(a = part (job)))
        return;
    a->cnext = NULL;
    a->cprev = s->cands_tail;
    if (s->cands_tail)
        s->cands_tail->ahead->cnext = job;
    else
        s->cands = job;
    s->cands_tail = job;
    a->in_cands = true;
}

void
yard__cands_del (yard_server_t *s, yard_job_t *job)
{
    struct yard_ahead *a = job->ahead;
    if (!a || !a->in_cands)
        return;
    if (a->cprev)
        a->cprev->ahead->cnext = a->cnext;
    else
        s->cands = a->cnext;
    if (a->cnext)
        a->cnext->ahead->cprev = a->cprev;
    else
        s->cands_tail = a->cprev;
    a->cprev = a->cnext = NULL;
    a->in_cands = false;
}

yard_job_t *
yard__ahead_find (yard_server_t *s, const yard_job_t *job)
{
    if (job->no_ahead || yard_job_is_gang (job))
        return NULL;
    uint32_t c = yard_job_cpus (job), g = yard_job_gpus (job);
    uint64_t m = yard_job_memory (job);
    int n = 0;
    for (yard_job_t *p = s->cands; p && n < AHEAD_LOOK;
         p = p->ahead->cnext, n++) {
        yard_node_t *node = p->worker;
        if (node && node->successors && yard_node_open (node)
            && yard__node_takes_jobs (node)
            && p->state != YARD__JOB_STATE__JOB_PREEMPTING
            && !p->cancel_requested && yard_job_cpus (p) == c
            && yard_job_gpus (p) == g && yard_job_memory (p) >= m
            && yard__node_matches (node, job))
            return p;
    }
    return NULL;
}

int
yard__ahead_link (yard_server_t *s, yard_job_t *job, yard_job_t *pred)
{
    struct yard_ahead *a = part (job), *pa = part (pred);
    Yard__Allocation *al = NULL;
    const Yard__Allocation *src = yard_job_ahead_alloc (pred);
    if (!src)
        src = yard__place_of (pred);
    if (!a || !pa)
        goto nomem;
    if (src) {
        if (yard_alloc_copy (src, &al) < 0)
            goto nomem;
    } else {
        /* pred runs unbound (no PUs of its own): so will job */
        if (!(al = calloc (1, sizeof *al)))
            goto nomem;
        yard__allocation__init (al);
    }
    al->after_job = pred->id;
    al->after_attempt = pred->attempt;
    yard_alloc_free (&a->alloc);
    a->alloc = al;
    a->pred = pred;
    a->depth = (uint8_t)(pa->depth + 1);
    pa->succ = job;
    yard__cands_del (s, pred); /* one successor each, ever */
    return 0;
nomem:
    part_drop (job);
    part_drop (pred);
    return -ENOMEM;
}

/* The successor job now holds its PUs on node: its predecessor ended
 * there (or, at a restore, had ended). */
static void
take_over (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    struct yard_ahead *a = job->ahead;
    Yard__Allocation *al = a->alloc;
    a->alloc = NULL;
    a->pred = NULL;
    a->depth = 0;
    al->after_job = 0;
    al->after_attempt = 0;
    yard__job_charge (s, job, node);
    yard__place_take (s, job, node, al);
    yard_alloc_free (&al);
    yard__cands_add (s, job);
    if (a->succ) { /* the chain moves up: it may take one now */
        a->succ->ahead->depth = 1;
        yard__cands_add (s, a->succ);
    }
    part_drop (job);
    log_debug ("job %" PRIu64 " attempt %u holds its PUs on %s", job->id,
               job->attempt, node->name);
}

void
yard__ahead_detach (yard_server_t *s, yard_job_t *job, yard_node_t *node)
{
    struct yard_ahead *a = job->ahead;
    if (!a)
        return;
    bool held = !a->alloc; /* it held PUs for its successor */
    yard__cands_del (s, job);
    if (a->pred) {
        /* a successor that leaves before the job it followed ends: that
         * job takes no other (it may run long: this one was given back) */
        a->pred->ahead->succ = NULL;
        part_drop (a->pred);
        a->pred = NULL;
    }
    yard_alloc_free (&a->alloc);
    yard_job_t *next = a->succ;
    a->succ = NULL;
    part_drop (job);
    if (!next)
        return;
    if (held && next->worker == node && next->ahead->alloc
        && next->ahead->pred == job) {
        take_over (s, next, node);
    } else {
        next->ahead->pred = NULL; /* the worker gives it back with job */
        part_drop (next);
    }
}

void
yard__ahead_preempt (yard_server_t *s, yard_job_t *job)
{
    yard_job_t *next = job->ahead ? job->ahead->succ : NULL;
    if (!next)
        return;
    job->ahead->succ = NULL;
    next->ahead->pred = NULL; /* holds nothing: its end frees nothing */
    part_drop (job);
    if (next->worker)
        (void)yard__send_kill (s, next->worker, next->id, next->attempt,
                               YARD__END_REASON__END_PREEMPTED,
                               yard_job_grace (next));
    log_info ("job %" PRIu64 " attempt %u: stopped, as job %" PRIu64
              " it followed is preempted", next->id, next->attempt, job->id);
}

bool
yard__ahead_restore (yard_job_t *job, const Yard__Allocation *rec)
{
    if (!rec || rec->after_job == 0 || yard_job_is_gang (job))
        return false;
    struct yard_ahead *a = part (job);
    if (a && !a->alloc && yard_alloc_copy (rec, &a->alloc) == 0)
        return true;
    if (a)
        part_drop (job);
    return false;
}

void
yard__ahead_relink (yard_server_t *s)
{
    for (size_t i = 0; i < yard_nodes_count (s->nodes); i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        for (yard_job_t *job = node->jobs; job; job = job->wnext) {
            const Yard__Allocation *al = yard_job_ahead_alloc (job);
            if (!al || job->ahead->pred)
                continue;
            yard_job_t *pred = yard_queue_find (s->queue, al->after_job);
            struct yard_ahead *pa = NULL;
            if (pred && pred != job && pred->worker == node
                && pred->attempt == al->after_attempt
                && !(pred->ahead && pred->ahead->succ)
                && yard_job_is_active (pred) && (pa = part (pred))) {
                pa->succ = job;
                job->ahead->pred = pred;
                yard__cands_del (s, pred);
            } else {
                take_over (s, job, node);
            }
        }
        /* depths, now that every link is known (chains are short) */
        for (yard_job_t *job = node->jobs; job; job = job->wnext) {
            if (!job->ahead)
                continue;
            uint8_t d = 0;
            for (yard_job_t *p = job->ahead->pred; p && d < 255;
                 p = p->ahead->pred)
                d++;
            job->ahead->depth = d;
        }
    }
}

void
yard__ahead_forget (yard_job_t *job)
{
    if (!job->ahead)
        return;
    yard_alloc_free (&job->ahead->alloc);
    free (job->ahead);
    job->ahead = NULL;
}

const char *
yard__ahead_reason (const yard_job_t *job, char *buf, size_t len)
{
    const struct yard_ahead *a = job->ahead;
    if (!a || !a->alloc || job->state != YARD__JOB_STATE__JOB_ASSIGNED)
        return NULL;
    if (a->pred)
        snprintf (buf, len, "waits on %.255s for job %" PRIu64 " to end",
                  job->node ? job->node : "its node", a->pred->id);
    else /* the job it followed was stopped, or given back */
        snprintf (buf, len, "being given back by %.255s, with the job it "
                  "followed", job->node ? job->node : "its node");
    return buf;
}
