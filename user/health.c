// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Health checks (health.h, docs/HEALTH.md), run inside xlbd's epoll loop.
 *
 * Every target has one deadline: the start of its next check while it is
 * idle, the end of its timeout while an attempt is in flight. The targets
 * that run a check sit in a min-heap ordered by deadline, and one timerfd
 * is armed for the earliest. An attempt holds one non-blocking socket
 * (a "probe"), registered in the loop only while it is in use:
 *
 *   TCP   connect -> EPOLLOUT -> SO_ERROR
 *   HTTP  connect -> send the request -> read the status line -> code
 *   UDP   connect (so that ICMP port unreachable shows as ECONNREFUSED)
 *         -> send the payload -> read one reply -> compare its start
 *
 * The attempt ends with a result, or at its deadline as a failure.
 *
 * A check that travels the data path (docs/HEALTH.md, "Data-path
 * checks") changes how the probe is made, not the state machine:
 *
 *   tunnel TCP, HTTP  the SYN to VIP:port, encapsulated by hand
 *         (probe.c) and sent on a raw socket to the real, from a port a
 *         bound TCP socket holds; an AF_PACKET socket (before routing:
 *         an answer from the VIP may be a martian to the node) reads the
 *         real's SYN-ACK (or RST), which comes from the VIP straight to
 *         the node; a RST through the tunnel ends the real's half-open
 *         connection
 *   tunnel UDP  the payload to VIP:port, encapsulated, from a port a
 *         bound UDP socket holds; the AF_PACKET socket reads the reply
 *   local  as direct, from a socket bound to a FULLNAT local address
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "health.h"
#include "settings.h"
#include "loop.h"
#include "probe.h"

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL
#define HC_OUT_LEN    512 /* an HTTP request: path and host are < 128 */
#define HC_IN_LEN     512 /* a status line's start, or a UDP reply's */
/* "HTTP/1.1 200" and the space or line end after it. */
#define HC_STATUS_LEN 13
#define HC_NOT_QUEUED SIZE_MAX

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

enum hc_phase {
	HC_IDLE = 0,   /* waiting for the next start */
	HC_CONNECTING, /* TCP, HTTP: connect() in progress */
	HC_SENDING,    /* HTTP: the request is being written */
	HC_RECEIVING,  /* HTTP: the status line; UDP: the reply */
};

struct hc_target;

/*
 * The socket of one attempt. Probes are pooled and freed only with the
 * checker: epoll_wait() may return, in one batch, an event for a socket
 * that an earlier handler of the same batch closed (its target removed
 * by a sync). The memory is still valid then, and the handler either
 * finds the probe idle or checks the socket's readiness again.
 */
struct hc_probe {
	struct xlb_event ev;
	struct xlb_health *h;
	struct hc_target *t;   /* NULL while in the pool */
	struct hc_probe *next; /* in the pool */
	struct hc_probe *all;  /* every probe, for xlb_health_free() */
	bool registered;       /* ev.fd is in the epoll set */
	int hold_fd;	       /* tunnel TCP: holds the inner source port */
	size_t out_len, out_off;
	size_t in_len;
	char out[HC_OUT_LEN];
	char in[HC_IN_LEN];
};

/* The way a target's check travels. */
enum hc_way {
	HC_DIRECT = 0, /* node -> real */
	HC_TUNNEL,     /* node -> VIP, encapsulated to the real */
	HC_LOCAL,      /* FULLNAT local address -> real */
};

struct hc_target {
	struct xlb_service svc;
	struct xlb_ip real;
	struct xlb_check_spec eff; /* defaults filled in */
	enum hc_way way;
	struct xlb_ip tun_src; /* HC_TUNNEL: the tunnel_source base */
	int tun_plen;
	uint16_t gue_port;	  /* HC_TUNNEL: GUE's port; 0: IPIP */
	struct xlb_ip laddr;	  /* HC_LOCAL */
	struct xlb_probe_pkt pkt; /* HC_TUNNEL: the attempt's SYN */
	struct sockaddr_storage sa;
	socklen_t sa_len;
	size_t heap_idx; /* HC_NOT_QUEUED: not running (type none) */
	uint64_t deadline;
	uint64_t next_start; /* of the next attempt, ns */
	uint64_t started;    /* of the attempt in flight, ns */
	enum hc_phase phase;
	struct hc_probe *probe; /* of the attempt in flight */
	struct xlb_health_status st;
	bool report_up; /* sync: came up because its check was removed */
	bool fresh;	/* sync: allocated, not committed yet */
	bool keep;	/* sync: still in the new set */
};

struct xlb_health {
	int epfd;
	xlb_health_cb cb;
	void *arg;
	struct xlb_event timer;
	uint64_t armed;	       /* the timerfd's deadline; 0: disarmed */
	struct hc_target **tv; /* every target, sorted by (svc, real) */
	size_t n;
	struct hc_target **heap; /* running targets by deadline; cap n */
	size_t heap_n;
	struct hc_probe *pool;
	struct hc_probe *probes; /* every probe allocated */
	uint64_t rng;
	bool in_cb;
};

/* The monotonic clock in ns. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64: a cheap spread for first starts, not for security. */
static uint64_t rng_next(struct xlb_health *h)
{
	uint64_t x = h->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	h->rng = x;
	return x;
}

const char *xlb_check_path_str(enum xlb_check_path path)
{
	switch (path) {
	case XLB_CHECK_PATH_AUTO:
		return "auto";
	case XLB_CHECK_PATH_DATAPATH:
		return "datapath";
	case XLB_CHECK_PATH_DIRECT:
		return "direct";
	}
	return "unknown";
}

int xlb_check_path_parse(const char *s, enum xlb_check_path *path)
{
	if (!strcmp(s, "auto"))
		*path = XLB_CHECK_PATH_AUTO;
	else if (!strcmp(s, "datapath") || !strcmp(s, "tunnel"))
		*path = XLB_CHECK_PATH_DATAPATH;
	else if (!strcmp(s, "direct"))
		*path = XLB_CHECK_PATH_DIRECT;
	else
		return -EINVAL;
	return 0;
}

static const char *const way_names[] = {
	[HC_DIRECT] = "direct",
	[HC_TUNNEL] = "tunnel",
	[HC_LOCAL] = "local",
};

const char *xlb_health_type_str(enum xlb_check_type type)
{
	switch (type) {
	case XLB_CHECK_NONE:
		return "none";
	case XLB_CHECK_TCP:
		return "tcp";
	case XLB_CHECK_HTTP:
		return "http";
	case XLB_CHECK_UDP:
		return "udp";
	}
	return "unknown";
}

/* Fill err (if any) and return -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
spec_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Whether a fixed-size text field holds a NUL-terminated string. */
static bool text_ok(const char *s)
{
	return memchr(s, '\0', XLB_CHECK_TEXT_LEN) != NULL;
}

/* Whether s may go into a request line or header: no space, no CTL. */
static bool token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* The HTTP part of xlb_check_effective(): path, Host header, codes. */
static int http_effective(const struct xlb_check_spec *in,
			  struct xlb_check_spec *s, char *err, size_t errlen)
{
	char ip[XLB_IP_STRLEN];
	size_t i;
	int n;

	if (!text_ok(in->http_path) || !text_ok(in->http_host))
		return spec_fail(err, errlen, "HTTP path or host too long");
	s->http_method = in->http_method;
	if (!in->http_path[0])
		strcpy(s->http_path, XLB_CHECK_DEFAULT_HTTP_PATH);
	else
		strcpy(s->http_path, in->http_path);
	if (s->http_path[0] != '/')
		return spec_fail(err, errlen,
				 "HTTP path '%s' does not start with '/'",
				 s->http_path);
	if (!token_ok(s->http_path))
		return spec_fail(err, errlen,
				 "HTTP path contains spaces or control "
				 "characters");
	if (in->http_host[0]) {
		strcpy(s->http_host, in->http_host);
		if (!token_ok(s->http_host))
			return spec_fail(err, errlen,
					 "HTTP host contains spaces or control "
					 "characters");
	} else {
		xlb_ip_str(&s->addr, ip, sizeof(ip));
		n = snprintf(s->http_host, sizeof(s->http_host),
			     s->addr.family == AF_INET6 ? "[%s]" : "%s", ip);
		if (s->port != 80)
			snprintf(s->http_host + n, sizeof(s->http_host) - n,
				 ":%u", s->port);
	}
	if (in->n_http_codes > XLB_CHECK_MAX_CODES)
		return spec_fail(err, errlen, "more than %d HTTP status codes",
				 XLB_CHECK_MAX_CODES);
	if (!in->n_http_codes) {
		s->http_codes[0] = XLB_CHECK_DEFAULT_HTTP_CODE;
		s->n_http_codes = 1;
	}
	for (i = 0; i < in->n_http_codes; i++) {
		if (in->http_codes[i] < XLB_CHECK_MIN_HTTP_CODE ||
		    in->http_codes[i] > XLB_CHECK_MAX_HTTP_CODE)
			return spec_fail(err, errlen,
					 "HTTP status code %u is out of range "
					 "%u..%u",
					 in->http_codes[i],
					 XLB_CHECK_MIN_HTTP_CODE,
					 XLB_CHECK_MAX_HTTP_CODE);
		s->http_codes[s->n_http_codes++] = in->http_codes[i];
	}
	return 0;
}

int xlb_check_effective(const struct xlb_check_spec *in,
			const struct xlb_service *svc,
			const struct xlb_ip *real, struct xlb_check_spec *out,
			char *err, size_t errlen)
{
	struct xlb_check_spec s;
	uint32_t t;
	int ret;

	/* Each value in the range the settings table gives (0: default). */
	ret = xlb_settings_check("health", in, true, err, errlen);
	if (ret)
		return ret;
	memset(&s, 0, sizeof(s));
	s.type = in->type;
	if (in->type == XLB_CHECK_NONE) {
		*out = s;
		return 0;
	}
	s.interval_ms = in->interval_ms ? in->interval_ms
					: XLB_CHECK_DEFAULT_INTERVAL_MS;
	t = s.interval_ms / 2;
	if (t > XLB_CHECK_DEFAULT_TIMEOUT_MS)
		t = XLB_CHECK_DEFAULT_TIMEOUT_MS;
	s.timeout_ms = in->timeout_ms ? in->timeout_ms : t;
	if (s.timeout_ms >= s.interval_ms)
		return spec_fail(err, errlen,
				 "timeout %u ms is not shorter than the "
				 "interval %u ms",
				 s.timeout_ms, s.interval_ms);
	s.rise = in->rise ? in->rise : XLB_CHECK_DEFAULT_RISE;
	s.fall = in->fall ? in->fall : XLB_CHECK_DEFAULT_FALL;
	/* A check of another address than the real's cannot travel the
	 * real's data path: it is direct unless told otherwise, and
	 * told otherwise it is a contradiction. */
	if (in->addr.family && in->through == XLB_CHECK_PATH_DATAPATH)
		return spec_fail(err, errlen,
				 "a check through the data path goes to the "
				 "real: it cannot name an address");
	s.through = in->addr.family ? XLB_CHECK_PATH_DIRECT : in->through;
	s.addr = in->addr.family ? in->addr : *real;
	if (s.addr.family != AF_INET && s.addr.family != AF_INET6)
		return spec_fail(err, errlen, "no address to check");
	s.port = in->port ? in->port : svc->port;
	if (!s.port)
		return spec_fail(err, errlen,
				 "a check of an any-port VIP needs a port");
	if (in->type == XLB_CHECK_HTTP) {
		ret = http_effective(in, &s, err, errlen);
		if (ret)
			return ret;
	}
	if (in->type == XLB_CHECK_UDP) {
		if (!text_ok(in->udp_send) || !text_ok(in->udp_expect))
			return spec_fail(err, errlen,
					 "UDP payload or reply too long");
		strcpy(s.udp_send, in->udp_send);
		strcpy(s.udp_expect, in->udp_expect);
	}
	*out = s;
	return 0;
}

/* Whether two effective specs describe the same check. */
static bool spec_equal(const struct xlb_check_spec *a,
		       const struct xlb_check_spec *b)
{
	return a->type == b->type && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise &&
	       a->fall == b->fall && xlb_ip_equal(&a->addr, &b->addr) &&
	       a->through == b->through && a->port == b->port &&
	       !strcmp(a->http_path, b->http_path) &&
	       !strcmp(a->http_host, b->http_host) &&
	       a->http_method == b->http_method &&
	       a->n_http_codes == b->n_http_codes &&
	       !memcmp(a->http_codes, b->http_codes,
		       a->n_http_codes * sizeof(a->http_codes[0])) &&
	       !strcmp(a->udp_send, b->udp_send) &&
	       !strcmp(a->udp_expect, b->udp_expect);
}

/* Order two addresses: family, then bytes. */
static int ip_cmp(const struct xlb_ip *a, const struct xlb_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->a, &b->a, sizeof(a->a));
}

/* Order targets by identity: the VIP, then the real. */
static int key_cmp(const struct xlb_service *sa, const struct xlb_ip *ra,
		   const struct xlb_service *sb, const struct xlb_ip *rb)
{
	int r = ip_cmp(&sa->ip, &sb->ip);

	if (r)
		return r;
	if (sa->port != sb->port)
		return sa->port < sb->port ? -1 : 1;
	if (sa->proto != sb->proto)
		return sa->proto < sb->proto ? -1 : 1;
	return ip_cmp(ra, rb);
}

/* Heap: swap two slots and keep their indices right. */
static void heap_swap(struct xlb_health *h, size_t i, size_t j)
{
	struct hc_target *t = h->heap[i];

	h->heap[i] = h->heap[j];
	h->heap[j] = t;
	h->heap[i]->heap_idx = i;
	h->heap[j]->heap_idx = j;
}

/* Heap: move slot i towards the root while it is earlier than its parent. */
static void heap_up(struct xlb_health *h, size_t i)
{
	while (i && h->heap[i]->deadline < h->heap[(i - 1) / 2]->deadline) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* Heap: move slot i towards the leaves while a child is earlier. */
static void heap_down(struct xlb_health *h, size_t i)
{
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < h->heap_n &&
		    h->heap[l]->deadline < h->heap[m]->deadline)
			m = l;
		if (l + 1 < h->heap_n &&
		    h->heap[l + 1]->deadline < h->heap[m]->deadline)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Set a queued target's deadline and restore the heap order. */
static void set_deadline(struct xlb_health *h, struct hc_target *t,
			 uint64_t deadline)
{
	t->deadline = deadline;
	if (t->heap_idx == HC_NOT_QUEUED)
		return;
	heap_up(h, t->heap_idx);
	heap_down(h, t->heap_idx);
}

/* Arm the timerfd for the earliest deadline (or disarm it). */
static void rearm(struct xlb_health *h)
{
	struct itimerspec its = {};
	uint64_t d = h->heap_n ? h->heap[0]->deadline : 0;

	if (d == h->armed)
		return;
	/* 0 would disarm: the earliest possible deadline is 1 ns. */
	if (h->heap_n && !d)
		d = 1;
	its.it_value.tv_sec = (time_t)(d / 1000000000ULL);
	its.it_value.tv_nsec = (long)(d % 1000000000ULL);
	if (!timerfd_settime(h->timer.fd, TFD_TIMER_ABSTIME, &its, NULL))
		h->armed = d;
}

static void on_probe(struct xlb_event *ev, uint32_t events);

/* A probe from the pool, or a new one; NULL when out of memory. */
static struct hc_probe *probe_get(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = h->pool;

	if (p) {
		h->pool = p->next;
	} else {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->h = h;
		p->ev.handler = on_probe;
		p->all = h->probes;
		h->probes = p;
	}
	p->ev.fd = -1;
	p->hold_fd = -1;
	p->t = t;
	p->registered = false;
	p->out_len = p->out_off = p->in_len = 0;
	return p;
}

/* Close a probe's socket and put it back in the pool. */
static void probe_put(struct xlb_health *h, struct hc_probe *p)
{
	if (!p)
		return;
	if (p->registered)
		xlb_loop_del(h->epfd, &p->ev);
	if (p->ev.fd >= 0)
		close(p->ev.fd);
	if (p->hold_fd >= 0)
		close(p->hold_fd);
	p->ev.fd = -1;
	p->hold_fd = -1;
	p->registered = false;
	p->t = NULL;
	p->next = h->pool;
	h->pool = p;
}

/* Watch a probe's socket for events (add it to the loop or change it). */
static int probe_watch(struct xlb_health *h, struct hc_probe *p,
		       uint32_t events)
{
	int ret;

	if (p->registered)
		return xlb_loop_mod(h->epfd, &p->ev, events);
	ret = xlb_loop_add(h->epfd, &p->ev, events);
	if (!ret)
		p->registered = true;
	return ret;
}

/* Cancel the attempt in flight, if any: the target becomes idle. */
static void attempt_cancel(struct xlb_health *h, struct hc_target *t)
{
	probe_put(h, t->probe);
	t->probe = NULL;
	t->phase = HC_IDLE;
}

/* Call the callback for a transition, refusing syncs meanwhile. */
static void report(struct xlb_health *h, const struct hc_target *t,
		   const char *reason)
{
	if (!h->cb)
		return;
	h->in_cb = true;
	h->cb(h->arg, &t->svc, &t->real, t->st.up, reason);
	h->in_cb = false;
}

/*
 * An attempt ended with a result: count it, move the state machine,
 * wait for the next start, and report a transition.
 */
static void attempt_done(struct xlb_health *h, struct hc_target *t, bool ok,
			 const char *reason)
{
	struct xlb_health_status *st = &t->st;
	bool flip;

	attempt_cancel(h, t);
	st->checks++;
	st->has_last = true;
	st->last_ok = ok;
	st->last_latency_us =
		(uint32_t)((now_ns() - t->started) / NSEC_PER_USEC);
	snprintf(st->last_reason, sizeof(st->last_reason), "%s", reason);
	if (ok) {
		st->failures_in_row = 0;
		if (st->successes_in_row < UINT32_MAX)
			st->successes_in_row++;
		flip = !st->up && st->successes_in_row >= t->eff.rise;
	} else {
		st->failures++;
		st->successes_in_row = 0;
		if (st->failures_in_row < UINT32_MAX)
			st->failures_in_row++;
		flip = st->up && st->failures_in_row >= t->eff.fall;
	}
	set_deadline(h, t, t->next_start);
	if (!flip)
		return;
	st->up = !st->up;
	st->transitions++;
	report(h, t, reason);
}

/* An attempt ended with a failure described by a printf format. */
static void __attribute__((format(printf, 3, 4)))
attempt_fail(struct xlb_health *h, struct hc_target *t, const char *fmt, ...)
{
	char reason[XLB_HEALTH_REASON_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	attempt_done(h, t, false, reason);
}

/*
 * The attempt could not be made for a local reason (no fd, no memory,
 * no local port): it says nothing about the real, so it counts neither
 * way, or running out of descriptors would take every real down.
 */
static void attempt_skip(struct xlb_health *h, struct hc_target *t,
			 const char *what, int err)
{
	attempt_cancel(h, t);
	t->st.skipped++;
	snprintf(t->st.last_reason, sizeof(t->st.last_reason),
		 "not checked: %s: %s", what, strerror(err));
	set_deadline(h, t, t->next_start);
}

/* Whether a connect() error is ours rather than the real's. */
static bool local_errno(int err)
{
	return err == EAGAIN || err == EADDRNOTAVAIL || err == ENOBUFS ||
	       err == ENOMEM || err == EMFILE || err == ENFILE;
}

/* HTTP: write what is left of the request, then wait for the reply. */
static void http_send(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	ssize_t n;
	int ret;

	while (p->out_off < p->out_len) {
		n = send(p->ev.fd, p->out + p->out_off, p->out_len - p->out_off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			ret = probe_watch(h, p, EPOLLOUT);
			if (ret)
				attempt_skip(h, t, "epoll", -ret);
			return;
		}
		if (n < 0) {
			attempt_fail(h, t, "send: %s", strerror(errno));
			return;
		}
		p->out_off += (size_t)n;
	}
	t->phase = HC_RECEIVING;
	ret = probe_watch(h, p, EPOLLIN);
	if (ret)
		attempt_skip(h, t, "epoll", -ret);
}

/* HTTP: connected; build the request and start writing it. */
static void http_start(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	int n;

	n = snprintf(p->out, sizeof(p->out),
		     "%s %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "User-Agent: xlb-health/" XLB_VERSION "\r\n"
		     "Accept: */*\r\n"
		     "Connection: close\r\n"
		     "\r\n",
		     t->eff.http_method == XLB_HTTP_HEAD ? "HEAD" : "GET",
		     t->eff.http_path, t->eff.http_host);
	p->out_len = (size_t)n < sizeof(p->out) ? (size_t)n : sizeof(p->out);
	p->out_off = 0;
	t->phase = HC_SENDING;
	http_send(h, t);
}

/*
 * Parse the start of an HTTP status line, "HTTP/x.y NNN" and a space or
 * line end. 1: *code is set; 0: more bytes are needed; -1: not HTTP.
 */
static int http_status(const char *s, size_t len, unsigned int *code)
{
	size_t i, n = len < HC_STATUS_LEN ? len : HC_STATUS_LEN;
	bool good;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (i < 5)
			good = ch == "HTTP/"[i];
		else if (i == 6)
			good = ch == '.';
		else if (i == 8)
			good = ch == ' ';
		else if (i == 12)
			good = ch == ' ' || ch == '\r' || ch == '\n';
		else
			good = ch >= '0' && ch <= '9';
		if (!good)
			return -1;
	}
	if (len < HC_STATUS_LEN)
		return 0;
	*code = (unsigned int)((s[9] - '0') * 100 + (s[10] - '0') * 10 +
			       (s[11] - '0'));
	return 1;
}

/* HTTP: read until the status code is known, then judge it. */
static void http_recv(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	unsigned int code = 0;
	bool eof = false;
	ssize_t n;
	size_t i;
	int r;

	while (p->in_len < HC_STATUS_LEN) {
		n = recv(p->ev.fd, p->in + p->in_len, sizeof(p->in) - p->in_len,
			 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			attempt_fail(h, t, "recv: %s", strerror(errno));
			return;
		}
		if (!n) {
			eof = true;
			break;
		}
		p->in_len += (size_t)n;
	}
	r = http_status(p->in, p->in_len, &code);
	if (r < 0) {
		attempt_fail(h, t, "HTTP: not an HTTP status line");
		return;
	}
	if (!r) {
		if (eof)
			attempt_fail(h, t,
				     "HTTP: connection closed before the "
				     "status line");
		return;
	}
	for (i = 0; i < t->eff.n_http_codes; i++)
		if (t->eff.http_codes[i] == code)
			break;
	if (i < t->eff.n_http_codes) {
		char reason[32];

		snprintf(reason, sizeof(reason), "HTTP status %u", code);
		attempt_done(h, t, true, reason);
		return;
	}
	attempt_fail(h, t, "HTTP status %u", code);
}

/* UDP: one reply, judged by its first bytes. */
static void udp_recv(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	size_t want = strlen(t->eff.udp_expect);
	ssize_t n;

	n = recv(p->ev.fd, p->in, sizeof(p->in), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		attempt_fail(h, t, "UDP: %s", strerror(errno));
		return;
	}
	if ((size_t)n < want || memcmp(p->in, t->eff.udp_expect, want)) {
		attempt_fail(h, t,
			     "UDP reply does not start with the expected "
			     "text");
		return;
	}
	attempt_done(h, t, true, "UDP reply");
}

/* TCP, HTTP: the socket became writable (or failed) while connecting. */
static void on_connected(struct xlb_health *h, struct hc_target *t)
{
	struct pollfd pfd = {.fd = t->probe->ev.fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0;

	/* SO_ERROR is 0 while the connect is still in progress: make
	 * sure the event is current, not one left from a closed socket. */
	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		attempt_fail(h, t, "connect: %s", strerror(err));
		return;
	}
	if (t->eff.type == XLB_CHECK_HTTP)
		http_start(h, t);
	else
		attempt_done(h, t, true, "connected");
}

/* An address and port as a sockaddr; its length. */
static socklen_t ip_sockaddr(const struct xlb_ip *ip, uint16_t port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = ip->a.addr[0];
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, ip->a.addr, sizeof(sin6->sin6_addr));
	return sizeof(*sin6);
}

/* The address and port in a sockaddr. */
static void sockaddr_ip(const struct sockaddr_storage *ss, struct xlb_ip *ip,
			uint16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	memset(ip, 0, sizeof(*ip));
	ip->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		ip->a.addr[0] = sin->sin_addr.s_addr;
		*port = ntohs(sin->sin_port);
	} else {
		memcpy(ip->a.addr, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	}
}

/*
 * The node's address the real answers the VIP's probe to: the source
 * the kernel picks towards the real (or, when the VIP's family is not
 * the real's, towards the VIP). 0 or -errno.
 */
static int tunnel_inner_source(const struct hc_target *t, struct xlb_ip *src)
{
	const struct xlb_ip *to =
		t->real.family == t->svc.ip.family ? &t->real : &t->svc.ip;
	struct sockaddr_storage ss;
	socklen_t len = ip_sockaddr(to, 9, &ss);
	uint16_t port;
	int fd, ret = 0;

	fd = socket(to->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len))
		ret = -errno;
	close(fd);
	if (!ret)
		sockaddr_ip(&ss, src, &port);
	return ret;
}

/*
 * A socket of type bound to (src, any port), and the port it got. The
 * port is the inner source port of the probe: while the socket lives no
 * other socket of the node takes it. fd or -errno.
 */
static int tunnel_bind(const struct xlb_ip *src, int type, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = ip_sockaddr(src, 0, &ss);
	struct xlb_ip ip;
	int fd, ret;

	fd = socket(src->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	sockaddr_ip(&ss, &ip, port);
	return fd;
}

/* Encapsulate pkt and send it to the real: 0 or -errno. */
static int tunnel_send(struct hc_target *t, struct xlb_probe_pkt *pkt)
{
	uint8_t buf[XLB_PROBE_PKT_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	ssize_t sent;
	int fd, n, ret = 0;

	pkt->outer_dst = t->real;
	pkt->gue_port = t->gue_port;
	xlb_probe_tunnel_source(&t->tun_src, t->tun_plen, pkt, &pkt->outer_src);
	n = xlb_probe_build(pkt, buf, sizeof(buf));
	if (n < 0)
		return n;
	/* IPPROTO_RAW: the header is ours (IP_HDRINCL, IPv6 alike). */
	fd = socket(t->real.family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	len = ip_sockaddr(&t->real, 0, &ss);
	do
		sent = sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&ss,
			      len);
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Whether a tunnel send error is the balancer's rather than the path's. */
static bool tunnel_local_err(int err)
{
	return err == EPERM || err == EACCES || err == EINVAL ||
	       err == ENOSPC || local_errno(err);
}

/*
 * The next packet for the probe's AF_PACKET socket that came in (not one
 * the node sent), into p->in; its length, or -1 when there is none.
 */
static ssize_t tunnel_next(struct hc_probe *p)
{
	struct sockaddr_ll ll;
	socklen_t len;
	ssize_t n;

	for (;;) {
		len = sizeof(ll);
		n = recvfrom(p->ev.fd, p->in, sizeof(p->in), 0,
			     (struct sockaddr *)&ll, &len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1; /* EAGAIN: nothing (more) for us yet */
		if (ll.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

/* Tunnel TCP: the answer to the SYN. */
static void tunnel_tcp_recv(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	struct xlb_probe_pkt rst;
	enum xlb_probe_answer a;
	ssize_t n;

	for (;;) {
		n = tunnel_next(p);
		if (n < 0)
			return;
		a = xlb_probe_tcp_answer(&t->pkt, (const uint8_t *)p->in,
					 (size_t)n, NULL);
		if (a == XLB_PROBE_REFUSED) {
			attempt_fail(h, t,
				     "tunnel: connection refused by the VIP");
			return;
		}
		if (a == XLB_PROBE_SYNACK)
			break;
	}
	/* End the real's half-open connection the way it came. */
	rst = t->pkt;
	rst.tcp_flags = XLB_PROBE_RST;
	rst.seq = t->pkt.seq + 1;
	rst.ack = 0;
	tunnel_send(t, &rst);
	attempt_done(h, t, true, "SYN-ACK from the VIP through the tunnel");
}

/* Tunnel UDP: a reply from VIP:port, judged by its first bytes. */
static void tunnel_udp_recv(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	size_t want = strlen(t->eff.udp_expect), len = 0;
	const uint8_t *data = NULL;
	ssize_t n;

	for (;;) {
		n = tunnel_next(p);
		if (n < 0)
			return;
		if (xlb_probe_udp_answer(&t->pkt, (const uint8_t *)p->in,
					 (size_t)n, &data, &len))
			break;
	}
	if (len < want || memcmp(data, t->eff.udp_expect, want)) {
		attempt_fail(h, t,
			     "UDP reply through the tunnel does not start "
			     "with the expected text");
		return;
	}
	attempt_done(h, t, true, "UDP reply from the VIP through the tunnel");
}

/*
 * The socket that reads the answers: AF_PACKET, so that it sees them
 * before routing (an answer from the VIP's address may be a martian to
 * the node's kernel: a VIP on lo, or the blackhole route xlbd announces
 * it with and rp_filter), filtered to proto from the VIP. fd or -errno.
 */
static int tunnel_rx_socket(const struct xlb_ip *vip, uint8_t proto)
{
	struct sock_filter f[XLB_PROBE_FILTER_MAX];
	struct sock_fprog prog = {.filter = f};
	uint16_t eth = vip->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	int fd, ret;

	prog.len = (unsigned short)xlb_probe_filter(vip, proto, f);
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    htons(eth));
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Start a check through the tunnel: a SYN (TCP, HTTP) or the payload
 * (UDP) to VIP:port, from the node's address, encapsulated to the real.
 */
static void tunnel_start(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	bool udp = t->eff.type == XLB_CHECK_UDP;
	struct xlb_probe_pkt *pkt = &t->pkt;
	int fd, ret;

	memset(pkt, 0, sizeof(*pkt));
	ret = tunnel_inner_source(t, &pkt->src);
	if (ret) {
		attempt_skip(h, t, "tunnel: no source address", -ret);
		return;
	}
	t->st.src = pkt->src;
	pkt->dst = t->svc.ip;
	pkt->dport = t->eff.port;
	pkt->proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	/* The port is held by a socket of the node for the attempt. */
	fd = tunnel_bind(&pkt->src, udp ? SOCK_DGRAM : SOCK_STREAM,
			 &pkt->sport);
	if (fd < 0) {
		attempt_skip(h, t, "tunnel: bind", -fd);
		return;
	}
	p->hold_fd = fd;
	fd = tunnel_rx_socket(&pkt->dst, pkt->proto);
	if (fd < 0) {
		attempt_skip(h, t, "tunnel: packet socket", -fd);
		return;
	}
	p->ev.fd = fd;
	if (udp) {
		pkt->payload = t->eff.udp_send;
		pkt->payload_len = strlen(t->eff.udp_send);
	} else {
		pkt->tcp_flags = XLB_PROBE_SYN;
		pkt->seq = (uint32_t)rng_next(h);
	}
	ret = tunnel_send(t, pkt);
	if (ret && tunnel_local_err(-ret)) {
		attempt_skip(h, t, "tunnel: send", -ret);
		return;
	}
	if (ret) {
		attempt_fail(h, t, "tunnel: send: %s", strerror(-ret));
		return;
	}
	t->phase = udp ? HC_RECEIVING : HC_CONNECTING;
	ret = probe_watch(h, p, EPOLLIN);
	if (ret)
		attempt_skip(h, t, "epoll", -ret);
}

/* Move the attempt in flight on with whatever its socket has for it. */
static void attempt_poll(struct xlb_health *h, struct hc_target *t)
{
	if (t->way == HC_TUNNEL) {
		if (t->phase == HC_IDLE)
			return;
		if (t->eff.type == XLB_CHECK_UDP)
			tunnel_udp_recv(h, t);
		else
			tunnel_tcp_recv(h, t);
		return;
	}
	switch (t->phase) {
	case HC_CONNECTING:
		on_connected(h, t);
		break;
	case HC_SENDING:
		http_send(h, t);
		break;
	case HC_RECEIVING:
		if (t->eff.type == XLB_CHECK_UDP)
			udp_recv(h, t);
		else
			http_recv(h, t);
		break;
	case HC_IDLE:
		break;
	}
}

/* Handler of every probe socket. */
static void on_probe(struct xlb_event *ev, uint32_t events)
{
	struct hc_probe *p = container_of(ev, struct hc_probe, ev);
	struct xlb_health *h = p->h;
	struct hc_target *t = p->t;

	if (!t || t->probe != p)
		return;
	attempt_poll(h, t);
	rearm(h);
}

/* UDP: send the payload on the connected socket, wait for a reply. */
static void udp_start(struct xlb_health *h, struct hc_target *t)
{
	struct hc_probe *p = t->probe;
	ssize_t n;
	int ret;

	do
		n = send(p->ev.fd, t->eff.udp_send, strlen(t->eff.udp_send), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && local_errno(errno)) {
		attempt_skip(h, t, "send", errno);
		return;
	}
	if (n < 0) {
		attempt_fail(h, t, "UDP: %s", strerror(errno));
		return;
	}
	t->phase = HC_RECEIVING;
	ret = probe_watch(h, p, EPOLLIN);
	if (ret)
		attempt_skip(h, t, "epoll", -ret);
}

/* Start an attempt now; the next one is due one interval after this. */
static void attempt_start(struct xlb_health *h, struct hc_target *t,
			  uint64_t now)
{
	uint64_t interval = t->eff.interval_ms * NSEC_PER_MSEC;
	bool udp = t->eff.type == XLB_CHECK_UDP;
	static const struct linger rst = {.l_onoff = 1, .l_linger = 0};
	struct hc_probe *p;
	int fd, ret;

	/* Keep the cadence, but do not try to catch up a stalled loop. */
	t->next_start += interval;
	if (t->next_start <= now)
		t->next_start = now + interval;
	t->started = now;
	p = probe_get(h, t);
	if (!p) {
		attempt_skip(h, t, "probe", ENOMEM);
		return;
	}
	t->probe = p;
	/* The timeout first: every way out below resets the deadline. */
	set_deadline(h, t, now + t->eff.timeout_ms * NSEC_PER_MSEC);
	if (t->way == HC_TUNNEL) {
		tunnel_start(h, t);
		return;
	}
	fd = socket(t->eff.addr.family,
		    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
			    SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		attempt_skip(h, t, "socket", errno);
		return;
	}
	p->ev.fd = fd;
	/* Close with a reset: no TIME_WAIT left on the balancer for every
	 * check it makes. */
	if (!udp)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	/* FULLNAT: from the local address, as the data plane sends. */
	if (t->way == HC_LOCAL) {
		struct sockaddr_storage ls;
		socklen_t ll = ip_sockaddr(&t->laddr, 0, &ls);

		if (bind(fd, (struct sockaddr *)&ls, ll)) {
			attempt_skip(h, t, "bind to the local address", errno);
			return;
		}
	}
	ret = connect(fd, (struct sockaddr *)&t->sa, t->sa_len);
	if (ret && errno != EINPROGRESS) {
		if (local_errno(errno))
			attempt_skip(h, t, "connect", errno);
		else
			attempt_fail(h, t, udp ? "UDP: %s" : "connect: %s",
				     strerror(errno));
		return;
	}
	if (udp) {
		udp_start(h, t);
		return;
	}
	if (!ret) {
		if (t->eff.type == XLB_CHECK_HTTP)
			http_start(h, t);
		else
			attempt_done(h, t, true, "connected");
		return;
	}
	t->phase = HC_CONNECTING;
	ret = probe_watch(h, p, EPOLLOUT);
	if (ret)
		attempt_skip(h, t, "epoll", -ret);
}

/* The attempt in flight ran out of time. */
static void attempt_timeout(struct xlb_health *h, struct hc_target *t)
{
	uint32_t ms = t->eff.timeout_ms;

	if (t->way == HC_TUNNEL && t->eff.type == XLB_CHECK_UDP)
		attempt_fail(h, t,
			     "no UDP reply through the tunnel within %u ms",
			     ms);
	else if (t->way == HC_TUNNEL)
		attempt_fail(h, t,
			     "timeout after %u ms (no SYN-ACK through the "
			     "tunnel)",
			     ms);
	else if (t->eff.type == XLB_CHECK_UDP)
		attempt_fail(h, t, "no UDP reply within %u ms", ms);
	else if (t->phase == HC_CONNECTING)
		attempt_fail(h, t, "timeout after %u ms (connect)", ms);
	else if (t->phase == HC_SENDING)
		attempt_fail(h, t, "timeout after %u ms (HTTP request)", ms);
	else
		attempt_fail(h, t, "timeout after %u ms (HTTP status line)",
			     ms);
}

/* The timerfd fired: start what is due, time out what is late. */
static void on_timer(struct xlb_event *ev, uint32_t events)
{
	struct xlb_health *h = container_of(ev, struct xlb_health, timer);
	struct hc_target *t;
	uint64_t expirations, now;

	if (read(ev->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno == EAGAIN)
		return;
	h->armed = 0;
	now = now_ns();
	/* Every step below moves t's deadline past now. */
	while (h->heap_n && h->heap[0]->deadline <= now) {
		t = h->heap[0];
		if (t->phase == HC_IDLE) {
			attempt_start(h, t, now);
			continue;
		}
		/* The answer may be waiting in the same epoll batch as the
		 * timer (a busy loop): read it before calling it late. */
		attempt_poll(h, t);
		if (t->phase != HC_IDLE)
			attempt_timeout(h, t);
	}
	rearm(h);
}

int xlb_health_new(int epfd, xlb_health_cb cb, void *arg,
		   struct xlb_health **out)
{
	struct xlb_health *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	h->epfd = epfd;
	h->cb = cb;
	h->arg = arg;
	h->rng = now_ns() ^ (uint64_t)(uintptr_t)h;
	if (!h->rng)
		h->rng = 1;
	h->timer.handler = on_timer;
	h->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->timer.fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = xlb_loop_add(epfd, &h->timer, EPOLLIN);
	if (ret)
		goto out_close;
	*out = h;
	return 0;

out_close:
	close(h->timer.fd);
out_free:
	free(h);
	return ret;
}

void xlb_health_free(struct xlb_health *h)
{
	struct hc_probe *p, *next;
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		attempt_cancel(h, h->tv[i]);
		free(h->tv[i]);
	}
	for (p = h->probes; p; p = next) {
		next = p->all;
		free(p);
	}
	xlb_loop_del(h->epfd, &h->timer);
	close(h->timer.fd);
	free(h->tv);
	free(h->heap);
	free(h);
}

/* Where the check of a target connects to. */
static void target_sockaddr(struct hc_target *t)
{
	t->sa_len = ip_sockaddr(&t->eff.addr, t->eff.port, &t->sa);
}

/*
 * Give a target a (new) effective check and schedule its first attempt
 * somewhere in its first interval. Its up/down state is kept; its runs
 * of successes and failures start again.
 */
static void target_set_check(struct xlb_health *h, struct hc_target *t,
			     const struct xlb_check_spec *eff,
			     const struct hc_target *path, uint64_t now)
{
	attempt_cancel(h, t);
	t->eff = *eff;
	t->way = path->way;
	t->tun_src = path->tun_src;
	t->tun_plen = path->tun_plen;
	t->gue_port = path->gue_port;
	t->laddr = path->laddr;
	t->st.type = eff->type;
	t->st.addr = eff->addr;
	t->st.port = eff->port;
	t->st.through = way_names[t->way];
	memset(&t->st.src, 0, sizeof(t->st.src));
	if (t->way == HC_LOCAL)
		t->st.src = t->laddr;
	t->st.successes_in_row = 0;
	t->st.failures_in_row = 0;
	if (eff->type == XLB_CHECK_NONE) {
		memset(&t->sa, 0, sizeof(t->sa));
		t->sa_len = 0;
		if (!t->st.up) {
			t->st.up = true;
			t->st.transitions++;
			t->report_up = true;
		}
		return;
	}
	target_sockaddr(t);
	t->next_start = now + rng_next(h) % (eff->interval_ms * NSEC_PER_MSEC);
	/* attempt_start() adds an interval to next_start. */
	t->deadline = t->next_start;
	t->next_start -= eff->interval_ms * NSEC_PER_MSEC;
}

/*
 * The way a check of x travels (into path's way, tun_src, tun_plen and
 * laddr): through the VIP's data path unless the check is direct or the
 * data path is not known (no tunnel source or local address of the
 * real's family).
 */
static void target_path(const struct xlb_health_target *x,
			const struct xlb_check_spec *e, struct hc_target *path)
{
	memset(path, 0, sizeof(*path));
	path->way = HC_DIRECT;
	if (e->type == XLB_CHECK_NONE || e->through == XLB_CHECK_PATH_DIRECT)
		return;
	if (x->mode == XLB_MODE_TUNNEL && x->tun_src.family == x->real.family) {
		path->way = HC_TUNNEL;
		path->tun_src = x->tun_src;
		path->tun_plen = x->tun_plen;
		path->gue_port = x->gue_port;
	} else if (x->mode == XLB_MODE_FULLNAT &&
		   x->laddr.family == x->real.family) {
		path->way = HC_LOCAL;
		path->laddr = x->laddr;
	}
}

/* Whether two targets' checks travel the same way. */
static bool path_equal(const struct hc_target *a, const struct hc_target *b)
{
	return a->way == b->way && xlb_ip_equal(&a->tun_src, &b->tun_src) &&
	       a->tun_plen == b->tun_plen && a->gue_port == b->gue_port &&
	       xlb_ip_equal(&a->laddr, &b->laddr);
}

/* qsort() order of pointers to input targets: by identity. */
static int input_cmp(const void *x, const void *y)
{
	const struct xlb_health_target *a =
		*(const struct xlb_health_target *const *)x;
	const struct xlb_health_target *b =
		*(const struct xlb_health_target *const *)y;

	return key_cmp(&a->svc, &a->real, &b->svc, &b->real);
}

/* Validate the input: effective specs into eff, sorted order into ord. */
static int sync_prepare(const struct xlb_health_target *in, size_t n,
			struct xlb_check_spec *eff,
			const struct xlb_health_target **ord)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if ((in[i].svc.ip.family != AF_INET &&
		     in[i].svc.ip.family != AF_INET6) ||
		    (in[i].real.family != AF_INET &&
		     in[i].real.family != AF_INET6))
			return -EINVAL;
		ret = xlb_check_effective(&in[i].check, &in[i].svc, &in[i].real,
					  &eff[i], NULL, 0);
		if (ret)
			return ret;
		ord[i] = &in[i];
	}
	qsort(ord, n, sizeof(*ord), input_cmp);
	for (i = 1; i < n; i++)
		if (!input_cmp(&ord[i - 1], &ord[i]))
			return -EINVAL;
	return 0;
}

int xlb_health_sync(struct xlb_health *h, const struct xlb_health_target *in,
		    size_t n)
{
	struct hc_target **tv = NULL, **heap = NULL, *t;
	const struct xlb_health_target **ord = NULL;
	struct xlb_check_spec *eff = NULL;
	size_t i, j, k;
	uint64_t now = now_ns();
	int ret, r;

	if (h->in_cb)
		return -EBUSY;
	if (n && !in)
		return -EINVAL;
	eff = calloc(n ? n : 1, sizeof(*eff));
	ord = calloc(n ? n : 1, sizeof(*ord));
	tv = calloc(n ? n : 1, sizeof(*tv));
	heap = calloc(n ? n : 1, sizeof(*heap));
	if (!eff || !ord || !tv || !heap) {
		ret = -ENOMEM;
		goto out;
	}
	ret = sync_prepare(in, n, eff, ord);
	if (ret)
		goto out;

	/* Merge the sorted input with the sorted targets: every new
	 * target is allocated before anything changes. */
	for (i = 0, j = 0; i < n; i++) {
		const struct xlb_health_target *x = ord[i];

		r = 1;
		while (j < h->n && (r = key_cmp(&h->tv[j]->svc, &h->tv[j]->real,
						&x->svc, &x->real)) < 0)
			j++;
		if (j < h->n && !r) {
			tv[i] = h->tv[j++];
			tv[i]->keep = true;
			continue;
		}
		t = calloc(1, sizeof(*t));
		if (!t) {
			ret = -ENOMEM;
			goto out_new;
		}
		t->svc = x->svc;
		t->real = x->real;
		t->heap_idx = HC_NOT_QUEUED;
		t->st.up = true;
		t->fresh = true;
		tv[i] = t;
	}

	/* Commit: nothing fails from here on. */
	for (j = 0; j < h->n; j++) {
		if (h->tv[j]->keep)
			continue;
		attempt_cancel(h, h->tv[j]);
		free(h->tv[j]);
	}
	h->heap_n = 0;
	for (i = 0; i < n; i++) {
		const struct xlb_check_spec *e = &eff[ord[i] - in];
		struct hc_target path;

		t = tv[i];
		t->heap_idx = HC_NOT_QUEUED;
		target_path(ord[i], e, &path);
		if (t->fresh || !spec_equal(&t->eff, e) ||
		    !path_equal(t, &path))
			target_set_check(h, t, e, &path, now);
		t->fresh = false;
		t->keep = false;
		if (t->eff.type == XLB_CHECK_NONE)
			continue;
		t->heap_idx = h->heap_n;
		heap[h->heap_n++] = t;
	}
	free(h->tv);
	free(h->heap);
	h->tv = tv;
	h->heap = heap;
	h->n = n;
	for (k = h->heap_n / 2; k-- > 0;)
		heap_down(h, k);
	rearm(h);
	for (i = 0; i < n; i++) {
		if (!tv[i]->report_up)
			continue;
		tv[i]->report_up = false;
		report(h, tv[i], "health check removed");
	}
	free(eff);
	free(ord);
	return 0;

out_new:
	for (i = 0; i < n && tv[i]; i++) {
		if (tv[i]->fresh)
			free(tv[i]);
		else
			tv[i]->keep = false;
	}
out:
	free(eff);
	free(ord);
	free(tv);
	free(heap);
	return ret;
}

/* The target with this identity, or NULL. */
static struct hc_target *target_find(struct xlb_health *h,
				     const struct xlb_service *svc,
				     const struct xlb_ip *real)
{
	size_t lo = 0, hi = h->n, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = key_cmp(&h->tv[mid]->svc, &h->tv[mid]->real, svc, real);
		if (!r)
			return h->tv[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int xlb_health_get(struct xlb_health *h, const struct xlb_service *svc,
		   const struct xlb_ip *real, struct xlb_health_status *out)
{
	struct hc_target *t = target_find(h, svc, real);

	if (!t)
		return -ENOENT;
	*out = t->st;
	return 0;
}
