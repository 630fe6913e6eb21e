// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench only: the balancer under BPF_PROG_TEST_RUN with repeat > 1.
 *
 * The kernel runs the program repeat times on one buffer and does not put
 * the frame back between runs, so run 2 would see run 1's encapsulated
 * packet. bench_wrap_xlb first undoes that (moves the head back and copies
 * the original bytes in again), optionally gives the run its own client
 * address and port, and then runs the balancer: process(), count_reason()
 * and reason_verdict() compiled from bpf/xlb.bpf.c itself, which is
 * included whole. bench_wrap_noop does the same restoring and nothing
 * else: its cost is the wrapper's own, which the bench subtracts.
 *
 * The balancer's maps are the ones the agent filled: the bench loads this
 * object with bpf_map__reuse_fd() on every one of them. xlb_balancer, the
 * balancer's own entry point, comes along with the include; the bench
 * does not load it.
 */
#include "xlb.bpf.c"

#include "bench_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_wrap_cfg);
} bench_cfg SEC(".maps");

/* Put the original frame back and give it this run's client. */
static __always_inline int bench_restore(struct xdp_md *ctx)
{
	struct bench_wrap_cfg *cfg;
	void *data, *data_end;
	__u32 zero = 0, n, len;
	long delta;

	cfg = bpf_map_lookup_elem(&bench_cfg, &zero);
	if (!cfg)
		return -1;
	len = cfg->len;
	if (len < BENCH_FRAME_MIN || len > BENCH_FRAME_MAX)
		return -1;
	/* The balancer only ever grows the head: the length difference
	 * is how far to move it back. Called with 0 too, so every run
	 * costs the same. */
	delta = (long)ctx->data_end - (long)ctx->data - (long)len;
	if (bpf_xdp_adjust_head(ctx, delta))
		return -1;
	if (bpf_xdp_store_bytes(ctx, 0, cfg->frame, len))
		return -1;
	/* Flow numbers wrap within the live set: first is where this run
	 * starts in it, not an offset past its end. */
	n = cfg->first + cfg->runs;
	if (cfg->nflows)
		n %= cfg->nflows;
	cfg->runs++;
	if (!cfg->vary)
		return 0;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + BENCH_OFF_SPORT + sizeof(__be16) > data_end)
		return -1;
	*(__be32 *)(data + BENCH_OFF_SADDR) =
		bpf_htonl(bench_flow_saddr(cfg->base, n));
	*(__be16 *)(data + BENCH_OFF_SPORT) = bpf_htons(bench_flow_sport(n));
	return 0;
}

/* The balancer, on the restored frame (xlb_balancer's body). */
SEC("xdp")
int bench_wrap_xlb(struct xdp_md *ctx)
{
	__u32 reason;

	if (bench_restore(ctx))
		return XDP_ABORTED;
	reason = process(ctx);
	count_reason(reason);
	return reason_verdict(reason);
}

/* The wrapper alone: what bench_wrap_xlb costs beyond the balancer. */
SEC("xdp")
int bench_wrap_noop(struct xdp_md *ctx)
{
	if (bench_restore(ctx))
		return XDP_ABORTED;
	return XDP_TX;
}
