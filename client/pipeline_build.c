/* pipeline_build.c - building a PipelineSpec through the C API
 * (yard/pipelines.h: yard_pipeline_new, yard_pipeline_step, yard_step_*,
 * yard_pipeline_submit).
 *
 * The builder fills the same wire message the YAML loader fills
 * (pipeline_yaml.c), field by field, so that a step written either way
 * hashes to the same cache key.  Each setter checks what it can on its
 * own; what needs the whole pipeline (needs, cycles, references, register
 * outputs, when) is checked at submit time, by yard_pipeline_check as for
 * a file.  Members are malloc'd so that protobuf-c's free_unpacked frees
 * the spec.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "client_internal.h"
#include "digest.h"
#include "msg.h"
#include "pipeline_dag.h"
#include "pipeline_yaml.h"
#include "step_when.h"
#include "xfer.h"
#include "yard/pipelines.h"

struct yard_step {
    yard_pipeline_t *p;
    Yard__PipelineStep *st;
};

struct yard_pipeline {
    Yard__PipelineSpec *spec;
    yard_step_t **steps;       /* one handle per spec->steps[i] */
    char *dir;                 /* NULL: the current directory */
    yard_error_t err;          /* the first error */
};

static int
fail (yard_pipeline_t *p, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
fail (yard_pipeline_t *p, int code, const char *fmt, ...)
{
    if (p->err.code == 0) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (p->err.text, sizeof p->err.text, fmt, ap);
        va_end (ap);
        p->err.code = code;
    }
    return -code;
}

static int
oom (yard_pipeline_t *p)
{
    return fail (p, ENOMEM, "out of memory");
}

/* Append *item to a protobuf repeated field (a malloc'd array). */
static bool
append (void ***v, size_t *n, void *item)
{
    void **a = realloc (*v, (*n + 1) * sizeof *a);
    if (!a)
        return false;
    a[(*n)++] = item;
    *v = a;
    return true;
}

static bool
strs_append (char ***v, size_t *n, const char *s)
{
    char *d = strdup (s);
    if (!d || !append ((void ***)v, n, d)) {
        free (d);
        return false;
    }
    return true;
}

/* Set key to value in a list of EnvVar pairs. */
static int
kv_set (yard_pipeline_t *p, Yard__EnvVar ***v, size_t *n, const char *key,
        const char *value)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp ((*v)[i]->key, key) == 0) {
            char *d = strdup (value);
            if (!d)
                return oom (p);
            if ((*v)[i]->value != protobuf_c_empty_string)
                free ((*v)[i]->value);
            (*v)[i]->value = d;
            return 0;
        }
    Yard__EnvVar *e = calloc (1, sizeof *e);
    if (!e)
        return oom (p);
    yard__env_var__init (e);
    if (!(e->key = strdup (key)) || !(e->value = strdup (value))
        || !append ((void ***)v, n, e)) {
        yard__env_var__free_unpacked (e, NULL);
        return oom (p);
    }
    return 0;
}

yard_pipeline_t *
yard_pipeline_new (const char *name)
{
    yard_pipeline_t *p = calloc (1, sizeof *p);
    if (!p)
        return NULL;
    if (!(p->spec = calloc (1, sizeof *p->spec)))
        goto error;
    yard__pipeline_spec__init (p->spec);
    if (!name || !yard_pipeline_name_ok (name))
        fail (p, EINVAL, "'%s' is not a pipeline name (letters, digits, "
              "'_' and '-')", name ? name : "");
    else if (!(p->spec->name = strdup (name)))
        goto error;
    return p;
error:
    yard_pipeline_free (&p);
    errno = ENOMEM;
    return NULL;
}

void
yard_pipeline_free (yard_pipeline_t **pp)
{
    if (!pp || !*pp)
        return;
    yard_pipeline_t *p = *pp;
    if (p->spec) {
        for (size_t i = 0; i < p->spec->n_steps; i++)
            free (p->steps[i]);
        yard__pipeline_spec__free_unpacked (p->spec, NULL);
    }
    free (p->steps);
    free (p->dir);
    free (p);
    *pp = NULL;
}

const char *
yard_pipeline_error (const yard_pipeline_t *p)
{
    return p && p->err.code ? p->err.text : NULL;
}

int
yard_pipeline_set_param (yard_pipeline_t *p, const char *key,
                         const char *value)
{
    if (!p)
        return -EINVAL;
    if (!key || !*key || strlen (key) > YARD_PIPELINE_NAME_MAX || !value)
        return fail (p, EINVAL, "params: give a key and a value");
    return kv_set (p, &p->spec->params, &p->spec->n_params, key, value);
}

int
yard_pipeline_dir (yard_pipeline_t *p, const char *dir)
{
    if (!p)
        return -EINVAL;
    char *d = strdup (dir ? dir : ".");
    if (!d)
        return oom (p);
    free (p->dir);
    p->dir = d;
    return 0;
}

yard_step_t *
yard_pipeline_step (yard_pipeline_t *p, const char *name, const char *run)
{
    if (!p)
        return NULL;
    Yard__PipelineSpec *spec = p->spec;
    if (!name || !yard_pipeline_name_ok (name)) {
        fail (p, EINVAL, "'%s' is not a step name (letters, digits, '_' and "
              "'-')", name ? name : "");
        return NULL;
    }
    for (size_t i = 0; i < spec->n_steps; i++)
        if (strcmp (spec->steps[i]->name, name) == 0) {
            fail (p, EINVAL, "step '%s' is declared twice", name);
            return NULL;
        }
    if (!run || !*run) {
        fail (p, EINVAL, "step '%s' has no run: command", name);
        return NULL;
    }
    if (spec->n_steps >= YARD_PIPELINE_MAX_STEPS) {
        fail (p, EINVAL, "more than %d steps", YARD_PIPELINE_MAX_STEPS);
        return NULL;
    }
    yard_step_t *s = calloc (1, sizeof *s);
    Yard__PipelineStep *st = calloc (1, sizeof *st);
    yard_step_t **hv = realloc (p->steps,
                                (spec->n_steps + 1) * sizeof *hv);
    if (hv)
        p->steps = hv;
    if (!s || !st || !hv)
        goto nomem;
    yard__pipeline_step__init (st);
    if (!(st->name = strdup (name)) || !(st->run = strdup (run)))
        goto nomem;
    size_t n = spec->n_steps;
    if (!append ((void ***)&spec->steps, &n, st))
        goto nomem;
    spec->n_steps = n;
    s->p = p;
    s->st = st;
    p->steps[spec->n_steps - 1] = s;
    return s;
nomem:
    free (s);
    if (st)
        yard__pipeline_step__free_unpacked (st, NULL);
    oom (p);
    return NULL;
}

int
yard_step_needs (yard_step_t *s, const char *step)
{
    if (!s)
        return -EINVAL;
    if (!step || !*step)
        return fail (s->p, EINVAL, "step '%s': needs: give a step name",
                     s->st->name);
    if (!strs_append (&s->st->needs, &s->st->n_needs, step))
        return oom (s->p);
    return 0;
}

int
yard_step_input (yard_step_t *s, const char *name, const char *ref)
{
    if (!s)
        return -EINVAL;
    Yard__PipelineStep *st = s->st;
    if (!name || !*name || !ref)
        return fail (s->p, EINVAL, "step '%s': inputs: give a name and a "
                     "reference", st->name);
    for (size_t i = 0; i < st->n_inputs; i++)
        if (strcmp (st->inputs[i]->name, name) == 0)
            return fail (s->p, EINVAL, "step '%s': inputs: '%s' is given "
                         "twice", st->name, name);
    yard_pref_t r;
    yard_error_t e;
    yard_error_clear (&e);
    if (yard_pipeline_ref_parse (ref, &r, &e) < 0)
        return fail (s->p, EINVAL, "step '%s': %s", st->name, e.text);
    Yard__PipelineInput *in = calloc (1, sizeof *in);
    if (!in)
        return oom (s->p);
    yard__pipeline_input__init (in);
    if (!(in->name = strdup (name)) || !(in->ref = strdup (ref))
        || !append ((void ***)&st->inputs, &st->n_inputs, in)) {
        yard__pipeline_input__free_unpacked (in, NULL);
        return oom (s->p);
    }
    return 0;
}

int
yard_step_code (yard_step_t *s, const char *path)
{
    if (!s)
        return -EINVAL;
    if (!path || !*path || path[0] == '/' || strstr (path, ".."))
        return fail (s->p, EINVAL, "step '%s': code file '%s': give a path "
                     "relative to the pipeline's folder, without '..'",
                     s->st->name, path ? path : "");
    Yard__CodeFile *cf = calloc (1, sizeof *cf);
    if (!cf)
        return oom (s->p);
    yard__code_file__init (cf);
    if (!(cf->path = strdup (path))
        || !append ((void ***)&s->st->code, &s->st->n_code, cf)) {
        yard__code_file__free_unpacked (cf, NULL);
        return oom (s->p);
    }
    return 0;
}

int
yard_step_output (yard_step_t *s, const char *name)
{
    if (!s)
        return -EINVAL;
    if (!name || !*name)
        return fail (s->p, EINVAL, "step '%s': outputs: give a name",
                     s->st->name);
    if (!strs_append (&s->st->outputs, &s->st->n_outputs, name))
        return oom (s->p);
    return 0;
}

int
yard_step_reuse (yard_step_t *s, bool reuse)
{
    if (!s)
        return -EINVAL;
    s->st->reuse = reuse;
    return 0;
}

int
yard_step_resources (yard_step_t *s, uint32_t cpus, uint32_t gpus,
                     uint64_t memory_bytes)
{
    if (!s)
        return -EINVAL;
    s->st->cpus = cpus;
    s->st->gpus = gpus;
    s->st->memory_bytes = memory_bytes;
    return 0;
}

int
yard_step_time_limit (yard_step_t *s, uint64_t seconds)
{
    if (!s)
        return -EINVAL;
    s->st->time_limit_s = seconds;
    return 0;
}

int
yard_step_retries (yard_step_t *s, uint32_t retries)
{
    if (!s)
        return -EINVAL;
    s->st->retries = retries;
    return 0;
}

int
yard_step_env (yard_step_t *s, const char *key, const char *value)
{
    if (!s)
        return -EINVAL;
    if (!key || !*key || !value)
        return fail (s->p, EINVAL, "step '%s': env: give a name and a value",
                     s->st->name);
    return kv_set (s->p, &s->st->env, &s->st->n_env, key, value);
}

int
yard_step_param (yard_step_t *s, const char *key, const char *value)
{
    if (!s)
        return -EINVAL;
    if (!key || !*key || !value)
        return fail (s->p, EINVAL, "step '%s': params: give a key and a "
                     "value", s->st->name);
    return kv_set (s->p, &s->st->params, &s->st->n_params, key, value);
}

int
yard_step_register (yard_step_t *s, const char *model, const char *output,
                    const char *when)
{
    if (!s)
        return -EINVAL;
    if (!model || !*model)
        return fail (s->p, EINVAL, "step '%s': register needs model: NAME",
                     s->st->name);
    Yard__ModelRegistration *r = calloc (1, sizeof *r);
    if (!r)
        return oom (s->p);
    yard__model_registration__init (r);
    if (!(r->model = strdup (model))
        || !(r->output = strdup (output ? output : ""))
        || !(r->when = strdup (when ? when : ""))) {
        yard__model_registration__free_unpacked (r, NULL);
        return oom (s->p);
    }
    if (s->st->register_model)
        yard__model_registration__free_unpacked (s->st->register_model, NULL);
    s->st->register_model = r;
    return 0;
}

int
yard_step_when (yard_step_t *s, const char *expr)
{
    if (!s)
        return -EINVAL;
    yard_step_when_t w;
    yard_error_t e;
    yard_error_clear (&e);
    if (!expr || yard_step_when_parse (expr, &w, &e) < 0)
        return fail (s->p, EINVAL, "step '%s': %s", s->st->name,
                     expr ? e.text : "when: give a condition");
    char *d = strdup (expr);
    if (!d)
        return oom (s->p);
    if (s->st->when != protobuf_c_empty_string)
        free (s->st->when);
    s->st->when = d;
    return 0;
}

/* What the loader checks once a step is whole: register's output and
 * when's step.  On the copy sent, so that the default output fills it. */
static int
check_step (Yard__PipelineStep *st, yard_error_t *err)
{
    Yard__ModelRegistration *r = st->register_model;
    if (r) {
        if (!*r->output) {
            if (st->n_outputs != 1)
                return yard_errorf (err, EINVAL, "step '%s': register needs "
                                    "output: NAME (which of the step's "
                                    "outputs is the model)", st->name);
            char *d = strdup (st->outputs[0]);
            if (!d)
                return yard_errorf (err, ENOMEM, "out of memory");
            if (r->output != protobuf_c_empty_string)
                free (r->output);
            r->output = d;
        }
        bool found = false;
        for (size_t i = 0; i < st->n_outputs; i++)
            found = found || strcmp (st->outputs[i], r->output) == 0;
        if (!found)
            return yard_errorf (err, EINVAL, "register: step '%s' has no "
                                "output '%s' (declare it with "
                                "yard_step_output)", st->name, r->output);
    }
    if (st->when && *st->when) {
        yard_step_when_t w;
        (void)yard_step_when_parse (st->when, &w, NULL);
        if (!yard_step_when_needed (&w, st->needs, st->n_needs))
            return yard_errorf (err, EINVAL, "when: step '%s' must be one "
                                "that step '%s' needs", w.step, st->name);
    }
    return 0;
}

/* Read and upload every code file of spec (paths relative to dir); c
 * NULL: only their digests. */
static int
upload_code (yard_client_t *c, Yard__PipelineSpec *spec, const char *dir,
             yard_error_t *err)
{
    void *zctx = NULL, *sock = NULL;
    yard_xfer_t xf = {.timeout_ms = c ? yard_client_timeout (c) : 0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < spec->n_steps; i++) {
        Yard__PipelineStep *st = spec->steps[i];
        for (size_t j = 0; rc == 0 && j < st->n_code; j++) {
            Yard__CodeFile *cf = st->code[j];
            char path[PATH_MAX];
            if (snprintf (path, sizeof path, "%s/%s", dir, cf->path)
                >= (int)sizeof path) {
                rc = yard_errorf (err, EINVAL, "step '%s': code file '%s': "
                                  "path too long", st->name, cf->path);
                break;
            }
            struct stat sb;
            if (stat (path, &sb) < 0) {
                rc = yard_errorf (err, EINVAL, "step '%s': code file '%s': "
                                  "%s", st->name, path, strerror (errno));
                break;
            }
            if (!S_ISREG (sb.st_mode)) {
                rc = yard_errorf (err, EINVAL, "step '%s': code file '%s' "
                                  "is not a regular file", st->name, path);
                break;
            }
            char hex[YARD_DIGEST_HEX + 1];
            uint64_t size = 0;
            yard_error_t e;
            yard_error_clear (&e);
            if (!c) {
                if ((rc = yard_digest_file (path, hex, &size, &e)) < 0) {
                    rc = yard_errorf (err, -rc, "step '%s': code file '%s': "
                                      "%s", st->name, cf->path, e.text);
                    break;
                }
            } else if (!sock) {
                int linger = 0;
                if (!(zctx = zmq_ctx_new ())
                    || !(sock = zmq_socket (zctx, ZMQ_DEALER))) {
                    rc = yard_errorf (err, errno ? errno : ENOMEM,
                                      "cannot open a socket to upload code "
                                      "files: %s", zmq_strerror (errno));
                    break;
                }
                zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
                if (zmq_connect (sock, yard_client_endpoint (c)) < 0) {
                    rc = yard_errorf (err, errno, "cannot connect to %s: %s",
                                      yard_client_endpoint (c),
                                      zmq_strerror (errno));
                    break;
                }
                xf.sock = sock;
            }
            if (c && (rc = yard_xfer_put_file (&xf, path, hex, &size, &e))
                         < 0) {
                rc = yard_errorf (err, -rc, "step '%s': code file '%s': %s",
                                  st->name, cf->path, e.text);
                break;
            }
            char *d = strdup (hex);
            if (!d) {
                rc = yard_errorf (err, ENOMEM, "out of memory");
                break;
            }
            if (cf->digest != protobuf_c_empty_string)
                free (cf->digest);
            cf->digest = d;
        }
    }
    if (sock)
        zmq_close (sock);
    if (zctx)
        zmq_ctx_term (zctx);
    return rc;
}

/* A deep copy of spec with malloc'd members (through the wire form). */
static Yard__PipelineSpec *
copy_spec (const Yard__PipelineSpec *spec)
{
    size_t len = yard__pipeline_spec__get_packed_size (spec);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return NULL;
    yard__pipeline_spec__pack (spec, buf);
    Yard__PipelineSpec *c = yard__pipeline_spec__unpack (NULL, len, buf);
    free (buf);
    return c;
}

static void
ids (Yard__PipelineSpec *spec, const char *dir)
{
    char host[256] = "";
    if (gethostname (host, sizeof host - 1) == 0)
        spec->submit_host = strdup (host);
    const char *user = getenv ("USER");
    struct passwd *pw = user ? NULL : getpwuid (getuid ());
    if (user || pw)
        spec->user = strdup (user ? user : pw->pw_name);
    spec->submit_dir = strdup (dir);
    spec->source = strdup ("api");
}

int
yard__pipeline_build_spec (yard_client_t *c, const yard_pipeline_t *p,
                           const char *const *params, size_t nparams,
                           Yard__PipelineSpec **out, yard_error_t *err)
{
    *out = NULL;
    if (p->err.code) {
        *err = p->err;
        return -p->err.code;
    }
    char dir[PATH_MAX];
    if (!realpath (p->dir ? p->dir : ".", dir))
        return yard_errorf (err, errno, "cannot use folder %s: %s",
                            p->dir ? p->dir : ".", strerror (errno));
    Yard__PipelineSpec *spec = copy_spec (p->spec);
    if (!spec)
        return yard_errorf (err, ENOMEM, "out of memory");
    int rc = 0;
    if (spec->n_steps == 0)
        rc = yard_errorf (err, EINVAL, "pipeline '%s' has no steps",
                          spec->name);
    yard_pipeline_t tmp = {.spec = spec};
    for (size_t i = 0; rc == 0 && i < nparams; i++) {
        const char *eq = strchr (params[i], '=');
        char key[YARD_PIPELINE_NAME_MAX + 1];
        size_t kl = eq ? (size_t)(eq - params[i]) : 0;
        if (!eq || kl == 0 || kl >= sizeof key) {
            rc = yard_errorf (err, EINVAL, "--param '%s': give KEY=VALUE",
                              params[i]);
            break;
        }
        memcpy (key, params[i], kl);
        key[kl] = '\0';
        if ((rc = kv_set (&tmp, &spec->params, &spec->n_params, key, eq + 1))
            < 0)
            *err = tmp.err;
    }
    for (size_t i = 0; rc == 0 && i < spec->n_steps; i++)
        rc = check_step (spec->steps[i], err);
    /* the check wants the code files' digests, as the loader's */
    if (rc == 0)
        rc = upload_code (c, spec, dir, err);
    if (rc == 0 && yard_pipeline_check (spec, NULL, NULL, err) < 0)
        rc = -EINVAL;
    if (rc < 0) {
        yard__pipeline_spec__free_unpacked (spec, NULL);
        return rc;
    }
    ids (spec, dir);
    *out = spec;
    return 0;
}

int
yard_pipeline_submit (yard_client_t *c, const yard_pipeline_t *p,
                      const char *const *params, size_t nparams,
                      uint64_t *run_id)
{
    if (!c || !p)
        return -EINVAL;
    Yard__PipelineSpec *spec = NULL;
    yard_error_t err;
    yard_error_clear (&err);
    int rc = yard__pipeline_build_spec (c, p, params, nparams, &spec, &err);
    if (rc < 0)
        return yard__client_fail (c, err.code ? err.code : -rc, err.text);
    rc = yard__pipeline_start (c, spec, 0, run_id);
    yard__pipeline_spec__free_unpacked (spec, NULL);
    return rc;
}
