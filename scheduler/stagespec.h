/* stagespec.h - checks of a job spec's staged inputs (stage_in) and
 * collected outputs (collect), done at submit so that a job that could
 * never start is refused with the reason rather than failing on a node. */
#ifndef YARD_SCHED_STAGESPEC_H
#define YARD_SCHED_STAGESPEC_H

#include "error.h"
#include "yard.pb-c.h"

#define YARD_STAGE_MAX_INPUTS 64   /* worker/stage.h STAGE_MAX_ITEMS */
#define YARD_STAGE_MAX_OUTPUTS 16  /* worker/jobdir.h JOBDIR_OUTPUTS_MAX */
#define YARD_STAGE_PATH_MAX 255
#define YARD_STAGE_NAME_MAX 127

/* stage_in paths relative, inside $YARD_INPUTS (no "..", ".", empty part,
 * leading or trailing '/'), each digest 64 lowercase hex, no path twice;
 * collect names one folder name each, no name twice.  0 or -EINVAL with
 * err saying which. */
int yard_stage_spec_check (const Yard__JobSpec *spec, yard_error_t *err);

#endif
