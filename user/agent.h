/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's model of VIPs and reals (state.c and the files user/state.h
 * lists), and the operations the control socket and the configuration
 * loader apply to it. Every operation validates first and changes nothing
 * on error; on success the data plane maps are updated through maps.c
 * before it returns.
 */
#ifndef XLB_AGENT_H
#define XLB_AGENT_H

#include <jansson.h>

#include "maps.h"
#include "sync.h"
#include "xlb.h"

struct xlb_agent;
struct xlb_dp;

/* Create the model over an opened data plane (maps.c). */
int xlb_agent_new(struct xlb_dp *dp, struct xlb_agent **out);
void xlb_agent_free(struct xlb_agent *agent);
struct xlb_dp *xlb_agent_dp(struct xlb_agent *agent);

/*
 * Operations. err is filled with a one-line reason on failure
 * ("no such VIP 10.0.0.1:80/tcp", "real 10.1.0.2 already in VIP ...").
 */
int xlb_vip_add(struct xlb_agent *agent, const struct xlb_service *svc,
		enum xlb_hash_mode hash, uint32_t table_size, char *err,
		size_t errlen);
int xlb_vip_del(struct xlb_agent *agent, const struct xlb_service *svc,
		char *err, size_t errlen);
/*
 * Forwarding mode and MSS clamp of a VIP (a new VIP is tunnel, no clamp).
 * FULLNAT needs every real of the VIP's family and a local address of
 * that family; a VIP that changes mode keeps its reals, its tracked
 * flows of the old mode end.
 */
int xlb_vip_set_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode mode, uint16_t mss, char *err,
		     size_t errlen);
/* A tunnel VIP's encapsulation: GUE (inside UDP) or plain IP-in-IP. */
int xlb_vip_set_encap(struct xlb_agent *agent, const struct xlb_service *svc,
		      bool gue, char *err, size_t errlen);
/* A VIP's forwarding mode, MSS clamp and encapsulation (gue or IPIP). */
int xlb_vip_get_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode *mode, uint16_t *mss, bool *gue,
		     char *err, size_t errlen);
/*
 * The FULLNAT local address pool. Removing an address that live
 * sessions use is allowed: those sessions end at once, and a late reply
 * to the address is no longer ours (passed to the kernel, pass_not_vip).
 */
int xlb_laddr_add(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen);
int xlb_laddr_del(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen);
int xlb_real_add(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, uint32_t weight, char *err,
		 size_t errlen);
int xlb_real_del(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, char *err, size_t errlen);
int xlb_real_set_weight(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, uint32_t weight, char *err,
			size_t errlen);

/*
 * A real's health as its checks see it: a real that is down leaves its
 * VIP's ring and its tracked flows are re-selected; when it comes up it
 * returns. The caller logs the transition once.
 */
int xlb_real_set_health(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, bool up);
/*
 * Draining: no new flows (no ring slots), established flows continue.
 * Undrain restores the real's share. A weight of 0 acts the same way.
 */
int xlb_real_set_drain(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real, bool drain, char *err,
		       size_t errlen);

/*
 * Health check of a VIP's reals, and a real's own override (NULL: back to
 * the VIP's). Stored here; user/health.c runs them.
 */
int xlb_vip_set_check(struct xlb_agent *agent, const struct xlb_service *svc,
		      const struct xlb_check_spec *check, char *err,
		      size_t errlen);
int xlb_real_set_check(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real,
		       const struct xlb_check_spec *check, char *err,
		       size_t errlen);

/* One real of one VIP, as the rest of the agent sees it. */
struct xlb_real_view {
	struct xlb_service svc;
	struct xlb_ip ip;
	uint32_t weight;
	uint32_t id;
	bool healthy;
	bool draining;
	struct xlb_check_spec check; /* effective: the real's or the VIP's */
};

/* Every real of every VIP; *out is malloc'd (free it), *n may be 0. */
int xlb_agent_reals(struct xlb_agent *agent, struct xlb_real_view **out,
		    size_t *n);

/* Adds what the daemon knows of a real (its checks) to its JSON view. */
typedef void (*xlb_agent_real_json_fn)(void *arg, const struct xlb_service *svc,
				       const struct xlb_ip *real, json_t *obj);
void xlb_agent_on_real_json(struct xlb_agent *agent, xlb_agent_real_json_fn fn,
			    void *arg);

/* Called after every change of VIPs, reals or checks (one hook). */
typedef void (*xlb_agent_change_fn)(struct xlb_agent *agent, void *arg);
void xlb_agent_on_change(struct xlb_agent *agent, xlb_agent_change_fn fn,
			 void *arg);
/*
 * While held, changes are not told; the release tells them once if there
 * were any. A reload holds them, so that what follows the model (checks,
 * routes, kernel settings) sees its outcome only, never a half-applied
 * file that is then rolled back.
 */
void xlb_agent_hold_changes(struct xlb_agent *agent, bool hold);

/*
 * Rebuild the model from the maps an earlier agent left pinned (ids and
 * generations kept, so tracked flows stay valid). Checks are not in the
 * maps: reconcile with the configuration afterwards.
 */
int xlb_agent_adopt(struct xlb_agent *agent, size_t *n_vips, size_t *n_reals);

struct xlb_reconcile_stats {
	size_t vips_added, vips_removed, vips_changed;
	size_t reals_added, reals_removed, reals_changed;
	size_t checks_changed;
	size_t laddrs_added, laddrs_removed; /* FULLNAT local pool */
};

/*
 * Make the running state exactly cfg (a validated configuration), doing
 * only the differences: unchanged VIPs and reals keep their ids and
 * flows; each changed VIP's ring is published once, at the end. Used at
 * start (over an empty or adopted model) and for reloads.
 */
int xlb_agent_reconcile(struct xlb_agent *agent, const struct xlb_config *cfg,
			struct xlb_reconcile_stats *st, char *err,
			size_t errlen);

/*
 * The running VIPs (with their reals' weights, drain states and checks)
 * and local pool, into cfg->vips, cfg->n_vips and cfg->nat.laddrs; the
 * rest of cfg is left as it is. cfg->vips is the caller's to free, as
 * xlb_config_free() does.
 */
int xlb_agent_running_config(struct xlb_agent *agent, struct xlb_config *cfg);

/* Node-wide data plane settings (tunnel source, gateway MAC). */
int xlb_agent_set_globals(struct xlb_agent *agent,
			  const struct xlb_config *cfg);
/*
 * Read-side views, as JSON (the shapes are documented in docs/CONTROL.md):
 * {"vips": [...]} for vip.list and {"vips": [...], "reasons": {...}} for
 * stats. The caller owns the returned reference.
 */
json_t *xlb_agent_vips_json(struct xlb_agent *agent, bool with_counters);
json_t *xlb_agent_stats_json(struct xlb_agent *agent);

/* The VIPs: up to max written to out; returns how many there are. */
size_t xlb_agent_services(struct xlb_agent *agent, struct xlb_service *out,
			  size_t max);

/* FULLNAT local addresses in the pool (both families). */
size_t xlb_agent_laddr_count(struct xlb_agent *agent);
/* The pool as it is now (lbctl laddr add/del included): up to max
 * written to out; returns how many there are. */
size_t xlb_agent_laddrs(struct xlb_agent *agent, struct xlb_ip *out,
			size_t max);
/* {"local_addresses": [{"address", "family", "sessions"}...]} */
json_t *xlb_agent_laddrs_json(struct xlb_agent *agent);
/*
 * {"sessions": [...], "total": N, "truncated": bool}: FULLNAT sessions,
 * of one VIP when vip is not NULL, at most limit of them (0: all).
 * Shape in docs/CONTROL.md.
 */
json_t *xlb_agent_sessions_json(struct xlb_agent *agent,
				const struct xlb_service *vip, size_t limit);

/* What the session sweeps did since the agent started. */
struct xlb_agent_gc_totals {
	uint64_t sweeps;
	uint64_t expired;
	uint64_t orphans;
	uint64_t last_scanned;	   /* sessions looked at by the last sweep */
	uint64_t last_duration_ns; /* how long it took */
	uint64_t last_ns;	   /* when it ran (CLOCK_MONOTONIC) */
};

/*
 * One sweep of the FULLNAT sessions (xlb_dp_nat_gc with the globals as
 * written) at now_ns (CLOCK_MONOTONIC); totals kept for the stats view.
 */
int xlb_agent_nat_gc(struct xlb_agent *agent, uint64_t now_ns,
		     struct xlb_nat_gc_stats *st);

/*
 * Cluster (docs/CLUSTER.md). Sessions cross nodes as records naming
 * addresses; these turn this node's sessions into records and a peer's
 * records into sessions here.
 *
 * A data-plane event as a record; false when its VIP or real has gone.
 */
bool xlb_agent_session_of_event(struct xlb_agent *agent,
				const struct xlb_sync_event *ev,
				uint64_t now_ns, struct xlb_session_rec *rec);
/*
 * Install a peer's session: its VIP must exist here in the same mode
 * and name the real among its own (a peer never points a flow at a real
 * this node has not configured); a FULLNAT local address must be in
 * the configured pool of a node of the cluster (laddrs): a peer's bulk
 * holds every node's sessions, this node's own from before a restart
 * too, which its allocation then steps around (the tuple is in use).
 */
enum xlb_sync_reject xlb_agent_session_import(struct xlb_agent *agent,
					      const struct xlb_ip *laddrs,
					      size_t n_laddrs,
					      const struct xlb_session_rec *r,
					      uint64_t now_ns);
/* Bulk export: up to max live sessions from *cur on (see maps.h). */
int xlb_agent_sessions_export(struct xlb_agent *agent,
			      struct xlb_dp_cursor *cur,
			      struct xlb_session_rec *recs, size_t max,
			      bool *done, uint64_t now_ns);
/*
 * The FULLNAT sessions of this node's own pool seen since since_ns, as
 * records, to fn: what a refresh sends the peers again (their copies age
 * from when they were sent). Returns how many, or -errno.
 */
typedef void (*xlb_agent_rec_fn)(const struct xlb_session_rec *rec, void *arg);
int xlb_agent_sessions_refresh(struct xlb_agent *agent, uint64_t since_ns,
			       uint64_t now_ns, xlb_agent_rec_fn fn, void *arg);
/*
 * The peers' local pools: replies to them are translated here too (once
 * a dead peer's routes move them to this node). Replaces the last set.
 */
#define XLB_PEER_LADDRS_MAX (XLB_MAX_NODES * XLB_NAT_MAX_LADDRS_TOTAL)
int xlb_agent_set_peer_laddrs(struct xlb_agent *agent, const struct xlb_ip *ips,
			      size_t n, char *err, size_t errlen);

#endif /* XLB_AGENT_H */
