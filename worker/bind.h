/* bind.h - pinning a job to the PUs, GPUs and memory the scheduler gave it
 * (its Allocation): the environment it sees, a cgroup per attempt, and the
 * yard-exec shim that applies both before the job's exec.
 *
 * An attempt's job is started by spawn_start (spawn.h), whose child joins
 * the cgroups (bind_cgroup_dirs) and sets the affinity (bind_cpu_mask)
 * itself.  Where that cannot be used (a gang's tasks, a kernel without
 * pidfds) uv_spawn runs no code of ours between fork and exec, so the
 * attempt spawns `yard-exec [--cpus LIST] [--cgroup DIR]... [--rusage FILE]
 * [--exec PATH] -- ARGV...` (installed
 * next to yard-worker) which joins the cgroups, sets its CPU affinity and
 * execvp's the job: the job's pid is the shim's.
 *
 * cgroups are found at run time (bind_init): v2 when
 * /sys/fs/cgroup/cgroup.controllers exists, else v1's cpuset and memory
 * hierarchies (and cpuacct, to account each attempt's CPU time).  Each
 * attempt gets a group WORKER/slot-N under a "yard" group (WORKER = w-PID
 * of the worker, so several workers on one machine never collide), taken
 * from the worker's idle ones and given back, emptied, when its job is
 * over: the next attempt reuses it, its figures (CPU time, peak memory,
 * OOM kills) being the change from where the counters stood when it took
 * it.  A group something outlived is not reused but removed.  When no cgroup is writable the jobs get CPU affinity
 * only, and bind_init logs one warning.  YARD_CGROUP_ROOT overrides where
 * to look (a dir holding v1 "cpuset"/"memory" or a v2 tree; "none": no
 * cgroups).
 */
#ifndef WORKER_BIND_H
#define WORKER_BIND_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobenv.h"
#include "yard.pb-c.h"

struct bind;

/* Find the cgroup hierarchies and prepare this worker's group; remove the
 * empty groups of dead workers.  Logs one warning when jobs will run
 * without cgroups.  Safe to call again (later calls do nothing). */
void bind_init (void);

/* Remove this worker's (empty) group at exit; one still holding jobs left
 * running stays for a later start's sweep. */
void bind_fini (void);

/* What bind_init found, for messages and tests: "v1", "v2" or "none". */
const char *bind_cgroup_mode (void);

/* The binding for one attempt: its cgroup(s) created and set up (memory
 * limit memory_bytes when > 0, cpuset the allocated PUs).  alloc may be
 * NULL (an older scheduler): only the memory limit applies.  NULL with
 * errno set (ENOMEM); a cgroup that cannot be made is logged, not an
 * error. */
struct bind *bind_create (uint64_t job_id, uint32_t attempt,
                          const Yard__Allocation *alloc,
                          uint64_t memory_bytes);

/* Put CUDA_VISIBLE_DEVICES (the GPUs' UUIDs), CUDA_DEVICE_ORDER,
 * OMP_NUM_THREADS (unless the spec set it: keep_omp), YARD_CPUS and
 * YARD_GPUS in env.  0 or -ENOMEM. */
int bind_env (const struct bind *b, jobenv_t *env, bool keep_omp);

/* argv behind the shim: a NULL-terminated array (free with free(); its
 * strings are borrowed from b and argv) in *out.  0, -ENOENT (no shim:
 * run argv as is), -ENOMEM. */
int bind_argv (const struct bind *b, char *const *argv, size_t argc,
               char ***out);

/* The shim collects the rusage of the job into path (usage.h's format)
 * once it ends: the job runs as the shim's child, the shim staying the
 * group's leader.  Call before bind_argv. */
void bind_set_usage_file (struct bind *b, const char *path);

/* The file the job's argv[0] names, found on the job's PATH by the
 * worker: the shim execs it as is (`--exec PATH`) rather than searching
 * PATH again.  "" or NULL: the shim searches.  Call before bind_argv. */
void bind_set_exec_path (struct bind *b, const char *path);

/* The GPUs' UUIDs joined by ',' ("" none); borrowed from b. */
const char *bind_gpus (const struct bind *b);

/* What a job started without the shim (spawn.h) joins: the attempt's
 * cgroup dirs, NULL after the last; returns how many (0 to 3). */
size_t bind_cgroup_dirs (const struct bind *b, const char *dirs[3]);

/* The attempt's PUs as an affinity mask in *set (free with CPU_FREE) of
 * *size bytes; NULL when it has none.  0, -EXDEV when they are not all on
 * this machine (a fixture topology: the job runs unbound), -ENOMEM,
 * -EINVAL. */
int bind_cpu_mask (const struct bind *b, cpu_set_t **set, size_t *size);

/* The attempt's PUs as a list ("" none); borrowed from b. */
const char *bind_cpus (const struct bind *b);

struct usage;
/* Read the attempt's cgroup accounting into u.  0, or -ENOENT when it has
 * no cgroup (or it tells nothing). */
int bind_usage (const struct bind *b, struct usage *u);
/* bind_argv for a gang job's part: always through the shim, in tasks mode
 * (`--tasks N --rank-base B [--task-omp]`, see gang.h): N processes, each
 * on its slice of the PUs, with OMP_NUM_THREADS set per task when
 * set_omp.  0, -ENOENT (no shim), -ENOMEM. */
int bind_argv_tasks (const struct bind *b, unsigned tasks, unsigned rank_base,
                     bool set_omp, char *const *argv, size_t argc,
                     char ***out);

/* After the job ended: true when its memory cgroup killed something for
 * want of memory; msg then says "out of memory (limit 64 MiB)". */
bool bind_oom (const struct bind *b, char *msg, size_t len);

/* Give back the attempt's cgroups (what is left in them is SIGKILLed
 * first; an empty group is kept for the next attempt, one that is not is
 * removed) and free b.  Accepts NULL; NULLs the pointer. */
void bind_destroy (struct bind **b);

/* Free b but leave its cgroups (its job still runs: the worker is going
 * away and a later start deals with it).  Accepts NULL; NULLs the
 * pointer. */
void bind_forget (struct bind **b);

/* yard-exec's main: argv as above.  Returns only on failure (the exit
 * status: 127 not found, 126 not executable, 2 usage). */
int bind_shim_main (int argc, char **argv);

#endif
