// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cluster (docs/CLUSTER.md) from the daemon's side: node lifecycle
 * and routes, session sync with the peers, the data plane's session
 * events, the refresh of long-lived sessions at the peers, and a node's
 * return after a silence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "log.h"
#include "xlbd.h"

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

int xlbd_cluster_start(struct xlbd *d)
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
void xlbd_cluster_stop(struct xlbd *d)
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

json_t *xlbd_cluster_json(struct xlbd *d)
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

int xlbd_node_drain(struct xlbd *d, bool drain, char *err, size_t errlen)
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
