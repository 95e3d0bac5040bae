/* gang_place.h - all-or-nothing placement of a multi-node (gang) job: N
 * distinct nodes, each holding tasks * cpus_per_task PUs and
 * tasks * gpus_per_task GPUs through its own yard_place_t, or nothing held
 * anywhere.
 *
 * The per-node choice of PUs and GPUs is place.c's (GPUs packed on few
 * NUMA nodes, PUs near them); this file only picks the nodes and makes the
 * holds atomic across them.
 */
#ifndef YARD_SCHED_GANG_PLACE_H
#define YARD_SCHED_GANG_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "place.h"
#include "yard.pb-c.h"

typedef struct yard_gang_req {
    uint32_t nnodes;        /* distinct nodes, >= 1 */
    uint32_t tasks;         /* tasks per node, >= 1 */
    uint32_t cpus_per_task; /* PUs per task */
    uint32_t gpus_per_task;
    uint64_t memory; /* per node */
} yard_gang_req_t;

/* PUs and GPUs one node of the gang holds. */
uint32_t yard_gang_node_cpus (const yard_gang_req_t *req);
uint32_t yard_gang_node_gpus (const yard_gang_req_t *req);

/* Choose req->nnodes distinct places among places[0..n) (a NULL entry is a
 * node that may not be used) and hold the gang's share on each under
 * job_id.  Nodes that fit with the least to spare come first (best fit:
 * large holes stay for large jobs); chosen[r] is the index of rank r's
 * place and allocs[r] its Allocation (borrowed from that place until
 * released).  Both arrays have req->nnodes entries.  Returns 0, -EINVAL
 * (bad req), -ENOSPC (not enough nodes fit: nothing is held), -ENOMEM
 * (nothing held). */
int yard_gang_place (yard_place_t *const *places, size_t n, uint64_t job_id,
                     const yard_gang_req_t *req, size_t *chosen,
                     const Yard__Allocation **allocs);

/* Release job_id on each of the nnodes chosen places. */
void yard_gang_release (yard_place_t *const *places, uint64_t job_id,
                        const size_t *chosen, uint32_t nnodes);

#endif
