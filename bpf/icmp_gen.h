/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * icmp_gen.h: the path MTU errors XLB makes itself. A packet that would
 * not fit the egress MTU once encapsulated (tunnel) or translated
 * (FULLNAT) becomes, in place, an ICMP "fragmentation needed" (IPv4 with
 * DF) or an ICMPv6 "packet too big" from the address it was sent to,
 * quoting it, and goes back out of the port it came in on (XDP_TX).
 */
#ifndef XLB_BPF_ICMP_GEN_H
#define XLB_BPF_ICMP_GEN_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <stdbool.h>

#include "xlb_abi.h"
#include "csum.h"
#include "encap.h"
#include "maps.h"
#include "parse.h"

#define XLB_ICMP_HDR_LEN 8
/* As much of the packet as Linux quotes: the IPv4 error fits in 576
 * bytes (RFC 1812 4.3.2.3), the ICMPv6 one in the IPv6 minimum MTU
 * (RFC 4443 2.4 (c)). */
#define XLB_ICMP4_QUOTE_MAX (576 - XLB_IPV4_HDR_LEN - XLB_ICMP_HDR_LEN)
#define XLB_ICMP6_QUOTE_MAX (1280 - XLB_IPV6_HDR_LEN - XLB_ICMP_HDR_LEN)
#define XLB_IPV4_MIN_MTU    68
#define XLB_IPV6_MIN_MTU    1280
#define XLB_ICMP_TTL	    64
#define XLB_ICMP_TOS	    0xc0 /* internetwork control, RFC 1812 4.3.2.5 */
#define XLB_NSEC_PER_SEC    1000000000ULL

/* One more error on this CPU this second? At most g->icmp_rate. */
static __always_inline bool icmp_rate_ok(const struct xlb_globals *g)
{
	struct icmp_limit *l;
	__u32 zero = 0;
	__u64 now;

	l = bpf_map_lookup_elem(&icmp_limit, &zero);
	if (!l)
		return false;
	now = bpf_ktime_get_ns();
	if (now - l->start >= XLB_NSEC_PER_SEC) {
		l->start = now;
		l->sent = 0;
	}
	if (l->sent >= g->icmp_rate)
		return false;
	l->sent++;
	return true;
}

/* Add n bytes at *pos to *sum and step over them; n is a constant. */
static __always_inline int icmp_csum_chunk(void **pos, void *end, __u32 n,
					   __u32 *sum)
{
	__s64 r;

	if (*pos + n > end)
		return -1;
	r = bpf_csum_diff(NULL, 0, *pos, n, *sum);
	if (r < 0)
		return -1;
	*sum = r;
	*pos += n;
	return 0;
}

/*
 * Add len bytes from pos to *sum: len a multiple of 4 below 2048, taken
 * in power-of-two chunks because bpf_csum_diff() wants a size the
 * verifier can bound (and at most 512 bytes).
 */
static __always_inline int icmp_csum(void *pos, void *end, __u32 len,
				     __u32 *sum)
{
	if (len & 1024) {
		if (icmp_csum_chunk(&pos, end, 512, sum) ||
		    icmp_csum_chunk(&pos, end, 512, sum))
			return -1;
	}
	if ((len & 512) && icmp_csum_chunk(&pos, end, 512, sum))
		return -1;
	if ((len & 256) && icmp_csum_chunk(&pos, end, 256, sum))
		return -1;
	if ((len & 128) && icmp_csum_chunk(&pos, end, 128, sum))
		return -1;
	if ((len & 64) && icmp_csum_chunk(&pos, end, 64, sum))
		return -1;
	if ((len & 32) && icmp_csum_chunk(&pos, end, 32, sum))
		return -1;
	if ((len & 16) && icmp_csum_chunk(&pos, end, 16, sum))
		return -1;
	if ((len & 8) && icmp_csum_chunk(&pos, end, 8, sum))
		return -1;
	if ((len & 4) && icmp_csum_chunk(&pos, end, 4, sum))
		return -1;
	return 0;
}

/*
 * Room for hdr bytes of new IP and ICMP headers between the L2 header
 * and the packet, which is cut to its first quote bytes; the L2 header
 * (tag kept) moves to the new front with its MACs swapped, so that the
 * frame goes back to the hop it came from. The new L3 header or NULL.
 */
static __always_inline void *icmp_make_room(struct xdp_md *ctx,
					    const struct xlb_pkt *p, int hdr,
					    __u32 quote)
{
	__u32 l2 = p->vlan ? sizeof(struct ethhdr) + 4 : sizeof(struct ethhdr);
	__u8 mac[ETH_ALEN];
	struct ethhdr *eth;
	void *data, *end;
	int delta;

	if (bpf_xdp_adjust_head(ctx, -hdr))
		return NULL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + hdr + XLB_L2_MAX > end)
		return NULL;
	if (p->vlan)
		__builtin_memcpy(data, data + hdr, sizeof(struct ethhdr) + 4);
	else
		__builtin_memcpy(data, data + hdr, sizeof(struct ethhdr));
	eth = data;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	delta = (int)(l2 + hdr + quote) - (int)(end - data);
	if (delta > 0)
		return NULL;
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return NULL;
	return (void *)(long)ctx->data + l2;
}

/* IPv4: destination unreachable, fragmentation needed (RFC 792, 1191). */
static __always_inline __u32 icmp4_too_big(struct xdp_md *ctx,
					   const struct xlb_pkt *p, __u32 mtu,
					   __u32 quote)
{
	struct iphdr *iph;
	struct icmphdr *ih;
	__u32 sum = 0;
	void *end;

	iph = icmp_make_room(ctx, p, XLB_IPV4_HDR_LEN + XLB_ICMP_HDR_LEN,
			     quote);
	end = (void *)(long)ctx->data_end;
	if (!iph || (void *)iph + XLB_IPV4_HDR_LEN + XLB_ICMP_HDR_LEN > end)
		return XLB_R_DROP_INTERNAL;
	ih = (void *)iph + XLB_IPV4_HDR_LEN;
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = XLB_ICMP_TOS;
	iph->tot_len = bpf_htons(XLB_IPV4_HDR_LEN + XLB_ICMP_HDR_LEN + quote);
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = XLB_ICMP_TTL;
	iph->protocol = IPPROTO_ICMP;
	iph->check = 0;
	/* From the address the packet was sent to, back to its sender. */
	iph->saddr = p->daddr.addr[0];
	iph->daddr = p->saddr.addr[0];
	iph->check = ipv4_hdr_csum(iph);
	ih->type = ICMP_DEST_UNREACH;
	ih->code = ICMP_FRAG_NEEDED;
	ih->checksum = 0;
	ih->un.frag.__unused = 0;
	ih->un.frag.mtu = bpf_htons(mtu);
	if (icmp_csum(ih, end, XLB_ICMP_HDR_LEN + quote, &sum))
		return XLB_R_DROP_INTERNAL;
	ih->checksum = csum_fold(sum);
	return XLB_R_FWD_ICMP_TOO_BIG;
}

/* The ICMPv6 pseudo-header's sum (RFC 8200 8.1). */
static __always_inline __u32 icmp6_pseudo(const struct xlb_addr *src,
					  const struct xlb_addr *dst, __u32 len)
{
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		sum += (src->addr[i] & 0xffff) + (src->addr[i] >> 16);
		sum += (dst->addr[i] & 0xffff) + (dst->addr[i] >> 16);
	}
	return sum + bpf_htons(len) + bpf_htons(IPPROTO_ICMPV6);
}

/* IPv6: packet too big (RFC 4443 3.2). */
static __always_inline __u32 icmp6_too_big(struct xdp_md *ctx,
					   const struct xlb_pkt *p, __u32 mtu,
					   __u32 quote)
{
	__u32 len = XLB_ICMP_HDR_LEN + quote, sum;
	struct ipv6hdr *ip6;
	struct icmp6hdr *ih;
	void *end;

	ip6 = icmp_make_room(ctx, p, XLB_IPV6_HDR_LEN + XLB_ICMP_HDR_LEN,
			     quote);
	end = (void *)(long)ctx->data_end;
	if (!ip6 || (void *)ip6 + XLB_IPV6_HDR_LEN + XLB_ICMP_HDR_LEN > end)
		return XLB_R_DROP_INTERNAL;
	ih = (void *)ip6 + XLB_IPV6_HDR_LEN;
	ip6->version = 6;
	ip6->priority = 0;
	ip6->flow_lbl[0] = 0;
	ip6->flow_lbl[1] = 0;
	ip6->flow_lbl[2] = 0;
	ip6->payload_len = bpf_htons(len);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = XLB_ICMP_TTL;
	__builtin_memcpy(&ip6->saddr, p->daddr.addr, sizeof(ip6->saddr));
	__builtin_memcpy(&ip6->daddr, p->saddr.addr, sizeof(ip6->daddr));
	ih->icmp6_type = ICMPV6_PKT_TOOBIG;
	ih->icmp6_code = 0;
	ih->icmp6_cksum = 0;
	ih->icmp6_mtu = bpf_htonl(mtu);
	sum = icmp6_pseudo(&p->daddr, &p->saddr, len);
	if (icmp_csum(ih, end, len, &sum))
		return XLB_R_DROP_INTERNAL;
	ih->icmp6_cksum = csum_fold(sum);
	return XLB_R_FWD_ICMP_TOO_BIG;
}

/*
 * The packet p is too big for the egress MTU; mtu is the largest packet
 * of its own the sender may send (the egress MTU less what XLB adds).
 * Answer it with an error, or say why not: an IPv4 packet without DF
 * (may be fragmented, but XLB does not) and an ICMP error (never one
 * about another) are dropped as drop_frag_needed, as is everything when
 * icmp_rate is 0; past the rate, drop_icmp_limited.
 */
static __noinline __u32 icmp_too_big(struct xdp_md *ctx,
				     const struct xlb_pkt *p,
				     const struct xlb_globals *g, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l3 = p->l3_off, quote = p->l3_len;
	struct iphdr *iph;

	if (p->icmp_error || !g->icmp_rate)
		return XLB_R_DROP_FRAG_NEEDED;
	if (l3 > XLB_L2_MAX)
		return XLB_R_DROP_INTERNAL;
	if (p->family == XLB_AF_INET) {
		iph = data + l3;
		if ((void *)(iph + 1) > end)
			return XLB_R_DROP_TRUNCATED;
		if (!(iph->frag_off & bpf_htons(IP_DF)))
			return XLB_R_DROP_FRAG_NEEDED;
	}
	if (!icmp_rate_ok(g))
		return XLB_R_DROP_ICMP_LIMITED;
	/* The quote ends on a 4-byte boundary, for the checksum helper. */
	if (p->family == XLB_AF_INET) {
		if (quote > XLB_ICMP4_QUOTE_MAX)
			quote = XLB_ICMP4_QUOTE_MAX;
		if (mtu < XLB_IPV4_MIN_MTU)
			mtu = XLB_IPV4_MIN_MTU;
		return icmp4_too_big(ctx, p, mtu, quote & ~3u);
	}
	if (quote > XLB_ICMP6_QUOTE_MAX)
		quote = XLB_ICMP6_QUOTE_MAX;
	if (mtu < XLB_IPV6_MIN_MTU)
		mtu = XLB_IPV6_MIN_MTU;
	return icmp6_too_big(ctx, p, mtu, quote & ~3u);
}

#endif /* XLB_BPF_ICMP_GEN_H */
