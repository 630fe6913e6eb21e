// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * GUE (encap: gue): the tunnel of every family pair inside UDP to
 * gue_port (variant 1: the inner packet right after the UDP header),
 * the source port from the flow hash; path MTU with the UDP header
 * counted; and the real's decap program taking GUE apart.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "harness.h"
#include "decap.h"
#include "decap.skel.h"

#define CLIENT4 "192.0.2.10"
#define CLIENT6 "2001:db8::10"
#define VIP4	"10.100.0.1"
#define VIP6	"fd00:100::1"

struct gue_case {
	const char *name;
	struct pkt_spec in;
	const char *real;
};

#define FLOW(fam, c, v, pr, dp, ...)                                 \
	{                                                            \
		.family = fam, .saddr = c, .daddr = v, .proto = pr,  \
		.sport = 40000, .dport = dp, .df = true, __VA_ARGS__ \
	}

static const struct gue_case cases[] = {
	{"v4 tcp in udp over ipv4",
	 FLOW(AF_INET, CLIENT4, VIP4, IPPROTO_TCP, 80, .tcp_flags = PKT_SYN),
	 "10.1.0.2"},
	{"v4 udp in udp over ipv6",
	 FLOW(AF_INET, CLIENT4, VIP4, IPPROTO_UDP, 53, .payload_len = 32),
	 "fd01::2"},
	{"v6 tcp in udp over ipv6",
	 FLOW(AF_INET6, CLIENT6, VIP6, IPPROTO_TCP, 80, .tcp_flags = PKT_SYN,
	      .payload_len = 100),
	 "fd01::2"},
	{"v6 udp in udp over ipv4",
	 FLOW(AF_INET6, CLIENT6, VIP6, IPPROTO_UDP, 53, .payload_len = 100),
	 "10.1.0.2"},
};

static void gue_setup(void)
{
	h_setup();
	h_vip(VIP4 ":80/tcp", XLB_HASH_MAGLEV, 251);
	h_real(VIP4 ":80/tcp", "10.1.0.2", 100);
	h_vip(VIP4 ":53/udp", XLB_HASH_MAGLEV, 251);
	h_real(VIP4 ":53/udp", "fd01::2", 100);
	h_vip("[" VIP6 "]:80/tcp", XLB_HASH_MAGLEV, 251);
	h_real("[" VIP6 "]:80/tcp", "fd01::2", 100);
	h_vip("[" VIP6 "]:53/udp", XLB_HASH_MAGLEV, 251);
	h_real("[" VIP6 "]:53/udp", "10.1.0.2", 100);
	h_vip_encap(VIP4 ":80/tcp", true);
	h_vip_encap(VIP4 ":53/udp", true);
	h_vip_encap("[" VIP6 "]:80/tcp", true);
	h_vip_encap("[" VIP6 "]:53/udp", true);
}

/*
 * The IPIP frame the program would send, with the UDP header put
 * between the outer header and the inner packet (GUE variant 1).
 */
static void expected_gue(const struct pkt_spec *flow, const char *real_s,
			 const struct pkt *in, struct pkt *want)
{
	struct pkt_outer outer = {};
	struct xlb_ip real;
	char src[XLB_IP_STRLEN];
	uint32_t hash;
	size_t l3, ohl, inner_len;
	uint8_t *u;

	cr_assert_eq(xlb_ip_parse(real_s, &real), 0);
	h_tunnel_src(real.family, flow->saddr, flow->sport, flow->dport,
		     flow->proto, false, src, sizeof(src));
	hash = h_tun_hash(flow->saddr, flow->sport, flow->dport, flow->proto,
			  false);
	*want = *in;
	outer.family = real.family;
	outer.saddr = src;
	outer.daddr = real_s;
	outer.ttl = 64;
	outer.tos = flow->tos;
	outer.df = true;
	outer.flow_label = hash & 0xfffff;
	outer.smac = H_MAC_REALS;
	outer.dmac = H_MAC_REAL2;
	cr_assert_eq(pkt_encap(want, &outer), 0);
	l3 = want->l3_off;
	ohl = real.family == AF_INET ? 20 : 40;
	inner_len = want->len - l3 - ohl;
	memmove(want->buf + l3 + ohl + 8, want->buf + l3 + ohl, inner_len);
	want->len += 8;
	u = want->buf + l3 + ohl;
	u[0] = (0xc000 | (hash & 0x3fff)) >> 8;
	u[1] = (hash & 0x3fff) & 0xff;
	u[2] = XLB_GUE_PORT_DEFAULT >> 8;
	u[3] = XLB_GUE_PORT_DEFAULT & 0xff;
	u[4] = (inner_len + 8) >> 8;
	u[5] = (inner_len + 8) & 0xff;
	u[6] = 0;
	u[7] = 0;
	if (real.family == AF_INET) {
		struct iphdr *o = pkt_ip4(want);

		o->protocol = IPPROTO_UDP;
		o->tot_len = htons(ntohs(o->tot_len) + 8);
		o->check = 0;
		o->check = htons(pkt_csum(o, 20));
	} else {
		struct ipv6hdr *o = pkt_ip6(want);

		o->nexthdr = IPPROTO_UDP;
		o->payload_len = htons(ntohs(o->payload_len) + 8);
	}
}

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

ParameterizedTestParameters(gue, table)
{
	static int idx[N_CASES];
	size_t i;

	for (i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(int, idx, N_CASES);
}

ParameterizedTest(int *i, gue, table, .init = gue_setup, .fini = h_teardown)
{
	const struct gue_case *c = &cases[*i];
	struct h_result res;
	struct pkt in, want;

	cr_assert_eq(pkt_build(&in, &c->in), 0, "%s: cannot build", c->name);
	h_run(&in, &res);
	cr_assert_eq(res.retval, XDP_REDIRECT, "%s: verdict %u", c->name,
		     res.retval);
	cr_assert_eq(res.reason, XLB_R_FWD_REDIRECT, "%s: reason %s", c->name,
		     xlb_reason_names[res.reason]);
	expected_gue(&c->in, c->real, &in, &want);
	if (res.out_len != want.len || memcmp(res.out, want.buf, want.len)) {
		pkt_hexdump_diff(res.out, res.out_len, want.buf, want.len);
		cr_assert_fail("%s: output differs (got %u bytes, want %zu)",
			       c->name, res.out_len, want.len);
	}
}

/* Another client port, another UDP source port: entropy for ECMP. */
Test(gue, source_port_follows_the_flow, .init = gue_setup, .fini = h_teardown)
{
	struct pkt_spec s = FLOW(AF_INET, CLIENT4, VIP4, IPPROTO_TCP, 80,
				 .tcp_flags = PKT_SYN);
	uint16_t ports[8];
	struct h_result res;
	struct pkt in;
	int i, distinct = 0, j;

	for (i = 0; i < 8; i++) {
		s.sport = 41000 + i;
		cr_assert_eq(pkt_build(&in, &s), 0);
		h_run(&in, &res);
		cr_assert_eq(res.retval, XDP_REDIRECT);
		ports[i] = (res.out[14 + 20] << 8) | res.out[14 + 21];
		cr_assert_geq(ports[i], 0xc000, "source port %u", ports[i]);
		for (j = 0; j < i && ports[j] != ports[i]; j++)
			;
		distinct += j == i;
	}
	cr_assert_geq(distinct, 6, "%d distinct source ports of 8", distinct);
}

/* The UDP header counts: 1500 - 20 - 8 = 1472 for the client. */
Test(gue, too_big_counts_the_udp_header, .init = gue_setup, .fini = h_teardown)
{
	struct pkt_spec s = FLOW(AF_INET, CLIENT4, VIP4, IPPROTO_TCP, 80,
				 .tcp_flags = PKT_ACK, .payload_len = 1433);
	struct pkt_info info;
	struct h_result res;
	struct pkt in;
	char why[160];

	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run(&in, &res);
	cr_assert_eq(res.reason, XLB_R_FWD_ICMP_TOO_BIG, "reason %s",
		     xlb_reason_names[res.reason]);
	cr_assert_eq(pkt_parse(res.out, res.out_len, &info, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(info.mtu, 1472);
	s.payload_len = 1432;
	cr_assert_eq(pkt_build(&in, &s), 0);
	h_run(&in, &res);
	cr_assert_eq(res.retval, XDP_REDIRECT, "1472 bytes fit");
}

/* ---- The real's side: the decap program -------------------------- */

static struct decap_bpf *dskel;

/* Load the decap program for GUE on port (as `--gue-port`), fill it as
 * lbctl does and give it the real's addresses. */
static void decap_load_port(uint16_t port)
{
	struct xlb_vip_addr_key k = {.family = XLB_AF_INET};
	uint32_t one = 1;

	struct xlb_decap_source src[2];
	char err[XLB_ERR_LEN];

	dskel = xlb_decap_load(port, err, sizeof(err));
	cr_assert_not_null(dskel, "decap program does not load: %s", err);
	/* As `--from` with the balancers' default tunnel_source. */
	cr_assert_eq(
		xlb_prefix_parse("172.16.0.0/16", &src[0].net, &src[0].plen),
		0);
	cr_assert_eq(xlb_prefix_parse("fc00:2::/96", &src[1].net, &src[1].plen),
		     0);
	cr_assert_eq(xlb_decap_fill(dskel, src, 2, err, sizeof(err)), 0, "%s",
		     err);
	inet_pton(AF_INET, "10.1.0.2", &k.addr.addr[0]);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(dskel->maps.decap_addrs),
					 &k, &one, BPF_ANY),
		     0);
	memset(&k, 0, sizeof(k));
	k.family = XLB_AF_INET6;
	inet_pton(AF_INET6, "fd01::2", k.addr.addr);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(dskel->maps.decap_addrs),
					 &k, &one, BPF_ANY),
		     0);
}

static void decap_setup(void)
{
	decap_load_port(XLB_GUE_PORT_DEFAULT);
}

/* A node with gue_port: 7000, its reals with --gue-port 7000. */
#define OTHER_PORT 7000

static void decap_setup_other_port(void)
{
	decap_load_port(OTHER_PORT);
}

static void decap_teardown(void)
{
	decap_bpf__destroy(dskel);
}

static void decap_run(const struct pkt *in, uint8_t *out, uint32_t *out_len,
		      uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->buf,
		    .data_size_in = in->len, .data_out = out,
		    .data_size_out = PKT_MAX);

	cr_assert_eq(bpf_prog_test_run_opts(
			     bpf_program__fd(dskel->progs.xlb_decap), &opts),
		     0);
	*out_len = opts.data_size_out;
	*retval = opts.retval;
}

ParameterizedTestParameters(gue, decap)
{
	static int idx[N_CASES];
	size_t i;

	for (i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(int, idx, N_CASES);
}

/* What the balancer sends, taken apart again: the client's packet with
 * the Ethernet header of the tunnel frame. */
ParameterizedTest(int *i, gue, decap, .init = decap_setup,
		  .fini = decap_teardown)
{
	const struct gue_case *c = &cases[*i];
	struct pkt in, tun, want;
	uint8_t out[PKT_MAX];
	uint32_t len, rv;
	struct pkt_spec inner = c->in;

	cr_assert_eq(pkt_build(&in, &c->in), 0);
	expected_gue(&c->in, c->real, &in, &tun);
	decap_run(&tun, out, &len, &rv);
	cr_assert_eq(rv, XDP_PASS, "%s: verdict %u", c->name, rv);
	inner.smac = H_MAC_REALS;
	inner.dmac = H_MAC_REAL2;
	cr_assert_eq(pkt_build(&want, &inner), 0);
	if (len != want.len || memcmp(out, want.buf, want.len)) {
		pkt_hexdump_diff(out, len, want.buf, want.len);
		cr_assert_fail("%s: decapsulated frame differs", c->name);
	}
}

/* UDP to another port, or not variant 1, is the stack's. */
Test(gue, decap_leaves_other_udp, .init = decap_setup, .fini = decap_teardown)
{
	const struct gue_case *c = &cases[0];
	struct pkt in, tun;
	uint8_t out[PKT_MAX];
	uint32_t len, rv;
	size_t u;

	cr_assert_eq(pkt_build(&in, &c->in), 0);
	expected_gue(&c->in, c->real, &in, &tun);
	u = tun.l3_off + 20;
	tun.buf[u + 3] ^= 1; /* port 6081 */
	decap_run(&tun, out, &len, &rv);
	cr_assert_eq(rv, XDP_PASS);
	cr_assert(len == tun.len && !memcmp(out, tun.buf, tun.len),
		  "other UDP port: changed");
	tun.buf[u + 3] ^= 1;
	tun.buf[u + 8] = 0x05; /* variant 0 */
	decap_run(&tun, out, &len, &rv);
	cr_assert_eq(rv, XDP_PASS);
	cr_assert(len == tun.len && !memcmp(out, tun.buf, tun.len),
		  "not variant 1: changed");
}

/* Point the UDP destination of a GUE frame built by expected_gue at
 * port; the checksum is 0 (not used), so nothing else changes. */
static void gue_set_port(struct pkt *tun, uint16_t port)
{
	size_t u = tun->l3_off + ((tun->buf[tun->l3_off] >> 4) == 4 ? 20 : 40);

	tun->buf[u + 2] = port >> 8;
	tun->buf[u + 3] = port & 0xff;
}

/* --gue-port 7000: GUE to 7000 is taken apart for every family pair;
 * GUE to the default port is then someone else's UDP, left whole. */
Test(gue, decap_other_port, .init = decap_setup_other_port,
     .fini = decap_teardown)
{
	struct pkt in, tun, want;
	uint8_t out[PKT_MAX];
	uint32_t len, rv;
	size_t i;

	for (i = 0; i < N_CASES; i++) {
		const struct gue_case *c = &cases[i];
		struct pkt_spec inner = c->in;

		cr_assert_eq(pkt_build(&in, &c->in), 0);
		expected_gue(&c->in, c->real, &in, &tun);
		decap_run(&tun, out, &len, &rv);
		cr_assert_eq(rv, XDP_PASS, "%s: verdict %u", c->name, rv);
		cr_assert(len == tun.len && !memcmp(out, tun.buf, tun.len),
			  "%s: GUE to %u taken apart with --gue-port %u",
			  c->name, XLB_GUE_PORT_DEFAULT, OTHER_PORT);
		gue_set_port(&tun, OTHER_PORT);
		decap_run(&tun, out, &len, &rv);
		cr_assert_eq(rv, XDP_PASS, "%s: verdict %u", c->name, rv);
		inner.smac = H_MAC_REALS;
		inner.dmac = H_MAC_REAL2;
		cr_assert_eq(pkt_build(&want, &inner), 0);
		if (len != want.len || memcmp(out, want.buf, want.len)) {
			pkt_hexdump_diff(out, len, want.buf, want.len);
			cr_assert_fail("%s: GUE to %u not taken apart", c->name,
				       OTHER_PORT);
		}
	}
}

/* A port of 0 is refused before anything loads. */
Test(gue, decap_port_zero_refused)
{
	char err[XLB_ERR_LEN] = "";

	cr_assert_null(xlb_decap_load(0, err, sizeof(err)));
	cr_assert_str_eq(err, "GUE port 0: expected 1..65535");
}
