/* test_pipeline_yaml.c - pipeline files (client/pipeline_yaml.c): good
 * files into specs, and bad ones into errors that name their line. */
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

#include "pipeline_yaml.h"

static char dir[] = "/tmp/yard-pyaml-XXXXXX";

static const char good[]
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
      "    resources: {cpus: 2, gpus: 0, memory: 1G, time_limit: 1h}\n"
      "    retries: 2\n"
      "    env: {SEED: \"7\"}\n"
      "    outputs: [model]\n"
      "    register: {model: loan, when: \"metric acc > latest\"}\n";

static int
parse (const char *text, const char *const *params, size_t np,
       Yard__PipelineSpec **spec, yard_error_t *err)
{
    yard_error_clear (err);
    return yard_pipeline_parse (NULL, text, strlen (text), dir, "p.yaml",
                                params, np, spec, err);
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

static void
test_good (void **state)
{
    (void)state;
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    const char *params[] = {"epochs=6", "lr=0.1"};
    assert_int_equal (parse (good, params, 2, &spec, &err), 0);
    assert_string_equal (spec->name, "loan-default");
    assert_int_equal (spec->n_steps, 2);
    assert_int_equal (spec->n_params, 2);
    assert_string_equal (spec->params[0]->key, "epochs");
    assert_string_equal (spec->params[0]->value, "6");
    assert_string_equal (spec->params[1]->key, "lr");
    const Yard__PipelineStep *prep = spec->steps[0], *train = spec->steps[1];
    assert_string_equal (prep->name, "prep");
    assert_true (prep->reuse);
    assert_int_equal (prep->n_inputs, 1);
    assert_string_equal (prep->inputs[0]->name, "raw");
    assert_string_equal (prep->inputs[0]->ref, "dataset:loans@latest");
    assert_int_equal (prep->n_code, 1);
    assert_string_equal (prep->code[0]->path, "prep.py");
    assert_int_equal (strlen (prep->code[0]->digest), 64);
    assert_string_equal (train->needs[0], "prep");
    assert_int_equal (train->cpus, 2);
    assert_int_equal (train->memory_bytes, 1ull << 30);
    assert_int_equal (train->time_limit_s, 3600);
    assert_int_equal (train->retries, 2);
    assert_false (train->reuse);
    assert_string_equal (train->env[0]->key, "SEED");
    assert_non_null (train->register_model);
    assert_string_equal (train->register_model->model, "loan");
    assert_string_equal (train->register_model->output, "model");
    assert_string_equal (train->register_model->when, "metric acc > latest");
    assert_string_equal (spec->submit_dir, dir);
    yard__pipeline_spec__free_unpacked (spec, NULL);
}

/* A bad file fails with EINVAL and a message holding want. */
static void
bad (const char *text, const char *want)
{
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    int rc = parse (text, NULL, 0, &spec, &err);
    if (rc != -EINVAL || !strstr (err.text, want))
        fail_msg ("want -EINVAL and '%s', got %d: %s", want, rc, err.text);
    assert_null (spec);
}

static void
test_bad (void **state)
{
    (void)state;
    bad ("name: x\nsteps: [a\n", "p.yaml:3: not valid YAML");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    colour: red\n",
         "p.yaml:5: unknown key 'colour' in step 'a'");
    bad ("name: x\nfoo: 1\nsteps:\n  a: {run: true}\n",
         "p.yaml:2: unknown key 'foo'");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    needs: [b]\n",
         "line 3: step 'a': it needs 'b', which is not a step");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    needs: [b]\n"
         "  b:\n    run: true\n    needs: [a]\n",
         "cycle: a -> b -> a");
    bad ("name: x\nsteps:\n  a:\n    run: echo ${params.nope}\n",
         "line 3: step 'a': ${params.nope}: no parameter 'nope'");
    bad ("name: x\nsteps:\n  a:\n    run: echo ${outputs.m}\n",
         "no output 'm'");
    bad ("name: x\nsteps:\n  a:\n    run: echo ${HOME}\n",
         "${HOME} is not a reference");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    inputs: {r: \"s3://x\"}\n",
         "p.yaml:5: 's3://x' is not an input reference");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    outputs: [o]\n"
         "  b:\n    run: cat ${steps.a.outputs.o}\n",
         "step 'a' is not in its needs");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    code: [missing.py]\n",
         "p.yaml:5: code file");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    reuse: maybe\n",
         "p.yaml:5: reuse must be true or false");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    retries: -1\n",
         "retries must be a whole number");
    bad ("steps:\n  a: {run: true}\n", "has no name");
    bad ("name: x\n", "has no steps");
    bad ("name: x\nsteps:\n  a: {run: true, needs: [b], needs: [c]}\n",
         "'needs' is given twice");
    bad ("name: x\nname: y\nsteps:\n  a: {run: true}\n",
         "p.yaml:2: 'name' is given twice (first at line 1)");
    bad ("name: x\nsteps:\n  a: {needs: []}\n", "has no run");
    bad ("name: x\nsteps:\n  a:\n    run: true\n    outputs: [m]\n"
         "    register: {model: x, output: n}\n",
         "has no output 'n'");
}

static void
test_literal_dollar (void **state)
{
    (void)state;
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    assert_int_equal (parse ("name: x\nsteps:\n  a: {run: 'echo $${HOME}'}\n",
                             NULL, 0, &spec, &err),
                      0);
    yard__pipeline_spec__free_unpacked (spec, NULL);
    const char *p[] = {"novalue"};
    assert_int_equal (parse ("name: x\nsteps:\n  a: {run: 'true'}\n", p, 1,
                             &spec, &err),
                      -EINVAL);
    assert_non_null (strstr (err.text, "KEY=VALUE"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_good),
        cmocka_unit_test (test_bad),
        cmocka_unit_test (test_literal_dollar),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
