/* store_models.c - model versions, schedules and triggers in SQLite (see
 * store_models.h).  Statements come from the store's cache and are
 * released before return. */
#include "store_models.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_tables.h"

static const char models_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS models ("
    " model TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " digest TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " job_id INTEGER NOT NULL DEFAULT 0,"
    " run_id INTEGER NOT NULL DEFAULT 0,"
    " step TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (model, version)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS model_metrics ("
    " model TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " key TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " PRIMARY KEY (model, version, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS schedules ("
    " name TEXT PRIMARY KEY,"
    " cron TEXT NOT NULL,"
    " pipeline BLOB NOT NULL,"
    " pipeline_name TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL,"
    " last_fire_ms INTEGER NOT NULL DEFAULT 0,"
    " last_run INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS triggers ("
    " name TEXT PRIMARY KEY,"
    " on_kind TEXT NOT NULL,"
    " on_name TEXT NOT NULL,"
    " pipeline BLOB NOT NULL,"
    " pipeline_name TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL,"
    " fired INTEGER NOT NULL DEFAULT 0,"
    " last_run INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS triggers_by_event"
    " ON triggers(on_kind, on_name);";

int
yard_store_models_init (yard_store_t *st, yard_error_t *err)
{
    return yard__store_create_tables (st, models_schema_sql,
                                      "models, schedules and triggers "
                                      "tables",
                                      err);
}

static const char *
col_text (sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text (s, i);
    return t ? t : "";
}

/* Step a write statement to its end and release it. */
static int
finish_write (yard_store_t *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step (s);
    rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    return rc;
}

int
yard_store_model_latest (yard_store_t *st, const char *model,
                         uint32_t *version)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st, "SELECT MAX(version) FROM models WHERE model = ?1", &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, model, -1, SQLITE_STATIC);
    *version = 0;
    rc = sqlite3_step (s);
    int e = 0;
    if (rc == SQLITE_ROW)
        *version = (uint32_t)sqlite3_column_int64 (s, 0);
    else if (rc != SQLITE_DONE)
        e = yard__store_fail (st, rc);
    yard__store_release (st, s);
    return e;
}

int
yard_store_model_insert (yard_store_t *st, const Yard__ModelVersion *v)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (
        st,
        "INSERT INTO models (model, version, digest, size, created_ms,"
        " job_id, run_id, step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, v->model, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, v->version);
    sqlite3_bind_text (s, 3, v->digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 4, (sqlite3_int64)v->size);
    sqlite3_bind_int64 (s, 5, v->created_ms);
    sqlite3_bind_int64 (s, 6, (sqlite3_int64)v->job_id);
    sqlite3_bind_int64 (s, 7, (sqlite3_int64)v->run_id);
    sqlite3_bind_text (s, 8, v->step ? v->step : "", -1, SQLITE_STATIC);
    rc = finish_write (st, s);
    for (size_t i = 0; rc == 0 && i < v->n_metrics; i++) {
        if ((rc = yard__store_prepare (
                 st,
                 "INSERT OR REPLACE INTO model_metrics (model, version, key,"
                 " value) VALUES (?1, ?2, ?3, ?4)",
                 &s))
            < 0)
            break;
        sqlite3_bind_text (s, 1, v->model, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (s, 2, v->version);
        sqlite3_bind_text (s, 3, v->metrics[i]->key, -1, SQLITE_STATIC);
        sqlite3_bind_double (s, 4, v->metrics[i]->value);
        rc = finish_write (st, s);
    }
    return yard__store_write_end (st, rc);
}

void
yard_store_model_metrics_free (Yard__MetricValue **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i])
            free (v[i]->key);
        free (v[i]);
    }
    free (v);
}

void
yard_store_model_versions_free (Yard__ModelVersion **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            continue;
        free (v[i]->model);
        free (v[i]->digest);
        free (v[i]->step);
        yard_store_model_metrics_free (v[i]->metrics, v[i]->n_metrics);
        free (v[i]);
    }
    free (v);
}

/* Append (key, value) to *v[*n]. */
static int
metric_push (Yard__MetricValue ***v, size_t *n, const char *key,
             double value)
{
    Yard__MetricValue **nv = realloc (*v, (*n + 1) * sizeof nv[0]);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    Yard__MetricValue *m = malloc (sizeof *m);
    if (!m)
        return -ENOMEM;
    yard__metric_value__init (m);
    if (!(m->key = strdup (key))) {
        free (m);
        return -ENOMEM;
    }
    m->value = value;
    nv[(*n)++] = m;
    return 0;
}

static int
version_metrics (yard_store_t *st, Yard__ModelVersion *v)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st,
                                  "SELECT key, value FROM model_metrics"
                                  " WHERE model = ?1 AND version = ?2"
                                  " ORDER BY key",
                                  &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, v->model, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, v->version);
    int e = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        if ((e = metric_push (&v->metrics, &v->n_metrics, col_text (s, 0),
                              sqlite3_column_double (s, 1)))
            < 0)
            break;
    }
    return yard__store_read_end (st, s, e, rc);
}

int
yard_store_model_versions (yard_store_t *st, const char *model,
                           uint32_t version, Yard__ModelVersion ***out,
                           size_t *n)
{
#define VCOLS "m.model, m.version, m.digest, m.size, m.created_ms, m.job_id," \
              " m.run_id, m.step"
    const char *sql
        = !model ? "SELECT " VCOLS " FROM models m"
                   " WHERE m.version = (SELECT MAX(version) FROM models"
                   " WHERE model = m.model) ORDER BY m.model"
          : version ? "SELECT " VCOLS " FROM models m"
                      " WHERE m.model = ?1 AND m.version = ?2"
                    : "SELECT " VCOLS " FROM models m WHERE m.model = ?1"
                      " ORDER BY m.version DESC LIMIT 1000";
#undef VCOLS
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    if (model)
        sqlite3_bind_text (s, 1, model, -1, SQLITE_STATIC);
    if (model && version)
        sqlite3_bind_int64 (s, 2, version);
    Yard__ModelVersion **v = NULL;
    size_t nv = 0;
    int e = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        Yard__ModelVersion **nvv = realloc (v, (nv + 1) * sizeof v[0]);
        Yard__ModelVersion *m = calloc (1, sizeof *m);
        if (nvv)
            v = nvv;
        if (!nvv || !m) {
            free (m);
            e = -ENOMEM;
            break;
        }
        yard__model_version__init (m);
        v[nv++] = m;
        m->model = strdup (col_text (s, 0));
        m->version = (uint32_t)sqlite3_column_int64 (s, 1);
        m->digest = strdup (col_text (s, 2));
        m->size = (uint64_t)sqlite3_column_int64 (s, 3);
        m->created_ms = sqlite3_column_int64 (s, 4);
        m->job_id = (uint64_t)sqlite3_column_int64 (s, 5);
        m->run_id = (uint64_t)sqlite3_column_int64 (s, 6);
        m->step = strdup (col_text (s, 7));
        if (!m->model || !m->digest || !m->step) {
            e = -ENOMEM;
            break;
        }
    }
    e = yard__store_read_end (st, s, e, rc);
    for (size_t i = 0; e == 0 && i < nv; i++)
        e = version_metrics (st, v[i]);
    if (e < 0) {
        yard_store_model_versions_free (v, nv);
        return e;
    }
    *out = v;
    *n = nv;
    return 0;
}

int
yard_store_model_metric (yard_store_t *st, const char *model,
                         uint32_t version, const char *key, double *value)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st,
                                  "SELECT value FROM model_metrics"
                                  " WHERE model = ?1 AND version = ?2"
                                  " AND key = ?3",
                                  &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, version);
    sqlite3_bind_text (s, 3, key, -1, SQLITE_STATIC);
    rc = sqlite3_step (s);
    int e = -ENOENT;
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_double (s, 0);
        e = 0;
    } else if (rc != SQLITE_DONE) {
        e = yard__store_fail (st, rc);
    }
    yard__store_release (st, s);
    return e;
}

int
yard_store_job_latest_metrics (yard_store_t *st, uint64_t job_id,
                               Yard__MetricValue ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st,
                                  "SELECT key, value FROM metrics"
                                  " WHERE job_id = ?1"
                                  " ORDER BY key, attempt DESC, seq DESC",
                                  &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job_id);
    Yard__MetricValue **v = NULL;
    size_t nv = 0;
    int e = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        const char *key = col_text (s, 0);
        if (nv > 0 && strcmp (v[nv - 1]->key, key) == 0)
            continue; /* an older value of the same key */
        if ((e = metric_push (&v, &nv, key, sqlite3_column_double (s, 1)))
            < 0)
            break;
    }
    e = yard__store_read_end (st, s, e, rc);
    if (e < 0) {
        yard_store_model_metrics_free (v, nv);
        return e;
    }
    *out = v;
    *n = nv;
    return 0;
}

/* ---- schedules and triggers ---- */

static int
sched_add (yard_store_t *st, const char *sql, const yard_store_sched_t *r,
           bool trigger)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob (s, 2, r->pipeline, (int)r->pipeline_len,
                       SQLITE_STATIC);
    sqlite3_bind_text (s, 3, r->pipeline_name ? r->pipeline_name : "", -1,
                       SQLITE_STATIC);
    sqlite3_bind_int64 (s, 4, r->created_ms);
    if (trigger) {
        sqlite3_bind_text (s, 5, r->on_kind, -1, SQLITE_STATIC);
        sqlite3_bind_text (s, 6, r->on_name, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_text (s, 5, r->cron, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (s, 6, r->last_fire_ms);
    }
    rc = sqlite3_step (s);
    if (rc == SQLITE_DONE)
        rc = 0;
    else if ((rc & 0xff) == SQLITE_CONSTRAINT)
        rc = -EEXIST; /* the name is taken: nothing was written */
    else
        rc = yard__store_fail (st, rc);
    yard__store_release (st, s);
    return rc == -EEXIST ? rc : yard__store_write_end (st, rc);
}

int
yard_store_schedule_add (yard_store_t *st, const yard_store_sched_t *r)
{
    return sched_add (st,
                      "INSERT INTO schedules (name, pipeline, pipeline_name,"
                      " created_ms, cron, last_fire_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      r, false);
}

int
yard_store_trigger_add (yard_store_t *st, const yard_store_sched_t *r)
{
    return sched_add (st,
                      "INSERT INTO triggers (name, pipeline, pipeline_name,"
                      " created_ms, on_kind, on_name)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      r, true);
}

static int
exec_changes (yard_store_t *st, const char *sql, const char *name,
              int64_t a, uint64_t b, bool bind_ab)
{
    sqlite3_stmt *s;
    int rc = yard__store_write_prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    if (bind_ab) {
        sqlite3_bind_int64 (s, 2, a);
        sqlite3_bind_int64 (s, 3, (sqlite3_int64)b);
    }
    rc = sqlite3_step (s);
    rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    if (rc == 0 && sqlite3_changes (yard__store_db (st)) == 0)
        return -ENOENT;
    return yard__store_write_end (st, rc);
}

int
yard_store_schedule_remove (yard_store_t *st, const char *name)
{
    return exec_changes (st, "DELETE FROM schedules WHERE name = ?1", name,
                         0, 0, false);
}

int
yard_store_trigger_remove (yard_store_t *st, const char *name)
{
    return exec_changes (st, "DELETE FROM triggers WHERE name = ?1", name, 0,
                         0, false);
}

int
yard_store_schedule_fired (yard_store_t *st, const char *name,
                           int64_t fire_ms, uint64_t run)
{
    return exec_changes (st,
                         "UPDATE schedules SET last_fire_ms = ?2,"
                         " last_run = CASE WHEN ?3 = 0 THEN last_run"
                         " ELSE ?3 END WHERE name = ?1",
                         name, fire_ms, run, true);
}

int
yard_store_trigger_fired (yard_store_t *st, const char *name, uint64_t run)
{
    return exec_changes (st,
                         "UPDATE triggers SET fired = fired + 1,"
                         " last_run = ?3 WHERE name = ?1",
                         name, 0, run, true);
}

static int
sched_walk (yard_store_t *st, const char *sql, bool trigger,
            yard_store_sched_f cb, void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st, sql, &s);
    if (rc < 0)
        return rc;
    int e = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        yard_store_sched_t r = {0};
        r.name = col_text (s, 0);
        r.pipeline = sqlite3_column_blob (s, 1);
        r.pipeline_len = (size_t)sqlite3_column_bytes (s, 1);
        r.pipeline_name = col_text (s, 2);
        r.created_ms = sqlite3_column_int64 (s, 3);
        if (trigger) {
            r.on_kind = col_text (s, 4);
            r.on_name = col_text (s, 5);
            r.fired = (uint64_t)sqlite3_column_int64 (s, 6);
        } else {
            r.cron = col_text (s, 4);
            r.last_fire_ms = sqlite3_column_int64 (s, 5);
        }
        r.last_run = (uint64_t)sqlite3_column_int64 (s, 7);
        if ((e = cb (&r, arg)) != 0)
            break;
    }
    return yard__store_read_end (st, s, e, rc);
}

int
yard_store_schedules (yard_store_t *st, yard_store_sched_f cb, void *arg)
{
    return sched_walk (st,
                       "SELECT name, pipeline, pipeline_name, created_ms,"
                       " cron, last_fire_ms, 0, last_run FROM schedules"
                       " ORDER BY name",
                       false, cb, arg);
}

int
yard_store_triggers (yard_store_t *st, yard_store_sched_f cb, void *arg)
{
    return sched_walk (st,
                       "SELECT name, pipeline, pipeline_name, created_ms,"
                       " on_kind, on_name, fired, last_run FROM triggers"
                       " ORDER BY name",
                       true, cb, arg);
}
