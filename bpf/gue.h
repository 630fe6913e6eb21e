/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gue.h: GUE, the tunnel inside UDP. Variant 1 (direct IP): the inner
 * packet follows the UDP header at once, its version nibble (4 or 6)
 * being the variant's "01" bits, so there is no GUE header to build or
 * strip and the overhead is the UDP header alone. The source port comes
 * from the flow hash, so that routers (ECMP) and the real's NIC (RSS)
 * see one flow per client flow, which IPIP does not give them.
 */
#ifndef XLB_BPF_GUE_H
#define XLB_BPF_GUE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"

/* Source ports from the dynamic range, 49152..65535. */
#define XLB_GUE_SPORT_BASE 0xc000
#define XLB_GUE_SPORT_MASK 0x3fff

/* The UDP destination port for a VIP: 0 for plain IP-in-IP. */
static __always_inline __be16 gue_vip_port(const struct xlb_vip_meta *vip,
					   const struct xlb_globals *g)
{
	return (vip->flags & XLB_VIP_F_GUE) ? g->gue_port : 0;
}

/* What the tunnel adds to a packet, for a real of this family. */
static __always_inline __u32 tunnel_overhead(__u8 family, __be16 gue)
{
	__u32 ip = family == XLB_AF_INET ? XLB_IPV4_HDR_LEN : XLB_IPV6_HDR_LEN;

	return gue ? ip + XLB_UDP_HDR_LEN : ip;
}

/* Fill the UDP header of a GUE packet carrying inner_len bytes. The
 * checksum is 0: the inner packet carries its own (RFC 6935 allows it
 * over IPv6 for tunnels; docs/CONFIG.md). */
static __always_inline void gue_fill(struct udphdr *uh, __be16 port, __u32 hash,
				     __u32 inner_len)
{
	uh->source =
		bpf_htons(XLB_GUE_SPORT_BASE | (hash & XLB_GUE_SPORT_MASK));
	uh->dest = port;
	uh->len = bpf_htons(inner_len + XLB_UDP_HDR_LEN);
	uh->check = 0;
}

/*
 * The real's side: is the UDP datagram at pos (after an outer header)
 * GUE on port (host order)? Returns the inner ethertype, 0 when it is
 * not GUE (other UDP: the stack's), or -1 when it is cut short.
 */
static __always_inline int gue_inner(void *pos, void *end, __u16 port)
{
	struct udphdr *uh = pos;
	__u8 *first = (void *)(uh + 1);

	if ((void *)(uh + 1) > end)
		return -1;
	if (uh->dest != bpf_htons(port))
		return 0;
	if ((void *)(first + 1) > end)
		return -1;
	/* Variant 1: the first two bits are 01, an IPv4 or IPv6 header. */
	if ((*first >> 4) == 4)
		return ETH_P_IP;
	if ((*first >> 4) == 6)
		return ETH_P_IPV6;
	return 0;
}

#endif /* XLB_BPF_GUE_H */
