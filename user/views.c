// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The model's JSON views (shapes in docs/CONTROL.md): vip.list, stats,
 * laddr.list, sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "log.h"
#include "maglev.h"
#include "state.h"
#include "xlb_conn.h"

/* Counters as JSON members of obj. */
static void counters_json(json_t *obj, const struct xlb_counters *c)
{
	json_object_set_new(obj, "packets", json_integer(c->packets));
	json_object_set_new(obj, "bytes", json_integer(c->bytes));
	json_object_set_new(obj, "new_flows", json_integer(c->new_flows));
	json_object_set_new(obj, "reply_packets",
			    json_integer(c->reply_packets));
	json_object_set_new(obj, "reply_bytes", json_integer(c->reply_bytes));
}

static json_t *real_json(struct xlb_agent *agent, const struct xlb_service *svc,
			 const struct real_ent *r, bool with_counters,
			 const struct ct_census *census)
{
	char buf[XLB_IP_STRLEN];
	struct xlb_counters c;
	json_t *o = json_object();

	json_object_set_new(o, "address",
			    json_string(xlb_ip_str(&r->ip, buf, sizeof(buf))));
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "weight", json_integer(r->weight));
	json_object_set_new(o, "state",
			    json_string(r->down	      ? "down"
					: r->draining ? "draining"
						      : "up"));
	if (with_counters && !xlb_dp_real_counters(agent->dp, r->id, &c))
		counters_json(o, &c);
	if (census) {
		json_object_set_new(o, "sessions",
				    json_integer(census->count[r->id]));
		json_object_set_new(o, "active_conns",
				    json_integer(census->active[r->id]));
		json_object_set_new(o, "inactive_conns",
				    json_integer(census->count[r->id] -
						 census->active[r->id]));
	}
	if (agent->on_real_json)
		agent->on_real_json(agent->on_real_json_arg, svc, &r->ip, o);
	return o;
}

static json_t *vips_json(struct xlb_agent *agent, bool with_counters,
			 const struct ct_census *census)
{
	char buf[XLB_SERVICE_STRLEN];
	json_t *vips = json_array(), *o, *reals;
	struct xlb_counters c;
	struct vip_ent *vip;
	size_t i, healthy;
	uint64_t vip_sessions, vip_active;
	uint32_t id;

	for (id = 0; id < agent->max_vips; id++) {
		vip = &agent->vips[id];
		if (!vip->used)
			continue;
		o = json_object();
		json_object_set_new(o, "vip",
				    json_string(xlb_service_str(&vip->svc, buf,
								sizeof(buf))));
		json_object_set_new(o, "id", json_integer(id));
		json_object_set_new(o, "hash",
				    json_string(xlb_hash_mode_str(vip->hash)));
		json_object_set_new(o, "mode",
				    json_string(xlb_fwd_mode_str(vip->mode)));
		json_object_set_new(o, "mss", json_integer(vip->mss));
		json_object_set_new(o, "encap",
				    json_string(vip->gue ? "gue" : "ipip"));
		json_object_set_new(o, "table_size",
				    json_integer(vip->table_size));
		if (with_counters && !xlb_dp_vip_counters(agent->dp, id, &c))
			counters_json(o, &c);
		reals = json_array();
		healthy = 0;
		vip_sessions = vip_active = 0;
		for (i = 0; i < vip->n_reals; i++) {
			const struct real_ent *r = &vip->reals[i];

			/* Takes new flows: up, not draining, weight > 0. */
			healthy += !r->down && !r->draining && r->weight;
			if (census) {
				vip_sessions += census->count[r->id];
				vip_active += census->active[r->id];
			}
			json_array_append_new(reals,
					      real_json(agent, &vip->svc, r,
							with_counters, census));
		}
		/* "down": nothing can take a new flow; the cluster work
		 * withdraws such a VIP's route. */
		json_object_set_new(o, "state",
				    json_string(healthy ? "up" : "down"));
		json_object_set_new(o, "healthy_reals", json_integer(healthy));
		if (census) {
			json_object_set_new(o, "sessions",
					    json_integer(vip_sessions));
			json_object_set_new(o, "active_conns",
					    json_integer(vip_active));
			json_object_set_new(
				o, "inactive_conns",
				json_integer(vip_sessions - vip_active));
		}
		json_object_set_new(o, "reals", reals);
		json_array_append_new(vips, o);
	}
	o = json_object();
	json_object_set_new(o, "vips", vips);
	return o;
}

json_t *xlb_agent_vips_json(struct xlb_agent *agent, bool with_counters)
{
	struct ct_census *c = with_counters ? agent_census_take(agent) : NULL;
	json_t *o = vips_json(agent, with_counters, c);

	agent_census_free(c);
	return o;
}

/* [{"address", "family", "sessions"}...] of the pool, in slot order. */
static json_t *laddrs_json(struct xlb_agent *agent,
			   const struct ct_census *census)
{
	char buf[XLB_IP_STRLEN];
	json_t *arr = json_array(), *o;
	uint32_t fi, i;

	for (fi = 0; fi < 2; fi++) {
		for (i = 0; i < agent->n_laddrs[fi]; i++) {
			o = json_object();
			json_object_set_new(
				o, "address",
				json_string(xlb_ip_str(&agent->laddrs[fi][i],
						       buf, sizeof(buf))));
			json_object_set_new(o, "family",
					    json_string(fi ? "ipv6" : "ipv4"));
			if (census)
				json_object_set_new(
					o, "sessions",
					json_integer(census->nat_laddr[fi][i]));
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

json_t *xlb_agent_laddrs_json(struct xlb_agent *agent)
{
	struct ct_census *c = agent_census_take(agent);
	json_t *o = json_object();

	json_object_set_new(o, "local_addresses", laddrs_json(agent, c));
	agent_census_free(c);
	return o;
}

/* The "fullnat" member of stats (docs/CONTROL.md). */
static json_t *fullnat_json(struct xlb_agent *agent,
			    const struct ct_census *census)
{
	const struct xlb_agent_gc_totals *gc = &agent->gc;
	const struct xlb_globals *g = &agent->g;
	uint32_t ncpus = (uint32_t)xlb_dp_ncpus(agent->dp);
	json_t *o = json_object(), *j;

	json_object_set_new(o, "sessions",
			    json_integer(census ? census->nat_live : 0));
	json_object_set_new(o, "entries",
			    json_integer(census ? census->nat_entries : 0));
	json_object_set_new(o, "table_size",
			    json_integer(xlb_dp_nat_sessions(agent->dp)));
	json_object_set_new(o, "local_addresses", laddrs_json(agent, census));
	json_object_set_new(o, "port_min", json_integer(g->nat_port_min));
	json_object_set_new(
		o, "port_max",
		json_integer(g->nat_port_span
				     ? g->nat_port_min +
					       g->nat_port_span * ncpus - 1
				     : 0));
	json_object_set_new(o, "ports_per_cpu", json_integer(g->nat_port_span));
	json_object_set_new(o, "cpus", json_integer(ncpus));
	j = json_object();
	json_object_set_new(j, "tcp", json_integer(g->nat_tcp_s));
	json_object_set_new(j, "tcp_syn", json_integer(g->nat_tcp_syn_s));
	json_object_set_new(j, "tcp_closing",
			    json_integer(g->nat_tcp_closing_s));
	json_object_set_new(j, "udp", json_integer(g->nat_udp_s));
	json_object_set_new(o, "timeouts", j);
	j = json_object();
	json_object_set_new(j, "sweeps", json_integer(gc->sweeps));
	json_object_set_new(j, "expired", json_integer(gc->expired));
	json_object_set_new(j, "orphans", json_integer(gc->orphans));
	json_object_set_new(j, "last_scanned", json_integer(gc->last_scanned));
	json_object_set_new(j, "last_duration_seconds",
			    json_real(gc->last_duration_ns / 1e9));
	json_object_set_new(
		j, "last_age_seconds",
		gc->sweeps ? json_real((double)(agent_now_ns() - gc->last_ns) /
				       1e9)
			   : json_null());
	json_object_set_new(o, "gc", j);
	return o;
}

/* A session's state as lbctl sessions shows it. */
static const char *nat_state_str(uint8_t proto, uint8_t st)
{
	const uint8_t fins = XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL;

	if (proto != IPPROTO_TCP)
		return st & XLB_NAT_S_REPLIED ? "replied" : "unreplied";
	if (st & XLB_NAT_S_RST)
		return "reset";
	if ((st & fins) == fins)
		return "closing";
	if (st & fins)
		return "fin_wait";
	return st & XLB_NAT_S_REPLIED ? "established" : "syn_sent";
}

/* "10.0.0.1:80" or "[2001:db8::1]:80". */
static const char *ep_str(int family, const struct xlb_addr *a, __be16 port,
			  char *buf, size_t len)
{
	struct xlb_ip ip = {.family = family, .a = *a};
	char ab[XLB_IP_STRLEN];

	xlb_ip_str(&ip, ab, sizeof(ab));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ab,
		 ntohs(port));
	return buf;
}

struct sessions_ctx {
	struct xlb_agent *agent;
	int64_t vip_id; /* only this VIP's, or -1 */
	size_t limit;
	size_t total;
	uint64_t now;
	uint32_t cpu; /* whose conntrack table is walked */
	json_t *arr;
};

/* A tunnel flow's state as lbctl sessions shows it (seen from the
 * client: the replies do not pass the balancer). */
static const char *ct_state_str(uint8_t proto, uint64_t v)
{
	static const char *const tcp[] = {
		[XLB_CT_S_NEW] = "syn_recv",
		[XLB_CT_S_EST] = "established",
		[XLB_CT_S_FIN] = "fin_wait",
		[XLB_CT_S_RST] = "reset",
	};

	if (proto != IPPROTO_TCP)
		return "udp";
	return tcp[xlb_ct_state(v)];
}

/* A tunnel-mode flow of one CPU's table, unless idle past its timeout
 * (then the data plane no longer uses it). */
static void ct_session_one(const struct xlb_flow_key *k,
			   const struct xlb_ct_entry *e, void *arg)
{
	struct sessions_ctx *c = arg;
	char buf[XLB_SERVICE_STRLEN];
	uint32_t tick = xlb_ct_tick(c->now);
	struct vip_ent *vip;
	struct real_ent *re;
	json_t *o;

	if (c->vip_id >= 0 && k->vip_id != (uint32_t)c->vip_id)
		return;
	re = agent_ct_real(c->agent, k, e->v, c->now);
	if (!re)
		return;
	c->total++;
	if (c->limit && json_array_size(c->arr) >= c->limit)
		return;
	vip = &c->agent->vips[k->vip_id];
	o = json_object();
	json_object_set_new(o, "mode", json_string("tunnel"));
	json_object_set_new(o, "proto", json_string(xlb_proto_str(k->proto)));
	json_object_set_new(o, "client",
			    json_string(ep_str(k->family, &k->saddr, k->sport,
					       buf, sizeof(buf))));
	json_object_set_new(o, "vip",
			    json_string(ep_str(k->family, &vip->svc.ip.a,
					       k->dport, buf, sizeof(buf))));
	json_object_set_new(o, "local", json_null());
	json_object_set_new(o, "real",
			    json_string(ep_str(re->ip.family, &re->ip.a,
					       k->dport, buf, sizeof(buf))));
	json_object_set_new(o, "state",
			    json_string(ct_state_str(k->proto, e->v)));
	json_object_set_new(
		o, "idle_seconds",
		json_integer(
			(json_int_t)(((uint64_t)xlb_ct_idle_ticks(e->v, tick)
				      << XLB_CT_TICK_NS_SHIFT) /
				     1000000000ull)));
	json_object_set_new(o, "cpu", json_integer(c->cpu));
	json_array_append_new(c->arr, o);
}

static void session_one(const struct xlb_flow_key *k,
			const struct xlb_nat_fwd *e, void *arg)
{
	struct sessions_ctx *c = arg;
	char buf[XLB_SERVICE_STRLEN];
	struct xlb_real r;
	struct vip_ent *vip;
	json_t *o;

	if (c->vip_id >= 0 && k->vip_id != (uint32_t)c->vip_id)
		return;
	c->total++;
	if (c->limit && json_array_size(c->arr) >= c->limit)
		return;
	vip = k->vip_id < c->agent->max_vips && c->agent->vips[k->vip_id].used
		      ? &c->agent->vips[k->vip_id]
		      : NULL;
	o = json_object();
	json_object_set_new(o, "mode", json_string("fullnat"));
	json_object_set_new(o, "proto", json_string(xlb_proto_str(k->proto)));
	json_object_set_new(o, "client",
			    json_string(ep_str(k->family, &k->saddr, k->sport,
					       buf, sizeof(buf))));
	json_object_set_new(
		o, "vip",
		vip ? json_string(ep_str(k->family, &vip->svc.ip.a, k->dport,
					 buf, sizeof(buf)))
		    : json_null());
	json_object_set_new(o, "local",
			    json_string(ep_str(k->family, &e->laddr, e->lport,
					       buf, sizeof(buf))));
	if (!xlb_dp_real_get(c->agent->dp, e->real_id, &r) && r.family &&
	    r.gen == e->real_gen)
		json_object_set_new(
			o, "real",
			json_string(ep_str(r.family, &r.addr, k->dport, buf,
					   sizeof(buf))));
	else
		json_object_set_new(o, "real", json_null());
	json_object_set_new(o, "state",
			    json_string(nat_state_str(k->proto, e->state)));
	json_object_set_new(
		o, "idle_seconds",
		json_integer(c->now > e->last_seen
				     ? (json_int_t)((c->now - e->last_seen) /
						    1000000000ull)
				     : 0));
	/* A peer's session has no CPU of ours. */
	json_object_set_new(o, "cpu",
			    e->cpu == UINT32_MAX ? json_string("peer")
						 : json_integer(e->cpu));
	json_array_append_new(c->arr, o);
}

json_t *xlb_agent_sessions_json(struct xlb_agent *agent,
				const struct xlb_service *vip, size_t limit)
{
	struct sessions_ctx c = {
		.agent = agent,
		.vip_id = -1,
		.limit = limit,
		.now = agent_now_ns(),
	};
	uint32_t id;
	json_t *o;

	if (vip) {
		if (!agent_find_vip(agent, vip, &id))
			return NULL;
		c.vip_id = id;
	}
	c.arr = json_array();
	for (c.cpu = 0; c.cpu < (uint32_t)xlb_dp_ncpus(agent->dp); c.cpu++)
		if (xlb_dp_ct_foreach_cpu(agent->dp, c.cpu, ct_session_one, &c))
			goto fail;
	if (xlb_dp_nat_foreach(agent->dp, session_one, &c))
		goto fail;
	o = json_object();
	json_object_set_new(o, "sessions", c.arr);
	json_object_set_new(o, "total", json_integer(c.total));
	json_object_set_new(o, "truncated",
			    json_boolean(json_array_size(c.arr) < c.total));
	return o;

fail:
	json_decref(c.arr);
	return NULL;
}

json_t *xlb_agent_stats_json(struct xlb_agent *agent)
{
	struct ct_census *census = agent_census_take(agent);
	uint64_t reasons[XLB_R_MAX], skipped;
	json_t *o = vips_json(agent, true, census), *r = json_object();
	int i;

	json_object_set_new(o, "fullnat", fullnat_json(agent, census));
	agent_census_free(census);

	if (!xlb_dp_reasons(agent->dp, reasons))
		for (i = 0; i < XLB_R_MAX; i++)
			json_object_set_new(r, xlb_reason_names[i],
					    json_integer(reasons[i]));
	json_object_set_new(o, "reasons", r);
	if (!xlb_dp_guard_skipped(agent->dp, &skipped))
		json_object_set_new(o, "flood_guard_skipped",
				    json_integer((json_int_t)skipped));
	if (!xlb_dp_nexthop_fallbacks(agent->dp, &skipped))
		json_object_set_new(o, "nexthop_fallbacks",
				    json_integer((json_int_t)skipped));
	if (!xlb_dp_nexthop_stat(agent->dp, XLB_NH_ST_REPLY_LOOKUP, &skipped))
		json_object_set_new(o, "nexthop_reply_lookups",
				    json_integer((json_int_t)skipped));
	if (!xlb_dp_fc_fills(agent->dp, &skipped))
		json_object_set_new(o, "flow_cache_fills",
				    json_integer((json_int_t)skipped));
	r = json_object();
	json_object_set_new(r, "rebuilds", json_integer(agent->ring_builds));
	json_object_set_new(r, "rebuild_seconds",
			    json_real(agent->ring_build_ns / 1e9));
	json_object_set_new(o, "rings", r);
	return o;
}
