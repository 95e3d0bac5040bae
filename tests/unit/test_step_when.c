/* test_step_when.c - conditions of conditional pipeline steps
 * (common/step_when.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "step_when.h"

static void
test_parse (void **state)
{
    (void)state;
    yard_step_when_t w;
    assert_int_equal (
        yard_step_when_parse ("steps.drift.metrics.psi_max > 0.2", &w, NULL),
        0);
    assert_string_equal (w.step, "drift");
    assert_string_equal (w.key, "psi_max");
    assert_string_equal (w.op, ">");
    assert_true (w.value == 0.2);
    /* metric keys may hold dots; >= is not read as > */
    assert_int_equal (
        yard_step_when_parse ("steps.d-1.metrics.psi.age>=1e-1", &w, NULL), 0);
    assert_string_equal (w.key, "psi.age");
    assert_string_equal (w.op, ">=");
    assert_true (w.value == 0.1);
    assert_int_equal (
        yard_step_when_parse ("steps.s.metrics.k != -3", &w, NULL), 0);
    assert_string_equal (w.op, "!=");
    assert_true (w.value == -3);
    static const char *bad[] = {
        "",
        "psi_max > 0.2",
        "steps.drift.psi_max > 0.2",
        "steps..metrics.k > 1",
        "steps.d.metrics. > 1",
        "steps.d.metrics.k = 1",
        "steps.d.metrics.k > ",
        "steps.d.metrics.k > x",
        "steps.d.metrics.k > 1 and more",
        "steps.d$.metrics.k > 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yard_error_t err;
        yard_error_clear (&err);
        assert_int_equal (yard_step_when_parse (bad[i], &w, &err), -EINVAL);
        assert_true (err.text[0] != '\0');
    }
    assert_int_equal (yard_step_when_parse (NULL, &w, NULL), -EINVAL);
}

static void
test_eval (void **state)
{
    (void)state;
    yard_step_when_t w;
    char why[256];
    assert_int_equal (
        yard_step_when_parse ("steps.drift.metrics.psi_max > 0.2", &w, NULL),
        0);
    assert_true (yard_step_when_eval (&w, true, 0.35, why, sizeof why));
    assert_string_equal (why, "steps.drift.metrics.psi_max = 0.35, > 0.2");
    assert_false (yard_step_when_eval (&w, true, 0.2, why, sizeof why));
    assert_non_null (strstr (why, "not >"));
    assert_false (yard_step_when_eval (&w, false, 0, why, sizeof why));
    assert_non_null (strstr (why, "no metric psi_max"));
    assert_int_equal (yard_step_when_parse ("steps.a.metrics.n == 3", &w,
                                            NULL), 0);
    assert_true (yard_step_when_eval (&w, true, 3, NULL, 0));
    assert_false (yard_step_when_eval (&w, true, 3.5, NULL, 0));
    assert_int_equal (yard_step_when_parse ("steps.a.metrics.n <= 3", &w,
                                            NULL), 0);
    assert_true (yard_step_when_eval (&w, true, 3, NULL, 0));
    assert_false (yard_step_when_eval (&w, true, 4, NULL, 0));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse),
        cmocka_unit_test (test_eval),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
