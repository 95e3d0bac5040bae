/* logship.h - which part of an attempt's log the scheduler holds, and which
 * chunk to send next.
 *
 * Pure bookkeeping, no I/O: the worker asks logship_next() what to send given
 * the log file's size and the time, sends it, and feeds back the scheduler's
 * LogAck.  At most one chunk is in flight per attempt; an unanswered chunk is
 * sent again from the acknowledged offset after LOGSHIP_ACK_TIMEOUT_MS.  The
 * scheduler's answer is the size it holds, so it is taken as it comes, even
 * when it goes backwards (a scheduler that lost its tail after a crash): a
 * lost chunk or ack costs a resend, never a gap or a duplicate.
 */
#ifndef WORKER_LOGSHIP_H
#define WORKER_LOGSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGSHIP_CHUNK_MAX (256u * 1024)
#define LOGSHIP_ACK_TIMEOUT_MS 3000

struct logship {
    uint64_t acked;    /* the scheduler holds [0, acked) */
    bool in_flight;    /* a chunk was sent and is not answered yet */
    uint64_t sent_end; /* end offset of the chunk in flight */
    int64_t sent_ms;   /* monotonic time it was sent */
};

void logship_init (struct logship *ls);

/* What to send now, given that the log holds size bytes.  Returns true with
 * the chunk [*off, *off + *len) when one is due: nothing in flight and data
 * beyond acked, or the chunk in flight went unanswered for the timeout (then
 * the resend starts again at acked).  *len is at most LOGSHIP_CHUNK_MAX. */
bool logship_next (const struct logship *ls, uint64_t size, int64_t now_ms,
                   uint64_t *off, size_t *len);

/* Record that [off, off + len) went out at now_ms (also when the send
 * failed: the timeout then retries it, without a busy loop). */
void logship_sent (struct logship *ls, uint64_t off, size_t len,
                   int64_t now_ms);

/* The scheduler says it holds [0, next_offset) of a log of size bytes.
 * Clears the chunk in flight.  A next_offset beyond size cannot be true
 * (the scheduler holds only what we sent); it is clamped to size and the
 * function returns -ERANGE so the caller can log it; otherwise 0. */
int logship_ack (struct logship *ls, uint64_t next_offset, uint64_t size);

/* Forget the chunk in flight so the next logship_next() resends from acked
 * at once (after a (re)register: whatever was in flight may be lost). */
void logship_rewind (struct logship *ls);

/* True when the scheduler holds the whole log of final_size bytes. */
bool logship_complete (const struct logship *ls, uint64_t final_size);

#endif
