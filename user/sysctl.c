// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel settings xlbd changes, and their originals (sysctl.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "sysctl.h"

struct xlb_sysctls {
	struct xlb_dp *dp;
	char root[128];
	struct xlb_sysctl_saved saved;
};

int xlb_sysctls_open(struct xlb_dp *dp, const char *root,
		     struct xlb_sysctls **out)
{
	struct xlb_sysctls *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->dp = dp;
	snprintf(s->root, sizeof(s->root), "%s", root);
	if (dp) {
		ret = xlb_dp_sysctls_load(dp, &s->saved);
		if (ret) {
			free(s);
			return ret;
		}
	}
	/* Nothing kept yet, or kept by an agent that wrote no magic. */
	if (s->saved.magic != XLB_SYSCTL_MAGIC ||
	    s->saved.n > XLB_SYSCTL_SAVED_MAX)
		memset(&s->saved, 0, sizeof(s->saved));
	*out = s;
	return 0;
}

void xlb_sysctls_free(struct xlb_sysctls *s)
{
	free(s);
}

static int sysctl_path(const struct xlb_sysctls *s, const char *name,
		       char *path, size_t len)
{
	if (!name[0] || strlen(name) >= XLB_SYSCTL_NAME_LEN ||
	    strstr(name, ".."))
		return -EINVAL;
	snprintf(path, len, "%s/%s", s->root, name);
	return 0;
}

int xlb_sysctl_get(const struct xlb_sysctls *s, const char *name)
{
	char path[256], buf[16] = "";
	ssize_t n;
	int fd, ret;

	ret = sysctl_path(s, name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (n == 0 || buf[0] < '0' || buf[0] > '9')
		return -EIO;
	return atoi(buf);
}

static int sysctl_set(const struct xlb_sysctls *s, const char *name, int v)
{
	char path[256], buf[16];
	ssize_t n;
	int fd, len, ret;

	ret = sysctl_path(s, name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", v);
	n = write(fd, buf, (size_t)len);
	ret = n < 0 ? -errno : n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

static struct xlb_sysctl_was *saved_find(struct xlb_sysctls *s,
					 const char *name)
{
	for (uint32_t i = 0; i < s->saved.n; i++)
		if (!strcmp(s->saved.v[i].name, name))
			return &s->saved.v[i];
	return NULL;
}

/* Write the originals where the next agent finds them. */
static int saved_store(struct xlb_sysctls *s)
{
	s->saved.magic = XLB_SYSCTL_MAGIC;
	return s->dp ? xlb_dp_sysctls_store(s->dp, &s->saved) : 0;
}

int xlb_sysctl_ensure(struct xlb_sysctls *s, const char *name, int want,
		      int *was)
{
	struct xlb_sysctl_was *w;
	int cur, ret;

	cur = xlb_sysctl_get(s, name);
	if (cur < 0)
		return cur;
	if (cur == want)
		return 0;
	w = saved_find(s, name);
	if (!w) {
		if (s->saved.n == XLB_SYSCTL_SAVED_MAX)
			return -ENOSPC;
		w = &s->saved.v[s->saved.n++];
		snprintf(w->name, sizeof(w->name), "%s", name);
		w->was = cur;
		/* Kept before the change: a kill -9 right after it must
		 * not lose the original. */
		ret = saved_store(s);
		if (ret) {
			s->saved.n--;
			return ret;
		}
	}
	ret = sysctl_set(s, name, want);
	if (ret)
		return ret;
	*was = cur;
	return 1;
}

int xlb_sysctl_restore(struct xlb_sysctls *s, const char *name, int *was)
{
	struct xlb_sysctl_was *w = saved_find(s, name);
	int ret;

	if (!w)
		return 0;
	*was = w->was;
	ret = sysctl_set(s, name, w->was);
	/* Gone (an interface removed): nothing left to give back. */
	if (ret && ret != -ENOENT)
		return ret;
	memmove(w, w + 1,
		(size_t)(&s->saved.v[s->saved.n] - (w + 1)) * sizeof(*w));
	s->saved.n--;
	ret = saved_store(s);
	return ret ? ret : 1;
}

size_t xlb_sysctls_saved(const struct xlb_sysctls *s,
			 const struct xlb_sysctl_was **v)
{
	*v = s->saved.v;
	return s->saved.n;
}
