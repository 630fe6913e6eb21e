/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lbctl's command line, table-driven: each command is a row naming its
 * words, typed positional arguments and options, how to build its JSON
 * request and how to print the reply. Parsing, validation, the request
 * and the help text all come from the table, so they cannot disagree, and
 * none of it needs a running daemon (tests/unit/test_lbctl.c drives it).
 */
#ifndef LBCTL_CLI_H
#define LBCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Exit codes, documented in docs/LBCTL.md. */
enum lbctl_exit {
	LBCTL_EXIT_OK = 0,
	LBCTL_EXIT_FAILED = 1,	    /* the daemon or a local action refused */
	LBCTL_EXIT_USAGE = 2,	    /* bad command line; nothing was sent */
	LBCTL_EXIT_UNREACHABLE = 3, /* no (valid) answer from the socket */
};

#define LBCTL_MAX_WORDS 2 /* "vip add" */
#define LBCTL_MAX_ARGS	2 /* positional arguments of one command */
#define LBCTL_MAX_OPTS	5 /* options of one command, or global ones */

/* stats --rate samples this far apart; --watch refreshes this often. */
#define LBCTL_RATE_INTERVAL_S 1
#define LBCTL_WATCH_DEFAULT_S 2
#define LBCTL_WATCH_MAX_S     3600

enum lbctl_type {
	LBCTL_T_FLAG,	 /* option without a value */
	LBCTL_T_STRING,	 /* any non-empty text */
	LBCTL_T_UINT,	 /* decimal min..max */
	LBCTL_T_SETTING, /* a value of the agent's setting key (settings.h) */
	LBCTL_T_SERVICE, /* a VIP: ADDR:PORT/PROTO, IPv6 in brackets */
	LBCTL_T_IP,	 /* an IPv4 or IPv6 address */
	LBCTL_T_IFNAME,	 /* a network interface name */
	LBCTL_T_PATH,	 /* a Unix socket path (fits sun_path) */
	LBCTL_T_PREFIX,	 /* ADDR/LEN without host bits, or "any" */
};

/* A positional argument or an option of a command. */
struct lbctl_param {
	/* Argument: its metavariable ("VIP"). Option: "weight" for
	 * --weight. A zeroed entry ends a table. */
	const char *name;
	char short_name; /* option: 'h' for -h; 0 if none */
	enum lbctl_type type;
	const char *metavar; /* option value in help ("W"); NULL for flags */
	const char *key;     /* request field it fills; NULL for none */
	const char *help;    /* NULL: the setting's */
	/* LBCTL_T_SETTING: the section of the setting named key, which
	 * gives its type, range or choices and help. */
	const char *section;
	uint32_t min; /* LBCTL_T_UINT: smallest value */
	uint32_t max; /* LBCTL_T_UINT: largest value */
	/* LBCTL_T_SERVICE, LBCTL_T_IP: an address given to be a new VIP,
	 * real (of the VIP argument before it) or local address, refused
	 * where the daemon would refuse it. */
	bool check_role;
	int role;      /* enum xlb_addr_role */
	bool required; /* option that must be given */
	/*
	 * Option whose value may be left out: it is taken from "=VALUE" or
	 * from the next word unless that is an option; else it is dflt.
	 */
	const char *dflt;
	/*
	 * Option that takes every following word up to the next option (at
	 * least one); the request gets them as a JSON array.
	 */
	bool multi;
};

/* What the command line gave, by position in the command's tables. */
struct lbctl_values {
	const char *args[LBCTL_MAX_ARGS];
	/* NULL when not given; for a flag, the word that set it. */
	const char *opts[LBCTL_MAX_OPTS];
	/* A multi option's words: n_multi[i] of them from multi[i][0]
	 * (opts[i] is the first). */
	char *const *multi[LBCTL_MAX_OPTS];
	size_t n_multi[LBCTL_MAX_OPTS];
};

struct lbctl_invocation;

struct lbctl_cmd {
	const char *words[LBCTL_MAX_WORDS + 1]; /* NULL-terminated */
	const char *cmd;			/* the request's "cmd" */
	const char *summary;
	const struct lbctl_param *args; /* ends with a zeroed entry */
	const struct lbctl_param *opts; /* ends with a zeroed entry */
	/* Run by lbctl itself (decap), not sent to the daemon. */
	bool local;
	/*
	 * Build the request from validated values; NULL means the generic
	 * builder: {"cmd": cmd} plus every given value under its key
	 * (strings as given, numbers as integers, flags as true).
	 * A command made of several requests builds an array of them: they
	 * are sent in turn and their replies merged into one object.
	 * Returns 0 or -ENOMEM.
	 */
	int (*build)(const struct lbctl_cmd *cmd, const struct lbctl_values *v,
		     json_t **req);
	/*
	 * Check how the options combine and fill the invocation's sampling
	 * fields (stats); NULL when there is nothing to check. Returns 0, or
	 * -EINVAL with err set.
	 */
	int (*setup)(struct lbctl_invocation *inv, const struct lbctl_values *v,
		     char *err, size_t errlen);
	/* Print a successful reply for humans; NULL prints nothing. */
	void (*print)(FILE *f, const struct lbctl_invocation *inv,
		      json_t *reply);
};

enum lbctl_action {
	LBCTL_RUN,	/* send request (or run it locally, cmd->local) */
	LBCTL_HELP,	/* print lbctl_help() */
	LBCTL_VERSION,	/* print the version */
	LBCTL_COMMANDS, /* print lbctl_list_commands(), for completion */
};

struct lbctl_invocation {
	enum lbctl_action action;
	/* The command named, when the words named a whole one. */
	const struct lbctl_cmd *cmd;
	/* The command words matched so far ("vip" for `lbctl vip --help`),
	 * also set when parsing fails, to pick the usage to show. */
	const char *words[LBCTL_MAX_WORDS];
	size_t n_words;
	const char *socket; /* --socket, or XLB_DEFAULT_SOCKET */
	bool json;	    /* --json */
	json_t *request;    /* LBCTL_RUN: owned by the invocation */
	/*
	 * Sampling (stats): print per-second rates between two samples
	 * (--rate), and/or refresh every watch_s seconds (--watch), count
	 * times (--count; 0 = until interrupted).
	 */
	bool rate;
	uint32_t watch_s;
	uint32_t count;
};

/*
 * Parse and validate a command line. Returns 0 with inv filled; -EINVAL
 * for a usage error, with err naming the problem (and inv->cmd/words set
 * as far as they were recognised, for lbctl_usage()); -ENOMEM.
 * Free with lbctl_invocation_free() in every case.
 */
int lbctl_parse(int argc, char **argv, struct lbctl_invocation *inv, char *err,
		size_t errlen);
void lbctl_invocation_free(struct lbctl_invocation *inv);

/* Help for what inv names: one command, a group ("vip"), or all. */
void lbctl_help(FILE *f, const struct lbctl_invocation *inv);
/* The short usage lines shown after a usage error. */
void lbctl_usage(FILE *f, const struct lbctl_invocation *inv);
/*
 * Print a successful reply: raw JSON with --json (one compact line per
 * reply with --watch), else cmd->print; with --rate, reply is what
 * lbctl_stats_rates() made.
 */
void lbctl_print_reply(FILE *f, const struct lbctl_invocation *inv,
		       json_t *reply);

/*
 * The rates between two stats replies taken seconds apart, as a new
 * reply object (docs/LBCTL.md, stats --rate): per VIP, real and reason.
 * VIPs and reals are matched by name; one that is new in after counts
 * from zero, a counter that went back (reset) gives 0. NULL when out of
 * memory.
 */
json_t *lbctl_stats_rates(json_t *before, json_t *after, double seconds);

/*
 * Every command, one a line, for shell completion (lbctl --commands):
 * "WORDS<TAB>ARGS<TAB>OPTIONS", options as --name (flag) or
 * --name=METAVAR; a last line with empty WORDS and ARGS holds the global
 * options.
 */
void lbctl_list_commands(FILE *f);

/*
 * Called, when set, with each member a printer looks for in an object of
 * a reply and does not find: test_views feeds the printers the real
 * agent's views, so that a member renamed on either side fails by name.
 */
extern void (*lbctl_missing_key)(const char *key);

/* The command table, for tests and documentation. */
const struct lbctl_cmd *lbctl_commands(size_t *n);

#endif /* LBCTL_CLI_H */
