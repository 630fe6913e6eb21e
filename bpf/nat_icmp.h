/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_icmp.h: an ICMP error about a FULLNAT session, translated: the
 * outer packet and the packet it quotes, with every checksum they carry.
 */
#ifndef XLB_BPF_NAT_ICMP_H
#define XLB_BPF_NAT_ICMP_H

#include "csum.h"
#include "maps.h"
#include "nat_rewrite.h"
#include "reason.h"

/*
 * An ICMP error: the outer packet becomes x->src -> x->dst, and its
 * quote, a packet the other way, x->dst:x->dport -> x->src:x->sport.
 * Quoted IP and L4 checksums and the ICMP checksum (ICMPv6: with its
 * pseudo-header) are updated. XLB_GO_ON or the reason.
 */
static __always_inline __u32 nat_icmp(struct xdp_md *ctx,
				      const struct xlb_pkt *p,
				      const struct nat_xlat *x)
{
	const struct xlb_addr *isrc = &x->dst, *idst = &x->src;
	__be16 isport = x->dport, idport = x->sport;
	__u32 l4 = p->l4_off, il4 = p->inner_l4_off;
	__u32 outer = 0, icmp = 0, inner = 0, reason;
	struct icmphdr *ih;
	struct ipv6hdr *in6;
	struct iphdr *in4;
	__be16 *ports;
	__u16 *check, c;
	void *data, *end;

	reason = nat_rewrite_l3(ctx, p, &x->src, &x->dst, &outer);
	if (reason != XLB_GO_ON)
		return reason;
	if (l4 > XLB_L4_OFF_MAX || il4 > XLB_L4_OFF_MAX + 128)
		return XLB_R_DROP_INTERNAL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ih = data + l4;
	if ((void *)(ih + 1) > end)
		return XLB_R_DROP_TRUNCATED;
	/* ICMPv6 sums the outer addresses too; ICMP does not. */
	if (p->family == XLB_AF_INET6)
		icmp = outer;
	if (p->family == XLB_AF_INET) {
		in4 = (void *)(ih + 1);
		if ((void *)(in4 + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		inner = csum_diff32(inner, in4->saddr, isrc->addr[0]);
		inner = csum_diff32(inner, in4->daddr, idst->addr[0]);
		c = csum_apply(in4->check, inner);
		icmp = csum_diff16(icmp + inner, in4->check, c);
		in4->check = c;
		in4->saddr = isrc->addr[0];
		in4->daddr = idst->addr[0];
	} else {
		in6 = (void *)(ih + 1);
		if ((void *)(in6 + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		inner = csum_diff_addr(inner, in6->saddr.in6_u.u6_addr32,
				       isrc->addr, 4);
		inner = csum_diff_addr(inner, in6->daddr.in6_u.u6_addr32,
				       idst->addr, 4);
		icmp += inner;
		__builtin_memcpy(&in6->saddr, isrc->addr, sizeof(in6->saddr));
		__builtin_memcpy(&in6->daddr, idst->addr, sizeof(in6->daddr));
	}
	ports = data + il4;
	if ((void *)(ports + 2) > end)
		return XLB_R_DROP_TRUNCATED;
	inner = csum_diff16(inner, ports[0], isport);
	inner = csum_diff16(inner, ports[1], idport);
	icmp = csum_diff16(icmp, ports[0], isport);
	icmp = csum_diff16(icmp, ports[1], idport);
	ports[0] = isport;
	ports[1] = idport;
	/* The quoted L4 checksum, when the quote reaches it (routers
	 * quote 8 bytes: the ports, and a UDP checksum but no TCP one).
	 * Bytes after the error's IP packet are no part of the quote. */
	check = l4_csum_field(ports, p->proto);
	if ((void *)(check + 1) <= end &&
	    (__u32)((void *)(check + 1) - data) <= p->l3_off + p->l3_len) {
		c = l4_csum(p->proto, *check, inner);
		icmp = csum_diff16(icmp, *check, c);
		*check = c;
	}
	ih->checksum = csum_apply(ih->checksum, icmp);
	return XLB_GO_ON;
}

#endif /* XLB_BPF_NAT_ICMP_H */
