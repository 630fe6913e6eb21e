/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Health checks of reals (docs/HEALTH.md): TCP connect, HTTP/1.1 GET with
 * expected status codes, UDP request/reply. Every check runs without
 * blocking inside xlbd's epoll loop (loop.h): one timerfd schedules all of
 * them (a min-heap of deadlines), and each attempt in flight holds one
 * non-blocking socket. Checks of different reals run concurrently.
 *
 * A target is one real of one VIP. It starts up (a real is usable until
 * its checks say otherwise), goes down after `fall` failures in a row and
 * comes back after `rise` successes in a row. The callback fires exactly
 * once per transition, with a one-line reason; the module never logs.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlb.h"

/* What a field of struct xlb_check_spec left at 0 (or "") means. */
#define XLB_CHECK_DEFAULT_INTERVAL_MS 2000
#define XLB_CHECK_DEFAULT_TIMEOUT_MS  1000 /* at most half the interval */
#define XLB_CHECK_DEFAULT_RISE	      2
#define XLB_CHECK_DEFAULT_FALL	      3
#define XLB_CHECK_DEFAULT_HTTP_PATH   "/"
#define XLB_CHECK_DEFAULT_HTTP_CODE   200

/* Accepted ranges, shared with the configuration file. */
#define XLB_CHECK_MIN_INTERVAL_MS 10
#define XLB_CHECK_MAX_INTERVAL_MS 3600000 /* one hour */
#define XLB_CHECK_MAX_COUNT	  100	  /* rise and fall */
#define XLB_CHECK_MIN_HTTP_CODE	  100
#define XLB_CHECK_MAX_HTTP_CODE	  599

#define XLB_HEALTH_REASON_LEN	  128

struct xlb_health;

/* One real of one VIP and the check that decides its health. */
struct xlb_health_target {
	struct xlb_service svc;
	struct xlb_ip real;
	struct xlb_check_spec check; /* XLB_CHECK_NONE: not run, always up */
	/*
	 * The VIP's data path, for checks that travel it (check.through).
	 * Tunnel: tun_src/tun_plen, the tunnel_source range of the real's
	 * family. FULLNAT: laddr, a local address of the real's family.
	 * A family of 0 means none: such a check goes direct.
	 */
	enum xlb_fwd_mode mode;
	uint16_t gue_port; /* tunnel: encap gue to this port; 0: IPIP */
	struct xlb_ip tun_src;
	int tun_plen;
	struct xlb_ip laddr;
};

/* A target as xlb_health_get() sees it, for metrics and lbctl. */
struct xlb_health_status {
	bool up;
	enum xlb_check_type type; /* XLB_CHECK_NONE: not checked */
	struct xlb_ip addr;	  /* where the check goes */
	uint16_t port;
	/* "direct", "tunnel" (to the VIP, encapsulated to addr) or
	 * "local" (from a FULLNAT local address, src). */
	const char *through;
	struct xlb_ip src; /* tunnel: inner source; local: the local address */
	uint32_t successes_in_row;
	uint32_t failures_in_row;
	uint64_t checks;      /* attempts completed since the target appeared */
	uint64_t failures;    /* of which failed */
	uint64_t transitions; /* up <-> down changes */
	/* Attempts not made for a local reason (out of descriptors or
	 * memory, no local port): they count neither way. */
	uint64_t skipped;
	bool has_last; /* an attempt has completed */
	bool last_ok;
	uint32_t last_latency_us; /* start to result of the last attempt */
	/* Result of the last attempt ("HTTP status 200", "timeout after
	 * 1000 ms"), or why it could not be made ("socket: ..."). */
	char last_reason[XLB_HEALTH_REASON_LEN];
};

/*
 * Called once per transition. reason says what the deciding check saw
 * ("connect: Connection refused", "timeout after 500 ms", "HTTP status
 * 503", "no UDP reply within 1000 ms", "HTTP status 200", "health check
 * removed"). The callback may call xlb_health_get(); xlb_health_sync()
 * returns -EBUSY from inside it, and it must not free the checker.
 */
typedef void (*xlb_health_cb)(void *arg, const struct xlb_service *svc,
			      const struct xlb_ip *real, bool up,
			      const char *reason);

/*
 * A checker in the epoll set epfd (its timerfd is registered at once,
 * sockets while they are in use). cb may be NULL.
 */
int xlb_health_new(int epfd, xlb_health_cb cb, void *arg,
		   struct xlb_health **out);
/*
 * Stop every check and close every fd. NULL is fine. Call it outside the
 * loop's dispatch (not from a handler): events already fetched by
 * epoll_wait() may still point into the checker.
 */
void xlb_health_free(struct xlb_health *h);

/*
 * Make the set of targets exactly t[0..n): new targets start up and are
 * first checked within one interval (spread, so that a reload does not
 * check every real at once); removed ones stop without a callback; a
 * target whose check changed keeps its state (up or down) but restarts
 * its counts of successes and failures in a row. A target whose check
 * becomes XLB_CHECK_NONE while down comes up, with a callback. Every spec
 * is validated (xlb_check_effective()) before anything changes: -EINVAL
 * on a bad spec or a target listed twice, -ENOMEM, -EBUSY from inside the
 * callback; on error nothing changed.
 */
int xlb_health_sync(struct xlb_health *h, const struct xlb_health_target *t,
		    size_t n);

/* The status of one target; -ENOENT if it is not in the set. */
int xlb_health_get(struct xlb_health *h, const struct xlb_service *svc,
		   const struct xlb_ip *real, struct xlb_health_status *out);

/*
 * The check a spec stands for, with every default filled in: interval,
 * timeout (1000 ms, or half the interval when that is shorter), rise,
 * fall, address (the real's), port (the VIP's), HTTP path, Host header
 * (the address, IPv6 in brackets, ":PORT" unless 80) and codes. -EINVAL
 * with a one-line reason in err when it cannot run: unknown type,
 * interval or counts out of range, timeout not shorter than the
 * interval, no port (an any-port VIP and none given), a path not starting
 * with '/', a path or host with spaces or control characters, a status
 * code outside 100..599, a text not NUL-terminated. err may be NULL.
 */
int xlb_check_effective(const struct xlb_check_spec *in,
			const struct xlb_service *svc,
			const struct xlb_ip *real, struct xlb_check_spec *out,
			char *err, size_t errlen);

/* "auto", "datapath", "direct" ("unknown" otherwise). */
const char *xlb_check_path_str(enum xlb_check_path path);
/* The inverse; "tunnel" is read as "datapath". -EINVAL if unknown. */
int xlb_check_path_parse(const char *s, enum xlb_check_path *path);

/* "none", "tcp", "http", "udp" ("unknown" otherwise). */
const char *xlb_health_type_str(enum xlb_check_type type);

#endif /* XLB_HEALTH_H */
