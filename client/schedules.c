/* schedules.c - libyard's schedule and trigger calls (yard/models.h).  The
 * pipeline file is loaded here (pipeline_yaml.h: code files uploaded) and
 * its spec sent encoded, so the scheduler keeps exactly what was checked. */
#include <errno.h>
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

static int
schedule_call (yard_client_t *c, Yard__ScheduleRequest *q,
               yard_schedule_t **out, size_t *n)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_SCHEDULE;
    req.schedule = q;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_SCHEDULE_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__ScheduleReply *r = reply->schedule_reply;
    if (out && r->n_schedules > 0) {
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
        if (!v)
            rc = yard__client_fail (c, ENOMEM, "out of memory");
        *out = v;
        if (n)
            *n = v ? nv : 0;
    }
    yard_msg_free (&reply);
    return rc;
}

static int
trigger_call (yard_client_t *c, Yard__TriggerRequest *q,
              yard_trigger_t **out, size_t *n)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    yard_env_t req = YARD__ENVELOPE__INIT;
    req.body_case = YARD__ENVELOPE__BODY_TRIGGER;
    req.trigger = q;
    yard_env_t *reply = NULL;
    int rc = yard__client_call (c, &req, YARD__ENVELOPE__BODY_TRIGGER_REPLY,
                                &reply);
    if (rc < 0)
        return rc;
    const Yard__TriggerReply *r = reply->trigger_reply;
    if (out && r->n_triggers > 0) {
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
        if (!v)
            rc = yard__client_fail (c, ENOMEM, "out of memory");
        *out = v;
        if (n)
            *n = v ? nv : 0;
    }
    yard_msg_free (&reply);
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
    if (!name || !*name || !cron || !*cron)
        return yard__client_fail (c, EINVAL, "yard_schedule_add: a name and "
                                             "a cron expression are "
                                             "required");
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = encode_pipeline (c, pipeline_yaml, params, n_params, &buf, &len);
    if (rc < 0)
        return rc;
    Yard__ScheduleRequest q = YARD__SCHEDULE_REQUEST__INIT;
    q.op = "add";
    q.name = (char *)name;
    q.cron = (char *)cron;
    q.pipeline.data = buf;
    q.pipeline.len = len;
    size_t n = 0;
    rc = schedule_call (c, &q, out, &n);
    free (buf);
    return rc;
}

int
yard_schedule_list (yard_client_t *c, yard_schedule_t **out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    Yard__ScheduleRequest q = YARD__SCHEDULE_REQUEST__INIT;
    q.op = "list";
    return schedule_call (c, &q, out, n);
}

int
yard_schedule_remove (yard_client_t *c, const char *name)
{
    if (!c)
        return -EINVAL;
    Yard__ScheduleRequest q = YARD__SCHEDULE_REQUEST__INIT;
    q.op = "remove";
    q.name = (char *)(name ? name : "");
    return schedule_call (c, &q, NULL, NULL);
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
    if (!name || !*name || !on || !*on)
        return yard__client_fail (c, EINVAL, "yard_trigger_add: a name and "
                                             "an event (dataset:NAME or "
                                             "model:NAME) are required");
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = encode_pipeline (c, pipeline_yaml, params, n_params, &buf, &len);
    if (rc < 0)
        return rc;
    Yard__TriggerRequest q = YARD__TRIGGER_REQUEST__INIT;
    q.op = "add";
    q.name = (char *)name;
    q.on = (char *)on;
    q.pipeline.data = buf;
    q.pipeline.len = len;
    size_t n = 0;
    rc = trigger_call (c, &q, out, &n);
    free (buf);
    return rc;
}

int
yard_trigger_list (yard_client_t *c, yard_trigger_t **out, size_t *n)
{
    if (!c || !out || !n)
        return -EINVAL;
    Yard__TriggerRequest q = YARD__TRIGGER_REQUEST__INIT;
    q.op = "list";
    return trigger_call (c, &q, out, n);
}

int
yard_trigger_remove (yard_client_t *c, const char *name)
{
    if (!c)
        return -EINVAL;
    Yard__TriggerRequest q = YARD__TRIGGER_REQUEST__INIT;
    q.op = "remove";
    q.name = (char *)(name ? name : "");
    return trigger_call (c, &q, NULL, NULL);
}
