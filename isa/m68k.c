// SPDX-License-Identifier: MIT
/*
 * m68k (68000): accesses and the auto-increment side effects to back out.
 *
 * A 68000 bus error frame does not let the instruction continue, and
 * (An)+ / -(An) may already have moved An: software restarts the
 * instruction after putting the registers back. The model here is
 * sequential: -(An) moves An just before its access, (An)+ just after it,
 * movem steps An once per register moved, and the stack pointer A7 moves
 * by 2 for a byte so that it stays even (M68000 PRM, 2.2.5 and 2.2.4).
 *
 * Capstone facts (4.0.2): an operand's address register is op.reg, not
 * op.mem.base_reg, for (An), (An)+ and -(An); cs_regs_access() returns
 * CS_ERR_ARCH; cmpm and addx give their -(An)/(An)+ operands the REG type,
 * so the address mode, not the operand type, says what is memory.
 */
#include "internal.h"

enum {
	M68K_D0 = 0, M68K_A0 = 8, M68K_A7 = 15, M68K_PC = 16, M68K_NREGS = 18,
};

static const struct isa_reg_desc m68k_regs_desc[M68K_NREGS] = {
	{ "d0", 32 }, { "d1", 32 }, { "d2", 32 }, { "d3", 32 },
	{ "d4", 32 }, { "d5", 32 }, { "d6", 32 }, { "d7", 32 },
	{ "a0", 32 }, { "a1", 32 }, { "a2", 32 }, { "a3", 32 },
	{ "a4", 32 }, { "a5", 32 }, { "a6", 32 }, { "a7", 32 },
	{ "pc", 32 }, { "sr", 16 },
};

static const struct isa_reg_alias m68k_aliases[] = {
	{ "sp", M68K_A7 }, { "fp", 14 }, { NULL, 0 },
};

struct m68k_decode {
	const cs_insn *ci;
	struct isa_regs work; /* registers as the instruction has moved them so far */
	struct isa_insn *out;
};

/* Capstone register to register number: d0-d7, a0-a7, pc. */
static int regno(m68k_reg r)
{
	if (r >= M68K_REG_D0 && r <= M68K_REG_D7)
		return M68K_D0 + (int)(r - M68K_REG_D0);
	if (r >= M68K_REG_A0 && r <= M68K_REG_A7)
		return M68K_A0 + (int)(r - M68K_REG_A0);
	if (r == M68K_REG_PC)
		return M68K_PC;
	return -1;
}

/* A register's effect, applied to the working copy as it happens. */
static void effect(struct m68k_decode *d, unsigned reg, int64_t delta)
{
	isa_add_effect(d->out, reg, delta, d->out->n_access);
	isa_reg_add(ISA_M68K, &d->work, reg, delta);
}

static bool is_memory_mode(m68k_address_mode am)
{
	switch (am) {
	case M68K_AM_NONE:
	case M68K_AM_REG_DIRECT_DATA:
	case M68K_AM_REG_DIRECT_ADDR:
	case M68K_AM_IMMEDIATE:
	case M68K_AM_BRANCH_DISPLACEMENT:
		return false;
	default:
		return true;
	}
}

/* The index register's contribution: .w indexes are sign-extended words. */
static uint64_t index_value(const struct m68k_decode *d, const m68k_op_mem *m)
{
	int r = regno(m->index_reg);
	uint64_t v;

	if (r < 0)
		return 0;
	v = d->work.r[r];
	if (m->index_size == 0)
		v = (uint64_t)isa_sext(16, v);
	return v * (m->scale ? m->scale : 1);
}

/*
 * The address of a memory operand before any -(An) step; false for the
 * memory-indirect modes (68020+), whose address is read from memory.
 */
static bool operand_addr(const struct m68k_decode *d, const cs_m68k_op *op, uint64_t *addr)
{
	const m68k_op_mem *m = &op->mem;
	uint64_t pc_ext = d->out->pc + 2; /* the PC of the extension word */
	int base;

	switch (op->address_mode) {
	case M68K_AM_REGI_ADDR:
	case M68K_AM_REGI_ADDR_POST_INC:
	case M68K_AM_REGI_ADDR_PRE_DEC:
		*addr = d->work.r[regno(op->reg)];
		return true;
	case M68K_AM_REGI_ADDR_DISP:
		*addr = d->work.r[regno(m->base_reg)] + (uint64_t)(int64_t)m->disp;
		return true;
	case M68K_AM_AREGI_INDEX_8_BIT_DISP:
	case M68K_AM_AREGI_INDEX_BASE_DISP:
		base = regno(m->base_reg);
		*addr = (base >= 0 ? d->work.r[base] : 0) + (uint64_t)(int64_t)m->disp +
			index_value(d, m);
		return true;
	case M68K_AM_PCI_DISP:
		*addr = pc_ext + (uint64_t)(int64_t)m->disp;
		return true;
	case M68K_AM_PCI_INDEX_8_BIT_DISP:
	case M68K_AM_PCI_INDEX_BASE_DISP:
		*addr = pc_ext + (uint64_t)(int64_t)m->disp + index_value(d, m);
		return true;
	case M68K_AM_ABSOLUTE_DATA_SHORT:
		*addr = (uint64_t)isa_sext(16, op->imm);
		return true;
	case M68K_AM_ABSOLUTE_DATA_LONG:
		*addr = op->imm;
		return true;
	default:
		return false;
	}
}

/* (An)+ and -(An) step by the size, but A7 by 2 for a byte. */
static int64_t step(unsigned reg, unsigned size)
{
	return reg == M68K_A7 && size == 1 ? 2 : size;
}

/* One memory operand: its -(An) step, the access, its (An)+ step. */
static void operand_access(struct m68k_decode *d, int opi, unsigned size, unsigned kind)
{
	const cs_m68k_op *op = &d->ci->detail->m68k.operands[opi];
	int reg = regno(op->reg);
	uint64_t addr = 0;
	bool known;

	if (op->address_mode == M68K_AM_REGI_ADDR_PRE_DEC)
		effect(d, (unsigned)reg, -step((unsigned)reg, size));
	known = operand_addr(d, op, &addr);
	isa_add_access(d->out, addr, size, kind, ISA_ROLE_OPERAND, opi, known);
	if (op->address_mode == M68K_AM_REGI_ADDR_POST_INC)
		effect(d, (unsigned)reg, step((unsigned)reg, size));
}

static void stack_access(struct m68k_decode *d, uint64_t addr, unsigned size, unsigned kind)
{
	isa_add_access(d->out, addr, size, kind, ISA_ROLE_STACK, -1, true);
}

static void push_long(struct m68k_decode *d)
{
	effect(d, M68K_A7, -4);
	stack_access(d, d->work.r[M68K_A7], 4, ISA_ACC_WRITE);
}

/*
 * movem: registers d0..d7, a0..a7 in that order at rising addresses; to
 * -(An) they are stored from a7 down to d0 at falling addresses.
 */
static void movem(struct m68k_decode *d, unsigned size)
{
	const cs_m68k *m = &d->ci->detail->m68k;
	bool to_memory = m->operands[0].type == M68K_OP_REG_BITS;
	int memop = to_memory ? 1 : 0;
	const cs_m68k_op *op = &m->operands[memop];
	uint32_t bits = m->operands[to_memory ? 0 : 1].register_bits;
	unsigned kind = to_memory ? ISA_ACC_WRITE : ISA_ACC_READ;
	int reg = regno(op->reg);
	uint64_t addr = 0;
	bool known;

	if (op->address_mode == M68K_AM_REGI_ADDR_PRE_DEC) {
		for (int r = 15; r >= 0; r--)
			if (bits & (1u << r)) {
				effect(d, (unsigned)reg, -(int64_t)size);
				isa_add_access(d->out, d->work.r[reg], size, kind, ISA_ROLE_MULTI, memop, true);
			}
		return;
	}
	known = operand_addr(d, op, &addr);
	for (int r = 0; r < 16; r++) {
		if (!(bits & (1u << r)))
			continue;
		if (op->address_mode == M68K_AM_REGI_ADDR_POST_INC) {
			isa_add_access(d->out, d->work.r[reg], size, kind, ISA_ROLE_MULTI, memop, true);
			effect(d, (unsigned)reg, (int64_t)size);
		} else {
			isa_add_access(d->out, addr, size, kind, ISA_ROLE_MULTI, memop, known);
			addr += size;
		}
	}
}

/* How an instruction treats its destination (last) memory operand. */
static unsigned dest_kind(unsigned id)
{
	switch (id) {
	case M68K_INS_MOVE: case M68K_INS_MOVEA: case M68K_INS_CLR:
	case M68K_INS_ST: case M68K_INS_SF: case M68K_INS_SHI: case M68K_INS_SLS:
	case M68K_INS_SCC: case M68K_INS_SHS: case M68K_INS_SCS: case M68K_INS_SLO:
	case M68K_INS_SNE: case M68K_INS_SEQ: case M68K_INS_SVC: case M68K_INS_SVS:
	case M68K_INS_SPL: case M68K_INS_SMI: case M68K_INS_SGE: case M68K_INS_SLT:
	case M68K_INS_SGT: case M68K_INS_SLE:
		return ISA_ACC_WRITE;
	case M68K_INS_CMP: case M68K_INS_CMPA: case M68K_INS_CMPI: case M68K_INS_CMPM:
	case M68K_INS_TST: case M68K_INS_BTST: case M68K_INS_CHK: case M68K_INS_CHK2:
	case M68K_INS_CMP2:
		return ISA_ACC_READ;
	default:
		return ISA_ACC_READ | ISA_ACC_WRITE;
	}
}

static int m68k_decode(csh cs, const cs_insn *ci, const struct isa_regs *regs, struct isa_insn *out)
{
	const cs_m68k *m = &ci->detail->m68k;
	struct m68k_decode d = { .ci = ci, .work = *regs, .out = out };
	unsigned size = m->op_size.type == M68K_SIZE_TYPE_FPU ? (unsigned)m->op_size.fpu_size
							      : (unsigned)m->op_size.cpu_size;

	(void)cs;
	if (ci->id == M68K_INS_INVALID)
		return ISA_ERR_INVALID;
	switch (ci->id) {
	case M68K_INS_MOVEM:
		movem(&d, size);
		return ISA_OK;
	case M68K_INS_LEA:
	case M68K_INS_JMP:
		return ISA_OK; /* an address, no access */
	case M68K_INS_PEA:
		push_long(&d);
		return ISA_OK;
	case M68K_INS_JSR:
	case M68K_INS_BSR:
		push_long(&d); /* the return address */
		return ISA_OK;
	case M68K_INS_RTS:
		stack_access(&d, d.work.r[M68K_A7], 4, ISA_ACC_READ);
		effect(&d, M68K_A7, 4);
		return ISA_OK;
	case M68K_INS_RTR:
		stack_access(&d, d.work.r[M68K_A7], 2, ISA_ACC_READ);
		stack_access(&d, d.work.r[M68K_A7] + 2, 4, ISA_ACC_READ);
		effect(&d, M68K_A7, 6);
		return ISA_OK;
	case M68K_INS_LINK: {
		/* LINK An,#d: -(SP) = An; An = SP; SP += d. */
		unsigned an = (unsigned)regno(m->operands[0].reg);
		int64_t disp = isa_sext(size == 4 ? 32 : 16, m->operands[1].imm);

		push_long(&d);
		effect(&d, an, (int64_t)(d.work.r[M68K_A7] - d.work.r[an]));
		effect(&d, M68K_A7, disp);
		return ISA_OK;
	}
	case M68K_INS_UNLK: {
		/* UNLK An: SP = An; An = (SP)+ (An's new value comes from memory). */
		unsigned an = (unsigned)regno(m->operands[0].reg);

		effect(&d, M68K_A7, (int64_t)(d.work.r[an] - d.work.r[M68K_A7]));
		stack_access(&d, d.work.r[M68K_A7], 4, ISA_ACC_READ);
		effect(&d, M68K_A7, 4);
		return ISA_OK;
	}
	case M68K_INS_RTE: case M68K_INS_TRAP: case M68K_INS_TRAPV: case M68K_INS_ILLEGAL:
		/* Exception frames (another stack, by format) are not modelled. */
		out->flags |= ISA_INSN_INCOMPLETE;
		return ISA_OK;
	}
	if (size == 0)
		size = 1; /* bit operations on memory are byte-sized */
	/* Sources first, in operand order, then the destination. */
	for (int i = 0; i < m->op_count; i++) {
		const cs_m68k_op *op = &m->operands[i];
		bool last = i == m->op_count - 1;

		if (!is_memory_mode(op->address_mode))
			continue;
		operand_access(&d, i, size, last ? dest_kind(ci->id) : ISA_ACC_READ);
	}
	return ISA_OK;
}

const struct isa_arch_desc isa_m68k_desc = {
	.name = "m68k",
	.cs_arch = CS_ARCH_M68K,
	.cs_mode = CS_MODE_M68K_000,
	.model = "68000-sequential",
	.addr_bits = 32,
	.pc_reg = M68K_PC,
	.n_regs = M68K_NREGS,
	.regs = m68k_regs_desc,
	.aliases = m68k_aliases,
	.decode = m68k_decode,
};
