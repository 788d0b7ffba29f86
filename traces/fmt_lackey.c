// SPDX-License-Identifier: MIT
/*
 * lackey: the memory trace of Valgrind's Lackey tool (--trace-mem=yes),
 * hexadecimal byte addresses and decimal sizes:
 *
 *   I  04016c8a,3     instruction fetch: a read
 *    L 1ffefffd78,8   load: a read
 *    S 1ffefffd70,8   store: a write
 *    M 0421d2e0,4     modify: a load then a store of the same bytes
 *
 * An access that spans a page boundary touches every page it covers, in
 * address order (an M gives the loads of all of them, then the stores).
 * Valgrind's own lines ("==1234== ...") and blank lines are skipped.
 */
#include "trace_internal.h"

static int lackey_parse(struct trace *t, const char *line, size_t len, struct ref_run *runs)
{
	const char *end = line + len, *p = skip_blanks(line, end), *tok;
	uint64_t addr, size, last, first_page, last_page;
	char op, q[64];
	int rc;

	if (p == end || (end - p >= 2 && p[0] == '=' && p[1] == '='))
		return 0;
	op = *p;
	if ((op != 'I' && op != 'L' && op != 'S' && op != 'M') ||
	    (p + 1 < end && p[1] != ' ' && p[1] != '\t'))
		return trace_fail_line(t, "expected I, L, S or M, got %s",
				       quote_token(q, sizeof(q), p, end));
	tok = p = skip_blanks(p + 1, end);
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	rc = parse_hex(&p, end, &addr);
	if (rc == -2)
		return trace_fail_line(t, "address %s does not fit in 64 bits",
				       quote_token(q, sizeof(q), tok, end));
	if (rc == 0 && p < end && *p == ',') {
		p++;
		rc = parse_dec(&p, end, &size);
	} else {
		rc = -1;
	}
	if (rc == 0 && p < end && *p != ' ' && *p != '\t')
		rc = -1;
	if (rc != 0)
		return trace_fail_line(t, "expected ADDRESS,SIZE after '%c', got %s", op,
				       tok == end ? "nothing" : quote_token(q, sizeof(q), tok, end));
	p = skip_blanks(p, end);
	if (p < end)
		return trace_fail_line(t, "unexpected %s after the access",
				       quote_token(q, sizeof(q), p, end));
	if (size == 0)
		return trace_fail_line(t, "access of size 0");
	if (__builtin_add_overflow(addr, size - 1, &last))
		return trace_fail_line(t, "access of %llu bytes at 0x%llx goes past the 64-bit address space",
				       (unsigned long long)size, (unsigned long long)addr);
	first_page = addr >> t->page_shift;
	last_page = last >> t->page_shift;
	runs[0] = (struct ref_run){ first_page, last_page - first_page + 1, op == 'S' };
	if (op != 'M')
		return 1;
	runs[1] = (struct ref_run){ first_page, last_page - first_page + 1, true };
	return 2;
}

const struct trace_ops trace_lackey_ops = {
	.format = TRACE_LACKEY,
	.parse_line = lackey_parse,
};
