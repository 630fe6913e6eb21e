// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tunnel conntrack through the real program: the TCP state seen from the
 * client, idle timeouts by state (an expired entry is a miss), a new
 * connection (SYN) on a closing entry or on a real that takes no new
 * flows is scheduled afresh, "new flows" counts connection starts, the
 * agent's ActiveConn / InActConn census, and each family's flows in that
 * family's tables.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "harness.h"
#include "xlb_conn.h"

#define VIP	"10.100.0.1:80/tcp"
#define UDP_VIP "10.100.0.1:53/udp"
#define N_FLOWS 300

static const char *const reals[] = {"10.1.0.2", "10.1.0.3", "10.1.0.4"};
#define N_REALS (int)(sizeof(reals) / sizeof(reals[0]))

TestSuite(conntrack, .init = h_setup, .fini = h_teardown);

/* One packet of (client, sport) to the VIP on cpu: its real's index, or
 * -reason. */
static int send_pkt(const char *client, uint8_t proto, uint16_t sport,
		    uint8_t flags, int cpu)
{
	struct pkt_spec spec = {
		.family = AF_INET,
		.saddr = client,
		.daddr = "10.100.0.1",
		.proto = proto,
		.sport = sport,
		.dport = proto == IPPROTO_TCP ? 80 : 53,
		.tcp_flags = flags,
	};
	struct h_result res;
	char buf[XLB_IP_STRLEN];
	struct pkt in;
	int i;

	cr_assert_eq(pkt_build(&in, &spec), 0);
	h_run_on_cpu(&in, &res, cpu);
	if (res.retval != XDP_REDIRECT)
		return -(int)res.reason;
	h_out_real(&res, buf, sizeof(buf));
	for (i = 0; i < N_REALS; i++)
		if (!strcmp(buf, reals[i]))
			return i;
	cr_assert_fail("flow went to unknown real %s", buf);
	return -1;
}

static int send_flow(const char *client, uint16_t sport, uint8_t flags, int cpu)
{
	return send_pkt(client, IPPROTO_TCP, sport, flags, cpu);
}

static const char *client_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "192.0.2.%d", 1 + i % 200);
	return buf;
}

static void vip_with(const char *svc, int n)
{
	int i;

	h_vip(svc, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < n; i++)
		h_real(svc, reals[i], 100);
}

/* The flow's entry in CPU cpu's table; false if it has none. */
static bool ct_get(const char *svc, const char *client, uint16_t sport, int cpu,
		   struct xlb_ct_entry *e)
{
	struct xlb_flow_key key;
	int ret;

	h_nat_key(svc, client, sport, &key);
	ret = xlb_dp_ct_get(h_dp, cpu, &key, e);
	cr_assert(ret == 0 || ret == -ENOENT, "%s", strerror(-ret));
	return ret == 0;
}

static void ct_put(const char *svc, const char *client, uint16_t sport, int cpu,
		   const struct xlb_ct_entry *e)
{
	struct xlb_flow_key key;

	h_nat_key(svc, client, sport, &key);
	cr_assert_eq(xlb_dp_ct_put(h_dp, cpu, &key, e), 0);
}

static uint64_t new_flows(const char *svc)
{
	struct xlb_counters v;

	h_vip_counters(svc, &v);
	return v.new_flows;
}

/* The client's segments, in order, and the state each leaves. */
static const struct {
	const char *what;
	uint8_t flags[4];
	enum xlb_ct_state state[4];
	int n;
} state_cases[] = {
	{"syn", {PKT_SYN}, {XLB_CT_S_NEW}, 1},
	{"syn, retransmission",
	 {PKT_SYN, PKT_SYN},
	 {XLB_CT_S_NEW, XLB_CT_S_NEW},
	 2},
	{"handshake", {PKT_SYN, PKT_ACK}, {XLB_CT_S_NEW, XLB_CT_S_EST}, 2},
	{"close",
	 {PKT_SYN, PKT_ACK, PKT_FIN | PKT_ACK, PKT_ACK},
	 {XLB_CT_S_NEW, XLB_CT_S_EST, XLB_CT_S_FIN, XLB_CT_S_FIN},
	 4},
	{"reset", {PKT_SYN, PKT_RST}, {XLB_CT_S_NEW, XLB_CT_S_RST}, 2},
	{"reset after fin",
	 {PKT_SYN, PKT_ACK, PKT_FIN | PKT_ACK, PKT_RST | PKT_ACK},
	 {XLB_CT_S_NEW, XLB_CT_S_EST, XLB_CT_S_FIN, XLB_CT_S_RST},
	 4},
	{"mid-flow first (no SYN seen)", {PKT_ACK}, {XLB_CT_S_EST}, 1},
};

Test(conntrack, tcp_state_from_the_client_side)
{
	struct xlb_ct_entry e;
	size_t c;
	int i, r;

	vip_with(VIP, 2);
	for (c = 0; c < sizeof(state_cases) / sizeof(state_cases[0]); c++) {
		for (i = 0; i < state_cases[c].n; i++) {
			r = send_flow("192.0.2.1", 30000 + c,
				      state_cases[c].flags[i], 0);
			cr_assert_geq(r, 0, "%s: packet %d",
				      state_cases[c].what, i);
			cr_assert(ct_get(VIP, "192.0.2.1", 30000 + c, 0, &e));
			cr_assert_eq(xlb_ct_state(e.v), state_cases[c].state[i],
				     "%s: packet %d: state %u",
				     state_cases[c].what, i, xlb_ct_state(e.v));
			cr_assert_eq(xlb_ct_real_id(e.v),
				     h_real_id(VIP, reals[r]));
		}
	}
}

/* Give (client, sport) on CPU 0 an entry naming reals[r], seen `age`
 * seconds ago in `state`. */
static void put_entry(const char *client, uint16_t sport, int r,
		      enum xlb_ct_state state, uint32_t age)
{
	struct xlb_ct_entry e;
	uint32_t id = h_real_id(VIP, reals[r]);
	uint64_t then = h_now_ns() - (uint64_t)age * 1000000000ull;
	struct xlb_real real;

	cr_assert_eq(xlb_dp_real_get(h_dp, id, &real), 0);
	e.v = xlb_ct_pack(id, real.gen, state, xlb_ct_tick(then));
	ct_put(VIP, client, sport, 0, &e);
}

/* Idle past the timeout of its state: a miss, and the ring decides. */
Test(conntrack, expired_entry_is_a_miss)
{
	static const struct {
		enum xlb_ct_state state;
		uint32_t timeout; /* the defaults, docs/CONFIG.md */
	} cases[] = {
		{XLB_CT_S_NEW, 60},
		{XLB_CT_S_EST, 900},
		{XLB_CT_S_FIN, 120},
		{XLB_CT_S_RST, 10},
	};
	struct xlb_globals g;
	size_t c;
	int ring, other;

	h_globals(&g);
	cr_assert_eq(g.ct_tcp_syn_s, 60);
	cr_assert_eq(g.ct_tcp_s, 900);
	cr_assert_eq(g.ct_tcp_fin_s, 120);
	cr_assert_eq(g.ct_tcp_closing_s, 10);
	cr_assert_eq(g.ct_udp_s, 300);
	vip_with(VIP, 2);
	ring = send_flow("192.0.2.2", 31000, PKT_SYN, 0);
	cr_assert_geq(ring, 0);
	other = 1 - ring;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		/* Still young (2 s to spare for the tick): it holds. */
		put_entry("192.0.2.2", 31000, other, cases[c].state,
			  cases[c].timeout - 3);
		cr_assert_eq(send_flow("192.0.2.2", 31000, PKT_ACK, 0), other,
			     "state %d: a live entry was not used",
			     cases[c].state);
		put_entry("192.0.2.2", 31000, other, cases[c].state,
			  cases[c].timeout + 3);
		cr_assert_eq(send_flow("192.0.2.2", 31000, PKT_ACK, 0), ring,
			     "state %d: an expired entry was used",
			     cases[c].state);
	}
}

/*
 * A client that reuses its port after its connection closed or reset
 * starts a new connection: scheduled by the ring, counted; a SYN that
 * retransmits, or one on an established entry, is not.
 */
Test(conntrack, reuse_after_close_is_a_new_connection)
{
	struct xlb_ct_entry e;
	int r, ring;

	vip_with(VIP, 2);
	ring = send_flow("192.0.2.3", 32000, PKT_SYN, 0);
	cr_assert_geq(ring, 0);
	cr_assert_eq(send_flow("192.0.2.3", 32000, PKT_SYN, 0), ring);
	cr_assert_eq(new_flows(VIP), 1, "a retransmitted SYN counted");
	cr_assert_eq(send_flow("192.0.2.3", 32000, PKT_ACK, 0), ring);
	cr_assert_eq(send_flow("192.0.2.3", 32000, PKT_SYN, 0), ring);
	cr_assert_eq(new_flows(VIP), 1, "a SYN on an established flow counted");
	cr_assert_eq(send_flow("192.0.2.3", 32000, PKT_FIN | PKT_ACK, 0), ring);
	/* The entry now names the other real: only a reschedule brings
	 * the SYN back to the ring's choice. */
	put_entry("192.0.2.3", 32000, 1 - ring, XLB_CT_S_FIN, 0);
	r = send_flow("192.0.2.3", 32000, PKT_SYN, 0);
	cr_assert_eq(r, ring, "a SYN on a closed flow kept the old entry");
	cr_assert_eq(new_flows(VIP), 2);
	cr_assert(ct_get(VIP, "192.0.2.3", 32000, 0, &e));
	cr_assert_eq(xlb_ct_state(e.v), XLB_CT_S_NEW, "not replaced");
	cr_assert_eq(send_flow("192.0.2.3", 32000, PKT_RST, 0), ring);
	cr_assert_eq(send_flow("192.0.2.3", 32000, PKT_SYN, 0), ring);
	cr_assert_eq(new_flows(VIP), 3, "a SYN after a reset is new");
	/* Mid-flow packets that miss make an entry but start nothing. */
	cr_assert_geq(send_flow("192.0.2.3", 32001, PKT_ACK, 0), 0);
	cr_assert_eq(new_flows(VIP), 3);
}

/* UDP: the first datagram of a flow is the connection's start. */
Test(conntrack, udp_first_datagram_counts)
{
	int i;

	vip_with(UDP_VIP, 2);
	for (i = 0; i < 3; i++)
		cr_assert_geq(send_pkt("192.0.2.4", IPPROTO_UDP, 33000, 0, 0),
			      0);
	cr_assert_geq(send_pkt("192.0.2.4", IPPROTO_UDP, 33001, 0, 0), 0);
	cr_assert_eq(new_flows(UDP_VIP), 2);
}

/*
 * After a drain or weight 0, clients reusing their ports (whatever
 * their entries' state) are scheduled afresh: 0 reach the real, which
 * keeps the flows that go on.
 */
static void reuse_leaves(bool drain)
{
	int first[N_FLOWS], on = 0, moved = 0, i, r;
	struct xlb_counters before, after;
	char c[32];

	vip_with(VIP, 3);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
		cr_assert_geq(first[i], 0);
		on += first[i] == 2;
		/* A third established, a third closed, a third SYN only. */
		if (i % 3)
			send_flow(c, 20000 + i, PKT_ACK, 0);
		if (i % 3 == 2)
			send_flow(c, 20000 + i, PKT_FIN | PKT_ACK, 0);
	}
	cr_assert_gt(on, 0);
	if (drain)
		h_drain(VIP, reals[2], true);
	else
		h_weight(VIP, reals[2], 0);
	for (i = 0; i < N_FLOWS; i += 3) {
		r = send_flow(client_of(i + 1, c, sizeof(c)), 20000 + i + 1,
			      PKT_ACK, 0);
		cr_assert_eq(r, first[i + 1], "established flow %d moved", i);
	}
	h_real_counters(VIP, reals[2], &before);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_SYN,
			      0);
		cr_assert_geq(r, 0);
		cr_assert_neq(r, 2, "reused port of flow %d reached the real",
			      i);
		moved += first[i] == 2;
	}
	h_real_counters(VIP, reals[2], &after);
	cr_assert_eq(after.packets, before.packets);
	cr_assert_eq(moved, on);
	/* Closed flows and the drained real's: new connections. */
	cr_assert_geq(new_flows(VIP), (uint64_t)(N_FLOWS + on));
}

Test(conntrack, port_reuse_after_drain_is_scheduled_afresh)
{
	reuse_leaves(true);
}

Test(conntrack, port_reuse_after_weight_zero_is_scheduled_afresh)
{
	reuse_leaves(false);
}

/* The real's view: ActiveConn and InActConn from every CPU's table. */
static json_t *real_view(int r)
{
	json_t *root = xlb_agent_vips_json(h_agent, true), *v, *o = NULL;
	size_t i;

	v = json_object_get(json_array_get(json_object_get(root, "vips"), 0),
			    "reals");
	for (i = 0; i < json_array_size(v); i++)
		if (!strcmp(json_string_value(json_object_get(
				    json_array_get(v, i), "address")),
			    reals[r]))
			o = json_incref(json_array_get(v, i));
	json_decref(root);
	cr_assert_not_null(o);
	return o;
}

Test(conntrack, active_and_inactive_connections)
{
	int est[2] = {0}, other[2] = {0}, i, r;
	json_t *o;
	char c[32];

	vip_with(VIP, 2);
	for (i = 0; i < 120; i++) {
		client_of(i, c, sizeof(c));
		/* Both CPUs: the census sums them. */
		r = send_flow(c, 20000 + i, PKT_SYN, i % 2);
		cr_assert_geq(r, 0);
		if (i % 4 == 0) { /* established */
			send_flow(c, 20000 + i, PKT_ACK, i % 2);
			est[r]++;
		} else if (i % 4 == 1) { /* closed */
			send_flow(c, 20000 + i, PKT_ACK, i % 2);
			send_flow(c, 20000 + i, PKT_FIN | PKT_ACK, i % 2);
			other[r]++;
		} else {
			other[r]++;
		}
	}
	/* A flow that moves CPU counts once. */
	for (i = 0; i < 120; i += 4)
		send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			  1 - i % 2);
	for (r = 0; r < 2; r++) {
		o = real_view(r);
		cr_assert_eq(
			json_integer_value(json_object_get(o, "active_conns")),
			est[r], "real %d", r);
		cr_assert_eq(json_integer_value(
				     json_object_get(o, "inactive_conns")),
			     other[r], "real %d", r);
		json_decref(o);
	}
}

/* lbctl sessions lists tunnel flows: client, VIP, real, state, CPU. */
Test(conntrack, sessions_list_tunnel_flows)
{
	json_t *view, *list, *o;
	struct xlb_service svc;
	char want[64];
	size_t i;
	int r;

	vip_with(VIP, 2);
	r = send_flow("192.0.2.5", 34000, PKT_SYN, 0);
	cr_assert_geq(r, 0);
	send_flow("192.0.2.5", 34000, PKT_ACK, 0);
	cr_assert_geq(send_flow("192.0.2.5", 34001, PKT_SYN, 1), 0);
	cr_assert_geq(send_flow("192.0.2.5", 34002, PKT_SYN, 1), 0);
	cr_assert_eq(xlb_service_parse(VIP, &svc), 0);
	view = xlb_agent_sessions_json(h_agent, &svc, 2);
	cr_assert_not_null(view);
	cr_assert_eq(json_integer_value(json_object_get(view, "total")), 3);
	cr_assert(json_is_true(json_object_get(view, "truncated")));
	list = json_object_get(view, "sessions");
	cr_assert_eq(json_array_size(list), 2, "--limit");
	json_decref(view);
	view = xlb_agent_sessions_json(h_agent, &svc, 0);
	list = json_object_get(view, "sessions");
	cr_assert_eq(json_array_size(list), 3);
	json_array_foreach(list, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "client")),
			   "192.0.2.5:34000"))
			continue;
		cr_assert_str_eq(json_string_value(json_object_get(o, "mode")),
				 "tunnel");
		cr_assert_str_eq(json_string_value(json_object_get(o, "vip")),
				 "10.100.0.1:80");
		snprintf(want, sizeof(want), "%s:80", reals[r]);
		cr_assert_str_eq(json_string_value(json_object_get(o, "real")),
				 want);
		cr_assert_str_eq(json_string_value(json_object_get(o, "state")),
				 "established");
		cr_assert_eq(json_integer_value(json_object_get(o, "cpu")), 0);
		cr_assert_leq(
			json_integer_value(json_object_get(o, "idle_seconds")),
			2);
	}
	json_decref(view);
}

/*
 * One truth per flow across CPUs: CPU 1 holds an entry of an earlier
 * connection on the same 5-tuple naming real A (an ACK there took it
 * before the real set changed: A now at weight 0). A new connection's
 * SYN on CPU 0 goes to B: its next packets on CPU 1 go to B too.
 */
static const struct {
	const char *what;
	enum xlb_ct_state stale; /* CPU 1's entry */
	bool own_entry;		 /* CPU 0 already tracks the flow on B */
} cpu_cases[] = {
	{"established entry on CPU 1", XLB_CT_S_EST, false},
	{"SYN-only entry on CPU 1", XLB_CT_S_NEW, false},
	{"closing entry on CPU 1", XLB_CT_S_FIN, false},
	{"reset entry on CPU 1", XLB_CT_S_RST, false},
	{"the SYN kept by CPU 0's own entry", XLB_CT_S_EST, true},
};

/* An entry for reals[r] in `state`, as of now. */
static struct xlb_ct_entry entry_for(int r, enum xlb_ct_state state)
{
	uint32_t id = h_real_id(VIP, reals[r]);
	struct xlb_ct_entry e;
	struct xlb_real real;

	cr_assert_eq(xlb_dp_real_get(h_dp, id, &real), 0);
	e.v = xlb_ct_pack(id, real.gen, state, xlb_ct_tick(h_now_ns()));
	return e;
}

Test(conntrack, syn_choice_wins_on_every_cpu)
{
	struct xlb_ct_entry e;
	char client[32];
	uint16_t sport;
	int a, b, r;
	size_t c;

	cr_assert_geq(libbpf_num_possible_cpus(), 2);
	vip_with(VIP, 2);
	for (c = 0; c < sizeof(cpu_cases) / sizeof(cpu_cases[0]); c++) {
		snprintf(client, sizeof(client), "192.0.2.%zu", 50 + c);
		sport = (uint16_t)(34000 + c);
		h_weight(VIP, reals[0], 100);
		h_weight(VIP, reals[1], 100);
		a = send_flow(client, sport, PKT_ACK, 1);
		cr_assert_geq(a, 0);
		b = 1 - a;
		e = entry_for(a, cpu_cases[c].stale);
		ct_put(VIP, client, sport, 1, &e);
		h_weight(VIP, reals[a], 0);
		if (cpu_cases[c].own_entry) {
			e = entry_for(b, XLB_CT_S_NEW);
			ct_put(VIP, client, sport, 0, &e);
		}
		r = send_flow(client, sport, PKT_SYN, 0);
		cr_assert_eq(r, b, "%s: the SYN went to %d", cpu_cases[c].what,
			     r);
		cr_assert_not(ct_get(VIP, client, sport, 1, &e),
			      "%s: CPU 1 kept its entry", cpu_cases[c].what);
		r = send_flow(client, sport, PKT_ACK, 1);
		cr_assert_eq(r, b, "%s: the ACK on CPU 1 went to %d",
			     cpu_cases[c].what, r);
		cr_assert_eq(send_flow(client, sport, PKT_ACK, 0), b,
			     "%s: then on CPU 0", cpu_cases[c].what);
	}
}

/* The flows of family_cases: one per family, each VIP with two reals. */
static const struct {
	const char *svc, *vip, *client;
	int family;
	const char *reals[2];
} family_cases[] = {
	{VIP, "10.100.0.1", "192.0.2.7", AF_INET, {"10.1.0.2", "10.1.0.3"}},
	{"[fd00:100::1]:80/tcp",
	 "fd00:100::1",
	 "2001:db8::7",
	 AF_INET6,
	 {"fd01::2", "fd01::3"}},
};
#define N_FAMILY_CASES (int)(sizeof(family_cases) / sizeof(family_cases[0]))
#define FAMILY_SPORT   41234

/* A TCP segment of family case f on cpu: the real it was sent to. */
static const char *family_send(int f, uint8_t flags, int cpu, char *buf,
			       size_t len)
{
	struct pkt_spec spec = {
		.family = family_cases[f].family,
		.saddr = family_cases[f].client,
		.daddr = family_cases[f].vip,
		.proto = IPPROTO_TCP,
		.sport = FAMILY_SPORT,
		.dport = 80,
		.tcp_flags = flags,
	};
	struct h_result res;
	struct pkt in;

	cr_assert_eq(pkt_build(&in, &spec), 0);
	h_run_on_cpu(&in, &res, cpu);
	cr_assert_eq(res.retval, XDP_REDIRECT, "%s: reason %u",
		     family_cases[f].client, res.reason);
	return h_out_real(&res, buf, len);
}

/*
 * Family case f's entry on cpu, read from the table of the given family
 * with that table's own key, built here by hand: the IPv4 table's is
 * struct xlb_flow_key4. True if there is one.
 */
static bool family_raw_get(int f, int table_family, int cpu,
			   struct xlb_ct_entry *e)
{
	union {
		struct xlb_flow_key4 k4;
		struct xlb_flow_key k;
	} key;
	struct xlb_flow_key k;
	int fd, ret;

	h_nat_key(family_cases[f].svc, family_cases[f].client, FAMILY_SPORT,
		  &k);
	memset(&key, 0, sizeof(key));
	if (table_family == AF_INET) {
		key.k4.saddr = k.saddr.addr[0];
		key.k4.vip_id = k.vip_id;
		key.k4.sport = htons(FAMILY_SPORT);
		key.k4.dport = htons(80);
		key.k4.proto = IPPROTO_TCP;
	} else {
		key.k = k;
	}
	fd = xlb_dp_ct_fd(h_dp, table_family, cpu);
	cr_assert_geq(fd, 0);
	ret = bpf_map_lookup_elem(fd, &key, e);
	close(fd);
	return ret == 0;
}

/* Entries in one CPU's table of a family. */
static int table_entries(int family, int cpu)
{
	uint8_t key[sizeof(struct xlb_flow_key)], next[sizeof(key)];
	void *prev = NULL;
	int fd, n = 0;

	fd = xlb_dp_ct_fd(h_dp, family, cpu);
	cr_assert_geq(fd, 0);
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	close(fd);
	return n;
}

struct family_walk {
	int seen[N_FAMILY_CASES];
};

static void family_walk_one(const struct xlb_flow_key *k,
			    const struct xlb_ct_entry *e, void *arg)
{
	struct family_walk *w = arg;
	struct xlb_flow_key want;
	int f;

	(void)e;
	for (f = 0; f < N_FAMILY_CASES; f++) {
		h_nat_key(family_cases[f].svc, family_cases[f].client,
			  FAMILY_SPORT, &want);
		if (!memcmp(k, &want, sizeof(want)))
			w->seen[f]++;
	}
}

/*
 * An IPv4 flow's entry is in the IPv4 tables under the 16-byte key, an
 * IPv6 flow's in the IPv6 tables under the long one, never the other
 * family's; each keeps the real its entry names (the entry decides, not
 * the ring), on its CPU and, found there, on another CPU, where it moves.
 * The agent's walk hands both out as the flows they are.
 */
Test(conntrack, each_family_in_its_own_table)
{
	struct family_walk w = {};
	struct xlb_flow_key k;
	struct xlb_ct_entry e;
	struct xlb_real real;
	char buf[XLB_IP_STRLEN];
	const char *other;
	uint32_t id;
	int f, fam;

	cr_assert_geq(libbpf_num_possible_cpus(), 2);
	for (f = 0; f < N_FAMILY_CASES; f++) {
		h_vip(family_cases[f].svc, XLB_HASH_MAGLEV, 65537);
		h_real(family_cases[f].svc, family_cases[f].reals[0], 100);
		h_real(family_cases[f].svc, family_cases[f].reals[1], 100);
	}
	for (f = 0; f < N_FAMILY_CASES; f++) {
		fam = family_cases[f].family;
		family_send(f, PKT_SYN, 0, buf, sizeof(buf));
		id = h_real_id(family_cases[f].svc, buf);
		cr_assert(family_raw_get(f, fam, 0, &e), "%s: not in its table",
			  family_cases[f].client);
		cr_assert_eq(xlb_ct_real_id(e.v), id);
		/* The entry, not the ring, decides: point it elsewhere. */
		other = strcmp(buf, family_cases[f].reals[0])
				? family_cases[f].reals[0]
				: family_cases[f].reals[1];
		id = h_real_id(family_cases[f].svc, other);
		cr_assert_eq(xlb_dp_real_get(h_dp, id, &real), 0);
		e.v = xlb_ct_pack(id, real.gen, XLB_CT_S_EST,
				  xlb_ct_tick(h_now_ns()));
		h_nat_key(family_cases[f].svc, family_cases[f].client,
			  FAMILY_SPORT, &k);
		cr_assert_eq(xlb_dp_ct_put(h_dp, 0, &k, &e), 0);
		cr_assert_str_eq(family_send(f, PKT_ACK, 0, buf, sizeof(buf)),
				 other, "%s on CPU 0", family_cases[f].client);
		/* Mid-flow on CPU 1: found on CPU 0, kept, moved. */
		cr_assert_str_eq(family_send(f, PKT_ACK, 1, buf, sizeof(buf)),
				 other, "%s on CPU 1", family_cases[f].client);
		cr_assert(family_raw_get(f, fam, 1, &e));
		cr_assert_eq(xlb_ct_real_id(e.v), id);
		cr_assert_not(family_raw_get(f, fam, 0, &e));
	}
	/* One flow per family, each in its own family's tables. */
	cr_assert_eq(table_entries(AF_INET, 0) + table_entries(AF_INET, 1), 1);
	cr_assert_eq(table_entries(AF_INET6, 0) + table_entries(AF_INET6, 1),
		     1);
	cr_assert_not(family_raw_get(0, AF_INET6, 1, &e),
		      "the IPv4 flow in an IPv6 table");
	cr_assert_eq(xlb_dp_ct_foreach(h_dp, family_walk_one, &w), 0);
	for (f = 0; f < N_FAMILY_CASES; f++)
		cr_assert_eq(w.seen[f], 1, "%s seen %d times by the walk",
			     family_cases[f].client, w.seen[f]);
}
