// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reload and reconcile over the real BPF object (loaded, never attached;
 * root): what a reload replies, what its errors name, and that a reload
 * failing part-way leaves the running state as it was.
 */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "maps.h"
#include "reload.h"
#include "xlb.h"

static struct xlb_dp *dp;
static struct xlb_agent *agent;
static char err[XLB_ERR_LEN];

static void setup(void)
{
	struct xlb_dp_opts opts = {
		.max_vips = 16,
		.max_reals = 64,
		.ct_size = 1024,
		.nat_sessions = 4096,
	};

	cr_assert_eq(xlb_dp_open(&opts, &dp, err, sizeof(err)), 0,
		     "xlb_dp_open: %s", err);
	cr_assert_eq(xlb_agent_new(dp, &agent), 0);
}

static void teardown(void)
{
	xlb_agent_free(agent);
	xlb_dp_close(dp, true);
	agent = NULL;
	dp = NULL;
}

static void parse(const char *text, struct xlb_config *cfg)
{
	cr_assert_eq(xlb_config_parse(text, strlen(text), "t", cfg, err,
				      sizeof(err)),
		     0, "%s", err);
}

/* jansson's allocations, counted: what is taken and not given back. */
static long live;

static void *count_malloc(size_t n)
{
	live++;
	return malloc(n);
}

static void count_free(void *p)
{
	if (p)
		live--;
	free(p);
}

Test(reload, reply_gives_back_what_it_takes)
{
	struct xlb_reconcile_stats st = {.vips_added = 1, .laddrs_added = 2};
	json_t *r;

	json_set_alloc_funcs(count_malloc, count_free);
	live = 0;
	r = xlb_reconcile_json(&st);
	cr_assert_not_null(r);
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(r, "changes"), "vips_added")),
		     1);
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(r, "changes"), "laddrs_added")),
		     2);
	json_decref(r);
	cr_expect_eq(live, 0, "%ld allocations of a reply never freed", live);
	json_set_alloc_funcs(malloc, free);
}

Test(reconcile, error_names_the_vip_that_failed, .init = setup,
     .fini = teardown)
{
	static const char text[] = "vips:\n"
				   "  - vip: 10.0.0.10:80/tcp\n"
				   "    reals: [10.1.0.2]\n"
				   "  - vip: 10.0.0.11:80/tcp\n"
				   "    reals: [10.1.0.3]\n";
	struct xlb_reconcile_stats st;
	struct xlb_config cfg;

	parse(text, &cfg);
	cr_assert_eq(xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)), 0,
		     "%s", err);
	/* An MSS out of range, refused by the model for the first VIP
	 * (the file's checks would have refused it earlier). */
	cfg.vips[0].mss = 10;
	cr_assert_neq(xlb_agent_reconcile(agent, &cfg, &st, err, sizeof(err)),
		      0);
	xlb_config_free(&cfg);
	cr_expect(strstr(err, "VIP 10.0.0.10:80/tcp: ") == err, "%s", err);
	cr_expect(!strstr(err, "10.0.0.11"), "%s", err);
}
