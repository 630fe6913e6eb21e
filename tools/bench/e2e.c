// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Figure 2: packets per second through a node, end to end, in three
 * network namespaces joined by veths:
 *
 *   gen [G] ---- [N] node [O] ---- [S] sink
 *
 * gen: tools/bench/bpf/bench_gen.bpf.c run by BPF_PROG_RUN in live-frames mode
 * on CPU 0, redirected out of G: 64-byte UDP or TCP (ACK) frames to the VIP
 *   10.200.0.10:80 from 256 client addresses x 256 source ports.
 * node: what is measured. N's NAPI runs in a kernel thread pinned to
 *   CPU 1 at SCHED_FIFO (as a NIC's softirq would preempt other work), so
 *   all of the node's work is on CPU 1 and other processes on this shared
 *   machine do not take it:
 *   - xlb:  the balancer (maps filled by the agent's state.c: one TCP and
 *           one UDP VIP over 4 reals), native XDP on N (attached with
 *           bpf_xdp_attach), the reals' next hops resolved as xlbd
 *           resolves them (user/nexthop.c), IPIP out of O;
 *   - nft:  XDP_PASS on N (a veth delivers redirected frames only to an
 *           XDP program), then the kernel: conntrack, nftables DNAT
 *           (jhash of client address and port over the same 4 reals),
 *           IP forwarding out of O;
 *   - bare: tools/bench/bpf/bench_node.bpf.c's forwarder: MACs, redirect to O.
 * sink: tools/bench/bpf/bench_sink.bpf.c on S counts and drops (it stands for
 * the reals); its NAPI thread is pinned to CPU 0 beside the generator, also
 *   SCHED_FIFO.
 *
 * A run: one case, one protocol, E2E_WARM_MS of traffic, then the sink's
 * count over E2E_RUN_MS, and the CPU time of N's NAPI thread over the same
 * window (schedstat). Rounds interleave the cases, and alternate which
 * protocol runs first after the node's program changes (in trials with a
 * fixed order that run came out 10-20% slower, whichever protocol it was).
 * The sink also counts frames addressed to a real, which must be 99% of
 * them or more for xlb and nft in every run, or their figures are void.
 * XLB_BENCH_VERBOSE=1 prints every run.
 *
 * Two CPUs hold three roles: when the node is fast (bare forwarder), the
 * generator and the sink on CPU 0 cannot keep it busy, and its received
 * rate says more about CPU 0 than about the node. So the comparisons with
 * targets are per node CPU: received rate / share of CPU 1 the node used.
 * The raw rates are reported beside them.
 *
 * Namespaces are named xbench<pid>-{gen,node,sink}; they are removed on
 * exit, on SIGINT/SIGTERM/SIGHUP, and (if this process was killed) by the
 * next run, which removes those of processes that are gone.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/types.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "bench_abi.h"
#include "bench_gen.skel.h"
#include "bench_node.skel.h"
#include "bench_sink.skel.h"

#define E2E_WARM_MS   200
#define E2E_SETTLE_MS 300 /* each protocol, after a program change */
#define E2E_RUN_MS    1000
#define E2E_BATCH     65536 /* frames per BPF_PROG_RUN call */
#define E2E_NADDRS    256
#define E2E_NPORTS    256
#define E2E_FRAME_LEN BENCH_GEN_LEN
#define E2E_NREALS    4
#define E2E_VIP_ADDR  0x0ac8000a /* 10.200.0.10 */
#define E2E_PORT      80
#define E2E_CLIENTS   0x0ad20000 /* 10.210.0.0 */
#define E2E_REAL_NET  0x0ac90000 /* 10.201.0.0/24 */
#define E2E_REAL1     0x0ac90002 /* 10.201.0.2 .. .5 */
#define E2E_CPU_GEN   0
#define E2E_CPU_NODE  1

enum e2e_ns { NS_GEN, NS_NODE, NS_SINK, NS_MAX };
enum e2e_if { IF_G, IF_N, IF_O, IF_S, IF_MAX };
enum e2e_case { CASE_XLB, CASE_NFT, CASE_BARE, CASE_MAX };
enum e2e_proto { P_UDP, P_TCP, P_MAX };

static const char *const ns_suffix[NS_MAX] = {"gen", "node", "sink"};
static const char if_suffix[IF_MAX] = {'g', 'n', 'o', 's'};
static const enum e2e_ns if_ns[IF_MAX] = {NS_GEN, NS_NODE, NS_NODE, NS_SINK};
static const char *const case_name[CASE_MAX] = {"XLB", "nftables DNAT",
						"bare XDP forwarder"};
static const char *const proto_name[P_MAX] = {"UDP", "TCP"};

struct e2e {
	const struct bench_opts *o;
	char ns[NS_MAX][32];
	char ifn[IF_MAX][IFNAMSIZ];
	uint8_t mac[IF_MAX][6];
	int ifindex[IF_MAX];
	int nsfd[NS_MAX];
	int home; /* this process's own namespace */
	bool made[NS_MAX];
	pid_t napi_node, napi_sink;
	bool nft_ok;
	struct bench_lb lb;
	struct bench_sink_bpf *sink;
	struct bench_node_bpf *node;
	struct bench_gen_bpf *gen[P_MAX];
	uint8_t frame[P_MAX][BENCH_FRAME_MAX];
	size_t len[P_MAX];
	/* Per case and protocol: packets per second and node CPU use. */
	double pps[CASE_MAX][P_MAX][32];
	double busy[CASE_MAX][P_MAX][32];
	double cap[CASE_MAX][P_MAX][32]; /* pps / busy: Mpps per node CPU */
	double real_share[CASE_MAX][P_MAX];
	bool balanced_not[CASE_MAX][P_MAX]; /* a run missed the reals */
};

static struct e2e *cleanup_me;

/* Remove our namespaces (idempotent; safe from a signal handler's
 * point of view as far as this program is concerned). */
static void e2e_cleanup(void)
{
	struct e2e *e = cleanup_me;
	char cmd[96];
	int i;

	if (!e)
		return;
	cleanup_me = NULL;
	for (i = 0; i < NS_MAX; i++) {
		if (!e->made[i])
			continue;
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null",
			 e->ns[i]);
		if (system(cmd))
			fprintf(stderr, "xlb-bench e2e: could not remove %s\n",
				e->ns[i]);
		e->made[i] = false;
	}
}

static void on_signal(int sig)
{
	e2e_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Namespaces xbench<pid>-* whose process is gone: a killed earlier run. */
static void remove_stale(void)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	int pid;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "xbench%d-", &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		fprintf(stderr, "xlb-bench e2e: removing stale namespace %s\n",
			de->d_name);
		bench_sh("ip netns del %s", de->d_name);
	}
	closedir(d);
}

/* Enter one of our namespaces (or home, ns = -1). */
static int enter(struct e2e *e, int ns)
{
	if (setns(ns < 0 ? e->home : e->nsfd[ns], CLONE_NEWNET))
		return -errno;
	return 0;
}

/* Short unique names: interfaces are "xb<pid base 36><g|n|o|s>" so that
 * their NAPI threads ("napi/<ifname>-<id>") can be found by name. */
static void make_names(struct e2e *e)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char tag[8] = {0}, rev[8];
	unsigned int pid = getpid();
	int i, n = 0;

	do {
		rev[n++] = digits[pid % 36];
		pid /= 36;
	} while (pid && n < 7);
	for (i = 0; i < n; i++)
		tag[i] = rev[n - 1 - i];
	for (i = 0; i < NS_MAX; i++)
		snprintf(e->ns[i], sizeof(e->ns[i]), "xbench%d-%s", getpid(),
			 ns_suffix[i]);
	for (i = 0; i < IF_MAX; i++) {
		snprintf(e->ifn[i], sizeof(e->ifn[i]), "xb%s%c", tag,
			 if_suffix[i]);
		memcpy(e->mac[i], (uint8_t[]){0x02, 0xb0, 0, 0, 0, i + 1}, 6);
	}
}

static const char *mac_str(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		m[4], m[5]);
	return buf;
}

/* Namespaces, veths, addresses, neighbours, sysctls. */
static int topology(struct e2e *e)
{
	char m1[18], m2[18], path[64];
	int i;

	for (i = 0; i < NS_MAX; i++) {
		if (bench_sh("ip netns add %s", e->ns[i]))
			return -1;
		e->made[i] = true;
		snprintf(path, sizeof(path), "/run/netns/%s", e->ns[i]);
		e->nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (e->nsfd[i] < 0)
			return -1;
	}
	if (bench_sh("ip -n %s link add %s address %s type veth peer name %s "
		     "address %s netns %s",
		     e->ns[NS_GEN], e->ifn[IF_G], mac_str(e->mac[IF_G], m1),
		     e->ifn[IF_N], mac_str(e->mac[IF_N], m2), e->ns[NS_NODE]) ||
	    bench_sh("ip -n %s link add %s address %s type veth peer name %s "
		     "address %s netns %s",
		     e->ns[NS_NODE], e->ifn[IF_O], mac_str(e->mac[IF_O], m1),
		     e->ifn[IF_S], mac_str(e->mac[IF_S], m2), e->ns[NS_SINK]))
		return -1;
	for (i = 0; i < NS_MAX; i++)
		if (bench_sh("ip -n %s link set lo up", e->ns[i]))
			return -1;
	for (i = 0; i < IF_MAX; i++)
		if (bench_sh("ip -n %s link set %s up", e->ns[if_ns[i]],
			     e->ifn[i]))
			return -1;
	if (bench_sh("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 "
		     "net.ipv4.conf.all.rp_filter=0 "
		     "net.ipv4.conf.default.rp_filter=0 "
		     "net.ipv4.conf.%s.rp_filter=0 "
		     "net.ipv4.conf.%s.rp_filter=0",
		     e->ns[NS_NODE], e->ifn[IF_N], e->ifn[IF_O]) ||
	    bench_sh("ip -n %s addr add 10.199.0.2/24 dev %s", e->ns[NS_GEN],
		     e->ifn[IF_G]) ||
	    bench_sh("ip -n %s addr add 10.199.0.1/24 dev %s", e->ns[NS_NODE],
		     e->ifn[IF_N]) ||
	    bench_sh("ip -n %s addr add 10.201.0.1/24 dev %s", e->ns[NS_NODE],
		     e->ifn[IF_O]) ||
	    bench_sh("ip -n %s addr add 10.201.0.2/24 dev %s", e->ns[NS_SINK],
		     e->ifn[IF_S]))
		return -1;
	/* The reals all live behind S; static neighbours, no ARP. */
	for (i = 0; i < E2E_NREALS; i++)
		if (bench_sh("ip -n %s neigh replace 10.201.0.%d lladdr %s "
			     "dev %s nud permanent",
			     e->ns[NS_NODE], 2 + i, mac_str(e->mac[IF_S], m1),
			     e->ifn[IF_O]))
			return -1;
	for (i = 0; i < IF_MAX; i++) {
		if (enter(e, if_ns[i]))
			return -1;
		e->ifindex[i] = if_nametoindex(e->ifn[i]);
		if (!e->ifindex[i])
			return -1;
	}
	return enter(e, -1);
}

/* The nftables load balancer over the same reals, if nft works here. */
static int nftables(struct e2e *e)
{
	char path[] = "/tmp/xlb-bench-nft-XXXXXX";
	FILE *f;
	int fd, rc;

	if (bench_sh("ip netns exec %s nft list ruleset >/dev/null",
		     e->ns[NS_NODE]))
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return -1;
	}
	fprintf(f,
		"table ip xbench {\n"
		"  chain pre {\n"
		"    type nat hook prerouting priority dstnat; policy accept;\n"
		"    ip daddr 10.200.0.10 meta l4proto { tcp, udp } th dport "
		"%d dnat to jhash ip saddr . th sport mod %d map { 0 : "
		"10.201.0.2, 1 : 10.201.0.3, 2 : 10.201.0.4, 3 : 10.201.0.5 "
		"}\n"
		"  }\n"
		"}\n",
		E2E_PORT, E2E_NREALS);
	fclose(f);
	rc = bench_sh("ip netns exec %s nft -f %s", e->ns[NS_NODE], path);
	unlink(path);
	return rc ? -1 : 0;
}

/* Attach prog_fd natively to interface i (replacing what is there). */
static int attach(struct e2e *e, enum e2e_if i, int prog_fd)
{
	int ret;

	ret = enter(e, if_ns[i]);
	if (!ret)
		ret = bpf_xdp_attach(e->ifindex[i], prog_fd, XDP_FLAGS_DRV_MODE,
				     NULL);
	enter(e, -1);
	return ret;
}

/* The kernel thread running interface i's NAPI, once made threaded. */
static pid_t napi_thread(struct e2e *e, enum e2e_if i)
{
	char prefix[32], path[300], comm[32];
	struct dirent *de;
	pid_t pid = 0;
	DIR *d;
	FILE *f;

	if (bench_sh("ip netns exec %s sh -c 'echo %s > "
		     "/sys/class/net/%s/threaded'",
		     e->ns[if_ns[i]], "1", e->ifn[i]))
		return 0;
	snprintf(prefix, sizeof(prefix), "napi/%s-", e->ifn[i]);
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, prefix, strlen(prefix)))
			pid = atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return pid;
}

static int pin_pid(pid_t pid, int cpu)
{
	struct sched_param sp = {.sched_priority = 50};
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof(set), &set))
		return -errno;
	if (sched_setscheduler(pid, SCHED_FIFO, &sp))
		return -errno;
	return 0;
}

/* Nanoseconds a thread has run (schedstat), or 0. */
static uint64_t run_ns(pid_t pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* The generator for one protocol, aimed at G. */
static int gen_load(struct e2e *e, enum e2e_proto p)
{
	struct bench_pkt pkt = {
		.saddr = E2E_CLIENTS,
		.daddr = E2E_VIP_ADDR,
		.sport = BENCH_PORT_BASE,
		.dport = E2E_PORT,
		.proto = p == P_TCP ? IPPROTO_TCP : IPPROTO_UDP,
		.tcp_flags = TH_ACK,
		.len = E2E_FRAME_LEN,
	};
	struct bench_gen_bpf *g;
	uint8_t *fr = e->frame[p];

	memcpy(pkt.smac, e->mac[IF_G], 6);
	memcpy(pkt.dmac, e->mac[IF_N], 6);
	e->len[p] = bench_pkt_build(&pkt, fr);
	g = e->gen[p] = bench_gen_bpf__open();
	if (!g)
		return -errno;
	g->rodata->gen_ifindex = e->ifindex[IF_G];
	g->rodata->gen_naddrs = E2E_NADDRS;
	g->rodata->gen_nflows = E2E_NADDRS * E2E_NPORTS;
	g->rodata->gen_base = E2E_CLIENTS;
	g->rodata->gen_l4_csum_off = p == P_TCP ? BENCH_OFF_TCPCSUM
						: BENCH_OFF_UDPCSUM;
	memcpy((void *)&g->rodata->tmpl_saddr, fr + BENCH_OFF_SADDR, 4);
	memcpy((void *)&g->rodata->tmpl_sport, fr + BENCH_OFF_SPORT, 2);
	memcpy((void *)&g->rodata->tmpl_ip_csum, fr + BENCH_OFF_IPCSUM, 2);
	memcpy((void *)&g->rodata->tmpl_l4_csum,
	       fr + g->rodata->gen_l4_csum_off, 2);
	memcpy((void *)g->rodata->tmpl, fr, BENCH_GEN_LEN);
	return bench_gen_bpf__load(g);
}

static int programs(struct e2e *e)
{
	char err[XLB_ERR_LEN];
	int p, ret, back;

	e->sink = bench_sink_bpf__open();
	if (!e->sink)
		return -errno;
	e->sink->rodata->real_net = htonl(E2E_REAL_NET);
	e->sink->rodata->real_mask = htonl(0xffffff00);
	ret = bench_sink_bpf__load(e->sink);
	if (ret)
		return ret;
	e->node = bench_node_bpf__open();
	if (!e->node)
		return -errno;
	e->node->rodata->fwd_ifindex = e->ifindex[IF_O];
	memcpy((void *)e->node->rodata->fwd_smac, e->mac[IF_O], 6);
	memcpy((void *)e->node->rodata->fwd_dmac, e->mac[IF_S], 6);
	ret = bench_node_bpf__load(e->node);
	if (ret)
		return ret;
	for (p = 0; p < P_MAX; p++) {
		ret = gen_load(e, p);
		if (ret)
			return ret;
	}
	ret = bench_lb_open(&e->lb, 0, err, sizeof(err));
	if (!ret)
		ret = bench_lb_vip(&e->lb, "10.200.0.10:80/udp", E2E_REAL1,
				   E2E_NREALS, err, sizeof(err));
	if (!ret)
		ret = bench_lb_vip(&e->lb, "10.200.0.10:80/tcp", E2E_REAL1,
				   E2E_NREALS, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "xlb-bench e2e: balancer: %s\n", err);
		return ret;
	}
	/* As xlbd does at start: the reals' next hops, seen from the
	 * node's namespace (bpf_fib_lookup only when one goes stale). */
	ret = enter(e, NS_NODE);
	if (!ret)
		ret = bench_lb_nexthops(&e->lb, "e2e");
	back = enter(e, -1);
	return ret ? ret : back;
}

/* Attach the sink and the pass program, make both NAPIs threads, pin. */
static int napi(struct e2e *e)
{
	if (attach(e, IF_S, bpf_program__fd(e->sink->progs.bench_sink)) ||
	    attach(e, IF_N, bpf_program__fd(e->node->progs.bench_pass)))
		return -1;
	e->napi_node = napi_thread(e, IF_N);
	if (!e->napi_node || pin_pid(e->napi_node, E2E_CPU_NODE))
		return -1;
	e->napi_sink = napi_thread(e, IF_S);
	if (!e->napi_sink || pin_pid(e->napi_sink, E2E_CPU_GEN))
		return -1;
	return 0;
}

/* Sum of one sink counter over CPUs. */
static uint64_t sink_count(struct e2e *e, uint32_t which)
{
	uint64_t v[XLB_MAX_CPUS], sum = 0;
	int i, n = libbpf_num_possible_cpus();

	if (bpf_map_lookup_elem(bpf_map__fd(e->sink->maps.sink_count), &which,
				v))
		return 0;
	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* Generate for ms milliseconds (from the gen namespace, on CPU 0);
 * returns the frames sent, or -1. */
static long generate(struct e2e *e, enum e2e_proto p, int ms)
{
	struct xdp_md ctx = {.data_end = e->len[p]};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = e->frame[p],
		    .data_size_in = e->len[p], .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = E2E_BATCH,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int fd = bpf_program__fd(e->gen[p]->progs.bench_gen);
	uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000;
	long sent = 0;

	do {
		if (bpf_prog_test_run_opts(fd, &opts)) {
			perror("xlb-bench e2e: BPF_PROG_RUN (live frames)");
			return -1;
		}
		sent += E2E_BATCH;
	} while (bench_now_ns() < end);
	return sent;
}

/* One run of one case and protocol; the node program is in place. */
static int one_run(struct e2e *e, enum e2e_case c, enum e2e_proto p, int r)
{
	uint64_t all0, real0, all1, real1, t0, t1, busy0, busy1;
	long sent;

	if (enter(e, NS_GEN) || generate(e, p, E2E_WARM_MS) < 0)
		return -1;
	usleep(20000);
	all0 = sink_count(e, BENCH_SINK_ALL);
	real0 = sink_count(e, BENCH_SINK_REAL);
	busy0 = run_ns(e->napi_node);
	t0 = bench_now_ns();
	sent = generate(e, p, E2E_RUN_MS);
	t1 = bench_now_ns();
	if (sent < 0)
		return -1;
	busy1 = run_ns(e->napi_node);
	/* Frames still in the rings were sent within the window. */
	usleep(20000);
	all1 = sink_count(e, BENCH_SINK_ALL);
	real1 = sink_count(e, BENCH_SINK_REAL);
	enter(e, -1);
	e->pps[c][p][r] = (all1 - all0) * 1e9 / (t1 - t0) / 1e6;
	e->busy[c][p][r] = (double)(busy1 - busy0) / (t1 - t0);
	e->cap[c][p][r] =
		e->busy[c][p][r] > 0 ? e->pps[c][p][r] / e->busy[c][p][r] : NAN;
	e->real_share[c][p] =
		all1 > all0 ? (double)(real1 - real0) / (all1 - all0) : 0;
	/* Balancing cases must deliver to the reals, or they do not count. */
	if (c != CASE_BARE && e->real_share[c][p] < 0.99)
		e->balanced_not[c][p] = true;
	if (getenv("XLB_BENCH_VERBOSE"))
		fprintf(stderr,
			"  %s %s run %d: %.3f Mpps (generator %.3f), "
			"node CPU %.0f%%, to a real %.1f%%\n",
			case_name[c], proto_name[p], r, e->pps[c][p][r],
			sent * 1e3 / (t1 - t0), e->busy[c][p][r] * 100,
			e->real_share[c][p] * 100);
	if (getenv("XLB_BENCH_VERBOSE") && c == CASE_XLB) {
		struct xlb_counters vc[2];

		xlb_dp_vip_counters(e->lb.dp, 0, &vc[0]);
		xlb_dp_vip_counters(e->lb.dp, 1, &vc[1]);
		fprintf(stderr, "    new flows so far: UDP %llu, TCP %llu\n",
			(unsigned long long)vc[0].new_flows,
			(unsigned long long)vc[1].new_flows);
	}
	return 0;
}

/*
 * After a program change, both protocols' flows once more, so that no
 * run starts on state the previous case left cold.
 */
static int settle(struct e2e *e)
{
	int p, ret = 0;

	if (enter(e, NS_GEN))
		return -1;
	for (p = 0; p < P_MAX && !ret; p++)
		ret = generate(e, p, E2E_SETTLE_MS) < 0 ? -1 : 0;
	enter(e, -1);
	return ret;
}

static int setup(struct e2e *e)
{
	remove_stale();
	e->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (e->home < 0)
		return bench_fail("e2e", "own namespace: %s", strerror(errno));
	make_names(e);
	cleanup_me = e;
	atexit(e2e_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	/* A broken pipe must not skip the namespaces' removal. */
	signal(SIGPIPE, SIG_IGN);
	if (topology(e))
		return bench_fail("e2e", "topology failed");
	e->nft_ok = nftables(e) == 0;
	if (!e->nft_ok)
		fprintf(stderr, "xlb-bench e2e: nftables does not work here; "
				"its figures are not measured\n");
	if (programs(e))
		return bench_fail("e2e", "loading the programs failed");
	if (napi(e))
		return bench_fail("e2e", "threaded NAPI / pinning failed");

	return bench_pin_cpu(E2E_CPU_GEN);
}

static void teardown(struct e2e *e)
{
	int i;

	for (i = 0; i < IF_MAX; i++)
		if (e->ifindex[i] && e->made[if_ns[i]])
			attach(e, i, -1);
	for (i = 0; i < P_MAX; i++)
		bench_gen_bpf__destroy(e->gen[i]);
	bench_node_bpf__destroy(e->node);
	bench_sink_bpf__destroy(e->sink);
	bench_lb_close(&e->lb);
	e2e_cleanup();
	for (i = 0; i < NS_MAX; i++)
		if (e->nsfd[i] > 0)
			close(e->nsfd[i]);
	if (e->home > 0)
		close(e->home);
}

/* Median of one case's runs of a per-run quantity. */
static double med(struct e2e *e, double *v)
{
	double copy[32], dmin, m;

	memcpy(copy, v, e->o->runs * sizeof(*v));
	bench_stats(copy, e->o->runs, &dmin, &m);
	return m;
}

/*
 * XLB against one other case, for one protocol, per node CPU: received
 * Mpps / share of CPU 1 the node's NAPI thread used. The raw rates are in
 * the note and in the per-case rows.
 */
static int emit_vs(struct e2e *e, enum e2e_proto p, enum e2e_case other,
		   double target)
{
	char name[96], note[200];
	double raw_x = med(e, e->pps[CASE_XLB][p]);
	double raw_o = med(e, e->pps[other][p]);
	struct bench_figure f = {
		.group = "e2e",
		.name = name,
		.unit = "Mpps/CPU",
		.baseline = med(e, e->cap[other][p]),
		.baseline_name = case_name[other],
		.goal = BENCH_GOAL_RATIO_MIN,
		.target = target,
		.note = note,
	};

	snprintf(name, sizeof(name), "e2e %s: XLB vs %s, per node CPU",
		 proto_name[p], case_name[other]);
	if (e->balanced_not[CASE_XLB][p] || e->balanced_not[other][p]) {
		snprintf(note, sizeof(note),
			 "void: a run did not deliver "
			 "to the reals");
		f.min = f.median = f.baseline = NAN;
		return bench_emit(e->o, &f);
	}
	snprintf(note, sizeof(note),
		 "raw received: XLB %.3f Mpps (node CPU %.0f%%), %s %.3f Mpps "
		 "(%.0f%%), raw ratio %.2f",
		 raw_x, med(e, e->busy[CASE_XLB][p]) * 100, case_name[other],
		 raw_o, med(e, e->busy[other][p]) * 100, raw_x / raw_o);
	bench_stats(e->cap[CASE_XLB][p], e->o->runs, &f.min, &f.median);
	return bench_emit(e->o, &f);
}

/* Each case's own received rate (context rows, the plot's bars). */
static int emit_case(struct e2e *e, enum e2e_case c, enum e2e_proto p)
{
	char name[96], note[96];
	struct bench_figure f = {
		.group = "e2e",
		.name = name,
		.unit = "Mpps",
		.baseline = NAN,
		.note = note,
	};

	snprintf(name, sizeof(name), "e2e %s: %s", proto_name[p], case_name[c]);
	snprintf(note, sizeof(note),
		 "node CPU busy %.0f%%, %.3f Mpps per node CPU; to a real "
		 "%.1f%%",
		 med(e, e->busy[c][p]) * 100, med(e, e->cap[c][p]),
		 e->real_share[c][p] * 100);
	bench_stats(e->pps[c][p], e->o->runs, &f.min, &f.median);
	if (e->balanced_not[c][p]) {
		snprintf(note, sizeof(note), "void: only %.1f%% to a real",
			 e->real_share[c][p] * 100);
		f.min = f.median = NAN;
	}
	return bench_emit(e->o, &f);
}

int bench_e2e(const struct bench_opts *o)
{
	struct e2e *e = calloc(1, sizeof(*e));
	int prog[CASE_MAX], r, c, p, k, ret = -1;

	if (!e)
		return -1;
	e->o = o;
	if (setup(e))
		goto out;
	prog[CASE_XLB] = xlb_dp_prog_fd(e->lb.dp);
	prog[CASE_NFT] = bpf_program__fd(e->node->progs.bench_pass);
	prog[CASE_BARE] = bpf_program__fd(e->node->progs.bench_fwd);
	for (r = 0; r < o->runs; r++) {
		for (c = 0; c < CASE_MAX; c++) {
			if (c == CASE_NFT && !e->nft_ok)
				continue;
			if (attach(e, IF_N, prog[c]) || settle(e)) {
				bench_fail("e2e", "attaching %s failed",
					   case_name[c]);
				goto out;
			}
			/* Which protocol goes first alternates: the first run
			 * after a program change came out 10-20% slower. */
			for (k = 0; k < P_MAX; k++) {
				p = (k + r) % P_MAX;
				if (one_run(e, c, p, r))
					goto out;
			}
		}
	}
	for (p = 0; p < P_MAX; p++) {
		for (c = 0; c < CASE_MAX; c++)
			if (c != CASE_NFT || e->nft_ok)
				emit_case(e, c, p);
		if (e->nft_ok)
			emit_vs(e, p, CASE_NFT, 3);
		else
			bench_emit_unmeasured(
				o, "e2e",
				p == P_UDP ? "e2e UDP: XLB vs nftables"
					   : "e2e TCP: XLB vs nftables",
				"nftables does not work on this "
				"kernel");
		emit_vs(e, p, CASE_BARE, 0.8);
	}
	ret = 0;
out:
	teardown(e);
	free(e);
	return ret;
}
