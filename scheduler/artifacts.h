/* artifacts.h - the scheduler's content-addressed blob store.
 *
 * <state>/artifacts/blobs/ab/abcd...  complete, verified, durable blobs
 * <state>/artifacts/partial/abcd...   uploads in progress
 *
 * A blob appears under blobs/ only once all of its bytes arrived, their
 * sha256 matched its name, and the file and its folder were fsync'd: a
 * reader never sees a partial blob.  Uploads resume after a disconnect or a
 * scheduler restart from what partial/ holds.  What refers to blobs (jobs'
 * checkpoints, datasets, step outputs, models) is kept in the state
 * database by the features that own them; yard_artifacts_gc removes blobs
 * none of them names.
 */
#ifndef YARD_ARTIFACTS_H
#define YARD_ARTIFACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

typedef struct yard_artifacts yard_artifacts_t;

int yard_artifacts_open (const char *state_dir, yard_artifacts_t **out,
                         yard_error_t *err);
void yard_artifacts_close (yard_artifacts_t *a);

/* Whether a complete blob exists, and its size. */
bool yard_artifacts_present (yard_artifacts_t *a, const char *digest,
                             uint64_t *size);

/* Bytes of an unfinished upload held (0: none). */
uint64_t yard_artifacts_partial (yard_artifacts_t *a, const char *digest);

/* Path of a blob's file (it may not exist); buf of at least 4096 bytes. */
const char *yard_artifacts_path (yard_artifacts_t *a, const char *digest,
                                 char *buf, size_t len);

/* The end of an upload whose last byte arrived: hash what is not hashed
 * yet, compare, fsync, publish (see yard_artifacts_put). */
typedef struct yard_artifacts_finish yard_artifacts_finish_t;

/* Blobs up to this size are finished inside yard_artifacts_put. */
#define YARD_ARTIFACTS_FINISH_INLINE (1u << 20)

/* Take len bytes at offset of the blob digest (whole size `size`).  An
 * offset other than what partial/ holds writes nothing: the caller answers
 * with the held count and the uploader continues from there.  When the
 * last byte arrives the blob is verified and published; *present says so.
 * With finish non-NULL, a blob larger than YARD_ARTIFACTS_FINISH_INLINE is
 * not: *finish is set instead (*present stays false), the caller runs
 * yard_artifacts_finish_run (on any thread: it reads, hashes and fsyncs
 * the whole blob, seconds for a large one) and then
 * yard_artifacts_finish_done on this store's thread; until then a put of
 * that digest returns -EINPROGRESS and writes nothing.
 * -EBADMSG: the content does not match the digest (the upload is dropped);
 * -ENOSPC: the blob does not fit on the disk. */
int yard_artifacts_put (yard_artifacts_t *a, const char *digest,
                        uint64_t size, uint64_t offset, const void *data,
                        size_t len, bool *present, uint64_t *held,
                        yard_artifacts_finish_t **finish, yard_error_t *err);

/* Verify and publish.  Touches no state of the store: safe on another
 * thread.  The outcome is kept for yard_artifacts_finish_done. */
void yard_artifacts_finish_run (yard_artifacts_finish_t *f);

/* On the store's thread, after the run: *present when the blob is
 * published, else the error (as yard_artifacts_put's).  Frees f. */
int yard_artifacts_finish_done (yard_artifacts_t *a,
                                yard_artifacts_finish_t *f, bool *present,
                                yard_error_t *err);

/* Have the runs in progress stop at their next read (-ECANCELED, the
 * upload kept as it is, to be finished by its next put): the server is
 * going away and must not wait for a blob of gigabytes. */
void yard_artifacts_finish_cancel_all (yard_artifacts_t *a);

/* The digest and size of the blob a finish is about. */
const char *yard_artifacts_finish_digest (const yard_artifacts_finish_t *f);
uint64_t yard_artifacts_finish_size (const yard_artifacts_finish_t *f);

/* Read up to max bytes at offset into buf.  -ENOENT: no such blob. */
int yard_artifacts_read (yard_artifacts_t *a, const char *digest,
                         uint64_t offset, void *buf, size_t max, size_t *got,
                         uint64_t *size, yard_error_t *err);

/* A tree is present when its manifest and every blob it lists are. */
bool yard_artifacts_tree_present (yard_artifacts_t *a, const char *digest);

/* Present, and when the blob is a manifest, all of its files too. */
bool yard_artifacts_complete (yard_artifacts_t *a, const char *digest);

/* Delete blobs older than min_age_ms that are not in keep (digests of
 * referenced artifacts: a referenced tree keeps the blobs it lists), and
 * uploads untouched for min_age_ms.  Returns how many blobs went, or a
 * negative errno. */
int yard_artifacts_gc (yard_artifacts_t *a, const char *const *keep,
                       size_t nkeep, int64_t min_age_ms, uint64_t *freed);

/* The two halves of yard_artifacts_gc.  The blob pass reads and removes
 * files under root only, so it may run on another thread while the store
 * is in use (a blob put again meanwhile has a fresh mtime and stays); the
 * pass over unfinished uploads touches the store's hash state and runs on
 * its thread. */
int yard_artifacts_gc_blobs (const char *root, const char *const *keep,
                             size_t nkeep, int64_t min_age_ms,
                             uint64_t *freed);
void yard_artifacts_gc_partials (yard_artifacts_t *a, int64_t min_age_ms);
const char *yard_artifacts_root (const yard_artifacts_t *a);

#endif
