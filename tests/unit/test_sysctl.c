// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the kernel settings xlbd changes (sysctl.c), against a
 * directory of files standing in for /proc/sys: the original is the value
 * found before the first change, later changes (or an agent that finds
 * the value already set) do not overwrite it, restoring gives it back
 * once. Keeping the originals across agents (pinned) is the e2e test
 * t27_restart_sysctls's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysctl.h"

static char root[] = "/tmp/xlb-sysctl-XXXXXX";

static void put(const char *name, const char *val)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(val, f);
	fclose(f);
}

static void setup(void)
{
	char path[256];

	cr_assert_not_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/net", root);
	mkdir(path, 0700);
	put("net/fwd", "0\n");
	put("net/al", "2\n");
}

static void teardown(void)
{
	char path[256];

	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	cr_assert_eq(system(path), 0);
}

TestSuite(sysctl, .init = setup, .fini = teardown);

Test(sysctl, original_kept_until_restored)
{
	const struct xlb_sysctl_was *v;
	struct xlb_sysctls *s;
	int was = -1;

	cr_assert_eq(xlb_sysctls_open(NULL, root, &s), 0);
	cr_assert_eq(xlb_sysctl_get(s, "net/fwd"), 0);
	cr_assert_eq(xlb_sysctl_ensure(s, "net/fwd", 1, &was), 1);
	cr_assert_eq(was, 0);
	cr_assert_eq(xlb_sysctl_get(s, "net/fwd"), 1);
	/* Already so: nothing changes, the original stays 0. */
	cr_assert_eq(xlb_sysctl_ensure(s, "net/fwd", 1, &was), 0);
	/* Turned off behind our back, then on again: still 0 kept. */
	put("net/fwd", "0\n");
	cr_assert_eq(xlb_sysctl_ensure(s, "net/fwd", 1, &was), 1);
	cr_assert_eq(xlb_sysctl_ensure(s, "net/al", 1, &was), 1);
	cr_assert_eq(was, 2);
	cr_assert_eq(xlb_sysctls_saved(s, &v), 2);
	cr_assert_str_eq(v[0].name, "net/fwd");
	cr_assert_eq(v[0].was, 0);
	cr_assert_str_eq(v[1].name, "net/al");
	cr_assert_eq(v[1].was, 2);

	cr_assert_eq(xlb_sysctl_restore(s, "net/fwd", &was), 1);
	cr_assert_eq(was, 0);
	cr_assert_eq(xlb_sysctl_get(s, "net/fwd"), 0);
	cr_assert_eq(xlb_sysctl_restore(s, "net/fwd", &was), 0,
		     "restored once only");
	cr_assert_eq(xlb_sysctls_saved(s, &v), 1);
	cr_assert_str_eq(v[0].name, "net/al");
	cr_assert_eq(xlb_sysctl_restore(s, "net/al", &was), 1);
	cr_assert_eq(xlb_sysctl_get(s, "net/al"), 2);
	cr_assert_eq(xlb_sysctls_saved(s, &v), 0);
	xlb_sysctls_free(s);
}

Test(sysctl, bad_names_and_missing_files)
{
	struct xlb_sysctls *s;
	int was = -1;

	cr_assert_eq(xlb_sysctls_open(NULL, root, &s), 0);
	cr_assert_eq(xlb_sysctl_get(s, "net/none"), -ENOENT);
	cr_assert_eq(xlb_sysctl_ensure(s, "net/none", 1, &was), -ENOENT);
	cr_assert_eq(xlb_sysctl_get(s, "net/../../etc"), -EINVAL);
	cr_assert_eq(xlb_sysctl_get(s, ""), -EINVAL);
	put("net/junk", "x\n");
	cr_assert_eq(xlb_sysctl_get(s, "net/junk"), -EIO);
	xlb_sysctls_free(s);
}

/* A setting kept for an interface that has gone: dropped on restore. */
Test(sysctl, restore_of_a_gone_setting)
{
	const struct xlb_sysctl_was *v;
	struct xlb_sysctls *s;
	char path[256];
	int was = -1;

	cr_assert_eq(xlb_sysctls_open(NULL, root, &s), 0);
	cr_assert_eq(xlb_sysctl_ensure(s, "net/al", 1, &was), 1);
	snprintf(path, sizeof(path), "%s/net/al", root);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(xlb_sysctl_restore(s, "net/al", &was), 1);
	cr_assert_eq(xlb_sysctls_saved(s, &v), 0);
	xlb_sysctls_free(s);
}
