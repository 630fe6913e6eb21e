/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sysctl.c: the node's kernel settings that xlbd changes (forwarding,
 * accept_local), with each one's value from before the first change.
 * Those originals are kept with the pinned data plane (maps.c), so an
 * agent that adopts it after a restart (or a kill -9) knows them, and a
 * full stop after any number of restarts gives them back.
 */
#ifndef XLB_SYSCTL_H
#define XLB_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xlb_dp;

/* "net/ipv4/conf/IFNAME/accept_local" fits with room to spare. */
#define XLB_SYSCTL_NAME_LEN 60
/* Two forwarding switches, accept_local on every interface, and more. */
#define XLB_SYSCTL_SAVED_MAX 40

/* One setting as found before xlbd first changed it. */
struct xlb_sysctl_was {
	char name[XLB_SYSCTL_NAME_LEN]; /* under /proc/sys, '/'-separated */
	int32_t was;
};

/* What is kept pinned: the settings to give back on a full stop. */
struct xlb_sysctl_saved {
	uint32_t magic; /* XLB_SYSCTL_MAGIC once written */
	uint32_t n;
	struct xlb_sysctl_was v[XLB_SYSCTL_SAVED_MAX];
};

#define XLB_SYSCTL_MAGIC 0x78736331 /* "xsc1" */

_Static_assert(sizeof(struct xlb_sysctl_was) == 64, "sysctl_was layout");

struct xlb_sysctls;

/*
 * Open the settings under root ("/proc/sys"; a directory of files in
 * tests), with the originals kept in dp's pins (dp NULL: in memory only).
 */
int xlb_sysctls_open(struct xlb_dp *dp, const char *root,
		     struct xlb_sysctls **out);
void xlb_sysctls_free(struct xlb_sysctls *s);

/* A setting's value, or -errno. name as in struct xlb_sysctl_was. */
int xlb_sysctl_get(const struct xlb_sysctls *s, const char *name);
/*
 * Make name want: 1 when it was changed (*was: the value found), 0 when
 * it was so already, or -errno. The original is kept from the first
 * change until restored, however many agents come between.
 */
int xlb_sysctl_ensure(struct xlb_sysctls *s, const char *name, int want,
		      int *was);
/* Give name its original back: 1 when done (*was: that value), 0 when
 * xlbd never changed it, or -errno. */
int xlb_sysctl_restore(struct xlb_sysctls *s, const char *name, int *was);
/* The settings kept to give back, in the order they were changed. */
size_t xlb_sysctls_saved(const struct xlb_sysctls *s,
			 const struct xlb_sysctl_was **v);

#endif /* XLB_SYSCTL_H */
