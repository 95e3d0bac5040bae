/* gang_place.c - all-or-nothing placement of gang jobs (see gang_place.h).
 *
 * Two passes: first every candidate is tested with yard_place_fits and the
 * fitting ones are ranked, then the holds are taken one by one.  A hold
 * that fails in the second pass (it cannot when fits said yes, but an
 * allocator may always run out of memory) releases the ones already taken,
 * so a gang never sits on part of its nodes waiting for the rest.
 */
#include "gang_place.h"

#include <errno.h>
#include <stdlib.h>

struct cand {
    size_t idx;
    uint32_t spare_gpus;
    uint32_t spare_pus;
};

static uint32_t
mul_sat (uint32_t a, uint32_t b)
{
    uint64_t v = (uint64_t)a * b;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint32_t
yard_gang_node_cpus (const yard_gang_req_t *req)
{
    return mul_sat (req->tasks, req->cpus_per_task);
}

uint32_t
yard_gang_node_gpus (const yard_gang_req_t *req)
{
    return mul_sat (req->tasks, req->gpus_per_task);
}

static int
cand_cmp (const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->spare_gpus != y->spare_gpus)
        return x->spare_gpus < y->spare_gpus ? -1 : 1;
    if (x->spare_pus != y->spare_pus)
        return x->spare_pus < y->spare_pus ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int
yard_gang_place (yard_place_t *const *places, size_t n, uint64_t job_id,
                 const yard_gang_req_t *req, size_t *chosen,
                 const Yard__Allocation **allocs)
{
    if (!req || req->nnodes == 0 || req->tasks == 0 || !chosen || !allocs)
        return -EINVAL;
    if (req->nnodes > n)
        return -ENOSPC;
    uint32_t c = yard_gang_node_cpus (req), g = yard_gang_node_gpus (req);
    struct cand *v = malloc (n * sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        yard_place_t *p = places[i];
        if (!p || !yard_place_fits (p, c, g) || yard_place_get (p, job_id))
            continue;
        uint32_t fp = yard_place_free_pus (p), fg = yard_place_free_gpus (p);
        v[nc].idx = i;
        v[nc].spare_gpus = fg > g ? fg - g : 0;
        v[nc].spare_pus = fp == UINT32_MAX ? UINT32_MAX : fp - c;
        nc++;
    }
    if (nc < req->nnodes) {
        free (v);
        return -ENOSPC;
    }
    qsort (v, nc, sizeof *v, cand_cmp);
    int rc = 0;
    uint32_t r = 0;
    for (; r < req->nnodes; r++) {
        chosen[r] = v[r].idx;
        rc = yard_place_alloc (places[v[r].idx], job_id, c, g, req->memory,
                               &allocs[r]);
        if (rc < 0)
            break;
    }
    free (v);
    if (rc < 0) {
        yard_gang_release (places, job_id, chosen, r);
        for (uint32_t k = 0; k < req->nnodes; k++)
            allocs[k] = NULL;
        return rc == -ENOMEM ? -ENOMEM : -ENOSPC;
    }
    return 0;
}

void
yard_gang_release (yard_place_t *const *places, uint64_t job_id,
                   const size_t *chosen, uint32_t nnodes)
{
    for (uint32_t r = 0; r < nnodes; r++)
        (void)yard_place_release (places[chosen[r]], job_id);
}
