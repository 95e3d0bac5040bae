/* cli_gang.h - the CLI's view of multi-node jobs: the nodes of a gang job
 * in `yard status`, and which job holds which PUs and GPUs of a node in
 * `yard nodes show` (both as text and in --json).
 */
#ifndef YARD_CLI_GANG_H
#define YARD_CLI_GANG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "yard/yard.h"

/* Lines for `yard status`: "nodes: 2 x 2 tasks (...)" and one line per
 * node "rank 0: NODE  cpus 0-3  gpus ...  running".  Nothing for a job
 * that is not a gang. */
void cli_gang_print (FILE *out, const yard_job_t *job);

/* Set "nodes", "tasks_per_node", "gpus_per_task", "gang_timeout_s",
 * "master_port" and "gang" (array by rank) on o; false on out of
 * memory. */
bool cli_gang_json (json_t *o, const yard_job_t *job);

/* An attempt's nodes as "a,b" (malloc'd; NULL when not a gang's, or out
 * of memory), and its "gang" array in --json (false on out of memory). */
char *cli_gang_attempt_nodes (const yard_attempt_t *a);
bool cli_gang_attempt_json (json_t *o, const yard_attempt_t *a);

/* `yard queue` cells of a multi-node job: NODE "a+1" (rank 0's node and
 * how many more), CPUS every task's together.  Other jobs: unchanged. */
void cli_gang_queue_cells (const yard_job_t *job, char *node, size_t nlen,
                           char *cpus, size_t clen);

/* The "jobs held here" table of `yard nodes show`. */
void cli_holdings_print (FILE *out, const yard_node_t *node);

/* Set "holdings" and "advertise_addr" on o; false on out of memory. */
bool cli_holdings_json (json_t *o, const yard_node_t *node);

#endif
