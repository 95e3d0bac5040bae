/* store_pipeline.h - pipeline runs and their steps in SQLite.
 *
 * pipeline_runs: one row per run, with its spec (packed PipelineSpec) and
 * the dataset references it resolved at start (JSON, ref -> digest).
 * pipeline_steps: one row per step of a run, with its state, its job, its
 * cache key and the key's parts (the canonical JSON that was hashed, kept
 * for `yard pipeline explain`), where a reused step's outputs came from,
 * and its outputs (JSON [{"name","digest","size"}]).
 *
 * The scheduler keeps no pipeline state in memory: every event reads the
 * run, changes it and writes it back in the batch transaction, so a batch
 * that rolls back leaves runs as they were.
 */
#ifndef YARD_SCHED_STORE_PIPELINE_H
#define YARD_SCHED_STORE_PIPELINE_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "yard.pb-c.h"

typedef struct yard_pstep {
    char *name;
    Yard__StepState state;
    uint64_t job_id;
    char *cache_key;          /* "" until the step was started */
    char *key_parts;          /* JSON text, "" until then */
    uint64_t reused_run;
    char *reused_step;
    int64_t start_ms, end_ms;
    char *reason;
    char *outputs;            /* JSON array */
} yard_pstep_t;

typedef struct yard_prun {
    uint64_t id;
    char *name;
    Yard__PipelineSpec *spec; /* NULL in lists */
    char *origin;
    Yard__PipelineState state;
    int64_t created_ms, end_ms;
    char *reason;
    uint64_t resumed_from;
    char *inputs;             /* JSON object: ref -> {digest,size,version} */
    yard_pstep_t *steps;      /* in topological order; none in lists */
    size_t nsteps;
} yard_prun_t;

typedef int (*yard_prun_f) (const yard_prun_t *run, void *arg);

int yard_store_pipeline_init (yard_store_t *st, yard_error_t *err);

/* Insert run and every step (run->id is set). */
int yard_store_prun_insert (yard_store_t *st, yard_prun_t *run);

/* Write the run's state, end time, reason and every step. */
int yard_store_prun_save (yard_store_t *st, const yard_prun_t *run);

/* Read a run with its spec and steps.  -ENOENT: no such run; -EIO: its
 * spec does not decode. */
int yard_store_prun_get (yard_store_t *st, uint64_t id, yard_prun_t **out);

/* Runs newest first (name NULL or "": of every pipeline), without spec
 * and steps; *counts, when not NULL, is unused. */
int yard_store_pruns_list (yard_store_t *st, const char *name,
                           uint32_t limit, yard_prun_f cb, void *arg);

/* Steps that completed with key, newest first: cb(run_id, step name,
 * outputs JSON) until it returns non-zero (returned). */
typedef int (*yard_pstep_hit_f) (uint64_t run_id, const char *step,
                                 const char *outputs, void *arg);
int yard_store_pstep_hits (yard_store_t *st, const char *key,
                           yard_pstep_hit_f cb, void *arg);

/* The key parts of step in the latest run of pipeline name before run
 * before that computed one (*parts malloc'd).  -ENOENT: none. */
int yard_store_pstep_previous (yard_store_t *st, const char *name,
                               const char *step, uint64_t before,
                               uint64_t *run_id, char **parts);

/* Record the outputs a step's job reported (JSON array). */
int yard_store_pstep_set_outputs (yard_store_t *st, uint64_t run_id,
                                  const char *step, const char *outputs);

/* Accepts NULL; NULLs the pointer. */
void yard_prun_free (yard_prun_t **run);

#endif
