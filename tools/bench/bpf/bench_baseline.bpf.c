// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench only: the per-packet baselines of the data-path figures. The
 * cheapest program that does something useful with a frame (swap the
 * MACs, send it back), and a program that does nothing at all, whose cost
 * is the test run's own per-packet overhead.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

/* Swap source and destination MAC, XDP_TX. */
SEC("xdp")
int bench_macswap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	return XDP_TX;
}

/* Nothing: the test run's own cost per run. */
SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
