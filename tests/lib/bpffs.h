/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpffs.h: a BPF filesystem at /sys/fs/bpf for the calling test process
 * alone. A new machine has none there (PID 1 mounts it only when it is
 * systemd), and a test must not depend on the host having one nor leave a
 * mount behind: the test process gets a mount namespace of its own, and
 * the bpffs and every pin in it go when the process exits, failed or not.
 */
#ifndef XLB_TESTS_BPFFS_H
#define XLB_TESTS_BPFFS_H

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>

/* unshare(2) is a GNU extension: the including file defines _GNU_SOURCE
 * before its first include. */
#ifndef _GNU_SOURCE
#error "tests/lib/bpffs.h needs _GNU_SOURCE"
#endif

/* 0, or -errno: the caller asserts, so that a failure names the cause. */
static inline int private_bpffs(void)
{
	if (unshare(CLONE_NEWNS))
		return -errno;
	/* Nothing mounted from here on reaches the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

#endif /* XLB_TESTS_BPFFS_H */
