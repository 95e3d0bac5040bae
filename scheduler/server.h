/* server.h - the scheduler daemon's core: two ROUTER sockets in one libuv
 * loop, the SQLite state, the in-memory queue and the dispatch policy.
 *
 * main.c parses the command line and owns the process concerns (lock file,
 * signals, endpoints file); everything that speaks the protocol lives
 * behind this interface.  See docs/protocol.md for what each message does.
 */
#ifndef YARD_SERVER_H
#define YARD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "error.h"

#define YARD_SERVER_DEFAULT_WORKER_TIMEOUT_S 30
#define YARD_SERVER_DEFAULT_HEARTBEAT_S 2

typedef struct yard_server_config {
    const char *state_dir;        /* holds state.db and logs/ */
    const char *client_endpoint;  /* ZeroMQ endpoints to bind (normalised) */
    const char *worker_endpoint;
    uint64_t worker_timeout_ms;   /* silence after which a worker is lost */
    uint64_t heartbeat_ms;        /* interval the workers are told to use */
    bool sync_full;               /* SQLite synchronous=FULL (else NORMAL) */
    /* artifact GC: how often, and the age under which an unreferenced blob
     * is kept (an upload not yet committed); 0: the defaults */
    uint64_t artifact_gc_interval_ms;
    uint64_t artifact_gc_age_ms;
    bool oversubscribe;           /* jobs get PUs, cores may be shared */
    /* dispatch ahead (server_ahead.c): how long a worker holds a
     * successor behind a running job of the same shape before it gives
     * it back; 0: no successors */
    uint32_t ahead_wait_ms;
    /* Called (on the loop) when the scheduler cannot go on: the state
     * store's WAL could not be made durable.  The callee should call
     * yard_server_shutdown and exit with a failure; NULL: the server
     * shuts itself down. */
    void (*on_fatal) (void *arg);
    void *on_fatal_arg;
} yard_server_config_t;

#define YARD_SERVER_DEFAULT_GC_INTERVAL_MS (10ull * 60 * 1000)
#define YARD_SERVER_DEFAULT_GC_AGE_MS (60ull * 60 * 1000)

typedef struct yard_server yard_server_t;

/* Open the state (state_dir/state.db, loading every unfinished job and
 * every known node), bind both sockets and start serving on loop.  The
 * config is copied.  Returns NULL with errno set and err filled: EADDRINUSE
 * and friends for a bind, EINVAL for a bad endpoint, a store error for the
 * database. */
yard_server_t *yard_server_create (uv_loop_t *loop,
                                 const yard_server_config_t *cfg,
                                 yard_error_t *err);

/* The endpoint actually bound (ZMQ_LAST_ENDPOINT: a real port where "*" or
 * ":0" was asked).  Borrowed, valid until destroy. */
const char *yard_server_client_endpoint (const yard_server_t *s);
const char *yard_server_worker_endpoint (const yard_server_t *s);

/* Stop serving: close every libuv handle the scheduler owns.  Parked long
 * polls are dropped unanswered (clients time out and ask again) and nothing
 * is sent to workers, whose jobs keep running.  Run the loop until it
 * returns, then call yard_server_destroy. */
void yard_server_shutdown (yard_server_t *s);

/* Free everything, close the sockets and the database.  Only after
 * yard_server_shutdown and a loop run.  Accepts NULL; NULLs the pointer. */
void yard_server_destroy (yard_server_t **s);

#endif
