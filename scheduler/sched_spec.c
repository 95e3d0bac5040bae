/* sched_spec.c - the pipelines held by schedules and triggers (see
 * sched_spec.h). */
#include "sched_spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "pipeline_dag.h"

int
yard__sched_spec_check (const uint8_t *data, size_t len, char **name,
                        yard_error_t *err)
{
    if (len == 0 || len > YARD__SCHED_SPEC_MAX)
        return yard_errorf (err, EINVAL,
                            "the pipeline spec is %s (1 byte to 4 MiB)",
                            len ? "too large" : "missing");
    Yard__PipelineSpec *spec = yard__pipeline_spec__unpack (NULL, len, data);
    if (!spec)
        return yard_errorf (err, EINVAL, "the pipeline spec cannot be "
                                         "decoded");
    int rc = 0;
    size_t *order = calloc (spec->n_steps + 1, sizeof *order);
    if (!order)
        rc = yard_errorf (err, ENOMEM, "out of memory");
    else
        rc = yard_pipeline_check (spec, order, NULL, err);
    free (order);
    if (rc == 0 && name && !(*name = strdup (spec->name ? spec->name : "")))
        rc = yard_errorf (err, ENOMEM, "out of memory");
    yard__pipeline_spec__free_unpacked (spec, NULL);
    return rc;
}

int
yard__sched_spec_start (yard_server_t *s, const uint8_t *data, size_t len,
                        const char *origin, uint64_t *run_id,
                        yard_error_t *err)
{
    Yard__PipelineSpec *spec = yard__pipeline_spec__unpack (NULL, len, data);
    if (!spec)
        return yard_errorf (err, EINVAL, "the stored pipeline spec cannot "
                                         "be decoded");
    int rc = yard__pipeline_start (s, spec, origin, run_id, err);
    yard__pipeline_spec__free_unpacked (spec, NULL);
    return rc;
}
