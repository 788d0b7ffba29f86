// SPDX-License-Identifier: MIT
/*
 * x86-64: registers, effective addresses, and the explicit memory operands
 * of an instruction. Implicit accesses (stack, xlat) and Capstone's
 * corrections are in x86_implicit.c, string instructions in x86_string.c.
 *
 * Faults on x86 are precise: an instruction that faults has changed no
 * register (a rep string instruction has completed whole iterations only,
 * with RCX, RSI and RDI telling how many), so its effects all come after
 * its last access and a backup plan is always empty.
 */
#include <string.h>

#include "internal.h"

static const struct isa_reg_desc x86_regs_desc[X86_NREGS] = {
	{ "rax", 64 }, { "rbx", 64 }, { "rcx", 64 }, { "rdx", 64 },
	{ "rsi", 64 }, { "rdi", 64 }, { "rsp", 64 }, { "rbp", 64 },
	{ "r8", 64 }, { "r9", 64 }, { "r10", 64 }, { "r11", 64 },
	{ "r12", 64 }, { "r13", 64 }, { "r14", 64 }, { "r15", 64 },
	{ "rip", 64 }, { "rflags", 64 }, { "fs_base", 64 }, { "gs_base", 64 },
};

static const struct isa_reg_alias x86_aliases[] = {
	{ "pc", X86_RIP }, { NULL, 0 },
};

/* Capstone's names of each general register at 64, 32, 16 and 8 bits. */
static const uint16_t gpr_cs[16][4] = {
	{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL },
	{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL },
	{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL },
	{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL },
	{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
	{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
	{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
	{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
	{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
	{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
	{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
	{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
	{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
	{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
	{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
	{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
};

void isa_x86_regs_to_file(const struct x86_regs *x, struct isa_regs *out)
{
	/* struct x86_regs is X86_NREGS uint64_t in register-number order. */
	_Static_assert(sizeof(struct x86_regs) == X86_NREGS * sizeof(uint64_t), "x86_regs layout");
	memset(out, 0, sizeof(*out));
	memcpy(out->r, x, sizeof(*x));
}

void isa_x86_regs_from_file(const struct isa_regs *r, struct x86_regs *out)
{
	memcpy(out, r->r, sizeof(*out));
}

bool x86_reg_value(const struct x86_decode *d, unsigned cs_reg, uint64_t *value)
{
	static const unsigned bits[4] = { 64, 32, 16, 8 };
	const uint64_t *r = d->regs->r;
	uint64_t next_rip = d->out->pc + d->out->len;

	switch (cs_reg) {
	case X86_REG_RIP: *value = next_rip; return true;
	case X86_REG_EIP: *value = isa_mask(32, next_rip); return true;
	case X86_REG_AH: *value = (r[X86_RAX] >> 8) & 0xff; return true;
	case X86_REG_BH: *value = (r[X86_RBX] >> 8) & 0xff; return true;
	case X86_REG_CH: *value = (r[X86_RCX] >> 8) & 0xff; return true;
	case X86_REG_DH: *value = (r[X86_RDX] >> 8) & 0xff; return true;
	}
	for (unsigned g = 0; g < 16; g++)
		for (unsigned w = 0; w < 4; w++)
			if (gpr_cs[g][w] == cs_reg) {
				*value = isa_mask(bits[w], r[g]);
				return true;
			}
	return false;
}

static bool is_stack_pointer(unsigned cs_reg)
{
	return cs_reg == X86_REG_RSP || cs_reg == X86_REG_ESP;
}

bool x86_operand_addr(const struct x86_decode *d, unsigned opi, int64_t rsp_adjust,
		      uint64_t *addr)
{
	const cs_x86 *x = &d->ci->detail->x86;
	const x86_op_mem *m = &x->operands[opi].mem;
	uint64_t ea = (uint64_t)m->disp, v, seg = 0;

	if (m->base != X86_REG_INVALID) {
		if (!x86_reg_value(d, m->base, &v))
			return false;
		if (is_stack_pointer(m->base))
			v += (uint64_t)rsp_adjust;
		ea += v;
	}
	if (m->index != X86_REG_INVALID) {
		/* A vector index (VSIB gathers and scatters) has no one address. */
		if (!x86_reg_value(d, m->index, &v))
			return false;
		ea += v * (uint64_t)m->scale;
	}
	/* The 0x67 prefix truncates the effective address, not the segment base. */
	ea = isa_mask(x->addr_size * 8u, ea);
	if (m->segment == X86_REG_FS)
		seg = d->regs->r[X86_FS_BASE];
	else if (m->segment == X86_REG_GS)
		seg = d->regs->r[X86_GS_BASE];
	*addr = seg + ea;
	return true;
}

void x86_add_operand(const struct x86_decode *d, unsigned opi, unsigned kind, int64_t rsp_adjust)
{
	const cs_x86_op *op = &d->ci->detail->x86.operands[opi];
	uint64_t addr = 0;
	bool known = x86_operand_addr(d, opi, rsp_adjust, &addr);

	isa_add_access(d->out, addr, op->size, kind, ISA_ROLE_OPERAND, (int)opi, known);
}

static int x86_decode(csh cs, const cs_insn *ci, const struct isa_regs *regs, struct isa_insn *out)
{
	const struct x86_decode d = { .cs = cs, .ci = ci, .regs = regs, .out = out };
	const cs_x86 *x = &ci->detail->x86;
	/* Architectural order: an instruction reads its sources before it writes. */
	static const unsigned order[] = { CS_AC_READ, CS_AC_READ | CS_AC_WRITE, CS_AC_WRITE };

	if (x86_string(&d) || x86_implicit(&d))
		return ISA_OK;
	for (unsigned i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].access == 0) {
			/* Capstone does not know: say read, and that we are unsure. */
			x86_add_operand(&d, i, ISA_ACC_READ, 0);
			out->flags |= ISA_INSN_INCOMPLETE;
		}
	for (unsigned pass = 0; pass < 3; pass++)
		for (unsigned i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			unsigned kind = 0;

			if (op->type != X86_OP_MEM || op->access != order[pass])
				continue;
			kind |= op->access & CS_AC_READ ? ISA_ACC_READ : 0;
			kind |= op->access & CS_AC_WRITE ? ISA_ACC_WRITE : 0;
			x86_add_operand(&d, i, kind, 0);
		}
	return ISA_OK;
}

const struct isa_arch_desc isa_x86_64_desc = {
	.name = "x86-64",
	.cs_arch = CS_ARCH_X86,
	.cs_mode = CS_MODE_64,
	.model = "precise",
	.addr_bits = 64,
	.pc_reg = X86_RIP,
	.n_regs = X86_NREGS,
	.regs = x86_regs_desc,
	.aliases = x86_aliases,
	.decode = x86_decode,
};

int isa_x86_accesses(const uint8_t *bytes, size_t len, uint64_t rip,
		     const struct x86_regs *regs, struct isa_insn *out)
{
	struct isa_regs file;

	isa_x86_regs_to_file(regs, &file);
	return isa_decode(ISA_X86_64, bytes, len, rip, &file, out);
}
