/* yard/models.h - libyard: the model registry, pipeline schedules and
 * triggers.  Part of the public API (include <yard/yard.h> first).
 *
 * Every call returns 0 or a negative errno; yard_client_errmsg() then says
 * what went wrong.  Results are owned by the caller and freed with the
 * matching _free function.
 */
#ifndef YARD_MODELS_H
#define YARD_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "yard/yard.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One version of a model. */
typedef struct yard_model_version {
    char *model;
    uint32_t version;         /* 1, 2, ... per model */
    char *digest;             /* the artifact (blob or tree) */
    uint64_t size;            /* bytes of content (a folder: of its files) */
    int64_t created_ms;
    size_t n_metrics;
    char **metric_keys;       /* sorted by key */
    double *metric_values;
    uint64_t job_id;          /* the job that produced it (0: none) */
    uint64_t run_id;          /* the pipeline run (0: none) */
    char *step;               /* the pipeline step ("": none) */
} yard_model_version_t;

/* Register what (a file or folder, uploaded to the artifact store first;
 * or the digest of an artifact already there) as the next version of
 * model, with n_metrics metrics; job_id (0: none) names the job that made
 * it: its latest metric values fill the keys not given.  *out (optional)
 * gets the new version (an array of one). */
YARD_API int yard_model_register (yard_client_t *c, const char *model,
                                  const char *what,
                                  const char *const *metric_keys,
                                  const double *metric_values,
                                  size_t n_metrics, uint64_t job_id,
                                  yard_model_version_t **out);

/* Every model's latest version, by name. */
YARD_API int yard_model_list (yard_client_t *c, yard_model_version_t **out,
                              size_t *n);

/* The versions of model, newest first (version 0: the newest 1000), or
 * only version. */
YARD_API int yard_model_show (yard_client_t *c, const char *model,
                              uint32_t version, yard_model_version_t **out,
                              size_t *n);

/* Download version (0: the latest) of model to dest, which must not
 * exist: a folder artifact becomes a folder, a file a file.  *out
 * (optional) gets the version (an array of one). */
YARD_API int yard_model_get (yard_client_t *c, const char *model,
                             uint32_t version, const char *dest,
                             yard_model_version_t **out);

/* The value of metric key of v; -ENOENT when it has none. */
YARD_API int yard_model_metric (const yard_model_version_t *v,
                                const char *key, double *value);

YARD_API void yard_model_versions_free (yard_model_version_t **v, size_t n);

/* ---- schedules and triggers ---- */

typedef struct yard_schedule {
    char *name;
    char *cron;
    char *pipeline_name;
    int64_t created_ms;
    int64_t last_fire_ms;     /* 0: never fired */
    int64_t next_fire_ms;     /* in the past: due at the next check */
    uint64_t last_run;
} yard_schedule_t;

typedef struct yard_trigger {
    char *name;
    char *on;                 /* "dataset:NAME" or "model:NAME" */
    char *pipeline_name;
    int64_t created_ms;
    uint64_t fired;           /* runs started */
    uint64_t last_run;
} yard_trigger_t;

/* Run the pipeline in the YAML file pipeline_yaml (loaded now: its code
 * files are uploaded and their digests kept) on the 5-field cron
 * expression cron (UTC), with params ("KEY=VALUE") overriding the file's.
 * *out (optional) gets the schedule (an array of one). */
YARD_API int yard_schedule_add (yard_client_t *c, const char *name,
                                const char *cron, const char *pipeline_yaml,
                                const char *const *params, size_t n_params,
                                yard_schedule_t **out);
YARD_API int yard_schedule_list (yard_client_t *c, yard_schedule_t **out,
                                 size_t *n);
YARD_API int yard_schedule_remove (yard_client_t *c, const char *name);
YARD_API void yard_schedules_free (yard_schedule_t **v, size_t n);

/* Run the pipeline of pipeline_yaml whenever on ("dataset:NAME": the
 * dataset gets a new version; "model:NAME": a version is registered)
 * happens. */
YARD_API int yard_trigger_add (yard_client_t *c, const char *name,
                               const char *on, const char *pipeline_yaml,
                               const char *const *params, size_t n_params,
                               yard_trigger_t **out);
YARD_API int yard_trigger_list (yard_client_t *c, yard_trigger_t **out,
                                size_t *n);
YARD_API int yard_trigger_remove (yard_client_t *c, const char *name);
YARD_API void yard_triggers_free (yard_trigger_t **v, size_t n);

#ifdef __cplusplus
}
#endif

#endif
