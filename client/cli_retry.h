/* cli_retry.h - the yard CLI's side of retries, signals and attempt
 * history: parsing `--signal` and `--retry-exit-codes`, and rendering a
 * job's attempts (a table for people, an array in --json).
 *
 * Pure functions like cli_args.c and cli_render.c: nothing here connects
 * or exits (tests/unit/test_cli_retry.c).
 */
#ifndef YARD_CLI_RETRY_H
#define YARD_CLI_RETRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "yard/yard.h"

/* A signal by name or number: "USR1", "SIGUSR1", "usr1", "10", "RTMIN+2".
 * Returns 0 or -EINVAL with err. */
int cli_parse_signo (const char *s, int32_t *signo, yard_error_t *err);

/* A --signal value: "SIG" (the stop signal: *warn_s = 0, *is_warn false)
 * or "SIG@SECONDS" (a warning SECONDS before the time limit; a duration
 * such as 60, 90s or 5m is accepted).  Returns 0 or -EINVAL/-ERANGE. */
int cli_parse_signal (const char *s, int32_t *signo, bool *is_warn,
                      uint32_t *warn_s, yard_error_t *err);

/* A --retry-exit-codes value: "3,75" appended to *codes (realloc'd,
 * caller frees) and *n.  Codes are 1..255.  Returns 0 or -EINVAL/-ENOMEM
 * (then *codes and *n are as they were, or grown with valid codes). */
int cli_parse_exit_codes (const char *s, int32_t **codes, size_t *n,
                          yard_error_t *err);

/* The job's retry fields and attempts for --json: sets "retries",
 * "retries_used", "retry_backoff_s", "eligible_time_ms", "stop_signal",
 * "warn_signal", "warn_seconds", "requeue_on_timeout", "preemptible" and
 * "attempts" (an array of {attempt, node, start_time_ms, start_time,
 * end_time_ms, end_time, runtime_ms, end_reason, exit_code, term_signal,
 * reason}) in o.  Returns false on ENOMEM. */
bool cli_retry_json (json_t *o, const yard_job_t *job);

/* The retry lines of `yard status` and its table of attempts: ATTEMPT
 * NODE STARTED RUNTIME ENDED-BECAUSE.  Returns 0 or -EIO/-ENOMEM. */
int cli_print_attempts (FILE *out, const yard_job_t *job, int64_t now_ms);

#endif
