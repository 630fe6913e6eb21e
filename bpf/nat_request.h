/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_request.h: FULLNAT's session part for client -> VIP: find the
 * flow's session, or schedule the flow and install a new one.
 */
#ifndef XLB_BPF_NAT_REQUEST_H
#define XLB_BPF_NAT_REQUEST_H

#include "conntrack.h"
#include "nat_alloc.h"
#include "nat_session.h"
#include "nexthop.h"
#include "reason.h"
#include "select.h"
#include "stats.h"
#include "sync.h"

/*
 * Client -> VIP, for a fullnat VIP: find or make the flow's session.
 * XLB_GO_ON (on to nat_send) with nat_scratch.x filled and the route to
 * the real found (nat_scratch.nh and .route), or the packet's reason.
 * Not inlined: each path gets a stack frame of its own.
 */
static __noinline __u32 nat_request(struct xdp_md *ctx, const struct xlb_pkt *p,
				    const struct xlb_vip_meta *vip,
				    const struct xlb_globals *g)
{
	struct nat_scratch *s = nat_scratch_get();
	__u64 now = bpf_ktime_get_coarse_ns();
	struct xlb_flow_key *key;
	struct xlb_nat_fwd *f;
	struct xlb_real *real;
	__u32 real_id = 0, reason, hash;
	bool new_flow = false, made = false;

	if (!s)
		return XLB_R_DROP_INTERNAL;
	fc_nat_begin();
	reason = nat_check(p);
	if (reason != XLB_GO_ON)
		return reason;
	key = &s->rv.flow;
	flow_key(key, p, vip->vip_id);
	f = bpf_map_lookup_elem(&nat_fwd, key);
	real = f ? nat_session_real(f) : NULL;
	if (real && !nat_keeps_new(f, real, p))
		real = NULL;
	if (!real) {
		/* An ICMP error does not start a session. */
		if (p->icmp_error)
			return XLB_R_DROP_ICMP_UNMATCHED;
		/*
		 * Only a client's SYN (no ACK) makes a TCP session. Any other
		 * segment without one is of a flow another node made whose
		 * session has not reached us yet (ECMP moved it within the
		 * sync delay; TCP sends it again, by then the session is
		 * here), of a flow whose real is gone (it would only be
		 * reset), or spoofed: a flood of those would fill nat_fwd and
		 * the port pool with sessions nobody closes.
		 */
		if (p->proto == IPPROTO_TCP && !pkt_tcp_open(p))
			return XLB_R_DROP_NAT_NOT_SYN;
		if (f) {
			nat_release(key, f);
			/* Any CPU's slot may hold the session replaced. */
			fc_moved();
		}
		/* The flow hash: a new session's only. */
		hash = flow_hash(p, vip->flags);
		real = select_from_ring(vip->vip_id, hash, &real_id);
		if (!real)
			return XLB_R_DROP_NO_REAL;
		if (real->family != p->family)
			return XLB_R_DROP_NAT_FAMILY;
		__builtin_memset(&s->rk, 0, sizeof(s->rk));
		s->rk.raddr = real->addr;
		s->rk.rport = p->dport;
		s->rk.proto = p->proto;
		s->rk.family = p->family;
		s->rv.mss = vip->mss;
		s->rv.pad = 0;
		s->rv.vaddr = p->daddr;
		reason = nat_alloc(g, p->family, hash, now);
		if (reason != XLB_GO_ON)
			return reason;
		__builtin_memset(&s->fwd, 0, sizeof(s->fwd));
		s->fwd.laddr = s->rk.laddr;
		s->fwd.lport = s->rk.lport;
		s->fwd.state = nat_next_state(0, p, false);
		s->fwd.real_id = real_id;
		s->fwd.real_gen = real->gen;
		s->fwd.cpu = bpf_get_smp_processor_id();
		s->fwd.last_seen = now;
		if (!bpf_map_update_elem(&nat_fwd, key, &s->fwd,
					 f ? BPF_ANY : BPF_NOEXIST)) {
			new_flow = true;
			if (sync_on(g))
				sync_emit(key, &s->fwd, real_id, real->gen);
		} else {
			/* Another CPU made this flow's session first (or the
			 * table is full): give the tuple back, use theirs. */
			bpf_map_delete_elem(&nat_rev, &s->rk);
			f = bpf_map_lookup_elem(&nat_fwd, key);
			if (!f)
				return XLB_R_DROP_NAT_TABLE_FULL;
			real = nat_session_real(f);
			if (!real)
				return XLB_R_DROP_NO_REAL;
		}
	}
	made = new_flow;
	if (new_flow) {
		s->x.src = s->rk.laddr;
		s->x.sport = s->rk.lport;
	} else {
		real_id = f->real_id;
		s->x.src = f->laddr;
		s->x.sport = f->lport;
		if (!p->icmp_error) {
			__u8 before = f->state;

			nat_touch(f, p, now, false);
			sync_nat_end(g, key, f, before);
		}
	}
	/* Counted: a connection's start, not a session made. */
	new_flow = new_flow && ct_conn_start(p);
	count_traffic(&vip_stats, vip->vip_id, p->frame_len, new_flow);
	count_traffic(&real_stats, real_id, p->frame_len, new_flow);
	/* Requests go local:lport -> real:vport; an ICMP error about
	 * the flow is sent to the real, quoting its reply. */
	s->x.dst = real->addr;
	s->x.dport = p->dport;
	s->x.mss = vip->mss;
	/* The flow spreads over the real's ECMP legs by its local port. */
	s->route = route_real(ctx, g, real_id, real->gen,
			      (__u32)s->x.sport * 0x9e3779b1u, p->family,
			      &s->x.src, &s->x.dst, p->l3_len, p->tos, &s->nh);
	if (!p->icmp_error)
		fc_nat_keep(XLB_FC_NAT_REQ, vip->vip_id, real_id,
			    made ? s->fwd.last_seen : f->last_seen);
	return XLB_GO_ON;
}

#endif /* XLB_BPF_NAT_REQUEST_H */
