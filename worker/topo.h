/* topo.h - what this node is made of: packages, NUMA nodes, cores, PUs
 * (hwloc) and GPUs (the CUDA runtime), each GPU with its PCI locality.
 *
 * Discovery sits behind fixture backends so that tests run with no GPU and
 * on any machine (the flux-core FLUX_HWLOC_XMLFILE idea):
 *   - CPUs: hwloc on this machine, or the hwloc XML named by
 *     YARD_HWLOC_XMLFILE (a real machine's `lstopo --of xml`, or a fixture);
 *   - GPUs: the list in the file named by YARD_FAKE_GPUS, else the CUDA
 *     runtime (libcudart, loaded with dlopen so the worker runs where there
 *     is none).
 * Either way a GPU's NUMA node and local PUs come from the hwloc PCI device
 * with its bus id.  A GPU is known by its UUID and PCI bus id, never by its
 * enumeration order (CUDA's and NVML's orders differ).
 *
 * Discovery is slow (tens of ms for hwloc, up to seconds for a CUDA
 * driver): it runs once, at worker start, before the loop.
 */
#ifndef WORKER_TOPO_H
#define WORKER_TOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "yard.pb-c.h"

#define TOPO_ENV_XMLFILE "YARD_HWLOC_XMLFILE"
#define TOPO_ENV_FAKE_GPUS "YARD_FAKE_GPUS"
#define TOPO_ENV_CUDART "YARD_CUDART" /* a libcudart.so to try first */
#define TOPO_MAX_GPUS 64 /* more in a fake list is an error */

typedef struct topo topo_t;

/* Where to look.  NULL fields: the machine itself.  topo_source_from_env()
 * fills it from YARD_HWLOC_XMLFILE, YARD_FAKE_GPUS and YARD_CUDART ("" counts
 * as unset). */
struct topo_source {
    const char *xml_file;  /* hwloc XML instead of this machine */
    const char *fake_gpus; /* GPU list instead of the CUDA runtime */
    const char *cudart;    /* the CUDA runtime library to try first */
    bool no_cuda;          /* skip the CUDA runtime (no GPUs) */
};
void topo_source_from_env (struct topo_source *src);

/* Discover the node.  Returns NULL with errno set and err filled:
 * ENOENT/EACCES (an XML or GPU list that cannot be read), EINVAL (an XML
 * hwloc rejects, a malformed GPU list line: the message names the file and
 * line), ENOMEM.  No GPU runtime or driver is not an error: no GPUs. */
topo_t *topo_discover (const struct topo_source *src, yard_error_t *err);

/* Accepts NULL; NULLs the pointer. */
void topo_destroy (topo_t **t);

/* The topology as the wire message.  Borrowed: valid while t lives. */
const Yard__Topology *topo_proto (const topo_t *t);

/* One line for the log: "2 packages, 2 NUMA, 32 cores, 64 PUs, 8 GPUs
 * (8x NVIDIA H100 80GB HBM3) from xml:PATH + fake-gpus:PATH".  Returns buf. */
char *topo_summary (const topo_t *t, char *buf, size_t len);

/* Normalise a PCI bus id ("0000:3B:00.0", "3b:00.0",
 * "00000000:3b:00.0") to "0000:3b:00.0".  Returns 0 or -EINVAL. */
int topo_busid_normalize (const char *in, char *out, size_t len);

#endif
