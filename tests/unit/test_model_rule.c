/* test_model_rule.c - model names and registration conditions
 * (scheduler/model_rule.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "models.h"

static void
test_names (void **state)
{
    (void)state;
    assert_true (yard_model_name_ok ("loan-default"));
    assert_true (yard_model_name_ok ("m_1.v2"));
    assert_false (yard_model_name_ok (""));
    assert_false (yard_model_name_ok (NULL));
    assert_false (yard_model_name_ok ("-x"));
    assert_false (yard_model_name_ok (".hidden"));
    assert_false (yard_model_name_ok ("a/b"));
    assert_false (yard_model_name_ok ("a b"));
    char big[200];
    memset (big, 'a', sizeof big);
    big[129] = '\0';
    assert_false (yard_model_name_ok (big));
    big[128] = '\0';
    assert_true (yard_model_name_ok (big));
}

static void
test_parse (void **state)
{
    (void)state;
    yard_model_when_t w;
    assert_int_equal (yard_model_when_parse (NULL, &w, NULL), 0);
    assert_true (w.always);
    assert_int_equal (yard_model_when_parse ("always", &w, NULL), 0);
    assert_true (w.always);
    assert_int_equal (yard_model_when_parse ("metric acc > latest", &w, NULL),
                      0);
    assert_false (w.always);
    assert_string_equal (w.key, "acc");
    assert_string_equal (w.op, ">");
    assert_true (w.vs_latest);
    assert_int_equal (yard_model_when_parse ("metric loss <= 0.25", &w, NULL),
                      0);
    assert_false (w.vs_latest);
    assert_true (w.constant == 0.25);
    static const char *bad[] = {
        "sometimes", "metric acc", "metric acc > ", "metric acc == latest",
        "metric acc > latest extra", "metric acc > 1x", "metrics acc > 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yard_error_t err;
        yard_error_clear (&err);
        assert_int_equal (yard_model_when_parse (bad[i], &w, &err), -EINVAL);
        assert_true (err.text[0] != '\0');
    }
}

static void
test_holds (void **state)
{
    (void)state;
    yard_model_when_t w;
    char why[256];
    assert_int_equal (yard_model_when_parse ("metric acc > latest", &w, NULL),
                      0);
    /* better than the latest version */
    assert_true (yard_model_when_holds (&w, true, 0.91, true, 0.90, why,
                                        sizeof why));
    /* not better (equal is not better) */
    assert_false (yard_model_when_holds (&w, true, 0.90, true, 0.90, why,
                                         sizeof why));
    assert_non_null (strstr (why, "is not"));
    /* no version yet, or the latest has no such metric: registers */
    assert_true (yard_model_when_holds (&w, true, 0.5, false, 0, why,
                                        sizeof why));
    /* the job did not report the metric: never */
    assert_false (yard_model_when_holds (&w, false, 0, true, 0.1, why,
                                         sizeof why));
    assert_non_null (strstr (why, "no metric acc"));
    assert_int_equal (yard_model_when_parse ("metric loss < latest", &w, NULL),
                      0);
    assert_true (yard_model_when_holds (&w, true, 0.2, true, 0.3, why,
                                        sizeof why));
    assert_false (yard_model_when_holds (&w, true, 0.4, true, 0.3, why,
                                         sizeof why));
    assert_int_equal (yard_model_when_parse ("metric acc >= 0.8", &w, NULL),
                      0);
    assert_true (yard_model_when_holds (&w, true, 0.8, true, 0.99, why,
                                        sizeof why));
    assert_false (yard_model_when_holds (&w, true, 0.79, false, 0, why,
                                         sizeof why));
    assert_int_equal (yard_model_when_parse ("always", &w, NULL), 0);
    assert_true (yard_model_when_holds (&w, false, 0, false, 0, why,
                                        sizeof why));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_names),
        cmocka_unit_test (test_parse),
        cmocka_unit_test (test_holds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
