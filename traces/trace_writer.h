/* SPDX-License-Identifier: MIT */
/*
 * Writing traces: pft (page ids renamed to dense ids, the originals kept in
 * its table), txt, rw and oracleGeneral (held whole until close, for its
 * next-access times). Used by `pflab trace convert` and `trace gen`.
 */
#ifndef PFLAB_TRACE_WRITER_H
#define PFLAB_TRACE_WRITER_H

#include "trace.h"

struct trace_writer_options {
	enum trace_format format; /* TRACE_PFT, TRACE_TXT, TRACE_RW or TRACE_ORACLE */
	uint32_t page_size;       /* recorded in a pft header; 0: unknown */
	bool zstd;                /* compress the output */
};

struct trace_writer;

/* "-" is standard output; path must outlive the writer. NULL with "path:
 * reason" in err. */
struct trace_writer *trace_writer_open(const char *path, const struct trace_writer_options *opt,
				       char *err, size_t errlen);
/* 0, or -1 with the reason in trace_writer_error() (then abort). */
int trace_writer_put(struct trace_writer *w, const struct trace_ref *refs, size_t n);
const char *trace_writer_error(const struct trace_writer *w);
/* Distinct pages written so far (pft, oracleGeneral; 0 for the text formats). */
uint64_t trace_writer_pages(const struct trace_writer *w);

/* Finish the file and free w. 0, or -1 with "path: reason" in err. */
int trace_writer_close(struct trace_writer *w, char *err, size_t errlen);
/* Free w and remove the half-written file. */
void trace_writer_abort(struct trace_writer *w);

#endif /* PFLAB_TRACE_WRITER_H */
