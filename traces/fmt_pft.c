// SPDX-License-Identifier: MIT
/*
 * pft, pflab's compact binary trace (layout in pft.h and docs/formats.md):
 * one little-endian uint32 a reference, page ids already dense. Reading it
 * is a decode loop with two cheap checks per record, so that a damaged file
 * is an error rather than a wrong simulation:
 *  - the end marker, after which come the trailer and the id table;
 *  - density: a page id is either one seen before or the next new one.
 * The trailer's counts must then match what the records held.
 */
#include <stdlib.h>

#include "pft.h"
#include "trace_internal.h"

struct pft_state {
	struct pft_header h;
	uint32_t next_new;   /* pages 0 .. next_new - 1 have appeared */
	uint64_t *ids;       /* with keep_ids, once the table is read */
	uint64_t nids;
	bool table_read;
};

static int pft_open(struct trace *t)
{
	struct pft_state *ps = calloc(1, sizeof(*ps));
	const uint8_t *p;
	ptrdiff_t avail;
	char why[128];

	if (!ps)
		return trace_fail(t, "out of memory");
	t->priv = ps;
	avail = instream_fill(t->in, PFT_HEADER_SIZE, &p);
	if (avail < 0)
		return trace_fail(t, "%s", instream_error(t->in));
	if ((size_t)avail < PFT_MAGIC_LEN || memcmp(p, PFT_MAGIC, PFT_MAGIC_LEN) != 0)
		return trace_fail(t, "not a pft trace (bad magic)");
	if (avail < PFT_HEADER_SIZE)
		return trace_fail(t, "truncated pft header (%zd of %d bytes)", avail, PFT_HEADER_SIZE);
	if (pft_header_decode(p, &ps->h, why, sizeof(why)) != 0)
		return trace_fail(t, "%s", why);
	/* A longer header from a later version: skip what we don't know. */
	avail = instream_fill(t->in, ps->h.header_size, &p);
	if (avail < 0)
		return trace_fail(t, "%s", instream_error(t->in));
	if (avail < ps->h.header_size)
		return trace_fail(t, "truncated pft header (%zd of %u bytes)", avail, ps->h.header_size);
	instream_consume(t->in, ps->h.header_size);
	if (!t->page_size)
		t->page_size = ps->h.page_size;
	t->dense = true;
	return 0;
}

/* Read n bytes into out (or skip them if out is NULL). -1 if the stream ends first. */
static int read_bytes(struct trace *t, uint8_t *out, uint64_t n, const char *what)
{
	while (n) {
		const uint8_t *p;
		size_t want = n < INSTREAM_MAX_FILL ? (size_t)n : INSTREAM_MAX_FILL;
		ptrdiff_t avail = instream_fill(t->in, want, &p);

		if (avail < 0)
			return trace_fail(t, "%s", instream_error(t->in));
		if ((size_t)avail < want)
			return trace_fail(t, "truncated: the file ends in the %s", what);
		if (out) {
			memcpy(out, p, want);
			out += want;
		}
		instream_consume(t->in, want);
		n -= want;
	}
	return 0;
}

static int check_count(struct trace *t, const char *what, uint64_t trailer, uint64_t seen)
{
	if (trailer != seen)
		return trace_fail(t, "the trailer says %llu %s, the records hold %llu",
				  (unsigned long long)trailer, what, (unsigned long long)seen);
	return 0;
}

/* After the end marker: the trailer, the id table, the end magic, nothing more. */
static int read_trailer(struct trace *t, struct pft_state *ps)
{
	const struct trace_stats *st = &t->stats;
	uint8_t tr[PFT_TRAILER_SIZE], end[PFT_END_LEN];
	uint64_t refs, writes, pages;
	const uint8_t *p;

	if (read_bytes(t, tr, sizeof(tr), "trailer"))
		return -1;
	refs = get_le64(tr);
	writes = get_le64(tr + 8);
	pages = get_le64(tr + 16);
	if (check_count(t, "references", refs, st->refs) || check_count(t, "writes", writes, st->writes) ||
	    check_count(t, "distinct pages", pages, ps->next_new))
		return -1;
	if ((ps->h.flags & PFT_FLAG_COUNTS) &&
	    (ps->h.refs != refs || ps->h.writes != writes || ps->h.pages != pages))
		return trace_fail(t, "the counts in the header do not match the trailer");
	if (t->keep_ids) {
		ps->ids = malloc(sizeof(*ps->ids) * (pages ? pages : 1));
		if (!ps->ids)
			return trace_fail(t, "out of memory for %llu page ids", (unsigned long long)pages);
	}
	if (read_bytes(t, (uint8_t *)ps->ids, pages * sizeof(uint64_t), "id table"))
		return -1;
	/* The table is stored little-endian; on a big-endian host, swap it. */
	for (uint64_t i = 0; ps->ids && i < pages; i++)
		ps->ids[i] = get_le64((const uint8_t *)&ps->ids[i]);
	ps->nids = pages;
	if (read_bytes(t, end, sizeof(end), "end magic"))
		return -1;
	if (memcmp(end, PFT_END_MAGIC, PFT_END_LEN) != 0)
		return trace_fail(t, "bad end magic after the id table: the file is damaged");
	if (instream_fill(t->in, 1, &p) != 0)
		return trace_fail(t, "unexpected bytes after the end of the trace");
	ps->table_read = true;
	return 0;
}

static ptrdiff_t pft_read(struct trace *t, struct trace_ref *buf, size_t max)
{
	struct pft_state *ps = t->priv;
	struct trace_stats *st = &t->stats;
	uint32_t next_new = ps->next_new;
	uint64_t writes = 0;
	size_t n = 0;
	bool at_marker = false;

	while (n < max && !at_marker) {
		size_t want = max - n < INSTREAM_MAX_FILL / 4 ? max - n : INSTREAM_MAX_FILL / 4, k, i;
		const uint8_t *p;
		ptrdiff_t avail = instream_fill(t->in, want * 4, &p);

		if (avail < 0) {
			trace_fail(t, "%s", instream_error(t->in));
			break;
		}
		k = (size_t)avail / 4 < want ? (size_t)avail / 4 : want;
		if (k == 0) {
			if (avail > 0)
				trace_fail(t, "record %llu: truncated (%zd of 4 bytes)",
					   (unsigned long long)(st->refs + n + 1), avail);
			else
				trace_fail(t, "truncated: the records end without the end marker (after %llu)",
					   (unsigned long long)(st->refs + n));
			break;
		}
		for (i = 0; i < k; i++) {
			uint32_t v = get_le32(p + 4 * i), page = v & PFT_PAGE_MASK;

			if (__builtin_expect(page >= next_new, 0)) {
				if (v == PFT_END_MARKER) {
					at_marker = true;
					i++;
					break;
				}
				if (page > next_new || page == PFT_MAX_PAGES) {
					trace_fail(t, "record %llu: page %u is not dense (the next new page is %u)",
						   (unsigned long long)(st->refs + n + 1), page, next_new);
					break;
				}
				next_new++;
			}
			buf[n].page = page;
			buf[n].write = v >> 31;
			writes += v >> 31;
			n++;
		}
		instream_consume(t->in, 4 * i);
		if (t->failed)
			break;
	}
	ps->next_new = next_new;
	st->records += n;
	st->refs += n;
	st->writes += writes;
	st->reads += n - writes;
	if (at_marker)
		read_trailer(t, ps);
	/* The marker ends the references; a later call must return 0. */
	if (at_marker && !t->failed && n == 0)
		return 0;
	if (at_marker && !t->failed)
		t->ended = true;
	return (ptrdiff_t)n;
}

static void pft_close(struct trace *t)
{
	struct pft_state *ps = t->priv;

	if (ps)
		free(ps->ids);
	free(ps);
}

const struct trace_ops trace_pft_ops = {
	.format = TRACE_PFT,
	.open = pft_open,
	.read = pft_read,
	.close = pft_close,
};

int trace_keep_ids(struct trace *t)
{
	if (t->ops != &trace_pft_ops || t->stats.refs)
		return -1;
	t->keep_ids = true;
	return 0;
}

int trace_ids(const struct trace *t, const uint64_t **ids, uint64_t *n)
{
	const struct pft_state *ps = t->ops == &trace_pft_ops ? t->priv : NULL;

	if (!ps || !ps->table_read || !ps->ids)
		return -1;
	*ids = ps->ids;
	*n = ps->nids;
	return 0;
}

uint64_t trace_expected_refs(const struct trace *t)
{
	const struct pft_state *ps = t->ops == &trace_pft_ops ? t->priv : NULL;

	return ps && (ps->h.flags & PFT_FLAG_COUNTS) ? ps->h.refs : 0;
}
