// SPDX-License-Identifier: MIT
/*
 * The fault log (vmm/fault_log.c, `pflab run --fault-log`). What it reads
 * comes from the guest: the instruction bytes at RIP and the registers.
 * The input is, in order: one byte for the kind of the trap (read, write,
 * fetch), four for the page, eight for the faulting address, the 20
 * registers of struct x86_regs (8 bytes each, short input reads zeros),
 * then up to 15 instruction bytes. The harness does what inspect_trap()
 * does with a vCPU (decode with isa_x86_accesses, match the fault, linear
 * addresses) and logs the detail lines into memory.
 * Properties: the log is text, every line ends with a newline.
 */
#include "fuzz.h"

#include "fault_log.h"
#include "isa.h"

static size_t take(const uint8_t **p, size_t *left, void *out, size_t n)
{
	size_t k = *left < n ? *left : n;

	memset(out, 0, n);
	memcpy(out, *p, k);
	*p += k;
	*left -= k;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inspect_trap t;
	const uint8_t *p = data;
	size_t left = size, len = 0;
	uint8_t kind_byte;
	uint32_t vpn;
	uint64_t addr;
	char *out = NULL;
	struct fault_log *fl;
	FILE *f;
	unsigned kind;

	take(&p, &left, &kind_byte, 1);
	take(&p, &left, &vpn, sizeof(vpn));
	take(&p, &left, &addr, sizeof(addr));
	memset(&t, 0, sizeof(t));
	take(&p, &left, &t.regs, sizeof(t.regs));
	t.nbytes = take(&p, &left, t.bytes, sizeof(t.bytes));
	kind = kind_byte % 3 == 0 ? ISA_ACC_READ : kind_byte % 3 == 1 ? ISA_ACC_WRITE : ISA_ACC_FETCH;
	t.decoded = t.nbytes ? isa_x86_accesses(t.bytes, t.nbytes, t.regs.rip, &t.regs, &t.insn)
			     : ISA_ERR_TRUNCATED;
	t.matched = ISA_ERR_NOMATCH;
	if (t.decoded == ISA_OK)
		t.matched = isa_match_fault(&t.insn, &(struct isa_fault){
			.addr = addr, .kind = kind, .page_size = 4096 }, &t.match);
	f = open_memstream(&out, &len);
	if (!f)
		return 0;
	fl = fault_log_new(f);
	if (fl)
		fault_log_detail(fl, (vpn_t)vpn, &t);
	fault_log_free(fl);
	fclose(f);
	if (out) {
		FUZZ_CHECK(strlen(out) == len);
		FUZZ_CHECK(len == 0 || out[len - 1] == '\n');
	}
	free(out);
	return 0;
}
