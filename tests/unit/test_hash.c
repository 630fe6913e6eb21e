// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Known answers of the hashes every node of a cluster must compute alike:
 * xlb_flow_hash picks a new flow's ring slot (a change moves live flows
 * between reals in a mixed-version cluster), xlb_tun_hash the tunnel's
 * outer source, GUE port and flow label (a change moves a flow between
 * the reals' receive queues), xlb_addr_slot an address's slot in the
 * data plane's address filter. A change of these values is a
 * compatibility break, made on purpose and said in docs/OPERATIONS.md's
 * upgrade notes, never by accident. The data-path twin
 * (datapath/outer_source_known_answer) pins what the compiled program
 * does with them.
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
	uint32_t flow, tun; /* xlb_flow_hash, xlb_tun_hash */
	uint16_t slot;	    /* xlb_addr_slot of the client */
};

static const struct hash_case cases[] = {
	{"192.0.2.1", 40000, 80, IPPROTO_TCP, 0, 0xa95f2210, 0x42df912e,
	 0x4dfd},
	{"192.0.2.1", 40000, 80, IPPROTO_TCP, 1, 0xc6a91034, 0xf23bdbed,
	 0x4dfd},
	{"192.0.2.1", 40001, 80, IPPROTO_TCP, 0, 0xfbc24c0d, 0x20e06780,
	 0x4dfd},
	{"192.0.2.1", 40000, 53, IPPROTO_UDP, 0, 0x8cc7bae3, 0xadce4f9e,
	 0x4dfd},
	{"198.51.100.77", 1, 65535, IPPROTO_TCP, 0, 0xcf3b23f8, 0x2f9373f9,
	 0x324a},
	{"0.0.0.0", 0, 0, 0, 0, 0x6bc63154, 0x5e0db136, 0x0000},
	{"2001:db8::1", 40000, 80, IPPROTO_TCP, 0, 0xced9376f, 0x4f2db5bd,
	 0xeab4},
	{"2001:db8::1", 40000, 80, IPPROTO_TCP, 1, 0x7bee23d9, 0xff62949a,
	 0xeab4},
	{"fd00::ffff:1", 65535, 443, IPPROTO_UDP, 0, 0x70b8dcc3, 0xc467e794,
	 0x051f},
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
	cr_expect_eq(xlb_flow_hash(saddr, ports, c->proto, c->src_only),
		     c->flow, "flow hash of %s %u->%u proto %u src_only %d",
		     c->client, c->sport, c->dport, c->proto, c->src_only);
	cr_expect_eq(xlb_tun_hash(saddr, ports, c->proto, c->src_only), c->tun,
		     "tunnel hash of %s %u->%u proto %u src_only %d", c->client,
		     c->sport, c->dport, c->proto, c->src_only);
	cr_expect_eq(xlb_addr_slot(saddr), c->slot, "slot of %s", c->client);
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
