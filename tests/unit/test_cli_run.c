/* test_cli_run.c - the whole yard CLI (cli_run, what main() runs) against
 * the scripted fake scheduler (test_client_fake.c): what each command
 * prints on stdout and stderr and its exit status, including usage errors,
 * an unreachable scheduler, `yard wait` endings and `yard logs -f` across a
 * requeued job.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_commands.h"
#include "test_client_fake.h"
#include "util.h"

static fake_sched_t *fake;

struct result {
    int rc;
    char *out;
    char *err;
};

/* Run `yard --scheduler FAKE ARGS...` (NULL-terminated). */
static struct result
yard_ (const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "yard";
    argv[argc++] = "--scheduler";
    argv[argc++] = (char *)fake_endpoint (fake);
    va_list ap;
    va_start (ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg (ap, const char *))
        argv[argc++] = (char *)a;
    va_end (ap);
    argv[argc] = NULL;

    struct result r = { 0 };
    size_t no, ne;
    FILE *out = open_memstream (&r.out, &no);
    FILE *err = open_memstream (&r.err, &ne);
    assert_non_null (out);
    assert_non_null (err);
    r.rc = cli_run (argc, argv, out, err);
    fclose (out);
    fclose (err);
    return r;
}
#define yard(...) yard_ (__VA_ARGS__, NULL)

static void
result_free (struct result *r)
{
    free (r->out);
    free (r->err);
}

static void
expect (struct result r, int rc, const char *out_has, const char *err_has)
{
    if (r.rc != rc || (out_has && !strstr (r.out, out_has))
        || (err_has && !strstr (r.err, err_has)))
        fail_msg ("exit %d (want %d)\nstdout: %s\nstderr: %s\nwanted stdout "
                  "with '%s', stderr with '%s'",
                  r.rc, rc, r.out, r.err, out_has ? out_has : "",
                  err_has ? err_has : "");
    result_free (&r);
}

static int
setup (void **state)
{
    (void)state;
    fake = fake_start ();
    setenv ("TZ", "UTC", 1);
    return 0;
}

static int
teardown (void **state)
{
    (void)state;
    fake_stop (&fake);
    return 0;
}

static void
test_submit (void **state)
{
    (void)state;
    struct result r = yard ("submit", "--name", "x", "--", "echo", "hi");
    assert_int_equal (r.rc, 0);
    assert_string_equal (r.out, "42\n");
    assert_string_equal (r.err, "");
    result_free (&r);
    struct fake_submit got;
    fake_last_submit (fake, &got);
    assert_string_equal (got.argv0, "echo");
    assert_int_equal (got.argc, 2);

    r = yard ("--json", "submit", "true");
    assert_int_equal (r.rc, 0);
    json_t *j = json_loads (r.out, 0, NULL);
    assert_non_null (j);
    assert_int_equal (json_integer_value (json_object_get (j, "id")), 42);
    json_decref (j);
    result_free (&r);
    expect (yard ("submit", "--json", "true"), 0, "\"id\": 42", NULL);

    expect (yard ("submit", "--name", "refuse", "true"), 1, NULL,
            "yard: invalid job spec: the name 'refuse' is refused\n");
    expect (yard ("submit", "--mem", "12Q", "--", "x"), 2, NULL,
            "yard: invalid size '12Q'");
    expect (yard ("submit", "--bogus", "x"), 2, NULL, "usage: yard submit");
    expect (yard ("submit"), 2, NULL, "no command to run");
    expect (yard ("submit", "--help"), 0, "--env K=V", NULL);
}

static void
test_status (void **state)
{
    (void)state;
    expect (yard ("status", "1"), 0, "state:       RUNNING\n", NULL);
    expect (yard ("status", "1"), 0, "command:     python train.py 'a b'", NULL);
    expect (yard ("status", "7"), 1, NULL, "yard: no such job 7\n");
    expect (yard ("status"), 2, NULL, "missing job id");
    expect (yard ("status", "x1"), 2, NULL, "invalid job id 'x1'");

    struct result r = yard ("status", "3", "--json");
    assert_int_equal (r.rc, 0);
    json_t *j = json_loads (r.out, 0, NULL);
    assert_non_null (j);
    assert_int_equal (json_integer_value (json_object_get (j, "id")), 3);
    assert_string_equal (json_string_value (json_object_get (j, "state")),
                         "FAILED");
    assert_int_equal (json_integer_value (json_object_get (j, "exit_code")), 3);
    assert_true (json_is_string (json_object_get (j, "end_time")));
    json_decref (j);
    result_free (&r);
}

static void
test_queue_nodes (void **state)
{
    (void)state;
    struct result r = yard ("queue");
    assert_int_equal (r.rc, 0);
    assert_non_null (strstr (r.out, "AGE/TIME"));
    assert_non_null (strstr (r.out, "waiting for 4 free cpus"));
    assert_null (strstr (r.out, "COMPLETED"));
    result_free (&r);

    r = yard ("queue", "--all", "--json");
    assert_int_equal (r.rc, 0);
    json_t *j = json_loads (r.out, 0, NULL);
    assert_true (json_is_array (j));
    assert_int_equal (json_array_size (j), 4);
    json_decref (j);
    result_free (&r);

    expect (yard ("nodes"), 0, "14G/16G", NULL);
    r = yard ("--json", "nodes");
    assert_int_equal (r.rc, 0);
    j = json_loads (r.out, 0, NULL);
    assert_int_equal (json_array_size (j), 2);
    assert_string_equal (json_string_value (json_object_get (
                             json_array_get (j, 1), "state")),
                         "DOWN");
    json_decref (j);
    result_free (&r);
    expect (yard ("nodes", "extra"), 2, NULL, "unexpected argument");
}

static void
test_cancel (void **state)
{
    (void)state;
    expect (yard ("cancel", "8"), 0, "job 8: CANCELLED\n", NULL);
    expect (yard ("cancel", "2"), 0, "job 2 already finished: COMPLETED\n",
            NULL);
    expect (yard ("cancel", "1"), 0, "cancel requested (stopping on w1)", NULL);
    expect (yard ("cancel", "7"), 1, NULL, "no such job 7");
    expect (yard ("cancel", "--json", "8"), 0, "\"state\": \"CANCELLED\"",
            NULL);
}

/* yard watch against a scheduler without events: the long poll; the
 * job's exit status at the end, like yard wait */
static void
test_watch_old_scheduler (void **state)
{
    (void)state;
    expect (yard ("watch", "2"), 0, "job 2 COMPLETED", NULL);
    expect (yard ("watch", "3"), 3, "job 3 FAILED", NULL);
    expect (yard ("watch", "--json", "5"), 125, "\"state\":\"CANCELLED\"",
            NULL);
    expect (yard ("watch", "7"), 1, NULL, "no such job 7");
    expect (yard ("events"), 1, NULL, "not a client request");
}

static void
test_wait (void **state)
{
    (void)state;
    struct result r = yard ("wait", "2");
    assert_int_equal (r.rc, 0);
    assert_string_equal (r.out, "");
    assert_string_equal (r.err, "");
    result_free (&r);
    expect (yard ("wait", "3"), 3, NULL, "yard: job 3 FAILED: exit code 3\n");
    expect (yard ("wait", "4"), 137, NULL, "killed by signal 9");
    expect (yard ("wait", "5"), 125, NULL, "job 5 CANCELLED");
    expect (yard ("wait", "6"), 124, NULL, "killed at its time limit of 1h00m");
    /* the scheduler's explanation when it gives one */
    expect (yard ("wait", "11"), 127, NULL,
            "yard: job 11 FAILED: cannot run 'nosuch': No such file");
    expect (yard ("wait", "7"), 1, NULL, "no such job 7");
    expect (yard ("wait", "--timeout", "300ms", "8"), 4, NULL,
            "job 8 is still PENDING");
    expect (yard ("wait", "--json", "3"), 3, "\"exit_code\": 3", NULL);
}

static void
test_logs (void **state)
{
    (void)state;
    struct result r = yard ("logs", "1");
    assert_int_equal (r.rc, 0);
    assert_string_equal (r.out, "hello\nworld\n");
    result_free (&r);

    r = yard ("logs", "-f", "1");
    assert_int_equal (r.rc, 0);
    assert_string_equal (r.out, "hello\nworld\n");
    result_free (&r);

    /* attempt 1 ends, the job is requeued, attempt 2 follows */
    r = yard ("logs", "-f", "12");
    assert_int_equal (r.rc, 0);
    assert_string_equal (r.out, "one\ntwo\n");
    assert_non_null (strstr (r.err, "following its next attempt"));
    result_free (&r);

    expect (yard ("logs", "8"), 0, NULL, "has not started yet (PENDING)");
    expect (yard ("logs", "7"), 1, NULL, "no such job 7");

    r = yard ("logs", "--json", "1");
    assert_int_equal (r.rc, 0);
    /* one JSON object per line */
    char *save = NULL;
    int n = 0;
    for (char *l = strtok_r (r.out, "\n", &save); l;
         l = strtok_r (NULL, "\n", &save), n++) {
        json_t *j = json_loads (l, 0, NULL);
        assert_non_null (j);
        if (n == 0)
            assert_string_equal (json_string_value (json_object_get (j, "data")),
                                 "hello\n");
        json_decref (j);
    }
    assert_int_equal (n, 3); /* hello, world, eof */
    result_free (&r);
}

static void
test_usage_and_help (void **state)
{
    (void)state;
    expect (yard ("frobnicate"), 2, NULL, "unknown command 'frobnicate'");
    expect (yard ("help"), 0, "exit status:", NULL);
    expect (yard ("help", "wait"), 0, "usage: yard wait", NULL);
    expect (yard ("help", "nope"), 2, NULL, "no help for 'nope'");
    expect (yard ("logs", "--help"), 0, "usage: yard logs", NULL);
    expect (yard ("--help"), 0, "3    the scheduler could not be reached",
            NULL);
    expect (yard ("--version"), 0, "yard " YARD_VERSION, NULL);
    expect (yard ("--timeout", "never", "queue"), 2, NULL,
            "invalid duration 'never'");

    /* no command at all */
    char *argv[] = { "yard", NULL };
    char *o = NULL, *e = NULL;
    size_t no, ne;
    FILE *out = open_memstream (&o, &no), *err = open_memstream (&e, &ne);
    assert_int_equal (cli_run (1, argv, out, err), 2);
    fclose (out);
    fclose (err);
    assert_non_null (strstr (e, "no command given"));
    free (o);
    free (e);
}

static void
test_unreachable (void **state)
{
    (void)state;
    char *argv[] = { "yard", "--scheduler", "tcp://127.0.0.1:1", "--timeout",
                     "300ms", "queue", NULL };
    char *o = NULL, *e = NULL;
    size_t no, ne;
    FILE *out = open_memstream (&o, &no), *err = open_memstream (&e, &ne);
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (cli_run (6, argv, out, err), 3);
    assert_true (yard_mono_ms () - t0 < 1500);
    fclose (out);
    fclose (err);
    assert_string_equal (o, "");
    assert_non_null (strstr (e, "yard: no answer from the scheduler at "
                                "tcp://127.0.0.1:1 after 300ms"));
    free (o);
    free (e);

    /* an endpoint that is not one: a usage error */
    char *argv2[] = { "yard", "--scheduler", "nonsense", "queue", NULL };
    out = open_memstream (&o, &no);
    err = open_memstream (&e, &ne);
    assert_int_equal (cli_run (4, argv2, out, err), 2);
    fclose (out);
    fclose (err);
    assert_non_null (strstr (e, "invalid scheduler endpoint 'nonsense'"));
    free (o);
    free (e);

    /* YARD_SCHEDULER is used when --scheduler is not given */
    setenv ("YARD_SCHEDULER", "tcp://127.0.0.1:1", 1);
    char *argv3[] = { "yard", "--timeout", "200ms", "nodes", NULL };
    out = open_memstream (&o, &no);
    err = open_memstream (&e, &ne);
    assert_int_equal (cli_run (4, argv3, out, err), 3);
    fclose (out);
    fclose (err);
    assert_non_null (strstr (e, "tcp://127.0.0.1:1"));
    free (o);
    free (e);
    unsetenv ("YARD_SCHEDULER");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_submit),
        cmocka_unit_test (test_status),
        cmocka_unit_test (test_queue_nodes),
        cmocka_unit_test (test_cancel),
        cmocka_unit_test (test_wait),
        cmocka_unit_test (test_watch_old_scheduler),
        cmocka_unit_test (test_logs),
        cmocka_unit_test (test_usage_and_help),
        cmocka_unit_test (test_unreachable),
    };
    return cmocka_run_group_tests_name ("yard CLI", tests, setup, teardown);
}
