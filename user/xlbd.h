/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd, the agent, in files named for their job:
 *   xlbd.c          command line, configuration, signals, main
 *   xlbd_start.c    start-up and shutdown: one ordered list of steps, each
 *                   with its undo, unwound in reverse; the event loop
 *   xlbd_cmds.c     what the control socket asks of the daemon (daemon.h):
 *                   reload, shutdown, config dump, host and node views
 *   xlbd_health.c   health checks following the model's reals
 *   xlbd_sysctl.c   the kernel settings the data plane needs
 *   xlbd_cluster.c  node lifecycle, routes, session sync and refresh
 * The model is user/agent.h, the data plane user/maps.h.
 */
#ifndef XLB_XLBD_H
#define XLB_XLBD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "agent.h"
#include "control.h"
#include "health.h"
#include "loop.h"
#include "maps.h"
#include "metrics.h"
#include "nexthop.h"
#include "node.h"
#include "sdnotify.h"
#include "sync.h"
#include "sysctl.h"
#include "xlb.h"

/* The command line (xlbd.c). */
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

/* The one daemon: its state as running. */
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
	/* Start-up: the data plane was adopted from pins (a restart), so
	 * a failed start leaves it running; else it is removed again. */
	bool adopted;
	bool started;	       /* every start-up step done */
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
	/* The reals' resolved next hops and their change events. */
	struct xlb_nexthops *nexthops;
	struct xlb_event nh_ev;
};

extern struct xlbd daemon_state;

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xlbd.c: the file's configuration with the command line on top. */
int xlbd_build_config(const struct cli *cli, struct xlb_config *cfg, char *err,
		      size_t errlen);

/* xlbd_start.c: start, serve until stopped, stop. 0 or -errno. */
int xlbd_run(struct xlbd *d);
/* Re-arm the session sweep for cfg.nat.gc_interval_ms (after a reload). */
void xlbd_gc_arm(struct xlbd *d);
/* Log what a reconcile did, once. */
void xlbd_log_changes(const char *what, const struct xlb_reconcile_stats *st);
/* The model changed: checks, kernel settings and routes follow. */
void xlbd_on_agent_change(struct xlb_agent *agent, void *arg);

/* xlbd_cmds.c */
int xlbd_reload(struct xlbd *d, json_t *reply, char *err, size_t errlen);

/* xlbd_health.c */
void xlbd_on_health(void *arg, const struct xlb_service *svc,
		    const struct xlb_ip *real, bool up, const char *reason);
void xlbd_health_sync(struct xlb_agent *agent, void *arg);
void xlbd_real_health_json(void *arg, const struct xlb_service *svc,
			   const struct xlb_ip *real, json_t *obj);

/* xlbd_sysctl.c */
void xlbd_accept_local_sync(struct xlbd *d);
void xlbd_forwarding_sync(struct xlbd *d);
void xlbd_sysctls_restore_all(struct xlbd *d);
json_t *xlbd_host_json(struct xlbd *d);

/* xlbd_cluster.c: start (announces), stop (withdraws first). */
int xlbd_cluster_start(struct xlbd *d);
void xlbd_cluster_stop(struct xlbd *d);
json_t *xlbd_cluster_json(struct xlbd *d);
int xlbd_node_drain(struct xlbd *d, bool drain, char *err, size_t errlen);

#endif /* XLB_XLBD_H */
