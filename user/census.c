// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Who uses which real: the live tracked flows and FULLNAT sessions of
 * each real and each local address, counted from the maps for the views.
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

/*
 * The real a live conntrack entry names (the entry keeps only the low
 * bits of its generation), or NULL: expired, or no such real.
 */
struct real_ent *agent_ct_real(struct xlb_agent *agent,
			       const struct xlb_flow_key *k, uint64_t v,
			       uint64_t now)
{
	struct vip_ent *vip;
	size_t i;

	if (k->vip_id >= agent->max_vips || !agent->vips[k->vip_id].used ||
	    xlb_ct_expired(&agent->g, k->proto, v, xlb_ct_tick(now)))
		return NULL;
	vip = &agent->vips[k->vip_id];
	for (i = 0; i < vip->n_reals; i++)
		if (vip->reals[i].id == xlb_ct_real_id(v) &&
		    xlb_ct_gen_is(v, vip->reals[i].gen))
			return &vip->reals[i];
	return NULL;
}

static void census_one(const struct xlb_flow_key *key,
		       const struct xlb_ct_entry *e, void *arg)
{
	struct ct_census *c = arg;
	uint32_t id = xlb_ct_real_id(e->v);

	c->ct_entries++;
	if (xlb_ct_expired(&c->agent->g, key->proto, e->v, c->tick))
		return;
	if (id < c->agent->max_reals && c->gen[id] &&
	    xlb_ct_gen_is(e->v, c->gen[id])) {
		c->ct_live++;
		c->count[id]++;
		c->active[id] += xlb_ct_active(key->proto, e->v);
	}
}

/* Idle for longer than its timeout (as maps.c's sweep decides)? */
bool agent_nat_idle(const struct xlb_agent *agent, const struct xlb_flow_key *k,
		    const struct xlb_nat_fwd *e, uint64_t now)
{
	uint64_t t = xlb_nat_timeout(&agent->g, k->proto, e->state);

	return t && now > e->last_seen &&
	       now - e->last_seen > t * 1000000000ull;
}

static void nat_census_one(const struct xlb_flow_key *key,
			   const struct xlb_nat_fwd *e, void *arg)
{
	struct ct_census *c = arg;
	int fi = agent_fam_idx(key->family);
	uint32_t i;

	c->nat_entries++;
	if (agent_nat_idle(c->agent, key, e, c->now))
		return;
	c->nat_live++;
	if (e->real_id < c->agent->max_reals && c->gen[e->real_id] &&
	    c->gen[e->real_id] == e->real_gen) {
		c->count[e->real_id]++;
		c->active[e->real_id] += xlb_nat_active(key->proto, e->state);
	}
	for (i = 0; i < c->agent->n_laddrs[fi]; i++)
		if (!memcmp(&c->agent->laddrs[fi][i].a, &e->laddr,
			    sizeof(e->laddr)))
			c->nat_laddr[fi][i]++;
}

/*
 * Tracked flows by real id: conntrack entries (summed over every CPU)
 * and FULLNAT sessions that still name a live real of the same
 * generation and are not idle past their state's timeout; of them, the
 * established ones (ActiveConn as ipvsadm shows it; the rest are
 * InActConn).
 */
struct ct_census *agent_census_take(struct xlb_agent *agent)
{
	struct ct_census *c = calloc(1, sizeof(*c));
	uint32_t id;
	size_t i;

	if (!c)
		return NULL;
	c->agent = agent;
	c->now = agent_now_ns();
	c->tick = xlb_ct_tick(c->now);
	c->gen = calloc(agent->max_reals, sizeof(*c->gen));
	c->count = calloc(agent->max_reals, sizeof(*c->count));
	c->active = calloc(agent->max_reals, sizeof(*c->active));
	if (!c->gen || !c->count || !c->active)
		goto fail;
	for (id = 0; id < agent->max_vips; id++)
		for (i = 0; agent->vips[id].used && i < agent->vips[id].n_reals;
		     i++)
			c->gen[agent->vips[id].reals[i].id] =
				agent->vips[id].reals[i].gen;
	if (xlb_dp_ct_foreach(agent->dp, census_one, c) ||
	    xlb_dp_nat_foreach(agent->dp, nat_census_one, c))
		goto fail;
	return c;
fail:
	free(c->gen);
	free(c->count);
	free(c->active);
	free(c);
	return NULL;
}

void agent_census_free(struct ct_census *c)
{
	if (!c)
		return;
	free(c->gen);
	free(c->count);
	free(c->active);
	free(c);
}
