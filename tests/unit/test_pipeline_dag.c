/* test_pipeline_dag.c - spec validation, step order, commands and cache
 * keys (common/pipeline_dag.c). */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline_dag.h"
#include "pipeline_yaml.h"

static Yard__PipelineSpec *
load (const char *text)
{
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    if (yard_pipeline_parse (NULL, text, strlen (text), "/tmp", "p.yaml",
                             NULL, 0, &spec, &err)
        < 0)
        fail_msg ("parse: %s", err.text);
    return spec;
}

static void
test_order (void **state)
{
    (void)state;
    /* file order d, c, b, a; c needs d and b, a needs c */
    Yard__PipelineSpec *spec = load ("name: x\nsteps:\n"
                                     "  a: {run: 'true', needs: [c]}\n"
                                     "  c: {run: 'true', needs: [d, b]}\n"
                                     "  b: {run: 'true'}\n"
                                     "  d: {run: 'true'}\n");
    size_t order[4];
    yard_error_t err;
    assert_int_equal (yard_pipeline_check (spec, order, NULL, &err), 0);
    const char *want[] = {"b", "d", "c", "a"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal (spec->steps[order[i]]->name, want[i]);
    yard__pipeline_spec__free_unpacked (spec, NULL);
}

static void
test_refs (void **state)
{
    (void)state;
    yard_pref_t r;
    assert_int_equal (yard_pipeline_ref_parse ("dataset:loans@latest", &r,
                                               NULL),
                      0);
    assert_int_equal (r.kind, YARD_PREF_DATASET);
    assert_string_equal (r.name, "loans");
    assert_int_equal (r.version, 0);
    assert_int_equal (yard_pipeline_ref_parse ("dataset:loans@3", &r, NULL),
                      0);
    assert_int_equal (r.version, 3);
    assert_int_equal (yard_pipeline_ref_parse ("dataset:loans", &r, NULL), 0);
    assert_int_equal (yard_pipeline_ref_parse ("steps.prep.outputs.data", &r,
                                               NULL),
                      0);
    assert_int_equal (r.kind, YARD_PREF_STEP);
    assert_string_equal (r.name, "prep");
    assert_string_equal (r.output, "data");
    const char *badrefs[] = {"dataset:@1", "dataset:x@0", "dataset:x@-1",
                             "dataset:x@1a", "steps.a.outputs.", "steps..x",
                             "artifact:abc", "file:/etc/passwd", ""};
    for (size_t i = 0; i < sizeof badrefs / sizeof badrefs[0]; i++)
        assert_int_equal (yard_pipeline_ref_parse (badrefs[i], &r, NULL),
                          -EINVAL);
}

static const char base[]
    = "name: x\nparams: {epochs: 5, unused: 1}\nsteps:\n"
      "  a:\n    run: ./t --e ${params.epochs} --in ${inputs.raw} --out "
      "${outputs.m}\n"
      "    inputs: {raw: \"dataset:d@latest\"}\n    outputs: [m]\n";

static char *
key_of (Yard__PipelineSpec *spec, const char *digest, json_t **parts)
{
    const char *d[] = {digest};
    char hex[65], *text = NULL;
    yard_error_t err;
    *parts = yard_pipeline_key (spec, spec->steps[0], d, NULL, &text, hex,
                                &err);
    assert_non_null (*parts);
    free (text);
    return strdup (hex);
}

static void
test_key (void **state)
{
    (void)state;
    const char *d1 = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *d2 = "2222222222222222222222222222222222222222222222222222222222222222";
    Yard__PipelineSpec *spec = load (base);
    json_t *p1, *p2, *p3, *p4;
    char *k1 = key_of (spec, d1, &p1);
    char *k2 = key_of (spec, d1, &p2);
    assert_string_equal (k1, k2);           /* deterministic */
    char *k3 = key_of (spec, d2, &p3);
    assert_string_not_equal (k1, k3);       /* input content matters */
    /* the command after substitution, with only the params it used */
    assert_string_equal (json_string_value (json_object_get (p1, "command")),
                         "./t --e 5 --in \"$YARD_INPUTS/raw\" --out "
                         "\"$YARD_OUTPUTS/m\"");
    assert_null (json_object_get (json_object_get (p1, "params"), "unused"));
    /* an unused param changing does not change the key */
    free (spec->params[1]->value);
    spec->params[1]->value = strdup ("2");
    char *k4 = key_of (spec, d1, &p4);
    assert_string_equal (k1, k4);
    json_t *lines = json_array ();
    assert_int_equal (yard_pipeline_key_diff (p1, p3, lines), 1);
    assert_non_null (strstr (json_string_value (json_array_get (lines, 0)),
                             "input raw changed: 11111111.. -> 22222222.."));
    /* a used param changing does */
    free (spec->params[0]->value);
    spec->params[0]->value = strdup ("6");
    json_t *p5;
    char *k5 = key_of (spec, d1, &p5);
    assert_string_not_equal (k1, k5);
    json_array_clear (lines);
    assert_int_equal (yard_pipeline_key_diff (p1, p5, lines), 2);
    assert_non_null (strstr (json_string_value (json_array_get (lines, 1)),
                             "param epochs 5 -> 6"));
    json_decref (lines);
    json_decref (p1);
    json_decref (p2);
    json_decref (p3);
    json_decref (p4);
    json_decref (p5);
    free (k1);
    free (k2);
    free (k3);
    free (k4);
    free (k5);
    yard__pipeline_spec__free_unpacked (spec, NULL);
}

static void
test_check_errors (void **state)
{
    (void)state;
    Yard__PipelineSpec spec = YARD__PIPELINE_SPEC__INIT;
    yard_error_t err;
    spec.name = "x";
    assert_int_equal (yard_pipeline_check (&spec, NULL, NULL, &err), -EINVAL);
    assert_non_null (strstr (err.text, "no steps"));
    assert_int_equal (yard_pipeline_check (NULL, NULL, NULL, &err), -EINVAL);
    Yard__PipelineStep a = YARD__PIPELINE_STEP__INIT, b = YARD__PIPELINE_STEP__INIT;
    Yard__PipelineStep *steps[] = {&a, &b};
    a.name = "a";
    a.run = "true";
    b.name = "a";
    b.run = "true";
    spec.steps = steps;
    spec.n_steps = 2;
    assert_int_equal (yard_pipeline_check (&spec, NULL, NULL, &err), -EINVAL);
    assert_non_null (strstr (err.text, "declared twice"));
    b.name = "b";
    Yard__CodeFile cf = YARD__CODE_FILE__INIT;
    Yard__CodeFile *cfs[] = {&cf};
    cf.path = "../x.py";
    cf.digest = "00";
    b.code = cfs;
    b.n_code = 1;
    assert_int_equal (yard_pipeline_check (&spec, NULL, NULL, &err), -EINVAL);
    assert_non_null (strstr (err.text, "without '..'"));
    cf.path = "x.py";
    assert_int_equal (yard_pipeline_check (&spec, NULL, NULL, &err), -EINVAL);
    assert_non_null (strstr (err.text, "no content digest"));
    b.n_code = 0;
    assert_int_equal (yard_pipeline_check (&spec, NULL, NULL, &err), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_order),
        cmocka_unit_test (test_refs),
        cmocka_unit_test (test_key),
        cmocka_unit_test (test_check_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
