// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness of the configuration parser (user/config.c): every
 * input is a whole file, parsed and freed as `xlbd --config` and a reload
 * do. Built with ASan, UBSan and LeakSanitizer (make fuzz-build): a crash,
 * an out-of-bounds access, undefined behaviour or a leak is a finding.
 * Besides, the outcome must keep the parser's contract (user/xlb.h):
 * 0 and a configuration within its limits, or -errno, a one-line message
 * naming the file, and an empty configuration. A broken contract aborts with
 * the broken rule.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlb.h"

#define FUZZ_NAME "fuzz.yaml"

/* A broken contract is a crash libFuzzer records, with its reason. */
#define fuzz_check(cond)                                                 \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "contract broken: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);              \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a successful parse must hold. */
static void check_config(const struct xlb_config *cfg)
{
	size_t i, j, reals = 0;

	fuzz_check(cfg->n_interfaces <= XLB_MAX_INTERFACES);
	for (i = 0; i < cfg->n_interfaces; i++)
		fuzz_check(cfg->interfaces[i] && cfg->interfaces[i][0]);
	fuzz_check(cfg->socket_path[0] == '/');
	fuzz_check(cfg->pin_path[0] == '/');
	fuzz_check(cfg->n_vips <= cfg->max_vips);
	fuzz_check(!cfg->n_vips || cfg->vips);
	for (i = 0; i < cfg->n_vips; i++) {
		const struct xlb_vip_spec *v = &cfg->vips[i];

		fuzz_check(v->svc.proto == IPPROTO_TCP ||
			   v->svc.proto == IPPROTO_UDP);
		fuzz_check(v->svc.ip.family == AF_INET ||
			   v->svc.ip.family == AF_INET6);
		fuzz_check(xlb_is_prime(v->table_size));
		fuzz_check(!v->n_reals || v->reals);
		for (j = 0; j < v->n_reals; j++)
			fuzz_check(v->reals[j].weight <= XLB_MAX_WEIGHT);
		reals += v->n_reals;
	}
	fuzz_check(reals < cfg->max_reals);
}

/* What a refused parse must leave: a message and nothing allocated. */
static void check_refused(const struct xlb_config *cfg, const char *err)
{
	fuzz_check(!strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")));
	fuzz_check(!strchr(err, '\n'));
	fuzz_check(!cfg->n_vips && !cfg->vips && !cfg->n_interfaces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[XLB_ERR_LEN];
	struct xlb_config cfg;
	int ret;

	/* The bytes as they are, not NUL-terminated: the parser takes a
	 * length, and ASan sees any read past it. */
	memset(&cfg, 0, sizeof(cfg));
	memset(err, 'x', sizeof(err));
	ret = xlb_config_parse((const char *)data, size, FUZZ_NAME, &cfg, err,
			       sizeof(err));
	fuzz_check(ret <= 0);
	fuzz_check(memchr(err, '\0', sizeof(err)));
	if (ret)
		check_refused(&cfg, err);
	else
		check_config(&cfg);
	xlb_config_free(&cfg);
	return 0;
}
