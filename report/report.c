// SPDX-License-Identifier: MIT
/*
 * datacrumbs-report: summarizes DFTracer traces, streaming them once, in
 * memory that grows with the number of groups, not of events.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "dc_err.h"
#include "dc_paths.h"
#include "dc_pfw.h"
#include "out.h"

enum format { FMT_TEXT, FMT_CSV, FMT_JSON };

struct opts {
	struct out_opts out;
	enum format fmt;
	const char *html;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: datacrumbs-report [OPTION]... TRACE...\n"
		"Summarize DFTracer traces (.pfw.gz or .pfw, from datacrumbs-run or any\n"
		"DFTracer writer): per group, the calls, total, mean, median and 99th percentile\n"
		"duration, bytes, bandwidth and share of wall time; how the time of each layer\n"
		"(HDF5, MPI-IO, POSIX, SYSCALL, ...) splits into the layers it calls; and\n"
		"latency histograms. Traces are streamed: memory does not grow with their size.\n"
		"\n"
		"  -b, --by=DIM        group by layer, function (default), file, process or rank\n"
		"  -n, --top=N         show the N groups with the most time (default 20, 0 for all)\n"
		"      --csv           print the group table as CSV\n"
		"      --json          print the whole report as JSON\n"
		"      --html=FILE     also write a self-contained HTML page: timeline per\n"
		"                      process, layer breakdown, top files and functions\n"
		"  -q, --quiet         print no warnings\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"Durations are in microseconds. P50 and P99 are exact below 128 us and within\n"
		"0.8%% above. Bytes are the return values of calls that have a size argument\n"
		"(read, write, pread, ...). Wall time runs from the first to the last timed\n"
		"line of all traces; a group's share of it can pass 100%% with many threads.\n"
		"Profile counters (C events) add their count, time and size to their group.\n"
		"Bad lines are skipped and counted; a truncated gzip member is read up to its\n"
		"last complete line. Exit status: 0 on success, 1 on error, 2 on bad usage.\n");
}

static int parse_dim(const char *s, enum dim *d)
{
	int i;

	for (i = 0; i < NDIMS; i++) {
		if (!strcmp(s, dim_names[i])) {
			*d = i;
			return 0;
		}
	}
	return dc_err(-EINVAL, "--by must be layer, function, file, process or rank, not '%s'", s);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = { { "by", required_argument, NULL, 'b' },
					       { "top", required_argument, NULL, 'n' },
					       { "csv", no_argument, NULL, 'c' },
					       { "json", no_argument, NULL, 'j' },
					       { "html", required_argument, NULL, 'H' },
					       { "quiet", no_argument, NULL, 'q' },
					       { "help", no_argument, NULL, 'h' },
					       { "version", no_argument, NULL, 'V' },
					       {} };
	char *end;
	int c, err;

	o->out.by = DIM_FUNCTION;
	o->out.top = 20;
	while ((c = getopt_long(argc, argv, "b:n:qhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			err = parse_dim(optarg, &o->out.by);
			if (err)
				return err;
			break;
		case 'n':
			errno = 0;
			o->out.top = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-')
				return dc_err(-EINVAL, "--top needs a whole number, not '%s'",
					      optarg);
			break;
		case 'c':
		case 'j':
			if (o->fmt != FMT_TEXT)
				return dc_err(-EINVAL, "--csv and --json exclude each other");
			o->fmt = c == 'c' ? FMT_CSV : FMT_JSON;
			break;
		case 'H':
			o->html = optarg;
			break;
		default:
			dc_std_option(c, usage);
		}
	}
	if (optind >= argc)
		return dc_err(-EINVAL, "no trace given (try --help)");
	o->out.inputs = argv + optind;
	o->out.ninputs = argc - optind;
	return 0;
}

static int read_trace(struct agg *a, const char *path)
{
	struct pfw_reader *r;
	struct pfw_event ev;
	char *line;
	size_t len;
	int ret;

	ret = pfw_reader__open(&r, path);
	if (ret)
		return ret;
	agg_begin_input(a);
	while ((ret = pfw_reader__event(r, &ev, &line, &len)) > 0) {
		ret = agg_event(a, &ev);
		if (ret)
			break;
	}
	if (!ret && pfw_reader__bad(r))
		dc_warn("%s: %llu bad line%s skipped", path, (unsigned long long)pfw_reader__bad(r),
			pfw_reader__bad(r) == 1 ? "" : "s");
	a->t.bad_lines += pfw_reader__bad(r);
	a->t.damaged_files += pfw_reader__damaged(r);
	pfw_reader__close(r);
	return ret;
}

static int write_stdout(const struct dc_buf *b)
{
	if (fwrite(b->p, 1, b->len, stdout) != b->len)
		return -EIO;
	return 0;
}

static int run(struct opts *o)
{
	struct dc_buf json = { 0 };
	struct agg a;
	int i, err = 0;

	agg_init(&a, o->html != NULL);
	for (i = 0; i < o->out.ninputs && !err; i++)
		err = read_trace(&a, o->out.inputs[i]);
	if (!err)
		err = agg_finish(&a);
	/* The page first: if it cannot be written, nothing is printed. */
	if (!err && o->html) {
		err = out_json(&json, &a, &o->out, true);
		if (!err)
			err = out_html(o->html, &json);
		json.len = 0;
	}
	if (!err && o->fmt == FMT_JSON) {
		err = out_json(&json, &a, &o->out, false);
		if (!err)
			err = write_stdout(&json);
	} else if (!err && o->fmt == FMT_CSV) {
		err = out_csv(stdout, &a, &o->out);
	} else if (!err) {
		err = out_text(stdout, &a, &o->out);
	}
	dc_buf_free(&json);
	agg_free(&a);
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = dc_err(-EIO, "cannot write the report: %s", strerror(errno));
	return err;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int err;

	dc_prog = "datacrumbs-report";
	err = parse_args(argc, argv, &o);
	if (!err)
		err = run(&o);
	if (err) {
		dc_report(err);
		return err == -EINVAL && !o.out.inputs ? 2 : 1;
	}
	return 0;
}
