/* cli_nodeadmin.h - the yard CLI's side of node administration: parsing
 * `yard nodes drain|resume|label|unlabel|remove NODE ...` and rendering
 * a node's administration fields (displayed state, labels, reason) for
 * people and for --json.
 *
 * Pure functions like cli_args.c and cli_render.c: nothing here connects
 * or exits (tests/unit/test_cli_nodeadmin.c).
 */
#ifndef YARD_CLI_NODEADMIN_H
#define YARD_CLI_NODEADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "yard/yard.h"

struct cli_nodeadmin {
    enum yard_node_action action;
    const char *verb;    /* "drain", ... (static) */
    const char *node;    /* borrowed from argv */
    const char *reason;  /* --reason, borrowed; NULL: none */
    const char **labels; /* owned array of borrowed strings */
    size_t n_labels;
    bool requeue;        /* drain --requeue: stop and requeue its jobs */
    bool json;
    bool help;
};

/* Is word one of the administration verbs of `yard nodes`? */
bool cli_nodeadmin_is_verb (const char *word);

/* argv[0] is "nodes", argv[1] the verb.  Free with cli_nodeadmin_clear
 * (also after a failure).  0 or -EINVAL/-ENOMEM with err. */
int cli_parse_nodeadmin (int argc, char **argv, struct cli_nodeadmin *a,
                         yard_error_t *err);
void cli_nodeadmin_clear (struct cli_nodeadmin *a);

/* Add "display_state", "drain", "labels", "state_reason" and
 * "state_since_ms" to o.  false on ENOMEM. */
bool cli_node_admin_json (json_t *o, const yard_node_t *node);

/* The labels joined by ',' into buf ("-" when none).  Returns buf. */
const char *cli_node_labels (const yard_node_t *node, char *buf, size_t len);

/* One line for people after an action: "node w1: drained (reason)". */
int cli_print_nodeadmin (FILE *out, const struct cli_nodeadmin *a,
                         const yard_node_t *node);

/* Does the job run on node: its current attempt's node, or one of its gang
 * nodes (as yard_job_status gives them)? */
bool cli_job_on_node (const yard_job_t *job, const char *node);

#endif
