/* test_worker_bind.c - which cgroup hierarchy the worker finds at start
 * (worker/bind.c bind_init): v2 where the root has cgroup.controllers, v1
 * where it has per-controller folders, none where nothing is writable or
 * YARD_CGROUP_ROOT=none.  bind_init runs once per process, so each case
 * runs in a child of its own, on a fake hierarchy in a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind.h"

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
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
