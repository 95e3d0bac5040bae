/* cli_models.h - `yard model`, `yard schedule` and `yard trigger`: the
 * model registry and the pipelines started by cron schedules and by
 * dataset/model events. */
#ifndef YARD_CLI_MODELS_H
#define YARD_CLI_MODELS_H

#include <stdbool.h>
#include <stdio.h>

#include "yard/yard.h"

/* Whether argv (the command's words, argv[0] the command) asks for help. */
bool cli_models_wants_help (int argc, char **argv);

/* Run `yard model|schedule|trigger ...` (argv[0] says which) against c.
 * json: the global --json.  Returns the exit status (cli_commands.h). */
int cli_models_run (yard_client_t *c, int argc, char **argv, bool json,
                    FILE *out, FILE *err);

/* The command table's texts. */
#define CLI_MODEL_USAGE                                                    \
    "yard model register [--json] NAME PATH|DIGEST [--metric K=V]... "    \
    "[--job JOB]\n"                                                        \
    "       yard model list [--json]\n"                                    \
    "       yard model show [--json] NAME [--version V]\n"                 \
    "       yard model get NAME DEST [--version V]"
#define CLI_MODEL_SUMMARY "Register model versions, list, show and get them"
#define CLI_MODEL_HELP                                                     \
    "\n"                                                                   \
    "A model is a name with numbered versions (1, 2, ...).  Each version\n" \
    "keeps an artifact (a file or folder in the scheduler's artifact\n"    \
    "store), the metrics it was registered with, and the job and pipeline\n" \
    "run that produced it.  Pipelines register versions with a step's\n"   \
    "'register:' block (docs/pipelines.md).\n"                             \
    "\n"                                                                   \
    "'yard model register NAME PATH' uploads PATH (a file or a folder)\n"  \
    "and registers it; a 64-hex-digit DIGEST names an artifact already in\n" \
    "the store.  It prints the new version number.\n"                      \
    "'yard model list' shows every model's latest version.\n"              \
    "'yard model show NAME' shows every version of NAME, newest first.\n"  \
    "'yard model get NAME DEST' downloads the latest version (or\n"      \
    "--version V) to DEST, which must not exist.\n"                       \
    "\n"                                                                   \
    "options:\n"                                                           \
    "  -m, --metric K=V   a metric of the version (repeatable)\n"          \
    "  -j, --job JOB      the job that produced it: its latest metric\n"   \
    "                     values fill the keys not given with --metric\n"  \
    "  -v, --version V    show or get version V\n"                         \
    "  --json             machine-readable output\n"

#define CLI_SCHEDULE_USAGE                                                 \
    "yard schedule add [--json] NAME --cron EXPR FILE [--param K=V]...\n"   \
    "       yard schedule list [--json]\n"                                 \
    "       yard schedule remove NAME"
#define CLI_SCHEDULE_SUMMARY "Run a pipeline on a cron schedule"
#define CLI_SCHEDULE_HELP                                                  \
    "\n"                                                                   \
    "EXPR has 5 fields, minute hour day-of-month month day-of-week (UTC),\n" \
    "each *, N, A-B or a comma list of them, with an optional /STEP;\n"    \
    "@hourly, @daily, @weekly, @monthly and @yearly are accepted too.\n"   \
    "FILE is loaded now (its code files uploaded) and that pipeline runs\n" \
    "at every matching minute.  A scheduler that was down across matching\n" \
    "minutes runs the pipeline once when it starts, not once per missed\n" \
    "minute.\n"                                                            \
    "\n"                                                                   \
    "options:\n"                                                           \
    "  -c, --cron EXPR    when to run (quote it: it has spaces)\n"         \
    "  -p, --param K=V    override a pipeline parameter (repeatable)\n"    \
    "  --json             machine-readable output\n"

#define CLI_TRIGGER_USAGE                                                  \
    "yard trigger add [--json] NAME --on dataset:NAME|model:NAME FILE "     \
    "[--param K=V]...\n"                                                   \
    "       yard trigger list [--json]\n"                                  \
    "       yard trigger remove NAME"
#define CLI_TRIGGER_SUMMARY "Run a pipeline when a dataset or model changes"
#define CLI_TRIGGER_HELP                                                   \
    "\n"                                                                   \
    "--on dataset:NAME runs the pipeline of FILE each time the dataset\n"  \
    "gets a new version ('yard dataset add'); --on model:NAME each time a\n" \
    "version of the model is registered.  FILE is loaded now (its code\n"  \
    "files uploaded).\n"                                                   \
    "\n"                                                                   \
    "options:\n"                                                           \
    "  -o, --on EVENT     dataset:NAME or model:NAME\n"                    \
    "  -p, --param K=V    override a pipeline parameter (repeatable)\n"    \
    "  --json             machine-readable output\n"

#endif
