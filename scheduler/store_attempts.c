/* store_attempts.c - the attempts table (see store_attempts.h).
 *
 * Statements come from the store's cache (yard__store_prepare): attempts
 * are written at every dispatch, start and end, so parsing their SQL each
 * time was a large part of a dispatch's cost.  Each is released (reset)
 * before return.
 */
#include "store_attempts.h"
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schema version 3.  WITHOUT ROWID: rows are only ever found by
 * (job_id, attempt). */
const char yard__store_attempts_schema[] =
    "CREATE TABLE IF NOT EXISTS attempts ("
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " node TEXT NOT NULL DEFAULT '',"
    " start_ms INTEGER NOT NULL DEFAULT 0,"
    " end_ms INTEGER NOT NULL DEFAULT 0,"
    " end_reason INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT 0,"
    " term_signal INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " counted INTEGER NOT NULL DEFAULT 0,"
    " eligible_ms INTEGER NOT NULL DEFAULT 0,"
    " alloc BLOB,"
    " PRIMARY KEY (job_id, attempt)) WITHOUT ROWID;"
    "PRAGMA user_version = 3;";

static int
prepare (yard_store_t *st, const char *sql, sqlite3_stmt **s)
{
    return yard__store_prepare (st, sql, s);
}

static int
step_write (yard_store_t *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step (s);
    int e = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    return e;
}

static const char *
text (const char *s)
{
    return s ? s : "";
}

int
yard_store_attempt_begin (yard_store_t *st, uint64_t job_id,
                          uint32_t attempt, const char *node,
                          int64_t start_ms)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s;
    if ((rc = prepare (st, "INSERT INTO attempts (job_id, attempt, node,"
                       " start_ms) VALUES (?1, ?2, ?3, ?4)"
                       " ON CONFLICT (job_id, attempt) DO UPDATE SET"
                       " node = excluded.node, start_ms = excluded.start_ms",
                       &s)) < 0)
        return yard__store_write_end (st, rc);
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    sqlite3_bind_text (s, 3, text (node), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 4, start_ms);
    return yard__store_write_end (st, step_write (st, s));
}

int
yard_store_attempt_dispatch (yard_store_t *st, uint64_t job_id,
                             uint32_t attempt, const char *node,
                             const Yard__Allocation *alloc)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    uint8_t stack[256], *buf = NULL;
    size_t len = alloc ? yard__allocation__get_packed_size (alloc) : 0;
    if (alloc) {
        buf = len <= sizeof stack ? stack : malloc (len);
        if (!buf)
            return yard__store_write_end (st, -ENOMEM);
        yard__allocation__pack (alloc, buf);
    }
    sqlite3_stmt *s;
    if ((rc = prepare (st, "INSERT INTO attempts (job_id, attempt, node,"
                       " alloc) VALUES (?1, ?2, ?3, ?4)"
                       " ON CONFLICT (job_id, attempt) DO UPDATE SET"
                       " node = excluded.node,"
                       " alloc = COALESCE (excluded.alloc, alloc)",
                       &s)) < 0) {
        if (buf != stack)
            free (buf);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    sqlite3_bind_text (s, 3, text (node), -1, SQLITE_STATIC);
    if (buf)
        sqlite3_bind_blob64 (s, 4, buf, len, SQLITE_STATIC);
    else
        sqlite3_bind_null (s, 4);
    rc = step_write (st, s);
    if (buf != stack)
        free (buf);
    return yard__store_write_end (st, rc);
}

/* Write an ended attempt's row with sql, which binds ?1 job_id, ?2 attempt
 * and ?3..?11 the row's columns. */
static int
end_row (yard_store_t *st, const char *sql, uint64_t job_id,
         const yard_store_attempt_t *row)
{
    sqlite3_stmt *s;
    int rc = prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    sqlite3_bind_int64 (s, 2, row->attempt);
    sqlite3_bind_text (s, 3, text (row->node), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 4, row->start_ms);
    sqlite3_bind_int64 (s, 5, row->end_ms);
    sqlite3_bind_int (s, 6, (int)row->end_reason);
    sqlite3_bind_int (s, 7, row->exit_code);
    sqlite3_bind_int (s, 8, row->term_signal);
    sqlite3_bind_text (s, 9, text (row->reason), -1, SQLITE_STATIC);
    sqlite3_bind_int (s, 10, row->counted ? 1 : 0);
    sqlite3_bind_int64 (s, 11, row->eligible_ms);
    return step_write (st, s);
}

int
yard_store_attempt_end (yard_store_t *st, uint64_t job_id,
                        const yard_store_attempt_t *row)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    /* The dispatch wrote the row: an UPDATE, about half the cost of the
     * upsert (which builds the new row, finds the conflict, then updates
     * it); the upsert only where no row is there. */
    rc = end_row (st, "UPDATE attempts SET node = ?3, start_ms = ?4,"
                  " end_ms = ?5, end_reason = ?6, exit_code = ?7,"
                  " term_signal = ?8, reason = ?9, counted = ?10,"
                  " eligible_ms = ?11 WHERE job_id = ?1 AND attempt = ?2",
                  job_id, row);
    if (rc == 0 && sqlite3_changes (yard__store_db (st)) == 0)
        rc = end_row (st, "INSERT INTO attempts (job_id, attempt, node,"
                      " start_ms, end_ms, end_reason, exit_code, term_signal,"
                      " reason, counted, eligible_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                      " ON CONFLICT (job_id, attempt) DO UPDATE SET"
                      " node = excluded.node, start_ms = excluded.start_ms,"
                      " end_ms = excluded.end_ms,"
                      " end_reason = excluded.end_reason,"
                      " exit_code = excluded.exit_code,"
                      " term_signal = excluded.term_signal,"
                      " reason = excluded.reason, counted = excluded.counted,"
                      " eligible_ms = excluded.eligible_ms",
                      job_id, row);
    return yard__store_write_end (st, rc);
}

int
yard_store_attempts (yard_store_t *st, uint64_t job_id,
                     yard_store_attempt_f cb, void *arg)
{
    sqlite3_stmt *s;
    int rc = prepare (st, "SELECT attempt, node, start_ms, end_ms,"
                      " end_reason, exit_code, term_signal, reason, counted,"
                      " eligible_ms FROM attempts WHERE job_id = ?1"
                      " ORDER BY attempt", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    int e = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        yard_store_attempt_t row = {
            .attempt = (uint32_t)sqlite3_column_int64 (s, 0),
            .node = (const char *)sqlite3_column_text (s, 1),
            .start_ms = sqlite3_column_int64 (s, 2),
            .end_ms = sqlite3_column_int64 (s, 3),
            .end_reason = (Yard__EndReason)sqlite3_column_int (s, 4),
            .exit_code = sqlite3_column_int (s, 5),
            .term_signal = sqlite3_column_int (s, 6),
            .reason = (const char *)sqlite3_column_text (s, 7),
            .counted = sqlite3_column_int (s, 8) != 0,
            .eligible_ms = sqlite3_column_int64 (s, 9),
        };
        if ((e = cb (&row, arg)) != 0)
            break;
    }
    if (e == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = yard__store_fail (st, rc);
    yard__store_release (st, s);
    return e;
}

int
yard__store_attempts_load (yard_store_t *st, yard_job_t *job)
{
    sqlite3_stmt *s;
    int rc = prepare (st, "SELECT COALESCE (SUM (counted), 0),"
                      " (SELECT eligible_ms FROM attempts WHERE job_id = ?1"
                      "  ORDER BY attempt DESC LIMIT 1)"
                      " FROM attempts WHERE job_id = ?1", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)job->id);
    rc = sqlite3_step (s);
    int e = 0;
    if (rc == SQLITE_ROW) {
        job->retries_used = (uint32_t)sqlite3_column_int64 (s, 0);
        job->eligible_ms = sqlite3_column_int64 (s, 1);
    } else if (rc != SQLITE_DONE)
        e = yard__store_fail (st, rc);
    yard__store_release (st, s);
    return e;
}
