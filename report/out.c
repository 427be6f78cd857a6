// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dc_paths.h"
#include "out.h"

#define MAX_COLS 16

/* Rows of cells, printed with each column as wide as its widest cell. */
struct table {
	size_t ncols, nrows, cap;
	char **cells;
	size_t filled; /* cells of the row being filled */
	bool right[MAX_COLS];
	int err;
};

static void tcell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tcell(struct table *t, const char *fmt, ...)
{
	size_t n = t->nrows * t->ncols + t->filled;
	va_list ap;
	char **c;

	if (t->err)
		return;
	if (n >= t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		c = realloc(t->cells, t->cap * sizeof(*c));
		if (!c) {
			t->err = -ENOMEM;
			return;
		}
		t->cells = c;
	}
	va_start(ap, fmt);
	if (vasprintf(&t->cells[n], fmt, ap) < 0) {
		t->cells[n] = NULL;
		t->err = -ENOMEM;
	}
	va_end(ap);
	if (++t->filled == t->ncols) {
		t->filled = 0;
		t->nrows++;
	}
}

static void table_print(FILE *f, struct table *t)
{
	size_t w[MAX_COLS] = { 0 }, r, c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			bool last = c + 1 == t->ncols;

			if (t->right[c])
				fprintf(f, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols + t->filled && t->cells; i++)
		free(t->cells[i]);
	free(t->cells);
}

static const char *human_bytes(char *buf, size_t n, uint64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = b;
	int u = 0;

	while (v >= 1024 && u < 5)
		v /= 1024, u++;
	if (!u)
		snprintf(buf, n, "%" PRIu64 " B", b);
	else
		snprintf(buf, n, "%.1f %s", v, unit[u]);
	return buf;
}

static uint64_t wall_us(const struct agg *a)
{
	return a->t.timed && a->t.t_max > a->t.t_min ? a->t.t_max - a->t.t_min : 0;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * part / whole : 0;
}

static size_t shown(size_t n, const struct out_opts *o)
{
	return o->top && o->top < n ? o->top : n;
}

static int text_summary(FILE *f, const struct agg *a)
{
	uint64_t wall = wall_us(a);
	char when[64] = "";
	time_t t = a->t.t_min / 1000000;
	struct tm tm;

	if (a->t.timed && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), " from %Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f,
		"%" PRIu64 " trace%s: %" PRIu64 " calls (X events), %" PRIu64
		" profile counters (C events), %" PRIu64 " metadata lines\n",
		a->t.inputs, a->t.inputs == 1 ? "" : "s", a->t.x_events, a->t.c_events,
		a->t.m_events);
	fprintf(f, "%zu host%s, %zu process%s, %zu thread%s; wall time %.3f s%s\n", a->host_names.n,
		a->host_names.n == 1 ? "" : "s", a->dims[DIM_PROCESS].n,
		a->dims[DIM_PROCESS].n == 1 ? "" : "es", a->threads.n, a->threads.n == 1 ? "" : "s",
		wall / 1e6, when);
	if (a->t.dropped)
		fprintf(f, "the tracer dropped %" PRIu64 " events (ring buffer full)\n",
			a->t.dropped);
	if (a->t.bad_lines || a->t.damaged_files)
		fprintf(f, "%" PRIu64 " bad lines skipped, %" PRIu64 " damaged files\n",
			a->t.bad_lines, a->t.damaged_files);
	return 0;
}

static void num_or_dash(struct table *t, bool have, const char *fmt, double v)
{
	if (have)
		tcell(t, fmt, v);
	else
		tcell(t, "-");
}

static int text_groups(FILE *f, const struct agg *a, const struct out_opts *o)
{
	bool fn = o->by == DIM_FUNCTION;
	struct table t = { .ncols = fn ? 10 : 9 };
	struct group **g;
	size_t n, i, m;
	uint64_t wall = wall_us(a);
	char hb[32];
	int err;

	g = agg_sorted(a, o->by, &n);
	if (!g)
		return -ENOMEM;
	m = shown(n, o);
	fprintf(f, "\nBy %s: %s%zu of %zu, by total time\n", dim_names[o->by], m < n ? "top " : "",
		m, n);
	for (i = fn ? 2 : 1; i < t.ncols; i++)
		t.right[i] = true;
	if (fn)
		tcell(&t, "LAYER");
	tcell(&t, "%s",
	      fn		   ? "FUNCTION" :
	      o->by == DIM_LAYER   ? "LAYER" :
	      o->by == DIM_FILE	   ? "FILE" :
	      o->by == DIM_PROCESS ? "PROCESS" :
				     "RANK");
	tcell(&t, "COUNT");
	tcell(&t, "TOTAL ms");
	tcell(&t, "MEAN us");
	tcell(&t, "P50 us");
	tcell(&t, "P99 us");
	tcell(&t, "BYTES");
	tcell(&t, "MB/s");
	tcell(&t, "WALL %%");
	for (i = 0; i < m; i++) {
		const struct stats *s = &g[i]->st;

		if (fn)
			tcell(&t, "%s", g[i]->layer);
		tcell(&t, "%s", g[i]->label);
		tcell(&t, "%" PRIu64, s->count);
		tcell(&t, "%.3f", s->total / 1e3);
		num_or_dash(&t, s->count, "%.1f", s->count ? (double)s->total / s->count : 0);
		num_or_dash(&t, s->samples, "%.0f", (double)stats_quantile(s, 0.5));
		num_or_dash(&t, s->samples, "%.0f", (double)stats_quantile(s, 0.99));
		tcell(&t, "%s", human_bytes(hb, sizeof(hb), s->bytes));
		num_or_dash(&t, s->bytes && s->total, "%.1f",
			    s->total ? (double)s->bytes / s->total : 0);
		num_or_dash(&t, wall, "%.1f", pct(s->total, wall));
	}
	err = t.err;
	if (!err)
		table_print(f, &t);
	table_free(&t);
	free(g);
	return err;
}

static int text_layers(FILE *f, const struct agg *a)
{
	unsigned int order[MAX_LAYERS], i, j, used[MAX_LAYERS], nused = 0;
	struct table t = { 0 };
	int err;

	if (!a->nlayers)
		return 0;
	agg_layer_order(a, order);
	/* Columns only for layers that are ever called from another. */
	for (j = 0; j < a->nlayers; j++) {
		for (i = 0; i < a->nlayers; i++)
			if (a->layers[order[i]].child[order[j]])
				break;
		if (i < a->nlayers)
			used[nused++] = order[j];
	}
	t.ncols = 3 + nused;
	for (i = 1; i < t.ncols; i++)
		t.right[i] = true;
	fprintf(f, "\nLayers: where each layer's time goes (self, and calls one level down)\n");
	tcell(&t, "LAYER");
	tcell(&t, "TOTAL ms");
	tcell(&t, "SELF");
	for (j = 0; j < nused; j++)
		tcell(&t, "-> %s", a->layers[used[j]].name);
	for (i = 0; i < a->nlayers; i++) {
		const struct layer *l = &a->layers[order[i]];
		uint64_t total = l->st->total, inner = 0;

		for (j = 0; j < MAX_LAYERS; j++)
			inner += l->child[j];
		tcell(&t, "%s", l->name);
		tcell(&t, "%.3f", total / 1e3);
		tcell(&t, "%.3f ms %5.1f%%", (total - (inner < total ? inner : total)) / 1e3,
		      pct(total - (inner < total ? inner : total), total));
		for (j = 0; j < nused; j++) {
			uint64_t c = l->child[used[j]];

			if (c)
				tcell(&t, "%.3f ms %5.1f%%", c / 1e3, pct(c, total));
			else
				tcell(&t, "-");
		}
	}
	err = t.err;
	if (!err)
		table_print(f, &t);
	table_free(&t);
	if (a->t.unattributed)
		fprintf(f, "(%.3f ms of nested calls had no caller in the trace)\n",
			a->t.unattributed / 1e3);
	return err;
}

/* Octaves of the histogram: [0, 1), [1, 2), [2, 4), ... us. */
#define OCTAVES 40

static unsigned int octave_bucket(unsigned int k)
{
	return k ? qh_bucket(1ULL << (k - 1)) : 0;
}

static uint64_t octave_count(const struct stats *s, unsigned int k)
{
	return stats_count_range(s, octave_bucket(k),
				 k + 1 < OCTAVES ? octave_bucket(k + 1) : QH_BUCKETS);
}

static void text_histogram(FILE *f, const struct agg *a)
{
	unsigned int order[MAX_LAYERS], i, k, lo, hi;

	agg_layer_order(a, order);
	fprintf(f, "\nLatency histograms (calls per duration range, X events)\n");
	for (i = 0; i < a->nlayers; i++) {
		const struct stats *s = a->layers[order[i]].st;
		uint64_t c[OCTAVES], max = 0;

		if (!s->samples)
			continue;
		lo = OCTAVES;
		hi = 0;
		for (k = 0; k < OCTAVES; k++) {
			c[k] = octave_count(s, k);
			if (c[k]) {
				lo = k < lo ? k : lo;
				hi = k;
				max = c[k] > max ? c[k] : max;
			}
		}
		fprintf(f, "%s\n%21s : %-10s %s\n", a->layers[order[i]].name, "us", "count",
			"distribution");
		for (k = lo; k <= hi; k++) {
			char range[48], bar[41];
			int n = max ? (int)(40 * c[k] / max) : 0;

			if (k > 1)
				snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64,
					 (uint64_t)1 << (k - 1), ((uint64_t)1 << k) - 1);
			else
				snprintf(range, sizeof(range), "%u", k);
			memset(bar, '*', n);
			bar[n] = '\0';
			fprintf(f, "%21s : %-10" PRIu64 " |%-40s|\n", range, c[k], bar);
		}
	}
}

int out_text(FILE *f, const struct agg *a, const struct out_opts *o)
{
	int err = text_summary(f, a);

	if (!err)
		err = text_groups(f, a, o);
	if (!err)
		err = text_layers(f, a);
	if (!err)
		text_histogram(f, a);
	return err;
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int out_csv(FILE *f, const struct agg *a, const struct out_opts *o)
{
	uint64_t wall = wall_us(a);
	struct group **g;
	size_t n, i;

	g = agg_sorted(a, o->by, &n);
	if (!g)
		return -ENOMEM;
	fprintf(f,
		"layer,%s,count,total_us,mean_us,p50_us,p99_us,bytes,bandwidth_mb_s,wall_share\n",
		dim_names[o->by]);
	for (i = 0; i < shown(n, o); i++) {
		const struct stats *s = &g[i]->st;

		csv_field(f, g[i]->layer ? g[i]->layer : "");
		fputc(',', f);
		csv_field(f, g[i]->label);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%.3f,", s->count, s->total,
			s->count ? (double)s->total / s->count : 0.0);
		if (s->samples)
			fprintf(f, "%" PRIu64 ",%" PRIu64, stats_quantile(s, 0.5),
				stats_quantile(s, 0.99));
		else
			fputc(',', f);
		fprintf(f, ",%" PRIu64 ",%.3f,%.6f\n", s->bytes,
			s->total ? (double)s->bytes / s->total : 0.0,
			wall ? (double)s->total / wall : 0.0);
	}
	free(g);
	return 0;
}

static void jstr(struct dc_buf *b, const char *s)
{
	size_t n = strlen(s);
	char *tmp = malloc(6 * n + 2);

	if (!tmp) {
		b->err = -ENOMEM;
		return;
	}
	dc_buf_put(b, "\"", 1);
	dc_buf_put(b, tmp, json_escape(tmp, s, n) - tmp);
	dc_buf_put(b, "\"", 1);
	free(tmp);
}

static void json_stats(struct dc_buf *b, const struct stats *s, uint64_t wall)
{
	dc_buf_printf(b,
		      "\"count\":%" PRIu64 ",\"total_us\":%" PRIu64
		      ",\"mean_us\":%.3f,\"bytes\":%" PRIu64
		      ",\"bandwidth_mb_s\":%.3f,\"wall_share\":%.6f,\"profiled_count\":%" PRIu64,
		      s->count, s->total, s->count ? (double)s->total / s->count : 0.0, s->bytes,
		      s->total ? (double)s->bytes / s->total : 0.0,
		      wall ? (double)s->total / wall : 0.0, s->profiled);
	if (s->samples)
		dc_buf_printf(b,
			      ",\"p50_us\":%" PRIu64 ",\"p99_us\":%" PRIu64 ",\"min_us\":%" PRIu64
			      ",\"max_us\":%" PRIu64,
			      stats_quantile(s, 0.5), stats_quantile(s, 0.99), s->min, s->max);
	else
		dc_buf_puts(b, ",\"p50_us\":null,\"p99_us\":null,\"min_us\":null,\"max_us\":null");
}

static int json_groups(struct dc_buf *b, const struct agg *a, enum dim d, size_t top, bool ranks)
{
	struct group **g;
	size_t n, i;

	g = agg_sorted(a, d, &n);
	if (!g)
		return -ENOMEM;
	dc_buf_puts(b, "[");
	for (i = 0; i < n && (!top || i < top); i++) {
		dc_buf_puts(b, i ? ",\n{" : "\n{");
		if (g[i]->layer) {
			dc_buf_puts(b, "\"layer\":");
			jstr(b, g[i]->layer);
			dc_buf_puts(b, ",");
		}
		dc_buf_puts(b, "\"name\":");
		jstr(b, g[i]->label);
		dc_buf_puts(b, ",");
		if (ranks)
			dc_buf_printf(b, "\"pid\":%" PRId64 ",\"rank\":%" PRId64 ",", g[i]->pid,
				      g[i]->rank);
		json_stats(b, &g[i]->st, wall_us(a));
		dc_buf_puts(b, "}");
	}
	dc_buf_puts(b, "]");
	free(g);
	return 0;
}

static void json_layers(struct dc_buf *b, const struct agg *a)
{
	unsigned int order[MAX_LAYERS], i, j, k;

	agg_layer_order(a, order);
	dc_buf_puts(b, "[");
	for (i = 0; i < a->nlayers; i++) {
		const struct layer *l = &a->layers[order[i]];
		uint64_t inner = 0;

		for (j = 0; j < MAX_LAYERS; j++)
			inner += l->child[j];
		dc_buf_puts(b, i ? ",\n{\"name\":" : "\n{\"name\":");
		jstr(b, l->name);
		dc_buf_printf(b, ",\"total_us\":%" PRIu64 ",\"self_us\":%" PRIu64 ",\"calls\":{",
			      l->st->total,
			      l->st->total - (inner < l->st->total ? inner : l->st->total));
		for (j = 0, k = 0; j < a->nlayers; j++) {
			if (!l->child[order[j]])
				continue;
			if (k++)
				dc_buf_puts(b, ",");
			jstr(b, a->layers[order[j]].name);
			dc_buf_printf(b, ":%" PRIu64, l->child[order[j]]);
		}
		dc_buf_puts(b, "},\"histogram\":[");
		for (k = 0; k < OCTAVES; k++)
			dc_buf_printf(b, "%s%" PRIu64, k ? "," : "", octave_count(l->st, k));
		dc_buf_puts(b, "]}");
	}
	dc_buf_puts(b, "]");
}

static void json_timeline(struct dc_buf *b, const struct agg *a)
{
	struct group **g;
	size_t n, i, rows = 0;
	unsigned int l, k;

	dc_buf_printf(b,
		      ",\"timeline\":{\"start_us\":%" PRId64 ",\"bin_us\":%" PRIu64 ",\"rows\":[",
		      a->tl_lo * (int64_t)a->tl_width, a->tl_width);
	g = agg_sorted(a, DIM_PROCESS, &n);
	for (i = 0; g && i < n; i++) {
		if (!g[i]->tl)
			continue;
		dc_buf_puts(b, rows++ ? ",\n{\"name\":" : "\n{\"name\":");
		jstr(b, g[i]->label);
		dc_buf_printf(b, ",\"rank\":%" PRId64 ",\"layers\":{", g[i]->rank);
		for (l = 0, k = 0; l < a->nlayers; l++) {
			unsigned int j;

			if (!g[i]->tl->bins[l])
				continue;
			dc_buf_puts(b, k++ ? "," : "");
			jstr(b, a->layers[l].name);
			dc_buf_puts(b, ":[");
			for (j = 0; j < TL_BINS; j++)
				dc_buf_printf(b, "%s%" PRIu64, j ? "," : "", g[i]->tl->bins[l][j]);
			dc_buf_puts(b, "]");
		}
		dc_buf_puts(b, "}}");
	}
	dc_buf_printf(b, "],\"hidden_rows\":%zu}", n - rows);
	if (!g)
		b->err = -ENOMEM;
	free(g);
}

int out_json(struct dc_buf *b, const struct agg *a, const struct out_opts *o, bool html)
{
	int i, err;

	dc_buf_puts(b,
		    "{\"tool\":\"datacrumbs-report\",\"version\":\"" DC_VERSION "\",\"inputs\":[");
	for (i = 0; i < o->ninputs; i++) {
		if (i)
			dc_buf_puts(b, ",");
		jstr(b, o->inputs[i]);
	}
	dc_buf_printf(b,
		      "],\"events\":{\"calls\":%" PRIu64 ",\"counters\":%" PRIu64
		      ",\"metadata\":%" PRIu64 ",\"bad_lines\":%" PRIu64
		      ",\"damaged_files\":%" PRIu64 ",\"dropped_by_tracer\":%" PRIu64
		      "},\"hosts\":%zu,\"processes\":%zu,\"threads\":%zu",
		      a->t.x_events, a->t.c_events, a->t.m_events, a->t.bad_lines,
		      a->t.damaged_files, a->t.dropped, a->host_names.n, a->dims[DIM_PROCESS].n,
		      a->threads.n);
	dc_buf_printf(
		b, ",\"start_us\":%" PRId64 ",\"wall_us\":%" PRIu64 ",\"unattributed_us\":%" PRIu64,
		a->t.timed ? a->t.t_min : 0, wall_us(a), a->t.unattributed);
	dc_buf_printf(b, ",\"by\":\"%s\",\"groups\":", dim_names[o->by]);
	err = json_groups(b, a, o->by, o->top, o->by == DIM_PROCESS);
	dc_buf_puts(b, ",\n\"layers\":");
	json_layers(b, a);
	if (html && !err) {
		dc_buf_puts(b, ",\n\"files\":");
		err = json_groups(b, a, DIM_FILE, 25, false);
		if (!err) {
			dc_buf_puts(b, ",\n\"functions\":");
			err = json_groups(b, a, DIM_FUNCTION, 25, false);
		}
		if (!err)
			json_timeline(b, a);
	}
	dc_buf_puts(b, "}\n");
	return err ? err : b->err;
}
