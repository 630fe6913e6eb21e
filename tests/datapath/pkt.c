// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet builders and checkers for the data-path tests: see pkt.h.
 * Headers are written and read byte by byte in network order, so that
 * nothing here depends on the host's byte order or on alignment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "pkt.h"

#define ETH_P_8021AD_ 0x88a8
#define ARP_LEN	      28       /* Ethernet/IPv4 ARP body */
#define ND_BODY_LEN   (16 + 8) /* target address + one link-layer option */
#define IPV6_MIN_MTU  1280

/* Store v big-endian at b. */
static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v);
}

/* Load a big-endian value from b. */
static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)get16(b) << 16 | get16(b + 2);
}

/* The smaller of two sizes. */
static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Add len bytes to a ones' complement sum of big-endian 16-bit words, an
 * odd last byte padded with zero. Unfolded: callers add a few kilobytes
 * at most, far from overflowing 32 bits.
 */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(b + i);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

/* Fold a sum to 16 bits and complement it: the value to store. */
static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1071 over a buffer (see pkt.h). */
uint16_t pkt_csum(const void *data, size_t len)
{
	return csum_fold(csum_add(0, data, len));
}

/*
 * Sum of the pseudo-header of an L4 segment of l4len bytes behind the
 * IPv4 or IPv6 header at ip (RFC 793, RFC 8200 section 8.1).
 */
static uint32_t pseudo_sum(int family, const uint8_t *ip, uint8_t proto,
			   uint32_t l4len)
{
	uint32_t sum;

	if (family == AF_INET)
		sum = csum_add(0, ip + 12, 8);
	else
		sum = csum_add(0, ip + 8, 32);
	return sum + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* Where an L4 protocol keeps its checksum, or -1 if it has none we know. */
static int l4_csum_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return -1;
	}
}

/* The sum an L4 checksum covers, the checksum field itself included. */
static uint32_t l4_sum(int family, const uint8_t *ip, uint8_t proto,
		       const uint8_t *l4, size_t len)
{
	uint32_t sum = 0;

	if (proto != IPPROTO_ICMP)
		sum = pseudo_sum(family, ip, proto, len);
	return csum_add(sum, l4, len);
}

/* Fill the checksum of the L4 segment at l4 behind the header at ip. */
static void l4_csum_fill(int family, const uint8_t *ip, uint8_t proto,
			 uint8_t *l4, size_t len)
{
	int off = l4_csum_off(proto);
	uint16_t c;

	if (off < 0 || len < (size_t)off + 2)
		return;
	put16(l4 + off, 0);
	c = csum_fold(l4_sum(family, ip, proto, l4, len));
	if (proto == IPPROTO_UDP && !c)
		c = 0xffff; /* 0 means "no checksum" (RFC 768) */
	put16(l4 + off, c);
}

/* Fill the header checksum of the IPv4 header at ip. */
static void ip4_csum_fill(uint8_t *ip)
{
	size_t hlen = (ip[0] & 0xf) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, pkt_csum(ip, hlen));
}

/* "xx:xx:xx:xx:xx:xx" to bytes. */
static int mac_parse(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned int v[ETH_ALEN];
	int i, n = 0;

	if (!s ||
	    sscanf(s, "%x:%x:%x:%x:%x:%x%n", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &n) != ETH_ALEN ||
	    s[n])
		return -EINVAL;
	for (i = 0; i < ETH_ALEN; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = v[i];
	}
	return 0;
}

/* An address string of the given family to bytes. */
static int addr_parse(int family, const char *s, uint8_t *out)
{
	if (!s || inet_pton(family, s, out) != 1)
		return -EINVAL;
	return 0;
}

/* A spec's TTL as it goes on the wire; -EINVAL when out of range. */
static int ttl_value(int ttl, int dflt)
{
	if (ttl == PKT_TTL_ZERO)
		return 0;
	if (ttl < 0 || ttl > 255)
		return -EINVAL;
	return ttl ? ttl : dflt;
}

/* ICMP types that quote the packet they are about (RFC 792, RFC 4443). */
static bool icmp4_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
	       type == ICMP_REDIRECT || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

static bool icmp6_is_error(uint8_t type)
{
	return type < 128;
}

/* Whether a spec is a neighbour solicitation or advertisement. */
static bool is_nd(const struct pkt_spec *s)
{
	return s->family == AF_INET6 && s->proto == IPPROTO_ICMPV6 &&
	       (s->icmp_type == PKT_ND_NS || s->icmp_type == PKT_ND_NA);
}

/* The protocol number of an extension header type. */
static uint8_t ext6_proto(enum pkt_ext6_type type)
{
	switch (type) {
	case PKT_EXT_HOPOPTS:
		return IPPROTO_HOPOPTS;
	case PKT_EXT_ROUTING:
		return IPPROTO_ROUTING;
	case PKT_EXT_DSTOPTS:
		return IPPROTO_DSTOPTS;
	default:
		return IPPROTO_FRAGMENT;
	}
}

/* Bytes of the IPv6 extension header a spec asks for; -EINVAL if bad. */
static int ext6_len(const struct pkt_ext6 *e)
{
	switch (e->type) {
	case PKT_EXT_NONE:
		return 0;
	case PKT_EXT_FRAGMENT:
		return 8;
	case PKT_EXT_HOPOPTS:
	case PKT_EXT_ROUTING:
	case PKT_EXT_DSTOPTS:
		if (!e->len)
			return 8;
		if (e->len % 8)
			return -EINVAL;
		return e->len;
	default:
		return -EINVAL;
	}
}

/* Write the extension header e of len bytes at b, followed by next. */
static void ext6_write(uint8_t *b, const struct pkt_ext6 *e, int len,
		       uint8_t next)
{
	memset(b, 0, len);
	b[0] = next;
	if (e->type == PKT_EXT_FRAGMENT) {
		put16(b + 2, (uint16_t)(e->frag_off << 3) | e->more);
		put32(b + 4, e->id);
		return;
	}
	b[1] = len / 8 - 1;
	if (e->type == PKT_EXT_ROUTING)
		return; /* routing type 0, segments left 0: ignored */
	b[2] = 1;	/* PadN over the rest of the options */
	b[3] = len - 4;
}

/* The destination MAC for a spec that names none. */
static void default_dmac(const struct pkt_spec *s, const uint8_t *daddr,
			 uint8_t mac[ETH_ALEN])
{
	static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff,
						0xff, 0xff, 0xff};

	if (s->family == PKT_ARP && s->arp_op != 2) {
		memcpy(mac, bcast, ETH_ALEN);
	} else if (s->family == AF_INET6 && daddr[0] == 0xff) {
		/* RFC 2464 section 7: IPv6 multicast to 33:33:last 4 bytes */
		mac[0] = 0x33;
		mac[1] = 0x33;
		memcpy(mac + 2, daddr + 12, 4);
	} else {
		mac_parse(PKT_MAC_XLB, mac);
	}
}

/* The spec's addresses; a solicitation's destination may be derived. */
static int spec_addrs(const struct pkt_spec *s, uint8_t *saddr, uint8_t *daddr,
		      uint8_t *target)
{
	int family = s->family == PKT_ARP ? AF_INET : s->family;
	int err;

	if (!family)
		return 0;
	err = addr_parse(family, s->saddr, saddr);
	if (err)
		return err;
	if (is_nd(s)) {
		err = addr_parse(AF_INET6, s->nd_target, target);
		if (err)
			return err;
	}
	if (s->daddr)
		return addr_parse(family, s->daddr, daddr);
	if (is_nd(s) && s->icmp_type == PKT_ND_NS) {
		/* solicited-node multicast ff02::1:ffXX:XXXX (RFC 4291) */
		err = addr_parse(AF_INET6, "ff02::1:ff00:0", daddr);
		memcpy(daddr + 13, target + 13, 3);
		return err;
	}
	if (is_nd(s))
		return addr_parse(AF_INET6, "ff02::1", daddr);
	return -EINVAL;
}

/* Bytes of TCP options a spec asks for, padded to a multiple of 4. */
static size_t tcp_opts_room(const struct pkt_spec *s)
{
	return ((s->mss ? 4u : 0u) + s->tcp_opts_len + 3u) & ~3u;
}

/* Length of the L4 header a spec asks for, up to where payload starts. */
static size_t l4_hdr_len(const struct pkt_spec *s)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		return 20 + tcp_opts_room(s);
	case IPPROTO_UDP:
		return 8;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8 + (is_nd(s) ? ND_BODY_LEN : 0);
	default:
		return 0;
	}
}

/* Whether a spec is an ICMP error, which quotes another packet. */
static bool spec_is_error(const struct pkt_spec *s)
{
	if (s->family == AF_INET && s->proto == IPPROTO_ICMP)
		return icmp4_is_error(s->icmp_type);
	if (s->family == AF_INET6 && s->proto == IPPROTO_ICMPV6)
		return icmp6_is_error(s->icmp_type);
	return false;
}

static int build(struct pkt *p, const struct pkt_spec *s, int depth);

/*
 * Write the payload at p->payload_off: the quoted packet of an ICMP error,
 * the spec's bytes or a counting pattern. Sets p->len.
 */
static int put_payload(struct pkt *p, const struct pkt_spec *s, int depth)
{
	const uint8_t *src = s->payload;
	size_t len = s->payload_len, i;
	struct pkt q;
	int err;

	if (s->quote && spec_is_error(s)) {
		if (depth >= 3)
			return -EINVAL;
		err = build(&q, s->quote, depth + 1);
		if (err)
			return err;
		src = q.buf + q.l3_off;
		len = q.len - q.l3_off;
		if (s->quote_len)
			len = min_sz(len, s->quote_len);
		else if (s->family == AF_INET)
			len = min_sz(len, q.l4_off - q.l3_off + 8);
		else
			len = min_sz(len, IPV6_MIN_MTU -
						  (p->payload_off - p->l3_off));
	}
	if (p->payload_off + len > PKT_MAX)
		return -EMSGSIZE;
	if (src)
		memcpy(p->buf + p->payload_off, src, len);
	else
		for (i = 0; i < len; i++)
			p->buf[p->payload_off + i] = i & 0xff;
	p->len = p->payload_off + len;
	return 0;
}

/* Fill the TCP header at p->l4_off. */
static void put_tcp(struct pkt *p, const struct pkt_spec *s)
{
	uint8_t *b = p->buf + p->l4_off;
	size_t hlen = p->payload_off - p->l4_off, opt = 20;

	put16(b, s->sport);
	put16(b + 2, s->dport);
	put32(b + 4, s->seq);
	put32(b + 8, s->ack);
	b[12] = (hlen / 4) << 4;
	b[13] = s->tcp_flags;
	put16(b + 14, s->window ? s->window : 65535);
	if (s->mss) {
		b[20] = 2; /* kind MSS, length 4 */
		b[21] = 4;
		put16(b + 22, s->mss);
		opt += 4;
	}
	memcpy(b + opt, s->tcp_opts, s->tcp_opts_len);
	memset(b + opt + s->tcp_opts_len, 0, hlen - opt - s->tcp_opts_len);
}

/* Fill an ICMP or ICMPv6 header (and ND body) at p->l4_off. */
static void put_icmp(struct pkt *p, const struct pkt_spec *s,
		     const uint8_t *target)
{
	uint8_t *b = p->buf + p->l4_off;
	bool v6 = s->proto == IPPROTO_ICMPV6;
	bool echo;

	b[0] = s->icmp_type;
	b[1] = s->icmp_code;
	if (v6)
		echo = s->icmp_type == ICMPV6_ECHO_REQUEST ||
		       s->icmp_type == ICMPV6_ECHO_REPLY;
	else
		echo = s->icmp_type == ICMP_ECHO ||
		       s->icmp_type == ICMP_ECHOREPLY;
	if (echo) {
		put16(b + 4, s->icmp_id);
		put16(b + 6, s->icmp_seq);
	} else if (is_nd(s)) {
		bool na = s->icmp_type == PKT_ND_NA;

		if (na)
			b[4] = 0x60; /* solicited, override */
		memcpy(b + 8, target, 16);
		b[24] = na ? 2 : 1; /* target / source link-layer address */
		b[25] = 1;	    /* in units of 8 bytes */
		mac_parse(s->smac ? s->smac : PKT_MAC_CLIENT, b + 26);
	} else if (v6) {
		put32(b + 4, s->mtu);
	} else if (s->icmp_type == ICMP_PARAMETERPROB) {
		b[4] = s->mtu;
	} else {
		put16(b + 6, s->mtu); /* next-hop MTU (RFC 1191) */
	}
}

/* Fill the ARP body at p->l3_off (RFC 826, Ethernet and IPv4). */
static int put_arp(struct pkt *p, const struct pkt_spec *s,
		   const uint8_t *saddr, const uint8_t *daddr)
{
	uint8_t *b = p->buf + p->l3_off;
	uint16_t op = s->arp_op ? s->arp_op : 1;

	put16(b, 1); /* Ethernet */
	put16(b + 2, ETH_P_IP);
	b[4] = ETH_ALEN;
	b[5] = 4;
	put16(b + 6, op);
	memcpy(b + 8, p->buf + ETH_ALEN, ETH_ALEN);
	memcpy(b + 14, saddr, 4);
	if (op != 1)
		memcpy(b + 18, p->buf, ETH_ALEN);
	memcpy(b + 24, daddr, 4);
	return 0;
}

/* Fill the IPv4 header at p->l3_off and every checksum. */
static void put_ip4(struct pkt *p, const struct pkt_spec *s, int ttl,
		    const uint8_t *saddr, const uint8_t *daddr)
{
	uint8_t *b = p->buf + p->l3_off;
	size_t hlen = p->l4_off - p->l3_off;
	uint16_t frag = s->frag_off & 0x1fff;

	b[0] = 0x40 | hlen / 4;
	b[1] = s->tos;
	put16(b + 2, p->len - p->l3_off);
	put16(b + 4, s->ip_id);
	if (s->df)
		frag |= 0x4000;
	if (s->mf)
		frag |= 0x2000;
	put16(b + 6, frag);
	b[8] = ttl;
	b[9] = s->proto;
	memcpy(b + 12, saddr, 4);
	memcpy(b + 16, daddr, 4);
	memcpy(b + 20, s->ip_opts, s->ip_opts_len);
	if (s->proto != IPPROTO_UDP || !s->udp_csum_zero)
		l4_csum_fill(AF_INET, b, s->proto, p->buf + p->l4_off,
			     p->len - p->l4_off);
	ip4_csum_fill(b);
}

/* Fill the IPv6 header and extension header at p->l3_off, and L4's sum. */
static void put_ip6(struct pkt *p, const struct pkt_spec *s, int ttl,
		    const uint8_t *saddr, const uint8_t *daddr)
{
	uint8_t *b = p->buf + p->l3_off;
	int elen = p->l4_off - p->l3_off - XLB_IPV6_HDR_LEN;

	put32(b, 6u << 28 | (uint32_t)s->tos << 20 | (s->flow_label & 0xfffff));
	put16(b + 4, p->len - p->l3_off - XLB_IPV6_HDR_LEN);
	b[6] = elen ? ext6_proto(s->ext.type) : s->proto;
	b[7] = ttl;
	memcpy(b + 8, saddr, 16);
	memcpy(b + 24, daddr, 16);
	if (elen)
		ext6_write(b + XLB_IPV6_HDR_LEN, &s->ext, elen, s->proto);
	l4_csum_fill(AF_INET6, b, s->proto, p->buf + p->l4_off,
		     p->len - p->l4_off);
}

/* Build s into p; depth counts the ICMP quotes being built. */
static int build(struct pkt *p, const struct pkt_spec *s, int depth)
{
	uint8_t saddr[16] = {0}, daddr[16] = {0}, target[16] = {0};
	uint16_t type = s->ethertype;
	size_t opts = (s->ip_opts_len + 3u) & ~3u;
	int ttl, elen = 0, err;

	memset(p, 0, sizeof(*p));
	if (type && s->family)
		return -EINVAL;
	switch (s->family) {
	case 0:
		if (!type)
			return -EINVAL;
		break;
	case AF_INET:
		type = ETH_P_IP;
		if (s->ip_opts_len > sizeof(s->ip_opts))
			return -EINVAL;
		break;
	case AF_INET6:
		type = ETH_P_IPV6;
		elen = ext6_len(&s->ext);
		if (elen < 0)
			return elen;
		break;
	case PKT_ARP:
		type = ETH_P_ARP;
		break;
	default:
		return -EINVAL;
	}
	if (tcp_opts_room(s) > 40)
		return -EINVAL; /* a 4-bit data offset: 60 bytes of header */
	ttl = ttl_value(s->ttl, is_nd(s) ? 255 : 64);
	if (ttl < 0)
		return ttl;
	err = spec_addrs(s, saddr, daddr, target);
	if (err)
		return err;

	/* Ethernet, then lay out every header before filling any. */
	err = mac_parse(s->smac ? s->smac : PKT_MAC_CLIENT, p->buf + ETH_ALEN);
	if (err)
		return err;
	if (s->dmac)
		err = mac_parse(s->dmac, p->buf);
	else
		default_dmac(s, daddr, p->buf);
	if (err)
		return err;
	p->l3_off = ETH_HLEN;
	if (s->vlan) {
		put16(p->buf + 12, ETH_P_8021Q);
		put16(p->buf + 14, s->vlan_tci);
		p->l3_off += 4;
	}
	put16(p->buf + p->l3_off - 2, type);
	p->family = s->family;
	p->inner_l3_off = p->l3_off;
	p->l4_off = p->l3_off;
	if (s->family == AF_INET)
		p->l4_off += XLB_IPV4_HDR_LEN + opts;
	else if (s->family == AF_INET6)
		p->l4_off += XLB_IPV6_HDR_LEN + elen;
	else if (s->family == PKT_ARP)
		p->l4_off += ARP_LEN;
	p->payload_off = p->l4_off;
	if (s->family == AF_INET || s->family == AF_INET6)
		p->payload_off += l4_hdr_len(s);

	err = put_payload(p, s, depth);
	if (err)
		return err;
	if (s->family == PKT_ARP)
		return put_arp(p, s, saddr, daddr);
	if (s->family != AF_INET && s->family != AF_INET6)
		return 0;
	switch (s->proto) {
	case IPPROTO_TCP:
		put_tcp(p, s);
		break;
	case IPPROTO_UDP:
		put16(p->buf + p->l4_off, s->sport);
		put16(p->buf + p->l4_off + 2, s->dport);
		put16(p->buf + p->l4_off + 4, p->len - p->l4_off);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put_icmp(p, s, target);
		break;
	}
	if (s->family == AF_INET)
		put_ip4(p, s, ttl, saddr, daddr);
	else
		put_ip6(p, s, ttl, saddr, daddr);
	return 0;
}

/* Build a frame from a spec (see pkt.h). */
int pkt_build(struct pkt *p, const struct pkt_spec *spec)
{
	return build(p, spec, 0);
}

/* Rebuild the frame around an outer header: L2, outer L3, old L3 on. */
int pkt_encap(struct pkt *p, const struct pkt_outer *o)
{
	uint8_t saddr[16], daddr[16], out[PKT_MAX];
	size_t inner = p->len - p->l3_off, l2 = 12, hlen, shift;
	bool vlan = p->l3_off == ETH_HLEN + 4;
	uint8_t proto;
	uint8_t *b;
	int ttl, err;

	if (p->family != AF_INET && p->family != AF_INET6)
		return -EINVAL;
	if (o->family != AF_INET && o->family != AF_INET6)
		return -EINVAL;
	err = addr_parse(o->family, o->saddr, saddr);
	if (!err)
		err = addr_parse(o->family, o->daddr, daddr);
	ttl = ttl_value(o->ttl, 64);
	if (err || ttl < 0)
		return -EINVAL;
	hlen = o->family == AF_INET ? XLB_IPV4_HDR_LEN : XLB_IPV6_HDR_LEN;
	proto = p->family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;

	/* MACs, the tag unless stripped, the new ethertype. */
	memcpy(out, p->buf, 12);
	if (o->dmac && mac_parse(o->dmac, out))
		return -EINVAL;
	if (o->smac && mac_parse(o->smac, out + ETH_ALEN))
		return -EINVAL;
	if (vlan && !o->strip_vlan) {
		memcpy(out + 12, p->buf + 12, 4);
		l2 += 4;
	}
	put16(out + l2, o->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	l2 += 2;
	if (l2 + hlen + inner > PKT_MAX ||
	    (o->family == AF_INET && hlen + inner > 0xffff))
		return -EMSGSIZE;

	b = out + l2;
	memset(b, 0, hlen);
	if (o->family == AF_INET) {
		b[0] = 0x45;
		b[1] = o->tos;
		put16(b + 2, hlen + inner);
		put16(b + 4, o->id);
		put16(b + 6, o->df ? 0x4000 : 0);
		b[8] = ttl;
		b[9] = proto;
		memcpy(b + 12, saddr, 4);
		memcpy(b + 16, daddr, 4);
		ip4_csum_fill(b);
	} else {
		put32(b, 6u << 28 | (uint32_t)o->tos << 20 |
				 (o->flow_label & 0xfffff));
		put16(b + 4, inner);
		b[6] = proto;
		b[7] = ttl;
		memcpy(b + 8, saddr, 16);
		memcpy(b + 24, daddr, 16);
	}
	memcpy(b + hlen, p->buf + p->l3_off, inner);

	shift = l2 + hlen - p->l3_off; /* > 0: hlen exceeds a VLAN tag */
	memcpy(p->buf, out, l2 + hlen + inner);
	p->len = l2 + hlen + inner;
	p->l3_off = l2;
	p->inner_l3_off += shift;
	p->l4_off += shift;
	p->payload_off += shift;
	p->family = o->family;
	return 0;
}

/* Cut the frame; offsets past the end are left for the test to misuse. */
void pkt_truncate(struct pkt *p, size_t len)
{
	if (len < p->len)
		p->len = len;
}

/*
 * The frame walker behind pkt_parse(), pkt_verify_checksums() and
 * pkt_fix_checksums(): bounds are always checked; strict adds lengths and
 * checksums; wr (the same bytes as f) makes it rewrite checksums instead.
 */
struct walk {
	const uint8_t *f;
	uint8_t *wr;
	size_t len;
	bool strict;
	struct pkt_info *info;
	char *why;
	size_t whylen;
};

/* Record why the walk stopped; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct walk *w,
						      const char *fmt, ...)
{
	va_list ap;

	if (w->why && w->whylen) {
		va_start(ap, fmt);
		vsnprintf(w->why, w->whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Fill the address fields of ip from alen-byte addresses at s and d. */
static void ip_addrs(struct pkt_ip_info *ip, const uint8_t *s, const uint8_t *d,
		     size_t alen)
{
	memcpy(ip->saddr.addr, s, alen);
	memcpy(ip->daddr.addr, d, alen);
	inet_ntop(ip->family, s, ip->src, sizeof(ip->src));
	inet_ntop(ip->family, d, ip->dst, sizeof(ip->dst));
}

/*
 * The IPv4 header at off, bytes up to end. A quoted header (in an ICMP
 * error) is checked but not fixed, and its length field is not checked:
 * the quote is cut short. Sets *l4end to where the datagram ends.
 */
static int ip4_hdr(struct walk *w, struct pkt_ip_info *ip, size_t off,
		   size_t end, bool quoted, size_t *l4end)
{
	const uint8_t *b = w->f + off;
	size_t avail = end - off, hlen;
	uint16_t frag, c;
	uint32_t sum;

	if (avail < XLB_IPV4_HDR_LEN)
		return fail(w, "IPv4 header at %zu: %zu bytes, need 20", off,
			    avail);
	if (b[0] >> 4 != 4)
		return fail(w, "IPv4 header at %zu: version %u", off,
			    b[0] >> 4);
	hlen = (b[0] & 0xf) * 4;
	if (hlen < XLB_IPV4_HDR_LEN || hlen > avail)
		return fail(w, "IPv4 header at %zu: IHL %zu, %zu bytes left",
			    off, hlen / 4, avail);
	ip->family = AF_INET;
	ip->off = off;
	ip->hdr_len = hlen;
	ip->tot_len = get16(b + 2);
	ip->tos = b[1];
	ip->id = get16(b + 4);
	frag = get16(b + 6);
	ip->df = frag & 0x4000;
	ip->mf = frag & 0x2000;
	ip->frag_off = frag & 0x1fff;
	ip->fragment = ip->mf || ip->frag_off;
	ip->ttl = b[8];
	ip->proto = b[9];
	ip_addrs(ip, b + 12, b + 16, 4);

	*l4end = end;
	if (!quoted) {
		if (ip->tot_len < hlen)
			return fail(w, "IPv4 at %zu: total length %zu < %zu",
				    off, ip->tot_len, hlen);
		if (w->strict && ip->tot_len != avail)
			return fail(w,
				    "IPv4 at %zu: total length %zu, %zu bytes "
				    "in frame",
				    off, ip->tot_len, avail);
		*l4end = off + min_sz(ip->tot_len, avail);
	}
	if (w->wr && !quoted) {
		ip4_csum_fill(w->wr + off);
	} else if (w->strict) {
		sum = csum_add(0, b, hlen);
		if (csum_fold(sum)) {
			c = csum_fold(sum - get16(b + 10));
			return fail(w,
				    "IPv4%s header checksum at %zu is 0x%04x, "
				    "want 0x%04x",
				    quoted ? " quoted" : "", off + 10,
				    get16(b + 10), c);
		}
	}
	return 0;
}

/*
 * The IPv6 header at off and its extension headers, bytes up to end.
 * Sets *l4off past the extension headers and *l4end where the packet ends.
 */
static int ip6_hdr(struct walk *w, struct pkt_ip_info *ip, size_t off,
		   size_t end, bool quoted, size_t *l4off, size_t *l4end)
{
	const uint8_t *b = w->f + off;
	size_t avail = end - off, p, elen;
	uint8_t nh;
	int i;

	if (avail < XLB_IPV6_HDR_LEN)
		return fail(w, "IPv6 header at %zu: %zu bytes, need 40", off,
			    avail);
	if (b[0] >> 4 != 6)
		return fail(w, "IPv6 header at %zu: version %u", off,
			    b[0] >> 4);
	ip->family = AF_INET6;
	ip->off = off;
	ip->tot_len = get16(b + 4) + XLB_IPV6_HDR_LEN;
	ip->tos = get32(b) >> 20;
	ip->flow_label = get32(b) & 0xfffff;
	ip->ttl = b[7];
	ip_addrs(ip, b + 8, b + 24, 16);

	*l4end = end;
	if (!quoted) {
		if (w->strict && ip->tot_len != avail)
			return fail(w,
				    "IPv6 at %zu: payload length %zu, %zu "
				    "bytes follow",
				    off, ip->tot_len - XLB_IPV6_HDR_LEN,
				    avail - XLB_IPV6_HDR_LEN);
		*l4end = off + min_sz(ip->tot_len, avail);
	}
	nh = b[6];
	p = off + XLB_IPV6_HDR_LEN;
	for (i = 0; i < 8; i++) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;
		elen = nh == IPPROTO_FRAGMENT ? 8 : 2;
		if (p + elen > *l4end && quoted)
			break; /* a quote may end anywhere */
		if (p + elen > *l4end)
			return fail(w, "IPv6 extension header %u at %zu cut",
				    nh, p);
		if (nh == IPPROTO_FRAGMENT) {
			ip->frag_off = get16(w->f + p + 2) >> 3;
			ip->mf = w->f[p + 3] & 1;
			ip->fragment = ip->frag_off || ip->mf;
		} else {
			elen = (w->f[p + 1] + 1) * 8;
			if (p + elen > *l4end && quoted)
				break;
			if (p + elen > *l4end)
				return fail(w,
					    "IPv6 extension header %u at %zu: "
					    "%zu bytes, past the end",
					    nh, p, elen);
		}
		nh = w->f[p];
		p += elen;
	}
	ip->proto = nh;
	ip->hdr_len = p - off;
	*l4off = p;
	return 0;
}

/* Whether a whole IP header (options included) starts at off. */
static bool quote_complete(const struct walk *w, size_t off, size_t end)
{
	size_t avail = end - off, hlen;

	if (w->f[off] >> 4 == 6)
		return avail >= XLB_IPV6_HDR_LEN;
	if (w->f[off] >> 4 != 4 || avail < XLB_IPV4_HDR_LEN)
		return false;
	hlen = (w->f[off] & 0xf) * 4;
	return hlen >= XLB_IPV4_HDR_LEN && hlen <= avail;
}

/*
 * The packet quoted by an ICMP error at off: addresses and ports. A quote
 * too short for a whole IP header is no quote (has_quote stays false)
 * rather than an error: the ICMP message itself is still consistent.
 */
static int walk_quote(struct walk *w, size_t off, size_t end)
{
	struct pkt_ip_info *q = &w->info->quote;
	size_t l4off, l4end;
	int err;

	if (off >= end || !quote_complete(w, off, end))
		return 0;
	if (w->f[off] >> 4 == 4) {
		err = ip4_hdr(w, q, off, end, true, &l4end);
		l4off = off + q->hdr_len;
	} else {
		err = ip6_hdr(w, q, off, end, true, &l4off, &l4end);
	}
	if (err)
		return err;
	w->info->has_quote = true;
	if ((q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) &&
	    !q->fragment && l4off + 4 <= end) {
		q->sport = get16(w->f + l4off);
		q->dport = get16(w->f + l4off + 2);
	}
	return 0;
}

/* Check or fix the checksum of the n-byte L4 segment at l4. */
static int l4_csum(struct walk *w, const struct pkt_ip_info *ip, size_t l4,
		   size_t n)
{
	static const char *const names[256] = {
		[IPPROTO_TCP] = "TCP",
		[IPPROTO_UDP] = "UDP",
		[IPPROTO_ICMP] = "ICMP",
		[IPPROTO_ICMPV6] = "ICMPv6",
	};
	const uint8_t *b = w->f + l4;
	int off = l4_csum_off(ip->proto);
	uint16_t got, want;
	uint32_t sum;

	if (w->wr) {
		l4_csum_fill(ip->family, w->f + ip->off, ip->proto, w->wr + l4,
			     n);
		return 0;
	}
	if (!w->strict)
		return 0;
	sum = l4_sum(ip->family, w->f + ip->off, ip->proto, b, n);
	if (!csum_fold(sum))
		return 0;
	got = get16(b + off);
	want = csum_fold(sum - got);
	if (ip->proto == IPPROTO_UDP && !want)
		want = 0xffff;
	return fail(w, "%s checksum at %zu is 0x%04x, want 0x%04x",
		    names[ip->proto], l4 + off, got, want);
}

/* Read the MSS option, if any, from TCP options of len bytes at b. */
static uint16_t tcp_mss(const uint8_t *b, size_t len)
{
	size_t i = 0;

	while (i < len && b[i] != 0) {
		if (b[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || b[i + 1] < 2 || i + b[i + 1] > len)
			break;
		if (b[i] == 2 && b[i + 1] == 4)
			return get16(b + i + 2);
		i += b[i + 1];
	}
	return 0;
}

/* The ICMP or ICMPv6 message at l4 of n bytes. */
static int walk_icmp(struct walk *w, const struct pkt_ip_info *ip, size_t l4,
		     size_t n)
{
	struct pkt_info *info = w->info;
	const uint8_t *b = w->f + l4;
	bool err_msg;
	int err;

	if (n < 8)
		return fail(w, "ICMP header at %zu: %zu bytes, need 8", l4, n);
	if ((ip->proto == IPPROTO_ICMP) != (ip->family == AF_INET)) {
		if (!w->strict)
			return 0;
		return fail(w, "ICMP%s over IPv%d at %zu",
			    ip->proto == IPPROTO_ICMP ? "" : "v6",
			    ip->family == AF_INET ? 4 : 6, l4);
	}
	info->icmp_type = b[0];
	info->icmp_code = b[1];
	info->icmp_id = get16(b + 4);
	info->icmp_seq = get16(b + 6);
	info->payload_off = l4 + 8;
	info->payload_len = n - 8;
	if (ip->family == AF_INET) {
		info->mtu = get16(b + 6);
		err_msg = icmp4_is_error(b[0]);
	} else {
		info->mtu = get32(b + 4);
		err_msg = icmp6_is_error(b[0]);
	}
	err = l4_csum(w, ip, l4, n);
	if (!err && err_msg)
		err = walk_quote(w, l4 + 8, l4 + n);
	return err;
}

static int walk_ip(struct walk *w, size_t off, size_t end, int family);

/* What follows the network header ip: L4 at l4, bytes up to end. */
static int walk_l4(struct walk *w, const struct pkt_ip_info *ip, size_t l4,
		   size_t end)
{
	struct pkt_info *info = w->info;
	const uint8_t *b = w->f + l4;
	size_t n = end - l4, hlen;

	if (ip->proto == IPPROTO_IPIP)
		return walk_ip(w, l4, end, AF_INET);
	if (ip->proto == IPPROTO_IPV6)
		return walk_ip(w, l4, end, AF_INET6);
	info->proto = ip->proto;
	info->l4_off = l4;
	info->l4_len = n;
	info->payload_off = l4;
	info->payload_len = n;
	switch (ip->proto) {
	case IPPROTO_TCP:
		if (n < 20)
			return fail(w, "TCP header at %zu: %zu bytes, need 20",
				    l4, n);
		hlen = (b[12] >> 4) * 4;
		if (hlen < 20 || hlen > n)
			return fail(w, "TCP at %zu: data offset %zu, %zu bytes",
				    l4, hlen / 4, n);
		info->sport = get16(b);
		info->dport = get16(b + 2);
		info->seq = get32(b + 4);
		info->ack = get32(b + 8);
		info->tcp_flags = b[13];
		info->mss = tcp_mss(b + 20, hlen - 20);
		info->payload_off = l4 + hlen;
		info->payload_len = n - hlen;
		return l4_csum(w, ip, l4, n);
	case IPPROTO_UDP:
		if (n < 8)
			return fail(w, "UDP header at %zu: %zu bytes, need 8",
				    l4, n);
		hlen = get16(b + 4);
		if (hlen < 8 || (w->strict && hlen != n))
			return fail(w, "UDP at %zu: length %zu, %zu bytes", l4,
				    hlen, n);
		n = min_sz(n, hlen);
		info->sport = get16(b);
		info->dport = get16(b + 2);
		info->payload_off = l4 + 8;
		info->payload_len = n - 8;
		if (!get16(b + 6) && ip->family == AF_INET)
			return 0; /* no checksum: allowed over IPv4 only */
		if (!get16(b + 6) && w->strict)
			return fail(w, "UDP at %zu: zero checksum over IPv6",
				    l4);
		return l4_csum(w, ip, l4, n);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return walk_icmp(w, ip, l4, n);
	default:
		return 0;
	}
}

/* One network header at off (bytes up to end), then what it carries. */
static int walk_ip(struct walk *w, size_t off, size_t end, int family)
{
	struct pkt_ip_info *ip;
	size_t l4, l4end;
	int err;

	if (w->info->n_ip == PKT_MAX_IP)
		return fail(w, "more than %d IP headers", PKT_MAX_IP);
	ip = &w->info->ip[w->info->n_ip++];
	if (family == AF_INET) {
		err = ip4_hdr(w, ip, off, end, false, &l4end);
		l4 = off + ip->hdr_len;
	} else {
		err = ip6_hdr(w, ip, off, end, false, &l4, &l4end);
	}
	if (err)
		return err;
	if (ip->fragment)
		return 0; /* no L4 to follow, nor a checksum to check */
	return walk_l4(w, ip, l4, l4end);
}

/* Ethernet and an optional VLAN tag, then the network layer. */
static int walk_frame(struct walk *w)
{
	struct pkt_info *info = w->info;
	size_t off = ETH_HLEN;
	uint16_t type;

	memset(info, 0, sizeof(*info));
	if (w->len < ETH_HLEN)
		return fail(w, "frame of %zu bytes, shorter than Ethernet",
			    w->len);
	memcpy(info->dmac, w->f, ETH_ALEN);
	memcpy(info->smac, w->f + ETH_ALEN, ETH_ALEN);
	type = get16(w->f + 12);
	if (type == ETH_P_8021Q || type == ETH_P_8021AD_) {
		if (w->len < ETH_HLEN + 4)
			return fail(w, "VLAN tag cut at %zu bytes", w->len);
		info->vlan = true;
		info->vlan_tci = get16(w->f + 14);
		type = get16(w->f + 16);
		off += 4;
	}
	info->ethertype = type;
	switch (type) {
	case ETH_P_IP:
		return walk_ip(w, off, w->len, AF_INET);
	case ETH_P_IPV6:
		return walk_ip(w, off, w->len, AF_INET6);
	case ETH_P_ARP:
		if (w->len - off < ARP_LEN)
			return fail(w, "ARP at %zu: %zu bytes, need %d", off,
				    w->len - off, ARP_LEN);
		return 0;
	default:
		return 0;
	}
}

/* Walk a frame, checking bounds only. */
int pkt_parse(const uint8_t *frame, size_t len, struct pkt_info *info,
	      char *why, size_t whylen)
{
	struct walk w = {
		.f = frame,
		.len = len,
		.info = info,
		.why = why,
		.whylen = whylen,
	};

	return walk_frame(&w);
}

/* Walk a frame, checking every length and checksum too. */
int pkt_verify_checksums(const uint8_t *frame, size_t len, char *why,
			 size_t whylen)
{
	struct pkt_info info;
	struct walk w = {
		.f = frame,
		.len = len,
		.strict = true,
		.info = &info,
		.why = why,
		.whylen = whylen,
	};

	return walk_frame(&w);
}

/* Walk a built frame, rewriting its checksums. */
void pkt_fix_checksums(struct pkt *p)
{
	struct pkt_info info;
	struct walk w = {
		.f = p->buf,
		.wr = p->buf,
		.len = p->len,
		.info = &info,
	};

	walk_frame(&w);
}

/* Compare two frames byte by byte. */
ssize_t pkt_first_diff(const uint8_t *got, size_t glen, const uint8_t *want,
		       size_t wlen)
{
	size_t i, n = min_sz(glen, wlen);

	for (i = 0; i < n; i++)
		if (got[i] != want[i])
			return i;
	return glen == wlen ? -1 : (ssize_t)n;
}

/* One line of up to 16 bytes from off. */
static void hex_line(FILE *f, const char *tag, const uint8_t *b, size_t len,
		     size_t off)
{
	size_t i;

	fprintf(f, "%s", tag);
	for (i = off; i < off + 16 && i < len; i++)
		fprintf(f, " %02x", b[i]);
	fprintf(f, "\n");
}

/* Whether byte i differs, a byte only one frame has included. */
static bool byte_differs(const uint8_t *got, size_t glen, const uint8_t *want,
			 size_t wlen, size_t i)
{
	return i >= glen || i >= wlen || got[i] != want[i];
}

/* Both frames, 16 bytes a line, differing bytes marked under them. */
void pkt_fhexdump_diff(FILE *f, const uint8_t *got, size_t glen,
		       const uint8_t *want, size_t wlen)
{
	ssize_t first = pkt_first_diff(got, glen, want, wlen);
	size_t max = glen > wlen ? glen : wlen, off, i, last;
	char tag[32];

	if (first < 0)
		fprintf(f, "frames equal, %zu bytes\n", glen);
	else
		fprintf(f,
			"got %zu bytes, want %zu; first difference at "
			"offset %zd (0x%zx)\n",
			glen, wlen, first, (size_t)first);
	for (off = 0; off < max; off += 16) {
		snprintf(tag, sizeof(tag), "%04zx got ", off);
		hex_line(f, tag, got, glen, off);
		hex_line(f, "     want", want, wlen, off);
		/* Mark differing bytes: ^^ the first of all, -- the others. */
		last = 0;
		for (i = off; i < off + 16 && i < max; i++)
			if (byte_differs(got, glen, want, wlen, i))
				last = i + 1;
		if (!last)
			continue;
		fprintf(f, "         ");
		for (i = off; i < last; i++) {
			if (!byte_differs(got, glen, want, wlen, i))
				fprintf(f, "   ");
			else if ((ssize_t)i == first)
				fprintf(f, " ^^");
			else
				fprintf(f, " --");
		}
		fprintf(f, "\n");
	}
}

/* pkt_fhexdump_diff() to stderr. */
void pkt_hexdump_diff(const uint8_t *got, size_t glen, const uint8_t *want,
		      size_t wlen)
{
	pkt_fhexdump_diff(stderr, got, glen, want, wlen);
}
