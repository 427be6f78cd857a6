// SPDX-License-Identifier: MIT
/*
 * datacrumbs-run: loads a generated object, follows a command and its
 * descendants (or the processes selected otherwise, select.c), and writes
 * what they did as a DFTracer trace.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_paths.h"
#include "dc_rank.h"
#include "profile.h"
#include "select.h"
#include "session.h"
#include "writer.h"

#define DRAIN_MS 100
#define FLUSH_MS 1000
/* Records taken per drain before the loop looks at its signals and timers again. */
#define DRAIN_BUDGET 65536

struct opts {
	const char *object;
	const char *outdir;
	char **cmd; /* NULL when processes are selected otherwise */
	struct select_opts sel;
	const char *pidfile;
	size_t ring_mib;
	uint64_t profile_ns; /* 0: trace mode */
	size_t profile_entries;
	bool strict;
	bool no_multi;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: datacrumbs-run [OPTION]... OBJECT.bpf.o -- COMMAND [ARG]...\n"
		"  or:  datacrumbs-run [OPTION]... --pid|--comm|--cgroup|--all|--server... "
		"OBJECT.bpf.o\n"
		"Trace COMMAND and every process it starts, or the processes selected, with the\n"
		"probes of OBJECT (made by datacrumbs-generate), and write a DFTracer trace:\n"
		"  DIR/<config>-<host>-<pid>.pfw.gz, or DIR/<config>-<host>-<pid>-rank<R>.pfw.gz\n"
		"<pid> is COMMAND's, else the one --pid's, else the runtime's own; <R> is the rank\n"
		"the runtime's environment sets: the first of OMPI_COMM_WORLD_RANK, PMI_RANK,\n"
		"SLURM_PROCID and FLUX_TASK_RANK that is set, if it is a non-negative integer.\n"
		"\n"
		"What to trace (selections add up, and may be given with COMMAND):\n"
		"  COMMAND                COMMAND and its descendants; it starts only once every\n"
		"                         probe is live, the run ends with it, with its status\n"
		"  -p, --pid=PID          process PID (all its threads) and its descendants from\n"
		"                         now on; repeatable. With only --pid, the run also ends\n"
		"                         once all of those have exited\n"
		"      --comm=NAME        processes whose comm is NAME: those running, any that\n"
		"                         execs into NAME or forks from one, and their\n"
		"                         descendants; repeatable\n"
		"      --cgroup=PATH      tasks in cgroup v2 directory PATH or below it, while\n"
		"                         they are there; repeatable\n"
		"      --all              every process but the runtime itself\n"
		"      --server           processes that opt in through the client library\n"
		"                         (preloaded, or linked: datacrumbs_client_start()), and\n"
		"                         their descendants\n"
		"      --client-lib=PATH  the client library --server watches\n"
		"                         (default: " DC_CLIENT_LIB ")\n"
		"Without COMMAND the run lasts until SIGINT or SIGTERM, then exits 0.\n"
		"\n"
		"  -o, --output=DIR       directory for the trace (default: .)\n"
		"      --profile[=INTERVAL]\n"
		"                         sum the calls in the kernel per process, thread,\n"
		"                         function, file and INTERVAL (a number with a unit:\n"
		"                         us, ms, s, m or h; 1ms to 1h; default: 1s) and write\n"
		"                         the sums as counter events, not an event per call\n"
		"      --profile-map=N    room for N sums in the kernel (default: 65536);\n"
		"                         calls that find it full are counted as dropped\n"
		"      --pidfile=FILE     once every probe is live, write the runtime's pid to\n"
		"                         FILE (atomically); removed at exit\n"
		"      --ring-size=MIB    ring buffer size in MiB, a power of two (default: 64)\n"
		"      --strict           fail if any probe cannot attach\n"
		"      --no-multi         attach uprobes one by one, not as uprobe_multi links\n"
		"  -q, --quiet            print only errors\n"
		"  -v, --verbose          print each skipped probe and libbpf's messages\n"
		"  -h, --help             show this help and exit\n"
		"  -V, --version          show the version and exit\n"
		"\n"
		"Needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN to mount tracefs).\n"
		"SIGINT or SIGTERM stop tracing, finish the file and exit; a second one exits\n"
		"at once, the file ending on its last whole gzip member. Events dropped for\n"
		"lack of ring-buffer space are counted in the trace and in the summary. The\n"
		"trace is written in gzip members every second, so after a crash it reads up\n"
		"to its last second.\n"
		"Probes that cannot attach are skipped and reported; what the kernel refused\n"
		"is remembered per binary in $XDG_CACHE_HOME/datacrumbs (~/.cache/datacrumbs).\n"
		"DATACRUMBS_ATTACH_DECODE=0 leaves judging uprobe offsets to the kernel alone.\n");
}

/* Collects the values of a repeatable option. */
static int add_arg(const char ***v, size_t *n, const char *arg)
{
	const char **p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	p[(*n)++] = arg;
	*v = p;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = { { "output", required_argument, NULL, 'o' },
					       { "pid", required_argument, NULL, 'p' },
					       { "comm", required_argument, NULL, 'c' },
					       { "cgroup", required_argument, NULL, 'g' },
					       { "all", no_argument, NULL, 'a' },
					       { "server", no_argument, NULL, 'S' },
					       { "client-lib", required_argument, NULL, 'L' },
					       { "pidfile", required_argument, NULL, 'F' },
					       { "ring-size", required_argument, NULL, 'r' },
					       { "profile", optional_argument, NULL, 'P' },
					       { "profile-map", required_argument, NULL, 'E' },
					       { "strict", no_argument, NULL, 's' },
					       { "no-multi", no_argument, NULL, 'M' },
					       { "quiet", no_argument, NULL, 'q' },
					       { "verbose", no_argument, NULL, 'v' },
					       { "help", no_argument, NULL, 'h' },
					       { "version", no_argument, NULL, 'V' },
					       {} };
	char *end;
	int c;

	o->outdir = ".";
	o->ring_mib = 64;
	o->profile_entries = PROFILE_DEFAULT_ENTRIES;
	o->sel.client_lib = DC_CLIENT_LIB;
	while ((c = getopt_long(argc, argv, "o:p:qvhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->outdir = optarg;
			break;
		case 'p':
			if (add_arg(&o->sel.pids, &o->sel.npids, optarg))
				return -ENOMEM;
			break;
		case 'c':
			if (add_arg(&o->sel.comms, &o->sel.ncomms, optarg))
				return -ENOMEM;
			break;
		case 'g':
			if (add_arg(&o->sel.cgroups, &o->sel.ncgroups, optarg))
				return -ENOMEM;
			break;
		case 'a':
			o->sel.all = true;
			break;
		case 'S':
			o->sel.server = true;
			break;
		case 'L':
			o->sel.client_lib = optarg;
			break;
		case 'F':
			o->pidfile = optarg;
			break;
		case 'r':
			o->ring_mib = strtoul(optarg, &end, 10);
			if (*end || !o->ring_mib || o->ring_mib > 4096 ||
			    (o->ring_mib & (o->ring_mib - 1)))
				return dc_err(-EINVAL, "--ring-size must be a power of two from 1 "
						       "to 4096 (MiB)");
			break;
		case 'P':
			o->profile_ns = PROFILE_DEFAULT_NS;
			if (optarg && profile__parse_interval(optarg, &o->profile_ns))
				return -EINVAL;
			break;
		case 'E':
			o->profile_entries = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || !o->profile_entries ||
			    o->profile_entries > 1 << 24)
				return dc_err(-EINVAL, "--profile-map must be a number of entries "
						       "from 1 to 16777216");
			break;
		case 's':
			o->strict = true;
			break;
		case 'M':
			o->no_multi = true;
			break;
		case 'q':
			dc_verbosity = -1;
			break;
		case 'v':
			dc_verbosity = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("datacrumbs-run %s\n", DC_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'datacrumbs-run --help'.\n");
			exit(2);
		}
	}
	if (optind >= argc)
		return dc_err(-EINVAL, "no object given (try --help)");
	o->object = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind < argc)
		o->cmd = argv + optind;
	else if (!o->sel.npids && !o->sel.ncomms && !o->sel.ncgroups && !o->sel.all &&
		 !o->sel.server)
		return dc_err(-EINVAL, "no command given: datacrumbs-run OBJECT -- COMMAND (or "
				       "select processes: --pid, --comm, --cgroup, --all, "
				       "--server)");
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || dc_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * Root, or CAP_BPF + CAP_PERFMON, is what loading and attaching needs
 * (CAP_SYS_ADMIN implies both). Saying which are missing tells an admin
 * what to grant instead of handing out root.
 */
static int check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	static const struct {
		unsigned int cap;
		const char *name;
	} need[] = { { CAP_BPF, "CAP_BPF" }, { CAP_PERFMON, "CAP_PERFMON" } };
	char missing[64] = "";
	size_t i;

	if (syscall(SYS_capget, &h, d))
		return dc_err(-errno, "cannot read capabilities: %s", strerror(errno));
	if (d[0].effective & (1u << CAP_SYS_ADMIN))
		return 0;
	for (i = 0; i < 2; i++)
		if (!(d[need[i].cap / 32].effective & (1u << (need[i].cap % 32))))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", *missing ? " and " : "", need[i].name);
	if (*missing)
		return dc_err(-EPERM,
			      "missing %s: loading BPF programs needs root, or CAP_BPF and "
			      "CAP_PERFMON",
			      missing);
	return 0;
}

/* Finds COMMAND the way execvp would, so a typo fails before any probe loads. */
static int find_command(const char *cmd, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	int err = -ENOENT;

	if (strchr(cmd, '/')) {
		if (access(cmd, X_OK))
			return dc_err(-errno, "%s: %s", cmd, strerror(errno));
		snprintf(out, outlen, "%s", cmd);
		return 0;
	}
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return -ENOMEM;
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;

		snprintf(out, outlen, "%s/%s", *dir ? dir : ".", cmd);
		if (!stat(out, &st) && S_ISREG(st.st_mode) && !access(out, X_OK)) {
			err = 0;
			break;
		}
	}
	free(copy);
	return err ? dc_err(err, "%s: command not found", cmd) : 0;
}

/* The child waits on @gate until it is followed and every probe is live. */
static int spawn_gated(const char *path, char **argv, int *gate_wr, pid_t *pid)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return dc_err(-errno, "pipe: %s", strerror(errno));
	*pid = fork();
	if (*pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return dc_err(-errno, "fork: %s", strerror(errno));
	}
	if (*pid == 0) {
		char go;
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(127);
		execv(path, argv);
		fprintf(stderr, "datacrumbs-run: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*gate_wr = fds[1];
	return 0;
}

static int64_t real_minus_mono(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

static void join_cmdline(char **argv, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (; *argv && n + 1 < outlen; argv++)
		n += snprintf(out + n, outlen - n, "%s%s", n ? " " : "", *argv);
}

struct run {
	struct opts o;
	struct select *sel;
	struct session *s;
	struct writer *w;
	struct ring_buffer *rb;
	struct profile *prof; /* profile mode only */
	char path[PATH_MAX];
	pid_t child;
	int status;
	int sigfd;
	atomic_int stop_sig; /* the signal that stopped tracing */
	bool missing_cmd;
	bool detached;
	unsigned int drained; /* records handed over by this ring_buffer__consume() */
	pthread_t watcher;
	bool watching;
	bool wrote_pidfile;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	int err = writer__record(r->w, data, size);

	if (err)
		return err;
	/* Ends the consume call, so signals and timers are seen under any load. */
	return ++r->drained >= DRAIN_BUDGET ? -EAGAIN : 0;
}

/* Hands the ring's records to the writer; true if the ring may hold more. */
static bool drain(struct run *r)
{
	r->drained = 0;
	return ring_buffer__consume(r->rb) == -EAGAIN;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A second stop signal: out at once, the file ending on its last whole member. */
static void stop_at_once(struct run *r, int sig)
{
	/* COMMAND is told to stop as it would have been by a first signal alone. */
	if (r->child > 0)
		kill(r->child, atomic_load(&r->stop_sig));
	writer__abandon(r->w);
	if (r->wrote_pidfile)
		unlink(r->o.pidfile);
	if (dc_verbosity >= 0)
		dc_warn("stopped at once: %s ends at its last whole member", r->path);
	_exit(128 + sig);
}

/* Takes the pending signals: a stop request, or the end of the child. */
static void take_signals(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			if (atomic_load(&r->stop_sig))
				stop_at_once(r, si.ssi_signo);
			atomic_store(&r->stop_sig, si.ssi_signo);
			continue;
		}
		while (r->child > 0 && waitpid(r->child, &r->status, WNOHANG) == r->child)
			r->child = 0;
	}
}

/* Tracing goes on while COMMAND runs, or, without one, until the selection is done. */
static bool tracing(const struct run *r)
{
	if (atomic_load(&r->stop_sig))
		return false;
	return r->o.cmd ? r->child > 0 : !select__done(r->sel, r->s);
}

/*
 * Drains the ring every DRAIN_MS, and at once when the kernel wakes us up
 * for a filling ring, until tracing ends. Buffered lines go out as a member
 * every FLUSH_MS, so a crash loses at most that much.
 */
static int trace_loop(struct run *r)
{
	struct epoll_event ev[2];
	uint64_t next_flush = now_ms() + FLUSH_MS;
	bool more = false;
	int ep, err = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return dc_err(-errno, "epoll: %s", strerror(errno));
	ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.fd = r->sigfd };
	/* Edge-triggered: records that trickle in wait for the timer, not spin the loop. */
	ev[1] = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.fd = r->s->events_fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, r->sigfd, &ev[0]) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, r->s->events_fd, &ev[1])) {
		err = dc_err(-errno, "epoll: %s", strerror(errno));
		close(ep);
		return err;
	}
	while (tracing(r)) {
		if (epoll_wait(ep, ev, 2, more ? 0 : DRAIN_MS) < 0 && errno != EINTR) {
			err = dc_err(-errno, "epoll: %s", strerror(errno));
			break;
		}
		take_signals(r);
		more = drain(r);
		/* After the ring, so the names the sums refer to come first. */
		if (r->prof) {
			err = profile__drain(r->prof, false);
			if (err)
				break;
		}
		if (now_ms() >= next_flush) {
			writer__flush(r->w);
			next_flush = now_ms() + FLUSH_MS;
		}
		if (writer__error(r->w) && !r->detached) {
			/* Nothing more can be written: stop costing COMMAND anything. */
			session__detach(r->s);
			r->detached = true;
		}
	}
	close(ep);
	return err;
}

/*
 * While the trace is finished, a second stop signal exits at once; the file
 * then ends on its last whole member.
 */
static void *watch_signals(void *arg)
{
	struct run *r = arg;
	struct signalfd_siginfo si;
	struct pollfd p = { .fd = r->sigfd, .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return NULL;
		if (read(r->sigfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo == SIGCHLD)
			continue;
		if (!atomic_load(&r->stop_sig)) {
			atomic_store(&r->stop_sig, si.ssi_signo);
			continue;
		}
		stop_at_once(r, si.ssi_signo);
	}
}

/* Detaches, writes what the ring still holds and the end record. */
static int finish(struct run *r, struct dc_stats *st, struct writer_totals *t)
{
	int sig = atomic_load(&r->stop_sig), err, perr;

	/* Said where someone may be waiting at a terminal; the tests ask with -v. */
	if (sig && (dc_verbosity > 0 || (!dc_verbosity && isatty(STDERR_FILENO))))
		fprintf(stderr, "%s: %s: finishing the trace (a second one stops at once)\n",
			dc_prog, sig == SIGINT ? "SIGINT" : "SIGTERM");
	if (sig && r->child > 0)
		kill(r->child, sig);
	r->watching = pthread_create(&r->watcher, NULL, watch_signals, r) == 0;
	if (!r->detached)
		session__detach(r->s);
	r->detached = true;
	while (drain(r))
		;
	/* The probes are gone: every sum is final, the open intervals' too. */
	perr = r->prof ? profile__drain(r->prof, true) : 0;
	session__stats(r->s, st);
	err = writer__close(r->w, st, t);
	err = perr ? perr : err;
	if (r->watching) {
		pthread_cancel(r->watcher);
		pthread_join(r->watcher, NULL);
		r->watching = false;
	}
	return err;
}

static void summary(const struct run *r, const struct dc_stats *st, const struct writer_totals *t)
{
	if (dc_verbosity < 0)
		return;
	fprintf(stderr,
		"datacrumbs-run: %llu events, %llu dropped, %zu probes attached, %zu skipped, "
		"%llu bytes: %s\n",
		(unsigned long long)t->events, (unsigned long long)st->drops, r->s->attached,
		r->s->nskips, (unsigned long long)t->bytes, r->path);
}

static void report_skips(const struct session *s)
{
	size_t i, show = dc_verbosity > 0 ? s->nskips : 5;

	if (!s->nskips || dc_verbosity < 0)
		return;
	dc_warn("%zu of %zu probes could not attach%s", s->nskips, s->man->nprobes,
		dc_verbosity > 0 || s->nskips <= show ? ":" : " (--verbose lists all); first:");
	for (i = 0; i < s->nskips && i < show; i++) {
		char buf[256];

		fprintf(stderr, "  %s: %s\n", s->man->probes[s->skips[i].probe].name,
			session__skip_reason(&s->skips[i], buf, sizeof(buf)));
	}
}

static int exit_code(const struct run *r)
{
	/* Without a command, a signal is how a run is meant to end. */
	if (!r->o.cmd)
		return 0;
	if (atomic_load(&r->stop_sig))
		return 128 + atomic_load(&r->stop_sig);
	if (WIFEXITED(r->status))
		return WEXITSTATUS(r->status);
	if (WIFSIGNALED(r->status))
		return 128 + WTERMSIG(r->status);
	return 1;
}

/*
 * The rank a launcher gave this runtime (and the processes it starts), or
 * -1: the first of DC_RANK_VARS that is set decides, as for the processes'
 * PR rank lines, and one that holds no rank is said so.
 */
static int env_rank(void)
{
	static const char *const vars[] = { DC_RANK_VARS };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		int rank;

		if (!v)
			continue;
		rank = dc_rank_parse(v);
		if (rank < 0)
			dc_warn("%s=%s is not a rank; the trace is named without one", vars[i], v);
		return rank < 0 ? -1 : rank;
	}
	return -1;
}

/* DIR/<config>-<host>-<pid>[-rank<R>].pfw.gz */
static int trace_path(struct run *r, const char *host, int pid)
{
	int rank = env_rank(), n;

	if (rank >= 0)
		n = snprintf(r->path, sizeof(r->path), "%s/%s-%s-%d-rank%d.pfw.gz", r->o.outdir,
			     r->s->man->config, host, pid, rank);
	else
		n = snprintf(r->path, sizeof(r->path), "%s/%s-%s-%d.pfw.gz", r->o.outdir,
			     r->s->man->config, host, pid);
	if (n >= (int)sizeof(r->path))
		return dc_err(-ENAMETOOLONG, "%s: output path too long", r->o.outdir);
	return 0;
}

/* Whatever waits for the pidfile may rely on every probe being live. */
static int pidfile_write(struct run *r)
{
	char tmp[PATH_MAX], line[32];
	int fd, n, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", r->o.pidfile, (int)getpid()) >=
	    (int)sizeof(tmp))
		return dc_err(-ENAMETOOLONG, "--pidfile %s: path too long", r->o.pidfile);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return dc_err(-errno, "--pidfile %s: %s", tmp, strerror(errno));
	n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (write(fd, line, n) != n)
		err = dc_err(-errno, "--pidfile %s: %s", tmp, strerror(errno));
	if (close(fd) && !err)
		err = dc_err(-errno, "--pidfile %s: %s", tmp, strerror(errno));
	if (!err && rename(tmp, r->o.pidfile))
		err = dc_err(-errno, "--pidfile %s: %s", r->o.pidfile, strerror(errno));
	if (err)
		unlink(tmp);
	r->wrote_pidfile = !err;
	return err;
}

/* A pidfile in a directory that cannot take it fails before anything loads. */
static int pidfile_check(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) + (slash == path), path);
	if (!*path || (slash && !slash[1]))
		return dc_err(-EINVAL, "--pidfile '%s': not a file name", path);
	if (access(dir, W_OK | X_OK))
		return dc_err(-errno, "--pidfile %s: %s: %s", path, dir, strerror(errno));
	return 0;
}

static int run(struct run *r, int argc, char **argv)
{
	struct session_opts so = { 0 };
	char exe[PATH_MAX], host[256], cmdline[4096];
	struct writer_totals t = { 0 };
	struct writer_opts wo = { 0 };
	int64_t rmm = real_minus_mono();
	struct dc_stats st;
	sigset_t mask;
	int gate = -1, pid, err, ferr;

	err = parse_args(argc, argv, &r->o);
	if (!err && r->o.cmd) {
		err = find_command(r->o.cmd[0], exe, sizeof(exe));
		r->missing_cmd = err != 0;
	}
	if (!err)
		err = check_privileges();
	if (!err && access(r->o.outdir, W_OK | X_OK))
		err = dc_err(-errno, "%s: %s", r->o.outdir, strerror(errno));
	if (!err && r->o.pidfile)
		err = pidfile_check(r->o.pidfile);
	if (!err)
		err = select__open(&r->sel, &r->o.sel);
	if (err)
		return err;
	libbpf_set_print(libbpf_print);
	so.ring_bytes = r->o.ring_mib << 20;
	so.strict = r->o.strict;
	so.no_multi = r->o.no_multi;
	so.profile_ns = r->o.profile_ns;
	so.profile_base = profile__base(r->o.profile_ns, rmm);
	so.profile_entries = r->o.profile_entries;
	select__configure(r->sel, &so);
	err = session__open(&r->s, r->o.object, &so);
	if (!err)
		err = session__load(r->s);
	if (!err)
		err = session__attach(r->s, &so);
	if (!err)
		err = select__attach(r->sel, r->s);
	if (err)
		return err;
	report_skips(r->s);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0)
		return dc_err(-errno, "signalfd: %s", strerror(errno));
	if (r->o.cmd) {
		err = spawn_gated(exe, r->o.cmd, &gate, &r->child);
		if (err)
			return err;
		err = session__follow(r->s, r->child, true);
		pid = r->child;
	} else {
		pid = select__single_pid(r->sel);
		if (!pid)
			pid = getpid();
	}
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (!err)
		err = trace_path(r, host, pid);
	join_cmdline(r->o.cmd ? r->o.cmd : argv, cmdline, sizeof(cmdline));
	wo = (struct writer_opts){ .path = r->path,
				   .man = r->s->man,
				   .host = host,
				   .cmdline = cmdline,
				   .pid = pid,
				   .real_minus_mono_ns = rmm,
				   .member_bytes = 4 << 20,
				   .level = 1 };
	if (!err)
		err = writer__open(&r->w, &wo);
	if (!err) {
		r->rb = ring_buffer__new(r->s->events_fd, on_record, r, NULL);
		if (!r->rb)
			err = dc_err(-errno, "ring buffer: %s", strerror(errno));
	}
	if (!err && r->o.profile_ns)
		err = profile__open(&r->prof, r->s->obj, r->s->man, r->w, r->o.profile_ns,
				    so.profile_base);
	if (!err && r->o.pidfile)
		err = pidfile_write(r);
	if (err) {
		/* The child never ran a line of COMMAND: stop it quietly. */
		if (r->child > 0) {
			kill(r->child, SIGKILL);
			waitpid(r->child, NULL, 0);
			r->child = 0;
			close(gate);
		}
		if (r->w)
			unlink(r->path);
		return err;
	}
	if (r->o.cmd) {
		if (write(gate, "g", 1) != 1)
			err = dc_err(-errno, "cannot start %s: %s", exe, strerror(errno));
		close(gate);
	}
	if (!err)
		err = trace_loop(r);
	ferr = finish(r, &st, &t);
	err = err ? err : ferr;
	summary(r, &st, &t);
	if (st.drops && dc_verbosity >= 0)
		dc_warn("%llu events were dropped: the ring buffer was full (try --ring-size)",
			(unsigned long long)st.drops);
	if (st.prof_drops && dc_verbosity >= 0)
		dc_warn("%llu calls were not counted: the profile map was full (try --profile-map)",
			(unsigned long long)st.prof_drops);
	return err;
}

int main(int argc, char **argv)
{
	struct run r = { .sigfd = -1 };
	int err;

	dc_prog = "datacrumbs-run";
	err = run(&r, argc, argv);
	if (r.wrote_pidfile)
		unlink(r.o.pidfile);
	ring_buffer__free(r.rb);
	profile__destroy(r.prof);
	writer__destroy(r.w);
	session__destroy(r.s);
	select__destroy(r.sel);
	free(r.o.sel.pids);
	free(r.o.sel.comms);
	free(r.o.sel.cgroups);
	if (r.sigfd >= 0)
		close(r.sigfd);
	if (err) {
		dc_report(err);
		/* As a shell would: 127 when COMMAND is not found, 126 when not runnable. */
		if (err == -ENOENT && r.missing_cmd)
			return 127;
		if (r.missing_cmd)
			return 126;
		return r.o.cmd && (r.child > 0 || r.status) ? exit_code(&r) : 1;
	}
	return exit_code(&r);
}
