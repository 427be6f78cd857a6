// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_buf.h"

static int reserve(struct dc_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int dc_buf_put(struct dc_buf *b, const void *data, size_t n)
{
	int err = reserve(b, n);

	if (err)
		return err;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

int dc_buf_puts(struct dc_buf *b, const char *s)
{
	return dc_buf_put(b, s, strlen(s));
}

int dc_buf_printf(struct dc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return b->err = -EINVAL;
	err = reserve(b, n);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

int dc_buf_cstr(struct dc_buf *b)
{
	int err = reserve(b, 0);

	if (err)
		return err;
	b->p[b->len] = '\0';
	return 0;
}

void dc_buf_free(struct dc_buf *b)
{
	free(b->p);
	*b = (struct dc_buf){ 0 };
}
