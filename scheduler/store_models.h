/* store_models.h - model versions, schedules and triggers in the state
 * store.  Tables created IF NOT EXISTS by yard_store_models_init:
 *
 *   models(model, version, digest, size, created_ms, job_id, run_id, step)
 *     primary key (model, version); versions count from 1 per model.  A
 *     row is the reference that keeps its artifact.
 *   model_metrics(model, version, key, value)
 *   schedules(name, cron, pipeline, pipeline_name, created_ms,
 *     last_fire_ms, last_run)  pipeline: an encoded PipelineSpec
 *   triggers(name, on_kind, on_name, pipeline, pipeline_name, created_ms,
 *     fired, last_run)  on_kind "dataset" or "model"
 *
 * Writes join the batch transaction (yard__store_write_begin); reads reset
 * their statements before return.  Functions return 0 or a negative errno
 * (a failed write dooms the batch).
 */
#ifndef YARD_SCHED_STORE_MODELS_H
#define YARD_SCHED_STORE_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "msg.h"
#include "store.h"

int yard_store_models_init (yard_store_t *st, yard_error_t *err);

/* The latest version of model (0 when it has none). */
int yard_store_model_latest (yard_store_t *st, const char *model,
                             uint32_t *version);

/* Insert v (v->version set by the caller, metrics included). */
int yard_store_model_insert (yard_store_t *st, const Yard__ModelVersion *v);

/* Read versions into *out (freed with yard_store_model_versions_free):
 * model NULL: every model's latest version, by name; else model's
 * versions newest first, or only `version` when not 0. */
int yard_store_model_versions (yard_store_t *st, const char *model,
                               uint32_t version, Yard__ModelVersion ***out,
                               size_t *n);
void yard_store_model_versions_free (Yard__ModelVersion **v, size_t n);

/* One metric value of a version; -ENOENT when it has none. */
int yard_store_model_metric (yard_store_t *st, const char *model,
                             uint32_t version, const char *key, double *value);

/* Each key's latest value reported by job (its highest attempt, last
 * line).  *out freed with yard_store_model_metrics_free. */
int yard_store_job_latest_metrics (yard_store_t *st, uint64_t job_id,
                                   Yard__MetricValue ***out, size_t *n);
void yard_store_model_metrics_free (Yard__MetricValue **v, size_t n);

/* ---- schedules and triggers ---- */

typedef struct yard_store_sched {
    const char *name;
    const char *cron;          /* schedules */
    const char *on_kind;       /* triggers */
    const char *on_name;
    const uint8_t *pipeline;
    size_t pipeline_len;
    const char *pipeline_name;
    int64_t created_ms;
    int64_t last_fire_ms;      /* schedules */
    uint64_t fired;            /* triggers */
    uint64_t last_run;
} yard_store_sched_t;

typedef int (*yard_store_sched_f) (const yard_store_sched_t *row, void *arg);

/* Insert; -EEXIST when the name is taken. */
int yard_store_schedule_add (yard_store_t *st, const yard_store_sched_t *r);
int yard_store_trigger_add (yard_store_t *st, const yard_store_sched_t *r);
/* Delete; -ENOENT when there is no such name. */
int yard_store_schedule_remove (yard_store_t *st, const char *name);
int yard_store_trigger_remove (yard_store_t *st, const char *name);
/* Walk every row by name (the row's pointers live during the call). */
int yard_store_schedules (yard_store_t *st, yard_store_sched_f cb, void *arg);
int yard_store_triggers (yard_store_t *st, yard_store_sched_f cb, void *arg);
/* A schedule fired at fire_ms and started run (0: the start failed). */
int yard_store_schedule_fired (yard_store_t *st, const char *name,
                               int64_t fire_ms, uint64_t run);
/* A trigger started run. */
int yard_store_trigger_fired (yard_store_t *st, const char *name,
                              uint64_t run);

#endif
