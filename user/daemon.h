/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xlbd serves itself, beside the model (user/agent.h): reload,
 * shutdown, the running configuration, the node and the host. The
 * control socket and /metrics reach it through this table, which the
 * daemon defines (user/xlbd_cmds.c); a test that links control.c or
 * metrics.c without the daemon defines its own.
 *
 * A row is a whole command (reload, shutdown, config.dump, node.drain,
 * node.undrain), or the daemon's part of a command the model answers
 * too, added to its reply: ping ("host"), stats ("cluster"),
 * node.status (the node, routes and sync).
 */
#ifndef XLB_DAEMON_H
#define XLB_DAEMON_H

#include <jansson.h>
#include <string.h>

struct xlb_daemon_cmd {
	const char *name;
	/* Fill reply or err (one line); 0 or -errno (-EOPNOTSUPP: the
	 * daemon has no such part, e.g. no node). req may be NULL. */
	int (*run)(json_t *req, json_t *reply, char *err, size_t errlen);
};

/* Ends with a row whose name is NULL. */
extern const struct xlb_daemon_cmd xlb_daemon_cmds[];

/* The daemon's row named name, or NULL. */
static inline const struct xlb_daemon_cmd *xlb_daemon_cmd(const char *name)
{
	const struct xlb_daemon_cmd *c;

	for (c = xlb_daemon_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

#endif /* XLB_DAEMON_H */
