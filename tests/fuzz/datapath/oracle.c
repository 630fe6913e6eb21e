// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data-path fuzzer's oracle; see oracle.h. Rules, in the order they
 * are applied to a run:
 *
 *  1. Exactly one reason counter moves, by one, and the verdict is the
 *     one its reason stands for.
 *  2. XDP_PASS (other than pass_no_neighbour): the frame is unmodified.
 *  3. A forward (XDP_TX, XDP_REDIRECT, or pass_no_neighbour, which hands
 *     the translated packet to the kernel) needs a well-formed input
 *     that the node may forward: judge_input() names the first reason
 *     it may not, and that name is the violation's class.
 *  4. The forward is exactly the one the configuration allows: a tunnel
 *     to a usable real of the VIP the packet (or the ICMP error's
 *     quote) targets, the same real for the whole flow, or a FULLNAT
 *     translation to/from a session the oracle saw made. Everything is
 *     rebuilt here from the input and compared byte by byte, except the
 *     checksum fields and an MSS the VIP clamps, which are checked on
 *     their own: every checksum verifies if it did in the input (it
 *     keeps the input's error otherwise), a quoted L4 checksum is the
 *     input's updated for the translation, an MSS only goes down to
 *     the VIP's clamp. A forwarded frame (pass_no_neighbour's too) is
 *     its IP packet behind an untagged Ethernet header: the tag of a
 *     balanced VLAN and the bytes after the IP packet (padding, a
 *     trailer) are cut, never sent on nor changed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include "maps.h"
#include "oracle.h"
#include "pkt.h"
#include "xlb_hash.h"

#define FZ_FRAME_MAX (PKT_MAX + 128)

/* ---- bytes and checksums ------------------------------------------ */

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

/* Sum of big-endian 16-bit words; an odd last byte is padded. */
static uint32_t sum_bytes(uint32_t s, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += get16(b + i);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

/* Ones' complement fold; 0 and 0xffff are the same number. */
static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0 ? 0xffff : (uint16_t)s;
}

static uint32_t pseudo(int family, const struct xlb_addr *s,
		       const struct xlb_addr *d, uint8_t proto, size_t len)
{
	uint32_t sum = 0;
	size_t alen = family == AF_INET ? 4 : 16;

	sum = sum_bytes(sum, (const uint8_t *)s->addr, alen);
	sum = sum_bytes(sum, (const uint8_t *)d->addr, alen);
	return sum + proto + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
}

static bool addr_eq(const struct xlb_addr *a, const struct xlb_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static size_t alen_of(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- fingerprint tables -------------------------------------------- */

static uint64_t fp_of(const void *k, size_t n)
{
	const uint8_t *b = k;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h ? h : 1;
}

/* The value slot of fp; with insert, made (0) if absent, NULL if full. */
static uint32_t *tab_slot(uint64_t *fps, uint32_t *vals, size_t cap,
			  uint64_t fp, bool insert, size_t *n)
{
	size_t i = fp & (cap - 1), tries;

	for (tries = 0; tries < cap; tries++, i = (i + 1) & (cap - 1)) {
		if (fps[i] == fp)
			return &vals[i];
		if (!fps[i]) {
			if (!insert || *n * 10 > cap * 7)
				return NULL;
			fps[i] = fp;
			vals[i] = 0;
			(*n)++;
			return &vals[i];
		}
	}
	return NULL;
}

static size_t pow2_at_least(size_t n)
{
	size_t c = 1024;

	while (c < n)
		c <<= 1;
	return c;
}

int fz_model_init(struct fz_model *m, size_t expected_flows)
{
	m->ct_cap = pow2_at_least(2 * expected_flows);
	m->ct_fp = calloc(m->ct_cap, sizeof(*m->ct_fp));
	m->ct_val = calloc(m->ct_cap, sizeof(*m->ct_val));
	m->tab_cap = pow2_at_least(expected_flows / 2);
	m->fw_fp = calloc(m->tab_cap, sizeof(*m->fw_fp));
	m->rv_fp = calloc(m->tab_cap, sizeof(*m->rv_fp));
	m->fw_val = calloc(m->tab_cap, sizeof(*m->fw_val));
	m->rv_val = calloc(m->tab_cap, sizeof(*m->rv_val));
	m->sess_cap = 1024;
	m->sess = calloc(m->sess_cap, sizeof(*m->sess));
	if (!m->ct_fp || !m->ct_val || !m->fw_fp || !m->rv_fp || !m->fw_val ||
	    !m->rv_val || !m->sess)
		return -1;
	return 0;
}

void fz_model_free(struct fz_model *m)
{
	free(m->ct_fp);
	free(m->ct_val);
	free(m->fw_fp);
	free(m->rv_fp);
	free(m->fw_val);
	free(m->rv_val);
	free(m->sess);
}

static size_t fw_n, rv_n;

static struct fz_sess *sess_by_fwd(struct fz_model *m,
				   const struct xlb_flow_key *k)
{
	uint32_t *v = tab_slot(m->fw_fp, m->fw_val, m->tab_cap,
			       fp_of(k, sizeof(*k)), false, &fw_n);

	return v && *v ? &m->sess[*v - 1] : NULL;
}

static struct fz_sess *sess_by_rev(struct fz_model *m,
				   const struct xlb_nat_key *k)
{
	uint32_t *v = tab_slot(m->rv_fp, m->rv_val, m->tab_cap,
			       fp_of(k, sizeof(*k)), false, &rv_n);

	return v && *v ? &m->sess[*v - 1] : NULL;
}

static void rev_key(const struct fz_sess *s, struct xlb_nat_key *rk)
{
	memset(rk, 0, sizeof(*rk));
	rk->raddr = s->raddr;
	rk->laddr = s->laddr;
	rk->rport = s->fk.dport;
	rk->lport = s->lport;
	rk->proto = s->fk.proto;
	rk->family = s->fk.family;
}

/* Make or update the session of flow fk. */
static struct fz_sess *sess_put(struct fz_model *m,
				const struct xlb_flow_key *fk, bool maybe,
				const struct xlb_addr *laddr, uint16_t lport,
				const struct xlb_addr *raddr,
				const struct xlb_addr *vaddr)
{
	uint32_t *v = tab_slot(m->fw_fp, m->fw_val, m->tab_cap,
			       fp_of(fk, sizeof(*fk)), true, &fw_n);
	struct xlb_nat_key rk;
	struct fz_sess *s, *grown;
	uint32_t *rv;

	if (!v)
		return NULL;
	if (!*v) {
		if (m->sess_n == m->sess_cap) {
			grown = realloc(m->sess,
					2 * m->sess_cap * sizeof(*m->sess));
			if (!grown)
				return NULL;
			m->sess = grown;
			m->sess_cap *= 2;
		}
		*v = ++m->sess_n;
	}
	s = &m->sess[*v - 1];
	memset(s, 0, sizeof(*s));
	s->fk = *fk;
	s->maybe = maybe;
	s->vaddr = *vaddr;
	if (maybe)
		return s;
	s->laddr = *laddr;
	s->lport = lport;
	s->raddr = *raddr;
	rev_key(s, &rk);
	rv = tab_slot(m->rv_fp, m->rv_val, m->tab_cap, fp_of(&rk, sizeof(rk)),
		      true, &rv_n);
	if (rv)
		*rv = *v;
	return s;
}

bool fz_session_known(struct fz_model *m, const struct xlb_flow_key *k)
{
	return sess_by_fwd(m, k) != NULL;
}

void fz_sessions_reset(struct fz_model *m)
{
	memset(m->fw_fp, 0, m->tab_cap * sizeof(*m->fw_fp));
	memset(m->rv_fp, 0, m->tab_cap * sizeof(*m->rv_fp));
	fw_n = rv_n = 0;
	m->sess_n = 0;
}

static const struct fz_vip *vip_by_id(const struct fz_model *m, uint32_t id);

void fz_session_adopt(struct fz_model *m, const struct xlb_flow_key *k,
		      const struct xlb_addr *laddr, uint16_t lport,
		      const struct xlb_addr *raddr)
{
	const struct fz_vip *v = vip_by_id(m, k->vip_id);
	static const struct xlb_addr none;

	sess_put(m, k, !raddr || !v, laddr, lport, raddr,
		 v ? &v->svc.ip.a : &none);
}

/* ---- the configuration --------------------------------------------- */

const struct fz_vip *fz_vip_find(const struct fz_model *m, int family,
				 const struct xlb_addr *a, uint16_t port_be,
				 uint8_t proto)
{
	int i;

	for (i = 0; i < m->n_vips; i++) {
		const struct fz_vip *v = &m->vips[i];

		if (v->svc.ip.family == family && addr_eq(&v->svc.ip.a, a) &&
		    v->svc.proto == proto && htons(v->svc.port) == port_be)
			return v;
	}
	return NULL;
}

static const struct fz_vip *vip_by_id(const struct fz_model *m, uint32_t id)
{
	int i;

	for (i = 0; i < m->n_vips; i++)
		if (m->vips[i].id == id)
			return &m->vips[i];
	return NULL;
}

static bool is_vip_addr(const struct fz_model *m, int family,
			const struct xlb_addr *a)
{
	int i;

	for (i = 0; i < m->n_vips; i++)
		if (m->vips[i].svc.ip.family == family &&
		    addr_eq(&m->vips[i].svc.ip.a, a))
			return true;
	return false;
}

static bool is_local(const struct fz_model *m, int family,
		     const struct xlb_addr *a)
{
	int i;

	for (i = 0; i < m->n_laddrs; i++)
		if (m->laddrs[i].family == family &&
		    addr_eq(&m->laddrs[i].a, a))
			return true;
	return false;
}

/* Sources no packet to a VIP may have (issue 13, "no source check"). */
static bool is_martian(int family, const struct xlb_addr *a)
{
	const uint8_t *b = (const uint8_t *)a->addr;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16];

	if (family == AF_INET)
		return b[0] == 0 || b[0] == 127 || b[0] >= 224;
	if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
		return true; /* :: and ::1 */
	if (b[0] == 0xff)
		return true;
	return !memcmp(b, mapped, 12); /* ::ffff:0:0/96 */
}

static const struct fz_real *real_of(const struct fz_vip *v, int family,
				     const struct xlb_addr *a)
{
	int i;

	for (i = 0; i < v->n_reals; i++)
		if (v->reals[i].ip.family == family &&
		    addr_eq(&v->reals[i].ip.a, a))
			return &v->reals[i];
	return NULL;
}

static bool real_usable(const struct fz_real *r)
{
	return !r->down && !r->draining && r->weight > 0;
}

/* ---- the input --------------------------------------------------- */

/* One IP header as the oracle reads it. */
struct fz_ip {
	int family;
	size_t off, hlen, end; /* end: off + the packet's own length */
	struct xlb_addr s, d;
	uint8_t proto, ttl, tos;
};

enum fz_kind {
	K_TUN_REQ,
	K_NAT_REQ,
	K_NAT_REP,
	K_TUN_ICMP,
	K_NAT_ICMP_REQ, /* error to the VIP about a client's flow */
	K_NAT_ICMP_REP, /* error to a local address about a session */
};

struct fz_view {
	struct fz_ip ip;
	size_t l4;	       /* offset */
	uint16_t sport, dport; /* network order, as in the maps */
	uint8_t flags;
	bool icmp;
	struct fz_ip q; /* the quoted packet */
	size_t q_ports; /* offset of the quoted ports */
	enum fz_kind kind;
	const struct fz_vip *vip;
	struct fz_sess *sess;
	struct xlb_flow_key fk; /* the client flow */
	bool flow_ok;		/* kind, vip and fk are known */
	bool creating;		/* may make a FULLNAT session */
};

static uint16_t raw16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

/*
 * An IP header at off of a packet that must end by lim. Returns NULL or
 * why it is not a packet the node may forward. Quotes (quote true) are
 * only read: their length field means nothing.
 */
static const char *read_ip(const uint8_t *f, size_t lim, size_t off, int family,
			   bool quote, struct fz_ip *ip)
{
	const uint8_t *h = f + off;
	size_t tot, pos;
	uint8_t next;
	int n;

	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	ip->off = off;
	if (family == AF_INET) {
		if (off + 20 > lim)
			return quote ? "icmp_quote_past_ip_packet"
				     : "ip_truncated";
		if (h[0] >> 4 != 4 || (h[0] & 0xf) < 5)
			return quote ? "icmp_quote_bad_header"
				     : "ipv4_bad_version_or_ihl";
		ip->hlen = (h[0] & 0xf) * 4;
		if (off + ip->hlen > lim)
			return quote ? "icmp_quote_past_ip_packet"
				     : "ipv4_header_past_frame";
		tot = get16(h + 2);
		ip->tos = h[1];
		ip->ttl = h[8];
		ip->proto = h[9];
		memcpy(ip->s.addr, h + 12, 4);
		memcpy(ip->d.addr, h + 16, 4);
		ip->end = quote ? lim : off + tot;
		if (quote)
			return NULL;
		if (tot < ip->hlen)
			return "ipv4_tot_len_below_header";
		if (off + tot > lim)
			return "ip_len_past_frame";
		if (get16(h + 6) & 0x3fff)
			return "fragment";
		return NULL;
	}
	if (off + 40 > lim)
		return quote ? "icmp_quote_past_ip_packet" : "ip_truncated";
	if (h[0] >> 4 != 6)
		return quote ? "icmp_quote_bad_header" : "ipv6_bad_version";
	ip->tos = (uint8_t)((h[0] & 0xf) << 4 | h[1] >> 4);
	ip->ttl = h[7];
	memcpy(ip->s.addr, h + 8, 16);
	memcpy(ip->d.addr, h + 24, 16);
	tot = 40 + get16(h + 4);
	ip->end = quote ? lim : off + tot;
	if (!quote && off + tot > lim)
		return "ip_len_past_frame";
	/* Extension headers, inside the packet. A quote's are not walked:
	 * the program does not either, and its ports would be elsewhere. */
	next = h[6];
	pos = off + 40;
	for (n = 0; !quote && n < 8; n++) {
		if (next == 44)
			return "fragment";
		if (next != 0 && next != 43 && next != 60)
			break;
		if (next == 0 && n > 0)
			return "ipv6_hop_by_hop_not_first";
		if (pos + 8 > ip->end)
			return "ipv6_ext_header_past_ip_packet";
		if (pos + (f[pos + 1] + 1) * 8 > ip->end)
			return "ipv6_ext_header_past_ip_packet";
		if (next == 43 && f[pos + 3] > 0)
			return "ipv6_routing_header_segments_left";
		next = f[pos];
		pos += (f[pos + 1] + 1) * 8;
	}
	ip->proto = next;
	ip->hlen = pos - off;
	return NULL;
}

/* An ICMP or ICMPv6 error type the node translates or tunnels. */
static bool icmp_error_type(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == 3 || type == 11;
	return type == 1 || type == 2 || type == 3;
}

/* SYN without ACK, RST or FIN: the only TCP packet that may make state
 * (a listener drops SYN+RST and SYN+FIN). */
static bool tcp_opening(uint8_t flags)
{
	return (flags & 0x02) && !(flags & 0x15);
}

/* Tunnel flows: key of a client flow. */
static void flow_key(struct xlb_flow_key *k, int family,
		     const struct xlb_addr *client, uint16_t cport,
		     uint16_t vport, uint8_t proto, uint32_t vip_id)
{
	memset(k, 0, sizeof(*k));
	k->saddr = *client;
	k->sport = cport;
	k->dport = vport;
	k->proto = proto;
	k->family = family == AF_INET ? XLB_AF_INET : XLB_AF_INET6;
	k->vip_id = vip_id;
}

static uint32_t *ct_slot(struct fz_model *m, const struct xlb_flow_key *k,
			 bool insert)
{
	return tab_slot(m->ct_fp, m->ct_val, m->ct_cap, fp_of(k, sizeof(*k)),
			insert, &m->ct_n);
}

/*
 * May this frame be forwarded at all, and as what? NULL (v filled) or
 * the name of the first rule it breaks.
 */
static const char *judge_input(struct fz_model *m, const uint8_t *f, size_t len,
			       struct fz_view *v)
{
	const char *why;
	uint16_t type, seg;
	struct xlb_nat_key rk;
	struct fz_ip *ip = &v->ip;
	size_t end;
	int family;

	memset(v, 0, sizeof(*v));
	if (len < 14)
		return "frame_truncated";
	type = get16(f + 12);
	if (type == 0x0800)
		family = AF_INET;
	else if (type == 0x86dd)
		family = AF_INET6;
	else
		return "not_ip";
	why = read_ip(f, len, 14, family, false, ip);
	if (why)
		return why;
	end = ip->end;
	if (ip->ttl == 0)
		return "ttl_zero";
	if (!is_vip_addr(m, family, &ip->d) && !is_local(m, family, &ip->d))
		return "destination_not_ours";
	if (is_martian(family, &ip->s))
		return "martian_source";
	if (is_vip_addr(m, family, &ip->s) || is_local(m, family, &ip->s))
		return "own_address_as_source";
	v->l4 = ip->off + ip->hlen;

	if (ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) {
		seg = end - v->l4;
		if (ip->proto == IPPROTO_TCP) {
			if (v->l4 + 20 > end)
				return "l4_header_past_ip_packet";
			if (f[v->l4 + 12] >> 4 < 5)
				return "tcp_data_offset_below_5";
			if ((size_t)(f[v->l4 + 12] >> 4) * 4 > seg)
				return "tcp_data_offset_past_segment";
			v->flags = f[v->l4 + 13];
		} else {
			if (v->l4 + 8 > end)
				return "l4_header_past_ip_packet";
			if (get16(f + v->l4 + 4) != seg)
				return "udp_length_not_ip_length";
		}
		v->sport = raw16(f + v->l4);
		v->dport = raw16(f + v->l4 + 2);
		if (is_local(m, family, &ip->d)) {
			/* A real's reply to a session's tuple. */
			memset(&rk, 0, sizeof(rk));
			rk.raddr = ip->s;
			rk.laddr = ip->d;
			rk.rport = v->sport;
			rk.lport = v->dport;
			rk.proto = ip->proto;
			rk.family = family == AF_INET ? XLB_AF_INET
						      : XLB_AF_INET6;
			v->sess = sess_by_rev(m, &rk);
			if (!v->sess || v->sess->maybe)
				return "fullnat_reply_without_session";
			if (ip->proto == IPPROTO_UDP && family == AF_INET6 &&
			    !get16(f + v->l4 + 6))
				return "udp6_zero_checksum";
			v->kind = K_NAT_REP;
			v->vip = vip_by_id(m, v->sess->fk.vip_id);
			return NULL;
		}
		if (!v->sport)
			return "source_port_zero";
		v->vip = fz_vip_find(m, family, &ip->d, v->dport, ip->proto);
		if (!v->vip)
			return "no_vip_for_port";
		flow_key(&v->fk, family, &ip->s, v->sport, v->dport, ip->proto,
			 v->vip->id);
		v->flow_ok = true;
		v->kind = v->vip->fullnat ? K_NAT_REQ : K_TUN_REQ;
		if (!v->vip->fullnat)
			return NULL;
		if (ip->proto == IPPROTO_UDP && family == AF_INET6 &&
		    !get16(f + v->l4 + 6))
			return "udp6_zero_checksum";
		v->kind = K_NAT_REQ;
		v->creating = ip->proto == IPPROTO_UDP || tcp_opening(v->flags);
		v->sess = sess_by_fwd(m, &v->fk);
		if (!v->sess && !v->creating)
			return "fullnat_session_from_non_syn";
		return NULL;
	}

	if (ip->proto != (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return "protocol_not_balanced";
	if (v->l4 + 8 > end)
		return "icmp_header_past_ip_packet";
	if (!icmp_error_type(family, f[v->l4]))
		return "icmp_not_an_error";
	v->icmp = true;
	why = read_ip(f, end, v->l4 + 8, family, true, &v->q);
	if (why)
		return why;
	if (v->q.proto != IPPROTO_TCP && v->q.proto != IPPROTO_UDP)
		return "icmp_quote_not_tcp_udp";
	v->q_ports = v->q.off + v->q.hlen;
	if (v->q_ports + 4 > end)
		return "icmp_quote_past_ip_packet";
	/* The quote is a packet we sent: from the address it came to. */
	if (!addr_eq(&v->q.s, &ip->d))
		return "icmp_quote_source_not_destination";
	v->sport = raw16(f + v->q_ports);     /* ours */
	v->dport = raw16(f + v->q_ports + 2); /* the peer's */
	if (is_local(m, family, &ip->d)) {
		memset(&rk, 0, sizeof(rk));
		rk.raddr = v->q.d;
		rk.laddr = v->q.s;
		rk.rport = v->dport;
		rk.lport = v->sport;
		rk.proto = v->q.proto;
		rk.family = family == AF_INET ? XLB_AF_INET : XLB_AF_INET6;
		v->sess = sess_by_rev(m, &rk);
		if (!v->sess || v->sess->maybe)
			return "icmp_error_for_untracked_flow";
		v->kind = K_NAT_ICMP_REP;
		v->vip = vip_by_id(m, v->sess->fk.vip_id);
		return NULL;
	}
	v->vip = fz_vip_find(m, family, &v->q.s, v->sport, v->q.proto);
	if (!v->vip)
		return "icmp_error_for_no_vip";
	flow_key(&v->fk, family, &v->q.d, v->dport, v->sport, v->q.proto,
		 v->vip->id);
	if (v->vip->fullnat) {
		v->sess = sess_by_fwd(m, &v->fk);
		if (!v->sess)
			return "icmp_error_for_untracked_flow";
		v->kind = K_NAT_ICMP_REQ;
		return NULL;
	}
	if (!ct_slot(m, &v->fk, false))
		return "icmp_error_for_untracked_flow";
	v->kind = K_TUN_ICMP;
	return NULL;
}

/* ---- the output ------------------------------------------------------ */

struct fz_expect {
	uint8_t b[FZ_FRAME_MAX];
	uint8_t free[FZ_FRAME_MAX]; /* checked on their own */
	size_t len;
	size_t l3, l3_end; /* the (outer) IP packet in the output */
};

__attribute__((format(printf, 3, 4))) static void
fail(struct fz_judgement *j, const char *cls, const char *fmt, ...)
{
	va_list ap;

	if (j->cls)
		return;
	j->cls = cls;
	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
}

/* Compare the output with e, free bytes aside; name where it differs. */
static void compare(const struct fz_run *r, const struct fz_expect *e,
		    size_t inner, size_t inner_end, struct fz_judgement *j)
{
	size_t i;

	if (r->out_len != e->len) {
		fail(j, "output_length", "%zu bytes, expected %zu", r->out_len,
		     e->len);
		return;
	}
	/* Bytes after the IP packet first: the worst thing to write. */
	for (i = inner_end; i < e->len; i++) {
		if (!e->free[i] && r->out[i] != e->b[i]) {
			fail(j, "output_changed_after_ip_packet", "byte %zu",
			     i);
			return;
		}
	}
	for (i = 0; i < e->len; i++) {
		if (e->free[i] || r->out[i] == e->b[i])
			continue;
		if (i < 14)
			fail(j, "output_l2_header", "byte %zu", i);
		else if (i < inner)
			fail(j, "output_outer_header", "byte %zu", i);
		else if (i < inner_end)
			fail(j, "output_packet_wrong", "byte %zu", i);
		else
			fail(j, "output_changed_after_ip_packet", "byte %zu",
			     i);
		return;
	}
}

/* The MSS option of a TCP header at th (len bytes of segment), or 0. */
static size_t mss_option(const uint8_t *th, size_t seg)
{
	size_t hl = (size_t)(th[12] >> 4) * 4, o = 20;

	if (hl > seg)
		return 0;
	while (o < hl) {
		if (th[o] == 0)
			return 0;
		if (th[o] == 1) {
			o++;
			continue;
		}
		if (o + 2 > hl || th[o + 1] < 2)
			return 0;
		if (th[o] == 2)
			return th[o + 1] == 4 && o + 4 <= hl ? o + 2 : 0;
		o += th[o + 1];
	}
	return 0;
}

/*
 * A clamped MSS: the bytes at in/out+l4 are a TCP header; free the MSS
 * value (the comparison skips it) and later check it only went down.
 */
static size_t mss_free(const struct fz_vip *vip, const uint8_t *in, size_t l4,
		       size_t seg, size_t out_l4, struct fz_expect *e)
{
	size_t o;

	if (!vip || !vip->mss || !(in[l4 + 13] & 0x02))
		return 0;
	o = mss_option(in + l4, seg);
	if (!o)
		return 0;
	e->free[out_l4 + o] = e->free[out_l4 + o + 1] = 1;
	return o;
}

static void mss_check(const struct fz_vip *vip, const uint8_t *in,
		      const uint8_t *out, size_t o, struct fz_judgement *j)
{
	uint16_t a = get16(in + o), b = get16(out + o);

	if (a != b && !(a > vip->mss && b == vip->mss))
		fail(j, "mss_rewritten_wrongly", "MSS %u became %u (clamp %u)",
		     a, b, vip->mss);
}

/* The L4 checksum residual over a segment, pseudo-header included. */
static uint16_t l4_residual(const uint8_t *f, const struct fz_ip *ip, size_t l4,
			    size_t end)
{
	uint32_t s = pseudo(ip->family, &ip->s, &ip->d, ip->proto, end - l4);

	return fold(sum_bytes(s, f + l4, end - l4));
}

static uint16_t hdr_residual(const uint8_t *h, size_t hlen)
{
	return fold(sum_bytes(0, h, hlen));
}

static void set_hop(struct fz_expect *e, const struct fz_hop *h,
		    const uint8_t *in, bool no_neigh)
{
	if (no_neigh) {
		memcpy(e->b, in, 12);
		return;
	}
	memcpy(e->b, h->dmac, 6);
	memcpy(e->b + 6, h->smac, 6);
}

static enum xlb_reason hop_reason(const struct fz_hop *h, int ingress)
{
	if (h->no_neigh)
		return XLB_R_PASS_NO_NEIGH;
	return h->ifindex == ingress ? XLB_R_FWD_TX : XLB_R_FWD_REDIRECT;
}

static void check_reason(const struct fz_run *r, const struct fz_hop *h,
			 struct fz_judgement *j)
{
	enum xlb_reason want = hop_reason(h, r->ingress);

	if (r->reason != want)
		fail(j, "wrong_egress", "reason %s, the next hop means %s",
		     xlb_reason_names[r->reason], xlb_reason_names[want]);
}

/* The hash the program spreads tunnel sources with (tun_hash). */
static uint32_t flow_hash(const struct xlb_flow_key *k, bool src_only)
{
	uint32_t ports = ((uint32_t)k->sport << 16) | k->dport;

	return xlb_tun_hash(k->saddr.addr, ports, k->proto, src_only);
}

/* A tunnel forward (a client's packet, or an ICMP error about its flow). */
static void judge_tunnel(struct fz_model *m, const struct fz_run *r,
			 const struct fz_view *v, struct fz_judgement *j)
{
	static struct fz_expect e;
	const uint8_t *in = r->in, *out = r->out;
	const struct fz_real *real;
	struct xlb_addr dst = {}, src = {};
	size_t ol, il = v->ip.end - v->ip.off, mss_o = 0, seg;
	uint32_t hash, mask, *ct;
	struct fz_hop hop;
	int rf, idx;
	uint16_t t;

	if (r->out_len < 14 + 20) {
		fail(j, "output_length", "%zu bytes", r->out_len);
		return;
	}
	t = get16(out + 12);
	rf = t == 0x0800 ? AF_INET : t == 0x86dd ? AF_INET6 : 0;
	if (!rf || r->out_len < 14 + (size_t)(rf == AF_INET ? 20 : 40)) {
		fail(j, "output_not_a_tunnel", "ethertype %04x", t);
		return;
	}
	memcpy(dst.addr, out + (rf == AF_INET ? 14 + 16 : 14 + 24),
	       alen_of(rf));
	real = real_of(v->vip, rf, &dst);
	if (!real) {
		fail(j, "forward_to_non_real", "outer destination not a real");
		return;
	}
	if (!real_usable(real)) {
		fail(j, "forward_to_unusable_real", "real down or drained");
		return;
	}
	idx = real - v->vip->reals;
	ct = ct_slot(m, &v->fk, !v->icmp);
	if (ct && *ct && *ct != (uint32_t)idx + 1) {
		fail(j, "flow_moved_to_other_real", "real %d, flow had %u", idx,
		     *ct - 1);
		return;
	}
	if (ct && !v->icmp)
		*ct = idx + 1;
	if (!m->hop(&real->ip, &hop)) {
		fail(j, "forward_without_route", "no hop to the real");
		return;
	}
	check_reason(r, &hop, j);

	ol = rf == AF_INET ? 20 : 40;
	memset(e.free, 0, r->in_len + ol);
	e.len = r->in_len + ol;
	set_hop(&e, &hop, in, hop.no_neigh);
	put16(e.b + 12, rf == AF_INET ? 0x0800 : 0x86dd);
	hash = flow_hash(&v->fk, v->vip->src_hash);
	if (rf == AF_INET) {
		mask = m->g.tun_v4_hostmask;
		src.addr[0] = (m->g.tun_src_v4 & ~mask) | (htonl(hash) & mask);
		e.b[14] = 0x45;
		e.b[15] = v->ip.tos;
		put16(e.b + 16, il + 20);
		put16(e.b + 18, 0);
		put16(e.b + 20, 0x4000);
		e.b[22] = 64;
		e.b[23] = v->ip.family == AF_INET ? 4 : 41;
		put16(e.b + 24, 0);
		memcpy(e.b + 26, src.addr, 4);
		memcpy(e.b + 30, dst.addr, 4);
		put16(e.b + 24, ~fold(sum_bytes(0, e.b + 14, 20)) & 0xffff);
	} else {
		mask = m->g.tun_v6_hostmask;
		memcpy(src.addr, m->g.tun_src_v6, 16);
		src.addr[3] = (src.addr[3] & ~mask) | (htonl(hash) & mask);
		e.b[14] = 0x60 | v->ip.tos >> 4;
		e.b[15] =
			(uint8_t)((v->ip.tos & 0xf) << 4 | (hash >> 16 & 0xf));
		e.b[16] = hash >> 8;
		e.b[17] = hash;
		put16(e.b + 18, il);
		e.b[20] = v->ip.family == AF_INET ? 4 : 41;
		e.b[21] = 64;
		memcpy(e.b + 22, src.addr, 16);
		memcpy(e.b + 38, dst.addr, 16);
	}
	memcpy(e.b + 14 + ol, in + 14, r->in_len - 14);
	if (!v->icmp && v->ip.proto == IPPROTO_TCP) {
		seg = v->ip.end - v->l4;
		mss_o = mss_free(v->vip, in, v->l4, seg, v->l4 + ol, &e);
		if (mss_o)
			e.free[v->l4 + ol + 16] = e.free[v->l4 + ol + 17] = 1;
	}
	compare(r, &e, 14 + ol, v->ip.end + ol, j);
	if (j->cls || !mss_o)
		return;
	mss_check(v->vip, in + v->l4, out + v->l4 + ol, mss_o, j);
	if (l4_residual(out + ol, &v->ip, v->l4, v->ip.end) !=
	    l4_residual(in, &v->ip, v->l4, v->ip.end))
		fail(j, "tcp_checksum_wrong", "after the MSS clamp");
}

/* Is (laddr, lport, raddr) a tuple a new session of vip may get? */
static bool nat_tuple_ok(struct fz_model *m, const struct fz_view *v,
			 const struct xlb_addr *laddr, uint16_t lport,
			 const struct xlb_addr *raddr, struct fz_judgement *j)
{
	const struct fz_real *real = real_of(v->vip, v->ip.family, raddr);

	if (!is_local(m, v->ip.family, laddr))
		fail(j, "nat_source_not_a_local_address", "source %s", "");
	else if (ntohs(lport) < m->port_min || ntohs(lport) > m->port_max)
		fail(j, "nat_port_out_of_range", "port %u", ntohs(lport));
	else if (!real)
		fail(j, "forward_to_non_real", "destination not a real");
	else if (!real_usable(real))
		fail(j, "forward_to_unusable_real", "real down or drained");
	return !j->cls;
}

/* Residual of the ICMP message (ICMPv6: with its pseudo-header). */
static uint16_t icmp_residual(const uint8_t *f, int family,
			      const struct xlb_addr *s,
			      const struct xlb_addr *d, size_t l4, size_t end)
{
	uint32_t sum = 0;

	if (family == AF_INET6)
		sum = pseudo(family, s, d, IPPROTO_ICMPV6, end - l4);
	return fold(sum_bytes(sum, f + l4, end - l4));
}

static void put_addr(uint8_t *b, int family, const struct xlb_addr *a)
{
	memcpy(b, a->addr, alen_of(family));
}

/* Offsets of the source address in an IP header of this family. */
static size_t saddr_off(int family)
{
	return family == AF_INET ? 12 : 8;
}

/*
 * A FULLNAT forward. src, dst: the new outer addresses; sport, dport:
 * the new ports of a TCP/UDP packet, or for an ICMP error the new quoted
 * ports (the quote goes dst:.. -> src:.. , reversed).
 */
static void judge_nat_output(struct fz_model *m, const struct fz_run *r,
			     const struct fz_view *v,
			     const struct xlb_addr *src,
			     const struct xlb_addr *dst, uint16_t sport,
			     uint16_t dport, struct fz_judgement *j)
{
	static struct fz_expect e;
	const uint8_t *in = r->in, *out = r->out;
	int fam = v->ip.family;
	size_t al = alen_of(fam), sa = saddr_off(fam), l3 = v->ip.off;
	size_t end = v->ip.end, mss_o = 0, ck = 0, qck = 0;
	struct xlb_ip dip = {.family = fam, .a = *dst};
	struct fz_hop hop;
	struct fz_ip oip;
	uint32_t sum;
	uint16_t cin, cout, want;
	int i;

	if (!m->hop(&dip, &hop)) {
		fail(j, "forward_without_route", "no hop to the destination");
		return;
	}
	check_reason(r, &hop, j);
	memcpy(e.b, in, r->in_len);
	memset(e.free, 0, r->in_len);
	e.len = r->in_len;
	set_hop(&e, &hop, in, hop.no_neigh);
	put_addr(e.b + l3 + sa, fam, src);
	put_addr(e.b + l3 + sa + al, fam, dst);
	if (fam == AF_INET)
		e.free[l3 + 10] = e.free[l3 + 11] = 1;
	if (!v->icmp) {
		memcpy(e.b + v->l4, &sport, 2);
		memcpy(e.b + v->l4 + 2, &dport, 2);
		ck = v->l4 + (v->ip.proto == IPPROTO_TCP ? 16 : 6);
		e.free[ck] = e.free[ck + 1] = 1;
		if (v->ip.proto == IPPROTO_TCP)
			mss_o = mss_free(v->vip, in, v->l4, end - v->l4, v->l4,
					 &e);
	} else {
		/* The quote, reversed: dst:dport -> src:sport. */
		e.free[v->l4 + 2] = e.free[v->l4 + 3] = 1;
		put_addr(e.b + v->q.off + sa, fam, dst);
		put_addr(e.b + v->q.off + sa + al, fam, src);
		if (fam == AF_INET)
			e.free[v->q.off + 10] = e.free[v->q.off + 11] = 1;
		memcpy(e.b + v->q_ports, &dport, 2);
		memcpy(e.b + v->q_ports + 2, &sport, 2);
		qck = v->q_ports + (v->q.proto == IPPROTO_TCP ? 16 : 6);
		if (qck + 2 <= end)
			e.free[qck] = e.free[qck + 1] = 1;
		else
			qck = 0;
	}
	compare(r, &e, l3, end, j);
	if (j->cls)
		return;

	if (fam == AF_INET && hdr_residual(out + l3, v->ip.hlen) !=
				      hdr_residual(in + l3, v->ip.hlen))
		fail(j, "ipv4_header_checksum_wrong", "after translation");
	oip = v->ip;
	oip.s = *src;
	oip.d = *dst;
	if (!v->icmp) {
		cin = get16(in + ck);
		cout = get16(out + ck);
		if (v->ip.proto == IPPROTO_UDP && (!cin || !cout)) {
			if (cin != cout)
				fail(j, "udp_checksum_wrong",
				     "zero checksum %04x became %04x", cin,
				     cout);
		} else if (l4_residual(out, &oip, v->l4, end) !=
			   l4_residual(in, &v->ip, v->l4, end)) {
			fail(j,
			     v->ip.proto == IPPROTO_TCP ? "tcp_checksum_wrong"
							: "udp_checksum_wrong",
			     "after translation");
		}
		if (mss_o)
			mss_check(v->vip, in + v->l4, out + v->l4, mss_o, j);
		return;
	}
	if (icmp_residual(out, fam, src, dst, v->l4, end) !=
	    icmp_residual(in, fam, &v->ip.s, &v->ip.d, v->l4, end))
		fail(j, "icmp_checksum_wrong", "after translation");
	if (fam == AF_INET && hdr_residual(out + v->q.off, v->q.hlen) !=
				      hdr_residual(in + v->q.off, v->q.hlen))
		fail(j, "quoted_ipv4_checksum_wrong", "after translation");
	if (!qck)
		return;
	/* The quoted L4 checksum: the input's, updated for the new quoted
	 * addresses and ports (RFC 1624); a zero UDP one stays zero. */
	cin = get16(in + qck);
	cout = get16(out + qck);
	if (v->q.proto == IPPROTO_UDP && (!cin || !cout)) {
		if (cin != cout)
			fail(j, "quoted_l4_checksum_wrong",
			     "zero checksum %04x became %04x", cin, cout);
		return;
	}
	sum = (uint16_t)~cin;
	for (i = 0; i < (int)al; i += 2) {
		sum += (uint16_t)~get16(in + v->q.off + sa + i);
		sum += (uint16_t)~get16(in + v->q.off + sa + al + i);
		sum += get16(out + v->q.off + sa + i);
		sum += get16(out + v->q.off + sa + al + i);
	}
	for (i = 0; i < 4; i += 2) {
		sum += (uint16_t)~get16(in + v->q_ports + i);
		sum += get16(out + v->q_ports + i);
	}
	want = ~fold(sum);
	if (fold((uint16_t)~want) != fold((uint16_t)~cout))
		fail(j, "quoted_l4_checksum_wrong", "%04x, expected %04x", cout,
		     want);
}

/* Read a translated frame's addresses and ports (same layout as in). */
static void out_tuple(const struct fz_run *r, const struct fz_view *v,
		      struct xlb_addr *s, struct xlb_addr *d, uint16_t *sp)
{
	int fam = v->ip.family;
	size_t sa = v->ip.off + saddr_off(fam);

	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	memcpy(s->addr, r->out + sa, alen_of(fam));
	memcpy(d->addr, r->out + sa + alen_of(fam), alen_of(fam));
	*sp = raw16(r->out + v->l4);
}

static void judge_nat(struct fz_model *m, const struct fz_run *r,
		      struct fz_view *v, struct fz_judgement *j)
{
	struct fz_sess *s = v->sess;
	struct xlb_addr laddr, raddr;
	uint16_t lport;

	if (r->out_len != r->in_len) {
		fail(j, "output_length", "%zu bytes, expected %zu", r->out_len,
		     r->in_len);
		return;
	}
	switch (v->kind) {
	case K_NAT_REQ:
		out_tuple(r, v, &laddr, &raddr, &lport);
		if (s && !s->maybe &&
		    (!addr_eq(&s->laddr, &laddr) || s->lport != lport ||
		     !addr_eq(&s->raddr, &raddr)) &&
		    !v->creating) {
			fail(j, "fullnat_session_from_non_syn",
			     "a new tuple for a flow without a SYN");
			return;
		}
		if (!nat_tuple_ok(m, v, &laddr, lport, &raddr, j))
			return;
		judge_nat_output(m, r, v, &laddr, &raddr, lport, v->dport, j);
		if (j->cls)
			return;
		sess_put(m, &v->fk, false, &laddr, lport, &raddr, &v->ip.d);
		j->nat_req = true;
		j->laddr = laddr;
		j->raddr = raddr;
		j->lport = lport;
		return;
	case K_NAT_REP:
	case K_NAT_ICMP_REP:
		judge_nat_output(m, r, v, &s->vaddr, &s->fk.saddr, s->fk.dport,
				 s->fk.sport, j);
		return;
	case K_NAT_ICMP_REQ:
		if (s->maybe) {
			/* The tuple is whatever the program chose: the
			 * quote's new source is the real. */
			memset(&laddr, 0, sizeof(laddr));
			memset(&raddr, 0, sizeof(raddr));
			memcpy(laddr.addr,
			       r->out + v->ip.off + saddr_off(v->ip.family),
			       alen_of(v->ip.family));
			memcpy(raddr.addr,
			       r->out + v->ip.off + saddr_off(v->ip.family) +
				       alen_of(v->ip.family),
			       alen_of(v->ip.family));
			lport = raw16(r->out + v->q_ports + 2);
			if (!nat_tuple_ok(m, v, &laddr, lport, &raddr, j))
				return;
			s = sess_put(m, &v->fk, false, &laddr, lport, &raddr,
				     &v->q.s);
			if (!s)
				return;
		}
		judge_nat_output(m, r, v, &s->laddr, &s->raddr, s->lport,
				 s->fk.dport, j);
		return;
	default:
		return;
	}
}

/*
 * A request forwarded that should not have been still made its state:
 * remember it, so that its replies, errors and later packets are not
 * blamed again.
 */
static void adopt_forward(struct fz_model *m, const struct fz_run *r,
			  const struct fz_view *v)
{
	struct xlb_addr laddr, raddr;
	uint16_t lport;
	uint32_t *ct;

	if (!v->flow_ok)
		return;
	if (v->kind == K_TUN_REQ) {
		ct = ct_slot(m, &v->fk, true);
		(void)ct; /* tracked, real unknown (0) */
		return;
	}
	if (r->out_len != r->in_len)
		return;
	out_tuple(r, v, &laddr, &raddr, &lport);
	sess_put(m, &v->fk, false, &laddr, lport, &raddr, &v->ip.d);
}

static bool is_vlan_type(uint16_t type)
{
	return type == 0x8100 || type == 0x88a8;
}

/*
 * A path MTU error (forward_icmp_too_big) about the well-formed packet
 * in: sent back out of the ingress port (MACs swapped, the same tag if
 * any), from the packet's destination to its source, an ICMP
 * fragmentation needed (IPv4) or packet too big (IPv6), every checksum
 * right, quoting the start of the packet byte for byte.
 */
static void judge_too_big(const struct fz_run *r, const struct fz_view *v,
			  size_t in_l3, struct fz_judgement *j)
{
	const uint8_t *o = r->out, *in = r->in;
	size_t l3 = 14, l4, quote, have;
	bool v4 = v->ip.family == AF_INET;
	char why[160];

	if (r->out_len > 14 && is_vlan_type(get16(o + 12)))
		l3 = 18;
	if (pkt_verify_checksums(o, r->out_len, why, sizeof(why))) {
		fail(j, "icmp_too_big_malformed", "%s", why);
		return;
	}
	if (memcmp(o, in + 6, 6) || memcmp(o + 6, in, 6)) {
		fail(j, "icmp_too_big_macs", "not the input's MACs swapped");
		return;
	}
	if (v4) {
		l4 = l3 + (o[l3] & 0xf) * 4;
		if (o[l3 + 9] != IPPROTO_ICMP || o[l4] != 3 || o[l4 + 1] != 4 ||
		    memcmp(o + l3 + 12, in + in_l3 + 16, 4) ||
		    memcmp(o + l3 + 16, in + in_l3 + 12, 4)) {
			fail(j, "icmp_too_big_header",
			     "not fragmentation needed from the destination "
			     "to the source");
			return;
		}
	} else {
		l4 = l3 + 40;
		if (o[l3 + 6] != IPPROTO_ICMPV6 || o[l4] != 2 ||
		    memcmp(o + l3 + 8, in + in_l3 + 24, 16) ||
		    memcmp(o + l3 + 24, in + in_l3 + 8, 16)) {
			fail(j, "icmp_too_big_header",
			     "not packet too big from the destination to the "
			     "source");
			return;
		}
	}
	quote = l4 + 8;
	have = r->out_len - quote;
	if (!have || have > v->ip.end - v->ip.off ||
	    memcmp(o + quote, in + in_l3, have))
		fail(j, "icmp_too_big_quote",
		     "the quote (%zu bytes) is not the packet's start", have);
}

static bool forwarding_reason(enum xlb_reason r)
{
	return r == XLB_R_FWD_TX || r == XLB_R_FWD_REDIRECT ||
	       r == XLB_R_PASS_NO_NEIGH;
}

static uint32_t verdict_of(enum xlb_reason r)
{
	if (r == XLB_R_FWD_TX || r == XLB_R_FWD_ICMP_TOO_BIG)
		return XDP_TX;
	if (r == XLB_R_FWD_REDIRECT)
		return XDP_REDIRECT;
	return r < XLB_R_FIRST_DROP ? XDP_PASS : XDP_DROP;
}

/*
 * The frame without the tag of a VLAN its ingress interface balances
 * (id 0, a priority tag, or one of the interface's m->vlans_*), into
 * nf: what the program sees as the IP packet's frame. NULL, or why no
 * frame with this tag may be forwarded: another VLAN's (one balanced
 * only on the other interface too), or two tags (QinQ).
 */
static const char *untag(const struct fz_model *m, int ingress,
			 const uint8_t *f, size_t len, uint8_t *nf,
			 size_t *nlen)
{
	const uint64_t *vlans = ingress == m->if_reals ? m->vlans_reals
						       : m->vlans_client;
	uint16_t vid;

	memcpy(nf, f, len);
	*nlen = len;
	if (len < 14 || !is_vlan_type(get16(f + 12)))
		return NULL;
	if (len < 18)
		return "frame_truncated";
	if (is_vlan_type(get16(f + 16)))
		return "vlan_qinq_frame";
	vid = get16(f + 14) & 0xfff;
	if (vid && !(vlans[vid / 64] >> (vid % 64) & 1))
		return "vlan_tagged_frame";
	memcpy(nf + 12, f + 16, len - 16);
	*nlen = len - 4;
	return NULL;
}

void fz_judge(struct fz_model *m, const struct fz_run *r,
	      struct fz_judgement *j)
{
	static uint8_t nf[FZ_FRAME_MAX];
	struct fz_run n;
	struct fz_view v;
	size_t nlen;

	memset(j, 0, sizeof(*j));
	if (r->n_moved != 1 || r->moved_by != 1) {
		fail(j, "reason_count", "%d counters moved (by %d)", r->n_moved,
		     r->moved_by);
		return;
	}
	if (verdict_of(r->reason) != r->retval) {
		fail(j, "verdict_not_reason", "verdict %u with reason %s",
		     r->retval, xlb_reason_names[r->reason]);
		return;
	}
	/* What may be forwarded is judged on the frame as it should leave:
	 * untagged, and (below) ending with its IP packet. */
	memset(&v, 0, sizeof(v));
	j->input_class = untag(m, r->ingress, r->in, r->in_len, nf, &nlen);
	if (!j->input_class)
		j->input_class = judge_input(m, nf, nlen, &v);
	n = *r;
	n.in = nf;
	n.in_len = v.ip.end && v.ip.end <= nlen ? v.ip.end : nlen;
	j->makes_session = !j->input_class && v.kind == K_NAT_REQ && v.creating;
	if (r->reason == XLB_R_FWD_ICMP_TOO_BIG) {
		/* Answered, not forwarded: about a packet that could have
		 * been, had it fit. */
		if (j->input_class)
			fail(j, j->input_class, "answered with %s",
			     xlb_reason_names[r->reason]);
		else
			judge_too_big(r, &v, r->in_len - nlen + v.ip.off, j);
		if (j->makes_session && !v.sess)
			sess_put(m, &v.fk, true, NULL, 0, NULL, &v.ip.d);
		return;
	}
	j->forwarded = forwarding_reason(r->reason);
	if (!j->forwarded) {
		if (r->retval == XDP_PASS && (r->out_len != r->in_len ||
					      memcmp(r->out, r->in, r->in_len)))
			fail(j, "pass_modified", "reason %s",
			     xlb_reason_names[r->reason]);
		/* A first packet that was not sent may still have made
		 * its session (a route or MTU failure after it). */
		if (j->makes_session && !v.sess)
			sess_put(m, &v.fk, true, NULL, 0, NULL, &v.ip.d);
		return;
	}
	if (j->input_class) {
		fail(j, j->input_class, "forwarded (%s)",
		     xlb_reason_names[r->reason]);
		adopt_forward(m, &n, &v);
		return;
	}
	if (v.kind == K_TUN_REQ || v.kind == K_TUN_ICMP)
		judge_tunnel(m, &n, &v, j);
	else
		judge_nat(m, &n, &v, j);
}
