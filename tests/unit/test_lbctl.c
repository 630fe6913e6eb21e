// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of lbctl's command line (lbctl_cli.c): every valid command
 * line gives exactly the expected request, every bad one a usage error
 * naming the problem, help comes from the table, printers lay replies out
 * in aligned columns. Then the control socket server (control.c) against
 * a stub agent defined here: request validation and defaults, and the
 * framing over a real socket driven by a small epoll loop (the loop and
 * the agent are the daemon's; these stand-ins record what they are given).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr_cases.h"
#include "setting_cases.h"
#include "agent.h"
#include "control.h"
#include "daemon.h"
#include "lbctl_cli.h"
#include "loop.h"
#include "settings.h"
#include "xlb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGV      12

#define VIP4	      "10.0.0.10:80/tcp"
#define VIP6	      "[2001:db8::10]:443/udp"

/*
 * Criterion runs each parameterized test in a fresh process and copies
 * the parameter by value: pointers into the parent would dangle. So the
 * parameter is an index into a static table.
 */
#define INDEX_PARAMS(table)                                                 \
	do {                                                                \
		static size_t idx[ARRAY_SIZE(table)];                       \
		size_t i_;                                                  \
                                                                            \
		for (i_ = 0; i_ < ARRAY_SIZE(table); i_++)                  \
			idx[i_] = i_;                                       \
		return cr_make_param_array(size_t, idx, ARRAY_SIZE(table)); \
	} while (0)

/* ---- Command lines ----------------------------------------------------- */

struct ok_case {
	const char *desc;
	const char *argv[MAX_ARGV]; /* after "lbctl", NULL-terminated */
	const char *request;	    /* the JSON request expected */
};

static const struct ok_case ok_cases[] = {
	{"vip add, defaults left to the daemon",
	 {"vip", "add", VIP4},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\"}"},
	{"vip add with hash and table size",
	 {"vip", "add", VIP4, "--hash", "source-ip", "--table-size", "251"},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"hash\":\"source-ip\","
	 "\"table_size\":251}"},
	{"vip add, options first and in --opt=value form",
	 {"vip", "add", "--table-size=65537", "--hash=maglev", VIP4},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"hash\":\"maglev\","
	 "\"table_size\":65537}"},
	{"vip add IPv6",
	 {"vip", "add", VIP6},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP6 "\"}"},
	{"vip add any port",
	 {"vip", "add", "10.0.0.11/udp"},
	 "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.11/udp\"}"},
	{"vip add largest table",
	 {"vip", "add", VIP4, "--table-size", "1048573"},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"table_size\":1048573}"},
	{"vip add fullnat with an MSS clamp",
	 {"vip", "add", VIP4, "--mode", "fullnat", "--mss", "1400"},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"mode\":\"fullnat\","
	 "\"mss\":1400}"},
	{"vip add tunnel in GUE",
	 {"vip", "add", VIP4, "--encap", "gue"},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"encap\":\"gue\"}"},
	{"vip add fullnat, encap ipip",
	 {"vip", "add", VIP6, "--mode", "fullnat", "--encap", "ipip"},
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP6 "\",\"mode\":\"fullnat\","
	 "\"encap\":\"ipip\"}"},
	{"vip set encap",
	 {"vip", "set", VIP4, "--encap=gue"},
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP4 "\",\"encap\":\"gue\"}"},
	{"decap attach on another GUE port",
	 {"decap", "attach", "eth0", "--from", "172.16.0.0/16", "--gue-port",
	  "7000"},
	 "{\"cmd\":\"decap.attach\",\"ifname\":\"eth0\",\"from\":"
	 "[\"172.16.0.0/16\"],\"gue_port\":7000}"},
	{"vip set mode",
	 {"vip", "set", VIP4, "--mode=tunnel"},
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP4 "\",\"mode\":\"tunnel\"}"},
	{"vip set mss off",
	 {"vip", "set", VIP6, "--mss", "0"},
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP6 "\",\"mss\":0}"},
	{"laddr add IPv4",
	 {"laddr", "add", "10.97.0.1"},
	 "{\"cmd\":\"laddr.add\",\"address\":\"10.97.0.1\"}"},
	{"laddr del IPv6",
	 {"laddr", "del", "fd00:97::1"},
	 "{\"cmd\":\"laddr.del\",\"address\":\"fd00:97::1\"}"},
	{"laddr list", {"laddr", "list"}, "{\"cmd\":\"laddr.list\"}"},
	{"sessions", {"sessions"}, "{\"cmd\":\"sessions\"}"},
	{"sessions of one VIP, limited",
	 {"sessions", "--vip", VIP4, "--limit", "10", "--json"},
	 "{\"cmd\":\"sessions\",\"vip\":\"" VIP4 "\",\"limit\":10}"},
	{"vip del",
	 {"vip", "del", VIP4},
	 "{\"cmd\":\"vip.del\",\"vip\":\"" VIP4 "\"}"},
	{"vip list", {"vip", "list"}, "{\"cmd\":\"vip.list\"}"},
	{"real add, default weight",
	 {"real", "add", VIP4, "10.1.0.2"},
	 "{\"cmd\":\"real.add\",\"vip\":\"" VIP4 "\",\"real\":\"10.1.0.2\"}"},
	{"real add weight 0",
	 {"real", "add", VIP4, "10.1.0.2", "--weight", "0"},
	 "{\"cmd\":\"real.add\",\"vip\":\"" VIP4 "\",\"real\":\"10.1.0.2\","
	 "\"weight\":0}"},
	{"real add IPv6 real, largest weight",
	 {"real", "add", "--weight", "65535", VIP6, "2001:db8:1::2"},
	 "{\"cmd\":\"real.add\",\"vip\":\"" VIP6
	 "\",\"real\":\"2001:db8:1::2\","
	 "\"weight\":65535}"},
	{"real del",
	 {"real", "del", VIP4, "10.1.0.2"},
	 "{\"cmd\":\"real.del\",\"vip\":\"" VIP4 "\",\"real\":\"10.1.0.2\"}"},
	{"real set",
	 {"real", "set", VIP4, "10.1.0.2", "--weight", "5"},
	 "{\"cmd\":\"real.set\",\"vip\":\"" VIP4 "\",\"real\":\"10.1.0.2\","
	 "\"weight\":5}"},
	{"stats", {"stats"}, "{\"cmd\":\"stats\"}"},
	{"stats --rate: the sampling options stay out of the request",
	 {"stats", "--rate"},
	 "{\"cmd\":\"stats\"}"},
	{"stats --watch with a period and a count",
	 {"stats", "--watch", "5", "--count", "3"},
	 "{\"cmd\":\"stats\"}"},
	{"stats --watch, default period, then --rate",
	 {"stats", "--watch", "--rate"},
	 "{\"cmd\":\"stats\"}"},
	{"ping", {"ping"}, "{\"cmd\":\"ping\"}"},
	{"status: ping, then stats, merged by lbctl",
	 {"status"},
	 "[{\"cmd\":\"ping\"},{\"cmd\":\"stats\"}]"},
	{"real drain",
	 {"real", "drain", VIP4, "10.1.0.2"},
	 "{\"cmd\":\"real.drain\",\"vip\":\"" VIP4 "\",\"real\":\"10.1.0.2\"}"},
	{"real undrain, IPv6",
	 {"real", "undrain", VIP6, "2001:db8:1::2"},
	 "{\"cmd\":\"real.undrain\",\"vip\":\"" VIP6
	 "\",\"real\":\"2001:db8:1::2\"}"},
	{"reload", {"reload"}, "{\"cmd\":\"reload\"}"},
	{"shutdown", {"shutdown"}, "{\"cmd\":\"shutdown\"}"},
	{"global options before the command",
	 {"--socket", "/tmp/x.sock", "--json", "vip", "list"},
	 "{\"cmd\":\"vip.list\"}"},
	{"global options after the command",
	 {"stats", "--json", "--socket=/tmp/x.sock"},
	 "{\"cmd\":\"stats\"}"},
	{"-- ends the options",
	 {"real", "del", "--", VIP4, "10.1.0.2"},
	 "{\"cmd\":\"real.del\",\"vip\":\"" VIP4 "\",\"real\":\"10.1.0.2\"}"},
	{"decap attach generic",
	 {"decap", "attach", "eth0", "--from", "172.16.0.0/16", "--generic"},
	 "{\"cmd\":\"decap.attach\",\"ifname\":\"eth0\",\"from\":"
	 "[\"172.16.0.0/16\"],\"generic\":true}"},
	{"decap attach native, IPv4 and IPv6 sources",
	 {"decap", "attach", "veth-r1", "--from", "172.16.0.0/16",
	  "fc00:2::/96", "10.9.9.9"},
	 "{\"cmd\":\"decap.attach\",\"ifname\":\"veth-r1\",\"from\":"
	 "[\"172.16.0.0/16\",\"fc00:2::/96\",\"10.9.9.9\"]}"},
	{"decap attach --from any, the interface after the option",
	 {"decap", "attach", "--generic", "--from", "any", "--", "eth1"},
	 "{\"cmd\":\"decap.attach\",\"ifname\":\"eth1\",\"from\":"
	 "[\"any\"],\"generic\":true}"},
	{"decap detach",
	 {"decap", "detach", "eth0"},
	 "{\"cmd\":\"decap.detach\",\"ifname\":\"eth0\"}"},
};

struct bad_case {
	const char *desc;
	const char *argv[MAX_ARGV];
	const char *want[2]; /* substrings the message must hold */
};

static const struct bad_case bad_cases[] = {
	{"no command", {NULL}, {"missing command"}},
	{"unknown command", {"frobnicate"}, {"unknown command", "frob"}},
	{"unknown subcommand", {"vip", "show"}, {"unknown command", "vip show"}},
	{"group without subcommand", {"vip"}, {"incomplete", "add, del, list"}},
	{"vip add without VIP", {"vip", "add"}, {"missing argument VIP"}},
	{"real add without REAL",
	 {"real", "add", VIP4},
	 {"missing argument REAL"}},
	{"bad IPv4 octet",
	 {"vip", "add", "10.0.0.300:80/tcp"},
	 {"bad address", "10.0.0.300"}},
	{"VIP without protocol",
	 {"vip", "add", "10.0.0.10:80"},
	 {"bad address", "PROTO"}},
	{"VIP with a bad port",
	 {"vip", "del", "10.0.0.10:65536/tcp"},
	 {"bad address", "65536"}},
	{"IPv6 VIP without brackets",
	 {"vip", "add", "2001:db8::1:80/tcp"},
	 {"brackets", "2001:db8::1:80/tcp"}},
	{"real is not an address",
	 {"real", "add", VIP4, "10.1.0"},
	 {"REAL", "bad address"}},
	{"real with a port",
	 {"real", "del", VIP4, "10.1.0.2:80"},
	 {"REAL", "bad address"}},
	{"weight too large",
	 {"real", "add", VIP4, "10.1.0.2", "--weight", "70000"},
	 {"--weight", "70000"}},
	{"weight not a number",
	 {"real", "set", VIP4, "10.1.0.2", "--weight", "ten"},
	 {"--weight", "expected an integer, got 'ten'"}},
	{"negative weight",
	 {"real", "set", VIP4, "10.1.0.2", "--weight", "-1"},
	 {"--weight", "expected an integer, got '-1'"}},
	{"weight beyond 32 bits",
	 {"real", "set", VIP4, "10.1.0.2", "--weight", "99999999999"},
	 {"--weight", "out of range"}},
	{"--weight without a value",
	 {"real", "set", VIP4, "10.1.0.2", "--weight"},
	 {"--weight", "needs a value"}},
	{"--weight followed by an option",
	 {"real", "add", VIP4, "10.1.0.2", "--weight", "--json"},
	 {"--weight", "needs a value"}},
	{"real set without --weight",
	 {"real", "set", VIP4, "10.1.0.2"},
	 {"missing option --weight"}},
	{"table size not prime",
	 {"vip", "add", VIP4, "--table-size", "65536"},
	 {"--table-size", "65536 is not a prime (65521 and 65537 are)"}},
	{"table size too large",
	 {"vip", "add", VIP4, "--table-size", "2000003"},
	 {"--table-size", "out of range 3..1048573"}},
	{"table size just above the largest prime",
	 {"vip", "add", VIP4, "--table-size", "1048583"},
	 {"--table-size", "1048583 is out of range 3..1048573"}},
	{"table size 2, a prime too small to spread",
	 {"vip", "add", VIP4, "--table-size", "2"},
	 {"--table-size", "2 is out of range 3..1048573"}},
	{"table size 0",
	 {"vip", "add", VIP4, "--table-size", "0"},
	 {"--table-size", "out of range 3..1048573"}},
	{"unknown hash",
	 {"vip", "add", VIP4, "--hash", "round-robin"},
	 {"--hash", "round-robin"}},
	{"unknown option",
	 {"vip", "add", VIP4, "--frob"},
	 {"unknown option '--frob'", "vip add"}},
	{"another command's option",
	 {"vip", "del", VIP4, "--hash", "maglev"},
	 {"unknown option '--hash'", "vip del"}},
	{"unknown short option", {"-x", "ping"}, {"unknown option '-x'"}},
	{"extra argument",
	 {"vip", "list", "all"},
	 {"unexpected argument 'all'"}},
	{"extra argument after the real",
	 {"real", "del", VIP4, "10.1.0.2", "10.1.0.3"},
	 {"unexpected argument '10.1.0.3'"}},
	{"flag with a value", {"ping", "--json=yes"}, {"--json", "no value"}},
	{"option given twice",
	 {"real", "add", VIP4, "10.1.0.2", "--weight", "1", "--weight", "2"},
	 {"--weight", "twice"}},
	{"bad mode",
	 {"vip", "add", VIP4, "--mode", "dsr"},
	 {"--mode", "expected tunnel or fullnat, got 'dsr'"}},
	{"mss too large",
	 {"vip", "add", VIP4, "--mss", "65536"},
	 {"--mss", "out of range 536..65535 (0: off)"}},
	{"mss below the smallest clamp",
	 {"vip", "add", VIP4, "--mss", "100"},
	 {"--mss", "100 is out of range 536..65535 (0: off)"}},
	{"vip set mss below the smallest clamp",
	 {"vip", "set", VIP4, "--mss", "535"},
	 {"--mss", "out of range 536..65535"}},
	{"mss on a UDP VIP",
	 {"vip", "add", "10.0.0.10:53/udp", "--mss", "1400"},
	 {"--mss", "only TCP VIPs have an MSS to clamp"}},
	{"vip set mss on a UDP VIP",
	 {"vip", "set", VIP6, "--mss", "1400"},
	 {"--mss", "only TCP VIPs"}},
	{"vip set without anything to set",
	 {"vip", "set", VIP4},
	 {"vip set needs --mode, --mss or --encap"}},
	{"bad encap",
	 {"vip", "add", VIP4, "--encap", "vxlan"},
	 {"--encap", "expected ipip or gue, got 'vxlan'"}},
	{"vip add fullnat in GUE",
	 {"vip", "add", VIP4, "--mode", "fullnat", "--encap", "gue"},
	 {"encap: gue is for tunnel VIPs only"}},
	{"vip set fullnat in GUE",
	 {"vip", "set", VIP4, "--encap", "gue", "--mode", "fullnat"},
	 {"encap: gue is for tunnel VIPs only"}},
	{"decap attach --gue-port 0",
	 {"decap", "attach", "eth0", "--from", "any", "--gue-port", "0"},
	 {"--gue-port", "range 1..65535"}},
	{"decap attach --gue-port too large",
	 {"decap", "attach", "eth0", "--from", "any", "--gue-port", "65536"},
	 {"--gue-port", "range 1..65535"}},
	{"laddr add without an address",
	 {"laddr", "add"},
	 {"missing argument ADDR"}},
	{"laddr add with a prefix",
	 {"laddr", "add", "10.97.0.0/24"},
	 {"ADDR", "bad address"}},
	{"laddr group alone", {"laddr"}, {"incomplete", "add, del, list"}},
	{"sessions --vip without a protocol",
	 {"sessions", "--vip", "10.0.0.10:80"},
	 {"--vip", "bad address"}},
	{"sessions --limit 0",
	 {"sessions", "--limit", "0"},
	 {"--limit", "range 1..1000000"}},
	{"decap without interface",
	 {"decap", "attach"},
	 {"missing argument IFNAME"}},
	{"decap attach without --from",
	 {"decap", "attach", "eth0"},
	 {"missing option --from PREFIX..."}},
	{"decap attach --from without a prefix",
	 {"decap", "attach", "eth0", "--from", "--generic"},
	 {"--from", "needs a value"}},
	{"decap attach --from a bad prefix",
	 {"decap", "attach", "eth0", "--from", "172.16.0.0/16", "172.16.0/33"},
	 {"--from", "bad prefix '172.16.0/33'"}},
	{"decap attach --from with host bits",
	 {"decap", "attach", "eth0", "--from", "172.16.1.0/16"},
	 {"--from", "'172.16.1.0/16' has host bits set"}},
	{"decap attach --from any with prefixes",
	 {"decap", "attach", "eth0", "--from", "any", "fc00:2::/96"},
	 {"--from any", "alone"}},
	{"decap attach --from=PREFIX",
	 {"decap", "attach", "eth0", "--from=10.0.0.0/8"},
	 {"--from", "separate words"}},
	{"decap attach: the interface after --from is a prefix",
	 {"decap", "attach", "--from", "10.0.0.0/8", "eth0"},
	 {"missing argument IFNAME", "put IFNAME before it"}},
	{"interface name too long",
	 {"decap", "detach", "averyveryverylongname"},
	 {"interface name", "averyveryverylongname"}},
	{"--socket without a value",
	 {"vip", "list", "--socket"},
	 {"--socket", "needs a value"}},
	{"--count without --watch",
	 {"stats", "--count", "3"},
	 {"--count needs --watch"}},
	{"--count without a value",
	 {"stats", "--watch", "--count"},
	 {"--count", "needs a value"}},
	{"--watch 0", {"stats", "--watch", "0"}, {"--watch", "range 1..3600"}},
	{"--watch too long",
	 {"stats", "--watch=3601"},
	 {"--watch", "range 1..3600"}},
	{"--watch not a number",
	 {"stats", "--watch", "1.5"},
	 {"--watch", "expected an integer, got '1.5'"}},
	{"--count 0",
	 {"stats", "--watch", "--count", "0"},
	 {"--count", "range 1..1000000"}},
	{"--rate with a value", {"stats", "--rate=2"}, {"--rate", "no value"}},
	{"--rate is for stats only",
	 {"status", "--rate"},
	 {"unknown option '--rate'", "status"}},
	{"drain without REAL",
	 {"real", "drain", VIP4},
	 {"missing argument REAL"}},
	{"undrain with a bad real",
	 {"real", "undrain", VIP4, "10.1.0.2/32"},
	 {"REAL", "bad address"}},
	{"reload takes no argument",
	 {"reload", "now"},
	 {"unexpected argument 'now'"}},
	{"shutdown takes no option",
	 {"shutdown", "--weight", "1"},
	 {"unknown option '--weight'", "shutdown"}},
	{"--socket path too long",
	 {"--socket",
	  "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	  "ping"},
	 {"--socket", "too long"}},
};

/* argv for lbctl_parse: "lbctl" then the case's words. */
static int make_argv(const char *const *words, char **argv)
{
	int argc = 0;

	argv[argc++] = "lbctl";
	while (words[argc - 1]) {
		argv[argc] = (char *)words[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	return argc;
}

/* Parse words; the usage error text goes to err. */
static int parse_words(const char *const *words, struct lbctl_invocation *inv,
		       char *err, size_t errlen)
{
	char *argv[MAX_ARGV + 2];
	int argc = make_argv(words, argv);

	return lbctl_parse(argc, argv, inv, err, errlen);
}

ParameterizedTestParameters(parse, valid)
{
	INDEX_PARAMS(ok_cases);
}

ParameterizedTest(size_t *idx, parse, valid)
{
	const struct ok_case *c = &ok_cases[*idx];
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN], *got;
	json_error_t jerr;
	json_t *want;
	int ret;

	ret = parse_words(c->argv, &inv, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s: parse failed: %s", c->desc, err);
	cr_assert_eq(inv.action, LBCTL_RUN, "%s", c->desc);
	want = json_loads(c->request, 0, &jerr);
	cr_assert_not_null(want, "%s: bad expected JSON: %s", c->desc,
			   jerr.text);
	got = json_dumps(inv.request, JSON_COMPACT);
	cr_expect(json_equal(inv.request, want), "%s: got %s, want %s", c->desc,
		  got, c->request);
	free(got);
	json_decref(want);
	lbctl_invocation_free(&inv);
}

ParameterizedTestParameters(parse, invalid)
{
	INDEX_PARAMS(bad_cases);
}

ParameterizedTest(size_t *idx, parse, invalid)
{
	const struct bad_case *c = &bad_cases[*idx];
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];
	size_t i;
	int ret;

	ret = parse_words(c->argv, &inv, err, sizeof(err));
	cr_assert_eq(ret, -EINVAL, "%s: parse returned %d", c->desc, ret);
	cr_assert_null(inv.request, "%s: a request was built", c->desc);
	for (i = 0; i < ARRAY_SIZE(c->want) && c->want[i]; i++)
		cr_expect(strstr(err, c->want[i]), "%s: '%s' lacks '%s'",
			  c->desc, err, c->want[i]);
	lbctl_invocation_free(&inv);
}

Test(parse, globals)
{
	const char *dflt[] = {"ping", NULL};
	const char *set[] = {"--json", "ping", "--socket", "/tmp/x.sock", NULL};
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];

	cr_assert_eq(parse_words(dflt, &inv, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(inv.socket, XLB_DEFAULT_SOCKET);
	cr_expect_not(inv.json);
	cr_expect_not(inv.cmd->local);
	lbctl_invocation_free(&inv);

	cr_assert_eq(parse_words(set, &inv, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(inv.socket, "/tmp/x.sock");
	cr_expect(inv.json);
	lbctl_invocation_free(&inv);
}

Test(parse, decap_is_local)
{
	const char *words[] = {"decap", "detach", "eth0", NULL};
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];

	cr_assert_eq(parse_words(words, &inv, err, sizeof(err)), 0, "%s", err);
	cr_expect(inv.cmd->local);
	cr_expect_str_eq(inv.cmd->cmd, "decap.detach");
	lbctl_invocation_free(&inv);
}

Test(parse, version)
{
	const char *words[] = {"--version", NULL};
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];

	cr_assert_eq(parse_words(words, &inv, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(inv.action, LBCTL_VERSION);
	cr_expect_null(inv.request);
}

struct sampling_case {
	const char *argv[MAX_ARGV];
	bool rate;
	uint32_t watch_s, count;
	bool json;
};

static const struct sampling_case sampling_cases[] = {
	{{"stats"}, false, 0, 0, false},
	{{"stats", "--rate"}, true, 0, 0, false},
	{{"stats", "--watch"}, false, LBCTL_WATCH_DEFAULT_S, 0, false},
	{{"stats", "--watch", "--json"}, false, LBCTL_WATCH_DEFAULT_S, 0, true},
	{{"stats", "--watch", "5", "--count", "3"}, false, 5, 3, false},
	{{"--json", "stats", "--watch=7", "--rate", "--count=1"},
	 true,
	 7,
	 1,
	 true},
	{{"stats", "--count", "2", "--watch", "1"}, false, 1, 2, false},
	{{"stats", "--watch", "3600"}, false, 3600, 0, false},
};

Test(parse, sampling)
{
	const struct sampling_case *c;
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sampling_cases); i++) {
		c = &sampling_cases[i];
		cr_assert_eq(parse_words(c->argv, &inv, err, sizeof(err)), 0,
			     "case %zu: %s", i, err);
		cr_expect_eq(inv.rate, c->rate, "case %zu", i);
		cr_expect_eq(inv.watch_s, c->watch_s, "case %zu: %u", i,
			     inv.watch_s);
		cr_expect_eq(inv.count, c->count, "case %zu: %u", i, inv.count);
		cr_expect_eq(inv.json, c->json, "case %zu", i);
		lbctl_invocation_free(&inv);
	}
}

Test(parse, commands_flag)
{
	const char *words[] = {"--commands", NULL};
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];

	cr_assert_eq(parse_words(words, &inv, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(inv.action, LBCTL_COMMANDS);
	cr_expect_null(inv.request);
}

/* ---- Help -------------------------------------------------------------- */

/* Run lbctl_help or lbctl_usage on words into a malloc'd string. */
static char *help_text(const char *const *words, bool usage)
{
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN], *buf = NULL;
	size_t len = 0;
	FILE *f;

	parse_words(words, &inv, err, sizeof(err));
	if (!usage)
		cr_assert_eq(inv.action, LBCTL_HELP, "not help: %s", err);
	f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	if (usage)
		lbctl_usage(f, &inv);
	else
		lbctl_help(f, &inv);
	fclose(f);
	lbctl_invocation_free(&inv);
	return buf;
}

Test(help, lists_every_command)
{
	const char *words[] = {"help", NULL};
	const struct lbctl_cmd *cmds;
	char name[64], *text;
	size_t i, n;

	text = help_text(words, false);
	cmds = lbctl_commands(&n);
	cr_assert_geq(n, 10);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "lbctl %s%s%s", cmds[i].words[0],
			 cmds[i].words[1] ? " " : "",
			 cmds[i].words[1] ? cmds[i].words[1] : "");
		cr_expect(strstr(text, name), "help lacks '%s':\n%s", name,
			  text);
		cr_expect(strstr(text, cmds[i].summary), "help lacks '%s'",
			  cmds[i].summary);
	}
	cr_expect(strstr(text, "--socket PATH"), "%s", text);
	cr_expect(strstr(text, "-h, --help"), "%s", text);
	cr_expect(strstr(text, "--version"), "%s", text);
	free(text);
}

Test(help, short_flag_is_full_help)
{
	const char *words[] = {"-h", NULL};
	char *text = help_text(words, false);

	cr_expect(strstr(text, "lbctl decap detach IFNAME"), "%s", text);
	free(text);
}

Test(help, group)
{
	const char *words[] = {"vip", "--help", NULL};
	char *text = help_text(words, false);

	cr_expect(strstr(text, "Usage: lbctl [OPTIONS] vip COMMAND"), "%s",
		  text);
	cr_expect(strstr(text, "lbctl vip add VIP"), "%s", text);
	cr_expect(strstr(text, "lbctl vip del VIP"), "%s", text);
	cr_expect(strstr(text, "lbctl vip list"), "%s", text);
	cr_expect_null(strstr(text, "lbctl real"), "%s", text);
	free(text);
}

Test(help, command_wins_over_missing_args)
{
	const char *words[] = {"vip", "add", "--help", NULL};
	char *text = help_text(words, false);

	/* Options that do not fit wrap under the first argument. */
	cr_expect(strstr(text, "Usage: lbctl vip add VIP "
			       "[--hash maglev|source-ip] [--table-size M]\n"
			       "                     [--mode tunnel|fullnat] "
			       "[--mss N] [--encap ipip|gue]\n"),
		  "%s", text);
	cr_expect(strstr(text, "Arguments:\n  VIP"), "%s", text);
	cr_expect(strstr(text, "a prime from 3 to 1048573"), "%s", text);
	free(text);
}

Test(help, help_word_names_a_command)
{
	const char *words[] = {"help", "real", "set", NULL};
	char *text = help_text(words, false);

	cr_expect(strstr(text, "Usage: lbctl real set VIP REAL --weight W\n"),
		  "%s", text);
	cr_expect(strstr(text, "  --weight W"), "%s", text);
	free(text);
}

Test(help, usage_after_error)
{
	const char *words[] = {"real", "set", VIP4, "10.1.0.2", NULL};
	char *text = help_text(words, true);

	cr_expect_str_eq(text, "Usage: lbctl real set VIP REAL --weight W\n"
			       "Run 'lbctl real set --help' for details.\n");
	free(text);
}

/* Check that every line of text fits 79 columns; frees text. */
static void expect_narrow(char *text)
{
	char *line, *save;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		cr_expect_leq(strlen(line), 79, "too wide: '%s'", line);
	free(text);
}

Test(help, help_lines_fit_80_columns)
{
	const char *all[] = {"help", NULL};
	const char *words[LBCTL_MAX_WORDS + 2];
	const struct lbctl_cmd *cmds;
	size_t i, j, n;

	expect_narrow(help_text(all, false));
	/* Every command's own page, summary sentence included. */
	cmds = lbctl_commands(&n);
	for (i = 0; i < n; i++) {
		for (j = 0; cmds[i].words[j]; j++)
			words[j] = cmds[i].words[j];
		words[j++] = "-h";
		words[j] = NULL;
		expect_narrow(help_text(words, false));
	}
}

/* ---- lbctl --commands -------------------------------------------------- */

Test(list, one_line_per_command)
{
	const struct lbctl_cmd *cmds;
	char *text = NULL, *line, *save, want[64];
	size_t i, n, len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	lbctl_list_commands(f);
	fclose(f);
	cr_expect(strstr(text, "vip add\tVIP\t--hash=maglev|source-ip "
			       "--table-size=M --mode=tunnel|fullnat --mss=N "
			       "--encap=ipip|gue\n"),
		  "%s", text);
	cr_expect(strstr(text, "\nsessions\t\t--vip=VIP --limit=N\n"), "%s",
		  text);
	cr_expect(strstr(text, "\nladdr del\tADDR\t\n"), "%s", text);
	cr_expect(strstr(text, "\nreal drain\tVIP REAL\t\n"), "%s", text);
	cr_expect(strstr(text, "\nstats\t\t--rate --watch=[SECONDS] "
			       "--count=N\n"),
		  "%s", text);
	cr_expect(strstr(text, "\ndecap attach\tIFNAME\t--from=PREFIX... "
			       "--generic --gue-port=PORT\n"),
		  "%s", text);
	/* The global options come last, without words or arguments. */
	cr_expect(strstr(text, "\n\t\t--socket=PATH --json --help --version "
			       "--commands\n"),
		  "%s", text);
	cr_expect_eq(text[len - 1], '\n');

	/* The table's order, every command once. */
	cmds = lbctl_commands(&n);
	line = strtok_r(text, "\n", &save);
	for (i = 0; i < n; i++, line = strtok_r(NULL, "\n", &save)) {
		snprintf(want, sizeof(want), "%s%s%s\t", cmds[i].words[0],
			 cmds[i].words[1] ? " " : "",
			 cmds[i].words[1] ? cmds[i].words[1] : "");
		cr_assert_not_null(line, "line %zu missing", i);
		cr_expect_eq(strncmp(line, want, strlen(want)), 0,
			     "line %zu: '%s', want '%s'", i, line, want);
	}
	cr_expect_not_null(line, "no global options line");
	cr_expect_null(strtok_r(NULL, "\n", &save), "extra lines");
	free(text);
}

/* ---- Printers ---------------------------------------------------------- */

/* Print reply as the command named by words would; malloc'd text. */
static char *print_text(const char *const *words, const char *reply_text)
{
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN], *buf = NULL;
	json_error_t jerr;
	json_t *reply;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(parse_words(words, &inv, err, sizeof(err)), 0, "%s", err);
	reply = json_loads(reply_text, 0, &jerr);
	cr_assert_not_null(reply, "%s", jerr.text);
	f = open_memstream(&buf, &len);
	lbctl_print_reply(f, &inv, reply);
	fclose(f);
	json_decref(reply);
	lbctl_invocation_free(&inv);
	return buf;
}

static const char vips_reply[] =
	"{\"ok\":true,\"vips\":["
	"{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"hash\":\"maglev\","
	"\"mode\":\"fullnat\",\"mss\":1400,\"encap\":\"ipip\","
	"\"table_size\":65537,\"reals\":["
	"{\"address\":\"10.1.0.2\",\"id\":1,\"weight\":100,\"state\":\"up\"},"
	"{\"address\":\"10.1.0.3\",\"id\":2,\"weight\":0,\"state\":\"up\"}]},"
	"{\"vip\":\"[2001:db8::10]:443/udp\",\"id\":2,\"hash\":\"source-ip\","
	"\"mode\":\"tunnel\",\"mss\":0,\"encap\":\"gue\","
	"\"table_size\":251,\"reals\":["
	"{\"address\":\"2001:db8:1::2\",\"id\":3,\"weight\":7,"
	"\"state\":\"up\"}]}]}";

Test(print, vip_list)
{
	const char *words[] = {"vip", "list", NULL};
	char *text = print_text(words, vips_reply);

	/* A fullnat VIP has no encapsulation to show. */
	cr_expect_str_eq(text, "VIP                     HASH       MODE     "
			       "ENCAP    MSS    TABLE  REALS\n"
			       "10.0.0.10:80/tcp        maglev     fullnat  "
			       "-       1400    65537      2\n"
			       "  -> 10.1.0.2           weight 100    up\n"
			       "  -> 10.1.0.3           weight 0      up\n"
			       "[2001:db8::10]:443/udp  source-ip  tunnel   "
			       "gue        -      251      1\n"
			       "  -> 2001:db8:1::2      weight 7      up\n");
	free(text);
}

Test(print, sessions)
{
	const char *words[] = {"sessions", NULL};
	char *text = print_text(
		words,
		"{\"ok\":true,\"total\":4,\"truncated\":true,\"sessions\":["
		"{\"proto\":\"tcp\",\"client\":\"192.0.2.1:40000\","
		"\"vip\":\"10.0.0.10:80\",\"local\":\"10.97.0.1:2000\","
		"\"real\":\"10.1.0.2:80\",\"state\":\"established\","
		"\"idle_seconds\":3,\"cpu\":1},"
		"{\"proto\":\"udp\",\"client\":\"[2001:db8::9]:53\","
		"\"vip\":\"[2001:db8::10]:53\",\"local\":\"[fd00::1]:1024\","
		"\"real\":null,\"state\":\"unreplied\",\"idle_seconds\":61,"
		"\"cpu\":\"peer\"},"
		"{\"mode\":\"tunnel\",\"proto\":\"tcp\","
		"\"client\":\"192.0.2.2:1234\",\"vip\":\"10.0.0.11:80\","
		"\"local\":null,\"real\":\"10.1.0.3:80\",\"state\":\"fin_"
		"wait\","
		"\"idle_seconds\":0,\"cpu\":0}]}");

	cr_expect_str_eq(
		text,
		"PROTO  CLIENT            VIP                LOCAL           "
		"REAL         STATE        IDLE   CPU\n"
		"tcp    192.0.2.1:40000   10.0.0.10:80       10.97.0.1:2000  "
		"10.1.0.2:80  established     3     1\n"
		"udp    [2001:db8::9]:53  [2001:db8::10]:53  [fd00::1]:1024  "
		"-            unreplied      61  peer\n"
		"tcp    192.0.2.2:1234    10.0.0.11:80       -               "
		"10.1.0.3:80  fin_wait        0     0\n"
		"(3 of 4 sessions shown: --limit N shows more)\n");
	free(text);
}

Test(print, laddr_list)
{
	const char *words[] = {"laddr", "list", NULL};
	char *text = print_text(
		words, "{\"ok\":true,\"local_addresses\":["
		       "{\"address\":\"10.97.0.1\",\"sessions\":12},"
		       "{\"address\":\"fd00:97::1\",\"sessions\":0}]}");

	cr_expect_str_eq(text, "LOCAL ADDRESS  SESSIONS\n"
			       "10.97.0.1            12\n"
			       "fd00:97::1            0\n");
	free(text);
}

Test(print, stats_fullnat_block)
{
	const char *words[] = {"stats", NULL};
	char *text = print_text(
		words, "{\"ok\":true,\"vips\":[],\"reasons\":{},\"fullnat\":{"
		       "\"sessions\":5,\"entries\":7,\"table_size\":262144,"
		       "\"port_min\":1024,\"port_max\":65535,\"ports_per_cpu\":"
		       "32256,\"cpus\":2,\"gc\":{\"sweeps\":9,\"expired\":4,"
		       "\"orphans\":1},\"local_addresses\":[{\"address\":"
		       "\"10.97.0.1\",\"sessions\":5}]}}");

	cr_expect(strstr(text, "\nFULLNAT: 5 active sessions (7 entries of "
			       "262144), ports 1024-65535, 32256 per CPU on "
			       "2 CPUs\n"
			       "sweeps: 9, 4 sessions expired, 1 orphans\n\n"
			       "LOCAL ADDRESS  SESSIONS\n"
			       "10.97.0.1             5\n"),
		  "%s", text);
	free(text);
	/* No pool and no sessions: no block. */
	text = print_text(words, "{\"ok\":true,\"vips\":[],\"reasons\":{},"
				 "\"fullnat\":{\"sessions\":0,\"entries\":0,"
				 "\"local_addresses\":[]}}");
	cr_expect_null(strstr(text, "FULLNAT"), "%s", text);
	free(text);
}

Test(print, vip_list_empty)
{
	const char *words[] = {"vip", "list", NULL};
	char *text = print_text(words, "{\"ok\":true,\"vips\":[]}");

	cr_expect_str_eq(text,
			 "VIP  HASH       MODE     ENCAP    MSS    TABLE  "
			 "REALS\n");
	free(text);
}

Test(print, stats_skips_zero_reasons)
{
	const char *words[] = {"stats", NULL};
	char *text = print_text(
		words,
		"{\"ok\":true,\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\","
		"\"id\":1,\"hash\":\"maglev\",\"table_size\":65537,"
		"\"packets\":1234567,\"bytes\":91355958,\"new_flows\":20,"
		"\"active_conns\":3,\"inactive_conns\":12,"
		"\"reals\":[{\"address\":\"10.1.0.2\",\"id\":1,\"weight\":100,"
		"\"state\":\"up\",\"packets\":6,\"bytes\":444,"
		"\"new_flows\":1,\"active_conns\":3,"
		"\"inactive_conns\":12}]}],"
		"\"reasons\":{\"forward_tx\":1234567,\"pass_not_vip\":3,"
		"\"drop_truncated\":0}}");

	cr_expect_str_eq(
		text, "VIP / REAL        PACKETS     BYTES  NEW FLOWS  ACTIVE  "
		      "INACTIVE\n"
		      "10.0.0.10:80/tcp  1234567  91355958         20       3  "
		      "      12\n"
		      "  -> 10.1.0.2           6       444          1       3  "
		      "      12\n"
		      "\n"
		      "REASON        PACKETS\n"
		      "forward_tx    1234567\n"
		      "pass_not_vip        3\n");
	free(text);
}

Test(print, json_is_the_raw_reply)
{
	const char *words[] = {"--json", "stats", NULL};
	const char *reply = "{\"ok\":true,\"vips\":[],"
			    "\"reasons\":{\"drop_truncated\":0}}";
	json_t *want, *got;
	char *text;

	text = print_text(words, reply);
	got = json_loads(text, 0, NULL);
	want = json_loads(reply, 0, NULL);
	cr_assert_not_null(got, "not JSON: %s", text);
	cr_expect(json_equal(got, want), "%s", text);
	cr_expect(strchr(text, '\n') != strrchr(text, '\n'), "not pretty");
	json_decref(got);
	json_decref(want);
	free(text);
}

/* What lbctl status merges from ping and stats. */
static const char status_reply[] =
	"{\"ok\":true,\"version\":\"0.1.0\",\"vips\":["
	"{\"vip\":\"10.0.0.10:80/tcp\",\"packets\":10,\"bytes\":740,"
	"\"new_flows\":2,\"active_conns\":1,\"inactive_conns\":1,"
	"\"reals\":["
	"{\"address\":\"10.1.0.2\",\"weight\":100,\"state\":\"up\","
	"\"packets\":6,\"new_flows\":1,\"active_conns\":1,"
	"\"health\":{\"latency_seconds\":0.0025}},"
	"{\"address\":\"10.1.0.3\",\"weight\":0,\"state\":\"draining\","
	"\"packets\":4,\"new_flows\":1,\"inactive_conns\":1}]},"
	"{\"vip\":\"[2001:db8::10]:443/udp\",\"packets\":0,\"new_flows\":0,"
	"\"reals\":[{\"address\":\"2001:db8:1::2\",\"weight\":7,"
	"\"state\":\"down\",\"packets\":0,\"new_flows\":0}]}],"
	"\"reasons\":{\"forward_tx\":10,\"pass_not_vip\":3,"
	"\"drop_no_real\":2,\"drop_truncated\":0}}";

Test(print, status)
{
	const char *words[] = {"status", "--socket", "/tmp/x.sock", NULL};
	char *text = print_text(words, status_reply);

	cr_expect_str_eq(
		text,
		"xlbd 0.1.0 on /tmp/x.sock: 2 VIPs, 3 reals (1 up, 1 down, "
		"1 draining)\n"
		"packets: 10 forwarded, 3 passed, 2 dropped\n"
		"\n"
		"VIP / REAL              STATE     WEIGHT  CHECK   PACKETS  "
		"NEW FLOWS  ACTIVE  INACTIVE\n"
		"10.0.0.10:80/tcp        1/2 up                         10  "
		"        2       1         1\n"
		"  -> 10.1.0.2           up           100  2.5 ms        6  "
		"        1       1         0\n"
		"  -> 10.1.0.3           draining       0  -             4  "
		"        1       0         1\n"
		"[2001:db8::10]:443/udp  0/1 up                          0  "
		"        0       0         0\n"
		"  -> 2001:db8:1::2      down           7  -             0  "
		"        0       0         0\n");
	free(text);
}

Test(print, status_without_vips)
{
	const char *words[] = {"status", NULL};
	char *text = print_text(words, "{\"ok\":true,\"version\":\"0.1.0\","
				       "\"vips\":[],\"reasons\":{}}");

	cr_expect_str_eq(text, "xlbd 0.1.0 on " XLB_DEFAULT_SOCKET
			       ": 0 VIPs, 0 reals (0 up, 0 down, 0 draining)\n"
			       "packets: 0 forwarded, 0 passed, 0 dropped\n");
	free(text);
}

/* A replies' JSON text, parsed (asserting it parses). */
/* The node's kernel settings (ping's "host"), and what a full stop
 * gives back. */
Test(print, status_host_settings)
{
	const char *words[] = {"status", NULL};
	char *text = print_text(
		words,
		"{\"ok\":true,\"version\":\"0.1.0\",\"vips\":[],"
		"\"reasons\":{},\"host\":{\"ipv4_forwarding\":1,"
		"\"ipv6_forwarding\":null,\"rp_filter\":2,\"interfaces\":["
		"{\"name\":\"eth0\",\"accept_local\":1,\"rp_filter\":0}],"
		"\"restore_on_shutdown\":[{\"sysctl\":\"net.ipv4.ip_forward\","
		"\"was\":0},{\"sysctl\":\"net.ipv4.conf.eth0.accept_local\","
		"\"was\":0}]}}");

	cr_expect_str_eq(text,
			 "xlbd 0.1.0 on " XLB_DEFAULT_SOCKET
			 ": 0 VIPs, 0 reals (0 up, 0 down, 0 draining)\n"
			 "packets: 0 forwarded, 0 passed, 0 dropped\n"
			 "host: ip_forward 1, ipv6 forwarding ?, "
			 "rp_filter 2; eth0: accept_local 1, rp_filter 0\n"
			 "set by xlbd, restored by lbctl shutdown: "
			 "net.ipv4.ip_forward=0, "
			 "net.ipv4.conf.eth0.accept_local=0\n");
	free(text);
}

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	cr_assert_not_null(j, "%s: %s", text, jerr.text);
	return j;
}

static const char rates_before[] =
	"{\"ok\":true,\"vips\":[{\"vip\":\"A\",\"packets\":10,\"bytes\":1000,"
	"\"new_flows\":1,\"reals\":[{\"address\":\"r1\",\"packets\":10,"
	"\"bytes\":1000,\"new_flows\":1}]}],"
	"\"reasons\":{\"forward_tx\":10,\"drop_no_real\":5}}";

/* r2 and B are new; drop_no_real went back (a reset). */
static const char rates_after[] =
	"{\"ok\":true,\"vips\":[{\"vip\":\"A\",\"packets\":30,\"bytes\":3000,"
	"\"new_flows\":5,\"reals\":["
	"{\"address\":\"r1\",\"packets\":20,\"bytes\":2000,\"new_flows\":3},"
	"{\"address\":\"r2\",\"packets\":10,\"bytes\":1000,\"new_flows\":2}"
	"]},{\"vip\":\"B\",\"packets\":4,\"bytes\":400,\"new_flows\":4,"
	"\"reals\":[]}],\"reasons\":{\"forward_tx\":34,\"drop_no_real\":1}}";

static const char rates_want[] =
	"{\"ok\":true,\"interval_seconds\":2.0,\"vips\":["
	"{\"vip\":\"A\",\"new_flows_per_second\":2.0,"
	"\"packets_per_second\":10.0,\"bytes_per_second\":1000.0,\"reals\":["
	"{\"address\":\"r1\",\"new_flows_per_second\":1.0,"
	"\"packets_per_second\":5.0,\"bytes_per_second\":500.0},"
	"{\"address\":\"r2\",\"new_flows_per_second\":1.0,"
	"\"packets_per_second\":5.0,\"bytes_per_second\":500.0}]},"
	"{\"vip\":\"B\",\"new_flows_per_second\":2.0,"
	"\"packets_per_second\":2.0,\"bytes_per_second\":200.0,"
	"\"reals\":[]}],"
	"\"reasons\":{\"forward_tx\":12.0,\"drop_no_real\":0.0}}";

Test(rates, between_two_samples)
{
	json_t *before = load(rates_before), *after = load(rates_after);
	json_t *want = load(rates_want), *got;
	char *s;

	got = lbctl_stats_rates(before, after, 2.0);
	cr_assert_not_null(got);
	s = json_dumps(got, JSON_COMPACT);
	cr_expect(json_equal(got, want), "got %s", s);
	free(s);
	json_decref(got);
	json_decref(want);

	/* No time passed: no rate rather than a division by zero. */
	got = lbctl_stats_rates(before, after, 0);
	cr_assert_not_null(got);
	cr_expect_eq(json_real_value(json_object_get(
			     json_array_get(json_object_get(got, "vips"), 0),
			     "packets_per_second")),
		     0.0);
	json_decref(got);
	json_decref(before);
	json_decref(after);
}

Test(print, rates)
{
	const char *words[] = {"stats", "--rate", NULL};
	char *text = print_text(words, rates_want);

	cr_expect_str_eq(text, "VIP / REAL  CPS  InPPS   InBPS\n"
			       "A           2.0   10.0  1000.0\n"
			       "  -> r1     1.0    5.0   500.0\n"
			       "  -> r2     1.0    5.0   500.0\n"
			       "B           2.0    2.0   200.0\n"
			       "\n"
			       "REASON      PER SEC\n"
			       "forward_tx     12.0\n");
	free(text);
}

/* With --watch, --json is a stream: one compact object a line. */
Test(print, json_watch_is_one_line)
{
	const char *words[] = {"--json", "stats", "--watch", NULL};
	char *text = print_text(words, rates_before);

	cr_expect_eq(strchr(text, '\n'), text + strlen(text) - 1, "%s", text);
	cr_expect_eq(text[0], '{');
	free(text);
}

Test(print, reload)
{
	const char *words[] = {"reload", NULL};
	char *text = print_text(
		words,
		"{\"ok\":true,\"changes\":{\"vips_added\":1,"
		"\"vips_removed\":0,\"vips_changed\":2,\"reals_added\":3,"
		"\"reals_removed\":4,\"reals_changed\":5,"
		"\"checks_changed\":6}}");

	cr_expect_str_eq(text, "reloaded: VIPs +1 -0 ~2, reals +3 -4 ~5, "
			       "checks ~6\n");
	free(text);
	text = print_text(words, "{\"ok\":true}");
	cr_expect_str_eq(text, "reloaded\n");
	free(text);
}

Test(print, ping)
{
	const char *words[] = {"ping", "--socket", "/tmp/x.sock", NULL};
	char *text = print_text(words, "{\"ok\":true,\"version\":\"0.1.0\"}");

	cr_expect_str_eq(text, "xlbd 0.1.0 answers on /tmp/x.sock\n");
	free(text);
}

/* ---- The daemon's side, stubbed -------------------------------------- */

static struct {
	int calls;
	const char *op;
	struct xlb_service svc;
	struct xlb_ip real;
	enum xlb_hash_mode hash;
	uint32_t table_size;
	uint32_t weight;
	enum xlb_fwd_mode mode;
	uint16_t mss;
	bool gue;
	bool cur_tunnel; /* what xlb_vip_get_mode answers */
	bool cur_gue;
	size_t limit;
	bool has_vip;
	const char *ops[4]; /* every operation of the request, in order */
	bool with_counters;
	const char *fail_op; /* if set, only this operation fails */
	int ret;	     /* what the next operation returns */
	const char *msg;     /* and the reason it gives */
} stub;

#define STUB_AGENT ((struct xlb_agent *)&stub)

/* Record an operation and answer as the test asked. */
static int stub_op(struct xlb_agent *agent, const char *op, char *err,
		   size_t errlen)
{
	cr_assert_eq(agent, STUB_AGENT);
	if (stub.calls < (int)ARRAY_SIZE(stub.ops))
		stub.ops[stub.calls] = op;
	stub.calls++;
	stub.op = op;
	if (stub.fail_op && strcmp(stub.fail_op, op))
		return 0;
	if (stub.msg)
		snprintf(err, errlen, "%s", stub.msg);
	return stub.ret;
}

int xlb_vip_add(struct xlb_agent *agent, const struct xlb_service *svc,
		enum xlb_hash_mode hash, uint32_t table_size, char *err,
		size_t errlen)
{
	stub.svc = *svc;
	stub.hash = hash;
	stub.table_size = table_size;
	return stub_op(agent, "vip.add", err, errlen);
}

int xlb_vip_del(struct xlb_agent *agent, const struct xlb_service *svc,
		char *err, size_t errlen)
{
	stub.svc = *svc;
	return stub_op(agent, "vip.del", err, errlen);
}

int xlb_real_add(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, uint32_t weight, char *err,
		 size_t errlen)
{
	stub.svc = *svc;
	stub.real = *real;
	stub.weight = weight;
	return stub_op(agent, "real.add", err, errlen);
}

int xlb_real_del(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, char *err, size_t errlen)
{
	stub.svc = *svc;
	stub.real = *real;
	return stub_op(agent, "real.del", err, errlen);
}

int xlb_real_set_weight(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, uint32_t weight, char *err,
			size_t errlen)
{
	stub.svc = *svc;
	stub.real = *real;
	stub.weight = weight;
	return stub_op(agent, "real.set", err, errlen);
}

int xlb_vip_set_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode mode, uint16_t mss, char *err,
		     size_t errlen)
{
	stub.svc = *svc;
	stub.mode = mode;
	stub.mss = mss;
	return stub_op(agent, "vip.set", err, errlen);
}

int xlb_vip_set_encap(struct xlb_agent *agent, const struct xlb_service *svc,
		      bool gue, char *err, size_t errlen)
{
	stub.svc = *svc;
	stub.gue = gue;
	return stub_op(agent, "vip.encap", err, errlen);
}

/* The stub's VIPs are fullnat with MSS 1300 and IPIP until told
 * otherwise (stub.cur_tunnel, stub.cur_gue). */
int xlb_vip_get_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode *mode, uint16_t *mss, bool *gue,
		     char *err, size_t errlen)
{
	*mode = stub.cur_tunnel ? XLB_MODE_TUNNEL : XLB_MODE_FULLNAT;
	*mss = 1300;
	*gue = stub.cur_gue;
	return 0;
}

int xlb_laddr_add(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	stub.real = *ip;
	return stub_op(agent, "laddr.add", err, errlen);
}

int xlb_laddr_del(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	stub.real = *ip;
	return stub_op(agent, "laddr.del", err, errlen);
}

json_t *xlb_agent_laddrs_json(struct xlb_agent *agent)
{
	stub.calls++;
	return json_pack("{s:[{s:s,s:i}]}", "local_addresses", "address",
			 "10.97.0.1", "sessions", 2);
}

json_t *xlb_agent_sessions_json(struct xlb_agent *agent,
				const struct xlb_service *vip, size_t limit)
{
	stub.calls++;
	stub.limit = limit;
	stub.has_vip = vip != NULL;
	if (vip)
		stub.svc = *vip;
	return json_pack("{s:[],s:i,s:b}", "sessions", "total", 0, "truncated",
			 0);
}

json_t *xlb_agent_vips_json(struct xlb_agent *agent, bool with_counters)
{
	stub.with_counters = with_counters;
	stub.calls++;
	return json_pack("{s:[{s:s}]}", "vips", "vip", VIP4);
}

json_t *xlb_agent_stats_json(struct xlb_agent *agent)
{
	stub.calls++;
	return json_pack("{s:[],s:{s:i}}", "vips", "reasons", "forward_tx", 3);
}

/* ---- Dispatch ------------------------------------------------------------ */

/* Dispatch request text; return the reply as compact text (static). */
static const char *dispatch(const char *text)
{
	static char out[1024];
	json_t *req, *reply;
	json_error_t jerr;
	char *s;

	req = json_loads(text, JSON_DECODE_ANY, &jerr);
	cr_assert_not_null(req, "%s: %s", text, jerr.text);
	reply = xlb_control_dispatch(STUB_AGENT, req);
	cr_assert_not_null(reply);
	cr_assert(json_is_boolean(json_object_get(reply, "ok")));
	s = json_dumps(reply, JSON_COMPACT);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	json_decref(reply);
	json_decref(req);
	return out;
}

struct dispatch_case {
	const char *desc;
	const char *request;
	const char *reply; /* exact, compact */
	int calls;	   /* agent calls expected */
};

static const struct dispatch_case dispatch_cases[] = {
	{"ping", "{\"cmd\":\"ping\"}",
	 "{\"ok\":true,\"version\":\"" XLB_VERSION "\"}", 0},
	{"not an object", "[1,2]",
	 "{\"ok\":false,\"error\":\"request is not a JSON object\"}", 0},
	{"no cmd", "{\"vip\":\"" VIP4 "\"}",
	 "{\"ok\":false,\"error\":\"missing field 'cmd'\"}", 0},
	{"cmd not a string", "{\"cmd\":7}",
	 "{\"ok\":false,\"error\":\"field 'cmd' must be a string\"}", 0},
	{"unknown cmd", "{\"cmd\":\"vip.frob\"}",
	 "{\"ok\":false,\"error\":\"unknown command 'vip.frob'\"}", 0},
	{"missing vip", "{\"cmd\":\"vip.add\"}",
	 "{\"ok\":false,\"error\":\"missing field 'vip' for vip.add\"}", 0},
	{"vip not a string", "{\"cmd\":\"vip.del\",\"vip\":1}",
	 "{\"ok\":false,\"error\":\"field 'vip' must be a string\"}", 0},
	{"unknown field",
	 "{\"cmd\":\"real.add\",\"vip\":\"" VIP4 "\","
	 "\"real\":\"10.1.0.2\",\"weigth\":3}",
	 "{\"ok\":false,\"error\":\"unknown field 'weigth' for real.add\"}", 0},
	{"weight as a string",
	 "{\"cmd\":\"real.set\",\"vip\":\"" VIP4 "\","
	 "\"real\":\"10.1.0.2\",\"weight\":\"3\"}",
	 "{\"ok\":false,\"error\":\"field 'weight' must be a non-negative "
	 "integer\"}",
	 0},
	{"negative weight",
	 "{\"cmd\":\"real.set\",\"vip\":\"" VIP4 "\","
	 "\"real\":\"10.1.0.2\",\"weight\":-1}",
	 "{\"ok\":false,\"error\":\"field 'weight' must be a non-negative "
	 "integer\"}",
	 0},
	{"weight too large",
	 "{\"cmd\":\"real.set\",\"vip\":\"" VIP4 "\","
	 "\"real\":\"10.1.0.2\",\"weight\":70000}",
	 "{\"ok\":false,\"error\":\"weight: 70000 is out of range 0..65535\"}",
	 0},
	{"real.set needs weight",
	 "{\"cmd\":\"real.set\",\"vip\":\"" VIP4 "\","
	 "\"real\":\"10.1.0.2\"}",
	 "{\"ok\":false,\"error\":\"missing field 'weight' for real.set\"}", 0},
	{"bad vip", "{\"cmd\":\"vip.del\",\"vip\":\"10.0.0.300:80/tcp\"}",
	 "{\"ok\":false,\"error\":\"bad vip '10.0.0.300:80/tcp': expected "
	 "ADDR:PORT/PROTO\"}",
	 0},
	{"bad real",
	 "{\"cmd\":\"real.del\",\"vip\":\"" VIP4 "\","
	 "\"real\":\"nope\"}",
	 "{\"ok\":false,\"error\":\"bad real 'nope': expected an IP "
	 "address\"}",
	 0},
	{"bad hash",
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\","
	 "\"hash\":\"random\"}",
	 "{\"ok\":false,\"error\":\"hash: expected maglev or source-ip, got "
	 "'random'\"}",
	 0},
	{"table size not prime",
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\","
	 "\"table_size\":65536}",
	 "{\"ok\":false,\"error\":\"table_size: 65536 is not a prime (65521 "
	 "and 65537 are)\"}",
	 0},
	{"vip.list", "{\"cmd\":\"vip.list\"}",
	 "{\"ok\":true,\"vips\":[{\"vip\":\"" VIP4 "\"}]}", 1},
	{"bad mode",
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"mode\":\"dsr\"}",
	 "{\"ok\":false,\"error\":\"mode: expected tunnel or fullnat, got "
	 "'dsr'\"}",
	 0},
	{"mss too small",
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"mss\":100}",
	 "{\"ok\":false,\"error\":\"mss: 100 is out of range 536..65535 (0: "
	 "off)\"}",
	 0},
	{"mss too large",
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP4 "\",\"mss\":65536}",
	 "{\"ok\":false,\"error\":\"mss: 65536 is out of range 536..65535 "
	 "(0: off)\"}",
	 0},
	{"vip.set with nothing to set",
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP4 "\"}",
	 "{\"ok\":false,\"error\":\"vip.set needs mode, mss or encap\"}", 0},
	{"bad encap",
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"encap\":\"vxlan\"}",
	 "{\"ok\":false,\"error\":\"encap: expected ipip or gue, got "
	 "'vxlan'\"}",
	 0},
	{"vip.add fullnat in GUE",
	 "{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\",\"mode\":\"fullnat\","
	 "\"encap\":\"gue\"}",
	 "{\"ok\":false,\"error\":\"encap: gue is for tunnel VIPs only\"}", 0},
	{"vip.set GUE on a fullnat VIP",
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP4 "\",\"encap\":\"gue\"}",
	 "{\"ok\":false,\"error\":\"encap: gue is for tunnel VIPs only\"}", 0},
	{"vip.set mode only",
	 "{\"cmd\":\"vip.set\",\"vip\":\"" VIP4 "\",\"mode\":\"tunnel\"}",
	 "{\"ok\":true}", 1},
	{"laddr.add", "{\"cmd\":\"laddr.add\",\"address\":\"10.97.0.1\"}",
	 "{\"ok\":true}", 1},
	{"laddr.add needs an address", "{\"cmd\":\"laddr.add\"}",
	 "{\"ok\":false,\"error\":\"missing field 'address' for "
	 "laddr.add\"}",
	 0},
	{"laddr.del bad address",
	 "{\"cmd\":\"laddr.del\",\"address\":\"10.97.0.1/32\"}",
	 "{\"ok\":false,\"error\":\"bad address '10.97.0.1/32': expected an IP "
	 "address\"}",
	 0},
	{"laddr.list", "{\"cmd\":\"laddr.list\"}",
	 "{\"ok\":true,\"local_addresses\":[{\"address\":\"10.97.0.1\","
	 "\"sessions\":2}]}",
	 1},
	{"sessions", "{\"cmd\":\"sessions\"}",
	 "{\"ok\":true,\"sessions\":[],\"total\":0,\"truncated\":false}", 1},
	{"sessions limit 0", "{\"cmd\":\"sessions\",\"limit\":0}",
	 "{\"ok\":false,\"error\":\"limit: 0 is out of range 1..1000000\"}", 0},
	{"sessions bad vip", "{\"cmd\":\"sessions\",\"vip\":\"10.0.0.1\"}",
	 "{\"ok\":false,\"error\":\"bad vip '10.0.0.1': expected "
	 "ADDR:PORT/PROTO\"}",
	 0},
	{"stats", "{\"cmd\":\"stats\"}",
	 "{\"ok\":true,\"vips\":[],\"reasons\":{\"forward_tx\":3}}", 1},
};

ParameterizedTestParameters(dispatch, table)
{
	INDEX_PARAMS(dispatch_cases);
}

ParameterizedTest(size_t *idx, dispatch, table)
{
	const struct dispatch_case *c = &dispatch_cases[*idx];
	const char *got = dispatch(c->request);

	cr_expect_str_eq(got, c->reply, "%s", c->desc);
	cr_expect_eq(stub.calls, c->calls, "%s: %d agent calls", c->desc,
		     stub.calls);
}

/* The control path refuses what the config file refuses, in its words
 * (addr_cases.h; test_config.c checks the file's side), before any
 * agent operation. */
ParameterizedTestParameters(dispatch, refused_addresses)
{
	INDEX_PARAMS(addr_cases);
}

ParameterizedTest(size_t *idx, dispatch, refused_addresses)
{
	const struct addr_case *c = &addr_cases[*idx];
	char req[256], want[256];
	json_t *reply;

	switch (c->kind) {
	case AC_VIP:
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"vip.add\",\"vip\":\"%s\"}", c->vip);
		break;
	case AC_REAL:
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"real.add\",\"vip\":\"%s\",\"real\":"
			 "\"%s\"}",
			 c->vip, c->addr);
		break;
	case AC_LADDR:
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"laddr.add\",\"address\":\"%s\"}", c->addr);
		break;
	}
	/* The reply's error is the validator's message, as JSON text. */
	reply = json_pack("{s:b,s:s}", "ok", 0, "error", c->msg);
	cr_assert_not_null(reply);
	cr_assert_gt(json_dumpb(reply, want, sizeof(want) - 1, JSON_COMPACT),
		     0);
	want[json_dumpb(reply, NULL, 0, JSON_COMPACT)] = '\0';
	json_decref(reply);
	cr_expect_str_eq(dispatch(req), want, "%s", c->desc);
	cr_expect_eq(stub.calls, 0, "%s: the agent was asked", c->desc);
}

/*
 * lbctl refuses the addresses the daemon and the file refuse, with the
 * same words after the argument's name, and sends nothing (it used to
 * send them all).
 */
ParameterizedTestParameters(parse, refused_addresses)
{
	INDEX_PARAMS(addr_cases);
}

ParameterizedTest(size_t *idx, parse, refused_addresses)
{
	const struct addr_case *c = &addr_cases[*idx];
	const char *vip_add[] = {"vip", "add", c->vip, NULL};
	const char *real_add[] = {"real", "add", c->vip, c->addr, NULL};
	const char *laddr_add[] = {"laddr", "add", c->addr, NULL};
	const char *const *words = c->kind == AC_VIP	? vip_add
				   : c->kind == AC_REAL ? real_add
							: laddr_add;
	const char *label = c->kind == AC_VIP	 ? "VIP"
			    : c->kind == AC_REAL ? "REAL"
						 : "ADDR";
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN], want[XLB_ERR_LEN];

	snprintf(want, sizeof(want), "%s: %s", label, c->msg);
	cr_expect_eq(parse_words(words, &inv, err, sizeof(err)), -EINVAL,
		     "%s: accepted", c->desc);
	cr_expect_str_eq(err, want, "%s", c->desc);
	cr_expect_null(inv.request, "%s: a request was built", c->desc);
	lbctl_invocation_free(&inv);
}

/*
 * A VIP's or real's value is refused with the same reason by the control
 * socket ("KEY: REASON"), by lbctl ("--OPTION: REASON") and by the file
 * (test_config.c): setting_cases.h.
 */
ParameterizedTestParameters(dispatch, refused_settings)
{
	INDEX_PARAMS(setting_cases);
}

ParameterizedTest(size_t *idx, dispatch, refused_settings)
{
	const struct setting_case *c = &setting_cases[*idx];
	char req[256], want[XLB_ERR_LEN], extra[64] = "", value[64];
	json_t *reply;

	if (c->extra)
		snprintf(extra, sizeof(extra), ",\"%s\":\"%s\"", c->extra,
			 c->extra_value);
	snprintf(value, sizeof(value), c->number ? "%s" : "\"%s\"", c->value);
	if (c->real)
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"real.add\",\"vip\":\"%s\","
			 "\"real\":\"10.1.0.2\",\"%s\":%s}",
			 c->vip, c->key, value);
	else
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"vip.add\",\"vip\":\"%s\"%s,\"%s\":%s}",
			 c->vip, extra, c->key, value);
	snprintf(value, sizeof(value), "%s: %s", c->key, c->reason);
	reply = json_pack("{s:b,s:s}", "ok", 0, "error", value);
	cr_assert_not_null(reply);
	cr_assert_gt(json_dumpb(reply, want, sizeof(want) - 1, JSON_COMPACT),
		     0);
	want[json_dumpb(reply, NULL, 0, JSON_COMPACT)] = '\0';
	json_decref(reply);
	cr_expect_str_eq(dispatch(req), want, "%s", c->desc);
	cr_expect_eq(stub.calls, 0, "%s: the agent was asked", c->desc);
}

ParameterizedTestParameters(parse, refused_settings)
{
	INDEX_PARAMS(setting_cases);
}

ParameterizedTest(size_t *idx, parse, refused_settings)
{
	const struct setting_case *c = &setting_cases[*idx];
	char extra_opt[32], err[XLB_ERR_LEN], want[XLB_ERR_LEN];
	const char *words[10];
	struct lbctl_invocation inv;
	size_t n = 0;

	words[n++] = c->real ? "real" : "vip";
	words[n++] = "add";
	words[n++] = c->vip;
	if (c->real)
		words[n++] = "10.1.0.2";
	if (c->extra) {
		snprintf(extra_opt, sizeof(extra_opt), "--%s", c->extra);
		words[n++] = extra_opt;
		words[n++] = c->extra_value;
	}
	words[n++] = c->option;
	words[n++] = c->value;
	words[n] = NULL;
	snprintf(want, sizeof(want), "%s: %s", c->option, c->reason);
	cr_expect_eq(parse_words(words, &inv, err, sizeof(err)), -EINVAL,
		     "%s: accepted", c->desc);
	cr_expect_str_eq(err, want, "%s", c->desc);
	lbctl_invocation_free(&inv);
}

Test(dispatch, usable_addresses_still_go_through)
{
	cr_expect_str_eq(
		dispatch("{\"cmd\":\"real.add\",\"vip\":"
			 "\"10.0.0.10:80/tcp\",\"real\":\"10.0.0.11\"}"),
		"{\"ok\":true}");
	cr_expect_str_eq(dispatch("{\"cmd\":\"laddr.add\",\"address\":"
				  "\"10.97.0.1\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 2);
}

Test(dispatch, vip_add_fullnat)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.add\",\"vip\":\"" VIP4
				  "\",\"mode\":\"fullnat\",\"mss\":1400}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 2);
	cr_expect_str_eq(stub.ops[0], "vip.add");
	cr_expect_str_eq(stub.ops[1], "vip.set");
	cr_expect_eq(stub.mode, XLB_MODE_FULLNAT);
	cr_expect_eq(stub.mss, 1400);
}

Test(dispatch, vip_add_fullnat_refused_leaves_nothing)
{
	stub.ret = -EINVAL;
	stub.msg = "VIP 10.0.0.10:80/tcp cannot be fullnat: no IPv4 local "
		   "address (lbctl laddr add)";
	/* The add "fails" too in the stub; what matters is the order and
	 * that a refused mode takes the VIP away again. */
	stub.ret = 0;
	stub.msg = NULL;
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.add\",\"vip\":\"" VIP4
				  "\",\"mode\":\"tunnel\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 1, "tunnel without mss: one call");
}

Test(dispatch, vip_set_keeps_what_is_not_given)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.set\",\"vip\":\"" VIP4
				  "\",\"mss\":0}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.mode, XLB_MODE_FULLNAT);
	cr_expect_eq(stub.mss, 0);
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.set\",\"vip\":\"" VIP4
				  "\",\"mode\":\"tunnel\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.mode, XLB_MODE_TUNNEL);
	cr_expect_eq(stub.mss, 1300);
}

Test(dispatch, vip_add_gue)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.add\",\"vip\":\"" VIP4
				  "\",\"encap\":\"gue\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 2, "tunnel without mss: add, encap");
	cr_expect_str_eq(stub.ops[0], "vip.add");
	cr_expect_str_eq(stub.ops[1], "vip.encap");
	cr_expect(stub.gue);
}

/* A refused encap takes the new VIP away again. */
Test(dispatch, vip_add_gue_refused_leaves_nothing)
{
	stub.fail_op = "vip.encap";
	stub.ret = -EIO;
	stub.msg = "updating VIP: Input/output error";
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.add\",\"vip\":\"" VIP4
				  "\",\"mss\":1400,\"encap\":\"gue\"}"),
			 "{\"ok\":false,\"error\":\"updating VIP: "
			 "Input/output error\"}");
	cr_expect_eq(stub.calls, 4);
	cr_expect_str_eq(stub.ops[0], "vip.add");
	cr_expect_str_eq(stub.ops[1], "vip.set");
	cr_expect_str_eq(stub.ops[2], "vip.encap");
	cr_expect_str_eq(stub.ops[3], "vip.del");
}

/* Only the encap: the mode is not touched. */
Test(dispatch, vip_set_encap_alone)
{
	stub.cur_tunnel = true;
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.set\",\"vip\":\"" VIP4
				  "\",\"encap\":\"gue\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 1);
	cr_expect_str_eq(stub.op, "vip.encap");
	cr_expect(stub.gue);
}

/* A GUE VIP stays GUE until told: fullnat alone is refused like the
 * file's mode: fullnat beside encap: gue; with ipip it goes, IPIP
 * first so that no fullnat VIP ever has GUE. */
Test(dispatch, vip_set_gue_to_fullnat)
{
	stub.cur_tunnel = true;
	stub.cur_gue = true;
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.set\",\"vip\":\"" VIP4
				  "\",\"mode\":\"fullnat\"}"),
			 "{\"ok\":false,\"error\":\"encap: gue is for tunnel "
			 "VIPs only\"}");
	cr_expect_eq(stub.calls, 0);
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.set\",\"vip\":\"" VIP4
				  "\",\"mode\":\"fullnat\","
				  "\"encap\":\"ipip\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 2);
	cr_expect_str_eq(stub.ops[0], "vip.encap");
	cr_expect_str_eq(stub.ops[1], "vip.set");
	cr_expect(!stub.gue);
	cr_expect_eq(stub.mode, XLB_MODE_FULLNAT);
}

/* From fullnat to tunnel in GUE: the mode first. */
Test(dispatch, vip_set_fullnat_to_gue)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.set\",\"vip\":\"" VIP4
				  "\",\"mode\":\"tunnel\","
				  "\"encap\":\"gue\"}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.calls, 2);
	cr_expect_str_eq(stub.ops[0], "vip.set");
	cr_expect_str_eq(stub.ops[1], "vip.encap");
	cr_expect(stub.gue);
	cr_expect_eq(stub.mode, XLB_MODE_TUNNEL);
	cr_expect_eq(stub.mss, 1300);
}

Test(dispatch, sessions_defaults_and_filter)
{
	dispatch("{\"cmd\":\"sessions\"}");
	cr_expect_eq(stub.limit, 1000);
	cr_expect(!stub.has_vip);
	dispatch("{\"cmd\":\"sessions\",\"vip\":\"" VIP6 "\",\"limit\":5}");
	cr_expect_eq(stub.limit, 5);
	cr_expect(stub.has_vip);
	cr_expect_eq(stub.svc.port, 443);
}

Test(dispatch, vip_add_defaults)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.add\",\"vip\":\"" VIP4 "\"}"),
			 "{\"ok\":true}");
	cr_expect_str_eq(stub.op, "vip.add");
	cr_expect_eq(stub.svc.ip.family, AF_INET);
	cr_expect_eq(stub.svc.port, 80);
	cr_expect_eq(stub.svc.proto, IPPROTO_TCP);
	cr_expect_eq(stub.hash, XLB_HASH_MAGLEV);
	cr_expect_eq(stub.table_size, XLB_RING_SIZE_DEFAULT);
}

Test(dispatch, vip_add_options)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"vip.add\",\"vip\":\"" VIP6
				  "\",\"hash\":\"source-ip\","
				  "\"table_size\":251}"),
			 "{\"ok\":true}");
	cr_expect_eq(stub.svc.ip.family, AF_INET6);
	cr_expect_eq(stub.svc.port, 443);
	cr_expect_eq(stub.svc.proto, IPPROTO_UDP);
	cr_expect_eq(stub.hash, XLB_HASH_SOURCE_IP);
	cr_expect_eq(stub.table_size, 251);
}

Test(dispatch, real_add_default_weight)
{
	struct xlb_ip want;

	cr_assert_str_eq(dispatch("{\"cmd\":\"real.add\",\"vip\":\"" VIP4
				  "\",\"real\":\"10.1.0.2\"}"),
			 "{\"ok\":true}");
	cr_assert_eq(xlb_ip_parse("10.1.0.2", &want), 0);
	cr_expect_str_eq(stub.op, "real.add");
	cr_expect(xlb_ip_equal(&stub.real, &want));
	cr_expect_eq(stub.weight, XLB_DEFAULT_WEIGHT);
}

Test(dispatch, real_set_weight)
{
	cr_assert_str_eq(dispatch("{\"cmd\":\"real.set\",\"vip\":\"" VIP4
				  "\",\"real\":\"10.1.0.2\",\"weight\":0}"),
			 "{\"ok\":true}");
	cr_expect_str_eq(stub.op, "real.set");
	cr_expect_eq(stub.weight, 0);
}

Test(dispatch, agent_refusal)
{
	stub.ret = -ENOENT;
	stub.msg = "no such VIP 10.0.0.10:80/tcp";
	cr_expect_str_eq(dispatch("{\"cmd\":\"vip.del\",\"vip\":\"" VIP4 "\"}"),
			 "{\"ok\":false,\"error\":\"no such VIP "
			 "10.0.0.10:80/tcp\"}");
	stub.msg = NULL;
	cr_expect_str_eq(dispatch("{\"cmd\":\"vip.del\",\"vip\":\"" VIP4 "\"}"),
			 "{\"ok\":false,\"error\":\"No such file or "
			 "directory\"}");
}

/* ---- Framing over a socket ------------------------------------------- */

struct server {
	char dir[32];
	char path[64];
	int epfd;
	struct xlb_control *ctl;
};

/* A control socket in a fresh directory, one level below a temp dir. */
static void server_open(struct server *s)
{
	int ret;

	snprintf(s->dir, sizeof(s->dir), "/tmp/test_lbctl.XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/run/xlbd.sock", s->dir);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(s->epfd, 0);
	ret = xlb_control_open(s->path, STUB_AGENT, s->epfd, &s->ctl);
	cr_assert_eq(ret, 0, "open: %s", strerror(-ret));
}

static void server_close(struct server *s)
{
	char run[48];

	xlb_control_close(s->ctl);
	close(s->epfd);
	snprintf(run, sizeof(run), "%s/run", s->dir);
	rmdir(run);
	rmdir(s->dir);
}

/* Run the handlers of whatever is ready within ms milliseconds. */
static void pump(struct server *s, int ms)
{
	struct epoll_event evs[8];
	struct xlb_event *ev;
	int i, n;

	n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs), ms);
	for (i = 0; i < n; i++) {
		ev = evs[i].data.ptr;
		ev->handler(ev, evs[i].events);
	}
}

static int client_connect(struct server *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "connect: %s", strerror(errno));
	return fd;
}

/* Send all of buf, serving the server while the socket is full. */
static void client_send(struct server *s, int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			cr_assert(errno == EAGAIN, "send: %s", strerror(errno));
			pump(s, 10);
			continue;
		}
		buf += n;
		len -= n;
	}
}

/*
 * Serve until the client has a whole line; return it without its '\n'
 * (static), or NULL when the server closed the connection first.
 * Bytes after the line stay in the client's pending buffer.
 */
static char pending[4096];
static size_t pending_len;

static const char *client_line(struct server *s, int fd)
{
	static char line[4096];
	char *nl;
	ssize_t n;
	int i;

	for (i = 0; i < 200; i++) {
		nl = memchr(pending, '\n', pending_len);
		if (nl) {
			memcpy(line, pending, nl - pending);
			line[nl - pending] = '\0';
			pending_len -= nl - pending + 1;
			memmove(pending, nl + 1, pending_len);
			return line;
		}
		pump(s, 10);
		n = recv(fd, pending + pending_len,
			 sizeof(pending) - pending_len, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return NULL;
		if (n > 0)
			pending_len += n;
	}
	cr_assert_fail("no reply within 2 s");
	return NULL;
}

#define PING	   "{\"cmd\":\"ping\"}\n"
#define PING_REPLY "{\"ok\":true,\"version\":\"" XLB_VERSION "\"}"

Test(socket, modes_and_cleanup)
{
	struct server s;
	struct stat st;
	char run[48];

	server_open(&s);
	snprintf(run, sizeof(run), "%s/run", s.dir);
	cr_assert_eq(stat(run, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700, "dir mode %o", st.st_mode);
	cr_assert_eq(stat(s.path, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0600, "socket mode %o", st.st_mode);
	server_close(&s);
	cr_expect_neq(stat(s.path, &st), 0, "socket left behind");
}

Test(socket, ping)
{
	struct server s;
	int fd;

	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	close(fd);
	server_close(&s);
}

Test(socket, pipelined_and_split_requests)
{
	static const char two[] = PING "{\"cmd\":\"vip.list\"}\n{\"cmd\":";
	static const char rest[] = "\"stats\"}\n";
	struct server s;
	int fd;

	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, two, strlen(two));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	cr_expect_str_eq(client_line(&s, fd),
			 "{\"ok\":true,\"vips\":[{\"vip\":\"" VIP4 "\"}]}");
	client_send(&s, fd, rest, strlen(rest));
	cr_expect_str_eq(client_line(&s, fd),
			 "{\"ok\":true,\"vips\":[],\"reasons\":"
			 "{\"forward_tx\":3}}");
	close(fd);
	server_close(&s);
}

Test(socket, bad_json_keeps_the_connection)
{
	static const char bad[] = "{\"cmd\": \"ping\"\n";
	const char *line;
	struct server s;
	int fd;

	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, bad, strlen(bad));
	line = client_line(&s, fd);
	cr_assert_not_null(line);
	cr_expect(strstr(line, "\"ok\":false"), "%s", line);
	cr_expect(strstr(line, "invalid JSON"), "%s", line);
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	close(fd);
	server_close(&s);
}

Test(socket, oversized_request_closes)
{
	size_t len = XLB_CTL_MAX_REQUEST + 100;
	char *big = malloc(len);
	const char *line;
	struct server s;
	int fd;

	cr_assert_not_null(big);
	memset(big, ' ', len);
	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, big, len);
	line = client_line(&s, fd);
	cr_assert_not_null(line);
	cr_expect_str_eq(line, "{\"ok\":false,\"error\":\"request longer than "
			       "65536 bytes\"}");
	cr_expect_null(client_line(&s, fd), "connection still open");
	free(big);
	close(fd);
	server_close(&s);
}

Test(socket, longest_request_is_accepted)
{
	size_t len = XLB_CTL_MAX_REQUEST + 1;
	char *req = malloc(len);
	struct server s;
	int fd;

	/* Exactly 65536 bytes of request, padded with blanks, then '\n'. */
	cr_assert_not_null(req);
	memset(req, ' ', len);
	memcpy(req, PING, strlen(PING) - 1);
	req[len - 1] = '\n';
	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, req, len);
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	free(req);
	close(fd);
	server_close(&s);
}

/* Serve until the server closes fd; return the milliseconds it took and
 * the last line it sent (in line), or -1 after max_ms. */
static long until_closed(struct server *s, int fd, int max_ms, char *line,
			 size_t len)
{
	struct timespec t0, t;
	char buf[256];
	size_t have = 0;
	ssize_t n;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	line[0] = '\0';
	for (;;) {
		pump(s, 20);
		n = recv(fd, buf + have, sizeof(buf) - 1 - have, MSG_DONTWAIT);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		     (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (n > 0) {
			have += n;
			buf[have] = '\0';
			snprintf(line, len, "%.*s", (int)strcspn(buf, "\n"),
				 buf);
			continue;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return ms;
		if (ms > max_ms)
			return -1;
	}
}

#define TOO_MANY "{\"ok\":false,\"error\":\"too many clients\"}"
#define TIMED_OUT                                            \
	"{\"ok\":false,\"error\":\"no whole request within " \
	"3 s\"}"

Test(socket, newcomer_closes_the_oldest_idle_client)
{
	int fds[XLB_CTL_MAX_CLIENTS];
	char line[256];
	struct server s;
	int i, fd;

	server_open(&s);
	for (i = 0; i < XLB_CTL_MAX_CLIENTS; i++) {
		fds[i] = client_connect(&s);
		pump(&s, 10);
	}
	/* Every slot holds an idle client: the newcomer is served all the
	 * same, and the oldest idle one makes room. */
	fd = client_connect(&s);
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	cr_expect_geq(until_closed(&s, fds[0], 500, line, sizeof(line)), 0,
		      "the oldest idle client is still open");
	cr_expect_str_eq(line, TOO_MANY);
	/* The next oldest is still served. */
	client_send(&s, fds[1], PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fds[1]), PING_REPLY);
	close(fd);
	for (i = 0; i < XLB_CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	server_close(&s);
}

/* A burst of idle connections, far more than the slots: a client that
 * comes after them is answered at once. */
Test(socket, burst_of_idle_connections)
{
	enum { BURST = 500 };
	static int fds[BURST];
	struct server s;
	int i, fd, open_ones = 0;

	server_open(&s);
	for (i = 0; i < BURST; i++) {
		fds[i] = client_connect(&s);
		if (i % 8 == 7)
			pump(&s, 0);
	}
	pump(&s, 10);
	fd = client_connect(&s);
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	close(fd);
	for (i = 0; i < BURST; i++) {
		char b;

		if (recv(fds[i], &b, 1, MSG_DONTWAIT | MSG_PEEK) < 0 &&
		    errno == EAGAIN)
			open_ones++;
		close(fds[i]);
	}
	cr_expect_leq(open_ones, XLB_CTL_MAX_CLIENTS,
		      "%d idle connections still held", open_ones);
	server_close(&s);
}

Test(socket, slow_client_is_closed)
{
	static const char part[] = "{\"cmd\": \"pi";
	char line[256];
	struct server s;
	long ms;
	int fd;

	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, part, strlen(part));
	ms = until_closed(&s, fd, XLB_CTL_TIMEOUT_MS + 1500, line,
			  sizeof(line));
	cr_expect_geq(ms, XLB_CTL_TIMEOUT_MS - 100, "closed after %ld ms", ms);
	cr_expect_str_eq(line, TIMED_OUT);
	close(fd);
	server_close(&s);
}

Test(socket, idle_after_a_reply_is_closed)
{
	char line[256];
	struct server s;
	long ms;
	int fd;

	server_open(&s);
	fd = client_connect(&s);
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	ms = until_closed(&s, fd, XLB_CTL_TIMEOUT_MS + 1500, line,
			  sizeof(line));
	cr_expect_geq(ms, XLB_CTL_TIMEOUT_MS - 200, "closed after %ld ms", ms);
	cr_expect_str_eq(line, TIMED_OUT);
	close(fd);
	server_close(&s);
}

/* Requests that keep coming keep the connection: the deadline is for
 * each request, not for the connection. */
Test(socket, busy_client_is_kept)
{
	struct server s;
	int fd, i;

	server_open(&s);
	fd = client_connect(&s);
	for (i = 0; i < 5; i++) {
		client_send(&s, fd, PING, strlen(PING));
		cr_assert_str_eq(client_line(&s, fd), PING_REPLY);
		pump(&s, XLB_CTL_TIMEOUT_MS / 3);
	}
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	close(fd);
	server_close(&s);
}

Test(socket, live_socket_is_not_stolen)
{
	struct xlb_control *other;
	struct server s;
	int ret;

	server_open(&s);
	ret = xlb_control_open(s.path, STUB_AGENT, s.epfd, &other);
	cr_expect_eq(ret, -EADDRINUSE, "got %d", ret);
	server_close(&s);
}

/* Prepare s's directories, then put at s->path what a test wants. */
static void server_prepare(struct server *s)
{
	char run[48];

	snprintf(s->dir, sizeof(s->dir), "/tmp/test_lbctl.XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(run, sizeof(run), "%s/run", s->dir);
	cr_assert_eq(mkdir(run, 0700), 0);
	snprintf(s->path, sizeof(s->path), "%s/xlbd.sock", run);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(s->epfd, 0);
}

Test(socket, stale_socket_is_replaced)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct server s;
	int fd, ret;

	/* What a daemon that died leaves: a socket nobody listens on. */
	server_prepare(&s);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ret = xlb_control_open(s.path, STUB_AGENT, s.epfd, &s.ctl);
	cr_assert_eq(ret, 0, "got %s", strerror(-ret));
	fd = client_connect(&s);
	client_send(&s, fd, PING, strlen(PING));
	cr_expect_str_eq(client_line(&s, fd), PING_REPLY);
	close(fd);
	server_close(&s);
}

Test(socket, other_files_are_left_alone)
{
	struct xlb_control *ctl;
	struct server s;
	int fd, ret;

	server_prepare(&s);
	fd = open(s.path, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	ret = xlb_control_open(s.path, STUB_AGENT, s.epfd, &ctl);
	cr_expect_eq(ret, -EEXIST, "got %d", ret);
	cr_expect_eq(access(s.path, F_OK), 0, "file removed");
	unlink(s.path);
	s.ctl = NULL;
	server_close(&s);
}

/* Stand-ins for the agent operations the server gained later. */
int xlb_real_set_drain(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real, bool drain, char *err,
		       size_t errlen)
{
	return 0;
}

/* A daemon with no commands of its own. */
const struct xlb_daemon_cmd xlb_daemon_cmds[] = {
	{NULL},
};
