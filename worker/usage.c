/* usage.c - reading an attempt's resource use from cgroups, the shim's
 * rusage and /proc (see usage.h). */
#include "usage.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"


int
usage_parse_u64 (const char *text, uint64_t *v)
{
    if (!text)
        return -EINVAL;
    while (*text == ' ' || *text == '\t')
        text++;
    if (!isdigit ((unsigned char)*text))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long n = strtoull (text, &end, 10);
    if (errno)
        return -EINVAL;
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    if (*end)
        return -EINVAL;
    *v = n;
    return 0;
}

/* "key N" lines: the value of key, or -ENOENT. */
static int
keyed_u64 (const char *text, const char *key, uint64_t *v)
{
    size_t k = strlen (key);
    for (const char *line = text; line && *line;) {
        if (strncmp (line, key, k) == 0 && line[k] == ' ') {
            const char *p = line + k + 1;
            if (!isdigit ((unsigned char)*p))
                return -EINVAL;
            *v = strtoull (p, NULL, 10);
            return 0;
        }
        line = strchr (line, '\n');
        if (line)
            line++;
    }
    return -ENOENT;
}

int
usage_parse_cpu_stat (const char *text, uint64_t *user_us,
                      uint64_t *system_us)
{
    uint64_t u, s;
    if (!text || keyed_u64 (text, "user_usec", &u) < 0
        || keyed_u64 (text, "system_usec", &s) < 0)
        return -EINVAL;
    *user_us = u;
    *system_us = s;
    return 0;
}

static int
read_u64 (const char *dir, const char *name, uint64_t *v)
{
    char buf[64];
    int rc = yard_read_text_at (dir, name, buf, sizeof buf);
    return rc < 0 ? rc : usage_parse_u64 (buf, v);
}

int
usage_read_cgroup_v2 (const char *dir, struct usage *u)
{
    char buf[1024];
    uint64_t a, b;
    bool any = false;
    if (!dir || !*dir)
        return -ENOENT;
    if (yard_read_text_at (dir, "cpu.stat", buf, sizeof buf) == 0
        && usage_parse_cpu_stat (buf, &a, &b) == 0) {
        u->has_cpu = true;
        u->cpu_user_us = a;
        u->cpu_system_us = b;
        any = true;
    }
    if (read_u64 (dir, "memory.current", &a) == 0) {
        u->has_rss = true;
        u->rss_bytes = a;
        if (a > u->peak_rss_bytes)
            u->peak_rss_bytes = a;
        any = true;
    }
    /* memory.peak: kernels from 5.19 */
    if (read_u64 (dir, "memory.peak", &a) == 0) {
        u->has_rss = true;
        u->peak_rss_bytes = a;
        any = true;
    }
    if (any)
        snprintf (u->source, sizeof u->source, "cgroup-v2");
    return any ? 0 : -ENOENT;
}

int
usage_read_cgroup_v1 (const char *cpuacct_dir, const char *mem_dir,
                      struct usage *u)
{
    uint64_t a, b;
    bool any = false;
    if (cpuacct_dir && *cpuacct_dir
        && read_u64 (cpuacct_dir, "cpuacct.usage_user", &a) == 0
        && read_u64 (cpuacct_dir, "cpuacct.usage_sys", &b) == 0) {
        u->has_cpu = true;
        u->cpu_user_us = a / 1000; /* nanoseconds */
        u->cpu_system_us = b / 1000;
        any = true;
    }
    if (mem_dir && *mem_dir) {
        if (read_u64 (mem_dir, "memory.usage_in_bytes", &a) == 0) {
            u->has_rss = true;
            u->rss_bytes = a;
            if (a > u->peak_rss_bytes)
                u->peak_rss_bytes = a;
            any = true;
        }
        if (read_u64 (mem_dir, "memory.max_usage_in_bytes", &a) == 0) {
            u->has_rss = true;
            u->peak_rss_bytes = a;
            any = true;
        }
    }
    if (any)
        snprintf (u->source, sizeof u->source, "cgroup-v1");
    return any ? 0 : -ENOENT;
}

int
usage_write_rusage (const char *path, const struct rusage *ru)
{
    char buf[128];
    uint64_t user = (uint64_t)ru->ru_utime.tv_sec * 1000000
                    + (uint64_t)ru->ru_utime.tv_usec;
    uint64_t sys = (uint64_t)ru->ru_stime.tv_sec * 1000000
                   + (uint64_t)ru->ru_stime.tv_usec;
    int n = snprintf (buf, sizeof buf, "%" PRIu64 " %" PRIu64 " %ld\n", user,
                      sys, ru->ru_maxrss);
    return yard_write_file_atomic (path, buf, (size_t)n);
}

void
usage_from_rusage (const struct rusage *ru, struct usage *u)
{
    u->has_cpu = true;
    u->cpu_user_us = (uint64_t)ru->ru_utime.tv_sec * 1000000
                     + (uint64_t)ru->ru_utime.tv_usec;
    u->cpu_system_us = (uint64_t)ru->ru_stime.tv_sec * 1000000
                       + (uint64_t)ru->ru_stime.tv_usec;
    u->has_rss = true;
    u->peak_rss_bytes = (uint64_t)ru->ru_maxrss * 1024;
    snprintf (u->source, sizeof u->source, "rusage");
}

int
usage_read_rusage (const char *path, struct usage *u)
{
    char buf[128];
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read (fd, buf, sizeof buf - 1);
    close (fd);
    if (r <= 0)
        return -EINVAL;
    buf[r] = '\0';
    unsigned long long user, sys, kib;
    char end;
    if (sscanf (buf, "%llu %llu %llu%c", &user, &sys, &kib, &end) != 4
        || end != '\n')
        return -EINVAL;
    u->has_cpu = true;
    u->cpu_user_us = user;
    u->cpu_system_us = sys;
    u->has_rss = true;
    u->peak_rss_bytes = (uint64_t)kib * 1024;
    snprintf (u->source, sizeof u->source, "rusage");
    return 0;
}

/* /proc/PID/stat after the command name: fields 3.. ; pgrp is field 5,
 * utime 14, stime 15, cutime 16, cstime 17, rss 24 (pages). */
static int
proc_stat_fields (const char *text, long *pgrp, uint64_t *cpu_self,
                  uint64_t *cpu_reaped, uint64_t *rss_pages)
{
    const char *p = strrchr (text, ')');
    if (!p)
        return -EINVAL;
    p++;
    unsigned long long f[25] = { 0 };
    int field = 3;
    char *end;
    while (field <= 24) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -EINVAL;
        if (field == 3) {
            p++; /* the state letter */
        } else {
            long long v = strtoll (p, &end, 10);
            if (end == p)
                return -EINVAL;
            f[field] = v < 0 ? 0 : (unsigned long long)v;
            p = end;
            if (field == 5)
                *pgrp = (long)v;
        }
        field++;
    }
    *cpu_self = f[14] + f[15];
    *cpu_reaped = f[16] + f[17];
    *rss_pages = f[24];
    return 0;
}

int
usage_proc_scan (const char *proc_root, const int *pgids,
                 struct usage *const *out, size_t n)
{
    DIR *d = opendir (proc_root);
    if (!d)
        return -errno;
    long hz = sysconf (_SC_CLK_TCK);
    long page = sysconf (_SC_PAGESIZE);
    if (hz <= 0)
        hz = 100;
    if (page <= 0)
        page = 4096;
    uint64_t *ticks = calloc (n ? n : 1, sizeof *ticks);
    uint64_t *pages = calloc (n ? n : 1, sizeof *pages);
    bool *found = calloc (n ? n : 1, sizeof *found);
    if (!ticks || !pages || !found) {
        closedir (d);
        free (ticks);
        free (pages);
        free (found);
        return -ENOMEM;
    }
    struct dirent *e;
    while ((e = readdir (d))) {
        if (!isdigit ((unsigned char)e->d_name[0]))
            continue;
        char dir[PATH_MAX], buf[1024];
        if (snprintf (dir, sizeof dir, "%s/%s", proc_root, e->d_name)
                >= (int)sizeof dir
            || yard_read_text_at (dir, "stat", buf, sizeof buf) < 0)
            continue;
        long pgrp;
        uint64_t self, reaped, rss;
        if (proc_stat_fields (buf, &pgrp, &self, &reaped, &rss) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (pgrp != pgids[i])
                continue;
            found[i] = true;
            ticks[i] += self;
            /* children the leader reaped; those of other members are
             * counted once their parents are gone too, as the leader's */
            if (strtol (e->d_name, NULL, 10) == pgids[i])
                ticks[i] += reaped;
            pages[i] += rss;
            break;
        }
    }
    closedir (d);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!found[i])
            continue;
        struct usage *u = out[i];
        count++;
        /* no split of user and system for the reaped part: both are
         * summed into user, which is what a job mostly spends */
        u->has_cpu = true;
        u->cpu_user_us = ticks[i] * 1000000 / (uint64_t)hz;
        u->cpu_system_us = 0;
        u->has_rss = true;
        u->rss_bytes = pages[i] * (uint64_t)page;
        if (u->rss_bytes > u->peak_rss_bytes)
            u->peak_rss_bytes = u->rss_bytes;
        snprintf (u->source, sizeof u->source, "proc");
    }
    free (ticks);
    free (pages);
    free (found);
    return count;
}

int
usage_proc_sample (const char *proc_root, int pgid, struct usage *u)
{
    int rc = usage_proc_scan (proc_root, &pgid, &u, 1);
    return rc < 0 ? rc : rc == 0 ? -ESRCH : 0;
}

void
usage_merge (struct usage *dst, const struct usage *src)
{
    if (!dst->has_cpu && src->has_cpu) {
        dst->has_cpu = true;
        dst->cpu_user_us = src->cpu_user_us;
        dst->cpu_system_us = src->cpu_system_us;
    }
    if (src->has_rss) {
        if (!dst->has_rss)
            dst->rss_bytes = src->rss_bytes;
        dst->has_rss = true;
        if (src->peak_rss_bytes > dst->peak_rss_bytes)
            dst->peak_rss_bytes = src->peak_rss_bytes;
    }
    if (src->has_gpu) {
        if (!dst->has_gpu) {
            dst->gpu_util_pct = src->gpu_util_pct;
            dst->gpu_memory_bytes = src->gpu_memory_bytes;
        }
        dst->has_gpu = true;
        if (src->gpu_peak_memory_bytes > dst->gpu_peak_memory_bytes)
            dst->gpu_peak_memory_bytes = src->gpu_peak_memory_bytes;
    }
    if (!dst->source[0])
        snprintf (dst->source, sizeof dst->source, "%s", src->source);
    if (!dst->time_ms)
        dst->time_ms = src->time_ms;
}

bool
usage_to_proto (const struct usage *u, Yard__ResourceUse *m)
{
    if (!u->has_cpu && !u->has_rss && !u->has_gpu)
        return false;
    yard__resource_use__init (m);
    m->has_cpu = u->has_cpu;
    m->cpu_user_us = u->cpu_user_us;
    m->cpu_system_us = u->cpu_system_us;
    m->has_rss = u->has_rss;
    m->peak_rss_bytes = u->peak_rss_bytes;
    m->rss_bytes = u->rss_bytes;
    m->has_gpu = u->has_gpu;
    m->gpu_util_pct = u->gpu_util_pct;
    m->gpu_memory_bytes = u->gpu_memory_bytes;
    m->gpu_peak_memory_bytes = u->gpu_peak_memory_bytes;
    m->source = (char *)u->source;
    m->time_ms = u->time_ms;
    m->final = u->final;
    return true;
}

void
usage_from_proto (const Yard__ResourceUse *m, struct usage *u)
{
    memset (u, 0, sizeof *u);
    if (!m)
        return;
    u->has_cpu = m->has_cpu;
    u->cpu_user_us = m->cpu_user_us;
    u->cpu_system_us = m->cpu_system_us;
    u->has_rss = m->has_rss;
    u->peak_rss_bytes = m->peak_rss_bytes;
    u->rss_bytes = m->rss_bytes;
    u->has_gpu = m->has_gpu;
    u->gpu_util_pct = m->gpu_util_pct;
    u->gpu_memory_bytes = m->gpu_memory_bytes;
    u->gpu_peak_memory_bytes = m->gpu_peak_memory_bytes;
    snprintf (u->source, sizeof u->source, "%s", m->source ? m->source : "");
    u->time_ms = m->time_ms;
    u->final = m->final;
}
