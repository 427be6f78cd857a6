/* SPDX-License-Identifier: MIT */
/* A loaded generated object: its programs, maps, manifest and links. */
#ifndef DC_SESSION_H
#define DC_SESSION_H

#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_manifest.h"
#include "dc_record.h"
#include "parallel.h"

struct session_opts {
	size_t ring_bytes; /* power of two, at least a page */
	bool follow_all;
	unsigned int ncgroups, ncomms; /* selection maps the runtime fills */
	bool strict; /* a probe that cannot attach is fatal */
	bool no_multi; /* never use uprobe_multi links */
	uint64_t profile_ns; /* profile mode's interval; 0 traces every call */
	uint64_t profile_base; /* CLOCK_MONOTONIC ns where interval 0 begins */
	size_t profile_entries; /* room for sums in the kernel */
};

struct skip {
	uint32_t probe;
	int err;
	const char *why; /* NULL: the error's own text */
	bool cached; /* known from an earlier run, through the attach cache */
};

/* Where attaching spent its time, for --verbose and bench/attach.py. */
struct attach_stats {
	double total_ms, uprobe_ms, syscall_ms, other_ms;
	size_t uprobes, syscalls; /* probes of each kind attached */
	size_t uprobe_links; /* uprobe_multi links, or perf-event links without them */
	size_t decoded_bad; /* offsets found unprobeable by reading their instruction */
	size_t kernel_bad; /* offsets the kernel refused, found by splitting batches */
	size_t cached_bad; /* offsets known unprobeable from the attach cache */
};

struct session {
	struct dc_manifest *man;
	struct bpf_object *obj;
	struct bpf_link **links;
	size_t nlinks, cap_links;
	int *link_fds; /* raw uprobe_multi links */
	size_t nlink_fds, cap_link_fds;
	struct skip *skips; /* probes that could not attach */
	size_t nskips, cap_skips;
	size_t attached; /* probes live */
	bool multi; /* uprobe_multi links in use */
	pthread_mutex_t lock; /* links, skips and counts, while threads attach */
	struct progress progress;
	struct attach_stats stats;
	struct bpf_program **class_progs; /* entry and exit of each capture class */
	size_t nclass_progs;
	struct bpf_program *sys_progs[2]; /* the system call dispatcher's entry and exit */
	int procs_fd, stats_fd, events_fd;
	struct uwarm *warm; /* registers a probe while the programs load */
};

int session__open(struct session **out, const char *path, const struct session_opts *o);
int session__load(struct session *s);
int session__attach(struct session *s, const struct session_opts *o);
/*
 * Starts following process @pid and its future children, from now on or,
 * with @at_exec, from its next exec.
 */
int session__follow(struct session *s, int pid, bool at_exec);
/* Stops every probe; maps stay readable. */
void session__detach(struct session *s);
int session__stats(struct session *s, struct dc_stats *sum);
void session__destroy(struct session *s);

/* Why a probe was skipped, in words; @buf holds the text when it is composed. */
const char *session__skip_reason(const struct skip *k, char *buf, size_t len);

/*
 * For the attaching code: keep a link, or record a probe that could not
 * attach. All may be called from several threads at once.
 */
int add_link(struct session *s, struct bpf_link *l);
int add_link_fd(struct session *s, int fd);
int add_skip(struct session *s, uint32_t probe, int err);
int add_skip_why(struct session *s, uint32_t probe, int err, const char *why, bool cached);
void count_attached(struct session *s, size_t n);
struct bpf_program *session__class_prog(struct session *s, uint32_t cls, bool exit);

/* uprobes (uattach.c): every 'u' probe of the manifest. */
int uattach__attach(struct session *s);

/* uprobe_multi through the raw bpf() syscall: libbpf 1.1 has no API for it. */
bool umulti__supported(void);
int umulti__attach(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		   size_t n, bool ret);
/* A program that does nothing, loadable for uprobe_multi links. */
int umulti__trivial_prog(void);
/*
 * Keeps uprobe registration on its fast path until uwarm__stop(), which
 * hands the links it made to @s for detach.
 */
int uwarm__start(struct uwarm **out);
int uwarm__stop(struct uwarm *w, struct session *s);

#endif
