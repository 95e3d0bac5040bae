/* triggers.c - pipelines started by dataset and model events (see
 * triggers.h). */
#include "triggers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sched_rows.h"
#include "sched_spec.h"
#include "store_models.h"
#include "store_pipeline.h"
#include "util.h"

#define MAX_TRIGGERS 10000

/* ---- firing ---- */

typedef struct fire_ctx {
    const char *kind, *on;
    yard_sched_dues_t due;
} fire_ctx_t;

static int
collect_row (const yard_store_sched_t *r, void *arg)
{
    fire_ctx_t *c = arg;
    if (strcmp (r->on_kind, c->kind) != 0 || strcmp (r->on_name, c->on) != 0)
        return 0;
    return yard__sched_dues_push (&c->due, r);
}

/* Start one run of every trigger on kind:on.  The rows are read first and
 * the runs started after, so no read is open while the runs write. */
static void
fire (yard_server_t *s, const char *kind, const char *on, uint32_t version,
      const char *except)
{
    fire_ctx_t c = {kind, on, {NULL, 0}};
    int rc = yard_store_triggers (s->store, collect_row, &c);
    if (rc < 0) {
        log_err ("cannot read the triggers on %s:%s: %s", kind, on,
                 rc == -ENOMEM ? "out of memory"
                               : yard_store_errmsg (s->store));
        if (rc != -ENOMEM)
            yard__fail (s, rc);
    }
    const yard_sched_due_t *d = c.due.v;
    for (size_t i = 0; rc == 0 && i < c.due.n && !s->batch_failed; i++) {
        char origin[160];
        snprintf (origin, sizeof origin, "trigger:%s", d[i].name);
        if (except && strcmp (except, origin) == 0) {
            log_info ("trigger %s: %s:%s version %u comes from a run it "
                      "started: not fired again",
                      d[i].name, kind, on, version);
            continue;
        }
        yard_error_t err;
        yard_error_clear (&err);
        uint64_t run = 0;
        int e = yard__sched_spec_start (s, d[i].pipeline, d[i].len, origin,
                                        &run, &err);
        if (e < 0) {
            /* a spec that no longer starts (a dataset removed...) must not
             * undo the event that fired it: log and go on */
            log_warn ("trigger %s on %s:%s version %u: cannot start the "
                      "pipeline: %s",
                      d[i].name, kind, on, version, err.text);
            continue;
        }
        log_info ("trigger %s: %s:%s version %u started pipeline run %llu",
                  d[i].name, kind, on, version, (unsigned long long)run);
        if ((e = yard_store_trigger_fired (s->store, d[i].name, run)) < 0
            && e != -ENOENT)
            yard__fail (s, e);
    }
    yard__sched_dues_free (&c.due);
}

void
yard__triggers_dataset_added (yard_server_t *s, const char *name,
                              uint32_t version)
{
    fire (s, "dataset", name, version, NULL);
}

void
yard__triggers_model_registered (yard_server_t *s, const char *name,
                                 uint32_t version, uint64_t run_id)
{
    yard_prun_t *run = NULL;
    if (run_id) {
        int rc = yard_store_prun_get (s->store, run_id, &run);
        if (rc < 0 && rc != -ENOENT) {
            log_err ("cannot read pipeline run %llu: %s",
                     (unsigned long long)run_id,
                     yard_store_errmsg (s->store));
            if (rc != -ENOMEM && rc != -EIO)
                yard__fail (s, rc);
        }
    }
    fire (s, "model", name, version, run ? run->origin : NULL);
    yard_prun_free (&run);
}

/* ---- TriggerRequest ---- */

typedef struct list_ctx {
    Yard__TriggerInfo **v;
    size_t n;
} list_ctx_t;

static void
list_free (list_ctx_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!c->v[i])
            continue;
        free (c->v[i]->name);
        free (c->v[i]->on);
        free (c->v[i]->pipeline_name);
        free (c->v[i]);
    }
    free (c->v);
}

static int
list_row (const yard_store_sched_t *r, void *arg)
{
    list_ctx_t *c = arg;
    Yard__TriggerInfo **v = realloc (c->v, (c->n + 1) * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    c->v = v;
    Yard__TriggerInfo *t = calloc (1, sizeof *t);
    if (!t)
        return -ENOMEM;
    yard__trigger_info__init (t);
    v[c->n++] = t;
    size_t on_len = strlen (r->on_kind) + strlen (r->on_name) + 2;
    t->name = strdup (r->name);
    t->pipeline_name = strdup (r->pipeline_name);
    t->on = malloc (on_len);
    if (!t->name || !t->pipeline_name || !t->on)
        return -ENOMEM;
    snprintf (t->on, on_len, "%s:%s", r->on_kind, r->on_name);
    t->created_ms = r->created_ms;
    t->fired = r->fired;
    t->last_run = r->last_run;
    return 0;
}

static void
reply_list (yard_server_t *s, const yard_peer_t *peer, uint64_t rid,
            const char *only)
{
    list_ctx_t c = {NULL, 0};
    int rc = yard_store_triggers (s->store, list_row, &c);
    if (rc < 0) {
        list_free (&c);
        yard__reply_store_error (s, peer, rid, rc);
        return;
    }
    Yard__TriggerReply r = YARD__TRIGGER_REPLY__INIT;
    r.triggers = c.v;
    r.n_triggers = c.n;
    if (only) { /* just the one added */
        for (size_t i = 0; i < c.n; i++)
            if (strcmp (c.v[i]->name, only) == 0) {
                r.triggers = &c.v[i];
                r.n_triggers = 1;
            }
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = rid;
    out.body_case = YARD__ENVELOPE__BODY_TRIGGER_REPLY;
    out.trigger_reply = &r;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    list_free (&c);
}

static void
on_add (yard_server_t *s, const yard_peer_t *peer, yard_env_t *env)
{
    Yard__TriggerRequest *q = env->trigger;
    uint64_t rid = env->request_id;
    if (!yard__sched_name_check (s, peer, rid, "trigger", q->name))
        return;
    const char *on = q->on ? q->on : "";
    const char *colon = strchr (on, ':');
    char kind[16] = "";
    if (colon && (size_t)(colon - on) < sizeof kind)
        snprintf (kind, sizeof kind, "%.*s", (int)(colon - on), on);
    if ((strcmp (kind, "dataset") && strcmp (kind, "model"))
        || !yard_model_name_ok (colon + 1)) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "trigger event '%s' is not understood: use "
                           "dataset:NAME or model:NAME",
                           on);
        return;
    }
    yard_store_sched_t r = {0};
    r.name = q->name;
    r.on_kind = kind;
    r.on_name = colon + 1;
    r.pipeline = q->pipeline.data;
    r.pipeline_len = q->pipeline.len;
    if (yard__sched_add (s, peer, rid, "trigger", MAX_TRIGGERS,
                         yard_store_triggers, yard_store_trigger_add, &r)
        < 0)
        return;
    log_info ("trigger %s added on %s", q->name, on);
    reply_list (s, peer, rid, q->name);
}

void
yard__on_trigger (yard_server_t *s, const yard_peer_t *peer,
                  yard_node_t *node, yard_env_t *env)
{
    (void)node;
    Yard__TriggerRequest *q = env->trigger;
    const char *op = q->op ? q->op : "";
    uint64_t rid = env->request_id;
    if (strcmp (op, "add") == 0) {
        on_add (s, peer, env);
    } else if (strcmp (op, "list") == 0) {
        reply_list (s, peer, rid, NULL);
    } else if (strcmp (op, "remove") == 0) {
        if (yard__sched_remove (s, peer, rid, "trigger", q->name,
                                yard_store_trigger_remove)
            < 0)
            return;
        Yard__TriggerReply r = YARD__TRIGGER_REPLY__INIT;
        yard_env_t out = YARD__ENVELOPE__INIT;
        out.request_id = rid;
        out.body_case = YARD__ENVELOPE__BODY_TRIGGER_REPLY;
        out.trigger_reply = &r;
        (void)yard__reply (s, YARD__CLIENT, peer, &out);
    } else {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "unknown trigger operation '%s' (add, list, "
                           "remove)",
                           op);
    }
}
