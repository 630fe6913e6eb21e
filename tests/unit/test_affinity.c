// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/affinity.c: CPU lists parsed and printed, and the
 * affinity applied to every thread of the process, checked per thread
 * with sched_getaffinity(). Criterion runs each test in its own process,
 * so changing the affinity here does not leak into other tests.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "affinity.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define N_THREADS     6

/* ---- Parsing and printing --------------------------------------------- */

struct list_case {
	const char *text;
	int cpus[8]; /* the set, ended by -1 */
	const char *canonical;
};

static const struct list_case good_lists[] = {
	{"0", {0, -1}, "0"},
	{"0-1,3", {0, 1, 3, -1}, "0-1,3"},
	{"3,0-1", {0, 1, 3, -1}, "0-1,3"},
	{"5-5", {5, -1}, "5"},
	{"0-3,2-5", {0, 1, 2, 3, 4, 5, -1}, "0-5"},
	{"0,0", {0, -1}, "0"},
	{"0,2,4", {0, 2, 4, -1}, "0,2,4"},
	{"007", {7, -1}, "7"},
	{"1023", {1023, -1}, "1023"},
	{"1022-1023,0", {0, 1022, 1023, -1}, "0,1022-1023"},
};

struct bad_case {
	const char *text;
	int err;
};

static const struct bad_case bad_lists[] = {
	{"", -EINVAL},	     {"a", -EINVAL},
	{"1-", -EINVAL},     {"-1", -EINVAL},
	{"1,", -EINVAL},     {",1", -EINVAL},
	{"1,,2", -EINVAL},   {"3-1", -EINVAL},
	{" 1", -EINVAL},     {"1 ", -EINVAL},
	{"1\n", -EINVAL},    {"+1", -EINVAL},
	{"0x1", -EINVAL},    {"1-2-3", -EINVAL},
	{"1:2", -EINVAL},    {"1;2", -EINVAL},
	{"1024", -ERANGE},   {"0-1024", -ERANGE},
	{"4096,1", -ERANGE}, {"99999999999999999999", -ERANGE},
};

/* Build the set a case expects. */
static void case_set(const int *cpus, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (; *cpus >= 0; cpus++)
		CPU_SET(*cpus, set);
}

Test(cpulist, parses_valid_lists)
{
	cpu_set_t got, want;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good_lists); i++) {
		const struct list_case *c = &good_lists[i];

		/* Start from a full set: parsing must clear it. */
		memset(&got, 0xff, sizeof(got));
		cr_assert_eq(xlb_cpulist_parse(c->text, &got), 0, "'%s'",
			     c->text);
		case_set(c->cpus, &want);
		cr_assert(CPU_EQUAL(&got, &want), "'%s': wrong set (%d CPUs)",
			  c->text, CPU_COUNT(&got));
	}
}

Test(cpulist, refuses_invalid_lists)
{
	cpu_set_t got;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_lists); i++) {
		const struct bad_case *c = &bad_lists[i];

		memset(&got, 0xff, sizeof(got));
		cr_assert_eq(xlb_cpulist_parse(c->text, &got), c->err,
			     "'%s' should give %d", c->text, c->err);
		cr_assert_eq(CPU_COUNT(&got), 0, "'%s' left CPUs in the set",
			     c->text);
	}
	cr_assert_eq(xlb_cpulist_parse(NULL, &got), -EINVAL);
}

Test(cpulist, prints_canonical_lists)
{
	char buf[64];
	cpu_set_t set;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good_lists); i++) {
		const struct list_case *c = &good_lists[i];

		case_set(c->cpus, &set);
		cr_assert_eq(xlb_cpulist_format(&set, buf, sizeof(buf)), 0);
		cr_assert_str_eq(buf, c->canonical, "'%s'", c->text);
	}
	CPU_ZERO(&set);
	cr_assert_eq(xlb_cpulist_format(&set, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
}

Test(cpulist, print_reports_a_short_buffer)
{
	char buf[5];
	cpu_set_t set;

	cr_assert_eq(xlb_cpulist_parse("0,2,4,6", &set), 0);
	cr_assert_eq(xlb_cpulist_format(&set, buf, sizeof(buf)), -ENOSPC);
	cr_assert_str_eq(buf, "0,2", "whole items only");
	cr_assert_eq(xlb_cpulist_format(&set, buf, 0), -ENOSPC);
}

/* ---- Applying --------------------------------------------------------- */

struct worker {
	pthread_t thread;
	pid_t tid;
	int ready[2];	/* the worker writes its tid */
	int go[2];	/* closed to let it check and exit */
	cpu_set_t seen; /* its own affinity, read after go */
};

/* A thread that reports its tid, waits, then reads its own affinity. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char c;

	if (write(w->ready[1], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	if (read(w->go[0], &c, 1) < 0)
		return NULL;
	sched_getaffinity(0, sizeof(w->seen), &w->seen);
	return NULL;
}

static void worker_start(struct worker *w)
{
	cr_assert_eq(pipe(w->ready), 0);
	cr_assert_eq(pipe(w->go), 0);
	cr_assert_eq(pthread_create(&w->thread, NULL, worker_main, w), 0);
	cr_assert_eq(read(w->ready[0], &w->tid, sizeof(w->tid)),
		     sizeof(w->tid));
}

/* Let the worker read its affinity, and wait for it. */
static void worker_finish(struct worker *w)
{
	close(w->go[1]);
	cr_assert_eq(pthread_join(w->thread, NULL), 0);
	close(w->go[0]);
	close(w->ready[0]);
	close(w->ready[1]);
}

/* The highest CPU in set, which apply tests confine the process to. */
static int last_cpu(const cpu_set_t *set)
{
	int cpu;

	for (cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, set))
			return cpu;
	return -1;
}

Test(affinity, confines_every_thread_old_and_new)
{
	struct worker before[N_THREADS], after;
	cpu_set_t orig, one, cur;
	size_t i;

	cr_assert_eq(sched_getaffinity(0, sizeof(orig), &orig), 0);
	cr_assert_geq(CPU_COUNT(&orig), 2,
		      "needs at least 2 usable CPUs to see a change");
	CPU_ZERO(&one);
	CPU_SET(last_cpu(&orig), &one);

	for (i = 0; i < N_THREADS; i++)
		worker_start(&before[i]);
	/* Before: every thread may run anywhere the process may. */
	for (i = 0; i < N_THREADS; i++) {
		cr_assert_eq(
			sched_getaffinity(before[i].tid, sizeof(cur), &cur), 0);
		cr_assert(CPU_EQUAL(&cur, &orig));
	}

	cr_assert_eq(xlb_affinity_apply(&one), 0);

	cr_assert_eq(sched_getaffinity(0, sizeof(cur), &cur), 0);
	cr_assert(CPU_EQUAL(&cur, &one), "the caller was not confined");
	for (i = 0; i < N_THREADS; i++) {
		cr_assert_eq(
			sched_getaffinity(before[i].tid, sizeof(cur), &cur), 0);
		cr_assert(CPU_EQUAL(&cur, &one), "thread %zu not confined", i);
	}
	/* A thread started afterwards inherits the set. */
	worker_start(&after);
	worker_finish(&after);
	cr_assert(CPU_EQUAL(&after.seen, &one), "a new thread escaped");
	for (i = 0; i < N_THREADS; i++) {
		worker_finish(&before[i]);
		cr_assert(CPU_EQUAL(&before[i].seen, &one),
			  "thread %zu sees another set", i);
	}

	/* And back: the whole process may use every CPU again. */
	cr_assert_eq(xlb_affinity_apply(&orig), 0);
	cr_assert_eq(sched_getaffinity(0, sizeof(cur), &cur), 0);
	cr_assert(CPU_EQUAL(&cur, &orig));
}

Test(affinity, keeps_only_the_usable_cpus)
{
	cpu_set_t orig, want, cur;

	cr_assert_eq(sched_getaffinity(0, sizeof(orig), &orig), 0);
	cr_assert_neq(last_cpu(&orig), CPU_SETSIZE - 1,
		      "this machine has CPU %d: pick another absent CPU",
		      CPU_SETSIZE - 1);
	/* The last usable CPU plus one that cannot exist here. */
	CPU_ZERO(&want);
	CPU_SET(last_cpu(&orig), &want);
	CPU_SET(CPU_SETSIZE - 1, &want);
	cr_assert_eq(xlb_affinity_apply(&want), 0);
	cr_assert_eq(sched_getaffinity(0, sizeof(cur), &cur), 0);
	cr_assert_eq(CPU_COUNT(&cur), 1);
	cr_assert(CPU_ISSET(last_cpu(&orig), &cur));
}

Test(affinity, refuses_sets_without_a_usable_cpu)
{
	cpu_set_t orig, set, cur;

	cr_assert_eq(sched_getaffinity(0, sizeof(orig), &orig), 0);
	CPU_ZERO(&set);
	cr_assert_eq(xlb_affinity_apply(&set), -EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &set);
	cr_assert_eq(xlb_affinity_apply(&set), -EINVAL);
	/* Nothing changed. */
	cr_assert_eq(sched_getaffinity(0, sizeof(cur), &cur), 0);
	cr_assert(CPU_EQUAL(&cur, &orig));
}
