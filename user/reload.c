// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reload: the settings a reload may not change, and its reply.
 */
#include <string.h>

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
