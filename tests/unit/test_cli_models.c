/* test_cli_models.c - `yard model|schedule|trigger` argument handling:
 * usage errors (exit 2, with the command's usage) caught before anything is
 * sent, and --help for each command.  The scheduler endpoint points at a
 * closed port: none of these may need it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_commands.h"

static char out_buf[16384], err_buf[16384];

/* Run `yard ARGS...` (NULL-terminated); return the exit status. */
static int
run (const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "yard";
    argv[argc++] = "--scheduler";
    argv[argc++] = "tcp://127.0.0.1:1";
    argv[argc++] = "--timeout";
    argv[argc++] = "200ms";
    va_list ap;
    va_start (ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg (ap, const char *))
        argv[argc++] = (char *)a;
    va_end (ap);
    argv[argc] = NULL;
    FILE *out = fmemopen (out_buf, sizeof out_buf, "w");
    FILE *err = fmemopen (err_buf, sizeof err_buf, "w");
    int rc = cli_run (argc, argv, out, err);
    fclose (out);
    fclose (err);
    return rc;
}

static void
test_help (void **state)
{
    (void)state;
    assert_int_equal (run ("model", "--help", NULL), 0);
    assert_non_null (strstr (out_buf, "yard model register"));
    assert_non_null (strstr (out_buf, "--metric K=V"));
    assert_int_equal (run ("help", "schedule", NULL), 0);
    assert_non_null (strstr (out_buf, "day-of-week"));
    assert_int_equal (run ("trigger", "-h", NULL), 0);
    assert_non_null (strstr (out_buf, "dataset:NAME"));
    assert_int_equal (run ("--help", NULL), 0);
    assert_non_null (strstr (out_buf, "schedule"));
}

static void
test_usage_errors (void **state)
{
    (void)state;
    static const char *const cases[][8] = {
        {"model", "register", "m", NULL},
        {"model", "register", "m", "f", "--metric", "acc", NULL},
        {"model", "register", "m", "f", "--metric", "acc=high", NULL},
        {"model", "register", "m", "f", "--job", "x", NULL},
        {"model", "show", NULL},
        {"model", "show", "m", "--version", "0", NULL},
        {"model", "list", "extra", NULL},
        {"model", "frob", NULL},
        {"model", "list", "--bogus", NULL},
        {"schedule", "add", "n", "f.yaml", NULL},
        {"schedule", "add", "n", "--cron", NULL},
        {"schedule", "remove", NULL},
        {"trigger", "add", "n", "--on", "dataset:x", NULL},
        {"trigger", "add", "n", "f.yaml", "--param", "novalue", NULL},
        {"trigger", "zap", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *c = cases[i];
        int rc = run (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
        if (rc != 2)
            fail_msg ("case %zu (%s %s): exit %d, stderr %s", i, c[0],
                      c[1] ? c[1] : "", rc, err_buf);
        assert_non_null (strstr (err_buf, "usage: yard"));
    }
}

static void
test_unreachable (void **state)
{
    (void)state;
    /* a well-formed request to nobody: exit 3 */
    assert_int_equal (run ("model", "list", NULL), 3);
    assert_non_null (strstr (err_buf, "yard:"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_help),
        cmocka_unit_test (test_usage_errors),
        cmocka_unit_test (test_unreachable),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
