/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h: header parsing. Each parse_* stage checks bounds, fills the
 * packet descriptor, advances the cursor and returns XLB_GO_ON or the
 * packet's reason (reason.h); the next protocol, where there is one, in
 * *next.
 */
#ifndef XLB_BPF_PARSE_H
#define XLB_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <stdbool.h>

#include "xlb_abi.h"
#include "xlb_conn.h"
#include "reason.h"

#ifndef IP_DF
#define IP_DF 0x4000
#endif

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define IPV6_NEXTHDR_HOP      0
#define IPV6_NEXTHDR_ROUTING  43
#define IPV6_NEXTHDR_FRAGMENT 44
#define IPV6_NEXTHDR_DEST     60
#define IPV6_MAX_EXT_HDRS     4
#define IPV4_FRAG_MASK	      0x3fff /* MF and fragment offset */

/* TCP flags, as in byte 13 of the header. */
#define XLB_TCP_FIN	  0x01
#define XLB_TCP_SYN	  0x02
#define XLB_TCP_RST	  0x04
#define XLB_TCP_ACK	  0x10

#define XLB_VLAN_VID_MASK 0x0fff

/*
 * end is the frame's end, which the verifier knows; ip_end (an offset,
 * set by parse_ipv4/6) is the end of the IP packet, past which there may
 * be padding or junk but nothing of the packet. Every read checks both.
 */
struct cursor {
	void *start;
	void *pos;
	void *end;
	__u32 ip_end;
};

/* Are the bytes before end inside the IP packet (not in a trailer)? */
static __always_inline bool in_ip(const struct cursor *c, const void *end)
{
	return (__u32)(end - c->start) <= c->ip_end;
}

/* What the later stages need to know about a packet. */
struct xlb_pkt {
	__u32 frame_len;    /* bytes in the frame as received */
	__u32 l3_off;	    /* Ethernet (+ VLAN) header length */
	__u32 l3_len;	    /* IP packet length, padding excluded */
	__u8 family;	    /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 proto;	    /* L4 protocol of the balanced flow */
	__u8 tos;	    /* copied to the outer header */
	__u8 ttl;	    /* TTL or hop limit as received */
	__u8 fragment;	    /* IPv4 MF/offset set, or an IPv6 fragment header */
	__u8 routed;	    /* an IPv6 routing header with segments left */
	__u8 icmp_error;    /* the flow below was read from an ICMP quote */
	__u8 vlan;	    /* one 802.1Q/802.1ad tag present */
	__u16 vlan_id;	    /* its VLAN id */
	__u8 tcp_flags;	    /* byte 13 of the TCP header (XLB_TCP_*) */
	__u8 udp_no_csum;   /* a UDP datagram whose checksum field is 0 */
	__u8 local;	    /* sent to a FULLNAT local address (a reply) */
	__u16 l4_off;	    /* TCP/UDP/ICMP header, from the frame's start */
	__u16 inner_l4_off; /* ICMP error: the quoted ports */
	struct xlb_addr saddr; /* client address of the flow */
	struct xlb_addr daddr; /* VIP address of the flow */
	__be16 sport;	       /* client port */
	__be16 dport;	       /* VIP port */
};

/* A TCP SYN (or SYN-ACK): the only packet that may start a flow. */
static __always_inline bool pkt_tcp_syn(const struct xlb_pkt *p)
{
	return p->tcp_flags & XLB_TCP_SYN;
}

/* A client's opening SYN (include/xlb_conn.h: xlb_conn_tcp_open). */
static __always_inline bool pkt_tcp_open(const struct xlb_pkt *p)
{
	return xlb_conn_tcp_open(p->tcp_flags);
}

/*
 * Ethernet and at most one VLAN tag; *next is the ethertype after it
 * (host order): for QinQ, the inner tag's type.
 */
static __always_inline __u32 parse_eth(struct cursor *c, struct xlb_pkt *p,
				       int *next)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr {
		__be16 tci;
		__be16 proto;
	} * vh;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return XLB_R_DROP_TRUNCATED;
	proto = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;
	p->l3_off = sizeof(*eth);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return XLB_R_DROP_TRUNCATED;
		proto = bpf_ntohs(vh->proto);
		p->vlan_id = bpf_ntohs(vh->tci) & XLB_VLAN_VID_MASK;
		c->pos = vh + 1;
		p->l3_off += sizeof(*vh);
		p->vlan = 1;
	}
	*next = proto;
	return XLB_GO_ON;
}

/* IPv4 header with options; *next is the L4 protocol. */
static __always_inline __u32 parse_ipv4(struct cursor *c, struct xlb_pkt *p,
					int *next)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > c->end)
		return XLB_R_DROP_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return XLB_R_DROP_BAD_HEADER;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen)
		return XLB_R_DROP_BAD_HEADER;
	if (p->l3_off + tot > p->frame_len)
		return XLB_R_DROP_TRUNCATED;
	if (c->pos + hlen > c->end)
		return XLB_R_DROP_TRUNCATED;
	c->ip_end = p->l3_off + tot;
	p->family = XLB_AF_INET;
	p->l3_len = tot;
	p->tos = iph->tos;
	p->ttl = iph->ttl;
	p->fragment = (iph->frag_off & bpf_htons(IPV4_FRAG_MASK)) != 0;
	p->saddr.addr[0] = iph->saddr;
	p->daddr.addr[0] = iph->daddr;
	c->pos += hlen;
	*next = iph->protocol;
	return XLB_GO_ON;
}

/* IPv6 header and the extension headers we can skip; *next is L4. */
static __always_inline __u32 parse_ipv6(struct cursor *c, struct xlb_pkt *p,
					int *next)
{
	struct ipv6hdr *ip6h = c->pos;
	struct ipv6_opt_hdr *oh;
	__u32 tot, len;
	int nexthdr, i;

	if ((void *)(ip6h + 1) > c->end)
		return XLB_R_DROP_TRUNCATED;
	if (ip6h->version != 6)
		return XLB_R_DROP_BAD_HEADER;
	tot = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
	if (p->l3_off + tot > p->frame_len)
		return XLB_R_DROP_TRUNCATED;
	c->ip_end = p->l3_off + tot;
	p->family = XLB_AF_INET6;
	p->l3_len = tot;
	p->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
	p->ttl = ip6h->hop_limit;
	__builtin_memcpy(&p->saddr, &ip6h->saddr, sizeof(p->saddr));
	__builtin_memcpy(&p->daddr, &ip6h->daddr, sizeof(p->daddr));
	nexthdr = ip6h->nexthdr;
	c->pos = ip6h + 1;

#pragma unroll
	for (i = 0; i < IPV6_MAX_EXT_HDRS; i++) {
		if (nexthdr == IPV6_NEXTHDR_FRAGMENT) {
			p->fragment = 1;
			*next = nexthdr;
			return XLB_GO_ON;
		}
		if (nexthdr != IPV6_NEXTHDR_HOP &&
		    nexthdr != IPV6_NEXTHDR_ROUTING &&
		    nexthdr != IPV6_NEXTHDR_DEST) {
			*next = nexthdr;
			return XLB_GO_ON;
		}
		oh = c->pos;
		/* Every extension header is at least 8 bytes long. */
		if ((void *)oh + 8 > c->end || !in_ip(c, (void *)oh + 8))
			return XLB_R_DROP_TRUNCATED;
		len = (oh->hdrlen + 1) * 8;
		/* Segments left > 0: the VIP is not where the packet is
		 * going, only a hop on its way. */
		if (nexthdr == IPV6_NEXTHDR_ROUTING && ((__u8 *)oh)[3] != 0)
			p->routed = 1;
		nexthdr = oh->nexthdr;
		if (c->pos + len > c->end || !in_ip(c, c->pos + len))
			return XLB_R_DROP_TRUNCATED;
		c->pos += len;
	}
	/* More extension headers than we walk: not a flow we can balance. */
	return XLB_R_PASS_IPV6_EXT;
}

/*
 * TCP or UDP ports of the flow. The header must lie inside the IP
 * packet, and its own length agree with it: a TCP data offset within
 * the segment, a UDP length equal to the datagram's.
 */
static __always_inline __u32 parse_l4(struct cursor *c, struct xlb_pkt *p,
				      int proto)
{
	struct tcphdr *th = c->pos;
	struct udphdr *uh = c->pos;
	__u32 seg;

	p->l4_off = c->pos - c->start;
	seg = c->ip_end - p->l4_off;
	if (proto == IPPROTO_TCP) {
		if ((void *)(th + 1) > c->end || !in_ip(c, th + 1))
			return XLB_R_DROP_TRUNCATED;
		if (th->doff < 5 || th->doff * 4 > seg)
			return XLB_R_DROP_BAD_HEADER;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
	} else {
		if ((void *)(uh + 1) > c->end || !in_ip(c, uh + 1))
			return XLB_R_DROP_TRUNCATED;
		if (bpf_ntohs(uh->len) != seg)
			return XLB_R_DROP_BAD_HEADER;
		p->sport = uh->source;
		p->dport = uh->dest;
		p->udp_no_csum = !uh->check;
	}
	p->proto = proto;
	if (!p->sport)
		return XLB_R_DROP_SRC_PORT_ZERO;
	return XLB_GO_ON;
}

/*
 * The flow an ICMP error is about: the quoted packet went from the VIP to
 * the client (a reply sent by a real), so the flow is the quote reversed.
 * XLB_GO_ON when the quote names a TCP/UDP flow, or the reason.
 */
static __always_inline __u32 parse_icmp4(struct cursor *c, struct xlb_pkt *p)
{
	struct icmphdr *icmp = c->pos;
	struct iphdr *in;
	__be16 *ports;
	__u32 hlen;

	if ((void *)(icmp + 1) > c->end || !in_ip(c, icmp + 1))
		return XLB_R_DROP_TRUNCATED;
	p->l4_off = c->pos - c->start;
	if (icmp->type != ICMP_DEST_UNREACH && icmp->type != ICMP_TIME_EXCEEDED)
		return XLB_R_PASS_ICMP_OTHER;
	in = (void *)(icmp + 1);
	if ((void *)(in + 1) > c->end || !in_ip(c, in + 1))
		return XLB_R_DROP_TRUNCATED;
	if (in->version != 4 || in->ihl < 5)
		return XLB_R_DROP_BAD_HEADER;
	if (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP)
		return XLB_R_DROP_ICMP_UNMATCHED;
	/* The quoted packet came from the address the error is sent to. */
	if (in->saddr != p->daddr.addr[0])
		return XLB_R_DROP_ICMP_MISMATCH;
	hlen = in->ihl * 4;
	ports = (void *)in + hlen;
	if ((void *)(ports + 2) > c->end || !in_ip(c, ports + 2))
		return XLB_R_DROP_TRUNCATED;
	p->icmp_error = 1;
	p->inner_l4_off = (void *)ports - c->start;
	p->proto = in->protocol;
	p->saddr.addr[0] = in->daddr;
	p->daddr.addr[0] = in->saddr;
	p->sport = ports[1];
	p->dport = ports[0];
	return XLB_GO_ON;
}

static __always_inline bool addr6_is(const __be32 *w, const struct xlb_addr *a)
{
	return w[0] == a->addr[0] && w[1] == a->addr[1] && w[2] == a->addr[2] &&
	       w[3] == a->addr[3];
}

/* ICMPv6 destination unreachable / packet too big; as parse_icmp4. */
static __always_inline __u32 parse_icmp6(struct cursor *c, struct xlb_pkt *p)
{
	struct icmp6hdr *icmp = c->pos;
	struct ipv6hdr *in;
	__be16 *ports;

	if ((void *)(icmp + 1) > c->end || !in_ip(c, icmp + 1))
		return XLB_R_DROP_TRUNCATED;
	p->l4_off = c->pos - c->start;
	if (icmp->icmp6_type != ICMPV6_DEST_UNREACH &&
	    icmp->icmp6_type != ICMPV6_PKT_TOOBIG &&
	    icmp->icmp6_type != ICMPV6_TIME_EXCEED)
		return XLB_R_PASS_ICMP_OTHER;
	in = (void *)(icmp + 1);
	ports = (void *)(in + 1);
	if ((void *)(ports + 2) > c->end || !in_ip(c, ports + 2))
		return XLB_R_DROP_TRUNCATED;
	if (in->version != 6)
		return XLB_R_DROP_BAD_HEADER;
	if (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP)
		return XLB_R_DROP_ICMP_UNMATCHED;
	if (!addr6_is(in->saddr.in6_u.u6_addr32, &p->daddr))
		return XLB_R_DROP_ICMP_MISMATCH;
	p->icmp_error = 1;
	p->inner_l4_off = (void *)ports - c->start;
	p->proto = in->nexthdr;
	__builtin_memcpy(&p->saddr, &in->daddr, sizeof(p->saddr));
	__builtin_memcpy(&p->daddr, &in->saddr, sizeof(p->daddr));
	p->sport = ports[1];
	p->dport = ports[0];
	return XLB_GO_ON;
}

#endif /* XLB_BPF_PARSE_H */
