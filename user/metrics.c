// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus endpoint (docs/METRICS.md). Two halves: a pure renderer
 * that turns the agent's stats view into exposition text, and a small
 * HTTP server (libmicrohttpd in "external epoll" mode) that runs inside
 * xlbd's epoll loop: libmicrohttpd's own epoll fd is registered in the
 * loop, and a timerfd stands for the timeouts libmicrohttpd asks for
 * (idle connections, work left over after a run). Nothing here blocks,
 * starts a thread or logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon.h"
#include "loop.h"
#include "metrics.h"
#include "xlb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define metrics_container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* Prometheus scrapes once in a while; a few connections are plenty. */
#define METRICS_MAX_CLIENTS 16
#define METRICS_TIMEOUT_S   10 /* an idle connection is closed after this */
#define METRICS_MAX_WAIT_MS 3600000ULL

/* ---- Rendering --------------------------------------------------------- */

/* One metric family: its HELP and TYPE lines come before its samples. */
struct family {
	const char *name;
	const char *type; /* "counter" or "gauge" */
	const char *help;
};

/* A family whose value is a member of each VIP or real object. */
struct field_family {
	struct family fam;
	const char *key; /* member of the VIP or real */
	const char *sub; /* member of that member, or NULL */
};

static const struct family fam_info = {
	"xlb_agent_info", "gauge",
	"Always 1; the version of the running xlbd is in the labels."};
static const struct family fam_vips = {"xlb_vips", "gauge", "VIPs configured."};
static const struct family fam_real_up = {
	"xlb_real_up", "gauge",
	"1 when the real takes new flows (state up), else 0."};
static const struct family fam_real_state = {
	"xlb_real_state", "gauge",
	"1 for the real's current state (up, down or draining), 0 for the "
	"others."};
static const struct family fam_reasons = {
	"xlb_packets_total", "counter",
	"Packets seen by the XDP program, by what became of them (one reason "
	"per packet: forward_*, pass_*, drop_*)."};
static const struct family fam_guard_skipped = {
	"xlb_flood_guard_skipped_total", "counter",
	"Conntrack misses sent by the ring but not remembered: the flood "
	"guard's rate of new entries was passed."};
static const struct family fam_nh_fallbacks = {
	"xlb_nexthop_fallbacks_total", "counter",
	"Packets towards a real routed by bpf_fib_lookup because the agent's "
	"resolved next hop was missing, stale or too small for them."};
static const struct family fam_nh_reply_lookups = {
	"xlb_nexthop_reply_lookups_total", "counter",
	"FULLNAT replies routed by bpf_fib_lookup because their session kept "
	"no next hop of the current route epoch."};
static const struct family fam_fc_fills = {
	"xlb_flow_cache_fills_total", "counter",
	"Flow cache slots filled: established IPv4 tunnel packets that took "
	"the slow path and left their answer for the flow's next ones."};
static const struct family fam_rebuilds = {
	"xlb_ring_rebuilds_total", "counter",
	"Maglev tables built and published."};
static const struct family fam_rebuild_seconds = {
	"xlb_ring_rebuild_seconds_total", "counter",
	"Time spent building and publishing Maglev tables."};

static const struct field_family vip_families[] = {
	{{"xlb_vip_packets_total", "counter",
	  "Packets to the VIP for which a real was chosen."},
	 "packets"},
	{{"xlb_vip_bytes_total", "counter",
	  "Bytes of those packets (whole frames as received)."},
	 "bytes"},
	{{"xlb_vip_new_flows_total", "counter",
	  "Connections started on the VIP: TCP SYNs (without ACK) that start "
	  "a flow or replace a closing one, first datagrams of UDP flows."},
	 "new_flows"},
	{{"xlb_vip_reply_packets_total", "counter",
	  "Replies from the VIP's reals translated back to clients (fullnat "
	  "mode)."},
	 "reply_packets"},
	{{"xlb_vip_reply_bytes_total", "counter",
	  "Bytes of those replies (whole frames as received)."},
	 "reply_bytes"},
	{{"xlb_vip_sessions", "gauge",
	  "Tracked flows of the VIP not idle past their timeout: conntrack "
	  "entries of every CPU (tunnel mode), sessions (fullnat mode)."},
	 "sessions"},
	{{"xlb_vip_active_connections", "gauge",
	  "Tracked TCP flows of the VIP that are established (ipvsadm's "
	  "ActiveConn)."},
	 "active_conns"},
	{{"xlb_vip_inactive_connections", "gauge",
	  "The other tracked flows of the VIP: opening, closing, reset, UDP "
	  "(ipvsadm's InActConn)."},
	 "inactive_conns"},
	{{"xlb_vip_healthy_reals", "gauge",
	  "Reals taking new flows (up, not draining, weight above 0); 0 "
	  "means new flows to the VIP are dropped."},
	 "healthy_reals"},
};

static const struct field_family real_families[] = {
	{{"xlb_real_packets_total", "counter",
	  "Packets for which the real was chosen."},
	 "packets"},
	{{"xlb_real_bytes_total", "counter",
	  "Bytes sent to the real by the data plane (client frames, before "
	  "encapsulation)."},
	 "bytes"},
	{{"xlb_real_new_flows_total", "counter",
	  "Connections started on the real (as xlb_vip_new_flows_total)."},
	 "new_flows"},
	{{"xlb_real_reply_packets_total", "counter",
	  "Replies from the real translated back to clients (fullnat "
	  "mode)."},
	 "reply_packets"},
	{{"xlb_real_reply_bytes_total", "counter",
	  "Bytes of those replies (whole frames as received)."},
	 "reply_bytes"},
	{{"xlb_real_sessions", "gauge", "Tracked flows of the real."},
	 "sessions"},
	{{"xlb_real_active_connections", "gauge",
	  "Tracked TCP flows of the real that are established (ActiveConn)."},
	 "active_conns"},
	{{"xlb_real_inactive_connections", "gauge",
	  "The other tracked flows of the real (InActConn)."},
	 "inactive_conns"},
	{{"xlb_real_weight", "gauge",
	  "The real's weight (share of new flows within its VIP)."},
	 "weight"},
	{{"xlb_real_check_latency_seconds", "gauge",
	  "How long the real's last health check took."},
	 "health",
	 "latency_seconds"},
	{{"xlb_real_checks_total", "counter",
	  "Health checks of the real made."},
	 "health",
	 "checks"},
	{{"xlb_real_check_failures_total", "counter",
	  "Health checks of the real that failed."},
	 "health",
	 "failed"},
	{{"xlb_real_checks_skipped_total", "counter",
	  "Health checks of the real that could not be attempted (the "
	  "balancer's own resources)."},
	 "health",
	 "skipped"},
	{{"xlb_real_transitions_total", "counter",
	  "Times the real's health went up or down."},
	 "health",
	 "transitions"},
};

/* FULLNAT: members of the stats view's "fullnat" object. */
static const struct field_family nat_families[] = {
	{{"xlb_nat_sessions", "gauge",
	  "FULLNAT sessions not idle past their timeout."},
	 "sessions"},
	{{"xlb_nat_entries", "gauge",
	  "FULLNAT sessions in the table, expired ones not yet swept "
	  "included."},
	 "entries"},
	{{"xlb_nat_table_size", "gauge",
	  "Sessions the FULLNAT tables hold at most (fullnat.sessions)."},
	 "table_size"},
	{{"xlb_nat_ports_per_cpu", "gauge",
	  "Local ports each CPU allocates from (per local address, real and "
	  "port)."},
	 "ports_per_cpu"},
	{{"xlb_nat_sweeps_total", "counter",
	  "Sweeps of the FULLNAT sessions by xlbd."},
	 "gc",
	 "sweeps"},
	{{"xlb_nat_expired_total", "counter",
	  "FULLNAT sessions removed by the sweeps for being idle past their "
	  "timeout."},
	 "gc",
	 "expired"},
	{{"xlb_nat_orphans_total", "counter",
	  "Reverse entries removed by the sweeps because their session was "
	  "gone."},
	 "gc",
	 "orphans"},
	{{"xlb_nat_sweep_seconds", "gauge", "How long the last sweep took."},
	 "gc",
	 "last_duration_seconds"},
};

static const struct family fam_nat_laddr = {
	"xlb_nat_local_address_sessions", "gauge",
	"FULLNAT sessions from each local address, not idle past their "
	"timeout."};

/* The states xlb_real_state always lists, in this order. */
static const char *const real_states[] = {"up", "down", "draining"};

struct prom {
	FILE *f;
	const char *family; /* the family whose header was written last */
};

/* Write HELP and TYPE of fam unless its samples are already under way. */
static void prom_family(struct prom *p, const struct family *fam)
{
	if (p->family == fam->name)
		return;
	p->family = fam->name;
	fprintf(p->f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help,
		fam->name, fam->type);
}

/* A label value with backslash, double quote and newline escaped. */
static void prom_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/*
 * The text of a sample value: integers as they are, reals with enough
 * digits to read back any decimal of up to 15 digits, booleans as 1/0.
 * false for anything else (the sample is skipped).
 */
static bool prom_value(json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%d", json_is_true(v) ? 1 : 0);
	else
		return false;
	return true;
}

/*
 * One sample of fam: labels is NULL-terminated name, value pairs
 * ({"vip", "10.0.0.1:80/tcp", NULL}).
 */
static void prom_sample(struct prom *p, const struct family *fam,
			const char *const *labels, const char *value)
{
	size_t i;

	prom_family(p, fam);
	fputs(fam->name, p->f);
	for (i = 0; labels[i]; i += 2) {
		fprintf(p->f, "%s%s=\"", i ? "," : "{", labels[i]);
		prom_label_value(p->f, labels[i + 1]);
		fputc('"', p->f);
	}
	fprintf(p->f, "%s %s\n", i ? "}" : "", value);
}

/* The value of ff in object o (a VIP or a real), or NULL. */
static json_t *field_get(const struct field_family *ff, json_t *o)
{
	json_t *v = json_object_get(o, ff->key);

	return ff->sub ? json_object_get(v, ff->sub) : v;
}

/* The name of a VIP or real as a label value, or NULL to skip it. */
static const char *object_name(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Every VIP family: one sample per VIP that has the member. */
static void render_vips(struct prom *p, json_t *vips)
{
	const char *labels[3] = {"vip", NULL, NULL};
	char value[64];
	json_t *vip;
	size_t i, f;

	for (f = 0; f < ARRAY_SIZE(vip_families); f++) {
		json_array_foreach(vips, i, vip) {
			labels[1] = object_name(vip, "vip");
			if (!labels[1] ||
			    !prom_value(field_get(&vip_families[f], vip), value,
					sizeof(value)))
				continue;
			prom_sample(p, &vip_families[f].fam, labels, value);
		}
	}
}

/*
 * Call fn for every real of every VIP with its labels (vip, real) filled
 * in; reals or VIPs without a name are skipped.
 */
static void for_each_real(struct prom *p, json_t *vips, const void *arg,
			  void (*fn)(struct prom *p, const char **labels,
				     json_t *real, const void *arg))
{
	const char *labels[7] = {"vip", NULL, "real", NULL, NULL};
	json_t *vip, *real;
	size_t i, j;

	json_array_foreach(vips, i, vip) {
		labels[1] = object_name(vip, "vip");
		if (!labels[1])
			continue;
		json_array_foreach(json_object_get(vip, "reals"), j, real) {
			labels[3] = object_name(real, "address");
			if (labels[3])
				fn(p, labels, real, arg);
		}
	}
}

/* One sample of a field family for a real. */
static void real_field(struct prom *p, const char **labels, json_t *real,
		       const void *arg)
{
	const struct field_family *ff = arg;
	char value[64];

	if (prom_value(field_get(ff, real), value, sizeof(value)))
		prom_sample(p, &ff->fam, labels, value);
}

/* xlb_real_up for a real with a state. */
static void real_up(struct prom *p, const char **labels, json_t *real,
		    const void *arg)
{
	const char *state = object_name(real, "state");

	if (state)
		prom_sample(p, &fam_real_up, labels,
			    strcmp(state, "up") ? "0" : "1");
}

/*
 * xlb_real_state: every known state, 1 for the current one; a state
 * this code does not know is listed too, so that it is not lost.
 */
static void real_state(struct prom *p, const char **labels, json_t *real,
		       const void *arg)
{
	const char *state = object_name(real, "state");
	bool known = false;
	size_t i;

	if (!state)
		return;
	labels[4] = "state";
	for (i = 0; i < ARRAY_SIZE(real_states); i++) {
		labels[5] = real_states[i];
		known |= !strcmp(state, real_states[i]);
		prom_sample(p, &fam_real_state, labels,
			    strcmp(state, real_states[i]) ? "0" : "1");
	}
	if (!known) {
		labels[5] = state;
		prom_sample(p, &fam_real_state, labels, "1");
	}
	labels[4] = NULL;
}

/* xlb_packets_total: one sample per reason, zero or not. */
static void render_reasons(struct prom *p, json_t *reasons)
{
	const char *labels[3] = {"reason", NULL, NULL};
	char value[64];
	const char *name;
	json_t *v;

	json_object_foreach(reasons, name, v) {
		if (!prom_value(v, value, sizeof(value)))
			continue;
		labels[1] = name;
		prom_sample(p, &fam_reasons, labels, value);
	}
}

/* The FULLNAT families, when the view has a "fullnat" object. */
static void render_fullnat(struct prom *p, json_t *fn)
{
	const char *labels[3] = {"address", NULL, NULL};
	const char *none[1] = {NULL};
	char value[64];
	json_t *l;
	size_t i;

	if (!json_is_object(fn))
		return;
	for (i = 0; i < ARRAY_SIZE(nat_families); i++)
		if (prom_value(field_get(&nat_families[i], fn), value,
			       sizeof(value)))
			prom_sample(p, &nat_families[i].fam, none, value);
	json_array_foreach(json_object_get(fn, "local_addresses"), i, l) {
		labels[1] = object_name(l, "address");
		if (labels[1] && prom_value(json_object_get(l, "sessions"),
					    value, sizeof(value)))
			prom_sample(p, &fam_nat_laddr, labels, value);
	}
}

/* The cluster view (docs/CLUSTER.md): node, routes, daemons, sync. */
static const struct family fam_node_state = {
	"xlb_node_state", "gauge",
	"1 for the node's current state (pre-online, online, draining, "
	"offline), 0 for the others."};
static const struct family fam_node_drained = {
	"xlb_node_drained", "gauge",
	"1 once a draining node has forwarded nothing for drain_idle_ms."};
static const struct family fam_route = {
	"xlb_route_announced", "gauge",
	"1 while the node announces the address (its host route is in the "
	"kernel for FRR to redistribute), else 0; kind is vip, local or "
	"backup."};
static const struct family fam_daemon = {
	"xlb_routing_daemon_up", "gauge",
	"1 while the routing daemon runs, 0 when it is dead or stopped: its "
	"announcements may then outlive the node's health."};
static const struct family fam_peer_up = {
	"xlb_sync_peer_up", "gauge",
	"1 while a message from the peer was accepted within the last "
	"second."};
static const struct family fam_peer_rx = {
	"xlb_sync_peer_last_rx_seconds", "gauge",
	"Seconds since the last accepted message from the peer."};
static const struct family fam_peer_rx_sess = {
	"xlb_sync_received_sessions_total", "counter",
	"Sessions received from the peer (incremental and bulk)."};
static const struct family fam_peer_tx_sess = {"xlb_sync_sent_sessions_total",
					       "counter",
					       "Sessions sent to the peer."};
static const struct family fam_sync_drop = {
	"xlb_sync_dropped_total", "counter",
	"Sync messages dropped before use, by reason (unknown_peer, "
	"malformed, bad_auth, stale, replay)."};
static const struct family fam_sync_reject = {
	"xlb_sync_rejected_total", "counter",
	"Authenticated session records not applied, by reason."};
static const struct family fam_sync_lag = {
	"xlb_sync_max_lag_seconds", "gauge",
	"Longest time a new session waited before it was sent to the "
	"peers."};
static const struct family fam_sync_events = {
	"xlb_sync_events_total", "counter",
	"Session events the data plane reported for the peers."};
static const struct family fam_sync_lost = {
	"xlb_sync_events_lost_total", "counter",
	"Session events lost to a full ring buffer (not sent to peers)."};

static void render_named_counts(struct prom *p, const struct family *fam,
				const char *label, json_t *obj)
{
	const char *labels[3] = {label, NULL, NULL};
	const char *k;
	char value[64];
	json_t *v;

	json_object_foreach(obj, k, v) {
		labels[1] = k;
		if (prom_value(v, value, sizeof(value)))
			prom_sample(p, fam, labels, value);
	}
}

static void render_peers(struct prom *p, json_t *peers,
			 const struct family *fam, const char *key, double div)
{
	const char *labels[3] = {"peer", NULL, NULL};
	char value[64];
	json_t *e, *v;
	size_t i;

	json_array_foreach(peers, i, e) {
		labels[1] = object_name(e, "name");
		v = json_object_get(e, key);
		if (!labels[1] || !v)
			continue;
		if (div != 1 && json_is_integer(v))
			snprintf(value, sizeof(value), "%.3f",
				 (double)json_integer_value(v) / div);
		else if (!prom_value(v, value, sizeof(value)))
			continue;
		prom_sample(p, fam, labels, value);
	}
}

static void render_scalar(struct prom *p, const struct family *fam, json_t *o,
			  const char *key);

static void render_cluster(struct prom *p, json_t *cl)
{
	static const char *const states[] = {"pre-online", "online", "draining",
					     "offline"};
	const char *labels[5] = {NULL};
	json_t *e, *sync, *peers;
	const char *state;
	char value[64];
	size_t i;

	if (!json_is_object(cl))
		return;
	state = object_name(cl, "state");
	labels[0] = "state";
	for (i = 0; state && i < ARRAY_SIZE(states); i++) {
		labels[1] = states[i];
		prom_sample(p, &fam_node_state, labels,
			    strcmp(state, states[i]) ? "0" : "1");
	}
	labels[0] = NULL;
	if (prom_value(json_object_get(json_object_get(cl, "drain"), "drained"),
		       value, sizeof(value)))
		prom_sample(p, &fam_node_drained, labels, value);
	labels[0] = "address";
	labels[2] = "kind";
	json_array_foreach(json_object_get(cl, "routes"), i, e) {
		labels[1] = object_name(e, "address");
		labels[3] = object_name(e, "kind");
		if (labels[1] && labels[3])
			prom_sample(
				p, &fam_route, labels,
				json_is_true(json_object_get(e, "announced"))
					? "1"
					: "0");
	}
	labels[0] = "daemon";
	labels[2] = NULL;
	json_array_foreach(json_object_get(cl, "daemons"), i, e) {
		labels[1] = object_name(e, "name");
		state = object_name(e, "state");
		if (labels[1] && state)
			prom_sample(p, &fam_daemon, labels,
				    strcmp(state, "running") ? "0" : "1");
	}
	sync = json_object_get(cl, "sync");
	if (!json_is_object(sync))
		return;
	peers = json_object_get(sync, "peers");
	render_peers(p, peers, &fam_peer_up, "up", 1);
	render_peers(p, peers, &fam_peer_rx, "last_rx_ms_ago", 1000);
	render_peers(p, peers, &fam_peer_rx_sess, "rx_sessions", 1);
	render_peers(p, peers, &fam_peer_tx_sess, "tx_sessions", 1);
	render_named_counts(p, &fam_sync_drop, "reason",
			    json_object_get(sync, "drops"));
	render_named_counts(p, &fam_sync_reject, "reason",
			    json_object_get(sync, "rejects"));
	labels[0] = NULL;
	e = json_object_get(sync, "max_lag_ms");
	if (json_is_integer(e)) {
		snprintf(value, sizeof(value), "%.3f",
			 (double)json_integer_value(e) / 1000);
		prom_sample(p, &fam_sync_lag, labels, value);
	}
	render_scalar(p, &fam_sync_events, json_object_get(cl, "events"),
		      "emitted");
	render_scalar(p, &fam_sync_lost, json_object_get(cl, "events"), "lost");
}

/* One unlabelled sample of fam from member key of o, when present. */
static void render_scalar(struct prom *p, const struct family *fam, json_t *o,
			  const char *key)
{
	const char *labels[1] = {NULL};
	char value[64];

	if (prom_value(json_object_get(o, key), value, sizeof(value)))
		prom_sample(p, fam, labels, value);
}

int xlb_metrics_render_json(json_t *stats, char **buf, size_t *len)
{
	const char *info[3] = {"version", XLB_VERSION, NULL};
	const char *none[1] = {NULL};
	json_t *vips = json_object_get(stats, "vips");
	json_t *rings = json_object_get(stats, "rings");
	struct prom p = {0};
	char value[32];
	size_t f;
	int err;

	*buf = NULL;
	*len = 0;
	p.f = open_memstream(buf, len);
	if (!p.f)
		return -ENOMEM;

	prom_sample(&p, &fam_info, info, "1");
	if (json_is_array(vips)) {
		snprintf(value, sizeof(value), "%zu", json_array_size(vips));
		prom_sample(&p, &fam_vips, none, value);
	}
	render_vips(&p, vips);
	for (f = 0; f < ARRAY_SIZE(real_families); f++)
		for_each_real(&p, vips, &real_families[f], real_field);
	for_each_real(&p, vips, NULL, real_up);
	for_each_real(&p, vips, NULL, real_state);
	render_reasons(&p, json_object_get(stats, "reasons"));
	render_scalar(&p, &fam_guard_skipped, stats, "flood_guard_skipped");
	render_scalar(&p, &fam_nh_fallbacks, stats, "nexthop_fallbacks");
	render_scalar(&p, &fam_nh_reply_lookups, stats,
		      "nexthop_reply_lookups");
	render_scalar(&p, &fam_fc_fills, stats, "flow_cache_fills");
	render_scalar(&p, &fam_rebuilds, rings, "rebuilds");
	render_scalar(&p, &fam_rebuild_seconds, rings, "rebuild_seconds");
	render_fullnat(&p, json_object_get(stats, "fullnat"));
	render_cluster(&p, json_object_get(stats, "cluster"));

	err = ferror(p.f);
	if (fclose(p.f) || err) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		return -ENOMEM;
	}
	return 0;
}

void xlb_metrics_view_keys(xlb_metrics_key_fn fn, void *arg)
{
	static const struct {
		const char *object;
		const struct field_family *t;
		size_t n;
	} tables[] = {
		{"vip", vip_families, ARRAY_SIZE(vip_families)},
		{"real", real_families, ARRAY_SIZE(real_families)},
		{"fullnat", nat_families, ARRAY_SIZE(nat_families)},
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(tables); i++)
		for (j = 0; j < tables[i].n; j++)
			fn(arg, tables[i].object, tables[i].t[j].key,
			   tables[i].t[j].sub, tables[i].t[j].fam.name);
}

/* ---- The HTTP server --------------------------------------------------- */

struct xlb_metrics {
	struct MHD_Daemon *mhd;
	struct xlb_agent *agent;
	int epfd;
	struct xlb_event mhd_ev;   /* libmicrohttpd's epoll fd */
	struct xlb_event timer_ev; /* when libmicrohttpd must run again */
	bool mhd_added, timer_added;
};

/* A marker for a request whose headers have been seen. */
static int request_seen;

int xlb_metrics_listen_parse(const char *listen, struct sockaddr_storage *ss,
			     socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char addr[INET6_ADDRSTRLEN];
	const char *colon, *port, *end;
	bool v6 = listen && listen[0] == '[';
	unsigned long n;
	size_t alen;

	if (!listen)
		return -EINVAL;
	if (v6) {
		end = strchr(listen, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		alen = end - listen - 1;
		listen++;
		port = end + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		alen = colon - listen;
		port = colon + 1;
	}
	if (!alen || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, listen, alen);
	addr[alen] = '\0';

	/* Digits only: strtoul would take blanks and a sign. */
	if (!*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5)
		return -EINVAL;
	n = strtoul(port, NULL, 10);
	if (n > 65535)
		return -EINVAL;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)n);
		*len = sizeof(*sin6);
	} else {
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)n);
		*len = sizeof(*sin);
	}
	return 0;
}

/* Queue a response with body text (copied) and a content type. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int code,
			       const char *type, const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) !=
	    MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") !=
		    MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* GET /metrics: render the agent's stats now. */
static enum MHD_Result respond_metrics(struct xlb_metrics *m,
				       struct MHD_Connection *conn)
{
	const struct xlb_daemon_cmd *d;
	char why[XLB_ERR_LEN];
	enum MHD_Result ret;
	json_t *stats;
	char *buf;
	size_t len;
	int err;

	stats = xlb_agent_stats_json(m->agent);
	/* The daemon's part of stats: the node ("cluster"). */
	d = xlb_daemon_cmd("stats");
	if (stats && d)
		d->run(NULL, stats, why, sizeof(why));
	err = stats ? xlb_metrics_render_json(stats, &buf, &len) : -ENOMEM;
	json_decref(stats);
	if (err)
		return respond(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			       "text/plain", "out of memory\n");
	/* open_memstream()'s text ends with a NUL: respond() copies it. */
	ret = respond(conn, MHD_HTTP_OK, XLB_METRICS_CONTENT_TYPE, buf);
	free(buf);
	return ret;
}

/*
 * libmicrohttpd's request handler. It is called once the headers are in
 * (remember the request), once per piece of body (ignored), and once
 * when the request is complete: answer then.
 */
static enum MHD_Result metrics_request(void *cls, struct MHD_Connection *conn,
				       const char *url, const char *method,
				       const char *version,
				       const char *upload_data,
				       size_t *upload_data_size, void **req_cls)
{
	struct xlb_metrics *m = cls;

	if (!*req_cls) {
		*req_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			       "only GET and HEAD\n");
	if (strcmp(url, XLB_METRICS_PATH))
		return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain",
			       "not found: try " XLB_METRICS_PATH "\n");
	return respond_metrics(m, conn);
}

/*
 * Let libmicrohttpd do what is ready (it does not block), then arm the
 * timer for when it wants to run again: at once if work is left (its
 * connections are edge-triggered, so the epoll fd may not wake us), at
 * the next connection timeout, or never.
 */
static void metrics_run(struct xlb_metrics *m)
{
	struct itimerspec its = {0};
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(m->mhd);
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES) {
		if (ms > METRICS_MAX_WAIT_MS)
			ms = METRICS_MAX_WAIT_MS;
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000;
		if (!ms)
			its.it_value.tv_nsec = 1; /* zero would disarm */
	}
	timerfd_settime(m->timer_ev.fd, 0, &its, NULL);
}

/* Loop handler of libmicrohttpd's epoll fd. */
static void metrics_mhd_handler(struct xlb_event *ev, uint32_t events)
{
	metrics_run(metrics_container_of(ev, struct xlb_metrics, mhd_ev));
}

/* Loop handler of the timerfd. */
static void metrics_timer_handler(struct xlb_event *ev, uint32_t events)
{
	uint64_t expirations;

	/* Non-blocking: EAGAIN when the timer was re-armed meanwhile. */
	if (read(ev->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return;
	metrics_run(metrics_container_of(ev, struct xlb_metrics, timer_ev));
}

/*
 * libmicrohttpd does not say why it could not start. The only likely
 * reasons are the address's: bind it once ourselves to learn which.
 */
static int metrics_bind_error(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1, ret = -EIO;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len))
		ret = -errno;
	close(fd);
	return ret;
}

int xlb_metrics_open(const char *listen, struct xlb_agent *agent, int epfd,
		     struct xlb_metrics **out)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct xlb_metrics *m;
	unsigned int flags;
	socklen_t len;
	int ret;

	*out = NULL;
	if (!listen || !*listen || !strcmp(listen, "off"))
		return 0;
	ret = xlb_metrics_listen_parse(listen, &ss, &len);
	if (ret)
		return ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->agent = agent;
	m->epfd = epfd;
	m->mhd_ev.fd = -1;
	m->timer_ev.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer_ev.fd < 0) {
		ret = -errno;
		goto out_free;
	}
	m->timer_ev.handler = metrics_timer_handler;

	/* No MHD_USE_ERROR_LOG: library code does not log. */
	flags = MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	m->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, metrics_request, m, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)METRICS_MAX_CLIENTS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
		MHD_OPTION_END);
	if (!m->mhd) {
		ret = metrics_bind_error(&ss, len);
		goto out_close;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		ret = -EIO;
		goto out_close;
	}
	m->mhd_ev.fd = info->epoll_fd;
	m->mhd_ev.handler = metrics_mhd_handler;

	ret = xlb_loop_add(epfd, &m->mhd_ev, EPOLLIN);
	if (ret)
		goto out_close;
	m->mhd_added = true;
	ret = xlb_loop_add(epfd, &m->timer_ev, EPOLLIN);
	if (ret)
		goto out_close;
	m->timer_added = true;
	/* Arm the timer if the server already has something to do. */
	metrics_run(m);
	*out = m;
	return 0;

out_close:
	xlb_metrics_close(m);
	return ret;
out_free:
	free(m);
	return ret;
}

void xlb_metrics_close(struct xlb_metrics *m)
{
	if (!m)
		return;
	if (m->timer_added)
		xlb_loop_del(m->epfd, &m->timer_ev);
	if (m->mhd_added)
		xlb_loop_del(m->epfd, &m->mhd_ev);
	/* Closes the listening socket, the connections and the epoll fd. */
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->timer_ev.fd >= 0)
		close(m->timer_ev.fd);
	free(m);
}

int xlb_metrics_port(const struct xlb_metrics *m)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : -EIO;
}
