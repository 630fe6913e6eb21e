// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd: the XLB agent. Loads the balancer, attaches it to the data
 * interfaces, applies the configuration, and serves the control socket
 * from one epoll loop until SIGTERM/SIGINT.
 */
#define _GNU_SOURCE /* cpu_set_t */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/magic.h>

#include "affinity.h"
#include "agent.h"
#include "control.h"
#include "daemon.h"
#include "health.h"
#include "metrics.h"
#include "node.h"
#include "reload.h"
#include "sdnotify.h"
#include "sync.h"
#include "sysctl.h"
#include "log.h"
#include "loop.h"
#include "maps.h"
#include "xlb.h"

/* Exit codes (documented in xlbd(8), EXIT STATUS). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
};

struct cli;

struct xlbd {
	int epfd;
	bool stop;
	bool full_stop; /* detach and unpin on the way out (lbctl shutdown) */
	struct xlb_event sig_ev;
	struct xlb_agent *agent;
	struct xlb_dp *dp;
	struct xlb_control *ctl;
	struct xlb_health *health;
	struct xlb_metrics *metrics;
	struct xlb_sd_watchdog *watchdog;
	const struct cli *cli;
	struct xlb_config cfg; /* as running */
	/* FULLNAT session sweeps every cfg.nat.gc_interval_ms. */
	struct xlb_event gc_ev;
	uint32_t gc_armed_ms;
	/* The kernel settings we change (forwarding, accept_local), with
	 * their originals kept beside the pins for a full stop. */
	struct xlb_sysctls *sysctls;
	/* Settings we failed to set, warned about once each. */
	char sysctl_warned[8][XLB_SYSCTL_NAME_LEN];
	size_t n_sysctl_warned;
	/* Cluster (docs/CLUSTER.md): lifecycle and routes, session sync,
	 * the data plane's session events, link changes, one timer. */
	struct xlb_node *node;
	struct xlb_sync *sync;
	struct xlb_event sync_ev, ring_ev, links_ev, cluster_ev;
	uint64_t next_announce_ns;
	/* Every node's local pool, this one's too: a peer's bulk holds the
	 * sessions of every node, ours from before a restart included. */
	struct xlb_ip cluster_laddrs[XLB_PEER_LADDRS_MAX];
	size_t n_cluster_laddrs;
	/* Refresh of this node's live FULLNAT sessions at the peers. */
	uint64_t next_refresh_ns;
	uint64_t refreshed; /* records sent by refreshes */
	bool returning;	    /* pre-online again after a silence (on_return) */
};

static int reload(struct xlbd *d, json_t *reply, char *err, size_t errlen);
static void gc_arm(struct xlbd *d);

static struct xlbd daemon_state;

static void on_signal(struct xlb_event *ev, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(ev->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			/* The agent stops; the data plane keeps forwarding
			 * from its pinned maps until the next agent adopts
			 * it. A full stop is `lbctl shutdown`. */
			pr_info("signal %u: stopping the agent; the data plane "
				"keeps running",
				si.ssi_signo);
			daemon_state.stop = true;
			break;
		case SIGHUP: {
			char err[XLB_ERR_LEN];

			if (reload(&daemon_state, NULL, err, sizeof(err)))
				pr_warn("reload rejected, nothing changed: %s",
					err);
			break;
		}
		default:
			break;
		}
	}
}

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

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd [OPTIONS]\n"
		"Run the XLB agent in the foreground.\n\n"
		"  -c, --config FILE       YAML configuration "
		"(docs/CONFIG.md)\n"
		"  -i, --interface IFNAME  attach to IFNAME (repeatable; adds "
		"to "
		"the file's)\n"
		"  -s, --socket PATH       control socket (default %s)\n"
		"  -m, --xdp-mode MODE     native (default) or generic\n"
		"  -p, --pin-path PATH     bpffs directory for maps (default "
		"%s)\n"
		"  -M, --metrics ADDR:PORT serve /metrics there ('off' to "
		"disable)\n"
		"  -t, --check             validate the configuration and "
		"exit\n"
		"  -R, --replace           replace an XLB program attached "
		"with no pins to adopt\n"
		"                          (its flows are lost)\n"
		"  -v, --verbose           debug logging\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this text\n",
		XLB_DEFAULT_SOCKET, XLB_DEFAULT_PIN_PATH);
}

struct cli {
	const char *config;
	const char *ifnames[XLB_MAX_INTERFACES];
	size_t n_ifnames;
	const char *socket;
	const char *pin_path;
	const char *metrics;
	int xdp_mode; /* -1: not given */
	bool check;
	bool replace; /* a running balancer whose pins are gone */
};

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"interface", required_argument, NULL, 'i'},
		{"socket", required_argument, NULL, 's'},
		{"xdp-mode", required_argument, NULL, 'm'},
		{"pin-path", required_argument, NULL, 'p'},
		{"metrics", required_argument, NULL, 'M'},
		{"check", no_argument, NULL, 't'},
		{"replace", no_argument, NULL, 'R'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->xdp_mode = -1;
	while ((c = getopt_long(argc, argv, "c:i:s:m:p:M:tRvVh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			cli->config = optarg;
			break;
		case 'i':
			if (cli->n_ifnames == XLB_MAX_INTERFACES) {
				pr_warn("at most %d interfaces",
					XLB_MAX_INTERFACES);
				return -EINVAL;
			}
			cli->ifnames[cli->n_ifnames++] = optarg;
			break;
		case 's':
			cli->socket = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				cli->xdp_mode = XLB_XDP_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				cli->xdp_mode = XLB_XDP_GENERIC;
			} else {
				pr_warn("--xdp-mode: '%s' is not native or "
					"generic",
					optarg);
				return -EINVAL;
			}
			break;
		case 'p':
			cli->pin_path = optarg;
			break;
		case 'M':
			cli->metrics = optarg;
			break;
		case 't':
			cli->check = true;
			break;
		case 'R':
			cli->replace = true;
			break;
		case 'v':
			xlb_log_set_level(XLB_LOG_DEBUG);
			break;
		case 'V':
			printf("xlbd %s\n", XLB_VERSION);
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_warn("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The file's configuration with the command line on top. */
static int build_config(const struct cli *cli, struct xlb_config *cfg,
			char *err, size_t errlen)
{
	size_t i;
	int ret;

	if (cli->config) {
		ret = xlb_config_load(cli->config, cfg, err, errlen);
		if (ret)
			return ret;
	} else {
		xlb_config_defaults(cfg);
	}
	for (i = 0; i < cli->n_ifnames; i++) {
		size_t j;

		/* Named in the file and on the command line: attach once. */
		for (j = 0; j < cfg->n_interfaces; j++)
			if (!strcmp(cfg->interfaces[j], cli->ifnames[i]))
				break;
		if (j < cfg->n_interfaces)
			continue;
		if (cfg->n_interfaces == XLB_MAX_INTERFACES) {
			snprintf(err, errlen, "at most %d interfaces",
				 XLB_MAX_INTERFACES);
			return -EINVAL;
		}
		cfg->interfaces[cfg->n_interfaces] = strdup(cli->ifnames[i]);
		if (!cfg->interfaces[cfg->n_interfaces++])
			return -ENOMEM;
	}
	if (cli->socket)
		snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s",
			 cli->socket);
	if (cli->pin_path)
		snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s",
			 cli->pin_path);
	if (cli->xdp_mode >= 0)
		cfg->xdp_mode = cli->xdp_mode;
	if (cli->metrics)
		snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s",
			 strcmp(cli->metrics, "off") ? cli->metrics : "");
	return 0;
}

/* Log what a reconcile did, once. */
static void log_changes(const char *what, const struct xlb_reconcile_stats *st)
{
	pr_info("%s: VIPs +%zu -%zu ~%zu, reals +%zu -%zu ~%zu, checks ~%zu, "
		"local addresses +%zu -%zu",
		what, st->vips_added, st->vips_removed, st->vips_changed,
		st->reals_added, st->reals_removed, st->reals_changed,
		st->checks_changed, st->laddrs_added, st->laddrs_removed);
}

/*
 * Reload (SIGHUP, lbctl reload): read and validate the whole file; on
 * any error change nothing; else apply only the differences, all or
 * nothing (a write failing part-way puts the state before back).
 */
static int reload(struct xlbd *d, json_t *reply, char *err, size_t errlen)
{
	struct xlb_reconcile_stats st;
	struct xlb_config cfg;
	const char *what;
	int ret;

	if (!d->cli->config) {
		snprintf(err, errlen, "xlbd was started without --config");
		return -EINVAL;
	}
	memset(&cfg, 0, sizeof(cfg));
	ret = build_config(d->cli, &cfg, err, errlen);
	if (ret)
		goto out;
	what = xlb_restart_only_change(&d->cfg, &cfg);
	if (what) {
		snprintf(err, errlen, "%s: changing '%s' needs a restart",
			 d->cli->config, what);
		ret = -EINVAL;
		goto out;
	}
	xlb_sd_reloading();
	ret = xlb_reload_apply(d->agent, &d->cfg, &cfg, &st, err, errlen);
	xlb_sd_ready(NULL);
	if (ret)
		goto out;
	log_changes("reloaded", &st);
	if (reply) {
		json_t *r = xlb_reconcile_json(&st);

		json_object_update(reply, r);
		json_decref(r);
	}
	xlb_config_free(&d->cfg);
	d->cfg = cfg;
	gc_arm(d);
	return 0;
out:
	xlb_config_free(&cfg);
	return ret;
}

/* A check changed a real's state: apply it and say so, once. */
static void on_health(void *arg, const struct xlb_service *svc,
		      const struct xlb_ip *real, bool up, const char *reason)
{
	char vbuf[XLB_SERVICE_STRLEN], rbuf[XLB_IP_STRLEN];
	struct xlbd *d = arg;
	int ret;

	ret = xlb_real_set_health(d->agent, svc, real, up);
	xlb_log(up ? XLB_LOG_INFO : XLB_LOG_WARN, "real %s of %s is %s: %s",
		xlb_ip_str(real, rbuf, sizeof(rbuf)),
		xlb_service_str(svc, vbuf, sizeof(vbuf)), up ? "up" : "down",
		reason);
	if (ret)
		pr_warn("marking it %s failed: %s", up ? "up" : "down",
			strerror(-ret));
}

/*
 * What a check through target t's data path needs (docs/HEALTH.md,
 * "Data-path checks"): the VIP's mode, the tunnel source range and a
 * local address of the real's family, from the running model rt.
 */
static void health_path(const struct xlbd *d, const struct xlb_config *rt,
			struct xlb_health_target *t)
{
	size_t i;

	for (i = 0; i < rt->n_vips; i++)
		if (xlb_service_equal(&rt->vips[i].svc, &t->svc)) {
			t->mode = rt->vips[i].mode;
			if (rt->vips[i].gue)
				t->gue_port = (uint16_t)d->cfg.gue_port;
		}
	if (t->real.family == AF_INET) {
		t->tun_src = d->cfg.tun_src_v4;
		t->tun_plen = d->cfg.tun_src_v4_plen;
	} else {
		t->tun_src = d->cfg.tun_src_v6;
		t->tun_plen = d->cfg.tun_src_v6_plen;
	}
	for (i = 0; i < rt->nat.n_laddrs; i++) {
		if (rt->nat.laddrs[i].family == t->real.family) {
			t->laddr = rt->nat.laddrs[i];
			break;
		}
	}
}

/*
 * The checks follow the agent's reals (change hook). A real's state is
 * what its checks say: a new or restarted check starts up, and a real
 * with no check is always up.
 */
static void sync_health(struct xlb_agent *agent, void *arg)
{
	struct xlb_health_target *t = NULL;
	struct xlb_health_status st;
	struct xlb_real_view *v;
	struct xlb_config rt;
	struct xlbd *d = arg;
	size_t n, i;
	int ret;

	if (!d->health)
		return;
	ret = xlb_agent_reals(agent, &v, &n);
	if (ret) {
		pr_warn("health checks: %s", strerror(-ret));
		return;
	}
	memset(&rt, 0, sizeof(rt));
	ret = xlb_agent_running_config(agent, &rt);
	if (ret) {
		pr_warn("health checks: %s", strerror(-ret));
		free(v);
		return;
	}
	if (n) {
		t = calloc(n, sizeof(*t));
		if (!t) {
			xlb_config_free(&rt);
			free(v);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		t[i].svc = v[i].svc;
		t[i].real = v[i].ip;
		t[i].check = v[i].check;
		health_path(d, &rt, &t[i]);
	}
	xlb_config_free(&rt);
	ret = xlb_health_sync(d->health, t, n);
	if (ret)
		pr_warn("health checks: %s", strerror(-ret));
	for (i = 0; !ret && i < n; i++) {
		bool up = v[i].check.type == XLB_CHECK_NONE ||
			  xlb_health_get(d->health, &v[i].svc, &v[i].ip, &st) ||
			  st.up;

		if (up != v[i].healthy)
			xlb_real_set_health(agent, &v[i].svc, &v[i].ip, up);
	}
	free(t);
	free(v);
}

/* A real's checks in its JSON view (lbctl status, /metrics). */
static void real_health_json(void *arg, const struct xlb_service *svc,
			     const struct xlb_ip *real, json_t *obj)
{
	struct xlb_health_status st;
	char ip[XLB_IP_STRLEN];
	struct xlbd *d = arg;
	json_t *h;

	if (!d->health || xlb_health_get(d->health, svc, real, &st) ||
	    st.type == XLB_CHECK_NONE)
		return;
	h = json_object();
	json_object_set_new(h, "type",
			    json_string(xlb_health_type_str(st.type)));
	json_object_set_new(h, "up", json_boolean(st.up));
	json_object_set_new(h, "through", json_string(st.through));
	if (st.src.family)
		json_object_set_new(
			h, "source",
			json_string(xlb_ip_str(&st.src, ip, sizeof(ip))));
	json_object_set_new(h, "checks", json_integer(st.checks));
	json_object_set_new(h, "failed", json_integer(st.failures));
	json_object_set_new(h, "skipped", json_integer(st.skipped));
	json_object_set_new(h, "transitions", json_integer(st.transitions));
	if (st.has_last) {
		json_object_set_new(h, "latency_seconds",
				    json_real(st.last_latency_us / 1e6));
		json_object_set_new(h, "last", json_string(st.last_reason));
	}
	json_object_set_new(obj, "health", h);
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

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
static void gc_arm(struct xlbd *d)
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

static int gc_start(struct xlbd *d)
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
	gc_arm(d);
	return 0;
}

static void gc_stop(struct xlbd *d)
{
	if (d->gc_ev.fd <= 0)
		return;
	xlb_loop_del(d->epfd, &d->gc_ev);
	close(d->gc_ev.fd);
	d->gc_ev.fd = -1;
}

/* A setting's name as sysctl(8) shows it: '/' to '.'. */
static const char *sysctl_dotted(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = name[i] == '/' ? '.' : name[i];
	buf[i] = '\0';
	return buf;
}

/* Set one setting; log once when it changed, warn when it cannot. */
static void sysctl_want(struct xlbd *d, const char *name, int want,
			const char *why)
{
	char dotted[XLB_SYSCTL_NAME_LEN];
	int ret, was = 0;

	if (!d->sysctls)
		return;
	ret = xlb_sysctl_ensure(d->sysctls, name, want, &was);
	sysctl_dotted(name, dotted, sizeof(dotted));
	if (ret < 0) {
		size_t i;

		/* Once: this runs at every change of the model. */
		for (i = 0; i < d->n_sysctl_warned; i++)
			if (!strcmp(d->sysctl_warned[i], name))
				return;
		if (d->n_sysctl_warned <
		    sizeof(d->sysctl_warned) / sizeof(d->sysctl_warned[0]))
			snprintf(d->sysctl_warned[d->n_sysctl_warned++],
				 sizeof(d->sysctl_warned[0]), "%s", name);
		pr_warn("%s=%d (%s): %s%s", dotted, want, why, strerror(-ret),
			ret == -EROFS ? "; set it by hand, or let xlbd write "
					"it (the unit's ReadWritePaths=)"
				      : "");
	} else if (ret)
		pr_info("%s=%d (was %d): %s; a full stop (lbctl shutdown) sets "
			"it back",
			dotted, want, was, why);
}

/* Give one setting its original back, if we changed it. */
static void sysctl_restore(struct xlbd *d, const char *name, const char *why)
{
	char dotted[XLB_SYSCTL_NAME_LEN];
	int ret, was = 0;

	if (!d->sysctls)
		return;
	ret = xlb_sysctl_restore(d->sysctls, name, &was);
	sysctl_dotted(name, dotted, sizeof(dotted));
	if (ret < 0)
		pr_warn("restoring %s: %s", dotted, strerror(-ret));
	else if (ret)
		pr_info("%s=%d restored (%s)", dotted, was, why);
}

/*
 * While the local pool is not empty, the kernel must accept packets
 * from a local address on the interfaces we are attached to: a
 * translated packet whose neighbour is unknown is handed to the kernel
 * (pass_no_neighbour), with a local address as its source
 * (docs/FULLNAT.md). The former values come back when the pool empties
 * or on a full stop (the originals survive restarts: sysctl.h).
 */
static void accept_local_sync(struct xlbd *d)
{
	bool want = d->agent && xlb_agent_laddr_count(d->agent);
	char name[XLB_SYSCTL_NAME_LEN];
	size_t i;

	for (i = 0; i < d->cfg.n_interfaces; i++) {
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/accept_local",
			 d->cfg.interfaces[i]);
		if (want)
			sysctl_want(d, name, 1,
				    "FULLNAT local addresses in use");
		else
			sysctl_restore(d, name,
				       "no FULLNAT local address left");
	}
}

#define SYSCTL_FWD4 "net/ipv4/ip_forward"
#define SYSCTL_FWD6 "net/ipv6/conf/all/forwarding"

/*
 * The data plane forwards through the kernel's FIB (bpf_fib_lookup),
 * which answers "forwarding disabled" for every packet of a family whose
 * forwarding is off: turn it on for the families of the VIPs and their
 * reals (docs/OPERATIONS.md).
 */
static void forwarding_sync(struct xlbd *d)
{
	struct xlb_real_view *v;
	bool v4 = false, v6 = false;
	size_t n, i;

	if (!d->agent || xlb_agent_reals(d->agent, &v, &n))
		return;
	for (i = 0; i < n; i++) {
		v4 |= v[i].svc.ip.family == AF_INET ||
		      v[i].ip.family == AF_INET;
		v6 |= v[i].svc.ip.family == AF_INET6 ||
		      v[i].ip.family == AF_INET6;
	}
	free(v);
	if (v4)
		sysctl_want(d, SYSCTL_FWD4, 1, "IPv4 VIPs or reals");
	if (v6)
		sysctl_want(d, SYSCTL_FWD6, 1, "IPv6 VIPs or reals");
}

/* A full stop: every setting we changed, this agent or an earlier one. */
static void sysctls_restore_all(struct xlbd *d)
{
	const struct xlb_sysctl_was *v;
	char name[XLB_SYSCTL_NAME_LEN];

	while (d->sysctls && xlb_sysctls_saved(d->sysctls, &v)) {
		snprintf(name, sizeof(name), "%s", v[0].name);
		sysctl_restore(d, name, "full stop");
		/* Unwritable: drop it rather than loop. */
		if (xlb_sysctls_saved(d->sysctls, &v) &&
		    !strcmp(v[0].name, name))
			break;
	}
}

/* lbctl status: the settings the data plane depends on (ping's "host"). */
static json_t *host_json(struct xlbd *d)
{
	const struct xlb_sysctl_was *v;
	char name[XLB_SYSCTL_NAME_LEN], dotted[XLB_SYSCTL_NAME_LEN];
	json_t *o = json_object(), *ifs = json_array(), *saved = json_array();
	size_t i, n;

#define SYSCTL_JSON(obj, key, nm)                                              \
	do {                                                                   \
		int v_ = d->sysctls ? xlb_sysctl_get(d->sysctls, (nm)) : -1;   \
		json_object_set_new((obj), (key),                              \
				    v_ >= 0 ? json_integer(v_) : json_null()); \
	} while (0)

	if (!o || !ifs || !saved) {
		json_decref(o);
		json_decref(ifs);
		json_decref(saved);
		return NULL;
	}
	SYSCTL_JSON(o, "ipv4_forwarding", SYSCTL_FWD4);
	SYSCTL_JSON(o, "ipv6_forwarding", SYSCTL_FWD6);
	SYSCTL_JSON(o, "rp_filter", "net/ipv4/conf/all/rp_filter");
	for (i = 0; i < d->cfg.n_interfaces; i++) {
		json_t *one = json_object();

		json_object_set_new(one, "name",
				    json_string(d->cfg.interfaces[i]));
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/accept_local",
			 d->cfg.interfaces[i]);
		SYSCTL_JSON(one, "accept_local", name);
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/rp_filter",
			 d->cfg.interfaces[i]);
		SYSCTL_JSON(one, "rp_filter", name);
		json_array_append_new(ifs, one);
	}
#undef SYSCTL_JSON
	n = d->sysctls ? xlb_sysctls_saved(d->sysctls, &v) : 0;
	for (i = 0; i < n; i++)
		json_array_append_new(saved,
				      json_pack("{s:s, s:i}", "sysctl",
						sysctl_dotted(v[i].name, dotted,
							      sizeof(dotted)),
						"was", v[i].was));
	json_object_set_new(o, "interfaces", ifs);
	json_object_set_new(o, "restore_on_shutdown", saved);
	return o;
}

/* Every change of the agent's model: checks follow, and accept_local. */
static void on_agent_change(struct xlb_agent *agent, void *arg)
{
	struct xlbd *d = arg;

	sync_health(agent, d);
	accept_local_sync(d);
	forwarding_sync(d);
	if (d->node)
		xlb_node_announce(d->node, agent);
}

/*
 * lbctl config dump: the settings as running (the file's, with the
 * command line on top) and the agent's VIPs and local pool, as a file.
 */
static int config_dump(struct xlbd *d, json_t *reply, char *err, size_t errlen)
{
	struct xlb_config out = d->cfg; /* shares d->cfg's interfaces */
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int ret;

	out.vips = NULL;
	out.n_vips = 0;
	ret = xlb_agent_running_config(d->agent, &out);
	if (ret) {
		snprintf(err, errlen, "reading the running state: %s",
			 strerror(-ret));
		return ret;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		ret = -errno;
	} else {
		ret = xlb_config_write(f, &out);
		if (fclose(f) && !ret)
			ret = -EIO;
	}
	for (i = 0; i < out.n_vips; i++)
		free(out.vips[i].reals);
	free(out.vips);
	if (!ret && json_object_set_new(reply, "config", json_string(text)))
		ret = -ENOMEM;
	free(text);
	if (ret)
		snprintf(err, errlen, "writing the configuration: %s",
			 strerror(-ret));
	return ret;
}

static void shutdown_full(struct xlbd *d)
{
	pr_info("shutdown requested: detaching and unpinning");
	d->full_stop = true;
	d->stop = true;
}

/* ---- Cluster: node lifecycle, routes, session sync ----------------- */

/* A session the data plane made: to every peer, as addresses. */
static void on_dp_event(const struct xlb_sync_event *ev, void *arg)
{
	struct xlbd *d = arg;
	struct xlb_session_rec rec;
	uint64_t now = monotonic_ns();

	if (d->sync && xlb_agent_session_of_event(d->agent, ev, now, &rec))
		xlb_sync_queue(d->sync, &rec, now);
}

static void on_ring(struct xlb_event *ev, uint32_t events)
{
	struct xlbd *d = &daemon_state;
	int ret = xlb_dp_sync_consume(d->dp);

	if (ret < 0)
		pr_warn("session events: %s", strerror(-ret));
}

static void on_sync(struct xlb_event *ev, uint32_t events)
{
	struct xlbd *d = &daemon_state;

	xlb_sync_read(d->sync, monotonic_ns());
}

static void on_links(struct xlb_event *ev, uint32_t events)
{
	struct xlbd *d = &daemon_state;

	xlb_node_links_read(d->node);
	xlb_node_announce(d->node, d->agent);
}

static int sync_export(void *arg, xlb_sync_cursor *cur,
		       struct xlb_session_rec *recs, size_t max, bool *done)
{
	struct xlbd *d = arg;

	return xlb_agent_sessions_export(d->agent, cur, recs, max, done,
					 monotonic_ns());
}

static enum xlb_sync_reject sync_import(void *arg, const char *peer,
					const struct xlb_session_rec *r)
{
	struct xlbd *d = arg;

	return xlb_agent_session_import(d->agent, d->cluster_laddrs,
					d->n_cluster_laddrs, r, monotonic_ns());
}

/*
 * A peer's copy of a session ages from the moment it was sent: the
 * traffic that keeps the session alive here never reaches the peer.
 * Every third of the shortest idle timeout, this node sends again the
 * FULLNAT sessions of its own pool that saw traffic since the last
 * refresh, so that a long-lived flow's copies outlive its idle timeout.
 * (Tunnel entries do not expire: the LRU evicts them.)
 */
static uint64_t refresh_period_ns(const struct xlb_config *cfg)
{
	uint32_t s = cfg->nat.tcp_s < cfg->nat.udp_s ? cfg->nat.tcp_s
						     : cfg->nat.udp_s;

	s /= 3;
	return (uint64_t)(s ? s : 1) * 1000000000ull;
}

/* One live session of ours, to every peer again. */
static void refresh_one(const struct xlb_session_rec *rec, void *arg)
{
	struct xlbd *d = arg;

	xlb_sync_queue(d->sync, rec, monotonic_ns());
}

static void refresh_sessions(struct xlbd *d, uint64_t now)
{
	uint64_t period = refresh_period_ns(&d->cfg), since;
	int n;

	if (!d->next_refresh_ns) {
		d->next_refresh_ns = now + period;
		return;
	}
	if (now < d->next_refresh_ns || !d->cfg.nat.n_laddrs)
		return;
	since = d->next_refresh_ns - period;
	d->next_refresh_ns = now + period;
	n = xlb_agent_sessions_refresh(d->agent, since, now, refresh_one, d);
	if (n <= 0)
		return;
	d->refreshed += (uint64_t)n;
	pr_debug("sync: %d live sessions refreshed at the peers", n);
}

/*
 * The peers are heard again after a silence in which this node heard
 * none of them (docs/CLUSTER.md, "Return"). If it forwarded nothing
 * either, the routers had let it go (a cut link, a partition): the
 * sessions the others made meanwhile are not here, and the flows the
 * routers bring back would meet no session. It goes pre-online again,
 * withdrawn, until the re-fetch from the peers is in. A node that kept
 * forwarding is the one that served meanwhile (a lone survivor whose
 * peers come back): it stays online, re-fetching in the background.
 */
#define XLB_RETURN_IDLE_MS 1000 /* forwarded nothing: cut off too */

static void on_return(struct xlbd *d, uint64_t now)
{
	uint64_t silence_ms, idle_ms;
	char why[160];

	if (!xlb_sync_take_return(d->sync, &silence_ms) ||
	    xlb_node_state(d->node) != XLB_NODE_ONLINE)
		return;
	idle_ms = xlb_node_fwd_idle_ms(d->node, now);
	if (idle_ms < XLB_RETURN_IDLE_MS) {
		pr_info("sync: peers heard again after %llu ms of silence; "
			"this node forwarded meanwhile: it stays online, "
			"re-fetching their sessions",
			(unsigned long long)silence_ms);
		return;
	}
	snprintf(why, sizeof(why),
		 "back after %llu ms cut off from every peer: withdrawn until "
		 "their sessions are in again",
		 (unsigned long long)silence_ms);
	d->returning = true;
	xlb_node_set_state(d->node, XLB_NODE_PREONLINE, why, now);
	xlb_node_announce(d->node, d->agent);
	xlb_sd_status("node pre-online: re-fetching the peers' sessions");
}

/* Timers of the cluster: sync batches and bulk, pre-online, watches. */
static void on_cluster_timer(struct xlb_event *ev, uint32_t events)
{
	struct xlbd *d = &daemon_state;
	const struct xlb_cluster_config *cl = &d->cfg.cluster;
	uint64_t ticks, now = monotonic_ns();
	char why[128];
	bool any = false;

	if (read(ev->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	if (d->sync) {
		refresh_sessions(d, now);
		xlb_sync_tick(d->sync, now);
		on_return(d, now);
	}
	if (d->sync && xlb_node_state(d->node) == XLB_NODE_PREONLINE &&
	    xlb_sync_bulk_settled(d->sync, now, cl->preonline_timeout_ms,
				  &any)) {
		if (any && d->returning)
			snprintf(why, sizeof(why),
				 "back: sessions taken from the peers again");
		else if (any)
			snprintf(why, sizeof(why),
				 "sessions taken from the peers");
		else if (d->returning)
			snprintf(why, sizeof(why),
				 "back: no peer finished its re-fetch within "
				 "%u ms: going on without it",
				 cl->preonline_timeout_ms);
		else
			snprintf(why, sizeof(why),
				 "no peer answered within %u ms: the first "
				 "node of the cluster comes up alone",
				 cl->preonline_timeout_ms);
		d->returning = false;
		xlb_node_set_state(d->node, XLB_NODE_ONLINE, why, now);
		xlb_node_announce(d->node, d->agent);
		xlb_sd_status("node online");
	}
	xlb_node_tick(d->node, d->agent, now);
	if (now >= d->next_announce_ns) {
		/* Catch what no event told of (a route removed by hand). */
		xlb_node_announce(d->node, d->agent);
		d->next_announce_ns = now + 1000000000ull;
	}
}

static int loop_add_fd(struct xlbd *d, struct xlb_event *ev, int fd,
		       void (*handler)(struct xlb_event *, uint32_t))
{
	ev->fd = fd;
	ev->handler = handler;
	return xlb_loop_add(d->epfd, ev, EPOLLIN);
}

/* Peers' local pools: replies to them are translated here too. */
static int peer_pools(struct xlbd *d, char *err, size_t errlen)
{
	const struct xlb_cluster_config *cl = &d->cfg.cluster;
	struct xlb_ip ips[XLB_PEER_LADDRS_MAX];
	size_t i, j, n = 0;

	d->n_cluster_laddrs = 0;
	for (i = 0; cl->enabled && i < cl->n_nodes; i++) {
		for (j = 0; j < cl->nodes[i].n_laddrs; j++) {
			d->cluster_laddrs[d->n_cluster_laddrs++] =
				cl->nodes[i].laddrs[j];
			if (i != cl->self)
				ips[n++] = cl->nodes[i].laddrs[j];
		}
	}
	return xlb_agent_set_peer_laddrs(d->agent, ips, n, err, errlen);
}

static int cluster_start(struct xlbd *d)
{
	const struct xlb_config *cfg = &d->cfg;
	struct xlb_sync_ops ops = {
		.export_sessions = sync_export,
		.import_session = sync_import,
		.arg = d,
	};
	uint32_t ms = cfg->cluster.enabled ? 10 : 100;
	struct itimerspec its = {
		.it_interval = {0, (long)ms * 1000000},
		.it_value = {0, (long)ms * 1000000},
	};
	char err[XLB_ERR_LEN] = "";
	int ret, fd;

	ret = xlb_node_new(cfg, &d->node, err, sizeof(err));
	if (ret) {
		pr_warn("routes: %s", err[0] ? err : strerror(-ret));
		return ret;
	}
	xlb_node_set_attached(d->node, true);
	if (xlb_node_links_fd(d->node) >= 0 &&
	    loop_add_fd(d, &d->links_ev, xlb_node_links_fd(d->node), on_links))
		return -errno;
	if (cfg->cluster.enabled) {
		ret = peer_pools(d, err, sizeof(err));
		if (!ret)
			ret = xlb_sync_new(&cfg->cluster, &ops, &d->sync, err,
					   sizeof(err));
		if (ret) {
			pr_warn("cluster: %s", err[0] ? err : strerror(-ret));
			return ret;
		}
		if (loop_add_fd(d, &d->sync_ev, xlb_sync_fd(d->sync), on_sync))
			return -errno;
		ret = xlb_dp_sync_open(d->dp, on_dp_event, d);
		if (ret) {
			pr_warn("session events: %s", strerror(-ret));
			return ret;
		}
		if (loop_add_fd(d, &d->ring_ev, xlb_dp_sync_fd(d->dp), on_ring))
			return -errno;
		ret = xlb_dp_set_sync(d->dp, true);
		if (ret) {
			pr_warn("session events: %s", strerror(-ret));
			return ret;
		}
		xlb_sync_bulk_start(d->sync, monotonic_ns());
		pr_info("cluster: node %s, %zu peers; pre-online until the "
			"peers' sessions are in (at most %u ms)",
			cfg->cluster.node, cfg->cluster.n_nodes - 1,
			cfg->cluster.preonline_timeout_ms);
	}
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) ||
	    loop_add_fd(d, &d->cluster_ev, fd, on_cluster_timer)) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	xlb_node_announce(d->node, d->agent);
	return 0;
}

/* Withdraw first, so that the routers move the flows while the data
 * plane still forwards them; then the rest. */
static void cluster_stop(struct xlbd *d)
{
	if (d->node) {
		xlb_node_set_state(d->node, XLB_NODE_OFFLINE, "stopping",
				   monotonic_ns());
		xlb_node_withdraw(d->node);
	}
	if (d->sync)
		xlb_dp_set_sync(d->dp, false);
	if (d->cluster_ev.fd > 0) {
		xlb_loop_del(d->epfd, &d->cluster_ev);
		close(d->cluster_ev.fd);
		d->cluster_ev.fd = 0;
	}
	if (d->links_ev.fd > 0)
		xlb_loop_del(d->epfd, &d->links_ev);
	if (d->sync_ev.fd > 0)
		xlb_loop_del(d->epfd, &d->sync_ev);
	if (d->ring_ev.fd > 0)
		xlb_loop_del(d->epfd, &d->ring_ev);
	d->links_ev.fd = d->sync_ev.fd = d->ring_ev.fd = 0;
	xlb_sync_free(d->sync);
	d->sync = NULL;
	xlb_node_free(d->node);
	d->node = NULL;
}

static json_t *cluster_json(struct xlbd *d)
{
	uint64_t now = monotonic_ns();
	json_t *o;

	if (!d->node)
		return NULL;
	o = xlb_node_json(d->node, now);
	if (d->sync) {
		uint64_t events = 0, lost = 0;

		json_object_set_new(o, "sync", xlb_sync_json(d->sync, now));
		json_object_set_new(json_object_get(o, "sync"), "refreshed",
				    json_integer((json_int_t)d->refreshed));
		if (!xlb_dp_sync_stats(d->dp, &events, &lost))
			json_object_set_new(o, "events",
					    json_pack("{s:I, s:I}", "emitted",
						      (json_int_t)events,
						      "lost",
						      (json_int_t)lost));
	}
	return o;
}

static int node_drain(struct xlbd *d, bool drain, char *err, size_t errlen)
{
	enum xlb_node_state s;

	if (!d->node)
		return -EOPNOTSUPP;
	s = xlb_node_state(d->node);
	if (drain && s == XLB_NODE_ONLINE) {
		xlb_node_set_state(d->node, XLB_NODE_DRAINING,
				   "lbctl node drain", monotonic_ns());
	} else if (!drain && s == XLB_NODE_DRAINING) {
		xlb_node_set_state(d->node, XLB_NODE_ONLINE,
				   "lbctl node undrain", monotonic_ns());
	} else if (s == XLB_NODE_PREONLINE) {
		snprintf(err, errlen,
			 "the node is pre-online: it announces nothing yet");
		return -EBUSY;
	}
	xlb_node_announce(d->node, d->agent);
	return 0;
}

/* ---- The daemon's commands, as control.c reaches them (daemon.h) ---- */

static int cmd_ping(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *h = host_json(&daemon_state);

	if (h)
		json_object_set_new(reply, "host", h);
	return 0;
}

static int cmd_stats(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *c = cluster_json(&daemon_state);

	if (c)
		json_object_set_new(reply, "cluster", c);
	return 0;
}

static int cmd_reload(json_t *req, json_t *reply, char *err, size_t errlen)
{
	return reload(&daemon_state, reply, err, errlen);
}

static int cmd_shutdown(json_t *req, json_t *reply, char *err, size_t errlen)
{
	shutdown_full(&daemon_state);
	return 0;
}

static int cmd_config_dump(json_t *req, json_t *reply, char *err, size_t errlen)
{
	return config_dump(&daemon_state, reply, err, errlen);
}

static int cmd_node_status(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *o = cluster_json(&daemon_state);
	int ret = 0;

	if (!o)
		return -EOPNOTSUPP;
	if (json_object_update(reply, o))
		ret = -ENOMEM;
	json_decref(o);
	return ret;
}

static int cmd_node_drain(json_t *req, json_t *reply, char *err, size_t errlen)
{
	return node_drain(&daemon_state, true, err, errlen);
}

static int cmd_node_undrain(json_t *req, json_t *reply, char *err,
			    size_t errlen)
{
	return node_drain(&daemon_state, false, err, errlen);
}

const struct xlb_daemon_cmd xlb_daemon_cmds[] = {
	{"ping", cmd_ping},
	{"stats", cmd_stats},
	{"reload", cmd_reload},
	{"shutdown", cmd_shutdown},
	{"config.dump", cmd_config_dump},
	{"node.status", cmd_node_status},
	{"node.drain", cmd_node_drain},
	{"node.undrain", cmd_node_undrain},
	{NULL},
};

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

static int run(struct xlbd *d)
{
	const struct xlb_config *cfg = &d->cfg;
	struct epoll_event events[16];
	struct xlb_dp_opts opts = {
		.max_vips = cfg->max_vips,
		.max_reals = cfg->max_reals,
		.ct_size = cfg->ct_size,
		.nat_sessions = cfg->nat.sessions,
		.pin_path = cfg->pin_path,
		.flood_guard_rate = cfg->flood_guard_rate,
	};
	struct xlb_reconcile_stats st;
	char err[XLB_ERR_LEN];
	size_t i, n_vips, n_reals;
	int n, ret;

	ret = apply_control_cpus(cfg->control_cpus);
	if (ret)
		return ret;
	ret = ensure_bpffs(cfg->pin_path);
	if (ret) {
		pr_warn("bpffs for %s: %s", cfg->pin_path, strerror(-ret));
		return ret;
	}
	ret = check_orphans(d);
	if (ret)
		return ret;
	ret = xlb_dp_open(&opts, &d->dp, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return ret;
	}
	ret = xlb_agent_new(d->dp, &d->agent);
	if (ret)
		goto out_dp;
	ret = xlb_health_new(d->epfd, on_health, d, &d->health);
	if (ret) {
		pr_warn("health checks: %s", strerror(-ret));
		goto out_agent;
	}
	ret = xlb_sysctls_open(d->dp, "/proc/sys", &d->sysctls);
	if (ret) {
		pr_warn("kernel settings kept in %s: %s", cfg->pin_path,
			strerror(-ret));
		goto out_agent;
	}
	xlb_agent_on_change(d->agent, on_agent_change, d);
	xlb_agent_on_real_json(d->agent, real_health_json, d);
	if (xlb_dp_adopted(d->dp)) {
		ret = xlb_agent_adopt(d->agent, &n_vips, &n_reals);
		if (ret) {
			pr_warn("reading the pinned maps: %s", strerror(-ret));
			goto out_agent;
		}
		pr_info("adopted the running data plane from %s: %zu VIPs, "
			"%zu reals",
			cfg->pin_path, n_vips, n_reals);
	}
	if (xlb_dp_adopted(d->dp) && !d->cli->config) {
		/* Managed through lbctl alone: what runs is the state to
		 * keep. With a file, the file is the truth. */
		ret = xlb_agent_set_globals(d->agent, cfg);
		if (ret) {
			pr_warn("writing globals: %s", strerror(-ret));
			goto out_agent;
		}
	} else {
		ret = xlb_agent_reconcile(d->agent, cfg, &st, err, sizeof(err));
		if (ret) {
			pr_warn("%s", err);
			goto out_agent;
		}
		log_changes("configured", &st);
	}
	ret = xlb_vlans_apply(d->dp, cfg, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		goto out_agent;
	}
	/* Attach last: the maps are complete before the first packet. */
	for (i = 0; i < cfg->n_interfaces; i++) {
		ret = xlb_dp_attach(d->dp, cfg->interfaces[i], cfg->xdp_mode,
				    err, sizeof(err));
		if (ret) {
			pr_warn("%s", err);
			goto out_agent;
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
	sync_health(d->agent, d);
	accept_local_sync(d);
	forwarding_sync(d);
	ret = gc_start(d);
	if (ret) {
		pr_warn("session sweep timer: %s", strerror(-ret));
		goto out_agent;
	}
	ret = cluster_start(d);
	if (ret)
		goto out_cluster;
	ret = xlb_control_open(cfg->socket_path, d->agent, d->epfd, &d->ctl);
	if (ret) {
		pr_warn("control socket %s: %s", cfg->socket_path,
			strerror(-ret));
		goto out_cluster;
	}
	if (cfg->metrics_listen[0]) {
		ret = xlb_metrics_open(cfg->metrics_listen, d->agent, d->epfd,
				       &d->metrics);
		if (ret) {
			pr_warn("metrics on %s: %s", cfg->metrics_listen,
				strerror(-ret));
			goto out_ctl;
		}
		pr_info("metrics on http://%s/metrics", cfg->metrics_listen);
	}
	ret = xlb_sd_watchdog_start(d->epfd, &d->watchdog);
	if (ret)
		pr_warn("systemd watchdog: %s", strerror(-ret));
	pr_info("ready: %zu VIP(s), control socket %s", cfg->n_vips,
		cfg->socket_path);
	xlb_sd_ready("forwarding");

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
	xlb_sd_stopping();
	cluster_stop(d);
	xlb_sd_watchdog_stop(d->watchdog);
	gc_stop(d);
	/* A full stop gives the node its settings back; a restart keeps
	 * them for the data plane that runs on. */
	if (d->full_stop)
		sysctls_restore_all(d);
	xlb_metrics_close(d->metrics);
out_ctl:
	xlb_control_close(d->ctl);
out_cluster:
	cluster_stop(d);
out_agent:
	gc_stop(d);
	xlb_health_free(d->health);
	xlb_agent_free(d->agent);
	xlb_sysctls_free(d->sysctls);
	d->sysctls = NULL;
out_dp:
	/* A full stop detaches and unpins; otherwise the data plane runs
	 * on for the next agent. */
	xlb_dp_close(d->dp, d->full_stop);
	if (d->full_stop)
		pr_info("stopped: program detached, maps unpinned");
	return ret;
}

int main(int argc, char **argv)
{
	struct xlbd *d = &daemon_state;
	char err[XLB_ERR_LEN];
	struct cli cli;
	sigset_t mask;
	int ret;

	xlb_log_set_ident("xlbd");
	xlb_log_hook_libs();
	if (parse_cli(argc, argv, &cli))
		return EXIT_USAGE;
	d->cli = &cli;
	if (build_config(&cli, &d->cfg, err, sizeof(err))) {
		pr_warn("%s", err);
		xlb_config_free(&d->cfg);
		return EXIT_CONFIG;
	}
	if (cli.check) {
		printf("%s: configuration ok (%zu VIPs)\n",
		       cli.config ? cli.config : "(defaults)", d->cfg.n_vips);
		xlb_config_free(&d->cfg);
		return EXIT_OK;
	}
	if (!d->cfg.n_interfaces)
		pr_warn("no interface given: the program is loaded but sees "
			"no traffic (use --interface or interfaces:)");

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sig_ev.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->sig_ev.handler = on_signal;
	if (d->epfd < 0 || d->sig_ev.fd < 0 ||
	    xlb_loop_add(d->epfd, &d->sig_ev, EPOLLIN)) {
		pr_warn("event loop: %s", strerror(errno));
		xlb_config_free(&d->cfg);
		return EXIT_RUNTIME;
	}
	ret = run(d);
	close(d->sig_ev.fd);
	close(d->epfd);
	xlb_config_free(&d->cfg);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}
