/* SPDX-License-Identifier: MIT */
/*
 * isa: what a faulting instruction did, decoded with Capstone.
 *
 * Pure functions on instruction bytes and register values: no guest memory
 * is read here (the KVM host reads the bytes through the guest's page tables
 * and passes them in). For one instruction the decoder gives
 *
 *   - its text and length;
 *   - its memory accesses in architectural order: the instruction fetch
 *     first (access 0), then each data access with its linear address,
 *     size and kind, explicit (an operand) or implicit (stack, string);
 *   - its register side effects: auto-increments, writebacks, stack
 *     pointer moves, each a signed delta with the index of the access it
 *     precedes, following the architecture's fault model (docs/isa.md);
 *   - for x86 string instructions, the rep state (RCX, RSI, RDI, step).
 *
 * isa_match_fault() names the access behind a faulting address (the second
 * page of a straddling access, a fetch that straddles, the iteration of a
 * rep string instruction) and isa_backup_plan() gives the register
 * corrections that return the machine to its state before the instruction.
 */
#ifndef PFLAB_ISA_H
#define PFLAB_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum isa_arch {
	ISA_X86_64,
	ISA_M68K,  /* 68000 */
	ISA_ARM,   /* 32-bit ARM state, ARMv4/v5 */
	ISA_ARM64, /* AArch64 */
	ISA_M6809,
	ISA_ARCH_COUNT,
};

/* Errors: negative return values. */
enum {
	ISA_OK = 0,
	ISA_ERR_INVALID = -1,     /* the bytes are not a valid instruction */
	ISA_ERR_ARCH = -2,        /* unknown architecture */
	ISA_ERR_CAPSTONE = -3,    /* Capstone could not be set up */
	ISA_ERR_NOMATCH = -4,     /* no access of the instruction touches that address */
	ISA_ERR_RANGE = -5,       /* an index or value out of range */
	ISA_ERR_TRUNCATED = -6,   /* the bytes end inside the instruction */
};

const char *isa_strerror(int err);

/* The architectures by name: "x86-64", "m68k", "arm", "arm64", "m6809". */
const char *isa_arch_name(enum isa_arch arch);
int isa_arch_from_name(const char *name); /* enum isa_arch or ISA_ERR_ARCH */

/*
 * x86-64 registers, in struct kvm_regs order followed by the two segment
 * bases of struct kvm_sregs (fs.base, gs.base): the KVM host copies them
 * field by field. Only FS and GS have a base in 64-bit mode.
 */
struct x86_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t fs_base, gs_base;
};

#define X86_RFLAGS_DF (1ull << 10) /* direction flag: string steps go down */

/*
 * A register file for any of the architectures, indexed by the register
 * numbers of isa_reg_name(). For x86-64 the order is that of struct x86_regs.
 * Values are kept masked to the register's width.
 */
#define ISA_MAX_REGS 40
struct isa_regs {
	uint64_t r[ISA_MAX_REGS];
};

unsigned isa_reg_count(enum isa_arch arch);
const char *isa_reg_name(enum isa_arch arch, unsigned regno);
unsigned isa_reg_bits(enum isa_arch arch, unsigned regno);
/* A register number by name (aliases such as sp, lr, fp accepted), or -1. */
int isa_reg_lookup(enum isa_arch arch, const char *name);
/*
 * Set a register by name; 6809's "d" sets a and b. Returns ISA_ERR_RANGE
 * for an unknown name or a value wider than the register.
 */
int isa_reg_set(enum isa_arch arch, struct isa_regs *regs, const char *name, uint64_t value);
/* The program counter's register number. */
unsigned isa_reg_pc(enum isa_arch arch);

void isa_x86_regs_to_file(const struct x86_regs *x, struct isa_regs *out);
void isa_x86_regs_from_file(const struct isa_regs *r, struct x86_regs *out);

/* Access kinds, a bit set: a read-modify-write access is READ|WRITE. */
enum {
	ISA_ACC_READ = 1,
	ISA_ACC_WRITE = 2,
	ISA_ACC_FETCH = 4,
};

/* Where an access comes from (what it is for), for reports. */
enum isa_role {
	ISA_ROLE_FETCH,   /* the instruction's own bytes */
	ISA_ROLE_OPERAND, /* an explicit memory operand */
	ISA_ROLE_STACK,   /* push, pop, call, return, enter, leave, link... */
	ISA_ROLE_SRC,     /* a string instruction's [rsi] element */
	ISA_ROLE_DST,     /* a string instruction's [rdi] element */
	ISA_ROLE_TABLE,   /* xlat's [rbx + al] */
	ISA_ROLE_POINTER, /* the pointer read by a memory-indirect mode */
	ISA_ROLE_MULTI,   /* one register of a multiple transfer (ldm, movem) */
};
const char *isa_role_name(enum isa_role role);

struct isa_access {
	uint64_t addr;     /* linear address of the first byte */
	uint32_t size;     /* bytes */
	uint8_t kind;      /* ISA_ACC_* */
	uint8_t role;      /* enum isa_role */
	int8_t operand;    /* Capstone operand index, -1 for an implicit access */
	bool implicit;     /* not one of the instruction's operands */
	bool addr_known;   /* false when the address comes from memory (an
			      indirect mode) or vector registers (gather) */
};

/*
 * A register side effect: reg += delta, happening before access `before`
 * is made (so a fault on access k has seen every effect with before <= k;
 * before == n_access means at the end, after every access).
 */
struct isa_effect {
	uint8_t reg;
	uint8_t before;
	int64_t delta;
};

/* x86 string instructions (movs, cmps, stos, lods, scas, ins, outs). */
struct isa_x86_string {
	bool present;
	bool rep;          /* rep/repe/repne prefix: RCX counts iterations */
	uint8_t elem;      /* element size in bytes */
	uint8_t addr_bits; /* 64, or 32 with the 0x67 prefix (ECX, ESI, EDI) */
	int64_t step;      /* +elem, or -elem when RFLAGS.DF is set */
	uint64_t count;    /* iterations to go: RCX if rep, else 1 */
	uint64_t rcx, rsi, rdi;  /* at decode */
	uint64_t src_base; /* segment base of the source (fs: or gs: override) */
	int8_t src_access; /* index in access[] of this iteration's [rsi], or -1 */
	int8_t dst_access; /* same for [rdi] */
};

/* Instruction flags. */
enum {
	/* Accesses are missing or approximate (int n, xsave, far calls, rti...). */
	ISA_INSN_INCOMPLETE = 1,
};

#define ISA_MAX_ACCESSES 72 /* x86 enter with nesting level 31 makes 63 */
#define ISA_MAX_EFFECTS 24
#define ISA_TEXT_MAX 192

struct isa_insn {
	enum isa_arch arch;
	uint64_t pc;
	uint32_t len;
	unsigned flags;
	char text[ISA_TEXT_MAX];   /* "mnemonic operands" */
	const char *model;         /* fault model name (docs/isa.md) */
	unsigned n_access;
	struct isa_access access[ISA_MAX_ACCESSES];
	unsigned n_effect;
	struct isa_effect effect[ISA_MAX_EFFECTS];
	struct isa_x86_string str; /* x86 only */
};

/*
 * Decode the instruction at bytes[0..len) whose address is pc, with the
 * registers as they are before it executes (a KVM host passes them as they
 * are at the fault). Returns ISA_OK or an ISA_ERR_*.
 */
int isa_decode(enum isa_arch arch, const uint8_t *bytes, size_t len, uint64_t pc,
	       const struct isa_regs *regs, struct isa_insn *out);

/* The same for x86-64 with the KVM host's registers; rip is bytes' address. */
int isa_x86_accesses(const uint8_t *bytes, size_t len, uint64_t rip,
		     const struct x86_regs *regs, struct isa_insn *out);

/*
 * isa_decode() opens a Capstone handle per call (about 10 us for x86-64 on
 * the development machine, against under 1 us for a decode with a kept
 * handle). A caller on a hot path keeps a decoder instead: one per thread,
 * as a Capstone handle is not to be shared between threads.
 */
struct isa_decoder;
struct isa_decoder *isa_decoder_new(enum isa_arch arch); /* NULL on failure */
int isa_decoder_run(struct isa_decoder *dec, const uint8_t *bytes, size_t len, uint64_t pc,
		    const struct isa_regs *regs, struct isa_insn *out);
void isa_decoder_free(struct isa_decoder *dec);

/* One page's part of an access. */
struct isa_span {
	uint64_t addr;
	uint32_t size;
};
/* Split an access at page boundaries: returns 1, or 2 for a straddling one. */
unsigned isa_access_split(const struct isa_access *a, uint64_t page_size, struct isa_span out[2]);

/* Linear-to-physical translation of the faulting context (KVM_TRANSLATE). */
struct isa_translator {
	/* Returns 0 and *phys for a mapped linear address, -1 otherwise. */
	int (*translate)(void *ctx, uint64_t linear, uint64_t *phys);
	void *ctx;
};

struct isa_fault {
	uint64_t addr;       /* the faulting address */
	unsigned kind;       /* ISA_ACC_* if known (x86 error code), 0 if not */
	uint64_t page_size;  /* a power of two; 0 means 4096 */
	/* NULL: addr is linear; else addr is physical and accesses are translated. */
	const struct isa_translator *xlat;
};

struct isa_fault_match {
	int access;          /* index in insn->access */
	int part;            /* 0: the access's first page; 1: its second page */
	uint64_t part_addr;  /* linear start of the faulting part */
	uint32_t part_size;
	bool exact;          /* the fault address lies inside the part (else only its page) */
	/* String instructions: the iteration that faulted. */
	bool string;
	uint64_t done;          /* iterations completed before the faulting one */
	uint64_t rcx, rsi, rdi; /* the registers as the fault leaves them */
};

/*
 * Which access caused a fault at f->addr: a part containing the address wins
 * (first in architectural order), else the first part on the same page. For
 * a string instruction every remaining iteration is considered. Returns
 * ISA_OK or ISA_ERR_NOMATCH.
 */
#define ISA_MAX_STREAM_PAGES (1u << 20) /* pages walked per string stream when translating */
int isa_match_fault(const struct isa_insn *insn, const struct isa_fault *f,
		    struct isa_fault_match *out);

/* A correction: reg += delta (modulo the register's width). */
struct isa_fixup {
	uint8_t reg;
	int64_t delta;
};

/*
 * The corrections that undo the side effects a fault on access `fault_access`
 * has left, one per register, in register order. Returns the count (0 when the
 * fault leaves nothing to undo) or ISA_ERR_RANGE for a bad access index.
 */
int isa_backup_plan(const struct isa_insn *insn, unsigned fault_access,
		    struct isa_fixup out[ISA_MAX_EFFECTS]);

/* Apply the effects a fault on access k has seen (before <= k) to regs. */
void isa_apply_effects(const struct isa_insn *insn, unsigned k, struct isa_regs *regs);
/* Apply corrections to regs. */
void isa_apply_fixups(enum isa_arch arch, const struct isa_fixup *fix, unsigned n,
		      struct isa_regs *regs);

#endif /* PFLAB_ISA_H */
