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
#include "settings.h"
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
static void print_status(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply);
static void print_reload(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply);
static void print_laddrs(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply);
static void print_node(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply);
static void print_sessions(FILE *f, const struct lbctl_invocation *inv,
			   json_t *reply);
static void print_config(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply);
static int vip_add_setup(struct lbctl_invocation *inv,
			 const struct lbctl_values *v, char *err,
			 size_t errlen);
static int vip_set_setup(struct lbctl_invocation *inv,
			 const struct lbctl_values *v, char *err,
			 size_t errlen);
static int build_status(const struct lbctl_cmd *cmd,
			const struct lbctl_values *v, json_t **req);
static int stats_setup(struct lbctl_invocation *inv,
		       const struct lbctl_values *v, char *err, size_t errlen);
static int decap_attach_setup(struct lbctl_invocation *inv,
			      const struct lbctl_values *v, char *err,
			      size_t errlen);

#define ARG_VIP_(check)                                                    \
	{                                                                  \
		.name = "VIP", .type = LBCTL_T_SERVICE, .key = "vip",      \
		.check_role = (check), .role = XLB_ROLE_VIP,               \
		.help = "the service, ADDR:PORT/PROTO: 10.0.0.10:80/tcp, " \
			"[2001:db8::1]:443/udp; port 0 (or none, "         \
			"10.0.0.10/udp) takes every port",                 \
	}
#define ARG_VIP	    ARG_VIP_(false)
#define ARG_NEW_VIP ARG_VIP_(true)

#define ARG_REAL_(check)                                           \
	{                                                          \
		.name = "REAL", .type = LBCTL_T_IP, .key = "real", \
		.check_role = (check), .role = XLB_ROLE_REAL,      \
		.help = "the real's IPv4 or IPv6 address",         \
	}
#define ARG_REAL     ARG_REAL_(false)
#define ARG_NEW_REAL ARG_REAL_(true)

/* Limits and defaults in help text come from the headers. */
/* clang-format off */
#define REAL_ADD_SUMMARY                                                      \
	"add a real to a VIP (weight " STR(XLB_DEFAULT_WEIGHT) " unless given)"
/* clang-format on */

/* An option that is a VIP's or real's setting: its help from the table. */
#define OPT_SETTING(opt, sect, k, meta)                                    \
	{                                                                  \
		.name = (opt), .type = LBCTL_T_SETTING, .section = (sect), \
		.key = (k), .metavar = (meta),                             \
	}

#define OPT_MODE(help_text)                                                 \
	{                                                                   \
		.name = "mode", .type = LBCTL_T_SETTING, .section = "vips", \
		.metavar = "tunnel|fullnat", .key = "mode",                 \
		.help = (help_text),                                        \
	}

#define OPT_ENCAP OPT_SETTING("encap", "vips", "encap", "ipip|gue")
#define OPT_MSS	  OPT_SETTING("mss", "vips", "mss", "N")

#define OPT_WEIGHT(req)                                                        \
	{                                                                      \
		.name = "weight", .type = LBCTL_T_SETTING, .section = "reals", \
		.key = "weight", .metavar = "W", .required = (req),            \
	}

static const struct lbctl_param no_params[] = {
	{0},
};

static const struct lbctl_param vip_args[] = {
	ARG_VIP,
	{0},
};

static const struct lbctl_param new_vip_args[] = {
	ARG_NEW_VIP,
	{0},
};

static const struct lbctl_param new_real_args[] = {
	ARG_VIP,
	ARG_NEW_REAL,
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

/* In the order of the VIP_ADD_OPT_* indices. */
enum {
	VIP_ADD_OPT_HASH,
	VIP_ADD_OPT_TABLE_SIZE,
	VIP_ADD_OPT_MODE,
	VIP_ADD_OPT_MSS,
	VIP_ADD_OPT_ENCAP,
};

static const struct lbctl_param vip_add_opts[] = {
	OPT_SETTING("hash", "vips", "hash", "maglev|source-ip"),
	OPT_SETTING("table-size", "vips", "table_size", "M"),
	OPT_SETTING("mode", "vips", "mode", "tunnel|fullnat"),
	OPT_MSS,
	OPT_ENCAP,
	{0},
};

/* In the order of the VIP_SET_OPT_* indices. */
enum {
	VIP_SET_OPT_MODE,
	VIP_SET_OPT_MSS,
	VIP_SET_OPT_ENCAP,
};

static const struct lbctl_param vip_set_opts[] = {
	OPT_MODE("the forwarding mode; the VIP keeps its reals, its flows of "
		 "the old mode end"),
	OPT_MSS,
	OPT_ENCAP,
	{0},
};

static const struct lbctl_param laddr_args[] = {
	{
		.name = "ADDR",
		.type = LBCTL_T_IP,
		.key = "address",
		.check_role = true,
		.role = XLB_ROLE_LADDR,
		.help = "an IPv4 or IPv6 local (SNAT) address of this node, "
			"routed to it by the reals, used by nothing else",
	},
	{0},
};

static const struct lbctl_param sessions_opts[] = {
	{
		.name = "vip",
		.type = LBCTL_T_SERVICE,
		.metavar = "VIP",
		.key = "vip",
		.help = "only the sessions of this VIP (ADDR:PORT/PROTO)",
	},
	{
		.name = "limit",
		.type = LBCTL_T_UINT,
		.metavar = "N",
		.key = "limit",
		.min = 1,
		.max = 1000000,
		.help = "list at most N sessions (the daemon's default: 1000); "
			"the total is always shown",
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

/* In the order of the STATS_OPT_* indices. */
enum {
	STATS_OPT_RATE,
	STATS_OPT_WATCH,
	STATS_OPT_COUNT,
};

/* clang-format off */
#define RATE_HELP                                                             \
	"per-second rates instead of counters, from two samples "            \
	STR(LBCTL_RATE_INTERVAL_S) " s apart (with --watch: over each "       \
	"period): CPS (new flows), InPPS (packets) and InBPS (bytes) per "    \
	"VIP and real, like ipvsadm -L --rate"

#define WATCH_HELP                                                            \
	"print again every SECONDS (1.." STR(LBCTL_WATCH_MAX_S) ", default "  \
	STR(LBCTL_WATCH_DEFAULT_S) ") until interrupted, like watch"
/* clang-format on */

static const struct lbctl_param stats_opts[] = {
	{
		.name = "rate",
		.type = LBCTL_T_FLAG,
		.help = RATE_HELP,
	},
	{
		.name = "watch",
		.type = LBCTL_T_UINT,
		.metavar = "[SECONDS]",
		.min = 1,
		.max = LBCTL_WATCH_MAX_S,
		.dflt = STR(LBCTL_WATCH_DEFAULT_S),
		.help = WATCH_HELP,
	},
	{
		.name = "count",
		.type = LBCTL_T_UINT,
		.metavar = "N",
		.min = 1,
		.max = 1000000,
		.help = "with --watch: stop after N prints (for scripts)",
	},
	{0},
};

/* In the order of the DECAP_OPT_* indices. */
enum {
	DECAP_OPT_FROM,
	DECAP_OPT_GENERIC,
	DECAP_OPT_GUE_PORT,
};

static const struct lbctl_param decap_attach_opts[] = {
	{
		.name = "from",
		.type = LBCTL_T_PREFIX,
		.metavar = "PREFIX...",
		.key = "from",
		.required = true,
		.multi = true,
		.help = "accept tunnels only from these outer sources: the "
			"balancers' tunnel_source prefixes, IPv4 and IPv6 "
			"(172.16.0.0/16 fc00:2::/96); any accepts anyone, "
			"which lets whoever reaches this host inject packets "
			"with any inner source",
	},
	{
		.name = "generic",
		.type = LBCTL_T_FLAG,
		.key = "generic",
		.help = "attach in generic (skb) mode, for drivers without "
			"native XDP",
	},
	{
		.name = "gue-port",
		.type = LBCTL_T_SETTING,
		.metavar = "PORT",
		.section = "",
		.key = "gue_port",
		.help = "take GUE tunnels (encap: gue) apart on this UDP "
			"port; it must be the balancers' gue_port; "
			"default " STR(XLB_GUE_PORT_DEFAULT),
	},
	{0},
};

_Static_assert(ARRAY_SIZE(vip_real_args) - 1 <= LBCTL_MAX_ARGS, "args");
_Static_assert(ARRAY_SIZE(vip_add_opts) - 1 <= LBCTL_MAX_OPTS, "opts");
_Static_assert(ARRAY_SIZE(stats_opts) - 1 <= LBCTL_MAX_OPTS, "opts");

static const struct lbctl_cmd commands[] = {
	{
		.words = {"vip", "add"},
		.cmd = "vip.add",
		.summary = "add a VIP; it takes traffic once it has reals",
		.args = new_vip_args,
		.opts = vip_add_opts,
		.setup = vip_add_setup,
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
		.words = {"vip", "set"},
		.cmd = "vip.set",
		.summary = "change a VIP's forwarding mode, MSS clamp or "
			   "encapsulation",
		.args = vip_args,
		.opts = vip_set_opts,
		.setup = vip_set_setup,
	},
	{
		.words = {"real", "add"},
		.cmd = "real.add",
		.summary = REAL_ADD_SUMMARY,
		.args = new_real_args,
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
		.words = {"real", "drain"},
		.cmd = "real.drain",
		.summary = "send a real no new flows; its established flows "
			   "stay on it",
		.args = vip_real_args,
		.opts = no_params,
	},
	{
		.words = {"real", "undrain"},
		.cmd = "real.undrain",
		.summary = "give a drained real its share of new flows again",
		.args = vip_real_args,
		.opts = no_params,
	},
	{
		.words = {"status"},
		.cmd = "status",
		.summary = "show the node: version, VIPs, and each real's "
			   "state, weight and health",
		.args = no_params,
		.opts = no_params,
		.build = build_status,
		.print = print_status,
	},
	{
		.words = {"stats"},
		.cmd = "stats",
		.summary = "show counters or rates per VIP and real, and what "
			   "became of the packets",
		.args = no_params,
		.opts = stats_opts,
		.setup = stats_setup,
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
		.words = {"reload"},
		.cmd = "reload",
		.summary = "reread the configuration file and apply the "
			   "difference (like SIGHUP)",
		.args = no_params,
		.opts = no_params,
		.print = print_reload,
	},
	{
		.words = {"shutdown"},
		.cmd = "shutdown",
		.summary = "stop xlbd for good: detach the program and remove "
			   "its pins",
		.args = no_params,
		.opts = no_params,
	},
	{
		.words = {"laddr", "add"},
		.cmd = "laddr.add",
		.summary = "add a local address to the FULLNAT pool",
		.args = laddr_args,
		.opts = no_params,
	},
	{
		.words = {"laddr", "del"},
		.cmd = "laddr.del",
		.summary = "remove a local address from the pool; its sessions "
			   "end",
		.args = laddr_args,
		.opts = no_params,
	},
	{
		.words = {"laddr", "list"},
		.cmd = "laddr.list",
		.summary = "list the local addresses and their sessions",
		.args = no_params,
		.opts = no_params,
		.print = print_laddrs,
	},
	{
		.words = {"node", "status"},
		.cmd = "node.status",
		.summary = "show the node's state, routes, peers and sync",
		.args = no_params,
		.opts = no_params,
		.print = print_node,
	},
	{
		.words = {"node", "drain"},
		.cmd = "node.drain",
		.summary = "withdraw the node's routes, keep forwarding",
		.args = no_params,
		.opts = no_params,
	},
	{
		.words = {"node", "undrain"},
		.cmd = "node.undrain",
		.summary = "announce again after a drain",
		.args = no_params,
		.opts = no_params,
	},
	{
		.words = {"sessions"},
		.cmd = "sessions",
		.summary = "list FULLNAT sessions: translation, state, idle "
			   "time",
		.args = no_params,
		.opts = sessions_opts,
		.print = print_sessions,
	},
	{
		.words = {"config", "dump"},
		.cmd = "config.dump",
		.summary = "print the running state as a file for xlbd "
			   "--config",
		.args = no_params,
		.opts = no_params,
		.print = print_config,
	},
	{
		.words = {"decap", "attach"},
		.cmd = "decap.attach",
		.summary = "on a real: attach the decap program to IFNAME "
			   "(local, no daemon)",
		.args = ifname_args,
		.opts = decap_attach_opts,
		.setup = decap_attach_setup,
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
	GOPT_COMMANDS,
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
	{
		.name = "commands",
		.type = LBCTL_T_FLAG,
		.help = "list every command with its arguments and options, "
			"one a line, for shell completion",
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
	const char *a = argv[*i], *name, *val = NULL;
	const char **vals = NULL;
	const char *eq = NULL;
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
		if (*i + 1 < argc && !is_option_word(argv[*i + 1])) {
			val = argv[++*i];
		} else if (opt->dflt) {
			val = opt->dflt;
		} else {
			parse_fail(p, "option --%s needs a value (%s)",
				   opt->name, opt->metavar);
			return;
		}
	}
	if (vals[idx] && opt->type != LBCTL_T_FLAG) {
		parse_fail(p, "option --%s given twice", opt->name);
		return;
	}
	vals[idx] = val;
	if (opt->multi) {
		if (eq) {
			parse_fail(p,
				   "option --%s takes its values as "
				   "separate words",
				   opt->name);
			return;
		}
		/* Only command options are multi: vals is p->v.opts. */
		p->v.multi[idx] = &argv[*i];
		p->v.n_multi[idx] = 1;
		while (*i + 1 < argc && !is_option_word(argv[*i + 1])) {
			++*i;
			p->v.n_multi[idx]++;
		}
	}
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

/*
 * Name the first missing argument; when a multi option took words, the
 * argument may be among them.
 */
static void fail_missing_arg(struct parse *p)
{
	const struct lbctl_cmd *cmd = p->inv->cmd;
	const char *name = cmd->args[p->n_args].name;
	size_t i;

	for (i = 0; cmd->opts[i].name; i++)
		if (p->v.n_multi[i])
			break;
	if (cmd->opts[i].name)
		parse_fail(p,
			   "missing argument %s (the words after --%s are "
			   "its values: put %s before it)",
			   name, cmd->opts[i].name, name);
	else
		parse_fail(p, "missing argument %s", name);
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

/* A new real of the VIP given as the first argument, checked as the
 * daemon checks it. */
static void check_real(struct parse *p, const char *label,
		       const struct xlb_ip *ip)
{
	struct xlb_service svc;
	char msg[XLB_ERR_LEN];

	if (xlb_service_parse(p->v.args[0], &svc))
		return; /* the VIP's own refusal comes first */
	if (xlb_real_check(ip, &svc.ip, msg, sizeof(msg)))
		parse_fail(p, "%s: %s", label, msg);
}

/* Validate one value s of parameter prm; label names it in messages. */
static void check_value(struct parse *p, const struct lbctl_param *prm,
			const char *label, const char *s)
{
	struct xlb_setting range = {
		.type = XLB_SET_U32, .min = prm->min, .max = prm->max};
	const struct xlb_setting *set = &range;
	char msg[XLB_ERR_LEN];
	struct xlb_service svc;
	struct xlb_ip ip;
	json_t *utf8;
	uint32_t n;
	int plen;

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
	case LBCTL_T_SETTING:
		set = xlb_setting_find(prm->section, prm->key);
		/* fall through */
	case LBCTL_T_UINT:
		/* The daemon's and the file's validator, and words. */
		if (xlb_setting_check_key(set, label, s, 0, &n, msg,
					  sizeof(msg)))
			parse_fail(p, "%s", msg);
		break;
	case LBCTL_T_SERVICE:
		if (service_needs_brackets(s))
			parse_fail(p,
				   "%s: '%s': put IPv6 addresses in brackets",
				   label, s);
		else if (xlb_service_parse(s, &svc))
			parse_fail(p, "%s: bad address '%s' (%s)", label, s,
				   "expected ADDR:PORT/PROTO");
		else if (prm->check_role &&
			 xlb_addr_check(&svc.ip, XLB_ROLE_VIP, msg,
					sizeof(msg)))
			parse_fail(p, "%s: %s", label, msg);
		break;
	case LBCTL_T_IP:
		if (xlb_ip_parse(s, &ip))
			parse_fail(p,
				   "%s: bad address '%s' (expected an IPv4 or "
				   "IPv6 address)",
				   label, s);
		else if (prm->check_role && prm->role == XLB_ROLE_REAL)
			check_real(p, label, &ip);
		else if (prm->check_role &&
			 xlb_addr_check(&ip, prm->role, msg, sizeof(msg)))
			parse_fail(p, "%s: %s", label, msg);
		break;
	case LBCTL_T_IFNAME:
		if (!ifname_valid(s))
			parse_fail(p, "%s: bad interface name '%s'", label, s);
		break;
	case LBCTL_T_PREFIX:
		if (!strcmp(s, "any"))
			break;
		if (xlb_prefix_parse(s, &ip, &plen))
			parse_fail(p,
				   "%s: bad prefix '%s' (expected ADDR/LEN, "
				   "IPv4 or IPv6, or any)",
				   label, s);
		else if (xlb_prefix_has_host_bits(&ip, plen))
			parse_fail(p, "%s: '%s' has host bits set", label, s);
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
	size_t i, j;

	for (i = 0; cmd->args[i].name; i++)
		check_value(p, &cmd->args[i], cmd->args[i].name, p->v.args[i]);
	for (i = 0; cmd->opts[i].name; i++) {
		if (!p->v.opts[i])
			continue;
		snprintf(label, sizeof(label), "--%s", cmd->opts[i].name);
		if (!cmd->opts[i].multi) {
			check_value(p, &cmd->opts[i], label, p->v.opts[i]);
			continue;
		}
		for (j = 0; j < p->v.n_multi[i]; j++)
			check_value(p, &cmd->opts[i], label, p->v.multi[i][j]);
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
	size_t i, j;

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
		if (prm->multi) {
			val = json_array();
			for (j = 0; val && j < v->n_multi[i]; j++) {
				if (!json_array_append_new(
					    val, json_string(v->multi[i][j])))
					continue;
				json_decref(val);
				val = NULL;
			}
		} else if (prm->type == LBCTL_T_FLAG) {
			val = json_true();
		} else if (prm->type == LBCTL_T_UINT ||
			   (prm->type == LBCTL_T_SETTING &&
			    xlb_setting_find(prm->section, prm->key)->type !=
				    XLB_SET_ENUM)) {
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

/* status: ping for the version, stats for everything else. */
static int build_status(const struct lbctl_cmd *cmd,
			const struct lbctl_values *v, json_t **out)
{
	*out = json_pack("[{s:s},{s:s}]", "cmd", "ping", "cmd", "stats");
	return *out ? 0 : -ENOMEM;
}

/*
 * The rules between a VIP's settings (xlb_vip_rules()), as far as the
 * command line tells them: vip set may not name the mode the VIP has.
 */
static int check_vip_rules(const char *vip, const char *mode, const char *mss,
			   const char *encap, char *err, size_t errlen)
{
	struct xlb_service svc;
	uint32_t n = 0;

	if (xlb_service_parse(vip, &svc))
		return 0;
	if (mss)
		parse_u32(mss, &n);
	return xlb_vip_rules(svc.proto,
			     mode && strcmp(mode, "tunnel") ? XLB_MODE_FULLNAT
							    : XLB_MODE_TUNNEL,
			     n, mode && encap && !strcmp(encap, "gue"), "--",
			     NULL, err, errlen);
}

/* vip add: --mss on TCP VIPs only, --encap gue on tunnel VIPs only. */
static int vip_add_setup(struct lbctl_invocation *inv,
			 const struct lbctl_values *v, char *err, size_t errlen)
{
	return check_vip_rules(v->args[0], v->opts[VIP_ADD_OPT_MODE],
			       v->opts[VIP_ADD_OPT_MSS],
			       v->opts[VIP_ADD_OPT_ENCAP], err, errlen);
}

/* vip set: at least one of --mode, --mss and --encap, and the rules. */
static int vip_set_setup(struct lbctl_invocation *inv,
			 const struct lbctl_values *v, char *err, size_t errlen)
{
	if (!v->opts[VIP_SET_OPT_MODE] && !v->opts[VIP_SET_OPT_MSS] &&
	    !v->opts[VIP_SET_OPT_ENCAP]) {
		snprintf(err, errlen, "vip set needs --mode, --mss or --encap");
		return -EINVAL;
	}
	return check_vip_rules(v->args[0], v->opts[VIP_SET_OPT_MODE],
			       v->opts[VIP_SET_OPT_MSS],
			       v->opts[VIP_SET_OPT_ENCAP], err, errlen);
}

/* decap attach: --from any stands alone. */
static int decap_attach_setup(struct lbctl_invocation *inv,
			      const struct lbctl_values *v, char *err,
			      size_t errlen)
{
	size_t i, n = v->n_multi[DECAP_OPT_FROM], any = 0;

	for (i = 0; i < n; i++)
		any += !strcmp(v->multi[DECAP_OPT_FROM][i], "any");
	if (any && n > 1) {
		snprintf(err, errlen,
			 "--from any accepts every source: give it alone");
		return -EINVAL;
	}
	if (n > XLB_DECAP_MAX_SOURCES) {
		snprintf(err, errlen, "--from: at most %d prefixes",
			 XLB_DECAP_MAX_SOURCES);
		return -EINVAL;
	}
	return 0;
}

/* stats: --rate, --watch [SECONDS] and --count N (which needs --watch). */
static int stats_setup(struct lbctl_invocation *inv,
		       const struct lbctl_values *v, char *err, size_t errlen)
{
	inv->rate = v->opts[STATS_OPT_RATE] != NULL;
	if (v->opts[STATS_OPT_WATCH])
		parse_u32(v->opts[STATS_OPT_WATCH], &inv->watch_s);
	if (v->opts[STATS_OPT_COUNT]) {
		if (!inv->watch_s) {
			snprintf(err, errlen, "--count needs --watch");
			return -EINVAL;
		}
		parse_u32(v->opts[STATS_OPT_COUNT], &inv->count);
	}
	return 0;
}

int lbctl_parse(int argc, char **argv, struct lbctl_invocation *inv, char *err,
		size_t errlen)
{
	struct parse p = {.inv = inv, .err = err, .errlen = errlen};
	const struct lbctl_cmd *cmd;
	bool dashdash = false;
	const char *a;
	size_t i;
	int ai, ret;

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
	if (p.gopts[GOPT_COMMANDS]) {
		inv->action = LBCTL_COMMANDS;
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
		fail_missing_arg(&p);
	for (i = 0; cmd->opts[i].name; i++)
		if (cmd->opts[i].required && !p.v.opts[i])
			parse_fail(&p, "missing option --%s %s",
				   cmd->opts[i].name, cmd->opts[i].metavar);
	if (p.failed)
		return -EINVAL;
	check_values(&p);
	if (p.failed)
		return -EINVAL;

	if (cmd->setup) {
		ret = cmd->setup(inv, &p.v, err, errlen);
		if (ret)
			return ret;
	}

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

/* A parameter's help: its own, or its setting's. */
static const char *param_help(const struct lbctl_param *o)
{
	if (o->help || o->type != LBCTL_T_SETTING)
		return o->help;
	return xlb_setting_find(o->section, o->key)->help;
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

/*
 * "lbctl vip add VIP [--hash maglev|source-ip] [--table-size M] ...",
 * from column col on, options wrapped at HELP_WIDTH onto lines indented
 * under the first argument.
 */
static void print_cmd_usage(FILE *f, int col, const struct lbctl_cmd *c)
{
	const struct lbctl_param *o;
	char tok[96];
	int indent, n;
	size_t i;

	col += fprintf(f, "lbctl");
	for (i = 0; i < cmd_n_words(c); i++)
		col += fprintf(f, " %s", c->words[i]);
	indent = col + 1;
	for (i = 0; c->args[i].name; i++)
		col += fprintf(f, " %s", c->args[i].name);
	for (o = c->opts; o->name; o++) {
		n = snprintf(
			tok, sizeof(tok), "%s--%s%s%s%s",
			o->required ? "" : "[", o->name, o->metavar ? " " : "",
			o->metavar ? o->metavar : "", o->required ? "" : "]");
		if (col + 1 + n > HELP_WIDTH) {
			fprintf(f, "\n%*s%s", indent, "", tok);
			col = indent + n;
		} else {
			col += fprintf(f, " %s", tok);
		}
	}
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
		print_cmd_usage(f, 7, c);
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
					   param_help(o));
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
		print_cmd_usage(f, 2, &commands[i]);
		print_wrapped(f, 0, 8, commands[i].summary);
	}
	print_global_help(f);
	fputs("\nRun 'lbctl COMMAND --help' for a command's arguments and "
	      "options.\n",
	      f);
}

/* Options of table t as lbctl --commands lists them. */
static void list_options(FILE *f, const struct lbctl_param *t)
{
	const struct lbctl_param *o;

	for (o = t; o->name; o++)
		fprintf(f, "%s--%s%s%s", o == t ? "" : " ", o->name,
			o->metavar ? "=" : "", o->metavar ? o->metavar : "");
}

void lbctl_list_commands(FILE *f)
{
	const struct lbctl_param *a;
	size_t i;
	char buf[64];

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		fprintf(f, "%s\t",
			words_str(commands[i].words, cmd_n_words(&commands[i]),
				  buf, sizeof(buf)));
		for (a = commands[i].args; a->name; a++)
			fprintf(f, "%s%s", a == commands[i].args ? "" : " ",
				a->name);
		fputc('\t', f);
		list_options(f, commands[i].opts);
		fputc('\n', f);
	}
	fputs("\t\t", f);
	list_options(f, global_opts);
	fputc('\n', f);
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
		print_cmd_usage(f, (int)strlen(prefix), &commands[i]);
		prefix = "       ";
	}
	if (inv->cmd || inv->n_words)
		fprintf(f, "Run 'lbctl %s --help' for details.\n",
			words_str(inv->words, inv->n_words, buf, sizeof(buf)));
	else
		fputs("Run 'lbctl help' for details.\n", f);
}

/* ---- Printers ---------------------------------------------------------- */

void (*lbctl_missing_key)(const char *key);

/* Member k of o: every printer reads the replies through here. */
static json_t *jget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!v && json_is_object(o) && lbctl_missing_key)
		lbctl_missing_key(k);
	return v;
}

/* Field k of o as text, "-" when absent. */
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(jget(o, k));

	return s ? s : "-";
}

/* Field k of o as an integer, 0 when absent. */
static long long jint(json_t *o, const char *k)
{
	return json_integer_value(jget(o, k));
}

/* Columns wide enough for the header and every value. */
static int width_str(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

#define GRID_MAX_COLS 8

/*
 * A table of text cells, row after row (the heads first), printed in
 * columns two blanks apart, each as wide as its widest cell: 'l' columns
 * to the left, the others to the right.
 */
struct grid {
	const char *align; /* a letter per column */
	size_t cols, n, cap;
	char **cells;
	int w[GRID_MAX_COLS];
	bool full; /* out of memory: the rows so far are printed */
};

/* Append a cell; strdup() failing leaves it empty. */
__attribute__((format(printf, 2, 3))) static void grid_add(struct grid *g,
							   const char *fmt, ...)
{
	char buf[256], **more;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (g->n == g->cap && !g->full) {
		more = realloc(g->cells, (g->cap * 2 + 64) * sizeof(*more));
		g->full = !more;
		if (more)
			g->cells = more;
		if (more)
			g->cap = g->cap * 2 + 64;
	}
	if (g->full)
		return;
	g->w[g->n % g->cols] = width_str(g->w[g->n % g->cols], buf);
	g->cells[g->n++] = strdup(buf);
}

/* A grid with columns aligned as align says, headed by heads. */
static void grid_start(struct grid *g, const char *align,
		       const char *const *heads)
{
	size_t c;

	*g = (struct grid){.align = align, .cols = strlen(align)};
	for (c = 0; c < g->cols; c++)
		grid_add(g, "%s", heads[c]);
}

/* Print the grid (unless f is NULL) and free its cells. */
static void grid_print(FILE *f, struct grid *g)
{
	const char *cell;
	size_t i, c;

	for (i = 0; f && i < g->n - g->n % g->cols; i++) {
		c = i % g->cols;
		cell = g->cells[i] ? g->cells[i] : "";
		fprintf(f, g->align[c] == 'l' ? "%s%-*s" : "%s%*s",
			c ? "  " : "",
			g->align[c] == 'l' && c + 1 == g->cols ? 0 : g->w[c],
			cell);
		if (c + 1 == g->cols)
			fputc('\n', f);
	}
	for (i = 0; i < g->n; i++)
		free(g->cells[i]);
	free(g->cells);
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
		reals = jget(vip, "reals");
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
	json_t *vips = jget(reply, "vips"), *vip, *reals, *real;
	int wname = width_names(vips, width_str(0, "VIP"));
	int wreal = wname - (int)strlen(REAL_PREFIX);
	const char *encap;
	char mss[16];
	size_t i, j;

	fprintf(f, "%-*s  %-9s  %-7s  %-5s  %5s  %7s  %5s\n", wname, "VIP",
		"HASH", "MODE", "ENCAP", "MSS", "TABLE", "REALS");
	for (i = 0; i < json_array_size(vips); i++) {
		vip = json_array_get(vips, i);
		reals = jget(vip, "reals");
		if (jint(vip, "mss"))
			snprintf(mss, sizeof(mss), "%lld", jint(vip, "mss"));
		else
			snprintf(mss, sizeof(mss), "-");
		/* A fullnat VIP has no tunnel to encapsulate in. */
		encap = strcmp(jstr(vip, "mode"), "tunnel")
				? "-"
				: jstr(vip, "encap");
		fprintf(f, "%-*s  %-9s  %-7s  %-5s  %5s  %7lld  %5zu\n", wname,
			jstr(vip, "vip"), jstr(vip, "hash"), jstr(vip, "mode"),
			encap, mss, jint(vip, "table_size"),
			json_array_size(reals));
		for (j = 0; j < json_array_size(reals); j++) {
			real = json_array_get(reals, j);
			fprintf(f, REAL_PREFIX "%-*s  weight %-5lld  %s\n",
				wreal, jstr(real, "address"),
				jint(real, "weight"), jstr(real, "state"));
		}
	}
}

/*
 * Each VIP of vips and its reals, indented under it: the name, then the
 * cells row() adds for the VIP or real o.
 */
static void grid_vips(struct grid *g, json_t *vips,
		      void (*row)(struct grid *g, json_t *o, bool real,
				  void *arg),
		      void *arg)
{
	json_t *vip, *real;
	size_t i, j;

	json_array_foreach(vips, i, vip) {
		grid_add(g, "%s", jstr(vip, "vip"));
		row(g, vip, false, arg);
		json_array_foreach(jget(vip, "reals"), j, real) {
			grid_add(g, REAL_PREFIX "%s", jstr(real, "address"));
			row(g, real, true, arg);
		}
	}
}

/* The counters of a VIP or real; bytes too when arg is "bytes". */
static void counters_row(struct grid *g, json_t *o, bool real, void *arg)
{
	grid_add(g, "%lld", jint(o, "packets"));
	if (arg)
		grid_add(g, "%lld", jint(o, "bytes"));
	grid_add(g, "%lld", jint(o, "new_flows"));
	grid_add(g, "%lld", jint(o, "active_conns"));
	grid_add(g, "%lld", jint(o, "inactive_conns"));
}

/*
 * After a blank line, the reasons above zero with their count (rate: per
 * second), the count column at least min_w wide.
 */
static void print_reasons(FILE *f, json_t *reasons, bool rate, int min_w)
{
	const char *heads[] = {"REASON", rate ? "PER SEC" : "PACKETS"};
	struct grid g;
	const char *k;
	json_t *v;

	grid_start(&g, "lr", heads);
	g.w[1] = width_str(min_w, heads[1]);
	json_object_foreach(reasons, k, v) {
		if (rate ? json_number_value(v) <= 0 : !json_integer_value(v))
			continue;
		grid_add(&g, "%s", k);
		if (rate)
			grid_add(&g, "%.1f", json_number_value(v));
		else
			grid_add(&g, "%lld", (long long)json_integer_value(v));
	}
	fputc('\n', f);
	grid_print(f, &g);
}

/* Local addresses and their sessions, as a table. */
static void print_laddr_table(FILE *f, json_t *laddrs)
{
	static const char *const heads[] = {"LOCAL ADDRESS", "SESSIONS"};
	struct grid g;
	json_t *l;
	size_t i;

	grid_start(&g, "lr", heads);
	json_array_foreach(laddrs, i, l) {
		grid_add(&g, "%s", jstr(l, "address"));
		grid_add(&g, "%lld", jint(l, "sessions"));
	}
	grid_print(f, &g);
}

/*
 * stats: the FULLNAT block, when the node has a local pool or sessions:
 * active sessions, the port split, the sweeps, each local address.
 */
static void print_fullnat(FILE *f, json_t *fn)
{
	json_t *laddrs = jget(fn, "local_addresses");
	json_t *gc = jget(fn, "gc");

	if (!json_is_object(fn) ||
	    (!json_array_size(laddrs) && !jint(fn, "entries")))
		return;
	fprintf(f,
		"\nFULLNAT: %lld active sessions (%lld entries of %lld), "
		"ports %lld-%lld, %lld per CPU on %lld CPUs\n",
		jint(fn, "sessions"), jint(fn, "entries"),
		jint(fn, "table_size"), jint(fn, "port_min"),
		jint(fn, "port_max"), jint(fn, "ports_per_cpu"),
		jint(fn, "cpus"));
	fprintf(f, "sweeps: %lld, %lld sessions expired, %lld orphans\n",
		jint(gc, "sweeps"), jint(gc, "expired"), jint(gc, "orphans"));
	if (json_array_size(laddrs)) {
		fputc('\n', f);
		print_laddr_table(f, laddrs);
	}
}

/* laddr list */
static void print_laddrs(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply)
{
	print_laddr_table(f, jget(reply, "local_addresses"));
}

/* node status: the lifecycle, routes, daemons, then the peers. */
static void print_node(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply)
{
	json_t *sync = jget(reply, "sync"), *e, *drain;
	const char *name = json_string_value(jget(reply, "node"));
	const char *why;
	size_t i;

	/* A node without a cluster has a null name. */
	fprintf(f, "node %s: %s for %lld ms",
		name && name[0] ? name : "(no cluster)", jstr(reply, "state"),
		jint(reply, "since_ms"));
	drain = jget(reply, "drain");
	if (!strcmp(jstr(reply, "state"), "draining"))
		fprintf(f, ", %s (no flow for %lld ms)",
			json_is_true(jget(drain, "drained"))
				? "drained"
				: "still forwarding",
			jint(drain, "idle_ms"));
	why = json_string_value(jget(reply, "reason"));
	if (why && why[0])
		fprintf(f, ": %s", why);
	fprintf(f, "\n");
	if (json_array_size(jget(reply, "routes"))) {
		fprintf(f, "%-40s %-7s %-10s %-10s %s\n", "ROUTE", "KIND",
			"METRIC", "ANNOUNCED", "WHY NOT");
		json_array_foreach(jget(reply, "routes"), i, e)
			fprintf(f, "%-40s %-7s %-10lld %-10s %s\n",
				jstr(e, "address"), jstr(e, "kind"),
				jint(e, "metric"),
				json_is_true(jget(e, "announced")) ? "yes"
								   : "no",
				jstr(e, "reason"));
	}
	e = jget(reply, "sessions");
	if (json_is_object(e))
		fprintf(f, "sessions: %lld tunnel, %lld fullnat\n",
			jint(e, "tunnel"), jint(e, "fullnat"));
	json_array_foreach(jget(reply, "interfaces"), i, e)
		fprintf(f, "interface %s: %s\n", jstr(e, "name"),
			json_is_true(jget(e, "up")) ? "up" : "DOWN");
	json_array_foreach(jget(reply, "daemons"), i, e)
		fprintf(f, "routing daemon %s: %s (pid %lld)\n",
			jstr(e, "name"), jstr(e, "state"), jint(e, "pid"));
	if (!json_is_object(sync))
		return;
	fprintf(f, "%-16s %-5s %-12s %-10s %-10s %-10s %s\n", "PEER", "UP",
		"LAST RX ms", "RX SESS", "TX SESS", "BULK", "BULK SESS");
	json_array_foreach(jget(sync, "peers"), i, e)
		fprintf(f, "%-16s %-5s %-12lld %-10lld %-10lld %-10s %lld\n",
			jstr(e, "name"),
			json_is_true(jget(e, "up")) ? "yes" : "no",
			jint(e, "last_rx_ms_ago"), jint(e, "rx_sessions"),
			jint(e, "tx_sessions"), jstr(e, "bulk"),
			jint(e, "bulk_sessions"));
	fprintf(f, "sync: %lld sent in %lld batches, max lag %lld ms\n",
		jint(sync, "sent"), jint(sync, "batches"),
		jint(sync, "max_lag_ms"));
}

/* Columns of the sessions table, in order, then IDLE and CPU. */
static const char *const session_cols[] = {
	"proto", "client", "vip", "local", "real", "state",
};
static const char *const session_heads[] = {
	"PROTO", "CLIENT", "VIP", "LOCAL", "REAL", "STATE", "IDLE", "CPU",
};

/* A session's CPU: its number, or "peer" for a peer's session. */
static const char *session_cpu(json_t *o, char *buf, size_t len)
{
	json_t *v = jget(o, "cpu");

	if (json_is_string(v))
		return json_string_value(v);
	snprintf(buf, len, "%lld", json_integer_value(v));
	return buf;
}

/* sessions: one line per session, then how many there are. */
static void print_sessions(FILE *f, const struct lbctl_invocation *inv,
			   json_t *reply)
{
	json_t *list = jget(reply, "sessions"), *o, *v;
	struct grid g;
	char cpu[32];
	size_t i, c;

	grid_start(&g, "llllllrr", session_heads);
	json_array_foreach(list, i, o) {
		for (c = 0; c < ARRAY_SIZE(session_cols); c++) {
			v = jget(o, session_cols[c]);
			grid_add(&g, "%s",
				 json_is_string(v) ? json_string_value(v)
						   : "-");
		}
		grid_add(&g, "%lld", jint(o, "idle_seconds"));
		grid_add(&g, "%s", session_cpu(o, cpu, sizeof(cpu)));
	}
	grid_print(f, &g);
	if (json_is_true(jget(reply, "truncated")))
		fprintf(f,
			"(%zu of %lld sessions shown: --limit N shows "
			"more)\n",
			json_array_size(list), jint(reply, "total"));
	else
		fprintf(f, "%lld session%s\n", jint(reply, "total"),
			jint(reply, "total") == 1 ? "" : "s");
}

/* stats: counters per VIP and real, then the non-zero reasons. */
static void print_stats(FILE *f, const struct lbctl_invocation *inv,
			json_t *reply)
{
	static const char *const heads[] = {"VIP / REAL", "PACKETS",
					    "BYTES",	  "NEW FLOWS",
					    "ACTIVE",	  "INACTIVE"};
	struct grid g;
	int wpackets;

	grid_start(&g, "lrrrrr", heads);
	grid_vips(&g, jget(reply, "vips"), counters_row, (void *)"bytes");
	wpackets = g.w[1];
	grid_print(f, &g);
	print_reasons(f, jget(reply, "reasons"), false, wpackets);
	print_fullnat(f, jget(reply, "fullnat"));
}

/* ping: the daemon's version and where it answered. */
static void print_ping(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply)
{
	fprintf(f, "xlbd %s answers on %s\n", jstr(reply, "version"),
		inv->socket);
}

/* Reals by state. */
struct state_counts {
	size_t reals, up, down, draining;
};

/* Count real under its state. */
static void count_state(struct state_counts *c, json_t *real)
{
	const char *state = jstr(real, "state");

	c->reals++;
	c->up += !strcmp(state, "up");
	c->down += !strcmp(state, "down");
	c->draining += !strcmp(state, "draining");
}

/* Sum of the reasons whose name starts with prefix. */
static long long reasons_sum(json_t *reasons, const char *prefix)
{
	long long sum = 0;
	const char *k;
	json_t *v;

	json_object_foreach(reasons, k, v)
		if (!strncmp(k, prefix, strlen(prefix)))
			sum += json_integer_value(v);
	return sum;
}

/*
 * The last health check's duration, "-" when the reply has none, and the
 * way it went when that is not direct ("0.4 ms tunnel", "0.3 ms local").
 */
static const char *check_str(json_t *real, char *buf, size_t len)
{
	json_t *h = jget(real, "health");
	json_t *lat = jget(h, "latency_seconds");
	const char *way = json_string_value(jget(h, "through"));

	if (!json_is_number(lat))
		return "-";
	if (way && strcmp(way, "direct"))
		snprintf(buf, len, "%.1f ms %s", json_number_value(lat) * 1000,
			 way);
	else
		snprintf(buf, len, "%.1f ms", json_number_value(lat) * 1000);
	return buf;
}

/* A setting's value in status: its number, or "?" when unreadable. */
static const char *setting_str(json_t *o, const char *key, char *buf,
			       size_t len)
{
	json_t *v = jget(o, key);

	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "?");
	return buf;
}

/* The kernel settings the data plane depends on (ping's "host"). */
static void print_host(FILE *f, json_t *host)
{
	json_t *one, *saved = jget(host, "restore_on_shutdown");
	char a[16], b[16], c[16];
	size_t i;

	if (!json_is_object(host))
		return;
	fprintf(f, "host: ip_forward %s, ipv6 forwarding %s, rp_filter %s",
		setting_str(host, "ipv4_forwarding", a, sizeof(a)),
		setting_str(host, "ipv6_forwarding", b, sizeof(b)),
		setting_str(host, "rp_filter", c, sizeof(c)));
	json_array_foreach(jget(host, "interfaces"), i, one)
		fprintf(f, "; %s: accept_local %s, rp_filter %s",
			jstr(one, "name"),
			setting_str(one, "accept_local", a, sizeof(a)),
			setting_str(one, "rp_filter", b, sizeof(b)));
	fprintf(f, "\n");
	if (!json_array_size(saved))
		return;
	fprintf(f, "set by xlbd, restored by lbctl shutdown:");
	json_array_foreach(saved, i, one)
		fprintf(f, "%s %s=%lld", i ? "," : "", jstr(one, "sysctl"),
			jint(one, "was"));
	fprintf(f, "\n");
}

/* config dump: the file as the daemon wrote it. */
static void print_config(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply)
{
	const char *text = json_string_value(jget(reply, "config"));

	fputs(text ? text : "", f);
}

/* A row of the status table: a VIP's reals up, counted into arg (struct
 * state_counts), or a real's state, weight and check; the counters. */
static void status_row(struct grid *g, json_t *o, bool real, void *arg)
{
	struct state_counts *all = arg, one = {0};
	char check[32];
	json_t *r;
	size_t j;

	if (real) {
		grid_add(g, "%s", jstr(o, "state"));
		grid_add(g, "%lld", jint(o, "weight"));
		grid_add(g, "%s", check_str(o, check, sizeof(check)));
	} else {
		json_array_foreach(jget(o, "reals"), j, r)
			count_state(&one, r);
		grid_add(g, "%zu/%zu up", one.up, one.reals);
		grid_add(g, "%s", "");
		grid_add(g, "%s", "");
		all->reals += one.reals;
		all->up += one.up;
		all->down += one.down;
		all->draining += one.draining;
	}
	counters_row(g, o, real, NULL);
}

/* status: a summary line per node, then VIPs and reals with state. */
static void print_status(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply)
{
	static const char *const heads[] = {
		"VIP / REAL", "STATE",	   "WEIGHT", "CHECK",
		"PACKETS",    "NEW FLOWS", "ACTIVE", "INACTIVE"};
	json_t *vips = jget(reply, "vips");
	json_t *reasons = jget(reply, "reasons");
	struct state_counts all = {0};
	struct grid g;

	grid_start(&g, "llrlrrrr", heads);
	grid_vips(&g, vips, status_row, &all);
	fprintf(f,
		"xlbd %s on %s: %zu VIP%s, %zu real%s (%zu up, %zu down, "
		"%zu draining)\n",
		jstr(reply, "version"), inv->socket, json_array_size(vips),
		json_array_size(vips) == 1 ? "" : "s", all.reals,
		all.reals == 1 ? "" : "s", all.up, all.down, all.draining);
	fprintf(f, "packets: %lld forwarded, %lld passed, %lld dropped\n",
		reasons_sum(reasons, "forward_"), reasons_sum(reasons, "pass_"),
		reasons_sum(reasons, "drop_"));
	print_host(f, jget(reply, "host"));
	if (json_array_size(vips))
		fputc('\n', f);
	grid_print(json_array_size(vips) ? f : NULL, &g);
}

/* reload: what changed, as xlbd logs it. */
static void print_reload(FILE *f, const struct lbctl_invocation *inv,
			 json_t *reply)
{
	json_t *c = jget(reply, "changes");

	if (!json_is_object(c)) {
		fputs("reloaded\n", f);
		return;
	}
	fprintf(f,
		"reloaded: VIPs +%lld -%lld ~%lld, reals +%lld -%lld ~%lld, "
		"checks ~%lld\n",
		jint(c, "vips_added"), jint(c, "vips_removed"),
		jint(c, "vips_changed"), jint(c, "reals_added"),
		jint(c, "reals_removed"), jint(c, "reals_changed"),
		jint(c, "checks_changed"));
}

/* ---- Rates ------------------------------------------------------------- */

/* Each counter of a VIP or real, and the name of its rate. */
static const char *const rate_keys[][2] = {
	{"new_flows", "new_flows_per_second"},
	{"packets", "packets_per_second"},
	{"bytes", "bytes_per_second"},
};

/* (after - before) / seconds; a counter that went back gives 0. */
static double rate_of(json_t *before, json_t *after, double seconds)
{
	json_int_t a = json_integer_value(before);
	json_int_t b = json_integer_value(after);

	if (!json_is_integer(after) || b < a || seconds <= 0)
		return 0;
	return (double)(b - a) / seconds;
}

/* The element of array arr whose member key is name, or NULL. */
static json_t *find_named(json_t *arr, const char *key, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(arr, i, o)
		if (!strcmp(jstr(o, key), name))
			return o;
	return NULL;
}

/* {key: name, NAME_per_second: rate...} of a VIP or a real. */
static json_t *object_rates(json_t *before, json_t *after, const char *key,
			    double seconds)
{
	json_t *o = json_object();
	size_t i;

	if (!o || json_object_set(o, key, jget(after, key)))
		goto out_nomem;
	for (i = 0; i < ARRAY_SIZE(rate_keys); i++)
		if (json_object_set_new(
			    o, rate_keys[i][1],
			    json_real(rate_of(jget(before, rate_keys[i][0]),
					      jget(after, rate_keys[i][0]),
					      seconds))))
			goto out_nomem;
	return o;

out_nomem:
	json_decref(o);
	return NULL;
}

json_t *lbctl_stats_rates(json_t *before, json_t *after, double seconds)
{
	json_t *bvips = jget(before, "vips"), *bvip, *vip, *real;
	json_t *breasons = jget(before, "reasons"), *v;
	json_t *out, *vips, *reals, *reasons, *o;
	const char *name;
	size_t i, j;

	out = json_pack("{s:b,s:f,s:[],s:{}}", "ok", 1, "interval_seconds",
			seconds, "vips", "reasons");
	if (!out)
		return NULL;
	vips = jget(out, "vips");
	reasons = jget(out, "reasons");
	json_array_foreach(jget(after, "vips"), i, vip) {
		name = json_string_value(jget(vip, "vip"));
		if (!name)
			continue;
		bvip = find_named(bvips, "vip", name);
		o = object_rates(bvip, vip, "vip", seconds);
		reals = json_array();
		if (!o || !reals || json_object_set_new(o, "reals", reals) ||
		    json_array_append_new(vips, o))
			goto out_nomem;
		json_array_foreach(jget(vip, "reals"), j, real) {
			name = json_string_value(jget(real, "address"));
			if (!name)
				continue;
			if (json_array_append_new(
				    reals,
				    object_rates(find_named(jget(bvip, "reals"),
							    "address", name),
						 real, "address", seconds)))
				goto out_nomem;
		}
	}
	json_object_foreach(jget(after, "reasons"), name, v)
		if (json_object_set_new(reasons, name,
					json_real(rate_of(jget(breasons, name),
							  v, seconds))))
			goto out_nomem;
	return out;

out_nomem:
	json_decref(out);
	return NULL;
}

/* The rates of a VIP or real (rate_keys). */
static void rates_row(struct grid *g, json_t *o, bool real, void *arg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rate_keys); i++)
		grid_add(g, "%.1f",
			 json_number_value(jget(o, rate_keys[i][1])));
}

/* stats --rate: per-second rates per VIP and real, then the reasons'. */
static void print_rates(FILE *f, const struct lbctl_invocation *inv,
			json_t *rates)
{
	static const char *const heads[] = {"VIP / REAL", "CPS", "InPPS",
					    "InBPS"};
	struct grid g;

	grid_start(&g, "lrrr", heads);
	grid_vips(&g, jget(rates, "vips"), rates_row, NULL);
	grid_print(f, &g);
	print_reasons(f, jget(rates, "reasons"), true, 0);
}

void lbctl_print_reply(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply)
{
	if (inv->json) {
		/* A stream of replies: one compact object a line. */
		json_dumpf(reply, f,
			   inv->watch_s ? JSON_COMPACT : JSON_INDENT(2));
		fputc('\n', f);
		return;
	}
	if (inv->rate)
		print_rates(f, inv, reply);
	else if (inv->cmd && inv->cmd->print)
		inv->cmd->print(f, inv, reply);
}
