/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_send.h: FULLNAT's packet part, both directions: route the
 * translated packet, rewrite it (nat_rewrite.h, nat_icmp.h), clamp the
 * MSS, send it.
 */
#ifndef XLB_BPF_NAT_SEND_H
#define XLB_BPF_NAT_SEND_H

#include "icmp_gen.h"
#include "nat_icmp.h"
#include "nat_rewrite.h"
#include "nat_session.h"
#include "nexthop.h"
#include "reason.h"
#include "tcp.h"
#include "xmit.h"

/*
 * Translate the packet as x says and send it on (both directions). Its
 * own frame, shared by both directions, keeps each path's stack small.
 * Returns the reason.
 */
static __noinline __u32 nat_send(struct xdp_md *ctx, const struct xlb_pkt *p,
				 const struct xlb_globals *g)
{
	struct nat_scratch *s = nat_scratch_get();
	__u32 reason, route_reason;
	struct nat_xlat *x;

	if (!s)
		return XLB_R_DROP_INTERNAL;
	x = &s->x;
	/* Found by the session's part: nat_request or nat_reply. */
	route_reason = s->route;
	/* Translation keeps the size: the sender must fit the MTU. */
	if (route_reason == XLB_R_DROP_FRAG_NEEDED)
		return icmp_too_big(ctx, p, g, s->nh.mtu);
	if (route_reason != XLB_GO_ON && route_reason != XLB_R_PASS_NO_NEIGH)
		return route_reason;
	if (p->icmp_error)
		reason = nat_icmp(ctx, p, x);
	else
		reason = nat_rewrite(ctx, p, &x->src, &x->dst, x->sport,
				     x->dport);
	if (reason != XLB_GO_ON)
		return reason;
	if (x->mss && pkt_tcp_syn(p))
		tcp_clamp_mss(ctx, p->l4_off, x->mss);
	/* Without a neighbour entry the kernel forwards it (it resolves
	 * the neighbour); docs/FULLNAT.md says what that needs. */
	if (route_reason == XLB_R_PASS_NO_NEIGH)
		return pass_to_kernel(ctx, p);
	reason = transmit(ctx, p, &s->nh);
	if (reason == XLB_R_FWD_TX || reason == XLB_R_FWD_REDIRECT)
		fc_fill_nat(p, x, &s->nh);
	return reason;
}

#endif /* XLB_BPF_NAT_SEND_H */
