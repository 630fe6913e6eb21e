/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Data-path probes of health checks (docs/HEALTH.md, "Data-path checks"):
 * the packets a check sends through the tunnel exactly as the balancer's
 * data plane would send a client's packet (outer header from the
 * tunnel_source range, the inner packet addressed to the VIP), and the
 * reading of what comes back. Pure functions over buffers: health.c owns
 * the sockets.
 *
 * Every encapsulation is written by probe_encap() in probe.c alone:
 * IPIP / IP6IP6 / 4in6, or the same inside UDP (GUE variant 1, as
 * bpf/gue.h), a new one is a case there.
 */
#ifndef XLB_PROBE_H
#define XLB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlb.h"

#define XLB_PROBE_TTL	    64 /* as XLB_TUNNEL_TTL of the data plane */
#define XLB_PROBE_OUTER_MAX 48 /* the longest outer header: IPv6 + UDP */
#define XLB_PROBE_INNER_MAX 60 /* IPv6 + TCP with no options */
#define XLB_PROBE_PKT_MAX \
	(XLB_PROBE_OUTER_MAX + XLB_PROBE_INNER_MAX + XLB_CHECK_TEXT_LEN + 8)

/* TCP flags as in the header's 13th byte. */
#define XLB_PROBE_FIN 0x01
#define XLB_PROBE_SYN 0x02
#define XLB_PROBE_RST 0x04
#define XLB_PROBE_ACK 0x10

/* One probe packet: inner src:sport -> dst:dport, in a tunnel. */
struct xlb_probe_pkt {
	struct xlb_ip outer_src; /* tunnel source (xlb_probe_tunnel_source) */
	struct xlb_ip outer_dst; /* the real */
	uint16_t gue_port;	 /* GUE: UDP destination port; 0: IPIP */
	struct xlb_ip src;	 /* inner source: an address of the node */
	struct xlb_ip dst;	 /* inner destination: the VIP */
	uint16_t sport, dport;	 /* host order */
	uint8_t proto;		 /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags;	 /* TCP */
	uint32_t seq, ack;	 /* TCP, host order */
	const void *payload;	 /* UDP */
	size_t payload_len;
};

/*
 * The outer source the data plane gives this flow (bpf/encap.h
 * encap_source): base with its host bits (beyond plen, for IPv6 only
 * within the last 32 bits) taken from the flow hash of the inner packet
 * (include/xlb_hash.h). base's family is the real's.
 */
void xlb_probe_tunnel_source(const struct xlb_ip *base, int plen,
			     const struct xlb_probe_pkt *p, struct xlb_ip *out);

/*
 * Write the encapsulated probe (outer IP header, inner IP header, TCP or
 * UDP with their checksums) into buf. Returns its length, or -EINVAL
 * (mixed-up families, payload too long) or -ENOSPC (buf too short).
 */
int xlb_probe_build(const struct xlb_probe_pkt *p, uint8_t *buf, size_t len);

/* What a TCP segment received says about a probe. */
enum xlb_probe_answer {
	XLB_PROBE_OTHER = 0, /* not an answer to this probe */
	XLB_PROBE_SYNACK,    /* the real accepted: SYN-ACK acking seq */
	XLB_PROBE_REFUSED,   /* the real refused: RST acking seq */
};

/*
 * Judge a received packet, from its IP header on (an AF_PACKET
 * SOCK_DGRAM socket's view: before routing, so that a reply from the VIP
 * is seen even where the node's kernel would drop it as a martian). It
 * answers the probe p (a SYN sent with sequence number p->seq) if it is
 * TCP from p->dst:p->dport to p->src:p->sport. On a SYN-ACK *peer_seq is
 * the real's sequence number.
 */
enum xlb_probe_answer xlb_probe_tcp_answer(const struct xlb_probe_pkt *p,
					   const uint8_t *buf, size_t len,
					   uint32_t *peer_seq);

/*
 * The same for a UDP probe: whether buf is a datagram from p->dst:p->dport
 * to p->src:p->sport; *payload and *payload_len then point into buf.
 */
bool xlb_probe_udp_answer(const struct xlb_probe_pkt *p, const uint8_t *buf,
			  size_t len, const uint8_t **payload,
			  size_t *payload_len);

/*
 * A classic BPF filter for the AF_PACKET socket of a probe to VIP vip:
 * IP packets of protocol proto from vip only. Fills f (at most
 * XLB_PROBE_FILTER_MAX instructions) and returns their count.
 */
#define XLB_PROBE_FILTER_MAX 12
struct sock_filter;
size_t xlb_probe_filter(const struct xlb_ip *vip, uint8_t proto,
			struct sock_filter *f);

#endif /* XLB_PROBE_H */
