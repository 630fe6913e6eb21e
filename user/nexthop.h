/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The next hop of every real, resolved from the kernel's routing,
 * neighbour and link tables over netlink (libmnl) and written to the
 * nexthops map, so that the data plane skips bpf_fib_lookup for
 * established packets (bpf/nexthop.h, docs/ARCHITECTURE.md).
 *
 * Freshness: a netlink socket subscribed to neighbour, IPv4/IPv6 route
 * and link changes. Every change that may touch an entry (a neighbour
 * of one of its legs, a route whose prefix holds the real, a link one
 * of its legs leaves by) first marks the entry stale in the map, which
 * sends its packets back to bpf_fib_lookup, and only then re-resolves
 * it. An entry that cannot be resolved whole (no route, an unresolved
 * neighbour, a link down, more ECMP legs than XLB_NH_LEGS) stays
 * invalid: bpf_fib_lookup routes its packets, as without this module.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

struct xlb_nexthops;

struct xlb_nexthops_stats {
	size_t reals;	    /* reals followed */
	size_t valid;	    /* of which with a valid entry */
	uint64_t events;    /* kernel change messages read */
	uint64_t stale;	    /* entries marked stale by them */
	uint64_t resolves;  /* resolutions made */
	uint64_t overflows; /* event socket overruns (all re-resolved) */
	uint64_t epochs;    /* route epochs begun (FULLNAT reply hops) */
};

/* Open the netlink sockets for the agent's data plane. 0 or -errno. */
int xlb_nexthops_open(struct xlb_agent *agent, struct xlb_nexthops **out);
/*
 * Close; with invalidate, first mark every entry written stale (an agent
 * that stops while the data plane runs on: nobody would keep them
 * fresh). NULL is ok.
 */
void xlb_nexthops_close(struct xlb_nexthops *nh, bool invalidate);
/* Clear the valid flag of every entry of the map (an earlier agent's
 * too) and stop the route epoch: packets go to bpf_fib_lookup. 0 or
 * -errno. */
int xlb_nexthops_invalidate_all(struct xlb_dp *dp);
/* The event socket, for the event loop (readable: xlb_nexthops_read). */
int xlb_nexthops_fd(const struct xlb_nexthops *nh);
/*
 * Follow the agent's model: resolve the reals that are new or changed
 * (generation, address, outer source), clear the entries of reals gone.
 * 0 or -errno.
 */
int xlb_nexthops_sync(struct xlb_nexthops *nh);
/* Read every waiting change: mark what it touches stale, re-resolve;
 * and after any, a new route epoch (the replies' next hops). */
int xlb_nexthops_read(struct xlb_nexthops *nh);
void xlb_nexthops_get_stats(const struct xlb_nexthops *nh,
			    struct xlb_nexthops_stats *st);

#endif /* XLB_NEXTHOP_H */
