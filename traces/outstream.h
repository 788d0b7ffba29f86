/* SPDX-License-Identifier: MIT */
/*
 * A buffered output file (or standard output, "-"), zstd-compressed on
 * request. Errors are sticky: after one, writes do nothing and close
 * reports it, so a writer checks once at the end.
 */
#ifndef PFLAB_OUTSTREAM_H
#define PFLAB_OUTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most outstream_reserve() can be asked for at once. */
#define OUTSTREAM_MAX_RESERVE (64 * 1024)

struct outstream;

/* Create or truncate path. NULL with "path: reason" in err. */
struct outstream *outstream_open(const char *path, bool zstd, char *err, size_t errlen);

void outstream_write(struct outstream *o, const void *p, size_t n);
/*
 * Room for n bytes (<= OUTSTREAM_MAX_RESERVE) in the buffer, to be filled
 * and then committed with outstream_commit(o, used).
 */
uint8_t *outstream_reserve(struct outstream *o, size_t n);
void outstream_commit(struct outstream *o, size_t used);

/*
 * Whether bytes already written can be rewritten in place: a regular file,
 * not compressed. outstream_rewrite() flushes, then writes n bytes at
 * offset bytes from where the stream began.
 */
bool outstream_rewritable(const struct outstream *o);
void outstream_rewrite(struct outstream *o, uint64_t offset, const void *p, size_t n);

/* Flush, end the compressed frame, close. 0, or -1 with "path: reason" in err. */
int outstream_close(struct outstream *o, char *err, size_t errlen);
/* Close and remove the file (a half-written output is worse than none). */
void outstream_abort(struct outstream *o);

#endif /* PFLAB_OUTSTREAM_H */
