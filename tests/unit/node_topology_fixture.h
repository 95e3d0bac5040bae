/* node_topology_fixture.h - a 2-socket, 2-GPU Yard__Topology on the
 * stack for test_sched_topology.c and test_cli_topo.c (strings are
 * literals). */
#ifndef NODE_TOPOLOGY_FIXTURE_H
#define NODE_TOPOLOGY_FIXTURE_H

#include "yard.pb-c.h"

/* A 2-GPU topology on the stack: strings are literals. */
struct fixture {
    Yard__Topology t;
    Yard__NumaInfo numa[2], *nump[2];
    Yard__GpuInfo gpu[2], *gpup[2];
};

static inline void
make (struct fixture *f)
{
    yard__topology__init (&f->t);
    f->t.packages = 2;
    f->t.numa_nodes = 2;
    f->t.cores = 32;
    f->t.pus = 64;
    f->t.source = "xml:test";
    for (int i = 0; i < 2; i++) {
        yard__numa_info__init (&f->numa[i]);
        f->numa[i].os_index = (uint32_t)i;
        f->numa[i].cpus = i ? "32-63" : "0-31";
        f->numa[i].memory_bytes = UINT64_C (1) << 38;
        f->nump[i] = &f->numa[i];
        yard__gpu_info__init (&f->gpu[i]);
        f->gpu[i].uuid = i ? "GPU-b" : "GPU-a";
        f->gpu[i].name = "NVIDIA H100 80GB HBM3";
        f->gpu[i].pci_bus_id = i ? "0000:9a:00.0" : "0000:18:00.0";
        f->gpu[i].memory_bytes = UINT64_C (81559) << 20;
        f->gpu[i].cc_major = 9;
        f->gpu[i].numa_node = i;
        f->gpu[i].local_cpus = i ? "32-63" : "0-31";
        f->gpu[i].index = (uint32_t)i;
        f->gpup[i] = &f->gpu[i];
    }
    f->t.n_numa = f->t.n_gpus = 2;
    f->t.numa = f->nump;
    f->t.gpus = f->gpup;
}

#endif
