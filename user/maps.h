/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.c: the balancer program and its maps. The only code that writes
 * BPF maps; everything else goes through these functions.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlb.h"

struct xlb_dp;

struct xlb_dp_opts {
	uint32_t max_vips;
	uint32_t max_reals;
	uint32_t ct_size;	   /* IPv4 conntrack entries per CPU */
	uint32_t ct6_size;	   /* IPv6 conntrack entries per CPU */
	uint32_t nat_sessions;	   /* FULLNAT sessions (0: the default) */
	const char *pin_path;	   /* NULL: nothing pinned (tests) */
	uint32_t flood_guard_rate; /* 0: no flood guard */
	uint32_t fc_size;	   /* flow cache slots per CPU; 0: off,
				      XLB_DP_FC_DEFAULT: the default */
};

#define XLB_DP_FC_DEFAULT UINT32_MAX

/* Open, size and load the program, and create the per-CPU conntrack. */

int xlb_dp_open(const struct xlb_dp_opts *opts, struct xlb_dp **out, char *err,
		size_t errlen);
/*
 * Free the agent's handles. With full_stop (or when nothing was pinned)
 * also detach from every interface and unpin; without it the program
 * stays attached and the maps pinned, so the data plane keeps forwarding
 * until the next agent adopts it. NULL is ok.
 */
void xlb_dp_close(struct xlb_dp *dp, bool full_stop);
/*
 * The flow cache (bpf/flowcache.h). enable: let the data plane fill
 * slots (xlb_dp_open() does when fc_size is not 0), or stop it; either
 * way every slot filled before stops holding. changed: every slot stops
 * holding, for a writer of the maps other than this file's functions
 * (which do it themselves). fills: slots filled, summed over CPUs.
 */
int xlb_dp_fc_enable(struct xlb_dp *dp, bool on);
void xlb_dp_fc_changed(struct xlb_dp *dp);
int xlb_dp_fc_fills(struct xlb_dp *dp, uint64_t *n);
/* The same, and how many times a CPU started bypassing its slots. */
int xlb_dp_fc_stats(struct xlb_dp *dp, uint64_t *fills, uint64_t *bypassed);
/* True when the maps were found pinned (an earlier agent's). */
bool xlb_dp_adopted(const struct xlb_dp *dp);
/* True when pin_path holds a data plane's maps to adopt. */
bool xlb_dp_pinned(const char *pin_path);
/* True when an XLB balancer (ours or an earlier agent's) runs on ifname. */
bool xlb_dp_running_on(const char *ifname);

/*
 * The originals of the kernel settings xlbd changed (sysctl.c), kept in
 * a map of their own pinned beside the others: load gives zeros when
 * none is pinned (or nothing is pinned at all); store pins it the first
 * time. A full stop unpins it with the rest.
 */
struct xlb_sysctl_saved;
int xlb_dp_sysctls_load(struct xlb_dp *dp, struct xlb_sysctl_saved *out);
int xlb_dp_sysctls_store(struct xlb_dp *dp, const struct xlb_sysctl_saved *in);

int xlb_dp_prog_fd(const struct xlb_dp *dp);
uint32_t xlb_dp_max_vips(const struct xlb_dp *dp);
uint32_t xlb_dp_max_reals(const struct xlb_dp *dp);
/* Possible CPUs: the port range is split between them. */
int xlb_dp_ncpus(const struct xlb_dp *dp);
/* Size of nat_fwd and nat_rev (an adopted table keeps its own). */
uint32_t xlb_dp_nat_sessions(const struct xlb_dp *dp);

/*
 * Attach through libxdp (which attaches the program alone when the kernel
 * refuses its dispatcher). If an earlier agent's balancer runs there, it
 * is replaced atomically (or kept, under the dispatcher).
 */
int xlb_dp_attach(struct xlb_dp *dp, const char *ifname, enum xlb_xdp_mode mode,
		  char *err, size_t errlen);
int xlb_dp_detach_all(struct xlb_dp *dp);
/*
 * The VLAN ids whose tagged frames each interface balances (the vlans
 * map): vids NULL or empty is untagged only. Every interface not in
 * ifs (an earlier agent's or configuration's) loses its entry.
 */
struct xlb_dp_vlans {
	int ifindex;
	const uint64_t *vids; /* XLB_VLAN_WORDS words, bit by id; or NULL */
};
int xlb_dp_vlans_sync(struct xlb_dp *dp, const struct xlb_dp_vlans *ifs,
		      size_t n);
/*
 * Remove from tx_ports every interface this agent is not attached to
 * (an earlier agent's that the configuration no longer names). Call
 * after attaching to all of them.
 */
int xlb_dp_tx_ports_prune(struct xlb_dp *dp);
/* True when libxdp attached the program without its dispatcher. */
bool xlb_dp_attached_alone(const struct xlb_dp *dp, const char *ifname);

int xlb_dp_set_globals(struct xlb_dp *dp, const struct xlb_globals *g);
int xlb_dp_get_globals(struct xlb_dp *dp, struct xlb_globals *g);
int xlb_dp_vip_put(struct xlb_dp *dp, const struct xlb_vip_key *key,
		   const struct xlb_vip_meta *meta);
int xlb_dp_vip_delete(struct xlb_dp *dp, const struct xlb_vip_key *key);
/* Count one more (delta 1) or one less (-1) VIP on an address. */
int xlb_dp_vip_addr_ref(struct xlb_dp *dp, const struct xlb_vip_addr_key *key,
			int delta);
int xlb_dp_real_put(struct xlb_dp *dp, uint32_t id, const struct xlb_real *r);
/*
 * Publish a VIP's ring: ids[0..m-1] are real ids (XLB_REAL_NONE for an
 * empty slot). A new inner map is filled and swapped in with one update.
 */
int xlb_dp_ring_publish(struct xlb_dp *dp, uint32_t vip_id, const uint32_t *ids,
			uint32_t m);
int xlb_dp_ring_clear(struct xlb_dp *dp, uint32_t vip_id);

/* Reading back the data plane, for an agent that adopts it. */
typedef int (*xlb_dp_vip_fn)(const struct xlb_vip_key *key,
			     const struct xlb_vip_meta *meta, void *arg);
int xlb_dp_vips_dump(struct xlb_dp *dp, xlb_dp_vip_fn fn, void *arg);
int xlb_dp_real_get(struct xlb_dp *dp, uint32_t id, struct xlb_real *r);
int xlb_dp_ring_size(struct xlb_dp *dp, uint32_t vip_id, uint32_t *m);

/* Every conntrack entry of every CPU, both families' tables, in batches
 * (for counting); an IPv4 table's key is handed out as the flow's
 * struct xlb_flow_key. */
typedef void (*xlb_dp_ct_fn)(const struct xlb_flow_key *key,
			     const struct xlb_ct_entry *e, void *arg);
int xlb_dp_ct_foreach(struct xlb_dp *dp, xlb_dp_ct_fn fn, void *arg);
/* The same over one CPU's table (none there: nothing, 0). */
int xlb_dp_ct_foreach_cpu(struct xlb_dp *dp, uint32_t cpu, xlb_dp_ct_fn fn,
			  void *arg);

/* Counters summed over CPUs. */
int xlb_dp_vip_counters(struct xlb_dp *dp, uint32_t vip_id,
			struct xlb_counters *out);
int xlb_dp_real_counters(struct xlb_dp *dp, uint32_t real_id,
			 struct xlb_counters *out);
/* Zero a VIP's or real's counters when its id is given to a new owner. */
int xlb_dp_counters_reset(struct xlb_dp *dp, bool real, uint32_t id);
int xlb_dp_reasons(struct xlb_dp *dp, uint64_t out[XLB_R_MAX]);
extern const char *const xlb_reason_names[XLB_R_MAX];

/*
 * FULLNAT. The local pool of one family (XLB_AF_INET or XLB_AF_INET6):
 * slots 0..n-1 of that family in nat_laddrs, and each address marked
 * XLB_ADDR_F_LOCAL in vip_addrs. The pool size the data plane uses is
 * globals.nat_laddrs[], written by xlb_dp_set_globals().
 */
int xlb_dp_nat_laddr_put(struct xlb_dp *dp, int family, uint32_t slot,
			 const struct xlb_addr *addr);
int xlb_dp_local_addr_set(struct xlb_dp *dp, const struct xlb_vip_addr_key *key,
			  bool local);
/* Reading the pool back (adoption). */
int xlb_dp_nat_laddr_get(struct xlb_dp *dp, int family, uint32_t slot,
			 struct xlb_addr *addr);
bool xlb_dp_local_addr_get(struct xlb_dp *dp,
			   const struct xlb_vip_addr_key *key);

/* Every FULLNAT session (the nat_fwd entries), in batches. */
typedef void (*xlb_dp_nat_fn)(const struct xlb_flow_key *key,
			      const struct xlb_nat_fwd *e, void *arg);
int xlb_dp_nat_foreach(struct xlb_dp *dp, xlb_dp_nat_fn fn, void *arg);
/* The reverse entry of a session, or -ENOENT. */
int xlb_dp_nat_rev_get(struct xlb_dp *dp, const struct xlb_nat_key *key,
		       struct xlb_nat_rev *out);

struct xlb_nat_gc_stats {
	size_t scanned; /* nat_fwd entries looked at */
	size_t expired; /* sessions removed, both directions */
	size_t orphans; /* nat_rev entries without their nat_fwd */
	size_t live;	/* sessions left */
};

/*
 * Remove every session idle for longer than its timeout (g's nat_*_s,
 * by state) at now_ns (CLOCK_MONOTONIC, as bpf_ktime_get_coarse_ns),
 * both directions, and reverse entries whose session is gone.
 */
int xlb_dp_nat_gc(struct xlb_dp *dp, const struct xlb_globals *g,
		  uint64_t now_ns, struct xlb_nat_gc_stats *st);

/*
 * End sessions at once, both ways: those of one local address (leaving
 * the pool), or of one VIP (leaving fullnat mode). *n: how many.
 */
int xlb_dp_nat_flush_laddr(struct xlb_dp *dp, const struct xlb_ip *laddr,
			   size_t *n);
int xlb_dp_nat_flush_vip(struct xlb_dp *dp, uint32_t vip_id, size_t *n);

/* Conntrack table of one CPU and family (XLB_AF_INET: the IPv4 table,
 * keyed by struct xlb_flow_key4; else the IPv6 one), for tests and
 * benchmarks: a new fd that the caller closes. */
int xlb_dp_ct_fd(struct xlb_dp *dp, int family, uint32_t cpu);
/* One CPU's entry of a flow, in its family's table: 0 or -errno
 * (-ENOENT: none). */
int xlb_dp_ct_get(struct xlb_dp *dp, uint32_t cpu,
		  const struct xlb_flow_key *key, struct xlb_ct_entry *e);
int xlb_dp_ct_put(struct xlb_dp *dp, uint32_t cpu,
		  const struct xlb_flow_key *key, const struct xlb_ct_entry *e);
int xlb_dp_ct_del(struct xlb_dp *dp, uint32_t cpu,
		  const struct xlb_flow_key *key);

/* The fd of one of the program's maps, by name (the program's own, not a
 * new one: do not close it), or -ENOENT. For benchmarks that load a
 * program of their own over the balancer's maps (bpf_map__reuse_fd). */
int xlb_dp_map_fd(struct xlb_dp *dp, const char *name);

/*
 * Cluster session sync (docs/CLUSTER.md). The data plane reports new
 * sessions on the sync_events ring buffer while XLB_G_F_SYNC is set in
 * the globals (xlb_dp_set_sync). The agent polls xlb_dp_sync_fd() and
 * calls xlb_dp_sync_consume(), which hands every waiting event to fn.
 */
typedef void (*xlb_dp_sync_fn)(const struct xlb_sync_event *ev, void *arg);
int xlb_dp_set_sync(struct xlb_dp *dp, bool on);
int xlb_dp_sync_open(struct xlb_dp *dp, xlb_dp_sync_fn fn, void *arg);
int xlb_dp_sync_fd(struct xlb_dp *dp);	    /* -1 before xlb_dp_sync_open */
int xlb_dp_sync_consume(struct xlb_dp *dp); /* events handled, or -errno */
/* Summed over CPUs: events written, events lost to a full ring. */
int xlb_dp_sync_stats(struct xlb_dp *dp, uint64_t *events, uint64_t *lost);
/* Conntrack misses the flood guard did not remember, summed over CPUs. */
int xlb_dp_guard_skipped(struct xlb_dp *dp, uint64_t *skipped);

/* What installing a peer's session did. */
enum xlb_dp_install {
	XLB_DP_INSTALLED = 0, /* new here */
	XLB_DP_UPDATED,	      /* the same session, refreshed */
	XLB_DP_KEPT, /* a live session of ours for the flow differs: kept */
};

/*
 * A tunnel flow a peer made: written to every CPU's conntrack table
 * unless one of them holds a valid entry (real up, same generation)
 * naming another real, which is kept.
 */
int xlb_dp_ct_install(struct xlb_dp *dp, const struct xlb_flow_key *key,
		      const struct xlb_ct_entry *e, enum xlb_dp_install *res);
/*
 * A FULLNAT session a peer made: nat_fwd[key] = *f (f->cpu is
 * UINT32_MAX: no CPU of ours owns its port) and nat_rev[*rk] = *rv.
 * An existing session of the flow with the same tuple is refreshed
 * (state bits added, last_seen the later one); a live one with another
 * tuple is kept; a dead one (real gone or expired by g) is replaced and
 * its reverse entry removed.
 */
int xlb_dp_nat_install(struct xlb_dp *dp, const struct xlb_globals *g,
		       uint64_t now_ns, const struct xlb_flow_key *key,
		       const struct xlb_nat_fwd *f,
		       const struct xlb_nat_key *rk,
		       const struct xlb_nat_rev *rv, enum xlb_dp_install *res);

/*
 * Walk the session tables in bounded steps, for a bulk sync: every CPU's
 * conntrack table, then nat_fwd. A cursor starts zeroed; each call hands
 * at most max entries to fn (ct or nat set, the other NULL) and moves
 * the cursor past them; *done once the walk is over. A cursor whose key
 * has gone meanwhile restarts its table (entries may repeat, none is
 * skipped that stayed).
 */
struct xlb_dp_cursor {
	uint8_t table; /* 0 conntrack, 1 nat_fwd, 2 done */
	uint8_t has_key;
	uint8_t fam; /* conntrack: the CPU's IPv4 (0) or IPv6 (1) table */
	uint8_t pad;
	uint32_t cpu;		 /* conntrack: which CPU's tables */
	struct xlb_flow_key key; /* the last entry handed out */
};
typedef void (*xlb_dp_session_fn)(const struct xlb_flow_key *key,
				  const struct xlb_ct_entry *ct,
				  const struct xlb_nat_fwd *nat, void *arg);
int xlb_dp_sessions_walk(struct xlb_dp *dp, struct xlb_dp_cursor *cur,
			 size_t max, xlb_dp_session_fn fn, void *arg,
			 bool *done);

/*
 * Tests: from now on, make the nth write that can fail on a running
 * system fail with -EIO (0: none), and return how many such writes were
 * made since the last call. Those are the insertions into hash maps (a
 * VIP, a VIP address's first reference, a local address, VLANs), a new
 * ring, and the globals. Deletions, decrements and writes of array slots
 * (reals, pool slots) fail only on a bug: the model goes on past them.
 */
uint64_t xlb_dp_fail_write(struct xlb_dp *dp, uint64_t nth);

/*
 * The next hop resolved for real id (nexthops, written by nexthop.c
 * only); and the packets towards a real that bpf_fib_lookup routed
 * because no valid entry was there, summed over CPUs.
 */
int xlb_dp_nexthop_put(struct xlb_dp *dp, uint32_t id,
		       const struct xlb_nh_entry *e);
int xlb_dp_nexthop_get(struct xlb_dp *dp, uint32_t id, struct xlb_nh_entry *e);
int xlb_dp_nexthop_fallbacks(struct xlb_dp *dp, uint64_t *n);
/* A counter of nexthop_stats, summed over CPUs. */
int xlb_dp_nexthop_stat(struct xlb_dp *dp, enum xlb_nh_stat k, uint64_t *n);

/*
 * The route epoch of the FULLNAT sessions' reply next hops (nh_epoch,
 * written by nexthop.c only): next moves it on to a value never used
 * (every kept hop is looked up again), stop sets it to 0 (nothing is
 * kept or used: nobody follows the changes).
 */
int xlb_dp_nh_epoch_get(struct xlb_dp *dp, struct xlb_nh_epoch *e);
int xlb_dp_nh_epoch_next(struct xlb_dp *dp);
int xlb_dp_nh_epoch_stop(struct xlb_dp *dp);

#endif /* XLB_MAPS_H */
