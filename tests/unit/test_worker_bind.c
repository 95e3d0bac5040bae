/* test_worker_bind.c - which cgroup hierarchy the worker finds at start
 * (worker/bind.c bind_init): v2 where the root has cgroup.controllers, v1
 * where it has per-controller folders, none where nothing is writable or
 * YARD_CGROUP_ROOT=none; and the pool of idle groups that attempts reuse.
 * bind_init runs once per process, so each case runs in a child of its
 * own, on a fake hierarchy in a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind.h"
#include "usage.h"

/* bind_init in a child with YARD_CGROUP_ROOT=root; the mode it found. */
static void
mode_for (const char *root, char *mode, size_t len)
{
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (fds[0]);
        setenv ("YARD_CGROUP_ROOT", root, 1);
        bind_init ();
        const char *m = bind_cgroup_mode ();
        ssize_t w = write (fds[1], m, strlen (m));
        bind_fini ();
        _exit (w == (ssize_t)strlen (m) ? 0 : 1);
    }
    close (fds[1]);
    ssize_t n = read (fds[0], mode, len - 1);
    close (fds[0]);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    assert_true (n > 0);
    mode[n] = '\0';
}

static void
make_dir (const char *root, const char *name)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", root, name);
    assert_int_equal (mkdir (path, 0755), 0);
}

static void
make_file (const char *root, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static char *
temp_root (void)
{
    const char *tmp = getenv ("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf (tmpl, sizeof tmpl, "%s/yard-bind-XXXXXX",
              tmp && *tmp ? tmp : "/tmp");
    char *root = strdup (tmpl);
    assert_non_null (root);
    assert_non_null (mkdtemp (root));
    return root;
}

static int
remove_one (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (path);
}

static void
remove_tree (const char *root)
{
    assert_int_equal (nftw (root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void
test_v2 (void **state)
{
    (void)state;
    char *root = temp_root ();
    make_file (root, "cgroup.controllers", "cpuset cpu io memory pids\n");
    char mode[16];
    mode_for (root, mode, sizeof mode);
    assert_string_equal (mode, "v2");
    /* the worker's own group went away with it; the yard folder stays */
    char path[PATH_MAX];
    struct stat st;
    snprintf (path, sizeof path, "%s/yard", root);
    assert_int_equal (stat (path, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    remove_tree (root);
    free (root);
}

static void
test_v1 (void **state)
{
    (void)state;
    char *root = temp_root ();
    make_dir (root, "memory");
    make_dir (root, "cpuacct");
    char mode[16];
    mode_for (root, mode, sizeof mode);
    assert_string_equal (mode, "v1");
    remove_tree (root);
    free (root);
}

/* In the child of test_pool: the line of the first check that failed. */
#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf (stderr, "check failed at line %d: %s\n", __LINE__,   \
                     #c);                                                 \
            _exit (1);                                                    \
        }                                                                 \
    } while (0)

static void
put (const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    CHECK (f != NULL);
    fputs (text, f);
    CHECK (fclose (f) == 0);
}

/* The pool of idle groups on a fake v2 tree whose worker group enables
 * cpuset and memory: a group given back empty is the next attempt's, its
 * CPU time and OOM kills counted from where they stood when taken; one
 * something outlived is killed and not reused. */
static void
pool_child (const char *root)
{
    char wdir[PATH_MAX], slot1[PATH_MAX + 16], slot2[PATH_MAX + 16];
    snprintf (wdir, sizeof wdir, "%s/yard", root);
    CHECK (mkdir (wdir, 0755) == 0);
    snprintf (wdir, sizeof wdir, "%s/yard/w-%ld", root, (long)getpid ());
    CHECK (mkdir (wdir, 0755) == 0);
    put (wdir, "cgroup.subtree_control", "cpuset memory\n");
    snprintf (slot1, sizeof slot1, "%s/slot-1", wdir);
    snprintf (slot2, sizeof slot2, "%s/slot-2", wdir);
    setenv ("YARD_CGROUP_ROOT", root, 1);
    bind_init ();
    CHECK (strcmp (bind_cgroup_mode (), "v2") == 0);

    const char *dirs[3];
    struct bind *b = bind_create (7, 1, NULL, 0);
    CHECK (b && bind_cgroup_dirs (b, dirs) == 1);
    CHECK (strcmp (dirs[0], slot1) == 0);
    put (slot1, "cpu.stat", "usage_usec 150\nuser_usec 100\nsystem_usec 50\n");
    put (slot1, "memory.current", "4096\n");
    put (slot1, "memory.peak", "999999\n");
    put (slot1, "memory.events", "oom 1\noom_kill 1\n");
    bind_destroy (&b);
    CHECK (b == NULL);

    /* the same group again, counted from here */
    b = bind_create (8, 1, NULL, 1 << 20);
    CHECK (b && bind_cgroup_dirs (b, dirs) == 1);
    CHECK (strcmp (dirs[0], slot1) == 0);
    put (slot1, "cpu.stat", "usage_usec 470\nuser_usec 400\nsystem_usec 70\n");
    struct usage u;
    memset (&u, 0, sizeof u);
    u.peak_rss_bytes = 2048;
    CHECK (bind_usage (b, &u) == 0);
    CHECK (u.has_cpu && u.cpu_user_us == 300 && u.cpu_system_us == 20);
    /* memory.peak counts the earlier job (and cannot be reset here): the
     * highest sample instead */
    CHECK (u.has_rss && u.peak_rss_bytes == 4096);
    char msg[128];
    CHECK (!bind_oom (b, msg, sizeof msg));
    put (slot1, "memory.events", "oom 2\noom_kill 2\n");
    CHECK (bind_oom (b, msg, sizeof msg));

    /* something outlived the job: killed, and the group not reused */
    pid_t stray = fork ();
    CHECK (stray >= 0);
    if (stray == 0) {
        pause ();
        _exit (0);
    }
    char pids[32];
    snprintf (pids, sizeof pids, "%ld\n", (long)stray);
    put (slot1, "cgroup.procs", pids);
    bind_destroy (&b);
    int status = 0;
    CHECK (waitpid (stray, &status, 0) == stray);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    b = bind_create (9, 1, NULL, 0);
    CHECK (b && bind_cgroup_dirs (b, dirs) == 1);
    CHECK (strcmp (dirs[0], slot2) == 0);
    bind_destroy (&b);
    bind_fini ();
    /* the idle group went with the worker's */
    struct stat st;
    CHECK (stat (slot2, &st) < 0 && errno == ENOENT);
    _exit (0);
}

static void
test_pool (void **state)
{
    (void)state;
    char *root = temp_root ();
    make_file (root, "cgroup.controllers", "cpuset cpu io memory pids\n");
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0)
        pool_child (root);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    remove_tree (root);
    free (root);
}

static void
test_none (void **state)
{
    (void)state;
    char *root = temp_root ();
    char mode[16], missing[PATH_MAX];
    /* no hierarchy at all under it */
    snprintf (missing, sizeof missing, "%s/absent", root);
    mode_for (missing, mode, sizeof mode);
    assert_string_equal (mode, "none");
    /* a root with neither cgroup.controllers nor controller folders */
    mode_for (root, mode, sizeof mode);
    assert_string_equal (mode, "none");
    mode_for ("none", mode, sizeof mode);
    assert_string_equal (mode, "none");
    remove_tree (root);
    free (root);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_v2),
        cmocka_unit_test (test_v1),
        cmocka_unit_test (test_none),
        cmocka_unit_test (test_pool),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
