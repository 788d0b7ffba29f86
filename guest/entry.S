/* SPDX-License-Identifier: MIT */
/*
 * The guest's entry points and its own page tables and GDT.
 *
 *   start32  the PVH entry (32-bit protected mode, paging off, as QEMU's
 *            -M microvm -kernel or any PVH loader starts us): enable PAE
 *            and long mode with our page tables, jump to start64. It
 *            also keeps the loader's hvm_start_info (EBX) in
 *            pvh_start_info, which makes the guest standalone
 *            (guest/standalone.c), and points SYSCALL at pvh_syscall:
 *            the ring-3 guest's way to the ports.
 *   start64  the ELF entry, for a host that starts us in long mode already
 *            (pflab's VMM does: emulated 32-bit code is slow under nested
 *            KVM). Loads our own GDT and page tables, so that nothing the
 *            host built for the boot is used afterwards, then calls
 *            guest_main(). Every vCPU enters here, its id in ESI (--vcpus:
 *            the host sets it; start32 makes it 0): each gets a stack of
 *            its own and FS pointing at a word that holds the address of
 *            its own mailbox (guest_mailbox(), guest.h).
 *
 * The page tables identity-map the first 4 GiB with 2 MiB pages: the wired
 * region, the data region and the hole above it all have translations, so a
 * missing guest-physical page is the host's business, never a guest #PF.
 */
#include "abi.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define CR0_PE  0x00000001
#define CR0_PG  0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100
#define EFER_LME 0x00000100
#define EFER_SCE 0x00000001
#define MSR_STAR  0xc0000081
#define MSR_LSTAR 0xc0000082
#define SEL_UCODE 0x18
#define SEL_UDATA 0x20
#define RFLAGS_IOPL3 0x3002
#define PTE_P   0x001
#define PTE_U   0x004
#define PTE_W   0x002
#define PTE_PS  0x080
#define PTE_A   0x020
#define PTE_D   0x040

	.section .note.pvh, "a"
	.p2align 2
	.long 4                          /* name size: "Xen\0" */
	.long 4                          /* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.p2align 2
	.long start32

	.section .text.boot, "ax"
	.code32
	.global start32
start32:
	cli
	movl %ebx, pvh_start_info        /* standalone: guest/standalone.c */
	lgdt gdt_desc
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_SCE), %eax
	wrmsr
	/* SYSCALL enters ring 0 at pvh_syscall with CS 0x08 (SS 0x10). */
	movl $MSR_STAR, %ecx
	xorl %eax, %eax
	movl $0x00000008, %edx
	wrmsr
	movl $MSR_LSTAR, %ecx
	movl $pvh_syscall, %eax
	xorl %edx, %edx
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	xorl %esi, %esi                  /* vCPU 0 */
	ljmp $0x08, $start64

	.code64
	.global start64
start64:
	cli
	movl %esi, %r12d                 /* the vCPU id, zero-extended */
	lgdt gdt_desc
	movq $pml4, %rax
	movq %rax, %cr3
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %gs
	xorl %eax, %eax
	movl %eax, %fs                   /* null: its base is the MSR's alone */
	/* percpu[id] = this vCPU's mailbox; FS base = &percpu[id] */
	leaq percpu(, %r12, 8), %rdi
	movq %r12, %rax
	shlq $12, %rax
	addq $PFLAB_MAILBOX, %rax
	movq %rax, (%rdi)
	movl $MSR_FS_BASE, %ecx
	movl %edi, %eax
	movq %rdi, %rdx
	shrq $32, %rdx
	wrmsr
	/* rsp = stacks + (id + 1) * PFLAB_VCPU_STACK */
	leaq 1(%r12), %rax
	shlq $16, %rax
	leaq stacks(%rax), %rsp
	movq %rsp, %rbx
	/* Reload CS from our GDT with a far return. */
	pushq $0x08
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	xorl %ebp, %ebp
	/* The boot banner, on COM1 while port I/O is still ours; vCPU 0's. */
	testl %r12d, %r12d
	jnz 4f
	leaq banner(%rip), %rsi
	movw $PFLAB_PORT_SERIAL, %dx
3:	lodsb
	testb %al, %al
	jz 4f
	outb %al, %dx
	jmp 3b
4:
	/* Drop to ring 3 for good: nested KVM (kvm_pvm) runs guest user
	 * code natively but emulates guest kernel code outside the range it
	 * reserves for PVM kernels, one instruction at a time. IOPL 3 keeps
	 * port I/O (console, hypercalls) legal in ring 3. */
	pushq $(SEL_UDATA | 3)
	pushq %rbx
	pushq $RFLAGS_IOPL3
	pushq $(SEL_UCODE | 3)
	pushq $user_entry
	iretq
user_entry:
	call guest_main
2:	jmp 2b

	/* SYSCALL from the standalone ring-3 guest (standalone_out(),
	 * guest/standalone.c): write ESI to port DI, a byte if EAX is 1,
	 * else 32 bits, and return. Only the PVH entry sets it up: a guest
	 * of pflab's VMM never gets here. */
	.global pvh_syscall
pvh_syscall:
	movl %edi, %edx
	cmpl $1, %eax
	movl %esi, %eax
	jne 5f
	outb %al, %dx
	jmp 6f
5:	outl %eax, %dx
6:	/* Back to ring 3 with IRETQ, as start64 went there (SYSRETQ
	 * did not come back under nested kvm_pvm). */
	movq %rsp, %rax
	pushq $(SEL_UDATA | 3)
	pushq %rax
	pushq %r11
	pushq $(SEL_UCODE | 3)
	pushq %rcx
	iretq

	.section .rodata
banner:
	.asciz "pflab guest: long mode, entering ring 3\n"
	.p2align 3
gdt:
	.quad 0                          /* null */
	.quad 0x00af9a000000ffff         /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff         /* 0x10: flat data */
	.quad 0x00affa000000ffff         /* 0x18: 64-bit code, DPL 3 */
	.quad 0x00cff2000000ffff         /* 0x20: flat data, DPL 3 */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .data.pagetables, "aw"
	.p2align 12
pml4:
	.quad pdpt + PTE_P + PTE_W + PTE_U + PTE_A
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P + PTE_W + PTE_U + PTE_A
	.quad pd + 0x1000 + PTE_P + PTE_W + PTE_U + PTE_A
	.quad pd + 0x2000 + PTE_P + PTE_W + PTE_U + PTE_A
	.quad pd + 0x3000 + PTE_P + PTE_W + PTE_U + PTE_A
	.fill 508, 8, 0
pd:
	.set addr, 0
	.rept 2048
	.quad addr + PTE_P + PTE_W + PTE_U + PTE_PS + PTE_A + PTE_D
	.set addr, addr + 0x200000
	.endr

	.section .bss.stack, "aw", @nobits
	.p2align 12
stacks:                                  /* one PFLAB_VCPU_STACK per vCPU */
	.skip PFLAB_VCPU_STACK * PFLAB_MAX_VCPUS
	.p2align 3
percpu:                                  /* per vCPU: its mailbox's address */
	.skip 8 * PFLAB_MAX_VCPUS

	.section .note.GNU-stack, "", @progbits
