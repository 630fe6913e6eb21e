/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fib.h: the next hop towards a real, from the kernel's own routing and
 * neighbour tables (bpf_fib_lookup), or a configured gateway MAC.
 */
#ifndef XLB_BPF_FIB_H
#define XLB_BPF_FIB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "reason.h"

#ifndef AF_INET
#define AF_INET	 2
#define AF_INET6 10
#endif

#define XLB_NH_KEPT    1
#define XLB_NH_GATEWAY 2

struct xlb_nexthop {
	__u8 smac[6];
	__u8 dmac[6];
	__u32 ifindex;
	__u32 mtu; /* the egress MTU, when the packet is too big for it */
	/* XLB_NH_KEPT: from the agent's nexthops entry or a session's kept
	 * hop; XLB_NH_GATEWAY: the configured gateway MAC; mtu then set. */
	__u8 resolved;
};

/*
 * Route a packet src -> dst of tot_len bytes. XLB_GO_ON with nh filled,
 * or a reason: no neighbour entry yet, too big for the egress MTU (in
 * nh->mtu), forwarding turned off in this namespace, or no usable route.
 */
/* The lookup's question: a packet src -> dst of tot_len bytes, as if
 * it came in through the ingress port. */
static __always_inline void fib_ask(struct bpf_fib_lookup *fib,
				    struct xdp_md *ctx, __u8 family,
				    const struct xlb_addr *src,
				    const struct xlb_addr *dst, __u32 tot_len,
				    __u8 tos)
{
	fib->ifindex = ctx->ingress_ifindex;
	fib->tot_len = tot_len;
	if (family == XLB_AF_INET) {
		fib->family = AF_INET;
		fib->tos = tos;
		fib->ipv4_src = src->addr[0];
		fib->ipv4_dst = dst->addr[0];
	} else {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_src, src->addr,
				 sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, dst->addr,
				 sizeof(fib->ipv6_dst));
	}
}

static __always_inline __u32 fib_nexthop(struct xdp_md *ctx, __u8 family,
					 const struct xlb_addr *src,
					 const struct xlb_addr *dst,
					 __u32 tot_len, __u8 tos,
					 struct xlb_nexthop *nh)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib_ask(&fib, ctx, family, src, dst, tot_len, tos);
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return XLB_R_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		nh->mtu = fib.mtu_result;
		return XLB_R_DROP_FRAG_NEEDED;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		/* net.ipv4.ip_forward (or IPv6 forwarding) is 0 here. */
		return XLB_R_DROP_FORWARDING_OFF;
	default:
		return XLB_R_DROP_NO_ROUTE;
	}
	__builtin_memcpy(nh->smac, fib.smac, sizeof(nh->smac));
	__builtin_memcpy(nh->dmac, fib.dmac, sizeof(nh->dmac));
	nh->ifindex = fib.ifindex;
	return XLB_GO_ON;
}

/*
 * The largest packet src -> dst that bpf_fib_lookup lets through: the
 * MTU it checks a packet against (route, interface, learnt path MTU),
 * which it tells only when a packet is over it, so asked with the
 * largest length there is. 0 when the lookup says something else.
 */
static __noinline __u32 fib_mtu(struct xdp_md *ctx, __u8 family,
				const struct xlb_addr *src,
				const struct xlb_addr *dst, __u8 tos)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib_ask(&fib, ctx, family, src, dst, 0xffff, tos);
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return fib.mtu_result;
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		return 0xffff;
	return 0;
}

#endif /* XLB_BPF_FIB_H */
