// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dc_regex.h"

#define OVER (DC_REGEX_MAX_ELEMS + 1ull)

struct level {
	uint64_t done; /* the closed atoms and alternatives so far */
	uint64_t last; /* the atom a following count would repeat */
};

static uint64_t sat(uint64_t v)
{
	return v > OVER ? OVER : v;
}

/* After "[": the end of the bracket expression, or NULL to leave it to regcomp. */
static const char *bracket_end(const char *p)
{
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];

			for (p += 2; *p && !(p[0] == close && p[1] == ']'); p++)
				;
			if (!*p)
				return NULL;
			p++;
		}
	}
	return *p ? p : NULL;
}

/* Leading zeros do not hide a count: glibc reads them all. */
static const char *number(const char *p, uint64_t *v, bool *any)
{
	for (*v = 0, *any = false; *p >= '0' && *p <= '9'; p++, *any = true)
		*v = sat(*v * 10 + (uint64_t)(*p - '0'));
	return p;
}

/* After "{": the bound's count of copies, with *end after "}", or 0 when it is no bound. */
static uint64_t bound(const char *p, const char **end)
{
	uint64_t lo, hi = 0;
	bool has_lo, has_hi = false, open = false;

	p = number(p, &lo, &has_lo);
	if (*p == ',') {
		open = true;
		p = number(p + 1, &hi, &has_hi);
	}
	if (*p != '}' || (!has_lo && !has_hi))
		return 0;
	*end = p + 1;
	if (open && !has_hi)
		return lo + 1;
	if (hi < lo)
		hi = lo;
	return hi ? hi : 1;
}

/*
 * How many elements glibc builds for @s, counting each copy a repetition
 * makes; saturates just above the limit. Syntax errors are left to regcomp.
 */
static int expanded(const char *s, uint64_t *elems, char *why, size_t len)
{
	struct level st[DC_REGEX_MAX_DEPTH + 1] = { { 0, 0 } }, *l = st;
	const char *p = s, *end;
	uint64_t n;

	while (*p) {
		switch (*p) {
		case '\\':
			if (p[1] >= '1' && p[1] <= '9') {
				snprintf(why, len, "back-references are not supported");
				return -EINVAL;
			}
			l->done = sat(l->done + l->last);
			l->last = 1;
			p += p[1] ? 2 : 1;
			continue;
		case '[':
			end = bracket_end(p + 1);
			if (!end)
				break;
			l->done = sat(l->done + l->last);
			l->last = 1;
			p = end + 1;
			continue;
		case '(':
			if (l == &st[DC_REGEX_MAX_DEPTH]) {
				snprintf(why, len, "groups nested more than %d deep",
					 DC_REGEX_MAX_DEPTH);
				return -EINVAL;
			}
			(++l)->done = 0;
			l->last = 0;
			break;
		case ')':
			if (l == st)
				goto atom;
			n = sat(l->done + l->last);
			l--;
			l->done = sat(l->done + l->last);
			l->last = n ? n : 1;
			break;
		case '|':
			l->done = sat(l->done + l->last);
			l->last = 0;
			break;
		case '*':
		case '?':
			break;
		case '+':
			l->last = sat(l->last * 2);
			break;
		case '{':
			n = bound(p + 1, &end);
			if (!n)
				goto atom;
			l->last = sat(l->last * n);
			p = end;
			continue;
		default:
atom:
			l->done = sat(l->done + l->last);
			l->last = 1;
			break;
		}
		p++;
	}
	for (n = 0; l >= st; l--)
		n = sat(n + l->done + l->last);
	*elems = n;
	return 0;
}

int dc_regex_compile(regex_t *re, const char *s, char *why, size_t len)
{
	uint64_t elems;
	int rc;

	rc = expanded(s, &elems, why, len);
	if (rc)
		return rc;
	if (elems > DC_REGEX_MAX_ELEMS) {
		snprintf(why, len, "expands to more than %d elements", DC_REGEX_MAX_ELEMS);
		return -EINVAL;
	}
	rc = regcomp(re, s, REG_EXTENDED | REG_NOSUB);
	if (rc == REG_ESPACE)
		return -ENOMEM;
	if (rc) {
		regerror(rc, re, why, len);
		regfree(re);
		return -EINVAL;
	}
	return 0;
}
