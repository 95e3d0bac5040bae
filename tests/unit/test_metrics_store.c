/* test_metrics_store.c - job metrics in the scheduler's store
 * (scheduler/store_metrics.c): exact-continuation batches (duplicates,
 * gaps and overlaps are not stored twice), malformed counts, the query
 * order, the supersede rule, limits, and the schema migration of a
 * version-1 database. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "store_metrics.h"
#include "store_fixture.h"

static int
open_store (struct store_fixture *f)
{
    yard_error_t err = { 0 };
    f->st = yard_store_create (f->db, false, &err);
    return f->st ? 0 : -1;
}

static int
setup (void **state)
{
    return store_fixture_setup (state, "mstore", open_store);
}

/* Store lines [first, next) of job 1 attempt a: one point "k" per line
 * with step = step0 + (line - first). */
static int
put (yard_store_t *st, uint32_t a, uint64_t first, uint64_t next,
     int64_t step0, uint64_t malformed, uint64_t *held)
{
    size_t n = (size_t)(next - first);
    Yard__MetricPoint *p = calloc (n ? n : 1, sizeof *p);
    Yard__MetricPoint **pp = calloc (n ? n : 1, sizeof *pp);
    for (size_t i = 0; i < n; i++) {
        yard__metric_point__init (&p[i]);
        p[i].seq = first + i;
        p[i].step = step0 + (int64_t)i;
        p[i].key = (char *)"k";
        p[i].value = (double)a * 1000 + (double)i;
        p[i].time_ms = 5;
        pp[i] = &p[i];
    }
    Yard__MetricsBatch b = YARD__METRICS_BATCH__INIT;
    b.job_id = 1;
    b.attempt = a;
    b.first_seq = first;
    b.next_seq = next;
    b.points = pp;
    b.n_points = n;
    b.malformed = malformed;
    int rc = yard_store_metrics_put (st, &b, held);
    if (rc == 0)
        rc = yard_store_commit (st);
    free (p);
    free (pp);
    return rc;
}

struct rows {
    size_t n;
    uint32_t attempt[64];
    int64_t step[64];
    bool sup[64];
    char key[64][8];
};

static int
row_cb (const yard_store_metric_t *m, void *arg)
{
    struct rows *r = arg;
    if (r->n < 64) {
        r->attempt[r->n] = m->attempt;
        r->step[r->n] = m->step;
        r->sup[r->n] = m->superseded;
        snprintf (r->key[r->n], sizeof r->key[0], "%s", m->key);
    }
    r->n++;
    return 0;
}

static void
get (yard_store_t *st, const char *key, bool all, uint64_t limit,
     struct rows *r, bool *trunc, uint64_t *malformed)
{
    memset (r, 0, sizeof *r);
    assert_int_equal (yard_store_metrics_get (st, 1, key, all, limit, row_cb,
                                              r, trunc, malformed),
                      0);
}

static void
test_continuation_only (void **state)
{
    struct store_fixture *f = *state;
    uint64_t held;
    struct rows r;
    bool trunc;
    uint64_t mal;
    assert_int_equal (put (f->st, 1, 0, 10, 0, 2, &held), 0);
    assert_int_equal (held, 10);
    /* a duplicate (lost ack): not stored again, malformed not recounted */
    assert_int_equal (put (f->st, 1, 0, 10, 0, 2, &held), 0);
    assert_int_equal (held, 10);
    /* an overlap and a gap: refused, the worker resends from 10 */
    assert_int_equal (put (f->st, 1, 5, 15, 5, 1, &held), 0);
    assert_int_equal (held, 10);
    assert_int_equal (put (f->st, 1, 12, 20, 12, 1, &held), 0);
    assert_int_equal (held, 10);
    assert_int_equal (put (f->st, 1, 10, 20, 10, 1, &held), 0);
    assert_int_equal (held, 20);
    get (f->st, NULL, false, 1000, &r, &trunc, &mal);
    assert_int_equal (r.n, 20);
    assert_int_equal (mal, 3);
    assert_false (trunc);
    assert_int_equal (yard_store_metrics_held (f->st, 1, 1, &held), 0);
    assert_int_equal (held, 20);
    assert_int_equal (yard_store_metrics_held (f->st, 1, 2, &held), 0);
    assert_int_equal (held, 0);
    /* limit */
    get (f->st, "k", false, 7, &r, &trunc, &mal);
    assert_int_equal (r.n, 7);
    assert_true (trunc);
    get (f->st, "nope", false, 7, &r, &trunc, &mal);
    assert_int_equal (r.n, 0);
}

static void
test_supersede (void **state)
{
    struct store_fixture *f = *state;
    uint64_t held, mal;
    struct rows r;
    bool trunc;
    /* attempt 1: steps 0..9; attempt 2 resumed at 5: 5..9; attempt 3
     * resumed at 8: 8..11 */
    assert_int_equal (put (f->st, 1, 0, 10, 0, 0, &held), 0);
    assert_int_equal (put (f->st, 2, 0, 5, 5, 0, &held), 0);
    assert_int_equal (put (f->st, 3, 0, 4, 8, 0, &held), 0);
    get (f->st, NULL, false, 1000, &r, &trunc, &mal);
    /* 1: 0..4, 2: 5..7, 3: 8..11 */
    assert_int_equal (r.n, 12);
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal (r.step[i], (int64_t)i);
        assert_int_equal (r.attempt[i], i < 5 ? 1 : i < 8 ? 2 : 3);
        assert_false (r.sup[i]);
    }
    get (f->st, NULL, true, 1000, &r, &trunc, &mal);
    assert_int_equal (r.n, 19);
    size_t sup = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (i > 0) /* by step, then attempt */
            assert_true (r.step[i - 1] < r.step[i]
                         || (r.step[i - 1] == r.step[i]
                             && r.attempt[i - 1] < r.attempt[i]));
        bool want = (r.attempt[i] == 1 && r.step[i] >= 5)
                    || (r.attempt[i] == 2 && r.step[i] >= 8);
        assert_int_equal (r.sup[i], want);
        sup += r.sup[i];
    }
    assert_int_equal (sup, 7);
}

static void
test_migration_from_v1 (void **state)
{
    struct store_fixture *f = *state;
    yard_store_destroy (&f->st);
    /* make it a version-1 database: no metrics tables */
    sqlite3 *db;
    assert_int_equal (sqlite3_open (f->db, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "DROP TABLE metrics;"
                                        "DROP TABLE metric_attempts;"
                                        "PRAGMA user_version = 1;",
                                    NULL, NULL, NULL),
                      SQLITE_OK);
    sqlite3_close (db);
    yard_error_t err = { 0 };
    f->st = yard_store_create (f->db, false, &err);
    assert_non_null (f->st);
    uint64_t held;
    assert_int_equal (put (f->st, 1, 0, 3, 0, 0, &held), 0);
    assert_int_equal (held, 3);
    yard_store_destroy (&f->st);
    assert_int_equal (sqlite3_open (f->db, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &s,
                                          NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (s), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (s, 0), YARD_STORE_SCHEMA_VERSION);
    sqlite3_finalize (s);
    sqlite3_close (db);
    f->st = yard_store_create (f->db, false, &err);
    assert_non_null (f->st);
}

static void
test_bad_points_skipped (void **state)
{
    struct store_fixture *f = *state;
    Yard__MetricPoint p[4];
    Yard__MetricPoint *pp[5];
    const char *keys[] = { "ok", "", "bad\xff", "ok" };
    uint64_t seqs[] = { 0, 1, 2, 9 };
    for (int i = 0; i < 4; i++) {
        yard__metric_point__init (&p[i]);
        p[i].key = (char *)keys[i];
        p[i].seq = seqs[i];
        pp[i] = &p[i];
    }
    pp[4] = NULL;
    Yard__MetricsBatch b = YARD__METRICS_BATCH__INIT;
    b.job_id = 1;
    b.attempt = 1;
    b.first_seq = 0;
    b.next_seq = 3;
    b.points = pp;
    b.n_points = 5;
    b.malformed = 1000; /* more than its lines: clamped */
    uint64_t held, mal;
    assert_int_equal (yard_store_metrics_put (f->st, &b, &held), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
    assert_int_equal (held, 3);
    struct rows r;
    bool trunc;
    get (f->st, NULL, true, 100, &r, &trunc, &mal);
    assert_int_equal (r.n, 1);
    assert_string_equal (r.key[0], "ok");
    assert_int_equal (mal, 3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_continuation_only, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_supersede, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_migration_from_v1, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_bad_points_skipped, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
