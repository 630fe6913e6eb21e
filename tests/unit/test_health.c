// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of health.c: the checker runs in a real epoll loop in the
 * test's main thread, against real servers on 127.0.0.1 that the test
 * runs in a thread of its own (a TCP listener, an HTTP responder with a
 * chosen answer, a UDP responder), and that it stops, restarts and
 * changes while the checks run. Intervals are 50..200 ms, so every
 * detection time is asserted against fall x interval + timeout.
 *
 * Everything a test creates (sockets, the server thread) belongs to the
 * test's own process, which criterion ends after each test: nothing is
 * left behind when an assertion fails.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "health.h"
#include "loop.h"

/* How late a detection may be beyond fall x interval + timeout. */
#define SLACK_MS 150

/* Milliseconds on the monotonic clock. */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Servers -------------------------------------------------------------- */

enum srv_mode {
	SRV_TCP_CLOSE,	 /* accept and close at once */
	SRV_HTTP,	 /* read a request, send `response`, close */
	SRV_HTTP_SILENT, /* read a request, never answer */
	SRV_UDP,	 /* answer each datagram with `response` ("" echo) */
	SRV_UDP_SILENT,	 /* read datagrams, never answer */
};

struct srv_conf {
	bool running; /* listening (bound for UDP); stopped: refused */
	enum srv_mode mode;
	char response[128];
};

#define SRV_MAX_CONNS 32

struct srv_conn {
	int fd;
	size_t len;
	char buf[512];
};

struct server {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int cmd_fd; /* eventfd: "look at conf" */
	bool udp;
	uint16_t port;
	/* Under lock: what the test asks for, and what the server saw. */
	struct srv_conf conf;
	unsigned long asked, done;
	int error; /* of the last command, -errno */
	bool quit;
	unsigned int requests; /* HTTP requests or datagrams received */
	char last_request[512];
	/* The server thread's own. */
	int fd;
	struct srv_conn conns[SRV_MAX_CONNS];
};

/* Close every connection the server holds. */
static void srv_close_conns(struct server *s)
{
	size_t i;

	for (i = 0; i < SRV_MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			close(s->conns[i].fd);
		s->conns[i].fd = -1;
	}
}

/* Open the listening (or bound UDP) socket on s->port (0: any). */
static int srv_open(struct server *s)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int one = 1, fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(s->port);
	fd = socket(AF_INET, (s->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    (!s->udp && listen(fd, 64)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	s->port = ntohs(sin.sin_port);
	s->fd = fd;
	return 0;
}

/* Apply a configuration in the server thread. */
static int srv_apply(struct server *s, const struct srv_conf *conf)
{
	if (!conf->running) {
		srv_close_conns(s);
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return 0;
	}
	if (s->fd >= 0)
		return 0;
	return srv_open(s);
}

/* Record a request (or datagram) for the test to look at. */
static void srv_record(struct server *s, const char *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	s->requests++;
	if (len >= sizeof(s->last_request))
		len = sizeof(s->last_request) - 1;
	memcpy(s->last_request, buf, len);
	s->last_request[len] = '\0';
	pthread_mutex_unlock(&s->lock);
}

/* A new TCP connection: close it, or keep it to read a request. */
static void srv_accept(struct server *s, const struct srv_conf *conf)
{
	int fd = accept(s->fd, NULL, NULL);
	size_t i;

	if (fd < 0)
		return;
	if (conf->mode == SRV_TCP_CLOSE) {
		close(fd);
		return;
	}
	for (i = 0; i < SRV_MAX_CONNS; i++) {
		if (s->conns[i].fd < 0) {
			s->conns[i].fd = fd;
			s->conns[i].len = 0;
			return;
		}
	}
	close(fd);
}

/* Data on a connection: once the request is whole, answer it (or not). */
static void srv_read(struct server *s, struct srv_conn *c,
		     const struct srv_conf *conf)
{
	ssize_t n;

	if (c->len == sizeof(c->buf) - 1)
		c->len = 0; /* a silent server just keeps reading */
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (!strstr(c->buf, "\r\n\r\n"))
		return;
	srv_record(s, c->buf, c->len);
	c->len = 0;
	if (conf->mode == SRV_HTTP_SILENT)
		return;
	if (write(c->fd, conf->response, strlen(conf->response)) < 0)
		perror("server write");
	close(c->fd);
	c->fd = -1;
}

/* A datagram: record it and answer it as configured. */
static void srv_datagram(struct server *s, const struct srv_conf *conf)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	const char *out;
	char buf[512];
	ssize_t n;

	n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		     &flen);
	if (n < 0)
		return;
	srv_record(s, buf, (size_t)n);
	if (conf->mode == SRV_UDP_SILENT)
		return;
	out = conf->response[0] ? conf->response : buf;
	if (sendto(s->fd, out, conf->response[0] ? strlen(out) : (size_t)n, 0,
		   (struct sockaddr *)&from, flen) < 0)
		perror("server sendto");
}

/* The server thread: one poll() over the command fd, socket, conns. */
static void *srv_main(void *arg)
{
	struct pollfd pfd[2 + SRV_MAX_CONNS];
	struct server *s = arg;
	struct srv_conf conf = {};
	unsigned long asked;
	uint64_t v;
	size_t i;
	bool quit;

	for (;;) {
		pfd[0] = (struct pollfd){.fd = s->cmd_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = s->fd, .events = POLLIN};
		for (i = 0; i < SRV_MAX_CONNS; i++)
			pfd[2 + i] = (struct pollfd){.fd = s->conns[i].fd,
						     .events = POLLIN};
		if (poll(pfd, 2 + SRV_MAX_CONNS, -1) < 0)
			continue;
		if (pfd[0].revents) {
			if (read(s->cmd_fd, &v, sizeof(v)) < 0)
				continue;
			pthread_mutex_lock(&s->lock);
			conf = s->conf;
			asked = s->asked;
			quit = s->quit;
			pthread_mutex_unlock(&s->lock);
			if (quit)
				conf.running = false;
			i = (size_t)srv_apply(s, &conf);
			pthread_mutex_lock(&s->lock);
			s->error = (int)i;
			s->done = asked;
			pthread_cond_broadcast(&s->cond);
			pthread_mutex_unlock(&s->lock);
			if (quit)
				return NULL;
			continue;
		}
		if (s->fd >= 0 && pfd[1].revents) {
			if (s->udp)
				srv_datagram(s, &conf);
			else
				srv_accept(s, &conf);
		}
		for (i = 0; i < SRV_MAX_CONNS; i++)
			if (s->conns[i].fd >= 0 && pfd[2 + i].revents)
				srv_read(s, &s->conns[i], &conf);
	}
}

/* Ask the server thread for a configuration; wait until it holds. */
static void server_set(struct server *s, const struct srv_conf *conf)
{
	uint64_t one = 1;
	unsigned long seq;
	int err;

	pthread_mutex_lock(&s->lock);
	s->conf = *conf;
	seq = ++s->asked;
	pthread_mutex_unlock(&s->lock);
	cr_assert_eq(write(s->cmd_fd, &one, sizeof(one)), sizeof(one),
		     "server command: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	while (s->done < seq)
		pthread_cond_wait(&s->cond, &s->lock);
	err = s->error;
	pthread_mutex_unlock(&s->lock);
	cr_assert_eq(err, 0, "server: %s", strerror(-err));
}

/* Stop (closed port) or restart a server, keeping its mode. */
static void server_run(struct server *s, bool running)
{
	struct srv_conf conf;

	pthread_mutex_lock(&s->lock);
	conf = s->conf;
	pthread_mutex_unlock(&s->lock);
	conf.running = running;
	server_set(s, &conf);
}

/* Change what a running server answers. */
static void server_mode(struct server *s, enum srv_mode mode,
			const char *response)
{
	struct srv_conf conf = {.running = true, .mode = mode};

	snprintf(conf.response, sizeof(conf.response), "%s", response);
	server_set(s, &conf);
}

/* Start a server thread on a free port of 127.0.0.1. */
static struct server *server_start(bool udp, enum srv_mode mode,
				   const char *response)
{
	struct server *s = calloc(1, sizeof(*s));
	size_t i;

	cr_assert_not_null(s);
	s->udp = udp;
	s->fd = -1;
	for (i = 0; i < SRV_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->cmd_fd = eventfd(0, EFD_CLOEXEC);
	cr_assert_geq(s->cmd_fd, 0);
	cr_assert_eq(pthread_create(&s->thread, NULL, srv_main, s), 0);
	server_mode(s, mode, response);
	cr_assert_neq(s->port, 0);
	return s;
}

/* Stop the server thread and free it. */
static void server_free(struct server *s)
{
	struct srv_conf conf = {};

	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_mutex_unlock(&s->lock);
	server_set(s, &conf);
	pthread_join(s->thread, NULL);
	close(s->cmd_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/* What the server received last, and how many requests in all. */
static unsigned int server_seen(struct server *s, char *buf, size_t len)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	if (buf)
		snprintf(buf, len, "%s", s->last_request);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* A port of 127.0.0.1 that nothing listens on (bound, then closed). */
static uint16_t closed_port(bool udp)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* The checker in its loop -------------------------------------------- */

struct transition {
	struct xlb_ip real;
	bool up;
	char reason[XLB_HEALTH_REASON_LEN];
	double at; /* ms */
};

struct ctx {
	int epfd;
	struct xlb_health *h;
	struct transition tr[64];
	size_t n_tr;
	int sync_in_cb; /* what xlb_health_sync() returned in the callback */
};

/* The callback: record every transition. */
static void on_change(void *arg, const struct xlb_service *svc,
		      const struct xlb_ip *real, bool up, const char *reason)
{
	struct ctx *c = arg;
	struct transition *t;

	c->sync_in_cb = xlb_health_sync(c->h, NULL, 0);
	cr_assert_lt(c->n_tr, sizeof(c->tr) / sizeof(c->tr[0]));
	t = &c->tr[c->n_tr++];
	t->real = *real;
	t->up = up;
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	t->at = now_ms();
}

/* An epoll set and a checker reporting into c. */
static void ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(c->epfd, 0);
	cr_assert_eq(xlb_health_new(c->epfd, on_change, c, &c->h), 0);
}

static void ctx_fini(struct ctx *c)
{
	xlb_health_free(c->h);
	close(c->epfd);
}

/*
 * Run the loop for up to ms milliseconds, or until n transitions have
 * been seen (n 0: the whole time). Returns the number seen.
 */
static size_t run(struct ctx *c, double ms, size_t n)
{
	struct epoll_event evs[16];
	double end = now_ms() + ms, left;
	int i, k;

	while ((!n || c->n_tr < n) && (left = end - now_ms()) > 0) {
		k = epoll_wait(c->epfd, evs, 16, (int)left + 1);
		cr_assert(k >= 0 || errno == EINTR, "epoll_wait: %s",
			  strerror(errno));
		for (i = 0; i < k; i++) {
			struct xlb_event *ev = evs[i].data.ptr;

			ev->handler(ev, evs[i].events);
		}
	}
	return c->n_tr;
}

/* A target of VIP 10.0.0.1:80/tcp, real `real`, checked on 127.0.0.1. */
static void target(struct xlb_health_target *t, const char *real,
		   enum xlb_check_type type, uint16_t port,
		   uint32_t interval_ms, uint32_t timeout_ms, uint32_t rise,
		   uint32_t fall)
{
	memset(t, 0, sizeof(*t));
	cr_assert_eq(xlb_service_parse("10.0.0.1:80/tcp", &t->svc), 0);
	cr_assert_eq(xlb_ip_parse(real, &t->real), 0);
	cr_assert_eq(xlb_ip_parse("127.0.0.1", &t->check.addr), 0);
	t->check.type = type;
	t->check.port = port;
	t->check.interval_ms = interval_ms;
	t->check.timeout_ms = timeout_ms;
	t->check.rise = rise;
	t->check.fall = fall;
}

/* The status of a target, which must exist. */
static struct xlb_health_status status(struct ctx *c,
				       const struct xlb_health_target *t)
{
	struct xlb_health_status st;

	cr_assert_eq(xlb_health_get(c->h, &t->svc, &t->real, &st), 0);
	return st;
}

/*
 * Run the loop until the last result of a target reads `reason` (a
 * check that a busy machine delays may still time out first).
 */
static bool wait_reason(struct ctx *c, const struct xlb_health_target *t,
			const char *reason, double ms)
{
	double end = now_ms() + ms;

	while (strcmp(status(c, t).last_reason, reason)) {
		if (now_ms() > end)
			return false;
		run(c, 10, 0);
	}
	return true;
}

/* The local port of a socket, 0 if fd is not an IPv4 socket. */
static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) ||
	    sin.sin_family != AF_INET)
		return 0;
	return ntohs(sin.sin_port);
}

/*
 * Open descriptors of this process, leaving out the server side of
 * server port `port` (the server thread opens and closes those).
 */
static int count_fds(uint16_t port)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0, fd;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		/* Skip the directory, what the server thread closed since
		 * readdir() and the server side of the server's port. */
		if (fd == dirfd(d) || fcntl(fd, F_GETFD) < 0 ||
		    (port && local_port(fd) == port))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/*
 * Assert a detection time: at most count x interval + timeout + slack,
 * and at least what `count` results in a row need, (count - 1) x
 * interval, less one timeout for an attempt already in flight.
 */
static void expect_detection(const char *what, double ms, uint32_t count,
			     uint32_t interval, uint32_t timeout)
{
	double max = count * interval + timeout + SLACK_MS;
	double min = (count - 1) * interval - timeout - 5.0;

	fprintf(stderr, "health: %s detected in %.0f ms (bound %.0f ms)\n",
		what, ms, max - SLACK_MS);
	cr_expect_leq(ms, max, "%s: %.0f ms > %.0f ms", what, ms, max);
	cr_expect_geq(ms, min, "%s: %.0f ms < %.0f ms: too early", what, ms,
		      min);
}

/* Specs and defaults --------------------------------------------------- */

Test(health, effective_defaults)
{
	struct xlb_check_spec in = {}, out;
	struct xlb_service svc;
	struct xlb_ip real;
	char err[XLB_ERR_LEN] = "";

	cr_assert_eq(xlb_service_parse("10.0.0.1:80/tcp", &svc), 0);
	cr_assert_eq(xlb_ip_parse("10.1.0.2", &real), 0);
	in.type = XLB_CHECK_TCP;
	cr_assert_eq(
		xlb_check_effective(&in, &svc, &real, &out, err, sizeof(err)),
		0, "%s", err);
	cr_expect_eq(out.interval_ms, 2000);
	cr_expect_eq(out.timeout_ms, 1000);
	cr_expect_eq(out.rise, 2);
	cr_expect_eq(out.fall, 3);
	cr_expect(xlb_ip_equal(&out.addr, &real));
	cr_expect_eq(out.port, 80);

	/* A short interval halves the default timeout. */
	in.interval_ms = 500;
	cr_assert_eq(xlb_check_effective(&in, &svc, &real, &out, NULL, 0), 0);
	cr_expect_eq(out.timeout_ms, 250);

	in.type = XLB_CHECK_HTTP;
	cr_assert_eq(xlb_check_effective(&in, &svc, &real, &out, NULL, 0), 0);
	cr_expect_str_eq(out.http_path, "/");
	cr_expect_str_eq(out.http_host, "10.1.0.2");
	cr_expect_eq(out.n_http_codes, 1);
	cr_expect_eq(out.http_codes[0], 200);

	/* IPv6 in brackets; a port other than 80 is part of Host. */
	cr_assert_eq(xlb_ip_parse("2001:db8::2", &real), 0);
	in.port = 8080;
	cr_assert_eq(xlb_check_effective(&in, &svc, &real, &out, NULL, 0), 0);
	cr_expect_str_eq(out.http_host, "[2001:db8::2]:8080");
	cr_expect_eq(out.port, 8080);

	/* An explicit address and host win; none has nothing to check. */
	cr_assert_eq(xlb_ip_parse("192.0.2.9", &in.addr), 0);
	strcpy(in.http_host, "www.example.com");
	cr_assert_eq(xlb_check_effective(&in, &svc, &real, &out, NULL, 0), 0);
	cr_expect_str_eq(out.http_host, "www.example.com");
	cr_expect_eq(out.addr.family, AF_INET);
	in.type = XLB_CHECK_NONE;
	cr_assert_eq(xlb_check_effective(&in, &svc, &real, &out, NULL, 0), 0);
	cr_expect_eq(out.type, XLB_CHECK_NONE);
	cr_expect_eq(out.interval_ms, 0);

	cr_expect_str_eq(xlb_health_type_str(XLB_CHECK_HTTP), "http");
	cr_expect_str_eq(xlb_health_type_str((enum xlb_check_type)9),
			 "unknown");
}

struct spec_error {
	const char *desc;
	void (*set)(struct xlb_check_spec *s);
	const char *reason;
};

static void bad_timeout(struct xlb_check_spec *s)
{
	s->interval_ms = 1000;
	s->timeout_ms = 1000;
}

static void bad_default_timeout(struct xlb_check_spec *s)
{
	s->timeout_ms = 2000; /* interval: the default 2000 */
}

static void bad_interval(struct xlb_check_spec *s)
{
	s->interval_ms = 5;
}

static void bad_rise(struct xlb_check_spec *s)
{
	s->rise = 101;
}

static void bad_fall(struct xlb_check_spec *s)
{
	s->fall = 1000;
}

static void bad_path(struct xlb_check_spec *s)
{
	strcpy(s->http_path, "health");
}

static void bad_path_space(struct xlb_check_spec *s)
{
	strcpy(s->http_path, "/a b");
}

static void bad_host(struct xlb_check_spec *s)
{
	strcpy(s->http_host, "a\r\nX-Evil: 1");
}

static void bad_code(struct xlb_check_spec *s)
{
	s->http_codes[0] = 99;
	s->n_http_codes = 1;
}

static void bad_n_codes(struct xlb_check_spec *s)
{
	s->n_http_codes = XLB_CHECK_MAX_CODES + 1;
}

static void bad_type(struct xlb_check_spec *s)
{
	s->type = (enum xlb_check_type)7;
}

static void bad_unterminated(struct xlb_check_spec *s)
{
	memset(s->http_path, '/', sizeof(s->http_path));
}

static const struct spec_error spec_errors[] = {
	{"timeout = interval", bad_timeout,
	 "timeout 1000 ms is not shorter than the interval 1000 ms"},
	{"timeout = default interval", bad_default_timeout,
	 "not shorter than the interval 2000 ms"},
	{"interval too short", bad_interval,
	 "interval: 5 is out of range 10..3600000 ms"},
	{"rise too large", bad_rise, "rise: 101 is out of range 1..100"},
	{"fall too large", bad_fall, "fall: 1000 is out of range"},
	{"relative path", bad_path, "does not start with '/'"},
	{"path with a space", bad_path_space, "spaces or control"},
	{"host with CRLF", bad_host, "HTTP host contains spaces"},
	{"status code 99", bad_code, "HTTP status code 99 is out of range"},
	{"nine codes", bad_n_codes, "more than 8 HTTP status codes"},
	{"unknown type", bad_type, "type: unknown value 7"},
	{"path not terminated", bad_unterminated, "too long"},
};

Test(health, effective_errors)
{
	struct xlb_check_spec in, out;
	struct xlb_service svc, any;
	char err[XLB_ERR_LEN];
	struct xlb_ip real;
	size_t i;

	cr_assert_eq(xlb_service_parse("10.0.0.1:80/tcp", &svc), 0);
	cr_assert_eq(xlb_service_parse("10.0.0.1/tcp", &any), 0);
	cr_assert_eq(xlb_ip_parse("10.1.0.2", &real), 0);
	for (i = 0; i < sizeof(spec_errors) / sizeof(spec_errors[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.type = XLB_CHECK_HTTP;
		spec_errors[i].set(&in);
		err[0] = '\0';
		cr_expect_eq(xlb_check_effective(&in, &svc, &real, &out, err,
						 sizeof(err)),
			     -EINVAL, "%s", spec_errors[i].desc);
		cr_expect(strstr(err, spec_errors[i].reason),
			  "%s: expected \"%s\" in \"%s\"", spec_errors[i].desc,
			  spec_errors[i].reason, err);
	}
	/* An any-port VIP: the check needs its own port. */
	memset(&in, 0, sizeof(in));
	in.type = XLB_CHECK_TCP;
	cr_expect_eq(
		xlb_check_effective(&in, &any, &real, &out, err, sizeof(err)),
		-EINVAL);
	cr_expect(strstr(err, "needs a port"), "%s", err);
	in.port = 8080;
	cr_expect_eq(xlb_check_effective(&in, &any, &real, &out, NULL, 0), 0);
	cr_expect_eq(out.port, 8080);
}

/* TCP -------------------------------------------------------------------- */

Test(health, tcp_down_then_up, .timeout = 20)
{
	struct server *srv = server_start(false, SRV_TCP_CLOSE, "");
	struct xlb_health_target t;
	struct xlb_health_status st;
	struct ctx c;
	double t0;

	ctx_init(&c);
	target(&t, "10.1.0.2", XLB_CHECK_TCP, srv->port, 100, 50, 2, 3);
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	st = status(&c, &t);
	cr_expect(st.up, "a new target starts up");
	cr_expect_eq(st.checks, 0);

	/* Healthy: checks run, no transition. */
	cr_expect_eq(run(&c, 450, 0), 0);
	st = status(&c, &t);
	cr_expect(st.up);
	cr_expect_geq(st.checks, 3);
	cr_expect_leq(st.checks, 5);
	cr_expect_eq(st.failures, 0);
	cr_expect(st.last_ok);
	cr_expect_str_eq(st.last_reason, "connected");
	cr_expect_eq(st.type, XLB_CHECK_TCP);
	cr_expect_eq(st.port, srv->port);

	/* The server goes away: down after exactly `fall` failures. */
	server_run(srv, false);
	t0 = now_ms();
	cr_assert_eq(run(&c, 2000, 1), 1, "no down transition");
	cr_expect_not(c.tr[0].up);
	cr_expect(strstr(c.tr[0].reason, "connect: Connection refused"), "%s",
		  c.tr[0].reason);
	cr_expect(xlb_ip_equal(&c.tr[0].real, &t.real));
	expect_detection("TCP down", c.tr[0].at - t0, 3, 100, 50);
	st = status(&c, &t);
	cr_expect_not(st.up);
	cr_expect_eq(st.failures_in_row, 3);
	cr_expect_eq(st.transitions, 1);

	/* Back: up after `rise` successes. */
	server_run(srv, true);
	t0 = now_ms();
	cr_assert_eq(run(&c, 2000, 2), 2, "no up transition");
	cr_expect(c.tr[1].up);
	cr_expect_str_eq(c.tr[1].reason, "connected");
	expect_detection("TCP up", c.tr[1].at - t0, 2, 100, 50);

	/* And it stays there: one callback per transition. */
	cr_expect_eq(run(&c, 400, 0), 2);
	st = status(&c, &t);
	cr_expect(st.up);
	cr_expect_eq(st.transitions, 2);
	cr_expect_geq(st.successes_in_row, 4);
	cr_expect_eq(c.sync_in_cb, -EBUSY, "sync from the callback");
	ctx_fini(&c);
	server_free(srv);
}

/* A TCP listener on [::1]: the kernel completes handshakes by itself. */
static int listen_ipv6(uint16_t *port)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	socklen_t len = sizeof(sin6);
	int fd;

	sin6.sin6_addr = in6addr_loopback;
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0,
		     "bind [::1]: %s", strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin6, &len), 0);
	*port = ntohs(sin6.sin6_port);
	return fd;
}

Test(health, tcp_ipv6, .timeout = 20)
{
	struct xlb_health_target t;
	struct xlb_health_status st;
	uint16_t port;
	struct ctx c;
	int fd;

	fd = listen_ipv6(&port);
	ctx_init(&c);
	target(&t, "2001:db8:1::2", XLB_CHECK_TCP, port, 50, 25, 2, 2);
	cr_assert_eq(xlb_ip_parse("::1", &t.check.addr), 0);
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_expect_eq(run(&c, 300, 0), 0);
	st = status(&c, &t);
	cr_expect_geq(st.checks, 4);
	cr_expect_eq(st.failures, 0);
	cr_expect_eq(st.addr.family, AF_INET6);
	close(fd);
	cr_assert_eq(run(&c, 1000, 1), 1);
	cr_expect_not(c.tr[0].up);
	cr_expect_str_eq(c.tr[0].reason, "connect: Connection refused");
	ctx_fini(&c);
}

/* HTTP ------------------------------------------------------------------- */

#define HTTP_200 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define HTTP_204 "HTTP/1.0 204 No Content\r\n\r\n"
#define HTTP_503 "HTTP/1.1 503 Service Unavailable\r\n\r\n"

Test(health, http_status_codes, .timeout = 20)
{
	struct server *srv = server_start(false, SRV_HTTP, HTTP_200);
	struct xlb_health_target t;
	struct xlb_health_status st;
	char req[512];
	struct ctx c;
	double t0;

	ctx_init(&c);
	target(&t, "10.1.0.2", XLB_CHECK_HTTP, srv->port, 100, 80, 2, 2);
	strcpy(t.check.http_path, "/healthz?full=1");
	strcpy(t.check.http_host, "svc.example");
	t.check.http_codes[0] = 200;
	t.check.http_codes[1] = 204;
	t.check.n_http_codes = 2;
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_expect_eq(run(&c, 350, 0), 0);
	st = status(&c, &t);
	cr_expect_geq(st.checks, 2);
	cr_expect_eq(st.failures, 0);
	cr_expect_str_eq(st.last_reason, "HTTP status 200");
	/* The request as the server saw it. */
	cr_expect_geq(server_seen(srv, req, sizeof(req)), 2);
	cr_expect(!strncmp(req, "GET /healthz?full=1 HTTP/1.1\r\n", 30), "%s",
		  req);
	cr_expect(strstr(req, "\r\nHost: svc.example\r\n"), "%s", req);
	cr_expect(strstr(req, "\r\nConnection: close\r\n"), "%s", req);

	server_mode(srv, SRV_HTTP, HTTP_503);
	t0 = now_ms();
	cr_assert_eq(run(&c, 2000, 1), 1, "503 did not take it down");
	cr_expect_not(c.tr[0].up);
	cr_expect_str_eq(c.tr[0].reason, "HTTP status 503");
	expect_detection("HTTP 503", c.tr[0].at - t0, 2, 100, 80);
	cr_expect_eq(status(&c, &t).failures_in_row, 2);

	/* 204 is one of the expected codes (and HTTP/1.0 is fine). */
	server_mode(srv, SRV_HTTP, HTTP_204);
	t0 = now_ms();
	cr_assert_eq(run(&c, 2000, 2), 2, "204 did not bring it up");
	cr_expect(c.tr[1].up);
	cr_expect_str_eq(c.tr[1].reason, "HTTP status 204");
	expect_detection("HTTP up", c.tr[1].at - t0, 2, 100, 80);
	cr_expect_eq(run(&c, 300, 0), 2);
	ctx_fini(&c);
	server_free(srv);
}

/* method: HEAD asks for the status without a body. */
Test(health, http_head, .timeout = 20)
{
	struct server *srv = server_start(false, SRV_HTTP, HTTP_200);
	struct xlb_health_target t;
	char req[512];
	struct ctx c;

	ctx_init(&c);
	target(&t, "10.1.0.2", XLB_CHECK_HTTP, srv->port, 100, 80, 2, 2);
	t.check.http_method = XLB_HTTP_HEAD;
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_expect_eq(run(&c, 350, 0), 0);
	cr_expect_str_eq(status(&c, &t).last_reason, "HTTP status 200");
	cr_expect_geq(server_seen(srv, req, sizeof(req)), 2);
	cr_expect(!strncmp(req, "HEAD / HTTP/1.1\r\n", 17), "%s", req);
	ctx_fini(&c);
	server_free(srv);
}

Test(health, http_timeout_and_bad_answers, .timeout = 20)
{
	struct server *srv = server_start(false, SRV_HTTP_SILENT, "");
	struct xlb_health_target t;
	struct xlb_health_status st;
	struct ctx c;
	double t0;

	ctx_init(&c);
	/* Accepts, reads the request, never answers. */
	target(&t, "10.1.0.2", XLB_CHECK_HTTP, srv->port, 150, 60, 1, 2);
	t0 = now_ms();
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_assert_eq(run(&c, 2000, 1), 1, "no timeout");
	cr_expect_not(c.tr[0].up);
	cr_expect_str_eq(c.tr[0].reason,
			 "timeout after 60 ms (HTTP status line)");
	/* The first check starts within one interval of the sync. */
	expect_detection("HTTP timeout", c.tr[0].at - t0, 2, 150, 60);
	st = status(&c, &t);
	cr_expect_geq(st.last_latency_us, 60000);
	cr_expect_lt(st.last_latency_us, (60 + SLACK_MS) * 1000);
	cr_expect_geq(server_seen(srv, NULL, 0), 2, "requests were sent");

	/* Not HTTP at all, then closed before any answer. */
	server_mode(srv, SRV_HTTP, "SSH-2.0-OpenSSH_9.2\r\n");
	cr_expect(wait_reason(&c, &t, "HTTP: not an HTTP status line", 1000),
		  "%s", status(&c, &t).last_reason);
	server_mode(srv, SRV_HTTP, "");
	cr_expect(wait_reason(&c, &t,
			      "HTTP: connection closed before the status line",
			      1000),
		  "%s", status(&c, &t).last_reason);
	/* A status line cut short and then closed is no answer either. */
	server_mode(srv, SRV_HTTP, "HTTP/1.1 20");
	run(&c, 200, 0);
	cr_expect(wait_reason(&c, &t,
			      "HTTP: connection closed before the status line",
			      1000),
		  "%s", status(&c, &t).last_reason);
	cr_expect_eq(c.n_tr, 1, "failures keep it down, no transition");
	/* rise 1: one good answer brings it back. */
	server_mode(srv, SRV_HTTP, "HTTP/1.1 200\r\n\r\n");
	cr_assert_eq(run(&c, 1000, 2), 2);
	cr_expect(c.tr[1].up);
	cr_expect_str_eq(c.tr[1].reason, "HTTP status 200");
	ctx_fini(&c);
	server_free(srv);
}

/* UDP -------------------------------------------------------------------- */

Test(health, udp_reply, .timeout = 20)
{
	struct server *srv = server_start(true, SRV_UDP, "pong from real");
	struct xlb_health_target t;
	struct xlb_health_status st;
	char seen[512];
	struct ctx c;
	double t0;

	ctx_init(&c);
	target(&t, "10.1.0.2", XLB_CHECK_UDP, srv->port, 100, 50, 2, 2);
	strcpy(t.check.udp_send, "ping");
	strcpy(t.check.udp_expect, "pong");
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_expect_eq(run(&c, 350, 0), 0);
	st = status(&c, &t);
	cr_expect_geq(st.checks, 2);
	cr_expect_eq(st.failures, 0);
	cr_expect_str_eq(st.last_reason, "UDP reply");
	cr_expect_geq(server_seen(srv, seen, sizeof(seen)), 2);
	cr_expect_str_eq(seen, "ping");

	/* The wrong reply. */
	server_mode(srv, SRV_UDP, "nope");
	t0 = now_ms();
	cr_assert_eq(run(&c, 2000, 1), 1, "a wrong reply kept it up");
	cr_expect_not(c.tr[0].up);
	cr_expect_str_eq(c.tr[0].reason,
			 "UDP reply does not start with the expected text");
	expect_detection("UDP wrong reply", c.tr[0].at - t0, 2, 100, 50);

	server_mode(srv, SRV_UDP, "pong");
	cr_assert_eq(run(&c, 2000, 2), 2);
	cr_expect(c.tr[1].up);

	/* No reply at all. */
	server_mode(srv, SRV_UDP_SILENT, "");
	t0 = now_ms();
	cr_assert_eq(run(&c, 2000, 3), 3, "silence kept it up");
	cr_expect_str_eq(c.tr[2].reason, "no UDP reply within 50 ms");
	expect_detection("UDP no reply", c.tr[2].at - t0, 2, 100, 50);

	/* A closed port answers with ICMP: the connected socket sees it. */
	server_run(srv, false);
	cr_expect(wait_reason(&c, &t, "UDP: Connection refused", 1000), "%s",
		  status(&c, &t).last_reason);
	cr_expect_eq(c.n_tr, 3);
	ctx_fini(&c);
	server_free(srv);
}

Test(health, udp_refused_and_any_reply, .timeout = 20)
{
	struct server *srv = server_start(true, SRV_UDP, "");
	struct xlb_health_target t[2];
	struct ctx c;
	double t0;

	ctx_init(&c);
	/* Empty expect: any reply (here, the echo of an empty payload). */
	target(&t[0], "10.1.0.2", XLB_CHECK_UDP, srv->port, 100, 50, 2, 2);
	target(&t[1], "10.1.0.3", XLB_CHECK_UDP, closed_port(true), 100, 50, 2,
	       3);
	strcpy(t[1].check.udp_send, "x");
	t0 = now_ms();
	cr_assert_eq(xlb_health_sync(c.h, t, 2), 0);
	cr_assert_eq(run(&c, 2000, 1), 1);
	cr_expect(xlb_ip_equal(&c.tr[0].real, &t[1].real));
	cr_expect_str_eq(c.tr[0].reason, "UDP: Connection refused");
	/* The first check comes within one interval of the sync. */
	expect_detection("UDP refused", c.tr[0].at - t0, 3, 100, 50);
	cr_expect_eq(run(&c, 300, 0), 1);
	cr_expect(status(&c, &t[0]).up);
	cr_expect_str_eq(status(&c, &t[0]).last_reason, "UDP reply");
	ctx_fini(&c);
	server_free(srv);
}

/* Sync ------------------------------------------------------------------- */

Test(health, sync_add_change_remove, .timeout = 20)
{
	struct server *srv = server_start(false, SRV_TCP_CLOSE, "");
	struct xlb_health_target t[3], bad[2];
	struct xlb_health_status st;
	uint16_t dead = closed_port(false);
	uint64_t checks;
	int fds_before;
	struct ctx c;

	fds_before = count_fds(srv->port);
	ctx_init(&c);
	target(&t[0], "10.1.0.1", XLB_CHECK_TCP, srv->port, 50, 25, 2, 2);
	target(&t[1], "10.1.0.2", XLB_CHECK_TCP, dead, 50, 25, 2, 2);
	target(&t[2], "10.1.0.3", XLB_CHECK_TCP, srv->port, 50, 25, 2, 2);
	cr_assert_eq(xlb_health_sync(c.h, t, 2), 0);
	cr_assert_eq(run(&c, 300, 0), 1);
	cr_expect(xlb_ip_equal(&c.tr[0].real, &t[1].real));
	cr_expect_eq(xlb_health_get(c.h, &t[2].svc, &t[2].real, &st), -ENOENT);

	/* The same set again: nothing restarts. */
	st = status(&c, &t[0]);
	cr_assert_eq(xlb_health_sync(c.h, t, 2), 0);
	cr_expect_eq(status(&c, &t[0]).successes_in_row, st.successes_in_row);

	/* t[0] changes its check, t[1] is unchanged, t[2] is new. */
	t[0].check.interval_ms = 60;
	checks = status(&c, &t[0]).checks;
	cr_assert_geq(checks, 2);
	cr_assert_eq(xlb_health_sync(c.h, t, 3), 0);
	st = status(&c, &t[0]);
	cr_expect(st.up);
	cr_expect_eq(st.checks, checks, "counts kept across a restart");
	cr_expect_eq(st.successes_in_row, 0, "runs restart");
	cr_expect_not(status(&c, &t[1]).up, "unchanged target kept down");
	cr_expect(status(&c, &t[2]).up);
	cr_expect_eq(status(&c, &t[2]).checks, 0);
	cr_expect_eq(run(&c, 300, 0), 1, "no transition from a sync");
	cr_expect_geq(status(&c, &t[2]).checks, 2);

	/* A changed check keeps a down target down. */
	t[1].check.interval_ms = 70;
	cr_assert_eq(xlb_health_sync(c.h, t, 3), 0);
	cr_expect_not(status(&c, &t[1]).up);
	cr_expect_eq(run(&c, 300, 0), 1);
	cr_expect_geq(status(&c, &t[1]).failures_in_row, 2);

	/* Invalid input changes nothing. */
	bad[0] = t[2];
	bad[1] = t[2];
	cr_expect_eq(xlb_health_sync(c.h, bad, 2), -EINVAL, "duplicate");
	bad[1] = t[1];
	bad[1].check.timeout_ms = 70;
	cr_expect_eq(xlb_health_sync(c.h, bad, 2), -EINVAL, "bad spec");
	cr_expect_eq(xlb_health_sync(c.h, NULL, 1), -EINVAL);
	cr_expect_eq(xlb_health_get(c.h, &t[0].svc, &t[0].real, &st), 0);
	cr_expect_not(status(&c, &t[1]).up);

	/* No check any more: a down target comes up, with a callback. */
	t[1].check.type = XLB_CHECK_NONE;
	cr_assert_eq(xlb_health_sync(c.h, t, 3), 0);
	cr_assert_eq(c.n_tr, 2);
	cr_expect(c.tr[1].up);
	cr_expect_str_eq(c.tr[1].reason, "health check removed");
	st = status(&c, &t[1]);
	cr_expect(st.up);
	cr_expect_eq(st.type, XLB_CHECK_NONE);
	checks = st.checks;
	cr_expect_eq(run(&c, 200, 0), 2);
	cr_expect_eq(status(&c, &t[1]).checks, checks, "none is not run");

	/* Removal: no callback, and the targets are gone. */
	cr_assert_eq(xlb_health_sync(c.h, &t[2], 1), 0);
	cr_expect_eq(xlb_health_get(c.h, &t[0].svc, &t[0].real, &st), -ENOENT);
	cr_expect_eq(xlb_health_get(c.h, &t[1].svc, &t[1].real, &st), -ENOENT);
	cr_expect_eq(run(&c, 200, 0), 2);
	cr_expect(status(&c, &t[2]).up);
	cr_assert_eq(xlb_health_sync(c.h, NULL, 0), 0);
	cr_expect_eq(xlb_health_get(c.h, &t[2].svc, &t[2].real, &st), -ENOENT);
	/* The epoll set and the timerfd are all that is left. */
	server_run(srv, false);
	cr_expect_eq(count_fds(srv->port), fds_before + 2);
	ctx_fini(&c);
	cr_expect_eq(count_fds(srv->port), fds_before);
	server_free(srv);
}

/* Concurrency and cleanup ------------------------------------------------ */

Test(health, checks_run_concurrently, .timeout = 20)
{
	struct server *slow = server_start(false, SRV_HTTP_SILENT, "");
	struct server *fast = server_start(false, SRV_TCP_CLOSE, "");
	struct xlb_health_target t[5];
	struct xlb_health_status st;
	double first, last;
	struct ctx c;
	size_t i;

	ctx_init(&c);
	/* Four checks that each wait 150 ms for nothing... */
	for (i = 0; i < 4; i++) {
		char real[16];

		snprintf(real, sizeof(real), "10.1.0.%zu", i + 1);
		target(&t[i], real, XLB_CHECK_HTTP, slow->port, 200, 150, 2, 2);
	}
	/* ...do not hold up one that runs every 50 ms. */
	target(&t[4], "10.1.0.9", XLB_CHECK_TCP, fast->port, 50, 25, 2, 2);
	cr_assert_eq(xlb_health_sync(c.h, t, 5), 0);
	cr_assert_eq(run(&c, 1000, 0), 4);
	/* Their first checks spread over one interval; serialised, four
	 * timeouts in a row would put them 600 ms apart or more. */
	first = c.tr[0].at;
	last = c.tr[3].at;
	cr_expect_lt(last - first, 200 + SLACK_MS,
		     "down %.0f ms apart: not concurrent", last - first);
	for (i = 0; i < 4; i++)
		cr_expect(!strncmp(c.tr[i].reason, "timeout after 150 ms", 20),
			  "%s", c.tr[i].reason);
	/* About 20 checks in 1000 ms, none delayed by the slow ones. */
	st = status(&c, &t[4]);
	cr_expect(st.up);
	cr_expect_geq(st.checks, 16, "fast checks: %lu",
		      (unsigned long)st.checks);
	cr_expect_eq(st.failures, 0);
	ctx_fini(&c);
	server_free(slow);
	server_free(fast);
}

Test(health, free_closes_everything, .timeout = 20)
{
	struct server *slow = server_start(false, SRV_HTTP_SILENT, "");
	int fds_before = count_fds(slow->port);
	struct xlb_health_target t[3];
	struct ctx c;
	int i;

	ctx_init(&c);
	target(&t[0], "10.1.0.1", XLB_CHECK_HTTP, slow->port, 100, 90, 2, 2);
	target(&t[1], "10.1.0.2", XLB_CHECK_HTTP, slow->port, 100, 90, 2, 2);
	target(&t[2], "10.1.0.3", XLB_CHECK_NONE, 0, 0, 0, 0, 0);
	cr_assert_eq(xlb_health_sync(c.h, t, 3), 0);
	/* Run until both attempts are in flight, each holding a socket
	 * 90 ms out of every 100. */
	for (i = 0; i < 100 && count_fds(slow->port) != fds_before + 4; i++)
		run(&c, 5, 0);
	cr_expect_eq(count_fds(slow->port), fds_before + 4,
		     "epoll, timerfd and two sockets");
	cr_expect(status(&c, &t[2]).up);
	cr_expect_eq(status(&c, &t[2]).checks, 0);
	ctx_fini(&c);
	server_run(slow, false);
	cr_expect_eq(count_fds(slow->port), fds_before);
	xlb_health_free(NULL);
	server_free(slow);
}

/* A target of VIP 10.0.0.1:80/tcp whose real is 127.0.0.1 itself. */
static void path_target(struct xlb_health_target *t, uint16_t port,
			enum xlb_fwd_mode mode, const char *laddr)
{
	target(t, "127.0.0.1", XLB_CHECK_TCP, port, 100, 50, 2, 2);
	memset(&t->check.addr, 0, sizeof(t->check.addr));
	t->mode = mode;
	cr_assert_eq(xlb_ip_parse("172.16.0.0", &t->tun_src), 0);
	t->tun_plen = 16;
	if (laddr)
		cr_assert_eq(xlb_ip_parse(laddr, &t->laddr), 0);
}

/*
 * The way a check goes (docs/HEALTH.md, "Data-path checks"): a FULLNAT
 * VIP's leaves from the local address, a tunnel VIP's is encapsulated
 * (127.0.0.1 has no decap program: it times out, with its own reason),
 * `through: direct` and a check of another address go direct, and a
 * local address the node does not have is the node's problem (skipped).
 */
Test(health, through_the_data_path, .timeout = 20)
{
	struct server *srv = server_start(false, SRV_TCP_CLOSE, "");
	struct xlb_health_target t;
	struct xlb_health_status st;
	char ip[XLB_IP_STRLEN];
	uint64_t skipped;
	struct ctx c;

	ctx_init(&c);
	path_target(&t, srv->port, XLB_MODE_FULLNAT, "127.0.0.3");
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_assert(wait_reason(&c, &t, "connected", 1000));
	st = status(&c, &t);
	cr_expect_str_eq(st.through, "local");
	cr_expect_str_eq(xlb_ip_str(&st.src, ip, sizeof(ip)), "127.0.0.3");
	cr_expect(st.up);

	/* Not an address of the node: not checked, still up. */
	path_target(&t, srv->port, XLB_MODE_FULLNAT, "192.0.2.1");
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	run(&c, 350, 0);
	st = status(&c, &t);
	cr_expect_geq(st.skipped, 2);
	cr_expect(strstr(st.last_reason,
			 "not checked: bind to the local address"),
		  "%s", st.last_reason);
	cr_expect(st.up);
	cr_expect_eq(c.n_tr, 0);

	/* through: direct, and a check of another address. */
	t.check.through = XLB_CHECK_PATH_DIRECT;
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_assert(wait_reason(&c, &t, "connected", 1000));
	cr_expect_str_eq(status(&c, &t).through, "direct");
	t.check.through = XLB_CHECK_PATH_AUTO;
	cr_assert_eq(xlb_ip_parse("127.0.0.1", &t.check.addr), 0);
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	run(&c, 150, 0);
	cr_expect_str_eq(status(&c, &t).through, "direct");

	/* A tunnel VIP: the SYN goes to the VIP inside IPIP, which
	 * nothing here unwraps: down after fall timeouts. */
	skipped = status(&c, &t).skipped;
	path_target(&t, srv->port, XLB_MODE_TUNNEL, NULL);
	cr_assert_eq(xlb_health_sync(c.h, &t, 1), 0);
	cr_assert_eq(run(&c, 2000, 1), 1, "no down transition");
	cr_expect_not(c.tr[0].up);
	cr_expect_str_eq(c.tr[0].reason,
			 "timeout after 50 ms (no SYN-ACK through the tunnel)");
	st = status(&c, &t);
	cr_expect_str_eq(st.through, "tunnel");
	cr_expect_str_eq(xlb_ip_str(&st.src, ip, sizeof(ip)), "127.0.0.1");
	cr_expect_eq(st.skipped, skipped, "%s", st.last_reason);
	ctx_fini(&c);
	server_free(srv);
}
