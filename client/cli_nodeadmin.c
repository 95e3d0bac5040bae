/* cli_nodeadmin.c - `yard nodes drain|resume|label|unlabel|remove` parsing
 * and the rendering of a node's administration fields (see
 * cli_nodeadmin.h).
 *
 * The verbs sit under `yard nodes` (not new top-level commands) because
 * they act on what `yard nodes` lists; cli_commands.c hands argv here when
 * its first operand is one of them.
 */
#include "cli_nodeadmin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct verb {
    const char *name;
    enum yard_node_action action;
} verbs[] = {
    { "drain", YARD_NODE_DRAIN },   { "resume", YARD_NODE_RESUME },
    { "label", YARD_NODE_LABEL },   { "unlabel", YARD_NODE_UNLABEL },
    { "remove", YARD_NODE_REMOVE },
};

static const struct verb *
find_verb (const char *word)
{
    for (size_t i = 0; word && i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp (word, verbs[i].name) == 0)
            return &verbs[i];
    return NULL;
}

bool
cli_nodeadmin_is_verb (const char *word)
{
    return find_verb (word) != NULL;
}

void
cli_nodeadmin_clear (struct cli_nodeadmin *a)
{
    if (!a)
        return;
    free (a->labels);
    a->labels = NULL;
    a->n_labels = 0;
}

int
cli_parse_nodeadmin (int argc, char **argv, struct cli_nodeadmin *a,
                     yard_error_t *err)
{
    memset (a, 0, sizeof *a);
    const struct verb *v = argc >= 2 ? find_verb (argv[1]) : NULL;
    if (!v)
        return yard_errorf (err, EINVAL, "unknown node action");
    a->action = v->action;
    a->verb = v->name;
    bool opts = true;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (opts && strcmp (arg, "--") == 0) {
            opts = false;
        } else if (opts
                   && (strcmp (arg, "--help") == 0
                       || strcmp (arg, "-h") == 0)) {
            a->help = true;
        } else if (opts && strcmp (arg, "--json") == 0) {
            a->json = true;
        } else if (opts
                   && (strcmp (arg, "--reason") == 0
                       || strncmp (arg, "--reason=", 9) == 0)) {
            if (a->action != YARD_NODE_DRAIN)
                return yard_errorf (err, EINVAL,
                                    "--reason is for "
                                    "'yard nodes drain'");
            if (arg[8] == '=')
                a->reason = arg + 9;
            else if (i + 1 < argc)
                a->reason = argv[++i];
            else
                return yard_errorf (err, EINVAL, "--reason needs a text");
        } else if (opts && strcmp (arg, "--requeue") == 0) {
            if (a->action != YARD_NODE_DRAIN)
                return yard_errorf (err, EINVAL,
                                    "--requeue is for "
                                    "'yard nodes drain'");
            a->requeue = true;
        } else if (opts && arg[0] == '-' && arg[1] != '\0') {
            return yard_errorf (err, EINVAL,
                                "unknown option '%s' for "
                                "'yard nodes %s'",
                                arg, a->verb);
        } else if (!a->node) {
            a->node = arg;
        } else if (a->action == YARD_NODE_LABEL
                   || a->action == YARD_NODE_UNLABEL) {
            const char **l
                = realloc (a->labels, (a->n_labels + 1) * sizeof l[0]);
            if (!l)
                return yard_errorf (err, ENOMEM, "out of memory");
            a->labels = l;
            a->labels[a->n_labels++] = arg;
        } else {
            return yard_errorf (err, EINVAL,
                                "unexpected argument '%s': "
                                "yard nodes %s NODE",
                                arg, a->verb);
        }
    }
    if (a->help)
        return 0;
    if (!a->node)
        return yard_errorf (err, EINVAL, "yard nodes %s needs a node name",
                            a->verb);
    if ((a->action == YARD_NODE_LABEL || a->action == YARD_NODE_UNLABEL)
        && a->n_labels == 0)
        return yard_errorf (err, EINVAL, "yard nodes %s NODE %s", a->verb,
                            a->action == YARD_NODE_LABEL ? "KEY[=VALUE]..."
                                                         : "KEY...");
    if (a->action == YARD_NODE_UNLABEL)
        for (size_t i = 0; i < a->n_labels; i++)
            if (strchr (a->labels[i], '='))
                return yard_errorf (err, EINVAL,
                                    "unlabel takes keys, not "
                                    "'%s'",
                                    a->labels[i]);
    return 0;
}

static bool
jset (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

bool
cli_node_admin_json (json_t *o, const yard_node_t *node)
{
    json_t *labels = json_array ();
    if (!labels)
        return false;
    for (size_t i = 0; i < node->n_labels; i++)
        if (json_array_append_new (labels, json_string (node->labels[i]))
            < 0) {
            json_decref (labels);
            return false;
        }
    return jset (o, "labels", labels)
           && jset (o, "display_state",
                    json_string (yard_node_display_state (node)))
           && jset (o, "drain", json_boolean (node->drain))
           && jset (o, "state_reason",
                    json_string (node->state_reason ? node->state_reason : ""))
           && jset (o, "state_since_ms",
                    json_integer ((json_int_t)node->state_since_ms));
}

const char *
cli_node_labels (const yard_node_t *node, char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < node->n_labels; i++) {
        int n = snprintf (buf + off, len - off, "%s%s", i ? "," : "",
                          node->labels[i]);
        if (n < 0 || (size_t)n >= len - off) {
            /* cut: mark it rather than show half a label silently */
            if (len >= 4)
                memcpy (buf + len - 4, "...", 4);
            return buf;
        }
        off += (size_t)n;
    }
    if (off == 0)
        snprintf (buf, len, "-");
    return buf;
}

int
cli_print_nodeadmin (FILE *out, const struct cli_nodeadmin *a,
                     const yard_node_t *node)
{
    int n;
    if (!node)
        n = fprintf (out, "node %s removed\n", a->node);
    else {
        char labels[512];
        const char *r = node->state_reason ? node->state_reason : "";
        n = fprintf (out, "node %s: %s%s%s%s, labels: %s\n", node->name,
                     yard_node_display_state (node), *r ? " (" : "", r,
                     *r ? ")" : "",
                     cli_node_labels (node, labels, sizeof labels));
    }
    return n < 0 ? -EIO : 0;
}

bool
cli_job_on_node (const yard_job_t *job, const char *node)
{
    if (!job || !node)
        return false;
    if (job->node && strcmp (job->node, node) == 0)
        return true;
    for (size_t i = 0; i < job->n_gang; i++)
        if (job->gang[i].node && strcmp (job->gang[i].node, node) == 0)
            return true;
    return false;
}
