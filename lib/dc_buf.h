/* SPDX-License-Identifier: MIT */
/* A growable byte buffer whose allocation failure is sticky, checked once. */
#ifndef DC_BUF_H
#define DC_BUF_H

#include <stddef.h>

struct dc_buf {
	char *p;
	size_t len;
	size_t cap;
	int err; /* -ENOMEM once any append failed */
};

int dc_buf_put(struct dc_buf *b, const void *data, size_t n);
int dc_buf_puts(struct dc_buf *b, const char *s);
int dc_buf_printf(struct dc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminates without counting the NUL in len. */
int dc_buf_cstr(struct dc_buf *b);
void dc_buf_free(struct dc_buf *b);

#endif
