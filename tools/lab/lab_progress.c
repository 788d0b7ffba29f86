// SPDX-License-Identifier: MIT
/* The progress line of long commands: see lab_progress.h. */
#include "lab_progress.h"

#include <stdio.h>
#include <unistd.h>

void lab_progress_init(struct lab_progress *p, const char *cmd, const char *unit, uint64_t total)
{
	*p = (struct lab_progress){ .cmd = cmd, .unit = unit, .total = total,
				    .tty = isatty(STDERR_FILENO) };
}

void lab_progress_draw(const struct lab_progress *p, bool last)
{
	enum { WIDTH = 30 };
	char bar[WIDTH + 1];

	if (!p->tty)
		return;
	if (p->total) {
		uint64_t filled = p->done * WIDTH / p->total;

		for (size_t k = 0; k < WIDTH; k++)
			bar[k] = k < filled ? '#' : '-';
		bar[WIDTH] = '\0';
		fprintf(stderr, "\r%s [%s] %llu/%llu %s", p->cmd, bar, (unsigned long long)p->done,
			(unsigned long long)p->total, p->unit);
	} else {
		fprintf(stderr, "\r%s %llu %s", p->cmd, (unsigned long long)p->done, p->unit);
	}
	if (p->failed)
		fprintf(stderr, ", %llu failed", (unsigned long long)p->failed);
	fputs(last ? "\n" : "", stderr);
	fflush(stderr);
}
