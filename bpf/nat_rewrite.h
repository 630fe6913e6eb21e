/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat_rewrite.h: a FULLNAT packet rewritten in place to its new
 * addresses and ports, with incremental IP and TCP/UDP checksums.
 */
#ifndef XLB_BPF_NAT_REWRITE_H
#define XLB_BPF_NAT_REWRITE_H

#include "csum.h"
#include "encap.h"
#include "parse.h"
#include "reason.h"
#include "tcp.h"

/*
 * Rewrite the IP addresses to src -> dst: header checksum updated,
 * the address differences left in *acc for the L4 checksum. XLB_GO_ON
 * or the reason.
 */
static __always_inline __u32 nat_rewrite_l3(struct xdp_md *ctx,
					    const struct xlb_pkt *p,
					    const struct xlb_addr *src,
					    const struct xlb_addr *dst,
					    __u32 *acc)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l3 = p->l3_off, sum = 0;
	struct ipv6hdr *ip6;
	struct iphdr *iph;

	if (l3 > XLB_L2_MAX)
		return XLB_R_DROP_INTERNAL;
	if (p->family == XLB_AF_INET) {
		iph = data + l3;
		if ((void *)(iph + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		sum = csum_diff32(sum, iph->saddr, src->addr[0]);
		sum = csum_diff32(sum, iph->daddr, dst->addr[0]);
		iph->check = csum_apply(iph->check, sum);
		iph->saddr = src->addr[0];
		iph->daddr = dst->addr[0];
	} else {
		ip6 = data + l3;
		if ((void *)(ip6 + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		sum = csum_diff_addr(sum, ip6->saddr.in6_u.u6_addr32, src->addr,
				     4);
		sum = csum_diff_addr(sum, ip6->daddr.in6_u.u6_addr32, dst->addr,
				     4);
		__builtin_memcpy(&ip6->saddr, src->addr, sizeof(ip6->saddr));
		__builtin_memcpy(&ip6->daddr, dst->addr, sizeof(ip6->daddr));
	}
	*acc = sum;
	return XLB_GO_ON;
}

/* The new value of a TCP or UDP checksum (UDP: 0 stays "none"). */
static __always_inline __u16 l4_csum(__u8 proto, __u16 check, __u32 acc)
{
	__u16 c;

	if (proto == IPPROTO_UDP && !check)
		return 0;
	c = csum_apply(check, acc);
	if (proto == IPPROTO_UDP && !c)
		return 0xffff;
	return c;
}

/* Where the checksum is, in a TCP or UDP header that starts at ports. */
static __always_inline __u16 *l4_csum_field(__be16 *ports, __u8 proto)
{
	return (__u16 *)(proto == IPPROTO_TCP ? ports + 8 : ports + 3);
}

/*
 * A TCP/UDP packet becomes src:sport -> dst:dport. XLB_GO_ON or the
 * reason.
 */
static __always_inline __u32 nat_rewrite(struct xdp_md *ctx,
					 const struct xlb_pkt *p,
					 const struct xlb_addr *src,
					 const struct xlb_addr *dst,
					 __be16 sport, __be16 dport)
{
	void *data, *end;
	__u32 l4 = p->l4_off, acc = 0, reason;
	__be16 *ports;
	__u16 *check;

	reason = nat_rewrite_l3(ctx, p, src, dst, &acc);
	if (reason != XLB_GO_ON)
		return reason;
	if (l4 > XLB_L4_OFF_MAX)
		return XLB_R_DROP_INTERNAL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ports = data + l4;
	check = l4_csum_field(ports, p->proto);
	/* parse_l4 found the whole header inside the IP packet. */
	if ((void *)(check + 1) > end ||
	    (__u32)((void *)(check + 1) - data) > p->l3_off + p->l3_len)
		return XLB_R_DROP_TRUNCATED;
	acc = csum_diff16(acc, ports[0], sport);
	acc = csum_diff16(acc, ports[1], dport);
	ports[0] = sport;
	ports[1] = dport;
	*check = l4_csum(p->proto, *check, acc);
	return XLB_GO_ON;
}

#endif /* XLB_BPF_NAT_REWRITE_H */
