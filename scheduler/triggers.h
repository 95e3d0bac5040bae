/* triggers.h - pipelines started by events: a dataset's new version
 * ("dataset:NAME") or a model's new version ("model:NAME").  A trigger
 * holds an encoded PipelineSpec; each event starts one run of it through
 * yard__pipeline_start in the batch that recorded the event, with origin
 * "trigger:NAME".
 */
#ifndef YARD_SCHED_TRIGGERS_H
#define YARD_SCHED_TRIGGERS_H

#include <stdint.h>

#include "server_int.h"

/* Called after a new dataset version is written (in that batch). */
void yard__triggers_dataset_added (yard_server_t *s, const char *name,
                                   uint32_t version);

/* Called after a new model version is written (in that batch).  run_id:
 * the pipeline run that registered it (0: none); a run started by a
 * trigger does not fire that same trigger again, so a pipeline that
 * registers the model its trigger watches does not loop. */
void yard__triggers_model_registered (yard_server_t *s, const char *name,
                                      uint32_t version, uint64_t run_id);

/* TriggerRequest on the client port. */
void yard__on_trigger (yard_server_t *s, const yard_peer_t *peer,
                       yard_node_t *node, yard_env_t *env);

#endif
