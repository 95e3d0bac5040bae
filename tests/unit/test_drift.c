/* test_drift.c - PSI and KS of yard-drift (tools/drift.c) against values
 * worked out by hand from the definitions in drift.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drift.h"

/* the PSI term of one bin, with the floor of drift.h */
static double
term (double c, double r)
{
    if (c < YARD_DRIFT_EPS)
        c = YARD_DRIFT_EPS;
    if (r < YARD_DRIFT_EPS)
        r = YARD_DRIFT_EPS;
    return (c - r) * log (c / r);
}

static void
fill (double *v, size_t n, double first)
{
    for (size_t i = 0; i < n; i++)
        v[i] = first + (double)i;
}

static void
test_identical (void **state)
{
    (void)state;
    double a[100], b[100];
    fill (a, 100, 1);
    fill (b, 100, 1);
    assert_true (fabs (yard_drift_psi (a, 100, b, 100)) < 1e-12);
    fill (a, 100, 1);
    fill (b, 100, 1);
    assert_true (fabs (yard_drift_ks (a, 100, b, 100)) < 1e-12);
}

/* Reference 1..100: decile edges 1 + 9.9k (10.9, 20.8, ..., 90.1), ten
 * values per bin.  Current 51..150: bins 0-4 empty, bins 5-8 ten values
 * each (51-60 above 50.5 and at most 60.4, ...), bin 9 sixty (91-150). */
static void
test_shift (void **state)
{
    (void)state;
    double a[100], b[100];
    fill (a, 100, 1);
    fill (b, 100, 51);
    double want = 5 * term (0, 0.1) + 4 * term (0.1, 0.1) + term (0.6, 0.1);
    assert_true (fabs (want - 4.346303) < 1e-5); /* by hand, see above */
    assert_true (fabs (yard_drift_psi (a, 100, b, 100) - want) < 1e-9);
    /* F_ref(50) = 0.5, F_cur(50) = 0 */
    fill (a, 100, 1);
    fill (b, 100, 51);
    assert_true (fabs (yard_drift_ks (a, 100, b, 100) - 0.5) < 1e-12);
}

/* Everything in the first bin: 0.9 ln 10 + 9 (1e-4 - 0.1) ln (1e-3). */
static void
test_collapsed (void **state)
{
    (void)state;
    double a[100], b[50];
    fill (a, 100, 1);
    for (int i = 0; i < 50; i++)
        b[i] = 5;
    double want = 0.9 * log (10) + 9 * (1e-4 - 0.1) * log (1e-3);
    assert_true (fabs (yard_drift_psi (a, 100, b, 50) - want) < 1e-9);
    fill (a, 100, 1);
    /* F_cur jumps to 1 at 5, F_ref(5) = 0.05 */
    assert_true (fabs (yard_drift_ks (a, 100, b, 50) - 0.95) < 1e-12);
}

/* Ties: a reference with many equal values merges equal edges. */
static void
test_ties (void **state)
{
    (void)state;
    double a[10] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    double b[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    /* deciles: 0 (x7, merged into one edge), then 0.1*9=0.9*... the 0.8
     * quantile is 0 + 0.2*(1-0) = 0.2, the 0.9 is 1: edges {0, 0.2, 1}.
     * bins: <=0, (0,0.2], (0.2,1], >1: ref .8 0 .2 0, cur .5 0 .5 0 */
    double want = term (0.5, 0.8) + term (0.5, 0.2);
    assert_true (fabs (yard_drift_psi (a, 10, b, 10) - want) < 1e-9);
    double c[10] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    double d[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    /* at 0: 0.8 vs 0.5 */
    assert_true (fabs (yard_drift_ks (c, 10, d, 10) - 0.3) < 1e-12);
}

static void
test_empty (void **state)
{
    (void)state;
    double a[1] = {1};
    assert_true (yard_drift_psi (a, 1, a, 0) < 0);
    assert_true (yard_drift_ks (a, 0, a, 1) < 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_identical), cmocka_unit_test (test_shift),
        cmocka_unit_test (test_collapsed), cmocka_unit_test (test_ties),
        cmocka_unit_test (test_empty),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
