/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's control socket (docs/CONTROL.md): a Unix stream socket carrying
 * one JSON request per line and one JSON reply per line, served from the
 * daemon's epoll loop. Requests are applied through user/agent.h.
 */
#ifndef XLB_CONTROL_H
#define XLB_CONTROL_H

#include <jansson.h>

#include "agent.h"

/*
 * Connections served at once. A newcomer beyond them closes the oldest
 * connection that waits for a request; when every one is being answered,
 * the newcomer is told "too many clients" and closed.
 */
#define XLB_CTL_MAX_CLIENTS 64
/* A client must send a whole request (or take its reply) within this. */
#define XLB_CTL_TIMEOUT_MS 3000

struct xlb_control;

/*
 * Create the socket at path (its directory is created with mode 0700 if
 * missing, a stale socket is replaced, the socket gets mode 0600), listen
 * on it and register it in the epoll set epfd through xlb_loop_add().
 * -EADDRINUSE if another daemon answers on path, -EEXIST if path is not a
 * socket, -ENAMETOOLONG if it does not fit sun_path. The socket, a timer
 * and the clients live in an epoll set of the server's own, which is the
 * one event registered in epfd.
 */
int xlb_control_open(const char *path, struct xlb_agent *agent, int epfd,
		     struct xlb_control **out);
/* Close every client and the socket, and unlink it. Accepts NULL. */
void xlb_control_close(struct xlb_control *ctl);

/*
 * Apply one request and return a new reply object: {"ok": true, ...} or
 * {"ok": false, "error": "reason"}. NULL only when out of memory.
 */
json_t *xlb_control_dispatch(struct xlb_agent *agent, json_t *req);

#endif /* XLB_CONTROL_H */
