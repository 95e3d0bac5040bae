/* cli_usage.h - how `yard status` (and `yard watch`) show an attempt's
 * resource use: table, one-line summary and JSON. */
#ifndef YARD_CLI_USAGE_H
#define YARD_CLI_USAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "yard/yard.h"

/* True when u holds anything measured. */
bool cli_usage_any (const yard_usage_t *u);

/* "cpu 1.20s (user 1.00s, sys 0.20s)  rss 120 MiB (peak 130 MiB)  gpu 87%
 * 10 GiB (peak 12 GiB)", or "-" when nothing was measured.  Returns buf. */
const char *cli_usage_line (const yard_usage_t *u, char *buf, size_t len);

/* The JSON of u: an object, or null when nothing was measured.  NULL on
 * out of memory. */
json_t *cli_usage_json (const yard_usage_t *u);

/* The table of the attempts' resource use (nothing when none has any).
 * 0 or -errno. */
int cli_print_usage (FILE *out, const yard_job_t *job);

#endif
