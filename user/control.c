// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control socket server (docs/CONTROL.md). Each client has an input
 * buffer that holds at most one request line and an output buffer that
 * holds at most one reply: a client's next request is not read while its
 * previous reply is still being written, so memory per client is bounded
 * and replies come back in order. Every socket is non-blocking; nothing
 * here blocks or logs.
 *
 * A client must make progress: send a whole request, or take its reply,
 * within XLB_CTL_TIMEOUT_MS, or it is closed (one timerfd, armed for the
 * earliest deadline). When every slot is taken, a newcomer closes a
 * client that is waiting for a request instead of being refused - the
 * oldest of the process holding the most slots - so idle connections
 * cannot lock root's lbctl (or the unit's stop hook) out. Closing another
 * client from inside a handler is only safe if its pending event is not run
 * afterwards: the socket, the timer and the clients live in an epoll set of our
 * own, registered as one event in the daemon's loop, whose batches we run
 * ourselves and after which the clients closed meanwhile are freed.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "loop.h"
#include "settings.h"
#include "xlb.h"

#define CTL_BACKLOG 16
#define CTL_BATCH   32 /* events run per wake-up of the daemon's loop */

#define ctl_container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

struct ctl_client {
	struct xlb_event ev; /* fd and handler, registered in epfd */
	struct xlb_control *ctl;
	struct ctl_client *prev, *next;
	pid_t pid;	   /* the peer process (SO_PEERCRED), 0 if unknown */
	uint32_t events;   /* the EPOLL* bits currently asked for */
	uint64_t deadline; /* ms, CLOCK_MONOTONIC: closed without progress */
	bool eof;	   /* the peer will send nothing more */
	bool closing;	   /* close once the pending reply is written */
	char *out;	   /* pending reply, NULL if none */
	size_t out_len, out_off;
	size_t in_len;
	/* One line of at most XLB_CTL_MAX_REQUEST bytes and its '\n'. */
	char in[XLB_CTL_MAX_REQUEST + 1];
};

struct xlb_control {
	struct xlb_event ev;	/* the listening socket, in epfd */
	struct xlb_event timer; /* the earliest client deadline, in epfd */
	struct xlb_event outer; /* epfd itself, in the daemon's loop_epfd */
	struct xlb_agent *agent;
	int epfd;	/* our own set: the socket, the timer, the clients */
	int loop_epfd;	/* the daemon's */
	uint64_t armed; /* the timer's deadline in ms; 0: disarmed */
	struct ctl_client *clients; /* the newest first */
	size_t n_clients;
	struct ctl_client *dead; /* closed during a batch, freed after it */
	int spare_fd; /* given up to accept-and-close when out of fds */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- Requests ---------------------------------------------------------- */

enum ctl_field_type {
	CTL_F_STRING,
	CTL_F_UINT,
	CTL_F_SETTING, /* a setting of the VIP or real (settings.h) */
};

struct ctl_field {
	const char *name;
	enum ctl_field_type type;
	bool required;
	/* CTL_F_SETTING: the section whose setting name is, which gives
	 * its type (a choice is a string, a number an integer), range and
	 * default. */
	const char *section;
};

struct ctl_cmd {
	const char *name;
	const struct ctl_field *fields; /* ends with a NULL name */
	/* Fill reply (already holding "ok": true) or err; 0 or -errno.
	 * NULL: a command the daemon serves (user/daemon.h). */
	int (*run)(struct xlb_agent *agent, json_t *req, json_t *reply,
		   char *err, size_t errlen);
	const char *none; /* run NULL: the error when the daemon has none */
};

/* Format a one-line reason into err and return ret (a -errno). */
__attribute__((format(printf, 4, 5))) static int
ctl_fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* The VIP named by field key, which the field check found a string. */
static int ctl_get_service(json_t *req, const char *key,
			   struct xlb_service *svc, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(req, key));

	if (xlb_service_parse(s, svc))
		return ctl_fail(-EINVAL, err, errlen,
				"bad %s '%s': expected ADDR:PORT/PROTO", key,
				s);
	return 0;
}

/* The address named by field key, which the field check found a string. */
static int ctl_get_ip(json_t *req, const char *key, struct xlb_ip *ip,
		      char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(req, key));

	if (xlb_ip_parse(s, ip))
		return ctl_fail(-EINVAL, err, errlen,
				"bad %s '%s': expected an IP address", key, s);
	return 0;
}

/*
 * A field that is a value of setting s (settings.h), which the field check
 * found of its type: *v unchanged when absent, else checked by the one
 * validator, in the configuration file's words ("key: reason").
 */
static int ctl_get_value(json_t *req, const struct xlb_setting *s,
			 const char *key, uint32_t *v, char *err, size_t errlen)
{
	json_t *j = json_object_get(req, key);

	if (!j)
		return 0;
	return xlb_setting_check_key(s, key, json_string_value(j),
				     (uint64_t)json_integer_value(j), v, err,
				     errlen);
}

/* The field that is setting key of section. */
static int ctl_get_setting(json_t *req, const char *section, const char *key,
			   uint32_t *v, char *err, size_t errlen)
{
	return ctl_get_value(req, xlb_setting_find(section, key), key, v, err,
			     errlen);
}

/* Merge a view object from the agent into reply; the view is consumed. */
static int ctl_merge(json_t *reply, json_t *view, char *err, size_t errlen)
{
	int ret = 0;

	if (!view || json_object_update(reply, view))
		ret = ctl_fail(-ENOMEM, err, errlen, "out of memory");
	json_decref(view);
	return ret;
}

/*
 * The daemon's part of command name (user/daemon.h), added to reply: none
 * is not an error.
 */
static int ctl_daemon_part(const char *name, json_t *req, json_t *reply,
			   char *err, size_t errlen)
{
	const struct xlb_daemon_cmd *d = xlb_daemon_cmd(name);
	int ret;

	if (!d)
		return 0;
	ret = d->run(req, reply, err, errlen);
	return ret == -EOPNOTSUPP ? 0 : ret;
}

/* A command the daemon serves (user/daemon.h): reload, shutdown... */
static int ctl_daemon(const char *name, json_t *req, json_t *reply, char *err,
		      size_t errlen, const char *none)
{
	const struct xlb_daemon_cmd *d = xlb_daemon_cmd(name);
	int ret;

	if (!d)
		return ctl_fail(-EOPNOTSUPP, err, errlen, "%s", none);
	err[0] = '\0';
	ret = d->run(req, reply, err, errlen);
	if (ret == -EOPNOTSUPP && !err[0])
		return ctl_fail(ret, err, errlen, "%s", none);
	if (ret && !err[0])
		return ctl_fail(ret, err, errlen, "%s", strerror(-ret));
	return ret;
}

/* ping: prove the daemon answers, say which version it is and the
 * node's settings the data plane depends on ("host"). */
static int ctl_ping(struct xlb_agent *agent, json_t *req, json_t *reply,
		    char *err, size_t errlen)
{
	if (json_object_set_new(reply, "version", json_string(XLB_VERSION)))
		return ctl_fail(-ENOMEM, err, errlen, "out of memory");
	return ctl_daemon_part("ping", req, reply, err, errlen);
}

/* Sessions listed at most, unless the request asks for fewer. */
#define CTL_SESSIONS_LIMIT     1000
#define CTL_SESSIONS_LIMIT_MAX 1000000

/* sessions' limit, in the words of the settings' validator. */
static const struct xlb_setting ctl_limit = {
	.type = XLB_SET_U32, .min = 1, .max = CTL_SESSIONS_LIMIT_MAX};

/*
 * The VIP settings of a vip.add or vip.set request over what *v holds, and
 * the rules between them checked on the result.
 */
static int ctl_get_vip(json_t *req, struct xlb_vip_spec *v, char *err,
		       size_t errlen)
{
	static const char *const keys[] = {"hash", "table_size", "mode", "mss",
					   "encap"};
	const struct xlb_setting *s;
	uint32_t n;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		s = xlb_setting_find("vips", keys[i]);
		n = xlb_setting_load(s, v);
		ret = ctl_get_setting(req, "vips", keys[i], &n, err, errlen);
		if (ret)
			return ret;
		xlb_setting_store(s, v, n);
	}
	return xlb_vip_rules(v->svc.proto, v->mode, v->mss, v->gue, "", NULL,
			     err, errlen);
}

/* vip.add: vip, optional hash, table_size, mode, mss and encap. */
static int ctl_vip_add(struct xlb_agent *agent, json_t *req, json_t *reply,
		       char *err, size_t errlen)
{
	struct xlb_vip_spec v = {0};
	char msg[XLB_ERR_LEN];
	int ret;

	xlb_settings_defaults("vips", &v);
	ret = ctl_get_service(req, "vip", &v.svc, err, errlen);
	if (!ret)
		ret = xlb_addr_check(&v.svc.ip, XLB_ROLE_VIP, err, errlen);
	if (!ret)
		ret = ctl_get_vip(req, &v, err, errlen);
	if (!ret)
		ret = xlb_vip_add(agent, &v.svc, v.hash, v.table_size, err,
				  errlen);
	if (ret)
		return ret;
	if (v.mode != XLB_MODE_TUNNEL || v.mss)
		ret = xlb_vip_set_mode(agent, &v.svc, v.mode, v.mss, err,
				       errlen);
	if (!ret && v.gue)
		ret = xlb_vip_set_encap(agent, &v.svc, v.gue, err, errlen);
	if (ret)
		/* All or nothing: the VIP has no reals yet, no traffic. */
		xlb_vip_del(agent, &v.svc, msg, sizeof(msg));
	return ret;
}

/*
 * vip.set: vip, then mode, mss and/or encap; what is left out stays. The
 * final state is checked first, then the steps go in the order that never
 * has a fullnat VIP with GUE on the way: IPIP before leaving tunnel, GUE
 * after entering it.
 */
static int ctl_vip_set(struct xlb_agent *agent, json_t *req, json_t *reply,
		       char *err, size_t errlen)
{
	bool set_mode = json_object_get(req, "mode") ||
			json_object_get(req, "mss");
	bool set_encap = json_object_get(req, "encap") != NULL;
	enum xlb_fwd_mode mode, old_mode;
	struct xlb_vip_spec v = {0};
	struct xlb_service svc;
	uint16_t mss, old_mss;
	char msg[XLB_ERR_LEN];
	bool gue, old_gue;
	int ret;

	ret = ctl_get_service(req, "vip", &svc, err, errlen);
	if (ret)
		return ret;
	if (!set_mode && !set_encap)
		return ctl_fail(-EINVAL, err, errlen,
				"vip.set needs mode, mss or encap");
	ret = xlb_vip_get_mode(agent, &svc, &old_mode, &old_mss, &old_gue, err,
			       errlen);
	if (ret)
		return ret;
	v.svc = svc;
	v.mode = old_mode;
	v.mss = old_mss;
	v.gue = old_gue;
	ret = ctl_get_vip(req, &v, err, errlen);
	if (ret)
		return ret;
	mode = v.mode;
	mss = v.mss;
	gue = v.gue;
	if (set_encap && !gue) {
		ret = xlb_vip_set_encap(agent, &svc, false, err, errlen);
		if (ret || !set_mode)
			return ret;
		ret = xlb_vip_set_mode(agent, &svc, mode, mss, err, errlen);
		if (ret)
			xlb_vip_set_encap(agent, &svc, old_gue, msg,
					  sizeof(msg));
		return ret;
	}
	if (set_mode) {
		ret = xlb_vip_set_mode(agent, &svc, mode, mss, err, errlen);
		if (ret || !set_encap)
			return ret;
	}
	ret = xlb_vip_set_encap(agent, &svc, gue, err, errlen);
	if (ret && set_mode)
		xlb_vip_set_mode(agent, &svc, old_mode, old_mss, msg,
				 sizeof(msg));
	return ret;
}

/* laddr.add, laddr.del: address. */
static int ctl_laddr_add(struct xlb_agent *agent, json_t *req, json_t *reply,
			 char *err, size_t errlen)
{
	struct xlb_ip ip;
	int ret;

	ret = ctl_get_ip(req, "address", &ip, err, errlen);
	if (!ret)
		ret = xlb_addr_check(&ip, XLB_ROLE_LADDR, err, errlen);
	return ret ? ret : xlb_laddr_add(agent, &ip, err, errlen);
}

static int ctl_laddr_del(struct xlb_agent *agent, json_t *req, json_t *reply,
			 char *err, size_t errlen)
{
	struct xlb_ip ip;
	int ret;

	ret = ctl_get_ip(req, "address", &ip, err, errlen);
	return ret ? ret : xlb_laddr_del(agent, &ip, err, errlen);
}

/* laddr.list: the local pool with each address's sessions. */
static int ctl_laddr_list(struct xlb_agent *agent, json_t *req, json_t *reply,
			  char *err, size_t errlen)
{
	return ctl_merge(reply, xlb_agent_laddrs_json(agent), err, errlen);
}

/* sessions: optional vip and limit. */
static int ctl_sessions(struct xlb_agent *agent, json_t *req, json_t *reply,
			char *err, size_t errlen)
{
	struct xlb_service svc;
	uint32_t limit = CTL_SESSIONS_LIMIT;
	json_t *view;
	int ret;

	if (json_object_get(req, "vip")) {
		ret = ctl_get_service(req, "vip", &svc, err, errlen);
		if (ret)
			return ret;
	}
	ret = ctl_get_value(req, &ctl_limit, "limit", &limit, err, errlen);
	if (ret)
		return ret;
	view = xlb_agent_sessions_json(
		agent, json_object_get(req, "vip") ? &svc : NULL, limit);
	if (!view && json_object_get(req, "vip"))
		return ctl_fail(-ENOENT, err, errlen, "no such VIP %s",
				json_string_value(json_object_get(req, "vip")));
	return ctl_merge(reply, view, err, errlen);
}

/* vip.del: vip. */
static int ctl_vip_del(struct xlb_agent *agent, json_t *req, json_t *reply,
		       char *err, size_t errlen)
{
	struct xlb_service svc;
	int ret;

	ret = ctl_get_service(req, "vip", &svc, err, errlen);
	if (ret)
		return ret;
	return xlb_vip_del(agent, &svc, err, errlen);
}

/* vip.list: every VIP and its reals, without counters. */
static int ctl_vip_list(struct xlb_agent *agent, json_t *req, json_t *reply,
			char *err, size_t errlen)
{
	return ctl_merge(reply, xlb_agent_vips_json(agent, false), err, errlen);
}

/* real.add, real.del, real.set: vip and real, then the weight. */
static int ctl_real_parse(json_t *req, struct xlb_service *svc,
			  struct xlb_ip *real, char *err, size_t errlen)
{
	int ret;

	ret = ctl_get_service(req, "vip", svc, err, errlen);
	if (ret)
		return ret;
	return ctl_get_ip(req, "real", real, err, errlen);
}

/* real.add: vip, real, optional weight. */
static int ctl_real_add(struct xlb_agent *agent, json_t *req, json_t *reply,
			char *err, size_t errlen)
{
	struct xlb_service svc;
	struct xlb_ip real;
	uint32_t weight = XLB_DEFAULT_WEIGHT;
	int ret;

	ret = ctl_real_parse(req, &svc, &real, err, errlen);
	if (!ret)
		ret = xlb_real_check(&real, &svc.ip, err, errlen);
	if (!ret)
		ret = ctl_get_setting(req, "reals", "weight", &weight, err,
				      errlen);
	if (ret)
		return ret;
	return xlb_real_add(agent, &svc, &real, weight, err, errlen);
}

/* real.del, real.drain, real.undrain: vip, real. */
static int ctl_real_op(struct xlb_agent *agent, json_t *req, json_t *reply,
		       char *err, size_t errlen)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	struct xlb_service svc;
	struct xlb_ip real;
	int ret;

	ret = ctl_real_parse(req, &svc, &real, err, errlen);
	if (ret)
		return ret;
	if (!strcmp(cmd, "real.del"))
		return xlb_real_del(agent, &svc, &real, err, errlen);
	return xlb_real_set_drain(agent, &svc, &real,
				  !strcmp(cmd, "real.drain"), err, errlen);
}

/* real.set: vip, real, weight (required: the field check saw it). */
static int ctl_real_set(struct xlb_agent *agent, json_t *req, json_t *reply,
			char *err, size_t errlen)
{
	struct xlb_service svc;
	struct xlb_ip real;
	uint32_t weight = 0;
	int ret;

	ret = ctl_real_parse(req, &svc, &real, err, errlen);
	if (!ret)
		ret = ctl_get_setting(req, "reals", "weight", &weight, err,
				      errlen);
	if (ret)
		return ret;
	return xlb_real_set_weight(agent, &svc, &real, weight, err, errlen);
}

#define NODE_NONE "this daemon has no node state"

/* node.status: the node's lifecycle, routes and sync (docs/CLUSTER.md). */
static int ctl_node_status(struct xlb_agent *agent, json_t *req, json_t *reply,
			   char *err, size_t errlen)
{
	json_t *stats, *v;
	json_int_t tunnel = 0, fullnat = 0, n;
	size_t i;
	int ret;

	ret = ctl_daemon("node.status", req, reply, err, errlen, NODE_NONE);
	if (ret)
		return ret;
	/* The sessions this node tracks, by mode (as lbctl stats counts
	 * them), its own and its peers'. */
	stats = xlb_agent_vips_json(agent, true);
	json_array_foreach(json_object_get(stats, "vips"), i, v) {
		n = json_integer_value(json_object_get(v, "sessions"));
		if (!strcmp(json_string_value(json_object_get(v, "mode")) ?: "",
			    "fullnat"))
			fullnat += n;
		else
			tunnel += n;
	}
	json_decref(stats);
	if (json_object_set_new(reply, "sessions",
				json_pack("{s:I, s:I}", "tunnel", tunnel,
					  "fullnat", fullnat)))
		return ctl_fail(-ENOMEM, err, errlen, "out of memory");
	return 0;
}

/* stats: every VIP and real with counters, and the reasons. */
static int ctl_stats(struct xlb_agent *agent, json_t *req, json_t *reply,
		     char *err, size_t errlen)
{
	int ret = ctl_merge(reply, xlb_agent_stats_json(agent), err, errlen);

	return ret ? ret : ctl_daemon_part("stats", req, reply, err, errlen);
}

static const struct ctl_field no_fields[] = {
	{NULL},
};

static const struct ctl_field vip_fields[] = {
	{"vip", CTL_F_STRING, true},
	{NULL},
};

static const struct ctl_field vip_add_fields[] = {
	{"vip", CTL_F_STRING, true},
	{"hash", CTL_F_SETTING, false, "vips"},
	{"table_size", CTL_F_SETTING, false, "vips"},
	{"mode", CTL_F_SETTING, false, "vips"},
	{"mss", CTL_F_SETTING, false, "vips"},
	{"encap", CTL_F_SETTING, false, "vips"},
	{NULL},
};

static const struct ctl_field vip_set_fields[] = {
	{"vip", CTL_F_STRING, true},
	{"mode", CTL_F_SETTING, false, "vips"},
	{"mss", CTL_F_SETTING, false, "vips"},
	{"encap", CTL_F_SETTING, false, "vips"},
	{NULL},
};

static const struct ctl_field laddr_fields[] = {
	{"address", CTL_F_STRING, true},
	{NULL},
};

static const struct ctl_field sessions_fields[] = {
	{"vip", CTL_F_STRING, false},
	{"limit", CTL_F_UINT, false},
	{NULL},
};

static const struct ctl_field real_fields[] = {
	{"vip", CTL_F_STRING, true},
	{"real", CTL_F_STRING, true},
	{NULL},
};

static const struct ctl_field real_add_fields[] = {
	{"vip", CTL_F_STRING, true},
	{"real", CTL_F_STRING, true},
	{"weight", CTL_F_SETTING, false, "reals"},
	{NULL},
};

static const struct ctl_field real_set_fields[] = {
	{"vip", CTL_F_STRING, true},
	{"real", CTL_F_STRING, true},
	{"weight", CTL_F_SETTING, true, "reals"},
	{NULL},
};

static const struct ctl_cmd ctl_cmds[] = {
	{"ping", no_fields, ctl_ping},
	{"vip.add", vip_add_fields, ctl_vip_add},
	{"vip.del", vip_fields, ctl_vip_del},
	{"vip.list", no_fields, ctl_vip_list},
	{"real.add", real_add_fields, ctl_real_add},
	{"real.del", real_fields, ctl_real_op},
	{"real.set", real_set_fields, ctl_real_set},
	{"stats", no_fields, ctl_stats},
	{"real.drain", real_fields, ctl_real_op},
	{"real.undrain", real_fields, ctl_real_op},
	{"reload", no_fields, NULL, "this daemon has no reload"},
	{"shutdown", no_fields, NULL, "this daemon has no shutdown"},
	{"vip.set", vip_set_fields, ctl_vip_set},
	{"laddr.add", laddr_fields, ctl_laddr_add},
	{"laddr.del", laddr_fields, ctl_laddr_del},
	{"laddr.list", no_fields, ctl_laddr_list},
	{"node.status", no_fields, ctl_node_status},
	{"node.drain", no_fields, NULL, NODE_NONE},
	{"node.undrain", no_fields, NULL, NODE_NONE},
	{"sessions", sessions_fields, ctl_sessions},
	{"config.dump", no_fields, NULL,
	 "this daemon cannot dump its configuration"},
};

/*
 * Check the request's fields against the command's table: no unknown
 * field (a typo must not be silently ignored), every field of its type,
 * every required field present.
 */
static int ctl_check_fields(const struct ctl_cmd *cmd, json_t *req, char *err,
			    size_t errlen)
{
	enum ctl_field_type type;
	const struct ctl_field *f;
	const char *key;
	json_t *val;
	void *it;

	for (it = json_object_iter(req); it;
	     it = json_object_iter_next(req, it)) {
		key = json_object_iter_key(it);
		val = json_object_iter_value(it);
		if (!strcmp(key, "cmd"))
			continue;
		for (f = cmd->fields; f->name; f++)
			if (!strcmp(f->name, key))
				break;
		if (!f->name)
			return ctl_fail(-EINVAL, err, errlen,
					"unknown field '%s' for %s", key,
					cmd->name);
		type = f->type;
		/* A setting's choices are strings, its numbers integers. */
		if (type == CTL_F_SETTING)
			type = xlb_setting_find(f->section, f->name)->type ==
					       XLB_SET_ENUM
				       ? CTL_F_STRING
				       : CTL_F_UINT;
		if (type == CTL_F_STRING && !json_is_string(val))
			return ctl_fail(-EINVAL, err, errlen,
					"field '%s' must be a string", key);
		if (type == CTL_F_UINT &&
		    (!json_is_integer(val) || json_integer_value(val) < 0))
			return ctl_fail(-EINVAL, err, errlen,
					"field '%s' must be a non-negative "
					"integer",
					key);
	}
	for (f = cmd->fields; f->name; f++)
		if (f->required && !json_object_get(req, f->name))
			return ctl_fail(-EINVAL, err, errlen,
					"missing field '%s' for %s", f->name,
					cmd->name);
	return 0;
}

/*
 * {"ok": false, "error": msg}. msg may end inside a UTF-8 sequence where
 * a buffer cut it, which jansson refuses: drop the partial character.
 */
static json_t *ctl_error_reply(const char *msg)
{
	size_t len = strlen(msg);
	json_t *reply, *s = NULL;
	int i;

	for (i = 0; i < 4 && !s && len; i++, len--)
		s = json_stringn(msg, len);
	if (!s)
		s = json_string("invalid request");
	reply = json_object();
	if (!reply || !s || json_object_set_new(reply, "ok", json_false()) ||
	    json_object_set_new(reply, "error", s)) {
		json_decref(reply);
		return NULL;
	}
	return reply;
}

json_t *xlb_control_dispatch(struct xlb_agent *agent, json_t *req)
{
	const struct ctl_cmd *cmd = NULL;
	char err[XLB_ERR_LEN] = "";
	json_t *reply;
	const char *name;
	size_t i;
	int ret;

	if (!json_is_object(req))
		return ctl_error_reply("request is not a JSON object");
	if (!json_object_get(req, "cmd"))
		return ctl_error_reply("missing field 'cmd'");
	name = json_string_value(json_object_get(req, "cmd"));
	if (!name)
		return ctl_error_reply("field 'cmd' must be a string");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (!strcmp(ctl_cmds[i].name, name))
			cmd = &ctl_cmds[i];
	if (!cmd) {
		snprintf(err, sizeof(err), "unknown command '%s'", name);
		return ctl_error_reply(err);
	}
	if (ctl_check_fields(cmd, req, err, sizeof(err)))
		return ctl_error_reply(err);

	reply = json_object();
	if (!reply || json_object_set_new(reply, "ok", json_true())) {
		json_decref(reply);
		return NULL;
	}
	/* reload, shutdown, config.dump, node.drain, node.undrain. */
	ret = cmd->run ? cmd->run(agent, req, reply, err, sizeof(err))
		       : ctl_daemon(cmd->name, req, reply, err, sizeof(err),
				    cmd->none);
	if (ret) {
		json_decref(reply);
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		return ctl_error_reply(err);
	}
	return reply;
}

/* ---- Clients ----------------------------------------------------------- */

/* Milliseconds of CLOCK_MONOTONIC. */
static uint64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Arm the timer for at (ms), or disarm it for 0. */
static void ctl_timer_set(struct xlb_control *ctl, uint64_t at)
{
	struct itimerspec its = {
		.it_value.tv_sec = (time_t)(at / 1000),
		.it_value.tv_nsec = (long)(at % 1000) * 1000000,
	};

	if (!timerfd_settime(ctl->timer.fd, TFD_TIMER_ABSTIME, &its, NULL))
		ctl->armed = at;
}

/* c made progress: it has XLB_CTL_TIMEOUT_MS for the next step. */
static void ctl_client_touch(struct ctl_client *c)
{
	struct xlb_control *ctl = c->ctl;

	c->deadline = ctl_now_ms() + XLB_CTL_TIMEOUT_MS;
	/* A later deadline is found when the timer fires for an earlier
	 * one; only an earlier one needs the timer now. */
	if (!ctl->armed || c->deadline < ctl->armed)
		ctl_timer_set(ctl, c->deadline);
}

/*
 * Unregister and close a client and take it off the list. Its memory
 * waits for the end of the batch (ctl_reap), where no event of this
 * batch can point at it any more.
 */
static void ctl_client_free(struct ctl_client *c)
{
	struct xlb_control *ctl = c->ctl;

	xlb_loop_del(ctl->epfd, &c->ev);
	close(c->ev.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->n_clients--;
	c->ev.fd = -1;
	c->ev.handler = NULL;
	c->prev = NULL;
	c->next = ctl->dead;
	ctl->dead = c;
}

/* Free the clients closed during the batch. */
static void ctl_reap(struct xlb_control *ctl)
{
	struct ctl_client *c;

	while (ctl->dead) {
		c = ctl->dead;
		ctl->dead = c->next;
		free(c->out);
		free(c);
	}
}

/* Close c, telling it why first if it waits for nothing else. */
static void ctl_client_drop(struct ctl_client *c, const char *why)
{
	char msg[128];
	ssize_t n;
	int len;

	if (!c->out) {
		len = snprintf(msg, sizeof(msg),
			       "{\"ok\":false,\"error\":\"%s\"}\n", why);
		n = send(c->ev.fd, msg, (size_t)len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
	}
	ctl_client_free(c);
}

/* Serialise reply as one line into c's output buffer; consumes reply. */
static int ctl_client_queue(struct ctl_client *c, json_t *reply)
{
	size_t len;
	char *buf;

	if (!reply)
		return -ENOMEM;
	len = json_dumpb(reply, NULL, 0, JSON_COMPACT);
	buf = len ? malloc(len + 1) : NULL;
	if (!buf || json_dumpb(reply, buf, len, JSON_COMPACT) != len) {
		free(buf);
		json_decref(reply);
		return -ENOMEM;
	}
	json_decref(reply);
	buf[len] = '\n';
	c->out = buf;
	c->out_len = len + 1;
	c->out_off = 0;
	return 0;
}

/* Write what the socket takes of the pending reply. */
static int ctl_client_flush(struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->ev.fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += n;
		ctl_client_touch(c);
	}
	free(c->out);
	c->out = NULL;
	return 0;
}

/* Answer the request line in c->in[0..len) and drop it and its '\n'. */
static int ctl_client_request(struct ctl_client *c, size_t len)
{
	char err[XLB_ERR_LEN];
	json_error_t jerr;
	json_t *req, *reply;

	req = json_loadb(c->in, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req) {
		reply = xlb_control_dispatch(c->ctl->agent, req);
		json_decref(req);
	} else {
		snprintf(err, sizeof(err), "invalid JSON: %s", jerr.text);
		reply = ctl_error_reply(err);
	}
	c->in_len -= len + 1;
	memmove(c->in, c->in + len + 1, c->in_len);
	ctl_client_touch(c);
	return ctl_client_queue(c, reply);
}

/*
 * Move c as far as it can go: write the pending reply, answer the next
 * complete line, refuse an oversized one, close at the end. Then ask
 * epoll for what c waits on: writable while a reply is pending, readable
 * otherwise. Returns -1 when c was freed.
 */
static int ctl_client_run(struct ctl_client *c)
{
	uint32_t want;
	char *nl;
	char msg[80];

	for (;;) {
		if (c->out) {
			if (ctl_client_flush(c))
				goto out_free;
			if (c->out)
				break;
		}
		if (c->closing)
			goto out_free;
		nl = memchr(c->in, '\n', c->in_len);
		if (nl) {
			if (ctl_client_request(c, nl - c->in))
				goto out_free;
			continue;
		}
		if (c->in_len == sizeof(c->in)) {
			/* No newline within the limit: the stream cannot be
			 * resynchronised, so answer once and hang up. */
			snprintf(msg, sizeof(msg),
				 "request longer than %d bytes",
				 XLB_CTL_MAX_REQUEST);
			c->in_len = 0;
			c->closing = true;
			if (ctl_client_queue(c, ctl_error_reply(msg)))
				goto out_free;
			continue;
		}
		/* A partial line at the end of the stream is no request. */
		if (c->eof)
			goto out_free;
		break;
	}
	want = c->out ? EPOLLOUT : EPOLLIN;
	if (want != c->events) {
		if (xlb_loop_mod(c->ctl->epfd, &c->ev, want))
			goto out_free;
		c->events = want;
	}
	return 0;

out_free:
	ctl_client_free(c);
	return -1;
}

/* Read what is there, then make progress. Returns -1 when c was closed. */
static int ctl_client_step(struct ctl_client *c, uint32_t events)
{
	ssize_t n;

	if (!c->out && !c->eof && c->in_len < sizeof(c->in) &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		n = read(c->ev.fd, c->in + c->in_len,
			 sizeof(c->in) - c->in_len);
		if (n > 0) {
			c->in_len += n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			   errno != EINTR) {
			ctl_client_free(c);
			return -1;
		}
	}
	return ctl_client_run(c);
}

/* epoll handler of a client. */
static void ctl_client_handler(struct xlb_event *ev, uint32_t events)
{
	ctl_client_step(ctl_container_of(ev, struct ctl_client, ev), events);
}

/*
 * The timer fired: close every client past its deadline - after one last
 * look at its socket, so that a request that came in while the daemon
 * was busy is still answered - and arm for the next deadline.
 */
static void ctl_timer_handler(struct xlb_event *ev, uint32_t events)
{
	struct xlb_control *ctl =
		ctl_container_of(ev, struct xlb_control, timer);
	struct ctl_client *c, *next;
	uint64_t now = ctl_now_ms(), ticks, first = 0;
	char why[64];
	ssize_t n;

	snprintf(why, sizeof(why), "no whole request within %d s",
		 XLB_CTL_TIMEOUT_MS / 1000);
	n = read(ev->fd, &ticks, sizeof(ticks));
	(void)n;
	ctl->armed = 0;
	for (c = ctl->clients; c; c = next) {
		next = c->next;
		if (c->deadline > now)
			continue;
		if (ctl_client_step(c, EPOLLIN))
			continue;
		if (c->deadline <= now)
			ctl_client_drop(c, why);
	}
	for (c = ctl->clients; c; c = c->next)
		if (!first || c->deadline < first)
			first = c->deadline;
	ctl_timer_set(ctl, first);
}

/* How many slots the process pid holds. */
static unsigned int ctl_slots_of(const struct xlb_control *ctl, pid_t pid)
{
	const struct ctl_client *c;
	unsigned int n = 0;

	for (c = ctl->clients; c; c = c->next)
		n += c->pid == pid;
	return n;
}

/*
 * The client to close for a newcomer when every slot is taken: one that
 * waits for a request (one being answered keeps its slot), of the process
 * that holds the most slots, the oldest of those. A process that opens
 * connections by the thousand then only ever displaces its own, and a
 * single lbctl (or the stop hook) keeps its slot until it is answered,
 * however fast the flood. The list runs newest first.
 */
static struct ctl_client *ctl_idle_victim(struct xlb_control *ctl)
{
	struct ctl_client *c, *victim = NULL;
	unsigned int n, most = 0;

	for (c = ctl->clients; c; c = c->next) {
		if (c->out)
			continue;
		n = ctl_slots_of(ctl, c->pid);
		if (n >= most) {
			most = n;
			victim = c;
		}
	}
	return victim;
}

/* The peer's pid, or 0 if the kernel does not say. */
static pid_t ctl_peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    len != sizeof(cred))
		return 0;
	return cred.pid;
}

/* Tell a client over the limit why it is refused, without waiting. */
static void ctl_refuse(int fd)
{
	static const char msg[] =
		"{\"ok\":false,\"error\":\"too many clients\"}\n";
	ssize_t n;

	n = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
}

/* Take one accepted connection into the client list. */
static int ctl_client_add(struct xlb_control *ctl, int fd)
{
	struct ctl_client *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctl = ctl;
	c->pid = ctl_peer_pid(fd);
	c->ev.fd = fd;
	c->ev.handler = ctl_client_handler;
	c->events = EPOLLIN;
	ret = xlb_loop_add(ctl->epfd, &c->ev, c->events);
	if (ret) {
		free(c);
		return ret;
	}
	c->next = ctl->clients;
	if (c->next)
		c->next->prev = c;
	ctl->clients = c;
	ctl->n_clients++;
	ctl_client_touch(c);
	/* lbctl sends its request right after connecting: it is often
	 * there already, and answering it now keeps the slot short-lived. */
	ctl_client_step(c, EPOLLIN);
	return 0;
}

/* epoll handler of the listening socket: accept every pending client. */
static void ctl_listen_handler(struct xlb_event *ev, uint32_t events)
{
	struct xlb_control *ctl = ctl_container_of(ev, struct xlb_control, ev);
	int fd;

	for (;;) {
		fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    ctl->spare_fd >= 0) {
				/* Out of descriptors: the pending connection
				 * would wake us forever. Use the spare to take
				 * it and close it at once. */
				close(ctl->spare_fd);
				fd = accept4(ev->fd, NULL, NULL, SOCK_CLOEXEC);
				if (fd >= 0)
					close(fd);
				ctl->spare_fd =
					open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			/* EAGAIN: done. */
			return;
		}
		if (ctl->n_clients >= XLB_CTL_MAX_CLIENTS) {
			struct ctl_client *victim = ctl_idle_victim(ctl);

			if (!victim) {
				ctl_refuse(fd);
				continue;
			}
			ctl_client_drop(victim, "too many clients");
		}
		if (ctl_client_add(ctl, fd))
			close(fd);
	}
}

/*
 * Our epoll set is ready: run a batch of its events, then free the
 * clients closed meanwhile. What is left wakes the daemon's loop again.
 */
static void ctl_outer_handler(struct xlb_event *ev, uint32_t events)
{
	struct xlb_control *ctl =
		ctl_container_of(ev, struct xlb_control, outer);
	struct epoll_event evs[CTL_BATCH];
	struct xlb_event *e;
	int i, n;

	n = epoll_wait(ctl->epfd, evs, CTL_BATCH, 0);
	for (i = 0; i < n; i++) {
		e = evs[i].data.ptr;
		/* A client closed earlier in this batch has no handler. */
		if (e->handler)
			e->handler(e, evs[i].events);
	}
	ctl_reap(ctl);
}

/* ---- The listening socket ---------------------------------------------- */

/* mkdir -p the directory holding path, new directories with mode 0700. */
static int ctl_mkdir_parent(const char *path)
{
	char dir[sizeof(((struct xlb_control *)0)->path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		if (p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0700) && errno != EEXIST)
				return -errno;
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

/*
 * Remove a socket left by a daemon that died, but never one that a
 * running daemon answers on, nor anything that is not a socket.
 */
static int ctl_remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? errno : 0;
	close(fd);
	if (!err || err == EAGAIN)
		return -EADDRINUSE;
	if (err != ECONNREFUSED)
		return -err;
	if (unlink(sa->sun_path) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Our own epoll set with its timer, registered in the daemon's loop. */
static int ctl_sets_open(struct xlb_control *ctl, int loop_epfd)
{
	int ret;

	ctl->loop_epfd = loop_epfd;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epfd < 0)
		return -errno;
	ctl->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl->timer.fd < 0) {
		ret = -errno;
		goto out_epfd;
	}
	ctl->timer.handler = ctl_timer_handler;
	ret = xlb_loop_add(ctl->epfd, &ctl->timer, EPOLLIN);
	if (ret)
		goto out_timer;
	ctl->outer.fd = ctl->epfd;
	ctl->outer.handler = ctl_outer_handler;
	ret = xlb_loop_add(loop_epfd, &ctl->outer, EPOLLIN);
	if (ret)
		goto out_timer;
	return 0;

out_timer:
	close(ctl->timer.fd);
out_epfd:
	close(ctl->epfd);
	return ret;
}

static void ctl_sets_close(struct xlb_control *ctl)
{
	xlb_loop_del(ctl->loop_epfd, &ctl->outer);
	close(ctl->timer.fd);
	close(ctl->epfd);
}

int xlb_control_open(const char *path, struct xlb_agent *agent, int epfd,
		     struct xlb_control **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct xlb_control *ctl;
	mode_t old_mask;
	int fd, ret;

	if (!path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	ret = ctl_mkdir_parent(path);
	if (ret)
		return ret;
	ret = ctl_remove_stale(&sa);
	if (ret)
		return ret;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->agent = agent;
	ctl->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	memcpy(ctl->path, path, strlen(path) + 1);
	ret = ctl_sets_open(ctl, epfd);
	if (ret)
		goto out_free;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out_sets;
	}
	/* Created 0600 from the start: no moment where others may connect. */
	old_mask = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_mask);
	if (ret)
		goto out_close;
	/* The directory is 0700 when we made it; the mode is what counts
	 * when an operator points us at a shared one. */
	if (chmod(path, 0600) || listen(fd, CTL_BACKLOG)) {
		ret = -errno;
		goto out_unlink;
	}
	ctl->ev.fd = fd;
	ctl->ev.handler = ctl_listen_handler;
	ret = xlb_loop_add(ctl->epfd, &ctl->ev, EPOLLIN);
	if (ret)
		goto out_unlink;
	*out = ctl;
	return 0;

out_unlink:
	unlink(path);
out_close:
	close(fd);
out_sets:
	ctl_sets_close(ctl);
out_free:
	if (ctl->spare_fd >= 0)
		close(ctl->spare_fd);
	free(ctl);
	return ret;
}

void xlb_control_close(struct xlb_control *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		ctl_client_free(ctl->clients);
	ctl_reap(ctl);
	xlb_loop_del(ctl->epfd, &ctl->ev);
	close(ctl->ev.fd);
	ctl_sets_close(ctl);
	if (ctl->spare_fd >= 0)
		close(ctl->spare_fd);
	unlink(ctl->path);
	free(ctl);
}
