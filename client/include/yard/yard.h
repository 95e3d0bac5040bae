/* yard.h - libyard, the C client library of Trainyard.
 *
 * A yard_client_t talks to one yard-scheduler over its client port.  Every
 * call is a request and its reply, bounded by the client's timeout (default
 * 5 s): nothing here waits forever unless asked to (yard_wait with a negative
 * timeout).  Calls return 0 or a negative errno value:
 *
 *   -ETIMEDOUT  the scheduler did not answer in time (not running, wrong
 *               endpoint, network down);
 *   -ENOENT, -EINVAL, ...  the scheduler's ErrorReply code (no such job,
 *               invalid job spec, ...);
 *   -EBADMSG, -EPROTO  the scheduler answered something this library
 *               cannot use;
 *   -ENOMEM and other system errors.
 *
 * After a failure yard_client_errmsg() holds a sentence that says what went
 * wrong and what to do; the library itself never prints or logs.
 *
 * Results are plain structs owned by the caller and released with their
 * free function.  Their strings are never NULL (absent means "").  The types
 * here are the library's own: nothing of the wire format (protobuf-c) or of
 * Trainyard's internal code leaks through this header.
 *
 * A client is not thread-safe: use one per thread, or serialize calls.
 */
#ifndef YARD_YARD_H
#define YARD_YARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define YARD_API __attribute__ ((visibility ("default")))
#else
#define YARD_API
#endif

/* The scheduler endpoint used when none is given and $YARD_SCHEDULER is
 * unset or empty. */
#define YARD_DEFAULT_SCHEDULER "tcp://127.0.0.1:7700"
#define YARD_DEFAULT_TIMEOUT_MS 5000
/* Artifact digests: sha256 as 64 lowercase hex digits. */
#define YARD_ARTIFACT_DIGEST_LEN 64

/* Job states; the values are those of the wire protocol. */
enum yard_job_state {
    YARD_JOB_UNKNOWN = 0,
    YARD_JOB_PENDING = 1,    /* queued, waiting for resources */
    YARD_JOB_ASSIGNED = 2,   /* committed to a node, being dispatched */
    YARD_JOB_RUNNING = 3,
    YARD_JOB_COMPLETED = 4,  /* exited 0 */
    YARD_JOB_FAILED = 5,     /* non-zero exit, signal, or could not start */
    YARD_JOB_CANCELLED = 6,
    YARD_JOB_TIMEOUT = 7,    /* killed at its time limit */
    YARD_JOB_PREEMPTING = 8, /* being stopped to be requeued */
    YARD_JOB_LOST = 9,       /* its node was lost (then PENDING or FAILED) */
};

/* Why an attempt ended, as the worker that ran it saw it. */
enum yard_end_reason {
    YARD_END_NONE = 0,
    YARD_END_EXITED = 1,       /* exited by itself: see exit_code */
    YARD_END_SIGNALED = 2,     /* killed by a signal: see term_signal */
    YARD_END_CANCELLED = 3,
    YARD_END_TIMEOUT = 4,
    YARD_END_SPAWN_FAILED = 5, /* could not be started: see reason */
    YARD_END_LOST = 6,
    YARD_END_STALE = 7,
    YARD_END_PREEMPTED = 8,
    YARD_END_OOM = 9,
    YARD_END_RETURNED = 10,    /* a successor given back unstarted */
};

enum yard_node_state {
    YARD_NODE_UNKNOWN = 0,
    YARD_NODE_UP = 1,
    YARD_NODE_DOWN = 2,    /* stopped heartbeating, or shut down */
    YARD_NODE_LEAVING = 3, /* shutting down: takes no new jobs */
};

/* "PENDING", "RUNNING", ...; "UNKNOWN" for values this version does not
 * know.  Static strings. */
YARD_API const char *yard_job_state_str (enum yard_job_state state);
/* "exited", "signaled", "cancelled", "timeout", "spawn-failed", "lost",
 * "stale", "none". */
YARD_API const char *yard_end_reason_str (enum yard_end_reason reason);
/* "UP", "DOWN", "UNKNOWN". */
YARD_API const char *yard_node_state_str (enum yard_node_state state);
/* COMPLETED, FAILED, CANCELLED and TIMEOUT are final. */
YARD_API bool yard_job_state_finished (enum yard_job_state state);

/* The library's version, "MAJOR.MINOR.PATCH". */
YARD_API const char *yard_version (void);

/* ---- the client ------------------------------------------------------- */

typedef struct yard_client yard_client_t;

/* Create a client for the scheduler at endpoint (a ZeroMQ endpoint such as
 * "tcp://host:7700" or "ipc:///path").  NULL or "" means $YARD_SCHEDULER,
 * else YARD_DEFAULT_SCHEDULER.  Nothing is sent until the first call, so
 * this succeeds whether or not the scheduler runs.  Returns NULL with errno
 * set: EINVAL for a malformed endpoint, EPROTONOSUPPORT for an unknown
 * transport, ENOMEM. */
YARD_API yard_client_t *yard_client_create (const char *endpoint);

/* Close the connection and free the client.  Accepts NULL and a pointer to
 * NULL; sets *c to NULL. */
YARD_API void yard_client_destroy (yard_client_t **c);

/* How long a call waits for the scheduler's answer, in milliseconds
 * (default YARD_DEFAULT_TIMEOUT_MS).  Long polls (yard_wait, yard_logs_read
 * with wait_ms) wait their polling time on top of it.  Returns 0 or -EINVAL
 * when ms <= 0. */
YARD_API int yard_client_set_timeout (yard_client_t *c, int ms);
YARD_API int yard_client_timeout (const yard_client_t *c);

/* The endpoint in use.  Owned by the client. */
YARD_API const char *yard_client_endpoint (const yard_client_t *c);

/* The text of the last failed call ("" when none failed yet).  Owned by the
 * client, valid until its next call. */
YARD_API const char *yard_client_errmsg (const yard_client_t *c);

/* ---- jobs -------------------------------------------------------------- */

/* A dependency of a job (yard_job_spec_t.after). */
enum yard_dep_cond {
    YARD_DEP_OK = 0,       /* the job COMPLETED */
    YARD_DEP_ANY = 1,      /* the job ended, however */
    YARD_DEP_NOTOK = 2,    /* the job ended other than COMPLETED */
};

typedef struct yard_dependency {
    uint64_t job_id;
    enum yard_dep_cond condition;
} yard_dependency_t;

/* An artifact fetched into the job's inputs folder before it starts
 * (yard_job_spec_t.stage_in). */
typedef struct yard_stage_in {
    const char *path;    /* relative to $YARD_INPUTS; no "..", not absolute */
    const char *digest;  /* what yard_artifact_put stored (file or tree) */
} yard_stage_in_t;

/* What to run.  Zero the struct before filling it (yard_job_spec_t s = {0};)
 * so that fields added later keep their defaults.  Zero means "default" for
 * every number.  The library only reads it; the caller keeps ownership. */
typedef struct yard_job_spec {
    const char *name;      /* NULL or "": the scheduler names it */
    char *const *argv;     /* the command; argv[0] is looked up in PATH */
    size_t argc;           /* at least 1 */
    char *const *env;      /* "KEY=VALUE" strings added to its environment */
    size_t envc;
    const char *workdir;   /* must exist on the node; a relative path is
                              taken from the current directory */
    uint32_t cpus;         /* cores reserved (default 1) */
    uint32_t gpus;
    uint64_t memory_bytes; /* memory reserved (default 0: none) */
    uint64_t time_limit_s; /* 0: no limit */
    int32_t priority;      /* higher runs first */
    uint32_t grace_s;      /* SIGTERM to SIGKILL delay (default 10) */

    /* retries: a failure of the job itself (non-zero exit, signal, could
     * not start, out of memory) runs it again up to retries times, after a
     * backoff of retry_backoff_s (default 10) doubled at each retry, at
     * most an hour; an exit code listed in retry_exit_codes always runs it
     * again.  Node loss and preemption requeue without counting. */
    uint32_t retries;
    const int32_t *retry_exit_codes;  /* n_retry_exit_codes codes, 1..255 */
    size_t n_retry_exit_codes;
    uint32_t retry_backoff_s;
    /* signals: stop_signal (0: SIGTERM) starts every stop (cancel,
     * requeue, preemption, time limit); warn_signal (0: none) is sent
     * warn_seconds before the time limit. */
    int32_t stop_signal;
    int32_t warn_signal;
    uint32_t warn_seconds;
    bool requeue_on_timeout; /* at its time limit: run again, not TIMEOUT */
    bool preemptible;        /* may be stopped for higher-priority work */
    /* placement: each of constraints ("key" or "key=value") must be a
     * label of the node; gpu_type (needs gpus >= 1) must be part of the
     * model name of the node's GPUs, case-insensitively ("h100"). */
    char *const *constraints;
    size_t n_constraints;
    const char *gpu_type;
    /* dependencies: start only once every job of after[] ended as its
     * condition asks; one that can never be met cancels the job */
    const struct yard_dependency *after;
    size_t n_after;
    /* job array: one job per index first..last by step (0: 1), at most
     * array_max_running (0: no limit) of them running at once; each gets
     * YARD_ARRAY_INDEX and YARD_ARRAY_ID in its environment */
    bool array;
    uint32_t array_first, array_last, array_step, array_max_running;
    /* artifacts (yard_artifact_put): each stage_in is fetched from the
     * artifact store to $YARD_INPUTS/<path> before the job starts (a tree
     * becomes a folder, a file a file); each name of collect is a folder
     * $YARD_OUTPUTS/<name> that is stored as a tree after the job exits 0
     * (its digest in yard_attempt_t.outputs).  At most 64 inputs and 16
     * outputs; an input the store does not hold fails the attempt. */
    const struct yard_stage_in *stage_in;
    size_t n_stage_in;
    char *const *collect;
    size_t n_collect;
    /* checkpoints kept in the artifact store for this job (0: 2) */
    uint32_t keep_checkpoints;
    /* multi-node (gang) job: nodes >= 1 asks for that many distinct nodes,
     * all or none, each running tasks_per_node (default 1) processes of
     * cpus PUs and gpus_per_task GPUs each (gpus must then be 0), with the
     * torchrun environment (RANK, LOCAL_RANK, WORLD_SIZE, ...); they must
     * all start within gang_timeout_s (default 120) */
    uint32_t nodes;
    uint32_t tasks_per_node;
    uint32_t gpus_per_task;
    uint32_t gang_timeout_s;
} yard_job_spec_t;

/* What an attempt used, measured on its node: from its cgroup where it has
 * one, else the rusage of its processes; GPU figures from NVML.  A group
 * whose has_ flag is false was not measured. */
typedef struct yard_usage {
    bool has_cpu;
    uint64_t cpu_user_us;      /* CPU time, microseconds */
    uint64_t cpu_system_us;
    bool has_rss;
    uint64_t peak_rss_bytes;   /* highest resident memory seen */
    uint64_t rss_bytes;        /* resident now (0 once ended) */
    bool has_gpu;
    uint32_t gpu_util_pct;     /* latest, mean of its GPUs */
    uint64_t gpu_memory_bytes; /* used now, summed over its GPUs */
    uint64_t gpu_peak_memory_bytes;
    bool final;                /* measured after the attempt ended */
    int64_t time_ms;           /* when it was measured */
    char source[16];           /* "cgroup-v2", "cgroup-v1", "rusage", "proc" */
} yard_usage_t;
/* An output an attempt collected, as stored in the artifact store. */
typedef struct yard_output {
    char *name;                /* the collect name */
    char digest[YARD_ARTIFACT_DIGEST_LEN + 1]; /* a tree: yard_artifact_get */
    uint64_t size;             /* bytes of content */
} yard_output_t;

/* One node of a gang job's current/last attempt.  Strings owned by the
 * job, never NULL. */
typedef struct yard_gang_node {
    char *node;
    uint32_t rank;             /* its NODE_RANK */
    char *alloc_cpus;          /* its PUs there: "0-3" */
    char **alloc_gpus;         /* alloc_ngpus GPU UUIDs, then a NULL */
    size_t alloc_ngpus;
    bool started;              /* its tasks were started */
    bool finished;             /* its tasks all exited 0 */
} yard_gang_node_t;

/* One attempt (run) of a job.  Strings owned by the job, never NULL. */
typedef struct yard_attempt {
    uint32_t attempt;          /* 1, 2, ... */
    char *node;
    int64_t start_time_ms;     /* unix epoch ms; 0: not started */
    int64_t end_time_ms;       /* 0: not over */
    enum yard_end_reason end_reason;
    int32_t exit_code;
    int32_t term_signal;
    char *reason;              /* how it ended: "exited with status 1",
                                  "preempted", "timeout, requeued", ... */
    yard_usage_t usage;        /* its resource use: final once it ended,
                                  else the latest sample */
    yard_output_t *outputs;    /* what it collected (JobSpec collect) */
    size_t n_outputs;
    yard_gang_node_t *gang;    /* a multi-node job: its n_gang nodes, by
                                  rank (node is rank 0's) */
    size_t n_gang;
} yard_attempt_t;

/* A job as the scheduler knows it.  Every string is owned by the struct and
 * never NULL. */
typedef struct yard_job {
    uint64_t id;
    char *name;
    enum yard_job_state state;
    uint32_t attempt;          /* current/last attempt, 0: never dispatched */
    char *node;                /* node of the current/last attempt */
    int64_t submit_time_ms;    /* unix epoch milliseconds, 0: not yet */
    int64_t start_time_ms;
    int64_t end_time_ms;
    int32_t exit_code;
    int32_t term_signal;
    enum yard_end_reason end_reason;
    char *reason;              /* why pending / why it failed, for people */
    bool cancel_requested;
    uint32_t lost_count;       /* attempts lost with their node */

    /* what was asked for */
    uint32_t cpus;
    uint32_t gpus;
    uint64_t memory_bytes;
    uint64_t time_limit_s;
    int32_t priority;
    uint32_t grace_s;
    char **argv;               /* argc strings, then a NULL */
    size_t argc;
    char **env;                /* envc "KEY=VALUE" strings, then a NULL */
    size_t envc;
    char *workdir;
    char *user;
    char *submit_dir;
    char *submit_host;

    /* retries and attempt history */
    uint32_t retries;          /* asked for (spec) */
    uint32_t retry_backoff_s;
    int32_t stop_signal;
    int32_t warn_signal;
    uint32_t warn_seconds;
    bool requeue_on_timeout;
    bool preemptible;
    uint32_t retries_used;     /* job failures retried so far */
    int64_t eligible_time_ms;  /* a retry backing off waits until then */
    yard_attempt_t *attempts;  /* n_attempts, oldest first; only from
                                  yard_job_status, yard_cancel and
                                  yard_requeue (NULL in yard_queue) */
    size_t n_attempts;

    /* what the current/last attempt holds on its node ("" and 0 when
     * nothing is known: never dispatched, or a finished job in
     * yard_queue) */
    char *alloc_cpus;          /* its PUs, as a list: "0-3,8" */
    char **alloc_gpus;         /* alloc_ngpus GPU UUIDs, then a NULL */
    size_t alloc_ngpus;
    uint64_t alloc_memory_bytes;

    /* job arrays: the array's first job id (0: not a member), its index;
     * for the first job itself, from yard_job_status and yard_cancel:
     * has_array_states and the members' count in each state (index: an
     * enum yard_job_state value) */
    uint64_t array_id;
    uint32_t array_index;
    bool has_array_states;
    uint64_t array_states[10];

    /* resource use of the current/last attempt (yard_job_status only) */
    yard_usage_t usage;
    /* the latest point of each metric key of the current/last attempt, by
     * key (yard_job_status only; at most 64 keys) */
    struct yard_metric *latest_metrics;
    size_t n_latest_metrics;
    /* multi-node (gang) jobs: what was asked (nodes 0: not a gang) and,
     * from yard_job_status, each node of the current/last attempt by
     * rank, and its MASTER_PORT (0: not chosen yet) */
    uint32_t nodes;
    uint32_t tasks_per_node;
    uint32_t gpus_per_task;
    uint32_t gang_timeout_s;
    yard_gang_node_t *gang;
    size_t n_gang;
    uint32_t master_port;
} yard_job_t;

/* Free one job from yard_job_status, yard_cancel or yard_wait.  Accepts NULL
 * and a pointer to NULL; sets *job to NULL. */
YARD_API void yard_job_free (yard_job_t **job);

/* Free an array of count jobs from yard_queue.  Accepts NULL; sets *jobs to
 * NULL. */
YARD_API void yard_jobs_free (yard_job_t **jobs, size_t count);

/* Submit a job.  The library adds the user name, the current directory and
 * the host name.  On success *job_id is the new job's id: the job is
 * committed on the scheduler.  -EINVAL: spec rejected (by this library when
 * the command is empty or an env string has no "KEY=", else by the
 * scheduler; errmsg names the field). */
YARD_API int yard_submit (yard_client_t *c, const yard_job_spec_t *spec,
                          uint64_t *job_id);

/* yard_submit that also returns every job it made: for an array
 * (spec->array), *job_ids is the ids by index, *count of them, the first
 * being the array id; otherwise the one job.  Free *job_ids with free(). */
YARD_API int yard_submit_array (yard_client_t *c, const yard_job_spec_t *spec,
                                uint64_t **job_ids, size_t *count);

/* What yard_submit_many says of one job. */
typedef struct yard_submitted {
    uint64_t job_id; /* its id (an array's first), 0 when it has none */
    int error;       /* 0: committed; else a negative errno, see below */
    char *message;   /* why it has no id, in words (NULL when committed,
                        or out of memory); yard_submitted_clear frees it */
} yard_submitted_t;

/* Submit n jobs at once, each as yard_submit would, with up to 512 of
 * them in flight on the connection: the scheduler commits those it holds
 * together and acknowledges each job on its own, so a pipeline or a sweep
 * enqueues thousands of different jobs a second through one client (an
 * array, yard_submit_array, is faster still when the jobs differ only in
 * an index).  out[i] tells of specs[i] (n of them; free their messages
 * with yard_submitted_clear): committed (error 0, job_id), refused (a
 * negative errno: -EINVAL an invalid spec, found here or by the
 * scheduler, ...; message in the scheduler's words), or, after the
 * exchange failed, that failure for a job sent and not answered (it may
 * or may not have been committed: a submission is never sent twice) and
 * -ECANCELED for one not sent.  Returns how many jobs were committed when
 * every job got its answer (errmsg then counts the refusals and quotes
 * the first), or the failure's negative errno (-ETIMEDOUT: no answer for
 * the client's timeout; errmsg says how many were acknowledged).  n at
 * most INT_MAX. */
YARD_API int yard_submit_many (yard_client_t *c, const yard_job_spec_t *specs,
                               size_t n, yard_submitted_t *out);

/* Free the messages of n results of yard_submit_many.  Accepts NULL. */
YARD_API void yard_submitted_clear (yard_submitted_t *out, size_t n);

/* One job's status into *job (free with yard_job_free).  -ENOENT: no such
 * job. */
YARD_API int yard_job_status (yard_client_t *c, uint64_t job_id,
                              yard_job_t **job);

/* Pending and active jobs in priority order; with all, finished ones too
 * (newest first, up to limit, 0: the scheduler's default).  *jobs is an
 * array of *count jobs (free with yard_jobs_free; NULL when empty). */
YARD_API int yard_queue (yard_client_t *c, bool all, uint32_t limit,
                         yard_job_t **jobs, size_t *count);

/* Cancel a job and return its resulting state in *job.  A pending job is
 * CANCELLED at once; a running one keeps its state with cancel_requested
 * set until its worker has stopped it; a finished one is returned as it
 * is.  -ENOENT: no such job. */
YARD_API int yard_cancel (yard_client_t *c, uint64_t job_id, yard_job_t **job);

/* Cancel every unfinished member of the array whose first job is array_id
 * (pending ones at once, running ones stopped as yard_cancel does); *job
 * is the first job afterwards, with its array_states.  -ENOENT: no such
 * array. */
YARD_API int yard_cancel_array (yard_client_t *c, uint64_t array_id,
                                yard_job_t **job);

/* Requeue a job: a RUNNING or ASSIGNED job is stopped (stop signal, grace,
 * SIGKILL) and runs again as a new attempt, without counting against its
 * retries; *job is then PREEMPTING until its worker has stopped it.  A
 * PENDING job is returned as it is.  -EINVAL: the job is finished (or
 * being cancelled); -ENOENT: no such job. */
YARD_API int yard_requeue (yard_client_t *c, uint64_t job_id,
                           yard_job_t **job);

/* Wait for a job to finish.  timeout_ms < 0 waits forever, 0 looks once.
 * Returns 0 with *job the job: finished, or in its current state when
 * timeout_ms passed first (test yard_job_state_finished).  The first
 * question must be answered within the client's timeout (-ETIMEDOUT
 * otherwise); after that the wait survives a scheduler restart: long polls
 * that go unanswered are sent again until timeout_ms passes.  -ENOENT: no
 * such job. */
YARD_API int yard_wait (yard_client_t *c, uint64_t job_id, int64_t timeout_ms,
                        yard_job_t **job);

/* ---- nodes ------------------------------------------------------------- */

/* A GPU of a node, as its worker found it (CUDA runtime or a fake list).
 * A GPU is identified by uuid or pci_bus_id; index is only the CUDA
 * ordinal on its node (orders differ between tools). */
typedef struct yard_gpu {
    char *uuid;                /* "GPU-8f3c..." */
    char *name;                /* "NVIDIA H100 80GB HBM3" */
    uint64_t memory_bytes;
    char *pci_bus_id;          /* "0000:3b:00.0" */
    uint32_t cc_major;         /* compute capability; 0.0 unknown */
    uint32_t cc_minor;
    int32_t numa_node;         /* OS index of its NUMA node; -1 unknown */
    char *local_cpus;          /* PUs close to it: "0-15,32-47"; "" unknown */
    uint32_t index;
    char *pci_switch;          /* its PCIe switch (the switch's upstream
                                * port's bus id): "0000:17:00.0"; "" none
                                * or unknown */
} yard_gpu_t;

typedef struct yard_numa {
    uint32_t os_index;
    char *cpus;                /* its PUs, as a list: "0-31" */
    uint64_t memory_bytes;
} yard_numa_t;

/* One core and its PUs (hardware threads). */
typedef struct yard_core {
    uint32_t os_index;
    char *pus;                 /* its PUs, as a list: "0,32" */
} yard_core_t;

/* A node's hardware (hwloc and the CUDA runtime, on its worker).  known is
 * false when the worker reported none (an older worker): all else is 0. */
typedef struct yard_topology {
    bool known;
    uint32_t packages;         /* sockets */
    uint32_t numa_nodes;
    uint32_t cores;
    uint32_t pus;              /* hardware threads */
    yard_numa_t *numa;         /* n_numa entries */
    size_t n_numa;
    yard_gpu_t *gpus;          /* n_gpus entries, by PCI bus id */
    size_t n_gpus;
    char *source;              /* "hwloc+cudart", "xml:PATH+fake-gpus:PATH" */
    yard_core_t *core_list;    /* n_core_list cores with their PUs (none:
                                  unknown, each PU counts as a core) */
    size_t n_core_list;
    /* NUMA latencies relative to local (10): n_numa x n_numa, row-major
     * in the order of numa; NULL and 0 when unknown */
    uint32_t *numa_distances;
    size_t n_numa_distances;
} yard_topology_t;

typedef struct yard_node {
    char *name;
    enum yard_node_state state;
    char *hostname;
    char *version;
    uint32_t cpus;
    uint32_t cpus_used;
    uint64_t memory_bytes;
    uint64_t memory_used;
    uint32_t gpus;
    uint32_t gpus_used;
    uint32_t running_jobs;
    int64_t last_seen_ms;      /* unix epoch milliseconds */
    int64_t registered_ms;
    yard_topology_t topology;  /* owned by the node (yard_nodes_free) */
    /* administration (yard_node_admin); strings owned, never NULL */
    char **labels;             /* "key" or "key=value" */
    size_t n_labels;
    bool drain;                /* takes no new jobs (draining/drained) */
    char *state_reason;        /* why drained or down ("" when neither) */
    int64_t state_since_ms;    /* unix ms since when */
    /* which job holds which of its PUs and GPUs; strings owned, never
     * NULL */
    struct yard_holding *holdings;
    size_t n_holdings;
    char *advertise_addr;      /* MASTER_ADDR of gangs whose rank 0 is here */
    /* whole-core placement: a job's cpus count cores, unless
     * oversubscribe (jobs then get PUs and may share a core) */
    uint32_t cores_total;
    uint32_t cores_free;       /* cores none of whose PUs a job holds */
    uint32_t pus_free;
    bool oversubscribe;
} yard_node_t;

/* What one job holds on a node (yard_node_t.holdings). */
typedef struct yard_holding {
    uint64_t job_id;
    char *cpus;                /* PU list, "" when it runs unbound */
    char **gpus;               /* ngpus GPU UUIDs, then a NULL */
    size_t ngpus;
    uint64_t memory_bytes;
    bool gang;                 /* a part of a multi-node job */
    uint32_t node_rank;        /* then: this node's rank in it */
} yard_holding_t;

/* The worker nodes the scheduler knows.  *nodes is an array of *count nodes
 * (free with yard_nodes_free; NULL when empty). */
YARD_API int yard_nodes (yard_client_t *c, yard_node_t **nodes,
                         size_t *count);
YARD_API void yard_nodes_free (yard_node_t **nodes, size_t count);

/* What yard_node_admin does. */
enum yard_node_action {
    YARD_NODE_DRAIN = 0,   /* no new jobs; running ones finish (reason) */
    YARD_NODE_RESUME = 1,  /* lift a drain */
    YARD_NODE_LABEL = 2,   /* set labels ("key" or "key=value") */
    YARD_NODE_UNLABEL = 3, /* remove labels (by key) */
    YARD_NODE_REMOVE = 4,  /* forget a DOWN node with no jobs (EBUSY else) */
};

/* Administer a node.  reason: for DRAIN (NULL: a default); labels: for
 * LABEL/UNLABEL.  *out (may be NULL) receives the node afterwards (free
 * with yard_nodes_free(out, 1)); NULL after REMOVE.  0 or -errno
 * (yard_client_errmsg says why: ENOENT no such node, EINVAL bad label,
 * EBUSY node up or busy). */
YARD_API int yard_node_admin (yard_client_t *c, const char *node,
                              enum yard_node_action action,
                              const char *reason, const char *const *labels,
                              size_t n_labels, yard_node_t **out);

/* The node's state as shown to people: "down", "leaving", "drained",
 * "draining", "allocated" (every CPU used), "mixed", "idle".  Static. */
YARD_API const char *yard_node_display_state (const yard_node_t *node);

/* ---- logs -------------------------------------------------------------- */

typedef struct yard_logs {
    uint64_t job_id;
    uint32_t attempt;          /* the attempt read (resolved when 0 asked) */
    uint64_t offset;           /* offset of data in the attempt's log */
    uint64_t next_offset;      /* offset + len: where to read next */
    uint8_t *data;             /* len bytes, then a NUL (never NULL) */
    size_t len;
    bool eof;                  /* attempt over and its whole log delivered */
    enum yard_job_state state; /* the job's state */
} yard_logs_t;

/* Read a job's output (stdout and stderr interleaved) from offset.  attempt
 * 0 means the latest; max_bytes 0 the scheduler's default (256 KiB, at most
 * 1 MiB).  With wait_ms > 0 the scheduler holds the request until there is
 * data at offset, the attempt is over, or wait_ms passes (a long poll).
 * Free *logs with yard_logs_free.  -ENOENT: no such job. */
YARD_API int yard_logs_read (yard_client_t *c, uint64_t job_id,
                             uint32_t attempt, uint64_t offset,
                             uint32_t max_bytes, uint32_t wait_ms,
                             yard_logs_t **logs);
YARD_API void yard_logs_free (yard_logs_t **logs);

/* ---- metrics ----------------------------------------------------------- */

/* One metric point a job reported (see "Report metrics" in the user
 * guide). */
typedef struct yard_metric {
    uint32_t attempt;
    int64_t step;
    char *key;
    double value;
    int64_t time_ms;  /* unix epoch milliseconds, when the worker read it */
    bool superseded;  /* a later attempt redid this step (resumed earlier) */
} yard_metric_t;

/* A job's metric points, ordered by key, then step, then attempt.  key NULL
 * or "" means every key.  Superseded points are left out unless
 * include_superseded.  *points is an array of *count (free with
 * yard_metrics_free; NULL when empty); *malformed (may be NULL) gets the
 * number of lines the job wrote that were not metrics; *truncated (may be
 * NULL) is set when the scheduler's limit (100000 points) cut the answer.
 * -ENOENT: no such job. */
YARD_API int yard_metrics (yard_client_t *c, uint64_t job_id,
                           const char *key, bool include_superseded,
                           yard_metric_t **points, size_t *count,
                           uint64_t *malformed, bool *truncated);
YARD_API void yard_metrics_free (yard_metric_t **points, size_t count);

/* ---- events ------------------------------------------------------------ */

/* A subscription to the scheduler's events (see "Events" in the user
 * guide): pushed to this side as they happen, no polling.  It has its own
 * connection, so the client stays usable for requests meanwhile. */
typedef struct yard_events yard_events_t;

enum yard_event_kind {
    YARD_EVENT_JOB = 0,   /* a job changed state */
    YARD_EVENT_NODE = 1,  /* a node changed state */
    YARD_EVENT_PIPELINE = 2, /* a pipeline run or step changed state (only
                                to yard_events_subscribe_pipelines) */
};

/* One event.  Plain arrays: nothing to free. */
typedef struct yard_event {
    uint64_t seq;                 /* +1 per event the scheduler sent since it
                                     started; a gap means events were lost */
    int64_t time_ms;              /* unix epoch ms of the change */
    enum yard_event_kind kind;
    uint64_t job_id;              /* YARD_EVENT_JOB */
    enum yard_job_state state;    /* the new state */
    enum yard_job_state old_state; /* 0 when the scheduler does not know */
    uint32_t attempt;
    char node[256];               /* the job's node, or the node */
    enum yard_node_state node_state; /* YARD_EVENT_NODE */
    int32_t exit_code;            /* a job that ended */
    enum yard_end_reason end_reason;
    char reason[512];             /* also the run's or step's */
    /* Filled by subscriptions of yard_events_subscribe_pipelines
     * (<yard/pipelines.h>) only, so that programs built before these
     * fields existed keep their smaller struct. */
    uint64_t run_id;              /* YARD_EVENT_PIPELINE: the run */
    char step[136];               /* the step that changed, "" the run */
    int run_state;                /* enum yard_pipeline_state */
    int step_state;               /* enum yard_step_state (step not "") */
} yard_event_t;

/* Subscribe to the state changes of job_id (0: every job) and, with nodes,
 * of the nodes.  The subscription is made before this returns (events of
 * changes after it are delivered) and kept alive by yard_events_next.
 * *out: free with yard_events_destroy.  0 or a negative errno
 * (yard_client_errmsg says why: -ETIMEDOUT no answer, -EPROTO a scheduler
 * without events). */
YARD_API int yard_events_subscribe (yard_client_t *c, uint64_t job_id,
                                    bool nodes, yard_events_t **out);

/* The next event, waiting up to timeout_ms (-1: forever).  0 and *ev
 * filled, -ETIMEDOUT when none came in time, or another negative errno.
 * Renews the subscription as needed (also after a scheduler restart, when
 * events of the gap are lost). */
YARD_API int yard_events_next (yard_events_t *events, int timeout_ms,
                               yard_event_t *ev);

/* Events known lost so far (gaps in seq). */
YARD_API uint64_t yard_events_missed (const yard_events_t *events);

/* End the subscription (told to the scheduler, best effort) and free it.
 * Accepts NULL; NULLs the pointer. */
YARD_API void yard_events_destroy (yard_events_t **events);
/* ---- artifacts ---------------------------------------------------------- */

/* The scheduler keeps a content-addressed artifact store: a file is stored
 * as one blob named by the sha256 of its bytes (64 lowercase hex digits), a
 * folder as a tree (a manifest blob listing its files' paths, modes and
 * digests, named by the manifest's digest).  The same content always gets
 * the same digest, and storing what the store already holds sends nothing.
 * Transfers run on a socket of their own and are resumable: a put that was
 * cut off (timeout, scheduler restart) continues from what the store kept
 * when it is made again. */

typedef struct yard_artifact {
    char digest[YARD_ARTIFACT_DIGEST_LEN + 1];
    bool present;        /* the store holds it complete (a tree: with all
                            of its files) */
    bool is_tree;        /* a folder */
    uint64_t size;       /* bytes of content (a tree: of all its files) */
    uint64_t files;      /* a tree: its files; a file: 1 */
    uint64_t partial;    /* stat of a missing blob: bytes of an unfinished
                            upload the store holds */
    uint64_t sent_bytes; /* put: bytes of content sent (0: the store had it
                            all); get: bytes received */
} yard_artifact_t;

/* Store the file or folder at path (symlinks and special files inside a
 * folder are refused).  *out (may be NULL) gets its digest, size and what
 * was sent.  Each request waits up to the client's timeout.  0 or -errno:
 * -ENOENT no such path, -EINVAL neither file nor folder, -ETIMEDOUT the
 * scheduler did not answer (making the same put again resumes), -ENOSPC
 * the store's disk is full. */
YARD_API int yard_artifact_put (yard_client_t *c, const char *path,
                                yard_artifact_t *out);

/* Fetch artifact digest to dest, which must not exist: a tree becomes a
 * folder with its files and modes, a blob a file.  The content is checked
 * against the digest and appears at dest only once complete.  *out (may be
 * NULL) says what arrived.  -ENOENT: the store has no such artifact;
 * -EEXIST: dest exists; -EINVAL: not a digest. */
YARD_API int yard_artifact_get (yard_client_t *c, const char *digest,
                                const char *dest, yard_artifact_t *out);

/* What the store holds of digest.  A missing artifact is not an error:
 * out->present is false (and out->partial says how much of an unfinished
 * upload is there).  -EINVAL: not a digest. */
YARD_API int yard_artifact_stat (yard_client_t *c, const char *digest,
                                 yard_artifact_t *out);

/* One checkpoint of a job kept in the artifact store (workers without a
 * shared checkpoint root store each new checkpoint entry there). */
typedef struct yard_checkpoint {
    uint32_t attempt;          /* the attempt that wrote it */
    char *name;                /* its name in the checkpoint dir */
    int64_t step;              /* -1: unknown */
    char digest[YARD_ARTIFACT_DIGEST_LEN + 1]; /* yard_artifact_get */
    uint64_t size;             /* bytes of content */
    int64_t time_ms;           /* unix ms, when it was complete */
    char *node;
} yard_checkpoint_t;

/* A job's checkpoints in the store, newest first (at most its
 * keep_checkpoints).  *list is an array of *count (free with
 * yard_checkpoints_free; NULL when empty).  -ENOENT: no such job. */
YARD_API int yard_checkpoints (yard_client_t *c, uint64_t job_id,
                               yard_checkpoint_t **list, size_t *count);
YARD_API void yard_checkpoints_free (yard_checkpoint_t **list, size_t count);

/* ---- for jobs: reporting metrics --------------------------------------- */

/* Write one metrics line (a JSON object, no newline needed) to the fd in
 * $YARD_METRICS_FD.  Safe to call from training code: it never blocks and
 * never raises a signal (the write is non-blocking; if the pipe is full the
 * line is dropped and counted, see yard_metrics_dropped).  Lines longer
 * than PIPE_BUF (4096) bytes are refused (-EMSGSIZE) so that a line is
 * never cut in two.  Returns 0, -ENOENT when YARD_METRICS_FD is not set
 * (not under yard: nothing to do), -EAGAIN when dropped, or another
 * negative errno. */
YARD_API int yard_metric_write (const char *json_line);

/* Write {"step":step,"<key>":value}: a convenience over yard_metric_write.
 * key must not need JSON escaping beyond '"' and '\\' (they are escaped);
 * a non-finite value is dropped (-EDOM). */
YARD_API int yard_metrics_log (int64_t step, const char *key, double value);

/* Announce a checkpoint the job finished writing: {"checkpoint":path,
 * "step":step} (step < 0: left out).  path is inside $YARD_CHECKPOINT_DIR,
 * absolute or relative to it, and complete (renamed from its .tmp or dot
 * name); the worker stores it at once with that step, instead of finding
 * it at its next look at the folder.  A path outside the folder is refused
 * by the worker.  Returns as yard_metric_write; -EINVAL for an empty path. */
YARD_API int yard_metrics_checkpoint (const char *path, int64_t step);

/* Lines dropped so far by yard_metric_write because the pipe was full. */
YARD_API uint64_t yard_metrics_dropped (void);

#ifdef __cplusplus
}
#endif

#endif
