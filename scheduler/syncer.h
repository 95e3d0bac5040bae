/* syncer.h - group commit: the state store's commits made durable on a
 * thread of their own.
 *
 * The event loop commits a batch without waiting for the disk (SQLite in
 * WAL mode with synchronous=NORMAL writes the WAL and returns), numbers
 * the commit, and asks for that number with yard_syncer_want().  The
 * syncer's thread calls the sync function (an fdatasync of the WAL) for
 * the highest number asked so far and tells the loop, through a
 * uv_async_t, the highest number now durable: on_durable(seq, 0).  Commits
 * made while a sync runs are covered together by the next one, so under
 * load one fdatasync covers several batches, and the loop goes on
 * reading, deciding and committing while the disk works.  Whoever commits
 * holds every message that depends on a commit until its number is
 * reported durable (server.c): nothing is acknowledged before then.
 *
 * A failed sync is final: the data it should have covered may or may not
 * be on the disk (after a failed fsync the kernel's page cache no longer
 * says), so the syncer stops and reports on_durable(last durable, -errno)
 * once; the caller must not acknowledge anything more.
 */
#ifndef YARD_SCHED_SYNCER_H
#define YARD_SCHED_SYNCER_H

#include <stdint.h>
#include <uv.h>

#include "error.h"

typedef struct yard_syncer yard_syncer_t;

/* Runs on the syncer's thread: make every commit returned before the call
 * durable.  0 or -errno. */
typedef int (*yard_syncer_sync_f) (void *arg);

/* Runs on the loop: every number up to seq is durable (rc 0), or the
 * syncer failed with rc (-errno) and seq is the last number made
 * durable. */
typedef void (*yard_syncer_durable_f) (uint64_t seq, int rc, void *arg);

/* Start the thread.  NULL with errno set and err filled. */
yard_syncer_t *yard_syncer_create (uv_loop_t *loop, yard_syncer_sync_f sync,
                                   void *sync_arg,
                                   yard_syncer_durable_f on_durable,
                                   void *cb_arg, yard_error_t *err);

/* Ask for every number up to seq to be made durable (numbers only grow;
 * a smaller one than asked before is ignored).  Cheap: a lock and, when
 * the thread sleeps, a wake-up. */
void yard_syncer_want (yard_syncer_t *y, uint64_t seq);

/* Report a sync that ended now, rather than when the loop gets to its
 * wake-up: the loop may be in the middle of a long batch.  Calls
 * on_durable as the wake-up would (never twice for a number), but only
 * for a success: a failure is reported by the wake-up alone, outside the
 * caller's work.  Cheap: a lock. */
void yard_syncer_poll (yard_syncer_t *y);

/* Stop: the sync in progress ends, no new one starts, the thread is
 * joined, no callback runs after this, and the handle is closed (freed
 * by the loop, which must run once more).  Returns the last number made
 * durable.  Accepts NULL (returns 0); NULLs the pointer. */
uint64_t yard_syncer_close (yard_syncer_t **yp);

#endif
