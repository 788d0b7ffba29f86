/* SPDX-License-Identifier: MIT */
/*
 * Inside the trace readers: the reader object every format file fills in,
 * and the few extras that `pflab trace` needs beyond traces/trace.h (the
 * original ids of a pft trace, the compression of the input).
 *
 * A format is one file, fmt_<name>.c, that defines a struct trace_ops.
 * Text formats only parse one line into runs of pages (see text.c, which
 * owns the reading loop); binary formats read the byte stream themselves.
 */
#ifndef PFLAB_TRACE_INTERNAL_H
#define PFLAB_TRACE_INTERNAL_H

#include <stdarg.h>

#include "instream.h"
#include "trace.h"

/*
 * What one record of a text format gives: count consecutive pages from
 * first, all read or all written. A Lackey "M" across a page boundary is
 * two runs (the loads, then the stores); an ARC line is one run of n pages.
 */
struct ref_run {
	uint64_t first;
	uint64_t count;
	bool write;
};

#define TRACE_MAX_RUNS 2

/*
 * The most references one record may give, all its runs together: 2^20,
 * an ARC request of 4 GiB in 4 KiB blocks. A record past it (a corrupt
 * ARC n, a Lackey size of 2^64 - 1) is bad input, refused with its line,
 * not hours of references (docs/formats.md).
 */
#define TRACE_RECORD_MAX_REFS (1u << 20)

struct trace_ops {
	enum trace_format format;
	/* Binary formats: read the header, if any. 0, or -1 after trace_fail(). */
	int (*open)(struct trace *t);
	/* Binary formats: as trace_read(), but never called again after -1 or 0. */
	ptrdiff_t (*read)(struct trace *t, struct trace_ref *buf, size_t max);
	/*
	 * Text formats: parse one line (without its end of line) into runs.
	 * Returns the number of runs, 0 for a line the format skips, or -1
	 * after trace_fail_line().
	 */
	int (*parse_line)(struct trace *t, const char *line, size_t len, struct ref_run *runs);
	void (*close)(struct trace *t);
};

struct trace {
	const struct trace_ops *ops;
	struct instream *in;
	struct trace_stats stats;
	unsigned page_shift;      /* log2 of the page size of byte addresses */
	uint32_t page_size;
	bool dense;
	bool keep_ids;            /* pft: keep the id table (trace_ids()) */
	bool failed;              /* sticky: every later read returns -1 */
	bool ended;
	/* Text formats: the runs of the last line not yet handed out. */
	struct ref_run runs[TRACE_MAX_RUNS];
	int nruns, run;
	void *priv;               /* a binary format's own state */
	char err[512];
};

extern const struct trace_ops trace_txt_ops, trace_rw_ops, trace_lackey_ops, trace_arc_ops,
	trace_oracle_ops, trace_pft_ops, trace_be32_ops;

/* Set the error to "NAME: reason" and mark the trace failed. Returns -1. */
int trace_fail(struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "NAME:LINE: reason", LINE being the line just read. Returns -1. */
int trace_fail_line(struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The generic loop of the text formats (text.c). */
ptrdiff_t text_read(struct trace *t, struct trace_ref *buf, size_t max);

/*
 * The loop of the headerless binary formats of fixed-size records
 * (binrec.c): decode(p, n, out) turns n whole records at p into n reads.
 */
ptrdiff_t binrec_read(struct trace *t, struct trace_ref *buf, size_t max, size_t recsize,
		      void (*decode)(const uint8_t *p, size_t n, struct trace_ref *out));

/*
 * Numbers in text records. Each parses from *p up to end, advancing *p.
 * 0 on success; -1 when there are no digits; -2 on overflow.
 */
int parse_dec(const char **p, const char *end, uint64_t *v);
int parse_hex(const char **p, const char *end, uint64_t *v);
const char *skip_blanks(const char *p, const char *end);
/* The whitespace-delimited token at p, quoted for a message: 'abc' (shortened, made printable). */
const char *quote_token(char *buf, size_t buflen, const char *p, const char *end);

/*
 * Pick the format of a trace from its first (decompressed) bytes and its
 * file name. Returns 0, or -1 with a reason (naming --format) in why.
 */
int trace_detect(const char *path, const uint8_t *head, size_t len, bool at_end,
		 enum trace_format *out, char *why, size_t whylen);

/*
 * Extras for `pflab trace` and the tests.
 *
 * trace_keep_ids: call before the first read of a pft trace; once
 * trace_read() returned 0, trace_ids() gives the original id of each dense
 * page (ids[dense] = original), which the trace keeps until trace_close().
 * -1 when the trace is not pft (or the table is not read yet for trace_ids).
 */
int trace_keep_ids(struct trace *t);
int trace_ids(const struct trace *t, const uint64_t **ids, uint64_t *n);
/* "gzip", "xz", "zstd", or NULL for plain input. */
const char *trace_compression(const struct trace *t);
/* The page size in effect: the option, or the one in a pft header. */
uint32_t trace_page_size(const struct trace *t);
/* The number of references announced by the header (pft), or 0 if unknown. */
uint64_t trace_expected_refs(const struct trace *t);

#endif /* PFLAB_TRACE_INTERNAL_H */
