// SPDX-License-Identifier: MIT
/* Unified diffs of line lists: see lab_diff.h. */
#include "lab_diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Above this many table cells the middle is shown as removed then added:
 * still a true diff, only not the shortest. */
#define LCS_MAX_CELLS (4u << 20)

bool lab_line_equal(const char *expected, const char *actual)
{
	return strcmp(expected, actual) == 0;
}

bool lab_line_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	/* Greedy with backtracking to the last star: linear enough for lines. */
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

enum op { OP_SAME, OP_DEL, OP_ADD };

struct edit {
	enum op op;
	size_t e, a; /* indices into expected / actual (the one the op reads) */
};

/* The edit script from expected to actual; *n ops, malloc'ed. NULL on ENOMEM. */
static struct edit *script(const char *const *x, size_t nx, const char *const *y, size_t ny,
			   lab_line_eq *eq, size_t *n)
{
	struct edit *ops = malloc(sizeof(*ops) * (nx + ny + 1));
	size_t pre = 0, suf = 0, k = 0, mx, my;
	uint32_t *len = NULL;

	if (!ops)
		return NULL;
	while (pre < nx && pre < ny && eq(x[pre], y[pre]))
		pre++;
	while (suf < nx - pre && suf < ny - pre && eq(x[nx - 1 - suf], y[ny - 1 - suf]))
		suf++;
	mx = nx - pre - suf;
	my = ny - pre - suf;
	for (size_t i = 0; i < pre; i++)
		ops[k++] = (struct edit){ OP_SAME, i, i };
	if (mx && my && (mx + 1) * (my + 1) <= LCS_MAX_CELLS)
		len = calloc((mx + 1) * (my + 1), sizeof(*len));
	if (len) {
		/* len[i][j]: the LCS of x[pre+i..] and y[pre+j..] */
#define LEN(i, j) len[(i) * (my + 1) + (j)]
		for (size_t i = mx; i-- > 0;)
			for (size_t j = my; j-- > 0;)
				LEN(i, j) = eq(x[pre + i], y[pre + j]) ? LEN(i + 1, j + 1) + 1
					    : LEN(i + 1, j) >= LEN(i, j + 1) ? LEN(i + 1, j) : LEN(i, j + 1);
		for (size_t i = 0, j = 0; i < mx || j < my;) {
			if (i < mx && j < my && eq(x[pre + i], y[pre + j])) {
				ops[k++] = (struct edit){ OP_SAME, pre + i++, pre + j++ };
			} else if (i < mx && (j == my || LEN(i + 1, j) >= LEN(i, j + 1))) {
				ops[k++] = (struct edit){ OP_DEL, pre + i++, pre + j };
			} else {
				ops[k++] = (struct edit){ OP_ADD, pre + i, pre + j++ };
			}
		}
#undef LEN
		free(len);
	} else {
		for (size_t i = 0; i < mx; i++)
			ops[k++] = (struct edit){ OP_DEL, pre + i, pre };
		for (size_t j = 0; j < my; j++)
			ops[k++] = (struct edit){ OP_ADD, pre + mx, pre + j };
	}
	for (size_t i = 0; i < suf; i++)
		ops[k++] = (struct edit){ OP_SAME, nx - suf + i, ny - suf + i };
	*n = k;
	return ops;
}

/* diff -u's numbering: the first line of a range, or the line before an empty one. */
static size_t range_start(size_t first, size_t count)
{
	return count ? first + 1 : first;
}

size_t lab_diff(FILE *out, const char *indent, const char *const *expected, size_t ne,
		const char *const *actual, size_t na, lab_line_eq *eq, unsigned context)
{
	size_t nops, changes = 0;
	struct edit *ops = script(expected, ne, actual, na, eq, &nops);

	if (!ops) {
		fprintf(out, "%s(out of memory for the diff)\n", indent);
		return 1;
	}
	for (size_t i = 0; i < nops;) {
		size_t start, end, last_change, ecount = 0, acount = 0;

		if (ops[i].op == OP_SAME) {
			i++;
			continue;
		}
		/* A hunk: back `context` lines, then on while changes come within 2*context. */
		start = i > context ? i - context : 0;
		last_change = i;
		for (end = i; end < nops; end++) {
			if (ops[end].op != OP_SAME)
				last_change = end;
			else if (end - last_change > 2 * (size_t)context)
				break;
		}
		end = last_change + 1 + context < nops ? last_change + 1 + context : nops;
		for (size_t k = start; k < end; k++) {
			ecount += ops[k].op != OP_ADD;
			acount += ops[k].op != OP_DEL;
		}
		fprintf(out, "%s@@ -%zu,%zu +%zu,%zu @@\n", indent, range_start(ops[start].e, ecount),
			ecount, range_start(ops[start].a, acount), acount);
		for (size_t k = start; k < end; k++) {
			switch (ops[k].op) {
			case OP_SAME:
				fprintf(out, "%s %s\n", indent, actual[ops[k].a]);
				break;
			case OP_DEL:
				fprintf(out, "%s-%s\n", indent, expected[ops[k].e]);
				changes++;
				break;
			case OP_ADD:
				fprintf(out, "%s+%s\n", indent, actual[ops[k].a]);
				changes++;
				break;
			}
		}
		i = end;
	}
	free(ops);
	return changes;
}
