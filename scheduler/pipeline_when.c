/* pipeline_when.c - conditional steps: `when: steps.S.metrics.K OP N`
 * (common/step_when.h) decided when the step's needs are met.
 *
 * The metric is the latest value of K reported by S's job.  When S was
 * reused, that is the job of the completed step it reused. */
#include "pipeline_when.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "models.h"
#include "step_when.h"
#include "store_models.h"

/* The job that computed step name of run (following one reuse). */
static int
step_job (yard_server_t *s, const yard_prun_t *run, const char *name,
          uint64_t *job)
{
    *job = 0;
    for (size_t i = 0; i < run->nsteps; i++) {
        const yard_pstep_t *p = &run->steps[i];
        if (strcmp (p->name, name) != 0)
            continue;
        if (p->job_id || !p->reused_run)
            *job = p->job_id;
        else {
            yard_prun_t *from = NULL;
            int rc = yard_store_prun_get (s->store, p->reused_run, &from);
            if (rc < 0 && rc != -ENOENT)
                return rc;
            for (size_t k = 0; from && k < from->nsteps; k++)
                if (strcmp (from->steps[k].name, p->reused_step) == 0)
                    *job = from->steps[k].job_id;
            yard_prun_free (&from);
        }
        return 0;
    }
    return 0;
}

int
yard__pipeline_when (yard_server_t *s, const yard_prun_t *run,
                     const Yard__PipelineStep *st, char *why, size_t len)
{
    if (!st->when || !*st->when)
        return 1;
    yard_step_when_t w;
    yard_error_t err;
    yard_error_clear (&err);
    if (yard_step_when_parse (st->when, &w, &err) < 0) {
        snprintf (why, len, "%s", err.text);
        return -EINVAL;
    }
    bool needed = false;
    for (size_t i = 0; i < st->n_needs; i++)
        needed = needed || strcmp (st->needs[i], w.step) == 0;
    if (!needed) {
        snprintf (why, len, "when: step %s is not among the steps it needs",
                  w.step);
        return -EINVAL;
    }
    uint64_t job = 0;
    int rc = step_job (s, run, w.step, &job);
    if (rc < 0)
        return rc;
    Yard__MetricValue **m = NULL;
    size_t n = 0;
    if (job && (rc = yard_store_job_latest_metrics (s->store, job, &m, &n)) < 0)
        return rc;
    bool have = false;
    double v = 0;
    for (size_t i = 0; i < n && !have; i++)
        if (strcmp (m[i]->key, w.key) == 0) {
            have = true;
            v = m[i]->value;
        }
    yard_store_model_metrics_free (m, n);
    return yard_step_when_eval (&w, have, v, why, len) ? 1 : 0;
}
