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

#include "agent.h"
#include "log.h"
#include "maglev.h"
#include "maps.h"
#include "xlb_conn.h"

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

static void changed(struct xlb_agent *agent);

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
static int vip_put(struct xlb_agent *agent, const struct vip_ent *vip,
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
static int fam_idx(int family)
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
static int laddr_find(const struct xlb_agent *agent, const struct xlb_ip *ip)
{
	int fi = fam_idx(ip->family);
	uint32_t i;

	for (i = 0; fam_ok(ip->family) && i < agent->n_laddrs[fi]; i++)
		if (xlb_ip_equal(&agent->laddrs[fi][i], ip))
			return (int)i;
	return -1;
}

/* A VIP on address ip (any port and protocol), or NULL. */
static struct vip_ent *vip_on_addr(struct xlb_agent *agent,
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

static struct vip_ent *find_vip(struct xlb_agent *agent,
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

static struct real_ent *find_real(struct vip_ent *vip, const struct xlb_ip *ip)
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
	struct vip_ent *vip = find_vip(agent, svc, id);

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
	ent = find_real(vip, real);
	if (!ent)
		xlb_errf(err, errlen, -ENOENT, "real %s is not in VIP %s",
			 xlb_ip_str(real, rbuf, sizeof(rbuf)),
			 xlb_service_str(svc, vbuf, sizeof(vbuf)));
	*vip_out = vip;
	return ent;
}

static uint64_t now_ns(void)
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
static int build_and_publish_timed(struct xlb_agent *agent, uint32_t vip_id)
{
	uint64_t t0 = now_ns();
	int ret = build_and_publish(agent, vip_id);

	agent->ring_builds++;
	agent->ring_build_ns += now_ns() - t0;
	return ret;
}

/* Publish the VIP's ring now, or at the end of the batch. */
static int publish_ring(struct xlb_agent *agent, uint32_t vip_id)
{
	if (agent->batch) {
		agent->vips[vip_id].dirty = true;
		return 0;
	}
	return build_and_publish_timed(agent, vip_id);
}

static int validate_table_size(uint32_t m, char *err, size_t errlen)
{
	if (m < 3 || m > XLB_RING_SIZE_MAX || !xlb_is_prime(m))
		return xlb_errf(err, errlen, -EINVAL,
				"table size %u is not a prime between 3 and %u",
				m, XLB_RING_SIZE_MAX);
	return 0;
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
	ret = validate_table_size(table_size, err, errlen);
	if (ret)
		return ret;
	if (find_vip(agent, svc, NULL))
		return xlb_errf(err, errlen, -EEXIST, "VIP %s already exists",
				xlb_service_str(svc, buf, sizeof(buf)));
	if (laddr_find(agent, &svc->ip) >= 0)
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
	ret = publish_ring(agent, id);
	if (ret)
		goto out_fail;
	ret = xlb_dp_counters_reset(agent->dp, false, id);
	if (ret)
		goto out_ring;
	vip_addr_key(svc, &akey);
	ret = xlb_dp_vip_addr_ref(agent->dp, &akey, 1);
	if (ret)
		goto out_ring;
	ret = vip_put(agent, vip, id);
	if (ret)
		goto out_addr;
	vip->used = true;
	changed(agent);
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
static void release_real(struct xlb_agent *agent, uint32_t id)
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
		release_real(agent, vip->reals[i].id);
	/* Its sessions and their tuples go with it, not at their timeout
	 * (a new VIP may get its id). */
	if (vip->mode == XLB_MODE_FULLNAT)
		xlb_dp_nat_flush_vip(agent->dp, id, &n);
	free(vip->reals);
	memset(vip, 0, sizeof(*vip));
	changed(agent);
	return 0;
}

static int validate_weight(uint32_t weight, char *err, size_t errlen)
{
	if (weight > XLB_MAX_WEIGHT)
		return xlb_errf(err, errlen, -EINVAL,
				"weight %u is out of range 0..%u", weight,
				XLB_MAX_WEIGHT);
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

	ret = validate_weight(weight, err, errlen);
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
	if (find_real(vip, real))
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
	ret = publish_ring(agent, vip_id);
	if (ret) {
		vip->n_reals--;
		release_real(agent, id);
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	changed(agent);
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
	ret = publish_ring(agent, vip_id);
	if (ret) {
		/* Put it back where the ring still has it. */
		vip->reals[vip->n_reals++] = *ent;
		*ent = saved;
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	/* Now no ring names it: down, and its flows move elsewhere. */
	release_real(agent, saved.id);
	changed(agent);
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

	ret = validate_weight(weight, err, errlen);
	if (ret)
		return ret;
	ent = need_real(agent, svc, real, &vip, &vip_id, err, errlen);
	if (!ent)
		return -ENOENT;
	old = ent->weight;
	ent->weight = weight;
	ret = publish_ring(agent, vip_id);
	if (ret) {
		ent->weight = old;
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	real_write(agent, vip_id, ent);
	changed(agent);
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
static int globals_build(struct xlb_agent *agent, const struct xlb_config *cfg,
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

	ret = globals_build(agent, cfg, &g, NULL, 0);
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

static void addr_key_of(const struct xlb_ip *ip, struct xlb_vip_addr_key *key)
{
	memset(key, 0, sizeof(*key));
	key->addr = ip->a;
	key->family = ip->family;
}

int xlb_laddr_add(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	char buf[XLB_IP_STRLEN], vbuf[XLB_SERVICE_STRLEN];
	int fi = fam_idx(ip->family);
	struct xlb_vip_addr_key akey;
	struct vip_ent *vip;
	uint32_t slot;
	int ret;

	if (!fam_ok(ip->family))
		return xlb_errf(err, errlen, -EINVAL,
				"bad local address family");
	xlb_ip_str(ip, buf, sizeof(buf));
	if (laddr_find(agent, ip) >= 0)
		return xlb_errf(err, errlen, -EEXIST,
				"local address %s is already in the pool", buf);
	vip = vip_on_addr(agent, ip);
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
	addr_key_of(ip, &akey);
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
	changed(agent);
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
	int fi = fam_idx(ip->family), slot = laddr_find(agent, ip);
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
	addr_key_of(ip, &akey);
	xlb_dp_local_addr_set(agent->dp, &akey, false);
	/* Its sessions end now rather than at their timeout. */
	xlb_dp_nat_flush_laddr(agent->dp, ip, &n);
	changed(agent);
	return 0;
}

size_t xlb_agent_laddr_count(struct xlb_agent *agent)
{
	return agent->n_laddrs[0] + agent->n_laddrs[1];
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
	if (mss && mss < XLB_MSS_MIN)
		return xlb_errf(err, errlen, -EINVAL,
				"mss %u is out of range %u..65535", mss,
				XLB_MSS_MIN);
	if (mss && svc->proto != IPPROTO_TCP)
		return xlb_errf(err, errlen, -EINVAL,
				"mss: only TCP VIPs have an MSS to clamp");
	/* A reload checked the final state as a whole already (and
	 * turns a VIP's encap to ipip right after its mode). */
	if (mode != XLB_MODE_TUNNEL && vip->gue && !agent->batch)
		return xlb_errf(err, errlen, -EINVAL,
				"encap: gue is for tunnel VIPs only");
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
		if (!agent->n_laddrs[fam_idx(svc->ip.family)])
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
	ret = vip_put(agent, vip, id);
	if (ret) {
		vip->mode = old_mode;
		vip->mss = old_mss;
		return xlb_errf(err, errlen, ret, "writing VIP %s: %s", vbuf,
				strerror(-ret));
	}
	/* Out of fullnat: its sessions end with it. */
	if (old_mode == XLB_MODE_FULLNAT && mode != XLB_MODE_FULLNAT)
		xlb_dp_nat_flush_vip(agent->dp, id, &n);
	changed(agent);
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
	if (gue && vip->mode != XLB_MODE_TUNNEL)
		return xlb_errf(err, errlen, -EINVAL,
				"encap: gue is for tunnel VIPs only");
	if (vip->gue == gue)
		return 0;
	vip->gue = gue;
	ret = vip_put(agent, vip, id);
	if (ret) {
		vip->gue = !gue;
		return xlb_errf(err, errlen, ret, "updating VIP: %s",
				strerror(-ret));
	}
	changed(agent);
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
	uint64_t t0 = now_ns();
	int ret;

	ret = xlb_dp_nat_gc(agent->dp, &agent->g, now, st);
	if (ret)
		return ret;
	agent->gc.sweeps++;
	agent->gc.expired += st->expired;
	agent->gc.orphans += st->orphans;
	agent->gc.last_scanned = st->scanned;
	agent->gc.last_ns = now;
	agent->gc.last_duration_ns = now_ns() - t0;
	return 0;
}

/*
 * The real a live conntrack entry names (the entry keeps only the low
 * bits of its generation), or NULL: expired, or no such real.
 */
static struct real_ent *ct_real(struct xlb_agent *agent,
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
static bool nat_idle(const struct xlb_agent *agent,
		     const struct xlb_flow_key *k, const struct xlb_nat_fwd *e,
		     uint64_t now)
{
	uint64_t t = xlb_nat_timeout(&agent->g, k->proto, e->state);

	return t && now > e->last_seen &&
	       now - e->last_seen > t * 1000000000ull;
}

static void nat_census_one(const struct xlb_flow_key *key,
			   const struct xlb_nat_fwd *e, void *arg)
{
	struct ct_census *c = arg;
	int fi = fam_idx(key->family);
	uint32_t i;

	c->nat_entries++;
	if (nat_idle(c->agent, key, e, c->now))
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
static struct ct_census *take_census(struct xlb_agent *agent)
{
	struct ct_census *c = calloc(1, sizeof(*c));
	uint32_t id;
	size_t i;

	if (!c)
		return NULL;
	c->agent = agent;
	c->now = now_ns();
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

static void census_free(struct ct_census *c)
{
	if (!c)
		return;
	free(c->gen);
	free(c->count);
	free(c->active);
	free(c);
}

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
	struct ct_census *c = with_counters ? take_census(agent) : NULL;
	json_t *o = vips_json(agent, with_counters, c);

	census_free(c);
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
	struct ct_census *c = take_census(agent);
	json_t *o = json_object();

	json_object_set_new(o, "local_addresses", laddrs_json(agent, c));
	census_free(c);
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
		gc->sweeps ? json_real((double)(now_ns() - gc->last_ns) / 1e9)
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
	re = ct_real(c->agent, k, e->v, c->now);
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
		.now = now_ns(),
	};
	uint32_t id;
	json_t *o;

	if (vip) {
		if (!find_vip(agent, vip, &id))
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
	struct ct_census *census = take_census(agent);
	uint64_t reasons[XLB_R_MAX], skipped;
	json_t *o = vips_json(agent, true, census), *r = json_object();
	int i;

	json_object_set_new(o, "fullnat", fullnat_json(agent, census));
	census_free(census);

	if (!xlb_dp_reasons(agent->dp, reasons))
		for (i = 0; i < XLB_R_MAX; i++)
			json_object_set_new(r, xlb_reason_names[i],
					    json_integer(reasons[i]));
	json_object_set_new(o, "reasons", r);
	if (!xlb_dp_guard_skipped(agent->dp, &skipped))
		json_object_set_new(o, "flood_guard_skipped",
				    json_integer((json_int_t)skipped));
	r = json_object();
	json_object_set_new(r, "rebuilds", json_integer(agent->ring_builds));
	json_object_set_new(r, "rebuild_seconds",
			    json_real(agent->ring_build_ns / 1e9));
	json_object_set_new(o, "rings", r);
	return o;
}

static void changed(struct xlb_agent *agent)
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
	changed(agent);
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

	vip = find_vip(agent, svc, &vip_id);
	if (!vip)
		return -ENOENT;
	ent = find_real(vip, real);
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
			ret = publish_ring(agent, vip_id);
		if (ret) {
			ent->down = true;
			real_write(agent, vip_id, ent);
		}
		return ret;
	}
	/* Out of the ring first, then down: its flows move elsewhere. */
	ent->down = true;
	ret = publish_ring(agent, vip_id);
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
	ret = publish_ring(agent, vip_id);
	if (ret) {
		ent->draining = !drain;
		return xlb_errf(err, errlen, ret, "publishing ring: %s",
				strerror(-ret));
	}
	real_write(agent, vip_id, ent);
	changed(agent);
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
	changed(agent);
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
	changed(agent);
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
static int vip_update(struct xlb_agent *agent, uint32_t vip_id,
		      enum xlb_hash_mode hash, uint32_t table_size)
{
	struct vip_ent *vip = &agent->vips[vip_id];
	int ret;

	vip->hash = hash;
	vip->table_size = table_size;
	ret = publish_ring(agent, vip_id);
	if (ret)
		return ret;
	return vip_put(agent, vip, vip_id);
}

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
			release_real(agent, id);
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
		ent = find_real(vip, &rs->ip);
		if (!ent) {
			ret = xlb_real_add(agent, &v->svc, &rs->ip, rs->weight,
					   err, errlen);
			if (ret)
				return ret;
			ent = find_real(vip, &rs->ip);
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
			ent = find_real(vip, &rs->ip);
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
		if (laddr_find(agent, &nat->laddrs[j]) >= 0)
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
	ret = globals_build(agent, cfg, &g, err, errlen);
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
		if (find_vip(agent, &v->svc, &vip_id)) {
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
		find_vip(agent, &v->svc, &vip_id);
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
		r = build_and_publish_timed(agent, id);
		if (r && !ret)
			ret = xlb_errf(err, errlen, r, "publishing ring: %s",
				       strerror(-r));
	}
	for (i = 0; i < agent->n_pending; i++)
		release_real(agent, agent->pending[i]);
	free(agent->pending);
	agent->pending = NULL;
	agent->n_pending = 0;
	if (agent->batch_changed || st->checks_changed)
		changed(agent);
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

void xlb_agent_on_real_json(struct xlb_agent *agent, xlb_agent_real_json_fn fn,
			    void *arg)
{
	agent->on_real_json = fn;
	agent->on_real_json_arg = arg;
}

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

	vip = find_vip(agent, &r->vip, &vip_id);
	if (!vip || vip->mode != r->mode ||
	    r->client.family != vip->svc.ip.family ||
	    (vip->svc.port && vip->svc.port != r->dport))
		return XLB_SYNC_REJ_UNKNOWN_VIP;
	re = find_real(vip, &r->real);
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
	re = ct ? ct_real(c->agent, k, ct->v, c->now) : NULL;
	if (re &&
	    rec_of(c->agent, k, re->id, re->gen, NULL, c->now, &c->recs[c->n]))
		c->n++;
	else if (nat && !nat_idle(c->agent, k, nat, c->now) &&
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

	if (e->last_seen < c->since || laddr_find(c->agent, &laddr) < 0)
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
		if (laddr_find(agent, &ips[i]) >= 0 ||
		    vip_on_addr(agent, &ips[i]))
			return xlb_errf(err, errlen, -EEXIST,
					"peer local address %s is this "
					"node's own or a VIP's",
					xlb_ip_str(&ips[i], buf, sizeof(buf)));
	}
	/* Replies to a peer's pool are ours to translate once the peer's
	 * routes are gone; addresses no longer listed stop being ours. */
	for (i = 0; i < n; i++) {
		addr_key_of(&ips[i], &key);
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
		addr_key_of(&agent->peer_laddrs[j], &key);
		xlb_dp_local_addr_set(agent->dp, &key, false);
	}
	n = n < XLB_PEER_LADDRS_MAX ? n : XLB_PEER_LADDRS_MAX;
	memcpy(agent->peer_laddrs, ips, n * sizeof(*ips));
	agent->n_peer_laddrs = n;
	return 0;
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
