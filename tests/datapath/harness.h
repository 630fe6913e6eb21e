/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Data-path test harness: every test process gets its own network
 * namespace with veths, routes and static neighbours, the real compiled
 * balancer loaded through the agent's maps.c, and VIPs written by the
 * agent's own state.c. Packets go through BPF_PROG_TEST_RUN.
 */
#ifndef XLB_TEST_HARNESS_H
#define XLB_TEST_HARNESS_H

#include <stdint.h>

#include "agent.h"
#include "maps.h"
#include "pkt.h"

/* The lab inside each test's namespace. */
#define H_IF_CLIENT  "xt0"		 /* ingress; 10.0.0.1/24, fd00::1/64 */
#define H_IF_REALS   "xt2"		 /* 10.1.0.1/24, fd01::1/64 */
#define H_MAC_CLIENT "02:00:00:00:00:10" /* xt0 */
#define H_MAC_REALS  "02:00:00:00:00:12" /* xt2 */
#define H_MAC_REAL2  "02:00:00:00:01:02" /* 10.1.0.2 and fd01::2 */
#define H_MAC_REAL3  "02:00:00:00:01:03" /* 10.1.0.3 and fd01::3 */
#define H_MAC_REAL4  "02:00:00:00:01:04" /* 10.1.0.4 and fd01::4 */
#define H_MAC_REAL5  "02:00:00:00:01:05" /* 10.1.0.5 and fd01::5 */
#define H_MAC_REAL6  "02:00:00:00:01:06" /* 10.1.0.6 and fd01::6 */
#define H_MAC_TXREAL "02:00:00:00:00:09" /* 10.0.0.9, on the ingress side */

struct h_result {
	uint32_t retval;
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	enum xlb_reason reason; /* the one reason counter that moved */
	int n_reasons_moved;
};

extern struct xlb_dp *h_dp;
extern struct xlb_agent *h_agent;

/* Build the namespace and load the program (criterion .init). */
void h_setup(void);
/* Free everything; the namespace dies with the test process. */
void h_teardown(void);

/* Run one frame through the program, ingress H_IF_CLIENT. */
void h_run(const struct pkt *in, struct h_result *res);
/* The same, on a given CPU (the calling thread is pinned to it). */
void h_run_on_cpu(const struct pkt *in, struct h_result *res, int cpu);

/* Agent operations that must succeed. */
void h_vip(const char *vip, enum xlb_hash_mode hash, uint32_t table_size);
void h_real(const char *vip, const char *real, uint32_t weight);
void h_real_del(const char *vip, const char *real);
void h_weight(const char *vip, const char *real, uint32_t weight);
void h_health(const char *vip, const char *real, bool up);
void h_drain(const char *vip, const char *real, bool drain);

/* Counters of a VIP or of one of its reals, summed over CPUs. */
void h_vip_counters(const char *vip, struct xlb_counters *c);
void h_real_counters(const char *vip, const char *real, struct xlb_counters *c);

/* The outer source address the program gives this flow (a string). */
void h_tunnel_src(int real_family, const char *client, uint16_t sport,
		  uint16_t dport, uint8_t proto, bool src_only, char *buf,
		  size_t len);
uint32_t h_flow_hash(const char *client, uint16_t sport, uint16_t dport,
		     uint8_t proto, bool src_only);

/* The outer destination of an encapsulated output frame, as a string. */
const char *h_out_real(const struct h_result *res, char *buf, size_t len);

#endif /* XLB_TEST_HARNESS_H */
