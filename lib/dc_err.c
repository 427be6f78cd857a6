// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "dc_err.h"
#include "dc_paths.h"

const char *dc_prog = "datacrumbs";
int dc_verbosity;

static char errbuf[1024];

/*
 * Copies @src to @dst with control characters escaped, so that a message
 * stays one line whatever file or symbol name it quotes.
 */
static void one_line(char *dst, size_t n, const char *src)
{
	size_t o = 0;

	for (; *src && o + 5 < n; src++) {
		unsigned char c = *src;

		if (c == '\n')
			o += snprintf(dst + o, n - o, "\\n");
		else if (c == '\t')
			o += snprintf(dst + o, n - o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			o += snprintf(dst + o, n - o, "\\x%02x", c);
		else
			dst[o++] = c;
	}
	dst[o] = '\0';
}

int dc_err(int code, const char *fmt, ...)
{
	char tmp[sizeof(errbuf)];
	va_list ap;

	/* Formatted aside: the arguments may include dc_errmsg() itself. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	one_line(errbuf, sizeof(errbuf), tmp);
	return code;
}

const char *dc_errmsg(int code)
{
	if (errbuf[0])
		return errbuf;
	return strerror(code < 0 ? -code : code);
}

void dc_err_clear(void)
{
	errbuf[0] = '\0';
}

void dc_report(int code)
{
	fprintf(stderr, "%s: %s\n", dc_prog, dc_errmsg(code));
}

static void vsay(const char *tag, const char *fmt, va_list ap)
{
	char msg[sizeof(errbuf)], line[sizeof(errbuf)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	one_line(line, sizeof(line), msg);
	fprintf(stderr, "%s: %s%s\n", dc_prog, tag, line);
}

void dc_warn(const char *fmt, ...)
{
	va_list ap;

	if (dc_verbosity < 0)
		return;
	va_start(ap, fmt);
	vsay("warning: ", fmt, ap);
	va_end(ap);
}

bool dc_std_option(int c, void (*usage)(FILE *f))
{
	switch (c) {
	case 'q':
		dc_verbosity = -1;
		return true;
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		printf("%s %s\n", dc_prog, DC_VERSION);
		exit(0);
	case '?':
		fprintf(stderr, "Try '%s --help'.\n", dc_prog);
		exit(2);
	}
	return false;
}

void dc_info(const char *fmt, ...)
{
	va_list ap;

	if (dc_verbosity < 1)
		return;
	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}
