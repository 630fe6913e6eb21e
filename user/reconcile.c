// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Make the model exactly what a validated configuration says, doing only
 * the differences (start-up, reload); and the running model as a
 * configuration (config.dump, a reload's way back).
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

static int vip_update(struct xlb_agent *agent, uint32_t vip_id,
		      enum xlb_hash_mode hash, uint32_t table_size)
{
	struct vip_ent *vip = &agent->vips[vip_id];
	int ret;

	vip->hash = hash;
	vip->table_size = table_size;
	ret = agent_publish_ring(agent, vip_id);
	if (ret)
		return ret;
	return agent_vip_put(agent, vip, vip_id);
}

static const struct xlb_vip_spec *cfg_vip(const struct xlb_config *cfg,
					  const struct xlb_service *svc)
{
	size_t i;

	for (i = 0; i < cfg->n_vips; i++)
		if (xlb_service_equal(&cfg->vips[i].svc, svc))
			return &cfg->vips[i];
	return NULL;
}

static const struct xlb_real_spec *spec_real(const struct xlb_vip_spec *v,
					     const struct xlb_ip *ip)
{
	size_t i;

	for (i = 0; i < v->n_reals; i++)
		if (xlb_ip_equal(&v->reals[i].ip, ip))
			return &v->reals[i];
	return NULL;
}

/* Would cfg fit in the maps once the running state is replaced by it? */
static int check_capacity(struct xlb_agent *agent, const struct xlb_config *cfg,
			  char *err, size_t errlen)
{
	size_t reals = 0, i;

	if (cfg->n_vips > agent->max_vips)
		return xlb_errf(err, errlen, -ENOSPC,
				"%zu VIPs do not fit the %u VIP slots",
				cfg->n_vips, agent->max_vips);
	for (i = 0; i < cfg->n_vips; i++)
		reals += cfg->vips[i].n_reals;
	if (reals > agent->max_reals - 1)
		return xlb_errf(err, errlen, -ENOSPC,
				"%zu reals do not fit the %u real slots", reals,
				agent->max_reals - 1);
	return 0;
}

/* Make one existing VIP's reals and checks what v says. */
static int reconcile_vip(struct xlb_agent *agent, uint32_t id,
			 const struct xlb_vip_spec *v,
			 struct xlb_reconcile_stats *st, char *err,
			 size_t errlen)
{
	struct vip_ent *vip = &agent->vips[id];
	const struct xlb_real_spec *rs;
	struct real_ent *ent;
	size_t i;
	int ret;

	if (vip->hash != v->hash || vip->table_size != v->table_size) {
		ret = vip_update(agent, id, v->hash, v->table_size);
		if (ret)
			return xlb_errf(err, errlen, ret, "updating VIP: %s",
					strerror(-ret));
		st->vips_changed++;
	}
	/* Before the reals: a VIP turning fullnat loses its reals of the
	 * other family below, and one turning tunnel may gain some. */
	if (vip->mode != v->mode || vip->mss != v->mss) {
		ret = xlb_vip_set_mode(agent, &v->svc, v->mode, v->mss, err,
				       errlen);
		if (ret)
			return ret;
		st->vips_changed++;
	}
	if (vip->gue != v->gue) {
		ret = xlb_vip_set_encap(agent, &v->svc, v->gue, err, errlen);
		if (ret)
			return ret;
		st->vips_changed++;
	}
	if (memcmp(&vip->check, &v->check, sizeof(v->check))) {
		vip->check = v->check;
		st->checks_changed++;
	}
	for (i = vip->n_reals; i-- > 0;) {
		struct xlb_ip ip = vip->reals[i].ip;

		if (spec_real(v, &ip))
			continue;
		ret = xlb_real_del(agent, &v->svc, &ip, err, errlen);
		if (ret)
			return ret;
		st->reals_removed++;
	}
	for (i = 0; i < v->n_reals; i++) {
		rs = &v->reals[i];
		ent = agent_find_real(vip, &rs->ip);
		if (!ent) {
			ret = xlb_real_add(agent, &v->svc, &rs->ip, rs->weight,
					   err, errlen);
			if (ret)
				return ret;
			ent = agent_find_real(vip, &rs->ip);
			st->reals_added++;
		} else if (ent->weight != rs->weight) {
			ret = xlb_real_set_weight(agent, &v->svc, &rs->ip,
						  rs->weight, err, errlen);
			if (ret)
				return ret;
			st->reals_changed++;
		}
		/* Written drain states apply; left out, a real keeps the
		 * one it has (lbctl real drain survives a reload). */
		if (rs->has_drain && ent->draining != rs->drain) {
			ret = xlb_real_set_drain(agent, &v->svc, &rs->ip,
						 rs->drain, err, errlen);
			if (ret)
				return ret;
			ent = agent_find_real(vip, &rs->ip);
			st->reals_changed++;
		}
		if (ent->has_check != rs->has_check ||
		    (rs->has_check &&
		     memcmp(&ent->check, &rs->check, sizeof(rs->check)))) {
			ent->has_check = rs->has_check;
			ent->check = rs->check;
			st->checks_changed++;
		}
	}
	return 0;
}

/* Make the local pool what nat says: removals first, then additions. */
static int reconcile_pool(struct xlb_agent *agent,
			  const struct xlb_nat_config *nat,
			  struct xlb_reconcile_stats *st, char *err,
			  size_t errlen)
{
	struct xlb_ip ip;
	uint32_t fi, i;
	size_t j;
	int ret;

	for (fi = 0; fi < 2; fi++) {
		for (i = agent->n_laddrs[fi]; i-- > 0;) {
			ip = agent->laddrs[fi][i];
			for (j = 0; j < nat->n_laddrs; j++)
				if (xlb_ip_equal(&nat->laddrs[j], &ip))
					break;
			if (j < nat->n_laddrs)
				continue;
			ret = xlb_laddr_del(agent, &ip, err, errlen);
			if (ret)
				return ret;
			st->laddrs_removed++;
		}
	}
	for (j = 0; j < nat->n_laddrs; j++) {
		if (agent_laddr_find(agent, &nat->laddrs[j]) >= 0)
			continue;
		ret = xlb_laddr_add(agent, &nat->laddrs[j], err, errlen);
		if (ret)
			return ret;
		st->laddrs_added++;
	}
	return 0;
}

int xlb_agent_reconcile(struct xlb_agent *agent, const struct xlb_config *cfg,
			struct xlb_reconcile_stats *st, char *err,
			size_t errlen)
{
	char vbuf[XLB_SERVICE_STRLEN], msg[XLB_ERR_LEN];
	struct xlb_globals g;
	const struct xlb_vip_spec *v;
	uint32_t id, vip_id = 0;
	size_t i;
	int ret, r;

	memset(st, 0, sizeof(*st));
	ret = check_capacity(agent, cfg, err, errlen);
	if (ret)
		return ret;
	ret = agent_globals_build(agent, cfg, &g, err, errlen);
	if (ret)
		return ret;
	ret = xlb_dp_set_globals(agent->dp, &g);
	if (ret)
		return xlb_errf(err, errlen, ret, "writing globals: %s",
				strerror(-ret));
	agent->g = g;
	agent->pending = calloc(agent->max_reals, sizeof(*agent->pending));
	if (!agent->pending)
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	agent->n_pending = 0;
	agent->batch = true;
	agent->batch_changed = false;

	for (id = 0; !ret && id < agent->max_vips; id++) {
		struct xlb_service svc = agent->vips[id].svc;

		if (!agent->vips[id].used || cfg_vip(cfg, &svc))
			continue;
		ret = xlb_vip_del(agent, &svc, msg, sizeof(msg));
		st->vips_removed++;
	}
	/* The pool after the VIPs that go (one of their addresses may be
	 * a local address now) and before those that come. */
	if (!ret)
		ret = reconcile_pool(agent, &cfg->nat, st, msg, sizeof(msg));
	if (ret) {
		xlb_errf(err, errlen, ret, "%s", msg);
		i = cfg->n_vips;
		goto out_batch;
	}
	for (i = 0; i < cfg->n_vips; i++) {
		v = &cfg->vips[i];
		if (agent_find_vip(agent, &v->svc, &vip_id)) {
			ret = reconcile_vip(agent, vip_id, v, st, msg,
					    sizeof(msg));
			if (ret)
				break;
			continue;
		}
		ret = xlb_vip_add(agent, &v->svc, v->hash, v->table_size, msg,
				  sizeof(msg));
		if (ret)
			break;
		st->vips_added++;
		agent_find_vip(agent, &v->svc, &vip_id);
		agent->vips[vip_id].check = v->check;
		ret = xlb_vip_set_mode(agent, &v->svc, v->mode, v->mss, msg,
				       sizeof(msg));
		if (ret)
			break;
		ret = reconcile_vip(agent, vip_id, v, st, msg, sizeof(msg));
		if (ret)
			break;
	}
	/* i is the VIP that failed. */
	if (ret)
		xlb_errf(err, errlen, ret, "VIP %s: %s",
			 xlb_service_str(&cfg->vips[i].svc, vbuf, sizeof(vbuf)),
			 msg);

out_batch:
	/* End of the batch: rings first, then the reals they dropped. */
	agent->batch = false;
	for (id = 0; id < agent->max_vips; id++) {
		if (!agent->vips[id].dirty)
			continue;
		agent->vips[id].dirty = false;
		if (!agent->vips[id].used)
			continue;
		r = agent_build_and_publish_timed(agent, id);
		if (r && !ret)
			ret = xlb_errf(err, errlen, r, "publishing ring: %s",
				       strerror(-r));
	}
	for (i = 0; i < agent->n_pending; i++)
		agent_release_real(agent, agent->pending[i]);
	free(agent->pending);
	agent->pending = NULL;
	agent->n_pending = 0;
	if (agent->batch_changed || st->checks_changed)
		agent_changed(agent);
	return ret;
}

int xlb_agent_running_config(struct xlb_agent *agent, struct xlb_config *cfg)
{
	struct xlb_vip_spec *vips, *v;
	const struct vip_ent *vip;
	size_t n = 0, i, fi;
	uint32_t id;

	for (id = 0; id < agent->max_vips; id++)
		n += agent->vips[id].used;
	vips = calloc(n ? n : 1, sizeof(*vips));
	if (!vips)
		return -ENOMEM;
	n = 0;
	for (id = 0; id < agent->max_vips; id++) {
		vip = &agent->vips[id];
		if (!vip->used)
			continue;
		v = &vips[n++];
		v->svc = vip->svc;
		v->hash = vip->hash;
		v->mode = vip->mode;
		v->mss = vip->mss;
		v->gue = vip->gue;
		v->table_size = vip->table_size;
		v->check = vip->check;
		v->reals = calloc(vip->n_reals ? vip->n_reals : 1,
				  sizeof(*v->reals));
		if (!v->reals)
			goto out_nomem;
		v->n_reals = vip->n_reals;
		for (i = 0; i < vip->n_reals; i++) {
			v->reals[i].ip = vip->reals[i].ip;
			v->reals[i].weight = vip->reals[i].weight;
			v->reals[i].has_check = vip->reals[i].has_check;
			v->reals[i].check = vip->reals[i].check;
			v->reals[i].has_drain = true;
			v->reals[i].drain = vip->reals[i].draining;
		}
	}
	cfg->vips = vips;
	cfg->n_vips = n;
	cfg->nat.n_laddrs = 0;
	for (fi = 0; fi < 2; fi++)
		for (i = 0; i < agent->n_laddrs[fi]; i++)
			cfg->nat.laddrs[cfg->nat.n_laddrs++] =
				agent->laddrs[fi][i];
	return 0;

out_nomem:
	while (n--)
		free(vips[n].reals);
	free(vips);
	return -ENOMEM;
}
