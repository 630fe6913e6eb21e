// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The address filter in front of vip_addrs (addr_filter, xlb_abi.h): an
 * address that shares a VIP's filter slot is still not ours, a VIP's
 * port without a VIP is passed, and once the last VIP and local address
 * of a slot are gone the slot is clear again, with the same verdicts.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <criterion/criterion.h>

#include "harness.h"
#include "xlb_hash.h"

#define VIP_ADDR "10.100.0.1"
#define VIP	 VIP_ADDR ":80/tcp"
#define REAL	 "10.1.0.2"
#define CLIENT	 "192.0.2.10"

static uint32_t slot_of(const char *addr)
{
	uint32_t a[4] = {0};

	cr_assert_eq(inet_pton(AF_INET, addr, a), 1);
	return xlb_addr_slot(a);
}

/* The filter's 2 bits of an address's slot, read from the map. */
static uint32_t filter_bits(const char *addr)
{
	uint32_t slot = slot_of(addr), word = slot / 32;
	uint64_t w = 0;

	cr_assert_eq(bpf_map_lookup_elem(xlb_dp_map_fd(h_dp, "addr_filter"),
					 &word, &w),
		     0);
	return (w >> ((slot % 32) * 2)) & 3;
}

/* An IPv4 address other than addr in the same filter slot. */
static void slot_twin(const char *addr, char *buf, size_t len)
{
	uint32_t want = slot_of(addr), i;

	for (i = 1; i < (1u << 24); i++) {
		snprintf(buf, len, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255,
			 i & 255);
		if (strcmp(buf, addr) && slot_of(buf) == want)
			return;
	}
	cr_assert_fail("no address shares %s's slot", addr);
}

static enum xlb_reason send_tcp(const char *saddr, const char *daddr,
				uint16_t dport)
{
	struct pkt_spec spec = {
		.family = AF_INET,
		.saddr = saddr,
		.daddr = daddr,
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = dport,
		.tcp_flags = PKT_SYN,
	};
	struct h_result res;
	struct pkt in;

	cr_assert_eq(pkt_build(&in, &spec), 0);
	h_run(&in, &res);
	return res.reason;
}

TestSuite(addr_filter, .init = h_setup, .fini = h_teardown);

Test(addr_filter, follows_vips_and_local_addresses)
{
	struct xlb_service svc;
	char err[XLB_ERR_LEN], twin[32];

	slot_twin(VIP_ADDR, twin, sizeof(twin));
	cr_assert_eq(filter_bits(VIP_ADDR), 0, "empty at start");
	h_vip(VIP, XLB_HASH_MAGLEV, 65537);
	h_real(VIP, REAL, 100);
	cr_assert_eq(filter_bits(VIP_ADDR), XLB_FILTER_VIP);
	cr_assert_eq(send_tcp(CLIENT, VIP_ADDR, 80), XLB_R_FWD_REDIRECT);
	/* Maybe ours by the filter, not ours by vip_addrs. */
	cr_assert_eq(send_tcp(CLIENT, twin, 80), XLB_R_PASS_NOT_VIP);
	/* Ours, but no VIP on that port: the general path says so. */
	cr_assert_eq(send_tcp(CLIENT, VIP_ADDR, 81), XLB_R_PASS_NOT_VIP);
	/* A source that is ours is still refused on the quick path, and
	 * a source sharing its slot is not. */
	cr_assert_eq(send_tcp(VIP_ADDR, VIP_ADDR, 80), XLB_R_DROP_SRC_OURS);
	cr_assert_eq(send_tcp(twin, VIP_ADDR, 80), XLB_R_FWD_REDIRECT);
	/* A local address in the same slot: both kinds, then one again. */
	h_laddr(twin);
	cr_assert_eq(filter_bits(VIP_ADDR), XLB_FILTER_VIP | XLB_FILTER_LOCAL);
	cr_assert_eq(send_tcp(CLIENT, VIP_ADDR, 80), XLB_R_FWD_REDIRECT);
	cr_assert_eq(send_tcp(twin, VIP_ADDR, 80), XLB_R_DROP_SRC_OURS);
	h_laddr_del(twin);
	cr_assert_eq(filter_bits(VIP_ADDR), XLB_FILTER_VIP);
	/* The last VIP of the address gone: the slot is clear. */
	cr_assert_eq(xlb_service_parse(VIP, &svc), 0);
	cr_assert_eq(xlb_vip_del(h_agent, &svc, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(filter_bits(VIP_ADDR), 0);
	cr_assert_eq(send_tcp(CLIENT, VIP_ADDR, 80), XLB_R_PASS_NOT_VIP);
}
