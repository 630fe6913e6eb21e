/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow hash, shared by the data plane and by userspace (tests and
 * tools predict which ring slot and which outer source a flow gets).
 * A Jenkins-style 3-word mix: cheap, no tables, good avalanche.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>

#ifdef __bpf__
#define XLB_HASH_INLINE static __always_inline
#else
#define XLB_HASH_INLINE static inline
#endif

#define XLB_HASH_SEED 0x9e3779b9u

XLB_HASH_INLINE __u32 xlb_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* Final mix of three words into c (lookup3's "final"). */
#define XLB_HASH_FINAL(a, b, c)        \
	do {                           \
		c ^= b;                \
		c -= xlb_rol32(b, 14); \
		a ^= c;                \
		a -= xlb_rol32(c, 11); \
		b ^= a;                \
		b -= xlb_rol32(a, 25); \
		c ^= b;                \
		c -= xlb_rol32(b, 16); \
		a ^= c;                \
		a -= xlb_rol32(c, 4);  \
		b ^= a;                \
		b -= xlb_rol32(a, 14); \
		c ^= b;                \
		c -= xlb_rol32(b, 24); \
	} while (0)

/*
 * Hash of a client flow. saddr is the client address as stored in maps
 * (IPv4 in word 0). ports is sport << 16 | dport in network order words;
 * src_only leaves ports and protocol out (source-IP affinity).
 */
XLB_HASH_INLINE __u32 xlb_flow_hash(const __u32 saddr[4], __u32 ports,
				    __u8 proto, int src_only)
{
	__u32 a = XLB_HASH_SEED + saddr[0];
	__u32 b = XLB_HASH_SEED + saddr[1];
	__u32 c = XLB_HASH_SEED + saddr[2];

	XLB_HASH_FINAL(a, b, c);
	a += saddr[3];
	if (!src_only) {
		b += ports;
		c += proto;
	}
	XLB_HASH_FINAL(a, b, c);
	return c;
}

/* An address's slot in the addr_filter map (xlb_abi.h): 16 bits. */
XLB_HASH_INLINE __u32 xlb_addr_slot(const __u32 a[4])
{
	__u32 x = a[0] ^ xlb_rol32(a[1], 8) ^ xlb_rol32(a[2], 16) ^
		  xlb_rol32(a[3], 24);

	return (x * 0x9e3779b1u) >> (32 - 16);
}

/*
 * Hash of a client flow for the tunnel's outer header: the host bits of
 * the outer source, the GUE source port and the IPv6 flow label. Every
 * packet of a flow needs it, the established ones too, so it is cheaper
 * than xlb_flow_hash (three multiplies, no rounds), which only picks a
 * new flow's ring slot. The same arguments; the same on every node, so
 * a flow keeps its outer header when it moves between balancers.
 */
XLB_HASH_INLINE __u32 xlb_tun_hash(const __u32 saddr[4], __u32 ports,
				   __u8 proto, int src_only)
{
	__u32 h = XLB_HASH_SEED ^ saddr[0] ^ xlb_rol32(saddr[1], 8) ^
		  xlb_rol32(saddr[2], 16) ^ xlb_rol32(saddr[3], 24);

	h *= 0xcc9e2d51u;
	if (!src_only)
		h ^= ports + proto;
	/* murmur3's finaliser */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/*
 * Which of n ECMP legs (xlb_abi.h, nexthops) a flow takes: the high bits
 * of its hash scaled to n, a multiply where a modulo would divide. The
 * high bits: the tunnel's outer source takes the low ones. A caller with
 * a 16-bit value (a FULLNAT local port) spreads it over 32 bits first.
 */
XLB_HASH_INLINE __u32 xlb_nh_pick(__u32 hash, __u32 n)
{
	return (__u32)(((__u64)hash * n) >> 32);
}

#endif /* XLB_HASH_H */
