// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Session sync between cluster nodes: the wire format, authentication,
 * replay protection, batching and the bulk transfer. docs/SYNC.md is the
 * reference for every byte written here; the two must agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sync.h"

#define NSEC_PER_MS 1000000ULL

/* ---- Wire format (docs/SYNC.md) ---------------------------------------- */

#define SYNC_MAGIC	 0x584c4253u /* "XLBS" */
#define SYNC_VERSION	 1
#define SYNC_MAX_DGRAM	 1400
#define SYNC_HDR_LEN	 96
#define SYNC_TAG_LEN	 crypto_auth_hmacsha256_BYTES /* 32 */
#define SYNC_MAX_PAYLOAD (SYNC_MAX_DGRAM - SYNC_HDR_LEN - SYNC_TAG_LEN)
#define SYNC_REC_LEN	 84
#define SYNC_CURSOR_LEN	 40

enum sync_type {
	SYNC_HELLO = 1,
	SYNC_SESSIONS = 2,
	SYNC_BULK_REQ = 3,
	SYNC_BULK_DATA = 4,
};

/* Header offsets. */
#define H_MAGIC	  0
#define H_VERSION 4
#define H_TYPE	  5
#define H_PLEN	  6
#define H_FROM	  8
#define H_TO	  40
#define H_EPOCH	  72
#define H_SEQ	  80
#define H_SENT_MS 88

/* Payload layouts. */
#define HELLO_LEN	   4 /* flags (bit 0: ready), 3 zero bytes */
#define HELLO_READY	   0x01
#define SESS_HDR_LEN	   4 /* count u16, zero u16 */
#define SESS_MAX_RECS	   ((SYNC_MAX_PAYLOAD - SESS_HDR_LEN) / SYNC_REC_LEN)
#define BREQ_LEN	   (8 + SYNC_CURSOR_LEN)  /* id u32, window u16, 0 */
#define BDATA_HDR_LEN	   (12 + SYNC_CURSOR_LEN) /* id, part, flags, count */
#define BDATA_MAX_RECS	   ((SYNC_MAX_PAYLOAD - BDATA_HDR_LEN) / SYNC_REC_LEN)
#define BDATA_DONE	   0x01
#define BULK_WINDOW	   32  /* BULK_DATA parts answering one BULK_REQ */
#define BULK_RETRY_MS	   250 /* no part of the current request: ask again */
#define HELLO_INTERVAL_MS  300
#define PEER_UP_MS	   1000 /* about three heartbeats */
#define REPLAY_WINDOW_BITS 64

_Static_assert(sizeof(xlb_sync_cursor) <= SYNC_CURSOR_LEN, "cursor");
_Static_assert(SESS_MAX_RECS == 15, "SESSIONS records per datagram");
_Static_assert(BDATA_MAX_RECS == 14, "BULK_DATA records per datagram");
_Static_assert(BULK_WINDOW *SYNC_MAX_DGRAM <= 65536, "bulk window size");

const char *const xlb_sync_drop_names[XLB_SYNC_DROP_MAX] = {
	[XLB_SYNC_DROP_UNKNOWN_PEER] = "unknown_peer",
	[XLB_SYNC_DROP_MALFORMED] = "malformed",
	[XLB_SYNC_DROP_BAD_AUTH] = "bad_auth",
	[XLB_SYNC_DROP_STALE] = "stale",
	[XLB_SYNC_DROP_REPLAY] = "replay",
};

const char *const xlb_sync_reject_names[XLB_SYNC_REJ_MAX] = {
	[XLB_SYNC_OK] = "ok",
	[XLB_SYNC_REJ_UNKNOWN_VIP] = "unknown_vip",
	[XLB_SYNC_REJ_UNKNOWN_REAL] = "unknown_real",
	[XLB_SYNC_REJ_BAD_LADDR] = "bad_laddr",
	[XLB_SYNC_REJ_CONFLICT] = "conflict",
	[XLB_SYNC_REJ_INTERNAL] = "internal",
};

struct sync_peer {
	struct xlb_sync_peer_stats st;
	struct xlb_ip addr;
	uint16_t port;
	struct sockaddr_storage sa;
	socklen_t salen;
	bool ready;	 /* its last HELLO said so */
	uint64_t tx_seq; /* of the last message we sent it */
	/* Replay state: the sender's epoch, highest sequence number, and
	 * bit i set = (max_seq - i) accepted. */
	uint64_t epoch, max_seq, seen;
	/* Our bulk transfer from this peer. */
	uint32_t req_id;       /* of the request in flight */
	uint16_t next_part;    /* the next part in order */
	xlb_sync_cursor cur;   /* after the last part applied in order */
	uint64_t bulk_req_ns;  /* the request in flight was sent */
	uint64_t bulk_prog_ns; /* bulk_start or the last part in order */
};

struct xlb_sync {
	int fd;
	struct xlb_sync_ops ops;
	char name[XLB_NODE_NAME_LEN];
	uint8_t key[1024];
	size_t key_len;
	uint64_t epoch; /* CLOCK_REALTIME ns at start */
	uint32_t batch_ms, replay_window_s;
	struct sync_peer peers[XLB_MAX_NODES];
	size_t n_peers;
	/* The pending batch: one SESSIONS datagram's worth, so memory is
	 * bounded by construction; a full batch is sent at once. */
	struct xlb_session_rec pending[SESS_MAX_RECS];
	size_t n_pending;
	uint64_t pending_ns; /* when the oldest pending record was queued */
	uint64_t next_hello_ns;
	uint32_t next_req_id;
	bool bulk_started;
	/* A return: a peer heard after every peer had been silent for
	 * PEER_UP_MS or more (xlb_sync_take_return). */
	bool returned;
	uint64_t return_ns, return_silence_ns;
	struct xlb_sync_stats st;
	uint8_t buf[SYNC_MAX_DGRAM];
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- Records ----------------------------------------------------------- */

static uint8_t fam_wire(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

static int fam_host(uint8_t f)
{
	return f == 4 ? AF_INET : f == 6 ? AF_INET6 : 0;
}

static void put_ip(uint8_t *p, const struct xlb_ip *ip)
{
	memset(p, 0, 16);
	if (ip->family == AF_INET)
		memcpy(p, ip->a.addr, 4);
	else if (ip->family == AF_INET6)
		memcpy(p, ip->a.addr, 16);
}

/* An address of wire family f: IPv4 leaves the last 12 bytes zero. */
static bool get_ip(const uint8_t *p, uint8_t f, struct xlb_ip *ip)
{
	static const uint8_t zero[16];

	memset(ip, 0, sizeof(*ip));
	ip->family = fam_host(f);
	if (f == 4) {
		memcpy(ip->a.addr, p, 4);
		return !memcmp(p + 4, zero, 12);
	}
	if (f == 6) {
		memcpy(ip->a.addr, p, 16);
		return true;
	}
	return !memcmp(p, zero, 16); /* family 0: no address */
}

static void rec_put(uint8_t *p, const struct xlb_session_rec *r)
{
	bool nat = r->mode == XLB_MODE_FULLNAT;

	memset(p, 0, SYNC_REC_LEN);
	p[0] = (uint8_t)r->mode;
	p[1] = fam_wire(r->vip.ip.family);
	p[2] = r->vip.proto;
	p[3] = fam_wire(r->client.family);
	p[4] = fam_wire(r->real.family);
	p[5] = nat ? fam_wire(r->laddr.family) : 0;
	p[6] = nat ? r->state : 0;
	put16(p + 8, r->vip.port);
	put16(p + 10, r->cport);
	put16(p + 12, r->dport);
	put16(p + 14, nat ? r->lport : 0);
	put32(p + 16, nat ? r->age_ms : 0);
	put_ip(p + 20, &r->vip.ip);
	put_ip(p + 36, &r->client);
	put_ip(p + 52, &r->real);
	if (nat)
		put_ip(p + 68, &r->laddr);
}

/* Decode and validate one record; false: the message is malformed. */
static bool rec_get(const uint8_t *p, struct xlb_session_rec *r)
{
	uint8_t mode = p[0], vf = p[1], proto = p[2], cf = p[3], rf = p[4],
		lf = p[5], state = p[6];

	memset(r, 0, sizeof(*r));
	if (mode > XLB_MODE_FULLNAT || p[7])
		return false;
	if ((vf != 4 && vf != 6) || cf != vf || (rf != 4 && rf != 6))
		return false;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	r->mode = mode;
	r->vip.proto = proto;
	r->vip.port = get16(p + 8);
	r->cport = get16(p + 10);
	r->dport = get16(p + 12);
	r->lport = get16(p + 14);
	r->age_ms = get32(p + 16);
	r->state = state;
	if (r->vip.port && r->dport != r->vip.port)
		return false;
	if (!get_ip(p + 20, vf, &r->vip.ip) ||
	    !get_ip(p + 36, cf, &r->client) || !get_ip(p + 52, rf, &r->real) ||
	    !get_ip(p + 68, lf, &r->laddr))
		return false;
	if (mode == XLB_MODE_TUNNEL)
		return !lf && !r->lport && !state && !r->age_ms;
	return lf == rf && r->lport &&
	       !(state & ~(XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT |
			   XLB_NAT_S_FIN_REAL | XLB_NAT_S_RST));
}

/* ---- Sending ----------------------------------------------------------- */

static void tag(const struct xlb_sync *s, const uint8_t *msg, size_t len,
		uint8_t out[SYNC_TAG_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, s->key, s->key_len);
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, out);
}

/*
 * Send payload (already at s->buf + SYNC_HDR_LEN) as a message of type
 * to peer p: header, tag, one datagram. Loss is the protocol's business
 * (batches are not retried; bulk requests are), so errors are not
 * reported.
 */
static void send_msg(struct xlb_sync *s, struct sync_peer *p,
		     enum sync_type type, size_t plen)
{
	uint8_t *b = s->buf;
	size_t len = SYNC_HDR_LEN + plen;

	put32(b + H_MAGIC, SYNC_MAGIC);
	b[H_VERSION] = SYNC_VERSION;
	b[H_TYPE] = type;
	put16(b + H_PLEN, (uint16_t)plen);
	memset(b + H_FROM, 0, 2 * XLB_NODE_NAME_LEN);
	memcpy(b + H_FROM, s->name, strnlen(s->name, XLB_NODE_NAME_LEN - 1));
	memcpy(b + H_TO, p->st.name,
	       strnlen(p->st.name, XLB_NODE_NAME_LEN - 1));
	put64(b + H_EPOCH, s->epoch);
	put64(b + H_SEQ, ++p->tx_seq);
	put64(b + H_SENT_MS, clock_ns(CLOCK_REALTIME) / NSEC_PER_MS);
	tag(s, b, len, b + len);
	len += SYNC_TAG_LEN;
	if (sendto(s->fd, b, len, 0, (struct sockaddr *)&p->sa, p->salen) ==
	    (ssize_t)len)
		p->st.tx_msgs++;
}

static bool bulk_running(const struct xlb_sync *s)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].st.bulk == XLB_BULK_RUNNING)
			return true;
	return false;
}

static void send_hello(struct xlb_sync *s, struct sync_peer *p)
{
	uint8_t *pl = s->buf + SYNC_HDR_LEN;

	memset(pl, 0, HELLO_LEN);
	pl[0] = bulk_running(s) ? 0 : HELLO_READY;
	send_msg(s, p, SYNC_HELLO, HELLO_LEN);
}

/*
 * Time from then to now, 0 if then is later: a caller may queue records
 * stamped after the now it later ticks with (xlbd's refresh stamps each
 * record as it goes), and an unsigned difference would wrap.
 */
static uint64_t since(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? now_ns - then_ns : 0;
}

static void flush(struct xlb_sync *s, uint64_t now_ns)
{
	uint8_t *pl = s->buf + SYNC_HDR_LEN;
	size_t n = s->n_pending;

	if (!n)
		return;
	for (size_t i = 0; i < s->n_peers; i++) {
		/* The payload is rebuilt per peer: send_msg's tag is
		 * written after it, the header before it. */
		put16(pl, (uint16_t)n);
		put16(pl + 2, 0);
		for (size_t j = 0; j < n; j++)
			rec_put(pl + SESS_HDR_LEN + j * SYNC_REC_LEN,
				&s->pending[j]);
		send_msg(s, &s->peers[i], SYNC_SESSIONS,
			 SESS_HDR_LEN + n * SYNC_REC_LEN);
		s->peers[i].st.tx_sessions += n;
	}
	if (since(now_ns, s->pending_ns) > s->st.max_lag_ns)
		s->st.max_lag_ns = since(now_ns, s->pending_ns);
	s->st.sent += n;
	s->st.batches++;
	s->n_pending = 0;
}

static void send_bulk_req(struct xlb_sync *s, struct sync_peer *p,
			  uint64_t now_ns)
{
	uint8_t *pl = s->buf + SYNC_HDR_LEN;

	p->req_id = ++s->next_req_id;
	p->next_part = 0;
	p->bulk_req_ns = now_ns;
	memset(pl, 0, BREQ_LEN);
	put32(pl, p->req_id);
	put16(pl + 4, BULK_WINDOW);
	memcpy(pl + 8, &p->cur, sizeof(p->cur));
	send_msg(s, p, SYNC_BULK_REQ, BREQ_LEN);
}

/* Ask one peer for its whole table, from the start. */
static void peer_bulk_start(struct xlb_sync *s, struct sync_peer *p,
			    uint64_t now_ns)
{
	memset(&p->cur, 0, sizeof(p->cur));
	p->st.bulk = XLB_BULK_RUNNING;
	p->st.bulk_sessions = 0;
	p->st.bulks++;
	p->bulk_prog_ns = now_ns;
	send_bulk_req(s, p, now_ns);
}

/*
 * An accepted message from p. A peer heard again after a silence (a
 * partition, its death, our link down) made sessions we never got, and
 * incremental messages are not sent twice: take its whole table again.
 * So too for a peer first heard after our own bulk gave up on it.
 */
static void peer_heard(struct xlb_sync *s, struct sync_peer *p, uint64_t now_ns)
{
	bool back = p->st.last_rx_ns &&
		    now_ns - p->st.last_rx_ns >= PEER_UP_MS * NSEC_PER_MS;
	bool late = !p->st.last_rx_ns && p->st.bulk == XLB_BULK_FAILED;
	uint64_t last = 0;

	/* The last time any peer was heard: long enough ago, and this
	 * node was cut off from all of them (or they all were down). */
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].st.last_rx_ns > last)
			last = s->peers[i].st.last_rx_ns;
	if (s->bulk_started && last &&
	    since(now_ns, last) >= PEER_UP_MS * NSEC_PER_MS) {
		s->returned = true;
		s->return_ns = now_ns;
		s->return_silence_ns = since(now_ns, last);
	}
	p->st.last_rx_ns = now_ns;
	if (s->bulk_started && (back || late) &&
	    p->st.bulk != XLB_BULK_RUNNING) {
		peer_bulk_start(s, p, now_ns);
	}
}

/*
 * Answer a BULK_REQ: up to window BULK_DATA parts exported on the fly
 * from the requested cursor. Nothing is kept: the next request carries
 * the cursor to go on from, and cursor zero starts over.
 */
static void serve_bulk(struct xlb_sync *s, struct sync_peer *p,
		       const uint8_t *pl)
{
	struct xlb_session_rec recs[BDATA_MAX_RECS];
	uint32_t id = get32(pl);
	unsigned int window = get16(pl + 4);
	xlb_sync_cursor cur;
	bool done = false;

	memcpy(&cur, pl + 8, sizeof(cur));
	if (window > BULK_WINDOW)
		window = BULK_WINDOW;
	for (unsigned int part = 0; part < window && !done; part++) {
		uint8_t *out = s->buf + SYNC_HDR_LEN;
		int n = 0;

		if (s->ops.export_sessions)
			n = s->ops.export_sessions(s->ops.arg, &cur, recs,
						   BDATA_MAX_RECS, &done);
		else
			done = true;
		if (n < 0)
			return; /* the requester asks again */
		memset(out, 0, BDATA_HDR_LEN);
		put32(out, id);
		put16(out + 4, (uint16_t)part);
		out[6] = done ? BDATA_DONE : 0;
		put16(out + 8, (uint16_t)n);
		memcpy(out + 12, &cur, sizeof(cur));
		for (int i = 0; i < n; i++)
			rec_put(out + BDATA_HDR_LEN + i * SYNC_REC_LEN,
				&recs[i]);
		send_msg(s, p, SYNC_BULK_DATA,
			 BDATA_HDR_LEN + (size_t)n * SYNC_REC_LEN);
		p->st.tx_sessions += (uint64_t)n;
		s->st.bulk_served += (uint64_t)n;
	}
}

/* ---- Receiving --------------------------------------------------------- */

static void import(struct xlb_sync *s, struct sync_peer *p,
		   const struct xlb_session_rec *r)
{
	enum xlb_sync_reject rej = XLB_SYNC_OK;

	if (s->ops.import_session)
		rej = s->ops.import_session(s->ops.arg, p->st.name, r);
	if (rej > XLB_SYNC_OK && rej < XLB_SYNC_REJ_MAX)
		s->st.rejects[rej]++;
	else if (rej != XLB_SYNC_OK)
		s->st.rejects[XLB_SYNC_REJ_INTERNAL]++;
}

/* Decode count records at p; false if any is malformed. */
static bool recs_get(const uint8_t *p, size_t count,
		     struct xlb_session_rec *out)
{
	for (size_t i = 0; i < count; i++)
		if (!rec_get(p + i * SYNC_REC_LEN, &out[i]))
			return false;
	return true;
}

static void bulk_data(struct xlb_sync *s, struct sync_peer *p,
		      const struct xlb_session_rec *recs, size_t n,
		      const uint8_t *pl, uint64_t now_ns)
{
	uint16_t part = get16(pl + 4);
	bool done = pl[6] & BDATA_DONE;
	xlb_sync_cursor next;

	if (p->st.bulk != XLB_BULK_RUNNING || get32(pl) != p->req_id)
		return; /* an answer to an earlier request */
	/* Read before import: an import that queues a record may send, and
	 * sending reuses the buffer pl points into. */
	memcpy(&next, pl + 12, sizeof(next));
	if (part != p->next_part) {
		/* A part was lost: at the end of the window, ask again from
		 * the last part applied in order. */
		if (done || part == BULK_WINDOW - 1)
			send_bulk_req(s, p, now_ns);
		return;
	}
	for (size_t i = 0; i < n; i++)
		import(s, p, &recs[i]);
	p->st.bulk_sessions += n;
	p->cur = next;
	p->next_part++;
	p->bulk_prog_ns = now_ns;
	if (done)
		p->st.bulk = XLB_BULK_DONE;
	else if (p->next_part == BULK_WINDOW)
		send_bulk_req(s, p, now_ns);
}

/* Type-specific payload checks and handling of an accepted message. */
static int handle(struct xlb_sync *s, struct sync_peer *p, uint8_t type,
		  const uint8_t *pl, size_t plen, uint64_t now_ns)
{
	struct xlb_session_rec recs[SESS_MAX_RECS];
	size_t n;

	switch (type) {
	case SYNC_HELLO:
		if (plen != HELLO_LEN || (pl[0] & ~HELLO_READY) || pl[1] ||
		    pl[2] || pl[3])
			return -EINVAL;
		p->ready = pl[0] & HELLO_READY;
		return 0;
	case SYNC_SESSIONS:
		if (plen < SESS_HDR_LEN || get16(pl + 2))
			return -EINVAL;
		n = get16(pl);
		if (!n || n > SESS_MAX_RECS ||
		    plen != SESS_HDR_LEN + n * SYNC_REC_LEN ||
		    !recs_get(pl + SESS_HDR_LEN, n, recs))
			return -EINVAL;
		p->st.rx_sessions += n;
		for (size_t i = 0; i < n; i++)
			import(s, p, &recs[i]);
		return 0;
	case SYNC_BULK_REQ:
		if (plen != BREQ_LEN || get16(pl + 6))
			return -EINVAL;
		serve_bulk(s, p, pl);
		return 0;
	case SYNC_BULK_DATA:
		if (plen < BDATA_HDR_LEN || (pl[6] & ~BDATA_DONE) || pl[7] ||
		    get16(pl + 10))
			return -EINVAL;
		n = get16(pl + 8);
		if (n > BDATA_MAX_RECS ||
		    plen != BDATA_HDR_LEN + n * SYNC_REC_LEN ||
		    !recs_get(pl + BDATA_HDR_LEN, n, recs))
			return -EINVAL;
		p->st.rx_sessions += n;
		bulk_data(s, p, recs, n, pl, now_ns);
		return 0;
	}
	return -EINVAL;
}

static struct sync_peer *peer_by_addr(struct xlb_sync *s,
				      const struct sockaddr_storage *sa)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		struct sync_peer *p = &s->peers[i];

		if (sa->ss_family != p->sa.ss_family)
			continue;
		if (sa->ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)sa,
						 *b = (const void *)&p->sa;

			if (a->sin_port == b->sin_port &&
			    a->sin_addr.s_addr == b->sin_addr.s_addr)
				return p;
		} else {
			const struct sockaddr_in6 *a = (const void *)sa,
						  *b = (const void *)&p->sa;

			if (a->sin6_port == b->sin6_port &&
			    !memcmp(&a->sin6_addr, &b->sin6_addr, 16))
				return p;
		}
	}
	return NULL;
}

/* A name field: NUL-terminated inside its 32 bytes, zero after. */
static bool name_equal(const uint8_t *field, const char *name)
{
	uint8_t want[XLB_NODE_NAME_LEN] = {0};

	memcpy(want, name, strnlen(name, XLB_NODE_NAME_LEN - 1));
	return !memcmp(field, want, XLB_NODE_NAME_LEN);
}

/*
 * The sliding window of accepted sequence numbers (RFC 4303's, per
 * sender epoch). Returns false for a replay; records seq otherwise.
 */
static bool replay_ok(struct sync_peer *p, uint64_t epoch, uint64_t seq)
{
	uint64_t d;

	if (epoch < p->epoch)
		return false;
	if (epoch > p->epoch) {
		p->epoch = epoch;
		p->max_seq = seq;
		p->seen = 1;
		return true;
	}
	if (seq > p->max_seq) {
		d = seq - p->max_seq;
		p->seen = d >= REPLAY_WINDOW_BITS ? 0 : p->seen << d;
		p->seen |= 1;
		p->max_seq = seq;
		return true;
	}
	d = p->max_seq - seq;
	if (d >= REPLAY_WINDOW_BITS || (p->seen >> d) & 1)
		return false;
	p->seen |= 1ULL << d;
	return true;
}

/* The checks of docs/SYNC.md, in its order; the reason, or -1: accepted. */
static int check(struct xlb_sync *s, struct sync_peer *p, const uint8_t *b,
		 size_t len)
{
	uint8_t want[SYNC_TAG_LEN];
	int64_t skew_ms;
	size_t plen;

	if (!p)
		return XLB_SYNC_DROP_UNKNOWN_PEER;
	if (len < SYNC_HDR_LEN + SYNC_TAG_LEN || get32(b) != SYNC_MAGIC ||
	    b[H_VERSION] != SYNC_VERSION)
		return XLB_SYNC_DROP_MALFORMED;
	plen = get16(b + H_PLEN);
	if (len != SYNC_HDR_LEN + plen + SYNC_TAG_LEN)
		return XLB_SYNC_DROP_MALFORMED;
	if (!name_equal(b + H_FROM, p->st.name))
		return XLB_SYNC_DROP_UNKNOWN_PEER;
	tag(s, b, SYNC_HDR_LEN + plen, want);
	if (crypto_verify_32(want, b + SYNC_HDR_LEN + plen))
		return XLB_SYNC_DROP_BAD_AUTH;
	skew_ms = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MS) -
		  (int64_t)get64(b + H_SENT_MS);
	if (skew_ms > (int64_t)s->replay_window_s * 1000 ||
	    -skew_ms > (int64_t)s->replay_window_s * 1000)
		return XLB_SYNC_DROP_STALE;
	/* Addressed to another node: the same sender's message, replayed
	 * on another link. */
	if (!name_equal(b + H_TO, s->name))
		return XLB_SYNC_DROP_REPLAY;
	if (!replay_ok(p, get64(b + H_EPOCH), get64(b + H_SEQ)))
		return XLB_SYNC_DROP_REPLAY;
	return -1;
}

void xlb_sync_read(struct xlb_sync *s, uint64_t now_ns)
{
	struct sockaddr_storage sa;
	struct sync_peer *p;
	socklen_t salen;
	ssize_t len;
	int drop;

	for (;;) {
		salen = sizeof(sa);
		len = recvfrom(s->fd, s->buf, sizeof(s->buf), MSG_TRUNC,
			       (struct sockaddr *)&sa, &salen);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN: all read */
		}
		p = peer_by_addr(s, &sa);
		if (len > (ssize_t)sizeof(s->buf))
			len = 0; /* truncated: too long for us */
		drop = check(s, p, s->buf, (size_t)len);
		if (drop < 0) {
			uint16_t plen = get16(s->buf + H_PLEN);

			if (handle(s, p, s->buf[H_TYPE], s->buf + SYNC_HDR_LEN,
				   plen, now_ns) < 0)
				drop = XLB_SYNC_DROP_MALFORMED;
		}
		if (drop >= 0) {
			s->st.drops[drop]++;
			continue;
		}
		p->st.rx_msgs++;
		peer_heard(s, p, now_ns);
	}
}

/* ---- Timers and the API ------------------------------------------------ */

void xlb_sync_queue(struct xlb_sync *s, const struct xlb_session_rec *r,
		    uint64_t now_ns)
{
	if (!s->n_pending)
		s->pending_ns = now_ns;
	s->pending[s->n_pending++] = *r;
	s->st.queued++;
	if (s->n_pending == SESS_MAX_RECS)
		flush(s, now_ns);
}

static uint64_t min_deadline(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int xlb_sync_tick(struct xlb_sync *s, uint64_t now_ns)
{
	uint64_t next, batch_ns = (uint64_t)s->batch_ms * NSEC_PER_MS;

	if (s->n_pending && since(now_ns, s->pending_ns) >= batch_ns)
		flush(s, now_ns);
	if (now_ns >= s->next_hello_ns) {
		for (size_t i = 0; i < s->n_peers; i++)
			send_hello(s, &s->peers[i]);
		s->next_hello_ns = now_ns + HELLO_INTERVAL_MS * NSEC_PER_MS;
	}
	next = s->next_hello_ns;
	if (s->n_pending)
		next = min_deadline(next, s->pending_ns + batch_ns);
	for (size_t i = 0; i < s->n_peers; i++) {
		struct sync_peer *p = &s->peers[i];
		uint64_t last = p->bulk_req_ns > p->bulk_prog_ns
					? p->bulk_req_ns
					: p->bulk_prog_ns;
		uint64_t retry = last + BULK_RETRY_MS * NSEC_PER_MS;

		if (p->st.bulk != XLB_BULK_RUNNING)
			continue;
		if (now_ns >= retry) {
			/* Lost parts or a silent peer: the same cursor
			 * again, under a new request id. */
			send_bulk_req(s, p, now_ns);
			retry = now_ns + BULK_RETRY_MS * NSEC_PER_MS;
		}
		next = min_deadline(next, retry);
	}
	if (next <= now_ns)
		return 1;
	return (int)((next - now_ns + NSEC_PER_MS - 1) / NSEC_PER_MS);
}

void xlb_sync_bulk_start(struct xlb_sync *s, uint64_t now_ns)
{
	s->bulk_started = true;
	for (size_t i = 0; i < s->n_peers; i++)
		peer_bulk_start(s, &s->peers[i], now_ns);
}

bool xlb_sync_bulk_settled(struct xlb_sync *s, uint64_t now_ns,
			   uint32_t timeout_ms, bool *any_done)
{
	bool settled = true;

	*any_done = false;
	for (size_t i = 0; i < s->n_peers; i++) {
		struct sync_peer *p = &s->peers[i];

		/* No part in order for timeout_ms (a peer that never
		 * answered, or one that stopped): go on without it. */
		if (p->st.bulk == XLB_BULK_RUNNING &&
		    now_ns - p->bulk_prog_ns >= timeout_ms * NSEC_PER_MS)
			p->st.bulk = XLB_BULK_FAILED;
		if (p->st.bulk == XLB_BULK_RUNNING)
			settled = false;
		if (p->st.bulk == XLB_BULK_DONE)
			*any_done = true;
	}
	/* After a return, the other peers' first heartbeats (and so their
	 * re-fetches) may still be on the way. */
	if (s->return_ns &&
	    since(now_ns, s->return_ns) < PEER_UP_MS * NSEC_PER_MS)
		settled = false;
	return settled;
}

bool xlb_sync_take_return(struct xlb_sync *s, uint64_t *silence_ms)
{
	bool r = s->returned;

	s->returned = false;
	if (r && silence_ms)
		*silence_ms = s->return_silence_ns / NSEC_PER_MS;
	return r;
}

void xlb_sync_get_stats(struct xlb_sync *s, struct xlb_sync_stats *st)
{
	*st = s->st;
}

size_t xlb_sync_peers(struct xlb_sync *s, struct xlb_sync_peer_stats *out,
		      size_t max)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	size_t n = s->n_peers < max ? s->n_peers : max;

	for (size_t i = 0; i < n; i++) {
		out[i] = s->peers[i].st;
		out[i].up = out[i].last_rx_ns &&
			    now - out[i].last_rx_ns < PEER_UP_MS * NSEC_PER_MS;
	}
	return s->n_peers;
}

int xlb_sync_fd(struct xlb_sync *s)
{
	return s->fd;
}

static const char *const bulk_names[] = {
	[XLB_BULK_IDLE] = "idle",
	[XLB_BULK_RUNNING] = "running",
	[XLB_BULK_DONE] = "done",
	[XLB_BULK_FAILED] = "failed",
};

static json_t *peer_json(const struct sync_peer *p, uint64_t now_ns)
{
	char ip[XLB_IP_STRLEN], addr[XLB_IP_STRLEN + 8];
	const struct xlb_sync_peer_stats *st = &p->st;
	bool heard = st->last_rx_ns && now_ns >= st->last_rx_ns;
	uint64_t ago_ms = heard ? (now_ns - st->last_rx_ns) / NSEC_PER_MS : 0;

	xlb_ip_str(&p->addr, ip, sizeof(ip));
	snprintf(addr, sizeof(addr),
		 p->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 (unsigned int)p->port);
	return json_pack(
		"{s:s, s:s, s:b, s:o, s:b, s:I, s:I, s:I, s:I, s:s, s:I, s:I}",
		"name", st->name, "address", addr, "up",
		heard && ago_ms < PEER_UP_MS, "last_rx_ms_ago",
		heard ? json_integer((json_int_t)ago_ms) : json_null(), "ready",
		p->ready, "rx_msgs", (json_int_t)st->rx_msgs, "tx_msgs",
		(json_int_t)st->tx_msgs, "rx_sessions",
		(json_int_t)st->rx_sessions, "tx_sessions",
		(json_int_t)st->tx_sessions, "bulk", bulk_names[st->bulk],
		"bulk_sessions", (json_int_t)st->bulk_sessions, "bulks",
		(json_int_t)st->bulks);
}

json_t *xlb_sync_json(struct xlb_sync *s, uint64_t now_ns)
{
	json_t *o, *peers, *drops, *rejects;

	o = json_object();
	peers = json_array();
	drops = json_object();
	rejects = json_object();
	if (!o || !peers || !drops || !rejects)
		goto out_free;
	for (size_t i = 0; i < s->n_peers; i++)
		if (json_array_append_new(peers,
					  peer_json(&s->peers[i], now_ns)))
			goto out_free;
	for (int i = 0; i < XLB_SYNC_DROP_MAX; i++)
		json_object_set_new(drops, xlb_sync_drop_names[i],
				    json_integer((json_int_t)s->st.drops[i]));
	for (int i = XLB_SYNC_OK + 1; i < XLB_SYNC_REJ_MAX; i++)
		json_object_set_new(rejects, xlb_sync_reject_names[i],
				    json_integer((json_int_t)s->st.rejects[i]));
	json_object_set_new(o, "peers", peers);
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "rejects", rejects);
	json_object_set_new(o, "queued",
			    json_integer((json_int_t)s->st.queued));
	json_object_set_new(o, "sent", json_integer((json_int_t)s->st.sent));
	json_object_set_new(o, "batches",
			    json_integer((json_int_t)s->st.batches));
	json_object_set_new(
		o, "max_lag_ms",
		json_integer((json_int_t)(s->st.max_lag_ns / NSEC_PER_MS)));
	json_object_set_new(o, "bulk_served",
			    json_integer((json_int_t)s->st.bulk_served));
	return o;

out_free:
	json_decref(o);
	json_decref(peers);
	json_decref(drops);
	json_decref(rejects);
	return NULL;
}

/* ---- Set-up ------------------------------------------------------------ */

static int read_key(struct xlb_sync *s, const char *path, char *err,
		    size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out_close;
	}
	ret = -EPERM;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s: not a regular file", path);
		goto out_close;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen,
			 "key file %s: owned by uid %u, must be owned by root",
			 path, (unsigned int)st.st_uid);
		goto out_close;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "key file %s: mode %04o, must not be readable by "
			 "group or others",
			 path, (unsigned int)(st.st_mode & 07777));
		goto out_close;
	}
	ret = -EINVAL;
	if (st.st_size < 32 || st.st_size > (off_t)sizeof(s->key)) {
		snprintf(err, errlen,
			 "key file %s: %lld bytes, must be 32 to %zu", path,
			 (long long)st.st_size, sizeof(s->key));
		goto out_close;
	}
	n = read(fd, s->key, sizeof(s->key));
	if (n < 32) {
		ret = n < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "key file %s: short read", path);
		goto out_close;
	}
	s->key_len = (size_t)n;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

static socklen_t make_sockaddr(const struct xlb_ip *ip, uint16_t port,
			       struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (ip->family == AF_INET) {
		struct sockaddr_in *in = (void *)sa;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, ip->a.addr, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (void *)sa;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, ip->a.addr, 16);
	return sizeof(*in6);
}

int xlb_sync_new(const struct xlb_cluster_config *cluster,
		 const struct xlb_sync_ops *ops, struct xlb_sync **out,
		 char *err, size_t errlen)
{
	const struct xlb_node_spec *self;
	struct sockaddr_storage sa;
	char ip[XLB_IP_STRLEN];
	struct xlb_sync *s;
	int one = 1, ret;
	socklen_t salen;

	if (cluster->self >= cluster->n_nodes ||
	    cluster->n_nodes > XLB_MAX_NODES) {
		snprintf(err, errlen, "cluster: this node is not listed");
		return -EINVAL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	self = &cluster->nodes[cluster->self];
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->fd = -1;
	if (ops)
		s->ops = *ops;
	snprintf(s->name, sizeof(s->name), "%s", self->name);
	s->batch_ms = cluster->batch_ms;
	s->replay_window_s = cluster->replay_window_s;
	s->epoch = clock_ns(CLOCK_REALTIME);
	ret = read_key(s, cluster->key_file, err, errlen);
	if (ret)
		goto out_free;
	for (size_t i = 0; i < cluster->n_nodes; i++) {
		const struct xlb_node_spec *n = &cluster->nodes[i];
		struct sync_peer *p;

		if (i == cluster->self)
			continue;
		if (n->addr.family != self->addr.family) {
			snprintf(err, errlen,
				 "cluster: node %s: its address is not of "
				 "this node's family",
				 n->name);
			ret = -EINVAL;
			goto out_free;
		}
		p = &s->peers[s->n_peers++];
		snprintf(p->st.name, sizeof(p->st.name), "%s", n->name);
		p->addr = n->addr;
		p->port = n->port;
		p->salen = make_sockaddr(&n->addr, n->port, &p->sa);
	}
	s->fd = socket(self->addr.family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "sync socket: %s", strerror(errno));
		goto out_free;
	}
	if (self->addr.family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	salen = make_sockaddr(&self->addr, self->port, &sa);
	if (bind(s->fd, (struct sockaddr *)&sa, salen) < 0) {
		ret = -errno;
		snprintf(err, errlen, "sync: bind %s port %u: %s",
			 xlb_ip_str(&self->addr, ip, sizeof(ip)),
			 (unsigned int)self->port, strerror(errno));
		goto out_free;
	}
	*out = s;
	return 0;

out_free:
	xlb_sync_free(s);
	return ret;
}

void xlb_sync_free(struct xlb_sync *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
}
