/* schedules.c - pipelines started by the cron timer (see schedules.h).
 *
 * The state database is the only record: every minute (the first cron tick
 * in a new wall-clock minute, and the first tick after start-up) the
 * schedules are read, and each that is due starts its run and records the
 * fire in the same batch.  A batch that is rolled back leaves last_fire as
 * it was, so the fire is not lost: it is due again on the next check. */
#include "schedules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "log.h"
#include "sched_rows.h"
#include "sched_spec.h"
#include "store_models.h"
#include "util.h"

#define MAX_SCHEDULES 10000

typedef struct due_ctx {
    int64_t now;
    yard_sched_dues_t due;
} due_ctx_t;

static int64_t
last_of (const yard_store_sched_t *r)
{
    return r->last_fire_ms ? r->last_fire_ms : r->created_ms;
}

static int
due_row (const yard_store_sched_t *r, void *arg)
{
    due_ctx_t *c = arg;
    yard_cron_t cron;
    yard_error_t err;
    if (yard_cron_parse (r->cron, &cron, &err) < 0) {
        log_warn ("schedule %s: %s", r->name, err.text);
        return 0;
    }
    if (!yard_cron_due (&cron, last_of (r), c->now))
        return 0;
    return yard__sched_dues_push (&c->due, r);
}

void
yard__schedules_tick (yard_server_t *s)
{
    int64_t now = yard_now_ms ();
    int64_t minute = now / 60000;
    if (minute == s->sched_minute || s->batch_failed)
        return;
    s->sched_minute = minute;
    due_ctx_t c = {now, {NULL, 0}};
    int rc = yard_store_schedules (s->store, due_row, &c);
    if (rc < 0) {
        log_err ("cannot read the schedules: %s",
                 rc == -ENOMEM ? "out of memory"
                               : yard_store_errmsg (s->store));
        s->sched_minute = 0; /* try again on the next tick */
    }
    const yard_sched_due_t *d = c.due.v;
    for (size_t i = 0; rc == 0 && i < c.due.n && !s->batch_failed; i++) {
        char origin[160];
        snprintf (origin, sizeof origin, "schedule:%s", d[i].name);
        yard_error_t err;
        yard_error_clear (&err);
        uint64_t run = 0;
        int e = yard__sched_spec_start (s, d[i].pipeline, d[i].len, origin,
                                        &run, &err);
        if (e < 0)
            log_warn ("schedule %s: cannot start the pipeline: %s",
                      d[i].name, err.text);
        else
            log_info ("schedule %s started pipeline run %llu", d[i].name,
                      (unsigned long long)run);
        if (s->batch_failed)
            break;
        if ((e = yard_store_schedule_fired (s->store, d[i].name, now, run))
                < 0
            && e != -ENOENT)
            yard__fail (s, e);
    }
    if (s->batch_failed)
        s->sched_minute = 0;
    yard__sched_dues_free (&c.due);
}

int
yard__schedules_init (yard_server_t *s, yard_error_t *err)
{
    (void)err;
    s->sched_minute = 0; /* the first tick checks (catch-up) */
    return 0;
}

void
yard__schedules_fini (yard_server_t *s)
{
    (void)s;
}

/* ---- ScheduleRequest ---- */

typedef struct list_ctx {
    Yard__ScheduleInfo **v;
    size_t n;
} list_ctx_t;

static void
list_free (list_ctx_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!c->v[i])
            continue;
        free (c->v[i]->name);
        free (c->v[i]->cron);
        free (c->v[i]->pipeline_name);
        free (c->v[i]);
    }
    free (c->v);
}

static int
list_row (const yard_store_sched_t *r, void *arg)
{
    list_ctx_t *c = arg;
    Yard__ScheduleInfo **v = realloc (c->v, (c->n + 1) * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    c->v = v;
    Yard__ScheduleInfo *t = calloc (1, sizeof *t);
    if (!t)
        return -ENOMEM;
    yard__schedule_info__init (t);
    v[c->n++] = t;
    t->name = strdup (r->name);
    t->cron = strdup (r->cron);
    t->pipeline_name = strdup (r->pipeline_name);
    if (!t->name || !t->cron || !t->pipeline_name)
        return -ENOMEM;
    t->created_ms = r->created_ms;
    t->last_fire_ms = r->last_fire_ms;
    t->last_run = r->last_run;
    yard_cron_t cron;
    if (yard_cron_parse (r->cron, &cron, NULL) == 0)
        t->next_fire_ms = yard_cron_next (&cron, last_of (r));
    return 0;
}

static void
reply_list (yard_server_t *s, const yard_peer_t *peer, uint64_t rid,
            const char *only, bool none)
{
    list_ctx_t c = {NULL, 0};
    int rc = none ? 0 : yard_store_schedules (s->store, list_row, &c);
    if (rc < 0) {
        list_free (&c);
        yard__reply_store_error (s, peer, rid, rc);
        return;
    }
    Yard__ScheduleReply r = YARD__SCHEDULE_REPLY__INIT;
    r.schedules = c.v;
    r.n_schedules = c.n;
    if (only) {
        r.n_schedules = 0;
        for (size_t i = 0; i < c.n; i++)
            if (strcmp (c.v[i]->name, only) == 0) {
                r.schedules = &c.v[i];
                r.n_schedules = 1;
            }
    }
    yard_env_t out = YARD__ENVELOPE__INIT;
    out.request_id = rid;
    out.body_case = YARD__ENVELOPE__BODY_SCHEDULE_REPLY;
    out.schedule_reply = &r;
    (void)yard__reply (s, YARD__CLIENT, peer, &out);
    list_free (&c);
}

static void
on_add (yard_server_t *s, const yard_peer_t *peer, yard_env_t *env)
{
    Yard__ScheduleRequest *q = env->schedule;
    uint64_t rid = env->request_id;
    if (!yard__sched_name_check (s, peer, rid, "schedule", q->name))
        return;
    yard_error_t err;
    yard_error_clear (&err);
    yard_cron_t cron;
    int rc = yard_cron_parse (q->cron, &cron, &err);
    if (rc == 0 && yard_cron_next (&cron, yard_now_ms ()) < 0)
        rc = yard_errorf (&err, EINVAL, "cron expression '%s' never fires",
                          q->cron);
    if (rc < 0) {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL, "%s",
                           err.text);
        return;
    }
    yard_store_sched_t r = {0};
    r.name = q->name;
    r.cron = q->cron;
    r.pipeline = q->pipeline.data;
    r.pipeline_len = q->pipeline.len;
    if (yard__sched_add (s, peer, rid, "schedule", MAX_SCHEDULES,
                         yard_store_schedules, yard_store_schedule_add, &r)
        < 0)
        return;
    log_info ("schedule %s added: '%s'", q->name, q->cron);
    reply_list (s, peer, rid, q->name, false);
}

void
yard__on_schedule (yard_server_t *s, const yard_peer_t *peer,
                   yard_node_t *node, yard_env_t *env)
{
    (void)node;
    Yard__ScheduleRequest *q = env->schedule;
    const char *op = q->op ? q->op : "";
    uint64_t rid = env->request_id;
    if (strcmp (op, "add") == 0) {
        on_add (s, peer, env);
    } else if (strcmp (op, "list") == 0) {
        reply_list (s, peer, rid, NULL, false);
    } else if (strcmp (op, "remove") == 0) {
        if (yard__sched_remove (s, peer, rid, "schedule", q->name,
                                yard_store_schedule_remove)
            == 0)
            reply_list (s, peer, rid, NULL, true);
    } else {
        yard__reply_error (s, YARD__CLIENT, peer, rid, EINVAL,
                           "unknown schedule operation '%s' (add, list, "
                           "remove)",
                           op);
    }
}
