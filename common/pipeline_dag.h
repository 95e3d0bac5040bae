/* pipeline_dag.h - what the client and the scheduler both know about a
 * pipeline spec: its validation (names, needs, cycles, input references,
 * ${...} references), the order its steps run in, the command a step runs,
 * and the cache key that decides whether a step may be reused.
 *
 * References a step's `run` may hold:
 *   ${params.NAME}            the parameter's value (step params override
 *                             the pipeline's), substituted as it is
 *   ${inputs.NAME}            "$YARD_INPUTS/NAME": the staged input
 *   ${outputs.NAME}           "$YARD_OUTPUTS/NAME": a folder the step fills
 *   ${steps.STEP.outputs.X}   "$YARD_INPUTS/steps/STEP/X": an output of a
 *                             step it needs, staged
 *
 * The cache key is the sha256 of a canonical JSON object (keys sorted, no
 * spaces) with the command after parameter substitution, the step's
 * environment, the parameters it used, its code files' digests by path,
 * its inputs' content digests by name and the names of its outputs: names
 * and paths of inputs do not enter it, only their content.
 */
#ifndef YARD_PIPELINE_DAG_H
#define YARD_PIPELINE_DAG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "yard.pb-c.h"

#define YARD_PIPELINE_MAX_STEPS 1000
#define YARD_PIPELINE_NAME_MAX 128
#define YARD_PIPELINE_MAX_NEEDS 10000   /* needs of all steps together */
#define YARD_PIPELINE_MAX_LIST 256      /* needs, inputs, ... of one step */
#define YARD_PIPELINE_MAX_RUN 65536     /* bytes of a run command */

/* Where an input comes from. */
typedef enum {
    YARD_PREF_DATASET = 1,    /* dataset:NAME@latest | dataset:NAME@N */
    YARD_PREF_STEP = 2,       /* steps.STEP.outputs.NAME */
    YARD_PREF_ARTIFACT = 3,   /* artifact:DIGEST */
} yard_pref_kind_t;

typedef struct yard_pref {
    yard_pref_kind_t kind;
    char name[YARD_PIPELINE_NAME_MAX + 1];    /* dataset or step */
    char output[YARD_PIPELINE_NAME_MAX + 1];  /* step output */
    unsigned version;                         /* dataset: 0 = latest */
    char digest[65];                          /* artifact */
} yard_pref_t;

/* A name as steps, outputs, inputs and params use: 1..128 of [A-Za-z0-9_-],
 * not starting with '-'. */
bool yard_pipeline_name_ok (const char *s);

/* Parse an input reference.  -EINVAL and err when it is none of the
 * forms above. */
int yard_pipeline_ref_parse (const char *ref, yard_pref_t *out,
                             yard_error_t *err);

/* Check spec and fill order (spec->n_steps entries) with the steps'
 * indexes in a topological order (a step after every step it needs; among
 * steps ready together, file order).  lines, when not NULL, holds each
 * step's line in its YAML file, used in the messages.  -EINVAL and err on
 * the first problem: a bad or duplicate name, a need of an unknown step,
 * a cycle, an input whose step is not needed or has no such output, an
 * unknown ${...} reference. */
int yard_pipeline_check (const Yard__PipelineSpec *spec, size_t *order,
                         const unsigned *lines, yard_error_t *err);

/* The value of parameter name for step (step params first), or NULL. */
const char *yard_pipeline_param (const Yard__PipelineSpec *spec,
                                 const Yard__PipelineStep *step,
                                 const char *name);

/* The step's command with every reference substituted (*out malloc'd).
 * used_params, when not NULL, is a jansson object that gets each parameter
 * the command used, name -> value.  -EINVAL and err on a bad reference. */
struct json_t;
int yard_pipeline_expand (const Yard__PipelineSpec *spec,
                          const Yard__PipelineStep *step, char **out,
                          struct json_t *used_params, yard_error_t *err);

/* The cache key parts of a step (a jansson object, new reference) and its
 * canonical text (*text malloc'd) and sha256 (hex, 65 bytes).
 * input_digests[i] is the content digest of step->inputs[i]; upstream
 * (may be NULL) maps "STEP/OUTPUT" to the digest of every output of the
 * steps it needs, which its command may read whether or not it declared
 * them as inputs.  NULL on memory exhaustion or a bad reference (err says
 * which). */
struct json_t *yard_pipeline_key (const Yard__PipelineSpec *spec,
                                  const Yard__PipelineStep *step,
                                  const char *const *input_digests,
                                  struct json_t *upstream, char **text,
                                  char *hex, yard_error_t *err);

/* Lines for people saying how key parts b (this run) differ from a (an
 * earlier run): "command changed", "param epochs 5 -> 6", "code prep.py
 * changed: a1b2c3d4.. -> c3d4e5f6..", "input raw changed: ..". Each line
 * is appended to lines (a jansson array).  Returns how many. */
size_t yard_pipeline_key_diff (struct json_t *a, struct json_t *b,
                               struct json_t *lines);

#endif
