/* nodeadmin.c - libyard's node administration: yard_node_admin (a
 * NodeAdminRequest answered by a NodesReply holding the node), the
 * administration fields of yard_node_t, and the state shown to people.
 *
 * The displayed state is computed here rather than by the scheduler so
 * that every client (CLI, JSON, Python) derives it from the same fields
 * the same way, and the wire keeps only facts (state, drain, jobs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "msg.h"
#include "types.h"
#include "yard/yard.h"

int
yard__node_admin_from_proto (const Yard__NodeInfo *in, yard_node_t *out)
{
    out->drain = in->drain;
    out->state_since_ms = in->state_since_ms;
    if (!(out->state_reason
          = strdup (in->state_reason ? in->state_reason : "")))
        return -ENOMEM;
    if (in->n_labels == 0)
        return 0;
    if (!(out->labels = calloc (in->n_labels, sizeof out->labels[0])))
        return -ENOMEM;
    for (size_t i = 0; i < in->n_labels; i++) {
        if (!(out->labels[i] = strdup (in->labels[i] ? in->labels[i] : "")))
            return -ENOMEM;
        out->n_labels = i + 1;
    }
    return 0;
}

void
yard__node_admin_clear (yard_node_t *node)
{
    for (size_t i = 0; i < node->n_labels; i++)
        free (node->labels[i]);
    free (node->labels);
    free (node->state_reason);
    node->labels = NULL;
    node->n_labels = 0;
    node->state_reason = NULL;
}

const char *
yard_node_display_state (const yard_node_t *node)
{
    if (!node)
        return "unknown";
    if (node->state == YARD_NODE_LEAVING)
        return "leaving";
    if (node->state != YARD_NODE_UP)
        return "down";
    if (node->drain)
        return node->running_jobs > 0 ? "draining" : "drained";
    if (node->cpus > 0 && node->cpus_used >= node->cpus)
        return "allocated";
    if (node->cpus_used > 0 || node->running_jobs > 0)
        return "mixed";
    return "idle";
}

int
yard_node_admin (yard_client_t *c, const char *node,
                 enum yard_node_action action, const char *reason,
                 const char *const *labels, size_t n_labels, yard_node_t **out)
{
    yard_env_t *reply = NULL;
    yard_node_t *nd = NULL;
    int rc;

    if (!c)
        return -EINVAL;
    if (out)
        *out = NULL;
    if (!node || !*node)
        return yard__client_fail (c, EINVAL,
                                  "yard_node_admin: a node name "
                                  "is required");
    if ((unsigned)action > YARD_NODE_REMOVE)
        return yard__client_fail (c, EINVAL,
                                  "yard_node_admin: unknown "
                                  "action");
    if ((action == YARD_NODE_LABEL || action == YARD_NODE_UNLABEL)
        && (!labels || n_labels == 0))
        return yard__client_fail (c, EINVAL,
                                  "yard_node_admin: no label "
                                  "given");
    Yard__NodeAdminRequest r = YARD__NODE_ADMIN_REQUEST__INIT;
    r.node = (char *)node;
    r.action = (Yard__NodeAdminRequest__Action)action;
    r.reason = (char *)(reason ? reason : "");
    if (action == YARD_NODE_LABEL || action == YARD_NODE_UNLABEL) {
        r.labels = (char **)labels;
        r.n_labels = n_labels;
    }
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_NODE_ADMIN;
    req.node_admin = &r;
    if ((rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_NODES_REPLY,
                                 &reply))
        < 0)
        return rc;
    const Yard__NodesReply *nr = reply->nodes_reply;
    if (out && nr->n_nodes > 0 && nr->nodes[0]) {
        if (!(nd = calloc (1, sizeof *nd))
            || yard__node_from_proto (nr->nodes[0], nd) < 0) {
            free (nd);
            rc = yard__client_fail (c, ENOMEM, "out of memory");
            goto out;
        }
        *out = nd;
    }
    rc = 0;
out:
    yard_msg_free (&reply);
    return rc;
}
