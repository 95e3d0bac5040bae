/* server_nodeadmin.c - node administration: drain/resume, labels, remove,
 * and the drains that worker health checks ask for (see
 * server_nodeadmin.h).
 *
 * Every change is built on a copy of the node's admin state, written to
 * state.db in the batch transaction, and only then swapped in: a failed
 * write leaves memory as it was (the batch then answers ENOSPC/EIO).  A
 * drain only keeps new jobs away; the running ones finish normally, and
 * the displayed state turns from "draining" to "drained" by itself.
 *
 * A drain remembers whether the health check set it (drain_health): a
 * passing check lifts only such a drain, never one an admin set, and an
 * admin drain is never turned into a health drain.
 */
#include "server_nodeadmin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nodeadmin.h"
#include "server_place.h"
#include "store_nodeadmin.h"
#include "utf8.h"
#include "util.h"

#define REASON_LEN 512

/* A deep copy of a (labels and reason).  0 or -ENOMEM. */
static int
admin_copy (yard_nodeadmin_t *dst, const yard_nodeadmin_t *a)
{
    memset (dst, 0, sizeof *dst);
    dst->drain = a->drain;
    dst->drain_health = a->drain_health;
    dst->since_ms = a->since_ms;
    if (a->reason && !(dst->reason = strdup (a->reason)))
        return -ENOMEM;
    for (size_t i = 0; i < a->nlabels; i++)
        if (yard_nodeadmin_label_set (dst, a->labels[i], NULL) == -ENOMEM) {
            yard_nodeadmin_clear (dst);
            return -ENOMEM;
        }
    return 0;
}

/* Write tmp as node's admin state, then swap it in (tmp is consumed
 * either way).  0 or the batch error. */
static int
admin_commit (yard_server_t *s, yard_node_t *node, yard_nodeadmin_t *tmp)
{
    int rc = yard_store_nodeadmin_put (s->store, node->name, tmp);
    if (rc < 0) {
        yard_nodeadmin_clear (tmp);
        return yard__fail (s, rc);
    }
    yard_nodeadmin_clear (&node->admin);
    node->admin = *tmp;
    memset (tmp, 0, sizeof *tmp);
    yard_nodes_changed (s->nodes, node); /* drained or resumed */
    return 0;
}

void
yard__node_info_admin (const yard_node_t *node, Yard__NodeInfo *ni)
{
    ni->n_labels = node->admin.nlabels;
    ni->labels = node->admin.labels;
    ni->drain = node->admin.drain;
    if (node->state == YARD__NODE_STATE__NODE_DOWN) {
        ni->state_reason = node->admin.drain && node->admin.reason
                               ? node->admin.reason
                               : (char *)"not responding";
        ni->state_since_ms = node->last_seen_ms;
    } else if (node->admin.drain) {
        ni->state_reason
            = node->admin.reason ? node->admin.reason : (char *)"";
        ni->state_since_ms = node->admin.since_ms;
    } else {
        ni->state_reason = (char *)protobuf_c_empty_string;
        ni->state_since_ms = node->admin.since_ms > node->registered_ms
                                 ? node->admin.since_ms
                                 : node->registered_ms;
    }
}

/* Reply NodesReply{node} (node NULL: no nodes, after a removal). */
static void
reply_node (yard_server_t *s, const yard_peer_t *peer, uint64_t request_id,
            const yard_node_t *nd)
{
    Yard__NodeInfo ni = YARD__NODE_INFO__INIT;
    Yard__NodeInfo *ptr = &ni;
    Yard__NodesReply body = YARD__NODES_REPLY__INIT;
    if (nd) {
        ni.name = nd->name;
        ni.state = nd->state;
        ni.hostname
            = nd->hostname ? nd->hostname : (char *)protobuf_c_empty_string;
        ni.version
            = nd->version ? nd->version : (char *)protobuf_c_empty_string;
        ni.cpus = nd->cpus;
        ni.cpus_used = nd->cpus_used;
        ni.memory_bytes = nd->memory;
        ni.memory_used = nd->memory_used;
        ni.gpus = nd->gpus;
        ni.gpus_used = nd->gpus_used;
        ni.running_jobs = nd->njobs;
        yard__place_info (s, nd, &ni); /* cores free/total */
        ni.last_seen_ms = nd->last_seen_ms;
        ni.registered_ms = nd->registered_ms;
        ni.topology = nd->topology;
        yard__node_info_admin (nd, &ni);
        body.n_nodes = 1;
        body.nodes = &ptr;
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = request_id;
    out.body_case = YARD__ENVELOPE__BODY_NODES_REPLY;
    out.nodes_reply = &body;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
}

/* Forget node: memory, its rows, and the batch's touched list (which
 * must not keep a freed node). */
static int
node_forget (yard_server_t *s, yard_node_t *node)
{
    int rc = yard_store_node_forget (s->store, node->name);
    if (rc < 0)
        return yard__fail (s, rc);
    for (size_t i = 0; i < s->ntouched; i++)
        if (s->touched[i] == node) {
            s->touched[i] = s->touched[--s->ntouched];
            break;
        }
    yard__acks_forget (s, node);
    log_notice ("node %s removed", node->name);
    yard_nodes_remove (s->nodes, node);
    return 0;
}

void
yard__on_node_admin (yard_server_t *s, const yard_peer_t *peer,
                     yard_node_t *unused, yard_env_t *env)
{
    (void)unused;
    const Yard__NodeAdminRequest *req = env->node_admin;
    uint64_t rid = env->request_id;
    if (!req || !req->node || !*req->node) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "node administration needs a node name");
        return;
    }
    yard_node_t *node = yard_nodes_get (s->nodes, req->node);
    if (!node) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, ENOENT,
                           "no node named '%.255s'", req->node);
        return;
    }
    yard_error_t err = { 0 };
    yard_nodeadmin_t tmp;
    int rc;
    switch (req->action) {
    case YARD__NODE_ADMIN_REQUEST__ACTION__REMOVE:
        if (node->state != YARD__NODE_STATE__NODE_DOWN || node->njobs > 0) {
            yard__reply_error (
                s, YARD__CLIENT, peer, rid, EBUSY,
                "node %s is %s%s: only a DOWN node with no jobs can be "
                "removed (stop its worker first)",
                node->name,
                node->state == YARD__NODE_STATE__NODE_DOWN ? "down" : "up",
                node->njobs > 0 ? " and has jobs" : "");
            return;
        }
        if ((rc = node_forget (s, node)) < 0) {
            yard__reply_store_error (s, peer, rid, rc);
            return;
        }
        reply_node (s, peer, rid, NULL);
        return;
    case YARD__NODE_ADMIN_REQUEST__ACTION__DRAIN:
    case YARD__NODE_ADMIN_REQUEST__ACTION__RESUME:
    case YARD__NODE_ADMIN_REQUEST__ACTION__LABEL:
    case YARD__NODE_ADMIN_REQUEST__ACTION__UNLABEL:
        break;
    default:
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "unknown node action %d", (int)req->action);
        return;
    }
    if (req->action == YARD__NODE_ADMIN_REQUEST__ACTION__LABEL
        || req->action == YARD__NODE_ADMIN_REQUEST__ACTION__UNLABEL) {
        if (req->n_labels == 0) {
            yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                               "no label given");
            return;
        }
        for (size_t i = 0; i < req->n_labels; i++) {
            const char *l = req->labels[i];
            bool unlabel
                = req->action == YARD__NODE_ADMIN_REQUEST__ACTION__UNLABEL;
            if (yard_label_check (l, &err) < 0
                || (unlabel && l && strchr (l, '=')
                    && yard_errorf (&err, EINVAL,
                                    "unlabel takes a key, "
                                    "not key=value"))) {
                yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL, "%s",
                                   err.text);
                return;
            }
        }
    }
    if (req->reason && strlen (req->reason) > YARD_DRAIN_REASON_MAX) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "the reason is longer than %d bytes",
                           YARD_DRAIN_REASON_MAX);
        return;
    }
    if (req->reason && !yard_utf8_valid (req->reason)) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "the reason is not valid UTF-8");
        return;
    }
    if ((rc = admin_copy (&tmp, &node->admin)) < 0) {
        yard__reply_store_error (s, peer, rid, rc);
        return;
    }
    switch (req->action) {
    case YARD__NODE_ADMIN_REQUEST__ACTION__DRAIN:
        rc = yard_nodeadmin_set_drain (
            &tmp, true, false,
            req->reason && *req->reason ? req->reason : "drained by an admin",
            yard_now_ms ());
        break;
    case YARD__NODE_ADMIN_REQUEST__ACTION__RESUME:
        rc = yard_nodeadmin_set_drain (&tmp, false, false, NULL,
                                       yard_now_ms ());
        break;
    case YARD__NODE_ADMIN_REQUEST__ACTION__LABEL:
        for (size_t i = 0; i < req->n_labels && rc == 0; i++)
            rc = yard_nodeadmin_label_set (&tmp, req->labels[i], &err);
        break;
    default: /* UNLABEL */
        for (size_t i = 0; i < req->n_labels; i++)
            (void)yard_nodeadmin_label_unset (&tmp, req->labels[i]);
        break;
    }
    if (rc < 0) {
        yard_nodeadmin_clear (&tmp);
        if (rc == -ENOMEM)
            yard__reply_store_error (s, peer, rid, rc);
        else
            yard__reply_error (s, YARD__CLIENT, peer, rid, -rc, "%s",
                               err.text);
        return;
    }
    bool was_drained = node->admin.drain;
    if ((rc = admin_commit (s, node, &tmp)) < 0) {
        yard__reply_store_error (s, peer, rid, rc);
        return;
    }
    if (req->action == YARD__NODE_ADMIN_REQUEST__ACTION__DRAIN)
        log_notice ("node %s drained: %s", node->name, node->admin.reason);
    else if (req->action == YARD__NODE_ADMIN_REQUEST__ACTION__RESUME
             && was_drained)
        log_notice ("node %s resumed", node->name);
    /* resume or new labels may let pending jobs start */
    s->need_dispatch = true;
    reply_node (s, peer, rid, node);
}

void
yard__on_node_health (yard_server_t *s, const yard_peer_t *peer,
                      yard_node_t *node, yard_env_t *env)
{
    (void)peer;
    const Yard__NodeHealth *h = env->node_health;
    if (!h || h->instance != node->instance
        || (h->name && *h->name && strcmp (h->name, node->name) != 0))
        return;
    yard_nodeadmin_t tmp;
    char reason[REASON_LEN];
    if (h->healthy) {
        if (!node->admin.drain || !node->admin.drain_health)
            return; /* an admin drain stays until an admin resumes */
        if (admin_copy (&tmp, &node->admin) < 0
            || yard_nodeadmin_set_drain (&tmp, false, false, NULL,
                                         yard_now_ms ())
                   < 0) {
            yard_nodeadmin_clear (&tmp);
            yard__fail (s, -ENOMEM);
            return;
        }
        if (admin_commit (s, node, &tmp) == 0) {
            log_notice ("node %s: health check passes again: resumed",
                        node->name);
            s->need_dispatch = true;
        }
        return;
    }
    if (node->admin.drain && !node->admin.drain_health)
        return; /* already drained by an admin: keep that reason */
    snprintf (reason, sizeof reason, "health check: %.400s",
              h->reason && *h->reason ? h->reason : "failed");
    yard_utf8_sanitize (reason);
    if (node->admin.drain && node->admin.reason
        && strcmp (node->admin.reason, reason) == 0)
        return; /* the same failure again */
    if (admin_copy (&tmp, &node->admin) < 0
        || yard_nodeadmin_set_drain (&tmp, true, true, reason,
                                     node->admin.drain ? node->admin.since_ms
                                                       : yard_now_ms ())
               < 0) {
        yard_nodeadmin_clear (&tmp);
        yard__fail (s, -ENOMEM);
        return;
    }
    if (admin_commit (s, node, &tmp) == 0)
        log_warn ("node %s drained: %s", node->name, reason);
}

struct load_ctx {
    yard_server_t *s;
};

static int
load_row (const char *name, bool drain, bool health, const char *reason,
          int64_t since_ms, const char *labels, void *arg)
{
    struct load_ctx *c = arg;
    yard_node_t *node = yard_nodes_get (c->s->nodes, name);
    if (!node)
        return 0; /* a row without its node (removed): harmless */
    if (yard_nodeadmin_set_drain (&node->admin, drain, health, reason,
                                  since_ms)
            < 0
        || yard_nodeadmin_labels_parse (&node->admin, labels) < 0)
        return -ENOMEM;
    return 0;
}

int
yard__nodeadmin_load (yard_server_t *s, yard_error_t *err)
{
    int rc = yard_store_nodeadmin_init (s->store, err);
    if (rc < 0)
        return rc;
    struct load_ctx c = { s };
    if ((rc = yard_store_nodeadmin_load (s->store, load_row, &c)) < 0)
        return yard_errorf (err, -rc,
                            "cannot load the node_admin table: "
                            "%s",
                            rc == -ENOMEM ? "out of memory"
                                          : yard_store_errmsg (s->store));
    return 0;
}

bool
yard__node_takes_jobs (const yard_node_t *node)
{
    return !node->admin.drain;
}

bool
yard__node_matches (const yard_node_t *node, const yard_job_t *job)
{
    const Yard__JobSpec *sp = job->spec;
    if (!sp)
        return true;
    if (sp->n_constraints > 0
        && yard_nodeadmin_missing (&node->admin, sp->constraints,
                                   sp->n_constraints)
               >= 0)
        return false;
    return yard_gpu_type_match (node->topology, sp->gpu_type);
}

const char *
yard__nodeadmin_reason (yard_server_t *s, const yard_job_t *job, char *buf,
                        size_t len)
{
    const Yard__JobSpec *sp = job->spec;
    bool has_gpu_type = sp && sp->gpu_type && *sp->gpu_type;
    bool has_cons = sp && sp->n_constraints > 0;
    size_t n = yard_nodes_count (s->nodes);
    size_t matching = 0, usable = 0, up = 0;
    for (size_t i = 0; i < n; i++) {
        yard_node_t *node = yard_nodes_at (s->nodes, i);
        bool is_up = node->state == YARD__NODE_STATE__NODE_UP && node->bound;
        up += is_up;
        if (!yard__node_matches (node, job))
            continue;
        matching++;
        if (is_up && !node->admin.drain)
            usable++;
    }
    if (n == 0 || usable > 0)
        return NULL;
    if (matching == 0 && has_cons) {
        /* name the first constraint that no node has at all */
        for (size_t c = 0; c < sp->n_constraints; c++) {
            size_t k = 0;
            while (k < n
                   && !yard_nodeadmin_has (&yard_nodes_at (s->nodes, k)->admin,
                                           sp->constraints[c]))
                k++;
            if (k == n) {
                snprintf (buf, len,
                          "waiting for resources: no node has "
                          "label %.255s",
                          sp->constraints[c]);
                return yard_utf8_sanitize (buf);
            }
        }
        snprintf (buf, len,
                  "waiting for resources: no node has all the "
                  "labels it asks for");
        return buf;
    }
    if (matching == 0 && has_gpu_type) {
        snprintf (buf, len,
                  "waiting for resources: no node has a GPU "
                  "matching '%.100s'",
                  sp->gpu_type);
        return yard_utf8_sanitize (buf);
    }
    if (matching == 0)
        return NULL;
    if (up == 0)
        return NULL; /* the generic "no node is up" says it */
    snprintf (buf, len,
              "waiting for resources: every node %sis drained "
              "or down",
              has_cons || has_gpu_type ? "that matches " : "");
    return buf;
}

int
yard__spec_constraints_check (const Yard__JobSpec *spec, yard_error_t *err)
{
    if (spec->n_constraints > YARD_LABELS_MAX)
        return yard_errorf (err, EINVAL, "at most %d constraints",
                            YARD_LABELS_MAX);
    for (size_t i = 0; i < spec->n_constraints; i++) {
        yard_error_t e = { 0 };
        if (yard_label_check (spec->constraints[i], &e) < 0)
            return yard_errorf (err, EINVAL, "constraint: %s", e.text);
    }
    if (spec->gpu_type && *spec->gpu_type) {
        if (strlen (spec->gpu_type) > 255 || !yard_utf8_valid (spec->gpu_type))
            return yard_errorf (err, EINVAL,
                                "gpu_type must be valid "
                                "UTF-8 of at most 255 bytes");
        if (spec->gpus == 0 && spec->gpus_per_task == 0)
            return yard_errorf (err, EINVAL,
                                "gpu_type \"%.100s\" needs "
                                "gpus >= 1",
                                spec->gpu_type);
    }
    return 0;
}
