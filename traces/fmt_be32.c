// SPDX-License-Identifier: MIT
/*
 * be32: a headerless sequence of big-endian uint32 ids, 4 bytes each, all
 * reads: the format of cache2k's benchmark traces (web07.trace, ...).
 */
#include "trace_internal.h"

static void be32_decode(const uint8_t *p, size_t n, struct trace_ref *out)
{
	for (size_t i = 0; i < n; i++, p += 4) {
		uint32_t id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

		out[i] = (struct trace_ref){ .page = id, .write = false };
	}
}

static ptrdiff_t be32_read(struct trace *t, struct trace_ref *buf, size_t max)
{
	return binrec_read(t, buf, max, 4, be32_decode);
}

const struct trace_ops trace_be32_ops = {
	.format = TRACE_BE32,
	.read = be32_read,
};
