// SPDX-License-Identifier: MIT
/* The --fault-log format: see fault_log.h and docs/restart.md. */
#include "fault_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/abi.h"

struct fault_log {
	FILE *out;
	unsigned long long seq;   /* traps logged so far */
	struct inspect_trap trap; /* large: kept here rather than on the stack */
};

struct fault_log *fault_log_new(FILE *out)
{
	struct fault_log *fl = calloc(1, sizeof(*fl));

	if (fl)
		fl->out = out;
	return fl;
}

void fault_log_free(struct fault_log *fl)
{
	free(fl);
}

void fault_log_line(struct fault_log *fl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(fl->out, fmt, ap);
	va_end(ap);
	fputc('\n', fl->out);
}

static const char *kind_name(enum access_kind kind)
{
	return kind == ACCESS_WRITE ? "write" : kind == ACCESS_FETCH ? "fetch" : "read";
}

static const char *isa_kind_name(unsigned kind)
{
	if (kind & ISA_ACC_FETCH)
		return "fetch";
	if ((kind & ISA_ACC_READ) && (kind & ISA_ACC_WRITE))
		return "read-write";
	return kind & ISA_ACC_WRITE ? "write" : "read";
}

/*
 * The registers worth showing for an instruction: those its text names
 * (any width: "esi" is RSI), RSP when it touches the stack, RCX, RSI and
 * RDI for a string instruction (RCX only with rep). A bit per register of
 * struct x86_regs, whose order the line follows.
 */
static const char *const gpr_names[16][4] = {
	{ "rax", "eax", "ax", "al" },     { "rbx", "ebx", "bx", "bl" },
	{ "rcx", "ecx", "cx", "cl" },     { "rdx", "edx", "dx", "dl" },
	{ "rsi", "esi", "si", "sil" },    { "rdi", "edi", "di", "dil" },
	{ "rsp", "esp", "sp", "spl" },    { "rbp", "ebp", "bp", "bpl" },
	{ "r8", "r8d", "r8w", "r8b" },    { "r9", "r9d", "r9w", "r9b" },
	{ "r10", "r10d", "r10w", "r10b" }, { "r11", "r11d", "r11w", "r11b" },
	{ "r12", "r12d", "r12w", "r12b" }, { "r13", "r13d", "r13w", "r13b" },
	{ "r14", "r14d", "r14w", "r14b" }, { "r15", "r15d", "r15w", "r15b" },
};
enum { GPR_RCX = 2, GPR_RSI = 4, GPR_RDI = 5, GPR_RSP = 6 };

static int gpr_of(const char *word)
{
	static const char *const high[4] = { "ah", "bh", "ch", "dh" };

	for (int r = 0; r < 16; r++)
		for (int w = 0; w < 4; w++)
			if (strcmp(gpr_names[r][w], word) == 0)
				return r;
	for (int r = 0; r < 4; r++)
		if (strcmp(high[r], word) == 0)
			return r;
	return -1;
}

static unsigned relevant_regs(const struct isa_insn *insn)
{
	unsigned set = 0;
	const char *p = insn->text;

	while (*p) {
		char word[8];
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");

		if (n == 0) {
			p++;
			continue;
		}
		if (n < sizeof(word)) {
			int r;

			memcpy(word, p, n);
			word[n] = '\0';
			r = gpr_of(word);
			if (r >= 0)
				set |= 1u << r;
		}
		p += n;
	}
	for (unsigned i = 0; i < insn->n_access; i++)
		if (insn->access[i].role == ISA_ROLE_STACK)
			set |= 1u << GPR_RSP;
	if (insn->str.present)
		set |= 1u << GPR_RSI | 1u << GPR_RDI | (insn->str.rep ? 1u << GPR_RCX : 0);
	return set;
}

static void log_insn(struct fault_log *fl, const struct inspect_trap *t)
{
	FILE *out = fl->out;
	size_t n = t->decoded == ISA_OK ? t->insn.len : t->nbytes;

	if (t->nbytes == 0) {
		fprintf(out, "  insn   rip 0x%llx (not in guest RAM)\n",
			(unsigned long long)t->regs.rip);
		return;
	}
	fprintf(out, "  insn   rip 0x%llx [", (unsigned long long)t->regs.rip);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%02x", i ? " " : "", t->bytes[i]);
	if (t->decoded != ISA_OK) {
		fprintf(out, "] (undecodable: %s)\n", isa_strerror(t->decoded));
		return;
	}
	fprintf(out, "] %s\n", t->insn.text);
}

static void log_access(struct fault_log *fl, const struct inspect_trap *t, vpn_t vpn)
{
	const struct isa_fault_match *m = &t->match;
	const struct isa_access *a;
	struct isa_access at;
	struct isa_span parts[2];

	if (t->matched != ISA_OK) {
		fprintf(fl->out, "  access none of the instruction's accesses touches page %u\n", vpn);
		return;
	}
	a = &t->insn.access[m->access];
	at = *a;
	/* A string instruction's access is the element of the iteration
	 * that faulted (the current one, decoded at the fault). */
	if (m->string)
		at.addr = m->access == t->insn.str.src_access ? t->insn.str.src_base + m->rsi
							       : m->rdi;
	fprintf(fl->out, "  access %d: ", m->access);
	if (a->role != ISA_ROLE_FETCH) /* else "fetch fetch" */
		fprintf(fl->out, "%s ", isa_role_name((enum isa_role)a->role));
	fprintf(fl->out, "%s, %u byte%s at 0x%llx", isa_kind_name(a->kind), a->size,
		a->size == 1 ? "" : "s", (unsigned long long)at.addr);
	if (isa_access_split(&at, PFLAB_PAGE_SIZE, parts) == 2)
		fprintf(fl->out, "; straddles a page boundary: part %d faulted, %u byte%s at 0x%llx",
			m->part, m->part_size, m->part_size == 1 ? "" : "s",
			(unsigned long long)m->part_addr);
	fputc('\n', fl->out);
}

static void log_regs(struct fault_log *fl, const struct inspect_trap *t)
{
	const uint64_t *r = &t->regs.rax; /* struct x86_regs: the 16 GPRs first, in order */
	unsigned set = relevant_regs(&t->insn);

	if (!set)
		return;
	fputs("  regs  ", fl->out);
	for (int i = 0; i < 16; i++)
		if (set & (1u << i))
			fprintf(fl->out, " %s 0x%llx", gpr_names[i][0], (unsigned long long)r[i]);
	fputc('\n', fl->out);
}

void fault_log_detail(struct fault_log *fl, vpn_t vpn, const struct inspect_trap *t)
{
	log_insn(fl, t);
	if (t->decoded != ISA_OK)
		return;
	log_access(fl, t, vpn);
	log_regs(fl, t);
}

void fault_log_fault(struct fault_log *fl, struct kvm_vm *vm, const struct guest_ram *ram,
		     const struct fault_event *ev)
{
	FILE *out = fl->out;
	struct inspect_trap *t = &fl->trap;

	fprintf(out, "fault %llu: page %u %s", ++fl->seq, ev->vpn, kind_name(ev->kind));
	if (ev->soft) {
		fputs(", soft (no I/O)\n", out);
	} else {
		fprintf(out, " -> frame %u", ev->frame);
		if (ev->evicted)
			fprintf(out, ", evicted page %u (%s)", ev->victim,
				ev->written_back ? "written back" : "clean");
		fprintf(out, ", %s\n", ev->major ? "major" : "minor (zero-filled)");
	}
	if (!ev->inspect) {
		fputs("  insn   unknown (the vCPU waits inside the kernel under the uffd trap)\n", out);
		return;
	}
	if (inspect_trap(vm, ram, PFLAB_DATA_BASE + (uint64_t)ev->vpn * PFLAB_PAGE_SIZE, ev->kind,
			 t) != 0) {
		fputs("  insn   unknown (the vCPU's registers cannot be read)\n", out);
		return;
	}
	fault_log_detail(fl, ev->vpn, t);
}
