/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dp_net.h: the network namespace the data-path tests and the data-path
 * fuzzer run the balancer in, built once here for both.
 *
 * Client side: xt0 (ingress, peer xt1), 10.0.0.1/24 and fd00::1/64. Real
 * side: xt2 (peer xt3), 10.1.0.1/24 and fd01::1/64, with reals 10.1.0.2-6
 * and fd01::2-6 as permanent neighbours (MAC 02:00:00:00:01:0N) and
 * 10.1.0.99 with no neighbour entry; one real (10.0.0.9) behind the
 * ingress port. With the client routes, the clients (192.0.2.0/24,
 * 2001:db8::/32) are behind a router on xt0 (10.0.0.2, fd00::2), as
 * FULLNAT replies need.
 */
#ifndef XLB_TESTS_DP_NET_H
#define XLB_TESTS_DP_NET_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _GNU_SOURCE
#error "tests/lib/dp_net.h needs _GNU_SOURCE"
#endif

#define DP_NET_IF_CLIENT  "xt0"
#define DP_NET_IF_REALS	  "xt2"
#define DP_NET_MAC_CLIENT "02:00:00:00:00:10" /* xt0 */
#define DP_NET_MAC_REALS  "02:00:00:00:00:12" /* xt2 */
#define DP_NET_MAC_TXREAL "02:00:00:00:00:09" /* 10.0.0.9, ingress side */
#define DP_NET_MAC_ROUTER "02:00:00:00:00:01" /* 10.0.0.2 and fd00::2 */

/* Run a shell command; 0, or -1 with the command in err. */
static inline int dp_net_sh(char *err, size_t len, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		snprintf(err, len, "command failed (%d): %s", rc, cmd);
	return rc ? -1 : 0;
}

static inline int dp_net_write(const char *path, const char *val, char *err,
			       size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(val, f) < 0 || fclose(f)) {
		snprintf(err, len, "write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The clients behind a router on the ingress side (FULLNAT replies). */
static inline int dp_net_client_routes(char *err, size_t len)
{
	if (dp_net_sh(err, len,
		      "ip neigh replace 10.0.0.2 lladdr %s dev xt0 nud "
		      "permanent && ip -6 neigh replace fd00::2 lladdr %s dev "
		      "xt0 nud permanent",
		      DP_NET_MAC_ROUTER, DP_NET_MAC_ROUTER))
		return -1;
	return dp_net_sh(err, len,
			 "ip route add 192.0.2.0/24 via 10.0.0.2 dev xt0 && "
			 "ip -6 route add 2001:db8::/32 via fd00::2 dev xt0");
}

/*
 * Enter a new network namespace and build the lab in it (without the
 * client routes: dp_net_client_routes()). 0, or -1 with the reason in err.
 */
static inline int dp_net_build(char *err, size_t len)
{
	int i;

	if (unshare(CLONE_NEWNET)) {
		snprintf(err, len, "unshare: %s (needs root)", strerror(errno));
		return -1;
	}
	if (dp_net_write("/proc/sys/net/ipv4/ip_forward", "1", err, len) ||
	    dp_net_write("/proc/sys/net/ipv6/conf/all/forwarding", "1", err,
			 len))
		return -1;
	if (dp_net_sh(err, len,
		      "ip link set lo up && "
		      "ip link add xt0 address %s type veth peer name xt1 && "
		      "ip link add xt2 address %s type veth peer name xt3 && "
		      "ip link set xt0 up && ip link set xt1 up && "
		      "ip link set xt2 up && ip link set xt3 up",
		      DP_NET_MAC_CLIENT, DP_NET_MAC_REALS))
		return -1;
	if (dp_net_sh(err, len,
		      "ip addr add 10.0.0.1/24 dev xt0 && "
		      "ip addr add fd00::1/64 dev xt0 nodad && "
		      "ip addr add 10.1.0.1/24 dev xt2 && "
		      "ip addr add fd01::1/64 dev xt2 nodad"))
		return -1;
	for (i = 2; i <= 6; i++)
		if (dp_net_sh(err, len,
			      "ip neigh replace 10.1.0.%d lladdr "
			      "02:00:00:00:01:%02d dev xt2 nud permanent && "
			      "ip -6 neigh replace fd01::%d lladdr "
			      "02:00:00:00:01:%02d dev xt2 nud permanent",
			      i, i, i, i))
			return -1;
	return dp_net_sh(err, len,
			 "ip neigh replace 10.0.0.9 lladdr %s dev xt0 nud "
			 "permanent",
			 DP_NET_MAC_TXREAL);
}

#endif /* XLB_TESTS_DP_NET_H */
