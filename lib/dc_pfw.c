// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dc_err.h"
#include "dc_file.h"
#include "dc_json.h"
#include "dc_pfw.h"

#define IN_CAP (256u << 10)
#define OUT_CAP (2 * PFW_LINE_MAX)

struct pfw_reader {
	char *name;
	int fd;
	bool own_fd;
	uint64_t pos, end; /* next file offset to read, end of the region */
	unsigned char *in;
	size_t in_pos, in_len;
	uint64_t in_off; /* file offset of in[0] */
	char *buf;
	size_t pos_b, len_b; /* unread decompressed bytes: buf[pos_b, len_b) */
	z_stream z;
	bool gzip, z_ready, in_member;
	bool eof; /* no more bytes will come */
	bool skipping; /* inside an overlong line */
	bool damaged;
	uint64_t lineno;
	char *scratch; /* unescaped strings of the last event */
	bool seen_content;
	uint64_t bad;
};

/* Bad lines are warned about this many times per file, then only counted. */
#define BAD_WARNINGS 3

static ssize_t read_at(struct pfw_reader *r, void *dst, size_t want)
{
	ssize_t k;

	if (r->end - r->pos < want)
		want = r->end - r->pos;
	if (!want)
		return 0;
	do
		k = pread(r->fd, dst, want, r->pos);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return dc_err(-errno, "%s: %s", r->name, strerror(errno));
	r->pos += k;
	if (!k)
		r->end = r->pos;
	return k;
}

/* Reads more input once the last is used up; 1 if there is some. */
static int fill_in(struct pfw_reader *r)
{
	ssize_t k;

	if (r->in_pos < r->in_len)
		return 1;
	r->in_off += r->in_len;
	r->in_pos = r->in_len = 0;
	k = read_at(r, r->in, IN_CAP);
	if (k < 0)
		return k;
	r->in_len = k;
	return k > 0;
}

/* Keeps the unread input and appends more to it; 1 if any came. */
static int top_up_in(struct pfw_reader *r)
{
	size_t keep = r->in_len - r->in_pos;
	ssize_t k;

	memmove(r->in, r->in + r->in_pos, keep);
	r->in_off += r->in_pos;
	r->in_pos = 0;
	r->in_len = keep;
	k = read_at(r, r->in + keep, IN_CAP - keep);
	if (k < 0)
		return k;
	r->in_len += k;
	return k > 0;
}

/* Moves the input to the next gzip header; returns 1 if one was found. */
static int resync(struct pfw_reader *r)
{
	int err;

	for (;;) {
		unsigned char *p;

		err = fill_in(r);
		if (err <= 0)
			return err;
		p = memchr(r->in + r->in_pos, 0x1f, r->in_len - r->in_pos);
		if (!p) {
			r->in_pos = r->in_len;
			continue;
		}
		r->in_pos = p - r->in;
		/* The magic may straddle two reads. */
		if (r->in_len - r->in_pos < 3) {
			err = top_up_in(r);
			if (err < 0)
				return err;
			if (!err)
				return 0;
			continue;
		}
		if (p[1] == 0x8b && p[2] == 8)
			return 1;
		r->in_pos++;
	}
}

static void damage(struct pfw_reader *r, const char *what)
{
	dc_warn("%s: %s at byte %llu; read up to the last complete line before it", r->name, what,
		(unsigned long long)(r->in_off + r->in_pos));
	r->damaged = true;
	/* The partial line before the damage can never be completed. */
	r->len_b = 0;
}

/* Starts a member if the input is at a gzip header; 0 if it is not. */
static int begin_member(struct pfw_reader *r)
{
	int err;

	if (r->in_len - r->in_pos < 2) {
		err = top_up_in(r);
		if (err < 0)
			return err;
	}
	if (r->in_len - r->in_pos < 2 || r->in[r->in_pos] != 0x1f || r->in[r->in_pos + 1] != 0x8b)
		return 0;
	inflateReset(&r->z);
	r->in_member = true;
	return 1;
}

/* Decompresses more into buf; returns 0 at the end. */
static int fill_gzip(struct pfw_reader *r)
{
	size_t before = r->len_b;
	int ret, err;

	/* Damage empties buf, which also ends the loop: the caller reads again. */
	while (r->len_b == before) {
		err = fill_in(r);
		if (err < 0)
			return err;
		if (!err) {
			if (r->in_member)
				damage(r, "the last gzip member is truncated");
			return 0;
		}
		if (!r->in_member) {
			err = begin_member(r);
			if (err < 0)
				return err;
			if (!err) {
				damage(r, "data that is not gzip follows the last member");
				r->in_pos = r->in_len;
				r->pos = r->end;
				return 0;
			}
		}
		r->z.next_in = r->in + r->in_pos;
		r->z.avail_in = r->in_len - r->in_pos;
		r->z.next_out = (unsigned char *)r->buf + r->len_b;
		r->z.avail_out = OUT_CAP - r->len_b;
		ret = inflate(&r->z, Z_NO_FLUSH);
		r->in_pos = r->in_len - r->z.avail_in;
		r->len_b = OUT_CAP - r->z.avail_out;
		if (ret == Z_STREAM_END) {
			r->in_member = false;
		} else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT) {
			damage(r, "a gzip member is corrupt");
			r->in_member = false;
			/* Members are independent: go on from the next one. */
			r->in_pos++;
			err = resync(r);
			if (err <= 0)
				return err;
		} else if (ret == Z_MEM_ERROR) {
			return -ENOMEM;
		}
	}
	return 1;
}

static int fill_plain(struct pfw_reader *r)
{
	ssize_t k = read_at(r, r->buf + r->len_b, OUT_CAP - r->len_b);

	if (k < 0)
		return k;
	r->len_b += k;
	return k > 0;
}

int pfw_reader__open_fd(struct pfw_reader **out, int fd, uint64_t start, uint64_t end,
			const char *name)
{
	struct pfw_reader *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->pos = r->in_off = start;
	r->end = end;
	r->name = strdup(name);
	r->in = malloc(IN_CAP);
	r->buf = malloc(OUT_CAP + 1);
	if (!r->name || !r->in || !r->buf) {
		err = -ENOMEM;
		goto fail;
	}
	err = fill_in(r);
	if (err < 0)
		goto fail;
	r->gzip = r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
	if (r->gzip) {
		/* 16 + 15: gzip framing only; members are reset one by one. */
		if (inflateInit2(&r->z, 31) != Z_OK) {
			err = -ENOMEM;
			goto fail;
		}
		r->z_ready = true;
	} else {
		memcpy(r->buf, r->in, r->in_len);
		r->len_b = r->in_len;
	}
	*out = r;
	return 0;
fail:
	pfw_reader__close(r);
	return err;
}

int pfw_reader__open(struct pfw_reader **out, const char *path)
{
	struct stat st;
	int fd, err;

	*out = NULL;
	fd = dc_open_regular_fd(path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	err = pfw_reader__open_fd(out, fd, 0, st.st_size, path);
	if (err) {
		close(fd);
		return err;
	}
	(*out)->own_fd = true;
	return 0;
}

/* Ends the line at buf[pos_b, pos_b + n); 1, or 2 when it was too long. */
static int take_line(struct pfw_reader *r, size_t n, size_t skip, char **line, size_t *len)
{
	*line = r->buf + r->pos_b;
	*len = n;
	(*line)[n] = '\0';
	r->pos_b += n + skip;
	r->lineno++;
	if (r->skipping) {
		r->skipping = false;
		return 2;
	}
	return 1;
}

int pfw_reader__next(struct pfw_reader *r, char **line, size_t *len)
{
	for (;;) {
		char *b = r->buf + r->pos_b;
		size_t avail = r->len_b - r->pos_b;
		char *nl = memchr(b, '\n', avail);
		int err;

		if (nl)
			return take_line(r, nl - b, 1, line, len);
		if (r->skipping || avail >= PFW_LINE_MAX) {
			r->skipping = true;
			avail = 0;
		}
		memmove(r->buf, b, avail);
		r->pos_b = 0;
		r->len_b = avail;
		err = r->eof ? 0 : r->gzip ? fill_gzip(r) : fill_plain(r);
		if (err < 0)
			return err;
		if (err)
			continue;
		r->eof = true;
		if (!r->len_b && !r->skipping)
			return 0;
		/* A last line without a newline. */
		return take_line(r, r->len_b, 0, line, len);
	}
}

uint64_t pfw_reader__lineno(const struct pfw_reader *r)
{
	return r->lineno;
}

bool pfw_reader__damaged(const struct pfw_reader *r)
{
	return r->damaged;
}

void pfw_reader__close(struct pfw_reader *r)
{
	if (!r)
		return;
	if (r->z_ready)
		inflateEnd(&r->z);
	if (r->own_fd)
		close(r->fd);
	free(r->name);
	free(r->in);
	free(r->buf);
	free(r->scratch);
	free(r);
}

/* Why @ev breaks the rules every reader applies, or NULL. */
static const char *check_event(const struct pfw_event *ev)
{
	int64_t v;

	if (ev->ph.type != PFW_STR || ev->ph.n != 1)
		return "\"ph\" is not a one-letter string";
	if (ev->name.type != PFW_STR)
		return "no \"name\" string";
	if (ev->ph.s[0] != 'M' && !pfw_num(&ev->ts, &v))
		return "no numeric \"ts\"";
	/* Bounds that keep every sum of a time and a duration in range. */
	if (ev->ts.type != PFW_NONE && pfw_num(&ev->ts, &v) &&
	    (v > PFW_TIME_MAX || v < -PFW_TIME_MAX))
		return "\"ts\" out of range";
	if (ev->ph.s[0] == 'X' && (!pfw_num(&ev->dur, &v) || v < 0 || v > PFW_TIME_MAX))
		return "an X event without a \"dur\" from 0 to 2^60";
	if ((ev->pid.type != PFW_NONE && !pfw_num(&ev->pid, &v)) ||
	    (ev->tid.type != PFW_NONE && !pfw_num(&ev->tid, &v)))
		return "\"pid\" or \"tid\" is not a number";
	return NULL;
}

static bool blank(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	return !n || (n == 1 && (*s == '[' || *s == ']'));
}

int pfw_reader__event(struct pfw_reader *r, struct pfw_event *ev, char **line, size_t *len)
{
	const char *why;
	int ret;

	if (!r->scratch) {
		r->scratch = malloc(PFW_LINE_MAX + 1);
		if (!r->scratch)
			return -ENOMEM;
	}
	for (;;) {
		ret = pfw_reader__next(r, line, len);
		if (ret <= 0)
			return ret;
		if (ret == 1 && blank(*line, *len)) {
			r->seen_content |= *len > 0;
			continue;
		}
		why = "longer than 1 MiB";
		if (ret == 1 && !pfw_parse(*line, *len, ev, r->scratch, &why)) {
			why = check_event(ev);
			if (!why) {
				r->seen_content = true;
				return 1;
			}
		}
		if (!r->seen_content)
			return dc_err(-EINVAL, "%s: not a DFTracer trace (line %llu: %s)", r->name,
				      (unsigned long long)r->lineno, why);
		if (r->bad++ < BAD_WARNINGS)
			dc_warn("%s:%llu: %s; line skipped", r->name, (unsigned long long)r->lineno,
				why);
	}
}

uint64_t pfw_reader__bad(const struct pfw_reader *r)
{
	return r->bad;
}

struct pfw_writer {
	char *name;
	int fd;
	char *buf;
	size_t len, cap, member;
	unsigned char *zbuf;
	size_t zcap;
	z_stream z;
	bool z_ready;
	uint64_t good; /* offset after the last whole member */
	int err;
};

int pfw_writer__open(struct pfw_writer **out, int fd, const char *name, size_t member_bytes,
		     int level)
{
	struct pfw_writer *w = calloc(1, sizeof(*w));
	off_t at;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->member = member_bytes;
	w->cap = member_bytes + PFW_LINE_MAX;
	w->name = strdup(name);
	w->buf = malloc(w->cap);
	at = lseek(fd, 0, SEEK_CUR);
	w->good = at > 0 ? at : 0;
	/* windowBits 16 + 15: gzip framing, so each member is a .gz on its own. */
	if (w->name && w->buf &&
	    deflateInit2(&w->z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK) {
		w->z_ready = true;
		w->zcap = deflateBound(&w->z, w->cap) + 64;
		w->zbuf = malloc(w->zcap);
	}
	if (!w->zbuf) {
		pfw_writer__close(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

int pfw_writer__flush(struct pfw_writer *w)
{
	size_t n;
	int err;

	if (w->err || !w->len)
		return w->err;
	if (deflateReset(&w->z) != Z_OK)
		return w->err = dc_err(-EIO, "%s: compression failed", w->name);
	w->z.next_in = (unsigned char *)w->buf;
	w->z.avail_in = w->len;
	w->z.next_out = w->zbuf;
	w->z.avail_out = w->zcap;
	if (deflate(&w->z, Z_FINISH) != Z_STREAM_END)
		return w->err = dc_err(-EIO, "%s: compression failed", w->name);
	n = w->zcap - w->z.avail_out;
	err = dc_write_all(w->fd, w->zbuf, n);
	if (err) {
		/* Cut back to the last whole member: the file stays readable. */
		if (ftruncate(w->fd, w->good) == 0)
			lseek(w->fd, w->good, SEEK_SET);
		return w->err = dc_err(err, "%s: %s", w->name, strerror(-err));
	}
	w->good += n;
	w->len = 0;
	return 0;
}

char *pfw_writer__room(struct pfw_writer *w, size_t n)
{
	char *p;

	if (w->err)
		return NULL;
	if (w->len + n <= w->cap)
		return w->buf + w->len;
	/* Longer than any line should be: grow, so the member stays whole. */
	p = realloc(w->buf, w->len + n);
	if (!p)
		return NULL;
	free(w->zbuf);
	w->buf = p;
	w->cap = w->len + n;
	w->zcap = deflateBound(&w->z, w->cap) + 64;
	w->zbuf = malloc(w->zcap);
	if (!w->zbuf) {
		w->err = -ENOMEM;
		return NULL;
	}
	return w->buf + w->len;
}

int pfw_writer__commit(struct pfw_writer *w, size_t n)
{
	w->len += n;
	if (w->len >= w->member)
		return pfw_writer__flush(w);
	return w->err;
}

int pfw_writer__puts(struct pfw_writer *w, const char *s)
{
	size_t n = strlen(s);
	char *p = pfw_writer__room(w, n);

	if (!p)
		return w->err ? w->err : -ENOMEM;
	memcpy(p, s, n);
	return pfw_writer__commit(w, n);
}

uint64_t pfw_writer__offset(const struct pfw_writer *w)
{
	return w->good;
}

int pfw_writer__close(struct pfw_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = w->z_ready ? pfw_writer__flush(w) : w->err;
	if (w->z_ready)
		deflateEnd(&w->z);
	free(w->name);
	free(w->buf);
	free(w->zbuf);
	free(w);
	return err;
}
