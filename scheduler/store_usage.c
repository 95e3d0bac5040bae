/* store_usage.c - attempts' resource use in SQLite (see store_usage.h).
 * Statements come from the store's cache (yard__store_prepare) and go back
 * to it reset. */
#include "store_usage.h"

#include <errno.h>
#include <stdlib.h>

#include "store_int.h"
#include "store_tables.h"

static const char usage_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS attempt_usage ("
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " final INTEGER NOT NULL DEFAULT 0,"
    " usage BLOB NOT NULL,"
    " PRIMARY KEY (job_id, attempt)) WITHOUT ROWID";

int
yard_store_usage_init (yard_store_t *st, yard_error_t *err)
{
    return yard__store_create_tables (st, usage_schema_sql,
                                      "attempt_usage table", err);
}

int
yard_store_usage_put (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                      const Yard__ResourceUse *u)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    size_t len = yard__resource_use__get_packed_size (u);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return yard__store_write_end (st, -ENOMEM);
    yard__resource_use__pack (u, buf);
    sqlite3_stmt *s;
    if ((rc = yard__store_prepare (
             st, "INSERT INTO attempt_usage (job_id, attempt, final, usage)"
                 " VALUES (?1, ?2, ?3, ?4)"
                 " ON CONFLICT (job_id, attempt) DO UPDATE SET"
                 " final = excluded.final, usage = excluded.usage"
                 " WHERE final = 0",
             &s)) < 0) {
        free (buf);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    sqlite3_bind_int (s, 3, u->final ? 1 : 0);
    sqlite3_bind_blob64 (s, 4, buf, len, SQLITE_TRANSIENT);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    free (buf);
    return yard__store_write_end (st, rc);
}

int
yard_store_usage_get (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                      Yard__ResourceUse **out)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st, "SELECT usage FROM attempt_usage"
                                      " WHERE job_id = ?1 AND attempt = ?2",
                                  &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    int step = sqlite3_step (s);
    if (step == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob (s, 0);
        int n = sqlite3_column_bytes (s, 0);
        *out = yard__resource_use__unpack (NULL, (size_t)(n > 0 ? n : 0),
                                           blob);
        rc = *out ? 0 : -EBADMSG;
    } else {
        rc = step == SQLITE_DONE ? -ENOENT : yard__store_fail (st, step);
    }
    yard__store_release (st, s);
    return rc;
}

int
yard_store_metrics_latest (yard_store_t *st, uint64_t job_id,
                           uint32_t attempt, unsigned limit,
                           yard_store_latest_f cb, void *arg)
{
    sqlite3_stmt *s;
    /* SQLite takes the bare columns of a MAX() aggregate from the row
     * that holds the maximum: the key's newest line */
    int rc = yard__store_prepare (
        st, "SELECT key, step, value, time_ms, MAX(seq) FROM metrics"
            " WHERE job_id = ?1 AND attempt = ?2"
            " GROUP BY key ORDER BY key LIMIT ?3",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    sqlite3_bind_int64 (s, 3, limit);
    int step;
    rc = 0;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text (s, 0);
        rc = cb (key ? key : "", sqlite3_column_int64 (s, 1),
                 sqlite3_column_double (s, 2), sqlite3_column_int64 (s, 3),
                 arg);
    }
    return yard__store_read_end (st, s, rc, step);
}
