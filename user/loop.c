// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's event loop registrations: one epoll set; see loop.h. */
#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>

#include "loop.h"

int xlb_loop_add(int epfd, struct xlb_event *ev, uint32_t events)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, ev->fd, &e) ? -errno : 0;
}

int xlb_loop_mod(int epfd, struct xlb_event *ev, uint32_t events)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};

	return epoll_ctl(epfd, EPOLL_CTL_MOD, ev->fd, &e) ? -errno : 0;
}

int xlb_loop_del(int epfd, struct xlb_event *ev)
{
	return epoll_ctl(epfd, EPOLL_CTL_DEL, ev->fd, NULL) ? -errno : 0;
}
