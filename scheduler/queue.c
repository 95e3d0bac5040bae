/* queue.c - job map (open addressing) and pending heap (see queue.h).
 *
 * The map keeps its load factor at most 1/2: with linear probing that
 * keeps probe sequences short even for sequential ids, and the hash mixes
 * the id (splitmix64's finaliser) so consecutive ids do not cluster.
 * Deletion shifts the following entries of the cluster back (Knuth's
 * algorithm R), so the table never fills up with tombstones.  A slot
 * holds the id beside the job, so a probe compares ids in the table
 * itself instead of loading each job it passes (a cache miss per step
 * in a map of a million jobs).
 */
#include "queue.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MIN_SLOTS 64

struct slot {
    uint64_t id;         /* 0: empty (ids start at 1) */
    yard_job_t *job;
};

struct yard_queue {
    struct slot *slots;  /* map */
    size_t nslots;       /* power of two */
    size_t count;
    yard_job_t **heap;
    size_t heap_len;
    size_t heap_cap;
};

static uint64_t
hash_id (uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

yard_queue_t *
yard_queue_create (void)
{
    yard_queue_t *q = calloc (1, sizeof *q);
    if (!q)
        return NULL;
    q->nslots = MAP_MIN_SLOTS;
    if (!(q->slots = calloc (q->nslots, sizeof q->slots[0])))
        goto error;
    return q;
error:
    free (q);
    return NULL;
}

void
yard_queue_destroy (yard_queue_t **qp)
{
    if (!qp || !*qp)
        return;
    yard_queue_t *q = *qp;
    for (size_t i = 0; i < q->heap_len; i++)
        q->heap[i]->heap_idx = YARD_JOB_NO_HEAP;
    free (q->slots);
    free (q->heap);
    free (q);
    *qp = NULL;
}

/* ---- map ---- */

static size_t
map_probe (const yard_queue_t *q, uint64_t id)
{
    size_t mask = q->nslots - 1;
    size_t i = (size_t)hash_id (id) & mask;
    while (q->slots[i].id && q->slots[i].id != id)
        i = (i + 1) & mask;
    return i;
}

static int
map_grow (yard_queue_t *q)
{
    size_t n = q->nslots * 2;
    struct slot *slots = calloc (n, sizeof slots[0]);
    if (!slots)
        return -ENOMEM;
    struct slot *old = q->slots;
    size_t oldn = q->nslots;
    q->slots = slots;
    q->nslots = n;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].id)
            q->slots[map_probe (q, old[i].id)] = old[i];
    free (old);
    return 0;
}

int
yard_queue_add (yard_queue_t *q, yard_job_t *job)
{
    if (job->id == 0)
        return -EINVAL;
    if ((q->count + 1) * 2 > q->nslots) {
        int rc = map_grow (q);
        if (rc < 0)
            return rc;
    }
    size_t i = map_probe (q, job->id);
    if (q->slots[i].id)
        return -EEXIST;
    q->slots[i] = (struct slot){job->id, job};
    q->count++;
    return 0;
}

yard_job_t *
yard_queue_find (const yard_queue_t *q, uint64_t id)
{
    if (id == 0)
        return NULL;
    return q->slots[map_probe (q, id)].job;
}

int
yard_queue_del (yard_queue_t *q, yard_job_t *job)
{
    size_t mask = q->nslots - 1;
    size_t i = map_probe (q, job->id);
    if (q->slots[i].job != job)
        return -ENOENT;
    if (job->heap_idx != YARD_JOB_NO_HEAP)
        (void)yard_queue_unqueue (q, job);
    q->slots[i] = (struct slot){0, NULL};
    q->count--;
    /* Backward shift: move up every later entry of the cluster whose home
     * slot is not between the hole and its current slot. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; q->slots[j].id; j = (j + 1) & mask) {
        size_t home = (size_t)hash_id (q->slots[j].id) & mask;
        bool stays = (hole <= j) ? (hole < home && home <= j)
                                 : (hole < home || home <= j);
        if (stays)
            continue;
        q->slots[hole] = q->slots[j];
        q->slots[j] = (struct slot){0, NULL};
        hole = j;
    }
    return 0;
}

size_t
yard_queue_count (const yard_queue_t *q)
{
    return q->count;
}

int
yard_queue_foreach (const yard_queue_t *q, yard_queue_job_f cb, void *arg)
{
    for (size_t i = 0; i < q->nslots; i++) {
        if (q->slots[i].id) {
            int rc = cb (q->slots[i].job, arg);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- heap ---- */

int
yard_job_cmp (const yard_job_t *a, const yard_job_t *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return 0;
}

static void
heap_set (yard_queue_t *q, size_t i, yard_job_t *job)
{
    q->heap[i] = job;
    job->heap_idx = i;
}

static void
sift_up (yard_queue_t *q, size_t i)
{
    yard_job_t *job = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (yard_job_cmp (job, q->heap[parent]) >= 0)
            break;
        heap_set (q, i, q->heap[parent]);
        i = parent;
    }
    heap_set (q, i, job);
}

static void
sift_down (yard_queue_t *q, size_t i)
{
    yard_job_t *job = q->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->heap_len)
            break;
        if (c + 1 < q->heap_len && yard_job_cmp (q->heap[c + 1], q->heap[c]) < 0)
            c++;
        if (yard_job_cmp (q->heap[c], job) >= 0)
            break;
        heap_set (q, i, q->heap[c]);
        i = c;
    }
    heap_set (q, i, job);
}

static bool
in_heap (const yard_queue_t *q, const yard_job_t *job)
{
    return job->heap_idx < q->heap_len && q->heap[job->heap_idx] == job;
}

int
yard_queue_push (yard_queue_t *q, yard_job_t *job)
{
    if (in_heap (q, job))
        return -EEXIST;
    if (q->heap_len == q->heap_cap) {
        size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
        yard_job_t **h = realloc (q->heap, cap * sizeof h[0]);
        if (!h)
            return -ENOMEM;
        q->heap = h;
        q->heap_cap = cap;
    }
    q->heap[q->heap_len] = job;
    job->heap_idx = q->heap_len++;
    sift_up (q, job->heap_idx);
    return 0;
}

yard_job_t *
yard_queue_peek (const yard_queue_t *q)
{
    return q->heap_len ? q->heap[0] : NULL;
}

int
yard_queue_unqueue (yard_queue_t *q, yard_job_t *job)
{
    if (!in_heap (q, job))
        return -ENOENT;
    size_t i = job->heap_idx;
    job->heap_idx = YARD_JOB_NO_HEAP;
    q->heap_len--;
    if (i == q->heap_len)
        return 0;
    /* Move the last job into the hole, then restore order either way. */
    heap_set (q, i, q->heap[q->heap_len]);
    if (i > 0 && yard_job_cmp (q->heap[i], q->heap[(i - 1) / 2]) < 0)
        sift_up (q, i);
    else
        sift_down (q, i);
    return 0;
}

yard_job_t *
yard_queue_pop (yard_queue_t *q)
{
    yard_job_t *job = yard_queue_peek (q);
    if (job)
        (void)yard_queue_unqueue (q, job);
    return job;
}

size_t
yard_queue_pending (const yard_queue_t *q)
{
    return q->heap_len;
}

void
yard_queue_clear_pending (yard_queue_t *q)
{
    for (size_t i = 0; i < q->heap_len; i++)
        q->heap[i]->heap_idx = YARD_JOB_NO_HEAP;
    q->heap_len = 0;
}

size_t
yard_queue_rank (const yard_queue_t *q, const yard_job_t *job)
{
    size_t n = 0;
    for (size_t i = 0; i < q->heap_len; i++)
        if (yard_job_cmp (q->heap[i], job) < 0)
            n++;
    return n;
}

static int
cmp_sort (const void *a, const void *b)
{
    return yard_job_cmp (*(yard_job_t *const *)a, *(yard_job_t *const *)b);
}

int
yard_queue_sorted (const yard_queue_t *q, yard_job_t ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (q->heap_len == 0)
        return 0;
    yard_job_t **v = malloc (q->heap_len * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    memcpy (v, q->heap, q->heap_len * sizeof v[0]);
    qsort (v, q->heap_len, sizeof v[0], cmp_sort);
    *out = v;
    *n = q->heap_len;
    return 0;
}
