/* cli_topo.h - how the yard CLI shows a node's hardware: the GPU model in
 * `yard nodes`, the whole topology in `yard nodes show NODE`, and the
 * topology as JSON for --json.
 */
#ifndef YARD_CLI_TOPO_H
#define YARD_CLI_TOPO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yard/yard.h"

/* A short model for the node's GPUs: "H100" for "NVIDIA H100 80GB HBM3",
 * "RTX 6000" for "NVIDIA RTX 6000 Ada Generation", "mixed" when they
 * differ, "" when none.  Returns buf. */
char *cli_gpu_model (const yard_topology_t *t, char *buf, size_t len);

/* The topology as a JSON object (null when unknown).  A new reference, NULL
 * on ENOMEM. */
json_t *cli_topology_json (const yard_topology_t *t);

/* The node's state for people ("drained (since 5m ago)"): its display
 * state and how long it has been in it, when the scheduler said.  Returns
 * buf. */
const char *cli_node_state_cell (const yard_node_t *nd, int64_t now_ms,
                                 char *buf, size_t len);

/* `yard nodes show NODE`: the node's resources, then its NUMA nodes and
 * GPUs as tables.  Returns 0 or a negative errno. */
int cli_print_node_show (FILE *out, const yard_node_t *node, int64_t now_ms);

#endif
