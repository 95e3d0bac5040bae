/* store_fixture.h - a fresh state directory for the unit tests of the
 * scheduler's SQLite store.  The setup makes a directory under $TMPDIR (or
 * /tmp), names state.db inside it and lets the test open the store with the
 * tables it needs; the teardown closes the store and removes the directory
 * with what it holds.  Header-only: each test includes it once. */
#ifndef YARD_TEST_STORE_FIXTURE_H
#define YARD_TEST_STORE_FIXTURE_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

struct store_fixture {
    char dir[256];
    char db[512];
    yard_store_t *st; /* closed by the teardown when set */
};

/* Opens f->st on f->db with the tables a test needs; 0 or -1. */
typedef int (*store_fixture_open_f) (struct store_fixture *f);

/* cmocka setup: *state becomes a store_fixture whose directory is
 * yard-test-NAME.XXXXXX; open_fn, when not NULL, opens f->st.  Returns 0,
 * or -1 (the test fails) when the directory or the store cannot be made. */
static inline int
store_fixture_setup (void **state, const char *name,
                     store_fixture_open_f open_fn)
{
    struct store_fixture *f = calloc (1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv ("TMPDIR");
    snprintf (f->dir, sizeof f->dir, "%s/yard-test-%s.XXXXXX",
              tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp (f->dir))
        return -1;
    snprintf (f->db, sizeof f->db, "%s/state.db", f->dir);
    if (open_fn && open_fn (f) < 0)
        return -1;
    *state = f;
    return 0;
}

/* cmocka teardown for store_fixture_setup. */
static inline int
store_fixture_teardown (void **state)
{
    struct store_fixture *f = *state;
    yard_store_destroy (&f->st);
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system (cmd) != 0)
        return -1;
    free (f);
    return 0;
}

/* The first column of the first row of sql, run on the database file at
 * path on a connection of its own (a schema version, a count), or -1. */
static inline int64_t
store_fixture_query_int (const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_open (path, &db) == SQLITE_OK
        && sqlite3_prepare_v2 (db, sql, -1, &s, NULL) == SQLITE_OK
        && sqlite3_step (s) == SQLITE_ROW)
        v = sqlite3_column_int64 (s, 0);
    sqlite3_finalize (s);
    sqlite3_close (db);
    return v;
}

#endif
