/* cli_artifact.h - `yard artifact put|get|stat`: store files and folders in
 * the scheduler's artifact store, fetch them back, and ask what it holds.
 *
 * Parsing and printing are pure (tests/unit/test_cli_artifact.c); running
 * takes a client that the caller connected.
 */
#ifndef YARD_CLI_ARTIFACT_H
#define YARD_CLI_ARTIFACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "yard/yard.h"

enum cli_artifact_verb {
    CLI_ARTIFACT_PUT = 1,
    CLI_ARTIFACT_GET = 2,
    CLI_ARTIFACT_STAT = 3,
};

struct cli_artifact {
    enum cli_artifact_verb verb;
    const char *path;    /* put: what to store; get: where (borrowed) */
    const char *digest;  /* get, stat (borrowed) */
    bool json;
    bool help;
};

/* argv[0] is "artifact".  0 or -EINVAL with err. */
int cli_parse_artifact (int argc, char **argv, struct cli_artifact *a,
                        yard_error_t *err);

/* The artifact as JSON: digest, kind ("file"/"tree"), size, files,
 * present, and sent/received bytes for put/get.  NULL on ENOMEM. */
json_t *cli_artifact_json (const struct cli_artifact *a,
                           const yard_artifact_t *art);

/* The human form: put prints "DIGEST  SIZE  KIND" on stdout (the digest
 * first, so that `cut -d' ' -f1` or `awk '{print $1}'` gets it). */
int cli_print_artifact (FILE *out, const struct cli_artifact *a,
                        const yard_artifact_t *art);

/* Add "outputs": [{name, digest, size}] to an attempt's JSON object.
 * false on ENOMEM. */
bool cli_outputs_json (json_t *o, const yard_attempt_t *a);

/* "outputs:" lines for people, one per collected output of each attempt
 * ("attempt 1  NAME  DIGEST  SIZE").  0 or -EIO. */
int cli_print_outputs (FILE *out, const yard_job_t *job);

/* Run the parsed command against c.  json: the global or the command's
 * --json.  Returns the exit status (cli_commands.h). */
int cli_artifact_run (yard_client_t *c, const struct cli_artifact *a,
                      bool json, FILE *out, FILE *err);

/* `yard checkpoints [--json] JOB` */
struct cli_checkpoints {
    uint64_t job_id;
    bool json;
    bool help;
};
int cli_parse_checkpoints (int argc, char **argv, struct cli_checkpoints *a,
                           yard_error_t *err);

/* A table (STEP SIZE TIME ATTEMPT NODE NAME DIGEST) or "no checkpoints
 * ...", and the JSON array.  0 or -EIO/-ENOMEM. */
int cli_print_checkpoints (FILE *out, const yard_checkpoint_t *v, size_t n);
json_t *cli_checkpoints_json (const yard_checkpoint_t *v, size_t n);

int cli_checkpoints_run (yard_client_t *c, const struct cli_checkpoints *a,
                         bool json, FILE *out, FILE *err);

#endif
