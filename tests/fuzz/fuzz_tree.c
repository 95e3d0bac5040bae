/* fuzz_tree.c - libFuzzer target for tree manifests: a manifest fetched from
 * the artifact store decides which files a worker writes where, so no input
 * may yield a path that is absolute or climbs out of its folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    yard_tree_t t;
    if (yard_tree_parse (data, size, &t, NULL) < 0)
        return 0;
    for (size_t i = 0; i < t.count; i++) {
        const char *p = t.entries[i].path;
        /* ".." as a whole component, not a name that starts with it */
        if (p[0] == '/' || !strcmp (p, "..") || !strncmp (p, "../", 3)
            || strstr (p, "/../")
            || (strlen (p) >= 3 && !strcmp (p + strlen (p) - 3, "/.."))
            || !yard_digest_valid (t.entries[i].digest))
            abort ();
    }
    /* what parses, re-encodes to a manifest that parses the same */
    char *json;
    size_t len;
    char hex[YARD_DIGEST_HEX + 1];
    if (yard_tree_manifest (&t, &json, &len, hex, NULL) == 0) {
        yard_tree_t back;
        if (yard_tree_parse (json, len, &back, NULL) < 0
            || back.count != t.count)
            abort ();
        yard_tree_free (&back);
        free (json);
    }
    yard_tree_free (&t);
    return 0;
}
