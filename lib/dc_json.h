/* SPDX-License-Identifier: MIT */
/*
 * JSON for trace lines: escaping strings on the way out, and parsing one
 * DFTracer line (a flat event object with an "args" object) on the way in.
 * The parser validates the whole line, so a line it accepts is valid JSON.
 */
#ifndef DC_JSON_H
#define DC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes @n bytes of @s to @dst as a JSON string body: escaped, with bytes
 * that are not valid UTF-8 as \u00XX. @dst needs room for 6 * @n bytes.
 * Returns the end of what was written.
 */
char *json_escape(char *dst, const char *s, size_t n);

enum pfw_type { PFW_NONE, PFW_INT, PFW_REAL, PFW_STR, PFW_OTHER };

struct pfw_val {
	enum pfw_type type;
	int64_t i; /* PFW_INT */
	double d; /* PFW_INT and PFW_REAL */
	const char *s; /* PFW_STR: unescaped, NUL-terminated */
	size_t n; /* length of s */
	size_t off, len; /* the value's raw text in the line */
};

#define PFW_MAX_ARGS 24

struct pfw_arg {
	const char *key; /* unescaped, NUL-terminated */
	struct pfw_val v;
};

struct pfw_event {
	struct pfw_val id, name, cat, ph, pid, tid, ts, dur;
	struct pfw_val fhash, hhash; /* beside the args, where counter events carry them */
	struct pfw_arg args[PFW_MAX_ARGS]; /* the first PFW_MAX_ARGS members */
	unsigned int nargs;
};

/*
 * Parses the object on @line (@len bytes, no newline) into @ev. Strings are
 * unescaped into @scratch, which needs @len + 1 bytes and must outlive @ev.
 * Returns 0, or -EINVAL with a short reason in *@why.
 */
int pfw_parse(const char *line, size_t len, struct pfw_event *ev, char *scratch, const char **why);

/* The arg named @key, or NULL. */
const struct pfw_val *pfw_arg(const struct pfw_event *ev, const char *key);

/*
 * The event's "fhash" or "hhash" (@key): in its args, or at the top level,
 * where counter events keep them since all their args must be numbers.
 */
const struct pfw_val *pfw_hash(const struct pfw_event *ev, const char *key);

/* The value as a whole number of the trace's unit (reals are rounded). */
bool pfw_num(const struct pfw_val *v, int64_t *out);

#endif
