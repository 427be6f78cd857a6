// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_capture.h"
#include "dc_err.h"

static const char *const ns_names[DC_NS_COUNT] = {
	[DC_NS_FD] = "fd",
	[DC_NS_STREAM] = "stream",
	[DC_NS_MPI_FILE] = "mpi_file",
	[DC_NS_HID] = "hid",
};

int dc_handle_ns(const char *name)
{
	int i;

	for (i = 0; i < DC_NS_COUNT; i++)
		if (!strcmp(name, ns_names[i]))
			return i;
	return -1;
}

const char *dc_handle_ns_name(unsigned int ns)
{
	return ns < DC_NS_COUNT ? ns_names[ns] : "?";
}

void dc_capture_init(struct dc_capture *c)
{
	memset(c, 0, sizeof(*c));
	c->handle = -1;
	c->ret = DC_RET_INT;
}

static bool lower_ident(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= max || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

bool dc_field_name_ok(const char *name)
{
	static const char *const reserved[] = { "ret", "level", "fhash", "hhash", NULL };
	size_t i;

	if (!lower_ident(name, DC_FIELD_MAX))
		return false;
	for (i = 0; reserved[i]; i++)
		if (!strcmp(name, reserved[i]))
			return false;
	return true;
}

bool dc_ident_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 127 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
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

int dc_capture_add(struct dc_capture *c, const char *name, const struct dc_src *src)
{
	unsigned int i;
	int ns;

	if (!dc_field_name_ok(name))
		return dc_err(-EINVAL,
			      "bad field name '%.64s' (lower case letters, digits and _; "
			      "not ret, level, fhash or hhash)",
			      name);
	for (i = 0; i < c->nfields; i++)
		if (!strcmp(c->field[i].name, name))
			return dc_err(-EINVAL, "field '%s' given twice", name);
	if (!strcmp(name, "path")) {
		if (c->path.how != DC_SRC_NONE)
			return dc_err(-EINVAL, "field 'path' given twice");
		if (src->how == DC_SRC_DEREF)
			return dc_err(-EINVAL, "a path is a pointer to the string itself, not *N");
		c->path = *src;
		return 0;
	}
	if (src->how == DC_SRC_TPSTR)
		return dc_err(-EINVAL, "'%s' is a string field: only 'path' can take it", name);
	if (c->nfields == DC_MAX_ARGS)
		return dc_err(-E2BIG, "at most %d numeric fields per probe", DC_MAX_ARGS);
	ns = dc_handle_ns(name);
	if (ns >= 0) {
		if (c->handle >= 0)
			return dc_err(-EINVAL, "only one file handle (%s) per probe",
				      c->field[c->handle].name);
		c->handle = c->nfields;
		c->handle_ns = ns;
	}
	snprintf(c->field[c->nfields].name, DC_FIELD_MAX, "%s", name);
	c->field[c->nfields].src = *src;
	if ((src->how == DC_SRC_ARG || src->how == DC_SRC_TP) && int_name(name))
		c->field[c->nfields].src.i32 = true;
	c->nfields++;
	return 0;
}

bool dc_src_equal(const struct dc_src *a, const struct dc_src *b)
{
	return a->how == b->how && a->arg == b->arg && a->size == b->size &&
	       a->is_signed == b->is_signed && a->at_exit == b->at_exit && a->i32 == b->i32 &&
	       a->off == b->off && !strcmp(a->core, b->core);
}

bool dc_capture_same_code(const struct dc_capture *a, const struct dc_capture *b)
{
	unsigned int i;

	if (a->nfields != b->nfields || a->handle != b->handle || a->ret != b->ret ||
	    a->ret_i32 != b->ret_i32 || a->closes != b->closes || a->nkeys != b->nkeys ||
	    (a->handle >= 0 && a->handle_ns != b->handle_ns) ||
	    (a->ret == DC_RET_HANDLE && a->ret_ns != b->ret_ns) ||
	    (a->out.how != DC_SRC_NONE && a->out_ns != b->out_ns) ||
	    !dc_src_equal(&a->path, &b->path) || !dc_src_equal(&a->out, &b->out) ||
	    !dc_src_equal(&a->ret_src, &b->ret_src))
		return false;
	for (i = 0; i < a->nfields; i++)
		if (!dc_src_equal(&a->field[i].src, &b->field[i].src))
			return false;
	for (i = 0; i < a->nkeys; i++)
		if (!dc_src_equal(&a->key[i], &b->key[i]) ||
		    !dc_src_equal(&a->xkey[i], &b->xkey[i]))
			return false;
	return true;
}

/*
 * Specs read "field=N" (argument N), "field=N:i" (argument N is a C int),
 * "field=*N" (the value argument N points to), "ret=int|long|fd|stream|
 * mpi_file|hid", "out=NS:N" (the call writes its new handle of namespace
 * NS through argument N) and "closes". Names that differ between libraries
 * and the kernel (pread vs pread64) have an entry each.
 */
struct entry {
	const char *names; /* space-separated aliases */
	unsigned int where; /* USER, SYS or both */
	const char *spec;
};

enum { USER = 1, SYS = 2, BOTH = 3 };

static const struct entry catalog[] = {
	/* POSIX and the system calls behind it */
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
	{ "sync_file_range", BOTH, "fd=0 offset=1 size=2 flags=3 ret=int" },
	{ "ftruncate ftruncate64", BOTH, "fd=0 length=1 ret=int" },
	{ "truncate truncate64", BOTH, "path=0 length=1 ret=int" },
	{ "fallocate fallocate64", BOTH, "fd=0 mode=1 offset=2 length=3 ret=int" },
	{ "posix_fadvise posix_fadvise64", USER, "fd=0 offset=1 length=2 advice=3 ret=int" },
	{ "fadvise64", SYS, "fd=0 offset=1 length=2 advice=3" },
	{ "readahead", BOTH, "fd=0 offset=1 size=2" },
	{ "stat stat64 lstat lstat64", USER, "path=0 ret=int" },
	{ "newstat newlstat", SYS, "path=0" },
	{ "fstat fstat64", USER, "fd=0 ret=int" },
	{ "newfstat", SYS, "fd=0" },
	{ "fstatat fstatat64", USER, "dirfd=0 path=1 flags=3 ret=int" },
	{ "newfstatat", SYS, "dirfd=0 path=1 flags=3 ret=int" },
	{ "statx", BOTH, "dirfd=0 path=1 flags=2 mask=3 ret=int" },
	{ "access", BOTH, "path=0 mode=1 ret=int" },
	{ "faccessat", BOTH, "dirfd=0 path=1 mode=2 ret=int" },
	{ "faccessat2", SYS, "dirfd=0 path=1 mode=2 ret=int" },
	{ "unlink rmdir", BOTH, "path=0 ret=int" },
	{ "unlinkat", BOTH, "dirfd=0 path=1 flags=2 ret=int" },
	{ "mkdir", BOTH, "path=0 mode=1 ret=int" },
	{ "mkdirat", BOTH, "dirfd=0 path=1 mode=2 ret=int" },
	{ "rename", BOTH, "path=0 ret=int" },
	{ "renameat renameat2", BOTH, "olddirfd=0 path=1 newdirfd=2 ret=int" },
	{ "chdir chmod chown", BOTH, "path=0 ret=int" },
	{ "fchdir fchmod fchown", BOTH, "fd=0 ret=int" },
	{ "opendir", USER, "path=0" },
	{ "fdopendir", USER, "fd=0" },
	{ "getdents64", SYS, "fd=0 size=2" },
	{ "mmap mmap64", BOTH, "size=1 prot=2 flags=3 fd=4" },
	{ "munmap", BOTH, "size=1 ret=int" },
	{ "msync", BOTH, "size=1 flags=2 ret=int" },
	{ "mremap", BOTH, "size=1 new_size=2 flags=3" },
	{ "madvise", BOTH, "size=1 advice=2 ret=int" },
	{ "brk", SYS, "" },
	{ "dup", BOTH, "fd=0 ret=fd" },
	{ "dup2 dup3", BOTH, "fd=0 newfd=1 ret=fd" },
	{ "fcntl fcntl64", BOTH, "fd=0 cmd=1 ret=int" },
	{ "sendfile sendfile64", BOTH, "outfd=0 fd=1 size=3" },
	{ "copy_file_range", BOTH, "fd=0 outfd=2 size=4" },
	{ "io_submit", SYS, "nr=1 ret=int" },
	{ "sync", BOTH, "" },
	{ "execve", BOTH, "path=0 ret=int" },
	{ "execveat", SYS, "dirfd=0 path=1 flags=4 ret=int" },
	{ "execv execvp", USER, "path=0 ret=int" },
	/* Sockets: bytes moved, by descriptor */
	{ "socket", BOTH, "domain=0:i type=1:i ret=int" },
	{ "connect bind", BOTH, "fd=0 ret=int" },
	{ "listen", BOTH, "fd=0 backlog=1:i ret=int" },
	{ "accept accept4", BOTH, "fd=0 ret=int" },
	{ "send recv", USER, "fd=0 size=2 flags=3" },
	{ "sendto recvfrom", BOTH, "fd=0 size=2 flags=3" },
	{ "sendmsg recvmsg", BOTH, "fd=0 flags=2" },
	{ "sendmmsg recvmmsg", BOTH, "fd=0 vlen=2:i flags=3 ret=int" },
	{ "shutdown", BOTH, "fd=0 how=1:i ret=int" },
	/* Memory, for those who ask for it: these are hot */
	{ "malloc valloc pvalloc", USER, "size=0" },
	{ "calloc", USER, "count=0 size=1" },
	{ "realloc", USER, "size=1" },
	{ "aligned_alloc memalign", USER, "align=0 size=1" },
	{ "posix_memalign", USER, "align=1 size=2 ret=int" },
	{ "free cfree", USER, "ptr=0" },
	/* STDIO */
	{ "fopen fopen64", USER, "path=0 ret=stream" },
	{ "freopen freopen64", USER, "path=0 stream=2 ret=stream" },
	{ "fdopen", USER, "fd=0 ret=stream" },
	{ "fileno fileno_unlocked", USER, "stream=0 ret=fd" },
	{ "fclose", USER, "stream=0 closes ret=int" },
	{ "fread fwrite fread_unlocked fwrite_unlocked", USER, "size=1 count=2 stream=3" },
	{ "__fread_chk __fread_unlocked_chk", USER, "size=2 count=3 stream=4" },
	{ "fseek fseeko fseeko64", USER, "stream=0 offset=1 whence=2 ret=int" },
	{ "ftell ftello ftello64 rewind", USER, "stream=0" },
	{ "fgetpos fgetpos64 fsetpos fsetpos64", USER, "stream=0 ret=int" },
	{ "fflush fflush_unlocked", USER, "stream=0 ret=int" },
	{ "fgets fgets_unlocked", USER, "size=1:i stream=2" },
	{ "__fgets_chk", USER, "size=2:i stream=3" },
	{ "fputs fputs_unlocked", USER, "stream=1 ret=int" },
	{ "fgetc getc fgetc_unlocked getc_unlocked", USER, "stream=0 ret=int" },
	{ "fputc putc fputc_unlocked putc_unlocked ungetc", USER, "stream=1 ret=int" },
	{ "fprintf vfprintf fscanf vfscanf __isoc99_fscanf __isoc99_vfscanf", USER,
	  "stream=0 ret=int" },
	{ "__fprintf_chk __vfprintf_chk", USER, "stream=0 ret=int" },
	{ "getline", USER, "stream=2" },
	{ "getdelim", USER, "stream=3" },
	{ "setvbuf", USER, "stream=0 mode=2 size=3 ret=int" },
	/* MPI-IO; OpenMPI and MPICH both define MPI_File as a pointer. PMPI_ names share these. */
	{ "MPI_File_open", USER, "path=1 amode=2:i out=mpi_file:4 ret=int" },
	{ "MPI_File_close", USER, "mpi_file=*0 closes ret=int" },
	{ "MPI_File_delete", USER, "path=0 ret=int" },
	{ "MPI_File_read MPI_File_write MPI_File_read_all MPI_File_write_all "
	  "MPI_File_read_shared MPI_File_write_shared MPI_File_read_ordered "
	  "MPI_File_write_ordered MPI_File_iread MPI_File_iwrite MPI_File_iread_all "
	  "MPI_File_iwrite_all MPI_File_iread_shared MPI_File_iwrite_shared "
	  "MPI_File_read_all_begin MPI_File_write_all_begin MPI_File_read_ordered_begin "
	  "MPI_File_write_ordered_begin",
	  USER, "mpi_file=0 count=2:i ret=int" },
	{ "MPI_File_read_at MPI_File_write_at MPI_File_read_at_all MPI_File_write_at_all "
	  "MPI_File_iread_at MPI_File_iwrite_at MPI_File_iread_at_all MPI_File_iwrite_at_all "
	  "MPI_File_read_at_all_begin MPI_File_write_at_all_begin",
	  USER, "mpi_file=0 offset=1 count=3:i ret=int" },
	{ "MPI_File_read_all_end MPI_File_write_all_end MPI_File_read_at_all_end "
	  "MPI_File_write_at_all_end MPI_File_read_ordered_end MPI_File_write_ordered_end "
	  "MPI_File_sync MPI_File_get_size MPI_File_get_position MPI_File_get_position_shared "
	  "MPI_File_set_info MPI_File_get_info MPI_File_set_atomicity MPI_File_get_atomicity "
	  "MPI_File_get_view",
	  USER, "mpi_file=0 ret=int" },
	{ "MPI_File_seek MPI_File_seek_shared", USER, "mpi_file=0 offset=1 whence=2:i ret=int" },
	{ "MPI_File_set_view", USER, "mpi_file=0 offset=1 ret=int" },
	{ "MPI_File_set_size MPI_File_preallocate", USER, "mpi_file=0 size=1 ret=int" },
	/* HDF5: ids derived from a file id carry its file */
	{ "H5Fcreate", USER, "path=0 flags=1:i ret=hid" },
	{ "H5Fopen", USER, "path=0 flags=1:i ret=hid" },
	{ "H5Freopen", USER, "hid=0 ret=hid" },
	{ "H5Fclose H5Dclose H5Gclose H5Aclose H5Oclose H5Tclose", USER, "hid=0 closes ret=int" },
	{ "H5Fflush", USER, "hid=0 scope=1:i ret=int" },
	{ "H5Fget_filesize H5Fget_intent H5Fget_name H5Fget_obj_count H5Fget_vfd_handle", USER,
	  "hid=0 ret=int" },
	{ "H5Dcreate1 H5Dcreate2 H5Dcreate_anon H5Dopen1 H5Dopen2 H5Gcreate1 H5Gcreate2 "
	  "H5Gcreate_anon H5Gopen1 H5Gopen2 H5Acreate1 H5Acreate2 H5Acreate_by_name H5Aopen "
	  "H5Aopen_name H5Aopen_idx H5Aopen_by_name H5Aopen_by_idx H5Oopen H5Oopen_by_addr "
	  "H5Oopen_by_idx H5Topen1 H5Topen2",
	  USER, "hid=0 ret=hid" },
	{ "H5Dread H5Dwrite H5Aread H5Awrite H5Dset_extent H5Dextend H5Dflush H5Drefresh "
	  "H5Dget_storage_size H5Dvlen_get_buf_size H5Gflush H5Grefresh H5Oflush H5Orefresh "
	  "H5Lexists H5Ldelete H5Literate H5Lcreate_hard H5Lcreate_soft H5Tcommit1 "
	  "H5Tcommit2 H5Tcommit_anon H5Oget_info H5Oget_info2 H5Oget_info_by_name "
	  "H5Ovisit H5Gget_info H5Gget_objinfo H5Aexists H5Adelete H5Aiterate2",
	  USER, "hid=0 ret=int" },
	{ "H5Dread_chunk", USER, "hid=0 ret=int" },
	{ "H5Dwrite_chunk", USER, "hid=0 size=4 ret=int" },
	{ "H5Dget_space H5Dget_type H5Dget_create_plist H5Dget_access_plist H5Aget_space "
	  "H5Aget_type",
	  USER, "hid=0" },
};

#define NCATALOG (sizeof(catalog) / sizeof(catalog[0]))

static int parse_src(const char *v, struct dc_src *src)
{
	char *end;
	long n;

	memset(src, 0, sizeof(*src));
	src->how = DC_SRC_ARG;
	if (*v == '*') {
		src->how = DC_SRC_DEREF;
		v++;
	}
	n = strtol(v, &end, 10);
	if (end == v || n < 0 || n >= DC_ARG_MAX)
		return -EINVAL;
	src->arg = n;
	if (!strcmp(end, ":i") && src->how == DC_SRC_ARG)
		src->i32 = true;
	else if (*end)
		return -EINVAL;
	return 0;
}

static int parse_ret(struct dc_capture *c, const char *v)
{
	int ns = dc_handle_ns(v);

	if (ns >= 0) {
		c->ret = DC_RET_HANDLE;
		c->ret_ns = ns;
		c->ret_i32 = ns == DC_NS_FD;
	} else if (!strcmp(v, "int")) {
		c->ret_i32 = true;
	} else if (strcmp(v, "long")) {
		return -EINVAL;
	}
	return 0;
}

static int parse_spec(const char *spec, struct dc_capture *c)
{
	char buf[160], *tok, *save = NULL;
	struct dc_src src;

	dc_capture_init(c);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '='), *colon;
		int ns;

		if (!strcmp(tok, "closes")) {
			c->closes = true;
			continue;
		}
		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		if (!strcmp(tok, "ret")) {
			if (parse_ret(c, eq))
				return -EINVAL;
		} else if (!strcmp(tok, "out")) {
			colon = strchr(eq, ':');
			if (!colon)
				return -EINVAL;
			*colon++ = '\0';
			ns = dc_handle_ns(eq);
			if (ns < 0 || parse_src(colon, &c->out))
				return -EINVAL;
			c->out.how = DC_SRC_DEREF;
			c->out_ns = ns;
		} else if (parse_src(eq, &src) || dc_capture_add(c, tok, &src)) {
			return -EINVAL;
		}
	}
	return 0;
}

/* Name -> entry, sorted for lookup; built on first use. */
struct index_entry {
	char name[48];
	unsigned int where;
	unsigned int entry;
};

static struct index_entry *cat_index;
static size_t cat_nindex;
static struct dc_capture cat_parsed[NCATALOG];

static int cmp_index(const void *a, const void *b)
{
	const struct index_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->where - (int)y->where;
}

static int build_index(void)
{
	size_t i, n = 0, cap = 0;

	for (i = 0; i < NCATALOG; i++) {
		const char *p = catalog[i].names;

		if (parse_spec(catalog[i].spec, &cat_parsed[i]))
			return dc_err(-EINVAL, "internal: bad catalogue spec for %s",
				      catalog[i].names);
		while (*p) {
			size_t len = strcspn(p, " ");

			if (n == cap) {
				struct index_entry *v;

				cap = cap ? cap * 2 : 512;
				v = realloc(cat_index, cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				cat_index = v;
			}
			snprintf(cat_index[n].name, sizeof(cat_index[n].name), "%.*s", (int)len, p);
			cat_index[n].where = catalog[i].where;
			cat_index[n].entry = i;
			n++;
			p += len;
			p += strspn(p, " ");
		}
	}
	qsort(cat_index, n, sizeof(*cat_index), cmp_index);
	cat_nindex = n;
	return 0;
}

bool dc_catalog_lookup(const char *name, bool syscall, struct dc_capture *out)
{
	unsigned int want = syscall ? SYS : USER;
	size_t lo = 0, hi;

	if (!cat_index && build_index())
		return false;
	/* The MPI profiling interface: PMPI_X is X under another name. */
	if (!syscall && !strncmp(name, "PMPI_", 5))
		name++;
	/* The first entry with this name, then the one for the right side. */
	hi = cat_nindex;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(cat_index[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < cat_nindex && !strcmp(cat_index[lo].name, name); lo++)
		if (cat_index[lo].where & want) {
			*out = cat_parsed[cat_index[lo].entry];
			return true;
		}
	return false;
}

void dc_catalog_foreach(void (*fn)(const char *names, bool user, bool sys, const char *spec,
				   void *arg),
			void *arg)
{
	size_t i;

	for (i = 0; i < NCATALOG; i++)
		fn(catalog[i].names, catalog[i].where & USER, catalog[i].where & SYS,
		   catalog[i].spec, arg);
}
