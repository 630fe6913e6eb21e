/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * flowcache.h: the established tunnel flow's short way. A per-CPU,
 * direct-mapped cache (xlb_abi.h: struct xlb_fc_entry) keeps the whole
 * answer the slow path gave an IPv4 flow: its VIP, its real, the new
 * head of the frame (Ethernet and outer header as sent) and the egress.
 * A packet that finds its flow there with the epoch and tick unchanged
 * is counted and sent with one array lookup and no hashed one. Anything
 * the slot cannot vouch for takes the slow path, which gives the exact
 * answer and may fill the slot:
 *   - a frame that is not plain Ethernet + IPv4 without options, TCP or
 *     UDP, exactly as long as its IP packet (no VLAN tag, no trailer),
 *     a fragment, no TTL left;
 *   - a TCP segment with SYN, FIN or RST (they move the flow's state);
 *   - a packet over the next hop's MTU;
 *   - a new conntrack tick (~1 s): the slow path then refreshes the
 *     flow's entry, so the entry ages as if every packet had seen it;
 *   - a moved fc_epoch: the agent moves it after every map write and
 *     route, neighbour or link event, the data plane when a CPU drops
 *     or takes another CPU's entry of a flow (conntrack.h).
 * Slots are filled only while an agent keeps the epoch (fc_epoch.on).
 */
#ifndef XLB_BPF_FLOWCACHE_H
#define XLB_BPF_FLOWCACHE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_conn.h"
#include "csum.h"
#include "fib.h"
#include "lookup.h"
#include "maps.h"
#include "parse.h"
#include "reason.h"
#include "stats.h"

/* Each CPU's slots, one after the other: CPU c's slot i is c * size + i
 * (size: flow_cache_size, a power of two). One plain array, not a
 * per-CPU one: a lookup is one address, with no per-CPU pointer to read
 * first (a cold line of its own when the flows do not fit in the CPU's
 * caches). Sized by the agent before load; not pinned: each program
 * starts with an empty one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_FC_SIZE_DEFAULT);
	__type(key, __u32);
	__type(value, struct xlb_fc_entry);
} flow_cache SEC(".maps");

/* Mapped by the agent, which moves the epoch with an atomic add. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_fc_epoch);
} fc_epoch SEC(".maps");

/* Slots filled, [0] (per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fc_stats SEC(".maps");

/* flow_cache_size - 1, set with the map's size. */
const volatile __u32 xlb_fc_mask = XLB_FC_SIZE_DEFAULT - 1;

#define XLB_FC_TCP_NO (XLB_TCP_SYN | XLB_TCP_FIN | XLB_TCP_RST)

/* The ports as one word, in the order both call sites read them. */
static __always_inline __u32 fc_ports(__be16 sport, __be16 dport)
{
	return (__u32)sport | ((__u32)dport << 16);
}

static __always_inline __u32 fc_slot(__be32 saddr, __be32 daddr, __u32 ports,
				     __u8 proto)
{
	__u32 h = saddr * 0x9e3779b1u;

	h ^= (ports + proto) * 0x85ebca77u;
	h ^= daddr;
	h ^= h >> 15;
	h *= 0xc2b2ae3du;
	h ^= h >> 13;
	return bpf_get_smp_processor_id() * (xlb_fc_mask + 1) +
	       (h & xlb_fc_mask);
}

static __always_inline struct xlb_fc_epoch *fc_epoch_map(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fc_epoch, &zero);
}

/*
 * The epoch a fill will carry, read before anything of the answer is:
 * a change after this read moves the epoch past it. false when no
 * agent keeps the epoch (no fill then).
 */
static __always_inline bool fc_epoch_read(__u32 *epoch)
{
	struct xlb_fc_epoch *e = fc_epoch_map();

	if (!e || !*(volatile __u32 *)&e->on)
		return false;
	*epoch = *(volatile __u32 *)&e->epoch;
	return true;
}

/* Every slot of every CPU stops holding: the data plane changed what a
 * flow's answer is made of (another CPU's conntrack entry). */
static __always_inline void fc_moved(void)
{
	struct xlb_fc_epoch *e = fc_epoch_map();

	if (e)
		__sync_fetch_and_add(&e->epoch, 1);
}

/* The outer IPv4 header's word sum but words 0 (version, tos), 1
 * (length) and 5 (checksum), which fc_forward writes per packet. */
static __always_inline __u32 fc_sum4(const struct iphdr *o4)
{
	const __u16 *w = (const __u16 *)o4;

	return w[2] + w[3] + w[4] + w[6] + w[7] + w[8] + w[9];
}

/* Write the slot's head in front of the packet (tot bytes of IPv4, tos
 * its TOS). n is the head's length, a constant at each call site. */
#define FC_WRITE_HEAD(ctx, e, n)                                     \
	({                                                           \
		void *d_ = (void *)(long)(ctx)->data;                \
		int ok_ = d_ + (n) <= (void *)(long)(ctx)->data_end; \
		if (ok_)                                             \
			__builtin_memcpy(d_, (e)->hdr, (n));         \
		ok_;                                                 \
	})

/*
 * Send an established IPv4 tunnel flow's packet by its slot. Returns
 * the packet's reason, XLB_R_PASS_NOT_VIP for a packet to no address of
 * ours (the slow path's first answer for such a packet), or XLB_GO_ON
 * when the slot cannot answer: the slow path then does.
 */
static __noinline __u32 fc_forward(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 frame_len = data_end - data, tot, ports, slot, f, sum;
	struct xlb_addr daddr = {};
	struct xlb_fc_entry *e;
	struct xlb_fc_epoch *ep;
	struct tcphdr *th;
	struct udphdr *uh;
	__u8 tos, proto;
	__u16 push;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XLB_GO_ON;
	/* What parse_ipv4 accepts, then the filter's exit. */
	if (iph->version != 4 || iph->ihl < 5)
		return XLB_GO_ON;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < iph->ihl * 4 || sizeof(*eth) + tot > frame_len)
		return XLB_GO_ON;
	daddr.addr[0] = iph->daddr;
	f = addr_filter_bits(&daddr);
	if (!f)
		return XLB_R_PASS_NOT_VIP;
	if (f != XLB_FILTER_VIP || iph->ihl != 5 ||
	    sizeof(*eth) + tot != frame_len || !iph->ttl ||
	    (iph->frag_off & bpf_htons(IPV4_FRAG_MASK)))
		return XLB_GO_ON;
	proto = iph->protocol;
	if (proto == IPPROTO_TCP) {
		th = (void *)(iph + 1);
		if ((void *)(th + 1) > data_end ||
		    (((__u8 *)th)[13] & XLB_FC_TCP_NO) || th->doff < 5 ||
		    th->doff * 4 > tot - sizeof(*iph))
			return XLB_GO_ON;
		ports = fc_ports(th->source, th->dest);
	} else if (proto == IPPROTO_UDP) {
		uh = (void *)(iph + 1);
		if ((void *)(uh + 1) > data_end ||
		    bpf_ntohs(uh->len) != tot - sizeof(*iph))
			return XLB_GO_ON;
		ports = fc_ports(uh->source, uh->dest);
	} else {
		return XLB_GO_ON;
	}
	slot = fc_slot(iph->saddr, iph->daddr, ports, proto);
	e = bpf_map_lookup_elem(&flow_cache, &slot);
	if (!e || !e->outer || e->saddr != iph->saddr ||
	    e->daddr != iph->daddr || fc_ports(e->sport, e->dport) != ports ||
	    e->proto != proto || tot > e->max_l3)
		return XLB_GO_ON;
	ep = fc_epoch_map();
	if (!ep || e->epoch != *(volatile __u32 *)&ep->epoch ||
	    e->tick != xlb_ct_tick(bpf_ktime_get_coarse_ns()))
		return XLB_GO_ON;

	/* The answer holds: the slow path would give this one. */
	tos = iph->tos;
	count_traffic(&vip_stats, e->vip_id, frame_len, false);
	count_traffic(&real_stats, e->real_id, frame_len, false);
	push = e->push;
	if (bpf_xdp_adjust_head(ctx, -(int)push))
		return XLB_R_DROP_INTERNAL;
	if (e->outer == XLB_AF_INET) {
		struct iphdr *o4;

		if (e->gue) {
			if (!FC_WRITE_HEAD(ctx, e, ETH_HLEN + 28))
				return XLB_R_DROP_INTERNAL;
		} else if (!FC_WRITE_HEAD(ctx, e, ETH_HLEN + 20)) {
			return XLB_R_DROP_INTERNAL;
		}
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		o4 = data + ETH_HLEN;
		uh = (void *)(o4 + 1);
		if ((void *)(uh + 1) > data_end)
			return XLB_R_DROP_INTERNAL;
		o4->tos = tos;
		o4->tot_len = bpf_htons(tot + push);
		sum = e->sum + *(__u16 *)o4 + o4->tot_len;
		o4->check = csum_fold(sum);
		if (e->gue)
			uh->len = bpf_htons(tot + XLB_UDP_HDR_LEN);
	} else {
		struct ipv6hdr *o6;

		if (e->gue) {
			if (!FC_WRITE_HEAD(ctx, e, ETH_HLEN + 48))
				return XLB_R_DROP_INTERNAL;
		} else if (!FC_WRITE_HEAD(ctx, e, ETH_HLEN + 40)) {
			return XLB_R_DROP_INTERNAL;
		}
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		o6 = data + ETH_HLEN;
		uh = (void *)(o6 + 1);
		if ((void *)(uh + 1) > data_end)
			return XLB_R_DROP_INTERNAL;
		o6->priority = tos >> 4;
		o6->flow_lbl[0] = ((tos & 0xf) << 4) | (o6->flow_lbl[0] & 0xf);
		o6->payload_len = bpf_htons(tot + push - XLB_IPV6_HDR_LEN);
		if (e->gue)
			uh->len = bpf_htons(tot + XLB_UDP_HDR_LEN);
	}
	if (e->ifindex == ctx->ingress_ifindex)
		return XLB_R_FWD_TX;
	if (bpf_redirect_map(&tx_ports, e->ifindex, 0) == XDP_REDIRECT)
		return XLB_R_FWD_REDIRECT;
	if (bpf_redirect(e->ifindex, 0) != XDP_REDIRECT)
		return XLB_R_DROP_INTERNAL;
	return XLB_R_FWD_REDIRECT;
}

/* Copy the frame's head (n bytes, a constant) into the slot. */
#define FC_READ_HEAD(ctx, e, n)                                      \
	({                                                           \
		void *d_ = (void *)(long)(ctx)->data;                \
		int ok_ = d_ + (n) <= (void *)(long)(ctx)->data_end; \
		if (ok_)                                             \
			__builtin_memcpy((e)->hdr, d_, (n));         \
		ok_;                                                 \
	})

/*
 * Keep the answer the slow path just sent a tunnel packet with (the
 * frame as it leaves, nh its resolved next hop), when the slot may
 * give it to the flow's next packets: an IPv4 flow the conntrack
 * holds, in a plain frame (what fc_forward takes), not a TCP segment
 * that moves the state, sent by the agent's resolved next hop. epoch
 * is fc_epoch_read()'s, from before the answer was read.
 */
static __always_inline void fc_fill(struct xdp_md *ctx, const struct xlb_pkt *p,
				    __u32 epoch, __u32 tick, __u32 vip_id,
				    __u32 real_id, __u8 outer, __u32 push,
				    bool gue, const struct xlb_nexthop *nh)
{
	__u32 slot, ports = fc_ports(p->sport, p->dport);
	struct xlb_fc_entry *e;
	int ok;

	if (p->family != XLB_AF_INET || p->vlan || p->icmp_error ||
	    p->frame_len != sizeof(struct ethhdr) + p->l3_len ||
	    (p->proto == IPPROTO_TCP && (p->tcp_flags & XLB_FC_TCP_NO)) ||
	    !nh->resolved || nh->mtu <= push)
		return;
	slot = fc_slot(p->saddr.addr[0], p->daddr.addr[0], ports, p->proto);
	e = bpf_map_lookup_elem(&flow_cache, &slot);
	if (!e)
		return;
	/* A slot that holds another flow this tick keeps it: two flows
	 * on one slot take turns by the tick, not by the packet. */
	if (e->outer && e->tick == tick && e->epoch == epoch &&
	    (e->saddr != p->saddr.addr[0] || e->daddr != p->daddr.addr[0] ||
	     fc_ports(e->sport, e->dport) != ports || e->proto != p->proto))
		return;
	e->outer = 0;
	if (outer == XLB_AF_INET)
		ok = gue ? FC_READ_HEAD(ctx, e, ETH_HLEN + 28)
			 : FC_READ_HEAD(ctx, e, ETH_HLEN + 20);
	else
		ok = gue ? FC_READ_HEAD(ctx, e, ETH_HLEN + 48)
			 : FC_READ_HEAD(ctx, e, ETH_HLEN + 40);
	if (!ok)
		return;
	if (outer == XLB_AF_INET)
		e->sum = fc_sum4((const struct iphdr *)(e->hdr + ETH_HLEN));
	e->saddr = p->saddr.addr[0];
	e->daddr = p->daddr.addr[0];
	e->sport = p->sport;
	e->dport = p->dport;
	e->proto = p->proto;
	e->push = push;
	e->gue = gue;
	e->hdr_len = ETH_HLEN + push;
	e->epoch = epoch;
	e->tick = tick;
	e->vip_id = vip_id;
	e->real_id = real_id;
	e->ifindex = nh->ifindex;
	e->max_l3 = nh->mtu - push > 0xffff ? 0xffff : nh->mtu - push;
	e->outer = outer;
	slot = 0;
	{
		__u64 *n = bpf_map_lookup_elem(&fc_stats, &slot);

		if (n)
			*n += 1;
	}
}

#endif /* XLB_BPF_FLOWCACHE_H */
