/* SPDX-License-Identifier: MIT */
/*
 * What the architecture files of isa/ share: the description each one
 * provides, and helpers to build a struct isa_insn. Not for use outside isa/.
 */
#ifndef PFLAB_ISA_INTERNAL_H
#define PFLAB_ISA_INTERNAL_H

#include <capstone/capstone.h>

#include "isa.h"

struct isa_reg_desc {
	const char *name;
	uint8_t bits;
};

struct isa_reg_alias {
	const char *alias;
	uint8_t regno;
};

struct isa_arch_desc {
	const char *name;
	cs_arch cs_arch;
	cs_mode cs_mode;
	const char *model;      /* fault model name, see docs/isa.md */
	uint8_t addr_bits;      /* width of a linear address */
	uint8_t pc_reg;
	unsigned n_regs;
	const struct isa_reg_desc *regs;
	const struct isa_reg_alias *aliases; /* ends with { NULL } */
	/*
	 * Fill in the accesses after the fetch (access 0, already there) and the
	 * effects. ci has Capstone's detail. Returns ISA_OK or ISA_ERR_*.
	 */
	int (*decode)(csh cs, const cs_insn *ci, const struct isa_regs *regs,
		      struct isa_insn *out);
};

extern const struct isa_arch_desc isa_x86_64_desc;
extern const struct isa_arch_desc isa_m68k_desc;
extern const struct isa_arch_desc isa_arm_desc;
extern const struct isa_arch_desc isa_arm64_desc;
extern const struct isa_arch_desc isa_m6809_desc;

const struct isa_arch_desc *isa_desc(enum isa_arch arch);

static inline uint64_t isa_mask(unsigned bits, uint64_t v)
{
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

static inline int64_t isa_sext(unsigned bits, uint64_t v)
{
	uint64_t m = 1ull << (bits - 1);

	v = isa_mask(bits, v);
	return (int64_t)((v ^ m) - m);
}

/*
 * Append a data access; the address is masked to the architecture's width.
 * Returns its index, or -1 (and marks the instruction incomplete) when full.
 */
int isa_add_access(struct isa_insn *insn, uint64_t addr, uint32_t size, unsigned kind,
		   enum isa_role role, int operand, bool addr_known);
/* Append a register effect (ignored when delta is 0). */
void isa_add_effect(struct isa_insn *insn, unsigned reg, int64_t delta, unsigned before);
/* Apply delta to a register of a working copy, keeping it to its width. */
void isa_reg_add(enum isa_arch arch, struct isa_regs *regs, unsigned reg, int64_t delta);

/* x86 internals shared by x86.c, x86_implicit.c and x86_string.c. */

/* Register numbers: the order of struct x86_regs. */
enum {
	X86_RAX, X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI, X86_RSP, X86_RBP,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_RIP, X86_RFLAGS, X86_FS_BASE, X86_GS_BASE, X86_NREGS,
};

struct x86_decode {
	csh cs;
	const cs_insn *ci;
	const struct isa_regs *regs;
	struct isa_insn *out;
};
/* The value of a Capstone x86 register (any width), false if not a GPR/rip. */
bool x86_reg_value(const struct x86_decode *d, unsigned cs_reg, uint64_t *value);
/* The linear address of memory operand opi, with rsp_adjust added to RSP first. */
bool x86_operand_addr(const struct x86_decode *d, unsigned opi, int64_t rsp_adjust,
		      uint64_t *addr);
/* Add the accesses of memory operand opi with the given kind (and RSP adjust). */
void x86_add_operand(const struct x86_decode *d, unsigned opi, unsigned kind, int64_t rsp_adjust);
/*
 * Instructions with implicit accesses or Capstone corrections: returns true
 * when it handled the instruction (accesses and effects added).
 */
bool x86_implicit(const struct x86_decode *d);
/* A string instruction (movs...): true when it is one and was handled. */
bool x86_string(const struct x86_decode *d);

#endif /* PFLAB_ISA_INTERNAL_H */
