/* cli.h - yard-worker's command line: parsed, defaulted and validated into
 * one struct before anything starts.
 */
#ifndef WORKER_CLI_H
#define WORKER_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

/* Exit codes (documented in --help). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

#define CLI_NAME_MAX 63

struct cli_opts {
    char endpoint[1024];
    char name[CLI_NAME_MAX + 1];
    char workdir[PATH_MAX];
    char checkpoint_root[PATH_MAX]; /* "" : WORKDIR/checkpoints */
    uint32_t cpus;
    bool cpus_given; /* --cpus: keep it over the topology's PUs */
    uint64_t memory_bytes;
    bool insecure;
    char advertise_addr[256];       /* gang MASTER_ADDR when rank 0 is here */
    int log_level;
    bool use_syslog;
    char health_check[4096];        /* --health-check CMD; "" : none */
    uint64_t health_interval_ms;    /* --health-interval (default 60s) */
    uint64_t health_timeout_ms;     /* --health-timeout (default 30s) */
    bool help;    /* --help: print cli_usage() and exit 0 */
    bool version; /* --version: print the version and exit 0 */
};

/* Parse argv into opts, filling the defaults (hostname, work dir from
 * XDG_STATE_HOME or HOME, online CPUs, physical memory).  Returns 0, or
 * -EINVAL with err saying what is wrong (exit CLI_EXIT_USAGE).  With
 * --help or --version it returns 0 at once with the flag set. */
int cli_parse (int argc, char **argv, struct cli_opts *opts,
               yard_error_t *err);

/* A node name: 1-63 characters of [A-Za-z0-9._-], not starting with '.' or
 * '-' (it names a directory and appears in logs and tables). */
bool cli_name_valid (const char *name);

void cli_usage (FILE *f);

#endif
