/* xfer.h - moving artifacts to and from the scheduler's store.
 *
 * Blocking calls over a DEALER socket connected to either scheduler port
 * (client or worker).  Each request waits for its reply up to timeout_ms;
 * replies to other requests (late answers of an earlier timeout) are
 * skipped.  A socket used here must not be used by anything else at the
 * same time: workers give each transfer thread a socket of its own.
 *
 * Uploads are resumable: an upload of a blob the store partly holds
 * continues where the store stopped, and one the store already holds sends
 * nothing.  Downloads are written beside their destination, checked against
 * their digest, made durable, and only then renamed into place, so a
 * destination either does not exist or is complete.
 */
#ifndef YARD_XFER_H
#define YARD_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

#define YARD_XFER_CHUNK (1u << 20)

typedef struct yard_xfer {
    void *sock;               /* DEALER, connected */
    int timeout_ms;           /* per request (0: 30 s) */
    uint64_t next_id;         /* request ids (0: start at 1) */
    uint64_t sent_bytes;      /* bytes of content sent / received, for */
    uint64_t recv_bytes;      /* callers that report progress */
} yard_xfer_t;

typedef struct yard_xfer_info {
    bool present;
    uint64_t size;
    uint64_t partial;
} yard_xfer_info_t;

int yard_xfer_stat (yard_xfer_t *x, const char *digest, yard_xfer_info_t *info,
                    yard_error_t *err);

/* Store a buffer / a file / a folder (as a tree: each file, then the
 * manifest) / either.  digest gets the stored blob's (a folder: its
 * manifest's) digest, size the bytes of content, is_tree whether path was a
 * folder. */
int yard_xfer_put_buf (yard_xfer_t *x, const void *data, size_t len,
                       char *digest, yard_error_t *err);
int yard_xfer_put_file (yard_xfer_t *x, const char *path, char *digest,
                        uint64_t *size, yard_error_t *err);
int yard_xfer_put_tree (yard_xfer_t *x, const char *dir, char *digest,
                        uint64_t *size, yard_error_t *err);
int yard_xfer_put_path (yard_xfer_t *x, const char *path, char *digest,
                        uint64_t *size, bool *is_tree, yard_error_t *err);

/* Fetch a blob into a file, or a blob into memory (at most max bytes). */
int yard_xfer_get_file (yard_xfer_t *x, const char *digest, const char *dest,
                        uint32_t mode, yard_error_t *err);
int yard_xfer_get_buf (yard_xfer_t *x, const char *digest, size_t max,
                       char **data, size_t *len, yard_error_t *err);

/* Fetch an artifact to dest: a tree becomes a folder holding its files, a
 * plain blob a file.  dest must not exist. */
int yard_xfer_get_path (yard_xfer_t *x, const char *digest, const char *dest,
                        bool *is_tree, yard_error_t *err);

#endif
