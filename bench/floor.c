// SPDX-License-Identifier: MIT
/*
 * dc-floor [--tracepoints] FLOOR.bpf.o OBJECT.bpf.o -- COMMAND [ARG]...
 *
 * Attaches the programs of FLOOR (bench/floor.bpf.c, which do nothing) to
 * every uprobe and system call OBJECT's manifest lists, the way
 * datacrumbs-run attaches them (uprobe_multi links where the kernel has
 * them; the raw sys_enter/sys_exit pair for system calls it has a number
 * for, their syscalls:* tracepoints for the rest, or for all of them with
 * --tracepoints), runs COMMAND and exits with its status. What COMMAND
 * loses to the probes is then the floor no tracer can go below.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_manifest.h"
#include "session.h"

#define UPROBE_MULTI 48

struct floor {
	struct bpf_object *obj;
	struct bpf_program *entry, *exit, *sys_enter, *sys_exit, *raw_enter, *raw_exit;
	bool multi, tracepoints;
	bool raw_attached;
	struct bpf_link **links;
	int *fds; /* uprobe_multi links */
	size_t nlinks, nfds;
};

/* Keeps @l, or the raw link @fd when @l is NULL. */
static int keep(struct floor *f, struct bpf_link *l, int fd)
{
	void *v;

	if (l) {
		v = realloc(f->links, (f->nlinks + 1) * sizeof(*f->links));
		if (v)
			(f->links = v)[f->nlinks++] = l;
	} else {
		v = realloc(f->fds, (f->nfds + 1) * sizeof(*f->fds));
		if (v)
			(f->fds = v)[f->nfds++] = fd;
	}
	return v ? 0 : -ENOMEM;
}

static int attach_uprobe(struct floor *f, const char *path, uint64_t off)
{
	struct bpf_program *progs[2] = { f->entry, f->exit };
	struct bpf_link *l = NULL;
	int i, fd = -1, err;

	for (i = 0; i < 2; i++) {
		if (f->multi) {
			fd = umulti__attach(bpf_program__fd(progs[i]), path, &off, NULL, 1, i == 1);
			if (fd < 0)
				return dc_err(fd, "uprobe_multi on %s: %s", path, strerror(-fd));
		} else {
			LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = i == 1);

			l = bpf_program__attach_uprobe_opts(progs[i], -1, path, off, &o);
			if (!l)
				return dc_err(-errno, "uprobe on %s: %s", path, strerror(errno));
		}
		err = keep(f, l, fd);
		if (err)
			return err;
	}
	return 0;
}

static int attach_syscall(struct floor *f, const struct dc_mprobe *p)
{
	const char *sys = p->sys;
	struct bpf_link *l;
	char tp[96];
	int i, err = 0;

	if (p->sys_raw && !f->tracepoints) {
		/* One pair serves every number, as datacrumbs-run's dispatcher. */
		for (i = 0; !err && !f->raw_attached && i < 2; i++) {
			l = bpf_program__attach(i ? f->raw_exit : f->raw_enter);
			if (!l)
				return dc_err(-errno, "raw_syscalls: %s", strerror(errno));
			err = keep(f, l, -1);
		}
		f->raw_attached = true;
		return err;
	}
	for (i = 0; !err && i < 2; i++) {
		snprintf(tp, sizeof(tp), "sys_%s_%s", i ? "exit" : "enter", sys);
		l = bpf_program__attach_tracepoint(i ? f->sys_exit : f->sys_enter, "syscalls", tp);
		if (!l)
			return dc_err(-errno, "syscalls:%s: %s", tp, strerror(errno));
		err = keep(f, l, -1);
	}
	return err;
}

static int floor_attach(struct floor *f, const char *floor_path, const struct dc_manifest *m)
{
	size_t i;
	int err;

	f->obj = bpf_object__open_file(floor_path, NULL);
	if (!f->obj)
		return dc_err(-errno, "%s: %s", floor_path, strerror(errno));
	f->entry = bpf_object__find_program_by_name(f->obj, "floor_entry");
	f->exit = bpf_object__find_program_by_name(f->obj, "floor_exit");
	f->sys_enter = bpf_object__find_program_by_name(f->obj, "floor_sys_enter");
	f->sys_exit = bpf_object__find_program_by_name(f->obj, "floor_sys_exit");
	f->raw_enter = bpf_object__find_program_by_name(f->obj, "floor_raw_enter");
	f->raw_exit = bpf_object__find_program_by_name(f->obj, "floor_raw_exit");
	if (!f->entry || !f->exit || !f->sys_enter || !f->sys_exit || !f->raw_enter || !f->raw_exit)
		return dc_err(-ENOEXEC, "%s: not bench/floor.bpf.o", floor_path);
	f->multi = umulti__supported();
	if (f->multi) {
		bpf_program__set_expected_attach_type(f->entry, UPROBE_MULTI);
		bpf_program__set_expected_attach_type(f->exit, UPROBE_MULTI);
	}
	err = bpf_object__load(f->obj);
	if (err)
		return dc_err(err, "%s: cannot load: %s", floor_path, strerror(-err));
	for (i = 0; !err && i < m->nprobes; i++) {
		const struct dc_mprobe *p = &m->probes[i];

		if (p->kind == 'u')
			err = attach_uprobe(f, m->targets[p->target].path, p->offset);
		else if (p->kind == 's')
			err = attach_syscall(f, p);
	}
	if (!err && !f->nlinks && !f->nfds)
		err = dc_err(-ENOENT, "the object has no uprobes or system calls");
	return err;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dc-floor [--tracepoints] FLOOR.bpf.o OBJECT.bpf.o -- COMMAND [ARG]...\n"
		"Attach the empty programs of FLOOR where OBJECT's manifest probes, run\n"
		"COMMAND and exit with its status.\n"
		"\n"
		"  -t, --tracepoints  every system call on its syscalls:* tracepoints, as\n"
		"                     datacrumbs-generate --syscall-tracepoints makes them\n"
		"  -h, --help         show this help and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = { { "tracepoints", no_argument, NULL, 't' },
					       { "help", no_argument, NULL, 'h' },
					       {} };
	struct dc_manifest *m = NULL;
	struct floor f = { 0 };
	int status = 0, err, c;
	char **cmd;
	pid_t pid;

	dc_prog = "dc-floor";
	while ((c = getopt_long(argc, argv, "+th", lopts, NULL)) != -1) {
		if (c == 't') {
			f.tracepoints = true;
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (argc - optind < 4 || strcmp(argv[optind + 2], "--")) {
		usage(stderr);
		return 2;
	}
	cmd = argv + optind + 3;
	err = dc_manifest__read(argv[optind + 1], &m);
	if (!err)
		err = floor_attach(&f, argv[optind], m);
	if (!err) {
		pid = fork();
		if (pid == 0) {
			execvp(cmd[0], cmd);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			err = dc_err(-errno, "running %s: %s", cmd[0], strerror(errno));
	}
	while (f.nlinks)
		bpf_link__destroy(f.links[--f.nlinks]);
	while (f.nfds)
		close(f.fds[--f.nfds]);
	free(f.links);
	free(f.fds);
	bpf_object__close(f.obj);
	dc_manifest__free(m);
	if (err) {
		dc_report(err);
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
