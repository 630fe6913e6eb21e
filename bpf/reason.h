/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * reason.h: the one contract of every stage of the packet path. A stage
 * returns XLB_GO_ON when the packet goes on to the next stage, or the
 * reason the packet ends with (enum xlb_reason; enum xlb_decap_reason in
 * the decap program), which the entry point counts and turns into the
 * verdict. Whatever else a stage finds (the next protocol, a header's
 * length, the egress MTU) it hands back through its arguments.
 */
#ifndef XLB_BPF_REASON_H
#define XLB_BPF_REASON_H

#include "xlb_abi.h"

/*
 * "Go on": no reason. Outside both reason enums, so that every reason,
 * forward_tx (0) included, can end a packet, and a reason added at the
 * end of an enum never meets it.
 */
#define XLB_GO_ON 0x100u

_Static_assert(XLB_R_MAX < XLB_GO_ON, "XLB_GO_ON among the reasons");
_Static_assert(XLB_DECAP_MAX < XLB_GO_ON, "XLB_GO_ON among the reasons");

#endif /* XLB_BPF_REASON_H */
