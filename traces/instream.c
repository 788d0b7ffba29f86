// SPDX-License-Identifier: MIT
/* A decompressing, buffered byte and line reader: see instream.h. */
#include "instream.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/*
 * One megabyte of decoded bytes per refill keeps read(2) and decompressor
 * calls rare; the compressed side reads a quarter of that at a time.
 */
#define BUF_CAP (1024 * 1024)
#define RAW_CAP (256 * 1024)
/* The longest magic number we look for (xz). */
#define MAGIC_MAX 6

enum codec { CODEC_PLAIN, CODEC_GZIP, CODEC_XZ, CODEC_ZSTD };

static const char *const codec_names[] = {
	[CODEC_PLAIN] = NULL, [CODEC_GZIP] = "gzip", [CODEC_XZ] = "xz", [CODEC_ZSTD] = "zstd",
};

struct instream {
	int fd;
	enum codec codec;
	char *name;
	/* Decoded bytes; [pos, end) not consumed yet. */
	uint8_t *buf;
	size_t pos, end;
	bool eof;		/* the decoded stream has ended */
	/* Compressed bytes; [rpos, rend) not decoded yet. */
	uint8_t *raw;
	size_t rpos, rend;
	bool raw_eof;
	/* The decompressor, and whether it stands at a clean end of stream. */
	z_stream z;
	lzma_stream x;
	ZSTD_DStream *zd;
	bool codec_ready;
	bool stream_done;
	uint64_t lineno;
	bool failed;
	char err[256];
};

static int fail(struct instream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct instream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->failed = true;
	return -1;
}

static ptrdiff_t read_fd(struct instream *s, uint8_t *p, size_t n)
{
	ssize_t got;

	do
		got = read(s->fd, p, n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return fail(s, "read error: %s", strerror(errno));
	return got;
}

/* Read more compressed bytes once the previous ones are all decoded. */
static int raw_refill(struct instream *s)
{
	ptrdiff_t n;

	if (s->rpos < s->rend || s->raw_eof)
		return 0;
	n = read_fd(s, s->raw, RAW_CAP);
	if (n < 0)
		return -1;
	s->rpos = 0;
	s->rend = (size_t)n;
	s->raw_eof = n == 0;
	return 0;
}

static int truncated(struct instream *s)
{
	return fail(s, "truncated %s stream", codec_names[s->codec]);
}

/*
 * Each step decodes into buf[end, BUF_CAP) and returns the number of bytes
 * produced, 0 at a clean end of the stream, or -1 on an error. A stream that
 * stops in the middle is an error, never a short trace.
 */
static ptrdiff_t gzip_step(struct instream *s, uint8_t *out, size_t room)
{
	for (;;) {
		size_t produced;
		int ret;

		if (raw_refill(s))
			return -1;
		if (s->stream_done) {
			/* Concatenated members (as `cat a.gz b.gz`) are one stream. */
			if (s->rpos == s->rend)
				return 0;
			if (inflateReset(&s->z) != Z_OK)
				return fail(s, "cannot restart the gzip decoder");
			s->stream_done = false;
		}
		s->z.next_in = s->raw + s->rpos;
		s->z.avail_in = (uInt)(s->rend - s->rpos);
		s->z.next_out = out;
		s->z.avail_out = (uInt)room;
		ret = inflate(&s->z, Z_NO_FLUSH);
		s->rpos = s->rend - s->z.avail_in;
		produced = room - s->z.avail_out;
		if (ret == Z_STREAM_END)
			s->stream_done = true;
		else if (ret != Z_OK && ret != Z_BUF_ERROR)
			return fail(s, "corrupt gzip stream: %s", s->z.msg ? s->z.msg : "bad data");
		if (produced)
			return (ptrdiff_t)produced;
		if (s->raw_eof && s->rpos == s->rend && !s->stream_done)
			return truncated(s);
	}
}

static const char *lzma_reason(lzma_ret ret)
{
	switch (ret) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
	case LZMA_FORMAT_ERROR: return "not an xz stream";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "bad data";
	default: return "decoder error";
	}
}

static ptrdiff_t xz_step(struct instream *s, uint8_t *out, size_t room)
{
	for (;;) {
		size_t produced;
		lzma_ret ret;

		if (raw_refill(s))
			return -1;
		if (s->stream_done)
			return 0;
		s->x.next_in = s->raw + s->rpos;
		s->x.avail_in = s->rend - s->rpos;
		s->x.next_out = out;
		s->x.avail_out = room;
		/* LZMA_CONCATENATED ends the stream only when told the input ended. */
		ret = lzma_code(&s->x, s->raw_eof ? LZMA_FINISH : LZMA_RUN);
		s->rpos = s->rend - s->x.avail_in;
		produced = room - s->x.avail_out;
		if (ret == LZMA_STREAM_END)
			s->stream_done = true;
		else if (ret == LZMA_BUF_ERROR)
			return produced ? (ptrdiff_t)produced : truncated(s);
		else if (ret != LZMA_OK)
			return fail(s, "corrupt xz stream: %s", lzma_reason(ret));
		if (produced)
			return (ptrdiff_t)produced;
	}
}

static ptrdiff_t zstd_step(struct instream *s, uint8_t *out, size_t room)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer ob = { out, room, 0 };
		size_t ret;

		if (raw_refill(s))
			return -1;
		in = (ZSTD_inBuffer){ s->raw, s->rend, s->rpos };
		ret = ZSTD_decompressStream(s->zd, &ob, &in);
		if (ZSTD_isError(ret))
			return fail(s, "corrupt zstd stream: %s", ZSTD_getErrorName(ret));
		/*
		 * 0: a frame is complete and flushed; frames may follow. A call
		 * that did nothing returns the size of the next frame's header
		 * instead, which says nothing about the last one.
		 */
		if (ob.pos || in.pos != s->rpos)
			s->stream_done = ret == 0;
		s->rpos = in.pos;
		if (ob.pos)
			return (ptrdiff_t)ob.pos;
		if (s->raw_eof && s->rpos == s->rend)
			return s->stream_done ? 0 : truncated(s);
	}
}

static ptrdiff_t step(struct instream *s)
{
	uint8_t *out = s->buf + s->end;
	size_t room = BUF_CAP - s->end;

	switch (s->codec) {
	case CODEC_GZIP: return gzip_step(s, out, room);
	case CODEC_XZ: return xz_step(s, out, room);
	case CODEC_ZSTD: return zstd_step(s, out, room);
	default: return read_fd(s, out, room);
	}
}

ptrdiff_t instream_fill(struct instream *s, size_t want, const uint8_t **data)
{
	if (s->failed)
		return -1;
	if (want > INSTREAM_MAX_FILL)
		want = INSTREAM_MAX_FILL;
	while (s->end - s->pos < want && !s->eof) {
		ptrdiff_t n;

		if (BUF_CAP - s->pos < want) {
			memmove(s->buf, s->buf + s->pos, s->end - s->pos);
			s->end -= s->pos;
			s->pos = 0;
		}
		n = step(s);
		if (n < 0)
			return -1;
		if (n == 0)
			s->eof = true;
		s->end += (size_t)n;
	}
	*data = s->buf + s->pos;
	return (ptrdiff_t)(s->end - s->pos);
}

void instream_consume(struct instream *s, size_t n)
{
	s->pos += n;
}

int instream_getline(struct instream *s, const char **line, size_t *len)
{
	if (s->failed)
		return -1;
	for (;;) {
		const uint8_t *start = s->buf + s->pos, *nl, *data;
		size_t avail = s->end - s->pos, n;

		/* A line of INSTREAM_MAX_LINE bytes may still end with "\r\n". */
		nl = memchr(start, '\n', avail < INSTREAM_MAX_LINE + 2 ? avail : INSTREAM_MAX_LINE + 2);
		if (nl || s->eof || avail > INSTREAM_MAX_LINE + 1) {
			if (!nl && s->eof && avail == 0)
				return 0;
			s->lineno++;
			n = nl ? (size_t)(nl - start) : avail;
			if (n && start[n - 1] == '\r')
				n--;
			if (n > INSTREAM_MAX_LINE)
				return fail(s, "line longer than %d bytes", INSTREAM_MAX_LINE) - 1;
			s->pos += nl ? (size_t)(nl - start) + 1 : avail;
			*line = (const char *)start;
			*len = n;
			return 1;
		}
		if (instream_fill(s, avail + 1, &data) < 0)
			return -1;
	}
}

uint64_t instream_lineno(const struct instream *s)
{
	return s->lineno;
}

const char *instream_name(const struct instream *s)
{
	return s->name;
}

const char *instream_compression(const struct instream *s)
{
	return codec_names[s->codec];
}

const char *instream_error(const struct instream *s)
{
	return s->err;
}

static enum codec sniff(const uint8_t *p, size_t n)
{
	static const uint8_t gz[] = { 0x1f, 0x8b }, xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 },
			     zst[] = { 0x28, 0xb5, 0x2f, 0xfd };

	if (n >= sizeof(gz) && memcmp(p, gz, sizeof(gz)) == 0)
		return CODEC_GZIP;
	if (n >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0)
		return CODEC_XZ;
	if (n >= sizeof(zst) && memcmp(p, zst, sizeof(zst)) == 0)
		return CODEC_ZSTD;
	return CODEC_PLAIN;
}

static int start_codec(struct instream *s)
{
	switch (s->codec) {
	case CODEC_GZIP:
		/* 15 + 16: a 32 KiB window, gzip framing only. */
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			return fail(s, "cannot start the gzip decoder");
		break;
	case CODEC_XZ:
		s->x = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&s->x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
			return fail(s, "cannot start the xz decoder");
		break;
	case CODEC_ZSTD:
		s->zd = ZSTD_createDStream();
		if (!s->zd || ZSTD_isError(ZSTD_initDStream(s->zd)))
			return fail(s, "cannot start the zstd decoder");
		break;
	default:
		/* Plain: what was read to look for a magic is the first data. */
		memcpy(s->buf, s->raw, s->rend);
		s->end = s->rend;
		s->rpos = s->rend;
		free(s->raw);
		s->raw = NULL;
		return 0;
	}
	s->codec_ready = true;
	return 0;
}

struct instream *instream_open(const char *path, char *err, size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	struct instream *s = calloc(1, sizeof(*s));
	struct stat st;

	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	s->fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	s->name = strdup(is_stdin ? "<stdin>" : path);
	s->buf = malloc(BUF_CAP);
	s->raw = malloc(RAW_CAP);
	if (!s->name || !s->buf || !s->raw) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		goto fail;
	}
	/* Enough bytes to recognise a compressed stream (a pipe may give fewer). */
	while (s->rend < MAGIC_MAX && !s->raw_eof) {
		ptrdiff_t n = read_fd(s, s->raw + s->rend, RAW_CAP - s->rend);

		if (n < 0)
			break;
		s->rend += (size_t)n;
		s->raw_eof = n == 0;
	}
	if (!s->failed) {
		s->codec = sniff(s->raw, s->rend);
		start_codec(s);
	}
	if (s->failed) {
		snprintf(err, errlen, "%s: %s", s->name, s->err);
		goto fail;
	}
	return s;
fail:
	instream_close(s);
	return NULL;
}

void instream_close(struct instream *s)
{
	if (!s)
		return;
	if (s->codec_ready) {
		if (s->codec == CODEC_GZIP)
			inflateEnd(&s->z);
		else if (s->codec == CODEC_XZ)
			lzma_end(&s->x);
	}
	ZSTD_freeDStream(s->zd);
	if (s->fd > STDIN_FILENO)
		close(s->fd);
	free(s->name);
	free(s->buf);
	free(s->raw);
	free(s);
}
