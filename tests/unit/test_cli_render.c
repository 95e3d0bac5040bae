/* test_cli_render.c - what the yard CLI prints: a job as JSON (parsed back
 * with jansson), the status block, the queue and nodes tables (column
 * alignment), table edge cases, shell quoting, UTF-8 repair, times, and the
 * exit status of `yard wait`.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_commands.h"
#include "cli_cores.h"
#include "cli_render.h"
#include "cli_table.h"

/* 2024-05-01T12:00:03.123Z */
#define T0 1714564803123LL

static char *argv_[] = { "python", "train.py", "a b", NULL };
static char *env_[] = { "LR=0.1", "TOKEN=x=y", NULL };

static yard_job_t
sample_job (void)
{
    yard_job_t j = {
        .id = 42,
        .name = "resnet",
        .state = YARD_JOB_RUNNING,
        .attempt = 2,
        .node = "w1",
        .submit_time_ms = T0,
        .start_time_ms = T0 + 60000,
        .end_time_ms = 0,
        .exit_code = 0,
        .term_signal = 0,
        .end_reason = YARD_END_NONE,
        .reason = "",
        .cancel_requested = true,
        .lost_count = 1,
        .cpus = 4,
        .gpus = 1,
        .memory_bytes = 16ull << 30,
        .time_limit_s = 7200,
        .priority = -3,
        .grace_s = 10,
        .argv = argv_,
        .argc = 3,
        .env = env_,
        .envc = 2,
        .workdir = "/data",
        .user = "alice",
        .submit_dir = "/home/alice",
        .submit_host = "laptop",
    };
    return j;
}

/* Run a printer into a string. */
#define CAPTURE(buf, call)                                                    \
    do {                                                                      \
        size_t size_;                                                         \
        FILE *out = open_memstream (&(buf), &size_);                          \
        assert_non_null (out);                                                \
        assert_int_equal ((call), 0);                                         \
        fclose (out);                                                         \
    } while (0)

static void
test_job_json (void **state)
{
    (void)state;
    yard_job_t j = sample_job ();
    json_t *o = cli_job_json (&j);
    assert_non_null (o);
    char *text = NULL;
    CAPTURE (text, cli_json_print (out, o, false));
    json_decref (o);

    json_error_t jerr;
    json_t *p = json_loads (text, 0, &jerr);
    if (!p)
        fail_msg ("invalid JSON (%s): %s", jerr.text, text);
    free (text);
    assert_int_equal (json_integer_value (json_object_get (p, "id")), 42);
    assert_string_equal (json_string_value (json_object_get (p, "name")),
                         "resnet");
    assert_string_equal (json_string_value (json_object_get (p, "state")),
                         "RUNNING");
    assert_int_equal (json_integer_value (json_object_get (p, "attempt")), 2);
    assert_string_equal (json_string_value (json_object_get (p, "node")), "w1");
    assert_int_equal (json_integer_value (json_object_get (p,
                                                           "submit_time_ms")),
                      T0);
    assert_string_equal (json_string_value (json_object_get (p, "submit_time")),
                         "2024-05-01T12:00:03.123Z");
    assert_string_equal (json_string_value (json_object_get (p, "start_time")),
                         "2024-05-01T12:01:03.123Z");
    assert_int_equal (json_integer_value (json_object_get (p, "end_time_ms")),
                      0);
    assert_true (json_is_null (json_object_get (p, "end_time")));
    assert_int_equal (json_integer_value (json_object_get (p, "exit_code")), 0);
    assert_int_equal (json_integer_value (json_object_get (p, "term_signal")),
                      0);
    assert_string_equal (json_string_value (json_object_get (p, "end_reason")),
                         "none");
    assert_string_equal (json_string_value (json_object_get (p, "reason")), "");
    assert_true (json_is_true (json_object_get (p, "cancel_requested")));
    assert_int_equal (json_integer_value (json_object_get (p, "lost_count")),
                      1);
    assert_int_equal (json_integer_value (json_object_get (p, "cpus")), 4);
    assert_int_equal (json_integer_value (json_object_get (p, "gpus")), 1);
    assert_int_equal (json_integer_value (json_object_get (p, "memory_bytes")),
                      16ll << 30);
    assert_int_equal (json_integer_value (json_object_get (p, "time_limit_s")),
                      7200);
    assert_int_equal (json_integer_value (json_object_get (p, "priority")), -3);
    assert_int_equal (json_integer_value (json_object_get (p, "grace_s")), 10);
    json_t *av = json_object_get (p, "argv");
    assert_true (json_is_array (av));
    assert_int_equal (json_array_size (av), 3);
    assert_string_equal (json_string_value (json_array_get (av, 2)), "a b");
    json_t *ev = json_object_get (p, "env");
    assert_true (json_is_object (ev));
    assert_string_equal (json_string_value (json_object_get (ev, "LR")), "0.1");
    assert_string_equal (json_string_value (json_object_get (ev, "TOKEN")),
                         "x=y");
    assert_string_equal (json_string_value (json_object_get (p, "workdir")),
                         "/data");
    assert_string_equal (json_string_value (json_object_get (p, "user")),
                         "alice");
    assert_string_equal (json_string_value (json_object_get (p, "submit_dir")),
                         "/home/alice");
    assert_string_equal (json_string_value (json_object_get (p,
                                                             "submit_host")),
                         "laptop");
    json_decref (p);
}

static void
test_json_bad_utf8 (void **state)
{
    (void)state;
    yard_job_t j = sample_job ();
    j.name = "caf\xc3\xa9-\xff\xfe";  /* valid é, then two invalid bytes */
    json_t *o = cli_job_json (&j);
    assert_non_null (o);
    char *s = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    assert_non_null (s);
    json_t *p = json_loads (s, 0, NULL);
    free (s);
    assert_non_null (p);
    assert_string_equal (json_string_value (json_object_get (p, "name")),
                         "caf\xc3\xa9-\xef\xbf\xbd\xef\xbf\xbd");
    json_decref (p);

    size_t n;
    char *x = cli_utf8_lossy ("a\0b\xe2\x82\xac\xed\xa0\x80\xc0\xaf", 11, &n);
    assert_non_null (x);
    /* NUL kept, euro sign kept, surrogate and overlong replaced per byte */
    assert_memory_equal (x, "a\0b\xe2\x82\xac", 6);
    assert_int_equal (n, 6 + 5 * 3);
    free (x);
    json_t *js = cli_json_string ("\x80", 1);
    assert_string_equal (json_string_value (js), "\xef\xbf\xbd");
    json_decref (js);
}

static void
test_node_json (void **state)
{
    (void)state;
    yard_node_t nd[1] = { {
        .name = "w1", .state = YARD_NODE_UP, .hostname = "gpu-01",
        .version = "0.1.0", .cpus = 8, .cpus_used = 2,
        .memory_bytes = 16ull << 30, .memory_used = 1ull << 30, .gpus = 2,
        .gpus_used = 1, .running_jobs = 3, .last_seen_ms = T0,
        .registered_ms = 0,
    } };
    json_t *a = cli_nodes_json (nd, 1);
    assert_non_null (a);
    json_t *o = json_array_get (a, 0);
    assert_string_equal (json_string_value (json_object_get (o, "state")), "UP");
    assert_int_equal (json_integer_value (json_object_get (o, "cpus_used")), 2);
    assert_int_equal (json_integer_value (json_object_get (o, "memory_used")),
                      1ll << 30);
    assert_string_equal (json_string_value (json_object_get (o, "last_seen")),
                         "2024-05-01T12:00:03.123Z");
    assert_true (json_is_null (json_object_get (o, "registered")));
    assert_int_equal (json_integer_value (json_object_get (o,
                                                           "running_jobs")),
                      3);
    json_decref (a);

    json_t *e = cli_jobs_json (NULL, 0);
    char *s = json_dumps (e, JSON_COMPACT);
    assert_string_equal (s, "[]");
    free (s);
    json_decref (e);
}

/* Byte column where the needle starts in the line, -1 when absent. */
static int
col_of (const char *line, const char *needle)
{
    const char *p = strstr (line, needle);
    return p ? (int)(p - line) : -1;
}

/* Split text into at most max lines (modified in place). */
static int
split_lines (char *text, char **lines, int max)
{
    int n = 0;
    for (char *save = NULL, *l = strtok_r (text, "\n", &save); l && n < max;
         l = strtok_r (NULL, "\n", &save))
        lines[n++] = l;
    return n;
}

static void
test_table_alignment (void **state)
{
    (void)state;
    const char *hdr[] = { "ID", "NAME", "STATE", "NOTE" };
    cli_table_t *t = cli_table_create (4, hdr);
    assert_non_null (t);
    assert_int_equal (cli_table_align_right (t, 0), 0);
    assert_int_equal (cli_table_align_right (t, 9), -EINVAL);
    const char *r1[] = { "7", "a", "RUNNING", "x" };
    const char *r2[] = { "1234", "a-much-longer-name", "PENDING", NULL };
    const char *r3[] = { "12", "caf\xc3\xa9", "FAILED", "line1\nline2\x1b[31m" };
    assert_int_equal (cli_table_add_row (t, r1), 0);
    assert_int_equal (cli_table_add_row (t, r2), 0);
    assert_int_equal (cli_table_add_row (t, r3), 0);
    assert_int_equal (cli_table_rows (t), 3);
    char *text = NULL;
    CAPTURE (text, cli_table_print (t, out));
    cli_table_destroy (&t);
    assert_null (t);
    cli_table_destroy (NULL);

    char *lines[8];
    char *copy = strdup (text);
    assert_int_equal (split_lines (copy, lines, 8), 4);
    /* right-aligned ID: all end in the same column */
    assert_int_equal (col_of (lines[0], "ID"), 2);
    assert_int_equal (col_of (lines[1], "7"), 3);
    assert_int_equal (col_of (lines[2], "1234"), 0);
    assert_int_equal (col_of (lines[3], "12"), 2);
    /* NAME and STATE start in the same column on every line (the é is two
     * bytes but one column, so that line is one byte longer after it) */
    int name = col_of (lines[0], "NAME");
    int st = col_of (lines[0], "STATE");
    assert_int_equal (name, 6);
    assert_int_equal (col_of (lines[1], "a "), name);
    assert_int_equal (col_of (lines[2], "a-much"), name);
    assert_int_equal (st, name + (int)strlen ("a-much-longer-name") + 2);
    assert_int_equal (col_of (lines[1], "RUNNING"), st);
    assert_int_equal (col_of (lines[2], "PENDING"), st);
    assert_int_equal (col_of (lines[3], "FAILED"), st + 1);
    /* NULL cell as "-", control characters neutralized, no trailing blank */
    assert_non_null (strstr (lines[2], "PENDING  -"));
    assert_non_null (strstr (lines[3], "line1 line2?[31m"));
    for (int i = 0; i < 4; i++)
        assert_int_not_equal (lines[i][strlen (lines[i]) - 1], ' ');
    free (copy);
    free (text);

    /* a header only */
    const char *h1[] = { "A" };
    t = cli_table_create (1, h1);
    CAPTURE (text, cli_table_print (t, out));
    assert_string_equal (text, "A\n");
    free (text);
    cli_table_destroy (&t);
    errno = 0;
    assert_null (cli_table_create (0, h1));
    assert_int_equal (errno, EINVAL);
    assert_int_equal (cli_text_width ("caf\xc3\xa9"), 4);
}

static void
test_queue_table (void **state)
{
    (void)state;
    yard_job_t jobs[3] = { sample_job (), sample_job (), sample_job () };
    int64_t now = T0 + 60000 + 45000;
    jobs[0].id = 8;
    jobs[0].state = YARD_JOB_PENDING;
    jobs[0].start_time_ms = 0;
    jobs[0].node = "";
    jobs[0].name = "";
    jobs[0].cancel_requested = false;
    jobs[0].reason = "waiting for 4 free cpus";
    jobs[0].submit_time_ms = now - 192000;
    jobs[1].id = 1234;          /* RUNNING for 45 s, cancel requested */
    jobs[2].id = 3;             /* COMPLETED after 10 s */
    jobs[2].state = YARD_JOB_COMPLETED;
    jobs[2].end_time_ms = jobs[2].start_time_ms + 10000;
    jobs[2].cpus = 16;

    char *text = NULL;
    CAPTURE (text, cli_print_queue (out, jobs, 3, now));
    char *lines[8];
    assert_int_equal (split_lines (text, lines, 8), 4);
    const char *cols[] = { "NAME", "STATE", "NODE", "CPUS", "AGE/TIME",
                           "REASON" };
    for (size_t i = 0; i < 6; i++)
        assert_true (col_of (lines[0], cols[i]) > 0);
    assert_int_equal (col_of (lines[0], "ID"), 2); /* right-aligned to 1234 */
    int st = col_of (lines[0], "STATE"), age = col_of (lines[0], "AGE/TIME");
    int reason = col_of (lines[0], "REASON");
    assert_int_equal (col_of (lines[1], "PENDING"), st);
    assert_int_equal (col_of (lines[2], "RUNNING"), st);
    assert_int_equal (col_of (lines[3], "COMPLETED"), st);
    assert_int_equal (col_of (lines[1], "3m12s"), age); /* pending: its age */
    assert_int_equal (col_of (lines[2], "45s"), age);   /* running: runtime */
    assert_int_equal (col_of (lines[3], "10s"), age);   /* finished: runtime */
    assert_int_equal (col_of (lines[1], "waiting for 4 free cpus"), reason);
    assert_int_equal (col_of (lines[2], "cancel requested"), reason);
    /* the finished job has no reason: still no trailing blanks */
    for (int i = 0; i < 4; i++)
        assert_int_not_equal (lines[i][strlen (lines[i]) - 1], ' ');
    /* CPUS right-aligned: " 4" under "16" */
    assert_int_equal (col_of (lines[2], " 4 ") + 1, col_of (lines[3], "16") + 1);
    free (text);
}

/* Cores: the CORES cell, each core with its PUs and holders, the NUMA
 * distance matrix, and the same in JSON. */
static int
print_cores (FILE *out, const yard_node_t *nd)
{
    cli_cores_print (out, nd);
    return 0;
}

static void
test_cores_render (void **state)
{
    (void)state;
    yard_core_t cores[3] = { { 0, "0,4" }, { 1, "1,5" }, { 2, "2,6" } };
    yard_numa_t numa[2] = { { 0, "0-1,4-5", 0 }, { 1, "2-3,6-7", 0 } };
    uint32_t dist[4] = { 10, 21, 21, 10 };
    yard_holding_t held[2] = { { .job_id = 7, .cpus = "0,4" },
                               { .job_id = 9, .cpus = "5" } };
    yard_node_t nd = { .name = "w1", .hostname = "", .version = "",
                       .cores_total = 3, .cores_free = 1, .pus_free = 3,
                       .holdings = held, .n_holdings = 2 };
    nd.topology = (yard_topology_t){ .known = true, .pus = 6,
                                     .numa = numa, .n_numa = 2,
                                     .core_list = cores, .n_core_list = 3,
                                     .numa_distances = dist,
                                     .n_numa_distances = 4 };
    char cell[64];
    assert_string_equal (cli_cores_cell (&nd, cell, sizeof cell),
                         "1/3 (3/6 PUs)");
    nd.topology.pus = 3;
    assert_string_equal (cli_cores_cell (&nd, cell, sizeof cell), "1/3");
    yard_node_t old = { .name = "w0" };
    assert_string_equal (cli_cores_cell (&old, cell, sizeof cell), "-");

    char *text = NULL;
    CAPTURE (text, print_cores (out, &nd));
    assert_non_null (strstr (text, "each job gets whole cores"));
    char *lines[16];
    int n = split_lines (text, lines, 16);
    assert_int_equal (n, 9);
    assert_non_null (strstr (lines[1], "CORE"));
    assert_non_null (strstr (lines[2], "0,4"));
    assert_non_null (strstr (lines[2], " 7"));
    assert_non_null (strstr (lines[3], " 9")); /* holds one PU of core 1 */
    assert_null (strstr (lines[3], " 7"));
    assert_non_null (strstr (lines[4], "-"));
    assert_non_null (strstr (lines[5], "NUMA distances"));
    assert_non_null (strstr (lines[7], "10    21"));
    assert_non_null (strstr (lines[8], "21    10"));
    free (text);

    json_t *o = json_object ();
    assert_true (cli_cores_json (o, &nd));
    assert_int_equal (json_integer_value (json_object_get (o, "cores_free")),
                      1);
    json_t *c1 = json_array_get (json_object_get (o, "cores"), 1);
    assert_string_equal (json_string_value (json_object_get (c1, "pus")),
                         "1,5");
    assert_int_equal (json_integer_value (json_array_get (
                          json_object_get (c1, "jobs"), 0)), 9);
    json_t *m = json_object_get (o, "numa_distances");
    assert_int_equal (json_integer_value (json_array_get (
                          json_array_get (m, 1), 0)), 21);
    json_decref (o);
}

static void
test_nodes_table (void **state)
{
    (void)state;
    int64_t now = T0;
    yard_node_t nd[2] = {
        { .name = "w1", .state = YARD_NODE_UP, .hostname = "", .version = "",
          .cpus = 8, .cpus_used = 2, .memory_bytes = 16ull << 30,
          .memory_used = 3ull << 29, .gpus = 2, .gpus_used = 0,
          .running_jobs = 1, .last_seen_ms = now - 3000 },
        { .name = "w2-long-name", .state = YARD_NODE_DOWN, .hostname = "",
          .version = "", .cpus = 64, .memory_bytes = 256ull << 30,
          .last_seen_ms = 0 },
    };
    char *text = NULL;
    CAPTURE (text, cli_print_nodes (out, nd, 2, now));
    char *lines[4];
    assert_int_equal (split_lines (text, lines, 4), 3);
    assert_non_null (strstr (lines[0], "NAME"));
    assert_non_null (strstr (lines[0], "LAST-SEEN"));
    /* capacity columns read free/total */
    assert_non_null (strstr (lines[1], "6/8"));
    assert_non_null (strstr (lines[1], "14G/16G"));
    assert_non_null (strstr (lines[1], "2/2"));
    assert_non_null (strstr (lines[1], "3s ago"));
    assert_non_null (strstr (lines[2], "256G/256G"));
    assert_non_null (strstr (lines[2], "never"));
    int st = col_of (lines[0], "STATE");
    /* the displayed state: some CPUs used, and a DOWN node */
    assert_int_equal (col_of (lines[1], "mixed"), st);
    assert_int_equal (col_of (lines[2], "down"), st);
    /* right-aligned numbers end in the same column */
    assert_int_equal (col_of (lines[1], "6/8") + 3, col_of (lines[2], "64/64") + 5);
    free (text);
}

static void
test_status_block (void **state)
{
    (void)state;
    yard_job_t j = sample_job ();
    char *text = NULL;
    CAPTURE (text, cli_print_job (out, &j, T0 + 60000 + 192000));
    assert_non_null (strstr (text, "id:          42\n"));
    assert_non_null (strstr (text, "name:        resnet\n"));
    assert_non_null (strstr (text, "state:       RUNNING (cancel requested)\n"));
    assert_non_null (strstr (text, "user:        alice@laptop\n"));
    assert_non_null (strstr (text, "node:        w1\n"));
    assert_non_null (strstr (text, "attempt:     2 (1 lost with its node)\n"));
    assert_non_null (strstr (text, "command:     python train.py 'a b'\n"));
    assert_non_null (strstr (text, "workdir:     /data\n"));
    assert_non_null (strstr (text, "resources:   4 cpus, 1 gpu, 16G memory\n"));
    assert_non_null (strstr (text, "time limit:  2h00m\n"));
    assert_non_null (strstr (text, "env:         LR TOKEN\n"));
    assert_null (strstr (text, "0.1")); /* env values stay off the screen */
    assert_non_null (strstr (text, "(4m12s ago)"));
    assert_non_null (strstr (text, "runtime:     3m12s\n"));
    assert_null (strstr (text, "ended:"));
    assert_null (strstr (text, "exit code:"));
    free (text);

    j.state = YARD_JOB_FAILED;
    j.end_time_ms = j.start_time_ms + 5000;
    j.end_reason = YARD_END_SIGNALED;
    j.term_signal = 9;
    j.reason = "oom\x1b[2J";
    CAPTURE (text, cli_print_job (out, &j, T0 + 600000));
    assert_non_null (strstr (text, "state:       FAILED\n"));
    assert_non_null (strstr (text, "ended:"));
    assert_non_null (strstr (text, "runtime:     5s\n"));
    assert_non_null (strstr (text, "signal:      9 ("));
    assert_non_null (strstr (text, "end reason:  signaled\n"));
    assert_non_null (strstr (text, "reason:      oom?[2J\n"));
    free (text);

    j.term_signal = 0;
    j.end_reason = YARD_END_EXITED;
    j.exit_code = 3;
    CAPTURE (text, cli_print_job (out, &j, T0 + 600000));
    assert_non_null (strstr (text, "exit code:   3\n"));
    free (text);
}

static void
test_shell_join_and_times (void **state)
{
    (void)state;
    char *a[] = { "echo", "it's", "", "$HOME", "a=b,c/d:e", NULL };
    char *s = cli_shell_join (a, 5);
    assert_string_equal (s, "echo 'it'\\''s' '' '$HOME' a=b,c/d:e");
    free (s);
    s = cli_shell_join (a, 0);
    assert_string_equal (s, "");
    free (s);

    char buf[48];
    assert_string_equal (cli_time_iso (T0, buf, sizeof buf),
                         "2024-05-01T12:00:03.123Z");
    assert_string_equal (cli_time_iso (0, buf, sizeof buf), "");
    assert_string_equal (cli_time_local (0, buf, sizeof buf), "-");
    assert_int_equal (strlen (cli_time_local (T0, buf, sizeof buf)), 19);

    yard_job_t j = sample_job ();
    assert_int_equal (cli_job_elapsed_ms (&j, T0 + 70000), 10000);
    j.start_time_ms = 0;
    j.state = YARD_JOB_PENDING;
    assert_int_equal (cli_job_elapsed_ms (&j, T0 + 5000), 5000);
    j.state = YARD_JOB_CANCELLED; /* cancelled before it ran */
    assert_int_equal (cli_job_elapsed_ms (&j, T0 + 5000), -1);
}

static void
test_wait_exit_codes (void **state)
{
    (void)state;
    yard_job_t j = sample_job ();
    j.state = YARD_JOB_COMPLETED;
    assert_int_equal (cli_wait_exit_code (&j), 0);
    j.state = YARD_JOB_FAILED;
    j.end_reason = YARD_END_EXITED;
    j.exit_code = 3;
    assert_int_equal (cli_wait_exit_code (&j), 3);
    j.exit_code = 255;
    assert_int_equal (cli_wait_exit_code (&j), 255);
    j.exit_code = 0; /* failed yet "exited 0": still a failure */
    assert_int_equal (cli_wait_exit_code (&j), 1);
    j.end_reason = YARD_END_SIGNALED;
    j.term_signal = 9;
    assert_int_equal (cli_wait_exit_code (&j), 137);
    j.term_signal = 0;
    j.end_reason = YARD_END_SPAWN_FAILED;
    j.exit_code = 127;
    assert_int_equal (cli_wait_exit_code (&j), 127);
    j.end_reason = YARD_END_LOST;
    j.exit_code = 0;
    assert_int_equal (cli_wait_exit_code (&j), 1);
    j.state = YARD_JOB_TIMEOUT;
    assert_int_equal (cli_wait_exit_code (&j), 124);
    j.state = YARD_JOB_CANCELLED;
    assert_int_equal (cli_wait_exit_code (&j), 125);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_job_json),
        cmocka_unit_test (test_json_bad_utf8),
        cmocka_unit_test (test_node_json),
        cmocka_unit_test (test_table_alignment),
        cmocka_unit_test (test_queue_table),
        cmocka_unit_test (test_nodes_table),
        cmocka_unit_test (test_cores_render),
        cmocka_unit_test (test_status_block),
        cmocka_unit_test (test_shell_join_and_times),
        cmocka_unit_test (test_wait_exit_codes),
    };
    /* local times in the status block must not depend on the machine */
    setenv ("TZ", "UTC", 1);
    return cmocka_run_group_tests_name ("yard CLI rendering", tests, NULL, NULL);
}
