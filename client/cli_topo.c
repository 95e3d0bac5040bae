/* cli_topo.c - a node's topology for people and for programs (see
 * cli_topo.h).  Every string came over the network: printed through
 * cli_text_clean (tables) or as JSON strings, never raw.
 */
#include "cli_topo.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_render.h"
#include "cli_table.h"
#include "util.h"

/* The short model of one GPU name: vendor dropped, then the first word,
 * and the next one too when the first has no digit ("RTX 6000",
 * "Tesla V100"); a word is cut at '-' ("A100-SXM4-80GB" -> "A100"). */
static void
short_model (const char *name, char *buf, size_t len)
{
    static const char *const vendors[] = { "NVIDIA ", "AMD ", "GeForce " };
    char tmp[256];
    const char *p = name ? name : "";
    for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
        if (strncmp (p, vendors[i], strlen (vendors[i])) == 0)
            p += strlen (vendors[i]);
    snprintf (tmp, sizeof tmp, "%s", p);
    char *save = NULL;
    char *w1 = strtok_r (tmp, " ", &save);
    char *w2 = w1 ? strtok_r (NULL, " ", &save) : NULL;
    if (!w1) {
        snprintf (buf, len, "%s", "");
        return;
    }
    bool digit = false;
    for (const char *c = w1; *c; c++)
        digit = digit || isdigit ((unsigned char)*c);
    if (w2)
        w2[strcspn (w2, "-")] = '\0';
    if (digit || !w2) {
        w1[strcspn (w1, "-")] = '\0';
        snprintf (buf, len, "%s", w1);
    } else {
        snprintf (buf, len, "%s %s", w1, w2);
    }
}

char *
cli_gpu_model (const yard_topology_t *t, char *buf, size_t len)
{
    char first[64], other[64];
    snprintf (buf, len, "%s", "");
    if (!t || t->n_gpus == 0)
        return buf;
    short_model (t->gpus[0].name, first, sizeof first);
    for (size_t i = 1; i < t->n_gpus; i++) {
        short_model (t->gpus[i].name, other, sizeof other);
        if (strcmp (first, other) != 0) {
            snprintf (buf, len, "mixed");
            return buf;
        }
    }
    char *clean = cli_text_clean (first, sizeof first);
    snprintf (buf, len, "%s", clean ? clean : "");
    free (clean);
    return buf;
}

/* ---- JSON ---- */

static json_t *
jstr (const char *s)
{
    return cli_json_string (s, s ? strlen (s) : 0);
}

static bool
jset (json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new (o, key, v) == 0;
}

static json_t *
gpu_json (const yard_gpu_t *g)
{
    json_t *o = json_object ();
    if (o
        && jset (o, "uuid", jstr (g->uuid)) && jset (o, "name", jstr (g->name))
        && jset (o, "memory_bytes", json_integer ((json_int_t)g->memory_bytes))
        && jset (o, "pci_bus_id", jstr (g->pci_bus_id))
        && jset (o, "cc_major", json_integer (g->cc_major))
        && jset (o, "cc_minor", json_integer (g->cc_minor))
        && jset (o, "numa_node", json_integer (g->numa_node))
        && jset (o, "local_cpus", jstr (g->local_cpus))
        && jset (o, "index", json_integer (g->index))
        && jset (o, "pci_switch", jstr (g->pci_switch)))
        return o;
    json_decref (o);
    return NULL;
}

static json_t *
numa_json (const yard_numa_t *n)
{
    json_t *o = json_object ();
    if (o && jset (o, "os_index", json_integer (n->os_index))
        && jset (o, "cpus", jstr (n->cpus))
        && jset (o, "memory_bytes", json_integer ((json_int_t)n->memory_bytes)))
        return o;
    json_decref (o);
    return NULL;
}

json_t *
cli_topology_json (const yard_topology_t *t)
{
    if (!t || !t->known)
        return json_null ();
    json_t *o = json_object ();
    json_t *numa = json_array ();
    json_t *gpus = json_array ();
    bool ok = o && numa && gpus;
    for (size_t i = 0; ok && i < t->n_numa; i++)
        ok = json_array_append_new (numa, numa_json (&t->numa[i])) == 0;
    for (size_t i = 0; ok && i < t->n_gpus; i++)
        ok = json_array_append_new (gpus, gpu_json (&t->gpus[i])) == 0;
    if (ok
        && jset (o, "packages", json_integer (t->packages))
        && jset (o, "numa_nodes", json_integer (t->numa_nodes))
        && jset (o, "cores", json_integer (t->cores))
        && jset (o, "pus", json_integer (t->pus))
        && jset (o, "numa", json_incref (numa))
        && jset (o, "gpus", json_incref (gpus))
        && jset (o, "source", jstr (t->source))) {
        json_decref (numa);
        json_decref (gpus);
        return o;
    }
    json_decref (o);
    json_decref (numa);
    json_decref (gpus);
    return NULL;
}

/* ---- people ---- */

static void
line (FILE *out, const char *key, const char *val)
{
    char *clean = cli_text_clean (val ? val : "", 4096);
    fprintf (out, "%-11s %s\n", key, clean ? clean : "");
    free (clean);
}

static int
print_numa (FILE *out, const yard_topology_t *t)
{
    static const char *const headers[] = { "NUMA", "PUS", "MEMORY" };
    cli_table_t *tb = cli_table_create (3, headers);
    int rc = 0;
    if (!tb)
        return -errno;
    cli_table_align_right (tb, 2);
    for (size_t i = 0; i < t->n_numa && rc == 0; i++) {
        char idx[16], mem[32];
        snprintf (idx, sizeof idx, "%" PRIu32, t->numa[i].os_index);
        yard_format_size (t->numa[i].memory_bytes, mem, sizeof mem);
        const char *row[] = { idx, t->numa[i].cpus, mem };
        rc = cli_table_add_row (tb, row);
    }
    if (rc == 0)
        rc = cli_table_print (tb, out);
    cli_table_destroy (&tb);
    return rc;
}

static int
print_gpus (FILE *out, const yard_topology_t *t)
{
    static const char *const headers[] = { "GPU", "BUS-ID", "UUID", "MODEL",
                                           "MEMORY", "CC", "NUMA",
                                           "SWITCH", "LOCAL-PUS" };
    cli_table_t *tb = cli_table_create (9, headers);
    int rc = 0;
    if (!tb)
        return -errno;
    cli_table_align_right (tb, 4);
    for (size_t i = 0; i < t->n_gpus && rc == 0; i++) {
        const yard_gpu_t *g = &t->gpus[i];
        char idx[16], mem[32], cc[24], numa[16];
        snprintf (idx, sizeof idx, "%" PRIu32, g->index);
        yard_format_size (g->memory_bytes, mem, sizeof mem);
        if (g->cc_major || g->cc_minor)
            snprintf (cc, sizeof cc, "%" PRIu32 ".%" PRIu32, g->cc_major,
                      g->cc_minor);
        else
            snprintf (cc, sizeof cc, "-");
        if (g->numa_node >= 0)
            snprintf (numa, sizeof numa, "%" PRId32, g->numa_node);
        else
            snprintf (numa, sizeof numa, "-");
        const char *sw = g->pci_switch && *g->pci_switch ? g->pci_switch
                                                         : "-";
        const char *row[] = { idx,  g->pci_bus_id, g->uuid, g->name, mem, cc,
                              numa, sw, *g->local_cpus ? g->local_cpus : "-" };
        rc = cli_table_add_row (tb, row);
    }
    if (rc == 0)
        rc = cli_table_print (tb, out);
    cli_table_destroy (&tb);
    return rc;
}

const char *
cli_node_state_cell (const yard_node_t *nd, int64_t now_ms, char *buf,
                     size_t len)
{
    char d[16];
    const char *state = yard_node_display_state (nd);
    if (nd->state_since_ms > 0 && now_ms >= nd->state_since_ms)
        snprintf (buf, len, "%s (since %s ago)", state,
                  yard_format_duration (now_ms - nd->state_since_ms, d,
                                        sizeof d));
    else
        snprintf (buf, len, "%s", state);
    return buf;
}

int
cli_print_node_show (FILE *out, const yard_node_t *nd, int64_t now_ms)
{
    const yard_topology_t *t = &nd->topology;
    char buf[256], used[16], total[16], model[64], d[16];
    line (out, "node:", nd->name);
    line (out, "state:", cli_node_state_cell (nd, now_ms, buf, sizeof buf));
    if (nd->state_reason && *nd->state_reason)
        line (out, "reason:", nd->state_reason);
    line (out, "host:", nd->hostname);
    line (out, "version:", nd->version);
    snprintf (buf, sizeof buf, "%" PRIu32 "/%" PRIu32 " used", nd->cpus_used,
              nd->cpus);
    line (out, "cpus:", buf);
    snprintf (buf, sizeof buf, "%s/%s used",
              yard_format_size (nd->memory_used, used, sizeof used),
              yard_format_size (nd->memory_bytes, total, sizeof total));
    line (out, "memory:", buf);
    cli_gpu_model (t, model, sizeof model);
    snprintf (buf, sizeof buf, "%" PRIu32 "/%" PRIu32 " used%s%s",
              nd->gpus_used, nd->gpus, *model ? " " : "", model);
    line (out, "gpus:", buf);
    line (out, "jobs:", (snprintf (buf, sizeof buf, "%" PRIu32,
                                   nd->running_jobs), buf));
    if (nd->last_seen_ms > 0)
        snprintf (buf, sizeof buf, "%s ago",
                  yard_format_duration (now_ms - nd->last_seen_ms, d,
                                        sizeof d));
    else
        snprintf (buf, sizeof buf, "never");
    line (out, "last seen:", buf);
    if (!t->known) {
        line (out, "topology:", "not reported (a worker older than this "
                                "scheduler's clients?)");
        return ferror (out) ? -EIO : 0;
    }
    snprintf (buf, sizeof buf,
              "%" PRIu32 " socket%s, %" PRIu32 " NUMA node%s, %" PRIu32
              " cores, %" PRIu32 " PUs",
              t->packages, t->packages == 1 ? "" : "s", t->numa_nodes,
              t->numa_nodes == 1 ? "" : "s", t->cores, t->pus);
    line (out, "topology:", buf);
    line (out, "source:", t->source);
    int rc;
    if (t->n_numa > 0) {
        fputc ('\n', out);
        if ((rc = print_numa (out, t)) < 0)
            return rc;
    }
    if (t->n_gpus > 0) {
        fputc ('\n', out);
        if ((rc = print_gpus (out, t)) < 0)
            return rc;
    }
    return ferror (out) ? -EIO : 0;
}
