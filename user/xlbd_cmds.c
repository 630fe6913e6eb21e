// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the control socket asks of the daemon itself (user/daemon.h):
 * reload, shutdown, the running configuration, and the daemon's part of
 * ping (host), stats and node.status (the node).
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "reload.h"
#include "xlbd.h"

/* Log what a reconcile did, once. */
void xlbd_log_changes(const char *what, const struct xlb_reconcile_stats *st)
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
int xlbd_reload(struct xlbd *d, json_t *reply, char *err, size_t errlen)
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
	ret = xlbd_build_config(d->cli, &cfg, err, errlen);
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
	xlbd_log_changes("reloaded", &st);
	if (reply) {
		json_t *r = xlb_reconcile_json(&st);

		json_object_update(reply, r);
		json_decref(r);
	}
	xlb_config_free(&d->cfg);
	d->cfg = cfg;
	xlbd_gc_arm(d);
	/* A new tunnel source or local pool changes the routes asked. */
	if (d->nexthops)
		xlb_nexthops_sync(d->nexthops);
	return 0;
out:
	xlb_config_free(&cfg);
	return ret;
}

/*
 * lbctl config dump: the settings as running (the file's, with the
 * command line on top) and the agent's VIPs and local pool, as a file.
 */
static int xlbd_config_dump(struct xlbd *d, json_t *reply, char *err,
			    size_t errlen)
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

static void xlbd_shutdown_full(struct xlbd *d)
{
	pr_info("shutdown requested: detaching and unpinning");
	d->full_stop = true;
	d->stop = true;
}

/* ---- The daemon's commands, as control.c reaches them (daemon.h) ---- */

static int cmd_ping(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *h = xlbd_host_json(&daemon_state);

	if (h)
		json_object_set_new(reply, "host", h);
	return 0;
}

static int cmd_stats(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *c = xlbd_cluster_json(&daemon_state);

	if (c)
		json_object_set_new(reply, "cluster", c);
	return 0;
}

static int cmd_reload(json_t *req, json_t *reply, char *err, size_t errlen)
{
	return xlbd_reload(&daemon_state, reply, err, errlen);
}

static int cmd_shutdown(json_t *req, json_t *reply, char *err, size_t errlen)
{
	xlbd_shutdown_full(&daemon_state);
	return 0;
}

static int cmd_config_dump(json_t *req, json_t *reply, char *err, size_t errlen)
{
	return xlbd_config_dump(&daemon_state, reply, err, errlen);
}

static int cmd_node_status(json_t *req, json_t *reply, char *err, size_t errlen)
{
	json_t *o = xlbd_cluster_json(&daemon_state);
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
	return xlbd_node_drain(&daemon_state, true, err, errlen);
}

static int cmd_node_undrain(json_t *req, json_t *reply, char *err,
			    size_t errlen)
{
	return xlbd_node_drain(&daemon_state, false, err, errlen);
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
