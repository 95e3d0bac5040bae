/* waitq.c - jobs waiting for their eligible time (see waitq.h). */
#include "waitq.h"

#include <errno.h>
#include <stdlib.h>

struct yard_waitq {
    yard_job_t **heap;
    size_t len, cap;
};

yard_waitq_t *
yard_waitq_create (void)
{
    yard_waitq_t *wq = calloc (1, sizeof *wq);
    if (!wq)
        return NULL;
    return wq;
}

void
yard_waitq_destroy (yard_waitq_t **wqp)
{
    if (!wqp || !*wqp)
        return;
    free ((*wqp)->heap);
    free (*wqp);
    *wqp = NULL;
}

static int
before (const yard_job_t *a, const yard_job_t *b)
{
    if (a->eligible_ms != b->eligible_ms)
        return a->eligible_ms < b->eligible_ms;
    return a->id < b->id;
}

static void
set (yard_waitq_t *wq, size_t i, yard_job_t *job)
{
    wq->heap[i] = job;
    job->wait_idx = i;
}

static void
sift_up (yard_waitq_t *wq, size_t i)
{
    yard_job_t *job = wq->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before (job, wq->heap[p]))
            break;
        set (wq, i, wq->heap[p]);
        i = p;
    }
    set (wq, i, job);
}

static void
sift_down (yard_waitq_t *wq, size_t i)
{
    yard_job_t *job = wq->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= wq->len)
            break;
        if (c + 1 < wq->len && before (wq->heap[c + 1], wq->heap[c]))
            c++;
        if (!before (wq->heap[c], job))
            break;
        set (wq, i, wq->heap[c]);
        i = c;
    }
    set (wq, i, job);
}

bool
yard_waitq_has (const yard_waitq_t *wq, const yard_job_t *job)
{
    return job->wait_idx < wq->len && wq->heap[job->wait_idx] == job;
}

int
yard_waitq_push (yard_waitq_t *wq, yard_job_t *job)
{
    if (yard_waitq_has (wq, job))
        return -EEXIST;
    if (wq->len == wq->cap) {
        size_t cap = wq->cap ? wq->cap * 2 : 16;
        yard_job_t **h = realloc (wq->heap, cap * sizeof h[0]);
        if (!h)
            return -ENOMEM;
        wq->heap = h;
        wq->cap = cap;
    }
    wq->heap[wq->len] = job;
    job->wait_idx = wq->len++;
    sift_up (wq, job->wait_idx);
    return 0;
}

int
yard_waitq_remove (yard_waitq_t *wq, yard_job_t *job)
{
    if (!yard_waitq_has (wq, job))
        return -ENOENT;
    size_t i = job->wait_idx;
    job->wait_idx = YARD_JOB_NO_HEAP;
    wq->len--;
    if (i == wq->len)
        return 0;
    set (wq, i, wq->heap[wq->len]);
    if (i > 0 && before (wq->heap[i], wq->heap[(i - 1) / 2]))
        sift_up (wq, i);
    else
        sift_down (wq, i);
    return 0;
}

yard_job_t *
yard_waitq_pop_due (yard_waitq_t *wq, int64_t now)
{
    if (wq->len == 0 || wq->heap[0]->eligible_ms > now)
        return NULL;
    yard_job_t *job = wq->heap[0];
    (void)yard_waitq_remove (wq, job);
    return job;
}

size_t
yard_waitq_count (const yard_waitq_t *wq)
{
    return wq->len;
}

yard_job_t *
yard_waitq_at (const yard_waitq_t *wq, size_t i)
{
    return i < wq->len ? wq->heap[i] : NULL;
}

void
yard_waitq_clear (yard_waitq_t *wq)
{
    wq->len = 0;
}
