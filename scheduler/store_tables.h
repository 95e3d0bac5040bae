/* store_tables.h - the steps that every topic file of the store
 * (store_models.c, store_datasets.c, store_pipeline.c, store_artifacts.c,
 * store_gang.c, store_usage.c) takes the same way: creating its tables at
 * open, starting a write and ending a read of rows.  Static inline, over
 * store_int.h. */
#ifndef YARD_SCHED_STORE_TABLES_H
#define YARD_SCHED_STORE_TABLES_H

#include <sqlite3.h>

#include "error.h"
#include "store_int.h"

/* Run schema_sql (CREATE ... IF NOT EXISTS statements).  0, or -errno
 * with err saying "cannot create the WHAT: <SQLite's message>". */
static inline int
yard__store_create_tables (yard_store_t *st, const char *schema_sql,
                           const char *what, yard_error_t *err)
{
    int rc = sqlite3_exec (yard__store_db (st), schema_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int e = yard__store_fail (st, rc);
        return yard_errorf (err, -e, "cannot create the %s: %s", what,
                            yard_store_errmsg (st));
    }
    return 0;
}

/* Open the batch's write (yard__store_write_begin) and prepare sql for
 * it.  0 and *out, or -errno: a failed prepare is the write's failure
 * (yard__store_write_end). */
static inline int
yard__store_write_prepare (yard_store_t *st, const char *sql,
                           sqlite3_stmt **out)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    if ((rc = yard__store_prepare (st, sql, out)) < 0)
        return yard__store_write_end (st, rc);
    return 0;
}

/* End a read whose last sqlite3_step returned step and whose rows gave
 * rc: a step that stopped on an error (with no earlier error) is the
 * store's failure.  The statement is released.  Returns rc or -errno. */
static inline int
yard__store_read_end (yard_store_t *st, sqlite3_stmt *s, int rc, int step)
{
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = yard__store_fail (st, step);
    yard__store_release (st, s);
    return rc;
}

#endif
