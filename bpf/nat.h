/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat.h: FULLNAT (docs/FULLNAT.md). A client's packet to a fullnat VIP
 * is rewritten local:lport -> real:vport, the real's reply back to
 * VIP:vport -> client:cport. Sessions live in nat_fwd / nat_rev, shared
 * by every CPU; each CPU allocates ports only from its own range.
 */
#ifndef XLB_BPF_NAT_H
#define XLB_BPF_NAT_H

#include "conntrack.h"
#include "csum.h"
#include "maps.h"
#include "parse.h"
#include "select.h"
#include "stats.h"
#include "sync.h"
#include "tcp.h"
#include "xmit.h"
#include "nexthop.h"
#include "icmp_gen.h"

#define XLB_EEXIST	 17
#define XLB_NSEC_PER_SEC 1000000000ULL
/* last_seen is written at most this often: the two directions of a flow
 * run on different CPUs and would otherwise bounce its cache line. */
#define XLB_NAT_TOUCH_NS XLB_NSEC_PER_SEC

/* nat_request / nat_reply: "translate as nat_scratch.x says, send". */
#define XLB_NAT_SEND XLB_R_MAX

static __always_inline bool addr_eq(const struct xlb_addr *a,
				    const struct xlb_addr *b)
{
	return a->addr[0] == b->addr[0] && a->addr[1] == b->addr[1] &&
	       a->addr[2] == b->addr[2] && a->addr[3] == b->addr[3];
}

static __always_inline bool flow_key_eq(const struct xlb_flow_key *a,
					const struct xlb_flow_key *b)
{
	return addr_eq(&a->saddr, &b->saddr) && a->vip_id == b->vip_id &&
	       a->sport == b->sport && a->dport == b->dport &&
	       a->proto == b->proto && a->family == b->family;
}

/* The idle timeout of a session in this state, in seconds. */
static __always_inline __u32 nat_timeout(const struct xlb_globals *g,
					 __u8 proto, __u8 state)
{
	/* The rule the agent's sweep (user/maps.c) judges by too. */
	return xlb_nat_timeout(g, proto, state);
}

/* The state after this packet of the flow. */
static __always_inline __u8 nat_next_state(__u8 state, const struct xlb_pkt *p,
					   bool from_real)
{
	if (from_real)
		state |= XLB_NAT_S_REPLIED;
	if (p->proto != IPPROTO_TCP)
		return state;
	if (p->tcp_flags & XLB_TCP_RST)
		state |= XLB_NAT_S_RST;
	if (p->tcp_flags & XLB_TCP_FIN)
		state |= from_real ? XLB_NAT_S_FIN_REAL : XLB_NAT_S_FIN_CLIENT;
	return state;
}

/* A packet of the session went by: refresh its state and clock. */
static __always_inline void nat_touch(struct xlb_nat_fwd *f,
				      const struct xlb_pkt *p, __u64 now,
				      bool from_real)
{
	__u8 state = nat_next_state(f->state, p, from_real);

	if (state != f->state)
		f->state = state;
	if ((__s64)(now - f->last_seen) > (__s64)XLB_NAT_TOUCH_NS)
		f->last_seen = now;
}

/* The session's real if the session may still send to it. */
static __always_inline struct xlb_real *
nat_session_real(const struct xlb_nat_fwd *f)
{
	struct xlb_real *real = lookup_real(f->real_id);

	if (!real || real->gen != f->real_gen)
		return NULL;
	return real;
}

/*
 * A packet met session f, whose real is up: does the session keep it?
 * A new TCP connection (SYN without ACK) does not reuse a session that
 * is closing or reset, or whose real takes no new connections (drained,
 * weight 0): it is scheduled afresh and replaces the session, whose
 * tuple is given back (xlb_nat_keeps_new). A retransmitted SYN keeps
 * its session, even one idle past its timeout but not yet swept.
 */
static __always_inline bool nat_keeps_new(const struct xlb_nat_fwd *f,
					  const struct xlb_real *real,
					  const struct xlb_pkt *p)
{
	if (p->proto != IPPROTO_TCP || p->icmp_error ||
	    !xlb_conn_tcp_open(p->tcp_flags))
		return true;
	return xlb_nat_keeps_new(f->state, real);
}

/* Is rk (still) the tuple of session f? */
static __always_inline bool nat_owns_tuple(const struct xlb_nat_fwd *f,
					   const struct xlb_nat_key *rk)
{
	return addr_eq(&f->laddr, &rk->laddr) && f->lport == rk->lport;
}

/* The session's real if it is the one rk names (same id, generation and
 * address), whatever its health. */
static __always_inline struct xlb_real *
nat_tuple_real(const struct xlb_nat_fwd *f, const struct xlb_nat_key *rk)
{
	struct xlb_real *real = bpf_map_lookup_elem(&reals, &f->real_id);

	if (!real || real->gen != f->real_gen ||
	    !addr_eq(&real->addr, &rk->raddr))
		return NULL;
	return real;
}

/*
 * Is the tuple rk, found in use, free for a new flow? Yes when its
 * session is gone or now uses another tuple, when its real is gone or
 * down, or when it has been idle past its timeout; a session that dies
 * here loses its forward entry, so its flow can never use the tuple
 * again. A peer's session (cpu UINT32_MAX, installed by the agent) has
 * a local address outside our pool: no search of ours meets its tuple.
 */
static __always_inline bool nat_tuple_free(const struct xlb_nat_key *rk,
					   __u64 now)
{
	struct xlb_nat_rev *rv;
	struct xlb_nat_fwd *f;
	struct xlb_globals *g;
	struct xlb_flow_key fk;
	struct xlb_real *real;
	__u32 zero = 0;
	__u64 limit;

	rv = bpf_map_lookup_elem(&nat_rev, rk);
	if (!rv)
		return true;
	fk = rv->flow;
	f = bpf_map_lookup_elem(&nat_fwd, &fk);
	if (!f)
		return true;
	if (!nat_owns_tuple(f, rk))
		return true;
	real = nat_tuple_real(f, rk);
	if (real && (real->flags & XLB_REAL_F_UP)) {
		g = bpf_map_lookup_elem(&globals, &zero);
		if (!g)
			return false;
		limit = (__u64)nat_timeout(g, rk->proto, f->state) *
			XLB_NSEC_PER_SEC;
		if ((__s64)(now - f->last_seen) <= (__s64)limit)
			return false;
	}
	bpf_map_delete_elem(&nat_fwd, &fk);
	return true;
}

/* The search for a free (local address, port) of this CPU. */
struct nat_alloc {
	__u64 now;
	__u32 slot_base; /* the family's first slot in nat_laddrs */
	__u32 n_laddrs;
	__u32 first_laddr;
	__u32 port_base; /* this CPU's first port */
	__u32 span;
	__u32 cursor;
	__u32 tries;
	__u32 reason; /* 0 once a tuple is ours */
};

/*
 * bpf_loop callback: candidate i (local addresses turn fastest). The
 * reverse entry to place is in nat_scratch; its key gets the candidate.
 */
static long nat_try(__u32 i, void *data)
{
	struct nat_alloc *a = data;
	struct nat_scratch *s;
	struct xlb_nat_laddr *la;
	__u32 slot, port, zero = 0;
	long ret;

	if (!a->n_laddrs || !a->span)
		return 1;
	s = bpf_map_lookup_elem(&nat_scratch, &zero);
	if (!s)
		return 1;
	slot = a->slot_base + (a->first_laddr + i) % a->n_laddrs;
	port = a->port_base + (a->cursor + i / a->n_laddrs) % a->span;
	la = bpf_map_lookup_elem(&nat_laddrs, &slot);
	if (!la)
		return 1;
	s->rk.laddr = la->addr;
	s->rk.lport = bpf_htons(port);
	ret = bpf_map_update_elem(&nat_rev, &s->rk, &s->rv, BPF_NOEXIST);
	if (ret == -XLB_EEXIST) {
		if (!nat_tuple_free(&s->rk, a->now))
			return 0;
		ret = bpf_map_update_elem(&nat_rev, &s->rk, &s->rv, BPF_ANY);
	}
	if (ret) {
		a->reason = XLB_R_DROP_NAT_TABLE_FULL;
		return 1;
	}
	a->reason = 0;
	a->tries = i + 1;
	return 1;
}

/*
 * Take a translated tuple for a new flow. The caller has put the reverse
 * entry in nat_scratch (rk with the real's side, rv complete); on success
 * it is in nat_rev and the scratch rk names it. 0 or a reason. Its own
 * frame: the search's stack is not added to the packet path's.
 */
static __noinline __u32 nat_alloc(const struct xlb_globals *g, __u8 family,
				  __u32 hash, __u64 now)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id();
	struct nat_alloc a = {};
	__u32 *cursor;

	cursor = bpf_map_lookup_elem(&nat_cursor, &zero);
	if (!cursor)
		return XLB_R_DROP_INTERNAL;
	a.now = now;
	if (family == XLB_AF_INET) {
		a.n_laddrs = g->nat_laddrs[0];
	} else {
		a.slot_base = XLB_NAT_MAX_LADDRS;
		a.n_laddrs = g->nat_laddrs[1];
	}
	if (!a.n_laddrs || !g->nat_port_span)
		return XLB_R_DROP_NAT_NO_PORT;
	a.first_laddr = hash % a.n_laddrs;
	a.span = g->nat_port_span;
	a.port_base = g->nat_port_min + cpu * a.span;
	a.cursor = *cursor;
	a.reason = XLB_R_DROP_NAT_NO_PORT;
	bpf_loop(XLB_NAT_TRIES, nat_try, &a, 0);
	if (a.reason)
		return a.reason;
	/* The next search starts past the ports this one used. */
	*cursor = a.cursor + (a.tries - 1) / a.n_laddrs + 1;
	return 0;
}

/* The scratch space; NULL only if the map is broken. */
static __always_inline struct nat_scratch *nat_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nat_scratch, &zero);
}

/*
 * Rewrite the IP addresses to src -> dst: header checksum updated,
 * the address differences left in *acc for the L4 checksum.
 */
static __always_inline __u32 nat_rewrite_l3(struct xdp_md *ctx,
					    const struct xlb_pkt *p,
					    const struct xlb_addr *src,
					    const struct xlb_addr *dst,
					    __u32 *acc)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l3 = p->l3_off, sum = 0;
	struct ipv6hdr *ip6;
	struct iphdr *iph;

	if (l3 > XLB_L2_MAX)
		return XLB_R_DROP_INTERNAL;
	if (p->family == XLB_AF_INET) {
		iph = data + l3;
		if ((void *)(iph + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		sum = csum_diff32(sum, iph->saddr, src->addr[0]);
		sum = csum_diff32(sum, iph->daddr, dst->addr[0]);
		iph->check = csum_apply(iph->check, sum);
		iph->saddr = src->addr[0];
		iph->daddr = dst->addr[0];
	} else {
		ip6 = data + l3;
		if ((void *)(ip6 + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		sum = csum_diff_addr(sum, ip6->saddr.in6_u.u6_addr32, src->addr,
				     4);
		sum = csum_diff_addr(sum, ip6->daddr.in6_u.u6_addr32, dst->addr,
				     4);
		__builtin_memcpy(&ip6->saddr, src->addr, sizeof(ip6->saddr));
		__builtin_memcpy(&ip6->daddr, dst->addr, sizeof(ip6->daddr));
	}
	*acc = sum;
	return 0;
}

/* The new value of a TCP or UDP checksum (UDP: 0 stays "none"). */
static __always_inline __u16 l4_csum(__u8 proto, __u16 check, __u32 acc)
{
	__u16 c;

	if (proto == IPPROTO_UDP && !check)
		return 0;
	c = csum_apply(check, acc);
	if (proto == IPPROTO_UDP && !c)
		return 0xffff;
	return c;
}

/* Where the checksum is, in a TCP or UDP header that starts at ports. */
static __always_inline __u16 *l4_csum_field(__be16 *ports, __u8 proto)
{
	return (__u16 *)(proto == IPPROTO_TCP ? ports + 8 : ports + 3);
}

/* A TCP/UDP packet becomes src:sport -> dst:dport. 0 or a reason. */
static __always_inline __u32 nat_rewrite(struct xdp_md *ctx,
					 const struct xlb_pkt *p,
					 const struct xlb_addr *src,
					 const struct xlb_addr *dst,
					 __be16 sport, __be16 dport)
{
	void *data, *end;
	__u32 l4 = p->l4_off, acc = 0, reason;
	__be16 *ports;
	__u16 *check;

	reason = nat_rewrite_l3(ctx, p, src, dst, &acc);
	if (reason)
		return reason;
	if (l4 > XLB_L4_OFF_MAX)
		return XLB_R_DROP_INTERNAL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ports = data + l4;
	check = l4_csum_field(ports, p->proto);
	/* parse_l4 found the whole header inside the IP packet. */
	if ((void *)(check + 1) > end ||
	    (__u32)((void *)(check + 1) - data) > p->l3_off + p->l3_len)
		return XLB_R_DROP_TRUNCATED;
	acc = csum_diff16(acc, ports[0], sport);
	acc = csum_diff16(acc, ports[1], dport);
	ports[0] = sport;
	ports[1] = dport;
	*check = l4_csum(p->proto, *check, acc);
	return 0;
}

/*
 * An ICMP error: the outer packet becomes x->src -> x->dst, and its
 * quote, a packet the other way, x->dst:x->dport -> x->src:x->sport.
 * Quoted IP and L4 checksums and the ICMP checksum (ICMPv6: with its
 * pseudo-header) are updated.
 */
static __always_inline __u32 nat_icmp(struct xdp_md *ctx,
				      const struct xlb_pkt *p,
				      const struct nat_xlat *x)
{
	const struct xlb_addr *isrc = &x->dst, *idst = &x->src;
	__be16 isport = x->dport, idport = x->sport;
	__u32 l4 = p->l4_off, il4 = p->inner_l4_off;
	__u32 outer = 0, icmp = 0, inner = 0, reason;
	struct icmphdr *ih;
	struct ipv6hdr *in6;
	struct iphdr *in4;
	__be16 *ports;
	__u16 *check, c;
	void *data, *end;

	reason = nat_rewrite_l3(ctx, p, &x->src, &x->dst, &outer);
	if (reason)
		return reason;
	if (l4 > XLB_L4_OFF_MAX || il4 > XLB_L4_OFF_MAX + 128)
		return XLB_R_DROP_INTERNAL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ih = data + l4;
	if ((void *)(ih + 1) > end)
		return XLB_R_DROP_TRUNCATED;
	/* ICMPv6 sums the outer addresses too; ICMP does not. */
	if (p->family == XLB_AF_INET6)
		icmp = outer;
	if (p->family == XLB_AF_INET) {
		in4 = (void *)(ih + 1);
		if ((void *)(in4 + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		inner = csum_diff32(inner, in4->saddr, isrc->addr[0]);
		inner = csum_diff32(inner, in4->daddr, idst->addr[0]);
		c = csum_apply(in4->check, inner);
		icmp = csum_diff16(icmp + inner, in4->check, c);
		in4->check = c;
		in4->saddr = isrc->addr[0];
		in4->daddr = idst->addr[0];
	} else {
		in6 = (void *)(ih + 1);
		if ((void *)(in6 + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		inner = csum_diff_addr(inner, in6->saddr.in6_u.u6_addr32,
				       isrc->addr, 4);
		inner = csum_diff_addr(inner, in6->daddr.in6_u.u6_addr32,
				       idst->addr, 4);
		icmp += inner;
		__builtin_memcpy(&in6->saddr, isrc->addr, sizeof(in6->saddr));
		__builtin_memcpy(&in6->daddr, idst->addr, sizeof(in6->daddr));
	}
	ports = data + il4;
	if ((void *)(ports + 2) > end)
		return XLB_R_DROP_TRUNCATED;
	inner = csum_diff16(inner, ports[0], isport);
	inner = csum_diff16(inner, ports[1], idport);
	icmp = csum_diff16(icmp, ports[0], isport);
	icmp = csum_diff16(icmp, ports[1], idport);
	ports[0] = isport;
	ports[1] = idport;
	/* The quoted L4 checksum, when the quote reaches it (routers
	 * quote 8 bytes: the ports, and a UDP checksum but no TCP one).
	 * Bytes after the error's IP packet are no part of the quote. */
	check = l4_csum_field(ports, p->proto);
	if ((void *)(check + 1) <= end &&
	    (__u32)((void *)(check + 1) - data) <= p->l3_off + p->l3_len) {
		c = l4_csum(p->proto, *check, inner);
		icmp = csum_diff16(icmp, *check, c);
		*check = c;
	}
	ih->checksum = csum_apply(ih->checksum, icmp);
	return 0;
}

/* Before anything is allocated: can this packet be translated? */
static __always_inline __u32 nat_check(const struct xlb_pkt *p)
{
	/* A UDP datagram over IPv6 must carry a checksum (RFC 8200). */
	if (p->udp_no_csum && p->family == XLB_AF_INET6)
		return XLB_R_DROP_BAD_HEADER;
	return 0;
}

/*
 * Translate the packet as x says and send it on (both directions). Its
 * own frame, shared by both directions, keeps each path's stack small.
 */
static __noinline __u32 nat_send(struct xdp_md *ctx, const struct xlb_pkt *p,
				 const struct xlb_globals *g)
{
	struct nat_scratch *s = nat_scratch_get();
	struct xlb_nexthop nh = {};
	__u32 reason, route_reason;
	struct nat_xlat *x;

	if (!s)
		return XLB_R_DROP_INTERNAL;
	x = &s->x;
	/* A request's flow spreads over ECMP legs by its local port. */
	route_reason = route_real(ctx, g, x->real_id, x->real_gen,
				  (__u32)x->sport * 0x9e3779b1u, p->family,
				  &x->src, &x->dst, p->l3_len, p->tos, &nh);
	/* Translation keeps the size: the sender must fit the MTU. */
	if (route_reason == XLB_R_DROP_FRAG_NEEDED)
		return icmp_too_big(ctx, p, g, nh.mtu);
	if (route_reason && route_reason != XLB_R_PASS_NO_NEIGH)
		return route_reason;
	if (p->icmp_error)
		reason = nat_icmp(ctx, p, x);
	else
		reason = nat_rewrite(ctx, p, &x->src, &x->dst, x->sport,
				     x->dport);
	if (reason)
		return reason;
	if (x->mss && pkt_tcp_syn(p))
		tcp_clamp_mss(ctx, p->l4_off, x->mss);
	/* Without a neighbour entry the kernel forwards it (it resolves
	 * the neighbour); docs/FULLNAT.md says what that needs. */
	if (route_reason)
		return pass_to_kernel(ctx, p);
	return transmit(ctx, p, &nh);
}

/* Give back the tuple of a session that stops using it. */
static __always_inline void nat_release(const struct xlb_flow_key *key,
					const struct xlb_nat_fwd *f)
{
	struct xlb_nat_key rk = {};
	struct xlb_nat_rev *rv;
	struct xlb_real *real;

	/* The real's address names the tuple; a reused id no longer
	 * does, and the orphan is left to the sweep. */
	real = bpf_map_lookup_elem(&reals, &f->real_id);
	if (!real || real->gen != f->real_gen)
		return;
	rk.raddr = real->addr;
	rk.laddr = f->laddr;
	rk.rport = key->dport;
	rk.lport = f->lport;
	rk.proto = key->proto;
	rk.family = key->family;
	rv = bpf_map_lookup_elem(&nat_rev, &rk);
	if (rv && flow_key_eq(&rv->flow, key))
		bpf_map_delete_elem(&nat_rev, &rk);
}

/*
 * Client -> VIP, for a fullnat VIP: find or make the flow's session.
 * Returns XLB_NAT_SEND with nat_scratch.x filled, or the packet's
 * reason. Not inlined: each path gets a stack frame of its own.
 */
static __noinline __u32 nat_request(const struct xlb_pkt *p,
				    const struct xlb_vip_meta *vip,
				    const struct xlb_globals *g)
{
	struct nat_scratch *s = nat_scratch_get();
	__u64 now = bpf_ktime_get_coarse_ns();
	struct xlb_flow_key *key;
	struct xlb_nat_fwd *f;
	struct xlb_real *real;
	__u32 real_id = 0, reason, hash;
	bool new_flow = false;

	if (!s)
		return XLB_R_DROP_INTERNAL;
	reason = nat_check(p);
	if (reason)
		return reason;
	key = &s->rv.flow;
	__builtin_memset(key, 0, sizeof(*key));
	ct_key(key, p, vip->vip_id);
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
		if (f)
			nat_release(key, f);
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
		if (reason)
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
	s->x.real_id = real_id;
	s->x.real_gen = real->gen;
	return XLB_NAT_SEND;
}

/*
 * Real -> local address: a reply, or an ICMP error about a session.
 * Returns XLB_NAT_SEND with nat_scratch.x filled, or the reason.
 */
static __noinline __u32 nat_reply(const struct xlb_pkt *p,
				  const struct xlb_globals *g)
{
	struct nat_scratch *s = nat_scratch_get();
	struct xlb_flow_key *fk;
	struct xlb_nat_key *rk;
	struct xlb_nat_rev *rv;
	struct xlb_nat_fwd *f;
	__u32 reason;
	__u8 before;

	if (!s)
		return XLB_R_DROP_INTERNAL;
	reason = nat_check(p);
	if (reason)
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
	s->x.real_id = XLB_REAL_NONE;
	return XLB_NAT_SEND;
}

#endif /* XLB_BPF_NAT_H */
