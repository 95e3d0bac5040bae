/* worker.h - the node daemon: one DEALER to the scheduler's worker port,
 * the attempts this node runs, registration, heartbeats, log shipping,
 * reliable JobFinished, and a clean shutdown on SIGTERM/SIGINT.
 *
 * See docs/protocol.md ("Worker protocol") for the promises kept here.  The
 * one that shapes everything: running jobs never depend on the scheduler.
 * A scheduler outage or restart only pauses shipping; the DEALER reconnects
 * by itself, the next heartbeat is answered known=false, and the worker
 * registers again with what it runs and what ended meanwhile.
 */
#ifndef WORKER_WORKER_H
#define WORKER_WORKER_H

#include <stdint.h>
#include <uv.h>

#include "yard.pb-c.h"

typedef struct worker worker_t;

struct worker_config {
    const char *endpoint; /* the scheduler's worker port */
    const char *name;     /* this node's name */
    const char *workdir;  /* absolute; exists; locked by the caller */
    const char *checkpoint_root; /* NULL or "": WORKDIR/checkpoints */
    uint32_t cpus;
    uint64_t memory_bytes;
    /* what topo_discover() found, sent in each register; NULL: none.
     * Borrowed: must outlive the worker. */
    const Yard__Topology *topology;
    uint32_t link_reset_ms; /* 0: WORKER_LINK_RESET_MS (tests set less) */
    /* health check (health.h): NULL or "": none; 0: the defaults */
    const char *health_check;
    uint64_t health_interval_ms;
    uint64_t health_timeout_ms;
    const char *advertise_addr; /* NULL or "": the host name */
};

/* Periods, in milliseconds. */
#define WORKER_HEARTBEAT_DEFAULT_MS 2000 /* until RegisterReply says */
#define WORKER_REGISTER_RETRY_MS 2000    /* register unanswered */
#define WORKER_REGISTER_REFUSED_MS 5000  /* register answered ErrorReply */
#define WORKER_FINISH_RESEND_MS 3000     /* JobFinished unacknowledged */
/* JobStarted leaves this long after the spawn, unless the attempt's
 * JobFinished (which carries the start) left first: a job shorter than
 * this costs the scheduler one report instead of two */
#define WORKER_START_REPORT_MS 20
#define WORKER_CRON_MS 100               /* log size checks */
#define WORKER_STOP_ACK_WAIT_MS 5000     /* for acks once jobs are gone */
#define WORKER_STOP_GRACE_MAX_S 30       /* grace of jobs at shutdown */
#define WORKER_AHEAD_WAIT_DEFAULT_MS 1000 /* Dispatch.ahead_wait_ms 0 */
#define WORKER_LINK_RESET_MS                                                  \
    15000 /* silence before a new socket                                      \
             (at least 3 heartbeats) */

/* Create the worker on loop: recover the attempt dirs left in
 * WORKDIR/jobs (orphans are killed and reported lost), create the socket and
 * connect it.  Nothing is sent before worker_start().  Returns NULL with
 * errno set (EINVAL: a bad endpoint). */
worker_t *worker_create (uv_loop_t *loop, const struct worker_config *cfg);

/* Register with the scheduler, start the timers and catch SIGTERM/SIGINT
 * (worker_stop) and SIGHUP (logged and ignored).  Returns 0 or a negative
 * errno. */
int worker_start (worker_t *w);

/* What SIGTERM does: stop every job (SIGTERM, grace, SIGKILL), report them
 * END_LOST, wait up to WORKER_STOP_ACK_WAIT_MS for the acks, then close every
 * handle so that uv_run() returns.  A second call SIGKILLs the jobs now. */
void worker_stop (worker_t *w);

/* Number of attempts known (running, or ended and not yet acknowledged). */
int worker_attempt_count (const worker_t *w);

/* Close what is still open, run the loop until every close is done, then
 * close the socket.  Running jobs are left to themselves (the next start
 * recovers them as orphans).  Accepts NULL; NULLs the caller's pointer. */
void worker_destroy (worker_t **w);

#endif
