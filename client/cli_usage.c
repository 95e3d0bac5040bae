/* cli_usage.c - resource use in `yard status` and `yard watch` (see
 * cli_usage.h). */
#include "cli_usage.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli_render.h"
#include "cli_table.h"
#include "util.h"

bool
cli_usage_any (const yard_usage_t *u)
{
    return u->has_cpu || u->has_rss || u->has_gpu;
}

static const char *
secs (uint64_t us, char *buf, size_t len)
{
    snprintf (buf, len, "%.2fs", (double)us / 1e6);
    return buf;
}

const char *
cli_usage_line (const yard_usage_t *u, char *buf, size_t len)
{
    char a[32], b[32], c[32];
    size_t n = 0;
    buf[0] = '\0';
    if (u->has_cpu && n < len)
        n += (size_t)snprintf (buf + n, len - n, "cpu %s (user %s, sys %s)",
                               secs (u->cpu_user_us + u->cpu_system_us, a,
                                     sizeof a),
                               secs (u->cpu_user_us, b, sizeof b),
                               secs (u->cpu_system_us, c, sizeof c));
    if (u->has_rss && n < len) {
        if (u->final || u->rss_bytes == 0)
            n += (size_t)snprintf (buf + n, len - n, "%speak rss %s",
                                   n ? "  " : "",
                                   yard_format_size (u->peak_rss_bytes, a,
                                                     sizeof a));
        else
            n += (size_t)snprintf (buf + n, len - n, "%srss %s (peak %s)",
                                   n ? "  " : "",
                                   yard_format_size (u->rss_bytes, a,
                                                     sizeof a),
                                   yard_format_size (u->peak_rss_bytes, b,
                                                     sizeof b));
    }
    if (u->has_gpu && n < len) {
        if (u->final)
            n += (size_t)snprintf (
                buf + n, len - n, "%sgpu %" PRIu32 "%% mean, peak mem %s",
                n ? "  " : "", u->gpu_util_pct,
                yard_format_size (u->gpu_peak_memory_bytes, a, sizeof a));
        else
            n += (size_t)snprintf (
                buf + n, len - n, "%sgpu %" PRIu32 "%% mem %s (peak %s)",
                n ? "  " : "", u->gpu_util_pct,
                yard_format_size (u->gpu_memory_bytes, a, sizeof a),
                yard_format_size (u->gpu_peak_memory_bytes, b, sizeof b));
    }
    if (!buf[0])
        snprintf (buf, len, "-");
    return buf;
}

static bool
set (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

static json_t *
num (uint64_t v)
{
    return json_integer ((json_int_t)v);
}

json_t *
cli_usage_json (const yard_usage_t *u)
{
    if (!cli_usage_any (u))
        return json_null ();
    json_t *o = json_object ();
    bool ok = o != NULL;
    if (ok && u->has_cpu)
        ok = set (o, "cpu_user_s", json_real ((double)u->cpu_user_us / 1e6))
             && set (o, "cpu_system_s",
                     json_real ((double)u->cpu_system_us / 1e6))
             && set (o, "cpu_user_us", num (u->cpu_user_us))
             && set (o, "cpu_system_us", num (u->cpu_system_us));
    if (ok && u->has_rss)
        ok = set (o, "peak_rss_bytes", num (u->peak_rss_bytes))
             && set (o, "rss_bytes", num (u->rss_bytes));
    if (ok && u->has_gpu)
        ok = set (o, "gpu_util_pct", num (u->gpu_util_pct))
             && set (o, "gpu_memory_bytes", num (u->gpu_memory_bytes))
             && set (o, "gpu_peak_memory_bytes",
                     num (u->gpu_peak_memory_bytes));
    if (ok)
        ok = set (o, "final", json_boolean (u->final))
             && set (o, "time_ms", json_integer (u->time_ms))
             && set (o, "source",
                     cli_json_string (u->source, strlen (u->source)));
    if (!ok) {
        json_decref (o);
        return NULL;
    }
    return o;
}

int
cli_print_usage (FILE *out, const yard_job_t *job)
{
    bool any = false;
    for (size_t i = 0; i < job->n_attempts; i++)
        any = any || cli_usage_any (&job->attempts[i].usage);
    if (!any)
        return 0;
    static const char *const hdr[] = { "ATTEMPT", "CPU-USER", "CPU-SYS",
                                       "PEAK-RSS", "GPU", "GPU-PEAK-MEM",
                                       "MEASURED" };
    cli_table_t *t = cli_table_create (7, hdr);
    if (!t)
        return -ENOMEM;
    for (size_t c = 0; c < 6; c++)
        (void)cli_table_align_right (t, c);
    int rc = 0;
    for (size_t i = 0; i < job->n_attempts && rc == 0; i++) {
        const yard_usage_t *u = &job->attempts[i].usage;
        char n[16], us[32], sy[32], rss[32], gpu[16], gmem[32], src[48];
        snprintf (n, sizeof n, "%u", job->attempts[i].attempt);
        if (!cli_usage_any (u)) {
            const char *cells[] = { n, "-", "-", "-", "-", "-", "-" };
            rc = cli_table_add_row (t, cells);
            continue;
        }
        if (u->has_cpu) {
            secs (u->cpu_user_us, us, sizeof us);
            secs (u->cpu_system_us, sy, sizeof sy);
        } else {
            snprintf (us, sizeof us, "-");
            snprintf (sy, sizeof sy, "-");
        }
        if (u->has_rss)
            yard_format_size (u->peak_rss_bytes, rss, sizeof rss);
        else
            snprintf (rss, sizeof rss, "-");
        if (u->has_gpu)
            snprintf (gpu, sizeof gpu, "%" PRIu32 "%%", u->gpu_util_pct);
        else
            snprintf (gpu, sizeof gpu, "-");
        if (u->has_gpu)
            yard_format_size (u->gpu_peak_memory_bytes, gmem, sizeof gmem);
        else
            snprintf (gmem, sizeof gmem, "-");
        snprintf (src, sizeof src, "%s%s", u->source,
                  u->final ? "" : " (live)");
        const char *cells[] = { n, us, sy, rss, gpu, gmem, src };
        rc = cli_table_add_row (t, cells);
    }
    if (rc == 0) {
        fputc ('\n', out);
        rc = cli_table_print (t, out);
    }
    cli_table_destroy (&t);
    return rc < 0 ? rc : (ferror (out) ? -EIO : 0);
}
