/* test_stage.c - staged inputs, collected outputs and checkpoints in the
 * store: the scheduler's spec checks (stagespec.c), the worker's path rule
 * (stage.c), the job_outputs/checkpoints/artifact_refs tables with
 * checkpoint retention (store_artifacts.c), and the result file keeping the
 * outputs (jobdir.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobdir.h"
#include "stage.h"
#include "stagespec.h"
#include "store.h"
#include "store_artifacts.h"
#include "store_fixture.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "3333333333333333333333333333333333333333333333333333333333333333"

static void
test_stage_path_ok (void **state)
{
    (void)state;
    static const char *const good[] = { "a", "a/b", "data/x.csv", ".hidden",
                                        "a..b", "..a" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true (stage_path_ok (good[i]));
    static const char *const bad[] = { "", "/abs", "..", "a/..", "../a",
                                       "a/../b", ".", "a/./b", "a//b", "a/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false (stage_path_ok (bad[i]));
    assert_false (stage_path_ok (NULL));
    struct stage *st = stage_create (STAGE_IN, "/tmp");
    assert_non_null (st);
    assert_int_equal (stage_add (st, "x", D1), 0);
    assert_int_equal (stage_add (st, "../x", D1), -EINVAL);
    assert_int_equal (stage_add (st, "y", "nothex"), -EINVAL);
    for (int i = 1; i < STAGE_MAX_ITEMS; i++)
        assert_int_equal (stage_add (st, "z", D1), 0);
    assert_int_equal (stage_add (st, "z", D1), -E2BIG);
    stage_abandon (st); /* never started: freed */
    stage_abandon (NULL);
    stage_destroy (NULL);
}

static void
test_spec_check (void **state)
{
    (void)state;
    yard_error_t e = { 0 };
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    Yard__StageIn a = YARD__STAGE_IN__INIT, b = YARD__STAGE_IN__INIT;
    Yard__StageIn *ins[] = { &a, &b };
    a.path = "data";
    a.digest = D1;
    b.path = "cfg/c.json";
    b.digest = D2;
    spec.stage_in = ins;
    spec.n_stage_in = 2;
    char *outs[] = { "results", "logs" };
    spec.collect = outs;
    spec.n_collect = 2;
    assert_int_equal (yard_stage_spec_check (&spec, &e), 0);
    b.path = "../etc";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    assert_non_null (strstr (e.text, "../etc"));
    b.path = "/etc";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    b.path = "data";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    assert_non_null (strstr (e.text, "twice"));
    b.path = "other";
    b.digest = "ABC";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    assert_non_null (strstr (e.text, "digest"));
    b.digest = NULL;
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    b.digest = D2;
    outs[1] = "a/b";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    outs[1] = "..";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    outs[1] = "results";
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
    outs[1] = "logs";
    spec.n_collect = YARD_STAGE_MAX_OUTPUTS + 1;
    assert_int_equal (yard_stage_spec_check (&spec, &e), -EINVAL);
}

static int
open_store (struct store_fixture *f)
{
    yard_error_t err = { 0 };
    if (!(f->st = yard_store_create (f->db, false, &err))
        || yard_store_artifacts_init (f->st, &err) < 0)
        return -1;
    return 0;
}

static int
setup (void **state)
{
    return store_fixture_setup (state, "stage", open_store);
}

struct seen {
    char names[8][64];
    int64_t steps[8];
    int n;
};

static int
take_ckpt (const Yard__CheckpointRecord *r, void *arg)
{
    struct seen *s = arg;
    snprintf (s->names[s->n], sizeof s->names[0], "%s", r->name);
    s->steps[s->n++] = r->step;
    return 0;
}

static int
take_digest (const char *d, void *arg)
{
    struct seen *s = arg;
    snprintf (s->names[s->n++], sizeof s->names[0], "%.8s", d);
    return 0;
}

static int
take_output (uint32_t attempt, const char *name, const char *digest,
             uint64_t size, void *arg)
{
    struct seen *s = arg;
    snprintf (s->names[s->n], sizeof s->names[0], "%u:%s:%.4s", attempt, name,
              digest);
    s->steps[s->n++] = (int64_t)size;
    return 0;
}

static void
put_ckpt (yard_store_t *st, const char *name, int64_t step, int64_t t,
          const char *digest, uint32_t keep)
{
    Yard__CheckpointRecord r = YARD__CHECKPOINT_RECORD__INIT;
    r.job_id = 7;
    r.attempt = 1;
    r.name = (char *)name;
    r.step = step;
    r.digest = (char *)digest;
    r.time_ms = t;
    r.node = "w1";
    assert_int_equal (yard_store_checkpoint_put (st, &r, keep), 0);
}

static void
test_tables (void **state)
{
    struct store_fixture *f = *state;
    put_ckpt (f->st, "ckpt-20", 20, 1000, D1, 2);
    put_ckpt (f->st, "ckpt-40", 40, 2000, D2, 2);
    put_ckpt (f->st, "ckpt-60", 60, 3000, D3, 2);
    assert_int_equal (yard_store_commit (f->st), 0);
    struct seen s = { 0 };
    assert_int_equal (yard_store_checkpoints (f->st, 7, take_ckpt, &s), 0);
    assert_int_equal (s.n, 2); /* retention: the newest two */
    assert_string_equal (s.names[0], "ckpt-60");
    assert_string_equal (s.names[1], "ckpt-40");
    /* keep 3 from now on, and the same name again replaces its row */
    put_ckpt (f->st, "ckpt-80", 80, 4000, D1, 3);
    put_ckpt (f->st, "ckpt-80", 80, 4001, D1, 3);
    assert_int_equal (yard_store_commit (f->st), 0);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_checkpoints (f->st, 7, take_ckpt, &s), 0);
    assert_int_equal (s.n, 3);
    assert_int_equal (s.steps[0], 80);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_checkpoints (f->st, 8, take_ckpt, &s), 0);
    assert_int_equal (s.n, 0);

    assert_int_equal (yard_store_output_put (f->st, 7, 2, "results", D2, 10),
                      0);
    assert_int_equal (yard_store_output_put (f->st, 7, 1, "logs", D3, 5), 0);
    assert_int_equal (yard_store_artifact_ref (f->st, D1, "model:a"), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_outputs (f->st, 7, take_output, &s), 0);
    assert_int_equal (s.n, 2);
    assert_string_equal (s.names[0], "1:logs:3333");
    assert_string_equal (s.names[1], "2:results:2222");
    assert_int_equal (s.steps[1], 10);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_referenced_digests (f->st, take_digest, &s),
                      0);
    assert_int_equal (s.n, 3); /* each digest once */
    assert_int_equal (yard_store_artifact_unref (f->st, D1, "model:a"), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
}

static void
test_result_keeps_outputs (void **state)
{
    struct store_fixture *f = *state;
    struct jobdir_result r = { 0 }, back;
    r.reason = YARD__END_REASON__END_EXITED;
    r.n_outputs = 2;
    snprintf (r.outputs[0].name, sizeof r.outputs[0].name, "results");
    snprintf (r.outputs[0].digest, sizeof r.outputs[0].digest, D1);
    r.outputs[0].size = 123;
    snprintf (r.outputs[1].name, sizeof r.outputs[1].name, "logs");
    snprintf (r.outputs[1].digest, sizeof r.outputs[1].digest, D2);
    assert_int_equal (jobdir_result_write (f->dir, 5, 1, &r), 0);
    assert_int_equal (jobdir_result_read (f->dir, 5, 1, &back), 0);
    assert_int_equal (back.n_outputs, 2);
    assert_string_equal (back.outputs[0].name, "results");
    assert_string_equal (back.outputs[0].digest, D1);
    assert_int_equal (back.outputs[0].size, 123);
    assert_string_equal (back.outputs[1].digest, D2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_stage_path_ok),
        cmocka_unit_test (test_spec_check),
        cmocka_unit_test_setup_teardown (test_tables, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_result_keeps_outputs, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
