/* types.h - libyard's result types built from wire messages.
 *
 * The public structs (yard_job_t, yard_node_t, yard_logs_t) own copies of
 * everything they hold, so a reply envelope can be freed as soon as it is
 * converted.  Conversion never trusts the message: absent sub-messages and
 * strings read as zero and "".
 */
#ifndef YARD_CLIENT_TYPES_H
#define YARD_CLIENT_TYPES_H

#include "yard.pb-c.h"
#include "yard/yard.h"

/* Fill *out (zeroed by the caller) from in.  Returns 0 or -ENOMEM, in which
 * case *out holds nothing to free. */
int yard__job_from_proto (const Yard__JobInfo *in, yard_job_t *out);

/* Free what a yard_job_t holds, not the struct itself. */
void yard__job_clear (yard_job_t *job);

int yard__node_from_proto (const Yard__NodeInfo *in, yard_node_t *out);

/* The administration fields of a node (nodeadmin.c): copy (0 or -ENOMEM,
 * cleared by yard__node_clear) and free. */
int yard__node_admin_from_proto (const Yard__NodeInfo *in, yard_node_t *out);
void yard__node_admin_clear (yard_node_t *node);

/* Gang nodes of a job and holdings of a node (types_gang.c). */
int yard__gang_from_proto (const Yard__JobInfo *in, yard_job_t *out);
int yard__gang_attempt_from_proto (const Yard__AttemptInfo *in,
                                   yard_attempt_t *out);
void yard__gang_clear (yard_job_t *job);
int yard__holdings_from_proto (const Yard__NodeInfo *in, yard_node_t *out);
void yard__holdings_clear (yard_node_t *node);
void yard__node_clear (yard_node_t *node);

/* types_topo.c: in NULL gives an unknown (zeroed) topology.  Returns 0 or
 * -ENOMEM (out cleared). */
int yard__topology_from_proto (const Yard__Topology *in,
                               yard_topology_t *out);
void yard__topology_clear (yard_topology_t *t);

/* A heap yard_logs_t from a reply.  Returns 0 or -ENOMEM. */
int yard__logs_from_proto (const Yard__LogsReply *in, yard_logs_t **out);

#endif
