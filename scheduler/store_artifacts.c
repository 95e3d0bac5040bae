/* store_artifacts.c - see store_artifacts.h.  Statements come from the
 * store's cache (yard__store_prepare) and are released before return. */
#include "store_artifacts.h"

#include <errno.h>

#include "store_int.h"
#include "store_tables.h"

static const char schema_sql[]
    = "CREATE TABLE IF NOT EXISTS job_outputs ("
      " job_id INTEGER NOT NULL,"
      " attempt INTEGER NOT NULL,"
      " name TEXT NOT NULL,"
      " digest TEXT NOT NULL,"
      " size INTEGER NOT NULL DEFAULT 0,"
      " PRIMARY KEY (job_id, attempt, name));"
      "CREATE TABLE IF NOT EXISTS artifact_refs ("
      " digest TEXT NOT NULL,"
      " owner TEXT NOT NULL,"
      " PRIMARY KEY (digest, owner));"
      "CREATE TABLE IF NOT EXISTS checkpoints ("
      " job_id INTEGER NOT NULL,"
      " name TEXT NOT NULL,"
      " attempt INTEGER NOT NULL,"
      " step INTEGER NOT NULL DEFAULT -1,"
      " digest TEXT NOT NULL,"
      " size INTEGER NOT NULL DEFAULT 0,"
      " time_ms INTEGER NOT NULL DEFAULT 0,"
      " node TEXT NOT NULL DEFAULT '',"
      " PRIMARY KEY (job_id, name));";

int
yard_store_artifacts_init (yard_store_t *st, yard_error_t *err)
{
    return yard__store_create_tables (st, schema_sql,
                                      "artifact reference tables", err);
}

int
yard_store_output_put (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                       const char *name, const char *digest, uint64_t size)
{
    sqlite3_stmt *s;
    int rc
        = yard__store_write_prepare (st,
                                     "INSERT OR REPLACE INTO job_outputs"
                                     " (job_id, attempt, name, digest, size)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5)",
                                     &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    sqlite3_bind_int64 (s, 2, attempt);
    sqlite3_bind_text (s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 4, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 5, (int64_t)size);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    return yard__store_write_end (st, rc);
}

int
yard_store_outputs (yard_store_t *st, uint64_t job_id, yard_store_output_f cb,
                    void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st,
                                  "SELECT attempt, name, digest, size FROM"
                                  " job_outputs WHERE job_id = ?1"
                                  " ORDER BY attempt, name",
                                  &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    int step;
    rc = 0;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW)
        rc = cb ((uint32_t)sqlite3_column_int64 (s, 0),
                 (const char *)sqlite3_column_text (s, 1),
                 (const char *)sqlite3_column_text (s, 2),
                 (uint64_t)sqlite3_column_int64 (s, 3), arg);
    return yard__store_read_end (st, s, rc, step);
}

static int
ref_write (yard_store_t *st, const char *sql, const char *digest,
           const char *owner)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, digest, -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 2, owner, -1, SQLITE_STATIC);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    return yard__store_write_end (st, rc);
}

int
yard_store_artifact_ref (yard_store_t *st, const char *digest,
                         const char *owner)
{
    return ref_write (st,
                      "INSERT OR IGNORE INTO artifact_refs (digest, owner)"
                      " VALUES (?1, ?2)",
                      digest, owner);
}

int
yard_store_artifact_unref (yard_store_t *st, const char *digest,
                           const char *owner)
{
    return ref_write (st,
                      "DELETE FROM artifact_refs WHERE digest = ?1"
                      " AND owner = ?2",
                      digest, owner);
}

int
yard_store_referenced_digests (yard_store_t *st, yard_store_digest_f cb,
                               void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st,
                                  "SELECT digest FROM job_outputs UNION"
                                  " SELECT digest FROM artifact_refs UNION"
                                  " SELECT digest FROM checkpoints",
                                  &s);
    if (rc < 0)
        return rc;
    int step;
    rc = 0;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW)
        rc = cb ((const char *)sqlite3_column_text (s, 0), arg);
    return yard__store_read_end (st, s, rc, step);
}

/* ---- checkpoints ---- */

int
yard_store_checkpoint_put (yard_store_t *st, const Yard__CheckpointRecord *r,
                           uint32_t keep)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (
        st,
        "INSERT OR REPLACE INTO checkpoints"
        " (job_id, name, attempt, step, digest,"
        " size, time_ms, node)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)r->job_id);
    sqlite3_bind_text (s, 2, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 3, r->attempt);
    sqlite3_bind_int64 (s, 4, r->step);
    sqlite3_bind_text (s, 5, r->digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 6, (int64_t)r->size);
    sqlite3_bind_int64 (s, 7, r->time_ms);
    sqlite3_bind_text (s, 8, r->node ? r->node : "", -1, SQLITE_STATIC);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    if (rc < 0)
        return yard__store_write_end (st, rc);
    /* retention: the newest `keep`; their blobs go at the next GC */
    if ((rc = yard__store_prepare (st,
                                   "DELETE FROM checkpoints WHERE job_id = ?1"
                                   " AND rowid NOT IN (SELECT rowid FROM"
                                   " checkpoints WHERE job_id = ?1"
                                   " ORDER BY rowid DESC"
                                   " LIMIT ?2)",
                                   &s))
        < 0)
        return yard__store_write_end (st, rc);
    sqlite3_bind_int64 (s, 1, (int64_t)r->job_id);
    sqlite3_bind_int64 (s, 2, keep);
    step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    return yard__store_write_end (st, rc);
}

int
yard_store_checkpoints (yard_store_t *st, uint64_t job_id,
                        yard_store_checkpoint_f cb, void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st,
                                  "SELECT name, attempt, step, digest, size,"
                                  " time_ms, node FROM checkpoints"
                                  " WHERE job_id = ?1"
                                  " ORDER BY rowid DESC",
                                  &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)job_id);
    int step;
    rc = 0;
    while (rc == 0 && (step = sqlite3_step (s)) == SQLITE_ROW) {
        Yard__CheckpointRecord r = YARD__CHECKPOINT_RECORD__INIT;
        r.job_id = job_id;
        r.name = (char *)sqlite3_column_text (s, 0);
        r.attempt = (uint32_t)sqlite3_column_int64 (s, 1);
        r.step = sqlite3_column_int64 (s, 2);
        r.digest = (char *)sqlite3_column_text (s, 3);
        r.size = (uint64_t)sqlite3_column_int64 (s, 4);
        r.time_ms = sqlite3_column_int64 (s, 5);
        r.node = (char *)sqlite3_column_text (s, 6);
        rc = cb (&r, arg);
    }
    return yard__store_read_end (st, s, rc, step);
}
