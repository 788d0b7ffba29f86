/* SPDX-License-Identifier: MIT */
/*
 * An output file that is complete or absent: written to a temporary file
 * beside the target (same directory, created with O_EXCL) and renamed over
 * the target only once everything is written and closed. A failure removes
 * the temporary file and nothing else: the target, whatever it was, is left
 * as it was.
 *
 * The target must be absent or a regular file: a device, a directory, a
 * FIFO or a symbolic link is refused (rename would replace the link, not
 * write through it, and replacing a device node is never what a user
 * meant). "-" is standard output, written in place.
 */
#ifndef PFLAB_OUTFILE_H
#define PFLAB_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct outfile {
	char *path;  /* the target */
	char *tmp;   /* the temporary file beside it; NULL for standard output */
	int fd;      /* -1 once handed to a FILE or closed */
};

/*
 * Whether path can be written: "-", or a path whose directory exists and
 * that names no file or a regular file. 0, or -1 with "path: reason".
 * Commands call it up front, before any work, so that a bad output path
 * fails at once.
 */
int outfile_check(const char *path, char *err, size_t errlen);

/* Create the temporary file for path. 0, or -1 with "path: reason". */
int outfile_open(struct outfile *f, const char *path, char *err, size_t errlen);
/* The same, as a stdio stream (owned by f until outfile_fclose). */
FILE *outfile_fopen(struct outfile *f, const char *path, char *err, size_t errlen);

/*
 * Close the descriptor (if still open) and rename the temporary file over
 * the target. 0, or -1 with "path: reason" (then the temporary file is
 * removed and the target untouched).
 */
int outfile_commit(struct outfile *f, char *err, size_t errlen);
/* Flush and close fp (from outfile_fopen), then commit; any write error
 * seen on the way aborts instead. */
int outfile_fclose(struct outfile *f, FILE *fp, char *err, size_t errlen);
/* Remove the temporary file; the target stays as it was. */
void outfile_abort(struct outfile *f);

/*
 * Remove the temporary file of every output being written (at most the
 * first 8 open at once), leaving every target as it was. Async-signal-safe:
 * for a handler of SIGINT, SIGTERM or SIGHUP, which then dies of the
 * signal, so that an interrupted command leaves nothing behind.
 */
void outfile_remove_all(void);

#endif /* PFLAB_OUTFILE_H */
