/* test_worker_usage.c - reading resource use: the cgroup v1 and v2 files
 * (fixture dirs), the shim's rusage file, a /proc sample (a fixture /proc
 * and this process's own group), merging, the wire round trip, NVML
 * through a fake library (absent NVML: fields unset, no error), and the
 * yard-exec shim's --rusage (exit status and signals passed through). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind.h"
#include "jobdir.h"
#include "nvml.h"
#include "usage.h"
#include "tmpdir_fixture.h"

TMPDIR_FIXTURE ("usage")

static void
put (const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void
sub (char *buf, size_t len, const char *name)
{
    snprintf (buf, len, "%s/%s", tmp, name);
    assert_int_equal (mkdir (buf, 0700), 0);
}

static void
test_parsers (void **state)
{
    (void)state;
    uint64_t u = 0, s = 0, v = 0;
    assert_int_equal (usage_parse_cpu_stat ("usage_usec 5000\nuser_usec 3000"
                                            "\nsystem_usec 2000\n", &u, &s),
                      0);
    assert_int_equal (u, 3000);
    assert_int_equal (s, 2000);
    assert_int_equal (usage_parse_cpu_stat ("usage_usec 5\n", &u, &s),
                      -EINVAL);
    assert_int_equal (usage_parse_cpu_stat ("user_usec x\nsystem_usec 1\n",
                                            &u, &s),
                      -EINVAL);
    assert_int_equal (usage_parse_cpu_stat (NULL, &u, &s), -EINVAL);
    assert_int_equal (usage_parse_u64 ("104857600\n", &v), 0);
    assert_int_equal (v, 104857600);
    assert_int_equal (usage_parse_u64 ("max\n", &v), -EINVAL);
    assert_int_equal (usage_parse_u64 ("12 34\n", &v), -EINVAL);
    assert_int_equal (usage_parse_u64 ("", &v), -EINVAL);
}

static void
test_cgroup_v2 (void **state)
{
    (void)state;
    char dir[256];
    struct usage u;
    sub (dir, sizeof dir, "v2");
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_read_cgroup_v2 (dir, &u), -ENOENT);
    assert_false (u.has_cpu || u.has_rss);
    put (dir, "cpu.stat", "usage_usec 350000\nuser_usec 300000\n"
                          "system_usec 50000\nnr_periods 0\n");
    put (dir, "memory.current", "4096\n");
    assert_int_equal (usage_read_cgroup_v2 (dir, &u), 0);
    assert_true (u.has_cpu && u.has_rss);
    assert_int_equal (u.cpu_user_us, 300000);
    assert_int_equal (u.cpu_system_us, 50000);
    assert_int_equal (u.rss_bytes, 4096);
    assert_int_equal (u.peak_rss_bytes, 4096); /* no memory.peak: current */
    assert_string_equal (u.source, "cgroup-v2");
    put (dir, "memory.peak", "104857600\n");
    assert_int_equal (usage_read_cgroup_v2 (dir, &u), 0);
    assert_int_equal (u.peak_rss_bytes, 104857600);
    assert_int_equal (usage_read_cgroup_v2 ("", &u), -ENOENT);
}

static void
test_cgroup_v1 (void **state)
{
    (void)state;
    char cpu[256], mem[256];
    struct usage u;
    sub (cpu, sizeof cpu, "cpuacct");
    sub (mem, sizeof mem, "memory");
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_read_cgroup_v1 (cpu, mem, &u), -ENOENT);
    put (cpu, "cpuacct.usage_user", "250000000\n"); /* ns */
    put (cpu, "cpuacct.usage_sys", "50000000\n");
    put (mem, "memory.usage_in_bytes", "1048576\n");
    put (mem, "memory.max_usage_in_bytes", "99614720\n");
    assert_int_equal (usage_read_cgroup_v1 (cpu, mem, &u), 0);
    assert_true (u.has_cpu && u.has_rss);
    assert_int_equal (u.cpu_user_us, 250000);
    assert_int_equal (u.cpu_system_us, 50000);
    assert_int_equal (u.rss_bytes, 1048576);
    assert_int_equal (u.peak_rss_bytes, 99614720);
    assert_string_equal (u.source, "cgroup-v1");
    /* memory alone (no cpuacct group) */
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_read_cgroup_v1 (NULL, mem, &u), 0);
    assert_false (u.has_cpu);
    assert_true (u.has_rss);
    /* a malformed file is not a figure */
    put (cpu, "cpuacct.usage_user", "garbage\n");
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_read_cgroup_v1 (cpu, NULL, &u), -ENOENT);
}

static void
test_rusage_file (void **state)
{
    (void)state;
    char path[256];
    struct usage u;
    struct rusage ru;
    memset (&ru, 0, sizeof ru);
    ru.ru_utime.tv_sec = 1;
    ru.ru_utime.tv_usec = 250000;
    ru.ru_stime.tv_usec = 5000;
    ru.ru_maxrss = 102400; /* KiB */
    snprintf (path, sizeof path, "%s/usage", tmp);
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_read_rusage (path, &u), -ENOENT);
    assert_int_equal (usage_write_rusage (path, &ru), 0);
    assert_int_equal (usage_read_rusage (path, &u), 0);
    assert_int_equal (u.cpu_user_us, 1250000);
    assert_int_equal (u.cpu_system_us, 5000);
    assert_int_equal (u.peak_rss_bytes, 102400ULL * 1024);
    assert_string_equal (u.source, "rusage");
    put (tmp, "usage", "1 2\n");
    assert_int_equal (usage_read_rusage (path, &u), -EINVAL);
    put (tmp, "usage", "1 2 3 4\n");
    assert_int_equal (usage_read_rusage (path, &u), -EINVAL);
}

static void
test_proc_fixture (void **state)
{
    (void)state;
    char root[256], d[300];
    sub (root, sizeof root, "proc");
    /* the leader 500 (group 500) with reaped children, a member 501 whose
     * name holds ") (", and 600 of another group */
    snprintf (d, sizeof d, "%s/500", root);
    mkdir (d, 0700);
    put (d, "stat", "500 (python3) S 1 500 500 0 -1 0 0 0 0 0 "
                    "100 20 30 5 20 0 1 0 100 1000000 256 0 0\n");
    snprintf (d, sizeof d, "%s/501", root);
    mkdir (d, 0700);
    put (d, "stat", "501 (a) (b) R 500 500 500 0 -1 0 0 0 0 0 "
                    "50 10 0 0 20 0 1 0 100 1000000 1024 0 0\n");
    snprintf (d, sizeof d, "%s/600", root);
    mkdir (d, 0700);
    put (d, "stat", "600 (x) S 1 600 600 0 -1 0 0 0 0 0 "
                    "999 999 0 0 20 0 1 0 100 1000000 9999 0 0\n");
    snprintf (d, sizeof d, "%s/self", root);
    mkdir (d, 0700);
    struct usage u;
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_proc_sample (root, 500, &u), 0);
    long hz = sysconf (_SC_CLK_TCK);
    long page = sysconf (_SC_PAGESIZE);
    /* 100+20+30+5 for the leader, 50+10 for the member */
    assert_int_equal (u.cpu_user_us, (uint64_t)215 * 1000000 / (uint64_t)hz);
    assert_int_equal (u.rss_bytes, (uint64_t)(256 + 1024) * (uint64_t)page);
    assert_int_equal (u.peak_rss_bytes, u.rss_bytes);
    assert_string_equal (u.source, "proc");
    /* a later, smaller sample keeps the peak */
    u.peak_rss_bytes = u.rss_bytes * 2;
    assert_int_equal (usage_proc_sample (root, 500, &u), 0);
    assert_int_equal (u.peak_rss_bytes, 2 * (256 + 1024) * (uint64_t)page);
    assert_int_equal (usage_proc_sample (root, 777, &u), -ESRCH);
    /* several groups in one pass: 500 and 600 found, 777 not */
    struct usage a, b, c;
    memset (&a, 0, sizeof a);
    memset (&b, 0, sizeof b);
    memset (&c, 0, sizeof c);
    int pg[] = { 500, 777, 600 };
    struct usage *outs[] = { &a, &c, &b };
    assert_int_equal (usage_proc_scan (root, pg, outs, 3), 2);
    assert_int_equal (a.rss_bytes, (uint64_t)(256 + 1024) * (uint64_t)page);
    assert_int_equal (b.cpu_user_us, (uint64_t)1998 * 1000000 / (uint64_t)hz);
    assert_false (c.has_cpu || c.has_rss);
    assert_int_equal (usage_proc_scan ("/nonexistent", pg, outs, 3), -ENOENT);
    /* the real /proc: this test's own process group */
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_proc_sample ("/proc", (int)getpgrp (), &u), 0);
    assert_true (u.rss_bytes > 0);
}

static void
test_merge_and_proto (void **state)
{
    (void)state;
    struct usage a, b, c;
    memset (&a, 0, sizeof a);
    memset (&b, 0, sizeof b);
    a.has_rss = true;
    a.peak_rss_bytes = 100;
    snprintf (a.source, sizeof a.source, "cgroup-v1");
    b.has_cpu = true;
    b.cpu_user_us = 7;
    b.has_rss = true;
    b.peak_rss_bytes = 300;
    b.has_gpu = true;
    b.gpu_peak_memory_bytes = 5;
    snprintf (b.source, sizeof b.source, "rusage");
    usage_merge (&a, &b);
    assert_true (a.has_cpu && a.has_gpu);
    assert_int_equal (a.cpu_user_us, 7);
    assert_int_equal (a.peak_rss_bytes, 300);
    assert_string_equal (a.source, "cgroup-v1");
    Yard__ResourceUse m;
    memset (&c, 0, sizeof c);
    assert_false (usage_to_proto (&c, &m)); /* nothing measured */
    a.final = true;
    assert_true (usage_to_proto (&a, &m));
    usage_from_proto (&m, &c);
    assert_memory_equal (&a, &c, sizeof a);
    usage_from_proto (NULL, &c);
    assert_false (c.has_cpu);
}

static void
test_nvml (void **state)
{
    (void)state;
    struct usage u;
    memset (&u, 0, sizeof u);
    /* no such library: not an error, nothing set */
    setenv ("YARD_NVML", "/nonexistent/libnvidia-ml.so.1", 1);
    assert_int_equal (nvml_sample ("GPU-fake-0", &u), -ENOTSUP);
    assert_false (u.has_gpu);
    nvml_fini ();
    setenv ("YARD_NVML", FAKE_NVML, 1);
    assert_int_equal (nvml_sample ("", &u), -ENODEV);
    assert_int_equal (nvml_sample ("GPU-other", &u), -ENODEV);
    assert_int_equal (nvml_sample ("GPU-fake-0,GPU-fake-1", &u), 0);
    assert_true (u.has_gpu);
    assert_int_equal (u.gpu_util_pct, 60);
    assert_int_equal (u.gpu_memory_bytes, 4ULL << 30);
    assert_int_equal (u.gpu_peak_memory_bytes, 4ULL << 30);
    assert_int_equal (nvml_sample ("GPU-fake-0", &u), 0);
    assert_int_equal (u.gpu_memory_bytes, 1ULL << 30);
    assert_int_equal (u.gpu_peak_memory_bytes, 4ULL << 30);
    nvml_fini ();
    nvml_fini ();
}

/* The shim with --rusage, in a child: its wait status. */
static int
run_shim (const char *usage_path, const char *script)
{
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        char *argv[] = { "yard-exec", "--rusage", (char *)usage_path, "--",
                         "/bin/sh", "-c", (char *)script, NULL };
        _exit (bind_shim_main (7, argv));
    }
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    return status;
}

static void
test_shim_rusage (void **state)
{
    (void)state;
    char path[256];
    struct usage u;
    snprintf (path, sizeof path, "%s/usage", tmp);
    /* the job's exit status passes through, and its rusage is written */
    int st = run_shim (path, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); "
                             "done; exit 3");
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 3);
    memset (&u, 0, sizeof u);
    assert_int_equal (usage_read_rusage (path, &u), 0);
    assert_true (u.has_cpu && u.has_rss);
    assert_true (u.cpu_user_us + u.cpu_system_us > 0);
    assert_true (u.peak_rss_bytes > 0);
    /* a job killed by a signal: the shim ends by the same signal */
    unlink (path);
    st = run_shim (path, "kill -USR2 $$; sleep 5");
    assert_true (WIFSIGNALED (st));
    assert_int_equal (WTERMSIG (st), SIGUSR2);
    assert_int_equal (usage_read_rusage (path, &u), 0);
    /* a signal to the whole group reaches the job, not the shim: the shim
     * reports the job's own end (here: it traps TERM and exits 143) */
    unlink (path);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        setpgid (0, 0);
        char *argv[] = { "yard-exec", "--rusage", path, "--", "/bin/sh",
                         "-c", "trap 'exit 143' TERM; kill -TERM 0; "
                               "sleep 5 & wait",
                         NULL };
        _exit (bind_shim_main (7, argv));
    }
    assert_int_equal (waitpid (pid, &st, 0), pid);
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 143);
    assert_int_equal (usage_read_rusage (path, &u), 0);
    /* a command that cannot run: 127, as without --rusage */
    char *argv[] = { "yard-exec", "--rusage", path, "--",
                     "/nonexistent/cmd", NULL };
    pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0)
        _exit (bind_shim_main (5, argv));
    assert_int_equal (waitpid (pid, &st, 0), pid);
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 127);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parsers),
        cmocka_unit_test_setup_teardown (test_cgroup_v2, setup, teardown),
        cmocka_unit_test_setup_teardown (test_cgroup_v1, setup, teardown),
        cmocka_unit_test_setup_teardown (test_rusage_file, setup, teardown),
        cmocka_unit_test_setup_teardown (test_proc_fixture, setup, teardown),
        cmocka_unit_test (test_merge_and_proto),
        cmocka_unit_test (test_nvml),
        cmocka_unit_test_setup_teardown (test_shim_rusage, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
