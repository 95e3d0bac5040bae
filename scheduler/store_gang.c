/* store_gang.c - gang job parts in SQLite (see store_gang.h).
 *
 * One row per (job, attempt, rank): the rows of earlier attempts stay,
 * as their history (`yard status` shows where each attempt ran).  Statements
 * come from the store's cache and go back to it reset.
 */
#include "store_gang.h"

#include <errno.h>
#include <stdlib.h>

#include "store_int.h"
#include "store_tables.h"

static const char gang_schema_sql[]
    = "CREATE TABLE IF NOT EXISTS gang_part ("
      " job_id INTEGER NOT NULL,"
      " rank INTEGER NOT NULL,"
      " attempt INTEGER NOT NULL,"
      " node TEXT NOT NULL,"
      " alloc BLOB,"
      " started INTEGER NOT NULL DEFAULT 0,"
      " finished INTEGER NOT NULL DEFAULT 0,"
      " port INTEGER NOT NULL DEFAULT 0,"
      " master_addr TEXT NOT NULL DEFAULT '',"
      " assigned_ms INTEGER NOT NULL DEFAULT 0,"
      " PRIMARY KEY (job_id, attempt, rank))";

int
yard_store_gang_init (yard_store_t *st, yard_error_t *err)
{
    return yard__store_create_tables (st, gang_schema_sql,
                                      "gang_part table", err);
}

int
yard_store_gang_put (yard_store_t *st, const yard_store_gang_row_t *row)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    size_t len
        = row->alloc ? yard__allocation__get_packed_size (row->alloc) : 0;
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return yard__store_write_end (st, -ENOMEM);
    if (row->alloc)
        yard__allocation__pack (row->alloc, buf);
    sqlite3_stmt *s;
    if ((rc = yard__store_prepare (
             st,
             "INSERT OR REPLACE INTO gang_part (job_id, rank, attempt,"
             " node, alloc, started, finished, port, master_addr,"
             " assigned_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
             &s))
        < 0) {
        free (buf);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)row->job_id);
    sqlite3_bind_int64 (s, 2, row->rank);
    sqlite3_bind_int64 (s, 3, row->attempt);
    sqlite3_bind_text (s, 4, row->node ? row->node : "", -1, SQLITE_STATIC);
    if (row->alloc)
        sqlite3_bind_blob64 (s, 5, buf, len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null (s, 5);
    sqlite3_bind_int (s, 6, row->started);
    sqlite3_bind_int (s, 7, row->finished);
    sqlite3_bind_int64 (s, 8, row->port);
    sqlite3_bind_text (s, 9, row->master_addr ? row->master_addr : "", -1,
                       SQLITE_STATIC);
    sqlite3_bind_int64 (s, 10, row->assigned_ms);
    rc = sqlite3_step (s);
    rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    free (buf);
    return yard__store_write_end (st, rc);
}

static int
update (yard_store_t *st, const char *sql, uint64_t job_id, int64_t a,
        int64_t b, int64_t c, int64_t d)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    /* a parameter the statement does not use is SQLITE_RANGE: harmless */
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    sqlite3_bind_int64 (s, 2, a);
    (void)sqlite3_bind_int64 (s, 3, b);
    (void)sqlite3_bind_int64 (s, 4, c);
    (void)sqlite3_bind_int64 (s, 5, d);
    rc = sqlite3_step (s);
    rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    return yard__store_write_end (st, rc);
}

int
yard_store_gang_flags (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                       uint32_t rank, bool started, bool finished)
{
    return update (st,
                   "UPDATE gang_part SET started = ?3, finished = ?4"
                   " WHERE job_id = ?1 AND rank = ?2 AND attempt = ?5",
                   job_id, rank, started, finished, attempt);
}

int
yard_store_gang_port (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                      uint32_t port)
{
    return update (st,
                   "UPDATE gang_part SET port = ?2"
                   " WHERE job_id = ?1 AND attempt = ?5",
                   job_id, port, 0, 0, attempt);
}

int
yard_store_gang_get (yard_store_t *st, uint64_t job_id, yard_store_gang_f fn,
                     void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        "SELECT rank, attempt, node, alloc, started, finished, port,"
        " master_addr, assigned_ms FROM gang_part WHERE job_id = ?1"
        " ORDER BY attempt, rank",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    int ret = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob (s, 3);
        size_t len = (size_t)sqlite3_column_bytes (s, 3);
        Yard__Allocation *a
            = blob ? yard__allocation__unpack (NULL, len, blob) : NULL;
        const unsigned char *node = sqlite3_column_text (s, 2);
        const unsigned char *addr = sqlite3_column_text (s, 7);
        yard_store_gang_row_t row = {
            .job_id = job_id,
            .rank = (uint32_t)sqlite3_column_int64 (s, 0),
            .attempt = (uint32_t)sqlite3_column_int64 (s, 1),
            .node = node ? (const char *)node : "",
            .alloc = a,
            .started = sqlite3_column_int (s, 4) != 0,
            .finished = sqlite3_column_int (s, 5) != 0,
            .port = (uint32_t)sqlite3_column_int64 (s, 6),
            .master_addr = addr ? (const char *)addr : "",
            .assigned_ms = sqlite3_column_int64 (s, 8),
        };
        ret = fn (&row, arg);
        if (a)
            yard__allocation__free_unpacked (a, NULL);
        if (ret)
            break;
    }
    return yard__store_read_end (st, s, ret, rc);
}
