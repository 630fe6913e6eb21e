/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging for xlbd and lbctl: one place decides level and destination. */
#ifndef XLB_LOG_H
#define XLB_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum xlb_log_level {
	XLB_LOG_WARN = 0,
	XLB_LOG_INFO,
	XLB_LOG_DEBUG,
};

void xlb_log_set_level(enum xlb_log_level level);
/* Prefix every line with "NAME: " (the program name). */
void xlb_log_set_ident(const char *ident);
/* Route libbpf and libxdp messages through xlb_log (warnings only, or
 * everything at debug level). */
void xlb_log_hook_libs(void);
/*
 * While quiet, library warnings are logged at debug level: libxdp tries
 * its dispatcher first and libbpf warns when the kernel refuses it,
 * although libxdp then attaches the program alone as intended.
 */
void xlb_log_libs_quiet(bool quiet);
void xlb_log(enum xlb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xlb_vlog(enum xlb_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * How library code reports a failure: fill err (when given) with the
 * reason and return ret, for the caller to log once.
 */
int xlb_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pr_warn(fmt, ...)  xlb_log(XLB_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  xlb_log(XLB_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) xlb_log(XLB_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif /* XLB_LOG_H */
