// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The settings table (user/settings.c) and the docs that describe it:
 * every setting has its row in docs/CONFIG.md's key tables, with its
 * range, choices and default as the table has them, and every row there
 * is a setting; docs/CONTROL.md gives the ranges of the VIP and real
 * fields. Also the validator's words. Run from the top of the tree (as
 * `make test` runs it).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "xlb.h"

#define MAX_ROWS 200
#define LINE_LEN 1024

/* A row of a key table: "| `key` | value | default |". */
struct doc_row {
	char table[64]; /* "Settings#1": heading and table number */
	char key[64];
	char value[LINE_LEN];
	char dflt[LINE_LEN];
	int line;
	bool used;
};

static struct doc_row rows[MAX_ROWS];
static size_t n_rows;

/* Trim blanks at both ends, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Read the key tables of a docs file (tables headed "| key | value |
 * default |"), naming each by the heading above it and its rank there. */
static void read_tables(const char *path)
{
	char line[LINE_LEN], heading[48] = "", *cells[3], *p;
	int nr = 0, rank = 0;
	bool in_table = false;
	struct doc_row *r;
	size_t i;

	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "%s: cannot open (run from the tree's top)",
			   path);
	n_rows = 0;
	while (fgets(line, sizeof(line), f)) {
		nr++;
		if (!strncmp(line, "## ", 3)) {
			snprintf(heading, sizeof(heading), "%s",
				 trim(line + 3));
			rank = 0;
			in_table = false;
			continue;
		}
		if (!strncmp(line, "| key | value | default |", 25)) {
			rank++;
			in_table = true;
			continue;
		}
		if (strncmp(line, "| `", 3)) {
			in_table &= line[0] == '|';
			continue;
		}
		if (!in_table)
			continue;
		cr_assert_lt(n_rows, MAX_ROWS);
		r = &rows[n_rows++];
		memset(r, 0, sizeof(*r));
		r->line = nr;
		snprintf(r->table, sizeof(r->table), "%s#%d", heading, rank);
		/* "| `key` | value | default |" */
		p = line + 1;
		for (i = 0; i < 3; i++) {
			cells[i] = p;
			p = strstr(p, " |");
			cr_assert_not_null(p, "%s:%d: not three cells", path,
					   nr);
			*p = '\0';
			p += 2;
		}
		p = trim(cells[0]);
		cr_assert(p[0] == '`' && p[strlen(p) - 1] == '`', "%s:%d", path,
			  nr);
		snprintf(r->key, sizeof(r->key), "%.*s", (int)strlen(p) - 2,
			 p + 1);
		snprintf(r->value, sizeof(r->value), "%s", trim(cells[1]));
		snprintf(r->dflt, sizeof(r->dflt), "%s", trim(cells[2]));
	}
	fclose(f);
}

/* Where a section's settings are documented: the table and the prefix
 * of their keys there. */
static const struct {
	const char *section, *table, *prefix;
} places[] = {
	{"", "Settings#1", ""},
	{"conntrack_timeouts", "Settings#1", "conntrack_timeouts."},
	{"tunnel_source", "Settings#1", "tunnel_source."},
	{"fullnat", "FULLNAT#1", ""},
	{"fullnat.timeouts", "FULLNAT#1", "timeouts."},
	{"routes", "Routes#1", ""},
	{"cluster", "Cluster#1", ""},
	{"vips", "VIPs#1", ""},
	{"reals", "VIPs#2", ""},
	{"health", "Health checks#1", ""},
};

static struct doc_row *row_of(const struct xlb_setting *s)
{
	char key[96];
	size_t i, j;

	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		if (strcmp(places[i].section, s->section))
			continue;
		snprintf(key, sizeof(key), "%s%s", places[i].prefix, s->key);
		for (j = 0; j < n_rows; j++)
			if (!strcmp(rows[j].table, places[i].table) &&
			    !strcmp(rows[j].key, key))
				return &rows[j];
	}
	return NULL;
}

Test(settings, config_docs_match_the_table)
{
	const struct xlb_setting *all, *s;
	struct doc_row *r, *nodes;
	char want[96];
	size_t n, i, k;

	read_tables("docs/CONFIG.md");
	all = xlb_settings(&n);
	nodes = row_of(xlb_setting_find("cluster", "nodes"));
	cr_assert_not_null(nodes);
	for (i = 0; i < n; i++) {
		s = &all[i];
		r = row_of(s);
		if (!strcmp(s->section, "cluster.nodes")) {
			/* Described in the row of cluster.nodes. */
			cr_expect(strstr(nodes->value, s->key),
				  "docs/CONFIG.md:%d: nodes does not name %s",
				  nodes->line, s->key);
			continue;
		}
		if (!r && s->type == XLB_SET_SECTION)
			continue; /* documented by its keys */
		if (!r) {
			cr_expect(false, "docs/CONFIG.md: no row for %s%s%s",
				  s->section, s->section[0] ? "." : "", s->key);
			continue;
		}
		r->used = true;
		if (s->dflt_doc)
			snprintf(want, sizeof(want), "%s", s->dflt_doc);
		else if (s->size &&
			 (s->type == XLB_SET_U32 || s->type == XLB_SET_PRIME ||
			  s->type == XLB_SET_MS))
			snprintf(want, sizeof(want), "%u", s->dflt);
		else
			want[0] = '\0';
		cr_expect_str_eq(r->dflt, want,
				 "docs/CONFIG.md:%d: the default of %s",
				 r->line, r->key);
		if (s->type == XLB_SET_U32 || s->type == XLB_SET_PRIME ||
		    s->type == XLB_SET_MS) {
			snprintf(want, sizeof(want), "%u..%u", s->min, s->max);
			cr_expect(strstr(r->value, want),
				  "docs/CONFIG.md:%d: %s does not say %s",
				  r->line, r->key, want);
		}
		if (s->type == XLB_SET_PRIME)
			cr_expect(strstr(r->value, "prime"),
				  "docs/CONFIG.md:%d: %s", r->line, r->key);
		for (k = 0; s->type == XLB_SET_ENUM && s->choices[k]; k++) {
			snprintf(want, sizeof(want), "`%s`", s->choices[k]);
			cr_expect(strstr(r->value, want),
				  "docs/CONFIG.md:%d: %s does not name %s",
				  r->line, r->key, want);
		}
		if (s->for_check) {
			snprintf(want, sizeof(want), "`%s`:",
				 xlb_setting_choice_name(
					 xlb_setting_find("health", "type"),
					 s->for_check));
			cr_expect(!strncmp(r->value, want, strlen(want)),
				  "docs/CONFIG.md:%d: %s is for %s only",
				  r->line, r->key, want);
		}
		if (s->required)
			cr_expect(strstr(r->value, "required") ||
					  strstr(r->dflt, "required"),
				  "docs/CONFIG.md:%d: %s is required", r->line,
				  r->key);
	}
	for (i = 0; i < n_rows; i++)
		cr_expect(rows[i].used,
			  "docs/CONFIG.md:%d: `%s` is not a setting of %s",
			  rows[i].line, rows[i].key, rows[i].table);
}

/* docs/CONFIG.md names the settings a reload may not change: those the
 * table marks restart (a section's keys go with it). */
Test(settings, restart_only_list)
{
	const char *intro = "A reload (SIGHUP, `lbctl reload`) applies every";
	const struct xlb_setting *all, *s, *sect;
	char text[4096] = "", line[LINE_LEN], name[96], *p, *q, *key;
	bool in = false;
	size_t n, i;
	FILE *f = fopen("docs/CONFIG.md", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		in = in ? line[0] != '\n'
			: !strncmp(line, intro, strlen(intro));
		if (in)
			strncat(text, line, sizeof(text) - strlen(text) - 1);
	}
	fclose(f);
	cr_assert(text[0], "docs/CONFIG.md: no paragraph '%s'", intro);
	all = xlb_settings(&n);
	for (i = 0; i < n; i++) {
		s = &all[i];
		snprintf(name, sizeof(name), "`%s%s%s`", s->section,
			 s->section[0] ? "." : "", s->key);
		/* routes.table goes with routes. */
		p = strchr(s->section, '.');
		snprintf(line, sizeof(line), "%.*s",
			 p ? (int)(p - s->section) : (int)strlen(s->section),
			 s->section);
		sect = s->section[0] ? xlb_setting_find("", line) : NULL;
		if (sect && sect->restart) {
			cr_expect(s->restart, "%s: its section is restart-only",
				  name);
			continue;
		}
		cr_expect(!s->restart == !strstr(text, name),
			  "docs/CONFIG.md: %s is %srestart-only", name,
			  s->restart ? "" : "not ");
	}
	/* Every name listed is one of them. */
	for (p = strchr(text, '`'); p && (q = strchr(p + 1, '`'));
	     p = strchr(q + 1, '`')) {
		snprintf(name, sizeof(name), "%.*s", (int)(q - p - 1), p + 1);
		if (!strcmp(name, "lbctl reload"))
			continue;
		key = strrchr(name, '.');
		if (key)
			*key++ = '\0';
		s = key ? xlb_setting_find(name, key)
			: xlb_setting_find("", name);
		cr_expect(s && s->restart,
			  "docs/CONFIG.md: `%s%s%s` is listed as restart-only",
			  name, key ? "." : "", key ? key : "");
	}
}

/* docs/CONTROL.md: the line of cmd gives each field's range or choices. */
Test(settings, control_docs_match_the_table)
{
	static const struct {
		const char *cmd, *section, *key;
	} fields[] = {
		{"vip.add", "vips", "hash"},
		{"vip.add", "vips", "table_size"},
		{"vip.add", "vips", "mode"},
		{"vip.add", "vips", "mss"},
		{"vip.add", "vips", "encap"},
		{"vip.set", "vips", "mode"},
		{"vip.set", "vips", "mss"},
		{"vip.set", "vips", "encap"},
		{"real.add", "reals", "weight"},
	};
	const struct xlb_setting *s;
	char line[LINE_LEN], want[96], *found[16] = {0};
	size_t i, k;
	FILE *f = fopen("docs/CONTROL.md", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			snprintf(want, sizeof(want), "| `%s` |", fields[i].cmd);
			if (!strncmp(line, want, strlen(want)) && !found[i])
				found[i] = strdup(line);
		}
	fclose(f);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		s = xlb_setting_find(fields[i].section, fields[i].key);
		cr_assert_not_null(found[i], "docs/CONTROL.md: no %s",
				   fields[i].cmd);
		snprintf(want, sizeof(want), "`%s`", s->key);
		cr_expect(strstr(found[i], want), "%s: no field %s",
			  fields[i].cmd, want);
		if (s->type == XLB_SET_ENUM) {
			for (k = 0; s->choices[k]; k++) {
				snprintf(want, sizeof(want), "`%s`",
					 s->choices[k]);
				cr_expect(strstr(found[i], want),
					  "docs/CONTROL.md: %s: %s lacks %s",
					  fields[i].cmd, s->key, want);
			}
		} else {
			snprintf(want, sizeof(want), "%u..%u", s->min, s->max);
			cr_expect(strstr(found[i], want),
				  "docs/CONTROL.md: %s: %s lacks %s",
				  fields[i].cmd, s->key, want);
		}
		free(found[i]);
	}
}

/* walk_map() keeps a bit per key of a mapping. */
Test(settings, sections_fit_the_loader)
{
	const struct xlb_setting *all;
	size_t n, i, j, in;

	all = xlb_settings(&n);
	for (i = 0; i < n; i++) {
		for (j = 0, in = 0; j < n; j++)
			in += !strcmp(all[j].section, all[i].section);
		cr_expect_leq(in, 32, "section '%s' has %zu keys",
			      all[i].section, in);
		for (j = i + 1; j < n; j++)
			cr_expect(strcmp(all[i].section, all[j].section) ||
					  strcmp(all[i].key, all[j].key),
				  "%s.%s is declared twice", all[i].section,
				  all[i].key);
		cr_expect(all[i].help && all[i].help[0], "%s: no help",
			  all[i].key);
	}
}

/* The validator's words, which every way in quotes after its label. */
Test(settings, validator_words)
{
	const struct xlb_setting *ts = xlb_setting_find("vips", "table_size");
	const struct xlb_setting *iv = xlb_setting_find("health", "interval");
	const struct xlb_setting *th = xlb_setting_find("health", "through");
	char err[XLB_ERR_LEN];
	uint32_t v = 0;

	cr_expect_eq(xlb_setting_parse(ts, "251", &v, err, sizeof(err)), 0);
	cr_expect_eq(v, 251);
	cr_expect_eq(xlb_setting_parse(ts, "2", &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "2 is out of range 3..1048573");
	cr_expect_eq(xlb_setting_check(ts, 100, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "100 is not a prime (97 and 101 are)");
	cr_expect_eq(xlb_setting_parse(ts, "0x10", &v, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "expected an integer, got '0x10'");
	cr_expect_eq(xlb_setting_parse(iv, "2s", &v, err, sizeof(err)), 0);
	cr_expect_eq(v, 2000);
	cr_expect_eq(xlb_setting_parse(iv, "3601s", &v, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "3601s is out of range 10..3600000 ms");
	cr_expect_eq(xlb_setting_parse(th, "tunnel", &v, err, sizeof(err)), 0);
	cr_expect_eq(v, XLB_CHECK_PATH_DATAPATH);
	cr_expect_eq(xlb_setting_parse(th, "x", &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "expected datapath, tunnel, direct or auto, got 'x'");
}

/* Every way in names the setting in front of the reason, one way. */
Test(settings, keyed_words)
{
	const struct xlb_setting *w = xlb_setting_find("reals", "weight");
	char err[XLB_ERR_LEN];
	const char *key = NULL;
	uint32_t v = 0;

	cr_expect_eq(xlb_setting_check_key(w, "--weight", "7", 0, &v, err,
					   sizeof(err)),
		     0);
	cr_expect_eq(v, 7);
	cr_expect_eq(xlb_setting_check_key(w, "weight", NULL, 70000, &v, err,
					   sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "weight: 70000 is out of range 0..65535");
	cr_expect_eq(v, 7, "a refused value is not stored");
	cr_expect_eq(xlb_vip_rules(IPPROTO_UDP, XLB_MODE_TUNNEL, 1400, false,
				   "--", &key, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "--mss: only TCP VIPs have an MSS to clamp");
	cr_expect_str_eq(key, "mss");
}

/* A restart-only setting a custom reader stores says how reload compares
 * it (struct xlb_setting's differs): without, every reload is refused. */
Test(settings, restart_only_custom_rows_compare)
{
	const struct xlb_setting *all, *s;
	size_t n, i;

	all = xlb_settings(&n);
	for (i = 0; i < n; i++) {
		s = &all[i];
		if (!s->restart || s->size ||
		    (s->section[0] && strcmp(s->section, "fullnat")))
			continue;
		cr_expect_not_null(s->differs, "%s%s%s has no differs",
				   s->section, s->section[0] ? "." : "",
				   s->key);
	}
}

/* Defaults come from the table: what an empty file gives. */
Test(settings, defaults_are_the_table_s)
{
	const struct xlb_setting *all;
	struct xlb_vip_spec vip = {0};
	struct xlb_config cfg;
	size_t n, i;

	xlb_config_defaults(&cfg);
	all = xlb_settings(&n);
	for (i = 0; i < n; i++)
		if (all[i].size &&
		    (!strcmp(all[i].section, "") ||
		     !strcmp(all[i].section, "conntrack_timeouts")))
			cr_expect_eq(xlb_setting_load(&all[i], &cfg),
				     all[i].dflt, "%s", all[i].key);
	cr_expect_eq(cfg.nat.sessions, XLB_NAT_SESSIONS_DEFAULT);
	cr_expect_eq(cfg.routes.table, XLB_ROUTE_TABLE_MAIN);
	cr_expect_eq(cfg.cluster.port, XLB_SYNC_PORT_DEFAULT);
	xlb_settings_defaults("vips", &vip);
	cr_expect_eq(vip.table_size, XLB_RING_SIZE_DEFAULT);
	cr_expect_eq(vip.hash, XLB_HASH_MAGLEV);
}
