// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dc_config.h"
#include "dc_err.h"
#include "dc_file.h"
#include "dc_manifest.h"
#include "dc_record.h"

#define MAGIC "datacrumbs-manifest 2"
#define MAX_PROBES (1u << 20)

static bool path_ok(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool build_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n <= 40 && strspn(s, "0123456789abcdef") == n;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t c;

	if (n < *cap)
		return p;
	c = *cap ? *cap * 2 : 64;
	p = realloc(p, c * size);
	if (p)
		*cap = c;
	return p;
}

int dc_manifest__add_target(struct dc_manifest *m, const char *path, const char *build_id,
			    uint32_t *idx)
{
	struct dc_mtarget *t;
	size_t i;

	for (i = 0; i < m->ntargets; i++)
		if (!strcmp(m->targets[i].path, path)) {
			*idx = i;
			return 0;
		}
	if (!path_ok(path))
		return dc_err(-EINVAL, "target path '%s' is not absolute or has control characters",
			      path);
	if (!build_id_ok(build_id))
		return dc_err(-EINVAL, "bad build id for %s", path);
	t = grow(m->targets, &m->cap_targets, m->ntargets, sizeof(*t));
	if (!t)
		return -ENOMEM;
	m->targets = t;
	t = &t[m->ntargets];
	t->path = strdup(path);
	if (!t->path)
		return -ENOMEM;
	snprintf(t->build_id, sizeof(t->build_id), "%s", build_id);
	*idx = m->ntargets++;
	return 0;
}

const char *dc_mkind_name(char kind)
{
	switch (kind) {
	case 'u':
		return "uprobe";
	case 's':
		return "syscall";
	case 't':
		return "tracepoint";
	case 'k':
		return "kprobe";
	case 'f':
		return "fentry";
	case 'd':
		return "usdt";
	case 'c':
		return "custom";
	}
	return NULL;
}

static bool point_ok(char kind, const char *s)
{
	if (!s)
		return false;
	return kind == 't' || kind == 'd' ? dc_pair_name_ok(s) : dc_symbol_name_ok(s);
}

static int check_probe(const struct dc_manifest *m, const struct dc_mprobe *p)
{
	unsigned int i;

	if (!dc_mkind_name(p->kind))
		return dc_err(-EINVAL, "probe %" PRIu32 ": unknown kind '%c'", p->id, p->kind);
	if (!p->module || !dc_label_ok(p->module) || !dc_label_ok(p->cat))
		return dc_err(-EINVAL, "probe %" PRIu32 ": bad module or category", p->id);
	if (!dc_symbol_name_ok(p->name))
		return dc_err(-EINVAL, "probe %" PRIu32 ": bad name", p->id);
	if ((p->kind == 'u' || p->kind == 'd') && p->target >= m->ntargets)
		return dc_err(-EINVAL, "probe %" PRIu32 ": no such target", p->id);
	if (p->kind == 's' &&
	    (!p->sys || !dc_symbol_name_ok(p->sys) || (p->sys_raw && p->sysnr >= DC_SYSNR_MAX)))
		return dc_err(-EINVAL, "probe %" PRIu32 ": bad system call", p->id);
	if (strchr("tkfd", p->kind) && !point_ok(p->kind, p->point))
		return dc_err(-EINVAL, "probe %" PRIu32 ": bad attach point", p->id);
	if (p->exit_point && (!strchr("td", p->kind) || !point_ok(p->kind, p->exit_point)))
		return dc_err(-EINVAL, "probe %" PRIu32 ": bad exit point", p->id);
	if (p->nfields > DC_MAX_ARGS)
		return dc_err(-EINVAL, "probe %" PRIu32 ": too many fields", p->id);
	for (i = 0; i < p->nfields; i++)
		if (!dc_field_name_ok(p->field[i]))
			return dc_err(-EINVAL, "probe %" PRIu32 ": bad field name", p->id);
	return 0;
}

static void free_probe(struct dc_mprobe *p)
{
	free(p->module);
	free(p->cat);
	free(p->name);
	free(p->sys);
	free(p->point);
	free(p->exit_point);
}

static char *dup_opt(const char *s, bool *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*fail = true;
	return d;
}

int dc_manifest__add_probe(struct dc_manifest *m, const struct dc_mprobe *src)
{
	struct dc_mprobe *p;
	bool fail = false;
	int err;

	if (m->nprobes >= MAX_PROBES)
		return dc_err(-E2BIG, "more than %u probes", MAX_PROBES);
	p = grow(m->probes, &m->cap_probes, m->nprobes, sizeof(*p));
	if (!p)
		return -ENOMEM;
	m->probes = p;
	p = &p[m->nprobes];
	*p = *src;
	p->id = m->nprobes;
	p->module = dup_opt(src->module, &fail);
	p->cat = dup_opt(src->cat, &fail);
	p->name = dup_opt(src->name, &fail);
	p->sys = dup_opt(src->sys, &fail);
	p->point = dup_opt(src->point, &fail);
	p->exit_point = dup_opt(src->exit_point, &fail);
	err = fail ? -ENOMEM : check_probe(m, p);
	if (err) {
		free_probe(p);
		return err;
	}
	m->nprobes++;
	return 0;
}

int dc_manifest__add_check(struct dc_manifest *m, const struct dc_mcheck *src)
{
	struct dc_mcheck *c;

	if (src->probe >= m->nprobes || !dc_pair_name_ok(src->event) || !dc_ident_ok(src->field) ||
	    (src->size != 1 && src->size != 2 && src->size != 4 && src->size != 8))
		return dc_err(-EINVAL, "bad tracepoint field check for probe %" PRIu32, src->probe);
	c = grow(m->checks, &m->cap_checks, m->nchecks, sizeof(*c));
	if (!c)
		return -ENOMEM;
	m->checks = c;
	c = &c[m->nchecks];
	*c = *src;
	c->event = strdup(src->event);
	c->field = strdup(src->field);
	if (!c->event || !c->field) {
		free(c->event);
		free(c->field);
		return -ENOMEM;
	}
	m->nchecks++;
	return 0;
}

int dc_manifest__add_hook(struct dc_manifest *m, uint32_t probe, const char *prog)
{
	struct dc_mhook *h;

	if (probe >= m->nprobes || !dc_ident_ok(prog))
		return dc_err(-EINVAL, "bad hook program '%.64s'", prog);
	h = grow(m->hooks, &m->cap_hooks, m->nhooks, sizeof(*h));
	if (!h)
		return -ENOMEM;
	m->hooks = h;
	h[m->nhooks].probe = probe;
	h[m->nhooks].prog = strdup(prog);
	if (!h[m->nhooks].prog)
		return -ENOMEM;
	m->nhooks++;
	return 0;
}

int dc_manifest__encode(const struct dc_manifest *m, struct dc_buf *b)
{
	size_t i;
	unsigned int j;

	dc_buf_printf(b, "%s\nconfig\t%s\n", MAGIC, m->config);
	for (i = 0; i < m->ntargets; i++)
		dc_buf_printf(b, "target\t%zu\t%s\t%s\n", i, m->targets[i].path,
			      m->targets[i].build_id[0] ? m->targets[i].build_id : "-");
	for (i = 0; i < m->nprobes; i++) {
		const struct dc_mprobe *p = &m->probes[i];

		dc_buf_printf(b, "probe\t%" PRIu32 "\t%c\t%" PRIu32 "\t%s\t%s\t%s\t", p->id,
			      p->kind, p->cls, p->module, p->cat, p->name);
		if (p->kind == 'u' || p->kind == 'd')
			dc_buf_printf(b, "%" PRIu32 "\t", p->target);
		else
			dc_buf_puts(b, "-\t");
		if (p->kind == 'u')
			dc_buf_printf(b, "0x%" PRIx64 "\t", p->offset);
		else if (p->kind == 's' && p->sys_raw)
			dc_buf_printf(b, "%s@%" PRIu32 "\t", p->sys, p->sysnr);
		else if (p->kind == 's')
			dc_buf_printf(b, "%s\t", p->sys);
		else if (p->point)
			dc_buf_printf(b, "%s%s%s\t", p->point, p->exit_point ? "/" : "",
				      p->exit_point ? p->exit_point : "");
		else
			dc_buf_puts(b, "-\t");
		for (j = 0; j < p->nfields; j++)
			dc_buf_printf(b, "%s%s", j ? "," : "", p->field[j]);
		dc_buf_puts(b, p->nfields ? "\n" : "-\n");
	}
	for (i = 0; i < m->nchecks; i++)
		dc_buf_printf(b, "check\t%" PRIu32 "\t%s\t%s\t%u\t%u\t%d\n", m->checks[i].probe,
			      m->checks[i].event, m->checks[i].field, m->checks[i].off,
			      m->checks[i].size, m->checks[i].is_signed);
	for (i = 0; i < m->nhooks; i++)
		dc_buf_printf(b, "hook\t%" PRIu32 "\t%s\n", m->hooks[i].probe, m->hooks[i].prog);
	return b->err;
}

/* Splits @line at tabs into exactly @n fields. */
static bool split(char *line, char **f, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		f[i] = line;
		line = strchr(line, '\t');
		if (i + 1 < n) {
			if (!line)
				return false;
			*line++ = '\0';
		}
	}
	return line == NULL;
}

static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !*end && !errno && *v <= max;
}

static int decode_probe(struct dc_manifest *m, char **f, size_t lineno)
{
	struct dc_mprobe p = { 0 };
	char *tok, *save = NULL, *slash, *at;
	uint64_t v;

	if (!parse_u64(f[1], 10, MAX_PROBES, &v) || v != m->nprobes)
		return dc_err(-EINVAL, "manifest line %zu: probe ids out of order", lineno);
	if (strlen(f[2]) != 1 || !parse_u64(f[3], 10, 1u << 20, &v))
		return dc_err(-EINVAL, "manifest line %zu: bad probe kind or class", lineno);
	p.kind = f[2][0];
	p.cls = v;
	p.module = f[4];
	p.cat = f[5];
	p.name = f[6];
	if (p.kind == 'u' || p.kind == 'd') {
		if (!parse_u64(f[7], 10, UINT32_MAX, &v))
			return dc_err(-EINVAL, "manifest line %zu: bad target", lineno);
		p.target = v;
	} else if (strcmp(f[7], "-")) {
		return dc_err(-EINVAL, "manifest line %zu: bad target", lineno);
	}
	if (p.kind == 'u') {
		if (strncmp(f[8], "0x", 2) || !parse_u64(f[8] + 2, 16, UINT64_MAX, &p.offset))
			return dc_err(-EINVAL, "manifest line %zu: bad offset", lineno);
	} else if (p.kind == 's') {
		p.sys = f[8];
		at = strchr(f[8], '@');
		if (at) {
			*at = '\0';
			if (!parse_u64(at + 1, 10, DC_SYSNR_MAX - 1, &v))
				return dc_err(-EINVAL, "manifest line %zu: bad system call number",
					      lineno);
			p.sys_raw = true;
			p.sysnr = v;
		}
	} else if (strcmp(f[8], "-")) {
		p.point = f[8];
		slash = strchr(f[8], '/');
		if (slash) {
			*slash = '\0';
			p.exit_point = slash + 1;
		}
	}
	if (strcmp(f[9], "-")) {
		for (tok = strtok_r(f[9], ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (p.nfields == DC_MAX_ARGS || strlen(tok) >= DC_FIELD_MAX)
				return dc_err(-EINVAL, "manifest line %zu: bad fields", lineno);
			strcpy(p.field[p.nfields++], tok);
		}
	}
	if (dc_manifest__add_probe(m, &p))
		return dc_err(-EINVAL, "manifest line %zu: %s", lineno, dc_errmsg(-EINVAL));
	return 0;
}

static int decode_check(struct dc_manifest *m, char **f, size_t lineno)
{
	struct dc_mcheck c = { .event = f[2], .field = f[3] };
	uint64_t probe, off, size, sign;

	if (!parse_u64(f[1], 10, UINT32_MAX, &probe) || !parse_u64(f[4], 10, 65535, &off) ||
	    !parse_u64(f[5], 10, 8, &size) || !parse_u64(f[6], 10, 1, &sign))
		return dc_err(-EINVAL, "manifest line %zu: bad check", lineno);
	c.probe = probe;
	c.off = off;
	c.size = size;
	c.is_signed = sign;
	if (dc_manifest__add_check(m, &c))
		return dc_err(-EINVAL, "manifest line %zu: bad check", lineno);
	return 0;
}

static int decode_hook(struct dc_manifest *m, char **f, size_t lineno)
{
	uint64_t probe;

	if (!parse_u64(f[1], 10, UINT32_MAX, &probe) || dc_manifest__add_hook(m, probe, f[2]))
		return dc_err(-EINVAL, "manifest line %zu: bad hook", lineno);
	return 0;
}

int dc_manifest__decode(const char *data, size_t len, struct dc_manifest **out)
{
	struct dc_manifest *m;
	char *text, *line, *next;
	size_t lineno = 0;
	int err = 0;

	*out = NULL;
	if (memchr(data, '\0', len))
		return dc_err(-EINVAL, "manifest contains a NUL byte");
	text = strndup(data, len);
	m = calloc(1, sizeof(*m));
	if (!text || !m) {
		free(text);
		free(m);
		return -ENOMEM;
	}
	for (line = text; line && *line && !err; line = next) {
		char *f[10];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, MAGIC))
				err = dc_err(-EINVAL,
					     "not a datacrumbs manifest (version mismatch?)");
		} else if (!strncmp(line, "config\t", 7)) {
			if (m->config || !*(line + 7) || strchr(line + 7, '\t'))
				err = dc_err(-EINVAL, "manifest line %zu: bad config", lineno);
			else if (!(m->config = strdup(line + 7)))
				err = -ENOMEM;
		} else if (!strncmp(line, "target\t", 7)) {
			uint64_t idx;
			uint32_t got;

			if (!split(line, f, 4) || !parse_u64(f[1], 10, UINT32_MAX, &idx) ||
			    idx != m->ntargets)
				err = dc_err(-EINVAL, "manifest line %zu: bad target", lineno);
			else
				err = dc_manifest__add_target(m, f[2],
							      strcmp(f[3], "-") ? f[3] : "", &got);
			if (!err && got != idx)
				err = dc_err(-EINVAL, "manifest line %zu: duplicate target",
					     lineno);
		} else if (!strncmp(line, "probe\t", 6)) {
			if (!split(line, f, 10))
				err = dc_err(-EINVAL, "manifest line %zu: bad probe", lineno);
			else
				err = decode_probe(m, f, lineno);
		} else if (!strncmp(line, "check\t", 6)) {
			if (!split(line, f, 7))
				err = dc_err(-EINVAL, "manifest line %zu: bad check", lineno);
			else
				err = decode_check(m, f, lineno);
		} else if (!strncmp(line, "hook\t", 5)) {
			if (!split(line, f, 3))
				err = dc_err(-EINVAL, "manifest line %zu: bad hook", lineno);
			else
				err = decode_hook(m, f, lineno);
		} else {
			err = dc_err(-EINVAL, "manifest line %zu: unknown record", lineno);
		}
	}
	free(text);
	if (!err && (!m->config || !m->nprobes))
		err = dc_err(-EINVAL, "manifest has no config name or no probes");
	if (err) {
		dc_manifest__free(m);
		return err;
	}
	*out = m;
	return 0;
}

static Elf_Scn *find_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			return NULL;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

int dc_manifest__attach(const char *path, const struct dc_buf *enc)
{
	static char name[] = DC_MANIFEST_SECTION;
	Elf_Scn *scn, *strscn;
	Elf_Data *d, *nd;
	size_t shstrndx;
	GElf_Shdr sh, strsh;
	Elf *elf = NULL;
	int fd, err = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return dc_err(-EINVAL, "libelf is too old");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return dc_err(-errno, "%s: %s", path, strerror(errno));
	elf = elf_begin(fd, ELF_C_RDWR, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0 ||
	    !(strscn = elf_getscn(elf, shstrndx)) || !gelf_getshdr(strscn, &strsh)) {
		err = dc_err(-EINVAL, "%s: cannot edit object: %s", path, elf_errmsg(-1));
		goto out;
	}
	nd = elf_newdata(strscn);
	scn = elf_newscn(elf);
	d = scn ? elf_newdata(scn) : NULL;
	if (!nd || !d || !gelf_getshdr(scn, &sh)) {
		err = dc_err(-EINVAL, "%s: cannot add manifest: %s", path, elf_errmsg(-1));
		goto out;
	}
	nd->d_buf = name;
	nd->d_size = sizeof(name);
	nd->d_type = ELF_T_BYTE;
	nd->d_align = 1;
	d->d_buf = enc->p;
	d->d_size = enc->len;
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	sh.sh_name = strsh.sh_size;
	sh.sh_type = SHT_PROGBITS;
	sh.sh_flags = 0;
	sh.sh_addralign = 1;
	if (!gelf_update_shdr(scn, &sh) || elf_update(elf, ELF_C_WRITE) < 0)
		err = dc_err(-EIO, "%s: cannot write manifest: %s", path, elf_errmsg(-1));
out:
	if (elf)
		elf_end(elf);
	if (close(fd) && !err)
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
	return err;
}

int dc_manifest__read(const char *path, struct dc_manifest **out)
{
	Elf_Data *d = NULL;
	Elf_Scn *scn;
	Elf *elf;
	int fd, err;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return dc_err(-EINVAL, "libelf is too old");
	fd = dc_open_regular_fd(path);
	if (fd < 0)
		return fd;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = dc_err(-ENOEXEC, "%s: not an ELF object", path);
		goto out;
	}
	scn = find_section(elf, DC_MANIFEST_SECTION);
	if (scn)
		d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf) {
		err = dc_err(-ENOEXEC,
			     "%s: no datacrumbs manifest; make it with datacrumbs-generate", path);
		goto out;
	}
	err = dc_manifest__decode(d->d_buf, d->d_size, out);
	if (err)
		err = dc_err(err, "%s: %s", path, dc_errmsg(err));
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

void dc_manifest__clear(struct dc_manifest *m)
{
	size_t i;

	for (i = 0; i < m->ntargets; i++)
		free(m->targets[i].path);
	for (i = 0; i < m->nprobes; i++)
		free_probe(&m->probes[i]);
	for (i = 0; i < m->nchecks; i++) {
		free(m->checks[i].event);
		free(m->checks[i].field);
	}
	for (i = 0; i < m->nhooks; i++)
		free(m->hooks[i].prog);
	free(m->targets);
	free(m->probes);
	free(m->checks);
	free(m->hooks);
	free(m->config);
	*m = (struct dc_manifest){ 0 };
}

void dc_manifest__free(struct dc_manifest *m)
{
	if (!m)
		return;
	dc_manifest__clear(m);
	free(m);
}
