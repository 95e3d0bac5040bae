/* node.c - the worker registry (see node.h).
 *
 * The routing-id table is open addressing with linear probing, load at
 * most 1/2, backward-shift deletion; keys are the bound nodes' peers.
 *
 * The free-capacity heaps hold every node (their arrays grow with v, so
 * keeping a node in order never allocates).  yard_nodes_best walks the
 * CPU heap best first with a second, small heap of frontier slots: a
 * parent comes before its children, so popping the frontier yields nodes
 * in exact order and the walk stops early.
 */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "topology.h"
#include "utf8.h"

enum { BY_CPUS, BY_GPUS, BY_MEMORY, NHEAPS };

struct yard_nodes {
    yard_node_t **v;     /* creation order */
    size_t n;
    size_t cap;
    yard_node_t **heap[NHEAPS]; /* n entries each, best first */
    size_t *front;       /* yard_nodes_best's frontier (cap entries) */
    uint64_t ordinal;    /* next node's */
    yard_node_t **slots; /* by routing id, NULL = empty */
    size_t nslots;       /* power of two */
    size_t nbound;
};

static uint64_t
hash_peer (const yard_peer_t *p)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < p->len; i++) {
        h ^= p->id[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static bool
peer_eq (const yard_peer_t *a, const yard_peer_t *b)
{
    return a->len == b->len && memcmp (a->id, b->id, a->len) == 0;
}

yard_nodes_t *
yard_nodes_create (void)
{
    yard_nodes_t *ns = calloc (1, sizeof *ns);
    if (!ns)
        return NULL;
    ns->nslots = 64;
    if (!(ns->slots = calloc (ns->nslots, sizeof ns->slots[0])))
        goto error;
    return ns;
error:
    free (ns);
    return NULL;
}

static void
node_free (yard_node_t *node)
{
    free (node->name);
    free (node->hostname);
    free (node->version);
    free (node->advertise_addr);
    yard_topo_free (&node->topology);
    yard_place_destroy (&node->place);
    yard_nodeadmin_clear (&node->admin);
    free (node->acks);
    free (node->ackp);
    free (node);
}

void
yard_nodes_destroy (yard_nodes_t **nsp)
{
    if (!nsp || !*nsp)
        return;
    yard_nodes_t *ns = *nsp;
    for (size_t i = 0; i < ns->n; i++)
        node_free (ns->v[i]);
    free (ns->v);
    for (int k = 0; k < NHEAPS; k++)
        free (ns->heap[k]);
    free (ns->front);
    free (ns->slots);
    free (ns);
    *nsp = NULL;
}

int
yard_node_name_check (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    if (n == 0 || n > YARD_NODE_MAX_NAME)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == 0x7f || c == '/')
            return -EINVAL;
    }
    return yard_utf8_valid (name) ? 0 : -EINVAL;
}

yard_node_t *
yard_nodes_get (const yard_nodes_t *ns, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp (ns->v[i]->name, name) == 0)
            return ns->v[i];
    return NULL;
}

/* ---- free-capacity heaps ---- */

bool
yard_node_open (const yard_node_t *node)
{
    return node->state == YARD__NODE_STATE__NODE_UP && node->bound
           && !node->admin.drain;
}

/* Whether a goes before b in heap k. */
static bool
before (int k, const yard_node_t *a, const yard_node_t *b)
{
    bool oa = yard_node_open (a), ob = yard_node_open (b);
    if (oa != ob)
        return oa;
    switch (k) {
    case BY_CPUS: {
        uint32_t fa = yard_node_free_cpus (a), fb = yard_node_free_cpus (b);
        if (fa != fb)
            return fa > fb;
        if (a->last_assign != b->last_assign)
            return a->last_assign < b->last_assign;
        break;
    }
    case BY_GPUS: {
        uint32_t fa = yard_node_free_gpus (a), fb = yard_node_free_gpus (b);
        if (fa != fb)
            return fa > fb;
        break;
    }
    default: {
        uint64_t fa = yard_node_free_memory (a);
        uint64_t fb = yard_node_free_memory (b);
        if (fa != fb)
            return fa > fb;
        break;
    }
    }
    return a->ordinal < b->ordinal;
}

static void
heap_set (yard_nodes_t *ns, int k, size_t i, yard_node_t *node)
{
    ns->heap[k][i] = node;
    node->hpos[k] = i;
}

static bool
sift_up (yard_nodes_t *ns, int k, size_t i)
{
    yard_node_t **h = ns->heap[k];
    yard_node_t *node = h[i];
    size_t start = i;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before (k, node, h[parent]))
            break;
        heap_set (ns, k, i, h[parent]);
        i = parent;
    }
    heap_set (ns, k, i, node);
    return i != start;
}

static void
sift_down (yard_nodes_t *ns, int k, size_t i)
{
    yard_node_t **h = ns->heap[k];
    yard_node_t *node = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ns->n)
            break;
        if (c + 1 < ns->n && before (k, h[c + 1], h[c]))
            c++;
        if (!before (k, h[c], node))
            break;
        heap_set (ns, k, i, h[c]);
        i = c;
    }
    heap_set (ns, k, i, node);
}

/* Called with ns->n already one less: the old last slot is ns->n. */
static void
heap_remove (yard_nodes_t *ns, int k, yard_node_t *node)
{
    size_t i = node->hpos[k];
    yard_node_t *last = ns->heap[k][ns->n];
    if (last == node)
        return;
    heap_set (ns, k, i, last);
    if (!sift_up (ns, k, i))
        sift_down (ns, k, i);
}

void
yard_nodes_changed (yard_nodes_t *ns, yard_node_t *node)
{
    for (int k = 0; k < NHEAPS; k++) {
        size_t i = node->hpos[k];
        if (i >= ns->n || ns->heap[k][i] != node)
            continue; /* not in ns */
        if (!sift_up (ns, k, i))
            sift_down (ns, k, i);
    }
}

void
yard_nodes_max_free (const yard_nodes_t *ns, uint32_t *cpus, uint32_t *gpus,
                     uint64_t *memory)
{
    *cpus = *gpus = 0;
    *memory = 0;
    if (ns->n == 0)
        return;
    if (yard_node_open (ns->heap[BY_CPUS][0]))
        *cpus = yard_node_free_cpus (ns->heap[BY_CPUS][0]);
    if (yard_node_open (ns->heap[BY_GPUS][0]))
        *gpus = yard_node_free_gpus (ns->heap[BY_GPUS][0]);
    if (yard_node_open (ns->heap[BY_MEMORY][0]))
        *memory = yard_node_free_memory (ns->heap[BY_MEMORY][0]);
}

/* The frontier is a binary heap of slots of heap[BY_CPUS], ordered like
 * the nodes in them. */
static void
front_push (yard_nodes_t *ns, size_t *nf, size_t slot)
{
    yard_node_t **h = ns->heap[BY_CPUS];
    size_t i = (*nf)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before (BY_CPUS, h[slot], h[ns->front[parent]]))
            break;
        ns->front[i] = ns->front[parent];
        i = parent;
    }
    ns->front[i] = slot;
}

static size_t
front_pop (yard_nodes_t *ns, size_t *nf)
{
    yard_node_t **h = ns->heap[BY_CPUS];
    size_t top = ns->front[0];
    size_t last = ns->front[--*nf];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *nf)
            break;
        if (c + 1 < *nf && before (BY_CPUS, h[ns->front[c + 1]], h[ns->front[c]]))
            c++;
        if (!before (BY_CPUS, h[ns->front[c]], h[last]))
            break;
        ns->front[i] = ns->front[c];
        i = c;
    }
    ns->front[i] = last;
    return top;
}

yard_node_t *
yard_nodes_best (yard_nodes_t *ns, uint32_t min_cpus,
                 yard_node_accept_f accept, void *arg)
{
    if (ns->n == 0)
        return NULL;
    yard_node_t **h = ns->heap[BY_CPUS];
    size_t nf = 0;
    front_push (ns, &nf, 0);
    while (nf > 0) {
        size_t slot = front_pop (ns, &nf);
        yard_node_t *node = h[slot];
        /* everything after it is closed or has fewer free CPUs */
        if (!yard_node_open (node) || yard_node_free_cpus (node) < min_cpus)
            return NULL;
        if (accept (node, arg))
            return node;
        /* each pop adds at most one slot net: nf stays under n */
        if (2 * slot + 1 < ns->n)
            front_push (ns, &nf, 2 * slot + 1);
        if (2 * slot + 2 < ns->n)
            front_push (ns, &nf, 2 * slot + 2);
    }
    return NULL;
}

static int
grow_arrays (yard_nodes_t *ns)
{
    size_t cap = ns->cap ? ns->cap * 2 : 16;
    yard_node_t **v = realloc (ns->v, cap * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    ns->v = v;
    for (int k = 0; k < NHEAPS; k++) {
        yard_node_t **h = realloc (ns->heap[k], cap * sizeof h[0]);
        if (!h)
            return -ENOMEM; /* cap unchanged: the next add retries */
        ns->heap[k] = h;
    }
    size_t *f = realloc (ns->front, cap * sizeof f[0]);
    if (!f)
        return -ENOMEM;
    ns->front = f;
    ns->cap = cap;
    return 0;
}

yard_node_t *
yard_nodes_add (yard_nodes_t *ns, const char *name)
{
    if (yard_node_name_check (name) < 0) {
        errno = EINVAL;
        return NULL;
    }
    if (yard_nodes_get (ns, name)) {
        errno = EEXIST;
        return NULL;
    }
    if (ns->n == ns->cap && grow_arrays (ns) < 0)
        return NULL;
    yard_node_t *node = calloc (1, sizeof *node);
    if (!node)
        return NULL;
    if (!(node->name = strdup (name))) {
        free (node);
        return NULL;
    }
    node->state = YARD__NODE_STATE__NODE_DOWN;
    node->ordinal = ns->ordinal++;
    for (int k = 0; k < NHEAPS; k++) {
        node->hpos[k] = ns->n;
        ns->heap[k][ns->n] = node;
    }
    ns->v[ns->n++] = node;
    for (int k = 0; k < NHEAPS; k++)
        sift_up (ns, k, node->hpos[k]);
    return node;
}

static size_t
slot_of (const yard_nodes_t *ns, const yard_peer_t *peer)
{
    size_t mask = ns->nslots - 1;
    size_t i = (size_t)hash_peer (peer) & mask;
    while (ns->slots[i] && !peer_eq (&ns->slots[i]->peer, peer))
        i = (i + 1) & mask;
    return i;
}

yard_node_t *
yard_nodes_by_peer (const yard_nodes_t *ns, const yard_peer_t *peer)
{
    if (!peer || peer->len == 0)
        return NULL;
    return ns->slots[slot_of (ns, peer)];
}

static void
slot_delete (yard_nodes_t *ns, size_t i)
{
    size_t mask = ns->nslots - 1;
    ns->slots[i] = NULL;
    ns->nbound--;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; ns->slots[j]; j = (j + 1) & mask) {
        size_t home = (size_t)hash_peer (&ns->slots[j]->peer) & mask;
        bool stays = (hole <= j) ? (hole < home && home <= j)
                                 : (hole < home || home <= j);
        if (stays)
            continue;
        ns->slots[hole] = ns->slots[j];
        ns->slots[j] = NULL;
        hole = j;
    }
}

void
yard_nodes_unbind (yard_nodes_t *ns, yard_node_t *node)
{
    if (!node->bound)
        return;
    size_t i = slot_of (ns, &node->peer);
    if (ns->slots[i] == node)
        slot_delete (ns, i);
    node->bound = false;
    yard_nodes_changed (ns, node);
}

void
yard_nodes_remove (yard_nodes_t *ns, yard_node_t *node)
{
    for (size_t i = 0; i < ns->n; i++) {
        if (ns->v[i] != node)
            continue;
        yard_nodes_unbind (ns, node);
        memmove (&ns->v[i], &ns->v[i + 1], (ns->n - i - 1) * sizeof ns->v[0]);
        ns->n--;
        for (int k = 0; k < NHEAPS; k++)
            heap_remove (ns, k, node);
        node_free (node);
        return;
    }
}

static int
grow (yard_nodes_t *ns)
{
    size_t n = ns->nslots * 2;
    yard_node_t **slots = calloc (n, sizeof slots[0]);
    if (!slots)
        return -ENOMEM;
    yard_node_t **old = ns->slots;
    size_t oldn = ns->nslots;
    ns->slots = slots;
    ns->nslots = n;
    for (size_t i = 0; i < oldn; i++)
        if (old[i])
            ns->slots[slot_of (ns, &old[i]->peer)] = old[i];
    free (old);
    return 0;
}

int
yard_nodes_bind (yard_nodes_t *ns, yard_node_t *node, const yard_peer_t *peer)
{
    if (!peer || peer->len == 0 || peer->len > sizeof peer->id)
        return -EINVAL;
    if ((ns->nbound + 1) * 2 > ns->nslots) {
        int rc = grow (ns);
        if (rc < 0)
            return rc;
    }
    yard_node_t *other = yard_nodes_by_peer (ns, peer);
    if (other)
        yard_nodes_unbind (ns, other);
    yard_nodes_unbind (ns, node);
    node->peer = *peer;
    ns->slots[slot_of (ns, peer)] = node;
    ns->nbound++;
    node->bound = true;
    yard_nodes_changed (ns, node);
    return 0;
}

size_t
yard_nodes_count (const yard_nodes_t *ns)
{
    return ns->n;
}

yard_node_t *
yard_nodes_at (const yard_nodes_t *ns, size_t i)
{
    return i < ns->n ? ns->v[i] : NULL;
}

uint32_t
yard_node_free_cpus (const yard_node_t *node)
{
    return node->cpus > node->cpus_used ? node->cpus - node->cpus_used : 0;
}

uint32_t
yard_node_free_gpus (const yard_node_t *node)
{
    return node->gpus > node->gpus_used ? node->gpus - node->gpus_used : 0;
}

uint64_t
yard_node_free_memory (const yard_node_t *node)
{
    return node->memory > node->memory_used ? node->memory - node->memory_used
                                            : 0;
}

int
yard_node_set_text (char **field, const char *text)
{
    char *copy = NULL;
    if (text && *text && !(copy = strdup (text)))
        return -ENOMEM;
    free (*field);
    *field = copy;
    return 0;
}
