/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection rules shared by the data plane and the agent, so that
 * neither restates them: how a conntrack value is packed, the TCP state
 * a tunnel flow is in (seen from the client: the replies never pass the
 * balancer), the idle timeout of a tunnel flow and of a FULLNAT session
 * by protocol and state, and whether a real takes new connections.
 */
#ifndef XLB_CONN_H
#define XLB_CONN_H

#include <linux/types.h>

#include "xlb_abi.h"

#ifdef __bpf__
#define XLB_CONN_INLINE static __always_inline
#else
#define XLB_CONN_INLINE static inline
#endif

#define XLB_CONN_NSEC_PER_SEC 1000000000ULL
#define XLB_CONN_TCP	      6	   /* IPPROTO_TCP */
#define XLB_CONN_TCP_FIN      0x01 /* TCP flags, byte 13 of the header */
#define XLB_CONN_TCP_SYN      0x02
#define XLB_CONN_TCP_RST      0x04
#define XLB_CONN_TCP_ACK      0x10

/*
 * struct xlb_ct_entry is one 64-bit word (xlb_abi.h):
 *   bits  0-19  real id (max_reals is at most 2^20)
 *   bits 20-35  the low 16 bits of the real's generation
 *   bits 36-37  enum xlb_ct_state
 *   bits 38-63  last seen, in ticks of 2^30 ns (~1.07 s) of the
 *               monotonic clock; 26 bits wrap after ~2.3 years
 */
#define XLB_CT_ID_BITS	     20
#define XLB_CT_GEN_BITS	     16
#define XLB_CT_STATE_BITS    2
#define XLB_CT_TICK_BITS     26
#define XLB_CT_GEN_SHIFT     XLB_CT_ID_BITS
#define XLB_CT_STATE_SHIFT   (XLB_CT_GEN_SHIFT + XLB_CT_GEN_BITS)
#define XLB_CT_TICK_SHIFT    (XLB_CT_STATE_SHIFT + XLB_CT_STATE_BITS)
#define XLB_CT_TICK_NS_SHIFT 30

#define XLB_CT_MASK(bits)    ((1ULL << (bits)) - 1)

/*
 * A tunnel flow's state. TCP moves only forward (SYN < EST < FIN < RST);
 * every flow of another protocol stays XLB_CT_S_NEW.
 */
enum xlb_ct_state {
	XLB_CT_S_NEW = 0, /* TCP: only SYNs seen so far */
	XLB_CT_S_EST = 1, /* TCP: the client sent a segment without SYN */
	XLB_CT_S_FIN = 2, /* TCP: FIN from the client */
	XLB_CT_S_RST = 3, /* TCP: RST from the client */
};

XLB_CONN_INLINE __u32 xlb_ct_tick(__u64 now_ns)
{
	return (__u32)((now_ns >> XLB_CT_TICK_NS_SHIFT) &
		       XLB_CT_MASK(XLB_CT_TICK_BITS));
}

XLB_CONN_INLINE __u64 xlb_ct_pack(__u32 real_id, __u32 real_gen, __u32 state,
				  __u32 tick)
{
	return ((__u64)real_id & XLB_CT_MASK(XLB_CT_ID_BITS)) |
	       ((__u64)real_gen & XLB_CT_MASK(XLB_CT_GEN_BITS))
		       << XLB_CT_GEN_SHIFT |
	       ((__u64)state & XLB_CT_MASK(XLB_CT_STATE_BITS))
		       << XLB_CT_STATE_SHIFT |
	       ((__u64)tick & XLB_CT_MASK(XLB_CT_TICK_BITS))
		       << XLB_CT_TICK_SHIFT;
}

XLB_CONN_INLINE __u32 xlb_ct_real_id(__u64 v)
{
	return (__u32)(v & XLB_CT_MASK(XLB_CT_ID_BITS));
}

XLB_CONN_INLINE __u32 xlb_ct_state(__u64 v)
{
	return (__u32)((v >> XLB_CT_STATE_SHIFT) &
		       XLB_CT_MASK(XLB_CT_STATE_BITS));
}

XLB_CONN_INLINE __u32 xlb_ct_seen(__u64 v)
{
	return (__u32)(v >> XLB_CT_TICK_SHIFT);
}

/* Does the entry name this generation of its real? */
XLB_CONN_INLINE int xlb_ct_gen_is(__u64 v, __u32 real_gen)
{
	return ((v >> XLB_CT_GEN_SHIFT) & XLB_CT_MASK(XLB_CT_GEN_BITS)) ==
	       (real_gen & XLB_CT_MASK(XLB_CT_GEN_BITS));
}

/* Do two entries name the same real (id and generation)? */
XLB_CONN_INLINE int xlb_ct_same_real(__u64 a, __u64 b)
{
	return ((a ^ b) & XLB_CT_MASK(XLB_CT_STATE_SHIFT)) == 0;
}

/* The same entry with another state and clock. */
XLB_CONN_INLINE __u64 xlb_ct_with(__u64 v, __u32 state, __u32 tick)
{
	v &= XLB_CT_MASK(XLB_CT_STATE_SHIFT);
	return v | xlb_ct_pack(0, 0, state, tick);
}

/* Ticks since the entry was last seen (modulo the wrap). */
XLB_CONN_INLINE __u32 xlb_ct_idle_ticks(__u64 v, __u32 now_tick)
{
	return (now_tick - xlb_ct_seen(v)) & XLB_CT_MASK(XLB_CT_TICK_BITS);
}

/* The IPv4 table's key of an IPv4 flow (xlb_abi.h: struct xlb_flow_key4). */
XLB_CONN_INLINE void xlb_flow_key4_of(struct xlb_flow_key4 *k4,
				      const struct xlb_flow_key *k)
{
	*k4 = (struct xlb_flow_key4){
		.saddr = k->saddr.addr[0],
		.vip_id = k->vip_id,
		.sport = k->sport,
		.dport = k->dport,
		.proto = k->proto,
	};
}

/* The flow of an IPv4 table's key, as everything else names it. */
XLB_CONN_INLINE void xlb_flow_key_of4(struct xlb_flow_key *k,
				      const struct xlb_flow_key4 *k4)
{
	*k = (struct xlb_flow_key){
		.saddr.addr = {k4->saddr},
		.vip_id = k4->vip_id,
		.sport = k4->sport,
		.dport = k4->dport,
		.proto = k4->proto,
		.family = XLB_AF_INET,
	};
}

/*
 * A TCP segment that opens a connection, the only one that may make state
 * or start a connection afresh: SYN without ACK, RST or FIN (a listener
 * drops SYN+RST and SYN+FIN, so state they made would only wait for its
 * timeout). The one definition, for every part of the data plane.
 */
XLB_CONN_INLINE int xlb_conn_tcp_open(__u8 tcp_flags)
{
	return (tcp_flags & (XLB_CONN_TCP_SYN | XLB_CONN_TCP_ACK |
			     XLB_CONN_TCP_RST | XLB_CONN_TCP_FIN)) ==
	       XLB_CONN_TCP_SYN;
}

/* The state after a packet from the client with these TCP flags. */
XLB_CONN_INLINE __u32 xlb_ct_next_state(__u32 state, __u8 proto, __u8 tcp_flags)
{
	__u32 seen;

	if (proto != XLB_CONN_TCP)
		return XLB_CT_S_NEW;
	if (tcp_flags & XLB_CONN_TCP_RST)
		seen = XLB_CT_S_RST;
	else if (tcp_flags & XLB_CONN_TCP_FIN)
		seen = XLB_CT_S_FIN;
	else if (tcp_flags & XLB_CONN_TCP_SYN)
		seen = XLB_CT_S_NEW;
	else
		seen = XLB_CT_S_EST;
	return seen > state ? seen : state;
}

/* The idle timeout of a tunnel flow in this state, in seconds. */
XLB_CONN_INLINE __u32 xlb_ct_timeout(const struct xlb_globals *g, __u8 proto,
				     __u32 state)
{
	if (proto != XLB_CONN_TCP)
		return g->ct_udp_s;
	switch (state) {
	case XLB_CT_S_NEW:
		return g->ct_tcp_syn_s;
	case XLB_CT_S_EST:
		return g->ct_tcp_s;
	case XLB_CT_S_FIN:
		return g->ct_tcp_fin_s;
	default:
		return g->ct_tcp_closing_s;
	}
}

/*
 * Idle past its timeout at now_tick? Idle time is known to a tick, so
 * an entry lives its timeout to within ~1 s. A zero timeout (globals
 * not written yet) never expires.
 */
XLB_CONN_INLINE int xlb_ct_expired(const struct xlb_globals *g, __u8 proto,
				   __u64 v, __u32 now_tick)
{
	__u64 t = xlb_ct_timeout(g, proto, xlb_ct_state(v));
	__u64 idle = xlb_ct_idle_ticks(v, now_tick);

	return t && (idle << XLB_CT_TICK_NS_SHIFT) > t * XLB_CONN_NSEC_PER_SEC;
}

/* An ActiveConn (as ipvsadm counts): established, not closing. */
XLB_CONN_INLINE int xlb_ct_active(__u8 proto, __u64 v)
{
	return proto == XLB_CONN_TCP && xlb_ct_state(v) == XLB_CT_S_EST;
}

/* The idle timeout of a FULLNAT session in this state, in seconds. */
XLB_CONN_INLINE __u32 xlb_nat_timeout(const struct xlb_globals *g, __u8 proto,
				      __u8 state)
{
	const __u8 fins = XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL;

	if (proto != XLB_CONN_TCP)
		return g->nat_udp_s;
	if (!(state & XLB_NAT_S_REPLIED))
		return g->nat_tcp_syn_s;
	if ((state & XLB_NAT_S_RST) || (state & fins) == fins)
		return g->nat_tcp_closing_s;
	return g->nat_tcp_s;
}

/* A FULLNAT session that is closing: a FIN either way, or an RST. */
XLB_CONN_INLINE int xlb_nat_closing(__u8 state)
{
	return (state & (XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL |
			 XLB_NAT_S_RST)) != 0;
}

/* An ActiveConn: the real answered and nobody is closing. */
XLB_CONN_INLINE int xlb_nat_active(__u8 proto, __u8 state)
{
	return proto == XLB_CONN_TCP && (state & XLB_NAT_S_REPLIED) &&
	       !xlb_nat_closing(state);
}

/*
 * Does the real take new connections: up, not draining, weight above
 * 0? The agent keeps these fields of reals[] current; a real that is
 * only up keeps its existing flows but gets no new one.
 */
XLB_CONN_INLINE int xlb_real_takes_new(const struct xlb_real *r)
{
	return (r->flags & XLB_REAL_F_UP) &&
	       !(r->admin & (XLB_REAL_A_DRAINING | XLB_REAL_A_DOWN)) &&
	       r->weight > 0;
}

/*
 * A new connection (TCP SYN without ACK) met a tracked flow: may the
 * flow's entry keep it? Only if the entry is not closing and its real
 * still takes new connections; otherwise the connection is scheduled
 * afresh and the entry replaced (a client reusing its port after a
 * drain must not go back to the drained real). IPVS: conn_reuse_mode.
 */
XLB_CONN_INLINE int xlb_ct_keeps_new(__u64 v, const struct xlb_real *r)
{
	return xlb_ct_state(v) < XLB_CT_S_FIN && xlb_real_takes_new(r);
}

XLB_CONN_INLINE int xlb_nat_keeps_new(__u8 state, const struct xlb_real *r)
{
	return !xlb_nat_closing(state) && xlb_real_takes_new(r);
}

#endif /* XLB_CONN_H */
