/* test_worker_dirpool.c - spare attempt dirs (worker/dirpool.c): a dir
 * given is renamed away at once and readied off the loop, the next
 * attempt takes it under its own name with the same files, the pool
 * holds at most its size, and what it holds is trash to the next start's
 * scan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "dirpool.h"
#include "jobdir.h"
#include "tmpdir_fixture.h"

TMPDIR_FIXTURE ("dirpool")

/* An attempt dir name under tmp with a log holding text. */
static void
attempt_dir (char *buf, size_t len, const char *name, const char *text)
{
    char p[PATH_MAX + 32];
    snprintf (buf, len, "%s/%s", tmp, name);
    assert_int_equal (mkdir (buf, 0700), 0);
    snprintf (p, sizeof p, "%s/" JOBDIR_LOG, buf);
    int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
}

static void
scan_cb (const char *dir, uint64_t job_id, uint32_t attempt, void *arg)
{
    (void)dir;
    (void)job_id;
    (void)attempt;
    (*(int *)arg)++;
}

static void
test_give_take (void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal (uv_loop_init (&loop), 0);
    struct dirpool *p = dirpool_create (&loop, tmp, 2);
    assert_non_null (p);
    char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], n[PATH_MAX], q[PATH_MAX + 32];
    struct stat st;
    attempt_dir (a, sizeof a, "1.1", "one\n");
    attempt_dir (b, sizeof b, "2.1", "two\n");
    attempt_dir (c, sizeof c, "3.1", "three\n");
    ino_t ino[2];
    snprintf (q, sizeof q, "%s/" JOBDIR_LOG, a);
    assert_int_equal (stat (q, &st), 0);
    ino[0] = st.st_ino;
    snprintf (q, sizeof q, "%s/" JOBDIR_LOG, b);
    assert_int_equal (stat (q, &st), 0);
    ino[1] = st.st_ino;

    assert_int_equal (dirpool_take (p, a), -ENOENT); /* none yet */
    assert_int_equal (dirpool_give (p, a), 0);
    assert_int_equal (stat (a, &st), -1); /* renamed at once */
    assert_int_equal (dirpool_give (p, b), 0);
    assert_int_equal (dirpool_give (p, c), -ENOSPC); /* full */
    assert_int_equal (stat (c, &st), 0);            /* left as it was */
    assert_int_equal (dirpool_ready (p), 0);
    assert_int_equal (uv_run (&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal (dirpool_ready (p), 2);

    /* 1.1's and 2.1's dirs (in the order they got ready) become 4.1 and
     * 5.1, their logs the same files, emptied */
    ino_t got[2];
    for (int i = 0; i < 2; i++) {
        snprintf (n, sizeof n, "%s/%d.1", tmp, 4 + i);
        assert_int_equal (dirpool_take (p, n), 0);
        snprintf (q, sizeof q, "%s/" JOBDIR_LOG, n);
        assert_int_equal (stat (q, &st), 0);
        assert_int_equal (st.st_size, 0);
        got[i] = st.st_ino;
    }
    assert_true ((got[0] == ino[0] && got[1] == ino[1])
                 || (got[0] == ino[1] && got[1] == ino[0]));
    assert_int_equal (dirpool_take (p, n), -ENOENT);

    /* spares are trash to the next start */
    assert_int_equal (dirpool_give (p, n), 0);
    dirpool_destroy (&p);
    assert_null (p);
    dirpool_destroy (&p);
    assert_int_equal (uv_run (&loop, UV_RUN_DEFAULT), 0);
    int found = 0;
    assert_int_equal (jobdir_scan (tmp, scan_cb, &found), 2);
    assert_int_equal (found, 2); /* 3.1, 4.1; 5.1 went back, and is gone */
    snprintf (n, sizeof n, "%s/5.1", tmp);
    assert_int_equal (stat (n, &st), -1);
    assert_int_equal (uv_loop_close (&loop), 0);
}

/* A pool of size 0 keeps nothing. */
static void
test_no_pool (void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal (uv_loop_init (&loop), 0);
    struct dirpool *p = dirpool_create (&loop, tmp, 0);
    assert_non_null (p);
    char a[PATH_MAX];
    attempt_dir (a, sizeof a, "1.1", "one\n");
    assert_int_equal (dirpool_give (p, a), -ENOSPC);
    assert_int_equal (dirpool_take (p, a), -ENOENT);
    assert_int_equal (dirpool_give (NULL, a), -ENOSPC);
    assert_int_equal (dirpool_take (NULL, a), -ENOENT);
    dirpool_destroy (&p);
    assert_int_equal (uv_loop_close (&loop), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_give_take, setup, teardown),
        cmocka_unit_test_setup_teardown (test_no_pool, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
