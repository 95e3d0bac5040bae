/* test_store_pipeline.c - pipeline runs, steps, datasets and artifact
 * references in SQLite (scheduler/store_pipeline.c, store_datasets.c):
 * runs back with their spec and steps in order, cache-key hits newest
 * first and only for completed steps, the previous key parts of a step,
 * dataset versions numbered per name, and every row back after a reopen. */
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
#include "store_datasets.h"
#include "store_pipeline.h"
#include "store_fixture.h"

static int
open_store (struct store_fixture *f)
{
    yard_error_t err = {0};
    if (!(f->st = yard_store_create (f->db, false, &err))
        || yard_store_pipeline_init (f->st, &err) < 0
        || yard_store_datasets_init (f->st, &err) < 0)
        return -1;
    return 0;
}

static int
setup (void **state)
{
    return store_fixture_setup (state, "pipeline", open_store);
}

/* A run of pipeline name with steps a (key ka, state sa) and b. */
static uint64_t
insert_run (yard_store_t *st, const char *name, const char *ka,
            Yard__StepState sa, const char *outs)
{
    Yard__PipelineStep a = YARD__PIPELINE_STEP__INIT;
    Yard__PipelineStep b = YARD__PIPELINE_STEP__INIT;
    Yard__PipelineStep *steps[] = {&a, &b};
    a.name = "a";
    a.run = "true";
    b.name = "b";
    b.run = "true";
    Yard__PipelineSpec spec = YARD__PIPELINE_SPEC__INIT;
    spec.name = (char *)name;
    spec.steps = steps;
    spec.n_steps = 2;
    yard_pstep_t ps[2] = {
        {.name = "a", .state = sa, .cache_key = (char *)ka,
         .key_parts = (char *)"{\"command\":\"true\"}", .reused_step = "",
         .reason = "", .outputs = (char *)outs},
        {.name = "b", .state = YARD__STEP_STATE__STEP_WAITING,
         .cache_key = "", .key_parts = "", .reused_step = "", .reason = "",
         .outputs = "[]"},
    };
    yard_prun_t run = {.name = (char *)name, .spec = &spec, .origin = "cli",
                       .state = YARD__PIPELINE_STATE__PIPELINE_RUNNING,
                       .created_ms = 1000, .reason = "", .inputs = "{}",
                       .steps = ps, .nsteps = 2};
    assert_int_equal (yard_store_prun_insert (st, &run), 0);
    assert_int_equal (yard_store_commit (st), 0);
    return run.id;
}

struct hits {
    uint64_t runs[8];
    size_t n;
};

static int
hit (uint64_t run_id, const char *step, const char *outputs, void *arg)
{
    struct hits *h = arg;
    assert_string_equal (step, "a");
    assert_non_null (outputs);
    h->runs[h->n++] = run_id;
    return 0;
}

static void
test_runs (void **state)
{
    struct store_fixture *f = *state;
    uint64_t r1 = insert_run (f->st, "p", "k1",
                              YARD__STEP_STATE__STEP_COMPLETED, "[]");
    uint64_t r2 = insert_run (f->st, "p", "k1",
                              YARD__STEP_STATE__STEP_FAILED, "[]");
    uint64_t r3 = insert_run (f->st, "p", "k1",
                              YARD__STEP_STATE__STEP_COMPLETED,
                              "[{\"name\":\"o\"}]");
    uint64_t r4 = insert_run (f->st, "q", "k2",
                              YARD__STEP_STATE__STEP_COMPLETED, "[]");
    assert_true (r1 < r2 && r2 < r3 && r3 < r4);
    /* hits: completed only, newest first */
    struct hits h = {0};
    assert_int_equal (yard_store_pstep_hits (f->st, "k1", hit, &h), 0);
    assert_int_equal (h.n, 2);
    assert_int_equal (h.runs[0], r3);
    assert_int_equal (h.runs[1], r1);
    /* reopen: everything is still there */
    yard_store_destroy (&f->st);
    assert_int_equal (open_store (f), 0);
    yard_prun_t *run = NULL;
    assert_int_equal (yard_store_prun_get (f->st, r3, &run), 0);
    assert_string_equal (run->name, "p");
    assert_int_equal (run->spec->n_steps, 2);
    assert_int_equal (run->nsteps, 2);
    assert_string_equal (run->steps[0].name, "a");
    assert_string_equal (run->steps[1].name, "b");
    assert_string_equal (run->steps[0].outputs, "[{\"name\":\"o\"}]");
    /* save: state and steps */
    run->state = YARD__PIPELINE_STATE__PIPELINE_COMPLETED;
    run->end_ms = 2000;
    run->steps[1].state = YARD__STEP_STATE__STEP_REUSED;
    run->steps[1].reused_run = r1;
    assert_int_equal (yard_store_prun_save (f->st, run), 0);
    assert_int_equal (yard_store_pstep_set_outputs (f->st, r3, "b", "[1]"),
                      0);
    assert_int_equal (yard_store_commit (f->st), 0);
    yard_prun_free (&run);
    yard_prun_free (&run); /* NULL: no-op */
    assert_int_equal (yard_store_prun_get (f->st, r3, &run), 0);
    assert_int_equal (run->state, YARD__PIPELINE_STATE__PIPELINE_COMPLETED);
    assert_int_equal (run->end_ms, 2000);
    assert_int_equal (run->steps[1].state, YARD__STEP_STATE__STEP_REUSED);
    assert_int_equal (run->steps[1].reused_run, r1);
    assert_string_equal (run->steps[1].outputs, "[1]");
    yard_prun_free (&run);
    assert_int_equal (yard_store_prun_get (f->st, 999, &run), -ENOENT);
    /* previous: same pipeline and step, earlier run, with key parts */
    uint64_t prev = 0;
    char *parts = NULL;
    assert_int_equal (yard_store_pstep_previous (f->st, "p", "a", r3, &prev,
                                                 &parts),
                      0);
    assert_int_equal (prev, r2);
    free (parts);
    assert_int_equal (yard_store_pstep_previous (f->st, "p", "a", r1, &prev,
                                                 &parts),
                      -ENOENT);
    assert_int_equal (yard_store_pstep_previous (f->st, "p", "b", r3, &prev,
                                                 &parts),
                      -ENOENT); /* b never computed a key */
}

static int
count_row (const yard_prun_t *run, void *arg)
{
    assert_null (run->spec);
    (*(size_t *)arg)++;
    return 0;
}

static void
test_list (void **state)
{
    struct store_fixture *f = *state;
    for (int i = 0; i < 3; i++)
        insert_run (f->st, i < 2 ? "p" : "q", "k",
                    YARD__STEP_STATE__STEP_COMPLETED, "[]");
    size_t n = 0;
    assert_int_equal (yard_store_pruns_list (f->st, NULL, 10, count_row, &n),
                      0);
    assert_int_equal (n, 3);
    n = 0;
    assert_int_equal (yard_store_pruns_list (f->st, "p", 10, count_row, &n),
                      0);
    assert_int_equal (n, 2);
    n = 0;
    assert_int_equal (yard_store_pruns_list (f->st, "", 1, count_row, &n), 0);
    assert_int_equal (n, 1);
}

static int
ds_row (const yard_dataset_row_t *row, void *arg)
{
    char *buf = arg;
    char one[64];
    snprintf (one, sizeof one, "%s@%u ", row->name, row->version);
    strcat (buf, one);
    return 0;
}

static int
ref_row (const char *digest, void *arg)
{
    strcat (arg, digest);
    strcat (arg, " ");
    return 0;
}

static void
test_datasets (void **state)
{
    struct store_fixture *f = *state;
    uint32_t v = 0;
    char d[65];
    uint64_t size = 0;
    assert_int_equal (yard_store_dataset_resolve (f->st, "loans", 0, d, &v,
                                                  &size),
                      -ENOENT);
    assert_int_equal (yard_store_dataset_add (f->st, "loans", "aa", 1, 10, &v),
                      0);
    assert_int_equal (v, 1);
    assert_int_equal (yard_store_dataset_add (f->st, "loans", "bb", 2, 11, &v),
                      0);
    assert_int_equal (v, 2);
    assert_int_equal (yard_store_dataset_add (f->st, "other", "cc", 3, 12, &v),
                      0);
    assert_int_equal (v, 1);
    assert_int_equal (yard_store_artifact_ref (f->st, "aa", "run:1"), 0);
    assert_int_equal (yard_store_artifact_ref (f->st, "aa", "run:1"), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
    yard_store_destroy (&f->st);
    assert_int_equal (open_store (f), 0);
    assert_int_equal (yard_store_dataset_resolve (f->st, "loans", 0, d, &v,
                                                  &size),
                      0);
    assert_string_equal (d, "bb");
    assert_int_equal (v, 2);
    assert_int_equal (size, 2);
    assert_int_equal (yard_store_dataset_resolve (f->st, "loans", 1, d, &v,
                                                  &size),
                      0);
    assert_string_equal (d, "aa");
    assert_int_equal (yard_store_dataset_resolve (f->st, "loans", 3, d, &v,
                                                  &size),
                      -ENOENT);
    char buf[256] = "";
    assert_int_equal (yard_store_datasets_list (f->st, NULL, ds_row, buf), 0);
    assert_string_equal (buf, "loans@1 loans@2 other@1 ");
    buf[0] = '\0';
    assert_int_equal (yard_store_datasets_list (f->st, "other", ds_row, buf),
                      0);
    assert_string_equal (buf, "other@1 ");
    /* each dataset version keeps its artifact; "aa" once though two own it */
    buf[0] = '\0';
    assert_int_equal (yard_store_artifact_refs (f->st, ref_row, buf), 0);
    assert_string_equal (buf, "aa bb cc ");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_runs, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_list, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_datasets, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
