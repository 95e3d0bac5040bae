/* test_gang_spec.c - the gang fields of a job spec (scheduler/job.c):
 * defaults, what is refused, and the per-node resources a gang reserves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

static char *argv[] = { "python3", "train.py" };

static void
init (Yard__JobSpec *spec)
{
    yard__job_spec__init (spec);
    spec->argv = argv;
    spec->n_argv = 2;
    spec->name = "train";
}

static void
test_defaults_and_resources (void **state)
{
    (void)state;
    yard_error_t err;
    Yard__JobSpec spec;
    init (&spec);
    spec.nodes = 2;
    assert_int_equal (yard_job_spec_check (&spec, &err), 0);
    assert_int_equal (spec.tasks_per_node, 1);
    assert_int_equal (spec.gang_timeout_s, YARD_JOB_DEFAULT_GANG_TIMEOUT_S);
    spec.tasks_per_node = 4;
    spec.cpus = 3;
    spec.gpus_per_task = 2;
    yard_job_t job = { .spec = &spec };
    assert_true (yard_job_is_gang (&job));
    assert_int_equal (yard_job_tasks (&job), 4);
    assert_int_equal (yard_job_cpus (&job), 12); /* per node */
    assert_int_equal (yard_job_gpus (&job), 8);
    /* not a gang: as before */
    Yard__JobSpec plain;
    init (&plain);
    plain.cpus = 3;
    plain.gpus = 1;
    yard_job_t one = { .spec = &plain };
    assert_false (yard_job_is_gang (&one));
    assert_int_equal (yard_job_cpus (&one), 3);
    assert_int_equal (yard_job_gpus (&one), 1);
}

static void
test_refused (void **state)
{
    (void)state;
    yard_error_t err;
    Yard__JobSpec spec;
    init (&spec);
    spec.tasks_per_node = 2; /* without nodes */
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "nodes"));
    init (&spec);
    spec.nodes = 2;
    spec.gpus = 1; /* GPUs are per task */
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    assert_non_null (strstr (err.text, "gpus_per_task"));
    init (&spec);
    spec.nodes = YARD_JOB_MAX_NODES + 1;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    init (&spec);
    spec.nodes = 2;
    spec.tasks_per_node = 8;
    spec.gpus_per_task = 16; /* 128 GPUs per node */
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    init (&spec);
    spec.nodes = 2;
    spec.tasks_per_node = YARD_JOB_MAX_TASKS + 1;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
    init (&spec);
    spec.nodes = 1;
    spec.gang_timeout_s = YARD_JOB_MAX_GANG_TIMEOUT_S + 1;
    assert_int_equal (yard_job_spec_check (&spec, &err), -EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_and_resources),
        cmocka_unit_test (test_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
