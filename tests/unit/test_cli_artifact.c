/* test_cli_artifact.c - parsing and rendering of `yard artifact`, `yard
 * checkpoints` and submit's --stage-in/--collect/--keep-checkpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_artifact.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"

static int
parse (struct cli_artifact *a, yard_error_t *e, int argc, ...)
{
    char *argv[8];
    va_list ap;
    va_start (ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg (ap, char *);
    va_end (ap);
    return cli_parse_artifact (argc, argv, a, e);
}

static void
test_parse_artifact (void **state)
{
    (void)state;
    struct cli_artifact a;
    yard_error_t e = { 0 };
    assert_int_equal (parse (&a, &e, 3, "artifact", "put", "dir"), 0);
    assert_int_equal (a.verb, CLI_ARTIFACT_PUT);
    assert_string_equal (a.path, "dir");
    assert_int_equal (parse (&a, &e, 5, "artifact", "--json", "get", D1,
                             "out"),
                      0);
    assert_int_equal (a.verb, CLI_ARTIFACT_GET);
    assert_true (a.json);
    assert_string_equal (a.digest, D1);
    assert_string_equal (a.path, "out");
    assert_int_equal (parse (&a, &e, 4, "artifact", "put", "--", "-odd"), 0);
    assert_string_equal (a.path, "-odd");
    assert_int_equal (parse (&a, &e, 2, "artifact", "--help"), 0);
    assert_true (a.help);
    assert_int_equal (parse (&a, &e, 1, "artifact"), -EINVAL);
    assert_int_equal (parse (&a, &e, 2, "artifact", "put"), -EINVAL);
    assert_int_equal (parse (&a, &e, 3, "artifact", "get", D1), -EINVAL);
    assert_int_equal (parse (&a, &e, 4, "artifact", "put", "a", "b"),
                      -EINVAL);
    assert_int_equal (parse (&a, &e, 3, "artifact", "stat", "ABC"), -EINVAL);
    assert_non_null (strstr (e.text, "not an artifact digest"));
    assert_int_equal (parse (&a, &e, 3, "artifact", "nope", "x"), -EINVAL);
    assert_int_equal (parse (&a, &e, 3, "artifact", "--bad", "put"),
                      -EINVAL);
}

static void
test_parse_checkpoints_and_submit (void **state)
{
    (void)state;
    struct cli_checkpoints c;
    yard_error_t e = { 0 };
    char *ok[] = { "checkpoints", "--json", "42" };
    assert_int_equal (cli_parse_checkpoints (3, ok, &c, &e), 0);
    assert_int_equal (c.job_id, 42);
    assert_true (c.json);
    char *bad[] = { "checkpoints", "x" };
    assert_int_equal (cli_parse_checkpoints (2, bad, &c, &e), -EINVAL);
    char *none[] = { "checkpoints" };
    assert_int_equal (cli_parse_checkpoints (1, none, &c, &e), -EINVAL);

    struct cli_submit s;
    char *sub[] = { "submit", "--stage-in", "data/x=" D1, "--collect", "out",
                    "--keep-checkpoints", "3", "--", "true" };
    assert_int_equal (cli_parse_submit (9, sub, &s, &e), 0);
    assert_int_equal (s.spec.n_stage_in, 1);
    assert_string_equal (s.spec.stage_in[0].path, "data/x");
    assert_string_equal (s.spec.stage_in[0].digest, D1);
    assert_int_equal (s.spec.n_collect, 1);
    assert_string_equal (s.spec.collect[0], "out");
    assert_int_equal (s.spec.keep_checkpoints, 3);
    cli_submit_clear (&s);
    char *nodig[] = { "submit", "--stage-in", "data", "--", "true" };
    assert_int_equal (cli_parse_submit (5, nodig, &s, &e), -EINVAL);
    cli_submit_clear (&s);
    char *zero[] = { "submit", "--keep-checkpoints", "0", "--", "true" };
    assert_int_equal (cli_parse_submit (5, zero, &s, &e), -EINVAL);
    cli_submit_clear (&s);
}

static void
test_render (void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    struct cli_artifact a = { .verb = CLI_ARTIFACT_PUT };
    yard_artifact_t art = { .digest = D1, .present = true, .is_tree = true,
                            .size = 2048, .files = 3 };
    assert_int_equal (cli_print_artifact (f, &a, &art), 0);
    yard_checkpoint_t ck = { .attempt = 2, .name = "ckpt-100.bin",
                             .step = 100, .digest = D1, .size = 10,
                             .time_ms = 1700000000000, .node = "w2" };
    assert_int_equal (cli_print_checkpoints (f, &ck, 1), 0);
    assert_int_equal (cli_print_checkpoints (f, NULL, 0), 0);
    fclose (f);
    assert_non_null (strstr (buf, D1 "  2K  tree of 3 files\n"));
    assert_non_null (strstr (buf, "ckpt-100.bin"));
    assert_non_null (strstr (buf, "no checkpoints"));
    free (buf);
    json_t *j = cli_checkpoints_json (&ck, 1);
    assert_non_null (j);
    assert_int_equal (json_integer_value (json_object_get (
                          json_array_get (j, 0), "step")),
                      100);
    json_decref (j);
    j = cli_artifact_json (&a, &art);
    assert_string_equal (json_string_value (json_object_get (j, "kind")),
                         "tree");
    json_decref (j);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_artifact),
        cmocka_unit_test (test_parse_checkpoints_and_submit),
        cmocka_unit_test (test_render),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
