/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * encap.h: tunnel encapsulation towards the real. The outer header goes
 * between the Ethernet (+ VLAN) header and the untouched inner packet:
 * IPIP, IPv6-in-IPv4, IPv4-in-IPv6 or IP6IP6, by the two families.
 */
#ifndef XLB_BPF_ENCAP_H
#define XLB_BPF_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"
#include "gue.h"
#include "parse.h"
#include "reason.h"

#define XLB_TUNNEL_TTL 64
#define XLB_L2_MAX     (sizeof(struct ethhdr) + 4)

/* Outer source: the configured base with host bits from the flow hash. */
static __always_inline void encap_source(struct xlb_addr *src, __u8 family,
					 const struct xlb_globals *g,
					 __u32 hash)
{
	__be32 h = bpf_htonl(hash);

	if (family == XLB_AF_INET) {
		src->addr[0] = (g->tun_src_v4 & ~g->tun_v4_hostmask) |
			       (h & g->tun_v4_hostmask);
		src->addr[1] = 0;
		src->addr[2] = 0;
		src->addr[3] = 0;
		return;
	}
	src->addr[0] = g->tun_src_v6[0];
	src->addr[1] = g->tun_src_v6[1];
	src->addr[2] = g->tun_src_v6[2];
	src->addr[3] = (g->tun_src_v6[3] & ~g->tun_v6_hostmask) |
		       (h & g->tun_v6_hostmask);
}

/* Outer header length for a real of this family. */
static __always_inline __u32 encap_len(__u8 family)
{
	return family == XLB_AF_INET ? XLB_IPV4_HDR_LEN : XLB_IPV6_HDR_LEN;
}

/*
 * Grow the head by the outer header and move the L2 header to the new
 * front. Returns the outer L3 header or NULL.
 */
static __always_inline void *encap_make_room(struct xdp_md *ctx,
					     const struct xlb_pkt *p,
					     __u32 room, __u16 outer_proto)
{
	void *data, *data_end;
	__be16 *type;
	__u32 l3_off = p->l3_off;

	if (bpf_xdp_adjust_head(ctx, -(int)room))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + room + XLB_L2_MAX > data_end)
		return NULL;
	if (p->vlan) {
		__builtin_memmove(data, data + room, sizeof(struct ethhdr) + 4);
		l3_off = sizeof(struct ethhdr) + 4;
	} else {
		__builtin_memmove(data, data + room, sizeof(struct ethhdr));
		l3_off = sizeof(struct ethhdr);
	}
	type = data + l3_off - sizeof(*type);
	*type = bpf_htons(outer_proto);
	if (data + l3_off + room > data_end)
		return NULL;
	return data + l3_off;
}

/*
 * Encapsulate towards real; src from encap_source(); gue is the UDP
 * port of GUE, 0 for plain IP-in-IP. XLB_GO_ON or the reason.
 */
static __always_inline __u32 encap_push(struct xdp_md *ctx,
					const struct xlb_pkt *p,
					const struct xlb_real *real,
					const struct xlb_addr *src, __u32 hash,
					__be16 gue)
{
	__u8 inner = p->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	__u32 udp = gue ? XLB_UDP_HDR_LEN : 0;
	struct udphdr *uh;
	void *data_end;
	struct ipv6hdr *o6;
	struct iphdr *o4;

	if (gue)
		inner = IPPROTO_UDP;
	if (real->family == XLB_AF_INET) {
		o4 = encap_make_room(ctx, p, XLB_IPV4_HDR_LEN + udp, ETH_P_IP);
		data_end = (void *)(long)ctx->data_end;
		if (!o4 || (void *)(o4 + 1) + XLB_UDP_HDR_LEN > data_end)
			return XLB_R_DROP_INTERNAL;
		if (gue) {
			uh = (void *)(o4 + 1);
			gue_fill(uh, gue, hash, p->l3_len);
		}
		o4->version = 4;
		o4->ihl = 5;
		o4->tos = p->tos;
		o4->tot_len = bpf_htons(p->l3_len + XLB_IPV4_HDR_LEN + udp);
		o4->id = 0;
		/* DF: a too-small path shows up as an error, not fragments
		 * that the real's decap program could not reassemble. */
		o4->frag_off = bpf_htons(IP_DF);
		o4->ttl = XLB_TUNNEL_TTL;
		o4->protocol = inner;
		o4->check = 0;
		o4->saddr = src->addr[0];
		o4->daddr = real->addr.addr[0];
		o4->check = ipv4_hdr_csum(o4);
		return XLB_GO_ON;
	}
	o6 = encap_make_room(ctx, p, XLB_IPV6_HDR_LEN + udp, ETH_P_IPV6);
	data_end = (void *)(long)ctx->data_end;
	if (!o6 || (void *)(o6 + 1) + XLB_UDP_HDR_LEN > data_end)
		return XLB_R_DROP_INTERNAL;
	if (gue) {
		uh = (void *)(o6 + 1);
		gue_fill(uh, gue, hash, p->l3_len);
	}
	o6->version = 6;
	o6->priority = p->tos >> 4;
	/* The flow label spreads flows over the real's receive queues. */
	o6->flow_lbl[0] = ((p->tos & 0xf) << 4) | ((hash >> 16) & 0xf);
	o6->flow_lbl[1] = hash >> 8;
	o6->flow_lbl[2] = hash;
	o6->payload_len = bpf_htons(p->l3_len + udp);
	o6->nexthdr = inner;
	o6->hop_limit = XLB_TUNNEL_TTL;
	__builtin_memcpy(&o6->saddr, src->addr, sizeof(o6->saddr));
	__builtin_memcpy(&o6->daddr, real->addr.addr, sizeof(o6->daddr));
	return XLB_GO_ON;
}

/*
 * Write the next hop's MACs into the (already moved) Ethernet header.
 * XLB_GO_ON or the reason.
 */
static __always_inline __u32 encap_set_macs(struct xdp_md *ctx,
					    const __u8 *smac, const __u8 *dmac)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XLB_R_DROP_INTERNAL;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	return XLB_GO_ON;
}

#endif /* XLB_BPF_ENCAP_H */
