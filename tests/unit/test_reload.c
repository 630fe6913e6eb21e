// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reload and reconcile over the real BPF object (loaded, never attached;
 * root): what a reload replies, what its errors name, and that a reload
 * failing part-way leaves the running state as it was.
 */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "maps.h"
#include "reload.h"
#include "xlb.h"

static struct xlb_dp *dp;
static struct xlb_agent *agent;
static char err[XLB_ERR_LEN];
static struct xlb_config cfg_none;

static void setup(void)
{
	struct xlb_dp_opts opts = {
		.max_vips = 16,
		.max_reals = 64,
		.ct_size = 1024,
		.nat_sessions = 4096,
	};

	cr_assert_eq(xlb_dp_open(&opts, &dp, err, sizeof(err)), 0,
		     "xlb_dp_open: %s", err);
	cr_assert_eq(xlb_agent_new(dp, &agent), 0);
}

static void teardown(void)
{
	xlb_agent_free(agent);
	xlb_dp_close(dp, true);
	agent = NULL;
	dp = NULL;
}

static void parse(const char *text, struct xlb_config *cfg)
{
	cr_assert_eq(xlb_config_parse(text, strlen(text), "t", cfg, err,
				      sizeof(err)),
		     0, "%s", err);
}

/* jansson's allocations, counted: what is taken and not given back. */
static long live;

static void *count_malloc(size_t n)
{
	live++;
	return malloc(n);
}

static void count_free(void *p)
{
	if (p)
		live--;
	free(p);
}

Test(reload, reply_gives_back_what_it_takes)
{
	struct xlb_reconcile_stats st = {.vips_added = 1, .laddrs_added = 2};
	json_t *r;

	json_set_alloc_funcs(count_malloc, count_free);
	live = 0;
	r = xlb_reconcile_json(&st);
	cr_assert_not_null(r);
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(r, "changes"), "vips_added")),
		     1);
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(r, "changes"), "laddrs_added")),
		     2);
	json_decref(r);
	cr_expect_eq(live, 0, "%ld allocations of a reply never freed", live);
	json_set_alloc_funcs(malloc, free);
}

Test(reconcile, error_names_the_vip_that_failed, .init = setup,
     .fini = teardown)
{
	static const char text[] = "vips:\n"
				   "  - vip: 10.0.0.10:80/tcp\n"
				   "    reals: [10.1.0.2]\n"
				   "  - vip: 10.0.0.11:80/tcp\n"
				   "    reals: [10.1.0.3]\n";
	struct xlb_reconcile_stats st;
	struct xlb_config cfg;

	parse(text, &cfg);
	cr_assert_eq(xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)), 0,
		     "%s", err);
	/* An MSS out of range, refused by the model for the first VIP
	 * (the file's checks would have refused it earlier). */
	cfg.vips[0].mss = 10;
	cr_assert_neq(xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)),
		      0);
	xlb_config_free(&cfg);
	cr_expect(strstr(err, "VIP 10.0.0.10:80/tcp: ") == err, "%s", err);
	cr_expect(!strstr(err, "10.0.0.11"), "%s", err);
}

/* ---- All or nothing ------------------------------------------------- */

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_ip(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_ip));
}

struct lines {
	char *v[512];
	size_t n;
};

static void line(struct lines *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void line(struct lines *l, const char *fmt, ...)
{
	va_list ap;

	cr_assert_lt(l->n, sizeof(l->v) / sizeof(l->v[0]));
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&l->v[l->n++], fmt, ap), 0);
	va_end(ap);
}

static const char *real_addr(uint32_t id, char *buf, size_t len)
{
	struct xlb_real r;
	struct xlb_ip ip = {0};

	if (id == XLB_REAL_NONE)
		return "none";
	cr_assert_eq(xlb_dp_real_get(dp, id, &r), 0);
	ip.family = r.family;
	ip.a = r.addr;
	return xlb_ip_str(&ip, buf, len);
}

static void ring_lines(struct lines *l, const char *vip, uint32_t vip_id)
{
	int outer = xlb_dp_map_fd(dp, "rings"), fd;
	char text[2048] = "", buf[XLB_IP_STRLEN];
	uint32_t inner_id, m, i, id;
	size_t len = 0;

	if (bpf_map_lookup_elem(outer, &vip_id, &inner_id)) {
		line(l, "ring %s: none", vip);
		return;
	}
	fd = bpf_map_get_fd_by_id(inner_id);
	cr_assert_geq(fd, 0);
	i = XLB_RING_SLOT_SIZE;
	cr_assert_eq(bpf_map_lookup_elem(fd, &i, &m), 0);
	for (i = 1; i <= m && len < sizeof(text) - 64; i++) {
		cr_assert_eq(bpf_map_lookup_elem(fd, &i, &id), 0);
		len += (size_t)snprintf(text + len, sizeof(text) - len, " %s",
					real_addr(id, buf, sizeof(buf)));
	}
	close(fd);
	line(l, "ring %s:%s", vip, text);
}

struct vip_walk {
	struct lines *l;
};

static int vip_line(const struct xlb_vip_key *key,
		    const struct xlb_vip_meta *meta, void *arg)
{
	struct vip_walk *w = arg;
	struct xlb_service svc = {0};
	char buf[XLB_SERVICE_STRLEN];

	svc.ip.family = key->family;
	svc.ip.a = key->addr;
	svc.port = ntohs(key->port);
	svc.proto = key->proto;
	xlb_service_str(&svc, buf, sizeof(buf));
	line(w->l, "vips[%s] flags %#x mss %u", buf, meta->flags, meta->mss);
	ring_lines(w->l, buf, meta->vip_id);
	return 0;
}

/*
 * The running state as sorted lines: the model written as a file, and
 * what the maps hold (globals, VIPs, their rings by real address, reals,
 * VIP addresses, the local pool), ids left out: a VIP or real that is put
 * back may get another id.
 */
static char *state_text(const struct xlb_config *base)
{
	struct xlb_config run = *base;
	struct vip_walk w;
	struct lines l = {.n = 0};
	struct xlb_real_view *v;
	struct xlb_vip_addr_key ak, *prev = NULL;
	struct xlb_globals g;
	struct xlb_real r;
	char *text = NULL, *tok, *save, vbuf[XLB_SERVICE_STRLEN],
	     ibuf[XLB_IP_STRLEN];
	size_t n, i, len = 0;
	FILE *f;
	uint32_t val;
	int fd;

	w.l = &l;
	run.vips = NULL;
	run.n_vips = 0;
	cr_assert_eq(xlb_agent_running_config(agent, &run), 0);
	/* The pool as a set: a reconcile fills the slots it frees in its
	 * own order (new flows pick among them by hash). */
	qsort(run.nat.laddrs, run.nat.n_laddrs, sizeof(run.nat.laddrs[0]),
	      cmp_ip);
	f = open_memstream(&text, &len);
	cr_assert_eq(xlb_config_write(f, &run), 0);
	fclose(f);
	for (tok = strtok_r(text, "\n", &save); tok;
	     tok = strtok_r(NULL, "\n", &save))
		line(&l, "config %s", tok);
	free(text);
	for (i = 0; i < run.n_vips; i++)
		free(run.vips[i].reals);
	free(run.vips);

	cr_assert_eq(xlb_dp_get_globals(dp, &g), 0);
	text = calloc(1, 2 * sizeof(g) + 1);
	for (i = 0; i < sizeof(g); i++)
		sprintf(text + 2 * i, "%02x", ((uint8_t *)&g)[i]);
	line(&l, "globals %s", text);
	free(text);

	cr_assert_eq(xlb_dp_vips_dump(dp, vip_line, &w), 0);
	cr_assert_eq(xlb_agent_reals(agent, &v, &n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(xlb_dp_real_get(dp, v[i].id, &r), 0);
		line(&l, "reals[%s of %s] weight %u admin %#x flags %#x",
		     xlb_ip_str(&v[i].ip, ibuf, sizeof(ibuf)),
		     xlb_service_str(&v[i].svc, vbuf, sizeof(vbuf)), r.weight,
		     r.admin, r.flags);
	}
	free(v);
	fd = xlb_dp_map_fd(dp, "vip_addrs");
	cr_assert_geq(fd, 0);
	while (!bpf_map_get_next_key(fd, prev, &ak)) {
		struct xlb_ip ip = {.family = ak.family, .a = ak.addr};

		cr_assert_eq(bpf_map_lookup_elem(fd, &ak, &val), 0);
		line(&l, "vip_addrs[%s] %#x",
		     xlb_ip_str(&ip, ibuf, sizeof(ibuf)), val);
		prev = &ak;
	}
	for (i = 0; i < g.nat_laddrs[0] + g.nat_laddrs[1]; i++) {
		int fam = i < g.nat_laddrs[0] ? AF_INET : AF_INET6;
		uint32_t slot = fam == AF_INET ? i : i - g.nat_laddrs[0];
		struct xlb_ip ip = {.family = fam};

		cr_assert_eq(xlb_dp_nat_laddr_get(dp, fam, slot, &ip.a), 0);
		(void)slot;
		line(&l, "nat_laddrs[%d] %s", fam,
		     xlb_ip_str(&ip, ibuf, sizeof(ibuf)));
	}

	qsort(l.v, l.n, sizeof(l.v[0]), cmp_line);
	for (len = 1, i = 0; i < l.n; i++)
		len += strlen(l.v[i]) + 1;
	text = calloc(1, len);
	for (i = 0; i < l.n; i++) {
		strcat(text, l.v[i]);
		strcat(text, "\n");
		free(l.v[i]);
	}
	return text;
}

/*
 * A file that changes the globals, the local pool and several VIPs (one
 * goes, one comes, others change reals, weights, drain, mode and
 * encapsulation), applied with each of its writes failing in turn: every
 * time the reload fails, names the failure, and leaves the state as it
 * was; then it applies whole.
 */
Test(reload, a_failing_write_changes_nothing, .init = setup, .fini = teardown)
{
	static const char a[] = "fullnat:\n"
				"  local_addresses: [10.97.0.1, 10.97.0.2]\n"
				"  ports: 2000-9999\n"
				"  timeouts: {udp: 7}\n"
				"icmp_rate: 100\n"
				"vips:\n"
				"  - vip: 10.0.0.10:80/tcp\n"
				"    table_size: 13\n"
				"    reals: [10.1.0.2, 10.1.0.3]\n"
				"  - vip: 10.0.0.11:80/tcp\n"
				"    table_size: 13\n"
				"    mode: fullnat\n"
				"    reals:\n"
				"      - {address: 10.1.0.4, weight: 5}\n"
				"      - {address: 10.1.0.5, drain: true}\n"
				"  - vip: 10.0.0.12:53/udp\n"
				"    table_size: 13\n"
				"    reals: [10.1.0.6]\n";
	static const char b[] = "fullnat:\n"
				"  local_addresses: [10.97.0.2, 10.97.0.3]\n"
				"  ports: 3000-9999\n"
				"  timeouts: {udp: 9}\n"
				"icmp_rate: 200\n"
				"gue_port: 7000\n"
				"vips:\n"
				"  - vip: 10.0.0.10:80/tcp\n"
				"    table_size: 13\n"
				"    encap: gue\n"
				"    reals: [10.1.0.3, 10.1.0.7, 2001:db8::2]\n"
				"  - vip: 10.0.0.11:80/tcp\n"
				"    table_size: 17\n"
				"    reals:\n"
				"      - {address: 10.1.0.4, weight: 9}\n"
				"      - {address: 10.1.0.5, drain: false}\n"
				"  - vip: 10.0.0.13:80/tcp\n"
				"    table_size: 13\n"
				"    reals: [10.1.0.8]\n";
	struct xlb_reconcile_stats st;
	struct xlb_config ca, cb;
	char *before, *after, *applied;
	uint64_t writes, nth;

	parse(a, &ca);
	parse(b, &cb);
	xlb_config_defaults(&cfg_none);
	cr_assert_eq(
		xlb_reload_apply(agent, &cfg_none, &ca, &st, err, sizeof(err)),
		0, "%s", err);
	before = state_text(&ca);
	xlb_dp_fail_write(dp, 0);
	cr_assert_eq(xlb_reload_apply(agent, &ca, &cb, &st, err, sizeof(err)),
		     0, "%s", err);
	writes = xlb_dp_fail_write(dp, 0);
	applied = state_text(&cb);
	cr_assert_str_neq(applied, before);
	cr_assert_eq(xlb_reload_apply(agent, &cb, &ca, &st, err, sizeof(err)),
		     0, "%s", err);
	after = state_text(&ca);
	cr_assert_str_eq(after, before,
			 "a round trip changes the state:\n%s\n---\n%s", before,
			 after);
	free(after);
	cr_assert_gt(writes, 5, "%llu writes", (unsigned long long)writes);
	cr_log_info("%llu writes that can fail", (unsigned long long)writes);

	for (nth = 1; nth <= writes; nth++) {
		xlb_dp_fail_write(dp, nth);
		err[0] = '\0';
		cr_expect_neq(xlb_reload_apply(agent, &ca, &cb, &st, err,
					       sizeof(err)),
			      0, "write %llu of %llu failing: reload succeeded",
			      (unsigned long long)nth,
			      (unsigned long long)writes);
		cr_expect(strstr(err, "Input/output error"), "write %llu: %s",
			  (unsigned long long)nth, err);
		cr_expect(!strstr(err, "restoring"), "write %llu: %s",
			  (unsigned long long)nth, err);
		xlb_dp_fail_write(dp, 0);
		after = state_text(&ca);
		cr_expect_str_eq(after, before,
				 "write %llu of %llu failing left another "
				 "state",
				 (unsigned long long)nth,
				 (unsigned long long)writes);
		free(after);
	}

	cr_assert_eq(xlb_reload_apply(agent, &ca, &cb, &st, err, sizeof(err)),
		     0, "%s", err);
	after = state_text(&cb);
	cr_expect_str_eq(after, applied);
	free(after);
	free(applied);
	free(before);
	xlb_config_free(&ca);
	xlb_config_free(&cb);
	xlb_config_free(&cfg_none);
}

/*
 * The settings a reload may not change are the settings table's restart
 * marks: each such change is named as "section.key", any other change
 * and no change pass.
 */
/* Change number i of the case list below in c. */
static void restart_change(int i, struct xlb_config *c)
{
	switch (i) {
	case 1:
		c->icmp_rate = 7;
		break;
	case 2:
		c->nat.tcp_s = 42;
		break;
	case 3:
		c->ct_size = 4096;
		break;
	case 4:
		c->flood_guard_rate = 7;
		break;
	case 5:
		strcpy(c->socket_path, "/run/other.sock");
		break;
	case 6:
		strcpy(c->metrics_listen, "127.0.0.1:9");
		break;
	case 7:
		c->nat.sessions = 4096;
		break;
	case 8:
		c->routes.protocol = 99;
		break;
	case 9:
		c->cluster.batch_ms = 99;
		break;
	}
}

Test(reload, restart_only_settings_come_from_the_table)
{
	/* What each change of restart_change() is named, NULL: none. */
	static const char *const want[] = {
		NULL,
		NULL,
		NULL,
		"conntrack_size",
		"flood_guard_rate",
		"socket",
		"metrics",
		"fullnat.sessions",
		"routes",
		"cluster",
	};
	struct xlb_config a, b;
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		xlb_config_defaults(&a);
		xlb_config_defaults(&b);
		restart_change((int)i, &b);
		got = xlb_restart_only_change(&a, &b);
		if (want[i])
			cr_expect_str_eq(got ? got : "(none)", want[i],
					 "case %zu", i);
		else
			cr_expect_null(got, "case %zu: %s", i, got);
		xlb_config_free(&a);
		xlb_config_free(&b);
	}
}
