/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * select.h: which real gets a new flow: the VIP's Maglev ring (the flow
 * hash picks the slot). Tracked flows keep theirs: conntrack.h.
 */
#ifndef XLB_BPF_SELECT_H
#define XLB_BPF_SELECT_H

#include "maps.h"
#include "parse.h"
#include "xlb_hash.h"

/* Hash of the flow as the ring sees it (ports left out for source-IP). */
static __always_inline __u32 flow_hash(const struct xlb_pkt *p, __u32 flags)
{
	__u32 ports = ((__u32)p->sport << 16) | p->dport;

	return xlb_flow_hash(p->saddr.addr, ports, p->proto,
			     flags & XLB_VIP_F_SRC_HASH);
}

/* Hash of the flow for its outer header (tunnel source, GUE port, IPv6
 * flow label): every tunnel packet computes it, hit or miss. */
static __always_inline __u32 tun_hash(const struct xlb_pkt *p, __u32 flags)
{
	__u32 ports = ((__u32)p->sport << 16) | p->dport;

	return xlb_tun_hash(p->saddr.addr, ports, p->proto,
			    flags & XLB_VIP_F_SRC_HASH);
}

/* The real behind id, if it may take traffic. */
static __always_inline struct xlb_real *lookup_real(__u32 id)
{
	struct xlb_real *real = bpf_map_lookup_elem(&reals, &id);

	if (!real || !(real->flags & XLB_REAL_F_UP))
		return NULL;
	return real;
}

/* The real the VIP's ring gives this hash, or NULL (empty ring). */
static __always_inline struct xlb_real *
select_from_ring(__u32 vip_id, __u32 hash, __u32 *real_id)
{
	__u32 slot = XLB_RING_SLOT_SIZE;
	__u32 *size, *id;
	void *ring;

	ring = bpf_map_lookup_elem(&rings, &vip_id);
	if (!ring)
		return NULL;
	size = bpf_map_lookup_elem(ring, &slot);
	if (!size || !*size)
		return NULL;
	slot = 1 + hash % *size;
	id = bpf_map_lookup_elem(ring, &slot);
	if (!id || *id == XLB_REAL_NONE)
		return NULL;
	*real_id = *id;
	return lookup_real(*id);
}

#endif /* XLB_BPF_SELECT_H */
