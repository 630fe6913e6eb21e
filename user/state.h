/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's model inside (user/agent.h is its face): the entries and
 * the helpers shared by the files that hold it, one job each:
 *   state.c            the model and its operations, written to the maps
 *                      in an order no packet sees half done
 *   reconcile.c        make the model what a configuration says (start,
 *                      reload), and the model as a configuration
 *   adopt.c            rebuild the model from an earlier agent's pins
 *   census.c           who uses which real: tracked flows and sessions
 *   views.c            the JSON views (vip.list, stats, sessions...)
 *   cluster_sessions.c sessions as the nodes of a cluster exchange them
 */
#ifndef XLB_STATE_H
#define XLB_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "maps.h"

struct real_ent {
	struct xlb_ip ip;
	uint32_t weight;
	uint32_t id;   /* key of reals/real_stats, owned by this (VIP, real) */
	uint32_t gen;  /* generation in reals[id] */
	bool down;     /* its health check says so */
	bool draining; /* no new flows, established ones continue */
	bool has_check;
	struct xlb_check_spec check;
};

struct vip_ent {
	bool used;
	struct xlb_service svc;
	enum xlb_hash_mode hash;
	enum xlb_fwd_mode mode;
	uint16_t mss;
	bool gue; /* tunnel inside UDP */
	uint32_t table_size;
	struct xlb_check_spec check;
	bool dirty; /* ring to publish when the batch ends */
	struct real_ent *reals;
	size_t n_reals;
	size_t cap;
};

struct xlb_agent {
	struct xlb_dp *dp;
	struct vip_ent *vips; /* indexed by VIP id */
	uint32_t max_vips;
	uint8_t *real_used; /* indexed by real id; id 0 is never used */
	uint32_t max_reals;
	uint32_t next_gen;
	xlb_agent_change_fn on_change;
	void *on_change_arg;
	xlb_agent_real_json_fn on_real_json;
	void *on_real_json_arg;
	uint64_t ring_builds;	/* rings published */
	uint64_t ring_build_ns; /* time spent building and publishing them */
	/* The FULLNAT local pool by family index (0 IPv4, 1 IPv6): slots
	 * 0..n-1 of nat_laddrs, in the same order. */
	struct xlb_ip laddrs[2][XLB_NAT_MAX_LADDRS];
	uint32_t n_laddrs[2];
	/* The globals as last written: the pool sizes change alone. */
	struct xlb_globals g;
	/* Session sweeps (xlb_agent_nat_gc). */
	struct xlb_agent_gc_totals gc;
	/* Cluster: the peers' local pools, marked local in vip_addrs. */
	struct xlb_ip peer_laddrs[XLB_PEER_LADDRS_MAX];
	size_t n_peer_laddrs;
	/*
	 * Batch (reconcile): rings are published once per VIP at the end,
	 * and removed reals are released only after that, keeping the
	 * order "out of the ring, then down".
	 */
	bool batch;
	bool batch_changed;
	/* xlb_agent_hold_changes: changes not told yet. */
	bool hold;
	bool held_changed;
	uint32_t *pending;
	size_t n_pending;
	/* Scratch for ring builds. */
	uint32_t *table;
	uint32_t *ids;
	uint32_t table_cap;
};

struct ct_census {
	struct xlb_agent *agent;
	uint32_t *gen;	  /* current generation by real id, 0 = unused */
	uint64_t *count;  /* live tracked flows by real id */
	uint64_t *active; /* of which established (ActiveConn) */
	/* Tunnel conntrack entries on every CPU, and those live. */
	uint64_t ct_entries, ct_live;
	uint32_t tick;
	/* FULLNAT sessions: entries in nat_fwd, not yet expired, and by
	 * local address (as the pool's slots). */
	uint64_t nat_entries, nat_live;
	uint64_t nat_laddr[2][XLB_NAT_MAX_LADDRS];
	uint64_t now;
};

/* state.c */
/* The model changed: tell the change hook (or the batch, or the hold). */
void agent_changed(struct xlb_agent *agent);
int agent_vip_put(struct xlb_agent *agent, const struct vip_ent *vip,
		  uint32_t id);
int agent_fam_idx(int family);
int agent_laddr_find(const struct xlb_agent *agent, const struct xlb_ip *ip);
struct vip_ent *agent_vip_on_addr(struct xlb_agent *agent,
				  const struct xlb_ip *ip);
struct vip_ent *agent_find_vip(struct xlb_agent *agent,
			       const struct xlb_service *svc, uint32_t *id);
struct real_ent *agent_find_real(struct vip_ent *vip, const struct xlb_ip *ip);
uint64_t agent_now_ns(void);
int agent_build_and_publish_timed(struct xlb_agent *agent, uint32_t vip_id);
int agent_publish_ring(struct xlb_agent *agent, uint32_t vip_id);
void agent_release_real(struct xlb_agent *agent, uint32_t id);
int agent_globals_build(struct xlb_agent *agent, const struct xlb_config *cfg,
			struct xlb_globals *g, char *err, size_t errlen);
void agent_addr_key_of(const struct xlb_ip *ip, struct xlb_vip_addr_key *key);

/* census.c */
struct real_ent *agent_ct_real(struct xlb_agent *agent,
			       const struct xlb_flow_key *k, uint64_t v,
			       uint64_t now);
bool agent_nat_idle(const struct xlb_agent *agent, const struct xlb_flow_key *k,
		    const struct xlb_nat_fwd *e, uint64_t now);
struct ct_census *agent_census_take(struct xlb_agent *agent);
void agent_census_free(struct ct_census *c);

#endif /* XLB_STATE_H */
