/* jobdir.c - an attempt's directory on disk (see jobdir.h). */
#include "jobdir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "log.h"
#include "util.h"

#define RESULT_MAX (64 * 1024) /* a result is a few hundred bytes */
/* The result record: magic, the message's length (host order: the file
 * never leaves the node), its sha256 in hex, the message, zeros up to
 * RESULT_PAD.  RESULT_NONE in place of the magic: a spare dir's. */
#define RESULT_MAGIC "\xffYR1"
#define RESULT_NONE "\xffYR0"
#define RESULT_HEAD (8 + YARD_DIGEST_HEX)
#define RESULT_PAD 4096
#define ORPHAN_WAIT_MS 2000    /* how long a SIGKILLed orphan may take */
#define TREE_DEPTH_MAX 256     /* each level holds a descriptor */

int
jobdir_name_parse (const char *name, uint64_t *job_id, uint32_t *attempt)
{
    char buf[64], canon[64];
    const char *dot = strchr (name, '.');
    if (!dot || (size_t)(dot - name) >= sizeof buf)
        return -EINVAL;
    memcpy (buf, name, (size_t)(dot - name));
    buf[dot - name] = '\0';
    uint64_t id;
    uint32_t at;
    if (yard_parse_u64 (buf, &id) < 0 || yard_parse_u32 (dot + 1, &at) < 0
        || id == 0 || at == 0)
        return -EINVAL;
    /* "007.1" is not ours: only the spelling jobdir_path() writes is */
    snprintf (canon, sizeof canon, "%" PRIu64 ".%" PRIu32, id, at);
    if (strcmp (canon, name) != 0)
        return -EINVAL;
    *job_id = id;
    *attempt = at;
    return 0;
}

int
jobdir_path (char *buf, size_t len, const char *root, uint64_t job_id,
             uint32_t attempt)
{
    int n = snprintf (buf, len, "%s/%" PRIu64 ".%" PRIu32, root, job_id,
                      attempt);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
file_path (char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf (buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Read at most max bytes of a small file into a malloc'd buffer. */
static int
read_small (const char *path, size_t max, uint8_t **out, size_t *outlen)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    uint8_t *buf = malloc (max + 1);
    if (!buf) {
        close (fd);
        return -ENOMEM;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read (fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free (buf);
            close (fd);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            free (buf);
            close (fd);
            return -EFBIG;
        }
    }
    close (fd);
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

/* Write data over the file at path (made when missing) from its start and
 * cut it there: an existing file keeps its inode and, when data fits, its
 * block (no inode or block freed and allocated again, which is what costs
 * on this file system).  fdatasync'd when sync (the size is data: a
 * changed one is written too).  0 or a negative errno. */
static int
overwrite (const char *path, const void *data, size_t len, bool sync)
{
    /* The dir is the job's too: what is there may be a link or a FIFO a
     * job left.  Only a plain file of ours with one name is written
     * over; anything else is replaced by a new file. */
    struct stat st;
    int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK
                             | O_CLOEXEC, 0600);
    if (fd >= 0 && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)
                    || st.st_nlink != 1 || st.st_uid != geteuid ())) {
        close (fd);
        fd = -1;
        errno = EPERM;
    }
    if (fd < 0) {
        if (unlink (path) < 0 && errno != ENOENT)
            return -errno;
        fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                             | O_CLOEXEC, 0600);
        if (fd < 0)
            return -errno;
    }
    const char *p = data;
    size_t done = 0;
    int e = 0;
    while (done < len) {
        ssize_t w = pwrite (fd, p + done, len - done, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    /* cut only when the size differs: a truncate marks the inode for
     * fdatasync even when it changes nothing */
    if (!e && (fstat (fd, &st) < 0 || st.st_size != (off_t)len)
        && ftruncate (fd, (off_t)len) < 0)
        e = errno;
    if (!e && sync && fdatasync (fd) < 0)
        e = errno;
    if (close (fd) < 0 && !e)
        e = errno;
    return -e;
}

static int
result_write (const char *dir, uint64_t job_id, uint32_t attempt,
              const struct jobdir_result *res, bool sync)
{
    char path[PATH_MAX];
    int rc;
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_RESULT)) < 0)
        return rc;
    Yard__JobFinished m = YARD__JOB_FINISHED__INIT;
    m.job_id = job_id;
    m.attempt = attempt;
    m.reason = res->reason;
    m.exit_code = res->exit_code;
    m.term_signal = res->term_signal;
    m.message = (char *)res->message;
    m.start_time_ms = res->start_time_ms;
    m.end_time_ms = res->end_time_ms;
    m.log_size = res->log_size;
    Yard__ResourceUse ru;
    if (usage_to_proto (&res->usage, &ru))
        m.usage = &ru;
    Yard__NamedDigest outs[JOBDIR_OUTPUTS_MAX], *outp[JOBDIR_OUTPUTS_MAX];
    m.n_outputs = jobdir_result_outputs (res, outs, outp);
    m.outputs = outp;
    size_t n = yard__job_finished__get_packed_size (&m);
    uint8_t *buf = calloc (1, RESULT_HEAD + n + RESULT_PAD);
    if (!buf)
        return -ENOMEM;
    yard__job_finished__pack (&m, buf + RESULT_HEAD);
    /* See the design note in jobdir.h: a head that checks the record,
     * padding to a fixed size, written over the file in place.  Once the
     * file has its blocks and size, fdatasync writes the one data block:
     * no inode, no temp file, no rename. */
    memcpy (buf, RESULT_MAGIC, 4);
    uint32_t len = (uint32_t)n;
    memcpy (buf + 4, &len, 4);
    char hex[YARD_DIGEST_HEX + 1];
    yard_digest_buf (buf + RESULT_HEAD, n, hex);
    memcpy (buf + 8, hex, YARD_DIGEST_HEX);
    size_t total = RESULT_HEAD + n;
    if (total < RESULT_PAD)
        total = RESULT_PAD;
    rc = overwrite (path, buf, total, sync);
    free (buf);
    return rc;
}

int
jobdir_result_write (const char *dir, uint64_t job_id, uint32_t attempt,
                     const struct jobdir_result *res)
{
    return result_write (dir, job_id, attempt, res, true);
}

int
jobdir_result_save (const char *dir, uint64_t job_id, uint32_t attempt,
                    const struct jobdir_result *res)
{
    return result_write (dir, job_id, attempt, res, false);
}

int
jobdir_result_sync (const char *dir)
{
    char path[PATH_MAX];
    int rc;
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_RESULT)) < 0)
        return rc;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = fdatasync (fd) < 0 ? -errno : 0;
    close (fd);
    return rc;
}

int
jobdir_result_read (const char *dir, uint64_t job_id, uint32_t attempt,
                    struct jobdir_result *res)
{
    char path[PATH_MAX];
    uint8_t *buf;
    size_t n;
    int rc;
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_RESULT)) < 0)
        return rc;
    if ((rc = read_small (path, RESULT_MAX, &buf, &n)) < 0)
        return rc == -EFBIG ? -EBADMSG : rc;
    const uint8_t *body = buf;
    size_t blen = n;
    if (n >= 4 && memcmp (buf, RESULT_NONE, 4) == 0) {
        free (buf); /* a spare dir's: no result yet */
        return -ENOENT;
    }
    if (n >= 4 && memcmp (buf, RESULT_MAGIC, 4) == 0) {
        uint32_t len;
        char hex[YARD_DIGEST_HEX + 1];
        memcpy (&len, buf + 4, 4);
        if (n < RESULT_HEAD || len > n - RESULT_HEAD) {
            free (buf);
            return -EBADMSG;
        }
        yard_digest_buf (buf + RESULT_HEAD, len, hex);
        if (memcmp (hex, buf + 8, YARD_DIGEST_HEX) != 0) {
            free (buf); /* torn by a crash: as good as none */
            return -EBADMSG;
        }
        body = buf + RESULT_HEAD;
        blen = len;
    }
    /* else an older worker's: the bare message */
    Yard__JobFinished *m = yard__job_finished__unpack (NULL, blen, body);
    free (buf);
    if (!m)
        return -EBADMSG;
    if (m->job_id != job_id || m->attempt != attempt) {
        yard__job_finished__free_unpacked (m, NULL);
        return -EBADMSG;
    }
    memset (res, 0, sizeof *res);
    res->reason = m->reason;
    res->exit_code = m->exit_code;
    res->term_signal = m->term_signal;
    res->start_time_ms = m->start_time_ms;
    res->end_time_ms = m->end_time_ms;
    res->log_size = m->log_size;
    if (m->usage)
        usage_from_proto (m->usage, &res->usage);
    snprintf (res->message, sizeof res->message, "%s",
              m->message ? m->message : "");
    for (size_t i = 0; i < m->n_outputs && i < JOBDIR_OUTPUTS_MAX; i++) {
        const Yard__NamedDigest *o = m->outputs[i];
        struct jobdir_output *d = &res->outputs[res->n_outputs++];
        snprintf (d->name, sizeof d->name, "%s", o->name ? o->name : "");
        snprintf (d->digest, sizeof d->digest, "%s",
                  o->digest ? o->digest : "");
        d->size = o->size;
    }
    yard__job_finished__free_unpacked (m, NULL);
    return 0;
}

size_t
jobdir_result_outputs (const struct jobdir_result *res,
                       Yard__NamedDigest *msgs, Yard__NamedDigest **ptrs)
{
    size_t n = res->n_outputs < JOBDIR_OUTPUTS_MAX ? res->n_outputs
                                                    : JOBDIR_OUTPUTS_MAX;
    for (size_t i = 0; i < n; i++) {
        yard__named_digest__init (&msgs[i]);
        msgs[i].name = (char *)res->outputs[i].name;
        msgs[i].digest = (char *)res->outputs[i].digest;
        msgs[i].size = res->outputs[i].size;
        ptrs[i] = &msgs[i];
    }
    return n;
}

/* Fields of /proc/PID/stat: the state letter, the process group and the
 * start time.  The command name (field 2) may hold spaces and ')', so the
 * parse starts after the last ')'. */
static int
proc_stat (int pid, char *state, long *pgrp, uint64_t *starttime)
{
    char path[64];
    uint8_t *buf;
    size_t n;
    snprintf (path, sizeof path, "/proc/%d/stat", pid);
    int rc = read_small (path, 4096, &buf, &n);
    if (rc < 0)
        return rc;
    char *p = strrchr ((char *)buf, ')');
    if (!p) {
        free (buf);
        return -EBADMSG;
    }
    p++;
    /* after ')': field 3 is the state, 5 the pgrp, 22 the starttime */
    char *save = NULL;
    int field = 3;
    rc = -EBADMSG;
    for (char *tok = strtok_r (p, " ", &save); tok;
         tok = strtok_r (NULL, " ", &save), field++) {
        if (field == 3 && state)
            *state = tok[0];
        else if (field == 5 && pgrp)
            *pgrp = strtol (tok, NULL, 10);
        else if (field == 22) {
            if (starttime)
                *starttime = strtoull (tok, NULL, 10);
            rc = 0;
            break;
        }
    }
    free (buf);
    return rc;
}

static void
read_boot_id (char *buf, size_t len)
{
    /* the same until the next boot: read once */
    static char id[64];
    uint8_t *b;
    size_t n;
    if (!id[0] && read_small ("/proc/sys/kernel/random/boot_id", 128, &b, &n)
                      == 0) {
        size_t o = 0;
        for (size_t i = 0; i < n && o + 1 < sizeof id; i++)
            if (isxdigit (b[i]) || b[i] == '-')
                id[o++] = (char)b[i];
        id[o] = '\0';
        free (b);
    }
    size_t k = strnlen (id, len - 1);
    memcpy (buf, id, k);
    buf[k] = '\0';
}

void
jobdir_started_identify (struct jobdir_started *s)
{
    s->proc_start = 0;
    if (proc_stat (s->pid, NULL, NULL, &s->proc_start) < 0)
        s->proc_start = 0;
    read_boot_id (s->boot_id, sizeof s->boot_id);
}

int
jobdir_started_write (const char *dir, const struct jobdir_started *s)
{
    char path[PATH_MAX], line[160];
    int rc, n;
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_STARTED)) < 0)
        return rc;
    n = snprintf (line, sizeof line, "%d %" PRId64 " %" PRIu64 " %s\n", s->pid,
                  s->start_time_ms, s->proc_start,
                  s->boot_id[0] ? s->boot_id : "-");
    /* One file, written in place: no temp file and rename, no fsync.  It
     * names a live process, which only a restarted worker (same boot,
     * page cache intact) looks for; after a power cut the boot id differs
     * and the attempt is lost whatever it says.  A dir from the pool
     * holds a record with no pid here (jobdir_recycle), overwritten
     * rather than replaced (the same inode and block).  A short write (a
     * crash in the middle of write(2) cannot leave one in the page cache)
     * reads back as no pid.  Older workers also wrote the pid alone to
     * JOBDIR_PID, which jobdir_started_read still accepts. */
    return overwrite (path, line, (size_t)n, false);
}

int
jobdir_started_read (const char *dir, struct jobdir_started *s)
{
    char path[PATH_MAX];
    uint8_t *buf;
    size_t n;
    int rc;
    memset (s, 0, sizeof *s);
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_STARTED)) < 0)
        return rc;
    if (read_small (path, 256, &buf, &n) == 0) {
        long long pid = 0, start = 0;
        unsigned long long pstart = 0;
        char boot[40] = "";
        int got = sscanf ((char *)buf, "%lld %lld %llu %39s", &pid, &start,
                          &pstart, boot);
        free (buf);
        if (got >= 2 && pid > 1 && pid <= INT32_MAX) {
            s->pid = (int)pid;
            s->start_time_ms = start;
            s->proc_start = got >= 3 ? pstart : 0;
            if (got >= 4 && strcmp (boot, "-") != 0)
                snprintf (s->boot_id, sizeof s->boot_id, "%s", boot);
            return 0;
        }
    }
    /* the pid file alone (say, written by an older worker) */
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_PID)) < 0)
        return rc;
    if ((rc = read_small (path, 64, &buf, &n)) < 0)
        return rc;
    char *nl = strchr ((char *)buf, '\n');
    if (nl)
        *nl = '\0';
    int32_t pid;
    rc = yard_parse_i32 ((char *)buf, &pid);
    free (buf);
    if (rc < 0 || pid <= 1)
        return -EBADMSG;
    s->pid = pid;
    return 0;
}

/* True when a process of group pgid is alive (zombies do not count: they
 * are dead, only waiting for a parent that may never come). */
static bool
group_has_live_member (int pgid)
{
    DIR *d = opendir ("/proc");
    if (!d)
        return kill (-pgid, 0) == 0;
    bool live = false;
    struct dirent *de;
    while (!live && (de = readdir (d))) {
        if (!isdigit ((unsigned char)de->d_name[0]))
            continue;
        char state = '?';
        long pgrp = 0;
        int32_t pid;
        if (yard_parse_i32 (de->d_name, &pid) < 0)
            continue;
        if (proc_stat (pid, &state, &pgrp, NULL) < 0)
            continue;
        if (pgrp == pgid && state != 'Z' && state != 'X')
            live = true;
    }
    closedir (d);
    return live;
}

bool
jobdir_group_alive (const struct jobdir_started *s)
{
    if (s->pid <= 1)
        return false;
    if (kill (-s->pid, 0) < 0)
        return false; /* ESRCH: gone; EPERM: another user's, not ours */
    if (s->boot_id[0]) {
        char now[40];
        read_boot_id (now, sizeof now);
        if (now[0] && strcmp (now, s->boot_id) != 0)
            return false; /* the machine rebooted: nothing of ours is left */
    }
    uint64_t start = 0;
    long pgrp = 0;
    if (proc_stat (s->pid, NULL, &pgrp, &start) == 0) {
        /* the leader's pid exists: ours only if it is the same process */
        if (s->proc_start && start != s->proc_start)
            return false;
        return pgrp == s->pid;
    }
    /* the leader is gone but its group is not: its pid cannot have been
     * reused while the group id is in use, so these are our job's */
    return true;
}

static int
vnote (const char *dir, const char *fmt, va_list ap)
{
    char path[PATH_MAX], line[1024];
    int rc;
    if ((rc = file_path (path, sizeof path, dir, JOBDIR_LOG)) < 0)
        return rc;
    int n = snprintf (line, sizeof line, "yard-worker: ");
    vsnprintf (line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = strlen (line);
    line[len++] = '\n';
    int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = 0;
    if (write (fd, line, len) != (ssize_t)len)
        rc = -EIO;
    close (fd);
    return rc;
}

int
jobdir_note (const char *dir, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = vnote (dir, fmt, ap);
    va_end (ap);
    return rc;
}

uint64_t
jobdir_log_size (const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    if (file_path (path, sizeof path, dir, JOBDIR_LOG) < 0
        || stat (path, &st) < 0)
        return 0;
    return (uint64_t)st.st_size;
}

static void
sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
}

int
jobdir_recover (const char *dir, uint64_t job_id, uint32_t attempt,
                const char *node, struct jobdir_result *res)
{
    int rc = jobdir_result_read (dir, job_id, attempt, res);
    if (rc == 0)
        return 0;
    const char *why = rc == -ENOENT ? "the worker restarted while it ran"
                                    : "its result file was unreadable";
    if (rc != -ENOENT)
        log_warn ("job %" PRIu64 ".%" PRIu32 ": result file unreadable (%s)",
                  job_id, attempt, strerror (-rc));

    struct jobdir_started s;
    memset (res, 0, sizeof *res);
    if (jobdir_started_read (dir, &s) == 0) {
        res->start_time_ms = s.start_time_ms;
        if (jobdir_group_alive (&s)) {
            /* not our child any more: it cannot be supervised, only ended */
            log_warn ("job %" PRIu64 ".%" PRIu32 ": killing process group "
                      "%d orphaned by a worker restart",
                      job_id, attempt, s.pid);
            kill (-s.pid, SIGKILL);
            for (int waited = 0;
                 waited < ORPHAN_WAIT_MS && group_has_live_member (s.pid);
                 waited += 20)
                sleep_ms (20);
            jobdir_note (dir,
                         "attempt lost on node %s: %s; its process "
                         "group %d was killed",
                         node, why, s.pid);
        } else {
            jobdir_note (dir, "attempt lost on node %s: %s", node, why);
        }
    } else {
        jobdir_note (dir, "attempt lost on node %s: %s", node, why);
    }
    res->reason = YARD__END_REASON__END_LOST;
    res->end_time_ms = yard_now_ms ();
    res->log_size = jobdir_log_size (dir);
    snprintf (res->message, sizeof res->message, "worker restarted");
    return jobdir_result_write (dir, job_id, attempt, res);
}

int
jobdir_scan (const char *root, jobdir_scan_f cb, void *arg)
{
    DIR *d = opendir (root);
    if (!d)
        return -errno;
    int count = 0;
    struct dirent *de;
    while ((de = readdir (d))) {
        const char *name = de->d_name;
        char path[PATH_MAX];
        uint64_t job_id;
        uint32_t attempt;
        struct stat st;
        if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
            continue;
        if (file_path (path, sizeof path, root, name) < 0)
            continue;
        if (strncmp (name, JOBDIR_TRASH_PREFIX, strlen (JOBDIR_TRASH_PREFIX))
            == 0) {
            int rc = jobdir_remove_tree (path);
            if (rc < 0)
                log_warn ("cannot remove %s: %s", path, strerror (-rc));
            continue;
        }
        if (jobdir_name_parse (name, &job_id, &attempt) < 0
            || lstat (path, &st) < 0 || !S_ISDIR (st.st_mode)) {
            log_warn ("ignoring %s: not an attempt dir", path);
            continue;
        }
        cb (path, job_id, attempt, arg);
        count++;
    }
    closedir (d);
    return count;
}

int
jobdir_trash (const char *dir, char *buf, size_t len)
{
    const char *slash = strrchr (dir, '/');
    if (!slash)
        return -EINVAL;
    int n = snprintf (buf, len, "%.*s/" JOBDIR_TRASH_PREFIX "%s-%" PRId64,
                      (int)(slash - dir), dir, slash + 1, yard_mono_ms ());
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    if (rename (dir, buf) < 0)
        return -errno;
    return 0;
}

/* Remove name in the directory parent, descending into directories. */
static int
remove_at (int parent, const char *name, int depth)
{
    if (unlinkat (parent, name, 0) == 0)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return errno == ENOENT ? 0 : -errno;
    if (depth >= TREE_DEPTH_MAX)
        return -ELOOP;
    int fd = openat (parent, name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* a job may have left read-only dirs behind */
    fchmod (fd, 0700);
    DIR *d = fdopendir (fd);
    if (!d) {
        int e = errno;
        close (fd);
        return -e;
    }
    int first = 0;
    struct dirent *de;
    while ((de = readdir (d))) {
        if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
        int rc = remove_at (dirfd (d), de->d_name, depth + 1);
        if (rc < 0 && first == 0)
            first = rc;
    }
    closedir (d);
    if (unlinkat (parent, name, AT_REMOVEDIR) < 0 && first == 0
        && errno != ENOENT)
        first = -errno;
    return first;
}

int
jobdir_remove_tree (const char *path)
{
    return remove_at (AT_FDCWD, path, 0);
}

/* Open name in dfd for writing when it is a plain file of ours with one
 * name, as overwrite() checks.  The fd, or a negative errno (-EPERM:
 * something else is there). */
static int
open_own (int dfd, const char *name)
{
    struct stat st;
    int fd = openat (dfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK
                                    | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_nlink != 1
        || st.st_uid != geteuid ()) {
        close (fd);
        return -EPERM;
    }
    return fd;
}

/* True when name in dfd is a directory with nothing in it. */
static bool
dir_is_empty (int dfd, const char *name)
{
    int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                    | O_CLOEXEC);
    if (fd < 0)
        return false;
    DIR *d = fdopendir (fd);
    if (!d) {
        close (fd);
        return false;
    }
    bool empty = true;
    struct dirent *de;
    while (empty && (de = readdir (d)))
        if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
            empty = false;
    closedir (d);
    return empty;
}

bool
jobdir_is_empty (const char *path)
{
    return dir_is_empty (AT_FDCWD, path);
}

int
jobdir_recycle (const char *path)
{
    int dfd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir (dfd);
    if (!d) {
        int e = errno;
        close (dfd);
        return -e;
    }
    int first = 0, rc;
    struct dirent *de;
    while ((de = readdir (d))) {
        const char *n = de->d_name;
        if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0)
            continue;
        rc = 0;
        if (strcmp (n, JOBDIR_LOG) == 0) {
            int fd = open_own (dfd, n);
            if (fd < 0)
                rc = fd;
            else if (ftruncate (fd, 0) < 0)
                rc = -errno;
            if (fd >= 0)
                close (fd);
        } else if (strcmp (n, JOBDIR_STARTED) == 0) {
            /* no pid: the next attempt overwrites it; a crash before
             * that reads back as an attempt that never started */
            int fd = open_own (dfd, n);
            if (fd < 0)
                rc = fd;
            else if (pwrite (fd, "0\n", 2, 0) != 2 || ftruncate (fd, 2) < 0)
                rc = -errno;
            if (fd >= 0)
                close (fd);
        } else if (strcmp (n, JOBDIR_RESULT) == 0) {
            /* kept for the next result, marked as none yet (the next
             * attempt writes over it: jobdir_result_write) */
            static const char none[RESULT_PAD] = RESULT_NONE;
            int fd = open_own (dfd, n);
            if (fd < 0)
                rc = fd;
            else if (pwrite (fd, none, sizeof none, 0) != sizeof none)
                rc = -errno; /* the last job's record does not linger */
            if (fd >= 0)
                close (fd);
        } else if (strcmp (n, JOBDIR_SPARE_CKPT) == 0) {
            /* kept for the next job's checkpoint dir when empty */
            if (!dir_is_empty (dfd, n))
                rc = remove_at (dfd, n, 0);
        } else {
            rc = remove_at (dfd, n, 0);
        }
        if (rc < 0 && first == 0)
            first = rc;
    }
    closedir (d);
    return first;
}
