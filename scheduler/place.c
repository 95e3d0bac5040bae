/* place.c - core, PU and GPU allocation on one node (see place.h).
 *
 * Sizes are small (a few thousand PUs, a few dozen GPUs, a handful of jobs
 * per node), so everything is arrays and linear scans: an allocation costs
 * O(PUs log PUs) for the sort, which is cheap next to the SQLite write that
 * follows it in the dispatch pass.
 */
#include "place.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"

struct hold {
    uint64_t job_id;
    Yard__Allocation *alloc; /* owned; what the worker got */
    bool *pus;               /* owned, npu flags: what it holds here */
    bool *gpus;              /* owned, ngpu flags */
};

struct yard_place {
    /* shape */
    size_t npu;
    bool tracked;       /* false: oversubscribed, PUs not bound */
    int *pu_numa;       /* OS index of each PU's NUMA node, -1 unknown */
    bool *pu_gpu_local; /* some GPU is local to this PU */
    size_t ngpu;
    int *gpu_numa;
    int *gpu_switch;    /* its PCIe switch: the GPU index of the switch's
                         * first GPU; a GPU under no known switch, its own */
    bool *gpu_local;    /* ngpu * npu: PUs local to each GPU */
    /* cores: core c has PUs core_pu[core_start[c] .. core_start[c+1]-1];
     * a PU no listed core names is a core of its own */
    size_t ncore;
    uint32_t *core_start; /* ncore + 1 */
    uint32_t *core_pu;    /* npu */
    uint32_t *pu_core;    /* npu: each PU's core */
    uint32_t *single;     /* npu + 1: 0, 1, 2, ...: PUs as units (share) */
    /* NUMA distances: nnuma x nnuma, row i is numa_os[i]; none: nnuma 0 */
    size_t nnuma;
    int *numa_os;
    uint32_t *dist;
    bool share;         /* jobs get PUs, cores may be shared */
    char **gpu_uuid;    /* borrowed copies: owned strings */
    char **gpu_bus;
    /* state */
    bool *pu_used;
    bool *gpu_used;
    uint32_t *core_used; /* ncore: held PUs of each core */
    uint32_t free_pus, free_gpus, free_cores;
    struct hold *holds;
    size_t nholds, cap;
};

/* ---- Allocation copies ---- */

static char *
dup_or_empty (const char *s)
{
    return strdup (s ? s : "");
}

void
yard_alloc_free (Yard__Allocation **ap)
{
    if (!ap || !*ap)
        return;
    Yard__Allocation *a = *ap;
    free (a->cpus);
    for (size_t i = 0; i < a->n_gpu_uuids; i++)
        free (a->gpu_uuids[i]);
    free (a->gpu_uuids);
    for (size_t i = 0; i < a->n_gpu_bus_ids; i++)
        free (a->gpu_bus_ids[i]);
    free (a->gpu_bus_ids);
    free (a);
    *ap = NULL;
}

static Yard__Allocation *
alloc_new (size_t ngpu)
{
    Yard__Allocation *a = calloc (1, sizeof *a);
    if (!a)
        return NULL;
    yard__allocation__init (a);
    a->cpus = NULL;
    if (ngpu && (!(a->gpu_uuids = calloc (ngpu, sizeof (char *)))
                 || !(a->gpu_bus_ids = calloc (ngpu, sizeof (char *)))))
        goto error;
    return a;
error:
    yard_alloc_free (&a);
    return NULL;
}

int
yard_alloc_copy (const Yard__Allocation *src, Yard__Allocation **out)
{
    if (!src) {
        *out = NULL;
        return 0;
    }
    size_t n = src->n_gpu_uuids > src->n_gpu_bus_ids ? src->n_gpu_uuids
                                                     : src->n_gpu_bus_ids;
    Yard__Allocation *a = alloc_new (n);
    if (!a)
        return -ENOMEM;
    a->memory_bytes = src->memory_bytes;
    a->after_job = src->after_job;
    a->after_attempt = src->after_attempt;
    if (!(a->cpus = dup_or_empty (src->cpus)))
        goto error;
    for (size_t i = 0; i < src->n_gpu_uuids; i++, a->n_gpu_uuids++)
        if (!(a->gpu_uuids[i] = dup_or_empty (src->gpu_uuids[i])))
            goto error;
    for (size_t i = 0; i < src->n_gpu_bus_ids; i++, a->n_gpu_bus_ids++)
        if (!(a->gpu_bus_ids[i] = dup_or_empty (src->gpu_bus_ids[i])))
            goto error;
    *out = a;
    return 0;
error:
    yard_alloc_free (&a);
    return -ENOMEM;
}

/* ---- shape ---- */

static void
shape_free (yard_place_t *p)
{
    free (p->pu_numa);
    free (p->pu_gpu_local);
    free (p->gpu_numa);
    free (p->gpu_switch);
    free (p->gpu_local);
    for (size_t i = 0; i < p->ngpu; i++) {
        if (p->gpu_uuid)
            free (p->gpu_uuid[i]);
        if (p->gpu_bus)
            free (p->gpu_bus[i]);
    }
    free (p->gpu_uuid);
    free (p->gpu_bus);
    free (p->pu_used);
    free (p->gpu_used);
    free (p->core_start);
    free (p->core_pu);
    free (p->pu_core);
    free (p->single);
    free (p->numa_os);
    free (p->dist);
    free (p->core_used);
}

/* Cores from t's core list (q->npu set); PUs no core names become cores
 * of their own. */
static int
cores_build (yard_place_t *q, const Yard__Topology *t)
{
    size_t npu = q->npu;
    if (!(q->core_start = calloc (npu + 2, sizeof (uint32_t)))
        || !(q->core_pu = calloc (npu + 1, sizeof (uint32_t)))
        || !(q->pu_core = calloc (npu + 1, sizeof (uint32_t)))
        || !(q->single = calloc (npu + 2, sizeof (uint32_t)))
        || !(q->core_used = calloc (npu + 1, sizeof (uint32_t))))
        return -ENOMEM;
    for (size_t k = 0; k <= npu; k++)
        q->single[k] = (uint32_t)k;
    bool *seen = calloc (npu + 1, sizeof *seen);
    bool *tmp = calloc (npu + 1, sizeof *tmp);
    if (!seen || !tmp) {
        free (seen);
        free (tmp);
        return -ENOMEM;
    }
    size_t nc = 0, np = 0;
    for (size_t i = 0; t && i < t->n_core_list; i++) {
        const Yard__CoreInfo *ci = t->core_list[i];
        memset (tmp, 0, (npu + 1) * sizeof *tmp);
        if (!ci || !ci->pus || yard_cpulist_parse (ci->pus, tmp, npu) <= 0)
            continue;
        size_t before = np;
        for (size_t k = 0; k < npu; k++)
            if (tmp[k] && !seen[k]) {
                seen[k] = true;
                q->core_pu[np++] = (uint32_t)k;
                q->pu_core[k] = (uint32_t)nc;
            }
        if (np > before)
            q->core_start[++nc] = (uint32_t)np;
    }
    for (size_t k = 0; k < npu; k++)
        if (!seen[k]) {
            q->core_pu[np++] = (uint32_t)k;
            q->pu_core[k] = (uint32_t)nc;
            q->core_start[++nc] = (uint32_t)np;
        }
    free (seen);
    free (tmp);
    q->ncore = nc;
    q->free_cores = (uint32_t)nc;
    return 0;
}

/* The distance matrix when t has a whole one. */
static int
distances_build (yard_place_t *q, const Yard__Topology *t)
{
    if (!t || t->n_numa == 0
        || t->n_numa_distances != t->n_numa * t->n_numa)
        return 0;
    size_t n = t->n_numa;
    if (!(q->numa_os = calloc (n, sizeof q->numa_os[0]))
        || !(q->dist = calloc (n * n, sizeof q->dist[0])))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        q->numa_os[i] = (int)t->numa[i]->os_index;
    memcpy (q->dist, t->numa_distances, n * n * sizeof q->dist[0]);
    q->nnuma = n;
    return 0;
}

/* Fill q's shape from t and cpus (q zeroed). */
static int
shape_build (yard_place_t *q, const Yard__Topology *t, uint32_t cpus)
{
    size_t npu = cpus;
    if (t && t->pus > 0) {
        npu = t->pus;
        /* lists may name PUs past the count (offline PUs): size for them */
        for (size_t i = 0; i < t->n_numa; i++) {
            int e = yard_cpulist_extent (t->numa[i]->cpus);
            if (e > 0 && (size_t)e > npu)
                npu = (size_t)e;
        }
        for (size_t i = 0; i < t->n_gpus; i++) {
            int e = yard_cpulist_extent (t->gpus[i]->local_cpus);
            if (e > 0 && (size_t)e > npu)
                npu = (size_t)e;
        }
    }
    q->npu = npu;
    q->tracked = cpus <= (t && t->pus ? t->pus : cpus);
    q->ngpu = t ? t->n_gpus : 0;
    size_t ng = q->ngpu;
    if (!(q->pu_numa = calloc (npu + 1, sizeof q->pu_numa[0]))
        || !(q->pu_gpu_local = calloc (npu + 1, sizeof (bool)))
        || !(q->pu_used = calloc (npu + 1, sizeof (bool)))
        || !(q->gpu_numa = calloc (ng + 1, sizeof q->gpu_numa[0]))
        || !(q->gpu_switch = calloc (ng + 1, sizeof q->gpu_switch[0]))
        || !(q->gpu_used = calloc (ng + 1, sizeof (bool)))
        || !(q->gpu_local = calloc (ng * npu + 1, sizeof (bool)))
        || !(q->gpu_uuid = calloc (ng + 1, sizeof (char *)))
        || !(q->gpu_bus = calloc (ng + 1, sizeof (char *))))
        return -ENOMEM;
    for (size_t i = 0; i < npu; i++)
        q->pu_numa[i] = -1;
    bool *tmp = calloc (npu + 1, sizeof *tmp);
    if (!tmp)
        return -ENOMEM;
    for (size_t i = 0; t && i < t->n_numa; i++) {
        memset (tmp, 0, (npu + 1) * sizeof *tmp);
        if (yard_cpulist_parse (t->numa[i]->cpus, tmp, npu) < 0)
            continue; /* checked on arrival; be lenient anyway */
        for (size_t k = 0; k < npu; k++)
            if (tmp[k])
                q->pu_numa[k] = (int)t->numa[i]->os_index;
    }
    free (tmp);
    for (size_t g = 0; g < ng; g++) {
        const Yard__GpuInfo *gi = t->gpus[g];
        q->gpu_numa[g] = gi->numa_node;
        q->gpu_switch[g] = (int)g;
        for (size_t h = 0; h < g && gi->pci_switch && *gi->pci_switch; h++)
            if (t->gpus[h]->pci_switch
                && strcmp (t->gpus[h]->pci_switch, gi->pci_switch) == 0) {
                q->gpu_switch[g] = (int)h;
                break;
            }
        if (!(q->gpu_uuid[g] = dup_or_empty (gi->uuid))
            || !(q->gpu_bus[g] = dup_or_empty (gi->pci_bus_id)))
            return -ENOMEM;
        bool *loc = q->gpu_local + g * npu;
        if (!gi->local_cpus || !*gi->local_cpus
            || yard_cpulist_parse (gi->local_cpus, loc, npu) <= 0) {
            /* no list: its NUMA node's PUs are the local ones */
            for (size_t k = 0; k < npu; k++)
                loc[k] = gi->numa_node >= 0 && q->pu_numa[k] == gi->numa_node;
        }
        for (size_t k = 0; k < npu; k++)
            if (loc[k])
                q->pu_gpu_local[k] = true;
    }
    q->free_pus = (uint32_t)npu;
    q->free_gpus = (uint32_t)ng;
    if (cores_build (q, t) < 0 || distances_build (q, t) < 0)
        return -ENOMEM;
    return 0;
}

/* ---- holds ---- */

static struct hold *
find (const yard_place_t *p, uint64_t job_id)
{
    for (size_t i = 0; i < p->nholds; i++)
        if (p->holds[i].job_id == job_id)
            return &p->holds[i];
    return NULL;
}

static int
gpu_by_uuid (const yard_place_t *p, const char *uuid)
{
    for (size_t g = 0; g < p->ngpu; g++)
        if (uuid && strcmp (p->gpu_uuid[g], uuid) == 0)
            return (int)g;
    return -1;
}

/* The PUs and GPUs a names, as flags in pus (npu) and gpus (ngpu).
 * strict: -EINVAL for what this node lacks; else such entries are
 * skipped. */
static int
resolve (const yard_place_t *p, const Yard__Allocation *a, bool *pus,
         bool *gpus, bool strict)
{
    if (p->tracked && a->cpus && *a->cpus) {
        int e = yard_cpulist_extent (a->cpus);
        if (e < 0)
            return -EINVAL;
        if ((size_t)e > p->npu) {
            if (strict)
                return -EINVAL;
            bool *all = calloc ((size_t)e, sizeof *all);
            if (!all)
                return -ENOMEM;
            (void)yard_cpulist_parse (a->cpus, all, (size_t)e);
            memcpy (pus, all, p->npu * sizeof *pus);
            free (all);
        } else if (yard_cpulist_parse (a->cpus, pus, p->npu) < 0) {
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < a->n_gpu_uuids; i++) {
        int g = gpu_by_uuid (p, a->gpu_uuids[i]);
        if (g < 0) {
            /* a node that tracks no GPU does not limit them (place.h) */
            if (strict && p->ngpu > 0)
                return -EINVAL;
            continue;
        }
        gpus[g] = true;
    }
    return 0;
}

static void
mark (yard_place_t *p, const bool *pus, const bool *gpus, bool used)
{
    for (size_t k = 0; k < p->npu; k++)
        if (pus[k] && p->pu_used[k] != used) {
            p->pu_used[k] = used;
            p->free_pus += used ? (uint32_t)-1 : 1;
            uint32_t *cu = &p->core_used[p->pu_core[k]];
            if (used && (*cu)++ == 0)
                p->free_cores--;
            else if (!used && --(*cu) == 0)
                p->free_cores++;
        }
    for (size_t g = 0; g < p->ngpu; g++)
        if (gpus[g] && p->gpu_used[g] != used) {
            p->gpu_used[g] = used;
            p->free_gpus += used ? (uint32_t)-1 : 1;
        }
}

static int
holds_grow (yard_place_t *p)
{
    if (p->nholds < p->cap)
        return 0;
    size_t cap = p->cap ? p->cap * 2 : 8;
    struct hold *v = realloc (p->holds, cap * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    p->holds = v;
    p->cap = cap;
    return 0;
}

/* ---- public ---- */

yard_place_t *
yard_place_create (const Yard__Topology *t, uint32_t cpus)
{
    yard_place_t *p = calloc (1, sizeof *p);
    if (!p)
        return NULL;
    if (shape_build (p, t, cpus) < 0)
        goto error;
    return p;
error:
    shape_free (p);
    free (p);
    errno = ENOMEM;
    return NULL;
}

void
yard_place_destroy (yard_place_t **pp)
{
    if (!pp || !*pp)
        return;
    yard_place_t *p = *pp;
    yard_place_clear (p);
    free (p->holds);
    shape_free (p);
    free (p);
    *pp = NULL;
}

int
yard_place_reshape (yard_place_t *p, const Yard__Topology *t, uint32_t cpus)
{
    yard_place_t q = { 0 };
    q.share = p->share;
    size_t n = p->nholds;
    bool **pus = calloc (n + 1, sizeof *pus);
    bool **gpus = calloc (n + 1, sizeof *gpus);
    if (!pus || !gpus || shape_build (&q, t, cpus) < 0)
        goto error;
    for (size_t i = 0; i < n; i++)
        if (!(pus[i] = calloc (q.npu + 1, sizeof (bool)))
            || !(gpus[i] = calloc (q.ngpu + 1, sizeof (bool))))
            goto error;
    /* re-apply each hold on the new shape; a PU or GPU an earlier hold
     * took is not taken twice */
    for (size_t i = 0; i < n; i++) {
        struct hold *h = &p->holds[i];
        if (resolve (&q, h->alloc, pus[i], gpus[i], false) < 0) {
            memset (pus[i], 0, q.npu * sizeof (bool));
            memset (gpus[i], 0, q.ngpu * sizeof (bool));
        }
        for (size_t k = 0; k < q.npu; k++)
            pus[i][k] = pus[i][k] && !q.pu_used[k];
        for (size_t g = 0; g < q.ngpu; g++)
            gpus[i][g] = gpus[i][g] && !q.gpu_used[g];
        mark (&q, pus[i], gpus[i], true);
    }
    for (size_t i = 0; i < n; i++) {
        free (p->holds[i].pus);
        free (p->holds[i].gpus);
        p->holds[i].pus = pus[i];
        p->holds[i].gpus = gpus[i];
    }
    free (pus);
    free (gpus);
    q.holds = p->holds;
    q.nholds = p->nholds;
    q.cap = p->cap;
    shape_free (p);
    *p = q;
    return 0;
error:
    for (size_t i = 0; i < n && pus && gpus; i++) {
        free (pus[i]);
        free (gpus[i]);
    }
    free (pus);
    free (gpus);
    shape_free (&q);
    return -ENOMEM;
}

/* What a job's cpus count: PUs when cores may be shared, else cores. */
static uint32_t
free_units (const yard_place_t *p)
{
    return p->share ? p->free_pus : p->free_cores;
}

uint32_t
yard_place_free_pus (const yard_place_t *p)
{
    return p->tracked ? free_units (p) : UINT32_MAX;
}

void
yard_place_set_share (yard_place_t *p, bool share)
{
    p->share = share;
}

bool
yard_place_share (const yard_place_t *p)
{
    return p->share;
}

void
yard_place_counts (const yard_place_t *p, uint32_t *cores,
                   uint32_t *free_cores, uint32_t *pus, uint32_t *free_pus)
{
    *cores = (uint32_t)p->ncore;
    *free_cores = p->free_cores;
    *pus = (uint32_t)p->npu;
    *free_pus = p->free_pus;
}

uint32_t
yard_place_free_gpus (const yard_place_t *p)
{
    return p->free_gpus;
}

uint32_t
yard_place_gpus (const yard_place_t *p)
{
    return (uint32_t)p->ngpu;
}

bool
yard_place_fits (const yard_place_t *p, uint32_t cpus, uint32_t gpus)
{
    if (p->tracked && cpus > free_units (p))
        return false;
    return p->ngpu == 0 || gpus <= p->free_gpus;
}

/* Free GPUs of switch sw on NUMA node n not yet in pick. */
static uint32_t
switch_free (const yard_place_t *p, int n, int sw, const bool *pick)
{
    uint32_t f = 0;
    for (size_t h = 0; h < p->ngpu; h++)
        if (!p->gpu_used[h] && !pick[h] && p->gpu_numa[h] == n
            && p->gpu_switch[h] == sw)
            f++;
    return f;
}

/* Add up to want free GPUs of NUMA node n to pick, packed by PCIe switch:
 * best fit first (the switch with the fewest free GPUs that still holds
 * the rest, so that whole switches stay free for the next jobs), else the
 * switch with the most free GPUs, all of them, and again for the rest.
 * Ties go to the switch of the lowest GPU.  Returns how many it added. */
static uint32_t
choose_on_numa (const yard_place_t *p, int n, uint32_t want, bool *pick)
{
    uint32_t got = 0;
    while (got < want) {
        uint32_t need = want - got;
        int fit = -1, most = -1;
        uint32_t fit_free = UINT32_MAX, most_free = 0;
        for (size_t g = 0; g < p->ngpu; g++) {
            if (p->gpu_used[g] || pick[g] || p->gpu_numa[g] != n)
                continue;
            int sw = p->gpu_switch[g];
            uint32_t f = switch_free (p, n, sw, pick);
            if (f >= need && f < fit_free) {
                fit = sw;
                fit_free = f;
            }
            if (f > most_free) {
                most = sw;
                most_free = f;
            }
        }
        int sw = fit >= 0 ? fit : most;
        if (sw < 0)
            break;
        for (size_t g = 0; g < p->ngpu && got < want; g++)
            if (!p->gpu_used[g] && !pick[g] && p->gpu_numa[g] == n
                && p->gpu_switch[g] == sw) {
                pick[g] = true;
                got++;
            }
    }
    return got;
}

/* Choose gpus GPUs into pick: best fit on one NUMA node (the node with the
 * fewest free GPUs that still holds them all, so the next job finds a
 * whole NUMA node free), else the fewest NUMA nodes, fullest first; on
 * each NUMA node, packed by PCIe switch (choose_on_numa). */
static void
choose_gpus (const yard_place_t *p, uint32_t gpus, bool *pick)
{
    size_t ng = p->ngpu;
    int best = -2;
    uint32_t best_free = UINT32_MAX;
    for (size_t g = 0; g < ng; g++) {
        if (p->gpu_used[g])
            continue;
        int n = p->gpu_numa[g];
        uint32_t f = 0;
        for (size_t h = 0; h < ng; h++)
            if (!p->gpu_used[h] && p->gpu_numa[h] == n)
                f++;
        if (f >= gpus && (f < best_free || (f == best_free && n < best))) {
            best = n;
            best_free = f;
        }
    }
    if (best != -2) {
        (void)choose_on_numa (p, best, gpus, pick);
        return;
    }
    /* spread: take whole groups, the one with the most free GPUs first */
    uint32_t got = 0;
    while (got < gpus) {
        int n_best = -2;
        uint32_t n_free = 0;
        for (size_t g = 0; g < ng; g++) {
            if (p->gpu_used[g] || pick[g])
                continue;
            uint32_t f = 0;
            for (size_t h = 0; h < ng; h++)
                if (!p->gpu_used[h] && !pick[h]
                    && p->gpu_numa[h] == p->gpu_numa[g])
                    f++;
            if (f > n_free) {
                n_best = p->gpu_numa[g];
                n_free = f;
            }
        }
        if (n_best == -2)
            return;
        got += choose_on_numa (p, n_best, gpus - got, pick);
    }
}

struct unit_rank {
    uint32_t unit;
    uint32_t first; /* its lowest PU */
    uint32_t key;   /* lower is better: locality << 12 | NUMA node */
    int numa;
};

static int
rank_cmp (const void *a, const void *b)
{
    const struct unit_rank *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int
numa_pos (const yard_place_t *p, int os)
{
    for (size_t i = 0; i < p->nnuma; i++)
        if (p->numa_os[i] == os)
            return (int)i;
    return -1;
}

/* The distance of two NUMA nodes (OS indexes): the reported matrix, else
 * the difference of the indexes (the best guess without one). */
static uint32_t
numa_distance (const yard_place_t *p, int a, int b)
{
    if (a < 0 || b < 0)
        return 1u << 12;
    int i = numa_pos (p, a), j = numa_pos (p, b);
    if (i >= 0 && j >= 0)
        return p->dist[(size_t)i * p->nnuma + (size_t)j];
    return (uint32_t)(a > b ? a - b : b - a);
}

/* PU k's rank.  With GPUs: the PUs local to them first, then by NUMA
 * distance to them.  Without: PUs no GPU is local to first, so GPU jobs
 * find their local PUs free.  Ties go to the lowest NUMA node. */
static uint32_t
pu_key (const yard_place_t *p, size_t k, bool any_gpu, const bool *gpick)
{
    uint32_t key;
    uint32_t numa = p->pu_numa[k] < 0 ? 0xfff : (uint32_t)p->pu_numa[k];
    if (any_gpu) {
        bool local = false;
        uint32_t dist = UINT32_MAX;
        for (size_t g = 0; g < p->ngpu; g++) {
            if (!gpick[g])
                continue;
            local |= p->gpu_local[g * p->npu + k];
            uint32_t d = numa_distance (p, p->pu_numa[k], p->gpu_numa[g]);
            if (d < dist)
                dist = d;
        }
        key = local ? 0 : 1 + (dist > 0xffff ? 0xffff : dist);
        key = (key << 12) | (numa & 0xfff);
    } else {
        key = ((p->pu_gpu_local[k] ? 1u : 0u) << 12) | (numa & 0xfff);
    }
    return key;
}

/* Choose cpus free units into pick (their PUs): whole cores, or single PUs
 * when cores may be shared.  A core ranks as its best PU (pu_key); ties go
 * to the lowest PU, so jobs stay compact.  With a NUMA distance matrix a
 * job that spans NUMA nodes grows, at equal locality, onto the node
 * closest to those it already has. */
static int
choose_pus (const yard_place_t *p, uint32_t cpus, const bool *gpick,
            bool *pick)
{
    const uint32_t *start = p->share ? p->single : p->core_start;
    const uint32_t *upu = p->share ? p->single : p->core_pu;
    size_t nu = p->share ? p->npu : p->ncore;
    size_t n = 0;
    struct unit_rank *r = calloc (nu + 1, sizeof *r);
    if (!r)
        return -ENOMEM;
    bool any_gpu = false;
    for (size_t g = 0; g < p->ngpu; g++)
        any_gpu |= gpick[g];
    for (size_t u = 0; u < nu; u++) {
        struct unit_rank x = { (uint32_t)u, UINT32_MAX, UINT32_MAX, -1 };
        bool free_ = true;
        for (uint32_t i = start[u]; i < start[u + 1] && free_; i++) {
            uint32_t k = upu[i];
            if (p->pu_used[k]) {
                free_ = false;
                break;
            }
            uint32_t key = pu_key (p, k, any_gpu, gpick);
            if (key < x.key) {
                x.key = key;
                x.numa = p->pu_numa[k];
            }
            if (k < x.first)
                x.first = k;
        }
        if (free_ && x.first != UINT32_MAX)
            r[n++] = x;
    }
    if (n < cpus) {
        free (r);
        return -ENOSPC;
    }
    qsort (r, n, sizeof r[0], rank_cmp);
    bool *taken = NULL;
    int *used = NULL;
    size_t nused = 0;
    if (p->nnuma > 0 && cpus > 1
        && (!(taken = calloc (n, sizeof *taken))
            || !(used = calloc (cpus, sizeof *used)))) {
        free (taken);
        free (r);
        return -ENOMEM;
    }
    for (uint32_t c = 0; c < cpus; c++) {
        size_t best = c;
        if (taken) {
            /* the best-ranked untaken unit at the smallest distance to
             * the NUMA nodes taken so far, locality first */
            uint32_t bl = UINT32_MAX, bd = UINT32_MAX;
            best = n;
            for (size_t i = 0; i < n; i++) {
                if (taken[i])
                    continue;
                uint32_t l = r[i].key >> 12, d = 0;
                if (nused) {
                    d = UINT32_MAX;
                    for (size_t j = 0; j < nused; j++) {
                        uint32_t e = numa_distance (p, used[j], r[i].numa);
                        if (e < d)
                            d = e;
                    }
                }
                if (l < bl || (l == bl && d < bd)) {
                    best = i;
                    bl = l;
                    bd = d;
                }
            }
            taken[best] = true;
            size_t j = 0;
            while (j < nused && used[j] != r[best].numa)
                j++;
            if (j == nused)
                used[nused++] = r[best].numa;
        }
        uint32_t u = r[best].unit;
        for (uint32_t i = start[u]; i < start[u + 1]; i++)
            pick[upu[i]] = true;
    }
    free (taken);
    free (used);
    free (r);
    return 0;
}

int
yard_place_alloc (yard_place_t *p, uint64_t job_id, uint32_t cpus,
                  uint32_t gpus, uint64_t memory_bytes,
                  const Yard__Allocation **out)
{
    if (find (p, job_id))
        return -EEXIST;
    if (!yard_place_fits (p, cpus, gpus))
        return -ENOSPC;
    int rc = -ENOMEM;
    bool *pus = calloc (p->npu + 1, sizeof *pus);
    bool *gpick = calloc (p->ngpu + 1, sizeof *gpick);
    Yard__Allocation *a = NULL;
    if (!pus || !gpick || holds_grow (p) < 0)
        goto out;
    uint32_t ng = p->ngpu ? gpus : 0;
    if (ng)
        choose_gpus (p, ng, gpick);
    if (p->tracked && (rc = choose_pus (p, cpus, gpick, pus)) < 0)
        goto out;
    rc = -ENOMEM;
    if (!(a = alloc_new (ng)))
        goto out;
    a->memory_bytes = memory_bytes;
    if (!(a->cpus = yard_cpulist_format (pus, p->npu)))
        goto out;
    for (size_t g = 0; g < p->ngpu; g++) {
        if (!gpick[g])
            continue;
        if (!(a->gpu_uuids[a->n_gpu_uuids] = strdup (p->gpu_uuid[g])))
            goto out;
        a->n_gpu_uuids++;
        if (!(a->gpu_bus_ids[a->n_gpu_bus_ids] = strdup (p->gpu_bus[g])))
            goto out;
        a->n_gpu_bus_ids++;
    }
    mark (p, pus, gpick, true);
    p->holds[p->nholds] = (struct hold){ job_id, a, pus, gpick };
    p->nholds++;
    if (out)
        *out = a;
    a = NULL;
    pus = gpick = NULL;
    rc = 0;
out:
    yard_alloc_free (&a);
    free (pus);
    free (gpick);
    return rc;
}

static int claim (yard_place_t *p, uint64_t job_id,
                  const Yard__Allocation *a, bool strict);

int
yard_place_claim (yard_place_t *p, uint64_t job_id,
                  const Yard__Allocation *a)
{
    return claim (p, job_id, a, true);
}

int
yard_place_adopt (yard_place_t *p, uint64_t job_id,
                  const Yard__Allocation *a)
{
    return claim (p, job_id, a, false);
}

static int
claim (yard_place_t *p, uint64_t job_id, const Yard__Allocation *a,
       bool strict)
{
    if (!a)
        return -EINVAL;
    if (find (p, job_id))
        return -EEXIST;
    int rc = -ENOMEM;
    bool *pus = calloc (p->npu + 1, sizeof *pus);
    bool *gpus = calloc (p->ngpu + 1, sizeof *gpus);
    Yard__Allocation *copy = NULL;
    if (!pus || !gpus || holds_grow (p) < 0)
        goto out;
    if ((rc = resolve (p, a, pus, gpus, strict)) < 0)
        goto out;
    if (a->cpus && *a->cpus && yard_cpulist_extent (a->cpus) < 0) {
        rc = -EINVAL;
        goto out;
    }
    rc = -EBUSY;
    for (size_t k = 0; k < p->npu; k++)
        if (pus[k] && p->pu_used[k]) {
            if (strict)
                goto out;
            pus[k] = false;
        }
    for (size_t g = 0; g < p->ngpu; g++)
        if (gpus[g] && p->gpu_used[g]) {
            if (strict)
                goto out;
            gpus[g] = false;
        }
    if ((rc = yard_alloc_copy (a, &copy)) < 0)
        goto out;
    mark (p, pus, gpus, true);
    p->holds[p->nholds] = (struct hold){ job_id, copy, pus, gpus };
    p->nholds++;
    pus = gpus = NULL;
    rc = 0;
out:
    free (pus);
    free (gpus);
    return rc;
}

static void
hold_free (struct hold *h)
{
    yard_alloc_free (&h->alloc);
    free (h->pus);
    free (h->gpus);
    h->pus = h->gpus = NULL;
}

int
yard_place_release (yard_place_t *p, uint64_t job_id)
{
    struct hold *h = find (p, job_id);
    if (!h)
        return -ENOENT;
    mark (p, h->pus, h->gpus, false);
    hold_free (h);
    *h = p->holds[--p->nholds];
    return 0;
}

void
yard_place_clear (yard_place_t *p)
{
    for (size_t i = 0; i < p->nholds; i++)
        hold_free (&p->holds[i]);
    p->nholds = 0;
    memset (p->pu_used, 0, p->npu * sizeof (bool));
    memset (p->gpu_used, 0, p->ngpu * sizeof (bool));
    memset (p->core_used, 0, p->ncore * sizeof (uint32_t));
    p->free_cores = (uint32_t)p->ncore;
    p->free_pus = (uint32_t)p->npu;
    p->free_gpus = (uint32_t)p->ngpu;
}

const Yard__Allocation *
yard_place_get (const yard_place_t *p, uint64_t job_id)
{
    const struct hold *h = find (p, job_id);
    return h ? h->alloc : NULL;
}

size_t
yard_place_count (const yard_place_t *p)
{
    return p->nholds;
}

uint64_t
yard_place_job_at (const yard_place_t *p, size_t i)
{
    return i < p->nholds ? p->holds[i].job_id : 0;
}
