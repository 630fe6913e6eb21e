/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xmit.h: the last steps of every forwarded packet, tunnel or FULLNAT:
 * find the next hop, write the MACs, send (XDP_TX back out of the port it
 * came in on, or a redirect through the tx_ports devmap).
 */
#ifndef XLB_BPF_XMIT_H
#define XLB_BPF_XMIT_H

#include "encap.h"
#include "fib.h"
#include "maps.h"
#include "reason.h"

/*
 * The next hop for a packet src -> dst (tot_len bytes): the configured
 * gateway out of the ingress port, or the kernel's route and neighbour.
 * Call before the L2 header moves. XLB_GO_ON or fib_nexthop's reason.
 */
static __always_inline __u32 route(struct xdp_md *ctx,
				   const struct xlb_globals *g, __u8 family,
				   const struct xlb_addr *src,
				   const struct xlb_addr *dst, __u32 tot_len,
				   __u8 tos, struct xlb_nexthop *nh)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	if (g->flags & XLB_G_F_GW_MAC) {
		/* From the address the frame was sent to, to the gateway. */
		if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
			return XLB_R_DROP_TRUNCATED;
		__builtin_memcpy(nh->smac, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(nh->dmac, g->gw_mac, ETH_ALEN);
		nh->ifindex = ctx->ingress_ifindex;
		/* No MTU is asked in this mode: the ingress port's. */
		nh->mtu = 0xffff;
		nh->resolved = XLB_NH_GATEWAY;
		return XLB_GO_ON;
	}
	return fib_nexthop(ctx, family, src, dst, tot_len, tos, nh);
}

/*
 * A forwarded frame is its IP packet behind an untagged Ethernet header.
 * Bytes after the packet (Ethernet padding, trailers) are no part of it
 * and are cut. A VLAN tag belongs to the network the frame came from:
 * the egress the route gives is a port XDP can send on, never a VLAN
 * device, so the tag is taken off. XLB_GO_ON or the reason.
 */
static __always_inline __u32 xmit_trim(struct xdp_md *ctx,
				       const struct xlb_pkt *p)
{
	__u32 tail = p->frame_len - p->l3_off - p->l3_len;
	void *data, *end;

	if (tail && bpf_xdp_adjust_tail(ctx, -(int)tail))
		return XLB_R_DROP_INTERNAL;
	if (!p->vlan)
		return XLB_GO_ON;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + XLB_L2_MAX > end)
		return XLB_R_DROP_INTERNAL;
	/* The MACs move over the tag; the type after it stays. */
	__builtin_memmove(data + 4, data, 2 * ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, 4))
		return XLB_R_DROP_INTERNAL;
	return XLB_GO_ON;
}

/*
 * No neighbour entry for the next hop yet: the kernel gets the translated
 * or encapsulated packet, resolves the neighbour and forwards it. It gets
 * the frame as transmit() would send it, MACs aside: untagged, since
 * bpf_fib_lookup routed it from the attached port, not a VLAN device (a
 * tag of a VLAN the node has no device for would make the kernel drop
 * it, one it has would route it from another interface, without the
 * accept_local FULLNAT needs), and without bytes after the IP packet.
 * Returns the reason.
 */
static __always_inline __u32 pass_to_kernel(struct xdp_md *ctx,
					    const struct xlb_pkt *p)
{
	__u32 reason = xmit_trim(ctx, p);

	return reason != XLB_GO_ON ? reason : XLB_R_PASS_NO_NEIGH;
}

/* Write the next hop's MACs and send the frame. Returns the reason. */
static __always_inline __u32 transmit(struct xdp_md *ctx,
				      const struct xlb_pkt *p,
				      const struct xlb_nexthop *nh)
{
	__u32 reason;

	reason = xmit_trim(ctx, p);
	if (reason != XLB_GO_ON)
		return reason;
	reason = encap_set_macs(ctx, nh->smac, nh->dmac);
	if (reason != XLB_GO_ON)
		return reason;
	if (nh->ifindex == ctx->ingress_ifindex)
		return XLB_R_FWD_TX;
	/* The devmap batches transmits; an interface the agent did not
	 * attach to (not in it) still works through a plain redirect. */
	if (bpf_redirect_map(&tx_ports, nh->ifindex, 0) == XDP_REDIRECT)
		return XLB_R_FWD_REDIRECT;
	if (bpf_redirect(nh->ifindex, 0) != XDP_REDIRECT)
		return XLB_R_DROP_INTERNAL;
	return XLB_R_FWD_REDIRECT;
}

#endif /* XLB_BPF_XMIT_H */
