/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet builders and checkers for the data-path tests.
 *
 * A test describes a frame with a declarative struct pkt_spec (every field
 * left zero takes a sensible default), builds it with pkt_build() into a
 * struct pkt whose headers are in network byte order with every length and
 * checksum correct, and wraps it with pkt_encap() to describe the frame it
 * expects the data path to send. Frames coming back from the program are
 * read with pkt_parse() and checked with pkt_verify_checksums().
 *
 * Functions return 0 or -errno and never print, except the hexdumps.
 */
#ifndef XLB_TEST_PKT_H
#define XLB_TEST_PKT_H

#include <netinet/in.h> /* before the linux/ headers: libc-compat */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "xlb_abi.h"

/* Large enough for any frame BPF_PROG_TEST_RUN takes for XDP. */
#define PKT_MAX 4096

/* IP headers pkt_parse() follows through encapsulation, outermost first. */
#define PKT_MAX_IP 4

/* The MACs a spec gets when it names none. */
#define PKT_MAC_CLIENT "02:00:00:00:00:01" /* source: the upstream router */
#define PKT_MAC_XLB    "02:00:00:00:00:02" /* destination: the balancer */

/* struct pkt_spec.family for an ARP frame (the other values: AF_INET*). */
#define PKT_ARP 0x0806

/* struct pkt_spec.ttl for a TTL (hop limit) of 0 on the wire. */
#define PKT_TTL_ZERO (-1)

/* TCP flags for struct pkt_spec.tcp_flags, as in byte 13 of the header. */
#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

/* IPv6 neighbour discovery types (not in linux/icmpv6.h). */
#define PKT_ND_NS 135
#define PKT_ND_NA 136

/* IPv6 extension headers (IPPROTO_HOPOPTS is 0, so not those numbers). */
enum pkt_ext6_type {
	PKT_EXT_NONE = 0,
	PKT_EXT_HOPOPTS, /* PadN only */
	PKT_EXT_ROUTING, /* routing type 0, no segments left */
	PKT_EXT_DSTOPTS, /* PadN only */
	PKT_EXT_FRAGMENT,
};

/* One IPv6 extension header between the fixed header and L4. */
struct pkt_ext6 {
	enum pkt_ext6_type type;
	uint8_t len;	   /* bytes, multiple of 8; 0 = 8 (not fragment) */
	uint16_t frag_off; /* fragment offset in 8-byte units */
	bool more;	   /* M flag */
	uint32_t id;	   /* fragment identification */
};

/*
 * What to build. Strings are parsed with inet_pton() and as
 * "xx:xx:xx:xx:xx:xx"; ports, ids and sequence numbers are host order.
 */
struct pkt_spec {
	/* Ethernet */
	const char *smac;   /* NULL: PKT_MAC_CLIENT */
	const char *dmac;   /* NULL: PKT_MAC_XLB (broadcast for ARP) */
	bool vlan;	    /* add one 802.1Q tag */
	uint16_t vlan_tci;  /* PCP, DEI and VID */
	uint16_t ethertype; /* 0: from family; else family must be 0 */

	/* Network layer: AF_INET, AF_INET6, PKT_ARP or 0 (payload only). */
	int family;
	const char *saddr;
	const char *daddr; /* NULL for a neighbour solicitation: solicited */
	int ttl;	   /* TTL or hop limit; 0: 64 (ND: 255) */
	uint8_t tos;	   /* IPv4 TOS or IPv6 traffic class */
	uint32_t flow_label;
	uint16_t ip_id;
	bool df;
	bool mf;
	uint16_t frag_off; /* IPv4 fragment offset in 8-byte units */
	uint8_t ip_opts[40];
	uint8_t ip_opts_len; /* padded with EOL to a multiple of 4 */
	struct pkt_ext6 ext; /* IPv6 only */
	uint16_t arp_op;     /* 0: request */

	/* Transport: IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 or any other number. */
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags; /* PKT_SYN | PKT_ACK ... */
	uint32_t seq;
	uint32_t ack;
	uint16_t window; /* 0: 65535 */
	uint16_t mss;	 /* non-zero: add an MSS option */
	/* More TCP option bytes, as given (malformed ones too), after the
	 * MSS option; padded with EOL to a multiple of 4. */
	uint8_t tcp_opts[40];
	uint8_t tcp_opts_len;
	bool udp_csum_zero;

	/* ICMP and ICMPv6 */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id;  /* echo */
	uint16_t icmp_seq; /* echo */
	uint32_t mtu; /* frag needed, packet too big (param problem: ptr) */
	/* An error quotes this packet from its network header onwards. */
	const struct pkt_spec *quote;
	/* 0: IPv4 header + 8 bytes, or for ICMPv6 as much as fits in 1280 */
	size_t quote_len;
	const char *nd_target; /* neighbour solicitation or advertisement */

	/* Payload after L4: payload_len bytes of payload, or a counting
	 * pattern (i & 0xff) when payload is NULL. */
	const void *payload;
	size_t payload_len;
};

/*
 * A built frame. Offsets are into buf; inner_l3_off is the packet as first
 * built, l3_off the outermost network header once encapsulated. buf starts
 * 2 bytes into the struct (the kernel's NET_IP_ALIGN), so that network and
 * transport headers behind 14 or 18 bytes of Ethernet are 4-byte aligned
 * and the accessors below return aligned pointers.
 */
struct pkt {
	uint8_t pad[2];
	uint8_t buf[PKT_MAX];
	size_t len;
	int family; /* of the outermost network header */
	size_t l3_off;
	size_t inner_l3_off;
	size_t l4_off;
	size_t payload_off;
};

/* Outer header for pkt_encap(). */
struct pkt_outer {
	int family; /* AF_INET or AF_INET6 */
	const char *saddr;
	const char *daddr;
	int ttl;     /* 0: 64; PKT_TTL_ZERO */
	uint8_t tos; /* TOS or traffic class */
	uint16_t id; /* IPv4 */
	bool df;     /* IPv4 */
	uint32_t flow_label;
	const char *smac; /* NULL: keep */
	const char *dmac; /* NULL: keep */
	bool strip_vlan;
};

/* One network header as found by pkt_parse(). */
struct pkt_ip_info {
	int family;
	size_t off;
	size_t hdr_len; /* options and extension headers included */
	size_t tot_len; /* as the header says, header included */
	/* As stored in maps (IPv4 in addr[0]), and as text. */
	struct xlb_addr saddr, daddr;
	char src[INET6_ADDRSTRLEN];
	char dst[INET6_ADDRSTRLEN];
	uint8_t proto; /* after extension headers */
	uint8_t ttl;
	uint8_t tos;
	uint32_t flow_label;
	uint16_t id;
	bool df;
	bool mf;
	uint16_t frag_off; /* 8-byte units, IPv4 or IPv6 fragment header */
	bool fragment;	   /* MF or an offset: no L4 follows to check */
	uint16_t sport;	   /* of a quoted packet only */
	uint16_t dport;
};

/* A frame as found by pkt_parse(). Numbers are host order. */
struct pkt_info {
	uint8_t dmac[ETH_ALEN];
	uint8_t smac[ETH_ALEN];
	bool vlan;
	uint16_t vlan_tci;
	uint16_t ethertype; /* after the tag */
	int n_ip;
	struct pkt_ip_info ip[PKT_MAX_IP]; /* [0] outermost */
	/* The innermost L4 header (proto 0 when none was reached). */
	uint8_t proto;
	size_t l4_off;
	size_t l4_len;
	size_t payload_off;
	size_t payload_len;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;
	uint32_t seq;
	uint32_t ack;
	uint16_t mss; /* 0: no option */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id;
	uint16_t icmp_seq;
	uint32_t mtu;
	bool has_quote; /* an ICMP error: quote describes the quoted packet */
	struct pkt_ip_info quote;
};

/* The first and the last network header of a parsed frame. */
static inline const struct pkt_ip_info *pkt_outer_ip(const struct pkt_info *i)
{
	return i->n_ip ? &i->ip[0] : NULL;
}

static inline const struct pkt_ip_info *pkt_inner_ip(const struct pkt_info *i)
{
	return i->n_ip ? &i->ip[i->n_ip - 1] : NULL;
}

/* Build spec into p. -EINVAL for a bad spec, -EMSGSIZE past PKT_MAX. */
int pkt_build(struct pkt *p, const struct pkt_spec *spec);

/*
 * Put an outer IPv4 or IPv6 header in front of p's outermost network
 * header (protocol 4 or 41 after what it wraps), optionally with new MACs.
 */
int pkt_encap(struct pkt *p, const struct pkt_outer *outer);

/* Cut the frame to len bytes (no-op if already shorter). */
void pkt_truncate(struct pkt *p, size_t len);

/*
 * Recompute every IPv4 header and L4 checksum, through encapsulation,
 * after a test changed a field. Lengths are left alone; a zero UDP
 * checksum over IPv4 stays zero. Stops quietly at what it cannot parse.
 */
void pkt_fix_checksums(struct pkt *p);

/* Header accessors (p->l3_off, p->inner_l3_off, p->l4_off). */
static inline struct ethhdr *pkt_eth(struct pkt *p)
{
	return (struct ethhdr *)p->buf;
}

static inline struct iphdr *pkt_ip4(struct pkt *p)
{
	return (struct iphdr *)(p->buf + p->l3_off);
}

static inline struct ipv6hdr *pkt_ip6(struct pkt *p)
{
	return (struct ipv6hdr *)(p->buf + p->l3_off);
}

static inline struct iphdr *pkt_inner_ip4(struct pkt *p)
{
	return (struct iphdr *)(p->buf + p->inner_l3_off);
}

static inline struct ipv6hdr *pkt_inner_ip6(struct pkt *p)
{
	return (struct ipv6hdr *)(p->buf + p->inner_l3_off);
}

static inline struct tcphdr *pkt_tcp(struct pkt *p)
{
	return (struct tcphdr *)(p->buf + p->l4_off);
}

static inline struct udphdr *pkt_udp(struct pkt *p)
{
	return (struct udphdr *)(p->buf + p->l4_off);
}

static inline struct icmphdr *pkt_icmp(struct pkt *p)
{
	return (struct icmphdr *)(p->buf + p->l4_off);
}

static inline struct icmp6hdr *pkt_icmp6(struct pkt *p)
{
	return (struct icmp6hdr *)(p->buf + p->l4_off);
}

/*
 * Walk Ethernet, an optional VLAN tag, every IPv4/IPv6 layer (protocols
 * 4 and 41) and the innermost L4, filling info. Only bounds are checked:
 * -1 with a reason in why when a header does not fit the frame.
 */
int pkt_parse(const uint8_t *frame, size_t len, struct pkt_info *info,
	      char *why, size_t whylen);

/*
 * Like pkt_parse(), and also every length field must match the bytes that
 * follow and every checksum (IPv4 headers, TCP, UDP, ICMP, ICMPv6, the
 * header quoted by an ICMP error) must be right. A zero UDP checksum is
 * accepted over IPv4 only. 0 or -1 with a reason in why.
 */
int pkt_verify_checksums(const uint8_t *frame, size_t len, char *why,
			 size_t whylen);

/* The RFC 1071 Internet checksum of len bytes (host-order value). */
uint16_t pkt_csum(const void *data, size_t len);

/* The offset of the first differing byte, or -1 when equal. */
ssize_t pkt_first_diff(const uint8_t *got, size_t glen, const uint8_t *want,
		       size_t wlen);

/* Dump both frames to f, 16 bytes a line, marking differing bytes. */
void pkt_fhexdump_diff(FILE *f, const uint8_t *got, size_t glen,
		       const uint8_t *want, size_t wlen);

/* pkt_fhexdump_diff() to stderr, for test failure messages. */
void pkt_hexdump_diff(const uint8_t *got, size_t glen, const uint8_t *want,
		      size_t wlen);

#endif /* XLB_TEST_PKT_H */
