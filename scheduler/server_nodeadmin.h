/* server_nodeadmin.h - node administration in the scheduler: the
 * NodeAdminRequest and NodeHealth handlers, and the rules the dispatch
 * pass and `yard nodes` apply (drain, constraints, GPU type).
 *
 * Part of the server object (see server_int.h); its own header so that
 * the core files only gain a few calls.
 */
#ifndef YARD_SERVER_NODEADMIN_H
#define YARD_SERVER_NODEADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "server_int.h"

/* Client NodeAdminRequest: drain, resume, label, unlabel, remove.  Reply:
 * NodesReply holding the node (none after REMOVE). */
void yard__on_node_admin (yard_server_t *, const yard_peer_t *, yard_node_t *,
                          yard_env_t *);

/* Worker NodeHealth: drain on failure, lift a health drain on success. */
void yard__on_node_health (yard_server_t *, const yard_peer_t *, yard_node_t *,
                           yard_env_t *);

/* Load the node_admin rows onto the known nodes (start-up, after the
 * nodes).  Rows of unknown nodes are ignored.  0 or -errno with err. */
int yard__nodeadmin_load (yard_server_t *s, yard_error_t *err);

/* Fill ni's labels, drain, state_reason and state_since_ms from node.
 * ni borrows node's strings (until the reply is encoded). */
void yard__node_info_admin (const yard_node_t *node, Yard__NodeInfo *ni);

/* May the dispatch pass put new jobs on node at all (not drained)? */
bool yard__node_takes_jobs (const yard_node_t *node);

/* Does node satisfy job's constraints and gpu_type? */
bool yard__node_matches (const yard_node_t *node, const yard_job_t *job);

/* When node labels, GPU types or drains explain why job waits, write
 * that ("no node has label gpu=a100") to buf and return it; else NULL. */
const char *yard__nodeadmin_reason (yard_server_t *s, const yard_job_t *job,
                                    char *buf, size_t len);

/* Validate a spec's constraints and gpu_type (submit).  0 or -EINVAL
 * with err filled. */
int yard__spec_constraints_check (const Yard__JobSpec *spec,
                                  yard_error_t *err);

#endif
