// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data-path probe packets (probe.h): built by hand because this is what
 * the balancer's data plane puts on the wire, not what a kernel tunnel
 * device would (there may be none: no ipip or ip6_tunnel module).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <linux/filter.h>

#include "probe.h"
#include "xlb_hash.h"

#define IPV4_HDR 20
#define IPV6_HDR 40
#define TCP_HDR	 20
#define UDP_HDR	 8

/* Ones' complement sum of len bytes, added to sum. */
static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The L4 checksum over the pseudo-header of src -> dst. */
static uint16_t l4_csum(const struct xlb_ip *src, const struct xlb_ip *dst,
			uint8_t proto, const uint8_t *l4, size_t len)
{
	uint32_t sum = 0;

	sum = csum_add(sum, src->a.addr, xlb_ip_len(src->family));
	sum = csum_add(sum, dst->a.addr, xlb_ip_len(dst->family));
	sum += proto;
	sum += (uint32_t)len;
	sum = csum_add(sum, l4, len);
	return csum_fold(sum);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)get16(b) << 16 | get16(b + 2);
}

/* An IP header of src -> dst carrying payload_len bytes of proto. */
static size_t ip_header(uint8_t *b, const struct xlb_ip *src,
			const struct xlb_ip *dst, uint8_t proto,
			size_t payload_len, uint32_t flow_label)
{
	if (src->family == AF_INET) {
		memset(b, 0, IPV4_HDR);
		b[0] = 0x45;
		put16(b + 2, (uint16_t)(IPV4_HDR + payload_len));
		/* DF, as the data plane sets on its outer header. */
		put16(b + 6, 0x4000);
		b[8] = XLB_PROBE_TTL;
		b[9] = proto;
		memcpy(b + 12, src->a.addr, 4);
		memcpy(b + 16, dst->a.addr, 4);
		put16(b + 10, csum_fold(csum_add(0, b, IPV4_HDR)));
		return IPV4_HDR;
	}
	memset(b, 0, IPV6_HDR);
	put32(b, 6u << 28 | (flow_label & 0xfffff));
	put16(b + 4, (uint16_t)payload_len);
	b[6] = proto;
	b[7] = XLB_PROBE_TTL;
	memcpy(b + 8, src->a.addr, 16);
	memcpy(b + 24, dst->a.addr, 16);
	return IPV6_HDR;
}

/* The outer header's hash the data plane gives the probe's flow
 * (tun_hash, bpf/select.h). */
static uint32_t probe_hash(const struct xlb_probe_pkt *p)
{
	/* The data plane keeps ports in network order and shifts them as
	 * numbers: sport << 16 | dport of the two big-endian words. */
	uint32_t ports = (uint32_t)htons(p->sport) << 16 | htons(p->dport);

	return xlb_tun_hash(p->src.a.addr, ports, p->proto, 0);
}

void xlb_probe_tunnel_source(const struct xlb_ip *base, int plen,
			     const struct xlb_probe_pkt *p, struct xlb_ip *out)
{
	uint32_t h = htonl(probe_hash(p)), mask;

	*out = *base;
	if (base->family == AF_INET) {
		mask = htonl(plen >= 32 ? 0 : 0xffffffffu >> plen);
		out->a.addr[0] = (base->a.addr[0] & ~mask) | (h & mask);
		return;
	}
	plen -= 96;
	if (plen < 0)
		plen = 0;
	mask = htonl(plen >= 32 ? 0 : 0xffffffffu >> plen);
	out->a.addr[3] = (base->a.addr[3] & ~mask) | (h & mask);
}

/* The inner packet (IP + TCP or UDP) at b; its length or -errno. */
static int probe_inner(const struct xlb_probe_pkt *p, uint8_t *b, size_t len)
{
	size_t l3 = p->src.family == AF_INET ? IPV4_HDR : IPV6_HDR;
	size_t l4 = p->proto == IPPROTO_TCP ? TCP_HDR
					    : UDP_HDR + p->payload_len;
	uint8_t *h;

	if (p->src.family != p->dst.family ||
	    (p->src.family != AF_INET && p->src.family != AF_INET6) ||
	    (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP) ||
	    p->payload_len > XLB_CHECK_TEXT_LEN ||
	    (p->payload_len && !p->payload))
		return -EINVAL;
	if (l3 + l4 > len)
		return -ENOSPC;
	ip_header(b, &p->src, &p->dst, p->proto, l4, 0);
	h = b + l3;
	memset(h, 0, l4);
	put16(h, p->sport);
	put16(h + 2, p->dport);
	if (p->proto == IPPROTO_TCP) {
		put32(h + 4, p->seq);
		put32(h + 8, p->ack);
		h[12] = (TCP_HDR / 4) << 4;
		h[13] = p->tcp_flags;
		/* A window, so that the real's stack takes the SYN as any. */
		put16(h + 14, 64240);
		put16(h + 16, l4_csum(&p->src, &p->dst, p->proto, h, l4));
	} else {
		put16(h + 4, (uint16_t)l4);
		if (p->payload_len)
			memcpy(h + UDP_HDR, p->payload, p->payload_len);
		put16(h + 6, l4_csum(&p->src, &p->dst, p->proto, h, l4));
		/* 0 means "no checksum" in UDP over IPv4 and is illegal
		 * over IPv6: the sum's other form. */
		if (!get16(h + 6))
			put16(h + 6, 0xffff);
	}
	return (int)(l3 + l4);
}

/* GUE source ports, as bpf/gue.h: the dynamic range, from the hash. */
#define GUE_SPORT_BASE 0xc000
#define GUE_SPORT_MASK 0x3fff

/* The outer header's length for p. */
static size_t probe_outer_len(const struct xlb_probe_pkt *p)
{
	size_t ip = p->outer_src.family == AF_INET ? IPV4_HDR : IPV6_HDR;

	return p->gue_port ? ip + UDP_HDR : ip;
}

/*
 * The outer header in front of an inner packet of inner_len bytes at
 * b + probe_outer_len(), as bpf/encap.h and bpf/gue.h write it: IP with
 * the inner protocol, or IP + UDP for GUE variant 1 (no GUE header, UDP
 * checksum 0). The one place that knows encapsulations.
 */
static void probe_encap(const struct xlb_probe_pkt *p, uint8_t *b,
			size_t inner_len)
{
	uint8_t inner = p->src.family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	uint32_t hash = probe_hash(p);
	size_t ip;
	uint8_t *u;

	if (!p->gue_port) {
		ip_header(b, &p->outer_src, &p->outer_dst, inner, inner_len,
			  hash);
		return;
	}
	ip = ip_header(b, &p->outer_src, &p->outer_dst, IPPROTO_UDP,
		       inner_len + UDP_HDR, hash);
	u = b + ip;
	put16(u, (uint16_t)(GUE_SPORT_BASE | (hash & GUE_SPORT_MASK)));
	put16(u + 2, p->gue_port);
	put16(u + 4, (uint16_t)(inner_len + UDP_HDR));
	put16(u + 6, 0);
}

int xlb_probe_build(const struct xlb_probe_pkt *p, uint8_t *buf, size_t len)
{
	size_t outer;
	int n;

	if (p->outer_src.family != p->outer_dst.family ||
	    (p->outer_src.family != AF_INET && p->outer_src.family != AF_INET6))
		return -EINVAL;
	outer = probe_outer_len(p);
	if (len < outer)
		return -ENOSPC;
	n = probe_inner(p, buf + outer, len - outer);
	if (n < 0)
		return n;
	probe_encap(p, buf, (size_t)n);
	return (int)outer + n;
}

/*
 * The L4 header of a packet from p->dst to p->src of protocol proto,
 * with its length in *l4_len, or NULL. buf starts with the IP header.
 */
static const uint8_t *answer_l4(const struct xlb_probe_pkt *p,
				const uint8_t *buf, size_t len, uint8_t proto,
				size_t *l4_len)
{
	size_t ihl, tot;

	if (p->dst.family == AF_INET) {
		if (len < IPV4_HDR || (buf[0] >> 4) != 4)
			return NULL;
		ihl = (size_t)(buf[0] & 0xf) * 4;
		tot = get16(buf + 2);
		if (ihl < IPV4_HDR || tot < ihl || tot > len ||
		    buf[9] != proto || (get16(buf + 6) & 0x3fff) ||
		    memcmp(buf + 12, p->dst.a.addr, 4) ||
		    memcmp(buf + 16, p->src.a.addr, 4))
			return NULL;
		*l4_len = tot - ihl;
		return buf + ihl;
	}
	/* IPv6: an answer of ours carries no extension header. */
	if (len < IPV6_HDR || (buf[0] >> 4) != 6 || buf[6] != proto ||
	    (size_t)get16(buf + 4) > len - IPV6_HDR ||
	    memcmp(buf + 8, p->dst.a.addr, 16) ||
	    memcmp(buf + 24, p->src.a.addr, 16))
		return NULL;
	*l4_len = get16(buf + 4);
	return buf + IPV6_HDR;
}

enum xlb_probe_answer xlb_probe_tcp_answer(const struct xlb_probe_pkt *p,
					   const uint8_t *buf, size_t len,
					   uint32_t *peer_seq)
{
	const uint8_t *t;
	size_t n;

	t = answer_l4(p, buf, len, IPPROTO_TCP, &n);
	if (!t || n < TCP_HDR)
		return XLB_PROBE_OTHER;
	if (get16(t) != p->dport || get16(t + 2) != p->sport)
		return XLB_PROBE_OTHER;
	/* Only an answer to our SYN: it acknowledges seq + 1. */
	if (!(t[13] & XLB_PROBE_ACK) || get32(t + 8) != p->seq + 1)
		return XLB_PROBE_OTHER;
	if (t[13] & XLB_PROBE_RST)
		return XLB_PROBE_REFUSED;
	if ((t[13] & XLB_PROBE_SYN) && !(t[13] & XLB_PROBE_FIN)) {
		if (peer_seq)
			*peer_seq = get32(t + 4);
		return XLB_PROBE_SYNACK;
	}
	return XLB_PROBE_OTHER;
}

bool xlb_probe_udp_answer(const struct xlb_probe_pkt *p, const uint8_t *buf,
			  size_t len, const uint8_t **payload,
			  size_t *payload_len)
{
	const uint8_t *u;
	size_t n;

	u = answer_l4(p, buf, len, IPPROTO_UDP, &n);
	if (!u || n < UDP_HDR || get16(u + 4) < UDP_HDR || get16(u + 4) > n ||
	    get16(u) != p->dport || get16(u + 2) != p->sport)
		return false;
	*payload = u + UDP_HDR;
	*payload_len = get16(u + 4) - UDP_HDR;
	return true;
}

size_t xlb_probe_filter(const struct xlb_ip *vip, uint8_t proto,
			struct sock_filter *f)
{
	/* Offsets from the IP header: protocol, then the source words. */
	bool v4 = vip->family == AF_INET;
	size_t words = v4 ? 1 : 4, n = 0, i;
	uint32_t proto_off = v4 ? 9 : 6, src_off = v4 ? 12 : 8;
	uint8_t left;

	/* Every test jumps to the last instruction ("drop") on a miss. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
					      proto_off);
	left = (uint8_t)(2 * words + 1);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, proto,
					      0, left);
	for (i = 0; i < words; i++) {
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      src_off + 4 * i);
		left = (uint8_t)(2 * (words - i - 1) + 1);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      ntohl(vip->a.addr[i]), 0,
						      left);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	return n;
}
