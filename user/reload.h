/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reload (SIGHUP, lbctl reload): what may change without a restart, and
 * what a reload did, as lbctl shows it.
 */
#ifndef XLB_RELOAD_H
#define XLB_RELOAD_H

#include <jansson.h>

#include "agent.h"
#include "xlb.h"

/*
 * The first setting that differs between a and b and shapes the maps or
 * the attachment (marked restart in the settings table, user/settings.c),
 * as "section.key", or NULL. The name is valid until the next call.
 */
const char *xlb_restart_only_change(const struct xlb_config *a,
				    const struct xlb_config *b);

/*
 * Each interface's balanced VLAN ids (config `vlans`) to the data plane;
 * any other interface's are forgotten.
 */
int xlb_vlans_apply(struct xlb_dp *dp, const struct xlb_config *cfg, char *err,
		    size_t errlen);

/*
 * Make the running state next (a validated configuration), all or
 * nothing: running is the configuration as running (its settings; the
 * VIPs and local pool are taken from the model). When a write fails
 * part-way, the state before is written back and err says what failed.
 * The model's change hook runs once, after, and only if something
 * changed.
 */
int xlb_reload_apply(struct xlb_agent *agent, const struct xlb_config *running,
		     const struct xlb_config *next,
		     struct xlb_reconcile_stats *st, char *err, size_t errlen);

/* lbctl reload's "changes": a new reference, or NULL. */
json_t *xlb_reconcile_json(const struct xlb_reconcile_stats *st);

#endif /* XLB_RELOAD_H */
