/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The data-path fuzzer's oracle: what the node is configured with, what
 * flows and sessions legitimately exist, and the judgement of one run
 * of the program (input frame, verdict, reason, output frame) against
 * the rules of docs/SECURITY.md and issue 13. It never asks the program
 * what it thinks: every expectation is derived here, from the input
 * frame and the configuration, by code of its own.
 */
#ifndef XLB_FUZZ_ORACLE_H
#define XLB_FUZZ_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlb.h"
#include "xlb_abi.h"

#define FZ_MAX_REALS  6
#define FZ_MAX_VIPS   12
#define FZ_MAX_LADDRS 4

/* Where a destination is reached from the lab's node. */
struct fz_hop {
	bool known;    /* a route and (unless no_neigh) a neighbour */
	bool no_neigh; /* routed, no neighbour entry: passed to the kernel */
	uint8_t smac[6];
	uint8_t dmac[6];
	int ifindex;
};

struct fz_real {
	struct xlb_ip ip;
	uint32_t weight;
	bool down;     /* its health check failed */
	bool draining; /* no new flows */
};

struct fz_vip {
	struct xlb_service svc;
	bool fullnat;
	bool src_hash;
	uint16_t mss;
	uint32_t id; /* the agent's VIP id */
	int n_reals;
	struct fz_real reals[FZ_MAX_REALS];
};

/* A FULLNAT session as the oracle knows it. */
struct fz_sess {
	struct xlb_flow_key fk; /* client side, as nat_fwd is keyed */
	bool maybe;		/* a legitimate SYN that was not forwarded */
	struct xlb_addr laddr, raddr;
	uint16_t lport; /* network order */
	struct xlb_addr vaddr;
};

struct fz_model {
	struct fz_vip vips[FZ_MAX_VIPS];
	int n_vips;
	struct xlb_ip laddrs[FZ_MAX_LADDRS];
	int n_laddrs;
	uint16_t port_min, port_max;
	/* VLAN ids whose tagged frames are balanced (config `vlans`), on
	 * if_client and on if_reals; id 0, a priority tag, always is. */
	uint64_t vlans_client[XLB_VLAN_WORDS];
	uint64_t vlans_reals[XLB_VLAN_WORDS];
	struct xlb_globals g; /* tunnel sources */
	int if_client, if_reals;
	/* Where each destination goes: filled by the lab. */
	bool (*hop)(const struct xlb_ip *dst, struct fz_hop *h);

	/* Tunnel flows seen forwarded: key fingerprint -> real index + 1. */
	uint64_t *ct_fp;
	uint32_t *ct_val;
	size_t ct_cap, ct_n;
	/* FULLNAT sessions: forward and reverse fingerprints -> index + 1. */
	struct fz_sess *sess;
	size_t sess_n, sess_cap;
	uint64_t *fw_fp, *rv_fp;
	uint32_t *fw_val, *rv_val;
	size_t tab_cap;
};

/* One packet's run through the program. */
struct fz_run {
	const uint8_t *in;
	size_t in_len;
	int ingress; /* ifindex */
	uint32_t retval;
	const uint8_t *out;
	size_t out_len;
	int n_moved;  /* reason counters that moved */
	int moved_by; /* by how much the one that moved did */
	enum xlb_reason reason;
};

/* What the oracle makes of one run. */
struct fz_judgement {
	const char *cls; /* NULL: legitimate; else the class of violation */
	char detail[256];
	const char *input_class; /* why the input may not be forwarded */
	bool forwarded;
	bool makes_session; /* a legitimate first packet of a FULLNAT flow */
	/* For the generator: a FULLNAT request's translated tuple. */
	bool nat_req;
	struct xlb_addr laddr, raddr;
	uint16_t lport; /* network order */
};

int fz_model_init(struct fz_model *m, size_t expected_flows);
void fz_model_free(struct fz_model *m);

/* Judge one run; updates the model (new flows, sessions). */
void fz_judge(struct fz_model *m, const struct fz_run *r,
	      struct fz_judgement *j);

/* Is this nat_fwd key a session the oracle knows (or may exist)? */
bool fz_session_known(struct fz_model *m, const struct xlb_flow_key *k);

/* A session found in nat_fwd that the oracle did not see made: report
 * it once, then treat it as one that may exist. */
void fz_session_adopt(struct fz_model *m, const struct xlb_flow_key *k,
		      const struct xlb_addr *laddr, uint16_t lport,
		      const struct xlb_addr *raddr);

/* Forget every session (the node's were all expired). */
void fz_sessions_reset(struct fz_model *m);

/* The VIP the model has for (address, port, proto), or NULL. */
const struct fz_vip *fz_vip_find(const struct fz_model *m, int family,
				 const struct xlb_addr *a, uint16_t port_be,
				 uint8_t proto);

#endif /* XLB_FUZZ_ORACLE_H */
