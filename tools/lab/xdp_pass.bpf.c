// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lab only: XDP_PASS, nothing else. The cluster lab's router attaches it
 * to its links towards the XLB nodes: a node sends VIP traffic back out
 * of the link it came in on with XDP_TX, and a veth delivers such frames
 * only to a peer with an XDP program (GRO on was not enough for XDP_TX
 * on kernel 6.18: the frames vanished without a counter).
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
