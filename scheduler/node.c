/* node.c - the worker registry (see node.h).
 *
 * The routing-id table is open addressing with linear probing, load at
 * most 1/2, backward-shift deletion; keys are the bound nodes' peers.
 */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "topology.h"
#include "utf8.h"

struct yard_nodes {
    yard_node_t **v;     /* creation order */
    size_t n;
    size_t cap;
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
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        yard_node_t **v = realloc (ns->v, cap * sizeof v[0]);
        if (!v)
            return NULL;
        ns->v = v;
        ns->cap = cap;
    }
    yard_node_t *node = calloc (1, sizeof *node);
    if (!node)
        return NULL;
    if (!(node->name = strdup (name))) {
        free (node);
        return NULL;
    }
    node->state = YARD__NODE_STATE__NODE_DOWN;
    ns->v[ns->n++] = node;
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
