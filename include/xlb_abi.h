/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ABI between the XLB data plane (bpf/) and userspace (user/, tests/):
 * every map key and value, every enum and every limit, declared once.
 * Nothing here may be redeclared elsewhere.
 */
#ifndef XLB_ABI_H
#define XLB_ABI_H

#include <linux/types.h>

/* Address families as stored in maps: the values of AF_INET/AF_INET6. */
#define XLB_AF_INET  2
#define XLB_AF_INET6 10

/* Default map sizes; the agent may change them before load. */
#define XLB_MAX_VIPS	      1024
#define XLB_MAX_REALS	      4096
#define XLB_MAX_CPUS	      256
#define XLB_CT_SIZE_DEFAULT   262144 /* IPv4 entries per CPU */
#define XLB_CT6_SIZE_DEFAULT  65536  /* IPv6 entries per CPU */
#define XLB_RING_SIZE_DEFAULT 65537
#define XLB_RING_SIZE_MAX     1048573 /* largest prime below 2^20 */

/* Real id 0 is never allocated: a ring slot holding 0 means "no real". */
#define XLB_REAL_NONE 0

/* Outer header sizes for tunnel encapsulation. */
#define XLB_IPV4_HDR_LEN 20
#define XLB_IPV6_HDR_LEN 40
/* GUE: the UDP header in front of the inner packet, and its port. */
#define XLB_UDP_HDR_LEN	     8
#define XLB_GUE_PORT_DEFAULT 6080

/*
 * An address as stored in maps: IPv4 in addr[0], the other words zero;
 * IPv6 in all four words. Network byte order.
 */
struct xlb_addr {
	__be32 addr[4];
};

/* vips: (address, port, protocol) -> struct xlb_vip_meta. Port 0 = any. */
struct xlb_vip_key {
	struct xlb_addr addr;
	__be16 port;
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
};

enum xlb_vip_flags {
	/* Hash the client address only: every port of a client, one real. */
	XLB_VIP_F_SRC_HASH = 1 << 0,
	/* FULLNAT: rewrite to local address:port -> real instead of a tunnel. */
	XLB_VIP_F_FULLNAT = 1 << 1,
	/* Tunnel: the outer header inside UDP (GUE variant 1, bpf/gue.h). */
	XLB_VIP_F_GUE = 1 << 2,
};

struct xlb_vip_meta {
	__u32 vip_id; /* index into rings, vip_stats */
	__u16 flags;  /* enum xlb_vip_flags */
	__u16 mss;    /* clamp the TCP MSS option of SYNs to this; 0 = off */
};

/*
 * rings[vip_id] is an array of M + 1 real ids: slot 0 holds M itself and
 * slots 1..M the Maglev table, so that the size and the table are always
 * published together by one map update.
 */
#define XLB_RING_SLOT_SIZE 0

/*
 * vip_addrs: every address the balancer answers for, so that packets
 * without ports (fragments, ICMP errors) can be told apart from traffic
 * that is not ours. The value is the number of VIPs on the address, or
 * XLB_ADDR_F_LOCAL for a FULLNAT local address (replies from reals come
 * to it). An address is never both.
 */
#define XLB_ADDR_F_LOCAL (1u << 31)
struct xlb_vip_addr_key {
	struct xlb_addr addr;
	__u8 family;
	__u8 pad[3];
};

/*
 * addr_filter: what vip_addrs holds, as 2 bits per slot of a hash of the
 * address (xlb_addr_slot() in xlb_hash.h), 32 slots per word. A clear
 * slot means no address there is ours: the packet leaves without a hash
 * lookup. XLB_FILTER_VIP: some address there has VIPs; XLB_FILTER_LOCAL:
 * some address there is a FULLNAT local address. The agent sets a bit
 * before the vip_addrs entry appears and clears it after the last one of
 * its slot went, so the filter never misses an address of vip_addrs.
 */
#define XLB_FILTER_SLOT_BITS 16
#define XLB_FILTER_WORDS     ((1u << XLB_FILTER_SLOT_BITS) / 32)
#define XLB_FILTER_VIP	     1u
#define XLB_FILTER_LOCAL     2u

enum xlb_real_flags {
	/* Usable for new and existing flows. */
	XLB_REAL_F_UP = 1 << 0,
};

/*
 * What the agent decided about a real. The data plane reads it (with
 * weight) only to tell whether the real takes new connections
 * (xlb_real_takes_new() in xlb_conn.h).
 */
enum xlb_real_admin {
	XLB_REAL_A_DRAINING = 1 << 0, /* no new flows */
	XLB_REAL_A_DOWN = 1 << 1,     /* its health check failed */
};

/*
 * reals: real id -> where to send. A conntrack entry is valid only while
 * the real it names is up and still has the generation it was created
 * with: a removed real's id may be reused, and the generation tells the
 * old flows apart from the new owner's. vip_id, weight and admin let a
 * restarted agent rebuild its model from the pinned maps; family 0 marks
 * an unused id.
 */
struct xlb_real {
	struct xlb_addr addr;
	__u8 family;
	__u8 flags; /* enum xlb_real_flags */
	__u8 admin; /* enum xlb_real_admin */
	__u8 pad;
	__u32 gen;
	__u32 vip_id;
	__u32 weight;
};

/*
 * Conntrack: two LRU hashes per CPU, one per family, so that an IPv4
 * flow's entry does not carry an IPv6 address: ct4_maps[cpu] keyed by
 * struct xlb_flow_key4 (16 bytes) and ct_maps[cpu] by struct
 * xlb_flow_key (28 bytes), IPv6 flows only. The VIP is named by id
 * rather than address to keep the keys small. Everything outside the
 * tables (sync events, FULLNAT's nat_fwd, the agent's walks) speaks of
 * a flow as struct xlb_flow_key; xlb_flow_key4_of() and
 * xlb_flow_key_of4() (xlb_conn.h) convert at the IPv4 table's edge.
 */
struct xlb_flow_key4 {
	__be32 saddr;
	__u32 vip_id;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct xlb_flow_key {
	struct xlb_addr saddr;
	__u32 vip_id;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

/*
 * The value is one word, packed by include/xlb_conn.h: real id, the low
 * bits of its generation, the flow's TCP state seen from the client and
 * when it was last seen, so that an entry with a state and a clock costs
 * no more memory than one without. An entry idle past its state's
 * timeout (xlb_globals ct_*) is a miss.
 */
struct xlb_ct_entry {
	__u64 v;
};

/*
 * FULLNAT. A client flow (client:cport -> VIP:vport) is sent as
 * local:lport -> real:vport, and the real's reply (real:vport ->
 * local:lport) is sent back as VIP:vport -> client:cport. Both
 * directions live in maps shared by all CPUs, because the reply arrives
 * on whichever CPU the NIC's hash picks:
 *
 *   nat_fwd: struct xlb_flow_key (as ct_maps)  -> struct xlb_nat_fwd
 *   nat_rev: struct xlb_nat_key (the reply)     -> struct xlb_nat_rev
 *
 * Local ports are split between CPUs (CPU c owns nat_port_min +
 * c * nat_port_span .. + nat_port_span - 1), so a CPU allocates a
 * translated tuple with one BPF_NOEXIST insert into nat_rev and no other
 * CPU can race for it. See docs/FULLNAT.md.
 */
#define XLB_NAT_MAX_LADDRS	 32	/* per family */
#define XLB_NAT_SESSIONS_DEFAULT 262144 /* nat_fwd and nat_rev entries */
#define XLB_NAT_PORT_MIN_DEFAULT 1024
#define XLB_NAT_PORT_MAX_DEFAULT 65535
#define XLB_NAT_TRIES		 64 /* (local, port) candidates tried per new flow */

/* nat_laddrs[family_index * XLB_NAT_MAX_LADDRS + i]: the local pool. */
struct xlb_nat_laddr {
	struct xlb_addr addr;
};

enum xlb_nat_state {
	XLB_NAT_S_REPLIED = 1 << 0,    /* the real has answered */
	XLB_NAT_S_FIN_CLIENT = 1 << 1, /* TCP FIN from the client */
	XLB_NAT_S_FIN_REAL = 1 << 2,   /* TCP FIN from the real */
	XLB_NAT_S_RST = 1 << 3,	       /* TCP RST either way */
};

/*
 * The next hop of a session's replies (towards its client), as
 * bpf_fib_lookup last answered it, so that an established reply makes
 * no lookup (bpf/nexthop.h). Used only while epoch is the current one
 * in nh_epoch (0: none; the agent moves it on every route, neighbour or
 * link change) and only for a packet that fits mtu. The data plane
 * writes it, epoch last; a session the agent writes starts without.
 */
struct xlb_nat_hop {
	__u8 smac[6];
	__u8 dmac[6];
	__u32 ifindex;
	__u16 mtu; /* the largest packet the lookup would pass */
	__u16 pad;
	__u32 epoch;
};

struct xlb_nat_fwd {
	struct xlb_addr laddr; /* translated source */
	__be16 lport;
	__u8 state; /* enum xlb_nat_state */
	__u8 pad;
	__u32 real_id;
	__u32 real_gen;
	__u32 cpu;	 /* whose port range lport is in */
	__u64 last_seen; /* bpf_ktime_get_coarse_ns(), either direction */
	struct xlb_nat_hop hop; /* the replies' next hop */
};

struct xlb_nat_key {
	struct xlb_addr raddr; /* the real: the reply's source */
	struct xlb_addr laddr; /* local address: the reply's destination */
	__be16 rport;
	__be16 lport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct xlb_nat_rev {
	struct xlb_flow_key flow; /* the client side: key of nat_fwd */
	__u16 mss;		  /* the VIP's MSS clamp, for the SYN-ACK */
	__u16 pad;
	struct xlb_addr vaddr; /* the VIP's address */
};

/* vip_stats[vip_id], real_stats[real_id]: per-CPU, summed by userspace. */
struct xlb_counters {
	__u64 packets; /* client -> real */
	__u64 bytes;
	__u64 new_flows;     /* connection starts: a TCP SYN (no ACK) that
			      * starts a flow or replaces one, a UDP flow's
			      * first datagram */
	__u64 reply_packets; /* real -> client, FULLNAT only */
	__u64 reply_bytes;
};

/*
 * Node-wide settings, one entry in the globals map.
 * Tunnel outer source: base address with the bits in *_hostmask taken from
 * the flow hash, so that the real's NIC spreads flows over its queues.
 */
enum xlb_global_flags {
	/* Send every frame to gw_mac instead of asking bpf_fib_lookup. */
	XLB_G_F_GW_MAC = 1 << 0,
	/* Cluster: report new sessions on the sync_events ring buffer. */
	XLB_G_F_SYNC = 1 << 1,
};

struct xlb_globals {
	__be32 tun_src_v4;
	__be32 tun_v4_hostmask;
	__be32 tun_src_v6[4];
	__be32 tun_v6_hostmask; /* applied to the last word */
	__u32 flags;		/* enum xlb_global_flags */
	__u8 gw_mac[6];
	__be16 gue_port; /* GUE: UDP destination port of VIPs with encap gue */
	/* FULLNAT: local pool sizes ([0] IPv4, [1] IPv6), port split,
	 * idle timeouts in seconds (an expired tuple may be reused). */
	__u8 nat_laddrs[2];
	__u16 nat_port_min;
	__u16 nat_port_span; /* ports per CPU */
	/* "Fragmentation needed" / "packet too big" sent back, per second
	 * per CPU (icmp_gen.h); 0 = never. */
	__u16 icmp_rate;
	__u32 nat_tcp_s;	 /* TCP after the real answered */
	__u32 nat_tcp_syn_s;	 /* TCP the real has not answered yet */
	__u32 nat_tcp_closing_s; /* FIN both ways, or RST */
	__u32 nat_udp_s;
	/* Tunnel conntrack: idle timeouts in seconds by the TCP state seen
	 * from the client (enum xlb_ct_state), and of other protocols. */
	__u32 ct_tcp_syn_s;	/* only SYNs seen */
	__u32 ct_tcp_s;		/* established */
	__u32 ct_tcp_fin_s;	/* FIN from the client */
	__u32 ct_tcp_closing_s; /* RST from the client */
	__u32 ct_udp_s;
	__u32 pad3;
};

/*
 * Why a packet ended as it did, counted per CPU in reason_stats[reason].
 * Forwards come first, then passes (XDP_PASS), then drops (XDP_DROP):
 * the verdict follows from the reason. X-macro so that names and values
 * cannot drift apart.
 */
#define XLB_REASONS(X)                                \
	X(FWD_TX, "forward_tx")                       \
	X(FWD_REDIRECT, "forward_redirect")           \
	X(FWD_ICMP_TOO_BIG, "forward_icmp_too_big")   \
	X(PASS_NOT_IP, "pass_not_ip")                 \
	X(PASS_NOT_VIP, "pass_not_vip")               \
	X(PASS_ICMP_OTHER, "pass_icmp_other")         \
	X(PASS_NO_NEIGH, "pass_no_neighbour")         \
	X(PASS_IPV6_EXT, "pass_ipv6_ext_header")      \
	X(PASS_NAT_NO_SESSION, "pass_nat_no_session") \
	X(PASS_VLAN_OTHER, "pass_vlan_other")         \
	X(DROP_TRUNCATED, "drop_truncated")           \
	X(DROP_BAD_HEADER, "drop_bad_header")         \
	X(DROP_FRAGMENT, "drop_fragment")             \
	X(DROP_TTL_ZERO, "drop_ttl_zero")             \
	X(DROP_NO_REAL, "drop_no_real")               \
	X(DROP_FRAG_NEEDED, "drop_frag_needed")       \
	X(DROP_ICMP_LIMITED, "drop_icmp_limited")     \
	X(DROP_NO_ROUTE, "drop_no_route")             \
	X(DROP_FORWARDING_OFF, "drop_forwarding_off") \
	X(DROP_ICMP_UNMATCHED, "drop_icmp_unmatched") \
	X(DROP_NAT_NO_PORT, "drop_nat_no_port")       \
	X(DROP_NAT_TABLE_FULL, "drop_nat_table_full") \
	X(DROP_NAT_FAMILY, "drop_nat_family")         \
	X(DROP_NAT_NOT_SYN, "drop_nat_not_syn")       \
	X(DROP_SRC_MARTIAN, "drop_src_martian")       \
	X(DROP_SRC_OURS, "drop_src_ours")             \
	X(DROP_SRC_PORT_ZERO, "drop_src_port_zero")   \
	X(DROP_IPV6_ROUTING, "drop_ipv6_routing")     \
	X(DROP_ICMP_MISMATCH, "drop_icmp_mismatch")   \
	X(DROP_INTERNAL, "drop_internal")

enum xlb_reason {
#define XLB_REASON_ENUM(id, name) XLB_R_##id,
	XLB_REASONS(XLB_REASON_ENUM)
#undef XLB_REASON_ENUM
		XLB_R_MAX,
	XLB_R_FIRST_DROP = XLB_R_DROP_TRUNCATED,
};

/*
 * Tunnel mode's flood guard (docs/SECURITY.md), per CPU in ct_guard[0]:
 * while a CPU has made more than flood_guard_rate conntrack entries in
 * the current second, a miss other than a TCP SYN is still sent where
 * the ring says but not remembered, so that a flood of spoofed mid-flow
 * packets cannot push the real flows out of the LRU table.
 */
#define XLB_FLOOD_GUARD_RATE_DEFAULT 100000 /* entries per CPU per second */

struct xlb_ct_guard {
	__u64 window_ns; /* start of the current second */
	__u64 entries;	 /* conntrack entries made in it */
	__u64 skipped;	 /* misses not remembered, ever */
};

/*
 * The VLAN ids whose tagged frames one interface balances: the vlans
 * map, keyed by ifindex (__u32), written by the agent from config
 * `vlans`; bit vid of word vid / 64. No entry: untagged frames only.
 */
#define XLB_VLAN_WORDS	    (4096 / 64)
#define XLB_VLAN_IFACES_MAX 64

struct xlb_vlan_set {
	__u64 vids[XLB_VLAN_WORDS];
};
_Static_assert(sizeof(struct xlb_vlan_set) == 512, "xlb_vlan_set size");

/*
 * Cluster session sync (docs/CLUSTER.md). While XLB_G_F_SYNC is set the
 * data plane writes one event to the sync_events ring buffer for every
 * session it makes or re-points (tunnel: a conntrack insert; FULLNAT: a
 * new session) and when a FULLNAT session first sees its real answer
 * (state gains XLB_NAT_S_REPLIED), so that peers can take the flow over.
 * Ids are this node's: the agent translates them into addresses before
 * anything leaves the node.
 */
#define XLB_SYNC_RING_SIZE_DEFAULT (1u << 20) /* bytes, a power of 2 */

enum xlb_sync_ev_kind {
	XLB_SYNC_EV_TUNNEL = 1, /* flow -> real (conntrack) */
	XLB_SYNC_EV_NAT = 2,	/* flow -> real, local address and port */
};

struct xlb_sync_event {
	struct xlb_flow_key flow;
	__u32 real_id;
	__u32 real_gen;
	struct xlb_addr laddr; /* XLB_SYNC_EV_NAT only */
	__be16 lport;	       /* XLB_SYNC_EV_NAT only */
	__u8 kind;	       /* enum xlb_sync_ev_kind */
	__u8 state;	       /* enum xlb_nat_state, XLB_SYNC_EV_NAT only */
};

/* sync_stats[i], per CPU. */
enum xlb_sync_stat {
	XLB_SYNC_ST_EVENTS = 0, /* written to the ring buffer */
	XLB_SYNC_ST_LOST,	/* ring buffer full: the event was not sent */
	XLB_SYNC_ST_MAX,
};

/* The decap program's counters: decap_stats[reason], per CPU. */
#define XLB_DECAP_REASONS(X)                            \
	X(DECAP_OK, "decapsulated")                     \
	X(DECAP_PASS_NOT_TUNNEL, "pass_not_tunnel")     \
	X(DECAP_PASS_NOT_LOCAL, "pass_not_local")       \
	X(DECAP_DROP_TRUNCATED, "drop_truncated")       \
	X(DECAP_DROP_BAD_HEADER, "drop_bad_header")     \
	X(DECAP_DROP_SOURCE, "drop_source_not_allowed") \
	X(DECAP_DROP_INTERNAL, "drop_internal")

enum xlb_decap_reason {
#define XLB_DECAP_ENUM(id, name) XLB_##id,
	XLB_DECAP_REASONS(XLB_DECAP_ENUM)
#undef XLB_DECAP_ENUM
		XLB_DECAP_MAX,
	XLB_DECAP_FIRST_DROP = XLB_DECAP_DROP_TRUNCATED,
};

#define XLB_DECAP_MAX_ADDRS 256

/*
 * decap_sources, an LPM trie: the prefixes the outer source of a tunnel
 * must be in (lbctl decap attach --from; the balancers' tunnel_source).
 * The family byte is part of the matched bits, so an IPv4 prefix never
 * matches an IPv6 source: prefixlen is 8 + the prefix length.
 */
struct xlb_decap_src_key {
	__u32 prefixlen;
	__u8 family;   /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
	__u8 pad[3];
};

#define XLB_DECAP_MAX_SOURCES 64

/*
 * nexthops: real id -> the next hop towards that real, resolved by the
 * agent (user/nexthop.c) from the kernel's routes and neighbours and
 * kept fresh from their change events, so that an established packet
 * needs no bpf_fib_lookup (bpf/nexthop.h). The program uses an entry
 * only while XLB_NH_F_VALID is set and gen is the real's generation in
 * reals[id], and only for a packet that fits mtu; anything else (no
 * entry, marked stale, a reused id, a big packet) asks bpf_fib_lookup as
 * before. An ECMP route gives up to XLB_NH_LEGS legs, one picked per
 * flow (xlb_nh_pick() in xlb_hash.h); a leg of weight w fills w slots.
 */
#define XLB_NH_LEGS 8 /* a power of 2 (bpf/nexthop.h) */

enum xlb_nh_flags {
	/* Resolved: route, neighbour and interface known. The agent clears
	 * it before it re-resolves an entry a change may touch. */
	XLB_NH_F_VALID = 1 << 0,
};

struct xlb_nh_leg {
	__u8 smac[6]; /* the egress interface's address */
	__u8 dmac[6]; /* the gateway's (or the real's) neighbour entry */
	__u32 ifindex;
};

struct xlb_nh_entry {
	__u8 flags;  /* enum xlb_nh_flags */
	__u8 n_legs; /* 1..XLB_NH_LEGS while valid */
	__u16 mtu;   /* the smallest of the legs' and the route's MTU */
	__u32 gen;   /* the real's generation it was resolved for */
	struct xlb_nh_leg legs[XLB_NH_LEGS];
};

/* nexthop_stats[i], per CPU. */
enum xlb_nh_stat {
	/* Packets towards a real routed by bpf_fib_lookup because the
	 * entry could not be used. */
	XLB_NH_ST_FALLBACK = 0,
	/* FULLNAT replies routed by bpf_fib_lookup because the session had
	 * no next hop of the current epoch (its first reply, the first
	 * after a change, a packet over its MTU, an answer that is not a
	 * plain forward). */
	XLB_NH_ST_REPLY_LOOKUP,
	XLB_NH_ST_MAX,
};

/*
 * nh_epoch[0]: the route epoch of the sessions' reply next hops
 * (struct xlb_nat_hop). The agent (user/nexthop.c) moves it on to a
 * fresh value at start and after every route, neighbour or link change
 * it reads, so that every cached hop is looked up again; cur 0 (no agent
 * follows the changes, or nexthops: false) caches nothing. last is the
 * highest value ever used, so that a restarted agent never gives an
 * old session's hop a value it had.
 */
struct xlb_nh_epoch {
	__u32 cur;
	__u32 last;
};

/*
 * The flow cache (bpf/flowcache.h): per CPU, direct-mapped, in front of
 * the VIP and conntrack lookups of an established tunnel flow. A slot
 * keeps one IPv4 flow's whole answer: its VIP and real, the frame's
 * new head (Ethernet and outer header as last sent) and the egress.
 * It is an answer the slow path gave, kept for at most one conntrack
 * tick and only while fc_epoch has not moved: every change that could
 * give the flow another answer (a map the agent writes, a route or
 * neighbour event, a conntrack entry another CPU took or dropped)
 * moves it. A slot is never the only copy of anything.
 */
#define XLB_FC_SIZE_DEFAULT 16384 /* slots per CPU: 2 MiB */
#define XLB_FC_SIZE_MAX	    (1u << 22)
#define XLB_FC_HDR_MAX	    64

/* What a slot holds (struct xlb_fc_entry.kind). */
enum xlb_fc_kind {
	XLB_FC_EMPTY = 0,
	XLB_FC_TUN4 = 1,    /* tunnel to an IPv4 real: hdr is the new head */
	XLB_FC_TUN6 = 2,    /* tunnel to an IPv6 real */
	XLB_FC_NAT_REQ = 3, /* FULLNAT, client -> VIP: hdr has the rewrite */
	XLB_FC_NAT_REP = 4, /* FULLNAT, real -> local address */
};

struct xlb_fc_entry {
	/* The packet's flow, as it arrives. */
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 kind;   /* enum xlb_fc_kind */
	__u8 push;   /* tunnel: bytes the outer header adds, IP (+ UDP) */
	__u8 gue;    /* tunnel: a UDP header follows the outer IP header */
	__u32 epoch; /* fc_epoch's when the answer was read */
	/* Good until this time of the coarse monotonic clock, in units of
	 * 2^20 ns: a tunnel flow's conntrack tick ends, a FULLNAT
	 * session's clock would be moved on. */
	__u32 until;
	__u32 vip_id;
	__u32 real_id;
	__u32 ifindex; /* egress; XDP_TX when it is the ingress */
	/* Tunnel to IPv4: the outer header's word sum, but words 0, 1 and
	 * 5 (version and TOS, length, checksum). FULLNAT: what the rewrite
	 * adds to the IP header's checksum. */
	__u32 sum;
	__u16 max_l3; /* largest packet (inner, for a tunnel) sent */
	__u16 pad0;
	__u32 l4_sum; /* FULLNAT: what the rewrite adds to the L4 checksum */
	/* Tunnel: Ethernet + outer header as sent. FULLNAT: destination
	 * and source MAC, new source and destination address, new source
	 * and destination port. */
	__u8 hdr[XLB_FC_HDR_MAX];
	/* Sent to the configured gateway MAC from the MAC the frame came
	 * to (hdr's source MAC): only a frame sent to that MAC may use it. */
	__u8 gw;
	__u8 pad[15];
};

/* fc_stats[0], per CPU (bpf/flowcache.h). */
struct xlb_fc_stats {
	__u64 fills;	/* slots filled */
	__u64 bypassed; /* times the CPU stopped looking for a while */
	__u32 lookups;	/* in the current window */
	__u32 hits;	/* in the current window */
	__u32 bypass;	/* packets left that bypass the slots */
	__u32 backoff;	/* windows in a row that missed */
};

/*
 * fc_epoch[0], mapped by the agent: epoch is moved on (atomically) by
 * the agent and by the data plane; on is 1 while an agent keeps it,
 * and slots are filled only then.
 */
struct xlb_fc_epoch {
	__u32 epoch;
	__u32 on;
};

#ifndef __bpf__
_Static_assert(sizeof(struct xlb_addr) == 16, "xlb_addr");
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key");
_Static_assert(sizeof(struct xlb_vip_meta) == 8, "xlb_vip_meta");
_Static_assert(sizeof(struct xlb_vip_addr_key) == 20, "xlb_vip_addr_key");
_Static_assert(sizeof(struct xlb_decap_src_key) == 24, "xlb_decap_src_key");
_Static_assert(sizeof(struct xlb_real) == 32, "xlb_real");
_Static_assert(sizeof(struct xlb_flow_key) == 28, "xlb_flow_key");
_Static_assert(sizeof(struct xlb_flow_key4) == 16, "xlb_flow_key4");
_Static_assert(sizeof(struct xlb_ct_entry) == 8, "xlb_ct_entry");
_Static_assert(sizeof(struct xlb_counters) == 40, "xlb_counters");
_Static_assert(sizeof(struct xlb_globals) == 88, "xlb_globals");
_Static_assert(sizeof(struct xlb_nat_hop) == 24, "xlb_nat_hop");
_Static_assert(sizeof(struct xlb_nat_fwd) == 64, "xlb_nat_fwd");
_Static_assert(sizeof(struct xlb_nat_key) == 40, "xlb_nat_key");
_Static_assert(sizeof(struct xlb_nat_rev) == 48, "xlb_nat_rev");
_Static_assert(sizeof(struct xlb_sync_event) == 56, "xlb_sync_event");
_Static_assert(sizeof(struct xlb_ct_guard) == 24, "xlb_ct_guard");
_Static_assert(sizeof(struct xlb_nh_leg) == 16, "xlb_nh_leg");
_Static_assert(sizeof(struct xlb_nh_entry) == 8 + 16 * XLB_NH_LEGS,
	       "xlb_nh_entry");
_Static_assert(sizeof(struct xlb_nh_epoch) == 8, "xlb_nh_epoch");
_Static_assert(sizeof(struct xlb_fc_entry) == 128, "xlb_fc_entry");
_Static_assert(sizeof(struct xlb_fc_epoch) == 8, "xlb_fc_epoch");
_Static_assert(sizeof(struct xlb_fc_stats) == 32, "xlb_fc_stats");
#endif

#endif /* XLB_ABI_H */
