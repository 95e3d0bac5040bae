/* store.c - jobs and nodes in SQLite (see store.h).
 *
 * Schema (PRAGMA user_version 1):
 * - jobs: id INTEGER PRIMARY KEY, the state and times (priority is copied
 *   out of the spec for people reading the database with the sqlite3
 *   shell).  The id of a deleted job is never handed out again (a client
 *   holding an old id must never see another job under it): the store
 *   gives each insert its id itself, one past the largest of the table's
 *   ids and of job_id_floor, which a delete raises to the id it deletes.
 *   Versions 1 to 5 declared the id AUTOINCREMENT, which does the same
 *   through sqlite_sequence but reads and rewrites that row in every
 *   insert statement: about 3,000 instructions, a fifth of a job's insert
 *   (callgrind).  Version 6 rebuilds such a table without it, and carries
 *   its sqlite_sequence value into job_id_floor, in the transaction that
 *   sets the version.
 * - job_specs (user_version 4): what never changes after the submission,
 *   written once: the spec as a packed Yard__JobSpec and its name, under
 *   the job's id.  A job's row is rewritten at its state changes but one
 *   (see below); without the spec it is a few dozen bytes.  Version 4
 *   moves the spec and name of an older database's jobs here and drops
 *   those columns, in the transaction that sets the version.
 * - two partial indexes: active jobs (loaded at start) and finished jobs by
 *   end time (`yard queue --all`), so neither walks the whole history.
 * - nodes: the last registration of each worker name.
 * - node_topology: each node's last reported hardware (a packed
 *   Yard__Topology).  A table of its own, created IF NOT EXISTS at every
 *   open rather than by a user_version step: a database of any version
 *   gains it, and an older scheduler opening the file just ignores it.
 *
 * - attempts (user_version 3, store_attempts.c): one row per attempt; a
 *   job's retries_used and eligible_ms are read from it by row_to_job.
 *
 * The dispatch of a job writes its attempt's row and not the job's: a
 * job row left PENDING with attempt n, next to a row of attempt n + 1
 * that has not ended, is that attempt ASSIGNED (RUNNING once the row has
 * a start) on the attempt row's node, and every read of a job's row
 * (row_to_job, yard_store_job_state, yard_store_count_states, through
 * YARD__STORE_DISPATCHED_JOIN in store_int.h) reads it so.  The job's row
 * catches up at its next write (a start, a requeue, its end).  So a job
 * that runs once is written twice (submitted, ended) rather than three
 * times.  A database written before holds ASSIGNED in the job's row,
 * which reads the same.  A scheduler that does not read it so would take
 * a dispatched job for PENDING and dispatch it again: schema version 5
 * marks the databases that may hold such rows, and the older schedulers
 * refuse them.
 *
 * Every statement is reset right after use so no read keeps a snapshot
 * open across a COMMIT.
 */
#include "store.h"
#include "store_int.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* A job's row joined with its spec and with the attempt its dispatch
 * wrote alone (YARD__STORE_DISPATCHED_JOIN: the state read through it,
 * the attempt's node and start); row_to_job reads them in this order. */
#define JOB_COLUMNS                                                          \
    "j.id, " YARD__STORE_STATE_SQL ", j.priority, s.spec, j.submit_ms, "     \
    "j.start_ms, j.end_ms, j.attempt, j.node, j.exit_code, j.term_signal, "  \
    "j.end_reason, j.reason, j.cancel_requested, j.lost_count, a.node, "     \
    "a.start_ms"
#define JOB_FROM                                                             \
    " FROM jobs j LEFT JOIN job_specs s ON s.id = j.id"                      \
    YARD__STORE_DISPATCHED_JOIN

#define YARD_STRINGIFY_(x) #x
#define YARD_STRINGIFY(x) YARD_STRINGIFY_ (x)

/* Terminal states: COMPLETED 4, FAILED 5, CANCELLED 6, TIMEOUT 7. */
#define TERMINAL_SQL "state BETWEEN 4 AND 7"
#define ACTIVE_SQL "(state < 4 OR state > 7)"

/* The jobs table's columns, for its creation and for version 6's rebuild. */
#define JOBS_TABLE_COLUMNS                                                   \
    " id INTEGER PRIMARY KEY,"                                               \
    " state INTEGER NOT NULL,"                                               \
    " priority INTEGER NOT NULL DEFAULT 0,"                                  \
    " submit_ms INTEGER NOT NULL DEFAULT 0,"                                 \
    " start_ms INTEGER NOT NULL DEFAULT 0,"                                  \
    " end_ms INTEGER NOT NULL DEFAULT 0,"                                    \
    " attempt INTEGER NOT NULL DEFAULT 0,"                                   \
    " node TEXT NOT NULL DEFAULT '',"                                        \
    " exit_code INTEGER NOT NULL DEFAULT 0,"                                 \
    " term_signal INTEGER NOT NULL DEFAULT 0,"                               \
    " end_reason INTEGER NOT NULL DEFAULT 0,"                                \
    " reason TEXT NOT NULL DEFAULT '',"                                      \
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"                          \
    " lost_count INTEGER NOT NULL DEFAULT 0"
#define JOBS_TABLE_NAMES                                                     \
    "id, state, priority, submit_ms, start_ms, end_ms, attempt, node,"       \
    " exit_code, term_signal, end_reason, reason, cancel_requested,"         \
    " lost_count"
#define JOBS_INDEXES_SQL                                                     \
    "CREATE INDEX IF NOT EXISTS jobs_active ON jobs(id) WHERE " ACTIVE_SQL   \
    ";"                                                                      \
    "CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(end_ms, id) WHERE "    \
    TERMINAL_SQL ";"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS jobs (" JOBS_TABLE_COLUMNS ");"
    JOBS_INDEXES_SQL
    "CREATE TABLE IF NOT EXISTS nodes ("
    " name TEXT PRIMARY KEY,"
    " instance INTEGER NOT NULL DEFAULT 0,"
    " hostname TEXT NOT NULL DEFAULT '',"
    " version TEXT NOT NULL DEFAULT '',"
    " cpus INTEGER NOT NULL DEFAULT 0,"
    " memory INTEGER NOT NULL DEFAULT 0,"
    " gpus INTEGER NOT NULL DEFAULT 0,"
    " registered_ms INTEGER NOT NULL DEFAULT 0,"
    " last_seen_ms INTEGER NOT NULL DEFAULT 0);"
    "PRAGMA user_version = 1;";

/* Version 4: the spec out of the job's row (see the header comment).  A
 * database made by this version has a jobs table without the columns; in
 * one of versions 1 to 3 (a jobs table with a spec column) the rows are
 * copied, then the columns dropped. */
static const char specs_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS job_specs ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL DEFAULT '',"
    " spec BLOB NOT NULL);";
static const char specs_migrate_sql[] =
    "INSERT INTO job_specs (id, name, spec) SELECT id, name, spec FROM jobs;"
    "ALTER TABLE jobs DROP COLUMN spec;"
    "ALTER TABLE jobs DROP COLUMN name;";
/* Version 5 changes no table: it says that a job's row may lag its
 * dispatch (see the header comment), so that a scheduler of version 4,
 * which would read such a job as PENDING and dispatch it again, refuses
 * the database rather than run the job twice. */
/* Version 6: job ids without AUTOINCREMENT (see the header comment).
 * job_id_floor holds at most one row (k = 0): every id up to floor has
 * been handed out, whether or not its row is still there.  An older jobs
 * table (declared AUTOINCREMENT) is rebuilt: its rows copied into a new
 * table, its sqlite_sequence value kept as the floor, the old table and
 * its indexes dropped. */
static const char floor_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS job_id_floor ("
    " k INTEGER PRIMARY KEY CHECK (k = 0),"
    " floor INTEGER NOT NULL);";
static const char ids_migrate_sql[] =
    "CREATE TABLE jobs_v6 (" JOBS_TABLE_COLUMNS ");"
    "INSERT INTO jobs_v6 (" JOBS_TABLE_NAMES ") SELECT " JOBS_TABLE_NAMES
    " FROM jobs;"
    "INSERT INTO job_id_floor (k, floor)"
    " SELECT 0, seq FROM sqlite_sequence WHERE name = 'jobs';"
    "DELETE FROM sqlite_sequence WHERE name = 'jobs';"
    "DROP TABLE jobs;"
    "ALTER TABLE jobs_v6 RENAME TO jobs;"
    JOBS_INDEXES_SQL;
_Static_assert (YARD_STORE_SCHEMA_VERSION == 6,
                "init_schema's last step sets user_version 6");

/* See the header comment: not part of the user_version steps. */
static const char topology_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS node_topology ("
    " name TEXT PRIMARY KEY,"
    " topology BLOB NOT NULL)";

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_JOB_INSERT,
    S_SPEC_INSERT,
    S_JOB_UPDATE,
    S_JOB_GET,
    S_JOB_DELETE,
    S_SPEC_DELETE,
    S_FLOOR_RAISE,
    S_NEXT_ID,
    S_JOBS_ACTIVE,
    S_JOBS_FINISHED,
    S_NODE_PUT,
    S_NODES,
    S_TOPO_PUT,
    S_TOPO_DEL,
    S_COUNT
};

static const char *stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_JOB_INSERT] =
        "INSERT INTO jobs (id, state, priority, submit_ms, start_ms, end_ms,"
        " attempt, node, exit_code, term_signal, end_reason, reason,"
        " cancel_requested, lost_count)"
        " VALUES (?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
        " ?13)",
    [S_SPEC_INSERT] = "INSERT INTO job_specs (id, name, spec)"
                      " VALUES (?1, ?2, ?3)",
    /* OR REPLACE: the statement can no longer abort half-way (every value
     * bound is NOT NULL, the id is not changed), so SQLite opens no
     * statement journal for it; 60,000 updates of this row in batches of
     * 1,000 took about 15% less time per update on the development
     * machine, and a job's row is updated once or more per run. */
    [S_JOB_UPDATE] =
        "UPDATE OR REPLACE jobs SET state = ?1, priority = ?2,"
        " submit_ms = ?3, start_ms = ?4, end_ms = ?5, attempt = ?6, node = ?7,"
        " exit_code = ?8, term_signal = ?9, end_reason = ?10, reason = ?11,"
        " cancel_requested = ?12, lost_count = ?13 WHERE id = ?14",
    [S_JOB_GET] = "SELECT " JOB_COLUMNS JOB_FROM " WHERE j.id = ?1",
    [S_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1",
    [S_SPEC_DELETE] = "DELETE FROM job_specs WHERE id = ?1",
    [S_FLOOR_RAISE] = "INSERT INTO job_id_floor (k, floor) VALUES (0, ?1)"
                      " ON CONFLICT (k) DO UPDATE"
                      " SET floor = max (floor, excluded.floor)",
    [S_NEXT_ID] = "SELECT max (COALESCE ((SELECT floor FROM job_id_floor"
                  " WHERE k = 0), 0), COALESCE ((SELECT max (id) FROM jobs),"
                  " 0))",
    [S_JOBS_ACTIVE] = "SELECT " JOB_COLUMNS JOB_FROM " WHERE " ACTIVE_SQL
                      " ORDER BY j.id",
    [S_JOBS_FINISHED] = "SELECT " JOB_COLUMNS JOB_FROM " WHERE " TERMINAL_SQL
                        " ORDER BY j.end_ms DESC, j.id DESC LIMIT ?1",
    [S_NODE_PUT] =
        "INSERT OR REPLACE INTO nodes (name, instance, hostname, version,"
        " cpus, memory, gpus, registered_ms, last_seen_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_NODES] = ("SELECT n.name, n.instance, n.hostname, n.version, n.cpus,"
                 " n.memory, n.gpus, n.registered_ms, n.last_seen_ms,"
                 " t.topology FROM nodes n LEFT JOIN node_topology t"
                 " ON t.name = n.name ORDER BY n.name"),
    [S_TOPO_PUT] = "INSERT OR REPLACE INTO node_topology (name, topology)"
                   " VALUES (?1, ?2)",
    [S_TOPO_DEL] = "DELETE FROM node_topology WHERE name = ?1",
};

/* Statements of the topic files (store_*.c), prepared on first use and kept:
 * parsing SQL on every write was most of a dispatch's cost. */
#define STMT_CACHE_MAX 64

/* Rows per statement of yard_store_jobs_insert: 32 rows of 14 columns
 * (jobs) or 3 (job_specs) stay under SQLite's oldest limit of 999
 * parameters. */
#define BULK_ROWS 32

struct cached_stmt {
    char *sql;
    sqlite3_stmt *stmt;
    bool busy; /* handed out, not yet released */
};

struct yard_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    sqlite3_stmt *bulk[BULK_ROWS + 1]; /* yard_store_jobs_insert: [k] inserts
                                          k rows; prepared on first use */
    sqlite3_stmt *bulk_spec[BULK_ROWS + 1]; /* the same for job_specs */
    struct cached_stmt cache[STMT_CACHE_MAX];
    size_t ncache;
    bool in_txn;
    int failed;          /* negative errno of a failed write, 0 if none */
    /* the id the next job gets (see the header comment); 0: not known,
     * read from the tables at the next insert (at the start, and after a
     * rollback, whose ids may be given again: none was acknowledged) */
    uint64_t next_job_id;
    char errmsg[256];
    /* yard_store_defer_sync: the WAL's path and a descriptor of it, used
     * only by yard_store_wal_sync (on the syncer's thread) */
    char *wal_path;
    pthread_mutex_t wal_mu; /* one yard_store_wal_sync at a time */
    int wal_fd;
    dev_t wal_dev;
    ino_t wal_ino;
};

static int
to_errno (int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return 0;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN: return -EACCES;
    case SQLITE_TOOBIG: return -E2BIG;
    case SQLITE_NOTFOUND: return -ENOENT;
    default: return -EIO; /* IOERR, CORRUPT, NOTADB, PROTOCOL, ... */
    }
}

/* Record SQLite's message for rc and return the errno. */
static int
fail (yard_store_t *st, int rc)
{
    int e = to_errno (rc);
    if (e == 0)
        e = -EIO;
    const char *msg = sqlite3_errmsg (st->db), *str = sqlite3_errstr (rc);
    if (strcmp (msg, str) == 0)
        snprintf (st->errmsg, sizeof st->errmsg, "%s", msg);
    else
        snprintf (st->errmsg, sizeof st->errmsg, "%s (%s)", msg, str);
    return e;
}

const char *
yard_store_errmsg (const yard_store_t *st)
{
    return st->errmsg;
}

bool
yard_store_in_txn (const yard_store_t *st)
{
    return st->in_txn;
}

/* Step a statement that returns no rows, then reset it. */
static int
step_done (yard_store_t *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step (s);
    int e = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : fail (st, rc);
    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    return e;
}

/* Called before each write: refuse after a failure, open the batch
 * transaction on the first write. */
static int
write_begin (yard_store_t *st)
{
    if (st->failed)
        return st->failed;
    if (st->in_txn)
        return 0;
    int rc = step_done (st, st->stmt[S_BEGIN]);
    if (rc < 0)
        return st->failed = rc;
    st->in_txn = true;
    return 0;
}

/* Called after each write with its result. */
static int
write_end (yard_store_t *st, int rc)
{
    if (rc < 0 && rc != -ENOENT)
        st->failed = rc;
    return rc;
}

void
yard_store_rollback (yard_store_t *st)
{
    /* SQLite may already have rolled back by itself (some I/O errors do);
     * ask it rather than trust in_txn. */
    if (!sqlite3_get_autocommit (st->db))
        (void)step_done (st, st->stmt[S_ROLLBACK]);
    st->in_txn = false;
    st->failed = 0;
    st->next_job_id = 0;
}

int
yard_store_commit (yard_store_t *st)
{
    if (st->failed) {
        int rc = st->failed;
        yard_store_rollback (st);
        return rc;
    }
    if (!st->in_txn)
        return 0;
    int rc = step_done (st, st->stmt[S_COMMIT]);
    if (rc < 0) {
        yard_store_rollback (st);
        return rc;
    }
    st->in_txn = false;
    return 0;
}

static int
exec_sql (yard_store_t *st, const char *sql)
{
    int rc = sqlite3_exec (st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail (st, rc);
}

static int
pragma_int (yard_store_t *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2 (st->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return fail (st, rc);
    rc = sqlite3_step (s);
    int e = 0;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64 (s, 0);
    else
        e = fail (st, rc);
    sqlite3_finalize (s);
    return e;
}

static int
set_wal (yard_store_t *st, yard_error_t *err)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2 (st->db, "PRAGMA journal_mode=WAL", -1, &s,
                                 NULL);
    if (rc != SQLITE_OK)
        return yard_errorf (err, -fail (st, rc), "cannot set WAL mode: %s",
                            st->errmsg);
    rc = sqlite3_step (s);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text (s, 0)
                                                 : NULL;
    int e = 0;
    if (rc != SQLITE_ROW)
        e = yard_errorf (err, -fail (st, rc), "cannot open the database: %s",
                         st->errmsg);
    else if (!mode || strcmp ((const char *)mode, "wal") != 0)
        e = yard_errorf (err, EIO, "the database refused WAL mode (got %s): "
                         "is it on a network file system?",
                         mode ? (const char *)mode : "nothing");
    sqlite3_finalize (s);
    return e;
}

static int
init_schema (yard_store_t *st, yard_error_t *err)
{
    int64_t version = 0;
    int rc = pragma_int (st, "PRAGMA user_version", &version);
    if (rc < 0)
        return yard_errorf (err, -rc, "cannot read the database: %s",
                            st->errmsg);
    if (version == YARD_STORE_SCHEMA_VERSION)
        return 0;
    if (version > YARD_STORE_SCHEMA_VERSION)
        return yard_errorf (err, EPROTO, "the database has schema version "
                            "%lld, newer than this scheduler's (%d): run a "
                            "newer yard-scheduler", (long long)version,
                            YARD_STORE_SCHEMA_VERSION);
    int64_t old_jobs = 0; /* a jobs table with the spec in it */
    int64_t old_ids = 0;  /* a jobs table with AUTOINCREMENT ids */
    if ((rc = exec_sql (st, "BEGIN IMMEDIATE")) < 0
        || (rc = exec_sql (st, schema_sql)) < 0
        || (version < 2 && (rc = exec_sql (st, yard__store_metrics_schema)) < 0)
        || (version < 3
            && (rc = exec_sql (st, yard__store_attempts_schema)) < 0)
        || (rc = exec_sql (st, specs_schema_sql)) < 0
        || (rc = pragma_int (st, "SELECT count(*) FROM pragma_table_info"
                             "('jobs') WHERE name = 'spec'", &old_jobs)) < 0
        || (old_jobs > 0 && (rc = exec_sql (st, specs_migrate_sql)) < 0)
        || (rc = exec_sql (st, floor_schema_sql)) < 0
        || (rc = pragma_int (st, "SELECT count(*) FROM sqlite_schema WHERE"
                             " type = 'table' AND name = 'jobs' AND"
                             " sql LIKE '%AUTOINCREMENT%'", &old_ids)) < 0
        || (old_ids > 0 && (rc = exec_sql (st, ids_migrate_sql)) < 0)
        || (rc = exec_sql (st, "PRAGMA user_version = 6")) < 0
        || (rc = exec_sql (st, "COMMIT")) < 0) {
        int e = rc;
        char msg[256];
        snprintf (msg, sizeof msg, "%s", st->errmsg);
        if (!sqlite3_get_autocommit (st->db))
            (void)exec_sql (st, "ROLLBACK");
        return yard_errorf (err, -e, "cannot create the database schema: %s",
                            msg);
    }
    return 0;
}

/* SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS) are on by default:
 * every allocation of the library, a dozen or more per statement, takes a
 * global mutex to count bytes, which only sqlite3_memory_used and the
 * soft heap limit read, and the scheduler uses neither.  Off, the
 * scheduler runs about 4% fewer instructions per job (callgrind, the
 * scheduler-core load).  It must be set before SQLite initialises; if
 * something in the process used SQLite first, the call fails and the
 * statistics stay on, which costs time only. */
static void
sqlite_config_once (void)
{
    (void)sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
}

yard_store_t *
yard_store_create (const char *path, bool sync_full, yard_error_t *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, sqlite_config_once);
    int e = EIO;
    yard_store_t *st = calloc (1, sizeof *st);
    if (!st) {
        yard_errorf (err, ENOMEM, "out of memory");
        return NULL;
    }
    st->wal_fd = -1;
    pthread_mutex_init (&st->wal_mu, NULL);
    int rc = sqlite3_open_v2 (path, &st->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                  | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (rc != SQLITE_OK) {
        e = st->db ? -fail (st, rc) : ENOMEM;
        yard_errorf (err, e, "cannot open %s: %s", path,
                     st->db ? st->errmsg : "out of memory");
        goto error;
    }
    sqlite3_extended_result_codes (st->db, 1);
    sqlite3_busy_timeout (st->db, 5000);
    if ((rc = set_wal (st, err)) < 0) {
        e = -rc;
        goto error;
    }
    /* A page cache of YARD_STORE_CACHE_KIB rather than SQLite's 2 MB: a
     * batch of MetricsBatch messages inserts up to 100,000 points (two
     * B-tree entries each) in one transaction, and with 2 MB its dirty
     * pages spilled to the WAL before the commit and were read back. */
    if ((rc = exec_sql (st, "PRAGMA cache_size = -"
                        YARD_STRINGIFY (YARD_STORE_CACHE_KIB))) < 0
        || (rc = exec_sql (st, sync_full ? "PRAGMA synchronous=FULL"
                                         : "PRAGMA synchronous=NORMAL")) < 0) {
        e = -rc;
        yard_errorf (err, e, "cannot configure %s: %s", path, st->errmsg);
        goto error;
    }
    if ((rc = init_schema (st, err)) < 0) {
        e = -rc;
        goto error;
    }
    if ((rc = exec_sql (st, topology_schema_sql)) < 0) {
        e = -rc;
        yard_errorf (err, e, "cannot create the node_topology table: %s",
                     st->errmsg);
        goto error;
    }
    for (int i = 0; i < S_COUNT; i++) {
        rc = sqlite3_prepare_v3 (st->db, stmt_sql[i], -1,
                                 SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                                 NULL);
        if (rc != SQLITE_OK) {
            e = -fail (st, rc);
            yard_errorf (err, e, "cannot prepare statements on %s: %s", path,
                         st->errmsg);
            goto error;
        }
    }
    st->errmsg[0] = '\0';
    return st;
error:
    yard_store_destroy (&st);
    errno = e;
    return NULL;
}

void
yard_store_destroy (yard_store_t **stp)
{
    if (!stp || !*stp)
        return;
    yard_store_t *st = *stp;
    if (st->db) {
        if (!sqlite3_get_autocommit (st->db))
            (void)sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
        for (int i = 0; i < S_COUNT; i++)
            sqlite3_finalize (st->stmt[i]);
        for (int i = 0; i <= BULK_ROWS; i++) {
            sqlite3_finalize (st->bulk[i]);
            sqlite3_finalize (st->bulk_spec[i]);
        }
        for (size_t i = 0; i < st->ncache; i++) {
            sqlite3_finalize (st->cache[i].stmt);
            free (st->cache[i].sql);
        }
        sqlite3_close_v2 (st->db);
    }
    if (st->wal_fd >= 0)
        close (st->wal_fd);
    pthread_mutex_destroy (&st->wal_mu);
    free (st->wal_path);
    free (st);
    *stp = NULL;
}

/* ---- deferred durability (group commit, syncer.h) ---- */

int
yard_store_defer_sync (yard_store_t *st)
{
    const char *db = sqlite3_db_filename (st->db, "main");
    if (!db || !*db)
        return -EINVAL;
    size_t n = strlen (db) + sizeof "-wal";
    if (!(st->wal_path = malloc (n)))
        return -ENOMEM;
    snprintf (st->wal_path, n, "%s-wal", db);
    return exec_sql (st, "PRAGMA synchronous=NORMAL");
}

static int
wal_sync (yard_store_t *st)
{
    struct stat now;
    if (stat (st->wal_path, &now) < 0) {
        /* SQLite deletes the WAL only after a checkpoint that moved (and
         * synced) every frame into the database: nothing left to sync */
        return errno == ENOENT ? 0 : -errno;
    }
    if (st->wal_fd >= 0
        && (now.st_dev != st->wal_dev || now.st_ino != st->wal_ino)) {
        close (st->wal_fd); /* a new WAL file under the same name */
        st->wal_fd = -1;
    }
    if (st->wal_fd < 0) {
        int fd = open (st->wal_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return errno == ENOENT ? 0 : -errno;
        struct stat opened;
        /* a WAL file just created must not lose its name in a power cut
         * (ext4 syncs a new file's dir entry in its fsync anyway; other
         * file systems need this) */
        int rc = fstat (fd, &opened) < 0 ? -errno
                                         : yard_fsync_parent (st->wal_path);
        if (rc < 0) {
            close (fd);
            return rc;
        }
        st->wal_fd = fd;
        st->wal_dev = opened.st_dev;
        st->wal_ino = opened.st_ino;
    }
    int rc;
    do
        rc = fdatasync (st->wal_fd);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

int
yard_store_wal_sync (yard_store_t *st)
{
    if (!st->wal_path)
        return -EINVAL;
    pthread_mutex_lock (&st->wal_mu);
    int rc = wal_sync (st);
    pthread_mutex_unlock (&st->wal_mu);
    return rc;
}

/* ---- the statement cache of the topic files ---- */

int
yard__store_prepare (yard_store_t *st, const char *sql, sqlite3_stmt **out)
{
    for (size_t i = 0; i < st->ncache; i++) {
        struct cached_stmt *c = &st->cache[i];
        if (!c->busy && strcmp (c->sql, sql) == 0) {
            sqlite3_reset (c->stmt);
            sqlite3_clear_bindings (c->stmt);
            c->busy = true;
            *out = c->stmt;
            return 0;
        }
    }
    int rc = sqlite3_prepare_v3 (st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 out, NULL);
    if (rc != SQLITE_OK)
        return yard__store_fail (st, rc);
    char *copy;
    if (st->ncache < STMT_CACHE_MAX && (copy = strdup (sql))) {
        st->cache[st->ncache++] = (struct cached_stmt){copy, *out, true};
    }
    return 0;
}

void
yard__store_release (yard_store_t *st, sqlite3_stmt *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < st->ncache; i++) {
        if (st->cache[i].stmt == s) {
            sqlite3_reset (s);
            st->cache[i].busy = false;
            return;
        }
    }
    sqlite3_finalize (s); /* not cached (the cache was full) */
}

/* ---- jobs ---- */

static const char *
text_or_empty (const char *s)
{
    return s ? s : "";
}

/* Bind ?o+1..?o+13, every column of the job's row but id, from job, and
 * ?o+14 to id (the row's id in every statement that takes a job's row). */
static int
bind_job (yard_store_t *st, sqlite3_stmt *s, const yard_job_t *job,
          uint64_t id, int o)
{
    int rc;
    if ((rc = sqlite3_bind_int (s, o + 1, (int)job->state)) != SQLITE_OK
        || (rc = sqlite3_bind_int (s, o + 2, job->priority)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, o + 3, job->submit_ms)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, o + 4, job->start_ms)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, o + 5, job->end_ms)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, o + 6, job->attempt)) != SQLITE_OK
        || (rc = sqlite3_bind_text (s, o + 7, text_or_empty (job->node), -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_int (s, o + 8, job->exit_code)) != SQLITE_OK
        || (rc = sqlite3_bind_int (s, o + 9, job->term_signal)) != SQLITE_OK
        || (rc = sqlite3_bind_int (s, o + 10, (int)job->end_reason)) != SQLITE_OK
        || (rc = sqlite3_bind_text (s, o + 11, text_or_empty (job->reason), -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_int (s, o + 12, job->cancel_requested ? 1 : 0))
               != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, o + 13, job->lost_count)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, o + 14, (int64_t)id)) != SQLITE_OK) {
        int e = fail (st, rc);
        sqlite3_clear_bindings (s);
        return e;
    }
    return 0;
}

/* Bind the job_specs row of job under id: ?o+1 the id, ?o+2 the name,
 * ?o+3 the packed spec, which lives in *buf (freed by the caller) until
 * the statement ran. */
static int
bind_spec (yard_store_t *st, sqlite3_stmt *s, const yard_job_t *job,
           uint64_t id, int o, uint8_t **buf)
{
    size_t len = job->spec ? yard__job_spec__get_packed_size (job->spec) : 0;
    *buf = NULL;
    if (len > INT_MAX)
        return -E2BIG;
    if (!(*buf = malloc (len ? len : 1)))
        return -ENOMEM;
    if (job->spec)
        yard__job_spec__pack (job->spec, *buf);
    const char *name = job->spec ? job->spec->name : NULL;
    int rc;
    if ((rc = sqlite3_bind_int64 (s, o + 1, (int64_t)id)) != SQLITE_OK
        || (rc = sqlite3_bind_text (s, o + 2, text_or_empty (name), -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_blob (s, o + 3, *buf, (int)len, SQLITE_STATIC))
               != SQLITE_OK) {
        int e = fail (st, rc);
        sqlite3_clear_bindings (s);
        free (*buf);
        *buf = NULL;
        return e;
    }
    return 0;
}

/* The id the next job gets, into *id (st->next_job_id, read from the
 * tables if not known).  0 or -errno. */
static int
next_job_id (yard_store_t *st, uint64_t *id)
{
    if (st->next_job_id == 0) {
        sqlite3_stmt *s = st->stmt[S_NEXT_ID];
        int rc = sqlite3_step (s);
        int64_t top = rc == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : 0;
        sqlite3_reset (s);
        if (rc != SQLITE_ROW)
            return fail (st, rc);
        if (top < 0 || top >= INT64_MAX)
            return -EOVERFLOW;
        st->next_job_id = (uint64_t)top + 1;
    }
    *id = st->next_job_id;
    return 0;
}

int
yard_store_job_insert (yard_store_t *st, yard_job_t *job)
{
    int rc = write_begin (st);
    if (rc < 0)
        return rc;
    uint64_t id = 0;
    if ((rc = next_job_id (st, &id)) < 0)
        return write_end (st, rc);
    sqlite3_stmt *s = st->stmt[S_JOB_INSERT];
    if ((rc = bind_job (st, s, job, id, 0)) < 0
        || (rc = step_done (st, s)) < 0)
        return write_end (st, rc);
    st->next_job_id = id + 1;
    uint8_t *buf = NULL;
    s = st->stmt[S_SPEC_INSERT];
    if ((rc = bind_spec (st, s, job, id, 0, &buf)) == 0)
        rc = step_done (st, s);
    free (buf);
    if (rc == 0)
        job->id = id;
    return write_end (st, rc);
}

int
yard_store_job_next_id (yard_store_t *st, uint64_t *id)
{
    return next_job_id (st, id);
}

/* The statement that inserts k rows (1 <= k <= BULK_ROWS) into jobs with
 * their ids (row r binds ?14r+1..?14r+13 as bind_job does and its id as
 * ?14r+14), or, spec, into job_specs (row r binds ?3r+1..?3r+3 as
 * bind_spec does). */
static int
bulk_stmt (yard_store_t *st, size_t k, bool spec, sqlite3_stmt **out)
{
    sqlite3_stmt **slot = spec ? &st->bulk_spec[k] : &st->bulk[k];
    if (*slot) {
        *out = *slot;
        return 0;
    }
    static const char jobs_head[] =
        "INSERT INTO jobs (id, state, priority, submit_ms, start_ms, end_ms,"
        " attempt, node, exit_code, term_signal, end_reason, reason,"
        " cancel_requested, lost_count) VALUES ";
    static const char spec_head[] =
        "INSERT INTO job_specs (id, name, spec) VALUES ";
    const int cols = spec ? 3 : 14;
    size_t cap = sizeof jobs_head + k * (size_t)cols * 8 + 16;
    char *sql = malloc (cap);
    if (!sql)
        return -ENOMEM;
    size_t n = (size_t)snprintf (sql, cap, "%s", spec ? spec_head : jobs_head);
    for (size_t r = 0; r < k; r++) {
        int o = (int)r * cols;
        /* jobs: the id (?o+14) first; job_specs: in order */
        n += (size_t)snprintf (sql + n, cap - n, "%s(?%d", r ? "," : "",
                               spec ? o + 1 : o + 14);
        for (int c = spec ? 2 : 1; c <= (spec ? 3 : 13); c++)
            n += (size_t)snprintf (sql + n, cap - n, ",?%d", o + c);
        n += (size_t)snprintf (sql + n, cap - n, ")");
    }
    int rc = sqlite3_prepare_v3 (st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 slot, NULL);
    free (sql);
    if (rc != SQLITE_OK)
        return fail (st, rc);
    *out = *slot;
    return 0;
}

/* Rows i..i+k-1 of jobs (ids first_id + i ...) into jobs, or spec, into
 * job_specs, with one statement. */
static int
bulk_rows (yard_store_t *st, yard_job_t **jobs, size_t i, size_t k,
           uint64_t first_id, bool spec)
{
    sqlite3_stmt *s = NULL;
    uint8_t *bufs[BULK_ROWS];
    size_t bound = 0;
    int rc = bulk_stmt (st, k, spec, &s);
    if (rc < 0)
        return rc;
    for (; bound < k && rc == 0; bound++) {
        uint64_t id = first_id + i + bound;
        if (spec) {
            if ((rc = bind_spec (st, s, jobs[i + bound], id, (int)bound * 3,
                                 &bufs[bound])) < 0)
                break;
            continue;
        }
        bufs[bound] = NULL;
        if ((rc = bind_job (st, s, jobs[i + bound], id, (int)bound * 14)) < 0)
            break;
    }
    if (rc == 0)
        rc = step_done (st, s);
    else {
        sqlite3_reset (s);
        sqlite3_clear_bindings (s);
    }
    for (size_t b = 0; b < bound; b++)
        free (bufs[b]);
    return rc;
}

int
yard_store_jobs_insert (yard_store_t *st, yard_job_t **jobs, size_t n,
                        uint64_t first_id)
{
    if (n == 0)
        return 0;
    if (first_id == 0 || first_id > INT64_MAX || n > INT64_MAX - first_id)
        return -EINVAL;
    int rc = write_begin (st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i += BULK_ROWS) {
        size_t k = n - i < BULK_ROWS ? n - i : BULK_ROWS;
        if ((rc = bulk_rows (st, jobs, i, k, first_id, false)) == 0)
            rc = bulk_rows (st, jobs, i, k, first_id, true);
    }
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            jobs[i]->id = first_id + i;
        if (first_id + n > st->next_job_id)
            st->next_job_id = first_id + n;
    }
    return write_end (st, rc);
}

int
yard_store_job_update (yard_store_t *st, const yard_job_t *job)
{
    if (job->id == 0 || job->id > INT64_MAX)
        return -ENOENT;
    int rc = write_begin (st);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = st->stmt[S_JOB_UPDATE];
    if ((rc = bind_job (st, s, job, job->id, 0)) < 0)
        return write_end (st, rc);
    rc = step_done (st, s);
    if (rc == 0 && sqlite3_changes (st->db) == 0)
        rc = -ENOENT;
    return write_end (st, rc);
}

int
yard_store_job_delete (yard_store_t *st, uint64_t id)
{
    if (id == 0 || id > INT64_MAX)
        return -ENOENT;
    int rc = write_begin (st);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = st->stmt[S_JOB_DELETE];
    sqlite3_bind_int64 (s, 1, (int64_t)id);
    rc = step_done (st, s);
    if (rc == 0 && sqlite3_changes (st->db) == 0)
        rc = -ENOENT;
    if (rc == 0) {
        s = st->stmt[S_SPEC_DELETE];
        sqlite3_bind_int64 (s, 1, (int64_t)id);
        rc = step_done (st, s);
    }
    if (rc == 0) { /* its id is not given again, even once the newest */
        s = st->stmt[S_FLOOR_RAISE];
        sqlite3_bind_int64 (s, 1, (int64_t)id);
        rc = step_done (st, s);
    }
    return write_end (st, rc);
}

static char *
column_strdup (sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text (s, col);
    if (!t || !*t)
        return NULL;
    return strdup ((const char *)t);
}

/* Build a job from the current row (JOB_COLUMNS order). */
static int
row_to_job (yard_store_t *st, sqlite3_stmt *s, yard_job_t **out)
{
    yard_job_t *job = yard_job_create ();
    if (!job)
        return -ENOMEM;
    job->id = (uint64_t)sqlite3_column_int64 (s, 0);
    job->state = (Yard__JobState)sqlite3_column_int (s, 1);
    job->priority = sqlite3_column_int (s, 2);
    const void *blob = sqlite3_column_blob (s, 3);
    int len = sqlite3_column_bytes (s, 3);
    static const uint8_t empty[1];
    bool missing = sqlite3_column_type (s, 3) == SQLITE_NULL;
    if (!missing)
        job->spec = yard__job_spec__unpack (
            NULL, (size_t)(len > 0 ? len : 0), blob ? blob : empty);
    if (!job->spec) {
        snprintf (st->errmsg, sizeof st->errmsg,
                  missing ? "job %llu has no spec row"
                          : "the spec of job %llu does not decode",
                  (unsigned long long)job->id);
        yard_job_destroy (&job);
        return -EIO;
    }
    job->submit_ms = sqlite3_column_int64 (s, 4);
    job->start_ms = sqlite3_column_int64 (s, 5);
    job->end_ms = sqlite3_column_int64 (s, 6);
    job->attempt = (uint32_t)sqlite3_column_int64 (s, 7);
    job->exit_code = sqlite3_column_int (s, 9);
    job->term_signal = sqlite3_column_int (s, 10);
    job->end_reason = (Yard__EndReason)sqlite3_column_int (s, 11);
    job->cancel_requested = sqlite3_column_int (s, 13) != 0;
    job->lost_count = (uint32_t)sqlite3_column_int64 (s, 14);
    /* dispatched after the row was last written: the attempt's row says
     * where (YARD__STORE_DISPATCHED_JOIN; the state column reads it so) */
    bool dispatched = sqlite3_column_type (s, 15) != SQLITE_NULL;
    int node_col = dispatched ? 15 : 8;
    if (dispatched) {
        job->attempt++;
        job->start_ms = sqlite3_column_int64 (s, 16);
    }
    if ((sqlite3_column_bytes (s, node_col) > 0
         && !(job->node = column_strdup (s, node_col)))
        || (!dispatched && sqlite3_column_bytes (s, 12) > 0
            && !(job->reason = column_strdup (s, 12)))) {
        yard_job_destroy (&job);
        return -ENOMEM;
    }
    /* a job never dispatched has no attempt rows: skip the query */
    int rc;
    if (job->attempt > 0 && (rc = yard__store_attempts_load (st, job)) < 0) {
        yard_job_destroy (&job);
        return rc;
    }
    *out = job;
    return 0;
}

int
yard_store_job_get (yard_store_t *st, uint64_t id, yard_job_t **out)
{
    *out = NULL;
    if (id == 0 || id > INT64_MAX)
        return -ENOENT;
    sqlite3_stmt *s = st->stmt[S_JOB_GET];
    sqlite3_bind_int64 (s, 1, (int64_t)id);
    int rc = sqlite3_step (s);
    int e;
    if (rc == SQLITE_ROW)
        e = row_to_job (st, s, out);
    else if (rc == SQLITE_DONE)
        e = -ENOENT;
    else
        e = fail (st, rc);
    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    return e;
}

static int
walk_jobs (yard_store_t *st, sqlite3_stmt *s, yard_store_job_f cb, void *arg)
{
    int e = 0;
    int rc;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        yard_job_t *job;
        if ((e = row_to_job (st, s, &job)) < 0)
            break;
        if ((e = cb (job, arg)) != 0)
            break;
    }
    if (e == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = fail (st, rc);
    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    return e;
}

int
yard_store_jobs_active (yard_store_t *st, yard_store_job_f cb, void *arg)
{
    return walk_jobs (st, st->stmt[S_JOBS_ACTIVE], cb, arg);
}

int
yard_store_jobs_finished (yard_store_t *st, uint32_t limit,
                          yard_store_job_f cb, void *arg)
{
    sqlite3_stmt *s = st->stmt[S_JOBS_FINISHED];
    sqlite3_bind_int64 (s, 1, limit);
    return walk_jobs (st, s, cb, arg);
}

/* ---- nodes ---- */

/* The node's topology row: replaced, or deleted when it reports none. */
static int
put_topology (yard_store_t *st, const yard_store_node_t *row)
{
    sqlite3_stmt *s = st->stmt[row->topology ? S_TOPO_PUT : S_TOPO_DEL];
    int rc = sqlite3_bind_text (s, 1, row->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && row->topology)
        rc = sqlite3_bind_blob64 (s, 2, row->topology, row->topology_len,
                                  SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        rc = fail (st, rc);
        sqlite3_reset (s);
        sqlite3_clear_bindings (s);
        return rc;
    }
    return step_done (st, s);
}

int
yard_store_node_put (yard_store_t *st, const yard_store_node_t *row)
{
    if (!row->name || !*row->name)
        return -EINVAL;
    int rc = write_begin (st);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = st->stmt[S_NODE_PUT];
    /* uint64 values travel as their int64 bit pattern and come back the
     * same way. */
    if ((rc = sqlite3_bind_text (s, 1, row->name, -1, SQLITE_STATIC))
            != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, 2, (int64_t)row->instance))
               != SQLITE_OK
        || (rc = sqlite3_bind_text (s, 3, text_or_empty (row->hostname), -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (s, 4, text_or_empty (row->version), -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, 5, row->cpus)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, 6, (int64_t)row->memory)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, 7, row->gpus)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, 8, row->registered_ms)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (s, 9, row->last_seen_ms)) != SQLITE_OK) {
        rc = fail (st, rc);
        sqlite3_reset (s);
        sqlite3_clear_bindings (s);
        return write_end (st, rc);
    }
    if ((rc = step_done (st, s)) < 0)
        return write_end (st, rc);
    return write_end (st, put_topology (st, row));
}

int
yard_store_nodes (yard_store_t *st, yard_store_node_f cb, void *arg)
{
    sqlite3_stmt *s = st->stmt[S_NODES];
    int e = 0;
    int rc;
    while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
        yard_store_node_t row = {
            .name = (const char *)sqlite3_column_text (s, 0),
            .instance = (uint64_t)sqlite3_column_int64 (s, 1),
            .hostname = (const char *)sqlite3_column_text (s, 2),
            .version = (const char *)sqlite3_column_text (s, 3),
            .cpus = (uint32_t)sqlite3_column_int64 (s, 4),
            .memory = (uint64_t)sqlite3_column_int64 (s, 5),
            .gpus = (uint32_t)sqlite3_column_int64 (s, 6),
            .registered_ms = sqlite3_column_int64 (s, 7),
            .last_seen_ms = sqlite3_column_int64 (s, 8),
            .topology = sqlite3_column_blob (s, 9),
            .topology_len = (size_t)sqlite3_column_bytes (s, 9),
        };
        if (!row.name)
            continue;
        if ((e = cb (&row, arg)) != 0)
            break;
    }
    if (e == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = fail (st, rc);
    sqlite3_reset (s);
    return e;
}

int
yard_store_limit_size (yard_store_t *st, uint64_t bytes)
{
    int64_t page = 4096;
    int rc = pragma_int (st, "PRAGMA page_size", &page);
    if (rc < 0)
        return rc;
    if (page <= 0)
        page = 4096;
    char sql[96];
    /* max_page_count cannot go below the current size; 0 means no limit,
     * i.e. SQLite's maximum. */
    int64_t pages = bytes ? (int64_t)(bytes / (uint64_t)page) : 4294967294LL;
    if (pages < 1)
        pages = 1;
    snprintf (sql, sizeof sql, "PRAGMA max_page_count = %lld",
              (long long)pages);
    int64_t got;
    return pragma_int (st, sql, &got);
}

/* ---- shared with store_metrics.c (see store_int.h) ---- */

sqlite3 *
yard__store_db (yard_store_t *st)
{
    return st->db;
}

int
yard__store_write_begin (yard_store_t *st)
{
    return write_begin (st);
}

int
yard__store_write_end (yard_store_t *st, int rc)
{
    return write_end (st, rc);
}

int
yard__store_fail (yard_store_t *st, int rc)
{
    return fail (st, rc);
}
