// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data-path cases: one row per packet shape. Each row is built in C, run
 * through the real balancer with BPF_PROG_TEST_RUN, and checked for the
 * verdict, the one reason counter that moved, and the exact output bytes
 * (untouched, or the input behind the expected outer header, with every
 * checksum verified).
 */
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "harness.h"

#define CLIENT4 "192.0.2.10"
#define CLIENT6 "2001:db8::10"
#define VIP4	"10.100.0.1"
#define VIP6	"fd00:100::1"

enum expect_out {
	OUT_SAME,  /* forwarded to the stack or dropped: bytes untouched */
	OUT_ENCAP, /* the input behind an outer header towards real */
	/* As OUT_ENCAP, of the input as built: what the mangle added after
	 * the IP packet is cut. */
	OUT_ENCAP_BUILT,
};

struct dp_case {
	const char *name;
	struct pkt_spec in;
	void (*mangle)(struct pkt *p);
	uint32_t verdict;
	enum xlb_reason reason;
	enum expect_out out;
	const char *real; /* OUT_ENCAP */
	const char *smac; /* NULL: MACs untouched (no neighbour) */
	const char *dmac;
	const struct pkt_spec *first; /* sent (and forwarded) before in */
	const char *ifname;	      /* received by; NULL: H_IF_CLIENT */
};

/* Mangles: shapes the builder does not make on purpose. */
/* Only the Ethernet header (the kernel never gives XDP less). */
static void cut_eth(struct pkt *p)
{
	pkt_truncate(p, 14);
}

static void cut_vlan(struct pkt *p)
{
	pkt_truncate(p, 16);
}

static void cut_l3(struct pkt *p)
{
	pkt_truncate(p, p->l3_off + 10);
}

static void cut_l3_v6(struct pkt *p)
{
	pkt_truncate(p, p->l3_off + 30);
}

/* The frame ends inside TCP while the IP length says more. */
static void cut_frame_in_l4(struct pkt *p)
{
	pkt_truncate(p, p->l4_off + 10);
}

/* A consistent IPv4 packet whose L4 header is cut short. */
static void short_l4_v4(struct pkt *p)
{
	pkt_truncate(p, p->l4_off + 4);
	pkt_ip4(p)->tot_len = htons(p->len - p->l3_off);
	pkt_fix_checksums(p);
}

static void short_l4_v6(struct pkt *p)
{
	pkt_truncate(p, p->l4_off + 4);
	pkt_ip6(p)->payload_len = htons(p->len - p->l3_off - 40);
}

static void ihl_4(struct pkt *p)
{
	pkt_ip4(p)->ihl = 4;
	pkt_fix_checksums(p);
}

static void version_5(struct pkt *p)
{
	pkt_ip4(p)->version = 5;
}

static void tot_len_12(struct pkt *p)
{
	pkt_ip4(p)->tot_len = htons(12);
	pkt_fix_checksums(p);
}

static void doff_4(struct pkt *p)
{
	pkt_tcp(p)->doff = 4;
}

/* An ICMP error whose quote ends inside the quoted IP header. */
static void cut_quote(struct pkt *p)
{
	pkt_truncate(p, p->l4_off + 8 + 12);
	pkt_ip4(p)->tot_len = htons(p->len - p->l3_off);
	pkt_fix_checksums(p);
}

/* Junk after the IP packet (Ethernet padding, a trailer). */
static void add_trailer(struct pkt *p)
{
	memset(p->buf + p->len, 0xee, 8);
	p->len += 8;
}

/* The IPv4 packet ends after its header: TCP/UDP/ICMP is in a trailer. */
static void l4_in_trailer_v4(struct pkt *p)
{
	pkt_ip4(p)->tot_len = htons(pkt_ip4(p)->ihl * 4);
	pkt_ip4(p)->check = 0;
	pkt_ip4(p)->check = htons(pkt_csum(pkt_ip4(p), pkt_ip4(p)->ihl * 4));
}

/* The IPv6 packet ends after its fixed header. */
static void l4_in_trailer_v6(struct pkt *p)
{
	pkt_ip6(p)->payload_len = 0;
}

/* An IPv4 total length that ends inside the TCP header. */
static void tot_len_in_tcp(struct pkt *p)
{
	pkt_ip4(p)->tot_len = htons(pkt_ip4(p)->ihl * 4 + 10);
	pkt_ip4(p)->check = 0;
	pkt_ip4(p)->check = htons(pkt_csum(pkt_ip4(p), pkt_ip4(p)->ihl * 4));
}

/* A TCP data offset past the segment's end (options in the trailer). */
static void doff_past_segment(struct pkt *p)
{
	pkt_tcp(p)->doff = 15;
	add_trailer(p);
}

static void udp_len_long(struct pkt *p)
{
	pkt_udp(p)->len = htons(ntohs(pkt_udp(p)->len) + 4);
	add_trailer(p);
}

static void udp_len_short(struct pkt *p)
{
	pkt_udp(p)->len = htons(ntohs(pkt_udp(p)->len) - 4);
}

/* An ICMP error whose IP length ends before the quoted ports. */
static void quote_ports_in_trailer(struct pkt *p)
{
	pkt_ip4(p)->tot_len = htons(20 + 8 + 20);
	pkt_ip4(p)->check = 0;
	pkt_ip4(p)->check = htons(pkt_csum(pkt_ip4(p), 20));
}

/* The routing header of the packet has one segment left. */
static void segments_left_1(struct pkt *p)
{
	p->buf[p->l3_off + 40 + 3] = 1;
}

/* A second (inner) 802.1Q tag, VLAN 100, after the first: QinQ. */
static void add_inner_tag(struct pkt *p)
{
	uint8_t tag[4] = {0x81, 0x00, 0x00, 100};

	memmove(p->buf + 20, p->buf + 16, p->len - 16);
	memcpy(p->buf + 16, tag, 4);
	p->len += 4;
}

/* Packets quoted by ICMP errors: replies from the VIP to the client. */
static const struct pkt_spec quote_tcp4 = {
	.family = AF_INET,
	.saddr = VIP4,
	.daddr = CLIENT4,
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 40000,
	.tcp_flags = PKT_ACK,
	.df = true,
	.payload_len = 1400,
};
static const struct pkt_spec quote_udp4_noport = {
	.family = AF_INET,
	.saddr = VIP4,
	.daddr = CLIENT4,
	.proto = IPPROTO_UDP,
	.sport = 9999,
	.dport = 40000,
};
static const struct pkt_spec quote_icmp4 = {
	.family = AF_INET,
	.saddr = VIP4,
	.daddr = CLIENT4,
	.proto = IPPROTO_ICMP,
	.icmp_type = ICMP_ECHOREPLY,
};
static const struct pkt_spec quote_tcp6 = {
	.family = AF_INET6,
	.saddr = VIP6,
	.daddr = CLIENT6,
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 40001,
	.tcp_flags = PKT_ACK,
	.payload_len = 1400,
};
static const struct pkt_spec quote_udp6 = {
	.family = AF_INET6,
	.saddr = VIP6,
	.daddr = CLIENT6,
	.proto = IPPROTO_UDP,
	.sport = 53,
	.dport = 40002,
};
/* A reply "from" another VIP of ours, quoted in an error to VIP4. */
static const struct pkt_spec quote_other_vip4 = {
	.family = AF_INET,
	.saddr = "10.100.0.2",
	.daddr = CLIENT4,
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 40000,
	.tcp_flags = PKT_ACK,
};
static const struct pkt_spec quote_other_vip6 = {
	.family = AF_INET6,
	.saddr = "fd00:100::2",
	.daddr = CLIENT6,
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 40001,
	.tcp_flags = PKT_ACK,
};

#define TCP4(...)                                                   \
	{                                                           \
		.family = AF_INET, .saddr = CLIENT4, .daddr = VIP4, \
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,  \
		.tcp_flags = PKT_SYN, __VA_ARGS__                   \
	}
#define UDP4(...)                                                              \
	{                                                                      \
		.family = AF_INET, .saddr = CLIENT4, .daddr = VIP4,            \
		.proto = IPPROTO_UDP, .sport = 40000, .dport = 53, __VA_ARGS__ \
	}
#define TCP6(...)                                                    \
	{                                                            \
		.family = AF_INET6, .saddr = CLIENT6, .daddr = VIP6, \
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,   \
		.tcp_flags = PKT_SYN, __VA_ARGS__                    \
	}
#define UDP6(...)                                                              \
	{                                                                      \
		.family = AF_INET6, .saddr = CLIENT6, .daddr = VIP6,           \
		.proto = IPPROTO_UDP, .sport = 40000, .dport = 53, __VA_ARGS__ \
	}

#define TO_REAL2 H_MAC_REALS, H_MAC_REAL2

/* The flows the ICMP errors below are about, seen first. */
static const struct pkt_spec flow_tcp4 = TCP4();
static const struct pkt_spec flow_tcp6 = TCP6(.sport = 40001);
static const struct pkt_spec flow_udp6 = UDP6(.sport = 40002);

#define ICMP4(...)                                                        \
	{                                                                 \
		.family = AF_INET, .saddr = "203.0.113.1", .daddr = VIP4, \
		.proto = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH,    \
		.icmp_code = ICMP_FRAG_NEEDED, .mtu = 1400, __VA_ARGS__   \
	}
#define ICMP6(...)                                                            \
	{                                                                     \
		.family = AF_INET6, .saddr = "2001:db8:ff::1", .daddr = VIP6, \
		.proto = IPPROTO_ICMPV6, .icmp_type = ICMPV6_PKT_TOOBIG,      \
		.mtu = 1280, __VA_ARGS__                                      \
	}

static const struct dp_case cases[] = {
	/* Balanced: every family pair, TCP and UDP. */
	{"v4 tcp syn -> ipip", TCP4(), NULL, XDP_REDIRECT, XLB_R_FWD_REDIRECT,
	 OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp ack with payload -> ipip",
	 TCP4(.tcp_flags = PKT_ACK, .payload_len = 500), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp fin -> ipip", TCP4(.tcp_flags = PKT_FIN | PKT_ACK), NULL,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp tos kept in outer header", TCP4(.tos = 0xb8), NULL,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp vlan 100 balanced, leaves untagged",
	 TCP4(.vlan = true, .vlan_tci = 100), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp priority tag (vlan 0) counts as untagged",
	 TCP4(.vlan = true, .vlan_tci = 0xa000), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp ipv4 options kept",
	 TCP4(.ip_opts = {1, 1, 1, 0}, .ip_opts_len = 4), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 tcp ttl 1 forwarded as is", TCP4(.ttl = 1), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"v4 udp -> 4in6", UDP4(.payload_len = 32), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v4 udp zero checksum -> 4in6", UDP4(.udp_csum_zero = true), NULL,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v4 udp vlan -> 4in6", UDP4(.vlan = true, .vlan_tci = 7), NULL,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 tcp -> ip6ip6", TCP6(), NULL, XDP_REDIRECT, XLB_R_FWD_REDIRECT,
	 OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 tcp traffic class and flow label",
	 TCP6(.tos = 0x28, .flow_label = 0x12345), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 tcp vlan -> ip6ip6", TCP6(.vlan = true, .vlan_tci = 4000), NULL,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 tcp hop-by-hop header walked",
	 TCP6(.ext = {.type = PKT_EXT_HOPOPTS}), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 tcp destination options walked",
	 TCP6(.ext = {.type = PKT_EXT_DSTOPTS, .len = 16}), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 udp -> 6in4", UDP6(.payload_len = 100), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.2", TO_REAL2},
	{"port-0 vip, tcp port 22", TCP4(.daddr = "10.100.0.2", .dport = 22),
	 NULL, XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.3",
	 H_MAC_REALS, H_MAC_REAL3},
	{"port-0 vip, tcp port 65535",
	 TCP4(.daddr = "10.100.0.2", .dport = 65535), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "10.1.0.3", H_MAC_REALS, H_MAC_REAL3},
	{"real behind the ingress port: XDP_TX", TCP4(.daddr = "10.100.0.3"),
	 NULL, XDP_TX, XLB_R_FWD_TX, OUT_ENCAP, "10.0.0.9", H_MAC_CLIENT,
	 H_MAC_TXREAL},
	{"real without neighbour: encapsulated, to the stack",
	 TCP4(.daddr = "10.100.0.5"), NULL, XDP_PASS, XLB_R_PASS_NO_NEIGH,
	 OUT_ENCAP, "10.1.0.99", NULL, NULL},
	/* The kernel gets the frame as it would be sent (fuzzer, seed 13
	 * case 11247: a priority-tagged ICMP error went up still tagged). */
	{"real without neighbour, vlan 100 and a trailer: to the stack "
	 "untagged, without the trailer",
	 TCP4(.daddr = "10.100.0.5", .vlan = true, .vlan_tci = 100),
	 add_trailer, XDP_PASS, XLB_R_PASS_NO_NEIGH, OUT_ENCAP_BUILT,
	 "10.1.0.99", NULL, NULL},
	{"real without neighbour, priority tag: to the stack untagged",
	 TCP4(.daddr = "10.100.0.5", .vlan = true, .vlan_tci = 0xa000), NULL,
	 XDP_PASS, XLB_R_PASS_NO_NEIGH, OUT_ENCAP, "10.1.0.99", NULL, NULL},

	/* ICMP errors about a balanced flow go to that flow's real. */
	{"icmp frag needed quoting a v4 flow",
	 {.family = AF_INET,
	  .saddr = "203.0.113.1",
	  .daddr = VIP4,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_DEST_UNREACH,
	  .icmp_code = ICMP_FRAG_NEEDED,
	  .mtu = 1400,
	  .quote = &quote_tcp4},
	 NULL,
	 XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT,
	 OUT_ENCAP,
	 "10.1.0.2",
	 TO_REAL2,
	 &flow_tcp4},
	{"icmp port unreachable quoting a v4 flow",
	 {.family = AF_INET,
	  .saddr = CLIENT4,
	  .daddr = VIP4,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_DEST_UNREACH,
	  .icmp_code = ICMP_PORT_UNREACH,
	  .quote = &quote_tcp4},
	 NULL,
	 XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT,
	 OUT_ENCAP,
	 "10.1.0.2",
	 TO_REAL2,
	 &flow_tcp4},
	{"icmpv6 packet too big quoting a v6 flow",
	 {.family = AF_INET6,
	  .saddr = "2001:db8:ff::1",
	  .daddr = VIP6,
	  .proto = IPPROTO_ICMPV6,
	  .icmp_type = ICMPV6_PKT_TOOBIG,
	  .mtu = 1280,
	  .quote = &quote_tcp6,
	  .quote_len = 200},
	 NULL,
	 XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT,
	 OUT_ENCAP,
	 "fd01::2",
	 TO_REAL2,
	 &flow_tcp6},
	{"icmpv6 unreachable quoting a v6 udp flow",
	 {.family = AF_INET6,
	  .saddr = CLIENT6,
	  .daddr = VIP6,
	  .proto = IPPROTO_ICMPV6,
	  .icmp_type = ICMPV6_DEST_UNREACH,
	  .icmp_code = ICMPV6_PORT_UNREACH,
	  .quote = &quote_udp6},
	 NULL,
	 XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT,
	 OUT_ENCAP,
	 "10.1.0.2",
	 TO_REAL2,
	 &flow_udp6},
	{"icmp error quoting no VIP port",
	 {.family = AF_INET,
	  .saddr = CLIENT4,
	  .daddr = VIP4,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_DEST_UNREACH,
	  .icmp_code = ICMP_PORT_UNREACH,
	  .quote = &quote_udp4_noport},
	 NULL,
	 XDP_DROP,
	 XLB_R_DROP_ICMP_UNMATCHED,
	 OUT_SAME},
	{"icmp error quoting icmp",
	 {.family = AF_INET,
	  .saddr = CLIENT4,
	  .daddr = VIP4,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_DEST_UNREACH,
	  .icmp_code = ICMP_HOST_UNREACH,
	  .quote = &quote_icmp4},
	 NULL,
	 XDP_DROP,
	 XLB_R_DROP_ICMP_UNMATCHED,
	 OUT_SAME},
	{"icmp error with a cut quote",
	 {.family = AF_INET,
	  .saddr = CLIENT4,
	  .daddr = VIP4,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_DEST_UNREACH,
	  .icmp_code = ICMP_FRAG_NEEDED,
	  .mtu = 1400,
	  .quote = &quote_tcp4},
	 cut_quote,
	 XDP_DROP,
	 XLB_R_DROP_TRUNCATED,
	 OUT_SAME},
	{"icmp echo to a VIP passes",
	 {.family = AF_INET,
	  .saddr = CLIENT4,
	  .daddr = VIP4,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_ECHO,
	  .icmp_id = 7,
	  .icmp_seq = 1},
	 NULL,
	 XDP_PASS,
	 XLB_R_PASS_ICMP_OTHER,
	 OUT_SAME},
	{"icmpv6 echo to a VIP passes",
	 {.family = AF_INET6,
	  .saddr = CLIENT6,
	  .daddr = VIP6,
	  .proto = IPPROTO_ICMPV6,
	  .icmp_type = ICMPV6_ECHO_REQUEST,
	  .icmp_id = 7,
	  .icmp_seq = 1},
	 NULL,
	 XDP_PASS,
	 XLB_R_PASS_ICMP_OTHER,
	 OUT_SAME},

	/* Not ours: up the stack, untouched. */
	{"v4 tcp to another address", TCP4(.daddr = "10.0.0.1"), NULL, XDP_PASS,
	 XLB_R_PASS_NOT_VIP, OUT_SAME},
	{"v6 udp to another address", UDP6(.daddr = "fd00::1"), NULL, XDP_PASS,
	 XLB_R_PASS_NOT_VIP, OUT_SAME},
	{"v4 tcp to a VIP address, other port", TCP4(.dport = 81), NULL,
	 XDP_PASS, XLB_R_PASS_NOT_VIP, OUT_SAME},
	{"v4 udp to a tcp-only port-0 VIP",
	 UDP4(.daddr = "10.100.0.2", .dport = 22), NULL, XDP_PASS,
	 XLB_R_PASS_NOT_VIP, OUT_SAME},
	{"gre to a VIP address",
	 {.family = AF_INET,
	  .saddr = CLIENT4,
	  .daddr = VIP4,
	  .proto = 47,
	  .payload_len = 24},
	 NULL,
	 XDP_PASS,
	 XLB_R_PASS_NOT_VIP,
	 OUT_SAME},
	{"arp request",
	 {.family = PKT_ARP, .saddr = "10.0.0.2", .daddr = "10.0.0.1"},
	 NULL,
	 XDP_PASS,
	 XLB_R_PASS_NOT_IP,
	 OUT_SAME},
	{"lldp frame",
	 {.ethertype = 0x88cc, .payload_len = 40},
	 NULL,
	 XDP_PASS,
	 XLB_R_PASS_NOT_IP,
	 OUT_SAME},
	{"neighbour solicitation",
	 {.family = AF_INET6,
	  .saddr = "fd00::2",
	  .proto = IPPROTO_ICMPV6,
	  .icmp_type = PKT_ND_NS,
	  .nd_target = "fd00::1"},
	 NULL,
	 XDP_PASS,
	 XLB_R_PASS_NOT_VIP,
	 OUT_SAME},
	{"v4 fragment to another address",
	 TCP4(.daddr = "10.0.0.1", .mf = true), NULL, XDP_PASS,
	 XLB_R_PASS_NOT_VIP, OUT_SAME},

	/* Malformed or unbalanceable: dropped and counted. */
	{"ethernet header only, ipv4 type", TCP4(), cut_eth, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"vlan tag cut", TCP4(.vlan = true), cut_vlan, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"ipv4 header cut", TCP4(), cut_l3, XDP_DROP, XLB_R_DROP_TRUNCATED,
	 OUT_SAME},
	{"ipv6 header cut", TCP6(), cut_l3_v6, XDP_DROP, XLB_R_DROP_TRUNCATED,
	 OUT_SAME},
	{"ipv4 total length beyond the frame", TCP4(), cut_frame_in_l4,
	 XDP_DROP, XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"tcp header cut", TCP4(), short_l4_v4, XDP_DROP, XLB_R_DROP_TRUNCATED,
	 OUT_SAME},
	{"udp header cut", UDP4(), short_l4_v4, XDP_DROP, XLB_R_DROP_TRUNCATED,
	 OUT_SAME},
	{"v6 tcp header cut", TCP6(), short_l4_v6, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"ipv4 ihl 4", TCP4(), ihl_4, XDP_DROP, XLB_R_DROP_BAD_HEADER,
	 OUT_SAME},
	{"ipv4 version 5", TCP4(), version_5, XDP_DROP, XLB_R_DROP_BAD_HEADER,
	 OUT_SAME},
	{"ipv4 total length below header", TCP4(), tot_len_12, XDP_DROP,
	 XLB_R_DROP_BAD_HEADER, OUT_SAME},
	{"tcp data offset 4", TCP4(), doff_4, XDP_DROP, XLB_R_DROP_BAD_HEADER,
	 OUT_SAME},
	{"ipv4 first fragment to a VIP", TCP4(.mf = true), NULL, XDP_DROP,
	 XLB_R_DROP_FRAGMENT, OUT_SAME},
	{"ipv4 later fragment to a VIP", UDP4(.frag_off = 185), NULL, XDP_DROP,
	 XLB_R_DROP_FRAGMENT, OUT_SAME},
	{"ipv6 fragment to a VIP",
	 UDP6(.ext = {.type = PKT_EXT_FRAGMENT, .more = true, .id = 9}), NULL,
	 XDP_DROP, XLB_R_DROP_FRAGMENT, OUT_SAME},
	{"ipv4 ttl 0", TCP4(.ttl = PKT_TTL_ZERO), NULL, XDP_DROP,
	 XLB_R_DROP_TTL_ZERO, OUT_SAME},
	{"ipv6 hop limit 0", TCP6(.ttl = PKT_TTL_ZERO), NULL, XDP_DROP,
	 XLB_R_DROP_TTL_ZERO, OUT_SAME},
	{"VIP without reals", TCP4(.daddr = "10.100.0.4"), NULL, XDP_DROP,
	 XLB_R_DROP_NO_REAL, OUT_SAME},
	{"real without route", TCP4(.daddr = "10.100.0.6"), NULL, XDP_DROP,
	 XLB_R_DROP_NO_ROUTE, OUT_SAME},
	{"encapsulated frame above the egress MTU",
	 TCP4(.tcp_flags = PKT_ACK, .payload_len = 1460), NULL, XDP_DROP,
	 XLB_R_DROP_FRAG_NEEDED, OUT_SAME},

	/* Hostile input (issue 13). Only the IP packet is the packet. */
	{"v4 tcp with a trailer: forwarded without it", TCP4(), add_trailer,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP_BUILT, "10.1.0.2",
	 TO_REAL2},
	{"v6 udp vlan with a trailer: forwarded without either",
	 UDP6(.vlan = true, .vlan_tci = 100, .payload_len = 3), add_trailer,
	 XDP_REDIRECT, XLB_R_FWD_REDIRECT, OUT_ENCAP_BUILT, "10.1.0.2",
	 TO_REAL2},
	{"tcp header only in the trailer", TCP4(), l4_in_trailer_v4, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"udp header only in the trailer", UDP4(), l4_in_trailer_v4, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"v6 tcp header only in the trailer", TCP6(), l4_in_trailer_v6,
	 XDP_DROP, XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"v6 extension header only in the trailer",
	 TCP6(.ext = {.type = PKT_EXT_HOPOPTS}), l4_in_trailer_v6, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"icmp header only in the trailer", ICMP4(.quote = &quote_tcp4),
	 l4_in_trailer_v4, XDP_DROP, XLB_R_DROP_TRUNCATED, OUT_SAME,
	 .first = &flow_tcp4},
	{"icmpv6 header only in the trailer", ICMP6(.quote = &quote_tcp6),
	 l4_in_trailer_v6, XDP_DROP, XLB_R_DROP_TRUNCATED, OUT_SAME,
	 .first = &flow_tcp6},
	{"icmp quoted ports only in the trailer", ICMP4(.quote = &quote_tcp4),
	 quote_ports_in_trailer, XDP_DROP, XLB_R_DROP_TRUNCATED, OUT_SAME,
	 .first = &flow_tcp4},
	{"ipv4 total length ends inside tcp", TCP4(), tot_len_in_tcp, XDP_DROP,
	 XLB_R_DROP_TRUNCATED, OUT_SAME},
	{"tcp data offset past the segment", TCP4(), doff_past_segment,
	 XDP_DROP, XLB_R_DROP_BAD_HEADER, OUT_SAME},
	{"udp length past the datagram", UDP4(.payload_len = 8), udp_len_long,
	 XDP_DROP, XLB_R_DROP_BAD_HEADER, OUT_SAME},
	{"udp length short of the datagram", UDP4(.payload_len = 8),
	 udp_len_short, XDP_DROP, XLB_R_DROP_BAD_HEADER, OUT_SAME},

	/* Sources no client has. */
	{"source 0.0.0.0", TCP4(.saddr = "0.0.0.0"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source 0.1.2.3", TCP4(.saddr = "0.1.2.3"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source 127.0.0.1", TCP4(.saddr = "127.0.0.1"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source 224.0.0.1", UDP4(.saddr = "224.0.0.1"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source 240.0.0.1", TCP4(.saddr = "240.0.0.1"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source 255.255.255.255", UDP4(.saddr = "255.255.255.255"), NULL,
	 XDP_DROP, XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source ::", TCP6(.saddr = "::"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source ::1", TCP6(.saddr = "::1"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source ff02::1", UDP6(.saddr = "ff02::1"), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source ::ffff:192.0.2.10", TCP6(.saddr = "::ffff:192.0.2.10"), NULL,
	 XDP_DROP, XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source ::ffff:127.0.0.1", TCP6(.saddr = "::ffff:127.0.0.1"), NULL,
	 XDP_DROP, XLB_R_DROP_SRC_MARTIAN, OUT_SAME},
	{"source another VIP of ours", TCP4(.saddr = "10.100.0.2"), NULL,
	 XDP_DROP, XLB_R_DROP_SRC_OURS, OUT_SAME},
	{"source the VIP itself", TCP6(.saddr = VIP6), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_OURS, OUT_SAME},
	{"icmp error from a martian source",
	 ICMP4(.saddr = "127.0.0.1", .quote = &quote_tcp4), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_MARTIAN, OUT_SAME, .first = &flow_tcp4},
	{"tcp source port 0", TCP4(.sport = 0), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_PORT_ZERO, OUT_SAME},
	{"v6 udp source port 0", UDP6(.sport = 0), NULL, XDP_DROP,
	 XLB_R_DROP_SRC_PORT_ZERO, OUT_SAME},

	/* IPv6 source routing: the VIP is only a hop. */
	{"v6 routing header, no segments left: balanced",
	 TCP6(.ext = {.type = PKT_EXT_ROUTING}), NULL, XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, OUT_ENCAP, "fd01::2", TO_REAL2},
	{"v6 routing header with segments left",
	 TCP6(.ext = {.type = PKT_EXT_ROUTING}), segments_left_1, XDP_DROP,
	 XLB_R_DROP_IPV6_ROUTING, OUT_SAME},

	/* ICMP errors: only about flows we track, sent to the quote's source. */
	{"icmp error quoting a flow never seen", ICMP4(.quote = &quote_tcp4),
	 NULL, XDP_DROP, XLB_R_DROP_ICMP_UNMATCHED, OUT_SAME},
	{"icmpv6 error quoting a flow never seen", ICMP6(.quote = &quote_tcp6),
	 NULL, XDP_DROP, XLB_R_DROP_ICMP_UNMATCHED, OUT_SAME},
	{"icmp error to a VIP quoting another VIP's packet",
	 ICMP4(.quote = &quote_other_vip4), NULL, XDP_DROP,
	 XLB_R_DROP_ICMP_MISMATCH, OUT_SAME, .first = &flow_tcp4},
	{"icmpv6 error to a VIP quoting another address's packet",
	 ICMP6(.quote = &quote_other_vip6), NULL, XDP_DROP,
	 XLB_R_DROP_ICMP_MISMATCH, OUT_SAME, .first = &flow_tcp6},

	/* VLANs: only the ids configured for the interface the frame came
	 * in by are balanced, never QinQ. */
	{"vlan 200 (not configured) passes",
	 TCP4(.vlan = true, .vlan_tci = 200), NULL, XDP_PASS,
	 XLB_R_PASS_VLAN_OTHER, OUT_SAME},
	{"vlan 300 on the client side (the real side's only) passes",
	 TCP4(.vlan = true, .vlan_tci = 300), NULL, XDP_PASS,
	 XLB_R_PASS_VLAN_OTHER, OUT_SAME},
	{"vlan 300 on the real side balanced, leaves untagged",
	 TCP4(.vlan = true, .vlan_tci = 300), NULL, XDP_TX, XLB_R_FWD_TX,
	 OUT_ENCAP, "10.1.0.2", TO_REAL2, .ifname = H_IF_REALS},
	{"vlan 100 on the real side (the client side's only) passes",
	 TCP4(.vlan = true, .vlan_tci = 100), NULL, XDP_PASS,
	 XLB_R_PASS_VLAN_OTHER, OUT_SAME, .ifname = H_IF_REALS},
	{"priority tag (vlan 0) on the real side counts as untagged",
	 TCP4(.vlan = true, .vlan_tci = 0xa000), NULL, XDP_TX, XLB_R_FWD_TX,
	 OUT_ENCAP, "10.1.0.2", TO_REAL2, .ifname = H_IF_REALS},
	{"qinq (outer 100, inner 100) passes",
	 TCP4(.vlan = true, .vlan_tci = 100), add_inner_tag, XDP_PASS,
	 XLB_R_PASS_VLAN_OTHER, OUT_SAME},
};

/* The VIPs every table case runs against. */
static void table_setup(void)
{
	h_opt_vlan(7);
	h_opt_vlan_if(H_IF_CLIENT, 100);
	h_opt_vlan(4000);
	h_opt_vlan_if(H_IF_REALS, 300);
	h_setup();
	h_vip(VIP4 ":80/tcp", XLB_HASH_MAGLEV, 65537);
	h_real(VIP4 ":80/tcp", "10.1.0.2", 100);
	h_vip(VIP4 ":53/udp", XLB_HASH_MAGLEV, 65537);
	h_real(VIP4 ":53/udp", "fd01::2", 100);
	h_vip("[" VIP6 "]:80/tcp", XLB_HASH_MAGLEV, 65537);
	h_real("[" VIP6 "]:80/tcp", "fd01::2", 100);
	h_vip("[" VIP6 "]:53/udp", XLB_HASH_MAGLEV, 65537);
	h_real("[" VIP6 "]:53/udp", "10.1.0.2", 100);
	h_vip("10.100.0.2:0/tcp", XLB_HASH_MAGLEV, 4099);
	h_real("10.100.0.2:0/tcp", "10.1.0.3", 100);
	h_vip("10.100.0.3:80/tcp", XLB_HASH_MAGLEV, 251);
	h_real("10.100.0.3:80/tcp", "10.0.0.9", 100);
	h_vip("10.100.0.4:80/tcp", XLB_HASH_MAGLEV, 251);
	h_vip("10.100.0.5:80/tcp", XLB_HASH_MAGLEV, 251);
	h_real("10.100.0.5:80/tcp", "10.1.0.99", 100);
	h_vip("10.100.0.6:80/tcp", XLB_HASH_MAGLEV, 251);
	h_real("10.100.0.6:80/tcp", "198.51.100.1", 100);
}

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/*
 * Parameters are indices: criterion re-executes its workers, so only
 * plain data may cross; each worker reads the row from its own copy.
 */
ParameterizedTestParameters(datapath, table)
{
	static int idx[N_CASES];
	size_t i;

	for (i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(int, idx, N_CASES);
}

/* Build what the program should send for an OUT_ENCAP case. */
static void expected_encap(const struct dp_case *c, const struct pkt *in,
			   struct pkt *want)
{
	const struct pkt_spec *flow = &c->in;
	struct pkt_outer outer = {};
	struct xlb_ip real;
	char src[XLB_IP_STRLEN];
	uint16_t sport = flow->sport, dport = flow->dport;
	const char *client = flow->saddr;
	uint8_t proto = flow->proto;

	if (flow->quote) {
		/* The flow an ICMP error is about is its quote reversed. */
		client = flow->quote->daddr;
		sport = flow->quote->dport;
		dport = flow->quote->sport;
		proto = flow->quote->proto;
	}
	cr_assert_eq(xlb_ip_parse(c->real, &real), 0);
	h_tunnel_src(real.family, client, sport, dport, proto, false, src,
		     sizeof(src));
	*want = *in;
	outer.family = real.family;
	outer.saddr = src;
	outer.daddr = c->real;
	outer.ttl = 64;
	outer.tos = flow->tos;
	outer.df = true;
	outer.flow_label = h_tun_hash(client, sport, dport, proto, false) &
			   0xfffff;
	outer.smac = c->smac;
	outer.dmac = c->dmac;
	/* Forwarded frames leave untagged, and so do those handed to the
	 * kernel without a neighbour (xmit.h). */
	outer.strip_vlan = flow->vlan;
	cr_assert_eq(pkt_encap(want, &outer), 0);
}

ParameterizedTest(int *i, datapath, table, .init = table_setup,
		  .fini = h_teardown)
{
	const struct dp_case *c = &cases[*i];
	struct h_result res;
	struct pkt in, built, want;
	char why[160];

	if (c->first) {
		cr_assert_eq(pkt_build(&in, c->first), 0);
		h_run(&in, &res);
		cr_assert_eq(res.reason, XLB_R_FWD_REDIRECT,
			     "%s: first packet: %s", c->name,
			     xlb_reason_names[res.reason]);
	}
	cr_assert_eq(pkt_build(&in, &c->in), 0, "%s: cannot build", c->name);
	built = in;
	if (c->mangle)
		c->mangle(&in);
	h_run_if(&in, &res, -1, c->ifname ? c->ifname : H_IF_CLIENT);
	cr_expect_eq(res.retval, c->verdict, "%s: verdict %u, want %u", c->name,
		     res.retval, c->verdict);
	cr_expect_eq(res.reason, c->reason, "%s: reason %s, want %s", c->name,
		     xlb_reason_names[res.reason], xlb_reason_names[c->reason]);
	if (c->out == OUT_SAME) {
		want = in;
	} else {
		expected_encap(c, c->out == OUT_ENCAP_BUILT ? &built : &in,
			       &want);
		cr_expect_eq(pkt_verify_checksums(res.out, res.out_len, why,
						  sizeof(why)),
			     0, "%s: output checksums: %s", c->name, why);
	}
	if (res.out_len != want.len || memcmp(res.out, want.buf, want.len)) {
		pkt_hexdump_diff(res.out, res.out_len, want.buf, want.len);
		cr_assert_fail("%s: output differs from the expected bytes "
			       "(got %u bytes, want %zu)",
			       c->name, res.out_len, want.len);
	}
}

/* Write a sysctl of the test's own network namespace. */
static void set_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "open %s", path);
	fputs(val, f);
	cr_assert_eq(fclose(f), 0, "write %s", path);
}

/*
 * A node whose IP forwarding is off (a new host's default) cannot route
 * to a real: the packet is dropped under a reason of its own, so that the
 * operator sees the cause rather than "no route". One family off leaves
 * the other working.
 */
Test(datapath, forwarding_off, .init = table_setup, .fini = h_teardown)
{
	struct pkt_spec v4 = TCP4(), v6 = TCP6();
	struct h_result res;
	struct pkt in4, in6;

	cr_assert_eq(pkt_build(&in4, &v4), 0);
	cr_assert_eq(pkt_build(&in6, &v6), 0);
	set_sysctl("/proc/sys/net/ipv4/ip_forward", "0");
	h_run(&in4, &res);
	cr_expect_eq(res.retval, XDP_DROP);
	cr_expect_eq(res.reason, XLB_R_DROP_FORWARDING_OFF, "v4: reason %s",
		     xlb_reason_names[res.reason]);
	cr_expect(res.out_len == in4.len && !memcmp(res.out, in4.buf, in4.len),
		  "v4: the dropped packet was changed");
	h_run(&in6, &res);
	cr_expect_eq(res.retval, XDP_REDIRECT, "v6 with v6 forwarding on");
	set_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "0");
	h_run(&in6, &res);
	cr_expect_eq(res.retval, XDP_DROP);
	cr_expect_eq(res.reason, XLB_R_DROP_FORWARDING_OFF, "v6: reason %s",
		     xlb_reason_names[res.reason]);
	set_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	h_run(&in4, &res);
	cr_expect_eq(res.retval, XDP_REDIRECT, "v4 with forwarding on again");
}

/* Run a TCP SYN to VIP4 tagged with vid (0: untagged) on ifname. */
static uint32_t run_tagged(uint16_t vid, const char *ifname,
			   enum xlb_reason *reason)
{
	struct pkt_spec s = TCP4(.vlan = vid != 0, .vlan_tci = vid);
	struct h_result res;
	struct pkt in;

	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run_if(&in, &res, -1, ifname);
	*reason = res.reason;
	return res.retval;
}

/* Entries in the vlans map. */
static size_t vlan_entries(void)
{
	int fd = xlb_dp_map_fd(h_dp, "vlans");
	uint32_t key, next;
	void *prev = NULL;
	size_t n = 0;

	cr_assert_geq(fd, 0, "no vlans map");
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/*
 * What a reload does: the vlans map rewritten takes effect with the next
 * frame, an interface left out loses its entry (untagged only), and an
 * empty set removes it.
 */
Test(datapath, vlans_rewritten, .init = table_setup, .fini = h_teardown)
{
	uint64_t v200[XLB_VLAN_WORDS] = {}, v300[XLB_VLAN_WORDS] = {};
	int xt0 = (int)if_nametoindex(H_IF_CLIENT);
	int xt2 = (int)if_nametoindex(H_IF_REALS);
	enum xlb_reason r;

	v200[200 / 64] = 1ULL << (200 % 64);
	v300[300 / 64] = 1ULL << (300 % 64);
	cr_expect_eq(vlan_entries(), 2);
	cr_expect_eq(run_tagged(100, H_IF_CLIENT, &r), XDP_REDIRECT);
	cr_expect_eq(run_tagged(200, H_IF_CLIENT, &r), XDP_PASS);

	/* xt0: 100 gives way to 200; xt2: nothing (an empty set). */
	cr_assert_eq(xlb_dp_vlans_sync(h_dp,
				       (const struct xlb_dp_vlans[]){
					       {xt0, v200},
					       {xt2, NULL},
				       },
				       2),
		     0);
	cr_expect_eq(vlan_entries(), 1);
	cr_expect_eq(run_tagged(100, H_IF_CLIENT, &r), XDP_PASS);
	cr_expect_eq(r, XLB_R_PASS_VLAN_OTHER, "100 on xt0: %s",
		     xlb_reason_names[r]);
	cr_expect_eq(run_tagged(200, H_IF_CLIENT, &r), XDP_REDIRECT);
	cr_expect_eq(run_tagged(300, H_IF_REALS, &r), XDP_PASS);
	cr_expect_eq(r, XLB_R_PASS_VLAN_OTHER, "300 on xt2: %s",
		     xlb_reason_names[r]);

	/* Only xt2 named: xt0's entry goes, its untagged frames stay. */
	cr_assert_eq(xlb_dp_vlans_sync(h_dp,
				       (const struct xlb_dp_vlans[]){
					       {xt2, v300},
				       },
				       1),
		     0);
	cr_expect_eq(vlan_entries(), 1);
	cr_expect_eq(run_tagged(200, H_IF_CLIENT, &r), XDP_PASS);
	cr_expect_eq(run_tagged(0, H_IF_CLIENT, &r), XDP_REDIRECT);
	cr_expect_eq(run_tagged(300, H_IF_REALS, &r), XDP_TX);
	cr_expect_eq(r, XLB_R_FWD_TX);
}

/*
 * The outer header of a tunnelled flow, as known answers rather than
 * predicted with the hash itself: every node of a cluster must give a flow
 * the same outer source and flow label (reals' RSS, routers' ECMP), so
 * nodes of different versions must agree. A changed value is a deliberate
 * compatibility break (tests/unit/test_hash.c has the hash's own table).
 */
Test(datapath, outer_source_known_answer, .init = table_setup,
     .fini = h_teardown)
{
	static const struct {
		struct pkt_spec in;
		const char *src;
		uint32_t flow_label;
	} kat[] = {
		{TCP4(), "172.16.27.207", 0},
		{TCP6(.sport = 40003), "fc00:2::5821:df4b", 0x1df4b},
	};
	struct pkt_info info;
	struct h_result res;
	struct pkt in;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		cr_assert_eq(pkt_build(&in, &kat[i].in), 0);
		h_run(&in, &res);
		cr_assert_eq(res.reason, XLB_R_FWD_REDIRECT, "case %zu: %s", i,
			     xlb_reason_names[res.reason]);
		cr_assert_eq(pkt_parse(res.out, res.out_len, &info, why,
				       sizeof(why)),
			     0, "case %zu: %s", i, why);
		cr_assert_eq(info.n_ip, 2, "case %zu: not encapsulated", i);
		cr_expect_str_eq(info.ip[0].src, kat[i].src, "case %zu: %s", i,
				 info.ip[0].src);
		if (info.ip[0].family == AF_INET6)
			cr_expect_eq(info.ip[0].flow_label, kat[i].flow_label,
				     "case %zu: flow label 0x%05x", i,
				     info.ip[0].flow_label);
	}
}
