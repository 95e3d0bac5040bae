/* jobdir.h - an attempt's directory on disk, WORKDIR/jobs/<job_id>.<attempt>/,
 * and what survives a worker crash in it.
 *
 *   output.log  stdout and stderr of the job (what is shipped)
 *   started     "pid start_time_ms proc_start boot_id": the job's process
 *               (its process group and session), and enough to tell after
 *               a restart whether that pid is still our job, not a reuse
 *   pid         the pid alone: written by older workers, still read
 *   usage       the rusage the yard-exec shim collected (usage.h)
 *   result      how the attempt ended: a packed Yard__JobFinished behind
 *               a head with its length and sha256, written before it is
 *               first reported, made durable if it is not acknowledged
 *               at once (see below)
 *
 * An attempt dir with a `result` ended and waits for its JobFinishedAck; one
 * without was running when the worker died (an orphan).  On start the worker
 * scans jobs/ and recovers both kinds (jobdir_recover).  A finished attempt's
 * dir is renamed to a hidden ".trash-" name (atomic) before it is removed
 * or recycled for a later attempt (dirpool.h), so a crash in the middle
 * never resurrects it.
 *
 * Design note: the result is written in place, not through a temp file
 * and a rename.  The record is padded to a fixed size (4 KiB: a result
 * is a few hundred bytes) and written over the file from its start, then
 * fdatasync'd: in a dir from the pool the file already has that size and
 * its block, so the sync writes that one block and no inode, where the
 * rename wrote a new inode, the old one's release and the dir.  A crash
 * in the middle leaves a record whose sha256 does not match: read as
 * unreadable, which ends the attempt as lost, as a crash just before the
 * write would.  A spare dir's result holds a "none" marker; a result
 * without the head is an older worker's bare message, still read.
 *
 * The record is written (page cache) before JobFinished is first sent,
 * and fdatasync'd only when that JobFinished is not acknowledged by its
 * first resend (WORKER_FINISH_RESEND_MS), or at once while the worker
 * stops: a restarted worker (kill -9 included) reads it back either way,
 * and only a power cut within those seconds can lose it.  Then the
 * scheduler either has the report (committed before its acknowledgement)
 * or, when the node comes back without it, requeues the attempt as lost
 * with its node, as it does for a job that was running at the cut.  What
 * the sync bought, not re-running a job that had just ended on a node
 * that lost power, cost a disk flush per job: 20% of the rate of short
 * jobs.
 */
#ifndef WORKER_JOBDIR_H
#define WORKER_JOBDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "usage.h"
#include "yard.pb-c.h"

#define JOBDIR_LOG "output.log"
#define JOBDIR_PID "pid"
#define JOBDIR_STARTED "started"
#define JOBDIR_RESULT "result"
#define JOBDIR_USAGE "usage"
#define JOBDIR_TRASH_PREFIX ".trash-"
/* In a spare dir (dirpool.h): an empty dir kept for a checkpoint dir */
#define JOBDIR_SPARE_CKPT ".spare-checkpoint"

/* Collected outputs an attempt reports (JobSpec.collect is refused above
 * this many). */
#define JOBDIR_OUTPUTS_MAX 16
#define JOBDIR_OUTPUT_NAME_MAX 128

struct jobdir_output {
    char name[JOBDIR_OUTPUT_NAME_MAX];
    char digest[65];
    uint64_t size;
};

/* How an attempt ended (the fields of a JobFinished we own). */
struct jobdir_result {
    Yard__EndReason reason;
    int32_t exit_code;
    int32_t term_signal;
    int64_t start_time_ms;
    int64_t end_time_ms;
    uint64_t log_size; /* the final size of output.log: all that is shipped */
    char message[512];
    struct usage usage; /* what it used (nothing set: not measured) */
    /* its collected outputs, stored in the artifact store after it exited
     * 0: part of the result, so a restarted worker reports the same */
    size_t n_outputs;
    struct jobdir_output outputs[JOBDIR_OUTPUTS_MAX];
};

/* Point msgs/ptrs (JOBDIR_OUTPUTS_MAX each) at res's outputs for a
 * JobFinished; returns the count. */
size_t jobdir_result_outputs (const struct jobdir_result *res,
                              Yard__NamedDigest *msgs,
                              Yard__NamedDigest **ptrs);

/* Who the job's process is, written right after the spawn. */
struct jobdir_started {
    int pid;
    int64_t start_time_ms;
    uint64_t proc_start; /* /proc/PID/stat starttime, 0 when unknown */
    char boot_id[40];    /* /proc/sys/kernel/random/boot_id, "" if unknown */
};

/* "<job_id>.<attempt>" with both numbers > 0 and nothing else.  Returns 0
 * or -EINVAL. */
int jobdir_name_parse (const char *name, uint64_t *job_id, uint32_t *attempt);

/* buf = root/<job_id>.<attempt>.  Returns 0 or -ENAMETOOLONG. */
int jobdir_path (char *buf, size_t len, const char *root, uint64_t job_id,
                 uint32_t attempt);

/* Write / read the result file.  Reading checks that it names job_id and
 * attempt.  Returns 0, -ENOENT (no result), -EBADMSG (unreadable or another
 * attempt's), or another negative errno.  jobdir_result_write makes the
 * record durable (fdatasync); jobdir_result_save leaves it in the page
 * cache, and jobdir_result_sync makes it durable later. */
int jobdir_result_write (const char *dir, uint64_t job_id, uint32_t attempt,
                         const struct jobdir_result *res);
int jobdir_result_save (const char *dir, uint64_t job_id, uint32_t attempt,
                        const struct jobdir_result *res);
int jobdir_result_sync (const char *dir);
int jobdir_result_read (const char *dir, uint64_t job_id, uint32_t attempt,
                        struct jobdir_result *res);

/* Fill s->proc_start and s->boot_id for s->pid from /proc (left 0/"" when
 * unreadable). */
void jobdir_started_identify (struct jobdir_started *s);

/* Write the started file / read it (falling back to an older worker's pid
 * file alone).  Returns 0 or a negative errno. */
int jobdir_started_write (const char *dir, const struct jobdir_started *s);
int jobdir_started_read (const char *dir, struct jobdir_started *s);

/* True when the process group s->pid still exists and is the job's: its
 * leader is the very process we started (same start time, same boot), or
 * the leader is gone and members of its group remain (Linux does not hand
 * out a pid that is still a process group id). */
bool jobdir_group_alive (const struct jobdir_started *s);

/* Append one line, prefixed "yard-worker: ", to dir's output.log.  Returns 0
 * or a negative errno. */
int jobdir_note (const char *dir, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Size of dir's output.log (0 when it does not exist). */
uint64_t jobdir_log_size (const char *dir);

/* Bring an attempt dir found at start-up to a result: load its result, or,
 * when it has none (orphaned by a worker crash), SIGKILL its process group if
 * it is still ours, wait briefly for it to go, note that in the log, and
 * write a result END_LOST "worker restarted".  Returns 0 or a negative
 * errno (the dir cannot be written: the result is still filled). */
int jobdir_recover (const char *dir, uint64_t job_id, uint32_t attempt,
                    const char *node, struct jobdir_result *res);

/* Called by jobdir_scan for each attempt dir under root. */
typedef void (*jobdir_scan_f) (const char *dir, uint64_t job_id,
                               uint32_t attempt, void *arg);

/* Call cb for every attempt dir under root (in no set order), remove the
 * trash left by an interrupted removal, and skip (with a warning) other
 * entries.  Returns the number of attempt dirs or a negative errno. */
int jobdir_scan (const char *root, jobdir_scan_f cb, void *arg);

/* Rename dir to a trash name next to it (atomic), so that it is no longer
 * an attempt dir; the path of the trash goes to buf.  Returns 0 or a
 * negative errno. */
int jobdir_trash (const char *dir, char *buf, size_t len);

/* Remove path and everything under it (no symlinks followed).  Blocking:
 * call it from a thread pool for big trees.  Returns 0 or the first error. */
int jobdir_remove_tree (const char *path);

/* Make the attempt dir at path a spare one (dirpool.h), keeping its
 * inodes: output.log emptied, started holding no pid, result marked as
 * none, an empty JOBDIR_SPARE_CKPT kept; everything else removed.  0 or the first negative errno (what it
 * could not do is left; the caller removes the dir then). */
int jobdir_recycle (const char *path);

/* True when path is a directory with nothing in it. */
bool jobdir_is_empty (const char *path);

#endif
