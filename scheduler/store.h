/* store.h - the scheduler's durable state: jobs and nodes in SQLite.
 *
 * One connection, WAL journal, prepared statements made once at open.
 * Writes are grouped: the first write after a commit opens a transaction
 * (BEGIN IMMEDIATE) and yard_store_commit() ends it, so the scheduler
 * commits everything one loop turn changed at once and acknowledges
 * nothing before that commit returned.
 *
 * When a write fails (disk full, I/O error) the open transaction is doomed:
 * every later write returns the same error until yard_store_rollback(), so
 * nothing of a half-done batch can reach the disk in a later transaction.
 *
 * Errors are negative errno values: -ENOSPC (SQLITE_FULL), -EIO (I/O error
 * or corruption), -EBUSY, -ENOMEM, -EROFS, -EACCES (cannot open), -ENOENT
 * (no such row); yard_store_errmsg() has SQLite's text for the last one.
 */
#ifndef YARD_SCHED_STORE_H
#define YARD_SCHED_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "job.h"

#define YARD_STORE_SCHEMA_VERSION 6 /* 2: metrics (store_metrics.h),
                                      3: attempts (store_attempts.h),
                                      4: the spec in job_specs (store.c),
                                      5: a dispatch in the attempt's row
                                         alone (store.c),
                                      6: job ids without AUTOINCREMENT
                                         (store.c) */

typedef struct yard_store yard_store_t;

/* One row of the nodes table.  Strings are borrowed (by the store from the
 * caller on put, by the callback from the store on read). */
typedef struct yard_store_node {
    const char *name;
    uint64_t instance;
    const char *hostname;
    const char *version;
    uint32_t cpus;
    uint64_t memory;
    uint32_t gpus;
    int64_t registered_ms;
    int64_t last_seen_ms;
    const void *topology;  /* packed Yard__Topology; NULL: none reported */
    size_t topology_len;
} yard_store_node_t;

/* Read callbacks.  A job callback takes ownership of job (keep it or
 * yard_job_destroy it).  A non-zero return stops the walk and is returned
 * by the walking function.  Callbacks must not call the store. */
typedef int (*yard_store_job_f) (yard_job_t *job, void *arg);
typedef int (*yard_store_node_f) (const yard_store_node_t *row, void *arg);

/* SQLite's page cache per store, in KiB (it fills only as pages are
 * used: at 1M pending jobs it adds about 32 bytes per job to the RSS). */
#define YARD_STORE_CACHE_KIB 32768

/* Open (creating if needed) the database at path.  sync_full selects
 * PRAGMA synchronous=FULL (else NORMAL: a power loss may lose the last
 * commits, never corrupt).  NULL with errno set and err filled. */
yard_store_t *yard_store_create (const char *path, bool sync_full,
                                 yard_error_t *err);

/* Group commit (syncer.h): from now on a commit writes the WAL without
 * syncing it (PRAGMA synchronous=NORMAL), and the commits are made
 * durable by yard_store_wal_sync.  Whoever commits must hold every
 * acknowledgement of a commit until a yard_store_wal_sync that started
 * after it returned 0.  0 or -errno. */
int yard_store_defer_sync (yard_store_t *st);

/* fdatasync the WAL: every commit returned before the call is durable
 * when it returns 0.  It touches no SQLite state (a descriptor of its
 * own, under a lock of its own), so it may run on another thread than
 * the one using the store.  0 or -errno. */
int yard_store_wal_sync (yard_store_t *st);

/* Roll back an open transaction and close.  Accepts NULL; NULLs the
 * pointer. */
void yard_store_destroy (yard_store_t **st);

/* ---- jobs ---- */

/* Insert job (its id is ignored) and set job->id to the new row id.  Ids
 * are never reused, even after a delete. */
int yard_store_job_insert (yard_store_t *st, yard_job_t *job);

/* The id the next inserted job would get (past every id ever used), into
 * *id.  0 or -errno. */
int yard_store_job_next_id (yard_store_t *st, uint64_t *id);

/* Insert n jobs with the ids first_id, first_id + 1, ... (each job->id set
 * on success), 32 rows per statement: an array's members in a fraction of
 * the statements one insert each would take.  first_id comes from
 * yard_store_job_next_id in the same transaction, so the ids are the ones
 * single inserts would have been given; a clash fails the batch (a
 * constraint error), it never reuses an id.  0 or -errno (nothing set). */
int yard_store_jobs_insert (yard_store_t *st, yard_job_t **jobs, size_t n,
                            uint64_t first_id);

/* Write every durable field of job to its row.  -ENOENT: no such row. */
int yard_store_job_update (yard_store_t *st, const yard_job_t *job);

/* Read job id into a new job (*out, caller-owned).  -ENOENT: no such job;
 * -EIO: the stored spec does not decode. */
int yard_store_job_get (yard_store_t *st, uint64_t id, yard_job_t **out);

/* Delete a job row.  -ENOENT: no such row. */
int yard_store_job_delete (yard_store_t *st, uint64_t id);

/* Every non-terminal job, in id order. */
int yard_store_jobs_active (yard_store_t *st, yard_store_job_f cb, void *arg);

/* Terminal jobs, newest end time first, at most limit. */
int yard_store_jobs_finished (yard_store_t *st, uint32_t limit,
                              yard_store_job_f cb, void *arg);

/* ---- nodes ---- */

/* Insert or replace a node row. */
int yard_store_node_put (yard_store_t *st, const yard_store_node_t *row);

/* Every node row, by name. */
int yard_store_nodes (yard_store_t *st, yard_store_node_f cb, void *arg);

/* ---- transactions ---- */

/* Commit the open transaction, if any.  On failure the transaction is
 * rolled back and the error returned: none of its writes happened. */
int yard_store_commit (yard_store_t *st);

/* Roll back the open transaction, if any, and clear a write failure. */
void yard_store_rollback (yard_store_t *st);

/* True while a transaction is open (writes not yet committed). */
bool yard_store_in_txn (const yard_store_t *st);

/* SQLite's text for the last error ("" when none). */
const char *yard_store_errmsg (const yard_store_t *st);

/* For tests and emergencies: refuse to grow the database beyond about
 * bytes, as a full disk would (writes then fail with -ENOSPC).  0 lifts the
 * limit.  Returns 0 or a negative errno. */
int yard_store_limit_size (yard_store_t *st, uint64_t bytes);

#endif
