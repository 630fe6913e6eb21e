// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which next-hop method costs less per packet: bpf_fib_lookup in the
 * program, or a gateway MAC the agent configured? Both run in one process,
 * interleaved round by round, on the real balancer with maps filled by
 * the agent's code. One packet per BPF_PROG_TEST_RUN call (the kernel
 * would feed the rewritten packet back in with repeat > 1); the cost is
 * the kernel-reported duration, averaged over the calls of a round.
 *
 * Figure: the fib path's ns per packet, its baseline the gateway-MAC path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <bpf/bpf.h>

#include "bench.h"

#define NH_CALLS 100000

/* Mean ns per packet over calls single-packet runs. */
static double measure(int prog_fd, const uint8_t *frame, size_t len, int calls,
		      int ifindex)
{
	uint8_t out[256];
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint64_t total = 0;
	int i;

	for (i = 0; i < calls; i++) {
		opts.data_size_out = sizeof(out);
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			perror("xlb-bench nexthop: BPF_PROG_TEST_RUN");
			return -1;
		}
		if (opts.retval != XDP_REDIRECT && opts.retval != XDP_TX) {
			fprintf(stderr,
				"xlb-bench nexthop: unexpected verdict %u\n",
				opts.retval);
			return -1;
		}
		total += opts.duration;
	}
	return (double)total / calls;
}

int bench_nexthop(const struct bench_opts *o)
{
	struct bench_pkt pkt = {
		.saddr = 0xc000020a, /* 192.0.2.10:40000 */
		.daddr = 0x0a640001, /* 10.100.0.1:80 */
		.sport = 40000,
		.dport = 80,
		.proto = IPPROTO_TCP,
		.tcp_flags = TH_ACK,
		.len = 64,
	};
	double fib[32], gw[32], v;
	struct bench_figure f = {
		.group = "nexthop",
		.name = "next hop: bpf_fib_lookup (established, (a))",
		.unit = "ns/pkt",
		.baseline_name = "gateway MAC from the configuration",
		.note = "decides the default next-hop method; no target",
	};
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;
	struct bench_lb lb;
	uint8_t frame[128];
	int r, ifindex, fd, ret = -1;
	size_t len;

	ifindex = bench_netns_reals(1);
	if (ifindex <= 0)
		return bench_fail("nexthop", "namespace: %s",
				  strerror(-ifindex));
	bench_pin_cpu(0);
	if (bench_lb_open(&lb, 65536, err, sizeof(err)) ||
	    bench_lb_vip(&lb, "10.100.0.1:80/tcp", 0x0a010002, 1, err,
			 sizeof(err)))
		return bench_fail("nexthop", "%s", err);
	xlb_config_defaults(&cfg);
	len = bench_pkt_build(&pkt, frame);
	fd = xlb_dp_prog_fd(lb.dp);
	if (bench_attach_idle(fd)) {
		bench_fail("nexthop", "attaching to an idle veth failed");
		goto out;
	}
	/* Warm up: the first packet creates the conntrack entry. */
	if (measure(fd, frame, len, 1000, ifindex) < 0)
		goto out;
	for (r = 0; r < o->runs; r++) {
		cfg.has_gw_mac = false;
		xlb_agent_set_globals(lb.agent, &cfg);
		fib[r] = v = measure(fd, frame, len, NH_CALLS, ifindex);
		if (v < 0)
			goto out;
		cfg.has_gw_mac = true;
		memcpy(cfg.gw_mac, "\x02\x00\x00\x00\x01\x02", 6);
		xlb_agent_set_globals(lb.agent, &cfg);
		gw[r] = v = measure(fd, frame, len, NH_CALLS, ifindex);
		if (v < 0)
			goto out;
	}
	bench_stats(gw, o->runs, &v, &f.baseline);
	bench_stats(fib, o->runs, &f.min, &f.median);
	ret = bench_emit(o, &f) ? -1 : 0;
out:
	xlb_config_free(&cfg);
	bench_lb_close(&lb);
	return ret;
}
