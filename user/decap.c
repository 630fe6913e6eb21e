// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The real-side decap program: load it, tell it the host's addresses
 * (tunnel packets to other addresses are left alone) and the sources it
 * accepts tunnels from (others are dropped), attach it with libxdp; and
 * detach it again. The attachment outlives the command.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "decap.h"
#include "log.h"
#include "decap.skel.h"

#define DECAP_PROG_NAME "xlb_decap"

/* Every IPv4/IPv6 address of this host (this network namespace). */
static int fill_addrs(int map_fd, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	uint32_t one = 1;
	int n = 0;

	if (getifaddrs(&ifa))
		return xlb_errf(err, errlen, -errno, "getifaddrs: %s",
				strerror(errno));
	for (i = ifa; i; i = i->ifa_next) {
		struct xlb_vip_addr_key key = {};

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *sin = (void *)i->ifa_addr;

			key.addr.addr[0] = sin->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (void *)i->ifa_addr;

			memcpy(&key.addr, &sin6->sin6_addr, sizeof(key.addr));
		} else {
			continue;
		}
		key.family = i->ifa_addr->sa_family;
		if (!bpf_map_update_elem(map_fd, &key, &one, BPF_ANY))
			n++;
	}
	freeifaddrs(ifa);
	if (!n)
		return xlb_errf(err, errlen, -EADDRNOTAVAIL,
				"this host has no address to decapsulate for");
	return 0;
}

/* The allowed sources: one LPM trie entry per prefix. */
static int fill_sources(int map_fd, const struct xlb_decap_source *src,
			size_t n, char *err, size_t errlen)
{
	char ip[XLB_IP_STRLEN];
	uint32_t one = 1;
	size_t i;

	if (!n)
		return xlb_errf(err, errlen, -EINVAL,
				"no source to accept tunnels from (give the "
				"balancers' tunnel_source prefixes)");
	if (n > XLB_DECAP_MAX_SOURCES)
		return xlb_errf(err, errlen, -E2BIG, "%zu sources: at most %d",
				n, XLB_DECAP_MAX_SOURCES);
	for (i = 0; i < n; i++) {
		struct xlb_decap_src_key key = {};
		int max = src[i].net.family == AF_INET ? 32 : 128;

		if ((src[i].net.family != AF_INET &&
		     src[i].net.family != AF_INET6) ||
		    src[i].plen < 0 || src[i].plen > max)
			return xlb_errf(err, errlen, -EINVAL,
					"bad source prefix %s/%d",
					xlb_ip_str(&src[i].net, ip, sizeof(ip)),
					src[i].plen);
		key.prefixlen = 8 + src[i].plen;
		key.family = src[i].net.family;
		memcpy(key.addr, &src[i].net.a, sizeof(key.addr));
		if (bpf_map_update_elem(map_fd, &key, &one, BPF_ANY))
			return xlb_errf(err, errlen, -errno,
					"adding source %s/%d: %s",
					xlb_ip_str(&src[i].net, ip, sizeof(ip)),
					src[i].plen, strerror(errno));
	}
	return 0;
}

struct decap_bpf *xlb_decap_load(uint16_t gue_port, char *err, size_t errlen)
{
	struct decap_bpf *skel;
	int ret;

	if (!gue_port) {
		xlb_errf(err, errlen, -EINVAL, "GUE port 0: expected 1..65535");
		errno = EINVAL;
		return NULL;
	}
	skel = decap_bpf__open();
	if (!skel) {
		xlb_errf(err, errlen, -errno, "opening decap program: %s",
			 strerror(errno));
		return NULL;
	}
	/* Fixed for the program's life: re-attaching changes it. */
	skel->rodata->decap_gue_port = gue_port;
	ret = decap_bpf__load(skel);
	if (ret) {
		xlb_errf(err, errlen, ret, "loading decap program: %s",
			 strerror(-ret));
		decap_bpf__destroy(skel);
		errno = -ret;
		return NULL;
	}
	return skel;
}

int xlb_decap_fill(struct decap_bpf *skel, const struct xlb_decap_source *src,
		   size_t n, char *err, size_t errlen)
{
	int ret;

	ret = fill_sources(bpf_map__fd(skel->maps.decap_sources), src, n, err,
			   errlen);
	if (ret)
		return ret;
	return fill_addrs(bpf_map__fd(skel->maps.decap_addrs), err, errlen);
}

/* Detach whatever libxdp finds on ifindex if it is our decap program. */
static int detach_ours(int ifindex, const char *ifname, bool must_exist,
		       char *err, size_t errlen)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *prog;
	char msg[256];
	int ret;

	ret = libxdp_get_error(mp);
	if (ret || !mp) {
		if (!must_exist)
			return 0;
		return xlb_errf(err, errlen, -ENOENT, "no XDP program on %s",
				ifname);
	}
	prog = xdp_multiprog__is_legacy(mp)
		       ? xdp_multiprog__main_prog(mp)
		       : xdp_multiprog__next_prog(NULL, mp);
	if (!prog || strcmp(xdp_program__name(prog), DECAP_PROG_NAME)) {
		xdp_multiprog__close(mp);
		return xlb_errf(
			err, errlen, -EBUSY,
			"%s runs another XDP program (%s); not touching it",
			ifname, prog ? xdp_program__name(prog) : "?");
	}
	ret = xdp_multiprog__detach(mp);
	xdp_multiprog__close(mp);
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		return xlb_errf(err, errlen, ret, "detaching from %s: %s",
				ifname, msg);
	}
	return 0;
}

int xlb_decap_attach(const char *ifname, enum xlb_xdp_mode mode,
		     const struct xlb_decap_source *src, size_t n,
		     uint16_t gue_port, char *err, size_t errlen)
{
	struct xdp_program *prog;
	struct decap_bpf *skel;
	char msg[256];
	int ifindex, ret;

	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return xlb_errf(err, errlen, -ENODEV, "no interface %s",
				ifname);
	skel = xlb_decap_load(gue_port, err, errlen);
	if (!skel)
		return -errno;
	ret = xlb_decap_fill(skel, src, n, err, errlen);
	if (ret)
		goto out_destroy;
	/* Re-attaching replaces our own program (new addresses, new
	 * sources), once the new one is ready. */
	ret = detach_ours(ifindex, ifname, false, err, errlen);
	if (ret)
		goto out_destroy;
	prog = xdp_program__from_fd(bpf_program__fd(skel->progs.xlb_decap));
	ret = libxdp_get_error(prog);
	if (!ret) {
		xlb_log_libs_quiet(true);
		ret = xdp_program__attach(prog, ifindex,
					  mode == XLB_XDP_GENERIC
						  ? XDP_MODE_SKB
						  : XDP_MODE_NATIVE,
					  0);
		xlb_log_libs_quiet(false);
		xdp_program__close(prog);
	}
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		xlb_errf(err, errlen, ret, "attaching decap to %s: %s", ifname,
			 msg);
	}
out_destroy:
	/* The kernel keeps the attached program and its maps alive. */
	decap_bpf__destroy(skel);
	return ret;
}

int xlb_decap_detach(const char *ifname, char *err, size_t errlen)
{
	int ifindex = if_nametoindex(ifname);

	if (!ifindex)
		return xlb_errf(err, errlen, -ENODEV, "no interface %s",
				ifname);
	return detach_ours(ifindex, ifname, true, err, errlen);
}
