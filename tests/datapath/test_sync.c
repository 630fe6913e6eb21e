// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cluster session sync through the real program: the events the data
 * plane writes to sync_events (tunnel flows, FULLNAT sessions and their
 * first reply and their end; none with the flag off, none for
 * established traffic, losses counted when the ring is full), and the agent's
 * side: a peer's flows and sessions installed with xlb_dp_ct_install() and
 * xlb_dp_nat_install() steer packets, and xlb_dp_sessions_walk() hands
 * out every session once.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <criterion/criterion.h>

#include "harness.h"
#include "../lib/bpffs.h"
#include "xlb_conn.h"

#define CLIENT4	   "192.0.2.10"
#define VIP4	   "10.100.0.1"
#define LOCAL4	   "10.97.0.1"
#define PEER4	   "10.97.1.1" /* a peer's local address, not in our pool */
#define REAL4	   "10.1.0.2"
#define REAL4B	   "10.1.0.3"
#define TCP4_SVC   VIP4 ":80/tcp"
#define TUN_VIP	   "10.100.0.9"
#define TUN_SVC	   TUN_VIP ":80/tcp"
#define TUN_UDP	   TUN_VIP ":53/udp"
#define PEER_PORT  5555
#define NS_PER_SEC 1000000000ull
#define MAX_EVS	   64

static struct xlb_sync_event evs[MAX_EVS];
static int n_evs;

static void collect(const struct xlb_sync_event *ev, void *arg)
{
	if (n_evs < MAX_EVS)
		evs[n_evs] = *ev;
	n_evs++;
}

/* Hand every waiting event to collect(); how many there were. */
static int drain(void)
{
	int ret;

	n_evs = 0;
	ret = xlb_dp_sync_consume(h_dp);
	cr_assert_geq(ret, 0, "consume: %s", strerror(-ret));
	cr_assert_eq(ret, n_evs, "consume said %d, the callback saw %d", ret,
		     n_evs);
	return n_evs;
}

static void sync_setup(void)
{
	h_nat_setup();
	cr_assert_eq(xlb_dp_sync_open(h_dp, collect, NULL), 0);
	cr_assert_geq(xlb_dp_sync_fd(h_dp), 0);
}

static void sync_on(void)
{
	struct xlb_globals g;

	cr_assert_eq(xlb_dp_set_sync(h_dp, true), 0);
	h_globals(&g);
	cr_assert(g.flags & XLB_G_F_SYNC);
}

static void stats(uint64_t *events, uint64_t *lost)
{
	cr_assert_eq(xlb_dp_sync_stats(h_dp, events, lost), 0);
}

static void tunnel_vips(void)
{
	h_vip(TUN_SVC, XLB_HASH_MAGLEV, 251);
	h_real(TUN_SVC, REAL4, 100);
	h_real(TUN_SVC, REAL4B, 100);
	h_vip(TUN_UDP, XLB_HASH_MAGLEV, 251);
	h_real(TUN_UDP, REAL4, 100);
	h_real(TUN_UDP, REAL4B, 100);
}

static void fullnat_vip(void)
{
	h_laddr(LOCAL4);
	h_vip(TCP4_SVC, XLB_HASH_MAGLEV, 251);
	h_vip_mode(TCP4_SVC, XLB_MODE_FULLNAT, 0);
	h_real(TCP4_SVC, REAL4, 100);
}

static struct pkt_spec tun_pkt(uint8_t proto, uint16_t sport, uint8_t flags)
{
	struct pkt_spec s = {
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = TUN_VIP,
		.proto = proto,
		.sport = sport,
		.dport = proto == IPPROTO_TCP ? 80 : 53,
		.tcp_flags = proto == IPPROTO_TCP ? flags : 0,
	};

	return s;
}

/* Send a tunnel packet on cpu; the real it went to (a string in buf). */
static const char *tun_send(uint8_t proto, uint16_t sport, uint8_t flags,
			    int cpu, char *buf, size_t len)
{
	struct pkt_spec s = tun_pkt(proto, sport, flags);
	struct h_result res;
	struct pkt in;

	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run_on_cpu(&in, &res, cpu);
	cr_assert_eq(res.retval, XDP_REDIRECT, "reason %s",
		     xlb_reason_names[res.reason]);
	return h_out_real(&res, buf, len);
}

static struct pkt_spec nat_req(uint16_t sport, uint8_t flags)
{
	struct pkt_spec s = {
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = VIP4,
		.proto = IPPROTO_TCP,
		.sport = sport,
		.dport = 80,
		.tcp_flags = flags,
		.seq = 1000,
	};

	return s;
}

static struct pkt_spec nat_reply(const char *local, uint16_t lport,
				 uint16_t cport, uint8_t flags)
{
	struct pkt_spec s = {
		.smac = H_MAC_REAL2,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = REAL4,
		.daddr = local,
		.proto = IPPROTO_TCP,
		.sport = 80,
		.dport = lport,
		.tcp_flags = flags,
		.seq = 5000,
		.ack = 1001,
	};

	return s;
}

/* Run a frame in on ifname, expect a redirect, parse the output. */
static void run_parse(const struct pkt_spec *s, const char *ifname, int cpu,
		      struct pkt_info *info)
{
	struct h_result res;
	struct pkt in;
	char why[128];

	cr_assert_eq(pkt_build(&in, s), 0);
	h_run_if(&in, &res, cpu, ifname);
	cr_assert_eq(res.retval, XDP_REDIRECT, "reason %s",
		     xlb_reason_names[res.reason]);
	cr_assert_eq(pkt_parse(res.out, res.out_len, info, why, sizeof(why)), 0,
		     "output: %s", why);
}

static uint32_t real_gen(uint32_t id)
{
	struct xlb_real r;

	cr_assert_eq(xlb_dp_real_get(h_dp, id, &r), 0);
	return r.gen;
}

static struct xlb_addr addr4(const char *s)
{
	struct xlb_addr a = {};

	cr_assert_eq(inet_pton(AF_INET, s, &a.addr[0]), 1);
	return a;
}

TestSuite(sync, .init = sync_setup, .fini = h_teardown);

Test(sync, flag_off_no_events)
{
	struct xlb_globals g;
	struct pkt_info info;
	uint64_t ev, lost;
	char buf[64];
	struct pkt_spec s;

	tunnel_vips();
	fullnat_vip();
	h_globals(&g);
	cr_assert_eq(g.flags & XLB_G_F_SYNC, 0);
	tun_send(IPPROTO_TCP, 40000, PKT_SYN, 0, buf, sizeof(buf));
	tun_send(IPPROTO_UDP, 40000, 0, 0, buf, sizeof(buf));
	s = nat_req(40000, PKT_SYN);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	s = nat_reply(LOCAL4, info.sport, 40000, PKT_SYN | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	cr_assert_eq(drain(), 0, "events with the flag off");
	stats(&ev, &lost);
	cr_assert_eq(ev, 0);
	cr_assert_eq(lost, 0);
}

Test(sync, globals_writer_keeps_the_flag)
{
	struct xlb_globals g;

	sync_on();
	h_nat_config(2000, 60000);
	h_globals(&g);
	cr_assert(g.flags & XLB_G_F_SYNC, "set_globals cleared the flag");
	cr_assert_eq(g.nat_port_min, 2000);
	cr_assert_eq(xlb_dp_set_sync(h_dp, false), 0);
	h_globals(&g);
	cr_assert_eq(g.flags & XLB_G_F_SYNC, 0);
	cr_assert_eq(g.nat_port_min, 2000, "set_sync changed other fields");
	h_nat_config(3000, 60000);
	h_globals(&g);
	cr_assert_eq(g.flags & XLB_G_F_SYNC, 0);
}

Test(sync, tunnel_new_flow_one_event)
{
	struct xlb_flow_key key;
	uint64_t ev, lost;
	uint32_t id;
	char buf[64];
	int cpu, i;

	tunnel_vips();
	sync_on();
	tun_send(IPPROTO_TCP, 40000, PKT_SYN, 0, buf, sizeof(buf));
	cr_assert_eq(drain(), 1);
	h_nat_key(TUN_SVC, CLIENT4, 40000, &key);
	id = h_real_id(TUN_SVC, buf);
	cr_assert_eq(evs[0].kind, XLB_SYNC_EV_TUNNEL);
	cr_assert_arr_eq(&evs[0].flow, &key, sizeof(key));
	cr_assert_eq(evs[0].real_id, id);
	cr_assert_eq(evs[0].real_gen, real_gen(id));
	cr_assert_eq(evs[0].lport, 0);
	cr_assert_eq(evs[0].state, 0);
	cr_assert_eq(evs[0].laddr.addr[0], 0);
	/* Established packets, on this CPU and (copied) on the last. */
	cpu = xlb_dp_ncpus(h_dp) - 1;
	for (i = 0; i < 3; i++) {
		tun_send(IPPROTO_TCP, 40000, PKT_ACK, 0, buf, sizeof(buf));
		tun_send(IPPROTO_TCP, 40000, PKT_ACK, cpu, buf, sizeof(buf));
	}
	cr_assert_eq(drain(), 0, "events for an established flow");
	/* A UDP flow: one event, then none. */
	tun_send(IPPROTO_UDP, 40001, 0, 0, buf, sizeof(buf));
	tun_send(IPPROTO_UDP, 40001, 0, 0, buf, sizeof(buf));
	cr_assert_eq(drain(), 1);
	h_nat_key(TUN_UDP, CLIENT4, 40001, &key);
	cr_assert_arr_eq(&evs[0].flow, &key, sizeof(key));
	cr_assert_eq(evs[0].real_id, h_real_id(TUN_UDP, buf));
	stats(&ev, &lost);
	cr_assert_eq(ev, 2);
	cr_assert_eq(lost, 0);
}

Test(sync, fullnat_session_and_first_reply)
{
	struct xlb_flow_key key;
	struct pkt_info info;
	struct xlb_addr local = addr4(LOCAL4);
	struct pkt_spec s;
	uint16_t lport;
	uint32_t id = 0;
	uint64_t ev, lost;

	fullnat_vip();
	sync_on();
	s = nat_req(40000, PKT_SYN);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	lport = info.sport;
	cr_assert_eq(drain(), 1);
	h_nat_key(TCP4_SVC, CLIENT4, 40000, &key);
	id = h_real_id(TCP4_SVC, REAL4);
	cr_assert_eq(evs[0].kind, XLB_SYNC_EV_NAT);
	cr_assert_arr_eq(&evs[0].flow, &key, sizeof(key));
	cr_assert_eq(evs[0].real_id, id);
	cr_assert_eq(evs[0].real_gen, real_gen(id));
	cr_assert_arr_eq(&evs[0].laddr, &local, sizeof(local));
	cr_assert_eq(ntohs(evs[0].lport), lport);
	cr_assert_eq(evs[0].state, 0);
	/* The SYN again (a retransmission): no event. */
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 0);
	/* The first reply: one event, REPLIED. */
	s = nat_reply(LOCAL4, lport, 40000, PKT_SYN | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	cr_assert_eq(drain(), 1);
	cr_assert_eq(evs[0].kind, XLB_SYNC_EV_NAT);
	cr_assert_arr_eq(&evs[0].flow, &key, sizeof(key));
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED);
	cr_assert_eq(ntohs(evs[0].lport), lport);
	cr_assert_eq(evs[0].real_id, id);
	/* Further replies, on any CPU, and the client's ACK: none. */
	s = nat_reply(LOCAL4, lport, 40000, PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	run_parse(&s, H_IF_REALS, xlb_dp_ncpus(h_dp) - 1, &info);
	s = nat_req(40000, PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 0);
	stats(&ev, &lost);
	cr_assert_eq(ev, 2);
	cr_assert_eq(lost, 0);
}

/* A session through SYN, SYN-ACK, ACK on CPU 0; its local port. */
static uint16_t nat_open(uint16_t cport)
{
	struct pkt_info info;
	struct pkt_spec s = nat_req(cport, PKT_SYN);
	uint16_t lport;

	run_parse(&s, H_IF_CLIENT, 0, &info);
	lport = info.sport;
	s = nat_reply(LOCAL4, lport, cport, PKT_SYN | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	s = nat_req(cport, PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 2, "new session, first reply");
	return lport;
}

/*
 * A session's end travels: each FIN (either way) and an RST from either
 * side write one event with the state then, so the peers' copies close
 * too, even when the two FINs pass different nodes. The packets after
 * the end write none.
 */
Test(sync, fullnat_end_one_event)
{
	const uint8_t fins = XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL;
	struct xlb_flow_key key;
	struct pkt_info info;
	struct pkt_spec s;
	uint16_t lport;

	fullnat_vip();
	sync_on();
	/* FIN from the client, then from the real. */
	lport = nat_open(40001);
	s = nat_req(40001, PKT_FIN | PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 1, "the client's FIN");
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 0, "the same FIN again: nothing new");
	s = nat_reply(LOCAL4, lport, 40001, PKT_FIN | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	cr_assert_eq(drain(), 1);
	h_nat_key(TCP4_SVC, CLIENT4, 40001, &key);
	cr_assert_eq(evs[0].kind, XLB_SYNC_EV_NAT);
	cr_assert_arr_eq(&evs[0].flow, &key, sizeof(key));
	cr_assert_eq(ntohs(evs[0].lport), lport);
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED | fins);
	s = nat_req(40001, PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	run_parse(&s, H_IF_CLIENT, xlb_dp_ncpus(h_dp) - 1, &info);
	cr_assert_eq(drain(), 0, "after the end: nothing more");

	/* FIN from the real first: the client's FIN ends it. */
	lport = nat_open(40002);
	s = nat_reply(LOCAL4, lport, 40002, PKT_FIN | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	cr_assert_eq(drain(), 1, "the real's FIN");
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_REAL);
	s = nat_req(40002, PKT_FIN | PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 1);
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED | fins);

	/* An RST from the client. */
	lport = nat_open(40003);
	s = nat_req(40003, PKT_RST);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_eq(drain(), 1);
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED | XLB_NAT_S_RST);

	/* An RST from the real. */
	lport = nat_open(40004);
	s = nat_reply(LOCAL4, lport, 40004, PKT_RST | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	cr_assert_eq(drain(), 1);
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED | XLB_NAT_S_RST);
}

Test(sync, ring_full_counts_lost_and_forwards)
{
	struct pkt_spec s;
	struct h_result res;
	struct pkt in;
	uint64_t ev, lost, ev2, lost2;
	const int n = 16500; /* more 64-byte records than 1 MiB holds */
	char buf[64];
	int i;

	tunnel_vips();
	sync_on();
	cr_assert_eq(sizeof(struct xlb_sync_event) + 8, 64);
	for (i = 0; i < n; i++) {
		struct xdp_md ctx = {.ingress_ifindex =
					     if_nametoindex(H_IF_CLIENT)};
		LIBBPF_OPTS(bpf_test_run_opts, opts);

		s = tun_pkt(IPPROTO_UDP, 0, 0);
		s.saddr = "192.0.2.20";
		s.sport = 1024 + i;
		cr_assert_eq(pkt_build(&in, &s), 0);
		ctx.data_end = in.len;
		opts.data_in = in.buf;
		opts.data_size_in = in.len;
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
		opts.repeat = 1;
		cr_assert_eq(
			bpf_prog_test_run_opts(xlb_dp_prog_fd(h_dp), &opts), 0);
	}
	stats(&ev, &lost);
	cr_assert_eq(ev + lost, n);
	cr_assert_geq(ev, 16000);
	cr_assert_lt(ev, 16384, "1 MiB holds fewer than 16384 records");
	/* One more new flow: lost, and the packet goes on all the same. */
	s = tun_pkt(IPPROTO_TCP, 40000, PKT_SYN);
	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run(&in, &res);
	cr_assert_eq(res.retval, XDP_REDIRECT);
	cr_assert_eq(res.reason, XLB_R_FWD_REDIRECT);
	stats(&ev2, &lost2);
	cr_assert_eq(ev2, ev);
	cr_assert_eq(lost2, lost + 1);
	/* Read: room again. */
	n_evs = 0;
	cr_assert_eq(xlb_dp_sync_consume(h_dp), (int)ev);
	tun_send(IPPROTO_TCP, 40001, PKT_SYN, 0, buf, sizeof(buf));
	cr_assert_eq(drain(), 1);
	cr_assert_eq(ntohs(evs[0].flow.sport), 40001);
}

/* Remove a flow from every CPU's conntrack table. */
static void ct_forget(const struct xlb_flow_key *key)
{
	int cpu;

	for (cpu = 0; cpu < xlb_dp_ncpus(h_dp); cpu++)
		xlb_dp_ct_del(h_dp, cpu, key);
}

/* An established flow's entry, seen now. */
static void ct_set(struct xlb_ct_entry *e, uint32_t id, uint32_t gen)
{
	e->v = xlb_ct_pack(id, gen, XLB_CT_S_EST, xlb_ct_tick(h_now_ns()));
}

/* Every CPU's table holds the flow with this entry. */
static void ct_assert_all(const struct xlb_flow_key *key, uint32_t id,
			  uint32_t gen)
{
	struct xlb_ct_entry e;
	int cpu;

	for (cpu = 0; cpu < xlb_dp_ncpus(h_dp); cpu++) {
		cr_assert_eq(xlb_dp_ct_get(h_dp, cpu, key, &e), 0,
			     "CPU %d lacks the flow", cpu);
		cr_assert_eq(xlb_ct_real_id(e.v), id, "CPU %d", cpu);
		cr_assert(xlb_ct_gen_is(e.v, gen), "CPU %d", cpu);
	}
}

/* A peer's flow to the real the ring does not pick steers every packet. */
static void ct_install_steers(const char *svc, uint8_t proto, uint8_t flags)
{
	struct xlb_flow_key key;
	struct xlb_ct_entry e;
	enum xlb_dp_install res;
	const char *other;
	char ring[64], buf[64];
	int cpu;

	tunnel_vips();
	sync_on();
	/* Where the ring sends the flow, then forget it. */
	tun_send(proto, 41000, PKT_SYN, 0, ring, sizeof(ring));
	h_nat_key(svc, CLIENT4, 41000, &key);
	ct_forget(&key);
	cr_assert_eq(drain(), 1);
	other = strcmp(ring, REAL4) ? REAL4 : REAL4B;
	ct_set(&e, h_real_id(svc, other), real_gen(h_real_id(svc, other)));
	cr_assert_eq(xlb_dp_ct_install(h_dp, &key, &e, &res), 0);
	cr_assert_eq(res, XLB_DP_INSTALLED);
	ct_assert_all(&key, xlb_ct_real_id(e.v), real_gen(xlb_ct_real_id(e.v)));
	for (cpu = 0; cpu < xlb_dp_ncpus(h_dp); cpu++)
		cr_assert_str_eq(
			tun_send(proto, 41000, flags, cpu, buf, sizeof(buf)),
			other, "CPU %d", cpu);
	cr_assert_eq(drain(), 0, "an installed flow is not new");
}

Test(sync, ct_install_steers_tcp_midflow)
{
	ct_install_steers(TUN_SVC, IPPROTO_TCP, PKT_ACK);
}

Test(sync, ct_install_steers_udp)
{
	ct_install_steers(TUN_UDP, IPPROTO_UDP, 0);
}

Test(sync, ct_install_updated_kept_and_dead)
{
	struct xlb_flow_key key;
	struct xlb_ct_entry e, o;
	enum xlb_dp_install res;
	char ring[64];
	const char *other;

	tunnel_vips();
	/* Our flow, on CPU 0 only. */
	tun_send(IPPROTO_TCP, 42000, PKT_SYN, 0, ring, sizeof(ring));
	h_nat_key(TUN_SVC, CLIENT4, 42000, &key);
	ct_set(&e, h_real_id(TUN_SVC, ring),
	       real_gen(h_real_id(TUN_SVC, ring)));
	/* The same flow from a peer: updated, and now on every CPU. */
	cr_assert_eq(xlb_dp_ct_install(h_dp, &key, &e, &res), 0);
	cr_assert_eq(res, XLB_DP_UPDATED);
	ct_assert_all(&key, xlb_ct_real_id(e.v), real_gen(xlb_ct_real_id(e.v)));
	/* Another real for it while ours lives: kept, nothing written. */
	other = strcmp(ring, REAL4) ? REAL4 : REAL4B;
	ct_set(&o, h_real_id(TUN_SVC, other),
	       real_gen(h_real_id(TUN_SVC, other)));
	cr_assert_eq(xlb_dp_ct_install(h_dp, &key, &o, &res), 0);
	cr_assert_eq(res, XLB_DP_KEPT);
	ct_assert_all(&key, xlb_ct_real_id(e.v), real_gen(xlb_ct_real_id(e.v)));
	/* A live entry on one CPU only is enough to keep it. */
	if (xlb_dp_ncpus(h_dp) > 1) {
		cr_assert_eq(xlb_dp_ct_del(h_dp, 0, &key), 0);
		cr_assert_eq(xlb_dp_ct_install(h_dp, &key, &o, &res), 0);
		cr_assert_eq(res, XLB_DP_KEPT);
	}
	/* Our real fails: the entry is dead, the peer's is installed. */
	h_health(TUN_SVC, ring, false);
	cr_assert_eq(xlb_dp_ct_install(h_dp, &key, &o, &res), 0);
	cr_assert_eq(res, XLB_DP_INSTALLED);
	ct_assert_all(&key, xlb_ct_real_id(o.v), real_gen(xlb_ct_real_id(o.v)));
}

/* A peer's FULLNAT session of CLIENT4:cport, on PEER4:PEER_PORT. */
static void peer_session(uint16_t cport, uint8_t state, uint64_t last_seen,
			 struct xlb_flow_key *key, struct xlb_nat_fwd *f,
			 struct xlb_nat_key *rk, struct xlb_nat_rev *rv)
{
	h_nat_key(TCP4_SVC, CLIENT4, cport, key);
	memset(f, 0, sizeof(*f));
	f->laddr = addr4(PEER4);
	f->lport = htons(PEER_PORT + cport % 1000);
	f->state = state;
	f->real_id = h_real_id(TCP4_SVC, REAL4);
	f->real_gen = real_gen(f->real_id);
	f->cpu = UINT32_MAX;
	f->last_seen = last_seen;
	h_nat_rev_key(IPPROTO_TCP, REAL4, 80, PEER4, ntohs(f->lport), rk);
	memset(rv, 0, sizeof(*rv));
	rv->flow = *key;
	rv->vaddr = addr4(VIP4);
}

static void peer_local(void)
{
	struct xlb_vip_addr_key k = {.addr = addr4(PEER4),
				     .family = XLB_AF_INET};

	cr_assert_eq(xlb_dp_local_addr_set(h_dp, &k, true), 0);
}

static enum xlb_dp_install nat_install(const struct xlb_flow_key *key,
				       const struct xlb_nat_fwd *f,
				       const struct xlb_nat_key *rk,
				       const struct xlb_nat_rev *rv)
{
	enum xlb_dp_install res;
	struct xlb_globals g;

	h_globals(&g);
	cr_assert_eq(
		xlb_dp_nat_install(h_dp, &g, h_now_ns(), key, f, rk, rv, &res),
		0);
	return res;
}

Test(sync, nat_install_peer_session_both_ways)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f, got;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv, rgot;
	struct pkt_info info;
	struct pkt_spec s;
	uint16_t lport;
	int cpu;

	fullnat_vip();
	peer_local();
	sync_on();
	peer_session(40000, XLB_NAT_S_REPLIED, h_now_ns(), &key, &f, &rk, &rv);
	lport = ntohs(f.lport);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_arr_eq(&got, &f, sizeof(f));
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &rk, &rgot), 0);
	cr_assert_arr_eq(&rgot, &rv, sizeof(rv));
	for (cpu = 0; cpu < xlb_dp_ncpus(h_dp); cpu++) {
		/* Client -> VIP leaves as the peer's tuple. */
		s = nat_req(40000, PKT_ACK);
		run_parse(&s, H_IF_CLIENT, cpu, &info);
		cr_assert_str_eq(info.ip[0].src, PEER4);
		cr_assert_str_eq(info.ip[0].dst, REAL4);
		cr_assert_eq(info.sport, lport);
		cr_assert_eq(info.dport, 80);
		/* The real's reply to it goes back to the client. */
		s = nat_reply(PEER4, lport, 40000, PKT_ACK);
		run_parse(&s, H_IF_REALS, cpu, &info);
		cr_assert_str_eq(info.ip[0].src, VIP4);
		cr_assert_str_eq(info.ip[0].dst, CLIENT4);
		cr_assert_eq(info.sport, 80);
		cr_assert_eq(info.dport, 40000);
	}
	cr_assert_eq(h_nat_count(), 1, "a session of our own was made");
	cr_assert_eq(h_nat_rev_count(), 1);
	cr_assert_eq(drain(), 0, "an installed session is not new");
}

/*
 * In a cluster, a FULLNAT TCP packet other than a SYN with no session is
 * dropped and counted (its session may still be on its way from the node
 * that made it); once the session is installed, the same packet goes
 * out with the peer's tuple. Without sync, such a packet starts a
 * session as before, and a SYN always does.
 */
Test(sync, nat_midflow_without_session_waits_for_sync)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv;
	struct pkt_info info;
	struct h_result res;
	struct pkt_spec s;
	struct pkt in;

	fullnat_vip();
	peer_local();
	/* Sync off (a single node) as on: an ACK starts no session. */
	s = nat_req(40001, PKT_ACK);
	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run_if(&in, &res, 0, H_IF_CLIENT);
	cr_assert_eq(res.reason, XLB_R_DROP_NAT_NOT_SYN, "reason %s",
		     xlb_reason_names[res.reason]);
	cr_assert_eq(h_nat_count(), 0);
	sync_on();
	s = nat_req(40000, PKT_ACK);
	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run_if(&in, &res, 0, H_IF_CLIENT);
	cr_assert_eq(res.retval, XDP_DROP);
	cr_assert_eq(res.reason, XLB_R_DROP_NAT_NOT_SYN, "reason %s",
		     xlb_reason_names[res.reason]);
	cr_assert_eq(h_nat_count(), 0, "no session made");
	s = nat_req(40000, PKT_ACK | PKT_PSH);
	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run_if(&in, &res, 1, H_IF_CLIENT);
	cr_assert_eq(res.reason, XLB_R_DROP_NAT_NOT_SYN);
	/* The peer's session arrives: the retransmission goes through. */
	peer_session(40000, XLB_NAT_S_REPLIED, h_now_ns(), &key, &f, &rk, &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	s = nat_req(40000, PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_str_eq(info.ip[0].src, PEER4);
	cr_assert_eq(info.sport, ntohs(f.lport));
	/* A SYN still starts a session. */
	s = nat_req(40002, PKT_SYN);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_str_eq(info.ip[0].src, LOCAL4);
	cr_assert_eq(h_nat_count(), 2);
}

Test(sync, nat_install_peer_session_first_reply_event)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f, got;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv;
	struct pkt_info info;
	struct pkt_spec s;

	fullnat_vip();
	peer_local();
	sync_on();
	/* Installed before its real answered: the reply here is the first. */
	peer_session(40000, 0, h_now_ns(), &key, &f, &rk, &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	s = nat_reply(PEER4, ntohs(f.lport), 40000, PKT_SYN | PKT_ACK);
	run_parse(&s, H_IF_REALS, 0, &info);
	cr_assert_eq(drain(), 1);
	cr_assert_eq(evs[0].state, XLB_NAT_S_REPLIED);
	cr_assert_eq(evs[0].lport, f.lport);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_eq(got.cpu, UINT32_MAX);
	cr_assert_eq(got.state, XLB_NAT_S_REPLIED);
}

Test(sync, nat_install_refresh_keeps_state)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f, got;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv;
	uint64_t t = h_now_ns();

	fullnat_vip();
	peer_local();
	peer_session(40000, XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT, t, &key,
		     &f, &rk, &rv);
	f.cpu = 7; /* whatever the peer says, no CPU of ours owns it */
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_eq(got.cpu, UINT32_MAX);
	/* An older copy with another bit: bits add up, the clock stays. */
	f.state = XLB_NAT_S_FIN_REAL;
	f.last_seen = t - 5 * NS_PER_SEC;
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_UPDATED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_eq(got.state, XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT |
					XLB_NAT_S_FIN_REAL);
	cr_assert_eq(got.last_seen, t);
	/* A newer one moves the clock. */
	f.state = 0;
	f.last_seen = t + 3 * NS_PER_SEC;
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_UPDATED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_eq(got.last_seen, t + 3 * NS_PER_SEC);
	cr_assert_eq(got.state, XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT |
					XLB_NAT_S_FIN_REAL);
	cr_assert_eq(h_nat_count(), 1);
	cr_assert_eq(h_nat_rev_count(), 1);
}

Test(sync, nat_install_kept_then_dead_replaced)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f, ours, got;
	struct xlb_nat_key rk, our_rk;
	struct xlb_nat_rev rv, rgot;
	struct xlb_globals g;
	struct pkt_info info;
	struct pkt_spec s;

	fullnat_vip();
	peer_local();
	/* Our own session of the flow. */
	s = nat_req(40000, PKT_SYN);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	h_nat_rev_key(IPPROTO_TCP, REAL4, 80, LOCAL4, info.sport, &our_rk);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &ours), 0);
	peer_session(40000, XLB_NAT_S_REPLIED, h_now_ns(), &key, &f, &rk, &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_KEPT);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_arr_eq(&got, &ours, sizeof(ours));
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &rk, &rgot), -ENOENT);
	/* Ours idles past its timeout (no reply yet: the SYN one). */
	h_globals(&g);
	ours.last_seen = h_now_ns() - (g.nat_tcp_syn_s + 5) * NS_PER_SEC;
	h_nat_put(TCP4_SVC, CLIENT4, 40000, &ours);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_arr_eq(&got, &f, sizeof(f));
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &our_rk, &rgot), -ENOENT,
		     "the replaced session's tuple was not freed");
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &rk, &rgot), 0);
	cr_assert_eq(h_nat_count(), 1);
	cr_assert_eq(h_nat_rev_count(), 1);
	/* The client's next packet takes the peer's tuple. */
	s = nat_req(40000, PKT_ACK);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_str_eq(info.ip[0].src, PEER4);
	cr_assert_eq(info.sport, ntohs(f.lport));
}

Test(sync, nat_install_dead_real_replaced)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f, got;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv;
	struct pkt_info info;
	struct pkt_spec s;

	fullnat_vip();
	peer_local();
	h_real(TCP4_SVC, REAL4B, 100);
	/* Pick a client port whose session goes to REAL4B. */
	s = nat_req(40000, PKT_SYN);
	for (;;) {
		run_parse(&s, H_IF_CLIENT, 0, &info);
		if (!strcmp(info.ip[0].dst, REAL4B))
			break;
		cr_assert_lt(++s.sport, 40100);
	}
	h_health(TCP4_SVC, REAL4B, false);
	peer_session(s.sport, XLB_NAT_S_REPLIED, h_now_ns(), &key, &f, &rk,
		     &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, s.sport, &got), 0);
	cr_assert_arr_eq(&got, &f, sizeof(f));
}

/*
 * A tuple held by a live session of another flow is kept, whoever
 * claims it: a peer's record naming it for another client (a stale copy
 * relayed in a bulk, or its owner's reuse while the flow still runs
 * here) is a conflict. Once the holder is dead, the record takes it.
 */
Test(sync, nat_install_live_tuple_kept)
{
	struct xlb_flow_key key, bkey;
	struct xlb_nat_fwd f, b, got, ours;
	struct xlb_nat_key rk, brk, our_rk;
	struct xlb_nat_rev rv, brv, rgot;
	struct pkt_info info;
	struct xlb_globals g;
	struct pkt_spec s;

	fullnat_vip();
	peer_local();
	h_globals(&g);
	peer_session(40000, XLB_NAT_S_REPLIED, h_now_ns(), &key, &f, &rk, &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	/* Client port 41000: the same tuple (PEER4, PEER_PORT). */
	peer_session(41000, XLB_NAT_S_REPLIED, h_now_ns(), &bkey, &b, &brk,
		     &brv);
	cr_assert_arr_eq(&brk, &rk, sizeof(rk));
	cr_assert_eq(nat_install(&bkey, &b, &brk, &brv), XLB_DP_KEPT);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), 0);
	cr_assert_arr_eq(&got, &f, sizeof(f));
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 41000, &got), -ENOENT);
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &rk, &rgot), 0);
	cr_assert_arr_eq(&rgot.flow, &key, sizeof(key));
	/* The holder idles past its timeout: the tuple goes to the record. */
	f.last_seen = h_now_ns() - (g.nat_tcp_s + 5) * NS_PER_SEC;
	h_nat_put(TCP4_SVC, CLIENT4, 40000, &f);
	cr_assert_eq(nat_install(&bkey, &b, &brk, &brv), XLB_DP_INSTALLED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &got), -ENOENT);
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &rk, &rgot), 0);
	cr_assert_arr_eq(&rgot.flow, &bkey, sizeof(bkey));
	/* A closing holder, live, gives way too: its owner may reuse. */
	peer_session(40000, XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT,
		     h_now_ns(), &key, &f, &rk, &rv);
	b.state |= XLB_NAT_S_FIN_CLIENT | XLB_NAT_S_FIN_REAL;
	h_nat_put(TCP4_SVC, CLIENT4, 41000, &b);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 41000, &got), -ENOENT);
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &rk, &rgot), 0);
	cr_assert_arr_eq(&rgot.flow, &key, sizeof(key));
	/* Our own live session's tuple, claimed for another client. */
	s = nat_req(42000, PKT_SYN);
	run_parse(&s, H_IF_CLIENT, 0, &info);
	cr_assert_str_eq(info.ip[0].src, LOCAL4);
	h_nat_rev_key(IPPROTO_TCP, REAL4, 80, LOCAL4, info.sport, &our_rk);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 42000, &ours), 0);
	peer_session(43000, XLB_NAT_S_REPLIED, h_now_ns(), &bkey, &b, &brk,
		     &brv);
	b.laddr = ours.laddr;
	b.lport = ours.lport;
	brk = our_rk;
	cr_assert_eq(nat_install(&bkey, &b, &brk, &brv), XLB_DP_KEPT);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 42000, &got), 0);
	cr_assert_arr_eq(&got, &ours, sizeof(ours));
	cr_assert_eq(xlb_dp_nat_rev_get(h_dp, &our_rk, &rgot), 0);
	cr_assert_eq(ntohs(rgot.flow.sport), 42000);
}

Test(sync, gc_expires_installed_sessions)
{
	struct xlb_flow_key key;
	struct xlb_nat_fwd f;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv;
	struct xlb_nat_gc_stats st;
	struct xlb_globals g;
	uint64_t now = h_now_ns();

	fullnat_vip();
	peer_local();
	h_globals(&g);
	peer_session(40000, XLB_NAT_S_REPLIED, now, &key, &f, &rk, &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	peer_session(40001, 0, now, &key, &f, &rk, &rv);
	cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	cr_assert_eq(xlb_dp_nat_gc(h_dp, &g, now, &st), 0);
	cr_assert_eq(st.expired, 0);
	cr_assert_eq(st.live, 2);
	/* Past the SYN timeout: the unanswered one goes. */
	cr_assert_eq(xlb_dp_nat_gc(h_dp, &g,
				   now + (g.nat_tcp_syn_s + 1) * NS_PER_SEC,
				   &st),
		     0);
	cr_assert_eq(st.expired, 1);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40001, &f), -ENOENT);
	cr_assert_eq(h_nat_count(), 1);
	cr_assert_eq(h_nat_rev_count(), 1);
	cr_assert_eq(xlb_dp_nat_gc(h_dp, &g,
				   now + (g.nat_tcp_s + 1) * NS_PER_SEC, &st),
		     0);
	cr_assert_eq(st.expired, 1);
	cr_assert_eq(h_nat_count(), 0);
	cr_assert_eq(h_nat_rev_count(), 0);
}

/* ---- Walking the session tables ---------------------------------------- */

#define WALK_CT	 300
#define WALK_NAT 200

struct walk {
	const struct xlb_dp_cursor *cur;
	int ct[XLB_MAX_CPUS][WALK_CT];
	int nat[WALK_NAT];
	int calls;
};

static void walk_fn(const struct xlb_flow_key *key,
		    const struct xlb_ct_entry *ct,
		    const struct xlb_nat_fwd *nat, void *arg)
{
	struct walk *w = arg;
	int port = ntohs(key->sport);

	cr_assert((ct != NULL) != (nat != NULL), "ct xor nat");
	w->calls++;
	if (ct) {
		cr_assert_eq(w->cur->table, 0);
		cr_assert(port >= 30000 && port < 30000 + WALK_CT);
		cr_assert_eq(xlb_ct_real_id(ct->v), 1000 + port);
		w->ct[w->cur->cpu][port - 30000]++;
	} else {
		cr_assert_eq(w->cur->table, 1);
		cr_assert(port >= 50000 && port < 50000 + WALK_NAT);
		cr_assert_eq(nat->lport, htons(port));
		w->nat[port - 50000]++;
	}
}

/* WALK_CT flows in every CPU's table, WALK_NAT sessions. */
static void walk_fill(void)
{
	struct xlb_flow_key key;
	struct xlb_ct_entry e;
	struct xlb_nat_fwd f;
	struct xlb_nat_key rk;
	struct xlb_nat_rev rv;
	enum xlb_dp_install res;
	int i;

	tunnel_vips();
	fullnat_vip();
	for (i = 0; i < WALK_CT; i++) {
		h_nat_key(TUN_SVC, CLIENT4, 30000 + i, &key);
		ct_set(&e, 1000 + 30000 + i, 1);
		cr_assert_eq(xlb_dp_ct_install(h_dp, &key, &e, &res), 0);
		cr_assert_eq(res, XLB_DP_INSTALLED);
	}
	for (i = 0; i < WALK_NAT; i++) {
		peer_session(50000 + i, 0, h_now_ns(), &key, &f, &rk, &rv);
		f.lport = htons(50000 + i);
		rk.lport = f.lport;
		cr_assert_eq(nat_install(&key, &f, &rk, &rv), XLB_DP_INSTALLED);
	}
}

/* Walk to the end in steps of step; every entry exactly once. */
static void walk_all(size_t step)
{
	struct xlb_dp_cursor cur = {};
	struct walk *w = calloc(1, sizeof(*w));
	int ncpus = xlb_dp_ncpus(h_dp), cpu, i, calls = 0, before;
	bool done = false;

	cr_assert_not_null(w);
	w->cur = &cur;
	walk_fill();
	while (!done) {
		before = w->calls;
		cr_assert_eq(xlb_dp_sessions_walk(h_dp, &cur, step, walk_fn, w,
						  &done),
			     0);
		cr_assert_leq(w->calls - before, (int)step);
		cr_assert_lt(++calls, 100000, "the walk does not end");
	}
	cr_assert_eq(w->calls, ncpus * WALK_CT + WALK_NAT);
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < WALK_CT; i++)
			cr_assert_eq(w->ct[cpu][i], 1, "CPU %d flow %d", cpu,
				     i);
	for (i = 0; i < WALK_NAT; i++)
		cr_assert_eq(w->nat[i], 1, "session %d", i);
	/* A finished walk stays finished. */
	cr_assert_eq(xlb_dp_sessions_walk(h_dp, &cur, step, walk_fn, w, &done),
		     0);
	cr_assert(done);
	cr_assert_eq(w->calls, ncpus * WALK_CT + WALK_NAT);
	free(w);
}

Test(sync, walk_steps_of_one)
{
	walk_all(1);
}

Test(sync, walk_steps_of_1000)
{
	walk_all(1000);
}

Test(sync, walk_restarts_when_the_cursor_key_goes)
{
	struct xlb_dp_cursor cur = {};
	struct walk *w = calloc(1, sizeof(*w));
	int ncpus = xlb_dp_ncpus(h_dp), cpu, i, calls = 0;
	int gone_ct, gone_nat = -1;
	bool done = false;

	cr_assert_not_null(w);
	w->cur = &cur;
	walk_fill();
	/* Into CPU 0's table, then its cursor key goes. */
	cr_assert_eq(xlb_dp_sessions_walk(h_dp, &cur, 7, walk_fn, w, &done), 0);
	cr_assert_eq(w->calls, 7);
	cr_assert(cur.has_key && cur.table == 0 && cur.cpu == 0);
	gone_ct = ntohs(cur.key.sport) - 30000;
	cr_assert_eq(xlb_dp_ct_del(h_dp, 0, &cur.key), 0);
	while (!done) {
		cr_assert_eq(
			xlb_dp_sessions_walk(h_dp, &cur, 7, walk_fn, w, &done),
			0);
		/* Once into nat_fwd, its cursor key goes too. */
		if (gone_nat < 0 && cur.table == 1 && cur.has_key) {
			gone_nat = ntohs(cur.key.sport) - 50000;
			cr_assert_eq(bpf_map_delete_elem(
					     xlb_dp_map_fd(h_dp, "nat_fwd"),
					     &cur.key),
				     0);
		}
		cr_assert_lt(++calls, 100000, "the walk does not end");
	}
	cr_assert_geq(gone_nat, 0);
	/* Everything that stayed was handed out; repeats are allowed. */
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < WALK_CT; i++)
			cr_assert_geq(w->ct[cpu][i], 1, "CPU %d flow %d", cpu,
				      i);
	for (i = 0; i < WALK_NAT; i++)
		cr_assert_geq(w->nat[i], 1, "session %d", i);
	/* The deleted ones were handed out before they went, once. */
	cr_assert_eq(w->ct[0][gone_ct], 1);
	cr_assert_eq(w->nat[gone_nat], 1);
	free(w);
}

/* ---- Pinned maps --------------------------------------------------------- */

static void open_pinned(const char *path, struct xlb_dp **dp)
{
	struct xlb_dp_opts opts = {
		.max_vips = 16,
		.max_reals = 64,
		.ct_size = 1024,
		.nat_sessions = 1024,
		.pin_path = path,
	};
	char err[XLB_ERR_LEN];

	cr_assert_eq(xlb_dp_open(&opts, dp, err, sizeof(err)), 0,
		     "xlb_dp_open: %s", err);
}

Test(sync, maps_pinned_and_adopted)
{
	struct xlb_dp *a, *b;
	char path[64], pin[128];
	uint64_t ev, lost;
	uint32_t zero = 0;
	uint64_t one[XLB_MAX_CPUS] = {1};
	int fd;

	cr_assert_eq(private_bpffs(), 0, "bpffs: %s", strerror(errno));
	snprintf(path, sizeof(path), "/sys/fs/bpf/xlb-test-sync-%d", getpid());
	open_pinned(path, &a);
	cr_assert(!xlb_dp_adopted(a));
	snprintf(pin, sizeof(pin), "%s/sync_events", path);
	cr_assert_eq(access(pin, F_OK), 0, "sync_events not pinned");
	snprintf(pin, sizeof(pin), "%s/sync_stats", path);
	cr_assert_eq(access(pin, F_OK), 0, "sync_stats not pinned");
	fd = xlb_dp_map_fd(a, "sync_stats");
	cr_assert_geq(fd, 0);
	cr_assert_eq(bpf_map_update_elem(fd, &zero, one, BPF_ANY), 0);
	/* A restart: the next agent adopts both maps. */
	xlb_dp_close(a, false);
	open_pinned(path, &b);
	cr_assert(xlb_dp_adopted(b));
	cr_assert_eq(xlb_dp_sync_stats(b, &ev, &lost), 0);
	cr_assert_eq(ev, 1, "sync_stats was not adopted");
	cr_assert_eq(xlb_dp_sync_open(b, collect, NULL), 0);
	cr_assert_geq(xlb_dp_sync_fd(b), 0);
	xlb_dp_close(b, true);
	cr_assert_neq(access(path, F_OK), 0, "pins left behind");
}

/* A flow of family (AF_INET, AF_INET6) by number, for raw table entries. */
static void raw_flow(int family, int n, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	if (family == AF_INET)
		k->saddr.addr[0] = htonl(0xc0000200 + n); /* 192.0.2.n */
	else
		inet_pton(AF_INET6, "2001:db8::1", &k->saddr);
	k->vip_id = 1;
	k->sport = htons(40000 + n);
	k->dport = htons(80);
	k->proto = IPPROTO_TCP;
}

/*
 * A restart adopts both families' conntrack tables with their flows; and
 * maps pinned before the IPv4 tables existed (no ct4_maps pin, IPv4
 * flows in ct_maps' tables under the long key) have their IPv4 flows
 * moved into the new IPv4 tables.
 */
Test(sync, conntrack_tables_of_both_families_adopted)
{
	struct xlb_flow_key k4, k6, old;
	struct xlb_ct_entry e4 = {.v = 0x1111}, e6 = {.v = 0x2222};
	struct xlb_ct_entry eo = {.v = 0x3333}, got;
	struct xlb_dp *a, *b, *c;
	char path[64], pin[128];
	int fd;

	cr_assert_eq(private_bpffs(), 0, "bpffs: %s", strerror(errno));
	snprintf(path, sizeof(path), "/sys/fs/bpf/xlb-test-ct-%d", getpid());
	raw_flow(AF_INET, 1, &k4);
	raw_flow(AF_INET6, 2, &k6);
	raw_flow(AF_INET, 3, &old);
	open_pinned(path, &a);
	snprintf(pin, sizeof(pin), "%s/ct4_maps", path);
	cr_assert_eq(access(pin, F_OK), 0, "ct4_maps not pinned");
	cr_assert_eq(xlb_dp_ct_put(a, 0, &k4, &e4), 0);
	cr_assert_eq(xlb_dp_ct_put(a, 0, &k6, &e6), 0);
	xlb_dp_close(a, false);
	open_pinned(path, &b);
	cr_assert(xlb_dp_adopted(b));
	cr_assert_eq(xlb_dp_ct_get(b, 0, &k4, &got), 0, "IPv4 flow lost");
	cr_assert_eq(got.v, e4.v);
	cr_assert_eq(xlb_dp_ct_get(b, 0, &k6, &got), 0, "IPv6 flow lost");
	cr_assert_eq(got.v, e6.v);
	/* What an agent from before the IPv4 tables left pinned. */
	fd = xlb_dp_ct_fd(b, AF_INET6, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bpf_map_update_elem(fd, &old, &eo, BPF_ANY), 0);
	close(fd);
	cr_assert_eq(unlink(pin), 0);
	xlb_dp_close(b, false);
	open_pinned(path, &c);
	cr_assert(xlb_dp_adopted(c));
	cr_assert_eq(access(pin, F_OK), 0, "ct4_maps not pinned again");
	cr_assert_eq(xlb_dp_ct_get(c, 0, &old, &got), 0,
		     "the old IPv4 flow was not moved");
	cr_assert_eq(got.v, eo.v);
	fd = xlb_dp_ct_fd(c, AF_INET6, 0);
	cr_assert_geq(fd, 0);
	cr_assert_neq(bpf_map_lookup_elem(fd, &old, &got), 0,
		      "the old IPv4 flow left in the IPv6 table");
	cr_assert_eq(bpf_map_lookup_elem(fd, &k6, &got), 0);
	close(fd);
	xlb_dp_close(c, true);
	cr_assert_neq(access(path, F_OK), 0, "pins left behind");
}
