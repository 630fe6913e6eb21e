// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lbctl's command table and everything generated from it: parsing and
 * validation of the command line, the JSON request, the help and usage
 * text, and the printers that turn replies into tables. Nothing here
 * talks to the daemon or touches the system; lbctl.c does that.
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lbctl_cli.h"
#include "xlb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define STR_(x)	      #x
#define STR(x)	      STR_(x)

/* Longest socket path: sun_path holds it and its NUL. */
#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

#define HELP_COL     26 /* where the help of an argument or option starts */
#define HELP_WIDTH   79

/* ---- The tables -------------------------------------------------------- */

static void print_vips(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply);
static void print_stats(FILE *f, const struct lbctl_invocation *inv,
			json_t *reply);
static void print_ping(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply);

static const char *const hash_choices[] = {"maglev", "source-ip", NULL};

#define ARG_VIP                                                            \
	{                                                                  \
		.name = "VIP", .type = LBCTL_T_SERVICE, .key = "vip",      \
		.help = "the service, ADDR:PORT/PROTO: 10.0.0.10:80/tcp, " \
			"[2001:db8::1]:443/udp; port 0 (or none, "         \
			"10.0.0.10/udp) takes every port",                 \
	}

#define ARG_REAL                                                   \
	{                                                          \
		.name = "REAL", .type = LBCTL_T_IP, .key = "real", \
		.help = "the real's IPv4 or IPv6 address",         \
	}

/* Limits and defaults in help text come from the headers. */
/* clang-format off */
#define TABLE_SIZE_HELP                                                       \
	"Maglev table size, a prime up to " STR(XLB_RING_SIZE_MAX)            \
	"; default " STR(XLB_RING_SIZE_DEFAULT)

#define REAL_ADD_SUMMARY                                                      \
	"add a real to a VIP (weight " STR(XLB_DEFAULT_WEIGHT) " unless given)"

#define WEIGHT_HELP                                                           \
	"share of new flows relative to the VIP's other reals; 0 keeps the "  \
	"real but sends it no new flows; 0.." STR(XLB_MAX_WEIGHT)
/* clang-format on */

#define OPT_WEIGHT(req)                                                    \
	{                                                                  \
		.name = "weight", .type = LBCTL_T_UINT, .metavar = "W",    \
		.key = "weight", .max = XLB_MAX_WEIGHT, .required = (req), \
		.help = WEIGHT_HELP,                                       \
	}

static const struct lbctl_param no_params[] = {
	{0},
};

static const struct lbctl_param vip_args[] = {
	ARG_VIP,
	{0},
};

static const struct lbctl_param vip_real_args[] = {
	ARG_VIP,
	ARG_REAL,
	{0},
};

static const struct lbctl_param ifname_args[] = {
	{
		.name = "IFNAME",
		.type = LBCTL_T_IFNAME,
		.key = "ifname",
		.help = "the interface the tunnelled packets arrive on",
	},
	{0},
};

static const struct lbctl_param vip_add_opts[] = {
	{
		.name = "hash",
		.type = LBCTL_T_ENUM,
		.metavar = "maglev|source-ip",
		.key = "hash",
		.choices = hash_choices,
		.help = "what picks the real: maglev hashes the whole 5-tuple, "
			"source-ip only the client address (affinity); "
			"default maglev",
	},
	{
		.name = "table-size",
		.type = LBCTL_T_UINT,
		.metavar = "M",
		.key = "table_size",
		.max = XLB_RING_SIZE_MAX,
		.prime = true,
		.help = TABLE_SIZE_HELP,
	},
	{0},
};

static const struct lbctl_param real_add_opts[] = {
	OPT_WEIGHT(false),
	{0},
};

static const struct lbctl_param real_set_opts[] = {
	OPT_WEIGHT(true),
	{0},
};

static const struct lbctl_param decap_attach_opts[] = {
	{
		.name = "generic",
		.type = LBCTL_T_FLAG,
		.key = "generic",
		.help = "attach in generic (skb) mode, for drivers without "
			"native XDP",
	},
	{0},
};

_Static_assert(ARRAY_SIZE(vip_real_args) - 1 <= LBCTL_MAX_ARGS, "args");
_Static_assert(ARRAY_SIZE(vip_add_opts) - 1 <= LBCTL_MAX_OPTS, "opts");

static const struct lbctl_cmd commands[] = {
	{
		.words = {"vip", "add"},
		.cmd = "vip.add",
		.summary = "add a VIP; it takes traffic once it has reals",
		.args = vip_args,
		.opts = vip_add_opts,
	},
	{
		.words = {"vip", "del"},
		.cmd = "vip.del",
		.summary = "remove a VIP and all its reals",
		.args = vip_args,
		.opts = no_params,
	},
	{
		.words = {"vip", "list"},
		.cmd = "vip.list",
		.summary = "list the VIPs and their reals",
		.args = no_params,
		.opts = no_params,
		.print = print_vips,
	},
	{
		.words = {"real", "add"},
		.cmd = "real.add",
		.summary = REAL_ADD_SUMMARY,
		.args = vip_real_args,
		.opts = real_add_opts,
	},
	{
		.words = {"real", "del"},
		.cmd = "real.del",
		.summary = "remove a real from a VIP; its flows move to the "
			   "other reals",
		.args = vip_real_args,
		.opts = no_params,
	},
	{
		.words = {"real", "set"},
		.cmd = "real.set",
		.summary = "change the weight of a real",
		.args = vip_real_args,
		.opts = real_set_opts,
	},
	{
		.words = {"stats"},
		.cmd = "stats",
		.summary = "show counters per VIP and real, and why packets "
			   "were passed or dropped",
		.args = no_params,
		.opts = no_params,
		.print = print_stats,
	},
	{
		.words = {"ping"},
		.cmd = "ping",
		.summary = "check that xlbd answers and show its version",
		.args = no_params,
		.opts = no_params,
		.print = print_ping,
	},
	{
		.words = {"decap", "attach"},
		.cmd = "decap.attach",
		.summary = "on a real: attach the decap program to IFNAME "
			   "(local, no daemon)",
		.args = ifname_args,
		.opts = decap_attach_opts,
		.local = true,
	},
	{
		.words = {"decap", "detach"},
		.cmd = "decap.detach",
		.summary = "on a real: detach the decap program from IFNAME "
			   "(local, no daemon)",
		.args = ifname_args,
		.opts = no_params,
		.local = true,
	},
};

enum {
	GOPT_SOCKET,
	GOPT_JSON,
	GOPT_HELP,
	GOPT_VERSION,
};

/* In the order of the GOPT_* indices. */
static const struct lbctl_param global_opts[] = {
	{
		.name = "socket",
		.type = LBCTL_T_PATH,
		.metavar = "PATH",
		.help = "xlbd's control socket; default " XLB_DEFAULT_SOCKET,
	},
	{
		.name = "json",
		.type = LBCTL_T_FLAG,
		.help = "print the daemon's reply as JSON, for scripts",
	},
	{
		.name = "help",
		.short_name = 'h',
		.type = LBCTL_T_FLAG,
		.help = "show help: of everything, of a group (lbctl vip -h) "
			"or of a command (lbctl vip add -h)",
	},
	{
		.name = "version",
		.type = LBCTL_T_FLAG,
		.help = "print lbctl's version",
	},
	{0},
};

_Static_assert(ARRAY_SIZE(global_opts) - 1 <= LBCTL_MAX_OPTS, "globals");

const struct lbctl_cmd *lbctl_commands(size_t *n)
{
	*n = ARRAY_SIZE(commands);
	return commands;
}

/* ---- Table helpers ----------------------------------------------------- */

/* Number of entries of a zero-terminated parameter table. */
static size_t params_count(const struct lbctl_param *t)
{
	size_t n = 0;

	while (t[n].name)
		n++;
	return n;
}

/* Number of words naming c. */
static size_t cmd_n_words(const struct lbctl_cmd *c)
{
	size_t n = 0;

	while (n < LBCTL_MAX_WORDS && c->words[n])
		n++;
	return n;
}

/* Does c start with words[0..n)? */
static bool cmd_has_prefix(const struct lbctl_cmd *c, const char *const *words,
			   size_t n)
{
	size_t i;

	if (n > cmd_n_words(c))
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(c->words[i], words[i]))
			return false;
	return true;
}

/* words[0..n) joined by spaces, for messages. */
static const char *words_str(const char *const *words, size_t n, char *buf,
			     size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "",
				words[i]);
	return buf;
}

/* The option of table t called name (len bytes) or short_name; -1. */
static int param_find(const struct lbctl_param *t, const char *name, size_t len,
		      char short_name)
{
	int i;

	for (i = 0; t[i].name; i++) {
		if (short_name && t[i].short_name == short_name)
			return i;
		if (!short_name && strlen(t[i].name) == len &&
		    !strncmp(t[i].name, name, len))
			return i;
	}
	return -1;
}

/* Strict decimal: digits only, no sign, no blanks, fits 32 bits. */
static int parse_u32(const char *s, uint32_t *v)
{
	unsigned long long n = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = n * 10 + (unsigned)(*s - '0');
		if (n > UINT32_MAX)
			return -ERANGE;
	}
	*v = (uint32_t)n;
	return 0;
}

/* ---- Parsing ----------------------------------------------------------- */

struct parse {
	struct lbctl_invocation *inv;
	struct lbctl_values v;
	const char *gopts[LBCTL_MAX_OPTS]; /* values of global_opts */
	size_t n_args;
	bool help_word; /* `lbctl help ...` */
	bool failed;
	char *err;
	size_t errlen;
};

/* Record the first usage error; later ones are consequences. */
__attribute__((format(printf, 2, 3))) static void
parse_fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	if (!p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

/* Is s an option rather than a value for the option before it? */
static bool is_option_word(const char *s)
{
	return (s[0] == '-' && s[1] == '-') || !strcmp(s, "-h");
}

/*
 * Take the option at argv[*i] (and its value, from "=VALUE" or the next
 * word): the command's options first, then the global ones.
 */
static void parse_option(struct parse *p, int argc, char **argv, int *i)
{
	const struct lbctl_cmd *cmd = p->inv->cmd;
	const struct lbctl_param *table = NULL, *opt;
	const char *a = argv[*i], *name, *val = NULL, *eq;
	const char **vals = NULL;
	char short_name = 0;
	char buf[64];
	size_t len;
	int idx = -1;

	if (a[1] == '-') {
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		val = eq ? eq + 1 : NULL;
	} else {
		name = a + 1;
		len = strlen(name);
		short_name = len == 1 ? name[0] : 0;
	}
	if (len && (a[1] == '-' || short_name)) {
		if (cmd) {
			table = cmd->opts;
			vals = p->v.opts;
			idx = param_find(table, name, len, short_name);
		}
		if (idx < 0) {
			table = global_opts;
			vals = p->gopts;
			idx = param_find(table, name, len, short_name);
		}
	}
	if (idx < 0) {
		if (cmd)
			parse_fail(p, "unknown option '%.*s' for '%s'",
				   (int)(name - a + len), a,
				   words_str(cmd->words, cmd_n_words(cmd), buf,
					     sizeof(buf)));
		else
			parse_fail(p, "unknown option '%.*s'",
				   (int)(name - a + len), a);
		return;
	}

	opt = &table[idx];
	if (opt->type == LBCTL_T_FLAG) {
		if (val) {
			parse_fail(p, "option --%s takes no value", opt->name);
			return;
		}
		val = a;
	} else if (!val) {
		if (*i + 1 >= argc || is_option_word(argv[*i + 1])) {
			parse_fail(p, "option --%s needs a value (%s)",
				   opt->name, opt->metavar);
			return;
		}
		val = argv[++*i];
	}
	if (vals[idx] && opt->type != LBCTL_T_FLAG) {
		parse_fail(p, "option --%s given twice", opt->name);
		return;
	}
	vals[idx] = val;
}

/*
 * Add a command word. An unknown word is final: the rest of the line
 * cannot be understood without the command.
 */
static int parse_word(struct parse *p, const char *w)
{
	struct lbctl_invocation *inv = p->inv;
	const struct lbctl_cmd *exact = NULL;
	const char *words[LBCTL_MAX_WORDS + 1];
	size_t i, n = inv->n_words, matches = 0;
	char buf[64];

	for (i = 0; i < n; i++)
		words[i] = inv->words[i];
	words[n] = w;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!cmd_has_prefix(&commands[i], words, n + 1))
			continue;
		matches++;
		if (cmd_n_words(&commands[i]) == n + 1)
			exact = &commands[i];
	}
	if (!matches) {
		parse_fail(p, "unknown command '%s'",
			   words_str(words, n + 1, buf, sizeof(buf)));
		return -EINVAL;
	}
	inv->words[inv->n_words++] = w;
	inv->cmd = exact;
	return 0;
}

/* Say which words can follow the incomplete command in inv->words. */
static void fail_incomplete(struct parse *p)
{
	struct lbctl_invocation *inv = p->inv;
	char buf[64], next[128] = "";
	size_t i, off = 0;

	for (i = 0; i < ARRAY_SIZE(commands) && off < sizeof(next); i++)
		if (cmd_has_prefix(&commands[i], inv->words, inv->n_words))
			off += snprintf(next + off, sizeof(next) - off, "%s%s",
					off ? ", " : "",
					commands[i].words[inv->n_words]);
	parse_fail(p, "incomplete command '%s': expected one of %s",
		   words_str(inv->words, inv->n_words, buf, sizeof(buf)), next);
}

/* An IPv6 address with a port must be bracketed; catch the common slip. */
static bool service_needs_brackets(const char *s)
{
	size_t len = strcspn(s, "/"), colons = 0, i;

	if (s[0] == '[')
		return false;
	for (i = 0; i < len; i++)
		colons += s[i] == ':';
	return colons > 1;
}

/* What the kernel takes as a name, in printable ASCII. */
static bool ifname_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

/* Explain why n is no prime, naming the primes around it. */
static void fail_not_prime(struct parse *p, const char *label, uint32_t n,
			   uint32_t max)
{
	uint32_t lo = n, hi = n;

	while (lo > 2 && !xlb_is_prime(--lo))
		;
	while (hi < max && !xlb_is_prime(++hi))
		;
	if (lo >= 2 && xlb_is_prime(lo) && hi <= max && xlb_is_prime(hi))
		parse_fail(p, "%s: %u is not a prime (%u and %u are)", label, n,
			   lo, hi);
	else
		parse_fail(p, "%s: %u is not a prime", label, n);
}

/* Validate one value s of parameter prm; label names it in messages. */
static void check_value(struct parse *p, const struct lbctl_param *prm,
			const char *label, const char *s)
{
	struct xlb_service svc;
	struct xlb_ip ip;
	json_t *utf8;
	uint32_t n;
	size_t i;
	int ret;

	switch (prm->type) {
	case LBCTL_T_FLAG:
		break;
	case LBCTL_T_STRING:
		/* The request is JSON: text must be UTF-8. */
		utf8 = json_string(s);
		if (!*s || !utf8)
			parse_fail(p, "%s: '%s' is empty or not UTF-8", label,
				   s);
		json_decref(utf8);
		break;
	case LBCTL_T_UINT:
		ret = parse_u32(s, &n);
		if (ret == -EINVAL)
			parse_fail(p, "%s: '%s' is not a number", label, s);
		else if (ret || n > prm->max)
			parse_fail(p, "%s: '%s' is out of range 0..%u", label,
				   s, prm->max);
		else if (prm->prime && !xlb_is_prime(n))
			fail_not_prime(p, label, n, prm->max);
		break;
	case LBCTL_T_ENUM:
		for (i = 0; prm->choices[i]; i++)
			if (!strcmp(prm->choices[i], s))
				break;
		if (!prm->choices[i])
			parse_fail(p, "%s: '%s' is not one of %s", label, s,
				   prm->metavar);
		break;
	case LBCTL_T_SERVICE:
		if (service_needs_brackets(s))
			parse_fail(p,
				   "%s: '%s': put IPv6 addresses in brackets",
				   label, s);
		else if (xlb_service_parse(s, &svc))
			parse_fail(p, "%s: bad address '%s' (%s)", label, s,
				   "expected ADDR:PORT/PROTO");
		break;
	case LBCTL_T_IP:
		if (xlb_ip_parse(s, &ip))
			parse_fail(p,
				   "%s: bad address '%s' (expected an IPv4 or "
				   "IPv6 address)",
				   label, s);
		break;
	case LBCTL_T_IFNAME:
		if (!ifname_valid(s))
			parse_fail(p, "%s: bad interface name '%s'", label, s);
		break;
	case LBCTL_T_PATH:
		if (!*s)
			parse_fail(p, "%s: empty path", label);
		else if (strlen(s) > SUN_PATH_MAX)
			parse_fail(p, "%s: path '%s' is too long (%zu at most)",
				   label, s, SUN_PATH_MAX);
		break;
	}
}

/* Validate every given value of the command and the global options. */
static void check_values(struct parse *p)
{
	const struct lbctl_cmd *cmd = p->inv->cmd;
	char label[64];
	size_t i;

	for (i = 0; cmd->args[i].name; i++)
		check_value(p, &cmd->args[i], cmd->args[i].name, p->v.args[i]);
	for (i = 0; cmd->opts[i].name; i++) {
		if (!p->v.opts[i])
			continue;
		snprintf(label, sizeof(label), "--%s", cmd->opts[i].name);
		check_value(p, &cmd->opts[i], label, p->v.opts[i]);
	}
	for (i = 0; global_opts[i].name; i++) {
		if (!p->gopts[i])
			continue;
		snprintf(label, sizeof(label), "--%s", global_opts[i].name);
		check_value(p, &global_opts[i], label, p->gopts[i]);
	}
}

/* The generic builder: see struct lbctl_cmd. */
static int build_generic(const struct lbctl_cmd *cmd,
			 const struct lbctl_values *v, json_t **out)
{
	const struct lbctl_param *prm;
	json_t *req, *val;
	uint32_t n;
	size_t i;

	req = json_object();
	if (!req || json_object_set_new(req, "cmd", json_string(cmd->cmd)))
		goto out_nomem;
	for (i = 0; cmd->args[i].name; i++) {
		if (!cmd->args[i].key)
			continue;
		if (json_object_set_new(req, cmd->args[i].key,
					json_string(v->args[i])))
			goto out_nomem;
	}
	for (i = 0; cmd->opts[i].name; i++) {
		prm = &cmd->opts[i];
		if (!prm->key || !v->opts[i])
			continue;
		if (prm->type == LBCTL_T_FLAG) {
			val = json_true();
		} else if (prm->type == LBCTL_T_UINT) {
			n = 0;
			parse_u32(v->opts[i], &n);
			val = json_integer(n);
		} else {
			val = json_string(v->opts[i]);
		}
		if (json_object_set_new(req, prm->key, val))
			goto out_nomem;
	}
	*out = req;
	return 0;

out_nomem:
	json_decref(req);
	return -ENOMEM;
}

int lbctl_parse(int argc, char **argv, struct lbctl_invocation *inv, char *err,
		size_t errlen)
{
	struct parse p = {.inv = inv, .err = err, .errlen = errlen};
	const struct lbctl_cmd *cmd;
	bool dashdash = false;
	const char *a;
	size_t i;
	int ai;

	memset(inv, 0, sizeof(*inv));
	inv->socket = XLB_DEFAULT_SOCKET;
	if (errlen)
		err[0] = '\0';

	for (ai = 1; ai < argc; ai++) {
		a = argv[ai];
		if (!dashdash && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--"))
				dashdash = true;
			else
				parse_option(&p, argc, argv, &ai);
			continue;
		}
		if (inv->cmd) {
			if (p.n_args < params_count(inv->cmd->args))
				p.v.args[p.n_args++] = a;
			else
				parse_fail(&p, "unexpected argument '%s'", a);
			continue;
		}
		if (!inv->n_words && !p.help_word && !strcmp(a, "help")) {
			p.help_word = true;
			continue;
		}
		if (parse_word(&p, a))
			return -EINVAL;
	}

	/* Asking for help is never an error, whatever else is wrong. */
	if (p.help_word || p.gopts[GOPT_HELP]) {
		inv->action = LBCTL_HELP;
		return 0;
	}
	if (p.failed)
		return -EINVAL;
	if (p.gopts[GOPT_VERSION]) {
		inv->action = LBCTL_VERSION;
		return 0;
	}
	cmd = inv->cmd;
	if (!cmd) {
		if (inv->n_words)
			fail_incomplete(&p);
		else
			parse_fail(&p, "missing command");
		return -EINVAL;
	}
	if (p.n_args < params_count(cmd->args))
		parse_fail(&p, "missing argument %s", cmd->args[p.n_args].name);
	for (i = 0; cmd->opts[i].name; i++)
		if (cmd->opts[i].required && !p.v.opts[i])
			parse_fail(&p, "missing option --%s %s",
				   cmd->opts[i].name, cmd->opts[i].metavar);
	if (p.failed)
		return -EINVAL;
	check_values(&p);
	if (p.failed)
		return -EINVAL;

	if (p.gopts[GOPT_SOCKET])
		inv->socket = p.gopts[GOPT_SOCKET];
	inv->json = p.gopts[GOPT_JSON] != NULL;
	inv->action = LBCTL_RUN;
	return (cmd->build ? cmd->build : build_generic)(cmd, &p.v,
							 &inv->request);
}

void lbctl_invocation_free(struct lbctl_invocation *inv)
{
	if (!inv)
		return;
	json_decref(inv->request);
	inv->request = NULL;
}

/* ---- Help -------------------------------------------------------------- */

/*
 * Print text from column col (where the cursor is) on, wrapped at
 * HELP_WIDTH, continuation lines indented to indent; end the line.
 */
static void print_wrapped(FILE *f, int col, int indent, const char *text)
{
	size_t w;

	if (col < indent) {
		fprintf(f, "%*s", indent - col, "");
		col = indent;
	}
	while (*text) {
		w = strcspn(text, " ");
		if (col > indent && col + 1 + (int)w > HELP_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, w, f);
		col += w;
		text += w;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

/* "  LABEL    help text"; a long label gets a line of its own. */
static void print_item(FILE *f, const char *label, const char *help)
{
	int col = fprintf(f, "  %s", label);

	if (col >= HELP_COL - 1) {
		fputc('\n', f);
		col = 0;
	}
	print_wrapped(f, col, HELP_COL, help);
}

/* An option as it reads in help: "-h, --help", "--weight W". */
static const char *opt_label(const struct lbctl_param *o, char *buf, size_t len)
{
	int n = 0;

	if (o->short_name)
		n = snprintf(buf, len, "-%c, ", o->short_name);
	snprintf(buf + n, len - n, "--%s%s%s", o->name, o->metavar ? " " : "",
		 o->metavar ? o->metavar : "");
	return buf;
}

/* "lbctl vip add VIP [--hash maglev|source-ip] [--table-size M]" */
static void print_cmd_usage(FILE *f, const struct lbctl_cmd *c)
{
	const struct lbctl_param *o;
	size_t i;

	fputs("lbctl", f);
	for (i = 0; i < cmd_n_words(c); i++)
		fprintf(f, " %s", c->words[i]);
	for (i = 0; c->args[i].name; i++)
		fprintf(f, " %s", c->args[i].name);
	for (o = c->opts; o->name; o++)
		fprintf(f, " %s--%s%s%s%s", o->required ? "" : "[", o->name,
			o->metavar ? " " : "", o->metavar ? o->metavar : "",
			o->required ? "" : "]");
	fputc('\n', f);
}

/* The global options block shared by every help page. */
static void print_global_help(FILE *f)
{
	const struct lbctl_param *o;
	char buf[64];

	fputs("\nGlobal options:\n", f);
	for (o = global_opts; o->name; o++)
		print_item(f, opt_label(o, buf, sizeof(buf)), o->help);
}

void lbctl_help(FILE *f, const struct lbctl_invocation *inv)
{
	const struct lbctl_cmd *c = inv->cmd;
	const struct lbctl_param *o;
	char buf[64];
	size_t i;

	if (c) {
		fputs("Usage: ", f);
		print_cmd_usage(f, c);
		/* Summaries read as list items; here they are a sentence. */
		fprintf(f, "\n%c%s.\n", toupper((unsigned char)c->summary[0]),
			c->summary + 1);
		if (c->args[0].name) {
			fputs("\nArguments:\n", f);
			for (o = c->args; o->name; o++)
				print_item(f, o->name, o->help);
		}
		if (c->opts[0].name) {
			fputs("\nOptions:\n", f);
			for (o = c->opts; o->name; o++)
				print_item(f, opt_label(o, buf, sizeof(buf)),
					   o->help);
		}
		print_global_help(f);
		return;
	}

	fprintf(f, "Usage: lbctl [OPTIONS] %s%sCOMMAND [ARGS...]\n",
		words_str(inv->words, inv->n_words, buf, sizeof(buf)),
		inv->n_words ? " " : "");
	if (!inv->n_words)
		fputs("\nControl xlbd, the XLB load balancer, through its "
		      "control socket.\n",
		      f);
	fputs("\nCommands:\n", f);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!cmd_has_prefix(&commands[i], inv->words, inv->n_words))
			continue;
		fputs("  ", f);
		print_cmd_usage(f, &commands[i]);
		print_wrapped(f, 0, 8, commands[i].summary);
	}
	print_global_help(f);
	fputs("\nRun 'lbctl COMMAND --help' for a command's arguments and "
	      "options.\n",
	      f);
}

void lbctl_usage(FILE *f, const struct lbctl_invocation *inv)
{
	const char *prefix = "Usage: ";
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (inv->cmd ? inv->cmd != &commands[i]
			     : !cmd_has_prefix(&commands[i], inv->words,
					       inv->n_words))
			continue;
		fputs(prefix, f);
		print_cmd_usage(f, &commands[i]);
		prefix = "       ";
	}
	if (inv->cmd || inv->n_words)
		fprintf(f, "Run 'lbctl %s --help' for details.\n",
			words_str(inv->words, inv->n_words, buf, sizeof(buf)));
	else
		fputs("Run 'lbctl help' for details.\n", f);
}

/* ---- Printers ---------------------------------------------------------- */

/* Field k of o as text, "-" when absent. */
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

/* Field k of o as an integer, 0 when absent. */
static long long jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Columns wide enough for the header and every value. */
static int width_str(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static int width_int(int w, long long v)
{
	int n = snprintf(NULL, 0, "%lld", v);

	return n > w ? n : w;
}

#define REAL_PREFIX "  -> "

/* Width of the name column: VIPs, and reals indented under them. */
static int width_names(json_t *vips, int w)
{
	json_t *vip, *reals;
	size_t i, j;
	int n;

	for (i = 0; i < json_array_size(vips); i++) {
		vip = json_array_get(vips, i);
		w = width_str(w, jstr(vip, "vip"));
		reals = json_object_get(vip, "reals");
		for (j = 0; j < json_array_size(reals); j++) {
			n = (int)(strlen(REAL_PREFIX) +
				  strlen(jstr(json_array_get(reals, j),
					      "address")));
			w = n > w ? n : w;
		}
	}
	return w;
}

/* vip.list: one line per VIP, an indented line per real. */
static void print_vips(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply)
{
	json_t *vips = json_object_get(reply, "vips"), *vip, *reals, *real;
	int wname = width_names(vips, width_str(0, "VIP"));
	int wreal = wname - (int)strlen(REAL_PREFIX);
	size_t i, j;

	fprintf(f, "%-*s  %-9s  %7s  %5s\n", wname, "VIP", "HASH", "TABLE",
		"REALS");
	for (i = 0; i < json_array_size(vips); i++) {
		vip = json_array_get(vips, i);
		reals = json_object_get(vip, "reals");
		fprintf(f, "%-*s  %-9s  %7lld  %5zu\n", wname, jstr(vip, "vip"),
			jstr(vip, "hash"), jint(vip, "table_size"),
			json_array_size(reals));
		for (j = 0; j < json_array_size(reals); j++) {
			real = json_array_get(reals, j);
			fprintf(f, REAL_PREFIX "%-*s  weight %-5lld  %s\n",
				wreal, jstr(real, "address"),
				jint(real, "weight"), jstr(real, "state"));
		}
	}
}

/* Counter columns of the stats table. */
struct stats_widths {
	int name, packets, bytes, flows;
};

/* Widen w for the counters of o (a VIP or a real). */
static void stats_widen(struct stats_widths *w, json_t *o)
{
	w->packets = width_int(w->packets, jint(o, "packets"));
	w->bytes = width_int(w->bytes, jint(o, "bytes"));
	w->flows = width_int(w->flows, jint(o, "new_flows"));
}

/* One row of the stats table: name, then the counters of o. */
static void stats_row(FILE *f, const struct stats_widths *w, const char *prefix,
		      const char *name, json_t *o)
{
	fprintf(f, "%s%-*s  %*lld  %*lld  %*lld\n", prefix,
		w->name - (int)strlen(prefix), name, w->packets,
		jint(o, "packets"), w->bytes, jint(o, "bytes"), w->flows,
		jint(o, "new_flows"));
}

/* stats: counters per VIP and real, then the non-zero reasons. */
static void print_stats(FILE *f, const struct lbctl_invocation *inv,
			json_t *reply)
{
	json_t *vips = json_object_get(reply, "vips"), *vip, *reals, *real;
	json_t *reasons = json_object_get(reply, "reasons");
	struct stats_widths w = {
		.name = width_names(vips, width_str(0, "VIP / REAL")),
		.packets = width_str(0, "PACKETS"),
		.bytes = width_str(0, "BYTES"),
		.flows = width_str(0, "NEW FLOWS"),
	};
	int wreason = width_str(0, "REASON"), wcount = w.packets;
	long long count;
	size_t i, j;
	void *it;

	for (i = 0; i < json_array_size(vips); i++) {
		vip = json_array_get(vips, i);
		reals = json_object_get(vip, "reals");
		stats_widen(&w, vip);
		for (j = 0; j < json_array_size(reals); j++)
			stats_widen(&w, json_array_get(reals, j));
	}
	fprintf(f, "%-*s  %*s  %*s  %*s\n", w.name, "VIP / REAL", w.packets,
		"PACKETS", w.bytes, "BYTES", w.flows, "NEW FLOWS");
	for (i = 0; i < json_array_size(vips); i++) {
		vip = json_array_get(vips, i);
		reals = json_object_get(vip, "reals");
		stats_row(f, &w, "", jstr(vip, "vip"), vip);
		for (j = 0; j < json_array_size(reals); j++) {
			real = json_array_get(reals, j);
			stats_row(f, &w, REAL_PREFIX, jstr(real, "address"),
				  real);
		}
	}

	for (it = json_object_iter(reasons); it;
	     it = json_object_iter_next(reasons, it)) {
		count = json_integer_value(json_object_iter_value(it));
		if (!count)
			continue;
		wreason = width_str(wreason, json_object_iter_key(it));
		wcount = width_int(wcount, count);
	}
	fprintf(f, "\n%-*s  %*s\n", wreason, "REASON", wcount, "PACKETS");
	for (it = json_object_iter(reasons); it;
	     it = json_object_iter_next(reasons, it)) {
		count = json_integer_value(json_object_iter_value(it));
		if (count)
			fprintf(f, "%-*s  %*lld\n", wreason,
				json_object_iter_key(it), wcount, count);
	}
}

/* ping: the daemon's version and where it answered. */
static void print_ping(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply)
{
	fprintf(f, "xlbd %s answers on %s\n", jstr(reply, "version"),
		inv->socket);
}

void lbctl_print_reply(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply)
{
	if (inv->json) {
		json_dumpf(reply, f, JSON_INDENT(2));
		fputc('\n', f);
		return;
	}
	if (inv->cmd && inv->cmd->print)
		inv->cmd->print(f, inv, reply);
}
