// SPDX-License-Identifier: MIT
/*
 * The view of a tracepoint the generator and the runtime need: its fields
 * with what a program may do with each, from dc_kernel's format parsing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dc_config.h"
#include "dc_err.h"
#include "dc_tpformat.h"

static int convert(const struct dc_event *ev, struct dc_tpformat *out)
{
	size_t i;

	out->fields = calloc(ev->nfields ? ev->nfields : 1, sizeof(*out->fields));
	if (!out->fields)
		return -ENOMEM;
	out->size = 8; /* the common_* header */
	for (i = 0; i < ev->nfields; i++) {
		const struct dc_kfield *k = &ev->fields[i];
		struct dc_tpfield *f = &out->fields[out->nfields];

		if (k->offset > 65535 || k->size > 65535)
			continue;
		f->type = strdup(k->type);
		f->name = strdup(k->name);
		out->nfields++;
		if (!f->type || !f->name)
			return -ENOMEM;
		f->off = k->offset;
		f->size = k->size;
		f->is_signed = k->is_signed;
		f->data_loc =
			!strncmp(k->type, "__data_loc ", 11) || !strncmp(k->type, "__rel_loc ", 10);
		f->array = !f->data_loc && strchr(k->type, '[');
		f->pointer = strchr(k->type, '*') != NULL;
		if (f->off + f->size > out->size)
			out->size = f->off + f->size;
	}
	return 0;
}

int dc_tpformat__read(const char *tracefs, const char *event, struct dc_tpformat *out)
{
	const char *colon = strchr(event, ':');
	struct dc_events one = { 0 };
	char dir[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	if (!colon || !dc_pair_name_ok(event))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s/events/%.*s/%s", tracefs, (int)(colon - event), event,
		 colon + 1);
	if (access(dir, F_OK))
		return -errno;
	one.v = calloc(1, sizeof(*one.v));
	if (!one.v)
		return -ENOMEM;
	one.n = 1;
	one.v->id = -1;
	one.v->system = strndup(event, colon - event);
	one.v->name = strdup(colon + 1);
	err = !one.v->system || !one.v->name ? -ENOMEM : dc_event__format(tracefs, one.v);
	if (!err)
		err = convert(one.v, out);
	dc_events__free(&one);
	if (err)
		dc_tpformat__free(out);
	return err;
}

const struct dc_tpfield *dc_tpformat__field(const struct dc_tpformat *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nfields; i++)
		if (!strcmp(f->fields[i].name, name))
			return &f->fields[i];
	return NULL;
}

void dc_tpformat__free(struct dc_tpformat *f)
{
	size_t i;

	for (i = 0; i < f->nfields; i++) {
		free(f->fields[i].type);
		free(f->fields[i].name);
	}
	free(f->fields);
	memset(f, 0, sizeof(*f));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dc_tp_list(const char *tracefs, struct dc_names *out)
{
	struct dc_events evs;
	size_t i;
	int err;

	*out = (struct dc_names){ 0 };
	err = dc_events__load(tracefs, &evs);
	if (err)
		return err;
	out->v = calloc(evs.n ? evs.n : 1, sizeof(*out->v));
	for (i = 0; out->v && i < evs.n; i++) {
		if (asprintf(&out->v[out->n], "%s:%s", evs.v[i].system, evs.v[i].name) < 0)
			break;
		out->n++;
	}
	err = !out->v || out->n < evs.n ? -ENOMEM : 0;
	dc_events__free(&evs);
	if (err)
		dc_names_free(out);
	else
		qsort(out->v, out->n, sizeof(*out->v), cmp_name);
	return err;
}
