// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_paths.h"
#include "gen.h"

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/';
}

int gen_dirs__find(struct gen_dirs *d)
{
	const char *env = getenv("DATACRUMBS_DATADIR");
	char exe[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (env && *env) {
		snprintf(d->templates, sizeof(d->templates), "%s/templates", env);
		snprintf(d->include, sizeof(d->include), "%s/templates", env);
		snprintf(d->configs, sizeof(d->configs), "%s/configs", env);
	} else if (under(exe, DC_BUILD_ROOT)) {
		/* Run from the build tree: use the sources, not an older install. */
		snprintf(d->templates, sizeof(d->templates), "%s/templates", DC_SOURCE_ROOT);
		snprintf(d->include, sizeof(d->include), "%s/templates", DC_BUILD_ROOT);
		snprintf(d->configs, sizeof(d->configs), "%s/configs", DC_SOURCE_ROOT);
	} else {
		snprintf(d->templates, sizeof(d->templates), "%s/templates", DC_DATADIR);
		snprintf(d->include, sizeof(d->include), "%s/templates", DC_DATADIR);
		snprintf(d->configs, sizeof(d->configs), "%s/configs", DC_DATADIR);
	}
	if (!is_dir(d->templates))
		return dc_err(-ENOENT, "templates not found in %s (set DATACRUMBS_DATADIR)",
			      d->templates);
	return 0;
}

int gen_config_path(const struct gen_dirs *d, const char *arg, char *out, size_t outlen)
{
	int n;

	if (strchr(arg, '/') || access(arg, F_OK) == 0 || !dc_label_ok(arg)) {
		n = snprintf(out, outlen, "%s", arg);
	} else {
		const char *ext = strstr(arg, ".yaml") ? "" : ".yaml";

		n = snprintf(out, outlen, "%s/%s%s", d->configs, arg, ext);
		if (n > 0 && (size_t)n < outlen && access(out, F_OK) != 0)
			n = snprintf(out, outlen, "%s", arg);
	}
	if (n < 0 || (size_t)n >= outlen)
		return dc_err(-ENAMETOOLONG, "%s: path too long", arg);
	return 0;
}
