/* test_worker_jobenv.c - a job's environment (contract variables, spec
 * overrides, CUDA_VISIBLE_DEVICES, stale variables), the latest checkpoint
 * (mtime, skipped work in progress), the working dir rules and the PATH
 * search behind the "command not found" message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jobdir.h"
#include "jobenv.h"
#include "tmpdir_fixture.h"

TMPDIR_FIXTURE ("jobenv")

static void
touch (const char *path, time_t mtime)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true (fd >= 0);
    close (fd);
    struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
    assert_int_equal (utimensat (AT_FDCWD, path, ts, 0), 0);
}

static void
test_set_get_unset (void **state)
{
    (void)state;
    char *base[] = { "A=1", "B=2", "A=3", "junk", "=x", NULL };
    jobenv_t *e = jobenv_create (base);
    assert_non_null (e);
    assert_int_equal (jobenv_count (e), 2);
    assert_string_equal (jobenv_get (e, "A"), "3"); /* the later one wins */
    assert_int_equal (jobenv_set (e, "B", "x=y"), 0);
    assert_string_equal (jobenv_get (e, "B"), "x=y");
    assert_int_equal (jobenv_set (e, "", "v"), -EINVAL);
    assert_int_equal (jobenv_set (e, "K=V", "v"), -EINVAL);
    jobenv_unset (e, "A");
    assert_null (jobenv_get (e, "A"));
    assert_string_equal (jobenv_vector (e)[0], "B=x=y");
    assert_null (jobenv_vector (e)[1]);
    jobenv_destroy (&e);
    assert_null (e);
    jobenv_destroy (NULL);
    jobenv_destroy (&e);

    e = jobenv_create (NULL);
    assert_non_null (e);
    assert_int_equal (jobenv_count (e), 0);
    assert_null (jobenv_vector (e)[0]);
    jobenv_destroy (&e);
}

static Yard__EnvVar *
var (Yard__EnvVar *v, const char *k, const char *val)
{
    yard__env_var__init (v);
    v->key = (char *)k;
    v->value = (char *)val;
    return v;
}

static void
test_contract (void **state)
{
    (void)state;
    char *base[] = { "PATH=/usr/bin:/bin",
                     "HOME=/home/u",
                     "LANG=C",
                     "YARD_JOB_ID=999",
                     "YARD_RESUME=1",
                     "CUDA_VISIBLE_DEVICES=0,1",
                     "OMP_NUM_THREADS=64",
                     NULL };
    Yard__EnvVar v[3], *vp[3] = { var (&v[0], "LANG", "en_US.UTF-8"),
                                  var (&v[1], "MY_VAR", "hello"),
                                  var (&v[2], "YARD_ATTEMPT", "77") };
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    spec.name = "train";
    spec.cpus = 4;
    spec.n_env = 3;
    spec.env = vp;
    struct jobenv_ctx ctx = {
        .job_id = 42,
        .attempt = 3,
        .node = "w1",
        .job_dir = "/wd/jobs/42.3",
        .checkpoint_dir = "/wd/checkpoints/42",
        .latest_checkpoint = NULL,
    };
    jobenv_t *e = jobenv_create (base);
    assert_int_equal (jobenv_build (e, &spec, &ctx, NULL), 0);
    assert_string_equal (jobenv_get (e, "YARD_JOB_ID"), "42");
    assert_string_equal (jobenv_get (e, "YARD_ATTEMPT"), "3");
    assert_string_equal (jobenv_get (e, "YARD_JOB_NAME"), "train");
    assert_string_equal (jobenv_get (e, "YARD_NODE"), "w1");
    assert_string_equal (jobenv_get (e, "YARD_JOB_DIR"), "/wd/jobs/42.3");
    assert_string_equal (jobenv_get (e, "YARD_CHECKPOINT_DIR"),
                         "/wd/checkpoints/42");
    /* no checkpoint: a leftover YARD_RESUME must not survive */
    assert_null (jobenv_get (e, "YARD_RESUME"));
    assert_null (jobenv_get (e, "YARD_LATEST_CHECKPOINT"));
    assert_string_equal (jobenv_get (e, "OMP_NUM_THREADS"), "4");
    assert_string_equal (jobenv_get (e, "CUDA_VISIBLE_DEVICES"), "");
    /* the worker's environment, with the spec's overrides */
    assert_string_equal (jobenv_get (e, "PATH"), "/usr/bin:/bin");
    assert_string_equal (jobenv_get (e, "HOME"), "/home/u");
    assert_string_equal (jobenv_get (e, "LANG"), "en_US.UTF-8");
    assert_string_equal (jobenv_get (e, "MY_VAR"), "hello");
    jobenv_destroy (&e);
}

static void
test_contract_resume_and_gpus (void **state)
{
    (void)state;
    char *base[] = { "CUDA_VISIBLE_DEVICES=3", NULL };
    Yard__EnvVar v, *vp[1] = { var (&v, "OMP_NUM_THREADS", "2") };
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    spec.gpus = 1;
    spec.n_env = 1;
    spec.env = vp;
    struct jobenv_ctx ctx = {
        .job_id = 1,
        .attempt = 2,
        .node = "n",
        .job_dir = "/j",
        .checkpoint_dir = "/c/1",
        .latest_checkpoint = "/c/1/step-100",
    };
    jobenv_t *e = jobenv_create (base);
    assert_int_equal (jobenv_build (e, &spec, &ctx, NULL), 0);
    assert_string_equal (jobenv_get (e, "YARD_RESUME"), "1");
    assert_string_equal (jobenv_get (e, "YARD_LATEST_CHECKPOINT"),
                         "/c/1/step-100");
    /* the spec may choose its thread count */
    assert_string_equal (jobenv_get (e, "OMP_NUM_THREADS"), "2");
    /* a GPU job keeps what the node gives it */
    assert_string_equal (jobenv_get (e, "CUDA_VISIBLE_DEVICES"), "3");
    assert_string_equal (jobenv_get (e, "YARD_JOB_NAME"), "");
    jobenv_destroy (&e);

    /* cpus 0 means the default: one thread */
    spec.n_env = 0;
    e = jobenv_create (NULL);
    assert_int_equal (jobenv_build (e, &spec, &ctx, NULL), 0);
    assert_string_equal (jobenv_get (e, "OMP_NUM_THREADS"), "1");
    jobenv_destroy (&e);
}

static void
test_bad_spec_env (void **state)
{
    (void)state;
    Yard__EnvVar v, *vp[1] = { var (&v, "BAD=KEY", "x") };
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    spec.n_env = 1;
    spec.env = vp;
    struct jobenv_ctx ctx = { .job_id = 1,
                              .attempt = 1,
                              .node = "n",
                              .job_dir = "/j",
                              .checkpoint_dir = "/c" };
    yard_error_t err = { 0 };
    jobenv_t *e = jobenv_create (NULL);
    assert_int_equal (jobenv_build (e, &spec, &ctx, &err), -EINVAL);
    assert_non_null (strstr (err.text, "BAD=KEY"));
    v.key = "";
    assert_int_equal (jobenv_build (e, &spec, &ctx, &err), -EINVAL);
    jobenv_destroy (&e);
}

static void
test_latest_checkpoint (void **state)
{
    (void)state;
    char dir[PATH_MAX], p[PATH_MAX + 64], out[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/ckpt", tmp);
    assert_int_equal (jobenv_latest_checkpoint (dir, out, sizeof out),
                      -ENOENT);
    assert_int_equal (mkdir (dir, 0700), 0);
    assert_int_equal (jobenv_latest_checkpoint (dir, out, sizeof out),
                      -ENOENT);

    snprintf (p, sizeof p, "%s/step-100", dir);
    touch (p, 1000);
    snprintf (p, sizeof p, "%s/step-200", dir);
    touch (p, 2000);
    snprintf (p, sizeof p, "%s/step-300.tmp", dir); /* being written */
    touch (p, 3000);
    snprintf (p, sizeof p, "%s/.step-400", dir); /* hidden */
    touch (p, 4000);
    snprintf (p, sizeof p, "%s/step-050", dir); /* newer name, older */
    touch (p, 500);
    assert_int_equal (jobenv_latest_checkpoint (dir, out, sizeof out), 0);
    snprintf (p, sizeof p, "%s/step-200", dir);
    assert_string_equal (out, p);

    /* a directory counts too */
    snprintf (p, sizeof p, "%s/epoch-9", dir);
    assert_int_equal (mkdir (p, 0700), 0);
    struct timespec ts[2] = { { 2500, 0 }, { 2500, 0 } };
    assert_int_equal (utimensat (AT_FDCWD, p, ts, 0), 0);
    assert_int_equal (jobenv_latest_checkpoint (dir, out, sizeof out), 0);
    assert_string_equal (out, p);

    /* equal mtimes: the greater name, so that the choice is stable */
    snprintf (p, sizeof p, "%s/epoch-a", dir);
    touch (p, 2500);
    assert_int_equal (jobenv_latest_checkpoint (dir, out, sizeof out), 0);
    assert_string_equal (out, p);

    char small[8];
    assert_int_equal (jobenv_latest_checkpoint (dir, small, sizeof small),
                      -ENAMETOOLONG);
}

static void
test_resolve_cwd (void **state)
{
    (void)state;
    char jobdir[PATH_MAX], sub[PATH_MAX], file[PATH_MAX], out[PATH_MAX];
    yard_error_t err = { 0 };
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    snprintf (jobdir, sizeof jobdir, "%s/jobs-1.1", tmp);
    snprintf (sub, sizeof sub, "%s/project", tmp);
    snprintf (file, sizeof file, "%s/afile", tmp);
    assert_int_equal (mkdir (jobdir, 0700), 0);
    assert_int_equal (mkdir (sub, 0700), 0);
    touch (file, 1);

    /* nothing asked: the attempt dir */
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err), 0);
    assert_string_equal (out, jobdir);

    /* the submitter's dir, when it exists here */
    spec.submit_dir = sub;
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err), 0);
    assert_string_equal (out, sub);
    /* ... and silently not when it does not */
    spec.submit_dir = "/nonexistent/yard/dir";
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err), 0);
    assert_string_equal (out, jobdir);
    spec.submit_dir = file;
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err), 0);
    assert_string_equal (out, jobdir);

    /* an explicit workdir wins, and must exist */
    spec.submit_dir = sub;
    spec.workdir = tmp;
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err), 0);
    assert_string_equal (out, tmp);
    spec.workdir = "/nonexistent/yard/dir";
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err),
        -ENOENT);
    assert_string_equal (err.text, "workdir /nonexistent/yard/dir does not "
                                   "exist on node w1");
    spec.workdir = file;
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err),
        -ENOTDIR);
    spec.workdir = "relative/dir";
    assert_int_equal (
        jobenv_resolve_cwd (&spec, jobdir, "w1", out, sizeof out, &err),
        -EINVAL);
}

static void
test_which (void **state)
{
    (void)state;
    char out[PATH_MAX], bin[PATH_MAX], path[PATH_MAX * 2];
    snprintf (bin, sizeof bin, "%s/bin", tmp);
    assert_int_equal (mkdir (bin, 0700), 0);
    char exe[PATH_MAX + 16], noexe[PATH_MAX + 16];
    snprintf (exe, sizeof exe, "%s/tool", bin);
    snprintf (noexe, sizeof noexe, "%s/data", bin);
    touch (exe, 1);
    touch (noexe, 1);
    assert_int_equal (chmod (exe, 0700), 0);
    snprintf (path, sizeof path, "/nonexistent:%s", bin);
    assert_int_equal (jobenv_which ("tool", path, out, sizeof out), 0);
    assert_string_equal (out, exe);
    assert_int_equal (jobenv_which ("nope", path, out, sizeof out), -ENOENT);
    if (geteuid () != 0) /* root may execute anything */
        assert_int_equal (jobenv_which ("data", path, out, sizeof out),
                          -EACCES);
    assert_int_equal (jobenv_which (exe, NULL, out, sizeof out), 0);
    assert_int_equal (jobenv_which ("/nonexistent/x", NULL, out, sizeof out),
                      -ENOENT);
    assert_int_equal (jobenv_which ("sh", NULL, out, sizeof out), 0);
    assert_int_equal (jobenv_which ("", NULL, out, sizeof out), -ENOENT);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_set_get_unset),
        cmocka_unit_test (test_contract),
        cmocka_unit_test (test_contract_resume_and_gpus),
        cmocka_unit_test (test_bad_spec_env),
        cmocka_unit_test_setup_teardown (test_latest_checkpoint, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_resolve_cwd, setup, teardown),
        cmocka_unit_test_setup_teardown (test_which, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
