// SPDX-License-Identifier: MIT
/* What the generator learns from the compiled object: hook programs, and the verifier's word. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_objload.h"
#include "gen.h"

int gen__hooks(struct gen *g, const char *obj_path)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	size_t n = 0;
	int err = 0;

	if (!g->nhooks)
		return 0;
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		return dc_err(-errno, "%s: cannot open the compiled object: %s", obj_path,
			      strerror(errno));
	/* Which hook a program came from is not kept: all go to the first one. */
	bpf_object__for_each_program(prog, obj)
	{
		if (err || !dc_objload__is_hook(bpf_program__name(prog)))
			continue;
		err = dc_manifest__add_hook(&g->man, g->hooks[0].base, bpf_program__name(prog));
		n++;
	}
	bpf_object__close(obj);
	if (!err && !n)
		err = dc_err(-EINVAL, "%s:%d:%d: %s defines no BPF program (a function with SEC)",
			     g->hooks[0].origin.path, g->hooks[0].origin.loc.line,
			     g->hooks[0].origin.loc.col, g->hooks[0].path);
	return err;
}

/* The program the kernel refused, as libbpf names it, and the verifier's last word. */
static char failed_prog[64];
static char last_line[256];

/* The last line of the verifier log inside @msg, if libbpf is passing one on. */
static void keep_verdict(const char *msg)
{
	const char *begin = strstr(msg, "-- BEGIN PROG LOAD LOG --");
	const char *end = begin ? strstr(begin, "-- END PROG LOAD LOG --") : NULL;
	const char *p, *line = NULL;

	if (!end)
		return;
	for (p = strchr(begin, '\n'); p && p < end; p = strchr(p + 1, '\n'))
		if (p + 1 < end && p[1] != '\n' && strncmp(p + 1, "processed ", 10) &&
		    strncmp(p + 1, "-- END", 6))
			line = p + 1;
	if (line)
		snprintf(last_line, sizeof(last_line), "%.*s", (int)strcspn(line, "\n"), line);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static char msg[1 << 16];
	const char *p;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (dc_verbosity > 0)
		fputs(msg, stderr);
	p = strstr(msg, "prog '");
	if (p && strstr(msg, "failed to load") && !failed_prog[0])
		snprintf(failed_prog, sizeof(failed_prog), "%.*s", (int)strcspn(p + 6, "'"), p + 6);
	keep_verdict(msg);
	return 0;
}

static const struct gen_origin *origin_of(const struct gen *g, const char *prog)
{
	unsigned int cls;
	char tail[8];

	if (sscanf(prog, "dc_c%u_%7s", &cls, tail) == 2 && cls < g->nclasses)
		return &g->classes[cls].origin;
	if (g->nhooks && dc_objload__is_hook(prog))
		return &g->hooks[0].origin;
	return NULL;
}

int gen__verify(const struct gen *g, const char *obj_path)
{
	struct dc_objprep prep = { 0 };
	const struct gen_origin *o;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct timespec t0, t1;
	int err, nprogs = 0;

	if (geteuid() != 0)
		return dc_err(-EPERM, "--verify loads the object into the kernel: run as root");
	libbpf_set_print(libbpf_print);
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		return dc_err(-errno, "%s: cannot open: %s", obj_path, strerror(errno));
	err = dc_objload__prepare(obj, &g->man, &prep);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!err && (err = bpf_object__load(obj))) {
		o = failed_prog[0] ? origin_of(g, failed_prog) : NULL;
		if (o)
			err = dc_err(err,
				     "%s:%d:%d: the kernel's verifier rejects the program for this "
				     "entry (%s): %s",
				     o->path, o->loc.line, o->loc.col, failed_prog,
				     last_line[0] ? last_line : strerror(-err));
		else
			err = dc_err(err, "%s: the kernel refuses to load it: %s", obj_path,
				     last_line[0] ? last_line : strerror(-err));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	bpf_object__for_each_program(prog, obj)
	{
		nprogs += bpf_program__fd(prog) >= 0;
	}
	if (!err && dc_verbosity >= 0) {
		printf("verified: %d programs loaded by this kernel in %.0f ms\n", nprogs,
		       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		if (prep.why[0])
			printf("not loaded: %zu probes: %s\n", prep.nskips, prep.why);
		else if (prep.nskips)
			printf("not loaded: %zu fentry probes whose functions this kernel cannot "
			       "trace\n",
			       prep.nskips);
	}
	bpf_object__close(obj);
	dc_objload__free(&prep);
	libbpf_set_print(NULL);
	return err;
}
