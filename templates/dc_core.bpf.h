/* SPDX-License-Identifier: MIT */
/*
 * The part of every generated object that does not depend on the config:
 * maps, process following, the per-thread call stack and record emission.
 * The generator renders only small capture programs around these helpers.
 */
#ifndef DC_CORE_BPF_H
#define DC_CORE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dc_record.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Written by datacrumbs-run before load. */
const volatile struct dc_cfg dc_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the runtime */
} dc_events SEC(".maps");

/* Processes being followed, by tgid: enum dc_follow. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} dc_procs SEC(".maps");

/* Which file an open handle names, so later calls on it carry fhash. */
struct dc_filekey {
	__u32 tgid;
	__u32 ns; /* enum dc_handle_ns */
	__u64 handle;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 17);
	__type(key, struct dc_filekey);
	__type(value, __u64);
} dc_files SEC(".maps");

/*
 * Processes with entries in dc_files (tgid -> 1), so that fork and exit walk
 * dc_files only for them, and an exited process's entries go whether or not
 * it was still traced when it ended.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} dc_holders SEC(".maps");

/* --comm names: a process that execs into one, or forks from one, is followed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DC_MAX_COMMS);
	__type(key, struct dc_comm);
	__type(value, __u8);
} dc_comms SEC(".maps");

/* --cgroup directories: tasks under one of them are traced while they are. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, DC_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} dc_cgroups SEC(".maps");

/* Hashes whose string the runtime already has; LRU so it never fills up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, __u64);
	__type(value, __u8);
} dc_strs SEC(".maps");

struct dc_frame {
	__u64 start;
	__u64 fhash;
	__u64 handle;
	__u64 args[DC_MAX_ARGS];
	__u32 probe;
	__u32 closing; /* 1 + the namespace of the handle the call closes (DC_NS_FD is 0) */
};

struct dc_stack {
	__u32 depth;
	__u32 lost; /* entries past DC_MAX_DEPTH whose returns are still due */
	struct dc_frame f[DC_MAX_DEPTH];
};

/*
 * Task storage rather than a hash keyed by tid: the kernel frees it when the
 * thread exits, so dead threads never leak stack entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dc_stack);
} dc_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dc_stats);
} dc_stats SEC(".maps");

/*
 * Profile mode's sums, and each probe's enum dc_bytes_rule; both sized by the
 * runtime before load (one entry in trace mode). A hash rather than an LRU:
 * a call that finds it full is counted, never silently evicted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct dc_prof_key);
	__type(value, struct dc_prof_val);
} dc_prof SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dc_prof_bytes SEC(".maps");

/* A path is read here first so it can be hashed before ring space is taken. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dc_str);
} dc_scratch SEC(".maps");

/* uprobe arguments by 0-based index; libbpf 1.1 stops at PARM5. */
#define DC_UARG_0(x) PT_REGS_PARM1(x)
#define DC_UARG_1(x) PT_REGS_PARM2(x)
#define DC_UARG_2(x) PT_REGS_PARM3(x)
#define DC_UARG_3(x) PT_REGS_PARM4(x)
#define DC_UARG_4(x) PT_REGS_PARM5(x)
#if defined(__TARGET_ARCH_x86)
#define DC_UARG_5(x) (((struct pt_regs *)(x))->r9)
#define DC_SYS_ARG6(regs) BPF_CORE_READ(regs, r9)
#elif defined(__TARGET_ARCH_arm64)
#define DC_UARG_5(x) (((struct user_pt_regs *)(x))->regs[5])
#define DC_SYS_ARG6(regs) BPF_CORE_READ(regs, regs[5])
#endif

/*
 * A syscalls:sys_enter_* record, as every kernel lays it out. Not the CO-RE
 * type: the verifier takes a context read only at ctx + a constant, and a
 * relocated offset is added to ctx in a register first.
 */
struct dc_sys_enter_rec {
	__u64 common;
	__s64 nr;
	__u64 args[6];
};

/*
 * A system call's arguments: from the task's registers when the raw
 * tracepoint dispatcher runs (raw), else from the sys_enter_* record.
 */
static __always_inline __u64 dc_sys_arg(void *src, bool raw, int n)
{
	struct pt_regs *regs = src;

	if (!raw)
		return ((struct dc_sys_enter_rec *)src)->args[n];
	switch (n) {
	case 0:
		return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 1:
		return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 2:
		return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 3:
		return PT_REGS_PARM4_CORE_SYSCALL(regs);
	case 4:
		return PT_REGS_PARM5_CORE_SYSCALL(regs);
	default:
		return DC_SYS_ARG6(regs);
	}
}

static __always_inline struct dc_stats *dc_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dc_stats, &zero);
}

/*
 * Programs of these kinds never nest on one CPU (the kernel skips a program
 * that would), so plain increments on per-CPU counters are safe.
 */
#define DC_COUNT(field)                               \
	do {                                          \
		struct dc_stats *s_ = dc_stats_get(); \
		if (s_)                               \
			s_->field++;                  \
	} while (0)

static __always_inline __u32 dc_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* In the followed set: named by the runtime, opted in, or descended from one. */
static __always_inline bool dc_followed(__u32 tgid)
{
	__u32 *state = bpf_map_lookup_elem(&dc_procs, &tgid);

	return state && *state == DC_FOLLOW_TRACED;
}

static __always_inline bool dc_in_cgroups(void)
{
	__u32 i;

	for (i = 0; i < DC_MAX_CGROUPS; i++) {
		if (i >= dc_cfg.ncgroups)
			break;
		if (bpf_current_task_under_cgroup(&dc_cgroups, i) == 1)
			return true;
	}
	return false;
}

/* Whether the current task, of process @tgid, is traced. */
static __always_inline bool dc_traced(__u32 tgid)
{
	__u32 *state;

	if (tgid == dc_cfg.self_tgid)
		return false;
	/* First, so a command still waiting for its exec is left out under --all too. */
	state = bpf_map_lookup_elem(&dc_procs, &tgid);
	if (state)
		return *state == DC_FOLLOW_TRACED;
	return dc_cfg.follow_all || (dc_cfg.ncgroups && dc_in_cgroups());
}

/* The current task's comm is one of the --comm names. */
static __always_inline bool dc_comm_selected(__u32 tgid)
{
	struct dc_comm c;

	if (!dc_cfg.ncomms || tgid == dc_cfg.self_tgid)
		return false;
	__builtin_memset(&c, 0, sizeof(c));
	bpf_get_current_comm(c.s, sizeof(c.s));
	return bpf_map_lookup_elem(&dc_comms, &c) != NULL;
}

/*
 * A wakeup per record costs more than the record itself on these machines,
 * so the consumer drains on a timer and is only woken when the buffer fills.
 */
static __always_inline __u64 dc_rb_flags(void)
{
	if (bpf_ringbuf_query(&dc_events, BPF_RB_AVAIL_DATA) >= dc_cfg.wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline struct dc_stack *dc_stack_get(__u64 flags)
{
	return bpf_task_storage_get(&dc_stacks, bpf_get_current_task_btf(), NULL, flags);
}

static __always_inline void dc_frame_init(struct dc_frame *f, __u32 probe)
{
	f->probe = probe;
	f->fhash = 0;
	f->handle = 0;
	f->closing = 0;
	f->args[0] = 0;
	f->args[1] = 0;
	f->args[2] = 0;
	f->args[3] = 0;
}

/* Entry side of every probe: a stack push, nothing more. */
static __always_inline struct dc_frame *dc_enter(__u32 probe)
{
	struct dc_stack *st;
	struct dc_frame *f;
	__u32 d;

	if (!dc_traced(dc_tgid()))
		return NULL;
	st = dc_stack_get(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return NULL;
	d = st->depth;
	if (d >= DC_MAX_DEPTH) {
		st->lost++;
		DC_COUNT(too_deep);
		return NULL;
	}
	st->depth = d + 1;
	f = &st->f[d];
	dc_frame_init(f, probe);
	return f;
}

/* Taken after capture so its cost is not charged to the call. */
static __always_inline void dc_stamp(struct dc_frame *f)
{
	f->start = bpf_ktime_get_ns();
}

/*
 * Pops the frame of @probe. Frames above it belong to calls whose return was
 * never seen (longjmp, a thread killed mid-call) and are discarded with it.
 */
static __always_inline struct dc_frame *dc_leave(__u32 probe, __u32 *level)
{
	struct dc_stack *st = dc_stack_get(0);
	__u32 d, i, idx;

	if (!st)
		return NULL;
	if (st->lost) {
		st->lost--;
		return NULL;
	}
	d = st->depth;
	for (i = 0; i < DC_MAX_DEPTH; i++) {
		if (i >= d)
			break;
		idx = d - 1 - i;
		if (idx >= DC_MAX_DEPTH)
			break;
		if (st->f[idx].probe == probe) {
			st->depth = idx;
			*level = idx;
			return &st->f[idx];
		}
	}
	DC_COUNT(unpaired);
	return NULL;
}

/* What call and point records take alike from frame @f of thread @id (pid_tgid). */
#define DC_FILL_EVENT(r, f, id)              \
	do {                                 \
		(r)->probe = (f)->probe;     \
		(r)->pid = (id) >> 32;       \
		(r)->tid = (__u32)(id);      \
		(r)->fhash = (f)->fhash;     \
		(r)->args[0] = (f)->args[0]; \
		(r)->args[1] = (f)->args[1]; \
		(r)->args[2] = (f)->args[2]; \
		(r)->args[3] = (f)->args[3]; \
	} while (0)

/* Ring space for one event, counted as emitted, or as dropped when there is none. */
static __always_inline void *dc_reserve_event(__u64 size)
{
	struct dc_stats *s = dc_stats_get();
	void *r;

	if (s)
		s->calls++;
	r = bpf_ringbuf_reserve(&dc_events, size, 0);
	if (!r && s)
		s->drops++;
	return r;
}

/* The bytes the call of @f moved, by its probe's rule, as the report counts them. */
static __always_inline __u64 dc_prof_moved(const struct dc_frame *f, __s64 ret)
{
	__u32 probe = f->probe, *rule;

	if (ret <= 0)
		return 0;
	rule = bpf_map_lookup_elem(&dc_prof_bytes, &probe);
	if (!rule || *rule == DC_BYTES_NONE || *rule > DC_BYTES_RET)
		return 0;
	if (*rule == DC_BYTES_RET)
		return ret;
	return ret <= (__s64)f->args[(*rule - DC_BYTES_ARG0) & (DC_MAX_ARGS - 1)] ? ret : 0;
}

/*
 * A thread's sums for a probe are only added to by that thread, so plain
 * adds do, but for keyed pairs (@shared), which may end from interrupts on
 * several CPUs at once: theirs are atomic.
 */
static __always_inline void dc_prof_fold(struct dc_prof_val *v, __u64 dur, __u64 bytes, bool shared)
{
	if (shared) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->time, dur);
		__sync_fetch_and_add(&v->bytes, bytes);
	} else {
		v->count++;
		v->time += dur;
		v->bytes += bytes;
	}
	if (dur < v->min)
		v->min = dur;
	if (dur > v->max)
		v->max = dur;
}

/*
 * Profile mode's exit side: the call is added to its interval's sums, one
 * lookup when the entry exists, one insert for the first call of an
 * interval.
 */
static __always_inline void dc_prof_add(struct dc_frame *f, __u64 end, __s64 ret, __u64 id,
					bool shared)
{
	struct dc_prof_key k = { .pid = id >> 32, .tid = (__u32)id, .probe = f->probe };
	struct dc_stats *s = dc_stats_get();
	__u64 dur = end > f->start ? end - f->start : 0;
	__u64 bytes = dc_prof_moved(f, ret);
	struct dc_prof_val *v, nv;

	if (s)
		s->calls++;
	k.fhash = f->fhash;
	k.slot = end > dc_cfg.profile_base ? (end - dc_cfg.profile_base) / dc_cfg.profile_ns : 0;
	v = bpf_map_lookup_elem(&dc_prof, &k);
	if (v) {
		dc_prof_fold(v, dur, bytes, shared);
		return;
	}
	nv = (struct dc_prof_val){
		.count = 1, .time = dur, .bytes = bytes, .min = dur, .max = dur
	};
	if (!bpf_map_update_elem(&dc_prof, &k, &nv, BPF_NOEXIST))
		return;
	/* Another CPU made the entry first, or the map is full. */
	v = bpf_map_lookup_elem(&dc_prof, &k);
	if (v)
		dc_prof_fold(v, dur, bytes, shared);
	else if (s)
		s->prof_drops++;
}

/*
 * Emits the call of @f as made by thread @id (pid_tgid), or adds it up in
 * profile mode; @shared when other CPUs may end calls of the same thread
 * and probe at once.
 */
static __always_inline void dc_emit_as(struct dc_frame *f, __u32 level, __u64 end, __s64 ret,
				       __u64 id, bool shared)
{
	struct dc_call *r;

	if (dc_cfg.profile_ns) {
		dc_prof_add(f, end, ret, id, shared);
		return;
	}
	r = dc_reserve_event(sizeof(*r));
	if (!r)
		return;
	r->type = DC_REC_CALL;
	DC_FILL_EVENT(r, f, id);
	r->start = f->start;
	r->end = end;
	r->ret = ret;
	r->level = level;
	r->pad = 0;
	bpf_ringbuf_submit(r, dc_rb_flags());
}

static __always_inline void dc_emit(struct dc_frame *f, __u32 level, __u64 end, __s64 ret)
{
	dc_emit_as(f, level, end, ret, bpf_get_current_pid_tgid(), false);
}

/* A tracepoint field of @type at byte @off of the record, in a program whose context is ctx. */
#define DC_TP(type, off) (*(type *)((char *)ctx + (off)))

/*
 * Hashes the string in @s (@n bytes read, with its NUL) into the frame's
 * fhash, and sends the string once per runtime.
 */
static __always_inline void dc_hash_str(struct dc_frame *f, struct dc_str *s, long n)
{
	__u64 h = DC_FNV_OFFSET;
	struct dc_str *r;
	__u32 i;
	__u8 one = 1;

	if (n <= 1)
		return;
	for (i = 0; i < DC_PATH_MAX; i++) {
		if (i >= n - 1)
			break;
		h ^= (__u8)s->s[i];
		h *= DC_FNV_PRIME;
	}
	f->fhash = h;
	if (bpf_map_lookup_elem(&dc_strs, &h))
		return;
	r = bpf_ringbuf_reserve(&dc_events, sizeof(*r), 0);
	if (!r) {
		DC_COUNT(str_drops);
		return;
	}
	r->type = DC_REC_STR;
	r->len = n - 1;
	r->hash = h;
	__builtin_memcpy(r->s, s->s, sizeof(r->s));
	bpf_ringbuf_submit(r, dc_rb_flags());
	/* Marked only once sent: a lost string is sent again next time. */
	bpf_map_update_elem(&dc_strs, &h, &one, BPF_ANY);
}

static __always_inline struct dc_str *dc_scratch_str(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dc_scratch, &zero);
}

/* A path in user memory: hashed into fhash, its text sent once. */
static __always_inline void dc_cap_path(struct dc_frame *f, const void *upath)
{
	struct dc_str *s = dc_scratch_str();

	if (s && upath)
		dc_hash_str(f, s, bpf_probe_read_user_str(s->s, sizeof(s->s), upath));
}

/* A name in kernel memory (a dentry name, a tracepoint string). */
static __always_inline void dc_cap_kpath(struct dc_frame *f, const void *kpath)
{
	struct dc_str *s = dc_scratch_str();

	if (s && kpath)
		dc_hash_str(f, s, bpf_probe_read_kernel_str(s->s, sizeof(s->s), kpath));
}

/* A tracepoint's __data_loc string: the field at @off holds its place in the record. */
static __always_inline void dc_cap_tpstr(struct dc_frame *f, void *ctx, __u32 off)
{
	__u32 loc = *(__u32 *)(ctx + off);

	dc_cap_kpath(f, (const void *)((unsigned long)ctx + (loc & 0xffff)));
}

/* The 64-bit value a user pointer points to, such as an MPI_File *. */
static __always_inline __u64 dc_user_u64(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), p);
	return v;
}

/*
 * The file of a close still running around this call on the same handle: a
 * close forgets its handle as it begins, so the calls it makes on the way
 * down (libc's close, then the system call) find the file here instead.
 */
static __always_inline __u64 dc_closing_fhash(__u32 ns, __s64 h)
{
	struct dc_stack *st = dc_stack_get(0);
	__u32 i, d, idx;

	if (!st)
		return 0;
	d = st->depth;
	for (i = 0; i < DC_MAX_DEPTH && i < d; i++) {
		idx = d - 1 - i;
		if (idx >= DC_MAX_DEPTH)
			break;
		if (st->f[idx].closing == ns + 1 && st->f[idx].handle == h)
			return st->f[idx].fhash;
	}
	return 0;
}

/* A handle argument: the call carries the fhash of the file it was opened on. */
static __always_inline void dc_cap_handle(struct dc_frame *f, __u32 ns, __s64 h)
{
	struct dc_filekey k = { .tgid = dc_tgid(), .ns = ns, .handle = h };
	__u64 *fh;

	fh = bpf_map_lookup_elem(&dc_files, &k);
	f->fhash = fh ? *fh : dc_closing_fhash(ns, h);
	f->handle = h;
}

/*
 * Maps @h to the call's file. A @fresh handle is a number new to the process
 * (dup2 of a pipe onto a file's descriptor), so with no file of its own it
 * must not keep naming the old one; fileno only gives another name to a
 * stream's descriptor, which keeps its file.
 */
static __always_inline void dc_handle_remember(struct dc_frame *f, __u32 ns, __u64 h, bool fresh,
					       __u64 flags)
{
	struct dc_filekey k = { .tgid = dc_tgid(), .ns = ns, .handle = h };
	__u8 one = 1;

	if (!f->fhash) {
		if (fresh)
			bpf_map_delete_elem(&dc_files, &k);
		return;
	}
	bpf_map_update_elem(&dc_files, &k, &f->fhash, flags);
	if (!bpf_map_lookup_elem(&dc_holders, &k.tgid))
		bpf_map_update_elem(&dc_holders, &k.tgid, &one, BPF_ANY);
}

/*
 * The return value is a handle for the call's file (from its path, or from
 * the handle it was derived from). Descriptors and hid_t fail negative,
 * pointers (FILE *) fail as NULL.
 */
static __always_inline void dc_handle_returned(struct dc_frame *f, __u32 ns, __s64 ret, bool fresh)
{
	if (ns == DC_NS_STREAM || ns == DC_NS_MPI_FILE ? ret != 0 : ret >= 0)
		dc_handle_remember(f, ns, ret, fresh, BPF_ANY);
}

/* The new handle was written through the pointer kept in f->handle (MPI_File_open). */
static __always_inline void dc_handle_out(struct dc_frame *f, __u32 ns, __s64 ret)
{
	if (ret == 0 && f->handle)
		dc_handle_remember(f, ns, dc_user_u64((const void *)f->handle), true, BPF_ANY);
}

/*
 * A closed handle's number or address can be handed to another thread's open
 * before this call's return probe fires, so it is forgotten as the close
 * begins, while it is still this call's.
 */
static __always_inline void dc_handle_closing(struct dc_frame *f, __u32 ns)
{
	struct dc_filekey k = { .tgid = dc_tgid(), .ns = ns, .handle = f->handle };

	f->closing = ns + 1;
	bpf_map_delete_elem(&dc_files, &k);
}

/*
 * An MPI_File or hid_t whose close failed is still open: it is remembered
 * again, unless the number has meanwhile gone to a file of its own.
 */
static __always_inline void dc_handle_kept(struct dc_frame *f, __u32 ns, __s64 ret)
{
	if (ret != 0)
		dc_handle_remember(f, ns, f->handle, false, BPF_NOEXIST);
}

/*
 * Point events (tracepoints, USDT probes, hooks) push nothing: their frame
 * is per-CPU scratch, filled and emitted by one program run.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dc_frame);
} dc_points SEC(".maps");

static __always_inline struct dc_frame *dc_point(__u32 probe)
{
	__u32 zero = 0;
	struct dc_frame *f;

	if (!dc_traced(dc_tgid()))
		return NULL;
	f = bpf_map_lookup_elem(&dc_points, &zero);
	if (!f)
		return NULL;
	dc_frame_init(f, probe);
	f->start = bpf_ktime_get_ns();
	return f;
}

/* Calls open on the current thread, so a point event can be placed among them. */
static __always_inline __u32 dc_depth(void)
{
	struct dc_stack *st = dc_stack_get(0);

	return st ? st->depth : 0;
}

/* In profile mode a point event is counted as a call that took no time. */
static __always_inline void dc_emit_point(struct dc_frame *f)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct dc_instant *r;

	if (dc_cfg.profile_ns) {
		dc_prof_add(f, f->start, 0, id, false);
		return;
	}
	r = dc_reserve_event(sizeof(*r));
	if (!r)
		return;
	r->type = DC_REC_INSTANT;
	DC_FILL_EVENT(r, f, id);
	r->ts = f->start;
	r->level = dc_depth();
	r->pad = 0;
	bpf_ringbuf_submit(r, dc_rb_flags());
}

/*
 * Pairs whose two ends need not run on one thread (a block request is
 * started by a process and completed in an interrupt) are joined by a key
 * made of event fields instead of the thread's stack. LRU: an end that
 * never comes cannot fill the map.
 */
struct dc_pendkey {
	__u32 probe;
	__u32 pad;
	__u64 key;
};

struct dc_pend {
	struct dc_frame f;
	__u64 id; /* pid_tgid of the thread that began it */
	__u32 level;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, struct dc_pendkey);
	__type(value, struct dc_pend);
} dc_pending SEC(".maps");

static __always_inline __u64 dc_key_mix(__u64 h, __u64 v)
{
	return (h ^ v) * DC_FNV_PRIME;
}

/* Begins the keyed pair filled in the point frame @f. */
static __always_inline void dc_pend_begin(struct dc_frame *f, __u64 key)
{
	struct dc_pendkey k = { .probe = f->probe, .key = key };
	struct dc_pend p = { .f = *f, .id = bpf_get_current_pid_tgid(), .level = dc_depth() };

	bpf_map_update_elem(&dc_pending, &k, &p, BPF_ANY);
}

/* The pair @probe begun under @key, or NULL; any thread may end it. */
static __always_inline struct dc_pend *dc_pend_find(__u32 probe, __u64 key)
{
	struct dc_pendkey k = { .probe = probe, .key = key };

	return bpf_map_lookup_elem(&dc_pending, &k);
}

static __always_inline void dc_pend_end(struct dc_pend *p, __u64 key, __u64 end, __s64 ret)
{
	struct dc_pendkey k = { .probe = p->f.probe, .key = key };

	dc_emit_as(&p->f, p->level, end, ret, p->id, true);
	bpf_map_delete_elem(&dc_pending, &k);
}

/*
 * The interface of custom hooks (docs/config.md). DC_HOOK_ID(i) is the
 * probe id of the i-th event the hook's group declares.
 *   span:  f = dc_hook_begin(id); f->args[0] = ...; ... dc_hook_end(id, ret);
 *   point: f = dc_hook_point(id); f->args[0] = ...; dc_emit_point(f);
 * Both return NULL for processes that are not traced.
 */
/* DC_HOOK_ID(i) with i past the hook's events calls this, which clang refuses. */
extern int dc_hook_id_out_of_range(void) __attribute__((
	error("DC_HOOK_ID(i) takes a constant i below the number of events the config lists")));

static __always_inline struct dc_frame *dc_hook_begin(__u32 id)
{
	struct dc_frame *f = dc_enter(id);

	if (f)
		dc_stamp(f);
	return f;
}

static __always_inline void dc_hook_end(__u32 id, __s64 ret)
{
	__u64 end = bpf_ktime_get_ns();
	struct dc_frame *f;
	__u32 level;

	f = dc_leave(id, &level);
	if (f)
		dc_emit(f, level, end, ret);
}

static __always_inline struct dc_frame *dc_hook_point(__u32 id)
{
	return dc_point(id);
}

static __always_inline void dc_emit_proc(__u32 what, __u32 pid, __u32 ppid, __s64 code)
{
	struct dc_proc *r = bpf_ringbuf_reserve(&dc_events, sizeof(*r), 0);

	if (!r) {
		DC_COUNT(proc_drops);
		return;
	}
	r->type = DC_REC_PROC;
	r->what = what;
	r->pid = pid;
	r->ppid = ppid;
	r->ts = bpf_ktime_get_ns();
	r->code = code;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	/* Process changes are rare and the writer wants them promptly. */
	bpf_ringbuf_submit(r, 0);
}

struct dc_fork_ctx {
	__u32 parent;
	__u32 child;
	__u32 copied; /* the child inherited an entry */
};

static long dc_inherit_file(void *map, struct dc_filekey *k, __u64 *h, struct dc_fork_ctx *c)
{
	struct dc_filekey nk = *k;

	if (k->tgid != c->parent)
		return 0;
	nk.tgid = c->child;
	/* A flag, not a count: the verifier would follow every count. */
	if (!bpf_map_update_elem(map, &nk, h, BPF_NOEXIST))
		c->copied = 1;
	return 0;
}

static long dc_forget_file(void *map, struct dc_filekey *k, __u64 *h, __u32 *tgid)
{
	if (k->tgid == *tgid)
		bpf_map_delete_elem(map, k);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int dc_on_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 traced = DC_FOLLOW_TRACED;
	struct dc_fork_ctx c = {};
	__u8 one = 1;

	c.parent = dc_tgid();
	c.child = BPF_CORE_READ(child, tgid);
	/* New threads share the tgid and are followed already. */
	if (c.child == c.parent)
		return 0;
	/*
	 * Followed processes pass that on; a child also inherits its parent's
	 * comm, so one forked from a --comm process is followed. Processes
	 * traced for their cgroup (or --all) are not added: theirs is decided
	 * at each event.
	 */
	if (dc_followed(c.parent) || dc_comm_selected(c.parent))
		bpf_map_update_elem(&dc_procs, &c.child, &traced, BPF_ANY);
	else if (!dc_traced(c.parent))
		return 0;
	if (bpf_map_lookup_elem(&dc_holders, &c.parent)) {
		bpf_for_each_map_elem(&dc_files, dc_inherit_file, &c, 0);
		if (c.copied)
			bpf_map_update_elem(&dc_holders, &c.child, &one, BPF_ANY);
	}
	dc_emit_proc(DC_PROC_FORK, c.child, c.parent, 0);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dc_env);
} dc_envs SEC(".maps");

/*
 * The environment the program was started with, just copied onto its stack,
 * so its pages are present. Counted with the process records when lost.
 */
static __always_inline void dc_emit_env(__u32 tgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 start = BPF_CORE_READ(task, mm, env_start), len;
	__u32 zero = 0;
	struct dc_env *e = bpf_map_lookup_elem(&dc_envs, &zero);

	if (!e)
		return;
	len = BPF_CORE_READ(task, mm, env_end) - start;
	e->type = DC_REC_ENV;
	e->pid = tgid;
	e->cut = len > DC_ENV_MAX;
	if (len > DC_ENV_MAX)
		len = DC_ENV_MAX;
	if (bpf_probe_read_user(e->env, len, (const void *)start))
		len = 0;
	e->len = len;
	if (bpf_ringbuf_output(&dc_events, e, offsetof(struct dc_env, env) + len, 0))
		DC_COUNT(proc_drops);
}

SEC("raw_tp/sched_process_exec")
int dc_on_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = dc_tgid(), traced = DC_FOLLOW_TRACED;
	__u32 *state = bpf_map_lookup_elem(&dc_procs, &tgid);

	/* comm is the new program's name by now. */
	if (state && *state == DC_FOLLOW_AT_EXEC)
		*state = DC_FOLLOW_TRACED;
	else if (!state && dc_comm_selected(tgid))
		bpf_map_update_elem(&dc_procs, &tgid, &traced, BPF_ANY);
	if (!dc_traced(tgid))
		return 0;
	dc_emit_env(tgid);
	dc_emit_proc(DC_PROC_EXEC, tgid, 0, 0);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int dc_on_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = dc_tgid();
	bool traced;

	/* Only the last thread of a process ends it. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	traced = dc_traced(tgid);
	/*
	 * Whatever the process was (traced, a command that failed to exec, one
	 * that left its cgroup or stopped its client), nothing of it stays.
	 */
	bpf_map_delete_elem(&dc_procs, &tgid);
	if (bpf_map_lookup_elem(&dc_holders, &tgid)) {
		bpf_for_each_map_elem(&dc_files, dc_forget_file, &tgid, 0);
		bpf_map_delete_elem(&dc_holders, &tgid);
	}
	if (traced)
		dc_emit_proc(DC_PROC_EXIT, tgid, 0, BPF_CORE_READ(task, exit_code));
	return 0;
}

/*
 * Server mode: a process opts in by calling datacrumbs_client_start() in the
 * client library (its constructor does, so preloading is enough) and opts
 * out with datacrumbs_client_stop(). The runtime attaches these uprobes to
 * the library it is told of; the section names keep them out of the
 * uprobe_multi classes.
 */
SEC("uprobe/datacrumbs_client_start")
int dc_on_client_start(struct pt_regs *ctx)
{
	__u32 tgid = dc_tgid(), traced = DC_FOLLOW_TRACED;
	bool was = dc_traced(tgid);

	if (tgid == dc_cfg.self_tgid)
		return 0;
	bpf_map_update_elem(&dc_procs, &tgid, &traced, BPF_ANY);
	/* Its exec went unseen: the rank it was started with comes now. */
	if (!was)
		dc_emit_env(tgid);
	return 0;
}

SEC("uprobe/datacrumbs_client_stop")
int dc_on_client_stop(struct pt_regs *ctx)
{
	__u32 tgid = dc_tgid();

	bpf_map_delete_elem(&dc_procs, &tgid);
	return 0;
}

#endif
