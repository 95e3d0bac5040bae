/* node.h - the workers the scheduler knows, by name and by routing id.
 *
 * A node is created the first time a worker registers under its name (or
 * when state.db names it) and then lives until the scheduler exits: its
 * record shows in `yard nodes` even while it is DOWN.  A node is "bound"
 * while we know the routing id of its current connection; messages from
 * other routing ids are not trusted as coming from it.  An UP node that is
 * not bound is awaiting a (re-)register: after a scheduler restart, or
 * after a send to it failed.
 *
 * Lookup by routing id is a hash (it runs for every worker message);
 * lookup by name walks the list (it runs on register only).
 *
 * Placement looks nodes up by free capacity through three binary heaps
 * over all nodes (free CPUs, free GPUs, free memory), nodes that take jobs
 * (UP, bound, not drained) first.  Whoever changes what orders a node
 * (its reserved or total capacity, last_assign, state, drain flag) calls
 * yard_nodes_changed; binding and unbinding do it themselves.
 */
#ifndef YARD_SCHED_NODE_H
#define YARD_SCHED_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "nodeadmin.h"
#include "yard.pb-c.h"

#define YARD_NODE_MAX_NAME 255

struct yard_job;
struct yard_place;

/* A JobFinishedAck that waits for the node's next Dispatch of the batch
 * (server_worker.c, yard__finished_ack). */
typedef struct yard_node_ack {
    Yard__JobFinishedAck msg;
    uint64_t request_id;         /* the JobFinished's, for a lone ack */
} yard_node_ack_t;

typedef struct yard_node {
    char *name;                  /* owned, never changes */
    uint64_t instance;           /* the worker process's random id */
    char *hostname;              /* owned, may be NULL */
    char *version;               /* owned, may be NULL */
    char *advertise_addr;        /* owned, may be NULL: the address other
                                    nodes reach it at (gang MASTER_ADDR) */
    uint32_t cpus;               /* capacity */
    uint64_t memory;
    uint32_t gpus;
    Yard__Topology *topology;    /* owned, as last reported; may be NULL */
    struct yard_place *place;    /* owned; which PUs/GPUs jobs hold (lazy) */
    uint32_t cpus_used;          /* reserved by ASSIGNED/RUNNING jobs */
    uint64_t memory_used;
    uint32_t gpus_used;
    uint32_t njobs;              /* ASSIGNED/RUNNING attempts here */
    struct yard_job *jobs;       /* list of those jobs (job->wnext) */
    Yard__NodeState state;
    bool bound;                  /* peer is the current connection */
    yard_peer_t peer;
    int64_t last_seen_mono;      /* monotonic ms of its last message */
    int64_t last_seen_ms;        /* the same in unix ms, for people */
    int64_t registered_ms;       /* unix ms of its last register */
    uint64_t last_assign;        /* sequence number of its last assignment
                                    (0: none), to rotate among equals */
    uint64_t mark;               /* scratch stamp (batch bookkeeping) */
    yard_nodeadmin_t admin;      /* drain flag and labels (nodeadmin.h) */
    uint64_t ordinal;            /* creation order, the last tie-break */
    size_t hpos[3];              /* its slot in each free-capacity heap */
    bool dispatch_acks;          /* its worker reads Dispatch.finished_acks */
    bool successors;             /* its worker takes successors */
    bool acks_listed;            /* in the server's list of nodes with acks */
    yard_node_ack_t *acks;       /* acks of this batch not yet sent */
    Yard__JobFinishedAck **ackp; /* the same as a Dispatch takes them */
    size_t nacks, acks_cap;
} yard_node_t;

typedef struct yard_nodes yard_nodes_t;

/* NULL with errno set. */
yard_nodes_t *yard_nodes_create (void);

/* Frees every node.  Accepts NULL; NULLs the pointer. */
void yard_nodes_destroy (yard_nodes_t **ns);

/* The node with that name, or NULL.  Borrowed: nodes live as long as ns. */
yard_node_t *yard_nodes_get (const yard_nodes_t *ns, const char *name);

/* Create a node (state DOWN, unbound, no capacity).  NULL with errno set:
 * EEXIST (name taken), EINVAL (bad name), ENOMEM. */
yard_node_t *yard_nodes_add (yard_nodes_t *ns, const char *name);

/* Forget node (unbinding it first) and free it.  The caller makes sure
 * that nothing refers to it (no jobs).  No-op when node is not in ns. */
void yard_nodes_remove (yard_nodes_t *ns, yard_node_t *node);

/* The bound node whose connection has this routing id, or NULL. */
yard_node_t *yard_nodes_by_peer (const yard_nodes_t *ns,
                                 const yard_peer_t *peer);

/* Bind node to peer, unbinding whichever node held that routing id before.
 * Returns 0 or -ENOMEM (nothing changed). */
int yard_nodes_bind (yard_nodes_t *ns, yard_node_t *node,
                     const yard_peer_t *peer);

/* Forget node's routing id (no-op when unbound). */
void yard_nodes_unbind (yard_nodes_t *ns, yard_node_t *node);

/* Iterate: nodes in creation order, i < yard_nodes_count. */
size_t yard_nodes_count (const yard_nodes_t *ns);
yard_node_t *yard_nodes_at (const yard_nodes_t *ns, size_t i);

/* Put node back in order in the free-capacity heaps after a change of its
 * capacity, reservations, last_assign, state or drain flag: O(log n). */
void yard_nodes_changed (yard_nodes_t *ns, yard_node_t *node);

/* The largest free CPUs, GPUs and memory over the nodes that take jobs
 * (0 when none does), each on its own node: O(1). */
void yard_nodes_max_free (const yard_nodes_t *ns, uint32_t *cpus,
                          uint32_t *gpus, uint64_t *memory);

/* Decides whether node suits the caller's job. */
typedef bool (*yard_node_accept_f) (yard_node_t *node, void *arg);

/* The first node that takes jobs, has at least min_cpus free CPUs and that
 * accept takes, in this order: most free CPUs, then least recent
 * last_assign, then creation order; NULL when none.  It visits nodes best
 * first and stops at the first accepted one or at the first with fewer
 * than min_cpus free, so it costs O(k log k) for k nodes visited: O(1)
 * when the best node suits. */
yard_node_t *yard_nodes_best (yard_nodes_t *ns, uint32_t min_cpus,
                              yard_node_accept_f accept, void *arg);

/* Whether node is UP, bound and not drained. */
bool yard_node_open (const yard_node_t *node);

/* A valid node name: 1..255 bytes of UTF-8, no control characters, spaces
 * or '/'.
 * Returns 0 or -EINVAL. */
int yard_node_name_check (const char *name);

/* Free capacity, 0 when over-reserved (capacity shrank on re-register). */
uint32_t yard_node_free_cpus (const yard_node_t *node);
uint32_t yard_node_free_gpus (const yard_node_t *node);
uint64_t yard_node_free_memory (const yard_node_t *node);

/* Replace a copied string field (hostname, version); "" or NULL clears.
 * Returns 0 or -ENOMEM (old value kept). */
int yard_node_set_text (char **field, const char *text);

#endif
