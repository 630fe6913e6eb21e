// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench only: the sink behind the node under test, standing in for the
 * reals. Counts every frame, and separately those whose (outer) IPv4
 * destination is one of the reals, then drops them.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench_abi.h"

/* The reals' prefix, network order; set by the bench before load. */
const volatile __be32 real_net;
const volatile __be32 real_mask;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_SINK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&sink_count, &which);

	if (n)
		*n += 1;
}

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	count(BENCH_SINK_ALL);
	if ((void *)(ip + 1) <= data_end &&
	    eth->h_proto == bpf_htons(ETH_P_IP) &&
	    (ip->daddr & real_mask) == real_net)
		count(BENCH_SINK_REAL);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
