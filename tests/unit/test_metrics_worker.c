/* test_metrics_worker.c - the metrics line parser (worker/metricline.c) and
 * the spool, batches, acks and recovery of worker/metrics.c, fed through a
 * real pipe on a real loop. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "metricline.h"
#include "metrics.h"

/* ---- parser ---- */

struct got {
    int n;
    int64_t step[8];
    char key[8][64];
    double value[8];
};

static int
collect (int64_t step, const char *key, double value, void *arg)
{
    struct got *g = arg;
    if (g->n < 8) {
        g->step[g->n] = step;
        snprintf (g->key[g->n], sizeof g->key[0], "%s", key);
        g->value[g->n] = value;
    }
    g->n++;
    return 0;
}

static int
parse (const char *s, int64_t *last, struct got *g)
{
    memset (g, 0, sizeof *g);
    return metricline_parse (s, strlen (s), last, collect, g);
}

static void
test_parse_points (void **state)
{
    (void)state;
    struct got g;
    int64_t last = 0;
    assert_int_equal (parse ("{\"step\": 100, \"loss\": 0.31, \"lr\": 1e-3}",
                             &last, &g), 2);
    assert_int_equal (g.step[0], 100);
    assert_string_equal (g.key[0], "loss");
    assert_true (g.value[0] == 0.31);
    assert_string_equal (g.key[1], "lr");
    assert_int_equal (last, 100);
    /* no step: the last one; integers are values too */
    assert_int_equal (parse ("{\"acc\": 1}", &last, &g), 1);
    assert_int_equal (g.step[0], 100);
    assert_true (g.value[0] == 1.0);
    /* a non-integer step is not a step, and not a point either */
    assert_int_equal (parse ("{\"step\": 1.5, \"x\": 2}", &last, &g), 1);
    assert_int_equal (g.step[0], 100);
}

static void
test_parse_ignored_members (void **state)
{
    (void)state;
    struct got g;
    int64_t last = 7;
    assert_int_equal (parse ("{\"checkpoint\": \"ckpt-100.pt\"}", &last, &g),
                      0);
    assert_int_equal (parse ("{\"step\": 3, \"phase\": \"eval\", \"ok\": true,"
                             " \"n\": null, \"v\": [1], \"loss\": 2}",
                             &last, &g), 1);
    assert_string_equal (g.key[0], "loss");
    assert_int_equal (last, 3);
    assert_int_equal (parse ("{}", &last, &g), 0);
    assert_int_equal (parse ("  {\"a\": 1}\r", &last, &g), 1);
}

/* checkpoint announcements, checked against the job's folder */
static int
parse_ck (const char *s, int64_t *last, struct metricline_ckpt *ck)
{
    return metricline_parse_ckpt (s, strlen (s), last, "/w/checkpoints/7",
                                  ck, NULL, NULL);
}

static void
test_parse_checkpoint (void **state)
{
    (void)state;
    struct metricline_ckpt ck;
    int64_t last = 3;
    /* relative, with a step; the line's other numbers are still points */
    assert_int_equal (parse_ck ("{\"checkpoint\": \"ckpt-100.pt\", "
                                "\"step\": 100, \"loss\": 0.5}", &last, &ck),
                      1);
    assert_true (ck.found);
    assert_string_equal (ck.entry, "ckpt-100.pt");
    assert_int_equal (ck.step, 100);
    assert_int_equal (last, 100);
    /* absolute inside, no step: unknown (-1), not the last step */
    assert_int_equal (parse_ck ("{\"checkpoint\": "
                                "\"/w/checkpoints/7/ckpt-200\"}", &last, &ck),
                      0);
    assert_true (ck.found);
    assert_string_equal (ck.entry, "ckpt-200");
    assert_int_equal (ck.step, -1);
    /* a file inside a checkpoint folder: the folder is the entry */
    assert_int_equal (parse_ck ("{\"checkpoint\": \"./step-3//model.pt\", "
                                "\"step\": 3}", &last, &ck), 0);
    assert_string_equal (ck.entry, "step-3");
    assert_int_equal (parse_ck ("{\"checkpoint\": "
                                "\"/w/checkpoints/7/s4/x.pt\"}", &last, &ck),
                      0);
    assert_string_equal (ck.entry, "s4");
    /* a line without one */
    assert_int_equal (parse_ck ("{\"loss\": 1}", &last, &ck), 1);
    assert_false (ck.found);

    /* outside the folder, the folder itself, not a string: malformed, no
     * points, the last step unchanged */
    const char *out[] = {
        "{\"checkpoint\": \"/tmp/ckpt-1.pt\", \"step\": 9, \"loss\": 1}",
        "{\"checkpoint\": \"/w/checkpoints/70/ckpt-1.pt\"}",
        "{\"checkpoint\": \"/w/checkpoints/7\"}",
        "{\"checkpoint\": \"/w/checkpoints/7/\"}",
        "{\"checkpoint\": \"/w/checkpoints/7/../8/ckpt\"}",
        "{\"checkpoint\": \"../8/ckpt-1.pt\"}",
        "{\"checkpoint\": \"a/../../x\"}",
        "{\"checkpoint\": \".\"}",
        "{\"checkpoint\": \"\"}",
        "{\"checkpoint\": 5}",
        "{\"checkpoint\": null}",
    };
    last = 3;
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        assert_int_equal (parse_ck (out[i], &last, &ck), -EBADMSG);
        assert_false (ck.found);
        assert_int_equal (last, 3);
    }
    /* without a folder to check against, an absolute path is refused */
    assert_int_equal (metricline_parse_ckpt ("{\"checkpoint\":\"/a/b\"}", 22,
                                             &last, NULL, &ck, NULL, NULL),
                      -EBADMSG);
}

static void
test_ckpt_entry (void **state)
{
    (void)state;
    char e[8];
    assert_int_equal (metricline_ckpt_entry ("/d/", "/d/x", e, sizeof e), 0);
    assert_string_equal (e, "x");
    assert_int_equal (metricline_ckpt_entry ("/d", "/dx/y", e, sizeof e),
                      -EINVAL);
    assert_int_equal (metricline_ckpt_entry ("/d", "abcdefghij", e, sizeof e),
                      -ENAMETOOLONG);
    assert_int_equal (metricline_ckpt_entry ("/d", NULL, e, sizeof e),
                      -EINVAL);
}

static void
test_parse_malformed (void **state)
{
    (void)state;
    struct got g;
    int64_t last = 5;
    const char *bad[] = { "", "not json", "[1, 2]", "\"x\"", "42",
                          "{\"a\": 1", "{\"a\": NaN}", "{\"a\":1}{\"b\":2}",
                          "{\"a\": 1, \"a\": 2}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (parse (bad[i], &last, &g), -EBADMSG);
    assert_int_equal (last, 5);
    char nul[] = "{\"a\": 1}\0x";
    assert_int_equal (metricline_parse (nul, sizeof nul - 1, &last, NULL, NULL),
                      -EBADMSG);
    /* over 64 KiB */
    size_t n = METRICLINE_MAX + 16;
    char *big = malloc (n + 1);
    memset (big, ' ', n);
    memcpy (big, "{\"a\": 1}", 8);
    big[n] = '\0';
    assert_int_equal (metricline_parse (big, n, &last, NULL, NULL), -EBADMSG);
    free (big);
}

/* ---- spool and shipping ---- */

struct fx {
    char dir[256];
    uv_loop_t loop;
};

static int
setup (void **state)
{
    struct fx *f = calloc (1, sizeof *f);
    const char *tmp = getenv ("TMPDIR");
    snprintf (f->dir, sizeof f->dir, "%s/yard-test-metrics.XXXXXX",
              tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (f->dir) || uv_loop_init (&f->loop) < 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    struct fx *f = *state;
    uv_run (&f->loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&f->loop), 0);
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system (cmd) != 0)
        return -1;
    free (f);
    return 0;
}

static void
put (int fd, const char *s)
{
    size_t len = strlen (s);
    assert_int_equal (write (fd, s, len), (ssize_t)len);
}

static void
test_spool_ship_recover (void **state)
{
    struct fx *f = *state;
    int wfd = -1;
    struct metrics *m = metrics_create (&f->loop, f->dir, 7, 2, &wfd);
    assert_non_null (m);
    /* the "job": a dup of the write end, as the child would hold it */
    int job = dup (wfd);
    assert_int_equal (metrics_spawned (m, true), 0);
    put (job, "{\"step\": 1, \"loss\": 0.5, \"acc\": 0.25}\n");
    put (job, "garbage\n{\"checkpoint\": \"c\"}\n{\"loss\": 0.4}\n");
    put (job, "{\"step\": 3, \"lo"); /* a line cut across writes */
    uv_run (&f->loop, UV_RUN_NOWAIT);
    put (job, "ss\": 0.3}\n{\"step\": 4, \"loss\": 0.2}"); /* no newline */
    close (job);
    metrics_drain (m); /* the job died: take the rest, end of lines */
    assert_int_equal (metrics_lines (m), 6);
    assert_int_equal (metrics_malformed (m), 1);
    assert_false (metrics_complete (m));

    const Yard__MetricsBatch *b = metrics_next (m, 1000);
    assert_non_null (b);
    assert_int_equal (b->job_id, 7);
    assert_int_equal (b->attempt, 2);
    assert_int_equal (b->first_seq, 0);
    assert_int_equal (b->next_seq, 6);
    assert_int_equal (b->malformed, 1);
    assert_int_equal (b->n_points, 5);
    assert_string_equal (b->points[0]->key, "loss");
    assert_int_equal (b->points[0]->step, 1);
    assert_int_equal (b->points[0]->seq, 0);
    assert_string_equal (b->points[1]->key, "acc");
    assert_int_equal (b->points[2]->seq, 3); /* {"loss":0.4} is line 3 */
    assert_int_equal (b->points[2]->step, 1);
    assert_int_equal (b->points[3]->step, 3);
    assert_true (b->points[4]->value == 0.2);
    metrics_sent (m, b, 1000);
    /* one in flight: nothing more until the ack or the timeout */
    assert_null (metrics_next (m, 1500));
    /* the scheduler held only 2 lines: resend from there */
    assert_int_equal (metrics_ack (m, 2), 0);
    b = metrics_next (m, 1600);
    assert_non_null (b);
    assert_int_equal (b->first_seq, 2);
    assert_int_equal (b->n_points, 3);
    assert_int_equal (b->malformed, 0);
    metrics_sent (m, b, 1600);
    /* an unanswered batch is resent after the timeout */
    assert_null (metrics_next (m, 1600 + LOGSHIP_ACK_TIMEOUT_MS - 1));
    b = metrics_next (m, 1600 + LOGSHIP_ACK_TIMEOUT_MS);
    assert_non_null (b);
    assert_int_equal (b->first_seq, 2);
    assert_int_equal (metrics_ack (m, 99), -ERANGE); /* clamped */
    assert_true (metrics_complete (m));
    metrics_destroy (&m);
    assert_null (m);

    /* a worker restart: the spool is all there is */
    char path[512];
    snprintf (path, sizeof path, "%s/" METRICS_SPOOL, f->dir);
    int fd = open (path, O_WRONLY | O_APPEND);
    put (fd, "{\"q\":6,\"t\":1,\"s\":9"); /* cut short by a crash */
    close (fd);
    m = metrics_recover (&f->loop, f->dir, 7, 2);
    assert_non_null (m);
    assert_int_equal (metrics_lines (m), 6);
    assert_false (metrics_complete (m));
    b = metrics_next (m, 0);
    assert_non_null (b);
    assert_int_equal (b->next_seq, 6);
    assert_int_equal (b->n_points, 5);
    assert_int_equal (b->malformed, 1);
    metrics_sent (m, b, 0);
    metrics_rewind (m); /* a re-register: resend at once */
    assert_non_null (metrics_next (m, 1));
    assert_int_equal (metrics_ack (m, 6), 0);
    assert_true (metrics_complete (m));
    metrics_destroy (&m);
}

/* A job that writes no metrics leaves no spool; a restart finds none and
 * has nothing to ship. */
static void
test_no_lines_no_spool (void **state)
{
    struct fx *f = *state;
    int wfd = -1;
    char path[512];
    snprintf (path, sizeof path, "%s/" METRICS_SPOOL, f->dir);
    struct metrics *m = metrics_create (&f->loop, f->dir, 3, 1, &wfd);
    assert_non_null (m);
    int job = dup (wfd);
    assert_int_equal (metrics_spawned (m, true), 0);
    put (job, "{\"step\": 1"); /* no newline yet: nothing to spool */
    uv_run (&f->loop, UV_RUN_NOWAIT);
    assert_int_equal (access (path, F_OK), -1);
    assert_int_equal (errno, ENOENT);
    close (job);
    metrics_drain (m); /* end of lines: the cut line is a line */
    assert_int_equal (metrics_lines (m), 1);
    assert_int_equal (access (path, F_OK), 0);
    metrics_destroy (&m);
    assert_int_equal (unlink (path), 0);

    m = metrics_create (&f->loop, f->dir, 3, 2, &wfd);
    assert_non_null (m);
    job = dup (wfd);
    assert_int_equal (metrics_spawned (m, true), 0);
    close (job);
    metrics_drain (m);
    assert_int_equal (metrics_lines (m), 0);
    assert_true (metrics_complete (m));
    assert_int_equal (access (path, F_OK), -1);
    metrics_destroy (&m);
    m = metrics_recover (&f->loop, f->dir, 3, 2);
    assert_non_null (m);
    assert_int_equal (metrics_lines (m), 0);
    assert_true (metrics_complete (m));
    metrics_destroy (&m);
}

static void
test_long_line_and_big_batches (void **state)
{
    struct fx *f = *state;
    int wfd = -1;
    struct metrics *m = metrics_create (&f->loop, f->dir, 1, 1, &wfd);
    assert_non_null (m);
    int job = dup (wfd);
    assert_int_equal (metrics_spawned (m, true), 0);
    /* a 100 KiB line, across many reads, is one malformed line */
    put (job, "{\"pad\": \"");
    char chunk[4096];
    memset (chunk, 'y', sizeof chunk);
    for (int i = 0; i < 25; i++) {
        assert_int_equal (write (job, chunk, sizeof chunk),
                          (ssize_t)sizeof chunk);
        uv_run (&f->loop, UV_RUN_NOWAIT);
    }
    put (job, "\"}\n");
    /* then enough points for several batches */
    char line[128];
    for (int i = 0; i < 20000; i++) {
        snprintf (line, sizeof line, "{\"step\": %d, \"train/loss\": %d}\n", i,
                  i);
        put (job, line);
        if (i % 1000 == 0)
            uv_run (&f->loop, UV_RUN_NOWAIT);
    }
    close (job);
    metrics_drain (m);
    assert_int_equal (metrics_lines (m), 20001);
    assert_int_equal (metrics_malformed (m), 1);
    uint64_t seq = 0, points = 0;
    int batches = 0;
    while (!metrics_complete (m)) {
        const Yard__MetricsBatch *b = metrics_next (m, 0);
        assert_non_null (b);
        assert_int_equal (b->first_seq, seq);
        size_t size = yard__metrics_batch__get_packed_size (b);
        assert_true (size <= METRICS_BATCH_MAX);
        points += b->n_points;
        seq = b->next_seq;
        metrics_sent (m, b, 0);
        assert_int_equal (metrics_ack (m, seq), 0);
        batches++;
    }
    assert_int_equal (points, 20000);
    assert_true (batches >= 2);
    metrics_destroy (&m);
    metrics_destroy (NULL);
    metrics_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_points),
        cmocka_unit_test (test_parse_ignored_members),
        cmocka_unit_test (test_parse_malformed),
        cmocka_unit_test (test_parse_checkpoint),
        cmocka_unit_test (test_ckpt_entry),
        cmocka_unit_test_setup_teardown (test_spool_ship_recover, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_long_line_and_big_batches, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_no_lines_no_spool, setup,
                                         teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
