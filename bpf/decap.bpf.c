// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XLB decap: runs on a real. Strips the outer IPv4/IPv6 header of tunnel
 * packets (IPIP, IPv6-in-IPv4, IPv4-in-IPv6, IP6IP6, each also inside
 * UDP to gue_port: GUE variant 1, bpf/gue.h) addressed to one of this
 * host's addresses and sent from one of the allowed sources (the
 * balancers), and passes the inner packet to the stack, where the VIP on
 * lo accepts it. Hosts need no IPIP driver.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "gue.h"
#include "parse.h"
#include "reason.h"

/* The UDP port of GUE packets (host order); set before load. */
const volatile __u16 decap_gue_port = XLB_GUE_PORT_DEFAULT;

/* Outer destinations we accept: the host's own addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_DECAP_MAX_ADDRS);
	__type(key, struct xlb_vip_addr_key);
	__type(value, __u32);
} decap_addrs SEC(".maps");

/* Outer sources we accept: the balancers' tunnel_source prefixes. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLB_DECAP_MAX_SOURCES);
	__type(key, struct xlb_decap_src_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} decap_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

/*
 * Outer header: XLB_GO_ON or the reason (enum xlb_decap_reason); its
 * length (with the UDP header of GUE) in *hlen, the inner ethertype in
 * *inner, its source and destination addresses in src and dst.
 */
static __always_inline __u32 parse_outer(struct cursor *c, int l3,
					 struct xlb_vip_addr_key *src,
					 struct xlb_vip_addr_key *dst,
					 __u16 *inner, int *hlen)
{
	struct ipv6hdr *ip6h = c->pos;
	struct iphdr *iph = c->pos;
	__u8 proto;
	int len, ret;

	if (l3 == ETH_P_IP) {
		if ((void *)(iph + 1) > c->end)
			return XLB_DECAP_DROP_TRUNCATED;
		if (iph->protocol != IPPROTO_IPIP &&
		    iph->protocol != IPPROTO_IPV6 &&
		    iph->protocol != IPPROTO_UDP)
			return XLB_DECAP_PASS_NOT_TUNNEL;
		if (iph->version != 4 || iph->ihl < 5)
			return XLB_DECAP_DROP_BAD_HEADER;
		/* A fragment of a tunnel packet is left to the stack. */
		if (iph->frag_off & bpf_htons(IPV4_FRAG_MASK))
			return XLB_DECAP_PASS_NOT_TUNNEL;
		len = iph->ihl * 4;
		proto = iph->protocol;
		src->addr.addr[0] = iph->saddr;
		src->family = XLB_AF_INET;
		dst->addr.addr[0] = iph->daddr;
		dst->family = XLB_AF_INET;
	} else if (l3 == ETH_P_IPV6) {
		if ((void *)(ip6h + 1) > c->end)
			return XLB_DECAP_DROP_TRUNCATED;
		if (ip6h->nexthdr != IPPROTO_IPIP &&
		    ip6h->nexthdr != IPPROTO_IPV6 &&
		    ip6h->nexthdr != IPPROTO_UDP)
			return XLB_DECAP_PASS_NOT_TUNNEL;
		len = sizeof(*ip6h);
		proto = ip6h->nexthdr;
		__builtin_memcpy(&src->addr, &ip6h->saddr, sizeof(src->addr));
		src->family = XLB_AF_INET6;
		__builtin_memcpy(&dst->addr, &ip6h->daddr, sizeof(dst->addr));
		dst->family = XLB_AF_INET6;
	} else {
		return XLB_DECAP_PASS_NOT_TUNNEL;
	}
	if (proto == IPPROTO_UDP) {
		if (len > 60)
			return XLB_DECAP_DROP_BAD_HEADER;
		ret = gue_inner(c->pos + len, c->end, decap_gue_port);
		if (ret < 0)
			return XLB_DECAP_DROP_TRUNCATED;
		if (!ret)
			return XLB_DECAP_PASS_NOT_TUNNEL;
		*inner = ret;
		*hlen = len + XLB_UDP_HDR_LEN;
		return XLB_GO_ON;
	}
	*inner = proto == IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6;
	*hlen = len;
	return XLB_GO_ON;
}

/*
 * Is src, the outer source of a tunnel packet, in one of the allowed
 * prefixes? The one place that decides, whatever the kind of tunnel: a
 * packet from anywhere else would hand the stack an inner packet with
 * whatever source its sender chose.
 */
static __always_inline bool
decap_source_allowed(const struct xlb_vip_addr_key *src)
{
	struct xlb_decap_src_key key = {};

	key.family = src->family;
	key.prefixlen = 8 + (src->family == XLB_AF_INET ? 32 : 128);
	__builtin_memcpy(key.addr, &src->addr, sizeof(key.addr));
	return bpf_map_lookup_elem(&decap_sources, &key) != NULL;
}

/* The whole decap path; returns the packet's reason. */
static __always_inline __u32 decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = {.start = data, .pos = data, .end = data_end};
	struct xlb_vip_addr_key src = {}, dst = {};
	struct xlb_pkt p = {};
	__u32 reason;
	__be16 *type;
	__u16 inner;
	int l3, hlen;

	/* parse_eth's one reason is drop_truncated. */
	if (parse_eth(&c, &p, &l3) != XLB_GO_ON)
		return XLB_DECAP_DROP_TRUNCATED;
	reason = parse_outer(&c, l3, &src, &dst, &inner, &hlen);
	if (reason != XLB_GO_ON)
		return reason;
	if (!bpf_map_lookup_elem(&decap_addrs, &dst))
		return XLB_DECAP_PASS_NOT_LOCAL;
	if (!decap_source_allowed(&src))
		return XLB_DECAP_DROP_SOURCE;
	if (hlen > 60 + XLB_UDP_HDR_LEN ||
	    c.pos + hlen + sizeof(struct iphdr) > c.end)
		return XLB_DECAP_DROP_TRUNCATED;

	/* Move the L2 header forward over the outer header, then drop the
	 * bytes in front of it. */
	if (p.vlan) {
		if (data + hlen + sizeof(struct ethhdr) + 4 > data_end)
			return XLB_DECAP_DROP_TRUNCATED;
		__builtin_memmove(data + hlen, data, sizeof(struct ethhdr) + 4);
	} else {
		if (data + hlen + sizeof(struct ethhdr) > data_end)
			return XLB_DECAP_DROP_TRUNCATED;
		__builtin_memmove(data + hlen, data, sizeof(struct ethhdr));
	}
	if (bpf_xdp_adjust_head(ctx, hlen))
		return XLB_DECAP_DROP_INTERNAL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	type = data + p.l3_off - sizeof(*type);
	if (p.l3_off > sizeof(struct ethhdr) + 4 ||
	    (void *)(type + 1) > data_end)
		return XLB_DECAP_DROP_INTERNAL;
	*type = bpf_htons(inner);
	return XLB_DECAP_OK;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	__u32 reason = decap(ctx);
	__u64 *n = bpf_map_lookup_elem(&decap_stats, &reason);

	if (n)
		*n += 1;
	return reason < XLB_DECAP_FIRST_DROP ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
