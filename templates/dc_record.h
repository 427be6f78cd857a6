/* SPDX-License-Identifier: MIT */
/*
 * Records shared by the generated BPF programs and datacrumbs-run. Both sides
 * include this header, so a layout change is a change of one file.
 */
#ifndef DC_RECORD_H
#define DC_RECORD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Integer arguments one call can carry besides its return value. */
#define DC_MAX_ARGS 4
/* Nesting depth kept per thread; deeper calls are counted, not recorded. */
#define DC_MAX_DEPTH 32
/* Bytes of a path copied in the kernel; longer paths are cut here. */
#define DC_PATH_MAX 256
#define DC_COMM_LEN 16
/* System call numbers the raw tracepoint dispatcher covers; others use tracepoints. */
#define DC_SYSNR_MAX 1024
/* Bytes of a new program's environment sent at exec, for its rank. */
#define DC_ENV_MAX 16384
/* --cgroup directories and --comm names one run can select. */
#define DC_MAX_CGROUPS 8
#define DC_MAX_COMMS 64

/*
 * File names are hashed with 64-bit FNV-1a on both sides, so a name hashed in
 * the kernel and one hashed by the runtime agree.
 */
#define DC_FNV_OFFSET 0xcbf29ce484222325ULL
#define DC_FNV_PRIME 0x100000001b3ULL

enum dc_rec_type {
	DC_REC_CALL = 1, /* one completed call: struct dc_call */
	DC_REC_STR = 2, /* the string behind a hash: struct dc_str */
	DC_REC_PROC = 3, /* process fork, exec or exit: struct dc_proc */
	DC_REC_INSTANT = 4, /* a point event (tracepoint, USDT, hook): struct dc_instant */
	DC_REC_ENV = 5, /* the environment a followed process execs with: struct dc_env */
};

enum dc_proc_what {
	DC_PROC_FORK = 1,
	DC_PROC_EXEC = 2,
	DC_PROC_EXIT = 3,
};

/* States of a process in the followed set. */
enum dc_follow {
	DC_FOLLOW_TRACED = 1,
	/*
	 * Started by the runtime and waiting to exec the command: the runtime's
	 * own code in the child before exec is not part of the trace.
	 */
	DC_FOLLOW_AT_EXEC = 2,
};

/* What a capture class does with the return value and the captured handle. */
enum dc_ret_role {
	DC_RET_INT = 0, /* plain integer */
	DC_RET_HANDLE = 1, /* a new handle (of the class's namespace) for the call's file */
};

/*
 * Kinds of file handle. The same number means a different file in each, so
 * a handle is remembered together with its namespace.
 */
enum dc_handle_ns {
	DC_NS_FD = 0, /* POSIX file descriptor */
	DC_NS_STREAM = 1, /* STDIO FILE * */
	DC_NS_MPI_FILE = 2, /* MPI-IO MPI_File */
	DC_NS_HID = 3, /* HDF5 hid_t (files, groups, datasets, attributes) */
	DC_NS_COUNT,
};

struct dc_call {
	__u32 type;
	__u32 probe; /* index into the object's manifest */
	__u32 pid;
	__u32 tid;
	__u64 start; /* CLOCK_MONOTONIC ns */
	__u64 end;
	__s64 ret;
	__u64 fhash; /* 0 when no file is known */
	__u64 args[DC_MAX_ARGS];
	__u32 level; /* depth on the thread's call stack, 0 = outermost */
	__u32 pad;
};

/* An event without duration: a tracepoint or USDT probe firing, or a hook's point. */
struct dc_instant {
	__u32 type;
	__u32 probe;
	__u32 pid;
	__u32 tid;
	__u64 ts; /* CLOCK_MONOTONIC ns */
	__u64 fhash;
	__u64 args[DC_MAX_ARGS];
	__u32 level; /* calls open on the thread when it fired */
	__u32 pad;
};

struct dc_str {
	__u32 type;
	__u32 len; /* without the terminating NUL */
	__u64 hash;
	char s[DC_PATH_MAX];
};

struct dc_proc {
	__u32 type;
	__u32 what;
	__u32 pid;
	__u32 ppid;
	__u64 ts;
	__s64 code; /* exit status for DC_PROC_EXIT */
	char comm[DC_COMM_LEN];
};

/*
 * Sent by the kernel at exec so the rank is known even of a process gone
 * before the runtime could read /proc/PID/environ. Only the header and
 * @len bytes of @env are in the ring.
 */
struct dc_env {
	__u32 type;
	__u32 pid;
	__u32 len; /* bytes of env sent */
	__u32 cut; /* the environment was longer than DC_ENV_MAX */
	char env[DC_ENV_MAX]; /* NUL-separated NAME=VALUE strings */
};

/* Per-CPU counters; the runtime sums them over CPUs. */
struct dc_stats {
	__u64 calls; /* completed calls that tried to emit a record */
	__u64 drops; /* of those, records the ring buffer had no room for */
	__u64 str_drops; /* file names lost for lack of room */
	__u64 proc_drops; /* process records lost for lack of room */
	__u64 unpaired; /* returns with no matching entry on the stack */
	__u64 too_deep; /* entries beyond DC_MAX_DEPTH */
	__u64 prof_drops; /* profile mode: calls the full aggregation map had no room for */
};

/*
 * Settings the runtime writes into .rodata before load, so the verifier
 * removes what a run does not use.
 */
struct dc_cfg {
	__u32 follow_all; /* trace every process but the runtime itself */
	__u32 self_tgid;
	__u64 wakeup_bytes; /* wake the consumer only when this much is queued */
	__u64 profile_ns; /* profile mode's interval; 0 in trace mode */
	__u64 profile_base; /* CLOCK_MONOTONIC ns where interval 0 begins */
	__u32 ncgroups; /* slots of dc_cgroups in use: trace tasks under them */
	__u32 ncomms; /* names in dc_comms: follow processes that take them */
};

/* A key of dc_comms: a task's comm as the kernel reports it, NUL-padded. */
struct dc_comm {
	char s[DC_COMM_LEN];
};

/*
 * Profile mode: calls are summed in the kernel per process, thread, probe,
 * file and interval; a call counts in the interval it returns in, so an
 * interval that has ended takes no more calls and the runtime can emit and
 * delete it.
 */
struct dc_prof_key {
	__u32 pid;
	__u32 tid;
	__u32 probe;
	__u32 slot; /* interval: (return time - profile_base) / profile_ns */
	__u64 fhash;
};

struct dc_prof_val {
	__u64 count;
	__u64 time; /* ns, summed */
	__u64 bytes; /* moved, by the rule the probe's dc_prof_bytes entry gives */
	__u64 min, max; /* ns */
};

/*
 * Per probe, what a call moved: nothing, its return value when positive
 * (vectored calls), or its return value when positive and at most the
 * argument it asked for (args[i] for DC_BYTES_ARG0 + i).
 */
enum dc_bytes_rule {
	DC_BYTES_NONE = 0,
	DC_BYTES_ARG0 = 1,
	DC_BYTES_RET = DC_BYTES_ARG0 + DC_MAX_ARGS,
};

#endif
