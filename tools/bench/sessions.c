// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Figure 4: 10M concurrent sessions. The balancer is opened with
 * conntrack_size = 10M / CPUs per CPU (as xlbd would be configured; the
 * IPv6 tables at conntrack_size_ipv6's default), and every CPU's IPv4
 * table is filled through the data path itself: the wrapper
 * (tools/bench/bpf/bench_wrapper.bpf.c) runs SYNs of distinct flows, on each
 * CPU at once, in SS_CHUNKS chunks (each a run of "insert into a table that is
 * not full yet"). Then:
 *
 * - sessions live: counted back from the tables (batch lookups), so the
 *   figure is sessions that are there, not inserts attempted;
 * - bytes per session: the kernel's own accounting of the IPv4 tables
 *   (memlock in /proc/self/fdinfo, what `bpftool map show` prints) over
 *   the live sessions; baseline: key + value bytes of one entry; the
 *   IPv6 tables' memlock is given beside it;
 * - insert rate into the full tables: runs of SS_FULL_BATCH more new
 *   flows per CPU, each evicting one; baseline: the rate while filling.
 *
 * Rates are per CPU (new flows per second the data path takes on one
 * CPU, whole balancer included), both CPUs inserting at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "bench_abi.h"
#include "bench_wrapper.skel.h"

#define SS_SESSIONS   10000000u
#define SS_CHUNKS     5
#define SS_FULL_BATCH 500000u
#define SS_BASE	      0x64000000 /* clients from 100.0.0.0 */
#define SS_VIP	      "10.100.0.1:80/tcp"
#define SS_MAX_CPUS   8

struct ss_bench {
	const struct bench_opts *o;
	int ifindex, ncpus;
	uint32_t per_cpu;
	struct bench_lb lb;
	struct bench_wrapper_bpf *wrap;
	uint8_t frame[BENCH_FRAME_MAX];
	size_t len;
};

struct ss_job {
	struct ss_bench *b;
	int cpu;
	uint32_t n;
	double ns; /* per insert */
};

/* n more new flows on one CPU (a thread pinned there). */
static void *insert_job(void *arg)
{
	struct ss_job *j = arg;
	struct ss_bench *b = j->b;

	bench_pin_cpu(j->cpu);
	j->ns = bench_run_repeat(b->ifindex,
				 bpf_program__fd(b->wrap->progs.bench_wrap_xlb),
				 b->frame, b->len, j->n);
	return NULL;
}

/* n new flows on every CPU at once; ns per insert of each CPU in ns[]. */
static int insert_all(struct ss_bench *b, uint32_t n, double *ns)
{
	pthread_t t[SS_MAX_CPUS];
	struct ss_job j[SS_MAX_CPUS];
	int c;

	for (c = 0; c < b->ncpus; c++) {
		j[c] = (struct ss_job){.b = b, .cpu = c, .n = n};
		if (pthread_create(&t[c], NULL, insert_job, &j[c]))
			return -1;
	}
	for (c = 0; c < b->ncpus; c++) {
		pthread_join(t[c], NULL);
		ns[c] = j[c].ns;
		if (isnan(ns[c]))
			return -1;
	}
	return 0;
}

/* Entries in one CPU's table, read back in batches. */
static long count_entries(struct ss_bench *b, int cpu)
{
	const uint32_t batch = 65536;
	struct xlb_flow_key4 *keys = calloc(batch, sizeof(*keys));
	struct xlb_ct_entry *vals = calloc(batch, sizeof(*vals));
	uint64_t in = 0, out = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = xlb_dp_ct_fd(b->lb.dp, XLB_AF_INET, cpu), ret;
	long total = 0;
	uint32_t n;
	bool first = true;

	if (fd < 0 || !keys || !vals) {
		total = -1;
		goto out;
	}
	for (;;) {
		n = batch;
		ret = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &n, &opts);
		first = false;
		if (ret && errno != ENOENT) {
			total = -1;
			break;
		}
		total += n;
		if (ret)
			break; /* ENOENT: that was the last batch */
		in = out;
	}
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(vals);
	return total;
}

/* The kernel's memlock figure for one CPU's table of family (bytes). */
static long table_bytes(struct ss_bench *b, int family, int cpu)
{
	char path[64], line[128];
	long bytes = -1;
	int fd = xlb_dp_ct_fd(b->lb.dp, family, cpu);
	FILE *f;

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &bytes) == 1)
			break;
	if (f)
		fclose(f);
	close(fd);
	return bytes;
}

static int setup(struct ss_bench *b)
{
	struct bench_pkt syn = {
		.saddr = SS_BASE,
		.daddr = 0x0a640001,
		.sport = BENCH_PORT_BASE,
		.dport = 80,
		.proto = IPPROTO_TCP,
		.tcp_flags = TH_SYN,
		.len = 64,
	};
	char err[XLB_ERR_LEN];
	int ret;

	b->ifindex = bench_netns_reals(10);
	if (b->ifindex <= 0)
		return bench_fail("sessions", "namespace: %s",
				  strerror(-b->ifindex));
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0 || b->ncpus > SS_MAX_CPUS)
		return bench_fail("sessions", "%d CPUs: at most %d", b->ncpus,
				  SS_MAX_CPUS);
	b->per_cpu = SS_SESSIONS / b->ncpus;
	ret = bench_lb_open(&b->lb, b->per_cpu, err, sizeof(err));
	if (!ret)
		ret = bench_lb_vip(&b->lb, SS_VIP, 0x0a010002, 10, err,
				   sizeof(err));
	if (ret)
		return bench_fail("sessions", "balancer: %s", err);
	ret = bench_wrap_open(&b->lb, &b->wrap);
	if (!ret)
		ret = bench_attach_idle(
			bpf_program__fd(b->wrap->progs.bench_wrap_xlb));
	if (ret)
		return bench_fail("sessions", "wrapper: %s", strerror(-ret));
	b->len = bench_pkt_build(&syn, b->frame);
	/* CPU c's flows start at c * 2^30: every insert a new flow. */
	ret = bench_wrap_set(b->wrap, b->frame, b->len, SS_BASE, 0, 0,
			     1u << 30);
	if (ret)
		return bench_fail("sessions", "wrapper config: %s",
				  strerror(-ret));
	return 0;
}

int bench_sessions(const struct bench_opts *o)
{
	double fill[SS_CHUNKS * SS_MAX_CPUS], full[32 * SS_MAX_CPUS];
	double ns[SS_MAX_CPUS], dmin;
	struct ss_bench b = {.o = o};
	long live = 0, bytes = 0, bytes6 = 0, n, t4, t6;
	char note[256];
	struct bench_figure f = {.group = "sessions", .note = note};
	int i, c, nfill = 0, nfull = 0, ret = -1;

	if (setup(&b))
		goto out;
	for (i = 0; i < SS_CHUNKS; i++) {
		if (insert_all(&b, b.per_cpu / SS_CHUNKS, ns))
			goto out_fail;
		for (c = 0; c < b.ncpus; c++)
			fill[nfill++] = 1e3 / ns[c]; /* M inserts/s */
	}
	for (c = 0; c < b.ncpus; c++) {
		n = count_entries(&b, c);
		t4 = table_bytes(&b, XLB_AF_INET, c);
		t6 = table_bytes(&b, XLB_AF_INET6, c);
		if (n < 0 || t4 < 0 || t6 < 0)
			goto out_fail;
		live += n;
		bytes += t4;
		bytes6 += t6;
	}
	snprintf(note, sizeof(note),
		 "%ld IPv4 sessions live in %d per-CPU LRU tables of %u "
		 "entries, %.1f MiB by memlock; the IPv6 tables (%u entries "
		 "per CPU) %.1f MiB more",
		 live, b.ncpus, b.per_cpu, bytes / 1048576.0,
		 XLB_CT6_SIZE_DEFAULT, bytes6 / 1048576.0);
	f.name = "sessions: memory per session (10M live)";
	f.unit = "bytes";
	f.min = f.median = live ? (double)bytes / live : NAN;
	f.baseline = sizeof(struct xlb_flow_key4) + sizeof(struct xlb_ct_entry);
	f.baseline_name = "key + value bytes";
	f.goal = BENCH_GOAL_VALUE_MAX;
	f.target = 100;
	if (live < (long)SS_SESSIONS * 99 / 100)
		f.min = f.median = NAN; /* not 10M: the figure is void */
	bench_emit(o, &f);

	for (i = 0; i < o->runs; i++) {
		if (insert_all(&b, SS_FULL_BATCH, ns))
			goto out_fail;
		for (c = 0; c < b.ncpus; c++)
			full[nfull++] = 1e3 / ns[c];
	}
	f = (struct bench_figure){
		.group = "sessions",
		.name = "sessions: insert rate into a full table, per CPU",
		.unit = "M/s",
		.baseline_name = "insert rate while filling",
		.note = "new flows through the whole data path, both CPUs "
			"at once; each evicts the oldest",
	};
	bench_stats(fill, nfill, &dmin, &f.baseline);
	bench_stats(full, nfull, &f.min, &f.median);
	bench_emit(o, &f);
	ret = 0;
	goto out;

out_fail:
	bench_fail("sessions", "inserting or reading back failed");
out:
	bench_wrapper_bpf__destroy(b.wrap);
	bench_lb_close(&b.lb);
	return ret;
}
