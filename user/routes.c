// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Route announcement, link state and routing daemon processes
 * (routes.h). All netlink goes through libmnl; every request that
 * changes the kernel asks for an ACK and the ACK is read before the
 * next request, so an error names the route that caused it, with the
 * kernel's extended-ACK text when it gives one.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>

#include "routes.h"

/* One dump message can be up to a page or more: the size libmnl's later
 * releases call MNL_SOCKET_DUMP_SIZE. */
#define NL_BUF_SIZE 32768

/* The kernel stores an IPv6 route's metric 0 as 1024 (IP6_RT_PRIO_USER). */
#define IP6_METRIC_DEFAULT 1024

struct xlb_routes {
	struct mnl_socket *nl;
	unsigned int portid;
	uint32_t seq;
	uint8_t protocol;
	uint32_t table;
};

/* A route of ours as dumped: what the kernel has. */
struct kroute {
	struct xlb_route r;
	uint8_t type;
};

struct kroutes {
	struct kroute *v;
	size_t n, cap;
	uint8_t protocol;
	uint32_t table;
	int err; /* -ENOMEM while collecting */
};

/* ---- Netlink plumbing ------------------------------------------------- */

static struct mnl_socket *nl_open(int flags, unsigned int groups)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, flags);
	int one = 1;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	/* Best effort: older kernels just give no text. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	return nl;
}

/* The NLMSGERR_ATTR_MSG text of an error message, or NULL. */
static const char *nl_ext_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (MNL_NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return NULL;
	mnl_attr_for_each(attr, nlh, off)
	{
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

/*
 * Send one request with NLM_F_ACK and wait for its ACK: 0 or the
 * kernel's -errno, with the extended-ACK text (if any) in msg.
 */
static int nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, char *msg,
		      size_t msglen)
{
	char buf[NL_BUF_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	uint32_t seq = nlh->nlmsg_seq;

	if (msglen)
		msg[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			const struct nlmsgerr *e;
			const char *text;

			if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
				continue;
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			e = mnl_nlmsg_get_payload(h);
			text = nl_ext_msg(h);
			if (text && msglen)
				snprintf(msg, msglen, "%s", text);
			return e->error;
		}
	}
}

/* Does this batch hold the NLMSG_DONE of dump seq? */
static bool nl_batch_done(const void *buf, ssize_t n, uint32_t seq)
{
	const struct nlmsghdr *h = buf;
	int len = (int)n;

	for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len))
		if (h->nlmsg_seq == seq && (h->nlmsg_type == NLMSG_DONE ||
					    h->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/*
 * Send a dump request and run cb over every answer until NLMSG_DONE.
 * 0, -EINTR if the kernel marked the dump inconsistent (NLM_F_DUMP_INTR:
 * the table changed meanwhile), or another -errno. After an error the
 * rest of the dump is read and dropped, so the socket is clean for the
 * next request.
 */
static int nl_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data)
{
	char buf[NL_BUF_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	uint32_t seq = nlh->nlmsg_seq;
	int err = 0, ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		if (!err) {
			ret = mnl_cb_run(buf, n, seq, portid, cb, data);
			if (ret != MNL_CB_ERROR)
				continue;
			err = errno ? -errno : -EIO;
		}
		ret = nl_batch_done(buf, n, seq) ? MNL_CB_STOP : MNL_CB_OK;
	} while (ret > MNL_CB_STOP);
	return err;
}

/* ---- Routes ----------------------------------------------------------- */

static int host_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* The metric the kernel will store for a route we ask for. */
static uint32_t stored_metric(const struct xlb_route *r)
{
	if (r->ip.family == AF_INET6 && r->metric == 0)
		return IP6_METRIC_DEFAULT;
	return r->metric;
}

static const char *route_str(const struct xlb_route *r, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%d metric %u",
		 xlb_ip_str(&r->ip, ip, sizeof(ip)), host_len(r->ip.family),
		 r->metric);
	return buf;
}

static int kroutes_push(struct kroutes *k, const struct kroute *kr)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct kroute *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = *kr;
	return 0;
}

/* One RTM_NEWROUTE of a dump: keep it if it is ours. */
static int dump_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kroutes *k = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	const void *dst = NULL;
	uint32_t table = rtm->rtm_table;
	struct kroute kr = {0};

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	if (rtm->rtm_protocol != k->protocol ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    rtm->rtm_dst_len != host_len(rtm->rtm_family))
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
	{
		switch (mnl_attr_get_type(attr)) {
		case RTA_TABLE:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				table = mnl_attr_get_u32(attr);
			break;
		case RTA_PRIORITY:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				kr.r.metric = mnl_attr_get_u32(attr);
			break;
		case RTA_DST:
			if (mnl_attr_get_payload_len(attr) ==
			    xlb_ip_len(rtm->rtm_family))
				dst = mnl_attr_get_payload(attr);
			break;
		}
	}
	if (table != k->table || !dst)
		return MNL_CB_OK;
	kr.r.ip.family = rtm->rtm_family;
	memcpy(&kr.r.ip.a, dst, xlb_ip_len(rtm->rtm_family));
	kr.type = rtm->rtm_type;
	k->err = kroutes_push(k, &kr);
	return k->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* The routes of ours in our table, both families. */
static int routes_dump(struct xlb_routes *r, struct kroutes *k)
{
	static const int families[] = {AF_INET, AF_INET6};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t i;

	k->n = 0;
	k->protocol = r->protocol;
	k->table = r->table;
	k->err = 0;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		size_t mark = k->n;
		struct rtmsg *rtm;
		int ret, tries = 0;

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = families[i];
		/* A dump interrupted by a change (NLM_F_DUMP_INTR) is
		 * incomplete: start that family over. */
		do {
			k->n = mark;
			nlh->nlmsg_seq = ++r->seq;
			ret = nl_dump(r->nl, nlh, dump_route_cb, k);
		} while (ret == -EINTR && ++tries < 5);
		if (k->err)
			return k->err;
		if (ret)
			return ret;
	}
	return 0;
}

/* Build an RTM_NEWROUTE or RTM_DELROUTE of one route of ours. */
static struct nlmsghdr *route_msg(struct xlb_routes *r, char *buf,
				  uint16_t type, uint16_t flags,
				  const struct xlb_route *rt, uint8_t rtype)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++r->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = rt->ip.family;
	rtm->rtm_dst_len = host_len(rt->ip.family);
	rtm->rtm_table = r->table < 256 ? r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_type = rtype;
	/* A delete matches any scope; an add is scope universe, which is
	 * what "redistribute kernel" takes. */
	rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE
					      : RT_SCOPE_UNIVERSE;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	mnl_attr_put(nlh, RTA_DST, xlb_ip_len(rt->ip.family), &rt->ip.a);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->metric);
	return nlh;
}

static int route_add(struct xlb_routes *r, const struct xlb_route *rt,
		     char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], msg[256], name[96];
	/*
	 * IPv4 keeps several routes of one prefix and metric when they
	 * differ (here by protocol): NLM_F_EXCL would refuse ours next to
	 * someone else's, NLM_F_APPEND puts ours behind it and still
	 * refuses an exact duplicate. IPv6 refuses a second blackhole of
	 * one prefix and metric whatever the flags: EXCL says so plainly.
	 */
	uint16_t flags = NLM_F_CREATE |
			 (rt->ip.family == AF_INET ? NLM_F_APPEND : NLM_F_EXCL);
	struct nlmsghdr *nlh =
		route_msg(r, buf, RTM_NEWROUTE, flags, rt, RTN_BLACKHOLE);
	int ret = nl_request(r->nl, nlh, msg, sizeof(msg));

	if (ret)
		snprintf(err, errlen, "adding %s: %s%s%s",
			 route_str(rt, name, sizeof(name)), strerror(-ret),
			 msg[0] ? ": " : "", msg);
	return ret;
}

static int route_del(struct xlb_routes *r, const struct kroute *kr, char *err,
		     size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], msg[256], name[96];
	struct nlmsghdr *nlh =
		route_msg(r, buf, RTM_DELROUTE, 0, &kr->r, kr->type);
	int ret = nl_request(r->nl, nlh, msg, sizeof(msg));

	/* Gone already (removed by someone else since the dump): the goal
	 * is met. */
	if (ret == -ESRCH)
		return 0;
	if (ret)
		snprintf(err, errlen, "deleting %s: %s%s%s",
			 route_str(&kr->r, name, sizeof(name)), strerror(-ret),
			 msg[0] ? ": " : "", msg);
	return ret;
}

static bool route_same(const struct xlb_route *a, const struct kroute *k)
{
	return k->type == RTN_BLACKHOLE && xlb_ip_equal(&a->ip, &k->r.ip) &&
	       stored_metric(a) == k->r.metric;
}

int xlb_routes_open(uint8_t protocol, uint32_t table, struct xlb_routes **out,
		    char *err, size_t errlen)
{
	struct xlb_routes *r;

	*out = NULL;
	/* 0 is "unspecified" for both: it would match or make the wrong
	 * routes. */
	if (protocol == RTPROT_UNSPEC || table == RT_TABLE_UNSPEC) {
		snprintf(err, errlen, "route protocol and table must not be 0");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->nl = nl_open(SOCK_CLOEXEC, 0);
	if (!r->nl) {
		int ret = -errno;

		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		free(r);
		return ret;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	r->protocol = protocol;
	r->table = table;
	*out = r;
	return 0;
}

void xlb_routes_close(struct xlb_routes *r)
{
	if (!r)
		return;
	mnl_socket_close(r->nl);
	free(r);
}

int xlb_routes_set(struct xlb_routes *r, const struct xlb_route *want, size_t n,
		   struct xlb_routes_diff *diff, char *err, size_t errlen)
{
	struct kroutes k = {0};
	struct xlb_routes_diff d = {0};
	bool *have = NULL;
	size_t i, j;
	int ret;

	for (i = 0; i < n; i++) {
		if (want[i].ip.family != AF_INET &&
		    want[i].ip.family != AF_INET6) {
			snprintf(err, errlen, "route %zu: not an IP address",
				 i);
			return -EINVAL;
		}
	}
	ret = routes_dump(r, &k);
	if (ret) {
		snprintf(err, errlen, "listing routes: %s", strerror(-ret));
		goto out;
	}
	have = calloc(n ? n : 1, sizeof(*have));
	if (!have) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < k.n && !have[i]; j++)
			have[i] = route_same(&want[i], &k.v[j]);
	/*
	 * Add before delete: a metric change puts the new route in first,
	 * so the prefix is never withdrawn between the two.
	 */
	for (i = 0; i < n; i++) {
		bool dup = false;

		if (have[i]) {
			d.kept++;
			continue;
		}
		/* The same route twice in want is added once. */
		for (j = 0; j < i && !dup; j++)
			dup = xlb_ip_equal(&want[i].ip, &want[j].ip) &&
			      stored_metric(&want[i]) ==
				      stored_metric(&want[j]);
		if (dup)
			continue;
		ret = route_add(r, &want[i], err, errlen);
		if (ret)
			goto out;
		d.added++;
	}
	for (j = 0; j < k.n; j++) {
		bool wanted = false;

		for (i = 0; i < n && !wanted; i++)
			wanted = route_same(&want[i], &k.v[j]);
		if (wanted)
			continue;
		ret = route_del(r, &k.v[j], err, errlen);
		if (ret)
			goto out;
		d.removed++;
	}
out:
	if (diff)
		*diff = d;
	free(have);
	free(k.v);
	return ret;
}

int xlb_routes_list(struct xlb_routes *r, struct xlb_route **out, size_t *n)
{
	struct kroutes k = {0};
	struct xlb_route *v;
	size_t i;
	int ret;

	*out = NULL;
	*n = 0;
	ret = routes_dump(r, &k);
	if (ret)
		goto out;
	v = calloc(k.n ? k.n : 1, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < k.n; i++)
		v[i] = k.v[i].r;
	*out = v;
	*n = k.n;
out:
	free(k.v);
	return ret;
}

/* ---- Links ------------------------------------------------------------ */

struct xlb_links {
	struct mnl_socket *nl;
	uint32_t seq;
};

struct link_cb_ctx {
	xlb_link_fn fn;
	void *arg;
};

static bool ifi_up(unsigned int flags)
{
	return (flags & IFF_UP) && (flags & IFF_LOWER_UP);
}

/* The name and flags of one RTM_NEWLINK/RTM_DELLINK; false if malformed. */
static bool link_parse(const struct nlmsghdr *nlh, const char **name,
		       const struct ifinfomsg **ifi)
{
	const struct nlattr *attr;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(**ifi)))
		return false;
	*ifi = mnl_nlmsg_get_payload(nlh);
	*name = NULL;
	mnl_attr_for_each(attr, nlh, sizeof(**ifi))
	{
		if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			*name = mnl_attr_get_str(attr);
	}
	return *name != NULL;
}

int xlb_links_open(struct xlb_links **out)
{
	struct xlb_links *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->nl = nl_open(SOCK_NONBLOCK | SOCK_CLOEXEC, RTMGRP_LINK);
	if (!l->nl) {
		int ret = -errno;

		free(l);
		return ret;
	}
	l->seq = (uint32_t)time(NULL);
	*out = l;
	return 0;
}

void xlb_links_close(struct xlb_links *l)
{
	if (!l)
		return;
	mnl_socket_close(l->nl);
	free(l);
}

int xlb_links_fd(struct xlb_links *l)
{
	return mnl_socket_get_fd(l->nl);
}

/* Ask for every link: the answers arrive on this socket as RTM_NEWLINK. */
static int links_resync(struct xlb_links *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++l->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

int xlb_links_read(struct xlb_links *l, xlb_link_fn fn, void *arg)
{
	char buf[NL_BUF_SIZE];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(l->nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			/*
			 * The socket overflowed and events were lost: ask
			 * for every link, so the caller hears each one's
			 * state again, and read on.
			 */
			if (errno == ENOBUFS) {
				int ret = links_resync(l);

				if (ret)
					return ret;
				continue;
			}
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct ifinfomsg *ifi;
			const char *name;

			if (nlh->nlmsg_type != RTM_NEWLINK &&
			    nlh->nlmsg_type != RTM_DELLINK)
				continue;
			if (!link_parse(nlh, &name, &ifi))
				continue;
			fn(arg, ifi->ifi_index, name,
			   nlh->nlmsg_type == RTM_NEWLINK &&
				   ifi_up(ifi->ifi_flags));
		}
	}
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	*(bool *)data = ifi_up(ifi->ifi_flags);
	return MNL_CB_OK;
}

bool xlb_link_up(const char *ifname)
{
	char buf[NL_BUF_SIZE];
	unsigned int ifindex = if_nametoindex(ifname);
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	bool up = false;
	ssize_t n;

	if (!ifindex)
		return false;
	nl = nl_open(SOCK_CLOEXEC, 0);
	if (!nl)
		return false;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n > 0)
		mnl_cb_run(buf, n, nlh->nlmsg_seq, mnl_socket_get_portid(nl),
			   link_get_cb, &up);
out:
	mnl_socket_close(nl);
	return up;
}

/* ---- Routing daemons -------------------------------------------------- */

/* Read a small text file into buf (NUL-terminated): 0 or -errno. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

int xlb_daemon_check(const char *run_dir, const char *name,
		     struct xlb_daemon_status *st)
{
	char path[4096], buf[512], *end, *p;
	long pid;
	int ret;

	st->state = XLB_DAEMON_DEAD;
	st->pid = 0;
	snprintf(path, sizeof(path), "%s/%s.pid", run_dir, name);
	ret = read_small(path, buf, sizeof(buf));
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || pid <= 0 || (pid_t)pid != pid)
		return 0;
	st->pid = (pid_t)pid;

	/* Another program may have the pid since: the name must match
	 * (comm holds at most 15 characters). */
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	ret = read_small(path, buf, sizeof(buf));
	if (ret == -ENOENT || ret == -ESRCH)
		return 0;
	if (ret)
		return ret;
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, name, 15) != 0)
		return 0;

	/* The state follows the last ')': comm itself may hold one. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	ret = read_small(path, buf, sizeof(buf));
	if (ret == -ENOENT || ret == -ESRCH)
		return 0;
	if (ret)
		return ret;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EBADMSG;
	switch (p[2]) {
	case 'T':
	case 't':
		st->state = XLB_DAEMON_STOPPED;
		break;
	case 'Z':
	case 'X':
		st->state = XLB_DAEMON_DEAD;
		break;
	default:
		st->state = XLB_DAEMON_RUNNING;
		break;
	}
	return 0;
}

const char *xlb_daemon_state_str(enum xlb_daemon_state s)
{
	switch (s) {
	case XLB_DAEMON_RUNNING:
		return "running";
	case XLB_DAEMON_STOPPED:
		return "stopped";
	case XLB_DAEMON_DEAD:
		return "dead";
	}
	return "unknown";
}
