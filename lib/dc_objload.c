// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_objload.h"

static int add_skip(struct dc_objprep *p, uint32_t probe, int err)
{
	struct dc_objskip *v = realloc(p->skips, (p->nskips + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->skips = v;
	v[p->nskips++] = (struct dc_objskip){ probe, err };
	return 0;
}

/*
 * Whether fentry programs load here: a minimal one on @btf_id. Some kernels
 * refuse them outright (EPERM on these machines) although they load kprobes.
 */
static int fentry_loads(int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "dc_probe_fentry", "GPL", insns, 2, &o);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

bool dc_objload__is_hook(const char *name)
{
	unsigned int n;
	char tail[8];

	if (!strncmp(name, "dc_on_", 6) || !strncmp(name, "dc_sys_", 7))
		return false;
	if (sscanf(name, "dc_c%u_%7s", &n, tail) == 2 &&
	    (!strcmp(tail, "entry") || !strcmp(tail, "exit")))
		return false;
	return true;
}

static struct bpf_program *class_prog(struct bpf_object *obj, uint32_t cls, bool exit)
{
	char name[64];

	snprintf(name, sizeof(name), "dc_c%u_%s", cls, exit ? "exit" : "entry");
	return bpf_object__find_program_by_name(obj, name);
}

/* Switches off the hooks' tracing programs, charged to the first custom probe. */
static int hooks_off(struct bpf_object *obj, const struct dc_manifest *m, struct dc_objprep *p,
		     int why)
{
	struct bpf_program *prog;
	size_t i;
	int err = 0;

	bpf_object__for_each_program(prog, obj)
	{
		if (!dc_objload__is_hook(bpf_program__name(prog)) ||
		    bpf_program__type(prog) != BPF_PROG_TYPE_TRACING)
			continue;
		bpf_program__set_autoload(prog, false);
		for (i = 0; !err && i < m->nprobes; i++)
			if (m->probes[i].kind == 'c') {
				err = add_skip(p, i, why);
				break;
			}
	}
	return err;
}

/* Errors that say no fentry program loads here at all, whatever its function. */
static bool unsupported(int err)
{
	return err == -EPERM || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */ || err == -ENOSYS;
}

static void say_off(struct dc_objprep *p, int why)
{
	snprintf(p->why, sizeof(p->why),
		 "fentry/fexit programs cannot be loaded by this kernel (%s)", strerror(-why));
}

static bool has_tracing_hooks(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
	{
		if (dc_objload__is_hook(bpf_program__name(prog)) &&
		    bpf_program__type(prog) == BPF_PROG_TYPE_TRACING)
			return true;
	}
	return false;
}

/*
 * Each fentry function is tried with a minimal program first: one that the
 * kernel refuses (not traceable, no address) would otherwise fail the load
 * of the whole object.
 */
int dc_objload__prepare(struct bpf_object *obj, const struct dc_manifest *m, struct dc_objprep *p)
{
	struct btf *vmlinux = NULL;
	int off = 0, err = 0;
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; !err && i < m->nprobes; i++) {
		const struct dc_mprobe *mp = &m->probes[i];
		struct bpf_program *e = class_prog(obj, mp->cls, false);
		struct bpf_program *x = class_prog(obj, mp->cls, true);
		int id, why;

		if (mp->kind != 'f')
			continue;
		if (!e || !x)
			return dc_err(-ENOEXEC,
				      "probe %zu has no programs: manifest and object "
				      "disagree",
				      i);
		if (!vmlinux && !(vmlinux = btf__load_vmlinux_btf()))
			return dc_err(-errno, "cannot read the kernel's BTF: %s", strerror(errno));
		id = btf__find_by_name_kind(vmlinux, mp->point, BTF_KIND_FUNC);
		why = off ? off : id > 0 ? fentry_loads(id) : -ENOENT;
		if (!why) {
			err = bpf_program__set_attach_target(e, 0, mp->point);
			if (!err)
				err = bpf_program__set_attach_target(x, 0, mp->point);
			continue;
		}
		if (!off && unsupported(why)) {
			off = why;
			say_off(p, why);
		}
		bpf_program__set_autoload(e, false);
		bpf_program__set_autoload(x, false);
		err = add_skip(p, i, why);
	}
	if (!err && !off && has_tracing_hooks(obj)) {
		int id;

		if (!vmlinux && !(vmlinux = btf__load_vmlinux_btf()))
			return dc_err(-errno, "cannot read the kernel's BTF: %s", strerror(errno));
		id = btf__find_by_name_kind(vmlinux, "vfs_read", BTF_KIND_FUNC);
		off = id > 0 ? fentry_loads(id) : 0;
		if (!unsupported(off))
			off = 0;
		else
			say_off(p, off);
	}
	if (!err && off)
		err = hooks_off(obj, m, p, off);
	btf__free(vmlinux);
	return err;
}

void dc_objload__free(struct dc_objprep *p)
{
	free(p->skips);
	memset(p, 0, sizeof(*p));
}
