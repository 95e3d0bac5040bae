/* yard-exec.c - the exec shim between yard-worker and a job: joins the
 * attempt's cgroups, sets the CPU affinity, execs the job (see bind.h).
 * Installed next to yard-worker, which finds it through /proc/self/exe. */
#include "bind.h"

int
main (int argc, char **argv)
{
    return bind_shim_main (argc, argv);
}
