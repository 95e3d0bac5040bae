/* store_nodeadmin.c - node drain flags and labels in SQLite (see
 * store_nodeadmin.h).
 *
 * One row per node that ever had admin state; labels are stored joined by
 * '\n' (labels cannot contain one), which keeps the row one column and the
 * load one query.  Statements come from the store's cache
 * (yard__store_prepare) and are released before return.
 */
#include "store_nodeadmin.h"

#include <errno.h>
#include <stdlib.h>

#include "store_int.h"

static const char nodeadmin_schema_sql[]
    = "CREATE TABLE IF NOT EXISTS node_admin ("
      " name TEXT PRIMARY KEY,"
      " drain INTEGER NOT NULL DEFAULT 0,"
      " drain_health INTEGER NOT NULL DEFAULT 0,"
      " reason TEXT NOT NULL DEFAULT '',"
      " since_ms INTEGER NOT NULL DEFAULT 0,"
      " labels TEXT NOT NULL DEFAULT '')";

static int
prepare (yard_store_t *st, const char *sql, sqlite3_stmt **s)
{
    return yard__store_prepare (st, sql, s);
}

int
yard_store_nodeadmin_init (yard_store_t *st, yard_error_t *err)
{
    int rc = sqlite3_exec (yard__store_db (st), nodeadmin_schema_sql, NULL,
                           NULL, NULL);
    if (rc != SQLITE_OK) {
        int e = yard__store_fail (st, rc);
        return yard_errorf (err, -e,
                            "cannot create the node_admin table: "
                            "%s",
                            yard_store_errmsg (st));
    }
    return 0;
}

int
yard_store_nodeadmin_put (yard_store_t *st, const char *name,
                          const yard_nodeadmin_t *a)
{
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    char *labels = yard_nodeadmin_labels_join (a);
    if (!labels)
        return yard__store_write_end (st, -ENOMEM);
    sqlite3_stmt *s;
    if ((rc = prepare (st,
                       "INSERT OR REPLACE INTO node_admin (name, drain,"
                       " drain_health, reason, since_ms, labels)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       &s))
        < 0) {
        free (labels);
        return yard__store_write_end (st, rc);
    }
    sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int (s, 2, a->drain);
    sqlite3_bind_int (s, 3, a->drain_health);
    sqlite3_bind_text (s, 4, a->reason ? a->reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 5, a->since_ms);
    sqlite3_bind_text (s, 6, labels, -1, SQLITE_STATIC);
    rc = sqlite3_step (s);
    rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
    yard__store_release (st, s);
    free (labels);
    return yard__store_write_end (st, rc);
}

int
yard_store_nodeadmin_load (yard_store_t *st, yard_store_nodeadmin_f cb,
                           void *arg)
{
    sqlite3_stmt *s;
    int rc = prepare (st,
                      "SELECT name, drain, drain_health, reason,"
                      " since_ms, labels FROM node_admin",
                      &s);
    if (rc < 0)
        return rc;
    int e = 0;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text (s, 0);
        if (!name)
            continue;
        const char *reason = (const char *)sqlite3_column_text (s, 3);
        const char *labels = (const char *)sqlite3_column_text (s, 5);
        if ((e = cb (name, sqlite3_column_int (s, 1) != 0,
                     sqlite3_column_int (s, 2) != 0, reason ? reason : "",
                     sqlite3_column_int64 (s, 4), labels ? labels : "", arg))
            != 0)
            break;
    }
    if (e == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = yard__store_fail (st, rc);
    yard__store_release (st, s);
    return e;
}

int
yard_store_node_forget (yard_store_t *st, const char *name)
{
    static const char *const sql[] = {
        "DELETE FROM node_admin WHERE name = ?1",
        "DELETE FROM node_topology WHERE name = ?1",
        "DELETE FROM nodes WHERE name = ?1",
    };
    int rc = yard__store_write_begin (st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc == 0; i++) {
        sqlite3_stmt *s;
        if ((rc = prepare (st, sql[i], &s)) < 0)
            break;
        sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step (s);
        rc = rc == SQLITE_DONE ? 0 : yard__store_fail (st, rc);
        yard__store_release (st, s);
    }
    return yard__store_write_end (st, rc);
}
