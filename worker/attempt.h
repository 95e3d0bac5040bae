/* attempt.h - one attempt of a job on this node: its directory and log
 * file, its process (leader of its own session and process group), its time
 * limit and kill sequence and, once over, its result.
 *
 * The attempt knows nothing of the scheduler: the worker drives it (start,
 * kill, recover) and is told through exit_cb when its process is gone and
 * the result is on disk.  The fields below the line are the worker's
 * bookkeeping and the attempt never touches them.
 */
#ifndef WORKER_ATTEMPT_H
#define WORKER_ATTEMPT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <uv.h>

#include "dirpool.h"
#include "gang.h"
#include "jobdir.h"
#include "logship.h"
#include "metrics.h"
#include "stage.h"
#include "yard.pb-c.h"

#define ATTEMPT_GRACE_DEFAULT_S 10

struct attempt;

/* The process ended and a->result is final (and persisted when it could
 * be).  Called from the loop, never from inside an attempt_* call. */
typedef void (*attempt_exit_f) (struct attempt *a, void *arg);

/* The job announced a checkpoint on its metrics channel: entry is the
 * name in its checkpoint dir (checked to be inside it, not that it
 * exists), step the announced one or -1.  Called from the loop. */
typedef void (*attempt_ckpt_f) (struct attempt *a, const char *entry,
                                int64_t step, void *arg);

/* What the worker lends every attempt; must outlive them. */
struct attempt_host {
    uv_loop_t *loop;
    const char *node;      /* the worker's name */
    const char *jobs_root; /* WORKDIR/jobs */
    const char *ckpt_root; /* WORKDIR/checkpoints */
    struct dirpool *pool;  /* spare attempt dirs (dirpool.h); NULL: none */
    attempt_exit_f exit_cb;
    attempt_ckpt_f ckpt_cb; /* NULL: announcements are only checked */
    void *arg;
};

enum attempt_state {
    ATTEMPT_NEW,     /* created, not started */
    ATTEMPT_RUNNING, /* its process runs (maybe being killed) */
    ATTEMPT_ENDED,   /* over: result is set */
};

struct attempt {
    uint64_t job_id;
    uint32_t num;
    char dir[PATH_MAX];
    enum attempt_state state;
    int pid;                     /* > 0 once spawned */
    int64_t start_time_ms;       /* wall clock, when spawned */
    Yard__EndReason kill_reason; /* END_NONE until we decide to kill */
    uint32_t grace_s;            /* the spec's SIGTERM-to-SIGKILL delay */
    int stop_signal;             /* starts a stop (spec; default SIGTERM) */
    int warn_signal;             /* sent warn_seconds before the limit */
    uint32_t warn_seconds;
    bool warned;                 /* warn_signal sent */
    struct jobdir_result result; /* set when ATTEMPT_ENDED */
    struct metrics *metrics;     /* its YARD_METRICS_FD lines; NULL: none */
    struct usage usage;          /* latest sample while running (peaks kept) */
    uint64_t gpu_util_sum;       /* GPU utilisation samples, for the mean */
    uint32_t gpu_util_samples;
    /* staged inputs and collected outputs (stage.h); "" when the spec has
     * none: set before attempt_start, become YARD_INPUTS/YARD_OUTPUTS */
    char inputs_dir[PATH_MAX];
    char outputs_dir[PATH_MAX];
    struct attempt_gang gang;    /* a gang job's part: set before the start */

    /* ---- the worker's bookkeeping ---- */
    struct logship ship;
    bool finish_acked;      /* JobFinishedAck arrived */
    bool result_synced;     /* its result record is durable (jobdir.h) */
    int64_t start_due_ms;   /* when JobStarted is due (monotonic); 0: sent,
                               or told by JobFinished */
    int64_t finish_next_ms; /* next (re)send of JobFinished; 0: not yet */
    struct stage *stage;    /* a transfer in flight (abandoned by destroy) */
    struct stage *collect;  /* outputs to store once it exited 0 */
    struct stage *inputs;   /* inputs to fetch after its checkpoint */
    /* checkpoints through the artifact store (no shared root) */
    struct stage *ckpt_stage;   /* an upload in flight */
    char ckpt_seen[256];        /* newest entry stored, or fetched */
    bool ckpt_pending;          /* ckpt_name committed, not yet acked */
    char ckpt_name[256];
    char ckpt_digest[65];
    uint64_t ckpt_size;
    int64_t ckpt_step;
    int64_t ckpt_time_ms;
    int64_t ckpt_next_ms;       /* next commit (re)send / scan */
    int64_t ckpt_deadline_ms;   /* ended: give up on uploads after this */
    uint32_t ckpt_keep;         /* local entries kept (spec; 0: 2) */
    char ckpt_ann[256];         /* the entry announced last, or "" */
    int64_t ckpt_ann_step;      /* its announced step, -1: unknown */
    bool ckpt_ann_todo;         /* announced, its upload not started */
    uint8_t *dispatch;      /* the packed Dispatch while inputs arrive */
    size_t dispatch_len;
    Yard__EndReason stage_kill; /* a kill that came while staging */
    Yard__NamedDigest out_msg[JOBDIR_OUTPUTS_MAX]; /* for JobFinished */
    Yard__NamedDigest *out_ptr[JOBDIR_OUTPUTS_MAX];
    struct attempt *prev, *next;

    /* ---- private ---- */
    const struct attempt_host *host;
    bool has_dir; /* dir exists and holds our files */
    int log_wfd;  /* append fd on output.log (notes), -1 */
    int log_rfd;  /* read fd on output.log (shipping), -1 */
    uint64_t time_limit_s;
    uv_process_t proc;
    uv_timer_t limit_timer;
    uv_timer_t kill_timer;
    bool proc_used; /* uv_spawn was called: proc needs a close */
    uv_poll_t pid_poll; /* a job from spawn_start: its pidfd's readiness */
    int pidfd;          /* -1 when the job came from uv_spawn (or none) */
    bool poll_used;     /* pid_poll needs a close */
    bool has_rusage;    /* rusage: the job reaped by us (wait4) */
    struct rusage rusage;
    struct bind *bind; /* its PUs/GPUs/cgroups (bind.h); NULL: none */
    int open_handles;
};

/* A new attempt in state NEW.  Returns NULL with errno set. */
struct attempt *attempt_create (const struct attempt_host *host,
                                uint64_t job_id, uint32_t num);

/* Create the attempt dir and log, check the spec, build the environment and
 * spawn.  Returns 0 when the process runs (state RUNNING).  Otherwise the
 * attempt is ENDED with END_SPAWN_FAILED and a message that says why (also
 * written into output.log so `yard logs` shows it), and a negative errno is
 * returned; exit_cb is not called. */
int attempt_start (struct attempt *a, const Yard__JobSpec *spec);

/* Create the attempt dir and its log before attempt_start (for an attempt
 * whose inputs are fetched first).  0 or a negative errno. */
int attempt_prepare (struct attempt *a);

/* Append "yard-worker: <line>" to the attempt's log (when it is open). */
void attempt_note (struct attempt *a, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* attempt_start with the scheduler's Allocation (may be NULL): the job is
 * started through the yard-exec shim bound to its PUs and cgroups, and its
 * environment names its GPUs (bind.h). */
int attempt_start_alloc (struct attempt *a, const Yard__JobSpec *spec,
                         const Yard__Allocation *alloc);

/* End a NEW attempt without running it (e.g. reason END_LOST while the
 * worker shuts down).  The message goes to the result and to output.log. */
void attempt_refuse (struct attempt *a, Yard__EndReason reason,
                     int32_t exit_code, const char *message);

/* Take over an attempt dir found at start-up (see jobdir_recover): the
 * attempt is ENDED with the stored result, or END_LOST for an orphan.
 * Returns 0 or a negative errno (the attempt is still ENDED). */
int attempt_recover (struct attempt *a, const char *dir);

/* Stop a RUNNING attempt: its stop signal (the spec's stop_signal, default
 * SIGTERM) to its process group, SIGKILL after grace_s
 * seconds (0: at once).  Its result will carry reason.  No-op when the
 * attempt is not running or is already being killed. */
void attempt_kill (struct attempt *a, Yard__EndReason reason,
                   uint32_t grace_s);

/* SIGKILL a RUNNING attempt's process group now (an attempt not yet being
 * killed gets reason). */
void attempt_kill_now (struct attempt *a, Yard__EndReason reason);

/* Measure a RUNNING attempt's resource use, in two steps so that the
 * worker reads /proc once for all its attempts: attempt_usage_begin fills
 * s from its cgroup (the peaks of earlier samples kept) and returns true
 * when figures must come from /proc (no cgroup, or v1 groups without both
 * cpuacct and memory), for process group a->pid; attempt_usage_end merges proc (NULL:
 * none) and NVML's figures for its GPUs into s and keeps it as a->usage.
 * begin returns false, and end does nothing, for an attempt not running. */
bool attempt_usage_begin (struct attempt *a, struct usage *s);
void attempt_usage_end (struct attempt *a, struct usage *s,
                        const struct usage *proc);

/* Bytes of log there are to ship: the current size while running, the
 * final size once ended. */
uint64_t attempt_log_size (const struct attempt *a);

/* Read up to len bytes of the log at off.  Returns the count (0 at end) or
 * a negative errno. */
ssize_t attempt_log_read (const struct attempt *a, uint64_t off, void *buf,
                          size_t len);

/* Remove the attempt dir: renamed away at once (atomic), then kept as a
 * spare for a later attempt (dirpool.h) or its tree removed, on the
 * loop's thread pool.  Returns 0 or a negative errno. */
int attempt_remove_dir (struct attempt *a);

/* Close the attempt's handles and files; memory is freed from the close
 * callbacks.  A process still running is left alone (its dir has no result,
 * so the next worker start deals with it as an orphan).  Accepts NULL;
 * NULLs the caller's pointer. */
void attempt_destroy (struct attempt **a);

#endif
