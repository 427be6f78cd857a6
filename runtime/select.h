/* SPDX-License-Identifier: MIT */
/*
 * Which processes a run traces besides its command: --pid, --comm,
 * --cgroup, --all, and in server mode those that opt in through the client
 * library. Selections add up; the kernel side decides each event.
 */
#ifndef DC_SELECT_H
#define DC_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "session.h"

struct select_opts {
	const char **pids; /* as given */
	size_t npids;
	const char **comms;
	size_t ncomms;
	const char **cgroups; /* cgroup v2 directories */
	size_t ncgroups;
	bool all;
	bool server;
	const char *client_lib; /* server mode's uprobe target */
};

struct select;

/*
 * Checks every selector (the processes exist, the names fit a comm, the
 * directories are cgroup v2, the client library is there) before anything
 * is loaded.
 */
int select__open(struct select **out, const struct select_opts *o);
/* What the BPF side must know before load. */
void select__configure(const struct select *sel, struct session_opts *so);
/*
 * Once the session's probes are live: fills the selection maps, attaches
 * the client uprobes and follows the processes that match already.
 */
int select__attach(struct select *sel, struct session *s);
/* The one process named with --pid, or 0: trace files are named after it. */
int select__single_pid(const struct select *sel);
/*
 * With only --pid selectors, true once every followed process (those and
 * their descendants) has exited; always false otherwise.
 */
bool select__done(const struct select *sel, const struct session *s);
void select__destroy(struct select *sel);

#endif
