// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Addresses, prefixes, services (VIPs) and MACs: parsing from and printing
 * to the text forms operators type. Parsers accept a whole string or
 * nothing: trailing garbage, stray spaces and out-of-range numbers give
 * -EINVAL and leave the output untouched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "xlb.h"

/*
 * Copy the first n bytes of s into buf as a C string. Fails when it would
 * not fit, which also bounds what inet_pton() gets to see.
 */
static int copy_part(char *buf, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/*
 * Parse the n decimal digits at s into *out, refusing signs, spaces, an
 * empty string and anything above max.
 */
static int parse_decimal(const char *s, size_t n, unsigned long max,
			 unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Parse an address of one given family (AF_INET or AF_INET6). */
static int ip_parse_family(const char *s, int family, struct xlb_ip *ip)
{
	struct xlb_ip out;

	memset(&out, 0, sizeof(out));
	if (inet_pton(family, s, out.a.addr) != 1)
		return -EINVAL;
	out.family = family;
	*ip = out;
	return 0;
}

/* Parse an IPv4 or IPv6 address; IPv4 lands in a.addr[0]. */
int xlb_ip_parse(const char *s, struct xlb_ip *ip)
{
	if (!s || !ip)
		return -EINVAL;
	if (strchr(s, ':'))
		return ip_parse_family(s, AF_INET6, ip);
	return ip_parse_family(s, AF_INET, ip);
}

/* Parse "ADDR/LEN" or a bare address (a host prefix). */
int xlb_prefix_parse(const char *s, struct xlb_ip *ip, int *plen)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned long len;
	struct xlb_ip out;
	const char *slash;
	int max;

	if (!s || !ip || !plen)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash) {
		if (xlb_ip_parse(s, &out))
			return -EINVAL;
		*ip = out;
		*plen = out.family == AF_INET ? 32 : 128;
		return 0;
	}
	if (copy_part(buf, sizeof(buf), s, (size_t)(slash - s)) ||
	    xlb_ip_parse(buf, &out))
		return -EINVAL;
	max = out.family == AF_INET ? 32 : 128;
	/* Three digits at most: "/0032" is not a prefix length. */
	if (strlen(slash + 1) > 3 ||
	    parse_decimal(slash + 1, strlen(slash + 1), max, &len))
		return -EINVAL;
	*ip = out;
	*plen = (int)len;
	return 0;
}

/* Map "tcp"/"udp" (any case) to an IP protocol number. */
static int proto_parse(const char *s, uint8_t *proto)
{
	if (!strcasecmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcasecmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

/*
 * Parse "ADDR[:PORT]/PROTO". IPv6 addresses are always bracketed, with or
 * without a port: accepting "2001:db8::1:80/tcp" would silently read a
 * forgotten pair of brackets as a different address on any port.
 */
int xlb_service_parse(const char *s, struct xlb_service *svc)
{
	const char *slash, *host, *host_end, *port = NULL, *close;
	char buf[INET6_ADDRSTRLEN];
	struct xlb_service out;
	unsigned long portnum = 0;
	int family;

	if (!s || !svc)
		return -EINVAL;
	memset(&out, 0, sizeof(out));
	slash = strrchr(s, '/');
	if (!slash || proto_parse(slash + 1, &out.proto))
		return -EINVAL;

	if (s[0] == '[') {
		host = s + 1;
		close = memchr(host, ']', (size_t)(slash - host));
		if (!close)
			return -EINVAL;
		host_end = close;
		if (close[1] == ':')
			port = close + 2;
		else if (close + 1 != slash)
			return -EINVAL;
		family = AF_INET6;
	} else {
		host = s;
		host_end = memchr(s, ':', (size_t)(slash - s));
		if (host_end)
			port = host_end + 1;
		else
			host_end = slash;
		family = AF_INET;
	}

	if (copy_part(buf, sizeof(buf), host, (size_t)(host_end - host)) ||
	    ip_parse_family(buf, family, &out.ip))
		return -EINVAL;
	if (port &&
	    parse_decimal(port, (size_t)(slash - port), 65535, &portnum))
		return -EINVAL;
	out.port = (uint16_t)portnum;
	*svc = out;
	return 0;
}

/* Parse the value of one hex digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse "xx:xx:xx:xx:xx:xx": six pairs of hex digits, colon-separated. */
int xlb_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t out[6];
	int i, hi, lo;

	if (!s || !mac || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		hi = hex_value(p[0]);
		lo = hex_value(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, out, sizeof(out));
	return 0;
}

/*
 * Print an address in its canonical form (RFC 5952 for IPv6). A buffer
 * that is too small, or an address of no known family, gives "?".
 */
const char *xlb_ip_str(const struct xlb_ip *ip, char *buf, size_t len)
{
	if (!buf || !len)
		return "?";
	if (ip && (ip->family == AF_INET || ip->family == AF_INET6) &&
	    inet_ntop(ip->family, ip->a.addr, buf, (socklen_t)len))
		return buf;
	snprintf(buf, len, "?");
	return buf;
}

/* Print "10.0.0.1:80/tcp" or "[2001:db8::1]:443/udp"; port 0 as ":0". */
const char *xlb_service_str(const struct xlb_service *svc, char *buf,
			    size_t len)
{
	char ip[XLB_IP_STRLEN];

	if (!buf || !len)
		return "?";
	if (!svc) {
		snprintf(buf, len, "?");
		return buf;
	}
	xlb_ip_str(&svc->ip, ip, sizeof(ip));
	snprintf(buf, len,
		 svc->ip.family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", ip,
		 (unsigned int)svc->port, xlb_proto_str(svc->proto));
	return buf;
}

/* Name of an IP protocol as written in services. */
const char *xlb_proto_str(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return "unknown";
	}
}

/* Same family and same address; IPv4 compares its one word only. */
bool xlb_ip_equal(const struct xlb_ip *a, const struct xlb_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->a.addr[0] == b->a.addr[0];
	return !memcmp(a->a.addr, b->a.addr, sizeof(a->a.addr));
}

/* Same address, port and protocol: the identity of a VIP. */
bool xlb_service_equal(const struct xlb_service *a, const struct xlb_service *b)
{
	return xlb_ip_equal(&a->ip, &b->ip) && a->port == b->port &&
	       a->proto == b->proto;
}

/* Name of a hash mode as written in the config and on the socket. */
const char *xlb_hash_mode_str(enum xlb_hash_mode mode)
{
	switch (mode) {
	case XLB_HASH_MAGLEV:
		return "maglev";
	case XLB_HASH_SOURCE_IP:
		return "source-ip";
	}
	return "unknown";
}

/* Parse "maglev" or "source-ip" (exact spelling). */
int xlb_hash_mode_parse(const char *s, enum xlb_hash_mode *mode)
{
	if (!s || !mode)
		return -EINVAL;
	if (!strcmp(s, "maglev"))
		*mode = XLB_HASH_MAGLEV;
	else if (!strcmp(s, "source-ip"))
		*mode = XLB_HASH_SOURCE_IP;
	else
		return -EINVAL;
	return 0;
}

/* Name of a forwarding mode as written in the config and on the socket. */
const char *xlb_fwd_mode_str(enum xlb_fwd_mode mode)
{
	switch (mode) {
	case XLB_MODE_TUNNEL:
		return "tunnel";
	case XLB_MODE_FULLNAT:
		return "fullnat";
	}
	return "unknown";
}

/* Parse "tunnel" or "fullnat" (exact spelling). */
int xlb_fwd_mode_parse(const char *s, enum xlb_fwd_mode *mode)
{
	if (!s || !mode)
		return -EINVAL;
	if (!strcmp(s, "tunnel"))
		*mode = XLB_MODE_TUNNEL;
	else if (!strcmp(s, "fullnat"))
		*mode = XLB_MODE_FULLNAT;
	else
		return -EINVAL;
	return 0;
}

/* Whether any bit after the first plen bits of the address is set. */
bool xlb_prefix_has_host_bits(const struct xlb_ip *ip, int plen)
{
	const uint8_t *b = (const uint8_t *)ip->a.addr;
	int bits = ip->family == AF_INET ? 32 : 128, i;

	for (i = plen < 0 ? 0 : plen; i < bits; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

/*
 * What kind of address ip is when it cannot carry a balanced flow to or
 * from this node, or NULL for an ordinary unicast address.
 */
static const char *ip_special_kind(const struct xlb_ip *ip)
{
	static const struct xlb_addr zero;
	const uint8_t *b = (const uint8_t *)ip->a.addr;

	if (ip->family == AF_INET) {
		if (!ip->a.addr[0])
			return "unspecified address";
		if (b[0] == 127)
			return "loopback address";
		if ((b[0] & 0xf0) == 0xe0)
			return "multicast address";
		if (ip->a.addr[0] == 0xffffffff)
			return "broadcast address";
		return NULL;
	}
	if (!memcmp(&ip->a, &zero, sizeof(zero)))
		return "unspecified address";
	if (!memcmp(b, &in6addr_loopback, sizeof(in6addr_loopback)))
		return "loopback address";
	if (b[0] == 0xff)
		return "multicast address";
	return NULL;
}

static const char *const role_names[] = {
	[XLB_ROLE_VIP] = "a VIP",
	[XLB_ROLE_REAL] = "a real",
	[XLB_ROLE_LADDR] = "a local address",
};

int xlb_addr_check(const struct xlb_ip *ip, enum xlb_addr_role role, char *err,
		   size_t errlen)
{
	char s[XLB_IP_STRLEN];
	const char *kind;

	if (ip->family != AF_INET && ip->family != AF_INET6)
		kind = "no address family";
	else
		kind = ip_special_kind(ip);
	if (!kind)
		return 0;
	if (errlen)
		snprintf(err, errlen, "%s cannot be %s (%s)",
			 xlb_ip_str(ip, s, sizeof(s)), role_names[role], kind);
	return -EINVAL;
}

int xlb_real_check(const struct xlb_ip *real, const struct xlb_ip *vip,
		   char *err, size_t errlen)
{
	char s[XLB_IP_STRLEN];
	int ret;

	ret = xlb_addr_check(real, XLB_ROLE_REAL, err, errlen);
	if (ret)
		return ret;
	if (vip && xlb_ip_equal(real, vip)) {
		if (errlen)
			snprintf(err, errlen,
				 "%s cannot be a real (it is the VIP's own "
				 "address)",
				 xlb_ip_str(real, s, sizeof(s)));
		return -EINVAL;
	}
	return 0;
}
