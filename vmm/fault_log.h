/* SPDX-License-Identifier: MIT */
/*
 * pflab run --fault-log FILE: what happened at each trap of the run, in a
 * stable text format meant to be compared whole (tests/golden/restart/)
 * and read by people: no host addresses, no times. docs/restart.md
 * describes the format; in short, one header line, then in the order they
 * happened:
 *
 *   guest| <a line the guest printed on its console>
 *   evict page <vpn>: <written back|clean>, frame <f> free   (HC_EVICT)
 *   fault <n>: page <vpn> <read|write|fetch> -> frame <f>[, evicted page
 *       <v> (<written back|clean>)], <major|minor (zero-filled)>
 *   fault <n>: page <vpn> <kind>, soft (no I/O)
 *     insn   rip <rip> [<bytes>] <instruction>
 *     access <k>: [<role> ]<kind>, <size> bytes at <addr>[; straddles a
 *            page boundary: part <p> faulted, <size> bytes at <addr>]
 *     regs   <reg> <value> ...
 *
 * (each fault on one line; its detail lines indented by two spaces).
 */
#ifndef PFLAB_FAULT_LOG_H
#define PFLAB_FAULT_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "inspect.h"
#include "types.h"

struct fault_log;

/* A log written to out (which the caller keeps and closes). NULL: no memory. */
struct fault_log *fault_log_new(FILE *out);
void fault_log_free(struct fault_log *fl);

/* A line as it is: the header, a guest console line, an eviction. */
void fault_log_line(struct fault_log *fl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One trap on a data page and what the host did about it. */
struct fault_event {
	vpn_t vpn;
	enum access_kind kind;
	bool soft;          /* resident already: a referenced- or dirty-bit trap, no I/O */
	bool major;         /* read from the store (else zero-filled) */
	frame_t frame;
	bool evicted;       /* a victim was evicted for it ... */
	vpn_t victim;
	bool written_back;  /* ... and written back first */
	bool inspect;       /* the vCPU is stopped at the instruction: decode it */
};

/* Log a trap, with the instruction and its registers if ev->inspect. */
void fault_log_fault(struct fault_log *fl, struct kvm_vm *vm, const struct guest_ram *ram,
		     const struct fault_event *ev);

/*
 * The detail lines of a trap on page vpn whose vCPU state t was already
 * read (inspect_trap()): the instruction, the access, the registers. The
 * bytes and registers come from the guest: any value is logged sanely.
 */
void fault_log_detail(struct fault_log *fl, vpn_t vpn, const struct inspect_trap *t);

#endif /* PFLAB_FAULT_LOG_H */
