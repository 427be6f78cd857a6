// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dc_capture.h"
#include "dc_err.h"

void dc_capture_init(struct dc_capture *c)
{
	memset(c, 0, sizeof(*c));
	c->fd_arg = -1;
	c->path_arg = -1;
	c->ret = DC_RET_INT;
}

bool dc_field_name_ok(const char *name)
{
	static const char *const reserved[] = { "ret", "level", "fhash", "hhash", NULL };
	size_t i, n = strlen(name);

	if (n == 0 || n >= DC_FIELD_MAX || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	for (i = 0; reserved[i]; i++)
		if (!strcmp(name, reserved[i]))
			return false;
	return true;
}

/* Arguments that are C ints in every API the catalogue covers. */
static bool int_name(const char *name)
{
	static const char *const ints[] = { "fd",     "dirfd", "olddirfd", "newdirfd", "newfd",
					    "outfd",  "flags", "mode",	   "whence",   "cmd",
					    "advice", "prot",  "iovcnt",   "mask",     NULL };
	size_t i;

	for (i = 0; ints[i]; i++)
		if (!strcmp(name, ints[i]))
			return true;
	return false;
}

int dc_capture_add(struct dc_capture *c, const char *name, int arg)
{
	unsigned int i;

	if (!dc_field_name_ok(name))
		return dc_err(-EINVAL,
			      "bad field name '%s' (lower case letters, digits and _; "
			      "not ret, level, fhash or hhash)",
			      name);
	if (arg < 0 || arg >= DC_ARG_MAX)
		return dc_err(-EINVAL, "argument index %d of '%s' is out of range 0..%d", arg, name,
			      DC_ARG_MAX - 1);
	for (i = 0; i < c->nfields; i++)
		if (!strcmp(c->field[i].name, name))
			return dc_err(-EINVAL, "field '%s' given twice", name);
	if (!strcmp(name, "path")) {
		if (c->path_arg >= 0)
			return dc_err(-EINVAL, "only one path per probe");
		c->path_arg = arg;
		return 0;
	}
	if (c->nfields == DC_MAX_ARGS)
		return dc_err(-E2BIG, "at most %d numeric fields per probe", DC_MAX_ARGS);
	if (!strcmp(name, "fd"))
		c->fd_arg = arg;
	snprintf(c->field[c->nfields].name, DC_FIELD_MAX, "%s", name);
	c->field[c->nfields].arg = arg;
	c->field[c->nfields].i32 = int_name(name);
	c->nfields++;
	return 0;
}

bool dc_capture_same_code(const struct dc_capture *a, const struct dc_capture *b)
{
	unsigned int i;

	if (a->nfields != b->nfields || a->fd_arg != b->fd_arg || a->path_arg != b->path_arg ||
	    a->ret != b->ret || a->ret_i32 != b->ret_i32 || a->closes != b->closes)
		return false;
	for (i = 0; i < a->nfields; i++)
		if (a->field[i].arg != b->field[i].arg || a->field[i].i32 != b->field[i].i32)
			return false;
	return true;
}

/*
 * Specs read "field=arg ..." plus "ret=fd" and "closes". Names that differ
 * between libc and the kernel (pread vs pread64) have one entry each.
 */
struct entry {
	const char *names; /* space-separated aliases */
	unsigned int where; /* LIBC, SYS or both */
	const char *spec;
};

enum { LIBC = 1, SYS = 2, BOTH = 3 };

static const struct entry catalog[] = {
	{ "open open64", BOTH, "path=0 flags=1 mode=2 ret=fd" },
	{ "creat creat64", BOTH, "path=0 mode=1 ret=fd" },
	{ "openat openat64", BOTH, "dirfd=0 path=1 flags=2 mode=3 ret=fd" },
	{ "close", BOTH, "fd=0 closes ret=int" },
	{ "read write", BOTH, "fd=0 size=2" },
	{ "pread pread64 pwrite pwrite64", BOTH, "fd=0 size=2 offset=3" },
	{ "readv writev", BOTH, "fd=0 iovcnt=2" },
	{ "preadv preadv64 pwritev pwritev64", BOTH, "fd=0 iovcnt=2 offset=3" },
	{ "preadv2 pwritev2", BOTH, "fd=0 iovcnt=2 offset=3 flags=4" },
	{ "lseek lseek64", BOTH, "fd=0 offset=1 whence=2" },
	{ "fsync fdatasync syncfs", BOTH, "fd=0 ret=int" },
	{ "ftruncate ftruncate64", BOTH, "fd=0 length=1 ret=int" },
	{ "truncate truncate64", BOTH, "path=0 length=1 ret=int" },
	{ "fallocate fallocate64", BOTH, "fd=0 mode=1 offset=2 length=3 ret=int" },
	{ "posix_fadvise posix_fadvise64", LIBC, "fd=0 offset=1 length=2 advice=3 ret=int" },
	{ "fadvise64", SYS, "fd=0 offset=1 length=2 advice=3" },
	{ "stat stat64 lstat lstat64", LIBC, "path=0 ret=int" },
	{ "newstat newlstat", SYS, "path=0" },
	{ "fstat fstat64", LIBC, "fd=0 ret=int" },
	{ "newfstat", SYS, "fd=0" },
	{ "fstatat fstatat64 newfstatat", BOTH, "dirfd=0 path=1 flags=3 ret=int" },
	{ "statx", BOTH, "dirfd=0 path=1 flags=2 mask=3 ret=int" },
	{ "access", BOTH, "path=0 mode=1 ret=int" },
	{ "faccessat faccessat2", BOTH, "dirfd=0 path=1 mode=2 ret=int" },
	{ "unlink rmdir", BOTH, "path=0 ret=int" },
	{ "unlinkat", BOTH, "dirfd=0 path=1 flags=2 ret=int" },
	{ "mkdir", BOTH, "path=0 mode=1 ret=int" },
	{ "mkdirat", BOTH, "dirfd=0 path=1 mode=2 ret=int" },
	{ "rename", BOTH, "path=0 ret=int" },
	{ "renameat renameat2", BOTH, "olddirfd=0 path=1 newdirfd=2 ret=int" },
	{ "chdir chmod chown", BOTH, "path=0 ret=int" },
	{ "fchdir fchmod fchown", BOTH, "fd=0 ret=int" },
	{ "opendir", LIBC, "path=0" },
	{ "mmap mmap64", BOTH, "size=1 prot=2 flags=3 fd=4" },
	{ "munmap", BOTH, "size=1 ret=int" },
	{ "msync", BOTH, "size=1 flags=2 ret=int" },
	{ "dup", BOTH, "fd=0 ret=int" },
	{ "dup2 dup3", BOTH, "fd=0 newfd=1 ret=int" },
	{ "fcntl fcntl64", BOTH, "fd=0 cmd=1 ret=int" },
	{ "getdents64", SYS, "fd=0 size=2" },
	{ "sendfile sendfile64", BOTH, "outfd=0 fd=1 size=3" },
	{ "copy_file_range", BOTH, "fd=0 outfd=2 size=4" },
	{ "io_submit", BOTH, "nr=1 ret=int" },
	{ "sync", BOTH, "" },
};

static int parse_spec(const char *spec, struct dc_capture *c)
{
	char buf[160], *tok, *save = NULL;

	dc_capture_init(c);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!strcmp(tok, "closes"))
			c->closes = true;
		else if (!strcmp(tok, "ret=fd"))
			c->ret = DC_RET_FD, c->ret_i32 = true;
		else if (!strcmp(tok, "ret=int"))
			c->ret_i32 = true;
		else if (!eq || dc_capture_add(c, (*eq = '\0', tok), eq[1] - '0'))
			return -EINVAL;
	}
	return 0;
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	while (*list) {
		if (!strncmp(list, w, n) && (list[n] == ' ' || list[n] == '\0'))
			return true;
		list = strchr(list, ' ');
		if (!list)
			break;
		list++;
	}
	return false;
}

bool dc_catalog_lookup(const char *name, bool syscall, struct dc_capture *out)
{
	unsigned int want = syscall ? SYS : LIBC;
	size_t i;

	for (i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++)
		if ((catalog[i].where & want) && has_word(catalog[i].names, name))
			return parse_spec(catalog[i].spec, out) == 0;
	return false;
}
