// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the Prometheus endpoint (metrics.c): a known stats view
 * renders to exactly the expected text, optional members appear only when
 * present, label values are escaped, promtool accepts what we render (and
 * rejects what it should, so the check can fail), the listen address
 * parser, and the HTTP server itself, driven by an epoll loop in this
 * process like xlbd's. The agent is a stub that returns the view the test
 * chose; the loop functions are the daemon's, redefined here.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "daemon.h"
#include "loop.h"
#include "metrics.h"
#include "xlb.h"
#include "../lib/text.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Stubs: the agent's stats view and the daemon's loop --------------- */

static struct {
	json_t *stats; /* what the next scrape sees; NULL: out of memory */
	int calls;
} stub;

json_t *xlb_agent_stats_json(struct xlb_agent *agent)
{
	cr_assert_eq(agent, (struct xlb_agent *)&stub);
	stub.calls++;
	return json_deep_copy(stub.stats);
}

/* A daemon with no part of its own in stats. */
const struct xlb_daemon_cmd xlb_daemon_cmds[] = {
	{NULL},
};

/* ---- Rendering --------------------------------------------------------- */

/* Render the JSON text; return the exposition text (malloc'd). */
static char *render(const char *json_text)
{
	json_error_t jerr;
	json_t *stats;
	size_t len;
	char *buf;

	stats = json_loads(json_text, 0, &jerr);
	cr_assert_not_null(stats, "bad fixture: %s", jerr.text);
	cr_assert_eq(xlb_metrics_render_json(stats, &buf, &len), 0);
	cr_assert_eq(strlen(buf), len);
	json_decref(stats);
	return buf;
}

/* A view as the daemon gives it today, plus the members still to come. */
static const char stats_full[] =
	"{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"hash\":\"maglev\","
	"\"table_size\":65537,\"packets\":10,\"bytes\":740,\"new_flows\":2,"
	"\"active_conns\":1,\"inactive_conns\":1,"
	"\"reals\":["
	"{\"address\":\"10.1.0.2\",\"id\":1,\"weight\":100,\"state\":\"up\","
	"\"packets\":6,\"bytes\":444,\"new_flows\":1,"
	"\"active_conns\":1,\"inactive_conns\":0,"
	"\"health\":{\"latency_seconds\":0.0025}},"
	"{\"address\":\"10.1.0.3\",\"id\":2,\"weight\":0,"
	"\"state\":\"draining\",\"packets\":4,\"bytes\":296,\"new_flows\":1,"
	"\"active_conns\":0,\"inactive_conns\":1}"
	"]}],"
	"\"reasons\":{\"forward_tx\":10,\"drop_truncated\":0},"
	"\"rings\":{\"rebuilds\":4,\"rebuild_seconds\":0.125}}";

#define V  "vip=\"10.0.0.10:80/tcp\""
#define R1 V ",real=\"10.1.0.2\""
#define R2 V ",real=\"10.1.0.3\""

static const char text_full[] =
	"# HELP xlb_agent_info Always 1; the version of the running xlbd is "
	"in the labels.\n"
	"# TYPE xlb_agent_info gauge\n"
	"xlb_agent_info{version=\"" XLB_VERSION "\"} 1\n"
	"# HELP xlb_vips VIPs configured.\n"
	"# TYPE xlb_vips gauge\n"
	"xlb_vips 1\n"
	"# HELP xlb_vip_packets_total Packets to the VIP for which a real was "
	"chosen.\n"
	"# TYPE xlb_vip_packets_total counter\n"
	"xlb_vip_packets_total{" V "} 10\n"
	"# HELP xlb_vip_bytes_total Bytes of those packets (whole frames as "
	"received).\n"
	"# TYPE xlb_vip_bytes_total counter\n"
	"xlb_vip_bytes_total{" V "} 740\n"
	"# HELP xlb_vip_new_flows_total Connections started on the VIP: TCP "
	"SYNs (without ACK) that start a flow or replace a closing one, first "
	"datagrams of UDP flows.\n"
	"# TYPE xlb_vip_new_flows_total counter\n"
	"xlb_vip_new_flows_total{" V "} 2\n"
	"# HELP xlb_vip_active_connections Tracked TCP flows of the VIP that "
	"are established (ipvsadm's ActiveConn).\n"
	"# TYPE xlb_vip_active_connections gauge\n"
	"xlb_vip_active_connections{" V "} 1\n"
	"# HELP xlb_vip_inactive_connections The other tracked flows of the "
	"VIP: opening, closing, reset, UDP (ipvsadm's InActConn).\n"
	"# TYPE xlb_vip_inactive_connections gauge\n"
	"xlb_vip_inactive_connections{" V "} 1\n"
	"# HELP xlb_real_packets_total Packets for which the real was "
	"chosen.\n"
	"# TYPE xlb_real_packets_total counter\n"
	"xlb_real_packets_total{" R1 "} 6\n"
	"xlb_real_packets_total{" R2 "} 4\n"
	"# HELP xlb_real_bytes_total Bytes sent to the real by the data plane "
	"(client frames, before encapsulation).\n"
	"# TYPE xlb_real_bytes_total counter\n"
	"xlb_real_bytes_total{" R1 "} 444\n"
	"xlb_real_bytes_total{" R2 "} 296\n"
	"# HELP xlb_real_new_flows_total Connections started on the real (as "
	"xlb_vip_new_flows_total).\n"
	"# TYPE xlb_real_new_flows_total counter\n"
	"xlb_real_new_flows_total{" R1 "} 1\n"
	"xlb_real_new_flows_total{" R2 "} 1\n"
	"# HELP xlb_real_active_connections Tracked TCP flows of the real "
	"that are established (ActiveConn).\n"
	"# TYPE xlb_real_active_connections gauge\n"
	"xlb_real_active_connections{" R1 "} 1\n"
	"xlb_real_active_connections{" R2 "} 0\n"
	"# HELP xlb_real_inactive_connections The other tracked flows of the "
	"real (InActConn).\n"
	"# TYPE xlb_real_inactive_connections gauge\n"
	"xlb_real_inactive_connections{" R1 "} 0\n"
	"xlb_real_inactive_connections{" R2 "} 1\n"
	"# HELP xlb_real_weight The real's weight (share of new flows within "
	"its VIP).\n"
	"# TYPE xlb_real_weight gauge\n"
	"xlb_real_weight{" R1 "} 100\n"
	"xlb_real_weight{" R2 "} 0\n"
	"# HELP xlb_real_check_latency_seconds How long the real's last "
	"health check took.\n"
	"# TYPE xlb_real_check_latency_seconds gauge\n"
	"xlb_real_check_latency_seconds{" R1 "} 0.0025\n"
	"# HELP xlb_real_up 1 when the real takes new flows (state up), else "
	"0.\n"
	"# TYPE xlb_real_up gauge\n"
	"xlb_real_up{" R1 "} 1\n"
	"xlb_real_up{" R2 "} 0\n"
	"# HELP xlb_real_state 1 for the real's current state (up, down or "
	"draining), 0 for the others.\n"
	"# TYPE xlb_real_state gauge\n"
	"xlb_real_state{" R1 ",state=\"up\"} 1\n"
	"xlb_real_state{" R1 ",state=\"down\"} 0\n"
	"xlb_real_state{" R1 ",state=\"draining\"} 0\n"
	"xlb_real_state{" R2 ",state=\"up\"} 0\n"
	"xlb_real_state{" R2 ",state=\"down\"} 0\n"
	"xlb_real_state{" R2 ",state=\"draining\"} 1\n"
	"# HELP xlb_packets_total Packets seen by the XDP program, by what "
	"became of them (one reason per packet: forward_*, pass_*, drop_*).\n"
	"# TYPE xlb_packets_total counter\n"
	"xlb_packets_total{reason=\"forward_tx\"} 10\n"
	"xlb_packets_total{reason=\"drop_truncated\"} 0\n"
	"# HELP xlb_ring_rebuilds_total Maglev tables built and published.\n"
	"# TYPE xlb_ring_rebuilds_total counter\n"
	"xlb_ring_rebuilds_total 4\n"
	"# HELP xlb_ring_rebuild_seconds_total Time spent building and "
	"publishing Maglev tables.\n"
	"# TYPE xlb_ring_rebuild_seconds_total counter\n"
	"xlb_ring_rebuild_seconds_total 0.125\n";

Test(render, exact_text)
{
	char *text = render(stats_full);

	cr_expect_str_eq(text, text_full);
	free(text);
}

/* The view of today's daemon: no health, no rings, no sessions. */
Test(render, optional_members_absent)
{
	char *text = render(
		"{\"vips\":[{\"vip\":\"[2001:db8::10]:443/udp\",\"id\":2,"
		"\"packets\":0,\"bytes\":0,\"new_flows\":0,\"reals\":["
		"{\"address\":\"2001:db8:1::2\",\"weight\":7,"
		"\"state\":\"down\",\"packets\":0,\"bytes\":0,"
		"\"new_flows\":0}]}],\"reasons\":{\"pass_not_vip\":3}}");

	cr_expect(has_line(text, "xlb_vips 1"), "%s", text);
	cr_expect(has_line(text, "xlb_real_packets_total{vip=\"[2001:db8::10]"
				 ":443/udp\",real=\"2001:db8:1::2\"} 0"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_real_up{vip=\"[2001:db8::10]:443/udp\","
				 "real=\"2001:db8:1::2\"} 0"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_real_state{vip=\"[2001:db8::10]:443/"
				 "udp\",real=\"2001:db8:1::2\",state=\"down\"} "
				 "1"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_packets_total{reason=\"pass_not_vip\"} "
				 "3"),
		  "%s", text);
	cr_expect_null(strstr(text, "latency"), "%s", text);
	cr_expect_null(strstr(text, "ring"), "%s", text);
	cr_expect_null(strstr(text, "sessions"), "%s", text);
	free(text);
}

Test(render, sessions_when_present)
{
	char *text = render("{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\","
			    "\"sessions\":5,\"reals\":[{\"address\":"
			    "\"10.1.0.2\",\"sessions\":3}]}]}");

	cr_expect(has_line(text, "# TYPE xlb_vip_sessions gauge"), "%s", text);
	cr_expect(has_line(text, "xlb_vip_sessions{" V "} 5"), "%s", text);
	cr_expect(has_line(text, "# TYPE xlb_real_sessions gauge"), "%s", text);
	cr_expect(has_line(text, "xlb_real_sessions{" R1 "} 3"), "%s", text);
	free(text);
}

/* FULLNAT: the "fullnat" object and the reply counters. */
static const char fullnat_view[] =
	"{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"reply_packets\":7,"
	"\"reply_bytes\":700,\"reals\":[{\"address\":\"10.1.0.2\","
	"\"reply_packets\":6,\"reply_bytes\":600}]}],"
	"\"fullnat\":{\"sessions\":4,\"entries\":6,\"table_size\":262144,"
	"\"ports_per_cpu\":32256,\"local_addresses\":[{\"address\":"
	"\"10.97.0.1\",\"sessions\":3},{\"address\":\"fd00:97::1\","
	"\"sessions\":1}],\"gc\":{\"sweeps\":10,\"expired\":5,"
	"\"orphans\":2,\"last_duration_seconds\":0.25}}}";

Test(render, fullnat_when_present)
{
	char *text = render(fullnat_view);

	cr_expect(has_line(text, "xlb_vip_reply_packets_total{" V "} 7"), "%s",
		  text);
	cr_expect(has_line(text, "xlb_vip_reply_bytes_total{" V "} 700"), "%s",
		  text);
	cr_expect(has_line(text, "xlb_real_reply_packets_total{" R1 "} 6"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_real_reply_bytes_total{" R1 "} 600"),
		  "%s", text);
	cr_expect(has_line(text, "# TYPE xlb_nat_sessions gauge"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_sessions 4"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_entries 6"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_table_size 262144"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_ports_per_cpu 32256"), "%s", text);
	cr_expect(has_line(text, "# TYPE xlb_nat_expired_total counter"), "%s",
		  text);
	cr_expect(has_line(text, "xlb_nat_expired_total 5"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_orphans_total 2"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_sweeps_total 10"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_sweep_seconds 0.25"), "%s", text);
	cr_expect(has_line(text, "xlb_nat_local_address_sessions{address="
				 "\"10.97.0.1\"} 3"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_nat_local_address_sessions{address="
				 "\"fd00:97::1\"} 1"),
		  "%s", text);
	free(text);
}

/* The checker's counters, when the view carries them. */
Test(render, health_counters_when_present)
{
	char *text = render(
		"{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"reals\":["
		"{\"address\":\"10.1.0.2\",\"health\":{\"latency_seconds\":"
		"0.5,\"checks\":120,\"failed\":3,\"skipped\":1,"
		"\"transitions\":2}}]}]}");

	cr_expect(has_line(text, "xlb_real_check_latency_seconds{" R1 "} 0.5"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_real_checks_total{" R1 "} 120"), "%s",
		  text);
	cr_expect(has_line(text, "xlb_real_check_failures_total{" R1 "} 3"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_real_checks_skipped_total{" R1 "} 1"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_real_transitions_total{" R1 "} 2"), "%s",
		  text);
	cr_expect(has_line(text, "# TYPE xlb_real_checks_total counter"), "%s",
		  text);
	free(text);
}

/* Nothing but the info line when the view is empty or not an object. */
/* The resolved next hops' fallbacks (bpf/nexthop.h): one counter. */
Test(render, nexthop_fallbacks)
{
	char *text = render("{\"vips\":[],\"nexthop_fallbacks\":7}");

	cr_expect(has_line(text, "# TYPE xlb_nexthop_fallbacks_total counter"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_nexthop_fallbacks_total 7"), "%s", text);
	free(text);
	text = render("{\"vips\":[]}");
	cr_expect(!strstr(text, "xlb_nexthop_fallbacks_total"), "%s", text);
	free(text);
}

/* The FULLNAT replies' lookups (bpf/nexthop.h route_reply). */
Test(render, nexthop_reply_lookups)
{
	char *text = render("{\"vips\":[],\"nexthop_reply_lookups\":5}");

	cr_expect(has_line(text,
			   "# TYPE xlb_nexthop_reply_lookups_total counter"),
		  "%s", text);
	cr_expect(has_line(text, "xlb_nexthop_reply_lookups_total 5"), "%s",
		  text);
	free(text);
}

Test(render, empty_view)
{
	const char *want = "# HELP xlb_agent_info Always 1; the version of "
			   "the running xlbd is in the labels.\n"
			   "# TYPE xlb_agent_info gauge\n"
			   "xlb_agent_info{version=\"" XLB_VERSION "\"} 1\n";
	char *buf;
	size_t len;

	cr_assert_eq(xlb_metrics_render_json(NULL, &buf, &len), 0);
	cr_expect_str_eq(buf, want);
	free(buf);
	buf = render("{\"vips\":[]}");
	cr_expect(has_line(buf, "xlb_vips 0"), "%s", buf);
	cr_expect_null(strstr(buf, "xlb_vip_packets_total"), "%s", buf);
	free(buf);
}

/* Members of the wrong type are skipped, not rendered as garbage. */
Test(render, wrong_types_are_skipped)
{
	char *text = render(
		"{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"packets\":\"7\","
		"\"bytes\":null,\"new_flows\":true,\"reals\":["
		"{\"address\":7,\"packets\":1},"
		"{\"address\":\"10.1.0.2\",\"state\":1,\"weight\":2.5,"
		"\"health\":{\"latency_seconds\":\"fast\"}}]},"
		"{\"packets\":9}],"
		"\"reasons\":{\"forward_tx\":\"many\"},\"rings\":[]}");

	cr_expect_null(strstr(text, "xlb_vip_packets_total"), "%s", text);
	cr_expect_null(strstr(text, "xlb_vip_bytes_total"), "%s", text);
	cr_expect(has_line(text, "xlb_vip_new_flows_total{" V "} 1"), "%s",
		  text);
	cr_expect_null(strstr(text, "xlb_real_packets_total"), "%s", text);
	cr_expect(has_line(text, "xlb_real_weight{" R1 "} 2.5"), "%s", text);
	cr_expect_null(strstr(text, "latency"), "%s", text);
	cr_expect_null(strstr(text, "xlb_real_up"), "%s", text);
	cr_expect_null(strstr(text, "xlb_packets_total"), "%s", text);
	cr_expect_null(strstr(text, "ring"), "%s", text);
	cr_expect(has_line(text, "xlb_vips 2"), "%s", text);
	free(text);
}

Test(render, label_values_are_escaped)
{
	json_t *stats = json_pack("{s:[{s:s,s:i,s:[{s:s,s:s}]}],s:{s:i}}",
				  "vips", "vip", "a\\b\"c\nd", "packets", 1,
				  "reals", "address", "x\\\"", "state",
				  "odd\"state", "reasons", "we\"ird\n", 2);
	char *buf;
	size_t len;

	cr_assert_not_null(stats);
	cr_assert_eq(xlb_metrics_render_json(stats, &buf, &len), 0);
	cr_expect(has_line(buf,
			   "xlb_vip_packets_total{vip=\"a\\\\b\\\"c\\nd\"} "
			   "1"),
		  "%s", buf);
	cr_expect(has_line(buf, "xlb_real_up{vip=\"a\\\\b\\\"c\\nd\","
				"real=\"x\\\\\\\"\"} 0"),
		  "%s", buf);
	/* A state this code does not know is listed as the current one. */
	cr_expect(has_line(buf, "xlb_real_state{vip=\"a\\\\b\\\"c\\nd\","
				"real=\"x\\\\\\\"\",state=\"odd\\\"state\"} 1"),
		  "%s", buf);
	cr_expect(has_line(buf, "xlb_real_state{vip=\"a\\\\b\\\"c\\nd\","
				"real=\"x\\\\\\\"\",state=\"up\"} 0"),
		  "%s", buf);
	cr_expect(has_line(buf, "xlb_packets_total{reason=\"we\\\"ird\\n\"} 2"),
		  "%s", buf);
	json_decref(stats);
	free(buf);
}

/* Large counters are printed exactly, not as floats. */
Test(render, large_counters_are_exact)
{
	char *text = render("{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\","
			    "\"bytes\":9007199254740993}]}");

	cr_expect(has_line(text, "xlb_vip_bytes_total{" V "} 9007199254740993"),
		  "%s", text);
	free(text);
}

/* ---- promtool ---------------------------------------------------------- */

/*
 * Run `promtool check metrics` on text; return its exit status, with its
 * output in out. promtool comes with Debian's prometheus package (make
 * deps): without it this fails, it is not skipped.
 */
static int promtool_check(const char *text, char *out, size_t outlen)
{
	char in_path[] = "/tmp/test_metrics.XXXXXX";
	char cmd[256];
	size_t n;
	FILE *p;
	int fd, status;

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
	cr_assert_neq(WEXITSTATUS(status), 127,
		      "promtool not found: install Debian's prometheus "
		      "package (make deps)");
	return WEXITSTATUS(status);
}

Test(promtool, accepts_rendered_text)
{
	char out[4096];
	char *text = render(stats_full);

	cr_expect_eq(promtool_check(text, out, sizeof(out)), 0, "promtool: %s",
		     out);
	free(text);
}

Test(promtool, accepts_escaped_labels)
{
	json_t *stats = json_pack("{s:[{s:s,s:i}]}", "vips", "vip",
				  "a\\b\"c\nd", "packets", 1);
	char out[4096], *buf;
	size_t len;

	cr_assert_eq(xlb_metrics_render_json(stats, &buf, &len), 0);
	cr_expect_eq(promtool_check(buf, out, sizeof(out)), 0, "promtool: %s",
		     out);
	json_decref(stats);
	free(buf);
}

Test(promtool, accepts_health_counters)
{
	char out[4096];
	char *text = render(
		"{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"sessions\":4,"
		"\"reals\":[{\"address\":\"10.1.0.2\",\"sessions\":4,"
		"\"state\":\"down\",\"health\":{\"latency_seconds\":0.5,"
		"\"checks\":120,\"failed\":3,\"skipped\":1,"
		"\"transitions\":2}}]}]}");

	cr_expect_eq(promtool_check(text, out, sizeof(out)), 0, "promtool: %s",
		     out);
	free(text);
}

Test(promtool, accepts_fullnat)
{
	char out[4096];
	char *text = render(fullnat_view);

	cr_expect_eq(promtool_check(text, out, sizeof(out)), 0, "promtool: %s",
		     out);
	free(text);
}

/* The check above could fail: promtool does reject a bad exposition. */
Test(promtool, rejects_bad_text)
{
	char out[4096];

	cr_expect_neq(promtool_check("# TYPE xlb_x counter\nxlb_x{a=\"b} 1\n",
				     out, sizeof(out)),
		      0, "promtool accepted an unterminated label");
	cr_expect_neq(promtool_check("# HELP xlb_x x\n# TYPE xlb_x counter\n"
				     "xlb_x 1\n",
				     out, sizeof(out)),
		      0, "promtool accepted a counter without _total");
}

/* ---- Listen addresses -------------------------------------------------- */

struct listen_case {
	const char *s;
	int family; /* 0: invalid */
	uint16_t port;
};

static const struct listen_case listen_cases[] = {
	{"127.0.0.1:9617", AF_INET, 9617},
	{"0.0.0.0:0", AF_INET, 0},
	{"10.1.2.3:65535", AF_INET, 65535},
	{"[::1]:9617", AF_INET6, 9617},
	{"[::]:80", AF_INET6, 80},
	{"[2001:db8::1]:1", AF_INET6, 1},
	{"127.0.0.1", 0, 0},
	{"127.0.0.1:", 0, 0},
	{"127.0.0.1:65536", 0, 0},
	{"127.0.0.1:99999999999", 0, 0},
	{"127.0.0.1:+80", 0, 0},
	{"127.0.0.1: 80", 0, 0},
	{"127.0.0.1:80x", 0, 0},
	{":9617", 0, 0},
	{"localhost:9617", 0, 0},
	{"::1:9617", 0, 0},
	{"[::1]9617", 0, 0},
	{"[::1:9617", 0, 0},
	{"[127.0.0.1]:80", 0, 0},
	{"[]:80", 0, 0},
	{"", 0, 0},
};

Test(listen, parse)
{
	const struct listen_case *c;
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(listen_cases); i++) {
		c = &listen_cases[i];
		ret = xlb_metrics_listen_parse(c->s, &ss, &len);
		if (!c->family) {
			cr_expect_eq(ret, -EINVAL, "'%s' accepted", c->s);
			continue;
		}
		cr_expect_eq(ret, 0, "'%s' refused", c->s);
		cr_expect_eq(ss.ss_family, c->family, "'%s'", c->s);
		if (c->family == AF_INET) {
			cr_expect_eq(len, sizeof(struct sockaddr_in));
			cr_expect_eq(
				ntohs(((struct sockaddr_in *)&ss)->sin_port),
				c->port, "'%s'", c->s);
		} else {
			cr_expect_eq(len, sizeof(struct sockaddr_in6));
			cr_expect_eq(
				ntohs(((struct sockaddr_in6 *)&ss)->sin6_port),
				c->port, "'%s'", c->s);
		}
	}
	cr_expect_eq(xlb_metrics_listen_parse(NULL, &ss, &len), -EINVAL);
}

/* ---- The HTTP server --------------------------------------------------- */

struct server {
	int epfd;
	struct xlb_metrics *m;
	int port;
};

/* A server on listen in a fresh epoll set, with its port. */
static void server_open(struct server *s, const char *listen)
{
	int ret;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(s->epfd, 0);
	ret = xlb_metrics_open(listen, (struct xlb_agent *)&stub, s->epfd,
			       &s->m);
	cr_assert_eq(ret, 0, "open %s: %s", listen, strerror(-ret));
	cr_assert_not_null(s->m);
	s->port = xlb_metrics_port(s->m);
	cr_assert_gt(s->port, 0);
}

/* Close the server and its epoll set. */
static void server_close(struct server *s)
{
	xlb_metrics_close(s->m);
	close(s->epfd);
}

/* Run the handlers of whatever is ready within ms milliseconds. */
static int pump(struct server *s, int ms)
{
	struct epoll_event evs[8];
	struct xlb_event *ev;
	int i, n;

	n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs), ms);
	for (i = 0; i < n; i++) {
		ev = evs[i].data.ptr;
		ev->handler(ev, evs[i].events);
	}
	return n;
}

/* A non-blocking connection to the loopback's port. */
static int client_connect(int family, int port)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons(port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd, ret;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	if (family == AF_INET6)
		ret = connect(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	else
		ret = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	cr_assert(!ret || errno == EINPROGRESS, "connect: %s", strerror(errno));
	return fd;
}

/* A request is small: the socket takes it whole. */
static void client_send(int fd, const char *req)
{
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
		     (ssize_t)strlen(req), "send: %s", strerror(errno));
}

struct http_reply {
	int status;
	char content_type[128];
	size_t content_length;
	char *body; /* NUL-terminated, malloc'd */
	size_t body_len;
};

/* The value of header name in the header block hdr, or "". */
static void header_value(const char *hdr, const char *name, char *out,
			 size_t outlen)
{
	const char *p, *end;
	size_t n = strlen(name);

	out[0] = '\0';
	for (p = strstr(hdr, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) || p[2 + n] != ':')
			continue;
		p += 2 + n + 1;
		p += strspn(p, " ");
		end = strstr(p, "\r\n");
		snprintf(out, outlen, "%.*s", (int)(end - p), p);
		return;
	}
}

/*
 * Serve until one whole reply has arrived on fd: headers, then
 * Content-Length bytes of body (none for HEAD). Bytes of a next reply
 * are not read.
 */
static void client_reply(struct server *s, int fd, bool head,
			 struct http_reply *r)
{
	static char buf[1 << 16];
	size_t len = 0, hlen = 0;
	char value[64], *hend;
	ssize_t n;
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 300; i++) {
		buf[len] = '\0';
		hend = strstr(buf, "\r\n\r\n");
		if (hend && !hlen) {
			hlen = hend + 4 - buf;
			/* Keep the last header's CRLF: header_value needs it. */
			hend[2] = '\0';
			cr_assert_eq(sscanf(buf, "HTTP/1.1 %d", &r->status), 1,
				     "status line: %s", buf);
			header_value(buf, "Content-Type", r->content_type,
				     sizeof(r->content_type));
			header_value(buf, "Content-Length", value,
				     sizeof(value));
			r->content_length = strtoul(value, NULL, 10);
		}
		if (hlen && (head || len - hlen >= r->content_length))
			break;
		pump(s, 10);
		/* Read no further than this reply's end once it is known. */
		n = recv(fd, buf + len,
			 hlen && !head ? hlen + r->content_length - len
				       : sizeof(buf) - 1 - len,
			 0);
		if (n == 0)
			break;
		if (n > 0)
			len += n;
		else
			cr_assert_eq(errno, EAGAIN, "recv: %s",
				     strerror(errno));
	}
	cr_assert_gt(hlen, 0, "no reply headers within 3 s");
	r->body_len = head ? 0 : len - hlen;
	r->body = strndup(buf + hlen, r->body_len);
	cr_assert_not_null(r->body);
}

/* One request on a new connection; the reply in r. */
static void fetch(struct server *s, int family, const char *req, bool head,
		  struct http_reply *r)
{
	int fd = client_connect(family, s->port);

	pump(s, 10);
	client_send(fd, req);
	client_reply(s, fd, head, r);
	close(fd);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: test\r\n\r\n"

/* Make every scrape see the stats_full view. */
static void stub_full(void)
{
	stub.stats = json_loads(stats_full, 0, NULL);
	cr_assert_not_null(stub.stats);
}

Test(http, get_metrics, .init = stub_full)
{
	struct http_reply r;
	struct server s;

	server_open(&s, "127.0.0.1:0");
	fetch(&s, AF_INET, GET("/metrics"), false, &r);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.content_type,
			 "text/plain; version=0.0.4; charset=utf-8");
	cr_expect_eq(r.content_length, strlen(text_full));
	cr_expect_str_eq(r.body, text_full);
	cr_expect_eq(stub.calls, 1);
	free(r.body);
	server_close(&s);
}

Test(http, other_paths_and_methods, .init = stub_full)
{
	struct http_reply r;
	struct server s;

	server_open(&s, "127.0.0.1:0");
	fetch(&s, AF_INET, GET("/"), false, &r);
	cr_expect_eq(r.status, 404);
	free(r.body);
	fetch(&s, AF_INET, GET("/metrics/x"), false, &r);
	cr_expect_eq(r.status, 404);
	free(r.body);
	fetch(&s, AF_INET, GET("/metricsx"), false, &r);
	cr_expect_eq(r.status, 404);
	free(r.body);
	fetch(&s, AF_INET,
	      "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
	      "\r\nabc",
	      false, &r);
	cr_expect_eq(r.status, 405);
	free(r.body);
	cr_expect_eq(stub.calls, 0,
		     "rendered for a request that is not "
		     "GET /metrics");

	fetch(&s, AF_INET, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n", true,
	      &r);
	cr_expect_eq(r.status, 200);
	cr_expect_eq(r.content_length, strlen(text_full));
	free(r.body);
	server_close(&s);
}

/* Prometheus keeps its connection: requests in a row on one socket. */
Test(http, keep_alive, .init = stub_full)
{
	struct http_reply r;
	struct server s;
	int fd, i;

	server_open(&s, "127.0.0.1:0");
	fd = client_connect(AF_INET, s.port);
	for (i = 0; i < 3; i++) {
		client_send(fd, GET("/metrics"));
		client_reply(&s, fd, false, &r);
		cr_expect_eq(r.status, 200, "request %d", i);
		cr_expect_str_eq(r.body, text_full, "request %d", i);
		free(r.body);
	}
	cr_expect_eq(stub.calls, 3);
	close(fd);
	server_close(&s);
}

/*
 * Two requests in one segment: the second is already read when the first
 * is answered, so no socket event announces it. The server must come
 * back to it on its own (its timer), not wait for the client.
 */
Test(http, pipelined_requests, .init = stub_full)
{
	struct http_reply r;
	struct server s;
	int fd;

	server_open(&s, "127.0.0.1:0");
	fd = client_connect(AF_INET, s.port);
	pump(&s, 10);
	client_send(fd, GET("/metrics") GET("/nothing"));
	client_reply(&s, fd, false, &r);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.body, text_full);
	free(r.body);
	client_reply(&s, fd, false, &r);
	cr_expect_eq(r.status, 404);
	free(r.body);
	close(fd);
	server_close(&s);
}

/* Each scrape reads the agent afresh. */
Test(http, scrapes_are_fresh, .init = stub_full)
{
	struct http_reply r;
	struct server s;

	server_open(&s, "127.0.0.1:0");
	fetch(&s, AF_INET, GET("/metrics"), false, &r);
	cr_expect(has_line(r.body, "xlb_vip_packets_total{" V "} 10"));
	free(r.body);
	json_object_set_new(
		json_array_get(json_object_get(stub.stats, "vips"), 0),
		"packets", json_integer(11));
	fetch(&s, AF_INET, GET("/metrics"), false, &r);
	cr_expect(has_line(r.body, "xlb_vip_packets_total{" V "} 11"), "%s",
		  r.body);
	free(r.body);
	server_close(&s);
}

Test(http, agent_failure_is_500)
{
	struct http_reply r;
	struct server s;

	stub.stats = NULL;
	server_open(&s, "127.0.0.1:0");
	fetch(&s, AF_INET, GET("/metrics"), false, &r);
	cr_expect_eq(r.status, 500);
	cr_expect_eq(stub.calls, 1);
	free(r.body);
	server_close(&s);
}

Test(http, ipv6, .init = stub_full)
{
	struct http_reply r;
	struct server s;

	server_open(&s, "[::1]:0");
	fetch(&s, AF_INET6, GET("/metrics"), false, &r);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.body, text_full);
	free(r.body);
	server_close(&s);
}

Test(http, off_when_empty)
{
	const char *offs[] = {"", NULL, "off"};
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	struct xlb_metrics *m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		m = (struct xlb_metrics *)&stub;
		cr_expect_eq(xlb_metrics_open(offs[i],
					      (struct xlb_agent *)&stub, epfd,
					      &m),
			     0, "'%s'", offs[i] ? offs[i] : "(null)");
		cr_expect_null(m, "'%s'", offs[i] ? offs[i] : "(null)");
	}
	xlb_metrics_close(NULL);
	close(epfd);
}

Test(http, bad_address)
{
	struct xlb_metrics *m;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	cr_expect_eq(xlb_metrics_open("localhost:9617",
				      (struct xlb_agent *)&stub, epfd, &m),
		     -EINVAL);
	cr_expect_null(m);
	/* An address this host does not have. */
	cr_expect_eq(xlb_metrics_open("192.0.2.1:0", (struct xlb_agent *)&stub,
				      epfd, &m),
		     -EADDRNOTAVAIL);
	cr_expect_null(m);
	close(epfd);
}

Test(http, port_in_use)
{
	struct xlb_metrics *m;
	struct server s;
	char listen[32];

	server_open(&s, "127.0.0.1:0");
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s.port);
	cr_expect_eq(
		xlb_metrics_open(listen, (struct xlb_agent *)&stub, s.epfd, &m),
		-EADDRINUSE);
	cr_expect_null(m);
	server_close(&s);
}

/* Close stops listening, drops connections and leaves the loop empty. */
Test(http, close_cleans_up, .init = stub_full)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct epoll_event ev;
	struct server s;
	char c;
	int fd;

	server_open(&s, "127.0.0.1:0");
	fd = client_connect(AF_INET, s.port);
	pump(&s, 10);
	xlb_metrics_close(s.m);
	cr_expect_eq(epoll_wait(s.epfd, &ev, 1, 50), 0,
		     "something left in the loop");
	/* The open connection is closed by the server. */
	cr_expect_eq(recv(fd, &c, 1, 0), 0, "connection not closed");
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	sin.sin_port = htons(s.port);
	cr_expect_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1,
		     "still listening");
	cr_expect_eq(errno, ECONNREFUSED, "%s", strerror(errno));
	close(fd);
	close(s.epfd);
}
