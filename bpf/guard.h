/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * guard.h: tunnel mode's flood guard (docs/SECURITY.md). Conntrack is an
 * LRU per CPU: every miss it remembers pushes out the oldest flow. While
 * a CPU makes more than xlb_flood_guard_rate entries a second, misses
 * other than a client's opening SYN (no ACK, RST or FIN) are still sent
 * where the ring says but no longer remembered, so a flood of spoofed
 * mid-flow packets (SYN-ACKs included) cannot evict the real flows.
 */
#ifndef XLB_BPF_GUARD_H
#define XLB_BPF_GUARD_H

#include "maps.h"
#include "parse.h"

#define XLB_GUARD_WINDOW_NS 1000000000ULL

/*
 * May this miss make a conntrack entry? Counts the entry, or the miss
 * left out, in this CPU's ct_guard.
 */
static __always_inline bool guard_admit(const struct xlb_pkt *p)
{
	struct xlb_ct_guard *g;
	__u32 zero = 0;
	__u64 now;

	if (!xlb_flood_guard_rate)
		return true;
	g = bpf_map_lookup_elem(&ct_guard, &zero);
	if (!g)
		return true;
	now = bpf_ktime_get_coarse_ns();
	if (now - g->window_ns >= XLB_GUARD_WINDOW_NS) {
		g->window_ns = now;
		g->entries = 0;
	}
	if (g->entries >= xlb_flood_guard_rate &&
	    !(p->proto == IPPROTO_TCP && pkt_tcp_open(p))) {
		g->skipped++;
		return false;
	}
	g->entries++;
	return true;
}

#endif /* XLB_BPF_GUARD_H */
