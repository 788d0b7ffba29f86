/* SPDX-License-Identifier: MIT */
/*
 * What the vCPU was doing: its RIP, the bytes there and their decoding
 * (isa/), for the --verbose fault log and for reports on failed guests.
 */
#ifndef PFLAB_INSPECT_H
#define PFLAB_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "isa.h"
#include "kvm_vm.h"
#include "types.h"

#define INSPECT_INSN_MAX 15 /* the longest x86 instruction */

/*
 * Guest memory the host reads instructions from: the wired region, and the
 * data pages the guest can read now (page() gives a page's bytes, or NULL
 * when the page would trap; page may itself be NULL: wired memory only).
 */
struct guest_ram {
	const uint8_t *wired;
	uint64_t wired_size;
	const uint8_t *(*page)(void *ctx, uint64_t gpa);
	void *ctx;
};

/*
 * "rip 0x100234 [48 89 07] mov qword ptr [rdi], rax" into buf. Reads the
 * instruction through the vCPU's page tables, page by page, from wired
 * memory or a readable data page (the restart-fetch scenario runs code
 * there). Call on the vCPU thread only.
 */
void inspect_rip(struct kvm_vm *vm, const struct guest_ram *ram, char *buf, size_t len);

/*
 * KVM_RUN failed with EFAULT and no exit information (kvm_pvm running the
 * guest natively does that when a memslot page cannot be mapped): find the
 * access of the instruction at RIP that needs an absent page. First the
 * fetch: when the instruction's bytes run into a page that traps (RIP's own
 * page, or the next one for an instruction that straddles two), that page,
 * kind ACCESS_FETCH. Else decodes the instruction (isa/), translates each
 * data access's address through the vCPU's page tables and asks
 * traps(ctx, gpa, write) about each page it touches, in architectural
 * order. Returns 0 with *gpa (the start of the trapping part) and *kind,
 * or -1.
 */
int inspect_fault(struct kvm_vm *vm, const struct guest_ram *ram,
		  int (*traps)(void *ctx, uint64_t gpa, int write), void *ctx, uint64_t *gpa,
		  enum access_kind *kind);

/* The vCPU at a trap, for the fault log (fault_log.h). */
struct inspect_trap {
	struct x86_regs regs;
	uint8_t bytes[INSPECT_INSN_MAX];
	size_t nbytes;               /* bytes read at RIP (0: RIP not in guest RAM) */
	int decoded;                 /* ISA_OK or an ISA_ERR_* */
	struct isa_insn insn;
	int matched;                 /* ISA_OK, or ISA_ERR_NOMATCH */
	struct isa_fault_match match; /* the access (and page part) on the trapping page */
};

/*
 * Fill *out for a trap of that kind on the data page at gpa: registers,
 * the instruction at RIP decoded, and which of its accesses touches that
 * page (isa_match_fault() through KVM_TRANSLATE). Returns 0, or -1 when
 * the registers cannot be read. On the vCPU thread, the vCPU stopped.
 */
int inspect_trap(struct kvm_vm *vm, const struct guest_ram *ram, uint64_t gpa,
		 enum access_kind kind, struct inspect_trap *out);

#endif /* PFLAB_INSPECT_H */
