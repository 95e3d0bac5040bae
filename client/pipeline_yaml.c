/* pipeline_yaml.c - pipeline files (YAML, read with libyaml's document
 * API) into PipelineSpec messages (see pipeline_yaml.h and
 * docs/pipelines.md for the file's keys).
 *
 * Every node keeps its line, so each message names the line of the key or
 * value it is about.  The spec is built with malloc'd members only, so that
 * protobuf-c's free_unpacked frees it.
 */
#include "pipeline_yaml.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include <zmq.h>

#include "digest.h"
#include "pipeline_dag.h"
#include "step_when.h"
#include "util.h"
#include "xfer.h"

#define MAX_FILE (4u << 20)

typedef struct ctx {
    yaml_document_t doc;
    const char *file;         /* for messages */
    const char *dir;          /* code paths are relative to it */
    yard_client_t *c;
    yard_error_t *err;
    unsigned *lines;          /* each step's line */
    yard_xfer_t xfer;
    void *zctx, *sock;
} ctx_t;

static int
bad (ctx_t *x, const yaml_node_t *n, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
bad (ctx_t *x, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    return yard_errorf (x->err, EINVAL, "%s:%zu: %s", x->file,
                        n ? n->start_mark.line + 1 : 0, msg);
}

static yaml_node_t *
node (ctx_t *x, int id)
{
    return yaml_document_get_node (&x->doc, id);
}

static const char *
type_name (const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a value";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static const char *
scalar (const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                            : NULL;
}

static int
want_scalar (ctx_t *x, const yaml_node_t *n, const char *what,
             const char **out)
{
    if (!(*out = scalar (n)))
        return bad (x, n, "%s must be a value, not %s", what, type_name (n));
    return 0;
}

static int
want_type (ctx_t *x, const yaml_node_t *n, yaml_node_type_t t,
           const char *what)
{
    if (n->type != t)
        return bad (x, n, "%s must be %s, not %s", what,
                    t == YAML_MAPPING_NODE ? "a mapping (key: value)"
                                           : "a list ([a, b])",
                    type_name (n));
    return 0;
}

static int
oom (ctx_t *x)
{
    return yard_errorf (x->err, ENOMEM, "out of memory");
}

/* -EINVAL when the key of pair p was already given in mapping n (YAML
 * allows neither, and the second would silently replace the first). */
static int
dup_key (ctx_t *x, const yaml_node_t *n, const yaml_node_pair_t *p)
{
    const char *k = scalar (node (x, p->key));
    if (!k)
        return 0;
    for (const yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
        const char *k2 = scalar (node (x, q->key));
        if (k2 && strcmp (k, k2) == 0)
            return bad (x, node (x, p->key), "'%s' is given twice (first at "
                        "line %zu)", k, node (x, q->key)->start_mark.line + 1);
    }
    return 0;
}

static int
parse_bool (ctx_t *x, const yaml_node_t *n, const char *what, bool *out)
{
    const char *s;
    int rc = want_scalar (x, n, what, &s);
    if (rc < 0)
        return rc;
    if (!strcmp (s, "true") || !strcmp (s, "yes") || !strcmp (s, "on"))
        *out = true;
    else if (!strcmp (s, "false") || !strcmp (s, "no") || !strcmp (s, "off"))
        *out = false;
    else
        return bad (x, n, "%s must be true or false, not '%s'", what, s);
    return 0;
}

static int
parse_u32 (ctx_t *x, const yaml_node_t *n, const char *what, uint32_t *out)
{
    const char *s;
    int rc = want_scalar (x, n, what, &s);
    if (rc < 0)
        return rc;
    if (yard_parse_u32 (s, out) < 0)
        return bad (x, n, "%s must be a whole number >= 0, not '%s'", what, s);
    return 0;
}

/* Append a string list: a list of values, or one value. */
static int
str_list (ctx_t *x, const yaml_node_t *n, const char *what, char ***v,
          size_t *count)
{
    if (n->type == YAML_SCALAR_NODE) {
        if (!(*v = calloc (1, sizeof **v)) || !(**v = strdup (scalar (n))))
            return oom (x);
        *count = 1;
        return 0;
    }
    int rc = want_type (x, n, YAML_SEQUENCE_NODE, what);
    if (rc < 0)
        return rc;
    size_t len = (size_t)(n->data.sequence.items.top
                          - n->data.sequence.items.start);
    if (!(*v = calloc (len ? len : 1, sizeof **v)))
        return oom (x);
    for (yaml_node_item_t *it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++) {
        const char *s;
        if ((rc = want_scalar (x, node (x, *it), what, &s)) < 0)
            return rc;
        if (!((*v)[*count] = strdup (s)))
            return oom (x);
        (*count)++;
    }
    return 0;
}

/* A mapping of values into EnvVar pairs. */
static int
kv_map (ctx_t *x, const yaml_node_t *n, const char *what, Yard__EnvVar ***v,
        size_t *count)
{
    int rc = want_type (x, n, YAML_MAPPING_NODE, what);
    if (rc < 0)
        return rc;
    size_t len = (size_t)(n->data.mapping.pairs.top
                          - n->data.mapping.pairs.start);
    if (!(*v = calloc (len ? len : 1, sizeof **v)))
        return oom (x);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        const char *k, *val;
        if ((rc = want_scalar (x, node (x, p->key), what, &k)) < 0
            || (rc = want_scalar (x, node (x, p->value), what, &val)) < 0)
            return rc;
        for (size_t i = 0; i < *count; i++)
            if (strcmp ((*v)[i]->key, k) == 0)
                return bad (x, node (x, p->key), "%s: '%s' is given twice",
                            what, k);
        Yard__EnvVar *e = calloc (1, sizeof *e);
        if (!e)
            return oom (x);
        yard__env_var__init (e);
        (*v)[(*count)++] = e;
        if (!(e->key = strdup (k)) || !(e->value = strdup (val)))
            return oom (x);
    }
    return 0;
}

static int
resources (ctx_t *x, const yaml_node_t *n, Yard__PipelineStep *st)
{
    int rc = want_type (x, n, YAML_MAPPING_NODE, "resources");
    if (rc < 0)
        return rc;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node (x, p->key), *vn = node (x, p->value);
        const char *k, *s;
        if ((rc = want_scalar (x, kn, "a resources key", &k)) < 0
            || (rc = dup_key (x, n, p)) < 0)
            return rc;
        if (!strcmp (k, "cpus"))
            rc = parse_u32 (x, vn, "resources.cpus", &st->cpus);
        else if (!strcmp (k, "gpus"))
            rc = parse_u32 (x, vn, "resources.gpus", &st->gpus);
        else if (!strcmp (k, "memory")) {
            if ((rc = want_scalar (x, vn, "resources.memory", &s)) == 0) {
                yard_error_t e;
                if (yard_parse_size (s, &st->memory_bytes, &e) < 0)
                    rc = bad (x, vn, "resources.memory: %s", e.text);
            }
        } else if (!strcmp (k, "time_limit")) {
            if ((rc = want_scalar (x, vn, "resources.time_limit", &s)) == 0) {
                yard_error_t e;
                if (yard_parse_duration (s, &st->time_limit_s, &e) < 0)
                    rc = bad (x, vn, "resources.time_limit: %s", e.text);
            }
        } else
            rc = bad (x, kn, "unknown key '%s' in resources (known: cpus, "
                      "gpus, memory, time_limit)", k);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int
registration (ctx_t *x, const yaml_node_t *n, Yard__PipelineStep *st)
{
    int rc = want_type (x, n, YAML_MAPPING_NODE, "register");
    if (rc < 0)
        return rc;
    Yard__ModelRegistration *r = calloc (1, sizeof *r);
    if (!r)
        return oom (x);
    yard__model_registration__init (r);
    st->register_model = r;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node (x, p->key), *vn = node (x, p->value);
        const char *k, *s;
        if ((rc = want_scalar (x, kn, "a register key", &k)) < 0
            || (rc = dup_key (x, n, p)) < 0)
            return rc;
        char **dst = !strcmp (k, "model")    ? &r->model
                     : !strcmp (k, "output") ? &r->output
                     : !strcmp (k, "when")   ? &r->when
                                             : NULL;
        if (!dst)
            return bad (x, kn, "unknown key '%s' in register (known: model, "
                        "output, when)", k);
        if ((rc = want_scalar (x, vn, k, &s)) < 0)
            return rc;
        if (!(*dst = strdup (s)))
            return oom (x);
    }
    if (!r->model || !*r->model)
        return bad (x, n, "register needs model: NAME");
    if (!r->output || !*r->output) {
        if (st->n_outputs != 1)
            return bad (x, n, "register needs output: NAME (which of the "
                        "step's outputs is the model)");
        if (!(r->output = strdup (st->outputs[0])))
            return oom (x);
    }
    bool found = false;
    for (size_t i = 0; i < st->n_outputs; i++)
        found = found || strcmp (st->outputs[i], r->output) == 0;
    if (!found)
        return bad (x, n, "register: step '%s' has no output '%s' (declare "
                    "it under outputs:, before register:)", st->name,
                    r->output);
    if (!r->when && !(r->when = strdup ("")))
        return oom (x);
    return 0;
}

/* Read a code file, upload it, record its digest. */
static int
code_file (ctx_t *x, const yaml_node_t *n, const char *rel, Yard__CodeFile *cf)
{
    char path[PATH_MAX];
    if (rel[0] == '/' || strstr (rel, ".."))
        return bad (x, n, "code file '%s': give a path relative to the "
                    "pipeline file, without '..'", rel);
    if (snprintf (path, sizeof path, "%s/%s", x->dir, rel)
        >= (int)sizeof path)
        return bad (x, n, "code file '%s': path too long", rel);
    struct stat sb;
    if (stat (path, &sb) < 0)
        return bad (x, n, "code file '%s': %s", path, strerror (errno));
    if (!S_ISREG (sb.st_mode))
        return bad (x, n, "code file '%s' is not a regular file", path);
    char hex[YARD_DIGEST_HEX + 1];
    uint64_t size = 0;
    yard_error_t e;
    yard_error_clear (&e);
    int rc;
    if (x->c) {
        if (!x->sock) {
            if (!(x->zctx = zmq_ctx_new ())
                || !(x->sock = zmq_socket (x->zctx, ZMQ_DEALER)))
                return yard_errorf (x->err, errno ? errno : ENOMEM,
                                    "cannot open a socket to upload code "
                                    "files: %s", zmq_strerror (errno));
            int linger = 0;
            zmq_setsockopt (x->sock, ZMQ_LINGER, &linger, sizeof linger);
            if (zmq_connect (x->sock, yard_client_endpoint (x->c)) < 0)
                return yard_errorf (x->err, errno, "cannot connect to %s: %s",
                                    yard_client_endpoint (x->c),
                                    zmq_strerror (errno));
            x->xfer.sock = x->sock;
            x->xfer.timeout_ms = yard_client_timeout (x->c);
        }
        rc = yard_xfer_put_file (&x->xfer, path, hex, &size, &e);
    } else
        rc = yard_digest_file (path, hex, &size, &e);
    if (rc < 0)
        return yard_errorf (x->err, -rc, "%s:%zu: code file '%s': %s",
                            x->file, n->start_mark.line + 1, rel, e.text);
    if (!(cf->path = strdup (rel)) || !(cf->digest = strdup (hex)))
        return oom (x);
    return 0;
}

static int
step (ctx_t *x, const yaml_node_t *kn, const yaml_node_t *n,
      Yard__PipelineStep *st)
{
    int rc;
    if (!(st->name = strdup (scalar (kn))))
        return oom (x);
    if ((rc = want_type (x, n, YAML_MAPPING_NODE, "a step")) < 0)
        return rc;
    /* outputs before register: the block names one of them */
    const yaml_node_t *reg = NULL, *when = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node (x, p->key), *v = node (x, p->value);
        const char *key;
        if ((rc = want_scalar (x, k, "a step key", &key)) < 0
            || (rc = dup_key (x, n, p)) < 0)
            return rc;
        if (!strcmp (key, "run")) {
            const char *s;
            if ((rc = want_scalar (x, v, "run", &s)) < 0)
                return rc;
            if (!(st->run = strdup (s)))
                return oom (x);
        } else if (!strcmp (key, "needs"))
            rc = str_list (x, v, "needs", &st->needs, &st->n_needs);
        else if (!strcmp (key, "outputs"))
            rc = str_list (x, v, "outputs", &st->outputs, &st->n_outputs);
        else if (!strcmp (key, "inputs")) {
            Yard__EnvVar **kv = NULL;
            size_t nkv = 0;
            rc = kv_map (x, v, "inputs", &kv, &nkv);
            st->inputs = calloc (nkv ? nkv : 1, sizeof st->inputs[0]);
            for (size_t i = 0; i < nkv; i++) {
                if (rc == 0 && st->inputs) {
                    Yard__PipelineInput *in = calloc (1, sizeof *in);
                    if (in) {
                        yard__pipeline_input__init (in);
                        in->name = kv[i]->key;
                        in->ref = kv[i]->value;
                        kv[i]->key = kv[i]->value = NULL;
                        st->inputs[st->n_inputs++] = in;
                    } else
                        rc = oom (x);
                }
                yard__env_var__free_unpacked (kv[i], NULL);
            }
            free (kv);
            if (rc == 0 && !st->inputs)
                rc = oom (x);
            /* each reference is checked here, with its line */
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                 rc == 0 && q < v->data.mapping.pairs.top; q++) {
                yard_pref_t r;
                yard_error_t e;
                if (yard_pipeline_ref_parse (scalar (node (x, q->value)), &r,
                                             &e)
                    < 0)
                    rc = bad (x, node (x, q->value), "%s", e.text);
            }
        } else if (!strcmp (key, "code")) {
            char **paths = NULL;
            size_t np = 0;
            rc = str_list (x, v, "code", &paths, &np);
            if (rc == 0 && !(st->code = calloc (np ? np : 1,
                                                sizeof st->code[0])))
                rc = oom (x);
            for (size_t i = 0; i < np; i++) {
                if (rc == 0) {
                    Yard__CodeFile *cf = calloc (1, sizeof *cf);
                    if (!cf)
                        rc = oom (x);
                    else {
                        yard__code_file__init (cf);
                        st->code[st->n_code++] = cf;
                        const yaml_node_t *at
                            = v->type == YAML_SEQUENCE_NODE
                                  ? node (x, v->data.sequence.items.start[i])
                                  : v;
                        rc = code_file (x, at, paths[i], cf);
                    }
                }
                free (paths[i]);
            }
            free (paths);
        } else if (!strcmp (key, "reuse")) {
            bool b = false;
            rc = parse_bool (x, v, "reuse", &b);
            st->reuse = b;
        } else if (!strcmp (key, "retries"))
            rc = parse_u32 (x, v, "retries", &st->retries);
        else if (!strcmp (key, "resources"))
            rc = resources (x, v, st);
        else if (!strcmp (key, "env"))
            rc = kv_map (x, v, "env", &st->env, &st->n_env);
        else if (!strcmp (key, "params"))
            rc = kv_map (x, v, "params", &st->params, &st->n_params);
        else if (!strcmp (key, "register"))
            reg = v;
        else if (!strcmp (key, "when")) {
            const char *s;
            yard_step_when_t w;
            yard_error_t e;
            if ((rc = want_scalar (x, v, "when", &s)) == 0
                && yard_step_when_parse (s, &w, &e) < 0)
                rc = bad (x, v, "%s", e.text);
            if (rc == 0 && !(st->when = strdup (s)))
                rc = oom (x);
            when = v;
        } else
            rc = bad (x, k, "unknown key '%s' in step '%s' (known: run, "
                      "needs, inputs, code, outputs, reuse, resources, "
                      "retries, env, params, register, when)", key,
                      st->name);
        if (rc < 0)
            return rc;
    }
    if (!st->run || !*st->run)
        return bad (x, n, "step '%s' has no run: command", st->name);
    if (reg && (rc = registration (x, reg, st)) < 0)
        return rc;
    if (when) {
        yard_step_when_t w;
        (void)yard_step_when_parse (st->when, &w, NULL);
        if (!yard_step_when_needed (&w, st->needs, st->n_needs))
            return bad (x, when, "when: step '%s' must be one that step "
                        "'%s' needs", w.step, st->name);
    }
    return 0;
}

static int
apply_params (ctx_t *x, Yard__PipelineSpec *spec, const char *const *params,
              size_t nparams)
{
    for (size_t i = 0; i < nparams; i++) {
        const char *eq = strchr (params[i], '=');
        if (!eq || eq == params[i])
            return yard_errorf (x->err, EINVAL,
                                "--param '%s': give KEY=VALUE", params[i]);
        char key[YARD_PIPELINE_NAME_MAX + 1];
        size_t kl = (size_t)(eq - params[i]);
        if (kl >= sizeof key)
            return yard_errorf (x->err, EINVAL, "--param '%s': key too long",
                                params[i]);
        memcpy (key, params[i], kl);
        key[kl] = '\0';
        Yard__EnvVar *e = NULL;
        for (size_t j = 0; j < spec->n_params; j++)
            if (strcmp (spec->params[j]->key, key) == 0)
                e = spec->params[j];
        if (!e) {
            Yard__EnvVar **v = realloc (spec->params,
                                        (spec->n_params + 1) * sizeof v[0]);
            if (!v)
                return oom (x);
            spec->params = v;
            if (!(e = calloc (1, sizeof *e)))
                return oom (x);
            yard__env_var__init (e);
            v[spec->n_params++] = e;
            if (!(e->key = strdup (key)))
                return oom (x);
        }
        free (e->value == protobuf_c_empty_string ? NULL : e->value);
        if (!(e->value = strdup (eq + 1)))
            return oom (x);
    }
    return 0;
}

static int
top (ctx_t *x, Yard__PipelineSpec *spec, const char *const *params,
     size_t nparams)
{
    yaml_node_t *root = yaml_document_get_root_node (&x->doc);
    if (!root)
        return yard_errorf (x->err, EINVAL, "%s: the file is empty", x->file);
    int rc = want_type (x, root, YAML_MAPPING_NODE, "a pipeline file");
    if (rc < 0)
        return rc;
    const yaml_node_t *steps = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node (x, p->key), *v = node (x, p->value);
        const char *key, *s;
        if ((rc = want_scalar (x, k, "a key", &key)) < 0
            || (rc = dup_key (x, root, p)) < 0)
            return rc;
        if (!strcmp (key, "name")) {
            if ((rc = want_scalar (x, v, "name", &s)) < 0)
                return rc;
            if (!yard_pipeline_name_ok (s))
                return bad (x, v, "'%s' is not a pipeline name (letters, "
                            "digits, '_' and '-')", s);
            if (!(spec->name = strdup (s)))
                return oom (x);
        } else if (!strcmp (key, "params")) {
            if ((rc = kv_map (x, v, "params", &spec->params, &spec->n_params))
                < 0)
                return rc;
        } else if (!strcmp (key, "steps")) {
            if ((rc = want_type (x, v, YAML_MAPPING_NODE, "steps")) < 0)
                return rc;
            steps = v;
        } else
            return bad (x, k, "unknown key '%s' (known: name, params, steps)",
                        key);
    }
    if (!spec->name || !*spec->name)
        return bad (x, root, "the pipeline has no name:");
    if (!steps)
        return bad (x, root, "the pipeline has no steps:");
    size_t n = (size_t)(steps->data.mapping.pairs.top
                        - steps->data.mapping.pairs.start);
    if (n == 0)
        return bad (x, steps, "steps: is empty");
    if (n > YARD_PIPELINE_MAX_STEPS)
        return bad (x, steps, "%zu steps, at most %d are allowed", n,
                    YARD_PIPELINE_MAX_STEPS);
    if (!(spec->steps = calloc (n, sizeof spec->steps[0]))
        || !(x->lines = calloc (n, sizeof x->lines[0])))
        return oom (x);
    for (yaml_node_pair_t *p = steps->data.mapping.pairs.start;
         p < steps->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node (x, p->key), *v = node (x, p->value);
        const char *name;
        if ((rc = want_scalar (x, k, "a step name", &name)) < 0)
            return rc;
        if (!yard_pipeline_name_ok (name))
            return bad (x, k, "'%s' is not a step name (letters, digits, '_' "
                        "and '-')", name);
        for (size_t i = 0; i < spec->n_steps; i++)
            if (strcmp (spec->steps[i]->name, name) == 0)
                return bad (x, k, "step '%s' is declared twice (first at "
                            "line %u)", name, x->lines[i]);
        Yard__PipelineStep *st = calloc (1, sizeof *st);
        if (!st)
            return oom (x);
        yard__pipeline_step__init (st);
        x->lines[spec->n_steps] = (unsigned)k->start_mark.line + 1;
        spec->steps[spec->n_steps++] = st;
        if ((rc = step (x, k, v, st)) < 0)
            return rc;
    }
    if ((rc = apply_params (x, spec, params, nparams)) < 0)
        return rc;
    yard_error_t e;
    yard_error_clear (&e);
    if (yard_pipeline_check (spec, NULL, x->lines, &e) < 0)
        return yard_errorf (x->err, EINVAL, "%s: %s", x->file, e.text);
    return 0;
}

static void
ids (Yard__PipelineSpec *spec, const char *dir, const char *file)
{
    char host[256] = "";
    if (gethostname (host, sizeof host - 1) == 0)
        spec->submit_host = strdup (host);
    const char *user = getenv ("USER");
    struct passwd *pw = user ? NULL : getpwuid (getuid ());
    if (user || pw)
        spec->user = strdup (user ? user : pw->pw_name);
    spec->submit_dir = strdup (dir);
    spec->source = strdup (file);
}

int
yard_pipeline_parse (yard_client_t *c, const char *text, size_t len,
                     const char *dir, const char *name,
                     const char *const *params, size_t nparams,
                     Yard__PipelineSpec **out, yard_error_t *err)
{
    ctx_t x = {.file = name ? name : "pipeline", .dir = dir ? dir : ".",
               .c = c, .err = err};
    *out = NULL;
    Yard__PipelineSpec *spec = calloc (1, sizeof *spec);
    if (!spec)
        return yard_errorf (err, ENOMEM, "out of memory");
    yard__pipeline_spec__init (spec);
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser)) {
        free (spec);
        return yard_errorf (err, ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string (&parser, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load (&parser, &x.doc)) {
        rc = yard_errorf (err, EINVAL, "%s:%zu: not valid YAML: %s%s%s",
                          x.file, parser.problem_mark.line + 1,
                          parser.problem ? parser.problem : "syntax error",
                          parser.context ? " " : "",
                          parser.context ? parser.context : "");
        yaml_parser_delete (&parser);
        yard__pipeline_spec__free_unpacked (spec, NULL);
        return rc;
    }
    rc = top (&x, spec, params, nparams);
    if (rc == 0)
        ids (spec, x.dir, x.file);
    yaml_document_delete (&x.doc);
    yaml_parser_delete (&parser);
    free (x.lines);
    if (x.sock)
        zmq_close (x.sock);
    if (x.zctx)
        zmq_ctx_term (x.zctx);
    if (rc < 0) {
        yard__pipeline_spec__free_unpacked (spec, NULL);
        return rc;
    }
    *out = spec;
    return 0;
}

int
yard_pipeline_load (yard_client_t *c, const char *path,
                    const char *const *params, size_t nparams,
                    Yard__PipelineSpec **out, yard_error_t *err)
{
    *out = NULL;
    FILE *f = fopen (path, "rb");
    if (!f)
        return yard_errorf (err, errno, "cannot open %s: %s", path,
                            strerror (errno));
    char *buf = malloc (MAX_FILE + 1);
    size_t len = buf ? fread (buf, 1, MAX_FILE + 1, f) : 0;
    int rerr = ferror (f);
    fclose (f);
    if (!buf)
        return yard_errorf (err, ENOMEM, "out of memory");
    if (rerr || len > MAX_FILE) {
        free (buf);
        return yard_errorf (err, rerr ? EIO : EFBIG, "%s: %s", path,
                            rerr ? "read error" : "larger than 4 MiB");
    }
    char real[PATH_MAX];
    char dir[PATH_MAX];
    if (!realpath (path, real))
        snprintf (real, sizeof real, "%s", path);
    snprintf (dir, sizeof dir, "%s", real);
    char *slash = strrchr (dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else if (slash)
        dir[1] = '\0';
    else
        snprintf (dir, sizeof dir, ".");
    int rc = yard_pipeline_parse (c, buf, len, dir, path, params, nparams,
                                  out, err);
    free (buf);
    return rc;
}

int
yard_artifact_upload (yard_client_t *c, const char *path, char *digest,
                      uint64_t *size, yard_error_t *err)
{
    void *zctx = zmq_ctx_new ();
    void *sock = zctx ? zmq_socket (zctx, ZMQ_DEALER) : NULL;
    int rc;
    if (!sock) {
        rc = yard_errorf (err, errno ? errno : ENOMEM,
                          "cannot open a socket: %s", zmq_strerror (errno));
        goto out;
    }
    int linger = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect (sock, yard_client_endpoint (c)) < 0) {
        rc = yard_errorf (err, errno, "cannot connect to %s: %s",
                          yard_client_endpoint (c), zmq_strerror (errno));
        goto out;
    }
    yard_xfer_t x = {.sock = sock, .timeout_ms = yard_client_timeout (c)};
    bool is_tree = false;
    rc = yard_xfer_put_path (&x, path, digest, size, &is_tree, err);
out:
    if (sock)
        zmq_close (sock);
    if (zctx)
        zmq_ctx_term (zctx);
    return rc;
}
