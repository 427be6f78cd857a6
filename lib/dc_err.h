/* SPDX-License-Identifier: MIT */
/*
 * Errors are negative errno codes. The function that knows the context
 * records a one-line message with dc_err(); the tool prints it once at the
 * top, so a failure is reported exactly once, with its cause.
 */
#ifndef DC_ERR_H
#define DC_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* Records the message for @code (negative errno) and returns @code. */
int dc_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of the last dc_err(), or strerror(-code) when none was set. */
const char *dc_errmsg(int code);
/* Forgets the recorded message. */
void dc_err_clear(void);

/* Prints "prog: message" to stderr; for the top level of each tool. */
void dc_report(int code);
/* Prints "prog: warning: ..." unless quiet. */
void dc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dc_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Handles the options every tool has: -q (quiet), -h (help), -V (version)
 * and an unknown option, which exits with status 2. Returns false for others.
 */
bool dc_std_option(int c, void (*usage)(FILE *f));

extern const char *dc_prog;
extern int dc_verbosity; /* -1 quiet, 0 normal, 1 verbose */

#endif
