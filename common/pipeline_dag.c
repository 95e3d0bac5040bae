/* pipeline_dag.c - pipeline spec validation, step order, commands and
 * cache keys (see pipeline_dag.h). */
#include "pipeline_dag.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

bool
yard_pipeline_name_ok (const char *s)
{
    if (!s || !*s || *s == '-')
        return false;
    size_t n = 0;
    for (; *s; s++, n++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n <= YARD_PIPELINE_NAME_MAX;
}

/* Copy the n bytes at s into dst (cap bytes) when they form a name. */
static bool
take_name (char *dst, size_t cap, const char *s, size_t n)
{
    if (n == 0 || n >= cap)
        return false;
    memcpy (dst, s, n);
    dst[n] = '\0';
    return yard_pipeline_name_ok (dst);
}

int
yard_pipeline_ref_parse (const char *ref, yard_pref_t *out, yard_error_t *err)
{
    memset (out, 0, sizeof *out);
    if (!ref)
        ref = "";
    if (strncmp (ref, "dataset:", 8) == 0) {
        const char *name = ref + 8;
        const char *at = strchr (name, '@');
        size_t n = at ? (size_t)(at - name) : strlen (name);
        if (!take_name (out->name, sizeof out->name, name, n))
            goto bad;
        out->kind = YARD_PREF_DATASET;
        if (!at || strcmp (at + 1, "latest") == 0)
            return 0;
        char *end;
        errno = 0;
        unsigned long v = strtoul (at + 1, &end, 10);
        if (errno || *end || end == at + 1 || v == 0 || v > 0xffffffffUL
            || at[1] == '-' || at[1] == '+')
            goto bad;
        out->version = (unsigned)v;
        return 0;
    }
    if (strncmp (ref, "artifact:", 9) == 0) {
        if (!yard_digest_valid (ref + 9))
            goto bad;
        out->kind = YARD_PREF_ARTIFACT;
        memcpy (out->digest, ref + 9, 65);
        return 0;
    }
    if (strncmp (ref, "steps.", 6) == 0) {
        const char *s = ref + 6;
        const char *dot = strstr (s, ".outputs.");
        if (!dot || !take_name (out->name, sizeof out->name, s,
                                (size_t)(dot - s)))
            goto bad;
        const char *o = dot + 9;
        if (!take_name (out->output, sizeof out->output, o, strlen (o)))
            goto bad;
        out->kind = YARD_PREF_STEP;
        return 0;
    }
bad:
    return yard_errorf (err, EINVAL,
                        "'%s' is not an input reference: use "
                        "dataset:NAME@latest, dataset:NAME@VERSION, "
                        "steps.STEP.outputs.NAME or artifact:DIGEST",
                        ref);
}

static const Yard__PipelineStep *
find_step (const Yard__PipelineSpec *spec, const char *name, size_t *idx)
{
    for (size_t i = 0; i < spec->n_steps; i++)
        if (spec->steps[i]->name && strcmp (spec->steps[i]->name, name) == 0) {
            if (idx)
                *idx = i;
            return spec->steps[i];
        }
    return NULL;
}

static bool
has_string (char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcmp (v[i], s) == 0)
            return true;
    return false;
}

static const Yard__PipelineInput *
find_input (const Yard__PipelineStep *step, const char *name)
{
    for (size_t i = 0; i < step->n_inputs; i++)
        if (step->inputs[i]->name && strcmp (step->inputs[i]->name, name) == 0)
            return step->inputs[i];
    return NULL;
}

const char *
yard_pipeline_param (const Yard__PipelineSpec *spec,
                     const Yard__PipelineStep *step, const char *name)
{
    if (step)
        for (size_t i = 0; i < step->n_params; i++)
            if (step->params[i]->key && strcmp (step->params[i]->key, name) == 0)
                return step->params[i]->value ? step->params[i]->value : "";
    for (size_t i = 0; i < spec->n_params; i++)
        if (spec->params[i]->key && strcmp (spec->params[i]->key, name) == 0)
            return spec->params[i]->value ? spec->params[i]->value : "";
    return NULL;
}

#define WHERE_FMT "%s%.0u%sstep '%s': "
#define WHERE(lines, i, name)                                                \
    (lines) ? "line " : "", (lines) ? (lines)[i] : 0u, (lines) ? ": " : "",  \
        (name)

/* A growing string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void
sb_add (sbuf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc (b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy (b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Walk the ${...} references of step->run: substitute them into b (when
 * not NULL), record used params, or fail on a bad one. */
static int
walk_refs (const Yard__PipelineSpec *spec, const Yard__PipelineStep *step,
           const unsigned *lines, size_t si, sbuf_t *b, json_t *used,
           yard_error_t *err)
{
    const char *p = step->run ? step->run : "";
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            /* "$${" is a literal "${" for the shell */
            if (b)
                sb_add (b, "${", 2);
            p += 3;
            continue;
        }
        if (!(p[0] == '$' && p[1] == '{')) {
            if (b)
                sb_add (b, p, 1);
            p++;
            continue;
        }
        const char *end = strchr (p + 2, '}');
        if (!end)
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "unterminated ${ in its run "
                                "command",
                                WHERE (lines, si, step->name));
        char ref[3 * YARD_PIPELINE_NAME_MAX + 32];
        size_t n = (size_t)(end - (p + 2));
        if (n >= sizeof ref)
            n = sizeof ref - 1;
        memcpy (ref, p + 2, n);
        ref[n] = '\0';
        char what[YARD_PIPELINE_NAME_MAX + 1];
        const char *val = NULL;
        char tmp[2 * YARD_PIPELINE_NAME_MAX + 64];
        if (strncmp (ref, "params.", 7) == 0
            && take_name (what, sizeof what, ref + 7, strlen (ref + 7))) {
            val = yard_pipeline_param (spec, step, what);
            if (!val)
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "${%s}: no parameter '%s' "
                                    "(declare it under params: or pass "
                                    "--param %s=VALUE)",
                                    WHERE (lines, si, step->name), ref, what,
                                    what);
            if (used && json_object_set_new (used, what, json_string (val))
                            < 0)
                return yard_errorf (err, ENOMEM, "out of memory");
        } else if (strncmp (ref, "inputs.", 7) == 0
                   && take_name (what, sizeof what, ref + 7,
                                 strlen (ref + 7))) {
            if (!find_input (step, what))
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "${%s}: no input '%s' (declare "
                                    "it under inputs:)",
                                    WHERE (lines, si, step->name), ref, what);
            snprintf (tmp, sizeof tmp, "\"$YARD_INPUTS/%s\"", what);
            val = tmp;
        } else if (strncmp (ref, "outputs.", 8) == 0
                   && take_name (what, sizeof what, ref + 8,
                                 strlen (ref + 8))) {
            if (!has_string (step->outputs, step->n_outputs, what))
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "${%s}: no output '%s' "
                                    "(declare it under outputs:)",
                                    WHERE (lines, si, step->name), ref, what);
            snprintf (tmp, sizeof tmp, "\"$YARD_OUTPUTS/%s\"", what);
            val = tmp;
        } else if (strncmp (ref, "steps.", 6) == 0) {
            yard_pref_t r;
            if (yard_pipeline_ref_parse (ref, &r, NULL) < 0
                || r.kind != YARD_PREF_STEP)
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "${%s} is not a reference: "
                                    "use ${steps.STEP.outputs.NAME}",
                                    WHERE (lines, si, step->name), ref);
            if (!has_string (step->needs, step->n_needs, r.name))
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "${%s}: step '%s' is not in "
                                    "its needs",
                                    WHERE (lines, si, step->name), ref,
                                    r.name);
            const Yard__PipelineStep *up = find_step (spec, r.name, NULL);
            if (!up || !has_string (up->outputs, up->n_outputs, r.output))
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "${%s}: step '%s' has no "
                                    "output '%s'",
                                    WHERE (lines, si, step->name), ref,
                                    r.name, r.output);
            snprintf (tmp, sizeof tmp, "\"$YARD_INPUTS/steps/%s/%s\"", r.name,
                      r.output);
            val = tmp;
        } else
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "${%s} is not a reference: use "
                                "${params.NAME}, ${inputs.NAME}, "
                                "${outputs.NAME} or "
                                "${steps.STEP.outputs.NAME} ($${ for a "
                                "literal ${)",
                                WHERE (lines, si, step->name), ref);
        if (b)
            sb_add (b, val, strlen (val));
        p = end + 1;
    }
    if (b && b->oom)
        return yard_errorf (err, ENOMEM, "out of memory");
    return 0;
}

static int
check_step (const Yard__PipelineSpec *spec, size_t si, const unsigned *lines,
            yard_error_t *err)
{
    const Yard__PipelineStep *st = spec->steps[si];
    if (!st->run || !*st->run)
        return yard_errorf (err, EINVAL, WHERE_FMT "it has no run command",
                            WHERE (lines, si, st->name));
    if (strlen (st->run) > YARD_PIPELINE_MAX_RUN)
        return yard_errorf (err, EINVAL,
                            WHERE_FMT "its run command is longer than %d "
                            "bytes",
                            WHERE (lines, si, st->name), YARD_PIPELINE_MAX_RUN);
    if (st->n_needs > YARD_PIPELINE_MAX_LIST
        || st->n_inputs > YARD_PIPELINE_MAX_LIST
        || st->n_outputs > YARD_PIPELINE_MAX_LIST
        || st->n_code > YARD_PIPELINE_MAX_LIST
        || st->n_env > YARD_PIPELINE_MAX_LIST
        || st->n_params > YARD_PIPELINE_MAX_LIST)
        return yard_errorf (err, EINVAL,
                            WHERE_FMT "at most %d needs, inputs, outputs, "
                            "code files, env and params each",
                            WHERE (lines, si, st->name),
                            YARD_PIPELINE_MAX_LIST);
    for (size_t j = 0; j < st->n_needs; j++) {
        const char *nd = st->needs[j] ? st->needs[j] : "";
        if (!find_step (spec, nd, NULL))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "it needs '%s', which is not a "
                                "step of this pipeline",
                                WHERE (lines, si, st->name), nd);
        if (strcmp (nd, st->name) == 0)
            return yard_errorf (err, EINVAL, WHERE_FMT "it needs itself",
                                WHERE (lines, si, st->name));
    }
    for (size_t j = 0; j < st->n_outputs; j++) {
        if (!yard_pipeline_name_ok (st->outputs[j]))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "'%s' is not an output name "
                                "(letters, digits, '_' and '-')",
                                WHERE (lines, si, st->name),
                                st->outputs[j] ? st->outputs[j] : "");
        if (has_string (st->outputs, j, st->outputs[j]))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "output '%s' is declared twice",
                                WHERE (lines, si, st->name), st->outputs[j]);
    }
    for (size_t j = 0; j < st->n_inputs; j++) {
        const Yard__PipelineInput *in = st->inputs[j];
        if (!yard_pipeline_name_ok (in->name))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "'%s' is not an input name "
                                "(letters, digits, '_' and '-')",
                                WHERE (lines, si, st->name),
                                in->name ? in->name : "");
        if (find_input (st, in->name) != in)
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "input '%s' is declared twice",
                                WHERE (lines, si, st->name), in->name);
        if (strcmp (in->name, "steps") == 0 || strcmp (in->name, "code") == 0)
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "'%s' is reserved: name the input "
                                "otherwise",
                                WHERE (lines, si, st->name), in->name);
        yard_pref_t r;
        yard_error_t e2;
        if (yard_pipeline_ref_parse (in->ref, &r, &e2) < 0)
            return yard_errorf (err, EINVAL, WHERE_FMT "input %s: %s",
                                WHERE (lines, si, st->name), in->name,
                                e2.text);
        if (r.kind == YARD_PREF_STEP) {
            const Yard__PipelineStep *up = find_step (spec, r.name, NULL);
            if (!up)
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "input %s: no step '%s'",
                                    WHERE (lines, si, st->name), in->name,
                                    r.name);
            if (!has_string (st->needs, st->n_needs, r.name))
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "input %s: step '%s' is not "
                                    "in its needs",
                                    WHERE (lines, si, st->name), in->name,
                                    r.name);
            if (!has_string (up->outputs, up->n_outputs, r.output))
                return yard_errorf (err, EINVAL,
                                    WHERE_FMT "input %s: step '%s' has no "
                                    "output '%s'",
                                    WHERE (lines, si, st->name), in->name,
                                    r.name, r.output);
        }
    }
    for (size_t j = 0; j < st->n_code; j++) {
        const Yard__CodeFile *c = st->code[j];
        if (!c->path || !*c->path || c->path[0] == '/'
            || strstr (c->path, ".."))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "code file '%s': give a path "
                                "relative to the pipeline file, without "
                                "'..'",
                                WHERE (lines, si, st->name),
                                c->path ? c->path : "");
        if (!yard_digest_valid (c->digest))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "code file '%s' has no content "
                                "digest (it was not uploaded)",
                                WHERE (lines, si, st->name), c->path);
    }
    for (size_t j = 0; j < st->n_env; j++)
        if (!st->env[j]->key || !*st->env[j]->key
            || strchr (st->env[j]->key, '='))
            return yard_errorf (err, EINVAL,
                                WHERE_FMT "'%s' is not an environment "
                                "variable name",
                                WHERE (lines, si, st->name),
                                st->env[j]->key ? st->env[j]->key : "");
    return walk_refs (spec, st, lines, si, NULL, NULL, err);
}

int
yard_pipeline_check (const Yard__PipelineSpec *spec, size_t *order,
                     const unsigned *lines, yard_error_t *err)
{
    if (!spec)
        return yard_errorf (err, EINVAL, "no pipeline spec");
    if (!yard_pipeline_name_ok (spec->name))
        return yard_errorf (err, EINVAL,
                            "'%s' is not a pipeline name: give name: with "
                            "letters, digits, '_' and '-'",
                            spec->name ? spec->name : "");
    if (spec->n_steps == 0)
        return yard_errorf (err, EINVAL, "pipeline '%s' has no steps",
                            spec->name);
    if (spec->n_steps > YARD_PIPELINE_MAX_STEPS)
        return yard_errorf (err, EINVAL,
                            "pipeline '%s' has %zu steps, at most %d are "
                            "allowed",
                            spec->name, spec->n_steps,
                            YARD_PIPELINE_MAX_STEPS);
    size_t edges = 0;
    for (size_t i = 0; i < spec->n_steps; i++)
        edges += spec->steps[i]->n_needs;
    if (edges > YARD_PIPELINE_MAX_NEEDS)
        return yard_errorf (err, EINVAL,
                            "pipeline '%s' has %zu needs in all, at most %d "
                            "are allowed",
                            spec->name, edges, YARD_PIPELINE_MAX_NEEDS);
    if (spec->n_params > YARD_PIPELINE_MAX_LIST)
        return yard_errorf (err, EINVAL, "at most %d params are allowed",
                            YARD_PIPELINE_MAX_LIST);
    for (size_t i = 0; i < spec->n_params; i++)
        if (!yard_pipeline_name_ok (spec->params[i]->key))
            return yard_errorf (err, EINVAL,
                                "'%s' is not a parameter name (letters, "
                                "digits, '_' and '-')",
                                spec->params[i]->key ? spec->params[i]->key
                                                     : "");
    for (size_t i = 0; i < spec->n_steps; i++) {
        const char *nm = spec->steps[i]->name;
        if (!yard_pipeline_name_ok (nm))
            return yard_errorf (err, EINVAL,
                                "%s%.0u%s'%s' is not a step name (letters, "
                                "digits, '_' and '-')",
                                lines ? "line " : "", lines ? lines[i] : 0u,
                                lines ? ": " : "", nm ? nm : "");
        size_t first;
        if (find_step (spec, nm, &first) && first != i)
            return yard_errorf (err, EINVAL, WHERE_FMT "declared twice",
                                WHERE (lines, i, nm));
    }
    for (size_t i = 0; i < spec->n_steps; i++) {
        int rc = check_step (spec, i, lines, err);
        if (rc < 0)
            return rc;
    }
    /* Kahn's algorithm, taking the first ready step in file order each
     * time, so that the order is stable and readable.  Each need is looked
     * up once: need[off[i] .. off[i+1]) are step i's needs, dep[doff[d] ..
     * doff[d+1]) the steps that need d. */
    size_t n = spec->n_steps, e = 0;
    for (size_t i = 0; i < n; i++)
        e += spec->steps[i]->n_needs;
    size_t *off = calloc (n + 1, sizeof *off);
    size_t *doff = calloc (n + 1, sizeof *doff);
    size_t *need = calloc (e ? e : 1, sizeof *need);
    size_t *dep = calloc (e ? e : 1, sizeof *dep);
    size_t *left = calloc (n, sizeof *left);
    unsigned char *done = calloc (n, 1);
    unsigned char *seen = calloc (n, 1);
    int rc = 0;
    if (!off || !doff || !need || !dep || !left || !done || !seen) {
        rc = yard_errorf (err, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        const Yard__PipelineStep *st = spec->steps[i];
        off[i] = k;
        for (size_t j = 0; j < st->n_needs; j++, k++) {
            size_t d = 0;
            find_step (spec, st->needs[j], &d);
            need[k] = d;
            doff[d + 1]++;
        }
        left[i] = st->n_needs;
    }
    off[n] = e;
    for (size_t i = 0; i < n; i++)
        doff[i + 1] += doff[i];
    {
        size_t *fill = calloc (n, sizeof *fill);
        if (!fill) {
            rc = yard_errorf (err, ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t k = off[i]; k < off[i + 1]; k++)
                dep[doff[need[k]] + fill[need[k]]++] = i;
        free (fill);
    }
    for (size_t k = 0; k < n; k++) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++)
            if (!done[i] && left[i] == 0)
                pick = i;
        if (pick == n) {
            /* every step left waits on another: follow each one's first
             * unfinished need until a step comes back: that is a cycle */
            size_t at = 0;
            while (done[at])
                at++;
            while (!seen[at]) {
                seen[at] = 1;
                for (size_t q = off[at]; q < off[at + 1]; q++)
                    if (!done[need[q]]) {
                        at = need[q];
                        break;
                    }
            }
            char path[512] = "";
            size_t len = 0, start = at;
            do {
                int w = snprintf (path + len, sizeof path - len, "%s -> ",
                                  spec->steps[at]->name);
                if (w > 0 && (size_t)w < sizeof path - len)
                    len += (size_t)w;
                for (size_t q = off[at]; q < off[at + 1]; q++)
                    if (!done[need[q]]) {
                        at = need[q];
                        break;
                    }
            } while (at != start && len < sizeof path - 1);
            snprintf (path + len, sizeof path - len, "%s",
                      spec->steps[start]->name);
            rc = yard_errorf (err, EINVAL,
                              "%s%.0u%sthe steps' needs form a cycle: %s "
                              "(each step needs the next)",
                              lines ? "line " : "",
                              lines ? lines[start] : 0u, lines ? ": " : "",
                              path);
            goto out;
        }
        done[pick] = 1;
        for (size_t q = doff[pick]; q < doff[pick + 1]; q++)
            left[dep[q]]--;
        if (order)
            order[k] = pick;
    }
out:
    free (off);
    free (doff);
    free (need);
    free (dep);
    free (left);
    free (done);
    free (seen);
    return rc;
}

int
yard_pipeline_expand (const Yard__PipelineSpec *spec,
                      const Yard__PipelineStep *step, char **out,
                      json_t *used_params, yard_error_t *err)
{
    sbuf_t b = {0};
    sb_add (&b, "", 0);
    size_t si = 0;
    for (size_t i = 0; i < spec->n_steps; i++)
        if (spec->steps[i] == step)
            si = i;
    int rc = walk_refs (spec, step, NULL, si, &b, used_params, err);
    if (rc == 0 && b.oom)
        rc = yard_errorf (err, ENOMEM, "out of memory");
    if (rc < 0) {
        free (b.p);
        return rc;
    }
    *out = b.p;
    return 0;
}

json_t *
yard_pipeline_key (const Yard__PipelineSpec *spec,
                   const Yard__PipelineStep *step,
                   const char *const *input_digests, json_t *upstream,
                   char **text, char *hex, yard_error_t *err)
{
    json_t *parts = json_object ();
    json_t *env = json_object ();
    json_t *params = json_object ();
    json_t *code = json_object ();
    json_t *inputs = json_object ();
    json_t *outputs = json_array ();
    char *cmd = NULL;
    if (!parts || !env || !params || !code || !inputs || !outputs)
        goto oom;
    if (yard_pipeline_expand (spec, step, &cmd, params, err) < 0)
        goto fail;
    for (size_t i = 0; i < step->n_env; i++)
        if (json_object_set_new (env, step->env[i]->key,
                                 json_string (step->env[i]->value
                                                  ? step->env[i]->value
                                                  : ""))
            < 0)
            goto oom;
    for (size_t i = 0; i < step->n_code; i++)
        if (json_object_set_new (code, step->code[i]->path,
                                 json_string (step->code[i]->digest))
            < 0)
            goto oom;
    for (size_t i = 0; i < step->n_inputs; i++)
        if (json_object_set_new (inputs, step->inputs[i]->name,
                                 json_string (input_digests[i]
                                                  ? input_digests[i]
                                                  : ""))
            < 0)
            goto oom;
    for (size_t i = 0; i < step->n_outputs; i++)
        if (json_array_append_new (outputs, json_string (step->outputs[i])) < 0)
            goto oom;
    if (json_object_set_new (parts, "command", json_string (cmd)) < 0)
        goto oom;
    free (cmd);
    cmd = NULL;
    json_object_set_new (parts, "env", env);
    json_object_set_new (parts, "params", params);
    json_object_set_new (parts, "code", code);
    json_object_set_new (parts, "inputs", inputs);
    json_object_set_new (parts, "outputs", outputs);
    json_object_set_new (parts, "upstream",
                         upstream ? json_incref (upstream) : json_object ());
    env = params = code = inputs = outputs = NULL;
    char *t = json_dumps (parts, JSON_SORT_KEYS | JSON_COMPACT
                                     | JSON_ENSURE_ASCII);
    if (!t)
        goto oom;
    yard_digest_buf (t, strlen (t), hex);
    if (text)
        *text = t;
    else
        free (t);
    return parts;
oom:
    yard_errorf (err, ENOMEM, "out of memory");
fail:
    free (cmd);
    json_decref (parts);
    json_decref (env);
    json_decref (params);
    json_decref (code);
    json_decref (inputs);
    json_decref (outputs);
    return NULL;
}

static void
add_line (json_t *lines, size_t *n, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
add_line (json_t *lines, size_t *n, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    if (json_array_append_new (lines, json_string (buf)) == 0)
        (*n)++;
}

static const char *
sval (json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s ? s : NULL;
}

/* Compare the string maps a[key] and b[key]; label names the part. */
static void
diff_map (json_t *a, json_t *b, const char *key, const char *label,
          bool digests, json_t *lines, size_t *n)
{
    json_t *ma = json_object_get (a, key), *mb = json_object_get (b, key);
    const char *k;
    json_t *v;
    json_object_foreach (mb, k, v)
    {
        const char *old = sval (ma, k), *now = json_string_value (v);
        if (!old)
            add_line (lines, n, "%s %s added%s%s", label, k,
                      digests ? "" : ": ", digests ? "" : now);
        else if (strcmp (old, now) != 0) {
            if (digests)
                add_line (lines, n, "%s %s changed: %.8s.. -> %.8s..", label,
                          k, old, now);
            else
                add_line (lines, n, "%s %s %s -> %s", label, k, old, now);
        }
    }
    json_object_foreach (ma, k, v)
    {
        if (!json_object_get (mb, k))
            add_line (lines, n, "%s %s removed", label, k);
    }
}

size_t
yard_pipeline_key_diff (json_t *a, json_t *b, json_t *lines)
{
    size_t n = 0;
    const char *ca = sval (a, "command"), *cb = sval (b, "command");
    if (!ca || !cb || strcmp (ca, cb) != 0)
        add_line (lines, &n, "command changed: '%s' -> '%s'", ca ? ca : "",
                  cb ? cb : "");
    diff_map (a, b, "params", "param", false, lines, &n);
    diff_map (a, b, "env", "env", false, lines, &n);
    diff_map (a, b, "code", "code", true, lines, &n);
    diff_map (a, b, "inputs", "input", true, lines, &n);
    diff_map (a, b, "upstream", "upstream output", true, lines, &n);
    if (!json_equal (json_object_get (a, "outputs"),
                     json_object_get (b, "outputs")))
        add_line (lines, &n, "declared outputs changed");
    return n;
}
