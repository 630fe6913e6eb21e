// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Logging: stderr, one line per message, level filtered. */
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum xlb_log_level log_level = XLB_LOG_INFO;
static const char *log_ident = "xlb";
static bool libs_quiet;

void xlb_log_libs_quiet(bool quiet)
{
	libs_quiet = quiet;
}

void xlb_log_set_level(enum xlb_log_level level)
{
	log_level = level;
}

void xlb_log_set_ident(const char *ident)
{
	log_ident = ident;
}

void xlb_vlog(enum xlb_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	fprintf(stderr, "%s: %s\n", log_ident, line);
}

void xlb_log(enum xlb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlb_vlog(level, fmt, ap);
	va_end(ap);
}

int xlb_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN && !libs_quiet)
		xlb_vlog(XLB_LOG_WARN, fmt, ap);
	else
		xlb_vlog(XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	/*
	 * libxdp warns when the kernel refuses its dispatcher and it falls
	 * back to attaching our program alone; that is expected here, so
	 * its messages are debug unless they are errors we report ourselves.
	 */
	(void)level;
	xlb_vlog(XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

void xlb_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
