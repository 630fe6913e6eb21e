// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of session sync (sync.c): several xlb_sync instances in this
 * process talk over real UDP sockets on 127.0.0.1, each with an in-memory
 * session table as its ops (the module's boundary). Incremental batches,
 * bulk transfers (complete, through loss, from a silent peer), and every
 * receive check: messages are crafted here from docs/SYNC.md's layout
 * (so the document and the code are checked against each other), sent
 * from a fake node's socket, from an unlisted address, or spoofed with a
 * raw socket to replay a datagram a real instance sent.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sync.h"

#define MS	    1000000ULL
#define HDR_LEN	    96
#define TAG_LEN	    32
#define REC_LEN	    84
#define MAX_RECS    30000
#define BATCH_MS    20
#define T_HELLO	    1
#define T_SESSIONS  2
#define T_BULK_REQ  3
#define T_BULK_DATA 4
#define WINDOW_S    30

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- A node's session table, the ops under the module ------------------ */

struct table {
	struct xlb_session_rec *recs; /* exported: the table */
	size_t n;
	struct xlb_session_rec *got; /* imported */
	size_t n_got;
	enum xlb_sync_reject answer; /* what import returns */
	size_t export_calls, export_max;
	char last_peer[XLB_NODE_NAME_LEN];
};

/* The cursor's cpu field is our index: the fake has one flat table. */
static int fake_export(void *arg, xlb_sync_cursor *cur,
		       struct xlb_session_rec *recs, size_t max, bool *done)
{
	struct table *t = arg;
	size_t i = 0;

	t->export_calls++;
	if (max > t->export_max)
		t->export_max = max;
	while (i < max && cur->cpu < t->n)
		recs[i++] = t->recs[cur->cpu++];
	*done = cur->cpu >= t->n;
	return (int)i;
}

static enum xlb_sync_reject fake_import(void *arg, const char *peer,
					const struct xlb_session_rec *r)
{
	struct table *t = arg;

	cr_assert_lt(t->n_got, MAX_RECS);
	t->got[t->n_got++] = *r;
	snprintf(t->last_peer, sizeof(t->last_peer), "%s", peer);
	return t->answer;
}

/* Record i: both modes and families, all fields derived from i. */
static void make_rec(uint32_t i, struct xlb_session_rec *r)
{
	bool v6 = i % 3 == 0, nat = i % 2 == 0;

	memset(r, 0, sizeof(*r));
	r->mode = nat ? XLB_MODE_FULLNAT : XLB_MODE_TUNNEL;
	r->vip.ip.family = v6 ? AF_INET6 : AF_INET;
	r->vip.ip.a.addr[0] = v6 ? htonl(0x20010db8)
				 : htonl(0x0a000a00 + i % 7);
	r->vip.ip.a.addr[3] = v6 ? htonl(i % 7) : 0;
	r->vip.port = i % 5 ? 80 : 0;
	r->vip.proto = i % 4 ? IPPROTO_TCP : IPPROTO_UDP;
	r->client.family = r->vip.ip.family;
	r->client.a.addr[0] = v6 ? htonl(0x20010db9) : htonl(0xc0000000 + i);
	r->client.a.addr[3] = v6 ? htonl(i) : 0;
	r->cport = (uint16_t)(1024 + i % 60000);
	r->dport = r->vip.port ? r->vip.port : (uint16_t)(1 + i % 1000);
	r->real.family = i % 5 == 1 ? AF_INET6 : AF_INET;
	r->real.a.addr[0] = r->real.family == AF_INET6
				    ? htonl(0xfd000000)
				    : htonl(0x0a010000 + i % 3);
	r->real.a.addr[3] = r->real.family == AF_INET6 ? htonl(i % 3) : 0;
	if (nat) {
		r->laddr.family = r->real.family;
		r->laddr.a.addr[0] = r->real.family == AF_INET6
					     ? htonl(0xfd610000)
					     : htonl(0x0a610001);
		r->lport = (uint16_t)(2000 + i % 50000);
		r->state = XLB_NAT_S_REPLIED;
		r->age_ms = i;
	}
}

static bool rec_eq(const struct xlb_session_rec *a,
		   const struct xlb_session_rec *b)
{
	return a->mode == b->mode && xlb_service_equal(&a->vip, &b->vip) &&
	       xlb_ip_equal(&a->client, &b->client) && a->cport == b->cport &&
	       a->dport == b->dport && xlb_ip_equal(&a->real, &b->real) &&
	       (a->mode == XLB_MODE_TUNNEL ||
		(xlb_ip_equal(&a->laddr, &b->laddr) && a->lport == b->lport &&
		 a->state == b->state && a->age_ms == b->age_ms));
}

/* Every table a test made, freed by the suite's fini. */
static struct table *tables[8];
static size_t n_tables;

static struct table *table_new(size_t n)
{
	struct table *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	cr_assert_lt(n_tables, 8);
	tables[n_tables++] = t;
	t->recs = calloc(n ? n : 1, sizeof(*t->recs));
	t->got = calloc(MAX_RECS, sizeof(*t->got));
	cr_assert(t->recs && t->got);
	for (size_t i = 0; i < n; i++)
		make_rec((uint32_t)i, &t->recs[i]);
	t->n = n;
	return t;
}

/* Every record of src arrived at dst at least once, each unchanged. */
static void assert_has_all(const struct table *src, const struct table *dst)
{
	uint8_t *seen = calloc(src->n, 1);
	size_t distinct = 0;

	cr_assert_not_null(seen);
	for (size_t i = 0; i < dst->n_got; i++) {
		/* The client address's low bits are the index. */
		const struct xlb_session_rec *r = &dst->got[i];
		uint32_t idx =
			r->client.family == AF_INET6
				? ntohl(r->client.a.addr[3])
				: ntohl(r->client.a.addr[0]) - 0xc0000000;

		cr_assert_lt(idx, src->n, "record %zu: index %u", i, idx);
		cr_assert(rec_eq(r, &src->recs[idx]), "record %u changed", idx);
		if (!seen[idx]++)
			distinct++;
	}
	cr_assert_eq(distinct, src->n, "%zu of %zu records arrived", distinct,
		     src->n);
	free(seen);
}

/* ---- Clusters ---------------------------------------------------------- */

static char key_path[64];

static void write_file(const char *path, const void *data, size_t len,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static const uint8_t the_key[48] =
	"a shared key of forty-eight bytes, for tests..";

static void write_key(void)
{
	snprintf(key_path, sizeof(key_path), "/tmp/xlb-test-sync-%d.key",
		 (int)getpid());
	write_file(key_path, the_key, sizeof(the_key), 0600);
}

static void suite_fini(void)
{
	unlink(key_path);
	for (size_t i = 0; i < n_tables; i++) {
		free(tables[i]->recs);
		free(tables[i]->got);
		free(tables[i]);
	}
	n_tables = 0;
}

/* A free UDP port on 127.0.0.1 (bound, then released). */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static struct xlb_cluster_config cluster_of(size_t n)
{
	struct xlb_cluster_config c = {.enabled = true,
				       .batch_ms = BATCH_MS,
				       .preonline_timeout_ms = 1000,
				       .replay_window_s = WINDOW_S,
				       .n_nodes = n};

	snprintf(c.key_file, sizeof(c.key_file), "%s", key_path);
	for (size_t i = 0; i < n; i++) {
		snprintf(c.nodes[i].name, sizeof(c.nodes[i].name), "n%zu", i);
		c.nodes[i].addr.family = AF_INET;
		c.nodes[i].addr.a.addr[0] = htonl(INADDR_LOOPBACK);
		c.nodes[i].port = free_port();
	}
	return c;
}

static struct xlb_sync *node(struct xlb_cluster_config c, size_t self,
			     struct table *t)
{
	struct xlb_sync_ops ops = {fake_export, fake_import, t};
	char err[XLB_ERR_LEN] = "";
	struct xlb_sync *s = NULL;

	c.self = self;
	snprintf(c.node, sizeof(c.node), "%s", c.nodes[self].name);
	cr_assert_eq(xlb_sync_new(&c, &ops, &s, err, sizeof(err)), 0, "%s",
		     err);
	return s;
}

/*
 * Run the nodes' loops for up to ms, or until done(arg) holds. Before
 * node lossy reads, every drop_every-th datagram waiting for it is
 * taken off its socket: injected loss.
 */
static void pump(struct xlb_sync **s, size_t n, uint64_t ms,
		 bool (*done)(void *), void *arg, struct xlb_sync *lossy,
		 unsigned int drop_every, unsigned int *dropped)
{
	uint64_t end = now_ns() + ms * MS;
	unsigned int count = 0;
	struct pollfd pfd[8];

	while (now_ns() < end && !(done && done(arg))) {
		int timeout = 1000;

		for (size_t i = 0; i < n; i++) {
			uint8_t buf[2048];

			if (s[i] == lossy && drop_every) {
				while (recv(xlb_sync_fd(s[i]), buf, sizeof(buf),
					    MSG_PEEK | MSG_DONTWAIT) > 0) {
					if (++count % drop_every)
						break;
					recv(xlb_sync_fd(s[i]), buf,
					     sizeof(buf), MSG_DONTWAIT);
					(*dropped)++;
				}
			}
			xlb_sync_read(s[i], now_ns());
			int t = xlb_sync_tick(s[i], now_ns());
			cr_assert_geq(t, 1);
			if (t < timeout)
				timeout = t;
			pfd[i] = (struct pollfd){.fd = xlb_sync_fd(s[i]),
						 .events = POLLIN};
		}
		if (done && done(arg))
			break;
		poll(pfd, n, timeout > 5 ? 5 : timeout);
	}
}

static struct xlb_sync_stats stats(struct xlb_sync *s)
{
	struct xlb_sync_stats st;

	xlb_sync_get_stats(s, &st);
	return st;
}

TestSuite(sync, .init = write_key, .fini = suite_fini);

/* ---- Incremental ------------------------------------------------------- */

struct want {
	struct table **t;
	size_t n;
	size_t count;
};

static bool all_got(void *arg)
{
	struct want *w = arg;

	for (size_t i = 0; i < w->n; i++)
		if (w->t[i]->n_got < w->count)
			return false;
	return true;
}

Test(sync, incremental_within_batch_ms)
{
	struct xlb_cluster_config c = cluster_of(3);
	struct table *t[3] = {table_new(40), table_new(0), table_new(0)};
	struct xlb_sync *s[3];
	struct want w = {.t = t + 1, .n = 2, .count = 5};
	uint64_t start, took;

	for (size_t i = 0; i < 3; i++)
		s[i] = node(c, i, t[i]);
	/* A partial batch waits for batch_ms, then goes to every peer. */
	start = now_ns();
	for (size_t i = 0; i < 5; i++)
		xlb_sync_queue(s[0], &t[0]->recs[i], now_ns());
	pump(s, 3, 1000, all_got, &w, NULL, 0, NULL);
	took = now_ns() - start;
	cr_assert_eq(t[1]->n_got, 5);
	cr_assert_eq(t[2]->n_got, 5);
	cr_assert_lt(took, (BATCH_MS + 50) * MS, "took %lu ms",
		     (unsigned long)(took / MS));
	for (size_t i = 0; i < 5; i++)
		cr_assert(rec_eq(&t[1]->got[i], &t[0]->recs[i]));
	cr_assert_str_eq(t[1]->last_peer, "n0");
	cr_assert_geq(stats(s[0]).max_lag_ns, (BATCH_MS - 1) * MS);

	/* 35 more: two full datagrams leave at once, the rest later. */
	for (size_t i = 5; i < 40; i++)
		xlb_sync_queue(s[0], &t[0]->recs[i], now_ns());
	cr_assert_eq(stats(s[0]).sent, 35);
	w.count = 40;
	pump(s, 3, 1000, all_got, &w, NULL, 0, NULL);
	for (size_t i = 0; i < 40; i++)
		cr_assert(rec_eq(&t[2]->got[i], &t[0]->recs[i]));

	struct xlb_sync_stats st = stats(s[0]);
	cr_assert_eq(st.queued, 40);
	cr_assert_eq(st.sent, 40);
	cr_assert_eq(st.batches, 4);
	struct xlb_sync_peer_stats ps[4];
	cr_assert_eq(xlb_sync_peers(s[0], ps, 4), 2);
	cr_assert_eq(ps[0].tx_sessions, 40);
	cr_assert_str_eq(ps[1].name, "n2");
	cr_assert_eq(xlb_sync_peers(s[1], ps, 4), 2);
	cr_assert_eq(ps[0].rx_sessions, 40);
	cr_assert(ps[0].up, "n0 heard from: up");
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(memcmp(stats(s[i]).drops,
				    (uint64_t[XLB_SYNC_DROP_MAX]){0},
				    sizeof(st.drops)),
			     0, "node %zu dropped something", i);
		xlb_sync_free(s[i]);
	}
}

/*
 * xlbd's refresh stamps each record as it queues it, then ticks with the
 * now it took before: records stamped after the tick's now are not late,
 * and the lag must not wrap (it once showed 18446744073708 ms).
 */
Test(sync, records_stamped_after_the_tick)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(3), table_new(0)};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	uint64_t now = now_ns(), later = now + 100 * MS;
	json_t *j;

	for (size_t i = 0; i < 3; i++)
		xlb_sync_queue(s[0], &t[0]->recs[i], later);
	/* Younger than a batch as seen from now: kept. */
	xlb_sync_tick(s[0], now);
	cr_assert_eq(stats(s[0]).sent, 0);
	cr_assert_eq(stats(s[0]).max_lag_ns, 0);
	xlb_sync_tick(s[0], later + (BATCH_MS - 1) * MS);
	cr_assert_eq(stats(s[0]).sent, 0);
	/* A batch after their stamp: sent, with a batch's lag. */
	xlb_sync_tick(s[0], later + BATCH_MS * MS);
	cr_assert_eq(stats(s[0]).sent, 3);
	cr_assert_eq(stats(s[0]).max_lag_ns, BATCH_MS * MS);
	j = xlb_sync_json(s[0], now);
	cr_assert_eq(json_integer_value(json_object_get(j, "max_lag_ms")),
		     BATCH_MS, "%lld",
		     json_integer_value(json_object_get(j, "max_lag_ms")));
	json_decref(j);

	for (size_t i = 0; i < 2; i++)
		xlb_sync_free(s[i]);
}

Test(sync, rejects_counted_json)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(3), table_new(0)};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	struct want w = {.t = t + 1, .n = 1, .count = 3};

	t[1]->answer = XLB_SYNC_REJ_CONFLICT;
	for (size_t i = 0; i < 3; i++)
		xlb_sync_queue(s[0], &t[0]->recs[i], now_ns());
	pump(s, 2, 1000, all_got, &w, NULL, 0, NULL);
	cr_assert_eq(stats(s[1]).rejects[XLB_SYNC_REJ_CONFLICT], 3);

	json_t *j = xlb_sync_json(s[1], now_ns());
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(
			     json_object_get(j, "rejects"), "conflict")),
		     3);
	cr_assert_eq(json_integer_value(json_object_get(
			     json_object_get(j, "drops"), "bad_auth")),
		     0);
	json_t *p = json_array_get(json_object_get(j, "peers"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "n0");
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", c.nodes[0].port);
	cr_assert_str_eq(json_string_value(json_object_get(p, "address")),
			 addr);
	cr_assert(json_is_true(json_object_get(p, "up")));
	cr_assert(json_is_integer(json_object_get(p, "last_rx_ms_ago")));
	cr_assert_eq(json_integer_value(json_object_get(p, "rx_sessions")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(p, "bulk")), "idle");
	for (const char *const *k =
		     (const char *const[]){"queued", "sent", "batches",
					   "max_lag_ms", "bulk_served", NULL};
	     *k; k++)
		cr_assert(json_is_integer(json_object_get(j, *k)), "%s", *k);
	json_decref(j);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}

/* ---- Bulk -------------------------------------------------------------- */

struct settle {
	struct xlb_sync *s;
	uint32_t timeout_ms;
	bool any_done;
};

static bool settled(void *arg)
{
	struct settle *w = arg;

	return xlb_sync_bulk_settled(w->s, now_ns(), w->timeout_ms,
				     &w->any_done);
}

static void bulk(unsigned int drop_every)
{
	struct xlb_cluster_config c = cluster_of(3);
	struct table *t[3] = {table_new(0), table_new(20000), table_new(500)};
	struct xlb_sync *s[3];
	struct settle w = {.timeout_ms = 5000};
	struct xlb_sync_peer_stats ps[2];
	unsigned int dropped = 0;
	uint64_t start, took;

	for (size_t i = 0; i < 3; i++)
		s[i] = node(c, i, t[i]);
	w.s = s[0];
	/* n1 goes on with incremental traffic while it serves. */
	xlb_sync_queue(s[1], &t[1]->recs[7], now_ns());
	start = now_ns();
	xlb_sync_bulk_start(s[0], now_ns());
	cr_assert_not(settled(&w));
	pump(s, 3, 20000, settled, &w, s[0], drop_every, &dropped);
	took = now_ns() - start;
	cr_assert(w.any_done);
	cr_assert_eq(xlb_sync_peers(s[0], ps, 2), 2);
	cr_assert_eq(ps[0].bulk, XLB_BULK_DONE);
	cr_assert_eq(ps[1].bulk, XLB_BULK_DONE);
	cr_assert_geq(ps[0].bulk_sessions, 20000);
	cr_assert_geq(ps[1].bulk_sessions, 500);
	cr_assert_geq(stats(s[1]).bulk_served, 20000);
	/* Every part was exported on the fly, one datagram at a time. */
	cr_assert_eq(t[1]->export_max, 14);
	cr_assert_geq(t[1]->export_calls, 20000 / 14);
	/* ... in windows of at most 32 parts, each asked for: at least
	 * 20000 / (32 * 14) = 45 requests (and heartbeats) went to n1. */
	cr_assert_geq(ps[0].tx_msgs, 45);

	/* n2's table is n1's first 500: all of it is checked against n1. */
	assert_has_all(t[1], t[0]);
	cr_assert_geq(t[0]->n_got, 20500);

	if (drop_every)
		cr_assert_gt(dropped, 0);
	else
		cr_assert_eq(ps[0].bulk_sessions, 20000, "no loss, no repeat");
	fprintf(stderr, "sync bulk%s: 20500 records in %lu ms (%.0f/s)\n",
		drop_every ? " with 1/7 loss" : "", (unsigned long)(took / MS),
		20500.0 / ((double)took / 1e9));
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(stats(s[i]).drops[XLB_SYNC_DROP_REPLAY], 0);
		xlb_sync_free(s[i]);
	}
}

Test(sync, bulk_20000_complete)
{
	bulk(0);
}

Test(sync, bulk_resumes_after_loss)
{
	bulk(7);
}

Test(sync, bulk_restarts_from_zero)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(0), table_new(3000)};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	struct settle w = {.s = s[0], .timeout_ms = 5000};

	xlb_sync_bulk_start(s[0], now_ns());
	pump(s, 2, 5000, settled, &w, NULL, 0, NULL);
	cr_assert(w.any_done);
	/* Asked again: the server starts over from the beginning. */
	t[0]->n_got = 0;
	xlb_sync_bulk_start(s[0], now_ns());
	pump(s, 2, 5000, settled, &w, NULL, 0, NULL);
	cr_assert(w.any_done);
	assert_has_all(t[1], t[0]);
	cr_assert_eq(t[0]->n_got, 3000);
	cr_assert_eq(stats(s[1]).bulk_served, 6000);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}

/*
 * A peer silent for longer than PEER_UP_MS (a partition, our link down)
 * made sessions meanwhile that no incremental message brought: heard
 * again, it is asked for its whole table without anyone calling
 * bulk_start.
 */
Test(sync, bulk_again_when_a_silent_peer_returns)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(0), table_new(2000)};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	struct settle w = {.s = s[0], .timeout_ms = 5000};
	struct xlb_sync_peer_stats ps[1];

	xlb_sync_bulk_start(s[0], now_ns());
	pump(s, 2, 5000, settled, &w, NULL, 0, NULL);
	cr_assert(w.any_done);
	cr_assert_eq(xlb_sync_peers(s[0], ps, 1), 1);
	cr_assert_eq(ps[0].bulks, 1);
	/* Heard all along: no second bulk. */
	pump(s, 2, 700, NULL, NULL, NULL, 0, NULL);
	xlb_sync_peers(s[0], ps, 1);
	cr_assert_eq(ps[0].bulks, 1);
	/* n1 alone runs for 1.5 s: n0 hears nothing (its datagrams wait
	 * on its socket and are thrown away below). */
	pump(&s[1], 1, 1500, NULL, NULL, NULL, 0, NULL);
	while (recv(xlb_sync_fd(s[0]), (char[2048]){0}, 2048, MSG_DONTWAIT) > 0)
		;
	t[0]->n_got = 0;
	pump(s, 2, 3000, NULL, NULL, NULL, 0, NULL);
	xlb_sync_peers(s[0], ps, 1);
	cr_assert_eq(ps[0].bulks, 2, "a second bulk after the silence");
	cr_assert_eq(ps[0].bulk, XLB_BULK_DONE);
	cr_assert_eq(t[0]->n_got, 2000);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}

/* Throw away what waits on node s's socket: it heard none of it. */
static void deafen(struct xlb_sync *s)
{
	while (recv(xlb_sync_fd(s), (char[2048]){0}, 2048, MSG_DONTWAIT) > 0)
		;
}

/*
 * A return: n0 hears none of its peers for 1.5 s (cut off), then hears
 * them again. It is told once, with the silence; the peers, which heard
 * each other all along, are not. Its re-fetch from both runs, and it is
 * not settled before 1 s after the return even when the tables are in.
 * One peer silent while another is heard is no return.
 */
Test(sync, return_after_silence_from_every_peer)
{
	struct xlb_cluster_config c = cluster_of(3);
	struct table *t[3] = {table_new(0), table_new(300), table_new(200)};
	struct xlb_sync *s[3];
	struct settle w = {.timeout_ms = 5000};
	struct xlb_sync_peer_stats ps[2];
	uint64_t silence_ms = 0, back;

	for (size_t i = 0; i < 3; i++)
		s[i] = node(c, i, t[i]);
	w.s = s[0];
	xlb_sync_bulk_start(s[0], now_ns());
	pump(s, 3, 5000, settled, &w, NULL, 0, NULL);
	cr_assert(w.any_done);
	pump(s, 3, 400, NULL, NULL, NULL, 0, NULL);
	cr_assert_not(xlb_sync_take_return(s[0], NULL), "heard all along");

	/* n2 alone is silent for 1.5 s: n0 still hears n1. */
	pump(s, 2, 1500, NULL, NULL, NULL, 0, NULL);
	deafen(s[2]);
	pump(s, 3, 400, NULL, NULL, NULL, 0, NULL);
	cr_assert_not(xlb_sync_take_return(s[0], NULL),
		      "one peer back is no return");
	cr_assert_not(xlb_sync_take_return(s[1], NULL));
	pump(s, 3, 3000, settled, &w, NULL, 0, NULL);

	/* n0 is cut off: n1 and n2 go on, n0 hears nothing. */
	pump(&s[1], 2, 1500, NULL, NULL, NULL, 0, NULL);
	deafen(s[0]);
	xlb_sync_queue(s[1], &t[1]->recs[0], now_ns()); /* lost to n0 */
	t[0]->n_got = 0;
	back = now_ns();
	pump(s, 3, 200, NULL, NULL, NULL, 0, NULL);
	cr_assert(xlb_sync_take_return(s[0], &silence_ms));
	cr_assert_geq(silence_ms, 1000);
	cr_assert_lt(silence_ms, 5000);
	cr_assert_not(xlb_sync_take_return(s[0], NULL), "told once");
	cr_assert_not(xlb_sync_take_return(s[1], NULL));
	cr_assert_not(xlb_sync_take_return(s[2], NULL));
	/* Both tables again, yet not settled within 1 s of the return. */
	pump(s, 3, 600, NULL, NULL, NULL, 0, NULL);
	xlb_sync_peers(s[0], ps, 2);
	cr_assert_eq(ps[0].bulks, 2);
	cr_assert_eq(ps[1].bulks, 3);
	if (now_ns() - back < 950 * MS)
		cr_assert_not(settled(&w), "1 s grace after a return");
	pump(s, 3, 3000, settled, &w, NULL, 0, NULL);
	cr_assert(settled(&w));
	cr_assert_geq(now_ns() - back, 1000 * MS);
	cr_assert_geq(t[0]->n_got, 500);
	for (size_t i = 0; i < 3; i++)
		xlb_sync_free(s[i]);
}

/*
 * A node whose peers all died hears no one: no return, however long;
 * the sync layer tells of a return only when a peer is heard again.
 */
Test(sync, lone_survivor_no_return_until_heard)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(10), table_new(10)};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	struct settle w = {.s = s[0], .timeout_ms = 5000};
	uint64_t silence_ms = 0;

	xlb_sync_bulk_start(s[0], now_ns());
	pump(s, 2, 3000, settled, &w, NULL, 0, NULL);
	cr_assert(w.any_done);
	/* n1 dies. */
	xlb_sync_free(s[1]);
	pump(s, 1, 1500, NULL, NULL, NULL, 0, NULL);
	cr_assert_not(xlb_sync_take_return(s[0], NULL));
	cr_assert(settled(&w), "nothing to wait for");
	/* n1 starts again: heard, n0 is told (xlbd decides by traffic). */
	s[1] = node(c, 1, t[1]);
	pump(s, 2, 700, NULL, NULL, NULL, 0, NULL);
	cr_assert(xlb_sync_take_return(s[0], &silence_ms));
	cr_assert_geq(silence_ms, 1500);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}

Test(sync, bulk_silent_peer_fails_after_timeout)
{
	struct xlb_cluster_config c = cluster_of(3);
	struct table *t[3] = {table_new(0), table_new(100), NULL};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	struct settle w = {.s = s[0], .timeout_ms = 400};
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(c.nodes[2].port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct xlb_sync_peer_stats ps[2];
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	uint64_t start;

	/* n2 is a socket that reads nothing and answers nothing. */
	cr_assert_eq(bind(silent, (struct sockaddr *)&sa, sizeof(sa)), 0);
	start = now_ns();
	xlb_sync_bulk_start(s[0], now_ns());
	pump(s, 2, 300, NULL, NULL, NULL, 0, NULL);
	cr_assert_not(settled(&w), "not before the timeout");
	xlb_sync_peers(s[0], ps, 2);
	cr_assert_eq(ps[0].bulk, XLB_BULK_DONE);
	cr_assert_eq(ps[1].bulk, XLB_BULK_RUNNING);
	pump(s, 2, 2000, settled, &w, NULL, 0, NULL);
	cr_assert(settled(&w));
	cr_assert_geq(now_ns() - start, 400 * MS);
	cr_assert(w.any_done, "n1 finished");
	xlb_sync_peers(s[0], ps, 2);
	cr_assert_eq(ps[1].bulk, XLB_BULK_FAILED);
	cr_assert_not(ps[1].up);
	json_t *j = xlb_sync_json(s[0], now_ns());
	json_t *p = json_array_get(json_object_get(j, "peers"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(p, "bulk")),
			 "failed");
	cr_assert(json_is_null(json_object_get(p, "last_rx_ms_ago")));
	json_decref(j);
	close(silent);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}

/* ---- Messages crafted from docs/SYNC.md --------------------------------- */

struct msg {
	uint8_t b[1500];
	size_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void seal(struct msg *m, const uint8_t *key, size_t key_len)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, key_len);
	crypto_auth_hmacsha256_update(&st, m->b, m->len);
	crypto_auth_hmacsha256_final(&st, m->b + m->len);
	m->len += TAG_LEN;
}

/* A SESSIONS message with record 1 (IPv4 FULLNAT), sealed with key. */
static struct msg craft(const char *from, const char *to, uint64_t epoch,
			uint64_t seq, uint64_t sent_ms, const uint8_t *key,
			size_t key_len)
{
	struct msg m = {0};
	uint8_t *p = m.b + HDR_LEN, *r = p + 4;

	put16(m.b, 0x584c);
	put16(m.b + 2, 0x4253);
	m.b[4] = 1;
	m.b[5] = T_SESSIONS;
	put16(m.b + 6, 4 + REC_LEN);
	memcpy(m.b + 8, from, strlen(from));
	memcpy(m.b + 40, to, strlen(to));
	put64(m.b + 72, epoch);
	put64(m.b + 80, seq);
	put64(m.b + 88, sent_ms);
	put16(p, 1);
	/* Record: FULLNAT tcp 10.0.10.1:80 from 192.0.0.1:1025 via
	 * 10.97.0.1:2001 to 10.1.0.1 (make_rec(1) with i % 2 == 1 being
	 * tunnel: this one is written by hand). */
	r[0] = XLB_MODE_FULLNAT;
	r[1] = 4;
	r[2] = IPPROTO_TCP;
	r[3] = 4;
	r[4] = 4;
	r[5] = 4;
	r[6] = XLB_NAT_S_REPLIED;
	put16(r + 8, 80);
	put16(r + 10, 1025);
	put16(r + 12, 80);
	put16(r + 14, 2001);
	r[19] = 7; /* age_ms */
	memcpy(r + 20, (uint8_t[]){10, 0, 10, 1}, 4);
	memcpy(r + 36, (uint8_t[]){192, 0, 0, 1}, 4);
	memcpy(r + 52, (uint8_t[]){10, 1, 0, 1}, 4);
	memcpy(r + 68, (uint8_t[]){10, 97, 0, 1}, 4);
	m.len = HDR_LEN + 4 + REC_LEN;
	seal(&m, key, key_len);
	return m;
}

static int udp_from(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(addr)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "bind: %s", strerror(errno));
	return fd;
}

static void send_to(int fd, const struct msg *m, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	cr_assert_eq(
		sendto(fd, m->b, m->len, 0, (struct sockaddr *)&sa, sizeof(sa)),
		(ssize_t)m->len);
}

/* Send m to s from fd; s reads it. Returns the drop counters after. */
static struct xlb_sync_stats deliver(struct xlb_sync *s, int fd,
				     const struct msg *m, uint16_t port)
{
	struct pollfd pfd = {.fd = xlb_sync_fd(s), .events = POLLIN};

	send_to(fd, m, port);
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	xlb_sync_read(s, now_ns());
	return stats(s);
}

Test(sync, receive_checks)
{
	struct xlb_cluster_config c = cluster_of(3);
	struct table *t = table_new(0);
	struct xlb_sync *a = node(c, 0, t);
	uint16_t port = c.nodes[0].port;
	int fake = udp_from(INADDR_LOOPBACK, c.nodes[1].port);
	int unlisted = udp_from(0x7f000002, c.nodes[1].port);
	uint64_t epoch = 1000000;
	uint8_t other_key[48];
	struct xlb_sync_stats st;
	struct msg m, good;

	/* A good message: the layout of docs/SYNC.md, imported. */
	good = craft("n1", "n0", epoch, 10, realtime_ms(), the_key,
		     sizeof(the_key));
	st = deliver(a, fake, &good, port);
	cr_assert_eq(t->n_got, 1, "drops: %lu %lu %lu %lu %lu", st.drops[0],
		     st.drops[1], st.drops[2], st.drops[3], st.drops[4]);
	cr_assert_eq(t->got[0].mode, XLB_MODE_FULLNAT);
	cr_assert_eq(t->got[0].lport, 2001);
	cr_assert_eq(t->got[0].age_ms, 7);
	cr_assert_eq(t->got[0].laddr.a.addr[0], htonl(0x0a610001));

	/* The exact same datagram again. */
	st = deliver(a, fake, &good, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_REPLAY], 1);

	/* Forged: another key. */
	randombytes_buf(other_key, sizeof(other_key));
	m = craft("n1", "n0", epoch, 11, realtime_ms(), other_key,
		  sizeof(other_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_BAD_AUTH], 1);

	/* Tampered: one byte of the record flipped. */
	m = craft("n1", "n0", epoch, 12, realtime_ms(), the_key,
		  sizeof(the_key));
	m.b[HDR_LEN + 4 + 11] ^= 1;
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_BAD_AUTH], 2);

	/* Skewed clock, both ways. */
	m = craft("n1", "n0", epoch, 13, realtime_ms() - (WINDOW_S + 5) * 1000,
		  the_key, sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_STALE], 1);
	m = craft("n1", "n0", epoch, 14, realtime_ms() + (WINDOW_S + 5) * 1000,
		  the_key, sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_STALE], 2);

	/* An older epoch, with a fresh sequence number. */
	m = craft("n1", "n0", epoch - 1, 100, realtime_ms(), the_key,
		  sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_REPLAY], 2);

	/* Below the 64-entry window. */
	m = craft("n1", "n0", epoch, 200, realtime_ms(), the_key,
		  sizeof(the_key));
	deliver(a, fake, &m, port);
	cr_assert_eq(t->n_got, 2);
	m = craft("n1", "n0", epoch, 200 - 64, realtime_ms(), the_key,
		  sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_REPLAY], 3);
	/* Inside the window, not seen yet: accepted (reordering). */
	m = craft("n1", "n0", epoch, 200 - 63, realtime_ms(), the_key,
		  sizeof(the_key));
	deliver(a, fake, &m, port);
	cr_assert_eq(t->n_got, 3);

	/* Addressed to n2: a replay on another link. */
	m = craft("n1", "n2", epoch, 201, realtime_ms(), the_key,
		  sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_REPLAY], 4);

	/* From an address that is not a listed node, with a good tag. */
	m = craft("n1", "n0", epoch, 300, realtime_ms(), the_key,
		  sizeof(the_key));
	st = deliver(a, unlisted, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_UNKNOWN_PEER], 1);
	/* From n1's address under n2's name. */
	m = craft("n2", "n0", epoch, 301, realtime_ms(), the_key,
		  sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_UNKNOWN_PEER], 2);

	/* Malformed: bad magic, short, a record of family 5. */
	m = good;
	m.b[0] = 'Y';
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_MALFORMED], 1);
	m.len = 50;
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_MALFORMED], 2);
	m = craft("n1", "n0", epoch, 400, realtime_ms(), the_key,
		  sizeof(the_key));
	m.len -= TAG_LEN;
	m.b[HDR_LEN + 4 + 1] = 5;
	seal(&m, the_key, sizeof(the_key));
	st = deliver(a, fake, &m, port);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_MALFORMED], 3);

	/* A newer epoch (n1 restarted) starts a new window at seq 1. */
	m = craft("n1", "n0", epoch + 1, 1, realtime_ms(), the_key,
		  sizeof(the_key));
	deliver(a, fake, &m, port);
	cr_assert_eq(t->n_got, 4);

	/* None of the dropped ones reached import. */
	st = stats(a);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_REPLAY], 4);
	cr_assert_eq(st.drops[XLB_SYNC_DROP_BAD_AUTH], 2);
	cr_assert_eq(t->n_got, 4);
	struct xlb_sync_peer_stats ps[2];
	xlb_sync_peers(a, ps, 2);
	cr_assert_eq(ps[0].rx_msgs, 4);
	close(fake);
	close(unlisted);
	xlb_sync_free(a);
}

/* ---- A real node's datagram, captured and replayed ---------------------- */

/* Send payload as UDP from src:sport to dst:dport (host order), raw. */
static void spoof(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		  const uint8_t *payload, size_t len)
{
	uint8_t pkt[1500] = {0};
	struct iphdr *ip = (void *)pkt;
	struct udphdr *udp = (void *)(pkt + sizeof(*ip));
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(dst)};
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	cr_assert_geq(fd, 0, "raw socket (root): %s", strerror(errno));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(src);
	ip->daddr = htonl(dst);
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*udp) + len));
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons((uint16_t)(sizeof(*udp) + len));
	memcpy(udp + 1, payload, len);
	/* The kernel fills the IP checksum; UDP checksum 0 = none (IPv4). */
	udp->check = 0;
	cr_assert_eq(sendto(fd, pkt, sizeof(*ip) + sizeof(*udp) + len, 0,
			    (struct sockaddr *)&sa, sizeof(sa)),
		     (ssize_t)(sizeof(*ip) + sizeof(*udp) + len));
	close(fd);
}

Test(sync, captured_datagram_replayed)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(1), table_new(0)};
	struct xlb_sync *s[2] = {node(c, 0, t[0]), node(c, 1, t[1])};
	struct pollfd pfd = {.fd = xlb_sync_fd(s[1]), .events = POLLIN};
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	uint8_t cap[1500];
	ssize_t len;

	/* n0 sends a batch: capture it on n1's socket without taking it. */
	xlb_sync_queue(s[0], &t[0]->recs[0], now_ns());
	xlb_sync_tick(s[0], now_ns() + BATCH_MS * MS);
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	/* Skip the heartbeat the tick sent first. */
	for (;;) {
		len = recvfrom(pfd.fd, cap, sizeof(cap), MSG_PEEK,
			       (struct sockaddr *)&from, &fromlen);
		cr_assert_gt(len, HDR_LEN);
		if (cap[5] == T_SESSIONS)
			break;
		xlb_sync_read(s[1], now_ns()); /* not the one: take it */
		cr_assert_eq(poll(&pfd, 1, 1000), 1);
	}
	cr_assert_eq(ntohs(from.sin_port), c.nodes[0].port);
	xlb_sync_read(s[1], now_ns());
	cr_assert_eq(t[1]->n_got, 1);

	/* The same bytes from n0's address and port: a replay. */
	spoof(INADDR_LOOPBACK, c.nodes[0].port, INADDR_LOOPBACK,
	      c.nodes[1].port, cap, (size_t)len);
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	xlb_sync_read(s[1], now_ns());
	cr_assert_eq(stats(s[1]).drops[XLB_SYNC_DROP_REPLAY], 1);
	/* One byte flipped: the tag no longer verifies. */
	cap[len - 40] ^= 0x80;
	spoof(INADDR_LOOPBACK, c.nodes[0].port, INADDR_LOOPBACK,
	      c.nodes[1].port, cap, (size_t)len);
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	xlb_sync_read(s[1], now_ns());
	cr_assert_eq(stats(s[1]).drops[XLB_SYNC_DROP_BAD_AUTH], 1);
	cr_assert_eq(t[1]->n_got, 1);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}

/* ---- The key file ------------------------------------------------------- */

static int try_key(const char *path, char *err, size_t errlen)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct xlb_sync *s = NULL;
	int ret;

	snprintf(c.key_file, sizeof(c.key_file), "%s", path);
	ret = xlb_sync_new(&c, NULL, &s, err, errlen);
	xlb_sync_free(s);
	return ret;
}

Test(sync, key_file_checks)
{
	char path[80], err[XLB_ERR_LEN];
	uint8_t big[1025] = {0};

	snprintf(path, sizeof(path), "/tmp/xlb-test-sync-%d.k2", (int)getpid());
	write_file(path, the_key, sizeof(the_key), 0644);
	cr_assert_lt(try_key(path, err, sizeof(err)), 0);
	char want[160];
	snprintf(want, sizeof(want),
		 "key file %s: mode 0644, must not be readable by group or "
		 "others",
		 path);
	cr_assert_str_eq(err, want);

	write_file(path, the_key, sizeof(the_key), 0600);
	cr_assert_eq(try_key(path, err, sizeof(err)), 0, "%s", err);
	write_file(path, the_key, sizeof(the_key), 0400);
	cr_assert_eq(try_key(path, err, sizeof(err)), 0, "%s", err);
	write_file(path, the_key, sizeof(the_key), 0620);
	cr_assert_lt(try_key(path, err, sizeof(err)), 0);

	cr_assert_eq(chown(path, 1, 0), 0);
	write_file(path, the_key, sizeof(the_key), 0600);
	cr_assert_lt(try_key(path, err, sizeof(err)), 0);
	cr_assert(strstr(err, "must be owned by root"), "%s", err);
	cr_assert_eq(chown(path, 0, 0), 0);

	write_file(path, the_key, 31, 0600);
	cr_assert_lt(try_key(path, err, sizeof(err)), 0);
	cr_assert(strstr(err, "31 bytes"), "%s", err);
	write_file(path, big, sizeof(big), 0600);
	cr_assert_lt(try_key(path, err, sizeof(err)), 0);
	write_file(path, big, 1024, 0600);
	cr_assert_eq(try_key(path, err, sizeof(err)), 0, "%s", err);
	unlink(path);

	cr_assert_lt(try_key("/tmp", err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a regular file"), "%s", err);
	cr_assert_eq(try_key("/nonexistent/key", err, sizeof(err)), -ENOENT);
}

/* ---- IPv6 nodes --------------------------------------------------------- */

Test(sync, ipv6_nodes)
{
	struct xlb_cluster_config c = cluster_of(2);
	struct table *t[2] = {table_new(20), table_new(0)};
	struct xlb_sync *s[2];
	struct want w = {.t = t + 1, .n = 1, .count = 20};

	for (size_t i = 0; i < 2; i++) {
		memset(&c.nodes[i].addr, 0, sizeof(c.nodes[i].addr));
		c.nodes[i].addr.family = AF_INET6;
		c.nodes[i].addr.a.addr[3] = htonl(1); /* ::1 */
	}
	s[0] = node(c, 0, t[0]);
	s[1] = node(c, 1, t[1]);
	for (size_t i = 0; i < 20; i++)
		xlb_sync_queue(s[0], &t[0]->recs[i], now_ns());
	pump(s, 2, 1000, all_got, &w, NULL, 0, NULL);
	assert_has_all(t[0], t[1]);

	json_t *j = xlb_sync_json(s[1], now_ns());
	char addr[32];
	snprintf(addr, sizeof(addr), "[::1]:%u", c.nodes[0].port);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(j, "peers"), 0),
				 "address")),
			 addr);
	json_decref(j);
	xlb_sync_free(s[0]);
	xlb_sync_free(s[1]);
}
