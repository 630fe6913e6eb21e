// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XLB balancer: XDP entry point. Reads as the packet path: parse, is it
 * ours, pick a real, encapsulate, send. Every packet ends with exactly
 * one enum xlb_reason, which decides the verdict and is counted.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "maps.h"
#include "parse.h"
#include "lookup.h"
#include "select.h"
#include "encap.h"
#include "fib.h"
#include "stats.h"

/* The verdict a reason stands for (see the ordering in xlb_abi.h). */
static __always_inline int reason_verdict(__u32 reason)
{
	if (reason == XLB_R_FWD_TX)
		return XDP_TX;
	if (reason == XLB_R_FWD_REDIRECT)
		return XDP_REDIRECT;
	if (reason < XLB_R_FIRST_DROP)
		return XDP_PASS;
	return XDP_DROP;
}

/* Parse L2/L3/L4 and decide whether the packet is for a VIP. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = {.pos = data, .end = data_end};
	int proto, l4;

	p->frame_len = data_end - data;
	proto = parse_eth(&c, p);
	if (proto < 0)
		return proto;
	if (proto == ETH_P_IP)
		l4 = parse_ipv4(&c, p);
	else if (proto == ETH_P_IPV6)
		l4 = parse_ipv6(&c, p);
	else
		return -XLB_R_PASS_NOT_IP;
	if (l4 < 0)
		return l4;
	/* Cheapest test first: traffic for the node itself leaves here. */
	if (!lookup_vip_addr(p))
		return -XLB_R_PASS_NOT_VIP;
	if (p->fragment)
		return -XLB_R_DROP_FRAGMENT;
	if (p->ttl == 0)
		return -XLB_R_DROP_TTL_ZERO;
	if (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP)
		return parse_l4(&c, p, l4);
	if (l4 == IPPROTO_ICMP && p->family == XLB_AF_INET)
		return parse_icmp4(&c, p);
	if (l4 == IPPROTO_ICMPV6 && p->family == XLB_AF_INET6)
		return parse_icmp6(&c, p);
	return -XLB_R_PASS_NOT_VIP;
}

/* Everything after parsing; returns the packet's reason (>= 0). */
static __always_inline __u32 process(struct xdp_md *ctx)
{
	struct xlb_flow_key key = {};
	struct xlb_nexthop nh = {};
	struct xlb_pkt p = {};
	struct xlb_vip_meta *vip;
	struct xlb_globals *g;
	struct xlb_real *real;
	struct xlb_addr src;
	__u32 zero = 0, real_id = 0, hash, reason;
	bool new_flow = false;
	void *ct;
	int ret;

	ret = parse_packet(ctx, &p);
	if (ret < 0)
		return -ret;
	vip = lookup_vip(&p);
	if (!vip)
		return p.icmp_error ? XLB_R_DROP_ICMP_UNMATCHED
				    : XLB_R_PASS_NOT_VIP;
	g = bpf_map_lookup_elem(&globals, &zero);
	if (!g)
		return XLB_R_DROP_INTERNAL;

	hash = flow_hash(&p, vip->flags);
	ct = ct_table();
	ct_key(&key, &p, vip->vip_id);
	real = select_from_ct(ct, &key, &real_id);
	if (!real && ((p.proto == IPPROTO_TCP && !p.tcp_syn) || p.icmp_error))
		real = select_from_other_cpus(ct, &key, &real_id);
	if (!real) {
		real = select_from_ring(vip->vip_id, hash, &real_id);
		if (!real)
			return XLB_R_DROP_NO_REAL;
		/* An ICMP error does not start a flow. */
		if (!p.icmp_error) {
			ct_insert(ct, &key, real_id, real);
			new_flow = true;
		}
	}
	count_traffic(&vip_stats, vip->vip_id, p.frame_len, new_flow);
	count_traffic(&real_stats, real_id, p.frame_len, new_flow);

	encap_source(&src, real->family, g, hash);
	if (g->flags & XLB_G_F_GW_MAC) {
		/* Send back out of the ingress port to the gateway, from the
		 * address the frame was sent to. */
		struct ethhdr *eth = (void *)(long)ctx->data;

		if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
			return XLB_R_DROP_TRUNCATED;
		__builtin_memcpy(nh.smac, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(nh.dmac, g->gw_mac, ETH_ALEN);
		nh.ifindex = ctx->ingress_ifindex;
		reason = 0;
	} else {
		ret = fib_nexthop(ctx, real, &src,
				  p.l3_len + encap_len(real->family), p.tos,
				  &nh);
		reason = ret < 0 ? -ret : 0;
		/* Without a neighbour entry the encapsulated packet goes to
		 * the kernel, which resolves the neighbour and forwards it. */
		if (reason && reason != XLB_R_PASS_NO_NEIGH)
			return reason;
	}
	ret = encap_push(ctx, &p, real, &src, hash);
	if (ret < 0)
		return -ret;
	if (reason)
		return reason;
	ret = encap_set_macs(ctx, nh.smac, nh.dmac);
	if (ret < 0)
		return -ret;
	if (nh.ifindex == ctx->ingress_ifindex)
		return XLB_R_FWD_TX;
	if (bpf_redirect(nh.ifindex, 0) != XDP_REDIRECT)
		return XLB_R_DROP_INTERNAL;
	return XLB_R_FWD_REDIRECT;
}

SEC("xdp")
int xlb_balancer(struct xdp_md *ctx)
{
	__u32 reason = process(ctx);

	count_reason(reason);
	return reason_verdict(reason);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
