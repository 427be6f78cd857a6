// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dc_err.h"
#include "select.h"

struct select {
	struct select_opts o;
	int *tgids; /* of o.pids */
	int *pidfds; /* of o.pids: tell whether each is still alive */
	int cgfds[DC_MAX_CGROUPS];
};

static int pidfd_open_(int pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* The process a --pid names: a thread id stands for its whole process. */
static int parse_pid(const char *arg, int *tgid)
{
	char path[64], line[256], *end;
	long pid = strtol(arg, &end, 10);
	FILE *f;

	if (!isdigit((unsigned char)*arg) || *end || pid <= 0 || pid > INT_MAX)
		return dc_err(-EINVAL, "--pid %s: not a process id", arg);
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (!f)
		return dc_err(-ESRCH, "--pid %s: no such process", arg);
	*tgid = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", tgid) == 1)
			break;
	fclose(f);
	if (*tgid == getpid())
		return dc_err(-EINVAL, "--pid %s: that is datacrumbs-run itself", arg);
	return *tgid > 0 ? 0 : dc_err(-ESRCH, "--pid %s: no such process", arg);
}

static int open_cgroup(const char *path, int *fd)
{
	struct statfs st;

	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return dc_err(-errno, "--cgroup %s: %s", path, strerror(errno));
	if (fstatfs(*fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC)
		return dc_err(-ENOTDIR, "--cgroup %s: not a cgroup v2 directory", path);
	return 0;
}

int select__open(struct select **out, const struct select_opts *o)
{
	struct select *sel;
	size_t i;
	int err = 0;

	*out = NULL;
	if (o->ncgroups > DC_MAX_CGROUPS)
		return dc_err(-E2BIG, "at most %d --cgroup directories", DC_MAX_CGROUPS);
	if (o->ncomms > DC_MAX_COMMS)
		return dc_err(-E2BIG, "at most %d --comm names", DC_MAX_COMMS);
	for (i = 0; i < o->ncomms; i++)
		if (!o->comms[i][0] || strlen(o->comms[i]) >= DC_COMM_LEN)
			return dc_err(-EINVAL,
				      "--comm '%s': a comm is 1 to %d bytes (the kernel cuts "
				      "longer names)",
				      o->comms[i], DC_COMM_LEN - 1);
	if (o->server && access(o->client_lib, R_OK))
		return dc_err(-errno, "client library %s: %s (see --client-lib)", o->client_lib,
			      strerror(errno));
	sel = calloc(1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	sel->o = *o;
	for (i = 0; i < DC_MAX_CGROUPS; i++)
		sel->cgfds[i] = -1;
	sel->tgids = calloc(o->npids + 1, sizeof(*sel->tgids));
	sel->pidfds = calloc(o->npids + 1, sizeof(*sel->pidfds));
	if (!sel->tgids || !sel->pidfds) {
		select__destroy(sel);
		return -ENOMEM;
	}
	for (i = 0; i < o->npids; i++)
		sel->pidfds[i] = -1;
	for (i = 0; !err && i < o->npids; i++) {
		err = parse_pid(o->pids[i], &sel->tgids[i]);
		if (!err) {
			sel->pidfds[i] = pidfd_open_(sel->tgids[i]);
			if (sel->pidfds[i] < 0)
				err = dc_err(-ESRCH, "--pid %s: no such process", o->pids[i]);
		}
	}
	for (i = 0; !err && i < o->ncgroups; i++)
		err = open_cgroup(o->cgroups[i], &sel->cgfds[i]);
	if (err) {
		select__destroy(sel);
		return err;
	}
	*out = sel;
	return 0;
}

void select__configure(const struct select *sel, struct session_opts *so)
{
	so->follow_all = sel->o.all;
	so->ncgroups = sel->o.ncgroups;
	so->ncomms = sel->o.ncomms;
}

/*
 * Follows @pid, alive when @pidfd was opened. One that exited before it
 * was in the map had nothing removed at its exit, so it is removed here.
 */
static int follow_live(struct session *s, int pid, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	__u32 key = pid;
	int err = session__follow(s, pid, false);

	if (err)
		return err;
	if (poll(&p, 1, 0) == 1) {
		bpf_map_delete_elem(s->procs_fd, &key);
		return -ESRCH;
	}
	return 0;
}

static bool comm_selected(const struct select *sel, const char *comm)
{
	size_t i;

	for (i = 0; i < sel->o.ncomms; i++)
		if (!strcmp(sel->o.comms[i], comm))
			return true;
	return false;
}

/* Processes that have a selected comm already; later ones are caught at exec and fork. */
static int follow_comms(struct select *sel, struct session *s)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int err = 0;

	if (!d)
		return dc_err(-errno, "/proc: %s", strerror(errno));
	while (!err && (e = readdir(d))) {
		char path[300], comm[DC_COMM_LEN + 2] = "";
		int pid = atoi(e->d_name), fd;
		size_t n;
		FILE *f;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(comm, 1, sizeof(comm) - 1, f);
		fclose(f);
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		if (!comm_selected(sel, comm))
			continue;
		fd = pidfd_open_(pid);
		if (fd < 0)
			continue;
		err = follow_live(s, pid, fd);
		if (err == -ESRCH)
			err = 0;
		close(fd);
	}
	closedir(d);
	return err;
}

static int attach_client(struct session *s, const char *lib, const char *prog, const char *func)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func);
	struct bpf_program *p = bpf_object__find_program_by_name(s->obj, prog);
	struct bpf_link *l;

	if (!p)
		return dc_err(-ENOEXEC,
			      "the object has no %s: generated by an older "
			      "datacrumbs-generate?",
			      prog);
	l = bpf_program__attach_uprobe_opts(p, -1, lib, 0, &uo);
	if (!l)
		return dc_err(-errno, "client library %s: cannot attach to %s: %s", lib, func,
			      strerror(errno));
	return add_link(s, l);
}

static int map_fd(struct session *s, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(s->obj, name);

	return fd < 0 ? dc_err(-ENOEXEC,
			       "the object has no map %s: generated by an older "
			       "datacrumbs-generate?",
			       name) :
			fd;
}

int select__attach(struct select *sel, struct session *s)
{
	__u8 one = 1;
	__u32 i;
	int fd, err = 0;

	if (sel->o.ncomms) {
		fd = map_fd(s, "dc_comms");
		for (i = 0; fd >= 0 && i < sel->o.ncomms; i++) {
			struct dc_comm c = { 0 };

			memcpy(c.s, sel->o.comms[i], strlen(sel->o.comms[i]));
			if (bpf_map_update_elem(fd, &c, &one, BPF_ANY))
				return dc_err(-errno, "--comm %s: %s", sel->o.comms[i],
					      strerror(errno));
		}
		if (fd < 0)
			return fd;
	}
	if (sel->o.ncgroups) {
		fd = map_fd(s, "dc_cgroups");
		for (i = 0; fd >= 0 && i < sel->o.ncgroups; i++)
			if (bpf_map_update_elem(fd, &i, &sel->cgfds[i], BPF_ANY))
				return dc_err(-errno, "--cgroup %s: %s", sel->o.cgroups[i],
					      strerror(errno));
		if (fd < 0)
			return fd;
	}
	if (sel->o.server) {
		err = attach_client(s, sel->o.client_lib, "dc_on_client_start",
				    "datacrumbs_client_start");
		if (!err)
			err = attach_client(s, sel->o.client_lib, "dc_on_client_stop",
					    "datacrumbs_client_stop");
		if (err)
			return err;
	}
	for (i = 0; i < sel->o.npids; i++) {
		err = follow_live(s, sel->tgids[i], sel->pidfds[i]);
		if (err == -ESRCH)
			return dc_err(err, "--pid %s: the process exited before tracing began",
				      sel->o.pids[i]);
		if (err)
			return err;
	}
	return sel->o.ncomms ? follow_comms(sel, s) : 0;
}

int select__single_pid(const struct select *sel)
{
	return sel->o.npids == 1 ? sel->tgids[0] : 0;
}

bool select__done(const struct select *sel, const struct session *s)
{
	__u32 key;

	if (!sel->o.npids || sel->o.ncomms || sel->o.ncgroups || sel->o.all || sel->o.server)
		return false;
	return bpf_map_get_next_key(s->procs_fd, NULL, &key) && errno == ENOENT;
}

void select__destroy(struct select *sel)
{
	size_t i;

	if (!sel)
		return;
	for (i = 0; sel->pidfds && i < sel->o.npids; i++)
		if (sel->pidfds[i] >= 0)
			close(sel->pidfds[i]);
	for (i = 0; i < DC_MAX_CGROUPS; i++)
		if (sel->cgfds[i] >= 0)
			close(sel->cgfds[i]);
	free(sel->tgids);
	free(sel->pidfds);
	free(sel);
}
