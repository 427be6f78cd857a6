// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_config.h"
#include "dc_err.h"
#include "dc_tpformat.h"

/* "group:event" -> "group/event", both parts checked. */
static int event_dir(const char *tracefs, const char *event, char *out, size_t len)
{
	const char *colon = strchr(event, ':');

	if (!colon || !dc_pair_name_ok(event))
		return -EINVAL;
	if (snprintf(out, len, "%s/events/%.*s/%s", tracefs, (int)(colon - event), event,
		     colon + 1) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* One "field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;" line. */
static int parse_field(char *line, struct dc_tpfield *f)
{
	char *decl = strstr(line, "field:"), *semi, *name, *br;
	unsigned int off, size;
	int sign;

	if (!decl)
		return -EINVAL;
	decl += 6;
	semi = strchr(decl, ';');
	if (!semi ||
	    sscanf(semi, ";%*[ \t]offset:%u;%*[ \t]size:%u;%*[ \t]signed:%d;", &off, &size,
		   &sign) != 3 ||
	    off > 65535 || size > 65535)
		return -EINVAL;
	*semi = '\0';
	name = strrchr(decl, ' ');
	if (!name)
		return -EINVAL;
	*name++ = '\0';
	br = strchr(name, '[');
	if (br) {
		*br = '\0';
		f->array = true;
	}
	f->type = strdup(decl);
	f->name = strdup(name);
	if (!f->type || !f->name)
		return -ENOMEM;
	f->off = off;
	f->size = size;
	f->is_signed = sign == 1;
	f->data_loc = !strncmp(decl, "__data_loc ", 11) || !strncmp(decl, "__rel_loc ", 10);
	f->pointer = strchr(decl, '*') != NULL;
	return 0;
}

int dc_tpformat__read(const char *tracefs, const char *event, struct dc_tpformat *out)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int err = 0;

	memset(out, 0, sizeof(*out));
	err = event_dir(tracefs, event, path, sizeof(path) - 8);
	if (err)
		return err;
	strcat(path, "/format");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		struct dc_tpfield fl = { 0 }, *v;

		if (!strstr(line, "field:"))
			continue;
		err = parse_field(line, &fl);
		if (!err && (fl.off + fl.size) > out->size)
			out->size = fl.off + fl.size;
		if (err || !strncmp(fl.name, "common_", 7)) {
			free(fl.type);
			free(fl.name);
			continue;
		}
		v = realloc(out->fields, (out->nfields + 1) * sizeof(*v));
		if (!v) {
			free(fl.type);
			free(fl.name);
			err = -ENOMEM;
			break;
		}
		out->fields = v;
		v[out->nfields++] = fl;
	}
	fclose(f);
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

/* Appends "@group:@event" to @out. */
static int push(struct dc_names *out, size_t *cap, const char *group, const char *event)
{
	char *s;

	if (out->n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		char **v = realloc(out->v, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		out->v = v;
		*cap = c;
	}
	if (asprintf(&s, "%s:%s", group, event) < 0)
		return -ENOMEM;
	out->v[out->n++] = s;
	return 0;
}

int dc_tp_list(const char *tracefs, struct dc_names *out)
{
	char path[PATH_MAX];
	struct dirent *g, *e;
	size_t cap = 0;
	DIR *top, *d;
	int err = 0;

	*out = (struct dc_names){ 0 };
	snprintf(path, sizeof(path), "%s/events", tracefs);
	top = opendir(path);
	if (!top)
		return -errno;
	while (!err && (g = readdir(top))) {
		if (g->d_name[0] == '.' || !dc_ident_ok(g->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/events/%s", tracefs, g->d_name);
		d = opendir(path);
		if (!d)
			continue;
		while (!err && (e = readdir(d)))
			if (e->d_type == DT_DIR && dc_ident_ok(e->d_name))
				err = push(out, &cap, g->d_name, e->d_name);
		closedir(d);
	}
	closedir(top);
	if (err)
		dc_names_free(out);
	else
		qsort(out->v, out->n, sizeof(*out->v), cmp_name);
	return err;
}
