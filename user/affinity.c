// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPU lists and process-wide CPU affinity (affinity.h). The agent calls
 * xlb_affinity_apply() early, so that every thread it starts later
 * inherits the control-plane CPUs; the walk over /proc/self/task also
 * catches threads that libraries started before.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "affinity.h"

/* Passes over the thread list before giving up on a process that keeps
 * starting threads faster than they can be moved. */
#define AFF_MAX_PASSES 8

/* One CPU number at *p; advance *p past its digits. */
static int cpulist_number(const char **p, unsigned long *cpu)
{
	const char *q = *p;
	unsigned long v = 0;

	if (*q < '0' || *q > '9')
		return -EINVAL;
	for (; *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (unsigned long)(*q - '0');
		if (v >= CPU_SETSIZE)
			return -ERANGE;
	}
	*p = q;
	*cpu = v;
	return 0;
}

/* The items of a list, "N" or "N-M", separated by single commas. */
static int cpulist_items(const char *p, cpu_set_t *set)
{
	unsigned long lo, hi, cpu;
	int ret;

	for (;;) {
		ret = cpulist_number(&p, &lo);
		if (ret)
			return ret;
		hi = lo;
		if (*p == '-') {
			p++;
			ret = cpulist_number(&p, &hi);
			if (ret)
				return ret;
			if (hi < lo)
				return -EINVAL;
		}
		for (cpu = lo; cpu <= hi; cpu++)
			CPU_SET(cpu, set);
		if (!*p)
			return 0;
		if (*p++ != ',')
			return -EINVAL;
	}
}

int xlb_cpulist_parse(const char *s, cpu_set_t *set)
{
	int ret;

	CPU_ZERO(set);
	if (!s || !*s)
		return -EINVAL;
	ret = cpulist_items(s, set);
	if (ret)
		CPU_ZERO(set);
	return ret;
}

int xlb_cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;
	int cpu, last, n;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, set))
			continue;
		for (last = cpu;
		     last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set); last++)
			;
		if (last == cpu)
			n = snprintf(buf + off, len - off, "%s%d",
				     off ? "," : "", cpu);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d",
				     off ? "," : "", cpu, last);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0'; /* only the items that fit whole */
			return -ENOSPC;
		}
		off += (size_t)n;
		cpu = last;
	}
	return 0;
}

/*
 * One pass over /proc/self/task: confine each thread whose mask is not
 * want yet, and say whether any was. Threads that exit meanwhile (ESRCH)
 * are skipped.
 */
static int affinity_pass(const cpu_set_t *want, bool *changed)
{
	struct dirent *de;
	cpu_set_t cur;
	int ret = 0;
	pid_t tid;
	DIR *dir;

	*changed = false;
	dir = opendir("/proc/self/task");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		tid = (pid_t)strtol(de->d_name, NULL, 10);
		if (sched_getaffinity(tid, sizeof(cur), &cur)) {
			if (errno == ESRCH)
				continue;
			ret = -errno;
			break;
		}
		if (CPU_EQUAL(&cur, want))
			continue;
		if (sched_setaffinity(tid, sizeof(*want), want)) {
			if (errno == ESRCH)
				continue;
			ret = -errno;
			break;
		}
		*changed = true;
	}
	closedir(dir);
	return ret;
}

int xlb_affinity_apply(const cpu_set_t *set)
{
	cpu_set_t want;
	bool changed;
	int pass, ret;

	if (!CPU_COUNT(set))
		return -EINVAL;
	/* The caller first: threads it creates from now on inherit. */
	if (sched_setaffinity(0, sizeof(*set), set))
		return -errno;
	/* The kernel keeps only the CPUs the process may use (its cpuset):
	 * compare the other threads with what it kept, not with set. */
	if (sched_getaffinity(0, sizeof(want), &want))
		return -errno;
	for (pass = 0; pass < AFF_MAX_PASSES; pass++) {
		ret = affinity_pass(&want, &changed);
		if (ret || !changed)
			return ret;
	}
	return -EAGAIN;
}
