/* metrics.c - read, spool and ship an attempt's metrics (see metrics.h).
 *
 * Design note.  The job's end of the pipe is blocking (a plain `echo >&3`
 * must work), so the worker must keep the pipe drained: reading never
 * waits for the scheduler, it only appends to the spool, and shipping reads
 * the spool back.  Lines are cut in a buffer of METRICLINE_MAX bytes; a
 * longer line is skipped to its newline and counted as malformed.  The
 * spool keeps the parsed points (not the raw line) so that a recovered
 * attempt ships exactly what a live one would have, and the in-memory
 * index (file offset of each line) lets a resend start at any seq.
 *
 * At the job's exit the pipe is drained without blocking: everything the
 * job wrote before it died is in the pipe buffer, and a straggler that
 * holds the write end open (a daemonised grandchild) cannot hold up the
 * attempt's JobFinished.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metricline.h"
#include "util.h"

#define READ_BUF (64u * 1024)
#define SPOOL_READ (512u * 1024) /* spool bytes read per batch at most */
#define PIPE_SIZE (1024 * 1024)  /* bigger pipe: bursts while we are busy */
#define BATCH_SLACK 1024         /* envelope and batch header */

struct metrics {
    uv_loop_t *loop;
    uint64_t job_id;
    uint32_t num;
    char path[PATH_MAX];
    int spool_fd; /* O_RDWR | O_APPEND, -1 */

    uint64_t *offs; /* offs[seq]: spool offset of line seq */
    uint64_t n;     /* lines spooled (next seq) */
    size_t cap;
    uint64_t end; /* spool size */
    uint64_t malformed;
    int64_t last_step;
    struct logship ship;
    char ckpt_dir[PATH_MAX]; /* "": announcements are not reported */
    metrics_ckpt_f ckpt_cb;
    void *ckpt_arg;

    /* reading */
    uv_pipe_t pipe;
    bool pipe_init;   /* pipe needs a uv_close */
    bool reading;
    bool eof;         /* no more lines will arrive */
    int child_fd;     /* write end until metrics_spawned, -1 */
    char *line;       /* partial line, METRICLINE_MAX + 1 bytes */
    size_t llen;
    bool skipping;    /* in a line that is too long */
    char *rbuf;       /* READ_BUF */
    char *out;        /* spool records of one read */
    size_t olen, ocap;

    /* the batch returned by metrics_next */
    Yard__MetricsBatch batch;
    Yard__MetricPoint *pts;
    Yard__MetricPoint **ptrs;
    size_t pcap;
    char *sbuf; /* spool bytes the batch's keys point into */
};

static void
free_all (struct metrics *m)
{
    if (m->spool_fd >= 0)
        close (m->spool_fd);
    if (m->child_fd >= 0)
        close (m->child_fd);
    free (m->offs);
    free (m->line);
    free (m->rbuf);
    free (m->out);
    free (m->pts);
    free (m->ptrs);
    free (m->sbuf);
    free (m);
}

static struct metrics *
alloc_common (uv_loop_t *loop, const char *dir, uint64_t job_id,
              uint32_t attempt)
{
    struct metrics *m = calloc (1, sizeof *m);
    if (!m)
        return NULL;
    m->loop = loop;
    m->job_id = job_id;
    m->num = attempt;
    m->spool_fd = m->child_fd = -1;
    logship_init (&m->ship);
    if (snprintf (m->path, sizeof m->path, "%s/" METRICS_SPOOL, dir)
        >= (int)sizeof m->path) {
        free (m);
        errno = ENAMETOOLONG;
        return NULL;
    }
    return m;
}

/* Make room for one more offset. */
static int
offs_reserve (struct metrics *m, uint64_t want)
{
    if (want <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap * 2 : 1024;
    while (cap < want)
        cap *= 2;
    uint64_t *v = realloc (m->offs, cap * sizeof v[0]);
    if (!v)
        return -ENOMEM;
    m->offs = v;
    m->cap = cap;
    return 0;
}

static int
out_append (struct metrics *m, const char *s, size_t len)
{
    if (m->olen + len > m->ocap) {
        size_t cap = m->ocap ? m->ocap : 4096;
        while (cap < m->olen + len)
            cap *= 2;
        char *v = realloc (m->out, cap);
        if (!v)
            return -ENOMEM;
        m->out = v;
        m->ocap = cap;
    }
    memcpy (m->out + m->olen, s, len);
    m->olen += len;
    return 0;
}

static int
add_point (int64_t step, const char *key, double value, void *arg)
{
    (void)step;
    return json_object_set_new (arg, key, json_real (value)) < 0 ? -ENOMEM
                                                                   : 0;
}

/* Turn one job line into a spool record in m->out (offsets are recorded
 * when the records reach the file). */
static void
take_line (struct metrics *m, const char *line, size_t len, bool too_long)
{
    if (offs_reserve (m, m->n + 1) < 0) {
        log_err ("job %" PRIu64 ".%" PRIu32 ": out of memory: metrics line "
                 "dropped", m->job_id, m->num);
        return;
    }
    json_t *rec = json_object (), *p = json_object ();
    int rc = rec && p ? 0 : -ENOMEM;
    struct metricline_ckpt ck = { .found = false };
    if (rc == 0 && !too_long)
        rc = metricline_parse_ckpt (line, len, &m->last_step,
                                    m->ckpt_dir[0] ? m->ckpt_dir : NULL, &ck,
                                    add_point, p);
    if (too_long)
        rc = -EBADMSG;
    if (rc == -ENOMEM || !rec) {
        json_decref (rec);
        json_decref (p);
        log_err ("job %" PRIu64 ".%" PRIu32 ": out of memory: metrics line "
                 "dropped", m->job_id, m->num);
        return;
    }
    json_object_set_new (rec, "q", json_integer ((json_int_t)m->n));
    if (rc < 0) {
        json_object_set_new (rec, "m", json_integer (1));
        json_decref (p);
    } else {
        json_object_set_new (rec, "t", json_integer (yard_now_ms ()));
        json_object_set_new (rec, "s", json_integer (m->last_step));
        json_object_set_new (rec, "p", p);
    }
    char *s = json_dumps (rec, JSON_COMPACT | JSON_REAL_PRECISION (17));
    json_decref (rec);
    if (!s || out_append (m, s, strlen (s)) < 0 || out_append (m, "\n", 1) < 0) {
        free (s);
        log_err ("job %" PRIu64 ".%" PRIu32 ": out of memory: metrics line "
                 "dropped", m->job_id, m->num);
        return;
    }
    free (s);
    m->offs[m->n++] = m->end + 0; /* fixed up in flush_out */
    if (rc < 0) {
        m->malformed++;
        if (!too_long && m->ckpt_cb && memmem (line, len, "\"checkpoint\"", 12))
            log_warn ("job %" PRIu64 ".%" PRIu32 ": metrics line %" PRIu64
                      " refused: a checkpoint must be a path inside %s",
                      m->job_id, m->num, m->n - 1, m->ckpt_dir);
    } else if (ck.found && m->ckpt_cb) {
        m->ckpt_cb (ck.entry, ck.step, m->ckpt_arg);
    }
}

int
metrics_on_checkpoint (struct metrics *m, const char *ckpt_dir,
                       metrics_ckpt_f cb, void *arg)
{
    if ((size_t)snprintf (m->ckpt_dir, sizeof m->ckpt_dir, "%s",
                          ckpt_dir ? ckpt_dir : "")
        >= sizeof m->ckpt_dir) {
        m->ckpt_dir[0] = '\0';
        return -ENAMETOOLONG;
    }
    m->ckpt_cb = cb;
    m->ckpt_arg = arg;
    return 0;
}

/* Write the records of m->out to the spool.  Lines first_seq.. are in it,
 * in order; their offsets are set from the record boundaries. */
static void
flush_out (struct metrics *m, uint64_t first_seq)
{
    if (m->olen == 0)
        return;
    /* the spool is made with the first line: most jobs write none, and a
     * file created per attempt costs an inode allocation */
    if (m->spool_fd < 0
        && (m->spool_fd = open (m->path, O_RDWR | O_APPEND | O_CREAT
                                             | O_TRUNC | O_CLOEXEC, 0600))
               < 0) {
        log_err ("job %" PRIu64 ".%" PRIu32 ": cannot create %s: %s "
                 "(%" PRIu64 " metrics lines lost)",
                 m->job_id, m->num, m->path, strerror (errno),
                 m->n - first_seq);
        m->n = first_seq;
        m->olen = 0;
        return;
    }
    size_t off = 0;
    for (uint64_t q = first_seq; q < m->n; q++) {
        m->offs[q] = m->end + off;
        const char *nl = memchr (m->out + off, '\n', m->olen - off);
        off = nl ? (size_t)(nl - m->out) + 1 : m->olen;
    }
    size_t done = 0;
    while (done < m->olen) {
        ssize_t w = write (m->spool_fd, m->out + done, m->olen - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* forget the lines that did not make it: the spool and the
             * index must agree */
            log_err ("job %" PRIu64 ".%" PRIu32 ": cannot write %s: %s "
                     "(%" PRIu64 " metrics lines lost)",
                     m->job_id, m->num, m->path,
                     w < 0 ? strerror (errno) : "short write",
                     m->n - first_seq);
            if (ftruncate (m->spool_fd, (off_t)m->end) < 0)
                log_err ("cannot truncate %s: %s", m->path, strerror (errno));
            m->n = first_seq;
            m->olen = 0;
            return;
        }
        done += (size_t)w;
    }
    m->end += m->olen;
    m->olen = 0;
}

/* Feed bytes read from the pipe. */
static void
feed (struct metrics *m, const char *buf, size_t len)
{
    while (len > 0) {
        const char *nl = memchr (buf, '\n', len);
        size_t take = nl ? (size_t)(nl - buf) : len;
        if (!m->skipping) {
            if (m->llen + take > METRICLINE_MAX) {
                m->skipping = true;
                m->llen = 0;
            } else {
                memcpy (m->line + m->llen, buf, take);
                m->llen += take;
            }
        }
        if (nl) {
            if (m->skipping || m->llen > 0)
                take_line (m, m->line, m->llen, m->skipping);
            m->skipping = false;
            m->llen = 0;
            take++;
        }
        buf += take;
        len -= take;
    }
}

/* The pipe is over: a last line without a newline is still a line. */
static void
feed_end (struct metrics *m)
{
    if (m->skipping || m->llen > 0)
        take_line (m, m->line, m->llen, m->skipping);
    m->skipping = false;
    m->llen = 0;
}

static void
closed_cb (uv_handle_t *h)
{
    free_all (h->data);
}

static void
stop_reading (struct metrics *m)
{
    if (m->reading)
        uv_read_stop ((uv_stream_t *)&m->pipe);
    m->reading = false;
    m->eof = true;
}

static void
alloc_cb (uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct metrics *m = h->data;
    (void)hint;
    *buf = uv_buf_init (m->rbuf, READ_BUF);
}

static void
read_cb (uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct metrics *m = s->data;
    uint64_t first = m->n;
    if (nread > 0)
        feed (m, buf->base, (size_t)nread);
    if (nread < 0) {
        if (nread != UV_EOF)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": reading its metrics: %s",
                      m->job_id, m->num, uv_strerror ((int)nread));
        feed_end (m);
        stop_reading (m);
    }
    flush_out (m, first);
}

struct metrics *
metrics_create (uv_loop_t *loop, const char *dir, uint64_t job_id,
                uint32_t attempt, int *child_fd)
{
    int fds[2] = { -1, -1 }, e;
    struct metrics *m = alloc_common (loop, dir, job_id, attempt);
    if (!m)
        return NULL;
    m->line = malloc (METRICLINE_MAX + 1);
    m->rbuf = malloc (READ_BUF);
    if (!m->line || !m->rbuf) {
        e = ENOMEM;
        goto error;
    }
    if (pipe2 (fds, O_CLOEXEC) < 0) {
        e = errno;
        goto error;
    }
    (void)fcntl (fds[0], F_SETPIPE_SZ, PIPE_SIZE); /* best effort */
    int rc = uv_pipe_init (loop, &m->pipe, 0);
    if (rc < 0) {
        e = -rc;
        goto error;
    }
    m->pipe.data = m;
    m->pipe_init = true;
    if ((rc = uv_pipe_open (&m->pipe, fds[0])) < 0) {
        close (fds[0]);
        close (fds[1]);
        m->eof = true;
        errno = -rc;
        metrics_destroy (&m);
        return NULL;
    }
    m->child_fd = fds[1];
    *child_fd = fds[1];
    return m;
error:
    if (fds[0] >= 0)
        close (fds[0]);
    if (fds[1] >= 0)
        close (fds[1]);
    free_all (m);
    errno = e;
    return NULL;
}

int
metrics_spawned (struct metrics *m, bool spawned)
{
    if (m->child_fd >= 0)
        close (m->child_fd);
    m->child_fd = -1;
    if (!spawned) {
        stop_reading (m);
        return 0;
    }
    int rc = uv_read_start ((uv_stream_t *)&m->pipe, alloc_cb, read_cb);
    if (rc < 0) {
        log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot read its metrics: %s",
                  m->job_id, m->num, uv_strerror (rc));
        m->eof = true;
        return rc;
    }
    m->reading = true;
    return 0;
}

void
metrics_drain (struct metrics *m)
{
    if (!m || m->eof)
        return;
    uint64_t first = m->n;
    uv_os_fd_t fd;
    if (m->pipe_init && uv_fileno ((uv_handle_t *)&m->pipe, &fd) == 0) {
        for (;;) {
            ssize_t n = read (fd, m->rbuf, READ_BUF);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            feed (m, m->rbuf, (size_t)n);
        }
    }
    feed_end (m);
    stop_reading (m);
    flush_out (m, first);
}

struct metrics *
metrics_recover (uv_loop_t *loop, const char *dir, uint64_t job_id,
                 uint32_t attempt)
{
    struct metrics *m = alloc_common (loop, dir, job_id, attempt);
    if (!m)
        return NULL;
    m->eof = true;
    m->spool_fd = open (m->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (m->spool_fd < 0) {
        if (errno != ENOENT)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": cannot open %s: %s "
                      "(its metrics are lost)",
                      job_id, attempt, m->path, strerror (errno));
        return m;
    }
    char *buf = malloc (READ_BUF);
    if (!buf) {
        free_all (m);
        errno = ENOMEM;
        return NULL;
    }
    uint64_t pos = 0, line_start = 0;
    for (;;) {
        ssize_t n = pread (m->spool_fd, buf, READ_BUF, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n')
                continue;
            if (offs_reserve (m, m->n + 1) < 0)
                goto out;
            m->offs[m->n++] = line_start;
            line_start = pos + (uint64_t)i + 1;
        }
        pos += (uint64_t)n;
    }
out:
    free (buf);
    /* a record cut short by a crash: drop it */
    m->end = line_start;
    if (pos > line_start && ftruncate (m->spool_fd, (off_t)line_start) < 0)
        log_warn ("cannot truncate %s: %s", m->path, strerror (errno));
    return m;
}

uint64_t
metrics_lines (const struct metrics *m)
{
    return m ? m->n : 0;
}

uint64_t
metrics_malformed (const struct metrics *m)
{
    return m ? m->malformed : 0;
}

static int
points_reserve (struct metrics *m, size_t want)
{
    if (want <= m->pcap)
        return 0;
    size_t cap = m->pcap ? m->pcap * 2 : 256;
    while (cap < want)
        cap *= 2;
    Yard__MetricPoint *p = realloc (m->pts, cap * sizeof p[0]);
    if (!p)
        return -ENOMEM;
    m->pts = p;
    Yard__MetricPoint **q = realloc (m->ptrs, cap * sizeof q[0]);
    if (!q)
        return -ENOMEM;
    m->ptrs = q;
    m->pcap = cap;
    return 0;
}

const Yard__MetricsBatch *
metrics_next (struct metrics *m, int64_t now_ms)
{
    uint64_t first;
    size_t count;
    if (!m || !logship_next (&m->ship, m->n, now_ms, &first, &count))
        return NULL;
    /* the spool bytes of lines [first, first + count), at most SPOOL_READ
     * but always one whole line */
    uint64_t last = first + count;
    uint64_t from = m->offs[first];
    uint64_t to = last < m->n ? m->offs[last] : m->end;
    uint64_t one_end = first + 1 < m->n ? m->offs[first + 1] : m->end;
    if (to - from > SPOOL_READ)
        to = one_end - from > SPOOL_READ ? one_end : from + SPOOL_READ;
    free (m->sbuf);
    m->sbuf = malloc (to - from + 1);
    if (!m->sbuf)
        return NULL;
    size_t got = 0, want = (size_t)(to - from);
    while (got < want) {
        ssize_t r = pread (m->spool_fd, m->sbuf + got, want - got,
                           (off_t)(from + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            log_err ("job %" PRIu64 ".%" PRIu32 ": cannot read %s: %s",
                     m->job_id, m->num, m->path,
                     r < 0 ? strerror (errno) : "short file");
            return NULL;
        }
        got += (size_t)r;
    }
    m->sbuf[want] = '\0';

    /* the previous batch's keys (copies: the parsed records do not live
     * past their line) */
    for (size_t i = 0; i < m->batch.n_points; i++)
        free (m->pts[i].key);
    yard__metrics_batch__init (&m->batch);
    m->batch.job_id = m->job_id;
    m->batch.attempt = m->num;
    m->batch.first_seq = first;

    size_t np = 0, bytes = 0, pos = 0;
    uint64_t seq = first, malformed = 0;
    while (pos < want) {
        char *nl = memchr (m->sbuf + pos, '\n', want - pos);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (m->sbuf + pos));
        json_error_t jerr;
        json_t *rec = json_loadb (m->sbuf + pos, len, 0, &jerr);
        json_t *p = rec ? json_object_get (rec, "p") : NULL;
        size_t line_np = 0, line_bytes = 0;
        const char *key;
        json_t *v;
        bool mal = rec && json_object_get (rec, "m");
        if (!rec)
            log_warn ("job %" PRIu64 ".%" PRIu32 ": %s line %" PRIu64
                      " is damaged: skipped", m->job_id, m->num, m->path,
                      seq);
        json_object_foreach (p, key, v) {
            if (points_reserve (m, np + line_np + 1) < 0) {
                json_decref (rec);
                goto done;
            }
            Yard__MetricPoint *pt = &m->pts[np + line_np];
            yard__metric_point__init (pt);
            pt->step = json_integer_value (json_object_get (rec, "s"));
            pt->time_ms = json_integer_value (json_object_get (rec, "t"));
            pt->seq = seq;
            pt->value = json_number_value (v);
            pt->key = (char *)key; /* sized below, copied after */
            line_bytes += yard__metric_point__get_packed_size (pt) + 4;
            pt->key = NULL;
            line_np++;
        }
        if (seq > first && bytes + line_bytes + BATCH_SLACK > METRICS_BATCH_MAX) {
            json_decref (rec);
            break;
        }
        size_t k = np;
        json_object_foreach (p, key, v) {
            if (k >= np + line_np)
                break;
            m->pts[k].key = strdup (key);
            if (!m->pts[k].key) {
                for (size_t j = np; j < k; j++)
                    free (m->pts[j].key);
                json_decref (rec);
                goto done;
            }
            k++;
        }
        np += line_np;
        bytes += line_bytes;
        if (mal)
            malformed++;
        json_decref (rec);
        seq++;
        pos += len + 1;
    }
done:
    if (seq == first) {
        m->batch.n_points = 0;
        return NULL;
    }
    for (size_t i = 0; i < np; i++)
        m->ptrs[i] = &m->pts[i];
    m->batch.next_seq = seq;
    m->batch.points = m->ptrs;
    m->batch.n_points = np;
    m->batch.malformed = malformed;
    return &m->batch;
}

void
metrics_sent (struct metrics *m, const Yard__MetricsBatch *b, int64_t now_ms)
{
    logship_sent (&m->ship, b->first_seq, (size_t)(b->next_seq - b->first_seq),
                  now_ms);
}

int
metrics_ack (struct metrics *m, uint64_t next_seq)
{
    return logship_ack (&m->ship, next_seq, m->n);
}

void
metrics_rewind (struct metrics *m)
{
    if (m)
        logship_rewind (&m->ship);
}

bool
metrics_complete (const struct metrics *m)
{
    return !m || (m->eof && logship_complete (&m->ship, m->n));
}

void
metrics_destroy (struct metrics **mp)
{
    if (!mp || !*mp)
        return;
    struct metrics *m = *mp;
    *mp = NULL;
    for (size_t i = 0; i < m->batch.n_points; i++)
        free (m->pts[i].key);
    m->batch.n_points = 0;
    if (m->pipe_init) {
        stop_reading (m);
        uv_close ((uv_handle_t *)&m->pipe, closed_cb);
    } else {
        free_all (m);
    }
}
