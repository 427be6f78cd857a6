// SPDX-License-Identifier: MIT
/*
 * uprobe_multi links (kernel 6.6+) attach thousands of offsets of one binary
 * in one system call. Debian's libbpf 1.1 predates them, so the link is made
 * with bpf(BPF_LINK_CREATE) directly, laid out as the kernel's uapi does.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "session.h"

#define DC_TRACE_UPROBE_MULTI 48
#define DC_UPROBE_MULTI_RETURN 1U

struct link_create_umulti {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t umulti_flags;
	uint32_t pid;
	uint32_t pad;
};

int umulti__attach(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		   size_t n, bool ret)
{
	struct link_create_umulti a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.attach_type = DC_TRACE_UPROBE_MULTI;
	a.path = (uintptr_t)path;
	a.offsets = (uintptr_t)offsets;
	a.cookies = (uintptr_t)cookies;
	a.cnt = n;
	a.umulti_flags = ret ? DC_UPROBE_MULTI_RETURN : 0;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : (int)fd;
}

int umulti__trivial_prog(void)
{
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = DC_TRACE_UPROBE_MULTI);

	return bpf_prog_load(BPF_PROG_TYPE_KPROBE, "dc_probe_um", "GPL", insns, 2, &opts);
}

/*
 * A kernel that knows uprobe_multi rejects the path "/" as not a regular
 * file (EBADF); one that does not rejects the attach type (EINVAL).
 */
bool umulti__supported(void)
{
	uint64_t off = 0;
	int prog, link;

	prog = umulti__trivial_prog();
	if (prog < 0)
		return false;
	link = umulti__attach(prog, "/", &off, NULL, 1, false);
	if (link >= 0)
		close(link);
	close(prog);
	return link == -EBADF;
}
