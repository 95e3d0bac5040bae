/* store_gang.h - the nodes of each gang job's current/last attempt in
 * state.db's gang_part table: one row per rank with its node, its
 * Allocation there and whether its tasks started and finished, plus the
 * attempt's MASTER_ADDR/MASTER_PORT, so that a restarted scheduler knows
 * every node a running gang holds.
 *
 * Part of the store object (it shares its transaction, see store_int.h);
 * the table is created IF NOT EXISTS at every open, like job_alloc.
 */
#ifndef YARD_SCHED_STORE_GANG_H
#define YARD_SCHED_STORE_GANG_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "yard.pb-c.h"

typedef struct yard_store_gang_row {
    uint64_t job_id;
    uint32_t attempt;
    uint32_t rank;
    const char *node;
    const Yard__Allocation *alloc; /* may be NULL */
    bool started;
    bool finished;
    uint32_t port; /* MASTER_PORT, 0: not chosen yet */
    const char *master_addr;
    int64_t assigned_ms; /* unix ms of the dispatch */
} yard_store_gang_row_t;

/* Create the gang_part table if missing.  0 or -errno with err filled. */
int yard_store_gang_init (yard_store_t *st, yard_error_t *err);

/* Write one rank's row of an attempt.  0 or -errno. */
int yard_store_gang_put (yard_store_t *st, const yard_store_gang_row_t *row);

/* Update one rank's started/finished flags.  0 or -errno. */
int yard_store_gang_flags (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                           uint32_t rank, bool started, bool finished);

/* Record the attempt's MASTER_PORT.  0 or -errno. */
int yard_store_gang_port (yard_store_t *st, uint64_t job_id, uint32_t attempt,
                          uint32_t port);

/* Call fn for each row of job_id (every attempt), by attempt then rank
 * (borrowed for the call only).
 * A non-zero return of fn stops and is returned; else 0 or -errno. */
typedef int (*yard_store_gang_f) (const yard_store_gang_row_t *row, void *arg);
int yard_store_gang_get (yard_store_t *st, uint64_t job_id,
                         yard_store_gang_f fn, void *arg);

#endif
