// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's model of VIPs and reals, and the operations on it. Every
 * operation checks everything first, then writes the maps in an order
 * that never shows a packet a half-done change:
 *  - a new real is written (up) before any ring names it;
 *  - a removed real leaves the ring before it is marked down, so new
 *    flows never meet it and its tracked flows are re-selected.
 */
#include <errno.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "state.h"
#include "log.h"
#include "maglev.h"
#include "maps.h"
#include "settings.h"
#include "xlb_conn.h"

int xlb_agent_new(struct xlb_dp *dp, struct xlb_agent **out)
{
	struct xlb_agent *agent = calloc(1, sizeof(*agent));

	if (!agent)
		return -ENOMEM;
	agent->dp = dp;
	agent->max_vips = xlb_dp_max_vips(dp);
	agent->max_reals = xlb_dp_max_reals(dp);
	agent->vips = calloc(agent->max_vips, sizeof(*agent->vips));
	agent->real_used = calloc(agent->max_reals, 1);
	if (!agent->vips || !agent->real_used) {
		xlb_agent_free(agent);
		return -ENOMEM;
	}
	agent->real_used[XLB_REAL_NONE] = 1;
	*out = agent;
	return 0;
}

void xlb_agent_free(struct xlb_agent *agent)
{
	uint32_t i;

	if (!agent)
		return;
	for (i = 0; agent->vips && i < agent->max_vips; i++)
		free(agent->vips[i].reals);
	free(agent->vips);
	free(agent->real_used);
	free(agent->pending);
	free(agent->table);
	free(agent->ids);
	free(agent);
}

struct xlb_dp *xlb_agent_dp(struct xlb_agent *agent)
{
	return agent->dp;
}

static void vip_key(const struct xlb_service *svc, struct xlb_vip_key *key)
{
	memset(key, 0, sizeof(*key));
	key->addr = svc->ip.a;
	key->port = htons(svc->port);
	key->proto = svc->proto;
	key->family = svc->ip.family;
}

static void vip_addr_key(const struct xlb_service *svc,
			 struct xlb_vip_addr_key *key)
{
	memset(key, 0, sizeof(*key));
	key->addr = svc->ip.a;
	key->family = svc->ip.family;
}

/* Write vips[] for the VIP with this id: id, hash and forwarding mode. */
int agent_vip_put(struct xlb_agent *agent, const struct vip_ent *vip,
		  uint32_t id)
{
	struct xlb_vip_meta meta = {};
	struct xlb_vip_key key;

	vip_key(&vip->svc, &key);
	meta.vip_id = id;
	meta.flags = vip->hash == XLB_HASH_SOURCE_IP ? XLB_VIP_F_SRC_HASH : 0;
	if (vip->mode == XLB_MODE_FULLNAT)
		meta.flags |= XLB_VIP_F_FULLNAT;
	if (vip->gue)
		meta.flags |= XLB_VIP_F_GUE;
	meta.mss = vip->mss;
	return xlb_dp_vip_put(agent->dp, &key, &meta);
}

/* Index of a family in the pool arrays and nat_laddrs: 0 IPv4, 1 IPv6. */
int agent_fam_idx(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static bool fam_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

static const char *fam_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* The slot of ip in the local pool, or -1. */
int agent_laddr_find(const struct xlb_agent *agent, const struct xlb_ip *ip)
{
	int fi = agent_fam_idx(ip->family);
	uint32_t i;

	for (i = 0; fam_ok(ip->family) && i < agent->n_laddrs[fi]; i++)
		if (xlb_ip_equal(&agent->laddrs[fi][i], ip))
			return (int)i;
	return -1;
}

/* A VIP on address ip (any port and protocol), or NULL. */
struct vip_ent *agent_vip_on_addr(struct xlb_agent *agent,
				  const struct xlb_ip *ip)
{
	uint32_t i;

	for (i = 0; i < agent->max_vips; i++)
		if (agent->vips[i].used &&
		    xlb_ip_equal(&agent->vips[i].svc.ip, ip))
			return &agent->vips[i];
	return NULL;
}

/* A fullnat VIP of this family, or NULL. */
static struct vip_ent *fullnat_vip_of(struct xlb_agent *agent, int family)
{
	uint32_t i;

	for (i = 0; i < agent->max_vips; i++)
		if (agent->vips[i].used &&
		    agent->vips[i].mode == XLB_MODE_FULLNAT &&
		    agent->vips[i].svc.ip.family == family)
			return &agent->vips[i];
	return NULL;
}

struct vip_ent *agent_find_vip(struct xlb_agent *agent,
			       const struct xlb_service *svc, uint32_t *id)
{
	uint32_t i;

	for (i = 0; i < agent->max_vips; i++) {
		if (agent->vips[i].used &&
		    xlb_service_equal(&agent->vips[i].svc, svc)) {
			if (id)
				*id = i;
			return &agent->vips[i];
		}
	}
	return NULL;
}

struct real_ent *agent_find_real(struct vip_ent *vip, const struct xlb_ip *ip)
{
	size_t i;

	for (i = 0; i < vip->n_reals; i++)
		if (xlb_ip_equal(&vip->reals[i].ip, ip))
			return &vip->reals[i];
	return NULL;
}

/* Look the VIP up, or explain that it does not exist. */
static struct vip_ent *need_vip(struct xlb_agent *agent,
				const struct xlb_service *svc, uint32_t *id,
				char *err, size_t errlen)
{
	char buf[XLB_SERVICE_STRLEN];
	struct vip_ent *vip = agent_find_vip(agent, svc, id);

	if (!vip)
		xlb_errf(err, errlen, -ENOENT, "no such VIP %s",
			 xlb_service_str(svc, buf, sizeof(buf)));
	return vip;
}

/* Look the real up in the VIP, or explain what is missing. */
static struct real_ent *need_real(struct xlb_agent *agent,
				  const struct xlb_service *svc,
				  const struct xlb_ip *real,
				  struct vip_ent **vip_out, uint32_t *vip_id,
				  char *err, size_t errlen)
{
	char rbuf[XLB_IP_STRLEN], vbuf[XLB_SERVICE_STRLEN];
	struct vip_ent *vip = need_vip(agent, svc, vip_id, err, errlen);
	struct real_ent *ent;

	if (!vip)
		return NULL;
	ent = agent_find_real(vip, real);
	if (!ent)
		xlb_errf(err, errlen, -ENOENT, "real %s is not in VIP %s",
			 xlb_ip_str(real, rbuf, sizeof(rbuf)),
			 xlb_service_str(svc, vbuf, sizeof(vbuf)));
	*vip_out = vip;
	return ent;
}

uint64_t agent_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Build the VIP's Maglev table over its reals and publish it. */
static int build_and_publish(struct xlb_agent *agent, uint32_t vip_id)
{
	struct vip_ent *vip = &agent->vips[vip_id];
	struct xlb_maglev_backend *b = NULL;
	uint32_t m = vip->table_size, i;
	struct ring_key {
		uint8_t family;
		struct xlb_addr addr;
	} __attribute__((packed)) *keys = NULL;
	int ret;

	if (m > agent->table_cap) {
		uint32_t *t = realloc(agent->table, m * sizeof(*t));

		if (!t)
			return -ENOMEM;
		agent->table = t;
		t = realloc(agent->ids, m * sizeof(*t));
		if (!t)
			return -ENOMEM;
		agent->ids = t;
		agent->table_cap = m;
	}
	if (vip->n_reals) {
		b = calloc(vip->n_reals, sizeof(*b));
		keys = calloc(vip->n_reals, sizeof(*keys));
		if (!b || !keys) {
			free(b);
			free(keys);
			return -ENOMEM;
		}
	}
	for (i = 0; i < vip->n_reals; i++) {
		/* The address is the identity, as bytes in network order:
		 * every node builds the same table for the same reals,
		 * whatever ids they hold and whatever their byte order. */
		keys[i].family = vip->reals[i].ip.family;
		keys[i].addr = vip->reals[i].ip.a;
		b[i].key = &keys[i];
		b[i].key_len = sizeof(keys[i]);
		/* Down and draining reals keep their entry but get no
		 * slot: no new flows. */
		b[i].weight = vip->reals[i].down || vip->reals[i].draining
				      ? 0
				      : vip->reals[i].weight;
	}
	ret = xlb_maglev_build(b, vip->n_reals, m, agent->table);
	free(b);
	free(keys);
	if (ret)
		return ret;
	for (i = 0; i < m; i++)
		agent->ids[i] = agent->table[i] == XLB_MAGLEV_EMPTY
					? XLB_REAL_NONE
					: vip->reals[agent->table[i]].id;
	return xlb_dp_ring_publish(agent->dp, vip_id, agent->ids, m);
}

/* Build and publish, counting rebuilds and their time for metrics. */
int agent_build_and_publish_timed(struct xlb_agent *agent, uint32_t vip_id)
{
	uint64_t t0 = agent_now_ns();
	int ret = build_and_publish(agent, vip_id);

	agent->ring_builds++;
	agent->ring_build_ns += agent_now_ns() - t0;
	return ret;
}

/* Publish the VIP's ring now, or at the end of the batch. */
int agent_publish_ring(struct xlb_agent *agent, uint32_t vip_id)
{
	if (agent->batch) {
		agent->vips[vip_id].dirty = true;
		return 0;
	}
	return agent_build_and_publish_timed(agent, vip_id);
}

/*
 * A number checked by its row of the settings table (user/settings.c), in
 * the words the file, the control socket and lbctl use: "KEY: REASON".
 */
static int check_setting(const char *section, const char *key, uint64_t v,
			 char *err, size_t errlen)
{
	return xlb_setting_check_key(xlb_setting_find(section, key), key, NULL,
				     v, NULL, err, errlen);
}

int xlb_vip_add(struct xlb_agent *agent, const struct xlb_service *svc,
		enum xlb_hash_mode hash, uint32_t table_size, char *err,
		size_t errlen)
{
	char buf[XLB_SERVICE_STRLEN];
	struct xlb_vip_addr_key akey;
	struct vip_ent *vip;
	uint32_t id;
	int ret;

	if (svc->proto != IPPROTO_TCP && svc->proto != IPPROTO_UDP)
		return xlb_errf(err, errlen, -EINVAL,
				"protocol must be tcp or udp");
	ret = check_setting("vips", "table_size", table_size, err, errlen);
	if (ret)
		return ret;
	if (agent_find_vip(agent, svc, NULL))
		return xlb_errf(err, errlen, -EEXIST, "VIP %s already exists",
				xlb_service_str(svc, buf, sizeof(buf)));
	if (agent_laddr_find(agent, &svc->ip) >= 0)
		return xlb_errf(err, errlen, -EEXIST,
				"%s is a FULLNAT local address; it cannot also "
				"be a VIP",
				xlb_ip_str(&svc->ip, buf, sizeof(buf)));
	for (id = 0; id < agent->max_vips && agent->vips[id].used; id++)
		;
	if (id == agent->max_vips)
		return xlb_errf(err, errlen, -ENOSPC,
				"all %u VIP slots are used", agent->max_vips);

	vip = &agent->vips[id];
	memset(vip, 0, sizeof(*vip));
	vip->svc = *svc;
	vip->hash = hash;
	vip->table_size = table_size;
	/* Ring first (empty: drops with no_real), then the VIP appears. */
	ret = agent_publish_ring(agent, id);
	if (ret)
		goto out_fail;
	ret = xlb_dp_counters_reset(agent->dp, false, id);
	if (ret)
		goto out_ring;
	vip_addr_key(svc, &akey);
	ret = xlb_dp_vip_addr_ref(agent->dp, &akey, 1);
	if (ret)
		goto out_ring;
	ret = agent_vip_put(agent, vip, id);
	if (ret)
		goto out_addr;
	vip->used = true;
	agent_changed(agent);
	return 0;

out_addr:
	xlb_dp_vip_addr_ref(agent->dp, &akey, -1);
out_ring:
	xlb_dp_ring_clear(agent->dp, id);
out_fail:
	return xlb_errf(err, errlen, ret,
			"writing VIP %s to the data plane: %s",
			xlb_service_str(svc, buf, sizeof(buf)), strerror(-ret));
}

/*
 * Write reals[id] from the model: up unless its check failed (a draining
 * real stays up: its flows continue), and what a restarted agent needs
 * to rebuild the model.
 */
static int real_write(struct xlb_agent *agent, uint32_t vip_id,
		      const struct real_ent *ent)
{
	struct xlb_real r = {};

	r.addr = ent->ip.a;
	r.family = ent->ip.family;
	r.flags = ent->down ? 0 : XLB_REAL_F_UP;
	r.admin = (ent->down ? XLB_REAL_A_DOWN : 0) |
		  (ent->draining ? XLB_REAL_A_DRAINING : 0);
	r.gen = ent->gen;
	r.vip_id = vip_id;
	r.weight = ent->weight;
	return xlb_dp_real_put(agent->dp, ent->id, &r);
}

/* Mark a real id down in the data plane and give it back. */
void agent_release_real(struct xlb_agent *agent, uint32_t id)
{
	struct xlb_real down = {};

	if (agent->batch && agent->pending) {
		/* Its VIP's ring still names it until the batch ends. */
		agent->pending[agent->n_pending++] = id;
		return;
	}
	xlb_dp_real_put(agent->dp, id, &down);
	agent->real_used[id] = 0;
}

int xlb_vip_del(struct xlb_agent *agent, const struct xlb_service *svc,
		char *err, size_t errlen)
{
	struct xlb_vip_addr_key akey;
	struct xlb_vip_key key;
	struct vip_ent *vip;
	uint32_t id;
	size_t i, n;
	int ret;

	vip = need_vip(agent, svc, &id, err, errlen);
	if (!vip)
		return -ENOENT;
	vip_key(svc, &key);
	ret = xlb_dp_vip_delete(agent->dp, &key);
	if (ret)
		return xlb_errf(err, errlen, ret, "deleting VIP: %s",
				strerror(-ret));
	vip_addr_key(svc, &akey);
	xlb_dp_vip_addr_ref(agent->dp, &akey, -1);
	xlb_dp_ring_clear(agent->dp, id);
	for (i = 0; i < vip->n_reals; i++)
		agent_release_real(agent, vip->reals[i].id);
	/* Its sessions and their tuples go with it, not at their timeout
	 * (a new VIP may get its id). */
	if (vip->mode == XLB_MODE_FULLNAT)
		xlb_dp_nat_flush_vip(agent->dp, id, &n);
	free(vip->reals);
	memset(vip, 0, sizeof(*vip));
	agent_changed(agent);
	return 0;
}

int xlb_real_add(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, uint32_t weight, char *err,
		 size_t errlen)
{
	char rbuf[XLB_IP_STRLEN], vbuf[XLB_SERVICE_STRLEN];
	struct vip_ent *vip;
	struct real_ent *ent;
	uint32_t vip_id, id;
	int ret;

	ret = check_setting("reals", "weight", weight, err, errlen);
	if (ret)
		return ret;
	vip = need_vip(agent, svc, &vip_id, err, errlen);
	if (!vip)
		return -ENOENT;
	if (real->family != AF_INET && real->family != AF_INET6)
		return xlb_errf(err, errlen, -EINVAL,
				"bad real address family");
	if (vip->mode == XLB_MODE_FULLNAT && real->family != vip->svc.ip.family)
		return xlb_errf(err, errlen, -EINVAL,
				"real %s: the reals of fullnat VIP %s must be "
				"%s like it",
				xlb_ip_str(real, rbuf, sizeof(rbuf)),
				xlb_service_str(svc, vbuf, sizeof(vbuf)),
				fam_name(svc->ip.family));
	if (agent_find_real(vip, real))
		return xlb_errf(err, errlen, -EEXIST,
				"real %s already in VIP %s",
				xlb_ip_str(real, rbuf, sizeof(rbuf)),
				xlb_service_str(svc, vbuf, sizeof(vbuf)));
	for (id = 1; id < agent->max_reals && agent->real_used[id]; id++)
		;
	if (id == agent->max_reals)
		return xlb_errf(err, errlen, -ENOSPC,
				"all %u real slots are used",
				agent->max_reals - 1);
	if (vip->n_reals == vip->cap) {
		size_t cap = vip->cap ? vip->cap * 2 : 8;
		struct real_ent *n = realloc(vip->reals, cap * sizeof(*n));

		if (!n)
			return xlb_errf(err, errlen, -ENOMEM, "out of memory");
		vip->reals = n;
		vip->cap = cap;
	}

	/* The real exists (up) before any ring can name it. */
	ent = &vip->reals[vip->n_reals];
	memset(ent, 0, sizeof(*ent));
	ent->ip = *real;
	ent->weight = weight;
	ent->id = id;
	ent->gen = ++agent->next_gen;
	ret = xlb_dp_counters_reset(agent->dp, true, id);
	if (!ret)
		ret = real_write(agent, vip_id, ent);
	if (ret)
		return xlb_errf(err, errlen, ret, "writing real: %s",
				strerror(-ret));
	agent->real_used[id] = 1;
	vip->n_reals++;
	ret = agent_publish_ring(agent, vip_id);
	if (ret) {
		vip->n_reals--;
		agent_release_real(agent, id);
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	agent_changed(agent);
	return 0;
}

int xlb_real_del(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, char *err, size_t errlen)
{
	struct real_ent *ent, saved;
	struct vip_ent *vip;
	uint32_t vip_id;
	int ret;

	ent = need_real(agent, svc, real, &vip, &vip_id, err, errlen);
	if (!ent)
		return -ENOENT;
	saved = *ent;
	*ent = vip->reals[--vip->n_reals];
	ret = agent_publish_ring(agent, vip_id);
	if (ret) {
		/* Put it back where the ring still has it. */
		vip->reals[vip->n_reals++] = *ent;
		*ent = saved;
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	/* Now no ring names it: down, and its flows move elsewhere. */
	agent_release_real(agent, saved.id);
	agent_changed(agent);
	return 0;
}

int xlb_real_set_weight(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, uint32_t weight, char *err,
			size_t errlen)
{
	struct real_ent *ent;
	struct vip_ent *vip;
	uint32_t vip_id, old;
	int ret;

	ret = check_setting("reals", "weight", weight, err, errlen);
	if (ret)
		return ret;
	ent = need_real(agent, svc, real, &vip, &vip_id, err, errlen);
	if (!ent)
		return -ENOENT;
	old = ent->weight;
	ent->weight = weight;
	ret = agent_publish_ring(agent, vip_id);
	if (ret) {
		ent->weight = old;
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	real_write(agent, vip_id, ent);
	agent_changed(agent);
	return 0;
}

/*
 * Ports per CPU of the configured range: each CPU owns an equal share
 * and needs at least one port.
 */
static int nat_port_span(struct xlb_agent *agent, const struct xlb_config *cfg,
			 uint16_t *span, char *err, size_t errlen)
{
	uint32_t ports, ncpus = (uint32_t)xlb_dp_ncpus(agent->dp);

	if (cfg->nat.port_min == 0 || cfg->nat.port_min > cfg->nat.port_max)
		return xlb_errf(err, errlen, -EINVAL,
				"fullnat.ports %u-%u is not a port range",
				cfg->nat.port_min, cfg->nat.port_max);
	ports = (uint32_t)cfg->nat.port_max - cfg->nat.port_min + 1;
	if (!ncpus || ports / ncpus < 1)
		return xlb_errf(err, errlen, -EINVAL,
				"fullnat.ports %u-%u holds %u ports for %u "
				"CPUs: every CPU needs at least one",
				cfg->nat.port_min, cfg->nat.port_max, ports,
				ncpus);
	*span = (uint16_t)(ports / ncpus);
	return 0;
}

/* The globals for cfg, with the pool sizes of the model. */
int agent_globals_build(struct xlb_agent *agent, const struct xlb_config *cfg,
			struct xlb_globals *g, char *err, size_t errlen)
{
	int plen = cfg->tun_src_v4_plen, ret;

	memset(g, 0, sizeof(*g));
	g->tun_src_v4 = cfg->tun_src_v4.a.addr[0];
	g->tun_v4_hostmask = htonl(plen >= 32 ? 0 : 0xffffffffu >> plen);
	memcpy(g->tun_src_v6, cfg->tun_src_v6.a.addr, sizeof(g->tun_src_v6));
	plen = cfg->tun_src_v6_plen - 96;
	if (plen < 0)
		plen = 0;
	g->tun_v6_hostmask = htonl(plen >= 32 ? 0 : 0xffffffffu >> plen);
	if (cfg->has_gw_mac) {
		g->flags |= XLB_G_F_GW_MAC;
		memcpy(g->gw_mac, cfg->gw_mac, sizeof(g->gw_mac));
	}
	g->icmp_rate = (uint16_t)cfg->icmp_rate;
	g->gue_port = htons((uint16_t)cfg->gue_port);
	ret = nat_port_span(agent, cfg, &g->nat_port_span, err, errlen);
	if (ret)
		return ret;
	g->nat_port_min = cfg->nat.port_min;
	g->nat_laddrs[0] = (uint8_t)agent->n_laddrs[0];
	g->nat_laddrs[1] = (uint8_t)agent->n_laddrs[1];
	g->nat_tcp_s = cfg->nat.tcp_s;
	g->nat_tcp_syn_s = cfg->nat.tcp_syn_s;
	g->nat_tcp_closing_s = cfg->nat.tcp_closing_s;
	g->nat_udp_s = cfg->nat.udp_s;
	g->ct_tcp_syn_s = cfg->ct_timeouts.tcp_syn_s;
	g->ct_tcp_s = cfg->ct_timeouts.tcp_s;
	g->ct_tcp_fin_s = cfg->ct_timeouts.tcp_fin_s;
	g->ct_tcp_closing_s = cfg->ct_timeouts.tcp_closing_s;
	g->ct_udp_s = cfg->ct_timeouts.udp_s;
	return 0;
}

int xlb_agent_set_globals(struct xlb_agent *agent, const struct xlb_config *cfg)
{
	struct xlb_globals g;
	int ret;

	ret = agent_globals_build(agent, cfg, &g, NULL, 0);
	if (ret)
		return ret;
	ret = xlb_dp_set_globals(agent->dp, &g);
	if (!ret)
		agent->g = g;
	return ret;
}

/* Write the pool sizes of the model into the globals. */
static int globals_pool_write(struct xlb_agent *agent)
{
	struct xlb_globals g = agent->g;
	int ret;

	g.nat_laddrs[0] = (uint8_t)agent->n_laddrs[0];
	g.nat_laddrs[1] = (uint8_t)agent->n_laddrs[1];
	ret = xlb_dp_set_globals(agent->dp, &g);
	if (!ret)
		agent->g = g;
	return ret;
}

void agent_addr_key_of(const struct xlb_ip *ip, struct xlb_vip_addr_key *key)
{
	memset(key, 0, sizeof(*key));
	key->addr = ip->a;
	key->family = ip->family;
}

int xlb_laddr_add(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	char buf[XLB_IP_STRLEN], vbuf[XLB_SERVICE_STRLEN];
	int fi = agent_fam_idx(ip->family);
	struct xlb_vip_addr_key akey;
	struct vip_ent *vip;
	uint32_t slot;
	int ret;

	if (!fam_ok(ip->family))
		return xlb_errf(err, errlen, -EINVAL,
				"bad local address family");
	xlb_ip_str(ip, buf, sizeof(buf));
	if (agent_laddr_find(agent, ip) >= 0)
		return xlb_errf(err, errlen, -EEXIST,
				"local address %s is already in the pool", buf);
	vip = agent_vip_on_addr(agent, ip);
	if (vip)
		return xlb_errf(err, errlen, -EEXIST,
				"%s is the address of VIP %s; it cannot also "
				"be a local address",
				buf,
				xlb_service_str(&vip->svc, vbuf, sizeof(vbuf)));
	slot = agent->n_laddrs[fi];
	if (slot == XLB_NAT_MAX_LADDRS)
		return xlb_errf(err, errlen, -ENOSPC,
				"the pool holds %d %s addresses already",
				XLB_NAT_MAX_LADDRS, fam_name(ip->family));
	/* Replies to it are ours, then the slot, then the count that lets
	 * new flows pick it. */
	agent_addr_key_of(ip, &akey);
	ret = xlb_dp_local_addr_set(agent->dp, &akey, true);
	if (!ret)
		ret = xlb_dp_nat_laddr_put(agent->dp, ip->family, slot, &ip->a);
	if (ret)
		goto out_fail;
	agent->laddrs[fi][slot] = *ip;
	agent->n_laddrs[fi]++;
	ret = globals_pool_write(agent);
	if (ret) {
		agent->n_laddrs[fi]--;
		goto out_fail;
	}
	agent_changed(agent);
	return 0;

out_fail:
	xlb_dp_local_addr_set(agent->dp, &akey, false);
	return xlb_errf(err, errlen, ret,
			"writing local address %s to the data plane: %s", buf,
			strerror(-ret));
}

int xlb_laddr_del(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	char buf[XLB_IP_STRLEN], vbuf[XLB_SERVICE_STRLEN];
	int fi = agent_fam_idx(ip->family), slot = agent_laddr_find(agent, ip);
	struct xlb_vip_addr_key akey;
	static const struct xlb_addr zero;
	struct vip_ent *vip;
	uint32_t last;
	size_t n;
	int ret;

	xlb_ip_str(ip, buf, sizeof(buf));
	if (slot < 0)
		return xlb_errf(err, errlen, -ENOENT,
				"%s is not a local address", buf);
	vip = fullnat_vip_of(agent, ip->family);
	/* A reload checked the final state as a whole already. */
	if (agent->n_laddrs[fi] == 1 && vip && !agent->batch)
		return xlb_errf(err, errlen, -EBUSY,
				"%s is the last %s local address and fullnat "
				"VIP %s needs one",
				buf, fam_name(ip->family),
				xlb_service_str(&vip->svc, vbuf, sizeof(vbuf)));
	/* New flows stop picking the last slot first; then the last
	 * address takes the freed slot. A flow that picks the slot
	 * meanwhile gets the address being removed or its replacement. */
	last = agent->n_laddrs[fi] - 1;
	agent->n_laddrs[fi]--;
	ret = globals_pool_write(agent);
	if (ret) {
		agent->n_laddrs[fi]++;
		return xlb_errf(err, errlen, ret, "writing globals: %s",
				strerror(-ret));
	}
	if ((uint32_t)slot != last) {
		agent->laddrs[fi][slot] = agent->laddrs[fi][last];
		xlb_dp_nat_laddr_put(agent->dp, ip->family, (uint32_t)slot,
				     &agent->laddrs[fi][slot].a);
	}
	xlb_dp_nat_laddr_put(agent->dp, ip->family, last, &zero);
	memset(&agent->laddrs[fi][last], 0, sizeof(agent->laddrs[fi][last]));
	agent_addr_key_of(ip, &akey);
	xlb_dp_local_addr_set(agent->dp, &akey, false);
	/* Its sessions end now rather than at their timeout. */
	xlb_dp_nat_flush_laddr(agent->dp, ip, &n);
	agent_changed(agent);
	return 0;
}

size_t xlb_agent_laddr_count(struct xlb_agent *agent)
{
	return agent->n_laddrs[0] + agent->n_laddrs[1];
}

size_t xlb_agent_laddrs(struct xlb_agent *agent, struct xlb_ip *out, size_t max)
{
	size_t n = 0;
	uint32_t f, i;

	for (f = 0; f < 2; f++)
		for (i = 0; i < agent->n_laddrs[f]; i++, n++)
			if (n < max)
				out[n] = agent->laddrs[f][i];
	return n;
}

int xlb_vip_set_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode mode, uint16_t mss, char *err,
		     size_t errlen)
{
	char rbuf[XLB_IP_STRLEN], vbuf[XLB_SERVICE_STRLEN];
	enum xlb_fwd_mode old_mode;
	struct vip_ent *vip;
	uint16_t old_mss;
	uint32_t id;
	size_t i, n;
	int ret;

	vip = need_vip(agent, svc, &id, err, errlen);
	if (!vip)
		return -ENOENT;
	xlb_service_str(svc, vbuf, sizeof(vbuf));
	if (mode != XLB_MODE_TUNNEL && mode != XLB_MODE_FULLNAT)
		return xlb_errf(err, errlen, -EINVAL, "bad forwarding mode");
	ret = check_setting("vips", "mss", mss, err, errlen);
	if (ret)
		return ret;
	/* A reload checked the final state as a whole already (and
	 * turns a VIP's encap to ipip right after its mode). */
	ret = xlb_vip_rules(svc->proto, mode, mss, vip->gue && !agent->batch,
			    "", NULL, err, errlen);
	if (ret)
		return ret;
	if (mode == XLB_MODE_FULLNAT && !agent->batch) {
		for (i = 0; i < vip->n_reals; i++)
			if (vip->reals[i].ip.family != svc->ip.family)
				return xlb_errf(
					err, errlen, -EINVAL,
					"VIP %s has real %s: the reals of a "
					"fullnat VIP must be %s like it",
					vbuf,
					xlb_ip_str(&vip->reals[i].ip, rbuf,
						   sizeof(rbuf)),
					fam_name(svc->ip.family));
		if (!agent->n_laddrs[agent_fam_idx(svc->ip.family)])
			return xlb_errf(err, errlen, -EINVAL,
					"VIP %s cannot be fullnat: no %s local "
					"address (lbctl laddr add)",
					vbuf, fam_name(svc->ip.family));
	}
	if (vip->mode == mode && vip->mss == mss)
		return 0;
	old_mode = vip->mode;
	old_mss = vip->mss;
	vip->mode = mode;
	vip->mss = mss;
	ret = agent_vip_put(agent, vip, id);
	if (ret) {
		vip->mode = old_mode;
		vip->mss = old_mss;
		return xlb_errf(err, errlen, ret, "writing VIP %s: %s", vbuf,
				strerror(-ret));
	}
	/* Out of fullnat: its sessions end with it. */
	if (old_mode == XLB_MODE_FULLNAT && mode != XLB_MODE_FULLNAT)
		xlb_dp_nat_flush_vip(agent->dp, id, &n);
	agent_changed(agent);
	return 0;
}

int xlb_vip_set_encap(struct xlb_agent *agent, const struct xlb_service *svc,
		      bool gue, char *err, size_t errlen)
{
	uint32_t id;
	struct vip_ent *vip = need_vip(agent, svc, &id, err, errlen);
	int ret;

	if (!vip)
		return -ENOENT;
	ret = xlb_vip_rules(svc->proto, vip->mode, 0, gue, "", NULL, err,
			    errlen);
	if (ret)
		return ret;
	if (vip->gue == gue)
		return 0;
	vip->gue = gue;
	ret = agent_vip_put(agent, vip, id);
	if (ret) {
		vip->gue = !gue;
		return xlb_errf(err, errlen, ret, "updating VIP: %s",
				strerror(-ret));
	}
	agent_changed(agent);
	return 0;
}

int xlb_vip_get_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode *mode, uint16_t *mss, bool *gue,
		     char *err, size_t errlen)
{
	struct vip_ent *vip = need_vip(agent, svc, NULL, err, errlen);

	if (!vip)
		return -ENOENT;
	*mode = vip->mode;
	*mss = vip->mss;
	*gue = vip->gue;
	return 0;
}

int xlb_agent_nat_gc(struct xlb_agent *agent, uint64_t now,
		     struct xlb_nat_gc_stats *st)
{
	uint64_t t0 = agent_now_ns();
	int ret;

	ret = xlb_dp_nat_gc(agent->dp, &agent->g, now, st);
	if (ret)
		return ret;
	agent->gc.sweeps++;
	agent->gc.expired += st->expired;
	agent->gc.orphans += st->orphans;
	agent->gc.last_scanned = st->scanned;
	agent->gc.last_ns = now;
	agent->gc.last_duration_ns = agent_now_ns() - t0;
	return 0;
}

void agent_changed(struct xlb_agent *agent)
{
	if (agent->batch) {
		agent->batch_changed = true;
		return;
	}
	if (agent->hold) {
		agent->held_changed = true;
		return;
	}
	if (agent->on_change)
		agent->on_change(agent, agent->on_change_arg);
}

void xlb_agent_hold_changes(struct xlb_agent *agent, bool hold)
{
	agent->hold = hold;
	if (hold || !agent->held_changed)
		return;
	agent->held_changed = false;
	agent_changed(agent);
}

void xlb_agent_on_change(struct xlb_agent *agent, xlb_agent_change_fn fn,
			 void *arg)
{
	agent->on_change = fn;
	agent->on_change_arg = arg;
}

int xlb_real_set_health(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, bool up)
{
	struct real_ent *ent;
	struct vip_ent *vip;
	uint32_t vip_id;
	int ret;

	vip = agent_find_vip(agent, svc, &vip_id);
	if (!vip)
		return -ENOENT;
	ent = agent_find_real(vip, real);
	if (!ent)
		return -ENOENT;
	if (ent->down == !up)
		return 0;
	if (up) {
		/* A new generation: entries made before it went down are
		 * not trusted again; such flows are looked up or chosen
		 * afresh. Up in reals first, then in the ring. */
		ent->down = false;
		ent->gen = ++agent->next_gen;
		ret = real_write(agent, vip_id, ent);
		if (!ret)
			ret = agent_publish_ring(agent, vip_id);
		if (ret) {
			ent->down = true;
			real_write(agent, vip_id, ent);
		}
		return ret;
	}
	/* Out of the ring first, then down: its flows move elsewhere. */
	ent->down = true;
	ret = agent_publish_ring(agent, vip_id);
	if (ret) {
		ent->down = false;
		return ret;
	}
	return real_write(agent, vip_id, ent);
}

int xlb_real_set_drain(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real, bool drain, char *err,
		       size_t errlen)
{
	struct real_ent *ent;
	struct vip_ent *vip;
	uint32_t vip_id;
	int ret;

	ent = need_real(agent, svc, real, &vip, &vip_id, err, errlen);
	if (!ent)
		return -ENOENT;
	if (ent->draining == drain)
		return 0;
	ent->draining = drain;
	ret = agent_publish_ring(agent, vip_id);
	if (ret) {
		ent->draining = !drain;
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	real_write(agent, vip_id, ent);
	agent_changed(agent);
	return 0;
}

int xlb_vip_set_check(struct xlb_agent *agent, const struct xlb_service *svc,
		      const struct xlb_check_spec *check, char *err,
		      size_t errlen)
{
	struct vip_ent *vip = need_vip(agent, svc, NULL, err, errlen);

	if (!vip)
		return -ENOENT;
	vip->check = *check;
	agent_changed(agent);
	return 0;
}

int xlb_real_set_check(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real,
		       const struct xlb_check_spec *check, char *err,
		       size_t errlen)
{
	struct real_ent *ent;
	struct vip_ent *vip;

	ent = need_real(agent, svc, real, &vip, NULL, err, errlen);
	if (!ent)
		return -ENOENT;
	ent->has_check = check != NULL;
	if (check)
		ent->check = *check;
	agent_changed(agent);
	return 0;
}

int xlb_agent_reals(struct xlb_agent *agent, struct xlb_real_view **out,
		    size_t *n)
{
	struct xlb_real_view *v = NULL, *nv;
	size_t count = 0, cap = 0, i;
	uint32_t id;

	for (id = 0; id < agent->max_vips; id++) {
		struct vip_ent *vip = &agent->vips[id];

		if (!vip->used)
			continue;
		for (i = 0; i < vip->n_reals; i++) {
			struct real_ent *r = &vip->reals[i];

			if (count == cap) {
				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[count].svc = vip->svc;
			v[count].ip = r->ip;
			v[count].weight = r->weight;
			v[count].id = r->id;
			v[count].healthy = !r->down;
			v[count].draining = r->draining;
			v[count].check = r->has_check ? r->check : vip->check;
			count++;
		}
	}
	*out = v;
	*n = count;
	return 0;
}

/* Set a VIP's hash mode and table size; the ring is rebuilt. */
void xlb_agent_on_real_json(struct xlb_agent *agent, xlb_agent_real_json_fn fn,
			    void *arg)
{
	agent->on_real_json = fn;
	agent->on_real_json_arg = arg;
}

size_t xlb_agent_services(struct xlb_agent *agent, struct xlb_service *out,
			  size_t max)
{
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < agent->max_vips; i++) {
		if (!agent->vips[i].used)
			continue;
		if (n < max)
			out[n] = agent->vips[i].svc;
		n++;
	}
	return n;
}
