/* test_store_models.c - model versions, schedules and triggers in SQLite
 * (scheduler/store_models.c): versions numbered per model, latest per
 * model, metrics kept per version, a job's latest metric values, names
 * unique, fires recorded, and every row back after a reopen. */
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
#include "store_models.h"
#include "store_fixture.h"

static int
open_store (struct store_fixture *f)
{
    yard_error_t err = {0};
    if (!(f->st = yard_store_create (f->db, false, &err))
        || yard_store_models_init (f->st, &err) < 0)
        return -1;
    return 0;
}

static int
setup (void **state)
{
    return store_fixture_setup (state, "models", open_store);
}

static void
reopen (struct store_fixture *f)
{
    yard_store_destroy (&f->st);
    yard_error_t err = {0};
    f->st = yard_store_create (f->db, false, &err);
    assert_non_null (f->st);
    assert_int_equal (yard_store_models_init (f->st, &err), 0);
}

static void
insert (yard_store_t *st, const char *model, uint32_t version, double acc)
{
    Yard__MetricValue m = YARD__METRIC_VALUE__INIT, *mp[1] = {&m};
    m.key = "acc";
    m.value = acc;
    Yard__ModelVersion v = YARD__MODEL_VERSION__INIT;
    v.model = (char *)model;
    v.version = version;
    v.digest = "ab";
    v.size = 10 * version;
    v.created_ms = 1000 + version;
    v.metrics = mp;
    v.n_metrics = 1;
    v.job_id = 7;
    v.run_id = 3;
    v.step = "train";
    assert_int_equal (yard_store_model_insert (st, &v), 0);
}

static void
test_versions (void **state)
{
    struct store_fixture *f = *state;
    uint32_t latest = 99;
    assert_int_equal (yard_store_model_latest (f->st, "clf", &latest), 0);
    assert_int_equal (latest, 0);
    insert (f->st, "clf", 1, 0.8);
    insert (f->st, "clf", 2, 0.9);
    insert (f->st, "other", 1, 0.5);
    assert_int_equal (yard_store_commit (f->st), 0);
    reopen (f);
    assert_int_equal (yard_store_model_latest (f->st, "clf", &latest), 0);
    assert_int_equal (latest, 2);
    Yard__ModelVersion **v;
    size_t n;
    /* every model's latest, by name */
    assert_int_equal (yard_store_model_versions (f->st, NULL, 0, &v, &n), 0);
    assert_int_equal (n, 2);
    assert_string_equal (v[0]->model, "clf");
    assert_int_equal (v[0]->version, 2);
    assert_string_equal (v[1]->model, "other");
    yard_store_model_versions_free (v, n);
    /* one model, newest first, with metrics and provenance */
    assert_int_equal (yard_store_model_versions (f->st, "clf", 0, &v, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (v[0]->version, 2);
    assert_int_equal (v[1]->version, 1);
    assert_int_equal (v[1]->size, 10);
    assert_int_equal (v[1]->n_metrics, 1);
    assert_string_equal (v[1]->metrics[0]->key, "acc");
    assert_true (v[1]->metrics[0]->value == 0.8);
    assert_int_equal (v[1]->job_id, 7);
    assert_int_equal (v[1]->run_id, 3);
    assert_string_equal (v[1]->step, "train");
    yard_store_model_versions_free (v, n);
    assert_int_equal (yard_store_model_versions (f->st, "clf", 1, &v, &n), 0);
    assert_int_equal (n, 1);
    yard_store_model_versions_free (v, n);
    assert_int_equal (yard_store_model_versions (f->st, "none", 0, &v, &n), 0);
    assert_int_equal (n, 0);
    double acc = 0;
    assert_int_equal (yard_store_model_metric (f->st, "clf", 2, "acc", &acc),
                      0);
    assert_true (acc == 0.9);
    assert_int_equal (yard_store_model_metric (f->st, "clf", 2, "f1", &acc),
                      -ENOENT);
}

static void
test_job_latest_metrics (void **state)
{
    struct store_fixture *f = *state;
    /* attempt 1 reports acc 0.1, 0.2; attempt 2 reports acc 0.3 and loss */
    Yard__MetricPoint p[3], *pp[3];
    const char *keys[3] = {"acc", "acc", "loss"};
    double vals[3] = {0.1, 0.2, 0.5};
    for (int i = 0; i < 3; i++) {
        yard__metric_point__init (&p[i]);
        p[i].seq = (uint64_t)i;
        p[i].step = i;
        p[i].key = (char *)keys[i];
        p[i].value = vals[i];
        pp[i] = &p[i];
    }
    Yard__MetricsBatch b = YARD__METRICS_BATCH__INIT;
    b.job_id = 5;
    b.attempt = 1;
    b.first_seq = 0;
    b.next_seq = 2;
    b.points = pp;
    b.n_points = 2;
    uint64_t held;
    assert_int_equal (yard_store_metrics_put (f->st, &b, &held), 0);
    p[0].value = 0.3;
    p[0].seq = 0;
    p[2].seq = 1;
    Yard__MetricPoint *pp2[2] = {&p[0], &p[2]};
    b.attempt = 2;
    b.points = pp2;
    b.n_points = 2;
    assert_int_equal (yard_store_metrics_put (f->st, &b, &held), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
    Yard__MetricValue **m;
    size_t n;
    assert_int_equal (yard_store_job_latest_metrics (f->st, 5, &m, &n), 0);
    assert_int_equal (n, 2);
    assert_string_equal (m[0]->key, "acc");
    assert_true (m[0]->value == 0.3);
    assert_string_equal (m[1]->key, "loss");
    yard_store_model_metrics_free (m, n);
    assert_int_equal (yard_store_job_latest_metrics (f->st, 6, &m, &n), 0);
    assert_int_equal (n, 0);
    yard_store_model_metrics_free (m, n);
}

struct seen {
    char names[4][32];
    int64_t last_fire[4];
    uint64_t fired[4], last_run[4];
    size_t n;
};

static int
collect (const yard_store_sched_t *r, void *arg)
{
    struct seen *s = arg;
    if (s->n < 4) {
        snprintf (s->names[s->n], 32, "%s", r->name);
        s->last_fire[s->n] = r->last_fire_ms;
        s->fired[s->n] = r->fired;
        s->last_run[s->n] = r->last_run;
        s->n++;
    }
    return 0;
}

static void
test_schedules_triggers (void **state)
{
    struct store_fixture *f = *state;
    static const uint8_t spec[] = {0x0a, 0x01, 'x'};
    yard_store_sched_t r = {0};
    r.name = "nightly";
    r.cron = "0 3 * * *";
    r.pipeline = spec;
    r.pipeline_len = sizeof spec;
    r.pipeline_name = "x";
    r.created_ms = 100;
    assert_int_equal (yard_store_schedule_add (f->st, &r), 0);
    assert_int_equal (yard_store_schedule_add (f->st, &r), -EEXIST);
    r.name = "hourly";
    assert_int_equal (yard_store_schedule_add (f->st, &r), 0);
    assert_int_equal (yard_store_schedule_fired (f->st, "nightly", 5000, 42),
                      0);
    /* a failed start keeps the last run */
    assert_int_equal (yard_store_schedule_fired (f->st, "nightly", 6000, 0),
                      0);
    assert_int_equal (yard_store_schedule_fired (f->st, "none", 1, 1),
                      -ENOENT);
    r.name = "on-data";
    r.on_kind = "dataset";
    r.on_name = "loans";
    assert_int_equal (yard_store_trigger_add (f->st, &r), 0);
    assert_int_equal (yard_store_trigger_add (f->st, &r), -EEXIST);
    assert_int_equal (yard_store_trigger_fired (f->st, "on-data", 9), 0);
    assert_int_equal (yard_store_trigger_fired (f->st, "on-data", 11), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
    reopen (f);
    struct seen s = {0};
    assert_int_equal (yard_store_schedules (f->st, collect, &s), 0);
    assert_int_equal (s.n, 2);
    assert_string_equal (s.names[0], "hourly");
    assert_string_equal (s.names[1], "nightly");
    assert_int_equal (s.last_fire[1], 6000);
    assert_int_equal (s.last_run[1], 42);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_triggers (f->st, collect, &s), 0);
    assert_int_equal (s.n, 1);
    assert_int_equal (s.fired[0], 2);
    assert_int_equal (s.last_run[0], 11);
    assert_int_equal (yard_store_schedule_remove (f->st, "hourly"), 0);
    assert_int_equal (yard_store_schedule_remove (f->st, "hourly"), -ENOENT);
    assert_int_equal (yard_store_trigger_remove (f->st, "on-data"), 0);
    assert_int_equal (yard_store_commit (f->st), 0);
    memset (&s, 0, sizeof s);
    assert_int_equal (yard_store_schedules (f->st, collect, &s), 0);
    assert_int_equal (s.n, 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_versions, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_job_latest_metrics, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_schedules_triggers, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
