/* job.h - a job as the scheduler holds it: its durable record (one row of
 * the jobs table) plus the links of the in-memory indexes.
 *
 * The durable part is what store.c reads and writes; the index part is
 * owned by queue.c (heap position) and the scheduler core (node
 * reservation, parked long polls).  Only non-terminal jobs live in memory;
 * finished ones are read back from SQLite when asked for.
 *
 * This is a plain struct, not an opaque type: it is the scheduler's own
 * record, shared by its files and never exported.
 */
#ifndef YARD_SCHED_JOB_H
#define YARD_SCHED_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yard.pb-c.h"

/* Job spec limits (docs/protocol.md: the scheduler validates every spec). */
#define YARD_JOB_MAX_ARG (64u * 1024)          /* one argv entry: < 64 KiB */
#define YARD_JOB_MAX_ARGV_ENV (1024u * 1024)   /* argv + env total: < 1 MiB */
#define YARD_JOB_MAX_NAME 256
#define YARD_JOB_MAX_CPUS 4096
#define YARD_JOB_MAX_GPUS 64
#define YARD_JOB_MAX_PATH 4096
#define YARD_JOB_MAX_LABEL 256                 /* user, submit_host */
#define YARD_JOB_DEFAULT_CPUS 1
#define YARD_JOB_DEFAULT_GRACE_S 10
#define YARD_JOB_MAX_NODES 1024                /* gang jobs */
#define YARD_JOB_MAX_TASKS 256                 /* tasks per node */
#define YARD_JOB_DEFAULT_GANG_TIMEOUT_S 120
#define YARD_JOB_MAX_GANG_TIMEOUT_S (7u * 24 * 3600)

/* heap_idx of a job that is not in the pending heap */
#define YARD_JOB_NO_HEAP SIZE_MAX

struct yard_node;
struct yard__park;

typedef struct yard_job {
    /* durable record: the jobs row */
    uint64_t id;                 /* sqlite rowid, never reused */
    Yard__JobState state;
    int32_t priority;            /* copy of spec->priority */
    Yard__JobSpec *spec;         /* owned, defaults applied */
    int64_t submit_ms;           /* unix ms; 0 when not yet */
    int64_t start_ms;
    int64_t end_ms;
    uint32_t attempt;            /* current/last attempt, 0: never sent */
    char *node;                  /* owned; node of the current/last attempt */
    int32_t exit_code;
    int32_t term_signal;
    Yard__EndReason end_reason;
    char *reason;                /* owned; why it failed / was requeued */
    bool cancel_requested;
    uint32_t lost_count;
    /* retries (retry.h): kept in the attempts table (store_attempts.c) and
     * read back with the job */
    uint32_t retries_used;       /* job failures retried so far */
    int64_t eligible_ms;         /* unix ms; a retry waits until then */

    /* in-memory indexes, not stored */
    size_t heap_idx;             /* position in the pending heap */
    size_t wait_idx;             /* position in the waitq (waitq.h) */
    struct yard_node *worker;    /* holds our reservation (ASSIGNED/RUNNING) */
    struct yard_job *wprev;      /* list of the worker's active jobs */
    struct yard_job *wnext;
    struct yard__park *parks;    /* long polls waiting on this job */
    uint64_t mark;               /* batch stamp: saved in this batch */
    uint64_t seen;               /* reconciliation stamp (worker register) */
    /* dependencies and arrays (server_deps.c) */
    uint64_t deps_epoch;         /* deps evaluated in this index epoch */
    uint32_t deps_unmet;         /* dependencies still waited for */
    bool array_counted;          /* counted in its array's running members */
    bool array_held;             /* set aside: its array is at its limit */
    bool no_ahead;               /* a successor given back: it waits for a
                                    free slot from now on (server_ahead.c) */
    Yard__JobState ev_state;     /* state last noted for events
                                    (server_events.c) */
    uint8_t *live_usage;         /* owned: packed Yard__ResourceUse of the
                                    running attempt's latest sample, kept
                                    in memory only (server_usage.c) */
    size_t live_usage_len;
    uint32_t live_usage_attempt;
    struct yard_ahead *ahead;    /* owned: dispatch ahead (server_ahead.c),
                                    only while it takes part; NULL else */
} yard_job_t;

/* A job's part in dispatch ahead (server_ahead.c), in memory (a
 * successor's allocation is in its attempt row too).  Allocated only for
 * the active jobs that follow or may be followed, so that the pending
 * millions pay one pointer. */
struct yard_ahead {
    Yard__Allocation *alloc;     /* owned: set while a successor holds
                                    nothing yet (its predecessor's PUs) */
    struct yard_job *pred;       /* a successor: the job it follows */
    struct yard_job *succ;       /* the successor that follows this job */
    struct yard_job *cprev;      /* the server's list of candidates */
    struct yard_job *cnext;
    bool in_cands;
    uint8_t depth;               /* 0: holds its PUs; 1: follows a job that
                                    does; 2: follows a successor */
};

/* The successor's allocation while it holds nothing yet, else NULL. */
static inline const Yard__Allocation *
yard_job_ahead_alloc (const yard_job_t *job)
{
    return job->ahead ? job->ahead->alloc : NULL;
}

/* A zeroed job (state PENDING, not in any index).  NULL with errno set. */
yard_job_t *yard_job_create (void);

/* Free the job and its spec/strings.  Accepts NULL; NULLs the pointer.  The
 * caller must have removed it from every index first. */
void yard_job_destroy (yard_job_t **job);

/* Replace job->node / job->reason with a copy of the text (NULL or "" clears
 * it).  Return 0 or -ENOMEM (the old value is kept). */
int yard_job_set_node (yard_job_t *job, const char *node);
int yard_job_set_reason (yard_job_t *job, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Exchange the durable records of a and b (spec and strings included),
 * leaving their index links in place.  Used to refresh a job from the
 * store without moving it in memory. */
void yard_job_swap_record (yard_job_t *a, yard_job_t *b);

/* Resources the job reserves on its node (spec values, defaults applied;
 * for a gang job, on each of its nodes: every task's share). */
uint32_t yard_job_cpus (const yard_job_t *job);
uint32_t yard_job_gpus (const yard_job_t *job);
uint64_t yard_job_memory (const yard_job_t *job);
uint32_t yard_job_grace (const yard_job_t *job);

/* A gang job (spec nodes >= 1) and its tasks per node (default 1). */
bool yard_job_is_gang (const yard_job_t *job);
uint32_t yard_job_tasks (const yard_job_t *job);

/* True while the job holds a node: ASSIGNED, RUNNING or PREEMPTING (being
 * stopped to be requeued: it holds its node until the worker reports). */
bool yard_job_is_active (const yard_job_t *job);

/* Validate a submitted spec and apply the defaults (cpus 1, grace_s 10) in
 * place.  Returns 0 or -EINVAL with err naming the field. */
int yard_job_spec_check (Yard__JobSpec *spec, yard_error_t *err);

/* Fill info from job.  info borrows the job's spec and strings: the job must
 * outlive every use of info.  reason, when not NULL, replaces job->reason
 * (pending jobs get a live explanation). */
void yard_job_info (const yard_job_t *job, Yard__JobInfo *info,
                    const char *reason);

#endif
