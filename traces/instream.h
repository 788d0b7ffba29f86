/* SPDX-License-Identifier: MIT */
/*
 * A byte stream over a file or standard input that decompresses gzip, xz
 * and zstd on the fly, recognised by their magic bytes (never by the file
 * name), with a line reader on top. Reads are large and buffered; the
 * caller looks at the bytes in place (instream_fill) and says how many it
 * used (instream_consume), so binary records are decoded without a copy.
 */
#ifndef PFLAB_INSTREAM_H
#define PFLAB_INSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest text line, end of line excluded; a longer one is an error. */
#define INSTREAM_MAX_LINE 4096
/* The most instream_fill() can be asked for at once. */
#define INSTREAM_MAX_FILL (64 * 1024)

struct instream;

/* "-" is standard input. NULL with "path: reason" in err. */
struct instream *instream_open(const char *path, char *err, size_t errlen);
void instream_close(struct instream *s);

/* The name for messages: the path, or "<stdin>". */
const char *instream_name(const struct instream *s);
/* "gzip", "xz", "zstd", or NULL for plain input. */
const char *instream_compression(const struct instream *s);

/*
 * Make at least want (<= INSTREAM_MAX_FILL) bytes available at *data, fewer
 * only at the end of the stream. Returns the number available (0 at the
 * end), or -1 on an error (instream_error()).
 */
ptrdiff_t instream_fill(struct instream *s, size_t want, const uint8_t **data);
void instream_consume(struct instream *s, size_t n);

/*
 * The next line, without its "\n" or "\r\n", valid until the next call.
 * Returns 1, 0 at the end, -1 on an I/O or decompression error, or -2
 * for a line longer than INSTREAM_MAX_LINE (instream_error() says which).
 * A last line without a newline is a line. instream_lineno() is the number
 * of the line returned (or of the line too long).
 */
int instream_getline(struct instream *s, const char **line, size_t *len);
uint64_t instream_lineno(const struct instream *s);

/* The reason of the last error, without the name: "truncated xz stream". */
const char *instream_error(const struct instream *s);

#endif /* PFLAB_INSTREAM_H */
