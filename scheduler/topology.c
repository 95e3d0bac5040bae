/* topology.c - checking, copying and packing a node's topology (see
 * topology.h).  Copies go through pack/unpack: protobuf-c has no deep copy,
 * and a copy that owns one protobuf-c allocation is freed with one call.
 */
#include "topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static int
text_ok (const char *s, size_t max)
{
    return !s || (strlen (s) <= max && yard_utf8_valid (s));
}

int
yard_topo_check (const Yard__Topology *t, char *why, size_t len)
{
    if (!t)
        return 0;
    if (t->n_gpus > YARD_TOPO_MAX_GPUS || t->n_numa > YARD_TOPO_MAX_NUMA) {
        snprintf (why, len, "topology lists %zu GPUs and %zu NUMA nodes; at "
                  "most %d and %d", t->n_gpus, t->n_numa, YARD_TOPO_MAX_GPUS,
                  YARD_TOPO_MAX_NUMA);
        return -EINVAL;
    }
    if (!text_ok (t->source, YARD_TOPO_MAX_LIST)) {
        snprintf (why, len, "topology source: not UTF-8 of at most %d bytes",
                  YARD_TOPO_MAX_LIST);
        return -EINVAL;
    }
    for (size_t i = 0; i < t->n_numa; i++)
        if (!t->numa[i] || !text_ok (t->numa[i]->cpus, YARD_TOPO_MAX_LIST)) {
            snprintf (why, len, "topology NUMA entry %zu is invalid", i);
            return -EINVAL;
        }
    if (t->n_core_list > YARD_TOPO_MAX_CORES) {
        snprintf (why, len, "topology lists %zu cores; at most %d",
                  t->n_core_list, YARD_TOPO_MAX_CORES);
        return -EINVAL;
    }
    for (size_t i = 0; i < t->n_core_list; i++)
        if (!t->core_list[i]
            || !text_ok (t->core_list[i]->pus, YARD_TOPO_MAX_TEXT)) {
            snprintf (why, len, "topology core entry %zu is invalid", i);
            return -EINVAL;
        }
    if (t->n_numa_distances
        && t->n_numa_distances != t->n_numa * t->n_numa) {
        snprintf (why, len, "topology has %zu NUMA distances for %zu NUMA "
                  "nodes; want none or %zu", t->n_numa_distances, t->n_numa,
                  t->n_numa * t->n_numa);
        return -EINVAL;
    }
    for (size_t i = 0; i < t->n_gpus; i++) {
        const Yard__GpuInfo *g = t->gpus[i];
        if (!g || !text_ok (g->uuid, YARD_TOPO_MAX_TEXT)
            || !text_ok (g->name, YARD_TOPO_MAX_TEXT)
            || !text_ok (g->pci_bus_id, YARD_TOPO_MAX_TEXT)
            || !text_ok (g->pci_switch, YARD_TOPO_MAX_TEXT)
            || !text_ok (g->local_cpus, YARD_TOPO_MAX_LIST)) {
            snprintf (why, len, "topology GPU %zu: uuid, name, bus id and "
                      "switch must be UTF-8 of at most %d bytes, local_cpus "
                      "of at most %d", i, YARD_TOPO_MAX_TEXT, YARD_TOPO_MAX_LIST);
            return -EINVAL;
        }
    }
    return 0;
}

int
yard_topo_pack (const Yard__Topology *t, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!t)
        return 0;
    size_t n = yard__topology__get_packed_size (t);
    uint8_t *b = malloc (n ? n : 1);
    if (!b)
        return -ENOMEM;
    *len = yard__topology__pack (t, b);
    *buf = b;
    return 0;
}

Yard__Topology *
yard_topo_unpack (const void *buf, size_t len)
{
    if (!buf)
        return NULL;
    return yard__topology__unpack (NULL, len, buf);
}

int
yard_topo_copy (const Yard__Topology *t, Yard__Topology **out)
{
    uint8_t *buf;
    size_t len;
    if (!t) {
        *out = NULL;
        return 0;
    }
    if (yard_topo_pack (t, &buf, &len) < 0)
        return -ENOMEM;
    /* an empty message packs to nothing; unpack wants a buffer */
    Yard__Topology *c = yard_topo_unpack (buf ? buf : (uint8_t *)"", len);
    free (buf);
    if (!c)
        return -ENOMEM;
    *out = c;
    return 0;
}

void
yard_topo_free (Yard__Topology **t)
{
    if (!t || !*t)
        return;
    yard__topology__free_unpacked (*t, NULL);
    *t = NULL;
}
