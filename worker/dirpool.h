/* dirpool.h - spare attempt dirs, so that an attempt takes its dir (and
 * its files, and the job's checkpoint dir) from an earlier one rather
 * than making them.
 *
 * Making files and dirs is most of what a short job costs the worker on
 * a file system that is slow to allocate inodes freed a moment ago (ext4
 * without a journal looks for one not recently deleted), and freeing them
 * costs as much again.  A finished attempt's dir is renamed into the pool
 * at once (JOBS/.trash-spare-N: a hidden name, so the next start removes
 * it like any trash) and readied on the loop's thread pool
 * (jobdir_recycle): its output.log emptied, its started record cleared,
 * its result marked as none (the next is written over it, jobdir.h), an
 * empty checkpoint dir kept.  The next attempt renames a ready one to its own name.  At
 * most max dirs are kept; beyond that a dir is removed as before.
 */
#ifndef WORKER_DIRPOOL_H
#define WORKER_DIRPOOL_H

#include <stddef.h>
#include <uv.h>

struct dirpool;

/* A pool of spare dirs in root (the jobs dir; it must exist), at most
 * max of them (0: no pool, every call says -ENOENT).  NULL with errno
 * set. */
struct dirpool *dirpool_create (uv_loop_t *loop, const char *root,
                                size_t max);

/* Rename a ready spare dir to path.  0, -ENOENT when none is ready (make
 * one), or rename's error (the spare is dropped). */
int dirpool_take (struct dirpool *p, const char *path);

/* Take the dir at dir (an attempt that is over; nothing may use it any
 * more): renamed into the pool at once and readied off the loop.  0, or a
 * negative errno with dir left as it is (-ENOSPC: the pool is full). */
int dirpool_give (struct dirpool *p, const char *dir);

/* How many spare dirs are ready. */
size_t dirpool_ready (const struct dirpool *p);

/* Forget the pool (its dirs stay: the next start removes them as trash);
 * work in flight ends on its own.  Accepts NULL; NULLs the pointer. */
void dirpool_destroy (struct dirpool **p);

#endif
