/* cli_cores.h - whole-core placement in the CLI's output: the CORES cell
 * of `yard nodes`, and for `yard nodes show NODE` each core with its PUs
 * and the jobs holding them, and the NUMA distance matrix. */
#ifndef YARD_CLI_CORES_H
#define YARD_CLI_CORES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "yard/yard.h"

/* "FREE/TOTAL" cores, then " (FREE/TOTAL PUs)" when the node has more PUs
 * than cores; "-" from a scheduler that reports no cores.  Returns buf. */
char *cli_cores_cell (const yard_node_t *node, char *buf, size_t len);

/* The cores, their PUs and holders, and the NUMA distances, as text. */
void cli_cores_print (FILE *out, const yard_node_t *node);

/* The same into o: cores_total, cores_free, pus_free, oversubscribe,
 * cores [{os_index, pus, jobs}], numa_distances [[...]].  False when out
 * of memory. */
bool cli_cores_json (json_t *o, const yard_node_t *node);

#endif
