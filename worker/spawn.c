/* spawn.c - one fork and one exec per job (see spawn.h). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int
pidfd_open_ (pid_t pid)
{
    return (int)syscall (SYS_pidfd_open, pid, 0);
}

bool
spawn_available (void)
{
    static int avail = -1;
    if (avail < 0) {
        int fd = pidfd_open_ (getpid ());
        avail = fd >= 0;
        if (fd >= 0)
            close (fd);
    }
    return avail == 1;
}

/* ---- the child: async-signal-safe calls only ---- */

static void
child_say (const char *a, const char *b, const char *c)
{
    const char *parts[] = { "yard-worker: warning: ", a, b, c, "\n" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i])
            (void)!write (2, parts[i], strlen (parts[i]));
}

static void
child_fail (int errpipe, int err)
{
    (void)!write (errpipe, &err, sizeof err);
    _exit (127);
}

/* Put src on fd target (src >= 10, so no other source is in the way). */
static int
child_dup (int src, int target)
{
    return dup2 (src, target) < 0 ? -1 : 0;
}

static void
child_run (const struct spawn_opts *o, int out, int err, int fd3,
           int devnull, int errpipe)
{
    /* the worker's handlers and mask are not the job's */
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            (void)sigaction (s, &sa, NULL);
    if (setsid () < 0)
        child_fail (errpipe, errno);
    int null = devnull >= 0 ? devnull : open ("/dev/null", O_RDWR);
    if (null < 0 || child_dup (null, 0) < 0 || child_dup (out, 1) < 0
        || child_dup (err, 2) < 0 || (fd3 >= 0 && child_dup (fd3, 3) < 0))
        child_fail (errpipe, errno);
    if (null > 3 && null != devnull)
        close (null);
    /* join first: a v1 cpuset group resets the affinity.  Through v1's
     * "tasks" where there is one: this child is a process of one thread,
     * so moving the thread moves the process, and the kernel then skips
     * the lock that a write to cgroup.procs takes over every thread
     * group (a percpu rwsem whose writer waits for an RCU grace period:
     * 5 to 20 ms here, with the worker waiting on this vfork child) */
    for (size_t i = 0; i < SPAWN_CGROUPS_MAX && o->cgroups[i]; i++) {
        char path[4096];
        size_t n = strlen (o->cgroups[i]);
        if (n + sizeof "/cgroup.procs" > sizeof path) {
            child_say ("cgroup dir name too long: ", o->cgroups[i], NULL);
            continue;
        }
        memcpy (path, o->cgroups[i], n);
        memcpy (path + n, "/tasks", sizeof "/tasks");
        int fd = open (path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) { /* v2 */
            memcpy (path + n, "/cgroup.procs", sizeof "/cgroup.procs");
            fd = open (path, O_WRONLY | O_CLOEXEC);
        }
        if (fd < 0 || write (fd, "0\n", 2) != 2)
            child_say ("cannot join cgroup ", o->cgroups[i], ": not bound");
        if (fd >= 0)
            close (fd);
    }
    if (o->cpus && sched_setaffinity (0, o->cpus_size, o->cpus) < 0)
        child_say ("cannot set the CPU affinity", NULL,
                   ": running unbound");
    if (o->cwd && chdir (o->cwd) < 0)
        child_fail (errpipe, errno);
    sigset_t none;
    sigemptyset (&none);
    (void)sigprocmask (SIG_SETMASK, &none, NULL);
    execve (o->file, o->argv, o->env);
    child_fail (errpipe, errno);
}

/* ---- the worker ---- */

static int
dup_high (int fd)
{
    return fd < 0 ? -1 : fcntl (fd, F_DUPFD_CLOEXEC, 10);
}

/* /dev/null for the children's stdin, opened once (close-on-exec: each
 * child dup2s it to 0). */
static int
dev_null (void)
{
    static int fd = -1;
    if (fd < 0)
        fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0 && fd < 10) { /* clear of the fds the child dup2s onto */
        int high = fcntl (fd, F_DUPFD_CLOEXEC, 10);
        close (fd);
        fd = high;
    }
    return fd;
}

struct child_arg {
    const struct spawn_opts *o;
    int out, err, fd3, devnull, errpipe;
};

static int
child_main (void *p)
{
    struct child_arg *c = p;
    child_run (c->o, c->out, c->err, c->fd3, c->devnull, c->errpipe);
    return 127; /* not reached */
}

/* The child's stack: it runs on it until its exec, the worker waiting
 * (CLONE_VFORK), so one is enough. */
#define CHILD_STACK (64 * 1024)
static _Alignas (16) unsigned char child_stack[CHILD_STACK];

int
spawn_start (const struct spawn_opts *o, pid_t *pid, int *pidfd)
{
    int p[2], e = 0;
    int out = dup_high (o->out_fd), err = dup_high (o->err_fd);
    int fd3 = dup_high (o->fd3);
    if (out < 0 || err < 0 || (o->fd3 >= 0 && fd3 < 0)) {
        e = errno;
        goto done;
    }
    if (pipe2 (p, O_CLOEXEC) < 0) {
        e = errno;
        goto done;
    }
    /* no handler of ours may run in the child before its reset */
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    /* CLONE_VM | CLONE_VFORK, as posix_spawn: the child shares the
     * worker's memory until its exec (no page tables copied, no
     * copy-on-write faults afterwards) and the worker's thread waits
     * meanwhile.  The child writes nothing of the worker's but its own
     * stack and the pipe. */
    struct child_arg ca = { o, out, err, fd3, dev_null (), p[1] };
    pid_t c = clone (child_main, child_stack + CHILD_STACK,
                     CLONE_VM | CLONE_VFORK | SIGCHLD, &ca);
    int fork_err = errno;
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    close (p[1]);
    if (c < 0) {
        close (p[0]);
        e = fork_err;
        goto done;
    }
    /* EOF: the exec closed the pipe; an int: why it failed */
    int why = 0;
    ssize_t r;
    while ((r = read (p[0], &why, sizeof why)) < 0 && errno == EINTR)
        ;
    close (p[0]);
    if (r == (ssize_t)sizeof why) {
        int st;
        while (waitpid (c, &st, 0) < 0 && errno == EINTR)
            ;
        e = why ? why : EIO;
        goto done;
    }
    int fd = pidfd_open_ (c);
    if (fd < 0) {
        /* cannot happen once spawn_available said yes; do not leave it */
        e = errno;
        kill (-c, SIGKILL);
        int st;
        while (waitpid (c, &st, 0) < 0 && errno == EINTR)
            ;
        goto done;
    }
    *pid = c;
    *pidfd = fd;
done:
    if (out >= 0)
        close (out);
    if (err >= 0)
        close (err);
    if (fd3 >= 0)
        close (fd3);
    return -e;
}

int
spawn_reap (pid_t pid, int *status, struct rusage *ru)
{
    pid_t r;
    while ((r = wait4 (pid, status, WNOHANG, ru)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return -errno;
    return r == pid ? 1 : 0;
}
