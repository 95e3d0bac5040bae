/* util.c - see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t
yard_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
yard_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
yard_parse_u64 (const char *s, uint64_t *out)
{
    if (!s || !isdigit ((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull (s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    if (*end != '\0')
        return -EINVAL;
    *out = (uint64_t)v;
    return 0;
}

int
yard_parse_u32 (const char *s, uint32_t *out)
{
    uint64_t v;
    int rc = yard_parse_u64 (s, &v);
    if (rc < 0)
        return rc;
    if (v > UINT32_MAX)
        return -ERANGE;
    *out = (uint32_t)v;
    return 0;
}

int
yard_parse_i32 (const char *s, int32_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit ((unsigned char)*p))
        return -EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll (s, &end, 10);
    if (errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
        return -ERANGE;
    if (*end != '\0')
        return -EINVAL;
    *out = (int32_t)v;
    return 0;
}

int
yard_parse_size (const char *s, uint64_t *bytes, yard_error_t *err)
{
    if (!s || !*s || !(isdigit ((unsigned char)s[0]) || s[0] == '.'))
        return yard_errorf (err, EINVAL,
                            "invalid size '%s': use a number with an optional "
                            "unit K, M, G or T (e.g. 512M, 16G)",
                            s ? s : "");
    errno = 0;
    char *end;
    double v = strtod (s, &end);
    if (errno == ERANGE || !isfinite (v) || v < 0)
        return yard_errorf (err, ERANGE, "size '%s' is out of range", s);
    double mult = 1;
    switch (toupper ((unsigned char)*end)) {
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1024.0 * 1024; end++; break;
    case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    case 'B': break;
    case '\0': break;
    default:
        return yard_errorf (err, EINVAL,
                            "invalid size '%s': unknown unit '%s' "
                            "(use K, M, G or T)", s, end);
    }
    if (mult > 1 && toupper ((unsigned char)*end) == 'I')
        end++;
    if (toupper ((unsigned char)*end) == 'B')
        end++;
    if (*end != '\0')
        return yard_errorf (err, EINVAL, "invalid size '%s': trailing '%s'",
                            s, end);
    double total = v * mult;
    if (total >= 18446744073709551615.0)
        return yard_errorf (err, ERANGE, "size '%s' is out of range", s);
    *bytes = (uint64_t)total;
    return 0;
}

static int
duration_colon (const char *s, uint64_t *seconds)
{
    /* [[HH:]MM:]SS, as Slurm writes time limits */
    uint64_t parts[3];
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == 3)
            return -EINVAL; /* more than three fields */
        if (!isdigit ((unsigned char)*p))
            return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull (p, &end, 10);
        if (errno == ERANGE || v > 100000000ULL)
            return -ERANGE;
        parts[n++] = v;
        if (*end == '\0')
            break;
        if (*end != ':')
            return -EINVAL;
        p = end + 1;
    }
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total = total * 60 + parts[i];
    *seconds = total;
    return 0;
}

int
yard_parse_duration (const char *s, uint64_t *seconds, yard_error_t *err)
{
    if (!s || !isdigit ((unsigned char)s[0]))
        return yard_errorf (err, EINVAL,
                            "invalid duration '%s': use e.g. 90s, 30m, 2h, "
                            "1d, 1h30m or HH:MM:SS", s ? s : "");
    if (strchr (s, ':')) {
        int rc = duration_colon (s, seconds);
        if (rc < 0)
            return yard_errorf (err, -rc,
                                "invalid duration '%s': use HH:MM:SS", s);
        return 0;
    }
    uint64_t total = 0;
    const char *p = s;
    int last_unit = 5; /* units must go from large to small: d h m s */
    while (*p) {
        if (!isdigit ((unsigned char)*p))
            goto bad;
        errno = 0;
        char *end;
        unsigned long long v = strtoull (p, &end, 10);
        if (errno == ERANGE || v > 100000000ULL)
            return yard_errorf (err, ERANGE, "duration '%s' is too long", s);
        uint64_t mult;
        int unit;
        switch (*end) {
        case 'd': mult = 86400; unit = 4; break;
        case 'h': mult = 3600; unit = 3; break;
        case 'm': mult = 60; unit = 2; break;
        case 's': mult = 1; unit = 1; break;
        case '\0':
            if (p != s)
                goto bad; /* "1h30" is ambiguous */
            mult = 1; unit = 0; break;
        default:
            goto bad;
        }
        if (unit >= last_unit)
            goto bad;
        last_unit = unit;
        total += v * mult;
        p = *end ? end + 1 : end;
    }
    *seconds = total;
    return 0;
bad:
    return yard_errorf (err, EINVAL,
                        "invalid duration '%s': use e.g. 90s, 30m, 2h, 1d, "
                        "1h30m or HH:MM:SS", s);
}

char *
yard_format_size (uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "BKMGTP";
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf (buf, len, "%llu", (unsigned long long)bytes);
    else if (v < 10 && v != floor (v))
        snprintf (buf, len, "%.1f%c", v, units[u]);
    else
        snprintf (buf, len, "%.0f%c", v, units[u]);
    return buf;
}

char *
yard_format_duration (int64_t ms, char *buf, size_t len)
{
    if (ms < 0)
        ms = 0;
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf (buf, len, "%llds", (long long)s);
    else if (s < 3600)
        snprintf (buf, len, "%lldm%02llds", (long long)(s / 60),
                  (long long)(s % 60));
    else if (s < 86400)
        snprintf (buf, len, "%lldh%02lldm", (long long)(s / 3600),
                  (long long)(s % 3600 / 60));
    else
        snprintf (buf, len, "%lldd%02lldh", (long long)(s / 86400),
                  (long long)(s % 86400 / 3600));
    return buf;
}

static const char *job_state_names[] = {
    [YARD__JOB_STATE__JOB_STATE_UNSPECIFIED] = "UNKNOWN",
    [YARD__JOB_STATE__JOB_PENDING] = "PENDING",
    [YARD__JOB_STATE__JOB_ASSIGNED] = "ASSIGNED",
    [YARD__JOB_STATE__JOB_RUNNING] = "RUNNING",
    [YARD__JOB_STATE__JOB_COMPLETED] = "COMPLETED",
    [YARD__JOB_STATE__JOB_FAILED] = "FAILED",
    [YARD__JOB_STATE__JOB_CANCELLED] = "CANCELLED",
    [YARD__JOB_STATE__JOB_TIMEOUT] = "TIMEOUT",
    [YARD__JOB_STATE__JOB_PREEMPTING] = "PREEMPTING",
    [YARD__JOB_STATE__JOB_LOST] = "LOST",
};

const char *
yard_job_state_name (Yard__JobState state)
{
    if ((unsigned)state < sizeof job_state_names / sizeof job_state_names[0])
        return job_state_names[state];
    return "UNKNOWN";
}

int
yard_job_state_parse (const char *name)
{
    for (size_t i = 1; i < sizeof job_state_names / sizeof job_state_names[0];
         i++)
        if (name && strcasecmp (name, job_state_names[i]) == 0)
            return (int)i;
    return -1;
}

bool
yard_job_state_is_terminal (Yard__JobState state)
{
    return state == YARD__JOB_STATE__JOB_COMPLETED
           || state == YARD__JOB_STATE__JOB_FAILED
           || state == YARD__JOB_STATE__JOB_CANCELLED
           || state == YARD__JOB_STATE__JOB_TIMEOUT;
}

const char *
yard_node_state_name (Yard__NodeState state)
{
    switch (state) {
    case YARD__NODE_STATE__NODE_UP: return "UP";
    case YARD__NODE_STATE__NODE_DOWN: return "DOWN";
    case YARD__NODE_STATE__NODE_LEAVING: return "LEAVING";
    default: return "UNKNOWN";
    }
}

const char *
yard_end_reason_name (Yard__EndReason reason)
{
    switch (reason) {
    case YARD__END_REASON__END_EXITED: return "exited";
    case YARD__END_REASON__END_SIGNALED: return "signaled";
    case YARD__END_REASON__END_CANCELLED: return "cancelled";
    case YARD__END_REASON__END_TIMEOUT: return "timeout";
    case YARD__END_REASON__END_SPAWN_FAILED: return "spawn-failed";
    case YARD__END_REASON__END_LOST: return "lost";
    case YARD__END_REASON__END_STALE: return "stale";
    case YARD__END_REASON__END_PREEMPTED: return "preempted";
    case YARD__END_REASON__END_OOM: return "out-of-memory";
    case YARD__END_REASON__END_RETURNED: return "returned";
    default: return "none";
    }
}

bool
yard_endpoint_is_local (const char *ep)
{
    if (!ep)
        return false;
    if (strncmp (ep, "ipc://", 6) == 0 || strncmp (ep, "inproc://", 9) == 0)
        return true;
    if (strncmp (ep, "tcp://", 6) != 0)
        return false;
    const char *host = ep + 6;
    /* a "source;dest" connect form: judge the destination */
    const char *semi = strchr (host, ';');
    if (semi)
        host = semi + 1;
    if (strncmp (host, "127.", 4) == 0)
        return true;
    if (strncmp (host, "localhost:", 10) == 0)
        return true;
    if (strncmp (host, "[::1]:", 6) == 0)
        return true;
    return false;
}

int
yard_endpoint_normalize (const char *ep, char *buf, size_t len)
{
    size_t n = strlen (ep);
    if (n + 1 > len)
        return -ENAMETOOLONG;
    memcpy (buf, ep, n + 1);
    if (strncmp (buf, "tcp://", 6) == 0 && n >= 2
        && strcmp (buf + n - 2, ":0") == 0)
        buf[n - 1] = '*';
    return 0;
}

int
yard_mkdir_p (const char *path)
{
    char tmp[PATH_MAX];
    size_t n = strlen (path);
    if (n == 0 || n >= sizeof tmp)
        return -ENAMETOOLONG;
    memcpy (tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir (tmp, 0700) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir (tmp, 0700) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat (tmp, &st) < 0)
        return -errno;
    if (!S_ISDIR (st.st_mode))
        return -ENOTDIR;
    return 0;
}

static int
write_file_renamed (const char *path, const void *data, size_t len,
                    bool sync)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid ())
        >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write (fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close (fd);
            unlink (tmp);
            return -e;
        }
        p += w;
        left -= (size_t)w;
    }
    if ((sync && fsync (fd) < 0) || close (fd) < 0) {
        int e = errno;
        unlink (tmp);
        return -e;
    }
    if (rename (tmp, path) < 0) {
        int e = errno;
        unlink (tmp);
        return -e;
    }
    return 0;
}

int
yard_write_file_atomic (const char *path, const void *data, size_t len)
{
    return write_file_renamed (path, data, len, true);
}

int
yard_write_file_replace (const char *path, const void *data, size_t len)
{
    return write_file_renamed (path, data, len, false);
}

int
yard_read_text_at (const char *dir, const char *name, char *buf, size_t len)
{
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read (fd, buf, len - 1);
    int e = errno;
    close (fd);
    if (r < 0)
        return -e;
    buf[r] = '\0';
    return 0;
}

int
yard_fsync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync (fd) < 0 ? -errno : 0;
    close (fd);
    return rc;
}

int
yard_fsync_parent (const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr (path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir)
        return -ENAMETOOLONG;
    if (n == 0)
        snprintf (dir, sizeof dir, "%s", slash ? "/" : ".");
    else
        snprintf (dir, sizeof dir, "%.*s", (int)n, path);
    return yard_fsync_dir (dir);
}
