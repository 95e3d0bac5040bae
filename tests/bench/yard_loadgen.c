/* yard_loadgen.c - load generator for the scheduler core (scripts/bench.sh).
 *
 *   yard-loadgen CLIENT_EP WORKER_EP WORKERS PENDING MEASURE [SCHED_PID]
 *
 * 1. Submits PENDING + MEASURE `true` jobs over one DEALER, pipelined (up to
 *    WINDOW requests in flight), and reports the acknowledged submission
 *    rate.  With no worker registered yet, they all stay pending.
 * 2. Reports the scheduler's RSS (from /proc/SCHED_PID/status) per pending
 *    job, when SCHED_PID is given.
 * 3. Registers WORKERS simulated workers (one DEALER each, 1 cpu each), which
 *    answer every Dispatch at once with JobStarted and JobFinished (exit 0),
 *    and heartbeat; measures the rate of the first MEASURE completions, i.e.
 *    scheduling at a queue depth of about PENDING.
 *
 * With SCHED_PID, step 3 also reports sched_cpu_s, the scheduler's CPU time
 * (all its threads, from /proc/SCHED_PID/stat) over the measured window,
 * and sched_jobs_per_cpu_s: the rate the scheduler would reach with a core
 * to itself.  On a small shared machine the load generator's own work
 * (polling its simulated workers) and other processes take the rest.
 *
 * Output: one line of key=value pairs.  It speaks the wire protocol directly
 * (common/msg.h) because libyard's calls are one request at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "msg.h"
#include "util.h"

#define WINDOW 4000

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
    env.body_case = YARD__ENVELOPE__BODY_WORKER_REGISTER;
    env.worker_register = &r;
    sim_send (w, &env);
}

/* Answer a dispatch as a worker whose job ends at once. */
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

int
main (int argc, char **argv)
{
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
    zmq_pollitem_t *pi = calloc ((size_t)nworkers, sizeof *pi);
    uint64_t instance = (uint64_t)time (NULL) << 20;
    for (long i = 0; i < nworkers; i++) {
        snprintf (ws[i].name, sizeof ws[i].name, "sim%05ld", i);
        ws[i].sock = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (ws[i].sock, ZMQ_LINGER, &linger, sizeof linger);
        if (!ws[i].sock || zmq_connect (ws[i].sock, argv[2]) < 0)
            die ("worker connect", -errno);
        pi[i].socket = ws[i].sock;
        pi[i].events = ZMQ_POLLIN;
        sim_register (&ws[i], instance + (uint64_t)i);
    }
    long done = 0;
    double t_first = 0, t_last_hb = now_s (), cpu_first = 0;
    while (done < measure) {
        if (zmq_poll (pi, (int)nworkers, 30000) <= 0) {
            fprintf (stderr, "yard-loadgen: no dispatch for 30 s (%ld of %ld "
                     "done)\n", done, measure);
            return 1;
        }
        for (long i = 0; i < nworkers; i++) {
            if (!(pi[i].revents & ZMQ_POLLIN))
                continue;
            yard_env_t *e;
            while (yard_msg_recv (ws[i].sock, NULL, &e, NULL) == 0) {
                if (e->body_case == YARD__ENVELOPE__BODY_DISPATCH
                    && e->dispatch) {
                    if (t_first == 0) {
                        t_first = now_s ();
                        cpu_first = pid > 0 ? cpu_s (pid) : 0;
                    }
                    sim_run (&ws[i], e->dispatch);
                    done++;
                }
                yard_msg_free (&e);
            }
        }
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
            t_last_hb = t;
        }
    }
    double dt = now_s () - t_first;
    double cpu = pid > 0 ? cpu_s (pid) - cpu_first : 0;
    printf ("workers=%ld pending=%ld completed=%ld sched_s=%.3f "
            "sched_jobs_per_s=%.0f", nworkers, pending, done, dt,
            (double)done / dt);
    if (pid > 0 && cpu > 0)
        printf (" sched_cpu_s=%.2f sched_jobs_per_cpu_s=%.0f", cpu,
                (double)done / cpu);
    printf ("\n");
    for (long i = 0; i < nworkers; i++)
        zmq_close (ws[i].sock);
    free (ws);
    free (pi);
    zmq_ctx_term (ctx);
    return 0;
}
