/* test_cli_args.c - the yard CLI's argument parsing (cli_args.c): global
 * options, every submit option, `--` and the command's first word, repeated
 * and copied --env, and clear errors for bad values and unknown options.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_args.h"

#define ARGC(a) ((int)(sizeof (a) / sizeof (a)[0]))

static void
test_global (void **state)
{
    (void)state;
    struct cli_global g;
    yard_error_t e = { 0 };

    char *a1[] = { "yard", "--scheduler", "tcp://h:1", "--timeout", "10s",
                   "--json", "status", "3" };
    assert_int_equal (cli_parse_global (ARGC (a1), a1, &g, &e), 0);
    assert_string_equal (g.scheduler, "tcp://h:1");
    assert_int_equal (g.timeout_ms, 10000);
    assert_true (g.json);
    assert_int_equal (g.cmd_index, 6);

    char *a2[] = { "yard", "--scheduler=ipc:///x", "--timeout=250ms", "queue",
                   "--json" };
    assert_int_equal (cli_parse_global (ARGC (a2), a2, &g, &e), 0);
    assert_string_equal (g.scheduler, "ipc:///x");
    assert_int_equal (g.timeout_ms, 250);
    assert_false (g.json); /* --json after the command is the command's */
    assert_int_equal (g.cmd_index, 3);

    char *a3[] = { "yard" };
    assert_int_equal (cli_parse_global (ARGC (a3), a3, &g, &e), 0);
    assert_int_equal (g.cmd_index, 1);
    assert_null (g.scheduler);
    assert_int_equal (g.timeout_ms, 0);

    char *a4[] = { "yard", "--version" };
    assert_int_equal (cli_parse_global (ARGC (a4), a4, &g, &e), 0);
    assert_true (g.version);
    char *a5[] = { "yard", "-h" };
    assert_int_equal (cli_parse_global (ARGC (a5), a5, &g, &e), 0);
    assert_true (g.help);
    char *a6[] = { "yard", "--", "submit" };
    assert_int_equal (cli_parse_global (ARGC (a6), a6, &g, &e), 0);
    assert_int_equal (g.cmd_index, 2);
}

static void
test_global_errors (void **state)
{
    (void)state;
    struct cli_global g;
    yard_error_t e = { 0 };

    char *a1[] = { "yard", "--bogus", "queue" };
    assert_int_equal (cli_parse_global (ARGC (a1), a1, &g, &e), -EINVAL);
    assert_non_null (strstr (e.text, "unknown option '--bogus'"));
    assert_non_null (strstr (e.text, "yard --help"));

    char *a2[] = { "yard", "--timeout", "soon", "queue" };
    assert_true (cli_parse_global (ARGC (a2), a2, &g, &e) < 0);
    assert_non_null (strstr (e.text, "invalid duration 'soon'"));

    char *a3[] = { "yard", "--timeout" };
    assert_int_equal (cli_parse_global (ARGC (a3), a3, &g, &e), -EINVAL);
    assert_non_null (strstr (e.text, "needs a value"));

    char *a4[] = { "yard", "--timeout", "0", "queue" };
    assert_true (cli_parse_global (ARGC (a4), a4, &g, &e) < 0);
    assert_non_null (strstr (e.text, "--timeout"));

    char *a5[] = { "yard", "--json=yes", "queue" };
    assert_int_equal (cli_parse_global (ARGC (a5), a5, &g, &e), -EINVAL);
    assert_non_null (strstr (e.text, "takes no value"));

    char *a6[] = { "yard", "--scheduler=", "queue" };
    assert_int_equal (cli_parse_global (ARGC (a6), a6, &g, &e), -EINVAL);

    char *a7[] = { "yard", "-x" };
    assert_int_equal (cli_parse_global (ARGC (a7), a7, &g, &e), -EINVAL);
    assert_non_null (strstr (e.text, "'-x'"));
}

static void
test_timeout_values (void **state)
{
    (void)state;
    yard_error_t e = { 0 };
    int64_t ms;
    assert_int_equal (cli_parse_timeout ("500ms", &ms, &e), 0);
    assert_int_equal (ms, 500);
    assert_int_equal (cli_parse_timeout ("90", &ms, &e), 0);
    assert_int_equal (ms, 90000);
    assert_int_equal (cli_parse_timeout ("1h30m", &ms, &e), 0);
    assert_int_equal (ms, 5400000);
    assert_int_equal (cli_parse_timeout ("01:00:00", &ms, &e), 0);
    assert_int_equal (ms, 3600000);
    assert_true (cli_parse_timeout ("ms", &ms, &e) < 0);
    assert_true (cli_parse_timeout ("5xms", &ms, &e) < 0);
    assert_true (cli_parse_timeout ("-5s", &ms, &e) < 0);
    assert_true (cli_parse_timeout ("", &ms, &e) < 0);
}

static void
test_submit_all_options (void **state)
{
    (void)state;
    struct cli_submit s;
    yard_error_t e = { 0 };

    setenv ("YARD_TEST_TOKEN", "s3cret=x", 1);
    char *a[] = { "submit", "--name", "resnet", "--cpus", "8", "--gpus=2",
                  "--mem", "1.5G", "--time", "1h30m", "--priority", "-5",
                  "--env", "A=1", "--env=B=x=y", "--env", "YARD_TEST_TOKEN",
                  "--workdir", "/data", "--grace", "2m", "--json", "--",
                  "python", "train.py", "--epochs", "3", "--", "-x" };
    assert_int_equal (cli_parse_submit (ARGC (a), a, &s, &e), 0);
    assert_string_equal (s.spec.name, "resnet");
    assert_int_equal (s.spec.cpus, 8);
    assert_int_equal (s.spec.gpus, 2);
    assert_int_equal (s.spec.memory_bytes, 1610612736ull);
    assert_int_equal (s.spec.time_limit_s, 5400);
    assert_int_equal (s.spec.priority, -5);
    assert_string_equal (s.spec.workdir, "/data");
    assert_int_equal (s.spec.grace_s, 120);
    assert_true (s.json);
    assert_false (s.help);
    assert_int_equal (s.spec.envc, 3);
    assert_string_equal (s.spec.env[0], "A=1");
    assert_string_equal (s.spec.env[1], "B=x=y");
    assert_string_equal (s.spec.env[2], "YARD_TEST_TOKEN=s3cret=x");
    /* the command is everything after "--", untouched */
    assert_int_equal (s.spec.argc, 6);
    assert_ptr_equal (s.spec.argv, &a[23]);
    assert_string_equal (s.spec.argv[0], "python");
    assert_string_equal (s.spec.argv[3], "3");
    assert_string_equal (s.spec.argv[4], "--");
    assert_string_equal (s.spec.argv[5], "-x");
    cli_submit_clear (&s);
    assert_null (s.env_store);
    unsetenv ("YARD_TEST_TOKEN");
}

static void
test_submit_command_start (void **state)
{
    (void)state;
    struct cli_submit s;
    yard_error_t e = { 0 };

    /* the first non-option starts the command; options after it are its */
    char *a1[] = { "submit", "--cpus", "2", "sleep", "--cpus", "10" };
    assert_int_equal (cli_parse_submit (ARGC (a1), a1, &s, &e), 0);
    assert_int_equal (s.spec.cpus, 2);
    assert_int_equal (s.spec.argc, 3);
    assert_string_equal (s.spec.argv[0], "sleep");
    assert_string_equal (s.spec.argv[1], "--cpus");
    assert_int_equal (s.spec.envc, 0);
    assert_null (s.spec.name);
    cli_submit_clear (&s);

    /* "-" alone is a word, not an option */
    char *a2[] = { "submit", "-", "x" };
    assert_int_equal (cli_parse_submit (ARGC (a2), a2, &s, &e), 0);
    assert_string_equal (s.spec.argv[0], "-");
    cli_submit_clear (&s);

    /* "--" then an option-looking command */
    char *a3[] = { "submit", "--", "--weird-program" };
    assert_int_equal (cli_parse_submit (ARGC (a3), a3, &s, &e), 0);
    assert_int_equal (s.spec.argc, 1);
    assert_string_equal (s.spec.argv[0], "--weird-program");
    cli_submit_clear (&s);

    /* repeated options: the last wins; --env accumulates */
    char *a4[] = { "submit", "--cpus", "1", "--cpus", "3", "--env", "A=1",
                   "--env", "A=2", "true" };
    assert_int_equal (cli_parse_submit (ARGC (a4), a4, &s, &e), 0);
    assert_int_equal (s.spec.cpus, 3);
    assert_int_equal (s.spec.envc, 2);
    assert_string_equal (s.spec.env[1], "A=2");
    cli_submit_clear (&s);

    char *a5[] = { "submit", "--help" };
    assert_int_equal (cli_parse_submit (ARGC (a5), a5, &s, &e), 0);
    assert_true (s.help);
    cli_submit_clear (&s);
}

/* Parse a submit that must fail; its message must contain want. */
static void
submit_fails (char **argv, int argc, const char *want)
{
    struct cli_submit s;
    yard_error_t e = { 0 };
    int rc = cli_parse_submit (argc, argv, &s, &e);
    cli_submit_clear (&s);
    if (rc >= 0)
        fail_msg ("'%s %s' parsed, expected '%s'", argv[1],
                  argc > 2 ? argv[2] : "", want);
    if (!strstr (e.text, want))
        fail_msg ("error '%s' does not contain '%s'", e.text, want);
}

static void
test_submit_errors (void **state)
{
    (void)state;
    char *a1[] = { "submit", "--mem", "12Q", "--", "x" };
    submit_fails (a1, ARGC (a1), "invalid size '12Q'");
    char *a2[] = { "submit", "--time", "5 minutes", "x" };
    submit_fails (a2, ARGC (a2), "invalid duration '5 minutes'");
    char *a3[] = { "submit", "--cpus", "two", "x" };
    submit_fails (a3, ARGC (a3), "invalid --cpus 'two'");
    char *a4[] = { "submit", "--cpus", "-1", "x" };
    submit_fails (a4, ARGC (a4), "invalid --cpus '-1'");
    char *a5[] = { "submit", "--gpus", "99999999999", "x" };
    submit_fails (a5, ARGC (a5), "--gpus '99999999999' is too large");
    char *a6[] = { "submit", "--priority", "high", "x" };
    submit_fails (a6, ARGC (a6), "invalid --priority 'high'");
    char *a7[] = { "submit", "--priority", "99999999999", "x" };
    submit_fails (a7, ARGC (a7), "--priority");
    char *a8[] = { "submit", "--env", "=1", "x" };
    submit_fails (a8, ARGC (a8), "use --env KEY=VALUE");
    unsetenv ("YARD_TEST_UNSET_VAR");
    char *a9[] = { "submit", "--env", "YARD_TEST_UNSET_VAR", "x" };
    submit_fails (a9, ARGC (a9), "YARD_TEST_UNSET_VAR is not set");
    char *a10[] = { "submit", "--name", "x" };
    submit_fails (a10, ARGC (a10), "no command to run");
    char *a11[] = { "submit", "--" };
    submit_fails (a11, ARGC (a11), "no command to run");
    char *a12[] = { "submit" };
    submit_fails (a12, ARGC (a12), "no command to run");
    char *a13[] = { "submit", "--nmae", "x", "y" };
    submit_fails (a13, ARGC (a13), "unknown option '--nmae' for 'yard submit'");
    char *a14[] = { "submit", "--cpus" };
    submit_fails (a14, ARGC (a14), "'--cpus' needs a value");
    char *a15[] = { "submit", "--grace", "1x", "y" };
    submit_fails (a15, ARGC (a15), "invalid duration '1x'");
    char *a16[] = { "submit", "--name", "", "y" };
    submit_fails (a16, ARGC (a16), "--name");
    char *a17[] = { "submit", "--workdir=", "y" };
    submit_fails (a17, ARGC (a17), "--workdir");
    char *a18[] = { "submit", "--mem", "", "y" };
    submit_fails (a18, ARGC (a18), "invalid size ''");
    /* memory allocated for earlier --env values is freed on failure too
     * (the sanitizer build checks) */
    char *a19[] = { "submit", "--env", "A=1", "--env", "B=2", "--cpus", "x" };
    submit_fails (a19, ARGC (a19), "invalid --cpus 'x'");
}

static void
test_job_commands (void **state)
{
    (void)state;
    struct cli_job_args j;
    yard_error_t e = { 0 };

    char *a1[] = { "status", "42" };
    assert_int_equal (cli_parse_job_args (ARGC (a1), a1, &j, &e), 0);
    assert_int_equal (j.job_id, 42);
    assert_false (j.json);
    char *a2[] = { "cancel", "--json", "7" };
    assert_int_equal (cli_parse_job_args (ARGC (a2), a2, &j, &e), 0);
    assert_int_equal (j.job_id, 7);
    assert_true (j.json);
    char *a3[] = { "status", "7", "--json" };
    assert_int_equal (cli_parse_job_args (ARGC (a3), a3, &j, &e), 0);
    assert_true (j.json);

    char *b1[] = { "status" };
    assert_int_equal (cli_parse_job_args (ARGC (b1), b1, &j, &e), -EINVAL);
    assert_non_null (strstr (e.text, "missing job id: yard status JOB"));
    char *b2[] = { "status", "abc" };
    assert_int_equal (cli_parse_job_args (ARGC (b2), b2, &j, &e), -EINVAL);
    assert_non_null (strstr (e.text, "invalid job id 'abc'"));
    char *b3[] = { "status", "0" };
    assert_int_equal (cli_parse_job_args (ARGC (b3), b3, &j, &e), -EINVAL);
    char *b4[] = { "cancel", "1", "2" };
    assert_int_equal (cli_parse_job_args (ARGC (b4), b4, &j, &e), -EINVAL);
    assert_non_null (strstr (e.text, "unexpected argument '2'"));
    char *b5[] = { "status", "-f", "1" };
    assert_int_equal (cli_parse_job_args (ARGC (b5), b5, &j, &e), -EINVAL);
    assert_non_null (strstr (e.text, "yard status --help"));
    char *b6[] = { "status", "--help" };
    assert_int_equal (cli_parse_job_args (ARGC (b6), b6, &j, &e), 0);
    assert_true (j.help);
}

static void
test_queue_nodes (void **state)
{
    (void)state;
    struct cli_queue q;
    struct cli_nodes n;
    yard_error_t e = { 0 };

    char *a1[] = { "queue" };
    assert_int_equal (cli_parse_queue (ARGC (a1), a1, &q, &e), 0);
    assert_false (q.all);
    assert_int_equal (q.limit, 0);
    char *a2[] = { "queue", "--all", "--limit", "20", "--json" };
    assert_int_equal (cli_parse_queue (ARGC (a2), a2, &q, &e), 0);
    assert_true (q.all);
    assert_int_equal (q.limit, 20);
    assert_true (q.json);
    char *a3[] = { "queue", "-a", "-n", "5" };
    assert_int_equal (cli_parse_queue (ARGC (a3), a3, &q, &e), 0);
    assert_true (q.all);
    assert_int_equal (q.limit, 5);
    char *b1[] = { "queue", "--limit", "0" };
    assert_int_equal (cli_parse_queue (ARGC (b1), b1, &q, &e), -EINVAL);
    char *b2[] = { "queue", "--limit", "lots" };
    assert_int_equal (cli_parse_queue (ARGC (b2), b2, &q, &e), -EINVAL);
    assert_non_null (strstr (e.text, "invalid --limit 'lots'"));
    char *b3[] = { "queue", "12" };
    assert_int_equal (cli_parse_queue (ARGC (b3), b3, &q, &e), -EINVAL);

    char *c1[] = { "nodes", "--json" };
    assert_int_equal (cli_parse_nodes (ARGC (c1), c1, &n, &e), 0);
    assert_true (n.json);
    char *c2[] = { "nodes", "w1" };
    assert_int_equal (cli_parse_nodes (ARGC (c2), c2, &n, &e), -EINVAL);
}

static void
test_logs_wait_help (void **state)
{
    (void)state;
    struct cli_logs l;
    struct cli_wait w;
    struct cli_help h;
    yard_error_t e = { 0 };

    char *a1[] = { "logs", "5" };
    assert_int_equal (cli_parse_logs (ARGC (a1), a1, &l, &e), 0);
    assert_int_equal (l.job_id, 5);
    assert_false (l.follow);
    assert_int_equal (l.attempt, 0);
    char *a2[] = { "logs", "-f", "--attempt", "2", "5" };
    assert_int_equal (cli_parse_logs (ARGC (a2), a2, &l, &e), 0);
    assert_true (l.follow);
    assert_int_equal (l.attempt, 2);
    char *a3[] = { "logs", "5", "--follow" };
    assert_int_equal (cli_parse_logs (ARGC (a3), a3, &l, &e), 0);
    assert_true (l.follow);
    char *b1[] = { "logs", "-f" };
    assert_int_equal (cli_parse_logs (ARGC (b1), b1, &l, &e), -EINVAL);
    char *b2[] = { "logs", "--attempt", "x", "1" };
    assert_int_equal (cli_parse_logs (ARGC (b2), b2, &l, &e), -EINVAL);

    char *c1[] = { "wait", "9" };
    assert_int_equal (cli_parse_wait (ARGC (c1), c1, &w, &e), 0);
    assert_int_equal (w.job_id, 9);
    assert_int_equal (w.timeout_ms, -1);
    char *c2[] = { "wait", "--timeout", "2m", "9", "--json" };
    assert_int_equal (cli_parse_wait (ARGC (c2), c2, &w, &e), 0);
    assert_int_equal (w.timeout_ms, 120000);
    assert_true (w.json);
    char *c3[] = { "wait", "9", "--timeout=0" };
    assert_int_equal (cli_parse_wait (ARGC (c3), c3, &w, &e), 0);
    assert_int_equal (w.timeout_ms, 0);
    char *d1[] = { "wait", "--timeout", "later", "9" };
    assert_true (cli_parse_wait (ARGC (d1), d1, &w, &e) < 0);
    assert_non_null (strstr (e.text, "invalid duration 'later'"));

    char *h1[] = { "help" };
    assert_int_equal (cli_parse_help (ARGC (h1), h1, &h, &e), 0);
    assert_null (h.topic);
    char *h2[] = { "help", "submit" };
    assert_int_equal (cli_parse_help (ARGC (h2), h2, &h, &e), 0);
    assert_string_equal (h.topic, "submit");
    char *h3[] = { "help", "a", "b" };
    assert_int_equal (cli_parse_help (ARGC (h3), h3, &h, &e), -EINVAL);
}

/* cli_split_words on one line: the words, or NULL for a refusal. */
static void
expect_words (const char *line, const char *const *want)
{
    char **w = NULL;
    int n = -1;
    yard_error_t e = { 0 };
    int rc = cli_split_words (line, &w, &n, &e);
    if (!want) {
        assert_int_equal (rc, -EINVAL);
        assert_true (e.text[0] != '\0');
        return;
    }
    assert_int_equal (rc, 0);
    int k = 0;
    while (want[k])
        k++;
    assert_int_equal (n, k);
    for (int i = 0; i < k; i++)
        assert_string_equal (w[i], want[i]);
    assert_null (w[n]);
    free (w);
}

static void
test_split_words (void **state)
{
    (void)state;
    expect_words ("", (const char *[]){ NULL });
    expect_words ("  \t\n", (const char *[]){ NULL });
    expect_words ("--name a -- true", (const char *[]){ "--name", "a", "--",
                                                        "true", NULL });
    expect_words ("  a\tb  ", (const char *[]){ "a", "b", NULL });
    expect_words ("sh -c 'echo $HOME; ls \"x\"'",
                  (const char *[]){ "sh", "-c", "echo $HOME; ls \"x\"",
                                    NULL });
    expect_words ("\"a \\\"b\\\" \\\\ \\n\"",
                  (const char *[]){ "a \"b\" \\ \\n", NULL });
    expect_words ("a\\ b c\\'d", (const char *[]){ "a b", "c'd", NULL });
    expect_words ("'' \"\" x''y", (const char *[]){ "", "", "xy", NULL });
    expect_words ("--env 'K=v w'\"x\"", (const char *[]){ "--env", "K=v wx",
                                                           NULL });
    expect_words ("a b c d e f", (const char *[]){ "a", "b", "c", "d", "e",
                                                   "f", NULL });
    expect_words ("'open", NULL);
    expect_words ("\"open", NULL);
    expect_words ("\"a\\\"", NULL);
    expect_words ("end\\", NULL);
}

static void
test_submit_many_args (void **state)
{
    (void)state;
    struct cli_submit_many m;
    yard_error_t e = { 0 };
    char *a1[] = { "submit-many", "jobs.txt", "--json", NULL };
    assert_int_equal (cli_parse_submit_many (3, a1, &m, &e), 0);
    assert_string_equal (m.file, "jobs.txt");
    assert_true (m.json);
    char *a2[] = { "submit-many", "-", NULL };
    assert_int_equal (cli_parse_submit_many (2, a2, &m, &e), 0);
    assert_null (m.file);
    char *a3[] = { "submit-many", NULL };
    assert_int_equal (cli_parse_submit_many (1, a3, &m, &e), 0);
    assert_null (m.file);
    assert_false (m.json);
    char *a4[] = { "submit-many", "a", "b", NULL };
    assert_int_equal (cli_parse_submit_many (3, a4, &m, &e), -EINVAL);
    char *a5[] = { "submit-many", "--cpus", "2", NULL };
    assert_int_equal (cli_parse_submit_many (3, a5, &m, &e), -EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_global),
        cmocka_unit_test (test_global_errors),
        cmocka_unit_test (test_timeout_values),
        cmocka_unit_test (test_submit_all_options),
        cmocka_unit_test (test_submit_command_start),
        cmocka_unit_test (test_submit_errors),
        cmocka_unit_test (test_job_commands),
        cmocka_unit_test (test_queue_nodes),
        cmocka_unit_test (test_logs_wait_help),
        cmocka_unit_test (test_split_words),
        cmocka_unit_test (test_submit_many_args),
    };
    return cmocka_run_group_tests_name ("yard CLI arguments", tests, NULL, NULL);
}
