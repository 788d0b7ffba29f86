// SPDX-License-Identifier: MIT
/*
 * Instruction backup: undo the register side effects a fault left behind so
 * that the instruction can be restarted from its first byte.
 *
 * Every architecture file states its fault model as the `before` index of
 * each effect (see isa.h): an effect with before <= k has happened when
 * access k faults. Undoing is then the same everywhere: subtract, per
 * register, the sum of the deltas that happened. Effects are deltas only;
 * registers that a partly done load overwrote are loaded again by the
 * restarted instruction.
 */
#include "internal.h"

int isa_backup_plan(const struct isa_insn *insn, unsigned fault_access,
		    struct isa_fixup out[ISA_MAX_EFFECTS])
{
	int64_t sum[ISA_MAX_REGS] = { 0 };
	bool touched[ISA_MAX_REGS] = { false };
	int n = 0;

	if (fault_access >= insn->n_access)
		return ISA_ERR_RANGE;
	for (unsigned i = 0; i < insn->n_effect; i++) {
		const struct isa_effect *e = &insn->effect[i];

		if (e->before <= fault_access) {
			/* Wrapping sum: registers are at most 64 bits wide. */
			sum[e->reg] = (int64_t)((uint64_t)sum[e->reg] - (uint64_t)e->delta);
			touched[e->reg] = true;
		}
	}
	for (unsigned r = 0; r < ISA_MAX_REGS; r++) {
		unsigned bits = isa_reg_bits(insn->arch, r);

		if (!touched[r] || bits == 0 || isa_mask(bits, (uint64_t)sum[r]) == 0)
			continue;
		out[n++] = (struct isa_fixup){ .reg = (uint8_t)r, .delta = isa_sext(bits, (uint64_t)sum[r]) };
	}
	return n;
}

void isa_apply_effects(const struct isa_insn *insn, unsigned k, struct isa_regs *regs)
{
	for (unsigned i = 0; i < insn->n_effect; i++)
		if (insn->effect[i].before <= k)
			isa_reg_add(insn->arch, regs, insn->effect[i].reg, insn->effect[i].delta);
}

void isa_apply_fixups(enum isa_arch arch, const struct isa_fixup *fix, unsigned n,
		      struct isa_regs *regs)
{
	for (unsigned i = 0; i < n; i++)
		isa_reg_add(arch, regs, fix[i].reg, fix[i].delta);
}
