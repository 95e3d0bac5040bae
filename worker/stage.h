/* stage.h - an attempt's transfers with the scheduler's artifact store:
 * staging its inputs in before it starts, storing its outputs after it
 * exited 0.
 *
 * A transfer runs on the loop's thread pool (uv_queue_work), never on the
 * loop itself, so heartbeats, log shipping and other jobs go on while
 * gigabytes move.  It has a DEALER of its own, connected to the scheduler's
 * worker port (common/xfer.h: one socket per thread).  When the scheduler
 * does not answer (it is restarting, the network is down) the transfer
 * retries on a fresh socket with a doubling backoff until its deadline; the
 * blob store resumes uploads, and a fetched entry that is already complete
 * is kept, so a retry redoes little.  An answer that says no (an artifact
 * the store does not hold, content that does not match) ends it at once.
 *
 * The caller owns a stage until its done callback ran; stage_abandon hands
 * it over to the thread pool instead (the callback is then never called),
 * for an attempt that goes away first.
 */
#ifndef WORKER_STAGE_H
#define WORKER_STAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "digest.h"
#include "yard.pb-c.h"

#define STAGE_DEADLINE_MS (30 * 60 * 1000) /* retrying an absent store */
#define STAGE_REQUEST_MS 10000              /* one request's answer */
#define STAGE_BACKOFF_MIN_MS 500
#define STAGE_BACKOFF_MAX_MS 15000
#define STAGE_MAX_ITEMS 64
#define STAGE_NAME_MAX 256

enum stage_kind {
    STAGE_IN,  /* fetch each item's digest to root/path */
    STAGE_OUT, /* store each folder root/path as a tree */
    STAGE_PUT, /* store each root/path: a folder as a tree, a file a blob */
};

struct stage_item {
    char path[STAGE_NAME_MAX];            /* relative to root */
    char digest[YARD_DIGEST_HEX + 1];     /* IN: given; OUT: found */
    uint64_t size;                        /* OUT, PUT: bytes of content */
};

struct stage;
typedef void (*stage_done_f) (struct stage *st, void *arg);

struct stage {
    enum stage_kind kind;
    int tag;             /* the caller's, to tell its stages apart */
    char root[4096];
    struct stage_item items[STAGE_MAX_ITEMS];
    size_t n_items;
    /* results, valid in the done callback */
    int rc;              /* 0 or a negative errno */
    char error[512];     /* why, for the job's log and its end message */
    uint64_t bytes;      /* moved */
    /* ---- private ---- */
    uv_work_t work;
    void *zctx;
    char endpoint[1024];
    int request_ms, deadline_ms;
    volatile int cancel;
    bool abandoned;
    stage_done_f done;
    void *arg;
};

/* Is path a relative path that stays inside its root (no "..", not
 * absolute, no empty or "." parts)?  For staged input paths and the
 * names of collected outputs. */
bool stage_path_ok (const char *path);

/* A new stage of kind into root.  NULL with errno set. */
struct stage *stage_create (enum stage_kind kind, const char *root);

/* Add an item (IN: a path and its digest; OUT: a folder name, digest
 * NULL).  0, -EINVAL (bad path or digest), -E2BIG (too many). */
int stage_add (struct stage *st, const char *path, const char *digest);

/* Start on loop's thread pool, talking to endpoint on zctx.  request_ms /
 * deadline_ms 0: the defaults.  done is called on the loop when it is
 * over.  0 or a negative errno (then nothing started). */
int stage_start (struct stage *st, uv_loop_t *loop, void *zctx,
                 const char *endpoint, int request_ms, int deadline_ms,
                 stage_done_f done, void *arg);

/* Stop waiting for it: a running transfer gives up at its next request
 * and frees itself; done is never called.  A stage that was never started
 * is freed at once.  Accepts NULL. */
void stage_abandon (struct stage *st);

/* Free a stage whose done callback ran (or that never started). */
void stage_destroy (struct stage **st);

#endif
