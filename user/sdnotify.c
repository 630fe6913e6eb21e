// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * systemd notifications and watchdog (sdnotify.h). The messages go
 * through sd_notify(), which does nothing when $NOTIFY_SOCKET is unset;
 * the environment is left in place so that every later message, and the
 * watchdog, still finds the socket.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "loop.h"
#include "sdnotify.h"

/* Longest STATUS= text kept; systemd shows one line anyway. */
#define SD_STATUS_MAX 512

struct xlb_sd_watchdog {
	struct xlb_event ev; /* the timerfd, registered in epfd */
	int epfd;
	uint64_t usec;
};

/* sd_notify() says >0 sent, 0 no manager, <0 -errno: make it 0/-errno. */
static int sd_send(const char *state)
{
	int ret = sd_notify(0, state);

	return ret < 0 ? ret : 0;
}

/* Copy text into buf as one line: newlines become spaces. */
static void sd_one_line(char *buf, size_t len, const char *text)
{
	char *p;

	snprintf(buf, len, "%s", text);
	for (p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int xlb_sd_ready(const char *status)
{
	char line[SD_STATUS_MAX];
	char msg[SD_STATUS_MAX + 32];

	if (!status)
		return sd_send("READY=1");
	sd_one_line(line, sizeof(line), status);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", line);
	return sd_send(msg);
}

int xlb_sd_reloading(void)
{
	struct timespec ts;
	char msg[64];

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return -errno;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	return sd_send(msg);
}

int xlb_sd_stopping(void)
{
	return sd_send("STOPPING=1");
}

int xlb_sd_status(const char *fmt, ...)
{
	char text[SD_STATUS_MAX], line[SD_STATUS_MAX];
	char msg[SD_STATUS_MAX + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sd_one_line(line, sizeof(line), text);
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	return sd_send(msg);
}

/* Timer handler: drain the expiry count and ping the manager. */
static void sd_watchdog_handler(struct xlb_event *ev, uint32_t events)
{
	uint64_t expirations;
	ssize_t n;

	/* A spurious wake-up reads nothing (EAGAIN): ping anyway. */
	n = read(ev->fd, &expirations, sizeof(expirations));
	(void)n;
	/* A ping that fails is not retried here: the next tick tries
	 * again, and a run of failures is what systemd watches for. */
	sd_send("WATCHDOG=1");
}

int xlb_sd_watchdog_start(int epfd, struct xlb_sd_watchdog **out)
{
	struct itimerspec its = {};
	struct xlb_sd_watchdog *wd;
	uint64_t usec = 0, half;
	int ret;

	*out = NULL;
	ret = sd_watchdog_enabled(0, &usec);
	if (ret <= 0)
		return ret;
	if (!usec)
		return -EINVAL;
	wd = calloc(1, sizeof(*wd));
	if (!wd)
		return -ENOMEM;
	wd->epfd = epfd;
	wd->usec = usec;
	wd->ev.handler = sd_watchdog_handler;
	wd->ev.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (wd->ev.fd < 0) {
		ret = -errno;
		goto out_free;
	}
	/* Half the interval, as sd_watchdog_enabled(3) recommends. */
	half = usec / 2 ? usec / 2 : 1;
	its.it_interval.tv_sec = half / 1000000;
	its.it_interval.tv_nsec = (half % 1000000) * 1000;
	its.it_value = its.it_interval;
	if (timerfd_settime(wd->ev.fd, 0, &its, NULL)) {
		ret = -errno;
		goto out_close;
	}
	ret = xlb_loop_add(epfd, &wd->ev, EPOLLIN);
	if (ret)
		goto out_close;
	ret = sd_send("WATCHDOG=1");
	if (ret) {
		xlb_loop_del(epfd, &wd->ev);
		goto out_close;
	}
	*out = wd;
	return 0;

out_close:
	close(wd->ev.fd);
out_free:
	free(wd);
	return ret;
}

uint64_t xlb_sd_watchdog_usec(const struct xlb_sd_watchdog *wd)
{
	return wd ? wd->usec : 0;
}

void xlb_sd_watchdog_stop(struct xlb_sd_watchdog *wd)
{
	if (!wd)
		return;
	xlb_loop_del(wd->epfd, &wd->ev);
	close(wd->ev.fd);
	free(wd);
}
