/* yard_bench.c - load generator and measurements for scripts/bench.sh.
 *
 *   yard-bench throughput N     submit N `true` jobs through libyard, wait for
 *                               all; prints wall time and jobs/s
 *   yard-bench array N          the same N jobs as one array submission
 *   yard-bench submit-array N [R]  R array submissions of N jobs each, not
 *                               waited for (on a cluster with no worker, the
 *                               jobs stay pending); prints the median rate
 *                               of acknowledged (committed) submission
 *   yard-bench submit-many N [R]  R rounds of N different jobs through
 *                               yard_submit_many (pipelined, each job
 *                               acknowledged once committed), not waited
 *                               for; prints the median rate
 *   yard-bench submit-one N [R]  the same through yard_submit, one job
 *                               after the other
 *   yard-bench latency N        N times on an idle cluster: submit a job that
 *                               prints its own start time (date +%s%N), wait,
 *                               read it back; prints submit-to-start p50/p99
 *   yard-bench forkexec N [P]   the machine's raw fork/exec/wait rate for
 *                               `true` with P children at once (default 2)
 *   yard-bench startlat N       the raw counterpart of latency: N times,
 *                               spawn `date +%s.%N` with its stdout on a
 *                               pipe and read it back; prints the
 *                               spawn-to-start p50/p99
 *
 * The scheduler comes from $YARD_SCHEDULER.  Output is one line of
 * key=value pairs, for the bench script to collect.
 */
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <yard/yard.h>

extern char **environ;

static double
now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
percentile (double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static yard_client_t *
connect_or_die (void)
{
    yard_client_t *c = yard_client_create (NULL);
    if (!c) {
        perror ("yard_client_create");
        exit (1);
    }
    yard_client_set_timeout (c, 30000);
    return c;
}

static int
throughput (long n, bool as_array)
{
    yard_client_t *c = connect_or_die ();
    uint64_t *ids = calloc ((size_t)n, sizeof *ids);
    char *argv[] = {"true", NULL};
    yard_job_spec_t spec = {.name = "bench", .argv = argv, .argc = 1};
    double t0 = now_s ();
    if (as_array) {
        uint64_t *got = NULL;
        size_t count = 0;
        spec.array = true;
        spec.array_first = 0;
        spec.array_last = (uint32_t)(n - 1);
        if (yard_submit_array (c, &spec, &got, &count) < 0
            || count != (size_t)n) {
            fprintf (stderr, "submit: %s\n", yard_client_errmsg (c));
            return 1;
        }
        memcpy (ids, got, (size_t)n * sizeof *ids);
        free (got);
    }
    for (long i = 0; !as_array && i < n; i++) {
        if (yard_submit (c, &spec, &ids[i]) < 0) {
            fprintf (stderr, "submit: %s\n", yard_client_errmsg (c));
            return 1;
        }
    }
    double t_sub = now_s ();
    int failed = 0;
    for (long i = 0; i < n; i++) {
        yard_job_t *job = NULL;
        if (yard_wait (c, ids[i], -1, &job) < 0) {
            fprintf (stderr, "wait: %s\n", yard_client_errmsg (c));
            return 1;
        }
        if (job->state != YARD_JOB_COMPLETED)
            failed++;
        yard_job_free (&job);
    }
    double t1 = now_s ();
    printf ("jobs=%ld failed=%d submit_s=%.3f wall_s=%.3f jobs_per_s=%.1f\n",
            n, failed, t_sub - t0, t1 - t0, (double)n / (t1 - t0));
    free (ids);
    yard_client_destroy (&c);
    return failed ? 1 : 0;
}

/* The median of r rounds of n jobs each (t: their times, sorted here). */
static void
report_rounds (long n, long r, double *t)
{
    qsort (t, (size_t)r, sizeof *t, cmp_double);
    double med = percentile (t, (size_t)r, 0.5);
    printf ("jobs=%ld runs=%ld submit_s=%.4f min_s=%.4f jobs_per_s=%.0f\n",
            n, r, med, t[0], (double)n / med);
    free (t);
}

/* R arrays of n jobs, each acknowledged once committed; the median
 * submission time.  Nothing waits for the jobs: without workers they stay
 * pending, so the scheduler's only work is the submission itself. */
static int
submit_array (long n, long r)
{
    yard_client_t *c = connect_or_die ();
    char *argv[] = {"true", NULL};
    yard_job_spec_t spec = {.name = "bench", .argv = argv, .argc = 1};
    spec.array = true;
    spec.array_first = 0;
    spec.array_last = (uint32_t)(n - 1);
    if (r < 1)
        r = 1;
    double *t = calloc ((size_t)r, sizeof *t);
    if (!t)
        return 1;
    for (long i = 0; i < r; i++) {
        uint64_t *got = NULL;
        size_t count = 0;
        double t0 = now_s ();
        if (yard_submit_array (c, &spec, &got, &count) < 0
            || count != (size_t)n) {
            fprintf (stderr, "submit: %s\n", yard_client_errmsg (c));
            return 1;
        }
        t[i] = now_s () - t0;
        free (got);
    }
    report_rounds (n, r, t);
    yard_client_destroy (&c);
    return 0;
}

/* R rounds of n different jobs (`true I`) through yard_submit_many, each
 * job acknowledged on its own once committed, or with one, through
 * yard_submit one after another; the median round.  As for submit_array,
 * nothing waits for the jobs. */
static int
submit_many (long n, long r, bool one)
{
    yard_client_t *c = connect_or_die ();
    char (*arg)[24] = calloc ((size_t)n, sizeof *arg);
    char **argvs = calloc ((size_t)n * 2, sizeof *argvs);
    yard_job_spec_t *specs = calloc ((size_t)n, sizeof *specs);
    yard_submitted_t *out = calloc ((size_t)n, sizeof *out);
    if (r < 1)
        r = 1;
    double *t = calloc ((size_t)r, sizeof *t);
    if (!arg || !argvs || !specs || !out || !t)
        return 1;
    for (long j = 0; j < n; j++) {
        snprintf (arg[j], sizeof arg[j], "%ld", j);
        argvs[2 * j] = "true";
        argvs[2 * j + 1] = arg[j];
        specs[j] = (yard_job_spec_t){.name = "bench", .argv = &argvs[2 * j],
                                     .argc = 2};
    }
    for (long i = 0; i < r; i++) {
        double t0 = now_s ();
        int got = 0;
        if (!one)
            got = yard_submit_many (c, specs, (size_t)n, out);
        else
            while (got < n
                   && yard_submit (c, &specs[got], &out[got].job_id) == 0)
                got++;
        if (got != (int)n) {
            fprintf (stderr, "submit: %d of %ld: %s\n", got, n,
                     yard_client_errmsg (c));
            return 1;
        }
        t[i] = now_s () - t0;
    }
    report_rounds (n, r, t);
    free (out);
    free (specs);
    free (argvs);
    free (arg);
    yard_client_destroy (&c);
    return 0;
}

static int
latency (long n)
{
    yard_client_t *c = connect_or_die ();
    double *lat = calloc ((size_t)n, sizeof *lat);
    char *argv[] = {"date", "+%s.%N", NULL};
    yard_job_spec_t spec = {.name = "latency", .argv = argv, .argc = 2};
    for (long i = 0; i < n; i++) {
        uint64_t id;
        double t0 = now_s ();
        if (yard_submit (c, &spec, &id) < 0) {
            fprintf (stderr, "submit: %s\n", yard_client_errmsg (c));
            return 1;
        }
        yard_job_t *job = NULL;
        if (yard_wait (c, id, -1, &job) < 0
            || job->state != YARD_JOB_COMPLETED) {
            fprintf (stderr, "job %llu did not complete\n",
                     (unsigned long long)id);
            return 1;
        }
        yard_job_free (&job);
        yard_logs_t *logs = NULL;
        if (yard_logs_read (c, id, 0, 0, 0, 0, &logs) < 0) {
            fprintf (stderr, "logs: %s\n", yard_client_errmsg (c));
            return 1;
        }
        double started = strtod ((const char *)logs->data, NULL);
        lat[i] = (started - t0) * 1000.0;
        yard_logs_free (&logs);
    }
    qsort (lat, (size_t)n, sizeof *lat, cmp_double);
    printf ("jobs=%ld p50_ms=%.2f p99_ms=%.2f min_ms=%.2f max_ms=%.2f\n", n,
            percentile (lat, (size_t)n, 0.50), percentile (lat, (size_t)n, 0.99),
            lat[0], lat[n - 1]);
    free (lat);
    yard_client_destroy (&c);
    return 0;
}

static int
forkexec (long n, long par)
{
    char *argv[] = {"true", NULL};
    long started = 0, done = 0, running = 0;
    double t0 = now_s ();
    while (done < n) {
        while (running < par && started < n) {
            pid_t pid;
            if (posix_spawnp (&pid, "true", NULL, NULL, argv, environ) != 0) {
                perror ("posix_spawnp");
                return 1;
            }
            started++;
            running++;
        }
        int st;
        if (wait (&st) > 0) {
            running--;
            done++;
        }
    }
    double t1 = now_s ();
    printf ("jobs=%ld parallel=%ld wall_s=%.3f per_s=%.1f\n", n, par, t1 - t0,
            (double)n / (t1 - t0));
    return 0;
}

static int
startlat (long n)
{
    double *lat = calloc ((size_t)n, sizeof *lat);
    char *argv[] = {"date", "+%s.%N", NULL};
    for (long i = 0; i < n; i++) {
        int fds[2];
        posix_spawn_file_actions_t fa;
        if (!lat || pipe (fds) < 0) {
            perror ("pipe");
            return 1;
        }
        posix_spawn_file_actions_init (&fa);
        posix_spawn_file_actions_adddup2 (&fa, fds[1], 1);
        posix_spawn_file_actions_addclose (&fa, fds[0]);
        pid_t pid;
        double t0 = now_s ();
        int rc = posix_spawnp (&pid, "date", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy (&fa);
        close (fds[1]);
        if (rc != 0) {
            fprintf (stderr, "posix_spawnp: %s\n", strerror (rc));
            return 1;
        }
        char buf[64];
        size_t got = 0;
        ssize_t r;
        while (got < sizeof buf - 1
               && (r = read (fds[0], buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)r;
        buf[got] = '\0';
        close (fds[0]);
        int st;
        while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
            ;
        lat[i] = (strtod (buf, NULL) - t0) * 1000.0;
    }
    qsort (lat, (size_t)n, sizeof *lat, cmp_double);
    printf ("jobs=%ld p50_ms=%.2f p99_ms=%.2f min_ms=%.2f max_ms=%.2f\n", n,
            percentile (lat, (size_t)n, 0.50), percentile (lat, (size_t)n, 0.99),
            lat[0], lat[n - 1]);
    free (lat);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: yard-bench throughput|array|latency|"
                         "startlat|forkexec|submit-array|submit-many|submit-one N "
                         "[PARALLEL|RUNS]\n");
        return 2;
    }
    long n = strtol (argv[2], NULL, 10);
    if (n <= 0) {
        fprintf (stderr, "yard-bench: N must be > 0\n");
        return 2;
    }
    if (strcmp (argv[1], "throughput") == 0)
        return throughput (n, false);
    if (strcmp (argv[1], "array") == 0)
        return throughput (n, true);
    if (strcmp (argv[1], "latency") == 0)
        return latency (n);
    if (strcmp (argv[1], "startlat") == 0)
        return startlat (n);
    if (strcmp (argv[1], "submit-array") == 0)
        return submit_array (n, argc > 3 ? strtol (argv[3], NULL, 10) : 5);
    if (strcmp (argv[1], "submit-many") == 0
        || strcmp (argv[1], "submit-one") == 0)
        return submit_many (n, argc > 3 ? strtol (argv[3], NULL, 10) : 5,
                            strcmp (argv[1], "submit-one") == 0);
    if (strcmp (argv[1], "forkexec") == 0)
        return forkexec (n, argc > 3 ? strtol (argv[3], NULL, 10) : 2);
    fprintf (stderr, "yard-bench: unknown mode '%s'\n", argv[1]);
    return 2;
}
