/* pipeline.h - the pipeline engine of the scheduler (pipeline.c) and its
 * client requests (server_pipeline.c).  See docs/pipelines.md.
 *
 * A run's steps become jobs when their needs are met.  At that moment every
 * input is resolved to a content digest (datasets were resolved once, at run
 * start; an upstream output comes from its step's JobFinished.outputs), the
 * step's cache key is computed (common/pipeline_dag.h), and when reuse is on
 * and a completed step with that key still has all of its outputs in the
 * artifact store, the step is REUSED without running.  Otherwise a job is
 * submitted: `sh -c COMMAND` in the pipeline file's folder, its inputs
 * staged (StageIn) and its outputs collected (collect), with
 * JobSpec.pipeline_run/pipeline_step naming the step.
 *
 * Every change is written in the batch transaction; nothing about runs is
 * kept in memory between batches.
 */
#ifndef YARD_SCHED_PIPELINE_H
#define YARD_SCHED_PIPELINE_H

#include <stdint.h>

#include "error.h"
#include "server_int.h"
#include "yard.pb-c.h"

/* Create the tables (datasets, runs, steps) at open. */
int yard__pipeline_init (yard_server_t *s, yard_error_t *err);

/* Start a run of spec (validated here; copied, the caller keeps spec),
 * inside the current batch: the run is committed with the batch.  origin
 * says who started it: "cli", "schedule:NAME", "trigger:NAME".  Steps
 * whose needs are met start (or are reused) at once.  Returns 0 and
 * *run_id, or -EINVAL (bad spec, unknown dataset: err says why) or the
 * batch's store error. */
int yard__pipeline_start (yard_server_t *s, const Yard__PipelineSpec *spec,
                          const char *origin, uint64_t *run_id,
                          yard_error_t *err);

/* Like yard__pipeline_start; resume_from (0: none) names an earlier run
 * whose completed steps are reused when their keys still match, whether or
 * not the steps ask for reuse. */
int yard__pipeline_start_ex (yard_server_t *s, const Yard__PipelineSpec *spec,
                             const char *origin, uint64_t resume_from,
                             uint64_t *run_id, yard_error_t *err);

/* A step's job reported its collected outputs (JobFinished of its last
 * attempt, exit 0): keep them with the step.  No-op for other jobs. */
void yard__pipeline_outputs (yard_server_t *s, const yard_job_t *job,
                             const Yard__JobFinished *f);

/* A job ended as state (called by yard__job_end): when it is a step,
 * record the end and move its run on. */
void yard__pipeline_job_ended (yard_server_t *s, const yard_job_t *job,
                               Yard__JobState state);

/* Client requests (server_pipeline.c). */
void yard__on_pipeline_run (yard_server_t *, const yard_peer_t *,
                            yard_node_t *, yard_env_t *);
void yard__on_pipeline_status (yard_server_t *, const yard_peer_t *,
                               yard_node_t *, yard_env_t *);
void yard__on_pipeline_cancel (yard_server_t *, const yard_peer_t *,
                               yard_node_t *, yard_env_t *);
void yard__on_pipeline_list (yard_server_t *, const yard_peer_t *,
                             yard_node_t *, yard_env_t *);
void yard__on_pipeline_explain (yard_server_t *, const yard_peer_t *,
                                yard_node_t *, yard_env_t *);
void yard__on_dataset (yard_server_t *, const yard_peer_t *, yard_node_t *,
                       yard_env_t *);

/* Cancel run: its waiting steps are cancelled, its running steps' jobs
 * stopped.  -ENOENT: no such run. */
int yard__pipeline_cancel (yard_server_t *s, uint64_t run_id,
                           const char *why);

#endif
