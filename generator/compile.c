// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_paths.h"
#include "gen.h"

extern char **environ;

/* The multiarch directory holds asm/ headers that libbpf's usdt.bpf.h includes. */
#if defined(__x86_64__)
#define TARGET_ARCH "-D__TARGET_ARCH_x86"
#define MULTIARCH_INC "/usr/include/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define TARGET_ARCH "-D__TARGET_ARCH_arm64"
#define MULTIARCH_INC "/usr/include/aarch64-linux-gnu"
#endif

/* Kept, not echoed: a failure is reported once, with the entry it concerns. */
#define ERR_KEEP (256 << 10)

static const char *gen_clang(void)
{
	const char *env = getenv("DATACRUMBS_CLANG");

	return env && *env ? env : DC_CLANG;
}

/*
 * Runs @argv (never through a shell) and waits for it. With @errout, its
 * stderr is collected there instead of passed through.
 */
static int spawn(char *const argv[], struct dc_buf *errout, int *status)
{
	posix_spawn_file_actions_t fa;
	int fds[2] = { -1, -1 }, rc;
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	if (errout && pipe2(fds, O_CLOEXEC))
		return dc_err(-errno, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	if (errout)
		posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errout)
		close(fds[1]);
	if (rc) {
		if (errout)
			close(fds[0]);
		return dc_err(-rc, "cannot run %s: %s", argv[0], strerror(rc));
	}
	while (errout &&
	       ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0 && errout->len < ERR_KEEP)
			dc_buf_put(errout, chunk, n);
	if (errout) {
		close(fds[0]);
		dc_buf_cstr(errout);
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return dc_err(-errno, "waiting for %s: %s", argv[0], strerror(errno));
	return 0;
}

static const struct gen_span *span_of(const struct gen *g, size_t line)
{
	size_t i;

	for (i = 0; i < g->nspans; i++)
		if (line >= g->spans[i].first && line <= g->spans[i].last)
			return &g->spans[i];
	return NULL;
}

/* The first "FILE:LINE:COL: error: MSG" of clang's output, told by where it is. */
static int clang_error(const struct gen *g, const char *c_path, const char *out)
{
	size_t plen = strlen(c_path);
	const char *l, *msg;
	unsigned long line, col;
	char *end;

	for (l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const struct gen_span *s;
		int mlen;

		msg = strstr(l, ": error: ");
		if (!msg || (strchr(l, '\n') && msg > strchr(l, '\n')))
			msg = strstr(l, ": fatal error: ");
		if (!msg || (strchr(l, '\n') && msg > strchr(l, '\n')))
			continue;
		msg = strstr(msg, "error: ") - 2;
		mlen = (int)strcspn(msg + 9, "\n");
		if (strncmp(l, c_path, plen) || l[plen] != ':')
			return dc_err(-EINVAL, "clang: %.*s", (int)strcspn(l, "\n"), l);
		line = strtoul(l + plen + 1, &end, 10);
		col = *end == ':' ? strtoul(end + 1, NULL, 10) : 0;
		s = span_of(g, line);
		if (s && s->hook)
			return dc_err(-EINVAL, "%s:%lu:%lu: error: %.*s (custom hook of %s:%d:%d)",
				      s->hook->path, line - s->first + 1, col, mlen, msg + 9,
				      s->origin.path, s->origin.loc.line, s->origin.loc.col);
		if (s)
			return dc_err(
				-EINVAL,
				"%s:%d:%d: the code generated for this entry does not compile: "
				"%s:%lu: %.*s",
				s->origin.path, s->origin.loc.line, s->origin.loc.col, c_path, line,
				mlen, msg + 9);
		return dc_err(-EINVAL, "clang: %s:%lu:%lu: %.*s", c_path, line, col, mlen, msg + 9);
	}
	return dc_err(-EINVAL, "clang failed on %s: %.*s", c_path, (int)strcspn(out, "\n"), out);
}

int gen__compile(const struct gen *g, const struct gen_dirs *d, const char *c_path,
		 const char *obj_path)
{
	char inc1[PATH_MAX + 2], inc2[PATH_MAX + 2];
	const char *clang = gen_clang();
	char *argv[] = { (char *)clang,
			 "-g",
			 "-O2",
			 "-target",
			 "bpf",
			 TARGET_ARCH,
			 "-Wall",
			 "-Werror",
			 "-fno-color-diagnostics",
			 inc1,
			 inc2,
			 "-idirafter",
			 MULTIARCH_INC,
			 "-c",
			 (char *)c_path,
			 "-o",
			 (char *)obj_path,
			 NULL };
	struct dc_buf out = { 0 };
	int status, err;

	if (access(clang, X_OK) != 0)
		return dc_err(-ENOENT,
			      "%s: clang not found (install clang, or set DATACRUMBS_CLANG)",
			      clang);
	snprintf(inc1, sizeof(inc1), "-I%s", d->templates);
	snprintf(inc2, sizeof(inc2), "-I%s", d->include);
	err = spawn(argv, &out, &status);
	if (!err && out.len && dc_verbosity > 0)
		fputs(out.p, stderr);
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = out.len ? clang_error(g, c_path, out.p) :
				dc_err(-EINVAL, "clang failed on %s", c_path);
	dc_buf_free(&out);
	return err;
}

int gen__strip(const char *obj_path)
{
	const char *strip = getenv("DATACRUMBS_STRIP");
	char *argv[] = { NULL, "-g", (char *)obj_path, NULL };
	struct dc_buf out = { 0 };
	int status, err;

	/* BTF is not debug information to llvm-strip: it stays, the DWARF goes. */
	argv[0] = (char *)(strip && *strip ? strip : DC_LLVM_STRIP);
	if (!*argv[0] || access(argv[0], X_OK))
		return 0;
	err = spawn(argv, &out, &status);
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = dc_err(-EINVAL, "%s failed on %s: %.*s", argv[0], obj_path,
			     out.p ? (int)strcspn(out.p, "\n") : 0, out.p ? out.p : "");
	dc_buf_free(&out);
	return err;
}
