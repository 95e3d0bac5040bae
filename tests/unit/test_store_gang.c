/* test_store_gang.c - scheduler/store_gang.c: a gang's parts per attempt
 * and rank, their flags and port, kept across a reopen, earlier attempts
 * kept as history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_gang.h"
#include "store_fixture.h"

struct seen {
    int n;
    yard_store_gang_row_t rows[8];
    char nodes[8][32];
    char cpus[8][32];
    char addr[64];
};

static int
collect (const yard_store_gang_row_t *row, void *arg)
{
    struct seen *s = arg;
    if (s->n >= 8)
        return -ERANGE;
    s->rows[s->n] = *row;
    snprintf (s->nodes[s->n], sizeof s->nodes[0], "%s", row->node);
    snprintf (s->cpus[s->n], sizeof s->cpus[0], "%s",
              row->alloc && row->alloc->cpus ? row->alloc->cpus : "");
    snprintf (s->addr, sizeof s->addr, "%s", row->master_addr);
    s->rows[s->n].node = s->nodes[s->n];
    s->rows[s->n].alloc = NULL;
    s->rows[s->n].master_addr = s->addr;
    s->n++;
    return 0;
}

static int
open_store (struct store_fixture *f)
{
    yard_error_t err = { 0 };
    if (!(f->st = yard_store_create (f->db, true, &err))
        || yard_store_gang_init (f->st, &err) < 0)
        return -1;
    return 0;
}

static int
setup (void **state)
{
    return store_fixture_setup (state, "gang", open_store);
}

static void
test_parts (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = f->st;
    Yard__Allocation a = YARD__ALLOCATION__INIT;
    a.cpus = "0-3";
    const char *nodes[] = { "a", "b" };
    for (uint32_t att = 1; att <= 2; att++)
        for (uint32_t r = 0; r < 2; r++) {
            yard_store_gang_row_t row
                = { .job_id = 7,
                    .attempt = att,
                    .rank = r,
                    .node = att == 1 ? nodes[r] : nodes[1 - r],
                    .alloc = r == 0 ? &a : NULL,
                    .master_addr = "10.0.0.1",
                    .assigned_ms = 1000 * att };
            assert_int_equal (yard_store_gang_put (st, &row), 0);
        }
    assert_int_equal (yard_store_gang_flags (st, 7, 2, 1, true, false), 0);
    assert_int_equal (yard_store_gang_port (st, 7, 2, 29500), 0);
    assert_int_equal (yard_store_commit (st), 0);
    yard_store_destroy (&f->st);

    assert_int_equal (open_store (f), 0); /* the tables again: fine */
    st = f->st;
    struct seen s = { 0 };
    assert_int_equal (yard_store_gang_get (st, 7, collect, &s), 0);
    assert_int_equal (s.n, 4); /* attempt 1 kept as history */
    assert_int_equal (s.rows[0].attempt, 1);
    assert_string_equal (s.nodes[0], "a");
    assert_string_equal (s.cpus[0], "0-3");
    assert_int_equal (s.rows[1].port, 0);
    assert_int_equal (s.rows[2].attempt, 2);
    assert_int_equal (s.rows[2].rank, 0);
    assert_string_equal (s.nodes[2], "b");
    assert_int_equal (s.rows[2].port, 29500);
    assert_false (s.rows[2].started);
    assert_int_equal (s.rows[3].rank, 1);
    assert_true (s.rows[3].started);
    assert_false (s.rows[3].finished);
    assert_int_equal (s.rows[3].assigned_ms, 2000);
    assert_string_equal (s.cpus[3], ""); /* no allocation recorded */
    s.n = 0;
    assert_int_equal (yard_store_gang_get (st, 8, collect, &s), 0);
    assert_int_equal (s.n, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_parts, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
