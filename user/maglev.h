/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maglev lookup tables (Eisenbud et al., NSDI 2016): every backend walks
 * its own permutation of the table and backends take turns claiming their
 * next preferred free slot. Removing or adding one backend moves little
 * more than its own share of slots. The table built here is what the
 * agent publishes as a VIP's ring.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

/* A slot owned by nobody: only when no backend has a positive weight. */
#define XLB_MAGLEV_EMPTY UINT32_MAX

struct xlb_maglev_backend {
	const void *key; /* stable identity bytes (the real's address) */
	size_t key_len;
	uint32_t weight; /* 0 = gets no slot */
};

/*
 * Fill table[0..m-1] with backend indices (0..n-1), or XLB_MAGLEV_EMPTY
 * everywhere when no backend has a positive weight. m must be prime; n
 * may be 0. A backend gets within one slot of m * weight / (sum of
 * weights).
 *
 * The result depends only on the set of (key, weight) pairs, never on
 * the order of b[], the host or the run: every node builds the same ring.
 * Backends with identical keys are told apart by weight, then by index.
 *
 * Returns 0, -EINVAL (m not prime; NULL table, backends or key; n of
 * UINT32_MAX or more) or -ENOMEM. On error table is left untouched.
 */
int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, uint32_t m,
		     uint32_t *table);

#endif /* XLB_MAGLEV_H */
