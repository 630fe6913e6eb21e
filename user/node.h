/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The node's life in a cluster (docs/CLUSTER.md): pre-online -> online
 * -> draining -> offline, and what it announces in each state. The node
 * announces a VIP's address only while it is online, its data
 * interfaces are up and the VIP has a real that takes new flows; its own
 * local pool as it is now (lbctl laddr add/del included) while online
 * with interfaces up; its peers' pools (FULLNAT failover) likewise, with
 * the worse backup metric. Draining and stopping withdraw everything;
 * forwarding goes on.
 */
#ifndef XLB_NODE_H
#define XLB_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent.h"
#include "routes.h"
#include "xlb.h"

enum xlb_node_state {
	XLB_NODE_PREONLINE = 0, /* taking the peers' sessions */
	XLB_NODE_ONLINE,	/* announcing */
	XLB_NODE_DRAINING,	/* withdrawn, still forwarding */
	XLB_NODE_OFFLINE,	/* stopping */
};

const char *xlb_node_state_str(enum xlb_node_state s);

struct xlb_node;

/*
 * Opens the route socket and the link watch when cfg has a routes
 * section. The state starts pre-online with a cluster, else online.
 */
int xlb_node_new(const struct xlb_config *cfg, struct xlb_node **out, char *err,
		 size_t errlen);
/* Withdraws every route first. */
void xlb_node_free(struct xlb_node *n);

enum xlb_node_state xlb_node_state(const struct xlb_node *n);
/* Logs the change with why; a no-op when already in that state. */
void xlb_node_set_state(struct xlb_node *n, enum xlb_node_state s,
			const char *why, uint64_t now_ns);
/* The data plane is attached (and stays so until the node stops). */
void xlb_node_set_attached(struct xlb_node *n, bool attached);

/* Link events: -1 when routes are off. */
int xlb_node_links_fd(struct xlb_node *n);
void xlb_node_links_read(struct xlb_node *n);

/*
 * Work out the routes wanted now and make the kernel's match. Called
 * after every change (state, health, VIPs, links) and periodically.
 */
void xlb_node_announce(struct xlb_node *n, struct xlb_agent *agent);
/* Withdraw everything now (stop). */
void xlb_node_withdraw(struct xlb_node *n);

/* Timers: routing daemon watch, drain progress. */
void xlb_node_tick(struct xlb_node *n, struct xlb_agent *agent,
		   uint64_t now_ns);

/*
 * {"node", "state", "since_ms", "reason" (why this state), "routes":
 * [{"address", "kind", "metric",
 * "announced", "reason"}], "interfaces": [{"name", "up"}],
 * "daemons": [{"name", "state", "pid"}], "routing_ok", "drain": {...}}
 */
json_t *xlb_node_json(struct xlb_node *n, uint64_t now_ns);

/* Drain: no forwarded packet for drain_idle_ms. */
bool xlb_node_drained(const struct xlb_node *n);
/*
 * Since this node last forwarded a packet, in any state (as seen by the
 * drain watch, every 100 ms; from the start if it never did).
 */
uint64_t xlb_node_fwd_idle_ms(const struct xlb_node *n, uint64_t now_ns);

#endif /* XLB_NODE_H */
