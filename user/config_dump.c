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

#include "xlb.h"

static const char *const check_names[] = {
	[XLB_CHECK_NONE] = "none",
	[XLB_CHECK_TCP] = "tcp",
	[XLB_CHECK_HTTP] = "http",
	[XLB_CHECK_UDP] = "udp",
};

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

/* A check as a flow mapping: every key of its type. */
static void put_check(FILE *f, const struct xlb_check_spec *c)
{
	size_t i;

	if (c->type == XLB_CHECK_NONE || c->type > XLB_CHECK_UDP) {
		fputs("none", f);
		return;
	}
	/* 0: not set, the check's default (docs/CONFIG.md). */
	fprintf(f, "{type: %s", check_names[c->type]);
	if (c->interval_ms)
		fprintf(f, ", interval: %u", c->interval_ms);
	if (c->timeout_ms)
		fprintf(f, ", timeout: %u", c->timeout_ms);
	if (c->rise)
		fprintf(f, ", rise: %u", c->rise);
	if (c->fall)
		fprintf(f, ", fall: %u", c->fall);
	if (c->addr.family) {
		fputs(", address: ", f);
		put_ip(f, &c->addr);
	}
	if (c->port)
		fprintf(f, ", port: %u", c->port);
	if (c->through == XLB_CHECK_PATH_DATAPATH)
		fputs(", through: datapath", f);
	else if (c->through == XLB_CHECK_PATH_DIRECT)
		fputs(", through: direct", f);
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

	fprintf(f,
		"routes:\n  protocol: %u\n  table: %u\n  metric: %u\n"
		"  backup_metric: %u\n  frr_run_dir: ",
		r->protocol, r->table, r->metric, r->backup_metric);
	put_str(f, r->frr_run_dir);
	fputs("\n  watch: [", f);
	for (i = 0; i < r->n_watch; i++) {
		if (i)
			fputs(", ", f);
		put_str(f, r->watch[i]);
	}
	fprintf(f, "]\n  watch_interval_ms: %u\n", r->watch_interval_ms);
}

static void put_cluster(FILE *f, const struct xlb_cluster_config *cl)
{
	const struct xlb_node_spec *n;
	size_t i;

	fputs("cluster:\n  node: ", f);
	put_str(f, cl->node);
	fputs("\n  key_file: ", f);
	put_str(f, cl->key_file);
	fprintf(f,
		"\n  port: %u\n  batch_ms: %u\n  preonline_timeout_ms: %u\n"
		"  drain_idle_ms: %u\n  replay_window_s: %u\n  nodes:\n",
		cl->port, cl->batch_ms, cl->preonline_timeout_ms,
		cl->drain_idle_ms, cl->replay_window_s);
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
	fprintf(f,
		"\n    hash: %s\n    table_size: %u\n    mode: %s\n"
		"    encap: %s\n",
		xlb_hash_mode_str(v->hash), v->table_size,
		xlb_fwd_mode_str(v->mode), v->gue ? "gue" : "ipip");
	if (v->mss)
		fprintf(f, "    mss: %u\n", v->mss);
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
	fprintf(f, "xdp_mode: %s\nsocket: ",
		cfg->xdp_mode == XLB_XDP_GENERIC ? "generic" : "native");
	put_str(f, cfg->socket_path);
	fputs("\npin_path: ", f);
	put_str(f, cfg->pin_path);
	fprintf(f, "\nconntrack_size: %u\nmax_vips: %u\nmax_reals: %u\n",
		cfg->ct_size, cfg->max_vips, cfg->max_reals);
	fprintf(f,
		"conntrack_timeouts: {tcp_syn: %u, tcp: %u, tcp_fin: %u, "
		"tcp_closing: %u, udp: %u}\n",
		cfg->ct_timeouts.tcp_syn_s, cfg->ct_timeouts.tcp_s,
		cfg->ct_timeouts.tcp_fin_s, cfg->ct_timeouts.tcp_closing_s,
		cfg->ct_timeouts.udp_s);
	fprintf(f, "flood_guard_rate: %u\nicmp_rate: %u\n",
		cfg->flood_guard_rate, cfg->icmp_rate);
	put_vlans(f, cfg);
	fprintf(f, "tunnel_source:\n  ipv4: \"%s/%d\"\n",
		xlb_ip_str(&cfg->tun_src_v4, buf, sizeof(buf)),
		cfg->tun_src_v4_plen);
	fprintf(f, "  ipv6: \"%s/%d\"\n",
		xlb_ip_str(&cfg->tun_src_v6, buf, sizeof(buf)),
		cfg->tun_src_v6_plen);
	fprintf(f, "gue_port: %u\n", cfg->gue_port);
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
	fprintf(f,
		"\n  ports: %u-%u\n  sessions: %u\n"
		"  timeouts: {tcp: %u, tcp_syn: %u, tcp_closing: %u, udp: %u}\n"
		"  gc_interval_ms: %u\n",
		nat->port_min, nat->port_max, nat->sessions, nat->tcp_s,
		nat->tcp_syn_s, nat->tcp_closing_s, nat->udp_s,
		nat->gc_interval_ms);
	if (!cfg->n_vips) {
		fputs("vips: []\n", f);
	} else {
		fputs("vips:\n", f);
		for (i = 0; i < cfg->n_vips; i++)
			put_vip(f, &cfg->vips[i]);
	}
	return ferror(f) ? -EIO : 0;
}
