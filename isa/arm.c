// SPDX-License-Identifier: MIT
/*
 * 32-bit ARM (ARM state, ARMv4/v5): accesses and base writeback.
 *
 * The fault model is the "base updated" abort model of ARM7-class cores
 * (ARM Architecture Reference Manual, ARMv4/v5, "Abort models"): when a
 * load or store with writeback takes a data abort, the base register has
 * already been written back, and the abort handler must undo that before
 * the instruction is restarted, as Linux's arch/arm/mm/abort-lv4t.S does.
 * So every writeback here comes right after the fetch (before access 1):
 * a prefetch abort (access 0) leaves nothing, a data abort leaves the
 * writeback. Cores with the "base restored" model (StrongARM, ARMv6 on)
 * need no fixup; their plan would be empty.
 *
 * Capstone facts (4.0.2): post-indexed forms show as writeback=1 with one
 * more operand after the memory operand, an immediate or a register (there
 * is no post_index field, and ldrt's writeback flag is 0); `subtracted`
 * marks a negative offset; push and pop say writeback=0; the memory
 * operand's access flags are 0 for ldrh and ldrd, so loads and stores are
 * told apart by instruction, not by flags.
 */
#include "internal.h"

enum { ARM_R0 = 0, ARM_SP = 13, ARM_LR = 14, ARM_PC = 15, ARM_CPSR = 16, ARM_NREGS };

static const struct isa_reg_desc arm_regs_desc[ARM_NREGS] = {
	{ "r0", 32 }, { "r1", 32 }, { "r2", 32 }, { "r3", 32 },
	{ "r4", 32 }, { "r5", 32 }, { "r6", 32 }, { "r7", 32 },
	{ "r8", 32 }, { "r9", 32 }, { "r10", 32 }, { "r11", 32 },
	{ "r12", 32 }, { "sp", 32 }, { "lr", 32 }, { "pc", 32 }, { "cpsr", 32 },
};

static const struct isa_reg_alias arm_aliases[] = {
	{ "r13", ARM_SP }, { "r14", ARM_LR }, { "r15", ARM_PC },
	{ "sb", 9 }, { "sl", 10 }, { "fp", 11 }, { "ip", 12 }, { NULL, 0 },
};

enum transfer { T_NONE, T_LOAD, T_STORE, T_SWAP, T_LDM, T_STM, T_OTHER };

struct arm_op_info {
	uint16_t id;
	uint8_t transfer;  /* enum transfer */
	uint8_t size;      /* bytes per access (single transfers) */
	uint8_t count;     /* accesses (ldrd/strd: 2 words) */
	int8_t mode;       /* multiple: 0 IA, 1 IB, 2 DA, 3 DB */
};

enum { IA, IB, DA, DB };

static const struct arm_op_info arm_ops[] = {
	{ ARM_INS_LDR, T_LOAD, 4, 1, 0 }, { ARM_INS_LDRT, T_LOAD, 4, 1, 0 },
	{ ARM_INS_LDRB, T_LOAD, 1, 1, 0 }, { ARM_INS_LDRBT, T_LOAD, 1, 1, 0 },
	{ ARM_INS_LDRH, T_LOAD, 2, 1, 0 }, { ARM_INS_LDRHT, T_LOAD, 2, 1, 0 },
	{ ARM_INS_LDRSB, T_LOAD, 1, 1, 0 }, { ARM_INS_LDRSBT, T_LOAD, 1, 1, 0 },
	{ ARM_INS_LDRSH, T_LOAD, 2, 1, 0 }, { ARM_INS_LDRSHT, T_LOAD, 2, 1, 0 },
	{ ARM_INS_LDRD, T_LOAD, 4, 2, 0 },
	{ ARM_INS_LDREX, T_LOAD, 4, 1, 0 }, { ARM_INS_LDREXB, T_LOAD, 1, 1, 0 },
	{ ARM_INS_LDREXH, T_LOAD, 2, 1, 0 }, { ARM_INS_LDREXD, T_LOAD, 4, 2, 0 },
	{ ARM_INS_STR, T_STORE, 4, 1, 0 }, { ARM_INS_STRT, T_STORE, 4, 1, 0 },
	{ ARM_INS_STRB, T_STORE, 1, 1, 0 }, { ARM_INS_STRBT, T_STORE, 1, 1, 0 },
	{ ARM_INS_STRH, T_STORE, 2, 1, 0 }, { ARM_INS_STRHT, T_STORE, 2, 1, 0 },
	{ ARM_INS_STRD, T_STORE, 4, 2, 0 },
	{ ARM_INS_STREX, T_STORE, 4, 1, 0 }, { ARM_INS_STREXB, T_STORE, 1, 1, 0 },
	{ ARM_INS_STREXH, T_STORE, 2, 1, 0 }, { ARM_INS_STREXD, T_STORE, 4, 2, 0 },
	{ ARM_INS_SWP, T_SWAP, 4, 1, 0 }, { ARM_INS_SWPB, T_SWAP, 1, 1, 0 },
	{ ARM_INS_LDM, T_LDM, 4, 0, IA }, { ARM_INS_LDMIB, T_LDM, 4, 0, IB },
	{ ARM_INS_LDMDA, T_LDM, 4, 0, DA }, { ARM_INS_LDMDB, T_LDM, 4, 0, DB },
	{ ARM_INS_POP, T_LDM, 4, 0, IA },
	{ ARM_INS_STM, T_STM, 4, 0, IA }, { ARM_INS_STMIB, T_STM, 4, 0, IB },
	{ ARM_INS_STMDA, T_STM, 4, 0, DA }, { ARM_INS_STMDB, T_STM, 4, 0, DB },
	{ ARM_INS_PUSH, T_STM, 4, 0, DB },
	/* Hints and coprocessor transfers: no access, or not modelled. */
	{ ARM_INS_PLD, T_NONE, 0, 0, 0 }, { ARM_INS_PLDW, T_NONE, 0, 0, 0 },
	{ ARM_INS_VLDR, T_OTHER, 0, 0, 0 }, { ARM_INS_VSTR, T_OTHER, 0, 0, 0 },
	{ ARM_INS_VLDMIA, T_OTHER, 0, 0, 0 }, { ARM_INS_VLDMDB, T_OTHER, 0, 0, 0 },
	{ ARM_INS_VSTMIA, T_OTHER, 0, 0, 0 }, { ARM_INS_VSTMDB, T_OTHER, 0, 0, 0 },
	{ ARM_INS_VPUSH, T_OTHER, 0, 0, 0 }, { ARM_INS_VPOP, T_OTHER, 0, 0, 0 },
};

static const struct arm_op_info *find_op(unsigned id)
{
	for (size_t i = 0; i < sizeof(arm_ops) / sizeof(arm_ops[0]); i++)
		if (arm_ops[i].id == id)
			return &arm_ops[i];
	return NULL;
}

static int regno(int r)
{
	if (r >= ARM_REG_R0 && r <= ARM_REG_R12)
		return ARM_R0 + (r - ARM_REG_R0);
	switch (r) {
	case ARM_REG_SP: return ARM_SP;
	case ARM_REG_LR: return ARM_LR;
	case ARM_REG_PC: return ARM_PC;
	}
	return -1;
}

/* A register as an operand: the PC reads as the instruction's address + 8. */
static uint32_t value(const struct isa_insn *out, const struct isa_regs *regs, int r)
{
	int n = regno(r);

	if (n == ARM_PC)
		return (uint32_t)(out->pc + 8);
	return n >= 0 ? (uint32_t)regs->r[n] : 0;
}

/* The shifter applied to an index register (immediate shift amounts). */
static uint32_t shifted(uint32_t v, arm_shifter type, unsigned n, uint32_t cpsr)
{
	switch (type) {
	case ARM_SFT_LSL: return n >= 32 ? 0 : v << n;
	case ARM_SFT_LSR: return n >= 32 ? 0 : v >> n;
	case ARM_SFT_ASR: return n >= 32 ? (uint32_t)((int32_t)v >> 31) : (uint32_t)((int32_t)v >> n);
	case ARM_SFT_ROR: n &= 31; return n ? (v >> n) | (v << (32 - n)) : v;
	case ARM_SFT_RRX: return (v >> 1) | ((cpsr >> 29 & 1u) << 31);
	default: return v;
	}
}

/* Does the condition pass with these NZCV flags? */
static bool condition_passes(arm_cc cc, uint32_t cpsr)
{
	bool n = cpsr >> 31 & 1, z = cpsr >> 30 & 1, c = cpsr >> 29 & 1, v = cpsr >> 28 & 1;

	switch (cc) {
	case ARM_CC_EQ: return z;
	case ARM_CC_NE: return !z;
	case ARM_CC_HS: return c;
	case ARM_CC_LO: return !c;
	case ARM_CC_MI: return n;
	case ARM_CC_PL: return !n;
	case ARM_CC_VS: return v;
	case ARM_CC_VC: return !v;
	case ARM_CC_HI: return c && !z;
	case ARM_CC_LS: return !c || z;
	case ARM_CC_GE: return n == v;
	case ARM_CC_LT: return n != v;
	case ARM_CC_GT: return !z && n == v;
	case ARM_CC_LE: return z || n != v;
	default: return true;
	}
}

/* A signed offset operand: an immediate or a shifted register, maybe subtracted. */
static int64_t offset_of(const struct isa_insn *out, const struct isa_regs *regs, const cs_arm_op *op)
{
	uint32_t cpsr = (uint32_t)regs->r[ARM_CPSR];
	int64_t off;

	if (op->type == ARM_OP_IMM)
		off = op->imm;
	else
		off = shifted(value(out, regs, op->reg), op->shift.type, op->shift.value, cpsr);
	return op->subtracted ? -off : off;
}

/* Writeback happens with the instruction, before any data access. */
enum { WRITEBACK_BEFORE = 1 };

static void single(const struct arm_op_info *info, const cs_arm *a, const struct isa_regs *regs,
		   struct isa_insn *out)
{
	uint32_t cpsr = (uint32_t)regs->r[ARM_CPSR];
	unsigned kind = info->transfer == T_LOAD ? ISA_ACC_READ :
			info->transfer == T_STORE ? ISA_ACC_WRITE : ISA_ACC_READ | ISA_ACC_WRITE;
	int mi = -1;
	int64_t offset;
	uint32_t base, addr;
	bool post, writeback;

	for (int i = 0; i < a->op_count; i++)
		if (a->operands[i].type == ARM_OP_MEM)
			mi = i;
	if (mi < 0)
		return;
	const arm_op_mem *m = &a->operands[mi].mem;

	base = value(out, regs, m->base);
	post = mi + 1 < a->op_count;
	if (post) {
		offset = offset_of(out, regs, &a->operands[mi + 1]);
		addr = base;
	} else {
		offset = m->disp;
		if (m->index != ARM_REG_INVALID) {
			int64_t ix = shifted(value(out, regs, m->index), a->operands[mi].shift.type,
					     a->operands[mi].shift.value, cpsr);

			offset += a->operands[mi].subtracted ? -ix : ix;
		}
		addr = (uint32_t)(base + (uint64_t)offset);
	}
	for (unsigned i = 0; i < info->count; i++)
		isa_add_access(out, (uint32_t)(addr + info->size * i), info->size, kind,
			       ISA_ROLE_OPERAND, mi, true);
	writeback = post || a->writeback;
	if (writeback && regno(m->base) >= 0)
		isa_add_effect(out, (unsigned)regno(m->base), offset, WRITEBACK_BEFORE);
}

/*
 * ldm/stm/push/pop: the lowest register at the lowest address, addresses
 * rising (ARM ARM, "Load and Store Multiple addressing modes").
 */
static void multiple(const struct arm_op_info *info, bool stack, const cs_arm *a,
		     const struct isa_regs *regs, struct isa_insn *out)
{
	/* push and pop: SP and its writeback are implied (Capstone: writeback=0). */
	int first = stack ? 0 : 1;
	int base_reg = stack ? ARM_SP : regno(a->operands[0].reg);
	uint32_t base = (uint32_t)regs->r[base_reg], start = 0;
	unsigned n = (unsigned)(a->op_count - first);
	unsigned kind = info->transfer == T_LDM ? ISA_ACC_READ : ISA_ACC_WRITE;
	int64_t delta = info->mode == IA || info->mode == IB ? 4 * (int64_t)n : -4 * (int64_t)n;

	switch (info->mode) {
	case IA: start = base; break;
	case IB: start = base + 4; break;
	case DA: start = base - 4 * n + 4; break;
	case DB: start = base - 4 * n; break;
	}
	for (unsigned i = 0; i < n; i++)
		isa_add_access(out, start + 4 * i, 4, kind, ISA_ROLE_MULTI, first + (int)i, true);
	if (stack || a->writeback)
		isa_add_effect(out, (unsigned)base_reg, delta, WRITEBACK_BEFORE);
}

static int arm_decode(csh cs, const cs_insn *ci, const struct isa_regs *regs, struct isa_insn *out)
{
	const cs_arm *a = &ci->detail->arm;
	const struct arm_op_info *info = find_op(ci->id);

	(void)cs;
	/* A failed condition makes no access and changes nothing. */
	if (!condition_passes(a->cc, (uint32_t)regs->r[ARM_CPSR]))
		return ISA_OK;
	if (!info) {
		for (int i = 0; i < a->op_count; i++)
			if (a->operands[i].type == ARM_OP_MEM)
				out->flags |= ISA_INSN_INCOMPLETE;
		return ISA_OK;
	}
	switch ((enum transfer)info->transfer) {
	case T_LOAD: case T_STORE: case T_SWAP:
		single(info, a, regs, out);
		break;
	case T_LDM: case T_STM:
		multiple(info, ci->id == ARM_INS_PUSH || ci->id == ARM_INS_POP, a, regs, out);
		break;
	case T_OTHER:
		out->flags |= ISA_INSN_INCOMPLETE;
		break;
	case T_NONE:
		break;
	}
	return ISA_OK;
}

const struct isa_arch_desc isa_arm_desc = {
	.name = "arm",
	.cs_arch = CS_ARCH_ARM,
	.cs_mode = CS_MODE_ARM,
	.model = "base-updated",
	.addr_bits = 32,
	.pc_reg = ARM_PC,
	.n_regs = ARM_NREGS,
	.regs = arm_regs_desc,
	.aliases = arm_aliases,
	.decode = arm_decode,
};
