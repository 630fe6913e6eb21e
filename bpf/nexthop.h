/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nexthop.h: the next hop towards a real as the agent resolved it (the
 * nexthops map, xlb_abi.h), so that an established packet skips
 * bpf_fib_lookup; the lookup (xmit.h, fib.h) stays the fallback for
 * every case the entry cannot answer.
 */
#ifndef XLB_BPF_NEXTHOP_H
#define XLB_BPF_NEXTHOP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_hash.h"
#include "reason.h"
#include "xmit.h"

/* Sized like reals by the agent before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xlb_nh_entry);
} nexthops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_NH_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nexthop_stats SEC(".maps");

/*
 * The resolved next hop of real_id (of generation gen) for a flow of
 * this hash and a packet of tot_len bytes: true with nh filled, false
 * when the entry cannot say (none, marked stale, resolved for an earlier
 * owner of the id, a packet over its MTU: bpf_fib_lookup then gives
 * the exact reason and MTU).
 */
static __always_inline bool nexthop_cached(__u32 real_id, __u32 gen, __u32 hash,
					   __u32 tot_len,
					   struct xlb_nexthop *nh)
{
	const struct xlb_nh_entry *e;
	const struct xlb_nh_leg *leg;

	e = bpf_map_lookup_elem(&nexthops, &real_id);
	if (!e || !(e->flags & XLB_NH_F_VALID) || e->gen != gen ||
	    tot_len > e->mtu || e->n_legs > XLB_NH_LEGS)
		return false;
	/* Below n_legs already; the mask is for the verifier. */
	leg = &e->legs[xlb_nh_pick(hash, e->n_legs) & (XLB_NH_LEGS - 1)];
	__builtin_memcpy(nh->smac, leg->smac, sizeof(nh->smac));
	__builtin_memcpy(nh->dmac, leg->dmac, sizeof(nh->dmac));
	nh->ifindex = leg->ifindex;
	return true;
}

/* One more packet routed by bpf_fib_lookup for want of an entry. */
static __always_inline void nexthop_count_fallback(void)
{
	__u32 k = XLB_NH_ST_FALLBACK;
	__u64 *n = bpf_map_lookup_elem(&nexthop_stats, &k);

	if (n)
		*n += 1;
}

/*
 * route() for a packet towards a real (real_id, of generation gen): the
 * configured gateway first (it overrides every route), then the real's
 * resolved next hop, then bpf_fib_lookup. real_id XLB_REAL_NONE (a
 * FULLNAT reply, towards a client) goes straight to the lookup.
 * XLB_GO_ON or a reason, as route().
 */
static __always_inline __u32 route_real(struct xdp_md *ctx,
					const struct xlb_globals *g,
					__u32 real_id, __u32 gen, __u32 hash,
					__u8 family, const struct xlb_addr *src,
					const struct xlb_addr *dst,
					__u32 tot_len, __u8 tos,
					struct xlb_nexthop *nh)
{
	if (!(g->flags & XLB_G_F_GW_MAC) && real_id != XLB_REAL_NONE) {
		if (nexthop_cached(real_id, gen, hash, tot_len, nh))
			return XLB_GO_ON;
		nexthop_count_fallback();
	}
	return route(ctx, g, family, src, dst, tot_len, tos, nh);
}

#endif /* XLB_BPF_NEXTHOP_H */
