// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "dc_config.h"
#include "dc_err.h"
#include "dc_file.h"

struct ctx {
	struct dc_config *cfg;
	yaml_document_t doc;
};

const char *dc_kind_name(enum dc_kind k)
{
	return k == DC_KIND_SYSCALL ? "syscall" : "uprobe";
}

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

static int int_scalar(struct ctx *x, yaml_node_t *n, const char *what, long lo, long hi, long *v)
{
	const char *s = NULL;
	char *end;
	int err = scalar(x, n, what, &s);

	if (err)
		return err;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (!*s || *end || errno || *v < lo || *v > hi)
		return node_err(x, n, "%s must be an integer from %ld to %ld", what, lo, hi);
	return 0;
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

/* A scalar or a sequence of scalars, as a list. */
static int patterns(struct ctx *x, yaml_node_t *v, const char *what, struct dc_pattern **out,
		    size_t *n)
{
	yaml_node_item_t *it, *start = NULL, *top = NULL;
	yaml_node_t *one = NULL;

	if (v->type == YAML_SEQUENCE_NODE) {
		start = v->data.sequence.items.start;
		top = v->data.sequence.items.top;
	} else {
		one = v;
	}
	for (it = start; one || it < top; it = it ? it + 1 : NULL) {
		yaml_node_t *e = one ? one : node(x, *it);
		struct dc_pattern *p;
		char msg[128];
		regex_t re;
		int rc, err;

		if (!e)
			return node_err(x, v, "malformed %s", what);
		p = realloc(*out, (*n + 1) * sizeof(**out));
		if (!p)
			return -ENOMEM;
		*out = p;
		p = &p[*n];
		memset(p, 0, sizeof(*p));
		err = dup_scalar(x, e, what, &p->re);
		if (err)
			return err;
		(*n)++;
		p->loc = loc_of(e);
		rc = regcomp(&re, p->re, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, &re, msg, sizeof(msg));
			regfree(&re);
			return node_err(x, e, "bad regular expression in %s: %s", what, msg);
		}
		regfree(&re);
		if (one)
			break;
	}
	return 0;
}

static int arg_key(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	struct dc_fnspec *f = obj;
	long arg;
	int err;

	err = int_scalar(x, v, "an argument index", 0, DC_ARG_MAX - 1, &arg);
	if (err)
		return err;
	err = dc_capture_add(&f->cap, key, (int)arg);
	if (err)
		return node_err(x, k, "%s", dc_errmsg(err));
	return 0;
}

/* Any key is a field name; dc_capture_add() validates it. */
static int each_arg(struct ctx *x, yaml_node_t *map, struct dc_fnspec *f)
{
	yaml_node_pair_t *p;

	if (map->type != YAML_MAPPING_NODE)
		return node_err(x, map, "args must map field names to argument indexes");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
		const char *name;
		int err;

		if (!k || !v)
			return node_err(x, map, "malformed args");
		err = scalar(x, k, "a field name", &name);
		if (!err)
			err = arg_key(x, name, k, v, f);
		if (err)
			return err;
	}
	return 0;
}

static int fn_key(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	struct dc_fnspec *f = obj;
	const char *s;
	int err;

	(void)k;
	if (!strcmp(key, "name"))
		return dup_scalar(x, v, "name", &f->name);
	f->has_capture = true;
	if (!strcmp(key, "args"))
		return each_arg(x, v, f);
	if (!strcmp(key, "closes"))
		return bool_scalar(x, v, "closes", &f->cap.closes);
	err = scalar(x, v, "ret", &s);
	if (err)
		return err;
	f->cap.ret = !strcmp(s, "fd") ? DC_RET_FD : DC_RET_INT;
	f->cap.ret_i32 = strcmp(s, "long") != 0;
	if (strcmp(s, "fd") && strcmp(s, "int") && strcmp(s, "long"))
		return node_err(x, v, "ret must be int, long or fd");
	return 0;
}

static int functions(struct ctx *x, struct dc_group *g, yaml_node_t *v)
{
	static const char *const keys[] = { "name", "args", "ret", "closes", NULL };
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return node_err(x, v, "functions must be a list");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(x, *it);
		struct dc_fnspec *f;
		int err;

		if (!e)
			return node_err(x, v, "malformed functions list");
		f = realloc(g->fns, (g->nfns + 1) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		g->fns = f;
		f = &f[g->nfns++];
		memset(f, 0, sizeof(*f));
		dc_capture_init(&f->cap);
		f->loc = loc_of(e);
		if (e->type == YAML_MAPPING_NODE)
			err = each_key(x, e, "a function", keys, fn_key, f);
		else
			err = dup_scalar(x, e, "a function name", &f->name);
		if (err)
			return err;
		if (!f->name)
			return node_err(x, e, "function entry without a name");
		if (g->kind == DC_KIND_SYSCALL ?
			    !dc_label_ok(f->name) || strchr(f->name, '.') || strchr(f->name, '-') :
			    !dc_symbol_name_ok(f->name))
			return node_err(x, e, "'%.64s' is not a valid %s name", f->name,
					g->kind == DC_KIND_SYSCALL ? "system call" : "function");
	}
	return 0;
}

static int group_key(struct ctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	struct dc_group *g = obj;
	const char *s;
	int err;

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
		if (!strcmp(s, "uprobe"))
			g->kind = DC_KIND_UPROBE;
		else if (!strcmp(s, "syscall"))
			g->kind = DC_KIND_SYSCALL;
		else
			return node_err(x, v, "unknown kind '%.64s' (expected uprobe or syscall)",
					s);
		return 0;
	}
	if (!strcmp(key, "binary")) {
		g->binary_loc = loc_of(v);
		err = dup_scalar(x, v, "binary", &g->binary);
		if (!err && (!*g->binary || strlen(g->binary) >= PATH_MAX))
			return node_err(x, v, "binary must be a library name or a path");
		return err;
	}
	if (!strcmp(key, "functions"))
		return 0; /* read once kind is known */
	if (!strcmp(key, "match"))
		return patterns(x, v, "match", &g->match, &g->nmatch);
	return patterns(x, v, "exclude", &g->exclude, &g->nexclude);
}

static int group(struct ctx *x, yaml_node_t *e, struct dc_group *g)
{
	static const char *const keys[] = { "name",	 "kind",  "cat",     "binary",
					    "functions", "match", "exclude", NULL };
	yaml_node_pair_t *p;
	int err;

	g->loc = loc_of(e);
	err = each_key(x, e, "a probe", keys, group_key, g);
	if (err)
		return err;
	for (p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key);

		if (!strcmp((const char *)k->data.scalar.value, "functions")) {
			err = functions(x, g, node(x, p->value));
			if (err)
				return err;
		}
	}
	if (!g->cat)
		return node_err(x, e, "probe has no cat (the trace category, e.g. POSIX)");
	if (g->kind == DC_KIND_UPROBE && !g->binary)
		return node_err(x, e, "uprobe probe has no binary (a library name or path)");
	if (g->kind == DC_KIND_SYSCALL && g->binary)
		return dc_config__err(x->cfg, g->binary_loc, -EINVAL,
				      "syscall probes take no binary");
	if (!g->nfns && !g->nmatch)
		return node_err(x, e, "probe selects nothing: give functions or match");
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
	static const char *const keys[] = { "module", "description", "probes", NULL };
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
	else if (!x->cfg->ngroups)
		err = node_err(x, root, "config has no probes");
out:
	yaml_document_delete(&x->doc);
	return err;
}

int dc_config__load(const char *path, struct dc_config **out)
{
	struct ctx x = { 0 };
	FILE *f;
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
	err = dc_open_regular(path, &f);
	if (err) {
		dc_config__free(x.cfg);
		return err;
	}
	err = parse_file(&x, f);
	fclose(f);
	if (err) {
		dc_config__free(x.cfg);
		return err;
	}
	*out = x.cfg;
	return 0;
}

static void free_patterns(struct dc_pattern *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].re);
	free(p);
}

void dc_config__free(struct dc_config *c)
{
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < c->ngroups; i++) {
		struct dc_group *g = &c->groups[i];

		for (j = 0; j < g->nfns; j++)
			free(g->fns[j].name);
		free(g->fns);
		free_patterns(g->match, g->nmatch);
		free_patterns(g->exclude, g->nexclude);
		free(g->name);
		free(g->cat);
		free(g->binary);
	}
	free(c->groups);
	free(c->module);
	free(c->path);
	free(c);
}
