// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * FULLNAT through the real program, against docs/FULLNAT.md: both
 * directions for IPv4 and IPv6, TCP and UDP, with exact output bytes and
 * verified checksums; the reply on the other CPU; port allocation and
 * exhaustion; replies and ICMP errors without a session; ICMP errors both
 * ways; the MSS clamp; malformed replies; session state and the sweep;
 * and the foundation's flow properties in fullnat mode.
 *
 * Requests come from the clients' router on xt0 and leave for the reals
 * behind xt2; replies come from the reals on xt2 and leave on xt0 for the
 * router (two arms, XDP_REDIRECT), except where a case says one arm.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include <criterion/criterion.h>

#include "harness.h"

#define CLIENT4	   "192.0.2.10"
#define CLIENT6	   "2001:db8::10"
#define VIP4	   "10.100.0.1"
#define VIP6	   "fd00:100::1"
#define LOCAL4	   "10.97.0.1"
#define LOCAL6	   "fd00:97::1"
#define LOCAL4B	   "10.97.0.2"
#define REAL4	   "10.1.0.2"
#define REAL6	   "fd01::2"

#define TCP4_SVC   VIP4 ":80/tcp"
#define UDP4_SVC   VIP4 ":53/udp"
#define TCP6_SVC   "[" VIP6 "]:80/tcp"
#define UDP6_SVC   "[" VIP6 "]:53/udp"
#define MSS_VIP4   "10.100.0.2"
#define MSS4_SVC   MSS_VIP4 ":80/tcp" /* mss 1400 */
#define MSS_VIP6   "fd00:100::2"
#define MSS6_SVC   "[" MSS_VIP6 "]:80/tcp" /* mss 1400 */
#define ARM1_VIP   "10.100.0.3"
#define ARM1_SVC   ARM1_VIP ":80/tcp" /* its real is behind xt0 */
#define TUN_VIP	   "10.100.0.9"
#define TUN_SVC	   TUN_VIP ":80/tcp" /* tunnel mode, mss 1400 */
#define CLAMP	   1400
#define NS_PER_SEC 1000000000ull

/* Where a translated frame must leave, and with which MACs. */
struct hop {
	uint32_t verdict;
	enum xlb_reason reason;
	const char *smac;
	const char *dmac;
};

/* Requests to the reals behind xt2. */
static const struct hop to_real2 = {XDP_REDIRECT, XLB_R_FWD_REDIRECT,
				    H_MAC_REALS, H_MAC_REAL2};
/* Replies received by xt2, out of xt0 to the clients' router. */
static const struct hop to_client = {XDP_REDIRECT, XLB_R_FWD_REDIRECT,
				     H_MAC_CLIENT, H_MAC_ROUTER};
/* One arm: in and out of xt0. */
static const struct hop to_client_tx = {XDP_TX, XLB_R_FWD_TX, H_MAC_CLIENT,
					H_MAC_ROUTER};
static const struct hop to_txreal = {XDP_TX, XLB_R_FWD_TX, H_MAC_CLIENT,
				     H_MAC_TXREAL};

/* A client's first packet: a SYN from port 40000 (override any field). */
#define REQ4(...)                                \
	((struct pkt_spec){.family = AF_INET,    \
			   .saddr = CLIENT4,     \
			   .daddr = VIP4,        \
			   .proto = IPPROTO_TCP, \
			   .sport = 40000,       \
			   .dport = 80,          \
			   .tcp_flags = PKT_SYN, \
			   .seq = 1000,          \
			   .ip_id = 0x1234,      \
			   .df = true,           \
			   __VA_ARGS__})
#define REQ6(...)                                \
	((struct pkt_spec){.family = AF_INET6,   \
			   .saddr = CLIENT6,     \
			   .daddr = VIP6,        \
			   .proto = IPPROTO_TCP, \
			   .sport = 40000,       \
			   .dport = 80,          \
			   .tcp_flags = PKT_SYN, \
			   .seq = 1000,          \
			   .flow_label = 0x5678, \
			   __VA_ARGS__})
#define UREQ4(...) REQ4(.proto = IPPROTO_UDP, .dport = 53, __VA_ARGS__)
#define UREQ6(...) REQ6(.proto = IPPROTO_UDP, .dport = 53, __VA_ARGS__)

/* The real's answer to req, sent to local:lport. */
static struct pkt_spec reply_to(const struct pkt_spec *req, const char *real,
				const char *local, uint16_t lport,
				uint8_t flags)
{
	struct pkt_spec s = {
		.smac = H_MAC_REAL2,
		.dmac = H_MAC_REALS,
		.family = req->family,
		.saddr = real,
		.daddr = local,
		.ttl = 63,
		.ip_id = 0x4321,
		.df = true,
		.flow_label = 0x9abc,
		.proto = req->proto,
		.sport = req->dport,
		.dport = lport,
		.tcp_flags = flags,
		.seq = 5000,
		.ack = req->seq + 1,
		.udp_csum_zero = req->udp_csum_zero,
	};

	return s;
}

/* A FULLNAT VIP (added, switched to fullnat, then its real). */
static void fullnat_vip(const char *svc, const char *real, uint16_t mss)
{
	h_vip(svc, XLB_HASH_MAGLEV, 251);
	h_vip_mode(svc, XLB_MODE_FULLNAT, mss);
	if (real)
		h_real(svc, real, 100);
}

static void build(struct pkt *p, const struct pkt_spec *s)
{
	cr_assert_eq(pkt_build(p, s), 0, "cannot build a frame");
}

/* got must equal want byte for byte; both are dumped if not. */
static void assert_frame(const struct h_result *res, const struct pkt *want,
			 const char *what)
{
	if (res->out_len == want->len &&
	    !memcmp(res->out, want->buf, want->len))
		return;
	pkt_hexdump_diff(res->out, res->out_len, want->buf, want->len);
	cr_assert_fail("%s: output differs from the expected bytes (got %u "
		       "bytes, want %zu)",
		       what, res->out_len, want->len);
}

/* A frame that was sent: its verdict, its reason, all its checksums. */
static void assert_sent(const struct h_result *res, const struct hop *hop,
			const char *what)
{
	char why[160] = "";

	cr_assert_eq(res->reason, hop->reason, "%s: reason %s, want %s", what,
		     xlb_reason_names[res->reason],
		     xlb_reason_names[hop->reason]);
	cr_assert_eq(res->retval, hop->verdict, "%s: verdict %u, want %u", what,
		     res->retval, hop->verdict);
	cr_assert_eq(
		pkt_verify_checksums(res->out, res->out_len, why, sizeof(why)),
		0, "%s: output: %s", what, why);
}

/* in must end with verdict and reason, its bytes untouched. */
static void expect_ends(const struct pkt *in, int cpu, const char *ifname,
			uint32_t verdict, enum xlb_reason reason,
			const char *what)
{
	struct h_result res;

	h_run_if(in, &res, cpu, ifname);
	cr_assert_eq(res.reason, reason, "%s: reason %s, want %s", what,
		     xlb_reason_names[res.reason], xlb_reason_names[reason]);
	cr_assert_eq(res.retval, verdict, "%s: verdict %u, want %u", what,
		     res.retval, verdict);
	assert_frame(&res, in, what);
}

static void expect_ends_spec(const struct pkt_spec *s, int cpu,
			     const char *ifname, uint32_t verdict,
			     enum xlb_reason reason, const char *what)
{
	struct pkt in;

	build(&in, s);
	expect_ends(&in, cpu, ifname, verdict, reason, what);
}

/* The source port of a frame the program sent. */
static uint16_t out_sport(const struct h_result *res)
{
	struct pkt_info info;
	char why[160];

	cr_assert_eq(pkt_parse(res->out, res->out_len, &info, why, sizeof(why)),
		     0, "output does not parse: %s", why);
	return info.sport;
}

/*
 * res is the client's packet in, sent to real from local: as want_tmpl
 * (NULL: in) with local:lport -> real and nothing else changed. Returns
 * lport.
 */
static uint16_t fwd_check(const struct h_result *res, const struct pkt_spec *in,
			  const struct pkt_spec *want_tmpl, const char *local,
			  const char *real, const struct hop *hop,
			  const char *what)
{
	struct pkt_spec w = want_tmpl ? *want_tmpl : *in;
	struct pkt want;

	assert_sent(res, hop, what);
	w.saddr = local;
	w.daddr = real;
	w.sport = out_sport(res);
	w.smac = hop->smac;
	w.dmac = hop->dmac;
	build(&want, &w);
	assert_frame(res, &want, what);
	return w.sport;
}

/* Send a client's packet on cpu and check it as fwd_check() does. */
static uint16_t fwd_ok(const struct pkt_spec *in,
		       const struct pkt_spec *want_tmpl, int cpu,
		       const char *local, const char *real,
		       const struct hop *hop, const char *what)
{
	struct h_result res;
	struct pkt p;

	build(&p, in);
	h_run_if(&p, &res, cpu, H_IF_CLIENT);
	return fwd_check(&res, in, want_tmpl, local, real, hop, what);
}

/*
 * Send a real's reply received by ifname on cpu: it must reach the client
 * as want_tmpl (NULL: reply) from vip to client:cport.
 */
static void rev_ok(const struct pkt_spec *reply,
		   const struct pkt_spec *want_tmpl, int cpu,
		   const char *ifname, const char *vip, const char *client,
		   uint16_t cport, const struct hop *hop, const char *what)
{
	struct pkt_spec w = want_tmpl ? *want_tmpl : *reply;
	struct h_result res;
	struct pkt p, want;

	build(&p, reply);
	h_run_if(&p, &res, cpu, ifname);
	assert_sent(&res, hop, what);
	w.saddr = vip;
	w.daddr = client;
	w.dport = cport;
	w.smac = hop->smac;
	w.dmac = hop->dmac;
	build(&want, &w);
	assert_frame(&res, &want, what);
}

/* CPU cpu's local ports, as the globals split them. */
static void cpu_ports(int cpu, uint16_t *lo, uint16_t *hi)
{
	struct xlb_globals g;

	h_globals(&g);
	cr_assert_gt(g.nat_port_span, 0, "no local ports per CPU");
	*lo = g.nat_port_min + cpu * g.nat_port_span;
	*hi = *lo + g.nat_port_span - 1;
}

/* The reverse entry of the reply real:rport -> local:lport. */
static int rev_get(uint8_t proto, const char *real, uint16_t rport,
		   const char *local, uint16_t lport, struct xlb_nat_rev *rev)
{
	struct xlb_nat_key key;

	h_nat_rev_key(proto, real, rport, local, lport, &key);
	return xlb_dp_nat_rev_get(h_dp, &key, rev);
}

/*
 * The session of client:cport to svc: local:lport, to real, allocated by
 * cpu in its range, and its reverse entry naming it back. *e gets the
 * forward entry when e is not NULL.
 */
static void assert_session(const char *svc, const char *client, uint16_t cport,
			   const char *local, uint16_t lport, const char *real,
			   int cpu, struct xlb_nat_fwd *e)
{
	struct xlb_flow_key fkey;
	struct xlb_service s;
	struct xlb_nat_rev rev;
	struct xlb_nat_fwd f;
	struct xlb_ip l;
	uint16_t lo, hi;
	int ret;

	cr_assert_eq(xlb_service_parse(svc, &s), 0);
	cr_assert_eq(xlb_ip_parse(local, &l), 0);
	ret = h_nat_get(svc, client, cport, &f);
	cr_assert_eq(ret, 0, "no session for %s:%u: %d", client, cport, ret);
	cr_assert_eq(memcmp(&f.laddr, &l.a, sizeof(l.a)), 0,
		     "session of %s:%u: another local address", client, cport);
	cr_assert_eq(ntohs(f.lport), lport, "session of %s:%u: lport %u not %u",
		     client, cport, ntohs(f.lport), lport);
	cr_assert_eq(f.real_id, h_real_id(svc, real), "session's real");
	cr_assert_eq(f.cpu, (uint32_t)cpu, "session's CPU %u, want %d", f.cpu,
		     cpu);
	cpu_ports(cpu, &lo, &hi);
	cr_assert(lport >= lo && lport <= hi,
		  "local port %u outside CPU %d's range %u-%u", lport, cpu, lo,
		  hi);
	ret = rev_get(s.proto, real, s.port, local, lport, &rev);
	cr_assert_eq(ret, 0, "no reverse entry for %s:%u: %d", client, cport,
		     ret);
	h_nat_key(svc, client, cport, &fkey);
	cr_assert_eq(memcmp(&rev.flow, &fkey, sizeof(fkey)), 0,
		     "the reverse entry names another flow");
	cr_assert_eq(memcmp(&rev.vaddr, &s.ip.a, sizeof(s.ip.a)), 0,
		     "the reverse entry's VIP address");
	if (e)
		*e = f;
}

/* The forward entry of a session that must exist. */
static struct xlb_nat_fwd session(const char *svc, const char *client,
				  uint16_t cport)
{
	struct xlb_nat_fwd e;

	cr_assert_eq(h_nat_get(svc, client, cport, &e), 0,
		     "no session for %s:%u", client, cport);
	return e;
}

/* CLOCK_MONOTONIC secs seconds ago (last_seen of a session that idle). */
static uint64_t ago(uint32_t secs)
{
	uint64_t now = h_now_ns(), d = (uint64_t)secs * NS_PER_SEC;

	cr_assert_gt(now, d, "the machine is up for less than %u s", secs);
	return now - d;
}

/* The pool, and a fullnat VIP for each family and protocol. */
static void nat_init(void)
{
	h_nat_setup();
	h_nat_config(1024, 65535);
	h_laddr(LOCAL4);
	h_laddr(LOCAL6);
	fullnat_vip(TCP4_SVC, REAL4, 0);
	fullnat_vip(UDP4_SVC, REAL4, 0);
	fullnat_vip(TCP6_SVC, REAL6, 0);
	fullnat_vip(UDP6_SVC, REAL6, 0);
	fullnat_vip(MSS4_SVC, REAL4, CLAMP);
	fullnat_vip(MSS6_SVC, REAL6, CLAMP);
	fullnat_vip(ARM1_SVC, "10.0.0.9", 0);
}

TestSuite(nat, .init = nat_init, .fini = h_teardown);

/* ---- Both directions ------------------------------------------------- */

/*
 * A flow both ways: request on CPU 0, the reply on CPU 1, more data from
 * the client on CPU 1 through the same session, the real's data on CPU 0.
 */
static void both_ways(const struct pkt_spec *syn, const char *svc,
		      const char *local, const char *real)
{
	struct pkt_spec data = *syn, back;
	struct xlb_nat_fwd e;
	uint16_t lport;

	lport = fwd_ok(syn, NULL, 0, local, real, &to_real2, "first packet");
	assert_session(svc, syn->saddr, syn->sport, local, lport, real, 0, &e);
	if (syn->proto == IPPROTO_TCP)
		cr_assert_eq(e.state, 0, "no answer yet: state 0x%x", e.state);

	back = reply_to(syn, real, local, lport, PKT_SYN | PKT_ACK);
	rev_ok(&back, NULL, 1, H_IF_REALS, syn->daddr, syn->saddr, syn->sport,
	       &to_client, "reply on CPU 1");
	e = session(svc, syn->saddr, syn->sport);
	if (syn->proto == IPPROTO_TCP)
		cr_assert(e.state & XLB_NAT_S_REPLIED, "state 0x%x", e.state);

	data.tcp_flags = PKT_ACK | PKT_PSH;
	data.seq = syn->seq + 1;
	data.ack = back.seq + 1;
	data.payload_len = 300;
	cr_assert_eq(
		fwd_ok(&data, NULL, 1, local, real, &to_real2, "data on CPU 1"),
		lport, "the flow's second packet took another port");

	back.tcp_flags = PKT_ACK | PKT_PSH;
	back.seq++;
	back.ack = data.seq + data.payload_len;
	back.payload_len = 700;
	rev_ok(&back, NULL, 0, H_IF_REALS, syn->daddr, syn->saddr, syn->sport,
	       &to_client, "reply data on CPU 0");
	cr_assert_eq(h_nat_count(), 1);
	cr_assert_eq(h_nat_rev_count(), 1);
}

Test(nat, tcp4_both_ways)
{
	struct pkt_spec syn = REQ4();

	both_ways(&syn, TCP4_SVC, LOCAL4, REAL4);
}

Test(nat, tcp6_both_ways)
{
	struct pkt_spec syn = REQ6();

	both_ways(&syn, TCP6_SVC, LOCAL6, REAL6);
}

Test(nat, udp4_both_ways)
{
	struct pkt_spec req = UREQ4(.payload_len = 40);

	both_ways(&req, UDP4_SVC, LOCAL4, REAL4);
}

Test(nat, udp6_both_ways)
{
	struct pkt_spec req = UREQ6(.payload_len = 40);

	both_ways(&req, UDP6_SVC, LOCAL6, REAL6);
}

/* No checksum over IPv4 stays no checksum, both ways. */
Test(nat, udp4_zero_checksum_stays_zero)
{
	struct pkt_spec req = UREQ4(.payload_len = 40, .udp_csum_zero = true);
	struct pkt_spec back;
	struct h_result res;
	struct pkt in;
	uint16_t lport;

	lport = fwd_ok(&req, NULL, 0, LOCAL4, REAL4, &to_real2,
		       "zero checksum request");
	back = reply_to(&req, REAL4, LOCAL4, lport, 0);
	cr_assert(back.udp_csum_zero);
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP4, CLIENT4, 40000, &to_client,
	       "zero checksum reply");
	/* And explicitly: the field is 0, not a computed one. */
	build(&in, &back);
	h_run_if(&in, &res, 1, H_IF_REALS);
	cr_assert_eq(res.out[in.l4_off + 6], 0);
	cr_assert_eq(res.out[in.l4_off + 7], 0);
}

static void zero_udp_csum(struct pkt *p)
{
	pkt_udp(p)->check = 0;
}

/* No checksum over IPv6 is invalid (RFC 8200 8.1): dropped both ways. */
Test(nat, udp6_zero_checksum_dropped)
{
	struct pkt_spec req = UREQ6(.payload_len = 40), back;
	struct pkt in;
	uint16_t lport;

	build(&in, &req);
	zero_udp_csum(&in);
	expect_ends(&in, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_BAD_HEADER,
		    "v6 request without checksum");
	cr_assert_eq(h_nat_count(), 0, "a dropped request made a session");

	lport = fwd_ok(&req, NULL, 0, LOCAL6, REAL6, &to_real2, "request");
	back = reply_to(&req, REAL6, LOCAL6, lport, 0);
	build(&in, &back);
	zero_udp_csum(&in);
	expect_ends(&in, 1, H_IF_REALS, XDP_DROP, XLB_R_DROP_BAD_HEADER,
		    "v6 reply without checksum");
}

/* ---- CPUs -------------------------------------------------------------- */

/* A SYN retransmitted on the other queue finds the session, and a flow
 * started on CPU 1 gets a port of CPU 1's range, answered on CPU 0. */
Test(nat, sessions_are_shared_by_cpus)
{
	struct pkt_spec syn = REQ4(), syn2 = REQ4(.sport = 40001), back;
	uint16_t lport, lport2;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn, CPU 0");
	cr_assert_eq(fwd_ok(&syn, NULL, 1, LOCAL4, REAL4, &to_real2,
			    "same syn, CPU 1"),
		     lport);
	assert_session(TCP4_SVC, CLIENT4, 40000, LOCAL4, lport, REAL4, 0, NULL);
	cr_assert_eq(h_nat_count(), 1);

	lport2 = fwd_ok(&syn2, NULL, 1, LOCAL4, REAL4, &to_real2, "syn, CPU 1");
	assert_session(TCP4_SVC, CLIENT4, 40001, LOCAL4, lport2, REAL4, 1,
		       NULL);
	back = reply_to(&syn2, REAL4, LOCAL4, lport2, PKT_SYN | PKT_ACK);
	rev_ok(&back, NULL, 0, H_IF_REALS, VIP4, CLIENT4, 40001, &to_client,
	       "reply on CPU 0");
	cr_assert_eq(h_nat_count(), 2);
	cr_assert_eq(h_nat_rev_count(), 2);
}

/* One arm: the real behind the ingress port, both ways with XDP_TX. */
Test(nat, one_armed_both_ways)
{
	struct pkt_spec syn = REQ4(.daddr = ARM1_VIP), back;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, "10.0.0.9", &to_txreal, "syn");
	assert_session(ARM1_SVC, CLIENT4, 40000, LOCAL4, lport, "10.0.0.9", 0,
		       NULL);
	back = reply_to(&syn, "10.0.0.9", LOCAL4, lport, PKT_SYN | PKT_ACK);
	back.smac = H_MAC_TXREAL;
	back.dmac = H_MAC_CLIENT;
	rev_ok(&back, NULL, 1, H_IF_CLIENT, ARM1_VIP, CLIENT4, 40000,
	       &to_client_tx, "reply on the same arm");
}

/* ---- Replies without a session ------------------------------------------ */

/* To a local address and no session: to the kernel, never forwarded. */
Test(nat, reply_without_session_passes)
{
	struct pkt_spec syn = REQ4(), s;
	uint16_t lport;

	s = reply_to(&syn, REAL4, LOCAL4, 2000, PKT_ACK);
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "tcp, port in the pool");
	s = reply_to(&syn, REAL4, LOCAL4, 80, PKT_ACK);
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "tcp, port below the pool");
	s = reply_to(&syn, REAL4, LOCAL4, 3000, 0);
	s.proto = IPPROTO_UDP;
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "udp");
	syn = REQ6();
	s = reply_to(&syn, REAL6, LOCAL6, 2000, PKT_SYN | PKT_ACK);
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "v6 tcp");
	cr_assert_eq(h_nat_count(), 0);

	/* A session exists: only its exact tuple is its reply. */
	syn = REQ4();
	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	s = reply_to(&syn, "10.1.0.3", LOCAL4, lport, PKT_SYN | PKT_ACK);
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "from another real");
	s = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	s.sport = 81;
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "from another port");
	s = reply_to(&syn, REAL4, LOCAL4, lport, 0);
	s.proto = IPPROTO_UDP;
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "another protocol");
	s = reply_to(&syn, "192.0.2.99", LOCAL4, lport, PKT_SYN);
	s.smac = NULL;
	s.dmac = NULL;
	expect_ends_spec(&s, 0, H_IF_CLIENT, XDP_PASS,
			 XLB_R_PASS_NAT_NO_SESSION, "from the clients' side");
	cr_assert_eq(h_nat_count(), 1, "a reply made a session");
}

/* A session whose forward entry is gone has no reply path either. */
Test(nat, reply_to_orphan_reverse_entry_passes)
{
	struct pkt_spec syn = REQ4(), s;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	h_nat_del_fwd(TCP4_SVC, CLIENT4, 40000);
	s = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NAT_NO_SESSION,
			 "reply to an orphan");
}

/* Malformed replies to a live session: dropped and counted. */
static void cut_in_l4(struct pkt *p)
{
	pkt_truncate(p, p->l4_off + 10);
	if (p->family == AF_INET) {
		pkt_ip4(p)->tot_len = htons(p->len - p->l3_off);
		pkt_fix_checksums(p);
	} else {
		pkt_ip6(p)->payload_len = htons(p->len - p->l3_off - 40);
	}
}

static void frame_shorter_than_ip(struct pkt *p)
{
	pkt_truncate(p, p->l4_off + 10);
}

static void ihl_4(struct pkt *p)
{
	pkt_ip4(p)->ihl = 4;
	pkt_fix_checksums(p);
}

static void doff_4(struct pkt *p)
{
	pkt_tcp(p)->doff = 4;
}

Test(nat, malformed_replies_dropped)
{
	static const struct {
		const char *what;
		void (*mangle)(struct pkt *p);
		bool v6;
		enum xlb_reason reason;
	} cases[] = {
		{"cut inside tcp", cut_in_l4, false, XLB_R_DROP_TRUNCATED},
		{"frame shorter than its ip length", frame_shorter_than_ip,
		 false, XLB_R_DROP_TRUNCATED},
		{"ihl 4", ihl_4, false, XLB_R_DROP_BAD_HEADER},
		{"tcp data offset 4", doff_4, false, XLB_R_DROP_BAD_HEADER},
		{"v6 cut inside tcp", cut_in_l4, true, XLB_R_DROP_TRUNCATED},
		{"v6 tcp data offset 4", doff_4, true, XLB_R_DROP_BAD_HEADER},
	};
	struct pkt_spec syn4 = REQ4(), syn6 = REQ6(), back;
	uint16_t lport4, lport6;
	struct pkt in;
	size_t i;

	lport4 = fwd_ok(&syn4, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	lport6 = fwd_ok(&syn6, NULL, 0, LOCAL6, REAL6, &to_real2, "v6 syn");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].v6)
			back = reply_to(&syn6, REAL6, LOCAL6, lport6, PKT_ACK);
		else
			back = reply_to(&syn4, REAL4, LOCAL4, lport4, PKT_ACK);
		back.payload_len = 100;
		build(&in, &back);
		cases[i].mangle(&in);
		expect_ends(&in, 1, H_IF_REALS, XDP_DROP, cases[i].reason,
			    cases[i].what);
	}
	/* The sessions are still there and answer. */
	back = reply_to(&syn4, REAL4, LOCAL4, lport4, PKT_SYN | PKT_ACK);
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP4, CLIENT4, 40000, &to_client,
	       "a good reply after the bad ones");
	back = reply_to(&syn6, REAL6, LOCAL6, lport6, PKT_SYN | PKT_ACK);
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP6, CLIENT6, 40000, &to_client,
	       "a good v6 reply after the bad ones");
}

/* ---- ICMP errors ----------------------------------------------------------- */

/* The quoted L4 checksum: where it is in a built error, if quoted. */
static size_t quoted_l4_csum_off(const struct pkt *p)
{
	size_t q = p->payload_off, hlen, off;
	const uint8_t *b = p->buf + q;
	uint8_t proto;

	if (b[0] >> 4 == 4) {
		hlen = (b[0] & 0xf) * 4;
		proto = b[9];
	} else {
		hlen = 40;
		proto = b[6];
	}
	off = q + hlen + (proto == IPPROTO_TCP ? 16 : 6);
	return off + 2 <= p->len ? off : 0;
}

/*
 * Send the ICMP error err: it must leave by hop as want. docs/FULLNAT.md
 * asks the quote's IP header, addresses, ports and the ICMP checksum to
 * be rewritten; a quoted TCP or UDP checksum, when the quote holds one,
 * may be the original's or the rewritten packet's: both are accepted
 * (the ICMP checksum must match whichever it is).
 */
static void icmp_ok(const struct pkt_spec *err, const struct pkt_spec *want,
		    int cpu, const char *ifname, const struct hop *hop,
		    const char *what)
{
	struct pkt in, w, alt;
	struct h_result res;
	size_t off;

	build(&in, err);
	build(&w, want);
	h_run_if(&in, &res, cpu, ifname);
	assert_sent(&res, hop, what);
	off = quoted_l4_csum_off(&w);
	if (off && res.out_len == w.len &&
	    !memcmp(res.out + off, in.buf + off - w.l3_off + in.l3_off, 2)) {
		/* The quoted checksum was kept as it was. */
		alt = w;
		memcpy(alt.buf + off, in.buf + off - w.l3_off + in.l3_off, 2);
		pkt_fix_checksums(&alt);
		assert_frame(&res, &alt, what);
		return;
	}
	assert_frame(&res, &w, what);
}

/*
 * "Fragmentation needed" from the real's side, about local:lport ->
 * real:80: reaches the client from the VIP about client:cport -> VIP:80,
 * MTU kept. quote_len 0 quotes IP + 8 bytes; more quotes the TCP checksum.
 */
static void frag_needed_from_real_side(size_t quote_len)
{
	struct pkt_spec syn = REQ4(), sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	sent = REQ4(.saddr = LOCAL4, .daddr = REAL4, .sport = lport,
		    .tcp_flags = PKT_ACK, .seq = 1001, .payload_len = 1400);
	err = (struct pkt_spec){
		.smac = H_MAC_REAL3,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = "10.1.0.254",
		.daddr = LOCAL4,
		.ttl = 255,
		.ip_id = 99,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_FRAG_NEEDED,
		.mtu = 1300,
		.quote = &sent,
		.quote_len = quote_len,
	};
	q = sent;
	q.saddr = CLIENT4;
	q.daddr = VIP4;
	q.sport = 40000;
	want = err;
	want.saddr = VIP4;
	want.daddr = CLIENT4;
	want.quote = &q;
	want.smac = to_client.smac;
	want.dmac = to_client.dmac;
	icmp_ok(&err, &want, 1, H_IF_REALS, &to_client, "frag needed");
}

Test(nat, icmp_frag_needed_from_real_side)
{
	frag_needed_from_real_side(0);
}

Test(nat, icmp_frag_needed_from_real_side_long_quote)
{
	frag_needed_from_real_side(548);
}

Test(nat, icmp6_packet_too_big_from_real_side)
{
	struct pkt_spec syn = REQ6(), sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL6, REAL6, &to_real2, "syn");
	sent = REQ6(.saddr = LOCAL6, .daddr = REAL6, .sport = lport,
		    .tcp_flags = PKT_ACK, .seq = 1001, .payload_len = 1400);
	err = (struct pkt_spec){
		.smac = H_MAC_REAL3,
		.dmac = H_MAC_REALS,
		.family = AF_INET6,
		.saddr = "fd01::fe",
		.daddr = LOCAL6,
		.ttl = 255,
		.proto = IPPROTO_ICMPV6,
		.icmp_type = ICMPV6_PKT_TOOBIG,
		.mtu = 1280,
		.quote = &sent,
	};
	q = sent;
	q.saddr = CLIENT6;
	q.daddr = VIP6;
	q.sport = 40000;
	want = err;
	want.saddr = VIP6;
	want.daddr = CLIENT6;
	want.quote = &q;
	want.smac = to_client.smac;
	want.dmac = to_client.dmac;
	icmp_ok(&err, &want, 1, H_IF_REALS, &to_client, "packet too big");
}

/* From the client's side, about VIP:80 -> client:cport: reaches the real
 * from the local address about real:80 -> local:lport. */
Test(nat, icmp_frag_needed_from_client_side)
{
	struct pkt_spec syn = REQ4(), sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	sent = REQ4(.saddr = VIP4, .daddr = CLIENT4, .sport = 80,
		    .dport = 40000, .tcp_flags = PKT_ACK, .seq = 5001,
		    .payload_len = 1400);
	err = (struct pkt_spec){
		.family = AF_INET,
		.saddr = "203.0.113.1",
		.daddr = VIP4,
		.ttl = 250,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_FRAG_NEEDED,
		.mtu = 1280,
		.quote = &sent,
	};
	q = sent;
	q.saddr = REAL4;
	q.daddr = LOCAL4;
	q.dport = lport;
	want = err;
	want.saddr = LOCAL4;
	want.daddr = REAL4;
	want.quote = &q;
	want.smac = to_real2.smac;
	want.dmac = to_real2.dmac;
	icmp_ok(&err, &want, 1, H_IF_CLIENT, &to_real2, "frag needed");
}

/* A UDP quote holds its checksum in the first 8 bytes. */
Test(nat, icmp_port_unreachable_from_client_udp)
{
	struct pkt_spec req = UREQ4(.payload_len = 40), sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&req, NULL, 0, LOCAL4, REAL4, &to_real2, "request");
	sent = UREQ4(.saddr = VIP4, .daddr = CLIENT4, .sport = 53,
		     .dport = 40000, .payload_len = 60);
	err = (struct pkt_spec){
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = VIP4,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_PORT_UNREACH,
		.quote = &sent,
	};
	q = sent;
	q.saddr = REAL4;
	q.daddr = LOCAL4;
	q.dport = lport;
	want = err;
	want.saddr = LOCAL4;
	want.daddr = REAL4;
	want.quote = &q;
	want.smac = to_real2.smac;
	want.dmac = to_real2.dmac;
	icmp_ok(&err, &want, 0, H_IF_CLIENT, &to_real2, "port unreachable");
}

Test(nat, icmp6_packet_too_big_from_client_side)
{
	struct pkt_spec syn = REQ6(), sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL6, REAL6, &to_real2, "syn");
	sent = REQ6(.saddr = VIP6, .daddr = CLIENT6, .sport = 80,
		    .dport = 40000, .tcp_flags = PKT_ACK, .seq = 5001,
		    .payload_len = 1400);
	err = (struct pkt_spec){
		.family = AF_INET6,
		.saddr = "2001:db8:ff::1",
		.daddr = VIP6,
		.proto = IPPROTO_ICMPV6,
		.icmp_type = ICMPV6_PKT_TOOBIG,
		.mtu = 1280,
		.quote = &sent,
	};
	q = sent;
	q.saddr = REAL6;
	q.daddr = LOCAL6;
	q.dport = lport;
	want = err;
	want.saddr = LOCAL6;
	want.daddr = REAL6;
	want.quote = &q;
	want.smac = to_real2.smac;
	want.dmac = to_real2.dmac;
	icmp_ok(&err, &want, 1, H_IF_CLIENT, &to_real2, "packet too big");
}

/* No session: passed when to a local address, dropped when to a VIP. */
Test(nat, icmp_without_session)
{
	struct pkt_spec q4 = REQ4(.saddr = LOCAL4, .daddr = REAL4,
				  .sport = 2000, .tcp_flags = PKT_ACK);
	struct pkt_spec q6 = REQ6(.saddr = LOCAL6, .daddr = REAL6,
				  .sport = 2000, .tcp_flags = PKT_ACK);
	struct pkt_spec qv = REQ4(.saddr = VIP4, .daddr = CLIENT4, .sport = 80,
				  .dport = 40999, .tcp_flags = PKT_ACK);
	struct pkt_spec e4 = {
		.family = AF_INET,
		.saddr = "10.1.0.254",
		.daddr = LOCAL4,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_FRAG_NEEDED,
		.mtu = 1300,
		.quote = &q4,
	};
	struct pkt_spec e6 = {
		.family = AF_INET6,
		.saddr = "fd01::fe",
		.daddr = LOCAL6,
		.proto = IPPROTO_ICMPV6,
		.icmp_type = ICMPV6_PKT_TOOBIG,
		.mtu = 1280,
		.quote = &q6,
	};
	struct pkt_spec ev = e4;

	ev.saddr = "203.0.113.1";
	ev.daddr = VIP4;
	ev.quote = &qv;
	expect_ends_spec(&e4, 1, H_IF_REALS, XDP_PASS,
			 XLB_R_PASS_NAT_NO_SESSION, "to a local address");
	expect_ends_spec(&e6, 1, H_IF_REALS, XDP_PASS,
			 XLB_R_PASS_NAT_NO_SESSION, "v6 to a local address");
	expect_ends_spec(&ev, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_ICMP_UNMATCHED, "to a fullnat VIP");
	cr_assert_eq(h_nat_count(), 0);
}

/* ---- MSS clamp --------------------------------------------------------------
 */

Test(nat, mss_clamped_on_syn_and_synack)
{
	struct pkt_spec syn = REQ4(.daddr = MSS_VIP4, .mss = 1460), w, back, wb;
	struct xlb_nat_rev rev;
	uint16_t lport;

	w = syn;
	w.mss = CLAMP;
	lport = fwd_ok(&syn, &w, 0, LOCAL4, REAL4, &to_real2, "syn mss 1460");
	cr_assert_eq(rev_get(IPPROTO_TCP, REAL4, 80, LOCAL4, lport, &rev), 0);
	cr_assert_eq(rev.mss, CLAMP, "the session's clamp for the syn-ack");
	back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	back.mss = 1460;
	wb = back;
	wb.mss = CLAMP;
	rev_ok(&back, &wb, 1, H_IF_REALS, MSS_VIP4, CLIENT4, 40000, &to_client,
	       "syn-ack mss 1460");

	/* Already below the clamp: untouched, both ways. */
	syn = REQ4(.daddr = MSS_VIP4, .sport = 40001, .mss = 1200);
	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn mss 1200");
	back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	back.mss = 1200;
	rev_ok(&back, NULL, 1, H_IF_REALS, MSS_VIP4, CLIENT4, 40001, &to_client,
	       "syn-ack mss 1200");

	/* IPv6. */
	syn = REQ6(.daddr = MSS_VIP6, .mss = 1440);
	w = syn;
	w.mss = CLAMP;
	lport = fwd_ok(&syn, &w, 0, LOCAL6, REAL6, &to_real2, "v6 syn");
	back = reply_to(&syn, REAL6, LOCAL6, lport, PKT_SYN | PKT_ACK);
	back.mss = 1440;
	wb = back;
	wb.mss = CLAMP;
	rev_ok(&back, &wb, 1, H_IF_REALS, MSS_VIP6, CLIENT6, 40000, &to_client,
	       "v6 syn-ack");

	/* A VIP without a clamp leaves the option alone. */
	syn = REQ4(.mss = 1460);
	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "no clamp");
	back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	back.mss = 1460;
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP4, CLIENT4, 40000, &to_client,
	       "no clamp, syn-ack");
}

/* Option lists: wherever a well-formed MSS is, it is clamped; a
 * malformed list is left alone and the SYN still forwarded. */
Test(nat, mss_option_walk)
{
	static const struct {
		const char *what;
		uint8_t opts[20];
		uint8_t len;
		int mss_at; /* offset of the MSS value in opts; -1: kept */
	} cases[] = {
		{"mss at an odd offset", {1, 2, 4, 0x05, 0xb4, 1, 1, 1}, 8, 3},
		{"mss after sack-permitted and timestamps",
		 {4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 2, 4, 0x05, 0xb4},
		 16,
		 14},
		{"length 1 before the mss",
		 {3, 1, 2, 4, 0x05, 0xb4, 1, 1},
		 8,
		 -1},
		{"length 0 before the mss",
		 {3, 0, 2, 4, 0x05, 0xb4, 1, 1},
		 8,
		 -1},
		{"an option past the header's end, mss inside it",
		 {8, 12, 2, 4, 0x05, 0xb4, 1, 1},
		 8,
		 -1},
		{"mss cut by the header's end",
		 {1, 1, 1, 1, 1, 2, 4, 0x05},
		 8,
		 -1},
	};
	struct pkt_spec syn, w;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		syn = REQ4(.daddr = MSS_VIP4, .sport = 41000 + i,
			   .payload_len = 4);
		memcpy(syn.tcp_opts, cases[i].opts, cases[i].len);
		syn.tcp_opts_len = cases[i].len;
		w = syn;
		if (cases[i].mss_at >= 0) {
			w.tcp_opts[cases[i].mss_at] = CLAMP >> 8;
			w.tcp_opts[cases[i].mss_at + 1] = CLAMP & 0xff;
		}
		fwd_ok(&syn, &w, 0, LOCAL4, REAL4, &to_real2, cases[i].what);
	}
}

/* Tunnel mode clamps the client's SYN inside the tunnel. */
Test(nat, mss_clamped_in_tunnel_mode)
{
	struct pkt_spec syn = REQ4(.daddr = TUN_VIP, .mss = 1460), w;
	struct pkt_outer outer = {
		.family = AF_INET,
		.daddr = REAL4,
		.ttl = 64,
		.df = true,
		.smac = H_MAC_REALS,
		.dmac = H_MAC_REAL2,
	};
	char src[XLB_IP_STRLEN];
	struct h_result res;
	struct pkt in, want;

	h_vip(TUN_SVC, XLB_HASH_MAGLEV, 251);
	h_vip_mode(TUN_SVC, XLB_MODE_TUNNEL, CLAMP);
	h_real(TUN_SVC, REAL4, 100);
	build(&in, &syn);
	h_run_if(&in, &res, 0, H_IF_CLIENT);
	assert_sent(&res, &to_real2, "tunnel syn");
	h_tunnel_src(AF_INET, CLIENT4, 40000, 80, IPPROTO_TCP, false, src,
		     sizeof(src));
	outer.saddr = src;
	w = syn;
	w.mss = CLAMP;
	build(&want, &w);
	cr_assert_eq(pkt_encap(&want, &outer), 0);
	assert_frame(&res, &want, "tunnel syn");
	cr_assert_eq(h_nat_count(), 0, "tunnel mode made a session");
}

/* ---- Session state and lifetime -------------------------------------- */

/* A TCP flow of TCP4_SVC from cport through SYN and SYN-ACK: its lport. */
static uint16_t open_flow(uint16_t cport, bool answered)
{
	struct pkt_spec syn = REQ4(.sport = cport), back;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	if (answered) {
		back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
		rev_ok(&back, NULL, 1, H_IF_REALS, VIP4, CLIENT4, cport,
		       &to_client, "syn-ack");
	}
	return lport;
}

/* A packet of an open flow from the client (translated, checked). */
static void client_sends(uint16_t cport, uint8_t flags)
{
	struct pkt_spec p = REQ4(.sport = cport, .tcp_flags = flags,
				 .seq = 1001, .ack = 5001);

	fwd_ok(&p, NULL, 1, LOCAL4, REAL4, &to_real2, "client packet");
}

/* A packet of an open flow from the real (translated, checked). */
static void real_sends(uint16_t cport, uint16_t lport, uint8_t flags)
{
	struct pkt_spec req = REQ4(.sport = cport), back;

	back = reply_to(&req, REAL4, LOCAL4, lport, flags);
	rev_ok(&back, NULL, 0, H_IF_REALS, VIP4, CLIENT4, cport, &to_client,
	       "real's packet");
}

static uint8_t state_of(uint16_t cport)
{
	return session(TCP4_SVC, CLIENT4, cport).state;
}

Test(nat, tcp_state_flags)
{
	uint16_t l1, l2, l3;

	l1 = open_flow(40001, false);
	cr_assert_eq(state_of(40001), 0);
	real_sends(40001, l1, PKT_SYN | PKT_ACK);
	cr_assert_eq(state_of(40001), XLB_NAT_S_REPLIED);
	client_sends(40001, PKT_FIN | PKT_ACK);
	cr_assert_eq(state_of(40001), XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT);
	real_sends(40001, l1, PKT_FIN | PKT_ACK);
	cr_assert_eq(state_of(40001), XLB_NAT_S_REPLIED | XLB_NAT_S_FIN_CLIENT |
					      XLB_NAT_S_FIN_REAL);

	/* The real refuses: RST to the SYN. */
	l2 = open_flow(40002, false);
	real_sends(40002, l2, PKT_RST | PKT_ACK);
	cr_assert(state_of(40002) & XLB_NAT_S_RST, "0x%x", state_of(40002));

	/* The client aborts. */
	l3 = open_flow(40003, true);
	client_sends(40003, PKT_RST);
	cr_assert_eq(state_of(40003), XLB_NAT_S_REPLIED | XLB_NAT_S_RST);
	(void)l3;
}

/* The sweep: at each age exactly the sessions of the classes whose
 * timeout has passed go, both entries, and the others stay. */
Test(nat, gc_by_state_class)
{
	enum { SYN, OPEN, FINS, RST, UDP, HALF, N };
	static const uint16_t cport[N] = {40010, 40011, 40012,
					  40013, 40014, 40015};
	/* Seconds after which each session must be gone. */
	static const uint32_t gone_at[N] = {31, 901, 11, 11, 61, 901};
	static const uint32_t ages[] = {1, 11, 31, 61, 901};
	struct pkt_spec udp = UREQ4(.sport = cport[UDP]), back;
	struct xlb_nat_gc_stats st;
	struct xlb_nat_rev rev;
	struct xlb_nat_fwd e;
	struct xlb_globals g;
	uint16_t lport[N];
	size_t live = N, i, a, gone;
	uint64_t now;

	lport[SYN] = open_flow(cport[SYN], false);
	lport[OPEN] = open_flow(cport[OPEN], true);
	lport[FINS] = open_flow(cport[FINS], true);
	client_sends(cport[FINS], PKT_FIN | PKT_ACK);
	real_sends(cport[FINS], lport[FINS], PKT_FIN | PKT_ACK);
	lport[RST] = open_flow(cport[RST], false);
	real_sends(cport[RST], lport[RST], PKT_RST | PKT_ACK);
	lport[UDP] = fwd_ok(&udp, NULL, 0, LOCAL4, REAL4, &to_real2, "udp");
	back = reply_to(&udp, REAL4, LOCAL4, lport[UDP], 0);
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP4, CLIENT4, cport[UDP],
	       &to_client, "udp reply");
	lport[HALF] = open_flow(cport[HALF], true);
	client_sends(cport[HALF], PKT_FIN | PKT_ACK);
	cr_assert_eq(h_nat_count(), N);

	h_globals(&g);
	g.nat_tcp_s = 900;
	g.nat_tcp_syn_s = 30;
	g.nat_tcp_closing_s = 10;
	g.nat_udp_s = 60;
	now = h_now_ns();
	for (a = 0; a < sizeof(ages) / sizeof(ages[0]); a++) {
		memset(&st, 0, sizeof(st));
		cr_assert_eq(xlb_dp_nat_gc(h_dp, &g, now + ages[a] * NS_PER_SEC,
					   &st),
			     0);
		gone = 0;
		for (i = 0; i < N; i++) {
			bool want_gone = ages[a] >= gone_at[i];
			const char *svc = i == UDP ? UDP4_SVC : TCP4_SVC;
			uint8_t proto = i == UDP ? IPPROTO_UDP : IPPROTO_TCP;
			uint16_t rport = i == UDP ? 53 : 80;
			int f = h_nat_get(svc, CLIENT4, cport[i], &e);
			int r = rev_get(proto, REAL4, rport, LOCAL4, lport[i],
					&rev);

			cr_assert_eq(f, want_gone ? -ENOENT : 0,
				     "session %zu at +%us: forward %d", i,
				     ages[a], f);
			cr_assert_eq(r, want_gone ? -ENOENT : 0,
				     "session %zu at +%us: reverse %d", i,
				     ages[a], r);
			gone += want_gone;
		}
		cr_assert_eq(st.expired, live - (N - gone),
			     "+%us: %zu expired, want %zu", ages[a], st.expired,
			     live - (N - gone));
		live = N - gone;
		cr_assert_eq(st.live, live, "+%us: %zu live", ages[a], st.live);
		cr_assert_eq(st.orphans, 0);
	}
	cr_assert_eq(h_nat_count(), 0);
	cr_assert_eq(h_nat_rev_count(), 0);
}

/* A reverse entry whose forward entry is gone is swept. */
Test(nat, gc_removes_orphan_reverse_entries)
{
	struct xlb_nat_gc_stats st = {0};
	struct xlb_nat_rev rev;
	struct xlb_globals g;
	uint16_t l1, l2;

	l1 = open_flow(40020, true);
	l2 = open_flow(40021, true);
	h_nat_del_fwd(TCP4_SVC, CLIENT4, 40020);
	h_globals(&g);
	cr_assert_eq(xlb_dp_nat_gc(h_dp, &g, h_now_ns(), &st), 0);
	cr_assert_eq(st.orphans, 1);
	cr_assert_eq(st.expired, 0);
	cr_assert_eq(st.live, 1);
	cr_assert_eq(rev_get(IPPROTO_TCP, REAL4, 80, LOCAL4, l1, &rev),
		     -ENOENT);
	cr_assert_eq(rev_get(IPPROTO_TCP, REAL4, 80, LOCAL4, l2, &rev), 0);
	cr_assert_eq(h_nat_rev_count(), 1);
}

/* Expired but not swept: a packet of the flow, either way, revives it. */
Test(nat, expired_session_revived_by_its_packets)
{
	struct xlb_nat_fwd e;
	struct xlb_globals g;
	uint64_t before;
	uint16_t lport;

	h_globals(&g);
	lport = open_flow(40030, false);
	e = session(TCP4_SVC, CLIENT4, 40030);
	e.last_seen = ago(g.nat_tcp_syn_s + 10);
	h_nat_put(TCP4_SVC, CLIENT4, 40030, &e);
	before = h_now_ns() - NS_PER_SEC / 10; /* the coarse clock lags */
	cr_assert_eq(open_flow(40030, false), lport,
		     "a retransmitted syn took a new port");
	e = session(TCP4_SVC, CLIENT4, 40030);
	cr_assert_geq(e.last_seen, before, "the request did not refresh it");

	e.last_seen = ago(g.nat_tcp_syn_s + 10);
	h_nat_put(TCP4_SVC, CLIENT4, 40030, &e);
	before = h_now_ns() - NS_PER_SEC / 10;
	real_sends(40030, lport, PKT_SYN | PKT_ACK);
	e = session(TCP4_SVC, CLIENT4, 40030);
	cr_assert_geq(e.last_seen, before, "the reply did not refresh it");
	cr_assert_eq(e.state, XLB_NAT_S_REPLIED);
}

/*
 * Removing a local address ends its sessions; the flow continues from
 * another address. A late reply to the removed address is passed as
 * traffic that is not ours (pass_not_vip): it is no longer a local
 * address, to which pass_nat_no_session applies (user/agent.h says
 * pass_nat_no_session here; docs/FULLNAT.md and the agent agree on
 * this).
 */
Test(nat, removed_local_address_ends_its_sessions)
{
	struct pkt_spec syn = REQ4(), back, ack;
	struct xlb_nat_fwd e;
	uint16_t lport;

	lport = open_flow(40000, true);
	h_laddr(LOCAL4B);
	h_laddr_del(LOCAL4);
	back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_ACK);
	expect_ends_spec(&back, 1, H_IF_REALS, XDP_PASS, XLB_R_PASS_NOT_VIP,
			 "reply to a removed local address");
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 40000, &e), -ENOENT,
		     "the session outlived its local address");
	/* The flow's next packet makes no session (the real would only
	 * reset it: it never saw this flow from the new address). */
	ack = REQ4(.tcp_flags = PKT_ACK, .seq = 1001, .ack = 5001);
	expect_ends_spec(&ack, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_NAT_NOT_SYN,
			 "the flow's next packet");
	/* The client's next connection uses the new address. */
	lport = fwd_ok(&syn, NULL, 0, LOCAL4B, REAL4, &to_real2,
		       "the client's next connection");
	assert_session(TCP4_SVC, CLIENT4, 40000, LOCAL4B, lport, REAL4, 0,
		       NULL);
}

/* ---- Ports: the split, exhaustion, reuse ------------------------------ */

/* Four ports, two per CPU, one local address, one real. */
static void ports_init(void)
{
	h_nat_setup();
	h_nat_config(40000, 40003);
	h_laddr(LOCAL4);
	fullnat_vip(TCP4_SVC, REAL4, 0);
}

TestSuite(nat_ports, .init = ports_init, .fini = h_teardown);

/* A new flow on cpu from client port cport: its lport, or 0 when it was
 * dropped for want of a port (then nothing changed). */
static uint16_t try_flow(const char *client, uint16_t cport, int cpu)
{
	struct pkt_spec syn = REQ4(.saddr = client, .sport = cport);
	size_t fwd = h_nat_count(), rev = h_nat_rev_count();
	struct h_result res;
	struct pkt in;

	build(&in, &syn);
	h_run_if(&in, &res, cpu, H_IF_CLIENT);
	if (res.reason == XLB_R_DROP_NAT_NO_PORT) {
		cr_assert_eq(res.retval, XDP_DROP);
		assert_frame(&res, &in, "dropped for want of a port");
		cr_assert_eq(h_nat_count(), fwd,
			     "a dropped flow left a session");
		cr_assert_eq(h_nat_rev_count(), rev);
		return 0;
	}
	return fwd_check(&res, &syn, NULL, LOCAL4, REAL4, &to_real2,
			 "new flow");
}

Test(nat_ports, split_between_cpus)
{
	struct xlb_globals g;

	h_globals(&g);
	cr_assert_eq(g.nat_port_min, 40000);
	cr_assert_eq(g.nat_port_span, 2, "4 ports over 2 CPUs: %u",
		     g.nat_port_span);
	cr_assert_eq(g.nat_laddrs[0], 1);
	cr_assert_eq(g.nat_laddrs[1], 0);
}

Test(nat_ports, exhaustion_then_reuse_after_expiry)
{
	struct xlb_nat_fwd e, e2;
	struct xlb_globals g;
	uint16_t a, b, c, d;

	a = try_flow(CLIENT4, 1001, 0);
	b = try_flow(CLIENT4, 1002, 0);
	cr_assert(a && b && a != b, "lports %u %u", a, b);
	assert_session(TCP4_SVC, CLIENT4, 1001, LOCAL4, a, REAL4, 0, NULL);
	assert_session(TCP4_SVC, CLIENT4, 1002, LOCAL4, b, REAL4, 0, &e2);
	/* CPU 0's two ports are taken, whichever the client. */
	cr_assert_eq(try_flow(CLIENT4, 1003, 0), 0, "a third flow on CPU 0");
	cr_assert_eq(try_flow("192.0.2.11", 1003, 0), 0, "another client");
	assert_session(TCP4_SVC, CLIENT4, 1001, LOCAL4, a, REAL4, 0, NULL);
	/* CPU 1 has its own two. */
	c = try_flow(CLIENT4, 1003, 1);
	cr_assert_neq(c, 0, "CPU 1's ports are free");
	assert_session(TCP4_SVC, CLIENT4, 1003, LOCAL4, c, REAL4, 1, NULL);

	/* The first session expires: its tuple goes to the next new flow. */
	h_globals(&g);
	e = session(TCP4_SVC, CLIENT4, 1001);
	e.last_seen = ago(g.nat_tcp_syn_s + 10);
	h_nat_put(TCP4_SVC, CLIENT4, 1001, &e);
	d = try_flow(CLIENT4, 1004, 0);
	cr_assert_eq(d, a, "the expired tuple was not reused (%u)", d);
	assert_session(TCP4_SVC, CLIENT4, 1004, LOCAL4, a, REAL4, 0, NULL);
	cr_assert_eq(h_nat_get(TCP4_SVC, CLIENT4, 1001, &e), -ENOENT,
		     "the reclaimed session is still there");
	e = session(TCP4_SVC, CLIENT4, 1002);
	cr_assert_eq(memcmp(&e, &e2, sizeof(e)), 0, "a live session changed");
	cr_assert_eq(try_flow(CLIENT4, 1005, 0), 0, "full again");
	cr_assert_eq(h_nat_count(), 3);
	cr_assert_eq(h_nat_rev_count(), 3);
}

Test(nat_ports, sweep_frees_ports)
{
	struct xlb_nat_gc_stats st = {0};
	struct xlb_globals g;
	uint16_t a, b;

	cr_assert_neq(try_flow(CLIENT4, 1001, 0), 0);
	cr_assert_neq(try_flow(CLIENT4, 1002, 0), 0);
	cr_assert_eq(try_flow(CLIENT4, 1003, 0), 0);
	h_globals(&g);
	cr_assert_eq(
		xlb_dp_nat_gc(h_dp, &g,
			      h_now_ns() + (g.nat_tcp_syn_s + 1) * NS_PER_SEC,
			      &st),
		0);
	cr_assert_eq(st.expired, 2);
	cr_assert_eq(h_nat_count(), 0);
	cr_assert_eq(h_nat_rev_count(), 0);
	a = try_flow(CLIENT4, 1003, 0);
	b = try_flow(CLIENT4, 1004, 0);
	cr_assert(a && b && a != b, "after the sweep: %u %u", a, b);
}

/* A second local address doubles the tuples of a CPU. */
Test(nat_ports, second_local_address_adds_tuples)
{
	struct pkt_spec syn = REQ4(.sport = 1003);
	uint16_t lport;

	cr_assert_neq(try_flow(CLIENT4, 1001, 0), 0);
	cr_assert_neq(try_flow(CLIENT4, 1002, 0), 0);
	cr_assert_eq(try_flow(CLIENT4, 1003, 0), 0);
	h_laddr(LOCAL4B);
	lport = fwd_ok(&syn, NULL, 0, LOCAL4B, REAL4, &to_real2,
		       "from the second address");
	assert_session(TCP4_SVC, CLIENT4, 1003, LOCAL4B, lport, REAL4, 0, NULL);
	syn.sport = 1004;
	fwd_ok(&syn, NULL, 0, LOCAL4B, REAL4, &to_real2, "its second port");
	cr_assert_eq(try_flow(CLIENT4, 1005, 0), 0, "four tuples on CPU 0");
}

/* ---- A full session table ------------------------------------------- */

static void small_table_init(void)
{
	h_nat_setup_sized(4);
	h_nat_config(1024, 65535);
	h_laddr(LOCAL4);
	fullnat_vip(TCP4_SVC, REAL4, 0);
}

TestSuite(nat_table, .init = small_table_init, .fini = h_teardown);

Test(nat_table, full_table_drops_new_flows)
{
	struct pkt_spec syn = REQ4(.sport = 2000);
	uint16_t lport[4];
	int i;

	for (i = 0; i < 4; i++) {
		syn.sport = 2000 + i;
		lport[i] = fwd_ok(&syn, NULL, i % 2, LOCAL4, REAL4, &to_real2,
				  "flow within the table");
	}
	syn.sport = 2004;
	expect_ends_spec(&syn, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_NAT_TABLE_FULL, "a fifth flow");
	expect_ends_spec(&syn, 1, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_NAT_TABLE_FULL, "a fifth flow, CPU 1");
	cr_assert_eq(h_nat_count(), 4);
	cr_assert_eq(h_nat_rev_count(), 4);
	/* The sessions in the table still work both ways. */
	for (i = 0; i < 4; i++) {
		syn.sport = 2000 + i;
		cr_assert_eq(fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2,
				    "existing flow"),
			     lport[i]);
		real_sends(2000 + i, lport[i], PKT_SYN | PKT_ACK);
	}
}

/* ---- The foundation's properties in fullnat mode ----------------------- */

#define FLOW_VIP "10.100.1.1"
#define FLOW_SVC FLOW_VIP ":80/tcp"
#define N_FLOWS	 300

static const char *const reals[] = {"10.1.0.2", "10.1.0.3", "10.1.0.4",
				    "10.1.0.5", "10.1.0.6"};
#define N_REALS (int)(sizeof(reals) / sizeof(reals[0]))

static void flows_init(void)
{
	h_nat_setup();
	h_nat_config(1024, 65535);
	h_laddr(LOCAL4);
}

TestSuite(nat_flows, .init = flows_init, .fini = h_teardown);

/* A fullnat FLOW_SVC with the first n reals, weight 100. */
static void flow_vip(enum xlb_hash_mode hash, int n)
{
	int i;

	h_vip(FLOW_SVC, hash, 65537);
	h_vip_mode(FLOW_SVC, XLB_MODE_FULLNAT, 0);
	for (i = 0; i < n; i++)
		h_real(FLOW_SVC, reals[i], 100);
}

static const char *client_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "192.0.2.%d", 1 + i % 200);
	return buf;
}

/*
 * One TCP packet of (client, sport) to FLOW_SVC on cpu: the index of the
 * real it reached (sent from LOCAL4, checksums right) and its local port
 * in *lport, or -reason.
 */
static int send_flow(const char *client, uint16_t sport, uint8_t flags, int cpu,
		     uint16_t *lport)
{
	struct pkt_spec spec = REQ4(.saddr = client, .daddr = FLOW_VIP,
				    .sport = sport, .tcp_flags = flags);
	struct pkt_info info;
	struct h_result res;
	char why[160] = "";
	struct pkt in;
	int i;

	build(&in, &spec);
	h_run_if(&in, &res, cpu, H_IF_CLIENT);
	if (res.retval != XDP_REDIRECT)
		return -(int)res.reason;
	cr_assert_eq(
		pkt_verify_checksums(res.out, res.out_len, why, sizeof(why)), 0,
		"flow %s:%u: %s", client, sport, why);
	cr_assert_eq(pkt_parse(res.out, res.out_len, &info, why, sizeof(why)),
		     0);
	cr_assert_eq(info.n_ip, 1, "fullnat output is not encapsulated");
	cr_assert_str_eq(info.ip[0].src, LOCAL4);
	cr_assert_eq(info.dport, 80);
	if (lport)
		*lport = info.sport;
	for (i = 0; i < N_REALS; i++)
		if (!strcmp(info.ip[0].dst, reals[i]))
			return i;
	cr_assert_fail("flow went to unknown real %s", info.ip[0].dst);
	return -1;
}

Test(nat_flows, session_keeps_real_when_ring_changes)
{
	int first[N_FLOWS], moved_new = 0, i, r;
	uint16_t lport[N_FLOWS], l;
	char c[32];

	flow_vip(XLB_HASH_MAGLEV, 3);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, i % 2, &lport[i]);
		cr_assert_geq(first[i], 0);
	}
	h_real(FLOW_SVC, reals[3], 100);
	h_real(FLOW_SVC, reals[4], 100);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      (i + 1) % 2, &l);
		cr_assert_eq(r, first[i], "flow %d moved from %s to %s", i,
			     reals[first[i]], r >= 0 ? reals[r] : "-");
		cr_assert_eq(l, lport[i], "flow %d changed its local port", i);
	}
	for (i = 0; i < N_FLOWS; i++)
		moved_new += send_flow(client_of(i, c, sizeof(c)), 40000 + i,
				       PKT_SYN, 0, NULL) >= 3;
	cr_assert_gt(moved_new, N_FLOWS / 5,
		     "only %d of %d new flows reached the two new reals",
		     moved_new, N_FLOWS);
	cr_assert_eq(h_nat_count(), 2 * N_FLOWS);
}

/* A down real is not used: its flows take a live real and a new tuple,
 * the old tuple is freed at once and its replies go to the kernel. */
Test(nat_flows, down_real_flows_move_with_fresh_tuples)
{
	int first[N_FLOWS], on_down = 0, kept = 0, i, r;
	uint16_t lport[N_FLOWS], l;
	struct xlb_nat_fwd e;
	struct xlb_nat_rev rev;
	struct pkt_spec back;
	char c[32];

	flow_vip(XLB_HASH_MAGLEV, 3);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0, &lport[i]);
		on_down += first[i] == 1;
	}
	cr_assert_gt(on_down, N_FLOWS / 5, "real 1 got %d flows", on_down);
	h_health(FLOW_SVC, reals[1], false);
	for (i = 0; i < N_FLOWS; i++) {
		client_of(i, c, sizeof(c));
		r = send_flow(c, 20000 + i, PKT_ACK, 0, &l);
		/* A mid-flow packet makes no session with another real (it
		 * would only be reset); the client's next SYN does. */
		if (first[i] == 1) {
			cr_assert_eq(r, -XLB_R_DROP_NAT_NOT_SYN, "flow %d", i);
			r = send_flow(c, 20000 + i, PKT_SYN, 0, &l);
		}
		cr_assert_geq(r, 0, "flow %d: %s", i,
			      r < 0 ? xlb_reason_names[-r] : "");
		cr_assert_neq(r, 1, "flow %d sent to a real that is down", i);
		if (first[i] != 1) {
			cr_assert_eq(r, first[i], "flow %d moved", i);
			cr_assert_eq(l, lport[i]);
			kept++;
			continue;
		}
		e = session(FLOW_SVC, c, 20000 + i);
		cr_assert_eq(e.real_id, h_real_id(FLOW_SVC, reals[r]),
			     "flow %d: the session names another real", i);
		cr_assert_eq(rev_get(IPPROTO_TCP, reals[1], 80, LOCAL4,
				     lport[i], &rev),
			     -ENOENT, "flow %d: the old tuple was kept", i);
		cr_assert_eq(
			rev_get(IPPROTO_TCP, reals[r], 80, LOCAL4, l, &rev), 0,
			"flow %d: no reverse entry for the new tuple", i);
	}
	cr_assert_eq(kept, N_FLOWS - on_down);
	cr_assert_eq(h_nat_count(), N_FLOWS);
	cr_assert_eq(h_nat_rev_count(), N_FLOWS);

	/* A late reply from the down real to an old tuple. */
	for (i = 0; first[i] != 1; i++)
		;
	back = REQ4(.saddr = reals[1], .daddr = LOCAL4, .sport = 80,
		    .dport = lport[i], .tcp_flags = PKT_ACK);
	expect_ends_spec(&back, 1, H_IF_REALS, XDP_PASS,
			 XLB_R_PASS_NAT_NO_SESSION, "reply to a freed tuple");
}

Test(nat_flows, removed_real_is_never_used)
{
	int first[N_FLOWS], i, r;
	char c[32];

	flow_vip(XLB_HASH_MAGLEV, 3);
	for (i = 0; i < N_FLOWS; i++)
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0, NULL);
	h_real_del(FLOW_SVC, reals[2]);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK, 1,
			      NULL);
		if (first[i] == 2) {
			cr_assert_eq(r, -XLB_R_DROP_NAT_NOT_SYN, "flow %d", i);
			r = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				      PKT_SYN, 1, NULL);
		}
		cr_assert_geq(r, 0);
		cr_assert_neq(r, 2, "flow %d still sent to the removed real",
			      i);
		if (first[i] != 2)
			cr_assert_eq(r, first[i], "flow %d moved", i);
	}
}

Test(nat_flows, weights_shape_the_spread)
{
	int seen[N_REALS] = {0}, n = 3000, i, r;
	char c[32];

	h_vip(FLOW_SVC, XLB_HASH_MAGLEV, 65537);
	h_vip_mode(FLOW_SVC, XLB_MODE_FULLNAT, 0);
	h_real(FLOW_SVC, reals[0], 100);
	h_real(FLOW_SVC, reals[1], 100);
	h_real(FLOW_SVC, reals[2], 200);
	for (i = 0; i < n; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 10000 + i, PKT_SYN,
			      i % 2, NULL);
		cr_assert_geq(r, 0);
		seen[r]++;
	}
	cr_assert(seen[0] > n / 4 * 0.9 && seen[0] < n / 4 * 1.1, "%d",
		  seen[0]);
	cr_assert(seen[1] > n / 4 * 0.9 && seen[1] < n / 4 * 1.1, "%d",
		  seen[1]);
	cr_assert(seen[2] > n / 2 * 0.9 && seen[2] < n / 2 * 1.1, "%d",
		  seen[2]);
}

Test(nat_flows, source_ip_hash_pins_a_client)
{
	int seen[N_REALS] = {0}, distinct = 0, first, i, r;
	char c[32];

	flow_vip(XLB_HASH_SOURCE_IP, N_REALS);
	first = send_flow("192.0.2.77", 1024, PKT_SYN, 0, NULL);
	cr_assert_geq(first, 0);
	for (i = 1; i < 200; i++) {
		r = send_flow("192.0.2.77", 1024 + i * 7, PKT_SYN, i % 2, NULL);
		cr_assert_eq(r, first, "port %d of one client went elsewhere",
			     1024 + i * 7);
	}
	for (i = 0; i < 200; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 5555, PKT_SYN, 0,
			      NULL);
		cr_assert_geq(r, 0);
		seen[r]++;
	}
	for (i = 0; i < N_REALS; i++)
		distinct += seen[i] > 0;
	cr_assert_eq(distinct, N_REALS, "200 clients reached only %d reals",
		     distinct);
}

/* Requests count as packets, replies as reply_packets, per VIP and real. */
Test(nat_flows, counters_both_ways)
{
	struct xlb_counters v, rc[2];
	int per_real[2] = {0}, i, r;
	struct pkt_spec back, data;
	struct pkt b, d, s;
	uint16_t lport;
	char c[32];

	flow_vip(XLB_HASH_MAGLEV, 2);
	for (i = 0; i < 50; i++) {
		client_of(i, c, sizeof(c));
		r = send_flow(c, 20000 + i, PKT_SYN, 0, &lport);
		cr_assert_geq(r, 0);
		per_real[r]++;
		back = REQ4(.saddr = reals[r], .daddr = LOCAL4, .sport = 80,
			    .dport = lport, .tcp_flags = PKT_SYN | PKT_ACK,
			    .payload_len = 10);
		build(&b, &back);
		{
			struct h_result res;

			h_run_if(&b, &res, 1, H_IF_REALS);
			assert_sent(&res, &to_client, "reply");
		}
		cr_assert_geq(send_flow(c, 20000 + i, PKT_ACK, 1, NULL), 0);
	}
	data = REQ4(.tcp_flags = PKT_ACK);
	build(&d, &data);
	data = REQ4();
	build(&s, &data);
	cr_assert_eq(s.len, d.len, "a SYN and an ACK are the same size");

	h_vip_counters(FLOW_SVC, &v);
	cr_assert_eq(v.packets, 100);
	cr_assert_eq(v.bytes, 100 * s.len, "bytes %llu",
		     (unsigned long long)v.bytes);
	cr_assert_eq(v.new_flows, 50);
	cr_assert_eq(v.reply_packets, 50);
	cr_assert_eq(v.reply_bytes, 50 * b.len, "reply bytes %llu",
		     (unsigned long long)v.reply_bytes);
	for (i = 0; i < 2; i++) {
		h_real_counters(FLOW_SVC, reals[i], &rc[i]);
		cr_assert_eq(rc[i].new_flows, per_real[i], "real %d", i);
		cr_assert_eq(rc[i].packets, 2 * per_real[i], "real %d", i);
		cr_assert_eq(rc[i].bytes, 2 * per_real[i] * s.len);
		cr_assert_eq(rc[i].reply_packets, per_real[i], "real %d", i);
		cr_assert_eq(rc[i].reply_bytes, per_real[i] * b.len);
	}
}

/* ---- Shapes: any port, options, extension headers, fragments ----------- */

/* An any-port VIP: the real's port is the one the client asked for. */
Test(nat, any_port_vip_keeps_the_port)
{
	struct pkt_spec syn = REQ4(.daddr = "10.100.0.4", .dport = 8080), back;
	uint16_t lport;

	fullnat_vip("10.100.0.4:0/tcp", REAL4, 0);
	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn :8080");
	back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	cr_assert_eq(back.sport, 8080);
	rev_ok(&back, NULL, 1, H_IF_REALS, "10.100.0.4", CLIENT4, 40000,
	       &to_client, "syn-ack from :8080");
	back.sport = 8081;
	expect_ends_spec(&back, 1, H_IF_REALS, XDP_PASS,
			 XLB_R_PASS_NAT_NO_SESSION, "from another port");
}

/* No neighbour entry for the real yet: translated, then to the kernel. */
Test(nat, real_without_neighbour_passed_translated)
{
	static const struct hop to_kernel = {XDP_PASS, XLB_R_PASS_NO_NEIGH,
					     NULL, NULL};
	struct pkt_spec syn = REQ4(.daddr = "10.100.0.5");
	uint16_t lport;

	fullnat_vip("10.100.0.5:80/tcp", "10.1.0.99", 0);
	lport = fwd_ok(&syn, NULL, 0, LOCAL4, "10.1.0.99", &to_kernel,
		       "syn to a real without neighbour");
	assert_session("10.100.0.5:80/tcp", CLIENT4, 40000, LOCAL4, lport,
		       "10.1.0.99", 0, NULL);
}

/*
 * The kernel gets the translated frame as it would have been sent: a
 * priority tag (VLAN 0, balanced as untagged) and the bytes after the IP
 * packet are gone (the fuzzer's seed 13 case 11247, in tunnel mode).
 */
Test(nat, real_without_neighbour_passed_untagged_and_trimmed)
{
	static const struct hop to_kernel = {XDP_PASS, XLB_R_PASS_NO_NEIGH,
					     NULL, NULL};
	struct pkt_spec syn = REQ4(.daddr = "10.100.0.5", .vlan = true,
				   .vlan_tci = 0x6000, .payload_len = 5);
	struct pkt_spec want = REQ4(.daddr = "10.100.0.5", .payload_len = 5);
	struct h_result res;
	struct pkt p;

	fullnat_vip("10.100.0.5:80/tcp", "10.1.0.99", 0);
	build(&p, &syn);
	memset(p.buf + p.len, 0xee, 9);
	p.len += 9;
	h_run_if(&p, &res, 0, H_IF_CLIENT);
	fwd_check(&res, &syn, &want, LOCAL4, "10.1.0.99", &to_kernel,
		  "tagged syn with a trailer to a real without neighbour");
}

/* IPv4 options are carried (the header checksum covers them), and an
 * ICMP error quoting such a packet is read past them. */
Test(nat, ipv4_options_kept_and_quoted)
{
	struct pkt_spec syn = REQ4(.ip_opts = {1, 1, 1, 0}, .ip_opts_len = 4);
	struct pkt_spec back, sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2,
		       "syn with options");
	back = reply_to(&syn, REAL4, LOCAL4, lport, PKT_SYN | PKT_ACK);
	back.ip_opts[0] = 1;
	back.ip_opts_len = 1;
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP4, CLIENT4, 40000, &to_client,
	       "syn-ack with options");

	sent = REQ4(.saddr = LOCAL4, .daddr = REAL4, .sport = lport,
		    .tcp_flags = PKT_ACK, .seq = 1001, .payload_len = 1400,
		    .ip_opts = {1, 1, 1, 0}, .ip_opts_len = 4);
	err = (struct pkt_spec){
		.smac = H_MAC_REAL3,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = "10.1.0.254",
		.daddr = LOCAL4,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_FRAG_NEEDED,
		.mtu = 1300,
		.quote = &sent,
	};
	q = sent;
	q.saddr = CLIENT4;
	q.daddr = VIP4;
	q.sport = 40000;
	want = err;
	want.saddr = VIP4;
	want.daddr = CLIENT4;
	want.quote = &q;
	want.smac = to_client.smac;
	want.dmac = to_client.dmac;
	icmp_ok(&err, &want, 1, H_IF_REALS, &to_client,
		"quote with ip options");
}

/* IPv6 extension headers before TCP are walked both ways. */
Test(nat, ipv6_extension_headers_walked)
{
	struct pkt_spec syn = REQ6(.ext = {.type = PKT_EXT_DSTOPTS, .len = 16});
	struct pkt_spec back;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL6, REAL6, &to_real2,
		       "syn behind destination options");
	back = reply_to(&syn, REAL6, LOCAL6, lport, PKT_SYN | PKT_ACK);
	back.ext.type = PKT_EXT_HOPOPTS;
	rev_ok(&back, NULL, 1, H_IF_REALS, VIP6, CLIENT6, 40000, &to_client,
	       "syn-ack behind hop-by-hop options");
}

/* Fragments of fullnat flows are dropped, both ways. */
Test(nat, fragments_dropped)
{
	struct pkt_spec syn = REQ4(), s;
	uint16_t lport;

	s = REQ4(.mf = true, .payload_len = 64);
	expect_ends_spec(&s, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_FRAGMENT,
			 "first fragment to a fullnat VIP");
	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	s = reply_to(&syn, REAL4, LOCAL4, lport, PKT_ACK);
	s.frag_off = 185;
	s.payload_len = 64;
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_DROP, XLB_R_DROP_FRAGMENT,
			 "later fragment of a reply");
	s = reply_to(&syn, REAL6, LOCAL6, 2000, PKT_ACK);
	s.family = AF_INET6;
	s.ext = (struct pkt_ext6){.type = PKT_EXT_FRAGMENT, .more = true};
	expect_ends_spec(&s, 1, H_IF_REALS, XDP_DROP, XLB_R_DROP_FRAGMENT,
			 "v6 fragment to a local address");
}

/* A real of the other family (written behind the agent's back, which
 * refuses it) is not translated to. */
Test(nat, real_of_other_family_dropped)
{
	uint32_t id = h_real_id(TCP4_SVC, REAL4);
	struct pkt_spec syn = REQ4();
	struct xlb_real r;
	struct xlb_ip ip;

	cr_assert_eq(xlb_dp_real_get(h_dp, id, &r), 0);
	cr_assert_eq(xlb_ip_parse(REAL6, &ip), 0);
	r.addr = ip.a;
	r.family = XLB_AF_INET6;
	cr_assert_eq(xlb_dp_real_put(h_dp, id, &r), 0);
	expect_ends_spec(&syn, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_NAT_FAMILY,
			 "v4 flow to a v6 real");
	cr_assert_eq(h_nat_count(), 0);
}

/* A tuple whose forward entry is gone, or names another tuple, is
 * reclaimed by the next new flow that needs it. */
Test(nat_ports, stale_tuples_reclaimed)
{
	struct xlb_nat_rev rev;
	struct xlb_nat_fwd e;
	uint16_t a, b;

	a = try_flow(CLIENT4, 1001, 0);
	b = try_flow(CLIENT4, 1002, 0);
	cr_assert(a && b);
	h_nat_del_fwd(TCP4_SVC, CLIENT4, 1001);
	cr_assert_eq(try_flow(CLIENT4, 1003, 0), a,
		     "a tuple without its session was not reclaimed");
	assert_session(TCP4_SVC, CLIENT4, 1003, LOCAL4, a, REAL4, 0, NULL);

	/* 1002's session now claims another port: its tuple is stale. */
	e = session(TCP4_SVC, CLIENT4, 1002);
	e.lport = htons(12345);
	h_nat_put(TCP4_SVC, CLIENT4, 1002, &e);
	cr_assert_eq(try_flow(CLIENT4, 1004, 0), b,
		     "a tuple whose session points elsewhere was kept");
	assert_session(TCP4_SVC, CLIENT4, 1004, LOCAL4, b, REAL4, 0, NULL);
	cr_assert_eq(rev_get(IPPROTO_TCP, REAL4, 80, LOCAL4, b, &rev), 0);
	cr_assert_eq(try_flow(CLIENT4, 1005, 0), 0, "live tuples taken");
}

/* A quoted UDP datagram without checksum keeps none. */
Test(nat, icmp_quote_of_udp_without_checksum)
{
	struct pkt_spec req = UREQ4(.payload_len = 40, .udp_csum_zero = true);
	struct pkt_spec sent, err, q, want;
	uint16_t lport;

	lport = fwd_ok(&req, NULL, 0, LOCAL4, REAL4, &to_real2, "request");
	sent = UREQ4(.saddr = VIP4, .daddr = CLIENT4, .sport = 53,
		     .dport = 40000, .payload_len = 60, .udp_csum_zero = true);
	err = (struct pkt_spec){
		.family = AF_INET,
		.saddr = CLIENT4,
		.daddr = VIP4,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_PORT_UNREACH,
		.quote = &sent,
	};
	q = sent;
	q.saddr = REAL4;
	q.daddr = LOCAL4;
	q.dport = lport;
	want = err;
	want.saddr = LOCAL4;
	want.daddr = REAL4;
	want.quote = &q;
	want.smac = to_real2.smac;
	want.dmac = to_real2.dmac;
	icmp_ok(&err, &want, 0, H_IF_CLIENT, &to_real2,
		"quote without udp checksum");
}

/* A draining real keeps its sessions and takes no new ones. */
Test(nat_flows, draining_real_keeps_sessions)
{
	int first[N_FLOWS], i, r;
	uint16_t lport[N_FLOWS], l;
	char c[32];

	flow_vip(XLB_HASH_MAGLEV, 3);
	for (i = 0; i < N_FLOWS; i++)
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, 0, &lport[i]);
	h_drain(FLOW_SVC, reals[2], true);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK, 1,
			      &l);
		cr_assert_eq(r, first[i], "established flow %d moved", i);
		cr_assert_eq(l, lport[i]);
		r = send_flow(client_of(i, c, sizeof(c)), 30000 + i, PKT_SYN, 0,
			      NULL);
		cr_assert_neq(r, 2, "new flow %d went to a draining real", i);
	}
}

/* New flows start at the flow hash in the pool: both addresses used. */
Test(nat_flows, flows_spread_over_the_pool)
{
	struct pkt_spec spec;
	struct pkt_info info;
	struct h_result res;
	int n[2] = {0}, i;
	struct pkt in;
	char c[32];

	h_laddr(LOCAL4B);
	flow_vip(XLB_HASH_MAGLEV, 1);
	for (i = 0; i < 200; i++) {
		spec = REQ4(.saddr = client_of(i, c, sizeof(c)),
			    .daddr = FLOW_VIP, .sport = 20000 + i);
		build(&in, &spec);
		h_run_if(&in, &res, i % 2, H_IF_CLIENT);
		assert_sent(&res, &to_real2, "new flow");
		cr_assert_eq(pkt_parse(res.out, res.out_len, &info, NULL, 0),
			     0);
		if (!strcmp(info.ip[0].src, LOCAL4))
			n[0]++;
		else if (!strcmp(info.ip[0].src, LOCAL4B))
			n[1]++;
		else
			cr_assert_fail("source %s is not in the pool",
				       info.ip[0].src);
	}
	cr_assert(n[0] > 50 && n[1] > 50, "%d and %d flows per address", n[0],
		  n[1]);
}

/* Hostile input (issue 13). */

/* On a single node too, only a client's SYN makes a TCP session. */
Test(nat, only_a_syn_makes_a_session)
{
	struct pkt_spec ack = REQ4(.tcp_flags = PKT_ACK, .seq = 1001);
	struct pkt_spec synack = REQ4(.tcp_flags = PKT_SYN | PKT_ACK);
	struct pkt_spec rst = REQ6(.tcp_flags = PKT_RST);
	/* A listener drops these: sessions from them would only wait for
	 * their timeout (the fuzzer's seed 13 case 302: SYN+RST). */
	struct pkt_spec synrst = REQ4(.tcp_flags = PKT_SYN | PKT_RST);
	struct pkt_spec synfin = REQ6(.tcp_flags = PKT_SYN | PKT_FIN);

	expect_ends_spec(&ack, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_NAT_NOT_SYN,
			 "ack");
	expect_ends_spec(&synack, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_NAT_NOT_SYN, "syn-ack");
	expect_ends_spec(&rst, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_NAT_NOT_SYN,
			 "rst");
	expect_ends_spec(&synrst, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_NAT_NOT_SYN, "syn-rst");
	expect_ends_spec(&synfin, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_NAT_NOT_SYN, "syn-fin");
	cr_assert_eq(h_nat_count(), 0, "sessions made");
	cr_assert_eq(h_nat_rev_count(), 0, "tuples taken");
}

/* Sources no client has make no session. */
Test(nat, martian_and_own_sources_make_no_session)
{
	struct pkt_spec lo = REQ4(.saddr = "127.0.0.1");
	struct pkt_spec bc = UREQ4(.saddr = "255.255.255.255");
	struct pkt_spec mapped = REQ6(.saddr = "::ffff:192.0.2.10");
	struct pkt_spec local = REQ4(.saddr = LOCAL4);
	struct pkt_spec port0 = UREQ4(.sport = 0);

	expect_ends_spec(&lo, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_SRC_MARTIAN,
			 "loopback");
	expect_ends_spec(&bc, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_SRC_MARTIAN,
			 "broadcast");
	expect_ends_spec(&mapped, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_SRC_MARTIAN, "v4-mapped");
	expect_ends_spec(&local, 0, H_IF_CLIENT, XDP_DROP, XLB_R_DROP_SRC_OURS,
			 "local address");
	expect_ends_spec(&port0, 0, H_IF_CLIENT, XDP_DROP,
			 XLB_R_DROP_SRC_PORT_ZERO, "port 0");
	cr_assert_eq(h_nat_count(), 0, "sessions made");
}

/*
 * A router's error quotes IP + 8 bytes: no TCP checksum. With bytes
 * after the error's IP packet, those bytes are no part of the quote:
 * the quote is translated as it is, the ICMP checksum stays right and
 * the trailer is cut.
 */
Test(nat, icmp_short_quote_with_trailer)
{
	struct pkt_spec syn = REQ4(), sent, err, q, want;
	struct h_result res;
	struct pkt in, w;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	sent = REQ4(.saddr = LOCAL4, .daddr = REAL4, .sport = lport,
		    .tcp_flags = PKT_ACK, .seq = 1001, .payload_len = 1400);
	err = (struct pkt_spec){
		.smac = H_MAC_REAL3,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = "10.1.0.254",
		.daddr = LOCAL4,
		.ttl = 255,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_FRAG_NEEDED,
		.mtu = 1300,
		.quote = &sent,
	};
	q = sent;
	q.saddr = CLIENT4;
	q.daddr = VIP4;
	q.sport = 40000;
	want = err;
	want.saddr = VIP4;
	want.daddr = CLIENT4;
	want.quote = &q;
	want.smac = to_client.smac;
	want.dmac = to_client.dmac;
	build(&in, &err);
	build(&w, &want);
	/* Where the quoted TCP checksum would be, if it were quoted. */
	memset(in.buf + in.len, 0xa5, 16);
	in.len += 16;
	h_run_if(&in, &res, 1, H_IF_REALS);
	assert_sent(&res, &to_client, "short quote with a trailer");
	assert_frame(&res, &w, "short quote with a trailer");
}

/* An error to a local address quoting a packet from another address. */
Test(nat, icmp_quoting_another_address_dropped)
{
	struct pkt_spec syn = REQ4(), sent, err;
	uint16_t lport;

	lport = fwd_ok(&syn, NULL, 0, LOCAL4, REAL4, &to_real2, "syn");
	sent = REQ4(.saddr = LOCAL4B, .daddr = REAL4, .sport = lport,
		    .tcp_flags = PKT_ACK);
	err = (struct pkt_spec){
		.smac = H_MAC_REAL3,
		.dmac = H_MAC_REALS,
		.family = AF_INET,
		.saddr = "10.1.0.254",
		.daddr = LOCAL4,
		.proto = IPPROTO_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_PORT_UNREACH,
		.quote = &sent,
	};
	expect_ends_spec(&err, 1, H_IF_REALS, XDP_DROP,
			 XLB_R_DROP_ICMP_MISMATCH, "mismatched quote");
}

/* ---- A new connection on an old session (port reuse) ------------------ */

/* A packet from real r of FLOW_SVC to LOCAL4:lport: its reason. */
static enum xlb_reason real_to(int r, uint16_t lport, uint8_t flags)
{
	struct pkt_spec back = REQ4(.saddr = reals[r], .daddr = LOCAL4,
				    .sport = 80, .dport = lport,
				    .tcp_flags = flags);
	struct h_result res;
	struct pkt b;

	build(&b, &back);
	h_run_if(&b, &res, 1, H_IF_REALS);
	return res.reason;
}

static uint64_t flow_new_flows(void)
{
	struct xlb_counters v;

	h_vip_counters(FLOW_SVC, &v);
	return v.new_flows;
}

/*
 * A SYN on a session that is closing (FIN both ways, or RST) is a new
 * connection: a fresh session with a fresh tuple, the old tuple given
 * back, counted; a retransmitted SYN keeps its session, not counted.
 */
Test(nat_flows, syn_on_closing_session_starts_a_new_one)
{
	const char *c = "192.0.2.50";
	uint16_t l1, l2, l3, l4, l;
	struct xlb_nat_rev rev;
	struct xlb_nat_fwd f;
	int r, r2;

	flow_vip(XLB_HASH_MAGLEV, 2);
	r = send_flow(c, 20000, PKT_SYN, 0, &l1);
	cr_assert_geq(r, 0);
	cr_assert_eq(send_flow(c, 20000, PKT_SYN, 0, &l), r);
	cr_assert_eq(l, l1, "a retransmitted SYN took a new tuple");
	cr_assert_eq(flow_new_flows(), 1, "a retransmission is no connection");
	cr_assert_eq(real_to(r, l1, PKT_SYN | PKT_ACK), XLB_R_FWD_REDIRECT);
	cr_assert_eq(send_flow(c, 20000, PKT_ACK, 0, &l), r);
	/* An established session keeps a SYN (as IPVS does). */
	cr_assert_eq(send_flow(c, 20000, PKT_SYN, 0, &l), r);
	cr_assert_eq(l, l1);
	cr_assert_eq(flow_new_flows(), 1);
	cr_assert_eq(send_flow(c, 20000, PKT_FIN | PKT_ACK, 0, &l), r);
	cr_assert_eq(real_to(r, l1, PKT_FIN | PKT_ACK), XLB_R_FWD_REDIRECT);
	/* The client reuses its port. */
	r2 = send_flow(c, 20000, PKT_SYN, 1, &l2);
	cr_assert_geq(r2, 0);
	cr_assert_neq(l2, l1, "the closing session's tuple was reused");
	cr_assert_eq(flow_new_flows(), 2, "the reuse is a new connection");
	cr_assert_eq(h_nat_get(FLOW_SVC, c, 20000, &f), 0);
	cr_assert_eq(f.state, 0, "the new session starts afresh");
	cr_assert_eq(f.lport, htons(l2));
	cr_assert_eq(rev_get(IPPROTO_TCP, reals[r], 80, LOCAL4, l1, &rev),
		     -ENOENT, "the old reverse entry is left behind");
	cr_assert_eq(h_nat_count(), 1);
	cr_assert_eq(h_nat_rev_count(), 1);
	cr_assert_eq(real_to(r, l1, PKT_ACK), XLB_R_PASS_NAT_NO_SESSION,
		     "a late packet to the old tuple reached the client");
	cr_assert_eq(real_to(r2, l2, PKT_SYN | PKT_ACK), XLB_R_FWD_REDIRECT);

	/* The client resets; its next SYN on the port is new again. */
	cr_assert_eq(send_flow(c, 20000, PKT_RST, 0, &l), r2);
	r = send_flow(c, 20000, PKT_SYN, 0, &l3);
	cr_assert_geq(r, 0);
	cr_assert_neq(l3, l2);
	cr_assert_eq(flow_new_flows(), 3);
	/* A half close (the client's FIN only) is closing too. */
	cr_assert_eq(send_flow(c, 20000, PKT_ACK, 0, &l), r);
	cr_assert_eq(send_flow(c, 20000, PKT_FIN | PKT_ACK, 0, &l), r);
	cr_assert_geq(send_flow(c, 20000, PKT_SYN, 0, &l4), 0);
	cr_assert_neq(l4, l3);
	cr_assert_eq(flow_new_flows(), 4);
}

/*
 * SYN+FIN and SYN+RST are no opening SYN (a listener drops them), here as
 * everywhere in the data path: on a session the real has reset they go
 * on in the session, as any segment of it, and start no new one. (The
 * rule was written twice and the copies disagreed: the session let them
 * go as openings, then the opening check dropped them as
 * drop_nat_not_syn; the data-path fuzzer found it.)
 */
Test(nat_flows, syn_with_fin_or_rst_is_no_opening)
{
	const char *c = "192.0.2.51";
	uint16_t l1, l;
	int r;

	flow_vip(XLB_HASH_MAGLEV, 2);
	r = send_flow(c, 20001, PKT_SYN, 0, &l1);
	cr_assert_geq(r, 0);
	cr_assert_eq(real_to(r, l1, PKT_RST), XLB_R_FWD_REDIRECT);
	cr_assert_eq(send_flow(c, 20001, PKT_SYN | PKT_FIN, 0, &l), r,
		     "SYN+FIN on a reset session was not forwarded in it");
	cr_assert_eq(l, l1, "SYN+FIN took a new tuple");
	cr_assert_eq(send_flow(c, 20001, PKT_SYN | PKT_RST, 0, &l), r);
	cr_assert_eq(l, l1, "SYN+RST took a new tuple");
	cr_assert_eq(flow_new_flows(), 1, "SYN+FIN or SYN+RST counted new");
	/* Without a session they make none. */
	cr_assert_lt(send_flow(c, 20002, PKT_SYN | PKT_FIN, 0, NULL), 0);
	{
		struct xlb_nat_fwd f;

		cr_assert_eq(h_nat_get(FLOW_SVC, c, 20002, &f), -ENOENT);
	}
}

/*
 * After a drain or weight 0 a client reusing its port (any session
 * state) is scheduled afresh: 0 of them reach the real; the flows that
 * go on (no SYN) keep it.
 */
static void reuse_leaves(bool drain)
{
	int first[N_FLOWS], on = 0, back = 0, i, r;
	uint16_t lport;
	char c[32];

	flow_vip(XLB_HASH_MAGLEV, 3);
	for (i = 0; i < N_FLOWS; i++) {
		first[i] = send_flow(client_of(i, c, sizeof(c)), 20000 + i,
				     PKT_SYN, i % 2, &lport);
		cr_assert_geq(first[i], 0);
		on += first[i] == 2;
		if (i % 3 == 0)
			real_to(first[i], lport, PKT_SYN | PKT_ACK);
	}
	cr_assert_gt(on, 0);
	if (drain)
		h_drain(FLOW_SVC, reals[2], true);
	else
		h_weight(FLOW_SVC, reals[2], 0);
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_ACK,
			      i % 2, NULL);
		cr_assert_eq(r, first[i], "flow %d moved", i);
	}
	for (i = 0; i < N_FLOWS; i++) {
		r = send_flow(client_of(i, c, sizeof(c)), 20000 + i, PKT_SYN,
			      i % 2, NULL);
		cr_assert_geq(r, 0);
		cr_assert_neq(r, 2, "reused port %d went to the old real", i);
		if (first[i] != 2)
			cr_assert_eq(r, first[i], "flow %d moved", i);
		back += first[i] == 2;
	}
	cr_assert_eq(back, on);
	cr_assert_eq(flow_new_flows(), (uint64_t)(N_FLOWS + on));
}

Test(nat_flows, port_reuse_after_drain_is_scheduled_afresh)
{
	reuse_leaves(true);
}

Test(nat_flows, port_reuse_after_weight_zero_is_scheduled_afresh)
{
	reuse_leaves(false);
}
