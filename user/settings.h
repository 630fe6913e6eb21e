/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every setting of the agent, declared once (settings.c): its name, type,
 * range or choices, default, help and where it lives. The configuration
 * file (config.c), the control socket (control.c) and lbctl (lbctl_cli.c)
 * read values through xlb_setting_parse() and xlb_setting_check(), so all
 * three accept the same values and refuse the others with the same words;
 * docs/CONFIG.md's key tables are checked against the table by
 * tests/unit/test_settings.c.
 */
#ifndef XLB_SETTINGS_H
#define XLB_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xlb_set_type {
	XLB_SET_U32,	 /* a decimal integer in min..max */
	XLB_SET_PRIME,	 /* the same, and a prime */
	XLB_SET_MS,	 /* a duration in ms, min..max: 500, 500ms or 2s */
	XLB_SET_ENUM,	 /* one of choices */
	XLB_SET_BOOL,	 /* true or false */
	XLB_SET_PATH,	 /* an absolute path, a string shorter than size */
	XLB_SET_NAME,	 /* letters, digits, '.', '_', '-', shorter than size */
	XLB_SET_CUSTOM,	 /* text read by its own reader (addresses, lists) */
	XLB_SET_SECTION, /* a mapping of the settings whose section it is */
};

/* Where a setting lives. */
enum xlb_set_scope {
	XLB_SCOPE_NODE,	 /* the node: the file's top level and sections */
	XLB_SCOPE_VIP,	 /* each VIP (vips[]), also lbctl vip add/set */
	XLB_SCOPE_REAL,	 /* each real (vips[].reals[]), also lbctl real */
	XLB_SCOPE_CHECK, /* a health check, a VIP's or a real's */
};

struct xlb_config;

struct xlb_setting {
	/*
	 * The mapping it is a key of: "" (top level), "fullnat.timeouts",
	 * "vips" (a VIP), "reals" (a real), "health" (a check), ...
	 */
	const char *section;
	const char *key;
	enum xlb_set_type type;
	enum xlb_set_scope scope;
	uint32_t min, max; /* U32, PRIME, MS */
	bool zero_off;	   /* U32: 0 is accepted too, and means off */
	/* ENUM: NULL-terminated names; a name's value is values[i], or i
	 * when values is NULL (several names may share a value). */
	const char *const *choices;
	const uint8_t *values;
	/* Where the value is stored in the section's struct (size 1, 2 or
	 * 4 bytes; PATH, NAME: the buffer); size 0: a custom reader stores
	 * it. SECTION: the offset of its keys' struct (size 0). */
	size_t offset, size;
	uint32_t dflt;	      /* numeric default, written by the defaults */
	const char *dflt_str; /* PATH, NAME: the default, or NULL ("") */
	/* The default as docs/CONFIG.md says it; NULL: dflt, for a plain
	 * number, else nothing. */
	const char *dflt_doc;
	const char *help;  /* one line for lbctl and the control docs */
	uint8_t for_check; /* CHECK: only for checks of this type; 0 any */
	bool required;	   /* a key its mapping must have */
	bool restart;	   /* a change needs a restart, not a reload */
	/* A restart-only setting a custom reader stores (size 0): whether
	 * two configurations differ in it; NULL: every reload is refused,
	 * so that a row without it shows at once. */
	bool (*differs)(const struct xlb_config *a, const struct xlb_config *b);
};

/* Every setting; *n gets their number. */
const struct xlb_setting *xlb_settings(size_t *n);
/* The setting called key in section, or NULL. */
const struct xlb_setting *xlb_setting_find(const char *section,
					   const char *key);

/*
 * The one validator. Read text as a value of s into *v (ENUM: the
 * choice's value; BOOL: 0 or 1). On error returns -EINVAL and err reads
 * the reason without the setting's name, which the caller puts first as
 * its way in names it ("2 is out of range 3..1048573"). Not for CUSTOM
 * or SECTION settings.
 */
int xlb_setting_parse(const struct xlb_setting *s, const char *text,
		      uint32_t *v, char *err, size_t errlen);
/* Check a number given as a number (the control socket's JSON), in the
 * same words as xlb_setting_parse(). */
int xlb_setting_check(const struct xlb_setting *s, uint64_t n, char *err,
		      size_t errlen);
/* "a, b or c": the choices of an ENUM setting, for messages and help. */
const char *xlb_setting_choices(const struct xlb_setting *s, char *buf,
				size_t len);

/*
 * The validator as every way in reports a bad value: "LABEL: REASON",
 * label being how that way names the setting ("mss", "--mss"). Reads
 * text (xlb_setting_parse()), or with text NULL checks the number n
 * (xlb_setting_check()); the value goes to *v unless v is NULL.
 */
int xlb_setting_check_key(const struct xlb_setting *s, const char *label,
			  const char *text, uint64_t n, uint32_t *v, char *err,
			  size_t errlen);
/* Read text as a value of s and store it in obj (PATH and NAME too), in
 * the words of xlb_setting_check_key(). */
int xlb_setting_set(const struct xlb_setting *s, const char *label, void *obj,
		    const char *text, char *err, size_t errlen);

/* Store v into obj at s's offset, and read it back. */
void xlb_setting_store(const struct xlb_setting *s, void *obj, uint32_t v);
uint32_t xlb_setting_load(const struct xlb_setting *s, const void *obj);
/* The name of the choice of ENUM setting s whose value is v, or NULL. */
const char *xlb_setting_choice_name(const struct xlb_setting *s, uint32_t v);

/*
 * The rules between a VIP's settings, whichever way they come: an MSS
 * clamp (other than 0, off) is for TCP VIPs only, GUE for tunnel VIPs
 * only. Returns 0, or -EINVAL with err reading "PREFIXKEY: REASON"
 * ("mss: only TCP VIPs have an MSS to clamp"; prefix "--" for lbctl) and
 * *key, unless key is NULL, naming the setting at fault.
 */
int xlb_vip_rules(uint8_t proto, int mode, uint32_t mss, bool gue,
		  const char *prefix, const char **key, char *err,
		  size_t errlen);

/*
 * Check the plain numbers and choices stored in obj for section's
 * settings, as given by code rather than text (a check spec handed to the
 * health module); with zero_is_default a 0 passes (not set). Returns 0, or
 * -EINVAL with err reading "key: reason".
 */
int xlb_settings_check(const char *section, const void *obj,
		       bool zero_is_default, char *err, size_t errlen);

/* Write every stored default of section's settings into obj. */
void xlb_settings_defaults(const char *section, void *obj);

#endif /* XLB_SETTINGS_H */
