// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "dc_config.h"
#include "dc_err.h"
#include "dc_file.h"
#include "dc_regex.h"

struct ctx {
	struct dc_config *cfg;
	yaml_document_t doc;
};

int dc_config__err(const struct dc_config *c, struct dc_loc loc, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dc_err(code, "%s:%d:%d: %s", c->path, loc.line, loc.col, msg);
}

static struct dc_loc loc_of(const yaml_node_t *n)
{
	return (struct dc_loc){ (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
}

static int node_err(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int node_err(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dc_config__err(x->cfg, loc_of(n), -EINVAL, "%s", msg);
}

bool dc_symbol_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
		      c == '$' || (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

bool dc_label_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static yaml_node_t *node(struct ctx *x, int id)
{
	return yaml_document_get_node(&x->doc, id);
}

static int scalar(struct ctx *x, yaml_node_t *n, const char *what, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return node_err(x, n, "%s must be a single value", what);
	*out = (const char *)n->data.scalar.value;
	if (strlen(*out) != n->data.scalar.length)
		return node_err(x, n, "%s contains a NUL byte", what);
	return 0;
}

static int dup_scalar(struct ctx *x, yaml_node_t *n, const char *what, char **out)
{
	const char *s = NULL;
	int err = scalar(x, n, what, &s);

	if (err)
		return err;
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int bool_scalar(struct ctx *x, yaml_node_t *n, const char *what, bool *v)
{
	const char *s = NULL;
	int err = scalar(x, n, what, &s);

	if (err)
		return err;
	if (!strcmp(s, "true") || !strcmp(s, "yes"))
		*v = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no"))
		*v = false;
	else
		return node_err(x, n, "%s must be true or false", what);
	return 0;
}

/* Walks a mapping, rejecting unknown and repeated keys. */
typedef int (*key_fn)(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj);

static int each_key(struct ctx *x, yaml_node_t *map, const char *what, const char *const *keys,
		    key_fn fn, void *obj)
{
	yaml_node_pair_t *p, *q;
	char expected[256] = "";
	size_t i;

	if (map->type != YAML_MAPPING_NODE)
		return node_err(x, map, "%s must be a mapping of keys to values", what);
	for (i = 0; keys[i]; i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
			 i ? ", " : "", keys[i]);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
		const char *name;
		int err;

		if (!k || !v)
			return node_err(x, map, "malformed %s", what);
		err = scalar(x, k, "a key", &name);
		if (err)
			return err;
		for (i = 0; keys[i] && strcmp(keys[i], name); i++)
			;
		if (!keys[i])
			return node_err(x, k, "unknown key '%.64s' in %s (expected one of: %s)",
					name, what, expected);
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = node(x, q->key);

			if (qk && qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, name))
				return node_err(x, k, "key '%s' given twice in %s", name, what);
		}
		err = fn(x, name, k, v, obj);
		if (err)
			return err;
	}
	return 0;
}

/* A scalar or a sequence of scalars, as a list; @ok, when given, checks each. */
static int values(struct ctx *x, yaml_node_t *v, const char *what, struct dc_value **out, size_t *n,
		  int (*ok)(struct ctx *x, yaml_node_t *e, const char *what, const char *s))
{
	yaml_node_item_t *it, *start = NULL, *top = NULL;
	yaml_node_t *one = NULL;

	if (v->type == YAML_SEQUENCE_NODE) {
		start = v->data.sequence.items.start;
		top = v->data.sequence.items.top;
		if (start == top)
			return node_err(x, v, "%s is an empty list", what);
	} else {
		one = v;
	}
	for (it = start; one || it < top; it = it ? it + 1 : NULL) {
		yaml_node_t *e = one ? one : node(x, *it);
		struct dc_value *p;
		int err;

		if (!e)
			return node_err(x, v, "malformed %s", what);
		p = realloc(*out, (*n + 1) * sizeof(**out));
		if (!p)
			return -ENOMEM;
		*out = p;
		p = &p[*n];
		memset(p, 0, sizeof(*p));
		err = dup_scalar(x, e, what, &p->s);
		if (err)
			return err;
		(*n)++;
		p->loc = loc_of(e);
		err = ok ? ok(x, e, what, p->s) : 0;
		if (err)
			return err;
		if (one)
			break;
	}
	return 0;
}

static int regex_ok(struct ctx *x, yaml_node_t *e, const char *what, const char *s)
{
	char why[128];
	regex_t re;
	int rc;

	rc = dc_regex_compile(&re, s, why, sizeof(why));
	if (rc == -EINVAL)
		return node_err(x, e, "bad regular expression in %s: %s", what, why);
	if (rc)
		return rc;
	regfree(&re);
	return 0;
}

static int patterns(struct ctx *x, yaml_node_t *v, const char *what, struct dc_value **out,
		    size_t *n)
{
	return values(x, v, what, out, n, regex_ok);
}

static int path_ok(struct ctx *x, yaml_node_t *e, const char *what, const char *s)
{
	if (!*s || strlen(s) >= PATH_MAX)
		return node_err(x, e, "%s must be a path or a name", what);
	return 0;
}

/* A hook file named relative to the config is found next to it. */
static int source_value(struct ctx *x, yaml_node_t *v, struct dc_group *g)
{
	const char *s, *slash;
	int err, n;

	g->source_loc = loc_of(v);
	err = scalar(x, v, "source", &s);
	if (err)
		return err;
	if (!*s)
		return node_err(x, v, "source must name the hook's BPF C file");
	slash = strrchr(x->cfg->path, '/');
	free(g->source);
	if (*s == '/' || !slash)
		n = asprintf(&g->source, "%s", s);
	else
		n = asprintf(&g->source, "%.*s/%s", (int)(slash - x->cfg->path), x->cfg->path, s);
	if (n < 0) {
		g->source = NULL;
		return -ENOMEM;
	}
	if (n >= PATH_MAX)
		return node_err(x, v, "source path is too long");
	return 0;
}

/* What each kind accepts. */
enum { REF_INDEX = 1, REF_DEREF = 2, REF_NAME = 4, REF_CHAIN = 8 };

struct kind_rules {
	const char *name;
	const char *what; /* what a functions entry names */
	unsigned int refs; /* forms of argument sources */
	int max_index;
	bool binary, source, match, pairs, out, closes;
	int ret; /* 0: no ret, 1: int/long/fd, 2: any handle too */
};

static const struct kind_rules rules[DC_KIND_COUNT] = {
	[DC_KIND_UPROBE] = { "uprobe", "function", REF_INDEX | REF_DEREF, DC_ARG_MAX, true, false,
			     true, false, true, true, 2 },
	[DC_KIND_SYSCALL] = { "syscall", "system call", REF_INDEX, DC_ARG_MAX, false, false, true,
			      false, false, true, 1 },
	[DC_KIND_TRACEPOINT] = { "tracepoint", "tracepoint", REF_NAME, 0, false, false, true, true,
				 false, true, 1 },
	[DC_KIND_KPROBE] = { "kprobe", "kernel function", REF_INDEX | REF_NAME | REF_CHAIN,
			     DC_ARG_MAX, false, false, true, false, false, true, 1 },
	[DC_KIND_FENTRY] = { "fentry", "kernel function", REF_INDEX | REF_NAME | REF_CHAIN,
			     DC_ARG_MAX, false, false, true, false, false, true, 1 },
	[DC_KIND_USDT] = { "usdt", "USDT probe", REF_INDEX, DC_USDT_ARG_MAX, true, false, true,
			   true, false, false, 0 },
	[DC_KIND_CUSTOM] = { "custom", "event", 0, 0, false, true, false, false, false, false, 0 },
};

const char *dc_kind_name(enum dc_kind k)
{
	return k < DC_KIND_COUNT ? rules[k].name : "?";
}

bool dc_pair_name_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	char left[128];

	if (!colon || (size_t)(colon - s) >= sizeof(left))
		return false;
	snprintf(left, sizeof(left), "%.*s", (int)(colon - s), s);
	return dc_ident_ok(left) && dc_ident_ok(colon + 1);
}

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0 && n < 4;
}

/* X->a.b->c: X an index or a name, members C identifiers (dotted inside a struct). */
static bool chain_ok(const char *s)
{
	const char *arrow = strstr(s, "->"), *p;
	char part[128];

	if (!arrow || (size_t)(arrow - s) >= sizeof(part))
		return false;
	snprintf(part, sizeof(part), "%.*s", (int)(arrow - s), s);
	if (!all_digits(part, strlen(part)) && !dc_ident_ok(part))
		return false;
	for (p = arrow + 2;;) {
		size_t n = strcspn(p, ".-");

		if (n >= sizeof(part))
			return false;
		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		if (!dc_ident_ok(part))
			return false;
		p += n;
		if (!*p)
			return strlen(s) < DC_CORE_MAX;
		if (*p == '.')
			p++;
		else if (!strncmp(p, "->", 2))
			p += 2;
		else
			return false;
	}
}

/* Checks the form of @ref against what @k accepts; the generator resolves it. */
static int ref_check(struct ctx *x, yaml_node_t *v, const struct kind_rules *k, const char *ref)
{
	size_t n = strlen(ref);

	if ((k->refs & REF_INDEX) && all_digits(ref, n)) {
		if (atoi(ref) >= k->max_index)
			return node_err(x, v, "an argument index must be an integer from 0 to %d",
					k->max_index - 1);
		return 0;
	}
	if ((k->refs & REF_DEREF) && ref[0] == '*' && all_digits(ref + 1, n - 1)) {
		if (atoi(ref + 1) >= k->max_index)
			return node_err(x, v, "an argument index must be an integer from 0 to %d",
					k->max_index - 1);
		return 0;
	}
	if ((k->refs & REF_NAME) && dc_ident_ok(ref))
		return 0;
	/* A pair's exit field where the entry event has one of the same name. */
	if (k->refs == REF_NAME && !strncmp(ref, "exit.", 5) && dc_ident_ok(ref + 5))
		return 0;
	if ((k->refs & REF_CHAIN) && chain_ok(ref))
		return 0;
	if (k->refs == REF_NAME)
		return node_err(x, v, "'%.64s' is not a tracepoint field name", ref);
	if (k->refs & REF_CHAIN)
		return node_err(x, v,
				"'%.64s' is not an argument: give an index (0-%d), a parameter "
				"name, or a path like file->f_inode->i_ino",
				ref, k->max_index - 1);
	if (k->refs & REF_DEREF)
		return node_err(x, v,
				"an argument must be an index from 0 to %d, or *N for the value "
				"argument N points to",
				k->max_index - 1);
	return node_err(x, v, "an argument index must be an integer from 0 to %d",
			k->max_index - 1);
}

static int add_arg(struct ctx *x, struct dc_fnspec *f, yaml_node_t *k, const char *name,
		   const char *ref)
{
	struct dc_argspec *a;
	size_t i;

	if (!dc_field_name_ok(name))
		return node_err(x, k,
				"bad field name '%.64s' (lower case letters, digits and _; not "
				"ret, level, fhash or hhash)",
				name);
	for (i = 0; i < f->nargs; i++)
		if (!strcmp(f->args[i].name, name))
			return node_err(x, k, "field '%s' given twice", name);
	a = realloc(f->args, (f->nargs + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	f->args = a;
	a = &a[f->nargs];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->loc = loc_of(k);
	if (ref && !(a->ref = strdup(ref)))
		return -ENOMEM;
	f->nargs++;
	return 0;
}

/* args: a mapping of field names to sources, or for custom events a list of names. */
static int each_arg(struct ctx *x, yaml_node_t *map, enum dc_kind kind, struct dc_fnspec *f)
{
	const struct kind_rules *k = &rules[kind];
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	const char *name, *ref;
	int err;

	if (kind == DC_KIND_CUSTOM) {
		if (map->type != YAML_SEQUENCE_NODE)
			return node_err(x, map,
					"args of a custom event must be a list of field "
					"names, in the order of the hook's args[]");
		for (it = map->data.sequence.items.start; it < map->data.sequence.items.top; it++) {
			yaml_node_t *e = node(x, *it);

			if (!e)
				return node_err(x, map, "malformed args");
			err = scalar(x, e, "a field name", &name);
			if (!err && f->nargs == DC_MAX_ARGS)
				err = node_err(x, e, "at most %d fields per event", DC_MAX_ARGS);
			if (!err && !strcmp(name, "path"))
				err = node_err(x, e,
					       "a hook hashes its paths itself (dc_cap_path): "
					       "'path' cannot be a field");
			if (!err)
				err = add_arg(x, f, e, name, NULL);
			if (err)
				return err;
		}
		return 0;
	}
	if (map->type != YAML_MAPPING_NODE)
		return node_err(x, map, "args must map field names to arguments");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(x, p->key), *v = node(x, p->value);

		if (!kn || !v)
			return node_err(x, map, "malformed args");
		err = scalar(x, kn, "a field name", &name);
		if (!err)
			err = scalar(x, v,
				     k->refs == REF_NAME ? "a tracepoint field" : "an argument",
				     &ref);
		if (!err)
			err = ref_check(x, v, k, ref);
		if (!err)
			err = add_arg(x, f, kn, name, ref);
		if (err)
			return err;
		f->args[f->nargs - 1].loc = loc_of(v);
	}
	return 0;
}

static int ret_value(struct ctx *x, yaml_node_t *v, enum dc_kind kind, struct dc_fnspec *f)
{
	const char *s;
	int err = scalar(x, v, "ret", &s);

	if (err)
		return err;
	f->has_ret = true;
	f->ret_loc = loc_of(v);
	f->ret_ns = dc_handle_ns(s);
	f->ret_i32 = strcmp(s, "long") && (f->ret_ns < 0 || f->ret_ns == DC_NS_FD);
	if (rules[kind].ret == 2 && (f->ret_ns >= 0 || !strcmp(s, "int") || !strcmp(s, "long")))
		return 0;
	if (rules[kind].ret == 1 &&
	    (f->ret_ns == DC_NS_FD || !strcmp(s, "int") || !strcmp(s, "long")))
		return 0;
	if (rules[kind].ret == 2)
		return node_err(x, v, "ret must be int, long, fd, stream, mpi_file or hid");
	return node_err(x, v, "ret must be int, long or fd");
}

/* out: {mpi_file: 4}: the call writes its new handle through argument 4. */
static int out_value(struct ctx *x, yaml_node_t *v, struct dc_fnspec *f)
{
	yaml_node_t *k, *val;
	const char *ns, *ref;
	int err;

	if (v->type != YAML_MAPPING_NODE ||
	    v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1)
		return node_err(x, v,
				"out must be one handle kind and the argument that points "
				"to it, such as {mpi_file: 4}");
	k = node(x, v->data.mapping.pairs.start->key);
	val = node(x, v->data.mapping.pairs.start->value);
	if (!k || !val)
		return node_err(x, v, "malformed out");
	err = scalar(x, k, "a handle kind", &ns);
	if (!err && dc_handle_ns(ns) < 0)
		err = node_err(x, k,
			       "unknown handle kind '%.64s' (expected fd, stream, mpi_file "
			       "or hid)",
			       ns);
	if (!err)
		err = scalar(x, val, "an argument", &ref);
	if (!err && !all_digits(ref, strlen(ref)))
		err = node_err(x, val, "out takes the index of the pointer argument, 0 to %d",
			       DC_ARG_MAX - 1);
	if (!err && atoi(ref) >= DC_ARG_MAX)
		err = node_err(x, val, "an argument index must be an integer from 0 to %d",
			       DC_ARG_MAX - 1);
	if (err)
		return err;
	snprintf(f->out.name, sizeof(f->out.name), "%s", ns);
	f->out.loc = loc_of(val);
	f->out.ref = strdup(ref);
	f->has_out = true;
	return f->out.ref ? 0 : -ENOMEM;
}

static int key_list(struct ctx *x, yaml_node_t *v, struct dc_fnspec *f)
{
	yaml_node_item_t *it;

	f->key_loc = loc_of(v);
	if (v->type != YAML_SEQUENCE_NODE)
		return node_err(x, v, "key must be a list of tracepoint fields");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(x, *it);
		const char *s;
		char **k;
		int err;

		if (!e)
			return node_err(x, v, "malformed key");
		err = scalar(x, e, "a key field", &s);
		if (!err && !dc_ident_ok(s))
			err = node_err(x, e, "'%.64s' is not a tracepoint field name", s);
		if (!err && f->nkey == DC_KEY_MAX)
			err = node_err(x, e, "at most %d key fields", DC_KEY_MAX);
		if (err)
			return err;
		k = realloc(f->key, (f->nkey + 1) * sizeof(*k));
		if (!k)
			return -ENOMEM;
		f->key = k;
		if (!(k[f->nkey] = strdup(s)))
			return -ENOMEM;
		f->nkey++;
	}
	if (!f->nkey)
		return node_err(x, v, "key needs at least one field");
	return 0;
}

struct fn_ctx {
	struct dc_fnspec *f;
	enum dc_kind kind;
};

static int not_for(struct ctx *x, yaml_node_t *k, const char *key, enum dc_kind kind)
{
	return node_err(x, k, "%s probes take no '%s'", rules[kind].name, key);
}

static bool name_ok(enum dc_kind kind, const char *s)
{
	switch (kind) {
	case DC_KIND_SYSCALL:
		return dc_label_ok(s) && !strchr(s, '.') && !strchr(s, '-');
	case DC_KIND_TRACEPOINT:
	case DC_KIND_USDT:
		return dc_pair_name_ok(s);
	case DC_KIND_CUSTOM:
		return dc_ident_ok(s);
	default:
		return dc_symbol_name_ok(s);
	}
}

static int fn_key(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	struct fn_ctx *fc = obj;
	struct dc_fnspec *f = fc->f;
	const struct kind_rules *r = &rules[fc->kind];
	int err;

	if (!strcmp(key, "name"))
		return dup_scalar(x, v, "name", &f->name);
	if (!strcmp(key, "as")) {
		err = dup_scalar(x, v, "as", &f->as);
		if (!err && !dc_symbol_name_ok(f->as))
			return node_err(x, v, "'%.64s' is not a valid event name", f->as);
		return err;
	}
	if (!strcmp(key, "exit")) {
		if (!r->pairs)
			return not_for(x, k, key, fc->kind);
		f->exit_loc = loc_of(v);
		err = dup_scalar(x, v, "exit", &f->exit);
		if (!err && !name_ok(fc->kind, f->exit))
			return node_err(x, v, "'%.64s' is not a valid %s name", f->exit, r->what);
		return err;
	}
	if (!strcmp(key, "key"))
		return fc->kind == DC_KIND_TRACEPOINT ? key_list(x, v, f) :
							not_for(x, k, key, fc->kind);
	f->has_capture = true;
	if (!strcmp(key, "args"))
		return each_arg(x, v, fc->kind, f);
	if (!strcmp(key, "closes"))
		return r->closes ? bool_scalar(x, v, "closes", &f->closes) :
				   not_for(x, k, key, fc->kind);
	if (!strcmp(key, "out"))
		return r->out ? out_value(x, v, f) : not_for(x, k, key, fc->kind);
	return r->ret ? ret_value(x, v, fc->kind, f) : not_for(x, k, key, fc->kind);
}

static int functions(struct ctx *x, struct dc_group *g, yaml_node_t *v)
{
	static const char *const keys[] = { "name",   "as",   "args", "ret", "out",
					    "closes", "exit", "key",  NULL };
	const struct kind_rules *r = &rules[g->kind];
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return node_err(x, v, "functions must be a list");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(x, *it);
		struct dc_fnspec *f;
		struct fn_ctx fc;
		int err;

		if (!e)
			return node_err(x, v, "malformed functions list");
		f = realloc(g->fns, (g->nfns + 1) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		g->fns = f;
		f = &f[g->nfns++];
		memset(f, 0, sizeof(*f));
		f->ret_ns = -1;
		f->loc = loc_of(e);
		fc = (struct fn_ctx){ f, g->kind };
		if (e->type == YAML_MAPPING_NODE)
			err = each_key(x, e, "a function", keys, fn_key, &fc);
		else
			err = dup_scalar(x, e, "a function name", &f->name);
		if (err)
			return err;
		if (!f->name)
			return node_err(x, e, "function entry without a name");
		if (!name_ok(g->kind, f->name))
			return node_err(x, e, "'%.64s' is not a valid %s name%s", f->name, r->what,
					g->kind == DC_KIND_USDT ? " (expected provider:name)" :
					g->kind == DC_KIND_TRACEPOINT ? " (expected group:name)" :
									"");
		if (f->nkey && !f->exit)
			return dc_config__err(x->cfg, f->key_loc, -EINVAL,
					      "key joins the two ends of a pair: give exit too");
		if (f->has_out && f->closes)
			return node_err(x, e, "a call cannot both open (out) and close a handle");
		if (g->kind == DC_KIND_CUSTOM && f->has_capture && !f->nargs)
			return node_err(x, e, "custom events take only name, as and args");
	}
	return 0;
}

static int group_key(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	struct dc_group *g = obj;
	const char *s;
	int err, i;

	(void)k;
	if (!strcmp(key, "name"))
		return dup_scalar(x, v, "name", &g->name);
	if (!strcmp(key, "cat")) {
		err = dup_scalar(x, v, "cat", &g->cat);
		if (!err && !dc_label_ok(g->cat))
			return node_err(x, v, "cat must be 1-63 of A-Z a-z 0-9 _ . -");
		return err;
	}
	if (!strcmp(key, "kind")) {
		err = scalar(x, v, "kind", &s);
		if (err)
			return err;
		for (i = 0; i < DC_KIND_COUNT && strcmp(s, rules[i].name); i++)
			;
		if (i == DC_KIND_COUNT)
			return node_err(x, v,
					"unknown kind '%.64s' (expected uprobe, syscall, "
					"tracepoint, kprobe, fentry, usdt or custom)",
					s);
		g->kind = i;
		return 0;
	}
	if (!strcmp(key, "binary"))
		return values(x, v, "binary", &g->binary, &g->nbinary, path_ok);
	if (!strcmp(key, "optional"))
		return bool_scalar(x, v, "optional", &g->optional);
	if (!strcmp(key, "source"))
		return source_value(x, v, g);
	if (!strcmp(key, "pairs"))
		return bool_scalar(x, v, "pairs", &g->pairs);
	if (!strcmp(key, "functions"))
		return 0; /* read once kind is known */
	if (!strcmp(key, "match"))
		return patterns(x, v, "match", &g->match, &g->nmatch);
	return patterns(x, v, "exclude", &g->exclude, &g->nexclude);
}

/* The key @name of mapping @e, or NULL. */
static yaml_node_t *key_node(struct ctx *x, yaml_node_t *e, const char *name, bool value)
{
	yaml_node_pair_t *p;

	for (p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, name))
			return value ? node(x, p->value) : k;
	}
	return NULL;
}

static int group_checks(struct ctx *x, yaml_node_t *e, struct dc_group *g)
{
	const struct kind_rules *r = &rules[g->kind];
	yaml_node_t *k;

	if (!g->cat)
		return node_err(x, e, "probe has no cat (the trace category, e.g. POSIX)");
	if (r->binary && !g->nbinary)
		return node_err(x, e, "%s probe has no binary (a library name or path)", r->name);
	if (!r->binary && g->nbinary)
		return dc_config__err(x->cfg, g->binary[0].loc, -EINVAL, "%s probes take no binary",
				      r->name);
	if (r->source && (k = key_node(x, e, "optional", false)))
		return node_err(x, k, "a custom probe cannot be optional: its hook is compiled");
	if (r->source && !g->source)
		return node_err(x, e, "custom probe has no source (the hook's BPF C file)");
	if (!r->source && g->source)
		return dc_config__err(x->cfg, g->source_loc, -EINVAL, "%s probes take no source",
				      r->name);
	if (!r->match && (k = key_node(x, e, g->nmatch ? "match" : "exclude", false)))
		return node_err(x, k,
				"custom probes select nothing by match: list the hook's "
				"events under functions");
	if (!r->pairs && (k = key_node(x, e, "pairs", false)))
		return node_err(x, k, "%s probes take no 'pairs'", r->name);
	if (!g->nfns && !g->nmatch)
		return node_err(x, e, "probe selects nothing: give functions%s",
				r->match ? " or match" : "");
	return 0;
}

static int group(struct ctx *x, yaml_node_t *e, struct dc_group *g)
{
	static const char *const keys[] = { "name",	"kind",	   "cat",   "binary",
					    "optional", "source",  "pairs", "functions",
					    "match",	"exclude", NULL };
	yaml_node_t *fns;
	int err;

	g->loc = loc_of(e);
	g->pairs = true;
	err = each_key(x, e, "a probe", keys, group_key, g);
	if (err)
		return err;
	fns = key_node(x, e, "functions", true);
	if (fns) {
		err = functions(x, g, fns);
		if (err)
			return err;
	}
	err = group_checks(x, e, g);
	if (err)
		return err;
	if (!g->name) {
		g->name = strdup(g->cat);
		if (!g->name)
			return -ENOMEM;
	}
	return 0;
}

static int top_key(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	struct dc_config *c = obj;
	yaml_node_item_t *it;
	int err;

	(void)k;
	if (!strcmp(key, "module")) {
		err = dup_scalar(x, v, "module", &c->module);
		if (!err && !dc_label_ok(c->module))
			return node_err(x, v, "module must be 1-63 of A-Z a-z 0-9 _ . -");
		return err;
	}
	if (!strcmp(key, "description"))
		return v->type == YAML_SCALAR_NODE ? 0 : node_err(x, v, "description must be text");
	if (!strcmp(key, "include"))
		return values(x, v, "include", &c->include, &c->ninclude, path_ok);
	if (v->type != YAML_SEQUENCE_NODE)
		return node_err(x, v, "probes must be a list");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		struct dc_group *g = realloc(c->groups, (c->ngroups + 1) * sizeof(*g));
		yaml_node_t *e = node(x, *it);

		if (!g)
			return -ENOMEM;
		c->groups = g;
		g = &g[c->ngroups++];
		memset(g, 0, sizeof(*g));
		if (!e)
			return node_err(x, v, "malformed probes list");
		err = group(x, e, g);
		if (err)
			return err;
	}
	return 0;
}

static int parse_file(struct ctx *x, FILE *f)
{
	static const char *const keys[] = { "module", "description", "include", "probes", NULL };
	yaml_parser_t parser;
	yaml_node_t *root;
	int err;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &x->doc)) {
		yaml_mark_t m = parser.problem_mark;

		err = dc_err(-EINVAL, "%s:%zu:%zu: YAML syntax error: %s%s%s", x->cfg->path,
			     m.line + 1, m.column + 1, parser.problem ? parser.problem : "unknown",
			     parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return err;
	}
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&x->doc);
	if (!root) {
		err = dc_err(-EINVAL, "%s:1:1: empty config", x->cfg->path);
		goto out;
	}
	err = each_key(x, root, "the config", keys, top_key, x->cfg);
	if (err)
		goto out;
	if (!x->cfg->module)
		err = node_err(x, root, "config has no module name");
	else if (!x->cfg->ngroups && !x->cfg->ninclude)
		err = node_err(x, root, "config has no probes (and includes no config)");
out:
	yaml_document_delete(&x->doc);
	return err;
}

int dc_config__read(const char *path, FILE *f, struct dc_config **out)
{
	struct ctx x = { 0 };
	int err;

	*out = NULL;
	x.cfg = calloc(1, sizeof(*x.cfg));
	if (!x.cfg)
		return -ENOMEM;
	x.cfg->path = strdup(path);
	if (!x.cfg->path) {
		free(x.cfg);
		return -ENOMEM;
	}
	err = parse_file(&x, f);
	if (err) {
		dc_config__free(x.cfg);
		return err;
	}
	*out = x.cfg;
	return 0;
}

int dc_config__load(const char *path, struct dc_config **out)
{
	FILE *f;
	int err;

	*out = NULL;
	err = dc_open_regular(path, &f);
	if (err)
		return err;
	err = dc_config__read(path, f, out);
	fclose(f);
	return err;
}

static void free_values(struct dc_value *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].s);
	free(p);
}

static void free_fnspec(struct dc_fnspec *f)
{
	size_t i;

	free(f->name);
	free(f->exit);
	free(f->as);
	for (i = 0; i < f->nargs; i++)
		free(f->args[i].ref);
	free(f->args);
	for (i = 0; i < f->nkey; i++)
		free(f->key[i]);
	free(f->key);
	free(f->out.ref);
}

void dc_config__free(struct dc_config *c)
{
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < c->ngroups; i++) {
		struct dc_group *g = &c->groups[i];

		for (j = 0; j < g->nfns; j++)
			free_fnspec(&g->fns[j]);
		free(g->fns);
		free_values(g->match, g->nmatch);
		free_values(g->exclude, g->nexclude);
		free_values(g->binary, g->nbinary);
		free(g->name);
		free(g->cat);
		free(g->source);
	}
	free(c->groups);
	free_values(c->include, c->ninclude);
	free(c->module);
	free(c->path);
	free(c);
}
