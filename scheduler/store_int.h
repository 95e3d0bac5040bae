/* store_int.h - what store.c shares with store_metrics.c.  Not an
 * interface: the two files are one object (the store) split by topic. */
#ifndef YARD_SCHED_STORE_INT_H
#define YARD_SCHED_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* Schema version 2: the metrics tables (store_metrics.c).  Applied by
 * store.c to databases older than 2, in the schema transaction. */
extern const char yard__store_metrics_schema[];

/* Schema version 3: the attempts table (store_attempts.c), likewise. */
extern const char yard__store_attempts_schema[];

/* A dispatch in its attempt's row alone (store.c, the header comment): a
 * PENDING row of `jobs j` (state 1) joined, as `a`, with the unended row
 * of its next attempt, if any. */
#define YARD__STORE_DISPATCHED_JOIN                                         \
    " LEFT JOIN attempts a ON j.state = 1 AND a.job_id = j.id"              \
    " AND a.attempt = j.attempt + 1 AND a.end_ms = 0"
/* The job's state so read, over that join: the row's own, or ASSIGNED,
 * or RUNNING once the attempt's row has a start. */
#define YARD__STORE_STATE_SQL                                               \
    "CASE WHEN a.job_id IS NULL THEN j.state"                               \
    " WHEN a.start_ms > 0 THEN 3 ELSE 2 END"
_Static_assert (YARD__JOB_STATE__JOB_PENDING == 1
                    && YARD__JOB_STATE__JOB_ASSIGNED == 2
                    && YARD__JOB_STATE__JOB_RUNNING == 3,
                "YARD__STORE_DISPATCHED_JOIN and YARD__STORE_STATE_SQL name "
                "the job states by number");

/* Fill job->retries_used and job->eligible_ms from its attempt rows
 * (store_attempts.c).  0 or -errno. */
int yard__store_attempts_load (yard_store_t *st, yard_job_t *job);

sqlite3 *yard__store_db (yard_store_t *st);

/* A prepared statement for sql, from the store's cache (reset, bindings
 * cleared) or prepared now; give it back with yard__store_release (never
 * sqlite3_finalize).  A statement still held is not handed out twice.
 * Returns 0 or -errno (recorded as the store's failure). */
int yard__store_prepare (yard_store_t *st, const char *sql,
                         sqlite3_stmt **out);
void yard__store_release (yard_store_t *st, sqlite3_stmt *s);

/* Before each write: refuse after a failure, open the batch transaction.
 * After each write: remember a failure.  Both return rc / 0 or -errno. */
int yard__store_write_begin (yard_store_t *st);
int yard__store_write_end (yard_store_t *st, int rc);

/* Record SQLite's message for rc, return the errno. */
int yard__store_fail (yard_store_t *st, int rc);

#endif
