/* test_artifacts.c - digests, tree manifests (common/digest.c) and the
 * scheduler's blob store (scheduler/artifacts.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "artifacts.h"
#include "digest.h"
#include "util.h"

static char tmpdir[] = "/tmp/yard-test-artifacts-XXXXXX";

static void
write_file (const char *dir, const char *rel, const char *text)
{
    char p[4096];
    snprintf (p, sizeof p, "%s/%s", dir, rel);
    char *slash = strrchr (p, '/');
    *slash = '\0';
    assert_int_equal (yard_mkdir_p (p), 0);
    *slash = '/';
    FILE *f = fopen (p, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void
test_digest_known (void **state)
{
    (void)state;
    char hex[YARD_DIGEST_HEX + 1];
    yard_digest_buf ("abc", 3, hex);
    assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
                              "9cb410ff61f20015ad");
    assert_true (yard_digest_valid (hex));
    assert_false (yard_digest_valid ("BA7816"));
    hex[10] = 'G';
    assert_false (yard_digest_valid (hex));
    assert_false (yard_digest_valid (NULL));
}

static void
test_tree_roundtrip (void **state)
{
    (void)state;
    char dir[4200];
    snprintf (dir, sizeof dir, "%s/tree", tmpdir);
    write_file (dir, "b.txt", "bee");
    write_file (dir, "a/x.bin", "ex");
    write_file (dir, "a/y.bin", "why");
    yard_tree_t t;
    yard_error_t err;
    assert_int_equal (yard_tree_scan (dir, &t, &err), 0);
    assert_int_equal (t.count, 3);
    assert_string_equal (t.entries[0].path, "a/x.bin");
    assert_string_equal (t.entries[2].path, "b.txt");
    assert_int_equal (t.total_size, 8);
    char *json;
    size_t len;
    char d1[YARD_DIGEST_HEX + 1], d2[YARD_DIGEST_HEX + 1];
    assert_int_equal (yard_tree_manifest (&t, &json, &len, d1, &err), 0);
    assert_true (yard_tree_sniff (json, len));
    yard_tree_t back;
    assert_int_equal (yard_tree_parse (json, len, &back, &err), 0);
    assert_int_equal (back.count, 3);
    assert_string_equal (back.entries[1].digest, t.entries[1].digest);
    free (json);
    yard_tree_free (&back);
    yard_tree_free (&t);
    /* same content, same name; one byte more, another name */
    assert_int_equal (yard_tree_scan (dir, &t, &err), 0);
    assert_int_equal (yard_tree_manifest (&t, &json, &len, d2, &err), 0);
    assert_string_equal (d1, d2);
    free (json);
    yard_tree_free (&t);
    write_file (dir, "b.txt", "bees");
    assert_int_equal (yard_tree_scan (dir, &t, &err), 0);
    assert_int_equal (yard_tree_manifest (&t, &json, &len, d2, &err), 0);
    assert_string_not_equal (d1, d2);
    free (json);
    yard_tree_free (&t);
}

static void
test_tree_parse_refuses_escapes (void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"entries\":[{\"digest\":\"%s\",\"mode\":420,\"path\":\"../x\","
        "\"size\":1}],\"yard_tree\":1}",
        "{\"entries\":[{\"digest\":\"%s\",\"mode\":420,\"path\":\"/etc/x\","
        "\"size\":1}],\"yard_tree\":1}",
        "{\"entries\":[{\"digest\":\"%s\",\"mode\":420,\"path\":\"a//b\","
        "\"size\":1}],\"yard_tree\":1}",
        "{\"entries\":[{\"digest\":\"%s\",\"mode\":420,\"path\":\"a/./b\","
        "\"size\":1}],\"yard_tree\":2}",
        "{\"entries\":[{\"digest\":\"zz\",\"mode\":420,\"path\":\"a\","
        "\"size\":1}],\"yard_tree\":1}%s",
        "not json%s",
    };
    char hex[YARD_DIGEST_HEX + 1], buf[1024];
    yard_digest_buf ("x", 1, hex);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (buf, sizeof buf, bad[i], hex);
        yard_tree_t t;
        yard_error_t err;
        assert_int_equal (yard_tree_parse (buf, strlen (buf), &t, &err),
                          -EBADMSG);
    }
}

/* n bytes of content that does not repeat in short runs (byte i is
 * i * mul + i / div), and their digest into hex.  Freed by the caller. */
static char *
blob (size_t n, size_t mul, size_t div, char *hex)
{
    char *data = malloc (n);
    assert_non_null (data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * mul + i / div);
    yard_digest_buf (data, n, hex);
    return data;
}

/* A blob store in tmpdir/name (its path into sdir). */
static yard_artifacts_t *
store_open (const char *name, char *sdir, size_t len)
{
    yard_artifacts_t *a;
    yard_error_t err;
    snprintf (sdir, len, "%s/%s", tmpdir, name);
    assert_int_equal (yard_artifacts_open (sdir, &a, &err), 0);
    return a;
}

static void
test_store_put_get (void **state)
{
    (void)state;
    char sdir[4200];
    yard_error_t err;
    yard_artifacts_t *a = store_open ("state1", sdir, sizeof sdir);
    size_t n = 3000000;
    char hex[YARD_DIGEST_HEX + 1];
    char *data = blob (n, 7, 1000, hex);
    bool present;
    uint64_t held;
    /* first chunk */
    assert_int_equal (yard_artifacts_put (a, hex, n, 0, data, 1000000,
                                          &present, &held, NULL, &err),
                      0);
    assert_false (present);
    assert_int_equal (held, 1000000);
    assert_false (yard_artifacts_present (a, hex, NULL));
    /* a chunk at the wrong offset writes nothing and says what is held */
    assert_int_equal (yard_artifacts_put (a, hex, n, 2000000, data + 2000000,
                                          1000000, &present, &held, NULL, &err),
                      0);
    assert_int_equal (held, 1000000);
    assert_int_equal (yard_artifacts_partial (a, hex), 1000000);
    /* a restart forgets the hash state: the rest still verifies */
    yard_artifacts_close (a);
    assert_int_equal (yard_artifacts_open (sdir, &a, &err), 0);
    assert_int_equal (yard_artifacts_put (a, hex, n, 1000000, data + 1000000,
                                          1000000, &present, &held, NULL, &err),
                      0);
    assert_int_equal (yard_artifacts_put (a, hex, n, 2000000, data + 2000000,
                                          1000000, &present, &held, NULL, &err),
                      0);
    assert_true (present);
    uint64_t size;
    assert_true (yard_artifacts_present (a, hex, &size));
    assert_int_equal (size, n);
    assert_int_equal (yard_artifacts_partial (a, hex), 0);
    char *back = malloc (n);
    size_t got;
    assert_int_equal (yard_artifacts_read (a, hex, 5, back, n, &got, &size,
                                           &err),
                      0);
    assert_int_equal (got, n - 5);
    assert_memory_equal (back, data + 5, n - 5);
    /* a blob whose bytes do not match its name is dropped */
    char other[YARD_DIGEST_HEX + 1];
    yard_digest_buf ("right", 5, other);
    assert_int_equal (yard_artifacts_put (a, other, 5, 0, "wrong", 5,
                                          &present, &held, NULL, &err),
                      -EBADMSG);
    assert_false (yard_artifacts_present (a, other, NULL));
    assert_int_equal (yard_artifacts_partial (a, other), 0);
    assert_int_equal (yard_artifacts_read (a, other, 0, back, 10, &got,
                                           &size, &err),
                      -ENOENT);
    /* not a digest */
    assert_int_equal (yard_artifacts_put (a, "../../etc/passwd", 1, 0, "x",
                                          1, &present, &held, NULL, &err),
                      -EINVAL);
    /* more bytes than the size announced */
    assert_int_equal (yard_artifacts_put (a, other, 5, 3, "abcdef", 6,
                                          &present, &held, NULL, &err),
                      -EINVAL);
    /* an empty blob */
    char empty[YARD_DIGEST_HEX + 1];
    yard_digest_buf ("", 0, empty);
    assert_int_equal (yard_artifacts_put (a, empty, 0, 0, "", 0, &present,
                                          &held, NULL, &err),
                      0);
    assert_true (present);
    free (back);
    free (data);
    yard_artifacts_close (a);
}

static void
put_all (yard_artifacts_t *a, const void *data, size_t len, char *hex)
{
    bool present;
    uint64_t held;
    yard_error_t err;
    yard_digest_buf (data, len, hex);
    assert_int_equal (yard_artifacts_put (a, hex, len, 0, data, len,
                                          &present, &held, NULL, &err),
                      0);
    assert_true (present);
}

static void
test_store_trees_and_gc (void **state)
{
    (void)state;
    char sdir[4200];
    yard_error_t err;
    yard_artifacts_t *a = store_open ("state2", sdir, sizeof sdir);
    char f1[65], f2[65], loose[65], tree[65];
    put_all (a, "one", 3, f1);
    put_all (a, "loose", 5, loose);
    yard_tree_t t = {0};
    yard_tree_entry_t e[2] = {{.path = "a", .mode = 0644, .size = 3},
                              {.path = "b", .mode = 0644, .size = 3}};
    memcpy (e[0].digest, f1, 65);
    yard_digest_buf ("two", 3, f2);
    memcpy (e[1].digest, f2, 65);
    t.entries = e;
    t.count = 2;
    char *json;
    size_t len;
    assert_int_equal (yard_tree_manifest (&t, &json, &len, tree, &err), 0);
    put_all (a, json, len, tree);
    /* one file of the tree is missing */
    assert_false (yard_artifacts_tree_present (a, tree));
    assert_false (yard_artifacts_complete (a, tree));
    put_all (a, "two", 3, f2);
    assert_true (yard_artifacts_tree_present (a, tree));
    assert_true (yard_artifacts_complete (a, tree));
    assert_true (yard_artifacts_complete (a, loose));
    /* young blobs stay */
    const char *keep[] = {tree};
    assert_int_equal (yard_artifacts_gc (a, keep, 1, 3600 * 1000, NULL), 0);
    assert_true (yard_artifacts_present (a, loose, NULL));
    /* a referenced tree keeps its files; the loose blob goes */
    uint64_t freed;
    assert_int_equal (yard_artifacts_gc (a, keep, 1, 0, &freed), 1);
    assert_int_equal (freed, 5);
    assert_false (yard_artifacts_present (a, loose, NULL));
    assert_true (yard_artifacts_tree_present (a, tree));
    /* an old unreferenced blob put again gets a new grace period */
    char old[65], path[4096];
    put_all (a, "old", 3, old);
    yard_artifacts_path (a, old, path, sizeof path);
    struct timespec day_ago[2] = {{.tv_sec = time (NULL) - 86400},
                                  {.tv_sec = time (NULL) - 86400}};
    assert_int_equal (utimensat (AT_FDCWD, path, day_ago, 0), 0);
    put_all (a, "old", 3, old);
    assert_int_equal (yard_artifacts_gc_blobs (yard_artifacts_root (a), keep,
                                               1, 3600 * 1000, NULL),
                      0);
    assert_true (yard_artifacts_present (a, old, NULL));
    assert_int_equal (utimensat (AT_FDCWD, path, day_ago, 0), 0);
    assert_int_equal (yard_artifacts_gc_blobs (yard_artifacts_root (a), keep,
                                               1, 3600 * 1000, NULL),
                      1);
    assert_false (yard_artifacts_present (a, old, NULL));
    /* nothing referenced: everything goes */
    assert_int_equal (yard_artifacts_gc (a, NULL, 0, 0, NULL), 3);
    assert_false (yard_artifacts_present (a, f1, NULL));
    free (json);
    yard_artifacts_close (a);
}

/* A large blob's last chunk hands its verification to the caller: puts of
 * it wait (-EINPROGRESS), the GC leaves its upload alone, and the finish
 * publishes it, or drops it when the bytes do not match. */
static void
test_store_finish_later (void **state)
{
    (void)state;
    char sdir[4200];
    yard_error_t err;
    yard_artifacts_t *a = store_open ("state3", sdir, sizeof sdir);
    size_t n = 2 * YARD_ARTIFACTS_FINISH_INLINE + 123;
    char hex[YARD_DIGEST_HEX + 1];
    char *data = blob (n, 13, 4096, hex);
    bool present;
    uint64_t held;
    yard_artifacts_finish_t *fin = NULL;
    size_t half = n / 2;
    assert_int_equal (yard_artifacts_put (a, hex, n, 0, data, half, &present,
                                          &held, &fin, &err),
                      0);
    assert_null (fin);
    /* a restart in between: the finish hashes the whole blob */
    yard_artifacts_close (a);
    assert_int_equal (yard_artifacts_open (sdir, &a, &err), 0);
    assert_int_equal (yard_artifacts_put (a, hex, n, half, data + half,
                                          n - half, &present, &held, &fin,
                                          &err),
                      0);
    assert_false (present);
    assert_int_equal (held, n);
    assert_non_null (fin);
    assert_string_equal (yard_artifacts_finish_digest (fin), hex);
    assert_int_equal (yard_artifacts_finish_size (fin), n);
    assert_false (yard_artifacts_present (a, hex, NULL));
    /* while it is verified, a put of it writes nothing */
    yard_artifacts_finish_t *again = NULL;
    assert_int_equal (yard_artifacts_put (a, hex, n, n, "", 0, &present,
                                          &held, &again, &err),
                      -EINPROGRESS);
    assert_null (again);
    yard_artifacts_gc_partials (a, 0);
    assert_int_equal (yard_artifacts_partial (a, hex), n);
    yard_artifacts_finish_run (fin);
    assert_int_equal (yard_artifacts_finish_done (a, fin, &present, &err), 0);
    assert_true (present);
    uint64_t size;
    assert_true (yard_artifacts_present (a, hex, &size));
    assert_int_equal (size, n);
    assert_int_equal (yard_artifacts_partial (a, hex), 0);
    /* stored: a put of it is answered at once */
    assert_int_equal (yard_artifacts_put (a, hex, n, 0, "", 0, &present,
                                          &held, &again, &err),
                      0);
    assert_true (present);
    assert_null (again);

    /* a finish stopped (the scheduler stops) keeps the upload: the next
     * put of it finishes it */
    char *two = malloc (n);
    assert_non_null (two);
    for (size_t i = 0; i < n; i++)
        two[i] = (char)(i * 31 + 7);
    char hex2[YARD_DIGEST_HEX + 1];
    yard_digest_buf (two, n, hex2);
    assert_int_equal (yard_artifacts_put (a, hex2, n, 0, two, n, &present,
                                          &held, &fin, &err),
                      0);
    assert_non_null (fin);
    yard_artifacts_finish_cancel_all (a);
    yard_artifacts_finish_run (fin);
    assert_int_equal (yard_artifacts_finish_done (a, fin, &present, &err),
                      -ECANCELED);
    assert_false (present);
    assert_false (yard_artifacts_present (a, hex2, NULL));
    assert_int_equal (yard_artifacts_partial (a, hex2), n);
    assert_int_equal (yard_artifacts_put (a, hex2, n, n, "", 0, &present,
                                          &held, &fin, &err),
                      0);
    assert_non_null (fin);
    yard_artifacts_finish_run (fin);
    assert_int_equal (yard_artifacts_finish_done (a, fin, &present, &err), 0);
    assert_true (present);
    assert_true (yard_artifacts_present (a, hex2, NULL));
    free (two);

    /* bytes that do not match the name: dropped by the finish */
    char other[YARD_DIGEST_HEX + 1];
    data[7] ^= 1;
    yard_digest_buf (data + 1, n - 1, other); /* a digest of other bytes */
    assert_int_equal (yard_artifacts_put (a, other, n, 0, data, n, &present,
                                          &held, &fin, &err),
                      0);
    assert_non_null (fin);
    yard_artifacts_finish_run (fin);
    assert_int_equal (yard_artifacts_finish_done (a, fin, &present, &err),
                      -EBADMSG);
    assert_false (present);
    assert_non_null (strstr (err.text, "has digest"));
    assert_false (yard_artifacts_present (a, other, NULL));
    assert_int_equal (yard_artifacts_partial (a, other), 0);
    /* a small blob is finished in the put, finish or not */
    char small[YARD_DIGEST_HEX + 1];
    yard_digest_buf ("small", 5, small);
    assert_int_equal (yard_artifacts_put (a, small, 5, 0, "small", 5,
                                          &present, &held, &fin, &err),
                      0);
    assert_true (present);
    assert_null (fin);
    free (data);
    yard_artifacts_close (a);
}

int
main (void)
{
    if (!mkdtemp (tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_digest_known),
        cmocka_unit_test (test_tree_roundtrip),
        cmocka_unit_test (test_tree_parse_refuses_escapes),
        cmocka_unit_test (test_store_put_get),
        cmocka_unit_test (test_store_trees_and_gc),
        cmocka_unit_test (test_store_finish_later),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    char cmd[4200];
    snprintf (cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system (cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
