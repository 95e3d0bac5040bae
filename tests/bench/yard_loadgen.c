/* yard_loadgen.c - load generator for the scheduler core (scripts/bench.sh).
 *
 *   yard-loadgen CLIENT_EP WORKER_EP WORKERS PENDING MEASURE [SCHED_PID]
 *
 * 1. Submits PENDING + MEASURE `true` jobs over one DEALER, pipelined (up to
 *    WINDOW requests in flight), and reports the acknowledged submission
 *    rate.  With no worker registered yet, they all stay pending.  With
 *    YARD_LOADGEN_ENV_BYTES=N in the environment, each job's spec carries
 *    one environment variable of N bytes (real jobs carry their
 *    environment; the default spec is a dozen bytes).
 * 2. Reports the scheduler's RSS (from /proc/SCHED_PID/status) per pending
 *    job, when SCHED_PID is given.
 * 3. Registers WORKERS simulated workers (one DEALER each, 1 cpu each), which
 *    answer every Dispatch at once with JobFinished (exit 0, with its start,
 *    as yard-worker reports a job that ends within WORKER_START_REPORT_MS),
 *    read the JobFinishedAcks that ride in their next Dispatch
 *    (dispatch_acks), and heartbeat; measures the rate of the first MEASURE
 *    completions, i.e. scheduling at a queue depth of about PENDING.  With
 *    YARD_LOADGEN_LEGACY=1 they speak as workers did before dispatch_acks
 *    and the held JobStarted: JobStarted and JobFinished for each job, each
 *    acknowledged by a JobFinishedAck of its own.
 *
 *    Meanwhile one more client submits one job at a time (the next once
 *    the last is acknowledged) and reports the acknowledgement latency
 *    under that load: probe_submits, probe_p50_ms, probe_p99_ms.  That
 *    probe shares the simulated workers' polling loop, so its figure
 *    includes one polling round of the load generator.  A second client,
 *    on a thread of its own (as a separate client process would be), does
 *    the same: client_submits, client_p50_ms, client_p99_ms.  It has a
 *    ZeroMQ context of its own, as a client process has: its messages do
 *    not wait in the I/O thread that carries the thousand simulated
 *    workers' traffic.
 * With SCHED_PID, step 3 also reports sched_cpu_s, the scheduler's CPU time
 * (all its threads, from /proc/SCHED_PID/stat) over the measured window,
 * and sched_jobs_per_cpu_s: the rate the scheduler would reach with a core
 * to itself.  On a small shared machine the load generator's own work
 * (polling its simulated workers) and other processes take the rest.
 *
 *   yard-loadgen --metrics CLIENT_EP WORKER_EP JOBS POINTS [SCHED_PID]
 *
 * Metrics mode: submits JOBS jobs and registers JOBS simulated workers (1
 * cpu each); each worker answers its Dispatch with JobStarted, then sends
 * its job's metric points in MetricsBatch messages of METRICS_BATCH points
 * (the next once the last is acknowledged, as yard-worker does) until the
 * scheduler holds POINTS of them, then JobFinished.  Reports the points
 * stored (acknowledged, so committed) per second over all jobs.
 *
 * Output: one line of key=value pairs.  It speaks the wire protocol directly
 * (common/msg.h) because libyard's calls are one request at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "msg.h"
#include "util.h"

#define WINDOW 4000

static bool legacy; /* YARD_LOADGEN_LEGACY: the older worker protocol */

/* Which of many zmq sockets have messages, without asking every one of them
 * each round as zmq_poll does (over 1,000 sockets that costs the load
 * generator as much CPU as the scheduler's whole work, on the same cores).
 * Their ZMQ_FDs sit in one epoll set.  ZMQ_FD is edge-triggered: a socket
 * stays listed until it is drained, and a socket is looked at again after
 * sends (a send can take the wake-up of a message that arrived meanwhile). */
struct zset {
    int ep;
    void **socks;
    long n;
    char *listed;
    long *ready;
    long nready;
};

static void
zset_init (struct zset *z, void **socks, long n)
{
    z->ep = epoll_create1 (EPOLL_CLOEXEC);
    z->socks = socks;
    z->n = n;
    z->listed = calloc ((size_t)n, 1);
    z->ready = calloc ((size_t)n, sizeof *z->ready);
    z->nready = 0;
    if (z->ep < 0 || !z->listed || !z->ready) {
        fprintf (stderr, "yard-loadgen: epoll set: %s\n", strerror (errno));
        exit (1);
    }
    for (long i = 0; i < n; i++) {
        int fd;
        size_t len = sizeof fd;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
                                 .data.u64 = (uint64_t)i};
        if (zmq_getsockopt (socks[i], ZMQ_FD, &fd, &len) < 0
            || epoll_ctl (z->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf (stderr, "yard-loadgen: epoll add: %s\n",
                     strerror (errno));
            exit (1);
        }
    }
}

static void
zset_list (struct zset *z, long i)
{
    if (!z->listed[i]) {
        z->listed[i] = 1;
        z->ready[z->nready++] = i;
    }
}

/* List socket i when a message waits on it. */
static void
zset_check (struct zset *z, long i)
{
    int ev = 0;
    size_t len = sizeof ev;
    if (zmq_getsockopt (z->socks[i], ZMQ_EVENTS, &ev, &len) == 0
        && (ev & ZMQ_POLLIN))
        zset_list (z, i);
}

/* Wait up to timeout_ms for listed sockets; move them to out (n entries
 * of room) and return how many, 0 on timeout. */
static long
zset_take (struct zset *z, long *out, int timeout_ms)
{
    struct epoll_event evs[256];
    int k = epoll_wait (z->ep, evs, 256, z->nready ? 0 : timeout_ms);
    for (int j = 0; j < k; j++)
        zset_list (z, (long)evs[j].data.u64);
    long m = z->nready;
    for (long j = 0; j < m; j++) {
        out[j] = z->ready[j];
        z->listed[out[j]] = 0;
    }
    z->nready = 0;
    return m;
}

static void
zset_free (struct zset *z)
{
    close (z->ep);
    free (z->listed);
    free (z->ready);
}

static double
now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
rss_kib (long pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen (path, "r");
    long kib = -1;
    if (!f)
        return -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose (f);
    return kib;
}

/* utime + stime of pid in seconds, or -1. */
static double
cpu_s (long pid)
{
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    const char *p = strrchr (buf, ')'); /* the name may hold spaces */
    unsigned long long ut, st;
    if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                             "%llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf (_SC_CLK_TCK);
}

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
die (const char *what, int rc)
{
    fprintf (stderr, "yard-loadgen: %s: %s\n", what, strerror (-rc));
    exit (1);
}

static int
submit_all (void *ctx, const char *ep, long n)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    int hwm = 0;
    zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_connect (s, ep) < 0)
        die ("connect", -errno);
    char *argv[] = {"true"};
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    spec.name = "load";
    spec.argv = argv;
    spec.n_argv = 1;
    /* YARD_LOADGEN_ENV_BYTES=N: each job also carries an environment
     * variable of N bytes, as real jobs carry their environment */
    const char *envb = getenv ("YARD_LOADGEN_ENV_BYTES");
    long pad = envb ? strtol (envb, NULL, 10) : 0;
    Yard__EnvVar ev = YARD__ENV_VAR__INIT;
    Yard__EnvVar *evp[] = {&ev};
    char *padv = NULL;
    if (pad > 0 && pad < (1L << 20)) {
        if (!(padv = malloc ((size_t)pad + 1)))
            die ("malloc", -ENOMEM);
        memset (padv, 'x', (size_t)pad);
        padv[pad] = '\0';
        ev.key = "PAD";
        ev.value = padv;
        spec.env = evp;
        spec.n_env = 1;
    }
    Yard__SubmitRequest sub = YARD__SUBMIT_REQUEST__INIT;
    sub.spec = &spec;
    long sent = 0, acked = 0;
    double t0 = now_s ();
    while (acked < n) {
        while (sent < n && sent - acked < WINDOW) {
            yard_env_t env = YARD__ENVELOPE__INIT;
            env.request_id = (uint64_t)sent + 1;
            env.body_case = YARD__ENVELOPE__BODY_SUBMIT;
            env.submit = &sub;
            int rc = yard_msg_send (s, NULL, &env);
            if (rc == -EAGAIN)
                break;
            if (rc < 0)
                die ("send", rc);
            sent++;
        }
        zmq_pollitem_t pi = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&pi, 1, 30000) <= 0) {
            fprintf (stderr, "yard-loadgen: no reply for 30 s (%ld of %ld "
                     "acked)\n", acked, n);
            exit (1);
        }
        yard_env_t *r;
        while (yard_msg_recv (s, NULL, &r, NULL) == 0) {
            if (r->body_case != YARD__ENVELOPE__BODY_SUBMIT_REPLY) {
                fprintf (stderr, "yard-loadgen: submit refused: %s\n",
                         r->body_case == YARD__ENVELOPE__BODY_ERROR
                             ? r->error->message : "?");
                exit (1);
            }
            yard_msg_free (&r);
            acked++;
        }
    }
    double dt = now_s () - t0;
    zmq_close (s);
    free (padv);
    printf ("submitted=%ld submit_s=%.3f submit_per_s=%.0f ", n, dt,
            (double)n / dt);
    return 0;
}

struct simworker {
    void *sock;
    char name[32];
};

static void
sim_send (struct simworker *w, yard_env_t *env)
{
    int rc = yard_msg_send (w->sock, NULL, env);
    if (rc < 0 && rc != -EAGAIN)
        die ("worker send", rc);
}

static void
sim_register (struct simworker *w, uint64_t instance)
{
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__WorkerRegister r = YARD__WORKER_REGISTER__INIT;
    r.name = w->name;
    r.instance = instance;
    r.hostname = "loadgen";
    r.version = YARD_VERSION;
    r.cpus = 1;
    r.memory_bytes = 1ULL << 30;
    r.dispatch_acks = !legacy;
    env.body_case = YARD__ENVELOPE__BODY_WORKER_REGISTER;
    env.worker_register = &r;
    sim_send (w, &env);
}

/* Answer a dispatch as a worker whose job ends at once: its start rides in
 * the JobFinished, as yard-worker sends it for a short job. */
static void
sim_run (struct simworker *w, const Yard__Dispatch *d)
{
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__JobStarted st = YARD__JOB_STARTED__INIT;
    st.job_id = d->job_id;
    st.attempt = d->attempt;
    st.pid = 1;
    st.start_time_ms = yard_now_ms ();
    env.body_case = YARD__ENVELOPE__BODY_JOB_STARTED;
    env.job_started = &st;
    if (legacy)
        sim_send (w, &env);
    yard_env_t env2 = YARD__ENVELOPE__INIT;
    Yard__JobFinished f = YARD__JOB_FINISHED__INIT;
    f.job_id = d->job_id;
    f.attempt = d->attempt;
    f.reason = YARD__END_REASON__END_EXITED;
    f.start_time_ms = st.start_time_ms;
    f.end_time_ms = yard_now_ms ();
    env2.body_case = YARD__ENVELOPE__BODY_JOB_FINISHED;
    env2.job_finished = &f;
    sim_send (w, &env2);
}

#define METRICS_BATCH 1000

struct simjob {
    uint64_t job_id;
    uint32_t attempt;
    uint64_t acked;   /* points the scheduler holds */
    bool running;
};

static void
sim_batch (struct simworker *w, struct simjob *j, long points,
           Yard__MetricPoint *pts, Yard__MetricPoint **ptrs)
{
    size_t n = 0;
    int64_t now = yard_now_ms ();
    for (uint64_t seq = j->acked;
         seq < (uint64_t)points && n < METRICS_BATCH; seq++, n++) {
        Yard__MetricPoint *p = &pts[n];
        yard__metric_point__init (p);
        p->step = (int64_t)seq;
        p->key = seq % 2 ? "loss" : "accuracy";
        p->value = 1.0 / (double)(seq + 1);
        p->time_ms = now;
        p->seq = seq;
        ptrs[n] = p;
    }
    Yard__MetricsBatch b = YARD__METRICS_BATCH__INIT;
    b.job_id = j->job_id;
    b.attempt = j->attempt;
    b.first_seq = j->acked;
    b.next_seq = j->acked + n;
    b.n_points = n;
    b.points = ptrs;
    yard_env_t env = YARD__ENVELOPE__INIT;
    env.body_case = YARD__ENVELOPE__BODY_METRICS_BATCH;
    env.metrics_batch = &b;
    sim_send (w, &env);
}

static void
sim_finish (struct simworker *w, const struct simjob *j)
{
    yard_env_t env = YARD__ENVELOPE__INIT;
    Yard__JobFinished f = YARD__JOB_FINISHED__INIT;
    f.job_id = j->job_id;
    f.attempt = j->attempt;
    f.reason = YARD__END_REASON__END_EXITED;
    f.end_time_ms = yard_now_ms ();
    env.body_case = YARD__ENVELOPE__BODY_JOB_FINISHED;
    env.job_finished = &f;
    sim_send (w, &env);
}

static int
metrics_main (int argc, char **argv)
{
    if (argc < 6) {
        fprintf (stderr, "usage: yard-loadgen --metrics CLIENT_EP WORKER_EP "
                 "JOBS POINTS [SCHED_PID]\n");
        return 2;
    }
    long njobs = strtol (argv[4], NULL, 10);
    long points = strtol (argv[5], NULL, 10);
    long pid = argc > 6 ? strtol (argv[6], NULL, 10) : 0;
    if (njobs <= 0 || points <= 0)
        return 2;
    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, (int)njobs + 64);
    submit_all (ctx, argv[2], njobs);
    struct simworker *ws = calloc ((size_t)njobs, sizeof *ws);
    struct simjob *js = calloc ((size_t)njobs, sizeof *js);
    zmq_pollitem_t *pi = calloc ((size_t)njobs, sizeof *pi);
    Yard__MetricPoint *pts = calloc (METRICS_BATCH, sizeof *pts);
    Yard__MetricPoint **ptrs = calloc (METRICS_BATCH, sizeof *ptrs);
    if (!ws || !js || !pi || !pts || !ptrs)
        die ("calloc", -ENOMEM);
    uint64_t instance = (uint64_t)time (NULL) << 20;
    for (long i = 0; i < njobs; i++) {
        snprintf (ws[i].name, sizeof ws[i].name, "met%05ld", i);
        ws[i].sock = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (ws[i].sock, ZMQ_LINGER, &linger, sizeof linger);
        if (!ws[i].sock || zmq_connect (ws[i].sock, argv[3]) < 0)
            die ("worker connect", -errno);
        pi[i].socket = ws[i].sock;
        pi[i].events = ZMQ_POLLIN;
        sim_register (&ws[i], instance + (uint64_t)i);
    }
    long finished = 0;
    uint64_t stored = 0;
    double t0 = 0, t_last_hb = now_s (), cpu0 = 0;
    while (finished < njobs) {
        if (zmq_poll (pi, (int)njobs, 30000) <= 0) {
            fprintf (stderr, "yard-loadgen: nothing for 30 s (%ld of %ld "
                     "jobs done)\n", finished, njobs);
            return 1;
        }
        for (long i = 0; i < njobs; i++) {
            if (!(pi[i].revents & ZMQ_POLLIN))
                continue;
            yard_env_t *e;
            while (yard_msg_recv (ws[i].sock, NULL, &e, NULL) == 0) {
                struct simjob *j = &js[i];
                if (e->body_case == YARD__ENVELOPE__BODY_DISPATCH
                    && e->dispatch && !j->running) {
                    j->job_id = e->dispatch->job_id;
                    j->attempt = e->dispatch->attempt;
                    j->running = true;
                    yard_env_t env = YARD__ENVELOPE__INIT;
                    Yard__JobStarted st = YARD__JOB_STARTED__INIT;
                    st.job_id = j->job_id;
                    st.attempt = j->attempt;
                    st.pid = 1;
                    st.start_time_ms = yard_now_ms ();
                    env.body_case = YARD__ENVELOPE__BODY_JOB_STARTED;
                    env.job_started = &st;
                    sim_send (&ws[i], &env);
                    if (t0 == 0) {
                        t0 = now_s ();
                        cpu0 = pid > 0 ? cpu_s (pid) : 0;
                    }
                    sim_batch (&ws[i], j, points, pts, ptrs);
                } else if (e->body_case == YARD__ENVELOPE__BODY_METRICS_ACK
                           && e->metrics_ack && j->running
                           && e->metrics_ack->job_id == j->job_id) {
                    uint64_t next = e->metrics_ack->next_seq;
                    if (next > j->acked) {
                        stored += next - j->acked;
                        j->acked = next;
                    }
                    if (j->acked >= (uint64_t)points) {
                        sim_finish (&ws[i], j);
                        j->running = false;
                        finished++;
                    } else {
                        sim_batch (&ws[i], j, points, pts, ptrs);
                    }
                }
                yard_msg_free (&e);
            }
        }
        double t = now_s ();
        if (t - t_last_hb > 1.0) {
            for (long i = 0; i < njobs; i++) {
                yard_env_t env = YARD__ENVELOPE__INIT;
                Yard__Heartbeat hb = YARD__HEARTBEAT__INIT;
                hb.name = ws[i].name;
                hb.instance = instance + (uint64_t)i;
                env.body_case = YARD__ENVELOPE__BODY_HEARTBEAT;
                env.heartbeat = &hb;
                sim_send (&ws[i], &env);
            }
            t_last_hb = t;
        }
    }
    double dt = now_s () - t0;
    printf ("metric_jobs=%ld points_stored=%" PRIu64 " metrics_s=%.3f "
            "points_per_s=%.0f", njobs, stored, dt, (double)stored / dt);
    double cpu = pid > 0 ? cpu_s (pid) - cpu0 : 0;
    if (cpu > 0)
        printf (" sched_cpu_s=%.2f points_per_cpu_s=%.0f", cpu,
                (double)stored / cpu);
    printf ("\n");
    for (long i = 0; i < njobs; i++)
        zmq_close (ws[i].sock);
    free (ws);
    free (js);
    free (pi);
    free (pts);
    free (ptrs);
    zmq_ctx_term (ctx);
    return 0;
}

/* The client on a thread of its own, with a ZeroMQ context of its own
 * (its own I/O thread, as a client process has): one submission at a
 * time, each acknowledgement's latency recorded, until told to stop. */
struct client_probe {
    const char *endpoint;
    atomic_bool stop;
    double *ms;
    size_t n, cap;
    int rc;
};

static void *
client_probe_main (void *arg)
{
    struct client_probe *c = arg;
    void *ctx = zmq_ctx_new ();
    void *sock = ctx ? zmq_socket (ctx, ZMQ_DEALER) : NULL;
    int linger = 0;
    if (!sock
        || zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger) < 0
        || zmq_connect (sock, c->endpoint) < 0) {
        c->rc = -errno;
        if (sock)
            zmq_close (sock);
        if (ctx)
            zmq_ctx_term (ctx);
        return NULL;
    }
    char *cargv[] = {"true"};
    Yard__JobSpec spec = YARD__JOB_SPEC__INIT;
    spec.name = "client-probe";
    spec.argv = cargv;
    spec.n_argv = 1;
    Yard__SubmitRequest sub = YARD__SUBMIT_REQUEST__INIT;
    sub.spec = &spec;
    uint64_t id = 0;
    while (!atomic_load (&c->stop)) {
        yard_env_t env = YARD__ENVELOPE__INIT;
        env.request_id = ++id;
        env.body_case = YARD__ENVELOPE__BODY_SUBMIT;
        env.submit = &sub;
        double t0 = now_s ();
        if (yard_msg_send (sock, NULL, &env) < 0) {
            c->rc = -EIO;
            break;
        }
        bool got = false;
        while (!got && !atomic_load (&c->stop)) {
            zmq_pollitem_t item = {.socket = sock, .events = ZMQ_POLLIN};
            if (zmq_poll (&item, 1, 100) <= 0)
                continue; /* look at the stop flag again */
            yard_env_t *r;
            while (yard_msg_recv (sock, NULL, &r, NULL) == 0) {
                bool ok = r->body_case == YARD__ENVELOPE__BODY_SUBMIT_REPLY
                          && r->request_id == id;
                yard_msg_free (&r);
                if (!ok) {
                    c->rc = -EIO;
                    atomic_store (&c->stop, true);
                    break;
                }
                got = true;
                if (c->n < c->cap)
                    c->ms[c->n++] = (now_s () - t0) * 1000;
            }
        }
    }
    zmq_close (sock);
    zmq_ctx_term (ctx);
    return NULL;
}

int
main (int argc, char **argv)
{
    const char *lg = getenv ("YARD_LOADGEN_LEGACY");
    legacy = lg && *lg && strcmp (lg, "0") != 0;
    if (argc > 1 && strcmp (argv[1], "--metrics") == 0)
        return metrics_main (argc, argv);
    if (argc < 6) {
        fprintf (stderr, "usage: yard-loadgen CLIENT_EP WORKER_EP WORKERS "
                 "PENDING MEASURE [SCHED_PID]\n");
        return 2;
    }
    long nworkers = strtol (argv[3], NULL, 10);
    long pending = strtol (argv[4], NULL, 10);
    long measure = strtol (argv[5], NULL, 10);
    long pid = argc > 6 ? strtol (argv[6], NULL, 10) : 0;
    if (nworkers <= 0 || pending < 0 || measure <= 0)
        return 2;
    void *ctx = zmq_ctx_new ();
    int maxs = (int)nworkers + 64;
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, maxs);

    submit_all (ctx, argv[1], pending + measure);
    if (pid > 0) {
        long kib = rss_kib (pid);
        printf ("sched_rss_mib=%.1f rss_bytes_per_pending=%.0f ",
                kib / 1024.0, kib * 1024.0 / (double)(pending + measure));
    }

    struct simworker *ws = calloc ((size_t)nworkers, sizeof *ws);
    /* the probe: one client submitting one job at a time */
    void *probe = zmq_socket (ctx, ZMQ_DEALER);
    int probe_linger = 0;
    if (!probe
        || zmq_setsockopt (probe, ZMQ_LINGER, &probe_linger,
                           sizeof probe_linger) < 0
        || zmq_connect (probe, argv[1]) < 0)
        die ("probe connect", -errno);
    char *probe_argv[] = {"true"};
    Yard__JobSpec probe_spec = YARD__JOB_SPEC__INIT;
    probe_spec.name = "probe";
    probe_spec.argv = probe_argv;
    probe_spec.n_argv = 1;
    Yard__SubmitRequest probe_sub = YARD__SUBMIT_REQUEST__INIT;
    probe_sub.spec = &probe_spec;
    size_t nprobe = 0, probe_cap = 1 << 16;
    double *probe_ms = calloc (probe_cap, sizeof *probe_ms);
    double probe_t0 = 0;
    bool probe_busy = false;
    struct client_probe cp = {.endpoint = argv[1],
                              .cap = 1 << 16};
    cp.ms = calloc (cp.cap, sizeof *cp.ms);
    atomic_init (&cp.stop, false);
    pthread_t cp_thread;
    bool cp_started = false;
    if (!ws || !probe_ms || !cp.ms)
        die ("calloc", -ENOMEM);
    uint64_t instance = (uint64_t)time (NULL) << 20;
    for (long i = 0; i < nworkers; i++) {
        snprintf (ws[i].name, sizeof ws[i].name, "sim%05ld", i);
        ws[i].sock = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (ws[i].sock, ZMQ_LINGER, &linger, sizeof linger);
        if (!ws[i].sock || zmq_connect (ws[i].sock, argv[2]) < 0)
            die ("worker connect", -errno);
        sim_register (&ws[i], instance + (uint64_t)i);
    }
    void **socks = calloc ((size_t)nworkers + 1, sizeof *socks);
    long *ready = calloc ((size_t)nworkers + 1, sizeof *ready);
    if (!socks || !ready)
        die ("calloc", -ENOMEM);
    for (long i = 0; i < nworkers; i++)
        socks[i] = ws[i].sock;
    socks[nworkers] = probe;
    struct zset zs;
    zset_init (&zs, socks, nworkers + 1);
    for (long i = 0; i <= nworkers; i++)
        zset_check (&zs, i);
    long done = 0;
    double t_first = 0, t_last_hb = now_s (), cpu_first = 0;
    while (done < measure) {
        if (t_first > 0 && !probe_busy) {
            yard_env_t env = YARD__ENVELOPE__INIT;
            env.request_id = nprobe + 1;
            env.body_case = YARD__ENVELOPE__BODY_SUBMIT;
            env.submit = &probe_sub;
            probe_t0 = now_s ();
            if (yard_msg_send (probe, NULL, &env) == 0)
                probe_busy = true;
        }
        long nready = zset_take (&zs, ready, 30000);
        if (nready == 0) {
            fprintf (stderr, "yard-loadgen: no dispatch for 30 s (%ld of %ld "
                     "done)\n", done, measure);
            return 1;
        }
        for (long r = 0; r < nready; r++) {
            long i = ready[r];
            if (i == nworkers)
                continue; /* the probe, below */
            yard_env_t *e;
            while (yard_msg_recv (ws[i].sock, NULL, &e, NULL) == 0) {
                if (e->body_case == YARD__ENVELOPE__BODY_DISPATCH
                    && e->dispatch) {
                    if (t_first == 0) {
                        t_first = now_s ();
                        cpu_first = pid > 0 ? cpu_s (pid) : 0;
                        if (pthread_create (&cp_thread, NULL,
                                            client_probe_main, &cp) != 0)
                            die ("client probe thread", -EAGAIN);
                        cp_started = true;
                    }
                    sim_run (&ws[i], e->dispatch);
                    done++;
                }
                yard_msg_free (&e);
            }
            zset_check (&zs, i);
        }
        yard_env_t *pr;
        while (probe_busy && yard_msg_recv (probe, NULL, &pr, NULL) == 0) {
            if (pr->body_case != YARD__ENVELOPE__BODY_SUBMIT_REPLY)
                die ("probe submit refused", -EIO);
            if (nprobe < probe_cap)
                probe_ms[nprobe++] = (now_s () - probe_t0) * 1000;
            yard_msg_free (&pr);
            probe_busy = false;
        }
        zset_check (&zs, nworkers);
        double t = now_s ();
        if (t - t_last_hb > 1.0) { /* keep every simulated worker alive */
            for (long i = 0; i < nworkers; i++) {
                yard_env_t env = YARD__ENVELOPE__INIT;
                Yard__Heartbeat hb = YARD__HEARTBEAT__INIT;
                hb.name = ws[i].name;
                hb.instance = instance + (uint64_t)i;
                env.body_case = YARD__ENVELOPE__BODY_HEARTBEAT;
                env.heartbeat = &hb;
                sim_send (&ws[i], &env);
            }
            for (long i = 0; i <= nworkers; i++)
                zset_check (&zs, i);
            t_last_hb = t;
        }
    }
    double dt = now_s () - t_first;
    double cpu = pid > 0 ? cpu_s (pid) - cpu_first : 0;
    if (cp_started) {
        atomic_store (&cp.stop, true);
        pthread_join (cp_thread, NULL);
        if (cp.rc < 0)
            die ("client probe", cp.rc);
    }
    printf ("workers=%ld pending=%ld completed=%ld sched_s=%.3f "
            "sched_jobs_per_s=%.0f", nworkers, pending, done, dt,
            (double)done / dt);
    if (pid > 0 && cpu > 0)
        printf (" sched_cpu_s=%.2f sched_jobs_per_cpu_s=%.0f", cpu,
                (double)done / cpu);
    if (nprobe > 0) {
        qsort (probe_ms, nprobe, sizeof probe_ms[0], cmp_double);
        printf (" probe_submits=%zu probe_p50_ms=%.2f probe_p99_ms=%.2f",
                nprobe, probe_ms[nprobe / 2],
                probe_ms[(size_t)((double)(nprobe - 1) * 0.99)]);
    }
    if (cp.n > 0) {
        qsort (cp.ms, cp.n, sizeof cp.ms[0], cmp_double);
        printf (" client_submits=%zu client_p50_ms=%.2f client_p99_ms=%.2f",
                cp.n, cp.ms[cp.n / 2],
                cp.ms[(size_t)((double)(cp.n - 1) * 0.99)]);
    }
    printf ("\n");
    zmq_close (probe);
    free (probe_ms);
    free (cp.ms);
    for (long i = 0; i < nworkers; i++)
        zmq_close (ws[i].sock);
    free (ws);
    zset_free (&zs);
    free (socks);
    free (ready);
    zmq_ctx_term (ctx);
    return 0;
}
