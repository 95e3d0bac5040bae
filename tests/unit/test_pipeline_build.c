/* test_pipeline_build.c - the pipeline builder (client/pipeline_build.c):
 * a pipeline built with yard_pipeline_new / yard_step_* is the spec its
 * YAML gives (hence the same cache keys), and is refused where the YAML
 * is refused, with the loader's message less the file and line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "pipeline_dag.h"
#include "pipeline_yaml.h"
#include "yard/pipelines.h"

static char dir[] = "/tmp/yard-pbuild-XXXXXX";

static const char loan_yaml[]
    = "name: loan-default\n"
      "params: {epochs: 5}\n"
      "steps:\n"
      "  prep:\n"
      "    run: python3 prep.py --in ${inputs.raw} --out ${outputs.data}\n"
      "    inputs: {raw: \"dataset:loans@latest\"}\n"
      "    code: [prep.py]\n"
      "    outputs: [data]\n"
      "    reuse: true\n"
      "  train:\n"
      "    needs: [prep]\n"
      "    run: ./train --data ${steps.prep.outputs.data} --epochs "
      "${params.epochs} --out ${outputs.model}\n"
      "    resources: {cpus: 2, gpus: 1, memory: 1G, time_limit: 1h}\n"
      "    retries: 2\n"
      "    env: {SEED: \"7\"}\n"
      "    params: {lr: \"0.1\"}\n"
      "    outputs: [model]\n"
      "    register: {model: loan, when: \"metric acc > latest\"}\n"
      "  deploy:\n"
      "    needs: [train]\n"
      "    run: echo deploy\n"
      "    when: steps.train.metrics.acc > 0.5\n";

static yard_pipeline_t *
loan (void)
{
    yard_pipeline_t *p = yard_pipeline_new ("loan-default");
    assert_non_null (p);
    assert_int_equal (yard_pipeline_dir (p, dir), 0);
    assert_int_equal (yard_pipeline_set_param (p, "epochs", "5"), 0);
    yard_step_t *prep = yard_pipeline_step (
        p, "prep", "python3 prep.py --in ${inputs.raw} --out "
                   "${outputs.data}");
    assert_non_null (prep);
    assert_int_equal (yard_step_input (prep, "raw", "dataset:loans@latest"),
                      0);
    assert_int_equal (yard_step_code (prep, "prep.py"), 0);
    assert_int_equal (yard_step_output (prep, "data"), 0);
    assert_int_equal (yard_step_reuse (prep, true), 0);
    yard_step_t *train = yard_pipeline_step (
        p, "train", "./train --data ${steps.prep.outputs.data} --epochs "
                    "${params.epochs} --out ${outputs.model}");
    assert_non_null (train);
    assert_int_equal (yard_step_needs (train, "prep"), 0);
    assert_int_equal (yard_step_resources (train, 2, 1, 1ull << 30), 0);
    assert_int_equal (yard_step_time_limit (train, 3600), 0);
    assert_int_equal (yard_step_retries (train, 2), 0);
    assert_int_equal (yard_step_env (train, "SEED", "7"), 0);
    assert_int_equal (yard_step_param (train, "lr", "0.1"), 0);
    /* register before its output: checked at submit, in any order */
    assert_int_equal (yard_step_register (train, "loan", NULL,
                                          "metric acc > latest"),
                      0);
    assert_int_equal (yard_step_output (train, "model"), 0);
    yard_step_t *deploy = yard_pipeline_step (p, "deploy", "echo deploy");
    assert_non_null (deploy);
    assert_int_equal (yard_step_needs (deploy, "train"), 0);
    assert_int_equal (yard_step_when (deploy, "steps.train.metrics.acc > "
                                              "0.5"),
                      0);
    assert_null (yard_pipeline_error (p));
    return p;
}

static int
setup (void **state)
{
    (void)state;
    if (!mkdtemp (dir))
        return -1;
    char path[256];
    snprintf (path, sizeof path, "%s/prep.py", dir);
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    fputs ("print('prep')\n", f);
    fclose (f);
    return 0;
}

static int
teardown (void **state)
{
    (void)state;
    char path[256];
    snprintf (path, sizeof path, "%s/prep.py", dir);
    unlink (path);
    rmdir (dir);
    return 0;
}

/* The spec's wire bytes, less where it was submitted from. */
static uint8_t *
packed (Yard__PipelineSpec *spec, size_t *len)
{
    char *none = (char *)protobuf_c_empty_string;
    char *src = spec->source, *d = spec->submit_dir;
    spec->source = spec->submit_dir = none;
    *len = yard__pipeline_spec__get_packed_size (spec);
    uint8_t *buf = malloc (*len + 1);
    assert_non_null (buf);
    yard__pipeline_spec__pack (spec, buf);
    spec->source = src;
    spec->submit_dir = d;
    return buf;
}

static Yard__PipelineSpec *
from_yaml (const char *text, const char *const *params, size_t np)
{
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard_pipeline_parse (NULL, text, strlen (text), dir, "p.yaml",
                                  params, np, &spec, &err);
    if (rc < 0)
        fail_msg ("%s", err.text);
    return spec;
}

static void
test_same_spec (void **state)
{
    (void)state;
    const char *params[] = {"epochs=6", "extra=x"};
    yard_pipeline_t *p = loan ();
    for (int round = 0; round < 2; round++) {
        /* round 1: the same pipeline submitted again, with params */
        size_t np = round ? 2 : 0;
        Yard__PipelineSpec *built = NULL;
        yard_error_t err;
        yard_error_clear (&err);
        int rc = yard__pipeline_build_spec (NULL, p, params, np, &built,
                                            &err);
        if (rc < 0)
            fail_msg ("%s", err.text);
        Yard__PipelineSpec *read = from_yaml (loan_yaml, params, np);
        assert_string_equal (built->source, "api");
        assert_string_equal (built->submit_dir, read->submit_dir);
        size_t la, lb;
        uint8_t *a = packed (built, &la), *b = packed (read, &lb);
        assert_int_equal (la, lb);
        assert_memory_equal (a, b, la);
        /* hence the same cache keys */
        for (size_t i = 0; i < built->n_steps; i++) {
            const char *digests[] = {"d1"};
            char *ta = NULL, *tb = NULL;
            char ha[65], hb[65];
            json_t *ka = yard_pipeline_key (built, built->steps[i], digests,
                                            NULL, &ta, ha, NULL);
            json_t *kb = yard_pipeline_key (read, read->steps[i], digests,
                                            NULL, &tb, hb, NULL);
            assert_non_null (ka);
            assert_non_null (kb);
            assert_string_equal (ha, hb);
            json_decref (ka);
            json_decref (kb);
            free (ta);
            free (tb);
        }
        assert_string_equal (built->steps[1]->register_model->output,
                             "model");
        free (a);
        free (b);
        yard__pipeline_spec__free_unpacked (built, NULL);
        yard__pipeline_spec__free_unpacked (read, NULL);
    }
    yard_pipeline_free (&p);
    assert_null (p);
    yard_pipeline_free (&p); /* NULL is fine */
}

/* The builder's error for what the YAML refuses: the loader's message
 * ends with it. */
static void
same_refusal (yard_pipeline_t *p, const char *yaml)
{
    Yard__PipelineSpec *built = NULL, *read = NULL;
    yard_error_t be, ye;
    yard_error_clear (&be);
    yard_error_clear (&ye);
    assert_int_equal (yard__pipeline_build_spec (NULL, p, NULL, 0, &built,
                                                 &be),
                      -EINVAL);
    assert_null (built);
    assert_int_equal (yard_pipeline_parse (NULL, yaml, strlen (yaml), dir,
                                           "p.yaml", NULL, 0, &read, &ye),
                      -EINVAL);
    /* less the hint on how to declare an output, which differs */
    char *hint = strstr (be.text, " (declare it");
    if (hint)
        *hint = '\0';
    if ((hint = strstr (ye.text, " (declare it")))
        *hint = '\0';
    size_t lb = strlen (be.text), ly = strlen (ye.text);
    if (lb == 0 || ly < lb || strcmp (ye.text + ly - lb, be.text) != 0)
        fail_msg ("builder: '%s'\nyaml: '%s'", be.text, ye.text);
    yard_pipeline_free (&p);
}

static void
test_same_refusals (void **state)
{
    (void)state;
    yard_pipeline_t *p = yard_pipeline_new ("bad");
    yard_pipeline_step (p, "a", "echo a");
    yard_step_needs (yard_pipeline_step (p, "b", "echo b"), "nope");
    same_refusal (p, "name: bad\nsteps:\n  a: {run: echo a}\n"
                     "  b: {run: echo b, needs: [nope]}\n");

    p = yard_pipeline_new ("bad");
    yard_step_needs (yard_pipeline_step (p, "a", "echo a"), "b");
    yard_step_needs (yard_pipeline_step (p, "b", "echo b"), "a");
    same_refusal (p, "name: bad\nsteps:\n  a: {run: echo a, needs: [b]}\n"
                     "  b: {run: echo b, needs: [a]}\n");

    p = yard_pipeline_new ("bad");
    yard_step_output (yard_pipeline_step (p, "a", "echo a"), "o");
    yard_pipeline_step (p, "b", "cat ${steps.a.outputs.o}");
    same_refusal (p, "name: bad\nsteps:\n  a: {run: echo a, outputs: [o]}\n"
                     "  b: {run: 'cat ${steps.a.outputs.o}'}\n");

    p = yard_pipeline_new ("bad");
    yard_pipeline_step (p, "a", "echo ${params.nope}");
    same_refusal (p, "name: bad\nsteps:\n  a: {run: 'echo ${params.nope}'}\n");

    p = yard_pipeline_new ("bad");
    yard_step_t *s = yard_pipeline_step (p, "a", "echo a");
    yard_step_output (s, "o");
    yard_step_register (s, "m", "other", NULL);
    same_refusal (p, "name: bad\nsteps:\n  a: {run: echo a, outputs: [o], "
                     "register: {model: m, output: other}}\n");

    p = yard_pipeline_new ("bad");
    yard_pipeline_step (p, "a", "echo a");
    yard_step_when (yard_pipeline_step (p, "b", "echo b"),
                    "steps.a.metrics.x > 1");
    same_refusal (p, "name: bad\nsteps:\n  a: {run: echo a}\n"
                     "  b: {run: echo b, when: 'steps.a.metrics.x > 1'}\n");

    p = yard_pipeline_new ("bad");
    yard_step_code (yard_pipeline_step (p, "a", "echo a"), "missing.py");
    Yard__PipelineSpec *built = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    assert_int_equal (yard__pipeline_build_spec (NULL, p, NULL, 0, &built,
                                                 &err),
                      -EINVAL);
    assert_non_null (strstr (err.text, "missing.py"));
    yard_pipeline_free (&p);
}

static void
test_call_errors_stay (void **state)
{
    (void)state;
    yard_pipeline_t *p = yard_pipeline_new ("ok");
    yard_step_t *a = yard_pipeline_step (p, "a", "echo a");
    assert_non_null (a);
    assert_null (yard_pipeline_step (p, "a", "again"));
    assert_string_equal (yard_pipeline_error (p),
                         "step 'a' is declared twice");
    /* the first error stays */
    assert_int_equal (yard_step_input (a, "x", "dataset:"), -EINVAL);
    assert_string_equal (yard_pipeline_error (p),
                         "step 'a' is declared twice");
    Yard__PipelineSpec *built = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    assert_int_equal (yard__pipeline_build_spec (NULL, p, NULL, 0, &built,
                                                 &err),
                      -EINVAL);
    assert_string_equal (err.text, "step 'a' is declared twice");
    yard_pipeline_free (&p);

    p = yard_pipeline_new ("ok");
    a = yard_pipeline_step (p, "a", "echo a");
    assert_int_equal (yard_step_input (a, "x", "dataset:"), -EINVAL);
    assert_non_null (strstr (yard_pipeline_error (p), "step 'a': "));
    yard_pipeline_free (&p);

    p = yard_pipeline_new ("ok");
    assert_null (yard_pipeline_step (p, "b", ""));
    assert_null (yard_pipeline_step (p, "-x", "echo"));
    assert_string_equal (yard_pipeline_error (p),
                         "step 'b' has no run: command");
    yard_pipeline_free (&p);

    p = yard_pipeline_new ("ok");
    a = yard_pipeline_step (p, "a", "echo a");
    assert_int_equal (yard_step_when (a, "nonsense"), -EINVAL);
    assert_int_equal (yard_step_code (a, "../up.py"), -EINVAL);
    yard_pipeline_free (&p);

    p = yard_pipeline_new ("no spaces");
    assert_non_null (p);
    assert_non_null (strstr (yard_pipeline_error (p), "not a pipeline name"));
    yard_pipeline_free (&p);

    /* no steps, and a bad --param */
    p = yard_pipeline_new ("empty");
    assert_int_equal (yard__pipeline_build_spec (NULL, p, NULL, 0, &built,
                                                 &err),
                      -EINVAL);
    yard_pipeline_step (p, "a", "echo a");
    const char *bad[] = {"novalue"};
    assert_int_equal (yard__pipeline_build_spec (NULL, p, bad, 1, &built,
                                                 &err),
                      -EINVAL);
    assert_non_null (strstr (err.text, "KEY=VALUE"));
    yard_pipeline_free (&p);

    /* NULL handles are refused, not crashed on */
    assert_int_equal (yard_step_needs (NULL, "a"), -EINVAL);
    assert_null (yard_pipeline_step (NULL, "a", "b"));
    assert_int_equal (yard_pipeline_submit (NULL, NULL, NULL, 0, NULL),
                      -EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_spec),
        cmocka_unit_test (test_same_refusals),
        cmocka_unit_test (test_call_errors_stay),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
