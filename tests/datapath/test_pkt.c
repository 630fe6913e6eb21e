// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tests of the packet library itself (suite "pkt"). Frames are compared
 * with golden bytes made by an independent packet crafter (scapy 2.5,
 * pasted below), and checksums with a naive RFC 1071 sum written here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "pkt.h"

#define MAC_REAL "02:00:00:00:00:03"

/* Build spec into p, failing the test if the library refuses it. */
#define BUILD(p, spec) \
	cr_assert_eq(pkt_build((p), (spec)), 0, "pkt_build failed")

/* The frame must pass pkt_verify_checksums(); desc names the case. */
static void assert_valid(const uint8_t *buf, size_t len, const char *desc)
{
	char why[160] = "";

	cr_assert_eq(pkt_verify_checksums(buf, len, why, sizeof(why)), 0,
		     "%s: %s", desc, why);
}

/* The frame must be rejected, for a reason containing expect. */
static void assert_invalid(const uint8_t *buf, size_t len, const char *expect,
			   const char *desc)
{
	char why[160] = "";

	cr_assert_eq(pkt_verify_checksums(buf, len, why, sizeof(why)), -1,
		     "%s: accepted", desc);
	cr_assert(strstr(why, expect), "%s: reason '%s', want '%s'", desc, why,
		  expect);
}

/* got must equal want byte for byte; dump both if not. */
static void assert_bytes(const uint8_t *got, size_t glen, const uint8_t *want,
			 size_t wlen, const char *desc)
{
	if (pkt_first_diff(got, glen, want, wlen) < 0)
		return;
	pkt_hexdump_diff(got, glen, want, wlen);
	cr_assert_fail("%s: frame differs", desc);
}

/*
 * A second checksum, deliberately simple: add every byte at its weight
 * in a 64-bit sum, fold at the end.
 */
static uint16_t naive_csum(const uint8_t *b, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += i % 2 ? b[i] : (uint64_t)b[i] << 8;
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return ~sum & 0xffff;
}

/*
 * The L4 checksum of p as a naive implementation sees it: pseudo-header
 * and segment copied into one array with the checksum field zeroed.
 */
static uint16_t naive_l4_csum(const struct pkt *p, uint8_t proto, int csum_off)
{
	static uint8_t tmp[PKT_MAX + 40];
	const uint8_t *ip = p->buf + p->l3_off;
	size_t seg = p->len - p->l4_off, n = 0;
	uint16_t c;

	if (p->family == AF_INET && proto != IPPROTO_ICMP) {
		memcpy(tmp, ip + 12, 8);
		tmp[8] = 0;
		tmp[9] = proto;
		tmp[10] = seg >> 8;
		tmp[11] = seg & 0xff;
		n = 12;
	} else if (p->family == AF_INET6) {
		memcpy(tmp, ip + 8, 32);
		memset(tmp + 32, 0, 8);
		tmp[34] = seg >> 8;
		tmp[35] = seg & 0xff;
		tmp[39] = proto;
		n = 40;
	}
	memcpy(tmp + n, p->buf + p->l4_off, seg);
	tmp[n + csum_off] = 0;
	tmp[n + csum_off + 1] = 0;
	c = naive_csum(tmp, n + seg);
	if (proto == IPPROTO_UDP && !c)
		c = 0xffff;
	return c;
}

/* A big-endian 16-bit field of a frame. */
static uint16_t be16_at(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The specs the golden frames were made from. */
static const struct pkt_spec syn4_vlan = {
	.vlan = true,
	.vlan_tci = 100,
	.family = AF_INET,
	.saddr = "10.0.0.1",
	.daddr = "10.0.0.10",
	.ip_id = 1,
	.df = true,
	.proto = IPPROTO_TCP,
	.sport = 12345,
	.dport = 80,
	.seq = 1000,
	.tcp_flags = PKT_SYN,
	.mss = 1460,
};

static const struct pkt_outer ipip_out = {
	.family = AF_INET,
	.saddr = "172.16.0.1",
	.daddr = "10.1.0.2",
	.df = true,
	.smac = PKT_MAC_XLB,
	.dmac = MAC_REAL,
};

static const struct pkt_spec udp6 = {
	.family = AF_INET6,
	.saddr = "2001:db8::1",
	.daddr = "2001:db8::10",
	.flow_label = 0x12345,
	.proto = IPPROTO_UDP,
	.sport = 5000,
	.dport = 53,
	.payload = "hello",
	.payload_len = 5,
};

static const struct pkt_outer ip6ip6_out = {
	.family = AF_INET6,
	.saddr = "fc00::1",
	.daddr = "fc00::2",
	.flow_label = 0xabcde,
	.smac = PKT_MAC_XLB,
	.dmac = MAC_REAL,
};

/* A real's SYN-ACK to a client, as quoted by a router's ICMP error. */
static const struct pkt_spec synack4 = {
	.family = AF_INET,
	.saddr = "10.0.0.10",
	.daddr = "10.0.0.1",
	.ip_id = 7,
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 12345,
	.seq = 1,
	.ack = 1001,
	.tcp_flags = PKT_SYN | PKT_ACK,
	.payload_len = 100,
};

static const struct pkt_spec frag_needed = {
	.family = AF_INET,
	.saddr = "192.0.2.1",
	.daddr = "10.0.0.10",
	.proto = IPPROTO_ICMP,
	.icmp_type = ICMP_DEST_UNREACH,
	.icmp_code = ICMP_FRAG_NEEDED,
	.mtu = 1400,
	.quote = &synack4,
};

static const struct pkt_spec ack6_big = {
	.family = AF_INET6,
	.saddr = "2001:db8::10",
	.daddr = "2001:db8::1",
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 5000,
	.seq = 1,
	.ack = 2,
	.tcp_flags = PKT_ACK,
	.payload_len = 1400,
};

static const struct pkt_spec ptb6 = {
	.family = AF_INET6,
	.saddr = "2001:db8:ffff::1",
	.daddr = "2001:db8::10",
	.proto = IPPROTO_ICMPV6,
	.icmp_type = ICMPV6_PKT_TOOBIG,
	.mtu = 1280,
	.quote = &ack6_big,
};

/* Golden frames from scapy 2.5. */
static const uint8_t gold_syn4_vlan[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2c,
	0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x26, 0xc1, 0x0a, 0x00, 0x00,
	0x01, 0x0a, 0x00, 0x00, 0x0a, 0x30, 0x39, 0x00, 0x50, 0x00, 0x00,
	0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0xff, 0xff, 0x4f,
	0xab, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
};

static const uint8_t gold_syn4_ipip[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x40, 0x00, 0x00,
	0x40, 0x00, 0x40, 0x04, 0x84, 0xa6, 0xac, 0x10, 0x00, 0x01, 0x0a, 0x01,
	0x00, 0x02, 0x45, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06,
	0x26, 0xc1, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x0a, 0x30, 0x39,
	0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02,
	0xff, 0xff, 0x4f, 0xab, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
};

static const uint8_t gold_udp6[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd, 0x60, 0x01, 0x23, 0x45, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x13, 0x88, 0x00, 0x35, 0x00, 0x0d,
	0x4c, 0xc2, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static const uint8_t gold_udp6_ip6ip6[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x86, 0xdd, 0x60, 0x0a, 0xbc, 0xde, 0x00, 0x35, 0x29, 0x40, 0xfc, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x60, 0x01, 0x23, 0x45, 0x00, 0x0d,
	0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x13, 0x88,
	0x00, 0x35, 0x00, 0x0d, 0x4c, 0xc2, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static const uint8_t gold_frag_needed[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
	0xae, 0xba, 0xc0, 0x00, 0x02, 0x01, 0x0a, 0x00, 0x00, 0x0a, 0x03, 0x04,
	0xc6, 0xf9, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x00, 0x8c, 0x00, 0x07,
	0x00, 0x00, 0x40, 0x06, 0x66, 0x5b, 0x0a, 0x00, 0x00, 0x0a, 0x0a, 0x00,
	0x00, 0x01, 0x00, 0x50, 0x30, 0x39, 0x00, 0x00, 0x00, 0x01,
};

/* Every kind of frame the library builds, for the table tests. */
struct spec_case {
	const char *desc;
	const struct pkt_spec *spec;
};

static const struct spec_case all_kinds[] = {
	{"tcp4 syn vlan", &syn4_vlan},
	{"tcp4 ack odd payload",
	 &(const struct pkt_spec){.family = AF_INET,
				  .saddr = "198.51.100.7",
				  .daddr = "10.0.0.10",
				  .ttl = 3,
				  .tos = 0xb8,
				  .proto = IPPROTO_TCP,
				  .sport = 40000,
				  .dport = 443,
				  .seq = 0xfffffff0,
				  .ack = 77,
				  .tcp_flags = PKT_ACK | PKT_PSH,
				  .payload_len = 333}},
	{"tcp4 fin rst",
	 &(const struct pkt_spec){.family = AF_INET,
				  .saddr = "10.0.0.1",
				  .daddr = "10.0.0.10",
				  .proto = IPPROTO_TCP,
				  .sport = 1,
				  .dport = 2,
				  .tcp_flags = PKT_FIN | PKT_RST}},
	{"udp4", &(const struct pkt_spec){.family = AF_INET,
					  .saddr = "10.0.0.1",
					  .daddr = "10.0.0.10",
					  .proto = IPPROTO_UDP,
					  .sport = 53,
					  .dport = 53,
					  .payload_len = 64}},
	{"udp4 zero checksum", &(const struct pkt_spec){.family = AF_INET,
							.saddr = "10.0.0.1",
							.daddr = "10.0.0.10",
							.proto = IPPROTO_UDP,
							.sport = 4789,
							.dport = 4789,
							.udp_csum_zero = true,
							.payload_len = 9}},
	{"ipv4 options", &(const struct pkt_spec){.family = AF_INET,
						  .saddr = "10.0.0.1",
						  .daddr = "10.0.0.10",
						  .ip_opts = {0x94, 4, 0, 0, 1},
						  .ip_opts_len = 5,
						  .proto = IPPROTO_UDP,
						  .sport = 7,
						  .dport = 7,
						  .payload_len = 3}},
	{"ipv4 first fragment", &(const struct pkt_spec){.family = AF_INET,
							 .saddr = "10.0.0.1",
							 .daddr = "10.0.0.10",
							 .mf = true,
							 .ip_id = 99,
							 .proto = IPPROTO_UDP,
							 .sport = 1,
							 .dport = 2,
							 .payload_len = 64}},
	{"ipv4 later fragment", &(const struct pkt_spec){.family = AF_INET,
							 .saddr = "10.0.0.1",
							 .daddr = "10.0.0.10",
							 .frag_off = 9,
							 .ip_id = 99,
							 .proto = IPPROTO_UDP,
							 .payload_len = 20}},
	{"icmp4 echo", &(const struct pkt_spec){.family = AF_INET,
						.saddr = "10.0.0.1",
						.daddr = "10.0.0.10",
						.proto = IPPROTO_ICMP,
						.icmp_type = ICMP_ECHO,
						.icmp_id = 0x1234,
						.icmp_seq = 1,
						.payload_len = 57}},
	{"icmp4 frag needed", &frag_needed},
	{"icmp4 time exceeded vlan",
	 &(const struct pkt_spec){.vlan = true,
				  .vlan_tci = 7,
				  .family = AF_INET,
				  .saddr = "192.0.2.1",
				  .daddr = "10.0.0.10",
				  .proto = IPPROTO_ICMP,
				  .icmp_type = ICMP_TIME_EXCEEDED,
				  .quote = &synack4,
				  .quote_len = 120}},
	{"tcp6", &(const struct pkt_spec){.family = AF_INET6,
					  .saddr = "2001:db8::1",
					  .daddr = "2001:db8::10",
					  .tos = 0x28,
					  .flow_label = 1,
					  .proto = IPPROTO_TCP,
					  .sport = 5000,
					  .dport = 80,
					  .tcp_flags = PKT_SYN,
					  .mss = 1440,
					  .payload_len = 11}},
	{"udp6", &udp6},
	{"udp6 hop-by-hop",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "2001:db8::1",
				  .daddr = "2001:db8::10",
				  .ext = {.type = PKT_EXT_HOPOPTS, .len = 16},
				  .proto = IPPROTO_UDP,
				  .sport = 1,
				  .dport = 2,
				  .payload_len = 31}},
	{"tcp6 routing",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "2001:db8::1",
				  .daddr = "2001:db8::10",
				  .ext = {.type = PKT_EXT_ROUTING},
				  .proto = IPPROTO_TCP,
				  .sport = 1,
				  .dport = 2}},
	{"udp6 fragment",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "2001:db8::1",
				  .daddr = "2001:db8::10",
				  .ext = {.type = PKT_EXT_FRAGMENT,
					  .frag_off = 2,
					  .more = true,
					  .id = 0xdeadbeef},
				  .proto = IPPROTO_UDP,
				  .payload_len = 16}},
	{"icmp6 echo",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "2001:db8::1",
				  .daddr = "2001:db8::10",
				  .proto = IPPROTO_ICMPV6,
				  .icmp_type = ICMPV6_ECHO_REQUEST,
				  .icmp_id = 9,
				  .icmp_seq = 10,
				  .payload_len = 13}},
	{"icmp6 packet too big", &ptb6},
	{"icmp6 dest unreachable",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "2001:db8:ffff::1",
				  .daddr = "2001:db8::10",
				  .proto = IPPROTO_ICMPV6,
				  .icmp_type = ICMPV6_DEST_UNREACH,
				  .icmp_code = 4,
				  .quote = &udp6}},
	{"nd solicitation",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "fe80::1",
				  .proto = IPPROTO_ICMPV6,
				  .icmp_type = PKT_ND_NS,
				  .nd_target = "2001:db8::10"}},
	{"nd advertisement",
	 &(const struct pkt_spec){.family = AF_INET6,
				  .saddr = "fe80::2",
				  .daddr = "fe80::1",
				  .proto = IPPROTO_ICMPV6,
				  .icmp_type = PKT_ND_NA,
				  .nd_target = "2001:db8::10"}},
	{"gre4 opaque", &(const struct pkt_spec){.family = AF_INET,
						 .saddr = "10.0.0.1",
						 .daddr = "10.0.0.10",
						 .proto = IPPROTO_GRE,
						 .payload_len = 24}},
	{"arp request", &(const struct pkt_spec){.family = PKT_ARP,
						 .saddr = "10.0.0.1",
						 .daddr = "10.0.0.10"}},
	{"lldp",
	 &(const struct pkt_spec){.ethertype = 0x88cc, .payload_len = 46}},
};

#define N_KINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))

/* The spec of all_kinds named desc. */
static const struct pkt_spec *kind(const char *desc)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++)
		if (!strcmp(all_kinds[i].desc, desc))
			return all_kinds[i].spec;
	cr_assert_fail("no kind '%s'", desc);
	return NULL;
}

/* A VLAN-tagged TCP SYN with MSS, byte for byte as scapy makes it. */
Test(pkt, golden_tcp4_syn_vlan)
{
	struct pkt p;

	BUILD(&p, &syn4_vlan);
	assert_bytes(p.buf, p.len, gold_syn4_vlan, sizeof(gold_syn4_vlan),
		     "syn4 vlan");
	cr_assert_eq(p.l3_off, 18);
	cr_assert_eq(p.l4_off, 38);
	cr_assert_eq(p.payload_off, 62);
	assert_valid(p.buf, p.len, "syn4 vlan");
}

/* The same SYN in IPIP, as the balancer should send it to a real. */
Test(pkt, golden_ipip_encap)
{
	struct pkt p;

	BUILD(&p, &syn4_vlan);
	cr_assert_eq(pkt_encap(&p, &ipip_out), 0);
	assert_bytes(p.buf, p.len, gold_syn4_ipip, sizeof(gold_syn4_ipip),
		     "syn4 ipip");
	cr_assert_eq(p.l3_off, 18);
	cr_assert_eq(p.inner_l3_off, 38);
	cr_assert_eq(p.l4_off, 58);
	cr_assert_eq(p.family, AF_INET);
	assert_valid(p.buf, p.len, "syn4 ipip");
}

/* IPv6 UDP with a flow label, bare and in an IP6IP6 tunnel. */
Test(pkt, golden_udp6_and_ip6ip6)
{
	struct pkt p;

	BUILD(&p, &udp6);
	assert_bytes(p.buf, p.len, gold_udp6, sizeof(gold_udp6), "udp6");
	cr_assert_eq(pkt_encap(&p, &ip6ip6_out), 0);
	assert_bytes(p.buf, p.len, gold_udp6_ip6ip6, sizeof(gold_udp6_ip6ip6),
		     "udp6 ip6ip6");
	assert_valid(p.buf, p.len, "udp6 ip6ip6");
}

/* Fragmentation needed, quoting a SYN-ACK's header and 8 bytes. */
Test(pkt, golden_icmp4_frag_needed)
{
	struct pkt p, orig;

	BUILD(&p, &frag_needed);
	assert_bytes(p.buf, p.len, gold_frag_needed, sizeof(gold_frag_needed),
		     "frag needed");
	/* The quote is the original's IP header and first 8 L4 bytes. */
	BUILD(&orig, &synack4);
	cr_assert_eq(p.len - p.payload_off, 28);
	cr_assert_eq(memcmp(p.buf + p.payload_off, orig.buf + orig.l3_off, 28),
		     0);
	cr_assert_eq(be16_at(p.buf + p.l4_off + 6), 1400);
}

/* Packet too big quoting a 1460-byte packet: cut to fit 1280. */
Test(pkt, golden_icmp6_packet_too_big)
{
	struct pkt p, orig;

	/* scapy: 1294 bytes, checksum 0xa514: 1232 bytes of quote fit */
	BUILD(&p, &ptb6);
	cr_assert_eq(p.len, 1294);
	cr_assert_eq(be16_at(p.buf + p.l4_off + 2), 0xa514);
	cr_assert_eq(be16_at(p.buf + p.l4_off + 6), 1280);
	BUILD(&orig, &ack6_big);
	cr_assert_eq(
		memcmp(p.buf + p.payload_off, orig.buf + orig.l3_off, 1232), 0);
	assert_valid(p.buf, p.len, "ptb");
}

/* The IPv4 header worked through on Wikipedia's "IPv4 header checksum". */
Test(pkt, known_ipv4_header_checksum)
{
	static const uint8_t want[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};
	const struct pkt_spec s = {
		.family = AF_INET,
		.saddr = "192.168.0.1",
		.daddr = "192.168.0.199",
		.df = true,
		.proto = IPPROTO_UDP,
		.payload_len = 0x73 - 28,
	};
	struct pkt p;

	BUILD(&p, &s);
	assert_bytes(p.buf + p.l3_off, 20, want, 20, "wikipedia header");
	cr_assert_eq(pkt_csum(want, 20), 0);
	cr_assert_eq(naive_csum(want, 20), 0);
}

/* Every IPv4 header and L4 checksum equals the naive sum's. */
Test(pkt, checksums_match_naive_sum)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++) {
		const struct spec_case *c = &all_kinds[i];
		uint8_t proto = c->spec->proto;
		int off = -1;
		struct pkt p;

		if (c->spec->family != AF_INET && c->spec->family != AF_INET6)
			continue;
		BUILD(&p, c->spec);
		if (p.family == AF_INET)
			cr_assert_eq(naive_csum(p.buf + p.l3_off,
						p.l4_off - p.l3_off),
				     0, "%s: IPv4 header", c->desc);
		if (proto == IPPROTO_TCP)
			off = 16;
		else if (proto == IPPROTO_UDP && !c->spec->udp_csum_zero)
			off = 6;
		else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
			off = 2;
		if (off < 0)
			continue;
		cr_assert_eq(be16_at(p.buf + p.l4_off + off),
			     naive_l4_csum(&p, proto, off), "%s: L4", c->desc);
	}
}

/* The verifier accepts every kind of frame the library builds. */
Test(pkt, verify_accepts_every_kind)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++) {
		struct pkt p;

		BUILD(&p, all_kinds[i].spec);
		assert_valid(p.buf, p.len, all_kinds[i].desc);
	}
}

/* Where a corruption lands: which offset of the built packet. */
enum at { AT_L3, AT_INNER_L3, AT_L4, AT_PAYLOAD };

struct corrupt_case {
	const char *desc;
	const struct pkt_spec *spec;
	const struct pkt_outer *outer; /* encapsulate first */
	enum at at;
	size_t off;
	bool refix; /* recompute checksums after: only the quote stays bad */
	const char *expect;
};

static const struct pkt_spec tcp6_plain = {
	.family = AF_INET6,
	.saddr = "2001:db8::1",
	.daddr = "2001:db8::10",
	.proto = IPPROTO_TCP,
	.sport = 5000,
	.dport = 80,
	.tcp_flags = PKT_ACK,
	.payload_len = 10,
};

static const struct pkt_spec echo6 = {
	.family = AF_INET6,
	.saddr = "2001:db8::1",
	.daddr = "2001:db8::10",
	.proto = IPPROTO_ICMPV6,
	.icmp_type = ICMPV6_ECHO_REQUEST,
	.payload_len = 8,
};

static const struct corrupt_case corruptions[] = {
	{"ipv4 header checksum", &syn4_vlan, NULL, AT_L3, 11, false,
	 "IPv4 header checksum at 28 is 0x26c0, want 0x26c1"},
	{"ipv4 ttl", &syn4_vlan, NULL, AT_L3, 8, false, "IPv4 header checksum"},
	{"tcp4 checksum", &syn4_vlan, NULL, AT_L4, 17, false,
	 "TCP checksum at 54 is 0x4faa, want 0x4fab"},
	{"tcp4 source port", &syn4_vlan, NULL, AT_L4, 0, false, "TCP checksum"},
	{"tcp6 payload", &tcp6_plain, NULL, AT_PAYLOAD, 9, false,
	 "TCP checksum"},
	{"udp6 checksum", &udp6, NULL, AT_L4, 6, false, "UDP checksum"},
	{"udp6 payload", &udp6, NULL, AT_PAYLOAD, 4, false, "UDP checksum"},
	{"icmp4 checksum", &frag_needed, NULL, AT_L4, 2, false,
	 "ICMP checksum"},
	{"icmp4 quoted bytes", &frag_needed, NULL, AT_PAYLOAD, 27, false,
	 "ICMP checksum"},
	{"icmp4 quoted header", &frag_needed, NULL, AT_PAYLOAD, 8, true,
	 "IPv4 quoted header checksum"},
	{"icmp6 echo", &echo6, NULL, AT_L4, 4, false, "ICMPv6 checksum"},
	{"icmp6 ptb mtu", &ptb6, NULL, AT_L4, 7, false, "ICMPv6 checksum"},
	{"ipv6 source address", &udp6, NULL, AT_L3, 23, false, "UDP checksum"},
	{"ipip outer header", &syn4_vlan, &ipip_out, AT_L3, 10, false,
	 "IPv4 header checksum at 28"},
	{"ipip inner header", &syn4_vlan, &ipip_out, AT_INNER_L3, 10, false,
	 "IPv4 header checksum at 48"},
	{"ipip inner tcp", &syn4_vlan, &ipip_out, AT_L4, 16, false,
	 "TCP checksum at 74"},
	{"ip6ip6 inner udp", &udp6, &ip6ip6_out, AT_PAYLOAD, 0, false,
	 "UDP checksum"},
};

/* One flipped bit anywhere covered by a checksum is caught. */
Test(pkt, verify_rejects_bad_checksums)
{
	size_t i;

	for (i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corrupt_case *c = &corruptions[i];
		struct pkt p;
		size_t off;

		BUILD(&p, c->spec);
		if (c->outer)
			cr_assert_eq(pkt_encap(&p, c->outer), 0, "%s", c->desc);
		assert_valid(p.buf, p.len, c->desc);
		switch (c->at) {
		case AT_L3:
			off = p.l3_off;
			break;
		case AT_INNER_L3:
			off = p.inner_l3_off;
			break;
		case AT_L4:
			off = p.l4_off;
			break;
		default:
			off = p.payload_off;
			break;
		}
		cr_assert_lt(off + c->off, p.len, "%s", c->desc);
		p.buf[off + c->off] ^= 0x01;
		if (c->refix)
			pkt_fix_checksums(&p);
		assert_invalid(p.buf, p.len, c->expect, c->desc);
	}
}

/* Length mutations: each breaks one length field, checksums then fixed. */
static void ip4_len_plus(struct pkt *p)
{
	pkt_ip4(p)->tot_len = htons(ntohs(pkt_ip4(p)->tot_len) + 1);
}

static void ip4_len_minus(struct pkt *p)
{
	pkt_ip4(p)->tot_len = htons(ntohs(pkt_ip4(p)->tot_len) - 2);
}

static void ip4_ihl_small(struct pkt *p)
{
	pkt_ip4(p)->ihl = 4;
}

static void ip4_ihl_big(struct pkt *p)
{
	pkt_ip4(p)->ihl = 15;
}

static void ip6_plen_plus(struct pkt *p)
{
	pkt_ip6(p)->payload_len = htons(ntohs(pkt_ip6(p)->payload_len) + 8);
}

static void inner_ip4_len(struct pkt *p)
{
	pkt_inner_ip4(p)->tot_len = htons(ntohs(pkt_inner_ip4(p)->tot_len) - 1);
}

static void udp_len_minus(struct pkt *p)
{
	pkt_udp(p)->len = htons(ntohs(pkt_udp(p)->len) - 1);
}

static void udp_len_tiny(struct pkt *p)
{
	pkt_udp(p)->len = htons(4);
}

static void tcp_doff_big(struct pkt *p)
{
	pkt_tcp(p)->doff = 15;
}

static void frame_extra_byte(struct pkt *p)
{
	p->buf[p->len++] = 0;
}

struct length_case {
	const char *desc;
	const struct pkt_spec *spec;
	const struct pkt_outer *outer;
	void (*mutate)(struct pkt *p);
	const char *expect;
};

static const struct length_case lengths[] = {
	{"ipv4 total length + 1", &syn4_vlan, NULL, ip4_len_plus,
	 "total length 45, 44 bytes in frame"},
	{"ipv4 total length - 2", &frag_needed, NULL, ip4_len_minus,
	 "total length 54, 56 bytes"},
	{"ipv4 ihl 4", &syn4_vlan, NULL, ip4_ihl_small, "IHL 4"},
	{"ipv4 ihl 15", &syn4_vlan, NULL, ip4_ihl_big, "IHL 15"},
	{"trailing byte", &syn4_vlan, NULL, frame_extra_byte,
	 "45 bytes in frame"},
	{"ipv6 payload length + 8", &udp6, NULL, ip6_plen_plus,
	 "payload length 21, 13 bytes follow"},
	{"udp length - 1", &udp6, NULL, udp_len_minus, "UDP at 54: length 12"},
	{"udp length 4", &udp6, NULL, udp_len_tiny, "length 4"},
	{"tcp data offset 15", &syn4_vlan, NULL, tcp_doff_big,
	 "data offset 15"},
	{"ipip outer length", &syn4_vlan, &ipip_out, ip4_len_plus,
	 "IPv4 at 18: total length 65"},
	{"ipip inner length", &syn4_vlan, &ipip_out, inner_ip4_len,
	 "IPv4 at 38: total length 43"},
	{"ip6ip6 outer length", &udp6, &ip6ip6_out, ip6_plen_plus,
	 "payload length 61, 53 bytes"},
};

/* A length field that disagrees with the frame is caught. */
Test(pkt, verify_rejects_bad_lengths)
{
	size_t i;

	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		const struct length_case *c = &lengths[i];
		struct pkt p;

		BUILD(&p, c->spec);
		if (c->outer)
			cr_assert_eq(pkt_encap(&p, c->outer), 0, "%s", c->desc);
		c->mutate(&p);
		pkt_fix_checksums(&p);
		assert_invalid(p.buf, p.len, c->expect, c->desc);
	}
}

/* Every frame cut short by any number of bytes is refused. */
Test(pkt, verify_rejects_every_truncation)
{
	size_t i, cut;

	for (i = 0; i < N_KINDS; i++) {
		const struct spec_case *c = &all_kinds[i];
		struct pkt p;
		char why[160];

		if (c->spec->ethertype)
			continue; /* nothing says how long an opaque frame is */
		BUILD(&p, c->spec);
		for (cut = 0; cut < p.len; cut++)
			cr_assert_eq(pkt_verify_checksums(p.buf, cut, why,
							  sizeof(why)),
				     -1, "%s: cut at %zu accepted", c->desc,
				     cut);
	}
}

/* A zero UDP checksum means none over IPv4 and is an error over IPv6. */
Test(pkt, udp_zero_checksum_ipv4_only)
{
	struct pkt_spec s = *kind("udp4 zero checksum");
	struct pkt p;

	cr_assert(s.udp_csum_zero);
	BUILD(&p, &s);
	cr_assert_eq(pkt_udp(&p)->check, 0);
	assert_valid(p.buf, p.len, "udp4 zero");
	/* Fixing checksums keeps an IPv4 zero checksum zero. */
	pkt_fix_checksums(&p);
	cr_assert_eq(pkt_udp(&p)->check, 0);

	BUILD(&p, &udp6);
	pkt_udp(&p)->check = 0;
	assert_invalid(p.buf, p.len, "zero checksum over IPv6", "udp6 zero");
	pkt_fix_checksums(&p);
	cr_assert_eq(be16_at(p.buf + p.l4_off + 6), 0x4cc2);
}

/* The 802.1Q tag sits between the MACs and the ethertype. */
Test(pkt, vlan_offsets)
{
	struct pkt_spec s = syn4_vlan;
	struct pkt_info info;
	struct pkt p;
	char why[160];

	s.vlan_tci = 0x2000 | 100; /* PCP 1, VID 100 */
	BUILD(&p, &s);
	cr_assert_eq(be16_at(p.buf + 12), 0x8100);
	cr_assert_eq(be16_at(p.buf + 14), 0x2064);
	cr_assert_eq(be16_at(p.buf + 16), ETH_P_IP);
	cr_assert_eq(p.l3_off, 18);
	cr_assert_eq(p.buf[18], 0x45);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0, "%s",
		     why);
	cr_assert(info.vlan);
	cr_assert_eq(info.vlan_tci, 0x2064);
	cr_assert_eq(info.ethertype, ETH_P_IP);
	cr_assert_eq(info.ip[0].off, 18);
	cr_assert_eq(info.l4_off, 38);

	s.vlan = false;
	BUILD(&p, &s);
	cr_assert_eq(be16_at(p.buf + 12), ETH_P_IP);
	cr_assert_eq(p.l3_off, 14);
	cr_assert_eq(p.len, sizeof(gold_syn4_vlan) - 4);
}

/* IPv4 options are padded to 4 bytes and counted in IHL. */
Test(pkt, ipv4_options)
{
	struct pkt_spec s = *kind("ipv4 options");
	struct pkt_info info;
	struct pkt p;
	char why[160];

	/* 5 bytes of options are padded with EOL to 8: IHL 7 */
	BUILD(&p, &s);
	cr_assert_eq(pkt_ip4(&p)->ihl, 7);
	cr_assert_eq(p.l4_off, 14 + 28);
	cr_assert_eq(
		memcmp(p.buf + 14 + 20, "\x94\x04\x00\x00\x01\x00\x00\x00", 8),
		0);
	cr_assert_eq(ntohs(pkt_ip4(&p)->tot_len), 28 + 8 + 3);
	assert_valid(p.buf, p.len, "options");
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.ip[0].hdr_len, 28);
	cr_assert_eq(info.sport, 7);

	/* The most there is room for: 40 bytes, IHL 15. */
	memset(s.ip_opts, 1, sizeof(s.ip_opts));
	s.ip_opts_len = 40;
	BUILD(&p, &s);
	cr_assert_eq(pkt_ip4(&p)->ihl, 15);
	assert_valid(p.buf, p.len, "40 bytes of options");
	s.ip_opts_len = 41;
	cr_assert_eq(pkt_build(&p, &s), -EINVAL);
}

/* Fragment and hop-by-hop headers chain to L4 and are walked. */
Test(pkt, ipv6_extension_headers)
{
	const struct pkt_spec *frag = kind("udp6 fragment");
	const struct pkt_spec *hbh = kind("udp6 hop-by-hop");
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, frag);
	cr_assert_eq(pkt_ip6(&p)->nexthdr, IPPROTO_FRAGMENT);
	cr_assert_eq(ntohs(pkt_ip6(&p)->payload_len), 8 + 8 + 16);
	cr_assert_eq(p.l4_off, 14 + 40 + 8);
	cr_assert_eq(memcmp(p.buf + 54, "\x11\x00\x00\x11\xde\xad\xbe\xef", 8),
		     0);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert(info.ip[0].fragment);
	cr_assert(info.ip[0].mf);
	cr_assert_eq(info.ip[0].frag_off, 2);
	cr_assert_eq(info.ip[0].proto, IPPROTO_UDP);
	cr_assert_eq(info.proto, 0, "no L4 behind a fragment header");

	BUILD(&p, hbh);
	cr_assert_eq(pkt_ip6(&p)->nexthdr, IPPROTO_HOPOPTS);
	cr_assert_eq(memcmp(p.buf + 54, "\x11\x01\x01\x0c", 4), 0);
	cr_assert_eq(p.l4_off, 14 + 40 + 16);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.ip[0].hdr_len, 56);
	cr_assert_eq(info.proto, IPPROTO_UDP);
	cr_assert_eq(info.dport, 2);
	cr_assert_eq(info.payload_len, 31);
	/* The pseudo-header length leaves the extension header out. */
	cr_assert_eq(be16_at(p.buf + p.l4_off + 6),
		     naive_l4_csum(&p, IPPROTO_UDP, 6));
}

struct encap_case {
	const char *desc;
	const struct pkt_spec *inner;
	int outer_family;
	uint16_t ethertype;
	uint8_t proto; /* outer protocol or next header */
};

static const struct encap_case encaps[] = {
	{"ipip", &syn4_vlan, AF_INET, ETH_P_IP, IPPROTO_IPIP},
	{"ipv6 in ipv4", &udp6, AF_INET, ETH_P_IP, IPPROTO_IPV6},
	{"ipv4 in ipv6", &frag_needed, AF_INET6, ETH_P_IPV6, IPPROTO_IPIP},
	{"ip6ip6", &ptb6, AF_INET6, ETH_P_IPV6, IPPROTO_IPV6},
};

/* Each outer family around each inner family: lengths, protocols. */
Test(pkt, encap_lengths_and_protocols)
{
	size_t i;

	for (i = 0; i < sizeof(encaps) / sizeof(encaps[0]); i++) {
		const struct encap_case *c = &encaps[i];
		struct pkt_outer o = {
			.family = c->outer_family,
			.saddr = c->outer_family == AF_INET ? "172.16.0.1"
							    : "fc00::1",
			.daddr = c->outer_family == AF_INET ? "10.1.0.2"
							    : "fc00::2",
		};
		struct pkt in, p;
		struct pkt_info info;
		size_t l3len;
		char why[160];

		BUILD(&in, c->inner);
		p = in;
		l3len = in.len - in.l3_off;
		cr_assert_eq(pkt_encap(&p, &o), 0, "%s", c->desc);
		cr_assert_eq(be16_at(p.buf + p.l3_off - 2), c->ethertype, "%s",
			     c->desc);
		if (c->outer_family == AF_INET) {
			cr_assert_eq(p.len, in.len + 20, "%s", c->desc);
			cr_assert_eq(ntohs(pkt_ip4(&p)->tot_len), l3len + 20,
				     "%s", c->desc);
			cr_assert_eq(pkt_ip4(&p)->protocol, c->proto, "%s",
				     c->desc);
		} else {
			cr_assert_eq(p.len, in.len + 40, "%s", c->desc);
			cr_assert_eq(ntohs(pkt_ip6(&p)->payload_len), l3len,
				     "%s", c->desc);
			cr_assert_eq(pkt_ip6(&p)->nexthdr, c->proto, "%s",
				     c->desc);
		}
		/* The inner packet is carried unchanged, offsets follow it. */
		cr_assert_eq(p.inner_l3_off - p.l3_off,
			     c->outer_family == AF_INET ? 20 : 40);
		cr_assert_eq(memcmp(p.buf + p.inner_l3_off, in.buf + in.l3_off,
				    l3len),
			     0, "%s", c->desc);
		cr_assert_eq(p.l4_off - p.inner_l3_off, in.l4_off - in.l3_off);
		assert_valid(p.buf, p.len, c->desc);
		cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)),
			     0, "%s: %s", c->desc, why);
		cr_assert_eq(info.n_ip, 2, "%s", c->desc);
		cr_assert_str_eq(pkt_outer_ip(&info)->src, o.saddr);
		cr_assert_str_eq(pkt_outer_ip(&info)->dst, o.daddr);
		cr_assert_str_eq(pkt_inner_ip(&info)->src, c->inner->saddr);
		cr_assert_str_eq(pkt_inner_ip(&info)->dst, c->inner->daddr);
		cr_assert_eq(info.proto, c->inner->proto, "%s", c->desc);
		cr_assert_eq(info.sport, c->inner->sport, "%s", c->desc);
		cr_assert_eq(info.dport, c->inner->dport, "%s", c->desc);
	}
}

/* Outer TTL, TOS, ID, DF and flow label are as asked. */
Test(pkt, encap_outer_fields)
{
	struct pkt_outer o = {
		.family = AF_INET,
		.saddr = "172.16.0.9",
		.daddr = "10.1.0.2",
		.ttl = PKT_TTL_ZERO,
		.tos = 0x10,
		.id = 0xbeef,
	};
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, &syn4_vlan);
	cr_assert_eq(pkt_encap(&p, &o), 0);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.ip[0].ttl, 0);
	cr_assert_eq(info.ip[0].tos, 0x10);
	cr_assert_eq(info.ip[0].id, 0xbeef);
	cr_assert_not(info.ip[0].df);
	cr_assert_eq(info.ip[1].ttl, 64, "inner TTL untouched");
	/* MACs are kept when the outer names none. */
	cr_assert_eq(memcmp(p.buf, gold_syn4_vlan, 12), 0);

	o.family = AF_INET6;
	o.saddr = "fc00::9";
	o.daddr = "fc00::2";
	o.ttl = 7;
	o.tos = 0xfe;
	o.flow_label = 0xfffff;
	BUILD(&p, &syn4_vlan);
	cr_assert_eq(pkt_encap(&p, &o), 0);
	cr_assert_eq(be16_at(p.buf + 18), 0x6fef);
	cr_assert_eq(be16_at(p.buf + 20), 0xffff);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.ip[0].ttl, 7);
	cr_assert_eq(info.ip[0].tos, 0xfe);
	cr_assert_eq(info.ip[0].flow_label, 0xfffff);
	cr_assert_str_eq(info.ip[0].src, "fc00::9");
	assert_valid(p.buf, p.len, "ipv4 in ipv6");

	o.saddr = "10.0.0.1"; /* the wrong family */
	cr_assert_eq(pkt_encap(&p, &o), -EINVAL);
}

/* A VLAN tag stays in front of the outer header unless stripped. */
Test(pkt, encap_vlan_kept_or_stripped)
{
	struct pkt_outer o = ipip_out;
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, &udp6);
	cr_assert_eq(pkt_encap(&p, &o), 0);
	cr_assert_eq(p.l3_off, 14, "no tag to keep");

	BUILD(&p, &syn4_vlan);
	o.strip_vlan = true;
	cr_assert_eq(pkt_encap(&p, &o), 0);
	cr_assert_eq(p.l3_off, 14);
	cr_assert_eq(p.inner_l3_off, 34);
	cr_assert_eq(p.len, sizeof(gold_syn4_ipip) - 4);
	cr_assert_eq(be16_at(p.buf + 12), ETH_P_IP);
	cr_assert_eq(memcmp(p.buf + 14, gold_syn4_ipip + 18, p.len - 14), 0);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_not(info.vlan);
	assert_valid(p.buf, p.len, "stripped");
}

/* Encapsulation nests: inner_l3_off keeps pointing at the original. */
Test(pkt, encap_twice)
{
	struct pkt_outer o2 = ip6ip6_out;
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, &syn4_vlan);
	cr_assert_eq(pkt_encap(&p, &ipip_out), 0);
	cr_assert_eq(pkt_encap(&p, &o2), 0);
	cr_assert_eq(p.len, sizeof(gold_syn4_vlan) + 20 + 40);
	cr_assert_eq(p.inner_l3_off, 18 + 60, "inner_l3_off: the first L3");
	cr_assert_eq(pkt_ip6(&p)->nexthdr, IPPROTO_IPIP);
	assert_valid(p.buf, p.len, "two layers");
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.n_ip, 3);
	cr_assert_eq(info.ip[1].proto, IPPROTO_IPIP);
	cr_assert_str_eq(pkt_inner_ip(&info)->dst, "10.0.0.10");
	cr_assert_eq(info.tcp_flags, PKT_SYN);
	cr_assert_eq(info.mss, 1460);
}

/* An ICMPv4 error quotes the whole IP header (options too) + 8 bytes. */
Test(pkt, icmp4_quote_follows_ihl)
{
	struct pkt_spec orig = synack4;
	struct pkt_spec err = frag_needed;
	struct pkt_info info;
	struct pkt p, o;
	char why[160];

	/* An original with 4 bytes of options: 24 + 8 bytes are quoted. */
	orig.ip_opts[0] = 1;
	orig.ip_opts_len = 1;
	err.quote = &orig;
	BUILD(&o, &orig);
	BUILD(&p, &err);
	cr_assert_eq(p.len - p.payload_off, 32);
	cr_assert_eq(memcmp(p.buf + p.payload_off, o.buf + o.l3_off, 32), 0);
	assert_valid(p.buf, p.len, "quote with options");
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert(info.has_quote);
	cr_assert_eq(info.icmp_type, ICMP_DEST_UNREACH);
	cr_assert_eq(info.icmp_code, ICMP_FRAG_NEEDED);
	cr_assert_eq(info.mtu, 1400);
	cr_assert_str_eq(info.quote.src, "10.0.0.10");
	cr_assert_str_eq(info.quote.dst, "10.0.0.1");
	cr_assert_eq(info.quote.proto, IPPROTO_TCP);
	cr_assert_eq(info.quote.sport, 80);
	cr_assert_eq(info.quote.dport, 12345);
	cr_assert_eq(info.quote.tot_len, 24 + 20 + 100);

	/* A longer quote on request, never more than the original. */
	err.quote_len = 60;
	BUILD(&p, &err);
	cr_assert_eq(p.len - p.payload_off, 60);
	err.quote_len = 5000;
	BUILD(&p, &err);
	cr_assert_eq(p.len - p.payload_off, o.len - o.l3_off);
	assert_valid(p.buf, p.len, "whole original quoted");
}

/* An ICMPv6 error quotes all it can within 1280 bytes. */
Test(pkt, icmp6_quote_fits_minimum_mtu)
{
	const struct pkt_spec *unreach = kind("icmp6 dest unreachable");
	struct pkt_info info;
	struct pkt p, o;
	char why[160];

	/* A small original fits whole. */
	BUILD(&o, &udp6);
	BUILD(&p, unreach);
	cr_assert_eq(p.len - p.payload_off, o.len - o.l3_off);
	cr_assert_eq(memcmp(p.buf + p.payload_off, o.buf + o.l3_off,
			    o.len - o.l3_off),
		     0);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert(info.has_quote);
	cr_assert_eq(info.quote.family, AF_INET6);
	cr_assert_str_eq(info.quote.src, "2001:db8::1");
	cr_assert_eq(info.quote.sport, 5000);
	cr_assert_eq(info.quote.dport, 53);
	cr_assert_eq(info.icmp_code, 4);

	/* A big one is cut so that the error is 1280 bytes of IPv6. */
	BUILD(&p, &ptb6);
	cr_assert_eq(p.len - p.l3_off, 1280);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.mtu, 1280);
	cr_assert_eq(info.quote.tot_len, 40 + 20 + 1400);
}

/* Quotes cut anywhere still verify and parse as far as they go. */
Test(pkt, icmp_short_quotes)
{
	static const struct {
		size_t quote_len;
		bool has_quote;
		uint16_t sport;
	} cuts[] = {
		{12, false, 0}, /* not even an IPv4 header: no quote */
		{20, true, 0},	/* header, no ports */
		{24, true, 80}, /* header and ports */
	};
	struct pkt_spec v4 = frag_needed, v6 = ptb6;
	struct pkt_info info;
	struct pkt p;
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		v4.quote_len = cuts[i].quote_len;
		BUILD(&p, &v4);
		cr_assert_eq(p.len - p.payload_off, cuts[i].quote_len);
		assert_valid(p.buf, p.len, "short quote");
		cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)),
			     0, "%zu: %s", cuts[i].quote_len, why);
		cr_assert_eq(info.has_quote, cuts[i].has_quote, "%zu",
			     cuts[i].quote_len);
		cr_assert_eq(info.quote.sport, cuts[i].sport, "%zu",
			     cuts[i].quote_len);
	}

	/* An IPv6 quote cut inside its extension header still parses. */
	v6.quote = kind("tcp6 routing");
	v6.quote_len = 42;
	BUILD(&p, &v6);
	assert_valid(p.buf, p.len, "quote cut in an extension header");
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert(info.has_quote);
	cr_assert_eq(info.quote.proto, IPPROTO_ROUTING);
	cr_assert_eq(info.quote.dport, 0);
	v6.quote_len = 0;
	BUILD(&p, &v6);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.quote.proto, IPPROTO_TCP);
	cr_assert_eq(info.quote.hdr_len, 48);
	cr_assert_eq(info.quote.dport, 2);
}

/* Echo requests carry id and sequence in the rest-of-header word. */
Test(pkt, echo_requests)
{
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, kind("icmp4 echo"));
	cr_assert_eq(p.buf[p.l4_off], ICMP_ECHO);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.proto, IPPROTO_ICMP);
	cr_assert_eq(info.icmp_id, 0x1234);
	cr_assert_eq(info.icmp_seq, 1);
	cr_assert_eq(info.payload_len, 57);
	cr_assert_not(info.has_quote);

	BUILD(&p, kind("icmp6 echo"));
	cr_assert_eq(p.buf[p.l4_off], ICMPV6_ECHO_REQUEST);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.proto, IPPROTO_ICMPV6);
	cr_assert_eq(info.icmp_id, 9);
	cr_assert_eq(info.icmp_seq, 10);
	cr_assert_eq(info.payload_len, 13);
}

/* NS goes to the solicited-node group with hop limit 255. */
Test(pkt, neighbour_discovery)
{
	static const uint8_t target[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	static const uint8_t mcast_mac[6] = {0x33, 0x33, 0xff, 0, 0, 0x10};
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, kind("nd solicitation"));
	cr_assert_eq(memcmp(p.buf, mcast_mac, 6), 0);
	cr_assert_eq(pkt_ip6(&p)->hop_limit, 255);
	cr_assert_eq(p.len, 14 + 40 + 32);
	cr_assert_eq(memcmp(p.buf + p.l4_off + 8, target, 16), 0);
	/* source link-layer address option */
	cr_assert_eq(
		memcmp(p.buf + p.l4_off + 24, "\x01\x01\x02\0\0\0\0\x01", 8),
		0);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_str_eq(info.ip[0].dst, "ff02::1:ff00:10");
	cr_assert_eq(info.icmp_type, PKT_ND_NS);

	BUILD(&p, kind("nd advertisement"));
	cr_assert_eq(p.buf[p.l4_off + 4], 0x60, "solicited, override");
	cr_assert_eq(p.buf[p.l4_off + 24], 2, "target link-layer address");
	assert_valid(p.buf, p.len, "na");
}

/* ARP requests are broadcast; replies name the target MAC. */
Test(pkt, arp_request)
{
	static const uint8_t want[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
		0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x0a, 0x00, 0x00, 0x0a,
	};
	struct pkt_spec reply = *kind("arp request");
	struct pkt p;

	BUILD(&p, &reply);
	assert_bytes(p.buf, p.len, want, sizeof(want), "arp request");

	reply.arp_op = 2;
	reply.dmac = MAC_REAL;
	BUILD(&p, &reply);
	cr_assert_eq(be16_at(p.buf + 20), 2);
	cr_assert_eq(memcmp(p.buf + 32, "\x02\0\0\0\0\x03", 6), 0);
	cr_assert_eq(pkt_encap(&p, &ipip_out), -EINVAL, "ARP is not IP");
}

/* Fields changed after building are made consistent again. */
Test(pkt, fix_checksums_after_override)
{
	struct pkt p;
	char why[160];

	BUILD(&p, &syn4_vlan);
	pkt_ip4(&p)->ttl = 1;
	pkt_tcp(&p)->window = htons(1024);
	cr_assert_eq(pkt_verify_checksums(p.buf, p.len, why, sizeof(why)), -1);
	pkt_fix_checksums(&p);
	assert_valid(p.buf, p.len, "fixed");
	cr_assert_eq(pkt_ip4(&p)->ttl, 1);

	/* Through encapsulation: the inner header is fixed too. */
	BUILD(&p, &udp6);
	cr_assert_eq(pkt_encap(&p, &ipip_out), 0);
	pkt_inner_ip6(&p)->hop_limit = 1;
	pkt_udp(&p)->source = htons(1);
	pkt_fix_checksums(&p);
	assert_valid(p.buf, p.len, "fixed inner");
	cr_assert_eq(pkt_inner_ip6(&p)->hop_limit, 1);
}

/* TTL 0 and 255 on the wire; truncation only ever shortens. */
Test(pkt, truncate_and_ttl)
{
	struct pkt_spec s = syn4_vlan;
	struct pkt p;

	s.ttl = PKT_TTL_ZERO;
	BUILD(&p, &s);
	cr_assert_eq(pkt_ip4(&p)->ttl, 0);
	assert_valid(p.buf, p.len, "ttl 0");
	s.ttl = 255;
	BUILD(&p, &s);
	cr_assert_eq(pkt_ip4(&p)->ttl, 255);
	pkt_truncate(&p, 37);
	cr_assert_eq(p.len, 37);
	pkt_truncate(&p, 100);
	cr_assert_eq(p.len, 37, "truncate never grows");
	assert_invalid(p.buf, p.len, "IPv4 header at 18: 19 bytes, need 20",
		       "cut in the IPv4 header");
}

/* Specs that cannot be built are refused with -EINVAL/-EMSGSIZE. */
Test(pkt, bad_specs_refused)
{
	struct pkt_spec s = syn4_vlan;
	struct pkt p;

	s.saddr = "10.0.0.256";
	cr_assert_eq(pkt_build(&p, &s), -EINVAL);
	s = syn4_vlan;
	s.daddr = "2001:db8::1";
	cr_assert_eq(pkt_build(&p, &s), -EINVAL, "address of the wrong family");
	s = syn4_vlan;
	s.smac = "02:00:00:00:00";
	cr_assert_eq(pkt_build(&p, &s), -EINVAL);
	s.smac = "02:00:00:00:00:100";
	cr_assert_eq(pkt_build(&p, &s), -EINVAL);
	s = syn4_vlan;
	s.ttl = 256;
	cr_assert_eq(pkt_build(&p, &s), -EINVAL);
	s = syn4_vlan;
	s.payload_len = PKT_MAX;
	cr_assert_eq(pkt_build(&p, &s), -EMSGSIZE);
	s = udp6;
	s.ext.type = PKT_EXT_DSTOPTS;
	s.ext.len = 12;
	cr_assert_eq(pkt_build(&p, &s), -EINVAL);
	s.ext.len = 24;
	BUILD(&p, &s);
	assert_valid(p.buf, p.len, "24-byte destination options");
	s = syn4_vlan;
	s.ethertype = ETH_P_IP;
	cr_assert_eq(pkt_build(&p, &s), -EINVAL, "ethertype with a family");
	s = (struct pkt_spec){.payload_len = 10};
	cr_assert_eq(pkt_build(&p, &s), -EINVAL, "no family nor ethertype");
}

/* The failure dump points at the first differing byte. */
Test(pkt, first_diff_and_hexdump)
{
	uint8_t a[40], b[40];
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	memset(a, 0xaa, sizeof(a));
	memcpy(b, a, sizeof(b));
	cr_assert_eq(pkt_first_diff(a, 40, b, 40), -1);
	cr_assert_eq(pkt_first_diff(a, 40, b, 30), 30, "a longer frame");
	b[20] = 0xbb;
	b[33] = 0xcc;
	cr_assert_eq(pkt_first_diff(a, 40, b, 40), 20);

	f = open_memstream(&out, &outlen);
	cr_assert_not_null(f);
	pkt_fhexdump_diff(f, a, 40, b, 40);
	fclose(f);
	cr_assert(strstr(out, "first difference at offset 20 (0x14)"), "%s",
		  out);
	cr_assert(strstr(out, "0010 got  aa aa aa aa aa"), "%s", out);
	cr_assert(strstr(out, "     want aa aa aa aa bb"), "%s", out);
	/* The first difference is ^^, later ones -- */
	cr_assert(strstr(out, "             ^^\n"), "%s", out);
	cr_assert(strstr(out, "    --\n"), "%s", out);
	free(out);
}

/* pkt_parse() reads back what the spec asked for. */
Test(pkt, parse_reads_fields)
{
	const struct pkt_spec *s = kind("tcp4 ack odd payload");
	struct pkt_info info;
	struct pkt p;
	char why[160];

	BUILD(&p, s);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(memcmp(info.smac, "\x02\0\0\0\0\x01", 6), 0);
	cr_assert_eq(memcmp(info.dmac, "\x02\0\0\0\0\x02", 6), 0);
	cr_assert_eq(info.n_ip, 1);
	cr_assert_eq(info.ip[0].ttl, 3);
	cr_assert_eq(info.ip[0].tos, 0xb8);
	cr_assert_eq(info.ip[0].saddr.addr[0], inet_addr("198.51.100.7"));
	cr_assert_eq(info.ip[0].saddr.addr[1], 0);
	cr_assert_eq(info.seq, 0xfffffff0);
	cr_assert_eq(info.ack, 77);
	cr_assert_eq(info.tcp_flags, PKT_ACK | PKT_PSH);
	cr_assert_eq(info.mss, 0);
	cr_assert_eq(info.payload_len, 333);
	cr_assert_eq(info.payload_off, p.payload_off);

	/* A cut frame is refused, with the reason. */
	cr_assert_eq(pkt_parse(p.buf, 30, &info, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "IPv4 header at 14: 16 bytes, need 20");
}

/* TCP options after MSS, as given, padded with EOL; a malformed list is
 * built as asked and the parser finds no MSS in it. */
Test(pkt, tcp_options)
{
	static const uint8_t opts[] = {4, 2, 1, 3, 3, 7};
	static const uint8_t odd[] = {1, 2, 4, 0x05, 0xb4, 1, 1, 1};
	static const uint8_t bad[] = {3, 1, 2, 4, 0x05, 0xb4, 1, 1};
	struct pkt_spec s = syn4_vlan;
	struct pkt_info info;
	struct pkt p;
	char why[160];
	uint8_t *tcp;

	memcpy(s.tcp_opts, opts, sizeof(opts));
	s.tcp_opts_len = sizeof(opts);
	BUILD(&p, &s);
	tcp = p.buf + p.l4_off;
	cr_assert_eq(p.payload_off - p.l4_off, 32, "20 + 4 + 6, padded to 32");
	cr_assert_eq(tcp[12] >> 4, 8);
	cr_assert_eq(be16_at(tcp + 22), 1460);
	cr_assert_eq(memcmp(tcp + 24, opts, sizeof(opts)), 0);
	cr_assert_eq(tcp[30], 0);
	cr_assert_eq(tcp[31], 0);
	assert_valid(p.buf, p.len, "mss and more options");
	cr_assert_eq(be16_at(tcp + 16), naive_l4_csum(&p, IPPROTO_TCP, 16));

	/* Only the given bytes: an MSS option at an odd offset. */
	s.mss = 0;
	memcpy(s.tcp_opts, odd, sizeof(odd));
	s.tcp_opts_len = sizeof(odd);
	BUILD(&p, &s);
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.mss, 1460);
	cr_assert_eq(info.l4_len, 28);

	/* A length of 1 ends the walk: the MSS behind it is not seen. */
	memcpy(s.tcp_opts, bad, sizeof(bad));
	BUILD(&p, &s);
	assert_valid(p.buf, p.len, "malformed options, valid checksum");
	cr_assert_eq(pkt_parse(p.buf, p.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.mss, 0);

	s.mss = 1460;
	s.tcp_opts_len = 37;
	cr_assert_eq(pkt_build(&p, &s), -EINVAL, "41 bytes of options");
}
