/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Values of VIP and real settings that every way in must refuse with the
 * same reason, the settings table's validator's (user/settings.h): the
 * config file (test_config.c, as "t.yaml:LINE: KEY: REASON"), the control
 * socket (test_lbctl.c, "KEY: REASON") and lbctl (test_lbctl.c,
 * "--OPTION: REASON").
 */
#ifndef XLB_TEST_SETTING_CASES_H
#define XLB_TEST_SETTING_CASES_H

#include <stdbool.h>

struct setting_case {
	const char *desc;
	const char *vip;   /* the VIP, ADDR:PORT/PROTO */
	bool real;	   /* a setting of real 10.1.0.2 (real.add) */
	const char *extra; /* another VIP setting given first, or NULL */
	const char *extra_value;
	const char *key;    /* file key and control field */
	const char *option; /* lbctl's option */
	const char *value;  /* as written in the file and on the line */
	bool number;	    /* a JSON number in the control request */
	const char *reason;
};

static const struct setting_case setting_cases[] = {
	/* The control socket took 2 (a prime) and the agent refused it. */
	{"table size 2", "10.0.0.10:80/tcp", false, NULL, NULL, "table_size",
	 "--table-size", "2", true, "2 is out of range 3..1048573"},
	{"table size not a prime", "10.0.0.10:80/tcp", false, NULL, NULL,
	 "table_size", "--table-size", "65536", true,
	 "65536 is not a prime (65521 and 65537 are)"},
	{"table size too large", "10.0.0.10:80/tcp", false, NULL, NULL,
	 "table_size", "--table-size", "1048583", true,
	 "1048583 is out of range 3..1048573"},
	{"mss below the smallest clamp", "10.0.0.10:80/tcp", false, NULL, NULL,
	 "mss", "--mss", "100", true,
	 "100 is out of range 536..65535 (0: off)"},
	{"mss above 65535", "10.0.0.10:80/tcp", false, NULL, NULL, "mss",
	 "--mss", "65536", true, "65536 is out of range 536..65535 (0: off)"},
	/* The control socket took an MSS clamp on a UDP VIP. */
	{"mss on a UDP VIP", "10.0.0.10:53/udp", false, NULL, NULL, "mss",
	 "--mss", "1400", true, "only TCP VIPs have an MSS to clamp"},
	{"unknown hash", "10.0.0.10:80/tcp", false, NULL, NULL, "hash",
	 "--hash", "random", false,
	 "expected maglev or source-ip, got 'random'"},
	{"unknown mode", "10.0.0.10:80/tcp", false, NULL, NULL, "mode",
	 "--mode", "dsr", false, "expected tunnel or fullnat, got 'dsr'"},
	{"unknown encap", "10.0.0.10:80/tcp", false, NULL, NULL, "encap",
	 "--encap", "vxlan", false, "expected ipip or gue, got 'vxlan'"},
	{"GUE on a fullnat VIP", "10.0.0.10:80/tcp", false, "mode", "fullnat",
	 "encap", "--encap", "gue", false, "gue is for tunnel VIPs only"},
	{"weight too large", "10.0.0.10:80/tcp", true, NULL, NULL, "weight",
	 "--weight", "70000", true, "70000 is out of range 0..65535"},
};

#define N_SETTING_CASES (sizeof(setting_cases) / sizeof(setting_cases[0]))

#endif /* XLB_TEST_SETTING_CASES_H */
