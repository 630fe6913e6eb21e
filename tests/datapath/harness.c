// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Data-path test harness; see harness.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <criterion/criterion.h>

#include "harness.h"
#include "../lib/dp_net.h"
#include "xlb_hash.h"

struct xlb_dp *h_dp;
struct xlb_agent *h_agent;

/* Run a shell command in the test's namespace; it must succeed. */
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	cr_assert_eq(rc, 0, "command failed (%d): %s", rc, cmd);
}

/* The lab of tests/lib/dp_net.h, in a namespace of the test's own. */
static void build_namespace(void)
{
	char err[600];

	cr_assert_eq(dp_net_build(err, sizeof(err)), 0, "%s", err);
}

/* Start-up settings for the next setup (h_opt_*). */
static uint32_t opt_guard_rate = XLB_FLOOD_GUARD_RATE_DEFAULT;
/* The VLAN ids balanced on the client side (xt0) and the real side. */
static uint64_t opt_vlans[2][XLB_VLAN_WORDS];

void h_opt_flood_guard(uint32_t rate)
{
	opt_guard_rate = rate;
}

void h_opt_vlan_if(const char *ifname, uint16_t vid)
{
	int side = !strcmp(ifname, H_IF_REALS);

	cr_assert(side || !strcmp(ifname, H_IF_CLIENT), "no interface %s",
		  ifname);
	opt_vlans[side][vid / 64] |= 1ULL << (vid % 64);
}

void h_opt_vlan(uint16_t vid)
{
	h_opt_vlan_if(H_IF_CLIENT, vid);
	h_opt_vlan_if(H_IF_REALS, vid);
}

/* The vlans map as xlbd writes it for its two interfaces. */
static void write_vlans(void)
{
	struct xlb_dp_vlans ifs[2] = {
		{(int)if_nametoindex(H_IF_CLIENT), opt_vlans[0]},
		{(int)if_nametoindex(H_IF_REALS), opt_vlans[1]},
	};
	int ret = xlb_dp_vlans_sync(h_dp, ifs, 2);

	cr_assert_eq(ret, 0, "xlb_dp_vlans_sync: %s", strerror(-ret));
}

/* Open the program with a session table of nat_sessions (0: default). */
static void setup(uint32_t nat_sessions)
{
	struct xlb_dp_opts opts = {
		.max_vips = 64,
		.max_reals = 256,
		.ct_size = 8192,
		.nat_sessions = nat_sessions,
		.flood_guard_rate = opt_guard_rate,
		.fc_size = XLB_DP_FC_DEFAULT, /* as xlbd runs it */
	};
	struct xlb_config cfg;
	char err[XLB_ERR_LEN];
	int ret;

	build_namespace();
	ret = xlb_dp_open(&opts, &h_dp, err, sizeof(err));
	cr_assert_eq(ret, 0, "xlb_dp_open: %s", err);
	write_vlans();
	cr_assert_eq(xlb_agent_new(h_dp, &h_agent), 0);
	xlb_config_defaults(&cfg);
	cr_assert_eq(xlb_agent_set_globals(h_agent, &cfg), 0);
	xlb_config_free(&cfg);
}

void h_setup(void)
{
	setup(8192);
}

/* A devmap entry for ifname, as xlbd makes for each interface. */
static void tx_port(const char *ifname)
{
	uint32_t ifindex = if_nametoindex(ifname);
	int fd = xlb_dp_map_fd(h_dp, "tx_ports");

	cr_assert_gt(ifindex, 0, "no interface %s", ifname);
	cr_assert_geq(fd, 0, "no tx_ports map");
	cr_assert_eq(bpf_map_update_elem(fd, &ifindex, &ifindex, BPF_ANY), 0,
		     "tx_ports %s: %s", ifname, strerror(errno));
}

void h_nat_setup_sized(uint32_t nat_sessions)
{
	char err[600];

	setup(nat_sessions);
	cr_assert_eq(dp_net_client_routes(err, sizeof(err)), 0, "%s", err);
	tx_port(H_IF_CLIENT);
	tx_port(H_IF_REALS);
	/* A route epoch, as xlbd's resolver starts one: FULLNAT replies
	 * keep their next hop, as they do under xlbd. */
	cr_assert_eq(xlb_dp_nh_epoch_next(h_dp), 0);
}

void h_nat_setup(void)
{
	h_nat_setup_sized(8192);
}

void h_nat_config(uint16_t port_min, uint16_t port_max)
{
	struct xlb_config cfg;

	xlb_config_defaults(&cfg);
	cfg.nat.port_min = port_min;
	cfg.nat.port_max = port_max;
	cr_assert_eq(xlb_agent_set_globals(h_agent, &cfg), 0,
		     "set globals, ports %u-%u", port_min, port_max);
	xlb_config_free(&cfg);
}

void h_icmp_rate(uint16_t rate)
{
	struct xlb_config cfg;

	xlb_config_defaults(&cfg);
	cfg.icmp_rate = rate;
	cr_assert_eq(xlb_agent_set_globals(h_agent, &cfg), 0,
		     "set globals, icmp_rate %u", rate);
	xlb_config_free(&cfg);
}

void h_mtu(const char *ifname, int mtu)
{
	sh("ip link set %s mtu %d", ifname, mtu);
}

void h_globals(struct xlb_globals *g)
{
	int fd = xlb_dp_map_fd(h_dp, "globals");
	uint32_t zero = 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(bpf_map_lookup_elem(fd, &zero, g), 0);
}

void h_teardown(void)
{
	xlb_agent_free(h_agent);
	xlb_dp_close(h_dp, true);
	h_agent = NULL;
	h_dp = NULL;
}

void h_run_if(const struct pkt *in, struct h_result *res, int cpu,
	      const char *ifname)
{
	uint64_t before[XLB_R_MAX], after[XLB_R_MAX];
	struct xdp_md ctx = {
		.data_end = in->len,
		.ingress_ifindex = if_nametoindex(ifname),
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->buf,
		    .data_size_in = in->len, .data_out = res->out,
		    .data_size_out = sizeof(res->out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	cpu_set_t set;
	int i, ret;

	cr_assert_gt(ctx.ingress_ifindex, 0, "no interface %s", ifname);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0,
			     "pin to CPU %d: %s", cpu, strerror(errno));
	}
	cr_assert_eq(xlb_dp_reasons(h_dp, before), 0);
	ret = bpf_prog_test_run_opts(xlb_dp_prog_fd(h_dp), &opts);
	cr_assert_eq(ret, 0, "BPF_PROG_TEST_RUN: %s", strerror(errno));
	res->retval = opts.retval;
	res->out_len = opts.data_size_out;
	cr_assert_eq(xlb_dp_reasons(h_dp, after), 0);
	res->n_reasons_moved = 0;
	for (i = 0; i < XLB_R_MAX; i++) {
		if (after[i] == before[i])
			continue;
		res->n_reasons_moved++;
		res->reason = i;
		cr_assert_eq(after[i] - before[i], 1, "reason %s moved by %llu",
			     xlb_reason_names[i],
			     (unsigned long long)(after[i] - before[i]));
	}
	cr_assert_eq(res->n_reasons_moved, 1,
		     "exactly one reason counter must move, %d did",
		     res->n_reasons_moved);
}

void h_run(const struct pkt *in, struct h_result *res)
{
	h_run_if(in, res, -1, H_IF_CLIENT);
}

void h_run_on_cpu(const struct pkt *in, struct h_result *res, int cpu)
{
	h_run_if(in, res, cpu, H_IF_CLIENT);
}

static void parse_svc(const char *s, struct xlb_service *svc)
{
	cr_assert_eq(xlb_service_parse(s, svc), 0, "bad VIP %s", s);
}

static void parse_ip(const char *s, struct xlb_ip *ip)
{
	cr_assert_eq(xlb_ip_parse(s, ip), 0, "bad address %s", s);
}

void h_vip(const char *vip, enum xlb_hash_mode hash, uint32_t table_size)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];

	parse_svc(vip, &svc);
	cr_assert_eq(
		xlb_vip_add(h_agent, &svc, hash, table_size, err, sizeof(err)),
		0, "vip add %s: %s", vip, err);
}

void h_real(const char *vip, const char *real, uint32_t weight)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;

	parse_svc(vip, &svc);
	parse_ip(real, &ip);
	cr_assert_eq(xlb_real_add(h_agent, &svc, &ip, weight, err, sizeof(err)),
		     0, "real add %s %s: %s", vip, real, err);
}

void h_real_del(const char *vip, const char *real)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;

	parse_svc(vip, &svc);
	parse_ip(real, &ip);
	cr_assert_eq(xlb_real_del(h_agent, &svc, &ip, err, sizeof(err)), 0,
		     "real del %s %s: %s", vip, real, err);
}

void h_weight(const char *vip, const char *real, uint32_t weight)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;

	parse_svc(vip, &svc);
	parse_ip(real, &ip);
	cr_assert_eq(xlb_real_set_weight(h_agent, &svc, &ip, weight, err,
					 sizeof(err)),
		     0, "real set %s %s: %s", vip, real, err);
}

void h_health(const char *vip, const char *real, bool up)
{
	struct xlb_service svc;
	struct xlb_ip ip;

	parse_svc(vip, &svc);
	parse_ip(real, &ip);
	cr_assert_eq(xlb_real_set_health(h_agent, &svc, &ip, up), 0,
		     "health %s %s", vip, real);
}

void h_drain(const char *vip, const char *real, bool drain)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;

	parse_svc(vip, &svc);
	parse_ip(real, &ip);
	cr_assert_eq(
		xlb_real_set_drain(h_agent, &svc, &ip, drain, err, sizeof(err)),
		0, "drain %s %s: %s", vip, real, err);
}

void h_vip_mode(const char *vip, enum xlb_fwd_mode mode, uint16_t mss)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];

	parse_svc(vip, &svc);
	cr_assert_eq(
		xlb_vip_set_mode(h_agent, &svc, mode, mss, err, sizeof(err)), 0,
		"vip mode %s: %s", vip, err);
}

void h_vip_encap(const char *vip, bool gue)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN];

	parse_svc(vip, &svc);
	cr_assert_eq(xlb_vip_set_encap(h_agent, &svc, gue, err, sizeof(err)), 0,
		     "vip encap %s: %s", vip, err);
}

void h_laddr(const char *addr)
{
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;

	parse_ip(addr, &ip);
	cr_assert_eq(xlb_laddr_add(h_agent, &ip, err, sizeof(err)), 0,
		     "laddr add %s: %s", addr, err);
}

void h_laddr_del(const char *addr)
{
	char err[XLB_ERR_LEN];
	struct xlb_ip ip;

	parse_ip(addr, &ip);
	cr_assert_eq(xlb_laddr_del(h_agent, &ip, err, sizeof(err)), 0,
		     "laddr del %s: %s", addr, err);
}

/* Find a VIP (and optionally one real) in the agent's JSON view. */
static json_t *find_json(const char *vip, const char *real)
{
	json_t *root = xlb_agent_vips_json(h_agent, true), *v, *r, *out;
	size_t i, j;

	json_array_foreach(json_object_get(root, "vips"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "vip")), vip))
			continue;
		if (!real) {
			out = json_incref(v);
			json_decref(root);
			return out;
		}
		json_array_foreach(json_object_get(v, "reals"), j, r) {
			if (!strcmp(json_string_value(
					    json_object_get(r, "address")),
				    real)) {
				out = json_incref(r);
				json_decref(root);
				return out;
			}
		}
	}
	json_decref(root);
	cr_assert_fail("no VIP %s real %s", vip, real ? real : "-");
	return NULL;
}

/* The "id" member of a VIP's or a real's JSON view. */
static uint32_t json_id(json_t *o)
{
	json_t *id = json_object_get(o, "id");
	uint32_t v;

	cr_assert(json_is_integer(id), "no id in the agent's view");
	v = json_integer_value(id);
	json_decref(o);
	return v;
}

uint32_t h_vip_id(const char *vip)
{
	return json_id(find_json(vip, NULL));
}

uint32_t h_real_id(const char *vip, const char *real)
{
	return json_id(find_json(vip, real));
}

void h_vip_counters(const char *vip, struct xlb_counters *c)
{
	cr_assert_eq(xlb_dp_vip_counters(h_dp, h_vip_id(vip), c), 0);
}

void h_real_counters(const char *vip, const char *real, struct xlb_counters *c)
{
	cr_assert_eq(xlb_dp_real_counters(h_dp, h_real_id(vip, real), c), 0);
}

/* One of the program's maps by name; the fd is not ours to close. */
static int map_fd(const char *name)
{
	int fd = xlb_dp_map_fd(h_dp, name);

	cr_assert_geq(fd, 0, "no map %s", name);
	return fd;
}

void h_nat_key(const char *vip, const char *client, uint16_t cport,
	       struct xlb_flow_key *key)
{
	struct xlb_service svc;
	struct xlb_ip ip;

	parse_svc(vip, &svc);
	parse_ip(client, &ip);
	memset(key, 0, sizeof(*key));
	key->saddr = ip.a;
	key->vip_id = h_vip_id(vip);
	key->sport = htons(cport);
	key->dport = htons(svc.port);
	key->proto = svc.proto;
	key->family = ip.family;
}

int h_nat_get(const char *vip, const char *client, uint16_t cport,
	      struct xlb_nat_fwd *e)
{
	struct xlb_flow_key key;

	h_nat_key(vip, client, cport, &key);
	if (bpf_map_lookup_elem(map_fd("nat_fwd"), &key, e))
		return -errno;
	return 0;
}

void h_nat_put(const char *vip, const char *client, uint16_t cport,
	       const struct xlb_nat_fwd *e)
{
	struct xlb_flow_key key;

	h_nat_key(vip, client, cport, &key);
	cr_assert_eq(bpf_map_update_elem(map_fd("nat_fwd"), &key, e, BPF_EXIST),
		     0, "nat_fwd update: %s", strerror(errno));
	/* A write the agent's functions would have made: slots go. */
	xlb_dp_fc_changed(h_dp);
}

void h_nat_del_fwd(const char *vip, const char *client, uint16_t cport)
{
	struct xlb_flow_key key;

	h_nat_key(vip, client, cport, &key);
	cr_assert_eq(bpf_map_delete_elem(map_fd("nat_fwd"), &key), 0,
		     "nat_fwd delete: %s", strerror(errno));
	xlb_dp_fc_changed(h_dp);
}

void h_nat_rev_key(uint8_t proto, const char *real, uint16_t rport,
		   const char *local, uint16_t lport, struct xlb_nat_key *key)
{
	struct xlb_ip r, l;

	parse_ip(real, &r);
	parse_ip(local, &l);
	memset(key, 0, sizeof(*key));
	key->raddr = r.a;
	key->laddr = l.a;
	key->rport = htons(rport);
	key->lport = htons(lport);
	key->proto = proto;
	key->family = r.family;
}

/* Entries of a hash map, walked by key. */
static size_t count_keys(const char *name, size_t key_size)
{
	uint8_t key[64], next[64];
	int fd = map_fd(name);
	size_t n = 0;
	void *prev = NULL;

	cr_assert_leq(key_size, sizeof(key));
	while (!bpf_map_get_next_key(fd, prev, next)) {
		n++;
		memcpy(key, next, key_size);
		prev = key;
	}
	return n;
}

size_t h_nat_count(void)
{
	return count_keys("nat_fwd", sizeof(struct xlb_flow_key));
}

size_t h_nat_rev_count(void)
{
	return count_keys("nat_rev", sizeof(struct xlb_nat_key));
}

uint64_t h_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint32_t h_tun_hash(const char *client, uint16_t sport, uint16_t dport,
		    uint8_t proto, bool src_only)
{
	struct xlb_ip ip;
	uint32_t ports = ((uint32_t)htons(sport) << 16) | htons(dport);

	parse_ip(client, &ip);
	return xlb_tun_hash(ip.a.addr, ports, proto, src_only);
}

void h_tunnel_src(int real_family, const char *client, uint16_t sport,
		  uint16_t dport, uint8_t proto, bool src_only, char *buf,
		  size_t len)
{
	uint32_t h = htonl(h_tun_hash(client, sport, dport, proto, src_only));
	struct xlb_config cfg;
	struct xlb_ip ip;
	uint32_t mask;

	xlb_config_defaults(&cfg);
	if (real_family == AF_INET) {
		ip = cfg.tun_src_v4;
		mask = htonl(0xffffffffu >> cfg.tun_src_v4_plen);
		ip.a.addr[0] = (ip.a.addr[0] & ~mask) | (h & mask);
	} else {
		ip = cfg.tun_src_v6;
		mask = htonl(0xffffffffu >> (cfg.tun_src_v6_plen - 96));
		ip.a.addr[3] = (ip.a.addr[3] & ~mask) | (h & mask);
	}
	xlb_config_free(&cfg);
	xlb_ip_str(&ip, buf, len);
}

const char *h_out_real(const struct h_result *res, char *buf, size_t len)
{
	struct pkt_info info;
	char why[128];

	cr_assert_eq(pkt_parse(res->out, res->out_len, &info, why, sizeof(why)),
		     0, "output does not parse: %s", why);
	cr_assert_geq(info.n_ip, 2, "output is not encapsulated");
	snprintf(buf, len, "%s", info.ip[0].dst);
	return buf;
}
