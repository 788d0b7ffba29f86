// SPDX-License-Identifier: MIT
/*
 * Every trace format through the streaming reader (traces/): trace_open()
 * on the input, then trace_read() to the end. The first byte picks the
 * reading (the rest is the file):
 *
 *   bits 0-2  the format: 0 auto-detect (detect.c), then txt, rw, lackey,
 *             arc, oracleGeneral, pft, be32 as given by --format
 *   bits 3-4  the page size: default, 512, 4096, 65536
 *   bit 5     keep a pft trace's id table (trace_keep_ids, as trace convert)
 *
 * gzip, xz and zstd input is decompressed by its magic bytes whatever the
 * format, so compressed seeds reach every reader the same way.
 *
 * A record may expand to very many references (an ARC line of n blocks, a
 * Lackey access of any size): the harness stops after FUZZ_MAX_REFS of an
 * input, so that such a record does not stall the search.
 *
 * Properties: the statistics count what was handed out (refs, reads +
 * writes); an error has a message naming the file; a pft id table has one
 * id per dense page.
 */
#include "fuzz.h"

#include "trace.h"
#include "trace_internal.h"

#define FUZZ_MAX_REFS (1u << 16)
#define CHUNK 1024

static const uint32_t page_sizes[4] = { 0, 512, 4096, 65536 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trace_ref buf[CHUNK];
	struct trace_options opt;
	uint64_t total = 0, writes = 0, max_page = 0;
	char path[64], err[512];
	struct trace *t;
	ptrdiff_t n = 0;
	bool keep;
	int fd;

	if (size < 1)
		return 0;
	opt = (struct trace_options){
		.format = (enum trace_format)(data[0] & 7),
		.page_size = page_sizes[(data[0] >> 3) & 3],
	};
	keep = data[0] & 0x20;
	fd = fuzz_memfile(data + 1, size - 1, path, sizeof(path));
	if (fd < 0)
		return 0;
	t = trace_open(path, &opt, err, sizeof(err));
	if (!t) {
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
		close(fd);
		return 0;
	}
	FUZZ_CHECK(opt.format == TRACE_AUTO || trace_format(t) == opt.format);
	if (keep)
		FUZZ_CHECK((trace_keep_ids(t) == 0) == (trace_format(t) == TRACE_PFT));
	while (total < FUZZ_MAX_REFS) {
		n = trace_read(t, buf, CHUNK);
		if (n <= 0)
			break;
		FUZZ_CHECK((size_t)n <= CHUNK);
		for (ptrdiff_t i = 0; i < n; i++) {
			writes += buf[i].write;
			if (buf[i].page > max_page)
				max_page = buf[i].page;
		}
		total += (uint64_t)n;
	}
	{
		const struct trace_stats *st = trace_stats(t);

		FUZZ_CHECK(st->refs == total);
		FUZZ_CHECK(st->reads + st->writes == st->refs);
		FUZZ_CHECK(st->writes == writes);
	}
	if (n < 0)
		FUZZ_CHECK(strncmp(trace_error(t), path, strlen(path)) == 0);
	if (n == 0 && keep && trace_format(t) == TRACE_PFT) {
		const uint64_t *ids;
		uint64_t nids;

		FUZZ_CHECK(trace_ids(t, &ids, &nids) == 0);
		/* Dense ids: every page read is a row of the table. */
		FUZZ_CHECK(total == 0 || max_page < nids);
	}
	trace_close(t);
	close(fd);
	return 0;
}
