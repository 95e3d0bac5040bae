/* test_cli_watch.c - `yard watch`'s pure parts: option parsing, the step
 * rate and ETA over successive updates (reset by a new attempt), the line
 * and JSON of an update, the resource-use line and JSON, and `yard events`' parsing and
 * rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_events.h"
#include "cli_usage.h"
#include "cli_watch.h"
#include "yard/pipelines.h"

static struct yard_metric pts[3];

static void
job_init (yard_job_t *j, uint32_t attempt, int64_t step, int64_t t_ms)
{
    memset (j, 0, sizeof *j);
    j->id = 7;
    j->name = "train";
    j->node = "w1";
    j->reason = "";
    j->state = YARD_JOB_RUNNING;
    j->attempt = attempt;
    j->start_time_ms = 1000;
    pts[0] = (struct yard_metric){ attempt, step, "loss", 0.5, t_ms, false };
    pts[1] = (struct yard_metric){ attempt, 0, "total_steps", 1000, 900,
                                   false };
    j->latest_metrics = pts;
    j->n_latest_metrics = 2;
}

static void
test_parse (void **state)
{
    (void)state;
    struct cli_watch w;
    yard_error_t e = { 0 };
    char *a1[] = { "watch", "12", NULL };
    assert_int_equal (cli_parse_watch (2, a1, &w, &e), 0);
    assert_int_equal (w.job_id, 12);
    assert_int_equal (w.interval_ms, 2000);
    char *a2[] = { "watch", "--json", "-n", "500ms", "--plain", "3", NULL };
    assert_int_equal (cli_parse_watch (6, a2, &w, &e), 0);
    assert_true (w.json && w.plain);
    assert_int_equal (w.interval_ms, 500);
    char *a3[] = { "watch", "--interval", "10ms", "3", NULL };
    assert_int_equal (cli_parse_watch (4, a3, &w, &e), -EINVAL);
    assert_non_null (strstr (e.text, "--interval"));
    char *a4[] = { "watch", NULL };
    assert_int_equal (cli_parse_watch (1, a4, &w, &e), -EINVAL);
    char *a5[] = { "watch", "abc", NULL };
    assert_true (cli_parse_watch (2, a5, &w, &e) < 0);
}

static void
test_rate_and_eta (void **state)
{
    (void)state;
    struct cli_watch_rate r;
    struct cli_watch_view v;
    yard_job_t j;
    memset (&r, 0, sizeof r);
    job_init (&j, 1, 100, 10000);
    cli_watch_view (&j, 11000, &r, &v);
    assert_true (v.has_step && v.has_total);
    assert_int_equal (v.step, 100); /* total_steps is not a step */
    assert_int_equal (v.total_steps, 1000);
    assert_false (v.has_rate); /* one point in time: no rate yet */
    assert_int_equal (v.elapsed_ms, 10000);
    job_init (&j, 1, 300, 20000); /* 200 steps in 10 s */
    cli_watch_view (&j, 21000, &r, &v);
    assert_true (v.has_rate && v.has_eta);
    assert_true (v.steps_per_s > 19.99 && v.steps_per_s < 20.01);
    assert_int_equal (v.eta_ms, 35000); /* 700 left at 20/s */
    /* the same point again changes nothing */
    cli_watch_view (&j, 22000, &r, &v);
    assert_true (v.steps_per_s > 19.99 && v.steps_per_s < 20.01);
    /* a new attempt starts over */
    job_init (&j, 2, 250, 30000);
    cli_watch_view (&j, 31000, &r, &v);
    assert_false (v.has_rate);
    /* past the window the reference moves up: recent speed */
    job_init (&j, 2, 350, 40000);
    cli_watch_view (&j, 41000, &r, &v);
    job_init (&j, 2, 360, 95000); /* slow now: 10 steps in 55 s */
    cli_watch_view (&j, 96000, &r, &v);
    job_init (&j, 2, 370, 100000);
    cli_watch_view (&j, 101000, &r, &v);
    assert_true (v.has_rate);
    assert_true (v.steps_per_s < 1.0);
    /* finished: no rate, elapsed stops at the end */
    j.state = YARD_JOB_COMPLETED;
    j.end_time_ms = 5000;
    cli_watch_view (&j, 200000, &r, &v);
    assert_false (v.has_rate || v.has_eta);
    assert_int_equal (v.elapsed_ms, 4000);
}

static void
test_line_and_json (void **state)
{
    (void)state;
    struct cli_watch_rate r;
    struct cli_watch_view v;
    yard_job_t j;
    char buf[1024];
    memset (&r, 0, sizeof r);
    job_init (&j, 1, 100, 10000);
    cli_watch_view (&j, 11000, &r, &v);
    job_init (&j, 1, 300, 20000);
    j.usage.has_cpu = true;
    j.usage.cpu_user_us = 1500000;
    j.usage.has_rss = true;
    j.usage.rss_bytes = 1 << 20;
    j.usage.peak_rss_bytes = 2 << 20;
    cli_watch_view (&j, 21000, &r, &v);
    cli_watch_line (&j, &v, true, buf, sizeof buf);
    assert_non_null (strstr (buf, "job 7 RUNNING attempt 1 on w1"));
    assert_non_null (strstr (buf, "step 300/1000"));
    assert_non_null (strstr (buf, "20 steps/s"));
    assert_non_null (strstr (buf, "loss=0.5"));
    assert_null (strstr (buf, "total_steps="));
    assert_non_null (strstr (buf, "cpu 1.50s"));
    cli_watch_line (&j, &v, false, buf, sizeof buf);
    assert_null (strstr (buf, "elapsed"));
    json_t *o = cli_watch_json (&j, &v, 21000);
    assert_non_null (o);
    assert_int_equal (json_integer_value (json_object_get (o, "step")), 300);
    assert_true (json_real_value (json_object_get (o, "eta_s")) > 34.9);
    json_t *m = json_object_get (o, "metrics");
    assert_true (json_real_value (json_object_get (m, "loss")) == 0.5);
    json_t *u = json_object_get (o, "usage");
    assert_true (json_is_object (u));
    assert_int_equal (json_integer_value (json_object_get (u,
                                                           "peak_rss_bytes")),
                      2 << 20);
    assert_null (json_object_get (u, "gpu_util_pct"));
    json_decref (o);
}

static void
test_usage_render (void **state)
{
    (void)state;
    yard_usage_t u;
    char buf[256];
    memset (&u, 0, sizeof u);
    assert_false (cli_usage_any (&u));
    assert_string_equal (cli_usage_line (&u, buf, sizeof buf), "-");
    json_t *o = cli_usage_json (&u);
    assert_true (json_is_null (o));
    json_decref (o);
    u.has_gpu = true;
    u.gpu_util_pct = 87;
    u.gpu_memory_bytes = 1ULL << 30;
    u.gpu_peak_memory_bytes = 2ULL << 30;
    cli_usage_line (&u, buf, sizeof buf);
    assert_non_null (strstr (buf, "gpu 87%"));
    u.final = true;
    cli_usage_line (&u, buf, sizeof buf);
    assert_non_null (strstr (buf, "gpu 87% mean, peak mem 2"));
}

static void
test_event_render (void **state)
{
    (void)state;
    yard_event_t ev;
    char buf[512];
    memset (&ev, 0, sizeof ev);
    ev.kind = YARD_EVENT_JOB;
    ev.job_id = 42;
    ev.old_state = YARD_JOB_RUNNING;
    ev.state = YARD_JOB_FAILED;
    ev.attempt = 2;
    ev.exit_code = 3;
    ev.end_reason = YARD_END_EXITED;
    snprintf (ev.node, sizeof ev.node, "w1");
    snprintf (ev.reason, sizeof ev.reason, "exited with status 3");
    assert_string_equal (cli_event_line (&ev, buf, sizeof buf),
                         "job 42 RUNNING -> FAILED attempt 2 on w1 "
                         "(exited with status 3)");
    json_t *o = cli_event_json (&ev);
    assert_string_equal (json_string_value (json_object_get (o, "state")),
                         "FAILED");
    assert_int_equal (json_integer_value (json_object_get (o, "exit_code")),
                      3);
    json_decref (o);
    ev.old_state = 0;
    ev.state = YARD_JOB_PENDING;
    ev.attempt = 0;
    assert_string_equal (cli_event_line (&ev, buf, sizeof buf),
                         "job 42 PENDING");
    o = cli_event_json (&ev);
    assert_true (json_is_null (json_object_get (o, "old_state")));
    assert_null (json_object_get (o, "exit_code"));
    json_decref (o);
    ev.kind = YARD_EVENT_NODE;
    ev.node_state = YARD_NODE_DOWN;
    assert_string_equal (cli_event_line (&ev, buf, sizeof buf),
                         "node w1 DOWN");
    struct cli_events a;
    yard_error_t e = { 0 };
    char *a1[] = { "events", "--job", "5", "--nodes", "-c", "3", NULL };
    assert_int_equal (cli_parse_events (6, a1, &a, &e), 0);
    assert_int_equal (a.job_id, 5);
    assert_true (a.nodes);
    assert_int_equal (a.count, 3);
    char *a2[] = { "events", "5", NULL };
    assert_int_equal (cli_parse_events (2, a2, &a, &e), -EINVAL);
    char *a3[] = { "events", "--count", "0", NULL };
    assert_int_equal (cli_parse_events (3, a3, &a, &e), -EINVAL);
}

static void
test_pipeline_event_render (void **state)
{
    (void)state;
    yard_event_t ev;
    char buf[512];
    memset (&ev, 0, sizeof ev);
    ev.kind = YARD_EVENT_PIPELINE;
    ev.run_id = 3;
    snprintf (ev.step, sizeof ev.step, "train");
    ev.run_state = YARD_PIPELINE_RUNNING;
    ev.step_state = YARD_STEP_COMPLETED;
    assert_string_equal (cli_event_line (&ev, buf, sizeof buf),
                         "pipeline 3 step train completed");
    json_t *o = cli_event_json (&ev);
    assert_string_equal (json_string_value (json_object_get (o, "kind")),
                         "pipeline");
    assert_int_equal (json_integer_value (json_object_get (o, "run_id")), 3);
    assert_string_equal (json_string_value (json_object_get (o, "step")),
                         "train");
    assert_string_equal (json_string_value (json_object_get (o, "state")),
                         "completed");
    assert_null (json_object_get (o, "job_id"));
    json_decref (o);
    ev.step[0] = '\0';
    ev.run_state = YARD_PIPELINE_FAILED;
    snprintf (ev.reason, sizeof ev.reason, "step train failed: exit 1");
    assert_string_equal (cli_event_line (&ev, buf, sizeof buf),
                         "pipeline 3 failed (step train failed: exit 1)");
    o = cli_event_json (&ev);
    assert_string_equal (json_string_value (json_object_get (o, "state")),
                         "failed");
    json_decref (o);
    struct cli_events a;
    yard_error_t e = { 0 };
    char *a1[] = { "events", "--pipelines", "--nodes", NULL };
    assert_int_equal (cli_parse_events (3, a1, &a, &e), 0);
    assert_true (a.pipelines && a.nodes);
    assert_int_equal (a.run_id, 0);
    char *a2[] = { "events", "--run", "7", NULL };
    assert_int_equal (cli_parse_events (3, a2, &a, &e), 0);
    assert_true (a.pipelines);
    assert_int_equal (a.run_id, 7);
    char *a3[] = { "events", "--run", "0", NULL };
    assert_int_equal (cli_parse_events (3, a3, &a, &e), -EINVAL);
    char *a4[] = { "events", "--pipelines", "--job", "2", NULL };
    assert_int_equal (cli_parse_events (4, a4, &a, &e), -EINVAL);
    char *a5[] = { "events", "--run", "2", "--nodes", NULL };
    assert_int_equal (cli_parse_events (4, a5, &a, &e), -EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse),
        cmocka_unit_test (test_rate_and_eta),
        cmocka_unit_test (test_line_and_json),
        cmocka_unit_test (test_usage_render),
        cmocka_unit_test (test_event_render),
        cmocka_unit_test (test_pipeline_event_render),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
