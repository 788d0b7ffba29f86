// SPDX-License-Identifier: MIT
/*
 * Headerless binary traces of fixed-size records, decoded in place from the
 * input buffer. A last record cut short is an error that names it: a file
 * truncated in the middle of a record must not read as a shorter trace.
 */
#include "trace_internal.h"

ptrdiff_t binrec_read(struct trace *t, struct trace_ref *buf, size_t max, size_t recsize,
		      void (*decode)(const uint8_t *p, size_t n, struct trace_ref *out))
{
	size_t batch = INSTREAM_MAX_FILL / recsize, n = 0;

	while (n < max) {
		size_t want = max - n < batch ? max - n : batch, k;
		const uint8_t *p;
		ptrdiff_t avail = instream_fill(t->in, want * recsize, &p);

		if (avail < 0) {
			trace_fail(t, "%s", instream_error(t->in));
			break;
		}
		k = (size_t)avail / recsize;
		if (k > want)
			k = want;
		if (k == 0) {
			if (avail > 0)
				trace_fail(t, "record %llu: truncated (%zd of %zu bytes)",
					   (unsigned long long)t->stats.records + 1, avail, recsize);
			break;
		}
		decode(p, k, buf + n);
		instream_consume(t->in, k * recsize);
		n += k;
		t->stats.records += k;
		t->stats.refs += k;
		t->stats.reads += k;
	}
	return (ptrdiff_t)n;
}
