// SPDX-License-Identifier: MIT
/*
 * x86-64 instructions whose memory accesses Capstone 4 does not describe
 * (or describes wrongly), as a table: the stack accesses of push, pop,
 * call, ret, enter, leave and iretq with their RSP deltas (Capstone gives
 * no stack delta), xlat's table read, the read-write operands Capstone
 * marks read-only, fxsave's 512-byte area, and memory operands that are
 * not accessed at all (lea, nop, prefetch).
 *
 * Stack accesses follow the Intel SDM's pseudo-code for each instruction.
 * Effects come after the last access: x86 faults are precise.
 */
#include "internal.h"

enum x86_rule {
	RULE_NO_ACCESS,  /* an address computed, nothing accessed (or never faults) */
	RULE_RMW,        /* reads and writes its memory operand */
	RULE_SIZE,       /* Capstone's operand size is wrong: use the table's */
	RULE_PUSH,
	RULE_POP,
	RULE_CALL,
	RULE_RET,
	RULE_ENTER,
	RULE_LEAVE,
	RULE_IRETQ,
	RULE_XLAT,
	RULE_UNMODELLED, /* explicit operands only: the rest is not modelled */
};

struct x86_rule_entry {
	uint16_t id;      /* X86_INS_* */
	uint8_t rule;
	uint8_t kind;     /* RULE_SIZE: ISA_ACC_* */
	uint16_t size;    /* RULE_SIZE: bytes */
};

static const struct x86_rule_entry rules[] = {
	{ X86_INS_LEA, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_NOP, RULE_NO_ACCESS, 0, 0 },
	/* Prefetches are hints: they never fault. */
	{ X86_INS_PREFETCH, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_PREFETCHNTA, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_PREFETCHT0, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_PREFETCHT1, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_PREFETCHT2, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_PREFETCHW, RULE_NO_ACCESS, 0, 0 },
	{ X86_INS_INVLPG, RULE_NO_ACCESS, 0, 0 },
	/*
	 * Capstone 4 marks the memory operand of cmpxchg8b/16b and cmpxchg
	 * read-only. The SDM: the destination is written back even when the
	 * comparison fails, so they are read-modify-write (and fault as writes).
	 * xchg and xadd are right in Capstone; listed so the rule is in one place.
	 */
	{ X86_INS_CMPXCHG16B, RULE_RMW, 0, 0 },
	{ X86_INS_CMPXCHG8B, RULE_RMW, 0, 0 },
	{ X86_INS_CMPXCHG, RULE_RMW, 0, 0 },
	{ X86_INS_XADD, RULE_RMW, 0, 0 },
	{ X86_INS_XCHG, RULE_RMW, 0, 0 },
	/* The FXSAVE area is 512 bytes; Capstone says 8. */
	{ X86_INS_FXSAVE, RULE_SIZE, ISA_ACC_WRITE, 512 },
	{ X86_INS_FXSAVE64, RULE_SIZE, ISA_ACC_WRITE, 512 },
	{ X86_INS_FXRSTOR, RULE_SIZE, ISA_ACC_READ, 512 },
	{ X86_INS_FXRSTOR64, RULE_SIZE, ISA_ACC_READ, 512 },
	{ X86_INS_PUSH, RULE_PUSH, 0, 0 },
	{ X86_INS_PUSHF, RULE_PUSH, 0, 0 },
	{ X86_INS_PUSHFQ, RULE_PUSH, 0, 0 },
	{ X86_INS_POP, RULE_POP, 0, 0 },
	{ X86_INS_POPF, RULE_POP, 0, 0 },
	{ X86_INS_POPFQ, RULE_POP, 0, 0 },
	{ X86_INS_CALL, RULE_CALL, 0, 0 },
	{ X86_INS_RET, RULE_RET, 0, 0 },
	{ X86_INS_ENTER, RULE_ENTER, 0, 0 },
	{ X86_INS_LEAVE, RULE_LEAVE, 0, 0 },
	{ X86_INS_IRETQ, RULE_IRETQ, 0, 0 },
	{ X86_INS_XLATB, RULE_XLAT, 0, 0 },
	/* Another stack (interrupts), descriptor tables, or a size set by XCR0. */
	{ X86_INS_INT, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_INT1, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_INT3, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_INTO, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_IRET, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_IRETD, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_LCALL, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_LJMP, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_RETF, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_RETFQ, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVE, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVE64, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVEC, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVEC64, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVEOPT, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVEOPT64, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVES, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XSAVES64, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XRSTOR, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XRSTOR64, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XRSTORS, RULE_UNMODELLED, 0, 0 },
	{ X86_INS_XRSTORS64, RULE_UNMODELLED, 0, 0 },
};

static const struct x86_rule_entry *find_rule(unsigned id)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].id == id)
			return &rules[i];
	return NULL;
}

/* The stack operand size: 8 bytes in 64-bit mode, 2 with the 0x66 prefix. */
static unsigned stack_size(const struct x86_decode *d)
{
	return d->ci->detail->x86.prefix[2] == X86_PREFIX_OPSIZE ? 2 : 8;
}

static uint64_t reg(const struct x86_decode *d, unsigned r)
{
	return d->regs->r[r];
}

static void stack_access(const struct x86_decode *d, uint64_t addr, unsigned size, unsigned kind)
{
	isa_add_access(d->out, addr, size, kind, ISA_ROLE_STACK, -1, true);
}

/* RSP moves once the instruction completes. */
static void rsp_effect(const struct x86_decode *d, int64_t delta)
{
	isa_add_effect(d->out, X86_RSP, delta, d->out->n_access);
}

/* Memory operands with a fixed kind (or Capstone's when kind is 0). */
static void explicit_operands(const struct x86_decode *d, unsigned kind, int64_t rsp_adjust)
{
	const cs_x86 *x = &d->ci->detail->x86;

	for (unsigned i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		unsigned k = kind;

		if (op->type != X86_OP_MEM)
			continue;
		if (!k)
			k = (op->access & CS_AC_READ ? ISA_ACC_READ : 0) |
			    (op->access & CS_AC_WRITE ? ISA_ACC_WRITE : 0);
		x86_add_operand(d, i, k ? k : ISA_ACC_READ, rsp_adjust);
	}
}

static bool has_mem_operand(const struct x86_decode *d)
{
	const cs_x86 *x = &d->ci->detail->x86;

	return x->op_count > 0 && x->operands[0].type == X86_OP_MEM;
}

static void push(const struct x86_decode *d)
{
	unsigned n = stack_size(d);

	/* push [rsp+8] computes its address with RSP before the push. */
	if (has_mem_operand(d))
		explicit_operands(d, ISA_ACC_READ, 0);
	stack_access(d, reg(d, X86_RSP) - n, n, ISA_ACC_WRITE);
	rsp_effect(d, -(int64_t)n);
}

static void pop(const struct x86_decode *d)
{
	unsigned n = stack_size(d);

	stack_access(d, reg(d, X86_RSP), n, ISA_ACC_READ);
	/* SDM, POP: an RSP-based destination uses RSP after the increment. */
	if (has_mem_operand(d))
		explicit_operands(d, ISA_ACC_WRITE, n);
	rsp_effect(d, n);
}

static void call(const struct x86_decode *d)
{
	if (has_mem_operand(d))
		explicit_operands(d, ISA_ACC_READ, 0);
	stack_access(d, reg(d, X86_RSP) - 8, 8, ISA_ACC_WRITE);
	rsp_effect(d, -8);
}

static void ret(const struct x86_decode *d)
{
	const cs_x86 *x = &d->ci->detail->x86;
	int64_t release = x->op_count > 0 && x->operands[0].type == X86_OP_IMM ? x->operands[0].imm : 0;

	stack_access(d, reg(d, X86_RSP), 8, ISA_ACC_READ);
	rsp_effect(d, 8 + release);
}

/*
 * ENTER size, level (SDM pseudo-code, 64-bit operand size): push RBP; copy
 * level-1 frame pointers from the old frame; push the new frame pointer;
 * RBP = the new frame; RSP -= size.
 */
static void enter(const struct x86_decode *d)
{
	const cs_x86 *x = &d->ci->detail->x86;
	uint64_t rsp = reg(d, X86_RSP), rbp = reg(d, X86_RBP);
	uint64_t size = (uint64_t)x->operands[0].imm & 0xffff;
	unsigned level = (unsigned)x->operands[1].imm & 31;
	uint64_t frame = rsp - 8;

	stack_access(d, rsp - 8, 8, ISA_ACC_WRITE);
	for (unsigned i = 1; i < level; i++) {
		stack_access(d, rbp - 8 * i, 8, ISA_ACC_READ);
		stack_access(d, rsp - 8 - 8 * i, 8, ISA_ACC_WRITE);
	}
	if (level > 0)
		stack_access(d, rsp - 8 - 8 * (uint64_t)level, 8, ISA_ACC_WRITE);
	isa_add_effect(d->out, X86_RBP, (int64_t)(frame - rbp), d->out->n_access);
	rsp_effect(d, -(int64_t)(8 + 8 * (uint64_t)level + size));
}

/* LEAVE: RSP = RBP, then pop RBP (its new value comes from memory). */
static void leave(const struct x86_decode *d)
{
	uint64_t rbp = reg(d, X86_RBP);

	stack_access(d, rbp, 8, ISA_ACC_READ);
	rsp_effect(d, (int64_t)(rbp + 8 - reg(d, X86_RSP)));
}

/* IRETQ pops RIP, CS, RFLAGS, RSP and SS: 40 bytes. */
static void iretq(const struct x86_decode *d)
{
	stack_access(d, reg(d, X86_RSP), 40, ISA_ACC_READ);
}

/* XLAT reads [rbx + zero-extended al], DS or a segment override. */
static void xlat(const struct x86_decode *d)
{
	const cs_x86 *x = &d->ci->detail->x86;
	uint64_t ea = isa_mask(x->addr_size * 8u, reg(d, X86_RBX) + (reg(d, X86_RAX) & 0xff));
	uint64_t seg = x->prefix[1] == X86_PREFIX_FS ? reg(d, X86_FS_BASE) :
		       x->prefix[1] == X86_PREFIX_GS ? reg(d, X86_GS_BASE) : 0;

	isa_add_access(d->out, seg + ea, 1, ISA_ACC_READ, ISA_ROLE_TABLE, -1, true);
}

bool x86_implicit(const struct x86_decode *d)
{
	const struct x86_rule_entry *r = find_rule(d->ci->id);
	const cs_x86 *x = &d->ci->detail->x86;

	if (!r)
		return false;
	switch ((enum x86_rule)r->rule) {
	case RULE_NO_ACCESS:
		break;
	case RULE_RMW:
		explicit_operands(d, ISA_ACC_READ | ISA_ACC_WRITE, 0);
		break;
	case RULE_SIZE:
		for (unsigned i = 0; i < x->op_count; i++)
			if (x->operands[i].type == X86_OP_MEM) {
				uint64_t addr = 0;
				bool known = x86_operand_addr(d, i, 0, &addr);

				isa_add_access(d->out, addr, r->size, r->kind, ISA_ROLE_OPERAND,
					       (int)i, known);
			}
		break;
	case RULE_PUSH: push(d); break;
	case RULE_POP: pop(d); break;
	case RULE_CALL: call(d); break;
	case RULE_RET: ret(d); break;
	case RULE_ENTER: enter(d); break;
	case RULE_LEAVE: leave(d); break;
	case RULE_IRETQ: iretq(d); break;
	case RULE_XLAT: xlat(d); break;
	case RULE_UNMODELLED:
		explicit_operands(d, 0, 0);
		d->out->flags |= ISA_INSN_INCOMPLETE;
		break;
	}
	return true;
}
