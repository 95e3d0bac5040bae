/* cli_many.h - `yard submit-many [FILE]`: one job per line of FILE (or of
 * standard input), each line written as what follows `yard submit`, all
 * submitted in one exchange (yard_submit_many). */
#ifndef YARD_CLI_MANY_H
#define YARD_CLI_MANY_H

#include <stdbool.h>
#include <stdio.h>

#include "cli_args.h"
#include "yard/yard.h"

/* Read the lines, submit the jobs that parse, print each line's job id
 * ("-" for one refused; with json, [{"line": N, "id": ID} or {"line": N,
 * "error": TEXT, "code": ERRNO}, ...]) and say on err why each refused
 * line was.  Returns 0 when every job was committed, 1 when some were
 * refused, 3 when the scheduler did not answer. */
int cli_submit_many_run (yard_client_t *c, const struct cli_submit_many *m,
                         bool json, FILE *out, FILE *err);

#endif
