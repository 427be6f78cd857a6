// SPDX-License-Identifier: MIT
/*
 * Process lifecycle for configs/process.yaml: exec (with the program's
 * path), fork of a new process (threads are not processes), and exit with
 * the exit status, CPU time, peak resident set and how long the process
 * lived.
 *
 * The exit is taken at exit_group(2), where the process is still whole:
 * its memory is still mapped, and the runtime still follows it (at the
 * later sched_process_exit the runtime forgets the process before a
 * hook's program runs). A process killed by a signal makes no exit_group;
 * the runtime's exit_signal PR record says how it ended.
 */

/* Pages of RSS to KiB: 4 KiB pages, as on x86-64 and most arm64 kernels. */
#define DC_PAGE_KB 4

SEC("raw_tp/sched_process_exec")
int dc_proc_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	struct dc_frame *f = dc_hook_point(DC_HOOK_ID(0));

	if (!f)
		return 0;
	dc_cap_kpath(f, BPF_CORE_READ(bprm, filename));
	dc_emit_point(f);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int dc_proc_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 pid = BPF_CORE_READ(child, tgid);
	struct dc_frame *f;

	if (pid == BPF_CORE_READ(parent, tgid))
		return 0;
	f = dc_hook_point(DC_HOOK_ID(1));
	if (!f)
		return 0;
	f->args[0] = pid;
	dc_emit_point(f);
	return 0;
}

static __always_inline __u64 dc_max(__u64 a, __u64 b)
{
	return a > b ? a : b;
}

SEC("tracepoint/syscalls/sys_enter_exit_group")
int dc_proc_exit(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct dc_frame *f = dc_hook_point(DC_HOOK_ID(2));
	struct mm_struct *mm;
	__u64 rss, cpu;

	if (!f)
		return 0;
	/* Threads that ended before this one are summed in signal; this one is not yet. */
	cpu = BPF_CORE_READ(t, signal, sum_sched_runtime) + BPF_CORE_READ(t, se.sum_exec_runtime);
	mm = BPF_CORE_READ(t, mm);
	rss = BPF_CORE_READ(mm, rss_stat[MM_FILEPAGES].count) +
	      BPF_CORE_READ(mm, rss_stat[MM_ANONPAGES].count) +
	      BPF_CORE_READ(mm, rss_stat[MM_SHMEMPAGES].count);
	/* The high-water mark is updated lazily (at unmap), so the current size counts too. */
	rss = dc_max(rss, BPF_CORE_READ(mm, hiwater_rss));
	rss = dc_max(rss, BPF_CORE_READ(t, signal, maxrss));
	f->args[0] = ctx->args[0] & 0xff;
	f->args[1] = cpu / 1000;
	f->args[2] = rss * DC_PAGE_KB;
	f->args[3] = (bpf_ktime_get_ns() - BPF_CORE_READ(t, group_leader, start_time)) / 1000;
	dc_emit_point(f);
	return 0;
}
