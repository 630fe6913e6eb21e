// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's settings, each declared once (settings.h), and the one
 * validator of their values. A row says what the configuration file,
 * the control socket, lbctl and the docs say about a setting; adding a
 * setting is adding a row here and using its value where it acts.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "settings.h"
#include "xlb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define STR_(x)	      #x
#define STR(x)	      STR_(x)
/* How much of an offending value is quoted back in a message. */
#define QUOTE "%.64s"

/* Where a value is stored: offset and size of a field of type. */
#define AT(type, field) \
	.offset = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define NODE(field)    AT(struct xlb_config, field)
#define NAT(field)     AT(struct xlb_nat_config, field)
#define ROUTES(field)  AT(struct xlb_routes_config, field)
#define CLUSTER(field) AT(struct xlb_cluster_config, field)
#define PEER(field)    AT(struct xlb_node_spec, field)
#define VIP(field)     AT(struct xlb_vip_spec, field)
#define REAL(field)    AT(struct xlb_real_spec, field)
#define CHECK(field)   AT(struct xlb_check_spec, field)

/* An idle timeout in seconds (conntrack and FULLNAT alike). */
#define IDLE_S(field_at, dflt_s) \
	.type = XLB_SET_U32, .min = 1, .max = 604800, field_at, .dflt = (dflt_s)

static const char *const xdp_modes[] = {"native", "generic", NULL};
static const char *const hash_names[] = {"maglev", "source-ip", NULL};
static const char *const mode_names[] = {"tunnel", "fullnat", NULL};
static const char *const encap_names[] = {"ipip", "gue", NULL};
static const char *const check_types[] = {"none", "tcp", "http", "udp", NULL};
static const char *const through_names[] = {"datapath", "tunnel", "direct",
					    "auto", NULL};
static const uint8_t through_values[] = {
	XLB_CHECK_PATH_DATAPATH,
	XLB_CHECK_PATH_DATAPATH,
	XLB_CHECK_PATH_DIRECT,
	XLB_CHECK_PATH_AUTO,
};
static const char *const http_methods[] = {"GET", "HEAD", NULL};

_Static_assert(XLB_HASH_SOURCE_IP == 1 && XLB_MODE_FULLNAT == 1 &&
		       XLB_XDP_GENERIC == 1 && XLB_CHECK_UDP == 3 &&
		       XLB_HTTP_HEAD == 1,
	       "choices are listed in the order of their values");

/* How reload compares the restart-only settings custom readers store. */
static bool interfaces_differ(const struct xlb_config *a,
			      const struct xlb_config *b)
{
	size_t i;

	if (a->n_interfaces != b->n_interfaces)
		return true;
	for (i = 0; i < a->n_interfaces; i++)
		if (strcmp(a->interfaces[i], b->interfaces[i]))
			return true;
	return false;
}

static bool metrics_differ(const struct xlb_config *a,
			   const struct xlb_config *b)
{
	return strcmp(a->metrics_listen, b->metrics_listen);
}

static bool cpus_differ(const struct xlb_config *a, const struct xlb_config *b)
{
	return strcmp(a->control_cpus, b->control_cpus);
}

/* routes and cluster: every key needs a restart, so compare them whole. */
static bool routes_differ(const struct xlb_config *a,
			  const struct xlb_config *b)
{
	return memcmp(&a->routes, &b->routes, sizeof(a->routes));
}

static bool cluster_differ(const struct xlb_config *a,
			   const struct xlb_config *b)
{
	return memcmp(&a->cluster, &b->cluster, sizeof(a->cluster));
}

/* clang-format off */
#define TABLE_SIZE_HELP                                                       \
	"Maglev table size, a prime from " STR(XLB_RING_SIZE_MIN) " to "      \
	STR(XLB_RING_SIZE_MAX) "; default " STR(XLB_RING_SIZE_DEFAULT)
#define WEIGHT_HELP                                                           \
	"share of new flows relative to the VIP's other reals; 0 keeps the "  \
	"real but sends it no new flows; 0.." STR(XLB_MAX_WEIGHT)
#define MSS_HELP                                                              \
	"clamp the MSS option of the client's SYN (and, in fullnat mode, of " \
	"the real's SYN-ACK) to N; " STR(XLB_MSS_MIN) "..65535, 0 turns it "  \
	"off; TCP VIPs only"
/* clang-format on */

static const struct xlb_setting settings[] = {
	/* The top level (docs/CONFIG.md, "Settings"). */
	{"", "interfaces", XLB_SET_CUSTOM, .dflt_doc = "none", .restart = true,
	 .differs = interfaces_differ,
	 .help = "the interfaces the balancer attaches to"},
	{"", "xdp_mode", XLB_SET_ENUM, .choices = xdp_modes, NODE(xdp_mode),
	 .dflt_doc = "`native`", .restart = true,
	 .help = "native (driver mode) or generic (skb mode)"},
	{"", "socket", XLB_SET_PATH, NODE(socket_path),
	 .dflt_str = XLB_DEFAULT_SOCKET, .dflt_doc = "`" XLB_DEFAULT_SOCKET "`",
	 .restart = true, .help = "where xlbd listens for lbctl"},
	{"", "pin_path", XLB_SET_PATH, NODE(pin_path),
	 .dflt_str = XLB_DEFAULT_PIN_PATH,
	 .dflt_doc = "`" XLB_DEFAULT_PIN_PATH "`", .restart = true,
	 .help = "the bpffs directory of the pinned maps"},
	{"", "conntrack_size", XLB_SET_U32, .min = 1024, .max = 1U << 24,
	 NODE(ct_size), .dflt = XLB_CT_SIZE_DEFAULT, .restart = true,
	 .help = "IPv4 conntrack entries per CPU"},
	{"", "conntrack_size_ipv6", XLB_SET_U32, .min = 1024, .max = 1U << 24,
	 NODE(ct6_size), .dflt = XLB_CT6_SIZE_DEFAULT, .restart = true,
	 .help = "IPv6 conntrack entries per CPU"},
	{"", "flow_cache_size", XLB_SET_U32, .min = 1024,
	 .max = XLB_FC_SIZE_MAX, .zero_off = true, NODE(fc_size),
	 .dflt = XLB_FC_SIZE_DEFAULT, .restart = true,
	 .help = "flow cache slots per CPU (a power of two; others are "
		 "rounded up): established IPv4 flows sent without the VIP, "
		 "conntrack or session lookups"},
	{"", "flood_guard_rate", XLB_SET_U32, .max = UINT32_MAX,
	 .zero_off = true, NODE(flood_guard_rate),
	 .dflt = XLB_FLOOD_GUARD_RATE_DEFAULT, .restart = true,
	 .help = "new tunnel conntrack entries per CPU per second before "
		 "misses other than SYNs are not remembered"},
	{"", "vlans", XLB_SET_CUSTOM,
	 .dflt_doc = "none: untagged frames only, on every interface",
	 .help = "the VLAN ids whose tagged frames are balanced"},
	{"", "conntrack_timeouts", XLB_SET_SECTION,
	 .help = "tunnel flows' idle seconds by state"},
	{"conntrack_timeouts", "tcp_syn",
	 IDLE_S(NODE(ct_timeouts.tcp_syn_s), 60),
	 .help = "a TCP flow of which only SYNs were seen"},
	{"conntrack_timeouts", "tcp", IDLE_S(NODE(ct_timeouts.tcp_s), 900),
	 .help = "an established TCP flow"},
	{"conntrack_timeouts", "tcp_fin",
	 IDLE_S(NODE(ct_timeouts.tcp_fin_s), 120),
	 .help = "after the client's FIN"},
	{"conntrack_timeouts", "tcp_closing",
	 IDLE_S(NODE(ct_timeouts.tcp_closing_s), 10),
	 .help = "after the client's RST"},
	{"conntrack_timeouts", "udp", IDLE_S(NODE(ct_timeouts.udp_s), 300),
	 .help = "a UDP flow"},
	{"", "max_vips", XLB_SET_U32, .min = 1, .max = 65536, NODE(max_vips),
	 .dflt = XLB_MAX_VIPS, .restart = true,
	 .help = "VIPs the maps can hold"},
	{"", "max_reals", XLB_SET_U32, .min = 2, .max = 1U << 20,
	 NODE(max_reals), .dflt = XLB_MAX_REALS, .restart = true,
	 .help = "entries of the reals map, id 0 included"},
	{"", "tunnel_source", XLB_SET_SECTION,
	 .help = "the outer source prefixes of tunnels"},
	{"tunnel_source", "ipv4", XLB_SET_CUSTOM, .min = 8, .max = 32,
	 .dflt_doc = "`172.16.0.0/16`", .help = "IPv4 tunnel source prefix"},
	{"tunnel_source", "ipv6", XLB_SET_CUSTOM, .min = 96, .max = 128,
	 .dflt_doc = "`fc00:2::/96`", .help = "IPv6 tunnel source prefix"},
	{"", "gateway_mac", XLB_SET_CUSTOM,
	 .dflt_doc = "none: ask the kernel (`bpf_fib_lookup`)",
	 .help = "a unicast MAC every frame is sent to"},
	{"", "nexthops", XLB_SET_BOOL, NODE(nexthops), .dflt = 1,
	 .dflt_doc = "`true`", .restart = true,
	 .help = "resolve the reals' next hops in xlbd, not per packet"},
	{"", "gue_port", XLB_SET_U32, .min = 1, .max = 65535, NODE(gue_port),
	 .dflt = XLB_GUE_PORT_DEFAULT,
	 .help = "UDP destination port of GUE tunnels"},
	{"", "icmp_rate", XLB_SET_U32, .max = 65535, .zero_off = true,
	 NODE(icmp_rate), .dflt = 1000,
	 .help = "path MTU errors XLB may send per second per CPU"},
	{"", "metrics", XLB_SET_CUSTOM, .dflt_doc = "`" XLB_DEFAULT_METRICS "`",
	 .restart = true, .differs = metrics_differ,
	 .help = "where /metrics is served, or off"},
	{"", "control_cpus", XLB_SET_CUSTOM, .dflt_doc = "none: no pinning",
	 .restart = true, .differs = cpus_differ,
	 .help = "the CPUs xlbd's threads may run on"},
	{"", "fullnat", XLB_SET_SECTION,
	 .offset = offsetof(struct xlb_config, nat),
	 .dflt_doc = "no local addresses",
	 .help = "the node's FULLNAT settings"},
	{"", "routes", XLB_SET_SECTION, .restart = true,
	 .differs = routes_differ, .help = "route announcement through FRR"},
	{"", "cluster", XLB_SET_SECTION, .restart = true,
	 .differs = cluster_differ,
	 .help = "the nodes, session sync and node lifecycle"},
	{"", "vips", XLB_SET_CUSTOM, .dflt_doc = "none", .help = "the VIPs"},

	/* fullnat: (docs/CONFIG.md, "FULLNAT"). */
	{"fullnat", "local_addresses", XLB_SET_CUSTOM, .dflt_doc = "none",
	 .help = "the node's SNAT pool"},
	{"fullnat", "ports", XLB_SET_CUSTOM, .min = 1, .max = 65535,
	 .dflt_doc = "`1024-65535`", .help = "local port range MIN-MAX"},
	{"fullnat", "sessions", XLB_SET_U32, .min = 1024, .max = 1U << 24,
	 NAT(sessions), .dflt = XLB_NAT_SESSIONS_DEFAULT, .restart = true,
	 .help = "entries of each session table"},
	{"fullnat", "timeouts", XLB_SET_SECTION,
	 .help = "FULLNAT sessions' idle seconds by state"},
	{"fullnat.timeouts", "tcp", IDLE_S(NAT(tcp_s), 900),
	 .help = "a TCP session the real has answered"},
	{"fullnat.timeouts", "tcp_syn", IDLE_S(NAT(tcp_syn_s), 30),
	 .help = "a TCP session the real has not answered yet"},
	{"fullnat.timeouts", "tcp_closing", IDLE_S(NAT(tcp_closing_s), 10),
	 .help = "after FIN both ways, or an RST"},
	{"fullnat.timeouts", "udp", IDLE_S(NAT(udp_s), 60),
	 .help = "a UDP session"},
	{"fullnat", "gc_interval_ms", XLB_SET_U32, .min = 100, .max = 60000,
	 NAT(gc_interval_ms), .dflt = 1000,
	 .help = "how often xlbd sweeps expired sessions"},

	/* routes: (docs/CONFIG.md, "Routes"); restart only, as a whole. */
	{"routes", "protocol", XLB_SET_U32, .min = 5, .max = 255,
	 ROUTES(protocol), .dflt = XLB_ROUTE_PROTO_DEFAULT, .restart = true,
	 .help = "route protocol number of XLB's routes"},
	{"routes", "table", XLB_SET_U32, .min = 1, .max = UINT32_MAX,
	 ROUTES(table), .dflt = XLB_ROUTE_TABLE_MAIN, .dflt_doc = "254 (main)",
	 .restart = true, .help = "routing table, except 255 (local)"},
	{"routes", "metric", XLB_SET_U32, .max = UINT32_MAX, ROUTES(metric),
	 .restart = true,
	 .help = "metric of VIP routes and of the own local addresses"},
	{"routes", "backup_metric", XLB_SET_U32, .max = UINT32_MAX,
	 ROUTES(backup_metric), .dflt = 1000, .restart = true,
	 .help = "metric of the peers' local addresses"},
	{"routes", "frr_run_dir", XLB_SET_PATH, ROUTES(frr_run_dir),
	 .dflt_str = "/run/frr", .dflt_doc = "`/run/frr`", .restart = true,
	 .help = "where the routing daemons write NAME.pid"},
	{"routes", "watch", XLB_SET_CUSTOM, .dflt_doc = "`[zebra]`",
	 .restart = true, .help = "routing daemons to watch"},
	{"routes", "watch_interval_ms", XLB_SET_MS, .min = 100, .max = 60000,
	 ROUTES(watch_interval_ms), .dflt = 1000, .restart = true,
	 .help = "how often they are looked at"},

	/* cluster: (docs/CONFIG.md, "Cluster"); restart only, as a whole. */
	{"cluster", "node", XLB_SET_NAME, CLUSTER(node), .required = true,
	 .restart = true, .help = "this node's name, one of nodes"},
	{"cluster", "key_file", XLB_SET_PATH, CLUSTER(key_file),
	 .required = true, .restart = true,
	 .help = "absolute path of the shared key"},
	{"cluster", "nodes", XLB_SET_CUSTOM, .required = true, .restart = true,
	 .dflt_doc = "required", .help = "every node, this one included"},
	{"cluster", "batch_ms", XLB_SET_MS, .min = 1, .max = 1000,
	 CLUSTER(batch_ms), .dflt = 20, .restart = true,
	 .help = "most a new session waits before it is sent"},
	{"cluster", "preonline_timeout_ms", XLB_SET_MS, .max = 600000,
	 CLUSTER(preonline_timeout_ms), .dflt = 5000, .restart = true,
	 .help = "how long a starting node waits for its "
		 "peers' sessions"},
	{"cluster", "drain_idle_ms", XLB_SET_MS, .min = 100, .max = 3600000,
	 CLUSTER(drain_idle_ms), .dflt = 5000, .restart = true,
	 .help = "idle time after which a draining node "
		 "is drained"},
	{"cluster", "replay_window_s", XLB_SET_U32, .min = 1, .max = 3600,
	 CLUSTER(replay_window_s), .dflt = 30, .restart = true,
	 .help = "accepted clock skew of a message"},
	{"cluster", "port", XLB_SET_U32, .min = 1, .max = 65535, CLUSTER(port),
	 .dflt = XLB_SYNC_PORT_DEFAULT, .restart = true,
	 .help = "sync port of node entries that name none"},
	{"cluster.nodes", "name", XLB_SET_NAME, PEER(name), .required = true,
	 .restart = true, .help = "the node's name"},
	{"cluster.nodes", "address", XLB_SET_CUSTOM, .required = true,
	 .restart = true, .help = "its sync address"},
	{"cluster.nodes", "port", XLB_SET_U32, .min = 1, .max = 65535,
	 PEER(port), .restart = true, .help = "its sync port"},
	{"cluster.nodes", "local_addresses", XLB_SET_CUSTOM, .restart = true,
	 .help = "its FULLNAT pool"},

	/* vips[] (docs/CONFIG.md, "VIPs"), lbctl vip add/set. */
	{"vips", "vip", XLB_SET_CUSTOM, XLB_SCOPE_VIP, .required = true,
	 .help = "the service, ADDR:PORT/PROTO"},
	{"vips", "hash", XLB_SET_ENUM, XLB_SCOPE_VIP, .choices = hash_names,
	 VIP(hash), .dflt_doc = "`maglev`",
	 .help = "what picks the real: maglev hashes the whole 5-tuple, "
		 "source-ip only the client address (affinity); default "
		 "maglev"},
	{"vips", "table_size", XLB_SET_PRIME, XLB_SCOPE_VIP,
	 .min = XLB_RING_SIZE_MIN, .max = XLB_RING_SIZE_MAX, VIP(table_size),
	 .dflt = XLB_RING_SIZE_DEFAULT, .help = TABLE_SIZE_HELP},
	{"vips", "reals", XLB_SET_CUSTOM, XLB_SCOPE_VIP, .dflt_doc = "none",
	 .help = "the VIP's reals"},
	{"vips", "health", XLB_SET_CUSTOM, XLB_SCOPE_VIP,
	 .dflt_doc = "none: reals are always up",
	 .help = "the health check of its reals"},
	{"vips", "mode", XLB_SET_ENUM, XLB_SCOPE_VIP, .choices = mode_names,
	 VIP(mode), .dflt_doc = "`tunnel`",
	 .help = "tunnel encapsulates to the real, which answers the client "
		 "itself; fullnat translates both ways (the real needs "
		 "nothing, a local address is needed: lbctl laddr add); "
		 "default tunnel"},
	{"vips", "encap", XLB_SET_ENUM, XLB_SCOPE_VIP, .choices = encap_names,
	 VIP(gue), .dflt_doc = "`ipip`",
	 .help = "how a tunnel VIP reaches its reals: ipip (IPIP, IP6IP6, "
		 "4in6, 6in4) or gue (the same inside UDP to the node's "
		 "gue_port, the source port from the flow hash, for ECMP and "
		 "RSS); gue is for tunnel VIPs only; default ipip"},
	{"vips", "mss", XLB_SET_U32, XLB_SCOPE_VIP, .min = XLB_MSS_MIN,
	 .max = 65535, .zero_off = true, VIP(mss), .dflt_doc = "none",
	 .help = MSS_HELP},

	/* reals[] of a VIP, lbctl real add/set. */
	{"reals", "address", XLB_SET_CUSTOM, XLB_SCOPE_REAL, .required = true,
	 .help = "the real's IPv4 or IPv6 address"},
	{"reals", "weight", XLB_SET_U32, XLB_SCOPE_REAL, .max = XLB_MAX_WEIGHT,
	 REAL(weight), .dflt = XLB_DEFAULT_WEIGHT, .help = WEIGHT_HELP},
	{"reals", "drain", XLB_SET_BOOL, XLB_SCOPE_REAL, REAL(drain),
	 .dflt_doc = "left out: a new real takes new flows, a running one "
		     "keeps its drain state over a reload",
	 .help = "no new flows, as lbctl real drain"},
	{"reals", "health", XLB_SET_CUSTOM, XLB_SCOPE_REAL,
	 .dflt_doc = "the VIP's check", .help = "this real's own check"},

	/* health: a check (docs/CONFIG.md, "Health checks"); 0 or "" in
	 * struct xlb_check_spec means the default, so none is stored. */
	{"health", "type", XLB_SET_ENUM, XLB_SCOPE_CHECK,
	 .choices = check_types, CHECK(type), .help = "none, tcp, http or udp"},
	{"health", "interval", XLB_SET_MS, XLB_SCOPE_CHECK,
	 .min = XLB_CHECK_MIN_INTERVAL_MS, .max = XLB_CHECK_MAX_INTERVAL_MS,
	 CHECK(interval_ms), .dflt_doc = "`2s`",
	 .help = "time between the starts of two checks"},
	{"health", "timeout", XLB_SET_MS, XLB_SCOPE_CHECK, .min = 1,
	 .max = XLB_CHECK_MAX_INTERVAL_MS - 1, CHECK(timeout_ms),
	 .dflt_doc = "`1s`, or half the interval if that is shorter",
	 .help = "time one check may take"},
	{"health", "rise", XLB_SET_U32, XLB_SCOPE_CHECK, .min = 1,
	 .max = XLB_CHECK_MAX_COUNT, CHECK(rise),
	 .dflt_doc = STR(XLB_CHECK_DEFAULT_RISE),
	 .help = "successes in a row to come up"},
	{"health", "fall", XLB_SET_U32, XLB_SCOPE_CHECK, .min = 1,
	 .max = XLB_CHECK_MAX_COUNT, CHECK(fall),
	 .dflt_doc = STR(XLB_CHECK_DEFAULT_FALL),
	 .help = "failures in a row to go down"},
	{"health", "address", XLB_SET_CUSTOM, XLB_SCOPE_CHECK,
	 .dflt_doc = "the real's address",
	 .help = "where to send the check instead"},
	{"health", "port", XLB_SET_U32, XLB_SCOPE_CHECK, .min = 1, .max = 65535,
	 CHECK(port),
	 .dflt_doc = "the VIP's port; **required** for an "
		     "any-port VIP",
	 .help = "the port checked"},
	{"health", "path", XLB_SET_CUSTOM, XLB_SCOPE_CHECK,
	 .for_check = XLB_CHECK_HTTP, .dflt_doc = "`/`",
	 .help = "the path an HTTP check asks for"},
	{"health", "host", XLB_SET_CUSTOM, XLB_SCOPE_CHECK,
	 .for_check = XLB_CHECK_HTTP,
	 .dflt_doc = "the address (IPv6 in brackets), with `:PORT` unless "
		     "the port is 80",
	 .help = "the Host header of HTTP checks"},
	{"health", "method", XLB_SET_ENUM, XLB_SCOPE_CHECK,
	 .choices = http_methods, .for_check = XLB_CHECK_HTTP,
	 CHECK(http_method), .dflt_doc = "`GET`",
	 .help = "the request of HTTP checks"},
	{"health", "codes", XLB_SET_CUSTOM, XLB_SCOPE_CHECK,
	 .min = XLB_CHECK_MIN_HTTP_CODE, .max = XLB_CHECK_MAX_HTTP_CODE,
	 .for_check = XLB_CHECK_HTTP, .dflt_doc = "`[200]`",
	 .help = "the HTTP status codes that mean healthy"},
	{"health", "send", XLB_SET_CUSTOM, XLB_SCOPE_CHECK,
	 .for_check = XLB_CHECK_UDP, .dflt_doc = "empty",
	 .help = "the payload of UDP checks"},
	{"health", "expect", XLB_SET_CUSTOM, XLB_SCOPE_CHECK,
	 .for_check = XLB_CHECK_UDP, .dflt_doc = "empty",
	 .help = "how a UDP reply must start"},
	{"health", "through", XLB_SET_ENUM, XLB_SCOPE_CHECK,
	 .choices = through_names, .values = through_values, CHECK(through),
	 .dflt_doc = "`datapath`, or `direct` for a check with an `address`",
	 .help = "which way the check travels"},
};

const struct xlb_setting *xlb_settings(size_t *n)
{
	*n = ARRAY_SIZE(settings);
	return settings;
}

const struct xlb_setting *xlb_setting_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settings); i++)
		if (!strcmp(settings[i].section, section) &&
		    !strcmp(settings[i].key, key))
			return &settings[i];
	return NULL;
}

const char *xlb_setting_choices(const struct xlb_setting *s, char *buf,
				size_t len)
{
	size_t i, off = 0, n = 0;

	while (s->choices[n])
		n++;
	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					!i	     ? ""
					: i + 1 == n ? " or "
						     : ", ",
					s->choices[i]);
	return buf;
}

const char *xlb_setting_choice_name(const struct xlb_setting *s, uint32_t v)
{
	size_t i;

	for (i = 0; s->choices[i]; i++)
		if ((s->values ? s->values[i] : i) == v)
			return s->choices[i];
	return NULL;
}

/* Explain why n is no prime, naming the primes around it in range. */
static int not_prime(const struct xlb_setting *s, uint32_t n, char *err,
		     size_t errlen)
{
	uint32_t lo = n, hi = n;

	while (lo > s->min && !xlb_is_prime(--lo))
		;
	while (hi < s->max && !xlb_is_prime(++hi))
		;
	if (xlb_is_prime(lo) && xlb_is_prime(hi) && lo != n && hi != n)
		snprintf(err, errlen, "%u is not a prime (%u and %u are)", n,
			 lo, hi);
	else
		snprintf(err, errlen, "%u is not a prime", n);
	return -EINVAL;
}

int xlb_setting_check(const struct xlb_setting *s, uint64_t n, char *err,
		      size_t errlen)
{
	const char *unit = s->type == XLB_SET_MS ? " ms" : "";

	if (!n && s->zero_off)
		return 0;
	if (n < s->min || n > s->max) {
		snprintf(err, errlen, "%llu is out of range %u..%u%s%s",
			 (unsigned long long)n, s->min, s->max, unit,
			 s->zero_off && s->min ? " (0: off)" : "");
		return -EINVAL;
	}
	if (s->type == XLB_SET_PRIME && !xlb_is_prime((uint32_t)n))
		return not_prime(s, (uint32_t)n, err, errlen);
	return 0;
}

/* Digits into *n (capped past 32 bits); the first byte after them. */
static const char *digits(const char *s, uint64_t *n)
{
	*n = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		if (*n <= UINT32_MAX)
			*n = *n * 10 + (uint64_t)(*s - '0');
	return s;
}

int xlb_setting_parse(const struct xlb_setting *s, const char *text,
		      uint32_t *v, char *err, size_t errlen)
{
	char names[96];
	const char *end;
	uint64_t n;
	size_t i;

	switch (s->type) {
	case XLB_SET_U32:
	case XLB_SET_PRIME:
	case XLB_SET_MS:
		end = digits(text, &n);
		if (s->type == XLB_SET_MS && end != text &&
		    (!strcmp(end, "ms") || !strcmp(end, "s"))) {
			if (!strcmp(end, "s"))
				n *= 1000;
		} else if (end == text || *end) {
			snprintf(err, errlen,
				 s->type == XLB_SET_MS
					 ? "expected a duration (500, 500ms or "
					   "2s), got '" QUOTE "'"
					 : "expected an integer, got '" QUOTE
					   "'",
				 text);
			return -EINVAL;
		}
		if ((n < s->min || n > s->max) && !(s->zero_off && !n)) {
			/* The text as written: "3601s", not 3601000. */
			snprintf(err, errlen,
				 QUOTE " is out of range %u..%u%s%s", text,
				 s->min, s->max,
				 s->type == XLB_SET_MS ? " ms" : "",
				 s->zero_off && s->min ? " (0: off)" : "");
			return -EINVAL;
		}
		if (s->type == XLB_SET_PRIME && !xlb_is_prime((uint32_t)n))
			return not_prime(s, (uint32_t)n, err, errlen);
		*v = (uint32_t)n;
		return 0;
	case XLB_SET_ENUM:
		for (i = 0; s->choices[i]; i++) {
			if (!strcmp(text, s->choices[i])) {
				*v = s->values ? s->values[i] : (uint32_t)i;
				return 0;
			}
		}
		snprintf(err, errlen, "expected %s, got '" QUOTE "'",
			 xlb_setting_choices(s, names, sizeof(names)), text);
		return -EINVAL;
	case XLB_SET_BOOL:
		if (strcmp(text, "true") && strcmp(text, "false")) {
			snprintf(err, errlen,
				 "expected true or false, got '" QUOTE "'",
				 text);
			return -EINVAL;
		}
		*v = !strcmp(text, "true");
		return 0;
	default:
		snprintf(err, errlen, "not a plain value");
		return -EINVAL;
	}
}

/* PATH and NAME: whether text may be stored in s's buffer. */
static int text_check(const struct xlb_setting *s, const char *text, char *err,
		      size_t errlen)
{
	size_t i, len = strlen(text);

	if (s->type == XLB_SET_PATH && text[0] != '/') {
		snprintf(err, errlen, "'" QUOTE "' is not an absolute path",
			 text);
		return -EINVAL;
	}
	if (s->type == XLB_SET_PATH && len >= s->size) {
		snprintf(err, errlen, "longer than %zu characters",
			 s->size - 1);
		return -EINVAL;
	}
	for (i = 0; s->type == XLB_SET_NAME && i < len; i++) {
		if (isalnum((unsigned char)text[i]) || text[i] == '.' ||
		    text[i] == '_' || text[i] == '-')
			continue;
		snprintf(err, errlen,
			 "'" QUOTE "' may hold only letters, digits, '.', "
			 "'_' and '-'",
			 text);
		return -EINVAL;
	}
	if (s->type == XLB_SET_NAME && (!len || len >= s->size)) {
		snprintf(err, errlen, "expected 1 to %zu characters",
			 s->size - 1);
		return -EINVAL;
	}
	return 0;
}

/* The reason in msg, with the setting's label in front: "LABEL: REASON". */
static int keyed(const char *label, const char *msg, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", label, msg);
	return -EINVAL;
}

int xlb_setting_check_key(const struct xlb_setting *s, const char *label,
			  const char *text, uint64_t n, uint32_t *v, char *err,
			  size_t errlen)
{
	char msg[XLB_ERR_LEN];
	uint32_t got = (uint32_t)n;

	if (text ? xlb_setting_parse(s, text, &got, msg, sizeof(msg))
		 : xlb_setting_check(s, n, msg, sizeof(msg)))
		return keyed(label, msg, err, errlen);
	if (v)
		*v = got;
	return 0;
}

int xlb_setting_set(const struct xlb_setting *s, const char *label, void *obj,
		    const char *text, char *err, size_t errlen)
{
	char msg[XLB_ERR_LEN];
	uint32_t v = 0;
	int ret;

	if (s->type == XLB_SET_PATH || s->type == XLB_SET_NAME) {
		if (text_check(s, text, msg, sizeof(msg)))
			return keyed(label, msg, err, errlen);
		strcpy((char *)obj + s->offset, text);
		return 0;
	}
	ret = xlb_setting_check_key(s, label, text, 0, &v, err, errlen);
	if (!ret)
		xlb_setting_store(s, obj, v);
	return ret;
}

void xlb_setting_store(const struct xlb_setting *s, void *obj, uint32_t v)
{
	char *p = (char *)obj + s->offset;
	uint16_t v16 = (uint16_t)v;
	uint8_t v8 = (uint8_t)v;

	if (s->size == 4)
		memcpy(p, &v, 4);
	else if (s->size == 2)
		memcpy(p, &v16, 2);
	else if (s->size == 1)
		memcpy(p, &v8, 1);
}

uint32_t xlb_setting_load(const struct xlb_setting *s, const void *obj)
{
	const char *p = (const char *)obj + s->offset;
	uint32_t v = 0;
	uint16_t v16;
	uint8_t v8;

	if (s->size == 4) {
		memcpy(&v, p, 4);
	} else if (s->size == 2) {
		memcpy(&v16, p, 2);
		v = v16;
	} else if (s->size == 1) {
		memcpy(&v8, p, 1);
		v = v8;
	}
	return v;
}

int xlb_vip_rules(uint8_t proto, int mode, uint32_t mss, bool gue,
		  const char *prefix, const char **key, char *err,
		  size_t errlen)
{
	const char *at = NULL, *why = NULL;

	if (mss && proto != IPPROTO_TCP) {
		at = "mss";
		why = "only TCP VIPs have an MSS to clamp";
	} else if (gue && mode != XLB_MODE_TUNNEL) {
		at = "encap";
		why = "gue is for tunnel VIPs only";
	}
	if (!at)
		return 0;
	if (key)
		*key = at;
	snprintf(err, errlen, "%s%s: %s", prefix, at, why);
	return -EINVAL;
}

int xlb_settings_check(const char *section, const void *obj,
		       bool zero_is_default, char *err, size_t errlen)
{
	const struct xlb_setting *s;
	char msg[XLB_ERR_LEN];
	uint32_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		s = &settings[i];
		if (!s->size || s->size > 4 || strcmp(s->section, section))
			continue;
		v = xlb_setting_load(s, obj);
		if (!v && zero_is_default)
			continue;
		if (s->type == XLB_SET_ENUM && !xlb_setting_choice_name(s, v))
			snprintf(msg, sizeof(msg), "unknown value %u", v);
		else if (s->type == XLB_SET_BOOL && v > 1)
			snprintf(msg, sizeof(msg), "%u is not true or false",
				 v);
		else if (s->type == XLB_SET_ENUM || s->type == XLB_SET_BOOL ||
			 !xlb_setting_check(s, v, msg, sizeof(msg)))
			continue;
		return keyed(s->key, msg, err, errlen);
	}
	return 0;
}

void xlb_settings_defaults(const char *section, void *obj)
{
	const struct xlb_setting *s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		s = &settings[i];
		if (!s->size || strcmp(s->section, section))
			continue;
		if (s->type == XLB_SET_PATH || s->type == XLB_SET_NAME)
			snprintf((char *)obj + s->offset, s->size, "%s",
				 s->dflt_str ? s->dflt_str : "");
		else
			xlb_setting_store(s, obj, s->dflt);
	}
}
