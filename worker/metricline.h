/* metricline.h - one line a job wrote to YARD_METRICS_FD, turned into
 * metric points.
 *
 * The contract: each line is one JSON object.  Every member with a numeric
 * value other than "step" is a point; its step is "step" when that is an
 * integer, else the last step this attempt reported, else 0.  Members with
 * other values ({"checkpoint": "ckpt-100.pt"}, {"phase": "eval"}) are
 * ignored: the line is fine, it just has no points.  A line that is not a
 * JSON object counts as malformed.  Pure functions, no I/O.
 */
#ifndef WORKER_METRICLINE_H
#define WORKER_METRICLINE_H

#include <stddef.h>
#include <stdint.h>

#define METRICLINE_MAX (64u * 1024)  /* longer lines are malformed */
#define METRICLINE_KEY_MAX 256       /* longer keys are ignored */

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

#endif
