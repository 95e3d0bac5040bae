/* topology.h - a node's hardware as its worker reported it (packages, NUMA
 * nodes, cores, PUs, GPUs with their locality): checked on arrival, kept
 * with the node, stored packed in state.db and shown to clients.
 *
 * The scheduler keeps its own copy (the register message that brought it is
 * freed after the handler), as an unpacked Yard__Topology: NodesReply
 * carries it as is.
 */
#ifndef YARD_SCHED_TOPOLOGY_H
#define YARD_SCHED_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include "yard.pb-c.h"

#define YARD_TOPO_MAX_GPUS 256
#define YARD_TOPO_MAX_NUMA 1024
#define YARD_TOPO_MAX_CORES 16384
#define YARD_TOPO_MAX_TEXT 255   /* uuid, name, bus id, switch */
#define YARD_TOPO_MAX_LIST 8192  /* PU lists, source */

/* 0 when t is fit to keep and show: bounded counts and strings, valid
 * UTF-8.  Else -EINVAL with the reason in why. */
int yard_topo_check (const Yard__Topology *t, char *why, size_t len);

/* A deep copy of t (NULL: *out = NULL).  Returns 0 or -ENOMEM/-EINVAL
 * (*out unchanged). */
int yard_topo_copy (const Yard__Topology *t, Yard__Topology **out);

/* t packed, for the store: *buf is malloc'd (NULL, 0 for a NULL t).
 * Returns 0 or -ENOMEM. */
int yard_topo_pack (const Yard__Topology *t, uint8_t **buf, size_t *len);

/* Unpack what yard_topo_pack made.  NULL on a malformed blob or ENOMEM. */
Yard__Topology *yard_topo_unpack (const void *buf, size_t len);

/* Accepts NULL; NULLs the pointer. */
void yard_topo_free (Yard__Topology **t);

#endif
