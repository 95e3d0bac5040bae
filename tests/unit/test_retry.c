/* test_retry.c - the retry policy (scheduler/retry.c), the waitq of jobs
 * backing off (scheduler/waitq.c) and the attempt history in the store
 * (scheduler/store_attempts.c), including the migration of a version 2
 * database to version 3. */
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

#include "job.h"
#include "retry.h"
#include "store.h"
#include "store_attempts.h"
#include "waitq.h"
#include "store_fixture.h"

#define EXITED YARD__END_REASON__END_EXITED

static void
test_backoff (void **state)
{
    (void)state;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    /* default 10 s, doubled */
    assert_int_equal (yard_retry_backoff_ms (&spec, 0), 10000);
    assert_int_equal (yard_retry_backoff_ms (&spec, 1), 20000);
    assert_int_equal (yard_retry_backoff_ms (&spec, 2), 40000);
    /* capped at an hour, however many retries */
    assert_int_equal (yard_retry_backoff_ms (&spec, 9), 3600000);
    assert_int_equal (yard_retry_backoff_ms (&spec, UINT32_MAX), 3600000);
    spec.retry_backoff_s = 1;
    assert_int_equal (yard_retry_backoff_ms (&spec, 0), 1000);
    assert_int_equal (yard_retry_backoff_ms (&spec, 3), 8000);
    spec.retry_backoff_s = 3600;
    assert_int_equal (yard_retry_backoff_ms (&spec, 1), 3600000);
    assert_int_equal (yard_retry_backoff_ms (NULL, 0), 10000);
}

static void
test_decide (void **state)
{
    (void)state;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    int32_t codes[] = {75};
    /* no retries: failures are final, infrastructure always requeues */
    assert_int_equal (yard_retry_decide (&spec, 0, false, EXITED, 1),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, false, EXITED, 0),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_LOST, 0),
                      YARD_RETRY_FREE);
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_PREEMPTED, 143),
                      YARD_RETRY_FREE);
    /* a successor given back never ran: requeued at no cost */
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_RETURNED, 0),
                      YARD_RETRY_FREE);
    assert_false (yard_retry_is_job_failure (YARD__END_REASON__END_RETURNED,
                                             0));
    /* but a successor cancelled while it waited is cancelled */
    assert_int_equal (yard_retry_decide (&spec, 0, true,
                                         YARD__END_REASON__END_RETURNED, 0),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_TIMEOUT, 0),
                      YARD_RETRY_NO);
    spec.requeue_on_timeout = true;
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_TIMEOUT, 0),
                      YARD_RETRY_FREE);
    /* retries count job failures of every kind */
    spec.retries = 2;
    static const Yard__EndReason fails[] = {
        YARD__END_REASON__END_SIGNALED, YARD__END_REASON__END_SPAWN_FAILED,
        YARD__END_REASON__END_OOM};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (yard_retry_decide (&spec, 1, false, fails[i], 0),
                          YARD_RETRY_COUNTED);
        assert_int_equal (yard_retry_decide (&spec, 2, false, fails[i], 0),
                          YARD_RETRY_NO);
    }
    assert_int_equal (yard_retry_decide (&spec, 0, false, EXITED, 1),
                      YARD_RETRY_COUNTED);
    assert_int_equal (yard_retry_decide (&spec, 2, false, EXITED, 1),
                      YARD_RETRY_NO);
    /* never retried: success, cancel, stale, a cancel requested */
    assert_int_equal (yard_retry_decide (&spec, 0, false, EXITED, 0),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_CANCELLED, 0),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, false,
                                         YARD__END_REASON__END_STALE, 0),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, true, EXITED, 1),
                      YARD_RETRY_NO);
    assert_int_equal (yard_retry_decide (&spec, 0, true,
                                         YARD__END_REASON__END_LOST, 0),
                      YARD_RETRY_NO);
    /* listed exit codes always retry, whatever the count */
    spec.retries = 0;
    spec.retry_exit_codes = codes;
    spec.n_retry_exit_codes = 1;
    assert_int_equal (yard_retry_decide (&spec, 50, false, EXITED, 75),
                      YARD_RETRY_COUNTED);
    assert_int_equal (yard_retry_decide (&spec, 0, false, EXITED, 74),
                      YARD_RETRY_NO);
    assert_true (yard_retry_is_job_failure (EXITED, 1));
    assert_false (yard_retry_is_job_failure (EXITED, 0));
    assert_false (yard_retry_is_job_failure (YARD__END_REASON__END_LOST, 1));
}

static void
test_spec_check (void **state)
{
    (void)state;
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    yard_error_t err = {0};
    int32_t bad[] = {0};
    assert_int_equal (yard_retry_spec_check (&spec, &err), 0);
    spec.retries = YARD_RETRY_MAX_RETRIES + 1;
    assert_int_equal (yard_retry_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "retries"));
    spec.retries = 3;
    spec.retry_exit_codes = bad;
    spec.n_retry_exit_codes = 1;
    assert_int_equal (yard_retry_spec_check (&spec, &err), -EINVAL);
    spec.n_retry_exit_codes = 0;
    spec.stop_signal = 65;
    assert_int_equal (yard_retry_spec_check (&spec, &err), -EINVAL);
    spec.stop_signal = 10;
    spec.warn_signal = 10;
    spec.warn_seconds = 60;
    assert_int_equal (yard_retry_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "time limit"));
    spec.time_limit_s = 60;
    assert_int_equal (yard_retry_spec_check (&spec, &err), -EINVAL);
    spec.time_limit_s = 61;
    assert_int_equal (yard_retry_spec_check (&spec, &err), 0);
}

static void
test_waitq (void **state)
{
    (void)state;
    yard_waitq_t *wq = yard_waitq_create ();
    assert_non_null (wq);
    yard_job_t jobs[50];
    memset (jobs, 0, sizeof jobs);
    for (int i = 0; i < 50; i++) {
        jobs[i].id = (uint64_t)i + 1;
        jobs[i].wait_idx = YARD_JOB_NO_HEAP;
        jobs[i].eligible_ms = (int64_t)((i * 37) % 50) * 10;
        assert_int_equal (yard_waitq_push (wq, &jobs[i]), 0);
    }
    assert_int_equal (yard_waitq_push (wq, &jobs[3]), -EEXIST);
    assert_int_equal (yard_waitq_remove (wq, &jobs[7]), 0);
    assert_int_equal (yard_waitq_remove (wq, &jobs[7]), -ENOENT);
    assert_false (yard_waitq_has (wq, &jobs[7]));
    assert_int_equal (yard_waitq_count (wq), 49);
    /* nothing due before the first eligible time */
    assert_null (yard_waitq_pop_due (wq, -1));
    int64_t last = -1;
    size_t n = 0;
    yard_job_t *j;
    while ((j = yard_waitq_pop_due (wq, 245))) {
        assert_true (j->eligible_ms >= last);
        assert_true (j->eligible_ms <= 245);
        last = j->eligible_ms;
        n++;
    }
    assert_int_equal (n, 24); /* 0, 10, ..., 240 less the removed one (70) */
    yard_waitq_clear (wq);
    assert_int_equal (yard_waitq_count (wq), 0);
    assert_false (yard_waitq_has (wq, &jobs[49]));
    yard_waitq_destroy (&wq);
    assert_null (wq);
    yard_waitq_destroy (NULL);
}

/* ---- store ---- */

static int
setup (void **state)
{
    return store_fixture_setup (state, "retry", NULL);
}

static yard_store_t *
open_store (struct store_fixture *f)
{
    yard_error_t err = {0};
    yard_store_t *st = yard_store_create (f->db, true, &err);
    if (!st)
        fail_msg ("open %s: %s", f->db, err.text);
    return st;
}

static int64_t
user_version (const char *path)
{
    return store_fixture_query_int (path, "PRAGMA user_version");
}

static void
exec_raw (const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
}

static yard_job_t *
mkjob (void)
{
    static char *argv[] = {"true"};
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    spec.argv = argv;
    spec.n_argv = 1;
    spec.retries = 3;
    size_t len = yard__job_spec__get_packed_size (&spec);
    uint8_t *buf = malloc (len ? len : 1);
    yard__job_spec__pack (&spec, buf);
    yard_job_t *job = yard_job_create ();
    assert_non_null (job);
    job->spec = yard__job_spec__unpack (NULL, len, buf);
    free (buf);
    return job;
}

struct rows {
    yard_store_attempt_t v[8];
    char reason[8][64];
    size_t n;
};

static int
collect (const yard_store_attempt_t *row, void *arg)
{
    struct rows *r = arg;
    if (r->n == 8)
        return -E2BIG;
    r->v[r->n] = *row;
    snprintf (r->reason[r->n], sizeof r->reason[0], "%s", row->reason);
    r->v[r->n].reason = r->reason[r->n];
    r->v[r->n].node = NULL; /* borrowed: gone after the callback */
    r->n++;
    return 0;
}

static void
test_attempts_roundtrip (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    assert_int_equal (user_version (f->db), YARD_STORE_SCHEMA_VERSION);
    yard_job_t *job = mkjob ();
    assert_int_equal (yard_store_job_insert (st, job), 0);
    job->attempt = 1;
    job->state = YARD__JOB_STATE__JOB_PENDING;
    assert_int_equal (yard_store_attempt_begin (st, job->id, 1, "n1", 0), 0);
    assert_int_equal (yard_store_attempt_begin (st, job->id, 1, "n1", 1000),
                      0);
    yard_store_attempt_t end = {.attempt = 1, .node = "n1", .start_ms = 1000,
                                .end_ms = 2000, .end_reason = EXITED,
                                .exit_code = 1, .reason = "exited 1",
                                .counted = true, .eligible_ms = 12000};
    assert_int_equal (yard_store_attempt_end (st, job->id, &end), 0);
    assert_int_equal (yard_store_job_update (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    uint64_t id = job->id;
    yard_job_destroy (&job);

    /* the job comes back with its retries and eligible time */
    yard_job_t *got = NULL;
    assert_int_equal (yard_store_job_get (st, id, &got), 0);
    assert_int_equal (got->retries_used, 1);
    assert_int_equal (got->eligible_ms, 12000);
    yard_job_destroy (&got);

    /* a second attempt starts: no longer waiting */
    assert_int_equal (yard_store_attempt_begin (st, id, 2, "n2", 13000), 0);
    assert_int_equal (yard_store_commit (st), 0);
    assert_int_equal (yard_store_job_get (st, id, &got), 0);
    assert_int_equal (got->retries_used, 1);
    assert_int_equal (got->eligible_ms, 0);
    yard_job_destroy (&got);

    struct rows r = {0};
    assert_int_equal (yard_store_attempts (st, id, collect, &r), 0);
    assert_int_equal (r.n, 2);
    assert_int_equal (r.v[0].attempt, 1);
    assert_int_equal (r.v[0].exit_code, 1);
    assert_true (r.v[0].counted);
    assert_string_equal (r.v[0].reason, "exited 1");
    assert_int_equal (r.v[1].attempt, 2);
    assert_int_equal (r.v[1].end_ms, 0);
    assert_int_equal (r.v[1].start_ms, 13000);

    /* an attempt that ends with no row of its own (none was written at its
     * dispatch) gets one; the others are left as they were */
    yard_store_attempt_t lone = {.attempt = 3, .node = "n3", .start_ms = 14000,
                                 .end_ms = 15000, .end_reason = EXITED,
                                 .exit_code = 2, .reason = "exited 2",
                                 .counted = true};
    assert_int_equal (yard_store_attempt_end (st, id, &lone), 0);
    assert_int_equal (yard_store_commit (st), 0);
    memset (&r, 0, sizeof r);
    assert_int_equal (yard_store_attempts (st, id, collect, &r), 0);
    assert_int_equal (r.n, 3);
    assert_int_equal (r.v[1].end_ms, 0);
    assert_int_equal (r.v[2].attempt, 3);
    assert_int_equal (r.v[2].start_ms, 14000);
    assert_int_equal (r.v[2].end_ms, 15000);
    assert_int_equal (r.v[2].exit_code, 2);
    assert_string_equal (r.v[2].reason, "exited 2");
    yard_store_destroy (&st);
}

static void
test_migration_from_v2 (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_job_t *job = mkjob ();
    job->attempt = 2;
    job->state = YARD__JOB_STATE__JOB_PENDING;
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    uint64_t id = job->id;
    yard_job_destroy (&job);
    yard_store_destroy (&st);
    /* make it a version 2 database, as an older scheduler left it */
    exec_raw (f->db, "DROP TABLE attempts; PRAGMA user_version = 2;");
    assert_int_equal (user_version (f->db), 2);

    st = open_store (f);
    assert_int_equal (user_version (f->db), YARD_STORE_SCHEMA_VERSION);
    yard_job_t *got = NULL;
    assert_int_equal (yard_store_job_get (st, id, &got), 0);
    assert_int_equal (got->attempt, 2);
    assert_int_equal (got->retries_used, 0);
    yard_job_destroy (&got);
    struct rows r = {0};
    assert_int_equal (yard_store_attempts (st, id, collect, &r), 0);
    assert_int_equal (r.n, 0);
    yard_store_destroy (&st);

    /* opening again changes nothing */
    st = open_store (f);
    assert_int_equal (user_version (f->db), YARD_STORE_SCHEMA_VERSION);
    yard_store_destroy (&st);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_decide),
        cmocka_unit_test (test_spec_check),
        cmocka_unit_test (test_waitq),
        cmocka_unit_test_setup_teardown (test_attempts_roundtrip, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_migration_from_v2, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
