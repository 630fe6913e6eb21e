/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb-bench: what every part of the benchmark shares. Each part measures
 * its figures and their baselines in the same process, repeats every
 * measurement opts->runs times (interleaved with its baseline), and emits
 * one record per figure; tools/bench/report.py turns the records into the
 * table, results.json, the plots and the docs section.
 */
#ifndef XLB_BENCH_H
#define XLB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "agent.h"
#include "maps.h"

#define BENCH_RUNS_DEFAULT 7
#define BENCH_RUNS_MIN	   5

struct bench_opts {
	int runs;	 /* repetitions of every measurement */
	const char *out; /* JSON lines are appended here; NULL: stdout only */
};

/* How a figure compares with its target. */
enum bench_goal {
	BENCH_GOAL_NONE = 0,   /* no target: context, or a figure's baseline */
	BENCH_GOAL_RATIO_MAX,  /* ratio (median / baseline) <= target */
	BENCH_GOAL_RATIO_MIN,  /* ratio >= target */
	BENCH_GOAL_VALUE_MAX,  /* median <= target, in the figure's unit */
	BENCH_GOAL_UNMEASURED, /* cannot be measured yet: met is false */
};

/* One row of the table and one object of results.json. */
struct bench_figure {
	const char *group; /* the part, also the plot it goes to */
	const char *name;
	const char *unit;
	double min, median; /* over the runs; NAN when not measured */
	double baseline;    /* the baseline's median, same unit */
	const char *baseline_name;
	enum bench_goal goal;
	double target;
	const char *note; /* one line: method, limits, why not measured */
	/* Filled by bench_emit(): */
	double ratio;
	bool met;
};

/*
 * Complete the figure (ratio = median / baseline, met from the goal),
 * print it and append it as one JSON line to opts->out. Returns 0 or
 * -errno.
 */
int bench_emit(const struct bench_opts *o, struct bench_figure *f);

/* A figure that cannot be measured yet: a row with met = false. */
int bench_emit_unmeasured(const struct bench_opts *o, const char *group,
			  const char *name, const char *why);

/* min and median of v[0..n-1]; v is sorted in place. */
void bench_stats(double *v, int n, double *min, double *median);

uint64_t bench_now_ns(void);
/* Pin the calling thread to one CPU. */
int bench_pin_cpu(int cpu);
/* Run a shell command; returns its exit status (0 = success). */
int bench_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Move the process into a private network namespace for the test-run
 * benches: ingress port xb0 (10.0.0.1/24) and real-side port xb2
 * (10.1.0.1/16) with reals 10.1.0.2 on as permanent neighbours, IP
 * forwarding on (bpf_fib_lookup needs it). The namespace goes away with
 * the process. Returns xb0's ifindex or -errno.
 */
int bench_netns_reals(int nreals);
/*
 * Attach prog_fd natively to a veth of its own that stays down (no packet
 * ever reaches it): the kernel's XDP dispatcher then calls the program
 * directly, as it does a program attached to a NIC, and not through the
 * indirect call it uses for programs attached nowhere. Test runs go
 * through the same dispatcher, so without this a program's cost would
 * depend on which other XDP programs happen to be attached on the
 * machine. In the namespace of bench_netns_reals(). 0 or -errno.
 */
int bench_attach_idle(int prog_fd);
/* Report a failure of a part and return -1 (for `return bench_fail()`). */
int bench_fail(const char *part, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An Ethernet + IPv4 + TCP/UDP frame; addresses in host order. */
struct bench_pkt {
	uint8_t smac[6];
	uint8_t dmac[6];
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags; /* TH_SYN, TH_ACK, ... */
	size_t len;	   /* frame length, >= headers; the rest is payload */
	size_t ip_len;	   /* IP total length; 0: up to the frame's end (the
			    * bytes after a shorter packet are padding) */
};

/* Build the frame into buf (checksums computed); returns its length. */
size_t bench_pkt_build(const struct bench_pkt *p, uint8_t *buf);
/* Client address and port of flow number n (bench_abi.h), and the
 * checksums fixed. */
void bench_pkt_set_flow(uint8_t *frame, uint32_t base, uint32_t n);

/*
 * The balancer as the agent sets it up for the benches: its maps, the
 * agent's model, and one VIP with reals added through state.c.
 */
struct bench_lb {
	struct xlb_dp *dp;
	struct xlb_agent *agent;
	uint32_t guard_rate; /* flood_guard_rate it was opened with */
};

/* Flood guard off (rate 0). */
int bench_lb_open(struct bench_lb *lb, uint32_t ct_size, char *err,
		  size_t errlen);
/* With flood_guard_rate = guard_rate, as the configuration sets it. */
int bench_lb_open_guard(struct bench_lb *lb, uint32_t ct_size,
			uint32_t guard_rate, char *err, size_t errlen);
void bench_lb_close(struct bench_lb *lb);
/* Add VIP text ("10.100.0.1:80/tcp") with reals first..first+n-1. */
int bench_lb_vip(struct bench_lb *lb, const char *vip, uint32_t real_first,
		 int n, char *err, size_t errlen);
/*
 * Resolve and write the reals' next hops as xlbd does at start, from the
 * calling thread's network namespace; every real must resolve. Fails
 * (reported under part) otherwise.
 */
int bench_lb_nexthops(struct bench_lb *lb, const char *part);
/*
 * Before load: make every map of obj that the balancer also has (by
 * name) use the balancer's map, so a bench program sees what the agent
 * wrote.
 */
int bench_lb_reuse_maps(struct bench_lb *lb, struct bpf_object *obj);

/*
 * The balancer behind bench_wrap_xlb (tools/bench/bpf/bench_wrapper.bpf.c), over
 * the maps of lb: repeat > 1 test runs that each start from the same frame.
 */
struct bench_wrapper_bpf;
int bench_wrap_open(struct bench_lb *lb, struct bench_wrapper_bpf **out);
/*
 * The frame the wrapper restores before each run and, with base, the
 * client of run k: flow number first + cpu * cpu_stride + k (k modulo
 * nflows when nflows is not 0). Resets the run count on every CPU.
 */
int bench_wrap_set(struct bench_wrapper_bpf *w, const uint8_t *frame,
		   size_t len, uint32_t base, uint32_t first, uint32_t nflows,
		   uint32_t cpu_stride);
/* One test run of `repeat` runs on this CPU: wall-clock ns per run, or
 * NAN on error. */
double bench_run_repeat(int ifindex, int prog_fd, const uint8_t *frame,
			size_t len, uint32_t repeat);

/* The parts, one file each in tools/bench/. Each returns 0 or -1. */
int bench_datapath(const struct bench_opts *o);
int bench_nexthop(const struct bench_opts *o);
int bench_e2e(const struct bench_opts *o);
int bench_maglev(const struct bench_opts *o);
int bench_sessions(const struct bench_opts *o);
int bench_control(const struct bench_opts *o);

/*
 * Not a part: `xlb-bench flood ...`, the live-frames generator aimed at an
 * interface of the calling namespace (a lab's client), for the flood
 * end-to-end test. Its own options; exit code like main's.
 */
int bench_flood_main(int argc, char **argv);

#endif /* XLB_BENCH_H */
