/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_alloc.h: a new FULLNAT session's tuple: a free (local address,
 * port) from this CPU's range, reusing a tuple whose session is gone,
 * moved, down or idle past its timeout.
 */
#ifndef XLB_BPF_NAT_ALLOC_H
#define XLB_BPF_NAT_ALLOC_H

#include "maps.h"
#include "nat_session.h"
#include "flowcache.h"
#include "reason.h"

#define XLB_EEXIST 17

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
	if (!bpf_map_delete_elem(&nat_fwd, &fk))
		fc_moved(); /* any CPU's slot may hold the session */
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
	__u32 reason; /* XLB_GO_ON once a tuple is ours */
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
		/* The tuple's replies were another session's. */
		fc_moved();
	}
	if (ret) {
		a->reason = XLB_R_DROP_NAT_TABLE_FULL;
		return 1;
	}
	a->reason = XLB_GO_ON;
	a->tries = i + 1;
	return 1;
}

/*
 * Take a translated tuple for a new flow. The caller has put the reverse
 * entry in nat_scratch (rk with the real's side, rv complete); on success
 * it is in nat_rev and the scratch rk names it. XLB_GO_ON or the reason. Its
 * own frame: the search's stack is not added to the packet path's.
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
	if (a.reason != XLB_GO_ON)
		return a.reason;
	/* The next search starts past the ports this one used. */
	*cursor = a.cursor + (a.tries - 1) / a.n_laddrs + 1;
	return XLB_GO_ON;
}

#endif /* XLB_BPF_NAT_ALLOC_H */
