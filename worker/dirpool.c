/* dirpool.c - spare attempt dirs (see dirpool.h). */
#include "dirpool.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobdir.h"
#include "log.h"

#define SPARE_PREFIX JOBDIR_TRASH_PREFIX "spare-"

struct dirpool {
    uv_loop_t *loop;
    char root[PATH_MAX];
    size_t max;
    unsigned *ready; /* ids of ready spares, taken last first */
    size_t n_ready;
    size_t n_busy;   /* being readied */
    unsigned next_id;
    bool gone;       /* destroyed: the last work frees it */
};

struct recycle {
    uv_work_t req;
    struct dirpool *p;
    unsigned id;
    int rc;
    char path[PATH_MAX];
};

static int
spare_path (const struct dirpool *p, unsigned id, char *buf, size_t len)
{
    int n = snprintf (buf, len, "%s/" SPARE_PREFIX "%u", p->root, id);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct dirpool *
dirpool_create (uv_loop_t *loop, const char *root, size_t max)
{
    struct dirpool *p = calloc (1, sizeof *p);
    if (!p)
        return NULL;
    if (snprintf (p->root, sizeof p->root, "%s", root) >= (int)sizeof p->root
        || !(p->ready = calloc (max ? max : 1, sizeof *p->ready))) {
        free (p);
        errno = ENOMEM;
        return NULL;
    }
    p->loop = loop;
    p->max = max;
    return p;
}

static void
pool_free (struct dirpool *p)
{
    free (p->ready);
    free (p);
}

int
dirpool_take (struct dirpool *p, const char *path)
{
    char spare[PATH_MAX];
    if (!p || p->n_ready == 0)
        return -ENOENT;
    unsigned id = p->ready[--p->n_ready];
    if (spare_path (p, id, spare, sizeof spare) < 0)
        return -ENAMETOOLONG;
    if (rename (spare, path) < 0) {
        int e = errno;
        log_warn ("cannot take the spare dir %s as %s: %s", spare, path,
                  strerror (e));
        (void)jobdir_remove_tree (spare);
        return -e;
    }
    return 0;
}

static void
recycle_work (uv_work_t *req)
{
    struct recycle *r = req->data;
    r->rc = jobdir_recycle (r->path);
    if (r->rc < 0)
        (void)jobdir_remove_tree (r->path);
}

static void
recycle_after (uv_work_t *req, int status)
{
    struct recycle *r = req->data;
    struct dirpool *p = r->p;
    p->n_busy--;
    if (status < 0 || r->rc < 0) {
        log_debug ("spare dir %s not kept: %s", r->path,
                   strerror (status < 0 ? -status : -r->rc));
    } else if (!p->gone && p->n_ready < p->max) {
        p->ready[p->n_ready++] = r->id;
    }
    if (p->gone && p->n_busy == 0)
        pool_free (p);
    free (r);
}

int
dirpool_give (struct dirpool *p, const char *dir)
{
    if (!p || p->n_ready + p->n_busy >= p->max)
        return -ENOSPC;
    struct recycle *r = calloc (1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->p = p;
    r->id = ++p->next_id;
    r->req.data = r;
    int rc = spare_path (p, r->id, r->path, sizeof r->path);
    if (rc == 0 && rename (dir, r->path) < 0)
        rc = -errno;
    if (rc < 0) {
        free (r);
        return rc;
    }
    if ((rc = uv_queue_work (p->loop, &r->req, recycle_work, recycle_after))
        < 0) {
        /* left as trash for the next start */
        free (r);
        return 0;
    }
    p->n_busy++;
    return 0;
}

size_t
dirpool_ready (const struct dirpool *p)
{
    return p ? p->n_ready : 0;
}

void
dirpool_destroy (struct dirpool **pp)
{
    if (!pp || !*pp)
        return;
    struct dirpool *p = *pp;
    *pp = NULL;
    p->gone = true;
    if (p->n_busy == 0)
        pool_free (p);
}
