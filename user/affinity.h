/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Keeping the agent off the data-plane CPUs (config key control_cpus,
 * docs/OPERATIONS.md): CPU lists as the kernel writes them ("0-1,4") and
 * the CPU affinity of the whole process. Functions return 0 or -errno.
 */
#ifndef XLB_AFFINITY_H
#define XLB_AFFINITY_H

/* cpu_set_t is a GNU extension: define it before the first #include. */
#ifndef _GNU_SOURCE
#error "affinity.h needs _GNU_SOURCE defined before any #include"
#endif
#include <sched.h>
#include <stddef.h>

/*
 * Parse a CPU list: comma-separated CPU numbers and ranges "N-M" (N <= M),
 * decimal, no spaces, as in /sys/devices/system/cpu/online or the
 * `taskset -c` argument. set is cleared first. -EINVAL for a malformed or
 * empty list, -ERANGE for a CPU number of CPU_SETSIZE or more.
 */
int xlb_cpulist_parse(const char *s, cpu_set_t *set);
/*
 * Write set as a CPU list with ranges ("0-1,4"; "" for an empty set).
 * -ENOSPC if buf is too short; it then holds the items that fit whole.
 */
int xlb_cpulist_format(const cpu_set_t *set, char *buf, size_t len);
/*
 * Confine every thread of the process to set: sched_setaffinity() on each
 * thread in /proc/self/task, the caller's first, repeated until a pass
 * finds every thread confined (a thread created meanwhile by a thread not
 * yet moved is caught by the next pass). Threads created later inherit
 * the set from their creator. -EINVAL if set holds no CPU the process may
 * run on.
 */
int xlb_affinity_apply(const cpu_set_t *set);

#endif /* XLB_AFFINITY_H */
