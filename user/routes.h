/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Route announcement over netlink (libmnl): XLB's routes are host
 * routes (IPv4 /32, IPv6 /128) of type blackhole in one table, marked
 * with XLB's own protocol number so that FRR's "redistribute kernel"
 * can pick them and nothing else's is ever touched. The agent says
 * which routes it wants; this module makes the kernel's set exactly
 * that. Also: link state (a data interface going down withdraws) and
 * the routing daemons' processes (announcements can outlive zebra).
 */
#ifndef XLB_ROUTES_H
#define XLB_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xlb.h"

struct xlb_route {
	struct xlb_ip ip;
	uint32_t metric; /* RTA_PRIORITY; FRR passes it on as the MED */
};

struct xlb_routes;

int xlb_routes_open(uint8_t protocol, uint32_t table, struct xlb_routes **out,
		    char *err, size_t errlen);
void xlb_routes_close(struct xlb_routes *r);

struct xlb_routes_diff {
	size_t added, removed, kept;
};

/*
 * Make XLB's routes in the table exactly want[0..n): dump the routes
 * with our protocol, delete those not wanted (or with another metric),
 * add the missing ones. Routes of other protocols are never changed.
 * n == 0 withdraws everything. 0 or -errno (err says which route).
 */
int xlb_routes_set(struct xlb_routes *r, const struct xlb_route *want, size_t n,
		   struct xlb_routes_diff *diff, char *err, size_t errlen);
/* The routes of ours now in the kernel; *out malloc'd (free it). */
int xlb_routes_list(struct xlb_routes *r, struct xlb_route **out, size_t *n);

/*
 * Link events: a netlink socket subscribed to link changes. After a
 * readable event, xlb_links_read() calls fn for each link that changed.
 * "Up" means administratively up with a carrier (IFF_UP and
 * IFF_LOWER_UP / IFF_RUNNING).
 */
struct xlb_links;
typedef void (*xlb_link_fn)(void *arg, int ifindex, const char *name, bool up);
int xlb_links_open(struct xlb_links **out);
void xlb_links_close(struct xlb_links *l);
int xlb_links_fd(struct xlb_links *l);
int xlb_links_read(struct xlb_links *l, xlb_link_fn fn, void *arg);
/* Is the interface up now (by name)? false if it does not exist. */
bool xlb_link_up(const char *ifname);

/*
 * A routing daemon's process, found through its pid file
 * (RUN_DIR/NAME.pid) and /proc: running, stopped (SIGSTOP, traced) or
 * dead (no pid file, no such process, or another program has the pid).
 */
enum xlb_daemon_state {
	XLB_DAEMON_RUNNING = 0,
	XLB_DAEMON_STOPPED,
	XLB_DAEMON_DEAD,
};

struct xlb_daemon_status {
	enum xlb_daemon_state state;
	pid_t pid; /* 0 if unknown */
};

int xlb_daemon_check(const char *run_dir, const char *name,
		     struct xlb_daemon_status *st);
const char *xlb_daemon_state_str(enum xlb_daemon_state s);

#endif /* XLB_ROUTES_H */
