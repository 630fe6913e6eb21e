// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The configuration file (docs/CONFIG.md). The YAML text is loaded whole
 * with libyaml's document loader, so every node remembers the line it came
 * from, and then walked mapping by mapping, each a section of the settings
 * table (settings.h): plain values go through the table's validator, the
 * others through a reader of their own here. All of it is validated
 * before success is returned: the first problem ends the parse with
 * "NAME:LINE: reason" and an empty configuration.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "health.h"
#include "settings.h"
#include "xlb.h"

#define CFG_FILE_MAX (16 << 20)
#define CFG_MAX_CPU  1023 /* CPU_SETSIZE - 1 */
/* How much of an offending value is quoted back in a message. */
#define CFG_QUOTE "%.64s"
/* The most keys one mapping has (walk_map()'s bit sets). */
#define CFG_MAX_KEYS 32

struct cfg_ctx {
	yaml_document_t *doc;
	struct xlb_config *cfg;
	const char *name;
	char *err;
	size_t errlen;
	size_t total_reals;	  /* over every VIP read so far */
	struct xlb_vip_spec *vip; /* being read: its reals' checks start
				     from its check */
	/* Where each of cfg->nat.laddrs, and of the cluster entry being
	 * read, was written. */
	size_t laddr_lines[XLB_NAT_MAX_LADDRS_TOTAL];
	size_t node_laddr_lines[XLB_NAT_MAX_LADDRS_TOTAL];
};

/* What reads the (non-null) value of a CUSTOM or SECTION setting. */
typedef int (*cfg_reader)(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			  void *obj);
static cfg_reader reader_of(const struct xlb_setting *s);
static int walk_section(struct cfg_ctx *c, const struct xlb_setting *s,
			yaml_node_t *val, void *obj);

/* Format "NAME:LINE: reason" into the caller's buffer; return -EINVAL. */
static int vfail_at(struct cfg_ctx *c, size_t line, const char *fmt, va_list ap)
{
	char *p;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%zu: ", c->name, line);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	/* One line, whatever a quoted value held: control bytes from the
	 * file (a newline inside a quoted string) become '?'. */
	for (p = c->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

/* Report a problem at a line number (1-based). */
static int __attribute__((format(printf, 3, 4)))
fail_at(struct cfg_ctx *c, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(c, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The 1-based line a node starts on. */
static size_t node_line(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

/* Report a problem with a node, at the line where the node starts. */
static int __attribute__((format(printf, 3, 4)))
fail(struct cfg_ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(c, node_line(node), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Report an allocation failure; the line does not matter. */
static int fail_nomem(struct cfg_ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
	return -ENOMEM;
}

/* Node of the document by index (items and pairs refer to nodes so). */
static yaml_node_t *node_get(struct cfg_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

/* What a node is, for "expected X, got Y" messages. */
static const char *node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* A plain "", "~" or "null": YAML's null, which we read as "not set". */
static bool node_is_null(const yaml_node_t *node)
{
	const char *s = NULL;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = (const char *)node->data.scalar.value;
	return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* Number of items in a sequence node. */
static size_t seq_len(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top -
			seq->data.sequence.items.start);
}

/* The i-th item of a sequence node. */
static yaml_node_t *seq_item(struct cfg_ctx *c, const yaml_node_t *seq,
			     size_t i)
{
	return node_get(c, seq->data.sequence.items.start[i]);
}

/*
 * The text of a scalar node. "what" names what was expected instead when
 * the node is a list or a mapping. A NUL inside the text (written "\0" in
 * a quoted string) is refused: the text would silently end there.
 */
static int node_text(struct cfg_ctx *c, const char *key, yaml_node_t *node,
		     const char *what, const char **text)
{
	const char *s = NULL;

	if (node->type != YAML_SCALAR_NODE)
		return fail(c, node, "%s: expected %s, got %s", key, what,
			    node_kind(node));
	s = (const char *)node->data.scalar.value;
	if (strlen(s) != node->data.scalar.length)
		return fail(c, node, "%s: NUL character in value", key);
	*text = s;
	return 0;
}

/*
 * Read a plain setting (settings.h) with the one validator; "key: reason"
 * at the value's line.
 */
static int node_read(struct cfg_ctx *c, const char *key, yaml_node_t *node,
		     const struct xlb_setting *set, void *obj, uint32_t *out)
{
	static const char *const what[] = {
		[XLB_SET_U32] = "an integer", [XLB_SET_PRIME] = "an integer",
		[XLB_SET_MS] = "a duration",  [XLB_SET_BOOL] = "true or false",
		[XLB_SET_PATH] = "a path",    [XLB_SET_NAME] = "a name",
	};
	char msg[XLB_ERR_LEN], names[96];
	const char *s = NULL;
	int ret;

	ret = node_text(c, key, node,
			set->type == XLB_SET_ENUM
				? xlb_setting_choices(set, names, sizeof(names))
				: what[set->type],
			&s);
	if (ret)
		return ret;
	if (obj ? xlb_setting_set(set, key, obj, s, msg, sizeof(msg))
		: xlb_setting_check_key(set, key, s, 0, out, msg, sizeof(msg)))
		return fail(c, node, "%s", msg);
	return 0;
}

/* Read a plain setting into out. */
static int node_value(struct cfg_ctx *c, const char *key, yaml_node_t *node,
		      const struct xlb_setting *set, uint32_t *out)
{
	return node_read(c, key, node, set, NULL, out);
}

/* Read a plain setting and store it in obj. */
static int node_set(struct cfg_ctx *c, const char *key, yaml_node_t *node,
		    const struct xlb_setting *set, void *obj)
{
	return node_read(c, key, node, set, obj, NULL);
}

/* Read a decimal integer in min..max. */
static int node_u32(struct cfg_ctx *c, const char *key, yaml_node_t *node,
		    uint32_t min, uint32_t max, uint32_t *out)
{
	const struct xlb_setting set = {
		.type = XLB_SET_U32, .min = min, .max = max};

	return node_value(c, key, node, &set, out);
}

/*
 * Walk a mapping of the settings of section (settings.h): every key must
 * be one of them and appear once; plain ones are read and stored in obj
 * here, the others by their readers. A null value leaves the setting at
 * its default; a required key must have a non-null value. where names
 * the mapping in messages (NULL for the top level). lines, when given,
 * gets the line of each key by its place in section (0: not written).
 */
static int walk_map(struct cfg_ctx *c, yaml_node_t *map, const char *where,
		    const char *section, void *obj, size_t *lines)
{
	const struct xlb_setting *all, *keys[CFG_MAX_KEYS];
	unsigned int seen = 0, set = 0, i, n = 0;
	yaml_node_pair_t *pair;
	size_t total, j;
	int ret;

	all = xlb_settings(&total);
	for (j = 0; j < total && n < CFG_MAX_KEYS; j++)
		if (!strcmp(all[j].section, section))
			keys[n++] = &all[j];
	if (map->type != YAML_MAPPING_NODE) {
		if (!where)
			return fail(c, map,
				    "expected a mapping of settings at the "
				    "top level, got %s",
				    node_kind(map));
		return fail(c, map, "%s: expected a mapping, got %s", where,
			    node_kind(map));
	}
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = node_get(c, pair->key);
		yaml_node_t *val = node_get(c, pair->value);
		const char *name;

		if (key->type != YAML_SCALAR_NODE)
			return fail(c, key, "keys must be scalars, got %s",
				    node_kind(key));
		name = (const char *)key->data.scalar.value;
		for (i = 0; i < n; i++)
			if (!strcmp(keys[i]->key, name) &&
			    strlen(name) == key->data.scalar.length)
				break;
		if (i == n && where)
			return fail(c, key, "unknown key '" CFG_QUOTE "' in %s",
				    name, where);
		if (i == n)
			return fail(c, key, "unknown key '" CFG_QUOTE "'",
				    name);
		if (seen & (1U << i))
			return fail(c, key, "duplicate key '%s'", name);
		seen |= 1U << i;
		if (node_is_null(val))
			continue;
		set |= 1U << i;
		if (lines)
			lines[i] = node_line(val);
		if (reader_of(keys[i]))
			ret = reader_of(keys[i])(c, keys[i]->key, val, obj);
		else if (keys[i]->type == XLB_SET_SECTION)
			ret = walk_section(c, keys[i], val, obj);
		else if (keys[i]->type == XLB_SET_CUSTOM)
			/* A bug: config/every_setting_is_read. */
			ret = fail(c, val, "%s: no reader for this setting",
				   name);
		else
			ret = node_set(c, name, val, keys[i], obj);
		if (ret)
			return ret;
	}
	for (i = 0; i < n; i++)
		if (keys[i]->required && !(set & (1U << i)))
			return fail(c, map, "missing key '%s' in %s",
				    keys[i]->key, where ? where : "the file");
	return 0;
}

/* A section without a reader of its own: its keys, stored in the struct
 * at the row's offset in obj. */
static int walk_section(struct cfg_ctx *c, const struct xlb_setting *s,
			yaml_node_t *val, void *obj)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%s%s", s->section,
		 *s->section ? "." : "", s->key);
	return walk_map(c, val, name, name, (char *)obj + s->offset, NULL);
}

/* The line where key of section was written, from walk_map()'s lines. */
static size_t key_line(const char *section, const char *key,
		       const size_t *lines)
{
	const struct xlb_setting *all;
	size_t total, j, i = 0;

	all = xlb_settings(&total);
	for (j = 0; j < total; j++) {
		if (strcmp(all[j].section, section))
			continue;
		if (!strcmp(all[j].key, key))
			return lines[i];
		i++;
	}
	return 0;
}

/* Order two addresses: family first, then bytes. */
static int ip_cmp(const struct xlb_ip *a, const struct xlb_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->a, &b->a, sizeof(a->a));
}

/* Key orders for find_dup(): a real by address, a VIP by service. */
static int real_key_cmp(const void *x, const void *y)
{
	const struct xlb_real_spec *a = x, *b = y;

	return ip_cmp(&a->ip, &b->ip);
}

static int vip_key_cmp(const void *x, const void *y)
{
	const struct xlb_vip_spec *a = x, *b = y;
	int r = ip_cmp(&a->svc.ip, &b->svc.ip);

	if (r)
		return r;
	if (a->svc.port != b->svc.port)
		return a->svc.port < b->svc.port ? -1 : 1;
	if (a->svc.proto != b->svc.proto)
		return a->svc.proto < b->svc.proto ? -1 : 1;
	return 0;
}

struct dup_order {
	int (*key_cmp)(const void *a, const void *b);
};

/* qsort_r() order of element pointers: by key, then by place. */
static int dup_ptr_cmp(const void *x, const void *y, void *arg)
{
	const void *a = *(const void *const *)x, *b = *(const void *const *)y;
	const struct dup_order *o = arg;
	int r = o->key_cmp(a, b);

	if (r)
		return r;
	return a < b ? -1 : a > b;
}

/*
 * The earliest element of an array that repeats one before it (*dup) and
 * the element it repeats (*first), in O(n log n): sorted by key and then
 * by position, equal keys form runs that start with their first
 * occurrence. *dup is NULL when every key is unique.
 */
static int find_dup(struct cfg_ctx *c, const void *base, size_t n, size_t size,
		    int (*key_cmp)(const void *, const void *),
		    const void **dup, const void **first)
{
	struct dup_order o = {.key_cmp = key_cmp};
	const void **p, *run;
	size_t i;

	*dup = NULL;
	if (n < 2)
		return 0;
	p = calloc(n, sizeof(*p));
	if (!p)
		return fail_nomem(c);
	for (i = 0; i < n; i++)
		p[i] = (const char *)base + i * size;
	qsort_r(p, n, sizeof(*p), dup_ptr_cmp, &o);
	run = p[0];
	for (i = 1; i < n; i++) {
		if (key_cmp(p[i], run)) {
			run = p[i];
			continue;
		}
		if (!*dup || p[i] < *dup) {
			*dup = p[i];
			*first = run;
		}
	}
	free(p);
	return 0;
}

/* A real listed twice in one VIP. */
static int check_dup_reals(struct cfg_ctx *c, const struct xlb_real_spec *r,
			   size_t n)
{
	const struct xlb_real_spec *dup, *first;
	const void *d, *f;
	char ip[XLB_IP_STRLEN];
	int ret;

	ret = find_dup(c, r, n, sizeof(*r), real_key_cmp, &d, &f);
	if (ret || !d)
		return ret;
	dup = d;
	first = f;
	return fail_at(c, (size_t)dup->line,
		       "duplicate real %s (first at line %d)",
		       xlb_ip_str(&dup->ip, ip, sizeof(ip)), first->line);
}

/* A VIP (address, port, protocol) listed twice. */
static int check_dup_vips(struct cfg_ctx *c, const struct xlb_vip_spec *v,
			  size_t n)
{
	const struct xlb_vip_spec *dup, *first;
	const void *d, *f;
	char svc[XLB_SERVICE_STRLEN];
	int ret;

	ret = find_dup(c, v, n, sizeof(*v), vip_key_cmp, &d, &f);
	if (ret || !d)
		return ret;
	dup = d;
	first = f;
	return fail_at(
		c, (size_t)dup->line, "duplicate VIP %s (first at line %d)",
		xlb_service_str(&dup->svc, svc, sizeof(svc)), first->line);
}

/* An address that can carry traffic: not unspecified, multicast or
 * the IPv4 broadcast address. */
static bool ip_is_usable(const struct xlb_ip *ip)
{
	static const struct xlb_addr zero;
	const uint8_t *b = (const uint8_t *)ip->a.addr;

	if (!memcmp(&ip->a, &zero, sizeof(zero)))
		return false;
	if (ip->family == AF_INET)
		return (b[0] & 0xf0) != 0xe0 && ip->a.addr[0] != 0xffffffff;
	return b[0] != 0xff;
}

/*
 * Check an interface name the way the kernel does (dev_valid_name): not
 * empty, shorter than IFNAMSIZ, not "." or "..", no '/', ':' or space.
 */
static int check_ifname(struct cfg_ctx *c, yaml_node_t *node, const char *s)
{
	size_t i, len = strlen(s);

	if (!len)
		return fail(c, node, "interfaces: empty interface name");
	if (len >= IFNAMSIZ)
		return fail(c, node,
			    "interfaces: name '" CFG_QUOTE
			    "' is longer than %d characters",
			    s, IFNAMSIZ - 1);
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ' ||
		    s[i] == 127)
			break;
	if (i < len || !strcmp(s, ".") || !strcmp(s, ".."))
		return fail(c, node,
			    "interfaces: '%s' is not a valid interface name",
			    s);
	return 0;
}

/* interfaces: a list of distinct interface names. */
static int parse_interfaces(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, void *obj)
{
	struct xlb_config *cfg = obj;
	size_t i, j, n;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val, "%s: expected a list, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);
		const char *name;

		if (node_is_null(item))
			return fail(c, item, "%s: empty entry", key);
		ret = node_text(c, key, item, "an interface name", &name);
		if (ret)
			return ret;
		if (cfg->n_interfaces == XLB_MAX_INTERFACES)
			return fail(c, item, "%s: too many, at most %d", key,
				    XLB_MAX_INTERFACES);
		ret = check_ifname(c, item, name);
		if (ret)
			return ret;
		for (j = 0; j < cfg->n_interfaces; j++)
			if (!strcmp(cfg->interfaces[j], name))
				return fail(c, item, "%s: '%s' is listed twice",
					    key, name);
		cfg->interfaces[cfg->n_interfaces] = strdup(name);
		if (!cfg->interfaces[cfg->n_interfaces])
			return fail_nomem(c);
		cfg->n_interfaces++;
	}
	return 0;
}

/* A list of distinct VLAN ids 1..4094 into a bitmap; key names it. */
static int vlan_ids(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		    uint64_t vids[XLB_VLAN_WORDS])
{
	uint32_t vid;
	size_t i, n;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val, "%s: expected a list, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);

		ret = node_u32(c, key, item, 1, 4094, &vid);
		if (ret)
			return ret;
		if (vids[vid / 64] & (1ULL << (vid % 64)))
			return fail(c, item, "%s: %u is listed twice", key,
				    vid);
		vids[vid / 64] |= 1ULL << (vid % 64);
	}
	return 0;
}

/*
 * vlans: the VLAN ids (1-4094) whose tagged frames are balanced. A list
 * is for every interface; a mapping of interface name to list, for each
 * interface named (check_vlans: one xlbd attaches to), the others then
 * balancing untagged frames only.
 */
static int parse_vlans(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		       void *obj)
{
	struct xlb_config *cfg = obj;
	struct xlb_vlan_spec *v;
	yaml_node_pair_t *pair;
	char where[64];
	const char *name;
	size_t j;
	int ret;

	if (val->type == YAML_SEQUENCE_NODE)
		return vlan_ids(c, key, val, cfg->vlans);
	if (val->type != YAML_MAPPING_NODE)
		return fail(c, val,
			    "%s: expected a list of VLAN ids or a mapping of "
			    "interface to list, got %s",
			    key, node_kind(val));
	for (pair = val->data.mapping.pairs.start;
	     pair < val->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_get(c, pair->key);
		yaml_node_t *ids = node_get(c, pair->value);

		ret = node_text(c, key, k, "an interface name", &name);
		if (ret)
			return ret;
		if (!name[0] || strlen(name) >= sizeof(v->ifname))
			return fail(c, k,
				    "%s: '" CFG_QUOTE
				    "' is not an interface name",
				    key, name);
		for (j = 0; j < cfg->n_vlan_ifs; j++)
			if (!strcmp(cfg->vlan_ifs[j].ifname, name))
				return fail(c, k, "%s: '%s' is named twice",
					    key, name);
		if (cfg->n_vlan_ifs == XLB_MAX_INTERFACES)
			return fail(c, k, "%s: too many interfaces, at most %d",
				    key, XLB_MAX_INTERFACES);
		v = &cfg->vlan_ifs[cfg->n_vlan_ifs++];
		memset(v, 0, sizeof(*v));
		strcpy(v->ifname, name);
		v->line = (int)node_line(k);
		/* An interface with nothing (null, []) is untagged only. */
		if (node_is_null(ids))
			continue;
		snprintf(where, sizeof(where), "%s: %s", key, name);
		ret = vlan_ids(c, where, ids, v->vids);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Once the whole file is read: every interface vlans names is one xlbd
 * attaches to (listed in interfaces).
 */
static int check_vlans(struct cfg_ctx *c)
{
	const struct xlb_config *cfg = c->cfg;
	const struct xlb_vlan_spec *v;
	size_t i, j;

	for (i = 0; i < cfg->n_vlan_ifs; i++) {
		v = &cfg->vlan_ifs[i];
		for (j = 0; j < cfg->n_interfaces; j++)
			if (!strcmp(cfg->interfaces[j], v->ifname))
				break;
		if (j == cfg->n_interfaces)
			return fail_at(c, (size_t)v->line,
				       "vlans: '%s' is not one of the "
				       "interfaces xlbd attaches to "
				       "(interfaces)",
				       v->ifname);
	}
	return 0;
}

const uint64_t *xlb_config_vlans(const struct xlb_config *cfg,
				 const char *ifname)
{
	size_t i;

	if (!cfg->n_vlan_ifs)
		return cfg->vlans;
	for (i = 0; i < cfg->n_vlan_ifs; i++)
		if (!strcmp(cfg->vlan_ifs[i].ifname, ifname))
			return cfg->vlan_ifs[i].vids;
	return NULL;
}

/*
 * A tunnel source prefix of one family: long enough for the data plane's
 * host mask, and without host bits (they come from the flow hash).
 */
static int parse_tun_prefix(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, int family, struct xlb_ip *ip,
			    int *plen)
{
	int min = (int)xlb_setting_find("tunnel_source", key)->min;
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	struct xlb_ip p;
	const char *s = NULL;
	int ret, len;

	ret = node_text(c, key, val, "a prefix", &s);
	if (ret)
		return ret;
	if (xlb_prefix_parse(s, &p, &len))
		return fail(c, val,
			    "tunnel_source.%s: invalid prefix '" CFG_QUOTE "'",
			    key, s);
	if (p.family != family)
		return fail(c, val,
			    "tunnel_source.%s: '" CFG_QUOTE
			    "' is not an %s prefix",
			    key, s, fam);
	if (len < min)
		return fail(c, val,
			    "tunnel_source.%s: prefix length %d is shorter "
			    "than %d",
			    key, len, min);
	if (xlb_prefix_has_host_bits(&p, len))
		return fail(c, val,
			    "tunnel_source.%s: '" CFG_QUOTE
			    "' has host bits set",
			    key, s);
	*ip = p;
	*plen = len;
	return 0;
}

/* tunnel_source.ipv4 */
static int parse_tun_v4(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			void *obj)
{
	struct xlb_config *cfg = obj;

	return parse_tun_prefix(c, key, val, AF_INET, &cfg->tun_src_v4,
				&cfg->tun_src_v4_plen);
}

/* tunnel_source.ipv6 */
static int parse_tun_v6(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			void *obj)
{
	struct xlb_config *cfg = obj;

	return parse_tun_prefix(c, key, val, AF_INET6, &cfg->tun_src_v6,
				&cfg->tun_src_v6_plen);
}

/* gateway_mac: a unicast MAC every frame is sent to. */
static int parse_gw_mac(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			void *obj)
{
	static const uint8_t zero[6];
	struct xlb_config *cfg = obj;
	uint8_t mac[6];
	const char *s = NULL;
	int ret;

	ret = node_text(c, key, val, "a MAC address", &s);
	if (ret)
		return ret;
	if (xlb_mac_parse(s, mac))
		return fail(c, val,
			    "%s: invalid MAC address '" CFG_QUOTE
			    "' (expected xx:xx:xx:xx:xx:xx)",
			    key, s);
	if ((mac[0] & 1) || !memcmp(mac, zero, sizeof(zero)))
		return fail(c, val, "%s: '%s' is not a unicast address", key,
			    s);
	memcpy(cfg->gw_mac, mac, sizeof(mac));
	cfg->has_gw_mac = true;
	return 0;
}

/* A real's address: any family, whatever the VIP's family (4in6, 6in4). */
static int parse_real_ip(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			 struct xlb_ip *ip)
{
	char msg[XLB_ERR_LEN];
	const char *s = NULL;
	int ret;

	ret = node_text(c, key, val, "an address", &s);
	if (ret)
		return ret;
	if (xlb_ip_parse(s, ip))
		return fail(c, val, "%s: invalid IP address '" CFG_QUOTE "'",
			    key, s);
	if (xlb_real_check(ip, c->vip ? &c->vip->svc.ip : NULL, msg,
			   sizeof(msg)))
		return fail(c, val, "%s: %s", key, msg);
	return 0;
}

/*
 * Health checks. A VIP's `health` is the check of its reals; a real's
 * `health` starts from its VIP's and changes the keys it sets. Values
 * left out stay 0 in struct xlb_check_spec, which means the default.
 */

/* A health mapping being read; walk_map() stores into spec, first. */
struct check_parse {
	struct xlb_check_spec spec;
	bool in_real;		    /* a real's: may set an address */
	size_t lines[CFG_MAX_KEYS]; /* where each key was written */
};

/* Where key of a health mapping was written; 0: not here. */
static size_t ck_line(const struct check_parse *p, const char *key)
{
	return key_line("health", key, p->lines);
}

/* health.address: a real's check may go elsewhere than the real. */
static int parse_check_address(struct cfg_ctx *c, const char *key,
			       yaml_node_t *val, void *obj)
{
	struct check_parse *p = obj;
	const char *s = NULL;
	int ret;

	if (!p->in_real)
		return fail(c, val,
			    "%s: only a real's health may set an address", key);
	ret = node_text(c, key, val, "an address", &s);
	if (ret)
		return ret;
	if (xlb_ip_parse(s, &p->spec.addr))
		return fail(c, val, "%s: invalid IP address '" CFG_QUOTE "'",
			    key, s);
	if (!ip_is_usable(&p->spec.addr))
		return fail(c, val,
			    "%s: %s cannot be checked (unspecified, "
			    "multicast or broadcast)",
			    key, s);
	return 0;
}

/*
 * A text of a check into a buffer of XLB_CHECK_TEXT_LEN. A token (path,
 * host) goes into the request as it is: no spaces, no control characters.
 */
static int check_text(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		      bool token, char *buf)
{
	const char *s = NULL;
	size_t i;
	int ret;

	ret = node_text(c, key, val, "a string", &s);
	if (ret)
		return ret;
	if (strlen(s) >= XLB_CHECK_TEXT_LEN)
		return fail(c, val, "%s: longer than %d characters", key,
			    XLB_CHECK_TEXT_LEN - 1);
	for (i = 0; token && s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return fail(c, val,
				    "%s: '" CFG_QUOTE
				    "' contains spaces or control characters",
				    key, s);
	if (token && !s[0])
		return fail(c, val, "%s: empty", key);
	strcpy(buf, s);
	return 0;
}

/* health.path: what HTTP checks ask for. */
static int parse_check_path(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, void *obj)
{
	struct check_parse *p = obj;
	int ret;

	ret = check_text(c, key, val, true, p->spec.http_path);
	if (!ret && p->spec.http_path[0] != '/')
		return fail(c, val,
			    "%s: '" CFG_QUOTE "' does not start with '/'", key,
			    p->spec.http_path);
	return ret;
}

/* health.host: the Host header of HTTP checks. */
static int parse_check_host(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, void *obj)
{
	struct check_parse *p = obj;

	return check_text(c, key, val, true, p->spec.http_host);
}

/* health.codes: the HTTP status codes that count as healthy. */
static int parse_check_codes(struct cfg_ctx *c, const char *key,
			     yaml_node_t *val, void *obj)
{
	struct check_parse *p = obj;
	size_t i, j, n;
	uint32_t code;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val, "%s: expected a list, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	if (!n)
		return fail(c, val, "%s: empty list", key);
	p->spec.n_http_codes = 0;
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);

		if (i == XLB_CHECK_MAX_CODES)
			return fail(c, item, "%s: at most %d status codes", key,
				    XLB_CHECK_MAX_CODES);
		ret = node_u32(c, key, item, XLB_CHECK_MIN_HTTP_CODE,
			       XLB_CHECK_MAX_HTTP_CODE, &code);
		if (ret)
			return ret;
		for (j = 0; j < i; j++)
			if (p->spec.http_codes[j] == code)
				return fail(c, item, "%s: %u is listed twice",
					    key, code);
		p->spec.http_codes[i] = (uint16_t)code;
		p->spec.n_http_codes++;
	}
	return 0;
}

/* health.send: the payload of UDP checks. */
static int parse_check_send(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, void *obj)
{
	struct check_parse *p = obj;

	return check_text(c, key, val, false, p->spec.udp_send);
}

/* health.expect: how a UDP reply must start. */
static int parse_check_expect(struct cfg_ctx *c, const char *key,
			      yaml_node_t *val, void *obj)
{
	struct check_parse *p = obj;

	return check_text(c, key, val, false, p->spec.udp_expect);
}

/*
 * The rules of a health mapping as a whole, once every key is read: a
 * type, settings that the type uses, a timeout shorter than the interval
 * (defaults included), and a port when the VIP has none.
 */
static int check_finish(struct cfg_ctx *c, yaml_node_t *node,
			struct check_parse *p)
{
	const struct xlb_setting *all, *type;
	struct xlb_check_spec *s = &p->spec;
	size_t i, n, line, total;
	uint32_t interval;

	all = xlb_settings(&total);
	type = xlb_setting_find("health", "type");
	if (!ck_line(p, "type") && s->type == XLB_CHECK_NONE)
		return fail(c, node, "missing key 'type' in health%s",
			    p->in_real ? " (its VIP has no check)" : "");
	for (i = 0, n = 0; i < total; i++) {
		if (strcmp(all[i].section, "health"))
			continue;
		line = p->lines[n++];
		if (!line || &all[i] == type)
			continue;
		if (s->type == XLB_CHECK_NONE)
			return fail_at(c, line,
				       "health: a check of type none "
				       "takes no other settings");
		if (all[i].for_check && s->type != all[i].for_check)
			return fail_at(
				c, line, "%s: only for %s checks, not %s",
				all[i].key,
				xlb_setting_choice_name(type, all[i].for_check),
				xlb_setting_choice_name(type, s->type));
	}
	if (s->type == XLB_CHECK_NONE) {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	interval = s->interval_ms ? s->interval_ms
				  : XLB_CHECK_DEFAULT_INTERVAL_MS;
	if (s->timeout_ms && s->timeout_ms >= interval) {
		line = ck_line(p, "interval") > ck_line(p, "timeout")
			       ? ck_line(p, "interval")
			       : ck_line(p, "timeout");
		return fail_at(c, line,
			       "health: timeout %u ms is not shorter than the "
			       "interval %u ms",
			       s->timeout_ms, interval);
	}
	if (c->vip->svc.ip.family && !c->vip->svc.port && !s->port)
		return fail(c, node,
			    "health: a check of an any-port VIP needs a port");
	if (s->through == XLB_CHECK_PATH_DATAPATH && s->addr.family) {
		line = ck_line(p, "through") > ck_line(p, "address")
			       ? ck_line(p, "through")
			       : ck_line(p, "address");
		return fail_at(c, line ? line : (size_t)node_line(node),
			       "health: a check through the data path goes to "
			       "the real: it cannot name an address");
	}
	/* What another type left behind (a real's check changing its
	 * VIP's type) means nothing here. */
	if (s->type != XLB_CHECK_HTTP) {
		memset(s->http_path, 0, sizeof(s->http_path));
		memset(s->http_host, 0, sizeof(s->http_host));
		memset(s->http_codes, 0, sizeof(s->http_codes));
		s->n_http_codes = 0;
		s->http_method = XLB_HTTP_GET;
	}
	if (s->type != XLB_CHECK_UDP) {
		memset(s->udp_send, 0, sizeof(s->udp_send));
		memset(s->udp_expect, 0, sizeof(s->udp_expect));
	}
	return 0;
}

/*
 * A health value: a type alone (`health: tcp`, `health: none`) or a
 * mapping of settings. A real's starts from its VIP's check.
 */
static int parse_check(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		       bool in_real, struct xlb_check_spec *out)
{
	struct check_parse p;
	uint32_t type;
	int ret;

	memset(&p, 0, sizeof(p));
	p.in_real = in_real;
	if (in_real)
		p.spec = c->vip->check;
	if (val->type == YAML_SCALAR_NODE) {
		p.lines[0] = node_line(val); /* type, the first key */
		ret = node_value(c, key, val,
				 xlb_setting_find("health", "type"), &type);
		p.spec.type = (enum xlb_check_type)type;
	} else if (val->type == YAML_MAPPING_NODE) {
		ret = walk_map(c, val, key, "health", &p, p.lines);
	} else {
		return fail(c, val,
			    "%s: expected a check type or a mapping, got %s",
			    key, node_kind(val));
	}
	if (!ret)
		ret = check_finish(c, val, &p);
	if (!ret)
		*out = p.spec;
	return ret;
}

/* reals[].health: this real's own check. */
static int parse_real_health(struct cfg_ctx *c, const char *key,
			     yaml_node_t *val, void *obj)
{
	struct xlb_real_spec *real = obj;
	int ret;

	ret = parse_check(c, key, val, true, &real->check);
	if (!ret)
		real->has_check = true;
	return ret;
}

/* reals[].address */
static int parse_real_address(struct cfg_ctx *c, const char *key,
			      yaml_node_t *val, void *obj)
{
	struct xlb_real_spec *real = obj;

	return parse_real_ip(c, key, val, &real->ip);
}

/* One entry of reals: a bare address, or a mapping {address, weight}. */
static int parse_real(struct cfg_ctx *c, const char *key, yaml_node_t *item,
		      struct xlb_real_spec *real)
{
	size_t lines[CFG_MAX_KEYS] = {0};
	int ret;

	xlb_settings_defaults("reals", real);
	real->line = (int)node_line(item);
	if (node_is_null(item))
		return fail(c, item, "%s: empty entry", key);
	if (item->type == YAML_SCALAR_NODE)
		return parse_real_ip(c, key, item, &real->ip);
	if (item->type != YAML_MAPPING_NODE)
		return fail(c, item,
			    "%s: expected an address or a mapping, got %s", key,
			    node_kind(item));
	ret = walk_map(c, item, "a real", "reals", real, lines);
	real->has_drain = key_line("reals", "drain", lines) != 0;
	return ret;
}

/*
 * reals: every real of one VIP, distinct. The reals of all VIPs together
 * must fit in the reals map, whose id 0 is reserved.
 */
static int parse_reals(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		       void *obj)
{
	size_t room = c->cfg->max_reals - 1 - c->total_reals, i, n;
	struct xlb_vip_spec *vip = obj;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val, "%s: expected a list, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	if (!n)
		return 0;
	/* Allocate no more than can be accepted. */
	vip->reals = calloc(n < room ? n : room + 1, sizeof(*vip->reals));
	if (!vip->reals)
		return fail_nomem(c);
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);

		if (i == room)
			return fail(c, item,
				    "too many reals: at most %u in all VIPs "
				    "together (max_reals - 1)",
				    c->cfg->max_reals - 1);
		ret = parse_real(c, key, item, &vip->reals[i]);
		if (ret)
			return ret;
		vip->n_reals++;
	}
	c->total_reals += n;
	return check_dup_reals(c, vip->reals, vip->n_reals);
}

/* vips[].vip: the service, "ADDR[:PORT]/PROTO". */
static int parse_vip_service(struct cfg_ctx *c, const char *key,
			     yaml_node_t *val, void *obj)
{
	struct xlb_vip_spec *vip = obj;
	char msg[XLB_ERR_LEN];
	const char *s = NULL;
	int ret;

	/* Unquoted, "[2001:db8::1]/tcp" reads as a list and then text. */
	if (val->type == YAML_SEQUENCE_NODE)
		return fail(c, val,
			    "%s: expected ADDR[:PORT]/PROTO, got a list "
			    "(write IPv6 VIPs in quotes)",
			    key);
	ret = node_text(c, key, val, "ADDR[:PORT]/PROTO", &s);
	if (ret)
		return ret;
	if (xlb_service_parse(s, &vip->svc))
		return fail(c, val,
			    "%s: invalid VIP '" CFG_QUOTE
			    "' (expected ADDR[:PORT]/tcp|udp, IPv6 in "
			    "brackets)",
			    key, s);
	if (xlb_addr_check(&vip->svc.ip, XLB_ROLE_VIP, msg, sizeof(msg)))
		return fail(c, val, "%s: %s", key, msg);
	return 0;
}

/* vips[].health: the check of the VIP's reals. */
static int parse_vip_health(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, void *obj)
{
	struct xlb_vip_spec *vip = obj;

	return parse_check(c, key, val, false, &vip->check);
}

/*
 * Read one key of a mapping ahead of the others, if it is there with a
 * value; walk_map() reads it again in its turn (same result) and reports
 * what is wrong with the mapping itself.
 */
static int parse_early(struct cfg_ctx *c, yaml_node_t *map, const char *name,
		       int (*parse)(struct cfg_ctx *c, const char *key,
				    yaml_node_t *val, void *obj),
		       void *obj)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE)
		return 0;
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = node_get(c, pair->key);
		yaml_node_t *val = node_get(c, pair->value);

		if (key->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)key->data.scalar.value, name) ||
		    strlen(name) != key->data.scalar.length)
			continue;
		return node_is_null(val) ? 0 : parse(c, name, val, obj);
	}
	return 0;
}

/*
 * One entry of vips. Every real with a weight needs at least one slot of
 * its own in the ring, so there cannot be more of them than slots.
 */
static int parse_vip(struct cfg_ctx *c, yaml_node_t *item,
		     struct xlb_vip_spec *vip)
{
	size_t i, weighted = 0, lines[CFG_MAX_KEYS] = {0}, line;
	char msg[XLB_ERR_LEN];
	const char *key;
	int ret;

	xlb_settings_defaults("vips", vip);
	vip->line = (int)node_line(item);
	c->vip = vip;
	/* The service and the VIP's check first, wherever they are
	 * written: the checks of its reals start from them. */
	ret = parse_early(c, item, "vip", parse_vip_service, vip);
	if (!ret)
		ret = parse_early(c, item, "health", parse_vip_health, vip);
	if (!ret)
		ret = walk_map(c, item, "a VIP", "vips", vip, lines);
	if (ret)
		return ret;
	for (i = 0; i < vip->n_reals; i++)
		weighted += vip->reals[i].weight > 0;
	line = key_line("vips", "table_size", lines);
	if (weighted > vip->table_size)
		return fail_at(c, line ? line : (size_t)vip->line,
			       "table_size %u is smaller than the number of "
			       "reals with a weight (%zu)",
			       vip->table_size, weighted);
	if (xlb_vip_rules(vip->svc.proto, vip->mode, vip->mss, vip->gue, "",
			  &key, msg, sizeof(msg)))
		return fail_at(c, key_line("vips", key, lines), "%s", msg);
	return 0;
}

/* vips: a list of distinct VIPs, no more than max_vips. */
static int parse_vips(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		      void *obj)
{
	struct xlb_config *cfg = obj;
	size_t i, n;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val, "%s: expected a list, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	if (!n)
		return 0;
	cfg->vips = calloc(n < cfg->max_vips ? n : cfg->max_vips,
			   sizeof(*cfg->vips));
	if (!cfg->vips)
		return fail_nomem(c);
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);

		if (i == cfg->max_vips)
			return fail(c, item, "too many VIPs: max_vips is %u",
				    cfg->max_vips);
		if (item->type != YAML_MAPPING_NODE)
			return fail(c, item,
				    "%s: expected a mapping for each VIP, "
				    "got %s",
				    key, node_kind(item));
		/* Count it first: its reals are freed with it on error. */
		cfg->n_vips++;
		ret = parse_vip(c, item, &cfg->vips[i]);
		if (ret)
			return ret;
	}
	return check_dup_vips(c, cfg->vips, cfg->n_vips);
}

/* A port number written after an address: digits, 1..65535. */
static bool port_text(const char *s, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i == 5)
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (!i || !v || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* A multicast address, or the IPv4 broadcast address. */
static bool ip_is_group(const struct xlb_ip *ip)
{
	const uint8_t *b = (const uint8_t *)ip->a.addr;

	if (ip->family == AF_INET)
		return (b[0] & 0xf0) == 0xe0 || ip->a.addr[0] == 0xffffffff;
	return b[0] == 0xff;
}

/*
 * metrics: where /metrics is served, "ADDR:PORT" with IPv6 in brackets,
 * or off. Kept in the canonical text form of the address.
 */
static int parse_metrics(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			 void *obj)
{
	struct xlb_config *cfg = obj;
	const char *s = NULL, *colon, *a;
	char addr[XLB_IP_STRLEN];
	struct xlb_ip ip;
	uint16_t port;
	bool bracket;
	size_t len;
	int ret;

	if (val->type == YAML_SEQUENCE_NODE)
		return fail(c, val,
			    "%s: expected ADDR:PORT or off, got a list (write "
			    "IPv6 addresses in quotes: \"[::1]:9617\")",
			    key);
	ret = node_text(c, key, val, "ADDR:PORT or off", &s);
	if (ret)
		return ret;
	if (!strcmp(s, "off")) {
		cfg->metrics_listen[0] = '\0';
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon)
		return fail(c, val,
			    "%s: expected ADDR:PORT or off, got '" CFG_QUOTE
			    "'",
			    key, s);
	a = s;
	len = (size_t)(colon - s);
	bracket = s[0] == '[';
	if (bracket) {
		/* "[v6]:port": the address between the brackets. */
		len = len >= 3 && s[len - 1] == ']' ? len - 2 : 0;
		a++;
	}
	if (len && len < sizeof(addr)) {
		memcpy(addr, a, len);
		addr[len] = '\0';
	}
	if (!len || len >= sizeof(addr) || xlb_ip_parse(addr, &ip) ||
	    (ip.family == AF_INET6) != bracket)
		return fail(c, val,
			    "%s: invalid address in '" CFG_QUOTE
			    "' (IPv6 in brackets: \"[::1]:9617\")",
			    key, s);
	if (!port_text(colon + 1, &port))
		return fail(c, val,
			    "%s: invalid port in '" CFG_QUOTE
			    "' (expected 1..65535)",
			    key, s);
	if (ip_is_group(&ip))
		return fail(c, val,
			    "%s: %s is a multicast or broadcast address", key,
			    addr);
	xlb_ip_str(&ip, addr, sizeof(addr));
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen),
		 bracket ? "[%s]:%u" : "%s:%u", addr, port);
	return 0;
}

/* A CPU number of a CPU list: digits, 0..CFG_MAX_CPU. */
static const char *cpu_number(const char *s, uint32_t *cpu)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint32_t)(s[i] - '0');
		if (v > CFG_MAX_CPU)
			return NULL;
	}
	*cpu = v;
	return i ? s + i : NULL;
}

/*
 * control_cpus: the CPUs xlbd's threads may run on, as a CPU list:
 * "N" and "N-M" (N <= M) items separated by commas, CPUs 0..1023.
 */
static int parse_control_cpus(struct cfg_ctx *c, const char *key,
			      yaml_node_t *val, void *obj)
{
	struct xlb_config *cfg = obj;
	const char *s = NULL, *p;
	uint32_t a, b;
	int ret;

	ret = node_text(c, key, val, "a CPU list like 0-1,4", &s);
	if (ret)
		return ret;
	if (strlen(s) >= sizeof(cfg->control_cpus))
		return fail(c, val, "%s: longer than %zu characters", key,
			    sizeof(cfg->control_cpus) - 1);
	for (p = s;; p++) {
		p = cpu_number(p, &a);
		b = a;
		if (p && *p == '-')
			p = cpu_number(p + 1, &b);
		if (!p || (*p && *p != ','))
			return fail(c, val,
				    "%s: invalid CPU list '" CFG_QUOTE
				    "' (expected CPUs 0..%d and ranges, like "
				    "0-1,4)",
				    key, s, CFG_MAX_CPU);
		if (a > b)
			return fail(c, val,
				    "%s: range %u-%u in '" CFG_QUOTE
				    "' runs backwards",
				    key, a, b, s);
		if (!*p)
			break;
	}
	strcpy(cfg->control_cpus, s);
	return 0;
}

/* A family's name in messages. */
static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* Addresses of one family in the local pool. */
static size_t laddrs_of(const struct xlb_nat_config *nat, int family)
{
	size_t i, n = 0;

	for (i = 0; i < nat->n_laddrs; i++)
		n += nat->laddrs[i].family == family;
	return n;
}

/*
 * A list of local (SNAT) addresses, IPv4 and IPv6, distinct, at most
 * XLB_NAT_MAX_LADDRS of each family; lines[i] gets where out[i] was.
 */
static int parse_addr_list(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			   struct xlb_ip *out, size_t *n_out, size_t *lines)
{
	char buf[XLB_IP_STRLEN], msg[XLB_ERR_LEN];
	struct xlb_ip ip;
	const char *s = NULL;
	size_t i, j, n, fam;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val,
			    "%s: expected a list of addresses, got %s (write "
			    "IPv6 addresses in quotes)",
			    key, node_kind(val));
	n = seq_len(val);
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);

		if (node_is_null(item))
			return fail(c, item, "%s: empty entry", key);
		ret = node_text(c, key, item, "an address", &s);
		if (ret)
			return ret;
		if (xlb_ip_parse(s, &ip))
			return fail(c, item,
				    "%s: invalid IP address '" CFG_QUOTE "'",
				    key, s);
		if (xlb_addr_check(&ip, XLB_ROLE_LADDR, msg, sizeof(msg)))
			return fail(c, item, "%s: %s", key, msg);
		fam = 0;
		for (j = 0; j < *n_out; j++) {
			if (xlb_ip_equal(&out[j], &ip))
				return fail(c, item,
					    "%s: %s is listed twice (first at "
					    "line %zu)",
					    key,
					    xlb_ip_str(&ip, buf, sizeof(buf)),
					    lines[j]);
			fam += out[j].family == ip.family;
		}
		if (fam == XLB_NAT_MAX_LADDRS)
			return fail(c, item, "%s: at most %d %s addresses", key,
				    XLB_NAT_MAX_LADDRS, family_name(ip.family));
		lines[*n_out] = node_line(item);
		out[(*n_out)++] = ip;
	}
	return 0;
}

/* fullnat.local_addresses: the node's SNAT pool. */
static int parse_nat_laddrs(struct cfg_ctx *c, const char *key,
			    yaml_node_t *val, void *obj)
{
	struct xlb_nat_config *nat = obj;

	return parse_addr_list(c, key, val, nat->laddrs, &nat->n_laddrs,
			       c->laddr_lines);
}

/* A port of a range: digits, 1..65535. */
static const char *range_port(const char *s, uint32_t *port)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint32_t)(s[i] - '0');
		if (v > 65535)
			return NULL;
	}
	*port = v;
	return i && v ? s + i : NULL;
}

/* fullnat.ports: "MIN-MAX", the local ports split between the CPUs. */
static int parse_nat_ports(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			   void *obj)
{
	struct xlb_nat_config *nat = obj;
	const char *s = NULL, *p;
	uint32_t lo = 0, hi = 0;
	int ret;

	ret = node_text(c, key, val, "a port range MIN-MAX", &s);
	if (ret)
		return ret;
	p = range_port(s, &lo);
	if (p && *p == '-')
		p = range_port(p + 1, &hi);
	else
		p = NULL;
	if (!p || *p)
		return fail(c, val,
			    "%s: expected a port range MIN-MAX within "
			    "1..65535, got '" CFG_QUOTE "'",
			    key, s);
	if (lo > hi)
		return fail(c, val, "%s: range %u-%u runs backwards", key, lo,
			    hi);
	nat->port_min = (uint16_t)lo;
	nat->port_max = (uint16_t)hi;
	return 0;
}

/*
 * The rules between VIPs and the local pool, once the whole file is
 * read (either may come first): a fullnat VIP's reals have its family
 * and the pool has an address of it; no local address is a VIP's.
 */
static int check_fullnat(struct cfg_ctx *c)
{
	const struct xlb_config *cfg = c->cfg;
	char a[XLB_IP_STRLEN], b[XLB_SERVICE_STRLEN];
	const struct xlb_vip_spec *v;
	const struct xlb_real_spec *r;
	size_t i, j;

	for (i = 0; i < cfg->n_vips; i++) {
		v = &cfg->vips[i];
		if (v->mode != XLB_MODE_FULLNAT)
			continue;
		for (j = 0; j < v->n_reals; j++) {
			r = &v->reals[j];
			if (r->ip.family != v->svc.ip.family)
				return fail_at(
					c, (size_t)r->line,
					"real %s: the reals of fullnat VIP %s "
					"must be %s like it",
					xlb_ip_str(&r->ip, a, sizeof(a)),
					xlb_service_str(&v->svc, b, sizeof(b)),
					family_name(v->svc.ip.family));
		}
		if (!laddrs_of(&cfg->nat, v->svc.ip.family))
			return fail_at(c, (size_t)v->line,
				       "VIP %s is fullnat, but "
				       "fullnat.local_addresses has no %s "
				       "address",
				       xlb_service_str(&v->svc, b, sizeof(b)),
				       family_name(v->svc.ip.family));
	}
	for (i = 0; i < cfg->nat.n_laddrs; i++)
		for (j = 0; j < cfg->n_vips; j++)
			if (xlb_ip_equal(&cfg->nat.laddrs[i],
					 &cfg->vips[j].svc.ip))
				return fail_at(
					c, c->laddr_lines[i],
					"local address %s is also the address "
					"of VIP %s (line %d)",
					xlb_ip_str(&cfg->nat.laddrs[i], a,
						   sizeof(a)),
					xlb_service_str(&cfg->vips[j].svc, b,
							sizeof(b)),
					cfg->vips[j].line);
	return 0;
}

/* A name made of letters, digits, '.', '_' and '-', shorter than size. */
static int parse_name(struct cfg_ctx *c, const char *key, yaml_node_t *val,
		      char *buf, size_t size)
{
	const struct xlb_setting set = {.type = XLB_SET_NAME, .size = size};

	return node_set(c, key, val, &set, buf);
}

/* routes.watch: the routing daemons whose pid files xlbd watches. */
static int parse_routes_watch(struct cfg_ctx *c, const char *key,
			      yaml_node_t *val, void *obj)
{
	struct xlb_routes_config *r = obj;
	size_t i, j, n;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val,
			    "%s: expected a list of daemon names, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	r->n_watch = 0;
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);

		if (r->n_watch == XLB_MAX_WATCH)
			return fail(c, item, "%s: at most %d daemons", key,
				    XLB_MAX_WATCH);
		ret = parse_name(c, key, item, r->watch[r->n_watch],
				 XLB_DAEMON_NAME_LEN);
		if (ret)
			return ret;
		for (j = 0; j < r->n_watch; j++)
			if (!strcmp(r->watch[j], r->watch[r->n_watch]))
				return fail(c, item, "%s: '%s' is listed twice",
					    key, r->watch[j]);
		r->n_watch++;
	}
	return 0;
}

/* routes: announce through FRR (docs/CLUSTER.md). */
static int parse_routes(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			void *obj)
{
	struct xlb_config *cfg = obj;
	size_t lines[CFG_MAX_KEYS] = {0};
	int ret;

	cfg->routes.enabled = true;
	ret = walk_map(c, val, key, key, &cfg->routes, lines);
	if (ret)
		return ret;
	if (cfg->routes.table == 255)
		return fail_at(c, key_line(key, "table", lines),
			       "table: 255 is the kernel's local table");
	if (cfg->routes.backup_metric <= cfg->routes.metric)
		return fail(c, val,
			    "%s: backup_metric (%u) must be larger than metric "
			    "(%u): backups must lose to the owner's route",
			    key, cfg->routes.backup_metric, cfg->routes.metric);
	return 0;
}

static int parse_node_address(struct cfg_ctx *c, const char *key,
			      yaml_node_t *val, void *obj)
{
	struct xlb_node_spec *n = obj;
	const char *s = NULL;
	int ret;

	ret = node_text(c, key, val, "an address", &s);
	if (ret)
		return ret;
	if (xlb_ip_parse(s, &n->addr) || !ip_is_usable(&n->addr))
		return fail(c, val,
			    "%s: '" CFG_QUOTE "' is not a unicast address", key,
			    s);
	return 0;
}

static int parse_node_laddrs(struct cfg_ctx *c, const char *key,
			     yaml_node_t *val, void *obj)
{
	struct xlb_node_spec *n = obj;

	return parse_addr_list(c, key, val, n->laddrs, &n->n_laddrs,
			       c->node_laddr_lines);
}

/* cluster.nodes: every node of the cluster, this one included. */
static int parse_cluster_nodes(struct cfg_ctx *c, const char *key,
			       yaml_node_t *val, void *obj)
{
	struct xlb_cluster_config *cl = obj;
	size_t i, j, n;
	int ret;

	if (val->type != YAML_SEQUENCE_NODE)
		return fail(c, val, "%s: expected a list of nodes, got %s", key,
			    node_kind(val));
	n = seq_len(val);
	if (n > XLB_MAX_NODES)
		return fail(c, val, "%s: at most %d nodes", key, XLB_MAX_NODES);
	for (i = 0; i < n; i++) {
		yaml_node_t *item = seq_item(c, val, i);
		struct xlb_node_spec *nd = &cl->nodes[i];

		memset(nd, 0, sizeof(*nd));
		nd->line = (int)node_line(item);
		ret = walk_map(c, item, key, "cluster.nodes", nd, NULL);
		if (ret)
			return ret;
		for (j = 0; j < i; j++) {
			if (!strcmp(cl->nodes[j].name, nd->name))
				return fail(c, item,
					    "%s: node name '%s' is used twice "
					    "(first at line %d)",
					    key, nd->name, cl->nodes[j].line);
		}
		cl->n_nodes = i + 1;
	}
	return 0;
}

/* cluster: the nodes, session sync and node lifecycle. */
static int parse_cluster(struct cfg_ctx *c, const char *key, yaml_node_t *val,
			 void *obj)
{
	struct xlb_config *cfg = obj;

	cfg->cluster.enabled = true;
	cfg->cluster.line = (int)node_line(val);
	return walk_map(c, val, key, key, &cfg->cluster, NULL);
}

/* Is ip one of the n addresses? */
static bool ip_in(const struct xlb_ip *ip, const struct xlb_ip *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (xlb_ip_equal(ip, &set[i]))
			return true;
	return false;
}

/*
 * The cluster as a whole, once the file is read: this node is listed,
 * sync endpoints are distinct, and no local address belongs to two
 * nodes or is a VIP's (a reply must have exactly one owner). This
 * node's pool is fullnat.local_addresses, and its entry, when it lists
 * one, must list the same.
 */
static int check_cluster(struct cfg_ctx *c)
{
	struct xlb_cluster_config *cl = &c->cfg->cluster;
	const struct xlb_nat_config *nat = &c->cfg->nat;
	char a[XLB_IP_STRLEN], b[XLB_SERVICE_STRLEN];
	struct xlb_node_spec *n, *m;
	size_t i, j, k, v;
	bool found = false;

	if (!cl->enabled)
		return 0;
	for (i = 0; i < cl->n_nodes; i++) {
		n = &cl->nodes[i];
		if (!n->port)
			n->port = cl->port;
		if (!strcmp(n->name, cl->node)) {
			cl->self = i;
			found = true;
		}
	}
	if (!found)
		return fail_at(c, (size_t)cl->line,
			       "cluster: node '%s' is not in cluster.nodes",
			       cl->node);
	if (cl->n_nodes < 2)
		return fail_at(c, (size_t)cl->line,
			       "cluster: nodes must list this node and at "
			       "least one peer");
	n = &cl->nodes[cl->self];
	if (n->n_laddrs) {
		for (i = 0; i < n->n_laddrs; i++)
			if (!ip_in(&n->laddrs[i], nat->laddrs, nat->n_laddrs))
				return fail_at(
					c, (size_t)n->line,
					"cluster: node %s lists local address "
					"%s, which fullnat.local_addresses "
					"does not",
					n->name,
					xlb_ip_str(&n->laddrs[i], a,
						   sizeof(a)));
		for (i = 0; i < nat->n_laddrs; i++)
			if (!ip_in(&nat->laddrs[i], n->laddrs, n->n_laddrs))
				return fail_at(
					c, c->laddr_lines[i],
					"local address %s is not in this "
					"node's (%s) entry of cluster.nodes",
					xlb_ip_str(&nat->laddrs[i], a,
						   sizeof(a)),
					n->name);
	} else {
		memcpy(n->laddrs, nat->laddrs, sizeof(n->laddrs));
		n->n_laddrs = nat->n_laddrs;
	}
	for (i = 0; i < cl->n_nodes; i++) {
		n = &cl->nodes[i];
		for (j = i + 1; j < cl->n_nodes; j++) {
			m = &cl->nodes[j];
			if (xlb_ip_equal(&n->addr, &m->addr) &&
			    n->port == m->port)
				return fail_at(
					c, (size_t)m->line,
					"cluster: nodes %s and %s both use "
					"%s port %u for sync",
					n->name, m->name,
					xlb_ip_str(&m->addr, a, sizeof(a)),
					m->port);
			for (k = 0; k < m->n_laddrs; k++)
				if (ip_in(&m->laddrs[k], n->laddrs,
					  n->n_laddrs))
					return fail_at(
						c, (size_t)m->line,
						"cluster: local address %s "
						"is in the pools of both %s "
						"and %s: pools must not "
						"collide",
						xlb_ip_str(&m->laddrs[k], a,
							   sizeof(a)),
						n->name, m->name);
		}
		for (k = 0; k < n->n_laddrs; k++)
			for (v = 0; v < c->cfg->n_vips; v++)
				if (xlb_ip_equal(&n->laddrs[k],
						 &c->cfg->vips[v].svc.ip))
					return fail_at(
						c, (size_t)n->line,
						"cluster: local address %s of "
						"node %s is also the address "
						"of VIP %s",
						xlb_ip_str(&n->laddrs[k], a,
							   sizeof(a)),
						n->name,
						xlb_service_str(
							&c->cfg->vips[v].svc, b,
							sizeof(b)));
	}
	return 0;
}

/* The readers of the settings that are not plain values. */
static const struct {
	const char *section, *key;
	cfg_reader read;
} readers[] = {
	{"", "interfaces", parse_interfaces},
	{"", "vlans", parse_vlans},
	{"tunnel_source", "ipv4", parse_tun_v4},
	{"tunnel_source", "ipv6", parse_tun_v6},
	{"", "gateway_mac", parse_gw_mac},
	{"", "metrics", parse_metrics},
	{"", "control_cpus", parse_control_cpus},
	{"fullnat", "local_addresses", parse_nat_laddrs},
	{"fullnat", "ports", parse_nat_ports},
	{"", "routes", parse_routes},
	{"routes", "watch", parse_routes_watch},
	{"", "cluster", parse_cluster},
	{"cluster", "nodes", parse_cluster_nodes},
	{"cluster.nodes", "address", parse_node_address},
	{"cluster.nodes", "local_addresses", parse_node_laddrs},
	{"", "vips", parse_vips},
	{"vips", "vip", parse_vip_service},
	{"vips", "reals", parse_reals},
	{"vips", "health", parse_vip_health},
	{"reals", "address", parse_real_address},
	{"reals", "health", parse_real_health},
	{"health", "address", parse_check_address},
	{"health", "path", parse_check_path},
	{"health", "host", parse_check_host},
	{"health", "codes", parse_check_codes},
	{"health", "send", parse_check_send},
	{"health", "expect", parse_check_expect},
};

static cfg_reader reader_of(const struct xlb_setting *s)
{
	size_t i;

	for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		if (!strcmp(readers[i].section, s->section) &&
		    !strcmp(readers[i].key, s->key))
			return readers[i].read;
	return NULL;
}

/*
 * The top-level mapping. max_vips and max_reals are read first, wherever
 * they are written, because they bound the lists read after them.
 */
static int parse_root(struct cfg_ctx *c, yaml_node_t *root)
{
	const struct xlb_setting *set;
	yaml_node_pair_t *pair;
	uint32_t v;
	int ret;

	if (node_is_null(root))
		return 0;
	if (root->type == YAML_MAPPING_NODE) {
		for (pair = root->data.mapping.pairs.start;
		     pair < root->data.mapping.pairs.top; pair++) {
			yaml_node_t *key = node_get(c, pair->key);
			yaml_node_t *val = node_get(c, pair->value);
			const char *name;

			if (key->type != YAML_SCALAR_NODE || node_is_null(val))
				continue;
			name = (const char *)key->data.scalar.value;
			if (strcmp(name, "max_vips") &&
			    strcmp(name, "max_reals"))
				continue;
			set = xlb_setting_find("", name);
			ret = node_value(c, name, val, set, &v);
			if (ret)
				return ret;
			xlb_setting_store(set, c->cfg, v);
		}
	}
	ret = walk_map(c, root, NULL, "", c->cfg, NULL);
	if (!ret)
		ret = check_vlans(c);
	if (!ret)
		ret = check_fullnat(c);
	return ret ? ret : check_cluster(c);
}

/*
 * Whether a line (1-based) of the text has a '[' and then "]:" or "]/":
 * the look of an unquoted IPv6 VIP, which YAML reads as a flow list.
 */
static bool line_has_bare_ipv6_vip(const char *text, size_t len, size_t line)
{
	const char *p = text, *end = text + len, *eol, *q;

	if (!text)
		return false;
	for (; line > 1; line--) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return false;
		p++;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	q = memchr(p, '[', (size_t)(eol - p));
	for (; q && q + 1 < eol; q++)
		if (q[0] == ']' && (q[1] == ':' || q[1] == '/'))
			return true;
	return false;
}

/*
 * Report a libyaml error with its line. Reader errors (bad UTF-8) carry a
 * byte offset rather than a position: count the lines up to it.
 */
static int fail_yaml(struct cfg_ctx *c, const yaml_parser_t *parser,
		     const char *text, size_t len)
{
	const char *problem = parser->problem ? parser->problem : "error";
	size_t line, ctx_line = parser->context_mark.line + 1, i;
	const char *hint = "";

	if (parser->error == YAML_MEMORY_ERROR)
		return fail_nomem(c);
	if (parser->error == YAML_READER_ERROR) {
		line = 1;
		for (i = 0; i < parser->problem_offset && i < len; i++)
			line += text[i] == '\n';
	} else {
		line = parser->problem_mark.line + 1;
	}
	if (line_has_bare_ipv6_vip(text, len, line) ||
	    (parser->context && line_has_bare_ipv6_vip(text, len, ctx_line)))
		hint = "; write IPv6 VIPs in quotes";
	if (parser->context)
		return fail_at(c, line, "invalid YAML: %s (%s at line %zu)%s",
			       problem, parser->context, ctx_line, hint);
	return fail_at(c, line, "invalid YAML: %s%s", problem, hint);
}

/* Set every field to its default: what an empty file gives. */
void xlb_config_defaults(struct xlb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* The plain settings from the table; the rest below. */
	xlb_settings_defaults("", cfg);
	xlb_settings_defaults("conntrack_timeouts", cfg);
	xlb_settings_defaults("fullnat", &cfg->nat);
	xlb_settings_defaults("fullnat.timeouts", &cfg->nat);
	xlb_settings_defaults("routes", &cfg->routes);
	xlb_settings_defaults("cluster", &cfg->cluster);
	xlb_prefix_parse("172.16.0.0/16", &cfg->tun_src_v4,
			 &cfg->tun_src_v4_plen);
	xlb_prefix_parse("fc00:2::/96", &cfg->tun_src_v6,
			 &cfg->tun_src_v6_plen);
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s",
		 XLB_DEFAULT_METRICS);
	cfg->nat.port_min = XLB_NAT_PORT_MIN_DEFAULT;
	cfg->nat.port_max = XLB_NAT_PORT_MAX_DEFAULT;
	snprintf(cfg->routes.watch[0], XLB_DAEMON_NAME_LEN, "zebra");
	cfg->routes.n_watch = 1;
}

/*
 * Parse one YAML document into cfg, which is overwritten (it must hold
 * no allocations). A stream with a second document is refused rather than
 * half read.
 */
int xlb_config_parse(const char *text, size_t len, const char *name,
		     struct xlb_config *cfg, char *err, size_t errlen)
{
	struct cfg_ctx c = {
		.cfg = cfg,
		.name = name ? name : "config",
		.err = err,
		.errlen = errlen,
	};
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	yaml_node_t *root;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg)
		return -EINVAL;
	xlb_config_defaults(cfg);
	if (!text)
		len = 0;
	if (!yaml_parser_initialize(&parser))
		return fail_nomem(&c);
	yaml_parser_set_input_string(
		&parser, (const unsigned char *)(text ? text : ""), len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = fail_yaml(&c, &parser, text, len);
		goto out_parser;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto out_doc;

	if (!yaml_parser_load(&parser, &extra)) {
		ret = fail_yaml(&c, &parser, text, len);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&extra))
		ret = fail_at(&c, extra.start_mark.line + 1,
			      "only one YAML document is allowed");
	yaml_document_delete(&extra);
	if (!ret)
		ret = parse_root(&c, root);
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	if (ret)
		xlb_config_free(cfg);
	return ret;
}

/* Read a whole file into a NUL-terminated buffer the caller frees. */
static int read_file(const char *path, char **out, size_t *out_len)
{
	size_t len = 0, size = 4096, n;
	char *buf = NULL, *nbuf;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (;;) {
		nbuf = realloc(buf, size + 1);
		if (!nbuf) {
			ret = -ENOMEM;
			goto out_close;
		}
		buf = nbuf;
		n = fread(buf + len, 1, size - len, f);
		len += n;
		if (len < size) {
			if (ferror(f))
				ret = errno ? -errno : -EIO;
			break;
		}
		if (size >= CFG_FILE_MAX) {
			ret = -EFBIG;
			break;
		}
		size *= 2;
	}
out_close:
	fclose(f);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* Read and parse the file at path; messages are named after path. */
int xlb_config_load(const char *path, struct xlb_config *cfg, char *err,
		    size_t errlen)
{
	size_t len = 0;
	char *text = NULL;
	int ret;

	ret = read_file(path, &text, &len);
	if (ret) {
		xlb_config_defaults(cfg);
		xlb_config_free(cfg);
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = xlb_config_parse(text, len, path, cfg, err, errlen);
	free(text);
	return ret;
}

/* Free what a parse allocated and leave cfg empty (all zero). */
void xlb_config_free(struct xlb_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_interfaces; i++)
		free(cfg->interfaces[i]);
	for (i = 0; i < cfg->n_vips; i++)
		free(cfg->vips[i].reals);
	free(cfg->vips);
	memset(cfg, 0, sizeof(*cfg));
}
