/* SPDX-License-Identifier: MIT */
/*
 * Probe kinds beyond uprobes and system calls: kernel tracepoints, kprobes,
 * fentry, USDT probes and custom hooks. Where this kernel cannot attach a
 * kind, its probes are skipped with the reason said once.
 */
#ifndef DC_ATTACH_KINDS_H
#define DC_ATTACH_KINDS_H

#include "session.h"

/* Before load: binds fentry programs, switches off what cannot load here. */
int attach_kinds__prepare(struct session *s);
/* After load: attaches every probe of these kinds, and the hooks' programs. */
int attach_kinds__attach(struct session *s);

#endif
