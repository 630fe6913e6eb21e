// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Figure 1: what one packet costs the balancer, on the real compiled
 * program with maps written by the agent's own code (state.c), through
 * BPF_PROG_TEST_RUN, pinned to CPU 0, in a namespace of our own where
 * bpf_fib_lookup finds the reals as permanent neighbours.
 *
 * (a) One packet per call, repeat = 1: the mean of the kernel-reported
 *     durations over DP_CALLS calls. Includes the test run's own timing
 *     overhead, as does the baseline measured the same way.
 * (b) repeat = DP_REPEAT in one call, through bench_wrap_xlb
 *     (tools/bench/bpf/bench_wrapper.bpf.c), which restores the original frame
 * before each run. Per run: wall time of the call / DP_REPEAT (the kernel's own
 * figure is whole nanoseconds, too coarse for a ~10 ns baseline; the call's
 * set-up adds < 0.1 ns per run). The wrapper's own cost, min(bench_wrap_noop) -
 * min(empty program), is subtracted, so a case and its baseline both carry the
 * test run's per-run overhead once.
 *
 * Every measured program is attached to an idle veth first
 * (bench_attach_idle()), so that the kernel's XDP dispatcher calls it
 * directly, as it calls a program attached to a NIC.
 *
 * Baseline, same rounds: bench_macswap (swap MACs, XDP_TX). Every round
 * measures every program once, so drift hits all of them alike. After
 * each measurement the reason counter that must move (and the new-flow
 * count) is checked, so a case measures what its name says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "nexthop.h"
#include "bench_abi.h"
#include "bench_baseline.skel.h"
#include "bench_wrapper.skel.h"

#define DP_REPEAT	  100000
#define DP_CALLS	  20000
#define DP_FRAME_LEN	  64
#define DP_NREALS	  10
#define DP_CT_MAIN	  (1u << 21) /* never fills: new flows, unknown ACKs */
#define DP_CT_BIG	  (1u << 20)
#define DP_CT_SMALL	  65536
#define DP_LIVE_FLOWS	  1000000

#define DP_VIP		  "10.100.0.1:80/tcp"
#define DP_NAT_VIP	  "10.100.0.2:80/tcp" /* FULLNAT */
#define DP_NAT_VIP_ADDR	  0x0a640002
#define DP_NAT_LOCAL	  "10.7.0.1"
#define DP_NAT_LOCAL_ADDR 0x0a070001
#define DP_VIP_ADDR	  0x0a640001 /* 10.100.0.1 */
#define DP_VIP_PORT	  80
#define DP_REAL_FIRST	  0x0a010002 /* 10.1.0.2 */
#define DP_NONVIP_ADDR	  0x0a000063 /* 10.0.0.99: no VIP there */
#define DP_CLIENT	  0xc000020a /* 192.0.2.10, the established flow */
#define DP_BASE_NEW	  0x64400000 /* 100.64.0.0: new flows */
#define DP_BASE_UNK	  0x64600000 /* 100.96.0.0: unknown ACKs */
#define DP_BASE_LIVE	  0xc6120000 /* 198.18.0.0: the 1M live flows */
#define DP_BASE_FILL	  0x64800000 /* 100.128.0.0: what fills a table */
#define DP_BASE_FULL	  0x64a00000 /* 100.160.0.0: new flows, full table */

/* The balancer instances: one per conntrack situation. */
enum dp_table {
	DP_MAIN,
	DP_LIVE, /* DP_LIVE_FLOWS established flows */
	DP_FULL, /* every entry taken */
	DP_GW,	 /* next hop from a configured gateway MAC */
	DP_NAT,	 /* a FULLNAT VIP with one established session */
	DP_GUE,	 /* DP_MAIN's VIP with encap: gue */
	DP_ACK,	 /* flood guard holding: misses not remembered */
	DP_FIB,	 /* DP_MAIN without resolved next hops: bpf_fib_lookup */
	DP_NTABLES,
};

struct dp_lb {
	struct bench_lb lb;
	struct bench_wrapper_bpf *wrap;
	uint32_t ct_size;
	uint32_t vip_id; /* whose new flows the checks count */
};

struct dp_case {
	const char *name;
	enum dp_table table;
	uint8_t tcp_flags;
	uint32_t daddr;
	uint32_t base;	 /* client base address; 0: DP_CLIENT, fixed */
	uint32_t nflows; /* flows cycled through; 0: a new one per packet */
	enum xlb_reason reason;
	bool new_flow; /* each packet must start a flow */
	double target; /* method (b): ratio to the baseline, 0 = none */
	/* Conntrack: 1 every packet must hit its entry, -1 every packet
	 * must miss and be left out by the flood guard, 0 not checked. */
	int ct;
	/* A reply from a real: source, ports (host order); 0 = a client's
	 * packet. Set once the session exists (setup()). */
	uint32_t saddr;
	uint16_t sport, dport;
	uint32_t pos; /* next flow number */
	double a[32], b[32];
};

static struct dp_case cases[] = {
	{"established TCP (tunnel)", DP_MAIN, TH_ACK, DP_VIP_ADDR, 0, 0,
	 XLB_R_FWD_REDIRECT, false, 6, 1},
	/* The same VIP, flow and real, inside UDP (encap: gue). */
	{"established TCP (tunnel), GUE", DP_GUE, TH_ACK, DP_VIP_ADDR, 0, 0,
	 XLB_R_FWD_REDIRECT, false, 0, 1},
	{"new flow (SYN), new 5-tuple each", DP_MAIN, TH_SYN, DP_VIP_ADDR,
	 DP_BASE_NEW, 0, XLB_R_FWD_REDIRECT, true, 15, 0},
	{"established TCP (tunnel), gateway MAC", DP_GW, TH_ACK, DP_VIP_ADDR, 0,
	 0, XLB_R_FWD_TX, false, 0, 1},
	/* Every other balancer has its reals' next hops resolved, as xlbd
	 * does; this one has none: the fallback, bpf_fib_lookup. */
	{"established TCP (tunnel), bpf_fib_lookup (no resolved next hop)",
	 DP_FIB, TH_ACK, DP_VIP_ADDR, 0, 0, XLB_R_FWD_REDIRECT, false, 0, 1},
	/* What a flood of spoofed mid-flow packets costs once the flood
	 * guard holds (its instance allows 1 entry a second): a miss here,
	 * a look in the other CPUs' tables, the ring, forwarded, not
	 * remembered, not a connection's start. */
	{"ACK of an unknown flow (flood guard holding)", DP_ACK, TH_ACK,
	 DP_VIP_ADDR, DP_BASE_UNK, 0, XLB_R_FWD_REDIRECT, false, 0, -1},
	{"non-VIP packet (pass)", DP_MAIN, TH_ACK, DP_NONVIP_ADDR, 0, 0,
	 XLB_R_PASS_NOT_VIP, false, 3, 0},
	{"established, spread over 1M live flows", DP_LIVE, TH_ACK, DP_VIP_ADDR,
	 DP_BASE_LIVE, DP_LIVE_FLOWS, XLB_R_FWD_REDIRECT, false, 0, 1},
	{"new flows into a full table", DP_FULL, TH_SYN, DP_VIP_ADDR,
	 DP_BASE_FULL, 0, XLB_R_FWD_REDIRECT, true, 0, 0},
	{"established FULLNAT request", DP_NAT, TH_ACK, DP_NAT_VIP_ADDR, 0, 0,
	 XLB_R_FWD_REDIRECT, false, 8, 0},
	/* The reply leaves through the ingress port here (the client's
	 * route is there): XDP_TX. */
	{"established FULLNAT reply", DP_NAT, TH_ACK, DP_NAT_LOCAL_ADDR, 0, 0,
	 XLB_R_FWD_TX, false, 8, 0},
};

#define DP_CASE_NAT_REPLY (sizeof(cases) / sizeof(cases[0]) - 1)

#define NCASES		  (sizeof(cases) / sizeof(cases[0]))

struct dp_bench {
	const struct bench_opts *o;
	int ifindex;
	struct dp_lb lbs[DP_NTABLES];
	struct bench_baseline_bpf *base;
};

/* The frame of a case (flow 0 of its clients, or the fixed client). */
static size_t case_frame(const struct dp_case *c, uint8_t *buf)
{
	struct bench_pkt p = {
		.smac = {0x02, 0, 0, 0, 0, 0x01},
		.dmac = {0x02, 0, 0, 0, 0, 0x02},
		.saddr = c->base ? bench_flow_saddr(c->base, 0) : DP_CLIENT,
		.daddr = c->daddr,
		.sport = c->base ? bench_flow_sport(0) : 40000,
		.dport = DP_VIP_PORT,
		.proto = IPPROTO_TCP,
		.tcp_flags = c->tcp_flags,
		.len = DP_FRAME_LEN,
	};

	if (c->saddr) {
		p.saddr = c->saddr;
		p.sport = c->sport;
		p.dport = c->dport;
	}
	return bench_pkt_build(&p, buf);
}

/*
 * Method (a): `calls` calls of one packet; mean kernel-reported ns. With
 * base, each call gets the next flow number's client.
 */
static double run_single(int ifindex, int prog_fd, uint8_t *frame, size_t len,
			 int calls, struct dp_case *c)
{
	uint8_t out[256];
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .data_out = out, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint64_t total = 0;
	uint32_t n;
	int i;

	for (i = 0; i < calls; i++) {
		if (c && c->base) {
			n = c->nflows ? c->pos % c->nflows : c->pos;
			c->pos++;
			bench_pkt_set_flow(frame, c->base, n);
		}
		opts.data_size_out = sizeof(out);
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			perror("xlb-bench datapath: BPF_PROG_TEST_RUN");
			return NAN;
		}
		total += opts.duration;
	}
	return (double)total / calls;
}

/* Reason, new-flow and flood guard counters of an instance. */
struct dp_snap {
	uint64_t reasons[XLB_R_MAX];
	uint64_t new_flows;
	/* The flood guard's view: it changes on every conntrack miss. */
	struct xlb_ct_guard guard[XLB_MAX_CPUS];
	uint64_t skipped;
};

static int snap(struct dp_lb *d, struct dp_snap *s)
{
	int fd = xlb_dp_map_fd(d->lb.dp, "ct_guard");
	int i, ncpus = libbpf_num_possible_cpus();
	struct xlb_counters c;
	uint32_t zero = 0;
	int ret;

	ret = xlb_dp_reasons(d->lb.dp, s->reasons);
	if (!ret)
		ret = xlb_dp_vip_counters(d->lb.dp, d->vip_id, &c);
	memset(s->guard, 0, sizeof(s->guard));
	if (!ret && (fd < 0 || bpf_map_lookup_elem(fd, &zero, s->guard)))
		ret = -EIO;
	if (ret)
		return ret;
	s->new_flows = c.new_flows;
	s->skipped = 0;
	for (i = 0; i < ncpus && i < XLB_MAX_CPUS; i++)
		s->skipped += s->guard[i].skipped;
	return 0;
}

/* Did n packets of case c end as c says? */
static bool check(const struct dp_case *c, const struct dp_snap *before,
		  const struct dp_snap *after, uint64_t n)
{
	uint64_t moved = after->reasons[c->reason] - before->reasons[c->reason];
	uint64_t fresh = after->new_flows - before->new_flows;
	uint64_t skipped = after->skipped - before->skipped;
	bool ct_ok = true;

	/* Hits leave the guard's counters alone; with the guard holding
	 * at most one miss a second is remembered. */
	if (c->ct > 0)
		ct_ok = !memcmp(after->guard, before->guard,
				sizeof(before->guard));
	else if (c->ct < 0)
		ct_ok = skipped + 2 >= n;
	if (moved == n && fresh == (c->new_flow ? n : 0) && ct_ok)
		return true;
	fprintf(stderr,
		"xlb-bench datapath: '%s': %llu of %llu packets ended as %s, "
		"%llu new flows, %s conntrack (%llu misses left out)\n",
		c->name, (unsigned long long)moved, (unsigned long long)n,
		xlb_reason_names[c->reason], (unsigned long long)fresh,
		ct_ok ? "expected" : "UNEXPECTED", (unsigned long long)skipped);
	return false;
}

/* Fill an instance's CPU 0 table with n SYN flows through the program. */
static int prefill(struct dp_bench *b, struct dp_lb *d, uint32_t base,
		   uint32_t n)
{
	struct dp_case syn = {
		.tcp_flags = TH_SYN,
		.daddr = DP_VIP_ADDR,
		.base = base,
	};
	uint8_t frame[BENCH_FRAME_MAX];
	size_t len = case_frame(&syn, frame);
	int ret;

	ret = bench_wrap_set(d->wrap, frame, len, base, 0, 0, 0);
	if (ret)
		return ret;
	if (isnan(bench_run_repeat(
		    b->ifindex, bpf_program__fd(d->wrap->progs.bench_wrap_xlb),
		    frame, len, n)))
		return -EIO;
	return 0;
}

/* The FULLNAT session's reply tuple, found in the session table. */
struct nat_found {
	uint32_t real_id;
	uint16_t lport;
	int n;
};

static void nat_found_fn(const struct xlb_flow_key *key,
			 const struct xlb_nat_fwd *e, void *arg)
{
	struct nat_found *f = arg;

	f->real_id = e->real_id;
	f->lport = ntohs(e->lport);
	f->n++;
}

/*
 * The FULLNAT instance: a fullnat VIP, a local address, a route back to
 * the client; one SYN makes the established session whose request and
 * reply the two FULLNAT cases send.
 */
static int nat_setup(struct dp_bench *b)
{
	struct dp_lb *d = &b->lbs[DP_NAT];
	struct dp_case syn = {.tcp_flags = TH_SYN, .daddr = DP_NAT_VIP_ADDR};
	struct dp_case *reply = &cases[DP_CASE_NAT_REPLY];
	uint8_t frame[BENCH_FRAME_MAX];
	struct nat_found found = {};
	struct xlb_service svc;
	struct xlb_real real;
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;
	size_t len;
	int ret;

	if (bench_sh("ip neigh replace 10.0.0.9 lladdr 02:00:00:00:00:09 dev "
		     "xb0 nud permanent && ip route add 192.0.2.0/24 via "
		     "10.0.0.9"))
		return bench_fail("datapath", "route to the client");
	if (xlb_service_parse(DP_NAT_VIP, &svc) ||
	    xlb_ip_parse(DP_NAT_LOCAL, &ip))
		return bench_fail("datapath", "bad FULLNAT VIP");
	ret = xlb_laddr_add(d->lb.agent, &ip, err, sizeof(err));
	if (!ret)
		ret = bench_lb_vip(&d->lb, DP_NAT_VIP, DP_REAL_FIRST, DP_NREALS,
				   err, sizeof(err));
	if (!ret)
		ret = xlb_vip_set_mode(d->lb.agent, &svc, XLB_MODE_FULLNAT, 0,
				       err, sizeof(err));
	if (ret)
		return bench_fail("datapath", "FULLNAT VIP: %s", err);
	d->vip_id = 1; /* the second VIP of the instance */
	len = case_frame(&syn, frame);
	run_single(b->ifindex, xlb_dp_prog_fd(d->lb.dp), frame, len, 1, NULL);
	if (xlb_dp_nat_foreach(d->lb.dp, nat_found_fn, &found) ||
	    found.n != 1 || xlb_dp_real_get(d->lb.dp, found.real_id, &real))
		return bench_fail("datapath", "no FULLNAT session (%d)",
				  found.n);
	reply->saddr = ntohl(real.addr.addr[0]);
	reply->sport = DP_VIP_PORT;
	reply->dport = found.lport;
	return 0;
}

static int setup(struct dp_bench *b)
{
	static const uint32_t ct[DP_NTABLES] = {
		DP_CT_MAIN,  DP_CT_BIG,	  DP_CT_BIG,   DP_CT_SMALL,
		DP_CT_SMALL, DP_CT_SMALL, DP_CT_SMALL, DP_CT_SMALL};
	struct xlb_config cfg;
	struct xlb_service svc;
	char err[XLB_ERR_LEN];
	int i, ret;

	b->ifindex = bench_netns_reals(DP_NREALS);
	if (b->ifindex <= 0)
		return bench_fail("datapath", "namespace: %s",
				  strerror(-b->ifindex));
	bench_pin_cpu(0);
	for (i = 0; i < DP_NTABLES; i++) {
		struct dp_lb *d = &b->lbs[i];

		d->ct_size = ct[i];
		/* flood_guard_rate as configured by default; DP_ACK's guard
		 * holds from the first second on. */
		ret = bench_lb_open_guard(
			&d->lb, d->ct_size,
			i == DP_ACK ? 1 : XLB_FLOOD_GUARD_RATE_DEFAULT, err,
			sizeof(err));
		if (!ret)
			ret = bench_lb_vip(&d->lb, DP_VIP, DP_REAL_FIRST,
					   DP_NREALS, err, sizeof(err));
		if (ret)
			return bench_fail("datapath", "balancer: %s", err);
		ret = bench_wrap_open(&d->lb, &d->wrap);
		if (ret)
			return bench_fail("datapath", "wrapper: %s",
					  strerror(-ret));
	}
	/* As `gateway_mac:` in the configuration does. */
	xlb_config_defaults(&cfg);
	cfg.has_gw_mac = true;
	memcpy(cfg.gw_mac, "\x02\x00\x00\x00\x00\x09", 6);
	ret = xlb_agent_set_globals(b->lbs[DP_GW].lb.agent, &cfg);
	xlb_config_free(&cfg);
	if (ret)
		return bench_fail("datapath", "gateway MAC: %s",
				  strerror(-ret));
	/* As `encap: gue` on the VIP does (gue_port: the default). */
	if (xlb_service_parse(DP_VIP, &svc) ||
	    xlb_vip_set_encap(b->lbs[DP_GUE].lb.agent, &svc, true, err,
			      sizeof(err)))
		return bench_fail("datapath", "GUE VIP: %s", err);
	b->base = bench_baseline_bpf__open_and_load();
	if (!b->base)
		return bench_fail("datapath", "baseline: %s", strerror(errno));
	/* Every measured program called directly, as when attached. */
	ret = bench_attach_idle(bpf_program__fd(b->base->progs.bench_empty));
	if (!ret)
		ret = bench_attach_idle(
			bpf_program__fd(b->base->progs.bench_macswap));
	for (i = 0; !ret && i < DP_NTABLES; i++) {
		struct dp_lb *d = &b->lbs[i];

		ret = bench_attach_idle(xlb_dp_prog_fd(d->lb.dp));
		if (!ret)
			ret = bench_attach_idle(
				bpf_program__fd(d->wrap->progs.bench_wrap_xlb));
		if (!ret)
			ret = bench_attach_idle(bpf_program__fd(
				d->wrap->progs.bench_wrap_noop));
	}
	if (ret)
		return bench_fail("datapath", "attaching: %s", strerror(-ret));
	/* 1M live flows; a full table (an eighth more flows than entries). */
	if (prefill(b, &b->lbs[DP_LIVE], DP_BASE_LIVE, DP_LIVE_FLOWS) ||
	    prefill(b, &b->lbs[DP_FULL], DP_BASE_FILL,
		    DP_CT_BIG + DP_CT_BIG / 8))
		return bench_fail("datapath", "filling conntrack failed");
	ret = nat_setup(b);
	for (i = 0; !ret && i < DP_NTABLES; i++)
		if (i != DP_FIB)
			ret = bench_lb_nexthops(&b->lbs[i].lb, "datapath");
	return ret;
}

static void teardown(struct dp_bench *b)
{
	int i;

	bench_baseline_bpf__destroy(b->base);
	for (i = 0; i < DP_NTABLES; i++) {
		bench_wrapper_bpf__destroy(b->lbs[i].wrap);
		bench_lb_close(&b->lbs[i].lb);
	}
}

/* Method (b) for one case; NAN if it did not do what it should. */
static double case_b(struct dp_bench *b, struct dp_case *c)
{
	struct dp_lb *d = &b->lbs[c->table];
	uint8_t frame[BENCH_FRAME_MAX];
	size_t len = case_frame(c, frame);
	struct dp_snap s0, s1;
	uint32_t first = c->nflows ? c->pos % c->nflows : c->pos;
	double ns;

	if (bench_wrap_set(d->wrap, frame, len, c->base, first, c->nflows, 0) ||
	    snap(d, &s0))
		return NAN;
	ns = bench_run_repeat(b->ifindex,
			      bpf_program__fd(d->wrap->progs.bench_wrap_xlb),
			      frame, len, DP_REPEAT);
	if (c->base)
		c->pos += DP_REPEAT;
	if (snap(d, &s1) || !check(c, &s0, &s1, DP_REPEAT))
		return NAN;
	return ns;
}

/* Method (a) for one case. */
static double case_a(struct dp_bench *b, struct dp_case *c)
{
	struct dp_lb *d = &b->lbs[c->table];
	uint8_t frame[BENCH_FRAME_MAX];
	size_t len = case_frame(c, frame);
	struct dp_snap s0, s1;
	double ns;

	if (snap(d, &s0))
		return NAN;
	ns = run_single(b->ifindex, xlb_dp_prog_fd(d->lb.dp), frame, len,
			DP_CALLS, c);
	if (snap(d, &s1) || !check(c, &s0, &s1, DP_CALLS))
		return NAN;
	return ns;
}

/* The wrapper around nothing, fixed frame (vary 0) or new clients. */
static double noop_b(struct dp_bench *b, bool vary)
{
	struct dp_lb *d = &b->lbs[DP_MAIN];
	struct dp_case c = {.tcp_flags = TH_ACK, .daddr = DP_VIP_ADDR};
	uint8_t frame[BENCH_FRAME_MAX];
	size_t len;

	c.base = vary ? DP_BASE_NEW : 0;
	len = case_frame(&c, frame);
	if (bench_wrap_set(d->wrap, frame, len, c.base, 0, 0, 0))
		return NAN;
	return bench_run_repeat(b->ifindex,
				bpf_program__fd(d->wrap->progs.bench_wrap_noop),
				frame, len, DP_REPEAT);
}

/*
 * XLB_BENCH_CASE=NAME runs only the case of that name (and the
 * baselines): for a profile of one case, e.g. under `perf record`.
 */
static bool case_wanted(const struct dp_case *c)
{
	const char *only = getenv("XLB_BENCH_CASE");

	return !only || !strcmp(c->name, only);
}

static double min_of(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		m = fmin(m, v[i]);
	return m;
}

static int emit(struct dp_bench *b, const char *method, const char *name,
		double *v, double baseline, double target, const char *note)
{
	char full[128];
	struct bench_figure f = {
		.group = "datapath",
		.name = full,
		.unit = "ns/pkt",
		.baseline = baseline,
		.baseline_name = "MAC swap + XDP_TX",
		.goal = target > 0 ? BENCH_GOAL_RATIO_MAX : BENCH_GOAL_NONE,
		.target = target,
		.note = note,
	};
	int i, n = b->o->runs;

	snprintf(full, sizeof(full), "%s %s", method, name);
	for (i = 0; i < n; i++)
		if (isnan(v[i]))
			n = 0; /* a failed check voids the figure */
	bench_stats(v, n, &f.min, &f.median);
	return bench_emit(b->o, &f);
}

int bench_datapath(const struct bench_opts *o)
{
	double empty[32], swap[32], w0[32], w1[32], swap_a[32];
	char note[2][160];
	struct dp_bench b = {.o = o};
	uint8_t frame[BENCH_FRAME_MAX];
	struct dp_case fixed = {.tcp_flags = TH_ACK, .daddr = DP_VIP_ADDR};
	double base_b, base_a, dummy, wcost[2];
	size_t len, i;
	int r, ret = -1;

	if (o->runs > 32)
		return bench_fail("datapath", "at most 32 runs");
	if (setup(&b))
		goto out;
	len = case_frame(&fixed, frame);
	/* Warm up: the established flow's entry, caches, branch history. */
	for (i = 0; i < DP_NTABLES; i++)
		run_single(b.ifindex, xlb_dp_prog_fd(b.lbs[i].lb.dp), frame,
			   len, 1000, NULL);
	for (r = 0; r < o->runs; r++) {
		int efd = bpf_program__fd(b.base->progs.bench_empty);
		int sfd = bpf_program__fd(b.base->progs.bench_macswap);

		/* Discarded: the first test run after method (a)'s calls
		 * comes out ~3 ns/run slower, whichever program it runs. */
		bench_run_repeat(b.ifindex, sfd, frame, len, DP_REPEAT);
		empty[r] =
			bench_run_repeat(b.ifindex, efd, frame, len, DP_REPEAT);
		swap[r] =
			bench_run_repeat(b.ifindex, sfd, frame, len, DP_REPEAT);
		w0[r] = noop_b(&b, false);
		w1[r] = noop_b(&b, true);
		for (i = 0; i < NCASES; i++)
			if (case_wanted(&cases[i]))
				cases[i].b[r] = case_b(&b, &cases[i]);
		swap_a[r] =
			run_single(b.ifindex, sfd, frame, len, DP_CALLS, NULL);
		for (i = 0; i < NCASES; i++)
			if (case_wanted(&cases[i]))
				cases[i].a[r] = case_a(&b, &cases[i]);
	}
	/*
	 * The wrapper's own cost is a constant; each of W and E is best
	 * estimated by its least disturbed run (min), and one difference
	 * of two mins is steadier than a difference per round, which on a
	 * busy machine can even come out negative.
	 */
	wcost[0] = fmax(0, min_of(w0, o->runs) - min_of(empty, o->runs));
	wcost[1] = fmax(0, min_of(w1, o->runs) - min_of(empty, o->runs));
	for (r = 0; r < o->runs; r++) {
		for (i = 0; i < NCASES; i++)
			cases[i].b[r] -= wcost[cases[i].base ? 1 : 0];
		w0[r] -= min_of(empty, o->runs);
		w1[r] -= min_of(empty, o->runs);
	}
	bench_stats(swap, o->runs, &dummy, &base_b);
	bench_stats(swap_a, o->runs, &dummy, &base_a);
	for (i = 0; i < NCASES; i++)
		if (case_wanted(&cases[i]))
			emit(&b, "(b)", cases[i].name, cases[i].b, base_b,
			     cases[i].target, NULL);
	snprintf(note[0], sizeof(note[0]),
		 "per run: noop wrapper - min(empty); %.2f ns (min - min) "
		 "subtracted from the fixed-frame cases",
		 wcost[0]);
	snprintf(note[1], sizeof(note[1]),
		 "as above, plus the client address and port; %.2f ns "
		 "subtracted from the new-client cases",
		 wcost[1]);
	emit(&b, "(b)", "wrapper's own cost, fixed frame", w0, base_b, 0,
	     note[0]);
	emit(&b, "(b)", "wrapper's own cost, new client per run", w1, base_b, 0,
	     note[1]);
	emit(&b, "(b)", "empty program (test-run overhead)", empty, base_b, 0,
	     NULL);
	emit(&b, "(b)", "baseline: MAC swap + XDP_TX", swap, base_b, 0, NULL);
	for (i = 0; i < NCASES; i++)
		if (case_wanted(&cases[i]))
			emit(&b, "(a)", cases[i].name, cases[i].a, base_a, 0,
			     NULL);
	emit(&b, "(a)", "baseline: MAC swap + XDP_TX", swap_a, base_a, 0, NULL);
	ret = 0;
out:
	teardown(&b);
	return ret;
}
