/* test_client_fake.h - a scripted stand-in for yard-scheduler's client port.
 *
 * A thread with a ZeroMQ ROUTER bound on a free loopback port answers the
 * requests of libyard and the yard CLI from a fixed script (see the table in
 * test_client_fake.c: which job ids exist, in which state, which requests
 * are dropped, answered late, with a stale request id, with garbage, or
 * with a "restart" of the socket).  Used by test_client.c and
 * test_cli_run.c.
 */
#ifndef TEST_CLIENT_FAKE_H
#define TEST_CLIENT_FAKE_H

#include <stdint.h>

typedef struct fake_sched fake_sched_t;

/* What the last SubmitRequest carried. */
struct fake_submit {
    int count;
    char name[64];
    char argv0[64];
    int argc;
    int envc;
    char env0_key[64];
    char env0_value[64];
    char user[64];
    char submit_dir[4096];
    char submit_host[256];
    char workdir[4096];
    uint32_t cpus, gpus, grace_s;
    uint64_t memory_bytes, time_limit_s;
    int32_t priority;
};

/* Start the fake on tcp://127.0.0.1:<free port>.  Aborts the test on
 * failure. */
fake_sched_t *fake_start (void);
void fake_stop (fake_sched_t **f);

/* "tcp://127.0.0.1:PORT" */
const char *fake_endpoint (const fake_sched_t *f);

/* A copy of what the last submit carried. */
void fake_last_submit (fake_sched_t *f, struct fake_submit *out);

/* How many requests of a type (an Envelope body case) arrived. */
int fake_count (fake_sched_t *f, int body_case);

/* How many times the socket was closed and bound again ("restarts"). */
int fake_restarts (fake_sched_t *f);

#endif
