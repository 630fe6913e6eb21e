/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lookup.h: is this packet ours? VIP address and VIP service lookups. */
#ifndef XLB_BPF_LOOKUP_H
#define XLB_BPF_LOOKUP_H

#include "maps.h"
#include "parse.h"

/*
 * Is the packet's destination ours: an address with VIPs, or a FULLNAT
 * local address (then p->local is set)? One hash lookup.
 */
static __always_inline bool lookup_vip_addr(struct xlb_pkt *p)
{
	struct xlb_vip_addr_key key = {};
	__u32 *v;

	key.addr = p->daddr;
	key.family = p->family;
	v = bpf_map_lookup_elem(&vip_addrs, &key);
	if (!v)
		return false;
	p->local = (*v & XLB_ADDR_F_LOCAL) != 0;
	return true;
}

/* The VIP for (address, port, protocol), falling back to the port-0 VIP. */
static __always_inline struct xlb_vip_meta *lookup_vip(const struct xlb_pkt *p)
{
	struct xlb_vip_key key = {};
	struct xlb_vip_meta *vip;

	key.addr = p->daddr;
	key.port = p->dport;
	key.proto = p->proto;
	key.family = p->family;
	vip = bpf_map_lookup_elem(&vips, &key);
	if (vip)
		return vip;
	key.port = 0;
	return bpf_map_lookup_elem(&vips, &key);
}

#endif /* XLB_BPF_LOOKUP_H */
