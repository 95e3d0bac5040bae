/* metrics.h - an attempt's metrics: the pipe the job writes them to, the
 * spool file they are kept in, and which of them the scheduler holds.
 *
 * The job gets the write end of a pipe as fd 3 (YARD_METRICS_FD=3).  The
 * worker reads the other end whenever there is data, whatever the state of
 * the link to the scheduler, so a job is never held up by a full pipe for
 * longer than one loop turn: each line is parsed (metricline.h) and appended
 * to metrics.spool in the attempt dir (made with the first line), which lives until the attempt's
 * JobFinished is acknowledged, so metrics survive a scheduler outage and a
 * worker restart.  Line number seq (from 0) is the line's identity.
 *
 * Shipping mirrors log shipping (logship.h), counting lines instead of
 * bytes: one MetricsBatch in flight, resent from the acknowledged seq after
 * LOGSHIP_ACK_TIMEOUT_MS or a re-register.
 *
 * Spool format: one JSON object per job line, {"q":seq,"t":time_ms,
 * "s":step,"p":{"key":value,...}} or {"q":seq,"m":1} for a malformed line.
 */
#ifndef WORKER_METRICS_H
#define WORKER_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "logship.h"
#include "yard.pb-c.h"

#define METRICS_SPOOL "metrics.spool"
#define METRICS_CHILD_FD 3
#define METRICS_BATCH_MAX (256u * 1024)  /* encoded points per batch */

struct metrics;

/* New metrics for a starting attempt: creates dir/metrics.spool (empty) and
 * the pipe.  *child_fd is the write end to hand to the job (close it with
 * metrics_spawned once the job has it).  NULL with errno set. */
struct metrics *metrics_create (uv_loop_t *loop, const char *dir,
                                uint64_t job_id, uint32_t attempt,
                                int *child_fd);

/* The job was spawned (or not): close our copy of the write end and, when
 * spawned, start reading.  Returns 0 or a negative errno (reading failed:
 * the job's writes then fail with EPIPE, it is not blocked). */
int metrics_spawned (struct metrics *m, bool spawned);

/* The job's process is gone: read what is left in the pipe (without
 * blocking) and stop reading.  After this no new line arrives. */
void metrics_drain (struct metrics *m);

/* Metrics of an attempt found at worker start-up: load dir/metrics.spool
 * if there is one (a line cut short by a crash is dropped).  Never reads a
 * pipe.  NULL with errno set. */
struct metrics *metrics_recover (uv_loop_t *loop, const char *dir,
                                 uint64_t job_id, uint32_t attempt);

/* Called for a line that announces a checkpoint (metricline.h): entry is
 * the name inside the job's checkpoint dir (borrowed for the call), step
 * the announced one or -1. */
typedef void (*metrics_ckpt_f) (const char *entry, int64_t step, void *arg);

/* Check announcements against ckpt_dir (copied) and report them to cb.
 * Without it, a "checkpoint" member is checked as a relative path and
 * otherwise ignored.  0 or -ENAMETOOLONG. */
int metrics_on_checkpoint (struct metrics *m, const char *ckpt_dir,
                           metrics_ckpt_f cb, void *arg);

/* Lines read so far (the next seq), and malformed ones among them. */
uint64_t metrics_lines (const struct metrics *m);
uint64_t metrics_malformed (const struct metrics *m);

/* The batch to send now, if one is due (see logship_next): a message valid
 * until the next call or metrics_destroy; NULL when nothing is due or the
 * spool cannot be read (logged).  The caller sends it, then calls
 * metrics_sent. */
const Yard__MetricsBatch *metrics_next (struct metrics *m, int64_t now_ms);
void metrics_sent (struct metrics *m, const Yard__MetricsBatch *b,
                   int64_t now_ms);

/* The scheduler holds lines [0, next_seq).  Returns 0, or -ERANGE when it
 * claims more than there is (clamped). */
int metrics_ack (struct metrics *m, uint64_t next_seq);

/* Resend from the acknowledged seq at the next metrics_next (after a
 * (re)register). */
void metrics_rewind (struct metrics *m);

/* True when no line can arrive any more and the scheduler holds them all.
 * NULL (an attempt without metrics) is complete. */
bool metrics_complete (const struct metrics *m);

/* Close the pipe and the spool; memory is freed once the pipe handle is
 * closed.  The spool file stays (it goes with the attempt dir).  Accepts
 * NULL; NULLs the caller's pointer. */
void metrics_destroy (struct metrics **m);

#endif
