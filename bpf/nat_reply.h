/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_reply.h: FULLNAT's session part for real -> local address: the
 * session a reply (or an ICMP error) belongs to.
 */
#ifndef XLB_BPF_NAT_REPLY_H
#define XLB_BPF_NAT_REPLY_H

#include "nat_session.h"
#include "nexthop.h"
#include "reason.h"
#include "stats.h"
#include "sync.h"

/*
 * Real -> local address: a reply, or an ICMP error about a session.
 * XLB_GO_ON (on to nat_send) with nat_scratch.x filled and the route to
 * the client found (nat_scratch.nh and .route: the session keeps its
 * next hop), or the reason.
 */
static __noinline __u32 nat_reply(struct xdp_md *ctx, const struct xlb_pkt *p,
				  const struct xlb_globals *g)
{
	struct nat_scratch *s = nat_scratch_get();
	struct xlb_flow_key *fk;
	struct xlb_nat_key *rk;
	struct xlb_nat_rev *rv;
	struct xlb_nat_fwd *f;
	__u32 reason;
	__u8 before = 0;

	if (!s)
		return XLB_R_DROP_INTERNAL;
	fc_nat_begin();
	reason = nat_check(p);
	if (reason != XLB_GO_ON)
		return reason;
	rk = &s->rk;
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->raddr = p->saddr;
	rk->laddr = p->daddr;
	rk->rport = p->sport;
	rk->lport = p->dport;
	rk->proto = p->proto;
	rk->family = p->family;
	rv = bpf_map_lookup_elem(&nat_rev, rk);
	if (!rv)
		return XLB_R_PASS_NAT_NO_SESSION;
	s->rv = *rv;
	fk = &s->rv.flow;
	f = bpf_map_lookup_elem(&nat_fwd, fk);
	/* The reply must come from the session's real, the same one. */
	if (!f || !nat_owns_tuple(f, rk) || !nat_tuple_real(f, rk))
		return XLB_R_PASS_NAT_NO_SESSION;
	if (!p->icmp_error) {
		before = f->state;
		nat_touch(f, p, bpf_ktime_get_coarse_ns(), true);
		/* The real's first answer: peers learn the session is up.
		 * A session's replies come on one CPU (the NIC hashes the
		 * real's tuple), so the test and the set do not race. */
		if (!(before & XLB_NAT_S_REPLIED) && sync_on(g))
			sync_emit(fk, f, f->real_id, f->real_gen);
		else
			sync_nat_end(g, fk, f, before);
	}
	count_reply(&vip_stats, fk->vip_id, p->frame_len);
	count_reply(&real_stats, f->real_id, p->frame_len);
	/* Replies go VIP:vport -> client:cport; an ICMP error about the
	 * flow goes to the client, quoting its request. */
	s->x.src = s->rv.vaddr;
	s->x.dst = fk->saddr;
	s->x.sport = fk->dport;
	s->x.dport = fk->sport;
	s->x.mss = s->rv.mss;
	s->route = route_reply(ctx, g, &f->hop, p->family, &s->x.src, &s->x.dst,
			       p->l3_len, p->tos, &s->nh);
	/* Only a session that had its first reply: the next ones change
	 * nothing in it but its clock. */
	if (!p->icmp_error && (before & XLB_NAT_S_REPLIED))
		fc_nat_keep(XLB_FC_NAT_REP, fk->vip_id, f->real_id,
			    f->last_seen);
	return XLB_GO_ON;
}

#endif /* XLB_BPF_NAT_REPLY_H */
