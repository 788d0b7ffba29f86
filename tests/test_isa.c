// SPDX-License-Identifier: MIT
/*
 * Suite "isa": golden decodes for every architecture, each encoding checked
 * against an independent source (GNU as for x86-64, m68k, ARM and AArch64
 * when installed; the MC6809 data sheet's opcode and postbyte tables for
 * the 6809), fault matching (straddles, fetches, rep strings, translated
 * addresses), backup plans as properties on random registers, and the
 * `pflab decode` command.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "test.h"

/* ---- helpers ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: a fixed seed, so a failure repeats. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static enum isa_arch arch_of(const char *name)
{
	int a = isa_arch_from_name(name);

	CU_ASSERT_FATAL(a >= 0);
	return (enum isa_arch)a;
}

/* "name=value name=value": registers set with isa_reg_set. */
static void set_regs(enum isa_arch arch, struct isa_regs *regs, const char *spec)
{
	char buf[512], *save = NULL;

	if (!spec)
		return;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		CU_ASSERT_FATAL(eq != NULL);
		*eq = '\0';
		CU_ASSERT_EQUAL_FATAL(isa_reg_set(arch, regs, tok, strtoull(eq + 1, NULL, 0)), ISA_OK);
	}
}

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static int decode(enum isa_arch arch, const char *hex, uint64_t pc, const struct isa_regs *regs,
		  struct isa_insn *insn)
{
	uint8_t bytes[32];
	size_t n = unhex(hex, bytes);

	return isa_decode(arch, bytes, n, pc, regs, insn);
}

/* Data accesses (after the fetch) as "R1000+4 RW2000+8 W?+1". */
static void fmt_accesses(const struct isa_insn *in, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 1; i < in->n_access && o < len; i++) {
		const struct isa_access *a = &in->access[i];
		const char *k = (a->kind & ISA_ACC_READ) && (a->kind & ISA_ACC_WRITE) ? "RW" :
				a->kind & ISA_ACC_WRITE ? "W" : "R";

		if (a->addr_known)
			o += (size_t)snprintf(buf + o, len - o, "%s%s%" PRIx64 "+%u", o ? " " : "", k,
					      a->addr, a->size);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%s?+%u", o ? " " : "", k, a->size);
	}
}

/* Effects as "a0+4@2 a7-2@1" (register, signed delta in hex, before). */
static void fmt_effects(const struct isa_insn *in, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < in->n_effect && o < len; i++) {
		const struct isa_effect *e = &in->effect[i];

		o += (size_t)snprintf(buf + o, len - o, "%s%s%c%" PRIx64 "@%u", o ? " " : "",
				      isa_reg_name(in->arch, e->reg), e->delta < 0 ? '-' : '+',
				      e->delta < 0 ? -(uint64_t)e->delta : (uint64_t)e->delta, e->before);
	}
}

/* ---- golden decodes ----------------------------------------------------- */

struct golden {
	const char *src;      /* assembler source line (GNU as syntax) */
	const char *hex;      /* its encoding */
	uint64_t pc;
	const char *regs;     /* on top of the suite's base registers */
	const char *text;     /* Capstone's text */
	const char *accesses; /* fmt_accesses() */
	const char *effects;  /* fmt_effects() */
};

struct golden_set {
	const char *arch;
	const char *base_regs;
	const struct golden *g;
	size_t n;
};

#define X86_BASE "rax=0x1000 rbx=0x2000 rcx=3 rsi=0x3000 rdi=0x4000 rsp=0x8000 rbp=0x9000 " \
		 "fs_base=0x7f0000 gs_base=0x6f0000 rflags=0x2"

static const struct golden x86_golden[] = {
	{ "add qword ptr [rax+rbx*4+8], rcx", "48014c9808", 0x400000, NULL,
	  "add qword ptr [rax + rbx*4 + 8], rcx", "RW9008+8", "" },
	/* Capstone 4 says read-only for these three: corrected to read-write. */
	{ "cmpxchg16b [rdi]", "480fc70f", 0x400000, NULL, "cmpxchg16b xmmword ptr [rdi]", "RW4000+16", "" },
	{ "cmpxchg8b [rdi]", "0fc70f", 0x400000, NULL, "cmpxchg8b qword ptr [rdi]", "RW4000+8", "" },
	{ "cmpxchg [rdi], rcx", "480fb10f", 0x400000, NULL, "cmpxchg qword ptr [rdi], rcx", "RW4000+8", "" },
	{ "xchg [rsi], eax", "8706", 0x400000, NULL, "xchg dword ptr [rsi], eax", "RW3000+4", "" },
	{ "xadd [rsi], eax", "0fc106", 0x400000, NULL, "xadd dword ptr [rsi], eax", "RW3000+4", "" },
	{ "lock inc qword ptr [rdi]", "f048ff07", 0x400000, NULL, "lock inc qword ptr [rdi]", "RW4000+8", "" },
	{ "mov rax, [rip+0x100]", "488b0500010000", 0x400000, NULL,
	  "mov rax, qword ptr [rip + 0x100]", "R400107+8", "" },
	{ "mov rax, fs:[0x28]", "64488b042528000000", 0x400000, NULL,
	  "mov rax, qword ptr fs:[0x28]", "R7f0028+8", "" },
	/* 0x67: the effective address wraps at 32 bits. */
	{ "mov eax, [eax+ecx]", "678b0408", 0x400000, "rax=0x1fffffff0 rcx=0x20",
	  "mov eax, dword ptr [eax + ecx]", "R10+4", "" },
	{ "mov [rsp], rax", "48890424", 0x400000, NULL, "mov qword ptr [rsp], rax", "W8000+8", "" },
	{ "lea rax, [rbx]", "488d03", 0x400000, NULL, "lea rax, [rbx]", "", "" },
	{ "prefetcht0 [rax]", "0f1808", 0x400000, NULL, "prefetcht0 byte ptr [rax]", "", "" },
	{ "fxsave [rax]", "0fae00", 0x400000, NULL, "fxsave [rax]", "W1000+512", "" },
	{ "push rax", "50", 0x400000, NULL, "push rax", "W7ff8+8", "rsp-8@2" },
	/* push [rsp+8] reads with RSP before the push. */
	{ "push qword ptr [rsp+8]", "ff742408", 0x400000, NULL, "push qword ptr [rsp + 8]",
	  "R8008+8 W7ff8+8", "rsp-8@3" },
	/* pop [rsp] writes with RSP after the pop (SDM, POP). */
	{ "pop qword ptr [rsp]", "8f0424", 0x400000, NULL, "pop qword ptr [rsp]", "R8000+8 W8008+8",
	  "rsp+8@3" },
	{ "pushfq", "9c", 0x400000, NULL, "pushfq", "W7ff8+8", "rsp-8@2" },
	{ "pushw 1", "666a01", 0x400000, NULL, "push 1", "W7ffe+2", "rsp-2@2" },
	{ "call qword ptr [rax]", "ff10", 0x400000, NULL, "call qword ptr [rax]", "R1000+8 W7ff8+8",
	  "rsp-8@3" },
	{ "ret 16", "c21000", 0x400000, NULL, "ret 0x10", "R8000+8", "rsp+18@2" },
	{ "enter 32, 2", "c8200002", 0x400000, NULL, "enter 0x20, 2",
	  "W7ff8+8 R8ff8+8 W7ff0+8 W7fe8+8", "rbp-1008@5 rsp-38@5" },
	{ "leave", "c9", 0x400000, NULL, "leave", "R9000+8", "rsp+1008@2" },
	{ "xlatb", "d7", 0x400000, "rax=0x10ff", "xlatb", "R20ff+1", "" },
	{ "movsb", "a4", 0x400000, NULL, "movsb byte ptr [rdi], byte ptr [rsi]", "R3000+1 W4000+1",
	  "rsi+1@3 rdi+1@3" },
	{ "movsb byte ptr [rdi], byte ptr fs:[rsi]", "64a4", 0x400000, NULL,
	  "movsb byte ptr [rdi], byte ptr fs:[rsi]", "R7f3000+1 W4000+1", "rsi+1@3 rdi+1@3" },
	/* DF set: elements step down. */
	{ "rep movsq", "f348a5", 0x400000, "rflags=0x402", "rep movsq qword ptr [rdi], qword ptr [rsi]",
	  "R3000+8 W4000+8", "rsi-8@3 rdi-8@3 rcx-1@3" },
	{ "repne cmpsb", "f2a6", 0x400000, NULL, "repne cmpsb byte ptr [rsi], byte ptr [rdi]",
	  "R3000+1 R4000+1", "rsi+1@3 rdi+1@3 rcx-1@3" },
	{ "rep stosb", "f3aa", 0x400000, "rcx=0", "rep stosb byte ptr [rdi], al", "", "" },
	{ "lodsw", "66ad", 0x400000, NULL, "lodsw ax, word ptr [rsi]", "R3000+2", "rsi+2@2" },
	{ "scasd", "af", 0x400000, NULL, "scasd eax, dword ptr [rdi]", "R4000+4", "rdi+4@2" },
};

#define M68K_BASE "a0=0x2000 a1=0x3000 a2=0x4000 a6=0x9000 a7=0x8000 d1=0xfffe"

static const struct golden m68k_golden[] = {
	{ "move.l (%a0)+,(%a1)+", "22d8", 0x1000, NULL, "move.l (a0)+, (a1)+", "R2000+4 W3000+4",
	  "a0+4@2 a1+4@3" },
	/* A byte on A7 steps by 2 and stays even. */
	{ "move.b %d0,-(%a7)", "1f00", 0x1000, NULL, "move.b d0, -(a7)", "W7ffe+1", "a7-2@1" },
	{ "move.b (%a7)+,%d0", "101f", 0x1000, NULL, "move.b (a7)+, d0", "R8000+1", "a7+2@2" },
	{ "move.b (%a0)+,%d0", "1018", 0x1000, NULL, "move.b (a0)+, d0", "R2000+1", "a0+1@2" },
	{ "move.w -(%a2),%d1", "3222", 0x1000, NULL, "move.w -(a2), d1", "R3ffe+2", "a2-2@1" },
	{ "movem.l %d0-%d3/%a0,-(%a7)", "48e7f080", 0x1000, NULL, "movem.l d0-d3/a0, -(a7)",
	  "W7ffc+4 W7ff8+4 W7ff4+4 W7ff0+4 W7fec+4", "a7-4@1 a7-4@2 a7-4@3 a7-4@4 a7-4@5" },
	{ "movem.l (%a7)+,%d0-%d3/%a0", "4cdf010f", 0x1000, NULL, "movem.l (a7)+, d0-d3/a0",
	  "R8000+4 R8004+4 R8008+4 R800c+4 R8010+4", "a7+4@2 a7+4@3 a7+4@4 a7+4@5 a7+4@6" },
	{ "movem.w %d0/%a1,(%a3)", "48930201", 0x1000, "a3=0x5000", "movem.w d0/a1, (a3)",
	  "W5000+2 W5002+2", "" },
	{ "add.l %d0,(%a0)+", "d198", 0x1000, NULL, "add.l d0, (a0)+", "RW2000+4", "a0+4@2" },
	{ "move.l 4(%a0,%d1.w),%d0", "20301004", 0x1000, NULL, "move.l $4(a0, d1.w), d0", "R2002+4", "" },
	{ "move.l 8(%a0),%d0", "20280008", 0x1000, NULL, "move.l $8(a0), d0", "R2008+4", "" },
	{ "move.l 0x1234,%d0", "20381234", 0x1000, NULL, "move.l $1234.w, d0", "R1234+4", "" },
	{ "move.l 8(%pc),%d0", "203a0008", 0x1000, NULL, "move.l $100a(pc), d0", "R100a+4", "" },
	{ "cmpm.b (%a0)+,(%a1)+", "b308", 0x1000, NULL, "cmpm.b (a0)+, (a1)+", "R2000+1 R3000+1",
	  "a0+1@2 a1+1@3" },
	{ "addx.l -(%a0),-(%a1)", "d388", 0x1000, NULL, "addx.l -(a0), -(a1)", "R1ffc+4 RW2ffc+4",
	  "a0-4@1 a1-4@2" },
	{ "move.b (%a7)+,-(%a7)", "1f1f", 0x1000, NULL, "move.b (a7)+, -(a7)", "R8000+1 W8000+1",
	  "a7+2@2 a7-2@2" },
	{ "clr.l (%a0)+", "4298", 0x1000, NULL, "clr.l (a0)+", "W2000+4", "a0+4@2" },
	{ "tst.w (%a0)", "4a50", 0x1000, NULL, "tst.w (a0)", "R2000+2", "" },
	{ "jsr (%a0)", "4e90", 0x1000, NULL, "jsr (a0)", "W7ffc+4", "a7-4@1" },
	{ "rts", "4e75", 0x1000, NULL, "rts", "R8000+4", "a7+4@2" },
	{ "pea (%a0)", "4850", 0x1000, NULL, "pea.l (a0)", "W7ffc+4", "a7-4@1" },
	{ "link %a6,#-8", "4e56fff8", 0x1000, NULL, "link.w a6, #$fff8", "W7ffc+4",
	  "a7-4@1 a6-1004@2 a7-8@2" },
	{ "unlk %a6", "4e5e", 0x1000, NULL, "unlk a6", "R9000+4", "a7+1000@1 a7+4@2" },
	{ "lea 4(%a0),%a1", "43e80004", 0x1000, NULL, "lea.l $4(a0), a1", "", "" },
};

#define ARM_BASE "r0=0x8000 r1=0x1000 r2=4 sp=0x9000"

static const struct golden arm_golden[] = {
	{ "ldr r0, [r1, #4]!", "0400b1e5", 0x100, NULL, "ldr r0, [r1, #4]!", "R1004+4", "r1+4@1" },
	{ "ldr r0, [r1], #4", "040091e4", 0x100, NULL, "ldr r0, [r1], #4", "R1000+4", "r1+4@1" },
	{ "ldr r0, [r1], #-4", "040011e4", 0x100, NULL, "ldr r0, [r1], #-4", "R1000+4", "r1-4@1" },
	{ "ldr r0, [r1, -r2, lsl #2]!", "020131e7", 0x100, NULL, "ldr r0, [r1, -r2, lsl #2]!",
	  "Rff0+4", "r1-10@1" },
	{ "ldr r0, [r1], -r2, lsl #2", "020111e6", 0x100, NULL, "ldr r0, [r1], -r2, lsl #2",
	  "R1000+4", "r1-10@1" },
	{ "str r0, [r1, #-8]", "080001e5", 0x100, NULL, "str r0, [r1, #-8]", "Wff8+4", "" },
	{ "strb r0, [r1, #-1]!", "010061e5", 0x100, NULL, "strb r0, [r1, #-1]!", "Wfff+1", "r1-1@1" },
	{ "ldrh r0, [r1, #2]!", "b200f1e1", 0x100, NULL, "ldrh r0, [r1, #2]!", "R1002+2", "r1+2@1" },
	{ "ldrd r2, r3, [r1, #8]!", "d820e1e1", 0x100, NULL, "ldrd r2, r3, [r1, #8]!",
	  "R1008+4 R100c+4", "r1+8@1" },
	{ "strd r2, r3, [r1], #-8", "f82041e0", 0x100, NULL, "strd r2, r3, [r1], #-8",
	  "W1000+4 W1004+4", "r1-8@1" },
	{ "ldrt r0, [r1], #4", "0400b1e4", 0x100, NULL, "ldrt r0, [r1], #4", "R1000+4", "r1+4@1" },
	{ "ldr r0, [pc, #8]", "08009fe5", 0x100, NULL, "ldr r0, [pc, #8]", "R110+4", "" },
	{ "ldmia r0!, {r1-r4}", "1e00b0e8", 0x100, NULL, "ldm r0!, {r1, r2, r3, r4}",
	  "R8000+4 R8004+4 R8008+4 R800c+4", "r0+10@1" },
	{ "ldmda r0!, {r1, r2}", "060030e8", 0x100, NULL, "ldmda r0!, {r1, r2}", "R7ffc+4 R8000+4",
	  "r0-8@1" },
	{ "stmib r0!, {r1, r2}", "0600a0e9", 0x100, NULL, "stmib r0!, {r1, r2}", "W8004+4 W8008+4",
	  "r0+8@1" },
	{ "ldm r0, {r1, r2}", "060090e8", 0x100, NULL, "ldm r0, {r1, r2}", "R8000+4 R8004+4", "" },
	{ "stmdb sp!, {r4-r6, lr}", "70402de9", 0x100, NULL, "push {r4, r5, r6, lr}",
	  "W8ff0+4 W8ff4+4 W8ff8+4 W8ffc+4", "sp-10@1" },
	{ "pop {r4, pc}", "1080bde8", 0x100, NULL, "pop {r4, pc}", "R9000+4 R9004+4", "sp+8@1" },
	{ "swp r0, r1, [r2]", "910002e1", 0x100, NULL, "swp r0, r1, [r2]", "RW4+4", "" },
	/* Z clear: the condition fails, nothing is accessed or written back. */
	{ "ldreq r0, [r1, #4]!", "0400b105", 0x100, NULL, "ldreq r0, [r1, #4]!", "", "" },
	{ "ldreq r0, [r1, #4]!", "0400b105", 0x100, "cpsr=0x40000000", "ldreq r0, [r1, #4]!",
	  "R1004+4", "r1+4@1" },
};

#define ARM64_BASE "x0=0x5000 x1=0x1000 x2=0x10 x3=0x2000 sp=0x9000"

static const struct golden arm64_golden[] = {
	{ "ldr x0, [x1, #8]!", "208c40f8", 0x1000, NULL, "ldr x0, [x1, #8]!", "R1008+8", "x1+8@2" },
	{ "ldr x0, [x1], #8", "208440f8", 0x1000, NULL, "ldr x0, [x1], #8", "R1000+8", "x1+8@2" },
	{ "ldr x0, [x1], #-16", "20045ff8", 0x1000, NULL, "ldr x0, [x1], #0xfffffffffffffff0",
	  "R1000+8", "x1-10@2" },
	{ "str w0, [x1, #-4]!", "20cc1fb8", 0x1000, NULL, "str w0, [x1, #-4]!", "Wffc+4", "x1-4@2" },
	{ "ldp x29, x30, [sp], #16", "fd7bc1a8", 0x1000, NULL, "ldp x29, x30, [sp], #0x10",
	  "R9000+8 R9008+8", "sp+10@3" },
	{ "stp x29, x30, [sp, #-32]!", "fd7bbea9", 0x1000, NULL, "stp x29, x30, [sp, #-0x20]!",
	  "W8fe0+8 W8fe8+8", "sp-20@3" },
	{ "ldp w1, w2, [x3, #8]", "61084129", 0x1000, NULL, "ldp w1, w2, [x3, #8]", "R2008+4 R200c+4", "" },
	{ "ldr x0, [x1, x2, lsl #3]", "207862f8", 0x1000, NULL, "ldr x0, [x1, x2, lsl #3]", "R1080+8", "" },
	{ "ldr w0, [x1, w2, sxtw #2]", "20d862b8", 0x1000, "x2=0xfffffff0", "ldr w0, [x1, w2, sxtw #2]",
	  "Rfc0+4", "" },
	{ "ldrb w0, [x1], #1", "20144038", 0x1000, NULL, "ldrb w0, [x1], #1", "R1000+1", "x1+1@2" },
	{ "ldrsh x0, [x1, #2]!", "202c8078", 0x1000, NULL, "ldrsh x0, [x1, #2]!", "R1002+2", "x1+2@2" },
	{ "ldr q0, [x1], #16", "2004c13c", 0x1000, NULL, "ldr q0, [x1], #0x10", "R1000+16", "x1+10@2" },
	{ "ldr x0, .+32", "00010058", 0x1000, NULL, "ldr x0, #0x1020", "R1020+8", "" },
	{ "ld1 {v0.16b}, [x0], #16", "0070df4c", 0x1000, NULL, "ld1 {v0.16b}, [x0], #0x10", "R5000+16",
	  "x0+10@2" },
	{ "ld1 {v0.4s, v1.4s}, [x0], x2", "00a8c24c", 0x1000, NULL, "ld1 {v0.4s, v1.4s}, [x0], x2",
	  "R5000+16 R5010+16", "x0+10@3" },
	{ "ldpsw x0, x1, [x2], #8", "4004c168", 0x1000, NULL, "ldpsw x0, x1, [x2], #8", "R10+4 R14+4",
	  "x2+8@3" },
	{ "stxr w3, x0, [x1]", "207c03c8", 0x1000, NULL, "stxr w3, x0, [x1]", "W1000+8", "" },
	{ "prfm pldl1keep, [x0]", "000080f9", 0x1000, NULL, "prfm pldl1keep, [x0]", "", "" },
};

/*
 * No 6809 assembler is packaged in Debian 12: these encodings are checked by
 * test_m6809_encodings against the MC6809 data sheet's tables.
 */
#define M6809_BASE "x=0x1000 y=0x2000 u=0x3000 s=0x4000 dp=0x10 a=0xff b=2"

static const struct golden m6809_golden[] = {
	{ NULL, "a680", 0x1000, NULL, "lda , x+", "R1000+1", "x+1@1" },
	{ NULL, "a681", 0x1000, NULL, "lda , x++", "R1000+1", "x+2@1" },
	{ NULL, "a682", 0x1000, NULL, "lda , -x", "Rfff+1", "x-1@1" },
	{ NULL, "e7a3", 0x1000, NULL, "stb , --y", "W1ffe+1", "y-2@1" },
	{ NULL, "a605", 0x1000, NULL, "lda 5, x", "R1005+1", "" },
	{ NULL, "a688f0", 0x1000, NULL, "lda -16, x", "Rff0+1", "" },
	{ NULL, "a6a6", 0x1000, NULL, "lda a, y", "R1fff+1", "" },
	{ NULL, "a691", 0x1000, NULL, "lda [, x++]", "R1000+2 R?+1", "x+2@1" },
	{ NULL, "b61234", 0x1000, NULL, "lda $1234", "R1234+1", "" },
	{ NULL, "9620", 0x1000, NULL, "lda $20", "R1020+1", "" },
	/* Capstone prints the next PC without the offset; the access is right. */
	{ NULL, "a68c10", 0x1000, NULL, "lda $1003, pcr", "R1013+1", "" },
	{ NULL, "ecc1", 0x1000, NULL, "ldd , u++", "R3000+2", "u+2@1" },
	{ NULL, "eda3", 0x1000, NULL, "std , --y", "W1ffe+2", "y-2@1" },
	{ NULL, "6c80", 0x1000, NULL, "inc , x+", "RW1000+1", "x+1@1" },
	{ NULL, "3416", 0x1000, NULL, "pshs a, b, x", "W3ffe+2 W3ffd+1 W3ffc+1", "s-2@1 s-1@2 s-1@3" },
	{ NULL, "3516", 0x1000, NULL, "puls a, b, x", "R4000+1 R4001+1 R4002+2", "s+1@2 s+1@3 s+2@4" },
	{ NULL, "3610", 0x1000, NULL, "pshu x", "W2ffe+2", "u-2@1" },
	{ NULL, "bd1234", 0x1000, NULL, "jsr $1234", "W3ffe+2", "s-2@1" },
	{ NULL, "39", 0x1000, NULL, "rts", "R4000+2", "s+2@2" },
};

#define SET(arch_, base_, g_) { arch_, base_, g_, sizeof(g_) / sizeof(g_[0]) }
static const struct golden_set golden_sets[] = {
	SET("x86-64", X86_BASE, x86_golden),
	SET("m68k", M68K_BASE, m68k_golden),
	SET("arm", ARM_BASE, arm_golden),
	SET("arm64", ARM64_BASE, arm64_golden),
	SET("m6809", M6809_BASE, m6809_golden),
};

static const struct golden_set *find_set(const char *arch)
{
	for (size_t i = 0; i < sizeof(golden_sets) / sizeof(golden_sets[0]); i++)
		if (strcmp(golden_sets[i].arch, arch) == 0)
			return &golden_sets[i];
	return NULL;
}

static void golden_regs(const struct golden_set *s, const struct golden *g, struct isa_regs *regs)
{
	enum isa_arch arch = arch_of(s->arch);

	memset(regs, 0, sizeof(*regs));
	set_regs(arch, regs, s->base_regs);
	set_regs(arch, regs, g->regs);
}

static void check_golden_set(const char *arch_name)
{
	const struct golden_set *s = find_set(arch_name);
	enum isa_arch arch = arch_of(arch_name);
	unsigned bad = 0;

	CU_ASSERT_FATAL(s != NULL);
	for (size_t i = 0; i < s->n; i++) {
		const struct golden *g = &s->g[i];
		struct isa_regs regs;
		struct isa_insn in;
		char acc[512], eff[256];

		golden_regs(s, g, &regs);
		if (decode(arch, g->hex, g->pc, &regs, &in) != ISA_OK) {
			printf("\n  %s %s: does not decode", arch_name, g->hex);
			bad++;
			continue;
		}
		fmt_accesses(&in, acc, sizeof(acc));
		fmt_effects(&in, eff, sizeof(eff));
		/* The fetch is always access 0: the instruction's own bytes. */
		if (strcmp(in.text, g->text) != 0 || strcmp(acc, g->accesses) != 0 ||
		    strcmp(eff, g->effects) != 0 || in.access[0].kind != ISA_ACC_FETCH ||
		    in.access[0].addr != g->pc || in.access[0].size != strlen(g->hex) / 2 ||
		    in.len != strlen(g->hex) / 2) {
			printf("\n  %s %s: got '%s' [%s] {%s}, want '%s' [%s] {%s}", arch_name, g->hex,
			       in.text, acc, eff, g->text, g->accesses, g->effects);
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_golden_x86(void) { check_golden_set("x86-64"); }
static void test_golden_m68k(void) { check_golden_set("m68k"); }
static void test_golden_arm(void) { check_golden_set("arm"); }
static void test_golden_arm64(void) { check_golden_set("arm64"); }
static void test_golden_m6809(void) { check_golden_set("m6809"); }

/* ---- encodings against GNU as ----------------------------------------- */

struct assembler {
	const char *arch;
	const char *as;      /* assembler command */
	const char *objcopy;
	const char *prologue;
};

static const struct assembler assemblers[] = {
	{ "x86-64", "as --64", "objcopy", ".intel_syntax noprefix" },
	{ "m68k", "m68k-linux-gnu-as -m68000", "m68k-linux-gnu-objcopy", "" },
	{ "arm", "arm-linux-gnueabi-as -march=armv5te", "arm-linux-gnueabi-objcopy", ".arm" },
	{ "arm64", "aarch64-linux-gnu-as", "aarch64-linux-gnu-objcopy", "" },
};

static void check_encodings(const char *arch_name)
{
	const struct golden_set *s = find_set(arch_name);
	const struct assembler *as = NULL;
	char line[256], *src, obj[600], bin[600];
	struct cmd_result r;
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(assemblers) / sizeof(assemblers[0]); i++)
		if (strcmp(assemblers[i].arch, arch_name) == 0)
			as = &assemblers[i];
	CU_ASSERT_FATAL(s != NULL && as != NULL);
	snprintf(line, sizeof(line), "%s", as->as);
	line[strcspn(line, " ")] = '\0'; /* the command without its options */
	r = run_shell("command -v %s", line);
	if (r.status != 0) {
		test_skip("%s not installed (Debian: see tools/install-deps)", line);
		cmd_result_free(&r);
		return;
	}
	cmd_result_free(&r);
	for (size_t i = 0; i < s->n; i++) {
		const struct golden *g = &s->g[i];
		FILE *f;
		uint8_t got[64];
		size_t n = 0;
		char hex[130] = "";

		snprintf(line, sizeof(line), "%s\n%s\n", as->prologue, g->src);
		src = write_file("isa.s", line);
		snprintf(obj, sizeof(obj), "%s/isa.o", scratch_dir());
		snprintf(bin, sizeof(bin), "%s/isa.bin", scratch_dir());
		r = run_shell("%s -o '%s' '%s' && %s -O binary -j .text '%s' '%s'", as->as, obj, src,
			      as->objcopy, obj, bin);
		if (r.status == 0 && (f = fopen(bin, "rb")) != NULL) {
			n = fread(got, 1, sizeof(got), f);
			fclose(f);
		}
		for (size_t k = 0; k < n; k++)
			snprintf(hex + 2 * k, sizeof(hex) - 2 * k, "%02x", got[k]);
		if (r.status != 0 || strcmp(hex, g->hex) != 0) {
			printf("\n  %s '%s': as gives '%s' %s, table says %s", arch_name, g->src, hex,
			       r.err, g->hex);
			bad++;
		}
		cmd_result_free(&r);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_encodings_x86(void) { check_encodings("x86-64"); }
static void test_encodings_m68k(void) { check_encodings("m68k"); }
static void test_encodings_arm(void) { check_encodings("arm"); }
static void test_encodings_arm64(void) { check_encodings("arm64"); }

/*
 * MC6809 data sheet: opcode map (LDA indexed $A6, extended $B6, direct $96;
 * STB indexed $E7; LDD indexed $EC; STD indexed $ED; INC indexed $6C; PSHS
 * $34; PULS $35; PSHU $36; JSR extended $BD; RTS $39) and "Indexed
 * Addressing Postbyte Register Bit Assignments": 1 RR I TTTT with RR = X 00,
 * Y 01, U 10, S 11; I = indirect; TTTT = 0000 ,R+  0001 ,R++  0010 ,-R
 * 0011 ,--R  0110 A,R  1000 n8,R  1100 n8,PCR; 0 RR nnnnn is a 5-bit
 * offset. Push/pull postbyte: bit 0 CC, 1 A, 2 B, 3 DP, 4 X, 5 Y, 6 S/U, 7 PC.
 */
static uint8_t postbyte(unsigned rr, bool indirect, unsigned type)
{
	return (uint8_t)(0x80 | rr << 5 | (indirect ? 0x10 : 0) | type);
}

static void test_m6809_encodings(void)
{
	enum { X = 0, Y = 1, U = 2 };
	const struct { const char *hex; uint8_t op, post; } t[] = {
		{ "a680", 0xa6, postbyte(X, false, 0x0) },
		{ "a681", 0xa6, postbyte(X, false, 0x1) },
		{ "a682", 0xa6, postbyte(X, false, 0x2) },
		{ "e7a3", 0xe7, postbyte(Y, false, 0x3) },
		{ "a605", 0xa6, (uint8_t)(X << 5 | 5) },
		{ "a688f0", 0xa6, postbyte(X, false, 0x8) },
		{ "a6a6", 0xa6, postbyte(Y, false, 0x6) },
		{ "a691", 0xa6, postbyte(X, true, 0x1) },
		{ "a68c10", 0xa6, postbyte(X, false, 0xc) },
		{ "ecc1", 0xec, postbyte(U, false, 0x1) },
		{ "eda3", 0xed, postbyte(Y, false, 0x3) },
		{ "6c80", 0x6c, postbyte(X, false, 0x0) },
		{ "3416", 0x34, 0x02 | 0x04 | 0x10 },
		{ "3516", 0x35, 0x02 | 0x04 | 0x10 },
		{ "3610", 0x36, 0x10 },
	};
	unsigned checked = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t b[8];

		CU_ASSERT_TRUE(unhex(t[i].hex, b) >= 2);
		CU_ASSERT_EQUAL(b[0], t[i].op);
		CU_ASSERT_EQUAL(b[1], t[i].post);
		/* And every one of them is in the golden table. */
		for (size_t g = 0; g < sizeof(m6809_golden) / sizeof(m6809_golden[0]); g++)
			checked += strcmp(m6809_golden[g].hex, t[i].hex) == 0;
	}
	CU_ASSERT_EQUAL(checked, sizeof(t) / sizeof(t[0]));
}

/* A kept decoder gives what isa_decode() gives, instruction after instruction. */
static void test_decoder_reuse(void)
{
	const struct golden_set *s = find_set("m68k");
	struct isa_decoder *dec = isa_decoder_new(ISA_M68K);
	unsigned bad = 0;

	CU_ASSERT_FATAL(dec != NULL && s != NULL);
	for (size_t i = 0; i < s->n; i++) {
		struct isa_regs regs;
		struct isa_insn a, b;
		uint8_t bytes[32];
		size_t n = unhex(s->g[i].hex, bytes);
		char acc_a[512], acc_b[512], eff_a[256], eff_b[256];

		golden_regs(s, &s->g[i], &regs);
		CU_ASSERT_EQUAL_FATAL(isa_decoder_run(dec, bytes, n, s->g[i].pc, &regs, &a), ISA_OK);
		CU_ASSERT_EQUAL_FATAL(isa_decode(ISA_M68K, bytes, n, s->g[i].pc, &regs, &b), ISA_OK);
		fmt_accesses(&a, acc_a, sizeof(acc_a));
		fmt_accesses(&b, acc_b, sizeof(acc_b));
		fmt_effects(&a, eff_a, sizeof(eff_a));
		fmt_effects(&b, eff_b, sizeof(eff_b));
		bad += strcmp(a.text, b.text) != 0 || strcmp(acc_a, acc_b) != 0 ||
		       strcmp(eff_a, eff_b) != 0 || strcmp(acc_a, s->g[i].accesses) != 0;
	}
	/* And an error leaves the decoder usable. */
	{
		struct isa_regs regs = { { 0 } };
		struct isa_insn in;

		CU_ASSERT_EQUAL(isa_decoder_run(dec, (const uint8_t *)"\xff\xff", 2, 0, &regs, &in),
				ISA_ERR_INVALID);
		CU_ASSERT_EQUAL(isa_decoder_run(dec, (const uint8_t *)"\x22\xd8", 2, 0, &regs, &in), ISA_OK);
		CU_ASSERT_STRING_EQUAL(in.text, "move.l (a0)+, (a1)+");
	}
	isa_decoder_free(dec);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_PTR_NULL(isa_decoder_new(ISA_ARCH_COUNT));
}

/* ---- errors ------------------------------------------------------------- */

static void test_invalid_and_truncated(void)
{
	struct isa_regs regs = { { 0 } };
	struct isa_insn in;

	CU_ASSERT_EQUAL(decode(ISA_X86_64, "0f0b", 0, &regs, &in), ISA_OK); /* ud2 is valid */
	CU_ASSERT_EQUAL(decode(ISA_X86_64, "06", 0, &regs, &in), ISA_ERR_INVALID); /* push es: not in 64-bit */
	CU_ASSERT_EQUAL(decode(ISA_X86_64, "48", 0, &regs, &in), ISA_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(decode(ISA_X86_64, "488b05000001", 0, &regs, &in), ISA_ERR_TRUNCATED);
	/* Capstone's m68k decoder makes up missing words: caught as truncated. */
	CU_ASSERT_EQUAL(decode(ISA_M68K, "0000", 0, &regs, &in), ISA_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(decode(ISA_M68K, "ffff", 0, &regs, &in), ISA_ERR_INVALID);
	CU_ASSERT_EQUAL(decode(ISA_ARM, "0400b1", 0, &regs, &in), ISA_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(decode(ISA_ARM, "ffffffff", 0, &regs, &in), ISA_ERR_INVALID);
	CU_ASSERT_EQUAL(decode(ISA_ARM64, "ffffffff", 0, &regs, &in), ISA_ERR_INVALID);
	CU_ASSERT_EQUAL(decode(ISA_M6809, "01", 0, &regs, &in), ISA_ERR_INVALID);
	CU_ASSERT_EQUAL(decode(ISA_M6809, "a6", 0, &regs, &in), ISA_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(isa_decode(ISA_ARCH_COUNT, (const uint8_t *)"\x90", 1, 0, &regs, &in), ISA_ERR_ARCH);
	CU_ASSERT_EQUAL(isa_arch_from_name("vax"), ISA_ERR_ARCH);
	CU_ASSERT_EQUAL(isa_reg_set(ISA_M6809, &regs, "x", 0x10000), ISA_ERR_RANGE);
	CU_ASSERT_EQUAL(isa_reg_set(ISA_M68K, &regs, "rax", 1), ISA_ERR_RANGE);
	CU_ASSERT_EQUAL(isa_reg_set(ISA_M6809, &regs, "d", 0x1234), ISA_OK);
	CU_ASSERT_EQUAL(regs.r[isa_reg_lookup(ISA_M6809, "a")], 0x12);
	CU_ASSERT_EQUAL(regs.r[isa_reg_lookup(ISA_M6809, "b")], 0x34);
	CU_ASSERT_EQUAL(isa_reg_lookup(ISA_ARM, "lr"), 14);
	CU_ASSERT_EQUAL(isa_reg_lookup(ISA_M68K, "sp"), 15);
}

/* ---- fault matching ----------------------------------------------------- */

static struct x86_regs x86_base_regs(void)
{
	return (struct x86_regs){ .rsp = 0x8000, .rflags = 2 };
}

static void test_match_straddle(void)
{
	struct x86_regs r = x86_base_regs();
	struct isa_insn in;
	struct isa_fault_match m;
	struct isa_fault f = { .page_size = 4096 };
	/* mov rax, [rbx]: 8 bytes at 0x1ffc straddle 0x2000. */
	const uint8_t mov[] = { 0x48, 0x8b, 0x03 };
	struct isa_span parts[2];

	r.rbx = 0x1ffc;
	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(mov, sizeof(mov), 0x400000, &r, &in), ISA_OK);
	CU_ASSERT_EQUAL_FATAL(in.n_access, 2);
	CU_ASSERT_EQUAL(isa_access_split(&in.access[1], 4096, parts), 2);
	CU_ASSERT_EQUAL(parts[0].addr, 0x1ffc);
	CU_ASSERT_EQUAL(parts[0].size, 4);
	CU_ASSERT_EQUAL(parts[1].addr, 0x2000);
	CU_ASSERT_EQUAL(parts[1].size, 4);
	/* Only the second page missing: CR2 is its first byte. */
	f.addr = 0x2000;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, 1);
	CU_ASSERT_EQUAL(m.part, 1);
	CU_ASSERT_EQUAL(m.part_addr, 0x2000);
	CU_ASSERT_EQUAL(m.part_size, 4);
	CU_ASSERT_TRUE(m.exact);
	f.addr = 0x1ffd;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.part, 0);
	/* A write fault cannot come from a load. */
	f.kind = ISA_ACC_WRITE;
	CU_ASSERT_EQUAL(isa_match_fault(&in, &f, &m), ISA_ERR_NOMATCH);
	f.kind = 0;
	f.addr = 0x5000;
	CU_ASSERT_EQUAL(isa_match_fault(&in, &f, &m), ISA_ERR_NOMATCH);
	/* Same page, not inside: matched by page. */
	f.addr = 0x2800;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, 1);
	CU_ASSERT_EQUAL(m.part, 1);
	CU_ASSERT_FALSE(m.exact);
}

static void test_match_fetch_straddle(void)
{
	struct x86_regs r = x86_base_regs();
	struct isa_insn in;
	struct isa_fault_match m;
	/* mov rax, [rip+0x100] (7 bytes) at 0x3ffd: bytes 3..6 on the next page. */
	const uint8_t mov[] = { 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 };
	struct isa_fault f = { .addr = 0x4000, .page_size = 4096 };

	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(mov, sizeof(mov), 0x3ffd, &r, &in), ISA_OK);
	CU_ASSERT_EQUAL(in.access[1].addr, 0x3ffd + 7 + 0x100);
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, 0);
	CU_ASSERT_EQUAL(m.part, 1);
	CU_ASSERT_EQUAL(m.part_addr, 0x4000);
	CU_ASSERT_EQUAL(m.part_size, 4);
	/* The fetch comes first: the data on that page faults only after it. */
	f.addr = 0x4104;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, 1);
	f.kind = ISA_ACC_FETCH;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, 0);
	CU_ASSERT_FALSE(m.exact);
}

static void test_match_movsb_two_pages(void)
{
	struct x86_regs r = x86_base_regs();
	struct isa_insn in;
	struct isa_fault_match m;
	const uint8_t movsb[] = { 0xa4 };
	struct isa_fault f = { .page_size = 4096 };

	r.rsi = 0x10010;
	r.rdi = 0x20020;
	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(movsb, 1, 0x400000, &r, &in), ISA_OK);
	f.addr = 0x10010;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, in.str.src_access);
	CU_ASSERT_EQUAL(in.access[m.access].kind, ISA_ACC_READ);
	f.addr = 0x20020;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, in.str.dst_access);
	CU_ASSERT_EQUAL(in.access[m.access].kind, ISA_ACC_WRITE);
	CU_ASSERT_EQUAL(m.done, 0);
	/* Not a rep: one iteration only, the next element is no match. */
	f.addr = 0x20021;
	CU_ASSERT_EQUAL(isa_match_fault(&in, &f, &m), ISA_OK); /* same page */
	CU_ASSERT_FALSE(m.exact);
}

static void test_match_rep_movsb_progress(void)
{
	struct x86_regs r = x86_base_regs();
	struct isa_insn in;
	struct isa_fault_match m;
	const uint8_t rep_movsb[] = { 0xf3, 0xa4 };
	struct isa_fault f = { .page_size = 4096 };

	r.rcx = 0x100;
	r.rsi = 0x1f80;
	r.rdi = 0x5000;
	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(rep_movsb, 2, 0x400000, &r, &in), ISA_OK);
	CU_ASSERT_TRUE(in.str.rep);
	CU_ASSERT_EQUAL(in.str.count, 0x100);
	/* The source crosses into page 0x2000 after 0x80 bytes. */
	f.addr = 0x2000;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_TRUE(m.string);
	CU_ASSERT_EQUAL(m.access, in.str.src_access);
	CU_ASSERT_EQUAL(m.done, 0x80);
	CU_ASSERT_EQUAL(m.rcx, 0x80);
	CU_ASSERT_EQUAL(m.rsi, 0x2000);
	CU_ASSERT_EQUAL(m.rdi, 0x5080);
	/* Past the last iteration: not inside, only on the page of the first. */
	f.addr = 0x5100;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_FALSE(m.exact);
	CU_ASSERT_EQUAL(m.done, 0);
	f.addr = 0x6000;
	CU_ASSERT_EQUAL(isa_match_fault(&in, &f, &m), ISA_ERR_NOMATCH);
	f.addr = 0x50ff;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.done, 0xff);
	CU_ASSERT_EQUAL(m.rcx, 1);
	/* DF set: down from 0x2010; the first byte below 0x2000 is 0x1fff. */
	r.rflags = 2 | X86_RFLAGS_DF;
	r.rsi = 0x2010;
	r.rdi = 0x9000;
	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(rep_movsb, 2, 0x400000, &r, &in), ISA_OK);
	f.addr = 0x1234; /* page only: the stream enters page 0x1000 at 0x1fff */
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_FALSE(m.exact);
	CU_ASSERT_EQUAL(m.done, 0x11);
	CU_ASSERT_EQUAL(m.rsi, 0x1fff);
	CU_ASSERT_EQUAL(m.rdi, 0x9000 - 0x11);
	CU_ASSERT_EQUAL(m.rcx, 0x100 - 0x11);
}

static void test_match_rep_movsq_straddle(void)
{
	struct x86_regs r = x86_base_regs();
	struct isa_insn in;
	struct isa_fault_match m;
	const uint8_t rep_movsq[] = { 0xf3, 0x48, 0xa5 };
	struct isa_fault f = { .addr = 0x3000, .page_size = 4096 };

	/* Misaligned quadwords: element 1 is 0x2ffc..0x3003. */
	r.rcx = 4;
	r.rsi = 0x2ff4;
	r.rdi = 0x8000;
	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(rep_movsq, 3, 0x400000, &r, &in), ISA_OK);
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.done, 1);
	CU_ASSERT_EQUAL(m.part, 1);
	CU_ASSERT_EQUAL(m.part_addr, 0x3000);
	CU_ASSERT_EQUAL(m.part_size, 4);
	CU_ASSERT_EQUAL(m.rsi, 0x2ffc);
	CU_ASSERT_EQUAL(m.rcx, 3);
}

/* A translator: linear page L maps to physical L + 0x100000, except 0x7000. */
static int fake_translate(void *ctx, uint64_t linear, uint64_t *phys)
{
	unsigned *calls = ctx;

	(*calls)++;
	if ((linear & ~0xfffull) == 0x7000)
		return -1;
	*phys = linear + 0x100000;
	return 0;
}

static void test_match_translated(void)
{
	struct x86_regs r = x86_base_regs();
	struct isa_insn in;
	struct isa_fault_match m;
	const uint8_t rep_stosb[] = { 0xf3, 0xaa };
	unsigned calls = 0;
	struct isa_translator xl = { fake_translate, &calls };
	struct isa_fault f = { .page_size = 4096, .xlat = &xl };

	r.rcx = 0x3000;
	r.rdi = 0x4800;
	CU_ASSERT_EQUAL_FATAL(isa_x86_accesses(rep_stosb, 2, 0x400000, &r, &in), ISA_OK);
	/* Guest-physical 0x106000 is linear 0x6000: 0x1800 bytes stored before it. */
	f.addr = 0x106000;
	CU_ASSERT_EQUAL_FATAL(isa_match_fault(&in, &f, &m), ISA_OK);
	CU_ASSERT_EQUAL(m.access, in.str.dst_access);
	CU_ASSERT_EQUAL(m.done, 0x1800);
	CU_ASSERT_EQUAL(m.rdi, 0x6000);
	CU_ASSERT_TRUE(calls > 0);
	/* A physical page nothing maps to. */
	f.addr = 0x9000;
	CU_ASSERT_EQUAL(isa_match_fault(&in, &f, &m), ISA_ERR_NOMATCH);
}

/* Property: for a random rep movs and a random iteration k, the fault names k. */
static void test_match_rep_property(void)
{
	const uint8_t forms[][3] = { { 0xf3, 0xa4 }, { 0xf3, 0xa5 }, { 0xf3, 0x48, 0xa5 } };
	const size_t lens[] = { 2, 2, 3 };
	unsigned bad = 0;

	for (unsigned t = 0; t < 2000; t++) {
		unsigned fi = (unsigned)(rnd() % 3);
		struct x86_regs r = x86_base_regs();
		struct isa_insn in;
		struct isa_fault_match m;
		struct isa_fault f = { .page_size = 4096 };
		bool down = rnd() & 1, src = rnd() & 1;
		uint64_t k, elem;

		r.rflags = 2 | (down ? X86_RFLAGS_DF : 0);
		r.rcx = 1 + rnd() % 5000;
		/* Source and destination far apart: no page is shared. */
		r.rsi = 0x10000000 + rnd() % 0x1000000;
		r.rdi = 0x40000000 + rnd() % 0x1000000;
		if (isa_x86_accesses(forms[fi], lens[fi], 0x400000, &r, &in) != ISA_OK) {
			bad++;
			continue;
		}
		elem = in.str.elem;
		k = rnd() % r.rcx;
		f.addr = (src ? r.rsi : r.rdi) + (down ? -k * elem : k * elem) + rnd() % elem;
		if (isa_match_fault(&in, &f, &m) != ISA_OK || !m.exact || m.done != k ||
		    m.rcx != r.rcx - k || m.rsi != r.rsi + (down ? -k * elem : k * elem) ||
		    m.rdi != r.rdi + (down ? -k * elem : k * elem) ||
		    m.access != (src ? in.str.src_access : in.str.dst_access))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- backup plans ------------------------------------------------------- */

static void random_regs(enum isa_arch arch, struct isa_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	for (unsigned i = 0; i < isa_reg_count(arch); i++) {
		unsigned bits = isa_reg_bits(arch, i);

		regs->r[i] = bits >= 64 ? rnd() : rnd() & ((1ull << bits) - 1);
	}
}

/*
 * Property: run the instruction's side effects up to a fault on access k,
 * then the backup plan: the registers are back to what they were.
 */
static void test_backup_restores_property(void)
{
	unsigned bad = 0, checked = 0, op0 = 0;

	for (size_t s = 0; s < sizeof(golden_sets) / sizeof(golden_sets[0]); s++) {
		enum isa_arch arch = arch_of(golden_sets[s].arch);

		for (size_t i = 0; i < golden_sets[s].n; i++) {
			for (unsigned t = 0; t < 50; t++) {
				struct isa_regs before, regs;
				struct isa_insn in;
				struct isa_fixup fix[ISA_MAX_EFFECTS];

				random_regs(arch, &before);
				if (decode(arch, golden_sets[s].g[i].hex, before.r[isa_reg_pc(arch)], &before,
					   &in) != ISA_OK) {
					bad++;
					continue;
				}
				for (unsigned k = 0; k < in.n_access; k++) {
					int n = isa_backup_plan(&in, k, fix);

					regs = before;
					isa_apply_effects(&in, k, &regs);
					CU_ASSERT_TRUE(n >= 0);
					isa_apply_fixups(arch, fix, n < 0 ? 0 : (unsigned)n, &regs);
					bad += memcmp(&regs, &before, sizeof(regs)) != 0;
					/* A fetch fault never leaves anything to undo. */
					bad += k == 0 && n != 0;
					/* Implicit means no operand of the instruction's
					 * (operand 0 is an operand like any other). */
					bad += in.access[k].implicit != (in.access[k].operand < 0);
					op0 += in.access[k].operand == 0;
					checked++;
				}
				CU_ASSERT_EQUAL(isa_backup_plan(&in, in.n_access, fix), ISA_ERR_RANGE);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_TRUE(checked > 5000);
	CU_ASSERT_TRUE(op0 > 0);
}

/* A plan as "reg-delta" text, e.g. "r1-10 sp+8". */
static void fmt_plan(const struct isa_insn *in, unsigned k, char *buf, size_t len)
{
	struct isa_fixup fix[ISA_MAX_EFFECTS];
	int n = isa_backup_plan(in, k, fix);
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s%c%" PRIx64, o ? " " : "",
				      isa_reg_name(in->arch, fix[i].reg), fix[i].delta < 0 ? '-' : '+',
				      fix[i].delta < 0 ? -(uint64_t)fix[i].delta : (uint64_t)fix[i].delta);
}

/* Golden plans: the classic cases each fault model exists for. */
static void test_backup_golden_plans(void)
{
	static const struct {
		const char *arch, *hex, *regs;
		unsigned k;
		const char *plan;
	} t[] = {
		/* 68000: move.l (a0)+,(a1)+ faulting on the write: a0 moved already. */
		{ "m68k", "22d8", M68K_BASE, 1, "" },
		{ "m68k", "22d8", M68K_BASE, 2, "a0-4" },
		{ "m68k", "d388", M68K_BASE, 1, "a0+4" },
		{ "m68k", "d388", M68K_BASE, 2, "a0+4 a1+4" },
		{ "m68k", "1f00", M68K_BASE, 1, "a7+2" },
		/* move.l (a0)+,-(a0) faulting on the write: +4 then -4, which
		 * cancel; a plan has no fix-up of 0. */
		{ "m68k", "2118", M68K_BASE, 2, "" },
		/* movem to -(a7), third store faults: a7 went down three times. */
		{ "m68k", "48e7f080", M68K_BASE, 3, "a7+c" },
		{ "m68k", "4cdf010f", M68K_BASE, 3, "a7-8" },
		/* ARM base updated: the writeback is there for any data abort. */
		{ "arm", "1e00b0e8", ARM_BASE, 0, "" },
		{ "arm", "1e00b0e8", ARM_BASE, 1, "r0-10" },
		{ "arm", "1e00b0e8", ARM_BASE, 4, "r0-10" },
		{ "arm", "020131e7", ARM_BASE, 1, "r1+10" },
		{ "arm", "040011e4", ARM_BASE, 1, "r1+4" },
		{ "arm", "70402de9", ARM_BASE, 2, "sp+10" },
		{ "arm", "1080bde8", ARM_BASE, 1, "sp-8" },
		{ "arm", "060090e8", ARM_BASE, 1, "" },
		/* AArch64 and x86-64: precise, nothing to undo. */
		{ "arm64", "fd7bbea9", ARM64_BASE, 2, "" },
		{ "arm64", "fd7bc1a8", ARM64_BASE, 1, "" },
		{ "x86-64", "ff742408", X86_BASE, 2, "" },
		{ "x86-64", "f348a5", X86_BASE, 2, "" },
		/* 6809: the index step happens while the address is formed. */
		{ "m6809", "e7a3", M6809_BASE, 1, "y+2" },
		{ "m6809", "a680", M6809_BASE, 1, "x-1" },
		{ "m6809", "3416", M6809_BASE, 2, "s+3" },
		{ "m6809", "3516", M6809_BASE, 3, "s-2" },
	};
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum isa_arch arch = arch_of(t[i].arch);
		struct isa_regs regs = { { 0 } };
		struct isa_insn in;
		char plan[128];

		set_regs(arch, &regs, t[i].regs);
		CU_ASSERT_EQUAL_FATAL(decode(arch, t[i].hex, 0x100, &regs, &in), ISA_OK);
		fmt_plan(&in, t[i].k, plan, sizeof(plan));
		if (strcmp(plan, t[i].plan) != 0) {
			printf("\n  %s %s fault on %u: plan '%s', want '%s'", t[i].arch, t[i].hex, t[i].k,
			       plan, t[i].plan);
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/*
 * Property, independent of the effect list: with random registers, the
 * addresses follow the architecture's addressing rules and the ARM plan is
 * minus the writeback computed here from the encoding's fields.
 */
static void test_addressing_property(void)
{
	unsigned bad = 0;

	for (unsigned t = 0; t < 1000; t++) {
		struct isa_regs r;
		struct isa_insn in;
		char plan[64], want[64];
		uint32_t r1, r2;

		/* m68k move.l (a0)+,(a1)+: read at a0, write at a1. */
		random_regs(ISA_M68K, &r);
		CU_ASSERT_EQUAL_FATAL(decode(ISA_M68K, "22d8", 0, &r, &in), ISA_OK);
		bad += in.access[1].addr != r.r[8] || in.access[2].addr != r.r[9];
		/* m68k addx.l -(a0),-(a1): both predecremented by 4. */
		CU_ASSERT_EQUAL_FATAL(decode(ISA_M68K, "d388", 0, &r, &in), ISA_OK);
		bad += in.access[1].addr != ((r.r[8] - 4) & 0xffffffff) ||
		       in.access[2].addr != ((r.r[9] - 4) & 0xffffffff);
		/* ARM ldr r0,[r1,-r2,lsl #2]!: address and writeback r1 - (r2 << 2). */
		random_regs(ISA_ARM, &r);
		r.r[16] = 0; /* cpsr: condition AL anyway */
		CU_ASSERT_EQUAL_FATAL(decode(ISA_ARM, "020131e7", 0, &r, &in), ISA_OK);
		r1 = (uint32_t)r.r[1];
		r2 = (uint32_t)r.r[2];
		bad += in.access[1].addr != (uint32_t)(r1 - (r2 << 2));
		fmt_plan(&in, 1, plan, sizeof(plan));
		if ((uint32_t)(r2 << 2) == 0)
			snprintf(want, sizeof(want), "%s", "");
		else if ((int32_t)(r2 << 2) > 0 || (r2 << 2) == 0x80000000u)
			snprintf(want, sizeof(want), "r1%c%x", (int32_t)(r2 << 2) > 0 ? '+' : '-',
				 (int32_t)(r2 << 2) > 0 ? (r2 << 2) : 0x80000000u);
		else
			snprintf(want, sizeof(want), "r1-%x", (uint32_t)-(int32_t)(r2 << 2));
		bad += strcmp(plan, want) != 0;
		/* 6809 std ,--y: written at y - 2. */
		random_regs(ISA_M6809, &r);
		CU_ASSERT_EQUAL_FATAL(decode(ISA_M6809, "eda3", 0, &r, &in), ISA_OK);
		bad += in.access[1].addr != ((r.r[3] - 2) & 0xffff);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- pflab decode ------------------------------------------------------- */

static void test_cli_text(void)
{
	struct cmd_result r = run_pflab("decode --arch m68k --hex 22d8 --reg a0=0x2000 --reg a1=0x3000 "
					"--pc 0x1000 --fault-access 2");

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
		"move.l (a0)+, (a1)+\n"
		"arch m68k, 2 bytes at 0x1000, fault model 68000-sequential\n"
		"accesses:\n"
		"   0 fetch      0x1000                2  fetch    implicit\n"
		"   1 read       0x2000                4  operand  op0\n"
		"   2 write      0x3000                4  operand  op1\n"
		"effects:\n"
		"  a0 += 4  before access 2\n"
		"  a1 += 4  after the last access\n"
		"backup plan for a fault on access 2:\n"
		"  a0 -= 4\n");
	cmd_result_free(&r);
}

static void test_cli_rep_fault_addr(void)
{
	struct cmd_result r = run_pflab("decode --arch x86-64 --hex 'f3 a4' --reg rcx=0x100 "
					"--reg rsi=0x1f80 --reg rdi=0x5000 --fault-addr 0x2000");

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "fault at 0x2000: access 1, first page part 0x2000+1 "
					     "(address inside)\n  iteration 128 faulted, 128 done: "
					     "rcx 0x80, rsi 0x2000, rdi 0x5080\n"));
	cmd_result_free(&r);
}

static void test_cli_json(void)
{
	struct cmd_result r = run_pflab("decode --arch arm --hex 1e00b0e8 --reg r0=0x8000 "
					"--fault-access 3 --json");

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
		"{\"arch\": \"arm\", \"pc\": \"0x0\", \"length\": 4, \"bytes\": \"1e00b0e8\", "
		"\"text\": \"ldm r0!, {r1, r2, r3, r4}\", \"model\": \"base-updated\", \"incomplete\": false,\n"
		" \"accesses\": [\n"
		"  {\"index\": 0, \"kind\": \"fetch\", \"addr\": \"0x0\", \"size\": 4, \"role\": \"fetch\", "
		"\"operand\": null, \"implicit\": true, \"pages\": [{\"addr\": \"0x0\", \"size\": 4}]},\n"
		"  {\"index\": 1, \"kind\": \"read\", \"addr\": \"0x8000\", \"size\": 4, \"role\": \"multi\", "
		"\"operand\": 1, \"implicit\": false, \"pages\": [{\"addr\": \"0x8000\", \"size\": 4}]},\n"
		"  {\"index\": 2, \"kind\": \"read\", \"addr\": \"0x8004\", \"size\": 4, \"role\": \"multi\", "
		"\"operand\": 2, \"implicit\": false, \"pages\": [{\"addr\": \"0x8004\", \"size\": 4}]},\n"
		"  {\"index\": 3, \"kind\": \"read\", \"addr\": \"0x8008\", \"size\": 4, \"role\": \"multi\", "
		"\"operand\": 3, \"implicit\": false, \"pages\": [{\"addr\": \"0x8008\", \"size\": 4}]},\n"
		"  {\"index\": 4, \"kind\": \"read\", \"addr\": \"0x800c\", \"size\": 4, \"role\": \"multi\", "
		"\"operand\": 4, \"implicit\": false, \"pages\": [{\"addr\": \"0x800c\", \"size\": 4}]}],\n"
		" \"effects\": [{\"reg\": \"r0\", \"delta\": 16, \"before\": 1}],\n"
		" \"backup\": {\"fault_access\": 3, \"fixups\": [{\"reg\": \"r0\", \"delta\": -16}]}}\n");
	cmd_result_free(&r);
}

static void test_cli_errors(void)
{
	static const struct { const char *args, *msg; } t[] = {
		{ "--arch vax --hex 00", "pflab decode: unknown arch 'vax'" },
		{ "--arch x86-64 --hex a4a", "pflab decode: --hex: 'a4a': odd number of hex digits\n" },
		{ "--arch x86-64 --hex zz", "pflab decode: --hex: 'zz': 'z' is not a hex digit\n" },
		{ "--arch x86-64 --hex 06", "pflab decode: --hex 06: not a valid instruction for x86-64\n" },
		{ "--arch x86-64 --hex 48", "pflab decode: --hex 48: the bytes end inside the instruction" },
		{ "--arch m68k --hex 22d8 --reg rax=1", "pflab decode: --reg rax: no such register" },
		{ "--arch m6809 --hex a680 --reg x=0x10000", "pflab decode: --reg x: value too wide" },
		{ "--arch m68k --hex 22d8 --fault-access 3", "pflab decode: --fault-access 3: the instruction has 3 accesses" },
		{ "--hex 22d8", "pflab decode: --arch is required" },
		{ "--arch arm", "pflab decode: --hex is required" },
		{ "--arch arm --hex 00 --bogus", "pflab decode: unknown option --bogus" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cmd_result r = run_pflab("decode %s", t[i].args);
		char *nl = strchr(r.err, '\n');

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.out, "");
		/* One line, and the expected reason. */
		CU_ASSERT_TRUE(nl != NULL && nl[1] == '\0');
		if (strncmp(r.err, t[i].msg, strlen(t[i].msg)) != 0) {
			printf("\n  decode %s: stderr '%s'", t[i].args, r.err);
			CU_FAIL("unexpected error message");
		}
		cmd_result_free(&r);
	}
}

static void test_cli_help(void)
{
	struct cmd_result r = run_pflab("decode --help");

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(strncmp(r.out, "usage: pflab decode --arch ARCH --hex BYTES", 43), 0);
	cmd_result_free(&r);
}

static CU_TestInfo isa_tests[] = {
	{ "golden decodes x86-64", test_golden_x86 },
	{ "golden decodes m68k", test_golden_m68k },
	{ "golden decodes arm", test_golden_arm },
	{ "golden decodes arm64", test_golden_arm64 },
	{ "golden decodes m6809", test_golden_m6809 },
	{ "encodings agree with GNU as (x86-64)", test_encodings_x86 },
	{ "encodings agree with GNU as (m68k)", test_encodings_m68k },
	{ "encodings agree with GNU as (arm)", test_encodings_arm },
	{ "encodings agree with GNU as (arm64)", test_encodings_arm64 },
	{ "6809 encodings agree with the MC6809 data sheet", test_m6809_encodings },
	{ "a kept decoder decodes like isa_decode", test_decoder_reuse },
	{ "invalid and truncated bytes", test_invalid_and_truncated },
	{ "fault on the second page of a straddling load", test_match_straddle },
	{ "fault on the second page of an instruction fetch", test_match_fetch_straddle },
	{ "movsb: source and destination faults", test_match_movsb_two_pages },
	{ "rep movsb progress (RCX, RSI, RDI), both directions", test_match_rep_movsb_progress },
	{ "rep movsq: an element straddling pages", test_match_rep_movsq_straddle },
	{ "matching a guest-physical fault through a translator", test_match_translated },
	{ "rep string progress on random states", test_match_rep_property },
	{ "backup plan restores registers (random states, every access)", test_backup_restores_property },
	{ "golden backup plans per fault model", test_backup_golden_plans },
	{ "addressing and writeback on random registers", test_addressing_property },
	{ "pflab decode: text", test_cli_text },
	{ "pflab decode: rep fault address", test_cli_rep_fault_addr },
	{ "pflab decode: json", test_cli_json },
	{ "pflab decode: errors", test_cli_errors },
	{ "pflab decode: help", test_cli_help },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("isa", isa_tests);
