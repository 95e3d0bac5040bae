/* joblog.h - the job output the scheduler holds: one file per attempt,
 * STATE_DIR/logs/<job_id>/<attempt>.log.
 *
 * Workers ship output in chunks that carry their offset.  Appending keeps
 * the file a prefix of the worker's copy: only the part of a chunk beyond
 * the current size is written, and a chunk that starts past the end is
 * refused (the worker resends from the size we answer).  A failed or short
 * write leaves a shorter prefix, never a gap or a duplicate.
 *
 * Log data is not fsync'd: losing the tail of a log in a power cut costs a
 * resend at worst (the worker keeps its own copy until it is acknowledged),
 * and an fsync per chunk would throttle every job's output.
 */
#ifndef YARD_SCHED_JOBLOG_H
#define YARD_SCHED_JOBLOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct yard_joblog yard_joblog_t;

/* Logs under dir (created on demand).  NULL with errno set. */
yard_joblog_t *yard_joblog_create (const char *dir);

/* Accepts NULL; NULLs the pointer. */
void yard_joblog_destroy (yard_joblog_t **jl);

/* Append the part of chunk [offset, offset + len) beyond the current size
 * of the attempt's log.  *size is the size held afterwards (also on
 * error, as far as known).  Returns 0 or a negative errno (-ENOSPC, -EIO,
 * ...); a partial write still counts in *size. */
int yard_joblog_append (yard_joblog_t *jl, uint64_t job, uint32_t attempt,
                        uint64_t offset, const void *data, size_t len,
                        uint64_t *size);

/* Read up to max bytes at offset into buf.  *len is the count read, *size
 * the log's size (0 for a log that does not exist yet).  Returns 0 or a
 * negative errno. */
int yard_joblog_read (yard_joblog_t *jl, uint64_t job, uint32_t attempt,
                      uint64_t offset, void *buf, size_t max, size_t *len,
                      uint64_t *size);

#endif
