// SPDX-License-Identifier: MIT
/*
 * The rules mirror arch/x86/kernel/uprobes.c: bad legacy prefixes
 * (is_prefix_bad), SS loads (insn_masking_exception), the one-byte opcodes
 * its good_insns_64 table leaves out, and branches with a 0x66 prefix
 * (branch_setup_xol_ops). Like the kernel's decoder, a VEX or EVEX
 * instruction is judged by its opcode byte after the prefix.
 */
#include <stdbool.h>
#include <string.h>

#include "insn_check.h"

/* One-byte opcodes invalid in 64-bit mode or never single-stepped. */
static bool bad_opcode(uint8_t op)
{
	static const uint8_t bad[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37,
				       0x3f, 0x60, 0x61, 0x62, 0x6c, 0x6d, 0x6e, 0x6f, 0x82, 0x9a,
				       0xcc, 0xcd, 0xce, 0xcf, 0xd4, 0xd5, 0xd6, 0xe4, 0xe5, 0xe6,
				       0xe7, 0xea, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf4, 0xfa, 0xfb };

	return memchr(bad, op, sizeof(bad)) != NULL;
}

static bool is_branch(uint8_t op, uint8_t op2)
{
	return op == 0xe8 || op == 0xe9 || op == 0xeb || (op >= 0x70 && op <= 0x7f) ||
	       (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f);
}

enum insn_verdict insn_check__x86_64(const uint8_t *code, size_t n)
{
	bool opsize = false, vex = false;
	size_t i = 0;

	for (; i < n; i++) {
		switch (code[i]) {
		case 0xf0:
			return INSN_LOCK;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			return INSN_SEGMENT;
		case 0x66:
			opsize = true;
			continue;
		case 0x64:
		case 0x65:
		case 0x67:
		case 0xf2:
		case 0xf3:
			continue;
		}
		break;
	}
	if (i < n && (code[i] & 0xf0) == 0x40) /* REX */
		i++;
	if (i < n && (code[i] == 0xc5 || code[i] == 0xc4 || code[i] == 0x62)) {
		i += code[i] == 0xc5 ? 2 : code[i] == 0xc4 ? 3 : 4;
		vex = true;
	}
	if (i >= n)
		return INSN_OK; /* cut off: the kernel decides */
	if (bad_opcode(code[i]))
		return INSN_OPCODE;
	if (code[i] == 0x8e && i + 1 < n && ((code[i + 1] >> 3) & 7) == 2)
		return INSN_MOV_SS;
	if (!vex && opsize && is_branch(code[i], i + 1 < n ? code[i + 1] : 0))
		return INSN_BRANCH16;
	return INSN_OK;
}

static const char *const whys[INSN_NVERDICTS][2] = {
	[INSN_OK] = { "ok", "probeable" },
	[INSN_LOCK] = { "lock", "first instruction has a lock prefix, which uprobes refuse" },
	[INSN_SEGMENT] = { "segment",
			   "first instruction has a segment prefix, which uprobes refuse" },
	[INSN_OPCODE] = { "opcode", "first instruction is one uprobes cannot single-step" },
	[INSN_MOV_SS] = { "movss", "first instruction loads SS, which uprobes refuse" },
	[INSN_BRANCH16] = { "branch16",
			    "first instruction is a 16-bit branch, which uprobes refuse" },
	[INSN_KERNEL] = { "kernel", "the kernel refused to probe this offset" },
};

const char *insn_check__why(enum insn_verdict v)
{
	return whys[v][1];
}

const char *insn_check__token(enum insn_verdict v)
{
	return whys[v][0];
}

enum insn_verdict insn_check__from_token(const char *token)
{
	int v;

	for (v = INSN_LOCK; v < INSN_NVERDICTS; v++)
		if (!strcmp(token, whys[v][0]))
			return v;
	return INSN_OK;
}
