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
/* The upstream router (the source of client frames, PKT_MAC_CLIENT):
 * 10.0.0.2 and fd00::2 on xt0, the route to the clients of h_nat_setup(). */
#define H_MAC_ROUTER "02:00:00:00:00:01"

struct h_result {
	uint32_t retval;
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	enum xlb_reason reason; /* the one reason counter that moved */
	int n_reasons_moved;
};

extern struct xlb_dp *h_dp;
extern struct xlb_agent *h_agent;

/* Settings of the program h_setup() loads next (call before it): the
 * flood guard's rate (default: the agent's); a VLAN id balanced on both
 * interfaces, or on one (H_IF_CLIENT or H_IF_REALS), written to the
 * vlans map as xlbd does. */
void h_opt_flood_guard(uint32_t rate);
void h_opt_vlan(uint16_t vid);
void h_opt_vlan_if(const char *ifname, uint16_t vid);

/* Build the namespace and load the program (criterion .init). */
void h_setup(void);
/* Free everything; the namespace dies with the test process. */
void h_teardown(void);

/* Run one frame through the program, ingress H_IF_CLIENT. */
void h_run(const struct pkt *in, struct h_result *res);
/* The same, on a given CPU (the calling thread is pinned to it). */
void h_run_on_cpu(const struct pkt *in, struct h_result *res, int cpu);
/* The same, received by interface ifname; cpu < 0: wherever it runs. */
void h_run_if(const struct pkt *in, struct h_result *res, int cpu,
	      const char *ifname);

/*
 * FULLNAT lab (criterion .init): h_setup(), then routes to the clients
 * (192.0.2.0/24 via 10.0.0.2, 2001:db8::/32 via fd00::2, both on xt0,
 * neighbour H_MAC_ROUTER), and xt0 and xt2 in the tx_ports devmap as
 * xlbd does for the interfaces it attaches to, and a route epoch (the
 * replies keep their next hop; a test that changes routes or neighbours
 * mid-session moves it on, as xlbd would). No pool, no VIPs.
 */
void h_nat_setup(void);
/* The same with a session table of nat_sessions entries. */
void h_nat_setup_sized(uint32_t nat_sessions);
/* Node settings from the defaults with this local port range. Call it
 * before h_laddr(). */
void h_nat_config(uint16_t port_min, uint16_t port_max);
/* Node settings from the defaults with this icmp_rate. */
void h_icmp_rate(uint16_t rate);
/* Set an interface's MTU. */
void h_mtu(const char *ifname, int mtu);
/* The globals entry as the program sees it. */
void h_globals(struct xlb_globals *g);

/* Agent operations that must succeed. */
void h_vip(const char *vip, enum xlb_hash_mode hash, uint32_t table_size);
void h_real(const char *vip, const char *real, uint32_t weight);
void h_real_del(const char *vip, const char *real);
void h_weight(const char *vip, const char *real, uint32_t weight);
void h_health(const char *vip, const char *real, bool up);
void h_drain(const char *vip, const char *real, bool drain);
void h_vip_mode(const char *vip, enum xlb_fwd_mode mode, uint16_t mss);
void h_vip_encap(const char *vip, bool gue);
void h_laddr(const char *addr);
void h_laddr_del(const char *addr);

/* A VIP's id, and a real's (of that VIP), from the agent's view. */
uint32_t h_vip_id(const char *vip);
uint32_t h_real_id(const char *vip, const char *real);

/* The nat_fwd key of a client flow to vip (which names the port). */
void h_nat_key(const char *vip, const char *client, uint16_t cport,
	       struct xlb_flow_key *key);
/* The session of a client flow: 0, or -ENOENT when there is none. */
int h_nat_get(const char *vip, const char *client, uint16_t cport,
	      struct xlb_nat_fwd *e);
/* Overwrite an existing session's forward entry (last_seen, state). */
void h_nat_put(const char *vip, const char *client, uint16_t cport,
	       const struct xlb_nat_fwd *e);
/* Delete only the forward entry of a session. */
void h_nat_del_fwd(const char *vip, const char *client, uint16_t cport);
/* The nat_rev key of a reply real:rport -> local:lport. */
void h_nat_rev_key(uint8_t proto, const char *real, uint16_t rport,
		   const char *local, uint16_t lport, struct xlb_nat_key *key);
/* Entries in nat_fwd and in nat_rev. */
size_t h_nat_count(void);
size_t h_nat_rev_count(void);
/* CLOCK_MONOTONIC in ns: the clock of last_seen and xlb_dp_nat_gc(). */
uint64_t h_now_ns(void);

/* Counters of a VIP or of one of its reals, summed over CPUs (every
 * field, the reply ones included). */
void h_vip_counters(const char *vip, struct xlb_counters *c);
void h_real_counters(const char *vip, const char *real, struct xlb_counters *c);

/* The outer source address the program gives this flow (a string). */
void h_tunnel_src(int real_family, const char *client, uint16_t sport,
		  uint16_t dport, uint8_t proto, bool src_only, char *buf,
		  size_t len);
/* The hash of its outer header (source, GUE port, flow label). */
uint32_t h_tun_hash(const char *client, uint16_t sport, uint16_t dport,
		    uint8_t proto, bool src_only);

/* The outer destination of an encapsulated output frame, as a string. */
const char *h_out_real(const struct h_result *res, char *buf, size_t len);

#endif /* XLB_TEST_HARNESS_H */
