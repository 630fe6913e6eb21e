/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * flowcache.h: the established flow's short way. A per-CPU,
 * direct-mapped cache (xlb_abi.h: struct xlb_fc_entry) keeps the whole
 * answer the slow path gave an IPv4 flow: for a tunnel flow its VIP, its
 * real, the new head of the frame (Ethernet and outer header as sent)
 * and the egress; for a FULLNAT session's request or reply the new
 * addresses and ports, the checksums' differences, the MACs and the
 * egress. A packet that finds its flow there, within the epoch and the
 * slot's time, is counted and sent with one array lookup and no hashed
 * one. Anything the slot cannot vouch for takes the slow path, which
 * gives the exact answer and may fill the slot:
 *   - a frame that is not plain Ethernet + IPv4 without options, TCP or
 *     UDP, exactly as long as its IP packet (no VLAN tag, no trailer),
 *     a fragment, no TTL left;
 *   - a TCP segment with SYN, FIN or RST (they move the flow's state);
 *   - a packet over the next hop's MTU;
 *   - the slot's time is up: a tunnel flow's conntrack tick (~1 s) or a
 *     FULLNAT session's second ended, and the slow path moves the
 *     entry's or session's clock on as every packet would have;
 *   - a FULLNAT reply of a session no reply had reached before;
 *   - a moved fc_epoch: the agent moves it after every map write and
 *     route, neighbour or link event, the data plane when a CPU drops
 *     or takes another CPU's entry of a flow (conntrack.h) or a session
 *     is replaced or its tuple taken back (nat_session.h, nat_alloc.h).
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
#include "nat_rewrite.h"
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

/*
 * Each CPU's use of its slots, [0]: slots filled, and the bypass. When
 * the flows a CPU sees do not fit in its slots (more flows than slots,
 * each seldom), looking a slot up only costs: one more cold line per
 * packet. So a CPU judges its slots every XLB_FC_WINDOW lookups: under
 * one hit in XLB_FC_MIN_HIT_SHARE, it neither looks up nor fills a slot
 * for the next XLB_FC_BYPASS packets, then tries again; each window in a
 * row that misses again doubles that, up to 2^XLB_FC_BACKOFF_MAX times.
 * A CPU whose flows fit stays on them.
 */
#define XLB_FC_WINDOW	     256
#define XLB_FC_MIN_HIT_SHARE 8
#define XLB_FC_BYPASS	     (64 * XLB_FC_WINDOW)
#define XLB_FC_BACKOFF_MAX   6

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_fc_stats);
} fc_stats SEC(".maps");

static __always_inline struct xlb_fc_stats *fc_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fc_stats, &zero);
}

/* A lookup's outcome counted into the CPU's window; at its end the
 * window decides whether the CPU bypasses its slots for a while. */
static __always_inline void fc_judge(struct xlb_fc_stats *st, bool hit)
{
	st->hits += hit;
	if (++st->lookups < XLB_FC_WINDOW)
		return;
	if (st->hits < XLB_FC_WINDOW / XLB_FC_MIN_HIT_SHARE) {
		st->bypass = XLB_FC_BYPASS << st->backoff;
		if (st->backoff < XLB_FC_BACKOFF_MAX)
			st->backoff++;
		st->bypassed++;
	} else {
		st->backoff = 0;
	}
	st->lookups = 0;
	st->hits = 0;
}

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

/* Copy n bytes (a constant) between the frame's start and the slot's
 * head: into the slot when fill, else into the frame. */
#define FC_COPY_HEAD(ctx, e, n, fill)                                \
	({                                                           \
		void *d_ = (void *)(long)(ctx)->data;                \
		int ok_ = d_ + (n) <= (void *)(long)(ctx)->data_end; \
		if (ok_ && (fill))                                   \
			__builtin_memcpy((e)->hdr, d_, (n));         \
		else if (ok_)                                        \
			__builtin_memcpy(d_, (e)->hdr, (n));         \
		ok_;                                                 \
	})

/* A tunnel slot's head (Ethernet and outer header) to or from the
 * frame: its length by kind and GUE, one constant per copy for the
 * verifier. false when the frame is shorter. */
static __always_inline bool fc_head(struct xdp_md *ctx, struct xlb_fc_entry *e,
				    __u8 kind, bool gue, bool fill)
{
	if (kind == XLB_FC_TUN4)
		return gue ? FC_COPY_HEAD(ctx, e, ETH_HLEN + 28, fill)
			   : FC_COPY_HEAD(ctx, e, ETH_HLEN + 20, fill);
	return gue ? FC_COPY_HEAD(ctx, e, ETH_HLEN + 48, fill)
		   : FC_COPY_HEAD(ctx, e, ETH_HLEN + 40, fill);
}

/* The coarse clock in the units of a slot's time (2^20 ns). */
static __always_inline __u32 fc_time(__u64 now_ns)
{
	return (__u32)(now_ns >> 20);
}

/* A tunnel slot's time: the end of the conntrack tick of now_ns. */
static __always_inline __u32 fc_tick_end(__u64 now_ns)
{
	return ((__u32)(now_ns >> XLB_CT_TICK_NS_SHIFT) + 1)
	       << (XLB_CT_TICK_NS_SHIFT - 20);
}

/* Send the frame to the slot's egress. Returns the reason. */
static __always_inline __u32 fc_xmit(struct xdp_md *ctx, __u32 ifindex)
{
	if (ifindex == ctx->ingress_ifindex)
		return XLB_R_FWD_TX;
	if (bpf_redirect_map(&tx_ports, ifindex, 0) == XDP_REDIRECT)
		return XLB_R_FWD_REDIRECT;
	if (bpf_redirect(ifindex, 0) != XDP_REDIRECT)
		return XLB_R_DROP_INTERNAL;
	return XLB_R_FWD_REDIRECT;
}

/* Tunnel: the slot's head in front of the packet (tot bytes, TOS tos). */
static __always_inline __u32 fc_tunnel(struct xdp_md *ctx,
				       struct xlb_fc_entry *e, __u32 tot,
				       __u8 tos)
{
	__u16 push = e->push;
	void *data, *data_end;
	struct udphdr *uh;

	if (bpf_xdp_adjust_head(ctx, -(int)push) ||
	    !fc_head(ctx, e, e->kind, e->gue, false))
		return XLB_R_DROP_INTERNAL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (e->kind == XLB_FC_TUN4) {
		struct iphdr *o4 = data + ETH_HLEN;

		uh = (void *)(o4 + 1);
		if ((void *)(uh + 1) > data_end)
			return XLB_R_DROP_INTERNAL;
		o4->tos = tos;
		o4->tot_len = bpf_htons(tot + push);
		o4->check = csum_fold(e->sum + *(__u16 *)o4 + o4->tot_len);
	} else {
		struct ipv6hdr *o6 = data + ETH_HLEN;

		uh = (void *)(o6 + 1);
		if ((void *)(uh + 1) > data_end)
			return XLB_R_DROP_INTERNAL;
		o6->priority = tos >> 4;
		o6->flow_lbl[0] = ((tos & 0xf) << 4) | (o6->flow_lbl[0] & 0xf);
		o6->payload_len = bpf_htons(tot + push - XLB_IPV6_HDR_LEN);
	}
	if (e->gue)
		uh->len = bpf_htons(tot + XLB_UDP_HDR_LEN);
	return fc_xmit(ctx, e->ifindex);
}

/*
 * Send an established IPv4 flow's packet by its slot. Returns the
 * packet's reason, XLB_R_PASS_NOT_VIP for a packet to no address of
 * ours (the slow path's first answer for such a packet), or XLB_GO_ON
 * when the slot cannot answer: the slow path then does.
 */
static __noinline __u32 fc_forward(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 frame_len = data_end - data, tot, ports, slot, f;
	struct xlb_addr daddr = {};
	struct xlb_fc_stats *st;
	struct xlb_fc_entry *e;
	struct xlb_fc_epoch *ep;
	__u16 *check;
	__u8 proto;

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
	if (iph->ihl != 5 || sizeof(*eth) + tot != frame_len || !iph->ttl ||
	    (iph->frag_off & bpf_htons(IPV4_FRAG_MASK)))
		return XLB_GO_ON;
	proto = iph->protocol;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(iph + 1);

		if ((void *)(th + 1) > data_end ||
		    (((__u8 *)th)[13] & XLB_FC_TCP_NO) || th->doff < 5 ||
		    th->doff * 4 > tot - sizeof(*iph))
			return XLB_GO_ON;
		ports = fc_ports(th->source, th->dest);
		check = &th->check;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = (void *)(iph + 1);

		if ((void *)(uh + 1) > data_end ||
		    bpf_ntohs(uh->len) != tot - sizeof(*iph))
			return XLB_GO_ON;
		ports = fc_ports(uh->source, uh->dest);
		check = &uh->check;
	} else {
		return XLB_GO_ON;
	}
	st = fc_stats_get();
	if (!st)
		return XLB_GO_ON;
	if (st->bypass) {
		st->bypass--;
		return XLB_GO_ON;
	}
	slot = fc_slot(iph->saddr, iph->daddr, ports, proto);
	e = bpf_map_lookup_elem(&flow_cache, &slot);
	ep = fc_epoch_map();
	if (!e || !ep || e->kind == XLB_FC_EMPTY || e->saddr != iph->saddr ||
	    e->daddr != iph->daddr || fc_ports(e->sport, e->dport) != ports ||
	    e->proto != proto || tot > e->max_l3 ||
	    e->epoch != *(volatile __u32 *)&ep->epoch ||
	    (__s32)(e->until - fc_time(bpf_ktime_get_coarse_ns())) <= 0) {
		fc_judge(st, false);
		return XLB_GO_ON;
	}
	/* Gateway MAC mode: the source MAC is the one the frame came to. */
	if (e->gw && (*(__u32 *)eth->h_dest != *(__u32 *)(e->hdr + 6) ||
		      *(__u16 *)(eth->h_dest + 4) != *(__u16 *)(e->hdr + 10))) {
		fc_judge(st, false);
		return XLB_GO_ON;
	}
	fc_judge(st, true);

	/* The answer holds: the slow path would give this one. */
	if (e->kind == XLB_FC_NAT_REP) {
		count_reply(&vip_stats, e->vip_id, frame_len);
		count_reply(&real_stats, e->real_id, frame_len);
	} else {
		count_traffic(&vip_stats, e->vip_id, frame_len, false);
		count_traffic(&real_stats, e->real_id, frame_len, false);
	}
	if (e->kind == XLB_FC_TUN4 || e->kind == XLB_FC_TUN6)
		return fc_tunnel(ctx, e, tot, iph->tos);
	/* FULLNAT: the rewrite nat_rewrite() makes, and the MACs. */
	iph->check = csum_apply(iph->check, e->sum);
	__builtin_memcpy(&iph->saddr, e->hdr + 12, 8);
	__builtin_memcpy((void *)(iph + 1), e->hdr + 20, 4);
	*check = l4_csum(proto, *check, e->l4_sum);
	__builtin_memcpy(eth, e->hdr, 12);
	return fc_xmit(ctx, e->ifindex);
}

/*
 * The slot for packet p's flow, to fill with an answer of the given
 * epoch and time, or NULL: a packet fc_forward() would not take (not a
 * plain IPv4 frame, an ICMP error, a TCP segment that moves the state),
 * or a slot that holds another flow of this epoch whose time is not up
 * (two flows on one slot take turns by their time, not by the packet).
 */
static __always_inline struct xlb_fc_entry *
fc_slot_for(const struct xlb_pkt *p, __u32 epoch, __u64 now_ns)
{
	__u32 slot, ports = fc_ports(p->sport, p->dport);
	struct xlb_fc_stats *st = fc_stats_get();
	struct xlb_fc_entry *e;

	if (!st || st->bypass || p->family != XLB_AF_INET || p->vlan ||
	    p->icmp_error ||
	    p->frame_len != sizeof(struct ethhdr) + p->l3_len ||
	    (p->proto == IPPROTO_TCP && (p->tcp_flags & XLB_FC_TCP_NO)))
		return NULL;
	slot = fc_slot(p->saddr.addr[0], p->daddr.addr[0], ports, p->proto);
	e = bpf_map_lookup_elem(&flow_cache, &slot);
	if (!e)
		return NULL;
	if (e->kind != XLB_FC_EMPTY && e->epoch == epoch &&
	    (__s32)(e->until - fc_time(now_ns)) > 0 &&
	    (e->saddr != p->saddr.addr[0] || e->daddr != p->daddr.addr[0] ||
	     fc_ports(e->sport, e->dport) != ports || e->proto != p->proto))
		return NULL;
	e->kind = XLB_FC_EMPTY;
	e->saddr = p->saddr.addr[0];
	e->daddr = p->daddr.addr[0];
	e->sport = p->sport;
	e->dport = p->dport;
	e->proto = p->proto;
	e->epoch = epoch;
	st->fills++;
	return e;
}

/*
 * Keep the answer the slow path just sent a tunnel packet with (the
 * frame as it leaves, nh its next hop) for the flow's next packets:
 * an IPv4 flow the conntrack holds, sent by the agent's resolved next
 * hop. epoch is fc_epoch_read()'s, from before the answer was read;
 * now_ns the clock of the conntrack tick the flow's entry was seen at.
 */
static __always_inline void fc_fill(struct xdp_md *ctx, const struct xlb_pkt *p,
				    __u32 epoch, __u64 now_ns, __u32 vip_id,
				    __u32 real_id, __u8 outer, __u32 push,
				    bool gue, const struct xlb_nexthop *nh)
{
	struct xlb_fc_entry *e;
	__u8 kind;

	if (!nh->resolved || nh->mtu <= push)
		return;
	e = fc_slot_for(p, epoch, now_ns);
	if (!e)
		return;
	kind = outer == XLB_AF_INET ? XLB_FC_TUN4 : XLB_FC_TUN6;
	if (!fc_head(ctx, e, kind, gue, true))
		return;
	if (kind == XLB_FC_TUN4)
		e->sum = fc_sum4((const struct iphdr *)(e->hdr + ETH_HLEN));
	e->push = push;
	e->gue = gue;
	e->until = fc_tick_end(now_ns);
	e->gw = nh->resolved == XLB_NH_GATEWAY;
	e->vip_id = vip_id;
	e->real_id = real_id;
	e->ifindex = nh->ifindex;
	e->max_l3 = nh->mtu - push > 0xffff ? 0xffff : nh->mtu - push;
	e->kind = kind;
}

/*
 * What FULLNAT's session part leaves for the packet part's fill (one per
 * CPU): whether the slot may be filled, and with what.
 */
struct fc_nat_note {
	__u32 epoch;
	__u32 until;
	__u32 vip_id;
	__u32 real_id;
	__u8 kind;	 /* XLB_FC_NAT_REQ or XLB_FC_NAT_REP; 0: no fill */
	__u8 epoch_read; /* epoch holds fc_epoch_read()'s */
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_nat_note);
} fc_nat_notes SEC(".maps");

static __always_inline struct fc_nat_note *fc_nat_note_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fc_nat_notes, &zero);
}

/* The session part starts: no fill unless it says so (fc_nat_keep). */
static __always_inline void fc_nat_begin(void)
{
	struct fc_nat_note *n = fc_nat_note_get();

	if (!n)
		return;
	n->kind = 0;
	n->epoch_read = fc_epoch_read(&n->epoch);
}

/* The session part found the session: the slot may be filled with its
 * answer until its clock would be moved on (last_seen, nat_touch). */
static __always_inline void fc_nat_keep(__u8 kind, __u32 vip_id, __u32 real_id,
					__u64 last_seen)
{
	struct fc_nat_note *n = fc_nat_note_get();

	if (!n || !n->epoch_read)
		return;
	n->kind = kind;
	n->vip_id = vip_id;
	n->real_id = real_id;
	n->until = fc_time(last_seen + XLB_CONN_NSEC_PER_SEC);
}

/*
 * Keep a FULLNAT packet's rewrite (p as it came, x what it became, nh
 * the next hop it was sent by) for the flow's next packets, as the
 * session part allowed (fc_nat_keep).
 */
static __always_inline void fc_fill_nat(const struct xlb_pkt *p,
					const struct nat_xlat *x,
					const struct xlb_nexthop *nh)
{
	struct fc_nat_note *n = fc_nat_note_get();
	struct xlb_fc_entry *e;
	__u32 l3;

	if (!n || (n->kind != XLB_FC_NAT_REQ && n->kind != XLB_FC_NAT_REP) ||
	    !nh->resolved ||
	    (__s32)(n->until - fc_time(bpf_ktime_get_coarse_ns())) <= 0)
		return;
	e = fc_slot_for(p, n->epoch, bpf_ktime_get_coarse_ns());
	if (!e)
		return;
	l3 = csum_diff32(0, p->saddr.addr[0], x->src.addr[0]);
	l3 = csum_diff32(l3, p->daddr.addr[0], x->dst.addr[0]);
	e->sum = l3;
	e->l4_sum = csum_diff16(csum_diff16(l3, p->sport, x->sport), p->dport,
				x->dport);
	__builtin_memcpy(e->hdr, nh->dmac, 6);
	__builtin_memcpy(e->hdr + 6, nh->smac, 6);
	__builtin_memcpy(e->hdr + 12, &x->src.addr[0], 4);
	__builtin_memcpy(e->hdr + 16, &x->dst.addr[0], 4);
	__builtin_memcpy(e->hdr + 20, &x->sport, 2);
	__builtin_memcpy(e->hdr + 22, &x->dport, 2);
	e->push = 0;
	e->gue = 0;
	e->until = n->until;
	e->gw = nh->resolved == XLB_NH_GATEWAY;
	e->vip_id = n->vip_id;
	e->real_id = n->real_id;
	e->ifindex = nh->ifindex;
	e->max_l3 = nh->mtu > 0xffff ? 0xffff : nh->mtu;
	e->kind = n->kind;
}

#endif /* XLB_BPF_FLOWCACHE_H */
