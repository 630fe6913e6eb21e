/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * select.h: which real gets the flow. Conntrack first (a flow keeps its
 * real while that real is up and is still the same real), else the VIP's
 * Maglev ring, and the choice is remembered in this CPU's table.
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

/* The real behind id, if it may take traffic. */
static __always_inline struct xlb_real *lookup_real(__u32 id)
{
	struct xlb_real *real = bpf_map_lookup_elem(&reals, &id);

	if (!real || !(real->flags & XLB_REAL_F_UP))
		return NULL;
	return real;
}

/* This CPU's conntrack table, or NULL if the agent has not made one. */
static __always_inline void *ct_table(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&ct_maps, &cpu);
}

static __always_inline void ct_key(struct xlb_flow_key *key,
				   const struct xlb_pkt *p, __u32 vip_id)
{
	key->saddr = p->saddr;
	key->vip_id = vip_id;
	key->sport = p->sport;
	key->dport = p->dport;
	key->proto = p->proto;
	key->family = p->family;
}

/* The real a tracked flow is pinned to, if it is still valid. */
static __always_inline struct xlb_real *
select_from_ct(void *ct, const struct xlb_flow_key *key, __u32 *real_id)
{
	struct xlb_ct_entry *e;
	struct xlb_real *real;

	if (!ct)
		return NULL;
	e = bpf_map_lookup_elem(ct, key);
	if (!e)
		return NULL;
	real = lookup_real(e->real_id);
	if (!real || real->gen != e->real_gen)
		return NULL;
	*real_id = e->real_id;
	return real;
}

struct ct_scan {
	struct xlb_flow_key key;
	struct xlb_ct_entry entry;
	__u32 self;
	__u32 found;
};

/* bpf_loop callback: look for the flow in CPU cpu's table. */
static long ct_scan_cpu(__u32 cpu, void *data)
{
	struct ct_scan *s = data;
	struct xlb_ct_entry *e;
	void *ct;

	if (cpu == s->self)
		return 0;
	ct = bpf_map_lookup_elem(&ct_maps, &cpu);
	if (!ct)
		return 1; /* past the last CPU */
	e = bpf_map_lookup_elem(ct, &s->key);
	if (!e)
		return 0;
	s->entry = *e;
	s->found = 1;
	return 1;
}

/*
 * A packet in the middle of a flow missed this CPU's table: the flow may
 * have been tracked on another CPU (no RSS, a queue or IRQ affinity
 * change, a packet steered elsewhere). Look there before choosing a real
 * afresh, which after a ring change would move the flow and break it.
 * Only mid-flow misses pay for this; a found entry is copied here.
 */
static __always_inline struct xlb_real *
select_from_other_cpus(void *ct, const struct xlb_flow_key *key, __u32 *real_id)
{
	struct xlb_real *real;
	struct ct_scan s = {};

	s.key = *key;
	s.self = bpf_get_smp_processor_id();
	bpf_loop(XLB_MAX_CPUS, ct_scan_cpu, &s, 0);
	if (!s.found)
		return NULL;
	real = lookup_real(s.entry.real_id);
	if (!real || real->gen != s.entry.real_gen)
		return NULL;
	if (ct)
		bpf_map_update_elem(ct, key, &s.entry, BPF_ANY);
	*real_id = s.entry.real_id;
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

/* Remember the choice; a full LRU table evicts its oldest flow. */
static __always_inline void ct_insert(void *ct, const struct xlb_flow_key *key,
				      __u32 real_id,
				      const struct xlb_real *real)
{
	struct xlb_ct_entry e = {
		.real_id = real_id,
		.real_gen = real->gen,
	};

	if (ct)
		bpf_map_update_elem(ct, key, &e, BPF_ANY);
}

#endif /* XLB_BPF_SELECT_H */
