/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* maps.h: every map of the balancer program. Sizes are defaults that the
 * agent overrides with bpf_map__set_max_entries() before load. */
#ifndef XLB_BPF_MAPS_H
#define XLB_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "fib.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip_meta);
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_addr_key);
	__type(value, __u32);
} vip_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xlb_real);
} reals SEC(".maps");

/*
 * One Maglev ring per VIP. The agent builds a new inner array and swaps it
 * into rings[vip_id] with one map update: a packet sees the old ring or
 * the new one, never a mix. BPF_F_INNER_MAP lets every VIP have its own M.
 */
struct ring_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct ring_map);
} rings SEC(".maps");

/*
 * Conntrack: one LRU hash per CPU and family, so the fast path never
 * shares a bucket lock or an LRU list with another CPU, and an IPv4
 * flow's entry has a 16-byte key (72-byte elements, against 88 with the
 * IPv6 key). ct4_maps holds the IPv4 tables, ct_maps the IPv6 ones
 * (its name from when it held both: a restarted agent adopts it). The
 * agent creates the inner maps.
 */
/* Sizes, not types: clang emits only forward declarations for types met
 * this deep inside a map-in-map definition, and libbpf needs sizes. */
struct ct4_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT_SIZE_DEFAULT);
	__uint(key_size, sizeof(struct xlb_flow_key4));
	__uint(value_size, sizeof(struct xlb_ct_entry));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_CPUS);
	__type(key, __u32);
	__array(values, struct ct4_map);
} ct4_maps SEC(".maps");

struct ct_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT6_SIZE_DEFAULT);
	__uint(key_size, sizeof(struct xlb_flow_key));
	__uint(value_size, sizeof(struct xlb_ct_entry));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_CPUS);
	__type(key, __u32);
	__array(values, struct ct_map);
} ct_maps SEC(".maps");

/* Which address slots hold ours (xlb_abi.h): the cheap exit first. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} addr_filter SEC(".maps");

/* Tunnel mode's flood guard: this CPU's rate of new entries (select.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_ct_guard);
} ct_guard SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_counters);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xlb_counters);
} real_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_R_MAX);
	__type(key, __u32);
	__type(value, __u64);
} reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_globals);
} globals SEC(".maps");

/*
 * FULLNAT sessions, shared by all CPUs (the reply of a flow arrives on
 * any CPU). Plain hashes, not LRU: evicting a live session would free
 * its tuple for another flow. Expired sessions are reclaimed by xlbd's
 * sweep and, for a tuple a new flow wants, by the allocating CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_NAT_SESSIONS_DEFAULT);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_nat_fwd);
} nat_fwd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_NAT_SESSIONS_DEFAULT);
	__type(key, struct xlb_nat_key);
	__type(value, struct xlb_nat_rev);
} nat_rev SEC(".maps");

/* The local pools: IPv4 in slots 0.., IPv6 from XLB_NAT_MAX_LADDRS. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * XLB_NAT_MAX_LADDRS);
	__type(key, __u32);
	__type(value, struct xlb_nat_laddr);
} nat_laddrs SEC(".maps");

/* Where each CPU's next port search starts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nat_cursor SEC(".maps");

/* What a FULLNAT packet becomes (nat.h). */
struct nat_xlat {
	struct xlb_addr src;
	struct xlb_addr dst;
	__be16 sport;
	__be16 dport;
	__u16 mss; /* clamp a SYN's MSS option to this; 0 = no */
	__u8 pad[2];
};

/*
 * Scratch space of the FULLNAT paths (nat.h): the session being made and
 * the translation to apply. In a map rather than on the stack, which the
 * paths would push over its limit; per CPU, and XDP never nests on a CPU.
 */
struct nat_scratch {
	struct xlb_nat_key rk; /* the reverse entry being placed */
	struct xlb_nat_rev rv;
	struct xlb_nat_fwd fwd; /* the forward entry of a new session */
	struct nat_xlat x;	/* filled by nat_request / nat_reply */
	/* The next hop, found by nat_request (the real's) or nat_reply
	 * (the client's, from its session), with route, its reason. */
	struct xlb_nexthop nh;
	__u32 route;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_scratch);
} nat_scratch SEC(".maps");

/*
 * The interfaces the balancer is attached to, by ifindex: redirects to
 * them go through the devmap (bulk transmit). The agent fills it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

/*
 * Cluster sync (sync.h): the sessions this node makes, for the agent to
 * send to its peers, and how many were written or lost to a full ring.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XLB_SYNC_RING_SIZE_DEFAULT);
} sync_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_SYNC_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sync_stats SEC(".maps");

/*
 * The VLAN ids whose tagged frames each interface balances, by ingress
 * ifindex (untagged frames always are; docs/CONFIG.md `vlans`). Looked
 * up for tagged frames only; the agent rewrites it on reload.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_VLAN_IFACES_MAX);
	__type(key, __u32);
	__type(value, struct xlb_vlan_set);
} vlans SEC(".maps");

/*
 * Settings fixed at start-up (set by the agent before load): the flood
 * guard's rate of new conntrack entries per CPU per second (0: off).
 */
const volatile __u32 xlb_flood_guard_rate = XLB_FLOOD_GUARD_RATE_DEFAULT;

/* The path MTU errors this CPU sent in the second from start on
 * (icmp_gen.h), against the icmp_rate limit. */
struct icmp_limit {
	__u64 start;
	__u32 sent;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_limit);
} icmp_limit SEC(".maps");

#endif /* XLB_BPF_MAPS_H */
