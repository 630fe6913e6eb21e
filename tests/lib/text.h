/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* text.h: reading the text a test got back (a scrape, lbctl's output). */
#ifndef XLB_TESTS_TEXT_H
#define XLB_TESTS_TEXT_H

#include <stdbool.h>
#include <string.h>

/* Does text hold line as a whole line? */
static inline bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#endif /* XLB_TESTS_TEXT_H */
