/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's event loop: one epoll set. Every registered fd carries a
 * struct xlb_event in epoll_event.data.ptr; the loop calls its handler.
 */
#ifndef XLB_LOOP_H
#define XLB_LOOP_H

#include <stdint.h>

struct xlb_event {
	int fd;
	/* events: the EPOLL* bits reported for fd. */
	void (*handler)(struct xlb_event *ev, uint32_t events);
};

/* Add/modify/remove ev->fd in the epoll set epfd. Return 0 or -errno. */
int xlb_loop_add(int epfd, struct xlb_event *ev, uint32_t events);
int xlb_loop_mod(int epfd, struct xlb_event *ev, uint32_t events);
int xlb_loop_del(int epfd, struct xlb_event *ev);

#endif /* XLB_LOOP_H */
