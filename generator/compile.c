// SPDX-License-Identifier: MIT
#include <errno.h>
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

#if defined(__x86_64__)
#define TARGET_ARCH "-D__TARGET_ARCH_x86"
#elif defined(__aarch64__)
#define TARGET_ARCH "-D__TARGET_ARCH_arm64"
#endif

static const char *gen_clang(void)
{
	const char *env = getenv("DATACRUMBS_CLANG");

	return env && *env ? env : DC_CLANG;
}

int gen__compile(const struct gen_dirs *d, const char *c_path, const char *obj_path)
{
	char inc1[PATH_MAX + 2], inc2[PATH_MAX + 2];
	const char *clang = gen_clang();
	char *argv[] = { (char *)clang, "-g",
			 "-O2",		"-target",
			 "bpf",		TARGET_ARCH,
			 "-Wall",	"-Werror",
			 inc1,		inc2,
			 "-c",		(char *)c_path,
			 "-o",		(char *)obj_path,
			 NULL };
	int status, rc;
	pid_t pid;

	if (access(clang, X_OK) != 0)
		return dc_err(-ENOENT,
			      "%s: clang not found (install clang, or set DATACRUMBS_CLANG)",
			      clang);
	snprintf(inc1, sizeof(inc1), "-I%s", d->templates);
	snprintf(inc2, sizeof(inc2), "-I%s", d->include);
	rc = posix_spawn(&pid, clang, NULL, NULL, argv, environ);
	if (rc)
		return dc_err(-rc, "cannot run %s: %s", clang, strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return dc_err(-errno, "waiting for clang: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return dc_err(-EINVAL, "clang failed on %s (see its messages above)", c_path);
	return 0;
}
