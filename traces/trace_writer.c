// SPDX-License-Identifier: MIT
/*
 * The trace writers. pft renames page ids to dense ids in order of first
 * appearance (traces/idmap.h) and keeps the original of each in a table,
 * written after the records with the counts (layout: pft.h): so it streams
 * to a pipe or a compressor, and on a plain file it also fills the counts
 * into the header once they are known.
 *
 * oracleGeneral (libCacheSim's 24-byte records, docs/formats.md) carries each
 * reference's next-access time, which only the whole trace gives: the writer
 * holds the dense id of every reference (4 bytes each) and writes the records
 * at close, after one backward pass over them.
 */
#include "trace_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "outstream.h"
#include "pft.h"

#define ORACLE_RECORD_SIZE 24
/* Indices fit in clock_time's 32 bits; UINT32_MAX means no next access. */
#define ORACLE_MAX_REFS ((uint64_t)UINT32_MAX - 1)

struct trace_writer {
	struct trace_writer_options opt;
	const char *path;       /* the caller's, for errors at close */
	struct outstream *out;
	uint64_t refs, writes;
	/* pft: renaming, and the original id of each dense id. */
	struct idmap map;
	bool map_ready;
	uint64_t *orig;
	uint64_t norig, cap;
	/* oracleGeneral: the dense id of every reference, until close. */
	uint32_t *held;
	uint64_t nheld, held_cap;
	char err[256];
};

static int pft_start(struct trace_writer *w)
{
	struct pft_header h = {
		.version = PFT_VERSION,
		.header_size = PFT_HEADER_SIZE,
		.page_size = w->opt.page_size,
	};
	uint8_t buf[PFT_HEADER_SIZE];

	if (idmap_init(&w->map) != 0)
		return -1;
	w->map_ready = true;
	pft_header_encode(&h, buf);
	outstream_write(w->out, buf, sizeof(buf));
	return 0;
}

struct trace_writer *trace_writer_open(const char *path, const struct trace_writer_options *opt,
				       char *err, size_t errlen)
{
	struct trace_writer *w;

	if (opt->format != TRACE_PFT && opt->format != TRACE_TXT && opt->format != TRACE_RW &&
	    opt->format != TRACE_ORACLE) {
		snprintf(err, errlen, "%s: cannot write %s traces (only pft, txt, rw, oracleGeneral)", path,
			 trace_format_name(opt->format));
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->opt = *opt;
	w->path = path;
	w->out = outstream_open(path, opt->zstd, err, errlen);
	if (!w->out) {
		free(w);
		return NULL;
	}
	if ((opt->format == TRACE_PFT && pft_start(w) != 0) ||
	    (opt->format == TRACE_ORACLE && idmap_init(&w->map) != 0) ||
	    (opt->format == TRACE_ORACLE && !(w->map_ready = true))) {
		snprintf(err, errlen, "%s: out of memory", path);
		trace_writer_abort(w);
		return NULL;
	}
	return w;
}

static int fail(struct trace_writer *w, const char *why)
{
	snprintf(w->err, sizeof(w->err), "%s", why);
	return -1;
}

/* The dense id of page, remembering the original of a new one. */
static int64_t dense_id(struct trace_writer *w, uint64_t page)
{
	uint32_t id = idmap_get(&w->map, page);

	if (id == UINT32_MAX)
		return fail(w, "out of memory renaming page ids");
	if (id >= PFT_MAX_PAGES)
		return fail(w, "more than 2147483647 distinct pages: too many for pft");
	if (id == w->norig) {
		if (w->norig == w->cap) {
			uint64_t cap = w->cap ? w->cap * 2 : 4096, *bigger;

			bigger = realloc(w->orig, sizeof(*bigger) * cap);
			if (!bigger)
				return fail(w, "out of memory for the page id table");
			w->orig = bigger;
			w->cap = cap;
		}
		w->orig[w->norig++] = page;
	}
	return id;
}

static int put_pft(struct trace_writer *w, const struct trace_ref *refs, size_t n)
{
	while (n) {
		size_t k = n < OUTSTREAM_MAX_RESERVE / 4 ? n : OUTSTREAM_MAX_RESERVE / 4;
		uint8_t *p = outstream_reserve(w->out, k * 4);

		for (size_t i = 0; i < k; i++) {
			int64_t id = dense_id(w, refs[i].page);

			if (id < 0) {
				outstream_commit(w->out, i * 4);
				return -1;
			}
			put_le32(p + 4 * i, (uint32_t)id | (refs[i].write ? PFT_WRITE_BIT : 0));
			w->writes += refs[i].write;
		}
		outstream_commit(w->out, k * 4);
		w->refs += k;
		refs += k;
		n -= k;
	}
	return 0;
}

/* Decimal digits of v at the end of buf[20]; returns where they start. */
static char *u64_digits(char *end, uint64_t v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

static int put_text(struct trace_writer *w, const struct trace_ref *refs, size_t n)
{
	bool rw = w->opt.format == TRACE_RW;

	for (size_t i = 0; i < n; i++) {
		char num[20], *d = u64_digits(num + sizeof(num), refs[i].page);
		size_t len = (size_t)(num + sizeof(num) - d);
		uint8_t *p = outstream_reserve(w->out, len + 3), *q = p;

		if (rw) {
			*q++ = refs[i].write ? 'W' : 'R';
			*q++ = ' ';
		}
		memcpy(q, d, len);
		q += len;
		*q++ = '\n';
		outstream_commit(w->out, (size_t)(q - p));
		w->writes += refs[i].write;
	}
	w->refs += n;
	return 0;
}

/* oracleGeneral: hold the dense ids; the records are written at close. */
static int put_oracle(struct trace_writer *w, const struct trace_ref *refs, size_t n)
{
	if (w->held_cap - w->nheld < n) {
		uint64_t cap = w->held_cap ? w->held_cap : 65536;
		uint32_t *bigger;

		while (cap - w->nheld < n)
			cap *= 2;
		if (cap > ORACLE_MAX_REFS)
			cap = ORACLE_MAX_REFS;
		if (cap - w->nheld < n)
			return fail(w, "more than 4294967294 references: too many to hold for oracleGeneral's next-access times");
		bigger = realloc(w->held, sizeof(*bigger) * cap);
		if (!bigger)
			return fail(w, "out of memory holding the trace for oracleGeneral's next-access times");
		w->held = bigger;
		w->held_cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t id = dense_id(w, refs[i].page);

		if (id < 0)
			return -1;
		w->held[w->nheld++] = (uint32_t)id;
		w->writes += refs[i].write;
	}
	w->refs += n;
	return 0;
}

int trace_writer_put(struct trace_writer *w, const struct trace_ref *refs, size_t n)
{
	switch (w->opt.format) {
	case TRACE_PFT: return put_pft(w, refs, n);
	case TRACE_ORACLE: return put_oracle(w, refs, n);
	default: return put_text(w, refs, n);
	}
}

const char *trace_writer_error(const struct trace_writer *w)
{
	return w->err;
}

uint64_t trace_writer_pages(const struct trace_writer *w)
{
	return w->norig;
}

static void pft_finish(struct trace_writer *w)
{
	uint8_t buf[PFT_HEADER_SIZE], *p;

	put_le32(buf, PFT_END_MARKER);
	outstream_write(w->out, buf, 4);
	put_le64(buf, w->refs);
	put_le64(buf + 8, w->writes);
	put_le64(buf + 16, w->norig);
	outstream_write(w->out, buf, PFT_TRAILER_SIZE);
	for (uint64_t i = 0; i < w->norig;) {
		uint64_t k = w->norig - i < OUTSTREAM_MAX_RESERVE / 8 ? w->norig - i
								       : OUTSTREAM_MAX_RESERVE / 8;

		p = outstream_reserve(w->out, k * 8);
		for (uint64_t j = 0; j < k; j++)
			put_le64(p + 8 * j, w->orig[i + j]);
		outstream_commit(w->out, k * 8);
		i += k;
	}
	outstream_write(w->out, PFT_END_MAGIC, PFT_END_LEN);
	if (outstream_rewritable(w->out)) {
		struct pft_header h = {
			.version = PFT_VERSION,
			.header_size = PFT_HEADER_SIZE,
			.flags = PFT_FLAG_COUNTS,
			.page_size = w->opt.page_size,
			.refs = w->refs,
			.writes = w->writes,
			.pages = w->norig,
		};

		pft_header_encode(&h, buf);
		outstream_rewrite(w->out, 0, buf, sizeof(buf));
	}
}

/*
 * The oracleGeneral records, from the held ids: clock_time is the
 * reference's index (a trace without wall time), obj_size the page size,
 * next_access_vtime the index of the next reference to the same page, or -1
 * for none. One backward pass finds the next indices (4 bytes a reference
 * more), then the records go out in order.
 */
static int oracle_finish(struct trace_writer *w)
{
	uint32_t *last = malloc(sizeof(*last) * (w->norig ? w->norig : 1));
	uint32_t *next = malloc(sizeof(*next) * (w->nheld ? w->nheld : 1));
	uint32_t size = w->opt.page_size ? w->opt.page_size : 4096;

	if (!last || !next) {
		free(last);
		free(next);
		return fail(w, "out of memory for oracleGeneral's next-access times");
	}
	for (uint64_t i = 0; i < w->norig; i++)
		last[i] = UINT32_MAX;
	for (uint64_t i = w->nheld; i-- > 0;) {
		next[i] = last[w->held[i]];
		last[w->held[i]] = (uint32_t)i;
	}
	free(last);
	for (uint64_t i = 0; i < w->nheld;) {
		uint64_t k = w->nheld - i < OUTSTREAM_MAX_RESERVE / ORACLE_RECORD_SIZE
				     ? w->nheld - i
				     : OUTSTREAM_MAX_RESERVE / ORACLE_RECORD_SIZE;
		uint8_t *p = outstream_reserve(w->out, k * ORACLE_RECORD_SIZE);

		for (uint64_t j = 0; j < k; j++, p += ORACLE_RECORD_SIZE) {
			uint64_t at = i + j;

			put_le32(p, (uint32_t)at);
			put_le64(p + 4, w->orig[w->held[at]]);
			put_le32(p + 12, size);
			put_le64(p + 16, next[at] == UINT32_MAX ? UINT64_MAX : next[at]);
		}
		outstream_commit(w->out, k * ORACLE_RECORD_SIZE);
		i += k;
	}
	free(next);
	return 0;
}

static void release(struct trace_writer *w)
{
	if (w->map_ready)
		idmap_fini(&w->map);
	free(w->orig);
	free(w->held);
	free(w);
}

int trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
	int rc;

	if (w->opt.format == TRACE_PFT)
		pft_finish(w);
	if (w->opt.format == TRACE_ORACLE && oracle_finish(w) != 0) {
		snprintf(err, errlen, "%s: %s", w->path, w->err);
		trace_writer_abort(w);
		return -1;
	}
	rc = outstream_close(w->out, err, errlen);
	release(w);
	return rc;
}

void trace_writer_abort(struct trace_writer *w)
{
	if (!w)
		return;
	outstream_abort(w->out);
	release(w);
}
