/* fuzz_pipeline.c - libFuzzer target for pipeline specs: the YAML parser
 * (client/pipeline_yaml.c) and, reading the same bytes as a wire
 * PipelineSpec, the scheduler's validation, commands and cache keys
 * (common/pipeline_dag.c). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_dag.h"
#include "pipeline_yaml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
exercise (const Yard__PipelineSpec *spec)
{
    size_t *order = calloc (spec->n_steps ? spec->n_steps : 1, sizeof *order);
    yard_error_t err;
    if (!order || yard_pipeline_check (spec, order, NULL, &err) < 0) {
        free (order);
        return;
    }
    for (size_t i = 0; i < spec->n_steps; i++) {
        const Yard__PipelineStep *st = spec->steps[order[i]];
        const char **d = calloc (st->n_inputs + 1, sizeof *d);
        if (!d)
            break;
        for (size_t j = 0; j < st->n_inputs; j++)
            d[j] = "0000000000000000000000000000000000000000000000000000000000000000";
        char hex[65], *text = NULL;
        json_t *parts = yard_pipeline_key (spec, st, d, NULL, &text, hex, &err);
        if (parts) {
            json_t *lines = json_array ();
            (void)yard_pipeline_key_diff (parts, parts, lines);
            json_decref (lines);
        }
        json_decref (parts);
        free (text);
        free (d);
    }
    free (order);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    if (yard_pipeline_parse (NULL, (const char *)data, size, "/nonexistent",
                             "fuzz.yaml", NULL, 0, &spec, &err)
        == 0) {
        exercise (spec);
        yard__pipeline_spec__free_unpacked (spec, NULL);
    }
    spec = yard__pipeline_spec__unpack (NULL, size, data);
    if (spec) {
        exercise (spec);
        yard__pipeline_spec__free_unpacked (spec, NULL);
    }
    return 0;
}
