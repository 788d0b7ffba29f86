// SPDX-License-Identifier: MIT
/*
 * x86 string instructions: movs, cmps, stos, lods, scas, ins, outs.
 *
 * One iteration reads [rsi] (DS, or a segment override) and/or accesses
 * [rdi] (always ES, base 0 in 64-bit mode), then steps RSI and RDI by the
 * element size, down when RFLAGS.DF is set. With a rep prefix RCX counts
 * the iterations left and a fault stops between two of them with RCX, RSI
 * and RDI describing the iterations done (SDM vol. 1, "Repeated string
 * operations"): the access list holds the next iteration's elements and
 * isa_match_fault() walks the remaining ones.
 */
#include "internal.h"

/* What the [rsi] and [rdi] elements of each string opcode do. */
struct string_op {
	uint8_t opcode; /* the byte form; +1 is the word/dword/qword form */
	uint8_t src;    /* ISA_ACC_* of [rsi], 0 if none */
	uint8_t dst;    /* ISA_ACC_* of [rdi], 0 if none */
};

static const struct string_op string_ops[] = {
	{ 0xa4, ISA_ACC_READ, ISA_ACC_WRITE }, /* movs */
	{ 0xa6, ISA_ACC_READ, ISA_ACC_READ },  /* cmps */
	{ 0xaa, 0, ISA_ACC_WRITE },            /* stos */
	{ 0xac, ISA_ACC_READ, 0 },             /* lods */
	{ 0xae, 0, ISA_ACC_READ },             /* scas */
	{ 0x6c, 0, ISA_ACC_WRITE },            /* ins */
	{ 0x6e, ISA_ACC_READ, 0 },             /* outs */
};

static const struct string_op *find_string_op(const cs_x86 *x)
{
	for (size_t i = 0; i < sizeof(string_ops) / sizeof(string_ops[0]); i++)
		if ((x->opcode[0] & ~1u) == string_ops[i].opcode && x->opcode[1] == 0)
			return &string_ops[i];
	return NULL;
}

static bool is_rsi(unsigned r)
{
	return r == X86_REG_RSI || r == X86_REG_ESI;
}

bool x86_string(const struct x86_decode *d)
{
	const cs_x86 *x = &d->ci->detail->x86;
	const struct string_op *sop = find_string_op(x);
	struct isa_x86_string *s = &d->out->str;
	const uint64_t *r = d->regs->r;
	unsigned src_seg = X86_REG_INVALID;

	if (!sop)
		return false;
	/* Element size and a source segment override come from Capstone's operands. */
	for (unsigned i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type != X86_OP_MEM)
			continue;
		s->elem = op->size;
		if (is_rsi(op->mem.base))
			src_seg = op->mem.segment;
	}
	s->present = true;
	s->rep = x->prefix[0] == X86_PREFIX_REP || x->prefix[0] == X86_PREFIX_REPNE;
	s->addr_bits = (uint8_t)(x->addr_size * 8u);
	s->step = r[X86_RFLAGS] & X86_RFLAGS_DF ? -(int64_t)s->elem : (int64_t)s->elem;
	s->rcx = isa_mask(s->addr_bits, r[X86_RCX]);
	s->rsi = isa_mask(s->addr_bits, r[X86_RSI]);
	s->rdi = isa_mask(s->addr_bits, r[X86_RDI]);
	s->count = s->rep ? s->rcx : 1;
	s->src_base = src_seg == X86_REG_FS ? r[X86_FS_BASE] :
		      src_seg == X86_REG_GS ? r[X86_GS_BASE] : 0;
	if (s->count == 0)
		return true; /* rep with RCX = 0: no iteration, no access */
	if (sop->src)
		s->src_access = (int8_t)isa_add_access(d->out, s->src_base + s->rsi, s->elem,
						       sop->src, ISA_ROLE_SRC, -1, true);
	if (sop->dst)
		s->dst_access = (int8_t)isa_add_access(d->out, s->rdi, s->elem, sop->dst,
						       ISA_ROLE_DST, -1, true);
	/* One iteration's register steps, done once the iteration completes. */
	if (sop->src)
		isa_add_effect(d->out, X86_RSI, s->step, d->out->n_access);
	if (sop->dst)
		isa_add_effect(d->out, X86_RDI, s->step, d->out->n_access);
	if (s->rep)
		isa_add_effect(d->out, X86_RCX, -1, d->out->n_access);
	return true;
}
