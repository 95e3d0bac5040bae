/* artifacts.c - see artifacts.h. */
#include "artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Hash states of uploads in progress, so the final check does not read the
 * whole blob again.  An upload whose state was evicted (or lost in a
 * restart) is re-hashed from its partial file once. */
#define HASH_SLOTS 32
#define DISK_RESERVE (64ull * 1024 * 1024)

struct hslot {
    char digest[YARD_DIGEST_HEX + 1];
    uint64_t upto;
    uint64_t used;            /* LRU stamp, 0: free */
    yard_sha256_t h;
};

struct yard_artifacts_finish {
    char digest[YARD_DIGEST_HEX + 1];
    char part[4096];          /* partial/<digest> */
    char dir[4096];           /* blobs/<2 hex> */
    char dst[4096];           /* blobs/<2 hex>/<digest> */
    uint64_t size;
    uint64_t upto;            /* bytes h covers */
    yard_sha256_t h;
    int rc;                   /* the run's outcome */
    yard_error_t err;
    atomic_int cancel;        /* set by the store's thread: stop early */
    struct yard_artifacts_finish *next; /* the store's list of running ones */
};

struct yard_artifacts {
    char *root;               /* <state>/artifacts */
    struct hslot slot[HASH_SLOTS];
    uint64_t clock;
    yard_artifacts_finish_t *finishing; /* handed out, not done yet */
};

static yard_artifacts_finish_t *
finishing (yard_artifacts_t *a, const char *digest)
{
    for (yard_artifacts_finish_t *f = a->finishing; f; f = f->next)
        if (!strcmp (f->digest, digest))
            return f;
    return NULL;
}

const char *
yard_artifacts_path (yard_artifacts_t *a, const char *digest, char *buf,
                     size_t len)
{
    snprintf (buf, len, "%s/blobs/%.2s/%s", a->root, digest, digest);
    return buf;
}

static void
partial_path (yard_artifacts_t *a, const char *digest, char *buf, size_t len)
{
    snprintf (buf, len, "%s/partial/%s", a->root, digest);
}

int
yard_artifacts_open (const char *state_dir, yard_artifacts_t **out,
                     yard_error_t *err)
{
    yard_artifacts_t *a = calloc (1, sizeof *a);
    if (!a || asprintf (&a->root, "%s/artifacts", state_dir) < 0) {
        free (a);
        return yard_errorf (err, ENOMEM, "out of memory");
    }
    char p[4096];
    const char *sub[] = {"blobs", "partial"};
    for (int i = 0; i < 2; i++) {
        snprintf (p, sizeof p, "%s/%s", a->root, sub[i]);
        int rc = yard_mkdir_p (p);
        if (rc < 0) {
            yard_errorf (err, rc, "cannot create %s: %s", p, strerror (-rc));
            yard_artifacts_close (a);
            return rc;
        }
    }
    *out = a;
    return 0;
}

void
yard_artifacts_close (yard_artifacts_t *a)
{
    if (!a)
        return;
    free (a->root);
    free (a);
}

bool
yard_artifacts_present (yard_artifacts_t *a, const char *digest,
                        uint64_t *size)
{
    if (!yard_digest_valid (digest))
        return false;
    char p[4096];
    struct stat st;
    if (stat (yard_artifacts_path (a, digest, p, sizeof p), &st) < 0)
        return false;
    if (size)
        *size = (uint64_t)st.st_size;
    return true;
}

uint64_t
yard_artifacts_partial (yard_artifacts_t *a, const char *digest)
{
    if (!yard_digest_valid (digest))
        return 0;
    char p[4096];
    struct stat st;
    partial_path (a, digest, p, sizeof p);
    return stat (p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static struct hslot *
slot_find (yard_artifacts_t *a, const char *digest)
{
    for (int i = 0; i < HASH_SLOTS; i++)
        if (a->slot[i].used && !strcmp (a->slot[i].digest, digest)) {
            a->slot[i].used = ++a->clock;
            return &a->slot[i];
        }
    return NULL;
}

static struct hslot *
slot_new (yard_artifacts_t *a, const char *digest)
{
    struct hslot *v = &a->slot[0];
    for (int i = 0; i < HASH_SLOTS; i++) {
        if (!a->slot[i].used) {
            v = &a->slot[i];
            break;
        }
        if (a->slot[i].used < v->used)
            v = &a->slot[i];
    }
    memcpy (v->digest, digest, YARD_DIGEST_HEX + 1);
    v->upto = 0;
    v->used = ++a->clock;
    yard_sha256_init (&v->h);
    return v;
}

static void
slot_drop (struct hslot *s)
{
    if (s)
        s->used = 0;
}

/* Bring the hash h of the first *at bytes of fd up to `upto` bytes; stop
 * early with -ECANCELED once *cancel is set (NULL: never).  Safe on any
 * thread. */
static int
hash_file (yard_sha256_t *h, uint64_t *at, int fd, uint64_t upto,
           atomic_int *cancel)
{
    static __thread unsigned char buf[1 << 16];
    while (*at < upto) {
        if (cancel && atomic_load_explicit (cancel, memory_order_relaxed))
            return -ECANCELED;
        size_t n = upto - *at > sizeof buf ? sizeof buf
                                           : (size_t)(upto - *at);
        ssize_t got = pread (fd, buf, n, (off_t)*at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? -errno : -EIO;
        yard_sha256_update (h, buf, (size_t)got);
        *at += (uint64_t)got;
    }
    return 0;
}

/* Bring the slot's hash up to `upto` bytes of the partial file. */
static int
slot_catch_up (struct hslot *s, int fd, uint64_t upto)
{
    return hash_file (&s->h, &s->upto, fd, upto, NULL);
}

/* The end of digest's upload: it takes the slot's hash state (s may be
 * NULL), and is listed as running until yard_artifacts_finish_done. */
static yard_artifacts_finish_t *
finish_new (yard_artifacts_t *a, const char *digest, const char *part,
            uint64_t size, struct hslot *s)
{
    yard_artifacts_finish_t *f = calloc (1, sizeof *f);
    if (!f)
        return NULL;
    memcpy (f->digest, digest, YARD_DIGEST_HEX + 1);
    snprintf (f->part, sizeof f->part, "%s", part);
    snprintf (f->dir, sizeof f->dir, "%s/blobs/%.2s", a->root, digest);
    yard_artifacts_path (a, digest, f->dst, sizeof f->dst);
    f->size = size;
    if (s) {
        f->h = s->h;
        f->upto = s->upto;
        slot_drop (s);
    } else {
        yard_sha256_init (&f->h);
    }
    yard_error_clear (&f->err);
    f->next = a->finishing;
    a->finishing = f;
    return f;
}

int
yard_artifacts_put (yard_artifacts_t *a, const char *digest, uint64_t size,
                    uint64_t offset, const void *data, size_t len,
                    bool *present, uint64_t *held,
                    yard_artifacts_finish_t **finish, yard_error_t *err)
{
    *present = false;
    *held = 0;
    if (finish)
        *finish = NULL;
    if (!yard_digest_valid (digest))
        return yard_errorf (err, EINVAL,
                            "'%s' is not an artifact digest (64 lowercase "
                            "hex digits of the content's sha256)",
                            digest ? digest : "");
    uint64_t have;
    if (yard_artifacts_present (a, digest, &have)) {
        /* stored again: a new grace period against the GC, so that what
         * was just put is still there when a job names it */
        char path[4096];
        yard_artifacts_path (a, digest, path, sizeof path);
        if (utimensat (AT_FDCWD, path, NULL, 0) < 0)
            log_debug ("cannot touch artifact %s: %s", digest,
                       strerror (errno));
        *present = true;
        *held = have;
        return 0;
    }
    if (finishing (a, digest))
        return -EINPROGRESS; /* its last byte came: being verified */
    if (offset > size || len > size - offset)
        return yard_errorf (err, EINVAL,
                            "upload of %s: %zu bytes at %llu pass its size "
                            "%llu",
                            digest, len, (unsigned long long)offset,
                            (unsigned long long)size);
    char part[4096];
    partial_path (a, digest, part, sizeof part);
    int fd = open (part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return yard_errorf (err, errno, "cannot store artifact %s: %s",
                            digest, strerror (errno));
    struct stat st;
    if (fstat (fd, &st) < 0) {
        int e = errno;
        close (fd);
        return yard_errorf (err, e, "cannot store artifact %s: %s", digest,
                            strerror (e));
    }
    uint64_t cur = (uint64_t)st.st_size;
    struct hslot *s = slot_find (a, digest);
    int rc = 0;
    if (cur > size) {
        /* Left by an upload that claimed another size: start over. */
        if (ftruncate (fd, 0) < 0)
            rc = yard_errorf (err, errno, "cannot reset the upload of %s",
                              digest);
        cur = 0;
        slot_drop (s);
        s = NULL;
    }
    if (rc == 0 && offset == cur) {
        if (cur == 0) {
            struct statvfs vfs;
            if (fstatvfs (fd, &vfs) == 0
                && (uint64_t)vfs.f_bavail * vfs.f_frsize
                       < size + DISK_RESERVE) {
                rc = yard_errorf (err, ENOSPC,
                                  "the artifact store's disk has no room "
                                  "for %llu bytes",
                                  (unsigned long long)size);
            }
        }
        const char *p = data;
        size_t left = len;
        uint64_t at = offset;
        while (rc == 0 && left > 0) {
            ssize_t n = pwrite (fd, p, left, (off_t)at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                int e = errno;
                /* Keep what is whole: the uploader resends the rest. */
                if (ftruncate (fd, (off_t)offset) < 0)
                    log_warn ("cannot trim the upload of %s", digest);
                rc = yard_errorf (err, e, "cannot store artifact %s: %s",
                                  digest, strerror (e));
                break;
            }
            p += n;
            at += (uint64_t)n;
            left -= (size_t)n;
        }
        if (rc == 0)
            cur = offset + len;
    }
    if (rc == 0 && cur == size) {
        /* the rest of the hash, the check, the fsync and the publication:
         * here for a small blob, by the caller for a large one (they take
         * long: yard_artifacts_finish_run) */
        yard_artifacts_finish_t *f = finish_new (a, digest, part, size, s);
        if (!f) {
            rc = yard_errorf (err, ENOMEM, "out of memory");
        } else if (finish && size > YARD_ARTIFACTS_FINISH_INLINE) {
            *finish = f;
        } else {
            yard_artifacts_finish_run (f);
            rc = yard_artifacts_finish_done (a, f, present, err);
            if (rc == -EBADMSG)
                cur = 0; /* dropped */
        }
    } else if (rc == 0 && cur > 0) {
        /* Hash as it arrives, while the bytes are still in the cache. */
        if (!s)
            s = slot_new (a, digest);
        if (slot_catch_up (s, fd, cur) < 0)
            slot_drop (s);
    }
    close (fd);
    *held = cur;
    return rc;
}

void
yard_artifacts_finish_run (yard_artifacts_finish_t *f)
{
    int fd = open (f->part, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        f->rc = yard_errorf (&f->err, errno, "cannot read back artifact %s: "
                             "%s", f->digest, strerror (errno));
        return;
    }
    int rc = hash_file (&f->h, &f->upto, fd, f->size, &f->cancel);
    if (rc == -ECANCELED)
        yard_errorf (&f->err, ECANCELED, "the verification of artifact %s "
                     "was stopped: the scheduler is stopping; the upload goes "
                     "on from what it holds", f->digest);
    else if (rc < 0)
        yard_errorf (&f->err, -rc, "cannot read back artifact %s: %s",
                     f->digest, strerror (-rc));
    char got[YARD_DIGEST_HEX + 1];
    if (rc == 0) {
        yard_sha256_final (&f->h, got);
        if (strcmp (got, f->digest) != 0) {
            unlink (f->part);
            rc = yard_errorf (&f->err, EBADMSG,
                              "the content sent for %s has digest %s: the "
                              "upload was dropped",
                              f->digest, got);
        }
    }
    if (rc == 0 && fsync (fd) < 0)
        rc = yard_errorf (&f->err, errno, "cannot write artifact %s: %s",
                          f->digest, strerror (errno));
    close (fd);
    if (rc == 0 && (rc = yard_mkdir_p (f->dir)) < 0)
        yard_errorf (&f->err, rc, "cannot create %s: %s", f->dir,
                     strerror (-rc));
    if (rc == 0 && rename (f->part, f->dst) < 0)
        rc = yard_errorf (&f->err, errno, "cannot publish artifact %s: %s",
                          f->digest, strerror (errno));
    if (rc == 0 && (rc = yard_fsync_dir (f->dir)) < 0)
        yard_errorf (&f->err, rc, "cannot write %s: %s", f->dir,
                     strerror (-rc));
    f->rc = rc;
}

int
yard_artifacts_finish_done (yard_artifacts_t *a, yard_artifacts_finish_t *f,
                            bool *present, yard_error_t *err)
{
    for (yard_artifacts_finish_t **p = &a->finishing; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    int rc = f->rc;
    *present = rc == 0;
    if (rc < 0 && err)
        *err = f->err;
    free (f);
    return rc;
}

void
yard_artifacts_finish_cancel_all (yard_artifacts_t *a)
{
    for (yard_artifacts_finish_t *f = a->finishing; f; f = f->next)
        atomic_store_explicit (&f->cancel, 1, memory_order_relaxed);
}

const char *
yard_artifacts_finish_digest (const yard_artifacts_finish_t *f)
{
    return f->digest;
}

uint64_t
yard_artifacts_finish_size (const yard_artifacts_finish_t *f)
{
    return f->size;
}

int
yard_artifacts_read (yard_artifacts_t *a, const char *digest,
                     uint64_t offset, void *buf, size_t max, size_t *got,
                     uint64_t *size, yard_error_t *err)
{
    *got = 0;
    if (!yard_digest_valid (digest))
        return yard_errorf (err, EINVAL, "'%s' is not an artifact digest",
                            digest ? digest : "");
    char p[4096];
    int fd = open (yard_artifacts_path (a, digest, p, sizeof p),
                   O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return yard_errorf (err, errno == ENOENT ? ENOENT : errno,
                            "the artifact store has no %s", digest);
    struct stat st;
    int rc = 0;
    if (fstat (fd, &st) < 0) {
        rc = yard_errorf (err, errno, "cannot read artifact %s", digest);
    } else {
        *size = (uint64_t)st.st_size;
        if (offset < *size) {
            ssize_t n = pread (fd, buf, max, (off_t)offset);
            if (n < 0)
                rc = yard_errorf (err, errno, "cannot read artifact %s: %s",
                                  digest, strerror (errno));
            else
                *got = (size_t)n;
        }
    }
    close (fd);
    return rc;
}

static int
load_blob (yard_artifacts_t *a, const char *digest, char **data, size_t *len)
{
    uint64_t size;
    if (!yard_artifacts_present (a, digest, &size))
        return -ENOENT;
    if (size > 64u * 1024 * 1024)
        return -EFBIG;
    char *buf = malloc (size ? size : 1);
    if (!buf)
        return -ENOMEM;
    size_t got;
    uint64_t sz;
    if (yard_artifacts_read (a, digest, 0, buf, size, &got, &sz, NULL) < 0
        || got != size) {
        free (buf);
        return -EIO;
    }
    *data = buf;
    *len = got;
    return 0;
}

bool
yard_artifacts_tree_present (yard_artifacts_t *a, const char *digest)
{
    char *data;
    size_t len;
    if (load_blob (a, digest, &data, &len) < 0)
        return false;
    yard_tree_t t;
    bool ok = yard_tree_parse (data, len, &t, NULL) == 0;
    free (data);
    for (size_t i = 0; ok && i < t.count; i++)
        ok = yard_artifacts_present (a, t.entries[i].digest, NULL);
    yard_tree_free (&t);
    return ok;
}

bool
yard_artifacts_complete (yard_artifacts_t *a, const char *digest)
{
    char *data;
    size_t len;
    int rc = load_blob (a, digest, &data, &len);
    if (rc == -EFBIG)
        return true; /* too big to be a manifest; present */
    if (rc < 0)
        return false;
    bool tree = yard_tree_sniff (data, len);
    free (data);
    return tree ? yard_artifacts_tree_present (a, digest) : true;
}

/* ---- garbage collection ---- */

static int
hex_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

struct keepset {
    char **v;
    size_t n, cap;
};

static int
keep_add (struct keepset *k, const char *d)
{
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 256;
        char **v = realloc (k->v, nc * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        k->v = v;
        k->cap = nc;
    }
    if (!(k->v[k->n] = strdup (d)))
        return -ENOMEM;
    k->n++;
    return 0;
}

int
yard_artifacts_gc_blobs (const char *root, const char *const *keep,
                         size_t nkeep, int64_t min_age_ms, uint64_t *freed)
{
    struct keepset k = {0};
    int rc = 0;
    uint64_t removed = 0, bytes = 0;
    /* load_blob wants a store; this pass reads only the root */
    yard_artifacts_t view = {.root = (char *)root};
    yard_artifacts_t *a = &view;
    for (size_t i = 0; i < nkeep && rc == 0; i++) {
        if (!yard_digest_valid (keep[i]))
            continue;
        rc = keep_add (&k, keep[i]);
        char *data;
        size_t len;
        if (rc == 0 && load_blob (a, keep[i], &data, &len) == 0) {
            yard_tree_t t;
            if (yard_tree_sniff (data, len)
                && yard_tree_parse (data, len, &t, NULL) == 0) {
                for (size_t j = 0; j < t.count && rc == 0; j++)
                    rc = keep_add (&k, t.entries[j].digest);
                yard_tree_free (&t);
            }
            free (data);
        }
    }
    if (rc < 0)
        goto out;
    if (k.n) /* qsort and bsearch want a real array, even of 0 */
        qsort (k.v, k.n, sizeof k.v[0], hex_cmp);
    time_t now = time (NULL);
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/blobs", a->root);
    DIR *top = opendir (dir);
    if (!top) {
        rc = -errno;
        goto out;
    }
    struct dirent *de;
    while ((de = readdir (top))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        if ((size_t)snprintf (sub, sizeof sub, "%s/%s", dir, de->d_name)
            >= sizeof sub)
            continue;
        DIR *d = opendir (sub);
        if (!d)
            continue;
        struct dirent *be;
        while ((be = readdir (d))) {
            if (!yard_digest_valid (be->d_name))
                continue;
            const char *name = be->d_name;
            if (k.n && bsearch (&name, k.v, k.n, sizeof k.v[0], hex_cmp))
                continue;
            char p[4096];
            struct stat st;
            if ((size_t)snprintf (p, sizeof p, "%s/%s", sub, name) >= sizeof p
                || stat (p, &st) < 0
                || (int64_t)(now - st.st_mtime) * 1000 < min_age_ms)
                continue;
            if (unlink (p) == 0) {
                removed++;
                bytes += (uint64_t)st.st_size;
            }
        }
        closedir (d);
    }
    closedir (top);
out:
    for (size_t i = 0; i < k.n; i++)
        free (k.v[i]);
    free (k.v);
    if (freed)
        *freed = bytes;
    return rc < 0 ? rc : (int)(removed > 0x7fffffff ? 0x7fffffff : removed);
}

void
yard_artifacts_gc_partials (yard_artifacts_t *a, int64_t min_age_ms)
{
    time_t now = time (NULL);
    char dir[4096];
    struct dirent *de;
    snprintf (dir, sizeof dir, "%s/partial", a->root);
    DIR *pd = opendir (dir);
    while (pd && (de = readdir (pd))) {
        if (de->d_name[0] == '.' || finishing (a, de->d_name))
            continue;
        char p[4096];
        struct stat st;
        if ((size_t)snprintf (p, sizeof p, "%s/%s", dir, de->d_name)
                < sizeof p
            && stat (p, &st) == 0
            && (int64_t)(now - st.st_mtime) * 1000 >= min_age_ms) {
            unlink (p);
            slot_drop (slot_find (a, de->d_name));
        }
    }
    if (pd)
        closedir (pd);
}

const char *
yard_artifacts_root (const yard_artifacts_t *a)
{
    return a->root;
}

int
yard_artifacts_gc (yard_artifacts_t *a, const char *const *keep,
                   size_t nkeep, int64_t min_age_ms, uint64_t *freed)
{
    int rc = yard_artifacts_gc_blobs (a->root, keep, nkeep, min_age_ms, freed);
    yard_artifacts_gc_partials (a, min_age_ms);
    return rc;
}
