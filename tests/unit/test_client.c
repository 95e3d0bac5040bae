/* test_client.c - libyard against an unreachable endpoint and against the
 * scripted fake scheduler (test_client_fake.c): round trips of every call,
 * stale and garbage replies, error replies, timeouts and the socket's
 * recovery, and yard_wait across a lost long poll and a scheduler restart.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_internal.h"
#include "test_client_fake.h"
#include "util.h"
#include "yard/yard.h"

/* Nothing listens on port 1 of the loopback. */
#define DEAD_EP "tcp://127.0.0.1:1"

struct fixture {
    fake_sched_t *fake;
    yard_client_t *c;
};

static int
setup (void **state)
{
    struct fixture *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->fake = fake_start ();
    fx->c = yard_client_create (fake_endpoint (fx->fake));
    assert_non_null (fx->c);
    assert_int_equal (yard_client_set_timeout (fx->c, 2000), 0);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    struct fixture *fx = *state;
    yard_client_destroy (&fx->c);
    fake_stop (&fx->fake);
    free (fx);
    return 0;
}

/* ---- events ------------------------------------------------------------ */

/* A scheduler without events (the fake answers EOPNOTSUPP to what it does
 * not know), one that is not there, and the argument checks. */
static void
test_events_unsupported (void **state)
{
    struct fixture *fx = *state;
    yard_events_t *ev = (yard_events_t *)0x1;
    yard_event_t e;
    assert_int_equal (yard_events_subscribe (NULL, 0, false, &ev), -EINVAL);
    assert_int_equal (yard_events_subscribe (fx->c, 0, false, NULL),
                      -EINVAL);
    assert_int_equal (yard_events_subscribe (fx->c, 3, true, &ev),
                      -EOPNOTSUPP);
    assert_null (ev);
    assert_non_null (strstr (yard_client_errmsg (fx->c), "not a client"));
    assert_int_equal (yard_events_next (NULL, 0, &e), -EINVAL);
    assert_int_equal (yard_events_missed (NULL), 0);
    yard_events_destroy (NULL);
    yard_events_destroy (&ev);
    /* the client still works afterwards */
    yard_job_t *job = NULL;
    assert_int_equal (yard_job_status (fx->c, 2, &job), 0);
    yard_job_free (&job);

    yard_client_t *c = yard_client_create (DEAD_EP);
    assert_int_equal (yard_client_set_timeout (c, 300), 0);
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_events_subscribe (c, 0, false, &ev), -ETIMEDOUT);
    assert_true (yard_mono_ms () - t0 < 1500);
    assert_non_null (strstr (yard_client_errmsg (c), "events subscription"));
    yard_client_destroy (&c);
}

/* ---- without a scheduler ----------------------------------------------- */

static void
test_destroy_null (void **state)
{
    (void)state;
    yard_client_t *c = NULL;
    yard_client_destroy (NULL);
    yard_client_destroy (&c);
    assert_null (c);
    yard_job_free (NULL);
    yard_jobs_free (NULL, 3);
    yard_nodes_free (NULL, 1);
    yard_logs_free (NULL);
}

static void
test_create_endpoints (void **state)
{
    (void)state;
    yard_client_t *c;

    unsetenv ("YARD_SCHEDULER");
    c = yard_client_create (NULL);
    assert_non_null (c);
    assert_string_equal (yard_client_endpoint (c), YARD_DEFAULT_SCHEDULER);
    assert_int_equal (yard_client_timeout (c), YARD_DEFAULT_TIMEOUT_MS);
    assert_string_equal (yard_client_errmsg (c), "");
    yard_client_destroy (&c);

    setenv ("YARD_SCHEDULER", "tcp://127.0.0.1:7799", 1);
    c = yard_client_create ("");
    assert_non_null (c);
    assert_string_equal (yard_client_endpoint (c), "tcp://127.0.0.1:7799");
    yard_client_destroy (&c);
    unsetenv ("YARD_SCHEDULER");

    c = yard_client_create ("ipc:///tmp/yard-test-nothing-here");
    assert_non_null (c);
    yard_client_destroy (&c);

    errno = 0;
    assert_null (yard_client_create ("not an endpoint"));
    assert_int_not_equal (errno, 0);
    errno = 0;
    assert_null (yard_client_create ("bogus://x:1"));
    assert_int_not_equal (errno, 0);

    c = yard_client_create (DEAD_EP);
    assert_non_null (c);
    assert_int_equal (yard_client_set_timeout (c, 0), -EINVAL);
    assert_int_equal (yard_client_set_timeout (c, -5), -EINVAL);
    assert_int_equal (yard_client_set_timeout (c, 1234), 0);
    assert_int_equal (yard_client_timeout (c), 1234);
    yard_client_destroy (&c);
}

static void
test_unreachable (void **state)
{
    (void)state;
    yard_client_t *c = yard_client_create (DEAD_EP);
    yard_job_t *job = (yard_job_t *)0x1;
    assert_non_null (c);
    assert_int_equal (yard_client_set_timeout (c, 300), 0);

    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_job_status (c, 1, &job), -ETIMEDOUT);
    int64_t took = yard_mono_ms () - t0;
    assert_null (job);
    assert_true (took >= 290);
    assert_true (took < 1500);
    const char *msg = yard_client_errmsg (c);
    assert_non_null (strstr (msg, "no answer from the scheduler at " DEAD_EP
                                  " after 300ms"));
    assert_non_null (strstr (msg, "YARD_SCHEDULER"));

    /* the same again: the socket was recreated, still bounded */
    t0 = yard_mono_ms ();
    uint64_t id = 0;
    char *argv[] = { "true", NULL };
    yard_job_spec_t spec = { .argv = argv, .argc = 1 };
    assert_int_equal (yard_submit (c, &spec, &id), -ETIMEDOUT);
    assert_true (yard_mono_ms () - t0 < 1500);

    /* yard_wait asks once with the plain timeout, even "for ever" */
    t0 = yard_mono_ms ();
    assert_int_equal (yard_wait (c, 1, -1, &job), -ETIMEDOUT);
    assert_true (yard_mono_ms () - t0 < 1500);
    yard_client_destroy (&c);
}

static void
test_submit_validation (void **state)
{
    (void)state;
    yard_client_t *c = yard_client_create (DEAD_EP);
    uint64_t id = 0;
    char *argv[] = { "python", "x.py", NULL };
    char *empty[] = { "", NULL };
    char *bad_env[] = { "NOEQUALS", NULL };
    char *bad_env2[] = { "=value", NULL };
    yard_job_spec_t spec = { 0 };

    assert_int_equal (yard_submit (c, NULL, &id), -EINVAL);
    assert_int_equal (yard_submit (c, &spec, &id), -EINVAL);
    assert_non_null (strstr (yard_client_errmsg (c), "no command"));
    spec.argv = empty;
    spec.argc = 1;
    assert_int_equal (yard_submit (c, &spec, &id), -EINVAL);
    spec.argv = argv;
    spec.argc = 2;
    spec.env = bad_env;
    spec.envc = 1;
    assert_int_equal (yard_submit (c, &spec, &id), -EINVAL);
    assert_non_null (strstr (yard_client_errmsg (c), "NOEQUALS"));
    spec.env = bad_env2;
    assert_int_equal (yard_submit (c, &spec, &id), -EINVAL);
    assert_int_equal (yard_submit (NULL, &spec, &id), -EINVAL);
    yard_client_destroy (&c);
}

static void
test_state_names (void **state)
{
    (void)state;
    assert_string_equal (yard_job_state_str (YARD_JOB_RUNNING), "RUNNING");
    assert_string_equal (yard_job_state_str (YARD_JOB_LOST), "LOST");
    assert_string_equal (yard_job_state_str ((enum yard_job_state)77),
                         "UNKNOWN");
    assert_string_equal (yard_end_reason_str (YARD_END_SPAWN_FAILED),
                         "spawn-failed");
    assert_string_equal (yard_node_state_str (YARD_NODE_DOWN), "DOWN");
    assert_true (yard_job_state_finished (YARD_JOB_TIMEOUT));
    assert_true (yard_job_state_finished (YARD_JOB_CANCELLED));
    assert_false (yard_job_state_finished (YARD_JOB_LOST));
    assert_false (yard_job_state_finished (YARD_JOB_PENDING));
    assert_string_equal (yard_version (), YARD_VERSION);
}

/* ---- against the fake -------------------------------------------------- */

static void
test_submit_roundtrip (void **state)
{
    struct fixture *fx = *state;
    char *argv[] = { "python", "train.py", "--lr", "0.1", NULL };
    char *env[] = { "A=1", "B=x=y", NULL };
    yard_job_spec_t spec = {
        .name = "resnet",
        .argv = argv,
        .argc = 4,
        .env = env,
        .envc = 2,
        .workdir = "sub/dir",
        .cpus = 4,
        .gpus = 2,
        .memory_bytes = 1ull << 30,
        .time_limit_s = 7200,
        .priority = -3,
        .grace_s = 30,
    };
    uint64_t id = 0;
    struct fake_submit got;
    char cwd[PATH_MAX], want[PATH_MAX + 16];

    /* the fake sends a stale reply and a garbage frame first */
    assert_int_equal (yard_submit (fx->c, &spec, &id), 0);
    assert_int_equal (id, 42);
    fake_last_submit (fx->fake, &got);
    assert_int_equal (got.count, 1);
    assert_string_equal (got.name, "resnet");
    assert_string_equal (got.argv0, "python");
    assert_int_equal (got.argc, 4);
    assert_int_equal (got.envc, 2);
    assert_string_equal (got.env0_key, "A");
    assert_string_equal (got.env0_value, "1");
    assert_int_equal (got.cpus, 4);
    assert_int_equal (got.gpus, 2);
    assert_int_equal (got.memory_bytes, 1ull << 30);
    assert_int_equal (got.time_limit_s, 7200);
    assert_int_equal (got.priority, -3);
    assert_int_equal (got.grace_s, 30);
    assert_non_null (getcwd (cwd, sizeof cwd));
    assert_string_equal (got.submit_dir, cwd);
    snprintf (want, sizeof want, "%s/sub/dir", cwd);
    assert_string_equal (got.workdir, want);
    assert_true (got.user[0] != '\0');
    assert_true (got.submit_host[0] != '\0');

    /* the scheduler's refusal, word for word */
    spec.name = "refuse";
    spec.workdir = "/abs";
    id = 0;
    assert_int_equal (yard_submit (fx->c, &spec, &id), -EINVAL);
    assert_int_equal (id, 0);
    assert_string_equal (yard_client_errmsg (fx->c),
                         "invalid job spec: the name 'refuse' is refused");
    fake_last_submit (fx->fake, &got);
    assert_string_equal (got.workdir, "/abs");
}

/* yard_submit_many against the fake: n jobs named "many" (the fake's id
 * 1000 + i), but for the names and env given at some indexes. */
#define MANY 300

static void
many_specs (yard_job_spec_t *specs, char (*arg)[24], char **argvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf (arg[i], sizeof arg[i], "%zu", i);
        argvs[3 * i] = "true";
        argvs[3 * i + 1] = arg[i];
        argvs[3 * i + 2] = NULL;
        specs[i] = (yard_job_spec_t){ .name = "many", .argv = &argvs[3 * i],
                                      .argc = 2 };
    }
}

static void
test_submit_many (void **state)
{
    struct fixture *fx = *state;
    static yard_job_spec_t specs[MANY];
    static char arg[MANY][24];
    static char *argvs[3 * MANY];
    static char *bad_env[] = { "NO_EQUALS_SIGN", NULL };
    static yard_submitted_t out[MANY];

    many_specs (specs, arg, argvs, MANY);
    specs[7].name = "refuse";      /* refused by the scheduler */
    specs[150].name = "refuse";
    specs[200].env = bad_env;      /* refused here, never sent */
    specs[200].envc = 1;
    assert_int_equal (yard_submit_many (fx->c, specs, MANY, out), MANY - 3);
    for (size_t i = 0; i < MANY; i++) {
        if (i == 7 || i == 150) {
            assert_int_equal (out[i].job_id, 0);
            assert_int_equal (out[i].error, -EINVAL);
            assert_string_equal (out[i].message, "invalid job spec: the name "
                                                 "'refuse' is refused");
        } else if (i == 200) {
            assert_int_equal (out[i].job_id, 0);
            assert_int_equal (out[i].error, -EINVAL);
            assert_non_null (strstr (out[i].message, "NO_EQUALS_SIGN"));
        } else {
            /* matched by request id; the second answers dropped */
            assert_int_equal (out[i].job_id, 1000 + i);
            assert_int_equal (out[i].error, 0);
            assert_null (out[i].message);
        }
    }
    assert_int_equal (fake_count (fx->fake, YARD__ENVELOPE__BODY_SUBMIT),
                      MANY - 1);
    assert_string_equal (yard_client_errmsg (fx->c),
                         "3 of 300 jobs refused; job 7: invalid job spec: "
                         "the name 'refuse' is refused");
    yard_submitted_clear (out, MANY);
    assert_null (out[7].message);

    /* nothing to do */
    assert_int_equal (yard_submit_many (fx->c, specs, 0, NULL), 0);
    assert_int_equal (yard_submit_many (fx->c, NULL, 1, out), -EINVAL);
    assert_int_equal (yard_submit_many (fx->c, specs, 1, NULL), -EINVAL);
    assert_int_equal (yard_submit_many (NULL, specs, 1, out), -EINVAL);
    assert_int_equal (yard_submit_many (fx->c, &specs[1], 1, out), 1);
    assert_int_equal (out[0].job_id, 1001);
    yard_submitted_clear (NULL, 1);
}

/* A job that gets no answer: the call gives up after the client's timeout
 * and says which jobs were acknowledged; the client still works after. */
static void
test_submit_many_timeout (void **state)
{
    struct fixture *fx = *state;
    yard_job_spec_t specs[9];
    char arg[9][24];
    char *argvs[27];
    yard_submitted_t out[9];

    many_specs (specs, arg, argvs, 9);
    specs[5].name = "drop";
    assert_int_equal (yard_client_set_timeout (fx->c, 300), 0);
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_submit_many (fx->c, specs, 9, out), -ETIMEDOUT);
    assert_true (yard_mono_ms () - t0 >= 290);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal (out[i].error, i == 5 ? -ETIMEDOUT : 0);
        assert_int_equal (out[i].job_id, i == 5 ? 0 : 1000 + i);
    }
    assert_non_null (strstr (out[5].message, "may or may not have been "
                                             "committed"));
    const char *msg = yard_client_errmsg (fx->c);
    assert_non_null (strstr (msg, "no answer from the scheduler"));
    assert_non_null (strstr (msg, "8 of 9 jobs acknowledged, 1 sent and not "
                                  "answered"));
    yard_submitted_clear (out, 9);
    assert_int_equal (yard_submit_many (fx->c, &specs[3], 1, out), 1);
    assert_int_equal (out[0].job_id, 1003);
}

static void
test_status (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *job = NULL;

    assert_int_equal (yard_job_status (fx->c, 1, &job), 0);
    assert_non_null (job);
    assert_int_equal (job->id, 1);
    assert_string_equal (job->name, "resnet");
    assert_int_equal (job->state, YARD_JOB_RUNNING);
    assert_int_equal (job->attempt, 1);
    assert_string_equal (job->node, "w1");
    assert_true (job->submit_time_ms > 0);
    assert_true (job->start_time_ms > job->submit_time_ms);
    assert_int_equal (job->end_time_ms, 0);
    assert_int_equal (job->cpus, 4);
    assert_int_equal (job->gpus, 1);
    assert_int_equal (job->memory_bytes, 16ull << 30);
    assert_int_equal (job->time_limit_s, 3600);
    assert_int_equal (job->priority, 5);
    assert_int_equal (job->grace_s, 10);
    assert_int_equal (job->argc, 3);
    assert_string_equal (job->argv[2], "a b");
    assert_null (job->argv[3]);
    assert_int_equal (job->envc, 1);
    assert_string_equal (job->env[0], "LR=0.1");
    assert_string_equal (job->user, "alice");
    assert_string_equal (job->submit_dir, "/home/alice");
    assert_string_equal (job->submit_host, "laptop");
    assert_string_equal (job->reason, "");
    assert_string_equal (job->workdir, "");
    yard_job_free (&job);
    assert_null (job);

    assert_int_equal (yard_job_status (fx->c, 4, &job), 0);
    assert_int_equal (job->state, YARD_JOB_FAILED);
    assert_int_equal (job->end_reason, YARD_END_SIGNALED);
    assert_int_equal (job->term_signal, 9);
    assert_true (job->end_time_ms > 0);
    yard_job_free (&job);

    /* ErrorReply: its code and its text */
    assert_int_equal (yard_job_status (fx->c, 7, &job), -ENOENT);
    assert_null (job);
    assert_string_equal (yard_client_errmsg (fx->c), "no such job 7");
}

static void
test_bad_replies (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *job = NULL;

    yard_client_set_timeout (fx->c, 300);
    /* a reply of the wrong type */
    assert_int_equal (yard_job_status (fx->c, 15, &job), -EBADMSG);
    assert_null (job);
    assert_non_null (strstr (yard_client_errmsg (fx->c), "submit_reply"));
    /* an ErrorReply without a usable code */
    assert_int_equal (yard_job_status (fx->c, 16, &job), -EPROTO);
    assert_true (yard_client_errmsg (fx->c)[0] != '\0');
    /* an answer about another job */
    assert_int_equal (yard_job_status (fx->c, 17, &job), -EBADMSG);
    assert_non_null (strstr (yard_client_errmsg (fx->c), "job 99"));
    /* an answer in another protocol version: a clear error at once */
    assert_int_equal (yard_job_status (fx->c, 14, &job), -EPROTO);
    assert_non_null (strstr (yard_client_errmsg (fx->c),
                             "does not speak this client's protocol"));
    /* after all that the client still works */
    yard_client_set_timeout (fx->c, 2000);
    assert_int_equal (yard_job_status (fx->c, 2, &job), 0);
    assert_int_equal (job->state, YARD_JOB_COMPLETED);
    yard_job_free (&job);
}

static void
test_timeout_then_recover (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *job = NULL;

    /* job 13's first status request is dropped by the fake */
    yard_client_set_timeout (fx->c, 300);
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_job_status (fx->c, 13, &job), -ETIMEDOUT);
    assert_true (yard_mono_ms () - t0 < 1500);
    assert_non_null (strstr (yard_client_errmsg (fx->c), fake_endpoint (fx->fake)));
    assert_int_equal (yard_job_status (fx->c, 13, &job), 0);
    assert_int_equal (job->state, YARD_JOB_RUNNING);
    yard_job_free (&job);
    assert_int_equal (fake_count (fx->fake, YARD__ENVELOPE__BODY_JOB_STATUS), 2);
}

static void
test_queue_nodes_cancel (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *jobs = NULL, *job = NULL;
    yard_node_t *nodes = NULL;
    size_t n = 99;

    assert_int_equal (yard_queue (fx->c, false, 0, &jobs, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (jobs[0].id, 8);
    assert_int_equal (jobs[0].state, YARD_JOB_PENDING);
    assert_string_equal (jobs[0].reason, "waiting for 4 free cpus");
    assert_int_equal (jobs[1].state, YARD_JOB_RUNNING);
    yard_jobs_free (&jobs, n);
    assert_null (jobs);
    assert_int_equal (yard_queue (fx->c, true, 10, &jobs, &n), 0);
    assert_int_equal (n, 4);
    assert_int_equal (jobs[3].state, YARD_JOB_FAILED);
    yard_jobs_free (&jobs, n);

    assert_int_equal (yard_nodes (fx->c, &nodes, &n), 0);
    assert_int_equal (n, 2);
    assert_string_equal (nodes[0].name, "w1");
    assert_int_equal (nodes[0].state, YARD_NODE_UP);
    assert_string_equal (nodes[0].hostname, "gpu-01");
    assert_int_equal (nodes[0].cpus, 8);
    assert_int_equal (nodes[0].cpus_used, 2);
    assert_int_equal (nodes[0].memory_used, 3ull << 29);
    assert_int_equal (nodes[0].gpus, 2);
    assert_int_equal (nodes[0].running_jobs, 1);
    assert_int_equal (nodes[1].state, YARD_NODE_DOWN);
    assert_string_equal (nodes[1].hostname, "");
    yard_nodes_free (&nodes, n);
    assert_null (nodes);

    assert_int_equal (yard_cancel (fx->c, 8, &job), 0);
    assert_int_equal (job->state, YARD_JOB_CANCELLED);
    yard_job_free (&job);
    assert_int_equal (yard_cancel (fx->c, 1, &job), 0);
    assert_int_equal (job->state, YARD_JOB_RUNNING);
    assert_true (job->cancel_requested);
    yard_job_free (&job);
    assert_int_equal (yard_cancel (fx->c, 7, &job), -ENOENT);
    assert_null (job);
}

static void
test_logs (void **state)
{
    struct fixture *fx = *state;
    yard_logs_t *lg = NULL;

    assert_int_equal (yard_logs_read (fx->c, 1, 0, 0, 0, 0, &lg), 0);
    assert_int_equal (lg->job_id, 1);
    assert_int_equal (lg->attempt, 1);
    assert_int_equal (lg->offset, 0);
    assert_int_equal (lg->len, 6);
    assert_memory_equal (lg->data, "hello\n", 6);
    assert_int_equal (lg->data[6], '\0');
    assert_int_equal (lg->next_offset, 6);
    assert_false (lg->eof);
    assert_int_equal (lg->state, YARD_JOB_RUNNING);
    yard_logs_free (&lg);
    assert_null (lg);

    assert_int_equal (yard_logs_read (fx->c, 1, 1, 12, 0, 100, &lg), 0);
    assert_int_equal (lg->len, 0);
    assert_non_null (lg->data);
    assert_true (lg->eof);
    assert_int_equal (lg->next_offset, 12);
    assert_int_equal (lg->state, YARD_JOB_COMPLETED);
    yard_logs_free (&lg);

    assert_int_equal (yard_logs_read (fx->c, 7, 0, 0, 0, 0, &lg), -ENOENT);
    assert_null (lg);
}

static void
test_wait (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *job = NULL;

    /* already finished: one status request, no long poll */
    assert_int_equal (yard_wait (fx->c, 3, -1, &job), 0);
    assert_int_equal (job->state, YARD_JOB_FAILED);
    assert_int_equal (job->exit_code, 3);
    yard_job_free (&job);
    assert_int_equal (fake_count (fx->fake, YARD__ENVELOPE__BODY_WAIT_JOB), 0);

    assert_int_equal (yard_wait (fx->c, 7, -1, &job), -ENOENT);
    assert_null (job);

    /* never finishes: the timeout ends the wait with its current state */
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_wait (fx->c, 8, 700, &job), 0);
    int64_t took = yard_mono_ms () - t0;
    assert_int_equal (job->state, YARD_JOB_PENDING);
    assert_true (took >= 650);
    assert_true (took < 2500);
    yard_job_free (&job);
    /* it paused between the fake's instant answers instead of spinning */
    int polls = fake_count (fx->fake, YARD__ENVELOPE__BODY_WAIT_JOB);
    assert_true (polls >= 1);
    assert_true (polls <= 5);

    /* timeout 0: look once */
    assert_int_equal (yard_wait (fx->c, 1, 0, &job), 0);
    assert_int_equal (job->state, YARD_JOB_RUNNING);
    yard_job_free (&job);
}

static void
test_wait_lost_poll (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *job = NULL;

    /* job 9's first long poll is never answered: after poll + timeout the
     * client asks again on a new socket */
    yard_client_set_timeout (fx->c, 300);
    assert_int_equal (yard__client_set_max_poll (fx->c, 400), 0);
    assert_int_equal (yard__client_set_max_poll (fx->c, 0), -EINVAL);
    assert_int_equal (yard__client_set_max_poll (fx->c, 60000), -EINVAL);
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_wait (fx->c, 9, 10000, &job), 0);
    int64_t took = yard_mono_ms () - t0;
    assert_int_equal (job->state, YARD_JOB_COMPLETED);
    yard_job_free (&job);
    assert_true (took >= 650);
    assert_true (took < 5000);
    assert_int_equal (fake_count (fx->fake, YARD__ENVELOPE__BODY_WAIT_JOB), 2);
}

static void
test_wait_restart (void **state)
{
    struct fixture *fx = *state;
    yard_job_t *job = NULL;

    /* job 10's first long poll "restarts" the scheduler: the lost
     * connection is noticed at once, long before the 30 s poll ends */
    int64_t t0 = yard_mono_ms ();
    assert_int_equal (yard_wait (fx->c, 10, -1, &job), 0);
    int64_t took = yard_mono_ms () - t0;
    assert_int_equal (job->state, YARD_JOB_COMPLETED);
    yard_job_free (&job);
    assert_int_equal (fake_restarts (fx->fake), 1);
    assert_true (took < 5000);

    /* and the client keeps working with the restarted scheduler */
    assert_int_equal (yard_job_status (fx->c, 2, &job), 0);
    yard_job_free (&job);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_destroy_null),
        cmocka_unit_test (test_create_endpoints),
        cmocka_unit_test (test_unreachable),
        cmocka_unit_test (test_submit_validation),
        cmocka_unit_test (test_state_names),
        cmocka_unit_test_setup_teardown (test_submit_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown (test_submit_many, setup, teardown),
        cmocka_unit_test_setup_teardown (test_submit_many_timeout, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_status, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_replies, setup, teardown),
        cmocka_unit_test_setup_teardown (test_timeout_then_recover, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_queue_nodes_cancel, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_logs, setup, teardown),
        cmocka_unit_test_setup_teardown (test_wait, setup, teardown),
        cmocka_unit_test_setup_teardown (test_events_unsupported, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_wait_lost_poll, setup, teardown),
        cmocka_unit_test_setup_teardown (test_wait_restart, setup, teardown),
    };
    return cmocka_run_group_tests_name ("libyard client", tests, NULL, NULL);
}
