// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-bench flood: tools/bench/bpf/bench_gen.bpf.c's live-frames generator
 * aimed at an interface of the calling network namespace, for the flood
 * end-to-end test (tests/e2e/t41_flood.sh). Spoofed pure TCP ACKs (40-byte IPv4
 * packets in 64-byte frames) to each --dst in turn, a batch at a time, from
 * source addresses and ports drawn at random per frame:
 * --naddrs addresses from --src on, 256 ports from 16384 on. As fast as
 * one thread goes, for --seconds. One JSON line at the end: frames sent,
 * seconds, rate.
 *
 *   ip netns exec CLIENT xlb-bench flood --ifname eth0 --dmac MAC \
 *       --dst 10.100.0.10:80 --dst 10.100.0.20:80 --src 10.214.0.0 \
 *       --seconds 10 [--naddrs 65536] [--cpu 0] [--batch 8192]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "bench_abi.h"
#include "bench_gen.skel.h"

#define FLOOD_MAX_DST 8
#define FLOOD_NPORTS  256
#define FLOOD_IP_LEN  40 /* IPv4 + TCP, no payload: a pure ACK */

struct flood {
	const char *ifname;
	uint8_t smac[6], dmac[6];
	uint32_t dst[FLOOD_MAX_DST]; /* host order */
	uint16_t dport[FLOOD_MAX_DST];
	int ndst;
	uint32_t src; /* host order */
	uint32_t naddrs;
	double seconds;
	int cpu;
	uint32_t batch;
	struct bench_gen_bpf *gen[FLOOD_MAX_DST];
	uint8_t frame[FLOOD_MAX_DST][BENCH_FRAME_MAX];
	size_t len;
};

static void flood_usage(FILE *f)
{
	fprintf(f,
		"Usage: xlb-bench flood --ifname IF --dmac MAC --dst "
		"ADDR:PORT... --src ADDR\n"
		"                 [--naddrs N] [--seconds S] [--cpu N] "
		"[--batch N]\n"
		"Spoofed TCP ACKs out of IF (this namespace), random sources "
		"from ADDR on.\n");
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_dst(struct flood *f, const char *s)
{
	char addr[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	struct in_addr in;
	long port;

	if (f->ndst == FLOOD_MAX_DST || !colon ||
	    (size_t)(colon - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, colon - s);
	addr[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, addr, &in) != 1 || port < 1 || port > 65535)
		return -1;
	f->dst[f->ndst] = ntohl(in.s_addr);
	f->dport[f->ndst] = port;
	f->ndst++;
	return 0;
}

static int if_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		ret = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return ret;
}

/* One generator per destination, aimed at the interface. */
static int flood_load(struct flood *f, int i, int ifindex)
{
	struct bench_pkt pkt = {
		.saddr = f->src,
		.daddr = f->dst[i],
		.sport = BENCH_PORT_BASE,
		.dport = f->dport[i],
		.proto = IPPROTO_TCP,
		.tcp_flags = TH_ACK,
		.len = BENCH_GEN_LEN,
		.ip_len = FLOOD_IP_LEN,
	};
	struct bench_gen_bpf *g;
	uint8_t *fr = f->frame[i];

	memcpy(pkt.smac, f->smac, 6);
	memcpy(pkt.dmac, f->dmac, 6);
	f->len = bench_pkt_build(&pkt, fr);
	g = f->gen[i] = bench_gen_bpf__open();
	if (!g)
		return -errno;
	g->rodata->gen_ifindex = ifindex;
	g->rodata->gen_naddrs = f->naddrs;
	g->rodata->gen_nflows = f->naddrs * FLOOD_NPORTS;
	g->rodata->gen_base = f->src;
	g->rodata->gen_random = 1;
	g->rodata->gen_l4_csum_off = BENCH_OFF_TCPCSUM;
	memcpy((void *)&g->rodata->tmpl_saddr, fr + BENCH_OFF_SADDR, 4);
	memcpy((void *)&g->rodata->tmpl_sport, fr + BENCH_OFF_SPORT, 2);
	memcpy((void *)&g->rodata->tmpl_ip_csum, fr + BENCH_OFF_IPCSUM, 2);
	memcpy((void *)&g->rodata->tmpl_l4_csum, fr + BENCH_OFF_TCPCSUM, 2);
	memcpy((void *)g->rodata->tmpl, fr, BENCH_GEN_LEN);
	return bench_gen_bpf__load(g);
}

static long flood_run(struct flood *f)
{
	struct xdp_md ctx = {.data_end = f->len};
	uint64_t end = bench_now_ns() + (uint64_t)(f->seconds * 1e9);
	long sent = 0;
	int i = 0;

	do {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->frame[i],
			    .data_size_in = f->len, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = f->batch,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (bpf_prog_test_run_opts(
			    bpf_program__fd(f->gen[i]->progs.bench_gen),
			    &opts)) {
			perror("xlb-bench flood: BPF_PROG_RUN (live frames)");
			return -1;
		}
		sent += f->batch;
		i = (i + 1) % f->ndst;
	} while (bench_now_ns() < end);
	return sent;
}

int bench_flood_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ifname", required_argument, NULL, 'i'},
		{"dmac", required_argument, NULL, 'm'},
		{"dst", required_argument, NULL, 'd'},
		{"src", required_argument, NULL, 's'},
		{"naddrs", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 't'},
		{"cpu", required_argument, NULL, 'c'},
		{"batch", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct flood f = {
		.naddrs = 65536, .seconds = 10, .cpu = -1, .batch = 8192};
	struct in_addr in;
	uint64_t t0, t1;
	bool have_dmac = false;
	int c, i, ifindex, ret = 1;
	long sent;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			f.ifname = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, f.dmac))
				goto usage;
			have_dmac = true;
			break;
		case 'd':
			if (parse_dst(&f, optarg))
				goto usage;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &in) != 1)
				goto usage;
			f.src = ntohl(in.s_addr);
			break;
		case 'n':
			f.naddrs = strtoul(optarg, NULL, 10);
			break;
		case 't':
			f.seconds = strtod(optarg, NULL);
			break;
		case 'c':
			f.cpu = atoi(optarg);
			break;
		case 'b':
			f.batch = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			flood_usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc || !f.ifname || !have_dmac || !f.ndst || !f.src ||
	    f.naddrs < 1 || f.naddrs > 1u << 20 || f.seconds <= 0 ||
	    f.seconds > 600 || f.batch < 1 || f.batch > 1u << 20)
		goto usage;
	ifindex = if_nametoindex(f.ifname);
	if (!ifindex || if_mac(f.ifname, f.smac)) {
		fprintf(stderr, "xlb-bench flood: no interface %s here\n",
			f.ifname);
		return 1;
	}
	if (f.cpu >= 0 && bench_pin_cpu(f.cpu)) {
		fprintf(stderr, "xlb-bench flood: cannot pin to CPU %d\n",
			f.cpu);
		return 1;
	}
	for (i = 0; i < f.ndst; i++) {
		if (flood_load(&f, i, ifindex)) {
			fprintf(stderr, "xlb-bench flood: cannot load the "
					"generator\n");
			goto out;
		}
	}
	t0 = bench_now_ns();
	sent = flood_run(&f);
	t1 = bench_now_ns();
	if (sent >= 0) {
		printf("{\"sent\": %ld, \"seconds\": %.3f, \"pps\": %.0f, "
		       "\"destinations\": %d}\n",
		       sent, (t1 - t0) / 1e9, sent / ((t1 - t0) / 1e9), f.ndst);
		ret = 0;
	}
out:
	for (i = 0; i < f.ndst; i++)
		bench_gen_bpf__destroy(f.gen[i]);
	return ret;
usage:
	flood_usage(stderr);
	return 2;
}
