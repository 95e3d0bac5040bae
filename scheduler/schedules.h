/* schedules.h - pipelines started by the cron timer.
 *
 * A schedule holds a 5-field cron expression (cron.h) and an encoded
 * PipelineSpec.  The scheduler's cron tick checks every schedule: when a
 * matching minute lies between its last fire (or its creation) and now, it
 * starts one run (origin "schedule:NAME") and records now as the last
 * fire, in the same batch.  So a scheduler that was down across several
 * matching minutes starts one run at start-up, not one per missed minute.
 */
#ifndef YARD_SCHED_SCHEDULES_H
#define YARD_SCHED_SCHEDULES_H

#include "server_int.h"

/* Load the schedules (start-up).  0 or -errno with err filled. */
int yard__schedules_init (yard_server_t *s, yard_error_t *err);
void yard__schedules_fini (yard_server_t *s);

/* Cron tick: start the runs that are due. */
void yard__schedules_tick (yard_server_t *s);

/* ScheduleRequest on the client port. */
void yard__on_schedule (yard_server_t *s, const yard_peer_t *peer,
                        yard_node_t *node, yard_env_t *env);

#endif
