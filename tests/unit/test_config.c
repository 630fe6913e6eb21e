// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of addr.c (parsing and printing of addresses, prefixes,
 * services, MACs) and config.c (the YAML configuration file): valid files
 * give the expected model, and every kind of error names the right line
 * with the right reason.
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr_cases.h"
#include "setting_cases.h"
#include "settings.h"
#include "xlb.h"

#define NAME "t.yaml"

/* Parse text that must be valid; fail the test with the message if not. */
static void parse_ok(const char *text, struct xlb_config *cfg)
{
	char err[XLB_ERR_LEN] = "";
	int ret;

	ret = xlb_config_parse(text, strlen(text), NAME, cfg, err, sizeof(err));
	cr_assert_eq(ret, 0, "parse failed: %s\n--- text:\n%s", err, text);
	cr_assert_str_empty(err, "err set on success: %s", err);
}

/* Text of an address, for comparisons. */
static const char *ip_text(const struct xlb_ip *ip)
{
	static char buf[XLB_IP_STRLEN];

	return xlb_ip_str(ip, buf, sizeof(buf));
}

/* Text of a service, for comparisons. */
static const char *svc_text(const struct xlb_service *svc)
{
	static char buf[XLB_SERVICE_STRLEN];

	return xlb_service_str(svc, buf, sizeof(buf));
}

/* Every key set, off its default where it can be. */
static const char full_example[] =
	"# XLB node configuration\n"		       /* 1 */
	"interfaces: [eth0, eth1]\n"		       /* 2 */
	"xdp_mode: generic\n"			       /* 3 */
	"socket: /run/xlb/test.sock\n"		       /* 4 */
	"pin_path: /sys/fs/bpf/xlb-test\n"	       /* 5 */
	"conntrack_size: 131072\n"		       /* 6 */
	"max_vips: 64\n"			       /* 7 */
	"max_reals: 256\n"			       /* 8 */
	"tunnel_source:\n"			       /* 9 */
	"  ipv4: 172.20.0.0/16\n"		       /* 10 */
	"  ipv6: \"fc00:3::/112\"\n"		       /* 11 */
	"gateway_mac: \"02:00:00:AA:bb:01\"\n"	       /* 12 */
	"metrics: \"[::1]:9618\"\n"		       /* 13 */
	"control_cpus: 0-1,3\n"			       /* 14 */
	"vips:\n"				       /* 15 */
	"  - vip: 10.0.0.10:80/tcp\n"		       /* 16 */
	"    hash: maglev\n"			       /* 17 */
	"    table_size: 65537\n"		       /* 18 */
	"    reals:\n"				       /* 19 */
	"      - address: 10.1.0.2\n"		       /* 20 */
	"        weight: 100\n"			       /* 21 */
	"      - address: 10.1.0.3\n"		       /* 22 */
	"        weight: 0\n"			       /* 23 */
	"        health: {port: 8080, path: /ready}\n" /* 24 */
	"      - 10.1.0.4\n"			       /* 25 */
	"    health:\n"				       /* 26 */
	"      type: http\n"			       /* 27 */
	"      interval: 500ms\n"		       /* 28 */
	"      timeout: 200\n"			       /* 29 */
	"      rise: 3\n"			       /* 30 */
	"      fall: 4\n"			       /* 31 */
	"      path: /healthz\n"		       /* 32 */
	"      host: www.example.com\n"		       /* 33 */
	"      codes: [200, 204]\n"		       /* 34 */
	"  - vip: \"[2001:db8::10]:443/udp\"\n"	       /* 35 */
	"    hash: source-ip\n"			       /* 36 */
	"    table_size: 251\n"			       /* 37 */
	"    reals:\n"				       /* 38 */
	"      - address: 2001:db8:1::2\n"	       /* 39 */
	"        weight: 65535\n"		       /* 40 */
	"        health: none\n"		       /* 41 */
	"      - 10.1.0.2\n"			       /* 42 */
	"    health: {type: tcp, port: 443}\n"	       /* 43 */
	"  - vip: 10.0.0.11/udp\n"		       /* 44 */
	"    health:\n"				       /* 45 */
	"      type: udp\n"			       /* 46 */
	"      port: 53\n"			       /* 47 */
	"      send: ping\n"			       /* 48 */
	"      expect: pong\n"			       /* 49 */
	"      interval: 2s\n";			       /* 50 */

Test(config, full_example)
{
	struct xlb_config cfg;
	const struct xlb_vip_spec *v;
	const struct xlb_check_spec *k;
	struct xlb_ip ip;

	parse_ok(full_example, &cfg);
	cr_assert_eq(cfg.n_interfaces, 2);
	cr_expect_str_eq(cfg.interfaces[0], "eth0");
	cr_expect_str_eq(cfg.interfaces[1], "eth1");
	cr_expect_eq(cfg.xdp_mode, XLB_XDP_GENERIC);
	cr_expect_str_eq(cfg.socket_path, "/run/xlb/test.sock");
	cr_expect_str_eq(cfg.pin_path, "/sys/fs/bpf/xlb-test");
	cr_expect_eq(cfg.ct_size, 131072);
	cr_expect_eq(cfg.max_vips, 64);
	cr_expect_eq(cfg.max_reals, 256);
	cr_expect_eq(cfg.tun_src_v4.family, AF_INET);
	cr_expect_str_eq(ip_text(&cfg.tun_src_v4), "172.20.0.0");
	cr_expect_eq(cfg.tun_src_v4_plen, 16);
	cr_expect_eq(cfg.tun_src_v6.family, AF_INET6);
	cr_expect_str_eq(ip_text(&cfg.tun_src_v6), "fc00:3::");
	cr_expect_eq(cfg.tun_src_v6_plen, 112);
	cr_expect(cfg.has_gw_mac);
	cr_expect_arr_eq(cfg.gw_mac, ((uint8_t[]){2, 0, 0, 0xaa, 0xbb, 1}), 6);
	cr_expect_str_eq(cfg.metrics_listen, "[::1]:9618");
	cr_expect_str_eq(cfg.control_cpus, "0-1,3");

	cr_assert_eq(cfg.n_vips, 3);
	v = &cfg.vips[0];
	cr_expect_str_eq(svc_text(&v->svc), "10.0.0.10:80/tcp");
	cr_expect_eq(v->svc.port, 80);
	cr_expect_eq(v->svc.proto, IPPROTO_TCP);
	cr_expect_eq(v->hash, XLB_HASH_MAGLEV);
	cr_expect_eq(v->table_size, 65537);
	cr_expect_eq(v->line, 16);
	k = &v->check;
	cr_expect_eq(k->type, XLB_CHECK_HTTP);
	cr_expect_eq(k->interval_ms, 500);
	cr_expect_eq(k->timeout_ms, 200);
	cr_expect_eq(k->rise, 3);
	cr_expect_eq(k->fall, 4);
	cr_expect_eq(k->addr.family, 0);
	cr_expect_eq(k->port, 0);
	cr_expect_str_eq(k->http_path, "/healthz");
	cr_expect_str_eq(k->http_host, "www.example.com");
	cr_assert_eq(k->n_http_codes, 2);
	cr_expect_eq(k->http_codes[0], 200);
	cr_expect_eq(k->http_codes[1], 204);
	cr_assert_eq(v->n_reals, 3);
	cr_expect_str_eq(ip_text(&v->reals[0].ip), "10.1.0.2");
	cr_expect_eq(v->reals[0].weight, 100);
	cr_expect_eq(v->reals[0].line, 20);
	cr_expect_not(v->reals[0].has_check);
	cr_expect_str_eq(ip_text(&v->reals[1].ip), "10.1.0.3");
	cr_expect_eq(v->reals[1].weight, 0);
	cr_expect_eq(v->reals[1].line, 22);
	/* The VIP's check, written after the reals, with two changes. */
	cr_expect(v->reals[1].has_check);
	k = &v->reals[1].check;
	cr_expect_eq(k->type, XLB_CHECK_HTTP);
	cr_expect_eq(k->port, 8080);
	cr_expect_str_eq(k->http_path, "/ready");
	cr_expect_str_eq(k->http_host, "www.example.com");
	cr_expect_eq(k->interval_ms, 500);
	cr_expect_eq(k->n_http_codes, 2);
	cr_expect_str_eq(ip_text(&v->reals[2].ip), "10.1.0.4");
	cr_expect_eq(v->reals[2].weight, XLB_DEFAULT_WEIGHT);
	cr_expect_eq(v->reals[2].line, 25);

	v = &cfg.vips[1];
	cr_expect_str_eq(svc_text(&v->svc), "[2001:db8::10]:443/udp");
	cr_expect_eq(v->svc.ip.family, AF_INET6);
	cr_expect_eq(v->hash, XLB_HASH_SOURCE_IP);
	cr_expect_eq(v->table_size, 251);
	cr_expect_eq(v->line, 35);
	cr_expect_eq(v->check.type, XLB_CHECK_TCP);
	cr_expect_eq(v->check.port, 443);
	cr_assert_eq(v->n_reals, 2);
	cr_expect_eq(v->reals[0].ip.family, AF_INET6);
	cr_expect_eq(v->reals[0].weight, 65535);
	cr_expect(v->reals[0].has_check);
	cr_expect_eq(v->reals[0].check.type, XLB_CHECK_NONE);
	cr_expect_eq(v->reals[0].check.port, 0);
	/* 6in4 the other way round: an IPv4 real under an IPv6 VIP. */
	cr_expect_eq(v->reals[1].ip.family, AF_INET);
	cr_expect_eq(v->reals[1].line, 42);

	v = &cfg.vips[2];
	cr_expect_str_eq(svc_text(&v->svc), "10.0.0.11:0/udp");
	cr_expect_eq(v->table_size, XLB_RING_SIZE_DEFAULT);
	cr_expect_eq(v->n_reals, 0);
	cr_expect_null(v->reals);
	k = &v->check;
	cr_expect_eq(k->type, XLB_CHECK_UDP);
	cr_expect_eq(k->port, 53);
	cr_expect_eq(k->interval_ms, 2000);
	cr_expect_eq(k->timeout_ms, 0, "left to its default");
	cr_expect_str_eq(k->udp_send, "ping");
	cr_expect_str_eq(k->udp_expect, "pong");

	cr_assert_eq(xlb_ip_parse("10.1.0.2", &ip), 0);
	cr_expect(xlb_ip_equal(&cfg.vips[1].reals[1].ip, &ip));
	xlb_config_free(&cfg);
	cr_expect_eq(cfg.n_vips, 0);
	cr_expect_null(cfg.vips);
	cr_expect_eq(cfg.n_interfaces, 0);
}

/* The example shipped for the lab, when run from the top of the tree. */
Test(config, lab_example)
{
	const char *path = "tools/lab/xlb-example.yaml";
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;
	int ret;

	if (access(path, R_OK))
		cr_assert_fail(
			"%s not found: run the tests from the top of the tree",
			path);
	ret = xlb_config_load(path, &cfg, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s", err);
	cr_expect_eq(cfg.n_interfaces, 0);
	cr_expect_eq(cfg.max_reals, 256);
	cr_assert_eq(cfg.n_vips, 4);
	cr_expect_str_eq(svc_text(&cfg.vips[2].svc), "[fd00:100::10]:80/tcp");
	cr_expect_eq(cfg.vips[1].hash, XLB_HASH_SOURCE_IP);
	cr_assert_eq(cfg.vips[0].n_reals, 3);
	cr_expect_eq(cfg.vips[0].reals[2].weight, 50);
	cr_assert_eq(cfg.vips[3].n_reals, 3);
	cr_expect_eq(cfg.vips[3].reals[0].ip.family, AF_INET6);
	cr_expect_eq(cfg.vips[3].reals[2].weight, 0);
	xlb_config_free(&cfg);
}

/* The full example of docs/CONFIG.md parses, so the docs stay true. */
Test(config, docs_example)
{
	const char *path = "docs/CONFIG.md", *start, *end;
	char err[XLB_ERR_LEN], *text = NULL;
	struct xlb_config cfg;
	size_t len = 0;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f)
		cr_assert_fail(
			"%s not found: run the tests from the top of the tree",
			path);
	cr_assert_eq(getdelim(&text, &len, '\0', f) > 0, true);
	fclose(f);
	start = strstr(text, "## Full example");
	cr_assert_not_null(start);
	start = strstr(start, "```yaml\n");
	cr_assert_not_null(start);
	start += strlen("```yaml\n");
	end = strstr(start, "```");
	cr_assert_not_null(end);

	ret = xlb_config_parse(start, (size_t)(end - start), path, &cfg, err,
			       sizeof(err));
	cr_expect_eq(ret, 0, "%s", err);
	cr_expect_eq(cfg.n_interfaces, 2);
	cr_expect(cfg.has_gw_mac);
	cr_expect_str_eq(cfg.metrics_listen, "127.0.0.1:9617");
	cr_expect_str_eq(cfg.control_cpus, "0-1");
	cr_assert_eq(cfg.n_vips, 4);
	cr_expect_eq(cfg.nat.n_laddrs, 2);
	cr_expect_eq(cfg.nat.gc_interval_ms, 1000);
	cr_expect_eq(cfg.vips[3].mode, XLB_MODE_FULLNAT);
	cr_expect_eq(cfg.vips[3].mss, 1400);
	cr_expect_eq(cfg.vips[0].check.type, XLB_CHECK_HTTP);
	cr_assert_eq(cfg.vips[0].n_reals, 3);
	cr_expect(cfg.vips[0].reals[2].has_check);
	cr_expect_eq(cfg.vips[0].reals[2].check.type, XLB_CHECK_NONE);
	cr_expect_eq(cfg.vips[1].check.type, XLB_CHECK_UDP);
	xlb_config_free(&cfg);
	free(text);
}

/* Check that cfg holds exactly the defaults. */
static void expect_defaults(const struct xlb_config *cfg, const char *what)
{
	cr_expect_eq(cfg->n_interfaces, 0, "%s", what);
	cr_expect_eq(cfg->xdp_mode, XLB_XDP_NATIVE, "%s", what);
	cr_expect_str_eq(cfg->socket_path, XLB_DEFAULT_SOCKET, "%s", what);
	cr_expect_str_eq(cfg->pin_path, XLB_DEFAULT_PIN_PATH, "%s", what);
	cr_expect_eq(cfg->ct_size, XLB_CT_SIZE_DEFAULT, "%s", what);
	cr_expect_eq(cfg->flood_guard_rate, XLB_FLOOD_GUARD_RATE_DEFAULT, "%s",
		     what);
	cr_expect(cfg->nexthops, "%s: nexthops", what);
	for (size_t w = 0; w < XLB_VLAN_WORDS; w++)
		cr_expect_eq(cfg->vlans[w], 0, "%s: vlans", what);
	cr_expect_eq(cfg->n_vlan_ifs, 0, "%s: vlans", what);
	cr_expect_eq(cfg->max_vips, XLB_MAX_VIPS, "%s", what);
	cr_expect_eq(cfg->max_reals, XLB_MAX_REALS, "%s", what);
	cr_expect_eq(cfg->tun_src_v4.family, AF_INET, "%s", what);
	cr_expect_str_eq(ip_text(&cfg->tun_src_v4), "172.16.0.0", "%s", what);
	cr_expect_eq(cfg->tun_src_v4_plen, 16, "%s", what);
	cr_expect_eq(cfg->tun_src_v6.family, AF_INET6, "%s", what);
	cr_expect_str_eq(ip_text(&cfg->tun_src_v6), "fc00:2::", "%s", what);
	cr_expect_eq(cfg->tun_src_v6_plen, 96, "%s", what);
	cr_expect_not(cfg->has_gw_mac, "%s", what);
	cr_expect_eq(cfg->icmp_rate, 1000, "%s", what);
	cr_expect_str_eq(cfg->metrics_listen, XLB_DEFAULT_METRICS, "%s", what);
	cr_expect_str_eq(cfg->control_cpus, "", "%s", what);
	cr_expect_eq(cfg->n_vips, 0, "%s", what);
	cr_expect_null(cfg->vips, "%s", what);
	cr_expect_eq(cfg->nat.n_laddrs, 0, "%s", what);
	cr_expect_eq(cfg->nat.port_min, 1024, "%s", what);
	cr_expect_eq(cfg->nat.port_max, 65535, "%s", what);
	cr_expect_eq(cfg->nat.sessions, XLB_NAT_SESSIONS_DEFAULT, "%s", what);
	cr_expect_eq(cfg->nat.tcp_s, 900, "%s", what);
	cr_expect_eq(cfg->nat.tcp_syn_s, 30, "%s", what);
	cr_expect_eq(cfg->nat.tcp_closing_s, 10, "%s", what);
	cr_expect_eq(cfg->nat.udp_s, 60, "%s", what);
	cr_expect_eq(cfg->nat.gc_interval_ms, 1000, "%s", what);
}

Test(config, defaults)
{
	static const char *const texts[] = {
		"",
		"# nothing but a comment\n",
		"---\n",
		"{}\n",
		"~\n",
		/* A null value means "not set": the default stays. */
		"interfaces:\nxdp_mode: ~\nsocket: null\nvips:\n"
		"tunnel_source:\ngateway_mac:\nmetrics:\ncontrol_cpus: ~\n",
		"tunnel_source: {}\nvips: []\ninterfaces: []\n",
	};
	struct xlb_config cfg;
	size_t i;

	xlb_config_defaults(&cfg);
	expect_defaults(&cfg, "xlb_config_defaults");
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		parse_ok(texts[i], &cfg);
		expect_defaults(&cfg, texts[i]);
		xlb_config_free(&cfg);
	}
	/* NULL text with length 0 is the empty file. */
	cr_assert_eq(xlb_config_parse(NULL, 0, NAME, &cfg, NULL, 0), 0);
	expect_defaults(&cfg, "NULL");
	xlb_config_free(&cfg);
	xlb_config_free(NULL);
}

/* icmp_rate: path MTU errors per second per CPU, 0 turns them off. */
Test(config, icmp_rate)
{
	struct xlb_config cfg;

	parse_ok("icmp_rate: 0\n", &cfg);
	cr_expect_eq(cfg.icmp_rate, 0);
	xlb_config_free(&cfg);
	parse_ok("icmp_rate: 65535\n", &cfg);
	cr_expect_eq(cfg.icmp_rate, 65535);
	xlb_config_free(&cfg);
}

/* encap per VIP (ipip by default), gue_port for the node. */
Test(config, encap_gue)
{
	struct xlb_config cfg;

	parse_ok("gue_port: 7000\nvips:\n  - vip: 10.0.0.1:80/tcp\n"
		 "    encap: gue\n  - vip: 10.0.0.2:80/tcp\n"
		 "    encap: ipip\n  - vip: 10.0.0.3:80/tcp\n",
		 &cfg);
	cr_expect_eq(cfg.gue_port, 7000);
	cr_assert_eq(cfg.n_vips, 3);
	cr_expect(cfg.vips[0].gue);
	cr_expect_not(cfg.vips[1].gue);
	cr_expect_not(cfg.vips[2].gue);
	xlb_config_free(&cfg);
}

Test(config, ipv6)
{
	struct xlb_config cfg;

	parse_ok("vips:\n"
		 "  - vip: '[2001:db8::1]:80/tcp'\n"
		 "    reals: ['2001:db8:2::1', 10.1.0.1, '::ffff:10.1.0.2']\n"
		 "  - vip: '[2001:db8::1]/tcp'\n"
		 "  - vip: '[2001:db8::1]:80/udp'\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "    reals: [2001:db8:2::1]\n",
		 &cfg);
	cr_assert_eq(cfg.n_vips, 4);
	cr_expect_str_eq(svc_text(&cfg.vips[0].svc), "[2001:db8::1]:80/tcp");
	cr_assert_eq(cfg.vips[0].n_reals, 3);
	cr_expect_str_eq(ip_text(&cfg.vips[0].reals[0].ip), "2001:db8:2::1");
	cr_expect_eq(cfg.vips[0].reals[1].ip.family, AF_INET);
	cr_expect_eq(cfg.vips[0].reals[2].ip.family, AF_INET6);
	cr_expect_str_eq(svc_text(&cfg.vips[1].svc), "[2001:db8::1]:0/tcp");
	cr_expect_eq(cfg.vips[2].svc.proto, IPPROTO_UDP);
	/* 4in6: an IPv6 real under an IPv4 VIP. */
	cr_assert_eq(cfg.vips[3].n_reals, 1);
	cr_expect_eq(cfg.vips[3].reals[0].ip.family, AF_INET6);
	xlb_config_free(&cfg);
}

Test(config, shorthand_reals)
{
	struct xlb_config cfg;
	size_t i;

	parse_ok("vips:\n"
		 "- vip: 10.0.0.1:53/udp\n"
		 "  reals:\n"
		 "  - 10.1.0.1\n"
		 "  - {address: 10.1.0.2, weight: 7}\n"
		 "  - address: 10.1.0.3\n"
		 "  - 10.1.0.4\n",
		 &cfg);
	cr_assert_eq(cfg.n_vips, 1);
	cr_assert_eq(cfg.vips[0].n_reals, 4);
	for (i = 0; i < 4; i++) {
		const struct xlb_real_spec *r = &cfg.vips[0].reals[i];
		char want[16];

		snprintf(want, sizeof(want), "10.1.0.%zu", i + 1);
		cr_expect_str_eq(ip_text(&r->ip), want);
		cr_expect_eq(r->weight, i == 1 ? 7 : XLB_DEFAULT_WEIGHT,
			     "real %zu", i);
		cr_expect_eq(r->line, (int)i + 4, "real %zu", i);
	}
	xlb_config_free(&cfg);
}

Test(config, port_zero_vips)
{
	struct xlb_config cfg;

	/* Port 0 and port 80, tcp and udp: four VIPs, no duplicate. */
	parse_ok("vips:\n"
		 "  - vip: 10.0.0.1/tcp\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "  - vip: 10.0.0.1:0/udp\n"
		 "  - vip: 10.0.0.1:80/UDP\n",
		 &cfg);
	cr_assert_eq(cfg.n_vips, 4);
	cr_expect_eq(cfg.vips[0].svc.port, 0);
	cr_expect_eq(cfg.vips[0].svc.proto, IPPROTO_TCP);
	cr_expect_eq(cfg.vips[1].svc.port, 80);
	cr_expect_eq(cfg.vips[2].svc.port, 0);
	cr_expect_eq(cfg.vips[2].svc.proto, IPPROTO_UDP);
	cr_expect_str_eq(svc_text(&cfg.vips[3].svc), "10.0.0.1:80/udp");
	xlb_config_free(&cfg);
}

Test(config, limits_reached_exactly)
{
	struct xlb_config cfg;

	/* max_reals 4 leaves ids 1..3: three reals fit, over two VIPs. */
	parse_ok("vips:\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "    reals: [10.1.0.1, 10.1.0.2]\n"
		 "  - vip: 10.0.0.2:80/tcp\n"
		 "    table_size: 3\n"
		 "    reals: [10.1.0.1]\n"
		 "max_vips: 2\n"
		 "max_reals: 4\n",
		 &cfg);
	cr_expect_eq(cfg.n_vips, 2);
	cr_expect_eq(cfg.max_vips, 2);
	cr_expect_eq(cfg.max_reals, 4);
	xlb_config_free(&cfg);

	/* A ring of 3 holds 3 weighted reals; weight 0 needs no slot. */
	parse_ok("vips:\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "    table_size: 3\n"
		 "    reals: [10.1.0.1, 10.1.0.2, 10.1.0.3,\n"
		 "            {address: 10.1.0.4, weight: 0}]\n",
		 &cfg);
	cr_expect_eq(cfg.vips[0].n_reals, 4);
	xlb_config_free(&cfg);

	/* Sixteen interfaces, names of up to fifteen characters. */
	parse_ok("interfaces: [abcdefghijklm00, abcdefghijklm01, i2, i3, i4,"
		 " i5, i6, i7, i8, i9, i10, i11, i12, i13, i14, i15]\n",
		 &cfg);
	cr_expect_eq(cfg.n_interfaces, XLB_MAX_INTERFACES);
	cr_expect_str_eq(cfg.interfaces[15], "i15");
	xlb_config_free(&cfg);
}

Test(config, health_checks)
{
	const struct xlb_real_spec *r;
	const struct xlb_vip_spec *v;
	struct xlb_config cfg;

	parse_ok("vips:\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "    health: tcp\n"
		 "    reals:\n"
		 "      - 10.1.0.1\n"
		 "      - address: 10.1.0.2\n"
		 "        health: {type: http}\n"
		 "      - address: 10.1.0.3\n"
		 "        health: {address: 192.0.2.7, port: 9000, rise: 1,\n"
		 "                 fall: 100}\n"
		 "      - address: 10.1.0.4\n"
		 "        health: {interval: 60s, timeout: 59999}\n"
		 "      - address: 10.1.0.5\n"
		 "        health:\n"
		 "  - vip: 10.0.0.2:53/udp\n"
		 "    health: {type: udp, send: '', expect: ''}\n"
		 "  - vip: 10.0.0.3/tcp\n"
		 "    reals:\n"
		 "      - address: 10.1.0.1\n"
		 "        health: {type: tcp, port: 22}\n"
		 "  - vip: 10.0.0.4:80/tcp\n"
		 "    health: {type: http, path: /, codes: [100, 599]}\n"
		 "    reals:\n"
		 "      - address: '2001:db8::1'\n"
		 "        health: {type: tcp, address: '2001:db8::99'}\n"
		 "      - address: 10.1.0.2\n"
		 "        health: {type: none}\n",
		 &cfg);
	cr_assert_eq(cfg.n_vips, 4);
	v = &cfg.vips[0];
	cr_expect_eq(v->check.type, XLB_CHECK_TCP);
	cr_expect_eq(v->check.interval_ms, 0, "0: the default");
	cr_assert_eq(v->n_reals, 5);
	cr_expect_not(v->reals[0].has_check, "no health: the VIP's check");
	r = &v->reals[1];
	cr_expect(r->has_check);
	cr_expect_eq(r->check.type, XLB_CHECK_HTTP);
	cr_expect_str_eq(r->check.http_path, "", "default path");
	r = &v->reals[2];
	cr_expect_eq(r->check.type, XLB_CHECK_TCP, "type from the VIP");
	cr_expect_str_eq(ip_text(&r->check.addr), "192.0.2.7");
	cr_expect_eq(r->check.port, 9000);
	cr_expect_eq(r->check.rise, 1);
	cr_expect_eq(r->check.fall, 100);
	r = &v->reals[3];
	cr_expect_eq(r->check.interval_ms, 60000);
	cr_expect_eq(r->check.timeout_ms, 59999);
	cr_expect_not(v->reals[4].has_check, "null health: not set");

	v = &cfg.vips[1];
	cr_expect_eq(v->check.type, XLB_CHECK_UDP);
	cr_expect_str_eq(v->check.udp_send, "");
	cr_expect_eq(v->check.port, 0, "the VIP's port");

	v = &cfg.vips[2];
	cr_expect_eq(v->check.type, XLB_CHECK_NONE);
	cr_assert_eq(v->n_reals, 1);
	cr_expect_eq(v->reals[0].check.type, XLB_CHECK_TCP);
	cr_expect_eq(v->reals[0].check.port, 22);

	v = &cfg.vips[3];
	cr_expect_eq(v->check.n_http_codes, 2);
	cr_expect_eq(v->check.http_codes[1], 599);
	cr_assert_eq(v->n_reals, 2);
	r = &v->reals[0];
	cr_expect_eq(r->check.type, XLB_CHECK_TCP);
	cr_expect_eq(r->check.addr.family, AF_INET6);
	/* What only HTTP uses is not carried into a TCP check. */
	cr_expect_str_eq(r->check.http_path, "");
	cr_expect_eq(r->check.n_http_codes, 0);
	r = &v->reals[1];
	cr_expect(r->has_check);
	cr_expect_eq(r->check.type, XLB_CHECK_NONE);
	cr_expect_eq(r->check.n_http_codes, 0);
	xlb_config_free(&cfg);
}

/* health.through: the way a check travels, and what a dump keeps. */
Test(config, health_through)
{
	struct xlb_config cfg;

	parse_ok("vips:\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "    health: {type: tcp, through: tunnel}\n"
		 "    reals:\n"
		 "      - 10.1.0.1\n"
		 "      - address: 10.1.0.2\n"
		 "        health: {through: direct}\n"
		 "      - address: 10.1.0.3\n"
		 "        health: {address: 10.9.9.9, through: auto}\n"
		 "      - address: 10.1.0.5\n"
		 "        health: {port: 81}\n"
		 "  - vip: 10.0.0.2:80/tcp\n"
		 "    health: {type: http, through: datapath}\n"
		 "    reals: [10.1.0.4]\n",
		 &cfg);
	cr_assert_eq(cfg.vips[0].check.through, XLB_CHECK_PATH_DATAPATH);
	cr_assert_eq(cfg.vips[0].reals[1].check.through, XLB_CHECK_PATH_DIRECT);
	cr_assert_eq(cfg.vips[0].reals[2].check.through, XLB_CHECK_PATH_AUTO);
	cr_assert_eq(cfg.vips[0].reals[3].check.through,
		     XLB_CHECK_PATH_DATAPATH,
		     "a real's check starts from its VIP's");
	cr_assert_eq(cfg.vips[1].check.through, XLB_CHECK_PATH_DATAPATH);
	xlb_config_free(&cfg);
	parse_ok("vips:\n"
		 "  - vip: 10.0.0.1:80/tcp\n"
		 "    health: tcp\n"
		 "    reals: [10.1.0.1]\n",
		 &cfg);
	cr_assert_eq(cfg.vips[0].check.through, XLB_CHECK_PATH_AUTO);
	xlb_config_free(&cfg);
}

Test(config, health_durations)
{
	static const struct {
		const char *text;
		uint32_t ms;
	} cases[] = {
		{"10", 10},	  {"10ms", 10},	      {"1s", 1000},
		{"1500", 1500},	  {"3600s", 3600000}, {"3600000ms", 3600000},
		{"'250ms'", 250},
	};
	struct xlb_config cfg;
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "vips:\n  - vip: 10.0.0.1:80/tcp\n"
			 "    health: {type: tcp, interval: %s, timeout: 1}\n",
			 cases[i].text);
		parse_ok(text, &cfg);
		cr_expect_eq(cfg.vips[0].check.interval_ms, cases[i].ms, "%s",
			     cases[i].text);
		cr_expect_eq(cfg.vips[0].check.timeout_ms, 1);
		xlb_config_free(&cfg);
	}
}

Test(config, metrics_and_control_cpus)
{
	static const struct {
		const char *text;
		const char *metrics; /* as stored */
	} metrics[] = {
		{"off", ""},
		{"127.0.0.1:9617", "127.0.0.1:9617"},
		{"0.0.0.0:80", "0.0.0.0:80"},
		{"'10.0.0.1:09617'", "10.0.0.1:9617"},
		{"'[::1]:9617'", "[::1]:9617"},
		{"\"[::]:1\"", "[::]:1"},
		{"'[2001:DB8:0::1]:65535'", "[2001:db8::1]:65535"},
	};
	static const char *const cpus[] = {
		"0", "0-0", "0-1,3", "1023", "'1,2,3'", "0-1023", "7,0-3",
	};
	struct xlb_config cfg;
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		snprintf(text, sizeof(text), "metrics: %s\n", metrics[i].text);
		parse_ok(text, &cfg);
		cr_expect_str_eq(cfg.metrics_listen, metrics[i].metrics);
		xlb_config_free(&cfg);
	}
	for (i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		snprintf(text, sizeof(text), "control_cpus: %s\n", cpus[i]);
		parse_ok(text, &cfg);
		cr_expect_str_eq(cfg.control_cpus,
				 cpus[i][0] == '\'' ? "1,2,3" : cpus[i]);
		xlb_config_free(&cfg);
	}
}

/* The resolved next hops can be turned off (bpf_fib_lookup per packet). */
Test(config, nexthops_off)
{
	struct xlb_config cfg;

	parse_ok("nexthops: false\n", &cfg);
	cr_expect(!cfg.nexthops);
	xlb_config_free(&cfg);
	parse_ok("nexthops: true\n", &cfg);
	cr_expect(cfg.nexthops);
	xlb_config_free(&cfg);
}

Test(config, flood_guard_and_vlans)
{
	struct xlb_config cfg;

	parse_ok("flood_guard_rate: 0\nvlans: [1, 100, 4094]\n", &cfg);
	cr_expect_eq(cfg.flood_guard_rate, 0);
	cr_expect_eq(cfg.vlans[0], 1ULL << 1);
	cr_expect_eq(cfg.vlans[1], 1ULL << 36);
	cr_expect_eq(cfg.vlans[63], 1ULL << 62);
	xlb_config_free(&cfg);
}

/* The list form: the same ids on every interface, named or not. */
Test(config, vlans_every_interface)
{
	const uint64_t *v;
	struct xlb_config cfg;

	parse_ok("interfaces: [eth0, eth1]\nvlans: [100, 200]\n", &cfg);
	cr_expect_eq(cfg.n_vlan_ifs, 0);
	v = xlb_config_vlans(&cfg, "eth0");
	cr_assert_not_null(v);
	cr_expect_eq(v[1], 1ULL << 36); /* 100 */
	cr_expect_eq(v[3], 1ULL << 8);	/* 200 */
	cr_expect_eq(xlb_config_vlans(&cfg, "eth1"), v);
	/* An interface given on xlbd's command line gets them too. */
	cr_expect_eq(xlb_config_vlans(&cfg, "eth9"), v);
	xlb_config_free(&cfg);
}

/* The mapping form: each interface its own; one not named, none. */
Test(config, vlans_per_interface)
{
	const uint64_t *v;
	struct xlb_config cfg;

	parse_ok("interfaces: [eth0, eth1, eth2, eth3]\n"
		 "vlans:\n"
		 "  eth0: [100]\n"
		 "  eth1: [200, 300]\n"
		 "  eth2: []\n",
		 &cfg);
	cr_expect_eq(cfg.n_vlan_ifs, 3);
	for (size_t w = 0; w < XLB_VLAN_WORDS; w++)
		cr_expect_eq(cfg.vlans[w], 0, "the list form's set is empty");
	v = xlb_config_vlans(&cfg, "eth0");
	cr_assert_not_null(v);
	cr_expect_eq(v[1], 1ULL << 36);
	cr_expect_eq(v[3], 0);
	cr_expect_eq(v[4], 0);
	v = xlb_config_vlans(&cfg, "eth1");
	cr_assert_not_null(v);
	cr_expect_eq(v[1], 0);
	cr_expect_eq(v[3], 1ULL << 8);
	cr_expect_eq(v[4], 1ULL << 44);
	v = xlb_config_vlans(&cfg, "eth2");
	cr_assert_not_null(v);
	for (size_t w = 0; w < XLB_VLAN_WORDS; w++)
		cr_expect_eq(v[w], 0, "eth2: []");
	cr_expect_null(xlb_config_vlans(&cfg, "eth3"));
	cr_expect_null(xlb_config_vlans(&cfg, "eth9"));
	xlb_config_free(&cfg);

	/* vlans may come before interfaces. */
	parse_ok("vlans: {eth1: [7]}\ninterfaces: [eth0, eth1]\n", &cfg);
	v = xlb_config_vlans(&cfg, "eth1");
	cr_assert_not_null(v);
	cr_expect_eq(v[0], 1ULL << 7);
	cr_expect_null(xlb_config_vlans(&cfg, "eth0"));
	xlb_config_free(&cfg);
}

struct error_case {
	const char *desc;
	const char *text;
	int line;
	const char *reason; /* a substring of the message */
};

/* The start of a VIP whose health mapping begins on line 4. */
#define HB  "vips:\n  - vip: 10.0.0.1:80/tcp\n    health:\n"
#define A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct error_case error_cases[] = {
	{"vlan id 0", "vlans: [0]\n", 1, "vlans: 0 is out of range 1..4094"},
	{"vlan id 4095", "vlans: [100, 4095]\n", 1, "out of range 1..4094"},
	{"vlan listed twice", "vlans:\n  - 7\n  - 7\n", 3,
	 "vlans: 7 is listed twice"},
	{"vlans not a list", "vlans: 7\n", 1,
	 "vlans: expected a list of VLAN ids or a mapping of interface to "
	 "list, got a scalar"},
	{"vlans of an interface not attached",
	 "interfaces: [eth0]\nvlans:\n  eth0: [100]\n  eth1: [200]\n", 4,
	 "vlans: 'eth1' is not one of the interfaces xlbd attaches to"},
	{"vlans by interface without interfaces", "vlans: {eth0: [100]}\n", 1,
	 "vlans: 'eth0' is not one of the interfaces"},
	{"vlans of an interface named twice",
	 "interfaces: [eth0]\nvlans:\n  eth0: [100]\n  eth0: [200]\n", 4,
	 "vlans: 'eth0' is named twice"},
	{"vlans of an interface out of range",
	 "interfaces: [eth0]\nvlans:\n  eth0: [100, 4095]\n", 3,
	 "vlans: eth0: 4095 is out of range 1..4094"},
	{"vlans of an interface listed twice",
	 "interfaces: [eth0]\nvlans:\n  eth0:\n    - 5\n    - 5\n", 5,
	 "vlans: eth0: 5 is listed twice"},
	{"vlans of an interface not a list",
	 "interfaces: [eth0]\nvlans:\n  eth0: 100\n", 3,
	 "vlans: eth0: expected a list, got a scalar"},
	{"vlans interface name is a list",
	 "interfaces: [eth0]\nvlans:\n  [eth0]: [100]\n", 3,
	 "vlans: expected an interface name, got a list"},
	{"vlans interface name too long", "vlans:\n  " A32 ": [100]\n", 2,
	 "vlans: '" A32 "' is not an interface name"},
	{"flood_guard_rate negative", "flood_guard_rate: -1\n", 1,
	 "flood_guard_rate"},
	{"nexthops not a boolean", "nexthops: 1\n", 1, "nexthops"},
	{"unknown top-level key", "xdp_mode: native\nfrobnicate: 1\n", 2,
	 "unknown key 'frobnicate'"},
	{"unknown key in a VIP",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    colour: red\n", 3,
	 "unknown key 'colour' in a VIP"},
	{"unknown key in a real",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        wieght: 5\n",
	 5, "unknown key 'wieght' in a real"},
	{"unknown key in tunnel_source", "tunnel_source:\n  ipv5: 1.0.0.0/8\n",
	 2, "unknown key 'ipv5' in tunnel_source"},
	{"vips is a mapping", "vips:\n  vip: 10.0.0.1:80/tcp\n", 2,
	 "vips: expected a list, got a mapping"},
	{"interfaces is a scalar", "interfaces: eth0\n", 1,
	 "interfaces: expected a list, got a scalar"},
	{"VIP entry is a list", "vips:\n  - [10.0.0.1:80/tcp]\n", 2,
	 "expected a mapping for each VIP, got a list"},
	{"tunnel_source is a list", "tunnel_source: [1.0.0.0/8]\n", 1,
	 "tunnel_source: expected a mapping, got a list"},
	{"top level is a list", "- vips\n- interfaces\n", 1,
	 "expected a mapping of settings at the top level"},
	{"weight is a mapping",
	 "vips:\n - vip: 10.0.0.1:80/tcp\n   reals:\n"
	 "   - address: 10.1.0.1\n     weight:\n       value: 5\n",
	 6, "weight: expected an integer, got a mapping"},
	{"bad IPv4 VIP", "vips:\n  - vip: 10.0.0.256:80/tcp\n", 2,
	 "invalid VIP '10.0.0.256:80/tcp'"},
	{"IPv6 VIP without brackets", "vips:\n  - vip: 2001:db8::1:80/tcp\n", 2,
	 "invalid VIP"},
	{"unquoted IPv6 VIP", "vips:\n  - vip: [2001:db8::1]:80/tcp\n", 2,
	 "invalid YAML: did not find expected key (while parsing a block "
	 "mapping at line 2); write IPv6 VIPs in quotes"},
	{"unquoted IPv6 VIP, flow style",
	 "vips: [{vip: 10.0.0.1/tcp},\n  {vip: [2001:db8::1]/tcp}]\n", 2,
	 "write IPv6 VIPs in quotes"},
	{"unquoted IPv6 VIP without protocol",
	 "vips:\n  - vip: [2001:db8::1]\n", 2,
	 "got a list (write IPv6 VIPs in quotes)"},
	{"VIP without protocol", "vips:\n  - vip: 10.0.0.1:80\n", 2,
	 "invalid VIP '10.0.0.1:80'"},
	{"VIP port out of range", "\nvips:\n  - vip: 10.0.0.1:65536/tcp\n", 3,
	 "invalid VIP"},
	{"VIP with unknown protocol", "vips:\n  - vip: 10.0.0.1:80/sctp\n", 2,
	 "invalid VIP"},
	{"unspecified VIP", "vips:\n  - vip: 0.0.0.0:80/tcp\n", 2,
	 "cannot be a VIP"},
	{"VIP key missing", "vips:\n  - hash: maglev\n    table_size: 7\n", 2,
	 "missing key 'vip' in a VIP"},
	{"VIP key null", "vips:\n  - vip:\n", 2, "missing key 'vip'"},
	{"bad real address",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n      - 10.1.0.1\n"
	 "      - 10.1.0.x\n",
	 5, "reals: invalid IP address '10.1.0.x'"},
	{"real with a port",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - address: 10.1.0.1:80\n",
	 4, "address: invalid IP address '10.1.0.1:80'"},
	{"multicast real",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals: [ff02::1]\n", 3,
	 "cannot be a real"},
	{"real address missing",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n      - weight: 5\n", 4,
	 "missing key 'address' in a real"},
	{"real entry is a list",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n      - [10.1.0.1]\n", 4,
	 "expected an address or a mapping, got a list"},
	{"empty real entry",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n      -\n", 4,
	 "reals: empty entry"},
	{"weight out of range",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n\n        weight: 65536\n",
	 6, "weight: 65536 is out of range 0..65535"},
	{"weight in a flow mapping",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - 10.1.0.1\n      - {address: 10.1.0.2, weight: 70000}\n",
	 5, "out of range 0..65535"},
	{"weight not a number",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        weight: heavy\n",
	 5, "weight: expected an integer, got 'heavy'"},
	{"negative weight",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        weight: -1\n",
	 5, "expected an integer, got '-1'"},
	{"table_size not a prime",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    table_size: 65536\n", 3,
	 "table_size: 65536 is not a prime"},
	{"table_size too large (a prime)",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    table_size: 1048583\n", 3,
	 "out of range 3..1048573"},
	{"table_size too small",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    table_size: 2\n", 3,
	 "out of range 3..1048573"},
	{"more weighted reals than slots",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals: [10.1.0.1, 10.1.0.2,\n"
	 "      10.1.0.3, 10.1.0.4]\n    table_size: 3\n",
	 5, "table_size 3 is smaller than the number of reals"},
	{"bad hash", "vips:\n  - vip: 10.0.0.1:80/tcp\n    hash: round-robin\n",
	 3, "hash: expected maglev or source-ip, got 'round-robin'"},
	{"duplicate VIP",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n  - vip: 10.0.0.2:80/tcp\n"
	 "  - vip: 10.0.0.1:80/tcp\n",
	 4, "duplicate VIP 10.0.0.1:80/tcp (first at line 2)"},
	{"duplicate VIP spelt differently",
	 "vips:\n  - vip: '[2001:db8::1]/udp'\n"
	 "  - vip: '[2001:DB8:0::1]:0/UDP'\n",
	 3, "duplicate VIP [2001:db8::1]:0/udp (first at line 2)"},
	{"earliest of two duplicate VIPs",
	 "vips:\n  - vip: 10.0.0.9:80/tcp\n  - vip: 10.0.0.1:80/tcp\n"
	 "  - vip: 10.0.0.1:80/tcp\n  - vip: 10.0.0.9:80/tcp\n",
	 4, "duplicate VIP 10.0.0.1:80/tcp (first at line 3)"},
	{"duplicate real in one VIP",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n      - 10.1.0.2\n"
	 "      - 10.1.0.3\n      - address: 10.1.0.2\n        weight: 5\n",
	 6, "duplicate real 10.1.0.2 (first at line 4)"},
	{"too many interfaces",
	 "interfaces:\n - e0\n - e1\n - e2\n - e3\n - e4\n - e5\n - e6\n"
	 " - e7\n - e8\n - e9\n - e10\n - e11\n - e12\n - e13\n - e14\n"
	 " - e15\n - e16\n",
	 18, "interfaces: too many, at most 16"},
	{"interface name too long", "interfaces: [eth0,\n  abcdefghijklmnop]\n",
	 2, "is longer than 15 characters"},
	{"interface name with a slash", "interfaces: [eth/0]\n", 1,
	 "'eth/0' is not a valid interface name"},
	{"duplicate interface", "interfaces:\n  - eth0\n  - eth1\n  - eth0\n",
	 4, "'eth0' is listed twice"},
	{"NUL in an interface name", "interfaces: [\"eth\\0x\"]\n", 1,
	 "NUL character"},
	{"bad xdp_mode", "xdp_mode: turbo\n", 1,
	 "xdp_mode: expected native or generic, got 'turbo'"},
	{"relative socket", "socket: xlbd.sock\n", 1,
	 "socket: 'xlbd.sock' is not an absolute path"},
	{"conntrack_size too small", "conntrack_size: 1023\n", 1,
	 "conntrack_size: 1023 is out of range 1024..16777216"},
	{"conntrack_size overflowing", "conntrack_size: 99999999999999999999\n",
	 1, "is out of range"},
	{"max_reals 1 leaves no id", "max_reals: 1\n", 1,
	 "out of range 2..1048576"},
	{"icmp_rate too large", "icmp_rate: 65536\n", 1,
	 "icmp_rate: 65536 is out of range 0..65535"},
	{"icmp_rate negative", "icmp_rate: -1\n", 1, "icmp_rate"},
	{"gue_port 0", "gue_port: 0\n", 1,
	 "gue_port: 0 is out of range 1..65535"},
	{"bad encap", "vips:\n  - vip: 10.0.0.1:80/tcp\n    encap: gre\n", 3,
	 "encap: expected ipip or gue, got 'gre'"},
	{"gue on a fullnat VIP",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    mode: fullnat\n"
	 "    encap: gue\n",
	 4, "encap: gue is for tunnel VIPs only"},
	{"bad gateway MAC", "gateway_mac: 02:00:00:00:00\n", 1,
	 "gateway_mac: invalid MAC address '02:00:00:00:00'"},
	{"multicast gateway MAC", "gateway_mac: '01:00:5e:00:00:01'\n", 1,
	 "is not a unicast address"},
	{"bad tunnel prefix", "tunnel_source:\n  ipv4: 172.16.0.0/33\n", 2,
	 "tunnel_source.ipv4: invalid prefix '172.16.0.0/33'"},
	{"IPv6 tunnel prefix too short",
	 "tunnel_source:\n  ipv4: 172.16.0.0/16\n  ipv6: 'fc00:2::/64'\n", 3,
	 "prefix length 64 is shorter than 96"},
	{"IPv6 prefix as ipv4", "tunnel_source: {ipv4: 'fc00::/96'}\n", 1,
	 "is not an IPv4 prefix"},
	{"tunnel prefix with host bits",
	 "tunnel_source:\n  ipv4: 172.16.1.0/16\n", 2,
	 "'172.16.1.0/16' has host bits set"},
	{"more VIPs than max_vips",
	 "max_vips: 2\nvips:\n  - vip: 10.0.0.1:80/tcp\n"
	 "  - vip: 10.0.0.2:80/tcp\n  - vip: 10.0.0.3:80/tcp\n",
	 5, "too many VIPs: max_vips is 2"},
	{"max_vips written after the VIPs",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n  - vip: 10.0.0.2:80/tcp\n"
	 "max_vips: 1\n",
	 3, "too many VIPs: max_vips is 1"},
	{"more reals than max_reals - 1",
	 "max_reals: 4\nvips:\n  - vip: 10.0.0.1:80/tcp\n"
	 "    reals: [10.1.0.1, 10.1.0.2]\n  - vip: 10.0.0.2:80/tcp\n"
	 "    reals:\n      - 10.1.0.1\n      - 10.1.0.3\n",
	 8, "too many reals: at most 3"},
	{"duplicate key", "xdp_mode: native\nsocket: /a\nxdp_mode: generic\n",
	 3, "duplicate key 'xdp_mode'"},
	{"duplicate key in a VIP",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals: []\n    reals: []\n", 4,
	 "duplicate key 'reals'"},
	{"non-scalar key", "? [a, b]\n: 1\n", 1, "keys must be scalars"},
	{"two documents", "xdp_mode: native\n---\nxdp_mode: generic\n", 2,
	 "only one YAML document is allowed"},
	{"YAML: unclosed flow sequence",
	 "xdp_mode: native\ninterfaces: [eth0, eth1\nsocket: /a\n", 3,
	 "invalid YAML: did not find expected ',' or ']' (while parsing a "
	 "flow sequence at line 2)"},
	{"YAML: tab indentation", "vips:\n\t- vip: 10.0.0.1:80/tcp\n", 2,
	 "invalid YAML: found character that cannot start any token"},
	{"YAML: bad indentation",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n     hash: maglev\n", 3,
	 "invalid YAML: mapping values are not allowed"},
	{"YAML: undefined alias", "xdp_mode: native\nvips: *nowhere\n", 2,
	 "invalid YAML: found undefined alias"},
	{"YAML: invalid UTF-8", "xdp_mode: native\nsocket: \"/\xff\"\n", 2,
	 "invalid YAML: invalid leading UTF-8 octet"},

	/* Health checks. */
	{"unknown key in health", HB "      type: tcp\n      colour: red\n", 5,
	 "unknown key 'colour' in health"},
	{"bad check type", HB "      type: icmp\n", 4,
	 "type: expected none, tcp, http or udp, got 'icmp'"},
	{"bad check type, shorthand",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: ping\n", 3,
	 "health: expected none, tcp, http or udp, got 'ping'"},
	{"health is a list",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: [tcp]\n", 3,
	 "health: expected a check type or a mapping, got a list"},
	{"VIP health without a type", HB "      interval: 500\n", 4,
	 "missing key 'type' in health"},
	{"real health without a type, VIP without a check",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        health: {port: 81}\n",
	 5, "missing key 'type' in health (its VIP has no check)"},
	{"interval not a duration", HB "      type: tcp\n      interval: 2h\n",
	 5, "interval: expected a duration (500, 500ms or 2s), got '2h'"},
	{"negative interval", HB "      type: tcp\n      interval: -5\n", 5,
	 "expected a duration"},
	{"interval too short", HB "      type: tcp\n      interval: 5ms\n", 5,
	 "interval: 5ms is out of range 10..3600000 ms"},
	{"interval too long", HB "      type: tcp\n      interval: 3601s\n", 5,
	 "interval: 3601s is out of range"},
	{"timeout equal to the interval",
	 HB "      type: tcp\n      interval: 1s\n      timeout: 1000\n", 6,
	 "health: timeout 1000 ms is not shorter than the interval 1000 ms"},
	{"timeout above the default interval",
	 HB "      timeout: 3s\n      type: tcp\n", 4,
	 "timeout 3000 ms is not shorter than the interval 2000 ms"},
	{"real's interval under its VIP's timeout",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: {type: tcp, timeout: "
	 "1s}\n"
	 "    reals:\n      - address: 10.1.0.1\n        health:\n"
	 "          interval: 500\n",
	 7, "timeout 1000 ms is not shorter than the interval 500 ms"},
	{"rise 0", HB "      type: tcp\n      rise: 0\n", 5,
	 "rise: 0 is out of range 1..100"},
	{"fall 101", HB "      type: tcp\n      fall: 101\n", 5,
	 "fall: 101 is out of range 1..100"},
	{"check of an any-port VIP without a port",
	 "vips:\n  - vip: 10.0.0.1/tcp\n    health: tcp\n", 3,
	 "health: a check of an any-port VIP needs a port"},
	{"real's check of an any-port VIP without a port",
	 "vips:\n  - vip: 10.0.0.1/udp\n    reals:\n      - address: 10.1.0.1\n"
	 "        health:\n          type: udp\n",
	 6, "needs a port"},
	{"check port 0", HB "      type: tcp\n      port: 0\n", 5,
	 "port: 0 is out of range 1..65535"},
	{"check port 65536", HB "      type: tcp\n      port: 65536\n", 5,
	 "port: 65536 is out of range 1..65535"},
	{"relative path", HB "      type: http\n      path: healthz\n", 5,
	 "path: 'healthz' does not start with '/'"},
	{"path with a space", HB "      type: http\n      path: '/a b'\n", 5,
	 "path: '/a b' contains spaces or control characters"},
	{"path too long",
	 HB "      type: http\n      path: /" A32 A32 A32 A32 "\n", 5,
	 "path: longer than 127 characters"},
	{"host with a space", HB "      type: http\n      host: 'a b'\n", 5,
	 "host: 'a b' contains spaces"},
	{"status code 600", HB "      type: http\n      codes: [200, 600]\n", 5,
	 "codes: 600 is out of range 100..599"},
	{"nine status codes",
	 HB "      type: http\n      codes: [200, 201, 202, 203, 204, 205,\n"
	    "        206, 207, 208]\n",
	 6, "codes: at most 8 status codes"},
	{"status code twice", HB "      type: http\n      codes: [200, 200]\n",
	 5, "codes: 200 is listed twice"},
	{"codes not a list", HB "      type: http\n      codes: 200\n", 5,
	 "codes: expected a list, got a scalar"},
	{"codes empty", HB "      type: http\n      codes: []\n", 5,
	 "codes: empty list"},
	{"path on a TCP check", HB "      type: tcp\n      path: /x\n", 5,
	 "path: only for http checks, not tcp"},
	{"send on an HTTP check", HB "      type: http\n      send: x\n", 5,
	 "send: only for udp checks, not http"},
	{"method on a TCP check", HB "      type: tcp\n      method: HEAD\n", 5,
	 "method: only for http checks, not tcp"},
	{"unknown method", HB "      type: http\n      method: PUT\n", 5,
	 "method: expected GET or HEAD, got 'PUT'"},
	{"codes on a real of a UDP check",
	 "vips:\n  - vip: 10.0.0.1:53/udp\n    health: udp\n    reals:\n"
	 "      - address: 10.1.0.1\n        health: {codes: [200]}\n",
	 6, "codes: only for http checks, not udp"},
	{"send too long",
	 HB "      type: udp\n      send: " A32 A32 A32 A32 "\n", 5,
	 "send: longer than 127 characters"},
	{"unknown check path", HB "      type: tcp\n      through: gre\n", 5,
	 "through: expected datapath, tunnel, direct or auto, got 'gre'"},
	{"data-path check of another address",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        health:\n"
	 "          through: datapath\n          address: 10.9.9.9\n",
	 8,
	 "health: a check through the data path goes to the real: it "
	 "cannot name an address"},
	{"address in a VIP's health",
	 HB "      type: tcp\n      address: 10.9.9.9\n", 5,
	 "address: only a real's health may set an address"},
	{"bad check address",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        health: {address: 10.9.9.x}\n",
	 6, "address: invalid IP address '10.9.9.x'"},
	{"multicast check address",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: tcp\n    reals:\n"
	 "      - address: 10.1.0.1\n        health:\n"
	 "          address: 224.0.0.1\n",
	 7, "224.0.0.1 cannot be checked"},
	{"type none with settings", HB "      type: none\n      port: 80\n", 5,
	 "health: a check of type none takes no other settings"},

	/* metrics */
	{"metrics with a name", "metrics: localhost:9617\n", 1,
	 "metrics: invalid address in 'localhost:9617'"},
	{"metrics without a port", "\nmetrics: 127.0.0.1\n", 2,
	 "metrics: expected ADDR:PORT or off, got '127.0.0.1'"},
	{"metrics port 0", "metrics: 127.0.0.1:0\n", 1,
	 "metrics: invalid port in '127.0.0.1:0' (expected 1..65535)"},
	{"metrics port too large", "metrics: 127.0.0.1:65536\n", 1,
	 "invalid port"},
	{"metrics IPv6 without brackets", "metrics: '::1:9617'\n", 1,
	 "invalid address in '::1:9617' (IPv6 in brackets"},
	{"metrics IPv4 in brackets", "metrics: '[127.0.0.1]:9617'\n", 1,
	 "invalid address"},
	{"metrics multicast", "metrics: 224.0.0.1:9617\n", 1,
	 "224.0.0.1 is a multicast or broadcast address"},
	{"metrics unquoted IPv6", "xdp_mode: native\nmetrics: [::1]:9617\n", 2,
	 "invalid YAML"},
	{"metrics as a list", "metrics:\n  - 127.0.0.1:9617\n", 2,
	 "metrics: expected ADDR:PORT or off, got a list"},

	/* fullnat and VIP modes */
	{"unknown key in fullnat", "fullnat:\n  pool: [10.97.0.1]\n", 2,
	 "unknown key 'pool' in fullnat"},
	{"fullnat is a list", "fullnat: [10.97.0.1]\n", 1,
	 "fullnat: expected a mapping, got a list"},
	{"local_addresses is a scalar",
	 "fullnat:\n  local_addresses: 10.9.0.1\n", 2,
	 "local_addresses: expected a list of addresses, got a scalar"},
	{"bad local address",
	 "fullnat:\n  local_addresses:\n    - 10.97.0.1\n    - 10.97.0.x\n", 4,
	 "local_addresses: invalid IP address '10.97.0.x'"},
	{"multicast local address",
	 "fullnat:\n  local_addresses: [224.0.0.5]\n", 2,
	 "224.0.0.5 cannot be a local address"},
	{"duplicate local address",
	 "fullnat:\n  local_addresses:\n    - 10.97.0.1\n    - fd00::1\n"
	 "    - \"fd00:0::1\"\n",
	 5, "local_addresses: fd00::1 is listed twice (first at line 4)"},
	{"too many IPv4 local addresses",
	 "fullnat:\n  local_addresses: [10.9.0.1, 10.9.0.2, 10.9.0.3, "
	 "10.9.0.4,\n"
	 "    10.9.0.5, 10.9.0.6, 10.9.0.7, 10.9.0.8, 10.9.0.9, 10.9.0.10,\n"
	 "    10.9.0.11, 10.9.0.12, 10.9.0.13, 10.9.0.14, 10.9.0.15,\n"
	 "    10.9.0.16, 10.9.0.17, 10.9.0.18, 10.9.0.19, 10.9.0.20,\n"
	 "    10.9.0.21, 10.9.0.22, 10.9.0.23, 10.9.0.24, 10.9.0.25,\n"
	 "    10.9.0.26, 10.9.0.27, 10.9.0.28, 10.9.0.29, 10.9.0.30,\n"
	 "    10.9.0.31, 10.9.0.32, fd00::1,\n    10.9.0.33]\n",
	 9, "local_addresses: at most 32 IPv4 addresses"},
	{"ports backwards", "fullnat:\n  ports: 2000-1000\n", 2,
	 "ports: range 2000-1000 runs backwards"},
	{"ports without a range", "fullnat:\n  ports: 1024\n", 2,
	 "ports: expected a port range MIN-MAX within 1..65535, got '1024'"},
	{"ports from zero", "fullnat:\n  ports: 0-100\n", 2,
	 "expected a port range MIN-MAX"},
	{"ports beyond 65535", "fullnat:\n  ports: 1024-65536\n", 2,
	 "got '1024-65536'"},
	{"ports with spaces", "fullnat:\n  ports: 1024 - 2048\n", 2,
	 "expected a port range"},
	{"sessions too small", "fullnat:\n  sessions: 10\n", 2,
	 "sessions: 10 is out of range 1024..16777216"},
	{"timeout zero", "fullnat:\n  timeouts:\n    tcp_syn: 0\n", 3,
	 "tcp_syn: 0 is out of range 1..604800"},
	{"unknown timeout", "fullnat:\n  timeouts: {icmp: 5}\n", 2,
	 "unknown key 'icmp' in fullnat.timeouts"},
	{"gc interval too short", "fullnat:\n  gc_interval_ms: 10\n", 2,
	 "gc_interval_ms: 10 is out of range 100..60000"},
	{"bad mode", "vips:\n  - vip: 10.0.0.1:80/tcp\n    mode: dsr\n", 3,
	 "mode: expected tunnel or fullnat, got 'dsr'"},
	{"mss too small", "vips:\n  - vip: 10.0.0.1:80/tcp\n    mss: 500\n", 3,
	 "mss: 500 is out of range 536..65535"},
	{"mss on UDP",
	 "vips:\n  - vip: 10.0.0.1:53/udp\n    reals: [10.1.0.1]\n"
	 "    mss: 1400\n",
	 4, "mss: only TCP VIPs have an MSS to clamp"},
	{"fullnat VIP with a real of the other family",
	 "fullnat: {local_addresses: [10.97.0.1]}\nvips:\n"
	 "  - vip: 10.0.0.1:80/tcp\n    mode: fullnat\n    reals:\n"
	 "      - 10.1.0.1\n      - 2001:db8::5\n",
	 7,
	 "real 2001:db8::5: the reals of fullnat VIP 10.0.0.1:80/tcp must be "
	 "IPv4 like it"},
	{"fullnat VIP without a local address",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    mode: fullnat\n", 2,
	 "VIP 10.0.0.1:80/tcp is fullnat, but fullnat.local_addresses has no "
	 "IPv4 address"},
	{"fullnat IPv6 VIP with only IPv4 local addresses",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n    mode: fullnat\n"
	 "  - vip: \"[2001:db8::1]:80/tcp\"\n    mode: fullnat\n"
	 "fullnat:\n  local_addresses: [10.97.0.1]\n",
	 4, "has no IPv6 address"},
	{"local address is a VIP address",
	 "vips:\n  - vip: 10.0.0.1:80/tcp\n  - vip: 10.97.0.1:53/udp\n"
	 "fullnat:\n  local_addresses:\n    - 10.97.0.2\n    - 10.97.0.1\n",
	 7,
	 "local address 10.97.0.1 is also the address of VIP 10.97.0.1:53/udp "
	 "(line 3)"},

	/* control_cpus */
	{"CPU range backwards", "control_cpus: 0,3-1\n", 1,
	 "control_cpus: range 3-1 in '0,3-1' runs backwards"},
	{"CPU 1024", "control_cpus: 1024\n", 1,
	 "control_cpus: invalid CPU list '1024' (expected CPUs 0..1023"},
	{"CPU list with an empty item", "control_cpus: 0,,1\n", 1,
	 "invalid CPU list '0,,1'"},
	{"CPU list ending in a comma", "control_cpus: '0-1,'\n", 1,
	 "invalid CPU list"},
	{"CPU range without an end", "control_cpus: 0-\n", 1,
	 "invalid CPU list '0-'"},
	{"CPU list with spaces", "control_cpus: 0, 1\n", 1,
	 "invalid CPU list '0, 1'"},
	{"CPU list of names", "control_cpus: all\n", 1,
	 "invalid CPU list 'all'"},
	{"CPU list as a YAML list", "control_cpus: [0, 1]\n", 1,
	 "control_cpus: expected a CPU list like 0-1,4, got a list"},
	/* routes and cluster */
	{"route protocol of the kernel", "routes:\n  protocol: 2\n", 2,
	 "protocol: 2 is out of range 5..255"},
	{"local routing table", "routes:\n  table: 255\n", 2,
	 "255 is the kernel's local table"},
	{"backup metric not worse",
	 "routes:\n  metric: 10\n  backup_metric: 10\n", 2,
	 "backup_metric (10) must be larger than metric (10)"},
	{"daemon name", "routes:\n  watch: [zebra, \"bgp d\"]\n", 2,
	 "may hold only letters"},
	{"cluster without nodes", "cluster:\n  node: n1\n  key_file: /k\n", 2,
	 "missing key 'nodes' in cluster"},
	{"cluster node not listed",
	 "cluster:\n  node: n9\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1}\n"
	 "    - {name: n2, address: 10.0.0.2}\n",
	 2, "node 'n9' is not in cluster.nodes"},
	{"cluster alone",
	 "cluster:\n  node: n1\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1}\n",
	 2, "at least one peer"},
	{"cluster name twice",
	 "cluster:\n  node: n1\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1}\n"
	 "    - {name: n1, address: 10.0.0.2}\n",
	 6, "node name 'n1' is used twice (first at line 5)"},
	{"cluster same endpoint",
	 "cluster:\n  node: n1\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1}\n"
	 "    - {name: n2, address: 10.0.0.1}\n",
	 6, "nodes n1 and n2 both use 10.0.0.1 port 7400"},
	{"cluster pools collide",
	 "fullnat: {local_addresses: [10.97.1.1]}\n"
	 "cluster:\n  node: n1\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1}\n"
	 "    - {name: n2, address: 10.0.0.2, local_addresses: [10.97.1.1]}\n",
	 7, "10.97.1.1 is in the pools of both n1 and n2"},
	{"cluster self pool differs",
	 "fullnat: {local_addresses: [10.97.1.1]}\n"
	 "cluster:\n  node: n1\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1, local_addresses: [10.97.1.2]}\n"
	 "    - {name: n2, address: 10.0.0.2}\n",
	 6, "lists local address 10.97.1.2, which fullnat.local_addresses"},
	{"cluster peer pool is a VIP",
	 "cluster:\n  node: n1\n  key_file: /k\n  nodes:\n"
	 "    - {name: n1, address: 10.0.0.1}\n"
	 "    - {name: n2, address: 10.0.0.2, local_addresses: [10.9.0.1]}\n"
	 "vips:\n  - vip: 10.9.0.1:80/tcp\n    reals: [10.1.0.1]\n",
	 6, "is also the address of VIP 10.9.0.1:80/tcp"},
	{"cluster key file relative",
	 "cluster:\n  node: n1\n  key_file: k\n  nodes: []\n", 3,
	 "'k' is not an absolute path"},
	{"CPU list too long",
	 "control_cpus: 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
	 "21,22,23,24\n",
	 1, "control_cpus: longer than 63 characters"},
};

Test(config, fullnat)
{
	static const char text[] =
		"fullnat:\n"
		"  local_addresses: [10.97.0.1, 10.97.0.2, \"fd00:97::1\"]\n"
		"  ports: 2000-2999\n"
		"  sessions: 4096\n"
		"  timeouts: {tcp: 100, tcp_syn: 5, tcp_closing: 2, udp: 7}\n"
		"  gc_interval_ms: 250\n"
		"vips:\n"
		"  - vip: 10.100.1.10:80/tcp\n"
		"    mode: fullnat\n"
		"    mss: 1400\n"
		"    reals: [10.1.0.2, 10.1.0.3]\n"
		"  - vip: \"[2001:db8::10]:443/udp\"\n"
		"    mode: fullnat\n"
		"    reals: [2001:db8:1::2]\n"
		"  - vip: 10.100.1.11:80/tcp\n"
		"    mode: tunnel\n"
		"    reals: [\"2001:db8:1::3\"]\n";
	struct xlb_config cfg;

	parse_ok(text, &cfg);
	cr_assert_eq(cfg.nat.n_laddrs, 3);
	cr_expect_str_eq(ip_text(&cfg.nat.laddrs[0]), "10.97.0.1");
	cr_expect_str_eq(ip_text(&cfg.nat.laddrs[2]), "fd00:97::1");
	cr_expect_eq(cfg.nat.port_min, 2000);
	cr_expect_eq(cfg.nat.port_max, 2999);
	cr_expect_eq(cfg.nat.sessions, 4096);
	cr_expect_eq(cfg.nat.tcp_s, 100);
	cr_expect_eq(cfg.nat.tcp_syn_s, 5);
	cr_expect_eq(cfg.nat.tcp_closing_s, 2);
	cr_expect_eq(cfg.nat.udp_s, 7);
	cr_expect_eq(cfg.nat.gc_interval_ms, 250);
	cr_assert_eq(cfg.n_vips, 3);
	cr_expect_eq(cfg.vips[0].mode, XLB_MODE_FULLNAT);
	cr_expect_eq(cfg.vips[0].mss, 1400);
	cr_expect_eq(cfg.vips[1].mode, XLB_MODE_FULLNAT);
	cr_expect_eq(cfg.vips[1].mss, 0);
	cr_expect_eq(cfg.vips[2].mode, XLB_MODE_TUNNEL);
	xlb_config_free(&cfg);

	/* A one-port range, and timeouts left out keep their defaults. */
	parse_ok("fullnat:\n  ports: 80-80\n  timeouts: {udp: 5}\n", &cfg);
	cr_expect_eq(cfg.nat.port_min, 80);
	cr_expect_eq(cfg.nat.port_max, 80);
	cr_expect_eq(cfg.nat.udp_s, 5);
	cr_expect_eq(cfg.nat.tcp_s, 900);
	xlb_config_free(&cfg);
}

Test(config, cluster)
{
	static const char text[] =
		"fullnat: {local_addresses: [10.97.1.1, \"fd00:97:1::1\"]}\n"
		"routes:\n"
		"  protocol: 251\n"
		"  table: 100\n"
		"  metric: 5\n"
		"  backup_metric: 500\n"
		"  frr_run_dir: /run/frr-x\n"
		"  watch: [zebra, bgpd, bfdd]\n"
		"  watch_interval_ms: 250ms\n"
		"cluster:\n"
		"  node: n2\n"
		"  key_file: /etc/xlb/cluster.key\n"
		"  port: 7500\n"
		"  batch_ms: 10\n"
		"  preonline_timeout_ms: 2s\n"
		"  drain_idle_ms: 1500\n"
		"  replay_window_s: 10\n"
		"  nodes:\n"
		"    - {name: n1, address: 10.0.0.1, port: 7400, "
		"local_addresses: [10.97.0.1]}\n"
		"    - {name: n2, address: 10.0.0.2}\n"
		"    - {name: n3, address: \"fd00::3\"}\n";
	struct xlb_config cfg;

	parse_ok(text, &cfg);
	cr_expect(cfg.routes.enabled);
	cr_expect_eq(cfg.routes.protocol, 251);
	cr_expect_eq(cfg.routes.table, 100);
	cr_expect_eq(cfg.routes.metric, 5);
	cr_expect_eq(cfg.routes.backup_metric, 500);
	cr_expect_str_eq(cfg.routes.frr_run_dir, "/run/frr-x");
	cr_assert_eq(cfg.routes.n_watch, 3);
	cr_expect_str_eq(cfg.routes.watch[2], "bfdd");
	cr_expect_eq(cfg.routes.watch_interval_ms, 250);
	cr_assert(cfg.cluster.enabled);
	cr_expect_str_eq(cfg.cluster.node, "n2");
	cr_expect_eq(cfg.cluster.self, 1);
	cr_expect_eq(cfg.cluster.batch_ms, 10);
	cr_expect_eq(cfg.cluster.preonline_timeout_ms, 2000);
	cr_expect_eq(cfg.cluster.drain_idle_ms, 1500);
	cr_expect_eq(cfg.cluster.replay_window_s, 10);
	cr_assert_eq(cfg.cluster.n_nodes, 3);
	cr_expect_eq(cfg.cluster.nodes[0].port, 7400);
	cr_expect_eq(cfg.cluster.nodes[1].port, 7500);
	cr_expect_eq(cfg.cluster.nodes[2].port, 7500);
	cr_expect_str_eq(ip_text(&cfg.cluster.nodes[2].addr), "fd00::3");
	/* This node's pool is fullnat's. */
	cr_assert_eq(cfg.cluster.nodes[1].n_laddrs, 2);
	cr_expect_str_eq(ip_text(&cfg.cluster.nodes[1].laddrs[1]),
			 "fd00:97:1::1");
	cr_assert_eq(cfg.cluster.nodes[0].n_laddrs, 1);
	cr_expect_eq(cfg.cluster.nodes[2].n_laddrs, 0);
	xlb_config_free(&cfg);

	/* Without the sections: no routes, no cluster, the defaults. */
	parse_ok("", &cfg);
	cr_expect(!cfg.routes.enabled);
	cr_expect(!cfg.cluster.enabled);
	cr_expect_eq(cfg.routes.protocol, XLB_ROUTE_PROTO_DEFAULT);
	cr_expect_eq(cfg.routes.backup_metric, 1000);
	cr_expect_str_eq(cfg.routes.watch[0], "zebra");
	cr_expect_eq(cfg.cluster.batch_ms, 20);
	xlb_config_free(&cfg);
}

Test(addr, fwd_mode)
{
	enum xlb_fwd_mode m = XLB_MODE_TUNNEL;

	cr_expect_str_eq(xlb_fwd_mode_str(XLB_MODE_TUNNEL), "tunnel");
	cr_expect_str_eq(xlb_fwd_mode_str(XLB_MODE_FULLNAT), "fullnat");
	cr_expect_eq(xlb_fwd_mode_parse("fullnat", &m), 0);
	cr_expect_eq(m, XLB_MODE_FULLNAT);
	cr_expect_eq(xlb_fwd_mode_parse("tunnel", &m), 0);
	cr_expect_eq(m, XLB_MODE_TUNNEL);
	cr_expect_eq(xlb_fwd_mode_parse("FullNAT", &m), -EINVAL);
	cr_expect_eq(xlb_fwd_mode_parse(NULL, &m), -EINVAL);
}

Test(config, errors)
{
	char err[XLB_ERR_LEN], prefix[64];
	struct xlb_config cfg;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *t = &error_cases[i];

		memset(err, 0, sizeof(err));
		ret = xlb_config_parse(t->text, strlen(t->text), NAME, &cfg,
				       err, sizeof(err));
		cr_expect_eq(ret, -EINVAL, "%s: returned %d", t->desc, ret);
		snprintf(prefix, sizeof(prefix), NAME ":%d: ", t->line);
		cr_expect(!strncmp(err, prefix, strlen(prefix)),
			  "%s: expected line %d, got \"%s\"", t->desc, t->line,
			  err);
		cr_expect(strstr(err, t->reason),
			  "%s: expected \"%s\" in \"%s\"", t->desc, t->reason,
			  err);
		/* A failed parse leaves nothing behind. */
		cr_expect_eq(cfg.n_vips, 0, "%s", t->desc);
		cr_expect_null(cfg.vips, "%s", t->desc);
		cr_expect_eq(cfg.n_interfaces, 0, "%s", t->desc);
		cr_expect_null(cfg.interfaces[0], "%s", t->desc);
	}
	cr_expect_geq(i, 15);
}

Test(config, error_buffer_truncation)
{
	struct xlb_config cfg;
	char err[14];

	/* The message is cut to the buffer, NUL-terminated. */
	memset(err, 'x', sizeof(err));
	cr_assert_eq(
		xlb_config_parse("foo: 1\n", 7, NAME, &cfg, err, sizeof(err)),
		-EINVAL);
	cr_expect_str_eq(err, NAME ":1: unk");
	/* No buffer at all is allowed too. */
	cr_expect_eq(xlb_config_parse("foo: 1\n", 7, NAME, &cfg, NULL, 0),
		     -EINVAL);
}

Test(config, load)
{
	char path[] = "/tmp/xlb-test-config-XXXXXX";
	const char *text = "vips:\n  - vip: 10.0.0.1:80/tcp\n"
			   "    table_size: 100\n";
	char err[XLB_ERR_LEN], want[XLB_ERR_LEN];
	struct xlb_config cfg;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(full_example, f);
	fclose(f);

	cr_assert_eq(xlb_config_load(path, &cfg, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(cfg.n_vips, 3);
	cr_expect_eq(cfg.vips[0].reals[2].line, 25);
	xlb_config_free(&cfg);

	/* Messages are named after the path. */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_expect_eq(xlb_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: table_size: 100 is not a prime (97 and 101 are)", path);
	cr_expect_str_eq(err, want);
	cr_expect_eq(cfg.n_vips, 0);

	unlink(path);
	cr_expect_eq(xlb_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	cr_expect_str_eq(err, want);
	cr_expect_eq(cfg.n_vips, 0);

	cr_expect_eq(xlb_config_load("/", &cfg, err, sizeof(err)), -EISDIR);
	cr_expect_str_eq(err, "/: Is a directory");
}

/* Addresses ------------------------------------------------------------ */

struct ip_case {
	const char *in;
	const char *out; /* canonical text; NULL: must be rejected */
	int family;
};

static const struct ip_case ip_cases[] = {
	{"10.0.0.1", "10.0.0.1", AF_INET},
	{"0.0.0.0", "0.0.0.0", AF_INET},
	{"255.255.255.255", "255.255.255.255", AF_INET},
	{"2001:DB8:0:0:0:0:0:1", "2001:db8::1", AF_INET6},
	{"::", "::", AF_INET6},
	{"::ffff:10.0.0.1", "::ffff:10.0.0.1", AF_INET6},
	{"fe80::1:0:0:1", "fe80::1:0:0:1", AF_INET6},
	{"10.0.0.256", NULL, 0},
	{"10.0.0", NULL, 0},
	{"010.0.0.1", NULL, 0},
	{"10.0.0.1 ", NULL, 0},
	{" 10.0.0.1", NULL, 0},
	{"10.0.0.1/32", NULL, 0},
	{"2001:db8::1::2", NULL, 0},
	{"[2001:db8::1]", NULL, 0},
	{"fe80::1%eth0", NULL, 0},
	{"", NULL, 0},
	{"eth0", NULL, 0},
};

Test(addr, ip_parse_and_print)
{
	struct xlb_ip ip, again;
	size_t i;

	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		const struct ip_case *t = &ip_cases[i];
		int ret;

		memset(&ip, 0xa5, sizeof(ip));
		ret = xlb_ip_parse(t->in, &ip);
		if (!t->out) {
			cr_expect_eq(ret, -EINVAL, "'%s' accepted", t->in);
			/* Untouched on failure. */
			cr_expect_eq(ip.family, (int)0xa5a5a5a5, "'%s'", t->in);
			continue;
		}
		cr_expect_eq(ret, 0, "'%s' rejected", t->in);
		cr_expect_eq(ip.family, t->family, "'%s'", t->in);
		cr_expect_str_eq(ip_text(&ip), t->out, "'%s'", t->in);
		cr_expect_eq(xlb_ip_parse(t->out, &again), 0, "'%s'", t->out);
		cr_expect(xlb_ip_equal(&ip, &again), "'%s'", t->in);
	}
	cr_expect_eq(xlb_ip_parse(NULL, &ip), -EINVAL);
}

Test(addr, ip_storage_is_network_order)
{
	struct xlb_ip ip;

	cr_assert_eq(xlb_ip_parse("10.1.2.3", &ip), 0);
	cr_expect_eq(ip.a.addr[0], htonl(0x0a010203));
	cr_expect_eq(ip.a.addr[1], 0);
	cr_expect_eq(ip.a.addr[2], 0);
	cr_expect_eq(ip.a.addr[3], 0);
	cr_assert_eq(xlb_ip_parse("2001:db8::1:2", &ip), 0);
	cr_expect_eq(ip.a.addr[0], htonl(0x20010db8));
	cr_expect_eq(ip.a.addr[1], 0);
	cr_expect_eq(ip.a.addr[2], 0);
	cr_expect_eq(ip.a.addr[3], htonl(0x00010002));
}

Test(addr, ip_str_edges)
{
	struct xlb_ip ip;
	char small[8];

	cr_assert_eq(xlb_ip_parse("192.168.100.200", &ip), 0);
	/* Too small a buffer gives "?", never a cut address. */
	cr_expect_str_eq(xlb_ip_str(&ip, small, sizeof(small)), "?");
	ip.family = 99;
	cr_expect_str_eq(ip_text(&ip), "?");
	cr_expect_str_eq(xlb_ip_str(NULL, small, sizeof(small)), "?");
}

Test(addr, ip_equal)
{
	struct xlb_ip a, b;

	cr_assert_eq(xlb_ip_parse("10.0.0.1", &a), 0);
	cr_assert_eq(xlb_ip_parse("10.0.0.1", &b), 0);
	cr_expect(xlb_ip_equal(&a, &b));
	cr_assert_eq(xlb_ip_parse("10.0.0.2", &b), 0);
	cr_expect_not(xlb_ip_equal(&a, &b));
	/* Same first word, other family. */
	cr_assert_eq(xlb_ip_parse("a00:1::", &b), 0);
	cr_expect_eq(a.a.addr[0], b.a.addr[0]);
	cr_expect_not(xlb_ip_equal(&a, &b));
	cr_assert_eq(xlb_ip_parse("::ffff:10.0.0.1", &b), 0);
	cr_expect_not(xlb_ip_equal(&a, &b));
}

struct service_case {
	const char *in;
	const char *out; /* canonical text; NULL: must be rejected */
	int family;
	uint16_t port;
	uint8_t proto;
};

static const struct service_case service_cases[] = {
	{"10.0.0.1:80/tcp", "10.0.0.1:80/tcp", AF_INET, 80, IPPROTO_TCP},
	{"10.0.0.1:65535/udp", "10.0.0.1:65535/udp", AF_INET, 65535,
	 IPPROTO_UDP},
	{"10.0.0.1/tcp", "10.0.0.1:0/tcp", AF_INET, 0, IPPROTO_TCP},
	{"10.0.0.1:0/udp", "10.0.0.1:0/udp", AF_INET, 0, IPPROTO_UDP},
	{"10.0.0.1:080/TCP", "10.0.0.1:80/tcp", AF_INET, 80, IPPROTO_TCP},
	{"[2001:db8::1]:443/udp", "[2001:db8::1]:443/udp", AF_INET6, 443,
	 IPPROTO_UDP},
	{"[2001:DB8:0::1]/tcp", "[2001:db8::1]:0/tcp", AF_INET6, 0,
	 IPPROTO_TCP},
	{"[::]:1/Udp", "[::]:1/udp", AF_INET6, 1, IPPROTO_UDP},
	{"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535/tcp",
	 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/tcp", AF_INET6, 65535,
	 IPPROTO_TCP},
	{"10.0.0.1:80", NULL},
	{"10.0.0.1:80/", NULL},
	{"10.0.0.1:80/sctp", NULL},
	{"10.0.0.1:80/tcp ", NULL},
	{"10.0.0.1:65536/tcp", NULL},
	{"10.0.0.1:-1/tcp", NULL},
	{"10.0.0.1:+80/tcp", NULL},
	{"10.0.0.1:/tcp", NULL},
	{"10.0.0.1:80:81/tcp", NULL},
	{"10.0.0.1:8a/tcp", NULL},
	{"10.0.0.1:80/tcp/udp", NULL},
	{"2001:db8::1:80/tcp", NULL},
	{"2001:db8::1/tcp", NULL},
	{"[2001:db8::1:80/tcp", NULL},
	{"2001:db8::1]:80/tcp", NULL},
	{"[2001:db8::1]80/tcp", NULL},
	{"[2001:db8::1]:/tcp", NULL},
	{"[10.0.0.1]:80/tcp", NULL},
	{"[]:80/tcp", NULL},
	{":80/tcp", NULL},
	{"/tcp", NULL},
	{"", NULL},
	{"tcp", NULL},
	{"10.0.0.1:99999999999999999999/tcp", NULL},
};

Test(addr, service_parse_and_print)
{
	char buf[XLB_SERVICE_STRLEN];
	struct xlb_service svc, again;
	size_t i;

	for (i = 0; i < sizeof(service_cases) / sizeof(service_cases[0]); i++) {
		const struct service_case *t = &service_cases[i];
		int ret;

		memset(&svc, 0x5a, sizeof(svc));
		ret = xlb_service_parse(t->in, &svc);
		if (!t->out) {
			cr_expect_eq(ret, -EINVAL, "'%s' accepted", t->in);
			cr_expect_eq(svc.port, 0x5a5a, "'%s' touched", t->in);
			continue;
		}
		cr_expect_eq(ret, 0, "'%s' rejected", t->in);
		cr_expect_eq(svc.ip.family, t->family, "'%s'", t->in);
		cr_expect_eq(svc.port, t->port, "'%s'", t->in);
		cr_expect_eq(svc.proto, t->proto, "'%s'", t->in);
		cr_expect_str_eq(xlb_service_str(&svc, buf, sizeof(buf)),
				 t->out, "'%s'", t->in);
		cr_expect_eq(xlb_service_parse(t->out, &again), 0, "'%s'",
			     t->out);
		cr_expect(xlb_service_equal(&svc, &again), "'%s'", t->in);
	}
	cr_expect_geq(i, 20);
}

Test(addr, service_equal)
{
	struct xlb_service a, b;

	cr_assert_eq(xlb_service_parse("10.0.0.1:80/tcp", &a), 0);
	cr_assert_eq(xlb_service_parse("10.0.0.1:80/udp", &b), 0);
	cr_expect_not(xlb_service_equal(&a, &b));
	cr_assert_eq(xlb_service_parse("10.0.0.1:81/tcp", &b), 0);
	cr_expect_not(xlb_service_equal(&a, &b));
	cr_assert_eq(xlb_service_parse("10.0.0.2:80/tcp", &b), 0);
	cr_expect_not(xlb_service_equal(&a, &b));
	cr_assert_eq(xlb_service_parse("10.0.0.1:80/TCP", &b), 0);
	cr_expect(xlb_service_equal(&a, &b));
}

struct prefix_case {
	const char *in;
	const char *addr; /* NULL: must be rejected */
	int plen;
};

static const struct prefix_case prefix_cases[] = {
	{"172.16.0.0/16", "172.16.0.0", 16},
	{"0.0.0.0/0", "0.0.0.0", 0},
	{"10.0.0.1/32", "10.0.0.1", 32},
	{"10.0.0.1", "10.0.0.1", 32},
	{"fc00:2::/96", "fc00:2::", 96},
	{"2001:db8::1", "2001:db8::1", 128},
	{"::/128", "::", 128},
	/* Host bits are kept: the config decides what to make of them. */
	{"172.16.1.0/16", "172.16.1.0", 16},
	{"10.0.0.0/33", NULL},
	{"fc00::/129", NULL},
	{"10.0.0.0/", NULL},
	{"10.0.0.0/-1", NULL},
	{"10.0.0.0/0024", NULL},
	{"10.0.0.0/24/8", NULL},
	{"10.0.0.0/24 ", NULL},
	{"/24", NULL},
	{"10.0.0/24", NULL},
};

Test(addr, prefix_parse)
{
	struct xlb_ip ip;
	size_t i;
	int plen;

	for (i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++) {
		const struct prefix_case *t = &prefix_cases[i];
		int ret;

		plen = -1;
		ret = xlb_prefix_parse(t->in, &ip, &plen);
		if (!t->addr) {
			cr_expect_eq(ret, -EINVAL, "'%s' accepted", t->in);
			cr_expect_eq(plen, -1, "'%s' touched plen", t->in);
			continue;
		}
		cr_expect_eq(ret, 0, "'%s' rejected", t->in);
		cr_expect_str_eq(ip_text(&ip), t->addr, "'%s'", t->in);
		cr_expect_eq(plen, t->plen, "'%s'", t->in);
	}
}

struct mac_case {
	const char *in;
	bool ok;
	uint8_t mac[6];
};

static const struct mac_case mac_cases[] = {
	{"02:00:00:00:00:01", true, {2, 0, 0, 0, 0, 1}},
	{"ff:FF:fF:00:9a:Bc", true, {0xff, 0xff, 0xff, 0, 0x9a, 0xbc}},
	{"02:00:00:00:00", false},
	{"02:00:00:00:00:01:02", false},
	{"02-00-00-00-00-01", false},
	{"2:0:0:0:0:1", false},
	{"02:00:00:00:00:0g", false},
	{"02:00:00:00:00:01 ", false},
	{"0200.0000.0001", false},
	{"", false},
};

Test(addr, mac_parse)
{
	uint8_t mac[6];
	size_t i;

	for (i = 0; i < sizeof(mac_cases) / sizeof(mac_cases[0]); i++) {
		const struct mac_case *t = &mac_cases[i];
		int ret;

		memset(mac, 0x77, sizeof(mac));
		ret = xlb_mac_parse(t->in, mac);
		if (!t->ok) {
			cr_expect_eq(ret, -EINVAL, "'%s' accepted", t->in);
			cr_expect_eq(mac[0], 0x77, "'%s' touched", t->in);
			continue;
		}
		cr_expect_eq(ret, 0, "'%s' rejected", t->in);
		cr_expect_arr_eq(mac, t->mac, 6, "'%s'", t->in);
	}
}

Test(addr, names)
{
	enum xlb_hash_mode mode = XLB_HASH_SOURCE_IP;

	cr_expect_str_eq(xlb_proto_str(IPPROTO_TCP), "tcp");
	cr_expect_str_eq(xlb_proto_str(IPPROTO_UDP), "udp");
	cr_expect_str_eq(xlb_proto_str(IPPROTO_ICMP), "unknown");
	cr_expect_str_eq(xlb_hash_mode_str(XLB_HASH_MAGLEV), "maglev");
	cr_expect_str_eq(xlb_hash_mode_str(XLB_HASH_SOURCE_IP), "source-ip");
	cr_expect_eq(xlb_hash_mode_parse("maglev", &mode), 0);
	cr_expect_eq(mode, XLB_HASH_MAGLEV);
	cr_expect_eq(xlb_hash_mode_parse("source-ip", &mode), 0);
	cr_expect_eq(mode, XLB_HASH_SOURCE_IP);
	cr_expect_eq(xlb_hash_mode_parse("Maglev", &mode), -EINVAL);
	cr_expect_eq(xlb_hash_mode_parse("source_ip", &mode), -EINVAL);
	cr_expect_eq(mode, XLB_HASH_SOURCE_IP);
}

/* Found by fuzzing: a quoted value with a newline must not break the
 * one-line "FILE:LINE: reason" form of an error. */
Test(config, error_is_one_line)
{
	const char text[] = "interfaces: [eth0, \"a\\n\\nb\"]\n";
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;

	cr_assert_eq(xlb_config_parse(text, strlen(text), "t.yaml", &cfg, err,
				      sizeof(err)),
		     -EINVAL);
	cr_assert_null(strchr(err, '\n'), "multi-line error: %s", err);
	cr_assert(!strncmp(err, "t.yaml:1: ", 10), "%s", err);
}

/* The config file refuses what the control socket refuses, in the same
 * words (addr_cases.h; test_lbctl.c checks the socket's side). */
ParameterizedTestParameters(config, refused_addresses)
{
	static size_t idx[N_ADDR_CASES];
	size_t i;

	for (i = 0; i < N_ADDR_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_ADDR_CASES);
}

ParameterizedTest(size_t *i, config, refused_addresses)
{
	const struct addr_case *c = &addr_cases[*i];
	char text[256], want[XLB_ERR_LEN], err[XLB_ERR_LEN] = "";
	struct xlb_config cfg;

	switch (c->kind) {
	case AC_VIP:
		snprintf(text, sizeof(text), "vips:\n  - vip: '%s'\n", c->vip);
		snprintf(want, sizeof(want), NAME ":2: vip: %s", c->msg);
		break;
	case AC_REAL:
		snprintf(text, sizeof(text),
			 "vips:\n  - vip: '%s'\n    reals:\n      - '%s'\n",
			 c->vip, c->addr);
		snprintf(want, sizeof(want), NAME ":4: reals: %s", c->msg);
		break;
	case AC_LADDR:
		snprintf(text, sizeof(text),
			 "fullnat:\n  local_addresses:\n    - '%s'\n", c->addr);
		snprintf(want, sizeof(want), NAME ":3: local_addresses: %s",
			 c->msg);
		break;
	}
	cr_expect_eq(xlb_config_parse(text, strlen(text), NAME, &cfg, err,
				      sizeof(err)),
		     -EINVAL, "%s: accepted", c->desc);
	cr_expect_str_eq(err, want, "%s", c->desc);
}

/* The file refuses a VIP's or real's value with the reason the control
 * socket and lbctl give (setting_cases.h; test_lbctl.c checks theirs). */
ParameterizedTestParameters(config, refused_settings)
{
	static size_t idx[N_SETTING_CASES];
	size_t i;

	for (i = 0; i < N_SETTING_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_SETTING_CASES);
}

ParameterizedTest(size_t *i, config, refused_settings)
{
	const struct setting_case *c = &setting_cases[*i];
	char text[256], extra[64] = "", want[XLB_ERR_LEN],
			err[XLB_ERR_LEN] = "";
	struct xlb_config cfg;

	if (c->extra)
		snprintf(extra, sizeof(extra), "    %s: %s\n", c->extra,
			 c->extra_value);
	if (c->real)
		snprintf(text, sizeof(text),
			 "vips:\n  - vip: '%s'\n    reals:\n"
			 "      - {address: 10.1.0.2, %s: %s}\n",
			 c->vip, c->key, c->value);
	else
		snprintf(text, sizeof(text),
			 "vips:\n  - vip: '%s'\n%s    %s: %s\n", c->vip, extra,
			 c->key, c->value);
	snprintf(want, sizeof(want), NAME ":%d: %s: %s",
		 c->real || c->extra ? 4 : 3, c->key, c->reason);
	cr_expect_eq(xlb_config_parse(text, strlen(text), NAME, &cfg, err,
				      sizeof(err)),
		     -EINVAL, "%s: accepted", c->desc);
	cr_expect_str_eq(err, want, "%s", c->desc);
}

/* The VIP's own address is refused as a real whichever key comes first. */
Test(config, real_is_the_vip_with_reals_first)
{
	static const char text[] = "vips:\n  - reals: [10.0.0.10]\n"
				   "    vip: 10.0.0.10:80/tcp\n";
	char err[XLB_ERR_LEN] = "";
	struct xlb_config cfg;

	cr_expect_eq(xlb_config_parse(text, strlen(text), NAME, &cfg, err,
				      sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, NAME ":2: reals: 10.0.0.10 cannot be a real "
				   "(it is the VIP's own address)");
}

/* cfg as written by xlb_config_write(), malloc'd. */
static char *write_text(const struct xlb_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(xlb_config_write(f, cfg), 0);
	cr_assert_eq(fclose(f), 0);
	return text;
}

static void expect_same_vips(const struct xlb_config *a,
			     const struct xlb_config *b)
{
	size_t i, j;

	cr_assert_eq(a->n_vips, b->n_vips);
	for (i = 0; i < a->n_vips; i++) {
		const struct xlb_vip_spec *x = &a->vips[i], *y = &b->vips[i];

		cr_expect(xlb_service_equal(&x->svc, &y->svc), "%s",
			  svc_text(&x->svc));
		cr_expect_eq(x->hash, y->hash);
		cr_expect_eq(x->mode, y->mode);
		cr_expect_eq(x->mss, y->mss);
		cr_expect_eq(x->gue, y->gue);
		cr_expect_eq(x->table_size, y->table_size);
		cr_expect_eq(x->check.type, y->check.type);
		cr_expect_eq(x->check.interval_ms, y->check.interval_ms);
		cr_expect_eq(x->check.timeout_ms, y->check.timeout_ms);
		cr_expect_eq(x->check.port, y->check.port);
		cr_expect_str_eq(x->check.http_path, y->check.http_path);
		cr_expect_str_eq(x->check.udp_expect, y->check.udp_expect);
		cr_assert_eq(x->n_reals, y->n_reals);
		for (j = 0; j < x->n_reals; j++) {
			const struct xlb_real_spec *r = &x->reals[j];
			const struct xlb_real_spec *s = &y->reals[j];

			cr_expect(xlb_ip_equal(&r->ip, &s->ip));
			cr_expect_eq(r->weight, s->weight);
			cr_expect_eq(r->has_drain, s->has_drain);
			cr_expect_eq(r->drain, s->drain);
			cr_expect_eq(r->has_check, s->has_check);
			cr_expect_eq(r->check.type, s->check.type);
			cr_expect_eq(r->check.port, s->check.port);
			cr_expect_str_eq(r->check.http_path,
					 s->check.http_path);
		}
	}
}

/* config dump keeps vlans in the form it was given, and none as none. */
Test(config, write_vlans_reads_back)
{
	static const char *const texts[] = {
		"interfaces: [eth0, eth1]\n",
		"interfaces: [eth0, eth1]\nvlans: [1, 100, 4094]\n",
		"interfaces: [eth0, eth1]\nvlans: {eth0: [100, 4094], eth1: "
		"[]}\n",
	};
	struct xlb_config a, b;
	size_t i, k;
	char *text;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		parse_ok(texts[i], &a);
		text = write_text(&a);
		cr_expect_eq(strstr(text, "vlans") != NULL, i > 0, "%s", text);
		parse_ok(text, &b);
		cr_expect_eq(memcmp(a.vlans, b.vlans, sizeof(a.vlans)), 0, "%s",
			     text);
		cr_assert_eq(a.n_vlan_ifs, b.n_vlan_ifs, "%s", text);
		for (k = 0; k < a.n_vlan_ifs; k++) {
			cr_expect_str_eq(a.vlan_ifs[k].ifname,
					 b.vlan_ifs[k].ifname);
			cr_expect_eq(memcmp(a.vlan_ifs[k].vids,
					    b.vlan_ifs[k].vids,
					    sizeof(a.vlan_ifs[k].vids)),
				     0, "%s", text);
		}
		free(text);
		xlb_config_free(&a);
		xlb_config_free(&b);
	}
}

/*
 * lbctl config dump's writer: what it writes parses back to the same
 * model (settings, pool, VIPs, reals with drain states and checks), and
 * writing that again gives the same text.
 */
Test(config, write_reads_back)
{
	static const char extra[] =
		"gue_port: 7000\n"
		"flood_guard_rate: 5000\n"
		"icmp_rate: 20\n"
		"conntrack_timeouts: {tcp_syn: 30, tcp: 600, udp: 40}\n"
		"fullnat:\n"
		"  local_addresses: [10.97.0.1, \"fd00:97::1\"]\n"
		"  ports: 2000-60000\n"
		"  timeouts: {tcp: 100, tcp_syn: 5, tcp_closing: 3, udp: 7}\n"
		"routes: {protocol: 251, watch: [zebra, bgpd]}\n"
		"cluster:\n"
		"  node: n1\n"
		"  key_file: /etc/xlb/k\n"
		"  nodes:\n"
		"    - {name: n1, address: 10.90.1.2}\n"
		"    - {name: n2, address: 10.90.2.2, port: 7401,"
		" local_addresses: [10.97.1.1]}\n"
		"  - vip: 10.0.0.12:443/tcp\n"
		"    mode: fullnat\n"
		"    mss: 1400\n"
		"    reals:\n"
		"      - {address: 10.1.0.6, weight: 7, drain: true}\n"
		"      - {address: 10.1.0.7, drain: false}\n"
		"  - vip: \"[2001:db8::20]/udp\"\n"
		"    encap: gue\n"
		"    health: {type: udp, port: 53, send: \"a \\\"q\\\" \\\\ "
		"b\","
		" expect: \"\"}\n"
		"    reals: [\"2001:db8:1::9\"]\n";
	const char *vips, *cut;
	struct xlb_config a, b;
	char *text, *again, *in;

	/* The full example with the extra sections, the VIPs last. */
	vips = strstr(full_example, "vips:\n");
	cut = strstr(extra, "  - vip:");
	cr_assert(asprintf(&in, "%.*s%.*s%s%s", (int)(vips - full_example),
			   full_example, (int)(cut - extra), extra, vips,
			   cut) > 0);
	parse_ok(in, &a);
	cr_assert_eq(a.n_vips, 5);
	cr_expect(a.vips[3].reals[0].has_drain && a.vips[3].reals[0].drain);
	cr_expect(a.vips[3].reals[1].has_drain && !a.vips[3].reals[1].drain);
	cr_expect(!a.vips[0].reals[0].has_drain);
	text = write_text(&a);
	parse_ok(text, &b);
	expect_same_vips(&a, &b);
	cr_expect_eq(b.n_interfaces, 2);
	cr_expect_eq(b.xdp_mode, XLB_XDP_GENERIC);
	cr_expect_str_eq(b.socket_path, a.socket_path);
	cr_expect_str_eq(b.pin_path, a.pin_path);
	cr_expect_eq(b.ct_size, a.ct_size);
	cr_expect_eq(b.tun_src_v6_plen, 112);
	cr_expect(b.vips[4].gue, "encap: gue written back");
	cr_expect_eq(b.gue_port, 7000);
	cr_expect_eq(b.flood_guard_rate, 5000);
	cr_expect_eq(b.icmp_rate, 20);
	cr_expect_eq(b.ct_timeouts.tcp_syn_s, 30);
	cr_expect_eq(b.ct_timeouts.tcp_s, 600);
	cr_expect_eq(b.ct_timeouts.tcp_fin_s, a.ct_timeouts.tcp_fin_s);
	cr_expect_eq(b.ct_timeouts.udp_s, 40);
	cr_expect(b.has_gw_mac);
	cr_expect_eq(memcmp(b.gw_mac, a.gw_mac, 6), 0);
	cr_expect_str_eq(b.metrics_listen, "[::1]:9618");
	cr_expect_str_eq(b.control_cpus, "0-1,3");
	cr_expect_eq(b.nat.n_laddrs, 2);
	cr_expect_eq(b.nat.port_min, 2000);
	cr_expect_eq(b.nat.udp_s, 7);
	cr_expect(b.routes.enabled);
	cr_expect_eq(b.routes.protocol, 251);
	cr_expect_eq(b.routes.n_watch, 2);
	cr_expect(b.cluster.enabled);
	cr_expect_eq(b.cluster.n_nodes, 2);
	cr_expect_eq(b.cluster.nodes[1].port, 7401);
	cr_expect_eq(b.cluster.nodes[0].n_laddrs, 2, "this node: the pool");
	cr_expect_str_eq(b.vips[4].check.udp_send, "a \"q\" \\ b");
	again = write_text(&b);
	cr_expect_str_eq(again, text);
	free(again);
	free(text);
	free(in);
	xlb_config_free(&a);
	xlb_config_free(&b);
}

Test(config, drain_is_true_or_false)
{
	static const char text[] = "vips:\n"
				   "  - vip: 10.0.0.1:80/tcp\n"
				   "    reals:\n"
				   "      - {address: 10.1.0.2, drain: yes}\n";
	char err[XLB_ERR_LEN] = "";
	struct xlb_config cfg;

	cr_assert_eq(xlb_config_parse(text, strlen(text), NAME, &cfg, err,
				      sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, NAME ":4: drain: expected true or false, got "
				   "'yes'");
}

/* health.method: GET by default, HEAD when asked; a real's TCP check
 * does not keep its VIP's HEAD. */
Test(config, http_method)
{
	static const char text[] =
		"vips:\n  - vip: 10.0.0.1:80/tcp\n"
		"    health: {type: http, method: HEAD}\n"
		"    reals:\n      - 10.1.0.1\n"
		"      - {address: 10.1.0.2, health: {type: tcp}}\n"
		"  - vip: 10.0.0.2:80/tcp\n    health: http\n";
	char err[XLB_ERR_LEN] = "", *dump;
	struct xlb_config cfg;

	cr_assert_eq(xlb_config_parse(text, strlen(text), NAME, &cfg, err,
				      sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(cfg.vips[0].check.http_method, XLB_HTTP_HEAD);
	cr_expect_eq(cfg.vips[0].reals[1].check.http_method, XLB_HTTP_GET);
	cr_expect_eq(cfg.vips[1].check.http_method, XLB_HTTP_GET);
	/* config dump writes it back. */
	dump = write_text(&cfg);
	cr_expect(strstr(dump, "health: {type: http, method: HEAD}"), "%s",
		  dump);
	free(dump);
	xlb_config_free(&cfg);
}

/* Every setting that is not a plain value has a reader in the loader:
 * given a list, each answers with a reason of its own. */
Test(config, every_setting_is_read)
{
	const struct xlb_setting *all, *s;
	char text[512], err[XLB_ERR_LEN];
	struct xlb_config cfg;
	const char *sect;
	size_t n, i;

	all = xlb_settings(&n);
	for (i = 0; i < n; i++) {
		s = &all[i];
		if (s->type != XLB_SET_CUSTOM && s->type != XLB_SET_SECTION)
			continue;
		sect = s->section;
		if (!strcmp(sect, "cluster.nodes"))
			snprintf(text, sizeof(text),
				 "cluster: {nodes: [{%s: []}]}\n", s->key);
		else if (!strcmp(sect, "vips"))
			snprintf(text, sizeof(text),
				 "vips: [{vip: 10.0.0.1:80/tcp, %s: []}]\n",
				 s->key);
		else if (!strcmp(sect, "reals"))
			snprintf(text, sizeof(text),
				 "vips: [{vip: 10.0.0.1:80/tcp, reals: "
				 "[{%s: []}]}]\n",
				 s->key);
		else if (!strcmp(sect, "health"))
			snprintf(text, sizeof(text),
				 "vips: [{vip: 10.0.0.1:80/tcp, health: "
				 "{type: http, %s: []}}]\n",
				 s->key);
		else if (sect[0])
			snprintf(text, sizeof(text), "%s: {%s: []}\n", sect,
				 s->key);
		else
			snprintf(text, sizeof(text), "%s: []\n", s->key);
		err[0] = '\0';
		xlb_config_parse(text, strlen(text), NAME, &cfg, err,
				 sizeof(err));
		cr_expect_null(strstr(err, "no reader"), "%s", err);
		xlb_config_free(&cfg);
	}
}
