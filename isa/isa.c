// SPDX-License-Identifier: MIT
/*
 * The architecture-independent part of isa/: names, register files, and the
 * decode driver that runs Capstone and hands its detail to the architecture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct isa_arch_desc *const descs[ISA_ARCH_COUNT] = {
	[ISA_X86_64] = &isa_x86_64_desc,
	[ISA_M68K] = &isa_m68k_desc,
	[ISA_ARM] = &isa_arm_desc,
	[ISA_ARM64] = &isa_arm64_desc,
	[ISA_M6809] = &isa_m6809_desc,
};

const struct isa_arch_desc *isa_desc(enum isa_arch arch)
{
	return (unsigned)arch < ISA_ARCH_COUNT ? descs[arch] : NULL;
}

const char *isa_strerror(int err)
{
	switch (err) {
	case ISA_OK: return "success";
	case ISA_ERR_INVALID: return "not a valid instruction";
	case ISA_ERR_ARCH: return "unknown architecture";
	case ISA_ERR_CAPSTONE: return "Capstone could not be opened for this architecture";
	case ISA_ERR_NOMATCH: return "no access of the instruction touches the faulting address";
	case ISA_ERR_RANGE: return "value out of range";
	case ISA_ERR_TRUNCATED: return "the bytes end inside the instruction";
	}
	return "unknown error";
}

const char *isa_arch_name(enum isa_arch arch)
{
	const struct isa_arch_desc *d = isa_desc(arch);

	return d ? d->name : "?";
}

int isa_arch_from_name(const char *name)
{
	for (unsigned a = 0; a < ISA_ARCH_COUNT; a++)
		if (strcmp(descs[a]->name, name) == 0)
			return (int)a;
	return ISA_ERR_ARCH;
}

const char *isa_role_name(enum isa_role role)
{
	static const char *const names[] = {
		[ISA_ROLE_FETCH] = "fetch", [ISA_ROLE_OPERAND] = "operand",
		[ISA_ROLE_STACK] = "stack", [ISA_ROLE_SRC] = "src",
		[ISA_ROLE_DST] = "dst", [ISA_ROLE_TABLE] = "table",
		[ISA_ROLE_POINTER] = "pointer", [ISA_ROLE_MULTI] = "multi",
	};

	return (unsigned)role < sizeof(names) / sizeof(names[0]) ? names[role] : "?";
}

unsigned isa_reg_count(enum isa_arch arch)
{
	const struct isa_arch_desc *d = isa_desc(arch);

	return d ? d->n_regs : 0;
}

const char *isa_reg_name(enum isa_arch arch, unsigned regno)
{
	const struct isa_arch_desc *d = isa_desc(arch);

	return d && regno < d->n_regs ? d->regs[regno].name : "?";
}

unsigned isa_reg_bits(enum isa_arch arch, unsigned regno)
{
	const struct isa_arch_desc *d = isa_desc(arch);

	return d && regno < d->n_regs ? d->regs[regno].bits : 0;
}

unsigned isa_reg_pc(enum isa_arch arch)
{
	const struct isa_arch_desc *d = isa_desc(arch);

	return d ? d->pc_reg : 0;
}

int isa_reg_lookup(enum isa_arch arch, const char *name)
{
	const struct isa_arch_desc *d = isa_desc(arch);

	if (!d)
		return -1;
	for (unsigned i = 0; i < d->n_regs; i++)
		if (strcmp(d->regs[i].name, name) == 0)
			return (int)i;
	for (const struct isa_reg_alias *a = d->aliases; a && a->alias; a++)
		if (strcmp(a->alias, name) == 0)
			return a->regno;
	return -1;
}

int isa_reg_set(enum isa_arch arch, struct isa_regs *regs, const char *name, uint64_t value)
{
	int r;

	/* The 6809's D is A:B, not a register of its own. */
	if (arch == ISA_M6809 && strcmp(name, "d") == 0) {
		int a = isa_reg_lookup(arch, "a"), b = isa_reg_lookup(arch, "b");

		if (value > 0xffff)
			return ISA_ERR_RANGE;
		regs->r[a] = value >> 8;
		regs->r[b] = value & 0xff;
		return ISA_OK;
	}
	r = isa_reg_lookup(arch, name);
	if (r < 0 || isa_mask(isa_reg_bits(arch, (unsigned)r), value) != value)
		return ISA_ERR_RANGE;
	regs->r[r] = value;
	return ISA_OK;
}

void isa_reg_add(enum isa_arch arch, struct isa_regs *regs, unsigned reg, int64_t delta)
{
	regs->r[reg] = isa_mask(isa_reg_bits(arch, reg), regs->r[reg] + (uint64_t)delta);
}

int isa_add_access(struct isa_insn *insn, uint64_t addr, uint32_t size, unsigned kind,
		   enum isa_role role, int operand, bool addr_known)
{
	struct isa_access *a;

	if (insn->n_access >= ISA_MAX_ACCESSES) {
		insn->flags |= ISA_INSN_INCOMPLETE;
		return -1;
	}
	a = &insn->access[insn->n_access];
	*a = (struct isa_access){
		.addr = addr_known ? isa_mask(isa_desc(insn->arch)->addr_bits, addr) : 0,
		.size = size,
		.kind = (uint8_t)kind,
		.role = (uint8_t)role,
		.operand = (int8_t)operand,
		.implicit = operand < 0,
		.addr_known = addr_known,
	};
	if (!addr_known)
		insn->flags |= ISA_INSN_INCOMPLETE;
	return (int)insn->n_access++;
}

void isa_add_effect(struct isa_insn *insn, unsigned reg, int64_t delta, unsigned before)
{
	if (delta == 0)
		return;
	if (insn->n_effect >= ISA_MAX_EFFECTS) {
		insn->flags |= ISA_INSN_INCOMPLETE;
		return;
	}
	insn->effect[insn->n_effect++] = (struct isa_effect){
		.reg = (uint8_t)reg, .before = (uint8_t)before, .delta = delta,
	};
}

struct isa_decoder {
	enum isa_arch arch;
	const struct isa_arch_desc *desc;
	csh cs;
};

struct isa_decoder *isa_decoder_new(enum isa_arch arch)
{
	const struct isa_arch_desc *d = isa_desc(arch);
	struct isa_decoder *dec;

	if (!d || !(dec = calloc(1, sizeof(*dec))))
		return NULL;
	dec->arch = arch;
	dec->desc = d;
	if (cs_open(d->cs_arch, d->cs_mode, &dec->cs) != CS_ERR_OK) {
		free(dec);
		return NULL;
	}
	cs_option(dec->cs, CS_OPT_DETAIL, CS_OPT_ON);
	return dec;
}

void isa_decoder_free(struct isa_decoder *dec)
{
	if (!dec)
		return;
	cs_close(&dec->cs);
	free(dec);
}

int isa_decoder_run(struct isa_decoder *dec, const uint8_t *bytes, size_t len, uint64_t pc,
		    const struct isa_regs *regs, struct isa_insn *out)
{
	const struct isa_arch_desc *d = dec->desc;
	enum { ISA_PAD = 16 };
	uint8_t padded[64 + ISA_PAD];
	cs_insn *ci = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->arch = dec->arch;
	out->pc = isa_mask(d->addr_bits, pc);
	out->model = d->model;
	out->str.src_access = out->str.dst_access = -1;
	/*
	 * Decode from a zero-padded copy: Capstone's m68k decoder reads past
	 * the end of a short buffer (and makes up the missing words), so a
	 * truncated instruction shows as one longer than the bytes given.
	 */
	if (len > sizeof(padded) - ISA_PAD)
		len = sizeof(padded) - ISA_PAD;
	memset(padded, 0, sizeof(padded));
	memcpy(padded, bytes, len);
	if (len == 0 || cs_disasm(dec->cs, padded, len + ISA_PAD, out->pc, 1, &ci) != 1)
		return ISA_ERR_INVALID;
	if (ci->size > len) {
		cs_free(ci, 1);
		return ISA_ERR_TRUNCATED;
	}
	out->len = ci->size;
	snprintf(out->text, sizeof(out->text), "%s%s%s", ci->mnemonic,
		 ci->op_str[0] ? " " : "", ci->op_str);
	isa_add_access(out, out->pc, ci->size, ISA_ACC_FETCH, ISA_ROLE_FETCH, -1, true);
	rc = d->decode(dec->cs, ci, regs, out);
	cs_free(ci, 1);
	if (rc != ISA_OK) {
		memset(out, 0, sizeof(*out));
		out->arch = dec->arch;
	}
	return rc;
}

int isa_decode(enum isa_arch arch, const uint8_t *bytes, size_t len, uint64_t pc,
	       const struct isa_regs *regs, struct isa_insn *out)
{
	struct isa_decoder *dec;
	int rc;

	if (!isa_desc(arch))
		return ISA_ERR_ARCH;
	dec = isa_decoder_new(arch);
	if (!dec)
		return ISA_ERR_CAPSTONE;
	rc = isa_decoder_run(dec, bytes, len, pc, regs, out);
	isa_decoder_free(dec);
	return rc;
}

unsigned isa_access_split(const struct isa_access *a, uint64_t page_size, struct isa_span out[2])
{
	uint64_t end = a->addr + a->size;
	uint64_t boundary = (a->addr | (page_size - 1)) + 1;

	out[0] = (struct isa_span){ a->addr, a->size };
	if (a->size == 0 || end <= boundary || boundary == 0)
		return 1;
	out[0].size = (uint32_t)(boundary - a->addr);
	out[1] = (struct isa_span){ boundary, (uint32_t)(end - boundary) };
	return 2;
}
