/* stagespec.c - see stagespec.h. */
#include "stagespec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "digest.h"

static bool
rel_path_ok (const char *p)
{
    if (!p || !*p || *p == '/' || strlen (p) > YARD_STAGE_PATH_MAX)
        return false;
    for (;;) {
        const char *e = strchr (p, '/');
        size_t n = e ? (size_t)(e - p) : strlen (p);
        if (n == 0 || (n == 1 && p[0] == '.')
            || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!e)
            return true;
        p = e + 1;
    }
}

int
yard_stage_spec_check (const Yard__JobSpec *spec, yard_error_t *err)
{
    if (spec->n_stage_in > YARD_STAGE_MAX_INPUTS)
        return yard_errorf (err, EINVAL, "a job stages in at most %d inputs, "
                            "not %zu", YARD_STAGE_MAX_INPUTS,
                            spec->n_stage_in);
    for (size_t i = 0; i < spec->n_stage_in; i++) {
        const Yard__StageIn *in = spec->stage_in[i];
        const char *p = in && in->path ? in->path : "";
        if (!rel_path_ok (p))
            return yard_errorf (err, EINVAL,
                                "stage-in path '%s' must be relative and "
                                "stay inside $YARD_INPUTS (no '..', not "
                                "absolute, at most %d bytes)",
                                p, YARD_STAGE_PATH_MAX);
        if (!yard_digest_valid (in->digest))
            return yard_errorf (err, EINVAL,
                                "stage-in %s: '%s' is not an artifact digest "
                                "(the 64 hex digits 'yard artifact put' "
                                "prints)",
                                p, in->digest ? in->digest : "");
        for (size_t j = 0; j < i; j++)
            if (spec->stage_in[j] && spec->stage_in[j]->path
                && strcmp (spec->stage_in[j]->path, p) == 0)
                return yard_errorf (err, EINVAL,
                                    "stage-in path '%s' is given twice", p);
    }
    if (spec->n_collect > YARD_STAGE_MAX_OUTPUTS)
        return yard_errorf (err, EINVAL, "a job collects at most %d outputs, "
                            "not %zu", YARD_STAGE_MAX_OUTPUTS,
                            spec->n_collect);
    for (size_t i = 0; i < spec->n_collect; i++) {
        const char *n = spec->collect[i] ? spec->collect[i] : "";
        if (!rel_path_ok (n) || strchr (n, '/')
            || strlen (n) > YARD_STAGE_NAME_MAX)
            return yard_errorf (err, EINVAL,
                                "collect '%s': an output is one folder name "
                                "(no '/', not '.' or '..', at most %d bytes)",
                                n, YARD_STAGE_NAME_MAX);
        for (size_t j = 0; j < i; j++)
            if (spec->collect[j] && strcmp (spec->collect[j], n) == 0)
                return yard_errorf (err, EINVAL,
                                    "collect '%s' is given twice", n);
    }
    return 0;
}
