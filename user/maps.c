// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The balancer's program and maps: load through the skeleton, attach with
 * libxdp, and every write to a map. Nothing else in userspace touches a
 * BPF map.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"
#include "maps.h"
#include "sysctl.h"
#include "xlb.skel.h"
#include "xlb_conn.h"
#include "xlb_hash.h"

/* A CPU's two conntrack tables (bpf/maps.h): IPv4 flows in ct4_maps' with
 * struct xlb_flow_key4, IPv6 flows in ct_maps' with struct xlb_flow_key. */
enum ct_fam {
	CT_V4 = 0,
	CT_V6,
	CT_FAMS,
};

struct xlb_dp_link {
	int ifindex;
	bool alone; /* attached without libxdp's dispatcher */
	enum xdp_attach_mode mode;
};

struct xlb_dp {
	struct xlb_bpf *skel;
	int ncpus;
	uint32_t max_vips;
	uint32_t max_reals;
	uint32_t nat_sessions; /* nat_fwd and nat_rev size */
	char *pin_path;
	bool adopted; /* the maps were pinned by an earlier agent */
	struct xlb_dp_link links[XLB_MAX_INTERFACES];
	size_t n_links;
	/* Scratch for ring publication: keys 0..M and values. */
	uint32_t *ring_keys;
	uint32_t *ring_vals;
	uint32_t ring_cap;
	/* Cluster sync: the flag every globals write keeps, and the
	 * reader of sync_events. */
	bool sync;
	struct ring_buffer *sync_rb;
	xlb_dp_sync_fn sync_fn;
	void *sync_arg;
	/* The kernel settings' originals (sysctl.c), pinned beside the
	 * maps; 0 until opened or made. */
	int sysctls_fd;
	/* Tests (xlb_dp_fail_write): the writes that can fail counted, and
	 * the one made to fail. */
	uint64_t writes;
	uint64_t fail_at;
	/* addr_filter: how many vip_addrs entries of each kind (VIP,
	 * local) each slot holds; [slot * 2 + 0] VIP, [slot * 2 + 1]
	 * local. */
	uint32_t *filter_n;
	/* Each CPU's conntrack tables, [CT_V4] and [CT_V6], opened once
	 * (the tables live as long as the maps: made at the first start,
	 * adopted after); 0: not opened yet. */
	int ct_fds[CT_FAMS][XLB_MAX_CPUS];
	/* The flow cache's epoch (bpf/flowcache.h), mapped; NULL when the
	 * cache is off (flow_cache_size 0). */
	struct xlb_fc_epoch *fc;
	bool fc_pending; /* a change made, the epoch not moved yet */
};

/* Count one write that can fail; -EIO when it is the one made to fail. */
static int write_fault(struct xlb_dp *dp)
{
	return ++dp->writes == dp->fail_at ? -EIO : 0;
}

/* A flow's cached answer may have changed: no slot filled before this
 * holds any more. Called after the change, never before. */
static void fc_changed(struct xlb_dp *dp)
{
	if (dp->fc)
		__atomic_fetch_add(&dp->fc->epoch, 1, __ATOMIC_SEQ_CST);
}

static void fc_changed_if_pending(struct xlb_dp *dp)
{
	if (dp->fc_pending)
		fc_changed(dp);
	dp->fc_pending = false;
}

/*
 * Writes of the maps a tunnel flow's answer is made of (VIPs, addresses,
 * reals, rings, conntrack, next hops, globals, ports): the flow cache's
 * epoch moves after each, whatever came of it (errno kept).
 */
static int dp_update(struct xlb_dp *dp, int fd, const void *key,
		     const void *val, __u64 flags)
{
	int ret = bpf_map_update_elem(fd, key, val, flags), e = errno;

	fc_changed(dp);
	errno = e;
	return ret;
}

static int dp_delete(struct xlb_dp *dp, int fd, const void *key)
{
	int ret = bpf_map_delete_elem(fd, key), e = errno;

	fc_changed(dp);
	errno = e;
	return ret;
}

/* Map fc_epoch; slots are filled from now if on. */
static int fc_start(struct xlb_dp *dp, bool on)
{
	void *m;

	m = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		 MAP_SHARED, bpf_map__fd(dp->skel->maps.fc_epoch), 0);
	if (m == MAP_FAILED)
		return -errno;
	dp->fc = m;
	return xlb_dp_fc_enable(dp, on);
}

int xlb_dp_fc_enable(struct xlb_dp *dp, bool on)
{
	if (!dp->fc)
		return -ENOENT;
	__atomic_store_n(&dp->fc->on, on ? 1 : 0, __ATOMIC_SEQ_CST);
	/* Slots filled before (by an earlier program or agent too) hold
	 * no more. */
	fc_changed(dp);
	return 0;
}

void xlb_dp_fc_changed(struct xlb_dp *dp)
{
	fc_changed(dp);
}

int xlb_dp_fc_stats(struct xlb_dp *dp, uint64_t *fills, uint64_t *bypassed)
{
	struct xlb_fc_stats vals[XLB_MAX_CPUS];
	uint32_t zero = 0;
	int i;

	*fills = *bypassed = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.fc_stats), &zero,
				vals))
		return -errno;
	for (i = 0; i < dp->ncpus; i++) {
		*fills += vals[i].fills;
		*bypassed += vals[i].bypassed;
	}
	return 0;
}

int xlb_dp_fc_fills(struct xlb_dp *dp, uint64_t *n)
{
	uint64_t bypassed;

	return xlb_dp_fc_stats(dp, n, &bypassed);
}

/* No agent keeps the epoch from now: no slot is filled or used. */
static void fc_stop(struct xlb_dp *dp)
{
	if (!dp->fc)
		return;
	xlb_dp_fc_enable(dp, false);
	munmap(dp->fc, sysconf(_SC_PAGESIZE));
	dp->fc = NULL;
}

uint64_t xlb_dp_fail_write(struct xlb_dp *dp, uint64_t nth)
{
	uint64_t n = dp->writes;

	dp->writes = 0;
	dp->fail_at = nth;
	return n;
}

const char *const xlb_reason_names[XLB_R_MAX] = {
#define XLB_REASON_NAME(id, name) [XLB_R_##id] = name,
	XLB_REASONS(XLB_REASON_NAME)
#undef XLB_REASON_NAME
};

static int ct_fam_of(int family)
{
	return family == XLB_AF_INET ? CT_V4 : CT_V6;
}

static const char *const ct_fam_names[CT_FAMS] = {"IPv4", "IPv6"};

static int ct_outer_fd(const struct xlb_dp *dp, int fam)
{
	return bpf_map__fd(fam == CT_V4 ? dp->skel->maps.ct4_maps
					: dp->skel->maps.ct_maps);
}

static size_t ct_key_size(int fam)
{
	return fam == CT_V4 ? sizeof(struct xlb_flow_key4)
			    : sizeof(struct xlb_flow_key);
}

/* A key of fam's tables, in a buffer that holds either. */
union ct_map_key {
	struct xlb_flow_key4 k4;
	struct xlb_flow_key k;
};

/* The key of flow k in fam's tables. */
static void ct_map_key(int fam, const struct xlb_flow_key *k,
		       union ct_map_key *out)
{
	if (fam == CT_V4)
		xlb_flow_key4_of(&out->k4, k);
	else
		out->k = *k;
}

/* The flow of a key of fam's tables. */
static void ct_flow_of(int fam, const void *mk, struct xlb_flow_key *k)
{
	if (fam == CT_V4)
		xlb_flow_key_of4(k, mk);
	else
		memcpy(k, mk, sizeof(*k));
}

/* Create one LRU conntrack table per possible CPU of the family (those
 * adopted kept): how many were made, or -errno. */
static int create_ct_tables(struct xlb_dp *dp, int fam, uint32_t size,
			    char *err, size_t errlen)
{
	int outer = ct_outer_fd(dp, fam);
	int fd, ret, made = 0;
	uint32_t cpu;

	for (cpu = 0; cpu < (uint32_t)dp->ncpus; cpu++) {
		uint32_t id;

		/* Adopted maps keep their tables and the flows in them. */
		if (!bpf_map_lookup_elem(outer, &cpu, &id))
			continue;
		fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH,
				    fam == CT_V4 ? "xlb_ct4" : "xlb_ct",
				    ct_key_size(fam),
				    sizeof(struct xlb_ct_entry), size, NULL);
		if (fd < 0)
			return xlb_errf(
				err, errlen, -errno,
				"creating %s conntrack table of %u entries "
				"for CPU %u: %s",
				ct_fam_names[fam], size, cpu, strerror(errno));
		ret = bpf_map_update_elem(outer, &cpu, &fd, BPF_ANY);
		close(fd);
		if (ret)
			return xlb_errf(err, errlen, -errno,
					"installing conntrack table: %s",
					strerror(errno));
		made++;
	}
	return made;
}

/* Reuse a pinned devmap, if there is one, before load. */
static int adopt_devmap(struct xlb_dp *dp, struct bpf_map *map,
			const char *pin_path, char *err, size_t errlen)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", pin_path, bpf_map__name(map));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT
			       ? 0
			       : xlb_errf(err, errlen, -errno, "opening %s: %s",
					  path, strerror(errno));
	ret = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (ret)
		return xlb_errf(err, errlen, ret, "reusing %s: %s", path,
				strerror(-ret));
	return 0;
}

/* Pin the devmap after load when it was not adopted. */
static int pin_devmap(struct xlb_dp *dp, char *err, size_t errlen)
{
	struct bpf_map *map = dp->skel->maps.tx_ports;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dp->pin_path, bpf_map__name(map));
	if (!access(path, F_OK))
		return 0;
	if (bpf_obj_pin(bpf_map__fd(map), path))
		return xlb_errf(err, errlen, -errno, "pinning %s: %s", path,
				strerror(errno));
	return 0;
}

/*
 * Give every map a pin under pin_path. libbpf then reuses a compatible
 * map already pinned there (an earlier agent's: a restart adopts the
 * data plane with its flows) and pins the ones it creates.
 */
static int set_pin_paths(struct xlb_dp *dp, const char *pin_path, char *err,
			 size_t errlen)
{
	struct bpf_map *map;
	char path[512];
	int ret;

	if (mkdir(pin_path, 0700) && errno != EEXIST)
		return xlb_errf(err, errlen, -errno, "mkdir %s: %s", pin_path,
				strerror(errno));
	dp->adopted = xlb_dp_pinned(pin_path);
	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		/* A cache: each program starts with its own, empty. */
		if (map == dp->skel->maps.flow_cache)
			continue;
		/* The kernel adds BPF_F_RDONLY_PROG to every devmap, which
		 * libbpf's check of a pinned map then calls a mismatch:
		 * tx_ports is adopted and pinned by hand (pin_devmap). */
		if (map == dp->skel->maps.tx_ports) {
			ret = adopt_devmap(dp, map, pin_path, err, errlen);
			if (ret)
				return ret;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", pin_path,
			 bpf_map__name(map));
		ret = bpf_map__set_pin_path(map, path);
		if (ret)
			return xlb_errf(err, errlen, ret, "pin path %s: %s",
					path, strerror(-ret));
	}
	dp->pin_path = strdup(pin_path);
	return dp->pin_path ? 0 : -ENOMEM;
}

static int filter_build(struct xlb_dp *dp);
static int ct_move_ipv4(struct xlb_dp *dp);

int xlb_dp_open(const struct xlb_dp_opts *opts, struct xlb_dp **out, char *err,
		size_t errlen)
{
	struct xlb_bpf *skel;
	struct xlb_dp *dp;
	uint32_t fc_size, fc_slots;
	int ret, made4;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->max_vips = opts->max_vips ? opts->max_vips : XLB_MAX_VIPS;
	dp->max_reals = opts->max_reals ? opts->max_reals : XLB_MAX_REALS;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0 || dp->ncpus > XLB_MAX_CPUS) {
		ret = xlb_errf(err, errlen, -EINVAL, "unsupported CPU count %d",
			       dp->ncpus);
		goto out_free;
	}
	skel = xlb_bpf__open();
	if (!skel) {
		ret = xlb_errf(err, errlen, -errno, "opening the program: %s",
			       strerror(errno));
		goto out_free;
	}
	dp->skel = skel;
	bpf_map__set_max_entries(skel->maps.vips, dp->max_vips);
	/* VIP addresses and the local pool share vip_addrs. */
	bpf_map__set_max_entries(skel->maps.vip_addrs,
				 dp->max_vips + 2 * XLB_NAT_MAX_LADDRS);
	bpf_map__set_max_entries(skel->maps.rings, dp->max_vips);
	bpf_map__set_max_entries(skel->maps.vip_stats, dp->max_vips);
	bpf_map__set_max_entries(skel->maps.reals, dp->max_reals);
	bpf_map__set_max_entries(skel->maps.real_stats, dp->max_reals);
	bpf_map__set_max_entries(skel->maps.nexthops, dp->max_reals);
	bpf_map__set_max_entries(skel->maps.ct4_maps, dp->ncpus);
	bpf_map__set_max_entries(skel->maps.ct_maps, dp->ncpus);
	dp->nat_sessions = opts->nat_sessions ? opts->nat_sessions
					      : XLB_NAT_SESSIONS_DEFAULT;
	bpf_map__set_max_entries(skel->maps.nat_fwd, dp->nat_sessions);
	bpf_map__set_max_entries(skel->maps.nat_rev, dp->nat_sessions);
	skel->rodata->xlb_flood_guard_rate = opts->flood_guard_rate;
	fc_size = opts->fc_size == XLB_DP_FC_DEFAULT ? XLB_FC_SIZE_DEFAULT
						     : opts->fc_size;
	for (fc_slots = 1; fc_slots < fc_size && fc_slots < XLB_FC_SIZE_MAX;)
		fc_slots <<= 1;
	bpf_map__set_max_entries(skel->maps.flow_cache, fc_slots * dp->ncpus);
	skel->rodata->xlb_fc_mask = fc_slots - 1;
	if (opts->pin_path) {
		ret = set_pin_paths(dp, opts->pin_path, err, errlen);
		if (ret)
			goto out_destroy;
	}
	ret = xlb_bpf__load(skel);
	if (ret) {
		ret = xlb_errf(
			err, errlen, ret,
			dp->adopted ? "loading the program over the maps "
				      "pinned in %s failed (%s): are they "
				      "from another version? `lbctl "
				      "shutdown` or removing them starts "
				      "afresh"
				    : "loading the program (verifier): %s%s",
			dp->adopted ? opts->pin_path : "", strerror(-ret));
		goto out_destroy;
	}
	if (dp->pin_path) {
		ret = pin_devmap(dp, err, errlen);
		if (ret)
			goto out_destroy;
	}
	/* Adopted maps keep the sizes they were made with. */
	dp->max_vips = bpf_map__max_entries(skel->maps.vips);
	dp->max_reals = bpf_map__max_entries(skel->maps.reals);
	dp->nat_sessions = bpf_map__max_entries(skel->maps.nat_fwd);
	made4 = create_ct_tables(
		dp, CT_V4, opts->ct_size ? opts->ct_size : XLB_CT_SIZE_DEFAULT,
		err, errlen);
	ret = made4 < 0
		      ? made4
		      : create_ct_tables(dp, CT_V6,
					 opts->ct6_size ? opts->ct6_size
							: XLB_CT6_SIZE_DEFAULT,
					 err, errlen);
	if (ret < 0)
		goto out_destroy;
	/* Maps pinned by an agent from before the IPv4 tables: their IPv4
	 * flows are in the adopted (IPv6) tables, and move over. */
	if (dp->adopted && made4 > 0 && ret == 0) {
		ret = ct_move_ipv4(dp);
		if (ret) {
			ret = xlb_errf(err, errlen, ret,
				       "moving IPv4 flows to their tables: %s",
				       strerror(-ret));
			goto out_destroy;
		}
	}
	ret = filter_build(dp);
	if (ret) {
		ret = xlb_errf(err, errlen, ret, "address filter: %s",
			       strerror(-ret));
		goto out_destroy;
	}
	ret = fc_start(dp, fc_size != 0);
	if (ret) {
		ret = xlb_errf(err, errlen, ret, "flow cache epoch: %s",
			       strerror(-ret));
		goto out_destroy;
	}
	*out = dp;
	return 0;

out_destroy:
	xlb_bpf__destroy(skel);
	free(dp->pin_path);
	free(dp->filter_n);
out_free:
	free(dp);
	return ret;
}

/* ---- Kernel settings' originals (sysctl.c) ------------------------------ */

/*
 * A one-slot array of its own, made by the agent and pinned beside the
 * program's maps: it lives exactly as long as the pinned data plane, so
 * the agent that adopts the maps finds the originals of the settings an
 * earlier agent changed, and a full stop removes it with them.
 */
#define SYSCTLS_PIN "sysctls"

static void sysctls_pin_path(const struct xlb_dp *dp, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dp->pin_path, SYSCTLS_PIN);
}

static void sysctls_unpin(struct xlb_dp *dp)
{
	char path[512];

	sysctls_pin_path(dp, path, sizeof(path));
	unlink(path);
}

int xlb_dp_sysctls_load(struct xlb_dp *dp, struct xlb_sysctl_saved *out)
{
	uint32_t key = 0;
	char path[512];
	int fd;

	memset(out, 0, sizeof(*out));
	if (!dp->pin_path)
		return 0;
	sysctls_pin_path(dp, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_map_lookup_elem(fd, &key, out)) {
		int ret = -errno;

		/* Another layout (another version): start afresh. */
		close(fd);
		memset(out, 0, sizeof(*out));
		return ret == -EINVAL ? 0 : ret;
	}
	if (dp->sysctls_fd > 0)
		close(dp->sysctls_fd);
	dp->sysctls_fd = fd;
	return 0;
}

int xlb_dp_sysctls_store(struct xlb_dp *dp, const struct xlb_sysctl_saved *in)
{
	uint32_t key = 0;
	char path[512];
	int fd;

	if (!dp->pin_path)
		return 0;
	if (dp->sysctls_fd <= 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_sysctls",
				    sizeof(key), sizeof(*in), 1, NULL);
		if (fd < 0)
			return -errno;
		sysctls_pin_path(dp, path, sizeof(path));
		/* An unreadable pin of another version gives way. */
		unlink(path);
		if (bpf_obj_pin(fd, path)) {
			int ret = -errno;

			close(fd);
			return ret;
		}
		dp->sysctls_fd = fd;
	}
	return bpf_map_update_elem(dp->sysctls_fd, &key, in, BPF_ANY) ? -errno
								      : 0;
}

bool xlb_dp_pinned(const char *pin_path)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/vips", pin_path);
	return !access(path, F_OK);
}

/* Every pinned map (not the flow cache, which never is) off bpffs. */
static void unpin_maps(struct xlb_dp *dp)
{
	struct bpf_map *map;
	char path[512];

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map) ||
		    map == dp->skel->maps.flow_cache)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dp->pin_path,
			 bpf_map__name(map));
		bpf_map__unpin(map, path);
	}
}

void xlb_dp_close(struct xlb_dp *dp, bool full_stop)
{
	if (!dp)
		return;
	fc_stop(dp);
	/* Without a full stop the program stays attached and the maps stay
	 * pinned: the data plane forwards on while no agent runs. */
	if (full_stop || !dp->pin_path) {
		xlb_dp_detach_all(dp);
		if (dp->pin_path) {
			unpin_maps(dp);
			sysctls_unpin(dp);
			rmdir(dp->pin_path);
		}
	}
	if (dp->sysctls_fd > 0)
		close(dp->sysctls_fd);
	for (int fam = 0; fam < CT_FAMS; fam++)
		for (int cpu = 0; cpu < XLB_MAX_CPUS; cpu++)
			if (dp->ct_fds[fam][cpu] > 0)
				close(dp->ct_fds[fam][cpu]);
	free(dp->pin_path);
	ring_buffer__free(dp->sync_rb);
	xlb_bpf__destroy(dp->skel);
	free(dp->ring_keys);
	free(dp->ring_vals);
	free(dp->filter_n);
	free(dp);
}

int xlb_dp_prog_fd(const struct xlb_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xlb_balancer);
}

uint32_t xlb_dp_max_vips(const struct xlb_dp *dp)
{
	return dp->max_vips;
}

uint32_t xlb_dp_max_reals(const struct xlb_dp *dp)
{
	return dp->max_reals;
}

int xlb_dp_ncpus(const struct xlb_dp *dp)
{
	return dp->ncpus;
}

uint32_t xlb_dp_nat_sessions(const struct xlb_dp *dp)
{
	return dp->nat_sessions;
}

/* Redirects to an interface go through tx_ports: key and value ifindex. */
static int tx_port_set(struct xlb_dp *dp, uint32_t ifindex, bool on)
{
	int fd = bpf_map__fd(dp->skel->maps.tx_ports);

	if (on)
		return dp_update(dp, fd, &ifindex, &ifindex, BPF_ANY) ? -errno
								      : 0;
	if (dp_delete(dp, fd, &ifindex) && errno != ENOENT)
		return -errno;
	return 0;
}

int xlb_dp_tx_ports_prune(struct xlb_dp *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.tx_ports);
	uint32_t key, next, stale[64];
	size_t n = 0, i, l;
	void *prev = NULL;

	while (n < 64 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		for (l = 0; l < dp->n_links; l++)
			if ((uint32_t)dp->links[l].ifindex == key)
				break;
		if (l == dp->n_links)
			stale[n++] = key;
	}
	for (i = 0; i < n; i++)
		tx_port_set(dp, stale[i], false);
	return 0;
}

int xlb_dp_vlans_sync(struct xlb_dp *dp, const struct xlb_dp_vlans *ifs,
		      size_t n)
{
	int fd = bpf_map__fd(dp->skel->maps.vlans);
	uint32_t key, next, stale[XLB_VLAN_IFACES_MAX];
	struct xlb_vlan_set set;
	size_t i, k, n_stale = 0;
	void *prev = NULL;
	bool any;

	if (write_fault(dp))
		return -EIO;
	for (i = 0; i < n; i++) {
		key = (uint32_t)ifs[i].ifindex;
		any = false;
		for (k = 0; ifs[i].vids && k < XLB_VLAN_WORDS; k++)
			any |= ifs[i].vids[k] != 0;
		if (!any) {
			if (dp_delete(dp, fd, &key) && errno != ENOENT)
				return -errno;
			continue;
		}
		/* One update: a frame sees the old set or the new one. */
		memcpy(set.vids, ifs[i].vids, sizeof(set.vids));
		if (dp_update(dp, fd, &key, &set, BPF_ANY))
			return -errno;
	}
	while (n_stale < XLB_VLAN_IFACES_MAX &&
	       !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		for (i = 0; i < n; i++)
			if ((uint32_t)ifs[i].ifindex == key)
				break;
		if (i == n)
			stale[n_stale++] = key;
	}
	for (i = 0; i < n_stale; i++)
		if (dp_delete(dp, fd, &stale[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

/* The XLB balancer already on ifindex, if any: its id and how attached. */
static int find_ours(int ifindex, uint32_t *prog_id, bool *alone)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *prog = NULL;
	int ret = -ENOENT;

	if (libxdp_get_error(mp) || !mp)
		return -ENOENT;
	*alone = xdp_multiprog__is_legacy(mp);
	if (*alone)
		prog = xdp_multiprog__main_prog(mp);
	else
		for (prog = xdp_multiprog__next_prog(NULL, mp); prog;
		     prog = xdp_multiprog__next_prog(prog, mp))
			if (!strcmp(xdp_program__name(prog), "xlb_balancer"))
				break;
	if (prog && !strcmp(xdp_program__name(prog), "xlb_balancer")) {
		*prog_id = xdp_program__id(prog);
		ret = 0;
	} else if (prog) {
		ret = -EBUSY;
	}
	xdp_multiprog__close(mp);
	return ret;
}

bool xlb_dp_running_on(const char *ifname)
{
	int ifindex = if_nametoindex(ifname);
	uint32_t id;
	bool alone;

	return ifindex && !find_ours(ifindex, &id, &alone);
}

/*
 * An earlier agent's balancer runs on ifindex: swap ours in with one
 * atomic replace, so no packet meets an interface without a program.
 * Under libxdp's dispatcher the running copy is kept (it shares our maps).
 */
static int take_over(struct xlb_dp *dp, struct xlb_dp_link *link,
		     uint32_t old_id, bool alone)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	uint32_t flags = XDP_FLAGS_REPLACE;
	int old_fd, ret;

	link->alone = alone;
	if (!alone)
		return 0;
	old_fd = bpf_prog_get_fd_by_id(old_id);
	if (old_fd < 0)
		return -errno;
	opts.old_prog_fd = old_fd;
	flags |= link->mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE
					    : XDP_FLAGS_DRV_MODE;
	ret = bpf_xdp_attach(link->ifindex, xlb_dp_prog_fd(dp), flags, &opts);
	close(old_fd);
	return ret;
}

int xlb_dp_attach(struct xlb_dp *dp, const char *ifname, enum xlb_xdp_mode mode,
		  char *err, size_t errlen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	struct xlb_dp_link *link;
	uint32_t old_id;
	char msg[256];
	int ifindex, ret;
	bool alone;

	if (dp->n_links == XLB_MAX_INTERFACES)
		return xlb_errf(err, errlen, -ENOSPC, "too many interfaces");
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return xlb_errf(err, errlen, -ENODEV, "no interface %s",
				ifname);
	link = &dp->links[dp->n_links];
	link->ifindex = ifindex;
	link->mode = mode == XLB_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	ret = find_ours(ifindex, &old_id, &alone);
	if (ret == -EBUSY)
		return xlb_errf(err, errlen, ret,
				"%s runs another XDP program; not replacing it",
				ifname);
	if (!ret) {
		ret = take_over(dp, link, old_id, alone);
		if (ret)
			return xlb_errf(err, errlen, ret,
					"replacing the running program on %s: "
					"%s",
					ifname, strerror(-ret));
		ret = tx_port_set(dp, ifindex, true);
		if (ret)
			return xlb_errf(err, errlen, ret,
					"adding %s to tx_ports: %s", ifname,
					strerror(-ret));
		dp->n_links++;
		return 0;
	}
	/* In the devmap before the first packet can be redirected to it. */
	ret = tx_port_set(dp, ifindex, true);
	if (ret)
		return xlb_errf(err, errlen, ret, "adding %s to tx_ports: %s",
				ifname, strerror(-ret));

	prog = xdp_program__from_fd(xlb_dp_prog_fd(dp));
	ret = libxdp_get_error(prog);
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		return xlb_errf(err, errlen, ret, "libxdp: %s", msg);
	}
	xlb_log_libs_quiet(true);
	ret = xdp_program__attach(prog, ifindex, link->mode, 0);
	xlb_log_libs_quiet(false);
	xdp_program__close(prog);
	if (ret) {
		tx_port_set(dp, ifindex, false);
		libxdp_strerror(ret, msg, sizeof(msg));
		return xlb_errf(err, errlen, ret,
				"attaching to %s in %s mode: %s", ifname,
				mode == XLB_XDP_GENERIC ? "generic" : "native",
				msg);
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	link->alone = libxdp_get_error(mp) || !mp ||
		      xdp_multiprog__is_legacy(mp);
	if (!libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	dp->n_links++;
	return 0;
}

bool xlb_dp_attached_alone(const struct xlb_dp *dp, const char *ifname)
{
	int ifindex = if_nametoindex(ifname);
	size_t i;

	for (i = 0; i < dp->n_links; i++)
		if (dp->links[i].ifindex == ifindex)
			return dp->links[i].alone;
	return false;
}

int xlb_dp_detach_all(struct xlb_dp *dp)
{
	int ret = 0, r;

	while (dp->n_links) {
		struct xlb_dp_link *link = &dp->links[--dp->n_links];
		struct xdp_multiprog *mp;
		uint32_t id;
		bool alone;

		tx_port_set(dp, link->ifindex, false);
		/* Whoever attached it (we, or the agent we took over from),
		 * detach what is ours and only that. */
		if (find_ours(link->ifindex, &id, &alone))
			continue;
		mp = xdp_multiprog__get_from_ifindex(link->ifindex);
		if (libxdp_get_error(mp) || !mp)
			continue;
		r = xdp_multiprog__detach(mp);
		xdp_multiprog__close(mp);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

bool xlb_dp_adopted(const struct xlb_dp *dp)
{
	return dp->adopted;
}

int xlb_dp_vips_dump(struct xlb_dp *dp, xlb_dp_vip_fn fn, void *arg)
{
	int fd = bpf_map__fd(dp->skel->maps.vips);
	struct xlb_vip_key key, next;
	struct xlb_vip_meta meta;
	void *prev = NULL;
	int ret;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &meta))
			continue;
		ret = fn(&key, &meta, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int xlb_dp_real_get(struct xlb_dp *dp, uint32_t id, struct xlb_real *r)
{
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.reals), &id, r))
		return -errno;
	return 0;
}

int xlb_dp_ring_size(struct xlb_dp *dp, uint32_t vip_id, uint32_t *m)
{
	uint32_t inner_id, slot = XLB_RING_SLOT_SIZE;
	int fd, ret = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.rings), &vip_id,
				&inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &slot, m))
		ret = -errno;
	close(fd);
	return ret;
}

int xlb_dp_set_globals(struct xlb_dp *dp, const struct xlb_globals *g)
{
	struct xlb_globals v = *g;
	uint32_t zero = 0;

	if (write_fault(dp))
		return -EIO;
	/* The sync flag belongs to xlb_dp_set_sync(), not to the caller. */
	if (dp->sync)
		v.flags |= XLB_G_F_SYNC;
	else
		v.flags &= ~XLB_G_F_SYNC;
	if (dp_update(dp, bpf_map__fd(dp->skel->maps.globals), &zero, &v,
		      BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_vip_put(struct xlb_dp *dp, const struct xlb_vip_key *key,
		   const struct xlb_vip_meta *meta)
{
	if (write_fault(dp))
		return -EIO;
	if (dp_update(dp, bpf_map__fd(dp->skel->maps.vips), key, meta, BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_vip_delete(struct xlb_dp *dp, const struct xlb_vip_key *key)
{
	if (dp_delete(dp, bpf_map__fd(dp->skel->maps.vips), key) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

/* The addr_filter bits (XLB_FILTER_*) a vip_addrs value stands for. */
static uint32_t filter_kinds(uint32_t v)
{
	return (v & ~XLB_ADDR_F_LOCAL ? XLB_FILTER_VIP : 0) |
	       (v & XLB_ADDR_F_LOCAL ? XLB_FILTER_LOCAL : 0);
}

/* Write addr_filter's word of slot from the counts. */
static int filter_write(struct xlb_dp *dp, uint32_t slot)
{
	uint32_t word = slot / 32, s;
	uint64_t w = 0;

	for (s = word * 32; s < word * 32 + 32; s++) {
		uint64_t bits =
			(dp->filter_n[s * 2] ? XLB_FILTER_VIP : 0) |
			(dp->filter_n[s * 2 + 1] ? XLB_FILTER_LOCAL : 0);

		w |= bits << ((s % 32) * 2);
	}
	if (dp_update(dp, bpf_map__fd(dp->skel->maps.addr_filter), &word, &w,
		      BPF_ANY))
		return -errno;
	return 0;
}

/* Count an address's kinds in (delta 1) or out (-1) of its slot. */
static int filter_count(struct xlb_dp *dp, const struct xlb_vip_addr_key *key,
			uint32_t kinds, int delta)
{
	uint32_t slot = xlb_addr_slot(key->addr.addr), k;
	bool changed = false;

	for (k = 0; k < 2; k++) {
		uint32_t *n = &dp->filter_n[slot * 2 + k];

		if (!(kinds & (1u << k)))
			continue;
		if (delta > 0)
			changed |= (*n)++ == 0;
		else if (*n)
			changed |= --(*n) == 0;
	}
	return changed ? filter_write(dp, slot) : 0;
}

/*
 * addr_filter from what vip_addrs holds (adopted maps hold entries
 * already; a filter from an earlier agent is rewritten whole).
 */
static int filter_build(struct xlb_dp *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_addrs);
	struct xlb_vip_addr_key key, next;
	uint32_t v, word;
	void *prev = NULL;
	int ret;

	dp->filter_n = calloc((size_t)XLB_FILTER_WORDS * 32 * 2,
			      sizeof(*dp->filter_n));
	if (!dp->filter_n)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		v = filter_kinds(v);
		word = xlb_addr_slot(key.addr.addr);
		if (v & XLB_FILTER_VIP)
			dp->filter_n[word * 2]++;
		if (v & XLB_FILTER_LOCAL)
			dp->filter_n[word * 2 + 1]++;
	}
	for (word = 0; word < XLB_FILTER_WORDS; word++) {
		ret = filter_write(dp, word * 32);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Write an address's vip_addrs value (old: what it held); 0 (no VIP, not
 * local) removes it. The filter learns a kind before the entry has it
 * and forgets one after, so that it never misses an address.
 */
static int vip_addrs_store(struct xlb_dp *dp,
			   const struct xlb_vip_addr_key *key, uint32_t old,
			   uint32_t v)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_addrs);
	uint32_t was = filter_kinds(old), now = filter_kinds(v);
	int ret;

	ret = filter_count(dp, key, now & ~was, 1);
	if (ret)
		return ret;
	if (!v) {
		if (dp_delete(dp, fd, key) && errno != ENOENT)
			return -errno;
	} else if (dp_update(dp, fd, key, &v, BPF_ANY)) {
		return -errno;
	}
	return filter_count(dp, key, was & ~now, -1);
}

int xlb_dp_vip_addr_ref(struct xlb_dp *dp, const struct xlb_vip_addr_key *key,
			int delta)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_addrs);
	uint32_t v = 0, n, flags;

	if (delta > 0 && write_fault(dp))
		return -EIO;
	if (bpf_map_lookup_elem(fd, key, &v) && errno != ENOENT)
		return -errno;
	/* The count lives beside the local-address flag. */
	flags = v & XLB_ADDR_F_LOCAL;
	n = v & ~XLB_ADDR_F_LOCAL;
	if (delta < 0 && n <= (uint32_t)-delta)
		n = 0;
	else
		n += delta;
	return vip_addrs_store(dp, key, v, flags | n);
}

int xlb_dp_local_addr_set(struct xlb_dp *dp, const struct xlb_vip_addr_key *key,
			  bool local)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_addrs);
	uint32_t v = 0;

	if (local && write_fault(dp))
		return -EIO;
	if (bpf_map_lookup_elem(fd, key, &v) && errno != ENOENT)
		return -errno;
	return vip_addrs_store(dp, key, v,
			       local ? v | XLB_ADDR_F_LOCAL
				     : v & ~XLB_ADDR_F_LOCAL);
}

bool xlb_dp_local_addr_get(struct xlb_dp *dp,
			   const struct xlb_vip_addr_key *key)
{
	uint32_t v = 0;

	return !bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.vip_addrs), key,
				    &v) &&
	       (v & XLB_ADDR_F_LOCAL);
}

/* nat_laddrs index of a family's slot; -EINVAL when out of range. */
static int laddr_index(int family, uint32_t slot, uint32_t *idx)
{
	if ((family != XLB_AF_INET && family != XLB_AF_INET6) ||
	    slot >= XLB_NAT_MAX_LADDRS)
		return -EINVAL;
	*idx = (family == XLB_AF_INET ? 0 : 1) * XLB_NAT_MAX_LADDRS + slot;
	return 0;
}

int xlb_dp_nat_laddr_put(struct xlb_dp *dp, int family, uint32_t slot,
			 const struct xlb_addr *addr)
{
	struct xlb_nat_laddr v = {.addr = *addr};
	uint32_t idx;
	int ret;

	ret = laddr_index(family, slot, &idx);
	if (ret)
		return ret;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.nat_laddrs), &idx,
				&v, BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_nat_laddr_get(struct xlb_dp *dp, int family, uint32_t slot,
			 struct xlb_addr *addr)
{
	struct xlb_nat_laddr v;
	uint32_t idx;
	int ret;

	ret = laddr_index(family, slot, &idx);
	if (ret)
		return ret;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.nat_laddrs), &idx,
				&v))
		return -errno;
	*addr = v.addr;
	return 0;
}

int xlb_dp_get_globals(struct xlb_dp *dp, struct xlb_globals *g)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.globals), &zero, g))
		return -errno;
	return 0;
}

int xlb_dp_real_put(struct xlb_dp *dp, uint32_t id, const struct xlb_real *r)
{
	if (id >= dp->max_reals)
		return -ERANGE;
	if (dp_update(dp, bpf_map__fd(dp->skel->maps.reals), &id, r, BPF_ANY))
		return -errno;
	return 0;
}

/* Make the scratch arrays hold m + 1 entries. */
static int ring_scratch(struct xlb_dp *dp, uint32_t m)
{
	uint32_t *keys, *vals, i;

	if (m + 1 <= dp->ring_cap)
		return 0;
	keys = realloc(dp->ring_keys, (m + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	dp->ring_keys = keys;
	vals = realloc(dp->ring_vals, (m + 1) * sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	dp->ring_vals = vals;
	for (i = 0; i <= m; i++)
		keys[i] = i;
	dp->ring_cap = m + 1;
	return 0;
}

int xlb_dp_ring_publish(struct xlb_dp *dp, uint32_t vip_id, const uint32_t *ids,
			uint32_t m)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	uint32_t count = m + 1;
	int fd, ret;

	if (write_fault(dp))
		return -EIO;
	if (!m || m > XLB_RING_SIZE_MAX || vip_id >= dp->max_vips)
		return -EINVAL;
	ret = ring_scratch(dp, m);
	if (ret)
		return ret;
	dp->ring_vals[XLB_RING_SLOT_SIZE] = m;
	memcpy(dp->ring_vals + 1, ids, m * sizeof(*ids));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring", sizeof(uint32_t),
			    sizeof(uint32_t), m + 1, &opts);
	if (fd < 0)
		return -errno;
	ret = bpf_map_update_batch(fd, dp->ring_keys, dp->ring_vals, &count,
				   NULL);
	if (ret)
		goto out_close;
	/* The switch: packets see the old ring or this one, nothing else. */
	if (dp_update(dp, bpf_map__fd(dp->skel->maps.rings), &vip_id, &fd,
		      BPF_ANY))
		ret = -errno;
out_close:
	close(fd);
	return ret;
}

int xlb_dp_ring_clear(struct xlb_dp *dp, uint32_t vip_id)
{
	if (dp_delete(dp, bpf_map__fd(dp->skel->maps.rings), &vip_id) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

/* Sum one entry of a per-CPU counters map. */
static int sum_counters(struct xlb_dp *dp, struct bpf_map *map, uint32_t id,
			struct xlb_counters *out)
{
	struct xlb_counters vals[XLB_MAX_CPUS];
	int i;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(map), &id, vals))
		return -errno;
	for (i = 0; i < dp->ncpus; i++) {
		out->packets += vals[i].packets;
		out->bytes += vals[i].bytes;
		out->new_flows += vals[i].new_flows;
		out->reply_packets += vals[i].reply_packets;
		out->reply_bytes += vals[i].reply_bytes;
	}
	return 0;
}

int xlb_dp_vip_counters(struct xlb_dp *dp, uint32_t vip_id,
			struct xlb_counters *out)
{
	return sum_counters(dp, dp->skel->maps.vip_stats, vip_id, out);
}

int xlb_dp_real_counters(struct xlb_dp *dp, uint32_t real_id,
			 struct xlb_counters *out)
{
	return sum_counters(dp, dp->skel->maps.real_stats, real_id, out);
}

int xlb_dp_counters_reset(struct xlb_dp *dp, bool real, uint32_t id)
{
	struct xlb_counters zero[XLB_MAX_CPUS];
	struct bpf_map *map = real ? dp->skel->maps.real_stats
				   : dp->skel->maps.vip_stats;

	memset(zero, 0, sizeof(zero));
	if (bpf_map_update_elem(bpf_map__fd(map), &id, zero, BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_reasons(struct xlb_dp *dp, uint64_t out[XLB_R_MAX])
{
	int fd = bpf_map__fd(dp->skel->maps.reason_stats);
	uint64_t vals[XLB_MAX_CPUS];
	uint32_t r;
	int i;

	for (r = 0; r < XLB_R_MAX; r++) {
		out[r] = 0;
		if (bpf_map_lookup_elem(fd, &r, vals))
			return -errno;
		for (i = 0; i < dp->ncpus; i++)
			out[r] += vals[i];
	}
	return 0;
}

#define WALK_BATCH 4096

/* One batch of a walk: n keys and values side by side. */
typedef int (*walk_fn)(const void *keys, const void *vals, uint32_t n,
		       void *arg);

/*
 * Walk a hash map in batches (BPF_MAP_LOOKUP_BATCH). Entries that the
 * data path adds or removes meanwhile may be seen or missed, never
 * torn.
 */
static int map_walk(int fd, size_t ksize, size_t vsize, walk_fn fn, void *arg)
{
	/* The batch token of a hash map is a bucket index; room to spare. */
	uint64_t in_tok[8], out_tok[8];
	void *keys, *vals, *in = NULL;
	bool done = false;
	uint32_t count;
	int ret = 0;

	keys = calloc(WALK_BATCH, ksize);
	vals = calloc(WALK_BATCH, vsize);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		count = WALK_BATCH;
		ret = bpf_map_lookup_batch(fd, in, out_tok, keys, vals, &count,
					   NULL);
		if (ret && errno != ENOENT) {
			ret = -errno;
			break;
		}
		done = ret != 0;
		ret = count ? fn(keys, vals, count, arg) : 0;
		if (ret)
			break;
		memcpy(in_tok, out_tok, sizeof(in_tok));
		in = in_tok;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

int xlb_dp_ct_fd(struct xlb_dp *dp, int family, uint32_t cpu)
{
	uint32_t id;
	int fd;

	if (bpf_map_lookup_elem(ct_outer_fd(dp, ct_fam_of(family)), &cpu, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/* CPU cpu's conntrack table of fam, kept open by dp: not to be closed. */
static int ct_table_fd(struct xlb_dp *dp, int fam, uint32_t cpu)
{
	int fd;

	if (cpu >= XLB_MAX_CPUS || cpu >= (uint32_t)dp->ncpus)
		return -ENOENT;
	if (dp->ct_fds[fam][cpu] > 0)
		return dp->ct_fds[fam][cpu];
	fd = xlb_dp_ct_fd(dp, fam == CT_V4 ? XLB_AF_INET : XLB_AF_INET6, cpu);
	if (fd > 0)
		dp->ct_fds[fam][cpu] = fd;
	return fd;
}

int xlb_dp_ct_get(struct xlb_dp *dp, uint32_t cpu,
		  const struct xlb_flow_key *key, struct xlb_ct_entry *e)
{
	int fam = ct_fam_of(key->family), fd = ct_table_fd(dp, fam, cpu);
	union ct_map_key mk;

	if (fd < 0)
		return fd;
	ct_map_key(fam, key, &mk);
	return bpf_map_lookup_elem(fd, &mk, e) ? -errno : 0;
}

int xlb_dp_ct_put(struct xlb_dp *dp, uint32_t cpu,
		  const struct xlb_flow_key *key, const struct xlb_ct_entry *e)
{
	int fam = ct_fam_of(key->family), fd = ct_table_fd(dp, fam, cpu);
	union ct_map_key mk;

	if (fd < 0)
		return fd;
	ct_map_key(fam, key, &mk);
	return dp_update(dp, fd, &mk, e, BPF_ANY) ? -errno : 0;
}

int xlb_dp_ct_del(struct xlb_dp *dp, uint32_t cpu,
		  const struct xlb_flow_key *key)
{
	int fam = ct_fam_of(key->family), fd = ct_table_fd(dp, fam, cpu);
	union ct_map_key mk;

	if (fd < 0)
		return fd;
	ct_map_key(fam, key, &mk);
	return dp_delete(dp, fd, &mk) ? -errno : 0;
}

struct ct_each {
	int fam;
	xlb_dp_ct_fn fn;
	void *arg;
};

/* One batch of a table: each entry to the caller, its key as a flow. */
static int ct_each_batch(const void *keys, const void *vals, uint32_t n,
			 void *arg)
{
	const struct xlb_ct_entry *v = vals;
	struct ct_each *e = arg;
	size_t ksize = ct_key_size(e->fam);
	struct xlb_flow_key k;
	uint32_t i;

	for (i = 0; i < n; i++) {
		ct_flow_of(e->fam, (const char *)keys + i * ksize, &k);
		e->fn(&k, &v[i], e->arg);
	}
	return 0;
}

int xlb_dp_ct_foreach_cpu(struct xlb_dp *dp, uint32_t cpu, xlb_dp_ct_fn fn,
			  void *arg)
{
	struct ct_each e = {.fn = fn, .arg = arg};
	int fd, ret;

	for (e.fam = 0; e.fam < CT_FAMS; e.fam++) {
		fd = ct_table_fd(dp, e.fam, cpu);
		if (fd < 0)
			continue; /* no table on that CPU */
		ret = map_walk(fd, ct_key_size(e.fam),
			       sizeof(struct xlb_ct_entry), ct_each_batch, &e);
		if (ret)
			return ret;
	}
	return 0;
}

struct ct_move {
	int fd4, fd6;
};

/* One batch of an IPv6 table: its IPv4 flows to the IPv4 table. */
static int ct_move_batch(const void *keys, const void *vals, uint32_t n,
			 void *arg)
{
	const struct xlb_flow_key *k = keys;
	const struct xlb_ct_entry *v = vals;
	struct ct_move *m = arg;
	struct xlb_flow_key4 k4;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (k[i].family != XLB_AF_INET)
			continue;
		xlb_flow_key4_of(&k4, &k[i]);
		if (bpf_map_update_elem(m->fd4, &k4, &v[i], BPF_ANY))
			return -errno;
		/* Its bucket is behind the walk: deleting it is safe. */
		bpf_map_delete_elem(m->fd6, &k[i]);
	}
	return 0;
}

/*
 * Every CPU's IPv4 flows from its IPv6 table (where an agent from before
 * the IPv4 tables put them) into its IPv4 table, so that a restart across
 * the change keeps them. Flows the old program still adds until the new
 * one is attached are not moved: they are scheduled afresh.
 */
static int ct_move_ipv4(struct xlb_dp *dp)
{
	struct ct_move m;
	uint32_t cpu;
	int ret;

	for (cpu = 0; cpu < (uint32_t)dp->ncpus; cpu++) {
		m.fd4 = ct_table_fd(dp, CT_V4, cpu);
		m.fd6 = ct_table_fd(dp, CT_V6, cpu);
		if (m.fd4 < 0 || m.fd6 < 0)
			continue;
		ret = map_walk(m.fd6, sizeof(struct xlb_flow_key),
			       sizeof(struct xlb_ct_entry), ct_move_batch, &m);
		if (ret)
			return ret;
	}
	return 0;
}

int xlb_dp_ct_foreach(struct xlb_dp *dp, xlb_dp_ct_fn fn, void *arg)
{
	uint32_t cpu;
	int ret;

	for (cpu = 0; cpu < (uint32_t)dp->ncpus; cpu++) {
		ret = xlb_dp_ct_foreach_cpu(dp, cpu, fn, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int xlb_dp_map_fd(struct xlb_dp *dp, const char *name)
{
	struct bpf_map *map;

	map = bpf_object__find_map_by_name(dp->skel->obj, name);
	return map ? bpf_map__fd(map) : -ENOENT;
}

/* ---- FULLNAT sessions --------------------------------------------------- */

struct nat_each {
	xlb_dp_nat_fn fn;
	void *arg;
};

static int nat_each_batch(const void *keys, const void *vals, uint32_t n,
			  void *arg)
{
	const struct xlb_flow_key *k = keys;
	const struct xlb_nat_fwd *v = vals;
	struct nat_each *e = arg;
	uint32_t i;

	for (i = 0; i < n; i++)
		e->fn(&k[i], &v[i], e->arg);
	return 0;
}

int xlb_dp_nat_foreach(struct xlb_dp *dp, xlb_dp_nat_fn fn, void *arg)
{
	struct nat_each e = {.fn = fn, .arg = arg};

	return map_walk(bpf_map__fd(dp->skel->maps.nat_fwd),
			sizeof(struct xlb_flow_key), sizeof(struct xlb_nat_fwd),
			nat_each_batch, &e);
}

int xlb_dp_nat_rev_get(struct xlb_dp *dp, const struct xlb_nat_key *key,
		       struct xlb_nat_rev *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.nat_rev), key, out))
		return -errno;
	return 0;
}

/*
 * The idle timeout of a session by its state (docs/FULLNAT.md,
 * "Lifetime"), in seconds; protocols other than TCP age as UDP.
 */
static uint32_t nat_timeout_s(const struct xlb_flow_key *k,
			      const struct xlb_nat_fwd *e,
			      const struct xlb_globals *g)
{
	return xlb_nat_timeout(g, k->proto, e->state);
}

/* Idle past its timeout at now? A zero timeout (no globals) never is. */
static bool nat_expired(const struct xlb_flow_key *k,
			const struct xlb_nat_fwd *e,
			const struct xlb_globals *g, uint64_t now)
{
	uint64_t t = nat_timeout_s(k, e, g);

	return t && now > e->last_seen &&
	       now - e->last_seen > t * 1000000000ull;
}

/* Growable array of fixed-size keys. */
struct key_list {
	void *keys;
	size_t n, cap, size;
};

static int key_list_add(struct key_list *l, const void *key)
{
	void *nk;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		nk = realloc(l->keys, l->cap * l->size);
		if (!nk)
			return -ENOMEM;
		l->keys = nk;
	}
	memcpy((char *)l->keys + l->n++ * l->size, key, l->size);
	return 0;
}

struct nat_gc {
	struct xlb_dp *dp;
	/* Which sessions go: expired ones (sweeps) or those matching
	 * (flushes). */
	bool (*drop)(const struct nat_gc *c, const struct xlb_flow_key *k,
		     const struct xlb_nat_fwd *e);
	const struct xlb_globals *g;
	uint64_t now;
	const struct xlb_ip *laddr; /* flush: sessions of this address */
	int64_t vip_id;		    /* flush: sessions of this VIP, or -1 */
	int fwd_fd, rev_fd;
	struct key_list expired; /* struct xlb_flow_key */
	struct key_list orphans; /* struct xlb_nat_key, to check again */
	struct xlb_nat_gc_stats *st;
};

/* Does the session of rev (looked up afresh) still own the tuple key? */
static bool nat_rev_owned(struct nat_gc *c, const struct xlb_nat_key *key,
			  const struct xlb_nat_rev *rev)
{
	struct xlb_nat_fwd f;

	if (bpf_map_lookup_elem(c->fwd_fd, &rev->flow, &f))
		return false;
	return !memcmp(&f.laddr, &key->laddr, sizeof(f.laddr)) &&
	       f.lport == key->lport;
}

static int gc_rev_batch(const void *keys, const void *vals, uint32_t n,
			void *arg)
{
	const struct xlb_nat_key *k = keys;
	const struct xlb_nat_rev *v = vals;
	struct nat_gc *c = arg;
	uint32_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if (nat_rev_owned(c, &k[i], &v[i]))
			continue;
		ret = key_list_add(&c->orphans, &k[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int gc_fwd_batch(const void *keys, const void *vals, uint32_t n,
			void *arg)
{
	const struct xlb_flow_key *k = keys;
	const struct xlb_nat_fwd *v = vals;
	struct nat_gc *c = arg;
	uint32_t i;
	int ret;

	c->st->scanned += n;
	for (i = 0; i < n; i++) {
		if (!c->drop(c, &k[i], &v[i]))
			continue;
		ret = key_list_add(&c->expired, &k[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* The reply tuple of a session: the key of its nat_rev entry. */
static int nat_rev_key(struct xlb_dp *dp, const struct xlb_flow_key *k,
		       const struct xlb_nat_fwd *e, struct xlb_nat_key *rk)
{
	struct xlb_real r;

	if (xlb_dp_real_get(dp, e->real_id, &r) || !r.family)
		return -ENOENT;
	memset(rk, 0, sizeof(*rk));
	rk->raddr = r.addr;
	rk->laddr = e->laddr;
	rk->rport = k->dport;
	rk->lport = e->lport;
	rk->proto = k->proto;
	rk->family = k->family;
	return 0;
}

/* Remove one expired session, both ways, if it is still expired. */
static void gc_expire(struct nat_gc *c, const struct xlb_flow_key *k)
{
	struct xlb_nat_key rk;
	struct xlb_nat_rev rev;
	struct xlb_nat_fwd e;

	/* A packet may have refreshed it since the walk saw it. */
	if (bpf_map_lookup_elem(c->fwd_fd, k, &e) || !c->drop(c, k, &e))
		return;
	if (bpf_map_delete_elem(c->fwd_fd, k))
		return;
	/* Not only for time: also a real gone, `lbctl` flushing. */
	fc_changed(c->dp);
	c->st->expired++;
	/* The reverse entry may already name another flow (the tuple was
	 * reclaimed): then it is not ours to delete. */
	if (!nat_rev_key(c->dp, k, &e, &rk) &&
	    !bpf_map_lookup_elem(c->rev_fd, &rk, &rev) &&
	    !memcmp(&rev.flow, k, sizeof(*k)))
		bpf_map_delete_elem(c->rev_fd, &rk);
}

static bool drop_expired(const struct nat_gc *c, const struct xlb_flow_key *k,
			 const struct xlb_nat_fwd *e)
{
	return nat_expired(k, e, c->g, c->now);
}

static bool drop_matching(const struct nat_gc *c, const struct xlb_flow_key *k,
			  const struct xlb_nat_fwd *e)
{
	if (c->vip_id >= 0)
		return k->vip_id == (uint32_t)c->vip_id;
	return k->family == c->laddr->family &&
	       !memcmp(&e->laddr, &c->laddr->a, sizeof(e->laddr));
}

/* Remove the sessions c->drop picks, both ways. */
static int nat_remove(struct nat_gc *c, size_t *n)
{
	size_t i;
	int ret;

	c->fwd_fd = bpf_map__fd(c->dp->skel->maps.nat_fwd);
	c->rev_fd = bpf_map__fd(c->dp->skel->maps.nat_rev);
	c->expired.size = sizeof(struct xlb_flow_key);
	ret = map_walk(c->fwd_fd, sizeof(struct xlb_flow_key),
		       sizeof(struct xlb_nat_fwd), gc_fwd_batch, c);
	for (i = 0; !ret && i < c->expired.n; i++)
		gc_expire(c, (const struct xlb_flow_key *)c->expired.keys + i);
	free(c->expired.keys);
	*n = c->st->expired;
	return ret;
}

int xlb_dp_nat_flush_laddr(struct xlb_dp *dp, const struct xlb_ip *laddr,
			   size_t *n)
{
	struct xlb_nat_gc_stats st = {};
	struct nat_gc c = {
		.dp = dp,
		.drop = drop_matching,
		.laddr = laddr,
		.vip_id = -1,
		.st = &st,
	};

	return nat_remove(&c, n);
}

int xlb_dp_nat_flush_vip(struct xlb_dp *dp, uint32_t vip_id, size_t *n)
{
	struct xlb_nat_gc_stats st = {};
	struct nat_gc c = {
		.dp = dp,
		.drop = drop_matching,
		.vip_id = vip_id,
		.st = &st,
	};

	return nat_remove(&c, n);
}

int xlb_dp_nat_gc(struct xlb_dp *dp, const struct xlb_globals *g,
		  uint64_t now_ns, struct xlb_nat_gc_stats *st)
{
	struct nat_gc c = {
		.dp = dp,
		.drop = drop_expired,
		.g = g,
		.now = now_ns,
		.fwd_fd = bpf_map__fd(dp->skel->maps.nat_fwd),
		.rev_fd = bpf_map__fd(dp->skel->maps.nat_rev),
		.expired = {.size = sizeof(struct xlb_flow_key)},
		.orphans = {.size = sizeof(struct xlb_nat_key)},
		.st = st,
	};
	const struct xlb_nat_key *rk;
	struct xlb_nat_rev rev;
	size_t i;
	int ret;

	memset(st, 0, sizeof(*st));
	/*
	 * Orphan candidates first, checked again at the end: a new session
	 * has its reverse entry for a moment before its forward one (the
	 * data path claims the tuple first), and the whole forward walk
	 * between the two looks lets such a session finish being made.
	 */
	ret = map_walk(c.rev_fd, sizeof(struct xlb_nat_key),
		       sizeof(struct xlb_nat_rev), gc_rev_batch, &c);
	if (!ret)
		ret = map_walk(c.fwd_fd, sizeof(struct xlb_flow_key),
			       sizeof(struct xlb_nat_fwd), gc_fwd_batch, &c);
	if (ret)
		goto out;
	for (i = 0; i < c.expired.n; i++)
		gc_expire(&c, (const struct xlb_flow_key *)c.expired.keys + i);
	for (i = 0; i < c.orphans.n; i++) {
		rk = (const struct xlb_nat_key *)c.orphans.keys + i;
		if (bpf_map_lookup_elem(c.rev_fd, rk, &rev) ||
		    nat_rev_owned(&c, rk, &rev))
			continue;
		if (!bpf_map_delete_elem(c.rev_fd, rk))
			st->orphans++;
	}
	st->live = st->scanned >= st->expired ? st->scanned - st->expired : 0;
out:
	free(c.expired.keys);
	free(c.orphans.keys);
	return ret;
}

/* ---- Cluster session sync ---------------------------------------------- */

int xlb_dp_set_sync(struct xlb_dp *dp, bool on)
{
	struct xlb_globals g;
	int ret;

	ret = xlb_dp_get_globals(dp, &g);
	if (ret)
		return ret;
	dp->sync = on;
	ret = xlb_dp_set_globals(dp, &g);
	if (ret)
		dp->sync = !on;
	return ret;
}

static int sync_event(void *ctx, void *data, size_t size)
{
	struct xlb_dp *dp = ctx;

	/* A shorter record is not ours to read; skip it. */
	if (size >= sizeof(struct xlb_sync_event))
		dp->sync_fn(data, dp->sync_arg);
	return 0;
}

int xlb_dp_sync_open(struct xlb_dp *dp, xlb_dp_sync_fn fn, void *arg)
{
	struct ring_buffer *rb;

	rb = ring_buffer__new(bpf_map__fd(dp->skel->maps.sync_events),
			      sync_event, dp, NULL);
	if (!rb)
		return -errno;
	ring_buffer__free(dp->sync_rb);
	dp->sync_rb = rb;
	dp->sync_fn = fn;
	dp->sync_arg = arg;
	return 0;
}

int xlb_dp_sync_fd(struct xlb_dp *dp)
{
	return dp->sync_rb ? ring_buffer__epoll_fd(dp->sync_rb) : -1;
}

int xlb_dp_sync_consume(struct xlb_dp *dp)
{
	if (!dp->sync_rb)
		return -EINVAL;
	return ring_buffer__consume(dp->sync_rb);
}

int xlb_dp_sync_stats(struct xlb_dp *dp, uint64_t *events, uint64_t *lost)
{
	int fd = bpf_map__fd(dp->skel->maps.sync_stats);
	uint64_t vals[XLB_MAX_CPUS];
	uint32_t k;
	int i;

	*events = 0;
	*lost = 0;
	k = XLB_SYNC_ST_EVENTS;
	if (bpf_map_lookup_elem(fd, &k, vals))
		return -errno;
	for (i = 0; i < dp->ncpus; i++)
		*events += vals[i];
	k = XLB_SYNC_ST_LOST;
	if (bpf_map_lookup_elem(fd, &k, vals))
		return -errno;
	for (i = 0; i < dp->ncpus; i++)
		*lost += vals[i];
	return 0;
}

int xlb_dp_guard_skipped(struct xlb_dp *dp, uint64_t *skipped)
{
	int fd = bpf_map__fd(dp->skel->maps.ct_guard);
	struct xlb_ct_guard vals[XLB_MAX_CPUS];
	uint32_t zero = 0;
	int i;

	*skipped = 0;
	if (bpf_map_lookup_elem(fd, &zero, vals))
		return -errno;
	for (i = 0; i < dp->ncpus; i++)
		*skipped += vals[i].skipped;
	return 0;
}

/* Would the data plane send the flow of e to its real (up, same gen)? */
static bool ct_entry_valid(struct xlb_dp *dp, const struct xlb_ct_entry *e)
{
	struct xlb_real r;

	return !xlb_dp_real_get(dp, xlb_ct_real_id(e->v), &r) && r.family &&
	       (r.flags & XLB_REAL_F_UP) && xlb_ct_gen_is(e->v, r.gen);
}

int xlb_dp_ct_install(struct xlb_dp *dp, const struct xlb_flow_key *key,
		      const struct xlb_ct_entry *e, enum xlb_dp_install *res)
{
	enum xlb_dp_install r = XLB_DP_INSTALLED;
	int fds[XLB_MAX_CPUS], cpu, ret = 0, fam = ct_fam_of(key->family);
	struct xlb_ct_entry cur;
	union ct_map_key mk;
	bool stale = false;

	ct_map_key(fam, key, &mk);
	for (cpu = 0; cpu < dp->ncpus; cpu++)
		fds[cpu] = ct_table_fd(dp, fam, cpu);
	for (cpu = 0; cpu < dp->ncpus && r != XLB_DP_KEPT; cpu++) {
		if (fds[cpu] < 0 || bpf_map_lookup_elem(fds[cpu], &mk, &cur))
			continue;
		if (!ct_entry_valid(dp, &cur)) {
			stale = true;
			continue;
		}
		/* Live here on another real: ours decides, as a CPU's
		 * own copy from another CPU would. */
		if (!xlb_ct_same_real(cur.v, e->v))
			r = XLB_DP_KEPT;
		else
			r = XLB_DP_UPDATED;
	}
	/* Every table, also those that lack the flow: its next packet
	 * may come on any CPU. */
	for (cpu = 0; cpu < dp->ncpus && r != XLB_DP_KEPT; cpu++)
		if (fds[cpu] >= 0 &&
		    bpf_map_update_elem(fds[cpu], &mk, e, BPF_ANY) && !ret)
			ret = -errno;
	/* A live entry keeps its real, so only one that was not live can
	 * have given a cached answer the new entry changes. */
	if (stale && r != XLB_DP_KEPT)
		fc_changed(dp);
	if (!ret)
		*res = r;
	return ret;
}

/* Should a session give way to a peer's: is its real gone or down, or
 * has it been idle past its timeout? */
static bool nat_dead(struct xlb_dp *dp, const struct xlb_globals *g,
		     uint64_t now, const struct xlb_flow_key *k,
		     const struct xlb_nat_fwd *e)
{
	struct xlb_real r;

	if (xlb_dp_real_get(dp, e->real_id, &r) || !r.family ||
	    !(r.flags & XLB_REAL_F_UP) || r.gen != e->real_gen)
		return true;
	return nat_expired(k, e, g, now);
}

/* Delete nat_rev[rk] if it names the flow key. */
static void nat_rev_drop(int rev_fd, const struct xlb_nat_key *rk,
			 const struct xlb_flow_key *key)
{
	struct xlb_nat_rev rev;

	if (!bpf_map_lookup_elem(rev_fd, rk, &rev) &&
	    !memcmp(&rev.flow, key, sizeof(*key)))
		bpf_map_delete_elem(rev_fd, rk);
}

/*
 * Is the tuple rk held by a live session of another flow here? A
 * session's tuple is the one thing that must be unique: its real knows
 * the connection by it. A session that lives (its real up and of the
 * same generation, not idle past its timeout) and is not closing (a
 * closing one ends anyway, and its owner may then reuse the tuple)
 * keeps it whoever claims it: a record naming the tuple for another
 * flow is then older than ours (a copy relayed in a bulk by a node that
 * missed the end or the reuse), or its owner reused it while the flow
 * still runs here. Either way, handing it over would send the two
 * flows' packets to the real on one tuple.
 */
static bool nat_tuple_held(struct xlb_dp *dp, const struct xlb_globals *g,
			   uint64_t now, int fwd_fd, int rev_fd,
			   const struct xlb_flow_key *key,
			   const struct xlb_nat_key *rk)
{
	struct xlb_nat_rev old;
	struct xlb_nat_fwd of;

	return !bpf_map_lookup_elem(rev_fd, rk, &old) &&
	       memcmp(&old.flow, key, sizeof(*key)) &&
	       !bpf_map_lookup_elem(fwd_fd, &old.flow, &of) &&
	       !memcmp(&of.laddr, &rk->laddr, sizeof(of.laddr)) &&
	       of.lport == rk->lport && !xlb_nat_closing(of.state) &&
	       !nat_dead(dp, g, now, &old.flow, &of);
}

/*
 * Claim the tuple rk for the peer's session (nat_tuple_held said no
 * live session holds it): a dead session of another flow still using it
 * here goes.
 */
static int nat_claim_tuple(struct xlb_dp *dp, int fwd_fd, int rev_fd,
			   const struct xlb_flow_key *key,
			   const struct xlb_nat_key *rk,
			   const struct xlb_nat_rev *rv)
{
	struct xlb_nat_rev old;
	struct xlb_nat_fwd of;
	bool had = !bpf_map_lookup_elem(rev_fd, rk, &old);

	/* The tuple's replies were another entry's: a flow cache slot may
	 * hold them (the epoch moves once the new entry is in). */
	if (had)
		dp->fc_pending = true;
	if (had && memcmp(&old.flow, key, sizeof(*key)) &&
	    !bpf_map_lookup_elem(fwd_fd, &old.flow, &of) &&
	    !memcmp(&of.laddr, &rk->laddr, sizeof(of.laddr)) &&
	    of.lport == rk->lport)
		bpf_map_delete_elem(fwd_fd, &old.flow);
	if (bpf_map_update_elem(rev_fd, rk, rv, BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_nat_install(struct xlb_dp *dp, const struct xlb_globals *g,
		       uint64_t now_ns, const struct xlb_flow_key *key,
		       const struct xlb_nat_fwd *f,
		       const struct xlb_nat_key *rk,
		       const struct xlb_nat_rev *rv, enum xlb_dp_install *res)
{
	int fwd_fd = bpf_map__fd(dp->skel->maps.nat_fwd);
	int rev_fd = bpf_map__fd(dp->skel->maps.nat_rev);
	struct xlb_nat_fwd cur, nf = *f;
	struct xlb_nat_key old_rk;
	int ret, tries;

	/* No CPU of ours owns the port: our allocation never reclaims it
	 * (the local address is not in our pool); the sweep ages it. */
	nf.cpu = UINT32_MAX;
	dp->fc_pending = false;
	for (tries = 0; tries < 2; tries++) {
		if (bpf_map_lookup_elem(fwd_fd, key, &cur)) {
			if (errno != ENOENT)
				return -errno;
			if (nat_tuple_held(dp, g, now_ns, fwd_fd, rev_fd, key,
					   rk)) {
				*res = XLB_DP_KEPT;
				return 0;
			}
			/* The tuple first, as the data plane does, so that a
			 * reply never finds the session without it. */
			ret = nat_claim_tuple(dp, fwd_fd, rev_fd, key, rk, rv);
			if (ret)
				return ret;
			if (!bpf_map_update_elem(fwd_fd, key, &nf,
						 BPF_NOEXIST)) {
				fc_changed_if_pending(dp);
				*res = XLB_DP_INSTALLED;
				return 0;
			}
			if (errno != EEXIST) {
				ret = -errno;
				nat_rev_drop(rev_fd, rk, key);
				fc_changed_if_pending(dp);
				return ret;
			}
			/* A packet made the session meanwhile: judge it. */
			continue;
		}
		if (!memcmp(&cur.laddr, &nf.laddr, sizeof(cur.laddr)) &&
		    cur.lport == nf.lport) {
			/* The same session: what either side saw counts. */
			cur.state |= nf.state;
			if (nf.last_seen > cur.last_seen)
				cur.last_seen = nf.last_seen;
			if (bpf_map_update_elem(rev_fd, rk, rv, BPF_ANY) ||
			    bpf_map_update_elem(fwd_fd, key, &cur, BPF_ANY))
				return -errno;
			*res = XLB_DP_UPDATED;
			return 0;
		}
		if (!nat_dead(dp, g, now_ns, key, &cur) ||
		    nat_tuple_held(dp, g, now_ns, fwd_fd, rev_fd, key, rk)) {
			*res = XLB_DP_KEPT;
			return 0;
		}
		/* The dead session's tuple is freed with it (when its real
		 * is gone the sweep finds the orphan). */
		if (!nat_rev_key(dp, key, &cur, &old_rk))
			nat_rev_drop(rev_fd, &old_rk, key);
		ret = nat_claim_tuple(dp, fwd_fd, rev_fd, key, rk, rv);
		if (ret)
			return ret;
		if (bpf_map_update_elem(fwd_fd, key, &nf, BPF_ANY)) {
			ret = -errno;
			nat_rev_drop(rev_fd, rk, key);
			fc_changed(dp);
			return ret;
		}
		/* A dead session of the flow replaced. */
		fc_changed(dp);
		*res = XLB_DP_INSTALLED;
		return 0;
	}
	return -EAGAIN;
}

/*
 * One step of a walk over hash map fd, whose keys are fam's (nat_fwd's
 * are CT_V6's, struct xlb_flow_key): the entry after the cursor's key
 * (the first if the key has gone), or -ENOENT at the end.
 */
static int walk_next(int fd, int fam, struct xlb_dp_cursor *cur, void *val)
{
	union ct_map_key at, next;
	void *prev = NULL;
	bool found;

	for (;;) {
		if (cur->has_key) {
			ct_map_key(fam, &cur->key, &at);
			if (!bpf_map_lookup_elem(fd, &at, val))
				prev = &at;
		}
		if (bpf_map_get_next_key(fd, prev, &next))
			return errno == ENOENT ? -ENOENT : -errno;
		/* Deleted between the two calls: step over it. */
		found = !bpf_map_lookup_elem(fd, &next, val);
		if (!found && errno != ENOENT)
			return -errno;
		ct_flow_of(fam, &next, &cur->key);
		cur->has_key = 1;
		if (found)
			return 0;
		prev = NULL;
	}
}

int xlb_dp_sessions_walk(struct xlb_dp *dp, struct xlb_dp_cursor *cur,
			 size_t max, xlb_dp_session_fn fn, void *arg,
			 bool *done)
{
	struct xlb_ct_entry ct;
	struct xlb_nat_fwd nat;
	size_t n = 0;
	int fd, ret = 0;

	while (n < max && cur->table == 0) {
		if (cur->cpu >= (uint32_t)dp->ncpus) {
			cur->table = 1;
			cur->has_key = 0;
			break;
		}
		fd = ct_table_fd(dp, cur->fam, cur->cpu);
		ret = fd < 0 ? -ENOENT : 0;
		while (!ret && n < max) {
			ret = walk_next(fd, cur->fam, cur, &ct);
			if (!ret) {
				fn(&cur->key, &ct, NULL, arg);
				n++;
			}
		}
		if (ret == -ENOENT) {
			/* This CPU's IPv4 table, then its IPv6 one. */
			if (++cur->fam == CT_FAMS) {
				cur->fam = 0;
				cur->cpu++;
			}
			cur->has_key = 0;
			ret = 0;
		} else if (ret) {
			return ret;
		}
	}
	fd = bpf_map__fd(dp->skel->maps.nat_fwd);
	while (n < max && cur->table == 1) {
		ret = walk_next(fd, CT_V6, cur, &nat);
		if (ret == -ENOENT) {
			cur->table = 2;
			cur->has_key = 0;
			ret = 0;
			break;
		}
		if (ret)
			return ret;
		fn(&cur->key, NULL, &nat, arg);
		n++;
	}
	*done = cur->table >= 2;
	return 0;
}

/* ---- Resolved next hops (nexthop.c, bpf/nexthop.h) ---------------------- */

int xlb_dp_nexthop_put(struct xlb_dp *dp, uint32_t id,
		       const struct xlb_nh_entry *e)
{
	if (id >= dp->max_reals)
		return -ERANGE;
	if (dp_update(dp, bpf_map__fd(dp->skel->maps.nexthops), &id, e,
		      BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_nexthop_get(struct xlb_dp *dp, uint32_t id, struct xlb_nh_entry *e)
{
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.nexthops), &id, e))
		return -errno;
	return 0;
}

int xlb_dp_nexthop_stat(struct xlb_dp *dp, enum xlb_nh_stat k, uint64_t *n)
{
	int fd = bpf_map__fd(dp->skel->maps.nexthop_stats);
	uint64_t vals[XLB_MAX_CPUS];
	uint32_t key = k;
	int i;

	*n = 0;
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (i = 0; i < dp->ncpus; i++)
		*n += vals[i];
	return 0;
}

int xlb_dp_nexthop_fallbacks(struct xlb_dp *dp, uint64_t *n)
{
	return xlb_dp_nexthop_stat(dp, XLB_NH_ST_FALLBACK, n);
}

int xlb_dp_nh_epoch_get(struct xlb_dp *dp, struct xlb_nh_epoch *e)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.nh_epoch), &zero, e))
		return -errno;
	return 0;
}

static int nh_epoch_put(struct xlb_dp *dp, const struct xlb_nh_epoch *e)
{
	uint32_t zero = 0;

	if (dp_update(dp, bpf_map__fd(dp->skel->maps.nh_epoch), &zero, e,
		      BPF_ANY))
		return -errno;
	return 0;
}

int xlb_dp_nh_epoch_next(struct xlb_dp *dp)
{
	struct xlb_nh_epoch e;
	int ret = xlb_dp_nh_epoch_get(dp, &e);

	if (ret)
		return ret;
	/* A value never used before (0 means none). */
	if (!++e.last)
		e.last = 1;
	e.cur = e.last;
	return nh_epoch_put(dp, &e);
}

int xlb_dp_nh_epoch_stop(struct xlb_dp *dp)
{
	struct xlb_nh_epoch e;
	int ret = xlb_dp_nh_epoch_get(dp, &e);

	if (ret || !e.cur)
		return ret;
	e.cur = 0;
	return nh_epoch_put(dp, &e);
}
