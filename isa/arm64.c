// SPDX-License-Identifier: MIT
/*
 * AArch64: accesses of loads and stores, and their pre-/post-index
 * writeback.
 *
 * The fault model is precise: a synchronous data abort on a load or store
 * leaves the base register as it was before the instruction (Arm
 * Architecture Reference Manual for A-profile, on exceptions taken during
 * loads and stores with writeback), so the instruction restarts as it is
 * and a backup plan is always empty. Writeback is listed after the last
 * access to say so.
 *
 * Capstone facts (4.0.2): a post-indexed form has writeback=1 and one more
 * operand after the memory operand, an immediate or a register; access
 * sizes are not given (they follow from the transfer registers and the
 * mnemonic); the memory operand's access flags are unreliable (str shows
 * read-write, prfm too), so the mnemonic decides load or store.
 */
#include <string.h>

#include "internal.h"

enum { A64_X0 = 0, A64_FP = 29, A64_LR = 30, A64_SP = 31, A64_PC = 32, A64_NZCV = 33, A64_NREGS };

static const struct isa_reg_desc arm64_regs_desc[A64_NREGS] = {
	{ "x0", 64 }, { "x1", 64 }, { "x2", 64 }, { "x3", 64 }, { "x4", 64 },
	{ "x5", 64 }, { "x6", 64 }, { "x7", 64 }, { "x8", 64 }, { "x9", 64 },
	{ "x10", 64 }, { "x11", 64 }, { "x12", 64 }, { "x13", 64 }, { "x14", 64 },
	{ "x15", 64 }, { "x16", 64 }, { "x17", 64 }, { "x18", 64 }, { "x19", 64 },
	{ "x20", 64 }, { "x21", 64 }, { "x22", 64 }, { "x23", 64 }, { "x24", 64 },
	{ "x25", 64 }, { "x26", 64 }, { "x27", 64 }, { "x28", 64 }, { "x29", 64 },
	{ "x30", 64 }, { "sp", 64 }, { "pc", 64 }, { "nzcv", 64 },
};

static const struct isa_reg_alias arm64_aliases[] = {
	{ "fp", A64_FP }, { "lr", A64_LR }, { NULL, 0 },
};

/* Capstone register: its number here (-1: none), width and whether it reads as zero. */
struct a64_reg {
	int n;
	unsigned bits;
	bool zero;
};

static struct a64_reg gpr(unsigned r)
{
	if (r >= ARM64_REG_X0 && r <= ARM64_REG_X28)
		return (struct a64_reg){ (int)(r - ARM64_REG_X0), 64, false };
	if (r >= ARM64_REG_W0 && r <= ARM64_REG_W30)
		return (struct a64_reg){ (int)(r - ARM64_REG_W0), 32, false };
	switch (r) {
	case ARM64_REG_X29: return (struct a64_reg){ A64_FP, 64, false };
	case ARM64_REG_X30: return (struct a64_reg){ A64_LR, 64, false };
	case ARM64_REG_SP: return (struct a64_reg){ A64_SP, 64, false };
	case ARM64_REG_WSP: return (struct a64_reg){ A64_SP, 32, false };
	case ARM64_REG_XZR: return (struct a64_reg){ -1, 64, true };
	case ARM64_REG_WZR: return (struct a64_reg){ -1, 32, true };
	}
	return (struct a64_reg){ -1, 0, false };
}

static uint64_t value(const struct isa_regs *regs, unsigned r)
{
	struct a64_reg g = gpr(r);

	return g.n < 0 ? 0 : isa_mask(g.bits, regs->r[g.n]);
}

/* Bytes moved for one transfer register (0: not a register we can size). */
static unsigned reg_bytes(const cs_arm64_op *op)
{
	unsigned r = op->reg;

	if (gpr(r).bits)
		return gpr(r).bits / 8;
	if (r >= ARM64_REG_B0 && r < ARM64_REG_B0 + 32) return 1;
	if (r >= ARM64_REG_H0 && r < ARM64_REG_H0 + 32) return 2;
	if (r >= ARM64_REG_S0 && r < ARM64_REG_S0 + 32) return 4;
	if (r >= ARM64_REG_D0 && r < ARM64_REG_D0 + 32) return 8;
	if (r >= ARM64_REG_Q0 && r < ARM64_REG_Q0 + 32) return 16;
	if (r >= ARM64_REG_V0 && r < ARM64_REG_V0 + 32 && op->vector_index < 0) {
		switch (op->vas) {
		case ARM64_VAS_8B: case ARM64_VAS_4H: case ARM64_VAS_2S: case ARM64_VAS_1D:
			return 8;
		case ARM64_VAS_16B: case ARM64_VAS_8H: case ARM64_VAS_4S: case ARM64_VAS_2D:
		case ARM64_VAS_1Q:
			return 16;
		default:
			return 0;
		}
	}
	return 0;
}

/* The size a mnemonic moves per register when it says so itself (ldrb, ldrsw...). */
static unsigned mnemonic_size(const char *mn)
{
	size_t l = strlen(mn);

	if (strcmp(mn, "ldpsw") == 0 || (l >= 2 && strcmp(mn + l - 2, "sw") == 0))
		return 4;
	if (l >= 1 && mn[l - 1] == 'b' && strncmp(mn, "ld1", 3) != 0)
		return 1;
	if (l >= 1 && mn[l - 1] == 'h' && strncmp(mn, "ld1", 3) != 0)
		return 2;
	return 0;
}

/* The index register's contribution: extended, then shifted. */
static uint64_t index_value(const struct isa_regs *regs, const cs_arm64_op *op)
{
	uint64_t v = value(regs, op->mem.index);
	unsigned sh = op->shift.type == ARM64_SFT_LSL ? op->shift.value : 0;

	switch (op->ext) {
	case ARM64_EXT_UXTW: v = isa_mask(32, v); break;
	case ARM64_EXT_SXTW: v = (uint64_t)isa_sext(32, v); break;
	case ARM64_EXT_SXTX: case ARM64_EXT_UXTX: break;
	default: break;
	}
	return v << sh;
}

static int arm64_decode(csh cs, const cs_insn *ci, const struct isa_regs *regs, struct isa_insn *out)
{
	const cs_arm64 *a = &ci->detail->arm64;
	const char *mn = ci->mnemonic;
	bool load = strncmp(mn, "ld", 2) == 0, store = strncmp(mn, "st", 2) == 0;
	unsigned kind = load ? ISA_ACC_READ : ISA_ACC_WRITE;
	/* Exclusive stores (stxr, stlxp...) name a status register first: it is not stored. */
	int first = store && (strstr(mn, "xr") || strstr(mn, "xp")) ? 1 : 0;
	int mi = -1, literal = -1;
	unsigned size = 0, nregs = 0, fixed = mnemonic_size(mn);
	uint64_t base = 0, addr;
	int64_t wb = 0;
	bool post = false;

	(void)cs;
	if (!load && !store)
		return ISA_OK; /* prfm is a hint; others touch no memory */
	for (int i = 0; i < a->op_count; i++) {
		if (a->operands[i].type == ARM64_OP_MEM)
			mi = i;
		else if (a->operands[i].type == ARM64_OP_IMM && mi < 0 && i > 0)
			literal = i; /* ldr x0, label: the address is the immediate */
	}
	for (int i = first; i < (mi >= 0 ? mi : literal); i++) {
		unsigned b = a->operands[i].type == ARM64_OP_REG ? reg_bytes(&a->operands[i]) : 0;

		if (!b) {
			out->flags |= ISA_INSN_INCOMPLETE;
			return ISA_OK;
		}
		size = fixed ? fixed : b;
		nregs++;
	}
	if (mi < 0 && literal < 0) {
		out->flags |= ISA_INSN_INCOMPLETE;
		return ISA_OK;
	}
	if (mi < 0) {
		addr = (uint64_t)a->operands[literal].imm;
	} else {
		const cs_arm64_op *m = &a->operands[mi];

		base = value(regs, m->mem.base);
		post = mi + 1 < a->op_count;
		if (post) {
			const cs_arm64_op *o = &a->operands[mi + 1];

			wb = o->type == ARM64_OP_IMM ? o->imm : (int64_t)value(regs, o->reg);
			addr = base;
		} else {
			addr = base + (uint64_t)(int64_t)m->mem.disp;
			if (m->mem.index != ARM64_REG_INVALID)
				addr += index_value(regs, m);
			wb = m->mem.disp;
		}
	}
	for (unsigned i = 0; i < nregs; i++)
		isa_add_access(out, addr + (uint64_t)size * i, size, kind, ISA_ROLE_OPERAND,
			       mi >= 0 ? mi : literal, true);
	/* Precise: the base changes only once every access has been made. */
	if (mi >= 0 && (post || a->writeback) && gpr(a->operands[mi].mem.base).n >= 0)
		isa_add_effect(out, (unsigned)gpr(a->operands[mi].mem.base).n, wb, out->n_access);
	return ISA_OK;
}

const struct isa_arch_desc isa_arm64_desc = {
	.name = "arm64",
	.cs_arch = CS_ARCH_ARM64,
	.cs_mode = CS_MODE_ARM,
	.model = "precise",
	.addr_bits = 64,
	.pc_reg = A64_PC,
	.n_regs = A64_NREGS,
	.regs = arm64_regs_desc,
	.aliases = arm64_aliases,
	.decode = arm64_decode,
};
