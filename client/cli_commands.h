/* cli_commands.h - the yard CLI's commands and their dispatch.
 *
 * cli_run() is the whole program except main(): it parses the global
 * options, finds the command, runs it against the scheduler through libyard
 * and returns the exit status.  Output goes to the given streams, so tests
 * run the real CLI in-process and read what it printed.
 */
#ifndef YARD_CLI_COMMANDS_H
#define YARD_CLI_COMMANDS_H

#include <stdio.h>

#include "yard/yard.h"

/* Exit statuses (documented in `yard --help`). */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,        /* the scheduler refused or reported an error */
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_UNREACHABLE = 3,  /* no answer from the scheduler in time */
    CLI_EXIT_WAIT_TIMEOUT = 4, /* yard wait --timeout expired first */
    CLI_EXIT_JOB_TIMEOUT = 124,
    CLI_EXIT_JOB_CANCELLED = 125,
};

/* Run `yard argv[1..]`.  Returns the process exit status. */
int cli_run (int argc, char **argv, FILE *out, FILE *err);

/* The exit status of `yard wait` for a finished job: its exit code when it
 * exited, 128+N when killed by signal N, 124 TIMEOUT, 125 CANCELLED, 1 for
 * other failures. */
int cli_wait_exit_code (const yard_job_t *job);

#endif
