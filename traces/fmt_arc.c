// SPDX-License-Identifier: MIT
/*
 * arc: the block traces of the ARC paper (Megiddo and Modha, FAST 2003),
 * ".lis" files of four decimal fields a line:
 *
 *   start n ignore reqno
 *
 * meaning a request for blocks start, start+1, ..., start+n-1, all reads.
 * The last two fields are checked to be numbers and otherwise unused.
 */
#include "trace_internal.h"

#define ARC_FIELDS 4

static int arc_parse(struct trace *t, const char *line, size_t len, struct ref_run *runs)
{
	const char *end = line + len, *p = skip_blanks(line, end);
	uint64_t field[ARC_FIELDS], last;
	char q[64];

	if (p == end)
		return 0;
	for (int i = 0; i < ARC_FIELDS; i++) {
		const char *tok = p;
		int rc;

		if (p == end)
			return trace_fail_line(t, "expected 4 fields (start n ignore reqno), got %d", i);
		rc = parse_dec(&p, end, &field[i]);
		if (rc == 0 && p < end && *p != ' ' && *p != '\t')
			rc = -1;
		if (rc == -1)
			return trace_fail_line(t, "%s is not a number", quote_token(q, sizeof(q), tok, end));
		if (rc == -2)
			return trace_fail_line(t, "%s is too large (64 bits)",
					       quote_token(q, sizeof(q), tok, end));
		p = skip_blanks(p, end);
	}
	if (p < end)
		return trace_fail_line(t, "unexpected %s after 4 fields (start n ignore reqno)",
				       quote_token(q, sizeof(q), p, end));
	if (field[1] == 0)
		return trace_fail_line(t, "a request of n = 0 blocks");
	if (__builtin_add_overflow(field[0], field[1] - 1, &last))
		return trace_fail_line(t, "%llu blocks from %llu overflow a 64-bit page id",
				       (unsigned long long)field[1], (unsigned long long)field[0]);
	runs[0] = (struct ref_run){ .first = field[0], .count = field[1], .write = false };
	return 1;
}

const struct trace_ops trace_arc_ops = {
	.format = TRACE_ARC,
	.parse_line = arc_parse,
};
