// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench only: the traffic generator. Run by BPF_PROG_RUN in live-frames
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES): run k is flow n = k % gen_nflows, from
 * client address gen_base + n % gen_naddrs and source port
 * BENCH_PORT_BASE + n / gen_naddrs (consecutive frames come from different
 * clients), or with gen_random a flow drawn at random each run (the
 * flood test's spoofed sources). It fixes the checksums and is
 * redirected out of the generator's veth, towards the node under test.
 *
 * In live-frames mode the kernel recycles frames without copying the
 * template in again, and whoever received a frame may have rewritten it
 * in place (XLB's encapsulation moves the Ethernet header, the kernel's
 * DNAT rewrites the destination and decrements the TTL). So every run
 * copies the whole template back in first, and the checksums are
 * computed from the template's values, never from what the frame held.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench_abi.h"

/* Set by the bench before load. Template fields in network order. */
const volatile __u32 gen_ifindex;
const volatile __u32 gen_nflows = 1;
const volatile __u32 gen_naddrs = 1;
const volatile __u32 gen_base;	      /* first client address, host order */
const volatile __u32 gen_l4_csum_off; /* 0: no L4 checksum to fix */
const volatile __u32 gen_random;      /* 1: flow n drawn at random */
const volatile __be32 tmpl_saddr;
const volatile __be16 tmpl_sport;
const volatile __u16 tmpl_ip_csum;
const volatile __u16 tmpl_l4_csum;
const volatile __u8 tmpl[BENCH_GEN_LEN];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gen_runs SEC(".maps");

/* RFC 1624: a ones' complement sum after words were replaced. */
static __always_inline __u16 csum_replace(__u16 check, __u32 old_words,
					  __u32 new_words)
{
	__u32 sum = (__u16)~check + old_words + new_words;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Sum of the 16-bit words of a 32-bit value, complemented or not. */
static __always_inline __u32 words(__u32 v, int complement)
{
	if (complement)
		v = ~v;
	return (v & 0xffff) + (v >> 16);
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, n, *runs, old, new;
	__u16 csum;
	__be32 saddr;
	__be16 sport;

	if (bpf_xdp_store_bytes(ctx, 0, (void *)tmpl, BENCH_GEN_LEN))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + BENCH_OFF_TCPCSUM + sizeof(__u16) > data_end)
		return XDP_ABORTED;
	runs = bpf_map_lookup_elem(&gen_runs, &zero);
	if (!runs)
		return XDP_ABORTED;
	n = (*runs)++ % gen_nflows;
	if (gen_random)
		n = bpf_get_prandom_u32() % gen_nflows;
	saddr = bpf_htonl(gen_base + n % gen_naddrs);
	sport = bpf_htons(BENCH_PORT_BASE + n / gen_naddrs);

	*(__be32 *)(data + BENCH_OFF_SADDR) = saddr;
	*(__be16 *)(data + BENCH_OFF_SPORT) = sport;
	old = words(tmpl_saddr, 1);
	new = words(saddr, 0);
	*(__u16 *)(data + BENCH_OFF_IPCSUM) =
		csum_replace(tmpl_ip_csum, old, new);
	if (gen_l4_csum_off == BENCH_OFF_TCPCSUM ||
	    gen_l4_csum_off == BENCH_OFF_UDPCSUM) {
		/* The pseudo-header holds the address, the header the port. */
		old += (__u16)~tmpl_sport;
		new += sport;
		csum = csum_replace(tmpl_l4_csum, old, new);
		/* UDP sends a computed 0 as all ones (0 = no checksum). */
		if (!csum && gen_l4_csum_off == BENCH_OFF_UDPCSUM)
			csum = 0xffff;
		*(__u16 *)(data + gen_l4_csum_off) = csum;
	}
	return bpf_redirect(gen_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
