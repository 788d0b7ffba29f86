/* SPDX-License-Identifier: MIT */
/*
 * Reading reference traces, streaming: constant memory whatever the length,
 * gzip/xz/zstd input decompressed on the fly, the format detected from the
 * content unless given. The formats are described in docs/formats.md.
 *
 * Every malformed record is an error that names the file, the line (or the
 * record) and what was wrong: never a silently wrong count.
 */
#ifndef PFLAB_TRACE_H
#define PFLAB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum trace_format {
	TRACE_AUTO,
	TRACE_TXT,     /* one page id per line */
	TRACE_RW,      /* "R|W <page | 0xaddress>" */
	TRACE_LACKEY,  /* Valgrind Lackey */
	TRACE_ARC,     /* the ARC paper's .lis: "start n ignore reqno" */
	TRACE_ORACLE,  /* libCacheSim oracleGeneral, 24-byte records */
	TRACE_PFT,     /* pflab's compact binary format */
	TRACE_BE32,    /* big-endian 32-bit ids (cache2k) */
};

struct trace_ref {
	uint64_t page;
	bool write;
};

struct trace_options {
	enum trace_format format; /* TRACE_AUTO: detect */
	uint32_t page_size;       /* for byte addresses (rw, lackey); 0: 4096 */
};

struct trace_stats {
	uint64_t records;  /* records or lines read that gave references */
	uint64_t refs;     /* references produced (a record may give several) */
	uint64_t reads, writes;
	uint64_t skipped;  /* lines skipped as the format allows: blank, '*' markers, comments */
};

struct trace;

/* Open path ("-" for standard input). NULL with "path: reason" in err. */
struct trace *trace_open(const char *path, const struct trace_options *opt,
			 char *err, size_t errlen);
/*
 * Read up to max references into buf. Returns the number read, 0 at the
 * end, or -1 on a malformed record or an I/O error (see trace_error()).
 */
ptrdiff_t trace_read(struct trace *t, struct trace_ref *buf, size_t max);
/* "file:line: reason" (or "file: record N: reason") for the last error. */
const char *trace_error(const struct trace *t);
const struct trace_stats *trace_stats(const struct trace *t);
enum trace_format trace_format(const struct trace *t);
/*
 * True when the page ids are already dense: 0, 1, 2, ... in order of first
 * appearance (pflab's binary format written by `pflab trace convert`), so a
 * simulator may use them as page numbers without renaming them.
 */
bool trace_dense(const struct trace *t);
void trace_close(struct trace *t);

const char *trace_format_name(enum trace_format f);
/* 0, or -1 for an unknown name. */
int trace_format_parse(const char *name, enum trace_format *out);

#endif /* PFLAB_TRACE_H */
