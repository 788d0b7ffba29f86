/* SPDX-License-Identifier: MIT */
/*
 * A unified diff of two lists of lines, for pflab regress to show what a
 * failed scenario expected against what it got: the hunks of `diff -u`
 * (@@ -a,b +c,d @@, context lines, - expected, + actual), computed with a
 * longest common subsequence on the lines that differ.
 */
#ifndef PFLAB_LAB_DIFF_H
#define PFLAB_LAB_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Whether an expected line matches an actual one. */
typedef bool lab_line_eq(const char *expected, const char *actual);

/* Equal strings. */
bool lab_line_equal(const char *expected, const char *actual);
/* The expected line as a pattern: `*` matches any text, all else itself. */
bool lab_line_glob(const char *expected, const char *actual);

/*
 * Write the hunks (without the ---/+++ header) turning expected into
 * actual to out, each line prefixed by indent; context lines of context
 * around each change. Returns the number of lines removed plus added:
 * 0 when the lists match.
 */
size_t lab_diff(FILE *out, const char *indent, const char *const *expected, size_t ne,
		const char *const *actual, size_t na, lab_line_eq *eq, unsigned context);

#endif /* PFLAB_LAB_DIFF_H */
