/* test_worker_gang.c - worker/gang.c: per-task PU slices, the torchrun
 * environment, the free port, and yard-exec's tasks mode (RANK/LOCAL_RANK
 * per task, the first failure ends the node's part and stops the rest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gang.h"
#include "jobenv.h"

static void
test_cpu_slice (void **state)
{
    (void)state;
    char out[64];
    assert_int_equal (gang_cpu_slice ("0-7", 2, 0, out, sizeof out), 4);
    assert_string_equal (out, "0-3");
    assert_int_equal (gang_cpu_slice ("0-7", 2, 1, out, sizeof out), 4);
    assert_string_equal (out, "4-7");
    /* in list order, whatever the holes */
    assert_int_equal (gang_cpu_slice ("1,3,8-9", 2, 1, out, sizeof out), 2);
    assert_string_equal (out, "8-9");
    assert_int_equal (gang_cpu_slice ("0-6", 3, 2, out, sizeof out), 2);
    assert_string_equal (out, "4-5");
    assert_int_equal (gang_cpu_slice ("0", 2, 0, out, sizeof out), -ERANGE);
    assert_int_equal (gang_cpu_slice ("x", 1, 0, out, sizeof out), -EINVAL);
    assert_int_equal (gang_cpu_slice ("0-3", 2, 2, out, sizeof out), -EINVAL);
    assert_int_equal (gang_cpu_slice ("0-3", 0, 0, out, sizeof out), -EINVAL);
    assert_int_equal (gang_cpu_slice ("0-3", 1, 0, out, 2), -ENAMETOOLONG);
}

static void
test_env (void **state)
{
    (void)state;
    char *base[] = { NULL };
    jobenv_t *env = jobenv_create (base);
    assert_non_null (env);
    struct attempt_gang g = {
        .on = true, .node_rank = 1, .nnodes = 3, .tasks = 4, .port = 29500
    };
    snprintf (g.addr, sizeof g.addr, "10.0.0.1");
    assert_int_equal (gang_env (&g, env), 0);
    assert_string_equal (jobenv_get (env, "WORLD_SIZE"), "12");
    assert_string_equal (jobenv_get (env, "LOCAL_WORLD_SIZE"), "4");
    assert_string_equal (jobenv_get (env, "NODE_RANK"), "1");
    assert_string_equal (jobenv_get (env, "GROUP_RANK"), "1");
    assert_string_equal (jobenv_get (env, "MASTER_ADDR"), "10.0.0.1");
    assert_string_equal (jobenv_get (env, "MASTER_PORT"), "29500");
    assert_null (jobenv_get (env, "RANK")); /* per task: yard-exec's */
    jobenv_destroy (&env);
    /* one task per node: its rank is the node's */
    env = jobenv_create (base);
    g.tasks = 1;
    g.node_rank = 2;
    assert_int_equal (gang_env (&g, env), 0);
    assert_string_equal (jobenv_get (env, "RANK"), "2");
    assert_string_equal (jobenv_get (env, "LOCAL_RANK"), "0");
    assert_string_equal (jobenv_get (env, "WORLD_SIZE"), "3");
    jobenv_destroy (&env);
}

static void
test_free_port (void **state)
{
    (void)state;
    uint32_t a = 0;
    assert_int_equal (gang_free_port (&a), 0);
    assert_true (a > 0 && a < 65536);
}

/* gang_run_tasks in a child (it changes signal dispositions): its wait
 * status. */
static int
run (unsigned tasks, unsigned base, const char *script)
{
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        char *argv[] = { "sh", "-c", (char *)script, NULL };
        _exit (gang_run_tasks (tasks, base, "", false, argv));
    }
    int st;
    assert_int_equal (waitpid (pid, &st, 0), pid);
    return st;
}

static void
test_run_tasks (void **state)
{
    (void)state;
    char dir[] = "/tmp/yard-gang-XXXXXX", script[512], path[600];
    assert_non_null (mkdtemp (dir));
    snprintf (script, sizeof script, "echo $RANK $LOCAL_RANK > %s/$RANK", dir);
    int st = run (3, 6, script);
    assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
    for (int i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "%s/%d", dir, 6 + i);
        FILE *f = fopen (path, "r");
        assert_non_null (f);
        int r = -1, l = -1;
        assert_int_equal (fscanf (f, "%d %d", &r, &l), 2);
        fclose (f);
        assert_int_equal (r, 6 + i);
        assert_int_equal (l, i);
        unlink (path);
    }
    rmdir (dir);
    /* the first failure is the part's status; the others are stopped at
     * once rather than waited for */
    time_t t0 = time (NULL);
    st = run (3, 0, "if [ $LOCAL_RANK = 1 ]; then exit 3; fi; exec sleep 30");
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 3);
    assert_true (time (NULL) - t0 < GANG_STOP_GRACE_S - 2); /* no SIGKILL */
    /* a task killed by a signal: the part ends by that signal */
    t0 = time (NULL);
    st = run (2, 0,
              "if [ $LOCAL_RANK = 0 ]; then kill -KILL $$; fi; "
              "exec sleep 30");
    assert_true (WIFSIGNALED (st));
    assert_int_equal (WTERMSIG (st), SIGKILL);
    assert_true (time (NULL) - t0 < GANG_STOP_GRACE_S - 2);
    /* a command that is not there */
    pid_t pid = fork ();
    if (pid == 0) {
        char *argv[] = { "/nonexistent/yard-gang-test", NULL };
        _exit (gang_run_tasks (2, 0, NULL, false, argv));
    }
    assert_int_equal (waitpid (pid, &st, 0), pid);
    assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 127);
}

/* Every line of every task reaches the log behind its rank, whole; a
 * last line without a newline gets one. */
static void
test_output_prefixed (void **state)
{
    (void)state;
    char path[] = "/tmp/yard-gang-out-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        dup2 (fd, STDOUT_FILENO);
        char *argv[] = { "sh", "-c",
                         "for i in 1 2 3; do echo out$i; echo err$i >&2; "
                         "done; printf tail",
                         NULL };
        _exit (gang_run_tasks (2, 4, NULL, false, argv));
    }
    int st;
    assert_int_equal (waitpid (pid, &st, 0), pid);
    assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    char line[256];
    int n = 0, seen[2][3][2] = { { { 0 } } }, tails = 0;
    while (fgets (line, sizeof line, f)) {
        unsigned rank, i;
        char what[8];
        n++;
        assert_true (line[strlen (line) - 1] == '\n');
        if (sscanf (line, "[rank %u] tail", &rank) == 1
            && strstr (line, "tail")) {
            assert_true (rank == 4 || rank == 5);
            tails++;
            continue;
        }
        assert_int_equal (sscanf (line, "[rank %u] %3s%u", &rank, what, &i),
                          3);
        assert_true (rank == 4 || rank == 5);
        assert_true (i >= 1 && i <= 3);
        seen[rank - 4][i - 1][strcmp (what, "err") == 0]++;
    }
    fclose (f);
    unlink (path);
    assert_int_equal (n, 14);
    assert_int_equal (tails, 2);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 3; i++)
            for (int e = 0; e < 2; e++)
                assert_int_equal (seen[r][i][e], 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cpu_slice),
        cmocka_unit_test (test_env),
        cmocka_unit_test (test_free_port),
        cmocka_unit_test (test_run_tasks),
        cmocka_unit_test (test_output_prefixed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
