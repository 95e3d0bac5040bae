/* usage.h - what an attempt uses: CPU time, memory and GPU, measured on its
 * node and reported as a ResourceUse (see proto/yard.proto).
 *
 * Sources, best first: the attempt's cgroup (v2: cpu.stat, memory.peak and
 * memory.current; v1: cpuacct.usage_user/_sys and
 * memory.max_usage_in_bytes/usage_in_bytes); the rusage that the yard-exec
 * shim collects with wait4 when the job ends (usage file, see bind.h);
 * while it runs and has no cgroup, a sample of /proc for its process
 * group.  GPU figures come from NVML (nvml.h).  The parsers take text or a
 * root dir so that the tests run them on fixtures.
 */
#ifndef WORKER_USAGE_H
#define WORKER_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "yard.pb-c.h"

struct usage {
    bool has_cpu;
    uint64_t cpu_user_us;
    uint64_t cpu_system_us;
    bool has_rss;
    uint64_t peak_rss_bytes;
    uint64_t rss_bytes;
    bool has_gpu;
    uint32_t gpu_util_pct;
    uint64_t gpu_memory_bytes;
    uint64_t gpu_peak_memory_bytes;
    char source[16]; /* "cgroup-v2", "cgroup-v1", "rusage", "proc", "" */
    int64_t time_ms;
    bool final;
};

/* v2 cpu.stat text: user_usec and system_usec.  0 or -EINVAL when either
 * is missing. */
int usage_parse_cpu_stat (const char *text, uint64_t *user_us,
                          uint64_t *system_us);

/* A file holding one unsigned number (memory.peak, cpuacct.usage_user,
 * ...).  0 or -EINVAL. */
int usage_parse_u64 (const char *text, uint64_t *v);

/* Read a v2 cgroup dir into u (the fields it has).  0 when it gave
 * anything, else a negative errno (-ENOENT: no such files). */
int usage_read_cgroup_v2 (const char *dir, struct usage *u);

/* Read v1 cgroup dirs (either may be NULL or ""): CPU from cpuacct_dir,
 * memory from mem_dir.  0 when they gave anything, else a negative errno. */
int usage_read_cgroup_v1 (const char *cpuacct_dir, const char *mem_dir,
                          struct usage *u);

/* The shim's usage file: "user_us system_us maxrss_kib\n" (RUSAGE of what
 * it waited for).  Write returns 0 or a negative errno; read fills CPU and
 * peak RSS with source "rusage" and returns 0, -ENOENT or -EINVAL. */
int usage_write_rusage (const char *path, const struct rusage *ru);
int usage_read_rusage (const char *path, struct usage *u);
/* The rusage of a reaped job (wait4), as usage_read_rusage gives it. */
void usage_from_rusage (const struct rusage *ru, struct usage *u);

/* Sample the processes of process group pgid under proc_root ("/proc"):
 * CPU time of the live members plus what the leader reaped, resident
 * memory now; the peak is raised to it (the caller keeps the highest
 * sample in u).  0, or -ESRCH when no member is left. */
int usage_proc_sample (const char *proc_root, int pgid, struct usage *u);

/* The same for n process groups in one pass over proc_root: out[i] for
 * pgids[i].  Returns how many groups had a member, or a negative errno. */
int usage_proc_scan (const char *proc_root, const int *pgids,
                     struct usage *const *out, size_t n);

/* Fill what dst lacks from src (peaks: the higher of the two). */
void usage_merge (struct usage *dst, const struct usage *src);

/* To and from the wire.  usage_to_proto borrows u's strings: m lives no
 * longer than u.  Returns false (m left unset) when u holds nothing. */
bool usage_to_proto (const struct usage *u, Yard__ResourceUse *m);
void usage_from_proto (const Yard__ResourceUse *m, struct usage *u);

#endif
