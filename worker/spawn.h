/* spawn.h - starting a job's process with one fork and one exec.
 *
 * uv_spawn runs no code of ours between fork and exec, which is why jobs
 * used to go through the yard-exec shim (bind.h) for their cgroups and CPU
 * affinity, and why the shim forked once more to collect the job's rusage.
 * spawn_start clones a child itself (sharing the worker's memory until its
 * exec, as posix_spawn does) and, in it, does what the shim did:
 * leads a new session, takes its stdio, joins the attempt's cgroups (so
 * that a memory limit holds from the first instruction), sets its CPU
 * affinity and execs the job.  The worker waits for it through a pidfd
 * (uv_poll) and reaps it with wait4, which gives the rusage directly.
 * libuv's own SIGCHLD handling only reaps the pids it spawned, so these
 * children are ours alone.
 *
 * Between clone and exec the child calls only async-signal-safe functions
 * and writes nothing but its own stack: everything it needs is prepared
 * before.  Its stack is static, so spawn_start is for one thread (the
 * worker's loop).
 */
#ifndef WORKER_SPAWN_H
#define WORKER_SPAWN_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#define SPAWN_CGROUPS_MAX 3

struct spawn_opts {
    const char *file;   /* execve'd as is (absolute, or relative to cwd) */
    char **argv;        /* NULL-terminated */
    char **env;         /* NULL-terminated */
    const char *cwd;    /* NULL: the worker's */
    int out_fd, err_fd; /* stdout, stderr (stdin is /dev/null) */
    int fd3;            /* becomes fd 3; -1: none */
    const char *cgroups[SPAWN_CGROUPS_MAX]; /* dirs to join; NULL ends */
    const cpu_set_t *cpus; /* NULL: the worker's affinity */
    size_t cpus_size;      /* CPU_ALLOC_SIZE of cpus */
};

/* Whether this kernel gives pidfds (spawn_start needs one). */
bool spawn_available (void);

/* Fork, set the child up as above and exec o->file.  On success *pid and
 * *pidfd (readable once the child ended; O_CLOEXEC) are set and 0 is
 * returned once the exec succeeded.  A negative errno when the fork, the
 * pidfd or the exec failed (the child is then reaped already).  A cgroup
 * the child cannot join is a warning on its stderr, not a failure. */
int spawn_start (const struct spawn_opts *o, pid_t *pid, int *pidfd);

/* Reap pid without waiting: 1 with *status (as from waitpid) and *ru set,
 * 0 while it runs, a negative errno. */
int spawn_reap (pid_t pid, int *status, struct rusage *ru);

#endif
