/* test_worker_attempt.c - real jobs on a real loop: exit status, signals,
 * time limit (SIGTERM, grace, SIGKILL), kill with stragglers, the job's
 * session, stdin, signal dispositions and environment, spawn failures and
 * their messages in the log, checkpoints, results on disk, recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "attempt.h"
#include "jobdir.h"
#include "util.h"

static char tmp[128];
static char jobs_root[256];
static char ckpt_root[256];
static uv_loop_t loop;
static struct attempt_host host;
static int exits;

static void
on_exit_cb (struct attempt *a, void *arg)
{
    (void)arg;
    assert_int_equal (a->state, ATTEMPT_ENDED);
    exits++;
}

static int
setup (void **state)
{
    (void)state;
    snprintf (tmp, sizeof tmp, "/tmp/yard-test-attempt-XXXXXX");
    if (!mkdtemp (tmp))
        return -1;
    snprintf (jobs_root, sizeof jobs_root, "%s/jobs", tmp);
    snprintf (ckpt_root, sizeof ckpt_root, "%s/checkpoints", tmp);
    if (yard_mkdir_p (jobs_root) < 0 || yard_mkdir_p (ckpt_root) < 0)
        return -1;
    if (uv_loop_init (&loop) < 0)
        return -1;
    host = (struct attempt_host){
        .loop = &loop,
        .node = "w1",
        .jobs_root = jobs_root,
        .ckpt_root = ckpt_root,
        .exit_cb = on_exit_cb,
        .arg = NULL,
    };
    exits = 0;
    return 0;
}

static int
teardown (void **state)
{
    (void)state;
    uv_run (&loop, UV_RUN_DEFAULT); /* pending closes and removals */
    int rc = uv_loop_close (&loop);
    jobdir_remove_tree (tmp);
    return rc;
}

static void
run_until_ended (struct attempt *a, int timeout_ms)
{
    int64_t end = yard_mono_ms () + timeout_ms;
    while (a->state != ATTEMPT_ENDED && yard_mono_ms () < end) {
        uv_run (&loop, UV_RUN_NOWAIT);
        usleep (2000);
    }
    assert_int_equal (a->state, ATTEMPT_ENDED);
}

static void
destroy (struct attempt **a)
{
    attempt_destroy (a);
    assert_null (*a);
    uv_run (&loop, UV_RUN_DEFAULT);
}

static char *
read_log (const struct attempt *a)
{
    static char buf[65536];
    char p[PATH_MAX + 16];
    snprintf (p, sizeof p, "%s/" JOBDIR_LOG, a->dir);
    int fd = open (p, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* A spec running sh -c script. */
static Yard__JobSpec *
sh_spec (Yard__JobSpec *spec, char **argv, const char *script)
{
    yard__job_spec__init (spec);
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = (char *)script;
    spec->argv = argv;
    spec->n_argv = 3;
    spec->name = "test";
    return spec;
}

static struct attempt *
start (uint64_t id, uint32_t num, Yard__JobSpec *spec, int want)
{
    struct attempt *a = attempt_create (&host, id, num);
    assert_non_null (a);
    int rc = attempt_start (a, spec);
    if (want == 0)
        assert_int_equal (rc, 0);
    else
        assert_true (rc < 0);
    return a;
}

static void
test_exit_status (void **state)
{
    (void)state;
    Yard__JobSpec spec;
    char *argv[3];
    sh_spec (&spec, argv, "echo out; echo err >&2; echo more; exit 3");
    struct attempt *a = start (1, 1, &spec, 0);
    assert_int_equal (a->state, ATTEMPT_RUNNING);
    assert_true (a->pid > 0);
    char want[32];
    snprintf (want, sizeof want, "%d\n", a->pid);
    char p[PATH_MAX + 16];
    snprintf (p, sizeof p, "%s/%s", a->dir, JOBDIR_PID);
    struct jobdir_started s;
    assert_int_equal (jobdir_started_read (a->dir, &s), 0);
    assert_int_equal (s.pid, a->pid);
    run_until_ended (a, 5000);
    assert_int_equal (exits, 1);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (a->result.exit_code, 3);
    assert_int_equal (a->result.term_signal, 0);
    /* the scheduler words a plain exit itself: no message needed */
    assert_string_equal (a->result.message, "");
    assert_true (a->result.start_time_ms > 0);
    assert_true (a->result.end_time_ms >= a->result.start_time_ms);
    /* stdout and stderr interleaved in one file, in order */
    assert_string_equal (read_log (a), "out\nerr\nmore\n");
    assert_int_equal (a->result.log_size, 13);
    assert_int_equal (attempt_log_size (a), 13);
    char buf[16];
    assert_int_equal (attempt_log_read (a, 4, buf, 4), 4);
    assert_memory_equal (buf, "err\n", 4);
    assert_int_equal (attempt_log_read (a, 13, buf, 4), 0);
    /* persisted: a worker crash now loses nothing */
    struct jobdir_result r;
    assert_int_equal (jobdir_result_read (a->dir, 1, 1, &r), 0);
    assert_int_equal (r.reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (r.exit_code, 3);
    assert_int_equal (r.log_size, 13);
    /* and a restarted worker finds it as it was */
    struct attempt *b = attempt_create (&host, 1, 1);
    assert_int_equal (attempt_recover (b, a->dir), 0);
    assert_int_equal (b->state, ATTEMPT_ENDED);
    assert_int_equal (b->result.exit_code, 3);
    assert_int_equal (attempt_log_size (b), 13);
    assert_int_equal (attempt_log_read (b, 0, buf, 3), 3);
    assert_memory_equal (buf, "out", 3);
    destroy (&b);
    /* removal: renamed away at once, removed on the thread pool */
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s", a->dir);
    assert_int_equal (attempt_remove_dir (a), 0);
    struct stat st;
    assert_int_equal (stat (dir, &st), -1);
    destroy (&a);
    attempt_destroy (NULL);
}

static void
test_job_sees (void **state)
{
    (void)state;
    Yard__JobSpec spec;
    char *argv[3];
    /* the job leads its own session and group, reads /dev/null, and gets
     * default signal dispositions whatever the worker's are */
    sh_spec (&spec, argv,
             "read -r pid comm st ppid pgrp sid rest < /proc/$$/stat; "
             "echo pgrp=$((pgrp == $$)) sid=$((sid == $$)); "
             "if read -r x; then echo stdin=data; else echo stdin=eof; fi; "
             "grep SigIgn /proc/$$/status; "
             "echo id=$YARD_JOB_ID.$YARD_ATTEMPT node=$YARD_NODE "
             "name=$YARD_JOB_NAME; echo dir=$YARD_JOB_DIR; "
             "echo ckpt=$YARD_CHECKPOINT_DIR resume=${YARD_RESUME-unset}; "
             "echo omp=$OMP_NUM_THREADS cuda=[${CUDA_VISIBLE_DEVICES-unset}]; "
             "echo mine=$MINE; echo cwd=$(pwd)");
    Yard__EnvVar v = YARD__ENV_VAR__INIT, *vp[1] = { &v };
    v.key = "MINE";
    v.value = "spec value";
    spec.env = vp;
    spec.n_env = 1;
    spec.cpus = 3;
    signal (SIGPIPE, SIG_IGN);
    struct attempt *a = start (7, 2, &spec, 0);
    run_until_ended (a, 5000);
    signal (SIGPIPE, SIG_DFL);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_EXITED);
    assert_int_equal (a->result.exit_code, 0);
    const char *log = read_log (a);
    char want[PATH_MAX * 3];
    snprintf (want, sizeof want,
              "pgrp=1 sid=1\nstdin=eof\nSigIgn:\t0000000000000000\n"
              "id=7.2 node=w1 name=test\ndir=%s\n"
              "ckpt=%s/7 resume=unset\nomp=3 cuda=[]\nmine=spec value\n"
              "cwd=%s\n",
              a->dir, ckpt_root, a->dir);
    assert_string_equal (log, want);
    destroy (&a);

    /* next attempt, with a checkpoint saved (and one being written) */
    char p[PATH_MAX];
    snprintf (p, sizeof p, "%s/7/step-10", ckpt_root);
    assert_int_equal (yard_mkdir_p (p), 0);
    snprintf (p, sizeof p, "%s/7/step-20.tmp", ckpt_root);
    assert_int_equal (yard_mkdir_p (p), 0);
    sh_spec (&spec, argv, "echo $YARD_RESUME $YARD_LATEST_CHECKPOINT");
    a = start (7, 3, &spec, 0);
    run_until_ended (a, 5000);
    snprintf (want, sizeof want, "1 %s/7/step-10\n", ckpt_root);
    assert_string_equal (read_log (a), want);
    destroy (&a);
}

static void
test_workdir (void **state)
{
    (void)state;
    Yard__JobSpec spec;
    char *argv[3];
    sh_spec (&spec, argv, "pwd");
    spec.workdir = tmp;
    struct attempt *a = start (8, 1, &spec, 0);
    run_until_ended (a, 5000);
    char want[256];
    snprintf (want, sizeof want, "%s\n", tmp);
    assert_string_equal (read_log (a), want);
    destroy (&a);

    spec.workdir = "/nonexistent/yard/wd";
    a = start (8, 2, &spec, -1);
    assert_int_equal (a->state, ATTEMPT_ENDED);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_SPAWN_FAILED);
    assert_string_equal (a->result.message,
                         "workdir /nonexistent/yard/wd does not exist on "
                         "node w1");
    assert_non_null (strstr (read_log (a), "yard-worker: workdir "
                                           "/nonexistent/yard/wd does not"));
    assert_int_equal (exits, 1); /* no exit callback for a refusal */
    destroy (&a);
}

static void
test_signaled (void **state)
{
    (void)state;
    Yard__JobSpec spec;
    char *argv[3];
    sh_spec (&spec, argv, "kill -KILL $$");
    struct attempt *a = start (2, 1, &spec, 0);
    run_until_ended (a, 5000);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_SIGNALED);
    assert_int_equal (a->result.term_signal, SIGKILL);
    assert_string_equal (a->result.message, "");
    destroy (&a);
}

static void
test_time_limit (void **state)
{
    (void)state;
    Yard__JobSpec spec;
    char *argv[3];
    /* exits on SIGTERM */
    sh_spec (&spec, argv, "echo started; exec sleep 30");
    spec.time_limit_s = 1;
    struct attempt *a = start (3, 1, &spec, 0);
    int64_t t0 = yard_mono_ms ();
    run_until_ended (a, 5000);
    assert_true (yard_mono_ms () - t0 >= 900);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_TIMEOUT);
    assert_int_equal (a->result.term_signal, SIGTERM);
    assert_string_equal (a->result.message, "");
    assert_non_null (strstr (read_log (a), "started\nyard-worker: time limit "
                                           "of 1s reached: sending SIGTERM"));
    destroy (&a);

    /* ignores SIGTERM: SIGKILL after the grace period */
    sh_spec (&spec, argv,
             "trap '' TERM; echo started; sleep 30 & wait; "
             "sleep 30");
    spec.time_limit_s = 1;
    spec.grace_s = 1;
    a = start (3, 2, &spec, 0);
    t0 = yard_mono_ms ();
    run_until_ended (a, 6000);
    assert_true (yard_mono_ms () - t0 >= 1900);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_TIMEOUT);
    assert_int_equal (a->result.term_signal, SIGKILL);
    assert_non_null (strstr (read_log (a), "grace period over"));
    destroy (&a);
}

/* state letter of pid, or 0 when it is gone */
static char
proc_state (int pid)
{
    char p[64], buf[512];
    snprintf (p, sizeof p, "/proc/%d/stat", pid);
    int fd = open (p, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    buf[n > 0 ? n : 0] = '\0';
    char *r = strrchr (buf, ')');
    return r && r[1] ? r[2] : 0;
}

static void
test_kill_and_stragglers (void **state)
{
    (void)state;
    Yard__JobSpec spec;
    char *argv[3];
    /* orphans reparent to us, so that we can see and reap them */
    assert_int_equal (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);

    sh_spec (&spec, argv, "sleep 30 & sleep 30 & echo up; wait");
    struct attempt *a = start (4, 1, &spec, 0);
    while (!strstr (read_log (a), "up"))
        usleep (2000);
    attempt_kill (a, YARD__END_REASON__END_CANCELLED, 5);
    /* idempotent: the first reason stays */
    attempt_kill (a, YARD__END_REASON__END_STALE, 0);
    run_until_ended (a, 4000);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_CANCELLED);
    assert_int_equal (a->result.term_signal, SIGTERM);
    assert_string_equal (a->result.message, "");
    /* a kill of an ended attempt changes nothing */
    attempt_kill (a, YARD__END_REASON__END_STALE, 0);
    attempt_kill_now (a, YARD__END_REASON__END_STALE);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_CANCELLED);
    destroy (&a);

    /* the leader exits, a child that ignores SIGTERM stays behind */
    sh_spec (&spec, argv, "(trap '' TERM; exec sleep 30) & echo $!; exit 0");
    a = start (4, 2, &spec, 0);
    run_until_ended (a, 4000);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_EXITED);
    int straggler = atoi (read_log (a));
    assert_true (straggler > 0);
    int64_t end = yard_mono_ms () + 3000;
    while (proc_state (straggler) != 'Z' && proc_state (straggler) != 0
           && yard_mono_ms () < end)
        usleep (5000);
    char st = proc_state (straggler);
    assert_true (st == 'Z' || st == 0);
    waitpid (straggler, NULL, WNOHANG);
    destroy (&a);

    /* kill_now: SIGKILL at once */
    sh_spec (&spec, argv, "trap '' TERM; echo up; sleep 30");
    a = start (4, 3, &spec, 0);
    while (!strstr (read_log (a), "up"))
        usleep (2000);
    attempt_kill (a, YARD__END_REASON__END_LOST, 60);
    attempt_kill_now (a, YARD__END_REASON__END_STALE);
    run_until_ended (a, 3000);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_LOST);
    assert_int_equal (a->result.term_signal, SIGKILL);
    assert_string_equal (a->result.message, "worker shut down");
    destroy (&a);
    prctl (PR_SET_CHILD_SUBREAPER, 0);
    while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
}

static void
test_spawn_failures (void **state)
{
    (void)state;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    char *argv[2] = { "no-such-command-yard", NULL };
    spec.argv = argv;
    spec.n_argv = 1;
    struct attempt *a = start (5, 1, &spec, -1);
    assert_int_equal (a->state, ATTEMPT_ENDED);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_SPAWN_FAILED);
    assert_int_equal (a->result.exit_code, 127);
    assert_non_null (strstr (a->result.message,
                             "command "
                             "'no-such-command-yard' not found on node w1: "));
    const char *log = read_log (a);
    assert_non_null (strstr (log, "yard-worker: command "
                                  "'no-such-command-yard' not found"));
    assert_non_null (strstr (a->result.message, "in the job's PATH"));
    assert_non_null (strstr (log, "\nyard-worker: the job's PATH was "));
    assert_int_equal (a->result.log_size, strlen (log));
    struct jobdir_result r;
    assert_int_equal (jobdir_result_read (a->dir, 5, 1, &r), 0);
    assert_int_equal (r.reason, YARD__END_REASON__END_SPAWN_FAILED);
    destroy (&a);

    /* found but not executable */
    char path[256];
    snprintf (path, sizeof path, "%s/notexec", tmp);
    int fd = open (path, O_WRONLY | O_CREAT, 0600);
    assert_true (fd >= 0);
    close (fd);
    argv[0] = path;
    a = start (5, 2, &spec, -1);
    assert_int_equal (a->result.exit_code, 126);
    assert_non_null (strstr (a->result.message, "cannot be executed"));
    destroy (&a);

    /* a script whose interpreter is missing: not "command not found" */
    snprintf (path, sizeof path, "%s/script", tmp);
    fd = open (path, O_WRONLY | O_CREAT, 0700);
    assert_int_equal (write (fd, "#!/nonexistent/python\n", 22), 22);
    close (fd);
    a = start (5, 3, &spec, -1);
    assert_int_equal (a->result.exit_code, 127);
    assert_non_null (strstr (a->result.message, "interpreter"));
    destroy (&a);

    /* invalid specs are refused, never crash */
    spec.n_argv = 0;
    a = start (5, 4, &spec, -1);
    assert_non_null (strstr (a->result.message, "empty command"));
    destroy (&a);
    argv[0] = "";
    spec.n_argv = 1;
    a = start (5, 5, &spec, -1);
    assert_non_null (strstr (a->result.message, "empty command"));
    destroy (&a);
    a = start (5, 6, NULL, -1);
    assert_string_equal (a->result.message, "the dispatch has no job spec");
    assert_int_equal (a->result.reason, YARD__END_REASON__END_SPAWN_FAILED);
    destroy (&a);
    Yard__EnvVar v = YARD__ENV_VAR__INIT, *vp[1] = { &v };
    v.key = "A=B";
    argv[0] = "true";
    spec.env = vp;
    spec.n_env = 1;
    a = start (5, 7, &spec, -1);
    assert_non_null (strstr (a->result.message, "A=B"));
    destroy (&a);
    assert_int_equal (exits, 0);
}

static void
test_refuse_and_unwritable (void **state)
{
    (void)state;
    struct attempt *a = attempt_create (&host, 6, 1);
    attempt_refuse (a, YARD__END_REASON__END_LOST, 0,
                    "not started: worker w1 is shutting down");
    assert_int_equal (a->state, ATTEMPT_ENDED);
    assert_int_equal (a->result.reason, YARD__END_REASON__END_LOST);
    assert_int_equal (attempt_log_size (a), 0); /* no dir was made */
    destroy (&a);

    /* a jobs root that cannot be written: refused, in memory only */
    if (geteuid () != 0) {
        assert_int_equal (chmod (jobs_root, 0500), 0);
        Yard__JobSpec spec;
        char *argv[3];
        sh_spec (&spec, argv, "true");
        a = start (6, 2, &spec, -1);
        assert_int_equal (a->result.reason,
                          YARD__END_REASON__END_SPAWN_FAILED);
        assert_non_null (strstr (a->result.message, "cannot create the job "
                                                    "dir"));
        destroy (&a);
        chmod (jobs_root, 0700);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_exit_status, setup, teardown),
        cmocka_unit_test_setup_teardown (test_job_sees, setup, teardown),
        cmocka_unit_test_setup_teardown (test_workdir, setup, teardown),
        cmocka_unit_test_setup_teardown (test_signaled, setup, teardown),
        cmocka_unit_test_setup_teardown (test_time_limit, setup, teardown),
        cmocka_unit_test_setup_teardown (test_kill_and_stragglers, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_spawn_failures, setup, teardown),
        cmocka_unit_test_setup_teardown (test_refuse_and_unwritable, setup,
                                         teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
