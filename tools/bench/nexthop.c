// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which next-hop method costs less per packet: bpf_fib_lookup in the
 * program, or a gateway MAC the agent configured? Both run in one process,
 * interleaved round by round, on the real balancer with maps filled by
 * the agent's code. One packet per BPF_PROG_TEST_RUN call (the kernel
 * would feed the rewritten packet back in with repeat > 1); the cost is
 * the kernel-reported duration, averaged over the calls of a round.
 *
 * Usage (root): nexthop [ROUNDS [CALLS]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "maps.h"

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fprintf(stderr, "nexthop: failed: %s\n", cmd);
	return rc;
}

/* A 54-byte TCP ACK from 192.0.2.10:40000 to 10.100.0.1:80. */
static size_t build_frame(uint8_t *buf)
{
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	uint32_t sum = 0;
	uint16_t *w = (void *)ip;
	int i;

	memset(buf, 0, 54);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(40);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = inet_addr("192.0.2.10");
	ip->daddr = inet_addr("10.100.0.1");
	for (i = 0; i < 10; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	tcp->source = htons(40000);
	tcp->dest = htons(80);
	tcp->doff = 5;
	tcp->ack = 1;
	return 54;
}

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
			perror("BPF_PROG_TEST_RUN");
			exit(1);
		}
		if (opts.retval != XDP_REDIRECT && opts.retval != XDP_TX) {
			fprintf(stderr, "nexthop: unexpected verdict %u\n",
				opts.retval);
			exit(1);
		}
		total += opts.duration;
	}
	return (double)total / calls;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	int calls = argc > 2 ? atoi(argv[2]) : 200000;
	struct xlb_dp_opts dopts = {
		.max_vips = 16, .max_reals = 64, .ct_size = 65536};
	double *fib, *gw, mf, mg;
	struct xlb_agent *agent;
	struct xlb_config cfg;
	struct xlb_service svc;
	char err[XLB_ERR_LEN];
	struct xlb_dp *dp;
	struct xlb_ip real;
	uint8_t frame[64];
	cpu_set_t set;
	size_t len;
	int r, ifindex;

	if (rounds < 1 || calls < 1)
		return 2;
	if (unshare(CLONE_NEWNET) ||
	    sh("ip link set lo up && "
	       "ip link add xb0 type veth peer name xb1 && "
	       "ip link add xb2 type veth peer name xb3 && "
	       "ip link set xb0 up && ip link set xb1 up && "
	       "ip link set xb2 up && ip link set xb3 up && "
	       "ip addr add 10.0.0.1/24 dev xb0 && "
	       "ip addr add 10.1.0.1/24 dev xb2 && "
	       "ip neigh replace 10.1.0.2 lladdr 02:00:00:00:01:02 dev xb2 "
	       "nud permanent && "
	       "echo 1 > /proc/sys/net/ipv4/ip_forward"))
		return 1;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	ifindex = if_nametoindex("xb0");

	if (xlb_dp_open(&dopts, &dp, err, sizeof(err)) ||
	    xlb_agent_new(dp, &agent)) {
		fprintf(stderr, "nexthop: %s\n", err);
		return 1;
	}
	xlb_config_defaults(&cfg);
	xlb_service_parse("10.100.0.1:80/tcp", &svc);
	xlb_ip_parse("10.1.0.2", &real);
	if (xlb_agent_set_globals(agent, &cfg) ||
	    xlb_vip_add(agent, &svc, XLB_HASH_MAGLEV, 65537, err,
			sizeof(err)) ||
	    xlb_real_add(agent, &svc, &real, 100, err, sizeof(err))) {
		fprintf(stderr, "nexthop: %s\n", err);
		return 1;
	}
	len = build_frame(frame);
	fib = calloc(rounds, sizeof(*fib));
	gw = calloc(rounds, sizeof(*gw));
	/* Warm up: first packet creates the conntrack entry. */
	measure(xlb_dp_prog_fd(dp), frame, len, 1000, ifindex);
	for (r = 0; r < rounds; r++) {
		cfg.has_gw_mac = false;
		xlb_agent_set_globals(agent, &cfg);
		fib[r] =
			measure(xlb_dp_prog_fd(dp), frame, len, calls, ifindex);
		cfg.has_gw_mac = true;
		memcpy(cfg.gw_mac, "\x02\x00\x00\x00\x01\x02", 6);
		xlb_agent_set_globals(agent, &cfg);
		gw[r] = measure(xlb_dp_prog_fd(dp), frame, len, calls, ifindex);
	}
	qsort(fib, rounds, sizeof(*fib), cmp_double);
	qsort(gw, rounds, sizeof(*gw), cmp_double);
	mf = fib[rounds / 2];
	mg = gw[rounds / 2];
	printf("next hop, established TCP flow, %d rounds x %d packets, "
	       "one packet per call\n",
	       rounds, calls);
	printf("%-22s %10s %10s\n", "method", "min ns", "median ns");
	printf("%-22s %10.1f %10.1f\n", "bpf_fib_lookup", fib[0], mf);
	printf("%-22s %10.1f %10.1f\n", "gateway MAC (config)", gw[0], mg);
	printf("ratio fib/gateway (median): %.2f\n", mf / mg);
	xlb_config_free(&cfg);
	xlb_agent_free(agent);
	xlb_dp_close(dp, true);
	free(fib);
	free(gw);
	return 0;
}
