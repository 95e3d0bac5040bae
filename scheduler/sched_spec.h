/* sched_spec.h - what schedules.c and triggers.c share: checking and
 * starting the encoded PipelineSpec a schedule or trigger holds. */
#ifndef YARD_SCHED_SCHED_SPEC_H
#define YARD_SCHED_SCHED_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "server_int.h"

#define YARD__SCHED_SPEC_MAX (4u << 20)

/* Decode and check an encoded PipelineSpec; *name (optional) gets a copy of
 * the pipeline's name (free it).  0 or -EINVAL with err filled. */
int yard__sched_spec_check (const uint8_t *data, size_t len, char **name,
                            yard_error_t *err);

/* Start one run of the encoded spec with origin (in the current batch).
 * 0 and *run_id, or -errno with err filled. */
int yard__sched_spec_start (yard_server_t *s, const uint8_t *data,
                            size_t len, const char *origin, uint64_t *run_id,
                            yard_error_t *err);

#endif
