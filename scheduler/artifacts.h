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

/* Take len bytes at offset of the blob digest (whole size `size`).  An
 * offset other than what partial/ holds writes nothing: the caller answers
 * with the held count and the uploader continues from there.  When the
 * last byte arrives the blob is verified and published; *present says so.
 * -EBADMSG: the content does not match the digest (the upload is dropped);
 * -ENOSPC: the blob does not fit on the disk. */
int yard_artifacts_put (yard_artifacts_t *a, const char *digest,
                        uint64_t size, uint64_t offset, const void *data,
                        size_t len, bool *present, uint64_t *held,
                        yard_error_t *err);

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
