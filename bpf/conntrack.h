/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h: tunnel-mode connection tracking, one LRU table per CPU
 * and family (maps.h).
 * A flow keeps its real while the entry holds: not idle past the
 * timeout of its state, its real up and still the same real. The entry
 * (packed by include/xlb_conn.h) follows the TCP state seen from the
 * client, as IPVS does for direct routing, so that a flow ends when
 * its connection ends or idles out and a drain finishes.
 */
#ifndef XLB_BPF_CONNTRACK_H
#define XLB_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"
#include "select.h"
#include "xlb_conn.h"
#include "flowcache.h"

/*
 * A flow's key in its family's table. A table reads as many bytes as its
 * own key has: an IPv4 flow's key is the 16 bytes of v4, written
 * directly from the packet, and never the rest.
 */
union ct_key {
	struct xlb_flow_key4 v4;
	struct xlb_flow_key v6;
};

/* CPU cpu's conntrack table of the family, or NULL (past the last CPU,
 * or the agent has not made it). */
static __always_inline void *ct_cpu_table(__u32 cpu, __u8 family)
{
	if (family == XLB_AF_INET)
		return bpf_map_lookup_elem(&ct4_maps, &cpu);
	return bpf_map_lookup_elem(&ct_maps, &cpu);
}

/* This CPU's conntrack table of the family, or NULL. */
static __always_inline void *ct_table(__u8 family)
{
	return ct_cpu_table(bpf_get_smp_processor_id(), family);
}

/* The flow as everything but the IPv4 tables names it: FULLNAT's
 * nat_fwd, the IPv6 tables, sync events. */
static __always_inline void flow_key(struct xlb_flow_key *key,
				     const struct xlb_pkt *p, __u32 vip_id)
{
	*key = (struct xlb_flow_key){
		.saddr = p->saddr,
		.vip_id = vip_id,
		.sport = p->sport,
		.dport = p->dport,
		.proto = p->proto,
		.family = p->family,
	};
}

/* The flow's key in its family's conntrack table. */
static __always_inline void ct_key(union ct_key *key, __u8 family,
				   const struct xlb_pkt *p, __u32 vip_id)
{
	if (family == XLB_AF_INET)
		key->v4 = (struct xlb_flow_key4){
			.saddr = p->saddr.addr[0],
			.vip_id = vip_id,
			.sport = p->sport,
			.dport = p->dport,
			.proto = p->proto,
		};
	else
		flow_key(&key->v6, p, vip_id);
}

/* Copy a key: only the bytes its family has are written. */
static __always_inline void ct_key_copy(union ct_key *dst,
					const union ct_key *src, __u8 family)
{
	if (family == XLB_AF_INET)
		dst->v4 = src->v4;
	else
		dst->v6 = src->v6;
}

/* Does the packet start a connection (a TCP SYN without ACK; the first
 * datagram of any other flow)? What "new connections" counts. */
static __always_inline bool ct_conn_start(const struct xlb_pkt *p)
{
	return p->proto != IPPROTO_TCP || xlb_conn_tcp_open(p->tcp_flags);
}

/*
 * The real of entry v if the entry holds for this packet: not expired,
 * its real up and of the same generation, and, for a new TCP
 * connection, an entry that may take it (xlb_ct_keeps_new).
 */
static __always_inline struct xlb_real *
ct_entry_real(__u64 v, const struct xlb_pkt *p, const struct xlb_globals *g,
	      __u32 tick)
{
	struct xlb_real *real;

	if (xlb_ct_expired(g, p->proto, v, tick))
		return NULL;
	real = lookup_real(xlb_ct_real_id(v));
	if (!real || !xlb_ct_gen_is(v, real->gen))
		return NULL;
	if (p->proto == IPPROTO_TCP && xlb_conn_tcp_open(p->tcp_flags) &&
	    !p->icmp_error && !xlb_ct_keeps_new(v, real))
		return NULL;
	return real;
}

/* The entry after this packet: its state and clock moved on. An ICMP
 * error about the flow is not the client speaking: no change. */
static __always_inline __u64 ct_entry_next(__u64 v, const struct xlb_pkt *p,
					   __u32 tick)
{
	if (p->icmp_error)
		return v;
	return xlb_ct_with(
		v, xlb_ct_next_state(xlb_ct_state(v), p->proto, p->tcp_flags),
		tick);
}

struct ct_scan {
	union ct_key key;
	struct xlb_ct_entry entry;
	__u32 self;
	__u32 found;
	__u32 cpu; /* where it was found */
};

/*
 * bpf_loop callbacks: drop the flow's entry from CPU cpu's table. One
 * per family, each naming its own tables: a lookup site that sees one
 * map is inlined by the verifier, one that may see either is a call.
 */
static __always_inline long ct_forget_in(void *tables, __u32 cpu,
					 struct ct_scan *s)
{
	void *ct;

	if (cpu == s->self)
		return 0;
	ct = bpf_map_lookup_elem(tables, &cpu);
	if (!ct)
		return 1; /* past the last CPU */
	/* That CPU may have the flow in its flow cache. */
	if (!bpf_map_delete_elem(ct, &s->key))
		fc_moved();
	return 0;
}

static long ct_forget_cpu4(__u32 cpu, void *data)
{
	return ct_forget_in(&ct4_maps, cpu, data);
}

static long ct_forget_cpu6(__u32 cpu, void *data)
{
	return ct_forget_in(&ct_maps, cpu, data);
}

/*
 * A TCP SYN (no ACK) chose the flow's real on this CPU: that choice is
 * the flow's one truth. The other CPUs' entries of the same 5-tuple
 * are of an earlier connection (a client reusing its port) and may name
 * another real; the new connection's next packet on such a CPU would
 * follow them. Dropped, that packet misses there, finds this CPU's
 * entry (select_from_other_cpus) and moves it. Only SYNs pay for this.
 */
static __always_inline void ct_syn_claim(const union ct_key *key,
					 const struct xlb_pkt *p)
{
	struct ct_scan s = {};

	if (p->proto != IPPROTO_TCP || p->icmp_error || !pkt_tcp_open(p))
		return;
	ct_key_copy(&s.key, key, p->family);
	s.self = bpf_get_smp_processor_id();
	if (p->family == XLB_AF_INET)
		bpf_loop(XLB_MAX_CPUS, ct_forget_cpu4, &s, 0);
	else
		bpf_loop(XLB_MAX_CPUS, ct_forget_cpu6, &s, 0);
}

/* The real a tracked flow is pinned to, if its entry holds. */
static __always_inline struct xlb_real *
select_from_ct(void *ct, const union ct_key *key, const struct xlb_pkt *p,
	       const struct xlb_globals *g, __u32 tick, __u32 *real_id)
{
	struct xlb_ct_entry *e;
	struct xlb_real *real;
	__u64 v, next;

	if (!ct)
		return NULL;
	e = bpf_map_lookup_elem(ct, key);
	if (!e)
		return NULL;
	v = e->v;
	real = ct_entry_real(v, p, g, tick);
	if (!real)
		return NULL;
	ct_syn_claim(key, p);
	/* Written only when it changes: about once a second per flow. */
	next = ct_entry_next(v, p, tick);
	if (next != v)
		e->v = next;
	*real_id = xlb_ct_real_id(v);
	return real;
}

/* bpf_loop callbacks: look for the flow in CPU cpu's table; one per
 * family, as ct_forget_cpu4/6. */
static __always_inline long ct_scan_in(void *tables, __u32 cpu,
				       struct ct_scan *s)
{
	struct xlb_ct_entry *e;
	void *ct;

	if (cpu == s->self)
		return 0;
	ct = bpf_map_lookup_elem(tables, &cpu);
	if (!ct)
		return 1; /* past the last CPU */
	e = bpf_map_lookup_elem(ct, &s->key);
	if (!e)
		return 0;
	s->entry = *e;
	s->found = 1;
	s->cpu = cpu;
	return 1;
}

static long ct_scan_cpu4(__u32 cpu, void *data)
{
	return ct_scan_in(&ct4_maps, cpu, data);
}

static long ct_scan_cpu6(__u32 cpu, void *data)
{
	return ct_scan_in(&ct_maps, cpu, data);
}

/*
 * A packet in the middle of a flow missed this CPU's table: the flow may
 * have been tracked on another CPU (no RSS, a queue or IRQ affinity
 * change, a packet steered elsewhere). Look there before choosing a real
 * afresh, which after a ring change would move the flow and break it.
 * Only mid-flow misses pay for this. A found entry moves here: one
 * entry per flow, so that the agent's census counts the flow once.
 */
static __always_inline struct xlb_real *
select_from_other_cpus(void *ct, const union ct_key *key,
		       const struct xlb_pkt *p, const struct xlb_globals *g,
		       __u32 tick, __u32 *real_id)
{
	struct xlb_real *real;
	struct ct_scan s = {};
	void *other;

	ct_key_copy(&s.key, key, p->family);
	s.self = bpf_get_smp_processor_id();
	if (p->family == XLB_AF_INET)
		bpf_loop(XLB_MAX_CPUS, ct_scan_cpu4, &s, 0);
	else
		bpf_loop(XLB_MAX_CPUS, ct_scan_cpu6, &s, 0);
	if (!s.found)
		return NULL;
	real = ct_entry_real(s.entry.v, p, g, tick);
	if (!real)
		return NULL;
	*real_id = xlb_ct_real_id(s.entry.v);
	s.entry.v = ct_entry_next(s.entry.v, p, tick);
	if (ct && !bpf_map_update_elem(ct, key, &s.entry, BPF_ANY)) {
		other = ct_cpu_table(s.cpu, p->family);
		if (other && !bpf_map_delete_elem(other, key))
			fc_moved();
	}
	return real;
}

/*
 * The real of a tracked flow of the family: this CPU's entry, else, for
 * a packet in the middle of a flow, another CPU's. *ct is this CPU's
 * table and *key the flow's key, for ct_insert. The caller passes the
 * family as a constant, once per family, so that each family's lookups
 * have call sites of their own: the verifier inlines a map lookup only
 * where a call site sees one map (one table type), which one shared
 * call site for both families' tables would lose on every packet.
 */
static __always_inline struct xlb_real *
ct_select(void **ct, union ct_key *key, __u8 family, const struct xlb_pkt *p,
	  __u32 vip_id, const struct xlb_globals *g, __u32 tick, __u32 *real_id)
{
	struct xlb_real *real;

	*ct = ct_table(family);
	ct_key(key, family, p, vip_id);
	real = select_from_ct(*ct, key, p, g, tick, real_id);
	if (!real &&
	    ((p->proto == IPPROTO_TCP && !pkt_tcp_syn(p)) || p->icmp_error))
		real = select_from_other_cpus(*ct, key, p, g, tick, real_id);
	return real;
}

/*
 * Remember the choice, replacing any entry the flow had; a full LRU
 * table evicts its oldest flow.
 */
static __always_inline void ct_insert(void *ct, const union ct_key *key,
				      const struct xlb_pkt *p, __u32 tick,
				      __u32 real_id,
				      const struct xlb_real *real)
{
	struct xlb_ct_entry e = {
		.v = xlb_ct_pack(
			real_id, real->gen,
			xlb_ct_next_state(XLB_CT_S_NEW, p->proto, p->tcp_flags),
			tick),
	};

	if (ct)
		bpf_map_update_elem(ct, key, &e, BPF_ANY);
	ct_syn_claim(key, p);
}

#endif /* XLB_BPF_CONNTRACK_H */
