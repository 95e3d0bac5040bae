/* cli_cores.c - whole-core placement in the CLI's output (see
 * cli_cores.h).  Which job holds a core is worked out here from the
 * holdings' PU lists and the topology's core list: a core is held by every
 * job holding one of its PUs. */
#include "cli_cores.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"

#define MAX_PUS 65536 /* lists naming PUs past this are shown unresolved */

/* PU flags of list, sized ext; NULL when it does not parse. */
static bool *
pu_set (const char *list, size_t ext)
{
    bool *s = calloc (ext + 1, sizeof *s);
    if (s && list && *list && yard_cpulist_parse (list, s, ext) < 0) {
        free (s);
        return NULL;
    }
    return s;
}

/* The largest extent of the core and holding lists (at most MAX_PUS). */
static size_t
extent (const yard_node_t *node)
{
    size_t ext = 1;
    const yard_topology_t *t = &node->topology;
    for (size_t c = 0; c < t->n_core_list; c++) {
        int e = yard_cpulist_extent (t->core_list[c].pus);
        if (e > 0 && (size_t)e > ext)
            ext = (size_t)e;
    }
    for (size_t i = 0; i < node->n_holdings; i++) {
        int e = yard_cpulist_extent (node->holdings[i].cpus);
        if (e > 0 && (size_t)e > ext)
            ext = (size_t)e;
    }
    return ext > MAX_PUS ? MAX_PUS : ext;
}

/* held[i] is holding i's PUs (NULL: none or unparsable). */
static bool **
holdings_sets (const yard_node_t *node, size_t ext)
{
    bool **held = calloc (node->n_holdings + 1, sizeof *held);
    for (size_t i = 0; held && i < node->n_holdings; i++)
        held[i] = pu_set (node->holdings[i].cpus, ext);
    return held;
}

static void
sets_free (bool **held, size_t n)
{
    for (size_t i = 0; held && i < n; i++)
        free (held[i]);
    free (held);
}

static bool
overlaps (const bool *a, const bool *b, size_t ext)
{
    for (size_t k = 0; a && b && k < ext; k++)
        if (a[k] && b[k])
            return true;
    return false;
}

char *
cli_cores_cell (const yard_node_t *node, char *buf, size_t len)
{
    if (node->cores_total == 0) {
        snprintf (buf, len, "-");
        return buf;
    }
    uint32_t pus = node->topology.pus;
    if (pus > node->cores_total)
        snprintf (buf, len,
                  "%" PRIu32 "/%" PRIu32 " (%" PRIu32 "/%" PRIu32 " PUs)",
                  node->cores_free, node->cores_total, node->pus_free, pus);
    else
        snprintf (buf, len, "%" PRIu32 "/%" PRIu32, node->cores_free,
                  node->cores_total);
    return buf;
}

static void
print_distances (FILE *out, const yard_topology_t *t)
{
    size_t n = t->n_numa;
    if (n == 0 || t->n_numa_distances != n * n)
        return;
    fprintf (out, "NUMA distances:\n  %-6s", "");
    for (size_t j = 0; j < n; j++)
        fprintf (out, " %5" PRIu32, t->numa[j].os_index);
    fputc ('\n', out);
    for (size_t i = 0; i < n; i++) {
        fprintf (out, "  %-6" PRIu32, t->numa[i].os_index);
        for (size_t j = 0; j < n; j++)
            fprintf (out, " %5" PRIu32, t->numa_distances[i * n + j]);
        fputc ('\n', out);
    }
}

void
cli_cores_print (FILE *out, const yard_node_t *node)
{
    const yard_topology_t *t = &node->topology;
    char cell[96];
    if (node->cores_total > 0)
        fprintf (out, "%-12s %s free; %s\n",
                 "cores:", cli_cores_cell (node, cell, sizeof cell),
                 node->oversubscribe ? "jobs get PUs and may share a core "
                                       "(oversubscribe)"
                                     : "each job gets whole cores");
    if (t->n_core_list > 0) {
        size_t ext = extent (node);
        bool **held = holdings_sets (node, ext);
        fprintf (out, "  %-6s %-16s %s\n", "CORE", "PUS", "JOBS");
        for (size_t c = 0; c < t->n_core_list; c++) {
            const yard_core_t *core = &t->core_list[c];
            fprintf (out, "  %-6" PRIu32 " %-16s ", core->os_index,
                     *core->pus ? core->pus : "-");
            bool *mine = pu_set (core->pus, ext);
            size_t shown = 0;
            for (size_t i = 0; held && mine && i < node->n_holdings; i++)
                if (overlaps (mine, held[i], ext))
                    fprintf (out, "%s%" PRIu64, shown++ ? "," : "",
                             node->holdings[i].job_id);
            if (!shown)
                fputc ('-', out);
            fputc ('\n', out);
            free (mine);
        }
        sets_free (held, node->n_holdings);
    }
    print_distances (out, t);
}

static bool
jset (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

static bool
append (json_t *a, json_t *v)
{
    return v && json_array_append_new (a, v) == 0;
}

bool
cli_cores_json (json_t *o, const yard_node_t *node)
{
    const yard_topology_t *t = &node->topology;
    if (!jset (o, "cores_total", json_integer (node->cores_total))
        || !jset (o, "cores_free", json_integer (node->cores_free))
        || !jset (o, "pus_free", json_integer (node->pus_free))
        || !jset (o, "oversubscribe", json_boolean (node->oversubscribe)))
        return false;
    json_t *cores = json_array ();
    if (!jset (o, "cores", cores))
        return false;
    size_t ext = extent (node);
    bool **held = holdings_sets (node, ext);
    bool ok = held != NULL;
    for (size_t c = 0; ok && c < t->n_core_list; c++) {
        const yard_core_t *core = &t->core_list[c];
        json_t *e = json_object (), *jobs = json_array ();
        bool *mine = pu_set (core->pus, ext);
        ok = append (cores, e) && jset (e, "jobs", jobs)
             && jset (e, "os_index", json_integer (core->os_index))
             && jset (e, "pus", json_string (core->pus));
        for (size_t i = 0; ok && mine && i < node->n_holdings; i++)
            if (overlaps (mine, held[i], ext))
                ok = append (
                    jobs, json_integer ((json_int_t)node->holdings[i].job_id));
        free (mine);
    }
    sets_free (held, node->n_holdings);
    if (!ok)
        return false;
    size_t n = t->n_numa;
    if (n == 0 || t->n_numa_distances != n * n)
        return jset (o, "numa_distances", json_null ());
    json_t *m = json_array ();
    if (!jset (o, "numa_distances", m))
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array ();
        if (!append (m, row))
            return false;
        for (size_t j = 0; j < n; j++)
            if (!append (row, json_integer (t->numa_distances[i * n + j])))
                return false;
    }
    return true;
}
