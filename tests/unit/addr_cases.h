/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Addresses the operator may not give, with the one message both paths
 * must answer: the config file (test_config.c, after "t.yaml:LINE: KEY: ")
 * and the control socket (test_lbctl.c, as the reply's error).
 */
#ifndef XLB_TEST_ADDR_CASES_H
#define XLB_TEST_ADDR_CASES_H

enum addr_case_kind {
	AC_VIP,	  /* the VIP's address */
	AC_REAL,  /* a real of VIP ac_vip */
	AC_LADDR, /* a FULLNAT local address */
};

struct addr_case {
	const char *desc;
	enum addr_case_kind kind;
	const char *vip;  /* ADDR:PORT/PROTO, IPv6 in brackets */
	const char *addr; /* AC_REAL, AC_LADDR */
	const char *msg;
};

static const struct addr_case addr_cases[] = {
	{"unspecified VIP", AC_VIP, "0.0.0.0:80/tcp", NULL,
	 "0.0.0.0 cannot be a VIP (unspecified address)"},
	{"broadcast VIP", AC_VIP, "255.255.255.255:80/tcp", NULL,
	 "255.255.255.255 cannot be a VIP (broadcast address)"},
	{"multicast VIP", AC_VIP, "224.0.0.1:80/udp", NULL,
	 "224.0.0.1 cannot be a VIP (multicast address)"},
	{"loopback VIP", AC_VIP, "127.0.0.1:80/tcp", NULL,
	 "127.0.0.1 cannot be a VIP (loopback address)"},
	{"unspecified IPv6 VIP", AC_VIP, "[::]:80/tcp", NULL,
	 ":: cannot be a VIP (unspecified address)"},
	{"multicast IPv6 VIP", AC_VIP, "[ff02::1]:80/tcp", NULL,
	 "ff02::1 cannot be a VIP (multicast address)"},
	{"unspecified real", AC_REAL, "10.0.0.10:80/tcp", "0.0.0.0",
	 "0.0.0.0 cannot be a real (unspecified address)"},
	{"broadcast real", AC_REAL, "10.0.0.10:80/tcp", "255.255.255.255",
	 "255.255.255.255 cannot be a real (broadcast address)"},
	{"multicast real", AC_REAL, "10.0.0.10:80/tcp", "239.1.2.3",
	 "239.1.2.3 cannot be a real (multicast address)"},
	{"loopback real", AC_REAL, "10.0.0.10:80/tcp", "127.0.0.1",
	 "127.0.0.1 cannot be a real (loopback address)"},
	{"loopback IPv6 real", AC_REAL, "10.0.0.10:80/tcp", "::1",
	 "::1 cannot be a real (loopback address)"},
	{"multicast IPv6 real", AC_REAL, "[2001:db8::1]:80/tcp", "ff05::2",
	 "ff05::2 cannot be a real (multicast address)"},
	{"the VIP itself as a real", AC_REAL, "10.0.0.10:80/tcp", "10.0.0.10",
	 "10.0.0.10 cannot be a real (it is the VIP's own address)"},
	{"the IPv6 VIP itself as a real", AC_REAL, "[2001:db8::1]:443/tcp",
	 "2001:db8::1",
	 "2001:db8::1 cannot be a real (it is the VIP's own address)"},
	{"unspecified local address", AC_LADDR, NULL, "0.0.0.0",
	 "0.0.0.0 cannot be a local address (unspecified address)"},
	{"loopback local address", AC_LADDR, NULL, "127.0.0.2",
	 "127.0.0.2 cannot be a local address (loopback address)"},
	{"multicast local address", AC_LADDR, NULL, "ff02::2",
	 "ff02::2 cannot be a local address (multicast address)"},
};

#define N_ADDR_CASES (sizeof(addr_cases) / sizeof(addr_cases[0]))

#endif /* XLB_TEST_ADDR_CASES_H */
