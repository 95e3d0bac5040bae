/* tmpdir_fixture.h - one temp dir per test, for the worker's unit tests.
 *
 * TMPDIR_FIXTURE ("name") defines `tmp` (short, so that paths built on it
 * fit PATH_MAX), a cmocka `setup` that makes /tmp/yard-test-name-XXXXXX
 * and a `teardown` that removes it with everything in it.  Include
 * jobdir.h (jobdir_remove_tree) first. */
#ifndef YARD_TMPDIR_FIXTURE_H
#define YARD_TMPDIR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#define TMPDIR_FIXTURE(name)                                                  \
    static char tmp[128];                                                     \
    static int setup (void **state)                                           \
    {                                                                         \
        (void)state;                                                          \
        snprintf (tmp, sizeof tmp, "/tmp/yard-test-" name "-XXXXXX");         \
        return mkdtemp (tmp) ? 0 : -1;                                        \
    }                                                                         \
    static int teardown (void **state)                                        \
    {                                                                         \
        (void)state;                                                          \
        return jobdir_remove_tree (tmp);                                      \
    }

#endif
