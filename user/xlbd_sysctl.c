// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel settings the data plane needs (forwarding, accept_local):
 * set while needed, warned about once when they cannot be, given back on
 * a full stop (their originals are kept beside the pins: sysctl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xlbd.h"

/* A setting's name as sysctl(8) shows it: '/' to '.'. */
static const char *sysctl_dotted(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = name[i] == '/' ? '.' : name[i];
	buf[i] = '\0';
	return buf;
}

/* Set one setting; log once when it changed, warn when it cannot. */
static void sysctl_want(struct xlbd *d, const char *name, int want,
			const char *why)
{
	char dotted[XLB_SYSCTL_NAME_LEN];
	int ret, was = 0;

	if (!d->sysctls)
		return;
	ret = xlb_sysctl_ensure(d->sysctls, name, want, &was);
	sysctl_dotted(name, dotted, sizeof(dotted));
	if (ret < 0) {
		size_t i;

		/* Once: this runs at every change of the model. */
		for (i = 0; i < d->n_sysctl_warned; i++)
			if (!strcmp(d->sysctl_warned[i], name))
				return;
		if (d->n_sysctl_warned <
		    sizeof(d->sysctl_warned) / sizeof(d->sysctl_warned[0]))
			snprintf(d->sysctl_warned[d->n_sysctl_warned++],
				 sizeof(d->sysctl_warned[0]), "%s", name);
		pr_warn("%s=%d (%s): %s%s", dotted, want, why, strerror(-ret),
			ret == -EROFS ? "; set it by hand, or let xlbd write "
					"it (the unit's ReadWritePaths=)"
				      : "");
	} else if (ret)
		pr_info("%s=%d (was %d): %s; a full stop (lbctl shutdown) sets "
			"it back",
			dotted, want, was, why);
}

/* Give one setting its original back, if we changed it. */
static void sysctl_restore(struct xlbd *d, const char *name, const char *why)
{
	char dotted[XLB_SYSCTL_NAME_LEN];
	int ret, was = 0;

	if (!d->sysctls)
		return;
	ret = xlb_sysctl_restore(d->sysctls, name, &was);
	sysctl_dotted(name, dotted, sizeof(dotted));
	if (ret < 0)
		pr_warn("restoring %s: %s", dotted, strerror(-ret));
	else if (ret)
		pr_info("%s=%d restored (%s)", dotted, was, why);
}

/*
 * While the local pool is not empty, the kernel must accept packets
 * from a local address on the interfaces we are attached to: a
 * translated packet whose neighbour is unknown is handed to the kernel
 * (pass_no_neighbour), with a local address as its source
 * (docs/FULLNAT.md). The former values come back when the pool empties
 * or on a full stop (the originals survive restarts: sysctl.h).
 */
void xlbd_accept_local_sync(struct xlbd *d)
{
	bool want = d->agent && xlb_agent_laddr_count(d->agent);
	char name[XLB_SYSCTL_NAME_LEN];
	size_t i;

	for (i = 0; i < d->cfg.n_interfaces; i++) {
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/accept_local",
			 d->cfg.interfaces[i]);
		if (want)
			sysctl_want(d, name, 1,
				    "FULLNAT local addresses in use");
		else
			sysctl_restore(d, name,
				       "no FULLNAT local address left");
	}
}

#define SYSCTL_FWD4 "net/ipv4/ip_forward"
#define SYSCTL_FWD6 "net/ipv6/conf/all/forwarding"

/*
 * The data plane forwards through the kernel's FIB (bpf_fib_lookup),
 * which answers "forwarding disabled" for every packet of a family whose
 * forwarding is off: turn it on for the families of the VIPs and their
 * reals (docs/OPERATIONS.md).
 */
void xlbd_forwarding_sync(struct xlbd *d)
{
	struct xlb_real_view *v;
	bool v4 = false, v6 = false;
	size_t n, i;

	if (!d->agent || xlb_agent_reals(d->agent, &v, &n))
		return;
	for (i = 0; i < n; i++) {
		v4 |= v[i].svc.ip.family == AF_INET ||
		      v[i].ip.family == AF_INET;
		v6 |= v[i].svc.ip.family == AF_INET6 ||
		      v[i].ip.family == AF_INET6;
	}
	free(v);
	if (v4)
		sysctl_want(d, SYSCTL_FWD4, 1, "IPv4 VIPs or reals");
	if (v6)
		sysctl_want(d, SYSCTL_FWD6, 1, "IPv6 VIPs or reals");
}

/* A full stop: every setting we changed, this agent or an earlier one. */
void xlbd_sysctls_restore_all(struct xlbd *d)
{
	const struct xlb_sysctl_was *v;
	char name[XLB_SYSCTL_NAME_LEN];

	while (d->sysctls && xlb_sysctls_saved(d->sysctls, &v)) {
		snprintf(name, sizeof(name), "%s", v[0].name);
		sysctl_restore(d, name, "full stop");
		/* Unwritable: drop it rather than loop. */
		if (xlb_sysctls_saved(d->sysctls, &v) &&
		    !strcmp(v[0].name, name))
			break;
	}
}

/* lbctl status: the settings the data plane depends on (ping's "host"). */
json_t *xlbd_host_json(struct xlbd *d)
{
	const struct xlb_sysctl_was *v;
	char name[XLB_SYSCTL_NAME_LEN], dotted[XLB_SYSCTL_NAME_LEN];
	json_t *o = json_object(), *ifs = json_array(), *saved = json_array();
	size_t i, n;

#define SYSCTL_JSON(obj, key, nm)                                              \
	do {                                                                   \
		int v_ = d->sysctls ? xlb_sysctl_get(d->sysctls, (nm)) : -1;   \
		json_object_set_new((obj), (key),                              \
				    v_ >= 0 ? json_integer(v_) : json_null()); \
	} while (0)

	if (!o || !ifs || !saved) {
		json_decref(o);
		json_decref(ifs);
		json_decref(saved);
		return NULL;
	}
	SYSCTL_JSON(o, "ipv4_forwarding", SYSCTL_FWD4);
	SYSCTL_JSON(o, "ipv6_forwarding", SYSCTL_FWD6);
	SYSCTL_JSON(o, "rp_filter", "net/ipv4/conf/all/rp_filter");
	for (i = 0; i < d->cfg.n_interfaces; i++) {
		json_t *one = json_object();

		json_object_set_new(one, "name",
				    json_string(d->cfg.interfaces[i]));
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/accept_local",
			 d->cfg.interfaces[i]);
		SYSCTL_JSON(one, "accept_local", name);
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/rp_filter",
			 d->cfg.interfaces[i]);
		SYSCTL_JSON(one, "rp_filter", name);
		json_array_append_new(ifs, one);
	}
#undef SYSCTL_JSON
	n = d->sysctls ? xlb_sysctls_saved(d->sysctls, &v) : 0;
	for (i = 0; i < n; i++)
		json_array_append_new(saved,
				      json_pack("{s:s, s:i}", "sysctl",
						sysctl_dotted(v[i].name, dotted,
							      sizeof(dotted)),
						"was", v[i].was));
	json_object_set_new(o, "interfaces", ifs);
	json_object_set_new(o, "restore_on_shutdown", saved);
	return o;
}
