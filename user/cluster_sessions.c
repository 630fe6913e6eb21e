// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cluster (docs/CLUSTER.md): this node's sessions as records naming
 * addresses, a peer's records as sessions here, and the peers' local
 * pools.
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

/* --- Cluster: sessions as nodes exchange them (docs/CLUSTER.md) --- */

/* The real of a VIP with this id and generation, or NULL. */
static struct real_ent *real_by_id(struct vip_ent *vip, uint32_t id,
				   uint32_t gen)
{
	size_t i;

	for (i = 0; i < vip->n_reals; i++)
		if (vip->reals[i].id == id && vip->reals[i].gen == gen)
			return &vip->reals[i];
	return NULL;
}

/*
 * A session of ours as a record: false when its ids no longer name a
 * VIP of that mode and one of its reals (the session is dead anyway).
 */
static bool rec_of(struct xlb_agent *agent, const struct xlb_flow_key *k,
		   uint32_t real_id, uint32_t real_gen,
		   const struct xlb_nat_fwd *nat, uint64_t now,
		   struct xlb_session_rec *r)
{
	struct vip_ent *vip;
	struct real_ent *re;

	if (k->vip_id >= agent->max_vips || !agent->vips[k->vip_id].used)
		return false;
	vip = &agent->vips[k->vip_id];
	if ((vip->mode == XLB_MODE_FULLNAT) != (nat != NULL))
		return false;
	re = real_by_id(vip, real_id, real_gen);
	if (!re)
		return false;
	memset(r, 0, sizeof(*r));
	r->mode = vip->mode;
	r->vip = vip->svc;
	r->client.family = k->family;
	r->client.a = k->saddr;
	r->cport = ntohs(k->sport);
	r->dport = ntohs(k->dport);
	r->real = re->ip;
	if (nat) {
		r->laddr.family = k->family;
		r->laddr.a = nat->laddr;
		r->lport = ntohs(nat->lport);
		r->state = nat->state;
		r->age_ms = now > nat->last_seen
				    ? (uint32_t)((now - nat->last_seen) /
						 1000000ull)
				    : 0;
	}
	return true;
}

bool xlb_agent_session_of_event(struct xlb_agent *agent,
				const struct xlb_sync_event *ev,
				uint64_t now_ns, struct xlb_session_rec *rec)
{
	struct xlb_nat_fwd f = {0};

	if (ev->kind == XLB_SYNC_EV_TUNNEL)
		return rec_of(agent, &ev->flow, ev->real_id, ev->real_gen, NULL,
			      now_ns, rec);
	if (ev->kind != XLB_SYNC_EV_NAT)
		return false;
	f.laddr = ev->laddr;
	f.lport = ev->lport;
	f.state = ev->state;
	f.last_seen = now_ns;
	return rec_of(agent, &ev->flow, ev->real_id, ev->real_gen, &f, now_ns,
		      rec);
}

enum xlb_sync_reject xlb_agent_session_import(struct xlb_agent *agent,
					      const struct xlb_ip *laddrs,
					      size_t n_laddrs,
					      const struct xlb_session_rec *r,
					      uint64_t now_ns)
{
	struct xlb_flow_key key = {0};
	enum xlb_dp_install res;
	struct vip_ent *vip;
	struct real_ent *re;
	uint32_t vip_id;
	size_t i;
	int ret;

	vip = agent_find_vip(agent, &r->vip, &vip_id);
	if (!vip || vip->mode != r->mode ||
	    r->client.family != vip->svc.ip.family ||
	    (vip->svc.port && vip->svc.port != r->dport))
		return XLB_SYNC_REJ_UNKNOWN_VIP;
	re = agent_find_real(vip, &r->real);
	if (!re)
		return XLB_SYNC_REJ_UNKNOWN_REAL;
	key.saddr = r->client.a;
	key.vip_id = vip_id;
	key.sport = htons(r->cport);
	key.dport = htons(r->dport);
	key.proto = vip->svc.proto;
	key.family = (uint8_t)r->client.family;
	if (r->mode == XLB_MODE_TUNNEL) {
		/* The event carries no TCP state: an established flow. */
		struct xlb_ct_entry e = {.v = xlb_ct_pack(re->id, re->gen,
							  XLB_CT_S_EST,
							  xlb_ct_tick(now_ns))};

		ret = xlb_dp_ct_install(agent->dp, &key, &e, &res);
	} else {
		struct xlb_nat_fwd f = {0};
		struct xlb_nat_key rk = {0};
		struct xlb_nat_rev rv = {0};

		for (i = 0; i < n_laddrs; i++)
			if (xlb_ip_equal(&laddrs[i], &r->laddr))
				break;
		if (i == n_laddrs || r->laddr.family != key.family ||
		    re->ip.family != key.family || !r->lport)
			return XLB_SYNC_REJ_BAD_LADDR;
		f.laddr = r->laddr.a;
		f.lport = htons(r->lport);
		f.state = r->state;
		f.real_id = re->id;
		f.real_gen = re->gen;
		f.cpu = UINT32_MAX;
		f.last_seen = now_ns - (uint64_t)r->age_ms * 1000000ull;
		rk.raddr = re->ip.a;
		rk.laddr = r->laddr.a;
		rk.rport = key.dport;
		rk.lport = f.lport;
		rk.proto = key.proto;
		rk.family = key.family;
		rv.flow = key;
		rv.mss = vip->mss;
		rv.vaddr = vip->svc.ip.a;
		ret = xlb_dp_nat_install(agent->dp, &agent->g, now_ns, &key, &f,
					 &rk, &rv, &res);
	}
	if (ret)
		return XLB_SYNC_REJ_INTERNAL;
	return res == XLB_DP_KEPT ? XLB_SYNC_REJ_CONFLICT : XLB_SYNC_OK;
}

struct export_ctx {
	struct xlb_agent *agent;
	struct xlb_session_rec *recs;
	size_t n, max;
	uint64_t now;
};

static void export_one(const struct xlb_flow_key *k,
		       const struct xlb_ct_entry *ct,
		       const struct xlb_nat_fwd *nat, void *arg)
{
	struct export_ctx *c = arg;
	struct real_ent *re;

	if (c->n == c->max)
		return;
	re = ct ? agent_ct_real(c->agent, k, ct->v, c->now) : NULL;
	if (re &&
	    rec_of(c->agent, k, re->id, re->gen, NULL, c->now, &c->recs[c->n]))
		c->n++;
	else if (nat && !agent_nat_idle(c->agent, k, nat, c->now) &&
		 rec_of(c->agent, k, nat->real_id, nat->real_gen, nat, c->now,
			&c->recs[c->n]))
		c->n++;
}

int xlb_agent_sessions_export(struct xlb_agent *agent,
			      struct xlb_dp_cursor *cur,
			      struct xlb_session_rec *recs, size_t max,
			      bool *done, uint64_t now_ns)
{
	struct export_ctx c = {
		.agent = agent, .recs = recs, .max = max, .now = now_ns};
	int ret;

	*done = false;
	/* Entries that are no longer valid are skipped: walk on until the
	 * batch is full or the tables end. */
	while (c.n < max && !*done) {
		ret = xlb_dp_sessions_walk(agent->dp, cur, max - c.n,
					   export_one, &c, done);
		if (ret < 0)
			return ret;
	}
	return (int)c.n;
}

struct refresh_ctx {
	struct xlb_agent *agent;
	uint64_t since, now;
	xlb_agent_rec_fn fn;
	void *arg;
	int n;
};

static void refresh_one(const struct xlb_flow_key *k,
			const struct xlb_nat_fwd *e, void *arg)
{
	struct refresh_ctx *c = arg;
	struct xlb_session_rec rec;
	struct xlb_ip laddr = {.family = k->family, .a = e->laddr};

	if (e->last_seen < c->since || agent_laddr_find(c->agent, &laddr) < 0)
		return;
	if (rec_of(c->agent, k, e->real_id, e->real_gen, e, c->now, &rec)) {
		c->fn(&rec, c->arg);
		c->n++;
	}
}

int xlb_agent_sessions_refresh(struct xlb_agent *agent, uint64_t since_ns,
			       uint64_t now_ns, xlb_agent_rec_fn fn, void *arg)
{
	struct refresh_ctx c = {.agent = agent,
				.since = since_ns,
				.now = now_ns,
				.fn = fn,
				.arg = arg};
	int ret = xlb_dp_nat_foreach(agent->dp, refresh_one, &c);

	return ret ? ret : c.n;
}

int xlb_agent_set_peer_laddrs(struct xlb_agent *agent, const struct xlb_ip *ips,
			      size_t n, char *err, size_t errlen)
{
	char buf[XLB_IP_STRLEN];
	struct xlb_vip_addr_key key;
	size_t i, j;
	int ret;

	for (i = 0; i < n; i++) {
		if (agent_laddr_find(agent, &ips[i]) >= 0 ||
		    agent_vip_on_addr(agent, &ips[i]))
			return xlb_errf(err, errlen, -EEXIST,
					"peer local address %s is this "
					"node's own or a VIP's",
					xlb_ip_str(&ips[i], buf, sizeof(buf)));
	}
	/* Replies to a peer's pool are ours to translate once the peer's
	 * routes are gone; addresses no longer listed stop being ours. */
	for (i = 0; i < n; i++) {
		agent_addr_key_of(&ips[i], &key);
		ret = xlb_dp_local_addr_set(agent->dp, &key, true);
		if (ret)
			return xlb_errf(err, errlen, ret,
					"marking peer local address %s: %s",
					xlb_ip_str(&ips[i], buf, sizeof(buf)),
					strerror(-ret));
	}
	for (j = 0; j < agent->n_peer_laddrs; j++) {
		for (i = 0; i < n; i++)
			if (xlb_ip_equal(&ips[i], &agent->peer_laddrs[j]))
				break;
		if (i < n)
			continue;
		agent_addr_key_of(&agent->peer_laddrs[j], &key);
		xlb_dp_local_addr_set(agent->dp, &key, false);
	}
	n = n < XLB_PEER_LADDRS_MAX ? n : XLB_PEER_LADDRS_MAX;
	memcpy(agent->peer_laddrs, ips, n * sizeof(*ips));
	agent->n_peer_laddrs = n;
	return 0;
}
