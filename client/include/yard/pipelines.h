/* yard/pipelines.h - libyard: pipelines and datasets (docs/pipelines.md).
 * Part of the public API (include <yard/yard.h> first).
 *
 * Every call returns 0 or a negative errno; yard_client_errmsg() then says
 * what went wrong.  Results are owned by the caller and freed with the
 * matching _free function.
 */
#ifndef YARD_PIPELINES_H
#define YARD_PIPELINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yard/yard.h"

#ifdef __cplusplus
extern "C" {
#endif

enum yard_pipeline_state {
    YARD_PIPELINE_RUNNING = 1,
    YARD_PIPELINE_COMPLETED = 2,
    YARD_PIPELINE_FAILED = 3,
    YARD_PIPELINE_CANCELLED = 4,
};

enum yard_step_state {
    YARD_STEP_WAITING = 1,    /* its needs are not met yet */
    YARD_STEP_RUNNING = 2,    /* its job is queued or running */
    YARD_STEP_COMPLETED = 3,
    YARD_STEP_REUSED = 4,     /* the outputs of an identical earlier step */
    YARD_STEP_FAILED = 5,
    YARD_STEP_CANCELLED = 6,  /* cancelled, or not run because a need failed */
    YARD_STEP_SKIPPED = 7,    /* its `when` was false, or a need was skipped */
};

/* "running", "completed", ...; "unknown" for other values. */
YARD_API const char *yard_pipeline_state_str (enum yard_pipeline_state s);
YARD_API const char *yard_step_state_str (enum yard_step_state s);

typedef struct yard_pipeline_step {
    char *name;
    enum yard_step_state state;
    uint64_t job_id;          /* 0: no job (waiting, reused, not run) */
    uint64_t reused_run;      /* REUSED: the run and step it reused */
    char *reused_step;
    int64_t start_ms, end_ms; /* 0: not yet */
    char *reason;             /* why it ran, was reused, failed */
    char *cache_key;          /* "" until it started */
} yard_pipeline_step_t;

typedef struct yard_pipeline_run {
    uint64_t id;
    char *name;
    enum yard_pipeline_state state;
    char *origin;             /* "cli", "schedule:NAME", "trigger:NAME" */
    char *reason;
    int64_t create_ms, end_ms;
    uint64_t resumed_from;
    yard_pipeline_step_t *steps;  /* topological order */
    size_t n_steps;
} yard_pipeline_run_t;

/* Read the pipeline file at path (YAML), upload its code files, apply
 * params ("KEY=VALUE"), and start a run.  resume_from (0: none): reuse the
 * steps that completed in that earlier run when their inputs are
 * unchanged.  *run_id gets the new run. */
YARD_API int yard_pipeline_run_file (yard_client_t *c, const char *path,
                                     const char *const *params,
                                     size_t nparams, uint64_t resume_from,
                                     uint64_t *run_id);

/* The same from a pipeline written in memory (the YAML of a pipeline file,
 * at most 4 MiB): dir is the folder its steps run in and its code paths are
 * relative to (NULL: the current directory); errors name the text
 * "pipeline" ("pipeline:3: unknown key ..."). */
YARD_API int yard_pipeline_run_text (yard_client_t *c, const char *text,
                                     const char *dir,
                                     const char *const *params,
                                     size_t nparams, uint64_t resume_from,
                                     uint64_t *run_id);

/* Run again the pipeline of run_id, reusing its completed steps. */
YARD_API int yard_pipeline_rerun (yard_client_t *c, uint64_t run_id,
                                  uint64_t *new_run_id);

YARD_API int yard_pipeline_status (yard_client_t *c, uint64_t run_id,
                                   yard_pipeline_run_t **out);
YARD_API int yard_pipeline_cancel (yard_client_t *c, uint64_t run_id);
YARD_API void yard_pipeline_run_free (yard_pipeline_run_t **run);

/* The newest runs, newest first: of pipeline name (NULL or "": every
 * pipeline), at most limit (0: 100).  *out gets *n runs, without their
 * steps (n_steps 0: yard_pipeline_status has them); free with
 * yard_pipeline_runs_free (&runs, n). */
YARD_API int yard_pipeline_list (yard_client_t *c, const char *name,
                                 uint32_t limit, yard_pipeline_run_t ***out,
                                 size_t *n);
YARD_API void yard_pipeline_runs_free (yard_pipeline_run_t ***runs, size_t n);

/* Why a step of a run was reused, or which parts of its cache key changed
 * since the latest earlier run of the same pipeline that computed the
 * step's key (what `yard pipeline explain RUN STEP` prints). */
typedef struct yard_pipeline_explain {
    uint64_t run_id;
    char *step;
    enum yard_step_state state;
    char *cache_key;          /* "" until the step started */
    uint64_t reused_run;      /* REUSED: the run and step it reused */
    char *reused_step;
    uint64_t compared_run;    /* 0: no earlier run of this step */
    char **lines;             /* for people, one finding each */
    size_t n_lines;
    char *key_parts;          /* the canonical JSON that was hashed */
} yard_pipeline_explain_t;

/* *out: free with yard_pipeline_explain_free.  -ENOENT for an unknown run
 * or step. */
YARD_API int yard_pipeline_explain (yard_client_t *c, uint64_t run_id,
                                    const char *step,
                                    yard_pipeline_explain_t **out);
YARD_API void yard_pipeline_explain_free (yard_pipeline_explain_t **x);

/* Upload the file or folder at path and register it as the next version of
 * dataset name; *version (optional) gets its number. */
YARD_API int yard_dataset_add (yard_client_t *c, const char *name,
                               const char *path, uint32_t *version);

typedef struct yard_dataset {
    char *name;
    uint32_t version;
    char *digest;             /* the content digest (64 hex digits) */
    uint64_t size;            /* bytes */
    int64_t create_ms;
} yard_dataset_t;

/* Every version of dataset name (NULL or "": of every dataset), as `yard
 * dataset list` shows them.  *out gets *n versions; free with
 * yard_datasets_free (&v, n). */
YARD_API int yard_dataset_list (yard_client_t *c, const char *name,
                                yard_dataset_t **out, size_t *n);
YARD_API void yard_datasets_free (yard_dataset_t **v, size_t n);

/* Subscribe to pipeline events (yard_events_next gives them, kind
 * YARD_EVENT_PIPELINE, with run_id, step, run_state and step_state): of
 * run run_id only (no job or node events), or with run_id 0 of every run,
 * along with every job's events and, with nodes, the nodes'.  Free with
 * yard_events_destroy.  -EPROTO (yard_client_errmsg says so) from a
 * scheduler that does not send pipeline events: poll
 * yard_pipeline_status instead. */
YARD_API int yard_events_subscribe_pipelines (yard_client_t *c,
                                              uint64_t run_id, bool nodes,
                                              yard_events_t **out);

/* Building a pipeline in memory, as the pipeline file would write it
 * (docs/pipelines.md, "Building a pipeline in C").  The builder produces
 * the same spec as the file, so a step built here and the same step read
 * from YAML have the same cache key and reuse each other.
 *
 * Every call checks what it can at once (names, references, `when`) and
 * returns 0 or a negative errno; the first error is also kept in the
 * pipeline, and yard_pipeline_submit refuses a pipeline that has one,
 * with its text.  yard_pipeline_submit then checks the whole (unknown
 * needs, cycles, references to steps not needed) as the file loader does.
 * Strings are copied. */
typedef struct yard_pipeline yard_pipeline_t;
typedef struct yard_step yard_step_t;   /* owned by its pipeline */

/* A pipeline called name; NULL with errno set when out of memory (a bad
 * name is kept as the pipeline's error). */
YARD_API yard_pipeline_t *yard_pipeline_new (const char *name);
YARD_API void yard_pipeline_free (yard_pipeline_t **p);

/* Add or replace parameter key (params: in the file). */
YARD_API int yard_pipeline_set_param (yard_pipeline_t *p, const char *key,
                                      const char *value);

/* The folder the steps run in and code paths are relative to (default:
 * the current directory at submit time). */
YARD_API int yard_pipeline_dir (yard_pipeline_t *p, const char *dir);

/* The first error, or NULL. */
YARD_API const char *yard_pipeline_error (const yard_pipeline_t *p);

/* A new step running command run (sh -c); NULL on an error (a bad or
 * duplicate name, no command), which is kept in p. */
YARD_API yard_step_t *yard_pipeline_step (yard_pipeline_t *p,
                                          const char *name, const char *run);

YARD_API int yard_step_needs (yard_step_t *s, const char *step);
/* Input name staged from ref: "dataset:NAME@latest", "dataset:NAME@N",
 * "steps.STEP.outputs.NAME", "artifact:DIGEST". */
YARD_API int yard_step_input (yard_step_t *s, const char *name,
                              const char *ref);
/* A code file, relative to the pipeline's folder; read and uploaded by
 * yard_pipeline_submit. */
YARD_API int yard_step_code (yard_step_t *s, const char *path);
YARD_API int yard_step_output (yard_step_t *s, const char *name);
YARD_API int yard_step_reuse (yard_step_t *s, bool reuse);
/* memory_bytes and time_limit_s: 0 for none. */
YARD_API int yard_step_resources (yard_step_t *s, uint32_t cpus,
                                  uint32_t gpus, uint64_t memory_bytes);
YARD_API int yard_step_time_limit (yard_step_t *s, uint64_t seconds);
YARD_API int yard_step_retries (yard_step_t *s, uint32_t retries);
YARD_API int yard_step_env (yard_step_t *s, const char *key,
                            const char *value);
YARD_API int yard_step_param (yard_step_t *s, const char *key,
                              const char *value);
/* Register output (NULL: the step's only output, declared before) as a
 * version of model when `when` holds (NULL or "": always). */
YARD_API int yard_step_register (yard_step_t *s, const char *model,
                                 const char *output, const char *when);
/* "steps.STEP.metrics.KEY OP NUMBER", STEP one the step needs (declared
 * before). */
YARD_API int yard_step_when (yard_step_t *s, const char *expr);

/* Check p, upload its code files, apply params ("KEY=VALUE", as
 * --param), and start a run; *run_id gets it.  p is unchanged and may be
 * submitted again. */
YARD_API int yard_pipeline_submit (yard_client_t *c, const yard_pipeline_t *p,
                                   const char *const *params, size_t nparams,
                                   uint64_t *run_id);

#ifdef __cplusplus
}
#endif

#endif
