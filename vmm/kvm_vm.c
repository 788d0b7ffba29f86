// SPDX-License-Identifier: MIT
/* A one-vCPU KVM virtual machine: see kvm_vm.h. */
#include "kvm_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define PTE_P  0x1ull
#define PTE_W  0x2ull
#define PTE_PS 0x80ull

#define GDT_CODE64 0x00af9a000000ffffull
#define GDT_DATA   0x00cf92000000ffffull
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

/* Guests may use at most what the host CPU offers: KVM refuses EFER.LME
 * unless the guest's CPUID says long mode. */
static int set_cpuid(struct kvm_vm *vm)
{
	int n = 128, rc;
	struct kvm_cpuid2 *cpuid;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = (uint32_t)n;
		rc = ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
		if (rc == 0 || errno != E2BIG)
			break;
		free(cpuid);
		n *= 2;
	}
	if (rc == 0)
		rc = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid);
	rc = rc ? -errno : 0;
	free(cpuid);
	return rc;
}

int kvm_vm_create(struct kvm_vm *vm, char *err, size_t errlen)
{
	int version, rc;

	*vm = (struct kvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(errno));
		return rc;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm speaks API version %d, pflab needs %d", version,
			 KVM_API_VERSION);
		kvm_vm_destroy(vm);
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "KVM_CREATE_VCPU: %s", strerror(errno));
		goto fail;
	}
	rc = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (rc < (int)sizeof(struct kvm_run)) {
		rc = -EINVAL;
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto fail;
	}
	vm->run_size = (size_t)rc;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		rc = -errno;
		vm->run = NULL;
		snprintf(err, errlen, "mmap of the vCPU's kvm_run: %s", strerror(errno));
		goto fail;
	}
	rc = set_cpuid(vm);
	if (rc) {
		snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	kvm_vm_destroy(vm);
	return rc;
}

int kvm_vm_add_vcpu(struct kvm_vm *vm, uint32_t id, struct kvm_vm *view, char *err, size_t errlen)
{
	int rc;

	*view = *vm;
	view->run = NULL;
	view->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (view->vcpu_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return rc;
	}
	view->run = mmap(NULL, view->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 view->vcpu_fd, 0);
	if (view->run == MAP_FAILED) {
		rc = -errno;
		view->run = NULL;
		snprintf(err, errlen, "mmap of vCPU %u's kvm_run: %s", id, strerror(errno));
		kvm_vm_vcpu_close(view);
		return rc;
	}
	rc = set_cpuid(view);
	if (rc) {
		snprintf(err, errlen, "KVM_SET_CPUID2 on vCPU %u: %s", id, strerror(-rc));
		kvm_vm_vcpu_close(view);
	}
	return rc;
}

void kvm_vm_vcpu_close(struct kvm_vm *view)
{
	if (view->run)
		munmap(view->run, view->run_size);
	if (view->vcpu_fd >= 0)
		close(view->vcpu_fd);
	view->run = NULL;
	view->vcpu_fd = -1;
}

int kvm_vm_set_rsi(struct kvm_vm *vm, uint64_t rsi)
{
	struct kvm_regs r;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r))
		return -errno;
	r.rsi = rsi;
	return ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) ? -errno : 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	*vm = (struct kvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
}

int kvm_vm_set_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		       void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

static struct kvm_segment segment(uint16_t selector, uint8_t type, int code)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1, /* a 64-bit code segment has D = 0 */
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

int kvm_vm_start_long_mode(struct kvm_vm *vm, uint8_t *wired, uint64_t pml4, uint64_t pdpt,
			   uint64_t pd, uint64_t gdt, uint64_t rip)
{
	uint64_t *pml4e = (uint64_t *)(wired + pml4);
	uint64_t *pdpte = (uint64_t *)(wired + pdpt);
	uint64_t *pde = (uint64_t *)(wired + pd);
	uint64_t *gdte = (uint64_t *)(wired + gdt);
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = rip, .rflags = 0x2 };

	memset(pml4e, 0, 4096);
	memset(pdpte, 0, 4096);
	pml4e[0] = pdpt | PTE_P | PTE_W;
	pdpte[0] = pd | PTE_P | PTE_W;
	for (uint64_t i = 0; i < 512; i++)
		pde[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
	gdte[0] = 0;
	gdte[1] = GDT_CODE64;
	gdte[2] = GDT_DATA;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s))
		return -errno;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = pml4;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	s.cs = segment(SEL_CODE, 11, 1);              /* execute/read, accessed */
	s.ds = s.es = s.fs = s.gs = s.ss = segment(SEL_DATA, 3, 0); /* read/write, accessed */
	/* VM entry wants a usable task register even if nothing uses it. */
	s.tr = (struct kvm_segment){ .selector = SEL_TSS, .limit = 0x67, .type = 11, .present = 1 };
	s.gdt.base = gdt;
	s.gdt.limit = 3 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0; /* no IDT: any guest exception ends in a triple fault */
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s))
		return -errno;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r))
		return -errno;
	return 0;
}

int kvm_vm_get_dirty_log(struct kvm_vm *vm, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };

	return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) ? -errno : 0;
}

int kvm_vm_translate(struct kvm_vm *vm, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation t = { .linear_address = gva };

	if (ioctl(vm->vcpu_fd, KVM_TRANSLATE, &t) || !t.valid)
		return -1;
	*gpa = t.physical_address;
	return 0;
}

const char *kvm_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
		[KVM_EXIT_IO] = "KVM_EXIT_IO",
		[KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
		[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
		[KVM_EXIT_HLT] = "KVM_EXIT_HLT (guest halted)",
		[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN (triple fault)",
		[KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
		[KVM_EXIT_INTR] = "KVM_EXIT_INTR",
		[KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
		[KVM_EXIT_NMI] = "KVM_EXIT_NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
		[KVM_EXIT_MEMORY_FAULT] = "KVM_EXIT_MEMORY_FAULT",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "unknown KVM exit";
}
