/* main.c - yard-scheduler: parse the command line, take the state dir's
 * lock, start the scheduler core, publish the endpoints, run the loop until
 * SIGTERM/SIGINT, tear down in reverse.
 *
 * Exit codes: 0 clean shutdown, 1 runtime error (lock held, bind or
 * database failure), 2 usage or configuration error.
 *
 * The endpoints file (STATE_DIR/endpoints) is the readiness signal: it is
 * removed before binding and written, atomically, only once the state is
 * loaded and both sockets are bound, so whoever sees it can talk to us.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <uv.h>

#include "log.h"
#include "server.h"
#include "util.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct options {
    char state_dir[PATH_MAX];
    char client_ep[512];
    char worker_ep[512];
    bool insecure;
    uint64_t worker_timeout_s;
    uint64_t heartbeat_s;
    uint64_t gc_interval_s;
    uint64_t gc_age_s;
    bool sync_full;
    bool oversubscribe;
    uint32_t ahead_wait_ms;
    int log_level;
    bool use_syslog;
};

static const char usage_text[] =
    "Usage: yard-scheduler [OPTIONS]\n"
    "\n"
    "The Trainyard scheduler: keeps the job queue (in STATE_DIR/state.db),\n"
    "places jobs on the workers, and answers the yard CLI and libyard.\n"
    "\n"
    "Options:\n"
    "  --state-dir DIR         state directory: state.db, logs/, endpoints,\n"
    "                          scheduler.pid, lock (default:\n"
    "                          $XDG_STATE_HOME/yard/scheduler, or\n"
    "                          $HOME/.local/state/yard/scheduler)\n"
    "  --client-endpoint EP    ZeroMQ endpoint for clients\n"
    "                          (default " YARD_DEFAULT_CLIENT_EP ")\n"
    "  --worker-endpoint EP    ZeroMQ endpoint for workers\n"
    "                          (default " YARD_DEFAULT_WORKER_EP ")\n"
    "                          A port of 0 (tcp://127.0.0.1:0) picks a free\n"
    "                          port; the ports bound are written to\n"
    "                          STATE_DIR/endpoints as client=EP and worker=EP.\n"
    "  --insecure              allow endpoints reachable from other machines\n"
    "                          (e.g. tcp://0.0.0.0:7700).  There is no\n"
    "                          authentication yet: anyone who reaches the\n"
    "                          port can run commands on every worker.\n"
    "  --worker-timeout DUR    declare a worker lost after DUR without a\n"
    "                          message; its jobs are requeued (default 30s)\n"
    "  --artifact-gc-interval DUR  how often unreferenced artifacts are\n"
    "                          removed from STATE_DIR/artifacts (default 10m)\n"
    "  --artifact-gc-age DUR   an unreferenced artifact younger than this is\n"
    "                          kept (an upload not yet named; default 1h)\n"
    "  --heartbeat DUR         heartbeat interval the workers are told to use\n"
    "                          (default 2s; must be below the worker timeout)\n"
    "  --oversubscribe         let jobs share cores: a job's --cpus then counts\n"
    "                          PUs (hardware threads), not whole cores; a\n"
    "                          node labelled oversubscribe gets the same\n"
    "  --dispatch-ahead MS     throughput for many short jobs: a job that\n"
    "                          finds no free slot may wait on a worker as the\n"
    "                          successor of a running job of its shape (same\n"
    "                          CPUs and GPUs, at least its memory) and start\n"
    "                          there the moment that job ends, with no round\n"
    "                          trip to the scheduler; the worker gives it back\n"
    "                          (requeued at no cost) when that job still runs\n"
    "                          after MS milliseconds (1-3600000; default 0:\n"
    "                          off)\n"
    "  --sync full|normal      full (default): every acknowledged change\n"
    "                          survives a power loss (the SQLite log is\n"
    "                          fdatasync'd by a thread of its own, one sync\n"
    "                          for the batches committed meanwhile, and\n"
    "                          nothing is answered before it); normal:\n"
    "                          answers right after the commit and may lose\n"
    "                          the last changes in a power loss (never\n"
    "                          corrupts)\n"
    "  --log-level LEVEL       err, warning, notice, info (default), debug\n"
    "  --syslog                log to syslog (journald) instead of stderr\n"
    "  --help                  show this help and exit\n"
    "  --version               show the version and exit\n"
    "\n"
    "DUR is a duration such as 30, 30s, 5m, 1h30m or HH:MM:SS.\n"
    "\n"
    "Signals: SIGTERM or SIGINT stop the scheduler cleanly.  Jobs running on\n"
    "workers are not touched by a scheduler stop or crash; the workers\n"
    "reconnect and report them when it comes back.\n"
    "\n"
    "Exit status: 0 clean shutdown, 1 runtime error (e.g. another scheduler\n"
    "holds STATE_DIR, a port is in use, the database cannot be opened),\n"
    "2 usage or configuration error.\n";

enum {
    OPT_STATE_DIR = 256,
    OPT_CLIENT_EP,
    OPT_WORKER_EP,
    OPT_INSECURE,
    OPT_WORKER_TIMEOUT,
    OPT_HEARTBEAT,
    OPT_SYNC,
    OPT_LOG_LEVEL,
    OPT_SYSLOG,
    OPT_HELP,
    OPT_VERSION,
    OPT_GC_INTERVAL,
    OPT_GC_AGE,
    OPT_OVERSUBSCRIBE,
    OPT_AHEAD,
};

static const struct option long_options[] = {
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"client-endpoint", required_argument, NULL, OPT_CLIENT_EP},
    {"worker-endpoint", required_argument, NULL, OPT_WORKER_EP},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"worker-timeout", required_argument, NULL, OPT_WORKER_TIMEOUT},
    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
    {"artifact-gc-interval", required_argument, NULL, OPT_GC_INTERVAL},
    {"artifact-gc-age", required_argument, NULL, OPT_GC_AGE},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"oversubscribe", no_argument, NULL, OPT_OVERSUBSCRIBE},
    {"dispatch-ahead", required_argument, NULL, OPT_AHEAD},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void __attribute__ ((format (printf, 1, 2), noreturn))
usage_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "yard-scheduler: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\nTry 'yard-scheduler --help' for more information.\n");
    va_end (ap);
    exit (EXIT_USAGE);
}

static void
copy_opt (char *dst, size_t len, const char *src, const char *what)
{
    if (strlen (src) >= len)
        usage_error ("%s is too long", what);
    memcpy (dst, src, strlen (src) + 1);
}

static int
default_state_dir (char *buf, size_t len)
{
    const char *xdg = getenv ("XDG_STATE_HOME");
    const char *home = getenv ("HOME");
    int n;
    if (xdg && *xdg == '/')
        n = snprintf (buf, len, "%s/yard/scheduler", xdg);
    else if (home && *home)
        n = snprintf (buf, len, "%s/.local/state/yard/scheduler", home);
    else
        return -ENOENT;
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static uint64_t
parse_dur (const char *s, const char *opt)
{
    yard_error_t err;
    uint64_t v;
    if (yard_parse_duration (s, &v, &err) < 0)
        usage_error ("%s: %s", opt, err.text);
    if (v == 0)
        usage_error ("%s must be at least 1s", opt);
    if (v > 7 * 86400)
        usage_error ("%s is too long (at most 7 days)", opt);
    return v;
}

static void
parse_args (int argc, char **argv, struct options *o)
{
    memset (o, 0, sizeof *o);
    copy_opt (o->client_ep, sizeof o->client_ep, YARD_DEFAULT_CLIENT_EP, "");
    copy_opt (o->worker_ep, sizeof o->worker_ep, YARD_DEFAULT_WORKER_EP, "");
    o->worker_timeout_s = YARD_SERVER_DEFAULT_WORKER_TIMEOUT_S;
    o->heartbeat_s = YARD_SERVER_DEFAULT_HEARTBEAT_S;
    o->sync_full = true;
    o->log_level = LOG_INFO;
    int c;
    opterr = 0;
    /* a leading ':' makes getopt tell a missing value (':') from an
     * unknown option ('?') */
    while ((c = getopt_long (argc, argv, ":", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_STATE_DIR:
            if (!*optarg)
                usage_error ("--state-dir is empty");
            copy_opt (o->state_dir, sizeof o->state_dir, optarg,
                      "--state-dir");
            break;
        case OPT_CLIENT_EP:
            copy_opt (o->client_ep, sizeof o->client_ep, optarg,
                      "--client-endpoint");
            break;
        case OPT_WORKER_EP:
            copy_opt (o->worker_ep, sizeof o->worker_ep, optarg,
                      "--worker-endpoint");
            break;
        case OPT_INSECURE:
            o->insecure = true;
            break;
        case OPT_WORKER_TIMEOUT:
            o->worker_timeout_s = parse_dur (optarg, "--worker-timeout");
            break;
        case OPT_HEARTBEAT:
            o->heartbeat_s = parse_dur (optarg, "--heartbeat");
            break;
        case OPT_GC_INTERVAL:
            o->gc_interval_s = parse_dur (optarg, "--artifact-gc-interval");
            break;
        case OPT_GC_AGE:
            o->gc_age_s = parse_dur (optarg, "--artifact-gc-age");
            break;
        case OPT_SYNC:
            if (strcmp (optarg, "full") == 0)
                o->sync_full = true;
            else if (strcmp (optarg, "normal") == 0)
                o->sync_full = false;
            else
                usage_error ("--sync must be full or normal, not '%s'",
                             optarg);
            break;
        case OPT_LOG_LEVEL:
            if ((o->log_level = yard_log_level_parse (optarg)) < 0)
                usage_error ("--log-level: unknown level '%s' (use err, "
                             "warning, notice, info or debug)", optarg);
            break;
        case OPT_SYSLOG:
            o->use_syslog = true;
            break;
        case OPT_OVERSUBSCRIBE:
            o->oversubscribe = true;
            break;
        case OPT_AHEAD: {
            char *end;
            errno = 0;
            unsigned long v = strtoul (optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-'
                || v > 3600000)
                usage_error ("--dispatch-ahead takes milliseconds from 0 "
                             "(off) to 3600000, not '%s'", optarg);
            o->ahead_wait_ms = (uint32_t)v;
            break;
        }
        case OPT_HELP:
            fputs (usage_text, stdout);
            exit (0);
        case OPT_VERSION:
            printf ("yard-scheduler %s\n", YARD_VERSION);
            exit (0);
        case ':':
            usage_error ("option '%s' needs a value", argv[optind - 1]);
        default:
            usage_error ("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error ("unexpected argument '%s'", argv[optind]);
    if (o->heartbeat_s >= o->worker_timeout_s)
        usage_error ("--heartbeat (%llus) must be shorter than "
                     "--worker-timeout (%llus)",
                     (unsigned long long)o->heartbeat_s,
                     (unsigned long long)o->worker_timeout_s);
    if (!o->state_dir[0] && default_state_dir (o->state_dir,
                                               sizeof o->state_dir) < 0)
        usage_error ("no --state-dir given and neither XDG_STATE_HOME nor "
                     "HOME is set");
}

/* Refuse endpoints reachable from other machines unless --insecure, and
 * turn ":0" into ZeroMQ's "any port". */
static void
check_endpoint (const char *ep, bool insecure, const char *opt, char *out,
                size_t len)
{
    if (!*ep)
        usage_error ("%s is empty", opt);
    if (strncmp (ep, "tcp://", 6) != 0 && strncmp (ep, "ipc://", 6) != 0
        && strncmp (ep, "inproc://", 9) != 0)
        usage_error ("%s %s: use tcp://HOST:PORT or ipc://PATH", opt, ep);
    if (!yard_endpoint_is_local (ep)) {
        if (!insecure)
            usage_error ("%s %s is reachable from other machines and there "
                         "is no authentication yet: anyone who reaches it "
                         "could run commands on every worker.  Use a "
                         "loopback address (tcp://127.0.0.1:PORT) or ipc://, "
                         "or pass --insecure on a trusted network", opt, ep);
        log_warn ("%s %s is reachable from other machines without "
                  "authentication: anyone who reaches the port can run "
                  "commands on every worker", opt, ep);
    }
    if (yard_endpoint_normalize (ep, out, len) < 0)
        usage_error ("%s is too long", opt);
}

static int
path_in (char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf (buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Take STATE_DIR/lock; the fd stays open (and the lock held) until exit. */
static int
take_lock (const char *dir)
{
    char path[PATH_MAX], pidpath[PATH_MAX];
    if (path_in (path, sizeof path, dir, "lock") < 0
        || path_in (pidpath, sizeof pidpath, dir, "scheduler.pid") < 0) {
        log_err ("state dir path too long: %s", dir);
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err ("cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char pid[32] = "";
        FILE *f = fopen (pidpath, "r");
        if (f) {
            if (!fgets (pid, sizeof pid, f))
                pid[0] = '\0';
            fclose (f);
            pid[strcspn (pid, "\n")] = '\0';
        }
        if (e == EWOULDBLOCK)
            log_err ("another yard-scheduler%s%s%s already runs on %s: stop "
                     "it first, or use another --state-dir",
                     pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", dir);
        else
            log_err ("cannot lock %s: %s", path, strerror (e));
        close (fd);
        return -1;
    }
    return fd;
}

static int
publish (const char *dir, yard_server_t *s)
{
    char path[PATH_MAX], text[1100];
    int n = snprintf (text, sizeof text, "client=%s\nworker=%s\n",
                      yard_server_client_endpoint (s),
                      yard_server_worker_endpoint (s));
    int rc;
    if (n < 0 || (size_t)n >= sizeof text)
        return -ENAMETOOLONG;
    if ((rc = path_in (path, sizeof path, dir, "scheduler.pid")) < 0)
        return rc;
    char pid[32];
    int pn = snprintf (pid, sizeof pid, "%d\n", (int)getpid ());
    if ((rc = yard_write_file_atomic (path, pid, (size_t)pn)) < 0) {
        log_err ("cannot write %s: %s", path, strerror (-rc));
        return rc;
    }
    if ((rc = path_in (path, sizeof path, dir, "endpoints")) < 0)
        return rc;
    if ((rc = yard_write_file_atomic (path, text, (size_t)n)) < 0) {
        log_err ("cannot write %s: %s", path, strerror (-rc));
        return rc;
    }
    return 0;
}

static void
unlink_in (const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (path_in (path, sizeof path, dir, name) == 0)
        (void)unlink (path);
}

struct ctx {
    yard_server_t *s;
    uv_signal_t sig[2];
    bool sig_open[2];
    bool stopping;
    bool failed; /* stopped by a fatal error (yard_server_config_t) */
};

/* Close every handle we own; the loop then runs dry and returns. */
static void
stop (struct ctx *c)
{
    if (c->stopping)
        return;
    c->stopping = true;
    yard_server_shutdown (c->s);
    for (int i = 0; i < 2; i++)
        if (c->sig_open[i])
            uv_close ((uv_handle_t *)&c->sig[i], NULL);
}

static void
on_signal (uv_signal_t *h, int signum)
{
    struct ctx *c = h->data;
    if (c->stopping)
        return;
    log_info ("%s: shutting down (running jobs are left to the workers)",
              strsignal (signum));
    stop (c);
}

static void
on_fatal (void *arg)
{
    struct ctx *c = arg;
    c->failed = true;
    stop (c);
}

static void
report_handle (uv_handle_t *h, void *arg)
{
    (void)arg;
    log_err ("libuv handle still open at exit: %s",
             uv_handle_type_name (uv_handle_get_type (h)));
}

int
main (int argc, char **argv)
{
    struct options o;
    char client_ep[512], worker_ep[512];
    yard_error_t err;
    int status = EXIT_RUNTIME;
    int lock_fd = -1;
    uv_loop_t loop;
    bool loop_open = false;
    struct ctx c = {0};

    /* A vanished peer must not kill us (SIGPIPE), nor a file size limit
     * (SIGXFSZ): both become errors the code handles. */
    signal (SIGPIPE, SIG_IGN);
    signal (SIGXFSZ, SIG_IGN);

    parse_args (argc, argv, &o);
    yard_log_init ("yard-scheduler", o.log_level, o.use_syslog);
    check_endpoint (o.client_ep, o.insecure, "--client-endpoint", client_ep,
                    sizeof client_ep);
    check_endpoint (o.worker_ep, o.insecure, "--worker-endpoint", worker_ep,
                    sizeof worker_ep);

    int rc = yard_mkdir_p (o.state_dir);
    if (rc < 0) {
        log_err ("cannot create the state dir %s: %s", o.state_dir,
                 strerror (-rc));
        goto done;
    }
    if ((lock_fd = take_lock (o.state_dir)) < 0)
        goto done;
    /* From here on the dir is ours: a leftover endpoints file would make
     * a waiting client talk to a dead address. */
    unlink_in (o.state_dir, "endpoints");

    if ((rc = uv_loop_init (&loop)) < 0) {
        log_err ("cannot create the event loop: %s", uv_strerror (rc));
        goto done;
    }
    loop_open = true;
    yard_server_config_t cfg = {
        .state_dir = o.state_dir,
        .client_endpoint = client_ep,
        .worker_endpoint = worker_ep,
        .worker_timeout_ms = o.worker_timeout_s * 1000,
        .heartbeat_ms = o.heartbeat_s * 1000,
        .oversubscribe = o.oversubscribe,
        .ahead_wait_ms = o.ahead_wait_ms,
        .artifact_gc_interval_ms = o.gc_interval_s * 1000,
        .artifact_gc_age_ms = o.gc_age_s * 1000,
        .sync_full = o.sync_full,
        .on_fatal = on_fatal,
        .on_fatal_arg = &c,
    };
    yard_error_clear (&err);
    if (!(c.s = yard_server_create (&loop, &cfg, &err))) {
        int e = errno;
        log_err ("%s", err.text[0] ? err.text : strerror (e));
        /* a malformed endpoint is a configuration error */
        if (e == EINVAL || e == EPROTONOSUPPORT)
            status = EXIT_USAGE;
        goto done;
    }
    static const int signums[2] = {SIGTERM, SIGINT};
    for (int i = 0; i < 2; i++) {
        if ((rc = uv_signal_init (&loop, &c.sig[i])) < 0) {
            log_err ("cannot watch signals: %s", uv_strerror (rc));
            goto shutdown;
        }
        c.sig_open[i] = true;
        c.sig[i].data = &c;
        if ((rc = uv_signal_start (&c.sig[i], on_signal, signums[i])) < 0) {
            log_err ("cannot watch signals: %s", uv_strerror (rc));
            goto shutdown;
        }
    }
    if (publish (o.state_dir, c.s) < 0)
        goto shutdown;
    log_notice ("ready: client=%s worker=%s state=%s",
                yard_server_client_endpoint (c.s),
                yard_server_worker_endpoint (c.s), o.state_dir);

    uv_run (&loop, UV_RUN_DEFAULT);
    status = c.failed ? EXIT_RUNTIME : 0;
    goto teardown;

shutdown:
    stop (&c);
    uv_run (&loop, UV_RUN_DEFAULT);
teardown:
    yard_server_destroy (&c.s);
    unlink_in (o.state_dir, "endpoints");
    unlink_in (o.state_dir, "scheduler.pid");
done:
    if (loop_open) {
        uv_run (&loop, UV_RUN_NOWAIT);
        if (uv_loop_close (&loop) != 0) {
            uv_walk (&loop, report_handle, NULL);
            if (status == 0)
                status = EXIT_RUNTIME;
        }
    }
    if (lock_fd >= 0)
        close (lock_fd);
    if (status == 0)
        log_info ("stopped");
    return status;
}
