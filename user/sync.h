/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Session sync between the nodes of a cluster (docs/CLUSTER.md).
 *
 * UDP between the addresses listed in the cluster section. Every message
 * is authenticated with HMAC-SHA256 under the shared key and carries the
 * sender's name, an epoch (when the sender started) and a sequence
 * number; a receiver drops (and counts) anything from an address that is
 * not a listed peer, with a bad tag, outside the time window, from an
 * older epoch or a sequence number it has already accepted.
 *
 * This module knows nothing of maps: sessions cross it as struct
 * xlb_session_rec, made and applied by the agent (state.c). It does the
 * wire format, batching, the bulk transfer and the counters.
 */
#ifndef XLB_SYNC_H
#define XLB_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "maps.h"
#include "xlb.h"

/* One session as nodes exchange it: addresses, never local ids. */
struct xlb_session_rec {
	enum xlb_fwd_mode mode;
	struct xlb_service vip; /* as configured: port 0 = any-port VIP */
	struct xlb_ip client;
	uint16_t cport; /* host order */
	uint16_t dport; /* the flow's destination port, host order */
	struct xlb_ip real;
	struct xlb_ip laddr; /* FULLNAT: the translated source */
	uint16_t lport;	     /* FULLNAT, host order */
	uint8_t state;	     /* FULLNAT: enum xlb_nat_state */
	uint32_t age_ms;     /* FULLNAT: since the session was last seen */
};

/* Why an authenticated record was not applied (import's return). */
enum xlb_sync_reject {
	XLB_SYNC_OK = 0,
	XLB_SYNC_REJ_UNKNOWN_VIP,  /* no such VIP here, or another mode */
	XLB_SYNC_REJ_UNKNOWN_REAL, /* the VIP has no such real here */
	XLB_SYNC_REJ_BAD_LADDR,	   /* not in the sender's configured pool */
	XLB_SYNC_REJ_CONFLICT,	   /* a live session of ours differs: kept */
	XLB_SYNC_REJ_INTERNAL,
	XLB_SYNC_REJ_MAX,
};

/* How far a bulk transfer has come: opaque to the peer, echoed back. */
typedef struct xlb_dp_cursor xlb_sync_cursor;

struct xlb_sync_ops {
	/*
	 * Bulk export: up to max records from *cur on, the cursor moved past
	 * them; *done when nothing is left. Returns the count or -errno.
	 */
	int (*export_sessions)(void *arg, xlb_sync_cursor *cur,
			       struct xlb_session_rec *recs, size_t max,
			       bool *done);
	/* Apply one authenticated record from node peer (its name). */
	enum xlb_sync_reject (*import_session)(void *arg, const char *peer,
					       const struct xlb_session_rec *r);
	void *arg;
};

/* Counters, also the source of the xlb_sync_* metrics. */
enum xlb_sync_drop {
	XLB_SYNC_DROP_UNKNOWN_PEER = 0, /* source is not a listed node */
	XLB_SYNC_DROP_MALFORMED,	/* too short, bad magic or version */
	XLB_SYNC_DROP_BAD_AUTH,		/* the tag does not verify */
	XLB_SYNC_DROP_STALE,		/* outside the time window */
	XLB_SYNC_DROP_REPLAY,		/* epoch or sequence seen before */
	XLB_SYNC_DROP_MAX,
};

struct xlb_sync_peer_stats {
	char name[XLB_NODE_NAME_LEN];
	bool up;	     /* heard from within 3 heartbeats */
	uint64_t last_rx_ns; /* CLOCK_MONOTONIC of the last accepted message */
	uint64_t tx_msgs, tx_sessions;
	uint64_t rx_msgs, rx_sessions;
	/* Bulk from this peer: not asked, running, done, or gave up. */
	enum {
		XLB_BULK_IDLE,
		XLB_BULK_RUNNING,
		XLB_BULK_DONE,
		XLB_BULK_FAILED
	} bulk;
	uint64_t bulk_sessions; /* received in the last bulk */
	uint64_t bulks;		/* bulk transfers asked of it */
};

struct xlb_sync_stats {
	uint64_t drops[XLB_SYNC_DROP_MAX];
	uint64_t rejects[XLB_SYNC_REJ_MAX];
	uint64_t queued, sent, batches;
	uint64_t max_lag_ns;  /* longest a queued record waited to be sent */
	uint64_t bulk_served; /* records sent to peers in bulk */
};

struct xlb_sync;

/*
 * Bind the node's sync address and port (cluster->nodes[cluster->self]),
 * read the key file (must be a regular file owned by root, not readable
 * or writable by group or others, 32 to 1024 bytes). err on failure.
 */
int xlb_sync_new(const struct xlb_cluster_config *cluster,
		 const struct xlb_sync_ops *ops, struct xlb_sync **out,
		 char *err, size_t errlen);
void xlb_sync_free(struct xlb_sync *s);
int xlb_sync_fd(struct xlb_sync *s); /* poll for EPOLLIN */
/* Read and handle every waiting datagram. */
void xlb_sync_read(struct xlb_sync *s, uint64_t now_ns);
/* Queue a record for every peer; sent within batch_ms (or when full). */
void xlb_sync_queue(struct xlb_sync *s, const struct xlb_session_rec *r,
		    uint64_t now_ns);
/*
 * Timers: flush due batches, heartbeats, bulk retries and timeouts.
 * Returns the milliseconds until it next needs to run (>= 1).
 */
int xlb_sync_tick(struct xlb_sync *s, uint64_t now_ns);
/* Ask every peer for its whole table (pre-online). */
void xlb_sync_bulk_start(struct xlb_sync *s, uint64_t now_ns);
/*
 * true once every peer has either finished its bulk transfer or not
 * answered within timeout_ms of bulk_start; *any_done: at least one
 * peer finished.
 */
bool xlb_sync_bulk_settled(struct xlb_sync *s, uint64_t now_ns,
			   uint32_t timeout_ms, bool *any_done);
/*
 * A return since the last call: a peer was heard after every peer had
 * been silent for the heartbeat threshold (1 s) or more, so sessions
 * made meanwhile are missing here; the peers heard again are being
 * asked for their whole tables. *silence_ms: how long no peer was heard.
 * xlb_sync_bulk_settled is false for 1 s after a return, so that every
 * peer still alive is heard (and asked) before it says settled.
 */
bool xlb_sync_take_return(struct xlb_sync *s, uint64_t *silence_ms);
/* Counters and per-peer state (peers: n_nodes - 1 entries). */
void xlb_sync_get_stats(struct xlb_sync *s, struct xlb_sync_stats *st);
size_t xlb_sync_peers(struct xlb_sync *s, struct xlb_sync_peer_stats *out,
		      size_t max);
/* {"peers": [...], "drops": {...}, "rejects": {...}, ...} */
json_t *xlb_sync_json(struct xlb_sync *s, uint64_t now_ns);

extern const char *const xlb_sync_drop_names[XLB_SYNC_DROP_MAX];
extern const char *const xlb_sync_reject_names[XLB_SYNC_REJ_MAX];

#endif /* XLB_SYNC_H */
