/* test_worker_health.c - the worker's health check: the reason taken from
 * the output, and real checks on a loop (pass, fail with output, fail
 * silently, timeout with the group killed), each reporting once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <uv.h>

#include "health.h"

static void
test_first_line (void **state)
{
    (void)state;
    char b[32];
    const char *o = "\n  \n  GPU 3 fell off the bus  \r\nmore\n";
    assert_string_equal (health_first_line (o, strlen (o), b, sizeof b),
                         "GPU 3 fell off the bus");
    assert_string_equal (health_first_line ("", 0, b, sizeof b), "");
    assert_string_equal (health_first_line (" \n\t\n", 4, b, sizeof b), "");
    assert_string_equal (health_first_line ("a\x01" "b", 3, b, sizeof b),
                         "a?b");
    assert_string_equal (health_first_line ("abcdefghij", 10, b, 5), "abcd");
    assert_string_equal (health_first_line ("no newline", 10, b, sizeof b),
                         "no newline");
}

struct result {
    int n;
    bool ok;
    char reason[HEALTH_REASON_MAX];
    health_t *h;
};

static void
report (bool ok, const char *reason, void *arg)
{
    struct result *r = arg;
    r->n++;
    r->ok = ok;
    snprintf (r->reason, sizeof r->reason, "%s", reason);
    health_destroy (&r->h); /* one check is enough */
}

static struct result
run (const char *cmd, uint64_t timeout_ms)
{
    uv_loop_t loop;
    struct result r = { 0 };
    assert_int_equal (uv_loop_init (&loop), 0);
    r.h = health_create (&loop, cmd, 60000, timeout_ms, report, &r);
    assert_non_null (r.h);
    assert_int_equal (health_start (r.h), 0);
    uv_run (&loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&loop), 0);
    return r;
}

static void
test_checks (void **state)
{
    (void)state;
    struct result r = run ("true", 5000);
    assert_int_equal (r.n, 1);
    assert_true (r.ok);
    assert_string_equal (r.reason, "");

    r = run ("echo; echo '  disk full ' >&2; echo next; exit 3", 5000);
    assert_int_equal (r.n, 1);
    assert_false (r.ok);
    assert_string_equal (r.reason, "disk full");

    r = run ("exit 4", 5000);
    assert_false (r.ok);
    assert_string_equal (r.reason, "exited with status 4");

    r = run ("kill -9 $$", 5000);
    assert_false (r.ok);
    assert_string_equal (r.reason, "killed by signal 9");

    /* a hung check (and the child it started) is killed at the timeout */
    uint64_t t0 = uv_hrtime ();
    r = run ("echo stuck; sleep 30 & sleep 30", 1000);
    assert_false (r.ok);
    assert_string_equal (r.reason, "timed out after 1s: stuck");
    assert_true (uv_hrtime () - t0 < 10ull * 1000 * 1000 * 1000);
}

static void
test_create_errors (void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal (uv_loop_init (&loop), 0);
    errno = 0;
    assert_null (health_create (&loop, "", 1000, 1000, report, NULL));
    assert_int_equal (errno, EINVAL);
    assert_null (health_create (&loop, "true", 0, 1000, report, NULL));
    assert_null (health_create (NULL, "true", 1000, 1000, report, NULL));
    /* created, never started, destroyed: the loop still closes */
    health_t *h = health_create (&loop, "true", 1000, 1000, report, NULL);
    assert_non_null (h);
    health_destroy (&h);
    assert_null (h);
    health_destroy (&h);
    health_destroy (NULL);
    uv_run (&loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&loop), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_first_line),
        cmocka_unit_test (test_checks),
        cmocka_unit_test (test_create_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
