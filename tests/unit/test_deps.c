/* test_deps.c - the dependency and array index (scheduler/deps.c): the
 * condition table, parent -> dependents edges taken at a parent's end,
 * the hash map under churn (backward-shift deletion), the per-array
 * running counter and FIFO of set-aside members, and array membership
 * read from a spec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deps.h"

static void
test_eval (void **state)
{
    (void)state;
    const Yard__Dependency__Condition OK = YARD__DEPENDENCY__CONDITION__OK,
                                      ANY = YARD__DEPENDENCY__CONDITION__ANY,
                                      NOTOK =
                                          YARD__DEPENDENCY__CONDITION__NOTOK;
    const Yard__JobState run = YARD__JOB_STATE__JOB_RUNNING,
                         pend = YARD__JOB_STATE__JOB_PENDING,
                         done = YARD__JOB_STATE__JOB_COMPLETED,
                         fail = YARD__JOB_STATE__JOB_FAILED,
                         canc = YARD__JOB_STATE__JOB_CANCELLED,
                         tout = YARD__JOB_STATE__JOB_TIMEOUT;
    assert_int_equal (yard_dep_eval (OK, pend), YARD_DEP_WAIT);
    assert_int_equal (yard_dep_eval (OK, run), YARD_DEP_WAIT);
    assert_int_equal (yard_dep_eval (ANY, run), YARD_DEP_WAIT);
    assert_int_equal (yard_dep_eval (NOTOK, run), YARD_DEP_WAIT);
    assert_int_equal (yard_dep_eval (OK, done), YARD_DEP_MET);
    assert_int_equal (yard_dep_eval (OK, fail), YARD_DEP_NEVER);
    assert_int_equal (yard_dep_eval (OK, canc), YARD_DEP_NEVER);
    assert_int_equal (yard_dep_eval (OK, tout), YARD_DEP_NEVER);
    assert_int_equal (yard_dep_eval (ANY, done), YARD_DEP_MET);
    assert_int_equal (yard_dep_eval (ANY, fail), YARD_DEP_MET);
    assert_int_equal (yard_dep_eval (ANY, canc), YARD_DEP_MET);
    assert_int_equal (yard_dep_eval (NOTOK, done), YARD_DEP_NEVER);
    assert_int_equal (yard_dep_eval (NOTOK, fail), YARD_DEP_MET);
    assert_int_equal (yard_dep_eval (NOTOK, tout), YARD_DEP_MET);
    assert_string_equal (yard_dep_cond_name (NOTOK), "notok");
}

static void
test_create_destroy (void **state)
{
    (void)state;
    yard_deps_destroy (NULL);
    yard_deps_t *d = NULL;
    yard_deps_destroy (&d);
    d = yard_deps_create ();
    assert_non_null (d);
    assert_int_equal (yard_deps_add (d, 1, 2), 0);
    assert_int_equal (yard_deps_hold (d, 7, 8), 0);
    yard_deps_destroy (&d); /* frees what it holds (ASan checks) */
    assert_null (d);
}

static void
test_edges (void **state)
{
    (void)state;
    yard_deps_t *d = yard_deps_create ();
    uint64_t *v;
    assert_int_equal (yard_deps_add (d, 0, 5), -EINVAL);
    assert_int_equal (yard_deps_take (d, 1, &v), 0);
    assert_null (v);
    /* a chain and a fan-out: 1 -> {2, 3}, 2 -> {4} */
    assert_int_equal (yard_deps_add (d, 1, 2), 0);
    assert_int_equal (yard_deps_add (d, 1, 3), 0);
    assert_int_equal (yard_deps_add (d, 2, 4), 0);
    assert_int_equal (yard_deps_parents (d), 2);
    size_t n = yard_deps_take (d, 1, &v);
    assert_int_equal (n, 2);
    assert_int_equal (v[0], 2); /* order kept */
    assert_int_equal (v[1], 3);
    free (v);
    assert_int_equal (yard_deps_take (d, 1, &v), 0); /* taken once */
    assert_int_equal (yard_deps_parents (d), 1);
    n = yard_deps_take (d, 2, &v);
    assert_int_equal (n, 1);
    assert_int_equal (v[0], 4);
    free (v);
    assert_int_equal (yard_deps_parents (d), 0);
    /* clear forgets everything */
    assert_int_equal (yard_deps_add (d, 9, 10), 0);
    yard_deps_clear (d);
    assert_int_equal (yard_deps_take (d, 9, &v), 0);
    yard_deps_destroy (&d);
}

/* Many parents added and taken in a scrambled order: every take returns
 * exactly what was added (the map's deletion never loses an entry). */
static void
test_churn (void **state)
{
    (void)state;
    enum { N = 5000 };
    yard_deps_t *d = yard_deps_create ();
    for (uint64_t p = 1; p <= N; p++)
        for (uint64_t k = 0; k < p % 3 + 1; k++)
            assert_int_equal (yard_deps_add (d, p * 7919, p * 10 + k), 0);
    assert_int_equal (yard_deps_parents (d), N);
    for (uint64_t i = 0; i < N; i++) {
        uint64_t p = (i * 2654435761u) % N + 1; /* a permutation of 1..N */
        uint64_t *v;
        size_t n = yard_deps_take (d, p * 7919, &v);
        assert_int_equal (n, p % 3 + 1);
        for (size_t k = 0; k < n; k++)
            assert_int_equal (v[k], p * 10 + k);
        free (v);
        /* and new parents keep coming while others go */
        if (i % 2 == 0)
            assert_int_equal (yard_deps_add (d, (N + i + 1) * 7919, 1), 0);
    }
    assert_int_equal (yard_deps_parents (d), N / 2);
    yard_deps_destroy (&d);
}

static void
test_arrays (void **state)
{
    (void)state;
    yard_deps_t *d = yard_deps_create ();
    assert_int_equal (yard_deps_running (d, 100), 0);
    assert_int_equal (yard_deps_run_inc (d, 100), 0);
    assert_int_equal (yard_deps_run_inc (d, 100), 0);
    assert_int_equal (yard_deps_run_inc (d, 200), 0);
    assert_int_equal (yard_deps_running (d, 100), 2);
    assert_int_equal (yard_deps_running (d, 200), 1);
    assert_int_equal (yard_deps_hold (d, 100, 105), 0);
    assert_int_equal (yard_deps_hold (d, 100, 103), 0);
    assert_int_equal (yard_deps_unhold (d, 100), 105); /* FIFO */
    assert_int_equal (yard_deps_hold (d, 100, 104), 0);
    assert_int_equal (yard_deps_unhold (d, 100), 103);
    assert_int_equal (yard_deps_unhold (d, 100), 104);
    assert_int_equal (yard_deps_unhold (d, 100), 0);
    yard_deps_run_dec (d, 100);
    yard_deps_run_dec (d, 100);
    yard_deps_run_dec (d, 100); /* never below zero */
    assert_int_equal (yard_deps_running (d, 100), 0);
    assert_int_equal (yard_deps_running (d, 200), 1);
    yard_deps_run_dec (d, 999); /* unknown: nothing */
    yard_deps_destroy (&d);
}

static void
test_array_member (void **state)
{
    (void)state;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    Yard__ArraySpec a = YARD__ARRAY_SPEC__INIT;
    Yard__EnvVar e[3];
    Yard__EnvVar *ep[3] = {&e[0], &e[1], &e[2]};
    for (int i = 0; i < 3; i++)
        yard__env_var__init (&e[i]);
    e[0].key = "YARD_ARRAY_ID"; /* the user's own: shadowed */
    e[0].value = "1";
    e[1].key = "YARD_ARRAY_ID";
    e[1].value = "42";
    e[2].key = "YARD_ARRAY_INDEX";
    e[2].value = "7";
    spec.env = ep;
    spec.n_env = 3;
    uint64_t id;
    uint32_t idx;
    /* not an array without the ArraySpec, whatever the environment */
    assert_false (yard_job_array_member (&spec, &id, &idx));
    assert_int_equal (id, 0);
    spec.array = &a;
    assert_false (yard_job_array_member (&spec, &id, &idx));
    a.set = true;
    assert_true (yard_job_array_member (&spec, &id, &idx));
    assert_int_equal (id, 42);
    assert_int_equal (idx, 7);
    e[2].value = "x7";
    assert_false (yard_job_array_member (&spec, &id, &idx));
    assert_false (yard_job_array_member (NULL, &id, &idx));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_eval),
        cmocka_unit_test (test_create_destroy),
        cmocka_unit_test (test_edges),
        cmocka_unit_test (test_churn),
        cmocka_unit_test (test_arrays),
        cmocka_unit_test (test_array_member),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
