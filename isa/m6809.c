// SPDX-License-Identifier: MIT
/*
 * Motorola 6809 through Capstone's M680X: accesses, auto-increment and
 * auto-decrement of indexed modes, and the stack.
 *
 * The 6809 has no bus-fault input: nothing in the chip restarts an
 * instruction. The model is what a memory-management unit in front of it
 * would have to undo if it aborted an access: the MC6809 data sheet's
 * cycle-by-cycle tables compute an indexed address (,R+ ,R++ ,-R ,--R
 * included) in the cycles after the postbyte, before the operand is
 * read or written, so an index register's step comes before the
 * operand's first access; pushes and pulls move S or U register by
 * register.
 *
 * Capstone facts (4.0.2): idx.inc_dec is the signed step, with
 * M680X_IDX_POST_INC_DEC telling post from pre; the memory operand's
 * access flags are right (read, write, read-write); an undefined opcode
 * decodes as "illgl", which this file rejects; for n,PCR the text and
 * idx.offset_addr give the next PC without the offset (lda 16,pcr at 0x1000
 * shows "$1003, pcr"), so the address is computed here.
 */
#include "internal.h"

enum { M09_A, M09_B, M09_X, M09_Y, M09_U, M09_S, M09_PC, M09_DP, M09_CC, M09_NREGS };

static const struct isa_reg_desc m6809_regs_desc[M09_NREGS] = {
	{ "a", 8 }, { "b", 8 }, { "x", 16 }, { "y", 16 }, { "u", 16 },
	{ "s", 16 }, { "pc", 16 }, { "dp", 8 }, { "cc", 8 },
};

static int regno(m680x_reg r)
{
	switch (r) {
	case M680X_REG_A: return M09_A;
	case M680X_REG_B: return M09_B;
	case M680X_REG_X: return M09_X;
	case M680X_REG_Y: return M09_Y;
	case M680X_REG_U: return M09_U;
	case M680X_REG_S: return M09_S;
	case M680X_REG_PC: return M09_PC;
	case M680X_REG_DP: return M09_DP;
	case M680X_REG_CC: return M09_CC;
	default: return -1;
	}
}

/* Bytes a register occupies on the stack (D is A and B). */
static unsigned reg_size(m680x_reg r)
{
	switch (r) {
	case M680X_REG_A: case M680X_REG_B: case M680X_REG_DP: case M680X_REG_CC:
		return 1;
	default:
		return 2;
	}
}

struct m09_decode {
	struct isa_regs work;
	struct isa_insn *out;
};

static void effect(struct m09_decode *d, unsigned reg, int64_t delta)
{
	isa_add_effect(d->out, reg, delta, d->out->n_access);
	isa_reg_add(ISA_M6809, &d->work, reg, delta);
}

/* An accumulator offset is signed: A and B as bytes, D as a word. */
static uint16_t offset_reg_value(const struct m09_decode *d, m680x_reg r)
{
	switch (r) {
	case M680X_REG_A: return (uint16_t)isa_sext(8, d->work.r[M09_A]);
	case M680X_REG_B: return (uint16_t)isa_sext(8, d->work.r[M09_B]);
	case M680X_REG_D: return (uint16_t)(d->work.r[M09_A] << 8 | d->work.r[M09_B]);
	default: return 0;
	}
}

/*
 * The effective address of a memory operand, with the index step applied
 * (the step happens in the address cycles). *indirect says whether the
 * address holds a pointer to the operand rather than the operand.
 */
static bool operand_addr(struct m09_decode *d, const cs_m680x_op *op, uint16_t *ea, bool *indirect)
{
	*indirect = false;
	switch (op->type) {
	case M680X_OP_DIRECT:
		*ea = (uint16_t)(d->work.r[M09_DP] << 8 | op->direct_addr);
		return true;
	case M680X_OP_EXTENDED:
		*ea = op->ext.address;
		*indirect = op->ext.indirect;
		return true;
	case M680X_OP_INDEXED: {
		const m680x_op_idx *ix = &op->idx;
		int base = regno(ix->base_reg);

		*indirect = ix->flags & M680X_IDX_INDIRECT;
		if (base == M09_PC) {
			/* n,PCR counts from the next instruction (offset_addr is wrong). */
			*ea = (uint16_t)(d->out->pc + d->out->len + (uint64_t)(int64_t)ix->offset);
			return true;
		}
		if (base < 0)
			return false;
		if (ix->inc_dec < 0 && !(ix->flags & M680X_IDX_POST_INC_DEC))
			effect(d, (unsigned)base, ix->inc_dec);
		*ea = (uint16_t)(d->work.r[base] + (uint64_t)(int64_t)ix->offset +
				 offset_reg_value(d, ix->offset_reg));
		if (ix->inc_dec > 0 && (ix->flags & M680X_IDX_POST_INC_DEC))
			effect(d, (unsigned)base, ix->inc_dec);
		return true;
	}
	default:
		return false;
	}
}

static void stack_access(struct m09_decode *d, unsigned sp, unsigned size, unsigned kind)
{
	isa_add_access(d->out, d->work.r[sp], size, kind, ISA_ROLE_STACK, -1, true);
}

/* pshs/pshu: PC first at the top, CC last at the bottom; puls/pulu the reverse. */
static void push_pull(struct m09_decode *d, const cs_m680x *m, bool push)
{
	unsigned sp = (unsigned)regno(m->operands[0].reg);

	if (push) {
		for (int i = m->op_count - 1; i >= 1; i--) {
			unsigned n = reg_size(m->operands[i].reg);

			effect(d, sp, -(int64_t)n);
			stack_access(d, sp, n, ISA_ACC_WRITE);
		}
		return;
	}
	for (int i = 1; i < m->op_count; i++) {
		unsigned n = reg_size(m->operands[i].reg);

		stack_access(d, sp, n, ISA_ACC_READ);
		effect(d, sp, n);
	}
}

static int m6809_decode(csh cs, const cs_insn *ci, const struct isa_regs *regs, struct isa_insn *out)
{
	const cs_m680x *m = &ci->detail->m680x;
	struct m09_decode d = { .work = *regs, .out = out };

	(void)cs;
	if (ci->id == M680X_INS_ILLGL || ci->id == M680X_INS_INVLD)
		return ISA_ERR_INVALID;
	switch (ci->id) {
	case M680X_INS_PSHS: case M680X_INS_PSHU:
		push_pull(&d, m, true);
		return ISA_OK;
	case M680X_INS_PULS: case M680X_INS_PULU:
		push_pull(&d, m, false);
		return ISA_OK;
	case M680X_INS_RTS:
		stack_access(&d, M09_S, 2, ISA_ACC_READ);
		effect(&d, M09_S, 2);
		return ISA_OK;
	case M680X_INS_RTI: case M680X_INS_SWI: case M680X_INS_SWI2: case M680X_INS_SWI3:
	case M680X_INS_CWAI:
		/* How much RTI pulls depends on the stacked CC's E bit: not modelled. */
		out->flags |= ISA_INSN_INCOMPLETE;
		return ISA_OK;
	}
	for (int i = 0; i < m->op_count; i++) {
		const cs_m680x_op *op = &m->operands[i];
		unsigned kind = (op->access & CS_AC_READ ? ISA_ACC_READ : 0) |
				(op->access & CS_AC_WRITE ? ISA_ACC_WRITE : 0);
		bool indirect;
		uint16_t ea;

		if (op->type != M680X_OP_INDEXED && op->type != M680X_OP_EXTENDED &&
		    op->type != M680X_OP_DIRECT)
			continue;
		if (!operand_addr(&d, op, &ea, &indirect))
			continue;
		/* [ea] holds the operand's address: a 16-bit pointer read first. */
		if (indirect)
			isa_add_access(out, ea, 2, ISA_ACC_READ, ISA_ROLE_POINTER, i, true);
		/* jsr, jmp and lea compute an address and touch nothing there. */
		if (kind && op->size)
			isa_add_access(out, ea, op->size, kind, ISA_ROLE_OPERAND, i, !indirect);
	}
	if (ci->id == M680X_INS_JSR || ci->id == M680X_INS_BSR || ci->id == M680X_INS_LBSR) {
		/* The return address goes on S after the target is computed. */
		effect(&d, M09_S, -2);
		stack_access(&d, M09_S, 2, ISA_ACC_WRITE);
	}
	return ISA_OK;
}

const struct isa_arch_desc isa_m6809_desc = {
	.name = "m6809",
	.cs_arch = CS_ARCH_M680X,
	.cs_mode = CS_MODE_M680X_6809,
	.model = "6809-sequential",
	.addr_bits = 16,
	.pc_reg = M09_PC,
	.n_regs = M09_NREGS,
	.regs = m6809_regs_desc,
	.aliases = NULL,
	.decode = m6809_decode,
};
