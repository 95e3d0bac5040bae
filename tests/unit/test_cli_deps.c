/* test_cli_deps.c - `yard submit --after` and `--array` parsing
 * (client/cli_deps.c, through cli_parse_submit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_args.h"
#include "cli_deps.h"

static int
parse (struct cli_submit *s, yard_error_t *err, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start (ap, err);
    argv[argc++] = "submit";
    const char *a;
    while ((a = va_arg (ap, const char *)) && argc < 30)
        argv[argc++] = (char *)a;
    va_end (ap);
    argv[argc] = NULL;
    return cli_parse_submit (argc, argv, s, err);
}

static void
test_after (void **state)
{
    (void)state;
    struct cli_submit s;
    yard_error_t err = {0};
    assert_int_equal (parse (&s, &err, "--after", "12", "--after=13:any",
                             "--after", "14:notok,15:ok", "true", NULL),
                      0);
    assert_int_equal (s.spec.n_after, 4);
    assert_int_equal (s.spec.after[0].job_id, 12);
    assert_int_equal (s.spec.after[0].condition, YARD_DEP_OK);
    assert_int_equal (s.spec.after[1].job_id, 13);
    assert_int_equal (s.spec.after[1].condition, YARD_DEP_ANY);
    assert_int_equal (s.spec.after[2].job_id, 14);
    assert_int_equal (s.spec.after[2].condition, YARD_DEP_NOTOK);
    assert_int_equal (s.spec.after[3].job_id, 15);
    assert_int_equal (s.spec.after[3].condition, YARD_DEP_OK);
    assert_false (s.spec.array);
    cli_submit_clear (&s);

    const char *bad[] = {"", "0", "x", "12:", "12:maybe", "12,", ",12",
                         "-3", "12:ok:ok", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset (&err, 0, sizeof err);
        assert_int_equal (parse (&s, &err, "--after", bad[i], "true", NULL),
                          -EINVAL);
        assert_non_null (strstr (err.text, "--after"));
        cli_submit_clear (&s);
    }
}

static void
test_array (void **state)
{
    (void)state;
    yard_job_spec_t spec;
    yard_error_t err = {0};
    struct {
        const char *text;
        uint32_t first, last, step, max;
    } ok[] = {
        {"0-999", 0, 999, 1, 0},   {"0-999%10", 0, 999, 1, 10},
        {"1-9:2", 1, 9, 2, 0},     {"1-9:2%3", 1, 9, 2, 3},
        {"5", 5, 5, 1, 0},         {"5%1", 5, 5, 1, 1},
        {"0-99999", 0, 99999, 1, 0},
        {"0-199999:2", 0, 199999, 2, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        memset (&spec, 0, sizeof spec);
        assert_int_equal (cli_parse_array (ok[i].text, &spec, &err), 0);
        assert_true (spec.array);
        assert_int_equal (spec.array_first, ok[i].first);
        assert_int_equal (spec.array_last, ok[i].last);
        assert_int_equal (spec.array_step, ok[i].step);
        assert_int_equal (spec.array_max_running, ok[i].max);
    }
    const char *bad[] = {"", "-", "1-", "-5", "9-1", "1-9:0", "1-9:",
                         "1:2", "1-9%", "1-9%0", "a-b", "1-9%x", "1 - 9",
                         "0-100000", "4294967296"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset (&spec, 0, sizeof spec);
        memset (&err, 0, sizeof err);
        assert_true (cli_parse_array (bad[i], &spec, &err) < 0);
        assert_false (spec.array);
        assert_non_null (strstr (err.text, "--array"));
    }
    /* through submit */
    struct cli_submit s;
    assert_int_equal (parse (&s, &err, "--array", "0-49%5", "--after", "3",
                             "--", "sh", "-c", "x", NULL),
                      0);
    assert_true (s.spec.array);
    assert_int_equal (s.spec.array_last, 49);
    assert_int_equal (s.spec.array_max_running, 5);
    assert_int_equal (s.spec.n_after, 1);
    assert_int_equal (s.spec.argc, 3);
    cli_submit_clear (&s);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_after),
        cmocka_unit_test (test_array),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
