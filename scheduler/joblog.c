/* joblog.c - per-attempt log files (see joblog.h). */
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct yard_joblog {
    char *dir;
};

yard_joblog_t *
yard_joblog_create (const char *dir)
{
    if (!dir || !*dir) {
        errno = EINVAL;
        return NULL;
    }
    yard_joblog_t *jl = calloc (1, sizeof *jl);
    if (!jl)
        return NULL;
    if (!(jl->dir = strdup (dir)))
        goto error;
    return jl;
error:
    free (jl);
    return NULL;
}

void
yard_joblog_destroy (yard_joblog_t **jlp)
{
    if (!jlp || !*jlp)
        return;
    free ((*jlp)->dir);
    free (*jlp);
    *jlp = NULL;
}

static int
log_path (yard_joblog_t *jl, uint64_t job, uint32_t attempt, char *buf,
          size_t len, size_t *dirlen)
{
    int n = snprintf (buf, len, "%s/%llu", jl->dir, (unsigned long long)job);
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    *dirlen = (size_t)n;
    n = snprintf (buf + n, len - (size_t)n, "/%u.log", attempt);
    if (n < 0 || *dirlen + (size_t)n >= len)
        return -ENAMETOOLONG;
    return 0;
}

int
yard_joblog_append (yard_joblog_t *jl, uint64_t job, uint32_t attempt,
                    uint64_t offset, const void *data, size_t len,
                    uint64_t *size)
{
    char path[PATH_MAX];
    size_t dirlen;
    *size = 0;
    int rc = log_path (jl, job, attempt, path, sizeof path, &dirlen);
    if (rc < 0)
        return rc;
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        path[dirlen] = '\0';
        rc = yard_mkdir_p (path);
        path[dirlen] = '/';
        if (rc < 0)
            return rc;
        fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat (fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    uint64_t have = (uint64_t)st.st_size;
    *size = have;
    if (offset > have || offset + len <= have)
        goto out; /* a gap, or nothing new */
    const char *p = (const char *)data + (have - offset);
    size_t left = len - (size_t)(have - offset);
    while (left > 0) {
        ssize_t w = write (fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        p += w;
        left -= (size_t)w;
        *size += (uint64_t)w;
    }
out:
    close (fd);
    return rc;
}

int
yard_joblog_read (yard_joblog_t *jl, uint64_t job, uint32_t attempt,
                  uint64_t offset, void *buf, size_t max, size_t *len,
                  uint64_t *size)
{
    char path[PATH_MAX];
    size_t dirlen;
    *len = 0;
    *size = 0;
    int rc = log_path (jl, job, attempt, path, sizeof path, &dirlen);
    if (rc < 0)
        return rc;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    if (fstat (fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    *size = (uint64_t)st.st_size;
    if (offset >= *size || max == 0)
        goto out;
    uint64_t want = *size - offset;
    if (want > max)
        want = max;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread (fd, (char *)buf + got, (size_t)want - got,
                           (off_t)(offset + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *len = got;
out:
    close (fd);
    return rc;
}
