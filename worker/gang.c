/* gang.c - a gang job's part on this node (see gang.h).
 *
 * Design note on signals in tasks mode.  The worker signals the whole
 * process group (kill(-pid)): the tasks get every stop and warn signal
 * directly.  The parent yard-exec ignores the usual stop signals so that
 * it outlives its tasks and reports how they ended; each task gets the
 * default dispositions back before its exec.  When a task fails, the
 * others get SIGTERM and, GANG_STOP_GRACE_S later, SIGKILL: a node whose
 * collective peer died would otherwise hang in a barrier forever.
 */
#include "gang.h"

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
static volatile sig_atomic_t alarm_fired;

static void
on_alarm (int sig)
{
    (void)sig;
    alarm_fired = 1;
}

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
run_task (unsigned i, unsigned rank, unsigned tasks, const char *cpus,
          bool set_omp, char **argv)
{
    char buf[32], slice[4096];
    for (size_t k = 0; k < sizeof stop_signals / sizeof stop_signals[0]; k++)
        signal (stop_signals[k], SIG_DFL);
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

int
gang_run_tasks (unsigned tasks, unsigned rank_base, const char *cpus,
                bool set_omp, char **argv)
{
    pid_t *pids = calloc (tasks, sizeof *pids);
    if (!pids) {
        fprintf (stderr, "yard-exec: out of memory\n");
        return 1;
    }
    for (size_t k = 0; k < sizeof stop_signals / sizeof stop_signals[0]; k++)
        signal (stop_signals[k], SIG_IGN);
    struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
    sigemptyset (&sa.sa_mask);
    sigaction (SIGALRM, &sa, NULL);
    unsigned alive = 0;
    int first = -1; /* wait status of the first failure */
    for (unsigned i = 0; i < tasks; i++) {
        pid_t pid = fork ();
        if (pid == 0)
            run_task (i, rank_base + i, tasks, cpus, set_omp, argv);
        if (pid < 0) {
            fprintf (stderr, "yard-exec: cannot start task %u: %s\n", i,
                     strerror (errno));
            first = 1 << 8; /* as if it exited 1 */
            break;
        }
        pids[i] = pid;
        alive++;
    }
    bool stopping = false, killed = false;
    if (first >= 0) {
        for (unsigned i = 0; i < tasks; i++)
            if (pids[i] > 0)
                kill (pids[i], SIGTERM);
        stopping = true;
        alarm (GANG_STOP_GRACE_S);
    }
    while (alive > 0) {
        int st;
        pid_t pid = waitpid (-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                if (alarm_fired && !killed) {
                    for (unsigned i = 0; i < tasks; i++)
                        if (pids[i] > 0)
                            kill (pids[i], SIGKILL);
                    killed = true;
                }
                continue;
            }
            break; /* ECHILD: none left */
        }
        for (unsigned i = 0; i < tasks; i++)
            if (pids[i] == pid) {
                pids[i] = 0;
                alive--;
                bool ok = WIFEXITED (st) && WEXITSTATUS (st) == 0;
                if (!ok && first < 0) {
                    first = st;
                    if (WIFEXITED (st))
                        fprintf (stderr,
                                 "yard-exec: task RANK %u exited "
                                 "with status %d: stopping the node's other "
                                 "tasks\n",
                                 rank_base + i, WEXITSTATUS (st));
                    else if (WIFSIGNALED (st))
                        fprintf (stderr,
                                 "yard-exec: task RANK %u was killed "
                                 "by signal %d: stopping the node's other "
                                 "tasks\n",
                                 rank_base + i, WTERMSIG (st));
                }
            }
        if (first >= 0 && !stopping && alive > 0) {
            for (unsigned i = 0; i < tasks; i++)
                if (pids[i] > 0)
                    kill (pids[i], SIGTERM);
            stopping = true;
            alarm (GANG_STOP_GRACE_S);
        }
    }
    free (pids);
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
