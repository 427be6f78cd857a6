/* SPDX-License-Identifier: MIT */
/*
 * Streaming aggregation of trace events: per group statistics, the split of
 * each layer's time into the layers it calls, and a binned timeline. Memory
 * grows with the number of groups, threads and processes, never with the
 * number of events.
 */
#ifndef DC_AGG_H
#define DC_AGG_H

#include <stdbool.h>
#include <stdint.h>

#include "dc_json.h"
#include "dc_map.h"

/*
 * Durations go into log-linear buckets: exact below 128 us, then 64 buckets
 * per power of two, so a quantile read at a bucket's middle is within 1/128
 * (0.8%) of a value in that bucket. A group with few distinct buckets keeps
 * them in a short list, so a million small groups stay small.
 */
#define QH_SUB_BITS 6
#define QH_EXACT (2u << QH_SUB_BITS)
#define QH_BUCKETS ((65u - QH_SUB_BITS) << QH_SUB_BITS)
#define QH_SPARSE 16

struct qhist {
	uint64_t *v; /* dense counts, or packed (bucket << 40 | count) pairs */
	uint32_t nsparse;
	bool dense;
};

unsigned int qh_bucket(uint64_t us);
/* The range of values [lo, lo + width) bucket @b holds. */
void qh_range(unsigned int b, uint64_t *lo, uint64_t *width);

struct stats {
	uint64_t count; /* calls: one per X event, args.count per C event */
	uint64_t total; /* us */
	uint64_t bytes;
	uint64_t samples; /* X events, whose durations are in h */
	uint64_t min, max;
	uint64_t profiled; /* calls that came from C events */
	struct qhist h;
};

/* The @p quantile (0 < p <= 1) of the sampled durations, nearest rank. */
uint64_t stats_quantile(const struct stats *s, double p);
/* Count of samples in buckets [from, to). */
uint64_t stats_count_range(const struct stats *s, unsigned int from, unsigned int to);

enum dim { DIM_LAYER, DIM_FUNCTION, DIM_FILE, DIM_PROCESS, DIM_RANK, NDIMS };
extern const char *const dim_names[NDIMS];

struct group {
	const char *key; /* the map's copy */
	char *label; /* what the reader sees, filled in by agg_finish() */
	const char *layer; /* the category, for functions */
	uint64_t hhash; /* processes */
	int64_t pid; /* processes */
	int64_t rank; /* processes and ranks; -1 when unknown */
	struct stats st;
	struct tline *tl; /* processes: the timeline row */
};

#define MAX_LAYERS 32
#define MAX_LEVELS 12
#define TL_BINS 400

struct layer {
	char *name;
	struct stats *st; /* in the layer group */
	uint64_t level_sum, level_n; /* mean nesting level orders the layers */
	uint64_t child[MAX_LAYERS]; /* time spent in calls one level down, by their layer */
};

struct tline {
	uint64_t *bins[MAX_LAYERS]; /* busy us per bin, per layer; NULL if none */
};

struct totals {
	uint64_t x_events, c_events, m_events;
	uint64_t bad_lines, damaged_files, inputs;
	uint64_t written, dropped; /* from the traces' end records */
	uint64_t unattributed; /* us of nested calls whose caller never came */
	int64_t t_min, t_max; /* us, over every timed line */
	bool timed;
};

struct agg {
	struct dc_map dims[NDIMS]; /* key -> struct group */
	struct layer layers[MAX_LAYERS];
	unsigned int nlayers;
	struct dc_map threads; /* (hhash, pid, tid) -> struct thread */
	struct dc_map file_names; /* fhash -> name */
	struct dc_map file_alias; /* this input's fhash that another input uses -> its own key */
	struct dc_map host_names; /* hhash -> name */
	struct dc_map proc_meta; /* (hhash, pid) -> struct proc_meta */
	struct dc_map pid_host; /* this input's pid -> the host its calls name */
	uint64_t input_host; /* the host of the input being read, if it has one */
	bool input_hosts_many;
	struct totals t;
	/* The timeline: bin k covers [k * width, (k + 1) * width) us. */
	int64_t tl_lo;
	uint64_t tl_width;
	bool tl_set;
	bool want_timeline;
};

void agg_init(struct agg *a, bool timeline);
/* A new input file starts; its metadata apply to its own processes. */
void agg_begin_input(struct agg *a);
int agg_event(struct agg *a, const struct pfw_event *ev);
/* Resolves names, folds processes into ranks. */
int agg_finish(struct agg *a);
/* The groups of @d sorted by total time, longest first; *@n of them. */
struct group **agg_sorted(const struct agg *a, enum dim d, size_t *n);
/* Layers ordered from the top of the stack (HDF5) down (SYSCALL). */
void agg_layer_order(const struct agg *a, unsigned int *order);
void agg_free(struct agg *a);

#endif
