/* SPDX-License-Identifier: MIT */
/* Regular expressions over function and symbol names, from configs and options. */
#ifndef DC_REGEX_H
#define DC_REGEX_H

#include <regex.h>
#include <stddef.h>

/*
 * glibc copies a repeated subexpression once per count while compiling, so
 * nested counts grow the program exponentially: "((a{99}){99}){99}" takes
 * minutes and gigabytes. Names are short and a pattern that expands beyond
 * this many elements matches nothing a shorter one could not.
 */
#define DC_REGEX_MAX_ELEMS 8192
/*
 * Of them, those that can match the empty string ("a?", "(a|)", and the
 * nodes glibc adds for "|", "?" and "*"): glibc works out what each reaches
 * without input in time quadratic in a chain of them, so "(a?){8000}" takes
 * a second and "(){8000}" two. Anchors cost more: a chain of them is cubic,
 * 1,024 "^" take 5 s, so each counts as several.
 */
#define DC_REGEX_MAX_OPTIONAL 2048
#define DC_REGEX_ANCHOR_COST 8
/* glibc parses groups recursively, so depth costs stack. */
#define DC_REGEX_MAX_DEPTH 32

/*
 * Compiles @s as an extended regular expression with REG_NOSUB. On failure
 * returns -EINVAL with why in @why (@len bytes), or -ENOMEM.
 */
int dc_regex_compile(regex_t *re, const char *s, char *why, size_t len);

#endif
