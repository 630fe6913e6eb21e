// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness of the control socket's request path (user/control.c):
 * an input is what a client sends; its first line goes through json_loadb
 * and xlb_control_dispatch exactly as the server does, and the reply is
 * serialised as the server would send it. The agent behind dispatch is a
 * fake defined here, answering from the request's own values (success,
 * a refusal with a reason, a refusal without one, a view that runs out
 * of memory), so that field validation and every reply path are reached
 * without BPF. Built with ASan, UBSan and LeakSanitizer; a reply that
 * breaks the protocol (docs/CONTROL.md) aborts with the broken rule.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "control.h"
#include "daemon.h"
#include "loop.h"
#include "xlb.h"

/* A broken contract is a crash libFuzzer records, with its reason. */
#define fuzz_check(cond)                                                 \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "contract broken: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);              \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- The fake agent ----------------------------------------------------- */

static struct fake_agent {
	bool views_fail;   /* the read-side views return NULL (no memory) */
	bool reload_fails; /* the reload hook rejects the file */
	unsigned long ops, shutdowns;
} fake;

#define FAKE ((struct xlb_agent *)&fake)

/*
 * The outcome of an operation, from its values: one in three succeeds,
 * one is refused with a reason naming the VIP, one without a reason
 * (dispatch then falls back to strerror).
 */
static int fake_op(struct xlb_agent *agent, const struct xlb_service *svc,
		   const struct xlb_ip *real, uint32_t n, char *err,
		   size_t errlen)
{
	char vip[XLB_SERVICE_STRLEN], ip[XLB_IP_STRLEN] = "-";

	fuzz_check(agent == FAKE);
	fuzz_check(svc->proto == IPPROTO_TCP || svc->proto == IPPROTO_UDP);
	fake.ops++;
	if (real)
		xlb_ip_str(real, ip, sizeof(ip));
	switch ((svc->port + n) % 3) {
	case 0:
		return 0;
	case 1:
		snprintf(err, errlen, "refused %s for VIP %s", ip,
			 xlb_service_str(svc, vip, sizeof(vip)));
		return -EEXIST;
	default:
		return -ENOENT;
	}
}

int xlb_agent_new(struct xlb_dp *dp, struct xlb_agent **out)
{
	*out = FAKE;
	return 0;
}

void xlb_agent_free(struct xlb_agent *agent)
{
}

struct xlb_dp *xlb_agent_dp(struct xlb_agent *agent)
{
	return NULL;
}

int xlb_vip_add(struct xlb_agent *agent, const struct xlb_service *svc,
		enum xlb_hash_mode hash, uint32_t table_size, char *err,
		size_t errlen)
{
	fuzz_check(hash == XLB_HASH_MAGLEV || hash == XLB_HASH_SOURCE_IP);
	fuzz_check(xlb_is_prime(table_size));
	return fake_op(agent, svc, NULL, table_size, err, errlen);
}

int xlb_vip_del(struct xlb_agent *agent, const struct xlb_service *svc,
		char *err, size_t errlen)
{
	return fake_op(agent, svc, NULL, 0, err, errlen);
}

int xlb_real_add(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, uint32_t weight, char *err,
		 size_t errlen)
{
	fuzz_check(weight <= XLB_MAX_WEIGHT);
	return fake_op(agent, svc, real, weight, err, errlen);
}

int xlb_real_del(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, char *err, size_t errlen)
{
	return fake_op(agent, svc, real, 1, err, errlen);
}

int xlb_real_set_weight(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, uint32_t weight, char *err,
			size_t errlen)
{
	fuzz_check(weight <= XLB_MAX_WEIGHT);
	return fake_op(agent, svc, real, weight, err, errlen);
}

int xlb_vip_set_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode mode, uint16_t mss, char *err,
		     size_t errlen)
{
	fuzz_check(mode == XLB_MODE_TUNNEL || mode == XLB_MODE_FULLNAT);
	fuzz_check(!mss || mss >= XLB_MSS_MIN);
	return fake_op(agent, svc, NULL, mss, err, errlen);
}

int xlb_vip_set_encap(struct xlb_agent *agent, const struct xlb_service *svc,
		      bool gue, char *err, size_t errlen)
{
	return fake_op(agent, svc, NULL, gue, err, errlen);
}

int xlb_vip_get_mode(struct xlb_agent *agent, const struct xlb_service *svc,
		     enum xlb_fwd_mode *mode, uint16_t *mss, bool *gue,
		     char *err, size_t errlen)
{
	fuzz_check(agent == FAKE);
	*mode = svc->port & 1 ? XLB_MODE_FULLNAT : XLB_MODE_TUNNEL;
	*mss = 0;
	*gue = false;
	return 0;
}

/* A local address: an operation on a made-up VIP of the same family. */
static int fake_laddr_op(struct xlb_agent *agent, const struct xlb_ip *ip,
			 char *err, size_t errlen)
{
	struct xlb_service svc = {.ip = *ip, .port = 1, .proto = IPPROTO_UDP};

	fuzz_check(ip->family == AF_INET || ip->family == AF_INET6);
	return fake_op(agent, &svc, ip, 0, err, errlen);
}

int xlb_laddr_add(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	return fake_laddr_op(agent, ip, err, errlen);
}

int xlb_laddr_del(struct xlb_agent *agent, const struct xlb_ip *ip, char *err,
		  size_t errlen)
{
	return fake_laddr_op(agent, ip, err, errlen);
}

json_t *xlb_agent_laddrs_json(struct xlb_agent *agent)
{
	fuzz_check(agent == FAKE);
	if (fake.views_fail)
		return NULL;
	return json_pack("{s:[{s:s,s:s,s:i}]}", "local_addresses", "address",
			 "10.97.0.1", "family", "ipv4", "sessions", 3);
}

json_t *xlb_agent_sessions_json(struct xlb_agent *agent,
				const struct xlb_service *vip, size_t limit)
{
	fuzz_check(agent == FAKE);
	fuzz_check(limit >= 1 && limit <= 1000000);
	if (fake.views_fail || (vip && vip->port % 3 == 2))
		return NULL;
	return json_pack("{s:[{s:s,s:s,s:s,s:s,s:s,s:s,s:i}],s:i,s:b}",
			 "sessions", "proto", "tcp", "client",
			 "192.0.2.1:40000", "vip", "10.0.0.10:80", "local",
			 "10.97.0.1:2000", "real", "10.1.0.2:80", "state",
			 "established", "idle_seconds", 3, "total", 1,
			 "truncated", 0);
}

int xlb_real_set_health(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, bool up)
{
	char err[XLB_ERR_LEN];

	return fake_op(agent, svc, real, up, err, sizeof(err));
}

int xlb_real_set_drain(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real, bool drain, char *err,
		       size_t errlen)
{
	return fake_op(agent, svc, real, drain, err, errlen);
}

int xlb_vip_set_check(struct xlb_agent *agent, const struct xlb_service *svc,
		      const struct xlb_check_spec *check, char *err,
		      size_t errlen)
{
	return fake_op(agent, svc, NULL, check ? check->type : 0, err, errlen);
}

int xlb_real_set_check(struct xlb_agent *agent, const struct xlb_service *svc,
		       const struct xlb_ip *real,
		       const struct xlb_check_spec *check, char *err,
		       size_t errlen)
{
	return fake_op(agent, svc, real, check ? check->type : 0, err, errlen);
}

int xlb_agent_reals(struct xlb_agent *agent, struct xlb_real_view **out,
		    size_t *n)
{
	*out = NULL;
	*n = 0;
	return 0;
}

void xlb_agent_on_change(struct xlb_agent *agent, xlb_agent_change_fn fn,
			 void *arg)
{
}

int xlb_agent_set_globals(struct xlb_agent *agent, const struct xlb_config *cfg)
{
	return 0;
}

int xlb_agent_adopt(struct xlb_agent *agent, size_t *n_vips, size_t *n_reals)
{
	*n_vips = 0;
	*n_reals = 0;
	return 0;
}

int xlb_agent_reconcile(struct xlb_agent *agent, const struct xlb_config *cfg,
			struct xlb_reconcile_stats *st, char *err,
			size_t errlen)
{
	memset(st, 0, sizeof(*st));
	return 0;
}

/* The daemon's reload: accepted with details, or refused with a line. */
static int fake_reload(json_t *req, json_t *reply, char *err, size_t errlen)
{
	if (fake.reload_fails) {
		snprintf(err, errlen,
			 "fuzz.yaml:3: weight: 70000 is out of "
			 "range 0..65535");
		return -EINVAL;
	}
	if (json_object_set_new(reply, "vips_added", json_integer(1)))
		return -ENOMEM;
	return 0;
}

static int fake_shutdown(json_t *req, json_t *reply, char *err, size_t errlen)
{
	fake.shutdowns++;
	return 0;
}

const struct xlb_daemon_cmd xlb_daemon_cmds[] = {
	{"reload", fake_reload},
	{"shutdown", fake_shutdown},
	{NULL},
};

/* A two-VIP model as the real agent shows it (docs/CONTROL.md). */
json_t *xlb_agent_vips_json(struct xlb_agent *agent, bool with_counters)
{
	json_t *vips;

	fuzz_check(agent == FAKE);
	if (fake.views_fail)
		return NULL;
	if (with_counters)
		vips = json_pack(
			"[{s:s,s:i,s:s,s:i,s:I,s:I,s:I,s:[{s:s,s:i,s:i,s:s,"
			"s:I,s:I,s:I}]}]",
			"vip", "10.0.0.10:80/tcp", "id", 1, "hash", "maglev",
			"table_size", 65537, "packets", (json_int_t)10, "bytes",
			(json_int_t)740, "new_flows", (json_int_t)2, "reals",
			"address", "10.1.0.2", "id", 1, "weight", 100, "state",
			"up", "packets", (json_int_t)6, "bytes",
			(json_int_t)444, "new_flows", (json_int_t)1);
	else
		vips = json_pack("[{s:s,s:i,s:s,s:i,s:[{s:s,s:i,s:i,s:s}]},"
				 "{s:s,s:i,s:s,s:i,s:[]}]",
				 "vip", "10.0.0.10:80/tcp", "id", 1, "hash",
				 "maglev", "table_size", 65537, "reals",
				 "address", "10.1.0.2", "id", 1, "weight", 100,
				 "state", "up", "vip", "[2001:db8::10]:443/udp",
				 "id", 2, "hash", "source-ip", "table_size",
				 251, "reals");
	return json_pack("{s:o}", "vips", vips);
}

json_t *xlb_agent_stats_json(struct xlb_agent *agent)
{
	json_t *view = xlb_agent_vips_json(agent, true);

	if (view && json_object_set_new(
			    view, "reasons",
			    json_pack("{s:I,s:I}", "forward_tx", (json_int_t)10,
				      "pass_not_vip", (json_int_t)3))) {
		json_decref(view);
		return NULL;
	}
	return view;
}

/* ---- The request path --------------------------------------------------- */

/*
 * A reply must be an object with a boolean "ok", a non-empty "error"
 * exactly when ok is false, and serialise to one line of JSON that reads
 * back the same.
 */
static void check_reply(json_t *reply)
{
	json_t *ok, *error, *back;
	char *line;

	fuzz_check(json_is_object(reply));
	ok = json_object_get(reply, "ok");
	error = json_object_get(reply, "error");
	fuzz_check(json_is_boolean(ok));
	if (json_is_true(ok))
		fuzz_check(!error);
	else
		fuzz_check(json_is_string(error) && json_string_length(error));
	line = json_dumps(reply, JSON_COMPACT);
	fuzz_check(line && !strchr(line, '\n'));
	back = json_loads(line, 0, NULL);
	fuzz_check(back && json_equal(back, reply));
	json_decref(back);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	json_error_t jerr;
	json_t *req, *reply;
	size_t len = size;

	/* The server answers longer lines without parsing them. */
	nl = memchr(data, '\n', size);
	if (nl)
		len = (size_t)(nl - data);
	if (len > XLB_CTL_MAX_REQUEST)
		return 0;
	fake.views_fail = size % 7 == 6;
	fake.reload_fails = size % 5 == 4;
	req = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
			 &jerr);
	if (!req)
		return 0;
	reply = xlb_control_dispatch(FAKE, req);
	fuzz_check(reply);
	check_reply(reply);
	json_decref(reply);
	json_decref(req);
	return 0;
}
