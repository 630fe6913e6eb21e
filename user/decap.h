/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The real-side decap program: load, attach to an interface, detach.
 * Used by `lbctl decap attach IFNAME --from PREFIX... [--gue-port PORT]`
 * and `lbctl decap
 * detach IFNAME` on the reals.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <stddef.h>
#include <stdint.h>

#include "xlb.h"

/* A prefix the outer source of a tunnel may come from. */
struct xlb_decap_source {
	struct xlb_ip net;
	int plen;
};

struct decap_bpf;

/*
 * Open and load the decap program, taking GUE tunnels apart on UDP port
 * gue_port (host order; the balancers' gue_port). NULL with err set on
 * failure.
 */
struct decap_bpf *xlb_decap_load(uint16_t gue_port, char *err, size_t errlen);
/*
 * Fill a loaded decap program's maps: every address of this host (this
 * network namespace) as a destination, and the n allowed sources. n must
 * be at least 1 (0.0.0.0/0 and ::/0 accept anyone) and at most
 * XLB_DECAP_MAX_SOURCES.
 */
int xlb_decap_fill(struct decap_bpf *skel, const struct xlb_decap_source *src,
		   size_t n, char *err, size_t errlen);
/* Load, fill and attach to ifname, replacing our own program there. */
int xlb_decap_attach(const char *ifname, enum xlb_xdp_mode mode,
		     const struct xlb_decap_source *src, size_t n,
		     uint16_t gue_port, char *err, size_t errlen);
int xlb_decap_detach(const char *ifname, char *err, size_t errlen);

#endif /* XLB_DECAP_H */
