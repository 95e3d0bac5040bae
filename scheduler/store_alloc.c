/* store_alloc.c - job allocations in SQLite (see store_alloc.h).
 *
 * An allocation is a packed Yard__Allocation (small: a PU list and a few
 * GPU ids).  A single-node dispatch writes it into its attempt's row
 * (yard_store_attempt_dispatch, the attempts table's alloc column), so a
 * dispatch costs one write less; yard_store_alloc_put keeps the job_alloc
 * table (one row per job, replaced at each dispatch) for gangs' rank 0,
 * and states written before hold their allocations there.  A read takes
 * the newer of the two.  Statements come from the store's cache
 * (yard__store_prepare) and go back to it reset.
 */
#include "store_alloc.h"

#include <errno.h>
#include <stdlib.h>

#include "store_int.h"

static const char alloc_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS job_alloc ("
    " job_id INTEGER PRIMARY KEY,"
    " attempt INTEGER NOT NULL DEFAULT 0,"
    " alloc BLOB NOT NULL)";

static int
prepare (yard_store_t *st, const char *sql, sqlite3_stmt **s)
{
    return yard__store_prepare (st, sql, s);
}

int
yard_store_alloc_init (yard_store_t *st, yard_error_t *err)
{
    int rc = sqlite3_exec (yard__store_db (st), alloc_schema_sql, NULL, NULL,
                           NULL);
    if (rc != SQLITE_OK) {
        int e = yard__store_fail (st, rc);
        return yard_errorf (err, -e, "cannot create the job_alloc table: %s",
                            yard_store_errmsg (st));
    }
    return 0;
}

int
yard_store_alloc_put (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                      const Yard__Allocation *a)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    size_t len = yard__allocation__get_packed_size (a);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return yard__store_write_end (st, -ENOMEM);
    yard__allocation__pack (a, buf);
    sqlite3_stmt *s;
    if ((rc = prepare (st, "INSERT OR REPLACE INTO job_alloc"
                           " (job_id, attempt, alloc) VALUES (?1, ?2, ?3)",
                       &s)) < 0) {
        free (buf);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    sqlite3_bind_blob64 (s, 3, buf, len, SQLITE_TRANSIENT);
    rc = sqlite3_step (s);
    rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    free (buf);
    return yard__store_write_end (st, rc);
}

/* The newest allocation recorded for job_id by either table: the
 * attempt's row or job_alloc's, whichever names the later attempt. */
static const char alloc_get_sql[] =
    "SELECT attempt, alloc FROM ("
    " SELECT attempt, alloc FROM job_alloc WHERE job_id = ?1"
    " UNION ALL"
    " SELECT attempt, alloc FROM (SELECT attempt, alloc FROM attempts"
    "  WHERE job_id = ?1 AND alloc IS NOT NULL"
    "  ORDER BY attempt DESC LIMIT 1))"
    " ORDER BY attempt DESC LIMIT 1";

int
yard_store_alloc_get (yard_store_t *st, uint64_t job_id, uint32_t *attempt,
                      Yard__Allocation **out)
{
    sqlite3_stmt *s;
    int rc = prepare (st, alloc_get_sql, &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    rc = sqlite3_step (s);
    int e = -ENOENT;
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob (s, 1);
        size_t len = (size_t)sqlite3_column_bytes (s, 1);
        *attempt = (uint32_t)sqlite3_column_int64 (s, 0);
        *out = yard__allocation__unpack (NULL, len, blob ? blob : "");
        e = *out ? 0 : -ENOENT;
    } else if (rc != SQLITE_DONE) {
        e = yard__store_fail (st, rc);
    }
    yard__store_release (st, s);
    return e;
}
