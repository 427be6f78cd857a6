// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dc_regex.h"

#define OVER (DC_REGEX_MAX_ELEMS + 1ull)

struct level {
	uint64_t done; /* elements of the closed atoms and alternatives */
	uint64_t last; /* elements of the pending atom, which a following count repeats */
	uint64_t odone, olast; /* of each, those that can match the empty string */
	bool alt_empty; /* the alternative so far can match the empty string */
	bool any_empty; /* an alternative of the group before it can */
	bool last_empty; /* the pending atom can */
	const char *counted; /* the repetition the pending atom already carries */
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

/*
 * After "{": the copies glibc makes of the atom and how many of them are
 * required (*lo), with *end after "}"; 0 when it is no bound.
 */
static uint64_t bound(const char *p, uint64_t *lo, const char **end)
{
	uint64_t hi = 0;
	bool has_lo, has_hi = false, open = false;

	p = number(p, lo, &has_lo);
	if (*p == ',') {
		open = true;
		p = number(p + 1, &hi, &has_hi);
	}
	/* glibc reads "{,}" as "{0,}". */
	if (*p != '}' || (!has_lo && !has_hi && !open))
		return 0;
	*end = p + 1;
	if (open && !has_hi)
		return sat(*lo + 1);
	if (hi < *lo)
		hi = *lo;
	return hi ? hi : 1;
}

/* Moves the pending atom into the alternative. */
static void commit(struct level *l)
{
	l->done = sat(l->done + l->last);
	l->odone = sat(l->odone + l->olast);
	l->alt_empty = l->alt_empty && l->last_empty;
	l->last = l->olast = 0;
	l->last_empty = true;
	l->counted = NULL;
}

static void atom(struct level *l, uint64_t n, uint64_t on, bool empty)
{
	commit(l);
	l->last = n;
	l->olast = on;
	l->last_empty = empty;
}

static void open_level(struct level *l)
{
	*l = (struct level){ .alt_empty = true, .last_empty = true };
}

/*
 * @copies of the pending atom, @lo of them required, the others optional;
 * the operator is @op up to @end.
 */
static int repeat(struct level *l, uint64_t lo, uint64_t copies, const char *op, const char *end,
		  char *why, size_t len)
{
	/*
	 * glibc nests one node per operator, and finding what each can reach
	 * without input is quadratic in the chain: "a" and 4,000 stars take 14 s.
	 */
	if (l->counted) {
		snprintf(why, len, "a repetition of a repetition ('%.*s'): group it instead",
			 (int)(end - l->counted < 16 ? end - l->counted : 16), l->counted);
		return -EINVAL;
	}
	if (lo > copies)
		lo = copies;
	/* Each optional copy is wrapped in a node of its own, which matches nothing. */
	l->olast = sat(sat(l->olast * lo) + sat((l->last + 1) * (copies - lo)));
	l->last = sat(sat(l->last * copies) + copies - lo);
	l->last_empty = l->last_empty || lo == 0;
	l->counted = op;
	return 0;
}

/*
 * How many elements glibc builds for @s, counting each copy a repetition
 * makes, and how many of them can match the empty string; both saturate
 * just above the limit. Syntax errors are left to regcomp.
 */
static int expanded(const char *s, uint64_t *elems, uint64_t *optional, char *why, size_t len)
{
	struct level st[DC_REGEX_MAX_DEPTH + 1], *l = st;
	const char *p = s, *end;
	uint64_t n, on, lo;
	bool empty;
	int err;

	open_level(l);
	for (err = 0; !err && *p; p++) {
		switch (*p) {
		case '\\':
			if (p[1] >= '1' && p[1] <= '9') {
				snprintf(why, len, "back-references are not supported");
				return -EINVAL;
			}
			if (p[1] && strchr("<>bB`'", p[1]))
				atom(l, 1, DC_REGEX_ANCHOR_COST, true);
			else
				atom(l, 1, 0, false);
			p += p[1] != 0;
			break;
		case '[':
			end = bracket_end(p + 1);
			atom(l, 1, 0, false);
			if (end)
				p = end;
			break;
		case '(':
			if (l == &st[DC_REGEX_MAX_DEPTH]) {
				snprintf(why, len, "groups nested more than %d deep",
					 DC_REGEX_MAX_DEPTH);
				return -EINVAL;
			}
			commit(l);
			open_level(++l);
			break;
		case ')':
			if (l == st) {
				atom(l, 1, 0, false);
				break;
			}
			commit(l);
			empty = l->any_empty || l->alt_empty;
			n = l->done ? l->done : 1;
			on = empty ? n : l->odone;
			l--;
			atom(l, n, on, empty);
			break;
		case '|':
			/* An alternation node, which itself matches nothing. */
			commit(l);
			l->done = sat(l->done + 1);
			l->odone = sat(l->odone + 1);
			l->any_empty = l->any_empty || l->alt_empty;
			l->alt_empty = true;
			break;
		case '^':
		case '$':
			atom(l, 1, DC_REGEX_ANCHOR_COST, true);
			break;
		case '*':
		case '?':
			err = repeat(l, 0, 1, p, p + 1, why, len);
			break;
		case '+':
			err = repeat(l, 1, 2, p, p + 1, why, len);
			break;
		case '{':
			n = bound(p + 1, &lo, &end);
			if (!n) {
				atom(l, 1, 0, false);
				break;
			}
			err = repeat(l, lo, n, p, end, why, len);
			p = end - 1;
			break;
		default:
			atom(l, 1, 0, false);
			break;
		}
	}
	if (err)
		return err;
	for (*elems = *optional = 0;; l--) {
		commit(l);
		*elems = sat(*elems + l->done);
		*optional = sat(*optional + l->odone);
		if (l == st)
			return 0;
	}
}

int dc_regex_compile(regex_t *re, const char *s, char *why, size_t len)
{
	uint64_t elems, optional;
	int rc;

	rc = expanded(s, &elems, &optional, why, len);
	if (rc)
		return rc;
	if (elems > DC_REGEX_MAX_ELEMS) {
		snprintf(why, len, "expands to more than %d elements", DC_REGEX_MAX_ELEMS);
		return -EINVAL;
	}
	if (optional > DC_REGEX_MAX_OPTIONAL) {
		snprintf(why, len,
			 "expands to more than %d elements that match nothing (a?, (a|), |, ^)",
			 DC_REGEX_MAX_OPTIONAL);
		return -EINVAL;
	}
	rc = regcomp(re, s, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, re, why, len);
		regfree(re);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	return 0;
}
