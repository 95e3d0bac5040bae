/* digest.h - content digests (sha256, 64 lowercase hex digits) and the
 * manifests that name folders in the artifact store.
 *
 * A tree manifest is JSON:
 *   {"yard_tree":1,"entries":[{"path":"a/b","mode":420,"size":N,
 *                              "digest":"..."}, ...]}
 * with entries sorted by path (byte order) and only regular files listed
 * (empty folders are not kept).  The digest of a folder is the digest of its
 * manifest's bytes, so the same content always has the same name.
 */
#ifndef YARD_DIGEST_H
#define YARD_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define YARD_DIGEST_HEX 64
#define YARD_TREE_MAX_ENTRIES 100000

typedef struct yard_sha256 {
    unsigned char state[128];  /* crypto_hash_sha256_state, opaque here */
} yard_sha256_t;

void yard_sha256_init (yard_sha256_t *h);
void yard_sha256_update (yard_sha256_t *h, const void *data, size_t len);
/* Finish into hex (YARD_DIGEST_HEX + 1 bytes). */
void yard_sha256_final (yard_sha256_t *h, char *hex);

/* Digest of a buffer / of a file's bytes (with its size). */
void yard_digest_buf (const void *data, size_t len, char *hex);
int yard_digest_file (const char *path, char *hex, uint64_t *size,
                      yard_error_t *err);

/* True when s is 64 lowercase hex digits. */
bool yard_digest_valid (const char *s);

/* One file of a tree. */
typedef struct yard_tree_entry {
    char *path;               /* relative, '/'-separated, no "." or ".." */
    uint32_t mode;            /* permission bits */
    uint64_t size;
    char digest[YARD_DIGEST_HEX + 1];
} yard_tree_entry_t;

typedef struct yard_tree {
    yard_tree_entry_t *entries;
    size_t count;
    uint64_t total_size;      /* sum of the entries' sizes */
} yard_tree_t;

/* Walk dir and hash every regular file in it (symlinks and special files
 * are refused, so a tree never points outside itself). */
int yard_tree_scan (const char *dir, yard_tree_t *tree, yard_error_t *err);

/* The manifest's bytes (malloc'd, not NUL-terminated) and their digest. */
int yard_tree_manifest (const yard_tree_t *tree, char **json, size_t *len,
                        char *hex, yard_error_t *err);

/* Parse a manifest.  -EBADMSG (and err) when the bytes are not one; a
 * path that is absolute or climbs out ("..") is refused. */
int yard_tree_parse (const void *data, size_t len, yard_tree_t *tree,
                     yard_error_t *err);

/* True when the bytes look like a manifest (cheap: no full parse). */
bool yard_tree_sniff (const void *data, size_t len);

void yard_tree_free (yard_tree_t *tree);

#endif
