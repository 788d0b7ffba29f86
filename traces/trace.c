// SPDX-License-Identifier: MIT
/*
 * The trace reader: opens the stream, picks the format, and hands reads to
 * the format's file (fmt_*.c). See trace.h and docs/formats.md.
 */
#include "trace_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_PAGE_SIZE 4096
/* How much of the decompressed content detection looks at. */
#define DETECT_BYTES INSTREAM_MAX_FILL

static const struct trace_ops *const format_ops[] = {
	[TRACE_TXT] = &trace_txt_ops,
	[TRACE_RW] = &trace_rw_ops,
	[TRACE_LACKEY] = &trace_lackey_ops,
	[TRACE_ARC] = &trace_arc_ops,
	[TRACE_ORACLE] = &trace_oracle_ops,
	[TRACE_PFT] = &trace_pft_ops,
	[TRACE_BE32] = &trace_be32_ops,
};

static const char *const format_names[] = {
	[TRACE_AUTO] = "auto",
	[TRACE_TXT] = "txt",
	[TRACE_RW] = "rw",
	[TRACE_LACKEY] = "lackey",
	[TRACE_ARC] = "arc",
	[TRACE_ORACLE] = "oracleGeneral",
	[TRACE_PFT] = "pft",
	[TRACE_BE32] = "be32",
};

#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

const char *trace_format_name(enum trace_format f)
{
	return (unsigned)f < NFORMATS ? format_names[f] : "unknown";
}

int trace_format_parse(const char *name, enum trace_format *out)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		if (strcasecmp(name, format_names[i]) == 0) {
			*out = (enum trace_format)i;
			return 0;
		}
	}
	/* libCacheSim's own short name. */
	if (strcasecmp(name, "oracle") == 0) {
		*out = TRACE_ORACLE;
		return 0;
	}
	return -1;
}

int trace_fail(struct trace *t, const char *fmt, ...)
{
	int n = snprintf(t->err, sizeof(t->err), "%s: ", instream_name(t->in));
	va_list ap;

	if (n >= 0 && (size_t)n < sizeof(t->err)) {
		va_start(ap, fmt);
		vsnprintf(t->err + n, sizeof(t->err) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	t->failed = true;
	return -1;
}

int trace_fail_line(struct trace *t, const char *fmt, ...)
{
	int n = snprintf(t->err, sizeof(t->err), "%s:%llu: ", instream_name(t->in),
			 (unsigned long long)instream_lineno(t->in));
	va_list ap;

	if (n >= 0 && (size_t)n < sizeof(t->err)) {
		va_start(ap, fmt);
		vsnprintf(t->err + n, sizeof(t->err) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	t->failed = true;
	return -1;
}

static int pick_format(struct trace *t, const char *path, enum trace_format *fmt)
{
	const uint8_t *head;
	ptrdiff_t len = instream_fill(t->in, DETECT_BYTES, &head);
	char why[256];

	if (len < 0)
		return trace_fail(t, "%s", instream_error(t->in));
	if (trace_detect(strcmp(path, "-") == 0 ? NULL : path, head, (size_t)len,
			 (size_t)len < DETECT_BYTES, fmt, why, sizeof(why)) != 0)
		return trace_fail(t, "%s", why);
	return 0;
}

struct trace *trace_open(const char *path, const struct trace_options *opt,
			 char *err, size_t errlen)
{
	enum trace_format fmt = opt ? opt->format : TRACE_AUTO;
	uint32_t page_size = opt ? opt->page_size : 0;
	struct trace *t;

	if (page_size & (page_size - 1)) {
		snprintf(err, errlen, "%s: page size %u is not a power of two", path, page_size);
		return NULL;
	}
	if ((unsigned)fmt >= NFORMATS) {
		snprintf(err, errlen, "%s: unknown trace format %d", path, (int)fmt);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	t->in = instream_open(path, err, errlen);
	if (!t->in) {
		free(t);
		return NULL;
	}
	t->page_size = page_size;
	if (fmt == TRACE_AUTO && pick_format(t, path, &fmt) != 0)
		goto fail;
	t->ops = format_ops[fmt];
	if (t->ops->open && t->ops->open(t) != 0)
		goto fail;
	if (!t->page_size)
		t->page_size = DEFAULT_PAGE_SIZE;
	t->page_shift = (unsigned)__builtin_ctz(t->page_size);
	return t;
fail:
	snprintf(err, errlen, "%s", t->err);
	trace_close(t);
	return NULL;
}

ptrdiff_t trace_read(struct trace *t, struct trace_ref *buf, size_t max)
{
	ptrdiff_t n;

	if (t->failed)
		return -1;
	if (t->ended || max == 0)
		return 0;
	n = t->ops->read ? t->ops->read(t, buf, max) : text_read(t, buf, max);
	/* A format that fails after some references returns them first. */
	if (n == 0 && !t->failed)
		t->ended = true;
	return n == 0 && t->failed ? -1 : n;
}

const char *trace_error(const struct trace *t)
{
	return t->failed ? t->err : "no error";
}

const struct trace_stats *trace_stats(const struct trace *t)
{
	return &t->stats;
}

enum trace_format trace_format(const struct trace *t)
{
	return t->ops->format;
}

bool trace_dense(const struct trace *t)
{
	return t->dense;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->close)
		t->ops->close(t);
	instream_close(t->in);
	free(t);
}

const char *trace_compression(const struct trace *t)
{
	return instream_compression(t->in);
}

uint32_t trace_page_size(const struct trace *t)
{
	return t->page_size;
}
