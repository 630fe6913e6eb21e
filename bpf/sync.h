/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sync.h: session events for cluster sync (docs/CLUSTER.md). While
 * XLB_G_F_SYNC is set, each session this node makes (a conntrack insert,
 * a new FULLNAT session), each FULLNAT session's first reply and each
 * FULLNAT session's FIN (each way) and RST is written to the
 * sync_events ring buffer for the agent.
 */
#ifndef XLB_BPF_SYNC_H
#define XLB_BPF_SYNC_H

#include "maps.h"

/* Is session sync on? The only cost of sync on the packet path when off. */
static __always_inline bool sync_on(const struct xlb_globals *g)
{
	return g->flags & XLB_G_F_SYNC;
}

static __always_inline void sync_count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&sync_stats, &stat);

	if (n)
		*n += 1;
}

/*
 * Report a session: key's flow goes to real_id (generation real_gen);
 * nat is the FULLNAT session (NULL: a tunnel flow). The event is built
 * in the ring buffer itself, so nothing of it is on the stack. Its own
 * frame: only callers with sync on pay for it.
 */
static __noinline void sync_emit(const struct xlb_flow_key *key,
				 const struct xlb_nat_fwd *nat, __u32 real_id,
				 __u32 real_gen)
{
	struct xlb_sync_event *ev;

	ev = bpf_ringbuf_reserve(&sync_events, sizeof(*ev), 0);
	if (!ev) {
		sync_count(XLB_SYNC_ST_LOST);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->flow = *key;
	ev->real_id = real_id;
	ev->real_gen = real_gen;
	ev->kind = XLB_SYNC_EV_TUNNEL;
	if (nat) {
		ev->kind = XLB_SYNC_EV_NAT;
		ev->laddr = nat->laddr;
		ev->lport = nat->lport;
		ev->state = nat->state;
	}
	bpf_ringbuf_submit(ev, 0);
	sync_count(XLB_SYNC_ST_EVENTS);
}

/* RST, or a FIN each way: the closing timeout applies (nat_timeout). */
static __always_inline bool sync_nat_closing(__u8 state)
{
	const __u8 fins = XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL;

	return (state & XLB_NAT_S_RST) || (state & fins) == fins;
}

/*
 * A packet of FULLNAT session f went by; before: its state until then.
 * A FIN or an RST it set must reach the peers' copies (the owner's among
 * them), or they stay established for the idle timeout. Each FIN is
 * reported, not only the second: a moved flow's client FIN passes one
 * node and the real's FIN the local address's owner, and the import ORs
 * the halves into a closing state everywhere. Nothing once closing. Two
 * CPUs seeing it at once both report it: the import merges.
 */
static __always_inline void sync_nat_end(const struct xlb_globals *g,
					 const struct xlb_flow_key *key,
					 const struct xlb_nat_fwd *f,
					 __u8 before)
{
	const __u8 ends = XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL |
			  XLB_NAT_S_RST;

	if (sync_on(g) && (f->state & ends) != (before & ends) &&
	    !sync_nat_closing(before))
		sync_emit(key, f, f->real_id, f->real_gen);
}

#endif /* XLB_BPF_SYNC_H */
