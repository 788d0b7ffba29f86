// SPDX-License-Identifier: MIT
/* A scenario's outcome, printed and counted: see lab_outcome.h. */
#include "lab_outcome.h"

#include "lab_scenario.h"

void lab_outcome_report(FILE *out, const struct scenario *s, struct lab_junit_case *c, bool timed,
			struct lab_tally *t)
{
	c->suite = s->group;
	c->name = s->name;
	c->file = s->file;
	switch (c->outcome) {
	case LAB_PASS:
		t->pass++;
		fprintf(out, "PASS  %s/%s%s%s", s->group, s->name, *c->message ? ": " : "",
			c->message);
		if (timed)
			fprintf(out, " (%.2f s)", c->seconds);
		fputc('\n', out);
		break;
	case LAB_SKIP:
		t->skip++;
		fprintf(out, "SKIP  %s/%s: %s\n", s->group, s->name, c->message);
		break;
	case LAB_FAIL:
		t->fail++;
		fprintf(out, "FAIL  %s/%s (%s:%u): %s\n", s->group, s->name, s->file, s->line,
			c->message);
		if (c->detail)
			fputs(c->detail, out);
		break;
	}
	fflush(out);
}
