// SPDX-License-Identifier: MIT
/*
 * rw: pflab's own text format, one reference per line:
 *
 *   # a comment; blank lines are skipped too
 *   R 12          read of page 12 (decimal: a page number)
 *   W 0x7f001a08  write of the page holding that byte address
 *   r 13          lower case is accepted
 *
 * Byte addresses become pages by the page size (4096 unless told).
 *
 * The load/store address traces of cache simulators ("l 0x1fffff50 1":
 * load or store, address, instructions since the previous access) read as
 * rw too: l and s mean R and W, and their third field is checked to be a
 * number and otherwise ignored. Only l and s lines may have it, so that a
 * typo like "R 12 13" stays an error.
 */
#include "trace_internal.h"

static int rw_parse(struct trace *t, const char *line, size_t len, struct ref_run *runs)
{
	const char *end = line + len, *p = skip_blanks(line, end), *tok;
	bool write, load_store = false;
	uint64_t page;
	char op, q[64];
	int rc;

	if (p == end || *p == '#')
		return 0;
	op = *p;
	switch (op) {
	case 'R': case 'r': write = false; break;
	case 'W': case 'w': write = true; break;
	case 'L': case 'l': write = false; load_store = true; break;
	case 'S': case 's': write = true; load_store = true; break;
	default:
		return trace_fail_line(t, "expected R or W, got %s", quote_token(q, sizeof(q), p, end));
	}
	if (p + 1 < end && p[1] != ' ' && p[1] != '\t')
		return trace_fail_line(t, "expected R or W, got %s", quote_token(q, sizeof(q), p, end));
	tok = p = skip_blanks(p + 1, end);
	if (p == end || *p == '#')
		return trace_fail_line(t, "missing page number or 0x address after '%c'", op);
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		rc = parse_hex(&p, end, &page);
		if (rc == -2)
			return trace_fail_line(t, "address %s does not fit in 64 bits",
					       quote_token(q, sizeof(q), tok, end));
		if (rc == 0)
			page >>= t->page_shift;
	} else {
		rc = parse_dec(&p, end, &page);
		if (rc == -2)
			return trace_fail_line(t, "%s is too large for a page id (64 bits)",
					       quote_token(q, sizeof(q), tok, end));
	}
	if (rc == 0 && p < end && *p != ' ' && *p != '\t')
		rc = -1;
	if (rc == -1)
		return trace_fail_line(t, "%s is not a page number or 0x address",
				       quote_token(q, sizeof(q), tok, end));
	p = skip_blanks(p, end);
	if (load_store && p < end && *p != '#') {
		const char *count = p;
		uint64_t ignored;

		rc = parse_dec(&p, end, &ignored);
		if (rc != 0 || (p < end && *p != ' ' && *p != '\t'))
			return trace_fail_line(t, "%s is not a number",
					       quote_token(q, sizeof(q), count, end));
		p = skip_blanks(p, end);
	}
	if (p < end && *p != '#')
		return trace_fail_line(t, "unexpected %s after the page",
				       quote_token(q, sizeof(q), p, end));
	runs[0] = (struct ref_run){ .first = page, .count = 1, .write = write };
	return 1;
}

const struct trace_ops trace_rw_ops = {
	.format = TRACE_RW,
	.parse_line = rw_parse,
};
