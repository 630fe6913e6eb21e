/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's Prometheus endpoint (docs/METRICS.md): GET /metrics in the text
 * exposition format 0.0.4, served by libmicrohttpd from the daemon's own
 * epoll loop (no thread of its own). Every scrape renders the agent's
 * stats view (xlb_agent_stats_json) afresh; nothing is cached.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "agent.h"

#define XLB_METRICS_PATH	 "/metrics"
#define XLB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct xlb_metrics;

/*
 * Parse a listen address: "ADDR:PORT" with an IPv4 address or
 * "[ADDR]:PORT" with an IPv6 one; PORT 0..65535 (0: the kernel picks
 * one). Returns 0 or -EINVAL; fills ss and *len.
 */
int xlb_metrics_listen_parse(const char *listen, struct sockaddr_storage *ss,
			     socklen_t *len);

/*
 * Listen on listen (see above; NULL, "" or "off" leaves the endpoint
 * off: *out is set to NULL and 0 returned) and register the server in the epoll
 * set epfd through xlb_loop_add(): two descriptors, libmicrohttpd's own epoll
 * fd and a timerfd for its timeouts. Each scrape calls
 * xlb_agent_stats_json(agent). Returns 0, -EINVAL for a bad address,
 * -EADDRINUSE and the like from bind, -ENOMEM.
 */
int xlb_metrics_open(const char *listen, struct xlb_agent *agent, int epfd,
		     struct xlb_metrics **out);
/* Stop serving, close every connection, unregister. Accepts NULL. */
void xlb_metrics_close(struct xlb_metrics *m);
/* The port the server listens on (useful after asking for port 0). */
int xlb_metrics_port(const struct xlb_metrics *m);

/*
 * Render a stats view (the "stats" reply of docs/CONTROL.md, with the
 * optional members described in docs/METRICS.md) as exposition text.
 * *buf is malloc'd and NUL-terminated; *len excludes the NUL. Members
 * that are absent or of the wrong type are skipped, never an error.
 * Returns 0 or -ENOMEM.
 */
int xlb_metrics_render_json(json_t *stats, char **buf, size_t *len);

/*
 * The members of the stats view the renderer's per-object families read,
 * for tests that check them against the agent's real view: fn is called
 * once per family with the object it reads ("vip", "real" or
 * "fullnat"), the member, the member of that member (NULL when none) and
 * the family's name.
 */
typedef void (*xlb_metrics_key_fn)(void *arg, const char *object,
				   const char *key, const char *sub,
				   const char *family);
void xlb_metrics_view_keys(xlb_metrics_key_fn fn, void *arg);

#endif /* XLB_METRICS_H */
