/* cli.c - yard-worker's command line (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

enum {
    OPT_INSECURE = 256,
    OPT_SYSLOG,
    OPT_CHECKPOINT_ROOT,
    OPT_HEALTH_CHECK,
    OPT_HEALTH_INTERVAL,
    OPT_HEALTH_TIMEOUT,
    OPT_ADVERTISE_ADDR,
};

static const struct option long_opts[] = {
    { "scheduler", required_argument, NULL, 's' },
    { "name", required_argument, NULL, 'n' },
    { "work-dir", required_argument, NULL, 'w' },
    { "cpus", required_argument, NULL, 'c' },
    { "memory", required_argument, NULL, 'm' },
    { "checkpoint-root", required_argument, NULL, OPT_CHECKPOINT_ROOT },
    { "health-check", required_argument, NULL, OPT_HEALTH_CHECK },
    { "health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL },
    { "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "advertise-addr", required_argument, NULL, OPT_ADVERTISE_ADDR },
    { "log-level", required_argument, NULL, 'l' },
    { "syslog", no_argument, NULL, OPT_SYSLOG },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

void
cli_usage (FILE *f)
{
    /* the text is laid out as it prints */
    // clang-format off
    fprintf (f,
"Usage: yard-worker [OPTIONS]\n"
"\n"
"The Trainyard node daemon: registers this node with the scheduler, runs the\n"
"jobs it dispatches, ships their output and reports how they end.  Jobs keep\n"
"running while the scheduler is down or restarts.\n"
"\n"
"Options:\n"
"  --scheduler EP     the scheduler's worker endpoint\n"
"                     (default " YARD_DEFAULT_WORKER_EP ")\n"
"  --name NAME        this node's name (default: the host name); letters,\n"
"                     digits, '.', '_' and '-', at most %d characters\n"
"  --work-dir DIR     where job dirs, logs and checkpoints live (default\n"
"                     $XDG_STATE_HOME/yard/worker-NAME, or\n"
"                     ~/.local/state/yard/worker-NAME); one worker per dir\n"
"  --cpus N           CPUs offered to jobs (default: the PUs hwloc finds,\n"
"                     else the online CPUs)\n"
"  --memory SIZE      memory offered to jobs, e.g. 64G (default: physical)\n"
"  --checkpoint-root DIR\n"
"                     keep job checkpoints in DIR/JOB_ID instead of\n"
"                     WORKDIR/checkpoints/JOB_ID: point every worker at the\n"
"                     same shared file system and a job resumes from its\n"
"                     checkpoint on whichever node it lands.  Without it,\n"
"                     checkpoints go to the scheduler's artifact store and\n"
"                     the local copies beyond the job's newest\n"
"                     --keep-checkpoints are removed (all of them once the\n"
"                     job completed)\n"
"  --health-check CMD run CMD (with /bin/sh -c) every --health-interval;\n"
"                     when it fails (non-zero exit, or still running\n"
"                     after --health-timeout) the scheduler drains this\n"
"                     node with the first line of its output as the\n"
"                     reason, and resumes it once the check passes again\n"
"  --health-interval DUR  time between checks (default 60s)\n"
"  --health-timeout DUR   a check running longer fails and is killed\n"
"                     (default 30s)\n"
"  --advertise-addr ADDR\n"
"                     the address other nodes reach this one at: the\n"
"                     MASTER_ADDR of multi-node jobs whose rank 0 runs\n"
"                     here (default: the scheduler endpoint's host when\n"
"                     it is on this machine, else the host name)\n"
"  --insecure         allow a scheduler endpoint that is not on this\n"
"                     machine; the link is NOT authenticated or encrypted\n"
"  --log-level LEVEL  err, warning, notice, info (default) or debug\n"
"  --syslog           log to syslog (journald) instead of stderr\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Environment:\n"
"  YARD_HWLOC_XMLFILE=PATH  read the topology from a hwloc XML file\n"
"                     (lstopo --of xml) instead of this machine's\n"
"  YARD_FAKE_GPUS=PATH  take the GPUs from PATH instead of the CUDA\n"
"                     runtime, one a line: PCI_BUS_ID UUID MEMORY_MIB\n"
"                     NAME...; /dev/null means no GPUs\n"
"  YARD_CUDART=PATH   the CUDA runtime library to load first\n"
"  YARD_NVML=PATH     the NVML library to load (GPU use)\n"
"  YARD_CGROUP_ROOT=DIR  the cgroup mount (default /sys/fs/cgroup, v1 or\n"
"                     v2 found at start); 'none': CPU affinity only\n"
"  YARD_EXEC=PATH     the exec shim (default: yard-exec next to this\n"
"                     program)\n"
"\n"
"Signals: SIGTERM or SIGINT stops every job (SIGTERM, grace, SIGKILL),\n"
"reports them lost so that the scheduler requeues them, and exits; a second\n"
"one SIGKILLs the jobs at once.  SIGHUP is ignored (nothing to reload).\n"
"\n"
"Exit status:\n"
"  0  stopped cleanly (or --help, --version)\n"
"  1  runtime error (work dir in use or not writable, cannot connect, ...)\n"
"  2  usage error\n",
             CLI_NAME_MAX);
    // clang-format on
}

bool
cli_name_valid (const char *name)
{
    size_t n = strlen (name);
    if (n == 0 || n > CLI_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int
copy_opt (char *dst, size_t len, const char *src, const char *what,
          yard_error_t *err)
{
    size_t n = strlen (src);
    if (n >= len)
        return yard_errorf (err, EINVAL,
                            "%s is too long (%zu characters, at "
                            "most %zu)",
                            what, n, len - 1);
    memcpy (dst, src, n + 1);
    return 0;
}

static int
default_workdir (struct cli_opts *o, yard_error_t *err)
{
    const char *xdg = getenv ("XDG_STATE_HOME");
    const char *home = getenv ("HOME");
    int n;
    /* the XDG spec says a relative XDG_STATE_HOME is to be ignored */
    if (xdg && xdg[0] == '/')
        n = snprintf (o->workdir, sizeof o->workdir, "%s/yard/worker-%s", xdg,
                      o->name);
    else if (home && home[0] == '/')
        n = snprintf (o->workdir, sizeof o->workdir,
                      "%s/.local/state/yard/worker-%s", home, o->name);
    else
        return yard_errorf (err, EINVAL,
                            "neither XDG_STATE_HOME nor HOME is "
                            "set: give the work dir with --work-dir DIR");
    if (n < 0 || (size_t)n >= sizeof o->workdir)
        return yard_errorf (err, EINVAL,
                            "the default work dir is too long: "
                            "give one with --work-dir DIR");
    return 0;
}

/* --advertise-addr, else the host of a loopback scheduler endpoint (all
 * nodes are on this machine), else the host name. */
static int
advertise_default (struct cli_opts *o, const char *given, yard_error_t *err)
{
    char host[256] = "";
    if (given)
        return copy_opt (o->advertise_addr, sizeof o->advertise_addr, given,
                         "the advertise address", err);
    if (strncmp (o->endpoint, "ipc://", 6) == 0) {
        snprintf (host, sizeof host, "127.0.0.1");
    } else if (yard_endpoint_is_local (o->endpoint)) {
        const char *h = o->endpoint + 6; /* "tcp://" */
        const char *colon = strrchr (h, ':');
        size_t n = colon ? (size_t)(colon - h) : strlen (h);
        if (n > 1 && h[0] == '[' && h[n - 1] == ']') {
            h++; /* [::1] */
            n -= 2;
        }
        if (n == 0 || n >= sizeof host || (n == 1 && h[0] == '*'))
            snprintf (host, sizeof host, "127.0.0.1");
        else
            snprintf (host, sizeof host, "%.*s", (int)n, h);
    } else if (gethostname (host, sizeof host - 1) < 0 || !host[0]) {
        snprintf (host, sizeof host, "%s", o->name);
    }
    return copy_opt (o->advertise_addr, sizeof o->advertise_addr, host,
                     "the advertise address", err);
}

int
cli_parse (int argc, char **argv, struct cli_opts *o, yard_error_t *err)
{
    const char *name = NULL, *workdir = NULL, *cpus = NULL, *memory = NULL;
    const char *endpoint = YARD_DEFAULT_WORKER_EP, *advertise = NULL;
    int c, rc;

    memset (o, 0, sizeof *o);
    o->log_level = LOG_INFO;
    optind = 1;
    opterr = 0; /* we say it ourselves, once */
    while ((c = getopt_long (argc, argv, ":hV", long_opts, NULL)) != -1) {
        switch (c) {
        case 's':
            endpoint = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'w':
            workdir = optarg;
            break;
        case 'c':
            cpus = optarg;
            break;
        case 'm':
            memory = optarg;
            break;
        case OPT_INSECURE:
            o->insecure = true;
            break;
        case OPT_ADVERTISE_ADDR:
            if (!*optarg || strpbrk (optarg, " \t\n/"))
                return yard_errorf (err, EINVAL, "--advertise-addr needs a "
                                    "host name or an IP address, got '%s'",
                                    optarg);
            advertise = optarg;
            break;
        case OPT_HEALTH_CHECK:
            if (!*optarg)
                return yard_errorf (err, EINVAL, "--health-check needs a "
                                    "command");
            if ((rc = copy_opt (o->health_check, sizeof o->health_check,
                                optarg, "the health check command", err))
                < 0)
                return rc;
            break;
        case OPT_HEALTH_INTERVAL:
        case OPT_HEALTH_TIMEOUT: {
            uint64_t s;
            if ((rc = yard_parse_duration (optarg, &s, err)) < 0)
                return rc;
            if (s == 0 || s > 86400)
                return yard_errorf (err, EINVAL, "--health-%s must be from "
                                    "1s to 1d, got '%s'",
                                    c == OPT_HEALTH_INTERVAL ? "interval"
                                                             : "timeout",
                                    optarg);
            if (c == OPT_HEALTH_INTERVAL)
                o->health_interval_ms = s * 1000;
            else
                o->health_timeout_ms = s * 1000;
            break;
        }
        case OPT_SYSLOG:
            o->use_syslog = true;
            break;
        case OPT_CHECKPOINT_ROOT:
            if (optarg[0] != '/')
                return yard_errorf (err, EINVAL,
                                    "--checkpoint-root must be an absolute "
                                    "path, got '%s'", optarg);
            if ((rc = copy_opt (o->checkpoint_root,
                                sizeof o->checkpoint_root, optarg,
                                "the checkpoint root", err)) < 0)
                return rc;
            break;
        case 'l':
            if ((o->log_level = yard_log_level_parse (optarg)) < 0)
                return yard_errorf (err, EINVAL,
                                    "invalid log level '%s': use "
                                    "err, warning, notice, info or debug",
                                    optarg);
            break;
        case 'h':
            o->help = true;
            return 0;
        case 'V':
            o->version = true;
            return 0;
        case ':':
            return yard_errorf (err, EINVAL, "option '%s' needs a value",
                                argv[optind - 1]);
        default:
            return yard_errorf (err, EINVAL, "unknown option '%s'",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return yard_errorf (err, EINVAL, "unexpected argument '%s'",
                            argv[optind]);

    if ((rc = copy_opt (o->endpoint, sizeof o->endpoint, endpoint,
                        "the scheduler endpoint", err))
        < 0)
        return rc;
    if (strncmp (endpoint, "tcp://", 6) != 0
        && strncmp (endpoint, "ipc://", 6) != 0)
        return yard_errorf (err, EINVAL,
                            "invalid scheduler endpoint '%s': "
                            "use tcp://HOST:PORT or ipc://PATH",
                            endpoint);
    if (!yard_endpoint_is_local (endpoint) && !o->insecure)
        return yard_errorf (err, EINVAL,
                            "scheduler endpoint %s is not on "
                            "this machine, and the link to it is not "
                            "authenticated: pass --insecure to use it anyway "
                            "(only on a trusted network)",
                            endpoint);

    if (name) {
        if (!cli_name_valid (name))
            return yard_errorf (err, EINVAL,
                                "invalid node name '%s': use 1 "
                                "to %d letters, digits, '.', '_' or '-', not "
                                "starting with '.' or '-'",
                                name, CLI_NAME_MAX);
        memcpy (o->name, name, strlen (name) + 1);
    } else {
        char host[256] = "";
        if (gethostname (host, sizeof host - 1) < 0 || !cli_name_valid (host))
            return yard_errorf (err, EINVAL,
                                "the host name '%s' is not a "
                                "valid node name: give one with --name NAME",
                                host);
        memcpy (o->name, host, strlen (host) + 1);
    }

    if ((rc = advertise_default (o, advertise, err)) < 0)
        return rc;

    if (workdir) {
        if (!workdir[0])
            return yard_errorf (err, EINVAL, "--work-dir is empty");
        if ((rc = copy_opt (o->workdir, sizeof o->workdir, workdir,
                            "the work dir", err))
            < 0)
            return rc;
    } else if ((rc = default_workdir (o, err)) < 0) {
        return rc;
    }

    if (cpus) {
        if (yard_parse_u32 (cpus, &o->cpus) < 0 || o->cpus == 0)
            return yard_errorf (err, EINVAL,
                                "invalid CPU count '%s': use a "
                                "whole number > 0",
                                cpus);
    } else {
        long n = sysconf (_SC_NPROCESSORS_ONLN);
        o->cpus = n > 0 ? (uint32_t)n : 1;
    }
    o->cpus_given = cpus != NULL;

    if (memory) {
        if ((rc = yard_parse_size (memory, &o->memory_bytes, err)) < 0)
            return rc;
        if (o->memory_bytes == 0)
            return yard_errorf (err, EINVAL, "--memory must be more than 0");
    } else {
        long pages = sysconf (_SC_PHYS_PAGES);
        long page = sysconf (_SC_PAGESIZE);
        o->memory_bytes
            = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    }
    return 0;
}
