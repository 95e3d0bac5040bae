/* store_pipeline.c - pipeline runs and steps in SQLite (see
 * store_pipeline.h).  Statements come from the store's cache and are
 * released before return. */
#include "store_pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_tables.h"

static const char pipeline_schema_sql[]
    = "CREATE TABLE IF NOT EXISTS pipeline_runs ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " name TEXT NOT NULL,"
      " spec BLOB NOT NULL,"
      " origin TEXT NOT NULL,"
      " state INTEGER NOT NULL,"
      " created_ms INTEGER NOT NULL,"
      " end_ms INTEGER NOT NULL DEFAULT 0,"
      " reason TEXT NOT NULL DEFAULT '',"
      " resumed_from INTEGER NOT NULL DEFAULT 0,"
      " inputs TEXT NOT NULL DEFAULT '{}');"
      "CREATE INDEX IF NOT EXISTS pipeline_runs_name"
      " ON pipeline_runs (name, id);"
      "CREATE TABLE IF NOT EXISTS pipeline_steps ("
      " run_id INTEGER NOT NULL,"
      " name TEXT NOT NULL,"
      " idx INTEGER NOT NULL,"
      " state INTEGER NOT NULL,"
      " job_id INTEGER NOT NULL DEFAULT 0,"
      " cache_key TEXT NOT NULL DEFAULT '',"
      " key_parts TEXT NOT NULL DEFAULT '',"
      " reused_run INTEGER NOT NULL DEFAULT 0,"
      " reused_step TEXT NOT NULL DEFAULT '',"
      " start_ms INTEGER NOT NULL DEFAULT 0,"
      " end_ms INTEGER NOT NULL DEFAULT 0,"
      " reason TEXT NOT NULL DEFAULT '',"
      " outputs TEXT NOT NULL DEFAULT '[]',"
      " PRIMARY KEY (run_id, name));"
      "CREATE INDEX IF NOT EXISTS pipeline_steps_key"
      " ON pipeline_steps (cache_key, state, run_id);";

int
yard_store_pipeline_init (yard_store_t *st, yard_error_t *err)
{
    return yard__store_create_tables (st, pipeline_schema_sql,
                                      "pipeline tables", err);
}

static const char *
nz (const char *s)
{
    return s ? s : "";
}

static char *
col_dup (sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text (s, i);
    return strdup (t ? t : "");
}

static int
step_put (yard_store_t *st, uint64_t run_id, size_t idx,
          const yard_pstep_t *p)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        "INSERT OR REPLACE INTO pipeline_steps (run_id, name, idx, state,"
        " job_id, cache_key, key_parts, reused_run, reused_step, start_ms,"
        " end_ms, reason, outputs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " ?9, ?10, ?11, ?12, ?13)",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)run_id);
    sqlite3_bind_text (s, 2, nz (p->name), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 3, (int64_t)idx);
    sqlite3_bind_int (s, 4, (int)p->state);
    sqlite3_bind_int64 (s, 5, (int64_t)p->job_id);
    sqlite3_bind_text (s, 6, nz (p->cache_key), -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 7, nz (p->key_parts), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 8, (int64_t)p->reused_run);
    sqlite3_bind_text (s, 9, nz (p->reused_step), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 10, p->start_ms);
    sqlite3_bind_int64 (s, 11, p->end_ms);
    sqlite3_bind_text (s, 12, nz (p->reason), -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 13, p->outputs ? p->outputs : "[]", -1,
                       SQLITE_STATIC);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    return rc;
}

int
yard_store_prun_insert (yard_store_t *st, yard_prun_t *run)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    size_t len = yard__pipeline_spec__get_packed_size (run->spec);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return yard__store_write_end (st, -ENOMEM);
    yard__pipeline_spec__pack (run->spec, buf);
    sqlite3_stmt *s;
    if ((rc = yard__store_prepare (
             st,
             "INSERT INTO pipeline_runs (name, spec, origin, state,"
             " created_ms, end_ms, reason, resumed_from, inputs)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
             &s))
        < 0) {
        free (buf);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_text (s, 1, nz (run->name), -1, SQLITE_STATIC);
    sqlite3_bind_blob (s, 2, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_text (s, 3, nz (run->origin), -1, SQLITE_STATIC);
    sqlite3_bind_int (s, 4, (int)run->state);
    sqlite3_bind_int64 (s, 5, run->created_ms);
    sqlite3_bind_int64 (s, 6, run->end_ms);
    sqlite3_bind_text (s, 7, nz (run->reason), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 8, (int64_t)run->resumed_from);
    sqlite3_bind_text (s, 9, run->inputs ? run->inputs : "{}", -1,
                       SQLITE_STATIC);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    free (buf);
    if (rc == 0)
        run->id = (uint64_t)sqlite3_last_insert_rowid (yard__store_db (st));
    for (size_t i = 0; rc == 0 && i < run->nsteps; i++)
        rc = step_put (st, run->id, i, &run->steps[i]);
    return yard__store_write_end (st, rc);
}

int
yard_store_prun_save (yard_store_t *st, const yard_prun_t *run)
{
    sqlite3_stmt *s;
    int rc
        = yard__store_write_prepare (st,
                                     "UPDATE pipeline_runs SET state = ?1,"
                                     " end_ms = ?2, reason = ?3 WHERE id = ?4",
                                     &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int (s, 1, (int)run->state);
    sqlite3_bind_int64 (s, 2, run->end_ms);
    sqlite3_bind_text (s, 3, nz (run->reason), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 4, (int64_t)run->id);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    for (size_t i = 0; rc == 0 && i < run->nsteps; i++)
        rc = step_put (st, run->id, i, &run->steps[i]);
    return yard__store_write_end (st, rc);
}

static void
step_clear (yard_pstep_t *p)
{
    free (p->name);
    free (p->cache_key);
    free (p->key_parts);
    free (p->reused_step);
    free (p->reason);
    free (p->outputs);
}

void
yard_prun_free (yard_prun_t **runp)
{
    if (!runp || !*runp)
        return;
    yard_prun_t *run = *runp;
    for (size_t i = 0; i < run->nsteps; i++)
        step_clear (&run->steps[i]);
    free (run->steps);
    if (run->spec)
        yard__pipeline_spec__free_unpacked (run->spec, NULL);
    free (run->name);
    free (run->origin);
    free (run->reason);
    free (run->inputs);
    free (run);
    *runp = NULL;
}

#define RUN_COLS                                                             \
    "id, name, origin, state, created_ms, end_ms, reason, resumed_from,"     \
    " inputs"

static int
run_row (sqlite3_stmt *s, yard_prun_t *run)
{
    run->id = (uint64_t)sqlite3_column_int64 (s, 0);
    run->name = col_dup (s, 1);
    run->origin = col_dup (s, 2);
    run->state = (Yard__PipelineState)sqlite3_column_int (s, 3);
    run->created_ms = sqlite3_column_int64 (s, 4);
    run->end_ms = sqlite3_column_int64 (s, 5);
    run->reason = col_dup (s, 6);
    run->resumed_from = (uint64_t)sqlite3_column_int64 (s, 7);
    run->inputs = col_dup (s, 8);
    return run->name && run->origin && run->reason && run->inputs ? 0
                                                                  : -ENOMEM;
}

static int
load_steps (yard_store_t *st, yard_prun_t *run)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        "SELECT name, state, job_id, cache_key, key_parts, reused_run,"
        " reused_step, start_ms, end_ms, reason, outputs FROM pipeline_steps"
        " WHERE run_id = ?1 ORDER BY idx",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)run->id);
    int step;
    size_t cap = 0;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        if (run->nsteps == cap) {
            cap = cap ? cap * 2 : 8;
            yard_pstep_t *v = realloc (run->steps, cap * sizeof v[0]);
            if (!v) {
                rc = -ENOMEM;
                break;
            }
            run->steps = v;
        }
        yard_pstep_t *p = &run->steps[run->nsteps++];
        memset (p, 0, sizeof *p);
        p->name = col_dup (s, 0);
        p->state = (Yard__StepState)sqlite3_column_int (s, 1);
        p->job_id = (uint64_t)sqlite3_column_int64 (s, 2);
        p->cache_key = col_dup (s, 3);
        p->key_parts = col_dup (s, 4);
        p->reused_run = (uint64_t)sqlite3_column_int64 (s, 5);
        p->reused_step = col_dup (s, 6);
        p->start_ms = sqlite3_column_int64 (s, 7);
        p->end_ms = sqlite3_column_int64 (s, 8);
        p->reason = col_dup (s, 9);
        p->outputs = col_dup (s, 10);
        if (!p->name || !p->cache_key || !p->key_parts || !p->reused_step
            || !p->reason || !p->outputs) {
            rc = -ENOMEM;
            break;
        }
    }
    return yard__store_read_end (st, s, rc, step);
}

int
yard_store_prun_get (yard_store_t *st, uint64_t id, yard_prun_t **out)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st, "SELECT " RUN_COLS ", spec FROM"
                                  " pipeline_runs WHERE id = ?1", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (int64_t)id);
    yard_prun_t *run = calloc (1, sizeof *run);
    int step = sqlite3_step (s);
    if (!run)
        rc = -ENOMEM;
    else if (step == SQLITE_ROW) {
        rc = run_row (s, run);
        const void *blob = sqlite3_column_blob (s, 9);
        size_t len = (size_t)sqlite3_column_bytes (s, 9);
        if (rc == 0
            && !(run->spec = yard__pipeline_spec__unpack (NULL, len, blob)))
            rc = -EIO;
    } else
        rc = step == SQLITE_DONE ? -ENOENT : yard__store_fail (st, step);
    yard__store_release (st, s);
    if (rc == 0)
        rc = load_steps (st, run);
    if (rc < 0) {
        yard_prun_free (&run);
        return rc;
    }
    *out = run;
    return 0;
}

int
yard_store_pruns_list (yard_store_t *st, const char *name, uint32_t limit,
                       yard_prun_f cb, void *arg)
{
    bool all = !name || !*name;
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        all ? "SELECT " RUN_COLS " FROM pipeline_runs ORDER BY id DESC"
              " LIMIT ?2"
            : "SELECT " RUN_COLS " FROM pipeline_runs WHERE name = ?1"
              " ORDER BY id DESC LIMIT ?2",
        &s);
    if (rc < 0)
        return rc;
    if (!all)
        sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, limit);
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        yard_prun_t *run = calloc (1, sizeof *run);
        if (!run || run_row (s, run) < 0) {
            yard_prun_free (&run);
            rc = -ENOMEM;
            break;
        }
        rc = cb (run, arg);
        yard_prun_free (&run);
        if (rc != 0)
            break;
    }
    return yard__store_read_end (st, s, rc, step);
}

int
yard_store_pstep_hits (yard_store_t *st, const char *key,
                       yard_pstep_hit_f cb, void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        "SELECT run_id, name, outputs FROM pipeline_steps"
        " WHERE cache_key = ?1 AND state = ?2 ORDER BY run_id DESC",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int (s, 2, YARD__STEP_STATE__STEP_COMPLETED);
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *nm = (const char *)sqlite3_column_text (s, 1);
        const char *outs = (const char *)sqlite3_column_text (s, 2);
        if ((rc = cb ((uint64_t)sqlite3_column_int64 (s, 0), nm ? nm : "",
                      outs ? outs : "[]", arg))
            != 0)
            break;
    }
    return yard__store_read_end (st, s, rc, step);
}

int
yard_store_pstep_previous (yard_store_t *st, const char *name,
                           const char *step_name, uint64_t before,
                           uint64_t *run_id, char **parts)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        "SELECT s.run_id, s.key_parts FROM pipeline_steps s"
        " JOIN pipeline_runs r ON r.id = s.run_id"
        " WHERE r.name = ?1 AND s.name = ?2 AND s.run_id < ?3"
        " AND s.key_parts != '' ORDER BY s.run_id DESC LIMIT 1",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 2, step_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 3, (int64_t)before);
    int step = sqlite3_step (s);
    if (step == SQLITE_ROW) {
        *run_id = (uint64_t)sqlite3_column_int64 (s, 0);
        *parts = col_dup (s, 1);
        rc = *parts ? 0 : -ENOMEM;
    } else
        rc = step == SQLITE_DONE ? -ENOENT : yard__store_fail (st, step);
    yard__store_release (st, s);
    return rc;
}

int
yard_store_pstep_set_outputs (yard_store_t *st, uint64_t run_id,
                              const char *step_name, const char *outputs)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (st,
                                        "UPDATE pipeline_steps SET outputs ="
                                        " ?1 WHERE run_id = ?2 AND name = ?3",
                                        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, outputs, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, (int64_t)run_id);
    sqlite3_bind_text (s, 3, step_name, -1, SQLITE_STATIC);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    return yard__store_write_end (st, rc);
}
