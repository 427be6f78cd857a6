// SPDX-License-Identifier: MIT
/*
 * Functions whose first instruction the kernel's x86-64 uprobes refuse,
 * next to plain ones, for the attach tests: a lock prefix, the four segment
 * prefixes, a VEX instruction with a refused opcode, a 16-bit branch and
 * hlt. The prefixed nops do nothing, so those functions can be called; the
 * last three never are.
 */
#define EXPORT __attribute__((visibility("default"), noinline))

EXPORT int dcb_plain(int x)
{
	return x + 1;
}

EXPORT int dcb_plain2(int x)
{
	return x * 2;
}

#define FUNC(name, body)                                                                 \
	__asm__(".text\n.globl " #name "\n.type " #name ", @function\n" #name ":\n" body \
		"\n.size " #name ", .-" #name "\n")

FUNC(dcb_lock, "lock addl $1, (%rdi)\nmovl (%rdi), %eax\nret");
FUNC(dcb_cs, ".byte 0x2e, 0x90\nmovl %edi, %eax\nret");
FUNC(dcb_ds, ".byte 0x3e, 0x90\nmovl %edi, %eax\nret");
FUNC(dcb_es, ".byte 0x26, 0x90\nmovl %edi, %eax\nret");
FUNC(dcb_ss, ".byte 0x36, 0x90\nmovl %edi, %eax\nret");
FUNC(dcb_vex, ".byte 0xc5, 0xf9, 0x6e, 0xc7\nvmovd %xmm0, %eax\nret");
FUNC(dcb_branch16, ".byte 0x66, 0xe9, 0x00, 0x00\nret");
FUNC(dcb_hlt, "hlt\nret");
