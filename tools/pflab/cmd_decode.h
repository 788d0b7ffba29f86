/* SPDX-License-Identifier: MIT */
/*
 * pflab decode's input, parsed and decoded apart from the command line so
 * that a test (tests/fuzz/fuzz_decode.c) can drive it: the option values
 * as strings, as the user typed them, in; the decoded instruction, the
 * fault match and the backup plan out.
 */
#ifndef PFLAB_CMD_DECODE_H
#define PFLAB_CMD_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "isa.h"

/* The most --hex bytes taken. */
#define DECODE_MAX_BYTES 64

/* Each field NULL when the option was not given. */
struct decode_input {
	const char *arch, *hex, *rip, *fault_access, *fault_addr, *page_size;
	const char *const *regs; /* NAME=VALUE, nregs of them */
	unsigned nregs;
};

struct decode_result {
	struct isa_insn insn;
	uint8_t bytes[DECODE_MAX_BYTES];
	uint64_t page_size;
	bool has_fault_access;
	unsigned fault_access;
	bool has_fault_addr;
	uint64_t fault_addr;
	int match_rc;
	struct isa_fault_match match;
	int nfix;
	struct isa_fixup fix[ISA_MAX_EFFECTS];
};

/*
 * Parse the input, decode the instruction, match the fault and make the
 * backup plan. 0, or -1 with the one-line reason (without "pflab decode: ")
 * in why.
 */
int decode_prepare(const struct decode_input *in, struct decode_result *r, char *why,
		   size_t whylen);
/* The text or (json) JSON report of a prepared result. */
void decode_print(FILE *out, const struct decode_result *r, bool json);

#endif /* PFLAB_CMD_DECODE_H */
