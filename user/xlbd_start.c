// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Start-up and shutdown of xlbd: one ordered list of steps, each with the
 * undo that takes it back, unwound in reverse when a step fails and when
 * the daemon stops; and the event loop between the two.
 */
#define _GNU_SOURCE /* cpu_set_t */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <linux/magic.h>

#include "affinity.h"
#include "log.h"
#include "reload.h"
#include "xlbd.h"

/* Make sure a BPF filesystem is mounted where the pins go. */
static int ensure_bpffs(const char *pin_path)
{
	const char *root = "/sys/fs/bpf";
	char parent[256], *slash;
	struct statfs st;

	if (strncmp(pin_path, root, strlen(root))) {
		/* The operator chose a path: its parent must be bpffs. */
		snprintf(parent, sizeof(parent), "%s", pin_path);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		if (statfs(parent, &st) || st.f_type != BPF_FS_MAGIC) {
			pr_warn("%s is not on a BPF filesystem", parent);
			return -ENOTSUP;
		}
		return 0;
	}
	if (!statfs(root, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	/* Inside `ip netns exec` /sys is fresh and has no bpffs yet. */
	if (mount("bpf", root, "bpf", 0, "mode=0700"))
		return -errno;
	pr_info("mounted bpffs at %s", root);
	return 0;
}

/* CPUs for the agent, away from those serving NIC queues. */
static int apply_control_cpus(const char *list)
{
	cpu_set_t set;
	int ret;

	if (!list[0])
		return 0;
	ret = xlb_cpulist_parse(list, &set);
	if (!ret)
		ret = xlb_affinity_apply(&set);
	if (ret)
		pr_warn("control_cpus '%s': %s", list, strerror(-ret));
	else
		pr_info("agent confined to CPUs %s", list);
	return ret;
}

/* One sweep of the FULLNAT sessions (docs/FULLNAT.md, "Lifetime"). */
static void on_gc_timer(struct xlb_event *ev, uint32_t events)
{
	struct xlbd *d = &daemon_state;
	struct xlb_nat_gc_stats st;
	uint64_t ticks;
	int ret;

	if (read(ev->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	ret = xlb_agent_nat_gc(d->agent, monotonic_ns(), &st);
	if (ret) {
		pr_warn("session sweep: %s", strerror(-ret));
		return;
	}
	pr_debug("session sweep: %zu scanned, %zu expired, %zu orphans, %zu "
		 "live",
		 st.scanned, st.expired, st.orphans, st.live);
}

/* (Re)arm the sweep timer for the configured interval. */
void xlbd_gc_arm(struct xlbd *d)
{
	uint32_t ms = d->cfg.nat.gc_interval_ms;
	struct itimerspec its = {
		.it_interval = {ms / 1000, (long)(ms % 1000) * 1000000},
		.it_value = {ms / 1000, (long)(ms % 1000) * 1000000},
	};

	if (d->gc_ev.fd <= 0 || !ms || ms == d->gc_armed_ms)
		return;
	if (timerfd_settime(d->gc_ev.fd, 0, &its, NULL)) {
		pr_warn("session sweep timer: %s", strerror(errno));
		return;
	}
	d->gc_armed_ms = ms;
}

static int xlbd_gc_start(struct xlbd *d)
{
	d->gc_ev.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->gc_ev.fd < 0)
		return -errno;
	d->gc_ev.handler = on_gc_timer;
	if (xlb_loop_add(d->epfd, &d->gc_ev, EPOLLIN)) {
		close(d->gc_ev.fd);
		d->gc_ev.fd = -1;
		return -errno;
	}
	xlbd_gc_arm(d);
	return 0;
}

static void xlbd_gc_stop(struct xlbd *d)
{
	if (d->gc_ev.fd <= 0)
		return;
	xlb_loop_del(d->epfd, &d->gc_ev);
	close(d->gc_ev.fd);
	d->gc_ev.fd = -1;
}

/* Every change of the agent's model: checks follow, and accept_local. */
void xlbd_on_agent_change(struct xlb_agent *agent, void *arg)
{
	struct xlbd *d = arg;

	xlbd_health_sync(agent, d);
	xlbd_accept_local_sync(d);
	xlbd_forwarding_sync(d);
	if (d->nexthops)
		xlb_nexthops_sync(d->nexthops);
	if (d->node)
		xlb_node_announce(d->node, agent);
}

/*
 * A balancer attached with no pinned maps beside it: an agent ran here
 * and its pins are gone (a bpffs that is not persistent, e.g. mounted
 * afresh in `ip netns exec`'s new /sys, or pins removed by hand).
 * Replacing it starts from empty tables: every tracked flow and FULLNAT
 * session it holds would be lost. Only with --replace.
 */
static int check_orphans(struct xlbd *d)
{
	const struct xlb_config *cfg = &d->cfg;
	size_t i;

	if (d->cli->replace || xlb_dp_pinned(cfg->pin_path))
		return 0;
	for (i = 0; i < cfg->n_interfaces; i++) {
		if (!xlb_dp_running_on(cfg->interfaces[i]))
			continue;
		pr_warn("%s runs an XLB balancer but %s holds no pinned maps "
			"to adopt: the pins are gone (is the bpffs there not "
			"persistent, e.g. mounted afresh under `ip netns "
			"exec`?). Replacing it would drop every flow it tracks "
			"(FULLNAT sessions too): not replacing it; start with "
			"--replace to replace it anyway",
			cfg->interfaces[i], cfg->pin_path);
		return -EEXIST;
	}
	return 0;
}

/* ---- The steps of start-up, each with its undo ------------------------ */

static int step_cpus(struct xlbd *d)
{
	return apply_control_cpus(d->cfg.control_cpus);
}

static int step_bpffs(struct xlbd *d)
{
	int ret = ensure_bpffs(d->cfg.pin_path);

	if (ret)
		pr_warn("bpffs for %s: %s", d->cfg.pin_path, strerror(-ret));
	return ret;
}

static int step_orphans(struct xlbd *d)
{
	return check_orphans(d);
}

static int step_dp_open(struct xlbd *d)
{
	const struct xlb_config *cfg = &d->cfg;
	struct xlb_dp_opts opts = {
		.max_vips = cfg->max_vips,
		.max_reals = cfg->max_reals,
		.ct_size = cfg->ct_size,
		.ct6_size = cfg->ct6_size,
		.fc_size = cfg->fc_size,
		.nat_sessions = cfg->nat.sessions,
		.pin_path = cfg->pin_path,
		.flood_guard_rate = cfg->flood_guard_rate,
	};
	char err[XLB_ERR_LEN];
	int ret;

	ret = xlb_dp_open(&opts, &d->dp, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return ret;
	}
	d->adopted = xlb_dp_adopted(d->dp);
	return 0;
}

/*
 * A full stop (lbctl shutdown), or a start-up that failed with nothing
 * running before it: detach and unpin. Otherwise the data plane runs on
 * for the next agent.
 */
static bool removing(const struct xlbd *d)
{
	return d->full_stop || (!d->started && !d->adopted);
}

static void step_dp_close(struct xlbd *d)
{
	bool remove = removing(d);

	xlb_dp_close(d->dp, remove);
	d->dp = NULL;
	if (remove && d->full_stop)
		pr_info("stopped: program detached, maps unpinned");
	else if (remove)
		pr_info("start-up failed: program detached, maps unpinned");
}

static int step_model(struct xlbd *d)
{
	return xlb_agent_new(d->dp, &d->agent);
}

static void step_model_free(struct xlbd *d)
{
	xlb_agent_free(d->agent);
	d->agent = NULL;
}

static int step_health(struct xlbd *d)
{
	int ret = xlb_health_new(d->epfd, xlbd_on_health, d, &d->health);

	if (ret)
		pr_warn("health checks: %s", strerror(-ret));
	return ret;
}

static void step_health_free(struct xlbd *d)
{
	xlb_health_free(d->health);
	d->health = NULL;
}

static int step_sysctls(struct xlbd *d)
{
	int ret = xlb_sysctls_open(d->dp, "/proc/sys", &d->sysctls);

	if (ret)
		pr_warn("kernel settings kept in %s: %s", d->cfg.pin_path,
			strerror(-ret));
	return ret;
}

/* A full stop, or a failed first start, gives the node its settings
 * back; a restart keeps them for the data plane that runs on. */
static void step_sysctls_free(struct xlbd *d)
{
	if (removing(d))
		xlbd_sysctls_restore_all(d);
	xlb_sysctls_free(d->sysctls);
	d->sysctls = NULL;
}

/* The model: adopted from the pins, then made what the file says. */
static int step_state(struct xlbd *d)
{
	const struct xlb_config *cfg = &d->cfg;
	struct xlb_reconcile_stats st;
	char err[XLB_ERR_LEN];
	size_t n_vips, n_reals;
	int ret;

	xlb_agent_on_change(d->agent, xlbd_on_agent_change, d);
	xlb_agent_on_real_json(d->agent, xlbd_real_health_json, d);
	if (d->adopted) {
		ret = xlb_agent_adopt(d->agent, &n_vips, &n_reals);
		if (ret) {
			pr_warn("reading the pinned maps: %s", strerror(-ret));
			return ret;
		}
		pr_info("adopted the running data plane from %s: %zu VIPs, "
			"%zu reals",
			cfg->pin_path, n_vips, n_reals);
	}
	if (d->adopted && !d->cli->config) {
		/* Managed through lbctl alone: what runs is the state to
		 * keep. With a file, the file is the truth. */
		ret = xlb_agent_set_globals(d->agent, cfg);
		if (ret)
			pr_warn("writing globals: %s", strerror(-ret));
		return ret;
	}
	ret = xlb_agent_reconcile(d->agent, cfg, &st, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return ret;
	}
	xlbd_log_changes("configured", &st);
	return 0;
}

static int step_vlans(struct xlbd *d)
{
	char err[XLB_ERR_LEN];
	int ret = xlb_vlans_apply(d->dp, &d->cfg, err, sizeof(err));

	if (ret)
		pr_warn("%s", err);
	return ret;
}

/* Attach last of the data plane: the maps are complete before the first
 * packet. Undone by step_dp_close when removing. */
static int step_attach(struct xlbd *d)
{
	const struct xlb_config *cfg = &d->cfg;
	char err[XLB_ERR_LEN];
	size_t i;
	int ret;

	for (i = 0; i < cfg->n_interfaces; i++) {
		ret = xlb_dp_attach(d->dp, cfg->interfaces[i], cfg->xdp_mode,
				    err, sizeof(err));
		if (ret) {
			pr_warn("%s", err);
			return ret;
		}
		pr_info("attached to %s (%s mode, %s)", cfg->interfaces[i],
			cfg->xdp_mode == XLB_XDP_GENERIC ? "generic" : "native",
			xlb_dp_attached_alone(d->dp, cfg->interfaces[i])
				? "alone: the kernel refused libxdp's "
				  "dispatcher"
				: "through libxdp's dispatcher");
	}
	/* An earlier agent's interfaces that are not ours any more. */
	xlb_dp_tx_ports_prune(d->dp);
	return 0;
}

/* What follows the model: checks, kernel settings. */
static int step_follow(struct xlbd *d)
{
	xlbd_health_sync(d->agent, d);
	xlbd_accept_local_sync(d);
	xlbd_forwarding_sync(d);
	return 0;
}

/* Routes, neighbours or links changed: mark, then re-resolve. */
static void on_nexthop_event(struct xlb_event *ev, uint32_t events)
{
	struct xlbd *d = &daemon_state;
	int ret;

	(void)ev;
	(void)events;
	ret = xlb_nexthops_read(d->nexthops);
	if (ret)
		pr_warn("next hop events: %s", strerror(-ret));
}

/*
 * The reals' next hops, resolved once the model is complete and kept
 * fresh from then on (nexthop.h). Subscribed before the first
 * resolution, so that no change is missed in between.
 */
static int step_nexthops(struct xlbd *d)
{
	struct xlb_nexthops_stats st;
	int ret;

	if (!d->cfg.nexthops) {
		pr_info("next hops: bpf_fib_lookup for every packet "
			"(nexthops: false)");
		/* An earlier agent's entries, if any, are followed by
		 * nobody now. */
		ret = xlb_nexthops_invalidate_all(d->dp);
		if (ret)
			pr_warn("next hops: %s", strerror(-ret));
		return ret;
	}
	ret = xlb_nexthops_open(d->agent, &d->nexthops);
	if (ret) {
		pr_warn("next hops: netlink: %s", strerror(-ret));
		return ret;
	}
	d->nh_ev.fd = xlb_nexthops_fd(d->nexthops);
	d->nh_ev.handler = on_nexthop_event;
	ret = xlb_loop_add(d->epfd, &d->nh_ev, EPOLLIN);
	if (ret) {
		pr_warn("next hops: event loop: %s", strerror(-ret));
		d->nh_ev.fd = -1;
		return ret;
	}
	ret = xlb_nexthops_sync(d->nexthops);
	if (ret) {
		pr_warn("next hops: %s", strerror(-ret));
		return ret;
	}
	xlb_nexthops_get_stats(d->nexthops, &st);
	pr_info("next hops: %zu of %zu reals resolved", st.valid, st.reals);
	return 0;
}

/* The entries are marked stale as the agent goes: nobody would keep
 * them fresh while the data plane runs on without it. */
static void step_nexthops_close(struct xlbd *d)
{
	if (d->nh_ev.fd > 0)
		xlb_loop_del(d->epfd, &d->nh_ev);
	d->nh_ev.fd = -1;
	xlb_nexthops_close(d->nexthops, d->dp != NULL);
	d->nexthops = NULL;
}

static int step_gc(struct xlbd *d)
{
	int ret = xlbd_gc_start(d);

	if (ret)
		pr_warn("session sweep timer: %s", strerror(-ret));
	return ret;
}

static int step_control(struct xlbd *d)
{
	int ret = xlb_control_open(d->cfg.socket_path, d->agent, d->epfd,
				   &d->ctl);

	if (ret)
		pr_warn("control socket %s: %s", d->cfg.socket_path,
			strerror(-ret));
	return ret;
}

static void step_control_close(struct xlbd *d)
{
	xlb_control_close(d->ctl);
	d->ctl = NULL;
}

static int step_metrics(struct xlbd *d)
{
	const char *listen = d->cfg.metrics_listen;
	int ret;

	if (!listen[0])
		return 0;
	ret = xlb_metrics_open(listen, d->agent, d->epfd, &d->metrics);
	if (ret) {
		pr_warn("metrics on %s: %s", listen, strerror(-ret));
		return ret;
	}
	pr_info("metrics on http://%s/metrics", listen);
	return 0;
}

static void step_metrics_close(struct xlbd *d)
{
	xlb_metrics_close(d->metrics);
	d->metrics = NULL;
}

/* Not fatal: the unit may have no watchdog. */
static int step_watchdog(struct xlbd *d)
{
	int ret = xlb_sd_watchdog_start(d->epfd, &d->watchdog);

	if (ret)
		pr_warn("systemd watchdog: %s", strerror(-ret));
	return 0;
}

static void step_watchdog_stop(struct xlbd *d)
{
	xlb_sd_watchdog_stop(d->watchdog);
	d->watchdog = NULL;
}

/*
 * Start-up, in order; shutdown is the same list backwards. A step that
 * fails is undone too (an undo accepts a half-done step), then every
 * step before it, in reverse. The cluster withdraws its routes in its
 * undo, before anything of the data plane goes.
 */
static const struct start_step {
	const char *name;
	int (*up)(struct xlbd *d);
	void (*down)(struct xlbd *d); /* NULL: nothing to undo */
} start_steps[] = {
	{"control_cpus", step_cpus, NULL},
	{"bpffs", step_bpffs, NULL},
	{"orphans", step_orphans, NULL},
	{"data_plane", step_dp_open, step_dp_close},
	{"model", step_model, step_model_free},
	{"health", step_health, step_health_free},
	{"sysctls", step_sysctls, step_sysctls_free},
	{"state", step_state, NULL},
	{"vlans", step_vlans, NULL},
	{"attach", step_attach, NULL},
	{"follow", step_follow, NULL},
	{"nexthops", step_nexthops, step_nexthops_close},
	{"gc", step_gc, xlbd_gc_stop},
	{"cluster", xlbd_cluster_start, xlbd_cluster_stop},
	{"control", step_control, step_control_close},
	{"metrics", step_metrics, step_metrics_close},
	{"watchdog", step_watchdog, step_watchdog_stop},
};

#define N_STEPS (sizeof(start_steps) / sizeof(start_steps[0]))

/* Undo steps n-1 down to 0. */
static void unwind(struct xlbd *d, size_t n)
{
	while (n-- > 0)
		if (start_steps[n].down)
			start_steps[n].down(d);
}

/*
 * Tests (tests/e2e/t46_startup_unwind.sh): XLB_TEST_FAIL_START=NAME makes
 * step NAME fail once it has run, as if its last action had failed.
 */
static int step_run(struct xlbd *d, const struct start_step *s)
{
	const char *fail = getenv("XLB_TEST_FAIL_START");
	int ret = s->up(d);

	if (!ret && fail && !strcmp(fail, s->name)) {
		pr_warn("start-up step %s fails (XLB_TEST_FAIL_START)",
			s->name);
		ret = -ECANCELED;
	}
	return ret;
}

static int serve(struct xlbd *d)
{
	struct epoll_event events[16];
	int n, ret = 0;
	size_t i;

	while (!d->stop) {
		n = epoll_wait(d->epfd, events, 16, -1);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			pr_warn("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; n > 0 && i < (size_t)n; i++) {
			struct xlb_event *ev = events[i].data.ptr;

			ev->handler(ev, events[i].events);
		}
	}
	return ret;
}

int xlbd_run(struct xlbd *d)
{
	size_t i;
	int ret;

	for (i = 0; i < N_STEPS; i++) {
		ret = step_run(d, &start_steps[i]);
		if (ret) {
			unwind(d, i + 1);
			return ret;
		}
	}
	d->started = true;
	pr_info("ready: %zu VIP(s), control socket %s", d->cfg.n_vips,
		d->cfg.socket_path);
	xlb_sd_ready("forwarding");
	ret = serve(d);
	xlb_sd_stopping();
	unwind(d, N_STEPS);
	return ret;
}
