// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flow behaviour through the real program: conntrack keeps a flow's real
 * while the ring changes, a removed real is never used again, source-IP
 * hashing pins a client, weights shape the spread, counters add up.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <criterion/criterion.h>

#include "harness.h"

#define VIP	 "10.100.0.1:80/tcp"
#define N_FLOWS	 600
#define MAX_REAL 8

static const char *const reals[] = {"10.1.0.2", "10.1.0.3", "10.1.0.4",
				    "10.1.0.5", "10.1.0.6"};

/* Send one TCP packet of flow (client, sport) and return its real. */
static int send_flow(const char *client, uint16_t sport, uint8_t flags, int cpu)
{
	struct pkt_spec spec = {
		.family = AF_INET,
		.saddr = client,
		.daddr = "10.100.0.1",
		.proto = IPPROTO_TCP,
		.sport = sport,
		.dport = 80,
		.tcp_flags = flags,
	};
	struct h_result res;
	char buf[XLB_IP_STRLEN];
	struct pkt in;
	size_t i;

	cr_assert_eq(pkt_build(&in, &spec), 0);
	if (cpu >= 0)
		h_run_on_cpu(&in, &res, cpu);
	else
		h_run(&in, &res);
	if (res.retval != XDP_REDIRECT)
		return -(int)res.reason;
	h_out_real(&res, buf, sizeof(buf));
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		if (!strcmp(buf, reals[i]))
			return i;
	cr_assert_fail("flow went to unknown real %s", buf);
	return -1;
}

static const char *client_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "192.0.2.%d", 1 + i % 200);
	return buf;
}

TestSuite(flows, .init = h_setup, .fini = h_teardown);

Test(flows, conntrack_keeps_real_when_ring_changes)
{
	int first[N_FLOWS], moved_new = 0, i, r;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 3; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
		cr_assert_geq(first[i], 0);
	}
	/* Two more reals: the ring changes under every flow. */
	h_real(VIP, reals[3], 100);
	h_real(VIP, reals[4], 100);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      0);
		cr_assert_eq(r, first[i], "flow %d moved from %s to %s", i,
			     reals[first[i]], reals[r]);
	}
	/* New flows do reach the new reals. */
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 40000 + i, PKT_SYN,
			      0);
		moved_new += r >= 3;
	}
	cr_assert_gt(moved_new, N_FLOWS / 5,
		     "only %d of %d new flows reached the two new reals",
		     moved_new, N_FLOWS);
}

Test(flows, removed_real_is_never_used)
{
	int first[N_FLOWS], kept = 0, on_removed = 0, i, r;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 3; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
		on_removed += first[i] == 2;
	}
	cr_assert_gt(on_removed, N_FLOWS / 5, "real 3 got %d flows",
		     on_removed);
	h_real_del(VIP, reals[2]);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      0);
		cr_assert_neq(r, 2, "flow %d still sent to the removed real",
			      i);
		cr_assert_geq(r, 0);
		kept += first[i] != 2 && r == first[i];
	}
	/* Flows of the other reals stayed where they were. */
	cr_assert_eq(kept, N_FLOWS - on_removed);
	/* The same address added back is a new real: no stale flows. */
	for (i = 0; i < 50; i++)
		cr_assert_neq(send_flow("198.51.100.7", 1000 + i, PKT_SYN, 0),
			      2);
}

Test(flows, zero_weight_gets_no_new_flows_but_keeps_old)
{
	int first[N_FLOWS], i, r;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 3; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < N_FLOWS; i++)
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
	h_weight(VIP, reals[0], 0);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      0);
		cr_assert_eq(r, first[i], "established flow %d moved", i);
		r = send_flow(client_of(i, c, sizeof(c)), 30000 + i, PKT_SYN,
			      0);
		cr_assert_neq(r, 0, "new flow %d went to a weight-0 real", i);
	}
}

Test(flows, source_ip_hash_pins_a_client)
{
	int seen[MAX_REAL] = {0}, distinct = 0, first, i, r;
	char c[32];

	h_vip(VIP, XLB_HASH_SOURCE_IP, 65537);
	for (i = 0; i < 5; i++)
		h_real(VIP, reals[i], 100);
	first = send_flow("192.0.2.77", 1024, PKT_SYN, 0);
	for (i = 1; i < 300; i++) {
		r = send_flow("192.0.2.77", 1024 + i * 7, PKT_SYN, i % 2);
		cr_assert_eq(r, first, "port %d of one client went to %s",
			     1024 + i * 7, reals[r]);
	}
	for (i = 0; i < 200; i++)
		seen[send_flow(client_of(i, c, sizeof(c)), 5555, PKT_SYN, 0)]++;
	for (i = 0; i < 5; i++)
		distinct += seen[i] > 0;
	cr_assert_eq(distinct, 5, "200 clients reached only %d reals",
		     distinct);
}

Test(flows, weights_shape_the_spread)
{
	int seen[MAX_REAL] = {0}, n = 3000, i;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	h_real(VIP, reals[0], 100);
	h_real(VIP, reals[1], 100);
	h_real(VIP, reals[2], 200);
	for (i = 0; i < n; i++)
		seen[send_flow(client_of(i, c, sizeof(c)), 10000 + i, PKT_SYN,
			       0)]++;
	/* Expect 1/4, 1/4, 1/2 within 10 % of each share. */
	cr_assert(seen[0] > n / 4 * 0.9 && seen[0] < n / 4 * 1.1, "%d",
		  seen[0]);
	cr_assert(seen[1] > n / 4 * 0.9 && seen[1] < n / 4 * 1.1, "%d",
		  seen[1]);
	cr_assert(seen[2] > n / 2 * 0.9 && seen[2] < n / 2 * 1.1, "%d",
		  seen[2]);
}

Test(flows, counters_add_up)
{
	struct xlb_counters v, r0, r1;
	char c[32];
	int i, r, per_real[2] = {0};

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	h_real(VIP, reals[0], 100);
	h_real(VIP, reals[1], 100);
	for (i = 0; i < 100; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_SYN,
			      0);
		per_real[r]++;
		send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK, 0);
	}
	h_vip_counters(VIP, &v);
	h_real_counters(VIP, reals[0], &r0);
	h_real_counters(VIP, reals[1], &r1);
	cr_assert_eq(v.packets, 200);
	cr_assert_eq(v.new_flows, 100);
	cr_assert_eq(v.bytes, 200 * 54, "bytes %llu",
		     (unsigned long long)v.bytes);
	cr_assert_eq(r0.new_flows, per_real[0]);
	cr_assert_eq(r1.new_flows, per_real[1]);
	cr_assert_eq(r0.packets + r1.packets, 200);
}

Test(flows, flow_moving_to_another_cpu_keeps_its_real)
{
	struct xlb_counters v;
	int first[200], moved = 0, i, r;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 2; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < 200; i++)
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
	/* The ring changes, then the flows show up on the other CPU, as
	 * they do without RSS or after an IRQ affinity change. */
	for (i = 2; i < 5; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < 200; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      1);
		cr_assert_eq(r, first[i], "flow %d moved on CPU 1", i);
	}
	h_vip_counters(VIP, &v);
	cr_assert_eq(v.new_flows, 200, "adopted flows are not new flows");
	/* A SYN is a new flow wherever it lands: no scan, ring choice. */
	for (i = 0; i < 200; i++)
		moved += send_flow(client_of(i, c, sizeof(c)), 30000 + i,
				   PKT_SYN, 1) >= 2;
	cr_assert_gt(moved, 40, "new flows reach the new reals (%d)", moved);
}

Test(flows, down_real_loses_its_flows_and_gets_them_back_fresh)
{
	int first[N_FLOWS], on_down = 0, kept = 0, back = 0, i, r;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 3; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
		on_down += first[i] == 1;
	}
	h_health(VIP, reals[1], false);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      0);
		cr_assert_neq(r, 1, "flow %d sent to a real that is down", i);
		kept += first[i] != 1 && r == first[i];
	}
	cr_assert_eq(kept, N_FLOWS - on_down,
		     "flows of healthy reals must not move");
	/* Back up: new flows reach it again. */
	h_health(VIP, reals[1], true);
	for (i = 0; i < N_FLOWS; i++)
		back += send_flow(client_of(i, c, sizeof(c)), 40000 + i,
				  PKT_SYN, 0) == 1;
	cr_assert_gt(back, N_FLOWS / 5, "only %d new flows after up", back);
}

Test(flows, draining_real_keeps_flows_takes_no_new_ones)
{
	int first[N_FLOWS], on_drained = 0, i, r;
	struct xlb_counters before, after;
	char c[32];

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 3; i++)
		h_real(VIP, reals[i], 100);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0);
		on_drained += first[i] == 2;
	}
	h_drain(VIP, reals[2], true);
	h_real_counters(VIP, reals[2], &before);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      0);
		cr_assert_eq(r, first[i], "established flow %d moved", i);
		r = send_flow(client_of(i, c, sizeof(c)), 30000 + i, PKT_SYN,
			      0);
		cr_assert_neq(r, 2, "new flow %d went to a draining real", i);
	}
	h_real_counters(VIP, reals[2], &after);
	cr_assert_eq(after.packets - before.packets, (uint64_t)on_drained,
		     "the draining real still carries its own flows");
	cr_assert_eq(after.new_flows, before.new_flows);
	h_drain(VIP, reals[2], false);
	for (i = 0, r = 0; i < N_FLOWS; i++)
		r += send_flow(client_of(i, c, sizeof(c)), 50000 + i, PKT_SYN,
			       0) == 2;
	cr_assert_gt(r, N_FLOWS / 5, "undrained real gets new flows (%d)", r);
}

/* The VIP's view: tracked sessions and state, from the agent's JSON. */
static json_t *vip_view(void)
{
	json_t *root = xlb_agent_vips_json(h_agent, true), *v;

	v = json_incref(json_array_get(json_object_get(root, "vips"), 0));
	json_decref(root);
	cr_assert_not_null(v);
	return v;
}

Test(flows, sessions_and_vip_state)
{
	json_t *v;
	char c[32];
	int i;

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	v = vip_view();
	cr_assert_str_eq(json_string_value(json_object_get(v, "state")), "down",
			 "a VIP without reals is down");
	json_decref(v);
	h_real(VIP, reals[0], 100);
	h_real(VIP, reals[1], 100);
	for (i = 0; i < 100; i++)
		send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_SYN,
			  i % 2);
	v = vip_view();
	cr_assert_str_eq(json_string_value(json_object_get(v, "state")), "up");
	cr_assert_eq(json_integer_value(json_object_get(v, "healthy_reals")),
		     2);
	cr_assert_eq(json_integer_value(json_object_get(v, "sessions")), 100,
		     "100 flows over two CPUs are 100 tracked sessions");
	json_decref(v);
	/* A removed real's flows no longer count; drain leaves one up. */
	h_real_del(VIP, reals[1]);
	v = vip_view();
	cr_assert_lt(json_integer_value(json_object_get(v, "sessions")), 100);
	json_decref(v);
	h_drain(VIP, reals[0], true);
	v = vip_view();
	cr_assert_str_eq(json_string_value(json_object_get(v, "state")), "down",
			 "only a draining real left: no new flows");
	json_decref(v);
}

/* The flood guard at 2 new entries per CPU per second (issue 13). */
static void guard_init(void)
{
	h_opt_flood_guard(2);
	h_setup();
}

static void count_ct(const struct xlb_flow_key *key,
		     const struct xlb_ct_entry *e, void *arg)
{
	(void)key;
	(void)e;
	(*(size_t *)arg)++;
}

static size_t ct_entries(void)
{
	size_t n = 0;

	cr_assert_eq(xlb_dp_ct_foreach(h_dp, count_ct, &n), 0);
	return n;
}

static uint64_t guard_skipped(void)
{
	uint64_t n;

	cr_assert_eq(xlb_dp_guard_skipped(h_dp, &n), 0);
	return n;
}

TestSuite(flood_guard, .init = guard_init, .fini = h_teardown);

/*
 * Above the rate, misses other than a client's opening SYN are still sent
 * where the ring says, but not remembered (SYN-ACKs, SYN+RST included);
 * opening SYNs always are.
 */
Test(flood_guard, misses_above_the_rate_not_remembered)
{
	char c[32];
	int i;

	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	for (i = 0; i < 3; i++)
		h_real(VIP, reals[i], 100);
	cr_assert_geq(send_flow(client_of(1, c, sizeof(c)), 1001, PKT_SYN, 0),
		      0);
	cr_assert_geq(send_flow(client_of(2, c, sizeof(c)), 1002, PKT_ACK, 0),
		      0);
	cr_assert_eq(ct_entries(), 2, "below the rate, both remembered");
	cr_assert_eq(guard_skipped(), 0);
	for (i = 0; i < 10; i++)
		cr_assert_geq(send_flow(client_of(3 + i, c, sizeof(c)),
					2000 + i, PKT_ACK, 0),
			      0, "ack %d not forwarded", i);
	cr_assert_eq(ct_entries(), 2, "spoofed ACKs made entries");
	cr_assert_eq(guard_skipped(), 10);
	cr_assert_geq(send_flow(client_of(14, c, sizeof(c)), 2100,
				PKT_SYN | PKT_ACK, 0),
		      0, "syn-ack not forwarded");
	cr_assert_geq(send_flow(client_of(15, c, sizeof(c)), 2101,
				PKT_SYN | PKT_RST, 0),
		      0, "syn+rst not forwarded");
	cr_assert_eq(ct_entries(), 2, "a SYN-ACK or SYN+RST made an entry");
	cr_assert_eq(guard_skipped(), 12);
	cr_assert_geq(send_flow(client_of(20, c, sizeof(c)), 3000, PKT_SYN, 0),
		      0);
	cr_assert_eq(ct_entries(), 3, "a SYN is always remembered");
	cr_assert_eq(guard_skipped(), 12);
}
