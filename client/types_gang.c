/* types_gang.c - libyard's view of multi-node jobs: the nodes of a gang
 * job's attempt (yard_job_t.gang) and what each job holds on a node
 * (yard_node_t.holdings), copied out of the wire messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "yard/yard.h"

static char *
dup_or_empty (const char *s)
{
    return strdup (s ? s : "");
}

/* A NULL-terminated copy of n strings. */
static char **
copy_strv (char *const *v, size_t n)
{
    char **out = calloc (n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = dup_or_empty (v ? v[i] : NULL))) {
            for (size_t k = 0; k < i; k++)
                free (out[k]);
            free (out);
            return NULL;
        }
    return out;
}

static void
free_strv (char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free (v[i]);
    free (v);
}

static int
nodes_from_proto (Yard__GangNode *const *in, size_t n, yard_gang_node_t **v,
                  size_t *nv)
{
    *v = NULL;
    *nv = 0;
    if (n == 0)
        return 0;
    if (!(*v = calloc (n, sizeof (*v)[0])))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const Yard__GangNode *g = in[i];
        yard_gang_node_t *o = &(*v)[(*nv)++];
        const Yard__Allocation *a = g ? g->alloc : NULL;
        o->rank = g ? g->rank : 0;
        o->started = g && g->started;
        o->finished = g && g->finished;
        o->alloc_ngpus = a ? a->n_gpu_uuids : 0;
        if (!(o->node = dup_or_empty (g ? g->node : NULL))
            || !(o->alloc_cpus = dup_or_empty (a ? a->cpus : NULL))
            || !(o->alloc_gpus
                 = copy_strv (a ? a->gpu_uuids : NULL, o->alloc_ngpus)))
            return -ENOMEM; /* the caller clears the job */
    }
    return 0;
}

static void
nodes_clear (yard_gang_node_t **v, size_t *n)
{
    for (size_t i = 0; *v && i < *n; i++) {
        free ((*v)[i].node);
        free ((*v)[i].alloc_cpus);
        free_strv ((*v)[i].alloc_gpus);
    }
    free (*v);
    *v = NULL;
    *n = 0;
}

int
yard__gang_from_proto (const Yard__JobInfo *in, yard_job_t *out)
{
    return nodes_from_proto (in->gang, in->n_gang, &out->gang, &out->n_gang);
}

int
yard__gang_attempt_from_proto (const Yard__AttemptInfo *in,
                               yard_attempt_t *out)
{
    return in ? nodes_from_proto (in->gang, in->n_gang, &out->gang,
                                  &out->n_gang)
              : 0;
}

void
yard__gang_clear (yard_job_t *job)
{
    nodes_clear (&job->gang, &job->n_gang);
    for (size_t i = 0; job->attempts && i < job->n_attempts; i++)
        nodes_clear (&job->attempts[i].gang, &job->attempts[i].n_gang);
}

int
yard__holdings_from_proto (const Yard__NodeInfo *in, yard_node_t *out)
{
    out->holdings = NULL;
    out->n_holdings = 0;
    if (!(out->advertise_addr = dup_or_empty (in->advertise_addr)))
        return -ENOMEM;
    if (in->n_holdings == 0)
        return 0;
    if (!(out->holdings = calloc (in->n_holdings, sizeof out->holdings[0])))
        return -ENOMEM;
    for (size_t i = 0; i < in->n_holdings; i++) {
        const Yard__Holding *h = in->holdings[i];
        yard_holding_t *o = &out->holdings[out->n_holdings++];
        const Yard__Allocation *a = h ? h->alloc : NULL;
        o->job_id = h ? h->job_id : 0;
        o->gang = h && h->gang;
        o->node_rank = h ? h->node_rank : 0;
        o->memory_bytes = a ? a->memory_bytes : 0;
        o->ngpus = a ? a->n_gpu_uuids : 0;
        if (!(o->cpus = dup_or_empty (a ? a->cpus : NULL))
            || !(o->gpus = copy_strv (a ? a->gpu_uuids : NULL, o->ngpus)))
            return -ENOMEM;
    }
    return 0;
}

void
yard__holdings_clear (yard_node_t *node)
{
    for (size_t i = 0; node->holdings && i < node->n_holdings; i++) {
        free (node->holdings[i].cpus);
        free_strv (node->holdings[i].gpus);
    }
    free (node->holdings);
    node->holdings = NULL;
    node->n_holdings = 0;
    free (node->advertise_addr);
    node->advertise_addr = NULL;
}
