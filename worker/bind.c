/* bind.c - cgroups, environment and the exec shim for a job's allocation
 * (see bind.h).
 *
 * Everything here is small synchronous writes to cgroupfs (a few per
 * attempt, at start and end), cheap enough for the loop's thread.  The
 * groups themselves outlive their attempts: an attempt takes an idle one
 * (emptied, its counters noted, its limits written where they differ)
 * and gives it back once its job is gone, so that no cgroup is made or
 * removed per attempt in the steady state.
 */
#include "bind.h"
#include "gang.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpulist.h"
#include "log.h"
#include "usage.h"
#include "util.h"

#define CG_CONTROLLERS "+cpuset +memory"

enum cg_mode { CG_NONE, CG_V1, CG_V2 };

/* The hierarchies an attempt may have a group in (v2: H_MEM only, which
 * then holds every controller). */
enum cg_hier { H_MEM, H_CPUSET, H_ACCT, H_COUNT };

/* An idle group kept for the next attempt: WORKER/slot-ID, empty, with
 * the settings its last attempt left (written again only when they
 * differ). */
struct slot {
    unsigned id;    /* 0: none */
    uint64_t limit; /* memory limit written, 0: none */
    char cpus[256]; /* cpuset.cpus written ("" none, or too long) */
};

/* Idle groups per hierarchy, reused last in, first out: making and
 * removing a cgroup per attempt (mkdir/rmdir in cgroupfs, the v1 cpuset's
 * inherited cpus and mems) cost more than the rest of the start. */
struct pool {
    struct slot *idle;
    size_t n, cap;
    unsigned next_id;
};

/* What bind_init found; the worker has one of each. */
static struct {
    bool inited;
    enum cg_mode mode;
    bool mem_ok;               /* v1 memory / v2 memory controller usable */
    bool cpuset_ok;
    bool acct_ok;              /* v1 cpuacct: CPU time per attempt */
    char mem_root[PATH_MAX];   /* .../yard/w-PID (v2: both the same) */
    char acct_root[PATH_MAX];  /* v1 only */
    char cpuset_root[PATH_MAX];
    char shim[PATH_MAX];       /* "" when there is none */
    struct pool pools[H_COUNT];
} g;

struct bind {
    uint64_t job_id;
    uint32_t attempt;
    char *cpus;          /* owned, "" for none */
    char *gpus;          /* owned, UUIDs joined by ',' */
    size_t npus;
    uint64_t memory_bytes;
    char mem_dir[PATH_MAX];    /* "" when none */
    char cpuset_dir[PATH_MAX]; /* v1 only; "" when none */
    char acct_dir[PATH_MAX];   /* v1 cpuacct only; "" when none */
    char npus_text[16];
    char usage_file[PATH_MAX]; /* the shim's rusage goes there; "" none */
    char exec_path[PATH_MAX];  /* argv[0] found on the job's PATH; "" */
    struct slot held[H_COUNT]; /* the groups above, by hierarchy */
    /* counters as the groups held them when the attempt took them: its
     * use is the difference */
    uint64_t base_user_us, base_system_us;
    long long base_oom;
    int peak_fd;       /* v2 memory.peak, reset for this attempt; -1 */
    bool peak_stale;   /* v2 memory.peak counts earlier attempts too */
};

/* ---- cgroupfs ---- */

/* A path from fmt; "" (and -ENAMETOOLONG) when it does not fit. */
static int pathf (char *buf, size_t len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
pathf (char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (buf, len, fmt, ap);
    va_end (ap);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

static int
write_file (const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = strlen (text);
    ssize_t w = write (fd, text, n);
    int rc = w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
    close (fd);
    return rc;
}


/* v1 cpuset groups start with empty cpus/mems: a task cannot join until
 * they are set, so a new group inherits its parent's (when still empty). */
static int
cpuset_inherit (const char *parent, const char *child)
{
    static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
    for (size_t i = 0; i < 2; i++) {
        char mine[4096], theirs[4096];
        int rc = yard_read_text_at (child, files[i], mine, sizeof mine);
        if (rc < 0)
            return rc;
        if (mine[0] && mine[0] != '\n')
            continue;
        if ((rc = yard_read_text_at (parent, files[i], theirs, sizeof theirs)) < 0
            || (rc = write_file (child, files[i], theirs)) < 0)
            return rc;
    }
    return 0;
}

static int
mkdir_ok (const char *path)
{
    return mkdir (path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* SIGKILL whatever is still in dir; how many processes it held (0 when
 * it is empty, or has no cgroup.procs: a fixture tree). */
static int
group_kill (const char *dir)
{
    char procs[8192];
    int n = 0;
    if (yard_read_text_at (dir, "cgroup.procs", procs, sizeof procs) == 0) {
        char *save = NULL;
        for (char *t = strtok_r (procs, "\n", &save); t;
             t = strtok_r (NULL, "\n", &save)) {
            long pid = strtol (t, NULL, 10);
            if (pid > 1) {
                (void)kill ((pid_t)pid, SIGKILL);
                n++;
            }
        }
    }
    return n;
}

/* SIGKILL whatever is still in dir, then remove it. */
static int
group_remove (const char *dir)
{
    (void)group_kill (dir);
    return rmdir (dir) == 0 || errno == ENOENT ? 0 : -errno;
}

/* Remove the job groups of workers that are gone (yard/w-PID, PID dead;
 * job-ID.ATTEMPT from older workers, slot-N now):
 * a worker killed with -9 leaves them behind. */
static void
sweep (const char *yard)
{
    DIR *d = opendir (yard);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d))) {
        char *end;
        if (strncmp (e->d_name, "w-", 2) != 0)
            continue;
        long pid = strtol (e->d_name + 2, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid ()
            || kill ((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char wdir[PATH_MAX];
        if (snprintf (wdir, sizeof wdir, "%s/%s", yard, e->d_name)
            >= (int)sizeof wdir)
            continue;
        DIR *jd = opendir (wdir);
        struct dirent *je;
        while (jd && (je = readdir (jd))) {
            char jdir[PATH_MAX * 2];
            if (strncmp (je->d_name, "job-", 4) != 0
                && strncmp (je->d_name, "slot-", 5) != 0)
                continue;
            snprintf (jdir, sizeof jdir, "%s/%s", wdir, je->d_name);
            (void)group_remove (jdir);
        }
        if (jd)
            closedir (jd);
        (void)rmdir (wdir);
    }
    closedir (d);
}

static bool
is_dir (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static void
init_v2 (const char *root)
{
    char yard[PATH_MAX];
    pathf (yard, sizeof yard, "%s/yard", root);
    (void)write_file (root, "cgroup.subtree_control", CG_CONTROLLERS);
    if (mkdir_ok (yard) < 0)
        return;
    sweep (yard);
    (void)write_file (yard, "cgroup.subtree_control", CG_CONTROLLERS);
    pathf (g.mem_root, sizeof g.mem_root, "%s/w-%ld", yard,
              (long)getpid ());
    if (mkdir_ok (g.mem_root) < 0)
        return;
    (void)write_file (g.mem_root, "cgroup.subtree_control", CG_CONTROLLERS);
    char ctl[256] = "";
    (void)yard_read_text_at (g.mem_root, "cgroup.subtree_control", ctl, sizeof ctl);
    g.mem_ok = strstr (ctl, "memory") != NULL;
    g.cpuset_ok = strstr (ctl, "cpuset") != NULL;
    pathf (g.cpuset_root, sizeof g.cpuset_root, "%s", g.mem_root);
    g.mode = CG_V2;
}

static void
init_v1 (const char *root)
{
    char base[PATH_MAX], yard[PATH_MAX];
    pathf (base, sizeof base, "%s/memory", root);
    pathf (yard, sizeof yard, "%s/yard", base);
    if (is_dir (base) && mkdir_ok (yard) == 0) {
        sweep (yard);
        pathf (g.mem_root, sizeof g.mem_root, "%s/w-%ld", yard,
                  (long)getpid ());
        g.mem_ok = mkdir_ok (g.mem_root) == 0
                   && write_file (g.mem_root, "memory.use_hierarchy", "1")
                          != -ENOENT;
    }
    pathf (base, sizeof base, "%s/cpuset", root);
    pathf (yard, sizeof yard, "%s/yard", base);
    if (is_dir (base) && mkdir_ok (yard) == 0
        && cpuset_inherit (base, yard) == 0) {
        sweep (yard);
        pathf (g.cpuset_root, sizeof g.cpuset_root, "%s/w-%ld", yard,
                  (long)getpid ());
        g.cpuset_ok = mkdir_ok (g.cpuset_root) == 0
                      && cpuset_inherit (yard, g.cpuset_root) == 0;
    }
    /* cpuacct (often mounted as "cpu,cpuacct" with a "cpuacct" link): only
     * to account each attempt's CPU time; its groups need no setup */
    pathf (base, sizeof base, "%s/cpuacct", root);
    pathf (yard, sizeof yard, "%s/yard", base);
    if (is_dir (base) && mkdir_ok (yard) == 0) {
        sweep (yard);
        pathf (g.acct_root, sizeof g.acct_root, "%s/w-%ld", yard,
               (long)getpid ());
        g.acct_ok = mkdir_ok (g.acct_root) == 0;
    }
    if (g.mem_ok || g.cpuset_ok || g.acct_ok)
        g.mode = CG_V1;
}

static void
find_shim (void)
{
    const char *env = getenv ("YARD_EXEC");
    if (env && *env) {
        snprintf (g.shim, sizeof g.shim, "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return;
        self[n] = '\0';
        char *slash = strrchr (self, '/');
        if (!slash)
            return;
        *slash = '\0';
        if (snprintf (g.shim, sizeof g.shim, "%s/yard-exec", self)
            >= (int)sizeof g.shim)
            g.shim[0] = '\0';
    }
    if (g.shim[0] && access (g.shim, X_OK) < 0) {
        log_warn ("no exec shim at %s (%s): jobs run without CPU affinity "
                  "or cgroups", g.shim, strerror (errno));
        g.shim[0] = '\0';
    }
}

void
bind_init (void)
{
    if (g.inited)
        return;
    g.inited = true;
    find_shim ();
    const char *root = getenv ("YARD_CGROUP_ROOT");
    if (root && strcmp (root, "none") == 0) {
        log_warn ("cgroups off (YARD_CGROUP_ROOT=none): jobs get CPU "
                  "affinity only, no memory limit");
        return;
    }
    if (!root || !*root)
        root = "/sys/fs/cgroup";
    char probe[PATH_MAX];
    pathf (probe, sizeof probe, "%s/cgroup.controllers", root);
    if (access (probe, F_OK) == 0)
        init_v2 (root);
    else
        init_v1 (root);
    if (g.mode == CG_NONE)
        log_warn ("no writable cgroup under %s: jobs get CPU affinity only, "
                  "no memory limit", root);
    else
        log_info ("cgroup %s under %s (memory %s, cpuset %s%s)",
                  g.mode == CG_V2 ? "v2" : "v1", root,
                  g.mem_ok ? "yes" : "no", g.cpuset_ok ? "yes" : "no",
                  g.mode == CG_V1 ? (g.acct_ok ? ", cpuacct yes"
                                               : ", cpuacct no")
                                  : "");
}

static void pool_drain (enum cg_hier h, const char *root);

void
bind_fini (void)
{
    pool_drain (H_MEM, g.mem_root);
    pool_drain (H_CPUSET, g.cpuset_root);
    pool_drain (H_ACCT, g.acct_root);
    if (g.mem_root[0])
        (void)rmdir (g.mem_root);
    if (g.cpuset_root[0] && strcmp (g.cpuset_root, g.mem_root) != 0)
        (void)rmdir (g.cpuset_root);
    if (g.acct_root[0])
        (void)rmdir (g.acct_root);
}

const char *
bind_cgroup_mode (void)
{
    return g.mode == CG_V2 ? "v2" : g.mode == CG_V1 ? "v1" : "none";
}

/* ---- one attempt ---- */

/* True when every PU in list is one this process may run on (a fixture
 * topology names PUs this machine does not have). */
static bool
pus_here (const char *list)
{
    int n = yard_cpulist_extent (list);
    if (n <= 0)
        return false;
    cpu_set_t *set = CPU_ALLOC ((size_t)n);
    bool *want = calloc ((size_t)n, sizeof *want);
    bool ok = set && want && yard_cpulist_parse (list, want, (size_t)n) > 0;
    size_t sz = CPU_ALLOC_SIZE ((size_t)n);
    if (ok) {
        CPU_ZERO_S (sz, set);
        ok = sched_getaffinity (0, sz, set) == 0 || errno == EINVAL;
        for (int i = 0; ok && i < n; i++)
            if (want[i] && !CPU_ISSET_S ((size_t)i, sz, set))
                ok = false;
    }
    if (set)
        CPU_FREE (set);
    free (want);
    return ok;
}

/* ---- the pool of idle groups ---- */

static const char *const hier_name[H_COUNT] = { "memory", "cpuset",
                                                "cpuacct" };

/* Take a group for b in hierarchy h under root: the idle one used last,
 * else a new slot-N.  dir is "" when none can be had (logged).  Returns
 * true when the group is new (nothing to reset). */
static bool
take_group (struct bind *b, enum cg_hier h, const char *root, char *dir,
            size_t len)
{
    struct pool *p = &g.pools[h];
    struct slot s = { 0 };
    bool fresh = p->n == 0;
    if (fresh)
        s.id = ++p->next_id;
    else
        s = p->idle[--p->n];
    int rc = pathf (dir, len, "%s/slot-%u", root, s.id);
    if (rc == 0 && fresh)
        rc = mkdir_ok (dir);
    if (rc < 0) {
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot create %s cgroup %s: "
                  "%s", b->job_id, b->attempt, hier_name[h], dir,
                  strerror (-rc));
        dir[0] = '\0';
        return fresh;
    }
    b->held[h] = s;
    return fresh;
}

/* Give back b's group in h: idle for the next attempt when it is empty,
 * else (something outlived the job: killed now, it may take a moment to
 * leave) removed, or left for the next start's sweep. */
static void
give_group (struct bind *b, enum cg_hier h, char *dir)
{
    if (!dir[0])
        return;
    struct pool *p = &g.pools[h];
    if (group_kill (dir) == 0 && b->held[h].id) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 8;
            struct slot *v = realloc (p->idle, cap * sizeof *v);
            if (v) {
                p->idle = v;
                p->cap = cap;
            }
        }
        if (p->n < p->cap) {
            /* v1 charges the page cache its jobs touched to the group:
             * let the next attempt start from nothing */
            if (g.mode == CG_V1 && h == H_MEM)
                (void)write_file (dir, "memory.force_empty", "0");
            p->idle[p->n++] = b->held[h];
            b->held[h].id = 0;
            dir[0] = '\0';
            return;
        }
    }
    int rc = rmdir (dir) == 0 || errno == ENOENT ? 0 : -errno;
    if (rc < 0)
        log_debug ("job %" PRIu64 ".%" PRIu32 ": cgroup %s not removed "
                   "yet: %s (the next worker start sweeps it)",
                   b->job_id, b->attempt, dir, strerror (-rc));
    b->held[h].id = 0;
    dir[0] = '\0';
}

/* Remove the idle groups of h (at exit). */
static void
pool_drain (enum cg_hier h, const char *root)
{
    struct pool *p = &g.pools[h];
    char dir[PATH_MAX];
    for (size_t i = 0; i < p->n; i++)
        if (pathf (dir, sizeof dir, "%s/slot-%u", root, p->idle[i].id) == 0)
            (void)rmdir (dir);
    free (p->idle);
    memset (p, 0, sizeof *p);
}

/* The raw count of OOM kills in a memory group (v1 before 4.13: times
 * the limit was hit), -1 when it has none. */
static long long keyed (const char *dir, const char *file, const char *key);

static long long
oom_count (const char *dir)
{
    if (g.mode == CG_V2)
        return keyed (dir, "memory.events", "oom_kill");
    long long kills = keyed (dir, "memory.oom_control", "oom_kill");
    if (kills < 0) {
        char buf[64];
        if (yard_read_text_at (dir, "memory.failcnt", buf, sizeof buf) == 0)
            kills = strtoll (buf, NULL, 10);
    }
    return kills;
}

/* A reused group counts what earlier attempts used: note where its
 * counters stand (their use is the difference) and reset its peak. */
static void
group_baseline (struct bind *b, enum cg_hier h, const char *dir)
{
    char buf[1024];
    uint64_t u, s;
    if (h == H_ACCT) {
        if (yard_read_text_at (dir, "cpuacct.usage_user", buf, sizeof buf) == 0
            && usage_parse_u64 (buf, &u) == 0
            && yard_read_text_at (dir, "cpuacct.usage_sys", buf, sizeof buf)
                   == 0
            && usage_parse_u64 (buf, &s) == 0) {
            b->base_user_us = u / 1000;
            b->base_system_us = s / 1000;
        }
        return;
    }
    /* H_MEM */
    b->base_oom = oom_count (dir);
    if (g.mode == CG_V1) {
        (void)write_file (dir, "memory.max_usage_in_bytes", "0");
        return;
    }
    if (yard_read_text_at (dir, "cpu.stat", buf, sizeof buf) == 0
        && usage_parse_cpu_stat (buf, &u, &s) == 0) {
        b->base_user_us = u;
        b->base_system_us = s;
    }
    /* memory.peak is reset through an fd, for readers of that fd only
     * (kernels from 6.12); elsewhere the peak comes from samples and the
     * job's rusage */
    char path[PATH_MAX];
    b->peak_stale = true;
    if (pathf (path, sizeof path, "%s/memory.peak", dir) == 0
        && (b->peak_fd = open (path, O_RDWR | O_CLOEXEC)) >= 0) {
        if (write (b->peak_fd, "reset\n", 6) == 6)
            b->peak_stale = false;
        else {
            close (b->peak_fd);
            b->peak_fd = -1;
        }
    }
}

/* Write cpuset.cpus in dir when it differs from what was written last (*last,
 * updated).  0 or a negative errno. */
static int
set_cpus (const char *dir, char *last, size_t len, const char *cpus)
{
    if (strcmp (last, cpus) == 0)
        return 0;
    int rc = write_file (dir, "cpuset.cpus", cpus[0] ? cpus : "\n");
    if (rc == 0 && strlen (cpus) < len)
        snprintf (last, len, "%s", cpus);
    else
        last[0] = '\0';
    return rc;
}

static void
setup_groups (struct bind *b)
{
    bool cpus_here = b->cpus[0] && pus_here (b->cpus);
    if (g.mode == CG_V1 && g.acct_ok
        && !take_group (b, H_ACCT, g.acct_root, b->acct_dir,
                        sizeof b->acct_dir)
        && b->acct_dir[0])
        group_baseline (b, H_ACCT, b->acct_dir);
    if (g.mem_ok && (b->memory_bytes > 0 || g.mode == CG_V2)) {
        bool fresh = take_group (b, H_MEM, g.mem_root, b->mem_dir,
                                 sizeof b->mem_dir);
        if (b->mem_dir[0] && fresh) {
            if (g.mode == CG_V2)
                (void)write_file (b->mem_dir, "memory.swap.max", "0");
            else
                (void)write_file (b->mem_dir, "memory.swappiness", "0");
        } else if (b->mem_dir[0]) {
            group_baseline (b, H_MEM, b->mem_dir);
        }
    }
    struct slot *ms = &b->held[H_MEM];
    if (b->mem_dir[0] && ms->limit != b->memory_bytes) {
        char v[32];
        if (b->memory_bytes > 0)
            snprintf (v, sizeof v, "%" PRIu64, b->memory_bytes);
        else
            snprintf (v, sizeof v, "%s", g.mode == CG_V2 ? "max" : "-1");
        int rc = write_file (b->mem_dir, g.mode == CG_V2
                                             ? "memory.max"
                                             : "memory.limit_in_bytes", v);
        if (rc < 0)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot set its memory "
                      "limit in %s: %s", b->job_id, b->attempt, b->mem_dir,
                      strerror (-rc));
        ms->limit = rc == 0 ? b->memory_bytes : UINT64_MAX;
    }
    const char *want = g.cpuset_ok && cpus_here ? b->cpus : "";
    if (g.mode == CG_V2) {
        if (b->mem_dir[0] && g.cpuset_ok
            && set_cpus (b->mem_dir, ms->cpus, sizeof ms->cpus, want) < 0)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot set cpuset %s",
                      b->job_id, b->attempt, b->cpus);
        return;
    }
    if (!want[0])
        return;
    bool fresh = take_group (b, H_CPUSET, g.cpuset_root, b->cpuset_dir,
                             sizeof b->cpuset_dir);
    struct slot *cs = &b->held[H_CPUSET];
    if (b->cpuset_dir[0]
        && ((fresh && cpuset_inherit (g.cpuset_root, b->cpuset_dir) < 0)
            || set_cpus (b->cpuset_dir, cs->cpus, sizeof cs->cpus, want)
                   < 0)) {
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot set cpuset %s: "
                  "affinity only", b->job_id, b->attempt, b->cpus);
        (void)group_remove (b->cpuset_dir);
        b->cpuset_dir[0] = '\0';
        cs->id = 0;
    }
}

struct bind *
bind_create (uint64_t job_id, uint32_t attempt, const Yard__Allocation *alloc,
             uint64_t memory_bytes)
{
    struct bind *b = calloc (1, sizeof *b);
    if (!b)
        return NULL;
    b->job_id = job_id;
    b->attempt = attempt;
    b->memory_bytes = memory_bytes;
    b->base_oom = -1;
    b->peak_fd = -1;
    const char *cpus = alloc && alloc->cpus ? alloc->cpus : "";
    if (yard_cpulist_extent (cpus) < 0)
        cpus = ""; /* malformed: run unbound rather than not at all */
    if (!(b->cpus = strdup (cpus)))
        goto error;
    size_t len = 1;
    for (size_t i = 0; alloc && i < alloc->n_gpu_uuids; i++)
        len += strlen (alloc->gpu_uuids[i] ? alloc->gpu_uuids[i] : "") + 1;
    if (!(b->gpus = calloc (len, 1)))
        goto error;
    for (size_t i = 0; alloc && i < alloc->n_gpu_uuids; i++) {
        if (i)
            strcat (b->gpus, ",");
        strcat (b->gpus, alloc->gpu_uuids[i] ? alloc->gpu_uuids[i] : "");
    }
    if (*b->cpus) {
        int n = yard_cpulist_extent (b->cpus);
        bool *set = calloc ((size_t)n, sizeof *set);
        if (!set)
            goto error;
        int c = yard_cpulist_parse (b->cpus, set, (size_t)n);
        free (set);
        b->npus = c > 0 ? (size_t)c : 0;
    }
    snprintf (b->npus_text, sizeof b->npus_text, "%zu", b->npus);
    if (g.mode != CG_NONE)
        setup_groups (b);
    return b;
error:
    free (b->cpus);
    free (b->gpus);
    free (b);
    errno = ENOMEM;
    return NULL;
}

int
bind_env (const struct bind *b, jobenv_t *env, bool keep_omp)
{
    int rc = 0;
    if (b->gpus[0]) {
        if ((rc = jobenv_set (env, "CUDA_VISIBLE_DEVICES", b->gpus)) < 0
            || (rc = jobenv_set (env, "CUDA_DEVICE_ORDER", "PCI_BUS_ID")) < 0)
            return rc;
    }
    if ((rc = jobenv_set (env, "YARD_GPUS", b->gpus)) < 0)
        return rc;
    if (b->cpus[0]) {
        if ((rc = jobenv_set (env, "YARD_CPUS", b->cpus)) < 0)
            return rc;
        if (!keep_omp
            && (rc = jobenv_set (env, "OMP_NUM_THREADS", b->npus_text)) < 0)
            return rc;
    }
    return 0;
}

int
bind_argv (const struct bind *b, char *const *argv, size_t argc, char ***out)
{
    if (!g.shim[0]
        || (!b->cpus[0] && !b->mem_dir[0] && !b->cpuset_dir[0]
            && !b->acct_dir[0] && !b->usage_file[0]))
        return -ENOENT;
    char **v = calloc (argc + 16, sizeof *v); /* 15 ours + NULL */
    if (!v)
        return -ENOMEM;
    size_t n = 0;
    v[n++] = g.shim;
    if (b->cpus[0]) {
        v[n++] = "--cpus";
        v[n++] = b->cpus;
    }
    if (b->mem_dir[0]) {
        v[n++] = "--cgroup";
        v[n++] = (char *)b->mem_dir;
    }
    if (b->cpuset_dir[0]) {
        v[n++] = "--cgroup";
        v[n++] = (char *)b->cpuset_dir;
    }
    if (b->acct_dir[0]) {
        v[n++] = "--cgroup";
        v[n++] = (char *)b->acct_dir;
    }
    if (b->usage_file[0]) {
        v[n++] = "--rusage";
        v[n++] = (char *)b->usage_file;
    }
    if (b->exec_path[0]) {
        v[n++] = "--exec";
        v[n++] = (char *)b->exec_path;
    }
    v[n++] = "--";
    for (size_t i = 0; i < argc; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    *out = v;
    return 0;
}

void
bind_set_exec_path (struct bind *b, const char *path)
{
    snprintf (b->exec_path, sizeof b->exec_path, "%s",
              path && strlen (path) < sizeof b->exec_path ? path : "");
}

void
bind_set_usage_file (struct bind *b, const char *path)
{
    snprintf (b->usage_file, sizeof b->usage_file, "%s",
              path && strlen (path) < sizeof b->usage_file ? path : "");
}

const char *
bind_gpus (const struct bind *b)
{
    return b ? b->gpus : "";
}

static uint64_t
minus (uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

int
bind_usage (const struct bind *b, struct usage *u)
{
    if (!b || (!b->mem_dir[0] && !b->acct_dir[0]))
        return -ENOENT;
    uint64_t peak = u->peak_rss_bytes;
    int rc = g.mode == CG_V2
                 ? usage_read_cgroup_v2 (b->mem_dir, u)
                 : usage_read_cgroup_v1 (b->acct_dir, b->mem_dir, u);
    if (rc < 0)
        return rc;
    if (u->has_cpu) {
        u->cpu_user_us = minus (u->cpu_user_us, b->base_user_us);
        u->cpu_system_us = minus (u->cpu_system_us, b->base_system_us);
    }
    if (g.mode == CG_V2 && u->has_rss && (b->peak_fd >= 0 || b->peak_stale)) {
        /* memory.peak as read counts earlier attempts: the peak since
         * our reset, or the highest sample */
        char buf[64];
        uint64_t v = u->rss_bytes;
        ssize_t n = b->peak_fd >= 0 ? pread (b->peak_fd, buf, sizeof buf - 1, 0)
                                    : -1;
        if (n > 0) {
            buf[n] = '\0';
            if (usage_parse_u64 (buf, &v) < 0)
                v = u->rss_bytes;
        }
        u->peak_rss_bytes = v > peak ? v : peak;
    }
    return 0;
}

int
bind_argv_tasks (const struct bind *b, unsigned tasks, unsigned rank_base,
                 bool set_omp, char *const *argv, size_t argc, char ***out)
{
    if (!g.shim[0])
        return -ENOENT;
    /* 14 of ours, the command, its NULL; the two numbers live in the same
     * block behind them, so that one free() releases everything */
    size_t nptr = argc + 16;
    char **v = calloc (1, nptr * sizeof *v + 32);
    if (!v)
        return -ENOMEM;
    char *nums = (char *)(v + nptr);
    snprintf (nums, 16, "%u", tasks);
    snprintf (nums + 16, 16, "%u", rank_base);
    size_t n = 0;
    v[n++] = g.shim;
    v[n++] = "--tasks";
    v[n++] = nums;
    v[n++] = "--rank-base";
    v[n++] = nums + 16;
    if (set_omp)
        v[n++] = "--task-omp";
    if (b->cpus[0]) {
        v[n++] = "--cpus";
        v[n++] = b->cpus;
    }
    if (b->mem_dir[0]) {
        v[n++] = "--cgroup";
        v[n++] = (char *)b->mem_dir;
    }
    if (b->cpuset_dir[0]) {
        v[n++] = "--cgroup";
        v[n++] = (char *)b->cpuset_dir;
    }
    v[n++] = "--";
    for (size_t i = 0; i < argc; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    *out = v;
    return 0;
}

/* The value of "key N" in a cgroup keyed file, -1 when absent. */
static long long
keyed (const char *dir, const char *file, const char *key)
{
    char buf[4096];
    if (yard_read_text_at (dir, file, buf, sizeof buf) < 0)
        return -1;
    size_t k = strlen (key);
    for (char *line = buf; line && *line;) {
        if (strncmp (line, key, k) == 0 && line[k] == ' ')
            return strtoll (line + k + 1, NULL, 10);
        line = strchr (line, '\n');
        if (line)
            line++;
    }
    return -1;
}

bool
bind_oom (const struct bind *b, char *msg, size_t len)
{
    if (!b || !b->mem_dir[0] || b->memory_bytes == 0)
        return false;
    long long kills = oom_count (b->mem_dir);
    if (kills > 0 && b->base_oom > 0)
        kills -= b->base_oom; /* a reused group: earlier attempts' too */
    if (kills <= 0)
        return false;
    char size[32];
    snprintf (msg, len, "out of memory (limit %s)",
              yard_format_size (b->memory_bytes, size, sizeof size));
    return true;
}

void
bind_destroy (struct bind **bp)
{
    if (!bp || !*bp)
        return;
    struct bind *b = *bp;
    give_group (b, H_MEM, b->mem_dir);
    give_group (b, H_CPUSET, b->cpuset_dir);
    give_group (b, H_ACCT, b->acct_dir);
    bind_forget (bp);
}

void
bind_forget (struct bind **bp)
{
    if (!bp || !*bp)
        return;
    if ((*bp)->peak_fd >= 0)
        close ((*bp)->peak_fd);
    free ((*bp)->cpus);
    free ((*bp)->gpus);
    free (*bp);
    *bp = NULL;
}

size_t
bind_cgroup_dirs (const struct bind *b, const char *dirs[3])
{
    size_t n = 0;
    if (b && b->mem_dir[0])
        dirs[n++] = b->mem_dir;
    if (b && b->cpuset_dir[0])
        dirs[n++] = b->cpuset_dir;
    if (b && b->acct_dir[0])
        dirs[n++] = b->acct_dir;
    for (size_t i = n; i < 3; i++)
        dirs[i] = NULL;
    return n;
}

int
bind_cpu_mask (const struct bind *b, cpu_set_t **set, size_t *size)
{
    *set = NULL;
    *size = 0;
    if (!b || !b->cpus[0])
        return 0;
    if (!pus_here (b->cpus))
        return -EXDEV;
    int n = yard_cpulist_extent (b->cpus);
    if (n <= 0)
        return -EINVAL;
    cpu_set_t *s = CPU_ALLOC ((size_t)n);
    bool *want = calloc ((size_t)n, sizeof *want);
    int rc = 0;
    if (!s || !want)
        rc = -ENOMEM;
    else if (yard_cpulist_parse (b->cpus, want, (size_t)n) < 0)
        rc = -EINVAL;
    if (rc == 0) {
        size_t sz = CPU_ALLOC_SIZE ((size_t)n);
        CPU_ZERO_S (sz, s);
        for (int i = 0; i < n; i++)
            if (want[i])
                CPU_SET_S ((size_t)i, sz, s);
        *set = s;
        *size = sz;
    } else if (s) {
        CPU_FREE (s);
    }
    free (want);
    return rc;
}

const char *
bind_cpus (const struct bind *b)
{
    return b ? b->cpus : "";
}

/* ---- yard-exec ---- */

static void
shim_affinity (const char *list)
{
    if (!pus_here (list)) {
        fprintf (stderr, "yard-exec: warning: PUs %s are not all on this "
                 "machine (a fixture topology?): running unbound\n", list);
        return;
    }
    int n = yard_cpulist_extent (list);
    cpu_set_t *set = CPU_ALLOC ((size_t)n);
    bool *want = calloc ((size_t)n, sizeof *want);
    if (!set || !want || yard_cpulist_parse (list, want, (size_t)n) < 0) {
        fprintf (stderr, "yard-exec: warning: cannot bind to PUs %s: "
                 "running unbound\n", list);
    } else {
        size_t sz = CPU_ALLOC_SIZE ((size_t)n);
        CPU_ZERO_S (sz, set);
        for (int i = 0; i < n; i++)
            if (want[i])
                CPU_SET_S ((size_t)i, sz, set);
        if (sched_setaffinity (0, sz, set) < 0)
            fprintf (stderr, "yard-exec: warning: cannot bind to PUs %s: "
                     "%s: running unbound\n", list, strerror (errno));
    }
    if (set)
        CPU_FREE (set);
    free (want);
}

/* Exec argv: the file path when the worker found it already (no second
 * PATH search, which tries every entry before the right one), else
 * argv[0] on PATH. */
static void
shim_exec (char **argv, const char *path)
{
    if (path && *path)
        execv (path, argv);
    else
        execvp (argv[0], argv);
}

static void
shim_ignore (int sig)
{
    (void)sig;
}

/* --rusage: run the job as a child and wait for it, so that its rusage
 * (wait4: the job and every descendant it waited for) can be written to
 * path before the shim ends the way the job did.  The shim stays the
 * process group's leader: the worker signals the whole group, so the shim
 * only has to survive those signals (a no-op handler, reset by the exec in
 * the child) and let the job take them. */
static int
shim_fork_exec (char **argv, const char *exec_path, const char *path)
{
    static const int sigs[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                                SIGUSR2, SIGALRM, SIGPIPE, SIGXCPU, SIGVTALRM,
                                SIGPROF, SIGWINCH, SIGURG, SIGPWR };
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = shim_ignore; /* no SA_RESTART: wait4 sees EINTR */
    sigemptyset (&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        (void)sigaction (sigs[i], &sa, NULL);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
        (void)sigaction (s, &sa, NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "yard-exec: warning: cannot fork (%s): resource "
                 "use is not measured\n", strerror (errno));
    }
    if (pid <= 0) {
        /* the job (or, without a fork, the shim becoming it) */
        shim_exec (argv, exec_path);
        int e = errno;
        fprintf (stderr, "yard-exec: cannot run %s: %s\n", argv[0],
                 strerror (e));
        _exit (e == ENOENT ? 127 : 126);
    }
    int status;
    struct rusage ru;
    while (wait4 (pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf (stderr, "yard-exec: wait4: %s\n", strerror (errno));
            return 126;
        }
    }
    int rc = usage_write_rusage (path, &ru);
    if (rc < 0)
        fprintf (stderr, "yard-exec: warning: cannot write %s: %s\n", path,
                 strerror (-rc));
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    int sig = WIFSIGNALED (status) ? WTERMSIG (status) : SIGKILL;
    /* end by the same signal, without a core of our own */
    struct rlimit nocore = { 0, 0 };
    (void)setrlimit (RLIMIT_CORE, &nocore);
    signal (sig, SIG_DFL);
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, sig);
    sigprocmask (SIG_UNBLOCK, &set, NULL);
    raise (sig);
    return 128 + sig;
}

int
bind_shim_main (int argc, char **argv)
{
    const char *cpus = NULL, *usage_path = NULL, *exec_path = NULL;
    uint32_t tasks = 0, rank_base = 0;
    bool task_omp = false;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp (argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp (argv[i], "--tasks") == 0 && i + 1 < argc) {
            if (yard_parse_u32 (argv[++i], &tasks) < 0 || tasks == 0
                || tasks > 4096) {
                fprintf (stderr, "yard-exec: bad --tasks '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp (argv[i], "--rank-base") == 0 && i + 1 < argc) {
            if (yard_parse_u32 (argv[++i], &rank_base) < 0) {
                fprintf (stderr, "yard-exec: bad --rank-base '%s'\n",
                         argv[i]);
                return 2;
            }
        } else if (strcmp (argv[i], "--task-omp") == 0) {
            task_omp = true;
        } else if (strcmp (argv[i], "--cpus") == 0 && i + 1 < argc) {
            cpus = argv[++i];
        } else if (strcmp (argv[i], "--cgroup") == 0 && i + 1 < argc) {
            /* join first: a v1 cpuset group resets the affinity */
            char pid[32];
            snprintf (pid, sizeof pid, "%ld\n", (long)getpid ());
            int rc = write_file (argv[++i], "cgroup.procs", pid);
            if (rc < 0)
                fprintf (stderr, "yard-exec: warning: cannot join cgroup "
                         "%s: %s\n", argv[i], strerror (-rc));
        } else if (strcmp (argv[i], "--rusage") == 0 && i + 1 < argc) {
            usage_path = argv[++i];
        } else if (strcmp (argv[i], "--exec") == 0 && i + 1 < argc) {
            exec_path = argv[++i];
        } else {
            fprintf (stderr, "usage: yard-exec [--tasks N [--rank-base B] "
                     "[--task-omp]] [--cpus LIST] [--cgroup DIR]... "
                     "[--rusage FILE] [--exec PATH] -- COMMAND [ARG]...\n");
            return 2;
        }
    }
    if (i >= argc) {
        fprintf (stderr, "yard-exec: no command\n");
        return 2;
    }
    if (cpus && *cpus)
        shim_affinity (cpus);
    if (tasks > 0) /* a gang job's part: one process per task (gang.h) */
        return gang_run_tasks (tasks, rank_base, cpus, task_omp, argv + i);
    if (usage_path && *usage_path)
        return shim_fork_exec (argv + i, exec_path, usage_path);
    shim_exec (argv + i, exec_path);
    int e = errno;
    fprintf (stderr, "yard-exec: cannot run %s: %s\n", argv[i], strerror (e));
    return e == ENOENT ? 127 : 126;
}
