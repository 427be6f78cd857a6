// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_proto.h"

int dc_proto_add(struct dc_proto *p, const char *name, const char *type, enum dc_argclass cls,
		 uint32_t size)
{
	struct dc_param *v = realloc(p->params, (p->nparams + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->params = v;
	v = &v[p->nparams];
	v->name = name && *name ? strdup(name) : NULL;
	v->type = strdup(type);
	v->cls = cls;
	v->size = size;
	if (!v->type || (name && *name && !v->name)) {
		free(v->name);
		free(v->type);
		return -ENOMEM;
	}
	p->nparams++;
	return 0;
}

int dc_proto_set_ret(struct dc_proto *p, const char *type, enum dc_argclass cls, uint32_t size)
{
	free(p->ret);
	p->ret = strdup(type);
	p->ret_cls = cls;
	p->ret_size = size;
	return p->ret ? 0 : -ENOMEM;
}

void dc_proto_decl(struct dc_buf *b, const char *type, const char *name)
{
	size_t n = strlen(type);

	dc_buf_puts(b, type);
	if (name)
		dc_buf_printf(b, "%s%s", n && type[n - 1] == '*' ? "" : " ", name);
}

int dc_proto_format(const struct dc_proto *p, const char *name, struct dc_buf *b)
{
	unsigned int i;

	dc_proto_decl(b, p->ret ? p->ret : "void", name);
	dc_buf_puts(b, "(");
	for (i = 0; i < p->nparams; i++) {
		if (i)
			dc_buf_puts(b, ", ");
		dc_proto_decl(b, p->params[i].type, p->params[i].name);
	}
	if (p->variadic)
		dc_buf_puts(b, p->nparams ? ", ..." : "...");
	else if (!p->nparams)
		dc_buf_puts(b, "void");
	dc_buf_puts(b, ")");
	return dc_buf_cstr(b);
}

void dc_proto_free(struct dc_proto *p)
{
	unsigned int i;

	for (i = 0; i < p->nparams; i++) {
		free(p->params[i].name);
		free(p->params[i].type);
	}
	free(p->params);
	free(p->ret);
	*p = (struct dc_proto){ 0 };
}

static void note(struct dc_hint *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct dc_hint *h, const char *fmt, ...)
{
	size_t n = strlen(h->note);
	va_list ap;

	if (n + 8 >= sizeof(h->note))
		return;
	if (n)
		n += snprintf(h->note + n, sizeof(h->note) - n, "; ");
	va_start(ap, fmt);
	vsnprintf(h->note + n, sizeof(h->note) - n, fmt, ap);
	va_end(ap);
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static bool path_like(const char *name)
{
	return name && (strstr(name, "path") || strstr(name, "file") || !strcmp(name, "fname"));
}

/* The parameter's name as a field name, or argN when it cannot be one. */
static void field_name(const struct dc_hint *h, const struct dc_param *prm, int arg, char *out)
{
	static const char *const fds[] = { "fd", "fildes", "filedes", NULL };
	size_t i, n = prm->name ? strlen(prm->name) : 0;
	bool ok = n > 0 && n < DC_FIELD_MAX;

	for (i = 0; ok && i < n; i++) {
		char c = prm->name[i];

		out[i] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
	}
	out[ok ? n : 0] = '\0';
	if (ok && in_list(out, fds))
		strcpy(out, "fd");
	/* fd and path are roles as well as names; other names must be free. */
	ok = ok && dc_field_name_ok(out) && strcmp(out, "path");
	for (i = 0; ok && i < h->nfields; i++)
		ok = strcmp(h->field[i].name, out) != 0;
	if (!ok)
		snprintf(out, DC_FIELD_MAX, "arg%d", arg);
}

void dc_proto_hint(const struct dc_proto *p, bool syscall, struct dc_hint *h)
{
	unsigned int i;
	int reg = 0;

	memset(h, 0, sizeof(*h));
	h->path_arg = -1;
	for (i = 0; i < p->nparams; i++) {
		const struct dc_param *prm = &p->params[i];
		const char *pname = prm->name ? prm->name : "?";
		char name[DC_FIELD_MAX];
		int arg;

		if (prm->cls == DC_AC_FLOAT && !syscall) {
			note(h, "%s is in a floating-point register", pname);
			continue;
		}
		if ((prm->cls == DC_AC_AGG || prm->cls == DC_AC_VOID) && !syscall) {
			note(h, "%s and later arguments: a struct passed by value moves them",
			     pname);
			break;
		}
		arg = reg;
		reg += prm->cls == DC_AC_INT && prm->size > 8 ? 2 : 1;
		if (arg >= DC_ARG_MAX) {
			note(h, "%s is past the %d register arguments", pname, DC_ARG_MAX);
			break;
		}
		if (prm->cls == DC_AC_STR && path_like(prm->name) && h->path_arg < 0) {
			h->path_arg = arg;
			continue;
		}
		if (prm->cls != DC_AC_INT || prm->size > 8)
			continue;
		field_name(h, prm, arg, name);
		if (h->nfields == DC_MAX_ARGS) {
			note(h, "%s left out (at most %d fields)", name, DC_MAX_ARGS);
			continue;
		}
		memcpy(h->field[h->nfields].name, name, DC_FIELD_MAX);
		h->field[h->nfields++].arg = arg;
	}
	if (syscall)
		return;
	if ((p->ret_cls == DC_AC_INT && p->ret_size == 8) || p->ret_cls == DC_AC_PTR ||
	    p->ret_cls == DC_AC_STR)
		h->ret_long = true;
	else if (p->ret_cls == DC_AC_FLOAT || p->ret_cls == DC_AC_AGG ||
		 (p->ret_cls == DC_AC_INT && p->ret_size > 8))
		note(h, "the %s return value is not in a general register",
		     p->ret ? p->ret : "returned");
}

bool dc_hint_useful(const struct dc_hint *h)
{
	return h->nfields || h->path_arg >= 0 || h->ret_long;
}
