/* cli_args.h - command-line parsing of the yard CLI.
 *
 * Pure functions: they read argv (and, for `--env KEY`, the environment)
 * and fill a struct, or fail with a yard_error_t that says what is wrong and
 * what to write instead.  Nothing here prints, connects or exits, so every
 * case is unit-tested (tests/unit/test_cli_args.c).
 *
 * Options take the forms `--opt VALUE` and `--opt=VALUE`.  For every
 * command, argv[0] is the command's name.
 */
#ifndef YARD_CLI_ARGS_H
#define YARD_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yard/yard.h"

/* Options before the command name. */
struct cli_global {
    const char *scheduler; /* --scheduler, NULL: $YARD_SCHEDULER or default */
    int timeout_ms;        /* --timeout, 0: the library's default */
    bool json;
    bool help;
    bool version;
    int cmd_index;         /* argv index of the command name, argc if none */
};

/* Parse argv[1..] up to the command name.  Returns 0 or -EINVAL. */
int cli_parse_global (int argc, char **argv, struct cli_global *g,
                      yard_error_t *err);

/* `--timeout` and `wait --timeout` values: a duration (yard_parse_duration)
 * or milliseconds written "NNNms".  Returns 0 or -EINVAL/-ERANGE. */
int cli_parse_timeout (const char *s, int64_t *ms, yard_error_t *err);

/* A job id: a positive decimal number. */
int cli_parse_job_id (const char *s, uint64_t *id, yard_error_t *err);

struct cli_submit {
    yard_job_spec_t spec;  /* argv points into the parsed argv; env into
                              env_store */
    bool json;
    bool help;
    char **env_store;      /* owned "KEY=VALUE" strings */
    int32_t *exit_codes;   /* owned: spec.retry_exit_codes */
    yard_dependency_t *deps; /* owned: spec.after (cli_deps.h) */
    char **constraints;    /* owned array (strings borrowed from argv):
                              spec.constraints */
    yard_stage_in_t *stage_in; /* owned, paths owned: spec.stage_in */
    char **collect;        /* owned array (borrowed strings): spec.collect */
};

/* `submit [OPTIONS] [--] CMD [ARGS...]`.  Free with cli_submit_clear (also
 * after a failure). */
int cli_parse_submit (int argc, char **argv, struct cli_submit *s,
                      yard_error_t *err);
void cli_submit_clear (struct cli_submit *s);

/* `status JOB`, `cancel [--array] JOB` */
struct cli_job_args {
    uint64_t job_id;
    bool array;            /* cancel --array: job_id is an array id */
    bool json;
    bool help;
};
int cli_parse_job_args (int argc, char **argv, struct cli_job_args *a,
                        yard_error_t *err);

/* `queue [--all] [--limit N]` */
struct cli_queue {
    bool all;
    uint32_t limit;
    bool json;
    bool help;
};
int cli_parse_queue (int argc, char **argv, struct cli_queue *q,
                     yard_error_t *err);

/* `nodes` and `nodes show NODE` */
struct cli_nodes {
    bool json;
    bool help;
    const char *show; /* `show NODE`: the node (borrowed from argv) */
};
int cli_parse_nodes (int argc, char **argv, struct cli_nodes *n,
                     yard_error_t *err);

/* `logs JOB [-f] [--attempt N]` */
struct cli_logs {
    uint64_t job_id;
    bool follow;
    uint32_t attempt;      /* 0: the latest */
    bool json;
    bool help;
};
int cli_parse_logs (int argc, char **argv, struct cli_logs *l,
                    yard_error_t *err);

/* `wait JOB [--timeout DUR]` */
struct cli_wait {
    uint64_t job_id;
    int64_t timeout_ms;    /* -1: forever */
    bool json;
    bool help;
};
int cli_parse_wait (int argc, char **argv, struct cli_wait *w,
                    yard_error_t *err);

/* `metrics JOB [--key K] [--all] [--json|--csv]` */
struct cli_metrics {
    uint64_t job_id;
    const char *key;       /* NULL: every key (borrowed from argv) */
    bool all;              /* include superseded points */
    bool json;
    bool csv;
    bool help;
};
int cli_parse_metrics (int argc, char **argv, struct cli_metrics *m,
                       yard_error_t *err);

/* `submit-many [FILE|-] [--json]`: FILE (standard input when there is
 * none, or "-") holds one job per line, written as what follows `yard
 * submit` (cli_split_words). */
struct cli_submit_many {
    const char *file; /* NULL: standard input */
    bool json;
    bool help;
};
int cli_parse_submit_many (int argc, char **argv, struct cli_submit_many *m,
                           yard_error_t *err);

/* Split line into words as a shell would, expanding nothing: blanks
 * (space, tab, newline) separate words; '...' keeps everything in it as it
 * is; "..." too, but for \" and \\, which stand for " and \; outside
 * quotes a backslash keeps the next character as it is.  *words is
 * NULL-terminated and one allocation with the strings (free(*words)), *n
 * the number of words.  0, or a negative errno with err filled (-EINVAL:
 * an unterminated quote or a backslash at the end). */
int cli_split_words (const char *line, char ***words, int *n,
                     yard_error_t *err);

/* `watch JOB [--interval DUR] [--plain] [--json]` */
struct cli_watch {
    uint64_t job_id;
    int64_t interval_ms;   /* refresh of metrics and resource use */
    bool plain;            /* line output even on a terminal */
    bool json;
    bool help;
};
int cli_parse_watch (int argc, char **argv, struct cli_watch *w,
                     yard_error_t *err);

/* `events [--job J] [--nodes] [--count N] [--json]` */
struct cli_events {
    uint64_t job_id;       /* 0: every job */
    bool nodes;            /* node state changes too */
    bool pipelines;        /* pipeline run and step state changes too */
    uint64_t run_id;       /* only this pipeline run's changes (0: none) */
    uint64_t count;        /* stop after this many events (0: never) */
    bool json;
    bool help;
};
int cli_parse_events (int argc, char **argv, struct cli_events *ev,
                      yard_error_t *err);

/* `help [COMMAND]` */
struct cli_help {
    const char *topic;     /* NULL: the general help */
};
int cli_parse_help (int argc, char **argv, struct cli_help *h,
                    yard_error_t *err);

#endif
