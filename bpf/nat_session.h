/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_session.h: what a FULLNAT session is worth to a packet: its state
 * and clock, whether its real and its tuple still hold, the tuple given
 * back when it stops using it, and the checks made before any session
 * is looked up or made.
 */
#ifndef XLB_BPF_NAT_SESSION_H
#define XLB_BPF_NAT_SESSION_H

#include "maps.h"
#include "parse.h"
#include "reason.h"
#include "select.h"
#include "xlb_conn.h"
#include "flowcache.h"

#define XLB_NSEC_PER_SEC 1000000000ULL
/* last_seen is written at most this often: the two directions of a flow
 * run on different CPUs and would otherwise bounce its cache line. */
#define XLB_NAT_TOUCH_NS XLB_NSEC_PER_SEC

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

/* The scratch space; NULL only if the map is broken. */
static __always_inline struct nat_scratch *nat_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nat_scratch, &zero);
}

/*
 * Before anything is allocated: can this packet be translated?
 * XLB_GO_ON or the reason.
 */
static __always_inline __u32 nat_check(const struct xlb_pkt *p)
{
	/* A UDP datagram over IPv6 must carry a checksum (RFC 8200). */
	if (p->udp_no_csum && p->family == XLB_AF_INET6)
		return XLB_R_DROP_BAD_HEADER;
	return XLB_GO_ON;
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

#endif /* XLB_BPF_NAT_SESSION_H */
