// SPDX-License-Identifier: MIT
/* What the vCPU was doing: see inspect.h. */
#include "inspect.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "isa.h"

#define INSN_MAX 15

/* The registers and up to INSN_MAX bytes at RIP. Returns the byte count, 0
 * if RIP is not in wired memory, -1 if the registers cannot be read. */
static int fetch(struct kvm_vm *vm, const uint8_t *wired, uint64_t wired_size,
		 struct x86_regs *xr, uint8_t *bytes)
{
	struct kvm_regs kr;
	struct kvm_sregs ks;
	uint64_t gpa;
	size_t n = 0;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &kr) != 0)
		return -1;
	*xr = (struct x86_regs){
		kr.rax, kr.rbx, kr.rcx, kr.rdx, kr.rsi, kr.rdi, kr.rsp, kr.rbp,
		kr.r8, kr.r9, kr.r10, kr.r11, kr.r12, kr.r13, kr.r14, kr.r15,
		kr.rip, kr.rflags, 0, 0,
	};
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &ks) == 0) {
		xr->fs_base = ks.fs.base;
		xr->gs_base = ks.gs.base;
	}
	/* The bytes up to the end of their page, as long as they are wired. */
	if (kvm_vm_translate(vm, kr.rip, &gpa) == 0 && gpa < wired_size) {
		n = INSN_MAX;
		if (n > wired_size - gpa)
			n = (size_t)(wired_size - gpa);
		if (n > 4096 - (kr.rip & 4095))
			n = (size_t)(4096 - (kr.rip & 4095));
		memcpy(bytes, wired + gpa, n);
	}
	return (int)n;
}

int inspect_fault(struct kvm_vm *vm, const uint8_t *wired, uint64_t wired_size,
		  int (*traps)(void *ctx, uint64_t gpa, int write), void *ctx, uint64_t *gpa,
		  int *write)
{
	static struct isa_insn insn; /* large; only the vCPU thread decodes */
	struct x86_regs xr;
	uint8_t bytes[INSN_MAX];
	int n = fetch(vm, wired, wired_size, &xr, bytes);

	if (n <= 0 || isa_x86_accesses(bytes, (size_t)n, xr.rip, &xr, &insn) != ISA_OK)
		return -1;
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

			if (kvm_vm_translate(vm, span[i].addr, &phys) != 0 || !traps(ctx, phys, w))
				continue;
			*gpa = phys;
			*write = w;
			return 0;
		}
	}
	return -1;
}

void inspect_rip(struct kvm_vm *vm, const uint8_t *wired, uint64_t wired_size, char *buf,
		 size_t len)
{
	static struct isa_insn insn; /* large; only the vCPU thread decodes */
	struct x86_regs xr;
	uint8_t bytes[INSN_MAX];
	int got = fetch(vm, wired, wired_size, &xr, bytes);
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
