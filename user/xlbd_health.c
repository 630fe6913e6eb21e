// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Health checks follow the model's reals (user/health.c runs them): what
 * each check goes through, their results applied to the model, and their
 * state in a real's view.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xlbd.h"

/* A check changed a real's state: apply it and say so, once. */
void xlbd_on_health(void *arg, const struct xlb_service *svc,
		    const struct xlb_ip *real, bool up, const char *reason)
{
	char vbuf[XLB_SERVICE_STRLEN], rbuf[XLB_IP_STRLEN];
	struct xlbd *d = arg;
	int ret;

	ret = xlb_real_set_health(d->agent, svc, real, up);
	xlb_log(up ? XLB_LOG_INFO : XLB_LOG_WARN, "real %s of %s is %s: %s",
		xlb_ip_str(real, rbuf, sizeof(rbuf)),
		xlb_service_str(svc, vbuf, sizeof(vbuf)), up ? "up" : "down",
		reason);
	if (ret)
		pr_warn("marking it %s failed: %s", up ? "up" : "down",
			strerror(-ret));
}

/*
 * What a check through target t's data path needs (docs/HEALTH.md,
 * "Data-path checks"): the VIP's mode, the tunnel source range and a
 * local address of the real's family, from the running model rt.
 */
static void health_path(const struct xlbd *d, const struct xlb_config *rt,
			struct xlb_health_target *t)
{
	size_t i;

	for (i = 0; i < rt->n_vips; i++)
		if (xlb_service_equal(&rt->vips[i].svc, &t->svc)) {
			t->mode = rt->vips[i].mode;
			if (rt->vips[i].gue)
				t->gue_port = (uint16_t)d->cfg.gue_port;
		}
	if (t->real.family == AF_INET) {
		t->tun_src = d->cfg.tun_src_v4;
		t->tun_plen = d->cfg.tun_src_v4_plen;
	} else {
		t->tun_src = d->cfg.tun_src_v6;
		t->tun_plen = d->cfg.tun_src_v6_plen;
	}
	for (i = 0; i < rt->nat.n_laddrs; i++) {
		if (rt->nat.laddrs[i].family == t->real.family) {
			t->laddr = rt->nat.laddrs[i];
			break;
		}
	}
}

/*
 * The checks follow the agent's reals (change hook). A real's state is
 * what its checks say: a new or restarted check starts up, and a real
 * with no check is always up.
 */
void xlbd_health_sync(struct xlb_agent *agent, void *arg)
{
	struct xlb_health_target *t = NULL;
	struct xlb_health_status st;
	struct xlb_real_view *v;
	struct xlb_config rt;
	struct xlbd *d = arg;
	size_t n, i;
	int ret;

	if (!d->health)
		return;
	ret = xlb_agent_reals(agent, &v, &n);
	if (ret) {
		pr_warn("health checks: %s", strerror(-ret));
		return;
	}
	memset(&rt, 0, sizeof(rt));
	ret = xlb_agent_running_config(agent, &rt);
	if (ret) {
		pr_warn("health checks: %s", strerror(-ret));
		free(v);
		return;
	}
	if (n) {
		t = calloc(n, sizeof(*t));
		if (!t) {
			xlb_config_free(&rt);
			free(v);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		t[i].svc = v[i].svc;
		t[i].real = v[i].ip;
		t[i].check = v[i].check;
		health_path(d, &rt, &t[i]);
	}
	xlb_config_free(&rt);
	ret = xlb_health_sync(d->health, t, n);
	if (ret)
		pr_warn("health checks: %s", strerror(-ret));
	for (i = 0; !ret && i < n; i++) {
		bool up = v[i].check.type == XLB_CHECK_NONE ||
			  xlb_health_get(d->health, &v[i].svc, &v[i].ip, &st) ||
			  st.up;

		if (up != v[i].healthy)
			xlb_real_set_health(agent, &v[i].svc, &v[i].ip, up);
	}
	free(t);
	free(v);
}

/* A real's checks in its JSON view (lbctl status, /metrics). */
void xlbd_real_health_json(void *arg, const struct xlb_service *svc,
			   const struct xlb_ip *real, json_t *obj)
{
	struct xlb_health_status st;
	char ip[XLB_IP_STRLEN];
	struct xlbd *d = arg;
	json_t *h;

	if (!d->health || xlb_health_get(d->health, svc, real, &st) ||
	    st.type == XLB_CHECK_NONE)
		return;
	h = json_object();
	json_object_set_new(h, "type",
			    json_string(xlb_health_type_str(st.type)));
	json_object_set_new(h, "up", json_boolean(st.up));
	json_object_set_new(h, "through", json_string(st.through));
	if (st.src.family)
		json_object_set_new(
			h, "source",
			json_string(xlb_ip_str(&st.src, ip, sizeof(ip))));
	json_object_set_new(h, "checks", json_integer(st.checks));
	json_object_set_new(h, "failed", json_integer(st.failures));
	json_object_set_new(h, "skipped", json_integer(st.skipped));
	json_object_set_new(h, "transitions", json_integer(st.transitions));
	if (st.has_last) {
		json_object_set_new(h, "latency_seconds",
				    json_real(st.last_latency_us / 1e6));
		json_object_set_new(h, "last", json_string(st.last_reason));
	}
	json_object_set_new(obj, "health", h);
}
