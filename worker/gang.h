/* gang.h - a multi-node (gang) job's part on this node: the torchrun
 * environment, the rank-0 node's MASTER_PORT, and the yard-exec mode that
 * runs the node's tasks.
 *
 * A part is one attempt like any other (one log, one result, one process
 * group): its process is yard-exec in tasks mode, which forks one process
 * per task, each with RANK and LOCAL_RANK, bound to its own slice of the
 * node's PUs, waits for all of them and ends as the first one that failed
 * (after stopping the others), or with status 0 when they all did.
 */
#ifndef WORKER_GANG_H
#define WORKER_GANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobenv.h"

#define GANG_STOP_GRACE_S 10 /* tasks left when one failed: then SIGKILL */
#define GANG_LINE_MAX 4096   /* a longer output line is passed on in parts */
#define GANG_DRAIN_MS 2000   /* output read after the last task ended */

struct attempt_gang {
    bool on;
    uint32_t node_rank;
    uint32_t nnodes;
    uint32_t tasks; /* per node, >= 1 */
    uint32_t port;  /* MASTER_PORT */
    char addr[256]; /* MASTER_ADDR */
};

/* Put WORLD_SIZE, LOCAL_WORLD_SIZE, NODE_RANK, GROUP_RANK, MASTER_ADDR,
 * MASTER_PORT and YARD_NNODES in env (RANK and LOCAL_RANK are per task:
 * yard-exec sets them).  0 or -ENOMEM. */
int gang_env (const struct attempt_gang *g, jobenv_t *env);

/* Task i's share of the PU list `list` cut in `parts` contiguous slices of
 * equal size (in list order), as a list in out.  Returns the number of PUs
 * in the slice, -ERANGE when the list has fewer PUs than parts (no slice
 * each: the tasks share them), -EINVAL (malformed), -ENAMETOOLONG. */
int gang_cpu_slice (const char *list, unsigned parts, unsigned i, char *out,
                    size_t len);

/* A TCP port free on this machine now (bind port 0, read it, close).
 * 0 or -errno. */
int gang_free_port (uint32_t *port);

/* yard-exec's tasks mode: start `tasks` copies of argv with RANK =
 * rank_base + i and LOCAL_RANK = i, each bound to its slice of cpus (""
 * or NULL: unbound) and, with set_omp, OMP_NUM_THREADS = its PUs.  Their
 * output (stdout and stderr) goes to our stdout, each line behind
 * "[rank N] ".  Their
 * output (stdout and stderr) goes to our stdout, each line behind
 * "[rank N] ".
 * Returns the status to exit with (0 when all exited 0, else the first
 * failure's exit status); a first failure by a signal is re-raised. */
int gang_run_tasks (unsigned tasks, unsigned rank_base, const char *cpus,
                    bool set_omp, char **argv);

#endif
