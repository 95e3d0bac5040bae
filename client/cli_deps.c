/* cli_deps.c - `--after` and `--array` (see cli_deps.h). */
#include "cli_deps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ARRAY_MAX 100000 /* the scheduler's limit, checked early here */

static const char after_hint[] = "expected JOB, JOB:ok, JOB:any or "
                                 "JOB:notok, e.g. --after 12:ok";

/* One "JOB[:COND]" of len bytes. */
static int
parse_one (const char *val, const char *p, size_t len, yard_dependency_t *d,
           yard_error_t *err)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return yard_errorf (err, EINVAL, "invalid --after '%s': %s", val,
                            after_hint);
    memcpy (buf, p, len);
    buf[len] = '\0';
    char *colon = strchr (buf, ':');
    d->condition = YARD_DEP_OK;
    if (colon) {
        *colon++ = '\0';
        if (strcmp (colon, "ok") == 0)
            d->condition = YARD_DEP_OK;
        else if (strcmp (colon, "any") == 0)
            d->condition = YARD_DEP_ANY;
        else if (strcmp (colon, "notok") == 0)
            d->condition = YARD_DEP_NOTOK;
        else
            return yard_errorf (err, EINVAL, "invalid --after '%s': unknown "
                                "condition '%s'; %s", val, colon,
                                after_hint);
    }
    if (yard_parse_u64 (buf, &d->job_id) < 0 || d->job_id == 0)
        return yard_errorf (err, EINVAL, "invalid --after '%s': '%s' is not "
                            "a job id; %s", val, buf, after_hint);
    return 0;
}

int
cli_add_after (const char *val, yard_dependency_t **deps, size_t *n,
               yard_error_t *err)
{
    size_t count = 1;
    for (const char *p = val; *p; p++)
        count += *p == ',';
    yard_dependency_t *v = realloc (*deps, (*n + count) * sizeof v[0]);
    if (!v)
        return yard_errorf (err, ENOMEM, "out of memory");
    *deps = v; /* *n is only raised once every item parsed */
    const char *p = val;
    for (size_t i = 0; i < count; i++) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        int rc = parse_one (val, p, len, &v[*n + i], err);
        if (rc < 0)
            return rc;
        p = end ? end + 1 : p + len;
    }
    *n += count;
    return 0;
}

/* A decimal index: digits only (yard_parse_u32 would accept more). */
static int
parse_index (const char *val, const char *s, size_t len, uint32_t *out,
             yard_error_t *err)
{
    char buf[16];
    if (len == 0 || len >= sizeof buf)
        goto bad;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            goto bad;
    memcpy (buf, s, len);
    buf[len] = '\0';
    if (yard_parse_u32 (buf, out) == 0)
        return 0;
bad:
    return yard_errorf (err, EINVAL, "invalid --array '%s': expected "
                        "FIRST-LAST[:STEP][%%MAX] or INDEX, e.g. 0-99%%10 "
                        "or 1-9:2", val);
}

int
cli_parse_array (const char *val, yard_job_spec_t *spec, yard_error_t *err)
{
    uint32_t first, last, step = 1, max = 0;
    const char *pct = strchr (val, '%');
    size_t rlen = pct ? (size_t)(pct - val) : strlen (val);
    const char *dash = memchr (val, '-', rlen);
    const char *colon = memchr (val, ':', rlen);
    int rc;
    if (colon && (!dash || colon < dash))
        return parse_index (val, "", 0, &first, err); /* ":" needs a range */
    if (dash) {
        const char *lend = colon ? colon : val + rlen;
        if ((rc = parse_index (val, val, (size_t)(dash - val), &first, err))
                < 0
            || (rc = parse_index (val, dash + 1, (size_t)(lend - dash - 1),
                                  &last, err)) < 0)
            return rc;
        if (colon && (rc = parse_index (val, colon + 1,
                                        (size_t)(val + rlen - colon - 1),
                                        &step, err)) < 0)
            return rc;
    } else {
        if ((rc = parse_index (val, val, rlen, &first, err)) < 0)
            return rc;
        last = first;
    }
    if (pct && (rc = parse_index (val, pct + 1, strlen (pct + 1), &max,
                                  err)) < 0)
        return rc;
    if (step == 0)
        return yard_errorf (err, EINVAL, "invalid --array '%s': the step "
                            "must be at least 1", val);
    if (pct && max == 0)
        return yard_errorf (err, EINVAL, "invalid --array '%s': %%MAX must "
                            "be at least 1", val);
    if (first > last)
        return yard_errorf (err, EINVAL, "invalid --array '%s': %u comes "
                            "after %u", val, first, last);
    if (((uint64_t)last - first) / step + 1 > ARRAY_MAX)
        return yard_errorf (err, ERANGE, "invalid --array '%s': more than "
                            "%u elements", val, ARRAY_MAX);
    spec->array = true;
    spec->array_first = first;
    spec->array_last = last;
    spec->array_step = step;
    spec->array_max_running = max;
    return 0;
}

bool
cli_deps_json (json_t *o, const yard_job_t *job)
{
    bool in = job->array_id != 0;
    json_t *id = in ? json_integer ((json_int_t)job->array_id) : json_null ();
    json_t *idx = in ? json_integer (job->array_index) : json_null ();
    if (json_object_set_new (o, "array_id", id) < 0
        || json_object_set_new (o, "array_index", idx) < 0)
        return false;
    if (!job->has_array_states)
        return true;
    /* the array's first job: its members by state */
    json_t *st = json_object ();
    if (!st || json_object_set_new (o, "array_states", st) < 0)
        return false;
    for (int i = 1; i < (int)(sizeof job->array_states / sizeof (uint64_t));
         i++)
        if (json_object_set_new (st, yard_job_state_str (i),
                                 json_integer ((json_int_t)
                                                   job->array_states[i]))
            < 0)
            return false;
    return true;
}

char *
cli_deps_summary (const yard_job_t *job, char *buf, size_t len)
{
    /* lifecycle order: what is left first, then how they ended */
    static const enum yard_job_state order[] = {
        YARD_JOB_COMPLETED, YARD_JOB_FAILED,   YARD_JOB_CANCELLED,
        YARD_JOB_TIMEOUT,   YARD_JOB_RUNNING,  YARD_JOB_ASSIGNED,
        YARD_JOB_PREEMPTING, YARD_JOB_LOST,    YARD_JOB_PENDING,
    };
    uint64_t total = 0;
    for (size_t i = 0; i < sizeof job->array_states / sizeof (uint64_t); i++)
        total += job->array_states[i];
    size_t used = 0;
    int n = snprintf (buf, len, "%" PRIu64 "-%" PRIu64 ":", job->id,
                      job->id + (total ? total - 1 : 0));
    used = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
    const char *sep = " ";
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        uint64_t c = job->array_states[order[i]];
        if (!c)
            continue;
        n = snprintf (buf + used, len - used, "%s%" PRIu64 " %s", sep, c,
                      yard_job_state_str (order[i]));
        used = n > 0 && (size_t)n < len - used ? used + (size_t)n : len - 1;
        sep = ", ";
    }
    return buf;
}

void
cli_deps_print (FILE *out, const yard_job_t *job)
{
    if (!job->array_id)
        return;
    fprintf (out, "%-12s %" PRIu64 " index %u\n", "array:", job->array_id,
             job->array_index);
    if (job->has_array_states) {
        char buf[512];
        fprintf (out, "%-12s %s\n", "members:",
                 cli_deps_summary (job, buf, sizeof buf));
    }
}
