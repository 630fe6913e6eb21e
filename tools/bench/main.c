// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-bench: XLB's benchmarks (docs/PERFORMANCE.md). Each part is a
 * command; tools/bench/run.sh runs them all, one process each, and
 * tools/bench/report.py makes the table, results.json and the plots.
 *
 * Usage (root): xlb-bench PART [--runs N] [--out FILE]
 *               xlb-bench flood ... (tools/bench/flood.c)
 * Exit codes: 0 measured (targets met or not), 1 a part failed, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "log.h"

struct part {
	const char *name;
	int (*run)(const struct bench_opts *o);
	const char *help;
};

static const struct part parts[] = {
	{"nexthop", bench_nexthop, "bpf_fib_lookup against a gateway MAC"},
	{"datapath", bench_datapath, "ns per packet, methods (a) and (b)"},
	{"e2e", bench_e2e,
	 "packets per second through a node: XLB, "
	 "nftables, bare XDP forwarder"},
	{"maglev", bench_maglev, "Maglev table build time"},
	{"sessions", bench_sessions, "10M sessions: bytes each, insert rate"},
	{"control", bench_control, "1000 VIPs x 10 reals through the agent"},
};

#define NPARTS (sizeof(parts) / sizeof(parts[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: xlb-bench PART [--runs N] [--out FILE]\n"
		   "Parts:\n");
	for (i = 0; i < NPARTS; i++)
		fprintf(f, "  %-10s %s\n", parts[i].name, parts[i].help);
	fprintf(f,
		"  --runs N    repetitions of each measurement (>= %d, "
		"default %d)\n"
		"  --out FILE  append one JSON line per figure\n"
		"Not a part: xlb-bench flood --help (the flood test's "
		"generator)\n",
		BENCH_RUNS_MIN, BENCH_RUNS_DEFAULT);
}

int main(int argc, char **argv)
{
	struct bench_opts o = {.runs = BENCH_RUNS_DEFAULT};
	const struct part *p = NULL;
	size_t i;
	int a;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "flood"))
		return bench_flood_main(argc - 1, argv + 1);
	for (i = 0; i < NPARTS; i++)
		if (!strcmp(argv[1], parts[i].name))
			p = &parts[i];
	if (!p) {
		usage(strcmp(argv[1], "--help") ? stderr : stdout);
		return strcmp(argv[1], "--help") ? 2 : 0;
	}
	for (a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "--runs") && a + 1 < argc) {
			o.runs = atoi(argv[++a]);
		} else if (!strcmp(argv[a], "--out") && a + 1 < argc) {
			o.out = argv[++a];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (o.runs < BENCH_RUNS_MIN || o.runs > 32) {
		fprintf(stderr, "xlb-bench: --runs must be %d..32\n",
			BENCH_RUNS_MIN);
		return 2;
	}
	xlb_log_set_ident("xlb-bench");
	xlb_log_hook_libs();
	printf("== %s (%d runs)\n", p->name, o.runs);
	fflush(stdout);
	return p->run(&o) ? 1 : 0;
}
