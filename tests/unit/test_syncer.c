/* test_syncer.c - group commit (scheduler/syncer.c): commits asked for
 * while a sync runs are covered by one more sync, a poll reports a sync
 * that ended without the loop, a failed sync is reported once and ends
 * the syncing, nothing is reported after close;
 * and the store's side of it (yard_store_defer_sync, yard_store_wal_sync).
 *
 * The sync function is a fake that the test holds inside its call with
 * semaphores, so every interleaving below is forced, not raced. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "job.h"
#include "store_fixture.h"
#include "syncer.h"

struct fake {
    uv_sem_t entered; /* posted by the sync when it starts */
    uv_sem_t release; /* the sync returns once this is posted */
    int calls;        /* syncs started (read after a wait on entered) */
    int rc;           /* what the next sync returns */
    uint64_t got[16]; /* on_durable's numbers, in order */
    int got_rc[16];
    int ngot;
};

static int
fake_sync (void *arg)
{
    struct fake *f = arg;
    f->calls++;
    uv_sem_post (&f->entered);
    uv_sem_wait (&f->release);
    return f->rc;
}

static void
fake_durable (uint64_t seq, int rc, void *arg)
{
    struct fake *f = arg;
    assert_true (f->ngot < 16);
    f->got[f->ngot] = seq;
    f->got_rc[f->ngot++] = rc;
}

/* A loop and a syncer over a fresh fake. */
static yard_syncer_t *
start (uv_loop_t *loop, struct fake *f)
{
    yard_error_t err;
    assert_int_equal (uv_loop_init (loop), 0);
    memset (f, 0, sizeof *f);
    assert_int_equal (uv_sem_init (&f->entered, 0), 0);
    assert_int_equal (uv_sem_init (&f->release, 0), 0);
    yard_syncer_t *y = yard_syncer_create (loop, fake_sync, f, fake_durable,
                                           f, &err);
    assert_non_null (y);
    return y;
}

/* Run the loop until on_durable has been called n times. */
static void
run_until (uv_loop_t *loop, struct fake *f, int n)
{
    while (f->ngot < n)
        uv_run (loop, UV_RUN_ONCE);
}

static void
close_all (uv_loop_t *loop, yard_syncer_t **y)
{
    yard_syncer_close (y);
    assert_null (*y);
    uv_run (loop, UV_RUN_DEFAULT); /* the handle's close */
    assert_int_equal (uv_loop_close (loop), 0);
}

/* Three commits, two syncs: the second and third, asked for while the
 * first sync ran, are covered by one. */
static void
test_group (void **state)
{
    (void)state;
    uv_loop_t loop;
    struct fake f;
    yard_syncer_t *y = start (&loop, &f);
    yard_syncer_want (y, 1);
    uv_sem_wait (&f.entered); /* sync 1 runs */
    yard_syncer_want (y, 2);
    yard_syncer_want (y, 3);
    yard_syncer_want (y, 2); /* smaller than asked: ignored */
    uv_sem_post (&f.release);
    run_until (&loop, &f, 1);
    assert_int_equal (f.got[0], 1);
    assert_int_equal (f.got_rc[0], 0);
    uv_sem_wait (&f.entered); /* sync 2, for 2 and 3 together */
    uv_sem_post (&f.release);
    run_until (&loop, &f, 2);
    assert_int_equal (f.got[1], 3);
    assert_int_equal (f.calls, 2);
    /* nothing more asked: no third sync */
    uv_run (&loop, UV_RUN_NOWAIT);
    assert_int_equal (f.calls, 2);
    close_all (&loop, &y);
    assert_int_equal (f.ngot, 2);
}

/* yard_syncer_poll reports a finished sync without the loop running (the
 * scheduler calls it in the middle of a long batch), and not twice. */
static void
test_poll (void **state)
{
    (void)state;
    uv_loop_t loop;
    struct fake f;
    yard_syncer_t *y = start (&loop, &f);
    yard_syncer_poll (y); /* nothing done yet */
    assert_int_equal (f.ngot, 0);
    yard_syncer_want (y, 1);
    uv_sem_wait (&f.entered);
    yard_syncer_want (y, 2);
    uv_sem_post (&f.release);
    uv_sem_wait (&f.entered); /* sync 2 started: sync 1 is recorded */
    yard_syncer_poll (y);
    assert_int_equal (f.ngot, 1);
    assert_int_equal (f.got[0], 1);
    yard_syncer_poll (y);
    uv_run (&loop, UV_RUN_NOWAIT); /* the wake-up of sync 1: no repeat */
    assert_int_equal (f.ngot, 1);
    uv_sem_post (&f.release);
    run_until (&loop, &f, 2);
    assert_int_equal (f.got[1], 2);
    close_all (&loop, &y);
    assert_int_equal (f.ngot, 2);
}

/* A failed sync is reported once, with the last good number, and no sync
 * runs after it. */
static void
test_failure (void **state)
{
    (void)state;
    uv_loop_t loop;
    struct fake f;
    yard_syncer_t *y = start (&loop, &f);
    yard_syncer_want (y, 1);
    uv_sem_wait (&f.entered);
    uv_sem_post (&f.release);
    run_until (&loop, &f, 1);
    f.rc = -EIO;
    yard_syncer_want (y, 2);
    uv_sem_wait (&f.entered);
    uv_sem_post (&f.release);
    run_until (&loop, &f, 2);
    assert_int_equal (f.got[1], 1);
    assert_int_equal (f.got_rc[1], -EIO);
    yard_syncer_want (y, 3); /* the thread has stopped syncing */
    uv_run (&loop, UV_RUN_NOWAIT);
    assert_int_equal (f.calls, 2);
    assert_int_equal (yard_syncer_close (&y), 1);
    uv_run (&loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&loop), 0);
    assert_int_equal (f.ngot, 2);
}

/* Close while a sync runs: it waits for that sync, returns what it made
 * durable, and nothing is reported after it. */
static void
test_close_during_sync (void **state)
{
    (void)state;
    uv_loop_t loop;
    struct fake f;
    yard_syncer_t *y = start (&loop, &f);
    yard_syncer_want (y, 5);
    uv_sem_wait (&f.entered);
    uv_sem_post (&f.release); /* the sync may still be running at close */
    assert_int_equal (yard_syncer_close (&y), 5);
    uv_run (&loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&loop), 0);
    assert_int_equal (f.ngot, 0);
    assert_int_equal (yard_syncer_close (&y), 0); /* NULL accepted */
}

/* Whether a descriptor of this process is open on path (by its name,
 * as /proc/self/fd shows it). */
static bool
fd_names (const char *path)
{
    char real[PATH_MAX];
    assert_non_null (realpath (path, real));
    DIR *d = opendir ("/proc/self/fd");
    assert_non_null (d);
    struct dirent *de;
    bool found = false;
    while (!found && (de = readdir (d))) {
        char link[300], target[PATH_MAX];
        snprintf (link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink (link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        found = strcmp (target, real) == 0;
    }
    closedir (d);
    return found;
}

/* The store: a commit after yard_store_defer_sync is in the WAL, and
 * yard_store_wal_sync syncs it; after the WAL was replaced under its name
 * it syncs the new file; a name that leads nowhere fails it; with no WAL
 * at all there is nothing to sync. */
static void
test_store_wal_sync (void **state)
{
    struct store_fixture *f = *state;
    yard_error_t err;
    assert_non_null (f->st = yard_store_create (f->db, true, &err));
    assert_int_equal (yard_store_wal_sync (f->st), -EINVAL); /* not asked */
    assert_int_equal (yard_store_defer_sync (f->st), 0);
    assert_false (yard_store_in_txn (f->st));
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    static char *argv[] = {"true"};
    spec.name = "synced";
    spec.argv = argv;
    spec.n_argv = 1;
    spec.cpus = 1;
    uint8_t buf[64];
    size_t len = yard__job_spec__pack (&spec, buf);
    yard_job_t *job = yard_job_create ();
    assert_non_null (job);
    assert_non_null (job->spec = yard__job_spec__unpack (NULL, len, buf));
    job->state = YARD__JOB_STATE__JOB_PENDING;
    assert_int_equal (yard_store_job_insert (f->st, job), 0);
    assert_true (yard_store_in_txn (f->st));
    assert_int_equal (yard_store_commit (f->st), 0);
    assert_false (yard_store_in_txn (f->st));
    char wal[600];
    snprintf (wal, sizeof wal, "%s-wal", f->db);
    struct stat sb;
    assert_int_equal (stat (wal, &sb), 0);
    assert_true (sb.st_size > 0);
    assert_int_equal (yard_store_wal_sync (f->st), 0);
    assert_int_equal (yard_store_wal_sync (f->st), 0); /* fd kept */
    /* the committed row is there for another connection */
    assert_int_equal (store_fixture_query_int (f->db, "SELECT count(*) "
                                               "FROM jobs"), 1);
    /* a new file under the WAL's name is opened anew: afterwards a
     * descriptor of this process names it (SQLite's own, and the old one,
     * name the replaced file, "(deleted)") */
    char copy[2600];
    snprintf (copy, sizeof copy, "cp '%s' '%s.tmp' && mv '%s.tmp' '%s'", wal,
              wal, wal, wal);
    assert_int_equal (system (copy), 0);
    assert_false (fd_names (wal));
    assert_int_equal (yard_store_wal_sync (f->st), 0);
    assert_true (fd_names (wal));
    /* a name that leads nowhere is the sync's failure, not a success */
    char aside[620];
    snprintf (aside, sizeof aside, "%s.aside", wal);
    assert_int_equal (rename (wal, aside), 0);
    assert_int_equal (symlink ("state.db-wal", wal), 0);
    assert_int_equal (yard_store_wal_sync (f->st), -ELOOP);
    assert_int_equal (unlink (wal), 0);
    /* no WAL (it goes after the checkpoint at the last close): nothing to
     * sync */
    assert_int_equal (yard_store_wal_sync (f->st), 0);
    assert_int_equal (rename (aside, wal), 0);
    yard_job_destroy (&job);
}

static int
setup_store (void **state)
{
    return store_fixture_setup (state, "syncer", NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_group),
        cmocka_unit_test (test_poll),
        cmocka_unit_test (test_failure),
        cmocka_unit_test (test_close_during_sync),
        cmocka_unit_test_setup_teardown (test_store_wal_sync, setup_store,
                                         store_fixture_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
