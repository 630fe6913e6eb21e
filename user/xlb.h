/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Userspace types shared by xlbd, lbctl and the tests: addresses,
 * services (VIP = address + port + protocol), the configuration model.
 * Functions return 0 or -errno; where a message helps the operator they
 * fill err (never logging themselves: the caller logs once).
 */
#ifndef XLB_USER_H
#define XLB_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#include "xlb_abi.h"

#define XLB_VERSION	     "0.1.0"
#define XLB_DEFAULT_SOCKET   "/run/xlb/xlbd.sock"
#define XLB_DEFAULT_PIN_PATH "/sys/fs/bpf/xlb"
#define XLB_DEFAULT_WEIGHT   100
#define XLB_MAX_WEIGHT	     65535
#define XLB_MAX_INTERFACES   16
#define XLB_CTL_MAX_REQUEST  65536 /* bytes, one JSON line */
#define XLB_ERR_LEN	     256
#define XLB_DEFAULT_METRICS  "127.0.0.1:9617"

_Static_assert(XLB_AF_INET == AF_INET, "AF_INET");
_Static_assert(XLB_AF_INET6 == AF_INET6, "AF_INET6");

/* An IPv4 or IPv6 address; family is AF_INET or AF_INET6. */
struct xlb_ip {
	int family;
	struct xlb_addr a; /* as stored in maps: IPv4 in a.addr[0] */
};

/* Bytes of an address of this family (AF_INET or AF_INET6). */
static inline size_t xlb_ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* A VIP's identity. port is host order; 0 matches any port. */
struct xlb_service {
	struct xlb_ip ip;
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

enum xlb_hash_mode {
	XLB_HASH_MAGLEV = 0, /* 5-tuple */
	XLB_HASH_SOURCE_IP,  /* client address only */
};

/* How a VIP's packets reach its reals. */
enum xlb_fwd_mode {
	XLB_MODE_TUNNEL = 0, /* encapsulate; the real answers the client */
	XLB_MODE_FULLNAT,    /* translate both ways; replies come back */
};

enum xlb_xdp_mode {
	XLB_XDP_NATIVE = 0,
	XLB_XDP_GENERIC,
};

/* Text forms, for buffers passed to the *_str functions. */
#define XLB_IP_STRLEN	   INET6_ADDRSTRLEN
#define XLB_SERVICE_STRLEN (INET6_ADDRSTRLEN + 16)

/* addr.c: parsing and printing. All parsers reject trailing garbage. */
int xlb_ip_parse(const char *s, struct xlb_ip *ip);
/* "ADDR/LEN"; a bare address is a host prefix. */
int xlb_prefix_parse(const char *s, struct xlb_ip *ip, int *plen);
/*
 * "10.0.0.1:80/tcp", "[2001:db8::1]:443/udp"; ":0" or no port at all
 * ("10.0.0.1/tcp") is the any-port VIP. Protocol is required.
 */
int xlb_service_parse(const char *s, struct xlb_service *svc);
int xlb_mac_parse(const char *s, uint8_t mac[6]);
const char *xlb_ip_str(const struct xlb_ip *ip, char *buf, size_t len);
const char *xlb_service_str(const struct xlb_service *svc, char *buf,
			    size_t len);
const char *xlb_proto_str(uint8_t proto);
bool xlb_ip_equal(const struct xlb_ip *a, const struct xlb_ip *b);
/* Whether any bit after the first plen bits of the address is set. */
bool xlb_prefix_has_host_bits(const struct xlb_ip *ip, int plen);

/* What an address is given to be, for xlb_addr_check(). */
enum xlb_addr_role {
	XLB_ROLE_VIP,
	XLB_ROLE_REAL,
	XLB_ROLE_LADDR, /* a FULLNAT local address */
};

/*
 * The one validator of the addresses an operator gives, used by the
 * config file and the control socket alike so that both refuse the same
 * addresses with the same words: unspecified, loopback, multicast and the
 * IPv4 broadcast address are refused for every role. Returns 0, or
 * -EINVAL with err reading "224.0.0.1 cannot be a VIP (multicast
 * address)".
 */
int xlb_addr_check(const struct xlb_ip *ip, enum xlb_addr_role role, char *err,
		   size_t errlen);
/* A real of a VIP at address vip: xlb_addr_check(), and not vip itself
 * ("10.0.0.10 cannot be a real (it is the VIP's own address)"). */
int xlb_real_check(const struct xlb_ip *real, const struct xlb_ip *vip,
		   char *err, size_t errlen);
bool xlb_service_equal(const struct xlb_service *a,
		       const struct xlb_service *b);
const char *xlb_hash_mode_str(enum xlb_hash_mode mode);
int xlb_hash_mode_parse(const char *s, enum xlb_hash_mode *mode);
const char *xlb_fwd_mode_str(enum xlb_fwd_mode mode);
int xlb_fwd_mode_parse(const char *s, enum xlb_fwd_mode *mode);

/* Health checks (user/health.c). */
enum xlb_check_type {
	XLB_CHECK_NONE = 0, /* no check: the real is always up */
	XLB_CHECK_TCP,	    /* TCP connect */
	XLB_CHECK_HTTP,	    /* HTTP/1.1 GET, expected status codes */
	XLB_CHECK_UDP,	    /* send a payload, expect a reply */
};

/*
 * Which way a check travels (docs/HEALTH.md, "Data-path checks").
 * AUTO: the VIP's data path unless the check names its own address.
 */
enum xlb_check_path {
	XLB_CHECK_PATH_AUTO = 0,
	XLB_CHECK_PATH_DATAPATH, /* encapsulated to the VIP, or from a
				    FULLNAT local address */
	XLB_CHECK_PATH_DIRECT,	 /* from the node to the real's address */
};

/* The request of HTTP checks. */
enum xlb_http_method {
	XLB_HTTP_GET = 0,
	XLB_HTTP_HEAD,
};

#define XLB_CHECK_MAX_CODES 8
#define XLB_CHECK_TEXT_LEN  128

struct xlb_check_spec {
	enum xlb_check_type type;
	uint32_t interval_ms; /* between the starts of two checks */
	uint32_t timeout_ms;  /* < interval_ms */
	uint32_t rise;	      /* successes in a row to come up */
	uint32_t fall;	      /* failures in a row to go down */
	struct xlb_ip addr;   /* family 0: the real's own address */
	uint16_t port;	      /* 0: the VIP's port */
	enum xlb_check_path through;
	char http_path[XLB_CHECK_TEXT_LEN];	  /* default "/" */
	char http_host[XLB_CHECK_TEXT_LEN];	  /* default: the address */
	enum xlb_http_method http_method;	  /* default GET */
	uint16_t http_codes[XLB_CHECK_MAX_CODES]; /* default {200} */
	size_t n_http_codes;
	char udp_send[XLB_CHECK_TEXT_LEN];   /* payload sent */
	char udp_expect[XLB_CHECK_TEXT_LEN]; /* reply prefix; "" any reply */
};

/* The configuration model, filled by config.c and by lbctl requests. */
struct xlb_real_spec {
	struct xlb_ip ip;
	uint32_t weight; /* 0..XLB_MAX_WEIGHT; 0 = no new flows */
	bool has_check;	 /* check overrides the VIP's */
	struct xlb_check_spec check;
	bool has_drain; /* drain was written: applied by a (re)load */
	bool drain;	/* no new flows, as lbctl real drain */
	int line;	/* where it was declared, 0 if not from a file */
};

struct xlb_vip_spec {
	struct xlb_service svc;
	enum xlb_hash_mode hash;
	enum xlb_fwd_mode mode;
	uint16_t mss;	     /* TCP MSS clamp on SYN and SYN-ACK; 0 = off */
	uint32_t table_size; /* a prime, <= XLB_RING_SIZE_MAX */
	bool gue; /* tunnel inside UDP (encap: gue) rather than IPIP */
	struct xlb_check_spec check; /* default check of its reals */
	struct xlb_real_spec *reals;
	size_t n_reals;
	int line;
};

/* The smallest Maglev table: a prime, so 2 would do, but a ring of two
 * slots spreads nothing (config and agent refuse it alike). */
#define XLB_RING_SIZE_MIN 3

/* The smallest MSS clamp (RFC 1122: every IPv4 host takes 536). */
#define XLB_MSS_MIN 536

/* FULLNAT settings of the node (the "fullnat:" section). */
#define XLB_NAT_MAX_LADDRS_TOTAL (2 * XLB_NAT_MAX_LADDRS)

struct xlb_nat_config {
	struct xlb_ip laddrs[XLB_NAT_MAX_LADDRS_TOTAL]; /* the local pool */
	size_t n_laddrs;
	uint16_t port_min, port_max; /* split evenly between CPUs */
	uint32_t sessions;	     /* nat_fwd / nat_rev size */
	uint32_t tcp_s, tcp_syn_s, tcp_closing_s, udp_s; /* idle timeouts */
	uint32_t gc_interval_ms; /* how often xlbd reclaims expired ones */
};

/*
 * Route announcement (the "routes:" section, docs/CLUSTER.md): xlbd
 * installs a host route per announced address with its own protocol
 * number, and FRR redistributes them ("redistribute kernel").
 */
#define XLB_ROUTE_PROTO_DEFAULT 250
#define XLB_ROUTE_TABLE_MAIN	254
#define XLB_MAX_WATCH		8
#define XLB_DAEMON_NAME_LEN	16

struct xlb_routes_config {
	bool enabled;		/* the section is present */
	uint8_t protocol;	/* rtm_protocol of XLB's routes */
	uint32_t table;		/* routing table, default main */
	uint32_t metric;	/* own VIPs and own local addresses */
	uint32_t backup_metric; /* peers' local addresses (FULLNAT failover) */
	char frr_run_dir[256];	/* where DAEMON.pid files are */
	char watch[XLB_MAX_WATCH][XLB_DAEMON_NAME_LEN]; /* routing daemons */
	size_t n_watch;
	uint32_t watch_interval_ms;
};

/* The "cluster:" section: the nodes, session sync, node lifecycle. */
#define XLB_MAX_NODES	      16
#define XLB_NODE_NAME_LEN     32
#define XLB_SYNC_PORT_DEFAULT 7400

struct xlb_node_spec {
	char name[XLB_NODE_NAME_LEN];
	struct xlb_ip addr; /* its sync address */
	uint16_t port;	    /* its sync port */
	/* Its FULLNAT pool: never shared with another node. For this node
	 * it equals fullnat.local_addresses. */
	struct xlb_ip laddrs[XLB_NAT_MAX_LADDRS_TOTAL];
	size_t n_laddrs;
	int line;
};

struct xlb_cluster_config {
	bool enabled;		      /* the section is present */
	char node[XLB_NODE_NAME_LEN]; /* this node's name */
	size_t self;		      /* its index in nodes */
	char key_file[256];	      /* shared key; root-only file */
	uint16_t port;		      /* sync port of entries without one */
	int line;		      /* where the section starts */
	uint32_t batch_ms; /* most an event waits before it is sent */
	uint32_t preonline_timeout_ms; /* bulk sync wait before going alone */
	uint32_t drain_idle_ms;	       /* "drained": no flow seen this long */
	uint32_t replay_window_s;      /* accepted clock skew of a message */
	struct xlb_node_spec nodes[XLB_MAX_NODES];
	size_t n_nodes;
};

/* The VLAN ids balanced on one interface (config `vlans` by interface). */
struct xlb_vlan_spec {
	char ifname[16]; /* IFNAMSIZ */
	int line;	 /* where it is named */
	uint64_t vids[XLB_VLAN_WORDS];
};

struct xlb_config {
	char *interfaces[XLB_MAX_INTERFACES];
	size_t n_interfaces;
	enum xlb_xdp_mode xdp_mode;
	char socket_path[108]; /* sizeof(sun_path) */
	char pin_path[256];
	uint32_t ct_size;  /* IPv4 conntrack entries per CPU */
	uint32_t ct6_size; /* IPv6 conntrack entries per CPU */
	uint32_t fc_size;  /* flow cache slots per CPU; 0: off */
	/* Tunnel mode's flood guard: new conntrack entries per CPU per
	 * second before misses other than SYNs are not remembered; 0 off. */
	uint32_t flood_guard_rate;
	/*
	 * VLAN ids whose tagged frames are balanced (bitmaps by id), config
	 * `vlans`: the list form gives vlans, the same ids on every
	 * interface; the mapping form gives vlan_ifs, one per interface
	 * named (the others: untagged only). See xlb_config_vlans().
	 */
	uint64_t vlans[XLB_VLAN_WORDS];
	struct xlb_vlan_spec vlan_ifs[XLB_MAX_INTERFACES];
	size_t n_vlan_ifs;
	/* Tunnel conntrack idle timeouts in seconds ("conntrack_timeouts:"),
	 * by the TCP state seen from the client. */
	struct {
		uint32_t tcp_syn_s, tcp_s, tcp_fin_s, tcp_closing_s, udp_s;
	} ct_timeouts;
	uint32_t max_vips;  /* vips map size */
	uint32_t max_reals; /* reals map size */
	struct xlb_ip tun_src_v4;
	int tun_src_v4_plen;
	struct xlb_ip tun_src_v6;
	int tun_src_v6_plen;
	bool has_gw_mac;
	uint8_t gw_mac[6];
	/* Resolve each real's next hop in xlbd (nexthop.c) rather than ask
	 * bpf_fib_lookup for every packet. */
	bool nexthops;
	uint32_t icmp_rate; /* path MTU errors per second per CPU; 0 = none */
	uint32_t gue_port;  /* UDP destination port of GUE tunnels */
	char metrics_listen[64]; /* "ADDR:PORT"; "" = off */
	char control_cpus[64];	 /* CPU list ("0-1,4"); "" = no pinning */
	struct xlb_nat_config nat;
	struct xlb_routes_config routes;
	struct xlb_cluster_config cluster;
	struct xlb_vip_spec *vips;
	size_t n_vips;
};

/* Fill cfg with the defaults a file may override. */
void xlb_config_defaults(struct xlb_config *cfg);
/*
 * Parse and validate a whole YAML document. On error returns -EINVAL and
 * err reads "NAME:LINE: reason"; cfg is then left empty (freed).
 */
int xlb_config_parse(const char *text, size_t len, const char *name,
		     struct xlb_config *cfg, char *err, size_t errlen);
int xlb_config_load(const char *path, struct xlb_config *cfg, char *err,
		    size_t errlen);
void xlb_config_free(struct xlb_config *cfg);
/*
 * Write cfg as a file that xlb_config_parse() reads back to the same
 * model (config_dump.c): every setting, the local pool, every VIP and
 * real with its weight, drain state and checks.
 */
int xlb_config_write(FILE *f, const struct xlb_config *cfg);
/*
 * The VLAN ids whose tagged frames are balanced on interface ifname (a
 * bitmap by id, XLB_VLAN_WORDS words), or NULL: untagged frames only.
 */
const uint64_t *xlb_config_vlans(const struct xlb_config *cfg,
				 const char *ifname);

bool xlb_is_prime(uint32_t n);

#endif /* XLB_USER_H */
