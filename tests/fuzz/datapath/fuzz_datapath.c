// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data-path fuzzer (issue 13): mutated frames through the real
 * compiled balancer (BPF_PROG_TEST_RUN), with VIPs, reals and the local
 * pool written by the agent's own code (user/state.c, user/maps.c) in a
 * private network namespace built like the data-path tests' lab, and
 * every run judged by oracle.c.
 *
 *   fuzz_datapath [-n PACKETS] [-s SEED] [-c CASE] [-q] [-k EVERY]
 *
 * Each case is one valid seed frame (tunnel and FULLNAT VIPs, IPv4,
 * IPv6, 4in6 and 6in4, TCP, UDP, replies, ICMP errors), mutated (bit
 * flips, bytes, truncation at header boundaries, length fields, IHL and
 * data offset, protocols, IPv4 options, IPv6 extension and routing
 * headers, VLAN tags, forged sources and quotes, trailers), preceded by
 * the unmutated packet that makes the state it needs (a session, a
 * tracked flow). A case's frames depend only on the seed and the case
 * number: `-s SEED -c CASE` replays one case alone on a fresh node.
 * Every -k cases the FULLNAT session table is compared with the
 * sessions the oracle saw made.
 *
 * Prints one line per finding (class, seed, case, packet), a hexdump of
 * the first ones of each class, a summary, and "PASS fuzz_datapath: ..."
 * or "FAIL fuzz_datapath: ..." (tests/run-all.sh counts that line).
 * Exit 0 when no rule was broken, 1 when one was, 2 on a setup error.
 * Needs root (BPF, a network namespace of its own).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "log.h"
#include "maps.h"
#include "nexthop.h"
#include "oracle.h"
#include "pkt.h"
#include "../../lib/dp_net.h"

/* The lab, as tests/datapath/harness.c builds it. */
#define IF_CLIENT	DP_NET_IF_CLIENT
#define IF_REALS	DP_NET_IF_REALS
#define MAC_CLIENT	DP_NET_MAC_CLIENT
#define MAC_REALS	DP_NET_MAC_REALS
#define MAC_TXREAL	DP_NET_MAC_TXREAL
#define MAC_ROUTER	DP_NET_MAC_ROUTER
#define LAB_VLAN	100 /* the VLAN id balanced on IF_CLIENT only */
#define LAB_VLAN_REALS	200 /* the VLAN id balanced on IF_REALS only */

#define MAX_CLASSES	64
#define DUMPS_PER_CLASS 2
#define LINES_PER_CLASS 5
#define EXPIRE_EVERY	16384 /* cases */

static struct xlb_dp *dp;
static struct xlb_agent *agent;
static struct fz_model model;
static int if_client, if_reals, reasons_fd, ncpus;
static uint64_t reasons_prev[XLB_R_MAX];
static uint64_t seed;
static bool quiet;

/* ---- the lab ---------------------------------------------------------- */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_datapath: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	printf("FAIL fuzz_datapath: setup failed\n");
	exit(2);
}

/* The lab of tests/lib/dp_net.h, with the clients behind a router. */
static void build_namespace(void)
{
	char err[600];

	if (dp_net_build(err, sizeof(err)) ||
	    dp_net_client_routes(err, sizeof(err)))
		die("%s", err);
	if_client = if_nametoindex(IF_CLIENT);
	if_reals = if_nametoindex(IF_REALS);
}

static void parse_ip(const char *s, struct xlb_ip *ip)
{
	if (xlb_ip_parse(s, ip))
		die("bad address %s", s);
}

static void mac(const char *s, uint8_t m[6])
{
	if (xlb_mac_parse(s, m))
		die("bad MAC %s", s);
}

static bool in_prefix(const struct xlb_ip *a, const char *prefix)
{
	struct xlb_ip p;
	int plen, i, bits;
	const uint8_t *x = (const uint8_t *)a->a.addr;
	const uint8_t *y = (const uint8_t *)p.a.addr;

	if (xlb_prefix_parse(prefix, &p, &plen) || p.family != a->family)
		return false;
	for (i = 0; plen > 0; i++, plen -= 8) {
		bits = plen >= 8 ? 8 : plen;
		if ((x[i] ^ y[i]) & (0xff00 >> bits))
			return false;
	}
	return true;
}

static bool ip_is(const struct xlb_ip *a, const char *s)
{
	struct xlb_ip b;

	parse_ip(s, &b);
	return xlb_ip_equal(a, &b);
}

/* Where the lab's routes and neighbours send dst. */
static bool lab_hop(const struct xlb_ip *dst, struct fz_hop *h)
{
	const uint8_t *b = (const uint8_t *)dst->a.addr;
	int last = dst->family == AF_INET ? b[3] : b[15];

	memset(h, 0, sizeof(*h));
	h->known = true;
	if (in_prefix(dst, "192.0.2.0/24") || in_prefix(dst, "2001:db8::/32")) {
		mac(MAC_CLIENT, h->smac);
		mac(MAC_ROUTER, h->dmac);
		h->ifindex = if_client;
		return true;
	}
	if (ip_is(dst, "10.0.0.9")) {
		mac(MAC_CLIENT, h->smac);
		mac(MAC_TXREAL, h->dmac);
		h->ifindex = if_client;
		return true;
	}
	if (ip_is(dst, "10.0.0.2") || ip_is(dst, "fd00::2")) {
		mac(MAC_CLIENT, h->smac);
		mac(MAC_ROUTER, h->dmac);
		h->ifindex = if_client;
		return true;
	}
	if (in_prefix(dst, "10.1.0.0/24") || in_prefix(dst, "fd01::/64")) {
		if (ip_is(dst, "10.1.0.1") || ip_is(dst, "fd01::1") ||
		    (dst->family == AF_INET && last == 255))
			return false;
		h->ifindex = if_reals;
		if (last >= 2 && last <= 6 &&
		    (dst->family == AF_INET ||
		     !memcmp(b + 8, "\0\0\0\0\0\0\0", 7))) {
			mac(MAC_REALS, h->smac);
			mac("02:00:00:00:01:00", h->dmac);
			h->dmac[5] = last;
			return true;
		}
		h->no_neigh = true;
		return true;
	}
	if (in_prefix(dst, "10.0.0.0/24") || in_prefix(dst, "fd00::/64")) {
		if (ip_is(dst, "10.0.0.1") || ip_is(dst, "fd00::1") ||
		    (dst->family == AF_INET && (last == 255 || last == 0)))
			return false;
		h->ifindex = if_client;
		h->no_neigh = true;
		return true;
	}
	return false;
}

/* The agent's id of a VIP, from its own JSON view. */
static uint32_t vip_id(const struct xlb_service *svc)
{
	json_t *root = xlb_agent_vips_json(agent, false), *v;
	char want[128];
	uint32_t id = UINT32_MAX;
	size_t i;

	xlb_service_str(svc, want, sizeof(want));
	json_array_foreach(json_object_get(root, "vips"), i, v) {
		if (!strcmp(json_string_value(json_object_get(v, "vip")), want))
			id = json_integer_value(json_object_get(v, "id"));
	}
	json_decref(root);
	if (id == UINT32_MAX)
		die("no id for VIP %s", want);
	return id;
}

struct real_cfg {
	const char *ip;
	uint32_t weight;
	bool down, drain;
};

struct vip_cfg {
	const char *svc;
	bool fullnat, src_hash;
	uint16_t mss;
	struct real_cfg reals[FZ_MAX_REALS];
};

/*
 * The node: tunnel VIPs over IPv4, IPv6, 4in6 and 6in4, with reals that
 * are down, draining, of weight 0, behind the ingress port (XDP_TX) and
 * without a neighbour; FULLNAT VIPs for TCP and UDP in both families.
 */
static const struct vip_cfg vip_cfgs[] = {
	{"10.100.0.1:80/tcp",
	 false,
	 false,
	 1400,
	 {{"10.1.0.2", 1},
	  {"10.1.0.3", 2},
	  {"10.1.0.4", 1, false, true},
	  {"10.1.0.5", 1, true},
	  {"fd01::6", 1}}},
	{"10.100.0.1:53/udp",
	 false,
	 false,
	 0,
	 {{"10.1.0.2", 1}, {"fd01::3", 1}}},
	{"[fd00:100::1]:80/tcp",
	 false,
	 false,
	 1300,
	 {{"fd01::2", 1}, {"fd01::3", 1}, {"10.1.0.6", 1}, {"fd01::4", 0}}},
	{"[fd00:100::1]:53/udp", false, false, 0, {{"fd01::5", 1}}},
	{"10.100.0.2:80/tcp",
	 false,
	 true,
	 0,
	 {{"10.0.0.9", 1}, {"10.1.0.99", 1}}},
	{"10.100.0.3:80/tcp",
	 true,
	 false,
	 1400,
	 {{"10.1.0.2", 1}, {"10.1.0.3", 1}, {"10.1.0.5", 1, true}}},
	{"10.100.0.3:53/udp", true, false, 0, {{"10.1.0.4", 1}}},
	{"[fd00:100::3]:80/tcp",
	 true,
	 false,
	 1400,
	 {{"fd01::2", 1}, {"fd01::4", 1}}},
	{"[fd00:100::3]:53/udp", true, false, 0, {{"fd01::5", 1}}},
	{"10.100.0.4:80/tcp", true, false, 0, {{"10.0.0.9", 1}}},
};
static const char *const laddr_cfgs[] = {"10.97.0.1", "10.97.0.2",
					 "fd00:97::1"};

#define N_VIPS (sizeof(vip_cfgs) / sizeof(vip_cfgs[0]))

static void tx_port(int ifindex)
{
	int fd = xlb_dp_map_fd(dp, "tx_ports");

	if (fd < 0 || bpf_map_update_elem(fd, &ifindex, &ifindex, BPF_ANY))
		die("tx_ports: %s", strerror(errno));
}

static struct xlb_nexthops *resolver;

static void lab_setup(size_t packets)
{
	struct xlb_dp_opts opts = {
		.max_vips = 64,
		.max_reals = 256,
		.ct_size = 65536,
		.nat_sessions = 131072,
		.fc_size = XLB_DP_FC_DEFAULT, /* as xlbd runs it */
	};
	struct xlb_dp_vlans vlan_ifs[2];
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;
	struct fz_vip *v;
	struct xlb_ip ip;
	size_t i;
	int k, ret;

	build_namespace();
	if (xlb_dp_open(&opts, &dp, err, sizeof(err)))
		die("xlb_dp_open: %s", err);
	/* Config `vlans: {xt0: [100], xt2: [200]}`, as xlbd writes it. */
	model.vlans_client[LAB_VLAN / 64] = 1ULL << (LAB_VLAN % 64);
	model.vlans_reals[LAB_VLAN_REALS / 64] = 1ULL << (LAB_VLAN_REALS % 64);
	vlan_ifs[0] = (struct xlb_dp_vlans){if_client, model.vlans_client};
	vlan_ifs[1] = (struct xlb_dp_vlans){if_reals, model.vlans_reals};
	ret = xlb_dp_vlans_sync(dp, vlan_ifs, 2);
	if (ret)
		die("vlans: %s", strerror(-ret));
	if (xlb_agent_new(dp, &agent))
		die("xlb_agent_new");
	xlb_config_defaults(&cfg);
	if (xlb_agent_set_globals(agent, &cfg))
		die("set globals");
	model.port_min = cfg.nat.port_min;
	model.port_max = cfg.nat.port_max;
	xlb_config_free(&cfg);
	if (xlb_dp_get_globals(dp, &model.g))
		die("get globals");
	tx_port(if_client);
	tx_port(if_reals);
	/* A route epoch, as xlbd's resolver starts: FULLNAT replies keep
	 * their next hop (the lab's routes never change) and the model
	 * checks that path. */
	ret = xlb_dp_nh_epoch_next(dp);
	if (ret)
		die("route epoch: %s", strerror(-ret));
	for (i = 0; i < sizeof(laddr_cfgs) / sizeof(laddr_cfgs[0]); i++) {
		parse_ip(laddr_cfgs[i], &ip);
		if (xlb_laddr_add(agent, &ip, err, sizeof(err)))
			die("laddr %s: %s", laddr_cfgs[i], err);
		model.laddrs[model.n_laddrs++] = ip;
	}
	for (i = 0; i < N_VIPS; i++) {
		const struct vip_cfg *c = &vip_cfgs[i];

		v = &model.vips[model.n_vips++];
		if (xlb_service_parse(c->svc, &v->svc))
			die("bad VIP %s", c->svc);
		if (xlb_vip_add(agent, &v->svc,
				c->src_hash ? XLB_HASH_SOURCE_IP
					    : XLB_HASH_MAGLEV,
				251, err, sizeof(err)))
			die("vip %s: %s", c->svc, err);
		v->fullnat = c->fullnat;
		v->src_hash = c->src_hash;
		v->mss = c->mss;
		for (k = 0; k < FZ_MAX_REALS && c->reals[k].ip; k++) {
			struct fz_real *r = &v->reals[v->n_reals++];

			parse_ip(c->reals[k].ip, &r->ip);
			r->weight = c->reals[k].weight;
			r->down = c->reals[k].down;
			r->draining = c->reals[k].drain;
			if (xlb_real_add(agent, &v->svc, &r->ip, r->weight, err,
					 sizeof(err)))
				die("real %s: %s", c->reals[k].ip, err);
			if (r->draining &&
			    xlb_real_set_drain(agent, &v->svc, &r->ip, true,
					       err, sizeof(err)))
				die("drain %s: %s", c->reals[k].ip, err);
			if (r->down &&
			    xlb_real_set_health(agent, &v->svc, &r->ip, false))
				die("health %s", c->reals[k].ip);
		}
		if ((c->fullnat || c->mss) &&
		    xlb_vip_set_mode(agent, &v->svc,
				     c->fullnat ? XLB_MODE_FULLNAT
						: XLB_MODE_TUNNEL,
				     c->mss, err, sizeof(err)))
			die("mode %s: %s", c->svc, err);
		v->id = vip_id(&v->svc);
	}
	/* The reals' next hops resolved as xlbd's resolver does: tunnel
	 * flows then go by them and their flow cache slots. */
	if (xlb_nexthops_open(agent, &resolver) || xlb_nexthops_sync(resolver))
		die("next hop resolver");
	model.if_client = if_client;
	model.if_reals = if_reals;
	model.hop = lab_hop;
	if (fz_model_init(&model, packets))
		die("out of memory");
	reasons_fd = xlb_dp_map_fd(dp, "reason_stats");
	ncpus = libbpf_num_possible_cpus();
	if (reasons_fd < 0 || ncpus <= 0)
		die("reason_stats");
}

/* ---- one run -------------------------------------------------------- */

static int read_reasons(uint64_t out[XLB_R_MAX])
{
	static uint64_t vals[XLB_R_MAX * XLB_MAX_CPUS];
	static uint32_t keys[XLB_R_MAX];
	uint32_t count = XLB_R_MAX, out_batch, r;
	int i, ret;

	ret = bpf_map_lookup_batch(reasons_fd, NULL, &out_batch, keys, vals,
				   &count, NULL);
	if (ret && errno != ENOENT)
		return xlb_dp_reasons(dp, out);
	if (count != XLB_R_MAX)
		return xlb_dp_reasons(dp, out);
	for (r = 0; r < XLB_R_MAX; r++) {
		out[keys[r]] = 0;
		for (i = 0; i < ncpus; i++)
			out[keys[r]] += vals[r * ncpus + i];
	}
	return 0;
}

static uint8_t out_buf[PKT_MAX + 256];

static void run_frame(const struct pkt *p, int ingress, struct fz_run *r)
{
	uint64_t after[XLB_R_MAX];
	struct xdp_md ctx = {
		.data_end = p->len,
		.ingress_ifindex = ingress,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = p->len, .data_out = out_buf,
		    .data_size_out = sizeof(out_buf), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int i;

	if (bpf_prog_test_run_opts(xlb_dp_prog_fd(dp), &opts))
		die("BPF_PROG_TEST_RUN: %s (frame of %zu bytes)",
		    strerror(errno), p->len);
	if (read_reasons(after))
		die("reading reason_stats");
	memset(r, 0, sizeof(*r));
	r->in = p->buf;
	r->in_len = p->len;
	r->ingress = ingress;
	r->retval = opts.retval;
	r->out = out_buf;
	r->out_len = opts.data_size_out;
	for (i = 0; i < XLB_R_MAX; i++) {
		if (after[i] == reasons_prev[i])
			continue;
		r->n_moved++;
		r->reason = i;
		r->moved_by = (int)(after[i] - reasons_prev[i]);
	}
	memcpy(reasons_prev, after, sizeof(after));
}

/* ---- findings ---------------------------------------------------------- */

struct fz_class {
	const char *name;
	uint64_t count;
	uint64_t first_case;
	uint64_t first_packet;
};

static struct fz_class classes[MAX_CLASSES];
static int n_classes;
static uint64_t n_packets, n_findings, n_verdict[5], n_reason[XLB_R_MAX];

static struct fz_class *class_of(const char *name)
{
	int i;

	for (i = 0; i < n_classes; i++)
		if (!strcmp(classes[i].name, name))
			return &classes[i];
	if (n_classes == MAX_CLASSES)
		return &classes[MAX_CLASSES - 1];
	classes[n_classes].name = name;
	return &classes[n_classes++];
}

static void hexdump(const char *tag, const uint8_t *b, size_t len)
{
	size_t i;

	printf("  %s (%zu bytes):\n", tag, len);
	for (i = 0; i < len; i++)
		printf("%s%02x%s", i % 16 == 0 ? "    " : "", b[i],
		       i % 16 == 15 || i + 1 == len ? "\n" : " ");
}

static void report(const struct fz_run *r, const struct fz_judgement *j,
		   uint64_t case_no, const char *what, bool verbose)
{
	struct fz_class *c = class_of(j->cls);

	n_findings++;
	if (!c->count++) {
		c->first_case = case_no;
		c->first_packet = n_packets;
	}
	if (quiet && !verbose)
		return;
	if (c->count <= LINES_PER_CLASS || verbose)
		printf("FINDING %s: seed=%llu case=%llu packet=%llu (%s, %s, "
		       "verdict %u): %s\n",
		       j->cls, (unsigned long long)seed,
		       (unsigned long long)case_no,
		       (unsigned long long)n_packets, what,
		       xlb_reason_names[r->reason], r->retval, j->detail);
	if (c->count <= DUMPS_PER_CLASS || verbose) {
		hexdump("input", r->in, r->in_len);
		if (r->retval != XDP_DROP)
			hexdump("output", r->out, r->out_len);
		printf("  replay: %s -s %llu -c %llu\n", "fuzz_datapath",
		       (unsigned long long)seed, (unsigned long long)case_no);
	}
}

/* ---- random numbers and seeds ---------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct rng *g, uint32_t n)
{
	return n ? (uint32_t)(next(g) % n) : 0;
}

static bool chance(struct rng *g, int percent)
{
	return rnd(g, 100) < (uint32_t)percent;
}

/* A seed frame and what the case needs to know about it. */
struct seed {
	struct pkt_spec spec;
	struct pkt_spec quote;
	char saddr[64], daddr[64], qsaddr[64], qdaddr[64];
	int ingress;
	const struct fz_vip *vip;
};

static const struct fz_vip *pick_vip(struct rng *g, bool fullnat, int family)
{
	const struct fz_vip *c[FZ_MAX_VIPS];
	int i, n = 0;

	for (i = 0; i < model.n_vips; i++)
		if (model.vips[i].fullnat == fullnat &&
		    (!family || model.vips[i].svc.ip.family == family))
			c[n++] = &model.vips[i];
	return c[rnd(g, n)];
}

static void client_addr(struct rng *g, int family, char *buf, size_t len)
{
	if (family == AF_INET)
		snprintf(buf, len, "192.0.2.%u", 1 + rnd(g, 60));
	else
		snprintf(buf, len, "2001:db8::%x", 1 + rnd(g, 60));
}

static void addr_str(int family, const struct xlb_addr *a, char *buf,
		     size_t len)
{
	struct xlb_ip ip = {.family = family, .a = *a};

	xlb_ip_str(&ip, buf, len);
}

/* A tag's TCI: a priority tag (VLAN 0), one of the lab's VLANs (each
 * balanced on one interface and passed on the other), or any other. */
static uint16_t vlan_tci(struct rng *g)
{
	uint16_t pcp = (uint16_t)(rnd(g, 8) << 13);

	switch (rnd(g, 5)) {
	case 0:
		return pcp;
	case 1:
		return pcp | LAB_VLAN;
	case 2:
		return pcp | LAB_VLAN_REALS;
	default:
		return pcp | rnd(g, 4096);
	}
}

static const uint8_t tcp_flag_set[] = {
	PKT_SYN,	   PKT_SYN,	      PKT_SYN,
	PKT_ACK,	   PKT_ACK | PKT_PSH, PKT_FIN | PKT_ACK,
	PKT_RST,	   PKT_SYN | PKT_ACK, PKT_RST | PKT_ACK,
	PKT_SYN | PKT_FIN, PKT_SYN | PKT_RST, 0,
};

/* Random L3/L4 dressing common to every seed. */
static void dress(struct rng *g, struct pkt_spec *s)
{
	static uint8_t opts[][12] = {
		{1, 1, 1, 1},			/* NOPs */
		{7, 7, 4, 0, 0, 0, 0, 1},	/* record route */
		{68, 8, 5, 0, 0, 0, 0, 0},	/* timestamp */
		{131, 7, 4, 10, 1, 0, 2, 0},	/* loose source route */
		{148, 4, 0, 0},			/* router alert */
		{0xff, 0x30, 1, 2, 3, 4, 5, 6}, /* garbage */
	};
	int k;

	s->tos = chance(g, 30) ? (uint8_t)rnd(g, 256) : 0;
	s->ttl = chance(g, 3) ? PKT_TTL_ZERO : 1 + (int)rnd(g, 255);
	s->ip_id = rnd(g, 65536);
	s->df = chance(g, 50);
	s->flow_label = chance(g, 30) ? rnd(g, 1 << 20) : 0;
	if (s->family == AF_INET && chance(g, 12)) {
		k = rnd(g, sizeof(opts) / sizeof(opts[0]));
		memcpy(s->ip_opts, opts[k], 8);
		s->ip_opts_len = 8;
	}
	if (s->family == AF_INET6 && chance(g, 15)) {
		static const enum pkt_ext6_type t[] = {
			PKT_EXT_HOPOPTS, PKT_EXT_ROUTING, PKT_EXT_DSTOPTS,
			PKT_EXT_FRAGMENT};

		s->ext.type = t[rnd(g, 4)];
		s->ext.len = 8 * (1 + rnd(g, 3));
		if (s->ext.type == PKT_EXT_FRAGMENT) {
			s->ext.more = chance(g, 50);
			s->ext.frag_off = chance(g, 50) ? rnd(g, 100) : 0;
		}
	}
	if (chance(g, 4)) {
		s->vlan = true;
		s->vlan_tci = vlan_tci(g);
	}
	if (s->proto == IPPROTO_TCP) {
		s->tcp_flags = tcp_flag_set[rnd(g, sizeof(tcp_flag_set))];
		s->seq = next(g);
		s->ack = s->tcp_flags & PKT_ACK ? next(g) : 0;
		if (chance(g, 60))
			s->mss = chance(g, 70) ? 1460 : 500 + rnd(g, 9000);
		if (chance(g, 20)) {
			static const uint8_t o[] = {1, 3, 3, 7, 4, 2, 8, 10,
						    0, 0, 0, 1, 0, 0, 0, 2};

			memcpy(s->tcp_opts, o, sizeof(o));
			s->tcp_opts_len = sizeof(o);
		}
	}
	if (s->proto == IPPROTO_UDP && s->family == AF_INET && chance(g, 10))
		s->udp_csum_zero = true;
	s->payload_len = chance(g, 80) ? rnd(g, 80) : rnd(g, 1400);
}

/* A client's packet to a VIP. */
static void seed_request(struct rng *g, struct seed *sd, bool fullnat,
			 bool opening)
{
	const struct fz_vip *v = pick_vip(g, fullnat, 0);
	int fam = v->svc.ip.family;

	memset(&sd->spec, 0, sizeof(sd->spec));
	sd->vip = v;
	client_addr(g, fam, sd->saddr, sizeof(sd->saddr));
	xlb_ip_str(&v->svc.ip, sd->daddr, sizeof(sd->daddr));
	sd->spec.family = fam;
	sd->spec.saddr = sd->saddr;
	sd->spec.daddr = sd->daddr;
	sd->spec.proto = v->svc.proto;
	sd->spec.sport = 1024 + rnd(g, 2000);
	sd->spec.dport = v->svc.port;
	sd->ingress = if_client;
	dress(g, &sd->spec);
	if (opening) {
		sd->spec.tcp_flags = PKT_SYN;
		sd->spec.ttl = 64;
		sd->spec.vlan = false;
		sd->spec.ext.type = PKT_EXT_NONE;
		sd->spec.payload_len = rnd(g, 40);
	}
}

/* Any frame at all: other protocols, addresses and ports. */
static void seed_other(struct rng *g, struct seed *sd)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 132, 47, 4, 41, 0, 50};
	const struct fz_vip *v = &model.vips[rnd(g, model.n_vips)];
	int fam = v->svc.ip.family;

	memset(&sd->spec, 0, sizeof(sd->spec));
	client_addr(g, fam, sd->saddr, sizeof(sd->saddr));
	if (chance(g, 70))
		xlb_ip_str(&v->svc.ip, sd->daddr, sizeof(sd->daddr));
	else if (chance(g, 50))
		snprintf(sd->daddr, sizeof(sd->daddr), "%s",
			 fam == AF_INET ? "10.97.0.1" : "fd00:97::1");
	else
		snprintf(sd->daddr, sizeof(sd->daddr), "%s",
			 fam == AF_INET ? "10.0.0.1" : "fd00::1");
	sd->spec.family = fam;
	sd->spec.saddr = sd->saddr;
	sd->spec.daddr = sd->daddr;
	sd->spec.proto = protos[rnd(g, sizeof(protos))];
	if (sd->spec.proto == 58 && fam == AF_INET)
		sd->spec.proto = 1;
	if (sd->spec.proto == 1 && fam == AF_INET6)
		sd->spec.proto = 58;
	if (sd->spec.proto == 0 && fam == AF_INET6)
		sd->spec.proto = 59;
	sd->spec.sport = 1 + rnd(g, 65535);
	sd->spec.dport = chance(g, 50) ? v->svc.port : rnd(g, 65536);
	sd->spec.icmp_type = fam == AF_INET ? 8 : 128;
	sd->ingress = chance(g, 50) ? if_client : if_reals;
	dress(g, &sd->spec);
}

/* A reply of a real to the session (laddr, lport) of a fullnat VIP. */
static void seed_reply(struct rng *g, struct seed *sd,
		       const struct fz_judgement *setup)
{
	int fam = sd->vip->svc.ip.family;

	addr_str(fam, &setup->raddr, sd->qsaddr, sizeof(sd->qsaddr));
	addr_str(fam, &setup->laddr, sd->qdaddr, sizeof(sd->qdaddr));
	memset(&sd->spec, 0, sizeof(sd->spec));
	sd->spec.family = fam;
	sd->spec.saddr = sd->qsaddr;
	sd->spec.daddr = sd->qdaddr;
	sd->spec.proto = sd->vip->svc.proto;
	sd->spec.sport = sd->vip->svc.port;
	sd->spec.dport = ntohs(setup->lport);
	sd->ingress = chance(g, 80) ? if_reals : if_client;
	dress(g, &sd->spec);
	if (chance(g, 60))
		sd->spec.tcp_flags = PKT_SYN | PKT_ACK;
}

/*
 * An ICMP error about a flow: to the VIP (quoting VIP:vport -> client)
 * or to the local address (quoting laddr:lport -> real:vport).
 */
static void seed_icmp(struct rng *g, struct seed *sd, const char *from,
		      const char *to, const char *qsrc, const char *qdst,
		      uint16_t qsport, uint16_t qdport, int ingress)
{
	int fam = sd->vip->svc.ip.family;

	memset(&sd->quote, 0, sizeof(sd->quote));
	sd->quote.family = fam;
	sd->quote.saddr = qsrc;
	sd->quote.daddr = qdst;
	sd->quote.proto = sd->vip->svc.proto;
	sd->quote.sport = qsport;
	sd->quote.dport = qdport;
	sd->quote.tcp_flags = PKT_ACK;
	sd->quote.seq = next(g);
	sd->quote.payload_len = rnd(g, 100);
	sd->quote.ttl = 1 + rnd(g, 64);
	memset(&sd->spec, 0, sizeof(sd->spec));
	sd->spec.family = fam;
	sd->spec.saddr = from;
	sd->spec.daddr = to;
	sd->spec.proto = fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (fam == AF_INET) {
		sd->spec.icmp_type = chance(g, 70) ? 3 : 11;
		sd->spec.icmp_code = sd->spec.icmp_type == 3 ? 4 : 0;
	} else {
		sd->spec.icmp_type = 1 + rnd(g, 3);
	}
	sd->spec.mtu = 1280 + rnd(g, 200);
	sd->spec.quote = &sd->quote;
	/* Routers quote the header and 8 bytes, or more, or less. */
	switch (rnd(g, 4)) {
	case 0:
		sd->spec.quote_len = (fam == AF_INET ? 20 : 40) + 8;
		break;
	case 1:
		sd->spec.quote_len = (fam == AF_INET ? 20 : 40) + 4 + rnd(g, 8);
		break;
	default:
		sd->spec.quote_len = 0;
	}
	sd->ingress = ingress;
	sd->spec.ttl = 1 + rnd(g, 255);
	sd->spec.tos = chance(g, 20) ? rnd(g, 256) : 0;
	if (chance(g, 3)) {
		sd->spec.vlan = true;
		sd->spec.vlan_tci = vlan_tci(g);
	}
}

/* ---- mutation ---------------------------------------------------------- */

/* Header boundaries of a built frame, for truncation and length work. */
struct bounds {
	size_t l3, l4, q; /* q: the quote, 0 if none */
	int family;
};

static void set16(struct pkt *p, size_t off, uint16_t v)
{
	if (off + 2 <= p->len) {
		p->buf[off] = v >> 8;
		p->buf[off + 1] = v & 0xff;
	}
}

static uint16_t at16(const struct pkt *p, size_t off)
{
	return off + 2 <= p->len
		       ? (uint16_t)(p->buf[off] << 8 | p->buf[off + 1])
		       : 0;
}

static int16_t small_delta(struct rng *g)
{
	static const int16_t d[] = {-40, -20, -8, -4, -2, -1,
				    1,	 2,   4,  8,  20, 100};

	return d[rnd(g, sizeof(d) / sizeof(d[0]))];
}

static void put_addr_str(struct pkt *p, size_t off, int family, const char *s)
{
	uint8_t a[16];

	if (inet_pton(family, s, a) == 1 &&
	    off + (family == AF_INET ? 4 : 16) <= p->len)
		memcpy(p->buf + off, a, family == AF_INET ? 4 : 16);
}

static void mutate_source(struct rng *g, struct pkt *p, const struct bounds *b)
{
	static const char *v4[] = {
		"0.0.0.0",    "0.1.2.3",   "127.0.0.1",	      "224.0.0.1",
		"239.1.1.1",  "240.0.0.1", "255.255.255.255", "10.100.0.1",
		"10.100.0.3", "10.97.0.1", "10.97.0.2"};
	static const char *v6[] = {"::",
				   "::1",
				   "ff02::1",
				   "ff0e::5",
				   "::ffff:10.0.0.1",
				   "::ffff:127.0.0.1",
				   "fd00:100::1",
				   "fd00:100::3",
				   "fd00:97::1"};

	if (b->l4 && chance(g, 30)) {
		set16(p, b->l4, 0); /* source port 0 */
		return;
	}
	if (b->family == AF_INET)
		put_addr_str(p, b->l3 + 12, AF_INET,
			     v4[rnd(g, sizeof(v4) / sizeof(v4[0]))]);
	else
		put_addr_str(p, b->l3 + 8, AF_INET6,
			     v6[rnd(g, sizeof(v6) / sizeof(v6[0]))]);
}

/* Change the quote of an ICMP error: another of our addresses, ports. */
static void mutate_quote(struct rng *g, struct pkt *p, const struct bounds *b)
{
	static const char *v4[] = {"10.100.0.1", "10.100.0.2", "10.100.0.3",
				   "10.100.0.4", "10.97.0.1",  "10.97.0.2"};
	static const char *v6[] = {"fd00:100::1", "fd00:100::3", "fd00:97::1"};
	size_t qs = b->q + (b->family == AF_INET ? 12 : 8);
	size_t qports =
		b->q + (b->family == AF_INET ? 4 * (p->buf[b->q] & 0xf) : 40);

	switch (rnd(g, 4)) {
	case 0:
		if (b->family == AF_INET)
			put_addr_str(p, qs, AF_INET, v4[rnd(g, 6)]);
		else
			put_addr_str(p, qs, AF_INET6, v6[rnd(g, 3)]);
		break;
	case 1:
		set16(p, qports + 2, 1024 + rnd(g, 2000)); /* other client */
		break;
	case 2:
		set16(p, qports, chance(g, 50) ? 53 : 80); /* other service */
		break;
	default:
		p->buf[qs + (b->family == AF_INET ? 7 : 31)] ^= 1 + rnd(g, 255);
	}
}

static void insert_bytes(struct pkt *p, size_t off, const uint8_t *b, size_t n)
{
	if (p->len + n > PKT_MAX || off > p->len)
		return;
	memmove(p->buf + off + n, p->buf + off, p->len - off);
	memcpy(p->buf + off, b, n);
	p->len += n;
}

static void mutate_once(struct rng *g, struct pkt *p, const struct bounds *b)
{
	static const uint8_t interesting[] = {
		0,    1,    2,	  4,	5,    6,    0x0f, 0x10, 0x11,
		0x2b, 0x3a, 0x40, 0x45, 0x7f, 0x80, 0xfe, 0xff};
	size_t span, cut, ip_len, x;
	int k;

	switch (rnd(g, 14)) {
	case 0: /* bit flips in the headers */
		span = p->len < 96 ? p->len : 96;
		for (k = 1 + rnd(g, 3); k > 0; k--) {
			x = rnd(g, span);
			p->buf[x] ^= 1 << rnd(g, 8);
		}
		break;
	case 1: /* bit flip anywhere */
		x = rnd(g, p->len);
		p->buf[x] ^= 1 << rnd(g, 8);
		break;
	case 2: /* an interesting byte in the headers */
		span = p->len < 96 ? p->len : 96;
		p->buf[rnd(g, span)] = interesting[rnd(g, sizeof(interesting))];
		break;
	case 3: { /* truncation at a header boundary */
		size_t cuts[] = {12,
				 14,
				 b->l3 + 1,
				 b->l3 + 9,
				 b->l3 + 20,
				 b->l3 + 40,
				 b->l4,
				 b->l4 + 4,
				 b->l4 + 8,
				 b->l4 + 13,
				 b->l4 + 20,
				 b->l4 + 24,
				 b->q ? b->q + 8 : b->l4 + 2,
				 b->q ? b->q + 20 : b->l4 + 6,
				 b->q ? b->q + 24 : b->l4 + 16,
				 b->q ? b->q + 28 : b->l4 + 18,
				 b->q ? b->q + 40 : b->l4 + 30,
				 b->q ? b->q + 44 : b->l4 + 40,
				 p->len - 1};

		cut = cuts[rnd(g, sizeof(cuts) / sizeof(cuts[0]))];
		cut += rnd(g, 3) - 1;
		if (cut < p->len)
			p->len = cut;
		break;
	}
	case 4: /* the IP length field off by some */
		if (b->family == AF_INET)
			set16(p, b->l3 + 2,
			      at16(p, b->l3 + 2) + small_delta(g));
		else
			set16(p, b->l3 + 4,
			      at16(p, b->l3 + 4) + small_delta(g));
		break;
	case 5: /* IHL, TCP data offset, UDP length */
		if (b->family == AF_INET && chance(g, 40) && b->l3 < p->len)
			p->buf[b->l3] = 0x40 | rnd(g, 16);
		else if (b->l4 + 13 < p->len && chance(g, 50))
			p->buf[b->l4 + 12] = (uint8_t)(rnd(g, 16) << 4);
		else
			set16(p, b->l4 + 4,
			      at16(p, b->l4 + 4) + small_delta(g));
		break;
	case 6: { /* a trailer after the IP packet */
		uint8_t junk[64];

		for (k = 0; k < 64; k++)
			junk[k] = chance(g, 30) ? 0 : rnd(g, 256);
		insert_bytes(p, p->len, junk, 1 + rnd(g, 64));
		break;
	}
	case 7: /* the IP packet shorter than the frame: its end is a trailer */
		if (b->family == AF_INET) {
			ip_len = at16(p, b->l3 + 2);
			set16(p, b->l3 + 2,
			      ip_len - rnd(g, ip_len < 40 ? 8 : 40));
		} else {
			ip_len = at16(p, b->l3 + 4);
			set16(p, b->l3 + 4,
			      ip_len - rnd(g, ip_len < 16 ? 8 : 24));
		}
		break;
	case 8: { /* another protocol */
		static const uint8_t pr[] = {0,	 1,  4,	 6,  17, 41,  43, 44,
					     47, 50, 58, 59, 60, 132, 255};

		x = b->family == AF_INET ? b->l3 + 9 : b->l3 + 6;
		if (x < p->len)
			p->buf[x] = chance(g, 70) ? pr[rnd(g, sizeof(pr))]
						  : rnd(g, 256);
		break;
	}
	case 9:
		mutate_source(g, p, b);
		break;
	case 10: { /* VLAN tags: one, or QinQ */
		uint8_t tags[8] = {0x81, 0x00, 0, 0, 0x81, 0x00, 0, 0};
		uint16_t tci = vlan_tci(g);

		tags[2] = tci >> 8;
		tags[3] = tci & 0xff;
		tci = vlan_tci(g);
		tags[6] = tci >> 8;
		tags[7] = tci & 0xff;
		if (chance(g, 50)) {
			tags[0] = 0x88;
			tags[1] = 0xa8;
			insert_bytes(p, 12, tags, 8);
		} else {
			insert_bytes(p, 12, tags, 4);
		}
		break;
	}
	case 11: /* TCP flags, IPv6 routing segments left, hop limit */
		if (b->family == AF_INET6 && chance(g, 40) &&
		    b->l3 + 43 < p->len && p->buf[b->l3 + 6] == 43)
			p->buf[b->l3 + 43] = 1 + rnd(g, 4);
		else if (b->l4 + 14 < p->len)
			p->buf[b->l4 + 13] =
				tcp_flag_set[rnd(g, sizeof(tcp_flag_set))];
		break;
	case 12:
		if (b->q)
			mutate_quote(g, p, b);
		else
			mutate_source(g, p, b);
		break;
	default: /* a byte set anywhere */
		p->buf[rnd(g, p->len)] = rnd(g, 256);
	}
	/* BPF_PROG_TEST_RUN takes no frame shorter than Ethernet. */
	if (p->len < ETH_HLEN)
		p->len = ETH_HLEN;
}

/* ---- cases ----------------------------------------------------------- */

enum seed_kind {
	SK_TUNNEL,
	SK_FULLNAT,
	SK_REPLY,
	SK_TUN_ICMP,
	SK_NAT_ICMP_VIP,
	SK_NAT_ICMP_LOCAL,
	SK_OTHER,
	SK_MAX,
};

static const char *const seed_names[SK_MAX] = {
	"tunnel request",
	"fullnat request",
	"fullnat reply",
	"tunnel icmp error",
	"fullnat icmp error to vip",
	"fullnat icmp error to local address",
	"other frame",
};

static uint64_t n_valid_not_fwd;

/* Run a frame, judge it, count it. Returns the judgement. */
static void run_judged(struct pkt *p, int ingress, bool pristine,
		       uint64_t case_no, const char *what, bool verbose,
		       struct fz_judgement *j)
{
	struct fz_run r;

	run_frame(p, ingress, &r);
	fz_judge(&model, &r, j);
	n_packets++;
	n_verdict[r.retval < 5 ? r.retval : 0]++;
	n_reason[r.reason]++;
	if (!j->cls && pristine && !j->input_class && !j->forwarded &&
	    r.reason != XLB_R_DROP_FRAG_NEEDED &&
	    /* Too big once encapsulated: answered (judged by the oracle). */
	    r.reason != XLB_R_FWD_ICMP_TOO_BIG &&
	    r.reason != XLB_R_DROP_NAT_NO_PORT &&
	    r.reason != XLB_R_DROP_NAT_TABLE_FULL) {
		j->cls = "valid_packet_not_forwarded";
		snprintf(j->detail, sizeof(j->detail), "reason %s",
			 xlb_reason_names[r.reason]);
		n_valid_not_fwd++;
	}
	if (verbose)
		printf("case %llu packet %llu (%s): verdict %u reason %s, "
		       "input "
		       "%s%s%s\n",
		       (unsigned long long)case_no,
		       (unsigned long long)n_packets, what, r.retval,
		       xlb_reason_names[r.reason],
		       j->input_class ? "may not be forwarded: "
				      : "forwardable",
		       j->input_class ? j->input_class : "",
		       j->cls ? " -> VIOLATION" : "");
	if (j->cls)
		report(&r, j, case_no, what, verbose);
}

static bool build(struct pkt *p, const struct pkt_spec *s, struct bounds *b)
{
	if (pkt_build(p, s))
		return false;
	b->l3 = p->l3_off;
	b->l4 = p->l4_off;
	b->family = s->family;
	b->q = s->quote ? p->l4_off + 8 : 0;
	return true;
}

static void run_case(uint64_t case_no, bool verbose)
{
	struct rng g = {.s = seed ^ (case_no * 0xd1b54a32d192ed03ull)};
	enum seed_kind kind = rnd(&g, SK_MAX);
	struct fz_judgement setup, j;
	char client[64], vaddr[64];
	struct seed sd;
	struct bounds b;
	struct pkt p;
	bool pristine;
	int k, n;

	next(&g);
	memset(&sd, 0, sizeof(sd));
	switch (kind) {
	case SK_TUNNEL:
	case SK_FULLNAT:
		seed_request(&g, &sd, kind == SK_FULLNAT, false);
		break;
	case SK_OTHER:
		seed_other(&g, &sd);
		break;
	default:
		/* The flow first: an unmutated opening packet, judged. */
		seed_request(&g, &sd, kind != SK_TUN_ICMP, true);
		if (!build(&p, &sd.spec, &b))
			return;
		run_judged(&p, if_client, true, case_no, "setup", verbose,
			   &setup);
		if (!setup.forwarded ||
		    (kind != SK_TUN_ICMP && !setup.nat_req)) {
			kind = SK_OTHER;
			seed_other(&g, &sd);
			break;
		}
		snprintf(client, sizeof(client), "%s", sd.saddr);
		snprintf(vaddr, sizeof(vaddr), "%s", sd.daddr);
		if (kind == SK_REPLY) {
			seed_reply(&g, &sd, &setup);
		} else if (kind == SK_NAT_ICMP_LOCAL) {
			addr_str(sd.vip->svc.ip.family, &setup.laddr, sd.qsaddr,
				 sizeof(sd.qsaddr));
			addr_str(sd.vip->svc.ip.family, &setup.raddr, sd.qdaddr,
				 sizeof(sd.qdaddr));
			snprintf(sd.saddr, sizeof(sd.saddr), "%s",
				 chance(&g, 50) ? sd.qdaddr
				 : sd.vip->svc.ip.family == AF_INET
					 ? "10.1.0.50"
					 : "fd01::50");
			seed_icmp(&g, &sd, sd.saddr, sd.qsaddr, sd.qsaddr,
				  sd.qdaddr, ntohs(setup.lport),
				  sd.vip->svc.port, if_reals);
		} else {
			snprintf(sd.qsaddr, sizeof(sd.qsaddr), "%s", vaddr);
			snprintf(sd.qdaddr, sizeof(sd.qdaddr), "%s", client);
			snprintf(sd.saddr, sizeof(sd.saddr), "%s",
				 sd.vip->svc.ip.family == AF_INET
					 ? "198.51.100.7"
					 : "2001:db8:ffff::7");
			seed_icmp(&g, &sd, sd.saddr, sd.qsaddr, sd.qsaddr,
				  sd.qdaddr, sd.spec.dport, sd.spec.sport,
				  if_client);
		}
	}
	if (!build(&p, &sd.spec, &b))
		return;
	/* One case in eight is left as built: valid traffic must pass. */
	pristine = chance(&g, 12);
	if (!pristine) {
		n = 1 + rnd(&g, 3);
		for (k = 0; k < n; k++)
			mutate_once(&g, &p, &b);
		if (chance(&g, 65))
			pkt_fix_checksums(&p);
	}
	run_judged(&p, sd.ingress, pristine, case_no, seed_names[kind], verbose,
		   &j);
}

/* ---- the session table against the oracle's -------------------------- */

struct state_scan {
	size_t n, unknown;
	struct xlb_flow_key keys[64];
};

static void state_one(const struct xlb_flow_key *key,
		      const struct xlb_nat_fwd *e, void *arg)
{
	struct state_scan *s = arg;
	struct xlb_real real;

	s->n++;
	if (fz_session_known(&model, key))
		return;
	if (s->unknown < 64)
		s->keys[s->unknown] = *key;
	s->unknown++;
	if (xlb_dp_real_get(dp, e->real_id, &real))
		fz_session_adopt(&model, key, NULL, 0, NULL);
	else
		fz_session_adopt(&model, key, &e->laddr, e->lport, &real.addr);
}

/*
 * Sessions in nat_fwd that no legitimate forward made (a non-SYN, a
 * malformed or a dropped packet did): each is counted once.
 */
static void check_state(uint64_t from, uint64_t to)
{
	struct state_scan *s = calloc(1, sizeof(*s));
	const char *name = "fullnat_session_not_from_a_legit_forward";
	struct fz_class *c;
	struct xlb_ip ip;
	char a[64];

	if (!s || xlb_dp_nat_foreach(dp, state_one, s))
		die("reading nat_fwd");
	if (!s->unknown)
		goto out;
	c = class_of(name);
	n_findings += s->unknown;
	if (!c->count) {
		c->first_case = to;
		c->first_packet = n_packets;
	}
	c->count += s->unknown;
	if (quiet || c->count - s->unknown >= LINES_PER_CLASS)
		goto out;
	ip.family = s->keys[0].family == XLB_AF_INET ? AF_INET : AF_INET6;
	ip.a = s->keys[0].saddr;
	xlb_ip_str(&ip, a, sizeof(a));
	printf("FINDING %s: seed=%llu cases %llu-%llu: %zu new sessions "
	       "in nat_fwd (e.g. client %s port %u, vip id %u, proto %u); "
	       "-k 1 finds the case\n",
	       name, (unsigned long long)seed, (unsigned long long)from,
	       (unsigned long long)to, s->unknown, a, ntohs(s->keys[0].sport),
	       s->keys[0].vip_id, s->keys[0].proto);
out:
	free(s);
}

/*
 * Expire every session, as the agent's sweep would an hour later, so
 * that the table never fills with the flood the fuzzer itself makes;
 * the oracle forgets them too.
 */
static void expire_sessions(void)
{
	struct xlb_nat_gc_stats st;
	struct timespec ts;
	uint64_t later;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	later = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec +
		3600ull * 1000000000ull;
	if (xlb_dp_nat_gc(dp, &model.g, later, &st))
		die("expiring sessions");
	fz_sessions_reset(&model);
}

/* ---- main ------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: fuzz_datapath [-n PACKETS] [-s SEED] [-c CASE] [-q] "
		"[-k EVERY]\n"
		"  -n  packets to run (default 1000000)\n"
		"  -s  seed (default: from the clock; printed)\n"
		"  -c  replay this one case of the seed, verbosely\n"
		"  -k  compare the session table every EVERY cases "
		"(default 4096)\n"
		"  -q  only the summary\n");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t packets = 1000000, only = UINT64_MAX, every = 4096, c, last;
	uint64_t fills;
	bool have_seed = false;
	cpu_set_t set;
	double t0, dt;
	int opt, i;

	while ((opt = getopt(argc, argv, "n:s:c:k:qh")) != -1) {
		switch (opt) {
		case 'n':
			packets = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'c':
			only = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			every = strtoull(optarg, NULL, 0);
			break;
		case 'q':
			quiet = true;
			break;
		default:
			usage();
		}
	}
	if (!have_seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (!every)
		every = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* One CPU: conntrack and the port range are per CPU. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	xlb_log_set_level(XLB_LOG_WARN);
	lab_setup(only == UINT64_MAX ? packets : 16);
	if (read_reasons(reasons_prev))
		die("reading reason_stats");
	printf("fuzz_datapath: seed=%llu packets=%llu (replay: SEED=%llu)\n",
	       (unsigned long long)seed, (unsigned long long)packets,
	       (unsigned long long)seed);

	t0 = now_s();
	if (only != UINT64_MAX) {
		run_case(only, true);
		check_state(only, only);
	} else {
		for (c = 0, last = 0; n_packets < packets; c++) {
			run_case(c, false);
			if ((c + 1) % every == 0 ||
			    (c + 1) % EXPIRE_EVERY == 0) {
				check_state(last, c);
				last = c + 1;
			}
			if ((c + 1) % EXPIRE_EVERY == 0)
				expire_sessions();
		}
		check_state(last, c);
	}
	dt = now_s() - t0;

	printf("\n%llu packets in %.1f s (%.0f packets/s): %llu pass, %llu "
	       "drop, %llu tx, %llu redirect\n",
	       (unsigned long long)n_packets, dt, n_packets / (dt > 0 ? dt : 1),
	       (unsigned long long)n_verdict[XDP_PASS],
	       (unsigned long long)n_verdict[XDP_DROP],
	       (unsigned long long)n_verdict[XDP_TX],
	       (unsigned long long)n_verdict[XDP_REDIRECT]);
	printf("reasons:");
	for (i = 0; i < XLB_R_MAX; i++)
		if (n_reason[i])
			printf(" %s=%llu", xlb_reason_names[i],
			       (unsigned long long)n_reason[i]);
	printf("\n");
	if (!xlb_dp_fc_fills(dp, &fills))
		printf("flow cache: %llu slots filled (the other established "
		       "packets were sent from them)\n",
		       (unsigned long long)fills);
	if (n_classes)
		printf("violations by class (first case, packet):\n");
	for (i = 0; i < n_classes; i++)
		printf("  %-40s %8llu  (seed=%llu case=%llu packet=%llu)\n",
		       classes[i].name, (unsigned long long)classes[i].count,
		       (unsigned long long)seed,
		       (unsigned long long)classes[i].first_case,
		       (unsigned long long)classes[i].first_packet);
	if (n_findings) {
		printf("FAIL fuzz_datapath: %llu of %llu packets broke the "
		       "oracle's rules in %d classes (seed %llu)\n",
		       (unsigned long long)n_findings,
		       (unsigned long long)n_packets, n_classes,
		       (unsigned long long)seed);
		return 1;
	}
	printf("PASS fuzz_datapath: %llu packets, 0 violations (seed %llu, "
	       "%.0f packets/s)\n",
	       (unsigned long long)n_packets, (unsigned long long)seed,
	       n_packets / (dt > 0 ? dt : 1));
	return 0;
}
