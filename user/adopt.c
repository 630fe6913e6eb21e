// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rebuild the model from the maps an earlier agent left pinned: ids and
 * generations kept, so that the flows it tracks stay valid.
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

struct adopt_ctx {
	struct xlb_agent *agent;
	size_t n_vips;
};

/* One VIP found in the vips map. */
static int adopt_vip(const struct xlb_vip_key *key,
		     const struct xlb_vip_meta *meta, void *arg)
{
	struct adopt_ctx *ctx = arg;
	struct xlb_agent *agent = ctx->agent;
	struct vip_ent *vip;
	uint32_t m;

	if (meta->vip_id >= agent->max_vips)
		return 0;
	vip = &agent->vips[meta->vip_id];
	memset(vip, 0, sizeof(*vip));
	vip->used = true;
	vip->svc.ip.family = key->family;
	vip->svc.ip.a = key->addr;
	vip->svc.port = ntohs(key->port);
	vip->svc.proto = key->proto;
	vip->hash = meta->flags & XLB_VIP_F_SRC_HASH ? XLB_HASH_SOURCE_IP
						     : XLB_HASH_MAGLEV;
	vip->mode = meta->flags & XLB_VIP_F_FULLNAT ? XLB_MODE_FULLNAT
						    : XLB_MODE_TUNNEL;
	vip->mss = meta->mss;
	vip->gue = meta->flags & XLB_VIP_F_GUE;
	vip->table_size = xlb_dp_ring_size(agent->dp, meta->vip_id, &m)
				  ? XLB_RING_SIZE_DEFAULT
				  : m;
	ctx->n_vips++;
	return 0;
}

/* The local pool an earlier agent left: the globals' sizes, the slots. */
static int adopt_pool(struct xlb_agent *agent)
{
	struct xlb_addr a;
	uint32_t fi, i, n;
	int ret;

	ret = xlb_dp_get_globals(agent->dp, &agent->g);
	if (ret)
		return ret;
	for (fi = 0; fi < 2; fi++) {
		n = agent->g.nat_laddrs[fi];
		if (n > XLB_NAT_MAX_LADDRS)
			n = XLB_NAT_MAX_LADDRS;
		agent->n_laddrs[fi] = 0;
		for (i = 0; i < n; i++) {
			ret = xlb_dp_nat_laddr_get(
				agent->dp, fi ? AF_INET6 : AF_INET, i, &a);
			if (ret)
				return ret;
			agent->laddrs[fi][i].family = fi ? AF_INET6 : AF_INET;
			agent->laddrs[fi][i].a = a;
			agent->n_laddrs[fi]++;
		}
	}
	return 0;
}

int xlb_agent_adopt(struct xlb_agent *agent, size_t *n_vips, size_t *n_reals)
{
	struct adopt_ctx ctx = {.agent = agent};
	struct real_ent *ent;
	struct vip_ent *vip;
	struct xlb_real r;
	size_t count = 0;
	uint32_t id;
	int ret;

	ret = xlb_dp_vips_dump(agent->dp, adopt_vip, &ctx);
	if (ret)
		return ret;
	for (id = 1; id < agent->max_reals; id++) {
		if (xlb_dp_real_get(agent->dp, id, &r) || !r.family)
			continue;
		vip = r.vip_id < agent->max_vips ? &agent->vips[r.vip_id]
						 : NULL;
		if (!vip || !vip->used) {
			agent_release_real(agent, id);
			continue;
		}
		if (vip->n_reals == vip->cap) {
			size_t cap = vip->cap ? vip->cap * 2 : 8;
			struct real_ent *n =
				realloc(vip->reals, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			vip->reals = n;
			vip->cap = cap;
		}
		ent = &vip->reals[vip->n_reals++];
		memset(ent, 0, sizeof(*ent));
		ent->ip.family = r.family;
		ent->ip.a = r.addr;
		ent->weight = r.weight;
		ent->id = id;
		/* Same generation: the flows tracked for it stay valid. */
		ent->gen = r.gen;
		ent->down = r.admin & XLB_REAL_A_DOWN;
		ent->draining = r.admin & XLB_REAL_A_DRAINING;
		agent->real_used[id] = 1;
		if (r.gen > agent->next_gen)
			agent->next_gen = r.gen;
		count++;
	}
	*n_vips = ctx.n_vips;
	*n_reals = count;
	return adopt_pool(agent);
}
