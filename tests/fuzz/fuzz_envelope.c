/* fuzz_envelope.c - libFuzzer target for the wire decoder.
 *
 * Any byte string must decode to an envelope or to an error, never crash or
 * leak; what decodes must encode again, and if that decodes (protobuf-c keeps
 * unknown fields, even invalid ones such as field 0, and writes them back)
 * it must hold the same body type.  The decoder reads the envelope's own
 * fields itself (msg.c): it must accept exactly the frames that protobuf-c
 * accepts, as envelopes that protobuf-c packs to the same bytes, and its
 * encoder must write protobuf-c's bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* protobuf-c's bytes for env, malloc'd; NULL if too large to bother */
static uint8_t *
reference (const yard_env_t *env, size_t *n)
{
    *n = yard__envelope__get_packed_size (env);
    uint8_t *b = *n <= YARD_MAX_FRAME ? malloc (*n ? *n : 1) : NULL;
    if (b)
        yard__envelope__pack (env, b);
    return b;
}

static void
same_as_protobuf_c (const uint8_t *data, size_t size, const yard_env_t *env)
{
    if (size > YARD_MAX_FRAME)
        return;
    yard_env_t *ref = yard__envelope__unpack (NULL, size, data);
    bool ok = ref && ref->version == YARD_PROTOCOL_VERSION
              && ref->body_case != YARD__ENVELOPE__BODY__NOT_SET;
    if (ok != (env != NULL))
        abort ();
    if (ok) {
        size_t n, m;
        uint8_t *a = reference (ref, &n), *b = reference (env, &m);
        if (a && b && (n != m || memcmp (a, b, n) != 0))
            abort ();
        free (a);
        free (b);
    }
    if (ref)
        yard__envelope__free_unpacked (ref, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    yard_env_t *env = NULL;
    yard_error_t err;
    int rc = yard_msg_decode (data, size, &env, &err);
    same_as_protobuf_c (data, size, rc == 0 ? env : NULL);
    if (rc == 0) {
        (void)yard_msg_type_name (env);
        size_t n;
        uint8_t *want = reference (env, &n);
        uint8_t *buf;
        size_t len;
        if (yard_msg_encode (env, &buf, &len) == 0) {
            if (want && (len != n || memcmp (buf, want, n) != 0))
                abort ();
            yard_env_t *again = NULL;
            if (yard_msg_decode (buf, len, &again, &err) == 0
                && again->body_case != env->body_case)
                abort ();
            yard_msg_free (&again);
            free (buf);
        }
        free (want);
        yard_msg_free (&env);
    }
    return 0;
}
