/* models.h - the model registry: named models with numbered versions, each
 * an artifact with the metrics it was registered with (store_models.h).
 *
 * Versions are registered by hand (ModelRequest "register", `yard model
 * register`) or by a pipeline step's `register:` block when the step
 * completes; registering a version fires the `model:NAME` triggers.
 */
#ifndef YARD_SCHED_MODELS_H
#define YARD_SCHED_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "msg.h"
#include "server_int.h"

/* A parsed registration condition (ModelRegistration.when):
 *   "" or "always"                   always register
 *   "metric KEY OP latest"           compare with the latest version's KEY
 *   "metric KEY OP NUMBER"           compare with a constant
 * OP is one of > >= < <=.  A model with no version yet always registers; a
 * latest version without KEY does not block; a job that did not report KEY
 * never registers under a metric condition. */
typedef struct yard_model_when {
    bool always;
    char key[128];
    char op[4];
    bool vs_latest;
    double constant;
} yard_model_when_t;

/* 0, or -EINVAL with err saying what is wrong. */
int yard_model_when_parse (const char *text, yard_model_when_t *w,
                           yard_error_t *err);

/* Whether value (have_value: the job reported it) passes w against the
 * latest version's value (have_latest: there is a latest version with the
 * key).  why (len bytes) says why, for logs and status. */
bool yard_model_when_holds (const yard_model_when_t *w, bool have_value,
                            double value, bool have_latest, double latest,
                            char *why, size_t len);

/* Whether name is a valid model or dataset name: 1-128 of [A-Za-z0-9._-],
 * not starting with '.' or '-'. */
bool yard_model_name_ok (const char *name);

/* Register digest (present in the artifact store, size bytes) as the next
 * version of model, inside the current batch, and fire the model's
 * triggers.  *version gets the new number.  0 or -errno (err filled). */
int yard__models_register (yard_server_t *s, const char *model,
                           const char *digest, uint64_t size,
                           Yard__MetricValue *const *metrics, size_t nmetrics,
                           uint64_t job_id, uint64_t run_id, const char *step,
                           uint32_t *version, yard_error_t *err);

/* Called by the pipeline engine inside the batch that records a step as
 * completed, when spec has a register_model block: registers the step's
 * output spec->register_model->output (from outputs) as a version of
 * spec->register_model->model with the latest metric values of job_id,
 * when the block's condition holds.  0 whether or not it registered
 * (the decision is logged); -errno with err filled when the block cannot
 * be honoured (no such output, bad condition) or the store failed. */
int yard__models_step_completed (yard_server_t *s, uint64_t run_id,
                                 const char *step, uint64_t job_id,
                                 const Yard__PipelineStep *spec,
                                 const Yard__NamedDigest *const *outputs,
                                 size_t n_outputs, yard_error_t *err);

/* Open the tables (start-up).  0 or -errno with err filled. */
int yard__models_init (yard_server_t *s, yard_error_t *err);

/* ModelRequest on the client port. */
void yard__on_model (yard_server_t *s, const yard_peer_t *peer,
                     yard_node_t *node, yard_env_t *env);

#endif
