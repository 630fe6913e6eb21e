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
 * the attachment (it needs a restart), or NULL.
 */
const char *xlb_restart_only_change(const struct xlb_config *a,
				    const struct xlb_config *b);

/* lbctl reload's "changes": a new reference, or NULL. */
json_t *xlb_reconcile_json(const struct xlb_reconcile_stats *st);

#endif /* XLB_RELOAD_H */
