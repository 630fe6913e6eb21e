// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Figure 5: the control plane.
 *
 * Applying 1000 VIPs x 10 reals the way `xlbd --config` does at start:
 * a YAML file of that size parsed by config.c (xlb_config_parse) and
 * applied by state.c (xlb_agent_set_globals, xlb_agent_reconcile) to a
 * freshly opened data plane, every Maglev ring (M = 65537) built and
 * published. Timed from
 * the text to the last map write. Baseline, same runs, fresh maps too:
 * the same final map contents written directly (vips, vip_addrs, reals,
 * one ring array per VIP created and batch-filled once), i.e. the least
 * any agent must write.
 *
 * A real's failure to its removal from its VIP's ring: the health checker
 * (user/health.c) in an epoll loop as xlbd runs it, TCP connect checks
 * every CP_HC_INTERVAL ms with fall 3, its callback calling
 * xlb_real_set_health() as xlbd's does. Two reals listen on addresses of
 * a private namespace; a failure is one real's listening socket closing
 * (connects are refused from then on), the removal the callback having
 * published the ring without it. Baseline: what the settings promise,
 * fall x interval.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "health.h"
#include "loop.h"

#define CP_VIPS	       1000
#define CP_REALS       10
#define CP_M	       XLB_RING_SIZE_DEFAULT

#define CP_HC_INTERVAL 100 /* ms */
#define CP_HC_TIMEOUT  50
#define CP_HC_FALL     3
#define CP_HC_RISE     2
#define CP_HC_REAL1    0x0a090002 /* 10.9.0.2, the one that fails */

/* VIP i: 10.(100 + i / 250).(i % 250).1:80/tcp; real j of VIP i:
 * 10.1.(i % 250).(10 + j). */
static uint32_t vip_addr(int i)
{
	return 0x0a000001 | (100 + i / 250) << 16 | (i % 250) << 8;
}

static uint32_t real_addr(int i, int j)
{
	return 0x0a010000 | (i % 250) << 8 | (10 + j);
}

static const char *ip4(uint32_t host, char *buf)
{
	struct in_addr a = {.s_addr = htonl(host)};

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The configuration file's text. */
static char *config_text(size_t *len)
{
	size_t cap = CP_VIPS * (64 + CP_REALS * 24) + 256;
	char *t = malloc(cap), a[INET_ADDRSTRLEN];
	size_t n;
	int i, j;

	if (!t)
		return NULL;
	n = snprintf(t, cap,
		     "conntrack_size: 4096\nmax_vips: %d\nmax_reals: %d\n"
		     "vips:\n",
		     CP_VIPS + 24, CP_VIPS * CP_REALS + 1024);
	for (i = 0; i < CP_VIPS; i++) {
		n += snprintf(t + n, cap - n,
			      "  - vip: %s:80/tcp\n    reals: [",
			      ip4(vip_addr(i), a));
		for (j = 0; j < CP_REALS; j++)
			n += snprintf(t + n, cap - n, "%s%s", j ? ", " : "",
				      ip4(real_addr(i, j), a));
		n += snprintf(t + n, cap - n, "]\n");
	}
	*len = n;
	return t;
}

/* Open a data plane sized as the file says. */
static int open_dp(const struct xlb_config *cfg, struct xlb_dp **dp)
{
	struct xlb_dp_opts opts = {
		.max_vips = cfg->max_vips,
		.max_reals = cfg->max_reals,
		.ct_size = cfg->ct_size,
	};
	char err[XLB_ERR_LEN];
	int ret = xlb_dp_open(&opts, dp, err, sizeof(err));

	if (ret)
		fprintf(stderr, "xlb-bench control: %s\n", err);
	return ret;
}

/* Parse and apply through the agent; seconds, or NAN. */
static double apply_agent(const char *text, size_t len)
{
	struct xlb_reconcile_stats st;
	struct xlb_agent *agent = NULL;
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;
	struct xlb_dp *dp = NULL;
	double s = NAN;
	uint64_t t0;

	/* The map sizes come from the file: read them first, untimed. */
	if (xlb_config_parse(text, len, "bench.yaml", &cfg, err, sizeof(err))) {
		fprintf(stderr, "xlb-bench control: %s\n", err);
		return NAN;
	}
	if (open_dp(&cfg, &dp) || xlb_agent_new(dp, &agent))
		goto out;
	xlb_config_free(&cfg);
	t0 = bench_now_ns();
	if (xlb_config_parse(text, len, "bench.yaml", &cfg, err, sizeof(err)) ||
	    xlb_agent_set_globals(agent, &cfg) ||
	    xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err))) {
		fprintf(stderr, "xlb-bench control: %s\n", err);
		goto out;
	}
	s = (bench_now_ns() - t0) / 1e9;
out:
	xlb_config_free(&cfg);
	xlb_agent_free(agent);
	xlb_dp_close(dp, true);
	return s;
}

/* Write the same final state directly; seconds, or NAN. */
static double apply_plain(const char *text, size_t len)
{
	LIBBPF_OPTS(bpf_map_create_opts, copts, .map_flags = BPF_F_INNER_MAP);
	uint32_t *keys = malloc((CP_M + 1) * sizeof(*keys));
	uint32_t *vals = malloc((CP_M + 1) * sizeof(*vals));
	int vips, addrs, reals, rings, fd, i, j, k;
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;
	struct xlb_dp *dp = NULL;
	double s = NAN;
	uint32_t id, count, one = 1;
	uint64_t t0;

	if (!keys || !vals ||
	    xlb_config_parse(text, len, "bench.yaml", &cfg, err, sizeof(err)))
		goto out_free;
	if (open_dp(&cfg, &dp))
		goto out;
	vips = xlb_dp_map_fd(dp, "vips");
	addrs = xlb_dp_map_fd(dp, "vip_addrs");
	reals = xlb_dp_map_fd(dp, "reals");
	rings = xlb_dp_map_fd(dp, "rings");
	for (k = 0; k <= CP_M; k++)
		keys[k] = k;
	t0 = bench_now_ns();
	for (i = 0; i < CP_VIPS; i++) {
		struct xlb_vip_key vk = {.port = htons(80),
					 .proto = IPPROTO_TCP,
					 .family = AF_INET};
		struct xlb_vip_addr_key ak = {.family = AF_INET};
		struct xlb_vip_meta meta = {.vip_id = i};

		for (j = 0; j < CP_REALS; j++) {
			struct xlb_real r = {.family = AF_INET,
					     .flags = XLB_REAL_F_UP,
					     .gen = 1};

			id = 1 + i * CP_REALS + j;
			r.addr.addr[0] = htonl(real_addr(i, j));
			if (bpf_map_update_elem(reals, &id, &r, BPF_ANY))
				goto out;
		}
		/* A ring of the same size, reals in turn. */
		vals[0] = CP_M;
		for (k = 1; k <= CP_M; k++)
			vals[k] = 1 + i * CP_REALS + k % CP_REALS;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_ring", 4, 4,
				    CP_M + 1, &copts);
		if (fd < 0)
			goto out;
		count = CP_M + 1;
		id = i;
		if (bpf_map_update_batch(fd, keys, vals, &count, NULL) ||
		    bpf_map_update_elem(rings, &id, &fd, BPF_ANY)) {
			close(fd);
			goto out;
		}
		close(fd);
		ak.addr.addr[0] = vk.addr.addr[0] = htonl(vip_addr(i));
		if (bpf_map_update_elem(addrs, &ak, &one, BPF_ANY) ||
		    bpf_map_update_elem(vips, &vk, &meta, BPF_ANY))
			goto out;
	}
	s = (bench_now_ns() - t0) / 1e9;
out:
	xlb_dp_close(dp, true);
	xlb_config_free(&cfg);
out_free:
	free(keys);
	free(vals);
	return s;
}

struct hc_bench {
	struct bench_lb lb;
	struct xlb_health *h;
	int epfd;
	struct xlb_event listen[2];
	struct xlb_service svc;
	bool up[2];	     /* as the checker last said */
	uint64_t changed[2]; /* when it said so, after the ring was out */
};

/* A listener's connection: accept and close it (a check connected). */
static void on_accept(struct xlb_event *ev, uint32_t events)
{
	int fd;

	while ((fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		close(fd);
}

/* Real i (0 or 1) listening on 10.9.0.2+i:80 again. */
static int hc_listen(struct hc_bench *hc, int i)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(80),
				 .sin_addr.s_addr = htonl(CP_HC_REAL1 + i)};
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		close(fd);
		return -errno;
	}
	hc->listen[i].fd = fd;
	hc->listen[i].handler = on_accept;
	return xlb_loop_add(hc->epfd, &hc->listen[i], EPOLLIN);
}

static void hc_unlisten(struct hc_bench *hc, int i)
{
	if (hc->listen[i].fd <= 0)
		return;
	xlb_loop_del(hc->epfd, &hc->listen[i]);
	close(hc->listen[i].fd);
	hc->listen[i].fd = 0;
}

/* What xlbd's callback does: the real leaves (or rejoins) the ring. */
static void on_health(void *arg, const struct xlb_service *svc,
		      const struct xlb_ip *real, bool up, const char *reason)
{
	struct hc_bench *hc = arg;
	int i = ntohl(real->a.addr[0]) - CP_HC_REAL1;

	if (xlb_real_set_health(hc->lb.agent, svc, real, up))
		fprintf(stderr, "xlb-bench control: set_health failed\n");
	if (i < 0 || i > 1)
		return;
	hc->up[i] = up;
	hc->changed[i] = bench_now_ns();
}

/*
 * Run the loop until real i is up (or down), at most ms; 0 or -1. With i
 * < 0, just run it for ms (the checker keeps its cadence only while its
 * loop runs: a stalled loop would bunch the checks up).
 */
static int hc_wait(struct hc_bench *hc, int i, bool up, int ms)
{
	uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000;
	struct epoll_event evs[16];
	struct xlb_event *ev;
	int n, k;

	while (i < 0 || hc->up[i] != up) {
		if (bench_now_ns() > end)
			return i < 0 ? 0 : -1;
		n = epoll_wait(hc->epfd, evs, 16, 10);
		for (k = 0; k < n; k++) {
			ev = evs[k].data.ptr;
			ev->handler(ev, evs[k].events);
		}
	}
	return 0;
}

static int hc_setup(struct hc_bench *hc)
{
	struct xlb_health_target t[2];
	char err[XLB_ERR_LEN];
	int i, ret;

	ret = bench_netns_reals(0);
	if (ret <= 0 || bench_sh("ip addr add 10.9.0.2/32 dev lo && "
				 "ip addr add 10.9.0.3/32 dev lo"))
		return -1;
	ret = bench_lb_open(&hc->lb, 4096, err, sizeof(err));
	if (!ret)
		ret = bench_lb_vip(&hc->lb, "10.100.0.1:80/tcp", CP_HC_REAL1, 2,
				   err, sizeof(err));
	if (ret) {
		fprintf(stderr, "xlb-bench control: %s\n", err);
		return -1;
	}
	hc->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hc->epfd < 0 || hc_listen(hc, 0) || hc_listen(hc, 1))
		return -1;
	if (xlb_health_new(hc->epfd, on_health, hc, &hc->h))
		return -1;
	xlb_service_parse("10.100.0.1:80/tcp", &hc->svc);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 2; i++) {
		t[i].svc = hc->svc;
		t[i].real.family = AF_INET;
		t[i].real.a.addr[0] = htonl(CP_HC_REAL1 + i);
		t[i].check.type = XLB_CHECK_TCP;
		t[i].check.interval_ms = CP_HC_INTERVAL;
		t[i].check.timeout_ms = CP_HC_TIMEOUT;
		t[i].check.fall = CP_HC_FALL;
		t[i].check.rise = CP_HC_RISE;
		hc->up[i] = true; /* targets start up */
	}
	return xlb_health_sync(hc->h, t, 2) ? -1 : 0;
}

static void hc_teardown(struct hc_bench *hc)
{
	xlb_health_free(hc->h);
	hc_unlisten(hc, 0);
	hc_unlisten(hc, 1);
	if (hc->epfd > 0)
		close(hc->epfd);
	bench_lb_close(&hc->lb);
}

/* Failure to removal, runs times (in a private namespace). */
static int health_figure(const struct bench_opts *o)
{
	struct hc_bench hc = {0};
	double v[32];
	struct bench_figure f = {
		.group = "control",
		.name = "control: real failure to its removal (TCP check)",
		.unit = "ms",
		.baseline = CP_HC_FALL * CP_HC_INTERVAL,
		.baseline_name = "fall x interval",
		.note = "TCP connect checks every 100 ms, timeout 50 ms, fall "
			"3; "
			"failure: the real's listener closes",
	};
	uint64_t t0;
	int r, ret = -1;

	if (hc_setup(&hc)) {
		bench_fail("control", "health check set-up failed");
		goto out;
	}
	/* Settle: a few rounds of checks. */
	hc_wait(&hc, -1, false, 3 * CP_HC_INTERVAL);
	for (r = 0; r < o->runs; r++) {
		/* Fail at a random point of the check period. */
		hc_wait(&hc, -1, false, rand() % CP_HC_INTERVAL);
		t0 = bench_now_ns();
		hc_unlisten(&hc, 0);
		if (hc_wait(&hc, 0, false, 20 * CP_HC_INTERVAL)) {
			bench_fail("control", "the real never went down");
			goto out;
		}
		v[r] = (hc.changed[0] - t0) / 1e6;
		if (hc_listen(&hc, 0) ||
		    hc_wait(&hc, 0, true, 20 * CP_HC_INTERVAL)) {
			bench_fail("control", "the real never came back");
			goto out;
		}
	}
	bench_stats(v, o->runs, &f.min, &f.median);
	ret = bench_emit(o, &f);
out:
	hc_teardown(&hc);
	return ret;
}

int bench_control(const struct bench_opts *o)
{
	double agent[32], plain[32], dmin;
	struct bench_figure f = {
		.group = "control",
		.name = "control: apply 1000 VIPs x 10 reals (config file)",
		.unit = "s",
		.baseline_name = "the same map contents written directly",
		.note = "xlb_config_parse + xlb_agent_reconcile, as xlbd "
			"--config at start; M = 65537",
	};
	size_t len;
	char *text = config_text(&len);
	int r, ret = -1;

	if (!text)
		return -1;
	bench_pin_cpu(0);
	for (r = 0; r < o->runs; r++) {
		agent[r] = apply_agent(text, len);
		plain[r] = apply_plain(text, len);
		if (isnan(agent[r]) || isnan(plain[r])) {
			bench_fail("control", "run %d failed", r);
			goto out;
		}
	}
	bench_stats(plain, o->runs, &dmin, &f.baseline);
	bench_stats(agent, o->runs, &f.min, &f.median);
	bench_emit(o, &f);
	ret = health_figure(o);
out:
	free(text);
	return ret;
}
