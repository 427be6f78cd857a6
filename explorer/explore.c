// SPDX-License-Identifier: MIT
/*
 * datacrumbs-explore: what can be probed, from a library's functions and
 * USDT probes down to the kernel's system calls, tracepoints and functions.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dc_err.h"
#include "dc_lib.h"
#include "dc_paths.h"
#include "dc_regex.h"
#include "explore.h"

/* The kernel function the attach checks try kprobes and fentry on. */
#define PROBE_KFUNC "vfs_read"

static const char *const kind_names[K_COUNT] = { "function", "usdt", "syscall", "tracepoint",
						 "kfunc" };
#define USER_KINDS (1u << K_FUNCTION | 1u << K_USDT)
#define KERNEL_KINDS (1u << K_SYSCALL | 1u << K_TRACEPOINT | 1u << K_KFUNC)

const char *kind_name(enum kind k)
{
	return kind_names[k];
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: datacrumbs-explore [OPTION]... [PATH|LIBNAME]\n"
		"       datacrumbs-explore [OPTION]... --kernel\n"
		"List what datacrumbs can probe: the functions and USDT probes of an ELF library\n"
		"or executable, with the file offset each uprobe goes to, and the running\n"
		"kernel's system calls, tracepoints and functions, marked by whether they can be\n"
		"attached on this machine.\n"
		"\n"
		"LIBNAME is resolved like the dynamic linker does (LD_LIBRARY_PATH,\n"
		"/etc/ld.so.cache, the default directories): libhdf5.so.103, libhdf5.so, libhdf5\n"
		"or hdf5; a name without a version that the loader does not know is looked up\n"
		"through pkg-config (hdf5.pc's -L directories), and last a file of that name\n"
		"in the current directory. The resolved path is printed.\n"
		"\n"
		"What to list:\n"
		"  -k, --kernel           the running kernel (system calls, tracepoints, kfuncs)\n"
		"  -t, --kind=KIND[,...]  only these kinds (repeatable): function, usdt (of the\n"
		"                         file), syscall, tracepoint, kfunc (of the kernel; they\n"
		"                         imply --kernel)\n"
		"  -m, --match=REGEX      only names matching this POSIX extended regular\n"
		"                         expression (repeatable: any may match). USDT probes\n"
		"                         are named provider:name, tracepoints system:event\n"
		"                         (syscalls:* are the syscall kind, not tracepoints)\n"
		"  -x, --exclude=REGEX    leave out names matching it (repeatable)\n"
		"  -n, --limit=N          at most N entries of each kind\n"
		"\n"
		"How to print it (default: an aligned table with a count line per kind):\n"
		"  -j, --json             JSON\n"
		"  -y, --yaml             a module config for datacrumbs-generate, with argument\n"
		"                         captures from DWARF prototypes where known\n"
		"  -p, --prototypes       read DWARF prototypes for the table and JSON too\n"
		"      --no-prototypes    do not read DWARF, not even for --yaml\n"
		"  -h, --help             show this help and exit\n"
		"  -V, --version          show the version and exit\n"
		"\n"
		"Functions at one address are listed once, under the name a config would use,\n"
		"with the other names as aliases. Symbols come from .dynsym and .symtab, and from\n"
		"the separate debug file (found by build-id or .gnu_debuglink in\n"
		"DATACRUMBS_DEBUG_DIRS, colon separated, default /usr/lib/debug) when the file\n"
		"has no .symtab.\n"
		"\n"
		"See docs/explore.md. Exit status is 0 on success, 1 on any error (printed as\n"
		"one line), 2 for an unknown option.\n");
}

static int add_re(regex_t **v, size_t *n, const char *re)
{
	char why[128];
	regex_t *p = realloc(*v, (*n + 1) * sizeof(**v));
	int rc;

	if (!p)
		return -ENOMEM;
	*v = p;
	rc = dc_regex_compile(&p[*n], re, why, sizeof(why));
	if (rc == -EINVAL)
		return dc_err(rc, "bad regular expression '%.64s%s': %s", re,
			      strlen(re) > 64 ? "..." : "", why);
	if (rc)
		return rc;
	(*n)++;
	return 0;
}

static int add_kinds(struct opts *o, const char *list)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ","), k;

		for (k = 0; k < K_COUNT; k++)
			if (strlen(kind_names[k]) == n && !strncmp(p, kind_names[k], n))
				break;
		if (k == K_COUNT)
			return dc_err(-EINVAL,
				      "unknown kind '%.*s' (expected function, usdt, syscall, "
				      "tracepoint or kfunc)",
				      (int)n, p);
		o->kinds |= 1u << k;
		p += n + (p[n] == ',');
	}
	return 0;
}

static int parse_limit(struct opts *o, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0)
		return dc_err(-EINVAL, "bad --limit '%s': expected a positive number", s);
	o->limit = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_NO_PROTOS = 256 };
	static const struct option lopts[] = {
		{ "kernel", no_argument, NULL, 'k' },
		{ "kind", required_argument, NULL, 't' },
		{ "match", required_argument, NULL, 'm' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "yaml", no_argument, NULL, 'y' },
		{ "prototypes", no_argument, NULL, 'p' },
		{ "no-prototypes", no_argument, NULL, OPT_NO_PROTOS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c, err = 0;

	o->prototypes = -1;
	while (!err && (c = getopt_long(argc, argv, "kt:m:x:n:jyphV", lopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = true;
			break;
		case 't':
			err = add_kinds(o, optarg);
			break;
		case 'm':
			err = add_re(&o->match, &o->nmatch, optarg);
			break;
		case 'x':
			err = add_re(&o->exclude, &o->nexclude, optarg);
			break;
		case 'n':
			err = parse_limit(o, optarg);
			break;
		case 'j':
			o->format = F_JSON;
			break;
		case 'y':
			o->format = F_YAML;
			break;
		case 'p':
			o->prototypes = 1;
			break;
		case OPT_NO_PROTOS:
			o->prototypes = 0;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("datacrumbs-explore %s\n", DC_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'datacrumbs-explore --help'.\n");
			exit(2);
		}
	}
	if (err)
		return err;
	if (optind + 1 < argc)
		return dc_err(-EINVAL, "give at most one PATH or LIBNAME (try --help)");
	o->target = optind < argc ? argv[optind] : NULL;
	if (o->kinds & KERNEL_KINDS)
		o->kernel = true;
	if (!o->kinds)
		o->kinds = (o->target ? USER_KINDS : 0) | (o->kernel ? KERNEL_KINDS : 0);
	if (!o->target && !o->kernel)
		return dc_err(-EINVAL, "give a PATH or LIBNAME, or --kernel (try --help)");
	if (!o->target && (o->kinds & USER_KINDS))
		return dc_err(-EINVAL, "kinds function and usdt need a PATH or LIBNAME");
	if (o->target && !(o->kinds & USER_KINDS))
		return dc_err(-EINVAL, "%s: --kind selects only kernel kinds; leave the file out",
			      o->target);
	if (o->prototypes < 0)
		o->prototypes = o->format == F_YAML;
	return 0;
}

bool name_selected(const struct opts *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nmatch; i++)
		if (!regexec(&o->match[i], name, 0, NULL, 0))
			break;
	if (o->nmatch && i == o->nmatch)
		return false;
	for (i = 0; i < o->nexclude; i++)
		if (!regexec(&o->exclude[i], name, 0, NULL, 0))
			return false;
	return true;
}

const struct dc_site *sel_site(const struct explore *x, size_t i)
{
	return &x->elf->sites[x->sel[K_FUNCTION][i]];
}

const struct dc_func *site_func(const struct explore *x, const struct dc_site *s, size_t j)
{
	return &x->elf->funcs[x->elf->site_funcs[s->first + j]];
}

/* Remembers entry @i of kind @k if --limit leaves room: 1 if it did. */
static int pick(struct explore *x, enum kind k, size_t i, size_t total)
{
	x->matched[k]++;
	if (x->o.limit && x->nsel[k] >= x->o.limit)
		return 0;
	if (!x->sel[k]) {
		x->sel[k] = malloc((total ? total : 1) * sizeof(size_t));
		if (!x->sel[k])
			return -ENOMEM;
	}
	x->sel[k][x->nsel[k]++] = i;
	return 1;
}

static bool site_selected(const struct explore *x, const struct dc_site *s)
{
	size_t j;

	for (j = 0; j < s->n; j++)
		if (name_selected(&x->o, site_func(x, s, j)->name))
			return true;
	return false;
}

static int resolve_target(struct explore *x)
{
	const char *t = x->o.target;
	struct stat st;
	int err;

	err = dc_lib_resolve_how(t, x->path, sizeof(x->path), x->how, sizeof(x->how));
	/* A bare name that is no library but a file here: what the user meant. */
	if (err == -ENOENT && !strchr(t, '/') && stat(t, &st) == 0 && realpath(t, x->path)) {
		dc_err_clear();
		snprintf(x->how, sizeof(x->how), "file in the current directory");
		return 0;
	}
	return err;
}

static int cmp_usdt(const void *a, const void *b, void *arg)
{
	const struct dc_elf *e = arg;
	const struct dc_usdt *x = &e->usdt[*(const size_t *)a], *y = &e->usdt[*(const size_t *)b];
	int c = strcmp(x->provider, y->provider);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int load_elf(struct explore *x)
{
	struct dc_elf *e;
	size_t i, j;
	int err;

	err = resolve_target(x);
	if (!err)
		err = dc_elf__open(x->path, &x->elf);
	if (err)
		return err;
	e = x->elf;
	if (want(x, K_FUNCTION)) {
		err = dc_elf__load_funcs(e);
		if (!err)
			err = dc_elf__sites(e);
		for (i = 0; err >= 0 && i < e->nsites; i++) {
			if (!site_selected(x, &e->sites[i]))
				continue;
			err = pick(x, K_FUNCTION, i, e->nsites);
			x->names += e->sites[i].n;
		}
	}
	if (err >= 0 && want(x, K_USDT)) {
		char name[512];
		size_t *order;

		err = dc_elf__load_usdt(e);
		order = err < 0 ? NULL : malloc((e->nusdt ? e->nusdt : 1) * sizeof(*order));
		if (err >= 0 && !order)
			err = -ENOMEM;
		for (i = 0; err >= 0 && i < e->nusdt; i++)
			order[i] = i;
		if (err >= 0)
			qsort_r(order, e->nusdt, sizeof(*order), cmp_usdt, e);
		for (j = 0; err >= 0 && j < e->nusdt; j++) {
			const struct dc_usdt *u = &e->usdt[order[j]];

			snprintf(name, sizeof(name), "%s:%s", u->provider, u->name);
			if (name_selected(&x->o, name))
				err = pick(x, K_USDT, order[j], e->nusdt);
		}
		free(order);
	}
	return err < 0 ? err : 0;
}

/* DWARF is read only when asked: decompressing libc's takes longer than the rest. */
static int load_protos(struct explore *x)
{
	size_t i, n = x->nsel[K_FUNCTION];
	int err;

	if (!x->o.prototypes || !n)
		return 0;
	err = dc_dwarf__open(x->elf, &x->dwarf);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	x->protos = calloc(n, sizeof(*x->protos));
	x->has_proto = calloc(n, sizeof(*x->has_proto));
	if (!x->protos || !x->has_proto)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct dc_site *s = sel_site(x, i);

		err = dc_dwarf__proto(x->dwarf, site_func(x, s, 0)->addr, &x->protos[i]);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		x->has_proto[i] = true;
	}
	return 0;
}

static int load_syscalls(struct explore *x)
{
	struct dc_names names;
	size_t i, n = 0;
	int err;

	if (x->tracefs) {
		x->syscalls = calloc(x->events.n ? x->events.n : 1, sizeof(*x->syscalls));
		if (!x->syscalls)
			return -ENOMEM;
		for (i = 0; i < x->events.n; i++) {
			struct dc_event *ev = &x->events.v[i];
			struct syscall *s = &x->syscalls[n];

			if (strcmp(ev->system, "syscalls") || strncmp(ev->name, "sys_enter_", 10) ||
			    strlen(ev->name + 10) >= sizeof(s->name))
				continue;
			snprintf(s->name, sizeof(s->name), "%s", ev->name + 10);
			s->enter = ev;
			n++;
		}
		/* Events are sorted, so the exits come in the same order. */
		for (i = 0; i < x->events.n; i++) {
			const struct dc_event *ev = &x->events.v[i];
			size_t lo = 0, hi = n;

			if (strcmp(ev->system, "syscalls") || strncmp(ev->name, "sys_exit_", 9))
				continue;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				int c = strcmp(x->syscalls[mid].name, ev->name + 9);

				if (!c) {
					x->syscalls[mid].has_exit = true;
					break;
				}
				if (c < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
		}
		x->nsyscalls = n;
		return 0;
	}
	/* Without tracefs the names still come from BTF, but nothing attaches. */
	err = dc_syscalls(&names);
	if (err)
		return err;
	x->syscalls = calloc(names.n ? names.n : 1, sizeof(*x->syscalls));
	for (i = 0; x->syscalls && i < names.n; i++)
		snprintf(x->syscalls[i].name, sizeof(x->syscalls[i].name), "%s", names.v[i]);
	x->nsyscalls = x->syscalls ? names.n : 0;
	dc_names_free(&names);
	return x->syscalls ? 0 : -ENOMEM;
}

static int load_kernel(struct explore *x)
{
	const char *prev = NULL;
	char name[512];
	size_t i;
	int err = 0;

	x->tracefs = dc_tracefs(true);
	if ((want(x, K_SYSCALL) || want(x, K_TRACEPOINT)) && x->tracefs)
		err = dc_events__load(x->tracefs, &x->events);
	if (!err && want(x, K_SYSCALL))
		err = load_syscalls(x);
	for (i = 0; err >= 0 && want(x, K_SYSCALL) && i < x->nsyscalls; i++)
		if (name_selected(&x->o, x->syscalls[i].name) &&
		    (err = pick(x, K_SYSCALL, i, x->nsyscalls)) > 0 && x->syscalls[i].enter)
			err = dc_event__format(x->tracefs, x->syscalls[i].enter);
	for (i = 0; err >= 0 && want(x, K_TRACEPOINT) && i < x->events.n; i++) {
		struct dc_event *ev = &x->events.v[i];

		/* System calls are their own kind. */
		if (!strcmp(ev->system, "syscalls"))
			continue;
		snprintf(name, sizeof(name), "%s:%s", ev->system, ev->name);
		if (!name_selected(&x->o, name))
			continue;
		if (!prev || strcmp(prev, ev->system))
			x->tp_systems++;
		prev = ev->system;
		err = pick(x, K_TRACEPOINT, i, x->events.n);
		if (err > 0)
			err = dc_event__format(x->tracefs, ev);
	}
	if (err >= 0 && want(x, K_KFUNC))
		err = dc_kfuncs__load(&x->kfuncs, true);
	for (i = 0; err >= 0 && want(x, K_KFUNC) && i < x->kfuncs.n; i++)
		if (name_selected(&x->o, x->kfuncs.v[i].name))
			err = pick(x, K_KFUNC, i, x->kfuncs.n);
	if (err < 0)
		return err;
	dc_caps__probe(&x->caps, x->tracefs, PROBE_KFUNC);
	return 0;
}

int tracepoint_ok(const struct explore *x, const struct dc_event *ev)
{
	/* ftrace's own events take no BPF programs. */
	if (ev->id < 0 || !strcmp(ev->system, "ftrace"))
		return 0;
	return x->caps.ok[DC_ATTACH_TRACEPOINT];
}

int syscall_ok(const struct explore *x, const struct syscall *s)
{
	if (!s->enter || !s->has_exit)
		return 0;
	return tracepoint_ok(x, s->enter);
}

int kfunc_ok(const struct explore *x)
{
	const int *ok = x->caps.ok;

	if (ok[DC_ATTACH_KPROBE] == 1 || ok[DC_ATTACH_FENTRY] == 1)
		return 1;
	return ok[DC_ATTACH_KPROBE] == 0 && ok[DC_ATTACH_FENTRY] == 0 ? 0 : -1;
}

int syscall_proto(const struct syscall *s, struct dc_proto *p)
{
	size_t i;
	int err = 0;

	*p = (struct dc_proto){ 0 };
	for (i = 0; s->enter && !err && i < s->enter->nfields; i++) {
		const struct dc_kfield *f = &s->enter->fields[i];
		enum dc_argclass cls = DC_AC_INT;

		if (!strcmp(f->name, "__syscall_nr"))
			continue;
		if (strchr(f->type, '*'))
			cls = strstr(f->type, "char") ? DC_AC_STR : DC_AC_PTR;
		err = dc_proto_add(p, f->name, f->type, cls, f->size);
	}
	if (!err)
		err = dc_proto_set_ret(p, "long", DC_AC_INT, 8);
	if (err)
		dc_proto_free(p);
	return err;
}

int kfunc_proto_text(struct explore *x, const struct dc_kfunc *k, struct dc_buf *b)
{
	struct dc_proto p;
	int err = dc_kfuncs__proto(&x->kfuncs, k, &p);

	b->len = 0;
	if (!err)
		err = dc_proto_format(&p, k->name, b);
	dc_proto_free(&p);
	return err == -ENOENT ? 0 : err;
}

void put_safe(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void cleanup(struct explore *x)
{
	size_t i;

	for (i = 0; x->protos && i < x->nsel[K_FUNCTION]; i++)
		dc_proto_free(&x->protos[i]);
	free(x->protos);
	free(x->has_proto);
	dc_dwarf__close(x->dwarf);
	dc_elf__close(x->elf);
	dc_events__free(&x->events);
	free(x->syscalls);
	dc_kfuncs__free(&x->kfuncs);
	for (i = 0; i < K_COUNT; i++)
		free(x->sel[i]);
	for (i = 0; i < x->o.nmatch; i++)
		regfree(&x->o.match[i]);
	for (i = 0; i < x->o.nexclude; i++)
		regfree(&x->o.exclude[i]);
	free(x->o.match);
	free(x->o.exclude);
}

/*
 * A config goes to memory first, so a failure half way prints nothing that
 * looks like a whole one; a cut-off table or JSON document shows itself.
 */
static int print(struct explore *x)
{
	static char obuf[1 << 16];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (x->o.format != F_YAML) {
		setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
		err = x->o.format == F_JSON ? print_json(x, stdout) : print_table(x, stdout);
	} else {
		f = open_memstream(&buf, &len);
		if (!f)
			return -ENOMEM;
		err = print_yaml(x, f);
		if (fclose(f) && !err)
			err = -ENOMEM;
		if (!err)
			fwrite(buf, 1, len, stdout);
		free(buf);
	}
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = dc_err(-EIO, "writing output: %s", strerror(errno));
	return err;
}

static int run(int argc, char **argv)
{
	struct explore x = { 0 };
	int err;

	err = parse_args(argc, argv, &x.o);
	if (!err && x.o.target)
		err = load_elf(&x);
	if (!err && x.o.kernel)
		err = load_kernel(&x);
	if (!err)
		err = load_protos(&x);
	if (!err)
		err = print(&x);
	cleanup(&x);
	return err;
}

int main(int argc, char **argv)
{
	int err;

	dc_prog = "datacrumbs-explore";
	err = run(argc, argv);
	if (err) {
		dc_report(err);
		return 1;
	}
	return 0;
}
