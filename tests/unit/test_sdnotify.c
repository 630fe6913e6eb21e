// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/sdnotify.c against a stand-in service manager: a
 * datagram socket named by $NOTIFY_SOCKET, as systemd provides, from
 * which each test reads the exact messages sent. The watchdog timer runs
 * in a real epoll set, dispatched here the way xlbd's loop does.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "sdnotify.h"

/* ---- The stand-in manager --------------------------------------------- */

static char dir[] = "/tmp/xlb-sdnotify-XXXXXX";
static char path[sizeof(dir) + 16];
static int mgr_fd = -1;

/* Bind the manager's socket and point $NOTIFY_SOCKET at it. */
static void manager_up(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	mgr_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(mgr_fd, 0);
	cr_assert_eq(bind(mgr_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(
		setsockopt(mgr_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
		0);
	cr_assert_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* Remove what manager_up made, whatever the test's outcome. */
static void manager_down(void)
{
	if (mgr_fd >= 0)
		close(mgr_fd);
	unlink(path);
	rmdir(dir);
}

/* The next message the manager received, NUL-terminated. */
static const char *manager_recv(void)
{
	static char buf[1024];
	ssize_t n;

	n = recv(mgr_fd, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(n, 0, "no message: %s", strerror(errno));
	buf[n] = '\0';
	return buf;
}

/* Nothing more was sent. */
static void manager_expect_silence(void)
{
	char buf[64];

	cr_assert_lt(recv(mgr_fd, buf, sizeof(buf), MSG_DONTWAIT), 0,
		     "unexpected message");
	cr_assert_eq(errno, EAGAIN);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

TestSuite(sdnotify, .init = manager_up, .fini = manager_down);

/* ---- Messages --------------------------------------------------------- */

Test(sdnotify, ready_with_and_without_status)
{
	cr_assert_eq(xlb_sd_ready("attached to eth0, 2 VIPs"), 0);
	cr_assert_str_eq(manager_recv(),
			 "READY=1\nSTATUS=attached to eth0, 2 VIPs");
	cr_assert_eq(xlb_sd_ready(NULL), 0);
	cr_assert_str_eq(manager_recv(), "READY=1");
	manager_expect_silence();
}

Test(sdnotify, status_stays_one_line)
{
	cr_assert_eq(xlb_sd_status("reload refused:\n%s:%d: bad", "x.yaml", 3),
		     0);
	cr_assert_str_eq(manager_recv(),
			 "STATUS=reload refused: x.yaml:3: bad");
	/* A status cannot smuggle in another assignment. */
	cr_assert_eq(xlb_sd_ready("ok\nSTOPPING=1"), 0);
	cr_assert_str_eq(manager_recv(), "READY=1\nSTATUS=ok STOPPING=1");
}

Test(sdnotify, reloading_carries_the_monotonic_clock)
{
	unsigned long long usec;
	uint64_t before, after;
	const char *msg;

	before = now_usec();
	cr_assert_eq(xlb_sd_reloading(), 0);
	after = now_usec();
	msg = manager_recv();
	cr_assert_eq(sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1,
		     "'%s'", msg);
	cr_assert(usec >= before && usec <= after, "%llu not in %llu..%llu",
		  usec, (unsigned long long)before, (unsigned long long)after);
}

Test(sdnotify, stopping)
{
	cr_assert_eq(xlb_sd_stopping(), 0);
	cr_assert_str_eq(manager_recv(), "STOPPING=1");
}

Test(sdnotify, silent_outside_systemd)
{
	struct xlb_sd_watchdog *wd = (void *)1;

	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(xlb_sd_ready("x"), 0);
	cr_assert_eq(xlb_sd_reloading(), 0);
	cr_assert_eq(xlb_sd_stopping(), 0);
	cr_assert_eq(xlb_sd_status("%d", 1), 0);
	cr_assert_eq(xlb_sd_watchdog_start(-1, &wd), 0);
	cr_assert_null(wd);
	xlb_sd_watchdog_stop(NULL);
	manager_expect_silence();
}

Test(sdnotify, reports_an_unreachable_manager)
{
	char gone[sizeof(path) + 8];

	snprintf(gone, sizeof(gone), "%s.gone", path);
	cr_assert_eq(setenv("NOTIFY_SOCKET", gone, 1), 0);
	cr_assert_lt(xlb_sd_ready(NULL), 0);
	cr_assert_lt(xlb_sd_stopping(), 0);
}

/* ---- Watchdog --------------------------------------------------------- */

/* Wait for one event of epfd and run its handler. */
static void loop_once(int epfd, int timeout_ms)
{
	struct epoll_event e;
	struct xlb_event *ev;

	cr_assert_eq(epoll_wait(epfd, &e, 1, timeout_ms), 1,
		     "no timer event within %d ms", timeout_ms);
	ev = e.data.ptr;
	ev->handler(ev, e.events);
}

Test(sdnotify, watchdog_pings_from_the_loop_at_half_the_interval)
{
	struct xlb_sd_watchdog *wd = NULL;
	struct epoll_event e;
	char pid[16];
	uint64_t start, took;
	int epfd, i;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	cr_assert_eq(setenv("WATCHDOG_USEC", "200000", 1), 0);
	cr_assert_eq(setenv("WATCHDOG_PID", pid, 1), 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(epfd, 0);

	start = now_usec();
	cr_assert_eq(xlb_sd_watchdog_start(epfd, &wd), 0);
	cr_assert_not_null(wd);
	cr_assert_eq(xlb_sd_watchdog_usec(wd), 200000);
	/* One ping at once... */
	cr_assert_str_eq(manager_recv(), "WATCHDOG=1");
	manager_expect_silence();
	/* ...then one per tick of 100 ms, only when the loop runs: three
	 * ticks take 300 ms (600 ms would mean the whole interval). */
	for (i = 0; i < 3; i++) {
		loop_once(epfd, 1000);
		cr_assert_str_eq(manager_recv(), "WATCHDOG=1");
		manager_expect_silence();
	}
	took = now_usec() - start;
	cr_assert(took >= 270000 && took <= 500000, "3 ticks in %llu us",
		  (unsigned long long)took);
	/* A loop that does not run sends nothing. */
	usleep(250000);
	manager_expect_silence();

	xlb_sd_watchdog_stop(wd);
	cr_assert_eq(epoll_wait(epfd, &e, 1, 300), 0, "timer still armed");
	manager_expect_silence();
	close(epfd);
}

Test(sdnotify, no_watchdog_for_another_process)
{
	struct xlb_sd_watchdog *wd = (void *)1;
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	cr_assert_eq(setenv("WATCHDOG_USEC", "200000", 1), 0);
	cr_assert_eq(setenv("WATCHDOG_PID", pid, 1), 0);
	cr_assert_eq(xlb_sd_watchdog_start(-1, &wd), 0);
	cr_assert_null(wd);
	manager_expect_silence();
}

Test(sdnotify, watchdog_start_fails_cleanly)
{
	struct xlb_sd_watchdog *wd = (void *)1;
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	cr_assert_eq(setenv("WATCHDOG_USEC", "200000", 1), 0);
	cr_assert_eq(setenv("WATCHDOG_PID", pid, 1), 0);
	/* Not an epoll set: registration fails, nothing is left behind. */
	cr_assert_eq(xlb_sd_watchdog_start(-1, &wd), -EBADF);
	cr_assert_null(wd);
	manager_expect_silence();
}
