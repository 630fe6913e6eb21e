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
#include "settings.h"

/* The struct a node setting of section is stored in; NULL for the
 * sections compared whole (routes, cluster: every key needs a restart). */
static const void *section_of(const struct xlb_config *c, const char *section)
{
	if (!*section)
		return c;
	if (!strcmp(section, "fullnat"))
		return &c->nat;
	return NULL;
}

const char *xlb_restart_only_change(const struct xlb_config *a,
				    const struct xlb_config *b)
{
	static char name[64];
	const struct xlb_setting *all, *s;
	const char *pa, *pb;
	size_t n, i;
	bool differs;

	all = xlb_settings(&n);
	for (i = 0; i < n; i++) {
		s = &all[i];
		if (!s->restart || s->scope != XLB_SCOPE_NODE)
			continue;
		pa = section_of(a, s->section);
		pb = section_of(b, s->section);
		if (!pa)
			continue;
		if (!s->size)
			differs = !s->differs || s->differs(a, b);
		else if (s->type == XLB_SET_PATH || s->type == XLB_SET_NAME)
			differs = strncmp(pa + s->offset, pb + s->offset,
					  s->size);
		else
			differs = xlb_setting_load(s, pa) !=
				  xlb_setting_load(s, pb);
		if (!differs)
			continue;
		snprintf(name, sizeof(name), "%s%s%s", s->section,
			 *s->section ? "." : "", s->key);
		return name;
	}
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
