/* digest.c - sha256 digests (libsodium) and tree manifests (jansson). */
#include "digest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert (sizeof (crypto_hash_sha256_state) <= sizeof (yard_sha256_t),
                "yard_sha256_t too small for libsodium's state");

static void
hex_of (const unsigned char *bin, char *hex)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < crypto_hash_sha256_BYTES; i++) {
        hex[2 * i] = d[bin[i] >> 4];
        hex[2 * i + 1] = d[bin[i] & 15];
    }
    hex[YARD_DIGEST_HEX] = '\0';
}

void
yard_sha256_init (yard_sha256_t *h)
{
    crypto_hash_sha256_init ((crypto_hash_sha256_state *)h->state);
}

void
yard_sha256_update (yard_sha256_t *h, const void *data, size_t len)
{
    crypto_hash_sha256_update ((crypto_hash_sha256_state *)h->state, data,
                               len);
}

void
yard_sha256_final (yard_sha256_t *h, char *hex)
{
    unsigned char bin[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final ((crypto_hash_sha256_state *)h->state, bin);
    hex_of (bin, hex);
}

void
yard_digest_buf (const void *data, size_t len, char *hex)
{
    yard_sha256_t h;
    yard_sha256_init (&h);
    yard_sha256_update (&h, data, len);
    yard_sha256_final (&h, hex);
}

int
yard_digest_file (const char *path, char *hex, uint64_t *size,
                  yard_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return yard_errorf (err, -errno, "cannot open %s: %s", path,
                            strerror (errno));
    yard_sha256_t h;
    yard_sha256_init (&h);
    static __thread unsigned char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read (fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close (fd);
            return yard_errorf (err, -e, "cannot read %s: %s", path,
                                strerror (e));
        }
        if (n == 0)
            break;
        yard_sha256_update (&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close (fd);
    yard_sha256_final (&h, hex);
    if (size)
        *size = total;
    return 0;
}

bool
yard_digest_valid (const char *s)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (i >= YARD_DIGEST_HEX
            || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return i == YARD_DIGEST_HEX;
}

/* ---- trees ---- */

void
yard_tree_free (yard_tree_t *tree)
{
    if (!tree)
        return;
    for (size_t i = 0; i < tree->count; i++)
        free (tree->entries[i].path);
    free (tree->entries);
    memset (tree, 0, sizeof *tree);
}

static int
tree_add (yard_tree_t *t, size_t *cap, const char *rel, uint32_t mode,
          uint64_t size, const char *hex)
{
    if (t->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        yard_tree_entry_t *v = realloc (t->entries, nc * sizeof v[0]);
        if (!v)
            return -ENOMEM;
        t->entries = v;
        *cap = nc;
    }
    yard_tree_entry_t *e = &t->entries[t->count];
    if (!(e->path = strdup (rel)))
        return -ENOMEM;
    e->mode = mode;
    e->size = size;
    memcpy (e->digest, hex, YARD_DIGEST_HEX + 1);
    t->count++;
    t->total_size += size;
    return 0;
}

static int
scan_dir (const char *root, const char *rel, yard_tree_t *t, size_t *cap,
          yard_error_t *err)
{
    char path[4096];
    if ((size_t)snprintf (path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "",
                          rel) >= sizeof path)
        return yard_errorf (err, -ENAMETOOLONG, "path too long under %s",
                            root);
    DIR *d = opendir (path);
    if (!d)
        return yard_errorf (err, -errno, "cannot open folder %s: %s", path,
                            strerror (errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir (d))) {
        if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
            continue;
        char sub[4096], full[4096];
        if ((size_t)snprintf (sub, sizeof sub, "%s%s%s", rel,
                              rel[0] ? "/" : "", de->d_name) >= sizeof sub
            || (size_t)snprintf (full, sizeof full, "%s/%s", root, sub)
                   >= sizeof full) {
            rc = yard_errorf (err, -ENAMETOOLONG, "path too long under %s",
                              root);
            break;
        }
        struct stat st;
        if (lstat (full, &st) < 0) {
            rc = yard_errorf (err, -errno, "cannot stat %s: %s", full,
                              strerror (errno));
            break;
        }
        if (S_ISDIR (st.st_mode)) {
            rc = scan_dir (root, sub, t, cap, err);
        } else if (S_ISREG (st.st_mode)) {
            if (t->count >= YARD_TREE_MAX_ENTRIES) {
                rc = yard_errorf (err, -E2BIG, "%s holds more than %d files",
                                  root, YARD_TREE_MAX_ENTRIES);
                break;
            }
            char hex[YARD_DIGEST_HEX + 1];
            uint64_t size;
            if ((rc = yard_digest_file (full, hex, &size, err)) < 0)
                break;
            if ((rc = tree_add (t, cap, sub, st.st_mode & 07777, size, hex))
                < 0)
                yard_errorf (err, rc, "out of memory");
        } else {
            rc = yard_errorf (err, -EINVAL,
                              "%s is not a regular file or folder (links "
                              "and special files cannot be stored)",
                              full);
        }
    }
    closedir (d);
    return rc;
}

static int
entry_cmp (const void *a, const void *b)
{
    return strcmp (((const yard_tree_entry_t *)a)->path,
                   ((const yard_tree_entry_t *)b)->path);
}

int
yard_tree_scan (const char *dir, yard_tree_t *tree, yard_error_t *err)
{
    memset (tree, 0, sizeof *tree);
    size_t cap = 0;
    int rc = scan_dir (dir, "", tree, &cap, err);
    if (rc < 0) {
        yard_tree_free (tree);
        return rc;
    }
    qsort (tree->entries, tree->count, sizeof tree->entries[0], entry_cmp);
    return 0;
}

int
yard_tree_manifest (const yard_tree_t *tree, char **json, size_t *len,
                    char *hex, yard_error_t *err)
{
    json_t *root = json_object ();
    json_t *arr = json_array ();
    if (!root || !arr)
        goto nomem;
    json_object_set_new (root, "yard_tree", json_integer (1));
    for (size_t i = 0; i < tree->count; i++) {
        const yard_tree_entry_t *e = &tree->entries[i];
        json_t *o = json_pack ("{s:s, s:I, s:I, s:s}", "path", e->path,
                               "mode", (json_int_t)e->mode, "size",
                               (json_int_t)e->size, "digest", e->digest);
        if (!o || json_array_append_new (arr, o) < 0)
            goto nomem;
    }
    json_object_set_new (root, "entries", arr);
    arr = NULL;
    char *s = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (root);
    if (!s)
        return yard_errorf (err, -ENOMEM, "out of memory");
    *json = s;
    *len = strlen (s);
    yard_digest_buf (s, *len, hex);
    return 0;
nomem:
    json_decref (arr);
    json_decref (root);
    return yard_errorf (err, -ENOMEM, "out of memory");
}

static bool
safe_rel_path (const char *p)
{
    if (!p[0] || p[0] == '/' || strlen (p) > 1024)
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr (s, '/');
        size_t n = e ? (size_t)(e - s) : strlen (s);
        if (n == 0 || (n == 1 && s[0] == '.')
            || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n;
        if (*s == '/')
            s++;
    }
    return true;
}

bool
yard_tree_sniff (const void *data, size_t len)
{
    static const char head[] = "{\"entries\":";
    return len >= sizeof head - 1 && !memcmp (data, head, sizeof head - 1)
           && len < 64u * 1024 * 1024;
}

int
yard_tree_parse (const void *data, size_t len, yard_tree_t *tree,
                 yard_error_t *err)
{
    memset (tree, 0, sizeof *tree);
    json_error_t je;
    json_t *root = json_loadb (data, len, 0, &je);
    json_t *arr = root ? json_object_get (root, "entries") : NULL;
    json_t *ver = root ? json_object_get (root, "yard_tree") : NULL;
    if (!root || !json_is_array (arr) || !json_is_integer (ver)
        || json_integer_value (ver) != 1) {
        json_decref (root);
        return yard_errorf (err, -EBADMSG, "not a tree manifest");
    }
    size_t cap = 0, i;
    json_t *o;
    int rc = 0;
    json_array_foreach (arr, i, o)
    {
        const char *path = NULL, *dg = NULL;
        json_int_t mode = 0, size = 0;
        if (json_unpack (o, "{s:s, s:I, s:I, s:s}", "path", &path, "mode",
                         &mode, "size", &size, "digest", &dg) < 0
            || !safe_rel_path (path) || !yard_digest_valid (dg) || mode < 0
            || mode > 07777 || size < 0 || i >= YARD_TREE_MAX_ENTRIES) {
            rc = yard_errorf (err, -EBADMSG,
                              "tree manifest entry %zu is not valid", i);
            break;
        }
        if (tree_add (tree, &cap, path, (uint32_t)mode, (uint64_t)size, dg)
            < 0) {
            rc = yard_errorf (err, -ENOMEM, "out of memory");
            break;
        }
    }
    json_decref (root);
    if (rc < 0)
        yard_tree_free (tree);
    return rc;
}
