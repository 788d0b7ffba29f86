// SPDX-License-Identifier: MIT
/*
 * kvm-ops-bench: what each step the kvm trap takes, and each step of the
 * alternatives issue 14 proposed, costs on this host (make bench;
 * docs/performance.md, "The KVM fault path"). One VM with one vCPU (never
 * run) and a 1 MiB memslot; each operation repeated N times (default 2000),
 * the mean per operation printed as a Markdown row:
 *
 *   KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE
 *              the ioctls the kvm trap makes to find an access when KVM_RUN
 *              fails with EFAULT and no address (two of each per fault,
 *              with the instruction decode between them);
 *   mmap frame / mmap PROT_NONE
 *              the kvm trap's map and unmap of a page behind a memslot (an
 *              mmap MAP_FIXED of a memfd page, then of PROT_NONE memory;
 *              each fires KVM's MMU notifier);
 *   memslot create + delete, memslot move
 *              a one-page memslot per resident page (the alternative where
 *              pages outside every memslot exit KVM_EXIT_MMIO with their
 *              address): mapping a page creates or moves a slot, evicting
 *              deletes or moves it.
 *
 *   kvm-ops-bench [N]
 * Exit 2 (one line) without a usable /dev/kvm.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WINDOW 64u /* pages the slots and mappings cycle through */

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int fail(const char *what)
{
	fprintf(stderr, "kvm-ops-bench: %s: %s\n", what, strerror(errno));
	return 1;
}

static int set_slot(int vm, uint32_t slot, uint64_t gpa, uint64_t size, void *at)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)at,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

static void row(const char *op, const char *what, double us, int n)
{
	printf("| %s | %s | %.2f |\n", op, what, us / n);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, vcpu, memfd;
	uint8_t *ram, *frames;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	double t0;

	if (n < 1) {
		fprintf(stderr, "kvm-ops-bench: N must be a positive count\n");
		return 2;
	}
	if (kvm < 0) {
		fprintf(stderr, "kvm-ops-bench: no usable KVM: cannot open /dev/kvm: %s\n",
			strerror(errno));
		return 2;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	ram = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memfd = memfd_create("kvm-ops-bench", MFD_CLOEXEC);
	if (ram == MAP_FAILED || memfd < 0 || ftruncate(memfd, PAGE) != 0)
		return fail("memory");
	frames = ram; /* the memslot's pages are remapped in place below */
	if (set_slot(vm, 0, 0, 1u << 20, ram) != 0)
		return fail("memslot 0");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");

	printf("| operation | what it is for | us per operation |\n|---|---|---|\n");
	t0 = now_us();
	for (int i = 0; i < n; i++)
		if (ioctl(vcpu, KVM_GET_REGS, &regs) != 0)
			return fail("KVM_GET_REGS");
	row("KVM_GET_REGS", "kvm trap, EFAULT without an address: find the access", now_us() - t0, n);
	t0 = now_us();
	for (int i = 0; i < n; i++)
		if (ioctl(vcpu, KVM_GET_SREGS, &sregs) != 0)
			return fail("KVM_GET_SREGS");
	row("KVM_GET_SREGS", "the same", now_us() - t0, n);
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		struct kvm_translation tr = { .linear_address = (uint64_t)(i % WINDOW) * PAGE };

		if (ioctl(vcpu, KVM_TRANSLATE, &tr) != 0)
			return fail("KVM_TRANSLATE");
	}
	row("KVM_TRANSLATE", "the same, per data address", now_us() - t0, n);

	t0 = now_us();
	for (int i = 0; i < n; i++) {
		void *at = frames + (size_t)(i % WINDOW) * PAGE;

		if (mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd, 0) ==
			    MAP_FAILED ||
		    mmap(at, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
			 -1, 0) == MAP_FAILED)
			return fail("mmap");
	}
	row("mmap frame + mmap PROT_NONE", "kvm trap: map a page, and unmap one", now_us() - t0, n);

	t0 = now_us();
	for (int i = 0; i < n; i++) {
		uint32_t k = (uint32_t)i % WINDOW;
		void *at = ram + (size_t)k * PAGE;

		if (set_slot(vm, 10 + k, 0x10000000ull + (uint64_t)k * PAGE, PAGE, at) != 0 ||
		    set_slot(vm, 10 + k, 0x10000000ull + (uint64_t)k * PAGE, 0, at) != 0)
			return fail("memslot create + delete");
	}
	row("memslot create + delete (one page)",
	    "a slot per resident page: map a page, and evict one", now_us() - t0, n);

	if (set_slot(vm, 9, 0x20000000ull, PAGE, ram) != 0)
		return fail("memslot 9");
	t0 = now_us();
	for (int i = 0; i < n; i++)
		if (set_slot(vm, 9, 0x20000000ull + (uint64_t)(1 + i % WINDOW) * PAGE, PAGE, ram) != 0)
			return fail("memslot move");
	row("memslot move (one page)", "the same, the evicted page's slot moved to the faulting one",
	    now_us() - t0, n);
	close(vcpu);
	close(vm);
	close(kvm);
	return 0;
}
