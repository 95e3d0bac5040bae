/* fuzz_envelope.c - libFuzzer target for the wire decoder.
 *
 * Any byte string must decode to an envelope or to an error, never crash or
 * leak; what decodes must encode again, and if that decodes (protobuf-c keeps
 * unknown fields, even invalid ones such as field 0, and writes them back)
 * it must hold the same body type. */
#include <stdint.h>
#include <stdlib.h>

#include "msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    yard_env_t *env = NULL;
    yard_error_t err;
    if (yard_msg_decode (data, size, &env, &err) == 0) {
        (void)yard_msg_type_name (env);
        uint8_t *buf;
        size_t len;
        if (yard_msg_encode (env, &buf, &len) == 0) {
            yard_env_t *again = NULL;
            if (yard_msg_decode (buf, len, &again, &err) == 0
                && again->body_case != env->body_case)
                abort ();
            yard_msg_free (&again);
            free (buf);
        }
        yard_msg_free (&env);
    }
    return 0;
}
