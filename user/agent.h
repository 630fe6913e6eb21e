/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's model of VIPs and reals (state.c), and the operations the
 * control socket and the configuration loader apply to it. Every
 * operation validates first and changes nothing on error; on success the
 * data plane maps are updated through maps.c before it returns.
 */
#ifndef XLB_AGENT_H
#define XLB_AGENT_H

#include <jansson.h>

#include "xlb.h"

struct xlb_agent;
struct xlb_dp;

/* Create the model over an opened data plane (maps.c). */
int xlb_agent_new(struct xlb_dp *dp, struct xlb_agent **out);
void xlb_agent_free(struct xlb_agent *agent);
struct xlb_dp *xlb_agent_dp(struct xlb_agent *agent);

/*
 * Operations. err is filled with a one-line reason on failure
 * ("no such VIP 10.0.0.1:80/tcp", "real 10.1.0.2 already in VIP ...").
 */
int xlb_vip_add(struct xlb_agent *agent, const struct xlb_service *svc,
		enum xlb_hash_mode hash, uint32_t table_size, char *err,
		size_t errlen);
int xlb_vip_del(struct xlb_agent *agent, const struct xlb_service *svc,
		char *err, size_t errlen);
int xlb_real_add(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, uint32_t weight, char *err,
		 size_t errlen);
int xlb_real_del(struct xlb_agent *agent, const struct xlb_service *svc,
		 const struct xlb_ip *real, char *err, size_t errlen);
int xlb_real_set_weight(struct xlb_agent *agent, const struct xlb_service *svc,
			const struct xlb_ip *real, uint32_t weight, char *err,
			size_t errlen);

/* Node-wide data plane settings (tunnel source, gateway MAC). */
int xlb_agent_set_globals(struct xlb_agent *agent,
			  const struct xlb_config *cfg);
/* Set globals and add every VIP of a validated configuration. */
int xlb_agent_apply_config(struct xlb_agent *agent,
			   const struct xlb_config *cfg, char *err,
			   size_t errlen);

/*
 * Read-side views, as JSON (the shapes are documented in docs/CONTROL.md):
 * {"vips": [...]} for vip.list and {"vips": [...], "reasons": {...}} for
 * stats. The caller owns the returned reference.
 */
json_t *xlb_agent_vips_json(struct xlb_agent *agent, bool with_counters);
json_t *xlb_agent_stats_json(struct xlb_agent *agent);

#endif /* XLB_AGENT_H */
