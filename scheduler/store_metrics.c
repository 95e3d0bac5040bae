/* store_metrics.c - job metrics in SQLite (see store_metrics.h).
 *
 * Statements come from the store's cache (yard__store_prepare); every one
 * is released (reset) before return, so no read keeps a snapshot open
 * across a COMMIT.
 */
#include "store_metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "utf8.h"

const char yard__store_metrics_schema[] =
    "CREATE TABLE IF NOT EXISTS metrics ("
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " key TEXT NOT NULL,"
    " step INTEGER NOT NULL,"
    " value REAL NOT NULL,"
    " time_ms INTEGER NOT NULL,"
    " PRIMARY KEY (job_id, attempt, seq, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS metrics_by_key"
    " ON metrics(job_id, key, step, attempt);"
    "CREATE TABLE IF NOT EXISTS metric_attempts ("
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " next_seq INTEGER NOT NULL DEFAULT 0,"
    " malformed INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (job_id, attempt)) WITHOUT ROWID;"
    "PRAGMA user_version = 2;";

static int
prepare (yard_store_t *st, const char *sql, sqlite3_stmt **s)
{
    return yard__store_prepare (st, sql, s);
}

int
yard_store_metrics_held (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                         uint64_t *held)
{
    sqlite3_stmt *s;
    int rc = prepare (st, "SELECT next_seq FROM metric_attempts"
                          " WHERE job_id = ?1 AND attempt = ?2", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    *held = 0;
    rc = sqlite3_step (s);
    int e = 0;
    if (rc == SQLITE_ROW)
        *held = (uint64_t)sqlite3_column_int64 (s, 0);
    else if (rc != SQLITE_DONE)
        e = yard__store_fail (st, rc);
    yard__store_release (st, s);
    return e;
}

static bool
key_ok (char *key)
{
    size_t n = key ? strlen (key) : 0;
    return n > 0 && n <= YARD_METRICS_KEY_MAX && yard_utf8_valid (key);
}

int
yard_store_metrics_put (yard_store_t *st, const Yard__MetricsBatch *b,
                        uint64_t *held)
{
    int rc = yard_store_metrics_held (st, b->job_id, b->attempt, held);
    if (rc < 0)
        return rc;
    /* only an exact continuation is taken (see the header) */
    if (b->first_seq != *held || b->next_seq <= b->first_seq)
        return 0;
    if ((rc = yard__store_write_begin (st)) < 0)
        return rc;
    sqlite3_stmt *ins = NULL, *att = NULL;
    if ((rc = prepare (st, "INSERT OR REPLACE INTO metrics (job_id, attempt,"
                           " seq, key, step, value, time_ms)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &ins)) < 0
        || (rc = prepare (st, "INSERT INTO metric_attempts (job_id, attempt,"
                              " next_seq, malformed) VALUES (?1, ?2, ?3, ?4)"
                              " ON CONFLICT (job_id, attempt) DO UPDATE SET"
                              " next_seq = excluded.next_seq,"
                              " malformed = malformed + excluded.malformed",
                          &att)) < 0)
        goto out;
    for (size_t i = 0; i < b->n_points; i++) {
        const Yard__MetricPoint *p = b->points[i];
        if (!p || p->seq < b->first_seq || p->seq >= b->next_seq
            || !key_ok (p->key))
            continue;
        sqlite3_bind_int64 (ins, 1, (sqlite3_int64)b->job_id);
        sqlite3_bind_int64 (ins, 2, b->attempt);
        sqlite3_bind_int64 (ins, 3, (sqlite3_int64)p->seq);
        sqlite3_bind_text (ins, 4, p->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (ins, 5, p->step);
        sqlite3_bind_double (ins, 6, p->value);
        sqlite3_bind_int64 (ins, 7, p->time_ms);
        int r = sqlite3_step (ins);
        sqlite3_reset (ins);
        if (r != SQLITE_DONE) {
            rc = yard__store_fail (st, r);
            goto out;
        }
    }
    uint64_t malformed = b->malformed;
    if (malformed > b->next_seq - b->first_seq)
        malformed = b->next_seq - b->first_seq;
    sqlite3_bind_int64 (att, 1, (sqlite3_int64)b->job_id);
    sqlite3_bind_int64 (att, 2, b->attempt);
    sqlite3_bind_int64 (att, 3, (sqlite3_int64)b->next_seq);
    sqlite3_bind_int64 (att, 4, (sqlite3_int64)malformed);
    int r = sqlite3_step (att);
    if (r != SQLITE_DONE)
        rc = yard__store_fail (st, r);
    else
        *held = b->next_seq;
out:
    yard__store_release (st, ins);
    yard__store_release (st, att);
    return yard__store_write_end (st, rc);
}

/* Per attempt, the smallest step of any later attempt: points at or past
 * it are superseded.  attempts sorted ascending. */
struct resume {
    uint32_t attempt;
    int64_t min_step;  /* this attempt's smallest step */
    int64_t threshold; /* min over later attempts; INT64_MAX: none */
};

static int
load_resumes (yard_store_t *st, uint64_t job_id, struct resume **out,
              size_t *n)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n = 0;
    int rc = prepare (st, "SELECT attempt, MIN(step) FROM metrics"
                          " WHERE job_id = ?1 GROUP BY attempt"
                          " ORDER BY attempt", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    size_t cap = 0;
    struct resume *v = NULL;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct resume *nv = realloc (v, cap * sizeof nv[0]);
            if (!nv) {
                free (v);
                yard__store_release (st, s);
                return -ENOMEM;
            }
            v = nv;
        }
        v[*n].attempt = (uint32_t)sqlite3_column_int64 (s, 0);
        v[*n].min_step = sqlite3_column_int64 (s, 1);
        (*n)++;
    }
    int e = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    if (e < 0) {
        free (v);
        *n = 0;
        return e;
    }
    int64_t later = INT64_MAX;
    for (size_t i = *n; i-- > 0;) {
        v[i].threshold = later;
        if (v[i].min_step < later)
            later = v[i].min_step;
    }
    *out = v;
    return 0;
}

static int64_t
threshold_of (const struct resume *v, size_t n, uint32_t attempt)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].attempt < attempt)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].attempt == attempt ? v[lo].threshold : INT64_MAX;
}

int
yard_store_metrics_get (yard_store_t *st, uint64_t job_id, const char *key,
                        bool include_superseded, uint64_t limit,
                        yard_store_metric_f cb, void *arg, bool *truncated,
                        uint64_t *malformed)
{
    sqlite3_stmt *s = NULL;
    struct resume *rv = NULL;
    size_t nr = 0;
    *truncated = false;
    *malformed = 0;
    int rc = prepare (st, "SELECT COALESCE(SUM(malformed), 0)"
                          " FROM metric_attempts WHERE job_id = ?1", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    if ((rc = sqlite3_step (s)) == SQLITE_ROW)
        *malformed = (uint64_t)sqlite3_column_int64 (s, 0);
    rc = rc == SQLITE_ROW ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    s = NULL;
    if (rc < 0 || (rc = load_resumes (st, job_id, &rv, &nr)) < 0)
        return rc;

    bool all = !key || !*key;
    rc = prepare (st, all ? "SELECT attempt, step, key, value, time_ms"
                            " FROM metrics WHERE job_id = ?1"
                            " ORDER BY key, step, attempt, seq"
                          : "SELECT attempt, step, key, value, time_ms"
                            " FROM metrics WHERE job_id = ?1 AND key = ?2"
                            " ORDER BY key, step, attempt, seq", &s);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    if (!all)
        sqlite3_bind_text (s, 2, key, -1, SQLITE_STATIC);
    uint64_t count = 0;
    int r;
    while ((r = sqlite3_step (s)) == SQLITE_ROW) {
        yard_store_metric_t m = {
            .attempt = (uint32_t)sqlite3_column_int64 (s, 0),
            .step = sqlite3_column_int64 (s, 1),
            .key = (const char *)sqlite3_column_text (s, 2),
            .value = sqlite3_column_double (s, 3),
            .time_ms = sqlite3_column_int64 (s, 4),
        };
        m.superseded = m.step >= threshold_of (rv, nr, m.attempt);
        if (m.superseded && !include_superseded)
            continue;
        if (count == limit) {
            *truncated = true;
            break;
        }
        if (!m.key)
            m.key = "";
        if ((rc = cb (&m, arg)) != 0)
            goto out;
        count++;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = yard__store_fail (st, r);
out:
    yard__store_release (st, s);
    free (rv);
    return rc;
}
