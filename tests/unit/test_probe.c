// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of probe.c: the encapsulated packets of data-path health
 * checks, byte by byte (outer and inner headers, checksums verified the
 * way a receiver does), the outer source the data plane would pick, and
 * the reading of the real's answers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "probe.h"
#include "xlb_hash.h"

static struct xlb_ip ip(const char *s)
{
	struct xlb_ip r;

	memset(&r, 0, sizeof(r));
	if (inet_pton(AF_INET, s, r.a.addr) == 1) {
		r.family = AF_INET;
		return r;
	}
	cr_assert_eq(inet_pton(AF_INET6, s, r.a.addr), 1, "bad address %s", s);
	r.family = AF_INET6;
	return r;
}

/* A receiver's check: the ones' complement sum including the checksum. */
static uint16_t sum16(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Verify an L4 checksum over the pseudo-header of an IPv4/IPv6 header. */
static void assert_l4_csum(const uint8_t *l3, int family, const uint8_t *l4,
			   size_t len, uint8_t proto)
{
	uint32_t sum = proto + (uint32_t)len;

	if (family == AF_INET) {
		sum = sum16(sum, l3 + 12, 8);
	} else {
		sum = sum16(sum, l3 + 8, 32);
	}
	cr_assert_eq(sum16(sum, l4, len), 0xffff, "bad L4 checksum");
}

static struct xlb_probe_pkt syn4(void)
{
	struct xlb_probe_pkt p;

	memset(&p, 0, sizeof(p));
	p.src = ip("10.98.1.1");
	p.dst = ip("10.100.0.10");
	p.sport = 40000;
	p.dport = 80;
	p.proto = IPPROTO_TCP;
	p.tcp_flags = XLB_PROBE_SYN;
	p.seq = 0x01020304;
	p.outer_dst = ip("10.98.1.2");
	return p;
}

Test(probe, tunnel_source_is_the_data_planes)
{
	struct xlb_probe_pkt p = syn4();
	struct xlb_ip base = ip("172.16.0.0"), out, b6 = ip("fc00:2::"), o6;
	uint32_t ports = (uint32_t)htons(40000) << 16 | htons(80);
	uint32_t h = htonl(xlb_flow_hash(p.src.a.addr, ports, IPPROTO_TCP, 0));

	xlb_probe_tunnel_source(&base, 16, &p, &out);
	cr_assert_eq(out.family, AF_INET);
	/* bpf/encap.h: base & ~hostmask | hash & hostmask. */
	cr_assert_eq(out.a.addr[0], (base.a.addr[0] & htonl(0xffff0000)) |
					    (h & htonl(0x0000ffff)));
	xlb_probe_tunnel_source(&base, 32, &p, &o6);
	cr_assert_eq(o6.a.addr[0], base.a.addr[0], "a /32 is the address");
	xlb_probe_tunnel_source(&b6, 96, &p, &o6);
	cr_assert_eq(o6.family, AF_INET6);
	cr_assert_eq(memcmp(o6.a.addr, b6.a.addr, 12), 0);
	cr_assert_eq(o6.a.addr[3], h);
	/* Another source port, another outer source (with 16 host bits
	 * the chance of a collision is 1 in 65536; these two differ). */
	p.sport = 40001;
	xlb_probe_tunnel_source(&base, 16, &p, &o6);
	cr_assert_neq(o6.a.addr[0], out.a.addr[0]);
}

Test(probe, ipip_syn)
{
	struct xlb_probe_pkt p = syn4();
	uint8_t b[XLB_PROBE_PKT_MAX];
	const uint8_t *in, *tcp;
	int n;

	p.outer_src = ip("172.16.3.4");
	n = xlb_probe_build(&p, b, sizeof(b));
	cr_assert_eq(n, 20 + 20 + 20);
	/* Outer: IPv4, DF, TTL 64, protocol 4, src -> real. */
	cr_assert_eq(b[0], 0x45);
	cr_assert_eq(be16(b + 2), 60);
	cr_assert_eq(be16(b + 6), 0x4000);
	cr_assert_eq(b[8], 64);
	cr_assert_eq(b[9], IPPROTO_IPIP);
	cr_assert_eq(memcmp(b + 12, p.outer_src.a.addr, 4), 0);
	cr_assert_eq(memcmp(b + 16, p.outer_dst.a.addr, 4), 0);
	cr_assert_eq(sum16(0, b, 20), 0xffff, "bad outer header checksum");
	/* Inner: node -> VIP, TCP. */
	in = b + 20;
	cr_assert_eq(in[0], 0x45);
	cr_assert_eq(be16(in + 2), 40);
	cr_assert_eq(in[9], IPPROTO_TCP);
	cr_assert_eq(memcmp(in + 12, p.src.a.addr, 4), 0);
	cr_assert_eq(memcmp(in + 16, p.dst.a.addr, 4), 0);
	cr_assert_eq(sum16(0, in, 20), 0xffff, "bad inner header checksum");
	tcp = in + 20;
	cr_assert_eq(be16(tcp), 40000);
	cr_assert_eq(be16(tcp + 2), 80);
	cr_assert_eq(tcp[4], 1);
	cr_assert_eq(tcp[7], 4);
	cr_assert_eq(tcp[12], 0x50);
	cr_assert_eq(tcp[13], XLB_PROBE_SYN);
	cr_assert_neq(be16(tcp + 14), 0, "a zero window");
	assert_l4_csum(in, AF_INET, tcp, 20, IPPROTO_TCP);
}

Test(probe, ip6ip6_udp_with_payload)
{
	struct xlb_probe_pkt p;
	uint8_t b[XLB_PROBE_PKT_MAX];
	const uint8_t *in, *udp;
	int n;

	memset(&p, 0, sizeof(p));
	p.src = ip("fd00:98:1::1");
	p.dst = ip("fd00:100::10");
	p.outer_src = ip("fc00:2::1234");
	p.outer_dst = ip("fd00:98:1::2");
	p.sport = 5000;
	p.dport = 5353;
	p.proto = IPPROTO_UDP;
	p.payload = "ping";
	p.payload_len = 4;
	n = xlb_probe_build(&p, b, sizeof(b));
	cr_assert_eq(n, 40 + 40 + 8 + 4);
	cr_assert_eq(b[0] >> 4, 6);
	cr_assert_eq(be16(b + 4), 40 + 8 + 4, "outer payload length");
	cr_assert_eq(b[6], IPPROTO_IPV6);
	cr_assert_eq(b[7], 64);
	cr_assert_eq(memcmp(b + 8, p.outer_src.a.addr, 16), 0);
	cr_assert_eq(memcmp(b + 24, p.outer_dst.a.addr, 16), 0);
	/* The flow label comes from the flow hash, as in encap_push(). */
	cr_assert_neq((b[1] & 0xf) | b[2] | b[3], 0);
	in = b + 40;
	cr_assert_eq(in[0] >> 4, 6);
	cr_assert_eq(be16(in + 4), 12);
	cr_assert_eq(in[6], IPPROTO_UDP);
	cr_assert_eq(memcmp(in + 24, p.dst.a.addr, 16), 0);
	udp = in + 40;
	cr_assert_eq(be16(udp), 5000);
	cr_assert_eq(be16(udp + 2), 5353);
	cr_assert_eq(be16(udp + 4), 12);
	cr_assert_neq(be16(udp + 6), 0, "IPv6 UDP needs a checksum");
	cr_assert_eq(memcmp(udp + 8, "ping", 4), 0);
	assert_l4_csum(in, AF_INET6, udp, 12, IPPROTO_UDP);
}

Test(probe, four_in_six)
{
	struct xlb_probe_pkt p = syn4();
	uint8_t b[XLB_PROBE_PKT_MAX];
	int n;

	p.outer_src = ip("fc00:2::1");
	p.outer_dst = ip("fd00:98:1::2");
	n = xlb_probe_build(&p, b, sizeof(b));
	cr_assert_eq(n, 40 + 20 + 20);
	cr_assert_eq(b[6], IPPROTO_IPIP, "IPv4 inside IPv6: next header 4");
	cr_assert_eq(be16(b + 4), 40);
	cr_assert_eq(b[40], 0x45);
	assert_l4_csum(b + 40, AF_INET, b + 60, 20, IPPROTO_TCP);
}

Test(probe, refuses_bad_input)
{
	struct xlb_probe_pkt p = syn4();
	uint8_t b[XLB_PROBE_PKT_MAX];
	char big[XLB_CHECK_TEXT_LEN + 1];

	p.outer_src = ip("172.16.0.1");
	cr_assert_eq(xlb_probe_build(&p, b, 59), -ENOSPC);
	cr_assert_eq(xlb_probe_build(&p, b, 60), 60);
	p.dst = ip("fd00:100::10");
	cr_assert_eq(xlb_probe_build(&p, b, sizeof(b)), -EINVAL,
		     "inner families differ");
	p = syn4();
	p.outer_src = ip("fc00:2::1");
	cr_assert_eq(xlb_probe_build(&p, b, sizeof(b)), -EINVAL,
		     "outer families differ");
	p = syn4();
	p.outer_src = ip("172.16.0.1");
	p.proto = IPPROTO_UDP;
	memset(big, 'x', sizeof(big));
	p.payload = big;
	p.payload_len = sizeof(big);
	cr_assert_eq(xlb_probe_build(&p, b, sizeof(b)), -EINVAL,
		     "payload too long");
	p.proto = IPPROTO_ICMP;
	p.payload_len = 0;
	cr_assert_eq(xlb_probe_build(&p, b, sizeof(b)), -EINVAL);
}

/* The real's answer VIP:80 -> node:40000, as an IPv4 raw socket reads it. */
static size_t answer4(uint8_t *b, uint8_t flags, uint32_t ack, uint16_t sport,
		      const char *from)
{
	struct xlb_ip s = ip(from), d = ip("10.98.1.1");

	memset(b, 0, 40);
	b[0] = 0x45;
	b[9] = IPPROTO_TCP;
	memcpy(b + 12, s.a.addr, 4);
	memcpy(b + 16, d.a.addr, 4);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = 40000 >> 8;
	b[23] = 40000 & 0xff;
	b[24] = 0xaa; /* seq 0xaabbccdd */
	b[25] = 0xbb;
	b[26] = 0xcc;
	b[27] = 0xdd;
	b[28] = (uint8_t)(ack >> 24);
	b[29] = (uint8_t)(ack >> 16);
	b[30] = (uint8_t)(ack >> 8);
	b[31] = (uint8_t)ack;
	b[32] = 0x50;
	b[33] = flags;
	return 40;
}

Test(probe, reads_the_answers)
{
	struct xlb_probe_pkt p = syn4();
	uint8_t sa = XLB_PROBE_SYN | XLB_PROBE_ACK;
	uint8_t ra = XLB_PROBE_RST | XLB_PROBE_ACK;
	struct xlb_ip vip6 = ip("fd00:100::10"), other6 = ip("fd00:100::11");
	uint8_t b[64];
	uint32_t seq = 0;
	size_t n;

	n = answer4(b, sa, p.seq + 1, 80, "10.100.0.10");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, AF_INET, NULL, &seq),
		     XLB_PROBE_SYNACK);
	cr_assert_eq(seq, 0xaabbccdd);
	n = answer4(b, ra, p.seq + 1, 80, "10.100.0.10");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, AF_INET, NULL, NULL),
		     XLB_PROBE_REFUSED);
	/* Not ours: another ack, another port, another source, too short,
	 * a SYN-ACK with no ACK flag. */
	n = answer4(b, sa, p.seq + 2, 80, "10.100.0.10");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, AF_INET, NULL, NULL),
		     XLB_PROBE_OTHER);
	n = answer4(b, sa, p.seq + 1, 81, "10.100.0.10");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, AF_INET, NULL, NULL),
		     XLB_PROBE_OTHER);
	n = answer4(b, sa, p.seq + 1, 80, "10.98.1.2");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, AF_INET, NULL, NULL),
		     XLB_PROBE_OTHER, "the real's own address is not the VIP");
	n = answer4(b, sa, p.seq + 1, 80, "10.100.0.10");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, 39, AF_INET, NULL, NULL),
		     XLB_PROBE_OTHER);
	n = answer4(b, XLB_PROBE_SYN, p.seq + 1, 80, "10.100.0.10");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, AF_INET, NULL, NULL),
		     XLB_PROBE_OTHER);
	/* IPv6 raw sockets give the TCP header and the sender apart. */
	p.src = ip("fd00:98:1::1");
	p.dst = vip6;
	n = answer4(b, sa, p.seq + 1, 80, "10.100.0.10");
	cr_assert_eq(
		xlb_probe_tcp_answer(&p, b + 20, n - 20, AF_INET6, &vip6, NULL),
		XLB_PROBE_SYNACK);
	cr_assert_eq(xlb_probe_tcp_answer(&p, b + 20, n - 20, AF_INET6, &other6,
					  NULL),
		     XLB_PROBE_OTHER);
}
