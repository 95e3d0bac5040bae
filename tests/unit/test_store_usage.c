/* test_store_usage.c - attempts' resource use in the scheduler's store
 * (scheduler/store_usage.c): put and get, live samples replaced until the
 * final one, which nothing replaces; and the latest point of each metric
 * key of an attempt (what `yard watch` shows). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "store_metrics.h"
#include "store_usage.h"
#include "store_fixture.h"

static int
open_store (struct store_fixture *f)
{
    yard_error_t err = { 0 };
    f->st = yard_store_create (f->db, false, &err);
    if (!f->st || yard_store_usage_init (f->st, &err) < 0)
        return -1;
    return 0;
}

static int
setup (void **state)
{
    return store_fixture_setup (state, "ustore", open_store);
}

static void
put_use (yard_store_t *st, uint32_t attempt, uint64_t peak, bool final)
{
    Yard__ResourceUse u = YARD__RESOURCE_USE__INIT;
    u.has_rss = true;
    u.peak_rss_bytes = peak;
    u.source = (char *)"rusage";
    u.final = final;
    assert_int_equal (yard_store_usage_put (st, 9, attempt, &u), 0);
}

static uint64_t
peak_of (yard_store_t *st, uint32_t attempt)
{
    Yard__ResourceUse *u = NULL;
    int rc = yard_store_usage_get (st, 9, attempt, &u);
    if (rc == -ENOENT)
        return 0;
    assert_int_equal (rc, 0);
    uint64_t v = u->peak_rss_bytes;
    assert_string_equal (u->source, "rusage");
    yard__resource_use__free_unpacked (u, NULL);
    return v;
}

static void
test_live_then_final (void **state)
{
    struct store_fixture *f = *state;
    assert_int_equal (peak_of (f->st, 1), 0);
    put_use (f->st, 1, 100, false);
    put_use (f->st, 2, 7, false);
    assert_int_equal (yard_store_commit (f->st), 0);
    assert_int_equal (peak_of (f->st, 1), 100);
    put_use (f->st, 1, 200, false);     /* a newer sample replaces */
    assert_int_equal (peak_of (f->st, 1), 200);
    put_use (f->st, 1, 300, true);      /* the final one too */
    put_use (f->st, 1, 400, false);     /* but nothing replaces it */
    put_use (f->st, 1, 500, true);
    assert_int_equal (yard_store_commit (f->st), 0);
    assert_int_equal (peak_of (f->st, 1), 300);
    assert_int_equal (peak_of (f->st, 2), 7);
}

static void
put_points (yard_store_t *st, uint32_t attempt, uint64_t first,
            const char *const *keys, const int64_t *steps,
            const double *values, size_t n)
{
    Yard__MetricPoint *p = calloc (n, sizeof *p);
    Yard__MetricPoint **pp = calloc (n, sizeof *pp);
    for (size_t i = 0; i < n; i++) {
        yard__metric_point__init (&p[i]);
        p[i].seq = first + i;
        p[i].step = steps[i];
        p[i].key = (char *)keys[i];
        p[i].value = values[i];
        p[i].time_ms = 1000 + (int64_t)i;
        pp[i] = &p[i];
    }
    Yard__MetricsBatch b = YARD__METRICS_BATCH__INIT;
    b.job_id = 9;
    b.attempt = attempt;
    b.first_seq = first;
    b.next_seq = first + n;
    b.n_points = n;
    b.points = pp;
    uint64_t held;
    assert_int_equal (yard_store_metrics_put (st, &b, &held), 0);
    free (p);
    free (pp);
}

struct got {
    char keys[8][16];
    int64_t steps[8];
    double values[8];
    size_t n;
};

static int
collect (const char *key, int64_t step, double value, int64_t time_ms,
         void *arg)
{
    (void)time_ms;
    struct got *g = arg;
    snprintf (g->keys[g->n], sizeof g->keys[0], "%s", key);
    g->steps[g->n] = step;
    g->values[g->n++] = value;
    return 0;
}

static void
test_latest_metrics (void **state)
{
    struct store_fixture *f = *state;
    static const char *const k1[] = { "loss", "total_steps", "loss", "acc",
                                      "loss" };
    static const int64_t s1[] = { 1, 1, 2, 2, 3 };
    static const double v1[] = { 0.9, 100, 0.8, 0.5, 0.7 };
    put_points (f->st, 1, 0, k1, s1, v1, 5);
    static const char *const k2[] = { "loss" };
    static const int64_t s2[] = { 2 };
    static const double v2[] = { 0.1 };
    put_points (f->st, 2, 0, k2, s2, v2, 1);
    assert_int_equal (yard_store_commit (f->st), 0);
    struct got g;
    memset (&g, 0, sizeof g);
    assert_int_equal (yard_store_metrics_latest (f->st, 9, 1, 64, collect,
                                                 &g),
                      0);
    assert_int_equal (g.n, 3); /* by key */
    assert_string_equal (g.keys[0], "acc");
    assert_string_equal (g.keys[1], "loss");
    assert_int_equal (g.steps[1], 3);
    assert_true (g.values[1] == 0.7);
    assert_string_equal (g.keys[2], "total_steps");
    assert_true (g.values[2] == 100);
    memset (&g, 0, sizeof g);
    assert_int_equal (yard_store_metrics_latest (f->st, 9, 1, 1, collect,
                                                 &g),
                      0);
    assert_int_equal (g.n, 1); /* the limit */
    memset (&g, 0, sizeof g);
    assert_int_equal (yard_store_metrics_latest (f->st, 9, 2, 64, collect,
                                                 &g),
                      0);
    assert_int_equal (g.n, 1);
    assert_true (g.values[0] == 0.1);
    memset (&g, 0, sizeof g);
    assert_int_equal (yard_store_metrics_latest (f->st, 9, 3, 64, collect,
                                                 &g),
                      0);
    assert_int_equal (g.n, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_live_then_final, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_latest_metrics, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
