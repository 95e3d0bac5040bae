/* store_deps.c - dependency and array reads and writes (see store_deps.h).
 *
 * Statements come from the store's cache (yard__store_prepare) and are
 * released (reset) before return.
 */
#include "store_deps.h"
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
prepare (yard_store_t *st, const char *sql, sqlite3_stmt **s)
{
    return yard__store_prepare (st, sql, s);
}

int
yard_store_job_set_spec (yard_store_t *st, const yard_job_t *job)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    size_t len = yard__job_spec__get_packed_size (job->spec);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return yard__store_write_end (st, -ENOMEM);
    yard__job_spec__pack (job->spec, buf);
    sqlite3_stmt *s;
    if ((rc = prepare (st, "UPDATE job_specs SET spec = ?1, name = ?2"
                       " WHERE id = ?3", &s)) < 0) {
        free (buf);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_blob (s, 1, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_text (s, 2, job->spec->name ? job->spec->name : "", -1,
                       SQLITE_STATIC);
    sqlite3_bind_int64 (s, 3, (int64_t)job->id);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    if (rc == 0 && sqlite3_changes (yard__store_db (st)) == 0)
        rc = -ENOENT;
    yard__store_release (st, s);
    free (buf);
    return yard__store_write_end (st, rc);
}

int
yard_store_job_state (yard_store_t *st, uint64_t id, Yard__JobState *state)
{
    sqlite3_stmt *s;
    int rc = prepare (st, "SELECT " YARD__STORE_STATE_SQL " FROM jobs j"
                      YARD__STORE_DISPATCHED_JOIN " WHERE j.id = ?1", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)id);
    int step = sqlite3_step (s);
    if (step == SQLITE_ROW) {
        *state = (Yard__JobState)sqlite3_column_int (s, 0);
        rc = 0;
    } else
        rc = step == SQLITE_DONE ? -ENOENT : yard__store_fail (st, step);
    yard__store_release (st, s);
    return rc;
}

int
yard_store_count_states (yard_store_t *st, uint64_t first, uint64_t last,
                         uint64_t *counts, size_t nstates)
{
    memset (counts, 0, nstates * sizeof counts[0]);
    sqlite3_stmt *s;
    int rc = prepare (st, "SELECT " YARD__STORE_STATE_SQL " AS st, count(*)"
                      " FROM jobs j" YARD__STORE_DISPATCHED_JOIN
                      " WHERE j.id BETWEEN ?1 AND ?2 GROUP BY st", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)first);
    sqlite3_bind_int64 (s, 2, (int64_t)last);
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        int64_t state = sqlite3_column_int64 (s, 0);
        if (state >= 0 && (uint64_t)state < nstates)
            counts[state] = (uint64_t)sqlite3_column_int64 (s, 1);
    }
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    return rc;
}
