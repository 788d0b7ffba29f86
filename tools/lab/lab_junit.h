/* SPDX-License-Identifier: MIT */
/*
 * JUnit XML, the report format CI systems read (Jenkins, GitLab, GitHub
 * actions' test reporters): <testsuites> holding one <testsuite> per
 * scenario file, one <testcase> per scenario, with <failure> or <skipped>.
 * Written here because Debian's CUnit cannot (its JUnit mode is broken).
 * Text is escaped for XML 1.0: markup characters become entities, control
 * characters XML cannot carry and invalid UTF-8 become '?'.
 */
#ifndef PFLAB_LAB_JUNIT_H
#define PFLAB_LAB_JUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum lab_outcome { LAB_PASS, LAB_FAIL, LAB_SKIP };

struct lab_junit_case {
	const char *suite;    /* groups cases into <testsuite>s, in order of first appearance */
	const char *name;
	const char *file;     /* the scenario file, as an attribute */
	double seconds;
	enum lab_outcome outcome;
	const char *message;  /* failure or skip: one line */
	const char *detail;   /* failure: the diff (may be NULL) */
};

/* Write the report to path (complete or not at all: outfile.h). 0, or -1
 * with "path: reason" in err. */
int lab_junit_write(const char *path, const char *name, const struct lab_junit_case *cases,
		    size_t n, char *err, size_t errlen);

/* XML-escaped text: an attribute's value, or element content. */
void lab_xml_text(FILE *out, const char *s, bool attribute);

#endif /* PFLAB_LAB_JUNIT_H */
