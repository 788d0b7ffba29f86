// SPDX-License-Identifier: MIT
/*
 * txt: one decimal page id per line, all reads. It is libCacheSim's plain
 * text trace and the LIRS paper's traces; their "*" checkpoint lines and
 * blank lines are skipped (and counted in stats.skipped).
 *
 *   42932745
 *   *
 *   42932746
 */
#include "trace_internal.h"

static int txt_parse(struct trace *t, const char *line, size_t len, struct ref_run *runs)
{
	const char *end = line + len, *p = skip_blanks(line, end), *tok = p;
	uint64_t page;
	char q[64];
	int rc;

	if (p == end || *p == '*')
		return 0;
	rc = parse_dec(&p, end, &page);
	if (rc == 0 && p < end && *p != ' ' && *p != '\t')
		rc = -1; /* digits followed by junk, as in "12ab" */
	if (rc == -1)
		return trace_fail_line(t, "%s is not a page number", quote_token(q, sizeof(q), tok, end));
	if (rc == -2)
		return trace_fail_line(t, "%s is too large for a page id (64 bits)",
				       quote_token(q, sizeof(q), tok, end));
	p = skip_blanks(p, end);
	if (p < end)
		return trace_fail_line(t, "unexpected %s after the page number",
				       quote_token(q, sizeof(q), p, end));
	runs[0] = (struct ref_run){ .first = page, .count = 1, .write = false };
	return 1;
}

const struct trace_ops trace_txt_ops = {
	.format = TRACE_TXT,
	.parse_line = txt_parse,
};
