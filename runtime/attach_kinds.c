// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach_kinds.h"
#include "dc_err.h"
#include "dc_kernel.h"
#include "dc_objload.h"
#include "dc_tpformat.h"

int attach_kinds__prepare(struct session *s)
{
	struct dc_objprep prep;
	size_t i;
	int err;

	for (i = 0; i < s->man->nprobes; i++) {
		const struct dc_mprobe *p = &s->man->probes[i];
		bool pair = p->kind == 'k' || p->kind == 'f' || p->exit_point;

		if (strchr("tkfd", p->kind) && (!session__class_prog(s, p->cls, false) ||
						(pair && !session__class_prog(s, p->cls, true))))
			return dc_err(-ENOEXEC,
				      "probe %zu has no programs: manifest and object "
				      "disagree",
				      i);
	}
	for (i = 0; i < s->man->nhooks; i++)
		if (!bpf_object__find_program_by_name(s->obj, s->man->hooks[i].prog))
			return dc_err(-ENOEXEC, "hook program %s is missing from the object",
				      s->man->hooks[i].prog);
	err = dc_objload__prepare(s->obj, s->man, &prep);
	for (i = 0; !err && i < prep.nskips; i++)
		err = add_skip(s, prep.skips[i].probe, prep.skips[i].err);
	if (!err && prep.why[0])
		dc_warn("%s: %zu probes skipped", prep.why, prep.nskips);
	dc_objload__free(&prep);
	return err;
}

/* Attaches @prog to tracepoint "group:event" with @cookie. */
static struct bpf_link *tracepoint(struct bpf_program *prog, const char *event, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_tracepoint_opts, o, .bpf_cookie = cookie);
	char group[128];
	const char *colon = strchr(event, ':');

	snprintf(group, sizeof(group), "%.*s", (int)(colon - event), event);
	return bpf_program__attach_tracepoint_opts(prog, group, colon + 1, &o);
}

/* The generating kernel's layout of every field read must still hold here. */
static bool formats_hold(struct session *s, const char *tracefs, uint32_t probe)
{
	size_t i;

	for (i = 0; i < s->man->nchecks; i++) {
		const struct dc_mcheck *c = &s->man->checks[i];
		const struct dc_tpfield *f;
		struct dc_tpformat fmt;
		bool ok;

		if (c->probe != probe)
			continue;
		if (dc_tpformat__read(tracefs, c->event, &fmt))
			return true; /* missing altogether: attaching says so */
		f = dc_tpformat__field(&fmt, c->field);
		ok = f && f->off == c->off && f->size == c->size && f->is_signed == c->is_signed;
		dc_tpformat__free(&fmt);
		if (!ok) {
			dc_warn("%s: field %s has moved since the object was generated: %s skipped "
				"(generate it again)",
				c->event, c->field, s->man->probes[probe].name);
			return false;
		}
	}
	return true;
}

/* Both ends of a pair, or the one program of a point event; -errno when either fails. */
static int attach_ends(struct session *s, const struct dc_mprobe *p, struct bpf_link *l[2])
{
	int err = 0, i, n = p->kind == 'k' || p->kind == 'f' || p->exit_point ? 2 : 1;

	for (i = 0; !err && i < n; i++) {
		struct bpf_program *prog = session__class_prog(s, p->cls, i == 1);

		switch (p->kind) {
		case 't':
			l[i] = tracepoint(prog, i ? p->exit_point : p->point, p->id);
			break;
		case 'k': {
			LIBBPF_OPTS(bpf_kprobe_opts, o, .bpf_cookie = p->id, .retprobe = i == 1);

			l[i] = bpf_program__attach_kprobe_opts(prog, p->point, &o);
			break;
		}
		case 'f':
			l[i] = bpf_program__attach_trace(prog);
			break;
		default: {
			const char *pt = i ? p->exit_point : p->point, *colon = strchr(pt, ':');
			LIBBPF_OPTS(bpf_usdt_opts, o, .usdt_cookie = p->id);
			char provider[128];

			snprintf(provider, sizeof(provider), "%.*s", (int)(colon - pt), pt);
			l[i] = bpf_program__attach_usdt(prog, -1, s->man->targets[p->target].path,
							provider, colon + 1, &o);
		}
		}
		if (!l[i])
			err = -errno;
	}
	if (err) {
		bpf_link__destroy(l[0]);
		l[0] = l[1] = NULL;
	}
	return err;
}

static bool skipped(const struct session *s, uint32_t probe)
{
	size_t i;

	for (i = 0; i < s->nskips; i++)
		if (s->skips[i].probe == probe)
			return true;
	return false;
}

/*
 * Kprobes need the kprobe PMU or tracefs's kprobe_events. Without either
 * (CONFIG_KPROBES off) every attach would fail the same way: say it once.
 */
static bool kprobes_available(const char *tracefs)
{
	char path[256];

	if (!access("/sys/bus/event_source/devices/kprobe/type", R_OK))
		return true;
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs ? tracefs : "/sys/kernel/tracing");
	return !access(path, W_OK);
}

static int attach_hooks(struct session *s)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < s->man->nhooks; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(s->obj, s->man->hooks[i].prog);
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			dc_warn("hook program %s (section %s) cannot attach: %s",
				s->man->hooks[i].prog, bpf_program__section_name(prog),
				strerror(errno));
			err = add_skip(s, s->man->hooks[i].probe, -errno);
			continue;
		}
		/* A config of hooks alone has attached something too. */
		s->attached++;
		err = add_link(s, l);
	}
	return err;
}

int attach_kinds__attach(struct session *s)
{
	const char *tracefs = NULL;
	size_t i, nk = 0;
	bool kprobes = true;
	int err = 0;

	for (i = 0; i < s->man->nprobes && !tracefs; i++)
		if (s->man->probes[i].kind == 't' && (err = dc_tracefs_need(&tracefs)))
			return err;
	for (i = 0; i < s->man->nprobes; i++)
		if (s->man->probes[i].kind == 'k' && nk++ == 0)
			kprobes = kprobes_available(tracefs ? tracefs : dc_tracefs(false));
	if (nk && !kprobes)
		dc_warn("kprobes are not available in this kernel (no kprobe PMU or "
			"kprobe_events; CONFIG_KPROBES is off?): %zu kprobe probes skipped",
			nk);
	for (i = 0; !err && i < s->man->nprobes; i++) {
		const struct dc_mprobe *p = &s->man->probes[i];
		struct bpf_link *l[2] = { NULL, NULL };
		int why;

		if (!strchr("tkfd", p->kind) || skipped(s, p->id))
			continue;
		if (p->kind == 'k' && !kprobes) {
			err = add_skip(s, p->id, -EOPNOTSUPP);
			continue;
		}
		if (p->kind == 't' && !formats_hold(s, tracefs, p->id)) {
			err = add_skip(s, p->id, -ESTALE);
			continue;
		}
		why = attach_ends(s, p, l);
		if (why) {
			err = add_skip(s, p->id, why);
			continue;
		}
		s->attached++;
		err = add_link(s, l[0]);
		if (!err && l[1])
			err = add_link(s, l[1]);
	}
	return err ? err : attach_hooks(s);
}
