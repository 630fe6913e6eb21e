/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nexthop.h: the next hop towards a real as the agent resolved it (the
 * nexthops map, xlb_abi.h), and towards a FULLNAT session's client as
 * the session keeps it (struct xlb_nat_hop), so that an established
 * packet skips bpf_fib_lookup; the lookup (xmit.h, fib.h) stays the
 * fallback for every case the entry cannot answer.
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

/* The route epoch of the sessions' reply next hops (xlb_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_nh_epoch);
} nh_epoch SEC(".maps");

/* Keeps the compiler from moving memory accesses across it: the
 * ordering the session's hop is written and read in below. */
#define nh_barrier() asm volatile("" ::: "memory")

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
	nh->mtu = e->mtu;
	nh->resolved = XLB_NH_KEPT;
	return true;
}

/* One more packet routed by bpf_fib_lookup (enum xlb_nh_stat). */
static __always_inline void nexthop_count(__u32 k)
{
	__u64 *n = bpf_map_lookup_elem(&nexthop_stats, &k);

	if (n)
		*n += 1;
}

/*
 * route() for a packet towards a real (real_id, of generation gen): the
 * configured gateway first (it overrides every route), then the real's
 * resolved next hop, then bpf_fib_lookup. real_id XLB_REAL_NONE (no
 * real) goes straight to the lookup; a FULLNAT reply, towards a client,
 * takes route_reply() below. XLB_GO_ON or a reason, as route().
 */
static __always_inline __u32 route_real(struct xdp_md *ctx,
					const struct xlb_globals *g,
					__u32 real_id, __u32 gen, __u32 hash,
					__u8 family, const struct xlb_addr *src,
					const struct xlb_addr *dst,
					__u32 tot_len, __u8 tos,
					struct xlb_nexthop *nh)
{
	nh->resolved = 0;
	if (!(g->flags & XLB_G_F_GW_MAC) && real_id != XLB_REAL_NONE) {
		if (nexthop_cached(real_id, gen, hash, tot_len, nh))
			return XLB_GO_ON;
		nexthop_count(XLB_NH_ST_FALLBACK);
	}
	return route(ctx, g, family, src, dst, tot_len, tos, nh);
}

/* The current route epoch; 0 when nobody follows the changes. */
static __always_inline __u32 nh_epoch_cur(void)
{
	const struct xlb_nh_epoch *e;
	__u32 zero = 0;

	e = bpf_map_lookup_elem(&nh_epoch, &zero);
	return e ? *(volatile const __u32 *)&e->cur : 0;
}

/*
 * A session's reply next hop, if it is of epoch (not 0) and the packet
 * fits it: true with nh filled. Every CPU may write the hop at once
 * (reply_hop_keep): its epoch is read before and after the copy, and a
 * copy that a write may have torn (the two differ) is not used.
 */
static __always_inline bool reply_hop_cached(const struct xlb_nat_hop *h,
					     __u32 epoch, __u32 tot_len,
					     struct xlb_nexthop *nh)
{
	__u16 mtu;

	if (!epoch || *(volatile const __u32 *)&h->epoch != epoch)
		return false;
	nh_barrier();
	__builtin_memcpy(nh->smac, h->smac, sizeof(nh->smac));
	__builtin_memcpy(nh->dmac, h->dmac, sizeof(nh->dmac));
	nh->ifindex = h->ifindex;
	mtu = h->mtu;
	nh_barrier();
	if (*(volatile const __u32 *)&h->epoch != epoch)
		return false;
	nh->mtu = mtu;
	nh->resolved = XLB_NH_KEPT;
	return tot_len <= mtu;
}

/* Keep a lookup's plain forward in the session, for epoch: the epoch
 * goes to 0 first and is written last. */
static __always_inline void reply_hop_keep(struct xlb_nat_hop *h, __u32 epoch,
					   const struct xlb_nexthop *nh,
					   __u32 mtu)
{
	*(volatile __u32 *)&h->epoch = 0;
	nh_barrier();
	__builtin_memcpy(h->smac, nh->smac, sizeof(h->smac));
	__builtin_memcpy(h->dmac, nh->dmac, sizeof(h->dmac));
	h->ifindex = nh->ifindex;
	h->mtu = mtu;
	nh_barrier();
	*(volatile __u32 *)&h->epoch = epoch;
}

/*
 * route() for a FULLNAT reply (or ICMP error) towards a client, whose
 * session keeps its next hop in h: the configured gateway first, then
 * h while it is of the current epoch, else bpf_fib_lookup. Only a plain
 * forward is kept (with the lookup's MTU); every other answer (no
 * neighbour, too big, no route...) is asked again next time, with its
 * own reason. The epoch is read before the lookup: a change the lookup
 * missed comes after it, and its event moves the epoch on.
 * XLB_GO_ON or a reason, as route().
 */
static __always_inline __u32 route_reply(
	struct xdp_md *ctx, const struct xlb_globals *g, struct xlb_nat_hop *h,
	__u8 family, const struct xlb_addr *src, const struct xlb_addr *dst,
	__u32 tot_len, __u8 tos, struct xlb_nexthop *nh)
{
	__u32 epoch, reason, mtu;

	nh->resolved = 0;
	if (g->flags & XLB_G_F_GW_MAC)
		return route(ctx, g, family, src, dst, tot_len, tos, nh);
	epoch = nh_epoch_cur();
	if (reply_hop_cached(h, epoch, tot_len, nh))
		return XLB_GO_ON;
	nexthop_count(XLB_NH_ST_REPLY_LOOKUP);
	reason = fib_nexthop(ctx, family, src, dst, tot_len, tos, nh);
	if (reason != XLB_GO_ON || !epoch)
		return reason;
	mtu = fib_mtu(ctx, family, src, dst, tos);
	if (mtu)
		reply_hop_keep(h, epoch, nh, mtu);
	return XLB_GO_ON;
}

#endif /* XLB_BPF_NEXTHOP_H */
