// SPDX-License-Identifier: MIT
/*
 * What the text formats share: the loop that reads lines and hands out the
 * runs of pages each line gives, and hand-written number parsers (sscanf
 * would cost more than everything else put together and accepts too much).
 */
#include "trace_internal.h"

#include <string.h>

/* Refuse a record of more than TRACE_RECORD_MAX_REFS references. */
static bool record_too_long(struct trace *t, int nruns)
{
	uint64_t refs = 0;

	for (int i = 0; i < nruns; i++) {
		if (t->runs[i].count > TRACE_RECORD_MAX_REFS - refs) {
			trace_fail_line(t, "a record of %llu pages%s: more than the %u references one record may give",
					(unsigned long long)t->runs[i].count,
					nruns > 1 ? ", read and written" : "", TRACE_RECORD_MAX_REFS);
			return true;
		}
		refs += t->runs[i].count;
	}
	return false;
}

ptrdiff_t text_read(struct trace *t, struct trace_ref *buf, size_t max)
{
	struct trace_stats *st = &t->stats;
	size_t n = 0;

	while (n < max) {
		const char *line;
		size_t len;
		int rc;

		if (t->run < t->nruns) {
			struct ref_run *r = &t->runs[t->run];
			uint64_t k = r->count < max - n ? r->count : max - n;

			for (uint64_t i = 0; i < k; i++)
				buf[n + i] = (struct trace_ref){ r->first + i, r->write };
			n += k;
			r->first += k;
			r->count -= k;
			st->refs += k;
			if (r->write)
				st->writes += k;
			else
				st->reads += k;
			if (r->count == 0)
				t->run++;
			continue;
		}
		rc = instream_getline(t->in, &line, &len);
		if (rc == 0)
			break;
		if (rc == -2) {
			trace_fail_line(t, "%s", instream_error(t->in));
			break;
		}
		if (rc < 0) {
			trace_fail(t, "%s", instream_error(t->in));
			break;
		}
		rc = t->ops->parse_line(t, line, len, t->runs);
		if (rc < 0)
			break;
		if (rc == 0) {
			st->skipped++;
			continue;
		}
		if (record_too_long(t, rc))
			break;
		st->records++;
		t->nruns = rc;
		t->run = 0;
	}
	return (ptrdiff_t)n;
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

int parse_dec(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	bool overflow = false;

	if (p == end || (unsigned)(*p - '0') > 9)
		return -1;
	for (; p < end && (unsigned)(*p - '0') <= 9; p++)
		overflow |= __builtin_mul_overflow(x, 10, &x) |
			    __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x);
	*pp = p;
	*v = x;
	return overflow ? -2 : 0;
}

static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int parse_hex(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	bool overflow = false;
	int d;

	if (p == end || hex_digit(*p) < 0)
		return -1;
	for (; p < end && (d = hex_digit(*p)) >= 0; p++) {
		overflow |= x >> 60 != 0;
		x = x << 4 | (uint64_t)d;
	}
	*pp = p;
	*v = x;
	return overflow ? -2 : 0;
}

const char *quote_token(char *buf, size_t buflen, const char *p, const char *end)
{
	enum { SHOWN = 40 };
	size_t n = 0, i = 0;

	while (p + n < end && !is_blank(p[n]))
		n++;
	if (buflen < SHOWN + 8) {
		if (buflen)
			buf[0] = '\0';
		return buf;
	}
	buf[i++] = '\'';
	for (size_t k = 0; k < n && k < SHOWN; k++) {
		unsigned char c = (unsigned char)p[k];

		/* Binary read as text must not garble the terminal. */
		buf[i++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n > SHOWN) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i++] = '\'';
	buf[i] = '\0';
	return buf;
}
