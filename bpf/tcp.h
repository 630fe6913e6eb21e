/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* tcp.h: TCP header work: the MSS clamp. */
#ifndef XLB_BPF_TCP_H
#define XLB_BPF_TCP_H

#include <linux/bpf.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>

#include "csum.h"
#include "parse.h"

#define XLB_TCPOPT_EOL	 0
#define XLB_TCPOPT_NOP	 1
#define XLB_TCPOPT_MSS	 2
#define XLB_TCP_MAX_OPTS 12   /* options walked before giving up */
#define XLB_L4_OFF_MAX	 1024 /* deeper headers are not rewritten */

/*
 * Lower the MSS option of the TCP segment at l4_off to mss if it is
 * larger. A malformed or unusual option list leaves the segment as it is.
 * A global function: the verifier checks its option walk once, not once
 * for every state of its callers. Returns 0.
 */
__noinline int tcp_clamp_mss(struct xdp_md *ctx, __u32 l4_off, __u32 mss)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be16 *val, old, new;
	struct tcphdr *th;
	__u8 *opt, *opt_end;
	__u8 kind, len;
	__u32 acc;
	int i;

	if (l4_off > XLB_L4_OFF_MAX)
		return 0;
	th = data + l4_off;
	if ((void *)(th + 1) > end)
		return 0;
	opt = (__u8 *)(th + 1);
	opt_end = (__u8 *)th + th->doff * 4;
	for (i = 0; i < XLB_TCP_MAX_OPTS; i++) {
		if (opt + 1 > opt_end || (void *)(opt + 1) > end)
			return 0;
		kind = opt[0];
		if (kind == XLB_TCPOPT_EOL)
			return 0;
		if (kind == XLB_TCPOPT_NOP) {
			opt++;
			continue;
		}
		if (opt + 2 > opt_end || (void *)(opt + 2) > end)
			return 0;
		len = opt[1];
		if (len < 2)
			return 0;
		if (kind != XLB_TCPOPT_MSS) {
			opt += len;
			continue;
		}
		if (len != 4 || opt + 4 > opt_end || (void *)(opt + 4) > end)
			return 0;
		val = (__be16 *)(opt + 2);
		old = *val;
		if (bpf_ntohs(old) <= mss)
			return 0;
		new = bpf_htons(mss);
		/* A field at an odd offset adds to the sum byte-swapped. */
		if (((void *)val - (void *)th) & 1)
			acc = csum_diff16(0, __builtin_bswap16(old),
					  __builtin_bswap16(new));
		else
			acc = csum_diff16(0, old, new);
		th->check = csum_apply(th->check, acc);
		*val = new;
		return 0;
	}
	return 0;
}

#endif /* XLB_BPF_TCP_H */
