// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The readers of the agent's views, fed by the real agent (root): the
 * compiled data plane is loaded in a network namespace of the test's own
 * (tests/lib/dp_net.h), configured through lbctl's parser and the control
 * socket's dispatch, and given packets through BPF_PROG_TEST_RUN. Then
 * the views the daemon serves (stats, vip.list, status, sessions, laddr
 * list, node.status) go through metrics.c's renderer (and promtool) and
 * lbctl's printers (stats --rate too, between two samples), and the
 * numbers they show must be the ones the packets made. A key renamed on
 * either side makes a sample or a column go missing or read 0 here.
 *
 * The daemon's own parts of the replies are xlbd's, which is not linked:
 * the node's (node.status, stats' "cluster") come from a real node made
 * here and its own view, as xlbd makes them; ping's "host" is left out.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "control.h"
#include "daemon.h"
#include "lbctl_cli.h"
#include "maps.h"
#include "metrics.h"
#include "node.h"
#include "xlb.h"
#include "../lib/dp_net.h"
/* The data-path tests' packet builder: one translation unit with this. */
#include "../datapath/pkt.c"
#include "../lib/text.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct xlb_dp *dp;
static struct xlb_agent *agent;

/* ---- The daemon's part: the node ------------------------------------ */

/*
 * xlbd serves node.status and stats' "cluster" from its node with
 * xlb_node_json() (xlbd's cluster_json(), without sync, which this
 * test has none of). Until node_start(), none: a daemon with no node.
 */
static struct xlb_node *node;
static struct xlb_config node_cfg;
static char run_dir[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmd_stats(json_t *req, json_t *reply, char *err, size_t errlen)
{
	if (node)
		json_object_set_new(reply, "cluster",
				    xlb_node_json(node, now_ns()));
	return 0;
}

static int cmd_node_status(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *o;
	int ret;

	if (!node)
		return -EOPNOTSUPP;
	o = xlb_node_json(node, now_ns());
	ret = json_object_update(reply, o) ? -ENOMEM : 0;
	json_decref(o);
	return ret;
}

const struct xlb_daemon_cmd xlb_daemon_cmds[] = {
	{"stats", cmd_stats},
	{"node.status", cmd_node_status},
	{NULL},
};

/* This process's name, which the node watches as its routing daemon. */
static const char *comm(void)
{
	static char name[32];
	FILE *f = fopen("/proc/self/comm", "r");

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(name, sizeof(name), f));
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	return name;
}

/*
 * A node without a cluster that announces on xt0 and xt2 (routes in
 * this namespace's main table) and watches this process as its routing
 * daemon, through a pid file as FRR's.
 */
static void node_start(void)
{
	char err[XLB_ERR_LEN] = "", path[128];
	FILE *f;

	snprintf(run_dir, sizeof(run_dir), "/tmp/xlb-views.XXXXXX");
	cr_assert_not_null(mkdtemp(run_dir));
	xlb_config_defaults(&node_cfg);
	node_cfg.interfaces[0] = strdup(DP_NET_IF_CLIENT);
	node_cfg.interfaces[1] = strdup(DP_NET_IF_REALS);
	node_cfg.n_interfaces = 2;
	/* The pool xlbd's configuration would hold (traffic() adds it). */
	cr_assert_eq(xlb_ip_parse("10.97.0.1", &node_cfg.nat.laddrs[0]), 0);
	node_cfg.nat.n_laddrs = 1;
	node_cfg.routes.enabled = true;
	snprintf(node_cfg.routes.frr_run_dir,
		 sizeof(node_cfg.routes.frr_run_dir), "%s", run_dir);
	snprintf(node_cfg.routes.watch[0], sizeof(node_cfg.routes.watch[0]),
		 "%s", comm());
	snprintf(path, sizeof(path), "%s/%s.pid", run_dir, comm());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%d\n", (int)getpid());
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(xlb_node_new(&node_cfg, &node, err, sizeof(err)), 0,
		     "xlb_node_new: %s", err);
	xlb_node_set_attached(node, true);
	xlb_node_tick(node, agent, now_ns());
	xlb_node_announce(node, agent);
}

static void node_stop(void)
{
	char path[128];

	if (!node)
		return;
	xlb_node_free(node);
	node = NULL;
	snprintf(path, sizeof(path), "%s/%s.pid", run_dir, comm());
	unlink(path);
	rmdir(run_dir);
	xlb_config_free(&node_cfg);
}

/* The CPU the test runs its packets on (setup()). */
static int cpu;

/* Packets of each reason, as the runs below saw them move. */
static uint64_t seen[XLB_R_MAX];

static void tx_port(const char *ifname)
{
	uint32_t ifindex = if_nametoindex(ifname);

	cr_assert_gt(ifindex, 0, "no interface %s", ifname);
	cr_assert_eq(bpf_map_update_elem(xlb_dp_map_fd(dp, "tx_ports"),
					 &ifindex, &ifindex, BPF_ANY),
		     0, "tx_ports %s: %s", ifname, strerror(errno));
}

static void setup(void)
{
	struct xlb_dp_opts opts = {
		.max_vips = 16,
		.max_reals = 64,
		.ct_size = 1024,
		.nat_sessions = 1024,
	};
	struct xlb_config cfg;
	cpu_set_t cpus;
	char err[600];

	cr_assert_eq(dp_net_build(err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(dp_net_client_routes(err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(xlb_dp_open(&opts, &dp, err, sizeof(err)), 0,
		     "xlb_dp_open: %s", err);
	cr_assert_eq(xlb_agent_new(dp, &agent), 0);
	xlb_config_defaults(&cfg);
	cr_assert_eq(xlb_agent_set_globals(agent, &cfg), 0);
	xlb_config_free(&cfg);
	tx_port(DP_NET_IF_CLIENT);
	tx_port(DP_NET_IF_REALS);
	memset(seen, 0, sizeof(seen));
	/* Every packet on the last CPU, which the sessions view names
	 * (not 0 when there are two: a missing member would read 0). */
	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &cpus); cpu--)
		;
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	cr_assert_eq(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
}

static void teardown(void)
{
	node_stop();
	xlb_agent_free(agent);
	xlb_dp_close(dp, true);
	agent = NULL;
	dp = NULL;
}

TestSuite(views, .init = setup, .fini = teardown);

/* ---- lbctl through the control socket's dispatch ------------------- */

/*
 * Run an lbctl command line against the agent as lbctl and xlbd would,
 * without the socket in between: parse, dispatch each request, merge
 * the replies (lbctl.c's ctl_request), print. The command must succeed;
 * returns the printed text (malloc'd) and, when reply is not NULL, the
 * merged reply.
 */
static char *lbctl(json_t **reply, const char *line)
{
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN], *words[16], *copy, *tok, *save;
	json_t *req, *merged, *one;
	char *buf = NULL;
	size_t len = 0, i;
	int argc = 0;
	FILE *f;

	copy = strdup(line);
	words[argc++] = "lbctl";
	for (tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		cr_assert_lt(argc, (int)ARRAY_SIZE(words) - 1);
		words[argc++] = tok;
	}
	words[argc] = NULL;
	cr_assert_eq(lbctl_parse(argc, words, &inv, err, sizeof(err)), 0,
		     "lbctl %s: %s", line, err);
	cr_assert_eq(inv.action, LBCTL_RUN);
	req = inv.request;
	merged = json_object();
	for (i = 0; i < (json_is_array(req) ? json_array_size(req) : 1); i++) {
		one = xlb_control_dispatch(
			agent,
			json_is_array(req) ? json_array_get(req, i) : req);
		cr_assert_not_null(one);
		cr_assert(json_is_true(json_object_get(one, "ok")),
			  "lbctl %s: %s", line,
			  json_string_value(json_object_get(one, "error")));
		cr_assert_eq(json_object_update(merged, one), 0);
		json_decref(one);
	}
	f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	lbctl_print_reply(f, &inv, merged);
	cr_assert_eq(fclose(f), 0);
	lbctl_invocation_free(&inv);
	free(copy);
	if (reply)
		*reply = merged;
	else
		json_decref(merged);
	return buf;
}

static void lbctl_ok(const char *line)
{
	free(lbctl(NULL, line));
}

/*
 * Does text hold a line whose words (runs of blanks taken as one) are
 * exactly words? Column widths do not matter, values do.
 */
static bool has_row(const char *text, const char *words)
{
	char norm[512];
	const char *p, *end;
	size_t n;

	for (p = text; *p; p = *end ? end + 1 : end) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		n = 0;
		for (; p < end && n < sizeof(norm) - 1; p++) {
			if (*p == ' ' && (!n || norm[n - 1] == ' '))
				continue;
			norm[n++] = *p;
		}
		if (n && norm[n - 1] == ' ')
			n--;
		norm[n] = '\0';
		if (!strcmp(norm, words))
			return true;
	}
	return false;
}

#define expect_row(text, row)                                             \
	cr_expect(has_row((text), (row)), "no row \"%s\" in:\n%s", (row), \
		  (text))

/* ---- Traffic -------------------------------------------------------- */

/*
 * Run a frame through the program as received on ifname; exactly one
 * reason must move, by one. Returns the reason; out gets the frame
 * sent, if any.
 */
static enum xlb_reason run(const struct pkt *in, const char *ifname,
			   struct pkt_info *out)
{
	uint64_t before[XLB_R_MAX], after[XLB_R_MAX];
	uint8_t buf[PKT_MAX];
	char why[128];
	struct xdp_md ctx = {
		.data_end = in->len,
		.ingress_ifindex = if_nametoindex(ifname),
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->buf,
		    .data_size_in = in->len, .data_out = buf,
		    .data_size_out = sizeof(buf), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	enum xlb_reason reason = XLB_R_MAX;
	int i, moved = 0;

	cr_assert_eq(xlb_dp_reasons(dp, before), 0);
	cr_assert_eq(bpf_prog_test_run_opts(xlb_dp_prog_fd(dp), &opts), 0,
		     "BPF_PROG_TEST_RUN: %s", strerror(errno));
	cr_assert_eq(xlb_dp_reasons(dp, after), 0);
	for (i = 0; i < XLB_R_MAX; i++) {
		if (after[i] == before[i])
			continue;
		moved++;
		reason = i;
		cr_assert_eq(after[i] - before[i], 1);
	}
	cr_assert_eq(moved, 1, "%d reasons moved", moved);
	seen[reason]++;
	if (out)
		cr_assert_eq(pkt_parse(buf, opts.data_size_out, out, why,
				       sizeof(why)),
			     0, "%s", why);
	return reason;
}

static bool is_forward(enum xlb_reason r)
{
	return !strncmp(xlb_reason_names[r], "forward_", 8);
}

/* A TCP segment from a client to a VIP; its frame length is returned. */
static size_t client_tcp(const char *client, uint16_t sport, const char *vip,
			 uint8_t flags, struct pkt_info *out)
{
	struct pkt_spec spec = {
		.family = AF_INET,
		.saddr = client,
		.daddr = vip,
		.proto = IPPROTO_TCP,
		.sport = sport,
		.dport = 80,
		.tcp_flags = flags,
		.payload_len = flags & PKT_SYN ? 0 : 100,
	};
	struct pkt p;
	enum xlb_reason r;

	cr_assert_eq(pkt_build(&p, &spec), 0);
	r = run(&p, DP_NET_IF_CLIENT, out);
	cr_assert(is_forward(r), "%s:%u -> %s: %s", client, sport, vip,
		  xlb_reason_names[r]);
	return p.len;
}

/*
 * The traffic every test below reads back:
 * - tunnel VIP 10.0.0.10:80/tcp, reals 10.1.0.2 (up) and 10.1.0.3
 *   (draining, so it takes no new flow): three flows from 192.0.2.1,
 *   the first with two more segments: 5 packets, 3 new flows, all to
 *   10.1.0.2;
 * - fullnat VIP 10.0.0.20:80/tcp, local address 10.97.0.1, real
 *   10.1.0.4: two SYNs from 192.0.2.2, and the real's SYN-ACK to the
 *   first: 2 packets, 2 sessions, 1 reply;
 * - one frame of nobody's (pass_*).
 */
static struct {
	size_t tun_bytes;
	size_t nat_bytes;
	size_t reply_bytes;
	uint16_t lport;	 /* of the first fullnat flow */
	uint16_t lport2; /* of the second */
} sent;

static void traffic(void)
{
	struct pkt_spec other = {
		.family = AF_INET,
		.saddr = "192.0.2.9",
		.daddr = "10.0.0.1",
		.proto = IPPROTO_UDP,
		.sport = 5353,
		.dport = 53,
	};
	struct pkt_spec back = {
		.smac = "02:00:00:00:01:04",
		.family = AF_INET,
		.saddr = "10.1.0.4",
		.daddr = "10.97.0.1",
		.proto = IPPROTO_TCP,
		.sport = 80,
		.tcp_flags = PKT_SYN | PKT_ACK,
	};
	struct pkt_info out;
	struct pkt p;
	enum xlb_reason r;
	uint16_t port;

	lbctl_ok("laddr add 10.97.0.1");
	lbctl_ok("vip add 10.0.0.10:80/tcp --table-size 251");
	lbctl_ok("real add 10.0.0.10:80/tcp 10.1.0.2");
	lbctl_ok("real add 10.0.0.10:80/tcp 10.1.0.3 --weight 50");
	lbctl_ok("real drain 10.0.0.10:80/tcp 10.1.0.3");
	lbctl_ok("vip add 10.0.0.20:80/tcp --table-size 251 --mode fullnat "
		 "--mss 1400");
	lbctl_ok("real add 10.0.0.20:80/tcp 10.1.0.4");

	memset(&sent, 0, sizeof(sent));
	for (port = 1001; port <= 1003; port++) {
		sent.tun_bytes += client_tcp("192.0.2.1", port, "10.0.0.10",
					     PKT_SYN, &out);
		cr_assert_str_eq(pkt_outer_ip(&out)->dst, "10.1.0.2");
	}
	sent.tun_bytes +=
		client_tcp("192.0.2.1", 1001, "10.0.0.10", PKT_ACK, &out);
	sent.tun_bytes += client_tcp("192.0.2.1", 1001, "10.0.0.10",
				     PKT_ACK | PKT_PSH, &out);

	sent.nat_bytes +=
		client_tcp("192.0.2.2", 2001, "10.0.0.20", PKT_SYN, &out);
	cr_assert_str_eq(pkt_outer_ip(&out)->src, "10.97.0.1");
	cr_assert_str_eq(pkt_outer_ip(&out)->dst, "10.1.0.4");
	sent.lport = out.sport;
	sent.nat_bytes +=
		client_tcp("192.0.2.2", 2002, "10.0.0.20", PKT_SYN, &out);
	sent.lport2 = out.sport;

	back.dport = sent.lport;
	cr_assert_eq(pkt_build(&p, &back), 0);
	r = run(&p, DP_NET_IF_REALS, &out);
	cr_assert(is_forward(r), "reply: %s", xlb_reason_names[r]);
	cr_assert_str_eq(pkt_outer_ip(&out)->dst, "192.0.2.2");
	sent.reply_bytes = p.len;

	cr_assert_eq(pkt_build(&p, &other), 0);
	r = run(&p, DP_NET_IF_CLIENT, NULL);
	cr_assert(!is_forward(r), "%s", xlb_reason_names[r]);
}

/* ---- Metrics -------------------------------------------------------- */

/* /metrics as respond_metrics() makes it: stats plus the daemon's part. */
static char *scrape(void)
{
	const struct xlb_daemon_cmd *d = xlb_daemon_cmd("stats");
	char why[XLB_ERR_LEN];
	json_t *stats = xlb_agent_stats_json(agent);
	size_t len;
	char *buf;

	cr_assert_not_null(stats);
	if (d)
		cr_assert_eq(d->run(NULL, stats, why, sizeof(why)), 0);
	cr_assert_eq(xlb_metrics_render_json(stats, &buf, &len), 0);
	cr_assert_eq(strlen(buf), len);
	json_decref(stats);
	return buf;
}

#define expect_line(text, fmt, ...)                                          \
	do {                                                                 \
		char line_[256];                                             \
		snprintf(line_, sizeof(line_), fmt, ##__VA_ARGS__);          \
		cr_expect(has_line((text), line_), "no line \"%s\" in:\n%s", \
			  line_, (text));                                    \
	} while (0)

#define V1 "vip=\"10.0.0.10:80/tcp\""
#define V2 "vip=\"10.0.0.20:80/tcp\""
#define R2 V1 ",real=\"10.1.0.2\""
#define R3 V1 ",real=\"10.1.0.3\""
#define R4 V2 ",real=\"10.1.0.4\""

Test(views, metrics_count_the_traffic)
{
	char *text;
	int i;

	traffic();
	text = scrape();

	expect_line(text, "xlb_agent_info{version=\"%s\"} 1", XLB_VERSION);
	expect_line(text, "xlb_vips 2");
	/* The tunnel VIP: every packet to its one real that is up. */
	expect_line(text, "xlb_vip_packets_total{" V1 "} 5");
	expect_line(text, "xlb_vip_bytes_total{" V1 "} %zu", sent.tun_bytes);
	expect_line(text, "xlb_vip_new_flows_total{" V1 "} 3");
	expect_line(text, "xlb_vip_sessions{" V1 "} 3");
	expect_line(text, "xlb_vip_healthy_reals{" V1 "} 1");
	/* 1001 established (SYN, ACK); 1002 and 1003 opening. */
	expect_line(text, "xlb_vip_active_connections{" V1 "} 1");
	expect_line(text, "xlb_vip_inactive_connections{" V1 "} 2");
	expect_line(text, "xlb_real_active_connections{" R2 "} 1");
	expect_line(text, "xlb_real_inactive_connections{" R2 "} 2");
	expect_line(text, "xlb_real_packets_total{" R2 "} 5");
	expect_line(text, "xlb_real_bytes_total{" R2 "} %zu", sent.tun_bytes);
	expect_line(text, "xlb_real_new_flows_total{" R2 "} 3");
	expect_line(text, "xlb_real_sessions{" R2 "} 3");
	expect_line(text, "xlb_real_packets_total{" R3 "} 0");
	expect_line(text, "xlb_real_sessions{" R3 "} 0");
	expect_line(text, "xlb_real_weight{" R2 "} 100");
	expect_line(text, "xlb_real_weight{" R3 "} 50");
	expect_line(text, "xlb_real_up{" R2 "} 1");
	expect_line(text, "xlb_real_up{" R3 "} 0");
	expect_line(text, "xlb_real_state{" R3 ",state=\"draining\"} 1");
	expect_line(text, "xlb_real_state{" R3 ",state=\"up\"} 0");

	/* The fullnat VIP: two sessions, one reply. */
	expect_line(text, "xlb_vip_packets_total{" V2 "} 2");
	expect_line(text, "xlb_vip_bytes_total{" V2 "} %zu", sent.nat_bytes);
	expect_line(text, "xlb_vip_new_flows_total{" V2 "} 2");
	expect_line(text, "xlb_vip_reply_packets_total{" V2 "} 1");
	expect_line(text, "xlb_vip_reply_bytes_total{" V2 "} %zu",
		    sent.reply_bytes);
	expect_line(text, "xlb_vip_sessions{" V2 "} 2");
	/* 2001 answered by its real, 2002 not. */
	expect_line(text, "xlb_vip_active_connections{" V2 "} 1");
	expect_line(text, "xlb_vip_inactive_connections{" V2 "} 1");
	expect_line(text, "xlb_real_packets_total{" R4 "} 2");
	expect_line(text, "xlb_real_reply_packets_total{" R4 "} 1");
	expect_line(text, "xlb_real_sessions{" R4 "} 2");
	expect_line(text, "xlb_nat_sessions 2");
	expect_line(text, "xlb_nat_entries 2");
	expect_line(text, "xlb_nat_table_size 1024");
	expect_line(text, "xlb_nat_ports_per_cpu %d",
		    (65535 - 1024 + 1) / xlb_dp_ncpus(dp));
	expect_line(text, "xlb_nat_sweeps_total 0");
	expect_line(text,
		    "xlb_nat_local_address_sessions{address=\"10.97.0.1\"} 2");

	/* Every reason, with the count the runs saw move (zeros too). */
	for (i = 0; i < XLB_R_MAX; i++)
		expect_line(text, "xlb_packets_total{reason=\"%s\"} %llu",
			    xlb_reason_names[i], (unsigned long long)seen[i]);
	free(text);
}

/*
 * Every family the renderer knows about a node without health checks
 * or a cluster has a sample from the real view: a key the agent renamed
 * leaves its family out. (xlb_real_check_*, xlb_real_transitions_total
 * need health checks; xlb_node_*, xlb_route_*, xlb_sync_* a node.)
 */
Test(views, metrics_every_family_is_fed)
{
	static const char *const families[] = {
		"xlb_agent_info",
		"xlb_vips",
		"xlb_vip_packets_total",
		"xlb_vip_bytes_total",
		"xlb_vip_new_flows_total",
		"xlb_vip_reply_packets_total",
		"xlb_vip_reply_bytes_total",
		"xlb_vip_sessions",
		"xlb_vip_active_connections",
		"xlb_vip_inactive_connections",
		"xlb_vip_healthy_reals",
		"xlb_real_packets_total",
		"xlb_real_bytes_total",
		"xlb_real_new_flows_total",
		"xlb_real_reply_packets_total",
		"xlb_real_reply_bytes_total",
		"xlb_real_sessions",
		"xlb_real_active_connections",
		"xlb_real_inactive_connections",
		"xlb_real_weight",
		"xlb_real_up",
		"xlb_real_state",
		"xlb_packets_total",
		"xlb_flood_guard_skipped_total",
		"xlb_nexthop_fallbacks_total",
		"xlb_nexthop_reply_lookups_total",
		"xlb_flow_cache_fills_total",
		"xlb_ring_rebuilds_total",
		"xlb_ring_rebuild_seconds_total",
		"xlb_nat_sessions",
		"xlb_nat_entries",
		"xlb_nat_table_size",
		"xlb_nat_ports_per_cpu",
		"xlb_nat_sweeps_total",
		"xlb_nat_expired_total",
		"xlb_nat_orphans_total",
		"xlb_nat_sweep_seconds",
		"xlb_nat_local_address_sessions",
	};
	char *text, type[128];
	size_t i;

	traffic();
	text = scrape();
	for (i = 0; i < ARRAY_SIZE(families); i++) {
		snprintf(type, sizeof(type), "# TYPE %s ", families[i]);
		cr_expect(strstr(text, type), "family %s has no sample",
			  families[i]);
	}
	/* Five rebuilds at least: one per VIP and per real added. */
	cr_expect(!has_line(text, "xlb_ring_rebuilds_total 0"), "%s", text);
	free(text);
}

/* The objects of a stats view that the renderer's families read. */
struct view_objects {
	json_t *vips;
	json_t *fullnat;
	size_t checked, missing_health;
};

static void key_in(json_t *o, const char *where, const char *key,
		   const char *sub, const char *family, struct view_objects *v)
{
	json_t *m = json_object_get(o, key);

	v->checked++;
	/* A real's "health" is the daemon's, there when it checks the
	 * real (xlbd's hook): not in this view. */
	if (!m && !strcmp(key, "health")) {
		v->missing_health++;
		return;
	}
	cr_expect(m, "%s reads %s.%s, which the view of %s has not", family,
		  where, key, json_string_value(json_object_get(o, "vip")) ?:
		  json_string_value(json_object_get(o, "address")) ?: where);
	if (m && sub)
		cr_expect(json_object_get(m, sub),
			  "%s reads %s.%s.%s, which the view has not", family,
			  where, key, sub);
}

static void check_key(void *arg, const char *object, const char *key,
		      const char *sub, const char *family)
{
	struct view_objects *v = arg;
	json_t *vip, *real;
	size_t i, j;

	if (!strcmp(object, "fullnat")) {
		key_in(v->fullnat, object, key, sub, family, v);
		return;
	}
	json_array_foreach(v->vips, i, vip) {
		if (!strcmp(object, "vip")) {
			key_in(vip, object, key, sub, family, v);
			continue;
		}
		json_array_foreach(json_object_get(vip, "reals"), j, real)
			key_in(real, object, key, sub, family, v);
	}
}

/*
 * Every member the renderer's per-object families read (its own tables,
 * so a family added later is checked too) is in the agent's view of
 * every VIP and real, and in its fullnat object: a member renamed on
 * either side fails here by name.
 */
Test(views, metrics_keys_are_in_the_view)
{
	struct view_objects v = {0};
	json_t *stats;

	traffic();
	stats = xlb_agent_stats_json(agent);
	v.vips = json_object_get(stats, "vips");
	v.fullnat = json_object_get(stats, "fullnat");
	cr_assert_eq(json_array_size(v.vips), 2);
	cr_assert(json_is_object(v.fullnat));
	xlb_metrics_view_keys(check_key, &v);
	/* 9 VIP families on 2 VIPs, 14 real ones on 3 reals, 8 fullnat. */
	cr_expect_eq(v.checked, 9 * 2 + 14 * 3 + 8);
	/* The 5 health families on each real. */
	cr_expect_eq(v.missing_health, 5 * 3);
	json_decref(stats);
}

/*
 * promtool check metrics (Debian's prometheus package, make deps) on
 * text: its exit status, its output in out.
 */
static int promtool_check(const char *text, char *out, size_t outlen)
{
	char in_path[] = "/tmp/test_views.XXXXXX", cmd[256];
	int fd, status;
	size_t n;
	FILE *p;

	fd = mkstemp(in_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", in_path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(in_path);
	cr_assert(WIFEXITED(status), "promtool died: %d", status);
	cr_assert_neq(WEXITSTATUS(status), 127, "promtool not found");
	return WEXITSTATUS(status);
}

/* ---- lbctl's printers ----------------------------------------------- */

/* The members lbctl's printers looked for and did not find. */
static char missed[32][64];
static size_t n_missed;

static void note_missing(const char *key)
{
	size_t i;

	for (i = 0; i < n_missed; i++)
		if (!strcmp(missed[i], key))
			return;
	if (n_missed < ARRAY_SIZE(missed))
		snprintf(missed[n_missed++], sizeof(missed[0]), "%s", key);
}

/*
 * Every member lbctl's printers read is in the agent's views (a member
 * renamed on either side fails here by name), but those another part of
 * the daemon adds, absent here: a real's "health" (the checks), status's
 * "host" (ping's sysctl part), node status's "sync" (the cluster).
 */
Test(views, lbctl_keys_are_in_the_view)
{
	static const char *const lines[] = {
		"vip list", "stats",	  "status",
		"sessions", "laddr list", "node status",
	};
	static const char *const elsewhere[] = {"health", "host", "sync"};
	size_t i, j;

	traffic();
	node_start();
	lbctl_missing_key = note_missing;
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		free(lbctl(NULL, lines[i]));
	lbctl_missing_key = NULL;
	for (i = 0; i < n_missed; i++) {
		for (j = 0; j < ARRAY_SIZE(elsewhere); j++)
			if (!strcmp(missed[i], elsewhere[j]))
				break;
		cr_expect_lt(j, ARRAY_SIZE(elsewhere),
			     "lbctl reads \"%s\", which no view has",
			     missed[i]);
	}
}

Test(views, lbctl_stats)
{
	char row[256], *text;
	int i;

	traffic();
	text = lbctl(NULL, "stats");
	/* Tunnel: flow 1001 is established (SYN, ACK), the others opening;
	 * fullnat: 2001 established (its real answered), 2002 opening. */
	snprintf(row, sizeof(row), "10.0.0.10:80/tcp 5 %zu 3 1 2",
		 sent.tun_bytes);
	expect_row(text, row);
	snprintf(row, sizeof(row), "-> 10.1.0.2 5 %zu 3 1 2", sent.tun_bytes);
	expect_row(text, row);
	expect_row(text, "-> 10.1.0.3 0 0 0 0 0");
	snprintf(row, sizeof(row), "10.0.0.20:80/tcp 2 %zu 2 1 1",
		 sent.nat_bytes);
	expect_row(text, row);
	snprintf(row, sizeof(row), "-> 10.1.0.4 2 %zu 2 1 1", sent.nat_bytes);
	expect_row(text, row);
	/* Every reason that moved, with its count, and no other. */
	for (i = 0; i < XLB_R_MAX; i++) {
		snprintf(row, sizeof(row), "%s %llu", xlb_reason_names[i],
			 (unsigned long long)seen[i]);
		if (seen[i])
			expect_row(text, row);
		else
			cr_expect(!strstr(text, xlb_reason_names[i]),
				  "%s did not move:\n%s", xlb_reason_names[i],
				  text);
	}
	snprintf(row, sizeof(row),
		 "FULLNAT: 2 active sessions (2 entries of 1024), ports "
		 "1024-65535, %d per CPU on %d CPUs",
		 (65535 - 1024 + 1) / xlb_dp_ncpus(dp), xlb_dp_ncpus(dp));
	expect_row(text, row);
	expect_row(text, "sweeps: 0, 0 sessions expired, 0 orphans");
	expect_row(text, "10.97.0.1 2");
	free(text);
}

/* stats --rate: the rates between two real samples, 2 s apart. */
Test(views, lbctl_stats_rate)
{
	struct lbctl_invocation inv;
	char *argv[] = {"lbctl", "stats", "--rate", NULL};
	char err[XLB_ERR_LEN], row[256], *buf = NULL;
	json_t *before, *after, *rates;
	struct pkt_info out;
	size_t len = 0, bytes = 0, nat_bytes;
	FILE *f;

	traffic();
	free(lbctl(&before, "stats"));
	/* Two more flows to the tunnel VIP, one more packet of a fullnat
	 * one. */
	bytes += client_tcp("192.0.2.1", 1004, "10.0.0.10", PKT_SYN, &out);
	bytes += client_tcp("192.0.2.1", 1005, "10.0.0.10", PKT_SYN, &out);
	nat_bytes = client_tcp("192.0.2.2", 2001, "10.0.0.20", PKT_ACK, &out);
	free(lbctl(&after, "stats"));

	rates = lbctl_stats_rates(before, after, 2.0);
	cr_assert_not_null(rates);
	cr_assert_eq(lbctl_parse(3, argv, &inv, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(inv.rate);
	f = open_memstream(&buf, &len);
	lbctl_print_reply(f, &inv, rates);
	cr_assert_eq(fclose(f), 0);
	expect_row(buf, "VIP / REAL CPS InPPS InBPS");
	snprintf(row, sizeof(row), "10.0.0.10:80/tcp 1.0 1.0 %.1f",
		 bytes / 2.0);
	expect_row(buf, row);
	snprintf(row, sizeof(row), "-> 10.1.0.2 1.0 1.0 %.1f", bytes / 2.0);
	expect_row(buf, row);
	expect_row(buf, "-> 10.1.0.3 0.0 0.0 0.0");
	snprintf(row, sizeof(row), "10.0.0.20:80/tcp 0.0 0.5 %.1f",
		 nat_bytes / 2.0);
	expect_row(buf, row);
	expect_row(buf, "forward_redirect 1.5");
	free(buf);
	lbctl_invocation_free(&inv);
	json_decref(rates);
	json_decref(before);
	json_decref(after);
}

Test(views, lbctl_status)
{
	char row[256], *text;
	unsigned long long fwd = 0, pass = 0, drop = 0;
	int i;

	traffic();
	for (i = 0; i < XLB_R_MAX; i++) {
		if (!strncmp(xlb_reason_names[i], "forward_", 8))
			fwd += seen[i];
		else if (!strncmp(xlb_reason_names[i], "pass_", 5))
			pass += seen[i];
		else
			drop += seen[i];
	}
	cr_assert_eq(fwd, 8);
	cr_assert_eq(pass + drop, 1);
	text = lbctl(NULL, "status");
	snprintf(row, sizeof(row),
		 "xlbd %s on %s: 2 VIPs, 3 reals (2 up, 0 down, 1 draining)",
		 XLB_VERSION, XLB_DEFAULT_SOCKET);
	expect_row(text, row);
	snprintf(row, sizeof(row),
		 "packets: %llu forwarded, %llu passed, %llu dropped", fwd,
		 pass, drop);
	expect_row(text, row);
	/* State, weight, check, packets, new flows, active, inactive. */
	expect_row(text, "10.0.0.10:80/tcp 1/2 up 5 3 1 2");
	expect_row(text, "-> 10.1.0.2 up 100 - 5 3 1 2");
	expect_row(text, "-> 10.1.0.3 draining 50 - 0 0 0 0");
	expect_row(text, "10.0.0.20:80/tcp 1/1 up 2 2 1 1");
	expect_row(text, "-> 10.1.0.4 up 100 - 2 2 1 1");
	free(text);
}

Test(views, lbctl_vip_list)
{
	char *text;

	traffic();
	text = lbctl(NULL, "vip list");
	expect_row(text, "VIP HASH MODE ENCAP MSS TABLE REALS");
	expect_row(text, "10.0.0.10:80/tcp maglev tunnel ipip - 251 2");
	expect_row(text, "-> 10.1.0.2 weight 100 up");
	expect_row(text, "-> 10.1.0.3 weight 50 draining");
	expect_row(text, "10.0.0.20:80/tcp maglev fullnat - 1400 251 1");
	expect_row(text, "-> 10.1.0.4 weight 100 up");
	free(text);
}

Test(views, lbctl_sessions_and_laddrs)
{
	char row[256], *text;

	traffic();
	text = lbctl(NULL, "sessions");
	expect_row(text, "PROTO CLIENT VIP LOCAL REAL STATE IDLE CPU");
	/* Conntrack's flows (tunnel) and FULLNAT's sessions, all on the
	 * test's CPU. */
	snprintf(row, sizeof(row),
		 "tcp 192.0.2.1:1001 10.0.0.10:80 - 10.1.0.2:80 established 0 "
		 "%d",
		 cpu);
	expect_row(text, row);
	snprintf(row, sizeof(row),
		 "tcp 192.0.2.1:1002 10.0.0.10:80 - 10.1.0.2:80 syn_recv 0 %d",
		 cpu);
	expect_row(text, row);
	snprintf(row, sizeof(row),
		 "tcp 192.0.2.1:1003 10.0.0.10:80 - 10.1.0.2:80 syn_recv 0 %d",
		 cpu);
	expect_row(text, row);
	snprintf(row, sizeof(row),
		 "tcp 192.0.2.2:2001 10.0.0.20:80 10.97.0.1:%u 10.1.0.4:80 "
		 "established 0 %d",
		 sent.lport, cpu);
	expect_row(text, row);
	snprintf(row, sizeof(row),
		 "tcp 192.0.2.2:2002 10.0.0.20:80 10.97.0.1:%u 10.1.0.4:80 "
		 "syn_sent 0 %d",
		 sent.lport2, cpu);
	expect_row(text, row);
	expect_row(text, "5 sessions");
	free(text);

	text = lbctl(NULL, "laddr list");
	expect_row(text, "LOCAL ADDRESS SESSIONS");
	expect_row(text, "10.97.0.1 2");
	free(text);
}

/*
 * A sweep a minute on: the opening FULLNAT session (2002, 30 s) is gone,
 * the answered one (2001, 900 s) stays; stats and /metrics say so.
 */
Test(views, sweep_shows_in_stats)
{
	struct xlb_nat_gc_stats st;
	char *text;

	traffic();
	cr_assert_eq(xlb_agent_nat_gc(agent, now_ns() + 60000000000ull, &st),
		     0);
	text = lbctl(NULL, "stats");
	cr_expect(strstr(text, "\nFULLNAT: 1 active sessions (1 entries of "
			       "1024), "),
		  "%s", text);
	expect_row(text, "sweeps: 1, 1 sessions expired, 0 orphans");
	expect_row(text, "10.97.0.1 1");
	free(text);

	text = scrape();
	expect_line(text, "xlb_nat_sessions 1");
	expect_line(text, "xlb_nat_entries 1");
	expect_line(text, "xlb_nat_sweeps_total 1");
	expect_line(text, "xlb_nat_expired_total 1");
	expect_line(text, "xlb_nat_orphans_total 0");
	expect_line(text,
		    "xlb_nat_local_address_sessions{address=\"10.97.0.1\"} 1");
	free(text);
}

/* ---- The node ------------------------------------------------------- */

Test(views, node_status)
{
	char row[256], *text;
	uint32_t metric;

	traffic();
	node_start();
	metric = node_cfg.routes.metric;
	text = lbctl(NULL, "node status");
	cr_expect(strstr(text, "node (no cluster): online for "), "%s", text);
	/* A node that never changed state counts from its start (it once
	 * counted from the clock's zero: the machine's uptime). */
	{
		const char *at = strstr(text, "online for ");
		unsigned long ms = ~0UL;

		cr_assert(at && sscanf(at, "online for %lu ms", &ms) == 1, "%s",
			  text);
		cr_expect_lt(ms, 60000UL, "a new node online for %lu ms", ms);
	}
	cr_expect(strstr(text, " ms: starting\n"), "%s", text);
	expect_row(text, "ROUTE KIND METRIC ANNOUNCED WHY NOT");
	snprintf(row, sizeof(row), "10.0.0.10 vip %u yes -", metric);
	expect_row(text, row);
	snprintf(row, sizeof(row), "10.0.0.20 vip %u yes -", metric);
	expect_row(text, row);
	snprintf(row, sizeof(row), "10.97.0.1 local %u yes -", metric);
	expect_row(text, row);
	/* The model's part: tracked flows by mode, as stats counts them. */
	expect_row(text, "sessions: 3 tunnel, 2 fullnat");
	expect_row(text, "interface xt0: up");
	expect_row(text, "interface xt2: up");
	snprintf(row, sizeof(row), "routing daemon %s: running (pid %d)",
		 comm(), (int)getpid());
	expect_row(text, row);
	free(text);

	/* Draining withdraws every route; the views say so. */
	xlb_node_set_state(node, XLB_NODE_DRAINING, "lbctl node drain",
			   now_ns());
	xlb_node_announce(node, agent);
	text = lbctl(NULL, "node status");
	cr_expect(strstr(text, "node (no cluster): draining for "), "%s", text);
	cr_expect(strstr(text, ", still forwarding (no flow for "), "%s", text);
	cr_expect(strstr(text, " ms): lbctl node drain\n"), "%s", text);
	snprintf(row, sizeof(row), "10.0.0.10 vip %u no node is draining",
		 metric);
	expect_row(text, row);
	snprintf(row, sizeof(row), "10.97.0.1 local %u no node is draining",
		 metric);
	expect_row(text, row);
	free(text);
}

/*
 * The node announces its FULLNAT pool as it is now, not as configured:
 * an address lbctl laddr adds is announced, one it removes withdrawn
 * (node_cfg's configured 10.97.0.1 was once announced in their stead).
 */
Test(views, node_announces_the_live_pool)
{
	char row[256], *text;

	node_start();
	text = lbctl(NULL, "node status");
	cr_expect_null(strstr(text, "10.97.0.1"), "not in the pool:\n%s", text);
	free(text);

	lbctl_ok("laddr add 10.97.0.2");
	xlb_node_announce(node, agent);
	text = lbctl(NULL, "node status");
	snprintf(row, sizeof(row), "10.97.0.2 local %u yes -",
		 node_cfg.routes.metric);
	expect_row(text, row);
	free(text);

	lbctl_ok("laddr del 10.97.0.2");
	xlb_node_announce(node, agent);
	text = lbctl(NULL, "node status");
	cr_expect_null(strstr(text, "10.97.0.2"), "withdrawn:\n%s", text);
	free(text);
}

Test(views, metrics_of_the_node)
{
	char out[4096], *text;

	traffic();
	node_start();
	text = scrape();
	expect_line(text, "xlb_node_state{state=\"pre-online\"} 0");
	expect_line(text, "xlb_node_state{state=\"online\"} 1");
	expect_line(text, "xlb_node_state{state=\"draining\"} 0");
	expect_line(text, "xlb_node_drained 0");
	expect_line(
		text,
		"xlb_route_announced{address=\"10.0.0.10\",kind=\"vip\"} 1");
	expect_line(
		text,
		"xlb_route_announced{address=\"10.0.0.20\",kind=\"vip\"} 1");
	expect_line(
		text,
		"xlb_route_announced{address=\"10.97.0.1\",kind=\"local\"} 1");
	expect_line(text, "xlb_routing_daemon_up{daemon=\"%s\"} 1", comm());
	/* The whole scrape of a real agent and node is valid exposition. */
	cr_expect_eq(promtool_check(text, out, sizeof(out)), 0, "promtool: %s",
		     out);
	free(text);

	xlb_node_set_state(node, XLB_NODE_DRAINING, "drain", now_ns());
	xlb_node_announce(node, agent);
	text = scrape();
	expect_line(text, "xlb_node_state{state=\"online\"} 0");
	expect_line(text, "xlb_node_state{state=\"draining\"} 1");
	expect_line(
		text,
		"xlb_route_announced{address=\"10.0.0.10\",kind=\"vip\"} 0");
	expect_line(
		text,
		"xlb_route_announced{address=\"10.97.0.1\",kind=\"local\"} 0");
	free(text);
}
