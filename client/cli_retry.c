/* cli_retry.c - signals, retry exit codes and attempt history in the CLI
 * (see cli_retry.h). */
#include "cli_artifact.h"
#include "cli_retry.h"
#include "cli_usage.h"
#include "cli_gang.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_render.h"
#include "cli_table.h"
#include "util.h"

int
cli_parse_signo (const char *s, int32_t *signo, yard_error_t *err)
{
    uint32_t n;
    if (!s || !*s)
        return yard_errorf (err, EINVAL, "a signal is needed, e.g. USR1 or "
                                         "10");
    if (isdigit ((unsigned char)s[0])) {
        if (yard_parse_u32 (s, &n) < 0 || n < 1 || n > 64)
            return yard_errorf (err, EINVAL, "invalid signal '%s': a number "
                                "is 1 to 64", s);
        *signo = (int32_t)n;
        return 0;
    }
    const char *name = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
    /* real-time signals: RTMIN, RTMIN+N, RTMAX, RTMAX-N */
    if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0) {
        bool min = toupper ((unsigned char)name[3]) == 'I';
        int base = min ? SIGRTMIN : SIGRTMAX;
        const char *rest = name + 5;
        int off = 0;
        if (*rest) {
            if ((min && *rest != '+') || (!min && *rest != '-')
                || yard_parse_u32 (rest + 1, &n) < 0 || n > 64)
                return yard_errorf (err, EINVAL, "invalid signal '%s': use "
                                    "RTMIN+N or RTMAX-N", s);
            off = min ? (int)n : -(int)n;
        }
        if (base + off < SIGRTMIN || base + off > SIGRTMAX)
            return yard_errorf (err, EINVAL, "invalid signal '%s': outside "
                                "RTMIN..RTMAX", s);
        *signo = base + off;
        return 0;
    }
    for (int i = 1; i < SIGRTMIN; i++) {
        const char *abbrev = sigabbrev_np (i);
        if (abbrev && strcasecmp (abbrev, name) == 0) {
            *signo = i;
            return 0;
        }
    }
    return yard_errorf (err, EINVAL, "unknown signal '%s': use a name such "
                        "as TERM, USR1, INT or a number", s);
}

int
cli_parse_signal (const char *s, int32_t *signo, bool *is_warn,
                  uint32_t *warn_s, yard_error_t *err)
{
    const char *at = strchr (s, '@');
    *is_warn = false;
    *warn_s = 0;
    if (!at)
        return cli_parse_signo (s, signo, err);
    char name[64];
    size_t len = (size_t)(at - s);
    if (len >= sizeof name)
        return yard_errorf (err, EINVAL, "invalid --signal '%s'", s);
    memcpy (name, s, len);
    name[len] = '\0';
    int rc = cli_parse_signo (name, signo, err);
    if (rc < 0)
        return rc;
    uint64_t secs;
    if (!at[1] || yard_parse_duration (at + 1, &secs, NULL) < 0)
        return yard_errorf (err, EINVAL, "invalid --signal '%s': after '@' "
                            "comes the time before the limit, e.g. "
                            "USR1@60 or USR1@5m", s);
    if (secs == 0 || secs > UINT32_MAX)
        return yard_errorf (err, ERANGE, "invalid --signal '%s': the "
                            "warning time must be 1s or more", s);
    *is_warn = true;
    *warn_s = (uint32_t)secs;
    return 0;
}

int
cli_parse_exit_codes (const char *s, int32_t **codes, size_t *n,
                      yard_error_t *err)
{
    const char *p = s;
    if (!*p)
        return yard_errorf (err, EINVAL, "--retry-exit-codes needs codes, "
                                         "e.g. 3,75");
    while (*p) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen (p);
        char num[16];
        uint32_t v;
        if (len == 0 || len >= sizeof num)
            return yard_errorf (err, EINVAL, "invalid --retry-exit-codes "
                                "'%s': expected codes such as 3,75", s);
        memcpy (num, p, len);
        num[len] = '\0';
        if (yard_parse_u32 (num, &v) < 0 || v < 1 || v > 255)
            return yard_errorf (err, EINVAL, "invalid exit code '%s' in "
                                "--retry-exit-codes: 1 to 255", num);
        int32_t *grown = realloc (*codes, (*n + 1) * sizeof grown[0]);
        if (!grown)
            return yard_errorf (err, ENOMEM, "out of memory");
        grown[(*n)++] = (int32_t)v;
        *codes = grown;
        p += len;
        if (*p == ',' && !*++p)
            return yard_errorf (err, EINVAL, "invalid --retry-exit-codes "
                                "'%s': ends with ','", s);
    }
    return 0;
}

static bool
set (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

static json_t *
str (const char *s)
{
    return cli_json_string (s ? s : "", s ? strlen (s) : 0);
}

static json_t *
time_or_null (int64_t ms)
{
    char iso[48];
    return ms > 0 ? str (cli_time_iso (ms, iso, sizeof iso)) : json_null ();
}

bool
cli_retry_json (json_t *o, const yard_job_t *job)
{
    json_t *arr = json_array ();
    if (!arr)
        return false;
    for (size_t i = 0; i < job->n_attempts; i++) {
        const yard_attempt_t *a = &job->attempts[i];
        json_t *j = json_object ();
        int64_t run = a->start_time_ms > 0 && a->end_time_ms >= a->start_time_ms
                          ? a->end_time_ms - a->start_time_ms
                          : 0;
        if (!j || json_array_append_new (arr, j) < 0
            || !set (j, "attempt", json_integer (a->attempt))
            || !set (j, "node", str (a->node))
            || !set (j, "start_time_ms", json_integer (a->start_time_ms))
            || !set (j, "start_time", time_or_null (a->start_time_ms))
            || !set (j, "end_time_ms", json_integer (a->end_time_ms))
            || !set (j, "end_time", time_or_null (a->end_time_ms))
            || !set (j, "runtime_ms", json_integer (run))
            || !set (j, "end_reason",
                     str (a->end_time_ms > 0
                              ? yard_end_reason_str (a->end_reason)
                              : "none"))
            || !set (j, "exit_code", json_integer (a->exit_code))
            || !set (j, "term_signal", json_integer (a->term_signal))
            || !set (j, "reason", str (a->reason))
            || !cli_outputs_json (j, a)
            || !set (j, "usage", cli_usage_json (&a->usage))
            || !cli_gang_attempt_json (j, a)) {
            json_decref (arr);
            return false;
        }
    }
    return set (o, "attempts", arr)
           && set (o, "retries", json_integer (job->retries))
           && set (o, "retries_used", json_integer (job->retries_used))
           && set (o, "retry_backoff_s", json_integer (job->retry_backoff_s))
           && set (o, "eligible_time_ms",
                   json_integer (job->eligible_time_ms))
           && set (o, "stop_signal", json_integer (job->stop_signal))
           && set (o, "warn_signal", json_integer (job->warn_signal))
           && set (o, "warn_seconds", json_integer (job->warn_seconds))
           && set (o, "requeue_on_timeout",
                   json_boolean (job->requeue_on_timeout))
           && set (o, "preemptible", json_boolean (job->preemptible));
}

int
cli_print_attempts (FILE *out, const yard_job_t *job, int64_t now_ms)
{
    char d[32];
    if (job->retries || job->retries_used)
        fprintf (out, "%-12s %u of %u used\n", "retries:", job->retries_used,
                 job->retries);
    if (job->state == YARD_JOB_PENDING && job->eligible_time_ms > now_ms)
        fprintf (out, "%-12s in %s\n", "eligible:",
                 yard_format_duration (job->eligible_time_ms - now_ms, d,
                                       sizeof d));
    if (cli_print_outputs (out, job) < 0) /* cli_artifact.c */
        return -EIO;
    if (job->n_attempts == 0)
        return ferror (out) ? -EIO : 0;
    static const char *const hdr[] = { "ATTEMPT", "NODE",    "STARTED",
                                       "ENDED",   "RUNTIME", "ENDED-BECAUSE" };
    cli_table_t *t = cli_table_create (6, hdr);
    if (!t)
        return -ENOMEM;
    (void)cli_table_align_right (t, 0);
    int rc = 0;
    for (size_t i = 0; i < job->n_attempts && rc == 0; i++) {
        const yard_attempt_t *a = &job->attempts[i];
        char num[16], started[48], ended[48], run[32];
        snprintf (num, sizeof num, "%u", a->attempt);
        if (a->start_time_ms > 0)
            cli_time_local (a->start_time_ms, started, sizeof started);
        else
            snprintf (started, sizeof started, "-");
        if (a->end_time_ms > 0)
            cli_time_local (a->end_time_ms, ended, sizeof ended);
        else
            snprintf (ended, sizeof ended, "-");
        int64_t end = a->end_time_ms > 0 ? a->end_time_ms : now_ms;
        if (a->start_time_ms > 0 && end >= a->start_time_ms)
            yard_format_duration (end - a->start_time_ms, run, sizeof run);
        else
            snprintf (run, sizeof run, "-");
        const char *why = a->end_time_ms > 0
                              ? (*a->reason ? a->reason
                                            : yard_end_reason_str (
                                                  a->end_reason))
                              : "(running)";
        char *nodes = cli_gang_attempt_nodes (a); /* a gang: all of them */
        const char *cells[] = { num,
                                nodes ? nodes : *a->node ? a->node : "-",
                                started, ended, run, why };
        rc = cli_table_add_row (t, cells);
        free (nodes);
    }
    if (rc == 0) {
        fputc ('\n', out);
        rc = cli_table_print (t, out);
    }
    cli_table_destroy (&t);
    return rc < 0 ? rc : (ferror (out) ? -EIO : 0);
}
