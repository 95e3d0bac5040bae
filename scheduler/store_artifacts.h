/* store_artifacts.h - what in the state database refers to the artifact
 * store's blobs (part of the store, see store.h).
 *
 *   job_outputs(job_id, attempt, name, digest, size)
 *       the folders an attempt collected (JobSpec.collect), from its
 *       JobFinished, written in the batch that applies it;
 *   checkpoints(job_id, name, attempt, step, digest, size, time_ms, node)
 *       the checkpoints committed by workers without a shared checkpoint
 *       root, the newest JobSpec.keep_checkpoints of each job;
 *   artifact_refs(digest, owner)
 *       references held by other features (datasets, step outputs,
 *       models): owner is a free-form "feature:key" string.
 *
 * Every digest in these tables is kept by the artifact GC.  Tables are
 * created with CREATE TABLE IF NOT EXISTS when the scheduler opens the
 * store, so older databases gain them without a schema version.
 */
#ifndef YARD_SCHED_STORE_ARTIFACTS_H
#define YARD_SCHED_STORE_ARTIFACTS_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "yard.pb-c.h"

int yard_store_artifacts_init (yard_store_t *st, yard_error_t *err);

/* Record (or replace) one output of an attempt.  0 or -errno. */
int yard_store_output_put (yard_store_t *st, uint64_t job_id,
                           uint32_t attempt, const char *name,
                           const char *digest, uint64_t size);

/* One output row; strings borrowed for the callback's duration. */
typedef int (*yard_store_output_f) (uint32_t attempt, const char *name,
                                    const char *digest, uint64_t size,
                                    void *arg);

/* Every output of job_id by attempt, then name.  A non-zero return of cb
 * stops the walk and is returned. */
int yard_store_outputs (yard_store_t *st, uint64_t job_id,
                        yard_store_output_f cb, void *arg);

/* Add / remove a reference by owner.  0 or -errno. */
int yard_store_artifact_ref (yard_store_t *st, const char *digest,
                             const char *owner);
int yard_store_artifact_unref (yard_store_t *st, const char *digest,
                               const char *owner);

/* Every digest that some table refers to (job outputs, artifact refs and
 * checkpoints), once each.  cb
 * gets each; a non-zero return stops the walk and is returned. */
typedef int (*yard_store_digest_f) (const char *digest, void *arg);
int yard_store_referenced_digests (yard_store_t *st, yard_store_digest_f cb,
                                   void *arg);

/* Record a committed checkpoint (replacing one of the same name) and keep
 * only the newest `keep` of its job.  Newest means committed last: commits
 * of stale attempts are refused, so the order of commits is the order of
 * the job's progress, whatever the workers' clocks say.  0 or -errno. */
int yard_store_checkpoint_put (yard_store_t *st,
                               const Yard__CheckpointRecord *r,
                               uint32_t keep);

/* A job's checkpoints, newest first; the record is borrowed for the
 * callback.  A non-zero return of cb stops the walk and is returned. */
typedef int (*yard_store_checkpoint_f) (const Yard__CheckpointRecord *r,
                                        void *arg);
int yard_store_checkpoints (yard_store_t *st, uint64_t job_id,
                            yard_store_checkpoint_f cb, void *arg);

#endif
