/* SPDX-License-Identifier: MIT */
/*
 * One scenario's outcome as pflab regress and pflab fleet report it: a line
 * on the terminal and a JUnit case (lab_junit.h), counted in a tally.
 */
#ifndef PFLAB_LAB_OUTCOME_H
#define PFLAB_LAB_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lab_junit.h"

struct scenario;

struct lab_tally {
	size_t pass, fail, skip;
};

/*
 * c holds the outcome, message, detail and seconds; its suite, name and file
 * are set here from s (c then points into s). Prints on out, and flushes:
 *   PASS  GROUP/NAME[: MESSAGE][ (SECONDS s)]   (the seconds when timed)
 *   SKIP  GROUP/NAME: MESSAGE
 *   FAIL  GROUP/NAME (FILE:LINE): MESSAGE       then the detail as it is
 * and counts the outcome in *t.
 */
void lab_outcome_report(FILE *out, const struct scenario *s, struct lab_junit_case *c, bool timed,
			struct lab_tally *t);

#endif /* PFLAB_LAB_OUTCOME_H */
