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
#include <linux/filter.h>

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
	uint32_t h = htonl(xlb_tun_hash(p.src.a.addr, ports, IPPROTO_TCP, 0));

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

/* GUE variant 1 (bpf/gue.h): outer IP, UDP to the port, the inner packet. */
Test(probe, gue_ipv4_and_ipv6)
{
	struct xlb_probe_pkt p = syn4();
	uint8_t b[XLB_PROBE_PKT_MAX];
	uint32_t ports = (uint32_t)htons(40000) << 16 | htons(80);
	uint32_t h = xlb_tun_hash(p.src.a.addr, ports, IPPROTO_TCP, 0);
	const uint8_t *u;
	int n;

	p.outer_src = ip("172.16.3.4");
	p.gue_port = 6080;
	n = xlb_probe_build(&p, b, sizeof(b));
	cr_assert_eq(n, 20 + 8 + 20 + 20);
	cr_assert_eq(b[9], IPPROTO_UDP);
	cr_assert_eq(be16(b + 2), 68);
	cr_assert_eq(be16(b + 6), 0x4000, "DF");
	cr_assert_eq(sum16(0, b, 20), 0xffff, "bad outer header checksum");
	u = b + 20;
	cr_assert_eq(be16(u), 0xc000 | (h & 0x3fff),
		     "source port from the flow hash");
	cr_assert_eq(be16(u + 2), 6080);
	cr_assert_eq(be16(u + 4), 8 + 40);
	cr_assert_eq(be16(u + 6), 0, "no UDP checksum, as the data plane");
	cr_assert_eq(u[8], 0x45, "variant 1: the inner IPv4 header at once");
	assert_l4_csum(u + 8, AF_INET, u + 28, 20, IPPROTO_TCP);
	cr_assert_eq(xlb_probe_build(&p, b, 67), -ENOSPC);

	p.outer_src = ip("fc00:2::1");
	p.outer_dst = ip("fd00:98:1::2");
	n = xlb_probe_build(&p, b, sizeof(b));
	cr_assert_eq(n, 40 + 8 + 20 + 20);
	cr_assert_eq(b[6], IPPROTO_UDP);
	cr_assert_eq(be16(b + 4), 8 + 40);
	cr_assert_eq(be16(b + 40 + 2), 6080);
	cr_assert_eq(b[48], 0x45);
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

/*
 * The real's answer VIP:sport -> node:40000 as an AF_PACKET socket reads
 * it (from the IP header), IPv4 or IPv6 by the family of from.
 */
static size_t answer(uint8_t *b, uint8_t proto, uint8_t flags, uint32_t ack,
		     uint16_t sport, const char *from, const char *to,
		     const char *payload)
{
	struct xlb_ip s = ip(from), d = ip(to);
	size_t l3 = s.family == AF_INET ? 20 : 40, plen = strlen(payload);
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8 + plen;
	uint8_t *t = b + l3;

	memset(b, 0, l3 + l4);
	if (s.family == AF_INET) {
		b[0] = 0x45;
		b[2] = (uint8_t)((l3 + l4) >> 8);
		b[3] = (uint8_t)(l3 + l4);
		b[6] = 0x40; /* DF */
		b[9] = proto;
		memcpy(b + 12, s.a.addr, 4);
		memcpy(b + 16, d.a.addr, 4);
	} else {
		b[0] = 0x60;
		b[5] = (uint8_t)l4;
		b[6] = proto;
		memcpy(b + 8, s.a.addr, 16);
		memcpy(b + 24, d.a.addr, 16);
	}
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = 40000 >> 8;
	t[3] = 40000 & 0xff;
	if (proto == IPPROTO_UDP) {
		t[5] = (uint8_t)l4;
		memcpy(t + 8, payload, plen);
		return l3 + l4;
	}
	t[4] = 0xaa; /* seq 0xaabbccdd */
	t[5] = 0xbb;
	t[6] = 0xcc;
	t[7] = 0xdd;
	t[8] = (uint8_t)(ack >> 24);
	t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	t[12] = 0x50;
	t[13] = flags;
	return l3 + l4;
}

#define VIP4  "10.100.0.10"
#define NODE4 "10.98.1.1"

Test(probe, reads_the_answers)
{
	struct xlb_probe_pkt p = syn4();
	uint8_t sa = XLB_PROBE_SYN | XLB_PROBE_ACK;
	uint8_t ra = XLB_PROBE_RST | XLB_PROBE_ACK;
	uint8_t b[128];
	uint32_t seq = 0, ack = p.seq + 1;
	size_t n;

	n = answer(b, IPPROTO_TCP, sa, ack, 80, VIP4, NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, &seq), XLB_PROBE_SYNACK);
	cr_assert_eq(seq, 0xaabbccdd);
	n = answer(b, IPPROTO_TCP, ra, ack, 80, VIP4, NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_REFUSED);
	/* Not ours: another ack, another port, another source or
	 * destination, too short, a SYN without ACK, a fragment. */
	n = answer(b, IPPROTO_TCP, sa, ack + 1, 80, VIP4, NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
	n = answer(b, IPPROTO_TCP, sa, ack, 81, VIP4, NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
	n = answer(b, IPPROTO_TCP, sa, ack, 80, "10.98.1.2", NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER,
		     "the real's own address is not the VIP");
	n = answer(b, IPPROTO_TCP, sa, ack, 80, VIP4, "10.98.1.9", "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
	n = answer(b, IPPROTO_TCP, sa, ack, 80, VIP4, NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n - 1, NULL), XLB_PROBE_OTHER);
	n = answer(b, IPPROTO_TCP, XLB_PROBE_SYN, ack, 80, VIP4, NODE4, "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
	n = answer(b, IPPROTO_TCP, sa, ack, 80, VIP4, NODE4, "");
	b[6] |= 0x20; /* MF */
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
	/* A UDP datagram is not a TCP answer. */
	n = answer(b, IPPROTO_UDP, 0, 0, 80, VIP4, NODE4, "x");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
	/* IPv6. */
	p.src = ip("fd00:98:1::1");
	p.dst = ip("fd00:100::10");
	n = answer(b, IPPROTO_TCP, sa, ack, 80, "fd00:100::10", "fd00:98:1::1",
		   "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_SYNACK);
	n = answer(b, IPPROTO_TCP, sa, ack, 80, "fd00:100::11", "fd00:98:1::1",
		   "");
	cr_assert_eq(xlb_probe_tcp_answer(&p, b, n, NULL), XLB_PROBE_OTHER);
}

Test(probe, reads_udp_answers)
{
	struct xlb_probe_pkt p = syn4();
	const uint8_t *data = NULL;
	uint8_t b[128];
	size_t n, len = 0;

	p.proto = IPPROTO_UDP;
	n = answer(b, IPPROTO_UDP, 0, 0, 80, VIP4, NODE4, "real1 1");
	cr_assert(xlb_probe_udp_answer(&p, b, n, &data, &len));
	cr_assert_eq(len, 7);
	cr_assert_eq(memcmp(data, "real1 1", 7), 0);
	cr_assert_not(xlb_probe_udp_answer(&p, b, n - 1, &data, &len),
		      "shorter than its length fields");
	n = answer(b, IPPROTO_UDP, 0, 0, 53, VIP4, NODE4, "real1 1");
	cr_assert_not(xlb_probe_udp_answer(&p, b, n, &data, &len));
	n = answer(b, IPPROTO_TCP, 0, 0, 80, VIP4, NODE4, "");
	cr_assert_not(xlb_probe_udp_answer(&p, b, n, &data, &len));
	p.src = ip("fd00:98:1::1");
	p.dst = ip("fd00:100::10");
	n = answer(b, IPPROTO_UDP, 0, 0, 80, "fd00:100::10", "fd00:98:1::1",
		   "");
	cr_assert(xlb_probe_udp_answer(&p, b, n, &data, &len));
	cr_assert_eq(len, 0);
}

/* A classic BPF interpreter for what xlb_probe_filter() emits. */
static uint32_t run_filter(const struct sock_filter *f, size_t n,
			   const uint8_t *pkt, size_t len)
{
	uint32_t a = 0;
	size_t pc = 0;

	while (pc < n) {
		const struct sock_filter *i = &f[pc];

		switch (i->code) {
		case BPF_LD | BPF_B | BPF_ABS:
			if (i->k >= len)
				return 0;
			a = pkt[i->k];
			break;
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > len)
				return 0;
			a = (uint32_t)pkt[i->k] << 24 | pkt[i->k + 1] << 16 |
			    pkt[i->k + 2] << 8 | pkt[i->k + 3];
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			cr_assert_fail("unexpected instruction %#x", i->code);
		}
		pc++;
	}
	cr_assert_fail("fell off the end");
	return 0;
}

Test(probe, filter_keeps_the_vips_packets)
{
	struct sock_filter f[XLB_PROBE_FILTER_MAX];
	struct xlb_ip v4 = ip(VIP4), v6 = ip("fd00:100::10");
	uint8_t b[128];
	size_t n, k;

	k = xlb_probe_filter(&v4, IPPROTO_TCP, f);
	cr_assert_leq(k, XLB_PROBE_FILTER_MAX);
	n = answer(b, IPPROTO_TCP, 0, 0, 80, VIP4, NODE4, "");
	cr_assert_neq(run_filter(f, k, b, n), 0);
	n = answer(b, IPPROTO_UDP, 0, 0, 80, VIP4, NODE4, "");
	cr_assert_eq(run_filter(f, k, b, n), 0, "another protocol");
	n = answer(b, IPPROTO_TCP, 0, 0, 80, "10.100.0.11", NODE4, "");
	cr_assert_eq(run_filter(f, k, b, n), 0, "another source");

	k = xlb_probe_filter(&v6, IPPROTO_UDP, f);
	cr_assert_leq(k, XLB_PROBE_FILTER_MAX);
	n = answer(b, IPPROTO_UDP, 0, 0, 80, "fd00:100::10", "fd00:98:1::1",
		   "x");
	cr_assert_neq(run_filter(f, k, b, n), 0);
	/* Each of the four words of the source counts. */
	for (size_t w = 0; w < 4; w++) {
		n = answer(b, IPPROTO_UDP, 0, 0, 80, "fd00:100::10",
			   "fd00:98:1::1", "x");
		b[8 + 4 * w + 3] ^= 1;
		cr_assert_eq(run_filter(f, k, b, n), 0, "word %zu", w);
	}
	n = answer(b, IPPROTO_TCP, 0, 0, 80, "fd00:100::10", "fd00:98:1::1",
		   "");
	cr_assert_eq(run_filter(f, k, b, n), 0, "another protocol");
}
