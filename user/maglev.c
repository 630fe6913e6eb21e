// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maglev table builder.
 *
 * Backends are sorted by key so that the caller's order does not matter.
 * Each gets a quota of slots proportional to its weight (the quotas sum
 * to m exactly) and claims them spread evenly over R rounds, R being the
 * largest quota: a backend with quota q claims in rounds floor(c * R / q),
 * c = 0..q-1, so every backend takes its first preference in round 0 and
 * equal weights give plain round-robin Maglev. A calendar of per-round
 * lists visits only the backends that claim in a round, so a skewed
 * weight set costs O(m) rather than O(rounds * n).
 *
 * A claim walks the backend's permutation (offset, offset + skip, ...,
 * mod m) to the first free slot. Occupancy is a bitmap (m / 8 bytes, cache
 * resident) rather than the output table, and positions advance by adding
 * skip and subtracting m on wrap, never by division. Once few slots are
 * left the walk gets long (m / free on average), so the free slots are
 * listed and each claim picks the one fewest steps away instead: the
 * same slot, found in O(free).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "xlb.h"

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME  0x00000100000001b3ULL

/*
 * Seeds of the two key hashes. Changing either reshuffles every ring, and
 * nodes of one cluster must agree: treat them as part of the wire format.
 */
#define MAGLEV_SEED_OFFSET 0x5851f42d4c957f2dULL
#define MAGLEV_SEED_SKIP   0x14057b7ef767814fULL

#define MG_NIL		   UINT32_MAX

/* A backend while the table is built; the walk's fields first. */
struct mg_backend {
	uint32_t pos;	/* next permutation position to try */
	uint32_t skip;	/* permutation stride, 1..m-1 */
	uint32_t back;	/* m - skip: pos wraps once pos >= back */
	uint32_t skip2; /* 2 * skip mod m, to test four positions at once */
	uint32_t back2; /* m - skip2 */
	uint32_t idx;	/* index in the caller's array */
	uint32_t left;	/* slots still to claim */
	uint32_t step;	/* rounds between claims: R / quota ... */
	uint32_t frac;	/* ... plus R % quota, spread by acc */
	uint32_t acc;	/* accumulated fraction, < quota */
	uint32_t quota; /* slots this backend owns in the end */
	uint32_t link;	/* next backend claiming in the same round */
	uint32_t inv;	/* skip^-1 mod m, 0 until the tail needs it */
	uint32_t weight;
	const void *key;
	size_t key_len;
};

/* Everything one build shares between its steps. */
struct mg_ctx {
	struct mg_backend *s;
	uint64_t *used; /* occupancy bitmap, kept until the tail starts */
	uint32_t *table;
	uint32_t *empty; /* the free slots, listed when the tail starts */
	uint32_t m;
	uint32_t free;	  /* slots not claimed yet */
	uint32_t tail_at; /* free count at which the tail starts */
	uint64_t mu;	  /* floor((2^64 - 1) / m), for mg_mulmod */
};

/* Murmur3's 64-bit finaliser: every input bit flips half the output. */
static uint64_t mg_fmix64(uint64_t z)
{
	z ^= z >> 33;
	z *= 0xff51afd7ed558ccdULL;
	z ^= z >> 33;
	z *= 0xc4ceb9fe1a85ec53ULL;
	z ^= z >> 33;
	return z;
}

/*
 * FNV-1a over the key bytes from a seeded basis, then the finaliser so
 * that the low bits (all that % m keeps for small m) depend on every
 * byte. Byte-wise, so the result does not depend on host endianness.
 */
static uint64_t mg_hash(const void *key, size_t len, uint64_t seed)
{
	const unsigned char *p = key;
	uint64_t h = FNV64_OFFSET ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return mg_fmix64(h ^ (uint64_t)len);
}

/*
 * Total order on backends: key bytes, then key length, then weight, then
 * the caller's index (which only matters for duplicate keys).
 */
static int mg_cmp(const void *pa, const void *pb)
{
	const struct mg_backend *a = pa, *b = pb;
	size_t len = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = len ? memcmp(a->key, b->key, len) : 0;

	if (c)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight < b->weight ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Give each backend floor(m * W_i / W) - floor(m * W_{i-1} / W) slots,
 * W_i being the running sum of weights: the quotas add up to m and each
 * is within one slot of its exact share. The running remainder is kept
 * below W so that nothing overflows 64 bits. Returns the largest quota.
 */
static uint32_t mg_quotas(struct mg_backend *s, size_t n, uint64_t wsum,
			  uint32_t m)
{
	uint64_t rem = 0, prod, r;
	uint32_t max = 0, q;
	size_t i;

	for (i = 0; i < n; i++) {
		prod = (uint64_t)m * s[i].weight;
		q = prod / wsum;
		r = prod % wsum;
		if (r >= wsum - rem) {
			rem = r - (wsum - rem);
			q++;
		} else {
			rem += r;
		}
		s[i].quota = q;
		if (q > max)
			max = q;
	}
	return max;
}

/* pos + skip (mod m), given back = m - skip: no division. */
static inline uint32_t mg_adv(uint32_t pos, uint32_t skip, uint32_t back)
{
	return pos >= back ? pos - back : pos + skip;
}

/* Hash each backend's key into its permutation and claim schedule. */
static void mg_setup(struct mg_backend *s, size_t n, uint32_t m,
		     uint32_t rounds)
{
	struct mg_backend *be;
	uint64_t h;
	size_t i;

	for (i = 0; i < n; i++) {
		be = &s[i];
		h = mg_hash(be->key, be->key_len, MAGLEV_SEED_OFFSET);
		be->pos = h % m;
		h = mg_hash(be->key, be->key_len, MAGLEV_SEED_SKIP);
		be->skip = h % (m - 1) + 1;
		be->back = m - be->skip;
		be->skip2 = mg_adv(be->skip, be->skip, be->back);
		be->back2 = m - be->skip2;
		be->left = be->quota;
		if (be->quota) {
			be->step = rounds / be->quota;
			be->frac = rounds % be->quota;
		}
	}
}

/*
 * Occupancy of four consecutive permutation positions from p0, one bit
 * each, their slots in p[]. Branch-free: whether a probe hits is random
 * in the middle of the build, and a mispredicted branch costs more than
 * testing four bits.
 */
static inline uint64_t mg_test4(const uint64_t *used,
				const struct mg_backend *be, uint32_t p0,
				uint32_t p[4])
{
	uint64_t u;

	p[0] = p0;
	p[1] = mg_adv(p0, be->skip, be->back);
	p[2] = mg_adv(p0, be->skip2, be->back2);
	p[3] = mg_adv(p[1], be->skip2, be->back2);
	u = (used[p[0] >> 6] >> (p[0] & 63)) & 1;
	u |= ((used[p[1] >> 6] >> (p[1] & 63)) & 1) << 1;
	u |= ((used[p[2] >> 6] >> (p[2] & 63)) & 1) << 2;
	u |= ((used[p[3] >> 6] >> (p[3] & 63)) & 1) << 3;
	return u;
}

/* Walk the backend's permutation to its first free slot and take it. */
static inline uint32_t mg_walk(struct mg_ctx *c, const struct mg_backend *be)
{
	uint32_t p[4], p0 = be->pos;
	uint64_t u;

	while ((u = mg_test4(c->used, be, p0, p)) == 15)
		p0 = mg_adv(p[2], be->skip2, be->back2);
	p0 = p[__builtin_ctzll(~u)];
	c->used[p0 >> 6] |= 1ULL << (p0 & 63);
	return p0;
}

/*
 * The inverse of skip modulo the prime m (extended Euclid): the number of
 * steps from one position to another is their distance times it.
 */
static uint32_t mg_inverse(uint32_t skip, uint32_t m)
{
	int64_t t = 0, newt = 1, r = m, newr = skip, q, tmp;

	while (newr) {
		q = r / newr;
		tmp = t - q * newt;
		t = newt;
		newt = tmp;
		tmp = r - q * newr;
		r = newr;
		newr = tmp;
	}
	return t < 0 ? t + m : t;
}

/* a * b mod m for a, b < m, by Barrett reduction where 128 bits exist. */
static inline uint64_t mg_mulmod(uint64_t a, uint64_t b, uint32_t m,
				 uint64_t mu)
{
	uint64_t x = a * b;
#ifdef __SIZEOF_INT128__
	/* With mu = floor((2^64 - 1) / m), q is at most one short. */
	uint64_t q = (uint64_t)(((unsigned __int128)x * mu) >> 64);

	x -= q * m;
	return x >= m ? x - m : x;
#else
	(void)mu;
	return x % m;
#endif
}

/* List the free slots from the bitmap, in slot order. */
static void mg_list_free(struct mg_ctx *c)
{
	uint32_t w, nw = ((uint64_t)c->m + 63) / 64, k = 0;
	uint64_t bits;

	for (w = 0; w < nw; w++) {
		bits = ~c->used[w];
		if (w == nw - 1 && c->m % 64)
			bits &= (1ULL << (c->m % 64)) - 1;
		while (bits) {
			c->empty[k++] = w * 64 + __builtin_ctzll(bits);
			bits &= bits - 1;
		}
	}
}

/*
 * Take the free slot fewest permutation steps from the backend's next
 * position: the slot the walk would reach first.
 */
static uint32_t mg_pick_free(struct mg_ctx *c, struct mg_backend *be)
{
	uint32_t k, bk = 0, e, pos = be->pos, m = c->m;
	uint64_t best = UINT64_MAX, d;

	if (!be->inv)
		be->inv = mg_inverse(be->skip, m);
	for (k = 0; k < c->free; k++) {
		e = c->empty[k];
		d = e >= pos ? e - pos : (uint64_t)e + m - pos;
		d = mg_mulmod(d, be->inv, m, c->mu);
		if (d < best) {
			best = d;
			bk = k;
		}
	}
	e = c->empty[bk];
	c->empty[bk] = c->empty[c->free - 1];
	return e;
}

/* Claim the backend's most preferred free slot; one must be free. */
static inline void mg_claim(struct mg_ctx *c, struct mg_backend *be)
{
	uint32_t pos;

	if (c->free > c->tail_at) {
		pos = mg_walk(c, be);
	} else {
		if (c->free == c->tail_at)
			mg_list_free(c);
		pos = mg_pick_free(c, be);
	}
	c->free--;
	c->table[pos] = be->idx;
	be->pos = mg_adv(pos, be->skip, be->back);
}

/* Append backend i to the list of round r. */
static inline void mg_schedule(uint32_t *head, uint32_t *tail,
			       struct mg_backend *s, uint32_t r, uint32_t i)
{
	s[i].link = MG_NIL;
	if (head[r] == MG_NIL)
		head[r] = i;
	else
		s[tail[r]].link = i;
	tail[r] = i;
}

/* Run the rounds until every backend has claimed its quota. */
static void mg_populate(struct mg_ctx *c, size_t n, uint32_t rounds,
			uint32_t *head, uint32_t *tail)
{
	struct mg_backend *s = c->s, *be;
	uint32_t r, i, next, nr;

	for (r = 0; r < rounds; r++)
		head[r] = MG_NIL;
	for (i = 0; i < n; i++)
		if (s[i].quota)
			mg_schedule(head, tail, s, 0, i);

	for (r = 0; r < rounds; r++) {
		for (i = head[r]; i != MG_NIL; i = next) {
			be = &s[i];
			next = be->link;
			mg_claim(c, be);
			if (!--be->left)
				continue;
			/* Claim c + 1 falls in round floor((c + 1) * R / q). */
			nr = r + be->step;
			be->acc += be->frac;
			if (be->acc >= be->quota) {
				be->acc -= be->quota;
				nr++;
			}
			mg_schedule(head, tail, s, nr, i);
		}
	}
}

/*
 * Where the tail starts. A walk costs about m / free probes, a tail pick
 * about free steps of similar price; measured best near sqrt(m) / 2.
 */
static uint32_t mg_tail_at(uint32_t m)
{
	uint64_t t = 1;

	while (4 * t * t < m)
		t++;
	return t < m ? t : m;
}

int xlb_maglev_build(const struct xlb_maglev_backend *b, size_t n, uint32_t m,
		     uint32_t *table)
{
	struct mg_ctx c = {.table = table, .m = m, .free = m};
	uint32_t *head = NULL, rounds;
	uint64_t wsum = 0;
	size_t i, live = 0;
	int err = -ENOMEM;

	if (!xlb_is_prime(m) || !table || (n && !b) || n >= MG_NIL)
		return -EINVAL;

	/* Zero weights claim nothing: building without them is the same. */
	for (i = 0; i < n; i++) {
		if (!b[i].weight)
			continue;
		if (b[i].key_len && !b[i].key)
			return -EINVAL;
		wsum += b[i].weight;
		live++;
	}
	if (!live) {
		for (i = 0; i < m; i++)
			table[i] = XLB_MAGLEV_EMPTY;
		return 0;
	}

	c.s = calloc(live, sizeof(*c.s));
	c.used = calloc(((size_t)m + 63) / 64, sizeof(*c.used));
	if (!c.s || !c.used)
		goto out_free;
	for (i = 0, live = 0; i < n; i++) {
		if (!b[i].weight)
			continue;
		c.s[live].key = b[i].key;
		c.s[live].key_len = b[i].key_len;
		c.s[live].weight = b[i].weight;
		c.s[live].idx = i;
		live++;
	}
	qsort(c.s, live, sizeof(*c.s), mg_cmp);

	rounds = mg_quotas(c.s, live, wsum, m);
	c.tail_at = mg_tail_at(m);
	c.mu = UINT64_MAX / m;
	/* One block: the calendar's heads and tails, then the free list. */
	head = malloc((2 * (size_t)rounds + c.tail_at) * sizeof(*head));
	if (!head)
		goto out_free;
	c.empty = head + 2 * (size_t)rounds;

	mg_setup(c.s, live, m, rounds);
	mg_populate(&c, live, rounds, head, head + rounds);
	err = 0;

out_free:
	free(head);
	free(c.used);
	free(c.s);
	return err;
}

/* Trial division by 2, 3 and 6k +- 1: under 11000 steps for 32 bits. */
bool xlb_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 4)
		return n >= 2;
	if (!(n % 2) || !(n % 3))
		return false;
	for (d = 5; (uint64_t)d * d <= n; d += 6)
		if (!(n % d) || !(n % (d + 2)))
			return false;
	return true;
}
