// SPDX-License-Identifier: MIT
/*
 * `pflab decode`'s input (tools/pflab/cmd_decode.c): the option values,
 * one a line, in the order --arch, --hex, --rip, --fault-access,
 * --fault-addr, --page-size, then any number of --reg NAME=VALUE lines (an
 * empty line: the option is not given). decode_prepare() parses the hex
 * and the registers, decodes with Capstone, matches the fault and makes
 * the backup plan; on success both reports (text, JSON) are written to
 * memory. Properties: a failure has a reason; a success decodes
 * at most the bytes given.
 */
#include "fuzz.h"

#include "cmd_decode.h"

#define MAX_REGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *fields[6 + MAX_REGS] = { 0 }, *p, why[256] = "";
	const char *regs[MAX_REGS];
	struct decode_input in = { .regs = regs };
	struct decode_result *r;
	size_t nf = 0;

	if (!text)
		return 0;
	for (p = text; p && nf < sizeof(fields) / sizeof(fields[0]); nf++) {
		char *nl = strchr(p, '\n');

		fields[nf] = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < 6 && i < nf; i++)
		if (!*fields[i])
			fields[i] = NULL;
	in.arch = fields[0];
	in.hex = fields[1];
	in.rip = fields[2];
	in.fault_access = fields[3];
	in.fault_addr = fields[4];
	in.page_size = fields[5];
	for (size_t i = 6; i < nf; i++)
		regs[in.nregs++] = fields[i];
	r = malloc(sizeof(*r));
	if (r && decode_prepare(&in, r, why, sizeof(why)) == 0) {
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		FUZZ_CHECK(r->insn.len >= 1 && r->insn.len <= DECODE_MAX_BYTES);
		if (f) {
			decode_print(f, r, false);
			decode_print(f, r, true);
			fclose(f);
		}
		free(out);
	} else if (r) {
		FUZZ_CHECK(why[0]);
	}
	free(r);
	free(text);
	return 0;
}
