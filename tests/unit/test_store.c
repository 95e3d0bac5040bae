/* test_store.c - the scheduler's SQLite store (scheduler/store.c):
 * round trips, durability across a reopen, batch transactions and their
 * rollback, ids that are never reused, the move of an older database's
 * specs into job_specs, a dispatch read from its attempt's row, and the
 * error paths (unwritable path, full disk, newer schema, a missing spec
 * row). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "job.h"
#include "store.h"
#include "store_attempts.h"
#include "store_deps.h"
#include "store_fixture.h"
#include "store_int.h"

static int
setup (void **state)
{
    return store_fixture_setup (state, "store", NULL);
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

static char *argv_default[] = {"python3", "train.py", "--epochs", "3"};

/* A job with a spec; the spec is heap-allocated the way protobuf-c
 * allocates an unpacked one, so yard_job_destroy can free it: build it on
 * the stack, pack it, unpack it. */
static yard_job_t *
mkjob (const char *name, int32_t priority)
{
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    Yard__EnvVar ev = YARD__ENV_VAR__INIT;
    Yard__EnvVar *envp[] = {&ev};
    ev.key = "SEED";
    ev.value = "42";
    spec.name = (char *)name;
    spec.argv = argv_default;
    spec.n_argv = 4;
    spec.env = envp;
    spec.n_env = 1;
    spec.cpus = 2;
    spec.gpus = 1;
    spec.memory_bytes = 3ULL << 30;
    spec.priority = priority;
    spec.grace_s = 10;
    spec.user = "alice";
    size_t len = yard__job_spec__get_packed_size (&spec);
    uint8_t *buf = malloc (len);
    yard__job_spec__pack (&spec, buf);
    yard_job_t *job = yard_job_create ();
    assert_non_null (job);
    job->spec = yard__job_spec__unpack (NULL, len, buf);
    free (buf);
    assert_non_null (job->spec);
    job->priority = priority;
    job->submit_ms = 1700000000000LL;
    return job;
}

static void
test_destroy_null (void **state)
{
    (void)state;
    yard_store_t *st = NULL;
    yard_store_destroy (&st);
    yard_store_destroy (NULL);
}

static void
test_roundtrip_and_reopen (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) {
        yard_job_t *job = mkjob (i == 1 ? "" : "train", i);
        assert_false (yard_store_in_txn (st) && i == 0);
        assert_int_equal (yard_store_job_insert (st, job), 0);
        assert_true (yard_store_in_txn (st)); /* the first write began it */
        ids[i] = job->id;
        yard_job_destroy (&job);
    }
    assert_int_equal (ids[0], 1);
    assert_int_equal (ids[1], 2);
    assert_int_equal (ids[2], 3);

    /* update every durable field of job 2 */
    yard_job_t *job;
    assert_int_equal (yard_store_job_get (st, ids[1], &job), 0);
    job->state = YARD__JOB_STATE__JOB_FAILED;
    job->start_ms = 1700000001000LL;
    job->end_ms = 1700000002000LL;
    job->attempt = 3;
    assert_int_equal (yard_job_set_node (job, "gpu-node-7"), 0);
    job->exit_code = -1;
    job->term_signal = 9;
    job->end_reason = YARD__END_REASON__END_SIGNALED;
    assert_int_equal (yard_job_set_reason (job, "killed by signal 9"), 0);
    job->cancel_requested = true;
    job->lost_count = 2;
    assert_int_equal (yard_store_job_update (st, job), 0);
    yard_job_destroy (&job);
    assert_int_equal (yard_store_commit (st), 0);
    assert_false (yard_store_in_txn (st));
    assert_int_equal (yard_store_commit (st), 0); /* nothing open: no-op */
    yard_store_destroy (&st);

    /* durable across a close and reopen */
    st = open_store (f);
    assert_int_equal (yard_store_job_get (st, ids[1], &job), 0);
    assert_int_equal (job->id, ids[1]);
    assert_int_equal (job->state, YARD__JOB_STATE__JOB_FAILED);
    assert_int_equal (job->priority, 1);
    assert_int_equal (job->submit_ms, 1700000000000LL);
    assert_int_equal (job->start_ms, 1700000001000LL);
    assert_int_equal (job->end_ms, 1700000002000LL);
    assert_int_equal (job->attempt, 3);
    assert_string_equal (job->node, "gpu-node-7");
    assert_int_equal (job->exit_code, -1);
    assert_int_equal (job->term_signal, 9);
    assert_int_equal (job->end_reason, YARD__END_REASON__END_SIGNALED);
    assert_string_equal (job->reason, "killed by signal 9");
    assert_true (job->cancel_requested);
    assert_int_equal (job->lost_count, 2);
    assert_non_null (job->spec);
    assert_int_equal (job->spec->n_argv, 4);
    assert_string_equal (job->spec->argv[1], "train.py");
    assert_int_equal (job->spec->n_env, 1);
    assert_string_equal (job->spec->env[0]->key, "SEED");
    assert_int_equal (job->spec->memory_bytes, 3ULL << 30);
    assert_int_equal (job->spec->gpus, 1);
    yard_job_destroy (&job);
    assert_int_equal (yard_store_job_get (st, ids[0], &job), 0);
    assert_int_equal (job->state, YARD__JOB_STATE__JOB_PENDING);
    assert_null (job->node);
    assert_null (job->reason);
    yard_job_destroy (&job);
    assert_int_equal (yard_store_job_get (st, 999, &job), -ENOENT);
    assert_null (job);
    assert_int_equal (yard_store_job_get (st, 0, &job), -ENOENT);
    yard_store_destroy (&st);
}

struct list {
    uint64_t ids[64];
    size_t n;
};

static int
list_cb (yard_job_t *job, void *arg)
{
    struct list *l = arg;
    if (l->n < 64)
        l->ids[l->n++] = job->id;
    yard_job_destroy (&job);
    return 0;
}

static int
stop_cb (yard_job_t *job, void *arg)
{
    (void)arg;
    yard_job_destroy (&job);
    return 7;
}

static void
test_active_and_finished (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    /* states: PENDING RUNNING COMPLETED ASSIGNED FAILED CANCELLED TIMEOUT */
    static const Yard__JobState states[] = {
        YARD__JOB_STATE__JOB_PENDING,   YARD__JOB_STATE__JOB_RUNNING,
        YARD__JOB_STATE__JOB_COMPLETED, YARD__JOB_STATE__JOB_ASSIGNED,
        YARD__JOB_STATE__JOB_FAILED,    YARD__JOB_STATE__JOB_CANCELLED,
        YARD__JOB_STATE__JOB_TIMEOUT,
    };
    static const int64_t ends[] = {0, 0, 3000, 0, 1000, 5000, 2000};
    for (size_t i = 0; i < 7; i++) {
        yard_job_t *job = mkjob ("j", 0);
        job->state = states[i];
        job->end_ms = ends[i];
        assert_int_equal (yard_store_job_insert (st, job), 0);
        yard_job_destroy (&job);
    }
    assert_int_equal (yard_store_commit (st), 0);
    struct list l = {0};
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 3);
    assert_int_equal (l.ids[0], 1);
    assert_int_equal (l.ids[1], 2);
    assert_int_equal (l.ids[2], 4);
    /* newest end first, limited */
    memset (&l, 0, sizeof l);
    assert_int_equal (yard_store_jobs_finished (st, 3, list_cb, &l), 0);
    assert_int_equal (l.n, 3);
    assert_int_equal (l.ids[0], 6);
    assert_int_equal (l.ids[1], 3);
    assert_int_equal (l.ids[2], 7);
    memset (&l, 0, sizeof l);
    assert_int_equal (yard_store_jobs_finished (st, 1000, list_cb, &l), 0);
    assert_int_equal (l.n, 4);
    /* a callback can stop the walk */
    assert_int_equal (yard_store_jobs_active (st, stop_cb, NULL), 7);
    yard_store_destroy (&st);
}

static void
test_rollback (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_job_t *job = mkjob ("kept", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    uint64_t kept = job->id;
    assert_int_equal (yard_store_commit (st), 0);
    /* a batch that is rolled back leaves nothing behind */
    job->state = YARD__JOB_STATE__JOB_RUNNING;
    assert_int_equal (yard_store_job_update (st, job), 0);
    yard_job_t *gone = mkjob ("gone", 0);
    assert_int_equal (yard_store_job_insert (st, gone), 0);
    uint64_t gone_id = gone->id;
    yard_store_node_t row = {.name = "w1", .cpus = 8};
    assert_int_equal (yard_store_node_put (st, &row), 0);
    yard_store_rollback (st);
    assert_false (yard_store_in_txn (st));
    yard_job_t *got;
    assert_int_equal (yard_store_job_get (st, gone_id, &got), -ENOENT);
    assert_int_equal (yard_store_job_get (st, kept, &got), 0);
    assert_int_equal (got->state, YARD__JOB_STATE__JOB_PENDING);
    yard_job_destroy (&got);
    yard_store_destroy (&st);
    /* and nothing of it shows after a reopen either */
    st = open_store (f);
    assert_int_equal (yard_store_job_get (st, gone_id, &got), -ENOENT);
    struct list l = {0};
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    yard_store_destroy (&st);
    yard_job_destroy (&job);
    yard_job_destroy (&gone);
}

static void
test_ids_not_reused (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    uint64_t last = 0;
    for (int i = 0; i < 3; i++) {
        yard_job_t *job = mkjob ("x", 0);
        assert_int_equal (yard_store_job_insert (st, job), 0);
        last = job->id;
        yard_job_destroy (&job);
    }
    assert_int_equal (yard_store_commit (st), 0);
    assert_int_equal (yard_store_job_delete (st, last), 0);
    assert_int_equal (yard_store_job_delete (st, last), -ENOENT);
    assert_int_equal (yard_store_commit (st), 0);
    yard_job_t *job = mkjob ("y", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (job->id, last + 1); /* not last again */
    assert_int_equal (yard_store_commit (st), 0);
    uint64_t newest = job->id;
    yard_job_destroy (&job);
    /* also after deleting the newest and reopening */
    assert_int_equal (yard_store_job_delete (st, newest), 0);
    assert_int_equal (yard_store_commit (st), 0);
    yard_store_destroy (&st);
    st = open_store (f);
    job = mkjob ("z", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (job->id, newest + 1);
    assert_int_equal (yard_store_commit (st), 0);
    yard_job_destroy (&job);
    yard_store_destroy (&st);
}

/* yard_store_jobs_insert: the ids yard_store_job_next_id gives, every
 * row as a single insert would write it, more rows than one statement
 * holds, ids past a deleted newest one, an id clash failing the batch. */
static void
test_bulk_insert (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    uint64_t next = 0;
    assert_int_equal (yard_store_job_next_id (st, &next), 0);
    assert_int_equal (next, 1);
    yard_job_t *one = mkjob ("one", 0);
    assert_int_equal (yard_store_job_insert (st, one), 0);
    uint64_t top = one->id;
    yard_job_destroy (&one);
    /* the newest row deleted: its id is not given again */
    assert_int_equal (yard_store_job_delete (st, top), 0);
    assert_int_equal (yard_store_commit (st), 0);
    assert_int_equal (yard_store_job_next_id (st, &next), 0);
    assert_int_equal (next, top + 1);

    enum { N = 70 }; /* two full statements of 32 and one of 6 */
    yard_job_t *jobs[N];
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf (name, sizeof name, "m[%d]", i);
        jobs[i] = mkjob (name, i % 3);
        jobs[i]->submit_ms = 1700000000000LL + i;
    }
    assert_int_equal (yard_store_jobs_insert (st, jobs, N, next), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal (jobs[i]->id, next + (uint64_t)i);
    assert_int_equal (yard_store_commit (st), 0);
    for (int i = 0; i < N; i++) {
        yard_job_t *got = NULL;
        assert_int_equal (yard_store_job_get (st, next + (uint64_t)i, &got),
                          0);
        assert_int_equal (got->state, YARD__JOB_STATE__JOB_PENDING);
        assert_int_equal (got->priority, i % 3);
        assert_int_equal (got->submit_ms, 1700000000000LL + i);
        assert_string_equal (got->spec->name, jobs[i]->spec->name);
        assert_int_equal (got->spec->cpus, 2);
        yard_job_destroy (&got);
    }
    /* a single insert goes on after them */
    one = mkjob ("after", 0);
    assert_int_equal (yard_store_job_insert (st, one), 0);
    assert_int_equal (one->id, next + N);
    yard_job_destroy (&one);
    assert_int_equal (yard_store_commit (st), 0);
    /* a clash with an existing id fails (and the batch with it) */
    assert_int_equal (yard_store_jobs_insert (st, jobs, 2, next + 1) < 0,
                      true);
    yard_store_rollback (st);
    assert_int_equal (yard_store_jobs_insert (st, jobs, 0, 0), 0);
    for (int i = 0; i < N; i++)
        yard_job_destroy (&jobs[i]);
    yard_store_destroy (&st);
}

struct nodes {
    int n;
    yard_store_node_t last;
    char name[64];
};

static int
node_cb (const yard_store_node_t *row, void *arg)
{
    struct nodes *n = arg;
    n->n++;
    n->last = *row;
    snprintf (n->name, sizeof n->name, "%s", row->name);
    n->last.name = n->name;
    n->last.hostname = n->last.version = NULL; /* borrowed: not kept */
    return 0;
}

static void
test_nodes (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_store_node_t row = {
        .name = "gpu1",
        .instance = 0xfedcba9876543210ULL, /* above INT64_MAX */
        .hostname = "gpu1.example",
        .version = "0.1.0",
        .cpus = 64,
        .memory = 512ULL << 30,
        .gpus = 8,
        .registered_ms = 1700000000000LL,
        .last_seen_ms = 1700000005000LL,
    };
    assert_int_equal (yard_store_node_put (st, &row), 0);
    row.cpus = 32; /* replaced, not duplicated */
    assert_int_equal (yard_store_node_put (st, &row), 0);
    yard_store_node_t bad = {.name = ""};
    assert_int_equal (yard_store_node_put (st, &bad), -EINVAL);
    assert_int_equal (yard_store_commit (st), 0);
    yard_store_destroy (&st);
    st = open_store (f);
    struct nodes n = {0};
    assert_int_equal (yard_store_nodes (st, node_cb, &n), 0);
    assert_int_equal (n.n, 1);
    assert_string_equal (n.name, "gpu1");
    assert_int_equal (n.last.instance, 0xfedcba9876543210ULL);
    assert_int_equal (n.last.cpus, 32);
    assert_int_equal (n.last.memory, 512ULL << 30);
    assert_int_equal (n.last.gpus, 8);
    assert_int_equal (n.last.last_seen_ms, 1700000005000LL);
    yard_store_destroy (&st);
}

static void
test_open_errors (void **state)
{
    struct store_fixture *f = *state;
    yard_error_t err = {0};
    /* a path under a regular file cannot be created, even by root */
    char file[512], path[640];
    snprintf (file, sizeof file, "%s/plainfile", f->dir);
    int fd = open (file, O_WRONLY | O_CREAT, 0600);
    assert_true (fd >= 0);
    close (fd);
    snprintf (path, sizeof path, "%s/state.db", file);
    errno = 0;
    assert_null (yard_store_create (path, true, &err));
    assert_int_not_equal (errno, 0);
    assert_int_not_equal (err.code, 0);
    assert_non_null (strstr (err.text, path));
    /* nor in a directory that does not exist */
    snprintf (path, sizeof path, "%s/no/such/dir/state.db", f->dir);
    assert_null (yard_store_create (path, false, &err));
    /* a file that is not a database */
    fd = open (file, O_WRONLY | O_TRUNC);
    assert_true (fd >= 0);
    static const char junk[] = "definitely not an SQLite database, just text "
                               "long enough to cover a whole database header "
                               "and then some more bytes";
    assert_int_equal (write (fd, junk, sizeof junk - 1),
                      (ssize_t)(sizeof junk - 1));
    close (fd);
    assert_null (yard_store_create (file, true, &err));
    assert_int_equal (err.code, EIO);
}

static void
test_newer_schema (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_store_destroy (&st);
    sqlite3 *db;
    assert_int_equal (sqlite3_open (f->db, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL,
                                    NULL),
                      SQLITE_OK);
    sqlite3_close (db);
    yard_error_t err = {0};
    assert_null (yard_store_create (f->db, true, &err));
    assert_non_null (strstr (err.text, "newer"));
}

static void
test_disk_full (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_job_t *job = mkjob ("before", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    uint64_t before = job->id;
    yard_job_destroy (&job);
    assert_int_equal (yard_store_commit (st), 0);

    /* A full disk: the database may not grow.  Big specs fill it fast. */
    assert_int_equal (yard_store_limit_size (st, 256 * 1024), 0);
    char *big = malloc (60000);
    memset (big, 'x', 59999);
    big[59999] = '\0';
    int rc = 0;
    uint64_t inserted = 0;
    for (int i = 0; i < 50 && rc == 0; i++) {
        job = mkjob ("filler", 0);
        job->spec->workdir = big; /* borrowed: restored before destroy */
        rc = yard_store_job_insert (st, job);
        job->spec->workdir = (char *)protobuf_c_empty_string;
        if (rc == 0)
            inserted++;
        yard_job_destroy (&job);
    }
    assert_int_equal (rc, -ENOSPC);
    assert_true (inserted > 0);
    assert_non_null (strstr (yard_store_errmsg (st), "full"));
    /* the batch is doomed: later writes refuse, even small ones */
    yard_store_node_t row = {.name = "w1"};
    assert_int_equal (yard_store_node_put (st, &row), -ENOSPC);
    /* commit reports it and rolls everything back */
    assert_int_equal (yard_store_commit (st), -ENOSPC);
    assert_false (yard_store_in_txn (st));
    struct list l = {0};
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    assert_int_equal (l.ids[0], before);
    /* space comes back: writing works again */
    assert_int_equal (yard_store_limit_size (st, 0), 0);
    job = mkjob ("after", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    yard_job_destroy (&job);
    memset (&l, 0, sizeof l);
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 2);
    free (big);
    yard_store_destroy (&st);
}

static void
test_update_missing (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_job_t *job = mkjob ("x", 0);
    job->id = 12345;
    /* no such row: an error for this call only, the batch goes on */
    assert_int_equal (yard_store_job_update (st, job), -ENOENT);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    yard_job_destroy (&job);
    yard_store_destroy (&st);
}

/* Every read of a job's state, for one job, as the job and by number. */
static void
expect_job (yard_store_t *st, uint64_t id, Yard__JobState state,
            uint32_t attempt, const char *node, int64_t start_ms,
            const char *reason)
{
    yard_job_t *job = NULL;
    assert_int_equal (yard_store_job_get (st, id, &job), 0);
    assert_int_equal (job->state, state);
    assert_int_equal (job->attempt, attempt);
    assert_string_equal (job->node ? job->node : "", node);
    assert_int_equal (job->start_ms, start_ms);
    assert_string_equal (job->reason ? job->reason : "", reason);
    yard_job_destroy (&job);
    Yard__JobState one = 0;
    assert_int_equal (yard_store_job_state (st, id, &one), 0);
    assert_int_equal (one, state);
    uint64_t counts[16];
    assert_int_equal (yard_store_count_states (st, id, id, counts, 16), 0);
    assert_int_equal (counts[state], 1);
}

/* A dispatch writes the attempt's row alone (store.c, the header
 * comment): the job's row, still PENDING, reads as the attempt ASSIGNED
 * on its node while that row is open, RUNNING once it has a start, and as
 * it says again once the attempt ended; a job's own write wins. */
static void
test_dispatch_read_from_attempt (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    yard_job_t *job = mkjob ("d", 0);
    assert_int_equal (yard_job_set_reason (job, "waiting for a node"), 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    uint64_t id = job->id;
    yard_job_t *other = mkjob ("o", 0);
    assert_int_equal (yard_store_job_insert (st, other), 0);
    assert_int_equal (yard_store_commit (st), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_PENDING, 0, "",
                0, "waiting for a node");

    assert_int_equal (yard_store_attempt_dispatch (st, id, 1, "n1", NULL), 0);
    assert_int_equal (yard_store_commit (st), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_ASSIGNED, 1, "n1", 0, "");
    /* the other job is untouched, and a reopen reads the same */
    expect_job (st, other->id, YARD__JOB_STATE__JOB_PENDING, 0, "", 0, "");
    yard_store_destroy (&st);
    st = open_store (f);
    expect_job (st, id, YARD__JOB_STATE__JOB_ASSIGNED, 1, "n1", 0, "");
    struct list l = {0};
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 2);

    /* a start in the attempt's row (as a gang's rank 0 writes it) */
    assert_int_equal (yard_store_attempt_begin (st, id, 1, "n1", 1234), 0);
    assert_int_equal (yard_store_commit (st), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_RUNNING, 1, "n1", 1234, "");

    /* the attempt ended: the row reads as written, and a requeue writes
     * the job's row with it */
    yard_store_attempt_t end = {
        .attempt = 1, .node = "n1", .start_ms = 1234, .end_ms = 5678,
        .end_reason = YARD__END_REASON__END_LOST, .reason = "lost",
    };
    assert_int_equal (yard_store_attempt_end (st, id, &end), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_PENDING, 0, "",
                0, "waiting for a node");
    job->attempt = 1;
    assert_int_equal (yard_job_set_node (job, "n1"), 0);
    assert_int_equal (yard_job_set_reason (job, "lost"), 0);
    assert_int_equal (yard_store_job_update (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_PENDING, 1, "n1", 0, "lost");

    /* the next dispatch, then the job's own write: ended, with its last
     * attempt's row left open (yard__job_end) */
    assert_int_equal (yard_store_attempt_dispatch (st, id, 2, "n2", NULL), 0);
    assert_int_equal (yard_store_commit (st), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_ASSIGNED, 2, "n2", 0, "");
    job->state = YARD__JOB_STATE__JOB_COMPLETED;
    job->attempt = 2;
    job->start_ms = 7000;
    job->end_ms = 8000;
    assert_int_equal (yard_job_set_node (job, "n2"), 0);
    assert_int_equal (yard_job_set_reason (job, NULL), 0);
    assert_int_equal (yard_store_job_update (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    expect_job (st, id, YARD__JOB_STATE__JOB_COMPLETED, 2, "n2", 7000, "");
    memset (&l, 0, sizeof l);
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    assert_int_equal (l.ids[0], other->id);
    yard_job_destroy (&job);
    yard_job_destroy (&other);
    yard_store_destroy (&st);
}

/* The jobs table as schema versions 1 to 3 made it: the spec and name in
 * each job's row. */
static const char v3_jobs_sql[] =
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " state INTEGER NOT NULL,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " name TEXT NOT NULL DEFAULT '',"
    " spec BLOB NOT NULL,"
    " submit_ms INTEGER NOT NULL DEFAULT 0,"
    " start_ms INTEGER NOT NULL DEFAULT 0,"
    " end_ms INTEGER NOT NULL DEFAULT 0,"
    " attempt INTEGER NOT NULL DEFAULT 0,"
    " node TEXT NOT NULL DEFAULT '',"
    " exit_code INTEGER NOT NULL DEFAULT 0,"
    " term_signal INTEGER NOT NULL DEFAULT 0,"
    " end_reason INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " lost_count INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_active ON jobs(id) WHERE (state < 4 OR state > 7);"
    "CREATE INDEX jobs_finished ON jobs(end_ms, id) WHERE state BETWEEN 4"
    " AND 7;"
    "CREATE TABLE nodes ("
    " name TEXT PRIMARY KEY,"
    " instance INTEGER NOT NULL DEFAULT 0,"
    " hostname TEXT NOT NULL DEFAULT '',"
    " version TEXT NOT NULL DEFAULT '',"
    " cpus INTEGER NOT NULL DEFAULT 0,"
    " memory INTEGER NOT NULL DEFAULT 0,"
    " gpus INTEGER NOT NULL DEFAULT 0,"
    " registered_ms INTEGER NOT NULL DEFAULT 0,"
    " last_seen_ms INTEGER NOT NULL DEFAULT 0);";

static int64_t
query_int (const char *path, const char *sql)
{
    return store_fixture_query_int (path, sql);
}

/* An old row: the job's spec packed into the jobs table itself. */
static void
old_row (sqlite3 *db, int64_t id, int state, const char *name, int64_t end)
{
    yard_job_t *job = mkjob (name, 3);
    size_t len = yard__job_spec__get_packed_size (job->spec);
    uint8_t *buf = malloc (len);
    yard__job_spec__pack (job->spec, buf);
    sqlite3_stmt *s;
    assert_int_equal (sqlite3_prepare_v2 (
                          db, "INSERT INTO jobs (id, state, priority, name,"
                          " spec, submit_ms, end_ms, node, reason)"
                          " VALUES (?1, ?2, 3, ?3, ?4, 1700000000000, ?5,"
                          " 'n1', 'old')", -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64 (s, 1, id);
    sqlite3_bind_int (s, 2, state);
    sqlite3_bind_text (s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob (s, 4, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 5, end);
    assert_int_equal (sqlite3_step (s), SQLITE_DONE);
    sqlite3_finalize (s);
    free (buf);
    yard_job_destroy (&job);
}

/* After version 6's step on a database whose jobs table had AUTOINCREMENT
 * ids: the table without it, its two indexes there again, the old
 * sqlite_sequence value kept as the floor and gone from sqlite_sequence. */
static void
expect_ids_rebuilt (struct store_fixture *f, int64_t floor)
{
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE name = 'jobs' AND sql LIKE"
                                        " '%AUTOINCREMENT%'"), 0);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE type = 'index' AND name IN"
                                        " ('jobs_active', 'jobs_finished')"
                                        " AND tbl_name = 'jobs'"), 2);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE name = 'jobs_v6'"), 0);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM sqlite_sequence"
                                        " WHERE name = 'jobs'"), 0);
    assert_int_equal (query_int (f->db, "SELECT floor FROM job_id_floor"),
                      floor);
}

/* The store's database, opened with its tables as schema version 3 made
 * them (and no rows). */
static sqlite3 *
open_v3_tables (struct store_fixture *f)
{
    sqlite3 *db;
    assert_int_equal (sqlite3_open (f->db, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, v3_jobs_sql, NULL, NULL, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, yard__store_metrics_schema, NULL, NULL,
                                    NULL), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, yard__store_attempts_schema, NULL,
                                    NULL, NULL), SQLITE_OK);
    return db;
}

/* A state dir left by a scheduler of schema version 3 opens: its jobs keep
 * their specs, now in job_specs, the spec and name columns are gone from
 * jobs, ids still never come back, and a second open changes nothing. */
static void
test_migration_from_v3 (void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db = open_v3_tables (f);
    old_row (db, 1, YARD__JOB_STATE__JOB_PENDING, "old-pending", 0);
    old_row (db, 2, YARD__JOB_STATE__JOB_COMPLETED, "old-done", 5000);
    old_row (db, 3, YARD__JOB_STATE__JOB_PENDING, "old-deleted", 0);
    assert_int_equal (sqlite3_exec (db, "DELETE FROM jobs WHERE id = 3;"
                                        "PRAGMA user_version = 3;",
                                    NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);

    yard_store_t *st = open_store (f);
    assert_int_equal (query_int (f->db, "PRAGMA user_version"),
                      YARD_STORE_SCHEMA_VERSION);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM pragma_table_info"
                                        "('jobs') WHERE name IN ('spec',"
                                        " 'name')"), 0);
    expect_ids_rebuilt (f, 3);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM job_specs"), 2);
    struct list l = {0};
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    assert_int_equal (l.ids[0], 1);
    yard_job_t *job = NULL;
    assert_int_equal (yard_store_job_get (st, 1, &job), 0);
    assert_int_equal (job->state, YARD__JOB_STATE__JOB_PENDING);
    assert_int_equal (job->priority, 3);
    assert_int_equal (job->submit_ms, 1700000000000LL);
    assert_string_equal (job->node, "n1");
    assert_string_equal (job->reason, "old");
    assert_string_equal (job->spec->name, "old-pending");
    assert_string_equal (job->spec->argv[1], "train.py");
    assert_string_equal (job->spec->env[0]->value, "42");
    /* a state change writes the small row; the spec stays */
    job->state = YARD__JOB_STATE__JOB_RUNNING;
    job->attempt = 0;
    assert_int_equal (yard_store_job_update (st, job), 0);
    yard_job_destroy (&job);
    memset (&l, 0, sizeof l);
    assert_int_equal (yard_store_jobs_finished (st, 10, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    assert_int_equal (l.ids[0], 2);
    assert_int_equal (yard_store_job_get (st, 2, &job), 0);
    assert_string_equal (job->spec->name, "old-done");
    assert_int_equal (job->end_ms, 5000);
    yard_job_destroy (&job);
    /* the id of the deleted job is not handed out again */
    job = mkjob ("new", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (job->id, 4);
    yard_job_destroy (&job);
    assert_int_equal (yard_store_commit (st), 0);
    yard_store_destroy (&st);

    /* opening again changes nothing */
    st = open_store (f);
    assert_int_equal (yard_store_job_get (st, 1, &job), 0);
    assert_int_equal (job->state, YARD__JOB_STATE__JOB_RUNNING);
    assert_string_equal (job->spec->name, "old-pending");
    yard_job_destroy (&job);
    assert_int_equal (yard_store_job_get (st, 4, &job), 0);
    assert_string_equal (job->spec->name, "new");
    yard_job_destroy (&job);
    yard_store_destroy (&st);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM job_specs"), 3);
}

/* A database as schema version 5 left it (the spec in job_specs, the jobs
 * table's ids AUTOINCREMENT): job 1 pending, job 2 failed, jobs 3 and 4
 * deleted (sqlite_sequence at 4); then extra_sql, if any. */
static void
make_v5_db (struct store_fixture *f, const char *extra_sql)
{
    sqlite3 *db = open_v3_tables (f);
    for (int id = 1; id <= 4; id++)
        old_row (db, id, id == 2 ? YARD__JOB_STATE__JOB_FAILED
                                 : YARD__JOB_STATE__JOB_PENDING,
                 id == 2 ? "v5-failed" : "v5", id == 2 ? 9000 : 0);
    /* what version 4's step left: specs in job_specs, not in jobs */
    assert_int_equal (
        sqlite3_exec (db, "CREATE TABLE job_specs (id INTEGER PRIMARY KEY,"
                          " name TEXT NOT NULL DEFAULT '', spec BLOB NOT"
                          " NULL);"
                          "INSERT INTO job_specs SELECT id, name, spec"
                          " FROM jobs;"
                          "ALTER TABLE jobs DROP COLUMN spec;"
                          "ALTER TABLE jobs DROP COLUMN name;"
                          "DELETE FROM jobs WHERE id IN (3, 4);"
                          "DELETE FROM job_specs WHERE id IN (3, 4);"
                          "PRAGMA user_version = 5;",
                          NULL, NULL, NULL), SQLITE_OK);
    if (extra_sql)
        assert_int_equal (sqlite3_exec (db, extra_sql, NULL, NULL, NULL),
                          SQLITE_OK);
    sqlite3_close (db);
}

/* A state dir of schema version 5 opens with its rows, states and specs
 * as they were, and the id of its deleted newest job is not handed out
 * again, by an insert or by an array's (yard_store_job_next_id). */
static void
test_migration_from_v5 (void **state)
{
    struct store_fixture *f = *state;
    make_v5_db (f, NULL);

    yard_store_t *st = open_store (f);
    assert_int_equal (query_int (f->db, "PRAGMA user_version"),
                      YARD_STORE_SCHEMA_VERSION);
    expect_ids_rebuilt (f, 4);
    expect_job (st, 1, YARD__JOB_STATE__JOB_PENDING, 0, "n1", 0, "old");
    expect_job (st, 2, YARD__JOB_STATE__JOB_FAILED, 0, "n1", 0, "old");
    yard_job_t *job = NULL;
    assert_int_equal (yard_store_job_get (st, 2, &job), 0);
    assert_string_equal (job->spec->name, "v5-failed");
    assert_int_equal (job->end_ms, 9000);
    yard_job_destroy (&job);
    struct list l = {0};
    assert_int_equal (yard_store_jobs_active (st, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    assert_int_equal (l.ids[0], 1);
    memset (&l, 0, sizeof l);
    assert_int_equal (yard_store_jobs_finished (st, 10, list_cb, &l), 0);
    assert_int_equal (l.n, 1);
    assert_int_equal (l.ids[0], 2);
    uint64_t next = 0;
    assert_int_equal (yard_store_job_next_id (st, &next), 0);
    assert_int_equal (next, 5);
    job = mkjob ("after", 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (job->id, 5);
    yard_job_destroy (&job);
    assert_int_equal (yard_store_commit (st), 0);
    yard_store_destroy (&st);
    /* opening again rebuilds nothing */
    st = open_store (f);
    expect_ids_rebuilt (f, 4);
    assert_int_equal (yard_store_job_next_id (st, &next), 0);
    assert_int_equal (next, 6);
    yard_store_destroy (&st);
}

/* An upgrade that fails half-way (here the rebuild's new table cannot be
 * created) leaves the database as it was: version 5, its AUTOINCREMENT
 * table and every row, and the scheduler refuses to start on it. */
static void
test_migration_failure_keeps_v5 (void **state)
{
    struct store_fixture *f = *state;
    make_v5_db (f, "CREATE TABLE jobs_v6 (x);");
    yard_error_t err = {0};
    yard_store_t *st = yard_store_create (f->db, true, &err);
    assert_null (st);
    assert_non_null (strstr (err.text, "schema"));
    assert_int_equal (query_int (f->db, "PRAGMA user_version"), 5);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE name = 'jobs' AND sql LIKE"
                                        " '%AUTOINCREMENT%'"), 1);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM jobs"), 2);
    assert_int_equal (query_int (f->db, "SELECT seq FROM sqlite_sequence"
                                        " WHERE name = 'jobs'"), 4);
    assert_int_equal (query_int (f->db, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE name = 'job_id_floor'"), 0);
}

/* A job named name inserted and committed: its id. */
static uint64_t
insert_committed (yard_store_t *st, const char *name)
{
    yard_job_t *job = mkjob (name, 0);
    assert_int_equal (yard_store_job_insert (st, job), 0);
    assert_int_equal (yard_store_commit (st), 0);
    uint64_t id = job->id;
    yard_job_destroy (&job);
    return id;
}

/* sql run on the store's database through a connection of its own. */
static void
exec_behind (struct store_fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal (sqlite3_open (f->db, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
}

/* An id taken behind the store's back (a row inserted by another
 * connection) fails the insert that would reuse it, and that batch alone:
 * after its rollback the store reads the ids again and goes on past it. */
static void
test_id_clash_rolls_back (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    uint64_t first = insert_committed (st, "first");
    char sql[128];
    snprintf (sql, sizeof sql, "INSERT INTO jobs (id, state) VALUES"
                               " (%llu, 0)", (unsigned long long)first + 1);
    exec_behind (f, sql);
    yard_job_t *job = mkjob ("clash", 0);
    assert_int_not_equal (yard_store_job_insert (st, job), 0);
    assert_int_not_equal (yard_store_commit (st), 0); /* rolled back */
    yard_job_destroy (&job);
    assert_int_equal (insert_committed (st, "past"), first + 2);
    yard_store_destroy (&st);
}

/* A job whose spec row is missing reads as an error, not as a job with an
 * empty spec. */
static void
test_missing_spec_row (void **state)
{
    struct store_fixture *f = *state;
    yard_store_t *st = open_store (f);
    uint64_t id = insert_committed (st, "x");
    yard_store_destroy (&st);
    exec_behind (f, "DELETE FROM job_specs");
    st = open_store (f);
    yard_job_t *job = NULL;
    assert_int_equal (yard_store_job_get (st, id, &job), -EIO);
    assert_null (job);
    assert_non_null (strstr (yard_store_errmsg (st), "no spec"));
    yard_store_destroy (&st);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_destroy_null),
        cmocka_unit_test_setup_teardown (test_roundtrip_and_reopen, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_active_and_finished, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_rollback, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_bulk_insert, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_ids_not_reused, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_nodes, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_open_errors, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_newer_schema, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_disk_full, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_read_from_attempt,
                                         setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_update_missing, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_migration_from_v5, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_migration_failure_keeps_v5,
                                         setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_id_clash_rolls_back, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_migration_from_v3, setup,
                                         store_fixture_teardown),
        cmocka_unit_test_setup_teardown (test_missing_spec_row, setup,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
