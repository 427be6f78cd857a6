/* SPDX-License-Identifier: MIT */
/* A loaded generated object: its programs, maps, manifest and links. */
#ifndef DC_SESSION_H
#define DC_SESSION_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_manifest.h"
#include "dc_record.h"

struct session_opts {
	size_t ring_bytes; /* power of two, at least a page */
	bool follow_all;
	bool strict; /* a probe that cannot attach is fatal */
	bool no_multi; /* never use uprobe_multi links */
	uint64_t profile_ns; /* profile mode's interval; 0 traces every call */
	uint64_t profile_base; /* CLOCK_MONOTONIC ns where interval 0 begins */
	size_t profile_entries; /* room for sums in the kernel */
};

struct skip {
	uint32_t probe;
	int err;
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
	int procs_fd, stats_fd, events_fd;
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

/* For attach_kinds.c: keep a link, or record a probe that could not attach. */
int add_link(struct session *s, struct bpf_link *l);
int add_skip(struct session *s, uint32_t probe, int err);

/* uprobe_multi through the raw bpf() syscall: libbpf 1.1 has no API for it. */
bool umulti__supported(void);
int umulti__attach(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		   size_t n, bool ret);

#endif
