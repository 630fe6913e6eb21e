/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stats.h: per-CPU counters; the agent sums them over CPUs. */
#ifndef XLB_BPF_STATS_H
#define XLB_BPF_STATS_H

#include <stdbool.h>

#include "maps.h"

static __always_inline void count_reason(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&reason_stats, &reason);

	if (n)
		*n += 1;
}

/* Packets and bytes of a VIP or a real, and whether a flow began. */
static __always_inline void count_traffic(void *map, __u32 id, __u32 bytes,
					  bool new_flow)
{
	struct xlb_counters *c = bpf_map_lookup_elem(map, &id);

	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	c->new_flows += new_flow;
}

/* A FULLNAT reply (real -> client) of a VIP or a real. */
static __always_inline void count_reply(void *map, __u32 id, __u32 bytes)
{
	struct xlb_counters *c = bpf_map_lookup_elem(map, &id);

	if (!c)
		return;
	c->reply_packets++;
	c->reply_bytes += bytes;
}

#endif /* XLB_BPF_STATS_H */
