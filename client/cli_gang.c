/* cli_gang.c - multi-node jobs and node holdings in the CLI's output (see
 * cli_gang.h). */
#include "cli_gang.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"

static bool
jset (json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new (o, k, v) == 0;
}

static json_t *
jstrv (char *const *v, size_t n)
{
    json_t *a = json_array ();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new (a, json_string (v[i] ? v[i] : "")) < 0) {
            json_decref (a);
            return NULL;
        }
    return a;
}

/* s cleaned of control characters (a node name comes from a worker). */
static void
put_clean (FILE *out, const char *s)
{
    char *c = cli_text_clean (s ? s : "", SIZE_MAX);
    fputs (c ? c : "", out);
    free (c);
}

void
cli_gang_print (FILE *out, const yard_job_t *job)
{
    if (job->nodes == 0)
        return;
    uint32_t t = job->tasks_per_node ? job->tasks_per_node : 1;
    fprintf (out, "%-12s %u x %u task%s (%u cpu%s", "nodes:", job->nodes, t,
             t == 1 ? "" : "s", job->cpus, job->cpus == 1 ? "" : "s");
    if (job->gpus_per_task)
        fprintf (out, ", %u gpu%s", job->gpus_per_task,
                 job->gpus_per_task == 1 ? "" : "s");
    fprintf (out, " per task), world size %u\n", job->nodes * t);
    if (job->master_port && job->n_gang) {
        fprintf (out, "%-12s ", "master:");
        put_clean (out, job->gang[0].node);
        fprintf (out, " port %u\n", job->master_port);
    }
    for (size_t i = 0; i < job->n_gang; i++) {
        const yard_gang_node_t *g = &job->gang[i];
        fprintf (out, "  rank %-3u ", g->rank);
        put_clean (out, g->node);
        fprintf (out, "  cpus %s", *g->alloc_cpus ? g->alloc_cpus : "-");
        if (g->alloc_ngpus) {
            fputs ("  gpus ", out);
            for (size_t k = 0; k < g->alloc_ngpus; k++) {
                if (k)
                    fputc (',', out);
                put_clean (out, g->alloc_gpus[k]);
            }
        }
        fprintf (out, "  %s\n",
                 g->finished  ? "done"
                 : g->started ? "started"
                              : "starting");
    }
}

bool
cli_gang_json (json_t *o, const yard_job_t *job)
{
    if (!jset (o, "nodes", json_integer (job->nodes)))
        return false;
    if (job->nodes == 0)
        return true;
    json_t *a = json_array ();
    if (!jset (o, "gang", a)
        || !jset (o, "tasks_per_node", json_integer (job->tasks_per_node))
        || !jset (o, "gpus_per_task", json_integer (job->gpus_per_task))
        || !jset (o, "gang_timeout_s", json_integer (job->gang_timeout_s))
        || !jset (o, "master_port", json_integer (job->master_port)))
        return false;
    for (size_t i = 0; i < job->n_gang; i++) {
        const yard_gang_node_t *g = &job->gang[i];
        json_t *e = json_object ();
        if (!e || json_array_append_new (a, e) < 0
            || !jset (e, "rank", json_integer (g->rank))
            || !jset (e, "node", json_string (g->node))
            || !jset (e, "cpus", json_string (g->alloc_cpus))
            || !jset (e, "gpu_uuids", jstrv (g->alloc_gpus, g->alloc_ngpus))
            || !jset (e, "started", json_boolean (g->started))
            || !jset (e, "finished", json_boolean (g->finished)))
            return false;
    }
    return true;
}

char *
cli_gang_attempt_nodes (const yard_attempt_t *a)
{
    if (a->n_gang == 0)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < a->n_gang; i++)
        len += strlen (a->gang[i].node) + 1;
    char *s = malloc (len), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < a->n_gang; i++) {
        size_t n = strlen (a->gang[i].node);
        if (i)
            *p++ = ',';
        memcpy (p, a->gang[i].node, n);
        p += n;
    }
    *p = '\0';
    return s;
}

bool
cli_gang_attempt_json (json_t *o, const yard_attempt_t *a)
{
    if (a->n_gang == 0)
        return true;
    json_t *arr = json_array ();
    if (!jset (o, "gang", arr))
        return false;
    for (size_t i = 0; i < a->n_gang; i++) {
        const yard_gang_node_t *g = &a->gang[i];
        json_t *e = json_object ();
        if (!e || json_array_append_new (arr, e) < 0
            || !jset (e, "rank", json_integer (g->rank))
            || !jset (e, "node", json_string (g->node))
            || !jset (e, "cpus", json_string (g->alloc_cpus))
            || !jset (e, "gpu_uuids", jstrv (g->alloc_gpus, g->alloc_ngpus)))
            return false;
    }
    return true;
}

void
cli_gang_queue_cells (const yard_job_t *job, char *node, size_t nlen,
                      char *cpus, size_t clen)
{
    if (job->nodes == 0)
        return;
    uint64_t t = job->tasks_per_node ? job->tasks_per_node : 1;
    snprintf (cpus, clen, "%" PRIu64, (uint64_t)job->nodes * t * job->cpus);
    if (job->nodes > 1 && *job->node)
        snprintf (node, nlen, "%s+%u", job->node, job->nodes - 1);
}

void
cli_holdings_print (FILE *out, const yard_node_t *node)
{
    if (node->advertise_addr && *node->advertise_addr) {
        fprintf (out, "%-12s ", "advertise:");
        put_clean (out, node->advertise_addr);
        fputc ('\n', out);
    }
    if (node->n_holdings == 0) {
        fprintf (out, "%-12s none\n", "held by:");
        return;
    }
    fprintf (out, "held by:\n  %-10s %-8s %-16s %s\n", "JOB", "RANK", "CPUS",
             "GPUS");
    for (size_t i = 0; i < node->n_holdings; i++) {
        const yard_holding_t *h = &node->holdings[i];
        char rank[16] = "-";
        if (h->gang)
            snprintf (rank, sizeof rank, "%u", h->node_rank);
        fprintf (out, "  %-10" PRIu64 " %-8s %-16s ", h->job_id, rank,
                 *h->cpus ? h->cpus : "-");
        for (size_t k = 0; k < h->ngpus; k++) {
            if (k)
                fputc (',', out);
            put_clean (out, h->gpus[k]);
        }
        if (h->ngpus == 0)
            fputc ('-', out);
        fputc ('\n', out);
    }
}

bool
cli_holdings_json (json_t *o, const yard_node_t *node)
{
    json_t *a = json_array ();
    if (!jset (o, "holdings", a)
        || !jset (
            o, "advertise_addr",
            json_string (node->advertise_addr ? node->advertise_addr : "")))
        return false;
    for (size_t i = 0; i < node->n_holdings; i++) {
        const yard_holding_t *h = &node->holdings[i];
        json_t *e = json_object ();
        if (!e || json_array_append_new (a, e) < 0
            || !jset (e, "job_id", json_integer ((json_int_t)h->job_id))
            || !jset (e, "cpus", json_string (h->cpus))
            || !jset (e, "gpu_uuids", jstrv (h->gpus, h->ngpus))
            || !jset (e, "memory_bytes",
                      json_integer ((json_int_t)h->memory_bytes))
            || !jset (e, "gang", json_boolean (h->gang))
            || (h->gang
                && !jset (e, "node_rank", json_integer (h->node_rank))))
            return false;
    }
    return true;
}
