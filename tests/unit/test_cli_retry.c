/* test_cli_retry.c - `yard submit` retry and signal options
 * (client/cli_retry.c, client/cli_args.c) and the attempts rendering. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_args.h"
#include "cli_render.h"
#include "cli_retry.h"

static void
test_signo (void **state)
{
    (void)state;
    yard_error_t err = {0};
    int32_t s;
    assert_int_equal (cli_parse_signo ("USR1", &s, &err), 0);
    assert_int_equal (s, SIGUSR1);
    assert_int_equal (cli_parse_signo ("SIGUSR1", &s, &err), 0);
    assert_int_equal (s, SIGUSR1);
    assert_int_equal (cli_parse_signo ("term", &s, &err), 0);
    assert_int_equal (s, SIGTERM);
    assert_int_equal (cli_parse_signo ("10", &s, &err), 0);
    assert_int_equal (s, 10);
    assert_int_equal (cli_parse_signo ("RTMIN+2", &s, &err), 0);
    assert_int_equal (s, SIGRTMIN + 2);
    assert_int_equal (cli_parse_signo ("0", &s, &err), -EINVAL);
    assert_int_equal (cli_parse_signo ("65", &s, &err), -EINVAL);
    assert_int_equal (cli_parse_signo ("BOGUS", &s, &err), -EINVAL);
    assert_non_null (strstr (err.text, "unknown signal"));
    assert_int_equal (cli_parse_signo ("", &s, &err), -EINVAL);
}

static void
test_signal_warn (void **state)
{
    (void)state;
    yard_error_t err = {0};
    int32_t s;
    bool warn;
    uint32_t secs;
    assert_int_equal (cli_parse_signal ("USR1@60", &s, &warn, &secs, &err), 0);
    assert_true (warn);
    assert_int_equal (s, SIGUSR1);
    assert_int_equal (secs, 60);
    assert_int_equal (cli_parse_signal ("USR2@5m", &s, &warn, &secs, &err),
                      0);
    assert_int_equal (secs, 300);
    assert_int_equal (cli_parse_signal ("TERM", &s, &warn, &secs, &err), 0);
    assert_false (warn);
    assert_int_equal (cli_parse_signal ("USR1@", &s, &warn, &secs, &err),
                      -EINVAL);
    assert_int_equal (cli_parse_signal ("USR1@x", &s, &warn, &secs, &err),
                      -EINVAL);
    assert_int_equal (cli_parse_signal ("NOPE@5", &s, &warn, &secs, &err),
                      -EINVAL);
}

static void
test_exit_codes (void **state)
{
    (void)state;
    yard_error_t err = {0};
    int32_t *c = NULL;
    size_t n = 0;
    assert_int_equal (cli_parse_exit_codes ("3,75", &c, &n, &err), 0);
    assert_int_equal (n, 2);
    assert_int_equal (c[0], 3);
    assert_int_equal (c[1], 75);
    assert_int_equal (cli_parse_exit_codes ("9", &c, &n, &err), 0);
    assert_int_equal (n, 3);
    assert_int_equal (cli_parse_exit_codes ("0", &c, &n, &err), -EINVAL);
    assert_int_equal (cli_parse_exit_codes ("256", &c, &n, &err), -EINVAL);
    assert_int_equal (cli_parse_exit_codes ("3,", &c, &n, &err), -EINVAL);
    assert_int_equal (cli_parse_exit_codes (",3", &c, &n, &err), -EINVAL);
    assert_int_equal (cli_parse_exit_codes ("", &c, &n, &err), -EINVAL);
    free (c);
}

static void
test_submit_options (void **state)
{
    (void)state;
    char *argv[] = {"submit", "--retries", "2", "--retry-exit-codes", "3,75",
                    "--retry-backoff", "1m", "--signal", "TERM", "--signal",
                    "USR1@60", "--requeue-on-timeout", "--preemptible", "--",
                    "train", NULL};
    struct cli_submit s;
    yard_error_t err = {0};
    assert_int_equal (cli_parse_submit (15, argv, &s, &err), 0);
    assert_int_equal (s.spec.retries, 2);
    assert_int_equal (s.spec.n_retry_exit_codes, 2);
    assert_int_equal (s.spec.retry_exit_codes[1], 75);
    assert_int_equal (s.spec.retry_backoff_s, 60);
    assert_int_equal (s.spec.stop_signal, SIGTERM);
    assert_int_equal (s.spec.warn_signal, SIGUSR1);
    assert_int_equal (s.spec.warn_seconds, 60);
    assert_true (s.spec.requeue_on_timeout);
    assert_true (s.spec.preemptible);
    assert_int_equal (s.spec.argc, 1);
    cli_submit_clear (&s);

    char *bad[] = {"submit", "--retry-backoff", "0s", "x", NULL};
    assert_int_equal (cli_parse_submit (4, bad, &s, &err), -ERANGE);
    cli_submit_clear (&s);
    char *bad2[] = {"submit", "--signal", "USR9", "x", NULL};
    assert_int_equal (cli_parse_submit (4, bad2, &s, &err), -EINVAL);
    cli_submit_clear (&s);
}

static void
test_render_attempts (void **state)
{
    (void)state;
    yard_attempt_t a[2] = {
        {.attempt = 1, .node = "w1", .start_time_ms = 1700000000000LL,
         .end_time_ms = 1700000060000LL, .end_reason = YARD_END_PREEMPTED,
         .reason = "preempted"},
        {.attempt = 2, .node = "w1", .start_time_ms = 1700000070000LL,
         .reason = ""},
    };
    yard_job_t job = {.state = YARD_JOB_RUNNING, .attempts = a,
                      .n_attempts = 2, .retries = 3, .retries_used = 1};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    assert_int_equal (cli_print_attempts (f, &job, 1700000080000LL), 0);
    fclose (f);
    assert_non_null (strstr (buf, "ATTEMPT"));
    assert_non_null (strstr (buf, "ENDED-BECAUSE"));
    /* each attempt's start and end: the ended one's end time, '-' for the
       running one */
    char t1[48], t2[48], e1[48];
    cli_time_local (a[0].start_time_ms, t1, sizeof t1);
    cli_time_local (a[1].start_time_ms, t2, sizeof t2);
    cli_time_local (a[0].end_time_ms, e1, sizeof e1);
    assert_non_null (strstr (buf, " ENDED "));
    assert_non_null (strstr (buf, t1));
    assert_non_null (strstr (buf, e1));
    const char *row2 = strstr (buf, t2);
    assert_non_null (row2);
    assert_non_null (strstr (row2, " - "));
    assert_non_null (strstr (buf, "preempted"));
    assert_non_null (strstr (buf, "(running)"));
    assert_non_null (strstr (buf, "1 of 3 used"));
    free (buf);

    json_t *o = json_object ();
    assert_true (cli_retry_json (o, &job));
    json_t *arr = json_object_get (o, "attempts");
    assert_int_equal (json_array_size (arr), 2);
    assert_string_equal (
        json_string_value (json_object_get (json_array_get (arr, 0),
                                            "end_reason")),
        "preempted");
    assert_int_equal (json_integer_value (json_object_get (
                          json_array_get (arr, 0), "runtime_ms")),
                      60000);
    json_decref (o);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_signo),
        cmocka_unit_test (test_signal_warn),
        cmocka_unit_test (test_exit_codes),
        cmocka_unit_test (test_submit_options),
        cmocka_unit_test (test_render_attempts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
