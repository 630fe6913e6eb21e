// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlb-bench: figures, statistics, frames and the balancer set-up; see
 * bench.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "bench.h"
#include "bench_abi.h"
#include "bench_wrapper.skel.h"
#include "nexthop.h"

/* A number for JSON: null when not measured. */
static json_t *json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The target as the table shows it: "<= 6x", ">= 3x", "<= 1 ms". */
static void target_str(const struct bench_figure *f, char *buf, size_t len)
{
	switch (f->goal) {
	case BENCH_GOAL_RATIO_MAX:
		snprintf(buf, len, "<= %gx", f->target);
		break;
	case BENCH_GOAL_RATIO_MIN:
		snprintf(buf, len, ">= %gx", f->target);
		break;
	case BENCH_GOAL_VALUE_MAX:
		snprintf(buf, len, "<= %g %s", f->target, f->unit);
		break;
	default:
		buf[0] = '\0';
	}
}

/* Ratio and met, from the median and the baseline. */
static void judge(struct bench_figure *f)
{
	f->ratio = NAN;
	if (isfinite(f->median) && isfinite(f->baseline) && f->baseline > 0)
		f->ratio = f->median / f->baseline;
	switch (f->goal) {
	case BENCH_GOAL_RATIO_MAX:
		f->met = isfinite(f->ratio) && f->ratio <= f->target;
		break;
	case BENCH_GOAL_RATIO_MIN:
		f->met = isfinite(f->ratio) && f->ratio >= f->target;
		break;
	case BENCH_GOAL_VALUE_MAX:
		f->met = isfinite(f->median) && f->median <= f->target;
		break;
	case BENCH_GOAL_UNMEASURED:
		f->met = false;
		break;
	default:
		/* No target: nothing to miss, unless nothing was measured. */
		f->met = isfinite(f->median);
	}
}

int bench_emit(const struct bench_opts *o, struct bench_figure *f)
{
	char target[64];
	json_t *rec;
	FILE *out;
	char *line;
	int ret = 0;

	judge(f);
	target_str(f, target, sizeof(target));
	printf("  %-44s %10.4g %10.4g %-6s base %10.4g ratio %6.2f %s%s\n",
	       f->name, f->min, f->median, f->unit, f->baseline, f->ratio,
	       target,
	       f->goal == BENCH_GOAL_NONE ? ""
	       : f->met			  ? " met"
					  : " MISSED");
	fflush(stdout);
	if (!o->out)
		return 0;
	rec = json_pack(
		"{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "group",
		f->group, "name", f->name, "unit", f->unit, "min",
		json_num(f->min), "median", json_num(f->median), "baseline",
		json_num(f->baseline), "ratio", json_num(f->ratio), "target",
		target[0] ? json_string(target) : json_null(), "met", f->met);
	if (!rec)
		return -ENOMEM;
	json_object_set_new(
		rec, "baseline_name",
		json_string(f->baseline_name ? f->baseline_name : ""));
	if (f->goal != BENCH_GOAL_NONE && f->goal != BENCH_GOAL_UNMEASURED)
		json_object_set_new(rec, "target_value", json_real(f->target));
	if (f->note)
		json_object_set_new(rec, "note", json_string(f->note));
	line = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (!line)
		return -ENOMEM;
	out = fopen(o->out, "a");
	if (!out) {
		ret = -errno;
		fprintf(stderr, "xlb-bench: %s: %s\n", o->out, strerror(errno));
	} else {
		fprintf(out, "%s\n", line);
		fclose(out);
	}
	free(line);
	return ret;
}

int bench_emit_unmeasured(const struct bench_opts *o, const char *group,
			  const char *name, const char *why)
{
	struct bench_figure f = {
		.group = group,
		.name = name,
		.unit = "-",
		.min = NAN,
		.median = NAN,
		.baseline = NAN,
		.goal = BENCH_GOAL_UNMEASURED,
		.note = why,
	};

	return bench_emit(o, &f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_stats(double *v, int n, double *min, double *median)
{
	if (n <= 0) {
		*min = *median = NAN;
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	*min = v[0];
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int bench_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "xlb-bench: failed (%d): %s\n", rc, cmd);
	return rc;
}

int bench_netns_reals(int nreals)
{
	int i;

	if (unshare(CLONE_NEWNET))
		return -errno;
	if (bench_sh("ip link set lo up && "
		     "ip link add xb0 type veth peer name xb1 && "
		     "ip link add xb2 type veth peer name xb3 && "
		     "ip link set xb0 up && ip link set xb1 up && "
		     "ip link set xb2 up && ip link set xb3 up && "
		     "ip addr add 10.0.0.1/24 dev xb0 && "
		     "ip addr add 10.1.0.1/16 dev xb2 && "
		     "echo 1 > /proc/sys/net/ipv4/ip_forward"))
		return -EIO;
	for (i = 0; i < nreals; i++)
		if (bench_sh("ip neigh replace 10.1.%d.%d lladdr "
			     "02:00:00:00:%02x:%02x dev xb2 nud permanent",
			     (2 + i) >> 8, (2 + i) & 0xff, (2 + i) >> 8,
			     (2 + i) & 0xff))
			return -EIO;
	return if_nametoindex("xb0");
}

int bench_attach_idle(int prog_fd)
{
	static int n;
	char name[IFNAMSIZ];
	int ifindex;

	snprintf(name, sizeof(name), "xbi%d", n++);
	if (bench_sh("ip link add %s type veth peer name %sp", name, name))
		return -EIO;
	ifindex = if_nametoindex(name);
	if (!ifindex)
		return -ENODEV;
	return bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
}

int bench_fail(const char *part, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xlb-bench %s: ", part);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Ones' complement sum of len bytes (len even), not folded. */
static uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint16_t *w = p;
	size_t i;

	for (i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* IPv4 header and TCP/UDP checksums of a frame built here. */
static void pkt_csums(uint8_t *frame)
{
	struct iphdr *ip = (void *)(frame + ETH_HLEN);
	size_t l4len = ntohs(ip->tot_len) - sizeof(*ip);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	uint16_t *check;
	uint32_t sum;

	ip->check = 0;
	ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
	if (ip->protocol == IPPROTO_TCP)
		check = &((struct tcphdr *)l4)->check;
	else
		check = &((struct udphdr *)l4)->check;
	*check = 0;
	sum = csum_add(0, &ip->saddr, 8);
	sum += htons(ip->protocol) + htons(l4len);
	/* Headers and payload are built with an even length. */
	sum = csum_add(sum, l4, l4len);
	*check = csum_fold(sum);
	if (ip->protocol == IPPROTO_UDP && !*check)
		*check = 0xffff;
}

size_t bench_pkt_build(const struct bench_pkt *p, uint8_t *buf)
{
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(eth + 1);
	size_t hdrs = ETH_HLEN + sizeof(*ip) +
		      (p->proto == IPPROTO_TCP ? sizeof(struct tcphdr)
					       : sizeof(struct udphdr));
	size_t len = p->len < hdrs ? hdrs : p->len;
	struct tcphdr *tcp = (void *)(ip + 1);
	struct udphdr *udp = (void *)(ip + 1);

	len = (len + 1) & ~(size_t)1;
	memset(buf, 0, len);
	memcpy(eth->h_dest, p->dmac, ETH_ALEN);
	memcpy(eth->h_source, p->smac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(p->ip_len && p->ip_len < len - ETH_HLEN
				    ? p->ip_len
				    : len - ETH_HLEN);
	ip->ttl = 64;
	ip->protocol = p->proto;
	ip->saddr = htonl(p->saddr);
	ip->daddr = htonl(p->daddr);
	if (p->proto == IPPROTO_TCP) {
		tcp->source = htons(p->sport);
		tcp->dest = htons(p->dport);
		tcp->seq = htonl(1000);
		tcp->ack_seq = htonl(2000);
		tcp->doff = 5;
		((uint8_t *)tcp)[13] = p->tcp_flags;
		tcp->window = htons(65535);
	} else {
		udp->source = htons(p->sport);
		udp->dest = htons(p->dport);
		udp->len = htons(ntohs(ip->tot_len) - sizeof(*ip));
	}
	pkt_csums(buf);
	return len;
}

void bench_pkt_set_flow(uint8_t *frame, uint32_t base, uint32_t n)
{
	uint32_t saddr = htonl(bench_flow_saddr(base, n));
	uint16_t sport = htons(bench_flow_sport(n));

	memcpy(frame + BENCH_OFF_SADDR, &saddr, sizeof(saddr));
	memcpy(frame + BENCH_OFF_SPORT, &sport, sizeof(sport));
	pkt_csums(frame);
}

int bench_lb_open(struct bench_lb *lb, uint32_t ct_size, char *err,
		  size_t errlen)
{
	return bench_lb_open_guard(lb, ct_size, 0, err, errlen);
}

int bench_lb_open_guard(struct bench_lb *lb, uint32_t ct_size,
			uint32_t guard_rate, char *err, size_t errlen)
{
	struct xlb_dp_opts opts = {
		.max_vips = 16,
		.max_reals = 64,
		.ct_size = ct_size,
		.flood_guard_rate = guard_rate,
		.fc_size = XLB_DP_FC_DEFAULT, /* as xlbd runs it */
	};
	struct xlb_config cfg;
	int ret;

	memset(lb, 0, sizeof(*lb));
	lb->guard_rate = guard_rate;
	ret = xlb_dp_open(&opts, &lb->dp, err, errlen);
	if (ret)
		return ret;
	ret = xlb_agent_new(lb->dp, &lb->agent);
	if (ret) {
		snprintf(err, errlen, "agent: %s", strerror(-ret));
		goto out_dp;
	}
	xlb_config_defaults(&cfg);
	ret = xlb_agent_set_globals(lb->agent, &cfg);
	xlb_config_free(&cfg);
	if (ret) {
		snprintf(err, errlen, "globals: %s", strerror(-ret));
		goto out_agent;
	}
	return 0;

out_agent:
	xlb_agent_free(lb->agent);
out_dp:
	xlb_dp_close(lb->dp, true);
	memset(lb, 0, sizeof(*lb));
	return ret;
}

void bench_lb_close(struct bench_lb *lb)
{
	xlb_agent_free(lb->agent);
	xlb_dp_close(lb->dp, true);
	memset(lb, 0, sizeof(*lb));
}

int bench_lb_nexthops(struct bench_lb *lb, const char *part)
{
	struct xlb_nexthops_stats st;
	struct xlb_nexthops *nh;
	int ret;

	ret = xlb_nexthops_open(lb->agent, &nh);
	if (!ret)
		ret = xlb_nexthops_sync(nh);
	if (ret)
		return bench_fail(part, "next hops: %s", strerror(-ret));
	xlb_nexthops_get_stats(nh, &st);
	/* Kept in the map for the run: nothing changes meanwhile. */
	xlb_nexthops_close(nh, false);
	if (st.valid != st.reals)
		return bench_fail(part, "next hops: %zu of %zu resolved",
				  st.valid, st.reals);
	return 0;
}

int bench_lb_vip(struct bench_lb *lb, const char *vip, uint32_t real_first,
		 int n, char *err, size_t errlen)
{
	struct xlb_service svc;
	struct xlb_ip real;
	int i, ret;

	if (xlb_service_parse(vip, &svc)) {
		snprintf(err, errlen, "bad VIP %s", vip);
		return -EINVAL;
	}
	ret = xlb_vip_add(lb->agent, &svc, XLB_HASH_MAGLEV,
			  XLB_RING_SIZE_DEFAULT, err, errlen);
	for (i = 0; !ret && i < n; i++) {
		real.family = AF_INET;
		memset(&real.a, 0, sizeof(real.a));
		real.a.addr[0] = htonl(real_first + i);
		ret = xlb_real_add(lb->agent, &svc, &real, XLB_DEFAULT_WEIGHT,
				   err, errlen);
	}
	return ret;
}

int bench_lb_reuse_maps(struct bench_lb *lb, struct bpf_object *obj)
{
	struct bpf_map *map;
	int fd, ret;

	bpf_object__for_each_map(map, obj) {
		fd = xlb_dp_map_fd(lb->dp, bpf_map__name(map));
		if (fd < 0)
			continue;
		ret = bpf_map__reuse_fd(map, fd);
		if (ret)
			return ret;
	}
	return 0;
}

int bench_wrap_open(struct bench_lb *lb, struct bench_wrapper_bpf **out)
{
	struct bench_wrapper_bpf *w;
	int ret;

	w = bench_wrapper_bpf__open();
	if (!w)
		return -errno;
	/* The balancer's own entry point is loaded by maps.c already. */
	bpf_program__set_autoload(w->progs.xlb_balancer, false);
	/* The wrapper's copy of the balancer runs with the same guard. */
	w->rodata->xlb_flood_guard_rate = lb->guard_rate;
	ret = bench_lb_reuse_maps(lb, w->obj);
	if (!ret)
		ret = bench_wrapper_bpf__load(w);
	if (ret) {
		bench_wrapper_bpf__destroy(w);
		return ret;
	}
	*out = w;
	return 0;
}

int bench_wrap_set(struct bench_wrapper_bpf *w, const uint8_t *frame,
		   size_t len, uint32_t base, uint32_t first, uint32_t nflows,
		   uint32_t cpu_stride)
{
	int i, ncpus = libbpf_num_possible_cpus(), ret = 0;
	struct bench_wrap_cfg *v;
	uint32_t zero = 0;

	if (len > BENCH_FRAME_MAX || ncpus <= 0)
		return -EINVAL;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ncpus; i++) {
		v[i].len = len;
		v[i].vary = base != 0;
		v[i].base = base;
		v[i].first = first + i * cpu_stride;
		v[i].nflows = nflows;
		memcpy(v[i].frame, frame, len);
	}
	if (bpf_map_update_elem(bpf_map__fd(w->maps.bench_cfg), &zero, v,
				BPF_ANY))
		ret = -errno;
	free(v);
	return ret;
}

double bench_run_repeat(int ifindex, int prog_fd, const uint8_t *frame,
			size_t len, uint32_t repeat)
{
	uint8_t out[256];
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);
	uint64_t t0, t1;

	t0 = bench_now_ns();
	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		perror("xlb-bench: BPF_PROG_TEST_RUN");
		return NAN;
	}
	t1 = bench_now_ns();
	if (opts.retval == XDP_ABORTED) {
		fprintf(stderr, "xlb-bench: program aborted\n");
		return NAN;
	}
	return (double)(t1 - t0) / repeat;
}
