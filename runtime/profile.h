/* SPDX-License-Identifier: MIT */
/*
 * Profile mode: the kernel sums calls per process, thread, probe, file and
 * interval (templates/dc_core.bpf.h, dc_prof_add); this side emits each
 * interval once it has ended as DFTracer counter events and deletes it, so
 * the map holds only the intervals still open and exited processes leave
 * nothing behind.
 */
#ifndef DC_PROFILE_H
#define DC_PROFILE_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>

#include "dc_manifest.h"
#include "writer.h"

#define PROFILE_DEFAULT_NS 1000000000ULL
#define PROFILE_DEFAULT_ENTRIES 65536

/* Parses an interval with a unit (100ms, 1s, 5m), from 1ms to 1h. */
int profile__parse_interval(const char *s, uint64_t *ns);
/*
 * Where interval 0 begins, in CLOCK_MONOTONIC ns: at most one interval ago,
 * on a multiple of @interval_ns of the wall clock, so that the intervals of
 * runs on many nodes line up.
 */
uint64_t profile__base(uint64_t interval_ns, int64_t real_minus_mono_ns);
/*
 * Sizes the aggregation maps of @obj before load: @entries sums (0 in trace
 * mode, which needs none) and one byte rule per probe of @man.
 */
int profile__size_maps(struct bpf_object *obj, const struct dc_manifest *man, size_t entries);

struct profile;

/*
 * Starts emitting the sums of the loaded @obj into @w: fills the byte rule
 * of each probe from its fields, and takes intervals of @interval_ns from
 * @base_ns (CLOCK_MONOTONIC), as the kernel was told.
 */
int profile__open(struct profile **out, struct bpf_object *obj, const struct dc_manifest *man,
		  struct writer *w, uint64_t interval_ns, uint64_t base_ns);
/*
 * Emits and deletes the intervals that have ended; with @all, every sum
 * (once the probes are detached, for the final flush).
 */
int profile__drain(struct profile *p, bool all);
void profile__destroy(struct profile *p);

#endif
