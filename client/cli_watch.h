/* cli_watch.h - `yard watch JOB`: a live view of one job until it ends. */
#ifndef YARD_CLI_WATCH_H
#define YARD_CLI_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli_args.h"
#include "yard/yard.h"

/* What one update shows, derived from the job and what earlier updates
 * saw (the step rate needs two points in time). */
struct cli_watch_view {
    int64_t elapsed_ms;
    bool has_step;
    int64_t step;        /* highest step of the latest metric points */
    int64_t step_time_ms;
    bool has_total;
    int64_t total_steps; /* the latest "total_steps" value */
    bool has_rate;
    double steps_per_s;
    bool has_eta;
    int64_t eta_ms;
};

/* The step rate's memory: a reference point of the current attempt. */
struct cli_watch_rate {
    uint32_t attempt;
    bool has_ref;
    int64_t ref_step, ref_ms;
    int64_t last_step, last_ms;
    double rate;
    bool has_rate;
};

/* Derive the view of job at now_ms, advancing r. */
void cli_watch_view (const yard_job_t *job, int64_t now_ms,
                     struct cli_watch_rate *r, struct cli_watch_view *v);

/* One line: "12:00:01 job 42 RUNNING attempt 2 on w1 elapsed 3m step
 * 1200/5000 12.0/s eta 5m loss=0.31 cpu 1.20s ...".  Returns buf. */
const char *cli_watch_line (const yard_job_t *job,
                            const struct cli_watch_view *v, bool with_elapsed,
                            char *buf, size_t len);

/* The JSON object of one update; NULL on out of memory. */
json_t *cli_watch_json (const yard_job_t *job, const struct cli_watch_view *v,
                        int64_t now_ms);

/* {"key": value, ...} of job->latest_metrics; NULL on out of memory. */
json_t *cli_latest_json (const yard_job_t *job);

/* Run the watch: print updates on out until the job ends; returns the
 * exit status of `yard wait` for the job, or a CLI error status. */
int cli_watch_run (yard_client_t *c, const struct cli_watch *w, bool json,
                   FILE *out, FILE *err);

#endif
