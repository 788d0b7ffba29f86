/* SPDX-License-Identifier: MIT */
/*
 * A progress line on standard error, redrawn in place, drawn only when
 * standard error is a terminal (a pipe or a file gets nothing): a bar when
 * the total is known (compare's cells), a running count otherwise (the
 * references sim has read). The caller calls lab_progress_draw() where it
 * already stops (a finished cell, a chunk read), never per reference.
 */
#ifndef PFLAB_LAB_PROGRESS_H
#define PFLAB_LAB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lab_progress {
	const char *cmd;   /* "compare", "sim", ... */
	const char *unit;  /* "cells", "refs" */
	uint64_t done, total; /* total 0: unknown, no bar */
	uint64_t failed;
	bool tty;          /* set by lab_progress_init() */
};

void lab_progress_init(struct lab_progress *p, const char *cmd, const char *unit, uint64_t total);
/* Redraw; last ends the line. Nothing unless standard error is a terminal. */
void lab_progress_draw(const struct lab_progress *p, bool last);

#endif /* PFLAB_LAB_PROGRESS_H */
