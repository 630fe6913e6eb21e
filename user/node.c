// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The node's lifecycle and its route announcements (node.h). Routes are
 * recomputed whole from the state, the interfaces and the VIPs' health,
 * and handed to routes.c, which makes the kernel's set match: no
 * incremental bookkeeping to drift.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "maps.h"
#include "node.h"

#define NODE_DRAIN_POLL_NS 100000000ull /* 100 ms */

struct node_route {
	struct xlb_ip ip;
	const char *kind; /* "vip", "local" or "backup" */
	uint32_t metric;
	bool announced;
	const char *reason; /* why not, when not */
};

struct node_iface {
	char name[32];
	bool up;
};

struct xlb_node {
	const struct xlb_config *cfg; /* routes, cluster, interfaces */
	enum xlb_node_state state;
	uint64_t since_ns;
	char why[160]; /* of the last state change */
	bool attached;
	struct xlb_routes *routes; /* NULL: routes are off */
	struct xlb_links *links;
	struct node_iface ifaces[XLB_MAX_INTERFACES];
	size_t n_ifaces;
	struct node_route *want; /* every candidate, announced or not */
	size_t n_want, cap_want;
	bool route_error; /* the last xlb_routes_set failed (logged once) */
	/* Routing daemons. */
	struct xlb_daemon_status daemons[XLB_MAX_WATCH];
	bool daemons_checked;
	uint64_t next_watch_ns;
	/* Drain: forwarded packets, and when that count last moved (read
	 * every NODE_DRAIN_POLL_NS, not on every tick). */
	uint64_t next_drain_ns;
	uint64_t fwd_packets;
	uint64_t fwd_moved_ns;
	uint64_t fwd_seen_ns; /* the count last moved, whatever the state */
	bool drained;
};

const char *xlb_node_state_str(enum xlb_node_state s)
{
	switch (s) {
	case XLB_NODE_PREONLINE:
		return "pre-online";
	case XLB_NODE_ONLINE:
		return "online";
	case XLB_NODE_DRAINING:
		return "draining";
	case XLB_NODE_OFFLINE:
		return "offline";
	}
	return "?";
}

int xlb_node_new(const struct xlb_config *cfg, struct xlb_node **out, char *err,
		 size_t errlen)
{
	struct xlb_node *n = calloc(1, sizeof(*n));
	struct timespec ts;
	size_t i;
	int ret;

	if (!n)
		return -ENOMEM;
	n->cfg = cfg;
	n->state = cfg->cluster.enabled ? XLB_NODE_PREONLINE : XLB_NODE_ONLINE;
	/* In its first state since now (the daemon's clock, monotonic). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n->since_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	snprintf(n->why, sizeof(n->why), "%s",
		 cfg->cluster.enabled ? "starting: taking the peers' sessions"
				      : "starting");
	for (i = 0; i < cfg->n_interfaces; i++) {
		snprintf(n->ifaces[i].name, sizeof(n->ifaces[i].name), "%s",
			 cfg->interfaces[i]);
		n->ifaces[i].up = xlb_link_up(cfg->interfaces[i]);
	}
	n->n_ifaces = cfg->n_interfaces;
	if (cfg->routes.enabled) {
		ret = xlb_routes_open(cfg->routes.protocol, cfg->routes.table,
				      &n->routes, err, errlen);
		if (!ret)
			ret = xlb_links_open(&n->links);
		if (ret) {
			if (err && errlen && !err[0])
				snprintf(err, errlen, "link watch: %s",
					 strerror(-ret));
			xlb_node_free(n);
			return ret;
		}
	}
	*out = n;
	return 0;
}

void xlb_node_free(struct xlb_node *n)
{
	if (!n)
		return;
	xlb_node_withdraw(n);
	xlb_routes_close(n->routes);
	xlb_links_close(n->links);
	free(n->want);
	free(n);
}

enum xlb_node_state xlb_node_state(const struct xlb_node *n)
{
	return n->state;
}

void xlb_node_set_state(struct xlb_node *n, enum xlb_node_state s,
			const char *why, uint64_t now_ns)
{
	if (n->state == s)
		return;
	pr_info("node: %s -> %s%s%s", xlb_node_state_str(n->state),
		xlb_node_state_str(s), why ? ": " : "", why ? why : "");
	n->state = s;
	n->since_ns = now_ns;
	snprintf(n->why, sizeof(n->why), "%s", why ? why : "");
	n->drained = false;
	n->fwd_moved_ns = now_ns;
}

void xlb_node_set_attached(struct xlb_node *n, bool attached)
{
	n->attached = attached;
}

int xlb_node_links_fd(struct xlb_node *n)
{
	return n->links ? xlb_links_fd(n->links) : -1;
}

static void on_link(void *arg, int ifindex, const char *name, bool up)
{
	struct xlb_node *n = arg;
	size_t i;

	for (i = 0; i < n->n_ifaces; i++) {
		if (strcmp(n->ifaces[i].name, name) || n->ifaces[i].up == up)
			continue;
		n->ifaces[i].up = up;
		pr_info("node: interface %s is %s", name, up ? "up" : "down");
	}
}

void xlb_node_links_read(struct xlb_node *n)
{
	if (n->links)
		xlb_links_read(n->links, on_link, n);
}

static bool ifaces_up(const struct xlb_node *n)
{
	size_t i;

	for (i = 0; i < n->n_ifaces; i++)
		if (!n->ifaces[i].up)
			return false;
	return true;
}

static struct node_route *want_add(struct xlb_node *n, const struct xlb_ip *ip,
				   const char *kind, uint32_t metric)
{
	struct node_route *r;
	size_t i;

	for (i = 0; i < n->n_want; i++)
		if (xlb_ip_equal(&n->want[i].ip, ip))
			return &n->want[i];
	if (n->n_want == n->cap_want) {
		size_t cap = n->cap_want ? 2 * n->cap_want : 32;

		r = realloc(n->want, cap * sizeof(*r));
		if (!r)
			return NULL;
		n->want = r;
		n->cap_want = cap;
	}
	r = &n->want[n->n_want++];
	memset(r, 0, sizeof(*r));
	r->ip = *ip;
	r->kind = kind;
	r->metric = metric;
	r->reason = "no real takes new flows";
	return r;
}

/* Why nothing may be announced now, or NULL. */
static const char *node_blocker(const struct xlb_node *n)
{
	if (n->state == XLB_NODE_PREONLINE)
		return "node is pre-online";
	if (n->state == XLB_NODE_DRAINING)
		return "node is draining";
	if (n->state == XLB_NODE_OFFLINE)
		return "node is offline";
	if (!n->attached)
		return "program not attached";
	if (!ifaces_up(n))
		return "a data interface is down";
	return NULL;
}

/* Every candidate route and whether it is announced now. */
static void want_build(struct xlb_node *n, struct xlb_agent *agent)
{
	const struct xlb_cluster_config *cl = &n->cfg->cluster;
	const struct xlb_routes_config *rc = &n->cfg->routes;
	const char *blocker = node_blocker(n);
	struct xlb_ip pool[XLB_NAT_MAX_LADDRS_TOTAL];
	struct xlb_real_view *reals = NULL;
	struct xlb_service *svcs;
	struct node_route *r;
	size_t i, j, nr = 0, nv, np;

	n->n_want = 0;
	/* Every VIP address, announced when one of its reals takes new
	 * flows. */
	nv = xlb_agent_services(agent, NULL, 0);
	svcs = calloc(nv ? nv : 1, sizeof(*svcs));
	if (svcs) {
		nv = xlb_agent_services(agent, svcs, nv);
		for (i = 0; i < nv; i++)
			want_add(n, &svcs[i].ip, "vip", rc->metric);
		free(svcs);
	}
	if (!xlb_agent_reals(agent, &reals, &nr)) {
		for (i = 0; i < nr; i++) {
			if (!reals[i].healthy || reals[i].draining ||
			    !reals[i].weight)
				continue;
			for (j = 0; j < n->n_want; j++)
				if (xlb_ip_equal(&n->want[j].ip,
						 &reals[i].svc.ip))
					n->want[j].announced = true;
		}
		free(reals);
	}
	/* The pools: ours as it is now (lbctl laddr add/del too), and the
	 * peers' as configured, as backups. */
	np = xlb_agent_laddrs(agent, pool, XLB_NAT_MAX_LADDRS_TOTAL);
	for (i = 0; i < np && i < XLB_NAT_MAX_LADDRS_TOTAL; i++) {
		r = want_add(n, &pool[i], "local", rc->metric);
		if (r)
			r->announced = true;
	}
	for (i = 0; cl->enabled && i < cl->n_nodes; i++) {
		if (i == cl->self)
			continue;
		for (j = 0; j < cl->nodes[i].n_laddrs; j++) {
			r = want_add(n, &cl->nodes[i].laddrs[j], "backup",
				     rc->backup_metric);
			if (r)
				r->announced = true;
		}
	}
	for (i = 0; i < n->n_want; i++) {
		r = &n->want[i];
		if (r->announced && blocker) {
			r->announced = false;
			r->reason = blocker;
		}
		if (r->announced)
			r->reason = NULL;
	}
}

static void routes_apply(struct xlb_node *n)
{
	struct xlb_route *set;
	struct xlb_routes_diff diff = {0};
	char err[XLB_ERR_LEN] = "";
	size_t i, k = 0;
	int ret;

	if (!n->routes)
		return;
	set = calloc(n->n_want ? n->n_want : 1, sizeof(*set));
	if (!set)
		return;
	for (i = 0; i < n->n_want; i++) {
		if (!n->want[i].announced)
			continue;
		set[k].ip = n->want[i].ip;
		set[k].metric = n->want[i].metric;
		k++;
	}
	ret = xlb_routes_set(n->routes, set, k, &diff, err, sizeof(err));
	free(set);
	if (ret) {
		if (!n->route_error)
			pr_warn("routes: %s", err[0] ? err : strerror(-ret));
		n->route_error = true;
		return;
	}
	if (n->route_error)
		pr_info("routes: in sync again");
	n->route_error = false;
	if (diff.added || diff.removed)
		pr_info("routes: %zu announced, %zu withdrawn, %zu kept",
			diff.added, diff.removed, diff.kept);
}

void xlb_node_announce(struct xlb_node *n, struct xlb_agent *agent)
{
	if (!n->cfg->routes.enabled)
		return;
	want_build(n, agent);
	routes_apply(n);
}

void xlb_node_withdraw(struct xlb_node *n)
{
	struct xlb_routes_diff diff = {0};
	char err[XLB_ERR_LEN] = "";
	size_t i;

	if (!n->routes)
		return;
	for (i = 0; i < n->n_want; i++) {
		n->want[i].announced = false;
		n->want[i].reason = "node is offline";
	}
	if (xlb_routes_set(n->routes, NULL, 0, &diff, err, sizeof(err)))
		pr_warn("routes: withdrawing: %s", err);
	else if (diff.removed)
		pr_info("routes: %zu withdrawn", diff.removed);
}

/* The routing daemons, every watch interval; transitions are logged. */
static void watch_daemons(struct xlb_node *n, uint64_t now_ns)
{
	const struct xlb_routes_config *rc = &n->cfg->routes;
	struct xlb_daemon_status st;
	size_t i;

	if (!rc->enabled || now_ns < n->next_watch_ns)
		return;
	n->next_watch_ns = now_ns + (uint64_t)rc->watch_interval_ms * 1000000;
	for (i = 0; i < rc->n_watch; i++) {
		if (xlb_daemon_check(rc->frr_run_dir, rc->watch[i], &st))
			st.state = XLB_DAEMON_DEAD;
		if (n->daemons_checked && st.state == n->daemons[i].state) {
			n->daemons[i] = st;
			continue;
		}
		if (st.state == XLB_DAEMON_RUNNING)
			pr_info("routing: %s is running (pid %d)", rc->watch[i],
				(int)st.pid);
		else
			pr_warn("routing: %s is %s: announcements may outlive "
				"this node's health, and withdrawals may not "
				"reach the routers",
				rc->watch[i], xlb_daemon_state_str(st.state));
		n->daemons[i] = st;
	}
	n->daemons_checked = true;
}

/* Drain progress: forwarded packets stop moving for drain_idle_ms. */
static void watch_drain(struct xlb_node *n, struct xlb_agent *agent,
			uint64_t now_ns)
{
	uint64_t r[XLB_R_MAX], fwd;
	uint32_t idle_ms = n->cfg->cluster.drain_idle_ms
				   ? n->cfg->cluster.drain_idle_ms
				   : 5000;

	if (now_ns < n->next_drain_ns)
		return;
	n->next_drain_ns = now_ns + NODE_DRAIN_POLL_NS;
	if (xlb_dp_reasons(xlb_agent_dp(agent), r))
		return;
	fwd = r[XLB_R_FWD_TX] + r[XLB_R_FWD_REDIRECT] + r[XLB_R_PASS_NO_NEIGH];
	if (fwd != n->fwd_packets) {
		n->fwd_packets = fwd;
		n->fwd_moved_ns = now_ns;
		n->fwd_seen_ns = now_ns;
		n->drained = false;
		return;
	}
	if (n->state != XLB_NODE_DRAINING || n->drained)
		return;
	if (now_ns - n->fwd_moved_ns >= (uint64_t)idle_ms * 1000000) {
		n->drained = true;
		pr_info("node: drained: no flow forwarded for %u ms", idle_ms);
	}
}

void xlb_node_tick(struct xlb_node *n, struct xlb_agent *agent, uint64_t now_ns)
{
	watch_daemons(n, now_ns);
	watch_drain(n, agent, now_ns);
}

bool xlb_node_drained(const struct xlb_node *n)
{
	return n->drained;
}

uint64_t xlb_node_fwd_idle_ms(const struct xlb_node *n, uint64_t now_ns)
{
	return now_ns > n->fwd_seen_ns ? (now_ns - n->fwd_seen_ns) / 1000000
				       : 0;
}

json_t *xlb_node_json(struct xlb_node *n, uint64_t now_ns)
{
	const struct xlb_routes_config *rc = &n->cfg->routes;
	json_t *o = json_object(), *arr, *e;
	char buf[XLB_IP_STRLEN];
	bool ok = true;
	size_t i;

	json_object_set_new(o, "node",
			    n->cfg->cluster.enabled
				    ? json_string(n->cfg->cluster.node)
				    : json_null());
	json_object_set_new(o, "state",
			    json_string(xlb_node_state_str(n->state)));
	json_object_set_new(
		o, "since_ms",
		json_integer((json_int_t)((now_ns - n->since_ns) / 1000000)));
	json_object_set_new(o, "reason", json_string(n->why));
	json_object_set_new(o, "routes_enabled", json_boolean(rc->enabled));
	arr = json_array();
	for (i = 0; i < n->n_want; i++) {
		e = json_object();
		json_object_set_new(e, "address",
				    json_string(xlb_ip_str(&n->want[i].ip, buf,
							   sizeof(buf))));
		json_object_set_new(e, "kind", json_string(n->want[i].kind));
		json_object_set_new(e, "metric",
				    json_integer(n->want[i].metric));
		json_object_set_new(e, "announced",
				    json_boolean(n->want[i].announced));
		json_object_set_new(e, "reason",
				    n->want[i].reason
					    ? json_string(n->want[i].reason)
					    : json_null());
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "routes", arr);
	arr = json_array();
	for (i = 0; i < n->n_ifaces; i++) {
		e = json_object();
		json_object_set_new(e, "name", json_string(n->ifaces[i].name));
		json_object_set_new(e, "up", json_boolean(n->ifaces[i].up));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "interfaces", arr);
	arr = json_array();
	for (i = 0; rc->enabled && n->daemons_checked && i < rc->n_watch; i++) {
		e = json_object();
		json_object_set_new(e, "name", json_string(rc->watch[i]));
		json_object_set_new(
			e, "state",
			json_string(xlb_daemon_state_str(n->daemons[i].state)));
		json_object_set_new(e, "pid", json_integer(n->daemons[i].pid));
		json_array_append_new(arr, e);
		ok = ok && n->daemons[i].state == XLB_DAEMON_RUNNING;
	}
	json_object_set_new(o, "daemons", arr);
	json_object_set_new(o, "routing_ok", json_boolean(ok));
	e = json_object();
	json_object_set_new(e, "drained", json_boolean(n->drained));
	json_object_set_new(
		e, "idle_ms",
		json_integer(
			(json_int_t)((now_ns - n->fwd_moved_ns) / 1000000)));
	json_object_set_new(o, "drain", e);
	return o;
}
