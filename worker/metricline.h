/* metricline.h - one line a job wrote to YARD_METRICS_FD, turned into
 * metric points.
 *
 * The contract: each line is one JSON object.  Every member with a numeric
 * value other than "step" is a point; its step is "step" when that is an
 * integer, else the last step this attempt reported, else 0.  Members with
 * other values ({"phase": "eval"}) are ignored: the line is fine, it just
 * has no points.  A line that is not a JSON object counts as malformed.
 *
 * A "checkpoint" member announces a checkpoint: its value is a path inside
 * the job's YARD_CHECKPOINT_DIR, absolute or relative to it; the entry of
 * the folder that holds it (its first part) is the checkpoint, and the
 * line's integer "step" (else -1: unknown) its step.  A "checkpoint" that
 * is not a string, or a path that leaves the folder (absolute elsewhere,
 * "..", the folder itself), makes the line malformed.  Pure functions, no
 * I/O: whether the entry exists is the caller's business.
 */
#ifndef WORKER_METRICLINE_H
#define WORKER_METRICLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICLINE_MAX (64u * 1024)  /* longer lines are malformed */
#define METRICLINE_KEY_MAX 256       /* longer keys are ignored */
#define METRICLINE_ENTRY_MAX 255     /* longest checkpoint entry name */

/* Called for each point of a line, in the line's member order; key is
 * borrowed for the call.  A non-zero return stops the walk and is returned
 * by metricline_parse. */
typedef int (*metricline_point_f) (int64_t step, const char *key,
                                   double value, void *arg);

/* Parse line[0..len) (no newline).  *last_step is the attempt's last step:
 * read when the line has no integer "step", updated when it has one.
 * Returns the number of points (0 for a line without numbers), -EBADMSG for
 * a malformed line (*last_step unchanged), -ENOMEM, or the callback's
 * non-zero return. */
int metricline_parse (const char *line, size_t len, int64_t *last_step,
                      metricline_point_f cb, void *arg);

/* A checkpoint announcement found on a line. */
struct metricline_ckpt {
    bool found;                            /* the line had "checkpoint" */
    char entry[METRICLINE_ENTRY_MAX + 1];  /* the folder's entry */
    int64_t step;                          /* the line's "step", or -1 */
};

/* metricline_parse, and the line's checkpoint announcement into *ck
 * (ck->found false when it has none), checked against ckpt_dir (the job's
 * YARD_CHECKPOINT_DIR, absolute).  An announcement outside ckpt_dir makes
 * the line malformed (-EBADMSG, no points, ck->found false). */
int metricline_parse_ckpt (const char *line, size_t len, int64_t *last_step,
                           const char *ckpt_dir, struct metricline_ckpt *ck,
                           metricline_point_f cb, void *arg);

/* The entry of dir that path (absolute, or relative to dir) names or lies
 * in, into entry[0..len).  0, or -EINVAL when path is empty, leaves dir or
 * names dir itself, -ENAMETOOLONG. */
int metricline_ckpt_entry (const char *dir, const char *path, char *entry,
                           size_t len);

#endif
