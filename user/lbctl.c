// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lbctl: parse the command line (lbctl_cli.c), run the command - one
 * request line to xlbd's control socket and one reply line back (a few
 * in turn for status, a sample every period for stats --rate/--watch),
 * or a local action for the decap commands - print the reply and map the
 * outcome to the exit codes of docs/LBCTL.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "decap.h"
#include "lbctl_cli.h"
#include "log.h"
#include "xlb.h"

#define LBCTL_TIMEOUT_MS 5000
#define LBCTL_MAX_REPLY	 (64u << 20) /* a stats reply of every VIP fits */

/* ---- Local commands ---------------------------------------------------- */

/* {"ok": true} or {"ok": false, "error": err} for a local action. */
static json_t *local_reply(int ret, const char *err)
{
	if (!ret)
		return json_pack("{s:b}", "ok", 1);
	return json_pack("{s:b,s:s}", "ok", 0, "error",
			 err[0] ? err : strerror(-ret));
}

/*
 * The sources of a decap.attach request: its "from" array of prefixes,
 * where "any" stands for 0.0.0.0/0 and ::/0. Returns how many, or
 * -EINVAL with err set.
 */
static int decap_sources(json_t *from, struct xlb_decap_source *src, bool *any,
			 char *err, size_t errlen)
{
	const char *s;
	json_t *p;
	size_t i;
	int n = 0;

	*any = false;
	if (!json_array_size(from))
		return xlb_errf(err, errlen, -EINVAL,
				"decap attach needs --from: the balancers' "
				"tunnel_source prefixes, or any");
	json_array_foreach(from, i, p) {
		s = json_string_value(p);
		if (n + 2 > XLB_DECAP_MAX_SOURCES)
			return xlb_errf(err, errlen, -E2BIG,
					"--from: at most %d prefixes",
					XLB_DECAP_MAX_SOURCES);
		if (s && !strcmp(s, "any")) {
			*any = true;
			xlb_prefix_parse("0.0.0.0/0", &src[n].net,
					 &src[n].plen);
			n++;
			xlb_prefix_parse("::/0", &src[n].net, &src[n].plen);
			n++;
			continue;
		}
		if (xlb_prefix_parse(s, &src[n].net, &src[n].plen) ||
		    xlb_prefix_has_host_bits(&src[n].net, src[n].plen))
			return xlb_errf(err, errlen, -EINVAL,
					"--from: bad prefix '%s'", s ?: "");
		n++;
	}
	return n;
}

/* decap.attach: {"ifname": IFNAME, "from": [PREFIX...], "generic": true?,
 * "gue_port": PORT?} */
static json_t *local_decap_attach(json_t *req)
{
	const char *ifname = json_string_value(json_object_get(req, "ifname"));
	enum xlb_xdp_mode mode = json_is_true(json_object_get(req, "generic"))
					 ? XLB_XDP_GENERIC
					 : XLB_XDP_NATIVE;
	struct xlb_decap_source src[XLB_DECAP_MAX_SOURCES];
	json_t *port = json_object_get(req, "gue_port");
	json_int_t gue_port = XLB_GUE_PORT_DEFAULT;
	char err[XLB_ERR_LEN] = "";
	bool any;
	int n, ret;

	if (port)
		gue_port = json_integer_value(port);
	if (gue_port < 1 || gue_port > 65535)
		return local_reply(-ERANGE, "--gue-port: expected 1..65535");
	n = decap_sources(json_object_get(req, "from"), src, &any, err,
			  sizeof(err));
	if (n < 0)
		return local_reply(n, err);
	ret = xlb_decap_attach(ifname, mode, src, n, (uint16_t)gue_port, err,
			       sizeof(err));
	if (!ret && any)
		pr_warn("warning: decap on %s accepts tunnels from any source: "
			"whoever can reach this host can inject packets with "
			"any inner source; give the balancers' tunnel_source "
			"prefixes with --from",
			ifname);
	return local_reply(ret, err);
}

/* decap.detach: {"ifname": IFNAME} */
static json_t *local_decap_detach(json_t *req)
{
	const char *ifname = json_string_value(json_object_get(req, "ifname"));
	char err[XLB_ERR_LEN] = "";

	return local_reply(xlb_decap_detach(ifname, err, sizeof(err)), err);
}

static const struct {
	const char *cmd;
	json_t *(*run)(json_t *req);
} local_cmds[] = {
	{"decap.attach", local_decap_attach},
	{"decap.detach", local_decap_detach},
};

/* Run a local command's request; the reply has the daemon's shape. */
static json_t *local_run(json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	size_t i;

	for (i = 0; i < sizeof(local_cmds) / sizeof(local_cmds[0]); i++)
		if (!strcmp(local_cmds[i].cmd, cmd))
			return local_cmds[i].run(req);
	return json_pack("{s:b,s:s}", "ok", 0, "error",
			 "no local implementation");
}

/* ---- The control socket ------------------------------------------------ */

/* Milliseconds left until deadline, 0 when it has passed. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Wait until fd is ready for events, or -ETIMEDOUT. */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&pfd, 1, ms_left(deadline));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/*
 * Connect to path. The connect itself is bounded by SO_SNDTIMEO (a full
 * backlog makes it wait); afterwards the socket is non-blocking and every
 * wait goes through poll() against the deadline.
 */
static int ctl_connect(const char *path, int *fdp)
{
	struct timeval tv = {.tv_sec = LBCTL_TIMEOUT_MS / 1000};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK)) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT
							      : -errno;
		close(fd);
		return ret;
	}
	*fdp = fd;
	return 0;
}

/* Write all of buf before the deadline. */
static int ctl_send(int fd, const char *buf, size_t len,
		    const struct timespec *deadline)
{
	ssize_t n;
	int ret;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			ret = wait_fd(fd, POLLOUT, deadline);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Read one '\n'-terminated line before the deadline; *line is malloc'd. */
static int ctl_recv_line(int fd, char **line, size_t *linelen,
			 const struct timespec *deadline)
{
	size_t len = 0, cap = 4096;
	char *buf, *nl = NULL, *tmp;
	ssize_t n;
	int ret;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (!nl) {
		if (len == cap) {
			if (cap >= LBCTL_MAX_REPLY) {
				ret = -EMSGSIZE;
				goto out_free;
			}
			tmp = realloc(buf, cap * 2);
			if (!tmp) {
				ret = -ENOMEM;
				goto out_free;
			}
			buf = tmp;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ret = -errno;
				goto out_free;
			}
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret)
				goto out_free;
			continue;
		}
		if (n == 0) {
			ret = -ECONNRESET;
			goto out_free;
		}
		nl = memchr(buf + len, '\n', n);
		len += n;
	}
	*line = buf;
	*linelen = nl - buf;
	return 0;

out_free:
	free(buf);
	return ret;
}

/*
 * Send req to the daemon at path and read its reply. On failure err says
 * what went wrong, for the operator.
 */
static int ctl_roundtrip(const char *path, json_t *req, json_t **reply,
			 char *err, size_t errlen)
{
	struct timespec deadline;
	char *out = NULL, *line = NULL;
	size_t len, linelen = 0;
	json_error_t jerr;
	int fd = -1, ret;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += LBCTL_TIMEOUT_MS / 1000;

	ret = ctl_connect(path, &fd);
	if (ret) {
		snprintf(err, errlen, "cannot reach xlbd at %s: %s", path,
			 strerror(-ret));
		return ret;
	}

	len = json_dumpb(req, NULL, 0, JSON_COMPACT);
	out = len ? malloc(len + 1) : NULL;
	if (!out || json_dumpb(req, out, len, JSON_COMPACT) != len) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_close;
	}
	out[len] = '\n';
	ret = ctl_send(fd, out, len + 1, &deadline);
	if (!ret)
		ret = ctl_recv_line(fd, &line, &linelen, &deadline);
	if (ret == -ETIMEDOUT) {
		snprintf(err, errlen, "no answer from xlbd at %s within %d s",
			 path, LBCTL_TIMEOUT_MS / 1000);
		goto out_free;
	}
	if (ret) {
		snprintf(err, errlen, "lost xlbd at %s: %s", path,
			 strerror(-ret));
		goto out_free;
	}

	*reply = json_loadb(line, linelen, 0, &jerr);
	if (!*reply || !json_is_boolean(json_object_get(*reply, "ok"))) {
		snprintf(err, errlen, "bad reply from xlbd at %s: %s", path,
			 *reply ? "no \"ok\" field" : jerr.text);
		json_decref(*reply);
		*reply = NULL;
		ret = -EPROTO;
	}

out_free:
	free(line);
out_close:
	free(out);
	close(fd);
	return ret;
}

/*
 * Send req to the daemon: one request, or each of an array of them in
 * turn with the replies merged into one object (a refusal ends it).
 * Returns an exit code; *reply is set whenever the daemon answered.
 */
static int ctl_request(const char *socket, json_t *req, json_t **reply)
{
	char err[XLB_ERR_LEN];
	json_t *merged, *one;
	size_t i;
	int code;

	*reply = NULL;
	if (!json_is_array(req)) {
		if (ctl_roundtrip(socket, req, reply, err, sizeof(err))) {
			pr_warn("%s", err);
			return LBCTL_EXIT_UNREACHABLE;
		}
		return json_is_true(json_object_get(*reply, "ok"))
			       ? LBCTL_EXIT_OK
			       : LBCTL_EXIT_FAILED;
	}
	merged = json_object();
	if (!merged) {
		pr_warn("out of memory");
		return LBCTL_EXIT_FAILED;
	}
	for (i = 0; i < json_array_size(req); i++) {
		code = ctl_request(socket, json_array_get(req, i), &one);
		if (code != LBCTL_EXIT_OK) {
			json_decref(merged);
			*reply = one;
			return code;
		}
		code = json_object_update(merged, one);
		json_decref(one);
		if (code) {
			json_decref(merged);
			pr_warn("out of memory");
			return LBCTL_EXIT_FAILED;
		}
	}
	*reply = merged;
	return LBCTL_EXIT_OK;
}

/*
 * Print a reply: with --json as it is, whatever its "ok"; else the
 * table, or the daemon's reason for a refusal. Returns the exit code.
 */
static int report(const struct lbctl_invocation *inv, json_t *reply)
{
	if (inv->json)
		lbctl_print_reply(stdout, inv, reply);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		pr_warn("error: %s",
			json_string_value(json_object_get(reply, "error"))
				?: "(no reason given)");
		return LBCTL_EXIT_FAILED;
	}
	if (!inv->json)
		lbctl_print_reply(stdout, inv, reply);
	return LBCTL_EXIT_OK;
}

/* Seconds from a to b. */
static double ts_seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Sleep until the monotonic time t (at once if it has passed). */
static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) ==
	       EINTR)
		;
}

/* What watch(1) shows above each print: the period and the time. */
static void watch_heading(const struct lbctl_invocation *inv)
{
	time_t now = time(NULL);
	char when[64];
	struct tm tm;

	if (inv->json)
		return;
	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		 localtime_r(&now, &tm));
	printf("Every %us: lbctl stats%s    %s\n\n", inv->watch_s,
	       inv->rate ? " --rate" : "", when);
}

/*
 * stats --rate and/or --watch: take a sample every period and print it,
 * or with --rate the rates since the previous sample (so --rate alone
 * takes two samples LBCTL_RATE_INTERVAL_S apart and prints once).
 * Stops after --count prints, at the first failure, or when interrupted.
 */
static int run_sampling(const struct lbctl_invocation *inv)
{
	uint32_t period = inv->watch_s ?: LBCTL_RATE_INTERVAL_S, printed = 0;
	struct timespec next, now, then;
	json_t *prev = NULL, *cur, *rates;
	int code;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		code = ctl_request(inv->socket, inv->request, &cur);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (code != LBCTL_EXIT_OK) {
			if (cur)
				code = report(inv, cur);
			json_decref(cur);
			break;
		}
		if (!inv->rate) {
			if (inv->watch_s)
				watch_heading(inv);
			code = report(inv, cur);
			printed++;
		} else if (prev) {
			rates = lbctl_stats_rates(prev, cur,
						  ts_seconds(&then, &now));
			if (!rates) {
				pr_warn("out of memory");
				json_decref(cur);
				code = LBCTL_EXIT_FAILED;
				break;
			}
			if (inv->watch_s)
				watch_heading(inv);
			code = report(inv, rates);
			json_decref(rates);
			printed++;
		}
		json_decref(prev);
		prev = cur;
		then = now;
		fflush(stdout);
		if (code != LBCTL_EXIT_OK || (!inv->watch_s && printed) ||
		    (inv->count && printed >= inv->count))
			break;
		next.tv_sec += period;
		sleep_until(&next);
	}
	json_decref(prev);
	return code;
}

int main(int argc, char **argv)
{
	struct lbctl_invocation inv;
	char err[XLB_ERR_LEN];
	json_t *reply = NULL;
	int ret, code;

	xlb_log_set_ident("lbctl");
	ret = lbctl_parse(argc, argv, &inv, err, sizeof(err));
	if (ret == -EINVAL) {
		pr_warn("%s", err);
		lbctl_usage(stderr, &inv);
		code = LBCTL_EXIT_USAGE;
		goto out;
	}
	if (ret) {
		pr_warn("%s", strerror(-ret));
		code = LBCTL_EXIT_FAILED;
		goto out;
	}
	switch (inv.action) {
	case LBCTL_HELP:
		lbctl_help(stdout, &inv);
		code = LBCTL_EXIT_OK;
		goto out;
	case LBCTL_VERSION:
		printf("lbctl %s\n", XLB_VERSION);
		code = LBCTL_EXIT_OK;
		goto out;
	case LBCTL_COMMANDS:
		lbctl_list_commands(stdout);
		code = LBCTL_EXIT_OK;
		goto out;
	case LBCTL_RUN:
		break;
	}

	if (inv.cmd->local) {
		xlb_log_hook_libs();
		reply = local_run(inv.request);
		if (!reply) {
			pr_warn("out of memory");
			code = LBCTL_EXIT_FAILED;
			goto out;
		}
		code = report(&inv, reply);
	} else if (inv.rate || inv.watch_s) {
		code = run_sampling(&inv);
	} else {
		code = ctl_request(inv.socket, inv.request, &reply);
		if (reply)
			code = report(&inv, reply);
	}
	json_decref(reply);
out:
	lbctl_invocation_free(&inv);
	if (fflush(stdout) && code == LBCTL_EXIT_OK)
		code = LBCTL_EXIT_FAILED;
	return code;
}
