/* main.c - yard-worker: parse the command line, take the work dir's lock,
 * run the worker on one libuv loop until SIGTERM/SIGINT, tear down.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "error.h"
#include "log.h"
#include "topo.h"
#include "util.h"
#include "bind.h"
#include "nvml.h"
#include "worker.h"

/* Discover the node (hwloc, then a fake GPU list or the CUDA runtime) and
 * log what was found.  A fixture named by the environment that cannot be
 * used is fatal (whoever set it wants it); this machine's own topology
 * failing is not: the worker runs without one.  Returns 0 or -1 (logged). */
static int
discover_node (topo_t **topo)
{
    struct topo_source src;
    yard_error_t err = { 0 };
    char line[1024];

    topo_source_from_env (&src);
    if (!(*topo = topo_discover (&src, &err))) {
        if (src.xml_file || src.fake_gpus) {
            log_err ("node discovery: %s", err.text);
            return -1;
        }
        log_warn ("node discovery failed, running without a topology: %s",
                  err.text);
        return 0;
    }
    log_notice ("node: %s", topo_summary (*topo, line, sizeof line));
    return 0;
}

/* Hold an exclusive flock on WORKDIR/lock for the life of the process: two
 * workers on one dir would each take the other's attempts for orphans.
 * Returns the fd or -1 (logged). */
static int
lock_workdir (const char *workdir)
{
    char path[PATH_MAX], pid[32];
    if (snprintf (path, sizeof path, "%s/lock", workdir) >= (int)sizeof path) {
        log_err ("work dir path %s is too long", workdir);
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err ("cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        ssize_t n = pread (fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn (pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            log_err ("work dir %s is in use by another yard-worker%s%s%s: "
                     "stop it, or give this one its own --work-dir",
                     workdir, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
        else
            log_err ("cannot lock %s: %s", path, strerror (e));
        close (fd);
        return -1;
    }
    int n = snprintf (pid, sizeof pid, "%d\n", (int)getpid ());
    if (ftruncate (fd, 0) < 0 || pwrite (fd, pid, (size_t)n, 0) != n)
        log_warn ("cannot write our pid into %s: %s", path, strerror (errno));
    return fd;
}

int
main (int argc, char **argv)
{
    struct cli_opts opts;
    yard_error_t err = { 0 };
    char workdir[PATH_MAX];
    uv_loop_t loop;
    worker_t *w = NULL;
    topo_t *topo = NULL;
    int lock_fd = -1, rc;
    int status = CLI_EXIT_RUNTIME;

    if (cli_parse (argc, argv, &opts, &err) < 0) {
        fprintf (stderr, "yard-worker: %s\nTry 'yard-worker --help'.\n",
                 err.text);
        return CLI_EXIT_USAGE;
    }
    if (opts.help) {
        cli_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (opts.version) {
        printf ("yard-worker %s\n", YARD_VERSION);
        return CLI_EXIT_OK;
    }
    yard_log_init ("yard-worker", opts.log_level, opts.use_syslog);
    if (!yard_endpoint_is_local (opts.endpoint))
        log_warn ("the link to the scheduler at %s is NOT authenticated or "
                  "encrypted (--insecure): anyone who can reach it can run "
                  "commands here",
                  opts.endpoint);

    /* a job must not get the worker's quirks: no SIGPIPE surprises for us,
     * and no descriptor we inherited leaks into jobs */
    signal (SIGPIPE, SIG_IGN);
    uv_disable_stdio_inheritance ();

    if ((rc = yard_mkdir_p (opts.workdir)) < 0) {
        log_err ("cannot create the work dir %s: %s", opts.workdir,
                 strerror (-rc));
        return CLI_EXIT_RUNTIME;
    }
    /* absolute: jobs get paths under it and run elsewhere */
    if (!realpath (opts.workdir, workdir)) {
        log_err ("cannot resolve the work dir %s: %s", opts.workdir,
                 strerror (errno));
        return CLI_EXIT_RUNTIME;
    }
    if ((lock_fd = lock_workdir (workdir)) < 0)
        return CLI_EXIT_RUNTIME;
    /* slow (hwloc, CUDA): here, before the loop runs */
    if (discover_node (&topo) < 0)
        goto out;
    if (topo && !opts.cpus_given && topo_proto (topo)->pus > 0)
        opts.cpus = topo_proto (topo)->pus;
    bind_init (); /* cgroups and the exec shim; warns once without them */

    if ((rc = uv_loop_init (&loop)) < 0) {
        log_err ("cannot create the event loop: %s", uv_strerror (rc));
        goto out;
    }
    struct worker_config cfg = {
        .endpoint = opts.endpoint,
        .name = opts.name,
        .workdir = workdir,
        .checkpoint_root = opts.checkpoint_root,
        .cpus = opts.cpus,
        .memory_bytes = opts.memory_bytes,
        .topology = topo ? topo_proto (topo) : NULL,
        .health_check = opts.health_check,
        .health_interval_ms = opts.health_interval_ms,
        .health_timeout_ms = opts.health_timeout_ms,
        .advertise_addr = opts.advertise_addr,
    };
    if (!(w = worker_create (&loop, &cfg))) {
        log_err ("cannot start the worker (scheduler %s, work dir %s): %s",
                 opts.endpoint, workdir, strerror (errno));
        goto out_loop;
    }
    if ((rc = worker_start (w)) < 0) {
        log_err ("cannot start the worker: %s", uv_strerror (rc));
        goto out_loop;
    }
    uv_run (&loop, UV_RUN_DEFAULT);
    status = CLI_EXIT_OK;

out_loop:
    worker_destroy (&w);
    if ((rc = uv_loop_close (&loop)) < 0) {
        log_err ("event loop still has open handles at exit: %s",
                 uv_strerror (rc));
        status = CLI_EXIT_RUNTIME;
    }
out:
    bind_fini ();
    nvml_fini ();
    topo_destroy (&topo);
    close (lock_fd);
    return status;
}
