/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* csum.h: Internet checksums. */
#ifndef XLB_BPF_CSUM_H
#define XLB_BPF_CSUM_H

#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Header checksum of an option-less IPv4 header whose check field is 0. */
static __always_inline __u16 ipv4_hdr_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return csum_fold(sum);
}

/*
 * Incremental updates (RFC 1624): collect the differences of every word
 * that changes in an accumulator, then apply it to a checksum field.
 * Words are taken as they lie in the packet, so byte order never matters.
 */
static __always_inline __u32 csum_diff16(__u32 acc, __u16 from, __u16 to)
{
	return acc + (__u16)~from + to;
}

static __always_inline __u32 csum_diff32(__u32 acc, __u32 from, __u32 to)
{
	acc = csum_diff16(acc, from & 0xffff, to & 0xffff);
	return csum_diff16(acc, from >> 16, to >> 16);
}

static __always_inline __u32 csum_diff_addr(__u32 acc, const __be32 *from,
					    const __be32 *to, int words)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		if (i < words)
			acc = csum_diff32(acc, from[i], to[i]);
	return acc;
}

/* The checksum field's new value after the differences in acc. */
static __always_inline __u16 csum_apply(__u16 check, __u32 acc)
{
	return csum_fold(acc + (__u16)~check);
}

#endif /* XLB_BPF_CSUM_H */
