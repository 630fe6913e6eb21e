/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The real-side decap program: load, attach to an interface, detach.
 * Used by `lbctl decap attach|detach IFNAME` on the reals.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <stddef.h>

#include "xlb.h"

int xlb_decap_attach(const char *ifname, enum xlb_xdp_mode mode, char *err,
		     size_t errlen);
int xlb_decap_detach(const char *ifname, char *err, size_t errlen);

#endif /* XLB_DECAP_H */
