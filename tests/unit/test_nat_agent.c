// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's FULLNAT side over the real BPF object (loaded, never
 * attached; root): the local pool in nat_laddrs, vip_addrs and the
 * globals, VIP modes in the vips map, reconcile and adoption, and the
 * session sweep over nat_fwd/nat_rev entries written here by hand.
 */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "maps.h"
#include "xlb.h"
#include "../lib/bpffs.h"

static struct xlb_dp *dp;
static struct xlb_agent *agent;
static char err[XLB_ERR_LEN];

static void open_dp(const char *pin_path)
{
	struct xlb_dp_opts opts = {
		.max_vips = 16,
		.max_reals = 64,
		.ct_size = 1024,
		.nat_sessions = 4096,
		.pin_path = pin_path,
	};

	cr_assert_eq(xlb_dp_open(&opts, &dp, err, sizeof(err)), 0,
		     "xlb_dp_open: %s", err);
	cr_assert_eq(xlb_agent_new(dp, &agent), 0);
}

static void setup(void)
{
	struct xlb_config cfg;

	open_dp(NULL);
	xlb_config_defaults(&cfg);
	cr_assert_eq(xlb_agent_set_globals(agent, &cfg), 0);
}

static void teardown(void)
{
	xlb_agent_free(agent);
	xlb_dp_close(dp, true);
	agent = NULL;
	dp = NULL;
}

static struct xlb_ip ip(const char *s)
{
	struct xlb_ip a;

	cr_assert_eq(xlb_ip_parse(s, &a), 0, "%s", s);
	return a;
}

static struct xlb_service svc(const char *s)
{
	struct xlb_service v;

	cr_assert_eq(xlb_service_parse(s, &v), 0, "%s", s);
	return v;
}

static struct xlb_globals globals(void)
{
	struct xlb_globals g;

	cr_assert_eq(xlb_dp_get_globals(dp, &g), 0);
	return g;
}

/* The vip_addrs value of an address, 0 when it has no entry. */
static uint32_t addr_value(const char *s)
{
	struct xlb_ip a = ip(s);
	struct xlb_vip_addr_key k = {.addr = a.a, .family = a.family};
	uint32_t v = 0;

	bpf_map_lookup_elem(xlb_dp_map_fd(dp, "vip_addrs"), &k, &v);
	return v;
}

/* The text of slot i of a family's pool in nat_laddrs. */
static const char *slot_text(int family, uint32_t i)
{
	static char buf[XLB_IP_STRLEN];
	struct xlb_ip a = {.family = family};

	cr_assert_eq(xlb_dp_nat_laddr_get(dp, family, i, &a.a), 0);
	return xlb_ip_str(&a, buf, sizeof(buf));
}

static struct xlb_vip_meta vip_meta(const char *s)
{
	struct xlb_service v = svc(s);
	struct xlb_vip_key k = {
		.addr = v.ip.a,
		.port = htons(v.port),
		.proto = v.proto,
		.family = v.ip.family,
	};
	struct xlb_vip_meta m;

	cr_assert_eq(bpf_map_lookup_elem(xlb_dp_map_fd(dp, "vips"), &k, &m), 0);
	return m;
}

static void laddr_add(const char *s)
{
	struct xlb_ip a = ip(s);

	cr_assert_eq(xlb_laddr_add(agent, &a, err, sizeof(err)), 0, "%s: %s", s,
		     err);
}

static void vip_add(const char *s)
{
	struct xlb_service v = svc(s);

	cr_assert_eq(
		xlb_vip_add(agent, &v, XLB_HASH_MAGLEV, 251, err, sizeof(err)),
		0, "%s", err);
}

static int real_add(const char *v, const char *r)
{
	struct xlb_service s = svc(v);
	struct xlb_ip a = ip(r);

	return xlb_real_add(agent, &s, &a, 100, err, sizeof(err));
}

static int set_mode(const char *v, enum xlb_fwd_mode mode, uint16_t mss)
{
	struct xlb_service s = svc(v);

	return xlb_vip_set_mode(agent, &s, mode, mss, err, sizeof(err));
}

TestSuite(nat_agent, .init = setup, .fini = teardown);

Test(nat_agent, globals)
{
	struct xlb_globals g = globals();
	uint32_t ncpus = (uint32_t)xlb_dp_ncpus(dp);
	struct xlb_config cfg;

	cr_expect_eq(g.nat_port_min, 1024);
	cr_expect_eq(g.nat_port_span, (65535 - 1024 + 1) / ncpus);
	cr_expect_eq(g.nat_tcp_s, 900);
	cr_expect_eq(g.nat_tcp_syn_s, 30);
	cr_expect_eq(g.nat_tcp_closing_s, 10);
	cr_expect_eq(g.nat_udp_s, 60);
	cr_expect_eq(g.nat_laddrs[0], 0);
	cr_expect_eq(g.nat_laddrs[1], 0);
	cr_expect_eq(xlb_dp_nat_sessions(dp), 4096);

	/* Fewer ports than CPUs: refused with a reason, nothing written. */
	xlb_config_defaults(&cfg);
	cfg.nat.port_min = 5000;
	cfg.nat.port_max = 5000 + ncpus - 2;
	if (ncpus > 1) {
		struct xlb_reconcile_stats st;

		cr_expect_eq(xlb_agent_set_globals(agent, &cfg), -EINVAL);
		cr_expect_eq(
			xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)),
			-EINVAL);
		cr_expect(strstr(err, "every CPU needs at least one"), "%s",
			  err);
		cr_expect_eq(globals().nat_port_min, 1024);
	}
	cfg.nat.port_max = 5000 + ncpus - 1;
	cr_expect_eq(xlb_agent_set_globals(agent, &cfg), 0);
	cr_expect_eq(globals().nat_port_span, 1);
}

Test(nat_agent, pool_slots_stay_compact)
{
	struct xlb_ip a;
	struct xlb_globals g;

	laddr_add("10.97.0.1");
	laddr_add("10.97.0.2");
	laddr_add("fd00:97::1");
	laddr_add("10.97.0.3");
	g = globals();
	cr_expect_eq(g.nat_laddrs[0], 3);
	cr_expect_eq(g.nat_laddrs[1], 1);
	cr_expect_str_eq(slot_text(AF_INET, 0), "10.97.0.1");
	cr_expect_str_eq(slot_text(AF_INET, 2), "10.97.0.3");
	cr_expect_str_eq(slot_text(AF_INET6, 0), "fd00:97::1");
	cr_expect_eq(addr_value("10.97.0.2"), XLB_ADDR_F_LOCAL);
	cr_expect_eq(addr_value("fd00:97::1"), XLB_ADDR_F_LOCAL);
	cr_expect_eq(xlb_agent_laddr_count(agent), 4);

	/* The last address moves into the freed slot. */
	a = ip("10.97.0.1");
	cr_assert_eq(xlb_laddr_del(agent, &a, err, sizeof(err)), 0, "%s", err);
	g = globals();
	cr_expect_eq(g.nat_laddrs[0], 2);
	cr_expect_str_eq(slot_text(AF_INET, 0), "10.97.0.3");
	cr_expect_str_eq(slot_text(AF_INET, 1), "10.97.0.2");
	cr_expect_str_eq(slot_text(AF_INET, 2), "0.0.0.0");
	cr_expect_eq(addr_value("10.97.0.1"), 0);
	/* The last slot goes without a move. */
	a = ip("10.97.0.2");
	cr_assert_eq(xlb_laddr_del(agent, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(globals().nat_laddrs[0], 1);
	cr_expect_str_eq(slot_text(AF_INET, 0), "10.97.0.3");

	cr_expect_eq(xlb_laddr_del(agent, &a, err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, "10.97.0.2 is not a local address");
	a = ip("10.97.0.3");
	cr_expect_eq(xlb_laddr_add(agent, &a, err, sizeof(err)), -EEXIST);
	cr_expect_str_eq(err, "local address 10.97.0.3 is already in the pool");
}

Test(nat_agent, pool_is_bounded)
{
	char buf[32];
	struct xlb_ip a;
	int i;

	for (i = 0; i < XLB_NAT_MAX_LADDRS; i++) {
		snprintf(buf, sizeof(buf), "10.97.1.%d", i + 1);
		laddr_add(buf);
	}
	a = ip("10.97.2.1");
	cr_expect_eq(xlb_laddr_add(agent, &a, err, sizeof(err)), -ENOSPC);
	cr_expect_str_eq(err, "the pool holds 32 IPv4 addresses already");
	/* The other family has its own slots. */
	laddr_add("fd00:97::1");
	cr_expect_eq(globals().nat_laddrs[0], 32);
	cr_expect_eq(globals().nat_laddrs[1], 1);
}

Test(nat_agent, local_address_is_never_a_vip)
{
	struct xlb_service v = svc("10.97.0.1:80/tcp");
	struct xlb_ip a = ip("10.0.0.10");

	vip_add("10.0.0.10:80/tcp");
	cr_expect_eq(xlb_laddr_add(agent, &a, err, sizeof(err)), -EEXIST);
	cr_expect_str_eq(err, "10.0.0.10 is the address of VIP "
			      "10.0.0.10:80/tcp; it cannot also be a local "
			      "address");
	cr_expect_eq(addr_value("10.0.0.10"), 1);

	laddr_add("10.97.0.1");
	cr_expect_eq(
		xlb_vip_add(agent, &v, XLB_HASH_MAGLEV, 251, err, sizeof(err)),
		-EEXIST);
	cr_expect_str_eq(err, "10.97.0.1 is a FULLNAT local address; it "
			      "cannot also be a VIP");
	cr_expect_eq(addr_value("10.97.0.1"), XLB_ADDR_F_LOCAL);
}

Test(nat_agent, vip_addr_count_keeps_the_local_flag)
{
	struct xlb_ip a = ip("10.9.9.9");
	struct xlb_vip_addr_key k = {.addr = a.a, .family = AF_INET};

	/* Never both in practice; the two writers must not clobber each
	 * other all the same. */
	cr_assert_eq(xlb_dp_local_addr_set(dp, &k, true), 0);
	cr_assert_eq(xlb_dp_vip_addr_ref(dp, &k, 1), 0);
	cr_expect_eq(addr_value("10.9.9.9"), XLB_ADDR_F_LOCAL | 1);
	cr_assert_eq(xlb_dp_vip_addr_ref(dp, &k, -1), 0);
	cr_expect_eq(addr_value("10.9.9.9"), XLB_ADDR_F_LOCAL);
	cr_assert_eq(xlb_dp_vip_addr_ref(dp, &k, 1), 0);
	cr_assert_eq(xlb_dp_local_addr_set(dp, &k, false), 0);
	cr_expect_eq(addr_value("10.9.9.9"), 1);
	cr_assert_eq(xlb_dp_vip_addr_ref(dp, &k, -1), 0);
	cr_expect_eq(addr_value("10.9.9.9"), 0);
	cr_expect(!xlb_dp_local_addr_get(dp, &k));
}

Test(nat_agent, set_mode)
{
	struct xlb_vip_meta m;
	struct xlb_ip a;

	vip_add("10.0.0.10:80/tcp");
	cr_assert_eq(real_add("10.0.0.10:80/tcp", "10.1.0.2"), 0);
	cr_assert_eq(real_add("10.0.0.10:80/tcp", "2001:db8::2"), 0);

	cr_expect_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 0),
		     -EINVAL);
	cr_expect_str_eq(err, "VIP 10.0.0.10:80/tcp has real 2001:db8::2: the "
			      "reals of a fullnat VIP must be IPv4 like it");
	a = ip("2001:db8::2");
	{
		struct xlb_service v = svc("10.0.0.10:80/tcp");

		cr_assert_eq(xlb_real_del(agent, &v, &a, err, sizeof(err)), 0);
	}
	cr_expect_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 0),
		     -EINVAL);
	cr_expect_str_eq(err, "VIP 10.0.0.10:80/tcp cannot be fullnat: no IPv4 "
			      "local address (lbctl laddr add)");
	laddr_add("fd00:97::1");
	cr_expect_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 0),
		     -EINVAL);
	m = vip_meta("10.0.0.10:80/tcp");
	cr_expect_eq(m.flags & XLB_VIP_F_FULLNAT, 0, "unchanged on error");

	laddr_add("10.97.0.1");
	cr_expect_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 100),
		     -EINVAL);
	cr_expect_str_eq(err, "mss: 100 is out of range 536..65535 (0: off)");
	cr_assert_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 1400), 0,
		     "%s", err);
	m = vip_meta("10.0.0.10:80/tcp");
	cr_expect_eq(m.flags & XLB_VIP_F_FULLNAT, XLB_VIP_F_FULLNAT);
	cr_expect_eq(m.mss, 1400);

	/* A fullnat VIP takes reals of its family only. */
	cr_expect_eq(real_add("10.0.0.10:80/tcp", "2001:db8::3"), -EINVAL);
	cr_expect_str_eq(err, "real 2001:db8::3: the reals of fullnat VIP "
			      "10.0.0.10:80/tcp must be IPv4 like it");
	cr_expect_eq(real_add("10.0.0.10:80/tcp", "10.1.0.3"), 0);

	/* Its family's last local address stays while it is fullnat. */
	a = ip("10.97.0.1");
	cr_expect_eq(xlb_laddr_del(agent, &a, err, sizeof(err)), -EBUSY);
	cr_expect_str_eq(err, "10.97.0.1 is the last IPv4 local address and "
			      "fullnat VIP 10.0.0.10:80/tcp needs one");
	a = ip("fd00:97::1");
	cr_expect_eq(xlb_laddr_del(agent, &a, err, sizeof(err)), 0);

	cr_assert_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_TUNNEL, 0), 0);
	m = vip_meta("10.0.0.10:80/tcp");
	cr_expect_eq(m.flags, 0);
	cr_expect_eq(m.mss, 0);
	a = ip("10.97.0.1");
	cr_expect_eq(xlb_laddr_del(agent, &a, err, sizeof(err)), 0);

	/* UDP has no MSS. */
	vip_add("10.0.0.10:53/udp");
	cr_expect_eq(set_mode("10.0.0.10:53/udp", XLB_MODE_TUNNEL, 1400),
		     -EINVAL);
	cr_expect_eq(set_mode("10.0.0.99:53/udp", XLB_MODE_TUNNEL, 0), -ENOENT);
}

Test(nat_agent, views)
{
	json_t *o, *vip, *fn;

	laddr_add("10.97.0.1");
	vip_add("10.0.0.10:80/tcp");
	cr_assert_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 1400), 0);
	o = xlb_agent_vips_json(agent, false);
	vip = json_array_get(json_object_get(o, "vips"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(vip, "mode")),
			 "fullnat");
	cr_expect_eq(json_integer_value(json_object_get(vip, "mss")), 1400);
	json_decref(o);

	o = xlb_agent_stats_json(agent);
	vip = json_array_get(json_object_get(o, "vips"), 0);
	cr_expect(json_is_integer(json_object_get(vip, "reply_packets")));
	cr_expect(json_is_integer(json_object_get(vip, "reply_bytes")));
	fn = json_object_get(o, "fullnat");
	cr_assert(json_is_object(fn));
	cr_expect_eq(json_integer_value(json_object_get(fn, "sessions")), 0);
	cr_expect_eq(json_integer_value(json_object_get(fn, "port_min")), 1024);
	cr_expect_eq(json_integer_value(json_object_get(fn, "ports_per_cpu")),
		     (65535 - 1024 + 1) / xlb_dp_ncpus(dp));
	cr_expect_str_eq(
		json_string_value(json_object_get(
			json_array_get(json_object_get(fn, "local_addresses"),
				       0),
			"address")),
		"10.97.0.1");
	json_decref(o);
}

/* ---- Sessions ------------------------------------------------------- */

#define NS 1000000000ull

/* A session written as the data path would: both entries. */
struct sess {
	struct xlb_flow_key k;
	struct xlb_nat_fwd f;
	struct xlb_nat_key rk;
	struct xlb_nat_rev r;
};

static uint32_t real_id_of(const char *v, const char *r)
{
	struct xlb_real_view *views;
	struct xlb_service s = svc(v);
	struct xlb_ip a = ip(r);
	uint32_t id = 0;
	size_t n, i;

	cr_assert_eq(xlb_agent_reals(agent, &views, &n), 0);
	for (i = 0; i < n; i++)
		if (xlb_service_equal(&views[i].svc, &s) &&
		    xlb_ip_equal(&views[i].ip, &a))
			id = views[i].id;
	free(views);
	cr_assert_neq(id, 0);
	return id;
}

static struct sess sess_make(uint32_t vip_id, uint32_t real_id,
			     const char *client, uint16_t cport, uint8_t proto,
			     uint16_t lport, uint8_t state, uint64_t last_seen)
{
	struct xlb_real r;
	struct sess s;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(xlb_dp_real_get(dp, real_id, &r), 0);
	s.k.saddr = ip(client).a;
	s.k.vip_id = vip_id;
	s.k.sport = htons(cport);
	s.k.dport = htons(80);
	s.k.proto = proto;
	s.k.family = AF_INET;
	s.f.laddr = ip("10.97.0.1").a;
	s.f.lport = htons(lport);
	s.f.state = state;
	s.f.real_id = real_id;
	s.f.real_gen = r.gen;
	s.f.last_seen = last_seen;
	s.rk.raddr = r.addr;
	s.rk.laddr = s.f.laddr;
	s.rk.rport = s.k.dport;
	s.rk.lport = s.f.lport;
	s.rk.proto = proto;
	s.rk.family = AF_INET;
	s.r.flow = s.k;
	s.r.vaddr = ip("10.0.0.10").a;
	return s;
}

static void sess_put(const struct sess *s, bool fwd, bool rev)
{
	if (fwd)
		cr_assert_eq(bpf_map_update_elem(xlb_dp_map_fd(dp, "nat_fwd"),
						 &s->k, &s->f, BPF_ANY),
			     0);
	if (rev)
		cr_assert_eq(bpf_map_update_elem(xlb_dp_map_fd(dp, "nat_rev"),
						 &s->rk, &s->r, BPF_ANY),
			     0);
}

static bool has_fwd(const struct sess *s)
{
	struct xlb_nat_fwd f;

	return !bpf_map_lookup_elem(xlb_dp_map_fd(dp, "nat_fwd"), &s->k, &f);
}

static bool has_rev(const struct sess *s)
{
	struct xlb_nat_rev r;

	return !xlb_dp_nat_rev_get(dp, &s->rk, &r);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void count_one(const struct xlb_flow_key *k, const struct xlb_nat_fwd *e,
		      void *arg)
{
	(*(size_t *)arg)++;
}

Test(nat_agent, sweep)
{
	const uint8_t rep = XLB_NAT_S_REPLIED;
	const uint8_t fins = XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL;
	uint64_t now = 10000 * NS;
	struct xlb_nat_gc_stats st;
	struct xlb_globals g;
	struct sess s[10];
	uint32_t rid;
	size_t n = 0, i;

	laddr_add("10.97.0.1");
	vip_add("10.0.0.10:80/tcp");
	cr_assert_eq(real_add("10.0.0.10:80/tcp", "10.1.0.2"), 0);
	rid = real_id_of("10.0.0.10:80/tcp", "10.1.0.2");
	g = globals();

	/* Each state against its own timeout, just inside and outside. */
	s[0] = sess_make(0, rid, "192.0.2.1", 1000, IPPROTO_TCP, 2000, 0,
			 now - 29 * NS); /* SYN, 29 s < 30 */
	s[1] = sess_make(0, rid, "192.0.2.1", 1001, IPPROTO_TCP, 2001, 0,
			 now - 31 * NS); /* SYN, 31 s > 30 */
	s[2] = sess_make(0, rid, "192.0.2.1", 1002, IPPROTO_TCP, 2002, rep,
			 now - 899 * NS); /* open, 899 < 900 */
	s[3] = sess_make(0, rid, "192.0.2.1", 1003, IPPROTO_TCP, 2003, rep,
			 now - 901 * NS);
	s[4] = sess_make(0, rid, "192.0.2.1", 1004, IPPROTO_TCP, 2004,
			 rep | fins, now - 11 * NS); /* closing, 11 > 10 */
	s[5] = sess_make(0, rid, "192.0.2.1", 1005, IPPROTO_TCP, 2005,
			 rep | XLB_NAT_S_FIN_CLIENT,
			 now - 11 * NS); /* one FIN: still open */
	s[6] = sess_make(0, rid, "192.0.2.1", 1006, IPPROTO_TCP, 2006,
			 rep | XLB_NAT_S_RST, now - 11 * NS);
	s[7] = sess_make(0, rid, "192.0.2.1", 1007, IPPROTO_UDP, 2007, rep,
			 now - 59 * NS); /* UDP, 59 < 60 */
	s[8] = sess_make(0, rid, "192.0.2.1", 1008, IPPROTO_UDP, 2008, 0,
			 now - 61 * NS);
	/* Seen "after" now (coarse clocks): never expired. */
	s[9] = sess_make(0, rid, "192.0.2.1", 1009, IPPROTO_UDP, 2009, 0,
			 now + NS);
	for (i = 0; i < 10; i++)
		sess_put(&s[i], true, true);

	cr_assert_eq(xlb_dp_nat_gc(dp, &g, now, &st), 0);
	cr_expect_eq(st.scanned, 10);
	cr_expect_eq(st.expired, 5);
	cr_expect_eq(st.orphans, 0);
	cr_expect_eq(st.live, 5);
	for (i = 0; i < 10; i++) {
		bool gone = i == 1 || i == 3 || i == 4 || i == 6 || i == 8;

		cr_expect_eq(has_fwd(&s[i]), !gone, "session %zu fwd", i);
		cr_expect_eq(has_rev(&s[i]), !gone, "session %zu rev", i);
	}
	cr_assert_eq(xlb_dp_nat_foreach(dp, count_one, &n), 0);
	cr_expect_eq(n, 5);
}

Test(nat_agent, sweep_orphans_and_reused_tuples)
{
	uint64_t now = 10000 * NS;
	struct xlb_nat_gc_stats st;
	struct xlb_globals g;
	struct sess a, b, c, d;
	json_t *stats;
	uint32_t rid;

	laddr_add("10.97.0.1");
	vip_add("10.0.0.10:80/tcp");
	cr_assert_eq(real_add("10.0.0.10:80/tcp", "10.1.0.2"), 0);
	rid = real_id_of("10.0.0.10:80/tcp", "10.1.0.2");
	g = globals();

	/* a: expired, but its tuple was reclaimed by b (same reverse key,
	 * new flow): a's forward entry goes, b's reverse entry stays. */
	a = sess_make(0, rid, "192.0.2.1", 1000, IPPROTO_UDP, 3000,
		      XLB_NAT_S_REPLIED, now - 100 * NS);
	b = sess_make(0, rid, "192.0.2.2", 1000, IPPROTO_UDP, 3000,
		      XLB_NAT_S_REPLIED, now - NS);
	sess_put(&a, true, false);
	sess_put(&b, true, true);
	/* c: a reverse entry whose forward entry is gone. */
	c = sess_make(0, rid, "192.0.2.3", 1000, IPPROTO_TCP, 3001,
		      XLB_NAT_S_REPLIED, now - NS);
	sess_put(&c, false, true);
	/* d: a reverse entry whose flow has a session on another tuple. */
	d = sess_make(0, rid, "192.0.2.4", 1000, IPPROTO_TCP, 3002,
		      XLB_NAT_S_REPLIED, now - NS);
	sess_put(&d, true, false);
	d.rk.lport = htons(3003);
	sess_put(&d, false, true);

	cr_assert_eq(xlb_dp_nat_gc(dp, &g, now, &st), 0);
	cr_expect_eq(st.expired, 1);
	cr_expect_eq(st.orphans, 2);
	cr_expect(!has_fwd(&a));
	cr_expect(has_fwd(&b));
	cr_expect(has_rev(&b), "the reused tuple keeps its new owner");
	cr_expect(!has_rev(&c));
	cr_expect(has_fwd(&d));
	cr_expect(!has_rev(&d));

	/* The agent's sweep counts into the stats view. */
	cr_assert_eq(xlb_agent_nat_gc(agent, mono_ns(), &st), 0);
	stats = xlb_agent_stats_json(agent);
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(json_object_get(stats, "fullnat"),
					     "gc"),
			     "sweeps")),
		     1);
	json_decref(stats);
}

Test(nat_agent, sessions_view_and_flushes)
{
	uint64_t now = mono_ns();
	struct xlb_service v = svc("10.0.0.10:80/tcp");
	struct xlb_ip la = ip("10.97.0.1");
	struct sess a, b;
	json_t *o, *one;
	uint32_t rid;

	laddr_add("10.97.0.1");
	laddr_add("10.97.0.2");
	vip_add("10.0.0.10:80/tcp");
	cr_assert_eq(real_add("10.0.0.10:80/tcp", "10.1.0.2"), 0);
	cr_assert_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 0), 0);
	rid = real_id_of("10.0.0.10:80/tcp", "10.1.0.2");
	a = sess_make(0, rid, "192.0.2.1", 40000, IPPROTO_TCP, 2000,
		      XLB_NAT_S_REPLIED, now - 3 * NS);
	b = sess_make(0, rid, "192.0.2.2", 40001, IPPROTO_TCP, 2001, 0, now);
	b.f.laddr = b.rk.laddr = ip("10.97.0.2").a;
	sess_put(&a, true, true);
	sess_put(&b, true, true);

	o = xlb_agent_sessions_json(agent, &v, 1);
	cr_assert_not_null(o);
	cr_expect_eq(json_integer_value(json_object_get(o, "total")), 2);
	cr_expect(json_is_true(json_object_get(o, "truncated")));
	cr_assert_eq(json_array_size(json_object_get(o, "sessions")), 1);
	json_decref(o);
	o = xlb_agent_sessions_json(agent, NULL, 0);
	cr_assert_eq(json_array_size(json_object_get(o, "sessions")), 2);
	one = json_array_get(json_object_get(o, "sessions"), 0);
	if (strcmp(json_string_value(json_object_get(one, "client")),
		   "192.0.2.1:40000"))
		one = json_array_get(json_object_get(o, "sessions"), 1);
	cr_expect_str_eq(json_string_value(json_object_get(one, "proto")),
			 "tcp");
	cr_expect_str_eq(json_string_value(json_object_get(one, "vip")),
			 "10.0.0.10:80");
	cr_expect_str_eq(json_string_value(json_object_get(one, "local")),
			 "10.97.0.1:2000");
	cr_expect_str_eq(json_string_value(json_object_get(one, "real")),
			 "10.1.0.2:80");
	cr_expect_str_eq(json_string_value(json_object_get(one, "state")),
			 "established");
	cr_expect_geq(json_integer_value(json_object_get(one, "idle_seconds")),
		      3);
	json_decref(o);

	o = xlb_agent_laddrs_json(agent);
	one = json_array_get(json_object_get(o, "local_addresses"), 0);
	cr_expect_eq(json_integer_value(json_object_get(one, "sessions")), 1);
	json_decref(o);

	/* A local address leaving the pool takes its sessions along. */
	cr_assert_eq(xlb_laddr_del(agent, &la, err, sizeof(err)), 0, "%s", err);
	cr_expect(!has_fwd(&a));
	cr_expect(!has_rev(&a));
	cr_expect(has_fwd(&b));
	/* So does a VIP leaving fullnat mode. */
	cr_assert_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_TUNNEL, 0), 0);
	cr_expect(!has_fwd(&b));
	cr_expect(!has_rev(&b));
}

Test(nat_agent, reconcile)
{
	static const char text1[] =
		"fullnat:\n"
		"  local_addresses: [10.97.0.1, 10.97.0.2]\n"
		"  ports: 2000-9999\n"
		"  timeouts: {udp: 7}\n"
		"vips:\n"
		"  - vip: 10.0.0.10:80/tcp\n"
		"    mode: fullnat\n"
		"    mss: 1400\n"
		"    reals: [10.1.0.2]\n";
	/* The pool changes, the VIP turns tunnel with an IPv6 real, and a
	 * former local address becomes a VIP. */
	static const char text2[] =
		"fullnat:\n"
		"  local_addresses: [10.97.0.2, 10.97.0.3]\n"
		"vips:\n"
		"  - vip: 10.0.0.10:80/tcp\n"
		"    reals: [10.1.0.2, 2001:db8::2]\n"
		"  - vip: 10.97.0.1:80/tcp\n";
	struct xlb_reconcile_stats st;
	struct xlb_config cfg;
	struct xlb_vip_meta m;
	struct xlb_globals g;

	cr_assert_eq(xlb_config_parse(text1, strlen(text1), "t", &cfg, err,
				      sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)), 0,
		     "%s", err);
	xlb_config_free(&cfg);
	cr_expect_eq(st.laddrs_added, 2);
	g = globals();
	cr_expect_eq(g.nat_laddrs[0], 2);
	cr_expect_eq(g.nat_port_min, 2000);
	cr_expect_eq(g.nat_udp_s, 7);
	m = vip_meta("10.0.0.10:80/tcp");
	cr_expect_eq(m.flags & XLB_VIP_F_FULLNAT, XLB_VIP_F_FULLNAT);
	cr_expect_eq(m.mss, 1400);

	cr_assert_eq(xlb_config_parse(text2, strlen(text2), "t", &cfg, err,
				      sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)), 0,
		     "%s", err);
	xlb_config_free(&cfg);
	cr_expect_eq(st.laddrs_added, 1);
	cr_expect_eq(st.laddrs_removed, 1);
	cr_expect_eq(st.vips_added, 1);
	g = globals();
	cr_expect_eq(g.nat_laddrs[0], 2);
	cr_expect_eq(g.nat_port_min, 1024);
	cr_expect_str_eq(slot_text(AF_INET, 0), "10.97.0.2");
	cr_expect_str_eq(slot_text(AF_INET, 1), "10.97.0.3");
	cr_expect_eq(addr_value("10.97.0.1"), 1);
	m = vip_meta("10.0.0.10:80/tcp");
	cr_expect_eq(m.flags, 0);
	cr_expect_eq(m.mss, 0);
}

/* ---- Adoption: pinned maps kept by an agent restart ------------------ */

static void no_setup(void)
{
}

Test(nat_adopt, restart_keeps_pool_modes_and_sessions, .init = no_setup,
     .fini = teardown)
{
	char pin[64];
	struct xlb_config cfg;
	size_t nv, nr, n = 0;
	struct sess s;
	uint32_t rid;

	cr_assert_eq(private_bpffs(), 0, "bpffs: %s", strerror(errno));
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/xlb-unit-%d", (int)getpid());
	open_dp(pin);
	cr_assert(!xlb_dp_adopted(dp));
	xlb_config_defaults(&cfg);
	cr_assert_eq(xlb_agent_set_globals(agent, &cfg), 0);
	laddr_add("10.97.0.1");
	laddr_add("fd00:97::1");
	vip_add("10.0.0.10:80/tcp");
	cr_assert_eq(real_add("10.0.0.10:80/tcp", "10.1.0.2"), 0);
	cr_assert_eq(set_mode("10.0.0.10:80/tcp", XLB_MODE_FULLNAT, 1300), 0);
	rid = real_id_of("10.0.0.10:80/tcp", "10.1.0.2");
	s = sess_make(0, rid, "192.0.2.1", 1000, IPPROTO_TCP, 2000,
		      XLB_NAT_S_REPLIED, mono_ns());
	sess_put(&s, true, true);

	/* The agent goes; the data plane stays pinned. */
	xlb_agent_free(agent);
	xlb_dp_close(dp, false);
	agent = NULL;
	open_dp(pin);
	cr_assert(xlb_dp_adopted(dp));
	cr_assert_eq(xlb_agent_adopt(agent, &nv, &nr), 0);
	cr_expect_eq(nv, 1);
	cr_expect_eq(nr, 1);
	cr_expect_eq(xlb_agent_laddr_count(agent), 2);
	cr_expect(has_fwd(&s));
	cr_expect(has_rev(&s));
	cr_assert_eq(xlb_dp_nat_foreach(dp, count_one, &n), 0);
	cr_expect_eq(n, 1);
	{
		json_t *o = xlb_agent_vips_json(agent, false);
		json_t *v = json_array_get(json_object_get(o, "vips"), 0);

		cr_expect_str_eq(json_string_value(json_object_get(v, "mode")),
				 "fullnat");
		cr_expect_eq(json_integer_value(json_object_get(v, "mss")),
			     1300);
		json_decref(o);
	}
	/* Writing the globals again keeps the adopted pool's sizes. */
	cr_assert_eq(xlb_agent_set_globals(agent, &cfg), 0);
	cr_expect_eq(globals().nat_laddrs[0], 1);
	cr_expect_eq(globals().nat_laddrs[1], 1);
	/* The pool is the model's: the last IPv4 one is still needed. */
	{
		struct xlb_ip a = ip("10.97.0.1");

		cr_expect_eq(xlb_laddr_del(agent, &a, err, sizeof(err)),
			     -EBUSY);
	}
}

/* ---- tx_ports: the interfaces the balancer is attached to ----------- */

static bool has_tx_port(uint32_t ifindex)
{
	uint32_t v = 0;

	return !bpf_map_lookup_elem(xlb_dp_map_fd(dp, "tx_ports"), &ifindex,
				    &v) &&
	       v == ifindex;
}

Test(nat_agent, tx_ports_follow_attachments)
{
	bool had_xdp_dir = !access("/sys/fs/bpf/xdp", F_OK);
	uint32_t lo, stale, none = 4242;

	/* A network namespace of our own: its lo is ours to attach to. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up && "
			    "ip link add xnat0 type veth peer name xnat1"),
		     0);
	lo = if_nametoindex("lo");
	stale = if_nametoindex("xnat1");
	cr_assert_neq(lo, 0);
	cr_assert_neq(stale, 0);
	cr_assert_lt(bpf_map_update_elem(xlb_dp_map_fd(dp, "tx_ports"), &none,
					 &none, BPF_ANY),
		     0, "a devmap takes existing interfaces only");
	/* An earlier agent's interface that is gone from the config. */
	cr_assert_eq(bpf_map_update_elem(xlb_dp_map_fd(dp, "tx_ports"), &stale,
					 &stale, BPF_ANY),
		     0);

	cr_assert_eq(xlb_dp_attach(dp, "lo", XLB_XDP_GENERIC, err, sizeof(err)),
		     0, "%s", err);
	cr_expect(has_tx_port(lo));
	cr_expect(has_tx_port(stale));
	cr_expect_eq(xlb_dp_tx_ports_prune(dp), 0);
	cr_expect(has_tx_port(lo));
	cr_expect(!has_tx_port(stale));
	cr_expect_eq(xlb_dp_detach_all(dp), 0);
	cr_expect(!has_tx_port(lo));
	/* libxdp's lock directory, if this test made it. */
	if (!had_xdp_dir)
		rmdir("/sys/fs/bpf/xdp");
}
