/* SPDX-License-Identifier: MIT */
/*
 * Which first instructions the kernel refuses to put a uprobe on. A refused
 * offset fails a whole uprobe_multi link, and costs as much as attaching
 * every offset before it; refused in a library that no process has mapped
 * yet, it is not reported at all and the probe silently never fires. So the
 * runtime reads the first instruction of every offset before attaching.
 */
#ifndef DC_INSN_CHECK_H
#define DC_INSN_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Why an offset cannot be probed; the names go into the attach cache. */
enum insn_verdict {
	INSN_OK,
	INSN_LOCK, /* a lock prefix */
	INSN_SEGMENT, /* a CS, DS, ES or SS segment prefix */
	INSN_OPCODE, /* an opcode uprobes never single-step (hlt, int3, in/out, ...) */
	INSN_MOV_SS, /* loads SS, which masks the single-step trap */
	INSN_BRANCH16, /* a branch with a 16-bit operand-size prefix */
	INSN_KERNEL, /* found by the kernel's refusal, not by decoding */
	INSN_NVERDICTS,
};

/*
 * Judges the x86-64 instruction at @code (@n bytes available) as the
 * kernel's arch_uprobe_analyze_insn() does for 64-bit processes. Only what
 * it refuses for certain is reported; anything else is left to the kernel.
 */
enum insn_verdict insn_check__x86_64(const uint8_t *code, size_t n);
/* A short phrase for reports, and the token the attach cache stores. */
const char *insn_check__why(enum insn_verdict v);
const char *insn_check__token(enum insn_verdict v);
/* The verdict whose token is @token, or INSN_OK when none is. */
enum insn_verdict insn_check__from_token(const char *token);

#endif
