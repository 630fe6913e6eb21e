// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Known answers of xlb_flow_hash. The hash picks a flow's ring slot and
 * its outer source on every node of a cluster, so nodes running different
 * versions must agree: a change of these values moves live flows and is a
 * compatibility break, to be made on purpose (and said in the release
 * notes), never by accident. The values were taken from the hash as
 * released; the data-path twin (datapath/outer_source_known_answer) pins
 * what the compiled program does with them.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "xlb_hash.h"

struct hash_case {
	const char *client;
	uint16_t sport, dport;
	uint8_t proto;
	int src_only;
	uint32_t want;
};

static const struct hash_case cases[] = {
	{"192.0.2.1", 40000, 80, IPPROTO_TCP, 0, 0xa95f2210},
	{"192.0.2.1", 40000, 80, IPPROTO_TCP, 1, 0xc6a91034},
	{"192.0.2.1", 40001, 80, IPPROTO_TCP, 0, 0xfbc24c0d},
	{"192.0.2.1", 40000, 53, IPPROTO_UDP, 0, 0x8cc7bae3},
	{"198.51.100.77", 1, 65535, IPPROTO_TCP, 0, 0xcf3b23f8},
	{"0.0.0.0", 0, 0, 0, 0, 0x6bc63154},
	{"2001:db8::1", 40000, 80, IPPROTO_TCP, 0, 0xced9376f},
	{"2001:db8::1", 40000, 80, IPPROTO_TCP, 1, 0x7bee23d9},
	{"fd00::ffff:1", 65535, 443, IPPROTO_UDP, 0, 0x70b8dcc3},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

ParameterizedTestParameters(hash, known_answers)
{
	static int idx[N_CASES];
	size_t i;

	for (i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(int, idx, N_CASES);
}

/* The client address as maps hold it (IPv4 in word 0), ports as the
 * data plane reads them: sport << 16 | dport, each in network order. */
ParameterizedTest(int *i, hash, known_answers)
{
	const struct hash_case *c = &cases[*i];
	uint32_t saddr[4] = {}, ports;

	if (inet_pton(AF_INET, c->client, saddr) != 1)
		cr_assert_eq(inet_pton(AF_INET6, c->client, saddr), 1);
	ports = ((uint32_t)htons(c->sport) << 16) | htons(c->dport);
	cr_expect_eq(
		xlb_flow_hash(saddr, ports, c->proto, c->src_only), c->want,
		"%s %u->%u proto %u src_only %d: 0x%08x, want 0x%08x",
		c->client, c->sport, c->dport, c->proto, c->src_only,
		xlb_flow_hash(saddr, ports, c->proto, c->src_only), c->want);
}

/* Source-IP affinity: ports and protocol do not move the hash. */
Test(hash, src_only_ignores_ports)
{
	uint32_t saddr[4] = {htonl(0xc0000201)};

	cr_expect_eq(xlb_flow_hash(saddr, 1, IPPROTO_TCP, 1),
		     xlb_flow_hash(saddr, 0xffffffffu, IPPROTO_UDP, 1));
	cr_expect_neq(xlb_flow_hash(saddr, 1, IPPROTO_TCP, 0),
		      xlb_flow_hash(saddr, 2, IPPROTO_TCP, 0));
}
