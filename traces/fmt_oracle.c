// SPDX-License-Identifier: MIT
/*
 * oracleGeneral: libCacheSim's binary trace, 24-byte little-endian records
 * with no header (libCacheSim's traceReader/customizedReader/oracle/
 * oracleGeneralBin.h):
 *
 *   offset 0   uint32 clock_time
 *          4   uint64 obj_id              -> the page id
 *         12   uint32 obj_size            (unused: one page per id)
 *         16   int64  next_access_vtime   (unused)
 *
 * Every record is a read. Records of size 0 are kept (libCacheSim can be
 * told to drop them): each record is one reference.
 */
#include "pft.h"
#include "trace_internal.h"

#define ORACLE_RECORD 24

static void oracle_decode(const uint8_t *p, size_t n, struct trace_ref *out)
{
	for (size_t i = 0; i < n; i++, p += ORACLE_RECORD)
		out[i] = (struct trace_ref){ .page = get_le64(p + 4), .write = false };
}

static ptrdiff_t oracle_read(struct trace *t, struct trace_ref *buf, size_t max)
{
	return binrec_read(t, buf, max, ORACLE_RECORD, oracle_decode);
}

const struct trace_ops trace_oracle_ops = {
	.format = TRACE_ORACLE,
	.read = oracle_read,
};
