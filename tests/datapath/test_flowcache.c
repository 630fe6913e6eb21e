// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow cache (bpf/flowcache.h): an established IPv4 tunnel flow's
 * packet sent from its slot leaves exactly as the slow path sends it;
 * a slot is used (a map written behind the epoch's back shows it), and
 * stops holding after every change the agent makes, a SYN that moves
 * the flow to another CPU's table, a new conntrack tick, and for
 * packets the slot cannot vouch for (SYN, FIN, RST, over the MTU).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "xlb_conn.h"

#define CLIENT4	 "192.0.2.10"
#define VIP4	 "10.100.0.1"
#define REAL_A	 "10.1.0.2"
#define REAL_B	 "10.1.0.3"
#define REAL6	 "fd01::2"
#define SVC	 VIP4 ":80/tcp"
#define SVC_UDP	 VIP4 ":53/udp"
#define SVC_GUE	 VIP4 ":443/tcp"
#define SVC_V6RL VIP4 ":8080/tcp"
#define NAT_VIP	 "10.100.0.5"
#define NAT_SVC	 NAT_VIP ":80/tcp"
#define NAT_UDP	 NAT_VIP ":53/udp"
#define NAT_REAL "10.1.0.4"
#define LOCAL4	 "10.97.0.1"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0x0c, 0x01};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0x0c, 0x02};
static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0x0d, 0x01};

static uint32_t real_gen(uint32_t id)
{
	struct xlb_real r;

	cr_assert_eq(xlb_dp_real_get(h_dp, id, &r), 0);
	return r.gen;
}

/* The real's resolved next hop: dmac out of xt2, mtu. */
static void nexthop(const char *svc, const char *real, const uint8_t *dmac,
		    uint16_t mtu)
{
	uint32_t id = h_real_id(svc, real);
	struct xlb_nh_entry e = {.flags = XLB_NH_F_VALID, .n_legs = 1};

	e.mtu = mtu;
	e.gen = real_gen(id);
	memcpy(e.legs[0].smac, mac_src, 6);
	memcpy(e.legs[0].dmac, dmac, 6);
	e.legs[0].ifindex = if_nametoindex(H_IF_REALS);
	cr_assert_eq(xlb_dp_nexthop_put(h_dp, id, &e), 0);
}

static void fc_setup(void)
{
	h_nat_setup();
	h_vip(SVC, XLB_HASH_MAGLEV, 251);
	h_real(SVC, REAL_A, 100);
	nexthop(SVC, REAL_A, mac_a, 1500);
	h_vip(SVC_UDP, XLB_HASH_MAGLEV, 251);
	h_real(SVC_UDP, REAL_A, 100);
	nexthop(SVC_UDP, REAL_A, mac_a, 1500);
	h_vip(SVC_GUE, XLB_HASH_MAGLEV, 251);
	h_vip_encap(SVC_GUE, true);
	h_real(SVC_GUE, REAL_A, 100);
	nexthop(SVC_GUE, REAL_A, mac_a, 1500);
	h_vip(SVC_V6RL, XLB_HASH_MAGLEV, 251);
	h_real(SVC_V6RL, REAL6, 100);
	nexthop(SVC_V6RL, REAL6, mac_a, 1500);
	h_laddr(LOCAL4);
	h_vip(NAT_SVC, XLB_HASH_MAGLEV, 251);
	h_vip_mode(NAT_SVC, XLB_MODE_FULLNAT, 0);
	h_real(NAT_SVC, NAT_REAL, 100);
	nexthop(NAT_SVC, NAT_REAL, mac_a, 1500);
	h_vip(NAT_UDP, XLB_HASH_MAGLEV, 251);
	h_vip_mode(NAT_UDP, XLB_MODE_FULLNAT, 0);
	h_real(NAT_UDP, NAT_REAL, 100);
	nexthop(NAT_UDP, NAT_REAL, mac_a, 1500);
}

TestSuite(flowcache, .init = fc_setup, .fini = h_teardown);

static uint64_t fills(void)
{
	uint64_t n;

	cr_assert_eq(xlb_dp_fc_fills(h_dp, &n), 0);
	return n;
}

struct flow {
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t flags;
	uint8_t tos;
	size_t payload;
};

static void build(struct pkt *in, const struct flow *f)
{
	struct pkt_spec s = {
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = VIP4,
		.proto = f->proto,
		.sport = f->sport,
		.dport = f->dport,
		.tcp_flags = f->flags,
		.tos = f->tos,
		.payload_len = f->payload,
	};

	cr_assert_eq(pkt_build(in, &s), 0);
}

static void send_flow(const struct flow *f, struct h_result *res, int cpu)
{
	struct pkt in;

	build(&in, f);
	h_run_on_cpu(&in, res, cpu);
}

static void expect_same(const struct h_result *a, const struct h_result *b,
			const char *what)
{
	cr_expect_eq(a->retval, b->retval, "%s: verdict %u, slow path %u", what,
		     a->retval, b->retval);
	cr_expect_eq(a->reason, b->reason, "%s: reason %s, slow path %s", what,
		     xlb_reason_names[a->reason], xlb_reason_names[b->reason]);
	cr_expect_eq(a->out_len, b->out_len, "%s: %u bytes, slow path %u", what,
		     a->out_len, b->out_len);
	if (a->out_len == b->out_len && memcmp(a->out, b->out, a->out_len)) {
		pkt_hexdump_diff(a->out, a->out_len, b->out, b->out_len);
		cr_expect_fail("%s: the frame differs from the slow path's",
			       what);
	}
}

/*
 * Every kind of packet the cache may send, each sent twice with the
 * cache on (the second from the slot: no fill) and once with it off:
 * the same verdict, reason and bytes. TOS (ECN bits too) and length
 * change from packet to packet of a flow; the outer header follows.
 */
Test(flowcache, slot_sends_what_the_slow_path_sends)
{
	static const struct flow flows[] = {
		{IPPROTO_TCP, 40001, 80, PKT_ACK, 0, 0},
		{IPPROTO_TCP, 40001, 80, PKT_ACK | PKT_PSH, 0x2e, 700},
		{IPPROTO_TCP, 40001, 80, PKT_ACK, 0x03, 1400},
		{IPPROTO_UDP, 40002, 53, 0, 0, 20},
		{IPPROTO_UDP, 40002, 53, 0, 0xb8, 1000},
		{IPPROTO_TCP, 40003, 443, PKT_ACK, 0x01, 100},
		{IPPROTO_TCP, 40003, 443, PKT_ACK, 0x00, 1000},
		{IPPROTO_TCP, 40004, 8080, PKT_ACK, 0x11, 64},
		{IPPROTO_TCP, 40004, 8080, PKT_ACK, 0xfe, 1300},
	};
	struct h_result on, again, off;
	struct flow syn;
	uint64_t n, first = fills();
	size_t i;

	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "packet %zu (port %u)", i,
			 flows[i].dport);
		if (flows[i].proto == IPPROTO_TCP) {
			syn = flows[i];
			syn.flags = PKT_SYN;
			syn.payload = 0;
			send_flow(&syn, &on, 0);
			cr_assert_eq(on.retval, XDP_REDIRECT, "%s: SYN", what);
		}
		send_flow(&flows[i], &on, 0);
		n = fills();
		send_flow(&flows[i], &again, 0);
		cr_expect_eq(fills(), n, "%s: sent again, not from its slot",
			     what);
		cr_assert_eq(xlb_dp_fc_enable(h_dp, false), 0);
		send_flow(&flows[i], &off, 0);
		cr_assert_eq(xlb_dp_fc_enable(h_dp, true), 0);
		cr_expect_eq(fills(), n, "%s: filled with the cache off", what);
		expect_same(&again, &off, what);
		expect_same(&on, &off, what);
		cr_expect_eq(again.retval, XDP_REDIRECT, "%s: %s", what,
			     xlb_reason_names[again.reason]);
	}
	cr_expect_geq(fills() - first, 4, "%llu fills",
		      (unsigned long long)(fills() - first));
}

/* A map written behind the epoch's back is not seen until the epoch
 * moves: the packets came from the slot. */
Test(flowcache, slot_used_until_the_epoch_moves)
{
	const struct flow f = {IPPROTO_TCP, 40010, 80, PKT_ACK, 0, 0};
	uint32_t id = h_real_id(SVC, REAL_A);
	struct xlb_nh_entry e;
	struct h_result res;
	int fd = xlb_dp_map_fd(h_dp, "nexthops");
	const struct ethhdr *eth = (const void *)res.out;

	send_flow(&f, &res, 0);
	cr_assert_eq(res.retval, XDP_REDIRECT);
	cr_assert(!memcmp(eth->h_dest, mac_a, 6));
	cr_assert_eq(xlb_dp_nexthop_get(h_dp, id, &e), 0);
	memcpy(e.legs[0].dmac, mac_b, 6);
	cr_assert_eq(bpf_map_update_elem(fd, &id, &e, BPF_ANY), 0);
	send_flow(&f, &res, 0);
	cr_expect(!memcmp(eth->h_dest, mac_a, 6), "not sent from the slot");
	xlb_dp_fc_changed(h_dp);
	send_flow(&f, &res, 0);
	cr_expect(!memcmp(eth->h_dest, mac_b, 6), "slot held past the epoch");
}

/* The agent's writes: a new next hop MAC, the real down, a new real
 * on the ring for a new flow; each packet after follows at once. */
Test(flowcache, agent_changes_followed_at_once)
{
	const struct flow f = {IPPROTO_TCP, 40020, 80, PKT_ACK, 0, 0};
	struct h_result res;
	const struct ethhdr *eth = (const void *)res.out;
	char real[64];

	send_flow(&f, &res, 0);
	send_flow(&f, &res, 0);
	cr_assert(!memcmp(eth->h_dest, mac_a, 6));
	nexthop(SVC, REAL_A, mac_b, 1500);
	send_flow(&f, &res, 0);
	cr_expect(!memcmp(eth->h_dest, mac_b, 6), "new neighbour MAC");
	/* Another real takes the flow once REAL_A is down. */
	h_real(SVC, REAL_B, 100);
	nexthop(SVC, REAL_B, mac_a, 1500);
	send_flow(&f, &res, 0);
	cr_expect_str_eq(h_out_real(&res, real, sizeof(real)), REAL_A);
	h_health(SVC, REAL_A, false);
	send_flow(&f, &res, 0);
	cr_expect_str_eq(h_out_real(&res, real, sizeof(real)), REAL_B,
			 "the real went down");
	cr_expect(!memcmp(eth->h_dest, mac_a, 6));
}

/* SYN, FIN and RST take the slow path: the flow's state moves. */
Test(flowcache, state_changes_take_the_slow_path)
{
	struct flow f = {IPPROTO_TCP, 40030, 80, PKT_ACK, 0, 0};
	struct xlb_flow_key key;
	struct xlb_ct_entry e;
	struct h_result res;
	uint64_t n;

	send_flow(&f, &res, 0);
	send_flow(&f, &res, 0);
	n = fills();
	f.flags = PKT_FIN | PKT_ACK;
	send_flow(&f, &res, 0);
	cr_assert_eq(res.retval, XDP_REDIRECT);
	h_nat_key(SVC, CLIENT4, f.sport, &key);
	cr_assert_eq(xlb_dp_ct_get(h_dp, 0, &key, &e), 0);
	cr_expect_eq(xlb_ct_state(e.v), XLB_CT_S_FIN, "state %u",
		     xlb_ct_state(e.v));
	f.flags = PKT_RST;
	send_flow(&f, &res, 0);
	cr_assert_eq(xlb_dp_ct_get(h_dp, 0, &key, &e), 0);
	cr_expect_eq(xlb_ct_state(e.v), XLB_CT_S_RST);
	cr_expect_eq(fills(), n, "a FIN or RST filled a slot");
}

/* A packet over the next hop's MTU is the slow path's: the entry cannot
 * take it, and bpf_fib_lookup decides (here: the link's 1500 do). */
Test(flowcache, over_the_mtu_is_the_slow_paths)
{
	struct flow f = {IPPROTO_TCP, 40040, 80, PKT_ACK, 0, 0};
	struct h_result res;
	uint64_t before, after;

	nexthop(SVC, REAL_A, mac_a, 1000);
	send_flow(&f, &res, 0);
	send_flow(&f, &res, 0);
	cr_assert_eq(res.retval, XDP_REDIRECT);
	cr_assert_eq(xlb_dp_nexthop_fallbacks(h_dp, &before), 0);
	f.payload = 1000;
	send_flow(&f, &res, 0);
	cr_assert_eq(xlb_dp_nexthop_fallbacks(h_dp, &after), 0);
	cr_expect_eq(after, before + 1, "not routed by the lookup");
	cr_expect_eq(res.retval, XDP_REDIRECT, "%s",
		     xlb_reason_names[res.reason]);
}

/*
 * A client's SYN on CPU 1 takes the flow from CPU 0's table: CPU 0's
 * slot must not keep sending the flow to the real its old entry had.
 */
Test(flowcache, syn_on_another_cpu_takes_the_flow)
{
	struct flow f = {IPPROTO_TCP, 0, 80, PKT_ACK, 0, 0}, s;
	struct h_result res;
	char real[64];
	int i;

	cr_assert_geq(sysconf(_SC_NPROCESSORS_ONLN), 2, "needs two CPUs");
	/* Flows tracked on CPU 0, all on REAL_A. */
	for (i = 0; i < 64; i++) {
		f.sport = 40100 + i;
		send_flow(&f, &res, 0);
		cr_assert_str_eq(h_out_real(&res, real, sizeof(real)), REAL_A);
	}
	/* A second real: the new ring gives some of them to it. */
	h_real(SVC, REAL_B, 100);
	nexthop(SVC, REAL_B, mac_b, 1500);
	for (i = 0; i < 64; i++) {
		f.sport = 40100 + i;
		send_flow(&f, &res,
			  0); /* fills CPU 0's slot: its entry's real */
		send_flow(&f, &res, 0); /* from the slot */
		cr_assert_str_eq(h_out_real(&res, real, sizeof(real)), REAL_A);
		s = f;
		s.flags = PKT_SYN;
		send_flow(&s, &res, 1);
		if (strcmp(h_out_real(&res, real, sizeof(real)), REAL_B))
			continue;
		/* The SYN chose REAL_B on CPU 1; CPU 0 follows it. */
		send_flow(&f, &res, 0);
		cr_expect_str_eq(h_out_real(&res, real, sizeof(real)), REAL_B,
				 "port %u: CPU 0 kept the old real", f.sport);
		return;
	}
	cr_assert_fail("no flow the new ring moves");
}

/* A new conntrack tick takes the slow path once, which refreshes the
 * flow's entry. */
Test(flowcache, new_tick_refreshes_the_entry, .timeout = 10)
{
	const struct flow f = {IPPROTO_TCP, 40060, 80, PKT_ACK, 0, 0};
	struct xlb_flow_key key;
	struct xlb_ct_entry e;
	struct h_result res;
	uint32_t seen;
	uint64_t n;

	send_flow(&f, &res, 0);
	send_flow(&f, &res, 0);
	h_nat_key(SVC, CLIENT4, f.sport, &key);
	cr_assert_eq(xlb_dp_ct_get(h_dp, 0, &key, &e), 0);
	seen = xlb_ct_seen(e.v);
	n = fills();
	usleep(1200 * 1000); /* more than a tick, 2^30 ns */
	send_flow(&f, &res, 0);
	cr_expect_eq(fills(), n + 1, "no refill after a tick");
	cr_assert_eq(xlb_dp_ct_get(h_dp, 0, &key, &e), 0);
	cr_expect_neq(xlb_ct_seen(e.v), seen, "entry not refreshed");
}

/* FULLNAT: a client's packet (to the VIP) and the real's answer (to the
 * session's local address and port). */
static void nat_request_pkt(struct pkt *in, uint8_t proto, uint16_t cport,
			    uint16_t vport, uint8_t flags, uint8_t tos,
			    size_t payload)
{
	struct pkt_spec s = {
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = NAT_VIP,
		.proto = proto,
		.sport = cport,
		.dport = vport,
		.tcp_flags = flags,
		.tos = tos,
		.payload_len = payload,
	};

	cr_assert_eq(pkt_build(in, &s), 0);
}

static void nat_reply_pkt(struct pkt *in, const char *svc, uint8_t proto,
			  uint16_t cport, uint16_t vport, uint8_t flags,
			  size_t payload)
{
	char local[INET_ADDRSTRLEN];
	struct xlb_nat_fwd f;
	struct pkt_spec s = {
		.smac = H_MAC_REAL4,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = NAT_REAL,
		.daddr = local,
		.proto = proto,
		.sport = vport,
		.tcp_flags = flags,
		.payload_len = payload,
	};

	cr_assert_eq(h_nat_get(svc, CLIENT4, cport, &f), 0, "no session");
	inet_ntop(AF_INET, &f.laddr.addr[0], local, sizeof(local));
	s.dport = ntohs(f.lport);
	cr_assert_eq(pkt_build(in, &s), 0);
}

/* Sent with the cache on, again (from the slot), and with it off: the
 * same frame each time. */
static void expect_slot_as_slow(const struct pkt *in, const char *ifname,
				bool from_slot, const char *what)
{
	struct h_result on, again, off;
	uint64_t n;

	h_run_if(in, &on, 0, ifname);
	n = fills();
	h_run_if(in, &again, 0, ifname);
	if (from_slot)
		cr_expect_eq(fills(), n, "%s: sent again, not from its slot",
			     what);
	cr_assert_eq(xlb_dp_fc_enable(h_dp, false), 0);
	h_run_if(in, &off, 0, ifname);
	cr_assert_eq(xlb_dp_fc_enable(h_dp, true), 0);
	expect_same(&on, &off, what);
	expect_same(&again, &off, what);
	cr_expect_eq(again.retval, XDP_REDIRECT, "%s: %s", what,
		     xlb_reason_names[again.reason]);
}

/* A FULLNAT session's requests and replies from their slots: exactly
 * the slow path's translation (addresses, ports, both checksums, MACs),
 * TCP and UDP. */
Test(flowcache, fullnat_slots_send_what_the_slow_path_sends)
{
	struct h_result res;
	struct pkt in;
	uint64_t n, first = fills();

	nat_request_pkt(&in, IPPROTO_TCP, 41000, 80, PKT_SYN, 0, 0);
	h_run(&in, &res);
	cr_assert_eq(res.retval, XDP_REDIRECT, "SYN: %s",
		     xlb_reason_names[res.reason]);
	/* The session's first reply fills nothing: it moves the state. */
	nat_reply_pkt(&in, NAT_SVC, IPPROTO_TCP, 41000, 80, PKT_SYN | PKT_ACK,
		      0);
	n = fills();
	h_run_if(&in, &res, 0, H_IF_REALS);
	cr_assert_eq(res.retval, XDP_REDIRECT, "SYN-ACK: %s",
		     xlb_reason_names[res.reason]);
	cr_expect_eq(fills(), n, "the first reply filled a slot");
	nat_request_pkt(&in, IPPROTO_TCP, 41000, 80, PKT_ACK, 0x02, 0);
	expect_slot_as_slow(&in, H_IF_CLIENT, true, "request ACK");
	nat_request_pkt(&in, IPPROTO_TCP, 41000, 80, PKT_ACK | PKT_PSH, 0x2e,
			900);
	expect_slot_as_slow(&in, H_IF_CLIENT, true, "request data");
	nat_reply_pkt(&in, NAT_SVC, IPPROTO_TCP, 41000, 80, PKT_ACK, 1200);
	/* The second reply keeps the hop the first looked up; from then
	 * on a slot. */
	h_run_if(&in, &res, 0, H_IF_REALS);
	expect_slot_as_slow(&in, H_IF_REALS, true, "reply data");
	nat_request_pkt(&in, IPPROTO_UDP, 41001, 53, 0, 0, 100);
	expect_slot_as_slow(&in, H_IF_CLIENT, true, "UDP request");
	nat_reply_pkt(&in, NAT_UDP, IPPROTO_UDP, 41001, 53, 0, 300);
	h_run_if(&in, &res, 0, H_IF_REALS);
	h_run_if(&in, &res, 0, H_IF_REALS);
	expect_slot_as_slow(&in, H_IF_REALS, true, "UDP reply");
	/* Each of the four flows had a slot: TCP and UDP, both ways (and
	 * again after each time the cache was turned on). */
	cr_expect_geq(fills() - first, 4, "%llu fills",
		      (unsigned long long)(fills() - first));
}

/* A session the agent removes is gone for its slots too: the next
 * request is the slow path's (no session: not a SYN), the next reply
 * too (no session). */
Test(flowcache, fullnat_session_removed)
{
	struct h_result res;
	struct pkt req, rep;
	size_t n = 0;

	nat_request_pkt(&req, IPPROTO_TCP, 41010, 80, PKT_SYN, 0, 0);
	h_run(&req, &res);
	nat_reply_pkt(&rep, NAT_SVC, IPPROTO_TCP, 41010, 80, PKT_SYN | PKT_ACK,
		      0);
	h_run_if(&rep, &res, 0, H_IF_REALS);
	nat_reply_pkt(&rep, NAT_SVC, IPPROTO_TCP, 41010, 80, PKT_ACK, 0);
	nat_request_pkt(&req, IPPROTO_TCP, 41010, 80, PKT_ACK, 0, 0);
	for (int i = 0; i < 3; i++) {
		h_run(&req, &res);
		cr_assert_eq(res.retval, XDP_REDIRECT);
		h_run_if(&rep, &res, 0, H_IF_REALS);
		cr_assert_eq(res.retval, XDP_REDIRECT);
	}
	cr_assert_eq(xlb_dp_nat_flush_vip(h_dp, h_vip_id(NAT_SVC), &n), 0);
	cr_assert_geq(n, 1);
	h_run(&req, &res);
	cr_expect_eq(res.reason, XLB_R_DROP_NAT_NOT_SYN, "request: %s",
		     xlb_reason_names[res.reason]);
	h_run_if(&rep, &res, 0, H_IF_REALS);
	cr_expect_eq(res.reason, XLB_R_PASS_NAT_NO_SESSION, "reply: %s",
		     xlb_reason_names[res.reason]);
}

/* A CPU whose packets keep missing their slots (many flows, each once)
 * stops looking them up for a while; its packets go on being sent by
 * the slow path, to the same reals. */
Test(flowcache, many_flows_bypass_the_slots)
{
	struct flow f = {IPPROTO_TCP, 0, 80, PKT_ACK, 0, 0};
	uint64_t fills, bypassed, after;
	struct h_result res;
	char real[64];
	int i;

	for (i = 0; i < 600; i++) {
		f.sport = 20000 + i;
		send_flow(&f, &res, 0);
		cr_assert_eq(res.retval, XDP_REDIRECT, "flow %d: %s", i,
			     xlb_reason_names[res.reason]);
	}
	cr_assert_eq(xlb_dp_fc_stats(h_dp, &fills, &bypassed), 0);
	cr_expect_geq(bypassed, 1, "no bypass after 600 misses");
	/* Bypassing: the slow path, no fill. */
	f.sport = 20000;
	send_flow(&f, &res, 0);
	cr_expect_str_eq(h_out_real(&res, real, sizeof(real)), REAL_A);
	cr_assert_eq(xlb_dp_fc_stats(h_dp, &fills, &bypassed), 0);
	send_flow(&f, &res, 0);
	cr_assert_eq(xlb_dp_fc_fills(h_dp, &after), 0);
	cr_expect_eq(after, fills, "a slot filled while bypassing");
}

/* Gateway MAC mode (`gateway_mac`): the slot is used only by frames sent
 * to the MAC the filling frame came to, which is the source MAC sent. */
Test(flowcache, gateway_mac_slot_needs_the_same_destination_mac)
{
	static const uint8_t gw[6] = {0x02, 0, 0, 0, 0x0e, 0x01};
	const struct flow f = {IPPROTO_TCP, 40070, 80, PKT_ACK, 0, 0};
	const struct ethhdr *eth;
	struct xlb_config cfg;
	struct h_result res;
	struct pkt in;
	uint64_t n;

	xlb_config_defaults(&cfg);
	cfg.has_gw_mac = true;
	memcpy(cfg.gw_mac, gw, 6);
	cr_assert_eq(xlb_agent_set_globals(h_agent, &cfg), 0);
	xlb_config_free(&cfg);
	build(&in, &f);
	n = fills();
	h_run_on_cpu(&in, &res, 0);
	cr_expect_eq(fills(), n + 1, "no slot filled in gateway MAC mode");
	n = fills();
	h_run_on_cpu(&in, &res, 0);
	cr_expect_eq(fills(), n, "not sent from the slot");
	eth = (const void *)res.out;
	cr_expect(!memcmp(eth->h_dest, gw, 6), "not to the gateway");
	cr_expect(!memcmp(eth->h_source, pkt_eth(&in)->h_dest, 6));
	/* The same flow's frame to another of the node's MACs: the slow
	 * path, whose source MAC is that one. */
	pkt_eth(&in)->h_dest[5] ^= 0x40;
	h_run_on_cpu(&in, &res, 0);
	cr_expect_eq(res.retval, XDP_TX);
	cr_expect(!memcmp(eth->h_source, pkt_eth(&in)->h_dest, 6),
		  "the slot's source MAC for a frame sent to another MAC");
}
