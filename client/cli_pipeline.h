/* cli_pipeline.h - `yard pipeline ...` and `yard dataset ...`
 * (docs/pipelines.md). */
#ifndef YARD_CLI_PIPELINE_H
#define YARD_CLI_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "yard/yard.h"

/* argv[0] is "pipeline" / "dataset", argv[1] the subcommand.  json: the
 * global --json.  Return the exit status (cli_commands.h). */
int cli_pipeline_main (yard_client_t *c, int argc, char **argv, bool json,
                       FILE *out, FILE *err);
int cli_dataset_main (yard_client_t *c, int argc, char **argv, bool json,
                      FILE *out, FILE *err);

#endif
