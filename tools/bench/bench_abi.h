/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmark's BPF programs (tools/bench/bpf/bench_*.bpf.c) and the
 * benchmark itself (tools/bench/) share: map values, limits, the frame layout
 * they rewrite and the flow numbering. Bench only; the balancer never sees it.
 */
#ifndef XLB_BENCH_ABI_H
#define XLB_BENCH_ABI_H

#include <linux/types.h>

/* Frames are Ethernet + IPv4 (no options) + TCP/UDP, 64..100 bytes. */
#define BENCH_FRAME_MIN	  60
#define BENCH_FRAME_MAX	  128
#define BENCH_GEN_LEN	  64 /* the generator's frames */
#define BENCH_OFF_SADDR	  26 /* IPv4 source address */
#define BENCH_OFF_IPCSUM  24 /* IPv4 header checksum */
#define BENCH_OFF_SPORT	  34 /* TCP/UDP source port */
#define BENCH_OFF_TCPCSUM 50
#define BENCH_OFF_UDPCSUM 40

/*
 * Flow number -> client: address base + n / 16384, port 16384 + n % 16384.
 * The programs and the bench compute the same clients from the same n.
 */
#define BENCH_PORT_SHIFT 14
#define BENCH_PORT_BASE	 16384

static inline __u32 bench_flow_saddr(__u32 base, __u32 n)
{
	return base + (n >> BENCH_PORT_SHIFT);
}

static inline __u16 bench_flow_sport(__u32 n)
{
	return BENCH_PORT_BASE + (n & ((1u << BENCH_PORT_SHIFT) - 1));
}

/*
 * The wrapper's per-CPU state (bench_wrapper.bpf.c): the frame every run
 * starts from, and which client it gets. Run k of a test run uses flow
 * number first + k (modulo nflows when nflows is not 0).
 */
struct bench_wrap_cfg {
	__u32 len;    /* bytes of frame[] */
	__u32 vary;   /* 1: write the run's client address and port */
	__u32 base;   /* client address of flow 0, host order */
	__u32 first;  /* flow number of run 0 */
	__u32 nflows; /* 0: every run a new flow number */
	__u32 runs;   /* runs so far; the program counts, the bench resets */
	__u8 frame[BENCH_FRAME_MAX];
};

/* The sink's counters (bench_sink.bpf.c), per CPU. */
enum bench_sink_counter {
	BENCH_SINK_ALL = 0, /* every frame that arrived */
	BENCH_SINK_REAL,    /* IPv4, destination in the reals' prefix */
	BENCH_SINK_MAX,
};

#endif /* XLB_BENCH_ABI_H */
