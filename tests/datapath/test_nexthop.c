// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Resolved next hops (bpf/nexthop.h, user/nexthop.c): a valid entry of
 * the nexthops map sends the packet with its MACs and egress, with no
 * bpf_fib_lookup (the test removes the route the lookup would need); an
 * entry marked stale, of another generation, or smaller than the packet
 * falls back to the lookup; ECMP legs are picked by the flow's hash; and
 * the agent's resolver fills entries from the namespace's routes and
 * neighbours and follows their changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "nexthop.h"
#include "xlb_hash.h"

#define CLIENT4	 "192.0.2.10"
#define VIP4	 "10.100.0.1"
#define VIP6	 "fd00:100::1"
#define REAL4	 "10.1.0.2"
#define REAL6	 "fd01::2"
#define TUN4_SVC VIP4 ":80/tcp"
#define TUN6_SVC "[" VIP6 "]:80/tcp"
#define NAT4_SVC "10.100.0.5:80/tcp"
#define LOCAL4	 "10.97.0.1"

/* MACs no neighbour entry of the namespace has: only an entry gives them. */
static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0x0a, 0x01};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0x0a, 0x02};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0x0a, 0x03};
static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0x0b, 0x01};

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
}

static void mac_parse(const char *s, uint8_t m[6])
{
	cr_assert_eq(sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1],
			    &m[2], &m[3], &m[4], &m[5]),
		     6);
}

static void nh_setup(void)
{
	h_nat_setup();
	h_vip(TUN4_SVC, XLB_HASH_MAGLEV, 251);
	h_real(TUN4_SVC, REAL4, 100);
	h_vip(TUN6_SVC, XLB_HASH_MAGLEV, 251);
	h_real(TUN6_SVC, REAL6, 100);
	h_laddr(LOCAL4);
	h_vip(NAT4_SVC, XLB_HASH_MAGLEV, 251);
	h_vip_mode(NAT4_SVC, XLB_MODE_FULLNAT, 0);
	h_real(NAT4_SVC, "10.1.0.3", 100);
}

TestSuite(nexthop, .init = nh_setup, .fini = h_teardown);

static uint32_t real_gen(uint32_t id)
{
	struct xlb_real r;

	cr_assert_eq(xlb_dp_real_get(h_dp, id, &r), 0);
	return r.gen;
}

/* An entry of n legs (mac_a, mac_b, mac_c...) out of xt2. */
static void put_entry(uint32_t id, uint8_t flags, uint32_t gen, uint16_t mtu,
		      int n)
{
	const uint8_t *macs[] = {mac_a, mac_b, mac_c};
	struct xlb_nh_entry e = {.flags = flags, .n_legs = n, .mtu = mtu};
	int i;

	e.gen = gen;
	for (i = 0; i < n; i++) {
		memcpy(e.legs[i].smac, mac_src, 6);
		memcpy(e.legs[i].dmac, macs[i % 3], 6);
		e.legs[i].ifindex = if_nametoindex(H_IF_REALS);
	}
	cr_assert_eq(xlb_dp_nexthop_put(h_dp, id, &e), 0);
}

static uint64_t fallbacks(void)
{
	uint64_t n;

	cr_assert_eq(xlb_dp_nexthop_fallbacks(h_dp, &n), 0);
	return n;
}

static void run_syn(const char *daddr, int family, uint16_t sport,
		    struct h_result *res)
{
	struct pkt_spec s = {
		.family = family,
		.saddr = family == AF_INET ? CLIENT4 : "2001:db8::10",
		.daddr = daddr,
		.proto = IPPROTO_TCP,
		.sport = sport,
		.dport = 80,
		.tcp_flags = PKT_SYN,
	};
	struct pkt in;

	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run(&in, res);
}

/* The IPv4 SYN of run_syn() encapsulated: its IP length plus 20. */
static uint16_t syn_tot_len(void)
{
	struct pkt_spec s = {
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = VIP4,
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = 80,
		.tcp_flags = PKT_SYN,
	};
	struct pkt in;

	cr_assert_eq(pkt_build(&in, &s), 0);
	return (uint16_t)(in.len - ETH_HLEN + XLB_IPV4_HDR_LEN);
}

static void expect_macs(const struct h_result *res, const uint8_t *smac,
			const uint8_t *dmac, const char *what)
{
	const struct ethhdr *eth = (const void *)res->out;

	cr_assert_eq(res->retval, XDP_REDIRECT, "%s: verdict %u (%s)", what,
		     res->retval, xlb_reason_names[res->reason]);
	cr_expect(!memcmp(eth->h_dest, dmac, 6), "%s: destination MAC", what);
	cr_expect(!memcmp(eth->h_source, smac, 6), "%s: source MAC", what);
}

/*
 * A valid entry is the next hop: its MACs in the frame, sent out of its
 * interface, no lookup (there is no route to the real any more, which
 * the lookup would answer with drop_no_route).
 */
Test(nexthop, valid_entry_used)
{
	uint32_t id = h_real_id(TUN4_SVC, REAL4);
	uint32_t id6 = h_real_id(TUN6_SVC, REAL6);
	struct h_result res;
	uint64_t before;

	put_entry(id, XLB_NH_F_VALID, real_gen(id), 1500, 1);
	put_entry(id6, XLB_NH_F_VALID, real_gen(id6), 1500, 1);
	sh("ip route del 10.1.0.0/24 dev " H_IF_REALS
	   " && ip -6 route del fd01::/64 dev " H_IF_REALS);
	before = fallbacks();
	run_syn(VIP4, AF_INET, 40000, &res);
	expect_macs(&res, mac_src, mac_a, "IPv4 real");
	cr_expect_eq(res.reason, XLB_R_FWD_REDIRECT);
	run_syn(VIP6, AF_INET6, 40000, &res);
	expect_macs(&res, mac_src, mac_a, "IPv6 real");
	cr_expect_eq(fallbacks(), before, "a lookup was made");
	/* Without the entry, the lookup finds no route. */
	put_entry(id, 0, real_gen(id), 1500, 1);
	run_syn(VIP4, AF_INET, 40000, &res);
	cr_expect_eq(res.retval, XDP_DROP);
	cr_expect_eq(res.reason, XLB_R_DROP_NO_ROUTE, "reason %s",
		     xlb_reason_names[res.reason]);
	cr_expect_eq(fallbacks(), before + 1);
}

/* Stale, another owner's, too small: bpf_fib_lookup decides, as before. */
Test(nexthop, unusable_entry_falls_back)
{
	uint32_t id = h_real_id(TUN4_SVC, REAL4);
	uint8_t reals[6], real2[6];
	struct h_result res;
	uint64_t before = fallbacks();

	mac_parse(H_MAC_REALS, reals);
	mac_parse(H_MAC_REAL2, real2);
	/* No entry at all (the map as a program without an agent has). */
	run_syn(VIP4, AF_INET, 40000, &res);
	expect_macs(&res, reals, real2, "no entry");
	put_entry(id, 0, real_gen(id), 1500, 1);
	run_syn(VIP4, AF_INET, 40000, &res);
	expect_macs(&res, reals, real2, "marked stale");
	put_entry(id, XLB_NH_F_VALID, real_gen(id) + 1, 1500, 1);
	run_syn(VIP4, AF_INET, 40000, &res);
	expect_macs(&res, reals, real2, "another generation");
	/* The SYN with its outer header over the entry's MTU: the lookup. */
	put_entry(id, XLB_NH_F_VALID, real_gen(id), syn_tot_len() - 1, 1);
	run_syn(VIP4, AF_INET, 40000, &res);
	expect_macs(&res, reals, real2, "packet over the entry's MTU");
	cr_expect_eq(fallbacks(), before + 4);
	put_entry(id, XLB_NH_F_VALID, real_gen(id), syn_tot_len(), 1);
	run_syn(VIP4, AF_INET, 40000, &res);
	expect_macs(&res, mac_src, mac_a, "packet at the entry's MTU");
}

/*
 * ECMP: a flow's leg is xlb_nh_pick(its tunnel hash, legs), the same for
 * every packet of the flow; flows spread over the legs.
 */
Test(nexthop, ecmp_leg_by_flow)
{
	const uint8_t *macs[] = {mac_a, mac_b, mac_c};
	uint32_t id = h_real_id(TUN4_SVC, REAL4);
	int used[3] = {0}, i, k;
	struct h_result res;

	put_entry(id, XLB_NH_F_VALID, real_gen(id), 1500, 3);
	for (i = 0; i < 32; i++) {
		uint16_t sport = 41000 + i * 7;
		uint32_t h = h_tun_hash(CLIENT4, sport, 80, IPPROTO_TCP, false);
		uint32_t leg = xlb_nh_pick(h, 3);
		char what[64];

		cr_assert_lt(leg, 3);
		snprintf(what, sizeof(what), "port %u, leg %u", sport, leg);
		for (k = 0; k < 2; k++) {
			run_syn(VIP4, AF_INET, sport, &res);
			expect_macs(&res, mac_src, macs[leg], what);
		}
		used[leg]++;
	}
	cr_expect(used[0] && used[1] && used[2], "legs used %d %d %d", used[0],
		  used[1], used[2]);
}

/* FULLNAT: the request goes by the real's entry; the reply, towards a
 * client, by the lookup (the clients' router). */
Test(nexthop, fullnat_request)
{
	uint32_t id = h_real_id(NAT4_SVC, "10.1.0.3");
	struct xlb_flow_key key;
	struct xlb_nat_fwd f;
	struct h_result res;
	uint8_t xt2[6], router[6], xt0[6];
	struct pkt in;
	char local[INET_ADDRSTRLEN];

	mac_parse(H_MAC_REALS, xt2);
	mac_parse(H_MAC_ROUTER, router);
	mac_parse(H_MAC_CLIENT, xt0);
	put_entry(id, XLB_NH_F_VALID, real_gen(id), 1500, 1);
	run_syn("10.100.0.5", AF_INET, 40000, &res);
	expect_macs(&res, mac_src, mac_a, "FULLNAT request");
	h_nat_key(NAT4_SVC, CLIENT4, 40000, &key);
	cr_assert_eq(h_nat_get(NAT4_SVC, CLIENT4, 40000, &f), 0);
	inet_ntop(AF_INET, &f.laddr.addr[0], local, sizeof(local));
	{
		struct pkt_spec r = {
			.smac = H_MAC_REAL3,
			.dmac = H_MAC_REALS,
			.family = AF_INET,
			.saddr = "10.1.0.3",
			.daddr = local,
			.proto = IPPROTO_TCP,
			.sport = 80,
			.dport = ntohs(f.lport),
			.tcp_flags = PKT_SYN | PKT_ACK,
		};

		cr_assert_eq(pkt_build(&in, &r), 0);
	}
	h_run_if(&in, &res, -1, H_IF_REALS);
	expect_macs(&res, xt0, router, "FULLNAT reply");
}

/* The resolver of the agent: entries from the namespace's tables. */
static struct xlb_nexthops *resolver(void)
{
	struct xlb_nexthops *nh;

	cr_assert_eq(xlb_nexthops_open(h_agent, &nh), 0);
	cr_assert_eq(xlb_nexthops_sync(nh), 0);
	return nh;
}

static void get_entry(uint32_t id, struct xlb_nh_entry *e)
{
	cr_assert_eq(xlb_dp_nexthop_get(h_dp, id, e), 0);
}

static void expect_leg(const struct xlb_nh_leg *l, const char *smac,
		       const char *dmac, const char *ifname, const char *what)
{
	uint8_t s[6], d[6];

	mac_parse(smac, s);
	mac_parse(dmac, d);
	cr_expect(!memcmp(l->smac, s, 6), "%s: source MAC", what);
	cr_expect(!memcmp(l->dmac, d, 6), "%s: destination MAC", what);
	cr_expect_eq(l->ifindex, if_nametoindex(ifname), "%s: ifindex", what);
}

/* Start: every real with a route and a neighbour resolved. */
Test(nexthop, agent_resolves)
{
	uint32_t id = h_real_id(TUN4_SVC, REAL4);
	uint32_t id6 = h_real_id(TUN6_SVC, REAL6);
	struct xlb_nexthops *nh = resolver();
	struct xlb_nexthops_stats st;
	struct xlb_nh_entry e;
	struct h_result res;
	uint8_t xt2[6], real2[6];

	get_entry(id, &e);
	cr_assert(e.flags & XLB_NH_F_VALID);
	cr_expect_eq(e.gen, real_gen(id));
	cr_expect_eq(e.n_legs, 1);
	cr_expect_eq(e.mtu, 1500);
	expect_leg(&e.legs[0], H_MAC_REALS, H_MAC_REAL2, H_IF_REALS, "v4");
	get_entry(id6, &e);
	cr_assert(e.flags & XLB_NH_F_VALID);
	expect_leg(&e.legs[0], H_MAC_REALS, H_MAC_REAL2, H_IF_REALS, "v6");
	xlb_nexthops_get_stats(nh, &st);
	cr_expect_eq(st.reals, 3);
	cr_expect_eq(st.valid, 3);
	/* And the program uses it: no lookup. */
	mac_parse(H_MAC_REALS, xt2);
	mac_parse(H_MAC_REAL2, real2);
	{
		uint64_t before = fallbacks();

		run_syn(VIP4, AF_INET, 40000, &res);
		expect_macs(&res, xt2, real2, "resolved");
		cr_expect_eq(fallbacks(), before);
	}
	xlb_nexthops_close(nh, true);
	get_entry(id, &e);
	cr_expect(!(e.flags & XLB_NH_F_VALID), "left valid by a closing agent");
}

/* No neighbour: the entry stays invalid (the lookup passes the packet
 * to the kernel, which resolves it); a removed real's entry goes. */
Test(nexthop, agent_unresolved_and_removed)
{
	struct xlb_nexthops *nh;
	struct xlb_nh_entry e;
	uint32_t id;

	h_real(TUN4_SVC, "10.1.0.99", 100);
	id = h_real_id(TUN4_SVC, "10.1.0.99");
	nh = resolver();
	get_entry(id, &e);
	cr_expect(!(e.flags & XLB_NH_F_VALID), "resolved without neighbour");
	/* The neighbour appears: the event resolves it. */
	sh("ip neigh replace 10.1.0.99 lladdr 02:00:00:00:01:63 dev " H_IF_REALS
	   " nud permanent");
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	get_entry(id, &e);
	cr_expect(e.flags & XLB_NH_F_VALID, "not resolved by the event");
	expect_leg(&e.legs[0], H_MAC_REALS, "02:00:00:00:01:63", H_IF_REALS,
		   "new neighbour");
	h_real_del(TUN4_SVC, "10.1.0.99");
	cr_assert_eq(xlb_nexthops_sync(nh), 0);
	get_entry(id, &e);
	cr_expect_eq(e.flags, 0);
	cr_expect_eq(e.gen, 0);
	xlb_nexthops_close(nh, false);
}

/* Changes: a MAC, ECMP legs, a route to another interface, a neighbour
 * gone; each read of the events leaves the entry as the kernel is. */
Test(nexthop, agent_follows_changes)
{
	uint32_t id = h_real_id(TUN4_SVC, REAL4);
	struct xlb_nexthops *nh = resolver();
	struct xlb_nexthops_stats st;
	struct xlb_nh_entry e;

	sh("ip neigh replace 10.1.0.2 lladdr 02:00:00:00:0c:02 dev " H_IF_REALS
	   " nud permanent");
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	get_entry(id, &e);
	cr_assert(e.flags & XLB_NH_F_VALID);
	expect_leg(&e.legs[0], H_MAC_REALS, "02:00:00:00:0c:02", H_IF_REALS,
		   "MAC changed");
	/* Two paths of equal weight, then 1:3. */
	sh("ip route add 10.1.0.2/32 nexthop via 10.1.0.3 dev " H_IF_REALS
	   " nexthop via 10.1.0.4 dev " H_IF_REALS);
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	get_entry(id, &e);
	cr_assert(e.flags & XLB_NH_F_VALID);
	cr_assert_eq(e.n_legs, 2);
	expect_leg(&e.legs[0], H_MAC_REALS, H_MAC_REAL3, H_IF_REALS, "leg 0");
	expect_leg(&e.legs[1], H_MAC_REALS, H_MAC_REAL4, H_IF_REALS, "leg 1");
	sh("ip route replace 10.1.0.2/32 nexthop via 10.1.0.3 dev " H_IF_REALS
	   " weight 1 nexthop via 10.1.0.4 dev " H_IF_REALS " weight 3");
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	get_entry(id, &e);
	cr_assert_eq(e.n_legs, 4);
	expect_leg(&e.legs[0], H_MAC_REALS, H_MAC_REAL3, H_IF_REALS, "w1");
	expect_leg(&e.legs[3], H_MAC_REALS, H_MAC_REAL4, H_IF_REALS, "w3");
	/* To the other interface, through the clients' router. */
	sh("ip route replace 10.1.0.2/32 via 10.0.0.2 dev " H_IF_CLIENT);
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	get_entry(id, &e);
	cr_assert(e.flags & XLB_NH_F_VALID);
	cr_assert_eq(e.n_legs, 1);
	expect_leg(&e.legs[0], H_MAC_CLIENT, H_MAC_ROUTER, H_IF_CLIENT,
		   "moved");
	/* Its gateway's neighbour gone: invalid. */
	sh("ip neigh del 10.0.0.2 dev " H_IF_CLIENT);
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	get_entry(id, &e);
	cr_expect(!(e.flags & XLB_NH_F_VALID), "valid without neighbour");
	xlb_nexthops_get_stats(nh, &st);
	cr_expect_gt(st.events, 0);
	cr_expect_gt(st.stale, 0);
	xlb_nexthops_close(nh, false);
}

/* ---- FULLNAT replies: the session's kept next hop ------------------------ */

#define ROUTER_MAC2 "02:00:00:00:0d:01"

static uint64_t reply_lookups(void)
{
	uint64_t n;

	cr_assert_eq(xlb_dp_nexthop_stat(h_dp, XLB_NH_ST_REPLY_LOOKUP, &n), 0);
	return n;
}

static uint32_t epoch_cur(void)
{
	struct xlb_nh_epoch e;

	cr_assert_eq(xlb_dp_nh_epoch_get(h_dp, &e), 0);
	return e.cur;
}

/* A FULLNAT session of CLIENT4:40000 (its SYN sent); its forward entry. */
static void nat_open(struct xlb_nat_fwd *f)
{
	struct h_result res;

	put_entry(h_real_id(NAT4_SVC, "10.1.0.3"), XLB_NH_F_VALID,
		  real_gen(h_real_id(NAT4_SVC, "10.1.0.3")), 1500, 1);
	run_syn("10.100.0.5", AF_INET, 40000, &res);
	cr_assert_eq(res.retval, XDP_REDIRECT, "SYN: %s",
		     xlb_reason_names[res.reason]);
	cr_assert_eq(h_nat_get(NAT4_SVC, CLIENT4, 40000, f), 0);
}

/* The real's answer to the session: payload bytes of TCP data. */
static void nat_answer(const struct xlb_nat_fwd *f, uint16_t payload,
		       struct h_result *res)
{
	char local[INET_ADDRSTRLEN];
	struct pkt_spec r = {
		.smac = H_MAC_REAL3,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = "10.1.0.3",
		.daddr = local,
		.proto = IPPROTO_TCP,
		.sport = 80,
		.dport = ntohs(f->lport),
		.tcp_flags = PKT_ACK,
		.df = true,
		.payload_len = payload,
	};
	struct pkt in;

	inet_ntop(AF_INET, &f->laddr.addr[0], local, sizeof(local));
	cr_assert_eq(pkt_build(&in, &r), 0);
	h_run_if(&in, res, -1, H_IF_REALS);
}

static void expect_hop(const char *dmac, uint32_t epoch, uint16_t mtu,
		       const char *what)
{
	struct xlb_nat_fwd f;
	uint8_t s[6], d[6];

	mac_parse(H_MAC_CLIENT, s);
	mac_parse(dmac, d);
	cr_assert_eq(h_nat_get(NAT4_SVC, CLIENT4, 40000, &f), 0);
	cr_expect_eq(f.hop.epoch, epoch, "%s: epoch %u, want %u", what,
		     f.hop.epoch, epoch);
	cr_expect(!memcmp(f.hop.smac, s, 6), "%s: source MAC", what);
	cr_expect(!memcmp(f.hop.dmac, d, 6), "%s: destination MAC", what);
	cr_expect_eq(f.hop.ifindex, if_nametoindex(H_IF_CLIENT), "%s: ifindex",
		     what);
	cr_expect_eq(f.hop.mtu, mtu, "%s: mtu %u, want %u", what, f.hop.mtu,
		     mtu);
}

/*
 * The first reply asks bpf_fib_lookup and the session keeps its answer;
 * the next ones go by it with no lookup (the route to the clients is
 * gone, which the lookup would answer with drop_no_route).
 */
Test(nexthop, reply_hop_kept)
{
	struct xlb_nat_fwd f;
	struct h_result res;
	uint8_t xt0[6], router[6];
	uint64_t before;
	uint32_t epoch;
	int i;

	mac_parse(H_MAC_CLIENT, xt0);
	mac_parse(H_MAC_ROUTER, router);
	cr_assert_eq(xlb_dp_nh_epoch_next(h_dp), 0);
	epoch = epoch_cur();
	cr_assert_neq(epoch, 0);
	nat_open(&f);
	cr_expect_eq(f.hop.epoch, 0, "a new session keeps no hop");
	before = reply_lookups();
	nat_answer(&f, 0, &res);
	expect_macs(&res, xt0, router, "first reply");
	cr_expect_eq(reply_lookups(), before + 1);
	expect_hop(H_MAC_ROUTER, epoch, 1500, "kept");
	sh("ip route del 192.0.2.0/24");
	for (i = 0; i < 3; i++) {
		nat_answer(&f, 100, &res);
		expect_macs(&res, xt0, router, "kept hop");
	}
	cr_expect_eq(reply_lookups(), before + 1, "no lookup for kept hops");
	/* A new epoch: the lookup again, which has no route now. */
	cr_assert_eq(xlb_dp_nh_epoch_next(h_dp), 0);
	nat_answer(&f, 0, &res);
	cr_expect_eq(res.reason, XLB_R_DROP_NO_ROUTE, "reason %s",
		     xlb_reason_names[res.reason]);
	cr_expect_eq(reply_lookups(), before + 2);
	/* Epoch 0 (no agent follows the changes): nothing used or kept. */
	sh("ip route add 192.0.2.0/24 via 10.0.0.2 dev " H_IF_CLIENT);
	nat_answer(&f, 0, &res);
	expect_macs(&res, xt0, router, "route back");
	cr_assert_eq(xlb_dp_nh_epoch_stop(h_dp), 0);
	cr_expect_eq(epoch_cur(), 0);
	sh("ip route del 192.0.2.0/24");
	nat_answer(&f, 0, &res);
	cr_expect_eq(res.reason, XLB_R_DROP_NO_ROUTE, "stopped: reason %s",
		     xlb_reason_names[res.reason]);
	cr_expect_eq(reply_lookups(), before + 4);
}

/*
 * The agent's resolver moves the epoch on after a change it reads: the
 * client's router gets another MAC, the next reply asks the lookup and
 * goes to the new MAC, and keeps that.
 */
Test(nexthop, reply_follows_neighbour_change)
{
	struct xlb_nexthops *nh = resolver();
	struct xlb_nexthops_stats st;
	struct xlb_nat_fwd f;
	struct h_result res;
	uint8_t xt0[6], router[6], router2[6];
	uint32_t epoch;
	uint64_t before;

	mac_parse(H_MAC_CLIENT, xt0);
	mac_parse(H_MAC_ROUTER, router);
	mac_parse(ROUTER_MAC2, router2);
	epoch = epoch_cur();
	cr_assert_neq(epoch, 0, "the resolver starts an epoch");
	nat_open(&f);
	nat_answer(&f, 0, &res);
	expect_macs(&res, xt0, router, "before");
	expect_hop(H_MAC_ROUTER, epoch, 1500, "before");
	sh("ip neigh replace 10.0.0.2 lladdr " ROUTER_MAC2 " dev " H_IF_CLIENT
	   " nud permanent");
	cr_assert_eq(xlb_nexthops_read(nh), 0);
	cr_assert_neq(epoch_cur(), epoch, "the change moved the epoch on");
	cr_assert_gt(epoch_cur(), epoch);
	before = reply_lookups();
	nat_answer(&f, 0, &res);
	expect_macs(&res, xt0, router2, "after");
	cr_expect_eq(reply_lookups(), before + 1);
	expect_hop(ROUTER_MAC2, epoch_cur(), 1500, "after");
	nat_answer(&f, 0, &res);
	expect_macs(&res, xt0, router2, "after, kept");
	cr_expect_eq(reply_lookups(), before + 1);
	xlb_nexthops_get_stats(nh, &st);
	cr_expect_geq(st.epochs, 2);
	/* An agent that stops stops the epoch: nothing is used. */
	xlb_nexthops_close(nh, true);
	cr_expect_eq(epoch_cur(), 0);
	nat_answer(&f, 0, &res);
	expect_macs(&res, xt0, router2, "stopped");
	cr_expect_eq(reply_lookups(), before + 2);
	/* The next agent never reuses an epoch an old hop may hold. */
	nh = resolver();
	cr_expect_gt(epoch_cur(), f.hop.epoch);
	cr_expect_neq(epoch_cur(), 0);
	xlb_nexthops_close(nh, false);
	/* nexthops: false stops it too. */
	cr_assert_eq(xlb_nexthops_invalidate_all(h_dp), 0);
	cr_expect_eq(epoch_cur(), 0);
}

/*
 * Only a plain forward is kept: no neighbour (the kernel forwards it)
 * and a packet over the MTU (too big, sent back to the real) are asked
 * every time, each with its reason; a packet over a kept hop's MTU goes
 * to the lookup, which gives the MTU.
 */
Test(nexthop, reply_not_forward_not_kept)
{
	struct xlb_nat_fwd f, got;
	struct h_result res;
	uint64_t before;
	uint32_t epoch;
	int i;

	cr_assert_eq(xlb_dp_nh_epoch_next(h_dp), 0);
	epoch = epoch_cur();
	nat_open(&f);
	sh("ip neigh del 10.0.0.2 dev " H_IF_CLIENT);
	before = reply_lookups();
	for (i = 0; i < 2; i++) {
		nat_answer(&f, 0, &res);
		cr_expect_eq(res.reason, XLB_R_PASS_NO_NEIGH, "reason %s",
			     xlb_reason_names[res.reason]);
		cr_assert_eq(h_nat_get(NAT4_SVC, CLIENT4, 40000, &got), 0);
		cr_expect_eq(got.hop.epoch, 0, "no neighbour kept");
	}
	cr_expect_eq(reply_lookups(), before + 2);
	/* The neighbour back, a smaller MTU: a big reply is too big. */
	sh("ip neigh replace 10.0.0.2 lladdr " H_MAC_ROUTER " dev " H_IF_CLIENT
	   " nud permanent");
	sh("ip link set " H_IF_CLIENT " mtu 1400");
	for (i = 0; i < 2; i++) {
		nat_answer(&f, 1400, &res);
		cr_expect_eq(res.reason, XLB_R_FWD_ICMP_TOO_BIG, "reason %s",
			     xlb_reason_names[res.reason]);
		cr_assert_eq(h_nat_get(NAT4_SVC, CLIENT4, 40000, &got), 0);
		cr_expect_eq(got.hop.epoch, 0, "too big kept");
	}
	cr_expect_eq(reply_lookups(), before + 4);
	/* A small one is kept, with the MTU the lookup checks. */
	nat_answer(&f, 0, &res);
	cr_expect_eq(res.reason, XLB_R_FWD_REDIRECT, "reason %s",
		     xlb_reason_names[res.reason]);
	expect_hop(H_MAC_ROUTER, epoch, 1400, "small");
	/* Over the kept MTU: the lookup, which says too big. */
	nat_answer(&f, 1400, &res);
	cr_expect_eq(res.reason, XLB_R_FWD_ICMP_TOO_BIG, "kept: reason %s",
		     xlb_reason_names[res.reason]);
	cr_expect_eq(reply_lookups(), before + 6);
	expect_hop(H_MAC_ROUTER, epoch, 1400, "still kept");
	nat_answer(&f, 1360 - 40, &res);
	cr_expect_eq(res.reason, XLB_R_FWD_REDIRECT, "fits: reason %s",
		     xlb_reason_names[res.reason]);
	cr_expect_eq(reply_lookups(), before + 6);
}
