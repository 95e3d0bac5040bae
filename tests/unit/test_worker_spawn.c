/* test_worker_spawn.c - spawn_start/spawn_reap: a job on its own session
 * with its stdio and fd 3, its CPU affinity set before the exec, a cgroup
 * it cannot join (a warning on its stderr, not a failure), exec failures
 * returned as errors, and the exit status, signal and rusage from wait4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

extern char **environ;

/* Wait (poll on the pidfd, 10 s at most) and reap; the wait status. */
static int
reap (pid_t pid, int pidfd, struct rusage *ru)
{
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    assert_int_equal (poll (&p, 1, 10000), 1);
    int st = 0;
    assert_int_equal (spawn_reap (pid, &st, ru), 1);
    close (pidfd);
    return st;
}

/* Everything the child wrote on fd until EOF. */
static char *
slurp (int fd)
{
    static char buf[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read (fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return buf;
}

static void
test_stdio_session_affinity (void **state)
{
    (void)state;
    if (!spawn_available ())
        skip ();
    int out[2], m[2];
    assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
    assert_int_equal (pipe2 (m, O_CLOEXEC), 0);
    /* the first PU this process may use, alone */
    cpu_set_t mine, one;
    assert_int_equal (sched_getaffinity (0, sizeof mine, &mine), 0);
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET (i, &mine))
            first = i;
    CPU_ZERO (&one);
    CPU_SET (first, &one);
    char *argv[] = { "sh", "-c",
                     "grep Cpus_allowed_list /proc/self/status; "
                     "echo sid=$(ps -o sid= -p $$ | tr -d ' ') pid=$$; "
                     "echo err >&2; echo three >&3; read x; echo in=$?",
                     NULL };
    struct spawn_opts o = {
        .file = "/bin/sh",
        .argv = argv,
        .env = environ,
        .cwd = "/",
        .out_fd = out[1],
        .err_fd = out[1],
        .fd3 = m[1],
        .cgroups = { "/nonexistent/yard-cgroup" },
        .cpus = &one,
        .cpus_size = sizeof one,
    };
    pid_t pid;
    int pidfd;
    assert_int_equal (spawn_start (&o, &pid, &pidfd), 0);
    close (out[1]);
    close (m[1]);
    char *text = slurp (out[0]);
    char want[64];
    snprintf (want, sizeof want, "Cpus_allowed_list:\t%d\n", first);
    assert_non_null (strstr (text, want));
    snprintf (want, sizeof want, "sid=%d pid=%d\n", (int)pid, (int)pid);
    if (!strstr (text, "sid=\n")) /* no ps: nothing to compare */
        assert_non_null (strstr (text, want));
    assert_non_null (strstr (text, "cannot join cgroup "
                                   "/nonexistent/yard-cgroup"));
    assert_non_null (strstr (text, "err\n"));
    assert_non_null (strstr (text, "in=1\n")); /* stdin is /dev/null */
    assert_string_equal (slurp (m[0]), "three\n");
    close (out[0]);
    close (m[0]);
    struct rusage ru;
    int st = reap (pid, pidfd, &ru);
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 0);
    assert_true (ru.ru_maxrss > 0);
}

static void
test_exit_signal_and_rusage (void **state)
{
    (void)state;
    if (!spawn_available ())
        skip ();
    int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true (devnull >= 0);
    /* ~0.2 s of CPU, then exit 7 */
    char *argv[] = { "sh", "-c",
                     "i=0; s=$(date +%s%N); "
                     "while [ $(( $(date +%s%N) - s )) -lt 200000000 ]; do "
                     "i=$((i+1)); done; exit 7",
                     NULL };
    struct spawn_opts o = { .file = "/bin/sh", .argv = argv, .env = environ,
                            .out_fd = devnull, .err_fd = devnull, .fd3 = -1 };
    pid_t pid;
    int pidfd;
    assert_int_equal (spawn_start (&o, &pid, &pidfd), 0);
    struct rusage ru;
    int st = reap (pid, pidfd, &ru);
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 7);
    assert_true (ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec
                 + ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec
                 > 50000);

    /* a signal ends it: its whole group is its own */
    char *sleeper[] = { "sleep", "30", NULL };
    o.file = "/bin/sleep";
    o.argv = sleeper;
    assert_int_equal (spawn_start (&o, &pid, &pidfd), 0);
    assert_int_equal (spawn_reap (pid, &st, &ru), 0); /* still running */
    assert_int_equal (kill (-pid, SIGTERM), 0);
    st = reap (pid, pidfd, &ru);
    assert_true (WIFSIGNALED (st));
    assert_int_equal (WTERMSIG (st), SIGTERM);
    close (devnull);
}

static void
test_exec_failures (void **state)
{
    (void)state;
    if (!spawn_available ())
        skip ();
    int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    char *argv[] = { "x", NULL };
    struct spawn_opts o = { .file = "/nonexistent/x", .argv = argv,
                            .env = environ, .out_fd = devnull,
                            .err_fd = devnull, .fd3 = -1 };
    pid_t pid = 0;
    int pidfd = -1;
    assert_int_equal (spawn_start (&o, &pid, &pidfd), -ENOENT);
    /* there, not executable */
    char plain[] = "/tmp/yard-test-spawn-XXXXXX";
    int fd = mkstemp (plain);
    assert_true (fd >= 0);
    close (fd);
    assert_int_equal (chmod (plain, 0600), 0);
    o.file = plain;
    assert_int_equal (spawn_start (&o, &pid, &pidfd), -EACCES);
    unlink (plain);
    o.file = "/bin/true";
    o.cwd = "/nonexistent";
    assert_int_equal (spawn_start (&o, &pid, &pidfd), -ENOENT);
    assert_int_equal (pidfd, -1);
    /* nothing left to reap */
    assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
    assert_int_equal (errno, ECHILD);
    close (devnull);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_stdio_session_affinity),
        cmocka_unit_test (test_exit_signal_and_rusage),
        cmocka_unit_test (test_exec_failures),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
