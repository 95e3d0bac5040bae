/* util.h - small helpers shared by the daemons, libyard and the CLI:
 * clocks, checked number/size/duration parsing, human formatting, endpoint
 * checks, and the names of job states.
 */
#ifndef YARD_UTIL_H
#define YARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yard.pb-c.h"

#define YARD_VERSION "0.1.0"

/* Default endpoints: loopback only. */
#define YARD_DEFAULT_CLIENT_EP "tcp://127.0.0.1:7700"
#define YARD_DEFAULT_WORKER_EP "tcp://127.0.0.1:7701"

/* Wall clock (unix epoch) and monotonic clock, in milliseconds. */
int64_t yard_now_ms (void);
int64_t yard_mono_ms (void);

/* Parse a whole decimal number into *out.  Rejects empty strings, signs
 * where unsigned, trailing junk and overflow.  Returns 0 or -EINVAL/-ERANGE. */
int yard_parse_u64 (const char *s, uint64_t *out);
int yard_parse_u32 (const char *s, uint32_t *out);
int yard_parse_i32 (const char *s, int32_t *out);

/* "512", "512K", "4M", "16G", "1T", "1.5G" (binary units, optional "B"/"iB")
 * into bytes.  Returns 0 or a negative errno, filling err. */
int yard_parse_size (const char *s, uint64_t *bytes, yard_error_t *err);

/* "90", "90s", "5m", "2h", "1d", "1h30m", "HH:MM:SS", "MM:SS" into seconds.
 * Returns 0 or a negative errno, filling err. */
int yard_parse_duration (const char *s, uint64_t *seconds, yard_error_t *err);

/* "1.5G", "512M", "0" into buf (at least 16 bytes).  Returns buf. */
char *yard_format_size (uint64_t bytes, char *buf, size_t len);

/* "45s", "3m12s", "2h05m", "3d04h" into buf (at least 16 bytes).
 * Returns buf. */
char *yard_format_duration (int64_t ms, char *buf, size_t len);

/* "PENDING", "RUNNING", ... and back (case-insensitive); -1 when unknown. */
const char *yard_job_state_name (Yard__JobState state);
int yard_job_state_parse (const char *name);
bool yard_job_state_is_terminal (Yard__JobState state);
const char *yard_node_state_name (Yard__NodeState state);
const char *yard_end_reason_name (Yard__EndReason reason);

/* True when a ZeroMQ endpoint only listens or connects on this machine:
 * ipc://, inproc://, or tcp:// on 127.0.0.0/8, localhost or [::1]. */
bool yard_endpoint_is_local (const char *endpoint);

/* Copy endpoint into buf, turning a "tcp://HOST:0" into "tcp://HOST:*"
 * (ZeroMQ's spelling of "any free port").  Returns 0 or -ENAMETOOLONG. */
int yard_endpoint_normalize (const char *endpoint, char *buf, size_t len);

/* Create dir and its parents (mode 0700 for the ones created).  Returns 0 or
 * a negative errno. */
int yard_mkdir_p (const char *path);

/* Write data to path atomically (temp file, fsync, rename).  Returns 0 or a
 * negative errno. */
int yard_write_file_atomic (const char *path, const void *data, size_t len);

/* fsync the directory dir: a name created, renamed or removed in it
 * survives a power cut once this returns 0.  0 or a negative errno. */
int yard_fsync_dir (const char *dir);

/* The same for the directory holding path ("." for a bare name). */
int yard_fsync_parent (const char *path);

/* Read the small text file DIR/NAME (a cgroup or /proc file) into buf, NUL
 * terminated, at most len - 1 bytes.  Returns 0 or a negative errno. */
int yard_read_text_at (const char *dir, const char *name, char *buf,
                       size_t len);

/* The same without the fsync: readers see the old or the new content,
 * never a part, but a power cut may lose it.  For files that describe
 * processes, which a power cut ends anyway.  Returns 0 or a negative
 * errno. */
int yard_write_file_replace (const char *path, const void *data, size_t len);

#endif
