// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The configuration model written back as a file that config.c reads
 * (docs/CONFIG.md): what `lbctl config dump` prints of the running node,
 * so that `xlbd --config` on it gives the same VIPs, reals and settings.
 * Every value is written, defaults included, so that the file does not
 * depend on the defaults of the xlbd that reads it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"
#include "xlb.h"

/* A double-quoted YAML scalar: any text reads back as written. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_ip(FILE *f, const struct xlb_ip *ip)
{
	char buf[XLB_IP_STRLEN];

	put_str(f, xlb_ip_str(ip, buf, sizeof(buf)));
}

static void put_ips(FILE *f, const struct xlb_ip *ips, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		put_ip(f, &ips[i]);
	}
	fputc(']', f);
}

/*
 * The plain settings of section in obj (settings.h), each as "key: value":
 * with indent, one a line; without, as the items of a flow mapping (the
 * first without a comma). skip_zero leaves out those at 0 (a check's "not
 * set", an MSS clamp that is off).
 */
static void put_plain(FILE *f, const char *section, const void *obj,
		      const char *indent, bool skip_zero)
{
	const struct xlb_setting *all, *s;
	size_t i, n, put = 0;
	uint32_t v;

	all = xlb_settings(&n);
	for (i = 0; i < n; i++) {
		s = &all[i];
		if (!s->size || strcmp(s->section, section))
			continue;
		v = xlb_setting_load(s, obj);
		/* A VIP's choices are written even at 0 (maglev, tunnel). */
		if (skip_zero && !v &&
		    (s->type != XLB_SET_ENUM || s->scope == XLB_SCOPE_CHECK))
			continue;
		fprintf(f, "%s%s: ", indent ? indent : put ? ", " : "", s->key);
		if (s->type == XLB_SET_PATH || s->type == XLB_SET_NAME)
			put_str(f, (const char *)obj + s->offset);
		else if (s->type == XLB_SET_ENUM)
			fputs(xlb_setting_choice_name(s, v) ?: "?", f);
		else if (s->type == XLB_SET_BOOL)
			fputs(v ? "true" : "false", f);
		else
			fprintf(f, "%u", v);
		if (indent)
			fputc('\n', f);
		put++;
	}
}

/* A check as a flow mapping: every key of its type. */
static void put_check(FILE *f, const struct xlb_check_spec *c)
{
	size_t i;

	if (c->type == XLB_CHECK_NONE || c->type > XLB_CHECK_UDP) {
		fputs("none", f);
		return;
	}
	/* 0: not set, the check's default (docs/CONFIG.md). */
	fputc('{', f);
	put_plain(f, "health", c, NULL, true);
	if (c->addr.family) {
		fputs(", address: ", f);
		put_ip(f, &c->addr);
	}
	if (c->type == XLB_CHECK_HTTP) {
		if (c->http_path[0]) {
			fputs(", path: ", f);
			put_str(f, c->http_path);
		}
		if (c->http_host[0]) {
			fputs(", host: ", f);
			put_str(f, c->http_host);
		}
		if (c->n_http_codes) {
			fputs(", codes: [", f);
			for (i = 0; i < c->n_http_codes; i++)
				fprintf(f, "%s%u", i ? ", " : "",
					c->http_codes[i]);
			fputc(']', f);
		}
	}
	if (c->type == XLB_CHECK_UDP) {
		fputs(", send: ", f);
		put_str(f, c->udp_send);
		fputs(", expect: ", f);
		put_str(f, c->udp_expect);
	}
	fputc('}', f);
}

static void put_routes(FILE *f, const struct xlb_routes_config *r)
{
	size_t i;

	fputs("routes:\n", f);
	put_plain(f, "routes", r, "  ", false);
	fputs("  watch: [", f);
	for (i = 0; i < r->n_watch; i++) {
		if (i)
			fputs(", ", f);
		put_str(f, r->watch[i]);
	}
	fputs("]\n", f);
}

static void put_cluster(FILE *f, const struct xlb_cluster_config *cl)
{
	const struct xlb_node_spec *n;
	size_t i;

	fputs("cluster:\n", f);
	put_plain(f, "cluster", cl, "  ", false);
	fputs("  nodes:\n", f);
	for (i = 0; i < cl->n_nodes; i++) {
		n = &cl->nodes[i];
		fputs("    - {name: ", f);
		put_str(f, n->name);
		fputs(", address: ", f);
		put_ip(f, &n->addr);
		fprintf(f, ", port: %u", n->port);
		/* This node's pool is fullnat.local_addresses. */
		if (i != cl->self) {
			fputs(", local_addresses: ", f);
			put_ips(f, n->laddrs, n->n_laddrs);
		}
		fputs("}\n", f);
	}
}

static void put_vip(FILE *f, const struct xlb_vip_spec *v)
{
	char buf[XLB_SERVICE_STRLEN];
	const struct xlb_real_spec *r;
	size_t i;

	fputs("  - vip: ", f);
	put_str(f, xlb_service_str(&v->svc, buf, sizeof(buf)));
	fputc('\n', f);
	put_plain(f, "vips", v, "    ", true);
	if (v->check.type != XLB_CHECK_NONE) {
		fputs("    health: ", f);
		put_check(f, &v->check);
		fputc('\n', f);
	}
	if (!v->n_reals)
		return;
	fputs("    reals:\n", f);
	for (i = 0; i < v->n_reals; i++) {
		r = &v->reals[i];
		fputs("      - {address: ", f);
		put_ip(f, &r->ip);
		fprintf(f, ", weight: %u", r->weight);
		/* Left out, a running real keeps its drain state. */
		if (r->has_drain)
			fprintf(f, ", drain: %s", r->drain ? "true" : "false");
		if (r->has_check) {
			fputs(", health: ", f);
			put_check(f, &r->check);
		}
		fputs("}\n", f);
	}
}

/* A VLAN bitmap as a flow list of ids. */
static void put_vids(FILE *f, const uint64_t *vids)
{
	bool first = true;
	unsigned int vid;

	for (vid = 1; vid < XLB_VLAN_WORDS * 64; vid++) {
		if (!(vids[vid / 64] >> (vid % 64) & 1))
			continue;
		fprintf(f, first ? "[%u" : ", %u", vid);
		first = false;
	}
	fputs(first ? "[]" : "]", f);
}

/* vlans: the list form, or the mapping form by interface; none: nothing. */
static void put_vlans(FILE *f, const struct xlb_config *cfg)
{
	size_t i, w;

	if (!cfg->n_vlan_ifs) {
		for (w = 0; w < XLB_VLAN_WORDS && !cfg->vlans[w]; w++)
			;
		if (w == XLB_VLAN_WORDS)
			return;
		fputs("vlans: ", f);
		put_vids(f, cfg->vlans);
		fputc('\n', f);
		return;
	}
	fputs("vlans:\n", f);
	for (i = 0; i < cfg->n_vlan_ifs; i++) {
		fputs("  ", f);
		put_str(f, cfg->vlan_ifs[i].ifname);
		fputs(": ", f);
		put_vids(f, cfg->vlan_ifs[i].vids);
		fputc('\n', f);
	}
}

int xlb_config_write(FILE *f, const struct xlb_config *cfg)
{
	const struct xlb_nat_config *nat = &cfg->nat;
	char buf[XLB_IP_STRLEN];
	size_t i;

	if (cfg->n_interfaces) {
		fputs("interfaces: [", f);
		for (i = 0; i < cfg->n_interfaces; i++) {
			if (i)
				fputs(", ", f);
			put_str(f, cfg->interfaces[i]);
		}
		fputs("]\n", f);
	}
	put_plain(f, "", cfg, "", false);
	fputs("conntrack_timeouts:\n", f);
	put_plain(f, "conntrack_timeouts", cfg, "  ", false);
	put_vlans(f, cfg);
	fprintf(f, "tunnel_source:\n  ipv4: \"%s/%d\"\n",
		xlb_ip_str(&cfg->tun_src_v4, buf, sizeof(buf)),
		cfg->tun_src_v4_plen);
	fprintf(f, "  ipv6: \"%s/%d\"\n",
		xlb_ip_str(&cfg->tun_src_v6, buf, sizeof(buf)),
		cfg->tun_src_v6_plen);
	if (cfg->has_gw_mac)
		fprintf(f, "gateway_mac: \"%02x:%02x:%02x:%02x:%02x:%02x\"\n",
			cfg->gw_mac[0], cfg->gw_mac[1], cfg->gw_mac[2],
			cfg->gw_mac[3], cfg->gw_mac[4], cfg->gw_mac[5]);
	fputs("metrics: ", f);
	if (cfg->metrics_listen[0])
		put_str(f, cfg->metrics_listen);
	else
		fputs("off", f);
	fputc('\n', f);
	if (cfg->control_cpus[0]) {
		fputs("control_cpus: ", f);
		put_str(f, cfg->control_cpus);
		fputc('\n', f);
	}
	if (cfg->routes.enabled)
		put_routes(f, &cfg->routes);
	if (cfg->cluster.enabled)
		put_cluster(f, &cfg->cluster);
	fputs("fullnat:\n  local_addresses: ", f);
	put_ips(f, nat->laddrs, nat->n_laddrs);
	fprintf(f, "\n  ports: %u-%u\n", nat->port_min, nat->port_max);
	put_plain(f, "fullnat", nat, "  ", false);
	fputs("  timeouts:\n", f);
	put_plain(f, "fullnat.timeouts", nat, "    ", false);
	if (!cfg->n_vips) {
		fputs("vips: []\n", f);
	} else {
		fputs("vips:\n", f);
		for (i = 0; i < cfg->n_vips; i++)
			put_vip(f, &cfg->vips[i]);
	}
	return ferror(f) ? -EIO : 0;
}
