// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Path MTU: a packet that would not fit the egress MTU once encapsulated
 * (tunnel, every family pair) or translated (FULLNAT, both directions)
 * comes back to its sender as ICMP "fragmentation needed" / ICMPv6
 * "packet too big" from the address it was sent to, with the MTU the
 * sender must use, quoting the packet, by XDP_TX. Each row checks the
 * verdict, the one reason that moved and the exact output bytes (every
 * checksum verified); IPv4 without DF, ICMP errors and the per-CPU rate
 * limit are dropped and counted.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "harness.h"

#define CLIENT4 "192.0.2.10"
#define CLIENT6 "2001:db8::10"
#define VIP4	"10.100.0.1"
#define VIP6	"fd00:100::1"
#define LOCAL4	"10.97.0.1"
#define LOCAL6	"fd00:97::1"
#define REAL4	"10.1.0.2"
#define REAL6	"fd01::2"

/* Quotes: IPv4 within 576 bytes, IPv6 within 1280 (on 4 bytes). */
#define QUOTE4 548
#define QUOTE6 1232

#define TCP4(...)                                                       \
	{                                                               \
		.family = AF_INET, .saddr = CLIENT4, .daddr = VIP4,     \
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,      \
		.tcp_flags = PKT_ACK, .seq = 7, .df = true, __VA_ARGS__ \
	}
#define UDP4(...)                                                              \
	{                                                                      \
		.family = AF_INET, .saddr = CLIENT4, .daddr = VIP4,            \
		.proto = IPPROTO_UDP, .sport = 40000, .dport = 53, .df = true, \
		__VA_ARGS__                                                    \
	}
#define TCP6(...)                                                    \
	{                                                            \
		.family = AF_INET6, .saddr = CLIENT6, .daddr = VIP6, \
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,   \
		.tcp_flags = PKT_ACK, .seq = 7, __VA_ARGS__          \
	}
#define UDP6(...)                                                              \
	{                                                                      \
		.family = AF_INET6, .saddr = CLIENT6, .daddr = VIP6,           \
		.proto = IPPROTO_UDP, .sport = 40000, .dport = 53, __VA_ARGS__ \
	}

struct pmtu_case {
	const char *name;
	struct pkt_spec in;
	uint32_t verdict;
	enum xlb_reason reason;
	uint32_t mtu;	  /* the error's MTU; 0: no error is expected */
	size_t quote_len; /* bytes of the packet the error quotes */
};

/* A frame quoted by an ICMP error: bigger than anything fits. */
static const struct pkt_spec big_reply4 = {
	.family = AF_INET,
	.saddr = VIP4,
	.daddr = CLIENT4,
	.proto = IPPROTO_TCP,
	.sport = 80,
	.dport = 40000,
	.tcp_flags = PKT_ACK,
	.df = true,
	.payload_len = 1460,
};

/*
 * The egress port towards the reals has an MTU of 1500: the largest
 * packet of a client is 1480 over IPv4 (IPIP, 6in4), 1460 over IPv6
 * (4in6, IP6IP6).
 */
static const struct pmtu_case cases[] = {
	{"v4 tcp df, ipip: 1480", TCP4(.payload_len = 1460), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1480, QUOTE4},
	{"v4 tcp df, one byte too many", TCP4(.payload_len = 1441), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1480, QUOTE4},
	{"v4 tcp df, just fits", TCP4(.payload_len = 1440), XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, 0, 0},
	{"v4 udp df, 4in6: 1460", UDP4(.payload_len = 1472), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1460, QUOTE4},
	{"v4 udp df, 4in6 just fits", UDP4(.payload_len = 1432), XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, 0, 0},
	{"v4 tcp df with vlan tag",
	 TCP4(.vlan = true, .vlan_tci = 100, .payload_len = 1460), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1480, QUOTE4},
	{"v4 tcp df with ip options",
	 TCP4(.ip_opts = {1, 1, 1, 0}, .ip_opts_len = 4, .payload_len = 1456),
	 XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, 1480, QUOTE4},
	{"v6 tcp, ip6ip6: 1460", TCP6(.payload_len = 1440), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1460, QUOTE6},
	{"v6 tcp, ip6ip6 just fits", TCP6(.payload_len = 1400), XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, 0, 0},
	{"v6 tcp with vlan tag",
	 TCP6(.vlan = true, .vlan_tci = 4000, .payload_len = 1440), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1460, QUOTE6},
	{"v6 udp, 6in4: 1480", UDP6(.payload_len = 1452), XDP_TX,
	 XLB_R_FWD_ICMP_TOO_BIG, 1480, QUOTE6},
	{"v6 udp, 6in4 just fits", UDP6(.payload_len = 1432), XDP_REDIRECT,
	 XLB_R_FWD_REDIRECT, 0, 0},

	/* Not answered: dropped and counted, untouched. */
	{"v4 tcp without df", TCP4(.df = false, .payload_len = 1460), XDP_DROP,
	 XLB_R_DROP_FRAG_NEEDED, 0, 0},
	{"v4 udp without df, 4in6", UDP4(.df = false, .payload_len = 1472),
	 XDP_DROP, XLB_R_DROP_FRAG_NEEDED, 0, 0},
	{"icmp error too big: no error about an error",
	 {.family = AF_INET,
	  .saddr = "203.0.113.1",
	  .daddr = VIP4,
	  .df = true,
	  .proto = IPPROTO_ICMP,
	  .icmp_type = ICMP_DEST_UNREACH,
	  .icmp_code = ICMP_FRAG_NEEDED,
	  .mtu = 1400,
	  .quote = &big_reply4,
	  .quote_len = 1480},
	 XDP_DROP,
	 XLB_R_DROP_FRAG_NEEDED,
	 0,
	 0},
};

/* Tunnel VIPs of every family pair. */
static void tunnel_setup(void)
{
	/* The tagged cases' VLANs are balanced here. */
	h_opt_vlan(100);
	h_opt_vlan(4000);
	h_setup();
	h_vip(VIP4 ":80/tcp", XLB_HASH_MAGLEV, 251);
	h_real(VIP4 ":80/tcp", REAL4, 100);
	h_vip(VIP4 ":53/udp", XLB_HASH_MAGLEV, 251);
	h_real(VIP4 ":53/udp", REAL6, 100);
	h_vip("[" VIP6 "]:80/tcp", XLB_HASH_MAGLEV, 251);
	h_real("[" VIP6 "]:80/tcp", REAL6, 100);
	h_vip("[" VIP6 "]:53/udp", XLB_HASH_MAGLEV, 251);
	h_real("[" VIP6 "]:53/udp", REAL4, 100);
}

/* The error the program must send for in: back to in's sender. */
static void expected_error(const struct pkt_spec *in, uint32_t mtu,
			   size_t quote_len, struct pkt *want)
{
	struct pkt_spec e = {
		.smac = in->dmac ? in->dmac : PKT_MAC_XLB,
		.dmac = in->smac ? in->smac : PKT_MAC_CLIENT,
		.vlan = in->vlan,
		.vlan_tci = in->vlan_tci,
		.family = in->family,
		.saddr = in->daddr,
		.daddr = in->saddr,
		.ttl = 64,
		.mtu = mtu,
		.quote = in,
		.quote_len = quote_len,
	};

	if (in->family == AF_INET) {
		e.tos = 0xc0;
		e.proto = IPPROTO_ICMP;
		e.icmp_type = ICMP_DEST_UNREACH;
		e.icmp_code = ICMP_FRAG_NEEDED;
	} else {
		e.proto = IPPROTO_ICMPV6;
		e.icmp_type = ICMPV6_PKT_TOOBIG;
	}
	cr_assert_eq(pkt_build(want, &e), 0, "cannot build the error");
}

/* res must be the error about in; the MTU read back from the bytes. */
static void assert_error(const struct h_result *res, const struct pkt *want,
			 uint32_t mtu, const char *what)
{
	struct pkt_info info;
	char why[160];

	cr_assert_eq(
		pkt_verify_checksums(res->out, res->out_len, why, sizeof(why)),
		0, "%s: output checksums: %s", what, why);
	cr_assert_eq(pkt_parse(res->out, res->out_len, &info, why, sizeof(why)),
		     0, "%s: %s", what, why);
	cr_assert_eq(info.mtu, mtu, "%s: mtu %u, want %u", what, info.mtu, mtu);
	if (res->out_len != want->len ||
	    memcmp(res->out, want->buf, want->len)) {
		pkt_hexdump_diff(res->out, res->out_len, want->buf, want->len);
		cr_assert_fail("%s: output differs from the expected bytes "
			       "(got %u bytes, want %zu)",
			       what, res->out_len, want->len);
	}
}

static void assert_ends(const struct h_result *res, uint32_t verdict,
			enum xlb_reason reason, const char *what)
{
	cr_assert_eq(res->reason, reason, "%s: reason %s, want %s", what,
		     xlb_reason_names[res->reason], xlb_reason_names[reason]);
	cr_assert_eq(res->n_reasons_moved, 1, "%s: %d reasons moved", what,
		     res->n_reasons_moved);
	cr_assert_eq(res->retval, verdict, "%s: verdict %u, want %u", what,
		     res->retval, verdict);
}

static void assert_untouched(const struct h_result *res, const struct pkt *in,
			     const char *what)
{
	cr_assert(res->out_len == in->len &&
			  !memcmp(res->out, in->buf, in->len),
		  "%s: the dropped packet was changed", what);
}

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

ParameterizedTestParameters(pmtu, table)
{
	static int idx[N_CASES];
	size_t i;

	for (i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(int, idx, N_CASES);
}

ParameterizedTest(int *i, pmtu, table, .init = tunnel_setup, .fini = h_teardown)
{
	const struct pmtu_case *c = &cases[*i];
	struct h_result res;
	struct pkt in, want;

	cr_assert_eq(pkt_build(&in, &c->in), 0, "%s: cannot build", c->name);
	if (c->in.quote) {
		/* An error is forwarded only about a tracked flow: the
		 * client's SYN, the quote reversed, comes first. */
		struct pkt_spec syn = TCP4(.saddr = c->in.quote->daddr,
					   .sport = c->in.quote->dport,
					   .tcp_flags = PKT_SYN);
		struct pkt first;

		cr_assert_eq(pkt_build(&first, &syn), 0);
		h_run(&first, &res);
		cr_assert_eq(res.reason, XLB_R_FWD_REDIRECT, "%s: the flow",
			     c->name);
	}
	h_run(&in, &res);
	assert_ends(&res, c->verdict, c->reason, c->name);
	if (c->mtu) {
		expected_error(&c->in, c->mtu, c->quote_len, &want);
		assert_error(&res, &want, c->mtu, c->name);
	} else if (c->verdict == XDP_DROP) {
		assert_untouched(&res, &in, c->name);
	}
}

/* icmp_rate errors per second per CPU; past it, dropped and counted. */
Test(pmtu, rate_limited_per_cpu, .init = tunnel_setup, .fini = h_teardown)
{
	struct pkt_spec s = TCP4(.payload_len = 1460);
	struct h_result res;
	struct pkt in, want;

	h_icmp_rate(2);
	cr_assert_eq(pkt_build(&in, &s), 0);
	expected_error(&s, 1480, QUOTE4, &want);
	h_run_on_cpu(&in, &res, 0);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "first");
	assert_error(&res, &want, 1480, "first");
	h_run_on_cpu(&in, &res, 0);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "second");
	h_run_on_cpu(&in, &res, 0);
	assert_ends(&res, XDP_DROP, XLB_R_DROP_ICMP_LIMITED, "third");
	assert_untouched(&res, &in, "third");
	/* The other CPU has its own allowance. */
	h_run_on_cpu(&in, &res, 1);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "other cpu");
}

/* icmp_rate 0: never an error, the packet dropped as before. */
Test(pmtu, rate_zero_sends_nothing, .init = tunnel_setup, .fini = h_teardown)
{
	struct pkt_spec s4 = TCP4(.payload_len = 1460),
			s6 = TCP6(.payload_len = 1440);
	struct h_result res;
	struct pkt in;

	h_icmp_rate(0);
	cr_assert_eq(pkt_build(&in, &s4), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_DROP, XLB_R_DROP_FRAG_NEEDED, "v4");
	assert_untouched(&res, &in, "v4");
	cr_assert_eq(pkt_build(&in, &s6), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_DROP, XLB_R_DROP_FRAG_NEEDED, "v6");
	assert_untouched(&res, &in, "v6");
}

/*
 * A smaller egress MTU makes a smaller error: the path towards this real
 * carries 1300 bytes (a route MTU), so IPIP leaves the client 1280; over
 * IPv6 the error never says less than 1280.
 */
Test(pmtu, smaller_egress_mtu, .init = tunnel_setup, .fini = h_teardown)
{
	struct pkt_spec s4 = TCP4(.payload_len = 1300),
			s6 = TCP6(.payload_len = 1300);
	struct h_result res;
	struct pkt in, want;

	h_mtu(H_IF_REALS, 1300);
	cr_assert_eq(pkt_build(&in, &s4), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "v4");
	expected_error(&s4, 1280, QUOTE4, &want);
	assert_error(&res, &want, 1280, "v4");
	cr_assert_eq(pkt_build(&in, &s6), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "v6");
	expected_error(&s6, 1280, QUOTE6, &want);
	assert_error(&res, &want, 1280, "v6 (1300 - 40 raised to 1280)");
}

/* ---- FULLNAT: the size stays, the MTU towards the reals is smaller --- */

static void fullnat_vip(const char *svc, const char *real)
{
	h_vip(svc, XLB_HASH_MAGLEV, 251);
	h_vip_mode(svc, XLB_MODE_FULLNAT, 0);
	h_real(svc, real, 100);
}

static void nat_setup(void)
{
	h_nat_setup();
	h_nat_config(1024, 65535);
	h_laddr(LOCAL4);
	h_laddr(LOCAL6);
	fullnat_vip(VIP4 ":80/tcp", REAL4);
	fullnat_vip("[" VIP6 "]:80/tcp", REAL6);
	h_mtu(H_IF_REALS, 1400);
}

/* A session, then a segment too big for the reals' side. */
static void fullnat_request(struct pkt_spec syn, uint32_t quote)
{
	struct pkt_spec data = syn;
	struct h_result res;
	struct pkt in, want;

	cr_assert_eq(pkt_build(&in, &syn), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_REDIRECT, XLB_R_FWD_REDIRECT, "syn");
	data.tcp_flags = PKT_ACK;
	data.payload_len = 1400;
	cr_assert_eq(pkt_build(&in, &data), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "data");
	expected_error(&data, 1400, quote, &want);
	assert_error(&res, &want, 1400, "data");
	/* One that fits goes through. */
	data.payload_len = syn.family == AF_INET ? 1360 : 1340;
	cr_assert_eq(pkt_build(&in, &data), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_REDIRECT, XLB_R_FWD_REDIRECT, "data that fits");
}

Test(pmtu, fullnat_request_v4, .init = nat_setup, .fini = h_teardown)
{
	fullnat_request((struct pkt_spec)TCP4(.tcp_flags = PKT_SYN), QUOTE4);
}

Test(pmtu, fullnat_request_v6, .init = nat_setup, .fini = h_teardown)
{
	fullnat_request((struct pkt_spec)TCP6(.tcp_flags = PKT_SYN), QUOTE6);
}

/*
 * The real's reply too big for the clients' side: the error goes back
 * to the real, from the local address it sent to, out of the port the
 * reply came in by.
 */
Test(pmtu, fullnat_reply_v4, .init = nat_setup, .fini = h_teardown)
{
	struct pkt_spec syn = TCP4(.tcp_flags = PKT_SYN), reply;
	struct pkt_info info;
	struct h_result res;
	struct pkt in, want;
	char why[160];

	h_mtu(H_IF_REALS, 1500);
	h_mtu(H_IF_CLIENT, 1400);
	cr_assert_eq(pkt_build(&in, &syn), 0);
	h_run(&in, &res);
	assert_ends(&res, XDP_REDIRECT, XLB_R_FWD_REDIRECT, "syn");
	cr_assert_eq(pkt_parse(res.out, res.out_len, &info, why, sizeof(why)),
		     0);
	reply = (struct pkt_spec){
		.smac = H_MAC_REAL2,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = REAL4,
		.daddr = LOCAL4,
		.df = true,
		.proto = IPPROTO_TCP,
		.sport = 80,
		.dport = info.sport,
		.tcp_flags = PKT_ACK,
		.payload_len = 1400,
	};
	cr_assert_eq(pkt_build(&in, &reply), 0);
	h_run_if(&in, &res, -1, H_IF_REALS);
	assert_ends(&res, XDP_TX, XLB_R_FWD_ICMP_TOO_BIG, "reply");
	expected_error(&reply, 1400, QUOTE4, &want);
	assert_error(&res, &want, 1400, "reply");
}
