// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/routes.c (root). Each test runs in its own process
 * (criterion) and moves it into a private network namespace first, so
 * routes and links made here never reach the host. The kernel's state is
 * read back with iproute2, not with the module's own dump, so the two
 * check each other.
 */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "routes.h"

#define PROTO 250
#define TABLE 100

static void netns_up(void)
{
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * The routes of a table as iproute2 prints them, one per line, trailing
 * blanks dropped and protocol 250 shown as a number even where
 * rt_protos.d names it "xlb".
 */
static const char *ip_routes(int family, uint32_t table)
{
	static char out[8192];
	char cmd[128], line[256];
	size_t len = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -%d route show table %u 2>/dev/null",
		 family == AF_INET ? 4 : 6, table);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " proto xlb ");
		size_t n;

		if (p)
			memcpy(p, " proto 250 ", 11);
		n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
			line[--n] = '\0';
		len += snprintf(out + len, sizeof(out) - len, "%s\n", line);
	}
	pclose(f);
	return out;
}

static struct xlb_route rt(const char *ip, uint32_t metric)
{
	struct xlb_route r = {.metric = metric};

	cr_assert_eq(xlb_ip_parse(ip, &r.ip), 0, "%s", ip);
	return r;
}

static struct xlb_routes *open_routes(uint32_t table)
{
	struct xlb_routes *r;
	char err[256] = "";

	cr_assert_eq(xlb_routes_open(PROTO, table, &r, err, sizeof(err)), 0,
		     "%s", err);
	return r;
}

static void set_ok(struct xlb_routes *r, const struct xlb_route *want, size_t n,
		   size_t added, size_t removed, size_t kept)
{
	struct xlb_routes_diff d;
	char err[256] = "";

	cr_assert_eq(xlb_routes_set(r, want, n, &d, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(d.added, added, "added %zu, expected %zu", d.added, added);
	cr_expect_eq(d.removed, removed, "removed %zu, expected %zu", d.removed,
		     removed);
	cr_expect_eq(d.kept, kept, "kept %zu, expected %zu", d.kept, kept);
}

#define expect_routes(family, table, text)                                    \
	do {                                                                  \
		const char *got_ = ip_routes(family, table);                  \
		cr_expect_str_eq(got_, text, "table %u:\n%s---expected:\n%s", \
				 table, got_, text);                          \
	} while (0)

TestSuite(routes, .init = netns_up);

Test(routes, set_adds_v4_and_v6)
{
	struct xlb_route want[] = {rt("10.0.0.1", 5), rt("10.0.0.2", 5),
				   rt("2001:db8::1", 7)};
	struct xlb_routes *r = open_routes(TABLE);

	set_ok(r, want, 3, 3, 0, 0);
	expect_routes(AF_INET, TABLE,
		      "blackhole 10.0.0.1 proto 250 metric 5\n"
		      "blackhole 10.0.0.2 proto 250 metric 5\n");
	expect_routes(AF_INET6, TABLE,
		      "blackhole 2001:db8::1 dev lo proto 250 metric 7 pref "
		      "medium\n");
	/* Nothing leaked into the main table. */
	expect_routes(AF_INET, 254, "");
	xlb_routes_close(r);
}

Test(routes, set_subset_removes_the_others)
{
	struct xlb_route want[] = {rt("10.0.0.1", 5), rt("10.0.0.2", 5),
				   rt("2001:db8::1", 7), rt("2001:db8::2", 7)};
	struct xlb_routes *r = open_routes(TABLE);

	set_ok(r, want, 4, 4, 0, 0);
	set_ok(r, &want[1], 2, 0, 2, 2);
	expect_routes(AF_INET, TABLE,
		      "blackhole 10.0.0.2 proto 250 metric 5\n");
	expect_routes(AF_INET6, TABLE,
		      "blackhole 2001:db8::1 dev lo proto 250 metric 7 pref "
		      "medium\n");
	xlb_routes_close(r);
}

Test(routes, metric_change_replaces)
{
	struct xlb_route a[] = {rt("10.0.0.1", 10), rt("2001:db8::1", 10)};
	struct xlb_route b[] = {rt("10.0.0.1", 20), rt("2001:db8::1", 20)};
	struct xlb_routes *r = open_routes(TABLE);

	set_ok(r, a, 2, 2, 0, 0);
	set_ok(r, b, 2, 2, 2, 0);
	expect_routes(AF_INET, TABLE,
		      "blackhole 10.0.0.1 proto 250 metric 20\n");
	expect_routes(AF_INET6, TABLE,
		      "blackhole 2001:db8::1 dev lo proto 250 metric 20 pref "
		      "medium\n");
	xlb_routes_close(r);
}

Test(routes, empty_set_withdraws_all)
{
	struct xlb_route want[] = {rt("10.0.0.1", 1), rt("10.0.0.2", 2),
				   rt("2001:db8::1", 3)};
	struct xlb_routes *r = open_routes(TABLE);

	set_ok(r, want, 3, 3, 0, 0);
	set_ok(r, NULL, 0, 0, 3, 0);
	expect_routes(AF_INET, TABLE, "");
	expect_routes(AF_INET6, TABLE, "");
	xlb_routes_close(r);
}

Test(routes, set_is_idempotent)
{
	struct xlb_route want[] = {rt("10.0.0.1", 0), rt("10.0.0.2", 9),
				   rt("2001:db8::1", 0), rt("2001:db8::2", 9)};
	struct xlb_routes *r = open_routes(TABLE);

	set_ok(r, want, 4, 4, 0, 0);
	/* IPv6 metric 0 is stored as 1024: still the same route. */
	set_ok(r, want, 4, 0, 0, 4);
	set_ok(r, want, 4, 0, 0, 4);
	expect_routes(AF_INET6, TABLE,
		      "blackhole 2001:db8::1 dev lo proto 250 metric 1024 pref "
		      "medium\n"
		      "blackhole 2001:db8::2 dev lo proto 250 metric 9 pref "
		      "medium\n");
	xlb_routes_close(r);
}

Test(routes, list_returns_what_set_made)
{
	struct xlb_route want[] = {rt("10.0.0.2", 3), rt("10.0.0.1", 4),
				   rt("2001:db8::9", 5)};
	struct xlb_routes *r = open_routes(TABLE);
	struct xlb_route *got;
	size_t n, i, j;

	set_ok(r, want, 3, 3, 0, 0);
	cr_assert_eq(xlb_routes_list(r, &got, &n), 0);
	cr_assert_eq(n, 3);
	for (i = 0; i < 3; i++) {
		bool found = false;

		for (j = 0; j < n && !found; j++)
			found = xlb_ip_equal(&want[i].ip, &got[j].ip) &&
				want[i].metric == got[j].metric;
		cr_expect(found, "route %zu not listed", i);
	}
	free(got);
	set_ok(r, NULL, 0, 0, 3, 0);
	cr_assert_eq(xlb_routes_list(r, &got, &n), 0);
	cr_expect_eq(n, 0);
	free(got);
	xlb_routes_close(r);
}

/*
 * Someone else's routes: another protocol for the same and for another
 * prefix, our protocol in another table, our protocol for a prefix that
 * is not a host route. None is ever changed.
 */
Test(routes, other_routes_untouched)
{
	struct xlb_route want[] = {rt("10.0.0.1", 0), rt("2001:db8::1", 5)};
	struct xlb_routes *r = open_routes(TABLE);
	const char *v4 = "blackhole 10.0.0.1 proto static\n"
			 "blackhole 10.0.0.9 proto static\n"
			 "blackhole 10.1.0.0/24 proto 250\n";
	const char *v6 =
		"blackhole 2001:db8::1 dev lo proto static metric 1024 pref "
		"medium\n"
		"blackhole 2001:db8::9 dev lo proto static metric 1024 pref "
		"medium\n";

	sh("ip route add blackhole 10.0.0.1 table %d proto static", TABLE);
	sh("ip route add blackhole 10.0.0.9 table %d proto static", TABLE);
	sh("ip route add blackhole 10.1.0.0/24 table %d proto %d", TABLE,
	   PROTO);
	sh("ip -6 route add blackhole 2001:db8::1 table %d proto static",
	   TABLE);
	sh("ip -6 route add blackhole 2001:db8::9 table %d proto static",
	   TABLE);
	sh("ip route add blackhole 10.0.0.7 table 200 proto %d", PROTO);

	/* Same prefix and metric as the static route: IPv4 keeps both. */
	set_ok(r, want, 2, 2, 0, 0);
	expect_routes(AF_INET, TABLE,
		      "blackhole 10.0.0.1 proto static\n"
		      "blackhole 10.0.0.1 proto 250\n"
		      "blackhole 10.0.0.9 proto static\n"
		      "blackhole 10.1.0.0/24 proto 250\n");
	set_ok(r, want, 2, 0, 0, 2);
	set_ok(r, NULL, 0, 0, 2, 0);
	expect_routes(AF_INET, TABLE, v4);
	expect_routes(AF_INET6, TABLE, v6);
	expect_routes(AF_INET, 200, "blackhole 10.0.0.7 proto 250\n");
	xlb_routes_close(r);
}

/* IPv6 has room for one blackhole per prefix and metric: the error
 * names the route, and the other protocol's route stays. */
Test(routes, conflict_names_the_route)
{
	struct xlb_route want[] = {rt("10.0.0.1", 1), rt("2001:db8::1", 0)};
	struct xlb_routes *r = open_routes(TABLE);
	struct xlb_routes_diff d;
	char err[256] = "";

	sh("ip -6 route add blackhole 2001:db8::1 table %d proto static",
	   TABLE);
	cr_assert_eq(xlb_routes_set(r, want, 2, &d, err, sizeof(err)), -EEXIST);
	cr_expect(strstr(err, "adding 2001:db8::1/128 metric 0: File exists"),
		  "err: %s", err);
	cr_expect_eq(d.added, 1);
	expect_routes(AF_INET6, TABLE,
		      "blackhole 2001:db8::1 dev lo proto static metric 1024 "
		      "pref medium\n");
	xlb_routes_close(r);
}

Test(routes, open_refuses_zero)
{
	struct xlb_routes *r = (void *)1;
	char err[256] = "";

	cr_expect_eq(xlb_routes_open(0, TABLE, &r, err, sizeof(err)), -EINVAL);
	cr_expect_null(r);
	cr_expect_eq(xlb_routes_open(PROTO, 0, &r, err, sizeof(err)), -EINVAL);
	xlb_routes_close(NULL);
}

/* ---- Links ------------------------------------------------------------ */

#define MAX_EVENTS 64

struct events {
	size_t n;
	char name[MAX_EVENTS][IF_NAMESIZE];
	bool up[MAX_EVENTS];
};

static void on_link(void *arg, int ifindex, const char *name, bool up)
{
	struct events *ev = arg;

	cr_assert_gt(ifindex, 0);
	if (ev->n < MAX_EVENTS) {
		snprintf(ev->name[ev->n], IF_NAMESIZE, "%s", name);
		ev->up[ev->n] = up;
		ev->n++;
	}
}

/* Read events until one for name with state up arrives (2 s at most). */
static void wait_event(struct xlb_links *l, struct events *ev, const char *name,
		       bool up)
{
	struct pollfd pfd = {.fd = xlb_links_fd(l), .events = POLLIN};
	size_t seen = 0;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		for (; seen < ev->n; seen++)
			if (!strcmp(ev->name[seen], name) && ev->up[seen] == up)
				return;
		poll(&pfd, 1, 100);
		cr_assert_eq(xlb_links_read(l, on_link, ev), 0);
	}
	cr_assert_fail("no event %s %s", name, up ? "up" : "down");
}

/* The last event for name (-1 none, 0 down, 1 up). */
static int last_event(const struct events *ev, const char *name)
{
	int state = -1;
	size_t i;

	for (i = 0; i < ev->n; i++)
		if (!strcmp(ev->name[i], name))
			state = ev->up[i];
	return state;
}

Test(routes, link_events)
{
	struct xlb_links *l;
	struct events ev = {0};

	cr_assert_eq(xlb_links_open(&l), 0);
	cr_assert_geq(xlb_links_fd(l), 0);
	/* Nothing pending: the socket does not block. */
	cr_assert_eq(xlb_links_read(l, on_link, &ev), 0);

	sh("ip link add xt0 type veth peer name xt1");
	wait_event(l, &ev, "xt0", false);
	cr_expect_not(xlb_link_up("xt0"));

	/* Up with a carrier only once the peer is up as well. */
	sh("ip link set xt0 up");
	cr_expect_not(xlb_link_up("xt0"));
	sh("ip link set xt1 up");
	wait_event(l, &ev, "xt0", true);
	cr_expect(xlb_link_up("xt0"));
	cr_expect(xlb_link_up("xt1"));

	/* Peer down: xt0 loses its carrier. */
	ev.n = 0;
	sh("ip link set xt1 down");
	wait_event(l, &ev, "xt0", false);
	cr_expect_not(xlb_link_up("xt0"));
	sh("ip link set xt1 up");
	wait_event(l, &ev, "xt0", true);
	cr_expect_eq(last_event(&ev, "xt0"), 1);

	/* Deleted: down, and no such link any more. */
	ev.n = 0;
	sh("ip link del xt0");
	wait_event(l, &ev, "xt0", false);
	cr_expect_eq(last_event(&ev, "xt0"), 0);
	cr_expect_not(xlb_link_up("xt0"));
	cr_expect_not(xlb_link_up("nosuchlink"));
	cr_expect(xlb_link_up("lo"));
	xlb_links_close(l);
	xlb_links_close(NULL);
}

/* ---- Routing daemons -------------------------------------------------- */

static char run_dir[] = "/tmp/xlb-routes-XXXXXX";
static pid_t child;

static void daemon_dir(void)
{
	cr_assert_not_null(mkdtemp(run_dir));
}

static void daemon_cleanup(void)
{
	char path[64];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/zebra.pid", run_dir);
	unlink(path);
	rmdir(run_dir);
}

/* A child named comm that waits to be killed. */
static pid_t spawn(const char *comm)
{
	int p[2];
	char c;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, comm);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void write_pid(pid_t pid)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/zebra.pid", run_dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
}

static void expect_state(enum xlb_daemon_state state, pid_t pid)
{
	struct xlb_daemon_status st;

	cr_assert_eq(xlb_daemon_check(run_dir, "zebra", &st), 0);
	cr_expect_str_eq(xlb_daemon_state_str(st.state),
			 xlb_daemon_state_str(state));
	cr_expect_eq(st.pid, pid, "pid %d, expected %d", (int)st.pid, (int)pid);
}

/* Wait until the child has stopped or continued (the signal is sent
 * before it takes effect). */
static void wait_child(pid_t pid, int how)
{
	siginfo_t si = {0};

	cr_assert_eq(waitid(P_PID, pid, &si, how | WNOWAIT), 0);
}

TestSuite(daemon, .init = daemon_dir, .fini = daemon_cleanup);

Test(daemon, states_follow_the_process)
{
	child = spawn("zebra");
	write_pid(child);
	expect_state(XLB_DAEMON_RUNNING, child);

	kill(child, SIGSTOP);
	wait_child(child, WSTOPPED);
	expect_state(XLB_DAEMON_STOPPED, child);

	kill(child, SIGCONT);
	wait_child(child, WCONTINUED);
	expect_state(XLB_DAEMON_RUNNING, child);

	/* A zombie (killed, not yet reaped) is dead already. */
	kill(child, SIGKILL);
	wait_child(child, WEXITED);
	expect_state(XLB_DAEMON_DEAD, child);
	waitpid(child, NULL, 0);
	expect_state(XLB_DAEMON_DEAD, child);
	child = 0;
}

Test(daemon, pid_of_another_program_is_dead)
{
	child = spawn("bgpd");
	write_pid(child);
	expect_state(XLB_DAEMON_DEAD, child);
}

Test(daemon, no_pid_file_is_dead)
{
	expect_state(XLB_DAEMON_DEAD, 0);
	write_pid(0);
	expect_state(XLB_DAEMON_DEAD, 0);
}

Test(daemon, state_names)
{
	cr_expect_str_eq(xlb_daemon_state_str(XLB_DAEMON_RUNNING), "running");
	cr_expect_str_eq(xlb_daemon_state_str(XLB_DAEMON_STOPPED), "stopped");
	cr_expect_str_eq(xlb_daemon_state_str(XLB_DAEMON_DEAD), "dead");
}
