// SPDX-License-Identifier: MIT
/*
 * Which format is this trace? Decided from the first bytes of the content
 * (after decompression) and, for the binary formats that have no magic
 * number, from the file name. The rules, in order (docs/formats.md):
 *
 *  1. the pft magic: pft;
 *  2. empty: txt (an empty trace, whatever its format);
 *  3. binary content (control bytes): oracleGeneral if the file name
 *     contains "oracleGeneral", be32 if it contains ".trace", else an error
 *     asking for --format;
 *  4. text: the first meaningful lines vote. "I  a,n" or " L|S|M a,n" is
 *     lackey; "R|W x" (or "l|s 0x..") is rw; four numbers is arc; one
 *     number is txt. Lines that are blank, "#", "*" or "==" only hint (rw,
 *     txt, lackey) in case nothing else decides. Up to 32 deciding lines
 *     must agree: lines that look like different formats are an error, as
 *     is a first deciding line like none of these, naming the line and
 *     --format. A later line like none of them ends the vote: the parser
 *     then says what is wrong with it.
 */
#include <stdio.h>
#include <string.h>

#include "pft.h"
#include "trace_internal.h"

/* How many deciding lines must agree. */
#define DETECT_LINES 32

/* Not a format: the line decides nothing. */
#define NEUTRAL TRACE_AUTO
#define UNKNOWN ((enum trace_format)-1)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool looks_binary(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && !(p[i] >= '\t' && p[i] <= '\r')) || p[i] == 0x7f)
			return true;
	return false;
}

/* Count whitespace-separated fields if they are all decimal numbers, else -1. */
static int count_numbers(const char *p, const char *end)
{
	int fields = 0;

	for (;;) {
		p = skip_blanks(p, end);
		if (p == end)
			return fields;
		if ((unsigned)(*p - '0') > 9)
			return -1;
		while (p < end && (unsigned)(*p - '0') <= 9)
			p++;
		if (p < end && !is_blank(*p))
			return -1;
		fields++;
	}
}

static enum trace_format classify(const char *line, size_t len, enum trace_format *hint)
{
	const char *end = line + len, *p = skip_blanks(line, end);

	if (p == end)
		return NEUTRAL;
	if (end - p >= 2 && p[0] == '=' && p[1] == '=') {
		*hint = *hint == NEUTRAL ? TRACE_LACKEY : *hint;
		return NEUTRAL;
	}
	if (*p == '*' || *p == '#') {
		if (*hint == NEUTRAL)
			*hint = *p == '*' ? TRACE_TXT : TRACE_RW;
		return NEUTRAL;
	}
	/* Lackey's own layout: "I" in column 0, or L, S, M in column 1. */
	if (len > 2 && ((line[0] == 'I' && is_blank(line[1])) ||
			(line[0] == ' ' && strchr("LSM", line[1]) && is_blank(line[2]))) &&
	    memchr(line, ',', len))
		return TRACE_LACKEY;
	if (end - p > 1 && strchr("RrWw", *p) && is_blank(p[1]))
		return TRACE_RW;
	if (p == line && len > 3 && strchr("lsLS", *p) && is_blank(p[1])) {
		const char *q = skip_blanks(p + 1, end);

		if (end - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
			return TRACE_RW;
	}
	switch (count_numbers(p, end)) {
	case 1: return TRACE_TXT;
	case 4: return TRACE_ARC;
	default: return UNKNOWN;
	}
}

static const char *quote_line(char *buf, size_t buflen, const char *line, size_t len)
{
	size_t shown = len < 40 ? len : 40, i;

	for (i = 0; i < shown && i + 6 < buflen; i++) {
		unsigned char c = (unsigned char)line[i];

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (shown < len && i + 6 < buflen) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static int detect_text(const char *head, size_t len, bool at_end, enum trace_format *out,
		       char *why, size_t whylen)
{
	const char *p = head, *end = head + len;
	enum trace_format found = NEUTRAL, hint = NEUTRAL;
	unsigned long found_line = 0, lineno = 0;
	int deciding = 0;
	char q[64];

	/* Without the end of the content, the last line may be cut short. */
	if (!at_end) {
		while (end > head && end[-1] != '\n')
			end--;
	}
	while (p < end && deciding < DETECT_LINES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		enum trace_format f;

		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		f = classify(p, n, &hint);
		/* Once decided, a malformed line is the parser's to report, with its reason. */
		if (f == UNKNOWN && found != NEUTRAL)
			break;
		if (f == UNKNOWN) {
			snprintf(why, whylen,
				 "cannot tell the trace format from line %lu ('%s'): give --format (txt, rw, lackey, arc, pft, oracleGeneral or be32)",
				 lineno, quote_line(q, sizeof(q), p, n));
			return -1;
		}
		if (f != NEUTRAL) {
			if (found != NEUTRAL && f != found) {
				snprintf(why, whylen,
					 "ambiguous trace format: line %lu looks like %s, line %lu like %s; give --format",
					 found_line, trace_format_name(found), lineno, trace_format_name(f));
				return -1;
			}
			if (found == NEUTRAL)
				found_line = lineno;
			found = f;
			deciding++;
		}
		p = nl ? nl + 1 : end;
	}
	if (found == NEUTRAL)
		found = hint != NEUTRAL ? hint : TRACE_TXT;
	*out = found;
	return 0;
}

static bool name_has(const char *path, const char *what)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	base = base ? base + 1 : path;
	return base && strcasestr(base, what);
}

int trace_detect(const char *path, const uint8_t *head, size_t len, bool at_end,
		 enum trace_format *out, char *why, size_t whylen)
{
	size_t cmp = len < PFT_MAGIC_LEN ? len : PFT_MAGIC_LEN;

	/* A pft cut inside its magic is still pft: its reader says what is wrong. */
	if (len && memcmp(head, PFT_MAGIC, cmp) == 0) {
		*out = TRACE_PFT;
		return 0;
	}
	if (len == 0) {
		*out = TRACE_TXT;
		return 0;
	}
	if (!looks_binary(head, len))
		return detect_text((const char *)head, len, at_end, out, why, whylen);
	if (name_has(path, "oracleGeneral")) {
		*out = TRACE_ORACLE;
		return 0;
	}
	if (name_has(path, ".trace")) {
		*out = TRACE_BE32;
		return 0;
	}
	snprintf(why, whylen,
		 "binary content without a pft header: give --format (oracleGeneral or be32); names containing 'oracleGeneral' or '.trace' pick those");
	return -1;
}
