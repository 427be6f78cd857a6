// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dc_json.h"

static const char hexd[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at @s, or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

char *json_escape(char *p, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = c;
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			*p++ = c;
			i++;
		} else if (c >= 0x80 && (k = utf8_len(s + i, n - i))) {
			memcpy(p, s + i, k);
			p += k;
			i += k;
		} else {
			memcpy(p, "\\u00", 4);
			p += 4;
			*p++ = hexd[c >> 4];
			*p++ = hexd[c & 15];
			i++;
		}
	}
	return p;
}

struct parser {
	const char *p, *start, *end;
	char *out; /* next free byte of the scratch buffer */
	const char *why;
	int depth;
};

#define MAX_DEPTH 64

static int bad(struct parser *ps, const char *why)
{
	if (!ps->why)
		ps->why = why;
	return -EINVAL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n'))
		ps->p++;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = cp;
	} else if (cp < 0x800) {
		*o++ = 0xc0 | cp >> 6;
		*o++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*o++ = 0xe0 | cp >> 12;
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	} else {
		*o++ = 0xf0 | cp >> 18;
		*o++ = 0x80 | ((cp >> 12) & 0x3f);
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	}
	return o;
}

/* An escape after the backslash at ps->p; appends its bytes at *o. */
static int unescape(struct parser *ps, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *c;
	uint32_t cp, lo;

	if (ps->end - ps->p < 2)
		return bad(ps, "unterminated string");
	c = strchr(from, ps->p[1]);
	if (c && ps->p[1]) {
		*(*o)++ = to[c - from];
		ps->p += 2;
		return 0;
	}
	if (ps->p[1] != 'u' || ps->end - ps->p < 6 || hex4(ps->p + 2, &cp))
		return bad(ps, "bad escape in a string");
	ps->p += 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate must pair with a low one. */
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
		    hex4(ps->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return bad(ps, "unpaired surrogate in a string");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		ps->p += 6;
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return bad(ps, "unpaired surrogate in a string");
	}
	*o = put_utf8(*o, cp);
	return 0;
}

/* A string at ps->p (on its quote), unescaped into the scratch buffer. */
static int parse_string(struct parser *ps, const char **s, size_t *n)
{
	char *o = ps->out;
	int err;

	ps->p++;
	*s = o;
	while (ps->p < ps->end && *ps->p != '"') {
		unsigned char c = *ps->p;

		if (c < 0x20)
			return bad(ps, "control character in a string");
		if (c == '\\') {
			err = unescape(ps, &o);
			if (err)
				return err;
			continue;
		}
		*o++ = c;
		ps->p++;
	}
	if (ps->p >= ps->end)
		return bad(ps, "unterminated string");
	ps->p++;
	*n = o - *s;
	*o++ = '\0';
	ps->out = o;
	return 0;
}

static bool is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static int parse_number(struct parser *ps, struct pfw_val *v)
{
	const char *p = ps->p, *s = p;
	bool real = false, neg = false;
	uint64_t acc = 0;
	char tmp[64];

	if (*p == '-')
		neg = true, p++;
	if (!is_digit(p, ps->end))
		return bad(ps, "bad number");
	if (*p == '0') {
		p++;
	} else {
		while (is_digit(p, ps->end)) {
			if (acc > (UINT64_MAX - 9) / 10)
				real = true;
			acc = acc * 10 + (*p++ - '0');
		}
	}
	if (p < ps->end && *p == '.') {
		p++;
		real = true;
		if (!is_digit(p, ps->end))
			return bad(ps, "bad number");
		while (is_digit(p, ps->end))
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		p++;
		real = true;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, ps->end))
			return bad(ps, "bad number");
		while (is_digit(p, ps->end))
			p++;
	}
	ps->p = p;
	if (!real && acc <= (uint64_t)INT64_MAX + neg) {
		v->type = PFW_INT;
		v->i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
		v->d = (double)v->i;
		return 0;
	}
	if ((size_t)(p - s) >= sizeof(tmp))
		return bad(ps, "number too long");
	memcpy(tmp, s, p - s);
	tmp[p - s] = '\0';
	v->type = PFW_REAL;
	v->d = strtod(tmp, NULL);
	return 0;
}

static int parse_value(struct parser *ps, struct pfw_val *v);

static int expect(struct parser *ps, char c, const char *why)
{
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != c)
		return bad(ps, why);
	ps->p++;
	return 0;
}

/*
 * An object or array at ps->p. With @args set (the event's "args" object),
 * its members are kept in @ev; anything deeper is only validated.
 */
static int parse_container(struct parser *ps, struct pfw_event *ev)
{
	char close = *ps->p == '{' ? '}' : ']';
	bool object = close == '}';
	struct pfw_val v;
	int err;

	if (++ps->depth > MAX_DEPTH)
		return bad(ps, "nested too deeply");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		size_t klen;

		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"')
				return bad(ps, "expected a member name");
			err = parse_string(ps, &key, &klen);
			if (err)
				return err;
			err = expect(ps, ':', "expected ':'");
			if (err)
				return err;
		}
		err = parse_value(ps, &v);
		if (err)
			return err;
		if (ev && ev->nargs < PFW_MAX_ARGS) {
			ev->args[ev->nargs].key = key;
			ev->args[ev->nargs++].v = v;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return 0;
		}
		return bad(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return bad(ps, "unexpected character");
	ps->p += n;
	return 0;
}

static int parse_value(struct parser *ps, struct pfw_val *v)
{
	int err;

	skip_ws(ps);
	memset(v, 0, sizeof(*v));
	v->off = ps->p - ps->start;
	if (ps->p >= ps->end)
		return bad(ps, "expected a value");
	switch (*ps->p) {
	case '"':
		v->type = PFW_STR;
		err = parse_string(ps, &v->s, &v->n);
		break;
	case '{':
	case '[':
		v->type = PFW_OTHER;
		err = parse_container(ps, NULL);
		break;
	case 't':
		v->type = PFW_OTHER;
		err = parse_literal(ps, "true");
		break;
	case 'f':
		v->type = PFW_OTHER;
		err = parse_literal(ps, "false");
		break;
	case 'n':
		v->type = PFW_OTHER;
		err = parse_literal(ps, "null");
		break;
	default:
		err = parse_number(ps, v);
	}
	v->len = ps->p - ps->start - v->off;
	return err;
}

static struct pfw_val *top_slot(struct pfw_event *ev, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} slots[] = {
		{ "id", offsetof(struct pfw_event, id) },
		{ "name", offsetof(struct pfw_event, name) },
		{ "cat", offsetof(struct pfw_event, cat) },
		{ "ph", offsetof(struct pfw_event, ph) },
		{ "pid", offsetof(struct pfw_event, pid) },
		{ "tid", offsetof(struct pfw_event, tid) },
		{ "ts", offsetof(struct pfw_event, ts) },
		{ "dur", offsetof(struct pfw_event, dur) },
		{ "fhash", offsetof(struct pfw_event, fhash) },
		{ "hhash", offsetof(struct pfw_event, hhash) },
	};
	size_t i;

	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (!strcmp(key, slots[i].key))
			return (struct pfw_val *)((char *)ev + slots[i].off);
	return NULL;
}

int pfw_parse(const char *line, size_t len, struct pfw_event *ev, char *scratch, const char **why)
{
	struct parser ps = { .p = line, .start = line, .end = line + len, .out = scratch };
	struct pfw_val v, *slot;
	int err = 0;

	memset(ev, 0, offsetof(struct pfw_event, args));
	ev->nargs = 0;
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{') {
		err = bad(&ps, "not a JSON object");
		goto out;
	}
	ps.p++;
	ps.depth = 1;
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}') {
		ps.p++;
		goto tail;
	}
	for (;;) {
		const char *key;
		size_t klen;

		skip_ws(&ps);
		if (ps.p >= ps.end || *ps.p != '"') {
			err = bad(&ps, "expected a member name");
			goto out;
		}
		err = parse_string(&ps, &key, &klen);
		if (!err)
			err = expect(&ps, ':', "expected ':'");
		if (err)
			goto out;
		skip_ws(&ps);
		if (!strcmp(key, "args") && ps.p < ps.end && *ps.p == '{') {
			ev->nargs = 0;
			err = parse_container(&ps, ev);
		} else {
			err = parse_value(&ps, &v);
			slot = top_slot(ev, key);
			if (!err && slot)
				*slot = v;
		}
		if (err)
			goto out;
		skip_ws(&ps);
		if (ps.p < ps.end && *ps.p == ',') {
			ps.p++;
			continue;
		}
		if (ps.p < ps.end && *ps.p == '}') {
			ps.p++;
			break;
		}
		err = bad(&ps, "expected ',' or '}'");
		goto out;
	}
tail:
	skip_ws(&ps);
	if (ps.p != ps.end)
		err = bad(&ps, "text after the object");
out:
	*why = ps.why;
	return err;
}

const struct pfw_val *pfw_arg(const struct pfw_event *ev, const char *key)
{
	unsigned int i;

	for (i = 0; i < ev->nargs; i++)
		if (ev->args[i].key && !strcmp(ev->args[i].key, key))
			return &ev->args[i].v;
	return NULL;
}

const struct pfw_val *pfw_hash(const struct pfw_event *ev, const char *key)
{
	const struct pfw_val *v = pfw_arg(ev, key);

	if (v)
		return v;
	v = !strcmp(key, "fhash") ? &ev->fhash : !strcmp(key, "hhash") ? &ev->hhash : NULL;
	return v && v->type != PFW_NONE ? v : NULL;
}

bool pfw_num(const struct pfw_val *v, int64_t *out)
{
	if (v->type == PFW_INT) {
		*out = v->i;
		return true;
	}
	if (v->type == PFW_REAL && isfinite(v->d) && fabs(v->d) < 9.2e18) {
		*out = llround(v->d);
		return true;
	}
	return false;
}
