/* cpulist.h - CPU (PU) and index lists in the kernel's text form,
 * "0-3,8,10-11", as cpuset.cpus, Cpus_allowed_list and our Allocation.cpus
 * use them.
 *
 * The set is a plain bool array indexed by OS index: topologies have at most
 * a few thousand PUs, so a byte per PU keeps the code obvious.
 */
#ifndef YARD_CPULIST_H
#define YARD_CPULIST_H

#include <stdbool.h>
#include <stddef.h>

/* Largest PU index we accept in a list (well above any machine's count). */
#define YARD_CPULIST_MAX 65536

/* Set set[i] for every i in text ("" is the empty list).  Entries already
 * set stay set.  Returns how many distinct indexes the list named, -EINVAL
 * when text is malformed, -ERANGE when an index is >= n (set unchanged on
 * error). */
int yard_cpulist_parse (const char *text, bool *set, size_t n);

/* The highest index in text plus one (0 for ""), or -EINVAL/-ERANGE. */
int yard_cpulist_extent (const char *text);

/* set as text, malloc'd ("" when empty).  NULL with errno ENOMEM. */
char *yard_cpulist_format (const bool *set, size_t n);

#endif
