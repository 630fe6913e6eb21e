// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The real-side decap program (suite "decap"): the real compiled object,
 * its maps filled by lbctl's own code (user/decap.c: the namespace's
 * addresses, the --from prefixes), tunnel packets through
 * BPF_PROG_TEST_RUN. Each row checks the verdict, the one decap counter
 * that moved and the exact output: the inner packet behind the original
 * Ethernet header, or the input untouched.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "decap.h"
#include "decap.skel.h"
#include "harness.h"

/* The balancers' tunnel_source (xlbd's default) and this host. */
#define TUN4   "172.16.0.0/16"
#define TUN6   "fc00:2::/96"
#define LOCAL4 "10.1.0.1" /* on xt2, from the harness */
#define LOCAL6 "fd01::1"

static const char *const decap_reason_names[] = {
#define DECAP_NAME(id, name) [XLB_##id] = name,
	XLB_DECAP_REASONS(DECAP_NAME)
#undef DECAP_NAME
};

static struct decap_bpf *skel;

/* Load the decap program and fill it as `--from` with these prefixes. */
static void decap_load(const char *const *from, size_t n)
{
	struct xlb_decap_source src[8];
	char err[XLB_ERR_LEN];
	size_t i;
	int ret;

	cr_assert_leq(n, 8);
	for (i = 0; i < n; i++)
		cr_assert_eq(
			xlb_prefix_parse(from[i], &src[i].net, &src[i].plen), 0,
			"bad prefix %s", from[i]);
	skel = decap_bpf__open_and_load();
	cr_assert_not_null(skel, "loading decap: %s", strerror(errno));
	ret = xlb_decap_fill(skel, src, n, err, sizeof(err));
	cr_assert_eq(ret, 0, "xlb_decap_fill: %s", err);
}

static void decap_setup(void)
{
	static const char *const from[] = {TUN4, TUN6};

	h_setup();
	decap_load(from, 2);
}

static void decap_teardown(void)
{
	decap_bpf__destroy(skel);
	skel = NULL;
	h_teardown();
}

/* Sum of decap_stats[reason] over every CPU. */
static uint64_t decap_count(uint32_t reason)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t vals[ncpu], sum = 0;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.decap_stats),
					 &reason, vals),
		     0);
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

/* Run in through the decap program; *reason: the one counter moved. */
static void decap_run(const struct pkt *in, uint32_t *verdict, uint8_t *out,
		      uint32_t *out_len, uint32_t *reason)
{
	uint64_t before[XLB_DECAP_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->buf,
		    .data_size_in = in->len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);
	uint32_t r;
	int moved = 0;

	for (r = 0; r < XLB_DECAP_MAX; r++)
		before[r] = decap_count(r);
	cr_assert_eq(bpf_prog_test_run_opts(
			     bpf_program__fd(skel->progs.xlb_decap), &opts),
		     0, "BPF_PROG_TEST_RUN: %s", strerror(errno));
	*verdict = opts.retval;
	*out_len = opts.data_size_out;
	for (r = 0; r < XLB_DECAP_MAX; r++) {
		uint64_t d = decap_count(r) - before[r];

		if (!d)
			continue;
		cr_assert_eq(d, 1, "%s moved by %llu", decap_reason_names[r],
			     (unsigned long long)d);
		*reason = r;
		moved++;
	}
	cr_assert_eq(moved, 1, "%d decap counters moved, want 1", moved);
}

struct decap_case {
	const char *name;
	struct pkt_spec inner;
	struct pkt_outer outer; /* family 0: the inner packet alone */
	uint32_t verdict;
	uint32_t reason;
};

#define INNER4                                                               \
	{                                                                    \
		.family = AF_INET, .saddr = "192.0.2.10",                    \
		.daddr = "10.100.0.1", .proto = IPPROTO_TCP, .sport = 40000, \
		.dport = 80, .tcp_flags = PKT_SYN, .payload_len = 10,        \
	}
#define INNER6                                                                \
	{                                                                     \
		.family = AF_INET6, .saddr = "2001:db8::10",                  \
		.daddr = "fd00:100::1", .proto = IPPROTO_TCP, .sport = 40000, \
		.dport = 80, .tcp_flags = PKT_SYN, .payload_len = 10,         \
	}

static const struct decap_case cases[] = {
	{"IPIP from the balancers' prefix",
	 INNER4,
	 {.family = AF_INET, .saddr = "172.16.3.7", .daddr = LOCAL4},
	 XDP_PASS,
	 XLB_DECAP_OK},
	{"IPIP from the prefix's first address",
	 INNER4,
	 {.family = AF_INET, .saddr = "172.16.0.0", .daddr = LOCAL4},
	 XDP_PASS,
	 XLB_DECAP_OK},
	{"IPIP from another source",
	 INNER4,
	 {.family = AF_INET, .saddr = "10.0.0.99", .daddr = LOCAL4},
	 XDP_DROP,
	 XLB_DECAP_DROP_SOURCE},
	{"IPIP from just outside the prefix",
	 INNER4,
	 {.family = AF_INET, .saddr = "172.17.0.1", .daddr = LOCAL4},
	 XDP_DROP,
	 XLB_DECAP_DROP_SOURCE},
	{"IP6IP6 from the balancers' prefix",
	 INNER6,
	 {.family = AF_INET6, .saddr = "fc00:2::ac10:5", .daddr = LOCAL6},
	 XDP_PASS,
	 XLB_DECAP_OK},
	{"4in6 from the balancers' prefix",
	 INNER4,
	 {.family = AF_INET6, .saddr = "fc00:2::1", .daddr = LOCAL6},
	 XDP_PASS,
	 XLB_DECAP_OK},
	{"6in4 from the balancers' prefix",
	 INNER6,
	 {.family = AF_INET, .saddr = "172.16.255.255", .daddr = LOCAL4},
	 XDP_PASS,
	 XLB_DECAP_OK},
	{"IP6IP6 from another source",
	 INNER6,
	 {.family = AF_INET6, .saddr = "fd00::99", .daddr = LOCAL6},
	 XDP_DROP,
	 XLB_DECAP_DROP_SOURCE},
	{"IPv6 outer from just outside the prefix",
	 INNER4,
	 {.family = AF_INET6, .saddr = "fc00:2::1:0:0", .daddr = LOCAL6},
	 XDP_DROP,
	 XLB_DECAP_DROP_SOURCE},
	{"IPv6 outer from the IPv4-mapped form of an allowed source",
	 INNER4,
	 {.family = AF_INET6, .saddr = "::ffff:172.16.3.7", .daddr = LOCAL6},
	 XDP_DROP,
	 XLB_DECAP_DROP_SOURCE},
	/* Not addressed to this host: the stack's business, untouched,
	 * whatever its source. */
	{"IPIP to another host from another source",
	 INNER4,
	 {.family = AF_INET, .saddr = "10.0.0.99", .daddr = "10.9.9.9"},
	 XDP_PASS,
	 XLB_DECAP_PASS_NOT_LOCAL},
	{"plain TCP from another source",
	 {.family = AF_INET,
	  .saddr = "10.0.0.99",
	  .daddr = LOCAL4,
	  .proto = IPPROTO_TCP,
	  .sport = 1234,
	  .dport = 22,
	  .tcp_flags = PKT_SYN},
	 {0},
	 XDP_PASS,
	 XLB_DECAP_PASS_NOT_TUNNEL},
};

/* The frame the case sends, and the one it expects back. */
static void case_frames(const struct decap_case *c, struct pkt *in,
			struct pkt *want)
{
	cr_assert_eq(pkt_build(want, &c->inner), 0, "%s: cannot build",
		     c->name);
	*in = *want;
	if (c->outer.family)
		cr_assert_eq(pkt_encap(in, &c->outer), 0, "%s: cannot encap",
			     c->name);
	if (c->reason != XLB_DECAP_OK)
		*want = *in;
}

ParameterizedTestParameters(decap, table)
{
	static int idx[sizeof(cases) / sizeof(cases[0])];
	size_t i;

	for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(int *i, decap, table, .init = decap_setup,
		  .fini = decap_teardown)
{
	const struct decap_case *c = &cases[*i];
	uint32_t verdict, reason, out_len;
	static uint8_t out[PKT_MAX];
	struct pkt in, want;

	case_frames(c, &in, &want);
	decap_run(&in, &verdict, out, &out_len, &reason);
	cr_expect_eq(verdict, c->verdict, "%s: verdict %u, want %u", c->name,
		     verdict, c->verdict);
	cr_expect_eq(reason, c->reason, "%s: reason %s, want %s", c->name,
		     decap_reason_names[reason], decap_reason_names[c->reason]);
	if (out_len != want.len || memcmp(out, want.buf, want.len)) {
		pkt_hexdump_diff(out, out_len, want.buf, want.len);
		cr_assert_fail("%s: output differs (got %u bytes, want %zu)",
			       c->name, out_len, want.len);
	}
}

/* Only an IPv4 prefix: no IPv6 outer source is accepted at all. */
Test(decap, ipv4_prefix_only, .init = h_setup, .fini = decap_teardown)
{
	static const char *const from[] = {TUN4};
	const struct decap_case c6 = {
		"IP6IP6, no IPv6 prefix",
		INNER6,
		{.family = AF_INET6, .saddr = "fc00:2::1", .daddr = LOCAL6},
		XDP_DROP,
		XLB_DECAP_DROP_SOURCE};
	const struct decap_case c4 = {
		"IPIP",
		INNER4,
		{.family = AF_INET, .saddr = "172.16.9.9", .daddr = LOCAL4},
		XDP_PASS,
		XLB_DECAP_OK};
	uint32_t verdict, reason, out_len;
	static uint8_t out[PKT_MAX];
	struct pkt in, want;

	decap_load(from, 1);
	case_frames(&c6, &in, &want);
	decap_run(&in, &verdict, out, &out_len, &reason);
	cr_expect_eq(verdict, XDP_DROP);
	cr_expect_eq(reason, XLB_DECAP_DROP_SOURCE, "reason %s",
		     decap_reason_names[reason]);
	case_frames(&c4, &in, &want);
	decap_run(&in, &verdict, out, &out_len, &reason);
	cr_expect_eq(verdict, XDP_PASS);
	cr_expect_eq(reason, XLB_DECAP_OK, "reason %s",
		     decap_reason_names[reason]);
	cr_expect_eq(out_len, want.len);
	cr_expect_eq(memcmp(out, want.buf, want.len), 0, "inner differs");
}

/* --from any: 0.0.0.0/0 and ::/0 take every source of both families. */
Test(decap, any_source, .init = h_setup, .fini = decap_teardown)
{
	static const char *const from[] = {"0.0.0.0/0", "::/0"};
	const struct decap_case cs[] = {
		{"IPIP from anywhere",
		 INNER4,
		 {.family = AF_INET, .saddr = "198.51.100.1", .daddr = LOCAL4},
		 XDP_PASS,
		 XLB_DECAP_OK},
		{"IP6IP6 from anywhere",
		 INNER6,
		 {.family = AF_INET6,
		  .saddr = "2001:db8:ffff::1",
		  .daddr = LOCAL6},
		 XDP_PASS,
		 XLB_DECAP_OK},
	};
	uint32_t verdict, reason, out_len;
	static uint8_t out[PKT_MAX];
	struct pkt in, want;
	size_t i;

	decap_load(from, 2);
	for (i = 0; i < 2; i++) {
		case_frames(&cs[i], &in, &want);
		decap_run(&in, &verdict, out, &out_len, &reason);
		cr_expect_eq(verdict, XDP_PASS, "%s", cs[i].name);
		cr_expect_eq(reason, XLB_DECAP_OK, "%s: reason %s", cs[i].name,
			     decap_reason_names[reason]);
		cr_expect_eq(out_len, want.len, "%s", cs[i].name);
		cr_expect_eq(memcmp(out, want.buf, want.len), 0,
			     "%s: inner differs", cs[i].name);
	}
}

/* No source at all is refused before anything is loaded into the map. */
Test(decap, no_source_is_refused, .init = h_setup, .fini = decap_teardown)
{
	char err[XLB_ERR_LEN] = "";
	int ret;

	skel = decap_bpf__open_and_load();
	cr_assert_not_null(skel);
	ret = xlb_decap_fill(skel, NULL, 0, err, sizeof(err));
	cr_expect_eq(ret, -EINVAL);
	cr_expect(strstr(err, "tunnel_source"), "%s", err);
}
