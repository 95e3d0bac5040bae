/* step_when.h - the condition of a conditional pipeline step.
 *
 *   when: steps.STEP.metrics.KEY OP NUMBER
 *
 * OP is one of > >= < <= == !=.  The step runs only when the latest value
 * of KEY reported by STEP's job (its highest attempt, last line) compares
 * true with NUMBER; STEP must be one the step needs, so its metrics are
 * final when the condition is evaluated.  A STEP that did not report KEY
 * makes the condition false.  Example: retrain only on drift,
 *
 *   when: steps.drift.metrics.psi_max > 0.2
 *
 * Pure functions, shared by the pipeline loaders and the engine.
 */
#ifndef YARD_STEP_WHEN_H
#define YARD_STEP_WHEN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define YARD_STEP_WHEN_NAME_MAX 128

typedef struct yard_step_when {
    char step[YARD_STEP_WHEN_NAME_MAX + 1];
    char key[YARD_STEP_WHEN_NAME_MAX + 1];
    char op[3];
    double value;
} yard_step_when_t;

/* Parse text.  0, or -EINVAL with err saying what is wrong. */
int yard_step_when_parse (const char *text, yard_step_when_t *w,
                          yard_error_t *err);

/* Whether the condition holds for the metric (have: STEP reported KEY).
 * why (len bytes, optional) says why, for the step's reason. */
bool yard_step_when_eval (const yard_step_when_t *w, bool have, double v,
                          char *why, size_t len);

/* Whether the step that a parsed when names is one of needs: a condition
 * may only read a step that runs first. */
bool yard_step_when_needed (const yard_step_when_t *w,
                            char *const *needs, size_t n_needs);

#endif
