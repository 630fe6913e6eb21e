/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat.h: FULLNAT (docs/FULLNAT.md). A client's packet to a fullnat VIP
 * is rewritten local:lport -> real:vport, the real's reply back to
 * VIP:vport -> client:cport. Sessions live in nat_fwd / nat_rev, shared
 * by every CPU; each CPU allocates ports only from its own range.
 *
 * The pieces, one header each: nat_session.h (a session's state, real
 * and tuple), nat_alloc.h (a new session's tuple), nat_request.h and
 * nat_reply.h (the session part of each direction), nat_rewrite.h and
 * nat_icmp.h (the packet rewritten in place), nat_send.h (the packet
 * part of both directions: route, rewrite, send).
 */
#ifndef XLB_BPF_NAT_H
#define XLB_BPF_NAT_H

#include "nat_session.h"
#include "nat_alloc.h"
#include "nat_request.h"
#include "nat_reply.h"
#include "nat_rewrite.h"
#include "nat_icmp.h"
#include "nat_send.h"

#endif /* XLB_BPF_NAT_H */
