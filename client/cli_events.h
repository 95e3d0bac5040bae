/* cli_events.h - `yard events`: print the scheduler's pushed events live. */
#ifndef YARD_CLI_EVENTS_H
#define YARD_CLI_EVENTS_H

#include <jansson.h>
#include <stdio.h>

#include "cli_args.h"
#include "yard/yard.h"

/* "job 42 PENDING -> RUNNING attempt 1 on w1" / "node w1 DOWN" /
 * "pipeline 3 step train completed" / "pipeline 3 completed".  Returns
 * buf. */
const char *cli_event_line (const yard_event_t *ev, char *buf, size_t len);

/* The JSON object of an event; NULL on out of memory. */
json_t *cli_event_json (const yard_event_t *ev);

/* Print events until --count is reached, the --job ended, or the
 * scheduler cannot be reached; returns a CLI exit status. */
int cli_events_run (yard_client_t *c, const struct cli_events *a, bool json,
                    FILE *out, FILE *err);

#endif
