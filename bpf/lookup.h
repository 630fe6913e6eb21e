/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lookup.h: is this packet ours? VIP address and VIP service lookups. */
#ifndef XLB_BPF_LOOKUP_H
#define XLB_BPF_LOOKUP_H

#include "maps.h"
#include "parse.h"
#include "xlb_hash.h"

/*
 * What addr_filter says about an address: 0 when it is certainly not
 * ours, else XLB_FILTER_VIP and/or XLB_FILTER_LOCAL (maybe ours). One
 * array lookup, no hash of the key.
 */
static __always_inline __u32 addr_filter_bits(const struct xlb_addr *a)
{
	__u32 slot = xlb_addr_slot(a->addr), word = slot / 32;
	__u64 *w = bpf_map_lookup_elem(&addr_filter, &word);

	if (!w)
		return XLB_FILTER_VIP | XLB_FILTER_LOCAL;
	return (*w >> ((slot % 32) * 2)) & 3;
}

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

/* The VIP on exactly (address, port, protocol), if any. */
static __always_inline struct xlb_vip_meta *
lookup_vip_port(const struct xlb_pkt *p)
{
	struct xlb_vip_key key = {};

	key.addr = p->daddr;
	key.port = p->dport;
	key.proto = p->proto;
	key.family = p->family;
	return bpf_map_lookup_elem(&vips, &key);
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

/*
 * Is a tagged frame on a VLAN its ingress interface balances (the vlans
 * map)? proto is the type after the tag: QinQ never is. VLAN id 0 (a
 * priority tag only) counts as untagged.
 */
static __always_inline bool lookup_vlan(const struct xdp_md *ctx,
					const struct xlb_pkt *p, int proto)
{
	__u32 ifindex = ctx->ingress_ifindex, vid = p->vlan_id;
	struct xlb_vlan_set *set;
	__u64 word;

	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return false;
	if (!vid)
		return true;
	set = bpf_map_lookup_elem(&vlans, &ifindex);
	if (!set)
		return false;
	word = set->vids[(vid / 64) & (XLB_VLAN_WORDS - 1)];
	return (word >> (vid % 64)) & 1;
}

/*
 * Sources no packet to a VIP has: IPv4 0/8, 127/8, multicast, class E
 * and broadcast; IPv6 ::/96 (unspecified, loopback, IPv4-compatible),
 * IPv4-mapped ::ffff:0:0/96 (which also carries the IPv4 loopback) and
 * multicast.
 */
static __always_inline bool src_martian(const struct xlb_pkt *p)
{
	const __be32 *a = p->saddr.addr;
	__u32 first = bpf_ntohl(a[0]) >> 24;

	if (p->family == XLB_AF_INET)
		return first == 0 || first == 127 || first >= 224;
	if (first == 0xff)
		return true;
	return !a[0] && !a[1] && (!a[2] || a[2] == bpf_htonl(0xffff));
}

/*
 * Before anything is made for a packet: its source must be a possible
 * client, neither martian nor one of our own addresses (a VIP or a
 * FULLNAT local address). XLB_GO_ON or the reason.
 */
static __always_inline __u32 lookup_source(const struct xlb_pkt *p)
{
	struct xlb_vip_addr_key key = {};

	if (src_martian(p))
		return XLB_R_DROP_SRC_MARTIAN;
	/* Clients' addresses are almost never in the filter. */
	if (!addr_filter_bits(&p->saddr))
		return XLB_GO_ON;
	key.addr = p->saddr;
	key.family = p->family;
	if (bpf_map_lookup_elem(&vip_addrs, &key))
		return XLB_R_DROP_SRC_OURS;
	return XLB_GO_ON;
}

#endif /* XLB_BPF_LOOKUP_H */
