/* pipeline_when.h - whether a conditional pipeline step runs. */
#ifndef YARD_SCHED_PIPELINE_WHEN_H
#define YARD_SCHED_PIPELINE_WHEN_H

#include <stddef.h>

#include "server_int.h"
#include "store_pipeline.h"

/* Decide st's `when` (st's needs all done): 1 run it (also when it has no
 * condition), 0 skip it; why (len bytes) says why.  -EINVAL: the
 * condition is malformed or names a step it does not need (why says so:
 * the step fails); another negative errno: a store error. */
int yard__pipeline_when (yard_server_t *s, const yard_prun_t *run,
                         const Yard__PipelineStep *st, char *why, size_t len);

#endif
