// SPDX-License-Identifier: MIT
/* JUnit XML reports: see lab_junit.h. */
#include "lab_junit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond Unicode are not characters */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

void lab_xml_text(FILE *out, const char *text, bool attribute)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		size_t n;

		switch (*s) {
		case '&': fputs("&amp;", out); s++; continue;
		case '<': fputs("&lt;", out); s++; continue;
		case '>': fputs("&gt;", out); s++; continue;
		case '"': fputs("&quot;", out); s++; continue;
		case '\'': fputs("&apos;", out); s++; continue;
		case '\n': case '\t': case '\r':
			/* an attribute's value normalises them to spaces unless escaped */
			if (attribute)
				fprintf(out, "&#%d;", *s);
			else
				fputc(*s, out);
			s++;
			continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fputc('?', out);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			fputc('?', out);
			s++;
			continue;
		}
		fwrite(s, 1, n, out);
		s += n;
	}
}

struct totals {
	size_t tests, failures, skipped;
	double seconds;
};

static struct totals count(const struct lab_junit_case *c, size_t n, const char *suite)
{
	struct totals t = { 0 };

	for (size_t i = 0; i < n; i++) {
		if (suite && strcmp(c[i].suite, suite))
			continue;
		t.tests++;
		t.failures += c[i].outcome == LAB_FAIL;
		t.skipped += c[i].outcome == LAB_SKIP;
		t.seconds += c[i].seconds;
	}
	return t;
}

static void write_case(FILE *f, const struct lab_junit_case *c)
{
	fputs("    <testcase classname=\"", f);
	lab_xml_text(f, c->suite, true);
	fputs("\" name=\"", f);
	lab_xml_text(f, c->name, true);
	fputs("\" file=\"", f);
	lab_xml_text(f, c->file ? c->file : "", true);
	fprintf(f, "\" time=\"%.3f\"", c->seconds);
	if (c->outcome == LAB_PASS) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n", f);
	if (c->outcome == LAB_SKIP) {
		fputs("      <skipped message=\"", f);
		lab_xml_text(f, c->message ? c->message : "", true);
		fputs("\"/>\n", f);
	} else {
		fputs("      <failure type=\"regression\" message=\"", f);
		lab_xml_text(f, c->message ? c->message : "", true);
		fputs("\">", f);
		lab_xml_text(f, c->detail ? c->detail : "", false);
		fputs("</failure>\n", f);
	}
	fputs("    </testcase>\n", f);
}

int lab_junit_write(const char *path, const char *name, const struct lab_junit_case *cases,
		    size_t n, char *err, size_t errlen)
{
	struct totals all = count(cases, n, NULL);
	char stamp[32] = "", host[256] = "localhost";
	time_t now = time(NULL);
	struct tm tm;
	struct outfile of;
	FILE *f = outfile_fopen(&of, path, err, errlen);

	if (!f)
		return -1;
	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f);
	lab_xml_text(f, name, true);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
		all.tests, all.failures, all.skipped, all.seconds);
	for (size_t i = 0; i < n; i++) {
		struct totals t;
		bool first = true;

		/* A suite is written where its first case appears. */
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(cases[j].suite, cases[i].suite) != 0;
		if (!first)
			continue;
		t = count(cases, n, cases[i].suite);
		fputs("  <testsuite name=\"", f);
		lab_xml_text(f, cases[i].suite, true);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
			"time=\"%.3f\" timestamp=\"%s\" hostname=\"", t.tests, t.failures, t.skipped,
			t.seconds, stamp);
		lab_xml_text(f, host, true);
		fputs("\">\n", f);
		for (size_t j = i; j < n; j++)
			if (!strcmp(cases[j].suite, cases[i].suite))
				write_case(f, &cases[j]);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	return outfile_fclose(&of, f, err, errlen);
}
