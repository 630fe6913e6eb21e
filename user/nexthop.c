// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Resolved next hops of the reals (nexthop.h): RTM_GETROUTE with
 * RTM_F_FIB_MATCH gives the route as the FIB holds it (every ECMP leg),
 * RTM_GETNEIGH each leg's neighbour, RTM_GETLINK its interface; all over
 * one netlink socket, request by request. A second socket, subscribed to
 * the changes, says when to do it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nexthop.h"
#include "state.h"

#define NH_BUF_SIZE 32768
/* The neighbour states bpf_fib_lookup sends to (the kernel's own
 * NUD_VALID, not in the UAPI headers). */
#define NH_NUD_VALID                                                         \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | \
	 NUD_DELAY)
/* The event socket's receive buffer: a burst of changes (a link flap
 * with many routes) must not overrun it; an overrun re-resolves all. */
#define NH_RCVBUF (4 << 20)

/* One path of the route towards a real, as the FIB has it. */
struct nh_hop {
	int ifindex;
	struct xlb_ip via; /* the gateway, or the real itself */
	uint32_t weight;
};

/* What this module knows of one real id. */
struct nh_real {
	bool used;
	bool dirty;   /* to re-resolve */
	bool written; /* the map entry holds something of ours */
	uint32_t gen;
	struct xlb_ip dst;
	struct xlb_ip src; /* the outer source asked with; family 0: none */
	size_t n_hops;
	struct nh_hop hops[XLB_NH_LEGS];
	struct xlb_nh_entry ent; /* as last written */
};

struct xlb_nexthops {
	struct xlb_agent *agent;
	struct mnl_socket *q;  /* requests */
	struct mnl_socket *ev; /* change events */
	uint32_t seq;
	struct nh_real *r; /* by real id */
	uint32_t max;
	struct xlb_nexthops_stats st;
};

/* ---- Requests ------------------------------------------------------------ */

/* Send one request and hand its answer to cb; 0, or -errno (the
 * kernel's error, -ENOENT when nothing matched). */
static int nh_request(struct xlb_nexthops *nh, struct nlmsghdr *nlh,
		      mnl_cb_t cb, void *data)
{
	char buf[NH_BUF_SIZE];
	unsigned int portid = mnl_socket_get_portid(nh->q);
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = ++nh->seq;
	if (mnl_socket_sendto(nh->q, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nh->q, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, nh->seq, portid, cb, data);
		/* A stale answer of an earlier request: read on. */
		if (ret < 0 && errno == EPROTO)
			continue;
		if (ret < 0)
			return -errno;
		return 0;
	}
}

struct route_ans {
	bool got;
	uint8_t type;
	uint32_t flags; /* RTNH_F_* of a single path */
	uint32_t mtu;	/* the route's own MTU metric; 0: none */
	size_t n_hops;
	bool too_many;
	struct nh_hop hops[XLB_NH_LEGS];
};

/* A gateway attribute (RTA_GATEWAY of the route's family, or RTA_VIA). */
static void hop_via(const struct nlattr *a, int family, struct nh_hop *h)
{
	const struct rtvia *v;
	size_t len = mnl_attr_get_payload_len(a);

	if (mnl_attr_get_type(a) == RTA_GATEWAY && len == xlb_ip_len(family)) {
		h->via.family = family;
		memset(&h->via.a, 0, sizeof(h->via.a));
		memcpy(&h->via.a, mnl_attr_get_payload(a), len);
		return;
	}
	if (mnl_attr_get_type(a) != RTA_VIA || len < sizeof(*v))
		return;
	v = mnl_attr_get_payload(a);
	if ((v->rtvia_family != AF_INET && v->rtvia_family != AF_INET6) ||
	    len < sizeof(*v) + xlb_ip_len(v->rtvia_family))
		return;
	h->via.family = v->rtvia_family;
	memset(&h->via.a, 0, sizeof(h->via.a));
	memcpy(&h->via.a, v->rtvia_addr, xlb_ip_len(v->rtvia_family));
}

static void route_multipath(const struct nlattr *mp, int family,
			    struct route_ans *ans)
{
	const struct rtnexthop *rtnh = mnl_attr_get_payload(mp);
	int left = (int)mnl_attr_get_payload_len(mp);

	while (left >= (int)sizeof(*rtnh) && rtnh->rtnh_len >= sizeof(*rtnh) &&
	       rtnh->rtnh_len <= left) {
		const struct nlattr *a =
			(const void *)((const char *)rtnh + RTNH_LENGTH(0));
		int alen = rtnh->rtnh_len - RTNH_LENGTH(0);
		struct nh_hop *h;

		/* A dead or link-down leg takes no traffic in the FIB. */
		if (rtnh->rtnh_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN))
			goto next;
		if (ans->n_hops >= XLB_NH_LEGS) {
			ans->too_many = true;
			return;
		}
		h = &ans->hops[ans->n_hops++];
		h->ifindex = rtnh->rtnh_ifindex;
		h->weight = rtnh->rtnh_hops + 1u;
		while (mnl_attr_ok(a, alen)) {
			hop_via(a, family, h);
			alen -= MNL_ALIGN(a->nla_len);
			a = mnl_attr_next(a);
		}
	next:
		left -= RTNH_ALIGN(rtnh->rtnh_len);
		rtnh = (const void *)((const char *)rtnh +
				      RTNH_ALIGN(rtnh->rtnh_len));
	}
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_ans *ans = data;
	const struct nlattr *a, *m;
	struct nh_hop one = {.weight = 1};
	bool has_oif = false;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	ans->got = true;
	ans->type = rtm->rtm_type;
	ans->flags = rtm->rtm_flags;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				one.ifindex = (int)mnl_attr_get_u32(a);
				has_oif = true;
			}
			break;
		case RTA_GATEWAY:
		case RTA_VIA:
			hop_via(a, rtm->rtm_family, &one);
			break;
		case RTA_MULTIPATH:
			route_multipath(a, rtm->rtm_family, ans);
			break;
		case RTA_METRICS:
			mnl_attr_for_each_nested(m, a)
			{
				if (mnl_attr_get_type(m) == RTAX_MTU &&
				    mnl_attr_validate(m, MNL_TYPE_U32) == 0)
					ans->mtu = mnl_attr_get_u32(m);
			}
			break;
		}
	}
	if (has_oif && !ans->n_hops) {
		ans->hops[0] = one;
		ans->n_hops = 1;
	}
	return MNL_CB_OK;
}

/* The FIB's route from src (family 0: any) to dst. 0 or -errno. */
static int route_get(struct xlb_nexthops *nh, const struct xlb_ip *dst,
		     const struct xlb_ip *src, struct route_ans *ans)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	size_t len = xlb_ip_len(dst->family);

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = len * 8;
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, len, &dst->a);
	if (src->family == dst->family) {
		rtm->rtm_src_len = len * 8;
		mnl_attr_put(nlh, RTA_SRC, len, &src->a);
	}
	memset(ans, 0, sizeof(*ans));
	return nh_request(nh, nlh, route_cb, ans);
}

struct neigh_ans {
	bool valid;
	uint8_t mac[6];
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_ans *ans = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	/* What bpf_fib_lookup would use: an entry in a valid state. */
	if (!(ndm->ndm_state & NH_NUD_VALID))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ndm))
	{
		if (mnl_attr_get_type(a) == NDA_LLADDR &&
		    mnl_attr_get_payload_len(a) == 6) {
			memcpy(ans->mac, mnl_attr_get_payload(a), 6);
			ans->valid = true;
		}
	}
	return MNL_CB_OK;
}

static int neigh_get(struct xlb_nexthops *nh, const struct nh_hop *h,
		     struct neigh_ans *ans)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = h->via.family;
	ndm->ndm_ifindex = h->ifindex;
	mnl_attr_put(nlh, NDA_DST, xlb_ip_len(h->via.family), &h->via.a);
	memset(ans, 0, sizeof(*ans));
	return nh_request(nh, nlh, neigh_cb, ans);
}

struct link_ans {
	bool up;
	bool has_mac;
	uint8_t mac[6];
	uint32_t mtu;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_ans *ans = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	ans->up = ifi->ifi_flags & IFF_UP;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		switch (mnl_attr_get_type(a)) {
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6) {
				memcpy(ans->mac, mnl_attr_get_payload(a), 6);
				ans->has_mac = true;
			}
			break;
		case IFLA_MTU:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				ans->mtu = mnl_attr_get_u32(a);
			break;
		}
	}
	return MNL_CB_OK;
}

static int link_get(struct xlb_nexthops *nh, int ifindex, struct link_ans *ans)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	memset(ans, 0, sizeof(*ans));
	return nh_request(nh, nlh, link_cb, ans);
}

/* ---- Entries ------------------------------------------------------------- */

static int entry_write(struct xlb_nexthops *nh, uint32_t id,
		       const struct xlb_nh_entry *e)
{
	int ret = xlb_dp_nexthop_put(nh->agent->dp, id, e);

	if (!ret) {
		nh->r[id].ent = *e;
		nh->r[id].written = true;
	}
	return ret;
}

/* Send the entry's packets back to bpf_fib_lookup, before anything that
 * a change may have made wrong is looked at again. */
static void mark_stale(struct xlb_nexthops *nh, uint32_t id)
{
	struct nh_real *r = &nh->r[id];
	struct xlb_nh_entry e;

	r->dirty = true;
	if (!(r->ent.flags & XLB_NH_F_VALID))
		return;
	e = r->ent;
	e.flags &= ~XLB_NH_F_VALID;
	if (!entry_write(nh, id, &e))
		nh->st.stale++;
}

/*
 * The legs of an entry from the route's paths: a path of weight w takes
 * w slots, so that flows spread as the weights say; more slots than
 * XLB_NH_LEGS and the entry cannot say (false).
 */
static bool fill_legs(struct xlb_nh_entry *e, const struct nh_hop *hops,
		      const struct xlb_nh_leg *legs, size_t n)
{
	uint32_t total = 0, k = 0, w;
	size_t i;

	for (i = 0; i < n; i++)
		total += hops[i].weight;
	if (!total || total > XLB_NH_LEGS)
		return false;
	for (i = 0; i < n; i++)
		for (w = 0; w < hops[i].weight; w++)
			e->legs[k++] = legs[i];
	e->n_legs = (uint8_t)total;
	return true;
}

/* Resolve real id whole; an entry that cannot be is written invalid. */
static void resolve(struct xlb_nexthops *nh, uint32_t id)
{
	struct nh_real *r = &nh->r[id];
	struct xlb_nh_leg legs[XLB_NH_LEGS];
	struct xlb_nh_entry e = {.gen = r->gen};
	struct route_ans ra;
	struct neigh_ans na;
	struct link_ans la;
	uint32_t mtu;
	size_t i;
	int ret;

	r->dirty = false;
	r->n_hops = 0;
	nh->st.resolves++;
	ret = route_get(nh, &r->dst, &r->src, &ra);
	/* An outer source that is not (yet) an address of this node: the
	 * route without it. */
	if (ret && r->src.family) {
		static const struct xlb_ip any;

		ret = route_get(nh, &r->dst, &any, &ra);
	}
	if (ret || !ra.got || ra.type != RTN_UNICAST || ra.too_many ||
	    !ra.n_hops || (ra.flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN)))
		goto out_invalid;
	mtu = ra.mtu ? ra.mtu : UINT16_MAX;
	for (i = 0; i < ra.n_hops; i++) {
		struct nh_hop *h = &ra.hops[i];

		/* A connected route: the real is its own neighbour. */
		if (!h->via.family)
			h->via = r->dst;
		r->hops[r->n_hops++] = *h;
	}
	for (i = 0; i < ra.n_hops; i++) {
		const struct nh_hop *h = &r->hops[i];

		if (link_get(nh, h->ifindex, &la) || !la.up || !la.has_mac)
			goto out_invalid;
		if (neigh_get(nh, h, &na) || !na.valid)
			goto out_invalid;
		memcpy(legs[i].smac, la.mac, 6);
		memcpy(legs[i].dmac, na.mac, 6);
		legs[i].ifindex = (uint32_t)h->ifindex;
		if (la.mtu && la.mtu < mtu)
			mtu = la.mtu;
	}
	if (!fill_legs(&e, r->hops, legs, ra.n_hops))
		goto out_invalid;
	e.mtu = (uint16_t)(mtu > UINT16_MAX ? UINT16_MAX : mtu);
	e.flags = XLB_NH_F_VALID;
	entry_write(nh, id, &e);
	return;

out_invalid:
	/* Invalid, and marked so only when it was not already: the hops
	 * found (if any) stay, for the events that may resolve it. */
	if (r->written && !(r->ent.flags & XLB_NH_F_VALID) &&
	    r->ent.gen == r->gen)
		return;
	memset(&e, 0, sizeof(e));
	e.gen = r->gen;
	entry_write(nh, id, &e);
}

static void resolve_dirty(struct xlb_nexthops *nh)
{
	uint32_t id;

	for (id = 1; id < nh->max; id++)
		if (nh->r[id].used && nh->r[id].dirty)
			resolve(nh, id);
}

/* ---- Following the model ------------------------------------------------- */

/* The outer source a real's packets leave with: the tunnel's for a
 * tunnel VIP, the first local address for FULLNAT; none if unset. */
static void real_source(const struct xlb_agent *agent,
			const struct vip_ent *vip, int family,
			struct xlb_ip *src)
{
	const struct xlb_globals *g = &agent->g;
	int fi = agent_fam_idx(family);

	memset(src, 0, sizeof(*src));
	if (vip->mode == XLB_MODE_FULLNAT) {
		if (fi >= 0 && agent->n_laddrs[fi])
			*src = agent->laddrs[fi][0];
		return;
	}
	if (family == AF_INET && g->tun_src_v4) {
		src->family = AF_INET;
		src->a.addr[0] = g->tun_src_v4;
	} else if (family == AF_INET6 &&
		   (g->tun_src_v6[0] || g->tun_src_v6[1] || g->tun_src_v6[2] ||
		    g->tun_src_v6[3])) {
		src->family = AF_INET6;
		memcpy(src->a.addr, g->tun_src_v6, 16);
	}
}

int xlb_nexthops_sync(struct xlb_nexthops *nh)
{
	struct xlb_agent *agent = nh->agent;
	uint8_t *seen = calloc(nh->max, 1);
	static const struct xlb_nh_entry none;
	uint32_t v, id;
	size_t i;

	if (!seen)
		return -ENOMEM;
	for (v = 0; v < agent->max_vips; v++) {
		const struct vip_ent *vip = &agent->vips[v];

		for (i = 0; vip->used && i < vip->n_reals; i++) {
			const struct real_ent *re = &vip->reals[i];
			struct nh_real *r;
			struct xlb_ip src;

			if (re->id == XLB_REAL_NONE || re->id >= nh->max)
				continue;
			r = &nh->r[re->id];
			seen[re->id] = 1;
			real_source(agent, vip, re->ip.family, &src);
			if (r->used && r->gen == re->gen &&
			    xlb_ip_equal(&r->dst, &re->ip) &&
			    r->src.family == src.family &&
			    (!src.family || xlb_ip_equal(&r->src, &src)))
				continue;
			/* A new owner of the id, or the same with another
			 * source: the old entry's generation no longer
			 * matches, or it is marked before it changes. */
			mark_stale(nh, re->id);
			r->used = true;
			r->gen = re->gen;
			r->dst = re->ip;
			r->src = src;
			r->dirty = true;
		}
	}
	for (id = 1; id < nh->max; id++) {
		struct nh_real *r = &nh->r[id];

		if (seen[id] || (!r->used && !r->written))
			continue;
		if (r->written)
			entry_write(nh, id, &none);
		memset(r, 0, sizeof(*r));
	}
	free(seen);
	resolve_dirty(nh);
	return 0;
}

/* ---- Change events ------------------------------------------------------- */

/* Does the prefix dst/len of family hold ip? */
static bool prefix_holds(int family, const void *dst, unsigned int len,
			 const struct xlb_ip *ip)
{
	const uint8_t *p = dst, *a = (const uint8_t *)&ip->a;
	unsigned int full = len / 8, rest = len % 8;

	if (ip->family != family || len > xlb_ip_len(family) * 8)
		return false;
	if (!len)
		return true;
	if (memcmp(p, a, full))
		return false;
	if (!rest)
		return true;
	return !((p[full] ^ a[full]) & (0xff << (8 - rest)));
}

static void on_route(struct xlb_nexthops *nh, const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	static const uint8_t zero[16];
	const void *dst = zero;
	const struct nlattr *a;
	uint32_t id;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_DST &&
		    mnl_attr_get_payload_len(a) == xlb_ip_len(rtm->rtm_family))
			dst = mnl_attr_get_payload(a);
	}
	for (id = 1; id < nh->max; id++)
		if (nh->r[id].used &&
		    prefix_holds(rtm->rtm_family, dst, rtm->rtm_dst_len,
				 &nh->r[id].dst))
			mark_stale(nh, id);
}

/* Returns whether the message is of the neighbours bpf_fib_lookup
 * uses (IPv4, IPv6). */
static bool on_neigh(struct xlb_nexthops *nh, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct xlb_ip ip = {.family = 0};
	const struct nlattr *a;
	uint32_t id;
	size_t i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)) ||
	    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6))
		return false;
	mnl_attr_for_each(a, nlh, sizeof(*ndm))
	{
		if (mnl_attr_get_type(a) == NDA_DST &&
		    mnl_attr_get_payload_len(a) ==
			    xlb_ip_len(ndm->ndm_family)) {
			ip.family = ndm->ndm_family;
			memcpy(&ip.a, mnl_attr_get_payload(a),
			       xlb_ip_len(ndm->ndm_family));
		}
	}
	if (!ip.family)
		return true;
	for (id = 1; id < nh->max; id++) {
		const struct nh_real *r = &nh->r[id];

		for (i = 0; r->used && i < r->n_hops; i++)
			if (r->hops[i].ifindex == ndm->ndm_ifindex &&
			    xlb_ip_equal(&r->hops[i].via, &ip)) {
				mark_stale(nh, id);
				break;
			}
	}
	return true;
}

static void on_link(struct xlb_nexthops *nh, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	uint32_t id;
	size_t i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return;
	for (id = 1; id < nh->max; id++) {
		const struct nh_real *r = &nh->r[id];

		for (i = 0; r->used && i < r->n_hops; i++)
			if (r->hops[i].ifindex == ifi->ifi_index) {
				mark_stale(nh, id);
				break;
			}
	}
}

static void mark_all(struct xlb_nexthops *nh)
{
	uint32_t id;

	for (id = 1; id < nh->max; id++)
		if (nh->r[id].used)
			mark_stale(nh, id);
}

/*
 * The FULLNAT sessions' reply next hops (towards clients, whom this
 * module does not follow one by one) are kept by the data plane for a
 * route epoch: after any change, a new one, and each is looked up again.
 */
static void next_epoch(struct xlb_nexthops *nh)
{
	if (!xlb_dp_nh_epoch_next(nh->agent->dp))
		nh->st.epochs++;
}

int xlb_nexthops_read(struct xlb_nexthops *nh)
{
	char buf[NH_BUF_SIZE];
	bool changed = false;
	int ret = 0;

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nh->ev), buf, sizeof(buf),
				 MSG_DONTWAIT);
		const struct nlmsghdr *h = (const void *)buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* Changes were lost: any entry may be wrong. */
			nh->st.overflows++;
			mark_all(nh);
			changed = true;
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN)
				ret = -errno;
			break;
		}
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			nh->st.events++;
			switch (h->nlmsg_type) {
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				on_route(nh, h);
				changed = true;
				break;
			case RTM_NEWNEIGH:
			case RTM_DELNEIGH:
				if (on_neigh(nh, h))
					changed = true;
				break;
			case RTM_NEWLINK:
			case RTM_DELLINK:
				on_link(nh, h);
				changed = true;
				break;
			}
		}
	}
	if (changed)
		next_epoch(nh);
	resolve_dirty(nh);
	return ret;
}

/* ---- Life ---------------------------------------------------------------- */

int xlb_nexthops_invalidate_all(struct xlb_dp *dp)
{
	uint32_t id, max = xlb_dp_max_reals(dp);
	struct xlb_nh_entry e;
	int ret;

	for (id = 1; id < max; id++) {
		ret = xlb_dp_nexthop_get(dp, id, &e);
		if (ret)
			return ret;
		if (!(e.flags & XLB_NH_F_VALID))
			continue;
		e.flags &= ~XLB_NH_F_VALID;
		ret = xlb_dp_nexthop_put(dp, id, &e);
		if (ret)
			return ret;
	}
	return xlb_dp_nh_epoch_stop(dp);
}

int xlb_nexthops_open(struct xlb_agent *agent, struct xlb_nexthops **out)
{
	unsigned int groups = RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE |
			      RTMGRP_IPV6_ROUTE | RTMGRP_LINK;
	struct xlb_nexthops *nh = calloc(1, sizeof(*nh));
	struct timeval tmo = {.tv_sec = 1};
	int rcvbuf = NH_RCVBUF, ret;

	if (!nh)
		return -ENOMEM;
	nh->agent = agent;
	nh->max = agent->max_reals;
	/* An earlier agent that did not stop cleanly (kill -9) left its
	 * entries valid, followed by nobody since: none is trusted. */
	ret = xlb_nexthops_invalidate_all(agent->dp);
	if (ret)
		goto out_free;
	nh->r = calloc(nh->max, sizeof(*nh->r));
	if (!nh->r) {
		ret = -ENOMEM;
		goto out_free;
	}
	/* Subscribed before anything is resolved: no change falls between
	 * a resolution and the events that would redo it. */
	nh->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nh->ev || mnl_socket_bind(nh->ev, groups, MNL_SOCKET_AUTOPID)) {
		ret = -errno;
		goto out_close;
	}
	/* Root may go past rmem_max; anyone else gets what it allows. */
	if (setsockopt(mnl_socket_get_fd(nh->ev), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(nh->ev), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	nh->q = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nh->q || mnl_socket_bind(nh->q, 0, MNL_SOCKET_AUTOPID)) {
		ret = -errno;
		goto out_close;
	}
	/* The kernel answers these at once; never hang the event loop on
	 * one that does not come (the entry stays invalid). */
	setsockopt(mnl_socket_get_fd(nh->q), SOL_SOCKET, SO_RCVTIMEO, &tmo,
		   sizeof(tmo));
	/* Followed from here on: the replies' next hops may be kept. */
	ret = xlb_dp_nh_epoch_next(agent->dp);
	if (ret)
		goto out_close;
	nh->st.epochs++;
	*out = nh;
	return 0;

out_close:
	if (nh->q)
		mnl_socket_close(nh->q);
	if (nh->ev)
		mnl_socket_close(nh->ev);
	free(nh->r);
out_free:
	free(nh);
	return ret;
}

void xlb_nexthops_close(struct xlb_nexthops *nh, bool invalidate)
{
	uint32_t id;

	if (!nh)
		return;
	for (id = 1; invalidate && id < nh->max; id++) {
		struct nh_real *r = &nh->r[id];

		if (r->written && (r->ent.flags & XLB_NH_F_VALID))
			mark_stale(nh, id);
	}
	if (invalidate)
		xlb_dp_nh_epoch_stop(nh->agent->dp);
	mnl_socket_close(nh->q);
	mnl_socket_close(nh->ev);
	free(nh->r);
	free(nh);
}

int xlb_nexthops_fd(const struct xlb_nexthops *nh)
{
	return mnl_socket_get_fd(nh->ev);
}

void xlb_nexthops_get_stats(const struct xlb_nexthops *nh,
			    struct xlb_nexthops_stats *st)
{
	uint32_t id;

	*st = nh->st;
	st->reals = 0;
	st->valid = 0;
	for (id = 1; id < nh->max; id++) {
		if (!nh->r[id].used)
			continue;
		st->reals++;
		if (nh->r[id].ent.flags & XLB_NH_F_VALID)
			st->valid++;
	}
}
