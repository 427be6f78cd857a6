// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the trace writer (runtime/writer.h): arbitrary
 * ring-buffer records, of every type and any size, and profile counters go
 * through the writer's API against a small manifest of every probe kind,
 * into a file that must then decompress, member by member, to a "[" line,
 * lines that are each valid JSON, and a "]" line, with an end record that
 * counts the events exactly. See docs/reliability.md.
 *
 * Input: a series of [op, len lo, len hi, len bytes]. op % 8 picks what to
 * do: 1-5 a record of that DC_REC_* type (the bytes laid over the record,
 * the type field set, @len passed as its size), 6 a profile counter, 7 a
 * flush, 0 nothing. Process and thread ids are forced above the kernel's
 * largest pid so the writer's /proc look-ups fail the same way every run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dc_err.h"
#include "dc_json.h"
#include "dc_manifest.h"
#include "writer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest_text[] =
	"datacrumbs-manifest 2\n"
	"config\tfuzz\n"
	"target\t0\t/usr/lib/x86_64-linux-gnu/libc.so.6\t-\n"
	"probe\t0\tu\t0\tposix\tPOSIX\topen\t0\t0x1000\tflags,mode\n"
	"probe\t1\tu\t1\tposix\tPOSIX\tread\t0\t0x2000\tfd,size\n"
	"probe\t2\ts\t2\tsys\tSYSCALL\twrite\t-\twrite\tfd,size,offset,flags\n"
	"probe\t3\tt\t3\tkern\tKERNEL\tsched_process_fork\t-\tsched:sched_process_fork\t-\n"
	"probe\t4\tt\t4\tkern\tKERNEL\tfsync\t-\tsyscalls:sys_enter_fsync/syscalls:sys_exit_fsync\t-\n"
	"probe\t5\td\t5\tapp\tAPP\ttick\t0\tapp:tick\tsize\n"
	"probe\t6\tc\t0\thook\tHOOK\thooked\t-\t-\tfd,size\n";

static struct dc_manifest *man;
static char path[64];
static const char *dir;

static void remove_dir(void)
{
	rmdir(dir);
}

/* Ids no process can have: pid_max is at most 2^22. */
static __u32 no_pid(__u32 v)
{
	return (1u << 22) | (v & 0xfffff);
}

static void fix_ids(__u32 type, uint8_t *rec)
{
	__u32 a, b;

	switch (type) {
	case DC_REC_CALL:
	case DC_REC_INSTANT:
	case DC_REC_PROC: /* pid and tid, or pid and ppid, at 8 and 12 */
		memcpy(&a, rec + 8, 4);
		memcpy(&b, rec + 12, 4);
		a = no_pid(a);
		b = no_pid(b);
		memcpy(rec + 8, &a, 4);
		memcpy(rec + 12, &b, 4);
		break;
	case DC_REC_ENV:
		memcpy(&a, rec + 4, 4);
		a = no_pid(a);
		memcpy(rec + 4, &a, 4);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* tmpfs if there is one: the writer fsyncs each file it closes. */
	static char shm[] = "/dev/shm/dc-fuzz-writer-XXXXXX", tmp[] = "/tmp/dc-fuzz-writer-XXXXXX";

	(void)argc;
	(void)argv;
	dir = mkdtemp(shm);
	if (!dir)
		dir = mkdtemp(tmp);
	if (!dir || dc_manifest__decode(manifest_text, strlen(manifest_text), &man)) {
		fprintf(stderr, "fuzz_writer: setup failed: %s\n", dc_errmsg(-errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/t.pfw.gz", dir);
	atexit(remove_dir);
	return 0;
}

/* Appends the inflated members of @f to @out. */
static size_t inflate_all(FILE *f, char **out)
{
	static unsigned char in[65536];
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	z_stream z = { 0 };
	int rc = Z_OK;

	if (!buf || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		abort();
	while ((n = fread(in, 1, sizeof(in), f)) > 0) {
		z.next_in = in;
		z.avail_in = n;
		while (z.avail_in) {
			if (len == cap && !(buf = realloc(buf, cap *= 2)))
				abort();
			z.next_out = (unsigned char *)buf + len;
			z.avail_out = cap - len;
			rc = inflate(&z, Z_NO_FLUSH);
			len = cap - z.avail_out;
			if (rc == Z_STREAM_END)
				rc = inflateReset(&z); /* the next member */
			if (rc != Z_OK && rc != Z_BUF_ERROR) {
				fprintf(stderr, "fuzz_writer: not gzip: %d\n", rc);
				abort();
			}
		}
	}
	inflateEnd(&z);
	*out = buf;
	return len;
}

/* The file must be a DFTracer trace: "[", one JSON object per line, "]". */
static void check_trace(void)
{
	FILE *f = fopen(path, "rb");
	char *text, *line, *scratch;
	size_t len, n, lines = 0;
	int64_t events = 0, counted = -1;
	struct pfw_event ev;
	const char *why;
	unsigned int a;

	if (!f)
		abort();
	len = inflate_all(f, &text);
	fclose(f);
	if (len < 4 || memcmp(text, "[\n", 2) || memcmp(text + len - 2, "]\n", 2)) {
		fprintf(stderr, "fuzz_writer: no [ ... ] framing\n");
		abort();
	}
	scratch = malloc(len);
	if (!scratch)
		abort();
	for (line = text + 2; line < text + len - 2; line += n + 1) {
		n = (char *)memchr(line, '\n', text + len - 2 - line) - line;
		if (pfw_parse(line, n, &ev, scratch, &why)) {
			fprintf(stderr, "fuzz_writer: line %zu is not a valid event (%s): %.*s\n",
				lines + 2, why, (int)n, line);
			abort();
		}
		lines++;
		if (ev.ph.type == PFW_STR && strchr("XiC", ev.ph.s[0]) && !ev.ph.s[1])
			events++;
		if (ev.name.type == PFW_STR && !strcmp(ev.name.s, "end"))
			for (a = 0; a < ev.nargs; a++)
				if (!strcmp(ev.args[a].key, "num_events"))
					counted = ev.args[a].v.i;
	}
	/* The end record counts exactly the events before it. */
	if (counted != events) {
		fprintf(stderr, "fuzz_writer: end says %lld events, the file has %lld\n",
			(long long)counted, (long long)events);
		abort();
	}
	free(scratch);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rec[sizeof(struct dc_env)];
	struct writer_opts o = { .path = path,
				 .man = man,
				 .host = "fuzzhost",
				 .cmdline = "fuzz \"cmd\"\n",
				 .pid = 1 << 22,
				 .member_bytes = 4096,
				 .level = 1 };
	struct dc_stats st = { 0 };
	struct dc_prof_key k;
	struct dc_prof_val v;
	struct writer *w;
	size_t i = 0, n;
	__u32 type;

	if (writer__open(&w, &o))
		abort();
	while (i + 3 <= size) {
		type = data[i] % 8;
		n = data[i + 1] | (size_t)data[i + 2] << 8;
		i += 3;
		if (n > sizeof(rec))
			n = sizeof(rec);
		memset(rec, 0, sizeof(rec));
		memcpy(rec, data + i, n < size - i ? n : size - i);
		i += n < size - i ? n : size - i;
		if (type >= 1 && type <= 5) {
			memcpy(rec, &type, sizeof(type));
			fix_ids(type, rec);
			writer__record(w, rec, n);
		} else if (type == 6) {
			memcpy(&k, rec, sizeof(k));
			memcpy(&v, rec + sizeof(k), sizeof(v));
			k.pid = no_pid(k.pid);
			k.tid = no_pid(k.tid);
			writer__counter(w, &k, &v, v.min);
		} else if (type == 7) {
			writer__flush(w);
		}
	}
	if (writer__close(w, &st, NULL))
		abort();
	writer__destroy(w);
	check_trace();
	unlink(path);
	dc_err_clear();
	return 0;
}
