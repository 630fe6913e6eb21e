// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reload: the settings a reload may not change, applying a file all or
 * nothing, and the reply.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "maps.h"
#include "reload.h"

const char *xlb_restart_only_change(const struct xlb_config *a,
				    const struct xlb_config *b)
{
	size_t i;

	if (a->n_interfaces != b->n_interfaces)
		return "interfaces";
	for (i = 0; i < a->n_interfaces; i++)
		if (strcmp(a->interfaces[i], b->interfaces[i]))
			return "interfaces";
	if (a->xdp_mode != b->xdp_mode)
		return "xdp_mode";
	if (strcmp(a->socket_path, b->socket_path))
		return "socket";
	if (strcmp(a->pin_path, b->pin_path))
		return "pin_path";
	if (a->ct_size != b->ct_size)
		return "conntrack_size";
	if (a->flood_guard_rate != b->flood_guard_rate)
		return "flood_guard_rate";
	if (a->max_vips != b->max_vips)
		return "max_vips";
	if (a->max_reals != b->max_reals)
		return "max_reals";
	if (a->nat.sessions != b->nat.sessions)
		return "fullnat.sessions";
	if (strcmp(a->metrics_listen, b->metrics_listen))
		return "metrics";
	if (strcmp(a->control_cpus, b->control_cpus))
		return "control_cpus";
	if (memcmp(&a->routes, &b->routes, sizeof(a->routes)))
		return "routes";
	if (memcmp(&a->cluster, &b->cluster, sizeof(a->cluster)))
		return "cluster";
	return NULL;
}

int xlb_vlans_apply(struct xlb_dp *dp, const struct xlb_config *cfg, char *err,
		    size_t errlen)
{
	struct xlb_dp_vlans ifs[XLB_MAX_INTERFACES];
	size_t i;
	int ret;

	for (i = 0; i < cfg->n_interfaces; i++) {
		ifs[i].ifindex = (int)if_nametoindex(cfg->interfaces[i]);
		if (!ifs[i].ifindex)
			return xlb_errf(err, errlen, -ENODEV,
					"vlans: no interface %s",
					cfg->interfaces[i]);
		ifs[i].vids = xlb_config_vlans(cfg, cfg->interfaces[i]);
	}
	ret = xlb_dp_vlans_sync(dp, ifs, cfg->n_interfaces);
	if (ret)
		xlb_errf(err, errlen, ret, "writing the VLANs: %s",
			 strerror(-ret));
	return ret;
}

/* The VIPs of a running_config() copy (the rest is borrowed). */
static void running_free(struct xlb_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_vips; i++)
		free(cfg->vips[i].reals);
	free(cfg->vips);
}

int xlb_reload_apply(struct xlb_agent *agent, const struct xlb_config *running,
		     const struct xlb_config *next,
		     struct xlb_reconcile_stats *st, char *err, size_t errlen)
{
	struct xlb_dp *dp = xlb_agent_dp(agent);
	struct xlb_config prev = *running; /* borrows running's strings */
	struct xlb_reconcile_stats undo;
	char why[XLB_ERR_LEN];
	size_t len;
	int ret, r;

	/* What runs now, to go back to. */
	prev.vips = NULL;
	prev.n_vips = 0;
	ret = xlb_agent_running_config(agent, &prev);
	if (ret)
		return xlb_errf(err, errlen, ret,
				"reading the running state: %s",
				strerror(-ret));
	xlb_agent_hold_changes(agent, true);
	ret = xlb_agent_reconcile(agent, next, st, err, errlen);
	if (!ret)
		ret = xlb_vlans_apply(dp, next, err, errlen);
	if (ret) {
		/* Back to prev: the same reconcile, the other way. Only
		 * what the failed part changed is written again. */
		r = xlb_agent_reconcile(agent, &prev, &undo, why, sizeof(why));
		if (!r)
			r = xlb_vlans_apply(dp, &prev, why, sizeof(why));
		len = err ? strlen(err) : 0;
		if (r && err && len < errlen)
			snprintf(err + len, errlen - len,
				 "; restoring the state before failed too: %s",
				 why);
	}
	xlb_agent_hold_changes(agent, false);
	running_free(&prev);
	return ret;
}

json_t *xlb_reconcile_json(const struct xlb_reconcile_stats *st)
{
	return json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "changes", "vips_added", (json_int_t)st->vips_added,
			 "vips_removed", (json_int_t)st->vips_removed,
			 "vips_changed", (json_int_t)st->vips_changed,
			 "reals_added", (json_int_t)st->reals_added,
			 "reals_removed", (json_int_t)st->reals_removed,
			 "reals_changed", (json_int_t)st->reals_changed,
			 "checks_changed", (json_int_t)st->checks_changed,
			 "laddrs_added", (json_int_t)st->laddrs_added,
			 "laddrs_removed", (json_int_t)st->laddrs_removed);
}
