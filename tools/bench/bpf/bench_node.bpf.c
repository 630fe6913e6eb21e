// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench only: the two programs the node under test runs when it is not
 * running XLB. bench_fwd is the bare forwarder, the least an XDP
 * forwarder can do (next hop's MACs, redirect to the egress port);
 * bench_pass hands every frame to the kernel, whose nftables DNAT is the
 * other comparison (a veth delivers redirected frames only to a peer
 * with an XDP program, so the kernel path needs one too).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

/* Set by the bench before load. */
const volatile __u32 fwd_ifindex;
const volatile __u8 fwd_smac[ETH_ALEN];
const volatile __u8 fwd_dmac[ETH_ALEN];

/* Rewrite the MACs for the next hop, redirect to the egress port. */
SEC("xdp")
int bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = fwd_dmac[i];
		eth->h_source[i] = fwd_smac[i];
	}
	return bpf_redirect(fwd_ifindex, 0);
}

/* Everything to the kernel's stack. */
SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
