// SPDX-License-Identifier: MIT
/*
 * datacrumbs-generate: module configs in, one self-describing .bpf.o out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_file.h"
#include "dc_paths.h"
#include "gen.h"

struct opts {
	const char *output;
	const char *emit_c;
	bool emit_c_default;
	bool check;
	bool list;
	bool verify;
	bool no_cache;
	bool sys_tracepoints;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: datacrumbs-generate [OPTION]... CONFIG...\n"
		"Render module configs into eBPF C and compile them into one .bpf.o that\n"
		"carries its own probe manifest, ready for datacrumbs-run.\n"
		"\n"
		"CONFIG is a YAML file, or the name of a bundled config (posix, sys, ...).\n"
		"\n"
		"  -o, --output=FILE    write the object to FILE (default: MODULE.bpf.o)\n"
		"      --emit-c[=FILE]  keep the rendered C (default: the object's name\n"
		"                       with .c instead of .o)\n"
		"      --check          validate the configs and resolve every probe,\n"
		"                       but write nothing\n"
		"      --list           print the resolved probes, one per line\n"
		"      --verify         load the object into the kernel once, so its verifier\n"
		"                       checks every program (needs root); nothing attaches\n"
		"      --no-cache       compile even if an identical object is cached\n"
		"      --syscall-tracepoints\n"
		"                       trace each system call on its own syscalls:*\n"
		"                       tracepoints, not by number on the raw sys_enter/\n"
		"                       sys_exit pair: programs then run only for the\n"
		"                       configured calls, but attaching takes about 1 ms\n"
		"                       per call and each call costs more\n"
		"      --catalog        print the built-in argument captures and exit\n"
		"  -q, --quiet          print only errors\n"
		"  -v, --verbose        say more about each step\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        show the version and exit\n"
		"\n"
		"Compiled objects are cached by content in $XDG_CACHE_HOME/datacrumbs (or\n"
		"~/.cache/datacrumbs), so generating an unchanged config again skips clang.\n"
		"\n"
		"Environment: DATACRUMBS_DATADIR (templates and configs), DATACRUMBS_CLANG,\n"
		"DATACRUMBS_STRIP (llvm-strip, to drop DWARF; BTF stays).\n"
		"Exit status is 0 on success and 1 on any error, which is printed as one line.\n");
}

/* One line per name: name, where it applies, what is captured. */
static void print_catalog(const char *names, bool user, bool sys, const char *spec, void *arg)
{
	const char *p = names;

	(void)arg;
	while (*p) {
		size_t n = strcspn(p, " ");

		printf("%-28.*s %-12s %s\n", (int)n, p,
		       user && sys ? "user,syscall" :
		       user	   ? "user" :
				     "syscall",
		       spec);
		p += n;
		p += strspn(p, " ");
	}
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = { { "output", required_argument, NULL, 'o' },
					       { "emit-c", optional_argument, NULL, 'C' },
					       { "check", no_argument, NULL, 'k' },
					       { "list", no_argument, NULL, 'l' },
					       { "verify", no_argument, NULL, 'y' },
					       { "no-cache", no_argument, NULL, 'N' },
					       { "syscall-tracepoints", no_argument, NULL, 'S' },
					       { "catalog", no_argument, NULL, 'K' },
					       { "quiet", no_argument, NULL, 'q' },
					       { "verbose", no_argument, NULL, 'v' },
					       { "help", no_argument, NULL, 'h' },
					       { "version", no_argument, NULL, 'V' },
					       {} };
	int c;

	while ((c = getopt_long(argc, argv, "o:qvhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'C':
			o->emit_c = optarg;
			o->emit_c_default = !optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'l':
			o->list = true;
			break;
		case 'y':
			o->verify = true;
			break;
		case 'N':
			o->no_cache = true;
			break;
		case 'S':
			o->sys_tracepoints = true;
			break;
		case 'K':
			dc_catalog_foreach(print_catalog, NULL);
			exit(0);
		case 'q':
			dc_verbosity = -1;
			break;
		case 'v':
			dc_verbosity = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("datacrumbs-generate %s\n", DC_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'datacrumbs-generate --help'.\n");
			exit(2);
		}
	}
	if (optind == argc)
		return dc_err(-EINVAL, "no config given (try --help)");
	return 0;
}

static void list_probes(const struct gen *g)
{
	size_t i;

	for (i = 0; i < g->man.nprobes; i++) {
		const struct dc_mprobe *p = &g->man.probes[i];
		unsigned int j;

		printf("%-6u %-10s %-10s %-10s %-32s ", p->id, dc_mkind_name(p->kind), p->module,
		       p->cat, p->name);
		if (p->kind == 'u')
			printf("%s+0x%llx", g->man.targets[p->target].path,
			       (unsigned long long)p->offset);
		else if (p->kind == 's' && p->sys_raw)
			printf("raw_syscalls:sys_enter#%u", p->sysnr);
		else if (p->kind == 's')
			printf("syscalls:sys_enter_%s", p->sys);
		else if (p->kind == 'd')
			printf("%s:%s", g->man.targets[p->target].path, p->point);
		else
			printf("%s", p->point ? p->point : "(custom hook)");
		if (p->exit_point)
			printf(" -> %s", p->exit_point);
		for (j = 0; j < p->nfields; j++)
			printf("%s%s", j ? "," : " [", p->field[j]);
		printf("%s\n", p->nfields ? "]" : "");
	}
}

static int write_file(const char *path, const struct dc_buf *b)
{
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return dc_err(-errno, "%s: %s", path, strerror(errno));
	err = dc_write_all(fd, b->p, b->len);
	if (err)
		err = dc_err(err, "%s: %s", path, strerror(-err));
	if (close(fd) && !err)
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
	if (err)
		unlink(path);
	return err;
}

/*
 * Compiles @c (or takes the cached object for it) into a temporary next to
 * @out, adds the manifest and renames, so @out is whole or absent.
 */
static int build_object(struct gen *g, const struct gen_dirs *d, const struct dc_buf *c,
			const char *out, const struct opts *o)
{
	char tmpdir[] = "/tmp/datacrumbs-gen-XXXXXX", cpath[sizeof(tmpdir) + 16];
	char tmpobj[PATH_MAX + 16], key[65];
	struct dc_buf man = { 0 };
	bool cached = false, made_dir = false;
	int fd, err;

	if (snprintf(tmpobj, sizeof(tmpobj), "%s.XXXXXX", out) >= (int)sizeof(tmpobj))
		return dc_err(-ENAMETOOLONG, "%s: name too long", out);
	fd = mkstemp(tmpobj);
	if (fd < 0)
		return dc_err(-errno, "%s: %s", out, strerror(errno));
	close(fd);
	err = o->emit_c ? write_file(o->emit_c, c) : 0;
	if (!err && !o->no_cache && !gen__cache_key(d, c, key))
		cached = gen__cache_get(key, tmpobj) == 0;
	if (!err && !cached && !o->emit_c) {
		made_dir = mkdtemp(tmpdir) != NULL;
		if (!made_dir)
			err = dc_err(-errno, "cannot make a temporary directory: %s",
				     strerror(errno));
		snprintf(cpath, sizeof(cpath), "%s/gen.bpf.c", tmpdir);
		if (!err)
			err = write_file(cpath, c);
	}
	if (!err && !cached) {
		err = gen__compile(g, d, o->emit_c ? o->emit_c : cpath, tmpobj);
		if (!err)
			err = gen__strip(tmpobj);
		if (!err && !o->no_cache)
			gen__cache_put(key, tmpobj);
	}
	if (!err)
		err = gen__hooks(g, tmpobj);
	if (!err)
		err = dc_manifest__encode(&g->man, &man);
	if (!err)
		err = dc_manifest__attach(tmpobj, &man);
	if (!err && chmod(tmpobj, 0644))
		err = dc_err(-errno, "%s: %s", tmpobj, strerror(errno));
	/* What the kernel refuses is not written out. */
	if (!err && o->verify)
		err = gen__verify(g, tmpobj);
	if (!err && rename(tmpobj, out))
		err = dc_err(-errno, "%s: %s", out, strerror(errno));
	if (err)
		unlink(tmpobj);
	dc_buf_free(&man);
	if (made_dir) {
		unlink(cpath);
		rmdir(tmpdir);
	}
	return err;
}

static int join_modules(struct gen *g, const char *module)
{
	size_t n = g->man.config ? strlen(g->man.config) : 0;
	char *s = realloc(g->man.config, n + strlen(module) + 2);

	if (!s)
		return -ENOMEM;
	g->man.config = s;
	sprintf(s + n, "%s%s", n ? "+" : "", module);
	return 0;
}

/* Configs already resolved, by real path, so an include cycle or a repeat ends. */
struct loaded {
	char **path;
	size_t n;
};

static int seen_config(struct loaded *l, const char *path, bool *seen)
{
	char real[PATH_MAX], **v;
	size_t i;

	if (!realpath(path, real))
		return dc_err(-errno, "%s: %s", path, strerror(errno));
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->path[i], real)) {
			*seen = true;
			return 0;
		}
	v = realloc(l->path, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->path = v;
	v[l->n] = strdup(real);
	if (!v[l->n])
		return -ENOMEM;
	l->n++;
	*seen = false;
	return 0;
}

/*
 * An include names a config next to the one including it (".yaml" may be
 * left out), or else a bundled one.
 */
static int include_path(const struct gen_dirs *d, const struct dc_config *cfg,
			const struct dc_value *inc, char *out, size_t outlen)
{
	const char *slash = strrchr(cfg->path, '/');
	char bundled[PATH_MAX];
	size_t n = strlen(inc->s);
	bool ext = n > 5 && !strcmp(inc->s + n - 5, ".yaml");
	int len;

	if (inc->s[0] == '/' || !slash)
		len = snprintf(out, outlen, "%s%s", inc->s, ext ? "" : ".yaml");
	else
		len = snprintf(out, outlen, "%.*s/%s%s", (int)(slash - cfg->path), cfg->path,
			       inc->s, ext ? "" : ".yaml");
	if (len < 0 || (size_t)len >= outlen)
		return dc_config__err(cfg, inc->loc, -ENAMETOOLONG, "include path too long");
	if (!access(out, F_OK) || strchr(inc->s, '/') || !dc_label_ok(inc->s))
		return 0;
	/* Where neither is, the error names the file next to the config. */
	len = snprintf(bundled, sizeof(bundled), "%s/%s%s", d->configs, inc->s, ext ? "" : ".yaml");
	if (len > 0 && (size_t)len < sizeof(bundled) && !access(bundled, F_OK))
		snprintf(out, outlen, "%s", bundled);
	return 0;
}

#define INCLUDE_DEPTH 8

/* Resolves the config at @path and those it includes into @g. */
static int load_config(struct gen *g, const struct gen_dirs *d, struct loaded *l, const char *path,
		       int depth)
{
	char inc[PATH_MAX];
	struct dc_config *cfg;
	bool seen;
	size_t i;
	int err;

	err = seen_config(l, path, &seen);
	if (err || seen)
		return err;
	err = dc_config__load(path, &cfg);
	if (err)
		return err;
	for (i = 0; !err && i < cfg->ninclude; i++) {
		err = include_path(d, cfg, &cfg->include[i], inc, sizeof(inc));
		if (!err && depth == INCLUDE_DEPTH)
			err = dc_config__err(cfg, cfg->include[i].loc, -ELOOP,
					     "includes nested deeper than %d", INCLUDE_DEPTH);
		if (!err && access(inc, F_OK))
			err = dc_config__err(cfg, cfg->include[i].loc, -errno, "%s: %s", inc,
					     strerror(errno));
		if (!err)
			err = load_config(g, d, l, inc, depth + 1);
	}
	if (!err)
		err = gen__resolve(g, cfg);
	/* The object and its trace are named after the configs given, not those included. */
	if (!err && !depth)
		err = join_modules(g, cfg->module);
	dc_info("%s: module %s, %zu probes so far", path, cfg->module, g->man.nprobes);
	dc_config__free(cfg);
	return err;
}

static int run(int argc, char **argv)
{
	char cfgpath[PATH_MAX], outbuf[PATH_MAX], cbuf[PATH_MAX];
	struct loaded loaded = { 0 };
	struct dc_buf c = { 0 };
	struct opts o = { 0 };
	struct gen g = { 0 };
	struct gen_dirs d;
	size_t j;
	int i, err;

	err = parse_args(argc, argv, &o);
	g.sys_tracepoints = o.sys_tracepoints;
	if (!err)
		err = gen_dirs__find(&d);
	for (i = optind; !err && i < argc; i++) {
		err = gen_config_path(&d, argv[i], cfgpath, sizeof(cfgpath));
		if (!err)
			err = load_config(&g, &d, &loaded, cfgpath, 0);
	}
	for (j = 0; j < loaded.n; j++)
		free(loaded.path[j]);
	free(loaded.path);
	if (!err && !g.man.nprobes)
		err = dc_err(-ENOENT, "nothing to probe: every probe group was skipped");
	if (err)
		goto out;
	if (g.skipped_names)
		dc_warn("%zu symbols left out: their names cannot be probe names (first: '%s')",
			g.skipped_names, g.first_skipped);
	if (o.list)
		list_probes(&g);
	if (o.check) {
		if (dc_verbosity >= 0)
			printf("%s: ok, %zu probes in %zu capture classes\n", g.man.config,
			       g.man.nprobes, g.nclasses);
		goto out;
	}
	if (!o.output) {
		snprintf(outbuf, sizeof(outbuf), "%s.bpf.o", g.man.config);
		o.output = outbuf;
	}
	if (o.emit_c_default) {
		size_t n = strlen(o.output);

		snprintf(cbuf, sizeof(cbuf), "%.*s.c",
			 (int)(n > 2 && !strcmp(o.output + n - 2, ".o") ? n - 2 : n), o.output);
		o.emit_c = cbuf;
	}
	err = gen__render(&g, &d, &c);
	if (!err)
		err = build_object(&g, &d, &c, o.output, &o);
	if (!err && dc_verbosity >= 0)
		printf("wrote %s: %zu probes, %zu capture classes\n", o.output, g.man.nprobes,
		       g.nclasses);

out:
	dc_buf_free(&c);
	gen__free(&g);
	return err;
}

int main(int argc, char **argv)
{
	int err;

	dc_prog = "datacrumbs-generate";
	err = run(argc, argv);
	if (err) {
		dc_report(err);
		return 1;
	}
	return 0;
}
