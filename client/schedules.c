/* schedules.c - libyard's schedule and trigger calls (yard/models.h).  The
 * pipeline file is loaded here (pipeline_yaml.h: code files uploaded) and
 * its spec sent encoded, so the scheduler keeps exactly what was checked. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "msg.h"
#include "pipeline_yaml.h"
#include "yard/models.h"
#include "yard/yard.h"

/* Load and encode the pipeline file.  *buf is malloc'd. */
static int
encode_pipeline (yard_client_t *c, const char *path,
                 const char *const *params, size_t n_params, uint8_t **buf,
                 size_t *len)
{
    if (!path || !*path)
        return yard__client_fail (c, EINVAL, "a pipeline file is required");
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_pipeline_load (c, path, params, n_params, &spec, &err);
    if (rc < 0)
        return yard__client_fail (c, -rc, err.text);
    *len = yard__pipeline_spec__get_packed_size (spec);
    if (!(*buf = malloc (*len ? *len : 1))) {
        yard__pipeline_spec__free_unpacked (spec, NULL);
        return yard__client_fail (c, ENOMEM, "out of memory");
    }
    yard__pipeline_spec__pack (spec, *buf);
    yard__pipeline_spec__free_unpacked (spec, NULL);
    return 0;
}

static char *
dup0 (const char *s)
{
    return strdup (s ? s : "");
}

void
yard_schedules_free (yard_schedule_t **v, size_t n)
{
    if (!v || !*v)
        return;
    for (size_t i = 0; i < n; i++) {
        free ((*v)[i].name);
        free ((*v)[i].cron);
        free ((*v)[i].pipeline_name);
    }
    free (*v);
    *v = NULL;
}

void
yard_triggers_free (yard_trigger_t **v, size_t n)
{
    if (!v || !*v)
        return;
    for (size_t i = 0; i < n; i++) {
        free ((*v)[i].name);
        free ((*v)[i].on);
        free ((*v)[i].pipeline_name);
    }
    free (*v);
    *v = NULL;
}

/* Copy the reply's schedules into *out (*n of them). */
static int
schedules_from (yard_client_t *c, const Yard__ScheduleReply *r,
                yard_schedule_t **out, size_t *n)
{
    if (r->n_schedules == 0)
        return 0;
    yard_schedule_t *v = calloc (r->n_schedules, sizeof v[0]);
    size_t nv = 0;
    for (size_t i = 0; v && i < r->n_schedules; i++) {
        const Yard__ScheduleInfo *in = r->schedules[i];
        nv = i + 1;
        v[i].created_ms = in->created_ms;
        v[i].last_fire_ms = in->last_fire_ms;
        v[i].next_fire_ms = in->next_fire_ms;
        v[i].last_run = in->last_run;
        if (!(v[i].name = dup0 (in->name)) || !(v[i].cron = dup0 (in->cron))
            || !(v[i].pipeline_name = dup0 (in->pipeline_name))) {
            yard_schedules_free (&v, nv);
            break;
        }
    }
    *out = v;
    if (n)
        *n = v ? nv : 0;
    return v ? 0 : yard__client_fail (c, ENOMEM, "out of memory");
}

/* Copy the reply's triggers into *out (*n of them). */
static int
triggers_from (yard_client_t *c, const Yard__TriggerReply *r,
               yard_trigger_t **out, size_t *n)
{
    if (r->n_triggers == 0)
        return 0;
    yard_trigger_t *v = calloc (r->n_triggers, sizeof v[0]);
    size_t nv = 0;
    for (size_t i = 0; v && i < r->n_triggers; i++) {
        const Yard__TriggerInfo *in = r->triggers[i];
        nv = i + 1;
        v[i].created_ms = in->created_ms;
        v[i].fired = in->fired;
        v[i].last_run = in->last_run;
        if (!(v[i].name = dup0 (in->name)) || !(v[i].on = dup0 (in->on))
            || !(v[i].pipeline_name = dup0 (in->pipeline_name))) {
            yard_triggers_free (&v, nv);
            break;
        }
    }
    *out = v;
    if (n)
        *n = v ? nv : 0;
    return v ? 0 : yard__client_fail (c, ENOMEM, "out of memory");
}

/* Which kind a call is about, and where its reply goes: schedules or
 * triggers (optional), *n of them. */
typedef struct sched_out {
    bool trigger;
    yard_schedule_t **schedules;
    yard_trigger_t **triggers;
    size_t *n;
} sched_out_t;

/* One ScheduleRequest or TriggerRequest (o->trigger): op,
 * name (optional), the schedule's cron or the trigger's event in arg
 * (optional) and, for an add, the encoded pipeline. */
static int
sched_call (yard_client_t *c, const char *op, const char *name,
            const char *arg, const uint8_t *pipeline, size_t len,
            const sched_out_t *o)
{
    bool trigger = o->trigger;
    if (o->schedules)
        *o->schedules = NULL;
    if (o->triggers)
        *o->triggers = NULL;
    if (o->n)
        *o->n = 0;
    Yard__ScheduleRequest sq = YARD__SCHEDULE_REQUEST__INIT;
    Yard__TriggerRequest tq = YARD__TRIGGER_REQUEST__INIT;
    yard_env_t req = YARD__ENVELOPE__INIT;
    if (trigger) {
        tq.op = (char *)op;
        if (name)
            tq.name = (char *)name;
        if (arg)
            tq.on = (char *)arg;
        tq.pipeline.data = (uint8_t *)pipeline;
        tq.pipeline.len = len;
        req.body_case = YARD__ENVELOPE__BODY_TRIGGER;
        req.trigger = &tq;
    } else {
        sq.op = (char *)op;
        if (name)
            sq.name = (char *)name;
        if (arg)
            sq.cron = (char *)arg;
        sq.pipeline.data = (uint8_t *)pipeline;
        sq.pipeline.len = len;
        req.body_case = YARD__ENVELOPE__BODY_SCHEDULE;
        req.schedule = &sq;
    }
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req,
                                trigger ? YARD__ENVELOPE__BODY_TRIGGER_REPLY
                                        : YARD__ENVELOPE__BODY_SCHEDULE_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    if (trigger && o->triggers)
        rc = triggers_from (c, reply->trigger_reply, o->triggers, o->n);
    else if (!trigger && o->schedules)
        rc = schedules_from (c, reply->schedule_reply, o->schedules, o->n);
    yard_msg_free (&reply);
    return rc;
}

/* An add: a name and arg (what is_required says) are required, and the
 * pipeline file is loaded and sent encoded. */
static int
sched_add (yard_client_t *c, const char *is_required, const char *name,
           const char *arg, const char *pipeline_yaml,
           const char *const *params, size_t n_params, const sched_out_t *o)
{
    if (!name || !*name || !arg || !*arg)
        return yard__client_fail (c, EINVAL, is_required);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = encode_pipeline (c, pipeline_yaml, params, n_params, &buf, &len);
    if (rc < 0)
        return rc;
    rc = sched_call (c, "add", name, arg, buf, len, o);
    free (buf);
    return rc;
}

int
yard_schedule_add (yard_client_t *c, const char *name, const char *cron,
                   const char *pipeline_yaml, const char *const *params,
                   size_t n_params, yard_schedule_t **out)
{
    if (!c)
        return -EINVAL;
    if (out)
        *out = NULL;
    size_t n = 0;
    sched_out_t o = {false, out, NULL, &n};
    return sched_add (c,
                      "yard_schedule_add: a name and a cron expression are "
                      "required",
                      name, cron, pipeline_yaml, params, n_params, &o);
}

int
yard_schedule_list (yard_client_t *c, yard_schedule_t **out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    sched_out_t o = {false, out, NULL, n};
    return sched_call (c, "list", NULL, NULL, NULL, 0, &o);
}

int
yard_schedule_remove (yard_client_t *c, const char *name)
{
    if (!c)
        return -EINVAL;
    sched_out_t o = {false, NULL, NULL, NULL};
    return sched_call (c, "remove", name ? name : "", NULL, NULL, 0, &o);
}

int
yard_trigger_add (yard_client_t *c, const char *name, const char *on,
                  const char *pipeline_yaml, const char *const *params,
                  size_t n_params, yard_trigger_t **out)
{
    if (!c)
        return -EINVAL;
    if (out)
        *out = NULL;
    size_t n = 0;
    sched_out_t o = {true, NULL, out, &n};
    return sched_add (c,
                      "yard_trigger_add: a name and an event (dataset:NAME "
                      "or model:NAME) are required",
                      name, on, pipeline_yaml, params, n_params, &o);
}

int
yard_trigger_list (yard_client_t *c, yard_trigger_t **out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    sched_out_t o = {true, NULL, out, n};
    return sched_call (c, "list", NULL, NULL, NULL, 0, &o);
}

int
yard_trigger_remove (yard_client_t *c, const char *name)
{
    if (!c)
        return -EINVAL;
    sched_out_t o = {true, NULL, NULL, NULL};
    return sched_call (c, "remove", name ? name : "", NULL, NULL, 0, &o);
}
