/* cli_render.h - how the yard CLI shows jobs and nodes.
 *
 * Two renderings of the same data: for people (key/value blocks and aligned
 * tables, states by name, local times, ages like "3m12s", sizes like
 * "1.5G") and for programs (JSON built with jansson: states by name, every
 * field of the job, times both as unix milliseconds and as ISO-8601 UTC
 * strings).  The current time is a parameter so that the output is
 * reproducible in tests.
 */
#ifndef YARD_CLI_RENDER_H
#define YARD_CLI_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yard/yard.h"

/* "2024-05-01T12:00:03.123Z" into buf (at least 32 bytes); "" for ms <= 0.
 * Returns buf. */
char *cli_time_iso (int64_t ms, char *buf, size_t len);

/* "2024-05-01 14:00:03" in the local time zone; "-" for ms <= 0. */
char *cli_time_local (int64_t ms, char *buf, size_t len);

/* The command as a shell would need it typed: words with spaces or special
 * characters in single quotes.  Returns a malloc'd string or NULL (ENOMEM). */
char *cli_shell_join (char *const *argv, size_t argc);

/* A copy of the len bytes at s as valid UTF-8: each byte that is not part of
 * a valid sequence becomes U+FFFD.  Returns a malloc'd, NUL-terminated
 * string (its length in *out_len when not NULL) or NULL on ENOMEM. */
char *cli_utf8_lossy (const char *s, size_t len, size_t *out_len);

/* A JSON string from possibly invalid UTF-8 (see cli_utf8_lossy).  NULL on
 * ENOMEM. */
json_t *cli_json_string (const char *s, size_t len);

/* A job, a node, or arrays of them as JSON.  New references, NULL on
 * ENOMEM. */
json_t *cli_job_json (const yard_job_t *job);
json_t *cli_jobs_json (const yard_job_t *jobs, size_t n);
json_t *cli_node_json (const yard_node_t *node);
json_t *cli_nodes_json (const yard_node_t *nodes, size_t n);

/* Print j and a newline: indented, or on one line when compact.  Returns 0
 * or -EIO. */
int cli_json_print (FILE *out, const json_t *j, bool compact);

/* How long the job has been what it is, for the queue's AGE/TIME column:
 * pending jobs their age since submission, started ones their runtime (up
 * to now, or to their end).  -1 when unknown. */
int64_t cli_job_elapsed_ms (const yard_job_t *job, int64_t now_ms);

/* `yard status`: a key/value block.  Returns 0 or a negative errno. */
int cli_print_job (FILE *out, const yard_job_t *job, int64_t now_ms);

/* `yard queue`: ID NAME STATE NODE CPUS AGE/TIME REASON. */
int cli_print_queue (FILE *out, const yard_job_t *jobs, size_t n,
                     int64_t now_ms);

/* `yard nodes`: NAME STATE CPUS MEM GPUS JOBS LAST-SEEN (used/total). */
int cli_print_nodes (FILE *out, const yard_node_t *nodes, size_t n,
                     int64_t now_ms);

#endif
