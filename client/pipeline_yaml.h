/* pipeline_yaml.h - reading a pipeline file (YAML, docs/pipelines.md) into
 * a PipelineSpec, for the CLI, schedules and triggers.
 *
 * Internal to libyard and its CLI: it speaks the wire types (msg.h).
 */
#ifndef YARD_CLIENT_PIPELINE_YAML_H
#define YARD_CLIENT_PIPELINE_YAML_H

#include <stddef.h>

#include "error.h"
#include "msg.h"
#include "yard/yard.h"

/* Parse the YAML file at path, apply params ("KEY=VALUE" each, overriding
 * or adding pipeline parameters), read every declared code file (paths
 * relative to the file's folder), upload it to the scheduler's artifact
 * store when c is not NULL (its digest goes into the spec either way), and
 * validate the result (yard_pipeline_check).  *out is the spec (free with
 * yard__pipeline_spec__free_unpacked (*out, NULL)).
 *
 * Returns 0, or a negative errno with err saying what is wrong and where
 * ("FILE:LINE: ..."): -EINVAL for a bad file (YAML syntax, unknown keys,
 * wrong types, cycles, unknown needs or references), -ENOENT for a missing
 * file, or the error of an upload. */
int yard_pipeline_load (yard_client_t *c, const char *path,
                        const char *const *params, size_t nparams,
                        Yard__PipelineSpec **out, yard_error_t *err);

/* The same from a buffer; dir is the folder code paths are relative to,
 * name the file name used in messages. */
int yard_pipeline_parse (yard_client_t *c, const char *text, size_t len,
                         const char *dir, const char *name,
                         const char *const *params, size_t nparams,
                         Yard__PipelineSpec **out, yard_error_t *err);

/* Upload the file or folder at path to the scheduler's artifact store over
 * a connection of its own: digest (65 bytes) gets its digest (a folder:
 * its tree manifest's), size its bytes.  0 or -errno with err filled. */
int yard_artifact_upload (yard_client_t *c, const char *path, char *digest,
                          uint64_t *size, yard_error_t *err);

/* The spec of a pipeline built with yard_pipeline_new and yard_step_*
 * (pipeline_build.c), checked as yard_pipeline_parse checks a file, params
 * applied, code files read (and uploaded when c is not NULL).  *out: free
 * with yard__pipeline_spec__free_unpacked (*out, NULL).  0 or -errno with
 * err filled. */
struct yard_pipeline;
int yard__pipeline_build_spec (yard_client_t *c,
                               const struct yard_pipeline *p,
                               const char *const *params, size_t nparams,
                               Yard__PipelineSpec **out, yard_error_t *err);

/* Send a PipelineRunRequest for spec (NULL: rerun resume_from) and get the
 * new run's id (pipeline.c). */
int yard__pipeline_start (yard_client_t *c, Yard__PipelineSpec *spec,
                          uint64_t resume_from, uint64_t *run_id);

#endif
