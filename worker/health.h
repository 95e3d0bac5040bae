/* health.h - the node health check: an admin's command run every interval
 * through /bin/sh -c, asynchronously on the worker's loop.
 *
 * A check fails when the command exits non-zero, is killed, or outlives
 * its timeout (its process group is then killed).  Each result is handed
 * to a callback with the reason: the first line of the command's output
 * (stdout and stderr), trimmed, or what happened to it when it printed
 * nothing.  The worker turns that into a NodeHealth for the scheduler,
 * which drains the node on failure and resumes it when it passes again.
 */
#ifndef WORKER_HEALTH_H
#define WORKER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HEALTH_INTERVAL_DEFAULT_MS 60000
#define HEALTH_TIMEOUT_DEFAULT_MS 30000
#define HEALTH_REASON_MAX 256  /* bytes of reason kept */
#define HEALTH_OUTPUT_MAX 4096 /* bytes of output read, the rest dropped */

typedef struct health health_t;

/* A finished check.  reason is "" when healthy; borrowed for the call. */
typedef void (*health_report_f) (bool healthy, const char *reason, void *arg);

/* A checker for cmd (copied) on loop; nothing runs before health_start.
 * NULL with errno set (EINVAL: empty cmd or zero interval/timeout). */
health_t *health_create (uv_loop_t *loop, const char *cmd,
                         uint64_t interval_ms, uint64_t timeout_ms,
                         health_report_f cb, void *arg);

/* Run the first check now, then every interval (a check still running
 * when the next is due is not doubled).  0 or a negative errno. */
int health_start (health_t *h);

/* Stop: a running check is killed (its group, SIGKILL) and reports
 * nothing.  The handles are closed and the memory freed in their close
 * callbacks, so the loop must run afterwards.  Accepts NULL; NULLs *h. */
void health_destroy (health_t **h);

/* The reason for an output: its first non-blank line, trimmed, cut to
 * len-1 bytes, control characters replaced by '?'.  Writes "" when the
 * output has no such line.  Returns buf.  (Exposed for the unit tests.) */
char *health_first_line (const char *out, size_t n, char *buf, size_t len);

#endif
