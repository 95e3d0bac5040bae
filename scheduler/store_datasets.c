/* store_datasets.c - dataset versions and artifact references in SQLite
 * (see store_datasets.h).  Statements come from the store's cache. */
#include "store_datasets.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "store_tables.h"

static const char datasets_schema_sql[]
    = "CREATE TABLE IF NOT EXISTS datasets ("
      " name TEXT NOT NULL,"
      " version INTEGER NOT NULL,"
      " digest TEXT NOT NULL,"
      " size INTEGER NOT NULL,"
      " created_ms INTEGER NOT NULL,"
      " PRIMARY KEY (name, version));"
      "CREATE TABLE IF NOT EXISTS artifact_refs ("
      " digest TEXT NOT NULL,"
      " owner TEXT NOT NULL,"
      " PRIMARY KEY (digest, owner));";

int
yard_store_datasets_init (yard_store_t *st, yard_error_t *err)
{
    return yard__store_create_tables (st, datasets_schema_sql,
                                      "datasets tables", err);
}

int
yard_store_dataset_resolve (yard_store_t *st, const char *name,
                            uint32_t version, char digest[65],
                            uint32_t *version_out, uint64_t *size)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        version ? "SELECT version, digest, size FROM datasets"
                  " WHERE name = ?1 AND version = ?2"
                : "SELECT version, digest, size FROM datasets"
                  " WHERE name = ?1 ORDER BY version DESC LIMIT 1",
        &s);
    if (rc < 0)
        return rc;
    sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    if (version)
        sqlite3_bind_int64 (s, 2, version);
    int step = sqlite3_step (s);
    if (step == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text (s, 1);
        snprintf (digest, 65, "%s", d ? d : "");
        if (version_out)
            *version_out = (uint32_t)sqlite3_column_int64 (s, 0);
        if (size)
            *size = (uint64_t)sqlite3_column_int64 (s, 2);
        rc = 0;
    } else
        rc = step == SQLITE_DONE ? -ENOENT : yard__store_fail (st, step);
    yard__store_release (st, s);
    return rc;
}

int
yard_store_dataset_add (yard_store_t *st, const char *name,
                        const char *digest, uint64_t size, int64_t created_ms,
                        uint32_t *version)
{
    uint32_t last = 0;
    char d[65];
    int rc = yard_store_dataset_resolve (st, name, 0, d, &last, NULL);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    if ((rc = yard__store_write_begin (st)) < 0)
        return rc;
    sqlite3_stmt *s;
    if ((rc = yard__store_prepare (st, "INSERT INTO datasets (name, version,"
                                   " digest, size, created_ms)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5)", &s))
        < 0)
        return yard__store_write_end (st, rc);
    sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, (int64_t)last + 1);
    sqlite3_bind_text (s, 3, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 4, (int64_t)size);
    sqlite3_bind_int64 (s, 5, created_ms);
    int step = sqlite3_step (s);
    rc = step == SQLITE_DONE ? 0 : yard__store_fail (st, step);
    yard__store_release (st, s);
    if ((rc = yard__store_write_end (st, rc)) < 0)
        return rc;
    char owner[300];
    snprintf (owner, sizeof owner, "dataset:%s@%u", name, last + 1);
    if ((rc = yard_store_artifact_ref (st, digest, owner)) < 0)
        return rc;
    *version = last + 1;
    return 0;
}

int
yard_store_datasets_list (yard_store_t *st, const char *name,
                          yard_dataset_f cb, void *arg)
{
    bool all = !name || !*name;
    sqlite3_stmt *s;
    int rc = yard__store_prepare (
        st,
        all ? "SELECT name, version, digest, size, created_ms FROM datasets"
              " ORDER BY name, version"
            : "SELECT name, version, digest, size, created_ms FROM datasets"
              " WHERE name = ?1 ORDER BY version",
        &s);
    if (rc < 0)
        return rc;
    if (!all)
        sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    int step;
    rc = 0;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        yard_dataset_row_t row = {
            .name = (const char *)sqlite3_column_text (s, 0),
            .version = (uint32_t)sqlite3_column_int64 (s, 1),
            .digest = (const char *)sqlite3_column_text (s, 2),
            .size = (uint64_t)sqlite3_column_int64 (s, 3),
            .created_ms = sqlite3_column_int64 (s, 4),
        };
        if ((rc = cb (&row, arg)) != 0)
            break;
    }
    return yard__store_read_end (st, s, rc, step);
}

int
yard_store_artifact_refs (yard_store_t *st, yard_artifact_ref_f cb, void *arg)
{
    sqlite3_stmt *s;
    int rc = yard__store_prepare (st, "SELECT DISTINCT digest FROM"
                                  " artifact_refs ORDER BY digest", &s);
    if (rc < 0)
        return rc;
    int step;
    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text (s, 0);
        if ((rc = cb (d ? d : "", arg)) != 0)
            break;
    }
    return yard__store_read_end (st, s, rc, step);
}
