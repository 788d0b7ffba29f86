// SPDX-License-Identifier: MIT
/* What the vCPU was doing: see inspect.h. */
#include "inspect.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "isa.h"
#include "pagewalk.h"

#define INSN_MAX INSPECT_INSN_MAX
#define PAGE 4096u

#define SYNC_WANTED (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

/*
 * The vCPU's registers as of its last exit. The first call reads them with
 * KVM_GET_REGS and KVM_GET_SREGS (5 us each here) and, where KVM has
 * KVM_CAP_SYNC_REGS, asks it to leave a copy in kvm_run at every exit from
 * then on, which later calls read instead. Nothing in pflab sets registers
 * between an exit and an inspection, so the copy is current. 0, or -1 if
 * the general registers cannot be read; *ks zeroed if the others cannot.
 */
static int read_regs(struct kvm_vm *vm, struct kvm_regs *kr, struct kvm_sregs *ks)
{
	struct kvm_run *run = vm->run;
	int cap;

	if (run && (run->kvm_valid_regs & SYNC_WANTED) == SYNC_WANTED) {
		*kr = run->s.regs.regs;
		*ks = run->s.regs.sregs;
		return 0;
	}
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, kr) != 0)
		return -1;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, ks) != 0) {
		memset(ks, 0, sizeof(*ks));
	} else if (run && (cap = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS)) > 0 &&
		   (cap & SYNC_WANTED) == SYNC_WANTED) {
		/* KVM fills the copy at the next exit: until then, ours */
		run->s.regs.regs = *kr;
		run->s.regs.sregs = *ks;
		run->kvm_valid_regs |= SYNC_WANTED;
	}
	return 0;
}

/* la's guest-physical address: the host's own page walk where it can,
 * else KVM_TRANSLATE (an ioctl, 9 us here). */
static int translate_la(struct kvm_vm *vm, const struct guest_ram *ram, const struct kvm_sregs *ks,
			uint64_t la, uint64_t *gpa)
{
	if (pagewalk(ram, ks, la, gpa) == 0)
		return 0;
	return kvm_vm_translate(vm, la, gpa);
}

/*
 * The registers and up to INSN_MAX bytes at RIP, read page by page through
 * the vCPU's page tables from wired memory or a readable data page. Returns
 * the byte count (0 if RIP's page is neither), -1 if the registers cannot
 * be read. *missing is the guest-physical address of the page that cut the
 * bytes short (not readable now), or UINT64_MAX.
 */
static int fetch(struct kvm_vm *vm, const struct guest_ram *ram, struct x86_regs *xr,
		 struct kvm_sregs *ks_out, uint8_t *bytes, uint64_t *missing)
{
	struct kvm_regs kr;
	struct kvm_sregs ks;
	size_t n = 0;

	if (read_regs(vm, &kr, &ks) != 0)
		return -1;
	*xr = (struct x86_regs){
		kr.rax, kr.rbx, kr.rcx, kr.rdx, kr.rsi, kr.rdi, kr.rsp, kr.rbp,
		kr.r8, kr.r9, kr.r10, kr.r11, kr.r12, kr.r13, kr.r14, kr.r15,
		kr.rip, kr.rflags, 0, 0,
	};
	xr->fs_base = ks.fs.base; /* 0 if unknown; then CR0.PG is 0: no walk of our own */
	xr->gs_base = ks.gs.base;
	if (ks_out)
		*ks_out = ks;
	*missing = UINT64_MAX;
	while (n < INSN_MAX) {
		uint64_t la = kr.rip + n, gpa;
		size_t chunk = PAGE - (la & (PAGE - 1));
		const uint8_t *from = NULL;

		if (chunk > INSN_MAX - n)
			chunk = INSN_MAX - n;
		if (translate_la(vm, ram, &ks, la, &gpa) != 0)
			break;
		if (gpa < ram->wired_size && chunk <= ram->wired_size - gpa)
			from = ram->wired + gpa;
		else if (ram->page && (from = ram->page(ram->ctx, gpa & ~(uint64_t)(PAGE - 1))))
			from += gpa & (PAGE - 1);
		if (!from) {
			*missing = gpa;
			break;
		}
		memcpy(bytes + n, from, chunk);
		n += chunk;
	}
	return (int)n;
}

int inspect_fault(struct kvm_vm *vm, const struct guest_ram *ram,
		  int (*traps)(void *ctx, uint64_t gpa, int write), void *ctx, uint64_t *gpa,
		  enum access_kind *kind)
{
	struct isa_insn insn; /* 2.4 KB: on the caller's (a vCPU thread's) stack */
	struct x86_regs xr;
	uint8_t bytes[INSN_MAX];
	uint64_t missing;
	struct kvm_sregs ks;
	int n = fetch(vm, ram, &xr, &ks, bytes, &missing);

	if (n < 0)
		return -1;
	if (n == 0 || isa_x86_accesses(bytes, (size_t)n, xr.rip, &xr, &insn) != ISA_OK) {
		/* No instruction in the bytes there are: if they stop at a page
		 * that traps, the fetch faulted there. (x86 code is prefix-free:
		 * cut short, an instruction never decodes as a shorter one.) */
		if (missing != UINT64_MAX && traps(ctx, missing, 0)) {
			*gpa = missing;
			*kind = ACCESS_FETCH;
			return 0;
		}
		return -1;
	}
	for (unsigned k = 0; k < insn.n_access; k++) {
		const struct isa_access *a = &insn.access[k];
		struct isa_span span[2];
		unsigned parts;

		if ((a->kind & ISA_ACC_FETCH) || !a->addr_known || a->size == 0)
			continue;
		parts = isa_access_split(a, 4096, span);
		for (unsigned i = 0; i < parts; i++) {
			uint64_t phys;

			int w = (a->kind & ISA_ACC_WRITE) != 0;

			if (translate_la(vm, ram, &ks, span[i].addr, &phys) != 0 ||
			    !traps(ctx, phys, w))
				continue;
			*gpa = phys;
			*kind = w ? ACCESS_WRITE : ACCESS_READ;
			return 0;
		}
	}
	return -1;
}

void inspect_rip(struct kvm_vm *vm, const struct guest_ram *ram, char *buf, size_t len)
{
	struct isa_insn insn; /* 2.4 KB: on the caller's (a vCPU thread's) stack */
	struct x86_regs xr;
	uint8_t bytes[INSN_MAX];
	uint64_t missing;
	int got = fetch(vm, ram, &xr, NULL, bytes, &missing);
	size_t n, used;

	if (got < 0) {
		snprintf(buf, len, "rip unknown (KVM_GET_REGS failed)");
		return;
	}
	used = (size_t)snprintf(buf, len, "rip 0x%llx", (unsigned long long)xr.rip);
	if (used >= len)
		return;
	if (got == 0) {
		snprintf(buf + used, len - used, " (not in guest RAM)");
		return;
	}
	n = (size_t)got;
	if (isa_x86_accesses(bytes, n, xr.rip, &xr, &insn) == ISA_OK)
		n = insn.len;
	else
		snprintf(insn.text, sizeof(insn.text), "(undecodable)");
	used += (size_t)snprintf(buf + used, len - used, " [");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%02x", i ? " " : "", bytes[i]);
	if (used < len)
		snprintf(buf + used, len - used, "] %s", insn.text);
}

static int translate(void *ctx, uint64_t linear, uint64_t *phys)
{
	return kvm_vm_translate(ctx, linear, phys);
}

int inspect_trap(struct kvm_vm *vm, const struct guest_ram *ram, uint64_t gpa,
		 enum access_kind kind, struct inspect_trap *out)
{
	const struct isa_translator xlat = { translate, vm };
	uint64_t missing;
	int n = fetch(vm, ram, &out->regs, NULL, out->bytes, &missing);

	if (n < 0)
		return -1;
	out->nbytes = (size_t)n;
	out->decoded = n ? isa_x86_accesses(out->bytes, out->nbytes, out->regs.rip, &out->regs,
					    &out->insn)
			 : ISA_ERR_TRUNCATED;
	out->matched = ISA_ERR_NOMATCH;
	if (out->decoded == ISA_OK)
		out->matched = isa_match_fault(&out->insn, &(struct isa_fault){
			.addr = gpa,
			.kind = kind == ACCESS_FETCH ? ISA_ACC_FETCH
				: kind == ACCESS_WRITE ? ISA_ACC_WRITE : ISA_ACC_READ,
			.page_size = PAGE,
			.xlat = &xlat,
		}, &out->match);
	return 0;
}
