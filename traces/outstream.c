// SPDX-License-Identifier: MIT
/* Buffered, optionally zstd-compressed output: see outstream.h. */
#include "outstream.h"

#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define BUF_CAP (1024 * 1024)
/* zstd's default level: fast, and pft records compress well anyway. */
#define ZSTD_LEVEL 3

struct outstream {
	int fd;
	char *path;
	struct outfile file; /* the temporary file renamed over path on close */
	bool regular;
	off_t start;         /* the file offset the stream began at */
	uint8_t *buf;
	size_t len;
	ZSTD_CCtx *zc;
	uint8_t *zbuf;
	size_t zcap;
	int error;           /* errno of the first failure, or -1 for zstd */
	char zerr[128];
};

static void write_all(struct outstream *o, const uint8_t *p, size_t n)
{
	while (n && !o->error) {
		ssize_t w = write(o->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->error = w < 0 ? errno : EIO;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Compress (or copy) the buffer out; end the zstd frame when finishing. */
static void drain(struct outstream *o, bool finish)
{
	ZSTD_inBuffer in = { o->buf, o->len, 0 };

	if (!o->zc) {
		write_all(o, o->buf, o->len);
		o->len = 0;
		return;
	}
	for (;;) {
		ZSTD_outBuffer out = { o->zbuf, o->zcap, 0 };
		size_t left = ZSTD_compressStream2(o->zc, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);

		if (ZSTD_isError(left)) {
			snprintf(o->zerr, sizeof(o->zerr), "zstd: %s", ZSTD_getErrorName(left));
			o->error = -1;
			break;
		}
		write_all(o, o->zbuf, out.pos);
		if (o->error || (finish ? left == 0 : in.pos == in.size))
			break;
	}
	o->len = 0;
}

struct outstream *outstream_open(const char *path, bool zstd, char *err, size_t errlen)
{
	bool is_stdout = strcmp(path, "-") == 0;
	struct outstream *o = calloc(1, sizeof(*o));
	struct stat st;

	if (!o || !(o->buf = malloc(BUF_CAP)) || !(o->path = strdup(is_stdout ? "<stdout>" : path)))
		goto oom;
	if (outfile_open(&o->file, path, err, errlen) != 0) {
		free(o->path);
		free(o->buf);
		free(o);
		return NULL;
	}
	o->fd = o->file.fd;
	o->regular = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	o->start = lseek(o->fd, 0, SEEK_CUR);
	if (o->start < 0)
		o->regular = false;
	if (zstd) {
		o->zc = ZSTD_createCCtx();
		o->zcap = ZSTD_CStreamOutSize();
		o->zbuf = malloc(o->zcap);
		if (!o->zc || !o->zbuf ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(o->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(o->zc, ZSTD_c_checksumFlag, 1))) {
			outstream_abort(o);
			o = NULL;
			goto oom;
		}
	}
	return o;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	if (o) {
		free(o->path);
		free(o->buf);
		free(o);
	}
	return NULL;
}

void outstream_write(struct outstream *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		size_t k = BUF_CAP - o->len < n ? BUF_CAP - o->len : n;

		memcpy(o->buf + o->len, b, k);
		o->len += k;
		b += k;
		n -= k;
		if (o->len == BUF_CAP)
			drain(o, false);
	}
}

uint8_t *outstream_reserve(struct outstream *o, size_t n)
{
	if (BUF_CAP - o->len < n)
		drain(o, false);
	return o->buf + o->len;
}

void outstream_commit(struct outstream *o, size_t used)
{
	o->len += used;
}

bool outstream_rewritable(const struct outstream *o)
{
	return o->regular && !o->zc;
}

void outstream_rewrite(struct outstream *o, uint64_t offset, const void *p, size_t n)
{
	drain(o, false);
	if (!o->error && pwrite(o->fd, p, n, o->start + (off_t)offset) != (ssize_t)n)
		o->error = errno ? errno : EIO;
}

static void release(struct outstream *o)
{
	ZSTD_freeCCtx(o->zc);
	free(o->zbuf);
	free(o->buf);
	free(o->path);
	free(o);
}

int outstream_close(struct outstream *o, char *err, size_t errlen)
{
	int rc = 0;

	drain(o, true);
	if (o->error) {
		snprintf(err, errlen, "%s: %s", o->path,
			 o->error > 0 ? strerror(o->error) : o->zerr);
		outfile_abort(&o->file);
		rc = -1;
	} else {
		rc = outfile_commit(&o->file, err, errlen);
	}
	release(o);
	return rc;
}

void outstream_abort(struct outstream *o)
{
	if (!o)
		return;
	outfile_abort(&o->file);
	release(o);
}
