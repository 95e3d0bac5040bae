/* server_gang.c - gang jobs in the scheduler core (see server_gang.h).
 *
 * The live gangs are a short list on the server (one entry per active
 * gang job: there are few, and every lookup is by job id or by node).
 * Each entry names the node of every rank and what is known of its tasks;
 * what a rank holds is in that node's place, under the job's id.
 *
 * Fencing: every report is checked against the gang's attempt and the
 * rank's node; anything else falls through to the usual stale handling
 * (acknowledged, or killed as END_STALE).
 */
#include "server_gang.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gang_place.h"
#include "log.h"
#include "place.h"
#include "server_int.h"
#include "server_nodeadmin.h"
#include "server_place.h"
#include "store_alloc.h"
#include "store_attempts.h"
#include "store_gang.h"
#include "utf8.h"
#include "util.h"

#define MAX_ADDR 255

struct gang_part {
    yard_node_t *node; /* NULL: lost from the store (broken gang) */
    bool dispatched;   /* its Dispatch was sent (or may have been) */
    bool started;
    bool finished; /* reported its end */
    uint64_t seen; /* reconciliation stamp */
};

struct yard__gang {
    struct yard__gang *next;
    uint64_t job_id;
    uint32_t attempt;
    uint32_t nnodes;
    uint32_t port;
    int64_t assigned_ms;
    char addr[MAX_ADDR + 1];
    struct gang_part parts[];
};

static uint64_t
sat_add (uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t
sat_sub (uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static struct yard__gang *
gang_find (yard_server_t *s, uint64_t job_id)
{
    for (struct yard__gang *g = s->gangs; g; g = g->next)
        if (g->job_id == job_id)
            return g;
    return NULL;
}

static struct yard__gang *
gang_new (yard_server_t *s, const yard_job_t *job)
{
    uint32_t n = job->spec->nodes;
    struct yard__gang *g = calloc (1, sizeof *g + n * sizeof g->parts[0]);
    if (!g)
        return NULL;
    g->job_id = job->id;
    g->attempt = job->attempt;
    g->nnodes = n;
    g->next = s->gangs;
    s->gangs = g;
    return g;
}

static void
gang_free (yard_server_t *s, struct yard__gang *g)
{
    for (struct yard__gang **pp = &s->gangs; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    free (g);
}

/* The rank of node in g, or -1. */
static int
rank_of (const struct yard__gang *g, const yard_node_t *node)
{
    for (uint32_t r = 0; r < g->nnodes; r++)
        if (g->parts[r].node == node)
            return (int)r;
    return -1;
}

/* The live gang job whose current attempt is `attempt`, or NULL. */
static struct yard__gang *
gang_current (yard_server_t *s, uint64_t job_id, uint32_t attempt,
              yard_job_t **job)
{
    struct yard__gang *g = gang_find (s, job_id);
    if (!g || attempt == 0 || g->attempt != attempt)
        return NULL;
    yard_job_t *j = yard_queue_find (s->queue, job_id);
    if (!j || j->attempt != attempt || !yard_job_is_active (j))
        return NULL;
    *job = j;
    return g;
}

/* A gang's hold on a node other than rank 0's; the free-capacity index
 * is told of every change. */
static void
hold (yard_nodes_t *ns, yard_node_t *node, const yard_job_t *job)
{
    node->cpus_used = (uint32_t)sat_add (node->cpus_used, yard_job_cpus (job));
    node->gpus_used = (uint32_t)sat_add (node->gpus_used, yard_job_gpus (job));
    node->memory_used = sat_add (node->memory_used, yard_job_memory (job));
    node->njobs++;
    yard_nodes_changed (ns, node);
}

static void
unhold (yard_nodes_t *ns, yard_node_t *node, const yard_job_t *job)
{
    node->cpus_used = (uint32_t)sat_sub (node->cpus_used, yard_job_cpus (job));
    node->gpus_used = (uint32_t)sat_sub (node->gpus_used, yard_job_gpus (job));
    node->memory_used = sat_sub (node->memory_used, yard_job_memory (job));
    if (node->njobs > 0)
        node->njobs--;
    if (node->place)
        (void)yard_place_release (node->place, job->id);
    yard_nodes_changed (ns, node);
}

/* KillJob to one node, without the fan-out of yard__send_kill. */
static void
kill_part (yard_server_t *s, yard_node_t *node, uint64_t job_id,
           uint32_t attempt, Yard__EndReason why, uint32_t grace_s)
{
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__KillJob kill = YARD__KILL_JOB__INIT;
    kill.job_id = job_id;
    kill.attempt = attempt;
    kill.reason = why;
    kill.grace_s = grace_s;
    env.body_case = YARD__ENVELOPE__BODY_KILL_JOB;
    env.kill_job = &kill;
    log_info ("job %" PRIu64 " attempt %u: kill (%s) sent to %s", job_id,
              attempt, yard_end_reason_name (why), node->name);
    (void)yard__send_node (s, node, &env);
}

static const char *
node_addr (const yard_node_t *node)
{
    if (node->advertise_addr && *node->advertise_addr)
        return node->advertise_addr;
    if (node->hostname && *node->hostname)
        return node->hostname;
    return node->name;
}

static int
send_dispatch (yard_server_t *s, const yard_job_t *job,
               const struct yard__gang *g, uint32_t rank)
{
    yard_node_t *node = g->parts[rank].node;
    Yard__GangPart gp = YARD__GANG_PART__INIT;
    gp.node_rank = rank;
    gp.nnodes = g->nnodes;
    gp.tasks_per_node = yard_job_tasks (job);
    gp.gpus_per_task = job->spec->gpus_per_task;
    gp.master_addr = (char *)g->addr;
    gp.master_port = g->port;
    Yard__Dispatch d = YARD__DISPATCH__INIT;
    d.job_id = job->id;
    d.attempt = job->attempt;
    d.spec = job->spec;
    d.alloc = node->place
                  ? (Yard__Allocation *)yard_place_get (node->place, job->id)
                  : NULL;
    d.gang = &gp;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.body_case = YARD__ENVELOPE__BODY_DISPATCH;
    env.dispatch = &d;
    int rc = yard__send_node (s, node, &env);
    if (rc < 0 && s->batch_failed)
        return s->batch_failed;
    log_info ("job %" PRIu64 " attempt %u: node rank %u dispatched to %s",
              job->id, job->attempt, rank, node->name);
    return 0;
}

static int
store_part (yard_server_t *s, const yard_job_t *job,
            const struct yard__gang *g, uint32_t r)
{
    const struct gang_part *p = &g->parts[r];
    yard_store_gang_row_t row = {
        .job_id = job->id,
        .attempt = g->attempt,
        .rank = r,
        .node = p->node->name,
        .alloc
        = p->node->place ? yard_place_get (p->node->place, job->id) : NULL,
        .started = p->started,
        .finished = p->finished,
        .port = g->port,
        .master_addr = g->addr,
        .assigned_ms = g->assigned_ms,
    };
    int rc = yard_store_gang_put (s->store, &row);
    if (rc < 0) {
        log_err ("cannot write gang part %u of job %" PRIu64 ": %s", r,
                 job->id, yard_store_errmsg (s->store));
        return yard__fail (s, rc);
    }
    return 0;
}

static void
store_flags (yard_server_t *s, const struct yard__gang *g, uint32_t r)
{
    int rc = yard_store_gang_flags (s->store, g->job_id, g->attempt, r,
                                    g->parts[r].started, g->parts[r].finished);
    if (rc < 0) {
        log_err ("cannot write gang part %u of job %" PRIu64 ": %s", r,
                 g->job_id, yard_store_errmsg (s->store));
        yard__fail (s, rc);
    }
}

/* ---- dispatch ---- */

int
yard__gang_assign (yard_server_t *s, yard_job_t *job, yard_node_t **cand,
                   size_t ncand)
{
    uint32_t n = job->spec->nodes;
    if (n > ncand)
        return 0;
    uint32_t c = yard_job_cpus (job), gp = yard_job_gpus (job);
    uint64_t mem = yard_job_memory (job);
    yard_place_t **places = calloc (ncand, sizeof *places);
    size_t *chosen = calloc (n, sizeof *chosen);
    const Yard__Allocation **allocs = calloc (n, sizeof *allocs);
    if (!places || !chosen || !allocs) {
        free (places);
        free (chosen);
        free (allocs);
        return yard__fail (s, -ENOMEM);
    }
    for (size_t i = 0; i < ncand; i++) {
        yard_node_t *node = cand[i];
        if (yard_node_free_cpus (node) >= c && yard_node_free_gpus (node) >= gp
            && yard_node_free_memory (node) >= mem
            && yard__node_matches (node, job)
            && yard__place_fits (s, node, c, gp))
            places[i] = node->place;
    }
    yard_gang_req_t req = {
        .nnodes = n,
        .tasks = yard_job_tasks (job),
        .cpus_per_task = job->spec->cpus ? job->spec->cpus : 1,
        .gpus_per_task = job->spec->gpus_per_task,
        .memory = mem,
    };
    int rc = yard_gang_place (places, ncand, job->id, &req, chosen, allocs);
    free (places);
    if (rc < 0) {
        free (chosen);
        free (allocs);
        return rc == -ENOMEM ? yard__fail (s, rc) : 0;
    }
    job->attempt++;
    struct yard__gang *g = gang_new (s, job);
    if (!g) {
        for (uint32_t r = 0; r < n; r++)
            (void)yard_place_release (cand[chosen[r]]->place, job->id);
        free (chosen);
        free (allocs);
        job->attempt--;
        return yard__fail (s, -ENOMEM);
    }
    yard_node_t *primary = cand[chosen[0]];
    for (uint32_t r = 0; r < n; r++)
        g->parts[r].node = cand[chosen[r]];
    g->parts[0].dispatched = true;
    g->assigned_ms = yard_now_ms ();
    snprintf (g->addr, sizeof g->addr, "%s", node_addr (primary));
    job->state = YARD__JOB_STATE__JOB_ASSIGNED;
    job->start_ms = 0;
    if (yard_job_set_node (job, primary->name) < 0
        || yard_job_set_reason (job, NULL) < 0)
        yard__fail (s, -ENOMEM);
    yard__job_attach (s, job, primary);
    for (uint32_t r = 1; r < n; r++)
        hold (s->nodes, g->parts[r].node, job);
    yard__array_enter (s, job);
    for (uint32_t r = 0; r < n; r++)
        g->parts[r].node->last_assign = ++s->assign_seq;
    rc = yard_store_alloc_put (s->store, job->id, job->attempt, allocs[0]);
    free (chosen);
    free (allocs);
    if (rc < 0)
        return yard__fail (s, rc);
    for (uint32_t r = 0; r < n && !s->batch_failed; r++)
        (void)store_part (s, job, g, r);
    if ((rc = yard__job_save (s, job)) < 0)
        return rc;
    if ((rc = send_dispatch (s, job, g, 0)) < 0)
        return rc;
    log_info ("job %" PRIu64 " attempt %u ASSIGNED to %u nodes (rank 0: %s)",
              job->id, job->attempt, n, primary->name);
    if (job->parks)
        yard__parks_wake (s, job);
    return 1;
}

/* Rank 0 runs with port: record it and start the other ranks. */
static void
port_known (yard_server_t *s, yard_job_t *job, struct yard__gang *g,
            uint32_t port)
{
    g->port = port;
    int rc = yard_store_gang_port (s->store, job->id, g->attempt, g->port);
    if (rc < 0) {
        yard__fail (s, rc);
        return;
    }
    if (job->cancel_requested || job->state == YARD__JOB_STATE__JOB_PREEMPTING)
        return; /* rank 0 is being stopped: start nothing more */
    log_info ("job %" PRIu64 " attempt %u: MASTER_ADDR %s MASTER_PORT %u",
              job->id, job->attempt, g->addr, g->port);
    for (uint32_t r = 1; r < g->nnodes && !s->batch_failed; r++) {
        if (!g->parts[r].node)
            continue;
        g->parts[r].dispatched = true;
        (void)send_dispatch (s, job, g, r);
    }
}

void
yard__on_gang_port (yard_server_t *s, const yard_peer_t *peer,
                    yard_node_t *node, yard_env_t *env)
{
    (void)peer;
    const Yard__GangPort *m = env->gang_port;
    if (!m)
        return;
    yard_job_t *job = NULL;
    struct yard__gang *g = gang_current (s, m->job_id, m->attempt, &job);
    if (!g || g->parts[0].node != node) {
        log_debug ("job %" PRIu64 " attempt %u: stale gang port from %s",
                   m->job_id, m->attempt, node->name);
        return;
    }
    if (m->port == 0 || m->port > 65535) {
        log_warn ("job %" PRIu64 ": worker %s reports gang port %u: ignored",
                  m->job_id, node->name, m->port);
        return;
    }
    if (g->port)
        return; /* a duplicate */
    port_known (s, job, g, m->port);
}

/* ---- leaving ---- */

void
yard__gang_detach (yard_server_t *s, yard_job_t *job)
{
    struct yard__gang *g = gang_find (s, job->id);
    if (!g)
        return;
    for (uint32_t r = 0; r < g->nnodes; r++) {
        struct gang_part *p = &g->parts[r];
        if (!p->node)
            continue;
        if (r > 0)
            unhold (s->nodes, p->node, job);
        if (p->dispatched && !p->finished)
            kill_part (s, p->node, job->id, g->attempt,
                       YARD__END_REASON__END_STALE, yard_job_grace (job));
    }
    gang_free (s, g);
}

void
yard__gang_reset (yard_server_t *s)
{
    while (s->gangs)
        gang_free (s, s->gangs);
}

void
yard__gang_kill_fanout (yard_server_t *s, yard_node_t *node, uint64_t job_id,
                        uint32_t attempt, Yard__EndReason why,
                        uint32_t grace_s)
{
    struct yard__gang *g = gang_find (s, job_id);
    if (!g || g->attempt != attempt || g->parts[0].node != node)
        return;
    for (uint32_t r = 1; r < g->nnodes; r++)
        if (g->parts[r].node && g->parts[r].dispatched
            && !g->parts[r].finished)
            kill_part (s, g->parts[r].node, job_id, attempt, why, grace_s);
}

/* ---- restore ---- */

struct restore_ctx {
    yard_server_t *s;
    yard_job_t *job;
    struct yard__gang *g;
};

static int
restore_row (const yard_store_gang_row_t *row, void *arg)
{
    struct restore_ctx *c = arg;
    struct yard__gang *g = c->g;
    if (row->attempt != g->attempt || row->rank >= g->nnodes)
        return 0;
    g->port = row->port;
    g->assigned_ms = row->assigned_ms;
    snprintf (g->addr, sizeof g->addr, "%s", row->master_addr);
    struct gang_part *p = &g->parts[row->rank];
    p->started = row->started;
    p->finished = row->finished;
    if (row->rank == 0) {
        p->node = c->job->worker;
        p->dispatched = true;
        return 0;
    }
    yard_node_t *node = yard_nodes_get (c->s->nodes, row->node);
    if (!node) {
        if (!(node = yard_nodes_add (c->s->nodes, row->node)))
            return 0;
        node->state = YARD__NODE_STATE__NODE_UP;
        node->last_seen_mono = yard_mono_ms ();
        log_warn ("gang job %" PRIu64 " is on node %s, which never "
                  "registered: waiting for it",
                  c->job->id, node->name);
    }
    p->node = node;
    p->dispatched = g->port != 0;
    hold (c->s->nodes, node, c->job);
    if (row->alloc && yard__place_fits (c->s, node, 0, 0)) {
        int rc = yard_place_claim (node->place, c->job->id, row->alloc);
        if (rc == -EINVAL || rc == -EBUSY)
            (void)yard_place_adopt (node->place, c->job->id, row->alloc);
    }
    return 0;
}

void
yard__gang_restore (yard_server_t *s, yard_job_t *job)
{
    if (!yard_job_is_gang (job) || gang_find (s, job->id))
        return;
    struct yard__gang *g = gang_new (s, job);
    if (!g) {
        log_err ("out of memory: gang job %" PRIu64 " cannot be restored",
                 job->id);
        return;
    }
    g->parts[0].node = job->worker;
    g->parts[0].dispatched = true;
    struct restore_ctx c = { s, job, g };
    if (yard_store_gang_get (s->store, job->id, restore_row, &c) < 0)
        log_err ("gang job %" PRIu64 ": cannot read its nodes: %s", job->id,
                 yard_store_errmsg (s->store));
}

/* ---- reports ---- */

static bool
all_started (const struct yard__gang *g)
{
    for (uint32_t r = 0; r < g->nnodes; r++)
        if (!g->parts[r].started)
            return false;
    return true;
}

static bool
all_finished (const struct yard__gang *g)
{
    for (uint32_t r = 0; r < g->nnodes; r++)
        if (!g->parts[r].finished)
            return false;
    return true;
}

/* A part's tasks run: the job RUNS once every part's do; a stop asked
 * for meanwhile is resent to the part (its KillJob may have come before
 * the process existed). */
static void
part_running (yard_server_t *s, yard_job_t *job, struct yard__gang *g,
              uint32_t r, int64_t start_ms)
{
    if (!g->parts[r].started) {
        g->parts[r].started = true;
        store_flags (s, g, r);
    }
    yard_node_t *node = g->parts[r].node;
    if (job->cancel_requested)
        kill_part (s, node, job->id, job->attempt,
                   YARD__END_REASON__END_CANCELLED, yard_job_grace (job));
    else if (job->state == YARD__JOB_STATE__JOB_PREEMPTING)
        kill_part (s, node, job->id, job->attempt,
                   YARD__END_REASON__END_PREEMPTED, yard_job_grace (job));
    else if (job->state == YARD__JOB_STATE__JOB_ASSIGNED && all_started (g))
        (void)yard__job_started (s, job, start_ms);
}

bool
yard__gang_on_started (yard_server_t *s, yard_node_t *node,
                       const Yard__JobStarted *m)
{
    yard_job_t *job;
    struct yard__gang *g = gang_current (s, m->job_id, m->attempt, &job);
    int r = g ? rank_of (g, node) : -1;
    if (r < 0)
        return false;
    part_running (s, job, g, (uint32_t)r, m->start_time_ms);
    return true;
}

bool
yard__gang_on_running (yard_server_t *s, yard_node_t *node,
                       const Yard__RunningJob *rj, uint64_t gen)
{
    yard_job_t *job;
    struct yard__gang *g = gang_current (s, rj->job_id, rj->attempt, &job);
    int r = g ? rank_of (g, node) : -1;
    if (r < 0)
        return false;
    g->parts[r].seen = gen;
    g->parts[r].dispatched = true;
    if (r == 0)
        job->seen = gen;
    part_running (s, job, g, (uint32_t)r, rj->start_time_ms);
    /* its GangPort may have gone to a scheduler that then stopped */
    if (r == 0 && g->port == 0 && rj->master_port > 0
        && rj->master_port <= 65535 && !s->batch_failed)
        port_known (s, job, g, rj->master_port);
    return true;
}

int
yard__gang_on_finish (yard_server_t *s, yard_node_t *node,
                      const Yard__JobFinished *f, yard_job_t **job,
                      const Yard__JobFinished **use, Yard__JobFinished *copy,
                      char *buf, size_t len)
{
    struct yard__gang *g = gang_current (s, f->job_id, f->attempt, job);
    int r = g ? rank_of (g, node) : -1;
    if (r < 0)
        return YARD__GANG_NONE;
    if (f->reason == YARD__END_REASON__END_STALE)
        return YARD__GANG_ACK; /* we never called it stale: ignore */
    if (g->parts[r].finished)
        return YARD__GANG_ACK; /* a duplicate */
    g->parts[r].finished = true;
    store_flags (s, g, (uint32_t)r);
    bool ok = f->reason == YARD__END_REASON__END_EXITED && f->exit_code == 0;
    if (ok && !all_finished (g)) {
        log_info ("job %" PRIu64 " attempt %u: node rank %d (%s) done",
                  f->job_id, f->attempt, r, node->name);
        return YARD__GANG_ACK;
    }
    *copy = *f;
    if (!ok && g->nnodes > 1) {
        snprintf (buf, len, "node %s (NODE_RANK %d)%s%s", node->name, r,
                  f->message && *f->message ? ": " : "",
                  f->message ? f->message : "");
        copy->message = (char *)yard_utf8_sanitize (buf);
    }
    *use = copy;
    return YARD__GANG_APPLY;
}

static struct yard__gang *
first_on (yard_server_t *s, yard_node_t *node, uint64_t gen, bool unseen)
{
    /* lost: any part not over yet; unseen: a dispatched one the register
     * did not report */
    for (struct yard__gang *g = s->gangs; g; g = g->next)
        for (uint32_t r = 1; r < g->nnodes; r++) {
            struct gang_part *p = &g->parts[r];
            if (p->node == node && !p->finished
                && (!unseen || (p->dispatched && p->seen != gen)))
                return g;
        }
    return NULL;
}

void
yard__gang_node_lost (yard_server_t *s, yard_node_t *node)
{
    struct yard__gang *g;
    char why[320];
    snprintf (why, sizeof why, "node %s lost", node->name);
    while (!s->batch_failed && (g = first_on (s, node, 0, false))) {
        yard_job_t *job = yard_queue_find (s->queue, g->job_id);
        if (!job || !yard_job_is_active (job)) {
            gang_free (s, g); /* cannot happen: never leave it behind */
            continue;
        }
        (void)yard__job_requeue (s, job, why);
    }
}

void
yard__gang_reconcile_end (yard_server_t *s, yard_node_t *node, uint64_t gen)
{
    struct yard__gang *g;
    while (!s->batch_failed && (g = first_on (s, node, gen, true))) {
        yard_job_t *job = yard_queue_find (s->queue, g->job_id);
        if (!job || !yard_job_is_active (job)) {
            gang_free (s, g);
            continue;
        }
        char why[384];
        snprintf (why, sizeof why,
                  "attempt %u was not running on %s when it "
                  "registered",
                  g->attempt, node->name);
        (void)yard__job_requeue (s, job, why);
    }
}

bool
yard__gang_part_done (yard_server_t *s, const yard_job_t *job,
                      const yard_node_t *node)
{
    struct yard__gang *g = gang_find (s, job->id);
    int r = g && g->attempt == job->attempt ? rank_of (g, node) : -1;
    return r >= 0 && g->parts[r].finished;
}

struct rank0_ctx {
    uint32_t attempt;
    const char *node;
    bool match;
};

static int
rank0_row (const yard_store_attempt_t *row, void *arg)
{
    struct rank0_ctx *c = arg;
    if (row->attempt != c->attempt)
        return 0;
    c->match = row->node && strcmp (row->node, c->node) == 0;
    return 1;
}

bool
yard__gang_foreign (yard_server_t *s, const yard_job_t *job,
                    const yard_node_t *node, uint32_t attempt)
{
    if (!job || !yard_job_is_gang (job))
        return false;
    if (attempt == job->attempt)
        return !job->node || strcmp (job->node, node->name) != 0;
    /* an earlier attempt still shipping: its rank 0 is in its history */
    struct rank0_ctx c = { attempt, node->name, false };
    if (yard_store_attempts (s->store, job->id, rank0_row, &c) < 0)
        return true;
    return !c.match;
}

void
yard__gang_cron (yard_server_t *s)
{
    int64_t now = yard_now_ms ();
    for (int guard = 0; guard < 10000 && !s->batch_failed; guard++) {
        struct yard__gang *g;
        yard_job_t *job = NULL;
        for (g = s->gangs; g; g = g->next) {
            job = yard_queue_find (s->queue, g->job_id);
            if (!job || job->state != YARD__JOB_STATE__JOB_ASSIGNED
                || job->cancel_requested)
                continue;
            int64_t limit = (int64_t)job->spec->gang_timeout_s * 1000;
            bool broken = false;
            for (uint32_t r = 0; r < g->nnodes; r++)
                broken |= g->parts[r].node == NULL;
            if (broken || now - g->assigned_ms >= limit)
                break;
        }
        if (!g)
            return;
        char missing[512] = "", msg[768];
        size_t off = 0;
        for (uint32_t r = 0; r < g->nnodes && off < sizeof missing - 1; r++)
            if (!g->parts[r].started) {
                int k = snprintf (missing + off, sizeof missing - off, "%s%s",
                                  off ? ", " : "",
                                  g->parts[r].node ? g->parts[r].node->name
                                                   : "?");
                off += k > 0 ? (size_t)k : 0;
            }
        snprintf (msg, sizeof msg,
                  "the gang's tasks did not all start "
                  "within %u s (not started on: %s)",
                  job->spec->gang_timeout_s, missing);
        Yard__JobFinished f = YARD__JOB_FINISHED__INIT;
        f.job_id = job->id;
        f.attempt = job->attempt;
        f.reason = YARD__END_REASON__END_SPAWN_FAILED;
        f.exit_code = 1;
        f.message = yard_utf8_sanitize (msg);
        f.end_time_ms = now;
        log_warn ("job %" PRIu64 " attempt %u: %s", job->id, job->attempt,
                  msg);
        yard__finish_apply (s, g->parts[0].node, job, &f);
    }
}

bool
yard__gang_reason (yard_server_t *s, const yard_job_t *job, const char *pre,
                   char *buf, size_t len)
{
    if (!yard_job_is_gang (job))
        return false;
    uint32_t c = yard_job_cpus (job), gp = yard_job_gpus (job), big = 0;
    uint64_t mem = yard_job_memory (job);
    for (size_t i = 0; i < yard_nodes_count (s->nodes); i++) {
        const yard_node_t *node = yard_nodes_at (s->nodes, i);
        if (node->cpus >= c && node->gpus >= gp && node->memory >= mem)
            big++;
    }
    if (big >= job->spec->nodes)
        return false;
    snprintf (buf, len,
              "%swaiting for resources: needs %u nodes with %u "
              "CPU%s and %u GPU%s each; %u node%s that large",
              pre, job->spec->nodes, c, c == 1 ? "" : "s", gp,
              gp == 1 ? "" : "s", big, big == 1 ? " is" : "s are");
    return true;
}

/* ---- views ---- */

struct info_ctx {
    Yard__JobInfo *info;
    uint32_t attempt;
    size_t cap; /* room in info->gang */
};

static Yard__GangNode *
gang_node_new (const char *node, uint32_t rank, const Yard__Allocation *a,
               bool started, bool finished)
{
    Yard__GangNode *gn = calloc (1, sizeof *gn);
    if (!gn)
        return NULL;
    yard__gang_node__init (gn);
    gn->node = strdup (node ? node : "");
    gn->rank = rank;
    gn->started = started;
    gn->finished = finished;
    if (!gn->node || (a && yard_alloc_copy (a, &gn->alloc) < 0)) {
        free (gn->node);
        free (gn);
        return NULL;
    }
    return gn;
}

static int
info_row (const yard_store_gang_row_t *row, void *arg)
{
    struct info_ctx *c = arg;
    if (row->attempt != c->attempt || c->info->n_gang >= c->cap)
        return 0;
    Yard__GangNode *gn = gang_node_new (row->node, row->rank, row->alloc,
                                        row->started, row->finished);
    if (!gn)
        return -ENOMEM;
    c->info->gang[c->info->n_gang++] = gn;
    c->info->master_port = row->port;
    return 0;
}

void
yard__gang_info (yard_server_t *s, const yard_job_t *job, Yard__JobInfo *info)
{
    info->gang = NULL;
    info->n_gang = 0;
    if (!yard_job_is_gang (job) || job->attempt == 0)
        return;
    uint32_t n = job->spec->nodes;
    if (!(info->gang = calloc (n, sizeof info->gang[0])))
        return;
    struct yard__gang *g = gang_find (s, job->id);
    if (g && g->attempt == job->attempt) {
        info->master_port = g->port;
        for (uint32_t r = 0; r < g->nnodes; r++) {
            const struct gang_part *p = &g->parts[r];
            const Yard__Allocation *a
                = p->node && p->node->place
                      ? yard_place_get (p->node->place, job->id)
                      : NULL;
            Yard__GangNode *gn = gang_node_new (p->node ? p->node->name : "?",
                                                r, a, p->started, p->finished);
            if (!gn)
                break;
            info->gang[info->n_gang++] = gn;
        }
        return;
    }
    struct info_ctx c = { info, job->attempt, n };
    if (yard_store_gang_get (s->store, job->id, info_row, &c) < 0)
        log_warn ("job %" PRIu64 ": cannot read its gang nodes", job->id);
}

struct hist_ctx {
    Yard__JobInfo *info;
    size_t cap; /* nodes per attempt */
    int err;
};

static int
hist_row (const yard_store_gang_row_t *row, void *arg)
{
    struct hist_ctx *c = arg;
    for (size_t i = 0; i < c->info->n_attempts; i++) {
        Yard__AttemptInfo *ai = c->info->attempts[i];
        if (!ai || ai->attempt != row->attempt)
            continue;
        if (!ai->gang && !(ai->gang = calloc (c->cap, sizeof ai->gang[0])))
            return c->err = -ENOMEM;
        if (ai->n_gang >= c->cap)
            return 0;
        Yard__GangNode *gn = gang_node_new (row->node, row->rank, row->alloc,
                                            row->started, row->finished);
        if (!gn)
            return c->err = -ENOMEM;
        ai->gang[ai->n_gang++] = gn;
        return 0;
    }
    return 0;
}

void
yard__gang_attempts (yard_server_t *s, const yard_job_t *job,
                     Yard__JobInfo *info)
{
    if (!yard_job_is_gang (job) || info->n_attempts == 0)
        return;
    struct hist_ctx c = { info, job->spec->nodes, 0 };
    if (yard_store_gang_get (s->store, job->id, hist_row, &c) < 0 || c.err)
        log_warn ("job %" PRIu64 ": cannot read where its attempts ran",
                  job->id);
}

static void
free_nodes (Yard__GangNode **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        yard_alloc_free (&v[i]->alloc);
        free (v[i]->node);
        free (v[i]);
    }
    free (v);
}

void
yard__gang_info_free (Yard__JobInfo *info)
{
    for (size_t i = 0; i < info->n_attempts; i++) {
        Yard__AttemptInfo *ai = info->attempts[i];
        if (ai && ai->gang) {
            free_nodes (ai->gang, ai->n_gang);
            ai->gang = NULL;
            ai->n_gang = 0;
        }
    }
    free_nodes (info->gang, info->n_gang);
    info->gang = NULL;
    info->n_gang = 0;
}

void
yard__gang_holdings (yard_server_t *s, yard_node_t *node, Yard__NodeInfo *ni)
{
    ni->holdings = NULL;
    ni->n_holdings = 0;
    ni->advertise_addr = (char *)node_addr (node);
    size_t n = node->place ? yard_place_count (node->place) : 0;
    if (n == 0 || !(ni->holdings = calloc (n, sizeof ni->holdings[0])))
        return;
    for (size_t i = 0; i < n; i++) {
        Yard__Holding *h = calloc (1, sizeof *h);
        if (!h)
            break;
        yard__holding__init (h);
        h->job_id = yard_place_job_at (node->place, i);
        h->alloc = (Yard__Allocation *)yard_place_get (node->place, h->job_id);
        struct yard__gang *g = gang_find (s, h->job_id);
        int r = g ? rank_of (g, node) : -1;
        if (g) {
            h->gang = true;
            h->node_rank = r > 0 ? (uint32_t)r : 0;
        }
        ni->holdings[ni->n_holdings++] = h;
    }
}

void
yard__gang_holdings_free (Yard__NodeInfo *ni)
{
    for (size_t i = 0; i < ni->n_holdings; i++)
        free (ni->holdings[i]); /* alloc is borrowed from the place */
    free (ni->holdings);
    ni->holdings = NULL;
    ni->n_holdings = 0;
}
