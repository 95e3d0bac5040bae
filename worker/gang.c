/* gang.c - a gang job's part on this node (see gang.h).
 *
 * Design note on signals in tasks mode.  The worker signals the whole
 * process group (kill(-pid)): the tasks get every stop and warn signal
 * directly.  The parent yard-exec ignores the usual stop signals so that
 * it outlives its tasks and reports how they ended; each task gets the
 * default dispositions back before its exec.  When a task fails, the
 * others get SIGTERM and, GANG_STOP_GRACE_S later, SIGKILL: a node whose
 * collective peer died would otherwise hang in a barrier forever.
 *
 * Output.  Each task writes into a pipe of its own; the parent passes its
 * lines on to the attempt's log behind "[rank N] ", one whole line per
 * write, so that lines of different tasks never mix.  One loop polls the
 * pipes and reaps the tasks (WNOHANG): no signal handler, no blocking wait
 * that output could dead-lock against.
 */
#include "gang.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpulist.h"

static int
set_u32 (jobenv_t *env, const char *key, uint32_t v)
{
    char buf[16];
    snprintf (buf, sizeof buf, "%u", v);
    return jobenv_set (env, key, buf);
}

int
gang_env (const struct attempt_gang *g, jobenv_t *env)
{
    int rc;
    uint32_t tasks = g->tasks ? g->tasks : 1;
    if ((rc = set_u32 (env, "WORLD_SIZE", g->nnodes * tasks)) < 0
        || (rc = set_u32 (env, "LOCAL_WORLD_SIZE", tasks)) < 0
        || (rc = set_u32 (env, "NODE_RANK", g->node_rank)) < 0
        || (rc = set_u32 (env, "GROUP_RANK", g->node_rank)) < 0
        || (rc = set_u32 (env, "YARD_NNODES", g->nnodes)) < 0
        || (rc = jobenv_set (env, "MASTER_ADDR", g->addr)) < 0
        || (rc = set_u32 (env, "MASTER_PORT", g->port)) < 0)
        return rc;
    /* one task: its rank is known here already */
    if (tasks == 1
        && ((rc = set_u32 (env, "RANK", g->node_rank)) < 0
            || (rc = jobenv_set (env, "LOCAL_RANK", "0")) < 0))
        return rc;
    return 0;
}

int
gang_cpu_slice (const char *list, unsigned parts, unsigned i, char *out,
                size_t len)
{
    if (!list || parts == 0 || i >= parts)
        return -EINVAL;
    int n = yard_cpulist_extent (list);
    if (n < 0)
        return n;
    bool *set = calloc ((size_t)n + 1, sizeof *set);
    if (!set)
        return -ENOMEM;
    int count = yard_cpulist_parse (list, set, (size_t)n + 1);
    if (count < 0 || (unsigned)count < parts) {
        free (set);
        return count < 0 ? count : -ERANGE;
    }
    unsigned each = (unsigned)count / parts, first = i * each, k = 0;
    for (int pu = 0; pu < n; pu++) {
        if (!set[pu])
            continue;
        set[pu] = k >= first && k < first + each;
        k++;
    }
    char *text = yard_cpulist_format (set, (size_t)n);
    free (set);
    if (!text)
        return -ENOMEM;
    int rc = (int)each;
    if (strlen (text) >= len)
        rc = -ENAMETOOLONG;
    else
        memcpy (out, text, strlen (text) + 1);
    free (text);
    return rc;
}

int
gang_free_port (uint32_t *port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl (INADDR_ANY),
                              .sin_port = 0 };
    socklen_t sl = sizeof sa;
    int rc = 0;
    if (bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0
        || getsockname (fd, (struct sockaddr *)&sa, &sl) < 0)
        rc = -errno;
    else
        *port = ntohs (sa.sin_port);
    close (fd);
    return rc;
}

/* ---- yard-exec tasks mode ---- */

static const int stop_signals[]
    = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void
task_affinity (const char *list)
{
    int n = yard_cpulist_extent (list);
    if (n <= 0)
        return;
    bool *want = calloc ((size_t)n, sizeof *want);
    cpu_set_t *set = CPU_ALLOC ((size_t)n);
    if (want && set && yard_cpulist_parse (list, want, (size_t)n) > 0) {
        size_t sz = CPU_ALLOC_SIZE ((size_t)n);
        CPU_ZERO_S (sz, set);
        for (int i = 0; i < n; i++)
            if (want[i])
                CPU_SET_S ((size_t)i, sz, set);
        if (sched_setaffinity (0, sz, set) < 0)
            fprintf (stderr,
                     "yard-exec: warning: cannot bind a task to PUs "
                     "%s: %s\n",
                     list, strerror (errno));
    }
    if (set)
        CPU_FREE (set);
    free (want);
}

static void
stop_set (sigset_t *set)
{
    sigemptyset (set);
    for (size_t k = 0; k < sizeof stop_signals / sizeof stop_signals[0]; k++)
        sigaddset (set, stop_signals[k]);
}

static void
run_task (unsigned i, unsigned rank, unsigned tasks, const char *cpus,
          bool set_omp, int out, char **argv)
{
    char buf[32], slice[4096];
    sigset_t stops;
    stop_set (&stops);
    for (size_t k = 0; k < sizeof stop_signals / sizeof stop_signals[0]; k++)
        signal (stop_signals[k], SIG_DFL);
    /* a stop that came since the fork was held for us: it acts now */
    sigprocmask (SIG_UNBLOCK, &stops, NULL);
    if (out >= 0
        && (dup2 (out, STDOUT_FILENO) < 0 || dup2 (out, STDERR_FILENO) < 0))
        _exit (126);
    snprintf (buf, sizeof buf, "%u", rank);
    setenv ("RANK", buf, 1);
    snprintf (buf, sizeof buf, "%u", i);
    setenv ("LOCAL_RANK", buf, 1);
    if (cpus && *cpus) {
        int n = gang_cpu_slice (cpus, tasks, i, slice, sizeof slice);
        if (n > 0) {
            task_affinity (slice);
            setenv ("YARD_CPUS", slice, 1);
            if (set_omp) {
                snprintf (buf, sizeof buf, "%d", n);
                setenv ("OMP_NUM_THREADS", buf, 1);
            }
        }
    }
    execvp (argv[0], argv);
    int e = errno;
    fprintf (stderr, "yard-exec: cannot run %s: %s\n", argv[0], strerror (e));
    _exit (e == ENOENT ? 127 : 126);
}

/* One task: its process and the pipe its output comes through.  Output
 * is passed on a line at a time behind "[rank N] ", so lines of different
 * tasks never mix in the log. */
struct task {
    pid_t pid; /* 0: reaped */
    int fd;    /* read end, -1: closed */
    unsigned rank;
    size_t len;
    char line[GANG_LINE_MAX];
};

static void
write_all (const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write (STDOUT_FILENO, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return; /* the log is gone: nothing better to do */
        p += k;
        n -= (size_t)k;
    }
}

/* One line (or a piece of one, partial) behind its task's rank, in one
 * write. */
static void
put_line (unsigned rank, const char *p, size_t n, bool partial)
{
    if (n == 0)
        return;
    char pre[32];
    int k = snprintf (pre, sizeof pre, "[rank %u] ", rank);
    char *out = malloc ((size_t)k + n + 1);
    if (!out) {
        write_all (p, n);
        return;
    }
    memcpy (out, pre, (size_t)k);
    memcpy (out + k, p, n);
    size_t len = (size_t)k + n;
    if (partial && p[n - 1] != '\n')
        out[len++] = '\n';
    write_all (out, len);
    free (out);
}

/* Read what task t wrote; pass on every whole line (and a line that
 * fills the buffer).  At EOF, pass on the rest and close. */
static void
pump (struct task *t)
{
    for (;;) {
        ssize_t k = read (t->fd, t->line + t->len, sizeof t->line - t->len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {
            put_line (t->rank, t->line, t->len, true);
            t->len = 0;
            close (t->fd);
            t->fd = -1;
            return;
        }
        t->len += (size_t)k;
        size_t off = 0;
        char *nl;
        while ((nl = memchr (t->line + off, '\n', t->len - off))) {
            size_t n = (size_t)(nl - (t->line + off)) + 1;
            put_line (t->rank, t->line + off, n, false);
            off += n;
        }
        memmove (t->line, t->line + off, t->len - off);
        t->len -= off;
        if (t->len == sizeof t->line) {
            put_line (t->rank, t->line, t->len, true);
            t->len = 0;
        }
    }
}

static int64_t
mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
signal_all (struct task *t, unsigned n, int sig)
{
    for (unsigned i = 0; i < n; i++)
        if (t[i].pid > 0)
            kill (t[i].pid, sig);
}

int
gang_run_tasks (unsigned tasks, unsigned rank_base, const char *cpus,
                bool set_omp, char **argv)
{
    struct task *t = calloc (tasks, sizeof *t);
    struct pollfd *pfd = calloc (tasks, sizeof *pfd);
    if (!t || !pfd) {
        fprintf (stderr, "yard-exec: out of memory\n");
        free (t);
        free (pfd);
        return 1;
    }
    /* Blocked before they are ignored: a blocked signal stays pending
     * even while ignored (Linux), so a stop sent to a task between its
     * fork and its SIG_DFL is not lost; ours are dropped at the unblock
     * below. */
    sigset_t stops;
    stop_set (&stops);
    sigprocmask (SIG_BLOCK, &stops, NULL);
    for (size_t k = 0; k < sizeof stop_signals / sizeof stop_signals[0]; k++)
        signal (stop_signals[k], SIG_IGN);
    fflush (NULL);
    unsigned alive = 0;
    int first = -1; /* wait status of the first failure */
    for (unsigned i = 0; i < tasks; i++) {
        int p[2] = { -1, -1 };
        t[i].fd = -1;
        t[i].rank = rank_base + i;
        if (pipe2 (p, O_CLOEXEC) < 0)
            p[0] = p[1] = -1; /* no prefix: the task writes to the log */
        pid_t pid = fork ();
        if (pid == 0)
            run_task (i, rank_base + i, tasks, cpus, set_omp, p[1], argv);
        if (p[1] >= 0)
            close (p[1]);
        if (pid < 0) {
            fprintf (stderr, "yard-exec: cannot start task %u: %s\n", i,
                     strerror (errno));
            if (p[0] >= 0)
                close (p[0]);
            first = 1 << 8; /* as if it exited 1 */
            break;
        }
        t[i].pid = pid;
        t[i].fd = p[0];
        if (p[0] >= 0)
            fcntl (p[0], F_SETFL, fcntl (p[0], F_GETFL) | O_NONBLOCK);
        alive++;
    }
    sigprocmask (SIG_UNBLOCK, &stops, NULL);
    int64_t kill_at = -1, drain_until = -1;
    bool killed = false;
    if (first >= 0) {
        signal_all (t, tasks, SIGTERM);
        kill_at = mono_ms () + GANG_STOP_GRACE_S * 1000;
    }
    for (;;) {
        nfds_t n = 0;
        for (unsigned i = 0; i < tasks; i++)
            if (t[i].fd >= 0) {
                pfd[n].fd = t[i].fd;
                pfd[n].events = POLLIN;
                n++;
            }
        if (alive == 0) {
            /* a task's own children may hold its pipe: not for long */
            if (drain_until < 0)
                drain_until = mono_ms () + GANG_DRAIN_MS;
            if (n == 0 || mono_ms () >= drain_until)
                break;
        }
        if (poll (pfd, n, 100) > 0)
            for (unsigned i = 0; i < tasks; i++)
                if (t[i].fd >= 0)
                    pump (&t[i]);
        int st;
        pid_t pid;
        while ((pid = waitpid (-1, &st, WNOHANG)) > 0) {
            for (unsigned i = 0; i < tasks; i++) {
                if (t[i].pid != pid)
                    continue;
                t[i].pid = 0;
                alive--;
                if (WIFEXITED (st) && WEXITSTATUS (st) == 0)
                    break;
                if (first >= 0)
                    break;
                first = st;
                if (WIFEXITED (st))
                    fprintf (stderr,
                             "yard-exec: task RANK %u exited with status "
                             "%d: stopping the node's other tasks\n",
                             t[i].rank, WEXITSTATUS (st));
                else if (WIFSIGNALED (st))
                    fprintf (stderr,
                             "yard-exec: task RANK %u was killed by signal "
                             "%d: stopping the node's other tasks\n",
                             t[i].rank, WTERMSIG (st));
                signal_all (t, tasks, SIGTERM);
                kill_at = mono_ms () + GANG_STOP_GRACE_S * 1000;
                break;
            }
        }
        if (kill_at >= 0 && !killed && alive > 0 && mono_ms () >= kill_at) {
            signal_all (t, tasks, SIGKILL);
            killed = true;
        }
    }
    for (unsigned i = 0; i < tasks; i++) {
        if (t[i].fd >= 0) {
            put_line (t[i].rank, t[i].line, t[i].len, true);
            close (t[i].fd);
        }
    }
    free (t);
    free (pfd);
    if (first < 0)
        return 0;
    if (WIFSIGNALED (first)) {
        int sig = WTERMSIG (first);
        signal (sig, SIG_DFL);
        raise (sig);
        return 128 + sig;
    }
    return WIFEXITED (first) ? WEXITSTATUS (first) : 1;
}
