/* cli_metrics.c - `yard metrics` (see cli_metrics.h).
 *
 * The plot is a sparkline of the value over the step: the key's step range
 * is cut into CLI_METRICS_PLOT_WIDTH columns, each column shows the mean
 * of its points scaled between the key's min and max (a column without
 * points stays blank).  Eight block heights in UTF-8 terminals, ten ASCII
 * levels elsewhere.
 */
#include "cli_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"

static const char *const blocks[] = { "\u2581", "\u2582", "\u2583", "\u2584",
                                      "\u2585", "\u2586", "\u2587", "\u2588" };
static const char ascii_levels[] = "_.-:=+*#%@";

static void
plot (FILE *out, const yard_metric_t *p, size_t n, double min, double max,
      bool utf8)
{
    double sum[CLI_METRICS_PLOT_WIDTH] = { 0 };
    size_t cnt[CLI_METRICS_PLOT_WIDTH] = { 0 };
    int64_t s0 = p[0].step, s1 = p[n - 1].step;
    for (size_t i = 0; i < n; i++) {
        size_t col = 0;
        if (s1 > s0)
            col = (size_t)((double)(p[i].step - s0) / (double)(s1 - s0)
                           * (CLI_METRICS_PLOT_WIDTH - 1) + 0.5);
        if (col >= CLI_METRICS_PLOT_WIDTH)
            col = CLI_METRICS_PLOT_WIDTH - 1;
        sum[col] += p[i].value;
        cnt[col]++;
    }
    int levels = utf8 ? 8 : 10;
    fputs ("  ", out);
    for (size_t c = 0; c < CLI_METRICS_PLOT_WIDTH; c++) {
        if (!cnt[c]) {
            fputc (' ', out);
            continue;
        }
        double v = sum[c] / (double)cnt[c];
        int lv = max > min ? (int)((v - min) / (max - min) * (levels - 1) + 0.5)
                           : levels / 2;
        if (lv < 0)
            lv = 0;
        if (lv >= levels)
            lv = levels - 1;
        if (utf8)
            fputs (blocks[lv], out);
        else
            fputc (ascii_levels[lv], out);
    }
    fputc ('\n', out);
}

int
cli_metrics_print (FILE *out, const yard_metric_t *points, size_t n,
                   uint64_t malformed, bool utf8)
{
    if (n == 0)
        fprintf (out, "no metrics\n");
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double min = points[i].value, max = points[i].value;
        uint32_t amin = points[i].attempt, amax = points[i].attempt;
        size_t superseded = 0;
        while (j < n && strcmp (points[j].key, points[i].key) == 0) {
            double v = points[j].value;
            if (v < min)
                min = v;
            if (v > max)
                max = v;
            if (points[j].attempt < amin)
                amin = points[j].attempt;
            if (points[j].attempt > amax)
                amax = points[j].attempt;
            if (points[j].superseded)
                superseded++;
            j++;
        }
        fprintf (out, "%s: %zu points, steps %" PRId64 "..%" PRId64, points[i].key,
                 j - i, points[i].step, points[j - 1].step);
        if (amin != amax)
            fprintf (out, ", attempts %" PRIu32 "..%" PRIu32, amin, amax);
        else
            fprintf (out, ", attempt %" PRIu32, amin);
        if (superseded)
            fprintf (out, ", %zu superseded", superseded);
        fprintf (out, "\n  first %.6g  last %.6g  min %.6g  max %.6g\n",
                 points[i].value, points[j - 1].value, min, max);
        plot (out, points + i, j - i, min, max, utf8);
        i = j;
    }
    if (malformed)
        fprintf (out, "malformed lines: %" PRIu64 "\n", malformed);
    return ferror (out) ? -EIO : 0;
}

/* The shortest of %.15g..%.17g that reads back as v: 0.1, not
 * 0.10000000000000001. */
static void
put_double (FILE *out, double v)
{
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf (buf, sizeof buf, "%.*g", prec, v);
        if (prec == 17 || strtod (buf, NULL) == v)
            break;
    }
    fputs (buf, out);
}

static void
csv_field (FILE *out, const char *s)
{
    if (!strpbrk (s, ",\"\r\n")) {
        fputs (s, out);
        return;
    }
    fputc ('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc ('"', out);
        fputc (*s, out);
    }
    fputc ('"', out);
}

int
cli_metrics_csv (FILE *out, const yard_metric_t *points, size_t n)
{
    fputs ("attempt,step,key,value,time_ms\n", out);
    for (size_t i = 0; i < n; i++) {
        fprintf (out, "%" PRIu32 ",%" PRId64 ",", points[i].attempt,
                 points[i].step);
        csv_field (out, points[i].key);
        fputc (',', out);
        put_double (out, points[i].value);
        fprintf (out, ",%" PRId64 "\n", points[i].time_ms);
    }
    return ferror (out) ? -EIO : 0;
}

int
cli_metrics_json (FILE *out, const yard_metric_t *points, size_t n)
{
    /* one object per line: a 100000-point array stays greppable */
    fputs ("[", out);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack ("{s:I, s:I, s:s, s:f, s:I, s:b}", "attempt",
                               (json_int_t)points[i].attempt, "step",
                               (json_int_t)points[i].step, "key",
                               points[i].key, "value", points[i].value,
                               "time_ms", (json_int_t)points[i].time_ms,
                               "superseded", points[i].superseded);
        char *s = o ? json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER
                                         | JSON_REAL_PRECISION (17))
                    : NULL;
        json_decref (o);
        if (!s)
            return -ENOMEM;
        fprintf (out, "%s\n%s", i ? "," : "", s);
        free (s);
    }
    fputs (n ? "\n]\n" : "]\n", out);
    return ferror (out) ? -EIO : 0;
}

static bool
utf8_locale (void)
{
    const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv (vars[i]);
        if (v && *v)
            return strstr (v, "UTF-8") || strstr (v, "utf8")
                   || strstr (v, "UTF8") || strstr (v, "utf-8");
    }
    return false;
}

int
cli_metrics_run (yard_client_t *c, const struct cli_metrics *a, bool json,
                 FILE *out, FILE *err)
{
    yard_metric_t *pts = NULL;
    size_t n = 0;
    uint64_t malformed = 0;
    bool truncated = false;
    int rc = yard_metrics (c, a->job_id, a->key, a->all, &pts, &n, &malformed,
                           &truncated);
    if (rc < 0) {
        fprintf (err, "yard: %s\n", yard_client_errmsg (c));
        return rc == -ETIMEDOUT ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
    }
    if (truncated)
        fprintf (err, "yard: job %" PRIu64 " has more metrics than one answer "
                 "holds: showing the first %zu (use --key to narrow)\n",
                 a->job_id, n);
    if (json)
        rc = cli_metrics_json (out, pts, n);
    else if (a->csv)
        rc = cli_metrics_csv (out, pts, n);
    else
        rc = cli_metrics_print (out, pts, n, malformed, utf8_locale ());
    yard_metrics_free (&pts, n);
    if (rc == -ENOMEM)
        fprintf (err, "yard: out of memory\n");
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
