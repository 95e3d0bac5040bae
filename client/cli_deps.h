/* cli_deps.h - parsing of `yard submit --after` and `--array`.
 *
 * Pure functions like the rest of cli_args.h: they fill a struct or fail
 * with a yard_error_t that says what to write instead
 * (tests/unit/test_cli_deps.c).
 */
#ifndef YARD_CLI_DEPS_H
#define YARD_CLI_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "yard/yard.h"

/* `--after JOB[:ok|:any|:notok][,JOB...]`: append each dependency to
 * *deps (realloc'd, caller frees), *n of them.  0 or -EINVAL/-ENOMEM
 * (*deps and *n unchanged on failure). */
int cli_add_after (const char *val, yard_dependency_t **deps, size_t *n,
                   yard_error_t *err);

/* `--array FIRST[-LAST[:STEP]][%MAX]`: set spec's array fields.  At most
 * 100000 indices.  0 or -EINVAL/-ERANGE. */
int cli_parse_array (const char *val, yard_job_spec_t *spec,
                     yard_error_t *err);

/* Add "array_id" and "array_index" (null when job is not in an array) to
 * the JSON object o of a job.  true, or false when out of memory. */
bool cli_deps_json (json_t *o, const yard_job_t *job);

/* The lines `yard status` adds for an array member: "array:  ID index
 * IDX" and, for the array's first job, "members: FIRST-LAST: N COMPLETED,
 * N RUNNING, ...". */
void cli_deps_print (FILE *out, const yard_job_t *job);

/* "FIRST-LAST: 990 COMPLETED, 8 RUNNING, 2 PENDING" (states in lifecycle
 * order, zero counts left out) into buf.  Returns buf. */
char *cli_deps_summary (const yard_job_t *job, char *buf, size_t len);

#endif
