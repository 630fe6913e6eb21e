// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XLB balancer: XDP entry point. Reads as the packet path: parse, is it
 * ours, pick a real, encapsulate (tunnel) or translate (FULLNAT, both
 * directions: nat.h), send. Every packet ends with exactly one enum
 * xlb_reason, which decides the verdict and is counted; every stage
 * returns XLB_GO_ON or that reason (reason.h).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "reason.h"
#include "maps.h"
#include "parse.h"
#include "lookup.h"
#include "select.h"
#include "conntrack.h"
#include "encap.h"
#include "fib.h"
#include "guard.h"
#include "nat.h"
#include "stats.h"
#include "sync.h"
#include "tcp.h"
#include "xmit.h"
#include "nexthop.h"
#include "icmp_gen.h"
#include "flowcache.h"

/* The verdict a reason stands for (see the ordering in xlb_abi.h). */
static __always_inline int reason_verdict(__u32 reason)
{
	if (reason == XLB_R_FWD_TX || reason == XLB_R_FWD_ICMP_TOO_BIG)
		return XDP_TX;
	if (reason == XLB_R_FWD_REDIRECT)
		return XDP_REDIRECT;
	if (reason < XLB_R_FIRST_DROP)
		return XDP_PASS;
	return XDP_DROP;
}

/*
 * A packet to one of our addresses that must not be balanced: a
 * fragment, a hop of a source route, no TTL left, a source no client
 * has. XLB_GO_ON or the reason.
 */
static __always_inline __u32 screen_packet(const struct xlb_pkt *p)
{
	if (p->fragment)
		return XLB_R_DROP_FRAGMENT;
	if (p->routed)
		return XLB_R_DROP_IPV6_ROUTING;
	if (p->ttl == 0)
		return XLB_R_DROP_TTL_ZERO;
	return lookup_source(p);
}

/*
 * Parse L2/L3/L4 and decide whether the packet is for a VIP. The common
 * case, an unfragmented TCP or UDP packet to an address with VIPs and no
 * local address in its filter slot, takes one hashed lookup (vips on
 * the exact port) and sets *vip; anything else, or a miss there, takes
 * the general path (vip_addrs, then the VIP in process()), which gives
 * the same answer in the same order of checks. XLB_GO_ON or the reason.
 */
static __always_inline __u32 parse_packet(struct xdp_md *ctx, struct xlb_pkt *p,
					  struct xlb_vip_meta **vip)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = {.start = data, .pos = data, .end = data_end};
	__u32 f, reason;
	int proto, l4;

	p->frame_len = data_end - data;
	c.ip_end = p->frame_len;
	reason = parse_eth(&c, p, &proto);
	if (reason != XLB_GO_ON)
		return reason;
	if (p->vlan && !lookup_vlan(ctx, p, proto))
		return XLB_R_PASS_VLAN_OTHER;
	if (proto == ETH_P_IP)
		reason = parse_ipv4(&c, p, &l4);
	else if (proto == ETH_P_IPV6)
		reason = parse_ipv6(&c, p, &l4);
	else
		return XLB_R_PASS_NOT_IP;
	if (reason != XLB_GO_ON)
		return reason;
	/* Cheapest test first: traffic for the node itself leaves here. */
	f = addr_filter_bits(&p->daddr);
	if (!f)
		return XLB_R_PASS_NOT_VIP;
	if (f == XLB_FILTER_VIP && (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP) &&
	    !p->fragment && !p->routed && p->ttl &&
	    parse_l4(&c, p, l4) == XLB_GO_ON) {
		*vip = lookup_vip_port(p);
		if (*vip)
			return lookup_source(p);
	}
	if (!lookup_vip_addr(p))
		return XLB_R_PASS_NOT_VIP;
	reason = screen_packet(p);
	if (reason != XLB_GO_ON)
		return reason;
	if (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP)
		return parse_l4(&c, p, l4);
	if (l4 == IPPROTO_ICMP && p->family == XLB_AF_INET)
		return parse_icmp4(&c, p);
	if (l4 == IPPROTO_ICMPV6 && p->family == XLB_AF_INET6)
		return parse_icmp6(&c, p);
	return XLB_R_PASS_NOT_VIP;
}

/*
 * Tunnel mode: conntrack or the ring picks the real, the packet is
 * encapsulated towards it. Its own frame, like the FULLNAT paths, so
 * that no path's stack adds to another's. The ring's flow hash is
 * computed on a miss only; the outer header's cheaper one always.
 * Returns the reason.
 */
static __noinline __u32 tunnel_forward(struct xdp_md *ctx,
				       const struct xlb_pkt *p,
				       const struct xlb_vip_meta *vip,
				       const struct xlb_globals *g)
{
	__u32 hash = tun_hash(p, vip->flags);
	struct xlb_nexthop nh = {};
	struct xlb_real *real;
	struct xlb_addr src;
	__u32 real_id = 0, reason, route_reason, overhead;
	__u64 now = bpf_ktime_get_coarse_ns();
	__u32 tick = xlb_ct_tick(now), fc_ep = 0;
	bool new_flow = false, tracked = true, fc_on;
	union ct_key key;
	__be16 gue;
	void *ct;

	/* Before the answer is read (flowcache.h). */
	fc_on = fc_epoch_read(&fc_ep);
	if (p->family == XLB_AF_INET)
		real = ct_select(&ct, &key, XLB_AF_INET, p, vip->vip_id, g,
				 tick, &real_id);
	else
		real = ct_select(&ct, &key, XLB_AF_INET6, p, vip->vip_id, g,
				 tick, &real_id);
	/* An ICMP error is only about a flow we track; it starts none. */
	if (!real && p->icmp_error)
		return XLB_R_DROP_ICMP_UNMATCHED;
	if (!real) {
		real = select_from_ring(vip->vip_id, flow_hash(p, vip->flags),
					&real_id);
		if (!real)
			return XLB_R_DROP_NO_REAL;
		tracked = guard_admit(p);
		if (tracked) {
			ct_insert(ct, &key, p, tick, real_id, real);
			/* Counted: a connection's start, not an insert. */
			new_flow = ct_conn_start(p);
			/* The event names the flow as every table but
			 * ours does; key is not needed after this. */
			if (sync_on(g)) {
				flow_key(&key.v6, p, vip->vip_id);
				sync_emit(&key.v6, NULL, real_id, real->gen);
			}
		}
	}
	count_traffic(&vip_stats, vip->vip_id, p->frame_len, new_flow);
	count_traffic(&real_stats, real_id, p->frame_len, new_flow);

	gue = gue_vip_port(vip, g);
	overhead = tunnel_overhead(real->family, gue);
	encap_source(&src, real->family, g, hash);
	route_reason = route_real(ctx, g, real_id, real->gen, hash,
				  real->family, &src, &real->addr,
				  p->l3_len + overhead, p->tos, &nh);
	/* The client must leave room for the outer header. */
	if (route_reason == XLB_R_DROP_FRAG_NEEDED)
		return icmp_too_big(ctx, p, g, nh.mtu - overhead);
	/* Without a neighbour entry the encapsulated packet goes to the
	 * kernel, which resolves the neighbour and forwards it. */
	if (route_reason != XLB_GO_ON && route_reason != XLB_R_PASS_NO_NEIGH)
		return route_reason;
	/* The SYN-ACK does not pass here: only the client's MSS. */
	if (vip->mss && pkt_tcp_syn(p))
		tcp_clamp_mss(ctx, p->l4_off, vip->mss);
	reason = encap_push(ctx, p, real, &src, hash, gue);
	if (reason != XLB_GO_ON)
		return reason;
	if (route_reason == XLB_R_PASS_NO_NEIGH)
		return pass_to_kernel(ctx, p);
	reason = transmit(ctx, p, &nh);
	if (fc_on && tracked &&
	    (reason == XLB_R_FWD_TX || reason == XLB_R_FWD_REDIRECT))
		fc_fill(ctx, p, fc_ep, now, vip->vip_id, real_id, real->family,
			overhead, gue != 0, &nh);
	return reason;
}

/* The whole packet path; returns the packet's reason. */
static __always_inline __u32 process(struct xdp_md *ctx)
{
	struct xlb_pkt p = {};
	struct xlb_vip_meta *vip = NULL;
	struct xlb_globals *g;
	__u32 zero = 0, reason;

	/* An established tunnel flow's packet, most of the time. */
	reason = fc_forward(ctx);
	if (reason != XLB_GO_ON)
		return reason;
	reason = parse_packet(ctx, &p, &vip);
	if (reason != XLB_GO_ON)
		return reason;
	g = bpf_map_lookup_elem(&globals, &zero);
	if (!g)
		return XLB_R_DROP_INTERNAL;
	/* FULLNAT: the session's part and the packet's part are separate
	 * calls so that their stacks do not add up. */
	if (p.local) {
		/* A reply (or an ICMP error) to a local address. */
		reason = nat_reply(ctx, &p, g);
	} else {
		if (!vip)
			vip = lookup_vip(&p);
		if (!vip)
			return p.icmp_error ? XLB_R_DROP_ICMP_UNMATCHED
					    : XLB_R_PASS_NOT_VIP;
		if (!(vip->flags & XLB_VIP_F_FULLNAT))
			return tunnel_forward(ctx, &p, vip, g);
		reason = nat_request(ctx, &p, vip, g);
	}
	if (reason != XLB_GO_ON)
		return reason;
	return nat_send(ctx, &p, g);
}

SEC("xdp")
int xlb_balancer(struct xdp_md *ctx)
{
	__u32 reason = process(ctx);

	count_reason(reason);
	return reason_verdict(reason);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
