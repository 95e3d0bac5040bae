/* cli_metrics.h - `yard metrics`: fetch a job's metrics and print them as a
 * summary with a plot per key, as CSV, or as JSON. */
#ifndef YARD_CLI_METRICS_H
#define YARD_CLI_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_args.h"
#include "yard/yard.h"

#define CLI_METRICS_PLOT_WIDTH 60 /* columns of a sparkline (<= 72 in all) */

/* Run `yard metrics` with parsed args against client c.  json: the global
 * or the command's --json.  Returns the exit status (cli_commands.h). */
int cli_metrics_run (yard_client_t *c, const struct cli_metrics *a, bool json,
                     FILE *out, FILE *err);

/* Print the summary of points (as yard_metrics returns them: by key, then
 * step) for people.  utf8: draw the plot with block characters, else
 * ASCII.  Returns 0 or -EIO. */
int cli_metrics_print (FILE *out, const yard_metric_t *points, size_t n,
                       uint64_t malformed, bool utf8);

/* CSV (attempt,step,key,value,time_ms with a header) and JSON (an array
 * of objects, one per line).  Return 0, -EIO or -ENOMEM. */
int cli_metrics_csv (FILE *out, const yard_metric_t *points, size_t n);
int cli_metrics_json (FILE *out, const yard_metric_t *points, size_t n);

#endif
