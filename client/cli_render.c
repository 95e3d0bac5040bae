/* cli_render.c - see cli_render.h. */
#include "cli_cores.h"
#include "cli_render.h"
#include "cli_gang.h"
#include "cli_nodeadmin.h"
#include "cli_deps.h"
#include "cli_retry.h"
#include "cli_usage.h"
#include "cli_watch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_table.h"
#include "cli_topo.h"
#include "util.h"

/* ---- small formatting helpers ------------------------------------------ */

char *
cli_time_iso (int64_t ms, char *buf, size_t len)
{
    struct tm tm;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (ms <= 0)
        return buf;
    time_t t = (time_t)(ms / 1000);
    if (!gmtime_r (&t, &tm))
        return buf;
    char base[32];
    if (strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return buf;
    snprintf (buf, len, "%s.%03dZ", base, (int)(ms % 1000));
    return buf;
}

char *
cli_time_local (int64_t ms, char *buf, size_t len)
{
    struct tm tm;
    if (len == 0)
        return buf;
    snprintf (buf, len, "-");
    if (ms <= 0)
        return buf;
    time_t t = (time_t)(ms / 1000);
    if (!localtime_r (&t, &tm) || strftime (buf, len, "%Y-%m-%d %H:%M:%S", &tm)
                                      == 0)
        snprintf (buf, len, "-");
    return buf;
}

/* Characters a shell leaves alone in an unquoted word. */
static bool
shell_safe (const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_@%+=:,./-",
                     *s))
            return false;
    return true;
}

char *
cli_shell_join (char *const *argv, size_t argc)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&buf, &size);
    if (!f)
        return NULL;
    for (size_t i = 0; i < argc; i++) {
        const char *a = argv && argv[i] ? argv[i] : "";
        if (i)
            fputc (' ', f);
        if (shell_safe (a)) {
            fputs (a, f);
            continue;
        }
        fputc ('\'', f);
        for (const char *p = a; *p; p++) {
            if (*p == '\'')
                fputs ("'\\''", f);
            else
                fputc (*p, f);
        }
        fputc ('\'', f);
    }
    if (fclose (f) != 0) {
        free (buf);
        return NULL;
    }
    return buf;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t
utf8_seq (const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

char *
cli_utf8_lossy (const char *s, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    if (!s)
        len = 0;
    /* at worst every byte becomes the 3-byte U+FFFD */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq (p + i, len - i);
        if (n == 0) {
            memcpy (out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy (out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

json_t *
cli_json_string (const char *s, size_t len)
{
    size_t n;
    char *clean = cli_utf8_lossy (s, len, &n);
    if (!clean)
        return NULL;
    json_t *j = json_stringn (clean, n);
    free (clean);
    return j;
}

static json_t *
jstr (const char *s)
{
    return cli_json_string (s, s ? strlen (s) : 0);
}

/* Set o[key] = v, stealing v; false when v is NULL or the set fails. */
static bool
jset (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

/* o[key_ms] = ms and o[key] = its ISO-8601 form, or null when ms is 0. */
static bool
jset_time (json_t *o, const char *key, const char *key_ms, int64_t ms)
{
    char iso[48];
    return jset (o, key_ms, json_integer (ms))
           && jset (o, key, ms > 0 ? jstr (cli_time_iso (ms, iso, sizeof iso))
                                   : json_null ());
}

static json_t *
jstrv (char *const *v, size_t n)
{
    json_t *a = json_array ();
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new (a, jstr (v ? v[i] : "")) < 0) {
            json_decref (a);
            return NULL;
        }
    }
    return a;
}

/* {"KEY": "VALUE", ...} from "KEY=VALUE" strings. */
static json_t *
jenv (char *const *env, size_t n)
{
    json_t *o = json_object ();
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *kv = env && env[i] ? env[i] : "";
        const char *eq = strchr (kv, '=');
        size_t kl = eq ? (size_t)(eq - kv) : strlen (kv);
        char *key = cli_utf8_lossy (kv, kl, NULL);
        if (!key || !jset (o, key, jstr (eq ? eq + 1 : ""))) {
            free (key);
            json_decref (o);
            return NULL;
        }
        free (key);
    }
    return o;
}

json_t *
cli_job_json (const yard_job_t *job)
{
    json_t *o = json_object ();
    if (!o)
        return NULL;
    /* JSON integers are int64; ids and sizes beyond that do not occur */
    bool ok = jset (o, "id", json_integer ((json_int_t)job->id))
              && jset (o, "name", jstr (job->name))
              && jset (o, "state", jstr (yard_job_state_str (job->state)))
              && jset (o, "attempt", json_integer (job->attempt))
              && jset (o, "node", jstr (job->node))
              && jset_time (o, "submit_time", "submit_time_ms",
                            job->submit_time_ms)
              && jset_time (o, "start_time", "start_time_ms",
                            job->start_time_ms)
              && jset_time (o, "end_time", "end_time_ms", job->end_time_ms)
              && jset (o, "exit_code", json_integer (job->exit_code))
              && jset (o, "term_signal", json_integer (job->term_signal))
              && jset (o, "end_reason",
                       jstr (yard_end_reason_str (job->end_reason)))
              && jset (o, "reason", jstr (job->reason))
              && jset (o, "cancel_requested",
                       json_boolean (job->cancel_requested))
              && jset (o, "lost_count", json_integer (job->lost_count))
              && jset (o, "cpus", json_integer (job->cpus))
              && jset (o, "gpus", json_integer (job->gpus))
              && jset (o, "memory_bytes",
                       json_integer ((json_int_t)job->memory_bytes))
              && jset (o, "time_limit_s",
                       json_integer ((json_int_t)job->time_limit_s))
              && jset (o, "priority", json_integer (job->priority))
              && jset (o, "grace_s", json_integer (job->grace_s))
              && jset (o, "argv", jstrv (job->argv, job->argc))
              && jset (o, "env", jenv (job->env, job->envc))
              && jset (o, "workdir", jstr (job->workdir))
              && jset (o, "user", jstr (job->user))
              && jset (o, "submit_dir", jstr (job->submit_dir))
              && jset (o, "submit_host", jstr (job->submit_host))
              && cli_retry_json (o, job)
              && jset (o, "usage", cli_usage_json (&job->usage))
              && jset (o, "latest_metrics", cli_latest_json (job))
              && cli_deps_json (o, job)
              && cli_gang_json (o, job);
    /* alloc: what the current/last attempt holds (null when unknown) */
    if (ok && job->alloc_cpus
        && (*job->alloc_cpus || job->alloc_ngpus || job->alloc_memory_bytes)) {
        json_t *al = json_object ();
        ok = al && jset (o, "alloc", al)
             && jset (al, "cpus", jstr (job->alloc_cpus))
             && jset (al, "gpu_uuids",
                      jstrv (job->alloc_gpus, job->alloc_ngpus))
             && jset (al, "memory_bytes",
                      json_integer ((json_int_t)job->alloc_memory_bytes));
    } else if (ok) {
        ok = jset (o, "alloc", json_null ());
    }
    if (!ok) {
        json_decref (o);
        return NULL;
    }
    return o;
}

json_t *
cli_jobs_json (const yard_job_t *jobs, size_t n)
{
    json_t *a = json_array ();
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new (a, cli_job_json (&jobs[i])) < 0) {
            json_decref (a);
            return NULL;
        }
    }
    return a;
}

json_t *
cli_node_json (const yard_node_t *node)
{
    json_t *o = json_object ();
    if (!o)
        return NULL;
    bool ok = jset (o, "name", jstr (node->name))
              && jset (o, "state", jstr (yard_node_state_str (node->state)))
              && jset (o, "hostname", jstr (node->hostname))
              && jset (o, "version", jstr (node->version))
              && jset (o, "cpus", json_integer (node->cpus))
              && jset (o, "cpus_used", json_integer (node->cpus_used))
              && jset (o, "memory_bytes",
                       json_integer ((json_int_t)node->memory_bytes))
              && jset (o, "memory_used",
                       json_integer ((json_int_t)node->memory_used))
              && jset (o, "gpus", json_integer (node->gpus))
              && jset (o, "gpus_used", json_integer (node->gpus_used))
              && jset (o, "running_jobs", json_integer (node->running_jobs))
              && jset_time (o, "last_seen", "last_seen_ms", node->last_seen_ms)
              && jset_time (o, "registered", "registered_ms",
                            node->registered_ms)
              && jset (o, "topology", cli_topology_json (&node->topology))
              && cli_node_admin_json (o, node)
              && cli_holdings_json (o, node)
              && cli_cores_json (o, node);
    if (!ok) {
        json_decref (o);
        return NULL;
    }
    return o;
}

json_t *
cli_nodes_json (const yard_node_t *nodes, size_t n)
{
    json_t *a = json_array ();
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new (a, cli_node_json (&nodes[i])) < 0) {
            json_decref (a);
            return NULL;
        }
    }
    return a;
}

int
cli_json_print (FILE *out, const json_t *j, bool compact)
{
    size_t flags = compact ? JSON_COMPACT : JSON_INDENT (2);
    if (!j || json_dumpf (j, out, flags | JSON_ENCODE_ANY) < 0)
        return -EIO;
    fputc ('\n', out);
    return ferror (out) ? -EIO : 0;
}

/* ---- people ------------------------------------------------------------ */

int64_t
cli_job_elapsed_ms (const yard_job_t *job, int64_t now_ms)
{
    if (job->start_time_ms > 0) {
        int64_t end = job->end_time_ms > 0 ? job->end_time_ms : now_ms;
        return end >= job->start_time_ms ? end - job->start_time_ms : 0;
    }
    if (yard_job_state_finished (job->state))
        return -1; /* never ran */
    if (job->submit_time_ms > 0)
        return now_ms >= job->submit_time_ms ? now_ms - job->submit_time_ms : 0;
    return -1;
}

static void
kv (FILE *out, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* One "key:   value" line; the value is cleaned of control characters. */
static void
kv (FILE *out, const char *key, const char *fmt, ...)
{
    char *val = NULL;
    va_list ap;
    va_start (ap, fmt);
    int n = vasprintf (&val, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    char *clean = cli_text_clean (val, SIZE_MAX);
    char k[32];
    snprintf (k, sizeof k, "%s:", key);
    fprintf (out, "%-12s %s\n", k, clean ? clean : "");
    free (clean);
    free (val);
}

/* "2024-05-01 12:00:03 (5m12s ago)" */
static char *
when (int64_t ms, int64_t now_ms, char *buf, size_t len)
{
    char t[48], d[32];
    cli_time_local (ms, t, sizeof t);
    if (now_ms >= ms)
        snprintf (buf, len, "%s (%s ago)", t,
                  yard_format_duration (now_ms - ms, d, sizeof d));
    else
        snprintf (buf, len, "%s", t);
    return buf;
}

static const char *
plural (uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

int
cli_print_job (FILE *out, const yard_job_t *job, int64_t now_ms)
{
    char buf[128], d[32];
    char *cmd = cli_shell_join (job->argv, job->argc);
    if (!cmd)
        return -ENOMEM;

    kv (out, "id", "%" PRIu64, job->id);
    kv (out, "name", "%s", *job->name ? job->name : "-");
    kv (out, "state", "%s%s", yard_job_state_str (job->state),
        job->cancel_requested && !yard_job_state_finished (job->state)
            ? " (cancel requested)"
            : "");
    cli_deps_print (out, job); /* array: index, members by state */
    if (*job->user || *job->submit_host)
        kv (out, "user", "%s%s%s", job->user, *job->submit_host ? "@" : "",
            job->submit_host);
    kv (out, "node", "%s", *job->node ? job->node : "-");
    if (job->lost_count)
        kv (out, "attempt", "%u (%u lost with %s node)", job->attempt,
            job->lost_count, plural (job->lost_count, "its", "their"));
    else
        kv (out, "attempt", "%u", job->attempt);
    kv (out, "command", "%s", cmd);
    if (*job->workdir)
        kv (out, "workdir", "%s", job->workdir);
    else if (*job->submit_dir)
        kv (out, "submit dir", "%s", job->submit_dir);

    /* resources: "4 cpus, 1 gpu, 16G memory" */
    char res[128];
    int o = snprintf (res, sizeof res, "%u %s", job->cpus,
                      plural (job->cpus, "cpu", "cpus"));
    if (job->gpus && o > 0 && (size_t)o < sizeof res)
        o += snprintf (res + o, sizeof res - (size_t)o, ", %u %s", job->gpus,
                       plural (job->gpus, "gpu", "gpus"));
    if (job->memory_bytes && o > 0 && (size_t)o < sizeof res)
        snprintf (res + o, sizeof res - (size_t)o, ", %s memory",
                  yard_format_size (job->memory_bytes, d, sizeof d));
    kv (out, "resources", "%s", res);
    if (job->alloc_cpus && *job->alloc_cpus)
        kv (out, "cpus held", "%s", job->alloc_cpus);
    for (size_t i = 0; job->alloc_gpus && i < job->alloc_ngpus; i++)
        kv (out, i ? "" : "gpus held", "%s", job->alloc_gpus[i]);
    cli_gang_print (out, job); /* a multi-node job's nodes */
    kv (out, "priority", "%d", job->priority);
    if (job->time_limit_s) {
        uint64_t s = job->time_limit_s;
        if (s > (uint64_t)(INT64_MAX / 1000))
            s = (uint64_t)(INT64_MAX / 1000);
        kv (out, "time limit", "%s",
            yard_format_duration ((int64_t)s * 1000, d, sizeof d));
    } else {
        kv (out, "time limit", "%s", "none");
    }
    if (job->envc) {
        /* names only: values are often tokens, and a terminal is not the
         * place for them (--json has them) */
        char *names = NULL;
        size_t size = 0;
        FILE *f = open_memstream (&names, &size);
        if (f) {
            for (size_t i = 0; i < job->envc; i++) {
                const char *eq = strchr (job->env[i], '=');
                int kl = eq ? (int)(eq - job->env[i]) : (int)strlen (job->env[i]);
                fprintf (f, "%s%.*s", i ? " " : "", kl, job->env[i]);
            }
            if (fclose (f) == 0)
                kv (out, "env", "%s", names);
            free (names);
        }
    }

    if (job->submit_time_ms > 0)
        kv (out, "submitted", "%s",
            when (job->submit_time_ms, now_ms, buf, sizeof buf));
    if (job->start_time_ms > 0)
        kv (out, "started", "%s",
            when (job->start_time_ms, now_ms, buf, sizeof buf));
    if (job->end_time_ms > 0)
        kv (out, "ended", "%s", when (job->end_time_ms, now_ms, buf, sizeof buf));
    if (job->start_time_ms > 0)
        kv (out, "runtime", "%s",
            yard_format_duration (cli_job_elapsed_ms (job, now_ms), d,
                                  sizeof d));

    if (job->term_signal > 0) {
        const char *sname = strsignal (job->term_signal);
        kv (out, "signal", "%d (%s)", job->term_signal, sname ? sname : "?");
    } else if (yard_job_state_finished (job->state)
               && (job->end_reason == YARD_END_EXITED
                   || job->end_reason == YARD_END_SPAWN_FAILED
                   || job->exit_code != 0)) {
        kv (out, "exit code", "%d", job->exit_code);
    }
    if (job->end_reason != YARD_END_NONE)
        kv (out, "end reason", "%s", yard_end_reason_str (job->end_reason));
    if (*job->reason)
        kv (out, "reason", "%s", job->reason);
    free (cmd);
    int rc = cli_print_attempts (out, job, now_ms);
    if (rc == 0)
        rc = cli_print_usage (out, job);
    if (rc < 0)
        return rc;
    return ferror (out) ? -EIO : 0;
}

int
cli_print_queue (FILE *out, const yard_job_t *jobs, size_t n, int64_t now_ms)
{
    static const char *const headers[] = { "ID",   "NAME",     "STATE", "NODE",
                                           "CPUS", "AGE/TIME", "REASON" };
    int rc = 0;
    cli_table_t *t = cli_table_create (7, headers);
    if (!t)
        return -errno;
    cli_table_align_right (t, 0);
    cli_table_align_right (t, 4);
    for (size_t i = 0; i < n; i++) {
        const yard_job_t *j = &jobs[i];
        char id[24], cpus[16], age[32], node[300];
        snprintf (id, sizeof id, "%" PRIu64, j->id);
        snprintf (cpus, sizeof cpus, "%u", j->cpus);
        snprintf (node, sizeof node, "%s", *j->node ? j->node : "-");
        cli_gang_queue_cells (j, node, sizeof node, cpus, sizeof cpus);
        int64_t el = cli_job_elapsed_ms (j, now_ms);
        if (el < 0)
            snprintf (age, sizeof age, "-");
        else
            yard_format_duration (el, age, sizeof age);
        const char *reason = j->reason;
        if (!*reason && j->cancel_requested
            && !yard_job_state_finished (j->state))
            reason = "cancel requested";
        const char *row[] = { id,
                              *j->name ? j->name : "-",
                              yard_job_state_str (j->state),
                              node,
                              cpus,
                              age,
                              reason };
        if ((rc = cli_table_add_row (t, row)) < 0)
            goto out;
    }
    rc = cli_table_print (t, out);
out:
    cli_table_destroy (&t);
    return rc;
}

int
cli_print_nodes (FILE *out, const yard_node_t *nodes, size_t n, int64_t now_ms)
{
    static const char *const headers[] = { "NAME", "STATE", "CPUS",
                                           "CORES", "MEM",  "GPUS",  "JOBS",
                                           "LAST-SEEN", "LABELS", "REASON" };
    int rc = 0;
    cli_table_t *t = cli_table_create (10, headers);
    if (!t)
        return -errno;
    for (size_t c = 2; c <= 6; c++)
        cli_table_align_right (t, c);
    for (size_t i = 0; i < n; i++) {
        const yard_node_t *nd = &nodes[i];
        char cpus[32], mem[48], gpus[96], jobs[16], seen[48], model[64];
        char used[16], total[16], d[16], labels[256], cores[96];
        /* every capacity column reads free/total */
        snprintf (cpus, sizeof cpus, "%u/%u",
                  nd->cpus > nd->cpus_used ? nd->cpus - nd->cpus_used : 0,
                  nd->cpus);
        snprintf (mem, sizeof mem, "%s/%s",
                  yard_format_size (nd->memory_bytes > nd->memory_used
                                        ? nd->memory_bytes - nd->memory_used
                                        : 0,
                                    used, sizeof used),
                  yard_format_size (nd->memory_bytes, total, sizeof total));
        cli_gpu_model (&nd->topology, model, sizeof model);
        snprintf (gpus, sizeof gpus, "%u/%u%s%s",
                  nd->gpus > nd->gpus_used ? nd->gpus - nd->gpus_used : 0,
                  nd->gpus, *model ? " " : "", model);
        snprintf (jobs, sizeof jobs, "%u", nd->running_jobs);
        if (nd->last_seen_ms <= 0)
            snprintf (seen, sizeof seen, "never");
        else
            snprintf (seen, sizeof seen, "%s ago",
                      yard_format_duration (now_ms - nd->last_seen_ms, d,
                                            sizeof d));
        const char *row[] = { *nd->name ? nd->name : "-",
                              yard_node_display_state (nd),
                              cpus,
                              cli_cores_cell (nd, cores, sizeof cores),
                              mem,
                              gpus,
                              jobs,
                              seen,
                              cli_node_labels (nd, labels, sizeof labels),
                              nd->state_reason && *nd->state_reason
                                  ? nd->state_reason
                                  : "-" };
        if ((rc = cli_table_add_row (t, row)) < 0)
            goto out;
    }
    rc = cli_table_print (t, out);
out:
    cli_table_destroy (&t);
    return rc;
}
