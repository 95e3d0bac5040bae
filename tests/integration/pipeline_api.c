/* pipeline_api.c - drives a pipeline through libyard's public C API
 * (<yard/pipelines.h>), for test_pipelines.py:
 *
 *   pipeline_api ENDPOINT dataset NAME PATH     prints the version
 *   pipeline_api ENDPOINT run FILE [K=V]...     runs, waits, prints the run
 *   pipeline_api ENDPOINT rerun RUN             likewise
 *   pipeline_api ENDPOINT text DIR [K=V]...     likewise, the pipeline's
 *                                               YAML read from stdin
 *   pipeline_api ENDPOINT datasets [NAME]       one "NAME VERSION DIGEST
 *                                               SIZE" line per version
 *   pipeline_api ENDPOINT list [NAME [LIMIT]]   one "ID NAME STATE ORIGIN
 *                                               STEPS" line per run
 *   pipeline_api ENDPOINT explain RUN STEP      "STEP STATE REUSED_RUN
 *                                               COMPARED_RUN KEY", then the
 *                                               lines
 *   pipeline_api ENDPOINT build DIR [K=V]...    builds the loan pipeline of
 *                                               docs/pipelines.md with the
 *                                               builder (yard_pipeline_new
 *                                               ...), runs it in DIR, waits,
 *                                               prints the run
 *   pipeline_api ENDPOINT build-bad CASE        builds a wrong pipeline,
 *                                               prints the error of the call
 *                                               or submit that refused it
 *
 * The run is printed as "run ID STATE" and one "STEP STATE JOB REUSED_RUN"
 * line per step.  Exit 0 when the run completed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yard/yard.h"
#include "yard/pipelines.h"

static int
fail (yard_client_t *c, const char *what)
{
    fprintf (stderr, "pipeline_api: %s: %s\n", what, yard_client_errmsg (c));
    return 1;
}

/* The loan-default pipeline of docs/pipelines.md, with shell commands:
 *
 *   name: capi-loan
 *   params: {epochs: 5}
 *   steps:
 *     prep:
 *       run: sh "$YARD_INPUTS/code/prep.sh" ${inputs.raw} ${outputs.data}
 *       inputs: {raw: "dataset:loans@latest"}
 *       code: [prep.sh]
 *       outputs: [data]
 *       reuse: true
 *     train:
 *       needs: [prep]
 *       run: (cat ${steps.prep.outputs.data}/rows; echo ${params.epochs})
 *            > ${outputs.model}/model.txt     (one line)
 *       resources: {cpus: 1, gpus: 0}
 *       retries: 2
 *       env: {MODE: fast}
 *       outputs: [model]
 *       register: {model: capi-loan, output: model}
 */
static yard_pipeline_t *
loan (void)
{
    yard_pipeline_t *p = yard_pipeline_new ("capi-loan");
    if (!p)
        return NULL;
    yard_pipeline_set_param (p, "epochs", "5");
    yard_step_t *prep = yard_pipeline_step (
        p, "prep", "sh \"$YARD_INPUTS/code/prep.sh\" ${inputs.raw} "
                   "${outputs.data}");
    yard_step_input (prep, "raw", "dataset:loans@latest");
    yard_step_code (prep, "prep.sh");
    yard_step_output (prep, "data");
    yard_step_reuse (prep, true);
    yard_step_t *train = yard_pipeline_step (
        p, "train", "(cat ${steps.prep.outputs.data}/rows; echo "
                    "${params.epochs}) > ${outputs.model}/model.txt");
    yard_step_needs (train, "prep");
    yard_step_resources (train, 1, 0, 0);
    yard_step_retries (train, 2);
    yard_step_env (train, "MODE", "fast");
    yard_step_output (train, "model");
    yard_step_register (train, "capi-loan", "model", NULL);
    return p;
}

/* Wrong pipelines, each refused by a call or by yard_pipeline_submit:
 * prints "call: ERROR" or "submit: ERROR". */
static int
build_bad (yard_client_t *c, const char *which)
{
    yard_pipeline_t *p = yard_pipeline_new (!strcmp (which, "name") ? "a b"
                                                                   : "bad");
    if (!p)
        return 2;
    yard_step_t *a = yard_pipeline_step (p, "a", "echo a");
    yard_step_t *b = NULL;
    int rc = 0;
    if (!strcmp (which, "need")) {
        b = yard_pipeline_step (p, "b", "echo b");
        rc = yard_step_needs (b, "nope");
    } else if (!strcmp (which, "cycle")) {
        b = yard_pipeline_step (p, "b", "echo b");
        yard_step_needs (a, "b");
        rc = yard_step_needs (b, "a");
    } else if (!strcmp (which, "ref")) {
        rc = yard_step_input (a, "x", "dataset:");
    } else if (!strcmp (which, "notneeded")) {
        b = yard_pipeline_step (p, "b", "cat ${steps.a.outputs.o}");
        yard_step_output (a, "o");
    } else if (!strcmp (which, "param")) {
        yard_pipeline_step (p, "b", "echo ${params.missing}");
    } else if (!strcmp (which, "dup")) {
        b = yard_pipeline_step (p, "a", "echo again");
        rc = b ? 0 : -1;
    } else if (!strcmp (which, "register")) {
        yard_step_output (a, "o");
        yard_step_register (a, "m", "other", NULL);
    } else if (!strcmp (which, "when")) {
        b = yard_pipeline_step (p, "b", "echo b");
        rc = yard_step_when (b, "steps.a.metrics.acc > 0.5");
    } else if (!strcmp (which, "code")) {
        rc = yard_step_code (a, "../up.sh");
    }
    uint64_t run = 0;
    if (rc < 0)
        printf ("call: %s\n", yard_pipeline_error (p));
    else if (yard_pipeline_submit (c, p, NULL, 0, &run) < 0)
        printf ("submit: %s\n", yard_client_errmsg (c));
    else
        printf ("submitted %" PRIu64 "\n", run);
    yard_pipeline_free (&p);
    return run ? 1 : 0;
}

int
main (int argc, char **argv)
{
    if (argc < 3)
        return 2;
    yard_client_t *c = yard_client_create (argv[1]);
    if (!c)
        return 2;
    int rc = 1;
    uint64_t run = 0;
    if (!strcmp (argv[2], "dataset") && argc == 5) {
        uint32_t version = 0;
        if (yard_dataset_add (c, argv[3], argv[4], &version) < 0)
            rc = fail (c, "dataset add");
        else {
            printf ("%u\n", version);
            rc = 0;
        }
        yard_client_destroy (&c);
        return rc;
    }
    if (!strcmp (argv[2], "datasets") && argc <= 4) {
        yard_dataset_t *v = NULL;
        size_t n = 0;
        if (yard_dataset_list (c, argc > 3 ? argv[3] : NULL, &v, &n) < 0)
            rc = fail (c, "datasets");
        else {
            for (size_t i = 0; i < n; i++)
                printf ("%s %u %s %" PRIu64 "\n", v[i].name, v[i].version,
                        v[i].digest, v[i].size);
            rc = 0;
            for (size_t i = 0; i < n; i++)
                if (v[i].create_ms <= 0)
                    rc = 1;
            yard_datasets_free (&v, n);
        }
        yard_client_destroy (&c);
        return rc;
    }
    if (!strcmp (argv[2], "list") && argc <= 5) {
        yard_pipeline_run_t **runs = NULL;
        size_t n = 0;
        if (yard_pipeline_list (c, argc > 3 ? argv[3] : NULL,
                                argc > 4 ? (uint32_t)strtoul (argv[4], NULL,
                                                              10)
                                         : 0,
                                &runs, &n)
            < 0)
            rc = fail (c, "list");
        else {
            for (size_t i = 0; i < n; i++)
                printf ("%" PRIu64 " %s %s %s %zu\n", runs[i]->id,
                        runs[i]->name,
                        yard_pipeline_state_str (runs[i]->state),
                        runs[i]->origin, runs[i]->n_steps);
            yard_pipeline_runs_free (&runs, n);
            rc = 0;
        }
        yard_client_destroy (&c);
        return rc;
    }
    if (!strcmp (argv[2], "explain") && argc == 5) {
        yard_pipeline_explain_t *x = NULL;
        if (yard_pipeline_explain (c, strtoull (argv[3], NULL, 10), argv[4],
                                   &x)
            < 0)
            rc = fail (c, "explain");
        else {
            printf ("%s %s %" PRIu64 " %" PRIu64 " %s\n", x->step,
                    yard_step_state_str (x->state), x->reused_run,
                    x->compared_run, x->cache_key);
            for (size_t i = 0; i < x->n_lines; i++)
                printf ("%s\n", x->lines[i]);
            rc = *x->key_parts == '{' ? 0 : 1;
            yard_pipeline_explain_free (&x);
        }
        yard_client_destroy (&c);
        return rc;
    }
    if (argc < 4)
        goto out;
    if (!strcmp (argv[2], "build-bad")) {
        rc = build_bad (c, argv[3]);
        goto out;
    }
    if (!strcmp (argv[2], "build")) {
        yard_pipeline_t *p = loan ();
        if (!p || yard_pipeline_dir (p, argv[3]) < 0) {
            rc = 2;
            yard_pipeline_free (&p);
            goto out;
        }
        rc = yard_pipeline_submit (c, p, (const char *const *)argv + 4,
                                   (size_t)(argc - 4), &run);
        yard_pipeline_free (&p);
        if (rc < 0) {
            rc = fail (c, "build");
            goto out;
        }
        rc = 1;
    } else if (!strcmp (argv[2], "run")) {
        if (yard_pipeline_run_file (c, argv[3], (const char *const *)argv + 4,
                                    (size_t)(argc - 4), 0, &run)
            < 0) {
            rc = fail (c, "run");
            goto out;
        }
    } else if (!strcmp (argv[2], "text")) {
        static char text[1 << 16];
        size_t len = fread (text, 1, sizeof text - 1, stdin);
        text[len] = '\0';
        if (yard_pipeline_run_text (c, text, argv[3],
                                    (const char *const *)argv + 4,
                                    (size_t)(argc - 4), 0, &run)
            < 0) {
            rc = fail (c, "text");
            goto out;
        }
    } else if (!strcmp (argv[2], "rerun")) {
        if (yard_pipeline_rerun (c, strtoull (argv[3], NULL, 10), &run) < 0) {
            rc = fail (c, "rerun");
            goto out;
        }
    } else
        goto out;
    yard_pipeline_run_t *r = NULL;
    for (int i = 0; i < 600; i++) {
        if (yard_pipeline_status (c, run, &r) < 0) {
            rc = fail (c, "status");
            goto out;
        }
        if (r->state != YARD_PIPELINE_RUNNING)
            break;
        yard_pipeline_run_free (&r);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep (&ts, NULL);
    }
    if (!r)
        goto out;
    printf ("run %" PRIu64 " %s\n", r->id, yard_pipeline_state_str (r->state));
    for (size_t i = 0; i < r->n_steps; i++)
        printf ("%s %s %" PRIu64 " %" PRIu64 "\n", r->steps[i].name,
                yard_step_state_str (r->steps[i].state), r->steps[i].job_id,
                r->steps[i].reused_run);
    rc = r->state == YARD_PIPELINE_COMPLETED ? 0 : 1;
    yard_pipeline_run_free (&r);
out:
    yard_client_destroy (&c);
    return rc;
}
