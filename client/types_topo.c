/* types_topo.c - a node's topology from its wire form (Yard__Topology) to
 * the public yard_topology_t of yard.h, and back to nothing.  Kept apart
 * from types.c: the topology is the one nested, array-valued part of a
 * node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"

static char *
dup_text (const char *s)
{
    return strdup (s ? s : "");
}

int
yard__topology_from_proto (const Yard__Topology *in, yard_topology_t *out)
{
    memset (out, 0, sizeof *out);
    if (!in)
        return 0;
    out->known = true;
    out->packages = in->packages;
    out->numa_nodes = in->numa_nodes;
    out->cores = in->cores;
    out->pus = in->pus;
    if (!(out->source = dup_text (in->source)))
        goto nomem;
    if (in->n_numa > 0) {
        if (!(out->numa = calloc (in->n_numa, sizeof out->numa[0])))
            goto nomem;
        for (size_t i = 0; i < in->n_numa; i++) {
            const Yard__NumaInfo *n = in->numa[i];
            yard_numa_t *o = &out->numa[i];
            out->n_numa = i + 1;
            o->os_index = n->os_index;
            o->memory_bytes = n->memory_bytes;
            if (!(o->cpus = dup_text (n->cpus)))
                goto nomem;
        }
    }
    if (in->n_gpus > 0) {
        if (!(out->gpus = calloc (in->n_gpus, sizeof out->gpus[0])))
            goto nomem;
        for (size_t i = 0; i < in->n_gpus; i++) {
            const Yard__GpuInfo *g = in->gpus[i];
            yard_gpu_t *o = &out->gpus[i];
            out->n_gpus = i + 1;
            o->memory_bytes = g->memory_bytes;
            o->cc_major = g->cc_major;
            o->cc_minor = g->cc_minor;
            o->numa_node = g->numa_node;
            o->index = g->index;
            if (!(o->uuid = dup_text (g->uuid))
                || !(o->name = dup_text (g->name))
                || !(o->pci_bus_id = dup_text (g->pci_bus_id))
                || !(o->local_cpus = dup_text (g->local_cpus))
                || !(o->pci_switch = dup_text (g->pci_switch)))
                goto nomem;
        }
    }
    if (in->n_core_list > 0) {
        if (!(out->core_list = calloc (in->n_core_list,
                                       sizeof out->core_list[0])))
            goto nomem;
        for (size_t i = 0; i < in->n_core_list; i++) {
            const Yard__CoreInfo *c = in->core_list[i];
            out->n_core_list = i + 1;
            out->core_list[i].os_index = c ? c->os_index : 0;
            if (!(out->core_list[i].pus = dup_text (c ? c->pus : NULL)))
                goto nomem;
        }
    }
    if (in->n_numa_distances > 0 && in->n_numa_distances == in->n_numa
                                                              * in->n_numa) {
        size_t n = in->n_numa_distances;
        if (!(out->numa_distances = malloc (n * sizeof (uint32_t))))
            goto nomem;
        memcpy (out->numa_distances, in->numa_distances, n * sizeof (uint32_t));
        out->n_numa_distances = n;
    }
    return 0;
nomem:
    yard__topology_clear (out);
    return -ENOMEM;
}

void
yard__topology_clear (yard_topology_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_numa; i++)
        free (t->numa[i].cpus);
    for (size_t i = 0; i < t->n_gpus; i++) {
        free (t->gpus[i].uuid);
        free (t->gpus[i].name);
        free (t->gpus[i].pci_bus_id);
        free (t->gpus[i].local_cpus);
        free (t->gpus[i].pci_switch);
    }
    for (size_t i = 0; i < t->n_core_list; i++)
        free (t->core_list[i].pus);
    free (t->numa);
    free (t->gpus);
    free (t->core_list);
    free (t->numa_distances);
    free (t->source);
    memset (t, 0, sizeof *t);
}
